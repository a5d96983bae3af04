//! CEN across two accounts and two regions: grants, VPC attachments with VpcOwnerId and zone
//! mappings, a peer attachment, association, propagation, computed routes and VPC routes
//! with an `Attachment` next hop.

mod common;
use common::*;
use dwlink_sim::Timing;
use serde_json::Value;
use std::collections::BTreeSet;

const CBN: &str = "2017-09-12";
const VPC: &str = "2016-04-28";
const VPC_A: &str = "vpc-bp1simhzvpc000000001";
const VPC_B: &str = "vpc-uf6simshvpc000000001";
const RTB_A: &str = "vtb-bp1simhzrtb000000001";
const UID_A: &str = "1862710497302214";
const UID_B: &str = "1539826603711058";
const HZ: &str = "cn-hangzhou";
const SH: &str = "cn-shanghai";
const DW: &str = "2024-05-18";
const RG: &str = "Serverless_res_group_524257424564736_6831777003001";
const MYSQL_PROPS: &str = r#"{"envType":"Prod","regionId":"cn-hangzhou","instanceId":"rm-bp1simmysqlsource001","database":"orders","username":"reader","password":"pw-123456","crossAccountOwnerId":"1862710497302214","crossAccountRoleName":"dataworks-cross-account"}"#;

fn s(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("{k} missing in {v}"))
        .to_string()
}

#[tokio::test]
async fn cross_account_cen_link() {
    let sim = start(Timing::Polls(1)).await;
    let a = Client::new(&sim, "A");
    let b = Client::new(&sim, "B");
    let cen = s(
        &b.call(
            CBN,
            "CreateCen",
            &[("Name", "dwlink"), ("ClientToken", "cen-1")],
        )
        .await
        .ok(),
        "CenId",
    );
    assert_eq!(
        s(
            &b.call(
                CBN,
                "CreateCen",
                &[("Name", "dwlink"), ("ClientToken", "cen-1")]
            )
            .await
            .ok(),
            "CenId"
        ),
        cen
    );
    // CEN Creating -> Active after one read.
    b.call(
        CBN,
        "CreateTransitRouter",
        &[("CenId", &cen), ("RegionId", SH)],
    )
    .await
    .err(400, "InvalidOperation.CenInstanceStatus");
    let cens = b
        .call(
            CBN,
            "DescribeCens",
            &[("Filter.1.Key", "CenId"), ("Filter.1.Value.1", &cen)],
        )
        .await
        .ok();
    assert_eq!(cens["Cens"]["Cen"][0]["Status"], "Creating");
    let cens = b.call(CBN, "DescribeCens", &[]).await.ok();
    assert_eq!(cens["Cens"]["Cen"][0]["Status"], "Active");
    let tr_sh = s(
        &b.call(
            CBN,
            "CreateTransitRouter",
            &[("CenId", &cen), ("RegionId", SH)],
        )
        .await
        .ok(),
        "TransitRouterId",
    );
    let tr_hz = s(
        &b.call(
            CBN,
            "CreateTransitRouter",
            &[("CenId", &cen), ("RegionId", HZ)],
        )
        .await
        .ok(),
        "TransitRouterId",
    );
    b.call(
        CBN,
        "CreateTransitRouter",
        &[("CenId", &cen), ("RegionId", HZ)],
    )
    .await
    .err(400, "InstanceExist.TransitRouter");
    for _ in 0..2 {
        b.call(CBN, "ListTransitRouters", &[("CenId", &cen)])
            .await
            .ok();
    }
    let trs = b
        .call(
            CBN,
            "ListTransitRouters",
            &[("CenId", &cen), ("RegionId", HZ)],
        )
        .await
        .ok();
    assert_eq!(trs["TransitRouters"][0]["Status"], "Active");
    assert_eq!(trs["TransitRouters"][0]["AliUid"], 1539826603711058u64);

    // A needs a second vSwitch in another zone.
    let vsw_i = s(
        &a.call(
            VPC,
            "CreateVSwitch",
            &[
                ("RegionId", HZ),
                ("VpcId", VPC_A),
                ("ZoneId", "cn-hangzhou-i"),
                ("CidrBlock", "192.168.7.0/24"),
            ],
        )
        .await
        .ok(),
        "VSwitchId",
    );
    a.call(
        VPC,
        "DescribeVSwitchAttributes",
        &[("RegionId", HZ), ("VSwitchId", &vsw_i)],
    )
    .await
    .ok();
    let attach_a = |zone2: &'static str| {
        vec![
            ("RegionId", HZ.to_string()),
            ("TransitRouterId", tr_hz.clone()),
            ("VpcId", VPC_A.to_string()),
            ("VpcOwnerId", UID_A.to_string()),
            (
                "ZoneMappings.1.VSwitchId",
                "vsw-bp1simhzvsw00000000h".to_string(),
            ),
            ("ZoneMappings.1.ZoneId", "cn-hangzhou-h".to_string()),
            ("ZoneMappings.2.VSwitchId", vsw_i.clone()),
            ("ZoneMappings.2.ZoneId", zone2.to_string()),
        ]
    };
    let call = |c: &Client, action: &'static str, p: Vec<(&'static str, String)>| {
        let c = c.clone();
        async move {
            let refs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
            c.call(CBN, action, &refs).await
        }
    };
    // Without a grant from A: refused.
    call(
        &b,
        "CreateTransitRouterVpcAttachment",
        attach_a("cn-hangzhou-i"),
    )
    .await
    .err(403, "Forbidden.InstanceNotGranted");
    // A grants its VPC to B's CEN; a second grant is refused.
    let grant = [
        ("CenId", cen.as_str()),
        ("CenOwnerId", UID_B),
        ("InstanceId", VPC_A),
        ("InstanceType", "VPC"),
        ("RegionId", HZ),
    ];
    a.call(CBN, "GrantInstanceToTransitRouter", &grant)
        .await
        .ok();
    a.call(VPC, "GrantInstanceToCen", &grant)
        .await
        .err(400, "Forbidden.GrantRuleExist");
    let rules = a
        .call(
            VPC,
            "DescribeGrantRulesToCen",
            &[
                ("RegionId", HZ),
                ("InstanceId", VPC_A),
                ("InstanceType", "VPC"),
            ],
        )
        .await
        .ok();
    assert_eq!(
        rules["CenGrantRules"]["CbnGrantRule"][0]["CenInstanceId"],
        cen.as_str()
    );
    assert_eq!(
        rules["CenGrantRules"]["CbnGrantRule"][0]["CenOwnerId"],
        1539826603711058u64
    );
    let granted = b
        .call(
            CBN,
            "ListGrantVSwitchesToCen",
            &[("CenId", &cen), ("RegionId", HZ), ("VpcId", VPC_A)],
        )
        .await
        .ok();
    assert_eq!(granted["TotalCount"], 2);
    // A vSwitch in the wrong zone, a vSwitch of another VPC.
    call(
        &b,
        "CreateTransitRouterVpcAttachment",
        attach_a("cn-hangzhou-j"),
    )
    .await
    .err(400, "IllegalParam.ZoneId");
    let mut other = attach_a("cn-hangzhou-i");
    other[6].1 = "vsw-uf6simshvsw00000000e".into();
    call(&b, "CreateTransitRouterVpcAttachment", other)
        .await
        .err(400, "InvalidVSwitchId.NotFound");
    let att_a = s(
        &call(
            &b,
            "CreateTransitRouterVpcAttachment",
            attach_a("cn-hangzhou-i"),
        )
        .await
        .ok(),
        "TransitRouterAttachmentId",
    );
    assert!(att_a.starts_with("tr-attach-"));
    call(
        &b,
        "CreateTransitRouterVpcAttachment",
        attach_a("cn-hangzhou-i"),
    )
    .await
    .err(400, "InstanceExist.Attachment");
    let att_b = s(
        &b.call(
            CBN,
            "CreateTransitRouterVpcAttachment",
            &[
                ("RegionId", SH),
                ("TransitRouterId", &tr_sh),
                ("VpcId", VPC_B),
                ("ZoneMappings.1.VSwitchId", "vsw-uf6simshvsw00000000e"),
                ("ZoneMappings.1.ZoneId", "cn-shanghai-e"),
            ],
        )
        .await
        .ok(),
        "TransitRouterAttachmentId",
    );
    // Attaching -> Attached; a route via the attachment is refused until then.
    let route = [
        ("RegionId", HZ),
        ("RouteTableId", RTB_A),
        ("DestinationCidrBlock", "172.16.66.0/24"),
        ("NextHopType", "Attachment"),
        ("NextHopId", att_a.as_str()),
    ];
    a.call(VPC, "CreateRouteEntry", &route)
        .await
        .err(400, "IncorrectStatus.Attachment");
    let list = b
        .call(
            CBN,
            "ListTransitRouterVpcAttachments",
            &[("TransitRouterAttachmentId", &att_a)],
        )
        .await
        .ok();
    let first = &list["TransitRouterAttachments"][0];
    assert_eq!(first["Status"], "Attaching");
    assert_eq!(first["VpcOwnerId"], 1862710497302214u64);
    assert_eq!(first["ZoneMappings"][1]["ZoneId"], "cn-hangzhou-i");
    let list = b
        .call(CBN, "ListTransitRouterVpcAttachments", &[("CenId", &cen)])
        .await
        .ok();
    assert!(
        list["TransitRouterAttachments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["Status"] == "Attached"),
        "{list}"
    );
    // The VPC owner routes into its attachment.
    a.call(VPC, "CreateRouteEntry", &route).await.ok();
    // Inter-region peer attachment.
    let peer = s(
        &b.call(
            CBN,
            "CreateTransitRouterPeerAttachment",
            &[
                ("RegionId", SH),
                ("TransitRouterId", &tr_sh),
                ("PeerTransitRouterId", &tr_hz),
                ("PeerTransitRouterRegionId", HZ),
                ("BandwidthType", "DataTransfer"),
                ("Bandwidth", "10"),
            ],
        )
        .await
        .ok(),
        "TransitRouterAttachmentId",
    );
    let peers = b
        .call(
            CBN,
            "ListTransitRouterPeerAttachments",
            &[("TransitRouterId", &tr_hz)],
        )
        .await
        .ok();
    assert_eq!(
        peers["TransitRouterAttachments"][0]["PeerTransitRouterId"],
        tr_sh.as_str()
    );
    assert_eq!(peers["TransitRouterAttachments"][0]["Status"], "Attaching");
    b.call(CBN, "ListTransitRouterPeerAttachments", &[("CenId", &cen)])
        .await
        .ok();
    // Route tables: one System table per TR.
    let table = |tr: String| {
        let b = b.clone();
        async move {
            let t = b
                .call(
                    CBN,
                    "ListTransitRouterRouteTables",
                    &[("TransitRouterId", &tr)],
                )
                .await
                .ok();
            assert_eq!(
                t["TransitRouterRouteTables"][0]["TransitRouterRouteTableType"],
                "System"
            );
            s(
                &t["TransitRouterRouteTables"][0],
                "TransitRouterRouteTableId",
            )
        }
    };
    let rt_sh = table(tr_sh.clone()).await;
    let rt_hz = table(tr_hz.clone()).await;
    // An attachment of the other TR cannot be associated with this table.
    b.call(
        CBN,
        "AssociateTransitRouterAttachmentWithRouteTable",
        &[
            ("TransitRouterAttachmentId", &att_a),
            ("TransitRouterRouteTableId", &rt_sh),
        ],
    )
    .await
    .err(400, "IllegalParam.TransitRouterRouteTableId");
    for (att, rt) in [
        (&att_a, &rt_hz),
        (&peer, &rt_hz),
        (&att_b, &rt_sh),
        (&peer, &rt_sh),
    ] {
        let p = [
            ("TransitRouterAttachmentId", att.as_str()),
            ("TransitRouterRouteTableId", rt.as_str()),
        ];
        b.call(CBN, "AssociateTransitRouterAttachmentWithRouteTable", &p)
            .await
            .ok();
        b.call(CBN, "EnableTransitRouterRouteTablePropagation", &p)
            .await
            .ok();
    }
    b.call(
        CBN,
        "EnableTransitRouterRouteTablePropagation",
        &[
            ("TransitRouterAttachmentId", &att_b),
            ("TransitRouterRouteTableId", &rt_sh),
        ],
    )
    .await
    .err(400, "InstanceExist.Propagation");
    // Enabling -> Active after a read; then routes are computed.
    let props = b
        .call(
            CBN,
            "ListTransitRouterRouteTablePropagations",
            &[("TransitRouterRouteTableId", &rt_sh)],
        )
        .await
        .ok();
    assert_eq!(props["TransitRouterPropagations"][0]["Status"], "Enabling");
    b.call(
        CBN,
        "ListTransitRouterRouteTablePropagations",
        &[("TransitRouterRouteTableId", &rt_hz)],
    )
    .await
    .ok();
    let assoc = b
        .call(
            CBN,
            "ListTransitRouterRouteTableAssociations",
            &[("TransitRouterRouteTableId", &rt_sh)],
        )
        .await
        .ok();
    assert_eq!(assoc["TotalCount"], 2);
    let entries = b
        .call(
            CBN,
            "ListTransitRouterRouteEntries",
            &[("TransitRouterRouteTableId", &rt_sh)],
        )
        .await
        .ok();
    let dests: Vec<(String, String)> = entries["TransitRouterRouteEntries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                s(e, "TransitRouterRouteEntryDestinationCidrBlock"),
                s(e, "TransitRouterRouteEntryNextHopId"),
            )
        })
        .collect();
    assert!(
        dests.contains(&("172.16.66.0/24".into(), att_b.clone())),
        "{dests:?}"
    );
    assert!(
        dests.contains(&("192.168.6.0/24".into(), peer.clone())),
        "{dests:?}"
    );
    assert!(
        dests.contains(&("192.168.7.0/24".into(), peer.clone())),
        "{dests:?}"
    );
    // Beside the CEN, a peering request and DataWorks' side of a link, so that the admin state
    // holds one resource of every type.
    b.call_with(
        "2022-01-01",
        "CreateVpcPeerConnection",
        &[
            ("RegionId", SH),
            ("VpcId", VPC_B),
            ("AcceptingAliUid", UID_A),
            ("AcceptingRegionId", HZ),
            ("AcceptingVpcId", VPC_A),
        ],
        &Opts {
            form: true,
            ..Default::default()
        },
    )
    .await
    .ok();
    b.call(
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
    b.call(
        DW,
        "CreateDataSource",
        &[
            ("ProjectId", "61234"),
            ("Name", "mysql_orders"),
            ("Type", "mysql"),
            ("ConnectionPropertiesMode", "InstanceMode"),
            ("ConnectionProperties", MYSQL_PROPS),
        ],
    )
    .await
    .ok();
    // The admin state shows it all: every resource type, and no other.
    let st = sim.state();
    let types: BTreeSet<&str> = st.resources.iter().map(|r| r.kind.as_str()).collect();
    let expected: BTreeSet<&str> = [
        // The types issue 4 names...
        "vpc",
        "vswitch",
        "route-table",
        "route-entry",
        "vpc-peer-connection",
        "cen",
        "transit-router",
        "transit-router-vpc-attachment",
        "transit-router-peer-attachment",
        "cen-grant",
        "rds-instance",
        "polardb-cluster",
        "mongodb-instance",
        "whitelist-group",
        "dataworks-resource-group",
        "dataworks-network",
        "dataworks-route",
        "dataworks-data-source",
        "ram-role",
        // ...and the two the simulator adds.
        "transit-router-route-table",
        "dataworks-workspace",
    ]
    .into_iter()
    .collect();
    assert_eq!(types, expected);
    let route = st.of_type("dataworks-route").next().unwrap();
    assert_eq!(route.account, "B");
    assert_eq!(route.attributes["destination_cidr"], "192.168.6.0/24");
    let ds = st.of_type("dataworks-data-source").next().unwrap();
    assert_eq!(ds.attributes["name"], "mysql_orders");
    // Connection properties hold a password: it never shows.
    assert!(!serde_json::to_string(&st).unwrap().contains("pw-123456"));
    assert_eq!(st.of_type("transit-router-vpc-attachment").count(), 2);
    assert_eq!(
        st.find("transit-router-peer-attachment", &peer)
            .unwrap()
            .status,
        "Attached"
    );
    assert_eq!(st.of_type("cen-grant").next().unwrap().account, "A");
    // Revoking a grant while attached is refused; deleting the attachment with a route needs Force.
    a.call(CBN, "RevokeInstanceFromTransitRouter", &grant)
        .await
        .err(400, "IncorrectStatus");
    b.call(
        CBN,
        "DeleteTransitRouterVpcAttachment",
        &[("TransitRouterAttachmentId", &att_a)],
    )
    .await
    .err(400, "IncorrectStatus.VpcRouteEntry");
    b.call(
        CBN,
        "DeleteTransitRouterVpcAttachment",
        &[("TransitRouterAttachmentId", &att_a), ("Force", "true")],
    )
    .await
    .ok();
}
