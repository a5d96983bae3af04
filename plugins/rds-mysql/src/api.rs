//! The RDS 2014-08-15 response fields this plugin reads (shapes of the official SDK models).

use dwlink_plugin_sdk::de;
use serde::Deserialize;

/// `DescribeDBInstanceAttribute`: `Items.DBInstanceAttribute[]`.
#[derive(Debug, Default, Deserialize)]
pub struct AttributeResponse {
    #[serde(rename = "Items", default)]
    pub items: AttributeItems,
}

#[derive(Debug, Default, Deserialize)]
pub struct AttributeItems {
    #[serde(rename = "DBInstanceAttribute", default, deserialize_with = "de::list")]
    pub list: Vec<Attribute>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Attribute {
    #[serde(rename = "DBInstanceId", default, deserialize_with = "de::string")]
    pub id: String,
    #[serde(rename = "DBInstanceStatus", default, deserialize_with = "de::string")]
    pub status: String,
    #[serde(rename = "Engine", default, deserialize_with = "de::string")]
    pub engine: String,
    #[serde(
        rename = "InstanceNetworkType",
        default,
        deserialize_with = "de::string"
    )]
    pub network_type: String,
    #[serde(rename = "ZoneId", default, deserialize_with = "de::string")]
    pub zone_id: String,
    #[serde(rename = "VpcId", default, deserialize_with = "de::string")]
    pub vpc_id: String,
    #[serde(rename = "VSwitchId", default, deserialize_with = "de::string")]
    pub vswitch_id: String,
    #[serde(rename = "ConnectionString", default, deserialize_with = "de::string")]
    pub connection_string: String,
    #[serde(rename = "Port", default, deserialize_with = "de::string")]
    pub port: String,
}

/// `DescribeDBInstanceNetInfo`: `DBInstanceNetInfos.DBInstanceNetInfo[]`.
#[derive(Debug, Default, Deserialize)]
pub struct NetInfoResponse {
    #[serde(rename = "DBInstanceNetInfos", default)]
    pub infos: NetInfos,
}

#[derive(Debug, Default, Deserialize)]
pub struct NetInfos {
    #[serde(rename = "DBInstanceNetInfo", default, deserialize_with = "de::list")]
    pub list: Vec<NetInfo>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NetInfo {
    #[serde(rename = "ConnectionString", default, deserialize_with = "de::string")]
    pub connection_string: String,
    /// `Private` (VPC) or `Public`; `Inner` on the classic network.
    #[serde(rename = "IPType", default, deserialize_with = "de::string")]
    pub ip_type: String,
    #[serde(rename = "Port", default, deserialize_with = "de::string")]
    pub port: String,
    #[serde(rename = "VPCId", default, deserialize_with = "de::string")]
    pub vpc_id: String,
    #[serde(rename = "VSwitchId", default, deserialize_with = "de::string")]
    pub vswitch_id: String,
    /// The endpoint's address inside the VPC.
    #[serde(rename = "IPAddress", default, deserialize_with = "de::string")]
    pub ip_address: String,
    /// `Normal` or `ReadWriteSplitting`.
    #[serde(
        rename = "ConnectionStringType",
        default,
        deserialize_with = "de::string"
    )]
    pub string_type: String,
}

/// `DescribeDBInstanceIPArrayList`: `Items.DBInstanceIPArray[]`.
#[derive(Debug, Default, Deserialize)]
pub struct IpArrayList {
    #[serde(rename = "Items", default)]
    pub items: IpArrays,
}

#[derive(Debug, Default, Deserialize)]
pub struct IpArrays {
    #[serde(rename = "DBInstanceIPArray", default, deserialize_with = "de::list")]
    pub list: Vec<IpArray>,
}

#[derive(Debug, Default, Deserialize)]
pub struct IpArray {
    #[serde(
        rename = "DBInstanceIPArrayName",
        default,
        deserialize_with = "de::string"
    )]
    pub name: String,
    #[serde(
        rename = "DBInstanceIPArrayAttribute",
        default,
        deserialize_with = "de::string"
    )]
    pub attribute: String,
    /// Comma-separated entries.
    #[serde(rename = "SecurityIPList", default, deserialize_with = "de::string")]
    pub ips: String,
}
