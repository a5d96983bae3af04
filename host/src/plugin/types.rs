//! Host-side mirrors of the WIT records (`wit/since_v0.1.0/plugin.wit`), independent of any
//! one contract version: the runtime converts each version's bindings into these, and the
//! engine codes against them only.

use serde::{Deserialize, Serialize};

/// What a plugin is (`describe`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    /// The data-source type as DataWorks names it, e.g. `mysql`.
    pub datasource_type: String,
    /// Product code, e.g. `Rds`.
    pub product: String,
    pub api_version: String,
    /// Declared actions, `product:Action` with a lower-case product code.
    pub actions: Vec<String>,
    pub summary: String,
}

/// Which instance to work on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceRef {
    pub id: String,
    pub region: String,
}

/// A private endpoint of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub role: String,
    /// The IPv4 address inside the VPC, when the plugin reports it (contract 0.2 and later).
    /// The host checks that it lies in the host-verified vSwitch CIDR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<std::net::Ipv4Addr>,
}

/// Where an instance lives on the network (`discover`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub region: String,
    pub zone: String,
    pub vpc_id: String,
    pub vswitch_id: String,
    /// Validated by the runtime: an IPv4 CIDR block.
    pub vswitch_cidr: ipnet::Ipv4Net,
    pub endpoints: Vec<Endpoint>,
    pub status: String,
    pub running: bool,
}

/// One whitelist group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhitelistGroup {
    pub name: String,
    pub entries: Vec<String>,
    pub attribute: String,
}

/// Input of `connection-properties`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionRequest {
    pub instance: InstanceRef,
    pub location: Location,
    pub owner_uid: String,
    pub role_name: String,
    pub database: String,
    pub username: String,
    pub env_type: String,
}

/// A failure the plugin itself reported (the WIT `plugin-error` variant).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginFailure {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid state: {0}")]
    InvalidState(String),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    #[error("cloud error {code}: {message}{}", if request_id.is_empty() { String::new() } else { format!(" (request id {request_id})") })]
    Cloud {
        code: String,
        message: String,
        request_id: String,
        http_status: u16,
    },
    #[error("{0}")]
    Other(String),
}
