//! Cloud calls: the request builder, the cloud's errors as values, the [`Cloud`] trait the
//! plugin logic is written against, and its host-backed implementation.

use serde::de::DeserializeOwned;

/// One product API a plugin speaks, e.g. RDS `2014-08-15`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Api {
    /// Product code as the OpenAPI spells it, e.g. `Rds`, `polardb`, `Dds`, `Vpc`.
    pub product: &'static str,
    /// API version, e.g. `2014-08-15`.
    pub version: &'static str,
}

impl Api {
    /// The API `product` at `version`.
    pub const fn new(product: &'static str, version: &'static str) -> Self {
        Self { product, version }
    }

    /// The declared name of `action`: `product:Action`, product code in lower case
    /// (what [`crate::PluginInfo::actions`] lists and the host checks).
    pub fn declared(&self, action: &str) -> String {
        declared_action(self.product, action)
    }

    /// A read capability: `action` (a `Describe*`, `List*` or `Get*` call) naming the link's
    /// instance in `instance_param` (`None` when it names no instance).
    pub fn read(&self, action: &str, instance_param: Option<&str>) -> crate::Capability {
        crate::Capability {
            product: self.product.into(),
            version: self.version.into(),
            action: action.into(),
            access: crate::Access::Read,
            instance_param: instance_param.map(Into::into),
            whitelist: None,
        }
    }

    /// A whitelist-write capability: `action` changes the whitelist of the instance named in
    /// `instance_param`, with its group, entries and mode where `params` says.
    pub fn whitelist_write(
        &self,
        action: &str,
        instance_param: &str,
        params: crate::WhitelistParams,
    ) -> crate::Capability {
        crate::Capability {
            product: self.product.into(),
            version: self.version.into(),
            action: action.into(),
            access: crate::Access::WhitelistWrite,
            instance_param: Some(instance_param.into()),
            whitelist: Some(params),
        }
    }

    /// A request for `action` in `region`; add parameters with [`CloudRequest::param`].
    pub fn request(&self, action: &str, region: &str) -> CloudRequest {
        CloudRequest {
            product: self.product.to_string(),
            version: self.version.to_string(),
            action: action.to_string(),
            region: region.to_string(),
            params: Vec::new(),
        }
    }
}

/// `product:Action` with the product code in lower case, e.g. `rds:ModifySecurityIps`.
pub fn declared_action(product: &str, action: &str) -> String {
    format!("{}:{}", product.to_ascii_lowercase(), action)
}

/// One OpenAPI RPC call, made by the host in the data source's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudRequest {
    /// Product code, e.g. `Rds`.
    pub product: String,
    /// API version, e.g. `2014-08-15`.
    pub version: String,
    /// Action, e.g. `DescribeDBInstanceAttribute`.
    pub action: String,
    /// Region id; the host also sends it as `RegionId` unless a parameter already does.
    pub region: String,
    /// Flattened parameters (`Name.1.Field`), in order.
    pub params: Vec<(String, String)>,
}

impl CloudRequest {
    /// Adds a parameter.
    pub fn param(mut self, name: &str, value: impl Into<String>) -> Self {
        self.params.push((name.to_string(), value.into()));
        self
    }

    /// The value of parameter `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `product:Action` as declared, e.g. `rds:DescribeDBInstanceAttribute`.
    pub fn declared(&self) -> String {
        declared_action(&self.product, &self.action)
    }
}

/// An error answered by the cloud (or by the host on its behalf: codes starting `dwlink.`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudError {
    /// OpenAPI error code, e.g. `InvalidDBInstanceId.NotFound`.
    pub code: String,
    /// The cloud's message.
    pub message: String,
    /// Request id for a support ticket; empty when no request was sent.
    pub request_id: String,
    /// HTTP status; 0 when no response was received.
    pub http_status: u16,
}

impl CloudError {
    /// An error that did not come from the cloud (no request id, no HTTP status).
    pub fn local(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_string(),
            message: message.into(),
            request_id: String::new(),
            http_status: 0,
        }
    }
}

impl core::fmt::Display for CloudError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if self.http_status != 0 {
            write!(f, " (HTTP {})", self.http_status)?;
        }
        if !self.request_id.is_empty() {
            write!(f, " [request id {}]", self.request_id)?;
        }
        Ok(())
    }
}

/// Code of the error returned when a response body is not the JSON the plugin expects.
pub const MALFORMED_RESPONSE: &str = "dwlink.MalformedResponse";

/// What plugin logic calls the cloud through. [`HostCloud`] is the real one inside the
/// sandbox; [`crate::testing::FakeCloud`] answers scripted JSON in native tests.
pub trait Cloud {
    /// Makes the call; returns the response body (JSON text) or the cloud's error.
    fn call_raw(&self, request: &CloudRequest) -> Result<String, CloudError>;

    /// Writes a line to the host's log (tagged with the plugin's name by the host).
    fn log(&self, level: crate::LogLevel, message: &str) {
        crate::log::log(level, message);
    }
}

impl dyn Cloud + '_ {
    /// Makes the call and parses the response body as `T` (serde). A body that does not
    /// parse becomes a [`CloudError`] with code [`MALFORMED_RESPONSE`] naming the action.
    pub fn call<T: DeserializeOwned>(&self, request: CloudRequest) -> Result<T, CloudError> {
        let body = self.call_raw(&request)?;
        parse_response(&request, &body)
    }
}

/// Parses a response body of `request` as `T`.
pub fn parse_response<T: DeserializeOwned>(
    request: &CloudRequest,
    body: &str,
) -> Result<T, CloudError> {
    serde_json::from_str(body).map_err(|e| {
        CloudError::local(
            MALFORMED_RESPONSE,
            format!(
                "the response of {} in {} is not what the plugin expects: {e}",
                request.declared(),
                request.region
            ),
        )
    })
}

/// Calls the cloud through the host, parsing the response as `T`.
pub fn call<T: DeserializeOwned>(request: CloudRequest) -> Result<T, CloudError> {
    (&HostCloud as &dyn Cloud).call(request)
}

/// The real cloud: the host's `call` import. Only works inside the sandbox; natively every
/// call fails with code `dwlink.NoHost` (use [`crate::testing::FakeCloud`] in tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct HostCloud;

impl Cloud for HostCloud {
    #[cfg(target_arch = "wasm32")]
    fn call_raw(&self, request: &CloudRequest) -> Result<String, CloudError> {
        use crate::bindings::dwlink::plugin::{host, types};
        let wit = types::CloudRequest {
            product: request.product.clone(),
            version: request.version.clone(),
            action: request.action.clone(),
            region: request.region.clone(),
            params: request.params.clone(),
        };
        host::call(&wit).map_err(|e| CloudError {
            code: e.code,
            message: e.message,
            request_id: e.request_id,
            http_status: e.http_status,
        })
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn call_raw(&self, request: &CloudRequest) -> Result<String, CloudError> {
        Err(CloudError::local(
            "dwlink.NoHost",
            format!(
                "{} was called outside the dwlink sandbox; use testing::FakeCloud in native tests",
                request.declared()
            ),
        ))
    }
}
