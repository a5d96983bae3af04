//! The client: a [`Cloud`] shared by the whole run (HTTP client, config, rate limiters, write
//! locks, call counts) and an [`AccountClient`] per account, which implements [`Caller`].

use super::accounting::{Accounting, CallCounts, is_read};
use super::credentials::{CredentialEnv, CredentialError, Credentials, SourceCredentials};
use super::endpoints::Endpoints;
use super::ratelimit::{KeyedLocks, RateLimiter, RateLimits, SerialGuard};
use super::retry::{self, CODE_CREDENTIALS, CODE_DEADLINE, CODE_ENDPOINT, RetryPolicy};
use super::sts::{self, AssumeRoleSpec, AssumedRole, CallerIdentity};
use super::transport::{self, Failure};
use super::{BoxFuture, Call, Caller, CloudError};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Everything configurable about the client.
#[derive(Debug, Clone)]
pub struct CloudConfig {
    pub endpoints: Endpoints,
    pub retry: RetryPolicy,
    pub rate_limits: RateLimits,
    /// Assumed-role credentials are refreshed this long before they expire.
    pub refresh_margin: Duration,
    /// Connect timeout of one attempt (the whole attempt is bounded by `retry.attempt_timeout`).
    pub connect_timeout: Duration,
}

impl Default for CloudConfig {
    fn default() -> Self {
        CloudConfig {
            endpoints: Endpoints::default(),
            retry: RetryPolicy::default(),
            rate_limits: RateLimits::default(),
            refresh_margin: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

impl CloudConfig {
    /// The defaults, with every product sent to `endpoint` (`--endpoint` / `DWLINK_ENDPOINT`).
    pub fn with_endpoint(endpoint: Option<String>) -> Self {
        CloudConfig {
            endpoints: Endpoints {
                all: endpoint,
                ..Default::default()
            },
            ..Default::default()
        }
    }
}

struct Shared {
    http: reqwest::Client,
    config: CloudConfig,
    limiter: RateLimiter,
    locks: KeyedLocks,
    accounting: Accounting,
}

/// The client state shared by every account in a run. Cheap to clone.
#[derive(Clone)]
pub struct Cloud {
    shared: Arc<Shared>,
}

/// The client cannot start: a bad endpoint override or an HTTP client failure.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(String);

impl Cloud {
    pub fn new(config: CloudConfig) -> Result<Cloud, SetupError> {
        config.endpoints.validate().map_err(SetupError)?;
        // reqwest is built with `rustls-no-provider`: pick ring once per process. A second
        // install (another Cloud, a test) fails harmlessly.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .tls_backend_rustls()
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("dwlink/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SetupError(format!("cannot create the HTTP client: {e}")))?;
        Ok(Cloud {
            shared: Arc::new(Shared {
                http,
                limiter: RateLimiter::new(config.rate_limits.clone()),
                config,
                locks: KeyedLocks::default(),
                accounting: Accounting::default(),
            }),
        })
    }

    /// A client for `account` (its name in the link file, used in messages and counts) with
    /// fixed credentials.
    pub fn with_credentials(&self, account: &str, credentials: Credentials) -> AccountClient {
        self.client(account, Provider::Fixed(credentials))
    }

    /// A client for `account` with credentials from `profile` (link file), else the
    /// environment, else the aliyun CLI config. A `RamRoleArn` profile assumes its role.
    pub fn from_source(
        &self,
        account: &str,
        profile: Option<&str>,
        env: &CredentialEnv,
    ) -> Result<AccountClient, CredentialError> {
        let resolved = env
            .resolve(profile)
            .map_err(|e| CredentialError(format!("credentials for account {account}: {}", e.0)))?;
        tracing::debug!(account, source = %resolved.source, "credentials found");
        Ok(match resolved.credentials {
            SourceCredentials::Static(creds) => self.with_credentials(account, creds),
            SourceCredentials::RamRoleArn {
                base,
                role_arn,
                session_name,
                duration_seconds,
            } => {
                let via = self.with_credentials(&format!("{account} (role source)"), base);
                let mut spec = AssumeRoleSpec::new(role_arn, account);
                if let Some(name) = session_name {
                    spec.session_name = name;
                }
                if let Some(d) = duration_seconds {
                    spec.duration_seconds = d;
                }
                self.assume_role(account, &via, spec)
            }
        })
    }

    /// A client for `account` acting through a role assumed with `via`'s credentials (the
    /// usual way to reach the data-source account A from the DataWorks account B).
    pub fn assume_role(
        &self,
        account: &str,
        via: &AccountClient,
        spec: AssumeRoleSpec,
    ) -> AccountClient {
        let assumed = AssumedRole::new(via.clone(), spec, self.shared.config.refresh_margin);
        self.client(account, Provider::Assumed(Arc::new(assumed)))
    }

    fn client(&self, account: &str, provider: Provider) -> AccountClient {
        AccountClient {
            cloud: self.clone(),
            name: account.into(),
            provider,
        }
    }

    /// Serialises writes to one resource (route table, whitelist group, peering connection):
    /// holds until no other holder of `key` remains; release by dropping the guard.
    pub async fn serialize(&self, key: &str) -> SerialGuard {
        self.shared.locks.lock(key).await
    }

    /// Calls made so far, per account name.
    pub fn call_counts(&self) -> BTreeMap<String, CallCounts> {
        self.shared.accounting.snapshot()
    }
}

#[derive(Clone)]
enum Provider {
    Fixed(Credentials),
    Assumed(Arc<AssumedRole>),
}

/// Makes calls in one account. Cheap to clone.
#[derive(Clone)]
pub struct AccountClient {
    cloud: Cloud,
    name: Arc<str>,
    provider: Provider,
}

impl std::fmt::Debug for AccountClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("AccountClient");
        d.field("account", &self.name);
        match &self.provider {
            Provider::Fixed(c) => d.field("access_key_id", &c.access_key_id),
            Provider::Assumed(a) => d.field("role_arn", &a.spec().role_arn),
        };
        d.finish()
    }
}

/// Codes meaning the credentials themselves went stale; assumed ones are fetched anew once.
const STALE_CREDENTIALS: &[&str] = &[
    "InvalidAccessKeyId.NotFound",
    "InvalidSecurityToken.Expired",
    "SecurityTokenExpired",
];

impl AccountClient {
    pub fn cloud(&self) -> &Cloud {
        &self.cloud
    }

    /// The account's identity (UID in `account_id`), from `GetCallerIdentity`.
    pub async fn caller_identity(&self) -> Result<CallerIdentity, CloudError> {
        sts::get_caller_identity(self).await
    }

    /// The credentials the next call will use (assuming the role if needed).
    pub async fn credentials(&self) -> Result<Credentials, CloudError> {
        match &self.provider {
            Provider::Fixed(c) => Ok(c.clone()),
            Provider::Assumed(a) => a.credentials().await.map_err(|mut e| {
                // Say which account the role was for, keeping the STS error's own code.
                e.message = format!(
                    "{} (assuming role {} for account {} with the credentials of {})",
                    e.message,
                    a.spec().role_arn,
                    self.name,
                    a.via().account()
                );
                e
            }),
        }
    }

    fn error(&self, call: &Call, f: Failure, creds: Option<&Credentials>) -> CloudError {
        let mut message = f.message;
        // A server may echo what it signed (e.g. the security token header); never pass it on.
        for secret in creds.into_iter().flat_map(Credentials::secrets) {
            message = message.replace(secret, "<redacted>");
        }
        CloudError {
            http_status: f.http_status,
            code: f.code,
            message,
            request_id: f.request_id,
            recommend: f.recommend,
            account: self.name.to_string(),
            region: call.region.clone(),
            product: call.product.clone(),
            action: call.action.clone(),
        }
    }

    async fn execute(&self, call: Call) -> Result<serde_json::Value, CloudError> {
        let shared = &self.cloud.shared;
        let policy = &shared.config.retry;
        let deadline = Instant::now() + policy.call_deadline;
        shared.accounting.call(&self.name, &call.action);
        let result = self.attempts(&call, policy, deadline).await;
        if let Err(e) = &result {
            shared.accounting.failure(&self.name);
            tracing::debug!(
                account = %self.name, product = %call.product, action = %call.action,
                region = %call.region, code = %e.code, http_status = e.http_status,
                request_id = %e.request_id, "cloud call failed"
            );
        }
        result
    }

    async fn attempts(
        &self,
        call: &Call,
        policy: &RetryPolicy,
        deadline: Instant,
    ) -> Result<serde_json::Value, CloudError> {
        let shared = &self.cloud.shared;
        let endpoint = shared
            .config
            .endpoints
            .resolve(&call.product, &call.region)
            .map_err(|m| self.error(call, Failure::new(CODE_ENDPOINT, m), None))?;
        let mut params = call.params.clone();
        // STS is global and has no RegionId parameter; every other API takes one.
        if !call.region.is_empty()
            && !call.product.eq_ignore_ascii_case(sts::PRODUCT)
            && !params.contains("RegionId")
        {
            params.insert("RegionId", &call.region);
        }
        let deadline_error = |last: Option<&CloudError>, attempts: u32| {
            let mut f = Failure::new(
                CODE_DEADLINE,
                format!(
                    "no success within the call deadline of {:?} ({attempts} attempt(s)){}; try again later or raise the deadline",
                    policy.call_deadline,
                    last.map(|e| format!("; last error {}: {}", e.code, e.message))
                        .unwrap_or_default()
                ),
            );
            if let Some(e) = last {
                f.http_status = e.http_status;
                f.request_id = e.request_id.clone();
            }
            self.error(call, f, None)
        };

        let mut attempt = 0u32;
        let mut refreshed = false;
        let mut last: Option<CloudError> = None;
        loop {
            attempt += 1;
            let creds = match tokio::time::timeout_at(deadline, self.credentials()).await {
                Ok(Ok(c)) => c,
                Ok(Err(mut e)) => {
                    if !e.code.starts_with("dwlink.") || e.code == CODE_DEADLINE {
                        // Keep the STS code, but make clear the call never left.
                        e.message = format!("{}: {}", e.code, e.message);
                        e.code = CODE_CREDENTIALS.into();
                    }
                    return Err(e);
                }
                Err(_) => return Err(deadline_error(last.as_ref(), attempt - 1)),
            };
            if tokio::time::timeout_at(
                deadline,
                shared
                    .limiter
                    .acquire(&self.name, &call.product, &call.action),
            )
            .await
            .is_err()
            {
                return Err(deadline_error(last.as_ref(), attempt - 1));
            }
            tracing::debug!(
                account = %self.name, product = %call.product, action = %call.action,
                region = %call.region, attempt, "cloud call"
            );
            tracing::trace!(
                params = ?params.iter().map(|(k, _)| k).collect::<Vec<_>>(),
                host = %endpoint.host,
                "cloud call parameter names"
            );
            let request = transport::Request {
                endpoint: &endpoint,
                method: call.method,
                action: &call.action,
                version: &call.version,
                params: &params.0,
                credentials: &creds,
            };
            let attempt_end = (Instant::now() + policy.attempt_timeout).min(deadline);
            let outcome =
                tokio::time::timeout_at(attempt_end, transport::send(&shared.http, &request)).await;
            let failure = match outcome {
                Ok(Ok(body)) => return Ok(body),
                Ok(Err(f)) => f,
                Err(_) if attempt_end >= deadline => {
                    return Err(deadline_error(last.as_ref(), attempt));
                }
                Err(_) => Failure::new(
                    retry::CODE_TRANSPORT,
                    format!(
                        "no response within {:?} from {}; check the network and the endpoint",
                        policy.attempt_timeout, endpoint.host
                    ),
                ),
            };
            let err = self.error(call, failure, Some(&creds));
            if let Provider::Assumed(a) = &self.provider
                && !refreshed
                && STALE_CREDENTIALS.contains(&err.code.as_str())
            {
                // The role's token was revoked or expired early: fetch a new one, once.
                refreshed = true;
                a.invalidate().await;
                last = Some(err);
                continue;
            }
            if !retry::is_retryable(&err) || attempt >= policy.max_attempts {
                return Err(err);
            }
            let removes = ["Delete", "Revoke", "Dissociate", "Disable"]
                .iter()
                .any(|p| call.action.starts_with(p));
            // A removal refused because the resource is busy (e.g. an attachment still
            // detaching from an earlier delete) is answered at once: whether it is gone is for
            // the caller to read, not for retries to guess at for minutes.
            if removes && retry::is_busy(&err) {
                return Err(err);
            }
            // A write without a ClientToken cannot be told apart from its own retry: sent again
            // after a failure that may have taken effect, it could create a second resource.
            // Stop and let the caller look (the engine re-observes and adopts what it finds).
            // Removing twice is harmless (the second answers "not found").
            if !is_read(&call.action)
                && !removes
                && call.params.get("ClientToken").is_none()
                && retry::may_have_taken_effect(&err)
            {
                let mut err = err;
                err.message = format!(
                    "{}; the request may have been carried out, and this call has no ClientToken, so it was not sent again: run again, dwlink looks for what it created first",
                    err.message
                );
                return Err(err);
            }
            let wait = policy.backoff(attempt);
            if Instant::now() + wait >= deadline {
                return Err(deadline_error(Some(&err), attempt));
            }
            tracing::debug!(
                account = %self.name, action = %call.action, code = %err.code,
                http_status = err.http_status, attempt, wait_ms = wait.as_millis() as u64,
                "retrying cloud call"
            );
            shared.accounting.retry(&self.name);
            last = Some(err);
            tokio::time::sleep(wait).await;
        }
    }
}

impl Caller for AccountClient {
    fn call(&self, call: Call) -> BoxFuture<'_, Result<serde_json::Value, CloudError>> {
        Box::pin(self.execute(call))
    }

    fn account(&self) -> &str {
        &self.name
    }
}
