//! The servers the user saves in the web app, kept in `<config dir>/keyhole/servers.json`: an
//! `mcp.json` document (`{"mcpServers": {NAME: entry}}`, the catalog's format, checked by the
//! same parser, so the file also works as `--config` and a catalog imports as it is).
//!
//! The user orders the list, and `serde_json` maps sort their keys: the document is read
//! through [`OrderedServers`] (entries in the file's order) and written by hand in the list's
//! order. It is written whole, through a temporary file renamed over it, readable by its owner
//! only: entries may carry headers and stdio environments with secrets. With a vault (the OS
//! keychain, as for the OAuth store), those secrets ([`crate::entry_secrets`]) are kept there and
//! the file holds references; [`SavedServersFile::tidy`] moves secrets written in the file there
//! at start. A file that cannot be read is never written over: saving is refused until it is
//! fixed or removed.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use keyhole_shared::api::{CatalogEntry, SavedServer, SavedServers};
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::{Value, json};

use crate::catalog::Catalog;
use crate::entry_secrets;
use crate::native::secret_vault::{SecretRefs, SecretVault};

/// The file's name in Keyhole's configuration folder.
pub const FILE_NAME: &str = "servers.json";

/// Servers kept at most (a file is read whole into memory).
const MAX_SERVERS: usize = 500;

/// The longest name.
const MAX_NAME: usize = 100;

/// `mcpServers` in the file's order.
struct OrderedServers(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for OrderedServers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = OrderedServers;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of servers by name")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut servers = Vec::new();
                while let Some((name, entry)) = map.next_entry::<String, Value>()? {
                    servers.push((name, entry));
                }
                Ok(OrderedServers(servers))
            }
        }
        deserializer.deserialize_map(InOrder)
    }
}

#[derive(Deserialize)]
struct Document {
    #[serde(rename = "mcpServers")]
    servers: OrderedServers,
}

/// Where the saved servers live on this machine, with a file of their own.
#[derive(Debug, Clone)]
pub struct SavedServersFile {
    path: Option<PathBuf>,
    secrets: Option<Arc<SecretRefs>>,
}

impl SavedServersFile {
    /// `servers.json` in `keyhole_dir` (none: this machine has no configuration folder).
    pub fn in_dir(keyhole_dir: Option<&Path>) -> Self {
        Self {
            path: keyhole_dir.map(|dir| dir.join(FILE_NAME)),
            secrets: None,
        }
    }

    /// The same file with its secrets in `vault` (`None`: in the file).
    pub fn with_vault(mut self, vault: Option<Arc<dyn SecretVault>>) -> Self {
        self.secrets = vault.map(|vault| Arc::new(SecretRefs::new(vault, "saved-servers")));
        self
    }

    /// The servers as the file has them, references unresolved.
    fn read_raw(&self) -> Result<Vec<SavedServer>, String> {
        match &self.path {
            None => Ok(Vec::new()),
            Some(path) => read_file(path),
        }
    }

    /// At start: moves secrets written in the file into the vault (when there is one).
    pub fn tidy(&self) -> Result<(), String> {
        let servers = self.read_raw()?;
        if self.secrets.is_none() || !entry_secrets::any_inline(&servers) {
            return Ok(());
        }
        self.save(&self.read().servers).map(drop)
    }

    /// The servers as the file has them (none when there is no file), or why it cannot be read.
    pub fn read(&self) -> SavedServers {
        let path_text = self.path.as_ref().map(|p| p.display().to_string());
        let loaded = self.read_raw().map(|mut servers| {
            let lost = entry_secrets::resolve(&mut servers, self.secrets.as_deref());
            if lost > 0 {
                tracing::warn!(
                    "{lost} secret(s) of the saved servers cannot be read back from the keychain;                      they are empty until typed again"
                );
            }
            servers
        });
        let (servers, problem) = match loaded.and_then(|servers| {
            let entries = entries(&servers)?;
            Ok((servers, entries))
        }) {
            Ok((servers, entries)) => {
                return SavedServers {
                    path: path_text,
                    servers,
                    entries,
                    problem: None,
                };
            }
            Err(problem) => (Vec::new(), problem),
        };
        SavedServers {
            path: path_text,
            servers,
            entries: Vec::new(),
            problem: Some(problem),
        }
    }

    /// The file's text, for a download (an empty document when nothing is saved).
    pub fn export(&self) -> Result<String, String> {
        let saved = self.read();
        match saved.problem {
            Some(problem) => Err(problem),
            None => Ok(document_text(&saved.servers)),
        }
    }

    /// Adds the servers of the `mcp.json` document `text` (one named like a saved server
    /// replaces it in place; the others come after, in the document's order).
    pub fn import(&self, text: &str) -> Result<SavedServers, String> {
        let imported = parse(text).map_err(|e| format!("the file {e}"))?;
        let mut servers = self.read().servers;
        for server in imported {
            match servers.iter_mut().find(|s| s.name == server.name) {
                Some(same) => *same = server,
                None => servers.push(server),
            }
        }
        self.save(&servers)
    }

    /// Replaces the saved servers by `servers` (checked first), and returns them as read back.
    pub fn save(&self, servers: &[SavedServer]) -> Result<SavedServers, String> {
        let Some(path) = &self.path else {
            return Err(
                "this machine has no configuration folder to save servers in \
                 (set XDG_CONFIG_HOME or HOME)"
                    .into(),
            );
        };
        if let Some(problem) = self.read().problem {
            return Err(format!(
                "{problem}. Keyhole does not write over it: fix or remove the file, then save again"
            ));
        }
        entries(servers)?;
        let before = entry_secrets::references(&self.read_raw().unwrap_or_default());
        let mut written = servers.to_vec();
        if let Some(secrets) = &self.secrets {
            entry_secrets::stash(&mut written, secrets).map_err(|e| {
                format!("{e}; nothing was saved (unlock the keychain, or use --secrets file)")
            })?;
        }
        write_file(path, &document_text(&written))?;
        if let Some(secrets) = &self.secrets {
            secrets.forget(&before, &entry_secrets::references(&written));
        }
        Ok(self.read())
    }
}

fn read_file(path: &Path) -> Result<Vec<SavedServer>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    parse(&text).map_err(|e| format!("{} {e}", path.display()))
}

/// The servers of an `mcp.json` document, in its order.
fn parse(text: &str) -> Result<Vec<SavedServer>, String> {
    let document: Document = serde_json::from_str(text)
        .map_err(|e| format!("is not an mcp.json document ({{\"mcpServers\": {{…}}}}): {e}"))?;
    Ok(document
        .servers
        .0
        .into_iter()
        .map(|(name, entry)| SavedServer { name, entry })
        .collect())
}

/// Checks `servers` as the catalog does (the error names the server and field) and returns them
/// ready to connect, in order.
fn entries(servers: &[SavedServer]) -> Result<Vec<CatalogEntry>, String> {
    if servers.len() > MAX_SERVERS {
        return Err(format!("at most {MAX_SERVERS} servers can be saved"));
    }
    let mut seen = std::collections::HashSet::new();
    let mut entries = Vec::with_capacity(servers.len());
    for server in servers {
        let name = server.name.trim();
        if name.is_empty() || name.len() > MAX_NAME || name != server.name {
            return Err(format!(
                "{:?}: a name is 1 to {MAX_NAME} characters, without spaces around it",
                server.name
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(format!("{name:?}: a name has no control characters"));
        }
        if !seen.insert(name) {
            return Err(format!("two servers are named {name:?}: names are unique"));
        }
        let document = json!({ "mcpServers": { name: server.entry } });
        let catalog = Catalog::from_value(&document)?;
        entries.extend(catalog.entries());
    }
    Ok(entries)
}

/// The file's text: `{"mcpServers": {…}}` with the servers in `servers`' order.
fn document_text(servers: &[SavedServer]) -> String {
    let mut text = String::from("{\n  \"mcpServers\": {");
    for (index, server) in servers.iter().enumerate() {
        if index > 0 {
            text.push(',');
        }
        let name = Value::String(server.name.clone()).to_string();
        let entry = serde_json::to_string_pretty(&server.entry)
            .unwrap_or_else(|_| "{}".into())
            .replace('\n', "\n    ");
        text.push_str(&format!("\n    {name}: {entry}"));
    }
    text.push_str(if servers.is_empty() {
        "}\n}\n"
    } else {
        "\n  }\n}\n"
    });
    text
}

/// Writes `text` to `path` through a temporary file in the same folder (readable by its owner
/// only), renamed over the old file, so a crash never leaves half a file.
fn write_file(path: &Path, text: &str) -> Result<(), String> {
    let folder = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder)
        .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    let temporary = path.with_extension("json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temporary).and_then(|mut file| {
        std::io::Write::write_all(&mut file, text.as_bytes())?;
        file.sync_all()
    });
    written
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(name: &str, entry: Value) -> SavedServer {
        SavedServer {
            name: name.into(),
            entry,
        }
    }

    #[test]
    fn servers_keep_their_order_and_come_back_as_written() {
        let folder = tempfile::tempdir().unwrap();
        let file = SavedServersFile::in_dir(Some(folder.path()));
        assert_eq!(file.read().servers, Vec::new());
        let servers = vec![
            server(
                "zeta",
                json!({ "url": "http://127.0.0.1:1/mcp", "headers": { "X-A": "1" } }),
            ),
            server("alpha", json!({ "command": "npx", "args": ["-y", "pkg"] })),
            server(
                "mid",
                json!({ "type": "sse", "url": "http://127.0.0.1:2/sse" }),
            ),
        ];
        let saved = file.save(&servers).unwrap();
        assert_eq!(saved.servers, servers);
        assert_eq!(saved.problem, None);
        let names: Vec<_> = saved.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["zeta", "alpha", "mid"]);
        assert!(saved.entries[1].stdio.is_some());

        // The file is an mcp.json catalog, private to its owner.
        let path = folder.path().join(FILE_NAME);
        let catalog = Catalog::load(&path).unwrap();
        assert_eq!(catalog.entries().len(), 3);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        // An export is the file; an import adds to it, replacing a server of the same name.
        assert_eq!(
            file.export().unwrap(),
            std::fs::read_to_string(&path).unwrap()
        );
        let imported = file
            .import(
                r#"{"mcpServers": {"new": {"url": "http://127.0.0.1:3/mcp"},
                                         "alpha": {"url": "http://127.0.0.1:4/mcp"}}}"#,
            )
            .unwrap();
        let names: Vec<_> = imported.servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["zeta", "alpha", "mid", "new"]);
        assert_eq!(imported.servers[1].entry["url"], "http://127.0.0.1:4/mcp");
        assert!(
            file.import("[1]")
                .unwrap_err()
                .contains("the file is not an mcp.json")
        );
        assert_eq!(file.save(&[]).unwrap().servers, Vec::new());
        assert_eq!(file.export().unwrap(), "{\n  \"mcpServers\": {}\n}\n");
    }

    #[test]
    fn a_bad_entry_or_name_is_refused_with_its_field_and_nothing_is_written() {
        let folder = tempfile::tempdir().unwrap();
        let file = SavedServersFile::in_dir(Some(folder.path()));
        let bad_url = file.save(&[server("x", json!({ "url": "ftp://host/mcp" }))]);
        assert!(bad_url.unwrap_err().contains("mcpServers.x"));
        let twice = file.save(&[
            server("x", json!({ "url": "http://127.0.0.1:1/mcp" })),
            server("x", json!({ "url": "http://127.0.0.1:2/mcp" })),
        ]);
        assert!(twice.unwrap_err().contains("unique"));
        assert!(
            file.save(&[server(" x", json!({ "url": "http://a/mcp" }))])
                .is_err()
        );
        assert!(!folder.path().join(FILE_NAME).exists());
    }

    #[test]
    fn an_unreadable_file_is_reported_and_never_written_over() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join(FILE_NAME);
        std::fs::write(&path, "{ not json").unwrap();
        let file = SavedServersFile::in_dir(Some(folder.path()));
        assert!(
            file.read()
                .problem
                .unwrap()
                .contains("is not an mcp.json document")
        );
        let refused = file.save(&[server("x", json!({ "url": "http://127.0.0.1:1/mcp" }))]);
        assert!(refused.unwrap_err().contains("does not write over it"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{ not json");
        assert!(SavedServersFile::in_dir(None).save(&[]).is_err());
    }

    #[test]
    fn with_a_vault_the_file_keeps_no_secret_and_an_old_file_is_migrated() {
        use crate::native::secret_vault::MemoryVault;
        let folder = tempfile::tempdir().unwrap();
        let plain = SavedServersFile::in_dir(Some(folder.path()));
        let secret_entry = json!({ "url": "http://127.0.0.1:1/mcp",
            "headers": { "Authorization": "Bearer saved-token", "X-Team": "blue" },
            "oauth": { "clientId": "c", "clientSecret": "saved-secret" } });
        plain.save(&[server("api", secret_entry.clone())]).unwrap();
        let path = folder.path().join(FILE_NAME);
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("saved-secret")
        );

        let vault = Arc::new(MemoryVault::default());
        let keychain =
            SavedServersFile::in_dir(Some(folder.path())).with_vault(Some(vault.clone()));
        keychain.tidy().unwrap();
        let on_disk = std::fs::read_to_string(&path).unwrap();
        assert!(
            !on_disk.contains("saved-secret") && !on_disk.contains("saved-token"),
            "{on_disk}"
        );
        assert!(
            on_disk.contains("blue"),
            "what is not secret stays: {on_disk}"
        );
        assert_eq!(vault.len(), 2);
        assert_eq!(keychain.read().servers[0].entry, secret_entry);
        assert_eq!(
            keychain.read().entries[0]
                .oauth
                .as_ref()
                .unwrap()
                .client_secret
                .as_ref()
                .unwrap()
                .expose(),
            "saved-secret"
        );

        // Removing the server removes its secrets from the vault.
        keychain.save(&[]).unwrap();
        assert!(vault.is_empty());
    }
}
