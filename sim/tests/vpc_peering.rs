//! VPC, vSwitch, route entries and VPC peering over HTTP: lifecycles, ClientTokens, validation
//! and cross-account isolation.

mod common;
use common::*;
use dwlink_sim::state::durations;
use dwlink_sim::{SimConfig, Tamper, Timing};
use std::time::{Duration, Instant};

const VPC: &str = "2016-04-28";
const PEER: &str = "2022-01-01";
const STS: &str = "2015-04-01";
const VPC_A: &str = "vpc-bp1simhzvpc000000001";
const VPC_B: &str = "vpc-uf6simshvpc000000001";
const RTB_A: &str = "vtb-bp1simhzrtb000000001";
const RTB_B: &str = "vtb-uf6simshrtb000000001";
const UID_A: &str = "1862710497302214";
const HZ: &str = "cn-hangzhou";
const SH: &str = "cn-shanghai";
const FORM: Opts = Opts {
    form: true,
    date: None,
    nonce: None,
    tamper_signature: false,
    get: false,
    unsigned_header: None,
};

#[tokio::test]
async fn describe_calls_use_the_documented_shapes() {
    let sim = start(Timing::Immediate).await;
    let a = Client::new(&sim, "A");
    let vpcs = a.call(VPC, "DescribeVpcs", &[("RegionId", HZ)]).await.ok();
    assert_eq!(vpcs["TotalCount"], 1);
    let v = &vpcs["Vpcs"]["Vpc"][0];
    assert_eq!(v["VpcName"], "Account_A_hangzhou_VPC");
    assert_eq!(v["CidrBlock"], "192.168.0.0/16");
    assert_eq!(v["OwnerId"], 1862710497302214u64);
    assert_eq!(v["VSwitchIds"]["VSwitchId"][0], "vsw-bp1simhzvsw00000000h");
    let attr = a
        .call(
            VPC,
            "DescribeVpcAttribute",
            &[("RegionId", HZ), ("VpcId", VPC_A)],
        )
        .await
        .ok();
    assert_eq!(attr["VRouterId"], "vrt-bp1simhzvrt000000001");
    let vsw = a
        .call(VPC, "DescribeVSwitches", &[("VpcId", VPC_A)])
        .await
        .ok();
    assert_eq!(vsw["VSwitches"]["VSwitch"][0]["ZoneId"], "cn-hangzhou-h");
    assert_eq!(
        vsw["VSwitches"]["VSwitch"][0]["RouteTable"]["RouteTableId"],
        RTB_A
    );
    let one = a
        .call(
            VPC,
            "DescribeVSwitchAttributes",
            &[("RegionId", HZ), ("VSwitchId", "vsw-bp1simhzvsw00000000h")],
        )
        .await
        .ok();
    assert_eq!(one["CidrBlock"], "192.168.6.0/24");
    let tables = a
        .call(
            VPC,
            "DescribeRouteTableList",
            &[("RegionId", HZ), ("VpcId", VPC_A)],
        )
        .await
        .ok();
    assert_eq!(
        tables["RouterTableList"]["RouterTableListType"][0]["RouteTableId"],
        RTB_A
    );
    assert_eq!(
        tables["RouterTableList"]["RouterTableListType"][0]["RouteTableType"],
        "System"
    );
    let entries = a
        .call(
            VPC,
            "DescribeRouteEntryList",
            &[("RegionId", HZ), ("RouteTableId", RTB_A)],
        )
        .await
        .ok();
    assert_eq!(
        entries["RouteEntrys"]["RouteEntry"][0]["DestinationCidrBlock"],
        "192.168.6.0/24"
    );
    assert_eq!(entries["RouteEntrys"]["RouteEntry"][0]["Type"], "System");
    // V1 signing reaches the same handlers.
    let v1 = a
        .call_v1(VPC, "DescribeVpcs", &[("RegionId", HZ)], None)
        .await
        .ok();
    assert_eq!(v1["TotalCount"], 1);
}

#[tokio::test]
async fn an_access_key_acts_only_in_its_own_account_and_the_role_acts_in_a() {
    let sim = start(Timing::Immediate).await;
    let b = Client::new(&sim, "B");
    // B cannot see or change A's VPC.
    b.call(
        VPC,
        "DescribeVpcAttribute",
        &[("RegionId", HZ), ("VpcId", VPC_A)],
    )
    .await
    .err(404, "InvalidVpcId.NotFound");
    let none = b.call(VPC, "DescribeVpcs", &[("RegionId", HZ)]).await.ok();
    assert_eq!(none["TotalCount"], 0);
    b.call(
        VPC,
        "CreateVSwitch",
        &[
            ("RegionId", HZ),
            ("VpcId", VPC_A),
            ("ZoneId", "cn-hangzhou-i"),
            ("CidrBlock", "192.168.8.0/24"),
        ],
    )
    .await
    .err(404, "InvalidVpcId.NotFound");
    b.call(
        VPC,
        "DescribeRouteEntryList",
        &[("RegionId", HZ), ("RouteTableId", RTB_A)],
    )
    .await
    .err(404, "InvalidRouteTableId.NotFound");
    // The role B assumes in A can.
    let creds = b
        .call(
            STS,
            "AssumeRole",
            &[
                (
                    "RoleArn",
                    "acs:ram::1862710497302214:role/dataworks-cross-account",
                ),
                ("RoleSessionName", "tester"),
            ],
        )
        .await
        .ok();
    let c = &creds["Credentials"];
    let role = b.with_credentials(
        c["AccessKeyId"].as_str().unwrap(),
        c["AccessKeySecret"].as_str().unwrap(),
        c["SecurityToken"].as_str(),
    );
    let attr = role
        .call(
            VPC,
            "DescribeVpcAttribute",
            &[("RegionId", HZ), ("VpcId", VPC_A)],
        )
        .await
        .ok();
    assert_eq!(attr["OwnerId"], 1862710497302214u64);
    let log = sim.requests();
    assert!(log.iter().any(|r| r.account == "A"
        && r.assumed_role
        && r.action == "DescribeVpcAttribute"
        && r.outcome == "OK"));
}

#[tokio::test]
async fn create_vswitch_validates_and_is_idempotent() {
    let sim = start(Timing::Polls(1)).await;
    let a = Client::new(&sim, "A");
    let base = [
        ("RegionId", HZ),
        ("VpcId", VPC_A),
        ("ZoneId", "cn-hangzhou-i"),
        ("CidrBlock", "192.168.8.0/24"),
        ("ClientToken", "tok-1"),
    ];
    let id = a.call(VPC, "CreateVSwitch", &base).await.ok()["VSwitchId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(id.starts_with("vsw-bp1"));
    // Same token + same params -> same vSwitch, nothing new.
    let again = a.call(VPC, "CreateVSwitch", &base).await.ok();
    assert_eq!(again["VSwitchId"], id.as_str());
    // Same token + other params -> mismatch.
    let mut other = base;
    other[3] = ("CidrBlock", "192.168.9.0/24");
    a.call(VPC, "CreateVSwitch", &other)
        .await
        .err(400, "IdempotentParameterMismatch");
    // Pending, then Available after one read (polls:1).
    let q = [("RegionId", HZ), ("VSwitchId", id.as_str())];
    assert_eq!(
        a.call(VPC, "DescribeVSwitchAttributes", &q).await.ok()["Status"],
        "Pending"
    );
    assert_eq!(
        a.call(VPC, "DescribeVSwitchAttributes", &q).await.ok()["Status"],
        "Available"
    );
    let bad = |zone: &'static str, cidr: &'static str| {
        [
            ("RegionId", HZ),
            ("VpcId", VPC_A),
            ("ZoneId", zone),
            ("CidrBlock", cidr),
        ]
    };
    a.call(
        VPC,
        "CreateVSwitch",
        &bad("cn-hangzhou-z", "192.168.10.0/24"),
    )
    .await
    .err(400, "InvalidZoneId.NotFound");
    a.call(VPC, "CreateVSwitch", &bad("cn-hangzhou-i", "10.0.0.0/24"))
        .await
        .err(400, "InvalidCidrBlock.Mismatch");
    a.call(
        VPC,
        "CreateVSwitch",
        &bad("cn-hangzhou-i", "192.168.6.128/25"),
    )
    .await
    .err(400, "InvalidCidrBlock.Overlapped");
    a.call(
        VPC,
        "CreateVSwitch",
        &bad("cn-hangzhou-i", "192.168.10.1/24"),
    )
    .await
    .err(400, "InvalidCidrBlock.Malformed");
    a.call(
        VPC,
        "CreateVSwitch",
        &[
            ("RegionId", HZ),
            ("VpcId", VPC_A),
            ("ZoneId", "cn-hangzhou-i"),
        ],
    )
    .await
    .err(400, "MissingParameter");
    assert_eq!(sim.state().of_type("vswitch").count(), 4);
    a.call(
        VPC,
        "DeleteVSwitch",
        &[("RegionId", HZ), ("VSwitchId", &id)],
    )
    .await
    .ok();
    a.call(
        VPC,
        "DeleteVSwitch",
        &[("RegionId", HZ), ("VSwitchId", "vsw-bp1simhzvsw00000000h")],
    )
    .await
    .err(400, "DependencyViolation");
}

/// Peers A's and B's VPCs: B requests, A accepts. Returns the peering id.
async fn peer(_a: &Client, b: &Client) -> String {
    let id = b
        .call_with(
            PEER,
            "CreateVpcPeerConnection",
            &[
                ("RegionId", SH),
                ("VpcId", VPC_B),
                ("AcceptingAliUid", UID_A),
                ("AcceptingRegionId", HZ),
                ("AcceptingVpcId", VPC_A),
                ("ClientToken", "peer-1"),
            ],
            &FORM,
        )
        .await
        .ok()["InstanceId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(id.starts_with("pcc-"));
    id
}

async fn peer_status(c: &Client, id: &str) -> String {
    c.call_with(
        PEER,
        "GetVpcPeerConnectionAttribute",
        &[("InstanceId", id)],
        &FORM,
    )
    .await
    .ok()["Status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn peering_lifecycle_across_accounts() {
    let sim = start(Timing::Polls(1)).await;
    let a = Client::new(&sim, "A");
    let b = Client::new(&sim, "B");
    let id = peer(&a, &b).await;
    // ClientToken replay returns the same connection.
    assert_eq!(peer(&a, &b).await, id);
    assert_eq!(peer_status(&b, &id).await, "Creating");
    assert_eq!(peer_status(&b, &id).await, "Accepting");
    // Only the accepter (A) may accept.
    b.call_with(
        PEER,
        "AcceptVpcPeerConnection",
        &[("InstanceId", &id)],
        &FORM,
    )
    .await
    .err(400, "Forbidden.NoPermission");
    a.call_with(
        PEER,
        "AcceptVpcPeerConnection",
        &[("InstanceId", &id)],
        &FORM,
    )
    .await
    .ok();
    assert_eq!(peer_status(&a, &id).await, "Updating");
    let got = a
        .call_with(
            PEER,
            "GetVpcPeerConnectionAttribute",
            &[("InstanceId", &id)],
            &FORM,
        )
        .await
        .ok();
    assert_eq!(got["Status"], "Activated");
    assert_eq!(got["AcceptingOwnerUid"], 1862710497302214u64);
    assert_eq!(got["OwnerId"], 1539826603711058u64);
    assert_eq!(got["Vpc"]["Ipv4Cidrs"][0], "172.16.0.0/16");
    assert_eq!(got["AcceptingVpc"]["VpcId"], VPC_A);
    assert_eq!(got["Bandwidth"], 1024);
    // Both sides list it.
    let listed = a
        .call_with(PEER, "ListVpcPeerConnections", &[("RegionId", HZ)], &FORM)
        .await
        .ok();
    assert_eq!(listed["TotalCount"], 1);
    assert_eq!(listed["VpcPeerConnects"][0]["InstanceId"], id.as_str());
    // An account that is neither side cannot see it: B's key in A's view is fine, a third is not modelled;
    // a missing id is ResourceNotFound.
    a.call_with(
        PEER,
        "GetVpcPeerConnectionAttribute",
        &[("InstanceId", "pcc-nope")],
        &FORM,
    )
    .await
    .err(400, "ResourceNotFound.InstanceId");
    assert_eq!(
        sim.state().find("vpc-peer-connection", &id).unwrap().status,
        "Activated"
    );
    assert_eq!(
        sim.state()
            .find("vpc-peer-connection", &id)
            .unwrap()
            .account,
        "B"
    );
}

#[tokio::test]
async fn reject_and_delete() {
    let sim = start(Timing::Immediate).await;
    let a = Client::new(&sim, "A");
    let b = Client::new(&sim, "B");
    let id = peer(&a, &b).await;
    a.call_with(
        PEER,
        "RejectVpcPeerConnection",
        &[("InstanceId", &id)],
        &FORM,
    )
    .await
    .ok();
    assert_eq!(peer_status(&b, &id).await, "Rejected");
    a.call_with(
        PEER,
        "AcceptVpcPeerConnection",
        &[("InstanceId", &id)],
        &FORM,
    )
    .await
    .err(400, "IncorrectStatus.VpcPeer");
    b.call_with(
        PEER,
        "DeleteVpcPeerConnection",
        &[("InstanceId", &id)],
        &FORM,
    )
    .await
    .ok();
    b.call_with(
        PEER,
        "GetVpcPeerConnectionAttribute",
        &[("InstanceId", &id)],
        &FORM,
    )
    .await
    .err(400, "ResourceNotFound.InstanceId");
}

#[tokio::test]
async fn route_entries_validate_next_hops_and_settle() {
    let sim = start(Timing::Polls(1)).await;
    let a = Client::new(&sim, "A");
    let b = Client::new(&sim, "B");
    let id = peer(&a, &b).await;
    let route = |dest: &'static str, hop: String| {
        vec![
            ("RegionId", SH.to_string()),
            ("RouteTableId", RTB_B.to_string()),
            ("DestinationCidrBlock", dest.to_string()),
            ("NextHopType", "VpcPeer".to_string()),
            ("NextHopId", hop),
        ]
    };
    let call = |c: &Client, p: Vec<(&'static str, String)>| {
        let c = c.clone();
        async move {
            let refs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
            c.call(VPC, "CreateRouteEntry", &refs).await
        }
    };
    // Not Activated yet (Creating).
    call(&b, route("192.168.0.0/16", id.clone()))
        .await
        .err(400, "IncorrectStatus.VpcPeer");
    peer_status(&b, &id).await;
    peer_status(&b, &id).await;
    a.call_with(
        PEER,
        "AcceptVpcPeerConnection",
        &[("InstanceId", &id)],
        &FORM,
    )
    .await
    .ok();
    peer_status(&a, &id).await;
    assert_eq!(peer_status(&a, &id).await, "Activated");
    // Unknown peering, a peering of another VPC, unsupported hop types, malformed / local destinations.
    call(&b, route("192.168.0.0/16", "pcc-nope".into()))
        .await
        .err(400, "InvalidNextHopId.NotFound");
    call(&b, route("192.168.0.1/16", id.clone()))
        .await
        .err(400, "InvalidCidrBlock.Malformed");
    call(&b, route("172.16.66.0/25", id.clone()))
        .await
        .err(400, "InvalidDestinationCidrBlock.Overlapped");
    call(&b, route("100.64.1.0/24", id.clone()))
        .await
        .err(400, "InvalidDestinationCidrBlock.Forbidden");
    let mut instance = route("192.168.0.0/16", "i-1".into());
    instance[3].1 = "Instance".into();
    call(&b, instance)
        .await
        .err(400, "InvalidNextHopType.NotSupport");
    // A cannot add a route to B's table.
    let mut foreign = route("192.168.0.0/16", id.clone());
    foreign[0].1 = HZ.into();
    call(&a, foreign)
        .await
        .err(404, "InvalidRouteTableId.NotFound");
    let rte = call(&b, route("192.168.0.0/16", id.clone())).await.ok()["RouteEntryId"]
        .as_str()
        .unwrap()
        .to_string();
    // A second change while the first is Pending conflicts; a duplicate destination is refused.
    call(&b, route("10.1.0.0/16", id.clone()))
        .await
        .err(400, "TaskConflict");
    let list = [
        ("RegionId", SH),
        ("RouteTableId", RTB_B),
        ("RouteEntryId", rte.as_str()),
    ];
    let e = b.call(VPC, "DescribeRouteEntryList", &list).await.ok();
    assert_eq!(e["RouteEntrys"]["RouteEntry"][0]["Status"], "Pending");
    assert_eq!(
        e["RouteEntrys"]["RouteEntry"][0]["NextHops"]["NextHop"][0]["NextHopType"],
        "VpcPeer"
    );
    assert_eq!(
        e["RouteEntrys"]["RouteEntry"][0]["NextHops"]["NextHop"][0]["NextHopId"],
        id.as_str()
    );
    let e = b.call(VPC, "DescribeRouteEntryList", &list).await.ok();
    assert_eq!(e["RouteEntrys"]["RouteEntry"][0]["Status"], "Available");
    call(&b, route("192.168.0.0/16", id.clone()))
        .await
        .err(400, "RouterEntryConflict.Duplicated");
    // Deleting the peering with a route pointing at it needs Force.
    b.call_with(
        PEER,
        "DeleteVpcPeerConnection",
        &[("InstanceId", &id)],
        &FORM,
    )
    .await
    .err(400, "OperationDenied.RouteEntryExist");
    // Tamper: delete the route behind the client's back.
    sim.tamper(&Tamper::Delete {
        kind: "route-entry".into(),
        id: rte.clone(),
    })
    .unwrap();
    let e = b.call(VPC, "DescribeRouteEntryList", &list).await.ok();
    assert_eq!(e["TotalCount"], 0);
    b.call(
        VPC,
        "DeleteRouteEntry",
        &[("RegionId", SH), ("RouteEntryId", &rte)],
    )
    .await
    .err(404, "InvalidRouteEntry.NotFound");
}

#[tokio::test]
async fn delete_route_entry_by_destination() {
    let sim = start(Timing::Immediate).await;
    let a = Client::new(&sim, "A");
    let b = Client::new(&sim, "B");
    let id = peer(&a, &b).await;
    a.call_with(
        PEER,
        "AcceptVpcPeerConnection",
        &[("InstanceId", &id)],
        &FORM,
    )
    .await
    .ok();
    a.call(
        VPC,
        "CreateRouteEntry",
        &[
            ("RegionId", HZ),
            ("RouteTableId", RTB_A),
            ("DestinationCidrBlock", "172.16.66.0/24"),
            ("NextHopType", "VpcPeer"),
            ("NextHopId", &id),
        ],
    )
    .await
    .ok();
    assert!(
        sim.state()
            .of_type("route-entry")
            .any(|r| r.attributes["destination_cidr"] == "172.16.66.0/24"
                && r.attributes["type"] == "Custom")
    );
    let d = a
        .call(
            VPC,
            "DeleteRouteEntry",
            &[
                ("RegionId", HZ),
                ("RouteTableId", RTB_A),
                ("DestinationCidrBlock", "172.16.66.0/24"),
            ],
        )
        .await
        .ok();
    assert!(d["RequestId"].is_string());
    assert!(
        !sim.state()
            .of_type("route-entry")
            .any(|r| r.attributes["destination_cidr"] == "172.16.66.0/24"
                && r.attributes["type"] == "Custom")
    );
}

#[tokio::test]
async fn delay_timing_holds_intermediate_states_then_settles() {
    // Nominal durations × 0.2: 400 ms to Accepting, 600 ms to Activated, 400 ms to Available.
    const SCALE: f64 = 0.2;
    let scaled = |d: Duration| d.mul_f64(SCALE);
    let sim = start_config(SimConfig {
        timing: Timing::Delay,
        time_scale: SCALE,
        ..SimConfig::default()
    })
    .await;
    let a = Client::new(&sim, "A");
    let b = Client::new(&sim, "B");
    // Each check below is sound whatever the machine's speed: a status read back sooner than
    // the scaled step after the call started must be the intermediate one, and the final one
    // cannot be seen sooner than that.
    let t0 = Instant::now();
    let id = peer(&a, &b).await;
    let s = peer_status(&b, &id).await;
    assert!(
        s == "Creating" || t0.elapsed() >= scaled(durations::PEERING_CREATE),
        "{s} right after the create"
    );
    let seen = wait_for_status("Accepting", || peer_status(&b, &id)).await;
    assert!(seen - t0 >= scaled(durations::PEERING_CREATE));

    let t1 = Instant::now();
    a.call_with(
        PEER,
        "AcceptVpcPeerConnection",
        &[("InstanceId", &id)],
        &FORM,
    )
    .await
    .ok();
    let s = peer_status(&a, &id).await;
    assert!(
        s == "Updating" || t1.elapsed() >= scaled(durations::PEERING_ACCEPT),
        "{s} right after the accept"
    );
    let seen = wait_for_status("Activated", || peer_status(&a, &id)).await;
    assert!(seen - t1 >= scaled(durations::PEERING_ACCEPT));

    let t2 = Instant::now();
    let rte = b
        .call(
            VPC,
            "CreateRouteEntry",
            &[
                ("RegionId", SH),
                ("RouteTableId", RTB_B),
                ("DestinationCidrBlock", "192.168.0.0/16"),
                ("NextHopType", "VpcPeer"),
                ("NextHopId", &id),
            ],
        )
        .await
        .ok()["RouteEntryId"]
        .as_str()
        .unwrap()
        .to_string();
    let route_status = || {
        let (b, rte) = (b.clone(), rte.clone());
        async move {
            b.call(
                VPC,
                "DescribeRouteEntryList",
                &[
                    ("RegionId", SH),
                    ("RouteTableId", RTB_B),
                    ("RouteEntryId", &rte),
                ],
            )
            .await
            .ok()["RouteEntrys"]["RouteEntry"][0]["Status"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let s = route_status().await;
    assert!(
        s == "Pending" || t2.elapsed() >= scaled(durations::ROUTE_ENTRY),
        "{s} right after the create"
    );
    let seen = wait_for_status("Available", route_status).await;
    assert!(seen - t2 >= scaled(durations::ROUTE_ENTRY));
    let st = sim.state();
    assert_eq!(
        st.find("vpc-peer-connection", &id).unwrap().status,
        "Activated"
    );
    assert_eq!(st.find("route-entry", &rte).unwrap().status, "Available");
}
