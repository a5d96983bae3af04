//! RDS, PolarDB, MongoDB and DataWorks actions over HTTP: shapes, whitelist semantics and
//! limits, DataWorks CRUD and errors.

mod common;
use common::*;
use dwlink_sim::Timing;
use serde_json::Value;

const RDS: &str = "2014-08-15";
const POLAR: &str = "2017-08-01";
const DDS: &str = "2015-12-01";
const MYSQL: &str = "rm-bp1simmysqlsource001";
const POLAR_ID: &str = "pc-bp1simpolardbsrc0001";
const MONGO: &str = "dds-bp1simmongosrc00001";

fn groups(v: &Value, list: &str, name_key: &str, ips_key: &str) -> Vec<(String, String)> {
    v.pointer(list)
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .map(|g| {
            (
                g[name_key].as_str().unwrap().to_string(),
                g[ips_key].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn rds_shapes() {
    let sim = start(Timing::Immediate).await;
    let a = Client::new(&sim, "A");
    let v = a
        .call(
            RDS,
            "DescribeDBInstanceAttribute",
            &[("DBInstanceId", MYSQL)],
        )
        .await
        .ok();
    let i = &v["Items"]["DBInstanceAttribute"][0];
    assert_eq!(i["DBInstanceId"], MYSQL);
    assert_eq!(i["RegionId"], "cn-hangzhou");
    assert_eq!(i["ZoneId"], "cn-hangzhou-h");
    assert_eq!(i["VpcId"], "vpc-bp1simhzvpc000000001");
    assert_eq!(i["VSwitchId"], "vsw-bp1simhzvsw00000000h");
    assert_eq!(i["InstanceNetworkType"], "VPC");
    assert_eq!(i["Port"], "3306");
    assert_eq!(i["DBInstanceStatus"], "Running");
    assert_eq!(i["Engine"], "MySQL");
    assert_eq!(i["DBInstanceDescription"], "Account_A_MySQL_Source");
    assert_eq!(
        i["ConnectionString"],
        "rm-bp1simmysqlsource001.mysql.rds.aliyuncs.com"
    );

    let v = a
        .call(RDS, "DescribeDBInstanceNetInfo", &[("DBInstanceId", MYSQL)])
        .await
        .ok();
    let n = &v["DBInstanceNetInfos"]["DBInstanceNetInfo"][0];
    assert_eq!(n["IPAddress"], "192.168.6.10");
    assert_eq!(n["IPType"], "Private");
    assert_eq!(n["Port"], "3306");
    assert_eq!(n["VPCId"], "vpc-bp1simhzvpc000000001");
    assert_eq!(n["ConnectionStringType"], "Normal");
    assert_eq!(v["InstanceNetworkType"], "VPC");

    let v = a
        .call(
            RDS,
            "DescribeDBInstanceIPArrayList",
            &[("DBInstanceId", MYSQL)],
        )
        .await
        .ok();
    assert_eq!(v["Items"]["DBInstanceIPArray"][0]["SecurityIPType"], "IPv4");
    assert_eq!(
        groups(
            &v,
            "/Items/DBInstanceIPArray",
            "DBInstanceIPArrayName",
            "SecurityIPList"
        ),
        vec![
            ("default".into(), "10.20.0.0/16".into()),
            ("app".into(), "192.168.6.0/24,192.168.7.15".into())
        ]
    );
    // Not found, and another account's instance looks the same.
    a.call(
        RDS,
        "DescribeDBInstanceAttribute",
        &[("DBInstanceId", "rm-nope")],
    )
    .await
    .err(404, "InvalidDBInstanceId.NotFound");
    Client::new(&sim, "B")
        .call(
            RDS,
            "DescribeDBInstanceAttribute",
            &[("DBInstanceId", MYSQL)],
        )
        .await
        .err(404, "InvalidDBInstanceId.NotFound");
    // V1 signing reaches the same handler.
    let v = a
        .call_v1(
            RDS,
            "DescribeDBInstanceNetInfo",
            &[("DBInstanceId", MYSQL)],
            None,
        )
        .await
        .ok();
    assert!(v["DBInstanceNetInfos"]["DBInstanceNetInfo"].is_array());
}

async fn rds_groups(a: &Client) -> Vec<(String, String)> {
    let v = a
        .call(
            RDS,
            "DescribeDBInstanceIPArrayList",
            &[("DBInstanceId", MYSQL)],
        )
        .await
        .ok();
    groups(
        &v,
        "/Items/DBInstanceIPArray",
        "DBInstanceIPArrayName",
        "SecurityIPList",
    )
}

#[tokio::test]
async fn rds_whitelist_modes_limits_and_the_empty_group_rule() {
    let sim = start(Timing::Immediate).await;
    let a = Client::new(&sim, "A");
    let modify = |ips: &str, group: &str, mode: &str| {
        let (ips, group, mode) = (ips.to_string(), group.to_string(), mode.to_string());
        let a = a.clone();
        async move {
            let mut p = vec![("DBInstanceId", MYSQL), ("SecurityIps", ips.as_str())];
            if !group.is_empty() {
                p.push(("DBInstanceIPArrayName", group.as_str()));
            }
            if !mode.is_empty() {
                p.push(("ModifyMode", mode.as_str()));
            }
            a.call(RDS, "ModifySecurityIps", &p).await
        }
    };
    let v = modify("172.16.66.0/24", "dataworks", "Append").await.ok();
    assert!(v["TaskId"].is_string());
    modify("172.16.67.0/24", "dataworks", "Append").await.ok();
    let g = rds_groups(&a).await;
    assert_eq!(
        g[2],
        ("dataworks".into(), "172.16.66.0/24,172.16.67.0/24".into())
    );
    // The application's entries were not touched.
    assert_eq!(g[1], ("app".into(), "192.168.6.0/24,192.168.7.15".into()));
    // Delete one, then the last: the group goes away.
    modify("172.16.67.0/24", "dataworks", "Delete").await.ok();
    modify("172.16.66.0/24", "dataworks", "Delete").await.ok();
    assert_eq!(rds_groups(&a).await.len(), 2);
    // The default group must keep an entry.
    modify("10.20.0.0/16", "default", "Delete")
        .await
        .err(400, "InvalidSecurityIPList.Empty");
    // Cover replaces (default mode, default group).
    modify("10.30.0.0/16,10.31.0.0/16", "", "").await.ok();
    assert_eq!(rds_groups(&a).await[0].1, "10.30.0.0/16,10.31.0.0/16");
    // Malformed entries, bad group names, unknown modes.
    modify("10.0.0.1/8", "x1", "Append")
        .await
        .err(400, "InvalidSecurityIPList.Format");
    modify("hello", "x1", "Append")
        .await
        .err(400, "InvalidSecurityIPList.Format");
    modify("10.0.0.0/8", "Bad-Name", "Append")
        .await
        .err(400, "InvalidParameter");
    modify("10.0.0.0/8", "x1", "Merge")
        .await
        .err(400, "InvalidParameter");
    modify("10.0.0.0/8", "nope", "Delete")
        .await
        .err(404, "InvalidSecurityIPGroup.NotFound");
    // 1000 entries per instance: 4 used, 996 more fit, one more does not.
    let many: Vec<String> = (0..996)
        .map(|n| format!("10.{}.{}.0/24", 100 + n / 256, n % 256))
        .collect();
    modify(&many.join(","), "bulk", "Append").await.ok();
    modify("11.0.0.0/8", "bulk", "Append")
        .await
        .err(400, "InvalidSecurityIPList.QuotaExceeded");
    // An instance that is not Running refuses.
    sim.tamper(&dwlink_sim::Tamper::SetStatus {
        kind: "rds-instance".into(),
        id: MYSQL.into(),
        status: "Stopped".into(),
    })
    .unwrap();
    modify("11.0.0.0/8", "dataworks", "Append")
        .await
        .err(403, "IncorrectDBInstanceState");
}

#[tokio::test]
async fn rds_group_quota() {
    let sim = start(Timing::Immediate).await;
    let a = Client::new(&sim, "A");
    for n in 0..198 {
        let name = format!("g{n}");
        let ip = format!("10.1.{}.{}", n / 256, n % 256);
        a.call(
            RDS,
            "ModifySecurityIps",
            &[
                ("DBInstanceId", MYSQL),
                ("SecurityIps", &ip),
                ("DBInstanceIPArrayName", &name),
                ("ModifyMode", "Append"),
            ],
        )
        .await
        .ok();
    }
    a.call(
        RDS,
        "ModifySecurityIps",
        &[
            ("DBInstanceId", MYSQL),
            ("SecurityIps", "10.9.9.9"),
            ("DBInstanceIPArrayName", "one_more"),
            ("ModifyMode", "Append"),
        ],
    )
    .await
    .err(400, "QuotaExceeded.WhitelistGroup");
}

#[tokio::test]
async fn whitelist_change_is_async_outside_immediate_timing() {
    let sim = start(Timing::Polls(2)).await;
    let a = Client::new(&sim, "A");
    let p = [
        ("DBInstanceId", MYSQL),
        ("SecurityIps", "172.16.66.0/24"),
        ("DBInstanceIPArrayName", "dataworks"),
        ("ModifyMode", "Append"),
    ];
    a.call(RDS, "ModifySecurityIps", &p).await.ok();
    let status = |v: Value| v["Items"]["DBInstanceAttribute"][0]["DBInstanceStatus"].clone();
    let attr = [("DBInstanceId", MYSQL)];
    assert_ne!(
        status(a.call(RDS, "DescribeDBInstanceAttribute", &attr).await.ok()),
        "Running"
    );
    // A second change while the first applies is refused.
    a.call(RDS, "ModifySecurityIps", &p)
        .await
        .err(403, "IncorrectDBInstanceState");
    assert_ne!(
        status(a.call(RDS, "DescribeDBInstanceAttribute", &attr).await.ok()),
        "Running"
    );
    assert_eq!(
        status(a.call(RDS, "DescribeDBInstanceAttribute", &attr).await.ok()),
        "Running"
    );
}

#[tokio::test]
async fn polardb_whitelist_change_is_async_outside_immediate_timing() {
    let sim = start(Timing::Polls(2)).await;
    let a = Client::new(&sim, "A");
    let change = |ips: &'static str| {
        [
            ("DBClusterId", POLAR_ID),
            ("SecurityIps", ips),
            ("DBClusterIPArrayName", "dataworks"),
            ("ModifyMode", "Append"),
        ]
    };
    let id = [("DBClusterId", POLAR_ID)];
    let status = || async {
        a.call(POLAR, "DescribeDBClusterAttribute", &id).await.ok()["DBClusterStatus"]
            .as_str()
            .unwrap()
            .to_string()
    };
    a.call(
        POLAR,
        "ModifyDBClusterAccessWhitelist",
        &change("172.16.66.0/24"),
    )
    .await
    .ok();
    assert_ne!(status().await, "Running");
    // A second change while the first applies is refused, and changes nothing.
    a.call(
        POLAR,
        "ModifyDBClusterAccessWhitelist",
        &change("172.16.67.0/24"),
    )
    .await
    .err(403, "OperationDenied.DBClusterStatus");
    assert_ne!(status().await, "Running");
    assert_eq!(status().await, "Running");
    let v = a
        .call(POLAR, "DescribeDBClusterAccessWhitelist", &id)
        .await
        .ok();
    assert!(
        groups(
            &v,
            "/Items/DBClusterIPArray",
            "DBClusterIPArrayName",
            "SecurityIps"
        )
        .contains(&("dataworks".into(), "172.16.66.0/24".into())),
        "{v}"
    );
    assert_eq!(
        sim.state()
            .find("polardb-cluster", POLAR_ID)
            .unwrap()
            .status,
        "Running"
    );
    // Once Running again, the next change is accepted.
    a.call(
        POLAR,
        "ModifyDBClusterAccessWhitelist",
        &change("172.16.67.0/24"),
    )
    .await
    .ok();
    assert_ne!(status().await, "Running");
}

#[tokio::test]
async fn mongodb_whitelist_change_is_async_outside_immediate_timing() {
    let sim = start(Timing::Polls(2)).await;
    let a = Client::new(&sim, "A");
    let change = |ips: &'static str| {
        [
            ("DBInstanceId", MONGO),
            ("SecurityIps", ips),
            ("SecurityIpGroupName", "dataworks"),
            ("ModifyMode", "Append"),
        ]
    };
    let id = [("DBInstanceId", MONGO)];
    let status = || async {
        a.call(DDS, "DescribeDBInstanceAttribute", &id).await.ok()["DBInstances"]["DBInstance"]
            [0]["DBInstanceStatus"]
            .as_str()
            .unwrap()
            .to_string()
    };
    a.call(DDS, "ModifySecurityIps", &change("172.16.66.0/24"))
        .await
        .ok();
    assert_ne!(status().await, "Running");
    // A second change while the first applies is refused, and changes nothing.
    a.call(DDS, "ModifySecurityIps", &change("172.16.67.0/24"))
        .await
        .err(403, "OperationDenied.DBInstanceStatus");
    assert_ne!(status().await, "Running");
    assert_eq!(status().await, "Running");
    let v = a.call(DDS, "DescribeSecurityIps", &id).await.ok();
    assert!(
        groups(
            &v,
            "/SecurityIpGroups/SecurityIpGroup",
            "SecurityIpGroupName",
            "SecurityIpList"
        )
        .contains(&("dataworks".into(), "172.16.66.0/24".into())),
        "{v}"
    );
    assert_eq!(
        sim.state().find("mongodb-instance", MONGO).unwrap().status,
        "Running"
    );
    a.call(DDS, "ModifySecurityIps", &change("172.16.67.0/24"))
        .await
        .ok();
    assert_ne!(status().await, "Running");
}

#[tokio::test]
async fn polardb_shapes_and_whitelist() {
    let sim = start(Timing::Immediate).await;
    let a = Client::new(&sim, "A");
    let id = [("DBClusterId", POLAR_ID)];
    let v = a.call(POLAR, "DescribeDBClusterAttribute", &id).await.ok();
    assert_eq!(v["DBClusterId"], POLAR_ID);
    assert_eq!(v["RegionId"], "cn-hangzhou");
    assert_eq!(v["ZoneIds"], "cn-hangzhou-h");
    assert_eq!(v["VPCId"], "vpc-bp1simhzvpc000000001");
    assert_eq!(v["DBClusterNetworkType"], "VPC");
    assert_eq!(v["DBClusterStatus"], "Running");
    assert_eq!(v["DBType"], "MySQL");
    assert!(v["DBNodes"].as_array().is_some_and(|n| !n.is_empty()));
    let v = a.call(POLAR, "DescribeDBClusterEndpoints", &id).await.ok();
    let e = &v["Items"][0];
    assert_eq!(e["EndpointType"], "Cluster");
    let addr = &e["AddressItems"][0];
    assert_eq!(addr["IPAddress"], "192.168.6.20");
    assert_eq!(addr["NetType"], "Private");
    assert_eq!(addr["Port"], "3306");
    assert_eq!(addr["VPCId"], "vpc-bp1simhzvpc000000001");
    assert_eq!(
        addr["ConnectionString"],
        "pc-bp1simpolardbsrc0001.rwlb.rds.aliyuncs.com"
    );

    let modify = |ips: &str, group: Option<&str>, mode: &str| {
        let mut p = vec![
            ("DBClusterId", POLAR_ID.to_string()),
            ("SecurityIps", ips.to_string()),
            ("ModifyMode", mode.to_string()),
        ];
        if let Some(g) = group {
            p.push(("DBClusterIPArrayName", g.to_string()));
        }
        let a = a.clone();
        async move {
            let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
            a.call(POLAR, "ModifyDBClusterAccessWhitelist", &p).await
        }
    };
    modify("172.16.66.0/24", Some("dataworks"), "Append")
        .await
        .ok();
    modify("172.16.66.0/24", Some("dataworks"), "Append")
        .await
        .ok();
    let v = a
        .call(POLAR, "DescribeDBClusterAccessWhitelist", &id)
        .await
        .ok();
    assert_eq!(
        groups(
            &v,
            "/Items/DBClusterIPArray",
            "DBClusterIPArrayName",
            "SecurityIps"
        ),
        vec![
            ("default".into(), "10.20.0.0/16".into()),
            ("dataworks".into(), "172.16.66.0/24".into())
        ]
    );
    modify("172.16.66.0/24", Some("dataworks"), "Delete")
        .await
        .ok();
    modify("10.20.0.0/16", None, "Delete")
        .await
        .err(400, "InvalidSecurityIPList.Empty");
    let v = a
        .call(POLAR, "DescribeDBClusterAccessWhitelist", &id)
        .await
        .ok();
    assert_eq!(v["Items"]["DBClusterIPArray"].as_array().unwrap().len(), 1);
    modify("1.2.3.4", Some("x"), "Append")
        .await
        .err(400, "InvalidParameter");
    for n in 0..49 {
        modify(&format!("10.2.0.{n}"), Some(&format!("g{n}")), "Append")
            .await
            .ok();
    }
    modify("10.3.0.1", Some("one_more"), "Append")
        .await
        .err(400, "QuotaExceeded.WhitelistGroup");
    a.call(
        POLAR,
        "DescribeDBClusterAttribute",
        &[("DBClusterId", "pc-nope")],
    )
    .await
    .err(404, "InvalidDBClusterId.NotFound");
    sim.tamper(&dwlink_sim::Tamper::SetStatus {
        kind: "polardb-cluster".into(),
        id: POLAR_ID.into(),
        status: "Stopped".into(),
    })
    .unwrap();
    modify("10.3.0.1", Some("g1"), "Append")
        .await
        .err(403, "OperationDenied.DBClusterStatus");
}

#[tokio::test]
async fn mongodb_shapes_and_whitelist() {
    let sim = start(Timing::Immediate).await;
    let a = Client::new(&sim, "A");
    let id = [("DBInstanceId", MONGO)];
    let v = a.call(DDS, "DescribeDBInstanceAttribute", &id).await.ok();
    let i = &v["DBInstances"]["DBInstance"][0];
    assert_eq!(i["DBInstanceId"], MONGO);
    assert_eq!(i["DBInstanceType"], "replicate");
    assert_eq!(i["NetworkType"], "VPC");
    assert_eq!(i["VPCId"], "vpc-bp1simhzvpc000000001");
    assert_eq!(i["RegionId"], "cn-hangzhou");
    let rs = &i["ReplicaSets"]["ReplicaSet"][0];
    assert_eq!(rs["ReplicaSetRole"], "Primary");
    assert_eq!(rs["ConnectionPort"], "3717");
    assert_eq!(
        rs["ConnectionDomain"],
        "dds-bp1simmongosrc00001-pub.mongodb.rds.aliyuncs.com"
    );
    assert_eq!(rs["NetworkType"], "VPC");

    let modify = |ips: &str, group: &str, mode: &str| {
        let p: Vec<(String, String)> = vec![
            ("DBInstanceId".into(), MONGO.into()),
            ("SecurityIps".into(), ips.into()),
            ("SecurityIpGroupName".into(), group.into()),
            ("ModifyMode".into(), mode.into()),
        ];
        let a = a.clone();
        async move {
            let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            a.call(DDS, "ModifySecurityIps", &p).await
        }
    };
    modify("172.16.66.0/24", "dataworks", "Append").await.ok();
    // Append of an entry already there is an error; Extend merges it.
    modify("172.16.66.0/24,1.2.3.4", "dataworks", "Append")
        .await
        .err(400, "InvalidSecurityIPList.Duplicate");
    modify("172.16.66.0/24,1.2.3.4", "dataworks", "Extend")
        .await
        .ok();
    let v = a.call(DDS, "DescribeSecurityIps", &id).await.ok();
    assert_eq!(v["SecurityIps"], "10.20.0.0/16");
    assert_eq!(
        groups(
            &v,
            "/SecurityIpGroups/SecurityIpGroup",
            "SecurityIpGroupName",
            "SecurityIpList"
        ),
        vec![
            ("default".into(), "10.20.0.0/16".into()),
            ("dataworks".into(), "172.16.66.0/24,1.2.3.4".into())
        ]
    );
    modify("172.16.66.0/24,1.2.3.4", "dataworks", "Delete")
        .await
        .ok();
    let v = a.call(DDS, "DescribeSecurityIps", &id).await.ok();
    assert_eq!(
        v["SecurityIpGroups"]["SecurityIpGroup"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    modify("10.20.0.0/16", "default", "Delete")
        .await
        .err(400, "InvalidSecurityIPList.Empty");
    // The same (version, action) names in RDS do not reach MongoDB.
    a.call(RDS, "DescribeDBInstanceAttribute", &id)
        .await
        .err(404, "InvalidDBInstanceId.NotFound");
    sim.tamper(&dwlink_sim::Tamper::SetStatus {
        kind: "mongodb-instance".into(),
        id: MONGO.into(),
        status: "Stopped".into(),
    })
    .unwrap();
    modify("1.2.3.4", "dataworks", "Append")
        .await
        .err(403, "OperationDenied.DBInstanceStatus");
}

const DW: &str = "2024-05-18";
const RG: &str = "Serverless_res_group_524257424564736_6831777003001";

fn get() -> Opts {
    Opts {
        get: true,
        ..Default::default()
    }
}

#[tokio::test]
async fn dataworks_resource_groups_and_networks() {
    let sim = start(Timing::Immediate).await;
    let b = Client::new(&sim, "B");
    let v = b
        .call_with(DW, "ListResourceGroups", &[("ProjectId", "61234")], &get())
        .await
        .ok();
    assert_eq!(v["Success"], true);
    let g = &v["PagingInfo"]["ResourceGroupList"][0];
    assert_eq!(g["Id"], RG);
    assert_eq!(g["Name"], "dataworks_rg_sh");
    assert_eq!(g["Status"], "Normal");
    assert_eq!(g["ResourceGroupType"], "CommonV2");
    assert_eq!(g["DefaultVpcId"], "vpc-uf6simshvpc000000001");
    assert_eq!(g["DefaultVswicthId"], "vsw-uf6simshvsw00000000e");
    assert_eq!(v["PagingInfo"]["TotalCount"], 1);
    let v = b
        .call_with(
            DW,
            "ListResourceGroups",
            &[("Statuses", "[\"Stop\"]")],
            &get(),
        )
        .await
        .ok();
    assert_eq!(v["PagingInfo"]["TotalCount"], 0);
    let v = b
        .call_with(DW, "GetResourceGroup", &[("Id", RG)], &get())
        .await
        .ok();
    assert_eq!(
        v["ResourceGroup"]["DefaultVswitchId"],
        "vsw-uf6simshvsw00000000e"
    );
    Client::new(&sim, "A")
        .call_with(DW, "GetResourceGroup", &[("Id", RG)], &get())
        .await
        .err(404, "ResourceGroup.NotFound");

    let v = b
        .call_with(DW, "ListNetworks", &[("ResourceGroupId", RG)], &get())
        .await
        .ok();
    let n = &v["PagingInfo"]["NetworkList"][0];
    assert_eq!(n["Id"], 1001);
    assert_eq!(n["VpcId"], "vpc-uf6simshvpc000000001");
    assert_eq!(n["VswitchId"], "vsw-uf6simshvsw00000000e");
    assert_eq!(n["Status"], "Running");
    // A second network on the other vSwitch, idempotent on its ClientToken.
    let create = [
        ("ResourceGroupId", RG),
        ("VpcId", "vpc-uf6simshvpc000000001"),
        ("VswitchId", "vsw-uf6simshvsw00000000f"),
        ("ClientToken", "net-1"),
    ];
    let id = b
        .call_with(
            DW,
            "CreateNetwork",
            &create,
            &Opts {
                form: true,
                ..Default::default()
            },
        )
        .await
        .ok()["Id"]
        .clone();
    assert!(id.is_u64());
    let again = b.call(DW, "CreateNetwork", &create).await.ok();
    assert_eq!(again["Id"], id);
    b.call(
        DW,
        "CreateNetwork",
        &[
            ("ResourceGroupId", RG),
            ("VpcId", "vpc-uf6simshvpc000000001"),
            ("VswitchId", "vsw-uf6simshvsw00000000f"),
            ("ClientToken", "net-2"),
        ],
    )
    .await
    .err(400, "Network.AlreadyExists");
    b.call(
        DW,
        "CreateNetwork",
        &[
            ("ResourceGroupId", RG),
            ("VpcId", "vpc-nope"),
            ("VswitchId", "vsw-uf6simshvsw00000000f"),
            ("ClientToken", "net-3"),
        ],
    )
    .await
    .err(404, "InvalidVpcId.NotFound");
    b.call(
        DW,
        "CreateNetwork",
        &[
            ("ResourceGroupId", RG),
            ("VpcId", "vpc-uf6simshvpc000000001"),
            ("VswitchId", "vsw-uf6simshvsw00000000f"),
        ],
    )
    .await
    .err(400, "MissingParameter");
    let id_s = id.to_string();
    let v = b
        .call_with(DW, "GetNetwork", &[("Id", &id_s)], &get())
        .await
        .ok();
    assert_eq!(v["Network"]["VswitchId"], "vsw-uf6simshvsw00000000f");
    b.call(DW, "DeleteNetwork", &[("Id", &id_s)]).await.ok();
    b.call_with(DW, "GetNetwork", &[("Id", &id_s)], &get())
        .await
        .err(404, "Network.NotFound");
}

#[tokio::test]
async fn dataworks_routes() {
    let sim = start(Timing::Immediate).await;
    let b = Client::new(&sim, "B");
    let v = b
        .call(
            DW,
            "CreateRoute",
            &[
                ("NetworkId", "1001"),
                ("DestinationCidr", "192.168.6.0/24"),
                ("ResourceGroupId", RG),
            ],
        )
        .await
        .ok();
    assert_eq!(v["Success"], true);
    let id = v["Id"].as_u64().unwrap().to_string();
    b.call(
        DW,
        "CreateRoute",
        &[("NetworkId", "1001"), ("DestinationCidr", "192.168.6.0/24")],
    )
    .await
    .err(400, "Route.AlreadyExists");
    b.call(
        DW,
        "CreateRoute",
        &[("NetworkId", "1001"), ("DestinationCidr", "192.168.6.1/24")],
    )
    .await
    .err(400, "InvalidCidrBlock.Malformed");
    b.call(
        DW,
        "CreateRoute",
        &[("NetworkId", "1001"), ("DestinationCidr", "nonsense")],
    )
    .await
    .err(400, "InvalidCidrBlock.Malformed");
    b.call(
        DW,
        "CreateRoute",
        &[("NetworkId", "999"), ("DestinationCidr", "10.0.0.0/8")],
    )
    .await
    .err(404, "Network.NotFound");
    b.call(
        DW,
        "CreateRoute",
        &[
            ("NetworkId", "1001"),
            ("DestinationCidr", "10.0.0.0/8"),
            ("ResourceGroupId", "Serverless_other"),
        ],
    )
    .await
    .err(400, "Network.ResourceGroupMismatch");
    let v = b
        .call_with(DW, "ListRoutes", &[("ResourceGroupId", RG)], &get())
        .await
        .ok();
    let r = &v["PagingInfo"]["RouteList"][0];
    assert_eq!(r["DestinationCidr"], "192.168.6.0/24");
    assert_eq!(r["NetworkId"], 1001);
    assert_eq!(r["ResourceGroupId"], RG);
    assert_eq!(v["PagingInfo"]["TotalCount"], 1);
    b.call(
        DW,
        "UpdateRoute",
        &[("Id", &id), ("DestinationCidr", "192.168.0.0/16")],
    )
    .await
    .ok();
    let v = b
        .call_with(DW, "GetRoute", &[("Id", &id)], &get())
        .await
        .ok();
    assert_eq!(v["Route"]["DestinationCidr"], "192.168.0.0/16");
    let state = sim.state();
    let r = state.find("dataworks-route", &id).unwrap();
    assert_eq!(r.attributes["destination_cidr"], "192.168.0.0/16");
    // Another account cannot see it.
    Client::new(&sim, "A")
        .call_with(DW, "GetRoute", &[("Id", &id)], &get())
        .await
        .err(404, "Route.NotFound");
    b.call(DW, "DeleteRoute", &[("Id", &id)]).await.ok();
    b.call_with(DW, "GetRoute", &[("Id", &id)], &get())
        .await
        .err(404, "Route.NotFound");
}

const PROPS: &str = r#"{"envType":"Prod","regionId":"cn-hangzhou","instanceId":"rm-bp1simmysqlsource001","database":"orders","username":"reader","password":"S3cret-pw!","crossAccountOwnerId":"1862710497302214","crossAccountRoleName":"dataworks-cross-account"}"#;

#[tokio::test]
async fn dataworks_data_sources() {
    let sim = start(Timing::Immediate).await;
    let b = Client::new(&sim, "B");
    let create = |name: &str, props: &str| {
        let (name, props) = (name.to_string(), props.to_string());
        let b = b.clone();
        async move {
            b.call(
                DW,
                "CreateDataSource",
                &[
                    ("ProjectId", "61234"),
                    ("Name", &name),
                    ("Type", "mysql"),
                    ("ConnectionPropertiesMode", "InstanceMode"),
                    ("ConnectionProperties", &props),
                    ("Description", "orders"),
                ],
            )
            .await
        }
    };
    let id = create("mysql_orders", PROPS).await.ok()["Id"]
        .as_u64()
        .unwrap()
        .to_string();
    create("mysql_orders", PROPS)
        .await
        .err(400, "DataSource.AlreadyExists");
    // The same name in the other environment is the same data source's Dev side.
    create("mysql_orders", &PROPS.replace("Prod", "Dev"))
        .await
        .ok();
    create("1bad", PROPS).await.err(400, "InvalidParameter");
    create("ok_name", "{not json")
        .await
        .err(400, "InvalidParameter");
    create("ok_name", &PROPS.replace("\"envType\":\"Prod\",", ""))
        .await
        .err(400, "InvalidParameter");
    create("ok_name", &PROPS.replace("instanceId", "instance"))
        .await
        .err(400, "InvalidParameter");

    let v = b
        .call_with(DW, "GetDataSource", &[("Id", &id)], &get())
        .await
        .ok();
    let d = &v["DataSource"];
    assert_eq!(d["Name"], "mysql_orders");
    assert_eq!(d["Type"], "mysql");
    assert_eq!(d["ProjectId"], 61234);
    assert_eq!(d["ConnectionPropertiesMode"], "InstanceMode");
    assert_eq!(d["ConnectionProperties"]["instanceId"], MYSQL);
    assert!(d["ConnectionProperties"].get("password").is_none());
    assert!(!v.to_string().contains("S3cret"));

    let v = b
        .call_with(DW, "ListDataSources", &[("ProjectId", "61234")], &get())
        .await
        .ok();
    let list = &v["PagingInfo"]["DataSources"];
    assert_eq!(v["PagingInfo"]["TotalCount"], 1);
    assert_eq!(list[0]["Name"], "mysql_orders");
    assert_eq!(list[0]["DataSource"].as_array().unwrap().len(), 2);
    assert!(!v.to_string().contains("S3cret"));
    let v = b
        .call_with(
            DW,
            "ListDataSources",
            &[("ProjectId", "61234"), ("Types", "polardb,mongodb")],
            &get(),
        )
        .await
        .ok();
    assert_eq!(v["PagingInfo"]["TotalCount"], 0);

    // Update without a password keeps the stored one (Get never returns it).
    let new_props = PROPS
        .replace("\"password\":\"S3cret-pw!\",", "")
        .replace("orders", "sales");
    b.call(
        DW,
        "UpdateDataSource",
        &[
            ("Id", &id),
            ("ProjectId", "61234"),
            ("ConnectionProperties", &new_props),
        ],
    )
    .await
    .ok();
    let v = b
        .call_with(DW, "GetDataSource", &[("Id", &id)], &get())
        .await
        .ok();
    assert_eq!(v["DataSource"]["ConnectionProperties"]["database"], "sales");
    let kept = sim.with_world(|w| {
        w.regions.values().find_map(|r| {
            r.dataworks
                .data_sources
                .get(&id.parse().unwrap())
                .map(|d| d.properties["password"].clone())
        })
    });
    assert_eq!(kept.unwrap(), "S3cret-pw!");
    // Admin state never shows the password either.
    assert!(
        !serde_json::to_string(&sim.state())
            .unwrap()
            .contains("S3cret")
    );

    b.call_with(DW, "DeleteDataSource", &[("Id", &id)], &get())
        .await
        .ok();
    b.call_with(DW, "GetDataSource", &[("Id", &id)], &get())
        .await
        .err(404, "DataSource.NotFound");
    b.call(
        DW,
        "CreateDataSource",
        &[
            ("ProjectId", "999"),
            ("Name", "x_y"),
            ("Type", "mysql"),
            ("ConnectionPropertiesMode", "InstanceMode"),
            ("ConnectionProperties", PROPS),
        ],
    )
    .await
    .err(404, "Project.NotFound");
}
