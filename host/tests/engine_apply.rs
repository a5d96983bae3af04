//! The engine end to end against the in-memory fake cloud (`engine_fake`): both network modes
//! connect, a second run writes nothing, destroy leaves nothing of dwlink's and every
//! pre-existing whitelist entry, a lost response is resumed without a duplicate.

mod engine_fake;

use dwlink_host::engine::plan::{self, Mode, Op};
use dwlink_host::engine::{Engine, Options, Status};
use dwlink_host::spec::LinkSpec;
use engine_fake::*;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct World {
    state: Arc<Mutex<State>>,
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        World {
            state: Arc::new(Mutex::new(State::seed())),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn engine(&self, link: &str) -> Engine {
        self.engine_with(link, Some("s3cret-pw".into()))
    }

    fn engine_with(&self, link: &str, password: Option<String>) -> Engine {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/links")
            .join(link);
        let spec = LinkSpec::load(&path).unwrap();
        let a = Arc::new(FakeCaller {
            uid: UID_A.into(),
            state: self.state.clone(),
        });
        let b = Arc::new(FakeCaller {
            uid: UID_B.into(),
            state: self.state.clone(),
        });
        let ds = Arc::new(FakePlugin::new(self.state.clone()));
        Engine::new(a, b, ds, spec, Some(self.dir.path().to_path_buf())).with_options(Options {
            poll_interval: Duration::ZERO,
            max_polls: 20,
            password,
            progress: false,
        })
    }

    fn count(&self, kind: &str) -> usize {
        self.state.lock().unwrap().of(kind).len()
    }

    fn whitelist(&self) -> Vec<(String, Vec<String>)> {
        let st = self.state.lock().unwrap();
        st.whitelist
            .iter()
            .map(|g| (g.name.clone(), g.entries.clone()))
            .collect()
    }
}

fn seed_whitelist_intact(w: &World) {
    let wl = w.whitelist();
    assert!(
        wl.contains(&("default".into(), vec!["10.20.0.0/16".into()])),
        "{wl:?}"
    );
    assert!(
        wl.contains(&(
            "app".into(),
            vec!["192.168.6.0/24".into(), "192.168.7.15".into()]
        )),
        "{wl:?}"
    );
}

#[tokio::test]
async fn peering_link_connects_reruns_idle_and_destroys_cleanly() {
    let w = World::new();
    let report = w.engine("seed-peering.toml").run().await;
    assert_eq!(report.status, Status::Connected, "{}", report.to_text());
    assert_eq!(report.mode.as_deref(), Some("peering"));
    assert_eq!(report.exit_code(), 0);
    eprintln!("peering first run: {:?}", report.calls);
    let steps: Vec<_> = report.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        steps,
        [
            "peering.create",
            "peering.accept",
            "route.source",
            "route.dataworks",
            "dataworks.route",
            "whitelist.add",
            "dataworks.data_source"
        ]
    );
    assert_eq!(w.count("peering"), 1);
    assert_eq!(w.count("route-entry"), 2);
    assert_eq!(w.count("dw-route"), 1);
    assert_eq!(w.count("data-source"), 1);
    {
        let st = w.state.lock().unwrap();
        assert_eq!(st.of("peering")[0].status, "Activated");
        let props = &st.of("data-source")[0].attrs["props"];
        assert!(
            props.contains("\"crossAccountOwnerId\":\"1862710497302214\""),
            "{props}"
        );
        assert!(props.contains("\"password\":\"s3cret-pw\""));
    }
    assert!(
        w.whitelist()
            .contains(&("dataworks".into(), vec!["172.16.66.0/24".into()]))
    );
    seed_whitelist_intact(&w);
    // The password is in no report and no journal.
    assert!(!report.to_json().contains("s3cret-pw"));
    for f in std::fs::read_dir(w.dir.path()).unwrap() {
        assert!(
            !std::fs::read_to_string(f.unwrap().path())
                .unwrap()
                .contains("s3cret-pw")
        );
    }

    // An immediate second run: nothing planned, zero writes, still connected.
    let before = w.state.lock().unwrap().writes();
    let again = w.engine("seed-peering.toml").run().await;
    assert_eq!(again.status, Status::Connected, "{}", again.to_text());
    eprintln!("peering second run: {:?}", again.calls);
    assert!(again.steps.is_empty(), "{}", again.to_text());
    assert_eq!(again.calls.write, 0);
    assert_eq!(w.state.lock().unwrap().writes(), before);

    // Destroy: none of dwlink's resources, every pre-existing whitelist entry.
    let d = w.engine("seed-peering.toml").destroy().await;
    assert_eq!(d.status, Status::Destroyed, "{}", d.to_text());
    for kind in ["peering", "route-entry", "dw-route", "data-source"] {
        assert_eq!(w.count(kind), 0, "{kind} left behind");
    }
    assert!(!w.whitelist().iter().any(|(g, _)| g == "dataworks"));
    seed_whitelist_intact(&w);
    // A second destroy has nothing left to do.
    let d2 = w.engine("seed-peering.toml").destroy().await;
    assert_eq!(d2.status, Status::Destroyed);
    assert!(d2.steps.is_empty());
}

#[tokio::test]
async fn cen_link_creates_a_second_vswitch_connects_and_destroys_cleanly() {
    let w = World::new();
    let report = w.engine("seed-cen.toml").run().await;
    assert_eq!(report.status, Status::Connected, "{}", report.to_text());
    assert_eq!(report.mode.as_deref(), Some("cen"));
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("192.168.7.0/24") && n.contains("cn-hangzhou-i")),
        "{:?}",
        report.notes
    );
    assert_eq!(w.count("cen"), 1);
    assert_eq!(w.count("transit-router"), 2);
    assert_eq!(w.count("vpc-attachment"), 2);
    assert_eq!(w.count("peer-attachment"), 1);
    assert_eq!(w.count("grant"), 1);
    assert_eq!(w.count("vswitch"), 4);
    {
        let st = w.state.lock().unwrap();
        let hops: Vec<_> = st
            .of("route-entry")
            .iter()
            .map(|e| e.attrs["hop_type"].clone())
            .collect();
        assert_eq!(hops, ["Attachment", "Attachment"]);
        // A's VPC was attached cross-account, with its owner named.
        assert!(
            st.of("vpc-attachment")
                .iter()
                .any(|a| a.attrs["owner"] == UID_A)
        );
    }

    eprintln!("cen first run: {:?}", report.calls);
    let again = w.engine("seed-cen.toml").run().await;
    eprintln!("cen second run: {:?}", again.calls);
    assert_eq!(again.status, Status::Connected, "{}", again.to_text());
    assert_eq!(again.calls.write, 0, "{}", again.to_text());

    let d = w.engine("seed-cen.toml").destroy().await;
    assert_eq!(d.status, Status::Destroyed, "{}", d.to_text());
    for kind in [
        "cen",
        "transit-router",
        "vpc-attachment",
        "peer-attachment",
        "grant",
        "assoc",
        "prop",
        "route-entry",
        "dw-route",
        "data-source",
    ] {
        assert_eq!(w.count(kind), 0, "{kind} left behind");
    }
    assert_eq!(
        w.count("vswitch"),
        3,
        "the created vSwitch is removed, the others stay"
    );
    seed_whitelist_intact(&w);
}

#[tokio::test]
async fn a_lost_response_is_resumed_without_a_duplicate_and_destroyed_without_an_orphan() {
    for lost in [
        "CreateVpcPeerConnection",
        "CreateRouteEntry",
        "CreateRoute",
        "CreateDataSource",
    ] {
        let w = World::new();
        w.state.lock().unwrap().lose_response_of = Some(lost.into());
        let first = w.engine("seed-peering.toml").run().await;
        assert_eq!(first.status, Status::Failed, "{lost}");
        assert_eq!(first.exit_code(), 1);
        let second = w.engine("seed-peering.toml").run().await;
        assert_eq!(
            second.status,
            Status::Connected,
            "{lost}: {}",
            second.to_text()
        );
        assert_eq!(w.count("peering"), 1, "{lost}");
        assert_eq!(w.count("route-entry"), 2, "{lost}");
        assert_eq!(w.count("dw-route"), 1, "{lost}");
        assert_eq!(w.count("data-source"), 1, "{lost}");
        let d = w.engine("seed-peering.toml").destroy().await;
        assert_eq!(d.status, Status::Destroyed, "{lost}: {}", d.to_text());
        for kind in ["peering", "route-entry", "dw-route", "data-source"] {
            assert_eq!(w.count(kind), 0, "{lost}: {kind} orphaned");
        }
    }
}

#[tokio::test]
async fn a_failed_call_stops_the_run_and_the_next_run_finishes() {
    let w = World::new();
    w.state.lock().unwrap().fail = Some("AcceptVpcPeerConnection".into());
    let first = w.engine("seed-peering.toml").run().await;
    assert_eq!(first.status, Status::Failed);
    let failed = first.steps.iter().find(|s| s.status == "failed").unwrap();
    assert_eq!(failed.name, "peering.accept");
    assert!(failed.error.as_ref().unwrap().contains(UID_B), "{failed:?}");
    let second = w.engine("seed-peering.toml").run().await;
    assert_eq!(second.status, Status::Connected, "{}", second.to_text());
    assert_eq!(second.steps[0].name, "peering.accept");
    assert_eq!(w.count("peering"), 1);
}

#[tokio::test]
async fn a_missing_password_fails_before_any_write() {
    let w = World::new();
    let e = w.engine_with("seed-peering.toml", None);
    // DWLINK_DB_PASSWORD is not set in the test environment.
    if std::env::var_os("DWLINK_DB_PASSWORD").is_some() {
        return;
    }
    let report = e.run().await;
    assert_eq!(report.status, Status::Failed);
    assert!(
        report
            .error
            .as_ref()
            .unwrap()
            .contains("DWLINK_DB_PASSWORD"),
        "{:?}",
        report.error
    );
    assert_eq!(
        report.exit_code(),
        2,
        "an unset password variable is bad input"
    );
    assert_eq!(w.state.lock().unwrap().writes(), 0);
}

#[tokio::test]
async fn the_plan_is_pure_deterministic_and_empty_when_finished() {
    let w = World::new();
    let e = w.engine("seed-peering.toml");
    let (facts, p1) = e.plan().await.unwrap();
    let (_, p2) = e.plan().await.unwrap();
    assert_eq!(p1, p2);
    assert_eq!(w.state.lock().unwrap().writes(), 0, "plan writes nothing");
    // Same input, same output, without the cloud.
    let again = plan::plan(e.spec(), &facts, "mysql");
    assert_eq!(again, p1);
    for a in &p1.actions {
        if let Some(t) = &a.client_token {
            assert_eq!(t.len(), 64);
            assert_eq!(*t, plan::client_token(&p1.link_id, &a.step));
        }
    }
    // Tokens differ per step and per link.
    let t: std::collections::BTreeSet<_> = p1
        .actions
        .iter()
        .filter_map(|a| a.client_token.clone())
        .collect();
    assert_eq!(
        t.len(),
        p1.actions
            .iter()
            .filter(|a| a.client_token.is_some())
            .count()
    );
    let polar = w.engine("polardb-peering.toml");
    assert_ne!(polar.link_id(), e.link_id());
    // Each action names its account, region and call.
    let create = &p1.actions[0];
    assert_eq!(create.account, UID_A);
    assert_eq!(create.region, "cn-hangzhou");
    assert_eq!(create.api(), "VpcPeer:CreateVpcPeerConnection");
    let Op::Cloud { call, .. } = &create.op else {
        panic!()
    };
    assert!(
        call.params
            .contains(&("AcceptingAliUid".into(), UID_B.into()))
    );
    let route = p1
        .actions
        .iter()
        .find(|a| a.step == "route.source")
        .unwrap();
    assert!(
        route.summary().contains("NextHopId=${peering.create}"),
        "{}",
        route.summary()
    );

    assert_eq!(e.run().await.status, Status::Connected);
    let (_, done) = e.plan().await.unwrap();
    assert!(done.actions.is_empty(), "{:?}", done.actions);
}

#[tokio::test]
async fn auto_mode_picks_peering_alone_and_cen_when_one_joins_a_vpc() {
    let w = World::new();
    let e = w.engine("seed-peering.toml");
    let (mut facts, _) = e.plan().await.unwrap();
    let mut spec = e.spec().clone();
    spec.network.mode = dwlink_host::spec::NetworkMode::Auto;
    let p = plan::plan(&spec, &facts, "mysql");
    assert_eq!(p.mode, Mode::Peering);
    assert!(
        p.mode_reason.contains("point-to-point"),
        "{}",
        p.mode_reason
    );

    // Give B's VPC an existing CEN: auto joins it and says why.
    let cen = w.engine("seed-cen.toml");
    assert_eq!(cen.run().await.status, Status::Connected);
    let (cen_facts, _) = cen.plan().await.unwrap();
    facts.cen = cen_facts.cen.clone();
    facts.cen.as_mut().unwrap().found_by = "already joins account B's VPC".into();
    let p = plan::plan(&spec, &facts, "mysql");
    assert_eq!(p.mode, Mode::Cen);
    assert!(
        p.mode_reason.contains(&facts.cen.as_ref().unwrap().cen.id),
        "{}",
        p.mode_reason
    );
    assert!(
        !p.actions.iter().any(|a| a.step == "cen.create"),
        "a joined CEN is reused"
    );
}

#[tokio::test]
async fn cen_without_a_configured_vswitch_picks_a_free_block_in_another_zone() {
    let w = World::new();
    let e = w.engine("seed-cen.toml");
    let (facts, _) = e.plan().await.unwrap();
    let mut spec = e.spec().clone();
    spec.network.new_vswitch_zone = None;
    spec.network.new_vswitch_cidr = None;
    let p = plan::plan(&spec, &facts, "mysql");
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let vsw = p
        .actions
        .iter()
        .find(|a| a.step == "vswitch.source")
        .expect("a second vSwitch in A");
    let Op::Cloud { call, .. } = &vsw.op else {
        panic!()
    };
    assert!(
        call.params
            .contains(&("ZoneId".into(), "cn-hangzhou-i".into())),
        "{:?}",
        call.params
    );
    assert!(
        call.params
            .contains(&("CidrBlock".into(), "192.168.0.0/24".into())),
        "{:?}",
        call.params
    );
    assert!(
        p.notes.iter().any(|n| n.contains("192.168.0.0/24")),
        "{:?}",
        p.notes
    );
    // B already has two zones: no vSwitch there.
    assert!(!p.actions.iter().any(|a| a.step == "vswitch.dataworks"));

    // A configured block that overlaps an existing vSwitch is a preflight problem, not a call.
    spec.network.new_vswitch_cidr = Some("192.168.6.0/25".parse().unwrap());
    let p = plan::plan(&spec, &facts, "mysql");
    assert!(
        p.problems.iter().any(|x| x.message.contains("overlaps")),
        "{:?}",
        p.problems
    );
}

#[tokio::test]
async fn overlapping_cidrs_stop_the_run_before_any_write() {
    let w = World::new();
    {
        let mut st = w.state.lock().unwrap();
        for r in st
            .res
            .iter_mut()
            .filter(|r| r.id == "vsw-uf6simshvsw00000000e")
        {
            r.attrs.insert("cidr".into(), "192.168.6.0/24".into());
        }
    }
    let report = w.engine("seed-peering.toml").run().await;
    assert_eq!(report.status, Status::Failed);
    assert!(
        report.error.as_ref().unwrap().contains("overlaps"),
        "{:?}",
        report.error
    );
    assert_eq!(w.state.lock().unwrap().writes(), 0);
}

#[tokio::test]
async fn a_failed_wait_leaves_the_resource_for_destroy_and_for_the_next_run() {
    // The peering is created, then polling its state fails: the journal knows its id.
    let w = World::new();
    w.state.lock().unwrap().fail = Some("GetVpcPeerConnectionAttribute".into());
    let first = w.engine("seed-peering.toml").run().await;
    assert_eq!(first.status, Status::Failed);
    assert_eq!(w.count("peering"), 1);
    let d = w.engine("seed-peering.toml").destroy().await;
    assert_eq!(d.status, Status::Destroyed, "{}", d.to_text());
    assert_eq!(w.count("peering"), 0, "no orphan");

    // Same failure, then a run finishes the link and destroy still removes the peering.
    let w = World::new();
    w.state.lock().unwrap().fail = Some("GetVpcPeerConnectionAttribute".into());
    assert_eq!(
        w.engine("seed-peering.toml").run().await.status,
        Status::Failed
    );
    let second = w.engine("seed-peering.toml").run().await;
    assert_eq!(second.status, Status::Connected, "{}", second.to_text());
    assert_eq!(w.count("peering"), 1);
    let d = w.engine("seed-peering.toml").destroy().await;
    assert_eq!(d.status, Status::Destroyed, "{}", d.to_text());
    for kind in ["peering", "route-entry", "dw-route", "data-source"] {
        assert_eq!(w.count(kind), 0, "{kind} orphaned");
    }
}

#[tokio::test]
async fn switching_modes_needs_a_destroy_first_and_then_works() {
    let w = World::new();
    assert_eq!(
        w.engine("seed-peering.toml").run().await.status,
        Status::Connected
    );
    // Same instance and resource group: the same link, so the same journal.
    assert_eq!(
        w.engine("seed-peering.toml").link_id(),
        w.engine("seed-cen.toml").link_id()
    );
    let blocked = w.engine("seed-cen.toml").run().await;
    assert_eq!(blocked.status, Status::Failed);
    let err = blocked.error.unwrap();
    assert!(
        err.contains("VpcPeer") && err.contains("dwlink-host destroy"),
        "{err}"
    );
    let before = w.state.lock().unwrap().writes();
    assert_eq!(
        w.state.lock().unwrap().writes(),
        before,
        "refused before any write"
    );

    assert_eq!(
        w.engine("seed-peering.toml").destroy().await.status,
        Status::Destroyed
    );
    let cen = w.engine("seed-cen.toml").run().await;
    assert_eq!(cen.status, Status::Connected, "{}", cen.to_text());
    let d = w.engine("seed-cen.toml").destroy().await;
    assert_eq!(d.status, Status::Destroyed, "{}", d.to_text());
    assert_eq!(
        w.count("peering") + w.count("cen") + w.count("route-entry"),
        0
    );
    seed_whitelist_intact(&w);
}

#[tokio::test]
async fn build_destroy_build_uses_fresh_client_tokens() {
    let w = World::new();
    let e = w.engine("seed-peering.toml");
    let (_, first) = e.plan().await.unwrap();
    assert_eq!(e.run().await.status, Status::Connected);
    assert_eq!(e.destroy().await.status, Status::Destroyed);
    let (_, second) = e.plan().await.unwrap();
    assert_eq!(first.actions.len(), second.actions.len());
    for (a, b) in first.actions.iter().zip(&second.actions) {
        assert_eq!(a.step, b.step);
        if a.client_token.is_some() {
            assert_ne!(
                a.client_token, b.client_token,
                "{} reuses a token after destroy",
                a.step
            );
        }
    }
    let again = e.run().await;
    assert_eq!(again.status, Status::Connected, "{}", again.to_text());
    assert_eq!(w.count("peering"), 1);
}

/// The steps each step waits for, by name.
fn waits_for(p: &plan::Plan) -> std::collections::BTreeMap<String, Vec<String>> {
    plan::dependencies(&p.actions)
        .into_iter()
        .zip(&p.actions)
        .map(|(deps, a)| {
            (
                a.step.clone(),
                deps.iter().map(|&d| p.actions[d].step.clone()).collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn independent_steps_do_not_wait_for_each_other() {
    let w = World::new();
    let (_, p) = w.engine("seed-peering.toml").plan().await.unwrap();
    let deps = waits_for(&p);
    let none: Vec<String> = vec![];
    assert_eq!(deps["peering.create"], none);
    assert_eq!(deps["peering.accept"], ["peering.create"]);
    // A route to the peering waits for it to be created and accepted (Activated).
    assert_eq!(deps["route.source"], ["peering.create", "peering.accept"]);
    assert_eq!(
        deps["route.dataworks"],
        ["peering.create", "peering.accept"]
    );
    // DataWorks and the whitelist need nothing from the network.
    for step in ["dataworks.route", "whitelist.add", "dataworks.data_source"] {
        assert_eq!(deps[step], none, "{step}");
    }

    let (_, p) = w.engine("seed-cen.toml").plan().await.unwrap();
    let deps = waits_for(&p);
    assert_eq!(deps["cen.create"], none);
    assert_eq!(deps["vswitch.source"], none, "a vSwitch needs no CEN");
    assert_eq!(deps["cen.tr.dataworks"], ["cen.create"]);
    assert_eq!(deps["cen.tr.source"], ["cen.create"]);
    assert_eq!(deps["cen.grant"], ["cen.create"]);
    assert_eq!(
        deps["cen.attach.source"],
        ["cen.create", "cen.tr.source", "vswitch.source", "cen.grant"]
    );
    assert_eq!(
        deps["cen.peer"],
        ["cen.create", "cen.tr.dataworks", "cen.tr.source"]
    );
    assert_eq!(deps["cen.assoc.peer.source"], ["cen.tr.source", "cen.peer"]);
    assert_eq!(deps["route.dataworks"], ["cen.attach.dataworks"]);
    for step in ["dataworks.route", "whitelist.add", "dataworks.data_source"] {
        assert_eq!(deps[step], none, "{step}");
    }
    // Writes to one transit-router route table are serialised; the two regions' are not.
    let key = |s: &str| {
        p.actions
            .iter()
            .find(|a| a.step == s)
            .and_then(|a| a.serial_key())
    };
    assert_eq!(key("cen.assoc.source"), key("cen.prop.peer.source"));
    assert_ne!(key("cen.assoc.source"), key("cen.assoc.dataworks"));
    assert!(key("cen.assoc.source").is_some());
    assert_eq!(key("dataworks.data_source"), None);
}

#[tokio::test]
async fn steps_that_need_nothing_from_a_failing_step_still_run_and_are_undone() {
    // Polling the peering fails, so nothing that waits for it starts; the DataWorks route,
    // the whitelist entry and the data source wait for nothing and run alongside it.
    let w = World::new();
    w.state.lock().unwrap().fail = Some("GetVpcPeerConnectionAttribute".into());
    let first = w.engine("seed-peering.toml").run().await;
    assert_eq!(first.status, Status::Failed);
    let status = |step: &str| {
        first
            .steps
            .iter()
            .find(|s| s.name == step)
            .map(|s| s.status.clone())
    };
    assert_eq!(status("peering.create").as_deref(), Some("failed"));
    assert_eq!(status("peering.accept"), None, "never started");
    assert_eq!(status("route.source"), None, "never started");
    for step in ["dataworks.route", "whitelist.add", "dataworks.data_source"] {
        assert_eq!(status(step).as_deref(), Some("done"), "{}", first.to_text());
    }
    assert_eq!(w.count("dw-route"), 1);
    assert_eq!(w.count("route-entry"), 0);
    let d = w.engine("seed-peering.toml").destroy().await;
    assert_eq!(d.status, Status::Destroyed, "{}", d.to_text());
    for kind in ["peering", "route-entry", "dw-route", "data-source"] {
        assert_eq!(w.count(kind), 0, "{kind} orphaned");
    }
    seed_whitelist_intact(&w);
    assert!(
        !w.whitelist()
            .iter()
            .any(|(_, e)| e.contains(&"172.16.66.0/24".to_string())),
        "{:?}",
        w.whitelist()
    );
}

#[tokio::test]
async fn cen_attachments_use_only_zones_the_transit_router_supports() {
    let w = World::new();
    let e = w.engine("seed-cen.toml");
    let (mut facts, _) = e.plan().await.unwrap();
    let spec = e.spec().clone();
    // B has vSwitches in two zones, but its transit router supports only the resource group's
    // zone and one where B has none: dwlink adds a vSwitch there rather than use the other.
    let own = facts.dataworks.vswitch.clone();
    let unsupported: Vec<_> = facts
        .dataworks
        .vswitches
        .iter()
        .filter(|v| v.zone != own.zone)
        .map(|v| v.id.clone())
        .collect();
    assert!(!unsupported.is_empty(), "the seed gives B a second zone");
    facts.dataworks.tr_zones = vec![own.zone.clone(), "cn-shanghai-x".into()];
    let p = plan::plan(&spec, &facts, "mysql");
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let params = |step: &str| {
        let a = p.actions.iter().find(|a| a.step == step).expect(step);
        let Op::Cloud { call, .. } = &a.op else {
            panic!("{step} is not a call")
        };
        call.params.clone()
    };
    let vsw = params("vswitch.dataworks");
    assert!(
        vsw.contains(&("ZoneId".into(), "cn-shanghai-x".into())),
        "{vsw:?}"
    );
    let att = params("cen.attach.dataworks");
    assert!(
        att.contains(&("ZoneMappings.1.VSwitchId".into(), own.id.clone())),
        "{att:?}"
    );
    assert!(
        att.contains(&("ZoneMappings.2.ZoneId".into(), "cn-shanghai-x".into())),
        "{att:?}"
    );
    assert!(
        !att.iter().any(|(_, v)| unsupported.contains(v)),
        "a vSwitch in an unsupported zone is attached: {att:?}"
    );

    // A zone the transit router does not support, named in the link file: a problem, no call.
    facts.source.tr_zones = vec![facts.source.vswitch.zone.clone(), "cn-hangzhou-i".into()];
    let mut bad = spec.clone();
    bad.network.new_vswitch_zone = Some("cn-hangzhou-z".into());
    let p = plan::plan(&bad, &facts, "mysql");
    assert!(
        p.problems.iter().any(|x| x
            .message
            .contains("not a zone the transit router in cn-hangzhou supports")),
        "{:?}",
        p.problems
    );
}
