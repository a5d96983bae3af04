//! Deterministic `ClientToken`s.
//!
//! A create call carries `ClientToken = client_token(link_id, step)`: the same link and step
//! always give the same token, so a retry after a lost response, or a resumed run, asks the
//! cloud for the same resource instead of a second one. The token is `dw` + the first 62 hex
//! digits of SHA-256(`dwlink` NUL link_id NUL step): 64 ASCII characters, the OpenAPI limit.

use sha2::{Digest, Sha256};

pub fn client_token(link_id: &str, step: &str) -> String {
    let mut h = Sha256::new();
    for part in ["dwlink", link_id, step] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let hex = hex::encode(h.finalize());
    format!("dw{}", &hex[..62])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_distinct_and_short() {
        let t = client_token("link-1", "peering.create");
        assert_eq!(t, client_token("link-1", "peering.create"));
        assert_ne!(t, client_token("link-1", "peering.accept"));
        assert_ne!(t, client_token("link-2", "peering.create"));
        // The separator keeps ("ab","c") and ("a","bc") apart.
        assert_ne!(client_token("ab", "c"), client_token("a", "bc"));
        assert_eq!(t.len(), 64);
        assert!(t.is_ascii());
    }
}
