//! Where the OAuth store's secrets live: the OS keychain when there is one, else the store file.
//!
//! The store file ([`super::oauth_store`]) always holds the document; with a vault, every secret
//! in it (tokens, refresh tokens, client secrets, PKCE verifiers, ID tokens) is replaced by a
//! reference, `keyhole-secret:<fingerprint>`, and the value goes to the vault under that
//! fingerprint (the SHA-256 of the value; [`SecretRefs`]). Named by content, an entry never
//! changes: the backend and a CLI run can cache what they read, and a secret no document refers
//! to any more is deleted after the write that dropped it. The saved servers' file
//! ([`crate::saved_servers`]) keeps its client secrets, sensitive headers and stdio environment
//! values the same way.
//!
//! Backends (`--secrets` / `KEYHOLE_SECRETS`):
//! * `auto` (the default): the OS keychain when it answers, else the file — and Keyhole says which
//!   at start, and why;
//! * `keyring`: the OS keychain (Secret Service on Linux, Keychain on macOS, Credential Manager
//!   on Windows, through the `keyring` crate), or an error when there is none;
//! * `file`: secrets stay in the store file (mode 0600), as before vaults existed;
//! * `memory`: secrets are kept by this process only and are gone when it ends (a shared
//!   computer, a demo).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

/// Chooses the backend when `--secrets` is not given (read by clap for `keyhole web` and
/// `keyhole cli`).
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

/// How a secret kept in a vault is written in a file: this, then the value's fingerprint.
pub const REFERENCE_PREFIX: &str = "keyhole-secret:";

/// The fingerprint a text names, if it is a reference.
pub fn reference_of(text: &str) -> Option<&str> {
    text.strip_prefix(REFERENCE_PREFIX)
}

/// One file's secrets in a vault, by content: [`SecretRefs::stash`] stores a value and gives the
/// reference to write instead, [`SecretRefs::resolve`] gives the value back, and
/// [`SecretRefs::forget`] deletes what a file no longer refers to. Each file has its own
/// `namespace` in the vault, so one file dropping a secret never takes another file's copy.
/// Values are cached once read or stored: an entry named by its content never changes.
pub struct SecretRefs {
    vault: Arc<dyn SecretVault>,
    namespace: &'static str,
    known: Mutex<HashMap<String, String>>,
}

impl fmt::Debug for SecretRefs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretRefs({})", self.namespace)
    }
}

impl SecretRefs {
    pub fn new(vault: Arc<dyn SecretVault>, namespace: &'static str) -> Self {
        Self {
            vault,
            namespace,
            known: Mutex::default(),
        }
    }

    /// What keeps the secrets ("the OS keychain").
    pub fn describe(&self) -> &'static str {
        self.vault.describe()
    }

    /// The vault itself (for another file's [`SecretRefs`]).
    pub fn vault(&self) -> Arc<dyn SecretVault> {
        Arc::clone(&self.vault)
    }

    fn known(&self) -> MutexGuard<'_, HashMap<String, String>> {
        self.known
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn name(&self, fingerprint: &str) -> String {
        format!("{}/{fingerprint}", self.namespace)
    }

    /// Stores `value` (unless it is a reference already) and returns the reference to write.
    pub fn stash(&self, value: &str) -> Result<String, VaultError> {
        if reference_of(value).is_some() {
            return Ok(value.to_owned());
        }
        let fingerprint = keyhole_shared::secret::Secret::new(value).fingerprint();
        if !self.known().contains_key(&fingerprint) {
            self.vault.set(&self.name(&fingerprint), value)?;
            self.known().insert(fingerprint.clone(), value.to_owned());
        }
        Ok(format!("{REFERENCE_PREFIX}{fingerprint}"))
    }

    /// The value `text` refers to: `Ok(None)` when the vault does not have it (or has something
    /// else under its name); `text` itself when it is not a reference.
    pub fn resolve(&self, text: &str) -> Result<Option<String>, VaultError> {
        let Some(fingerprint) = reference_of(text) else {
            return Ok(Some(text.to_owned()));
        };
        if let Some(value) = self.known().get(fingerprint) {
            return Ok(Some(value.clone()));
        }
        let value = self.vault.get(&self.name(fingerprint))?.filter(|value| {
            keyhole_shared::secret::Secret::new(value.as_str()).fingerprint() == fingerprint
        });
        if let Some(value) = &value {
            self.known().insert(fingerprint.to_owned(), value.clone());
        }
        Ok(value)
    }

    /// Deletes the secrets referred to `before` a write and no longer `after` it.
    pub fn forget(&self, before: &HashSet<String>, after: &HashSet<String>) {
        for fingerprint in before.difference(after) {
            self.known().remove(fingerprint);
            if let Err(error) = self.vault.delete(&self.name(fingerprint)) {
                tracing::warn!(%error, "a secret Keyhole no longer uses is left in the keychain");
            }
        }
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
    fn the_mode_is_named_in_any_case() {
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
