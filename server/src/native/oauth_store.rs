//! The file-backed OAuth store shared by the web backend and the CLI.
//!
//! The document ([`StoreDocument`]) is one JSON file holding tokens and client secrets, so:
//! * it is created with mode 0600 inside a directory created with mode 0700;
//! * every write goes to a temporary file in the same directory, is flushed to disk, and then
//!   renamed over the old file, so a reader sees either the old or the new document, never half;
//! * writers hold an exclusive advisory lock on a sibling `.lock` file for the whole
//!   read-modify-write, so the web backend and a CLI run cannot lose each other's changes. Each
//!   write bumps [`StoreDocument::revision`]; [`FileStore::replace`] is a compare-and-swap on it
//!   for clients that edit a copy (the web app's `PUT /api/store/oauth`), and returns exactly the
//!   document it wrote (not a re-read, which could be another writer's);
//! * a process killed mid-write (kill -9, power loss) can leave its temporary file, which holds
//!   tokens, behind. Every writer, holding the lock, removes such leftovers first — no other write
//!   can be in progress then — and [`FileStore::tidy`] does the same when Keyhole starts;
//! * a store file that does not parse is not a reason to fail every request: it is moved aside to
//!   `<name>.damaged-<time>` (kept for the user, still 0600) with a warning saying where, and
//!   Keyhole goes on with an empty store. A file written by a newer Keyhole is refused, not moved.
//!
//! * with a vault ([`super::secret_vault`], the OS keychain by default when there is one), the
//!   file holds no secret: each is written to the vault and replaced by a reference before the
//!   document is written, and put back when it is read. A file written without a vault is
//!   migrated when Keyhole starts ([`FileStore::tidy`]): its secrets move to the vault and the
//!   file is rewritten without them. A reference the vault cannot resolve (the keychain was
//!   reset, or `--secrets file` after `keyring`) drops what held it, with a warning: the user
//!   signs in again.
//!
//! The location is `$KEYHOLE_STORE` when set, else `oauth-store.json` in Keyhole's directory
//! under the user's configuration directory.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use std::collections::HashSet;
use std::sync::Arc;

use keyhole_shared::secret::Secret;
use keyhole_shared::store::{OAuthStore, StoreDocument, StoreError};

use super::secret_vault::{SecretRefs, SecretVault, SecretsMode, reference_of};

/// Overrides the store's location.
pub const STORE_ENV: &str = "KEYHOLE_STORE";
const FILE_NAME: &str = "oauth-store.json";

/// The OAuth store in a file, its secrets in a vault when there is one.
#[derive(Clone, Debug)]
pub struct FileStore {
    path: PathBuf,
    secrets: Option<Arc<SecretRefs>>,
}

fn is_reference(secret: &Secret) -> bool {
    reference_of(secret.expose()).is_some()
}

fn io_error(action: &str, path: &Path, error: &std::io::Error) -> StoreError {
    StoreError::Io(format!("{action} {}: {error}", path.display()))
}

impl FileStore {
    /// A store whose secrets stay in the file.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            secrets: None,
        }
    }

    /// The same store with its secrets in `vault` (`None`: in the file).
    pub fn with_vault(mut self, vault: Option<Arc<dyn SecretVault>>) -> Self {
        self.secrets = vault.map(|vault| Arc::new(SecretRefs::new(vault, "oauth-store")));
        self
    }

    /// `$KEYHOLE_STORE`, else the default location; secrets in the file.
    pub fn from_env() -> Result<Self, StoreError> {
        match std::env::var_os(STORE_ENV).filter(|v| !v.is_empty()) {
            Some(path) => Ok(Self::new(path)),
            None => Self::default_path().map(Self::new),
        }
    }

    /// [`FileStore::from_env`] with its secrets where `mode` says, and the sentence saying
    /// where that is (shown at start).
    pub fn open(mode: SecretsMode) -> Result<(Self, String), StoreError> {
        let store = Self::from_env()?;
        let (vault, place) = super::secret_vault::choose(mode).map_err(|e| {
            StoreError::Io(format!(
                "{e} (use --secrets file to keep them in the store file)"
            ))
        })?;
        Ok((
            store.with_vault(vault),
            format!("Secrets are kept {place}."),
        ))
    }

    /// The vault the secrets are kept in, if not the file.
    pub fn vault(&self) -> Option<Arc<dyn SecretVault>> {
        self.secrets.as_ref().map(|secrets| secrets.vault())
    }

    /// What keeps the secrets when it is not the file ("the OS keychain").
    pub fn vault_name(&self) -> Option<&'static str> {
        self.secrets.as_ref().map(|secrets| secrets.describe())
    }

    /// `<config dir>/keyhole/oauth-store.json`.
    pub fn default_path() -> Result<PathBuf, StoreError> {
        super::paths::keyhole_dir()
            .map(|dir| dir.join(FILE_NAME))
            .ok_or_else(|| {
                StoreError::Io(format!(
                    "no configuration directory is known; set {STORE_ENV}"
                ))
            })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock_path(&self) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        self.path.with_file_name(name)
    }

    fn ensure_dir(&self) -> Result<(), StoreError> {
        let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) else {
            return Ok(());
        };
        if dir.is_dir() {
            return Ok(());
        }
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(dir)
            .map_err(|e| io_error("cannot create", dir, &e))
    }

    /// Creates `path`, mode 0600, failing if anything (a file, a symlink) is already there.
    fn create_private(path: &Path) -> std::io::Result<File> {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(path)
    }

    /// Opens (creating, mode 0600) the lock file; its content is never used.
    fn open_lock_file(path: &Path) -> std::io::Result<File> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(path)
    }

    /// Reads the document (an absent file is an empty store). No lock is needed: writes are
    /// atomic renames. A damaged file is moved aside (under the lock) and reads as empty.
    pub fn read_document(&self) -> Result<StoreDocument, StoreError> {
        match self.read_file() {
            Err(StoreError::Corrupt(_)) => {
                let _lock = self.lock()?;
                let mut document = self.read_raw_or_set_aside()?;
                self.resolve(&mut document);
                Ok(document)
            }
            other => other,
        }
    }

    /// The document with its secrets in place.
    fn read_file(&self) -> Result<StoreDocument, StoreError> {
        let mut document = self.read_raw()?;
        self.resolve(&mut document);
        Ok(document)
    }

    /// The document as the file has it (references to the vault's secrets unresolved).
    fn read_raw(&self) -> Result<StoreDocument, StoreError> {
        match fs::read_to_string(&self.path) {
            Ok(text) => StoreDocument::from_json(&text),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(StoreDocument::default()),
            Err(e) => Err(io_error("cannot read", &self.path, &e)),
        }
    }

    /// Replaces every reference by the vault's secret; what cannot be resolved is dropped.
    fn resolve(&self, document: &mut StoreDocument) {
        let mut unreadable = None;
        if let Some(secrets) = &self.secrets {
            document.for_each_secret(|secret| match secrets.resolve(secret.expose()) {
                Ok(Some(value)) => *secret = Secret::new(value),
                Ok(None) => {}
                Err(error) => unreadable = Some(error),
            });
        }
        let dropped = document.drop_missing_secrets(is_reference);
        if dropped > 0 {
            let why = match (&self.secrets, unreadable) {
                (None, _) => "they are in the OS keychain, which is not in use (--secrets)".into(),
                (Some(_), Some(error)) => error.to_string(),
                (Some(secrets), None) => format!("{} no longer has them", secrets.describe()),
            };
            tracing::warn!(
                "{dropped} stored credential(s) of {} cannot be read back ({why}); sign in again for those servers",
                self.path.display()
            );
        }
    }

    /// Moves the document's secrets into the vault and leaves references in their place (no-op
    /// without a vault).
    fn externalize(&self, document: &mut StoreDocument) -> Result<(), StoreError> {
        let Some(secrets) = &self.secrets else {
            return Ok(());
        };
        let mut failure = None;
        document.for_each_secret(|secret| {
            if failure.is_some() {
                return;
            }
            match secrets.stash(secret.expose()) {
                Ok(reference) => *secret = Secret::new(reference),
                Err(error) => failure = Some(error),
            }
        });
        match failure {
            None => Ok(()),
            Some(error) => Err(StoreError::Io(format!(
                "{error}; nothing was written (unlock the keychain, or use --secrets file)"
            ))),
        }
    }

    /// The fingerprints a document (as written) refers to.
    fn references(document: &StoreDocument) -> HashSet<String> {
        let mut references = HashSet::new();
        document.clone().for_each_secret(|secret| {
            if let Some(fingerprint) = reference_of(secret.expose()) {
                references.insert(fingerprint.to_owned());
            }
        });
        references
    }

    /// At start: removes temporary files a killed writer left, sets a damaged file aside, and
    /// moves secrets written in the file into the vault (when there is one).
    pub fn tidy(&self) -> Result<(), StoreError> {
        let lock = self.lock()?;
        let mut inline = false;
        self.read_raw_or_set_aside()?
            .for_each_secret(|secret| inline |= !is_reference(secret));
        drop(lock);
        if self.secrets.is_none() || !inline {
            return Ok(());
        }
        self.update(|_| Ok(()))?;
        tracing::info!(
            "moved the secrets of {} into {}",
            self.path.display(),
            self.vault_name().unwrap_or_default()
        );
        Ok(())
    }

    /// Takes the writers' lock (released when the file is dropped) and removes leftovers of writers
    /// that died mid-write: while we hold the lock nobody else is writing.
    fn lock(&self) -> Result<File, StoreError> {
        self.ensure_dir()?;
        let lock_path = self.lock_path();
        let lock = Self::open_lock_file(&lock_path)
            .map_err(|e| io_error("cannot open", &lock_path, &e))?;
        lock.lock()
            .map_err(|e| io_error("cannot lock", &lock_path, &e))?;
        self.remove_stale_temp_files();
        Ok(lock)
    }

    fn remove_stale_temp_files(&self) {
        let (Some(dir), Some(name)) = (self.dir(), self.path.file_name()) else {
            return;
        };
        let prefix = format!("{}.", name.to_string_lossy());
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let file_name = file_name.to_string_lossy();
            if file_name.starts_with(&prefix) && file_name.ends_with(".tmp") {
                match fs::remove_file(entry.path()) {
                    Ok(()) => {
                        tracing::info!(file = %entry.path().display(), "removed a temporary OAuth store file left by an interrupted write")
                    }
                    Err(error) => {
                        tracing::warn!(file = %entry.path().display(), %error, "cannot remove a leftover temporary OAuth store file")
                    }
                }
            }
        }
    }

    fn dir(&self) -> Option<&Path> {
        match self.path.parent() {
            Some(dir) if dir.as_os_str().is_empty() => Some(Path::new(".")),
            other => other,
        }
    }

    /// Under the lock: the document as the file has it, or — if the file is damaged — an empty
    /// one after moving the file aside.
    fn read_raw_or_set_aside(&self) -> Result<StoreDocument, StoreError> {
        match self.read_raw() {
            Err(StoreError::Corrupt(why)) => {
                let aside = self.set_aside()?;
                tracing::warn!(
                    "the OAuth store {} is damaged ({why}); it was moved to {} and Keyhole continues \
                     with an empty store (sign in again; the old file is kept for you to inspect)",
                    self.path.display(),
                    aside.display()
                );
                Ok(StoreDocument::default())
            }
            other => other,
        }
    }

    /// Renames the store file to `<name>.damaged-<unix time>` (with a suffix if that exists).
    fn set_aside(&self) -> Result<PathBuf, StoreError> {
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let name = self.path.file_name().unwrap_or_default().to_string_lossy();
        let aside = (0..100)
            .map(|n| match n {
                0 => format!("{name}.damaged-{stamp}"),
                n => format!("{name}.damaged-{stamp}-{n}"),
            })
            .map(|candidate| self.path.with_file_name(candidate))
            .find(|candidate| !candidate.exists())
            .ok_or_else(|| StoreError::Corrupt("no free name to move it aside".into()))?;
        fs::rename(&self.path, &aside)
            .map_err(|e| io_error("cannot move aside", &self.path, &e))?;
        Ok(aside)
    }

    /// Runs `change` on the current document under the writers' lock and writes the result.
    pub fn update<R>(
        &self,
        change: impl FnOnce(&mut StoreDocument) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        self.update_returning(change).map(|(result, _)| result)
    }

    /// [`FileStore::update`], also returning the document exactly as written.
    fn update_returning<R>(
        &self,
        change: impl FnOnce(&mut StoreDocument) -> Result<R, StoreError>,
    ) -> Result<(R, StoreDocument), StoreError> {
        let lock = self.lock()?;
        let mut document = self.read_raw_or_set_aside()?;
        let before = Self::references(&document);
        self.resolve(&mut document);
        let result = change(&mut document)?;
        document.revision += 1;
        let mut written = document.clone();
        self.externalize(&mut written)?;
        self.write_atomically(&written)?;
        // Dropping `lock` closes the file and releases the lock.
        drop(lock);
        self.forget_unreferenced(before, &written);
        Ok((result, document))
    }

    /// Compare-and-swap: replaces the whole document if the stored revision is still
    /// `expected_revision`. Returns the document as written (with its new revision).
    pub fn replace(
        &self,
        document: StoreDocument,
        expected_revision: u64,
    ) -> Result<StoreDocument, StoreError> {
        let ((), written) = self.update_returning(|current| {
            if current.revision != expected_revision {
                return Err(StoreError::Conflict {
                    current: current.revision,
                });
            }
            let revision = current.revision;
            *current = document;
            current.revision = revision;
            Ok(())
        })?;
        Ok(written)
    }

    /// Deletes from the vault the secrets the last write dropped.
    fn forget_unreferenced(&self, before: HashSet<String>, written: &StoreDocument) {
        if let Some(secrets) = &self.secrets {
            secrets.forget(&before, &Self::references(written));
        }
    }

    fn write_atomically(&self, document: &StoreDocument) -> Result<(), StoreError> {
        // An unpredictable name, created exclusively: nobody can plant a file or a symlink there
        // for us to write tokens into.
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(format!(
            ".{}.{:016x}.tmp",
            std::process::id(),
            rand::random::<u64>()
        ));
        let temp = self.path.with_file_name(name);
        let written = (|| {
            let mut file = Self::create_private(&temp)?;
            file.write_all(document.to_json().as_bytes())?;
            file.sync_all()?;
            fs::rename(&temp, &self.path)?;
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                // Persist the rename itself; not possible on every platform, so best effort.
                let _ = File::open(dir).and_then(|d| d.sync_all());
            }
            Ok(())
        })();
        written.map_err(|e: std::io::Error| {
            let _ = fs::remove_file(&temp);
            io_error("cannot write", &self.path, &e)
        })
    }
}

impl OAuthStore for FileStore {
    async fn read(&self) -> Result<StoreDocument, StoreError> {
        self.read_document()
    }

    async fn modify<R>(
        &self,
        mut change: impl FnMut(&mut StoreDocument) -> R,
    ) -> Result<R, StoreError> {
        // The file is small and the lock is held for microseconds: plain blocking I/O is fine.
        self.update(|document| Ok(change(document)))
    }
}
