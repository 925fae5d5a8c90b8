//! Text and number conversions done by the browser's own JavaScript built-ins. The Rust
//! equivalents (Unicode case tables, the float parser and the float formatter) would add tens of
//! kilobytes to the WebAssembly download for the same result.

use wasm_bindgen::JsValue;

/// Lower-cased for case-insensitive search (Unicode-aware, like `String.prototype.toLowerCase`).
pub fn fold_case(text: &str) -> String {
    js_sys::JsString::from(text).to_lower_case().into()
}

/// A decimal number as JSON writes it (`-1.5`, `2e3`); `None` for anything else, including hex,
/// `Infinity` and partial numbers such as `1e`.
pub fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let decimal = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'));
    if !decimal {
        return None;
    }
    let value = js_sys::Number::from(JsValue::from_str(text)).value_of();
    value.is_finite().then_some(value)
}

/// A number as JavaScript prints it (`3`, `0.5`).
pub fn number_text(value: f64) -> String {
    js_sys::Number::from(value)
        .to_string_with_radix(10)
        .map(String::from)
        .unwrap_or_default()
}

/// Rounded to a whole number, for durations shown in ms or s.
pub fn whole(value: f64) -> i64 {
    value.round() as i64
}
