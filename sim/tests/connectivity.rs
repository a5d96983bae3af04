//! `TestDataSourceConnectivity` is computed: a fully connected state (peering, then CEN) is
//! Connectable, and breaking one hop at a time gives the verdict and names that hop.

mod common;
use common::*;
use dwlink_sim::lifecycle::Lifecycle;
use dwlink_sim::state::*;
use dwlink_sim::{SimHandle, Timing};
use serde_json::Value;

const DW: &str = "2024-05-18";
const RG: &str = "Serverless_res_group_524257424564736_6831777003001";
const A: &str = "1862710497302214";
const B: &str = "1539826603711058";
const HZ: &str = "cn-hangzhou";
const SH: &str = "cn-shanghai";
const VPC_A: &str = "vpc-bp1simhzvpc000000001";
const VPC_B: &str = "vpc-uf6simshvpc000000001";
const RTB_A: &str = "vtb-bp1simhzrtb000000001";
const RTB_B: &str = "vtb-uf6simshrtb000000001";
const MYSQL: &str = "rm-bp1simmysqlsource001";
const PCC: &str = "pcc-simpeering000000000001";
const ATT_A: &str = "tr-attach-simhz000000000001";
const ATT_B: &str = "tr-attach-simsh000000000001";
const PEER: &str = "tr-attach-simpeer0000000001";
const TR_HZ: &str = "tr-bp1simtrhz0000000001";
const TR_SH: &str = "tr-uf6simtrsh0000000001";

fn route(table: &str, id: &str, dest: &str, kind: &str, hop: &str) -> RouteEntry {
    RouteEntry {
        id: id.into(),
        route_table_id: table.into(),
        destination: dest.parse().unwrap(),
        kind: RouteEntryKind::Custom,
        origin: "CustomCreate".into(),
        name: String::new(),
        description: String::new(),
        next_hops: vec![NextHop {
            kind: kind.into(),
            id: hop.into(),
            weight: None,
        }],
        status: Lifecycle::settled(RouteEntryStatus::Available),
        created: String::new(),
    }
}

fn add_route(w: &mut World, uid: &str, region: &str, table: &str, e: RouteEntry) {
    w.regional(uid, region)
        .route_tables
        .get_mut(table)
        .unwrap()
        .entries
        .push(e);
}

/// The parts every path shares: the DataWorks route and the whitelist entry.
fn common_hops(w: &mut World) {
    let dw = &mut w.regional(B, SH).dataworks;
    dw.routes.insert(
        5001,
        DwRoute {
            id: 5001,
            network_id: 1001,
            resource_group_id: RG.into(),
            destination: "192.168.6.0/24".parse().unwrap(),
            resource_id: VPC_B.into(),
            created_ms: 0,
        },
    );
    for (_, r) in w.regions.iter_mut() {
        if let Some(i) = r.rds_instances.get_mut(MYSQL) {
            i.whitelist.push(WhitelistGroup {
                name: "dataworks".into(),
                attribute: String::new(),
                entries: vec!["172.16.66.0/24".into()],
            });
        }
        for c in r.polardb_clusters.values_mut() {
            c.whitelist[0].entries.push("172.16.0.0/16".into());
        }
    }
}

fn peering_path(w: &mut World) {
    common_hops(w);
    w.regional(B, SH).peerings.insert(
        PCC.into(),
        VpcPeering {
            id: PCC.into(),
            name: "dw".into(),
            description: String::new(),
            owner_uid: B.into(),
            region: SH.into(),
            vpc_id: VPC_B.into(),
            accepting_uid: A.into(),
            accepting_region: HZ.into(),
            accepting_vpc_id: VPC_A.into(),
            bandwidth: 1024,
            link_type: "Platinum".into(),
            resource_group_id: String::new(),
            status: Lifecycle::settled(PeeringStatus::Activated),
            created: String::new(),
            modified: String::new(),
        },
    );
    add_route(
        w,
        B,
        SH,
        RTB_B,
        route(RTB_B, "rte-b1", "192.168.6.0/24", "VpcPeer", PCC),
    );
    add_route(
        w,
        A,
        HZ,
        RTB_A,
        route(RTB_A, "rte-a1", "172.16.66.0/24", "VpcPeer", PCC),
    );
}

fn vpc_attachment(id: &str, tr: &str, vpc: &str, owner: &str, region: &str) -> TrVpcAttachment {
    TrVpcAttachment {
        id: id.into(),
        cen_id: "cen-simcen000000000001".into(),
        transit_router_id: tr.into(),
        vpc_id: vpc.into(),
        vpc_owner_uid: owner.into(),
        vpc_region: region.into(),
        zone_mappings: Vec::new(),
        name: String::new(),
        description: String::new(),
        auto_publish_route: false,
        charge_type: "POSTPAY".into(),
        status: Lifecycle::settled(AttachmentStatus::Attached),
        created: String::new(),
    }
}

fn tr(id: &str, table: &str, attachments: &[&str]) -> TransitRouter {
    let assoc = attachments
        .iter()
        .map(|a| TrAssociation {
            attachment_id: a.to_string(),
            status: Lifecycle::settled(AssociationStatus::Active),
        })
        .collect();
    let prop = attachments
        .iter()
        .map(|a| TrPropagation {
            attachment_id: a.to_string(),
            status: Lifecycle::settled(PropagationStatus::Active),
        })
        .collect();
    TransitRouter {
        id: id.into(),
        cen_id: "cen-simcen000000000001".into(),
        name: String::new(),
        description: String::new(),
        kind: "Enterprise".into(),
        status: Lifecycle::settled(TrStatus::Active),
        route_tables: vec![TrRouteTable {
            id: table.into(),
            kind: RouteTableKind::System,
            name: String::new(),
            status: Lifecycle::settled(TrRouteTableStatus::Active),
            associations: assoc,
            propagations: prop,
            static_entries: Vec::new(),
        }],
        created: String::new(),
    }
}

/// CEN owned by B: TRs in both regions, A's VPC attached by grant, an inter-region connection.
fn cen_path(w: &mut World) {
    common_hops(w);
    w.global(B).cens.insert(
        "cen-simcen000000000001".into(),
        Cen {
            id: "cen-simcen000000000001".into(),
            name: "dw".into(),
            description: String::new(),
            protection_level: "REDUCED".into(),
            status: Lifecycle::settled(CenStatus::Active),
            created: String::new(),
        },
    );
    let sh = w.regional(B, SH);
    sh.transit_routers
        .insert(TR_SH.into(), tr(TR_SH, "vtb-trsh", &[ATT_B, PEER]));
    sh.tr_vpc_attachments
        .insert(ATT_B.into(), vpc_attachment(ATT_B, TR_SH, VPC_B, B, SH));
    sh.tr_peer_attachments.insert(
        PEER.into(),
        TrPeerAttachment {
            id: PEER.into(),
            cen_id: "cen-simcen000000000001".into(),
            transit_router_id: TR_SH.into(),
            peer_transit_router_id: TR_HZ.into(),
            peer_region: HZ.into(),
            peer_owner_uid: B.into(),
            bandwidth: 10,
            bandwidth_type: "DataTransfer".into(),
            link_type: "Platinum".into(),
            name: String::new(),
            description: String::new(),
            auto_publish_route: false,
            status: Lifecycle::settled(AttachmentStatus::Attached),
            created: String::new(),
        },
    );
    let hz = w.regional(B, HZ);
    hz.transit_routers
        .insert(TR_HZ.into(), tr(TR_HZ, "vtb-trhz", &[ATT_A, PEER]));
    hz.tr_vpc_attachments
        .insert(ATT_A.into(), vpc_attachment(ATT_A, TR_HZ, VPC_A, A, HZ));
    add_route(
        w,
        B,
        SH,
        RTB_B,
        route(RTB_B, "rte-b1", "192.168.6.0/24", "Attachment", ATT_B),
    );
    add_route(
        w,
        A,
        HZ,
        RTB_A,
        route(RTB_A, "rte-a1", "172.16.66.0/24", "Attachment", ATT_A),
    );
}

const MYSQL_PROPS: &str = r#"{"envType":"Prod","regionId":"cn-hangzhou","instanceId":"rm-bp1simmysqlsource001","database":"orders","username":"reader","password":"pw-123456","crossAccountOwnerId":"1862710497302214","crossAccountRoleName":"dataworks-cross-account"}"#;

async fn data_source(sim: &SimHandle, name: &str, kind: &str, mode: &str, props: &str) -> String {
    let v = Client::new(sim, "B")
        .call(
            DW,
            "CreateDataSource",
            &[
                ("ProjectId", "61234"),
                ("Name", name),
                ("Type", kind),
                ("ConnectionPropertiesMode", mode),
                ("ConnectionProperties", props),
            ],
        )
        .await
        .ok();
    v["Id"].as_u64().unwrap().to_string()
}

async fn test_ds(sim: &SimHandle, id: &str) -> (String, String, Value) {
    let v = Client::new(sim, "B")
        .call(
            DW,
            "TestDataSourceConnectivity",
            &[
                ("DataSourceId", id),
                ("ProjectId", "61234"),
                ("ResourceGroupId", RG),
            ],
        )
        .await
        .ok();
    let c = v["Connectivity"].clone();
    (
        c["ConnectState"].as_str().unwrap().to_string(),
        c["ConnectMessage"].as_str().unwrap().to_string(),
        c["DetailLogs"].clone(),
    )
}

/// Builds a connected world with `path`, applies `breakage`, and tests the MySQL data source.
async fn verdict(
    path: fn(&mut World),
    breakage: impl FnOnce(&mut World),
) -> (String, String, Value) {
    let sim = start(Timing::Immediate).await;
    sim.with_world(|w| {
        path(w);
        breakage(w);
    });
    let id = data_source(&sim, "mysql_orders", "mysql", "InstanceMode", MYSQL_PROPS).await;
    test_ds(&sim, &id).await
}

#[track_caller]
fn assert_hop(v: &(String, String, Value), state: &str, hop: &str, names: &str) {
    assert_eq!(v.0, state, "message: {}", v.1);
    assert!(v.1.contains(hop), "{:?} should name the hop {hop:?}", v.1);
    assert!(v.1.contains(names), "{:?} should name {names:?}", v.1);
    let logs = v.2.as_array().unwrap();
    let last = logs.last().unwrap();
    assert!(last["Message"].as_str().unwrap().contains(hop));
    assert!(last["StartTime"].is_i64() && last["EndTime"].is_i64());
}

fn table_entries<'w>(
    w: &'w mut World,
    uid: &str,
    region: &str,
    table: &str,
) -> &'w mut Vec<RouteEntry> {
    &mut w
        .regional(uid, region)
        .route_tables
        .get_mut(table)
        .unwrap()
        .entries
}

#[tokio::test]
async fn seed_alone_is_unreachable_at_the_dataworks_route() {
    let v = verdict(|_| {}, |_| {}).await;
    assert_hop(&v, "Unreachable", "DataWorks route", "1001");
}

#[tokio::test]
async fn peering_path_is_connectable_and_each_hop_can_break() {
    let ok = verdict(peering_path, |_| {}).await;
    assert_eq!(ok.0, "Connectable", "{}", ok.1);
    assert!(ok.1.contains(PCC) && ok.1.contains(MYSQL));
    let codes: Vec<&str> =
        ok.2.as_array()
            .unwrap()
            .iter()
            .map(|l| l["Code"].as_str().unwrap())
            .collect();
    assert_eq!(
        codes,
        [
            "CROSS_ACCOUNT_ROLE",
            "DATA_SOURCE_INSTANCE",
            "INSTANCE_STATUS",
            "RESOURCE_GROUP_NETWORK",
            "DATAWORKS_ROUTE",
            "SOURCE_VPC_ROUTE",
            "VPC_PEERING",
            "RETURN_ROUTE",
            "WHITELIST",
            "ENDPOINT"
        ]
    );

    let v = verdict(peering_path, |w| {
        w.regional(B, SH).dataworks.routes.clear();
    })
    .await;
    assert_hop(&v, "Unreachable", "DataWorks route", RG);

    let v = verdict(peering_path, |w| {
        table_entries(w, B, SH, RTB_B).retain(|e| e.id != "rte-b1");
    })
    .await;
    assert_hop(
        &v,
        "Unreachable",
        "route table of the resource group's VPC",
        VPC_B,
    );

    let v = verdict(peering_path, |w| {
        let e = table_entries(w, B, SH, RTB_B)
            .iter_mut()
            .find(|e| e.id == "rte-b1")
            .unwrap();
        e.status = Lifecycle::settled(RouteEntryStatus::Pending);
    })
    .await;
    assert_hop(
        &v,
        "Unreachable",
        "route table of the resource group's VPC",
        "Pending",
    );

    let v = verdict(peering_path, |w| {
        let p = w.regional(B, SH).peerings.get_mut(PCC).unwrap();
        p.status = Lifecycle::settled(PeeringStatus::Accepting);
    })
    .await;
    assert_hop(&v, "Unreachable", "VPC peering connection", PCC);

    let v = verdict(peering_path, |w| {
        w.regional(B, SH)
            .peerings
            .get_mut(PCC)
            .unwrap()
            .accepting_vpc_id = "vpc-bp1other".into();
    })
    .await;
    assert_hop(&v, "Unreachable", "VPC peering connection", "vpc-bp1other");

    let v = verdict(peering_path, |w| {
        table_entries(w, A, HZ, RTB_A).retain(|e| e.id != "rte-a1");
    })
    .await;
    assert_hop(&v, "Unreachable", "return route", VPC_A);

    let v = verdict(peering_path, |w| {
        for r in w.regions.values_mut() {
            if let Some(i) = r.rds_instances.get_mut(MYSQL) {
                i.whitelist.retain(|g| g.name != "dataworks");
            }
        }
    })
    .await;
    assert_hop(&v, "Unreachable", "instance whitelist", MYSQL);

    let v = verdict(peering_path, |w| {
        for r in w.global(A).roles.values_mut() {
            r.trusted_uids.clear();
        }
    })
    .await;
    assert_hop(
        &v,
        "ConfigError",
        "cross-account RAM role",
        "dataworks-cross-account",
    );

    let v = verdict(peering_path, |w| {
        w.global(A).roles.clear();
    })
    .await;
    assert_hop(&v, "ConfigError", "cross-account RAM role", A);

    let v = verdict(peering_path, |w| {
        let i = w.regional(A, HZ).rds_instances.get_mut(MYSQL).unwrap();
        i.status = Lifecycle::settled(DbStatus::Stopped);
    })
    .await;
    assert_hop(&v, "ConfigError", "instance status", "Stopped");

    let v = verdict(peering_path, |w| {
        w.regional(A, HZ).rds_instances.remove(MYSQL);
    })
    .await;
    assert_hop(&v, "ConfigError", "data source instance", MYSQL);

    let v = verdict(peering_path, |w| {
        w.regional(B, SH)
            .dataworks
            .resource_groups
            .get_mut(RG)
            .unwrap()
            .workspaces
            .clear();
    })
    .await;
    assert_hop(&v, "ConfigError", "resource group network", "61234");

    let v = verdict(peering_path, |w| {
        let n = w.regional(B, SH).dataworks.networks.get_mut(&1001).unwrap();
        n.status = Lifecycle::settled(NetworkStatus::Creating);
    })
    .await;
    assert_hop(&v, "ConfigError", "resource group network", RG);
}

#[tokio::test]
async fn cen_path_is_connectable_and_each_hop_can_break() {
    let ok = verdict(cen_path, |_| {}).await;
    assert_eq!(ok.0, "Connectable", "{}", ok.1);
    assert!(ok.1.contains("cen-simcen000000000001"));

    let v = verdict(cen_path, |w| {
        w.regional(B, SH).tr_peer_attachments.clear();
    })
    .await;
    assert_hop(&v, "Unreachable", "CEN transit router path", "inter-region");

    let v = verdict(cen_path, |w| {
        let a = w.regional(B, HZ).tr_vpc_attachments.get_mut(ATT_A).unwrap();
        a.status = Lifecycle::settled(AttachmentStatus::Attaching);
    })
    .await;
    assert_hop(&v, "Unreachable", "CEN transit router path", ATT_A);

    let v = verdict(cen_path, |w| {
        w.regional(B, HZ).tr_vpc_attachments.remove(ATT_A);
    })
    .await;
    assert_hop(&v, "Unreachable", "CEN transit router path", VPC_A);

    // A's VPC not propagated into the Hangzhou TR table: no route to 192.168.6.10 there.
    let v = verdict(cen_path, |w| {
        let t = w.regional(B, HZ).transit_routers.get_mut(TR_HZ).unwrap();
        t.route_tables[0]
            .propagations
            .retain(|p| p.attachment_id != ATT_A);
    })
    .await;
    assert_hop(&v, "Unreachable", "CEN transit router path", "vtb-trhz");

    // B's VPC not propagated into the Shanghai table: the way back is missing.
    let v = verdict(cen_path, |w| {
        let t = w.regional(B, SH).transit_routers.get_mut(TR_SH).unwrap();
        t.route_tables[0]
            .propagations
            .retain(|p| p.attachment_id != ATT_B);
    })
    .await;
    assert_hop(&v, "Unreachable", "return route", "vtb-trsh");

    let v = verdict(cen_path, |w| {
        table_entries(w, A, HZ, RTB_A).retain(|e| e.id != "rte-a1");
    })
    .await;
    assert_hop(&v, "Unreachable", "return route", VPC_A);

    let v = verdict(cen_path, |w| {
        table_entries(w, B, SH, RTB_B).retain(|e| e.id != "rte-b1");
    })
    .await;
    assert_hop(
        &v,
        "Unreachable",
        "route table of the resource group's VPC",
        "192.168.6.10",
    );
}

#[tokio::test]
async fn other_products_and_url_mode() {
    let sim = start(Timing::Immediate).await;
    sim.with_world(peering_path);
    let polar = data_source(
        &sim,
        "polar_orders",
        "polardb",
        "InstanceMode",
        r#"{"envType":"Prod","regionId":"cn-hangzhou","clusterId":"pc-bp1simpolardbsrc0001","dbType":"mysql","database":"d","username":"u","password":"p","crossAccountOwnerId":"1862710497302214","crossAccountRoleName":"dataworks-cross-account"}"#,
    )
    .await;
    let v = test_ds(&sim, &polar).await;
    assert_eq!(v.0, "Connectable", "{}", v.1);
    assert!(v.1.contains("192.168.6.20"));
    // MongoDB has no entry for the resource group yet.
    let mongo = data_source(
        &sim,
        "mongo_orders",
        "mongodb",
        "InstanceMode",
        r#"{"envType":"Prod","regionId":"cn-hangzhou","instanceId":"dds-bp1simmongosrc00001","database":"d","username":"u","password":"p","crossAccountOwnerId":"1862710497302214","crossAccountRoleName":"dataworks-cross-account"}"#,
    )
    .await;
    let v = test_ds(&sim, &mongo).await;
    assert_hop(
        &v,
        "Unreachable",
        "instance whitelist",
        "dds-bp1simmongosrc00001",
    );
    // UrlMode resolves the host to the instance; a wrong port is caught at the endpoint.
    let url = |port: u16| {
        format!(
            r#"{{"envType":"Prod","address":[{{"host":"rm-bp1simmysqlsource001.mysql.rds.aliyuncs.com","port":{port}}}],"database":"d","username":"u","password":"p","crossAccountOwnerId":"1862710497302214","crossAccountRoleName":"dataworks-cross-account"}}"#
        )
    };
    let good = data_source(&sim, "url_ok", "mysql", "UrlMode", &url(3306)).await;
    let v = test_ds(&sim, &good).await;
    assert_eq!(v.0, "Connectable", "{}", v.1);
    let bad = data_source(&sim, "url_bad_port", "mysql", "UrlMode", &url(3307)).await;
    assert_hop(
        &test_ds(&sim, &bad).await,
        "Unreachable",
        "instance endpoint",
        "3307",
    );
    // Errors of the call itself.
    let b = Client::new(&sim, "B");
    b.call(
        DW,
        "TestDataSourceConnectivity",
        &[
            ("DataSourceId", "42"),
            ("ProjectId", "61234"),
            ("ResourceGroupId", RG),
        ],
    )
    .await
    .err(404, "DataSource.NotFound");
    b.call(
        DW,
        "TestDataSourceConnectivity",
        &[
            ("DataSourceId", &good),
            ("ProjectId", "61234"),
            ("ResourceGroupId", "Serverless_nope"),
        ],
    )
    .await
    .err(404, "ResourceGroup.NotFound");
}

#[tokio::test]
async fn connectivity_reads_do_not_advance_polled_lifecycles() {
    let sim = start(Timing::Polls(1)).await;
    sim.with_world(|w| {
        peering_path(w);
        let pacer = w.pacer;
        let p = w.regional(B, SH).peerings.get_mut(PCC).unwrap();
        *p = VpcPeering {
            status: Lifecycle::start(
                PeeringStatus::Accepting,
                &[(PeeringStatus::Activated, std::time::Duration::from_secs(1))],
                &pacer,
                std::time::Instant::now(),
            ),
            ..p.clone()
        };
    });
    let id = data_source(&sim, "mysql_orders", "mysql", "InstanceMode", MYSQL_PROPS).await;
    for _ in 0..3 {
        assert_hop(
            &test_ds(&sim, &id).await,
            "Unreachable",
            "VPC peering connection",
            "Accepting",
        );
    }
}
