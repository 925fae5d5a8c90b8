//! Where Keyhole keeps its files on this machine: the user's configuration directory, per
//! platform convention (`$XDG_CONFIG_HOME` or `~/.config` on Linux, `~/Library/Application
//! Support` on macOS, `%APPDATA%` on Windows), and Keyhole's folder in it.

use std::path::PathBuf;

/// The user's configuration directory.
pub fn config_dir() -> Option<PathBuf> {
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

/// `<config dir>/keyhole`.
pub fn keyhole_dir() -> Option<PathBuf> {
    config_dir().map(|dir| dir.join("keyhole"))
}
