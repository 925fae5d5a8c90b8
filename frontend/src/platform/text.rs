//! Text and number conversions done by the browser's own JavaScript built-ins. The Rust
//! equivalents (Unicode case tables, the float parser and the float formatter) would add tens of
//! kilobytes to the WebAssembly download for the same result.

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
    #[cfg(target_arch = "wasm32")]
    let value = js_sys::Number::from(wasm_bindgen::JsValue::from_str(text)).value_of();
    // Natively (the unit tests), Rust's parser: it agrees with `Number()` on what passed above.
    #[cfg(not(target_arch = "wasm32"))]
    let value = text.parse::<f64>().unwrap_or(f64::NAN);
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

/// A duration for the logs: `0.42 ms` and `3.4 ms` below 10 ms (loopback exchanges take well
/// under one), whole milliseconds up to a second, then seconds.
pub fn duration_text(ms: f64) -> String {
    let fixed = |value: f64, digits: u8| {
        js_sys::Number::from(value)
            .to_fixed(digits)
            .map(String::from)
            .unwrap_or_default()
    };
    if ms < 0.01 {
        "< 0.01 ms".into()
    } else if ms < 1.0 {
        format!("{} ms", fixed(ms, 2))
    } else if ms < 10.0 {
        format!("{} ms", fixed(ms, 1))
    } else if ms < 1000.0 {
        format!("{} ms", whole(ms))
    } else {
        format!("{} s", fixed(ms / 1000.0, 2))
    }
}
