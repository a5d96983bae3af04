//! The HTTP layer: one endpoint for every product (`/`), plus the loopback-only admin API
//! under `/_sim/`. A request is decoded, authenticated, subjected to faults, dispatched to the
//! registered handler under the world lock, logged, and answered in the real JSON shape.

use crate::admin::{self, StateView, Tamper};
use crate::auth::{self, Incoming};
use crate::error::ApiError;
use crate::faults::{Fault, FaultRule, FaultSettings, Faults};
use crate::registry::{Product, Registry};
use crate::request::Ctx;
use crate::state::World;
use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dwlink_acs::Params;
use serde::Serialize;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// One served API request (`GET /_sim/requests`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRecord {
    pub seq: u64,
    pub time: String,
    /// Account name (`A`, `B`), empty when authentication failed.
    pub account: String,
    pub account_uid: String,
    /// Whether the caller used assumed-role (STS) credentials.
    pub assumed_role: bool,
    pub product: String,
    pub version: String,
    pub action: String,
    /// `OK`, the error code, or `AmbiguousTimeout` (performed, response dropped).
    pub outcome: String,
    pub http_status: u16,
    pub request_id: String,
    /// The injected fault the request got, if any: `throttle`, `5xx ServiceUnavailable`,
    /// `5xx InternalError`, `timeout` (random ambiguous timeout), `rule fail <code>`,
    /// `rule lose`. A timeout or a lost response is only applied (and named) when the call
    /// succeeded; added latency is not named.
    pub fault: Option<String>,
}

/// State shared by every request.
pub struct Shared {
    pub world: Mutex<World>,
    pub registry: Registry,
    pub faults: Mutex<Faults>,
    pub log: Mutex<Vec<RequestRecord>>,
}

/// Locks, recovering from a poisoned lock (a panicking handler must not wedge the simulator).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub fn new(world: World, faults: FaultSettings) -> Self {
        Shared {
            world: Mutex::new(world),
            registry: Registry::with_all_products(),
            faults: Mutex::new(Faults::new(faults)),
            log: Mutex::new(Vec::new()),
        }
    }

    pub fn state(&self) -> StateView {
        admin::snapshot(&mut lock(&self.world), Instant::now())
    }
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_sim/state", get(admin_state))
        .route("/_sim/requests", get(admin_requests))
        .route("/_sim/faults", get(admin_get_faults).post(admin_set_faults))
        .route("/_sim/faults/rules", post(admin_add_fault_rule))
        .route("/_sim/break", post(admin_break))
        .fallback(api)
        .with_state(shared)
}

/// Reads (Describe*, List*, Get*, ...) never suffer ambiguous timeouts: there is no write to lose.
pub fn is_read(action: &str) -> bool {
    ["Describe", "List", "Get", "Test", "Check", "Query"]
        .iter()
        .any(|p| action.starts_with(p))
}

const UNKNOWN: Product = Product {
    code: "Unknown",
    version: "",
    host: "aliyuncs.com",
};

fn json_response(status: u16, request_id: &str, body: Value) -> Response {
    let mut resp = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        body.to_string(),
    )
        .into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-acs-request-id", v);
    }
    resp
}

fn error_response(e: &ApiError, request_id: &str, product: &Product) -> Response {
    json_response(
        e.status,
        request_id,
        e.body(request_id, product.host, product.code),
    )
}

/// A body that fails on its first read: hyper then closes the connection, so the client sees
/// the call fail although the write happened (an ambiguous timeout).
struct Dropped;

impl HttpBody for Dropped {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "simulated ambiguous timeout",
        ))))
    }
}

struct Outcome {
    caller: Option<crate::state::Caller>,
    product: &'static Product,
    version: String,
    action: String,
    result: Result<(), (u16, String)>,
    ambiguous: bool,
    fault: Option<String>,
}

async fn api(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = lock(&s.world).ids.request_id();
    let (response, outcome) = serve(&s, &request_id, &method, &uri, &headers, &body).await;
    let status = response.status().as_u16();
    let mut log = lock(&s.log);
    let seq = log.len() as u64 + 1;
    log.push(RequestRecord {
        seq,
        time: crate::state::utc_now(),
        account: outcome
            .caller
            .as_ref()
            .map(|c| c.account_name.clone())
            .unwrap_or_default(),
        account_uid: outcome
            .caller
            .as_ref()
            .map(|c| c.account_uid.clone())
            .unwrap_or_default(),
        assumed_role: outcome
            .caller
            .as_ref()
            .is_some_and(|c| matches!(c.principal, crate::state::Principal::AssumedRole { .. })),
        product: outcome.product.code.to_string(),
        version: outcome.version,
        action: outcome.action,
        outcome: if outcome.ambiguous {
            "AmbiguousTimeout".into()
        } else {
            match &outcome.result {
                Ok(()) => "OK".into(),
                Err((_, code)) => code.clone(),
            }
        },
        http_status: if outcome.ambiguous { 0 } else { status },
        request_id,
        fault: outcome.fault,
    });
    response
}

async fn serve(
    s: &Shared,
    request_id: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> (Response, Outcome) {
    let header_pairs: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| {
            Some((
                k.as_str().to_ascii_lowercase(),
                v.to_str().ok()?.to_string(),
            ))
        })
        .collect();
    let header = |name: &str| {
        header_pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mut outcome = Outcome {
        caller: None,
        product: &UNKNOWN,
        version: String::new(),
        action: String::new(),
        result: Ok(()),
        ambiguous: false,
        fault: None,
    };
    macro_rules! fail {
        ($e:expr) => {{
            let e: ApiError = $e;
            outcome.result = Err((e.status, e.code.clone()));
            return (error_response(&e, request_id, outcome.product), outcome);
        }};
    }

    // Parameters: the raw query (Python's urlencode writes `+` for a space) and a form body.
    let query = match dwlink_acs::form_decode(uri.query().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => fail!(ApiError::invalid("query string", e)),
    };
    let is_form = header("content-type")
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let form = if is_form && !body.is_empty() {
        let text = match std::str::from_utf8(body) {
            Ok(t) => t,
            Err(_) => fail!(ApiError::invalid("body", "the form body is not UTF-8")),
        };
        match dwlink_acs::form_decode(text) {
            Ok(f) => f,
            Err(e) => fail!(ApiError::invalid("body", e)),
        }
    } else {
        Vec::new()
    };
    let mut params = Params::new();
    for (k, v) in query.iter().chain(form.iter()) {
        params.insert(k.clone(), v);
    }

    let (version, action) = match (header("x-acs-version"), header("x-acs-action")) {
        (Some(v), Some(a)) => (v, a),
        _ => (
            params.get("Version").unwrap_or_default().to_string(),
            params.get("Action").unwrap_or_default().to_string(),
        ),
    };
    outcome.version = version.clone();
    outcome.action = action.clone();
    if uri.path() != "/" {
        fail!(ApiError::not_found(
            "InvalidApi.NotFound",
            format!(
                "The path {:?} is not an RPC API path; RPC calls use \"/\".",
                uri.path()
            )
        ));
    }
    if action.is_empty() || version.is_empty() {
        fail!(ApiError::missing(if action.is_empty() {
            "Action"
        } else {
            "Version"
        }));
    }
    let Some(route) = s.registry.get(&version, &action) else {
        if s.registry.knows_version(&version) {
            fail!(ApiError::not_found(
                "InvalidAction.NotFound",
                format!(
                    "Specified api is not found, please check your url and method: {action} ({version})."
                )
            ));
        }
        fail!(ApiError::not_found(
            "InvalidVersion",
            format!("Specified parameter Version {version:?} is not valid.")
        ));
    };
    outcome.product = route.product;

    let now_epoch = jiff::Timestamp::now().as_second();
    let caller = {
        let mut world = lock(&s.world);
        let incoming = Incoming {
            method: method.as_str(),
            headers: &header_pairs,
            query: &query,
            body,
            params: &params,
        };
        match auth::authenticate(&mut world, &incoming, now_epoch) {
            Ok(c) => c,
            Err(e) => fail!(e),
        }
    };
    outcome.caller = Some(caller.clone());

    // Targeted rules first (they count this call), then the random draw.
    let (latency, fault) = lock(&s.faults).draw_for(&action, !is_read(&action));
    // Injected latency runs on the simulated clock, like lifecycle delays: `--time-scale`
    // speeds it up or slows it down.
    let latency = lock(&s.world).pacer.scale(latency);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if matches!(
        fault,
        Fault::Throttle | Fault::ServerError { .. } | Fault::Fail { .. }
    ) {
        outcome.fault = fault.label();
    }
    match &fault {
        Fault::Fail {
            status,
            code,
            message,
            ..
        } => fail!(ApiError::new(*status, code.clone(), message.clone())),
        Fault::Throttle => fail!(ApiError::bad(
            "Throttling.User",
            "Request was denied due to user flow control."
        )),
        Fault::ServerError { unavailable: true } => fail!(ApiError::new(
            503,
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server."
        )),
        Fault::ServerError { unavailable: false } => fail!(ApiError::new(
            500,
            "InternalError",
            "The request processing has failed due to some unknown error, exception or failure."
        )),
        Fault::None | Fault::Ambiguous | Fault::Lose => {}
    }

    let result = {
        let mut world = lock(&s.world);
        let mut ctx = Ctx {
            world: &mut world,
            caller: &caller,
            params: &params,
            product: route.product,
            action: route.action,
            request_id,
            now: Instant::now(),
        };
        (route.handler)(&mut ctx)
    };
    match result {
        Err(e) => fail!(e),
        Ok(mut value) => {
            if let Value::Object(m) = &mut value {
                m.insert("RequestId".into(), Value::String(request_id.to_string()));
            }
            if matches!(fault, Fault::Ambiguous | Fault::Lose) {
                outcome.ambiguous = true;
                outcome.fault = fault.label();
                let mut resp = Response::new(Body::new(Dropped));
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json;charset=utf-8"),
                );
                return (resp, outcome);
            }
            (json_response(200, request_id, value), outcome)
        }
    }
}

/// `Some(403 response)` for a client that is not on loopback.
fn loopback_only(peer: &SocketAddr) -> Option<Response> {
    if peer.ip().is_loopback() {
        None
    } else {
        Some(
            (
                StatusCode::FORBIDDEN,
                "the simulator's admin API answers loopback clients only\n",
            )
                .into_response(),
        )
    }
}

async fn admin_state(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if let Some(r) = loopback_only(&peer) {
        return r;
    }
    axum::Json(s.state()).into_response()
}

async fn admin_requests(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if let Some(r) = loopback_only(&peer) {
        return r;
    }
    axum::Json(serde_json::json!({ "requests": *lock(&s.log) })).into_response()
}

async fn admin_get_faults(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if let Some(r) = loopback_only(&peer) {
        return r;
    }
    axum::Json(lock(&s.faults).settings().clone()).into_response()
}

/// Accepts the JSON form of [`FaultSettings`], or a `--faults` spec string as a text body.
async fn admin_set_faults(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    if let Some(r) = loopback_only(&peer) {
        return r;
    }
    let text = String::from_utf8_lossy(&body);
    let parsed = if text.trim_start().starts_with('{') {
        serde_json::from_str::<FaultSettings>(&text).map_err(|e| e.to_string())
    } else {
        FaultSettings::parse(&text)
    };
    match parsed.and_then(|f| f.validate().map(|()| f)) {
        Ok(f) => {
            lock(&s.faults).set(f.clone());
            axum::Json(f).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            format!("bad fault settings: {e}\n"),
        )
            .into_response(),
    }
}

/// Appends one [`FaultRule`] (its JSON form, or one `lose=`/`fail=` part of a spec string),
/// keeping the other settings and the other rules' counts; answers the settings.
async fn admin_add_fault_rule(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    if let Some(r) = loopback_only(&peer) {
        return r;
    }
    match parse_rule(&String::from_utf8_lossy(&body)) {
        Ok(rule) => {
            let mut faults = lock(&s.faults);
            faults.add_rule(rule);
            axum::Json(faults.settings().clone()).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("bad fault rule: {e}\n")).into_response(),
    }
}

fn parse_rule(text: &str) -> Result<FaultRule, String> {
    let rule = if text.trim_start().starts_with('{') {
        serde_json::from_str::<FaultRule>(text).map_err(|e| e.to_string())?
    } else {
        let mut f = FaultSettings::parse(text)?;
        if f.rules.len() != 1
            || f != (FaultSettings {
                rules: f.rules.clone(),
                ..Default::default()
            })
        {
            return Err(format!(
                "{text:?}: expected one rule, lose=Action[#N|#*] or fail=Action[#N|#*]/ErrorCode[/HttpStatus], or its JSON form"
            ));
        }
        f.rules.remove(0)
    };
    rule.validate()?;
    Ok(rule)
}

async fn admin_break(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    if let Some(r) = loopback_only(&peer) {
        return r;
    }
    let t: Tamper = match serde_json::from_slice(&body) {
        Ok(t) => t,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, format!("bad break request: {e}\n")).into_response();
        }
    };
    match admin::tamper(&mut lock(&s.world), &t, Instant::now()) {
        Ok(()) => axum::Json(serde_json::json!({"ok": true})).into_response(),
        Err(e) => (StatusCode::NOT_FOUND, format!("{e}\n")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_answers_loopback_only() {
        assert!(loopback_only(&"127.0.0.1:5000".parse().unwrap()).is_none());
        assert!(loopback_only(&"[::1]:5000".parse().unwrap()).is_none());
        let refused = loopback_only(&"192.0.2.7:5000".parse().unwrap()).unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn reads_are_recognised() {
        assert!(is_read("DescribeVpcs") && is_read("ListRoutes") && is_read("GetNetwork"));
        assert!(is_read("TestDataSourceConnectivity"));
        assert!(!is_read("CreateRouteEntry") && !is_read("ModifySecurityIps"));
    }

    #[test]
    fn every_product_registers_without_duplicates() {
        let r = Registry::with_all_products();
        let actions = r.actions();
        assert!(actions.contains(&("Vpc", "2016-04-28", "CreateRouteEntry")));
        assert!(actions.contains(&("VpcPeer", "2022-01-01", "AcceptVpcPeerConnection")));
        assert!(actions.contains(&("Cbn", "2017-09-12", "CreateTransitRouterVpcAttachment")));
        assert!(actions.contains(&("Sts", "2015-04-01", "AssumeRole")));
    }
}
