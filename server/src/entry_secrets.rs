//! The secrets of an `mcp.json` entry — client secrets (`oauth.clientSecret`,
//! `enterprise.idpClientSecret`, `enterprise.clientSecret`), the values of credential headers
//! (`Authorization`, API keys…: [`keyhole_shared::http::is_secret_header`]) and a stdio server's
//! environment values — found in one walk, so the saved servers' file can keep them in the OS
//! keychain ([`crate::native::secret_vault::SecretRefs`]) and only references on disk.

use std::collections::HashSet;

use keyhole_shared::api::SavedServer;
use keyhole_shared::http::is_secret_header;
use serde_json::Value;

use crate::native::secret_vault::{SecretRefs, VaultError, reference_of};

/// Calls `visit` with every secret value of `entry`.
pub fn for_each_secret(entry: &mut Value, visit: &mut dyn FnMut(&mut String)) {
    if let Some(Value::String(secret)) = entry.pointer_mut("/oauth/clientSecret") {
        visit(secret);
    }
    for key in ["idpClientSecret", "clientSecret"] {
        if let Some(Value::String(secret)) =
            entry.get_mut("enterprise").and_then(|e| e.get_mut(key))
        {
            visit(secret);
        }
    }
    if let Some(Value::Object(env)) = entry.get_mut("env") {
        for value in env.values_mut() {
            if let Value::String(secret) = value {
                visit(secret);
            }
        }
    }
    if let Some(Value::Object(headers)) = entry.get_mut("headers") {
        for (name, value) in headers.iter_mut() {
            if let Value::String(secret) = value
                && is_secret_header(name)
            {
                visit(secret);
            }
        }
    }
}

/// The vault references `servers` hold.
pub fn references(servers: &[SavedServer]) -> HashSet<String> {
    let mut found = HashSet::new();
    for server in servers {
        for_each_secret(&mut server.entry.clone(), &mut |secret| {
            if let Some(fingerprint) = reference_of(secret) {
                found.insert(fingerprint.to_owned());
            }
        });
    }
    found
}

/// Whether some secret of `servers` is written as it is (not a reference).
pub fn any_inline(servers: &[SavedServer]) -> bool {
    let mut inline = false;
    for server in servers {
        for_each_secret(&mut server.entry.clone(), &mut |secret| {
            inline |= reference_of(secret).is_none();
        });
    }
    inline
}

/// Puts the vault's values in place of the references; one the vault cannot give back becomes
/// empty (counted in the result: the user types it again).
pub fn resolve(servers: &mut [SavedServer], secrets: Option<&SecretRefs>) -> usize {
    let mut lost = 0;
    for server in servers {
        for_each_secret(&mut server.entry, &mut |secret| {
            if reference_of(secret).is_none() {
                return;
            }
            match secrets.map(|s| s.resolve(secret)) {
                Some(Ok(Some(value))) => *secret = value,
                _ => {
                    secret.clear();
                    lost += 1;
                }
            }
        });
    }
    lost
}

/// Stores every secret of `servers` in the vault and puts references in their place.
pub fn stash(servers: &mut [SavedServer], secrets: &SecretRefs) -> Result<(), VaultError> {
    let mut failure = None;
    for server in servers {
        for_each_secret(&mut server.entry, &mut |secret| {
            if failure.is_some() {
                return;
            }
            match secrets.stash(secret) {
                Ok(reference) => *secret = reference,
                Err(error) => failure = Some(error),
            }
        });
    }
    failure.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn client_secrets_credential_headers_and_environment_values_are_secrets() {
        let mut entry = json!({
            "url": "http://h/mcp",
            "headers": {"Authorization": "Bearer a", "X-Api-Key": "k", "X-Team": "blue"},
            "oauth": {"clientId": "c", "clientSecret": "s1"},
            "enterprise": {"idpClientSecret": "s2", "clientSecret": "s3", "clientId": "r"},
            "env": {"TOKEN": "t"}
        });
        let mut seen = Vec::new();
        for_each_secret(&mut entry, &mut |secret| seen.push(secret.clone()));
        seen.sort();
        assert_eq!(seen, ["Bearer a", "k", "s1", "s2", "s3", "t"]);
    }
}
