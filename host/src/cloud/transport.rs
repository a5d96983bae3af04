//! One signed HTTP attempt: builds the RPC request with signature V3 (`ACS3-HMAC-SHA256`,
//! via `dwlink_acs`), sends it, and turns the answer into JSON or a [`Failure`].
//!
//! POST sends every parameter in an `application/x-www-form-urlencoded` body; GET (the
//! DataWorks `List*`/`Get*` APIs) sends them in the query string. Nothing here logs a
//! parameter value, a header value or a body: they may hold secrets or database passwords.

use super::Method;
use super::credentials::Credentials;
use super::endpoints::Endpoint;
use super::retry::{CODE_RESPONSE, CODE_TRANSPORT};
use dwlink_acs::encode::form_encode;
use dwlink_acs::{sha256_hex, v3};

/// Why an attempt failed, before the account/region/product/action context is added.
#[derive(Debug)]
pub(crate) struct Failure {
    pub http_status: u16,
    pub code: String,
    pub message: String,
    pub request_id: String,
    pub recommend: String,
}

impl Failure {
    pub fn new(code: &str, message: String) -> Self {
        Failure {
            http_status: 0,
            code: code.into(),
            message,
            request_id: String::new(),
            recommend: String::new(),
        }
    }
}

/// What one attempt sends.
pub(crate) struct Request<'a> {
    pub endpoint: &'a Endpoint,
    pub method: Method,
    pub action: &'a str,
    pub version: &'a str,
    pub params: &'a [(String, String)],
    pub credentials: &'a Credentials,
}

/// 32 lower-case hex characters, unique per request (the server rejects reused nonces).
fn nonce() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

pub(crate) async fn send(
    http: &reqwest::Client,
    req: &Request<'_>,
) -> Result<serde_json::Value, Failure> {
    let (method, query, body): (&str, &[(String, String)], String) = match req.method {
        Method::Post => ("POST", &[], form_encode(req.params)),
        Method::Get => ("GET", req.params, String::new()),
    };
    let body_sha256 = sha256_hex(body.as_bytes());
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), req.endpoint.host.clone()),
        ("x-acs-action".into(), req.action.into()),
        ("x-acs-version".into(), req.version.into()),
        (
            "x-acs-date".into(),
            jiff::Timestamp::now()
                .strftime("%Y-%m-%dT%H:%M:%SZ")
                .to_string(),
        ),
        ("x-acs-signature-nonce".into(), nonce()),
        ("x-acs-content-sha256".into(), body_sha256.clone()),
    ];
    if !body.is_empty() {
        headers.push((
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
    }
    if let Some(token) = &req.credentials.security_token {
        headers.push(("x-acs-security-token".into(), token.expose().into()));
    }
    let signed = v3::sign(
        req.credentials.access_key_secret.expose(),
        &v3::SignInput {
            method,
            query,
            headers: &headers,
            payload_sha256: &body_sha256,
        },
    );
    let authorization = v3::authorization(&req.credentials.access_key_id, &signed);

    let mut url = format!("{}/", req.endpoint.base_url);
    if !query.is_empty() {
        url.push('?');
        url.push_str(&form_encode(query));
    }
    let mut builder = match req.method {
        Method::Post => http.post(&url).body(body),
        Method::Get => http.get(&url),
    };
    for (name, value) in &headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder = builder
        .header("authorization", authorization)
        .header("accept", "application/json");

    let response = builder.send().await.map_err(transport_failure)?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(transport_failure)?;
    parse_response(status, &bytes)
}

fn transport_failure(err: reqwest::Error) -> Failure {
    let what = if err.is_connect() {
        "could not connect"
    } else if err.is_timeout() {
        "timed out"
    } else {
        "request failed"
    };
    // The error chain names the cause (refused, reset, DNS, TLS) without the URL's query.
    let mut detail = String::new();
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        detail = format!("{detail}: {s}");
        source = s.source();
    }
    Failure::new(
        CODE_TRANSPORT,
        format!("{what}{detail}; check the network and the endpoint"),
    )
}

/// A field of an error body, in either of the casings the cloud uses.
fn field(v: &serde_json::Value, upper: &str, lower: &str) -> String {
    v.get(upper)
        .or_else(|| v.get(lower))
        .map(|f| match f {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_default()
}

pub(crate) fn parse_response(status: u16, body: &[u8]) -> Result<serde_json::Value, Failure> {
    let json = serde_json::from_slice::<serde_json::Value>(body);
    if (200..300).contains(&status) {
        return json.map_err(|e| Failure {
            http_status: status,
            ..Failure::new(
                CODE_RESPONSE,
                format!("the response body is not JSON ({e}); is the endpoint an Alibaba Cloud OpenAPI endpoint?"),
            )
        });
    }
    match json {
        Ok(v) if v.is_object() && (v.get("Code").is_some() || v.get("code").is_some()) => {
            Err(Failure {
                http_status: status,
                code: field(&v, "Code", "code"),
                message: field(&v, "Message", "message"),
                request_id: field(&v, "RequestId", "requestId"),
                recommend: field(&v, "Recommend", "recommend"),
            })
        }
        _ => {
            let text = String::from_utf8_lossy(body);
            let excerpt: String = text.chars().take(200).collect();
            Err(Failure {
                http_status: status,
                ..Failure::new(
                    &format!("HTTP{status}"),
                    format!("HTTP status {status} without an OpenAPI error body: {excerpt}"),
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_error_bodies() {
        let f = parse_response(
            400,
            br#"{"RequestId":"r-1","Code":"InvalidParameter","Message":"bad","Recommend":"https://x"}"#,
        )
        .unwrap_err();
        assert_eq!(
            (
                f.http_status,
                f.code.as_str(),
                f.message.as_str(),
                f.request_id.as_str(),
                f.recommend.as_str()
            ),
            (400, "InvalidParameter", "bad", "r-1", "https://x")
        );
        let f = parse_response(503, b"<html>busy</html>").unwrap_err();
        assert_eq!((f.http_status, f.code.as_str()), (503, "HTTP503"));
        let f = parse_response(404, br#"{"code":"NotFound","message":"m","requestId":"r"}"#)
            .unwrap_err();
        assert_eq!((f.code.as_str(), f.request_id.as_str()), ("NotFound", "r"));
        assert_eq!(parse_response(200, br#"{"A":1}"#).unwrap()["A"], 1);
        assert_eq!(
            parse_response(200, b"nope").unwrap_err().code,
            CODE_RESPONSE
        );
    }
}
