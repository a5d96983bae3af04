//! The database products' whitelists and status, read by the host itself through account A's
//! caller (never through the plugin): RDS 2014-08-15, PolarDB 2017-08-01, ApsaraDB for
//! MongoDB (Dds) 2015-12-01. The engine uses these reads to check what a plugin's whitelist
//! change really did, and to wait for the instance to be ready again after it.
//!
//! Which reader applies is decided by the plugin's declared product code
//! ([`Product::from_code`]); for other products the engine falls back to the plugin's own list.

use super::{Api, json::s, send};
use crate::cloud::{Caller, CloudError};
use crate::plugin::WhitelistGroup;
use dwlink_acs::Params;
use serde_json::Value;

pub const RDS: Api = Api {
    product: "Rds",
    version: "2014-08-15",
};
pub const POLARDB: Api = Api {
    product: "polardb",
    version: "2017-08-01",
};
pub const DDS: Api = Api {
    product: "Dds",
    version: "2015-12-01",
};

/// A database product whose whitelist and status the host reads itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    /// ApsaraDB RDS (any engine): `DescribeDBInstanceIPArrayList`, `DescribeDBInstanceAttribute`.
    Rds,
    /// PolarDB: `DescribeDBClusterAccessWhitelist`, `DescribeDBClusterAttribute`.
    PolarDb,
    /// ApsaraDB for MongoDB: `DescribeSecurityIps`, `DescribeDBInstanceAttribute`.
    Dds,
}

impl Product {
    /// The product a plugin declares (`PluginInfo.product`), case-insensitive; `None` for a
    /// product the host has no reader for.
    pub fn from_code(code: &str) -> Option<Product> {
        match code.trim().to_ascii_lowercase().as_str() {
            "rds" => Some(Product::Rds),
            "polardb" => Some(Product::PolarDb),
            "dds" => Some(Product::Dds),
            _ => None,
        }
    }

    pub fn api(self) -> Api {
        match self {
            Product::Rds => RDS,
            Product::PolarDb => POLARDB,
            Product::Dds => DDS,
        }
    }

    /// The request parameter naming the instance.
    fn id_param(self) -> &'static str {
        match self {
            Product::PolarDb => "DBClusterId",
            Product::Rds | Product::Dds => "DBInstanceId",
        }
    }

    fn list_action(self) -> &'static str {
        match self {
            Product::Rds => "DescribeDBInstanceIPArrayList",
            Product::PolarDb => "DescribeDBClusterAccessWhitelist",
            Product::Dds => "DescribeSecurityIps",
        }
    }

    fn status_action(self) -> &'static str {
        match self {
            Product::PolarDb => "DescribeDBClusterAttribute",
            Product::Rds | Product::Dds => "DescribeDBInstanceAttribute",
        }
    }

    /// `Product:Action` of the whitelist read, for messages.
    pub fn list_call(self) -> String {
        format!("{}:{}", self.api().product, self.list_action())
    }

    /// Whether a status word means the instance accepts connections and changes again.
    pub fn is_ready(self, status: &str) -> bool {
        status == "Running"
    }
}

/// The instance's whitelist groups, as the product's own API shows them.
pub async fn list(
    c: &dyn Caller,
    product: Product,
    region: &str,
    instance_id: &str,
) -> Result<Vec<WhitelistGroup>, CloudError> {
    let call = product.api().call(product.list_action(), region).params(
        Params::new()
            .set("RegionId", region)
            .set(product.id_param(), instance_id),
    );
    let v = send(c, call).await?;
    Ok(parse_list(product, &v))
}

/// The instance's status word (`Running`, `DBInstanceNetTypeChanging`, ...); empty when the
/// answer does not carry one.
pub async fn status(
    c: &dyn Caller,
    product: Product,
    region: &str,
    instance_id: &str,
) -> Result<String, CloudError> {
    let mut params = Params::new()
        .set("RegionId", region)
        .set(product.id_param(), instance_id);
    if product == Product::Dds {
        params = params.set("Engine", "MongoDB");
    }
    let call = product
        .api()
        .call(product.status_action(), region)
        .params(params);
    let v = send(c, call).await?;
    Ok(parse_status(product, instance_id, &v))
}

/// The items at `path`: an array, or one object standing for a list of one (XML-derived
/// answers collapse single-item lists).
fn items<'a>(v: &'a Value, path: &[&str]) -> Vec<&'a Value> {
    match super::json::at(v, path) {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(o @ Value::Object(_)) => vec![o],
        _ => Vec::new(),
    }
}

/// A comma-separated whitelist as entries, trimmed, empty pieces dropped.
pub fn split_entries(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parses a whitelist read of `product`:
/// - RDS `Items.DBInstanceIPArray[]`: `DBInstanceIPArrayName`, `DBInstanceIPArrayAttribute`,
///   `SecurityIPList`;
/// - PolarDB `Items.DBClusterIPArray[]`: `DBClusterIPArrayName`, `DBClusterIPArrayAttribute`,
///   `SecurityIps`;
/// - Dds `SecurityIpGroups.SecurityIpGroup[]`: `SecurityIpGroupName`,
///   `SecurityIpGroupAttribute`, `SecurityIpList`; an answer with no groups carries the
///   `default` group in `SecurityIps`.
pub fn parse_list(product: Product, v: &Value) -> Vec<WhitelistGroup> {
    let (path, name, attribute, list): (&[&str], _, _, _) = match product {
        Product::Rds => (
            &["Items", "DBInstanceIPArray"],
            "DBInstanceIPArrayName",
            "DBInstanceIPArrayAttribute",
            "SecurityIPList",
        ),
        Product::PolarDb => (
            &["Items", "DBClusterIPArray"],
            "DBClusterIPArrayName",
            "DBClusterIPArrayAttribute",
            "SecurityIps",
        ),
        Product::Dds => (
            &["SecurityIpGroups", "SecurityIpGroup"],
            "SecurityIpGroupName",
            "SecurityIpGroupAttribute",
            "SecurityIpList",
        ),
    };
    let mut groups: Vec<WhitelistGroup> = items(v, path)
        .into_iter()
        .map(|g| WhitelistGroup {
            name: s(g, name),
            entries: split_entries(&s(g, list)),
            attribute: s(g, attribute),
        })
        .collect();
    if product == Product::Dds && groups.is_empty() {
        let default = split_entries(&s(v, "SecurityIps"));
        if !default.is_empty() {
            groups.push(WhitelistGroup {
                name: "default".into(),
                entries: default,
                attribute: String::new(),
            });
        }
    }
    groups
}

/// Parses a status read of `product`: RDS `Items.DBInstanceAttribute[].DBInstanceStatus`,
/// PolarDB `DBClusterStatus`, Dds `DBInstances.DBInstance[].DBInstanceStatus` (the item of
/// `instance_id`, or the first).
pub fn parse_status(product: Product, instance_id: &str, v: &Value) -> String {
    let pick = |path: &[&str]| {
        let list = items(v, path);
        list.iter()
            .find(|x| s(x, "DBInstanceId") == instance_id)
            .or(list.first())
            .map(|x| s(x, "DBInstanceStatus"))
            .unwrap_or_default()
    };
    match product {
        Product::Rds => pick(&["Items", "DBInstanceAttribute"]),
        Product::PolarDb => s(v, "DBClusterStatus"),
        Product::Dds => pick(&["DBInstances", "DBInstance"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(groups: &[WhitelistGroup]) -> Vec<(&str, Vec<&str>, &str)> {
        groups
            .iter()
            .map(|g| {
                (
                    g.name.as_str(),
                    g.entries.iter().map(String::as_str).collect(),
                    g.attribute.as_str(),
                )
            })
            .collect()
    }

    #[test]
    fn product_codes_are_case_insensitive() {
        assert_eq!(Product::from_code("Rds"), Some(Product::Rds));
        assert_eq!(Product::from_code("RDS"), Some(Product::Rds));
        assert_eq!(Product::from_code("polardb"), Some(Product::PolarDb));
        assert_eq!(Product::from_code("PolarDB"), Some(Product::PolarDb));
        assert_eq!(Product::from_code("Dds"), Some(Product::Dds));
        assert_eq!(Product::from_code("dds"), Some(Product::Dds));
        assert_eq!(Product::from_code("Kvstore"), None);
        assert_eq!(Product::from_code(""), None);
    }

    #[test]
    fn rds_groups_split_on_commas() {
        let v = json!({"Items": {"DBInstanceIPArray": [
            {"DBInstanceIPArrayName": "default", "DBInstanceIPArrayAttribute": "", "SecurityIPList": "127.0.0.1"},
            {"DBInstanceIPArrayName": "dataworks", "DBInstanceIPArrayAttribute": "", "SecurityIPList": "172.16.66.0/24, 0.0.0.0/0,,"},
            {"DBInstanceIPArrayName": "ali_dms_group", "DBInstanceIPArrayAttribute": "hidden", "SecurityIPList": ""}
        ]}});
        assert_eq!(
            names(&parse_list(Product::Rds, &v)),
            [
                ("default", vec!["127.0.0.1"], ""),
                ("dataworks", vec!["172.16.66.0/24", "0.0.0.0/0"], ""),
                ("ali_dms_group", vec![], "hidden"),
            ]
        );
        // One group collapsed to an object, as XML-derived answers do.
        let v = json!({"Items": {"DBInstanceIPArray": {"DBInstanceIPArrayName": "default", "SecurityIPList": "10.0.0.0/8,192.168.1.1"}}});
        assert_eq!(
            names(&parse_list(Product::Rds, &v)),
            [("default", vec!["10.0.0.0/8", "192.168.1.1"], "")]
        );
        assert!(parse_list(Product::Rds, &json!({})).is_empty());
    }

    #[test]
    fn polardb_groups() {
        let v = json!({"Items": {"DBClusterIPArray": [
            {"DBClusterIPArrayName": "default", "DBClusterIPArrayAttribute": "", "SecurityIps": "127.0.0.1"},
            {"DBClusterIPArrayName": "dataworks", "DBClusterIPArrayAttribute": "", "SecurityIps": "172.16.66.0/24,10.1.0.0/16"}
        ]}, "DBClusterSecurityGroups": {"DBClusterSecurityGroup": []}});
        assert_eq!(
            names(&parse_list(Product::PolarDb, &v)),
            [
                ("default", vec!["127.0.0.1"], ""),
                ("dataworks", vec!["172.16.66.0/24", "10.1.0.0/16"], ""),
            ]
        );
    }

    #[test]
    fn dds_groups_or_the_default_list() {
        let v = json!({"SecurityIps": "127.0.0.1", "SecurityIpGroups": {"SecurityIpGroup": [
            {"SecurityIpGroupName": "default", "SecurityIpGroupAttribute": "", "SecurityIpList": "127.0.0.1"},
            {"SecurityIpGroupName": "dataworks", "SecurityIpGroupAttribute": "", "SecurityIpList": "172.16.66.0/24"}
        ]}});
        assert_eq!(
            names(&parse_list(Product::Dds, &v)),
            [
                ("default", vec!["127.0.0.1"], ""),
                ("dataworks", vec!["172.16.66.0/24"], ""),
            ]
        );
        let v = json!({"SecurityIps": "127.0.0.1,10.0.0.0/8"});
        assert_eq!(
            names(&parse_list(Product::Dds, &v)),
            [("default", vec!["127.0.0.1", "10.0.0.0/8"], "")]
        );
    }

    #[test]
    fn statuses_of_each_product() {
        let rds = json!({"Items": {"DBInstanceAttribute": [{"DBInstanceId": "rm-1", "DBInstanceStatus": "DBInstanceNetTypeChanging"}]}});
        assert_eq!(
            parse_status(Product::Rds, "rm-1", &rds),
            "DBInstanceNetTypeChanging"
        );
        let polar = json!({"DBClusterId": "pc-1", "DBClusterStatus": "Running"});
        assert_eq!(parse_status(Product::PolarDb, "pc-1", &polar), "Running");
        let dds = json!({"DBInstances": {"DBInstance": [
            {"DBInstanceId": "dds-2", "DBInstanceStatus": "Running"},
            {"DBInstanceId": "dds-1", "DBInstanceStatus": "NodeCreating"}
        ]}});
        assert_eq!(parse_status(Product::Dds, "dds-1", &dds), "NodeCreating");
        assert_eq!(parse_status(Product::Dds, "dds-9", &dds), "Running");
        assert_eq!(parse_status(Product::Rds, "rm-1", &json!({})), "");
        assert!(Product::Rds.is_ready("Running"));
        assert!(!Product::Dds.is_ready("Modifying"));
    }
}
