//! Signature V3, `ACS3-HMAC-SHA256`, for RPC-style APIs (canonical URI `/`).
//!
//! The client signs the headers it chooses (at least `host`, `x-acs-*` and `content-type`);
//! the server rebuilds the canonical request from the `SignedHeaders` list the request names,
//! because the official Python SDK signs every header it sends.

use crate::encode::percent_encode;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";
/// Hex SHA-256 of an empty body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// What a V3 signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SignInput<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// Query parameters, decoded (any order).
    pub query: &'a [(String, String)],
    /// The headers to sign (any case, any order); values are trimmed.
    pub headers: &'a [(String, String)],
    /// Hex SHA-256 of the body, as sent in `x-acs-content-sha256`.
    pub payload_sha256: &'a str,
}

/// The intermediate and final values of a V3 signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub canonical_request: String,
    /// Lower-case header names, sorted, `;`-joined.
    pub signed_headers: String,
    pub string_to_sign: String,
    /// Lower-case hex HMAC-SHA256.
    pub signature: String,
}

/// `k=v&...` sorted by name, names and values RFC 3986-encoded; empty without parameters.
pub fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Builds the canonical request and computes the signature with `secret`.
pub fn sign(secret: &str, input: &SignInput<'_>) -> Signed {
    let mut headers: Vec<(String, String)> = input
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed_headers = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{}\n/\n{}\n{}\n{}\n{}",
        input.method.to_ascii_uppercase(),
        canonical_query(input.query),
        canonical_headers,
        signed_headers,
        input.payload_sha256
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{}",
        crate::sha256_hex(canonical_request.as_bytes())
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(string_to_sign.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    Signed {
        canonical_request,
        signed_headers,
        string_to_sign,
        signature,
    }
}

/// The `Authorization` header value.
pub fn authorization(access_key_id: &str, signed: &Signed) -> String {
    format!(
        "{ALGORITHM} Credential={access_key_id},SignedHeaders={},Signature={}",
        signed.signed_headers, signed.signature
    )
}

/// A parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    /// Lower-case header names in the order given.
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses `ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..`.
/// The error says which part is missing or malformed.
pub fn parse_authorization(value: &str) -> Result<Authorization, String> {
    let rest = value
        .trim()
        .strip_prefix(ALGORITHM)
        .ok_or_else(|| format!("the Authorization header must start with {ALGORITHM}"))?
        .trim_start();
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| format!("malformed Authorization part {:?}", part.trim()))?;
        match k {
            "Credential" => credential = Some(v.to_string()),
            "SignedHeaders" => {
                signed_headers = Some(v.split(';').map(|h| h.to_ascii_lowercase()).collect())
            }
            "Signature" => signature = Some(v.to_string()),
            _ => {}
        }
    }
    let auth = Authorization {
        access_key_id: credential.ok_or("the Authorization header has no Credential")?,
        signed_headers: signed_headers.ok_or("the Authorization header has no SignedHeaders")?,
        signature: signature.ok_or("the Authorization header has no Signature")?,
    };
    if auth.access_key_id.is_empty() || auth.signature.is_empty() {
        return Err("the Authorization header has an empty Credential or Signature".into());
    }
    Ok(auth)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The worked example published with the V3 signature documentation.
    #[test]
    fn published_vector() {
        let query = s(&[
            (
                "ImageId",
                "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
            ),
            ("RegionId", "cn-shanghai"),
        ]);
        let headers = s(&[
            ("host", "ecs.cn-shanghai.aliyuncs.com"),
            ("x-acs-action", "RunInstances"),
            ("x-acs-version", "2014-05-26"),
            ("x-acs-date", "2023-10-26T10:22:32Z"),
            ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
            ("x-acs-content-sha256", EMPTY_SHA256),
        ]);
        let signed = sign(
            "YourAccessKeySecret",
            &SignInput {
                method: "POST",
                query: &query,
                headers: &headers,
                payload_sha256: EMPTY_SHA256,
            },
        );
        assert_eq!(
            signed.signed_headers,
            "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
        );
        assert_eq!(
            crate::sha256_hex(signed.canonical_request.as_bytes()),
            "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        assert_eq!(
            signed.signature,
            "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
        let header = authorization("YourAccessKeyId", &signed);
        let parsed = parse_authorization(&header).unwrap();
        assert_eq!(parsed.access_key_id, "YourAccessKeyId");
        assert_eq!(parsed.signature, signed.signature);
        assert_eq!(parsed.signed_headers.len(), 6);
    }

    /// Derived vector: form body and an STS security token (DataWorks CreateRoute).
    #[test]
    fn derived_vector_form_body_and_sts() {
        let body = crate::encode::form_encode(&s(&[
            ("DestinationCidr", "172.16.0.0/24"),
            ("NetworkId", "1001"),
            (
                "ResourceGroupId",
                "Serverless_res_group_524257424564736_6831777003XXXXX",
            ),
        ]));
        let body_hash = crate::sha256_hex(body.as_bytes());
        assert_eq!(
            body_hash,
            "d3351cd8b18d490277beeb8dcd5ef1e063e8a468c176cb9c03dacc3da0475968"
        );
        let headers = s(&[
            ("host", "dataworks.cn-shanghai.aliyuncs.com"),
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-acs-accesskey-id", "STS.TestKeyId"),
            ("x-acs-action", "CreateRoute"),
            ("x-acs-version", "2024-05-18"),
            ("x-acs-date", "2024-06-01T00:00:00Z"),
            ("x-acs-security-token", "TEST-STS-TOKEN"),
            ("x-acs-signature-nonce", "0123456789abcdef0123456789abcdef"),
            ("x-acs-content-sha256", &body_hash),
        ]);
        let signed = sign(
            "TestSecret",
            &SignInput {
                method: "POST",
                query: &[],
                headers: &headers,
                payload_sha256: &body_hash,
            },
        );
        assert_eq!(
            crate::sha256_hex(signed.canonical_request.as_bytes()),
            "e42cfd488ee3761cc024c845e61781daf5b999e09860810fa5a336f1bf72e949"
        );
        assert_eq!(
            signed.signature,
            "2fdc8a001894eb2820a91ad9800c3d95b22714a95d1680d22b808f9051b7bda1"
        );
    }

    /// Derived vector: RFC 3986 encoding of spaces, `*`, `/`, `~` and UTF-8 in the query.
    #[test]
    fn derived_vector_encoding() {
        let query = s(&[
            ("RegionId", "cn-hangzhou"),
            ("VpcName", "a b*c/d~e"),
            ("Description", "中文"),
        ]);
        assert_eq!(
            canonical_query(&query),
            "Description=%E4%B8%AD%E6%96%87&RegionId=cn-hangzhou&VpcName=a%20b%2Ac%2Fd~e"
        );
        let headers = s(&[
            ("host", "vpc.aliyuncs.com"),
            ("x-acs-action", "DescribeVpcs"),
            ("x-acs-version", "2016-04-28"),
            ("x-acs-date", "2024-06-01T00:00:00Z"),
            ("x-acs-signature-nonce", "n1"),
            ("x-acs-content-sha256", EMPTY_SHA256),
        ]);
        let signed = sign(
            "TestSecret",
            &SignInput {
                method: "POST",
                query: &query,
                headers: &headers,
                payload_sha256: EMPTY_SHA256,
            },
        );
        assert_eq!(
            signed.signature,
            "a216d8bb91544a71a6435a4f70b225281c9a98d925d782f9f68f0ce61c668a15"
        );
    }

    #[test]
    fn header_names_and_values_are_normalised() {
        let a = sign(
            "k",
            &SignInput {
                method: "post",
                query: &[],
                headers: &s(&[("X-Acs-Action", "  A "), ("Host", "h")]),
                payload_sha256: EMPTY_SHA256,
            },
        );
        let b = sign(
            "k",
            &SignInput {
                method: "POST",
                query: &[],
                headers: &s(&[("host", "h"), ("x-acs-action", "A")]),
                payload_sha256: EMPTY_SHA256,
            },
        );
        assert_eq!(a, b);
    }

    #[test]
    fn malformed_authorization_is_explained() {
        assert!(
            parse_authorization("HMAC foo")
                .unwrap_err()
                .contains("must start")
        );
        assert!(
            parse_authorization("ACS3-HMAC-SHA256 Credential=a,Signature=b")
                .unwrap_err()
                .contains("SignedHeaders")
        );
        assert!(parse_authorization("ACS3-HMAC-SHA256 Credential").is_err());
    }
}
