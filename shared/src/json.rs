//! Reading a JSON value from bytes.
//!
//! serde_json compiles its deserializers once per kind of input (`&str` or `&[u8]`). The web app
//! reads nearly all of its JSON from strings, so bytes go through `&str` too and the wasm carries
//! one copy of the `Value` deserializer instead of two.

/// The JSON value in `bytes`, or `None` when they are not UTF-8 JSON.
pub fn value_from_bytes(bytes: &[u8]) -> Option<serde_json::Value> {
    let text = std::str::from_utf8(bytes).ok()?;
    serde_json::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utf8_json_and_refuses_the_rest() {
        assert_eq!(
            value_from_bytes(br#"{"a":["\u00e9",1]}"#),
            Some(serde_json::json!({"a": ["é", 1]}))
        );
        assert_eq!(value_from_bytes(b"{\"a\":\"\xff\"}"), None);
        assert_eq!(value_from_bytes(b"{"), None);
        assert_eq!(value_from_bytes(b""), None);
    }
}
