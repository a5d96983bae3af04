//! Request authentication: V3 `ACS3-HMAC-SHA256` and V1 HMAC-SHA1 signatures (rebuilt with
//! `dwlink_acs`, the code the client signs with), timestamps, nonces, access keys and STS
//! security tokens. An access key acts only in its own account; STS credentials act in the
//! assumed role's account.

use crate::error::{ApiError, ApiResult};
use crate::state::{Caller, Principal, World};
use dwlink_acs::{Params, v1, v3};
use std::collections::HashMap;

/// Requests older or newer than this are refused.
pub const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// The request as it arrived.
pub struct Incoming<'a> {
    pub method: &'a str,
    /// Header names lower-case.
    pub headers: &'a [(String, String)],
    /// Decoded query pairs.
    pub query: &'a [(String, String)],
    pub body: &'a [u8],
    /// Query and body merged.
    pub params: &'a Params,
}

impl Incoming<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Nonces seen in the last 2 × 15 minutes, per access key.
#[derive(Debug, Default)]
pub struct Nonces {
    seen: HashMap<(String, String), i64>,
}

impl Nonces {
    /// Records a nonce; false if it was already used.
    fn record(&mut self, key: &str, nonce: &str, now: i64) -> bool {
        if self.seen.len() > 10_000 {
            self.seen.retain(|_, t| now - *t <= 2 * MAX_SKEW_SECONDS);
        }
        self.seen
            .insert((key.to_string(), nonce.to_string()), now)
            .is_none()
    }
}

fn incomplete(msg: impl Into<String>) -> ApiError {
    ApiError::bad("IncompleteSignature", msg)
}

/// Authenticates a request; `now` is the wall clock in seconds since the epoch.
pub fn authenticate(world: &mut World, req: &Incoming<'_>, now: i64) -> ApiResult<Caller> {
    if let Some(auth) = req.header("authorization") {
        verify_v3(world, req, auth, now)
    } else if req.params.contains("Signature") {
        verify_v1(world, req, now)
    } else {
        Err(incomplete(
            "The request is not signed: send an Authorization header (ACS3-HMAC-SHA256) or the V1 Signature parameters.",
        ))
    }
}

fn verify_v3(world: &mut World, req: &Incoming<'_>, auth: &str, now: i64) -> ApiResult<Caller> {
    let parsed = v3::parse_authorization(auth).map_err(incomplete)?;
    let date = req
        .header("x-acs-date")
        .ok_or_else(|| incomplete("The x-acs-date header is missing."))?;
    check_timestamp(date, now)?;
    let nonce = req
        .header("x-acs-signature-nonce")
        .ok_or_else(|| incomplete("The x-acs-signature-nonce header is missing."))?;
    // Every x-acs-*, host and content-type header present must be covered by the signature
    // (the documented rule; an unsigned content-type would let the body's parsing be changed).
    for (name, _) in req.headers {
        if (name == "host" || name == "content-type" || name.starts_with("x-acs-"))
            && !parsed.signed_headers.iter().any(|h| h == name)
        {
            return Err(incomplete(format!(
                "The header {name} is present but not in SignedHeaders."
            )));
        }
    }
    let mut signed = Vec::with_capacity(parsed.signed_headers.len());
    for name in &parsed.signed_headers {
        let value = req.header(name).ok_or_else(|| {
            incomplete(format!(
                "SignedHeaders names {name}, which the request does not carry."
            ))
        })?;
        signed.push((name.clone(), value.to_string()));
    }
    let body_hash = dwlink_acs::sha256_hex(req.body);
    let declared_hash = req
        .header("x-acs-content-sha256")
        .unwrap_or(v3::EMPTY_SHA256);
    let token = req.header("x-acs-security-token");
    let (secret, caller) = resolve_key(world, &parsed.access_key_id, now)?;
    let expected = v3::sign(
        &secret,
        &v3::SignInput {
            method: req.method,
            query: req.query,
            headers: &signed,
            payload_sha256: declared_hash,
        },
    );
    if !constant_eq(&expected.signature, &parsed.signature) {
        return Err(ApiError::bad(
            "SignatureDoesNotMatch",
            format!(
                "Specified signature is not matched with our calculation. server string to sign is:{}",
                expected.string_to_sign
            ),
        ));
    }
    if !declared_hash.eq_ignore_ascii_case(&body_hash) {
        return Err(ApiError::bad(
            "SignatureDoesNotMatch",
            "The x-acs-content-sha256 header does not match the SHA-256 of the request body.",
        ));
    }
    check_token(world, &caller, token)?;
    if !world.nonces.record(&parsed.access_key_id, nonce, now) {
        return Err(nonce_used());
    }
    Ok(caller)
}

fn verify_v1(world: &mut World, req: &Incoming<'_>, now: i64) -> ApiResult<Caller> {
    let p = req.params;
    let need = |name: &str| {
        p.get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| incomplete(format!("The V1 signature parameter {name} is missing.")))
    };
    let key = need("AccessKeyId")?;
    let signature = need("Signature")?;
    let method = need("SignatureMethod")?;
    if method != "HMAC-SHA1" {
        return Err(ApiError::bad(
            "InvalidSignatureMethod",
            format!("SignatureMethod {method:?} is not supported; use HMAC-SHA1."),
        ));
    }
    let version = need("SignatureVersion")?;
    if version != "1.0" {
        return Err(ApiError::bad(
            "InvalidSignatureVersion",
            format!("SignatureVersion {version:?} is not supported; use 1.0."),
        ));
    }
    let nonce = need("SignatureNonce")?;
    check_timestamp(need("Timestamp")?, now)?;
    let (secret, caller) = resolve_key(world, key, now)?;
    let sts = v1::string_to_sign(req.method, &p.0);
    if !constant_eq(&v1::signature(&secret, &sts), signature) {
        return Err(ApiError::bad(
            "SignatureDoesNotMatch",
            format!(
                "Specified signature is not matched with our calculation. server string to sign is:{sts}"
            ),
        ));
    }
    check_token(world, &caller, p.get("SecurityToken"))?;
    if !world.nonces.record(key, nonce, now) {
        return Err(nonce_used());
    }
    Ok(caller)
}

fn nonce_used() -> ApiError {
    ApiError::bad(
        "SignatureNonceUsed",
        "The request signature nonce has been used.",
    )
}

fn check_timestamp(value: &str, now: i64) -> ApiResult<()> {
    let ts: jiff::Timestamp = value.parse().map_err(|_| {
        ApiError::bad(
            "InvalidTimeStamp.Format",
            format!("Specified time stamp {value:?} is not in the format yyyy-MM-ddTHH:mm:ssZ."),
        )
    })?;
    if (now - ts.as_second()).abs() > MAX_SKEW_SECONDS {
        return Err(ApiError::bad(
            "InvalidTimeStamp.Expired",
            format!(
                "Specified time stamp or date value is expired: {value} is more than 15 minutes from the server time."
            ),
        ));
    }
    Ok(())
}

/// The secret and the identity behind an access key id.
fn resolve_key(world: &World, key: &str, now: i64) -> ApiResult<(String, Caller)> {
    if let Some(a) = world.accounts.iter().find(|a| a.access_key_id == key) {
        return Ok((
            a.access_key_secret.clone(),
            Caller {
                account_uid: a.uid.clone(),
                account_name: a.name.clone(),
                access_key_id: key.to_string(),
                principal: Principal::Account,
            },
        ));
    }
    if let Some(s) = world.sessions.get(key) {
        if s.expires_at <= now {
            return Err(ApiError::bad(
                "InvalidSecurityToken.Expired",
                "Specified SecurityToken is expired.",
            ));
        }
        let name = world
            .account(&s.account_uid)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        return Ok((
            s.access_key_secret.clone(),
            Caller {
                account_uid: s.account_uid.clone(),
                account_name: name,
                access_key_id: key.to_string(),
                principal: Principal::AssumedRole {
                    role_arn: s.role_arn.clone(),
                    role_name: s.role_name.clone(),
                    session_name: s.session_name.clone(),
                    assumed_role_id: s.assumed_role_id.clone(),
                },
            },
        ));
    }
    Err(ApiError::not_found(
        "InvalidAccessKeyId.NotFound",
        "Specified access key is not found.",
    ))
}

/// STS credentials must present their security token.
fn check_token(world: &World, caller: &Caller, token: Option<&str>) -> ApiResult<()> {
    let Some(session) = world.sessions.get(&caller.access_key_id) else {
        return Ok(());
    };
    match token {
        None | Some("") => Err(ApiError::bad(
            "MissingSecurityToken",
            "SecurityToken is mandatory for temporary access keys (STS.*).",
        )),
        Some(t) if constant_eq(t, &session.security_token) => Ok(()),
        Some(_) => Err(ApiError::bad(
            "InvalidSecurityToken.MismatchWithAccessKey",
            "Specified SecurityToken mismatch with the AccessKey.",
        )),
    }
}

/// Compares without an early exit on the first differing byte.
fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
