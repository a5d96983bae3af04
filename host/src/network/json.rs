//! Lenient JSON access for OpenAPI responses.

use serde_json::Value;

/// A field as a string: strings as is, numbers and bools formatted, anything else empty.
pub fn s(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// Follows a path of object keys.
pub fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, k| cur.get(*k))
}

/// The array at `path`, or an empty slice. Accepts the XML-derived `{"Vpc": [..]}` wrappers by
/// letting the caller spell the full path.
pub fn arr<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    match at(v, path) {
        Some(Value::Array(a)) => a,
        _ => &[],
    }
}

/// A list of strings at `path` (strings or numbers).
pub fn strs(v: &Value, path: &[&str]) -> Vec<String> {
    arr(v, path)
        .iter()
        .filter_map(|x| match x {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect()
}

/// The id field of a create response, as a string (DataWorks ids are numbers).
pub fn id(v: &Value, key: &str) -> Option<String> {
    let x = s(v, key);
    (!x.is_empty()).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_as_string_or_number() {
        let v = json!({"Id": 1001, "VpcId": "vpc-1", "X": null});
        assert_eq!(s(&v, "Id"), "1001");
        assert_eq!(s(&v, "VpcId"), "vpc-1");
        assert_eq!(s(&v, "X"), "");
        assert_eq!(id(&v, "Missing"), None);
        assert_eq!(
            strs(&json!({"A": {"B": ["x", 2]}}), &["A", "B"]),
            ["x", "2"]
        );
        assert!(arr(&v, &["Nope", "Nope"]).is_empty());
    }
}
