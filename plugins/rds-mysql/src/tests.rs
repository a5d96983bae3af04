//! Native tests of the plugin logic against a scripted cloud holding the seed scenario's
//! values (`examples/scenarios/seed.toml`).

use super::*;
use dwlink_plugin_sdk::serde_json;
use dwlink_plugin_sdk::testing::FakeCloud;

const ID: &str = "rm-bp1simmysqlsource001";
const REGION: &str = "cn-hangzhou";
const HOST: &str = "rm-bp1simmysqlsource001.mysql.rds.aliyuncs.com";

fn instance() -> InstanceRef {
    InstanceRef::new(ID, REGION)
}

fn attribute_json(status: &str) -> String {
    json!({
        "RequestId": "req-attr",
        "Items": {"DBInstanceAttribute": [{
            "DBInstanceId": ID, "RegionId": REGION, "ZoneId": "cn-hangzhou-h",
            "VpcId": "vpc-bp1simhzvpc000000001", "VSwitchId": "vsw-bp1simhzvsw00000000h",
            "InstanceNetworkType": "VPC", "ConnectionString": HOST, "Port": "3306",
            "DBInstanceStatus": status, "Engine": "MySQL", "EngineVersion": "8.0",
            "DBInstanceDescription": "Account_A_MySQL_Source"
        }]}
    })
    .to_string()
}

fn ip_arrays_json(groups: &[(&str, &str)]) -> String {
    let list: Vec<_> = groups
        .iter()
        .map(|(name, ips)| {
            json!({"DBInstanceIPArrayName": name, "DBInstanceIPArrayAttribute": "",
                   "SecurityIPType": "IPv4", "SecurityIPList": ips})
        })
        .collect();
    json!({"RequestId": "req-ips", "Items": {"DBInstanceIPArray": list}}).to_string()
}

const SEED_GROUPS: &[(&str, &str)] = &[
    ("default", "10.20.0.0/16"),
    ("app", "192.168.6.0/24,192.168.7.15"),
];

/// A fake that refuses undeclared actions and answers with the seed scenario.
fn seed_cloud(groups: &[(&str, &str)]) -> FakeCloud {
    let fake = FakeCloud::declared(&RdsMysql::describe());
    fake.on("rds:DescribeDBInstanceAttribute", attribute_json("Running"))
        .on(
            "rds:DescribeDBInstanceNetInfo",
            json!({
                "RequestId": "req-net", "InstanceNetworkType": "VPC", "SecurityIPMode": "normal",
                "DBInstanceNetInfos": {"DBInstanceNetInfo": [{
                    "ConnectionString": HOST, "IPAddress": "192.168.6.10", "IPType": "Private",
                    "Port": "3306", "VPCId": "vpc-bp1simhzvpc000000001",
                    "VSwitchId": "vsw-bp1simhzvsw00000000h", "ConnectionStringType": "Normal"
                }]}
            })
            .to_string(),
        )
        .on(
            "vpc:DescribeVSwitchAttributes",
            json!({"RequestId": "req-vsw", "VSwitchId": "vsw-bp1simhzvsw00000000h",
                   "VpcId": "vpc-bp1simhzvpc000000001", "ZoneId": "cn-hangzhou-h",
                   "CidrBlock": "192.168.6.0/24", "Status": "Available"})
            .to_string(),
        )
        .on("rds:DescribeDBInstanceIPArrayList", ip_arrays_json(groups))
        .on(
            "rds:ModifySecurityIps",
            r#"{"RequestId":"req-mod","TaskId":"1"}"#,
        );
    fake
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Every whitelist change used Append or Delete, never Cover (the API's default: the mode
/// must always be explicit).
fn assert_never_cover(fake: &FakeCloud) {
    for call in fake.calls_to("rds:ModifySecurityIps") {
        let mode = call.get("ModifyMode");
        assert!(
            matches!(mode, Some("Append") | Some("Delete")),
            "ModifySecurityIps with ModifyMode {mode:?}: {call:?}"
        );
    }
}

fn modifications(fake: &FakeCloud) -> Vec<(String, String, String)> {
    fake.calls_to("rds:ModifySecurityIps")
        .iter()
        .map(|c| {
            assert_eq!(c.get("DBInstanceId"), Some(ID));
            assert_eq!(c.region, REGION);
            (
                c.get("DBInstanceIPArrayName").unwrap_or("").to_string(),
                c.get("ModifyMode").unwrap_or("").to_string(),
                c.get("SecurityIps").unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn discovers_the_seed_instance() {
    let fake = seed_cloud(SEED_GROUPS);
    let location = RdsMysql::discover(&fake, &instance()).unwrap();
    assert_eq!(
        location,
        Location {
            region: REGION.into(),
            zone: "cn-hangzhou-h".into(),
            vpc_id: "vpc-bp1simhzvpc000000001".into(),
            vswitch_id: "vsw-bp1simhzvsw00000000h".into(),
            vswitch_cidr: "192.168.6.0/24".into(),
            endpoints: vec![Endpoint {
                host: HOST.into(),
                port: 3306,
                role: "primary".into(),
                address: Some("192.168.6.10".into())
            }],
            status: "Running".into(),
            running: true,
        }
    );
    let vsw = fake.calls_to("vpc:DescribeVSwitchAttributes");
    assert_eq!(vsw[0].get("VSwitchId"), Some("vsw-bp1simhzvsw00000000h"));
}

#[test]
fn lists_the_seed_groups() {
    let fake = seed_cloud(SEED_GROUPS);
    let groups = RdsMysql::whitelist_list(&fake, &instance()).unwrap();
    let flat: Vec<(String, Vec<String>)> =
        groups.into_iter().map(|g| (g.name, g.entries)).collect();
    assert_eq!(
        flat,
        vec![
            ("default".to_string(), v(&["10.20.0.0/16"])),
            ("app".to_string(), v(&["192.168.6.0/24", "192.168.7.15"])),
        ]
    );
}

#[test]
fn add_appends_only_missing_entries_to_a_new_group() {
    let fake = seed_cloud(SEED_GROUPS);
    RdsMysql::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"])).unwrap();
    assert_eq!(
        modifications(&fake),
        vec![("dataworks".into(), "Append".into(), "172.16.66.0/24".into())]
    );
    assert_never_cover(&fake);
}

#[test]
fn add_is_idempotent() {
    let groups = &[("default", "10.20.0.0/16"), ("dataworks", "172.16.66.0/24")];
    let fake = seed_cloud(groups);
    RdsMysql::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"])).unwrap();
    RdsMysql::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24/"])).unwrap_err(); // malformed input is still refused
    assert!(modifications(&fake).is_empty());
    // Already present: not even the status is read.
    assert!(fake.calls_to("rds:DescribeDBInstanceAttribute").is_empty());
}

#[test]
fn add_to_an_existing_group_sends_only_the_new_entry() {
    let fake = seed_cloud(SEED_GROUPS);
    RdsMysql::whitelist_add(
        &fake,
        &instance(),
        "app",
        &v(&["192.168.7.15/32", "172.16.67.0/24", "172.16.67.0/24"]),
    )
    .unwrap();
    assert_eq!(
        modifications(&fake),
        vec![("app".into(), "Append".into(), "172.16.67.0/24".into())]
    );
}

#[test]
fn remove_deletes_only_what_was_asked_and_present() {
    let fake = seed_cloud(SEED_GROUPS);
    RdsMysql::whitelist_remove(&fake, &instance(), "app", &v(&["192.168.7.15", "1.2.3.4"]))
        .unwrap();
    assert_eq!(
        modifications(&fake),
        vec![("app".into(), "Delete".into(), "192.168.7.15".into())]
    );
    assert_never_cover(&fake);
    // Nothing present: nothing sent.
    let fake = seed_cloud(SEED_GROUPS);
    RdsMysql::whitelist_remove(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"])).unwrap();
    RdsMysql::whitelist_remove(&fake, &instance(), "app", &v(&["172.16.66.0/24"])).unwrap();
    assert!(modifications(&fake).is_empty());
}

#[test]
fn removing_the_last_default_entry_is_refused_before_asking() {
    let fake = seed_cloud(SEED_GROUPS);
    let e = RdsMysql::whitelist_remove(&fake, &instance(), "default", &v(&["10.20.0.0/16"]))
        .unwrap_err();
    assert!(matches!(e, PluginError::InvalidInput(_)), "{e}");
    assert!(modifications(&fake).is_empty());
}

#[test]
fn limits_are_checked_before_asking() {
    let many: Vec<String> = (0..1000)
        .map(|i| format!("10.{}.{}.1", i / 250, i % 250))
        .collect();
    let joined = many.join(",");
    let fake = seed_cloud(&[("default", joined.as_str())]);
    let e = RdsMysql::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"]))
        .unwrap_err();
    assert!(matches!(e, PluginError::LimitExceeded(_)), "{e}");
    assert!(e.to_string().contains("1000"), "{e}");

    let names: Vec<String> = (0..200).map(|i| format!("g{i}")).collect();
    let groups: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "10.0.0.1")).collect();
    let fake = seed_cloud(&groups);
    let e = RdsMysql::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"]))
        .unwrap_err();
    assert!(matches!(e, PluginError::LimitExceeded(_)), "{e}");
    assert!(e.to_string().contains("200 groups"), "{e}");
    assert!(modifications(&fake).is_empty());
}

#[test]
fn changes_need_a_running_instance() {
    let fake = seed_cloud(SEED_GROUPS);
    fake.clear("rds:DescribeDBInstanceAttribute").on(
        "rds:DescribeDBInstanceAttribute",
        attribute_json("Restarting"),
    );
    let e = RdsMysql::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"]))
        .unwrap_err();
    assert!(matches!(e, PluginError::InvalidState(_)), "{e}");
    assert!(
        e.to_string().contains(ID) && e.to_string().contains("Restarting"),
        "{e}"
    );
    assert!(modifications(&fake).is_empty());
}

#[test]
fn does_not_wait_after_a_change_the_host_does() {
    // Contract 0.2: the plugin returns once the change is accepted; the host polls `discover`.
    let fake = seed_cloud(SEED_GROUPS);
    fake.clear("rds:DescribeDBInstanceAttribute");
    for status in ["Running", "DBInstanceNetTypeChanging"] {
        fake.on("rds:DescribeDBInstanceAttribute", attribute_json(status));
    }
    RdsMysql::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"])).unwrap();
    assert_eq!(fake.calls_to("rds:DescribeDBInstanceAttribute").len(), 1);
    assert_eq!(modifications(&fake).len(), 1);
}

#[test]
fn cloud_errors_name_the_instance_and_region() {
    let fake = seed_cloud(SEED_GROUPS);
    fake.clear("rds:DescribeDBInstanceAttribute").fail(
        "rds:DescribeDBInstanceAttribute",
        "InvalidDBInstanceId.NotFound",
        "The specified instance is not found.",
    );
    let e = RdsMysql::discover(&fake, &instance()).unwrap_err();
    assert!(matches!(e, PluginError::NotFound(_)), "{e}");
    assert!(
        e.to_string().contains(ID) && e.to_string().contains(REGION),
        "{e}"
    );

    let fake = seed_cloud(SEED_GROUPS);
    fake.clear("rds:ModifySecurityIps").fail(
        "rds:ModifySecurityIps",
        "OperationDenied.DBInstanceStatus",
        "The operation is not permitted due to status of instance.",
    );
    let e = RdsMysql::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"]))
        .unwrap_err();
    assert!(matches!(e, PluginError::InvalidState(_)), "{e}");

    let fake = seed_cloud(SEED_GROUPS);
    fake.clear("rds:DescribeDBInstanceAttribute").on(
        "rds:DescribeDBInstanceAttribute",
        r#"{"Items":{"DBInstanceAttribute":[]}}"#,
    );
    let e = RdsMysql::discover(&fake, &instance()).unwrap_err();
    assert!(matches!(e, PluginError::NotFound(_)), "{e}");
}

#[test]
fn refuses_other_engines_and_bad_group_names() {
    let fake = seed_cloud(SEED_GROUPS);
    fake.clear("rds:DescribeDBInstanceAttribute").on(
        "rds:DescribeDBInstanceAttribute",
        attribute_json("Running").replace("\"MySQL\"", "\"PostgreSQL\""),
    );
    let e = RdsMysql::discover(&fake, &instance()).unwrap_err();
    assert!(e.to_string().contains("PostgreSQL"), "{e}");

    let fake = seed_cloud(SEED_GROUPS);
    for bad in ["DataWorks", "1abc", "x", "data-works", "dw_"] {
        let e =
            RdsMysql::whitelist_add(&fake, &instance(), bad, &v(&["172.16.66.0/24"])).unwrap_err();
        assert!(matches!(e, PluginError::InvalidInput(_)), "{bad}: {e}");
    }
    assert!(modifications(&fake).is_empty());
}

#[test]
fn declares_exactly_the_actions_it_calls() {
    let info = RdsMysql::describe();
    let fake = seed_cloud(SEED_GROUPS);
    RdsMysql::discover(&fake, &instance()).unwrap();
    RdsMysql::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"])).unwrap();
    RdsMysql::whitelist_remove(&fake, &instance(), "app", &v(&["192.168.7.15"])).unwrap();
    let request = connection_request();
    dwlink_plugin_sdk::connection_properties_json::<RdsMysql>(&fake, &request).unwrap();
    let mut declared = info.actions();
    declared.sort();
    assert_eq!(fake.called_actions(), declared);
    assert_eq!(info.datasource_type, "mysql");
    assert_eq!(
        (info.product.as_str(), info.api_version.as_str()),
        ("Rds", "2014-08-15")
    );
}

fn connection_request() -> ConnectionRequest {
    ConnectionRequest {
        instance: instance(),
        location: Location::default(),
        owner_uid: "1862710497302214".into(),
        role_name: "dataworks-cross-account".into(),
        database: "sales".into(),
        username: "dw_reader".into(),
        env_type: "Prod".into(),
    }
}

#[test]
fn connection_properties_are_cross_account_instance_mode_without_password() {
    let fake = seed_cloud(SEED_GROUPS);
    let text =
        dwlink_plugin_sdk::connection_properties_json::<RdsMysql>(&fake, &connection_request())
            .unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        value,
        json!({
            "envType": "Prod", "regionId": REGION, "instanceId": ID, "database": "sales",
            "username": "dw_reader", "crossAccountOwnerId": "1862710497302214",
            "crossAccountRoleName": "dataworks-cross-account"
        })
    );
    let mut bad = connection_request();
    bad.env_type = "prod".into();
    assert!(matches!(
        RdsMysql::connection_properties(&fake, &bad),
        Err(PluginError::InvalidInput(_))
    ));
    let mut bad = connection_request();
    bad.owner_uid = "account-a".into();
    assert!(matches!(
        RdsMysql::connection_properties(&fake, &bad),
        Err(PluginError::InvalidInput(_))
    ));
}
