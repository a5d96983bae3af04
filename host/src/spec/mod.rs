//! The link file (TOML): which instance in account A, which DataWorks resource group in account B,
//! how to connect them. Parsed with `deny_unknown_fields` and validated before any cloud call;
//! every problem is a [`SpecError`] naming the file, the line and a fix.

mod validate;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

pub use validate::{SpecError, SpecErrorKind};

/// How the two VPCs are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// Peering for one point-to-point link; CEN when a CEN already joins either VPC.
    Auto,
    Peering,
    Cen,
}

/// How dwlink acts in the data-source account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Access {
    /// STS AssumeRole from account B into this role of account A (the usual case).
    RoleArn { arn: String, role_name: String },
    /// A credentials profile of account A (aliyun CLI config).
    Profile(String),
}

/// Data-source side (account A).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceSide {
    pub account_uid: String,
    pub region: String,
    pub instance_id: String,
    pub access: Access,
}

/// DataWorks side (account B).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataWorksSide {
    pub region: String,
    pub workspace_id: u64,
    pub resource_group_id: String,
    pub profile: Option<String>,
    pub data_source: DataSourceSpec,
}

/// The DataWorks data source dwlink registers to prove the link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataSourceSpec {
    pub name: String,
    pub database: String,
    pub user: String,
    /// Name of the environment variable holding the password (never the password).
    pub password_env: String,
    /// `Prod` or `Dev`.
    pub env_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkSpec {
    pub mode: NetworkMode,
    /// An existing CEN (in account B) to reuse.
    pub cen_id: Option<String>,
    /// Zone and CIDR for the second vSwitch CEN needs, when dwlink must create one.
    pub new_vswitch_zone: Option<String>,
    pub new_vswitch_cidr: Option<ipnet::Ipv4Net>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhitelistSpec {
    /// The whitelist group dwlink adds the resource group's vSwitch CIDR to.
    pub group: String,
    /// Whether to touch the whitelist at all.
    pub enabled: bool,
}

/// Plugin sandbox limits as written in the link file. A value above the host maximum (or zero)
/// is refused as bad input naming the key (see `Limits::with_overrides`), never clamped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub deadline_ms: Option<u64>,
    pub wall_ms: Option<u64>,
    pub fuel: Option<u64>,
    pub memory_mib: Option<u64>,
    pub max_component_mib: Option<u64>,
}

/// Client-side call rates for this link (calls per second, per account and API), as written in
/// the link file's `[rate_limits]`; unset values keep the client's defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateSpec {
    pub writes_per_second: Option<f64>,
    pub reads_per_second: Option<f64>,
    /// (product code in lower case, Action) -> calls per second, e.g.
    /// (`cbn`, `CreateTransitRouter`) -> 1.0.
    pub actions: BTreeMap<(String, String), f64>,
}

/// A validated link.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkSpec {
    pub file: PathBuf,
    pub source: SourceSide,
    pub dataworks: DataWorksSide,
    pub network: NetworkSpec,
    pub whitelist: WhitelistSpec,
    /// Per-product endpoint overrides, product code (lower case) -> URL.
    pub endpoints: BTreeMap<String, String>,
    pub limits: Limits,
    pub rate_limits: RateSpec,
}

impl LinkSpec {
    /// Reads and validates a link file.
    pub fn load(path: &Path) -> Result<LinkSpec, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|e| SpecError::read(path, &e))?;
        Self::parse(path, &text)
    }

    /// Parses and validates link-file text; `path` is only used in messages.
    pub fn parse(path: &Path, text: &str) -> Result<LinkSpec, SpecError> {
        validate::parse(path, text)
    }

    /// A stable id for this link, derived from what identifies it (the instance and the resource
    /// group), so a renamed or moved file still finds its journal and ClientTokens.
    pub fn link_id(&self) -> String {
        let identity = format!(
            "{}|{}|{}|{}|{}",
            self.source.account_uid,
            self.source.region,
            self.source.instance_id,
            self.dataworks.region,
            self.dataworks.resource_group_id
        );
        let digest = Sha256::digest(identity.as_bytes());
        format!("dwl-{}", &hex::encode(digest)[..16])
    }

    /// The RAM role name DataWorks uses in account A (cross-account mode).
    pub fn role_name(&self) -> Option<&str> {
        match &self.source.access {
            Access::RoleArn { role_name, .. } => Some(role_name),
            Access::Profile(_) => None,
        }
    }
}

// ---- raw (as written) ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLink {
    source: RawSource,
    dataworks: RawDataWorks,
    #[serde(default)]
    network: Option<RawNetwork>,
    #[serde(default)]
    whitelist: Option<RawWhitelist>,
    #[serde(default)]
    endpoints: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    limits: Option<Limits>,
    #[serde(default)]
    rate_limits: Option<RawRateLimits>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimits {
    writes_per_second: Option<Spanned<f64>>,
    reads_per_second: Option<Spanned<f64>>,
    #[serde(default)]
    actions: BTreeMap<Spanned<String>, Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    account_uid: Spanned<String>,
    region: Spanned<String>,
    instance_id: Spanned<String>,
    role_arn: Option<Spanned<String>>,
    profile: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDataWorks {
    region: Spanned<String>,
    workspace_id: Spanned<u64>,
    resource_group_id: Spanned<String>,
    profile: Option<Spanned<String>>,
    data_source: RawDataSource,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDataSource {
    name: Spanned<String>,
    database: Spanned<String>,
    user: Spanned<String>,
    password_env: Spanned<String>,
    env_type: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    mode: Option<NetworkMode>,
    cen_id: Option<Spanned<String>>,
    new_vswitch_zone: Option<Spanned<String>>,
    new_vswitch_cidr: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWhitelist {
    group: Option<Spanned<String>>,
    enabled: Option<bool>,
}

#[cfg(test)]
mod tests;
