//! The file-backed OAuth store shared by the web backend and the CLI.
//!
//! The document ([`StoreDocument`]) is one JSON file holding tokens and client secrets, so:
//! * it is created with mode 0600 inside a directory created with mode 0700;
//! * every write goes to a temporary file in the same directory, is flushed to disk, and then
//!   renamed over the old file, so a reader sees either the old or the new document, never half;
//! * writers hold an exclusive advisory lock on a sibling `.lock` file for the whole
//!   read-modify-write, so the web backend and a CLI run cannot lose each other's changes. Each
//!   write bumps [`StoreDocument::revision`]; [`FileStore::replace`] is a compare-and-swap on it
//!   for clients that edit a copy (the web app's `PUT /api/store/oauth`).
//!
//! The location is `$KEYHOLE_STORE` when set, else `oauth-store.json` in Keyhole's directory
//! under the user's configuration directory.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use keyhole_shared::store::{OAuthStore, StoreDocument, StoreError};

/// Overrides the store's location.
pub const STORE_ENV: &str = "KEYHOLE_STORE";
const FILE_NAME: &str = "oauth-store.json";

/// The OAuth store in a file.
#[derive(Clone, Debug)]
pub struct FileStore {
    path: PathBuf,
}

fn io_error(action: &str, path: &Path, error: &std::io::Error) -> StoreError {
    StoreError::Io(format!("{action} {}: {error}", path.display()))
}

/// The user's configuration directory, per platform conventions.
fn config_dir() -> Option<PathBuf> {
    let from_env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if cfg!(windows) {
        return from_env("APPDATA");
    }
    if cfg!(target_os = "macos") {
        return from_env("HOME").map(|home| home.join("Library/Application Support"));
    }
    from_env("XDG_CONFIG_HOME").or_else(|| from_env("HOME").map(|home| home.join(".config")))
}

impl FileStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// `$KEYHOLE_STORE`, else the default location.
    pub fn from_env() -> Result<Self, StoreError> {
        match std::env::var_os(STORE_ENV).filter(|v| !v.is_empty()) {
            Some(path) => Ok(Self::new(path)),
            None => Self::default_path().map(Self::new),
        }
    }

    /// `<config dir>/keyhole/oauth-store.json`.
    pub fn default_path() -> Result<PathBuf, StoreError> {
        config_dir()
            .map(|dir| dir.join("keyhole").join(FILE_NAME))
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
    /// atomic renames.
    pub fn read_document(&self) -> Result<StoreDocument, StoreError> {
        match fs::read_to_string(&self.path) {
            Ok(text) => StoreDocument::from_json(&text),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(StoreDocument::default()),
            Err(e) => Err(io_error("cannot read", &self.path, &e)),
        }
    }

    /// Runs `change` on the current document under the writers' lock and writes the result.
    pub fn update<R>(
        &self,
        change: impl FnOnce(&mut StoreDocument) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        self.ensure_dir()?;
        let lock_path = self.lock_path();
        let lock = Self::open_lock_file(&lock_path)
            .map_err(|e| io_error("cannot open", &lock_path, &e))?;
        lock.lock()
            .map_err(|e| io_error("cannot lock", &lock_path, &e))?;
        let mut document = self.read_document()?;
        let result = change(&mut document)?;
        document.revision += 1;
        self.write_atomically(&document)?;
        // Dropping `lock` closes the file and releases the lock.
        drop(lock);
        Ok(result)
    }

    /// Compare-and-swap: replaces the whole document if the stored revision is still
    /// `expected_revision`. Returns the document as written (with its new revision).
    pub fn replace(
        &self,
        document: StoreDocument,
        expected_revision: u64,
    ) -> Result<StoreDocument, StoreError> {
        self.update(|current| {
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
        self.read_document()
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
        change: impl FnOnce(&mut StoreDocument) -> R,
    ) -> Result<R, StoreError> {
        // The file is small and the lock is held for microseconds: plain blocking I/O is fine.
        self.update(|document| Ok(change(document)))
    }
}
