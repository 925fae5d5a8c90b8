//! The DPoP proof keys: one ES256 key per MCP server, created on first use and kept, so a token
//! bound to a key stays usable by the web app, the CLI and the TUI across restarts (see
//! `keyhole_shared::dpop` for why the backend, not the page, signs).
//!
//! Kept in `dpop-keys.json` beside the OAuth store file (mode 0600): with the store's vault (the
//! OS keychain), the file holds references and the keys live in the vault, like the store's own
//! secrets; without one, the file holds them. Not in the store document itself: the page reads
//! that document, and a private key must never reach the page.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use keyhole_shared::dpop::{DpopError, ProofKey, ProofRequest};
use keyhole_shared::recovery::Clock;
use keyhole_shared::secret::Secret;
use serde::{Deserialize, Serialize};

use super::native_http::{OsEntropy, SystemClock};
use super::oauth_store::FileStore;
use super::secret_vault::SecretRefs;

const FILE_NAME: &str = "dpop-keys.json";
const VERSION: u32 = 1;
/// The most keys kept: one per server a person uses is far fewer; a page asking for proofs for
/// ever new servers must not grow the file without end.
pub const MAX_KEYS: usize = 1000;

#[derive(Default, Serialize, Deserialize)]
struct KeyFile {
    version: u32,
    /// Key id (`dpop::key_id` of the server) → the key (or its vault reference).
    keys: BTreeMap<String, String>,
}

/// The proof keys of this machine (or of this process only, [`DpopKeys::in_memory`]).
pub struct DpopKeys {
    path: Option<PathBuf>,
    refs: Option<SecretRefs>,
    keys: Mutex<HashMap<String, Arc<ProofKey>>>,
}

impl std::fmt::Debug for DpopKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKeys")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl DpopKeys {
    /// The keys kept beside `store`, in its vault when it has one.
    pub fn beside(store: &FileStore) -> Self {
        let path = store.path().with_file_name(FILE_NAME);
        Self {
            path: Some(path),
            refs: store
                .vault()
                .map(|vault| SecretRefs::new(vault, "dpop-keys")),
            keys: Mutex::default(),
        }
    }

    /// Keys this process keeps to itself (tests, throw-away stores).
    pub fn in_memory() -> Self {
        Self {
            path: None,
            refs: None,
            keys: Mutex::default(),
        }
    }

    fn cache(&self) -> MutexGuard<'_, HashMap<String, Arc<ProofKey>>> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The key of `key_id`: known, kept in the file, or created now (and kept).
    pub fn key(&self, key_id: &str) -> Result<Arc<ProofKey>, DpopError> {
        let mut cache = self.cache();
        if let Some(key) = cache.get(key_id) {
            return Ok(Arc::clone(key));
        }
        // Another process (the web backend, a CLI run) may be creating the same server's key: the
        // file is read, and a new key written, under its lock.
        let _lock = self.lock()?;
        let key = match self.read_kept(key_id)? {
            Some(key) => key,
            None => {
                if cache.len() >= MAX_KEYS || self.kept_count()? >= MAX_KEYS {
                    return Err(DpopError::Signer(format!(
                        "Keyhole keeps at most {MAX_KEYS} DPoP keys; remove servers' keys from {} to add more",
                        self.path
                            .as_deref()
                            .map_or("memory".into(), |p| p.display().to_string())
                    )));
                }
                let key = ProofKey::generate(&OsEntropy);
                self.keep(key_id, &key)?;
                key
            }
        };
        let key = Arc::new(key);
        cache.insert(key_id.to_owned(), Arc::clone(&key));
        Ok(key)
    }

    /// A proof for `request`, signed by its key, made now.
    pub fn prove(&self, request: &ProofRequest) -> Result<String, DpopError> {
        let key = self.key(&request.key_id)?;
        Ok(key.prove(request, SystemClock.now_unix(), &OsEntropy))
    }

    fn read_file(path: &Path) -> Result<KeyFile, DpopError> {
        match fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|_| {
                DpopError::Signer(format!("{} is damaged (not a key file)", path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(KeyFile::default()),
            Err(e) => Err(DpopError::Signer(format!(
                "cannot read {}: {e}",
                path.display()
            ))),
        }
    }

    /// The key file's lock (`dpop-keys.json.lock`, mode 0600), held until dropped; none in memory.
    fn lock(&self) -> Result<Option<fs::File>, DpopError> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        let failed =
            |e: std::io::Error| DpopError::Signer(format!("cannot lock {}: {e}", path.display()));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(failed)?;
        }
        let mut options = fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(path.with_extension("json.lock"))
            .map_err(failed)?;
        file.lock().map_err(failed)?;
        Ok(Some(file))
    }

    fn kept_count(&self) -> Result<usize, DpopError> {
        match &self.path {
            Some(path) => Ok(Self::read_file(path)?.keys.len()),
            None => Ok(0),
        }
    }

    fn read_kept(&self, key_id: &str) -> Result<Option<ProofKey>, DpopError> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        let file = Self::read_file(path)?;
        let Some(text) = file.keys.get(key_id) else {
            return Ok(None);
        };
        let value = match &self.refs {
            Some(refs) => refs
                .resolve(text)
                .map_err(|e| DpopError::Signer(e.to_string()))?,
            None => Some(text.clone()),
        };
        // A key the vault lost is replaced: the tokens bound to it need a new sign-in anyway.
        Ok(value.and_then(|v| ProofKey::from_secret(&Secret::new(v)).ok()))
    }

    fn keep(&self, key_id: &str, key: &ProofKey) -> Result<(), DpopError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let secret = key.to_secret();
        let text = match &self.refs {
            Some(refs) => refs
                .stash(secret.expose())
                .map_err(|e| DpopError::Signer(e.to_string()))?,
            None => secret.expose().to_owned(),
        };
        let mut file = Self::read_file(path)?;
        file.version = VERSION;
        file.keys.insert(key_id.to_owned(), text);
        write_private(path, &file)
            .map_err(|e| DpopError::Signer(format!("cannot write {}: {e}", path.display())))
    }
}

/// Writes `file` to `path` through a temporary file (mode 0600) and a rename.
fn write_private(path: &Path, file: &KeyFile) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(&temporary)?;
    out.write_all(&serde_json::to_vec_pretty(file).unwrap_or_default())?;
    out.sync_all()?;
    fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::native::secret_vault::{MemoryVault, SecretVault};

    fn store_in(dir: &Path) -> FileStore {
        FileStore::new(dir.join("store.json"))
    }

    #[test]
    fn a_key_is_created_once_and_kept_across_restarts() {
        let dir = tempfile_dir("kept");
        let first = DpopKeys::beside(&store_in(&dir))
            .key("https://rs/mcp")
            .unwrap();
        let again = DpopKeys::beside(&store_in(&dir))
            .key("https://rs/mcp")
            .unwrap();
        assert_eq!(first.thumbprint(), again.thumbprint());
        let other = DpopKeys::beside(&store_in(&dir))
            .key("https://other/mcp")
            .unwrap();
        assert_ne!(first.thumbprint(), other.thumbprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn with_a_vault_the_file_holds_no_key() {
        let dir = tempfile_dir("vault");
        let vault: Arc<dyn SecretVault> = Arc::new(MemoryVault::default());
        let store = store_in(&dir).with_vault(Some(Arc::clone(&vault)));
        let key = DpopKeys::beside(&store).key("https://rs/mcp").unwrap();
        let text = fs::read_to_string(dir.join(FILE_NAME)).unwrap();
        assert!(!text.contains(key.to_secret().expose()), "{text}");
        assert!(text.contains("keyhole-secret:"), "{text}");
        let again = DpopKeys::beside(&store).key("https://rs/mcp").unwrap();
        assert_eq!(again.thumbprint(), key.thumbprint());
    }

    #[test]
    fn two_processes_creating_a_key_at_once_agree_on_it() {
        let dir = tempfile_dir("race");
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let dir = dir.clone();
                std::thread::spawn(move || {
                    DpopKeys::beside(&store_in(&dir))
                        .key("https://rs/mcp")
                        .unwrap()
                        .thumbprint()
                })
            })
            .collect();
        let prints: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(prints.iter().all(|p| *p == prints[0]), "{prints:?}");
    }

    #[test]
    fn keys_are_capped() {
        let keys = DpopKeys::in_memory();
        for n in 0..MAX_KEYS {
            keys.key(&format!("https://rs/{n}")).unwrap();
        }
        let error = keys.key("https://rs/one-more").unwrap_err();
        assert!(error.to_string().contains("at most 1000"), "{error}");
        assert!(keys.key("https://rs/7").is_ok(), "a kept key is still used");
    }

    #[test]
    fn a_damaged_file_is_a_clear_error() {
        let dir = tempfile_dir("damaged");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(FILE_NAME), "{not json").unwrap();
        let error = DpopKeys::beside(&store_in(&dir)).key("k").unwrap_err();
        assert!(error.to_string().contains("damaged"), "{error}");
    }

    fn tempfile_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "keyhole-dpop-{name}-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }
}
