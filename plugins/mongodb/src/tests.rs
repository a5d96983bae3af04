//! Native tests of the plugin logic against a scripted cloud holding the seed scenario's
//! values (`examples/scenarios/seed.toml`).

use super::*;
use dwlink_plugin_sdk::serde_json;
use dwlink_plugin_sdk::testing::FakeCloud;

const ID: &str = "dds-bp1simmongosrc00001";
const REGION: &str = "cn-hangzhou";
const PRIMARY: &str = "dds-bp1simmongosrc00001-pub.mongodb.rds.aliyuncs.com";
const VPC_ID: &str = "vpc-bp1simhzvpc000000001";
const VSW_ID: &str = "vsw-bp1simhzvsw00000000h";

fn instance() -> InstanceRef {
    InstanceRef::new(ID, REGION)
}

fn replica_set_json(status: &str) -> String {
    let member = |domain: &str, role: &str, network: &str| {
        json!({"ConnectionDomain": domain, "ConnectionPort": "3717", "NetworkType": network,
               "ReplicaSetRole": role, "VPCId": VPC_ID, "VSwitchId": VSW_ID,
               "VPCCloudInstanceId": "cloud-1"})
    };
    json!({"RequestId": "req-attr", "DBInstances": {"DBInstance": [{
        "DBInstanceId": ID, "DBInstanceType": "replicate", "DBInstanceStatus": status,
        "NetworkType": "VPC", "VPCId": VPC_ID, "VSwitchId": VSW_ID, "ZoneId": "cn-hangzhou-h",
        "RegionId": REGION, "ReplicaSetName": "mgset-1",
        "ReplicaSets": {"ReplicaSet": [
            member("dds-bp1simmongosrc00001-public.mongodb.rds.aliyuncs.com", "Primary", "Public"),
            member("dds-bp1simmongosrc00002.mongodb.rds.aliyuncs.com", "Secondary", "VPC"),
            member(PRIMARY, "Primary", "VPC"),
        ]}
    }]}})
    .to_string()
}

fn groups_json(groups: &[(&str, &str)]) -> String {
    let list: Vec<_> = groups
        .iter()
        .map(|(name, ips)| {
            json!({"SecurityIpGroupName": name, "SecurityIpGroupAttribute": "",
                   "SecurityIpList": ips})
        })
        .collect();
    json!({"RequestId": "req-ips", "SecurityIps": "10.20.0.0/16",
           "SecurityIpGroups": {"SecurityIpGroup": list}})
    .to_string()
}

const SEED_GROUPS: &[(&str, &str)] = &[("default", "10.20.0.0/16")];

fn seed_cloud(groups: &[(&str, &str)]) -> FakeCloud {
    let fake = FakeCloud::declared(&MongoDb::describe());
    fake.on(
        "dds:DescribeDBInstanceAttribute",
        replica_set_json("Running"),
    )
    .on(
        "vpc:DescribeVSwitchAttributes",
        json!({"RequestId": "req-vsw", "VSwitchId": VSW_ID, "VpcId": VPC_ID,
                   "ZoneId": "cn-hangzhou-h", "CidrBlock": "192.168.6.0/24",
                   "Status": "Available"})
        .to_string(),
    )
    .on("dds:DescribeSecurityIps", groups_json(groups))
    .on("dds:ModifySecurityIps", r#"{"RequestId":"req-mod"}"#);
    fake
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn modifications(fake: &FakeCloud) -> Vec<(String, String, String)> {
    fake.calls_to("dds:ModifySecurityIps")
        .iter()
        .map(|c| {
            assert_eq!(c.get("DBInstanceId"), Some(ID));
            let mode = c.get("ModifyMode").unwrap_or("").to_string();
            assert!(mode == "Append" || mode == "Delete", "never Cover: {c:?}");
            (
                c.get("SecurityIpGroupName").unwrap_or("").to_string(),
                mode,
                c.get("SecurityIps").unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn discovers_the_seed_replica_set_primary() {
    let fake = seed_cloud(SEED_GROUPS);
    let location = MongoDb::discover(&fake, &instance()).unwrap();
    assert_eq!(
        location,
        Location {
            region: REGION.into(),
            zone: "cn-hangzhou-h".into(),
            vpc_id: VPC_ID.into(),
            vswitch_id: VSW_ID.into(),
            vswitch_cidr: "192.168.6.0/24".into(),
            endpoints: vec![Endpoint {
                host: PRIMARY.into(),
                port: 3717,
                role: "replica-primary".into(),
                address: None
            }],
            status: "Running".into(),
            running: true,
        }
    );
}

#[test]
fn discovers_the_mongos_of_a_sharded_cluster() {
    let fake = seed_cloud(SEED_GROUPS);
    fake.clear("dds:DescribeDBInstanceAttribute").on(
        "dds:DescribeDBInstanceAttribute",
        json!({"DBInstances": {"DBInstance": [{
            "DBInstanceId": ID, "DBInstanceType": "sharding", "DBInstanceStatus": "Running",
            "NetworkType": "VPC", "VPCId": VPC_ID, "VSwitchId": VSW_ID, "ZoneId": "cn-hangzhou-h",
            "MongosList": {"MongosAttribute": [
                {"NodeId": "s-1", "ConnectSting": "s-1.mongodb.rds.aliyuncs.com", "Port": 3717,
                 "VPCId": VPC_ID, "VSwitchId": VSW_ID},
                {"NodeId": "s-2", "ConnectString": "s-2.mongodb.rds.aliyuncs.com", "Port": 3717,
                 "VPCId": VPC_ID, "VSwitchId": VSW_ID}
            ]},
            "ShardList": {"ShardAttribute": []}
        }]}})
        .to_string(),
    );
    let location = MongoDb::discover(&fake, &instance()).unwrap();
    let hosts: Vec<(String, u16, String)> = location
        .endpoints
        .into_iter()
        .map(|e| (e.host, e.port, e.role))
        .collect();
    assert_eq!(
        hosts,
        vec![
            ("s-1.mongodb.rds.aliyuncs.com".into(), 3717, "mongos".into()),
            ("s-2.mongodb.rds.aliyuncs.com".into(), 3717, "mongos".into()),
        ]
    );
}

#[test]
fn add_never_appends_a_duplicate() {
    let fake = seed_cloud(SEED_GROUPS);
    MongoDb::whitelist_add(
        &fake,
        &instance(),
        "default",
        &v(&["10.20.0.0/16", "172.16.66.0/24"]),
    )
    .unwrap();
    assert_eq!(
        modifications(&fake),
        vec![("default".into(), "Append".into(), "172.16.66.0/24".into())]
    );
    let fake = seed_cloud(&[("default", "10.20.0.0/16"), ("dataworks", "172.16.66.0/24")]);
    MongoDb::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"])).unwrap();
    assert!(modifications(&fake).is_empty());
}

#[test]
fn remove_deletes_only_what_was_asked_and_present() {
    let fake = seed_cloud(&[
        ("default", "10.20.0.0/16"),
        ("dataworks", "172.16.66.0/24,172.16.67.0/24"),
    ]);
    MongoDb::whitelist_remove(&fake, &instance(), "dataworks", &v(&["172.16.67.0/24"])).unwrap();
    assert_eq!(
        modifications(&fake),
        vec![("dataworks".into(), "Delete".into(), "172.16.67.0/24".into())]
    );
}

#[test]
fn lists_groups_and_falls_back_to_the_default_list() {
    let fake = seed_cloud(SEED_GROUPS);
    fake.clear("dds:DescribeSecurityIps").on(
        "dds:DescribeSecurityIps",
        r#"{"SecurityIps":"10.20.0.0/16,127.0.0.1"}"#,
    );
    let groups = MongoDb::whitelist_list(&fake, &instance()).unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].name, "default");
    assert_eq!(groups[0].entries, v(&["10.20.0.0/16", "127.0.0.1"]));
}

#[test]
fn limits_state_and_errors() {
    let many: Vec<String> = (0..1000)
        .map(|i| format!("10.{}.{}.1", i / 250, i % 250))
        .collect();
    let joined = many.join(",");
    let fake = seed_cloud(&[("default", joined.as_str())]);
    let e = MongoDb::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"]))
        .unwrap_err();
    assert!(matches!(e, PluginError::LimitExceeded(_)), "{e}");

    let fake = seed_cloud(SEED_GROUPS);
    fake.clear("dds:DescribeDBInstanceAttribute").on(
        "dds:DescribeDBInstanceAttribute",
        replica_set_json("NodeCreating"),
    );
    let e = MongoDb::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"]))
        .unwrap_err();
    assert!(matches!(e, PluginError::InvalidState(_)), "{e}");
    assert!(modifications(&fake).is_empty());

    let fake = seed_cloud(SEED_GROUPS);
    fake.clear("dds:DescribeDBInstanceAttribute").fail(
        "dds:DescribeDBInstanceAttribute",
        "InvalidDBInstanceId.NotFound",
        "Specified instance does not exist.",
    );
    let e = MongoDb::discover(&fake, &instance()).unwrap_err();
    assert!(matches!(e, PluginError::NotFound(_)), "{e}");
    assert!(
        e.to_string().contains(ID) && e.to_string().contains(REGION),
        "{e}"
    );

    let fake = seed_cloud(SEED_GROUPS);
    let e = MongoDb::whitelist_add(&fake, &instance(), "Data-Works", &v(&["172.16.66.0/24"]))
        .unwrap_err();
    assert!(matches!(e, PluginError::InvalidInput(_)), "{e}");
}

#[test]
fn does_not_wait_after_a_change_the_host_does() {
    let fake = seed_cloud(SEED_GROUPS);
    fake.clear("dds:DescribeDBInstanceAttribute");
    for status in ["Running", "SSLModifying"] {
        fake.on("dds:DescribeDBInstanceAttribute", replica_set_json(status));
    }
    MongoDb::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"])).unwrap();
    assert_eq!(fake.calls_to("dds:DescribeDBInstanceAttribute").len(), 1);
}

#[test]
fn connection_properties_and_declared_actions() {
    let fake = seed_cloud(SEED_GROUPS);
    MongoDb::discover(&fake, &instance()).unwrap();
    MongoDb::whitelist_add(&fake, &instance(), "dataworks", &v(&["172.16.66.0/24"])).unwrap();
    MongoDb::whitelist_remove(&fake, &instance(), "default", &v(&["9.9.9.9"])).unwrap();
    let request = ConnectionRequest {
        instance: instance(),
        location: Location::default(),
        owner_uid: "1862710497302214".into(),
        role_name: "dataworks-cross-account".into(),
        database: "events".into(),
        username: "dw_reader".into(),
        env_type: "Prod".into(),
    };
    let text = dwlink_plugin_sdk::connection_properties_json::<MongoDb>(&fake, &request).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        value,
        json!({
            "envType": "Prod", "regionId": REGION, "instanceId": ID, "database": "events",
            "username": "dw_reader", "crossAccountOwnerId": "1862710497302214",
            "crossAccountRoleName": "dataworks-cross-account"
        })
    );
    let mut declared = MongoDb::describe().actions();
    declared.sort();
    assert_eq!(fake.called_actions(), declared);
}
