//! The PolarDB 2017-08-01 response fields this plugin reads (shapes of the official SDK models).

use dwlink_plugin_sdk::de;
use serde::Deserialize;

/// `DescribeDBClusterAttribute`: a flat object.
#[derive(Debug, Default, Deserialize)]
pub struct Attribute {
    #[serde(rename = "DBClusterId", default, deserialize_with = "de::string")]
    pub id: String,
    #[serde(rename = "DBClusterStatus", default, deserialize_with = "de::string")]
    pub status: String,
    /// `MySQL`, `PostgreSQL` or `Oracle`.
    #[serde(rename = "DBType", default, deserialize_with = "de::string")]
    pub db_type: String,
    #[serde(
        rename = "DBClusterNetworkType",
        default,
        deserialize_with = "de::string"
    )]
    pub network_type: String,
    /// Comma-separated zone ids, the primary zone first.
    #[serde(rename = "ZoneIds", default, deserialize_with = "de::string")]
    pub zone_ids: String,
    #[serde(rename = "VPCId", default, deserialize_with = "de::string")]
    pub vpc_id: String,
    #[serde(rename = "VSwitchId", default, deserialize_with = "de::string")]
    pub vswitch_id: String,
}

/// `DescribeDBClusterEndpoints`: `Items[]` (a direct array).
#[derive(Debug, Default, Deserialize)]
pub struct Endpoints {
    #[serde(rename = "Items", default, deserialize_with = "de::list")]
    pub items: Vec<EndpointItem>,
}

#[derive(Debug, Default, Deserialize)]
pub struct EndpointItem {
    /// `Cluster`, `Primary` or `Custom`.
    #[serde(rename = "EndpointType", default, deserialize_with = "de::string")]
    pub endpoint_type: String,
    #[serde(rename = "AddressItems", default, deserialize_with = "de::list")]
    pub addresses: Vec<Address>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Address {
    #[serde(rename = "ConnectionString", default, deserialize_with = "de::string")]
    pub connection_string: String,
    /// `Private`, `Public` or `Inner`.
    #[serde(rename = "NetType", default, deserialize_with = "de::string")]
    pub net_type: String,
    #[serde(rename = "Port", default, deserialize_with = "de::string")]
    pub port: String,
    #[serde(rename = "VPCId", default, deserialize_with = "de::string")]
    pub vpc_id: String,
    #[serde(rename = "VSwitchId", default, deserialize_with = "de::string")]
    pub vswitch_id: String,
    /// The endpoint's address inside the VPC.
    #[serde(rename = "IPAddress", default, deserialize_with = "de::string")]
    pub ip_address: String,
}

/// `DescribeDBClusterAccessWhitelist`: `Items.DBClusterIPArray[]`.
#[derive(Debug, Default, Deserialize)]
pub struct Whitelist {
    #[serde(rename = "Items", default)]
    pub items: IpArrays,
}

#[derive(Debug, Default, Deserialize)]
pub struct IpArrays {
    #[serde(rename = "DBClusterIPArray", default, deserialize_with = "de::list")]
    pub list: Vec<IpArray>,
}

#[derive(Debug, Default, Deserialize)]
pub struct IpArray {
    #[serde(
        rename = "DBClusterIPArrayName",
        default,
        deserialize_with = "de::string"
    )]
    pub name: String,
    #[serde(
        rename = "DBClusterIPArrayAttribute",
        default,
        deserialize_with = "de::string"
    )]
    pub attribute: String,
    /// Comma-separated entries.
    #[serde(rename = "SecurityIps", default, deserialize_with = "de::string")]
    pub ips: String,
}
