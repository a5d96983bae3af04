//! The OpenAPI client against a scripted OpenAPI server on 127.0.0.1 that verifies every
//! V3 signature with `dwlink_acs` (rebuilding the canonical request from `SignedHeaders`).

use axum::body::Bytes;
use axum::http::{HeaderMap, Method as HttpMethod, StatusCode, Uri};
use dwlink_acs::{Params, form_decode, sha256_hex, v3};
use dwlink_host::cloud::*;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const B_ID: &str = "LTAI-b-key";
const B_SECRET: &str = "b-secret-Zq8xW3";

/// A scripted reply.
#[derive(Clone)]
enum Reply {
    Json(u16, Value),
    Text(u16, &'static str),
    /// Never answers (an attempt timeout).
    Hang,
}

fn error(status: u16, code: &str) -> Reply {
    Reply::Json(
        status,
        json!({"RequestId": format!("req-{code}"), "Code": code, "Message": format!("scripted {code}"),
               "Recommend": format!("https://api.aliyun.com/troubleshoot?q={code}")}),
    )
}

fn ok() -> Reply {
    Reply::Json(200, json!({"RequestId": "req-ok", "Ok": true}))
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    action: String,
    query: Vec<(String, String)>,
    form: Vec<(String, String)>,
    headers: HashMap<String, String>,
    access_key_id: String,
}

impl Seen {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .chain(&self.form)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    secrets: HashMap<String, String>,
    script: VecDeque<Reply>,
    /// Reply once the script is used up.
    fallback: Option<Reply>,
    seen: Vec<Seen>,
    /// Seconds until the credentials AssumeRole hands out expire.
    sts_lifetime: i64,
    sts_issued: u32,
    /// AssumeRole fails with this code.
    sts_error: Option<String>,
}

#[derive(Clone)]
struct Server {
    url: String,
    state: Arc<Mutex<State>>,
}

impl Server {
    async fn start() -> Server {
        let state = Arc::new(Mutex::new(State {
            sts_lifetime: 3600,
            ..Default::default()
        }));
        state
            .lock()
            .unwrap()
            .secrets
            .insert(B_ID.into(), B_SECRET.into());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let st = state.clone();
        let app = axum::Router::new().fallback(
            move |method: HttpMethod, uri: Uri, headers: HeaderMap, body: Bytes| {
                let st = st.clone();
                async move { handle(st, method, uri, headers, body).await }
            },
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Server { url, state }
    }

    fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.lock().unwrap().script.extend(replies);
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    fn cloud(&self, retry: RetryPolicy) -> Cloud {
        Cloud::new(CloudConfig {
            retry,
            rate_limits: RateLimits {
                default: Rate {
                    per_second: 0.0, // unlimited: these tests are about retries
                    burst: 1,
                },
                read: Rate {
                    per_second: 0.0,
                    burst: 1,
                },
                overrides: Default::default(),
            },
            ..CloudConfig::with_endpoint(Some(self.url.clone()))
        })
        .unwrap()
    }
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(10),
        attempt_timeout: Duration::from_secs(10),
        call_deadline: Duration::from_secs(30),
    }
}

fn reject(status: StatusCode, code: &str, message: String) -> (StatusCode, String) {
    (
        status,
        json!({"RequestId": "req-auth", "Code": code, "Message": message}).to_string(),
    )
}

async fn handle(
    state: Arc<Mutex<State>>,
    method: HttpMethod,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    // --- signature V3 verification, as the real gateway does it ---
    let Some(auth) = header("authorization") else {
        return reject(
            StatusCode::BAD_REQUEST,
            "MissingAuthorization",
            "no Authorization".into(),
        );
    };
    let auth = match v3::parse_authorization(&auth) {
        Ok(a) => a,
        Err(e) => return reject(StatusCode::BAD_REQUEST, "IncompleteSignature", e),
    };
    for required in [
        "host",
        "x-acs-action",
        "x-acs-version",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
    ] {
        if !auth.signed_headers.iter().any(|h| h == required) {
            return reject(
                StatusCode::BAD_REQUEST,
                "IncompleteSignature",
                format!("{required} not signed"),
            );
        }
    }
    for optional in ["content-type", "x-acs-security-token"] {
        if headers.contains_key(optional) && !auth.signed_headers.iter().any(|h| h == optional) {
            return reject(
                StatusCode::BAD_REQUEST,
                "IncompleteSignature",
                format!("{optional} not signed"),
            );
        }
    }
    let payload = sha256_hex(&body);
    if header("x-acs-content-sha256").as_deref() != Some(payload.as_str()) {
        return reject(
            StatusCode::BAD_REQUEST,
            "InvalidContentSha256",
            "body hash".into(),
        );
    }
    let signed: Vec<(String, String)> = auth
        .signed_headers
        .iter()
        .map(|h| (h.clone(), header(h).unwrap_or_default()))
        .collect();
    let query = form_decode(uri.query().unwrap_or("")).unwrap();
    let secret = state
        .lock()
        .unwrap()
        .secrets
        .get(&auth.access_key_id)
        .cloned();
    let Some(secret) = secret else {
        return reject(
            StatusCode::NOT_FOUND,
            "InvalidAccessKeyId.NotFound",
            "unknown key".into(),
        );
    };
    let expect = v3::sign(
        &secret,
        &v3::SignInput {
            method: method.as_str(),
            query: &query,
            headers: &signed,
            payload_sha256: &payload,
        },
    );
    if expect.signature != auth.signature {
        return reject(
            StatusCode::BAD_REQUEST,
            "SignatureDoesNotMatch",
            format!("server canonical request is: {}", expect.canonical_request),
        );
    }
    let form = if header("content-type").as_deref() == Some("application/x-www-form-urlencoded") {
        form_decode(std::str::from_utf8(&body).unwrap()).unwrap()
    } else {
        assert!(body.is_empty(), "a body without the form content type");
        vec![]
    };
    let seen = Seen {
        method: method.to_string(),
        action: header("x-acs-action").unwrap_or_default(),
        query,
        form,
        headers: signed.into_iter().collect(),
        access_key_id: auth.access_key_id.clone(),
    };

    // --- dispatch ---
    let reply = {
        let mut st = state.lock().unwrap();
        st.seen.push(seen.clone());
        match seen.action.as_str() {
            "AssumeRole" => match &st.sts_error {
                Some(code) => error(403, code),
                None => {
                    st.sts_issued += 1;
                    let n = st.sts_issued;
                    let (id, secret, token) = (
                        format!("STS.assumed-{n}"),
                        format!("assumed-secret-{n}-Kp2"),
                        format!("assumed-token-{n}-Vb7"),
                    );
                    st.secrets.insert(id.clone(), secret.clone());
                    let exp =
                        jiff::Timestamp::now() + jiff::SignedDuration::from_secs(st.sts_lifetime);
                    Reply::Json(
                        200,
                        json!({"RequestId": "req-sts", "Credentials": {
                            "AccessKeyId": id, "AccessKeySecret": secret, "SecurityToken": token,
                            "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()},
                            "AssumedRoleUser": {"Arn": seen.param("RoleArn"), "AssumedRoleId": "1:x"}}),
                    )
                }
            },
            "GetCallerIdentity" => Reply::Json(
                200,
                json!({"RequestId": "req-id",
                       "AccountId": if seen.access_key_id == B_ID { "2000" } else { "1000" },
                       "Arn": "acs:ram::2000:user/dw", "IdentityType": "RAMUser", "PrincipalId": "p"}),
            ),
            _ => st
                .script
                .pop_front()
                .or_else(|| st.fallback.clone())
                .unwrap_or_else(ok),
        }
    };
    match reply {
        Reply::Json(status, v) => (StatusCode::from_u16(status).unwrap(), v.to_string()),
        Reply::Text(status, t) => (StatusCode::from_u16(status).unwrap(), t.to_string()),
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            (StatusCode::OK, String::new())
        }
    }
}

fn b_client(cloud: &Cloud) -> AccountClient {
    cloud.with_credentials("b", Credentials::access_key(B_ID, B_SECRET))
}

fn describe() -> Call {
    Call::new("Vpc", "2016-04-28", "DescribeVpcs", "cn-hangzhou").params(
        Params::new()
            .set("VpcName", "a b*c/d~e")
            .set("Description", "中文"),
    )
}

#[tokio::test]
async fn post_sends_signed_form_body_and_get_sends_query() {
    let server = Server::start().await;
    let cloud = server.cloud(fast());
    let b = b_client(&cloud);

    let body = b.call(describe()).await.unwrap();
    assert_eq!(body["Ok"], true);
    let call = Call::new(
        "dataworks-public",
        "2024-05-18",
        "ListRoutes",
        "cn-shanghai",
    )
    .params(Params::new().set("ResourceGroupId", "Serverless_res_group_1"))
    .get();
    b.call(call).await.unwrap();

    let seen = server.seen();
    let (post, get) = (&seen[0], &seen[1]);
    assert_eq!(post.method, "POST");
    assert!(post.query.is_empty());
    assert_eq!(post.param("VpcName"), Some("a b*c/d~e"));
    assert_eq!(post.param("Description"), Some("中文"));
    // RegionId is added from the call's region.
    assert_eq!(post.param("RegionId"), Some("cn-hangzhou"));
    assert_eq!(post.headers["x-acs-action"], "DescribeVpcs");
    assert_eq!(post.headers["x-acs-version"], "2016-04-28");
    assert_eq!(
        post.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        post.headers["host"],
        server.url.trim_start_matches("http://")
    );
    let nonce = &post.headers["x-acs-signature-nonce"];
    assert!(nonce.len() == 32 && nonce.chars().all(|c| c.is_ascii_hexdigit()));
    let date = &post.headers["x-acs-date"];
    assert!(date.ends_with('Z') && date.len() == 20, "{date}");
    assert!(date.parse::<jiff::Timestamp>().is_ok());
    assert!(!post.headers.contains_key("x-acs-security-token"));

    assert_eq!(get.method, "GET");
    assert!(get.form.is_empty());
    assert!(!get.headers.contains_key("content-type"));
    assert_eq!(get.headers["x-acs-content-sha256"], v3::EMPTY_SHA256);
    assert_eq!(
        get.query,
        vec![
            (
                "ResourceGroupId".to_string(),
                "Serverless_res_group_1".to_string()
            ),
            ("RegionId".to_string(), "cn-shanghai".to_string())
        ]
    );
    // An explicit RegionId wins.
    let call = describe().params(Params::new().set("RegionId", "cn-beijing"));
    b.call(call).await.unwrap();
    assert_eq!(server.seen()[2].param("RegionId"), Some("cn-beijing"));
    let counts = cloud.call_counts();
    assert_eq!((counts["b"].reads, counts["b"].writes), (3, 0));
}

#[tokio::test]
async fn retries_each_retryable_class_then_succeeds() {
    let classes = [
        error(400, "Throttling.User"),
        error(429, "Throttling"),
        error(503, "ServiceUnavailable"),
        error(500, "InternalError"),
        Reply::Text(502, "<html>bad gateway</html>"),
        error(400, "TaskConflict"),
        error(400, "OperationConflict"),
        error(400, "Conflict.Operation"),
        error(400, "IncorrectStatus.VpcRouteTable"),
        error(400, "LastTokenProcessing"),
        error(400, "TokenProcessing"),
        error(400, "SystemBusy"),
        error(400, "Operation.Blocking"),
    ];
    let server = Server::start().await;
    let cloud = server.cloud(fast());
    let b = b_client(&cloud);
    for (i, class) in classes.iter().enumerate() {
        server.script([class.clone(), class.clone(), ok()]);
        b.call(describe())
            .await
            .unwrap_or_else(|e| panic!("class #{i}: {e}"));
        assert_eq!(server.seen().len(), 3 * (i + 1), "class #{i}");
    }
    assert_eq!(cloud.call_counts()["b"].retries, 2 * classes.len() as u64);
}

#[tokio::test]
async fn a_write_without_client_token_is_not_resent_after_a_failure_that_may_have_taken_effect() {
    let server = Server::start().await;
    let cloud = server.cloud(fast());
    let b = b_client(&cloud);
    let create_route = || {
        Call::new(
            "dataworks-public",
            "2024-05-18",
            "CreateRoute",
            "cn-shanghai",
        )
        .params(
            Params::new()
                .set("NetworkId", "1001")
                .set("DestinationCidr", "192.168.6.0/24"),
        )
    };
    // The server failed while working on it: it may exist now. One attempt, and the error says
    // why it was not resent.
    for reply in [error(500, "InternalError"), Reply::Text(502, "bad gateway")] {
        let before = server.seen().len();
        server.state.lock().unwrap().script.clear();
        server.script([reply, ok()]);
        let e = b.call(create_route()).await.unwrap_err();
        assert_eq!(server.seen().len(), before + 1, "resent: {e}");
        assert!(e.message.contains("may have been carried out"), "{e}");
        assert!(e.message.contains("no ClientToken"), "{e}");
    }
    // A refusal did nothing: resending is safe, token or not.
    for reply in [
        error(400, "Throttling.User"),
        error(503, "ServiceUnavailable"),
    ] {
        let before = server.seen().len();
        server.state.lock().unwrap().script.clear();
        server.script([reply, ok()]);
        b.call(create_route()).await.unwrap();
        assert_eq!(server.seen().len(), before + 2);
    }
    // Reads are always safe to resend.
    let before = server.seen().len();
    server.state.lock().unwrap().script.clear();
    server.script([error(500, "InternalError"), ok()]);
    b.call(describe()).await.unwrap();
    assert_eq!(server.seen().len(), before + 2);
}

#[tokio::test]
async fn fails_fast_on_non_retryable_codes() {
    let server = Server::start().await;
    let cloud = server.cloud(fast());
    let b = b_client(&cloud);
    let codes = [
        "InvalidParameter",
        "MissingParameter",
        "Forbidden.RAM",
        "InvalidVpcId.NotFound",
    ];
    for code in codes {
        let before = server.seen().len();
        server.script([error(400, code), ok()]);
        let e = b.call(describe()).await.unwrap_err();
        assert_eq!(server.seen().len(), before + 1, "{code} was retried");
        assert_eq!(e.code, code);
        assert_eq!(e.http_status, 400);
        assert_eq!(e.request_id, format!("req-{code}"));
        assert!(e.recommend.contains(code));
        assert_eq!(
            (e.account.as_str(), e.region.as_str()),
            ("b", "cn-hangzhou")
        );
        let shown = e.to_string();
        for part in [
            "Vpc",
            "DescribeVpcs",
            "account b",
            "cn-hangzhou",
            code,
            "request id",
        ] {
            assert!(shown.contains(part), "{shown:?} lacks {part}");
        }
        server.state.lock().unwrap().script.clear();
    }
    assert_eq!(cloud.call_counts()["b"].failures, codes.len() as u64);
}

#[tokio::test]
async fn retries_of_a_write_resend_identical_params_and_client_token() {
    let server = Server::start().await;
    let cloud = server.cloud(fast());
    let b = b_client(&cloud);
    let token = client_token("link-1", "route.b.create");
    server.script([
        error(400, "Throttling.User"),
        error(503, "ServiceUnavailable"),
        Reply::Text(500, "oops"),
        ok(),
    ]);
    let call = Call::new("Vpc", "2016-04-28", "CreateRouteEntry", "cn-shanghai").params(
        Params::new()
            .set("RouteTableId", "vtb-1")
            .set("DestinationCidrBlock", "172.16.0.0/24")
            .set("ClientToken", &token),
    );
    b.call(call).await.unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 4);
    for s in &seen {
        assert_eq!(s.form, seen[0].form);
        assert_eq!(s.param("ClientToken"), Some(token.as_str()));
    }
    // Every attempt is a new request (fresh nonce), not a replay.
    let nonces: std::collections::HashSet<_> = seen
        .iter()
        .map(|s| s.headers["x-acs-signature-nonce"].clone())
        .collect();
    assert_eq!(nonces.len(), 4);
    let counts = cloud.call_counts()["b"];
    assert_eq!((counts.writes, counts.retries), (1, 3));
}

#[tokio::test]
async fn gives_up_after_max_attempts_with_the_last_error() {
    let server = Server::start().await;
    let b = b_client(&server.cloud(fast()));
    server.state.lock().unwrap().fallback = Some(error(503, "ServiceUnavailable"));
    let e = b.call(describe()).await.unwrap_err();
    assert_eq!(e.code, "ServiceUnavailable");
    assert_eq!(server.seen().len(), fast().max_attempts as usize);
}

#[tokio::test]
async fn overall_deadline_is_honoured() {
    let server = Server::start().await;
    server.state.lock().unwrap().fallback = Some(error(400, "Throttling.User"));
    let policy = RetryPolicy {
        max_attempts: 10_000,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(40),
        attempt_timeout: Duration::from_secs(10),
        call_deadline: Duration::from_millis(400),
    };
    let b = b_client(&server.cloud(policy));
    let e = b.call(describe()).await.unwrap_err();
    assert_eq!(e.code, CODE_DEADLINE, "{e}");
    assert!(e.message.contains("Throttling.User"), "{e}");
    let attempts = server.seen().len();
    assert!(attempts > 1 && attempts < 10_000, "{attempts}");

    // A hung request is cut at the deadline too.
    let server = Server::start().await;
    server.state.lock().unwrap().fallback = Some(Reply::Hang);
    let policy = RetryPolicy {
        call_deadline: Duration::from_millis(300),
        ..fast()
    };
    let e = b_client(&server.cloud(policy))
        .call(describe())
        .await
        .unwrap_err();
    assert_eq!(e.code, CODE_DEADLINE, "{e}");
}

#[tokio::test]
async fn a_hung_attempt_times_out_and_is_retried() {
    let server = Server::start().await;
    server.script([Reply::Hang, ok()]);
    let policy = RetryPolicy {
        attempt_timeout: Duration::from_millis(200),
        ..fast()
    };
    let b = b_client(&server.cloud(policy));
    b.call(describe()).await.unwrap();
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn dropping_a_call_stops_its_retries() {
    let server = Server::start().await;
    server.state.lock().unwrap().fallback = Some(error(503, "ServiceUnavailable"));
    let policy = RetryPolicy {
        max_attempts: 100,
        // The first retry waits up to an hour: the call is parked in its backoff.
        base_delay: Duration::from_secs(3600),
        max_delay: Duration::from_secs(3600),
        attempt_timeout: Duration::from_secs(10),
        call_deadline: Duration::from_secs(7200),
    };
    let b = b_client(&server.cloud(policy));
    let call = b.call(describe());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let srv = server.clone();
    tokio::spawn(async move {
        // Cancel (as Ctrl-C would) once the first attempt has been answered.
        while srv.seen().is_empty() {
            tokio::task::yield_now().await;
        }
        let _ = tx.send(());
    });
    tokio::select! {
        r = call => {
            // Only possible if the jittered wait happened to be ~0: then it retried.
            assert!(r.is_err());
        }
        _ = rx => {}
    }
    let n = server.seen().len();
    assert!(n >= 1);
    // Nothing is left running: the count stays put while the runtime keeps working.
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    assert_eq!(server.seen().len(), n);
}

#[tokio::test]
async fn connection_failures_are_transport_errors() {
    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let cloud = Cloud::new(CloudConfig {
        retry: RetryPolicy {
            max_attempts: 2,
            ..fast()
        },
        ..CloudConfig::with_endpoint(Some(url))
    })
    .unwrap();
    let e = b_client(&cloud).call(describe()).await.unwrap_err();
    assert_eq!((e.code.as_str(), e.http_status), (CODE_TRANSPORT, 0), "{e}");
    assert_eq!(cloud.call_counts()["b"].retries, 1);
}

#[tokio::test]
async fn bad_endpoint_config_is_rejected_up_front() {
    let e = Cloud::new(CloudConfig::with_endpoint(Some("ftp://x".into())))
        .err()
        .unwrap();
    assert!(e.to_string().contains("http"), "{e}");
    // No override and an unknown product: a clear error, not a guess.
    let cloud = Cloud::new(CloudConfig::default()).unwrap();
    let e = b_client(&cloud)
        .call(Call::new(
            "Ecs",
            "2014-05-26",
            "DescribeInstances",
            "cn-hangzhou",
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code, CODE_ENDPOINT);
}

#[tokio::test]
async fn assume_role_uses_b_credentials_then_the_assumed_token() {
    let server = Server::start().await;
    let cloud = server.cloud(fast());
    let b = b_client(&cloud);
    let spec = AssumeRoleSpec::new(role_arn("1000", "dwlink-access"), "link 1");
    assert_eq!(spec.session_name, "dwlink-link-1");
    let a = cloud.assume_role("a", &b, spec);
    assert_eq!(a.account(), "a");

    a.call(describe()).await.unwrap();
    a.call(describe()).await.unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 3, "one AssumeRole, cached for the second call");
    let sts = &seen[0];
    assert_eq!(sts.action, "AssumeRole");
    assert_eq!(sts.access_key_id, B_ID);
    assert!(!sts.headers.contains_key("x-acs-security-token"));
    assert_eq!(
        sts.param("RoleArn"),
        Some("acs:ram::1000:role/dwlink-access")
    );
    assert_eq!(sts.param("RoleSessionName"), Some("dwlink-link-1"));
    assert_eq!(sts.param("DurationSeconds"), Some("3600"));
    assert_eq!(sts.param("RegionId"), None);
    for s in &seen[1..] {
        assert_eq!(s.access_key_id, "STS.assumed-1");
        assert_eq!(s.headers["x-acs-security-token"], "assumed-token-1-Vb7");
    }
    let counts = cloud.call_counts();
    assert_eq!(counts["b"].reads, 1); // AssumeRole: temporary credentials, no resource
    assert_eq!(counts["a"].reads, 2);

    // Identities: each account's UID.
    assert_eq!(b.caller_identity().await.unwrap().account_id, "2000");
    assert_eq!(a.caller_identity().await.unwrap().account_id, "1000");
}

#[tokio::test]
async fn assumed_credentials_are_refreshed_before_they_expire() {
    let server = Server::start().await;
    // Valid for 2 more minutes: inside the 5-minute refresh margin, so each call refreshes.
    server.state.lock().unwrap().sts_lifetime = 120;
    let cloud = server.cloud(fast());
    let a = cloud.assume_role(
        "a",
        &b_client(&cloud),
        AssumeRoleSpec::new(role_arn("1000", "r"), "x"),
    );
    a.call(describe()).await.unwrap();
    a.call(describe()).await.unwrap();
    let seen = server.seen();
    let actions: Vec<_> = seen.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(
        actions,
        ["AssumeRole", "DescribeVpcs", "AssumeRole", "DescribeVpcs"]
    );
    assert_eq!(seen[3].access_key_id, "STS.assumed-2");
    assert_eq!(
        seen[3].headers["x-acs-security-token"],
        "assumed-token-2-Vb7"
    );
}

#[tokio::test]
async fn revoked_assumed_credentials_are_fetched_anew_once() {
    let server = Server::start().await;
    let cloud = server.cloud(fast());
    let a = cloud.assume_role(
        "a",
        &b_client(&cloud),
        AssumeRoleSpec::new(role_arn("1000", "r"), "x"),
    );
    a.call(describe()).await.unwrap();
    // The cloud forgets the assumed key: the next call gets InvalidAccessKeyId.NotFound,
    // assumes the role again and succeeds.
    server.state.lock().unwrap().secrets.remove("STS.assumed-1");
    a.call(describe()).await.unwrap();
    let seen = server.seen();
    assert_eq!(seen.last().unwrap().access_key_id, "STS.assumed-2");
    assert_eq!(server.state.lock().unwrap().sts_issued, 2);
}

#[tokio::test]
async fn a_failing_assume_role_names_the_role_and_both_accounts() {
    let server = Server::start().await;
    server.state.lock().unwrap().sts_error = Some("NoPermission".into());
    let cloud = server.cloud(fast());
    let a = cloud.assume_role(
        "a",
        &b_client(&cloud),
        AssumeRoleSpec::new(role_arn("1000", "r"), "x"),
    );
    let e = a.call(describe()).await.unwrap_err();
    assert_eq!(e.code, CODE_CREDENTIALS, "{e}");
    let shown = e.to_string();
    for part in [
        "NoPermission",
        "acs:ram::1000:role/r",
        "account a",
        "account b",
        "AssumeRole",
    ] {
        assert!(shown.contains(part), "{shown:?} lacks {part}");
    }
    // The call itself never reached the server.
    assert!(server.seen().iter().all(|s| s.action == "AssumeRole"));
}

#[tokio::test]
async fn ram_role_arn_profile_assumes_its_role() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(
        &path,
        json!({"current": "role", "profiles": [{"name": "role", "mode": "RamRoleArn",
            "access_key_id": B_ID, "access_key_secret": B_SECRET,
            "ram_role_arn": "acs:ram::1000:role/dw", "ram_session_name": "dw-session",
            "expired_seconds": 900}]})
        .to_string(),
    )
    .unwrap();
    let env = CredentialEnv {
        vars: Default::default(),
        config_path: Some(path),
    };
    let cloud = server.cloud(fast());
    let a = cloud.from_source("a", None, &env).unwrap();
    a.call(describe()).await.unwrap();
    let seen = server.seen();
    assert_eq!(seen[0].action, "AssumeRole");
    assert_eq!(seen[0].access_key_id, B_ID);
    assert_eq!(seen[0].param("RoleSessionName"), Some("dw-session"));
    assert_eq!(seen[0].param("DurationSeconds"), Some("900"));
    assert_eq!(
        seen[1].headers["x-acs-security-token"],
        "assumed-token-1-Vb7"
    );
}

#[tokio::test]
async fn sts_credentials_from_the_environment_send_their_token() {
    let server = Server::start().await;
    server
        .state
        .lock()
        .unwrap()
        .secrets
        .insert("STS.env".into(), "env-secret".into());
    let env = CredentialEnv {
        vars: [
            (ENV_ACCESS_KEY_ID, "STS.env"),
            (ENV_ACCESS_KEY_SECRET, "env-secret"),
            (ENV_SECURITY_TOKEN, "env-token"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        config_path: None,
    };
    let b = server.cloud(fast()).from_source("b", None, &env).unwrap();
    b.call(describe()).await.unwrap();
    assert_eq!(
        server.seen()[0].headers["x-acs-security-token"],
        "env-token"
    );
}

#[tokio::test]
async fn serialize_holds_one_key_at_a_time() {
    let server = Server::start().await;
    let cloud = server.cloud(fast());
    let guard = cloud.serialize("vtb-1").await;
    let other = cloud.serialize("vtb-2").await; // another resource is free
    let c2 = cloud.clone();
    let waiter = tokio::spawn(async move { drop(c2.serialize("vtb-1").await) });
    tokio::task::yield_now().await;
    assert!(!waiter.is_finished());
    drop(guard);
    waiter.await.unwrap();
    drop(other);
}

/// Captures every `tracing` event at TRACE level into a buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_secret_reaches_trace_output_errors_or_debug() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // current_thread runtime: the subscriber sees every event of this test, the server's too.
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = Server::start().await;
    let cloud = server.cloud(fast());
    let mut shown = Vec::new();

    // Account B from a config-file profile (AK mode).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(
        &path,
        json!({"current": "b", "profiles": [{"name": "b", "mode": "AK",
            "access_key_id": B_ID, "access_key_secret": B_SECRET}]})
        .to_string(),
    )
    .unwrap();
    let env = CredentialEnv {
        vars: Default::default(),
        config_path: Some(path),
    };
    let b = cloud.from_source("b", None, &env).unwrap();
    shown.push(format!("{b:?}"));

    // Successful, retried and failing calls in B.
    b.call(describe()).await.unwrap();
    server.script([
        error(503, "ServiceUnavailable"),
        ok(),
        error(400, "InvalidParameter"),
    ]);
    b.call(describe()).await.unwrap();
    let e = b.call(describe()).await.unwrap_err();
    shown.push(format!("{e} {e:?}"));

    // A via AssumeRole: a success, then a signature mismatch whose message echoes the
    // server's canonical request (which holds the security token).
    let a = cloud.assume_role("a", &b, AssumeRoleSpec::new(role_arn("1000", "r"), "x"));
    shown.push(format!("{a:?}"));
    a.call(describe()).await.unwrap();
    let creds = a.credentials().await.unwrap();
    shown.push(format!("{creds:?}"));
    server
        .state
        .lock()
        .unwrap()
        .secrets
        .insert("STS.assumed-1".into(), "not-the-secret".into());
    let e = a.call(describe()).await.unwrap_err();
    assert_eq!(e.code, "SignatureDoesNotMatch");
    assert!(e.message.contains("<redacted>"), "{e}");
    shown.push(format!("{e} {e:?}"));

    // A failing AssumeRole.
    server.state.lock().unwrap().sts_error = Some("NoPermission".into());
    let a2 = cloud.assume_role("a2", &b, AssumeRoleSpec::new(role_arn("1000", "r"), "y"));
    let e = a2.call(describe()).await.unwrap_err();
    shown.push(format!("{e} {e:?}"));

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("cloud call") && log.contains("AssumeRole"),
        "{log}"
    );
    assert!(log.contains("TRACE"), "trace level was not captured");
    let everything = format!("{log}\n{}", shown.join("\n"));
    for secret in [B_SECRET, "assumed-secret-1-Kp2", "assumed-token-1-Vb7"] {
        assert!(
            !everything.contains(secret),
            "secret {secret:?} leaked into: {everything}"
        );
    }
}
