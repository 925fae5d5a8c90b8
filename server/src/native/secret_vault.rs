//! Where the OAuth store's secrets live: the OS keychain when there is one, else the store file.
//!
//! The store file ([`super::oauth_store`]) always holds the document; with a vault, every secret
//! in it (tokens, refresh tokens, client secrets, PKCE verifiers, ID tokens) is replaced by a
//! reference, `keyhole-secret:<fingerprint>`, and the value goes to the vault under that
//! fingerprint (the SHA-256 of the value). Named by content, an entry never changes: the
//! backend and a CLI run can cache what they read, and a secret no document refers to any more
//! is deleted after the write that dropped it.
//!
//! Backends (`--secrets` / `KEYHOLE_SECRETS`):
//! * `auto` (the default): the OS keychain when it answers, else the file — and Keyhole says which
//!   at start, and why;
//! * `keyring`: the OS keychain (Secret Service on Linux, Keychain on macOS, Credential Manager
//!   on Windows, through the `keyring` crate), or an error when there is none;
//! * `file`: secrets stay in the store file (mode 0600), as before vaults existed;
//! * `memory`: secrets are kept by this process only and are gone when it ends (a shared
//!   computer, a demo).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

/// Chooses the backend when `--secrets` is not given.
pub const SECRETS_ENV: &str = "KEYHOLE_SECRETS";
/// The keychain's service name for Keyhole's entries.
const SERVICE: &str = "keyhole";

/// Where secrets go, as the user chose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SecretsMode {
    /// The OS keychain when one answers, else the store file.
    #[default]
    Auto,
    /// The OS keychain; an error when there is none.
    Keyring,
    /// The store file (mode 0600).
    File,
    /// This process's memory: nothing is kept after it ends.
    Memory,
}

impl SecretsMode {
    /// `$KEYHOLE_SECRETS`, else `auto`; an unknown value is an error naming the choices.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var(SECRETS_ENV) {
            Ok(value) if !value.trim().is_empty() => {
                <Self as clap::ValueEnum>::from_str(value.trim(), true).map_err(|_| {
                    format!("{SECRETS_ENV}={value:?} is not one of auto, keyring, file, memory")
                })
            }
            _ => Ok(SecretsMode::Auto),
        }
    }
}

/// A failure of the vault, worded for the user (never holding a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultError(pub String);

impl fmt::Display for VaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A place secrets are kept by name.
pub trait SecretVault: Send + Sync + fmt::Debug {
    /// What it is, for messages ("the OS keychain").
    fn describe(&self) -> &'static str;
    fn get(&self, name: &str) -> Result<Option<String>, VaultError>;
    fn set(&self, name: &str, value: &str) -> Result<(), VaultError>;
    /// Removing what is not there is not an error.
    fn delete(&self, name: &str) -> Result<(), VaultError>;
}

/// The OS keychain through the `keyring` crate. Entries are kept once made: the crate's mock
/// store (tests) holds a value in the entry object itself.
pub struct KeyringVault {
    entries: Mutex<HashMap<String, Arc<keyring::Entry>>>,
}

impl fmt::Debug for KeyringVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyringVault")
    }
}

fn keyring_error(action: &str, error: keyring::Error) -> VaultError {
    // The crate's errors describe the platform's failure; none carries a secret's value.
    VaultError(format!("the OS keychain could not {action}: {error}"))
}

impl KeyringVault {
    fn new() -> Self {
        KeyringVault {
            entries: Mutex::default(),
        }
    }

    /// The keychain, if it answers (a read of an entry that need not exist).
    pub fn probe() -> Result<Self, VaultError> {
        let vault = Self::new();
        vault.get("probe").map(|_| vault)
    }

    fn entry(&self, name: &str) -> Result<Arc<keyring::Entry>, VaultError> {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(entry) = entries.get(name) {
            return Ok(Arc::clone(entry));
        }
        let entry = Arc::new(
            keyring::Entry::new(SERVICE, name).map_err(|e| keyring_error("name an entry", e))?,
        );
        entries.insert(name.to_owned(), Arc::clone(&entry));
        Ok(entry)
    }
}

impl SecretVault for KeyringVault {
    fn describe(&self) -> &'static str {
        "the OS keychain"
    }

    fn get(&self, name: &str) -> Result<Option<String>, VaultError> {
        match self.entry(name)?.get_password() {
            Ok(value) => Ok(Some(value)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(keyring_error("be read", error)),
        }
    }

    fn set(&self, name: &str, value: &str) -> Result<(), VaultError> {
        self.entry(name)?
            .set_password(value)
            .map_err(|e| keyring_error("store a secret", e))
    }

    fn delete(&self, name: &str) -> Result<(), VaultError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(error) => Err(keyring_error("delete a secret", error)),
        }
    }
}

/// Secrets kept in this process only.
#[derive(Debug, Default)]
pub struct MemoryVault {
    values: Mutex<HashMap<String, String>>,
}

impl MemoryVault {
    fn values(&self) -> MutexGuard<'_, HashMap<String, String>> {
        self.values
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// How many secrets it holds (tests).
    pub fn len(&self) -> usize {
        self.values().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl SecretVault for MemoryVault {
    fn describe(&self) -> &'static str {
        "this process's memory"
    }

    fn get(&self, name: &str) -> Result<Option<String>, VaultError> {
        Ok(self.values().get(name).cloned())
    }

    fn set(&self, name: &str, value: &str) -> Result<(), VaultError> {
        self.values().insert(name.to_owned(), value.to_owned());
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<(), VaultError> {
        self.values().remove(name);
        Ok(())
    }
}

/// The vault `mode` asks for (`None`: secrets stay in the file) and a sentence saying where
/// secrets are kept, for the start-up banner and `auth status`.
pub fn choose(mode: SecretsMode) -> Result<(Option<Arc<dyn SecretVault>>, String), VaultError> {
    match mode {
        SecretsMode::File => Ok((None, "in the store file (mode 0600), as asked".into())),
        SecretsMode::Memory => Ok((
            Some(Arc::new(MemoryVault::default())),
            "in this process's memory only, as asked: they are gone when it ends".into(),
        )),
        SecretsMode::Keyring => {
            let vault = KeyringVault::probe()?;
            Ok((Some(Arc::new(vault)), "in the OS keychain".into()))
        }
        SecretsMode::Auto => match KeyringVault::probe() {
            Ok(vault) => Ok((Some(Arc::new(vault)), "in the OS keychain".into())),
            Err(why) => Ok((
                None,
                format!(
                    "in the store file (mode 0600): no OS keychain answered ({why}); \
                     choose with --secrets or {SECRETS_ENV}"
                ),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_comes_from_the_environment_value() {
        assert_eq!(
            <SecretsMode as clap::ValueEnum>::from_str("FILE", true),
            Ok(SecretsMode::File)
        );
        assert!(<SecretsMode as clap::ValueEnum>::from_str("vault", true).is_err());
    }

    #[test]
    fn the_keyring_crates_mock_store_keeps_sets_and_deletes() {
        keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
        let vault = KeyringVault::probe().expect("the mock store answers");
        assert_eq!(vault.get("a").unwrap(), None);
        vault.set("a", "value-a").unwrap();
        assert_eq!(vault.get("a").unwrap().as_deref(), Some("value-a"));
        vault.delete("a").unwrap();
        assert_eq!(vault.get("a").unwrap(), None);
        vault.delete("a").expect("deleting what is gone is fine");
    }
}
