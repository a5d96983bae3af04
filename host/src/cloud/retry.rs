//! The one retry policy: which failures are worth another attempt (a table of error codes),
//! and how long to wait (exponential backoff with full jitter, bounded by a deadline).

use super::CloudError;
use std::time::Duration;

/// How an error code is matched.
enum Rule {
    Exact(&'static str),
    Prefix(&'static str),
}

/// Codes that mean "try again later": throttling, transient server trouble, and resources
/// busy with another operation. Everything else fails fast.
const RETRYABLE: &[Rule] = &[
    Rule::Prefix("Throttling"),
    Rule::Exact("Rejected.Throttling"),
    Rule::Exact("ServiceUnavailable"),
    Rule::Exact("InternalError"),
    Rule::Exact("TaskConflict"),
    Rule::Exact("OperationConflict"),
    Rule::Exact("Conflict.Operation"),
    Rule::Exact("IncorrectStatus"),
    Rule::Prefix("IncorrectStatus."),
    Rule::Exact("LastTokenProcessing"),
    Rule::Exact("TokenProcessing"),
    Rule::Exact("SystemBusy"),
    Rule::Exact("Operation.Blocking"),
    // No response (connection refused/reset, read timeout): the same request, with the same
    // ClientToken, is safe to send again.
    Rule::Exact(CODE_TRANSPORT),
];

pub const CODE_TRANSPORT: &str = "dwlink.Transport";
pub const CODE_DEADLINE: &str = "dwlink.Deadline";
pub const CODE_CREDENTIALS: &str = "dwlink.Credentials";
pub const CODE_ENDPOINT: &str = "dwlink.Endpoint";
pub const CODE_RESPONSE: &str = "dwlink.Response";

/// The resource is busy with another operation or in a state that does not allow the call
/// yet (`IncorrectStatus.*`, conflicts). Retrying waits for it to settle; for a removal the
/// client leaves that to its caller, which reads the resource and decides (it may be gone).
pub fn is_busy(err: &CloudError) -> bool {
    err.code == "IncorrectStatus"
        || err.code.starts_with("IncorrectStatus.")
        || matches!(
            err.code.as_str(),
            "TaskConflict" | "OperationConflict" | "Conflict.Operation" | "Operation.Blocking"
        )
}

/// Whether another attempt may succeed.
pub fn is_retryable(err: &CloudError) -> bool {
    // 5xx: the server failed; 429: throttled even when the body is not an OpenAPI error.
    if err.http_status >= 500 || err.http_status == 429 {
        return true;
    }
    RETRYABLE.iter().any(|rule| match rule {
        Rule::Exact(code) => err.code == *code,
        Rule::Prefix(prefix) => err.code.starts_with(prefix),
    })
}

/// Whether the request may have been carried out although it failed: no answer after it was
/// sent (a read timeout, a reset), or the server failed while working on it (HTTP 5xx other
/// than 503 Service Unavailable). A refusal (throttling, a conflict, could not connect) is not.
pub fn may_have_taken_effect(err: &CloudError) -> bool {
    if err.code == CODE_TRANSPORT {
        return !err.message.starts_with("could not connect");
    }
    err.code == "InternalError" || (err.http_status >= 500 && err.http_status != 503)
}

/// Attempts, backoff and deadlines. One value for the whole client.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// Backoff ceiling before jitter for the first retry; doubles per retry.
    pub base_delay: Duration,
    /// Largest backoff ceiling.
    pub max_delay: Duration,
    /// Time allowed for one HTTP attempt (connect, send, read the whole response).
    pub attempt_timeout: Duration,
    /// Time allowed for a call including all its retries and waits.
    pub call_deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            attempt_timeout: Duration::from_secs(30),
            call_deadline: Duration::from_secs(180),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based): uniform in [0, min(max, base * 2^(retry-1))].
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(
                1u32.checked_shl(retry.saturating_sub(1).min(30))
                    .unwrap_or(u32::MAX),
            )
            .min(self.max_delay);
        let nanos = ceiling.as_nanos().min(u64::MAX as u128) as u64;
        Duration::from_nanos(rand::random_range(0..=nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u16, code: &str) -> CloudError {
        CloudError {
            http_status: status,
            code: code.into(),
            message: String::new(),
            request_id: String::new(),
            recommend: String::new(),
            account: "a".into(),
            region: "r".into(),
            product: "p".into(),
            action: "x".into(),
        }
    }

    #[test]
    fn busy_is_a_resource_state_not_throttling() {
        for code in [
            "IncorrectStatus.Attachment",
            "IncorrectStatus",
            "OperationConflict",
        ] {
            assert!(is_busy(&err(400, code)), "{code}");
            assert!(is_retryable(&err(400, code)), "{code}");
        }
        for code in ["Throttling.User", "ServiceUnavailable", "InvalidParameter"] {
            assert!(!is_busy(&err(400, code)), "{code}");
        }
    }

    #[test]
    fn table() {
        for code in [
            "Throttling",
            "Throttling.User",
            "Throttling.Api",
            "ServiceUnavailable",
            "InternalError",
            "TaskConflict",
            "OperationConflict",
            "Conflict.Operation",
            "IncorrectStatus.VpcRouteTable",
            "IncorrectStatus",
            "LastTokenProcessing",
            "TokenProcessing",
            "SystemBusy",
            "Operation.Blocking",
            "dwlink.Transport",
        ] {
            assert!(is_retryable(&err(400, code)), "{code}");
        }
        for code in [
            "InvalidParameter",
            "MissingParameter",
            "Forbidden.RAM",
            "SignatureDoesNotMatch",
            "IdempotentParameterMismatch",
            "InvalidVpcId.NotFound",
            "IncorrectStatusX",
            "dwlink.Deadline",
            "dwlink.Credentials",
        ] {
            assert!(!is_retryable(&err(400, code)), "{code}");
        }
        assert!(is_retryable(&err(502, "BadGateway")));
        assert!(is_retryable(&err(500, "Anything")));
        assert!(is_retryable(&err(429, "HTTP429")));
        assert!(!is_retryable(&err(404, "HTTP404")));
    }

    #[test]
    fn backoff_is_bounded_full_jitter() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            ..Default::default()
        };
        for _ in 0..200 {
            assert!(p.backoff(1) <= Duration::from_millis(100));
            assert!(p.backoff(3) <= Duration::from_millis(400));
            assert!(p.backoff(40) <= Duration::from_millis(1000));
        }
    }
}
