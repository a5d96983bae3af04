//! RDS instances, PolarDB clusters and MongoDB instances: endpoints and whitelist groups.
//! (Served by the rds/polardb/dds product modules.)

use crate::lifecycle::Lifecycle;
use std::net::Ipv4Addr;

crate::wire_enum!(
    /// Instance status; each product's module maps it to its own spelling where they differ.
    DbStatus {
        Creating = "Creating",
        Running = "Running",
        // Modifying: applying a whitelist or network change.
        Modifying = "DBInstanceNetTypeChanging",
        Deleting = "Deleting",
        Stopped = "Stopped"
    }
);

/// A named whitelist group (`DBInstanceIPArrayName`, `DBClusterIPArrayName`, `SecurityIpGroupName`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhitelistGroup {
    pub name: String,
    /// `""` or `hidden`.
    pub attribute: String,
    /// IPs and CIDRs in the order they were added.
    pub entries: Vec<String>,
}

/// One connection endpoint in a VPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Product-specific kind: RDS `Private`, PolarDB `Cluster`/`Primary`, MongoDB `Primary`.
    pub kind: String,
    pub connection_string: String,
    pub port: u16,
    pub ip: Ipv4Addr,
    pub vpc_id: String,
    pub vswitch_id: String,
}

#[derive(Debug, Clone)]
pub struct RdsInstance {
    pub id: String,
    pub description: String,
    /// `MySQL`, `PostgreSQL`, ...
    pub engine: String,
    pub engine_version: String,
    pub class: String,
    pub zone: String,
    pub vpc_id: String,
    pub vswitch_id: String,
    pub status: Lifecycle<DbStatus>,
    pub endpoints: Vec<Endpoint>,
    pub whitelist: Vec<WhitelistGroup>,
    pub created: String,
}

#[derive(Debug, Clone)]
pub struct PolarDbCluster {
    pub id: String,
    pub description: String,
    /// `MySQL`, `PostgreSQL`, ...
    pub db_type: String,
    pub db_version: String,
    pub zone: String,
    pub vpc_id: String,
    pub vswitch_id: String,
    pub status: Lifecycle<DbStatus>,
    pub endpoints: Vec<Endpoint>,
    pub whitelist: Vec<WhitelistGroup>,
    pub created: String,
}

#[derive(Debug, Clone)]
pub struct MongoDbInstance {
    pub id: String,
    pub description: String,
    pub engine_version: String,
    /// `replicate` or `sharding`.
    pub kind: String,
    pub replica_set_name: String,
    pub zone: String,
    pub vpc_id: String,
    pub vswitch_id: String,
    pub status: Lifecycle<DbStatus>,
    pub endpoints: Vec<Endpoint>,
    pub whitelist: Vec<WhitelistGroup>,
    pub created: String,
}
