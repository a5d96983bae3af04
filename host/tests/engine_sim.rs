//! The link engine end to end: the real `dwlink-host` binary against the simulator on
//! loopback, with the shipped example link files and plugins.
//!
//! What the issue asks of `run`/`destroy`: both network modes connect; an immediate second run
//! writes nothing; destroy leaves none of dwlink's resources and every pre-existing whitelist
//! entry; a run killed with SIGKILL mid-way is finished by the next run with no duplicate, or
//! undone by destroy with no orphan.

mod common;

use common::bench::{Bench, Inventory, count, gone, inventory, kept, link};
use common::{cache_dir, plugin};
use dwlink_sim::{FaultRule, FaultSettings, StateView, Timing};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn steps_done(report: &Value) -> Vec<String> {
    report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            format!(
                "{}={}",
                s["name"].as_str().unwrap(),
                s["status"].as_str().unwrap()
            )
        })
        .collect()
}

/// run -> connected; run again -> 0 writes; destroy -> the world as it was.
async fn full_cycle(plugin_name: &str, link_name: &str, mode: &str) {
    let bench = Bench::start(Timing::Immediate, 1.0).await;
    let before = inventory(&bench.state_view());

    let (code, report, stderr) = bench.json("run", plugin_name, link_name).await;
    assert_eq!(code, 0, "{link_name}: {report:#}\n{stderr}");
    assert_eq!(report["status"], "connected", "{report:#}");
    assert_eq!(report["mode"], mode);
    assert_eq!(report["connectivity"]["state"], "Connectable", "{report:#}");
    assert!(report["calls"]["write"].as_u64().unwrap() > 0);
    let built = inventory(&bench.state_view());
    kept(&before, &built);

    let (code, again, _) = bench.json("run", plugin_name, link_name).await;
    assert_eq!(code, 0, "{again:#}");
    assert_eq!(again["status"], "connected");
    assert_eq!(again["calls"]["write"], 0, "second run wrote: {again:#}");
    assert_eq!(
        inventory(&bench.state_view()),
        built,
        "second run changed the world"
    );

    let (code, undone, stderr) = bench.json("destroy", plugin_name, link_name).await;
    assert_eq!(code, 0, "{undone:#}\n{stderr}");
    let after = inventory(&bench.state_view());
    let left: Vec<_> = after.resources.difference(&before.resources).collect();
    let removed: Vec<_> = before.resources.difference(&after.resources).collect();
    assert!(
        left.is_empty() && removed.is_empty(),
        "destroy left {left:?} and removed {removed:?}\n{undone:#}"
    );
    for (group, entries) in &after.whitelists {
        let was = before.whitelists.get(group).cloned().unwrap_or_default();
        assert_eq!(entries, &was, "whitelist group {group} after destroy");
    }
    kept(&before, &after);
    bench.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_peering_connects_is_idempotent_and_destroys_cleanly() {
    full_cycle("rds-mysql", "seed-peering", "peering").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_cen_connects_is_idempotent_and_destroys_cleanly() {
    full_cycle("rds-mysql", "seed-cen", "cen").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polardb_peering_connects_and_destroys_cleanly() {
    full_cycle("polardb", "polardb-peering", "peering").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongodb_cen_connects_and_destroys_cleanly() {
    full_cycle("mongodb", "mongodb-cen", "cen").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_writes_nothing_and_lists_every_action() {
    let bench = Bench::start(Timing::Immediate, 1.0).await;
    let before = inventory(&bench.state_view());
    let (code, plan, stderr) = bench.json("plan", "rds-mysql", "seed-cen").await;
    assert_eq!(code, 0, "{plan:#}\n{stderr}");
    assert_eq!(plan["calls"]["write"], 0);
    let steps = steps_done(&plan);
    for step in ["cen.create", "whitelist.add", "dataworks.route"] {
        assert!(
            steps.iter().any(|s| s.starts_with(step)),
            "{step} not planned: {steps:?}"
        );
    }
    assert_eq!(inventory(&bench.state_view()), before);
    bench.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_what_exists_what_is_missing_and_the_connectivity() {
    let bench = Bench::start(Timing::Immediate, 1.0).await;
    let step = |report: &Value, status: &str| -> Vec<String> {
        report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["status"] == status)
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    };
    // Nothing built yet: everything is missing, nothing is tested, exit 3.
    let (code, before, stderr) = bench.json("status", "rds-mysql", "seed-peering").await;
    assert_eq!(code, 3, "{before:#}\n{stderr}");
    assert_eq!(before["status"], "not_connected");
    assert_eq!(before["calls"]["write"], 0);
    assert!(before["connectivity"].is_null());
    let missing = step(&before, "missing");
    assert!(
        missing.contains(&"peering.create".to_string()),
        "{missing:?}"
    );
    assert!(step(&before, "created").is_empty());

    let (code, _, stderr) = bench.json("run", "rds-mysql", "seed-peering").await;
    assert_eq!(code, 0, "{stderr}");
    let (code, after, stderr) = bench.json("status", "rds-mysql", "seed-peering").await;
    assert_eq!(code, 0, "{after:#}\n{stderr}");
    assert_eq!(after["status"], "connected");
    assert_eq!(after["connectivity"]["state"], "Connectable");
    assert_eq!(after["calls"]["write"], 0, "status changes nothing");
    assert!(step(&after, "missing").is_empty());
    let mut created = step(&after, "created");
    created.sort();
    missing
        .iter()
        .for_each(|m| assert!(created.contains(m), "{m} not shown: {created:?}"));
    let ids: Vec<&str> = after["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["resource_ids"].as_array().unwrap())
        .filter_map(|v| v.as_str())
        .collect();
    assert!(ids.iter().any(|id| id.starts_with("pcc-")), "{ids:?}");

    // Calls are counted per account, the plugin's and AssumeRole included.
    let by = &after["calls"]["by_account"];
    assert!(by["A"]["reads"].as_u64().unwrap() > 0, "{by:#}");
    assert!(by["B"]["reads"].as_u64().unwrap() > 0, "{by:#}");
    bench.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_with_no_link_and_no_credentials_connects_on_the_embedded_simulator() {
    let home = tempfile::tempdir().unwrap();
    let plugin = plugin("rds-mysql");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_dwlink-host"))
            .args(["run", plugin.to_str().unwrap()])
            .env("HOME", home.path())
            .env("DWLINK_CACHE_DIR", cache_dir())
            .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
            .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
            .env_remove("ALIBABA_CLOUD_SECURITY_TOKEN")
            .env_remove("ALIBABA_CLOUD_PROFILE")
            .env_remove("DWLINK_ENDPOINT")
            .env_remove("DWLINK_STATE_DIR")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("embedded Alibaba Cloud SIMULATOR"),
        "{stderr}"
    );
    assert!(stdout.contains("connectivity: Connectable"), "{stdout}");
    assert!(stdout.contains("result: connected"), "{stdout}");
    for step in [
        "peering.create",
        "route.source",
        "dataworks.route",
        "whitelist.add",
    ] {
        assert!(stdout.contains(step), "{step} missing:\n{stdout}");
    }
}

// ---------------------------------------------------------------------------------------------
// Crash safety: SIGKILL a real run mid-way (slowed lifecycles), then finish or undo it.

/// Starts `run` and stops it with `signal` (`KILL` or `INT`) once its journal records
/// `min_done` finished actions and at least one more in flight. Returns the number of finished
/// actions seen, how the process ended and what it said on stderr.
async fn stop_mid_way(
    bench: &Bench,
    plugin_name: &str,
    link_name: &str,
    min_done: usize,
    signal: &str,
) -> (usize, std::process::ExitStatus, String) {
    let plugin = plugin(plugin_name);
    let link = link(link_name);
    // Route entries come late in both modes: refusing them as busy (the client retries for
    // minutes) holds the run mid-way, with earlier steps done and a route step in flight,
    // however slowly this machine schedules the watcher below.
    bench.sim.set_faults(FaultSettings {
        rules: vec![FaultRule::fail(
            "CreateRouteEntry",
            None,
            "IncorrectStatus.VpcRouteTable",
        )],
        ..Default::default()
    });
    let mut child = bench
        .command(&[
            "run",
            plugin.to_str().unwrap(),
            "--link",
            link.to_str().unwrap(),
            "--yes",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let done = loop {
        let (done, pending) = journal_counts(bench.state.path());
        if done >= min_done && pending > 0 {
            break done;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "run ended ({status}) before it could be stopped; journal: {done} done, {pending} pending"
            );
        }
        assert!(
            Instant::now() < deadline,
            "run never reached {min_done} finished actions"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    // SIGKILL: no destructor, no journal flush, no goodbye. SIGINT: what Ctrl-C sends.
    let sent = std::process::Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success(), "kill -{signal} failed");
    let out = child.wait_with_output().unwrap();
    bench.sim.set_faults(FaultSettings::default());
    (
        done,
        out.status,
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

async fn kill_mid_way(bench: &Bench, plugin_name: &str, link_name: &str, min_done: usize) -> usize {
    stop_mid_way(bench, plugin_name, link_name, min_done, "KILL")
        .await
        .0
}

/// (finished, in flight) actions over every journal in `dir`.
fn journal_counts(dir: &Path) -> (usize, usize) {
    let mut done = 0;
    let mut pending = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (0, 0);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<Value>(&text) else {
            continue; // the journal is written atomically; a temp file is not it
        };
        let text = json.to_string();
        done += text.matches("\"state\":\"done\"").count();
        pending += text.matches("\"state\":\"sent\"").count();
    }
    (done, pending)
}

async fn crash_then_finish(link_name: &str, min_done: usize) {
    // Slowed lifecycles: every async step takes a visible while, so the kill lands mid-way.
    let bench = Bench::start(Timing::Delay, 0.2).await;
    let before = inventory(&bench.state_view());
    let done = kill_mid_way(&bench, "rds-mysql", link_name, min_done).await;
    assert!(done >= min_done);

    let (code, report, stderr) = bench.json("run", "rds-mysql", link_name).await;
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["status"], "connected");
    let view = bench.state_view();
    no_duplicates(&before, &view, link_name);
    // Custom entries only: a vSwitch dwlink creates brings its own system entry.
    let custom: Vec<_> = view
        .of_type("route-entry")
        .filter(|r| r.attributes["type"] != "System")
        .map(|r| (r.id.clone(), r.attributes.clone()))
        .collect();
    assert_eq!(
        custom.len(),
        2,
        "one route entry per side, no duplicate: {custom:#?}"
    );
    kept(&before, &inventory(&view));
    bench.sim.shutdown().await;
}

/// Exactly what the link needs was created, once each: nothing twice after a resumed run.
fn no_duplicates(before: &Inventory, view: &StateView, link_name: &str) {
    let cen = link_name.ends_with("cen");
    let n = |yes: usize| if cen { yes } else { 0 };
    for (kind, expected) in [
        ("vpc-peer-connection", if cen { 0 } else { 1 }),
        ("cen", n(1)),
        ("transit-router", n(2)),
        ("transit-router-vpc-attachment", n(2)),
        ("transit-router-peer-attachment", n(1)),
        ("vswitch", n(1)),
        ("dataworks-route", 1),
        ("dataworks-data-source", 1),
    ] {
        let created =
            count(view, kind) - before.resources.iter().filter(|(k, _)| k == kind).count();
        assert_eq!(
            created, expected,
            "{kind}: {created} created, {expected} expected"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_a_run_at_once_and_the_next_run_finishes_it() {
    let bench = Bench::start(Timing::Delay, 0.2).await;
    let before = inventory(&bench.state_view());
    let (_, status, stderr) = stop_mid_way(&bench, "rds-mysql", "seed-cen", 3, "INT").await;
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted; every step sent so far is in its journal"),
        "{stderr}"
    );
    assert!(stderr.contains("dwlink-host destroy"), "{stderr}");
    let (code, report, stderr) = bench.json("run", "rds-mysql", "seed-cen").await;
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["status"], "connected");
    no_duplicates(&before, &bench.state_view(), "seed-cen");
    bench.sim.shutdown().await;
}

async fn crash_then_destroy(link_name: &str, min_done: usize) {
    let bench = Bench::start(Timing::Delay, 0.2).await;
    let before = inventory(&bench.state_view());
    kill_mid_way(&bench, "rds-mysql", link_name, min_done).await;
    let (code, report, stderr) = bench.json("destroy", "rds-mysql", link_name).await;
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    let view = bench.state_view();
    let after = inventory(&view);
    let orphans: Vec<_> = view
        .resources
        .iter()
        .filter(|r| {
            r.kind != "whitelist-group"
                && !gone(&r.status)
                && !before.resources.contains(&(r.kind.clone(), r.id.clone()))
        })
        .collect();
    assert!(
        orphans.is_empty(),
        "orphans after destroy: {orphans:#?}\n{report:#}"
    );
    assert_eq!(
        after.resources, before.resources,
        "destroy removed a resource it did not create"
    );
    kept(&before, &after);
    bench.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peering_killed_mid_way_is_finished_by_the_next_run() {
    crash_then_finish("seed-peering", 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peering_killed_mid_way_is_undone_by_destroy() {
    crash_then_destroy("seed-peering", 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cen_killed_mid_way_is_finished_by_the_next_run() {
    crash_then_finish("seed-cen", 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cen_killed_mid_way_is_undone_by_destroy() {
    crash_then_destroy("seed-cen", 4).await;
}

/// Secrets never reach output, logs (even at trace) or the journal: account B's AccessKey
/// secret, the STS tokens of the assumed role (`CAIS…` in the simulator, as in the cloud), the
/// database password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_output_logs_or_journal_at_trace() {
    let bench = Bench::start(Timing::Immediate, 1.0).await;
    let secret = bench.sim.account("B").unwrap().access_key_secret;
    let plugin = plugin("rds-mysql");
    let mut seen = String::new();
    for (cmd, link_name) in [
        ("run", "seed-cen"),
        ("diagnose", "seed-cen"),
        ("destroy", "seed-cen"),
    ] {
        let link = link(link_name);
        let mut command = bench.command(&[
            cmd,
            plugin.to_str().unwrap(),
            "--link",
            link.to_str().unwrap(),
            "--output",
            "json",
        ]);
        if cmd != "diagnose" {
            command.arg("--yes");
        }
        command.env("RUST_LOG", "trace").env("DWLINK_LOG", "trace");
        let out = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        seen.push_str(&String::from_utf8_lossy(&out.stdout));
        seen.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    assert!(
        seen.contains("TRACE") || seen.contains("DEBUG"),
        "trace logging was not on"
    );
    for entry in std::fs::read_dir(bench.state.path()).unwrap().flatten() {
        seen.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
    }
    assert!(!seen.contains(&secret), "the AccessKey secret leaked");
    assert!(
        !seen.contains("sim-password"),
        "the database password leaked"
    );
    let token = seen
        .match_indices("CAIS")
        .map(|(i, _)| &seen[i..(i + 40).min(seen.len())])
        .find(|t| t.len() > 20 && t[4..].chars().take(16).all(|c| c.is_ascii_alphanumeric()));
    assert!(token.is_none(), "an STS token leaked: {token:?}");
    bench.sim.shutdown().await;
}

/// Without a terminal to confirm on, `run` and `destroy` need `--yes`, and change nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_without_yes_and_without_a_terminal_changes_nothing() {
    let bench = Bench::start(Timing::Immediate, 1.0).await;
    let before = inventory(&bench.state_view());
    let plugin = plugin("rds-mysql");
    let link = link("seed-peering");
    for cmd in ["run", "destroy"] {
        let mut command = bench.command(&[
            cmd,
            plugin.to_str().unwrap(),
            "--link",
            link.to_str().unwrap(),
        ]);
        command.stdin(Stdio::null());
        let out = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {stderr}");
        assert!(stderr.contains("--yes"), "{cmd}: {stderr}");
    }
    assert_eq!(inventory(&bench.state_view()), before);
    bench.sim.shutdown().await;
}

/// A peering deleted behind dwlink's back leaves route entries pointing at it: `status` says
/// what was deleted outside dwlink, and the next run repairs the link by creating the peering
/// anew (a new ClientToken: the old one would bring back the deleted id) and replacing
/// dwlink's own stale route entries. Destroy then leaves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peering_deleted_behind_dwlinks_back_is_recreated_by_run() {
    let bench = Bench::start(Timing::Immediate, 1.0).await;
    let before = inventory(&bench.state_view());
    let (code, report, stderr) = bench.json("run", "rds-mysql", "seed-peering").await;
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    let peering = bench
        .state_view()
        .of_type("vpc-peer-connection")
        .next()
        .unwrap()
        .id
        .clone();
    bench
        .sim
        .tamper(&dwlink_sim::Tamper::Delete {
            kind: "vpc-peer-connection".into(),
            id: peering.clone(),
        })
        .unwrap();
    let (code, status, _) = bench.json("status", "rds-mysql", "seed-peering").await;
    assert_eq!(code, 3, "{status:#}");
    let deleted: Vec<&Value> = status["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "deleted")
        .collect();
    assert!(
        deleted
            .iter()
            .any(|s| s["name"] == "peering.create" && s["resource_ids"][0] == peering.as_str()),
        "status does not say the peering was deleted outside dwlink: {status:#}"
    );

    let (code, again, stderr) = bench.json("run", "rds-mysql", "seed-peering").await;
    assert_eq!(code, 0, "{again:#}\n{stderr}");
    assert_eq!(again["status"], "connected");
    let view = bench.state_view();
    let now: Vec<String> = view
        .of_type("vpc-peer-connection")
        .map(|p| p.id.clone())
        .collect();
    assert_eq!(now.len(), 1, "{now:?}");
    assert_ne!(now[0], peering, "a new peering, not the deleted one");
    let custom: Vec<_> = view
        .of_type("route-entry")
        .filter(|r| r.attributes["type"] != "System")
        .map(|r| r.attributes["next_hops"][0]["id"].clone())
        .collect();
    assert_eq!(custom.len(), 2, "{custom:?}");
    assert!(
        custom.iter().all(|h| h.as_str() == Some(now[0].as_str())),
        "every route entry points at the new peering: {custom:?}"
    );
    let (code, undone, stderr) = bench.json("destroy", "rds-mysql", "seed-peering").await;
    assert_eq!(code, 0, "{undone:#}\n{stderr}");
    assert_eq!(
        inventory(&bench.state_view()).resources,
        before.resources,
        "{undone:#}"
    );
    bench.sim.shutdown().await;
}

/// A step that creates nothing with an id (the grant of A's VPC to B's CEN), sent but never
/// confirmed (the run died between the call and the journal write): destroy still revokes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unconfirmed_grant_is_revoked_by_destroy() {
    let bench = Bench::start(Timing::Immediate, 1.0).await;
    let before = inventory(&bench.state_view());
    let (code, report, stderr) = bench.json("run", "rds-mysql", "seed-cen").await;
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(count(&bench.state_view(), "cen-grant"), 1);
    // Rewrite the journal as a kill right after the GrantInstanceToCen call would leave it.
    let path = std::fs::read_dir(bench.state.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
        .expect("a journal");
    let mut journal: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let entries = journal["entries"].as_array_mut().expect("journal entries");
    let grant = entries
        .iter_mut()
        .find(|e| e["step"] == "cen.grant")
        .expect("a cen.grant step");
    grant["state"] = "sent".into();
    std::fs::write(&path, serde_json::to_string(&journal).unwrap()).unwrap();

    let (code, undone, stderr) = bench.json("destroy", "rds-mysql", "seed-cen").await;
    assert_eq!(code, 0, "{undone:#}\n{stderr}");
    let after = inventory(&bench.state_view());
    assert_eq!(after.resources, before.resources, "{undone:#}");
    bench.sim.shutdown().await;
}
