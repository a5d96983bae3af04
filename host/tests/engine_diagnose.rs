//! Diagnose end to end against the in-process simulator (immediate lifecycles): build a link
//! with the engine and the RDS MySQL plugin, break ONE hop behind dwlink's back (the
//! simulator's tamper facility or a plain API call), and check that diagnose names exactly
//! that hop with its resource id; `run` attaches the diagnosis when the connectivity test
//! fails; the `diagnose` command exits 0 / 3 and prints the JSON `diagnosis` object.
//!
//! Needs `target/plugins/rds-mysql.wasm` (`cargo xtask plugins` builds it).

use dwlink_host::cloud::{AssumeRoleSpec, Caller, Cloud, CloudConfig, Credentials};
use dwlink_host::engine::{
    Diagnosis, Engine, HopStatus, Options, PluginDataSource, Report, Status,
};
use dwlink_host::network::dataworks;
use dwlink_host::plugin::{PluginRuntime, RuntimeOptions};
use dwlink_host::spec::{Access, LinkSpec};
use dwlink_sim::{SimConfig, SimHandle, Simulator, Tamper, Timing};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const INSTANCE: &str = "rm-bp1simmysqlsource001";

fn plugin_path() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/plugins/rds-mysql.wasm");
    assert!(
        path.exists(),
        "{} is missing: run `cargo xtask plugins` first (it builds the example plugins)",
        path.display()
    );
    path
}

fn link_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/links")
        .join(name)
}

/// A simulator with a link built on it.
struct Lab {
    sim: SimHandle,
    engine: Engine,
    /// Account B's caller, for the connectivity test.
    b: Arc<dyn Caller>,
    report: Report,
    _state: tempfile::TempDir,
}

impl Lab {
    /// Starts the simulator, builds the link `name` (its text passed through `edit`) and runs it.
    async fn new(name: &str, edit: impl Fn(String) -> String) -> Lab {
        let sim = Simulator::start(SimConfig {
            timing: Timing::Immediate,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let path = link_path(name);
        let text = edit(std::fs::read_to_string(&path).unwrap());
        let spec = LinkSpec::parse(&path, &text).unwrap();
        let state = tempfile::tempdir().unwrap();
        let (engine, b) = engine(&sim, spec, state.path()).await;
        let report = engine.run().await;
        Lab {
            sim,
            engine,
            b,
            report,
            _state: state,
        }
    }

    async fn connected(name: &str) -> Lab {
        let lab = Lab::new(name, |t| t).await;
        assert_eq!(
            lab.report.status,
            Status::Connected,
            "{}",
            lab.report.to_text()
        );
        lab
    }

    /// The resource id a step of the run produced.
    fn step_id(&self, step: &str) -> String {
        self.report
            .steps
            .iter()
            .find(|s| s.name == step)
            .and_then(|s| s.resource_ids.first().cloned())
            .unwrap_or_else(|| panic!("step {step} has no id: {}", self.report.to_text()))
    }

    fn tamper(&self, t: Tamper) {
        self.sim.tamper(&t).unwrap();
    }

    fn delete(&self, kind: &str, id: &str) {
        self.tamper(Tamper::Delete {
            kind: kind.into(),
            id: id.into(),
        });
    }

    fn set_status(&self, kind: &str, id: &str, status: &str) {
        self.tamper(Tamper::SetStatus {
            kind: kind.into(),
            id: id.into(),
            status: status.into(),
        });
    }

    /// A resource's attribute in the simulator's admin view (test setup only; diagnose itself
    /// reads through the API).
    fn attr(&self, kind: &str, id: &str, key: &str) -> String {
        let state = self.sim.state();
        let r = state
            .find(kind, id)
            .unwrap_or_else(|| panic!("no {kind} {id}"));
        r.attributes[key].as_str().unwrap_or_default().to_string()
    }

    async fn diagnose(&self) -> Diagnosis {
        self.engine.diagnose().await.expect("diagnose reads")
    }

    /// Diagnoses and checks that exactly the last hop is broken, and that it is `name` with
    /// `resource_id`; returns the diagnosis.
    async fn broken(&self, name: &str, resource_id: &str) -> Diagnosis {
        // The break is real: DataWorks' own test fails too.
        let spec = self.engine.spec();
        let c = dataworks::test_connectivity(
            self.b.as_ref(),
            &spec.dataworks.region,
            spec.dataworks.workspace_id,
            &self.step_id("dataworks.data_source"),
            &spec.dataworks.resource_group_id,
        )
        .await
        .unwrap();
        assert_ne!(c.state, "Connectable", "the break did not break the link");
        let d = self.diagnose().await;
        let text = d.to_text();
        assert_eq!(d.first_broken.as_deref(), Some(name), "{text}");
        let last = d.hops.last().unwrap();
        assert_eq!(last.name, name, "{text}");
        assert_eq!(last.status, HopStatus::Broken, "{text}");
        assert_eq!(last.resource_id, resource_id, "{text}");
        assert!(last.fix.as_ref().is_some_and(|f| !f.is_empty()), "{text}");
        assert!(
            !last.account.is_empty() && !last.region.is_empty(),
            "{text}"
        );
        assert!(
            d.hops[..d.hops.len() - 1]
                .iter()
                .all(|h| h.status == HopStatus::Ok),
            "{text}"
        );
        assert_eq!(d.exit_code(), 3);
        d
    }
}

/// The engine for `spec` against `sim`, as the CLI builds it: B with its keys, A through the
/// link's role, the plugin bound to A.
async fn engine(sim: &SimHandle, spec: LinkSpec, state: &Path) -> (Engine, Arc<dyn Caller>) {
    let b_info = sim.account("B").unwrap();
    let cloud = Cloud::new(CloudConfig::with_endpoint(Some(sim.endpoint()))).unwrap();
    let b = cloud.with_credentials(
        "B",
        Credentials::access_key(b_info.access_key_id, b_info.access_key_secret),
    );
    let Access::RoleArn { arn, .. } = &spec.source.access else {
        panic!("the example links use a role ARN")
    };
    let a: Arc<dyn Caller> =
        Arc::new(cloud.assume_role("A", &b, AssumeRoleSpec::new(arn.clone(), &spec.link_id())));
    let b: Arc<dyn Caller> = Arc::new(b);
    let runtime = PluginRuntime::with_options(RuntimeOptions {
        cache_dir: Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plugin-cache")),
        ..RuntimeOptions::default()
    })
    .unwrap();
    let plugin = runtime.load_file(&plugin_path()).await.unwrap();
    let ds = Arc::new(PluginDataSource::new(plugin, a.clone()));
    let engine = Engine::new(a, b.clone(), ds, spec, Some(state.to_path_buf()))
        .with_options(Options {
            poll_interval: Duration::from_millis(5),
            max_polls: 200,
            password: Some("sim-password".into()),
            progress: false,
        })
        .with_plugin_path(plugin_path());
    (engine, b)
}

fn names(d: &Diagnosis) -> Vec<&str> {
    d.hops.iter().map(|h| h.name.as_str()).collect()
}

/// The resource group's vSwitch CIDR, as the healthy diagnosis reports it.
fn rg_cidr(lab: &Lab) -> String {
    let vsw = lab
        .sim
        .state()
        .find("dataworks-network", &network_id(lab))
        .unwrap()
        .attributes["vswitch_id"]
        .as_str()
        .unwrap()
        .to_string();
    lab.attr("vswitch", &vsw, "cidr")
}

fn network_id(lab: &Lab) -> String {
    let state = lab.sim.state();
    state
        .of_type("dataworks-network")
        .next()
        .expect("the scenario has a resource-group network")
        .id
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_peering_link_passes_every_hop() {
    let lab = Lab::connected("seed-peering.toml").await;
    let d = lab.diagnose().await;
    assert!(d.is_ok(), "{}", d.to_text());
    assert_eq!(d.exit_code(), 0);
    assert_eq!(d.mode.as_deref(), Some("peering"));
    assert_eq!(
        names(&d),
        [
            "resource_group.network",
            "dataworks.route",
            "route.dataworks",
            "peering",
            "route.source",
            "whitelist",
            "instance"
        ]
    );
    let pcc = lab.step_id("peering.create");
    let hop = d.hops.iter().find(|h| h.name == "peering").unwrap();
    assert_eq!(hop.resource_id, pcc);
    assert_eq!(hop.account, "1862710497302214");
    assert_eq!(hop.region, "cn-hangzhou");
    // Diagnose only reads.
    assert_eq!(lab.engine.calls().write, lab.report.calls.write);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peering_route_in_b_deleted() {
    let lab = Lab::connected("seed-peering.toml").await;
    let entry = lab.step_id("route.dataworks");
    let table = lab.attr("route-entry", &entry, "route_table_id");
    lab.delete("route-entry", &entry);
    let d = lab.broken("route.dataworks", &table).await;
    let hop = d.hops.last().unwrap();
    assert_ne!(hop.account, "1862710497302214", "the route is in account B");
    assert_eq!(hop.region, "cn-shanghai");
    assert!(
        hop.fix.as_ref().unwrap().contains("dwlink-host run")
            && hop.fix.as_ref().unwrap().contains("route.dataworks"),
        "{hop:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peering_route_in_a_deleted() {
    let lab = Lab::connected("seed-peering.toml").await;
    let entry = lab.step_id("route.source");
    let table = lab.attr("route-entry", &entry, "route_table_id");
    lab.delete("route-entry", &entry);
    let d = lab.broken("route.source", &table).await;
    let hop = d.hops.last().unwrap();
    assert_eq!(hop.account, "1862710497302214");
    assert_eq!(hop.region, "cn-hangzhou");
    assert!(hop.message.contains(&rg_cidr(&lab)), "{hop:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peering_route_entry_not_available() {
    let lab = Lab::connected("seed-peering.toml").await;
    let entry = lab.step_id("route.source");
    lab.set_status("route-entry", &entry, "Pending");
    let d = lab.broken("route.source", &entry).await;
    assert!(d.hops.last().unwrap().message.contains("Pending"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dataworks_route_deleted() {
    let lab = Lab::connected("seed-peering.toml").await;
    let route = lab.step_id("dataworks.route");
    lab.delete("dataworks-route", &route);
    let rg = lab.engine.spec().dataworks.resource_group_id.clone();
    let d = lab.broken("dataworks.route", &rg).await;
    assert!(
        d.hops.last().unwrap().message.contains("192.168.6.0/24"),
        "names the data source's vSwitch CIDR: {}",
        d.to_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_group_network_not_running() {
    let lab = Lab::connected("seed-peering.toml").await;
    lab.set_status("dataworks-network", &network_id(&lab), "Deleting");
    let rg = lab.engine.spec().dataworks.resource_group_id.clone();
    let d = lab.broken("resource_group.network", &rg).await;
    assert_eq!(d.hops.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whitelist_entry_removed() {
    let lab = Lab::connected("seed-peering.toml").await;
    let cidr = rg_cidr(&lab);
    lab.tamper(Tamper::RemoveWhitelistEntry {
        instance: INSTANCE.into(),
        group: "dataworks".into(),
        entry: cidr.clone(),
    });
    let d = lab.broken("whitelist", INSTANCE).await;
    let hop = d.hops.last().unwrap();
    assert!(hop.message.contains(&cidr), "{hop:?}");
    assert!(
        hop.fix.as_ref().unwrap().contains("whitelist.add"),
        "{hop:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peering_deleted() {
    let lab = Lab::connected("seed-peering.toml").await;
    let pcc = lab.step_id("peering.create");
    lab.delete("vpc-peer-connection", &pcc);
    let d = lab.broken("peering", &pcc).await;
    assert!(
        d.hops.last().unwrap().message.contains("does not exist"),
        "{}",
        d.to_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peering_not_activated() {
    let lab = Lab::connected("seed-peering.toml").await;
    let pcc = lab.step_id("peering.create");
    lab.set_status("vpc-peer-connection", &pcc, "Accepting");
    let d = lab.broken("peering", &pcc).await;
    let hop = d.hops.last().unwrap();
    assert!(hop.message.contains("Accepting"), "{hop:?}");
    assert!(
        hop.fix.as_ref().unwrap().contains("peering.accept"),
        "{hop:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_stopped() {
    let lab = Lab::connected("seed-peering.toml").await;
    lab.set_status("rds-instance", INSTANCE, "Stopped");
    let d = lab.broken("instance", INSTANCE).await;
    assert!(d.hops.last().unwrap().message.contains("Stopped"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_cen_link_passes_every_hop() {
    let lab = Lab::connected("seed-cen.toml").await;
    let d = lab.diagnose().await;
    assert!(d.is_ok(), "{}", d.to_text());
    assert_eq!(d.mode.as_deref(), Some("cen"));
    assert_eq!(
        names(&d),
        [
            "resource_group.network",
            "dataworks.route",
            "route.dataworks",
            "cen.attach.dataworks",
            "cen.attach.source",
            "cen.peer",
            "cen.route_table.dataworks",
            "cen.route_table.source",
            "route.source",
            "whitelist",
            "instance"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cen_inter_region_connection_deleted() {
    let lab = Lab::connected("seed-cen.toml").await;
    let peer = lab.step_id("cen.peer");
    let cen_id = lab.step_id("cen.create");
    lab.delete("transit-router-peer-attachment", &peer);
    let d = lab.broken("cen.peer", &cen_id).await;
    assert!(
        d.hops
            .last()
            .unwrap()
            .fix
            .as_ref()
            .unwrap()
            .contains("cen.peer"),
        "{}",
        d.to_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cen_source_attachment_detaching() {
    let lab = Lab::connected("seed-cen.toml").await;
    let att = lab.step_id("cen.attach.source");
    lab.set_status("transit-router-vpc-attachment", &att, "Detaching");
    let d = lab.broken("cen.attach.source", &att).await;
    assert!(d.hops.last().unwrap().message.contains("Detaching"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cen_route_propagation_disabled() {
    let lab = Lab::connected("seed-cen.toml").await;
    let att = lab.step_id("cen.attach.source");
    let tr = lab.step_id("cen.tr.source");
    let state = lab.sim.state();
    let table = state
        .of_type("transit-router-route-table")
        .find(|t| t.attributes["transit_router_id"] == tr.as_str())
        .expect("the source transit router has a route table")
        .id
        .clone();
    // Behind dwlink's back (the simulator has no DisableTransitRouterRouteTablePropagation
    // yet, and its tamper endpoint does not reach transit-router route tables): drop the
    // propagation of A's attachment from the source transit router's table.
    let removed = lab.sim.with_world(|w| {
        let (_, _, router) = w.transit_router_mut(&tr).expect("transit router");
        let t = router
            .route_tables
            .iter_mut()
            .find(|t| t.id == table)
            .expect("route table");
        let before = t.propagations.len();
        t.propagations.retain(|p| p.attachment_id != att);
        before - t.propagations.len()
    });
    assert_eq!(removed, 1);
    let d = lab.broken("cen.route_table.source", &table).await;
    let hop = d.hops.last().unwrap();
    assert!(hop.message.contains(&att), "{hop:?}");
    assert!(
        hop.fix.as_ref().unwrap().contains("cen.prop.source"),
        "{hop:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cen_route_in_b_deleted() {
    let lab = Lab::connected("seed-cen.toml").await;
    let entry = lab.step_id("route.dataworks");
    let table = lab.attr("route-entry", &entry, "route_table_id");
    lab.delete("route-entry", &entry);
    lab.broken("route.dataworks", &table).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_attaches_the_diagnosis_when_the_test_fails() {
    // dwlink does not manage the whitelist here, and the seed whitelist does not admit the
    // resource group: the link is applied but DataWorks cannot connect.
    let lab = Lab::new("seed-peering.toml", |t| {
        t.replace("[whitelist]", "[whitelist]\nenabled = false")
    })
    .await;
    let r = &lab.report;
    assert_eq!(r.status, Status::NotConnected, "{}", r.to_text());
    assert_eq!(r.exit_code(), 3);
    let d = r.diagnosis.as_ref().unwrap().as_ref().unwrap();
    assert_eq!(
        d.first_broken.as_deref(),
        Some("whitelist"),
        "{}",
        r.to_text()
    );
    assert!(r.to_text().contains("first broken hop: whitelist"));
    let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(v["diagnosis"]["first_broken"], "whitelist");
    assert_eq!(v["diagnosis"]["hops"][5]["resource_id"], INSTANCE);
    assert!(
        v["diagnosis"]["hops"][5]["fix"]
            .as_str()
            .unwrap()
            .contains("enabled = false")
    );
}

/// `dwlink-host diagnose` on a link built in this process: exit 0 when healthy, 3 with the
/// JSON diagnosis when a hop is broken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_diagnose_command_exits_0_or_3() {
    let lab = Lab::connected("seed-peering.toml").await;
    let b = lab.sim.account("B").unwrap();
    let home = tempfile::tempdir().unwrap();
    let endpoint = lab.sim.endpoint();
    let cli = move |output: &'static str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_dwlink-host"))
            .args(["diagnose"])
            .arg(plugin_path())
            .arg("--link")
            .arg(link_path("seed-peering.toml"))
            .args(["--endpoint", &endpoint, "--output", output])
            .env_clear()
            .env("HOME", home.path())
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", &b.access_key_id)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &b.access_key_secret)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let cli = Arc::new(cli);
    let run = |output| {
        let cli = cli.clone();
        tokio::task::spawn_blocking(move || cli(output))
    };

    let (code, stdout, stderr) = run("text").await.unwrap();
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("every hop is ok"), "{stdout}");

    let entry = lab.step_id("route.source");
    lab.delete("route-entry", &entry);
    let (code, stdout, stderr) = run("json").await.unwrap();
    assert_eq!(code, 3, "{stdout}{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["status"], "broken");
    assert_eq!(v["diagnosis"]["first_broken"], "route.source");
    assert_eq!(v["calls"]["write"], 0);
    let (code, stdout, _) = run("text").await.unwrap();
    assert_eq!(code, 3);
    assert!(
        stdout.contains("first broken hop: route.source"),
        "{stdout}"
    );
    println!("{stdout}");
}
