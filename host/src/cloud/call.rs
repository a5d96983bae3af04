//! The call seam: what the engine, the network layer and the plugin runtime hand to the client.

use dwlink_acs::Params;
use std::future::Future;
use std::pin::Pin;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// HTTP method of an RPC call. POST unless the API is GET-only (DataWorks `List*` / `Get*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
}

/// One OpenAPI RPC call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Product code, e.g. `Vpc`, `VpcPeer`, `Cbn`, `Rds`, `polardb`, `Dds`, `dataworks-public`, `Sts`.
    pub product: String,
    /// API version, e.g. `2016-04-28`.
    pub version: String,
    /// Action, e.g. `DescribeVpcs`.
    pub action: String,
    /// Region id; selects the endpoint and is sent as `RegionId` unless `params` has one.
    pub region: String,
    pub params: Params,
    pub method: Method,
}

impl Call {
    pub fn new(product: &str, version: &str, action: &str, region: &str) -> Self {
        Call {
            product: product.into(),
            version: version.into(),
            action: action.into(),
            region: region.into(),
            params: Params::new(),
            method: Method::Post,
        }
    }

    pub fn params(mut self, params: Params) -> Self {
        self.params = params;
        self
    }

    pub fn get(mut self) -> Self {
        self.method = Method::Get;
        self
    }
}

/// A failed call, typed so callers can branch on it. Its `Display` names the account, region,
/// product and action, and never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{product}:{action} in account {account}, region {region} failed: {code}: {message}{}",
    if request_id.is_empty() { String::new() } else { format!(" (request id {request_id})") }
)]
pub struct CloudError {
    /// HTTP status; 0 when no response arrived (transport error, deadline).
    pub http_status: u16,
    /// The OpenAPI `Code`, or a `dwlink.*` code for failures before or around the wire
    /// (`dwlink.Transport`, `dwlink.Deadline`, `dwlink.Cancelled`, `dwlink.Credentials`, ...).
    pub code: String,
    pub message: String,
    pub request_id: String,
    /// The `Recommend` URL the cloud sent, if any.
    pub recommend: String,
    /// Account the call acted in: its name in the link file, or UID.
    pub account: String,
    pub region: String,
    pub product: String,
    pub action: String,
}

/// Makes calls in one account. Implemented by the real client; test doubles implement it too.
pub trait Caller: Send + Sync {
    /// Sends one call (with the client's retries and rate limits) and returns the parsed body.
    fn call(&self, call: Call) -> BoxFuture<'_, Result<serde_json::Value, CloudError>>;

    /// The account this caller acts in, for messages (name or UID).
    fn account(&self) -> &str;
}
