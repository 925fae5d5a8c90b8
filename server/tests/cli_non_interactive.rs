//! `--non-interactive`: the authorization URL is fetched without following redirects and the code
//! taken from `Location` (authorization servers that approve at once).

use crate::cli_fixture;

use cli_fixture::{Bed, FakeTerminal};

#[tokio::test]
async fn signs_in_without_a_browser() {
    let bed = Bed::start().await;
    let url = bed.mcp_url("main");
    let mut t = FakeTerminal::new();
    let code = bed
        .run(
            &[
                "--url",
                &url,
                "--non-interactive",
                "--json",
                "tools",
                "list",
            ],
            &mut t,
        )
        .await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(t.opened.lock().unwrap().is_empty());
    assert_eq!(t.json()["tools"].as_array().unwrap().len(), 3);
    let stored = bed.stored_token("main").expect("tokens stored");
    assert!(stored.scopes.contains_str("mcp"));
    assert!(stored.refresh_token.is_some());
}
