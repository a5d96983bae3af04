//! DataWorks: workspaces, resource groups, networks (RG bound to a VPC + vSwitch), routes and
//! data sources. (Served by the dataworks product module.)

use crate::lifecycle::Lifecycle;
use ipnet::Ipv4Net;
use std::collections::BTreeMap;

crate::wire_enum!(ResourceGroupStatus {
    Normal = "Normal",
    Creating = "Creating",
    Updating = "Updating",
    Stop = "Stop",
    Deleting = "Deleting",
    Deleted = "Deleted"
});
crate::wire_enum!(NetworkStatus {
    Pending = "Pending",
    Creating = "Creating",
    Running = "Running",
    Deleting = "Deleting",
    Deleted = "Deleted"
});

/// DataWorks state of one account in one region.
#[derive(Debug, Default)]
pub struct DataWorks {
    pub workspaces: BTreeMap<u64, Workspace>,
    pub resource_groups: BTreeMap<String, ResourceGroup>,
    pub networks: BTreeMap<u64, DwNetwork>,
    pub routes: BTreeMap<u64, DwRoute>,
    pub data_sources: BTreeMap<u64, DataSource>,
}

#[derive(Debug, Clone)]
pub struct Workspace {
    pub id: u64,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct ResourceGroup {
    pub id: String,
    pub name: String,
    /// `CommonV2`, ...
    pub kind: String,
    pub payment_type: String,
    pub status: Lifecycle<ResourceGroupStatus>,
    pub default_vpc_id: String,
    pub default_vswitch_id: String,
    /// Workspaces (project ids) it is bound to.
    pub workspaces: Vec<u64>,
    pub spec_standard: String,
    pub spec_amount: u32,
    pub remark: String,
    pub created_ms: i64,
}

/// A resource group's network binding (`CreateNetwork`).
#[derive(Debug, Clone)]
pub struct DwNetwork {
    pub id: u64,
    pub resource_group_id: String,
    pub vpc_id: String,
    pub vswitch_id: String,
    pub security_group_id: String,
    pub status: Lifecycle<NetworkStatus>,
    pub created_ms: i64,
    pub create_user: String,
    pub client_token: String,
}

/// A custom route of a resource group network (`CreateRoute`).
#[derive(Debug, Clone)]
pub struct DwRoute {
    pub id: u64,
    pub network_id: u64,
    pub resource_group_id: String,
    pub destination: Ipv4Net,
    pub resource_id: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone)]
pub struct DataSource {
    pub id: u64,
    pub project_id: u64,
    pub name: String,
    /// `mysql`, `polardb`, `mongodb`, ...
    pub kind: String,
    /// `InstanceMode` or `UrlMode`.
    pub mode: String,
    /// The connection properties as JSON (may hold a password: never log or expose in admin state).
    pub properties: serde_json::Value,
    pub description: String,
    pub created_ms: i64,
    pub create_user: String,
    pub modified_ms: i64,
}
