//! Percent-encoding as the OpenAPI signatures define it (RFC 3986, unreserved characters kept).

/// Encodes `s` per RFC 3986: `A-Z a-z 0-9 - _ . ~` stay, every other UTF-8 byte becomes `%XX`
/// in upper-case hex (so a space is `%20`, `*` is `%2A`, `/` is `%2F`).
pub fn percent_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len() + s.len() / 2);
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        }
    }
    out
}

/// Why a percent-encoded string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed percent-encoding: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

/// Decodes `%XX` escapes. With `plus_is_space`, `+` becomes a space, as in
/// `application/x-www-form-urlencoded` and in the query strings Python's `urlencode` writes.
pub fn percent_decode(s: &str, plus_is_space: bool) -> Result<String, DecodeError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| DecodeError(format!("bad escape at byte {i} of {s:?}")))?;
                out.push(hex);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| DecodeError(format!("{s:?} is not UTF-8 once decoded")))
}

/// Decodes a query string or form body (`a=1&b=x+y`) into its pairs, in order.
/// An empty string gives no pairs; a name without `=` has an empty value.
pub fn form_decode(s: &str) -> Result<Vec<(String, String)>, DecodeError> {
    s.split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            Ok((percent_decode(k, true)?, percent_decode(v, true)?))
        })
        .collect()
}

/// Encodes pairs as a form body or query string, RFC 3986 style (`%20` for a space).
pub fn form_encode(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_reserved_and_utf8_per_rfc3986() {
        assert_eq!(percent_encode("a b*c/d~e"), "a%20b%2Ac%2Fd~e");
        assert_eq!(percent_encode("中文"), "%E4%B8%AD%E6%96%87");
        assert_eq!(percent_encode("A-z_0.9"), "A-z_0.9");
        assert_eq!(percent_encode("172.16.0.0/24"), "172.16.0.0%2F24");
    }

    #[test]
    fn decodes_python_style_plus_and_escapes() {
        assert_eq!(percent_decode("a+b%2Ac", true).unwrap(), "a b*c");
        assert_eq!(percent_decode("a+b", false).unwrap(), "a+b");
        assert_eq!(percent_decode("%E4%B8%AD", true).unwrap(), "中");
        assert!(percent_decode("%G1", true).is_err());
        assert!(percent_decode("%4", true).is_err());
        assert!(percent_decode("%FF", true).is_err());
    }

    #[test]
    fn form_round_trip() {
        let pairs = vec![
            ("DestinationCidr".to_string(), "172.16.0.0/24".to_string()),
            ("Name".to_string(), "a b".to_string()),
            ("Empty".to_string(), String::new()),
        ];
        let encoded = form_encode(&pairs);
        assert_eq!(encoded, "DestinationCidr=172.16.0.0%2F24&Name=a%20b&Empty=");
        assert_eq!(form_decode(&encoded).unwrap(), pairs);
        assert_eq!(form_decode("").unwrap(), vec![]);
        assert_eq!(
            form_decode("flag").unwrap(),
            vec![("flag".to_string(), String::new())]
        );
    }
}
