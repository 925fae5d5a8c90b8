//! What the layout, theme, keyboard and export tests need beyond finding and clicking elements:
//! through ChromeDriver's DevTools passthrough (`POST /session/{id}/goog/cdp/execute`) a
//! phone-sized viewport, the system colour scheme (`prefers-color-scheme`) and clipboard
//! permission; real key presses (WebDriver actions); screenshots saved under `target/screenshots/`.
//!
//! A viewport is emulated rather than the window resized because Chromium keeps a window at
//! least about 500 px wide; the emulated one is exactly what a 390 px phone's layout sees.

use std::path::PathBuf;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use serde_json::json;

use crate::Browser;

/// The light or dark system theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    pub fn name(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

/// The `target/` directory this test binary was built in (`target/<profile>/deps/<test>`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.ancestors()
        .nth(3)
        .expect("target/<profile>/deps/<test>")
        .to_path_buf()
}

/// `target/screenshots/`, where [`Browser::save_screenshot`] writes.
pub fn screenshot_dir() -> PathBuf {
    target_dir().join("screenshots")
}

impl Browser {
    /// Lays the page out as a screen of `width`×`height` CSS pixels.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        self.devtools(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        )
        .await;
    }

    /// Makes `prefers-color-scheme` match `theme`, as a system setting would.
    pub async fn set_theme(&self, theme: Theme) {
        self.devtools(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": theme.name() }] }),
        )
        .await;
    }

    /// How many CSS pixels the document is wider than the viewport (0 when nothing overflows).
    pub async fn horizontal_overflow(&self) -> f64 {
        self.script("return document.documentElement.scrollWidth - window.innerWidth;")
            .await
            .as_f64()
            .expect("a number")
    }

    /// Saves a PNG of the viewport as `target/screenshots/<name>.png` and returns its path.
    pub async fn save_screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("no screenshot for {name}: {e}"));
        assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("create target/screenshots");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// Saves the page's downloads into `dir` without asking.
    pub async fn allow_downloads(&self, dir: &std::path::Path) {
        self.devtools(
            "Browser.setDownloadBehavior",
            json!({ "behavior": "allow", "downloadPath": dir }),
        )
        .await;
    }

    /// The text of the JSON file the page downloaded to `file`, once whole (the file appears
    /// before the browser has finished writing it), and its value; at most ten seconds.
    pub async fn downloaded_json(&self, file: &std::path::Path) -> (String, serde_json::Value) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let written = std::fs::read_to_string(file).unwrap_or_default();
            if let Ok(value) = serde_json::from_str(&written) {
                return (written, value);
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no complete {} appeared (so far: {written:?})",
                file.display()
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Lets the page read and write the clipboard without asking.
    pub async fn allow_clipboard(&self) {
        self.devtools(
            "Browser.grantPermissions",
            json!({ "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"] }),
        )
        .await;
    }

    /// The clipboard's text, as the page reads it.
    pub async fn clipboard_text(&self) -> String {
        let text = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 navigator.clipboard.readText().then(done, e => done('clipboard error: ' + e));",
                vec![],
            )
            .await
            .unwrap_or_else(|e| panic!("reading the clipboard failed: {e}"));
        text.as_str().unwrap_or_default().to_owned()
    }

    /// Presses `key` (while holding `modifier`, if any) wherever the focus is, as a user would.
    pub async fn press(&self, modifier: Option<Key>, key: char) {
        let mut keys = KeyActions::new("keyboard".into());
        if let Some(modifier) = modifier {
            keys = keys.then(KeyAction::Down {
                value: modifier.into(),
            });
        }
        keys = keys
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        if let Some(modifier) = modifier {
            keys = keys.then(KeyAction::Up {
                value: modifier.into(),
            });
        }
        self.client
            .perform_actions(keys)
            .await
            .unwrap_or_else(|e| panic!("pressing {key:?} failed: {e}"));
    }

    /// Whether the element with `testid` is rendered (not `display: none` or `hidden`).
    pub async fn is_shown(&self, testid: &str) -> bool {
        self.wait_testid(testid)
            .await
            .is_displayed()
            .await
            .unwrap_or_else(|e| panic!("could not tell whether {testid:?} is shown: {e}"))
    }

    /// The `data-testid` of the focused element, and whether it draws a visible focus outline.
    pub async fn focused(&self) -> (String, bool) {
        let focus = self
            .script(
                "const e = document.activeElement; const s = getComputedStyle(e);
                 return [e.getAttribute('data-testid') || e.tagName,
                         s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0];",
            )
            .await;
        (
            focus[0].as_str().unwrap_or_default().to_owned(),
            focus[1].as_bool().unwrap_or(false),
        )
    }
}
