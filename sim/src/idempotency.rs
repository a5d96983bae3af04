//! ClientToken idempotency: the same token with the same parameters returns the same resource;
//! the same token with other parameters is `IdempotentParameterMismatch`.

use dwlink_acs::Params;
use std::collections::HashMap;

/// Parameters that are about the transport, not the request (V1 puts them among the params).
const NOT_SEMANTIC: &[&str] = &[
    "ClientToken",
    "AccessKeyId",
    "Action",
    "Version",
    "Format",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "SignatureType",
    "Timestamp",
    "SecurityToken",
];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    params: Vec<(String, String)>,
    result: String,
}

/// Tokens seen, per (account, action, token).
#[derive(Debug, Default)]
pub struct ClientTokens {
    seen: HashMap<(String, String, String), Entry>,
}

/// What a token lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCheck {
    /// Not seen before: perform the request and [`ClientTokens::remember`] its result.
    Fresh,
    /// Seen with the same parameters: answer with this earlier result (a resource id).
    Replay(String),
    /// Seen with other parameters.
    Mismatch,
}

impl ClientTokens {
    pub fn check(&self, account: &str, action: &str, token: &str, params: &Params) -> TokenCheck {
        match self
            .seen
            .get(&(account.into(), action.into(), token.into()))
        {
            None => TokenCheck::Fresh,
            Some(e) if e.params == fingerprint(params) => TokenCheck::Replay(e.result.clone()),
            Some(_) => TokenCheck::Mismatch,
        }
    }

    pub fn remember(
        &mut self,
        account: &str,
        action: &str,
        token: &str,
        params: &Params,
        result: &str,
    ) {
        self.seen.insert(
            (account.into(), action.into(), token.into()),
            Entry {
                params: fingerprint(params),
                result: result.into(),
            },
        );
    }
}

fn fingerprint(params: &Params) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| !NOT_SEMANTIC.contains(k))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_token_same_params_replays_other_params_mismatch() {
        let mut t = ClientTokens::default();
        let p = Params::new().set("VpcId", "vpc-1").set("ClientToken", "t1");
        assert_eq!(t.check("A", "CreateVSwitch", "t1", &p), TokenCheck::Fresh);
        t.remember("A", "CreateVSwitch", "t1", &p, "vsw-1");
        // Transport parameters (V1 nonce, timestamp) do not count.
        let again = p
            .clone()
            .set("SignatureNonce", "other")
            .set("Timestamp", "x");
        assert_eq!(
            t.check("A", "CreateVSwitch", "t1", &again),
            TokenCheck::Replay("vsw-1".into())
        );
        let other = p.clone().set("VpcId", "vpc-2");
        assert_eq!(
            t.check("A", "CreateVSwitch", "t1", &other),
            TokenCheck::Mismatch
        );
        // Tokens are scoped by account and action.
        assert_eq!(
            t.check("B", "CreateVSwitch", "t1", &other),
            TokenCheck::Fresh
        );
        assert_eq!(
            t.check("A", "CreateRouteEntry", "t1", &other),
            TokenCheck::Fresh
        );
    }
}
