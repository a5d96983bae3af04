//! STS: `AssumeRole` into another account's RAM role (cached, refreshed before expiry) and
//! `GetCallerIdentity` (an account's UID).

use super::client::AccountClient;
use super::credentials::{Credentials, Secret};
use super::retry::CODE_RESPONSE;
use super::{Call, Caller, CloudError};
use dwlink_acs::Params;
use std::time::Duration;

pub const PRODUCT: &str = "Sts";
pub const VERSION: &str = "2015-04-01";

/// `acs:ram::<uid>:role/<name>`.
pub fn role_arn(account_uid: &str, role_name: &str) -> String {
    format!("acs:ram::{account_uid}:role/{role_name}")
}

/// What to assume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRoleSpec {
    /// `acs:ram::<uid>:role/<name>`; see [`role_arn`].
    pub role_arn: String,
    /// 2-64 characters of letters, digits and `.@-_`; shows up in A's ActionTrail.
    pub session_name: String,
    /// 900 up to the role's MaxSessionDuration.
    pub duration_seconds: u32,
    /// STS region; empty uses the central endpoint `sts.aliyuncs.com`.
    pub region: String,
}

impl AssumeRoleSpec {
    /// A one-hour session named `dwlink-<session>` (the session part is sanitised to the
    /// characters STS accepts).
    pub fn new(role_arn: impl Into<String>, session: &str) -> Self {
        let clean: String = session
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || ".@-_".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .take(57)
            .collect();
        AssumeRoleSpec {
            role_arn: role_arn.into(),
            session_name: format!("dwlink-{clean}"),
            duration_seconds: 3600,
            region: String::new(),
        }
    }
}

/// The identity behind a set of credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The account UID.
    pub account_id: String,
    pub arn: String,
    pub identity_type: String,
    pub principal_id: String,
}

fn str_field(v: &serde_json::Value, name: &str) -> Option<String> {
    match v.get(name)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn bad_response(via: &AccountClient, action: &str, what: &str) -> CloudError {
    CloudError {
        http_status: 200,
        code: CODE_RESPONSE.into(),
        message: format!("the {action} response has no {what}"),
        request_id: String::new(),
        recommend: String::new(),
        account: via.account().to_string(),
        region: String::new(),
        product: PRODUCT.into(),
        action: action.into(),
    }
}

/// Calls `GetCallerIdentity` with `client`'s credentials.
pub async fn get_caller_identity(client: &AccountClient) -> Result<CallerIdentity, CloudError> {
    let body = client
        .call(Call::new(PRODUCT, VERSION, "GetCallerIdentity", ""))
        .await?;
    Ok(CallerIdentity {
        account_id: str_field(&body, "AccountId")
            .ok_or_else(|| bad_response(client, "GetCallerIdentity", "AccountId"))?,
        arn: str_field(&body, "Arn").unwrap_or_default(),
        identity_type: str_field(&body, "IdentityType").unwrap_or_default(),
        principal_id: str_field(&body, "PrincipalId").unwrap_or_default(),
    })
}

/// Calls `AssumeRole` with `via`'s credentials. The returned credentials always carry an
/// expiry: the response's, or now + the requested duration if the response has none.
pub async fn assume_role(
    via: &AccountClient,
    spec: &AssumeRoleSpec,
) -> Result<Credentials, CloudError> {
    let call = Call::new(PRODUCT, VERSION, "AssumeRole", &spec.region).params(
        Params::new()
            .set("RoleArn", &spec.role_arn)
            .set("RoleSessionName", &spec.session_name)
            .set("DurationSeconds", spec.duration_seconds),
    );
    let body = via.call(call).await?;
    let c = body
        .get("Credentials")
        .ok_or_else(|| bad_response(via, "AssumeRole", "Credentials"))?;
    let get = |name: &str| {
        str_field(c, name)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad_response(via, "AssumeRole", &format!("Credentials.{name}")))
    };
    let expiration = str_field(c, "Expiration")
        .and_then(|e| e.parse::<jiff::Timestamp>().ok())
        .unwrap_or_else(|| {
            jiff::Timestamp::now()
                + jiff::SignedDuration::from_secs(i64::from(spec.duration_seconds))
        });
    Ok(Credentials {
        access_key_id: get("AccessKeyId")?,
        access_key_secret: Secret::new(get("AccessKeySecret")?),
        security_token: Some(Secret::new(get("SecurityToken")?)),
        expiration: Some(expiration),
    })
}

/// Assumed-role credentials for one account, fetched on first use and refreshed once they
/// are within `margin` of expiring. Concurrent callers share one refresh.
pub(crate) struct AssumedRole {
    via: AccountClient,
    spec: AssumeRoleSpec,
    margin: Duration,
    cache: tokio::sync::Mutex<Option<Credentials>>,
}

impl AssumedRole {
    pub fn new(via: AccountClient, spec: AssumeRoleSpec, margin: Duration) -> Self {
        // A margin as long as the session would refresh on every call.
        let margin = margin.min(Duration::from_secs(u64::from(spec.duration_seconds) / 2));
        AssumedRole {
            via,
            spec,
            margin,
            cache: tokio::sync::Mutex::new(None),
        }
    }

    pub fn spec(&self) -> &AssumeRoleSpec {
        &self.spec
    }

    pub fn via(&self) -> &AccountClient {
        &self.via
    }

    fn fresh(&self, creds: &Credentials) -> bool {
        let margin = jiff::SignedDuration::try_from(self.margin).unwrap_or_default();
        match creds.expiration {
            Some(exp) => exp.duration_since(jiff::Timestamp::now()) > margin,
            None => true,
        }
    }

    /// Cancellation-safe: a dropped refresh leaves the cache as it was.
    pub async fn credentials(&self) -> Result<Credentials, CloudError> {
        let mut cache = self.cache.lock().await;
        if let Some(creds) = cache.as_ref().filter(|c| self.fresh(c)) {
            return Ok(creds.clone());
        }
        tracing::debug!(
            via = self.via.account(),
            role_arn = %self.spec.role_arn,
            "assuming role"
        );
        let creds = assume_role(&self.via, &self.spec).await?;
        *cache = Some(creds.clone());
        Ok(creds)
    }

    /// Drops the cached credentials (e.g. the cloud said the token expired).
    pub async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }
}
