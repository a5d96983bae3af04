//! API errors in the real OpenAPI shape: `RequestId`, `HostId`, `Code`, `Message`, `Recommend`.

use serde_json::{Value, json};

/// An error a handler returns; the server adds `RequestId`, `HostId` and `Recommend`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// 400 `MissingParameter`.
    pub fn missing(name: &str) -> Self {
        Self::new(
            400,
            "MissingParameter",
            format!(
                "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
            ),
        )
    }

    /// 400 `InvalidParameter`.
    pub fn invalid(name: &str, why: impl std::fmt::Display) -> Self {
        Self::new(
            400,
            "InvalidParameter",
            format!("The specified parameter \"{name}\" is not valid: {why}"),
        )
    }

    /// 400 with a product-specific code (`InvalidCidrBlock.Overlapped`, `IncorrectStatus.VpcPeer`...).
    pub fn bad(code: &str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    /// 404 with a product-specific not-found code.
    pub fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::new(404, code, message)
    }

    /// 403 `Forbidden.RAM`-style refusals.
    pub fn forbidden(code: &str, message: impl Into<String>) -> Self {
        Self::new(403, code, message)
    }

    /// 400 `IdempotentParameterMismatch`.
    pub fn idempotent_mismatch(token: &str) -> Self {
        Self::new(
            400,
            "IdempotentParameterMismatch",
            format!(
                "The request uses the same client token {token:?} as a previous, but non-identical request."
            ),
        )
    }

    /// 400 `DryRunOperation`: the documented way a successful DryRun answers.
    pub fn dry_run() -> Self {
        Self::new(
            400,
            "DryRunOperation",
            "Request validation has been passed with DryRun flag set.",
        )
    }

    /// The JSON body of the error response.
    pub fn body(&self, request_id: &str, host: &str, product: &str) -> Value {
        json!({
            "RequestId": request_id,
            "HostId": host,
            "Code": self.code,
            "Message": self.message,
            "Recommend": format!(
                "https://api.aliyun.com/troubleshoot?q={}&product={}&requestId={}",
                self.code, product, request_id
            ),
        })
    }
}
