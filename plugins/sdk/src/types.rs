//! The contract's records as plain Rust types, independent of the generated bindings.
//!
//! They mirror `wit/since_v0.2.0/plugin.wit` field for field; the export glue converts them.

/// What a plugin is: returned by [`crate::Plugin::describe`], which must not call the cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    /// Short lowercase name, e.g. `rds-mysql`.
    pub name: String,
    /// The plugin's own version, e.g. `0.1.0`.
    pub version: String,
    /// The data-source type as DataWorks names it, e.g. `mysql`.
    pub datasource_type: String,
    /// The product code the actions belong to, e.g. `Rds`.
    pub product: String,
    /// The product API version, e.g. `2014-08-15`.
    pub api_version: String,
    /// Every call the plugin may make: build them with [`crate::Api::read`] and
    /// [`crate::Api::whitelist_write`]. The host refuses any other call.
    pub capabilities: Vec<Capability>,
    /// One line for people, e.g. `ApsaraDB RDS for MySQL`.
    pub summary: String,
}

impl PluginInfo {
    /// The declared calls as `product:Action` names (product code in lower case).
    pub fn actions(&self) -> Vec<String> {
        self.capabilities.iter().map(Capability::declared).collect()
    }
}

/// What a declared call may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A `Describe*`, `List*` or `Get*` call.
    Read,
    /// Adds or removes whitelist entries of the link's instance; the host allows it only for
    /// the group, entries and mode it asked for.
    WhitelistWrite,
}

/// Where a whitelist write carries its group, entries and mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhitelistParams {
    /// The group parameter, e.g. `DBInstanceIPArrayName`.
    pub group_param: String,
    /// The entries parameter (comma-separated), e.g. `SecurityIps`.
    pub entries_param: String,
    /// The mode parameter, e.g. `ModifyMode`.
    pub mode_param: String,
    /// The value that appends, e.g. `Append`.
    pub append_mode: String,
    /// The value that deletes, e.g. `Delete`.
    pub delete_mode: String,
    /// Other parameters the write sends, each with its one value.
    pub fixed_params: Vec<(String, String)>,
}

impl WhitelistParams {
    /// The common shape: `ModifyMode` = `Append` | `Delete`, entries in `SecurityIps`, the
    /// group in `group_param`.
    pub fn modify_mode(group_param: &str) -> Self {
        WhitelistParams {
            group_param: group_param.into(),
            entries_param: "SecurityIps".into(),
            mode_param: "ModifyMode".into(),
            append_mode: "Append".into(),
            delete_mode: "Delete".into(),
            fixed_params: Vec::new(),
        }
    }
}

/// One call a plugin may make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capability {
    /// Product code, e.g. `Rds`.
    pub product: String,
    /// API version, e.g. `2014-08-15`.
    pub version: String,
    /// Action, e.g. `ModifySecurityIps`.
    pub action: String,
    /// What the call may do.
    pub access: Access,
    /// The parameter carrying the link's instance id; `None` for a read that names none.
    pub instance_param: Option<String>,
    /// For [`Access::WhitelistWrite`].
    pub whitelist: Option<WhitelistParams>,
}

impl Capability {
    /// `product:Action` with the product code in lower case.
    pub fn declared(&self) -> String {
        crate::declared_action(&self.product, &self.action)
    }
}

/// Which instance to work on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRef {
    /// The instance id, e.g. `rm-bp1xxxx`.
    pub id: String,
    /// Its region, e.g. `cn-hangzhou`.
    pub region: String,
}

impl InstanceRef {
    /// An instance reference from an id and a region.
    pub fn new(id: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            region: region.into(),
        }
    }
}

/// A private network endpoint of the instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name (or IP address) inside the VPC.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// What it is for, e.g. `primary`, `cluster`, `mongos`, `replica-primary`.
    pub role: String,
    /// Its IPv4 address inside the VPC when the product reports it; the host checks it.
    pub address: Option<String>,
}

/// Where an instance lives on the network.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// Region id.
    pub region: String,
    /// Zone of the instance's vSwitch.
    pub zone: String,
    /// The instance's VPC.
    pub vpc_id: String,
    /// The vSwitch of the private endpoint.
    pub vswitch_id: String,
    /// That vSwitch's IPv4 CIDR block.
    pub vswitch_cidr: String,
    /// Private endpoints, the one DataWorks should use first.
    pub endpoints: Vec<Endpoint>,
    /// The product's own status word, e.g. `Running`.
    pub status: String,
    /// True when the instance is ready for whitelist changes. The host polls `discover` for
    /// it after a change: plugins do not wait.
    pub running: bool,
}

/// One whitelist group and its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhitelistGroup {
    /// Group name, e.g. `default`.
    pub name: String,
    /// Entries in the product's order (IPv4 addresses or CIDR blocks).
    pub entries: Vec<String>,
    /// The product's group attribute, e.g. `hidden`; empty when none.
    pub attribute: String,
}

/// What the DataWorks data source should be registered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRequest {
    /// The instance, as passed to `discover`.
    pub instance: InstanceRef,
    /// Its location, as `discover` returned it.
    pub location: Location,
    /// UID of the account that owns the instance.
    pub owner_uid: String,
    /// RAM role in that account that DataWorks assumes.
    pub role_name: String,
    /// Database name.
    pub database: String,
    /// Database user name.
    pub username: String,
    /// DataWorks environment, `Dev` or `Prod`.
    pub env_type: String,
}

impl ConnectionRequest {
    /// Checks the fields every data-source type needs: `Dev`/`Prod`, a numeric owner UID, a
    /// role name, a database and a user name. Errors name `subject` and the bad field.
    pub fn check(&self, subject: &crate::Subject<'_>) -> Result<(), crate::PluginError> {
        let bad = |what: String| {
            Err(crate::PluginError::InvalidInput(format!(
                "{}: connection properties: {what}",
                subject.describe()
            )))
        };
        if self.env_type != "Dev" && self.env_type != "Prod" {
            return bad(format!(
                "environment {:?} is neither Dev nor Prod",
                self.env_type
            ));
        }
        if self.owner_uid.is_empty() || !self.owner_uid.bytes().all(|b| b.is_ascii_digit()) {
            return bad(format!(
                "owner account UID {:?} is not a numeric Alibaba Cloud UID",
                self.owner_uid
            ));
        }
        for (field, value) in [
            ("RAM role name", &self.role_name),
            ("database", &self.database),
            ("user name", &self.username),
        ] {
            if value.trim().is_empty() {
                return bad(format!("the {field} is empty; set it in the link file"));
            }
        }
        Ok(())
    }
}

/// Log levels for [`crate::log`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}
