//! Plugin errors, and turning a cloud error into one a user can act on.

use crate::CloudError;

/// Why a plugin operation failed (the contract's `plugin-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginError {
    /// The instance does not exist in that region of that account.
    NotFound(String),
    /// The instance is not in a state that allows the operation.
    InvalidState(String),
    /// The request was wrong (bad CIDR, a group name the product refuses, ...).
    InvalidInput(String),
    /// A product limit would be exceeded.
    LimitExceeded(String),
    /// A cloud error that is none of the above; its message carries the context.
    Cloud(CloudError),
    /// Anything else; the message says what went wrong and what to do.
    Other(String),
}

impl core::fmt::Display for PluginError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NotFound(m) => write!(f, "not found: {m}"),
            Self::InvalidState(m) => write!(f, "invalid state: {m}"),
            Self::InvalidInput(m) => write!(f, "invalid input: {m}"),
            Self::LimitExceeded(m) => write!(f, "limit exceeded: {m}"),
            Self::Cloud(e) => write!(f, "cloud error: {e}"),
            Self::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for PluginError {}

/// The resource an operation works on, so every error names it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// What it is, for people, e.g. `RDS instance`, `PolarDB cluster`.
    pub kind: &'a str,
    /// Its id.
    pub id: &'a str,
    /// Its region.
    pub region: &'a str,
}

impl Subject<'_> {
    /// `RDS instance rm-xxx in cn-hangzhou`.
    pub fn describe(&self) -> String {
        format!("{} {} in {}", self.kind, self.id, self.region)
    }

    /// Classifies a cloud error from `action` (e.g. `rds:ModifySecurityIps`) into the plugin
    /// error a user can act on, naming the resource and the step.
    pub fn cloud_error(&self, action: &str, err: CloudError) -> PluginError {
        let who = self.describe();
        let code = err.code.as_str();
        let detail = format!("{action} answered {err}");
        match classify(code) {
            Class::NotFound => PluginError::NotFound(format!(
                "{who} was not found ({detail}). Check the instance id and region in the link \
                 file, and that the credentials used belong to the account that owns it."
            )),
            Class::State => PluginError::InvalidState(format!(
                "{who} is busy or not running ({detail}). Wait until it is Running with no task \
                 in progress, then run again."
            )),
            Class::Limit => PluginError::LimitExceeded(format!(
                "{who}: a product limit was reached ({detail}). Remove whitelist entries or \
                 groups that are no longer used, then run again."
            )),
            Class::Input => PluginError::InvalidInput(format!(
                "{who}: the cloud refused the request ({detail}). Check the value it names."
            )),
            Class::Other(hint) => PluginError::Cloud(CloudError {
                message: format!("{who}: {action} failed: {}. {hint}", err.message),
                ..err
            }),
        }
    }
}

enum Class {
    NotFound,
    State,
    Limit,
    Input,
    Other(&'static str),
}

fn classify(code: &str) -> Class {
    let lower = code.to_ascii_lowercase();
    if code.starts_with("dwlink.") {
        return Class::Other("This is a dwlink host refusal; see its message.");
    }
    if lower.starts_with("throttling") || lower.contains("throttling") {
        return Class::Other("The cloud is rate limiting this account; run again later.");
    }
    if lower.starts_with("forbidden") || lower.contains("nopermission") {
        return Class::Other(
            "The credentials lack permission for this action; grant it to the RAM user or role.",
        );
    }
    if lower.starts_with("invalidaccesskeyid")
        || lower.starts_with("signature")
        || lower.starts_with("invalidapi")
        || lower.starts_with("invalidproduct")
    {
        return Class::Other("Check the account's credentials and the region.");
    }
    if lower.contains("notfound") || lower.contains("notexist") {
        return Class::NotFound;
    }
    if lower.contains("status")
        || lower.contains("state")
        || lower.contains("taskexists")
        || lower.contains("task.conflict")
        || lower.contains("operationconflict")
    {
        return Class::State;
    }
    if lower.contains("quota") || lower.contains("exceed") || lower.contains("limit") {
        return Class::Limit;
    }
    if lower.starts_with("invalid") || lower.starts_with("missing") {
        return Class::Input;
    }
    Class::Other("If it persists, open a ticket with the request id.")
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Subject<'static> = Subject {
        kind: "RDS instance",
        id: "rm-bp1simmysqlsource001",
        region: "cn-hangzhou",
    };

    fn err(code: &str) -> CloudError {
        CloudError {
            code: code.into(),
            message: "msg".into(),
            request_id: "req-1".into(),
            http_status: 400,
        }
    }

    #[test]
    fn classifies_product_codes_and_names_the_instance() {
        let cases = [
            ("InvalidDBInstanceId.NotFound", "not found"),
            ("InvalidDBCluster.NotFound", "not found"),
            ("IncorrectDBInstanceState", "invalid state"),
            ("OperationDenied.DBInstanceStatus", "invalid state"),
            ("OperationDenied.DBClusterStatus", "invalid state"),
            ("InstanceStatusInvalid", "invalid state"),
            ("TaskExists", "invalid state"),
            ("Task.Conflict", "invalid state"),
            ("InvalidSecurityIPs.Quota", "limit exceeded"),
            ("InvalidSecurityIPs.Format", "invalid input"),
            ("Throttling.User", "cloud error"),
            ("Forbidden.RAM", "cloud error"),
            ("InvalidAccessKeyId.NotFound", "cloud error"),
            ("InternalError", "cloud error"),
        ];
        for (code, prefix) in cases {
            let text = S
                .cloud_error("rds:ModifySecurityIps", err(code))
                .to_string();
            assert!(text.starts_with(prefix), "{code}: {text}");
            assert!(text.contains("rm-bp1simmysqlsource001"), "{text}");
            assert!(text.contains("cn-hangzhou"), "{text}");
            assert!(text.contains(code), "{text}");
        }
    }

    #[test]
    fn cloud_variant_keeps_code_and_request_id() {
        match S.cloud_error("rds:DescribeDBInstanceAttribute", err("InternalError")) {
            PluginError::Cloud(e) => {
                assert_eq!(e.code, "InternalError");
                assert_eq!(e.request_id, "req-1");
                assert_eq!(e.http_status, 400);
                assert!(e.message.contains("rds:DescribeDBInstanceAttribute"));
            }
            other => panic!("expected a cloud error, got {other:?}"),
        }
    }
}
