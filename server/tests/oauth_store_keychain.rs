//! The OAuth store with its secrets in a vault (the OS keychain): the file keeps references
//! only, a file written without a vault is migrated and keeps no copy, secrets the store drops
//! leave the vault, and a reference nobody can resolve costs a sign-in, not the store. The
//! keychain is the `keyring` crate's mock store; [`MemoryVault`] stands for a keychain that
//! outlives the store object (the mock keeps values in each entry object only).

use std::sync::Arc;

use keyhole_server::native::oauth_store::FileStore;
use keyhole_server::native::secret_vault::{KeyringVault, MemoryVault, SecretVault};
use keyhole_shared::ScopeSet;
use keyhole_shared::oauth_client::Issuer;
use keyhole_shared::secret::Secret;
use keyhole_shared::store::{Forget, StoreDocument};
use keyhole_shared::tokens::Tokens;

const SERVER: &str = "https://rs/mcp";

fn save(store: &FileStore, access: &str) {
    let tokens = Tokens {
        access_token: Secret::new(access),
        token_type: "Bearer".into(),
        refresh_token: Some(Secret::new(format!("{access}-refresh"))),
        scopes: ScopeSet::parse("mcp"),
        expires_at: None,
    };
    store
        .update(|d| {
            d.save_tokens(SERVER, &Issuer::new("https://as"), &tokens, 1);
            Ok(())
        })
        .unwrap();
}

fn held(document: &StoreDocument) -> Option<(String, Option<String>)> {
    let tokens = document.credentials.first()?.tokens.as_ref()?;
    Some((
        tokens.access_token.expose().to_owned(),
        tokens.refresh_token.as_ref().map(|r| r.expose().to_owned()),
    ))
}

/// Every file of the store's folder, as text (the store, its lock, any leftover).
fn folder_text(store: &FileStore) -> String {
    let dir = store.path().parent().unwrap();
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|entry| std::fs::read_to_string(entry.path()).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn with_the_keyring_no_secret_is_left_in_the_json_file() {
    keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
    let vault: Arc<dyn SecretVault> = Arc::new(KeyringVault::probe().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path().join("oauth-store.json")).with_vault(Some(vault));
    save(&store, "at-keychain-1");

    let on_disk = folder_text(&store);
    assert!(!on_disk.contains("at-keychain-1"), "{on_disk}");
    assert!(on_disk.contains("keyhole-secret:"), "{on_disk}");
    assert_eq!(
        held(&store.read_document().unwrap()),
        Some(("at-keychain-1".into(), Some("at-keychain-1-refresh".into())))
    );
}

#[test]
fn a_file_store_is_migrated_into_the_vault_and_keeps_no_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oauth-store.json");
    let plain = FileStore::new(&path);
    save(&plain, "at-migrated");
    assert!(
        folder_text(&plain).contains("at-migrated"),
        "the file fallback keeps them inline"
    );

    let vault = Arc::new(MemoryVault::default());
    let keychain = FileStore::new(&path).with_vault(Some(vault.clone()));
    keychain.tidy().unwrap();
    assert!(!folder_text(&keychain).contains("at-migrated"));
    assert_eq!(vault.len(), 2, "the access and the refresh token");

    // Another process (another store object) on the same keychain reads them back.
    let again = FileStore::new(&path).with_vault(Some(vault.clone()));
    assert_eq!(
        held(&again.read_document().unwrap()).map(|(access, _)| access),
        Some("at-migrated".into())
    );
}

#[tokio::test]
async fn secrets_the_store_drops_leave_the_vault() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Arc::new(MemoryVault::default());
    let store = FileStore::new(dir.path().join("oauth-store.json")).with_vault(Some(vault.clone()));
    save(&store, "at-old");
    save(&store, "at-new");
    assert_eq!(
        vault.len(),
        2,
        "the replaced tokens are gone from the vault"
    );
    store
        .update(|d| {
            d.forget(SERVER, Forget::TOKENS, &[]);
            Ok(())
        })
        .unwrap();
    assert!(vault.is_empty());
}

#[test]
fn a_reference_without_its_secret_costs_a_sign_in_not_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oauth-store.json");
    let keychain = FileStore::new(&path).with_vault(Some(Arc::new(MemoryVault::default())));
    save(&keychain, "at-lost");

    // The keychain is gone (another machine, a reset) or not in use (`--secrets file`).
    for store in [
        FileStore::new(&path),
        FileStore::new(&path).with_vault(Some(Arc::new(MemoryVault::default()))),
    ] {
        let document = store.read_document().unwrap();
        assert_eq!(held(&document), None);
        assert_eq!(document.credentials.len(), 1, "what is not secret stays");
    }
}
