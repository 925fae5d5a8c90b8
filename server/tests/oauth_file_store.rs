//! The file-backed OAuth store: private file mode, atomic replacement, two concurrent writers
//! losing nothing, compare-and-swap, and refusal of damaged files.

use std::sync::Arc;
use std::thread;

use keyhole_server::oauth_store::FileStore;
use keyhole_shared::ScopeSet;
use keyhole_shared::oauth::Tokens;
use keyhole_shared::oauth_client::Issuer;
use keyhole_shared::secret::Secret;
use keyhole_shared::store::{OAuthStore, StoreDocument, StoreError};

fn tokens(value: &str) -> Tokens {
    Tokens {
        access_token: Secret::new(value),
        token_type: "Bearer".into(),
        refresh_token: Some(Secret::new(format!("{value}-refresh"))),
        scopes: ScopeSet::parse("mcp"),
        expires_at: None,
    }
}

fn save(store: &FileStore, server: &str, value: &str) {
    store
        .update(|d| {
            d.save_tokens(server, &Issuer::new("https://as"), &tokens(value), 1);
            Ok(())
        })
        .unwrap();
}

#[cfg(unix)]
#[test]
fn the_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path().join("nested/keyhole/oauth-store.json"));
    save(&store, "https://rs/mcp", "at-1");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(store.path()), 0o600);
    assert_eq!(mode(store.path().parent().unwrap()), 0o700);
    // Still private after a replacement.
    save(&store, "https://rs/mcp", "at-2");
    assert_eq!(mode(store.path()), 0o600);
}

#[test]
fn writes_replace_the_file_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oauth-store.json");
    let writer = FileStore::new(&path);
    save(&writer, "https://rs/mcp", "at-0");
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (path, done) = (path.clone(), Arc::clone(&done));
        thread::spawn(move || {
            let mut reads = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                // Every read sees a whole document, old or new.
                let text = std::fs::read_to_string(&path).unwrap();
                StoreDocument::from_json(&text).expect("never a torn write");
                reads += 1;
            }
            reads
        })
    };
    for i in 0..200 {
        save(&writer, "https://rs/mcp", &format!("at-{i}"));
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let document = writer.read_document().unwrap();
    assert_eq!(document.revision, 201);
    let held = document.credential("https://rs/mcp", None).unwrap();
    assert_eq!(
        held.tokens.as_ref().unwrap().access_token.expose(),
        "at-199"
    );
}

#[test]
fn two_writers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oauth-store.json");
    let writers: Vec<_> = ["web", "cli"]
        .into_iter()
        .map(|who| {
            // Separate store values, as the backend and a CLI process would have.
            let store = FileStore::new(&path);
            thread::spawn(move || {
                for i in 0..50 {
                    save(&store, &format!("https://{who}-{i}/mcp"), "t");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let document = FileStore::new(&path).read_document().unwrap();
    assert_eq!(document.credentials.len(), 100);
    assert_eq!(document.revision, 100);
}

#[test]
fn replace_is_a_compare_and_swap() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path().join("oauth-store.json"));
    save(&store, "https://rs/mcp", "at-1");
    let copy = store.read_document().unwrap();
    assert_eq!(copy.revision, 1);
    let mut edited = copy.clone();
    edited.forget_server("https://rs/mcp");
    let written = store.replace(edited.clone(), 1).unwrap();
    assert_eq!(written.revision, 2);
    assert!(written.credentials.is_empty());
    // A writer still holding revision 1 is told to reload.
    assert_eq!(
        store.replace(copy, 1).unwrap_err(),
        StoreError::Conflict { current: 2 }
    );
}

#[test]
fn damaged_files_are_reported_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oauth-store.json");
    std::fs::write(&path, "{\"credentials\": [").unwrap();
    let store = FileStore::new(&path);
    assert!(matches!(store.read_document(), Err(StoreError::Corrupt(_))));
    assert!(store.update(|_| Ok(())).is_err());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\"credentials\": ["
    );
    let error = futures_util::FutureExt::now_or_never(store.read())
        .unwrap()
        .unwrap_err();
    assert!(!error.to_string().contains("credentials"));
}

#[test]
fn the_default_location_is_under_the_config_directory() {
    let path = FileStore::default_path().unwrap();
    assert!(
        path.ends_with("keyhole/oauth-store.json"),
        "{}",
        path.display()
    );
}
