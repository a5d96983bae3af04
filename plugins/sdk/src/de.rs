//! Lenient serde helpers for OpenAPI responses, which are not always consistent about types
//! (a port is `"3306"` in one product and `3306` in another; a field may be `null`).
//!
//! Use with `#[serde(default, deserialize_with = "dwlink_plugin_sdk::de::string")]`.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

/// A string from a JSON string, number or bool; `null` becomes empty.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(Lenient)
}

/// Visits scalars without building a `serde_json::Value` (smaller plugins).
struct Lenient;

impl<'de> Visitor<'de> for Lenient {
    type Value = String;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a string, number, bool or null")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }
    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }
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
