//! The file-backed OAuth store: private file mode, atomic replacement, two concurrent writers
//! losing nothing, compare-and-swap acknowledging exactly what it wrote, no temporary file outliving
//! a crash, and damaged files moved aside instead of failing every request.

use std::sync::Arc;
use std::thread;

use keyhole_server::native::oauth_store::FileStore;
use keyhole_shared::ScopeSet;
use keyhole_shared::oauth_client::Issuer;
use keyhole_shared::secret::Secret;
use keyhole_shared::store::{OAuthStore, StoreDocument, StoreError};
use keyhole_shared::tokens::Tokens;

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
fn a_damaged_file_is_moved_aside_and_the_store_goes_on_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oauth-store.json");
    std::fs::write(&path, "{\"credentials\": [").unwrap();
    let store = FileStore::new(&path);
    let document = store
        .read_document()
        .expect("a damaged file no longer fails the read");
    assert_eq!(document.credentials.len(), 0);
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("oauth-store.json.damaged-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(
        std::fs::read_to_string(&aside[0]).unwrap(),
        "{\"credentials\": [",
        "the damaged file is kept as it was, for the user"
    );
    // Writes work again.
    save(&store, "https://rs/mcp", "at-1");
    assert_eq!(store.read_document().unwrap().credentials.len(), 1);
    // The same through an update that meets a damaged file.
    std::fs::write(&path, "not json").unwrap();
    save(&store, "https://rs/mcp", "at-2");
    let document = futures_util::FutureExt::now_or_never(store.read())
        .unwrap()
        .unwrap();
    assert_eq!(document.credentials.len(), 1);
}

#[test]
fn a_store_from_a_newer_keyhole_is_refused_not_moved() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oauth-store.json");
    std::fs::write(&path, r#"{"version": 99}"#).unwrap();
    let store = FileStore::new(&path);
    assert_eq!(store.read_document().unwrap_err(), StoreError::TooNew(99));
    assert!(store.update(|_| Ok(())).is_err());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        r#"{"version": 99}"#
    );
}

fn leftovers(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".tmp"))
        .collect()
}

#[test]
fn temporary_files_left_by_a_killed_writer_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oauth-store.json");
    let store = FileStore::new(&path);
    save(&store, "https://rs/mcp", "at-1");
    // What a writer killed between creating its temporary file and renaming it leaves behind.
    let leftover = dir
        .path()
        .join("oauth-store.json.4242.00000000deadbeef.tmp");
    std::fs::write(&leftover, r#"{"credentials": "tokens of a dead writer"}"#).unwrap();
    let unrelated = dir.path().join("other.json.1.2.tmp");
    std::fs::write(&unrelated, "").unwrap();
    store.tidy().unwrap();
    assert_eq!(leftovers(dir.path()), vec!["other.json.1.2.tmp".to_owned()]);
    // The next write removes them too (a crash while Keyhole runs).
    std::fs::write(&leftover, "x").unwrap();
    save(&store, "https://rs/mcp", "at-2");
    assert!(!leftover.exists());
}

#[test]
fn an_acknowledged_write_returns_exactly_the_document_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oauth-store.json");
    save(&FileStore::new(&path), "https://seed/mcp", "t");
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let store = FileStore::new(&path);
            thread::spawn(move || {
                let mut acknowledged = 0;
                while acknowledged < 100 {
                    let mut copy = store.read_document().unwrap();
                    let expected = copy.revision;
                    let marker = format!("writer-{writer}-{acknowledged}");
                    copy.save_tokens(
                        "https://rs/mcp",
                        &Issuer::new("https://as"),
                        &tokens(&marker),
                        1,
                    );
                    match store.replace(copy, expected) {
                        Ok(written) => {
                            assert_eq!(written.revision, expected + 1);
                            let held = written.credential("https://rs/mcp", None).unwrap();
                            assert_eq!(
                                held.tokens.as_ref().unwrap().access_token.expose(),
                                marker,
                                "the acknowledgement carries this writer's document"
                            );
                            acknowledged += 1;
                        }
                        Err(StoreError::Conflict { .. }) => continue,
                        Err(other) => panic!("{other}"),
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    assert_eq!(
        FileStore::new(&path).read_document().unwrap().revision,
        1 + 4 * 100
    );
    assert!(leftovers(dir.path()).is_empty());
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
