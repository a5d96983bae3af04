//! Host-side mirrors of the WIT records (`wit/since_v0.2.0/plugin.wit`, the newest contract),
//! independent of any one contract version: the runtime converts each version's bindings into
//! these, and the engine codes against them only.

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
    /// Declared actions, `product:Action` with a lower-case product code (one per capability).
    pub actions: Vec<String>,
    pub summary: String,
    /// What each declared call may do. A 0.1 plugin declares bare actions; the host derives
    /// these for it (see `gate::capabilities_for_v0_1`).
    pub capabilities: Vec<Capability>,
}

/// What a declared call may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// `Describe*`, `List*`, `Get*`: nothing changes.
    Read,
    /// Adds or removes the host's whitelist entries of the link's instance.
    WhitelistWrite,
    /// Declared by a 0.1 plugin, but neither a read nor a write whose parameters the host
    /// knows: every call is refused as out of scope.
    Refused,
}

/// Where a whitelist write carries its group, entries and mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhitelistParams {
    pub group_param: String,
    pub entries_param: String,
    pub mode_param: String,
    pub append_mode: String,
    pub delete_mode: String,
    /// Other parameters a write may send, each with its one allowed value.
    pub fixed_params: Vec<(String, String)>,
}

/// One call a plugin may make (the WIT `capability`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capability {
    /// Product code as declared, e.g. `Rds`.
    pub product: String,
    pub version: String,
    pub action: String,
    pub access: Access,
    /// The parameter that must carry the link's instance id.
    pub instance_param: Option<String>,
    /// For [`Access::WhitelistWrite`].
    pub whitelist: Option<WhitelistParams>,
}

impl Capability {
    /// `product:Action` with the product in lower case, as 0.1 declared actions.
    pub fn declared(&self) -> String {
        format!("{}:{}", self.product.to_ascii_lowercase(), self.action)
    }

    /// One line for people: what the plugin may do with this call.
    pub fn describe(&self) -> String {
        let on = match &self.instance_param {
            Some(p) => format!("of the link's instance only ({p})"),
            None => "naming no instance".into(),
        };
        match (&self.access, &self.whitelist) {
            (Access::Read, _) => format!("read {} {on}", self.declared()),
            (Access::WhitelistWrite, Some(w)) => format!(
                "change the whitelist with {} {on}: only dwlink's group ({}), only the resource \
                 group's CIDR ({}), mode {} or {} ({}), only during run/destroy",
                self.declared(),
                w.group_param,
                w.entries_param,
                w.append_mode,
                w.delete_mode,
                w.mode_param
            ),
            (Access::WhitelistWrite, None) => {
                format!("change the whitelist with {}", self.declared())
            }
            (Access::Refused, _) => format!(
                "{} is declared, but every call is refused: it is not a read and the host does \
                 not know its parameters",
                self.declared()
            ),
        }
    }
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
