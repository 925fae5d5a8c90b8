//! A testbed server that needs no authorization, with the tools the tool-panel tests need (a
//! destructive one, one that matches its output schema and one that breaks it), Markdown
//! instructions, a resource and a prompt; and Keyhole (no demo) with a browser connected to it.

use crate::testbed::{TestbedProcess, connect};
use crate::{Browser, KeyholeProcess};

/// The testbed configuration; `broken-forecast` declares a schema its results break at
/// `/windKph` (missing) and `/humidityPercent` (an integer where a string is declared).
pub const OPEN_TESTBED: &str = r#"{
  "servers": [{
    "name": "open",
    "title": "Open test server",
    "instructions": "Start with `echo`, then **add**.\n\nSee [the docs](https://example.com/docs), not [this](javascript:alert(1)) or <b>bold</b>.\n\n- first item\n- second item",
    "auth": { "mode": "none" },
    "tools": [
      { "preset": "echo" },
      { "preset": "add" },
      { "preset": "structured" },
      { "preset": "deleteNote" },
      { "preset": "structured", "name": "broken-forecast",
        "outputSchema": { "type": "object",
          "properties": { "city": { "type": "string" }, "humidityPercent": { "type": "string" },
                          "windKph": { "type": "number" } },
          "required": ["city", "windKph"] } }
    ],
    "resources": [
      { "uri": "keyhole://open/readme", "name": "readme", "text": "Hello from the open server." }
    ],
    "prompts": [
      { "name": "greeting", "arguments": [{ "name": "name", "required": true }, { "name": "style" }],
        "template": "Write a {style} greeting for {name}." }
    ]
  }]
}"#;

/// The testbed, Keyhole, and a browser connected to the open server.
pub struct OpenServer {
    pub keyhole: KeyholeProcess,
    pub browser: Browser,
    pub url: String,
    _testbed: TestbedProcess,
}

impl OpenServer {
    pub async fn start() -> Self {
        let testbed = TestbedProcess::start(OPEN_TESTBED);
        let url = testbed.mcp_url("open");
        let keyhole = KeyholeProcess::web(&["--no-demo"]);
        let browser = Browser::start().await;
        connect(&browser, &keyhole, &url).await;
        Self {
            keyhole,
            browser,
            url,
            _testbed: testbed,
        }
    }

    pub async fn close(self) {
        self.browser.close().await;
    }
}
