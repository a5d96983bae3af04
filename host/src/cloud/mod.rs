//! The Alibaba Cloud OpenAPI client: every cloud call dwlink makes, its own and its plugins',
//! goes through here.
//!
//! The seam the rest of the host codes against is [`Caller`]: one RPC call in one account,
//! answering the parsed JSON body or a typed [`CloudError`]. [`AccountClient`] implements it
//! on top of a run-wide [`Cloud`]:
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use dwlink_host::cloud::*;
//! let cloud = Cloud::new(CloudConfig::with_endpoint(None))?;
//! // Account B (DataWorks): link-file profile, else env, else ~/.aliyun/config.json.
//! let b = cloud.from_source("b", None, &CredentialEnv::from_process())?;
//! // Account A (data source): a role in A assumed with B's credentials.
//! let a = cloud.assume_role("a", &b, AssumeRoleSpec::new(role_arn("1234567890", "dwlink"), "link-1"));
//! let vpcs = a.call(Call::new("Vpc", "2016-04-28", "DescribeVpcs", "cn-hangzhou")).await?;
//! # Ok(()) }
//! ```
//!
//! One module per concept: `endpoints`, `credentials`, `sts`, `retry`, `ratelimit`,
//! `idempotency`, `accounting`, `transport` (signing and the wire), `client` (the glue).

// `CloudError` is the seam's error type and carries its context by value on purpose.
#![allow(clippy::result_large_err)]

mod accounting;
mod call;
mod client;
mod credentials;
mod endpoints;
mod idempotency;
mod ratelimit;
mod retry;
mod sts;
mod transport;

pub use accounting::{CallCounts, is_read};
pub use call::{BoxFuture, Call, Caller, CloudError, Method};
pub use client::{AccountClient, Cloud, CloudConfig, SetupError};
pub use credentials::{
    CredentialEnv, CredentialError, Credentials, ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET,
    ENV_PROFILE, ENV_SECURITY_TOKEN, Resolved, Secret, SourceCredentials,
};
pub use endpoints::{Endpoint, Endpoints, default_host};
pub use idempotency::client_token;
pub use ratelimit::{Rate, RateLimits, SerialGuard};
pub use retry::{
    CODE_CREDENTIALS, CODE_DEADLINE, CODE_ENDPOINT, CODE_RESPONSE, CODE_TRANSPORT, RetryPolicy,
    is_busy, is_retryable,
};
pub use sts::{AssumeRoleSpec, CallerIdentity, assume_role, get_caller_identity, role_arn};
