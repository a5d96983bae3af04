//! Breaking the world behind the client's back (`admin::Tamper`) on a CEN of account B, and
//! what a deleted (Detached) transit router attachment answers afterwards.

mod common;
use common::*;
use dwlink_sim::{SimHandle, Tamper, Timing};
use serde_json::Value;

const CBN: &str = "2017-09-12";
const VPC: &str = "2016-04-28";
const DW: &str = "2024-05-18";
const VPC_B: &str = "vpc-uf6simshvpc000000001";
const VSW_F: &str = "vsw-uf6simshvsw00000000f";
const HZ: &str = "cn-hangzhou";
const SH: &str = "cn-shanghai";

fn s(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("{k} missing in {v}"))
        .to_string()
}

/// B's CEN: transit routers in Shanghai and Hangzhou, B's VPC attached (vSwitch f) to the
/// Shanghai one, a peer attachment between them; both attachments associated with and
/// propagating into both routers' tables where they can.
struct Cen {
    cen: String,
    tr_sh: String,
    tr_hz: String,
    att: String,
    peer: String,
    rt_sh: String,
    rt_hz: String,
}

async fn cen_of_b(b: &Client) -> Cen {
    let cen = s(&b.call(CBN, "CreateCen", &[]).await.ok(), "CenId");
    let tr = |region: &'static str| {
        let (b, cen) = (b.clone(), cen.clone());
        async move {
            s(
                &b.call(
                    CBN,
                    "CreateTransitRouter",
                    &[("CenId", cen.as_str()), ("RegionId", region)],
                )
                .await
                .ok(),
                "TransitRouterId",
            )
        }
    };
    let tr_sh = tr(SH).await;
    let tr_hz = tr(HZ).await;
    let att = s(
        &b.call(
            CBN,
            "CreateTransitRouterVpcAttachment",
            &[
                ("RegionId", SH),
                ("TransitRouterId", &tr_sh),
                ("VpcId", VPC_B),
                ("ZoneMappings.1.VSwitchId", VSW_F),
                ("ZoneMappings.1.ZoneId", "cn-shanghai-f"),
            ],
        )
        .await
        .ok(),
        "TransitRouterAttachmentId",
    );
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
            s(
                &t["TransitRouterRouteTables"][0],
                "TransitRouterRouteTableId",
            )
        }
    };
    let rt_sh = table(tr_sh.clone()).await;
    let rt_hz = table(tr_hz.clone()).await;
    for (a, rt) in [(&att, &rt_sh), (&peer, &rt_sh), (&peer, &rt_hz)] {
        let p = [
            ("TransitRouterAttachmentId", a.as_str()),
            ("TransitRouterRouteTableId", rt.as_str()),
        ];
        b.call(CBN, "AssociateTransitRouterAttachmentWithRouteTable", &p)
            .await
            .ok();
        b.call(CBN, "EnableTransitRouterRouteTablePropagation", &p)
            .await
            .ok();
    }
    Cen {
        cen,
        tr_sh,
        tr_hz,
        att,
        peer,
        rt_sh,
        rt_hz,
    }
}

fn set_status(sim: &SimHandle, kind: &str, id: &str, status: &str) -> Result<(), String> {
    sim.tamper(&Tamper::SetStatus {
        kind: kind.into(),
        id: id.into(),
        status: status.into(),
    })
}

fn delete(sim: &SimHandle, kind: &str, id: &str) -> Result<(), String> {
    sim.tamper(&Tamper::Delete {
        kind: kind.into(),
        id: id.into(),
    })
}

fn status_of(sim: &SimHandle, kind: &str, id: &str) -> Option<String> {
    sim.state().find(kind, id).map(|r| r.status.clone())
}

#[tokio::test]
async fn a_deleted_attachment_is_busy_while_detaching_and_not_found_once_detached() {
    let sim = start(Timing::Immediate).await;
    let b = Client::new(&sim, "B");
    let c = cen_of_b(&b).await;
    for (kind, id, delete_action) in [
        (
            "transit-router-vpc-attachment",
            &c.att,
            "DeleteTransitRouterVpcAttachment",
        ),
        (
            "transit-router-peer-attachment",
            &c.peer,
            "DeleteTransitRouterPeerAttachment",
        ),
    ] {
        let id = id.as_str();
        // Someone else's delete is under way: Detaching, held.
        set_status(&sim, kind, id, "Detaching").unwrap();
        for _ in 0..3 {
            b.call(CBN, delete_action, &[("TransitRouterAttachmentId", id)])
                .await
                .err(400, "IncorrectStatus.Attachment");
        }
        set_status(&sim, kind, id, "Attached").unwrap();
        b.call(CBN, delete_action, &[("TransitRouterAttachmentId", id)])
            .await
            .ok();
        // Immediate timing: Detached at once. The record stays (the admin state shows it),
        // but for the API the id is gone.
        assert_eq!(status_of(&sim, kind, id).as_deref(), Some("Detached"));
        b.call(CBN, delete_action, &[("TransitRouterAttachmentId", id)])
            .await
            .err(400, "InvalidTransitRouterAttachmentId.NotFound");
        b.call(
            CBN,
            "AssociateTransitRouterAttachmentWithRouteTable",
            &[
                ("TransitRouterAttachmentId", id),
                ("TransitRouterRouteTableId", c.rt_sh.as_str()),
            ],
        )
        .await
        .err(400, "InvalidTransitRouterAttachmentId.NotFound");
    }
    // A route cannot use a Detached attachment: it is not found.
    b.call(
        VPC,
        "CreateRouteEntry",
        &[
            ("RegionId", SH),
            ("RouteTableId", "vtb-uf6simshrtb000000001"),
            ("DestinationCidrBlock", "10.9.0.0/16"),
            ("NextHopType", "Attachment"),
            ("NextHopId", c.att.as_str()),
        ],
    )
    .await
    .err(400, "InvalidNextHopId.NotFound");
    // Gone attachments do not hold the transit router, nor the vSwitch.
    b.call(CBN, "DeleteTransitRouter", &[("TransitRouterId", &c.tr_hz)])
        .await
        .ok();
    delete(&sim, "vswitch", VSW_F).unwrap();
    // The VPC can be attached again.
    b.call(
        CBN,
        "CreateTransitRouterVpcAttachment",
        &[
            ("RegionId", SH),
            ("TransitRouterId", &c.tr_sh),
            ("VpcId", VPC_B),
            ("ZoneMappings.1.VSwitchId", "vsw-uf6simshvsw00000000e"),
            ("ZoneMappings.1.ZoneId", "cn-shanghai-e"),
        ],
    )
    .await
    .ok();
}

#[tokio::test]
async fn set_status_holds_transitional_statuses() {
    let sim = start(Timing::Immediate).await;
    let b = Client::new(&sim, "B");
    let c = cen_of_b(&b).await;

    set_status(&sim, "cen", &c.cen, "Creating").unwrap();
    for _ in 0..2 {
        let cens = b.call(CBN, "DescribeCens", &[]).await.ok();
        assert_eq!(cens["Cens"]["Cen"][0]["Status"], "Creating");
    }
    b.call(
        CBN,
        "CreateTransitRouter",
        &[("CenId", c.cen.as_str()), ("RegionId", SH)],
    )
    .await
    .err(400, "InvalidOperation.CenInstanceStatus");
    set_status(&sim, "cen", &c.cen, "Deleting").unwrap();
    assert_eq!(status_of(&sim, "cen", &c.cen).as_deref(), Some("Deleting"));

    set_status(&sim, "transit-router", &c.tr_hz, "Creating").unwrap();
    for _ in 0..2 {
        let trs = b
            .call(CBN, "ListTransitRouters", &[("TransitRouterId", &c.tr_hz)])
            .await
            .ok();
        assert_eq!(trs["TransitRouters"][0]["Status"], "Creating");
    }
    b.call(CBN, "DeleteTransitRouter", &[("TransitRouterId", &c.tr_hz)])
        .await
        .err(400, "IncorrectStatus.TransitRouter");

    for status in ["Attaching", "Detaching"] {
        set_status(&sim, "transit-router-vpc-attachment", &c.att, status).unwrap();
        for _ in 0..2 {
            let l = b
                .call(
                    CBN,
                    "ListTransitRouterVpcAttachments",
                    &[("TransitRouterAttachmentId", &c.att)],
                )
                .await
                .ok();
            assert_eq!(l["TransitRouterAttachments"][0]["Status"], status);
        }
        set_status(&sim, "transit-router-peer-attachment", &c.peer, status).unwrap();
        let l = b
            .call(
                CBN,
                "ListTransitRouterPeerAttachments",
                &[("TransitRouterAttachmentId", &c.peer)],
            )
            .await
            .ok();
        assert_eq!(l["TransitRouterAttachments"][0]["Status"], status);
    }
    set_status(&sim, "transit-router-vpc-attachment", &c.att, "Detached").unwrap();
    let l = b
        .call(
            CBN,
            "ListTransitRouterVpcAttachments",
            &[("TransitRouterAttachmentId", &c.att)],
        )
        .await
        .ok();
    assert_eq!(l["TotalCount"], 0, "{l}");

    set_status(&sim, "vswitch", VSW_F, "Pending").unwrap();
    for _ in 0..2 {
        let v = b
            .call(
                VPC,
                "DescribeVSwitches",
                &[("RegionId", SH), ("VSwitchId", VSW_F)],
            )
            .await
            .ok();
        assert_eq!(v["VSwitches"]["VSwitch"][0]["Status"], "Pending", "{v}");
    }
    set_status(&sim, "transit-router-route-table", &c.rt_sh, "Creating").unwrap();
    assert_eq!(
        status_of(&sim, "transit-router-route-table", &c.rt_sh).as_deref(),
        Some("Creating")
    );

    let e = set_status(&sim, "vswitch", VSW_F, "Gone").unwrap_err();
    assert!(e.contains("Pending, Available"), "{e}");
    let e = set_status(&sim, "cen-grant", "x", "Granted").unwrap_err();
    assert!(e.contains("it supports cen, transit-router"), "{e}");
    let e = set_status(&sim, "transit-router", "tr-nope", "Active").unwrap_err();
    assert!(e.contains("no transit-router"), "{e}");
}

#[tokio::test]
async fn delete_removes_cens_routers_vswitches_and_data_sources_consistently() {
    let sim = start(Timing::Immediate).await;
    let b = Client::new(&sim, "B");
    let c = cen_of_b(&b).await;

    // A vSwitch in use by an attachment cannot go (as with DeleteVSwitch).
    let e = delete(&sim, "vswitch", VSW_F).unwrap_err();
    assert!(e.contains(&c.att), "{e}");

    // The Hangzhou router goes with its table and the peer attachment, which leaves the
    // Shanghai router's tables.
    delete(&sim, "transit-router", &c.tr_hz).unwrap();
    let st = sim.state();
    assert!(st.find("transit-router", &c.tr_hz).is_none());
    assert!(st.find("transit-router-route-table", &c.rt_hz).is_none());
    assert!(st.find("transit-router-peer-attachment", &c.peer).is_none());
    assert!(st.find("transit-router-vpc-attachment", &c.att).is_some());
    assert!(st.find("cen", &c.cen).is_some());
    let rt_sh = st.find("transit-router-route-table", &c.rt_sh).unwrap();
    let linked: Vec<&str> = rt_sh.attributes["associations"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rt_sh.attributes["propagations"].as_array().unwrap())
        .map(|a| a["attachment_id"].as_str().unwrap())
        .collect();
    assert_eq!(linked, [c.att.as_str(), c.att.as_str()]);
    b.call(
        CBN,
        "DeleteTransitRouterPeerAttachment",
        &[("TransitRouterAttachmentId", &c.peer)],
    )
    .await
    .err(400, "InvalidTransitRouterAttachmentId.NotFound");

    // The CEN goes with everything in it.
    delete(&sim, "cen", &c.cen).unwrap();
    let st = sim.state();
    for kind in [
        "cen",
        "transit-router",
        "transit-router-route-table",
        "transit-router-vpc-attachment",
        "transit-router-peer-attachment",
    ] {
        assert_eq!(st.of_type(kind).count(), 0, "{kind} left");
    }
    let cens = b.call(CBN, "DescribeCens", &[]).await.ok();
    assert_eq!(cens["TotalCount"], 0);
    assert!(delete(&sim, "cen", &c.cen).unwrap_err().contains("no cen"));

    // Now the vSwitch is free: it goes with its system route.
    let has_route = |sim: &SimHandle| {
        sim.state()
            .of_type("route-entry")
            .any(|r| r.attributes["destination_cidr"] == "172.16.67.0/24")
    };
    assert!(has_route(&sim));
    delete(&sim, "vswitch", VSW_F).unwrap();
    assert!(sim.state().find("vswitch", VSW_F).is_none());
    assert!(!has_route(&sim));

    // A DataWorks data source (numeric id).
    let created = b
        .call(
            DW,
            "CreateDataSource",
            &[
                ("ProjectId", "61234"),
                ("Name", "mysql_orders"),
                ("Type", "mysql"),
                ("ConnectionPropertiesMode", "UrlMode"),
                (
                    "ConnectionProperties",
                    r#"{"envType":"Prod","address":[{"host":"192.168.6.10","port":3306}],"database":"orders","username":"reader","password":"pw"}"#,
                ),
            ],
        )
        .await
        .ok();
    let ds = sim
        .state()
        .of_type("dataworks-data-source")
        .next()
        .unwrap()
        .id
        .clone();
    assert!(created.to_string().contains(&ds), "{created}");
    assert!(delete(&sim, "dataworks-data-source", "x").is_err());
    delete(&sim, "dataworks-data-source", &ds).unwrap();
    assert_eq!(sim.state().of_type("dataworks-data-source").count(), 0);

    let e = delete(&sim, "ram-role", "dataworks-cross-account").unwrap_err();
    assert!(e.contains("it supports cen"), "{e}");
}
