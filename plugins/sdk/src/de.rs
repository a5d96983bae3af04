//! Lenient serde helpers for OpenAPI responses, which are not always consistent about types
//! (a port is `"3306"` in one product and `3306` in another; a field may be `null`).
//!
//! Use with `#[serde(default, deserialize_with = "dwlink_plugin_sdk::de::string")]`.

use serde::{Deserialize, Deserializer};

/// A string from a JSON string, number or bool; `null` becomes empty.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        _ => String::new(),
    })
}

/// A list that may be absent or `null`: both become empty.
pub fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Parses a TCP port written as a string or a number (after [`string`]).
pub fn port(text: &str) -> Option<u16> {
    text.trim().parse().ok().filter(|p| *p != 0)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "super::string")]
        port: String,
        #[serde(default, deserialize_with = "super::list")]
        items: Vec<u8>,
    }

    #[test]
    fn accepts_strings_numbers_and_nulls() {
        let a: T = serde_json::from_str(r#"{"port":"3306","items":null}"#).unwrap();
        let b: T = serde_json::from_str(r#"{"port":3717}"#).unwrap();
        assert_eq!((a.port.as_str(), a.items.len()), ("3306", 0));
        assert_eq!(super::port(&b.port), Some(3717));
        assert_eq!(super::port("x"), None);
    }
}
