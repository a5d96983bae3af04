//! A small signed OpenAPI client for the simulator's HTTP tests (V3 and V1), built on the same
//! `dwlink_acs` signing code the host uses.
#![allow(dead_code)]

use dwlink_acs::{encode::form_encode, v1, v3};
use dwlink_sim::{SimConfig, SimHandle, Simulator, Timing};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub async fn start(timing: Timing) -> SimHandle {
    start_config(SimConfig {
        timing,
        ..SimConfig::default()
    })
    .await
}

/// Starts a simulator with a full configuration (time scale, faults, ...).
pub async fn start_config(config: SimConfig) -> SimHandle {
    install_crypto();
    Simulator::start(config).await.expect("simulator starts")
}

/// reqwest is built without a crypto provider: install one before building a client.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Reads a status until it is `want` (at most 400 reads, 25 ms apart) and returns when it was
/// first seen; panics with the last status seen otherwise.
pub async fn wait_for_status<F, Fut>(want: &str, mut read: F) -> Instant
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let mut last = String::new();
    for _ in 0..400 {
        last = read().await;
        if last == want {
            return Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the status is still {last:?}, not {want:?}, after 400 reads");
}

static NONCE: AtomicU64 = AtomicU64::new(1);

pub fn nonce() -> String {
    format!(
        "{:032x}",
        NONCE.fetch_add(1, Ordering::Relaxed) + (std::process::id() as u64) * 1_000_000
    )
}

pub fn now_iso() -> String {
    iso_from_now(0)
}

/// The wall clock shifted by `seconds` (negative: in the past), as `yyyy-MM-ddTHH:mm:ssZ`.
pub fn iso_from_now(seconds: i64) -> String {
    jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() + seconds)
        .expect("a representable time")
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[derive(Clone)]
pub struct Client {
    pub endpoint: String,
    pub host: String,
    pub key_id: String,
    pub secret: String,
    pub token: Option<String>,
    pub http: reqwest::Client,
}

/// A response: status and JSON body.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.body["Code"].as_str().unwrap_or("")
    }
    #[track_caller]
    pub fn ok(self) -> Value {
        assert_eq!(self.status, 200, "expected success, got {}", self.body);
        self.body
    }
    #[track_caller]
    pub fn err(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "body: {}",
            self.body
        );
        assert!(
            self.body["RequestId"]
                .as_str()
                .is_some_and(|r| !r.is_empty())
        );
        assert!(
            self.body["Recommend"]
                .as_str()
                .is_some_and(|r| r.contains(code))
        );
        assert!(self.body["HostId"].is_string());
    }
}

/// How to sign and where to put the parameters.
#[derive(Clone, Debug, Default)]
pub struct Opts {
    pub form: bool,
    pub date: Option<String>,
    pub nonce: Option<String>,
    pub tamper_signature: bool,
    pub get: bool,
    /// V3: a header sent with the request but left out of the signature (and of SignedHeaders).
    pub unsigned_header: Option<(String, String)>,
}

fn pairs(params: &[(&str, &str)]) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Client {
    pub fn new(sim: &SimHandle, account: &str) -> Self {
        let a = sim.account(account).expect("account in scenario");
        Client {
            endpoint: sim.endpoint(),
            host: sim.addr().to_string(),
            key_id: a.access_key_id,
            secret: a.access_key_secret,
            token: None,
            http: reqwest::Client::new(),
        }
    }

    pub fn with_credentials(&self, key_id: &str, secret: &str, token: Option<&str>) -> Self {
        Client {
            key_id: key_id.into(),
            secret: secret.into(),
            token: token.map(Into::into),
            ..self.clone()
        }
    }

    pub async fn call(&self, version: &str, action: &str, params: &[(&str, &str)]) -> Resp {
        self.call_with(version, action, params, &Opts::default())
            .await
    }

    /// V3 (`ACS3-HMAC-SHA256`).
    pub async fn call_with(
        &self,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
        o: &Opts,
    ) -> Resp {
        self.try_call_with(version, action, params, o)
            .await
            .expect("request reaches the simulator")
    }

    /// V3, returning transport errors (connection closed, ...) instead of panicking.
    pub async fn try_call_with(
        &self,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
        o: &Opts,
    ) -> Result<Resp, reqwest::Error> {
        let params = pairs(params);
        let (query, body) = if o.form {
            (Vec::new(), form_encode(&params))
        } else {
            (params, String::new())
        };
        let body_hash = dwlink_acs::sha256_hex(body.as_bytes());
        let mut headers = vec![
            ("host".to_string(), self.host.clone()),
            ("x-acs-action".to_string(), action.to_string()),
            ("x-acs-version".to_string(), version.to_string()),
            (
                "x-acs-date".to_string(),
                o.date.clone().unwrap_or_else(now_iso),
            ),
            (
                "x-acs-signature-nonce".to_string(),
                o.nonce.clone().unwrap_or_else(nonce),
            ),
            ("x-acs-content-sha256".to_string(), body_hash.clone()),
        ];
        if o.form {
            headers.push((
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
        }
        if let Some(t) = &self.token {
            headers.push(("x-acs-security-token".into(), t.clone()));
        }
        let method = if o.get { "GET" } else { "POST" };
        let signed = v3::sign(
            &self.secret,
            &v3::SignInput {
                method,
                query: &query,
                headers: &headers,
                payload_sha256: &body_hash,
            },
        );
        let mut signed = signed;
        if o.tamper_signature {
            signed.signature = signed.signature.replace(|c: char| c != '0', "0");
        }
        let mut url = format!("{}/", self.endpoint);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&form_encode(&query));
        }
        let mut req = if o.get {
            self.http.get(url)
        } else {
            self.http.post(url)
        };
        for (k, v) in &headers {
            if k != "host" {
                req = req.header(k, v);
            }
        }
        if let Some((k, v)) = &o.unsigned_header {
            req = req.header(k, v);
        }
        req = req.header("authorization", v3::authorization(&self.key_id, &signed));
        if o.form {
            req = req.body(body);
        }
        try_send(req).await
    }

    /// V1 (HMAC-SHA1), every parameter in the query, like the SDK's `signature_algorithm='v2'`.
    pub async fn call_v1(
        &self,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
        timestamp: Option<&str>,
    ) -> Resp {
        let o = Opts {
            date: timestamp.map(String::from),
            ..Opts::default()
        };
        self.call_v1_with(version, action, params, &o).await
    }

    /// V1 with `Opts`: `date` is the `Timestamp`, `nonce` the `SignatureNonce` (other fields unused).
    pub async fn call_v1_with(
        &self,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
        o: &Opts,
    ) -> Resp {
        let mut all = pairs(params);
        let ts = o.date.clone().unwrap_or_else(now_iso);
        for (k, v) in [
            ("Action", action.to_string()),
            ("Version", version.to_string()),
            ("Format", "json".to_string()),
            ("AccessKeyId", self.key_id.clone()),
            ("SignatureMethod", "HMAC-SHA1".to_string()),
            ("SignatureVersion", "1.0".to_string()),
            ("SignatureNonce", o.nonce.clone().unwrap_or_else(nonce)),
            ("Timestamp", ts),
        ] {
            all.push((k.to_string(), v));
        }
        if let Some(t) = &self.token {
            all.push(("SecurityToken".into(), t.clone()));
        }
        let sts = v1::string_to_sign("POST", &all);
        all.push(("Signature".into(), v1::signature(&self.secret, &sts)));
        // Python's urlencode: `+` for a space.
        let query = form_encode(&all).replace("%20", "+");
        try_send(self.http.post(format!("{}/?{query}", self.endpoint)))
            .await
            .expect("request reaches the simulator")
    }
}

async fn try_send(req: reqwest::RequestBuilder) -> Result<Resp, reqwest::Error> {
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let text = resp.text().await?;
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok(Resp { status, body })
}
