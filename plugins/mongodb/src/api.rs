//! The Dds 2015-12-01 response fields this plugin reads (shapes of the official SDK models).

use dwlink_plugin_sdk::de;
use serde::Deserialize;

/// `DescribeDBInstanceAttribute`: `DBInstances.DBInstance[]`.
#[derive(Debug, Default, Deserialize)]
pub struct AttributeResponse {
    #[serde(rename = "DBInstances", default)]
    pub instances: Instances,
}

#[derive(Debug, Default, Deserialize)]
pub struct Instances {
    #[serde(rename = "DBInstance", default, deserialize_with = "de::list")]
    pub list: Vec<Instance>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Instance {
    #[serde(rename = "DBInstanceId", default, deserialize_with = "de::string")]
    pub id: String,
    /// `replicate` (replica set), `sharding` (sharded cluster) or `serverless`.
    #[serde(rename = "DBInstanceType", default, deserialize_with = "de::string")]
    pub instance_type: String,
    #[serde(rename = "DBInstanceStatus", default, deserialize_with = "de::string")]
    pub status: String,
    /// `VPC` or `Classic`.
    #[serde(rename = "NetworkType", default, deserialize_with = "de::string")]
    pub network_type: String,
    #[serde(rename = "ZoneId", default, deserialize_with = "de::string")]
    pub zone_id: String,
    #[serde(rename = "VPCId", default, deserialize_with = "de::string")]
    pub vpc_id: String,
    #[serde(rename = "VSwitchId", default, deserialize_with = "de::string")]
    pub vswitch_id: String,
    #[serde(rename = "ReplicaSets", default)]
    pub replica_sets: ReplicaSets,
    #[serde(rename = "MongosList", default)]
    pub mongos: MongosList,
}

#[derive(Debug, Default, Deserialize)]
pub struct ReplicaSets {
    #[serde(rename = "ReplicaSet", default, deserialize_with = "de::list")]
    pub list: Vec<ReplicaSet>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ReplicaSet {
    #[serde(rename = "ConnectionDomain", default, deserialize_with = "de::string")]
    pub domain: String,
    #[serde(rename = "ConnectionPort", default, deserialize_with = "de::string")]
    pub port: String,
    /// `VPC`, `Classic` or `Public`.
    #[serde(rename = "NetworkType", default, deserialize_with = "de::string")]
    pub network_type: String,
    /// `Primary`, `Secondary`, `Hidden` or `ReadOnly`.
    #[serde(rename = "ReplicaSetRole", default, deserialize_with = "de::string")]
    pub role: String,
    #[serde(rename = "VPCId", default, deserialize_with = "de::string")]
    pub vpc_id: String,
    #[serde(rename = "VSwitchId", default, deserialize_with = "de::string")]
    pub vswitch_id: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct MongosList {
    #[serde(rename = "MongosAttribute", default, deserialize_with = "de::list")]
    pub list: Vec<Mongos>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Mongos {
    #[serde(rename = "ConnectString", default, deserialize_with = "de::string")]
    pub connect_string: String,
    /// The API's historical misspelling, still served beside `ConnectString`.
    #[serde(rename = "ConnectSting", default, deserialize_with = "de::string")]
    pub connect_sting: String,
    #[serde(rename = "Port", default, deserialize_with = "de::string")]
    pub port: String,
    #[serde(rename = "VPCId", default, deserialize_with = "de::string")]
    pub vpc_id: String,
    #[serde(rename = "VSwitchId", default, deserialize_with = "de::string")]
    pub vswitch_id: String,
}

/// `DescribeSecurityIps`: `SecurityIpGroups.SecurityIpGroup[]`, plus the default group's
/// entries in `SecurityIps`.
#[derive(Debug, Default, Deserialize)]
pub struct SecurityIps {
    #[serde(rename = "SecurityIps", default, deserialize_with = "de::string")]
    pub default_ips: String,
    #[serde(rename = "SecurityIpGroups", default)]
    pub groups: Groups,
}

#[derive(Debug, Default, Deserialize)]
pub struct Groups {
    #[serde(rename = "SecurityIpGroup", default, deserialize_with = "de::list")]
    pub list: Vec<Group>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Group {
    #[serde(
        rename = "SecurityIpGroupName",
        default,
        deserialize_with = "de::string"
    )]
    pub name: String,
    #[serde(
        rename = "SecurityIpGroupAttribute",
        default,
        deserialize_with = "de::string"
    )]
    pub attribute: String,
    /// Comma-separated entries.
    #[serde(rename = "SecurityIpList", default, deserialize_with = "de::string")]
    pub ips: String,
}
