//! Native tests of the plugin logic against a scripted cloud holding the seed scenario's
//! values (`examples/scenarios/seed.toml`).

use super::*;
use dwlink_plugin_sdk::serde_json;
use dwlink_plugin_sdk::testing::FakeCloud;

const ID: &str = "pc-bp1simpolardbsrc0001";
const REGION: &str = "cn-hangzhou";
const CLUSTER_HOST: &str = "pc-bp1simpolardbsrc0001.rwlb.rds.aliyuncs.com";
const PRIMARY_HOST: &str = "pc-bp1simpolardbsrc0001.mysql.polardb.rds.aliyuncs.com";

fn instance() -> InstanceRef {
    InstanceRef::new(ID, REGION)
}

fn attribute_json(status: &str, db_type: &str) -> String {
    json!({
        "RequestId": "req-attr", "DBClusterId": ID, "RegionId": REGION,
        "ZoneIds": "cn-hangzhou-h,cn-hangzhou-i", "VPCId": "vpc-bp1simhzvpc000000001",
        "VSwitchId": "vsw-bp1simhzvsw00000000h", "DBClusterNetworkType": "VPC",
        "DBClusterStatus": status, "DBType": db_type, "DBVersion": "8.0",
        "DBNodes": [{"DBNodeId": "pi-bp1simnode0001", "DBNodeRole": "Writer", "ZoneId": "cn-hangzhou-h"}]
    })
    .to_string()
}

fn address(host: &str, net_type: &str, port: serde_json::Value) -> serde_json::Value {
    json!({"ConnectionString": host, "IPAddress": "192.168.6.20", "NetType": net_type,
           "Port": port, "VPCId": "vpc-bp1simhzvpc000000001",
           "VSwitchId": "vsw-bp1simhzvsw00000000h", "VpcInstanceId": "vpc-inst"})
}

fn whitelist_json(groups: &[(&str, &str)]) -> String {
    let list: Vec<_> = groups
        .iter()
        .map(|(name, ips)| {
            json!({"DBClusterIPArrayName": name, "DBClusterIPArrayAttribute": "",
                   "SecurityIps": ips})
        })
        .collect();
    json!({"RequestId": "req-wl", "Items": {"DBClusterIPArray": list},
           "DBClusterSecurityGroups": {"DBClusterSecurityGroup": []}})
    .to_string()
}

const SEED_GROUPS: &[(&str, &str)] = &[("default", "10.20.0.0/16")];

fn seed_cloud(groups: &[(&str, &str)]) -> FakeCloud {
    let fake = FakeCloud::declared(&PolarDb::describe());
    fake.on(
        "polardb:DescribeDBClusterAttribute",
        attribute_json("Running", "MySQL"),
    )
    .on(
        "polardb:DescribeDBClusterEndpoints",
        json!({"RequestId": "req-ep", "Items": [
            {"DBEndpointId": "pe-primary", "EndpointType": "Primary", "ReadWriteMode": "ReadWrite",
             "AddressItems": [address(PRIMARY_HOST, "Private", json!("3306"))]},
            {"DBEndpointId": "pe-cluster", "EndpointType": "Cluster", "ReadWriteMode": "ReadWrite",
             "AddressItems": [address("pc-public.rwlb.rds.aliyuncs.com", "Public", json!("3306")),
                              address(CLUSTER_HOST, "Private", json!(3306))]}
        ]})
        .to_string(),
    )
    .on(
        "vpc:DescribeVSwitchAttributes",
        json!({"RequestId": "req-vsw", "VSwitchId": "vsw-bp1simhzvsw00000000h",
               "VpcId": "vpc-bp1simhzvpc000000001", "ZoneId": "cn-hangzhou-h",
               "CidrBlock": "192.168.6.0/24", "Status": "Available"})
        .to_string(),
    )
    .on(
        "polardb:DescribeDBClusterAccessWhitelist",
        whitelist_json(groups),
    )
    .on(
        "polardb:ModifyDBClusterAccessWhitelist",
        r#"{"RequestId":"req-mod"}"#,
    );
    fake
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn modifications(fake: &FakeCloud) -> Vec<(String, String, String)> {
    fake.calls_to("polardb:ModifyDBClusterAccessWhitelist")
        .iter()
        .map(|c| {
            assert_eq!(c.get("DBClusterId"), Some(ID));
            let mode = c.get("ModifyMode").unwrap_or("").to_string();
            assert!(mode == "Append" || mode == "Delete", "never Cover: {c:?}");
            (
                c.get("DBClusterIPArrayName").unwrap_or("").to_string(),
                mode,
                c.get("SecurityIps").unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn discovers_the_seed_cluster_with_its_private_cluster_endpoint_first() {
    let fake = seed_cloud(SEED_GROUPS);
    let location = PolarDb::discover(&fake, &instance()).unwrap();
    assert_eq!(
        location,
        Location {
            region: REGION.into(),
            zone: "cn-hangzhou-h".into(),
            vpc_id: "vpc-bp1simhzvpc000000001".into(),
            vswitch_id: "vsw-bp1simhzvsw00000000h".into(),
            vswitch_cidr: "192.168.6.0/24".into(),
            endpoints: vec![
                Endpoint {
                    host: CLUSTER_HOST.into(),
                    port: 3306,
                    role: "cluster".into(),
                    address: Some("192.168.6.20".into())
                },
                Endpoint {
                    host: PRIMARY_HOST.into(),
                    port: 3306,
                    role: "primary".into(),
                    address: Some("192.168.6.20".into())
                },
            ],
            status: "Running".into(),
            running: true,
        }
    );
}

#[test]
fn add_is_idempotent_and_appends_only_missing_entries() {
    let fake = seed_cloud(SEED_GROUPS);
    PolarDb::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"])).unwrap();
    assert_eq!(
        modifications(&fake),
        vec![("dataworks".into(), "Append".into(), "172.16.66.0/24".into())]
    );
    let fake = seed_cloud(&[("default", "10.20.0.0/16"), ("dataworks", "172.16.66.0/24")]);
    PolarDb::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"])).unwrap();
    assert!(modifications(&fake).is_empty());
}

#[test]
fn remove_deletes_only_what_was_asked_and_present() {
    let fake = seed_cloud(&[
        ("default", "10.20.0.0/16"),
        ("dataworks", "172.16.66.0/24,172.16.67.0/24"),
    ]);
    PolarDb::whitelist_remove(
        &fake,
        &instance(),
        "dataworks",
        &v(&["172.16.66.0/24", "9.9.9.9"]),
    )
    .unwrap();
    assert_eq!(
        modifications(&fake),
        vec![("dataworks".into(), "Delete".into(), "172.16.66.0/24".into())]
    );
}

#[test]
fn group_names_follow_polardb_rules() {
    let fake = seed_cloud(SEED_GROUPS);
    for bad in ["d", "DataWorks", "data_works", "1dataworks", "data-works"] {
        let e =
            PolarDb::whitelist_add(&fake, &instance(), bad, &v(&["172.16.66.0/24"])).unwrap_err();
        assert!(matches!(e, PluginError::InvalidInput(_)), "{bad}: {e}");
        assert!(e.to_string().contains(ID), "{e}");
    }
    assert!(modifications(&fake).is_empty());
    PolarDb::whitelist_add(&fake, &instance(), "dw2", &v(&["172.16.66.0/24"])).unwrap();
}

#[test]
fn limits_are_checked_before_asking() {
    let names: Vec<String> = (0..50).map(|i| format!("g{i}")).collect();
    let groups: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "10.0.0.1")).collect();
    let fake = seed_cloud(&groups);
    let e = PolarDb::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"]))
        .unwrap_err();
    assert!(matches!(e, PluginError::LimitExceeded(_)), "{e}");
    let many: Vec<String> = (0..999)
        .map(|i| format!("10.{}.{}.1", i / 250, i % 250))
        .collect();
    let joined = many.join(",");
    let fake = seed_cloud(&[("default", joined.as_str())]);
    let e = PolarDb::whitelist_add(
        &fake,
        &instance(),
        "default",
        &v(&["172.16.66.0/24", "172.16.67.0/24"]),
    )
    .unwrap_err();
    assert!(matches!(e, PluginError::LimitExceeded(_)), "{e}");
    assert!(modifications(&fake).is_empty());
}

#[test]
fn changes_need_a_running_cluster_and_errors_are_actionable() {
    let fake = seed_cloud(SEED_GROUPS);
    fake.clear("polardb:DescribeDBClusterAttribute").on(
        "polardb:DescribeDBClusterAttribute",
        attribute_json("ClassChanging", "MySQL"),
    );
    let e = PolarDb::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"]))
        .unwrap_err();
    assert!(matches!(e, PluginError::InvalidState(_)), "{e}");
    assert!(modifications(&fake).is_empty());

    let fake = seed_cloud(SEED_GROUPS);
    fake.clear("polardb:DescribeDBClusterAttribute").fail(
        "polardb:DescribeDBClusterAttribute",
        "InvalidDBCluster.NotFound",
        "The specified DBClusterId is not found.",
    );
    let e = PolarDb::discover(&fake, &instance()).unwrap_err();
    assert!(matches!(e, PluginError::NotFound(_)), "{e}");
    assert!(
        e.to_string().contains(ID) && e.to_string().contains(REGION),
        "{e}"
    );

    let fake = seed_cloud(SEED_GROUPS);
    fake.clear("polardb:ModifyDBClusterAccessWhitelist").fail(
        "polardb:ModifyDBClusterAccessWhitelist",
        "TaskExists",
        "A task is running.",
    );
    let e = PolarDb::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"]))
        .unwrap_err();
    assert!(matches!(e, PluginError::InvalidState(_)), "{e}");
}

fn connection_request() -> ConnectionRequest {
    ConnectionRequest {
        instance: instance(),
        location: Location::default(),
        owner_uid: "1862710497302214".into(),
        role_name: "dataworks-cross-account".into(),
        database: "orders".into(),
        username: "dw_reader".into(),
        env_type: "Dev".into(),
    }
}

#[test]
fn connection_properties_carry_the_engine_and_no_password() {
    let fake = seed_cloud(SEED_GROUPS);
    let text =
        dwlink_plugin_sdk::connection_properties_json::<PolarDb>(&fake, &connection_request())
            .unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        value,
        json!({
            "envType": "Dev", "regionId": REGION, "clusterId": ID, "dbType": "mysql",
            "database": "orders", "username": "dw_reader",
            "crossAccountOwnerId": "1862710497302214",
            "crossAccountRoleName": "dataworks-cross-account"
        })
    );
    fake.clear("polardb:DescribeDBClusterAttribute").on(
        "polardb:DescribeDBClusterAttribute",
        attribute_json("Running", "Oracle"),
    );
    let e = PolarDb::connection_properties(&fake, &connection_request()).unwrap_err();
    assert!(matches!(e, PluginError::InvalidInput(_)), "{e}");
}

#[test]
fn declares_exactly_the_actions_it_calls() {
    let fake = seed_cloud(SEED_GROUPS);
    PolarDb::discover(&fake, &instance()).unwrap();
    PolarDb::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"])).unwrap();
    let fake2 = seed_cloud(&[("default", "10.20.0.0/16"), ("dataworks", "172.16.66.0/24")]);
    PolarDb::whitelist_remove(&fake2, &instance(), "dataworks", &v(&["172.16.66.0/24"])).unwrap();
    let mut called = fake.called_actions();
    called.extend(fake2.called_actions());
    called.sort();
    called.dedup();
    let mut declared = PolarDb::describe().actions();
    declared.sort();
    assert_eq!(called, declared);
}
