//! The way back and the way to repair (issue 19), case by case, as an operator meets them: the
//! real `dwlink-host` binary against the simulator, with resources changed behind dwlink's
//! back, held in a transitional state, or answered with a lost response. Every case is judged
//! by the simulator's state, never by what dwlink reports.

mod common;

use common::bench::{Bench, count, inventory, kept, link};
use common::plugin;
use dwlink_sim::{FaultRule, FaultSettings, Tamper, Timing};
use serde_json::Value;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn ids(bench: &Bench, kind: &str) -> Vec<String> {
    bench
        .state_view()
        .of_type(kind)
        .filter(|r| !common::bench::gone(&r.status))
        .map(|r| r.id.clone())
        .collect()
}

fn steps_with(report: &Value, status: &str) -> Vec<Value> {
    report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["status"] == status)
        .cloned()
        .collect()
}

fn notes(report: &Value) -> String {
    report["notes"].to_string()
}

fn journal_path(bench: &Bench) -> std::path::PathBuf {
    std::fs::read_dir(bench.state.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
        .expect("a journal")
}

/// No step of the journal is done without the id of what it created.
fn no_done_step_without_an_id(bench: &Bench) {
    let j: Value = serde_json::from_str(&std::fs::read_to_string(journal_path(bench)).unwrap())
        .expect("journal JSON");
    for e in j["entries"].as_array().unwrap() {
        let creates = e["action"]["op"] == "cloud" && !e["action"]["output"].is_null();
        if creates && e["state"] == "done" {
            assert!(
                e["resource_id"].is_string(),
                "step {} is done without a resource id: {e:#}",
                e["step"]
            );
        }
    }
}

async fn connected(bench: &Bench, link_name: &str) -> Value {
    let (code, report, stderr) = bench.json("run", "rds-mysql", link_name).await;
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["status"], "connected");
    report
}

async fn destroyed(bench: &Bench, link_name: &str) -> Value {
    let (code, report, stderr) = bench.json("destroy", "rds-mysql", link_name).await;
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["status"], "destroyed");
    report
}

/// An attachment held in Detaching (the cloud is slow to let go of it): destroy waits for it
/// within `--max-wait`, then reports it with its state while every deletion that does not
/// depend on it proceeds; once the cloud lets go, the next destroy finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cen_destroy_with_an_attachment_still_detaching_goes_as_far_as_it_can() {
    let bench = Bench::start(Timing::Immediate, 1.0).await;
    let before = inventory(&bench.state_view());
    connected(&bench, "seed-cen").await;
    let view = bench.state_view();
    let held = view
        .of_type("transit-router-vpc-attachment")
        .next()
        .map(|a| a.id.clone())
        .expect("an attachment");
    bench
        .sim
        .tamper(&Tamper::SetStatus {
            kind: "transit-router-vpc-attachment".into(),
            id: held.clone(),
            status: "Detaching".into(),
        })
        .unwrap();
    let (code, report, stderr) = bench
        .json_with("destroy", "rds-mysql", "seed-cen", &["--max-wait", "1s"])
        .await;
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    let error = report["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(&held) && error.contains("Detaching"),
        "{error}"
    );
    assert!(!error.contains("Throttling"), "{error}");
    let left: Vec<String> = steps_with(&report, "left")
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    // The held attachment, what it hangs off (its transit router, the CEN), and nothing else.
    assert!(
        left.iter().any(|s| s.starts_with("cen.attach.")),
        "{left:?}"
    );
    assert!(left.contains(&"cen.create".to_string()), "{left:?}");
    for gone in ["dataworks.data_source", "dataworks.route", "whitelist.add"] {
        assert!(
            steps_with(&report, "undone")
                .iter()
                .any(|s| s["name"] == gone),
            "{gone} was not undone: {report:#}"
        );
    }
    assert_eq!(count(&bench.state_view(), "dataworks-data-source"), 0);
    assert_eq!(
        ids(&bench, "transit-router-vpc-attachment"),
        vec![held.clone()]
    );

    // The cloud lets go of it.
    bench
        .sim
        .tamper(&Tamper::Delete {
            kind: "transit-router-vpc-attachment".into(),
            id: held,
        })
        .unwrap();
    destroyed(&bench, "seed-cen").await;
    let after = inventory(&bench.state_view());
    assert_eq!(after.resources, before.resources);
    kept(&before, &after);
    // A new generation: the link can be built again.
    connected(&bench, "seed-cen").await;
    destroyed(&bench, "seed-cen").await;
    bench.sim.shutdown().await;
}

/// Kill -9 a CEN destroy while an attachment is detaching (slowed lifecycles): the next
/// destroy finishes, and nothing is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destroy_killed_while_an_attachment_detaches_is_finished_by_the_next() {
    let bench = Bench::start(Timing::Delay, 0.2).await;
    let before = inventory(&bench.state_view());
    connected(&bench, "seed-cen").await;
    let plugin = plugin("rds-mysql");
    let link = link("seed-cen");
    let mut child = bench
        .command(&[
            "destroy",
            plugin.to_str().unwrap(),
            "--link",
            link.to_str().unwrap(),
            "--yes",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let deleting = bench
            .sim
            .requests()
            .iter()
            .any(|r| r.action == "DeleteTransitRouterVpcAttachment" && r.outcome == "OK");
        if deleting {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "destroy ended first");
        assert!(
            Instant::now() < deadline,
            "destroy never deleted an attachment"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let sent = std::process::Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let _ = child.wait();
    destroyed(&bench, "seed-cen").await;
    let after = inventory(&bench.state_view());
    assert_eq!(after.resources, before.resources);
    kept(&before, &after);
    bench.sim.shutdown().await;
}

/// A VPC route entry and the inter-region connection deleted outside dwlink: `status` names
/// them as deleted, and one `run` creates them anew (new ClientTokens), connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_entry_and_an_inter_region_connection_deleted_outside_are_recreated() {
    let bench = Bench::start(Timing::Immediate, 1.0).await;
    let before = inventory(&bench.state_view());
    let built = connected(&bench, "seed-cen").await;
    let route_id = steps_with(&built, "done")
        .into_iter()
        .find(|s| s["name"] == "route.dataworks")
        .map(|s| s["resource_ids"][0].as_str().unwrap().to_string())
        .expect("route.dataworks");
    let peer = ids(&bench, "transit-router-peer-attachment");
    assert_eq!(peer.len(), 1);
    for (kind, id) in [
        ("route-entry", route_id.clone()),
        ("transit-router-peer-attachment", peer[0].clone()),
    ] {
        bench
            .sim
            .tamper(&Tamper::Delete {
                kind: kind.into(),
                id,
            })
            .unwrap();
    }
    let (code, status, _) = bench.json("status", "rds-mysql", "seed-cen").await;
    assert_eq!(code, 3, "{status:#}");
    let deleted: Vec<Value> = steps_with(&status, "deleted");
    for (step, id) in [("route.dataworks", &route_id), ("cen.peer", &peer[0])] {
        assert!(
            deleted
                .iter()
                .any(|s| s["name"] == step && s["resource_ids"][0] == id.as_str()),
            "status does not name {step} {id} as deleted: {status:#}"
        );
    }
    let (code, diagnosis, _) = bench.json("diagnose", "rds-mysql", "seed-cen").await;
    assert_eq!(code, 3, "{diagnosis:#}");
    assert!(
        diagnosis.to_string().contains("deleted outside dwlink"),
        "{diagnosis:#}"
    );

    let repaired = connected(&bench, "seed-cen").await;
    assert!(
        notes(&repaired).contains("deleted outside dwlink"),
        "{repaired:#}"
    );
    let new_peer = ids(&bench, "transit-router-peer-attachment");
    assert_eq!(new_peer.len(), 1);
    assert_ne!(new_peer[0], peer[0]);
    no_done_step_without_an_id(&bench);
    // Repaired once is enough: the next run writes nothing.
    let (code, again, _) = bench.json("run", "rds-mysql", "seed-cen").await;
    assert_eq!(code, 0);
    assert_eq!(again["calls"]["write"], 0, "{again:#}");
    destroyed(&bench, "seed-cen").await;
    assert_eq!(inventory(&bench.state_view()).resources, before.resources);
    bench.sim.shutdown().await;
}

/// Rebuilding after a destroy with a new state dir: the ClientTokens of the first build come
/// back (the generation is lost with the journal) and the cloud answers them with deleted ids;
/// dwlink sees the resource is not there and creates it as a new attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuilding_after_a_destroy_with_a_new_state_dir_connects() {
    let mut bench = Bench::start(Timing::Immediate, 1.0).await;
    let before = inventory(&bench.state_view());
    // Four builds of peering, each in a new state dir: no build reuses an earlier one's tokens.
    for link_name in [
        "seed-peering",
        "seed-peering",
        "seed-peering",
        "seed-peering",
        "seed-cen",
    ] {
        connected(&bench, link_name).await;
        destroyed(&bench, link_name).await;
        bench.state = tempfile::tempdir().unwrap();
        let rebuilt = connected(&bench, link_name).await;
        assert_eq!(rebuilt["status"], "connected", "{rebuilt:#}");
        no_done_step_without_an_id(&bench);
        destroyed(&bench, link_name).await;
        assert_eq!(
            inventory(&bench.state_view()).resources,
            before.resources,
            "{link_name}"
        );
    }
    bench.sim.shutdown().await;
}

/// A lost state dir: what dwlink created is found again by its names; `run` records it
/// (writing nothing) and `destroy` removes all of it. A damaged journal is kept aside and
/// rebuilt the same way, never taken for an empty one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_or_damaged_journal_is_rebuilt_from_the_cloud() {
    let mut bench = Bench::start(Timing::Immediate, 1.0).await;
    let before = inventory(&bench.state_view());
    connected(&bench, "seed-cen").await;

    // Lost: a new state dir. run adopts, writes nothing; destroy removes everything.
    bench.state = tempfile::tempdir().unwrap();
    let (code, adopted, _) = bench.json("run", "rds-mysql", "seed-cen").await;
    assert_eq!(code, 0, "{adopted:#}");
    assert_eq!(adopted["calls"]["write"], 0, "{adopted:#}");
    assert!(notes(&adopted).contains("found by name"), "{adopted:#}");
    no_done_step_without_an_id(&bench);
    destroyed(&bench, "seed-cen").await;
    assert_eq!(inventory(&bench.state_view()).resources, before.resources);

    // Damaged: the file is not JSON any more. destroy keeps it aside, rebuilds, removes all.
    connected(&bench, "seed-cen").await;
    let path = journal_path(&bench);
    std::fs::write(&path, "{\"entries\": [ truncated").unwrap();
    let report = destroyed(&bench, "seed-cen").await;
    assert!(notes(&report).contains("could not be read"), "{report:#}");
    assert_eq!(inventory(&bench.state_view()).resources, before.resources);
    let kept_aside = std::fs::read_dir(bench.state.path())
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().contains(".damaged-"));
    assert!(kept_aside, "the damaged journal was not kept");
    bench.sim.shutdown().await;
}

/// The instance is stopped, so its whitelist cannot change: destroy removes everything else
/// (the peering, the routes, the DataWorks route and data source), lists the whitelist entry
/// as left with the reason, and the next destroy, once the instance runs, finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_does_not_stop_at_the_first_failing_step() {
    let bench = Bench::start(Timing::Immediate, 1.0).await;
    let before = inventory(&bench.state_view());
    connected(&bench, "seed-peering").await;
    let instance = bench
        .state_view()
        .of_type("rds-instance")
        .next()
        .unwrap()
        .id
        .clone();
    let set = |status: &str| Tamper::SetStatus {
        kind: "rds-instance".into(),
        id: instance.clone(),
        status: status.into(),
    };
    bench.sim.tamper(&set("Stopped")).unwrap();
    let (code, report, stderr) = bench
        .json_with(
            "destroy",
            "rds-mysql",
            "seed-peering",
            &["--max-wait", "1s"],
        )
        .await;
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    let left = steps_with(&report, "left");
    assert_eq!(left.len(), 1, "{report:#}");
    assert_eq!(left[0]["name"], "whitelist.add");
    for kind in [
        "vpc-peer-connection",
        "dataworks-route",
        "dataworks-data-source",
    ] {
        assert!(ids(&bench, kind).is_empty(), "{kind} left: {report:#}");
    }
    bench.sim.tamper(&set("Running")).unwrap();
    destroyed(&bench, "seed-peering").await;
    let after = inventory(&bench.state_view());
    assert_eq!(after.resources, before.resources);
    assert_eq!(after.whitelists, before.whitelists);
    bench.sim.shutdown().await;
}

/// The answer to `DeleteCen` is lost after the CEN was deleted; the client's retry is told
/// the CEN does not exist (`ParameterCenInstanceId`). Gone is done: destroy finishes and a new
/// generation starts, so the link can be built again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_to_delete_cen_is_taken_as_gone() {
    let bench = Bench::start(Timing::Immediate, 1.0).await;
    let before = inventory(&bench.state_view());
    connected(&bench, "seed-cen").await;
    bench.sim.set_faults(FaultSettings {
        rules: vec![FaultRule::lose("DeleteCen", Some(1))],
        ..Default::default()
    });
    destroyed(&bench, "seed-cen").await;
    assert!(
        bench
            .sim
            .requests()
            .iter()
            .any(|r| r.action == "DeleteCen" && r.fault.is_some()),
        "the rule did not fire"
    );
    assert_eq!(inventory(&bench.state_view()).resources, before.resources);
    connected(&bench, "seed-cen").await;
    destroyed(&bench, "seed-cen").await;
    bench.sim.shutdown().await;
}

/// The answers to a route-table association and a propagation are lost after they took
/// effect: the retry hears "already associated/propagated", the state reads back as wanted,
/// and one run connects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_to_associations_and_propagations_are_adopted() {
    let bench = Bench::start(Timing::Immediate, 1.0).await;
    let before = inventory(&bench.state_view());
    bench.sim.set_faults(FaultSettings {
        rules: vec![
            FaultRule::lose("AssociateTransitRouterAttachmentWithRouteTable", Some(1)),
            FaultRule::lose("EnableTransitRouterRouteTablePropagation", Some(2)),
        ],
        ..Default::default()
    });
    connected(&bench, "seed-cen").await;
    let fired = bench
        .sim
        .requests()
        .iter()
        .filter(|r| r.fault.is_some())
        .count();
    assert_eq!(fired, 2, "both rules fired");
    no_done_step_without_an_id(&bench);
    destroyed(&bench, "seed-cen").await;
    assert_eq!(inventory(&bench.state_view()).resources, before.resources);
    bench.sim.shutdown().await;
}

/// A create whose answer is lost (it took effect) while a run is killed before it could
/// record anything: the resumed run records the created resource's id, found by reading.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_create_answer_is_recorded_with_its_id() {
    let bench = Bench::start(Timing::Immediate, 1.0).await;
    let before = inventory(&bench.state_view());
    bench.sim.set_faults(FaultSettings {
        rules: vec![
            FaultRule::lose("CreateTransitRouter", Some(1)),
            FaultRule::fail("CreateTransitRouter", Some(2), "ServiceUnavailable"),
            FaultRule::fail("CreateTransitRouter", Some(3), "ServiceUnavailable"),
            FaultRule::fail("CreateTransitRouter", Some(4), "ServiceUnavailable"),
            FaultRule::fail("CreateTransitRouter", Some(5), "ServiceUnavailable"),
        ],
        ..Default::default()
    });
    let (code, first, _) = bench.json("run", "rds-mysql", "seed-cen").await;
    // However the first run ended, the next one connects with one transit router per region.
    if code != 0 {
        bench.sim.set_faults(FaultSettings::default());
        connected(&bench, "seed-cen").await;
    } else {
        assert_eq!(first["status"], "connected");
    }
    assert_eq!(count(&bench.state_view(), "transit-router"), 2);
    no_done_step_without_an_id(&bench);
    destroyed(&bench, "seed-cen").await;
    assert_eq!(inventory(&bench.state_view()).resources, before.resources);
    bench.sim.shutdown().await;
}

/// One way to break a built link behind dwlink's back.
struct Drift {
    link: &'static str,
    what: &'static str,
    /// Builds the tampering from the simulator's state and the run's report.
    tamper: fn(&Bench, &Value) -> Tamper,
    /// A hop of the network path, which diagnose names (the data source is not one: the path
    /// still carries traffic without it, so diagnose finds every hop ok).
    hop: bool,
}

fn delete(kind: &str, id: String) -> Tamper {
    Tamper::Delete {
        kind: kind.into(),
        id,
    }
}

fn step_id(report: &Value, step: &str) -> String {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == step)
        .and_then(|s| s["resource_ids"][0].as_str())
        .unwrap_or_else(|| panic!("no id for {step}: {report:#}"))
        .to_string()
}

fn first(bench: &Bench, kind: &str) -> String {
    ids(bench, kind)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {kind}"))
}

const DRIFTS: &[Drift] = &[
    Drift {
        link: "seed-peering",
        what: "peering connection deleted",
        tamper: |b, _| delete("vpc-peer-connection", first(b, "vpc-peer-connection")),
        hop: true,
    },
    Drift {
        link: "seed-peering",
        what: "A's route entry deleted",
        tamper: |_, r| delete("route-entry", step_id(r, "route.source")),
        hop: true,
    },
    Drift {
        link: "seed-peering",
        what: "B's route entry deleted",
        tamper: |_, r| delete("route-entry", step_id(r, "route.dataworks")),
        hop: true,
    },
    Drift {
        link: "seed-peering",
        what: "DataWorks route deleted",
        tamper: |_, r| delete("dataworks-route", step_id(r, "dataworks.route")),
        hop: true,
    },
    Drift {
        link: "seed-peering",
        what: "whitelist entry removed",
        tamper: |b, _| Tamper::RemoveWhitelistEntry {
            instance: first(b, "rds-instance"),
            group: "dataworks".into(),
            entry: "172.16.66.0/24".into(),
        },
        hop: true,
    },
    Drift {
        link: "seed-peering",
        what: "DataWorks data source deleted",
        tamper: |_, r| delete("dataworks-data-source", step_id(r, "dataworks.data_source")),
        hop: false,
    },
    Drift {
        link: "seed-cen",
        what: "B's VPC attachment deleted",
        tamper: |_, r| {
            delete(
                "transit-router-vpc-attachment",
                step_id(r, "cen.attach.dataworks"),
            )
        },
        hop: true,
    },
    Drift {
        link: "seed-cen",
        what: "A's VPC attachment deleted",
        tamper: |_, r| {
            delete(
                "transit-router-vpc-attachment",
                step_id(r, "cen.attach.source"),
            )
        },
        hop: true,
    },
    Drift {
        link: "seed-cen",
        what: "inter-region connection deleted",
        tamper: |_, r| delete("transit-router-peer-attachment", step_id(r, "cen.peer")),
        hop: true,
    },
    Drift {
        link: "seed-cen",
        what: "A's route entry deleted",
        tamper: |_, r| delete("route-entry", step_id(r, "route.source")),
        hop: true,
    },
    Drift {
        link: "seed-cen",
        what: "B's route entry deleted",
        tamper: |_, r| delete("route-entry", step_id(r, "route.dataworks")),
        hop: true,
    },
    Drift {
        link: "seed-cen",
        what: "A's transit router deleted",
        tamper: |_, r| delete("transit-router", step_id(r, "cen.tr.source")),
        hop: true,
    },
    Drift {
        link: "seed-cen",
        what: "the CEN deleted (with its routers)",
        tamper: |_, r| delete("cen", step_id(r, "cen.create")),
        hop: true,
    },
    Drift {
        link: "seed-cen",
        what: "DataWorks route deleted",
        tamper: |_, r| delete("dataworks-route", step_id(r, "dataworks.route")),
        hop: true,
    },
    Drift {
        link: "seed-cen",
        what: "whitelist entry removed",
        tamper: |b, _| Tamper::RemoveWhitelistEntry {
            instance: first(b, "rds-instance"),
            group: "dataworks".into(),
            entry: "172.16.66.0/24".into(),
        },
        hop: true,
    },
    Drift {
        link: "seed-cen",
        what: "DataWorks data source deleted",
        tamper: |_, r| delete("dataworks-data-source", step_id(r, "dataworks.data_source")),
        hop: false,
    },
];

/// Every hop diagnose can name, broken behind dwlink's back: diagnose names a broken hop, one
/// `run` repairs it (connected, then diagnose all ok), and destroy leaves the world as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_at_every_hop_is_repaired_by_run() {
    let mut failures = Vec::new();
    for d in DRIFTS {
        let bench = Bench::start(Timing::Immediate, 1.0).await;
        let before = inventory(&bench.state_view());
        let built = connected(&bench, d.link).await;
        bench.sim.tamper(&(d.tamper)(&bench, &built)).unwrap();
        let (code, diagnosis, _) = bench.json("diagnose", "rds-mysql", d.link).await;
        let named = diagnosis["diagnosis"]["first_broken"]
            .as_str()
            .unwrap_or("-")
            .to_string();
        let (run_code, repaired, stderr) = bench.json("run", "rds-mysql", d.link).await;
        let (ok_code, after_diag, _) = bench.json("diagnose", "rds-mysql", d.link).await;
        let (destroy_code, _, _) = bench.json("destroy", "rds-mysql", d.link).await;
        let clean = inventory(&bench.state_view()).resources == before.resources;
        eprintln!(
            "drift {:<12} {:<34} diagnose {code} names {named:<22} run {run_code} diagnose {ok_code} destroy {destroy_code} clean {clean}",
            d.link, d.what
        );
        if code != if d.hop { 3 } else { 0 }
            || (d.hop && named == "-")
            || run_code != 0
            || ok_code != 0
            || destroy_code != 0
            || !clean
        {
            failures.push(format!(
                "{} / {}: diagnose {code} ({named}), run {run_code}: {}\n{}\ndiagnose after: {}\ndestroy {destroy_code}, clean {clean}",
                d.link,
                d.what,
                repaired["error"],
                stderr.lines().rev().take(5).collect::<Vec<_>>().join("\n"),
                after_diag["diagnosis"]["first_broken"]
            ));
        }
        bench.sim.shutdown().await;
    }
    eprintln!(
        "drift repaired by one run: {}/{} ({} named by diagnose)",
        DRIFTS.len() - failures.len(),
        DRIFTS.len(),
        DRIFTS.iter().filter(|d| d.hop).count()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
