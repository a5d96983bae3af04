//! Issue 12, the hostile-plugin suite: a third party's plugin is untrusted code; the host
//! decides what it may touch, and proves it here against the simulator's state and request
//! log, not against what the plugin reports.
//!
//! Each test starts the simulator in process with the seed scenario, the seed RDS instance
//! renamed to an id naming one attack of `tests/fixtures/hostile-cloud` (`rm-bp1atk<name>`),
//! runs the real `dwlink-host` binary with a copy of `examples/links/seed-peering.toml` for
//! that id, and checks: the exit code; that the error names the plugin, the action and the
//! refusal code; that the attacked resources are byte-for-byte as they were; and that the
//! simulator never received the refused call.

mod common;

use common::{cache_dir, fixture};
use dwlink_sim::{RequestRecord, Scenario, SimConfig, SimHandle, Simulator, StateView, Timing};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

const SEED_ID: &str = "rm-bp1simmysqlsource001";
const POLARDB_CLUSTER: &str = "pc-bp1simpolardbsrc0001";
const MONGODB_INSTANCE: &str = "dds-bp1simmongosrc00001";
/// `gate::MAX_CALLS`: cloud calls one plugin call may make.
const MAX_CALLS: usize = 100;

fn example(path: &str) -> String {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(path);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// One simulator whose RDS instance is named for `attack`, the link file for it, and the
/// binary's state and home directories.
struct Bench {
    sim: SimHandle,
    dir: tempfile::TempDir,
    id: String,
}

/// What one command did.
struct Out {
    code: i32,
    /// stdout and stderr together: the error may be in the JSON report or on stderr.
    text: String,
}

impl Bench {
    /// `attack` empty: the seed's own id, which names no attack.
    async fn start(attack: &str) -> Bench {
        let id = if attack.is_empty() {
            SEED_ID.to_string()
        } else {
            format!("rm-bp1atk{attack}")
        };
        let scenario = example("scenarios/seed.toml").replace(SEED_ID, &id);
        let sim = Simulator::start(SimConfig {
            scenario: Scenario::parse(&scenario, "hostile seed").expect("scenario"),
            timing: Timing::Immediate,
            ..SimConfig::default()
        })
        .await
        .expect("simulator");
        let dir = tempfile::tempdir().unwrap();
        // Fast pacing: the flood attack makes a hundred reads.
        let link = example("links/seed-peering.toml").replace(SEED_ID, &id)
            + "\n[rate_limits]\nreads_per_second = 1000\nwrites_per_second = 1000\n";
        std::fs::write(dir.path().join("link.toml"), link).unwrap();
        for d in ["state", "home"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
        }
        Bench { sim, dir, id }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `dwlink-host CMD FIXTURE --link FILE --output json [extra]`, to the end, on a blocking
    /// thread (the simulator serves from this process's runtime).
    async fn dwlink(&self, cmd: &str, fixture_name: &str, extra: &[&str]) -> Out {
        let b = self.sim.account("B").expect("account B");
        let plugin = fixture(fixture_name);
        let mut command = Command::new(env!("CARGO_BIN_EXE_dwlink-host"));
        command
            .arg(cmd)
            .arg(&plugin)
            .arg("--link")
            .arg(self.path("link.toml"))
            .args(["--output", "json", "--endpoint", &self.sim.endpoint()])
            .args(["--poll-interval", "20ms"])
            .args(extra)
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", &b.access_key_id)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &b.access_key_secret)
            .env("DWLINK_DB_PASSWORD", "sim-password")
            .env("DWLINK_STATE_DIR", self.path("state"))
            .env("DWLINK_CACHE_DIR", cache_dir())
            .env("HOME", self.path("home"))
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("DWLINK_PLUGIN_POLICY")
            .env_remove("ALIBABA_CLOUD_PROFILE")
            .env_remove("ALIBABA_CLOUD_SECURITY_TOKEN")
            .env_remove("DWLINK_ENDPOINT")
            .env_remove("RUST_LOG");
        let out = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains("panicked"), "{cmd}: {text}");
        Out {
            code: out.status.code().unwrap_or(-1),
            text,
        }
    }

    fn world(&self) -> World {
        World::of(&self.sim.state())
    }

    fn requests(&self) -> Vec<RequestRecord> {
        self.sim.requests()
    }

    /// The connection properties of every DataWorks data source, as the simulator stores them
    /// (the admin view hides them: they hold the password).
    fn data_source_properties(&self) -> Vec<serde_json::Value> {
        self.sim.with_world(|w| {
            w.regions
                .values()
                .flat_map(|r| r.dataworks.data_sources.values())
                .map(|d| d.properties.clone())
                .collect()
        })
    }
}

/// The simulator's resources (kind, id) that are not gone, and every whitelist group, keyed
/// `instance/group`, with its entries and attribute exactly as stored.
#[derive(Debug, Clone, PartialEq)]
struct World {
    resources: BTreeSet<(String, String)>,
    whitelists: BTreeMap<String, serde_json::Value>,
}

impl World {
    fn of(view: &StateView) -> World {
        World {
            resources: view
                .resources
                .iter()
                .filter(|r| {
                    r.kind != "whitelist-group"
                        && !matches!(r.status.as_str(), "Deleted" | "Deleting" | "Released")
                })
                .map(|r| (r.kind.clone(), r.id.clone()))
                .collect(),
            whitelists: view
                .of_type("whitelist-group")
                .map(|g| {
                    (
                        g.id.clone(),
                        serde_json::json!({
                            "entries": g.attributes["entries"],
                            "attribute": g.attributes["attribute"],
                        }),
                    )
                })
                .collect(),
        }
    }

    /// The groups of one instance.
    fn groups_of(&self, instance: &str) -> BTreeMap<String, serde_json::Value> {
        self.whitelists
            .iter()
            .filter(|(k, _)| k.split_once('/').is_some_and(|(i, _)| i == instance))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Every entry open to the whole internet.
    fn open_entries(&self) -> Vec<String> {
        self.whitelists
            .iter()
            .flat_map(|(k, v)| {
                v["entries"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.as_str())
                    .filter(|e| e.starts_with("0.0.0.0"))
                    .map(move |e| format!("{k}: {e}"))
            })
            .collect()
    }
}

/// The exit code, and an error naming the plugin, the action and the refusal code.
fn refused(out: &Out, code: i32, plugin: &str, action: &str, refusal: &str) {
    assert_eq!(out.code, code, "{}", out.text);
    for want in [
        format!("plugin {plugin}"),
        action.to_string(),
        refusal.to_string(),
    ] {
        assert!(
            out.text.contains(&want),
            "the error should say {want:?}:\n{}",
            out.text
        );
    }
}

/// A plugin refused when it is loaded: exit 2, the error names the file and the capability.
fn refused_at_load(out: &Out, fixture_name: &str, field: &str) {
    assert_eq!(out.code, 2, "{}", out.text);
    for want in [format!("{fixture_name}.wasm"), field.to_string()] {
        assert!(
            out.text.contains(&want),
            "the error should say {want:?}:\n{}",
            out.text
        );
    }
}

/// Requests the simulator received for `product:action` (product code case-insensitive).
fn received<'r>(
    requests: &'r [RequestRecord],
    product: &'r str,
    action: &'r str,
) -> impl Iterator<Item = &'r RequestRecord> + 'r {
    requests
        .iter()
        .filter(move |r| r.product.eq_ignore_ascii_case(product) && r.action == action)
}

fn never_received(requests: &[RequestRecord], product: &str, action: &str) {
    let got: Vec<_> = received(requests, product, action).collect();
    assert!(
        got.is_empty(),
        "the simulator received {product}:{action}, which the host should have refused: {got:#?}"
    );
}

/// The STS actions the simulator received from account A (the role the plugin acts as).
fn sts_as_a(requests: &[RequestRecord]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.product.eq_ignore_ascii_case("Sts") && r.account == "A")
        .map(|r| r.action.clone())
        .collect()
}

/// Requests of one product.
fn of_product<'r>(requests: &'r [RequestRecord], product: &str) -> Vec<&'r RequestRecord> {
    requests
        .iter()
        .filter(|r| r.product.eq_ignore_ascii_case(product))
        .collect()
}

/// The seed's other data sources, the link's instance and every whitelist are as they were,
/// and nothing is open to the internet.
fn contained(bench: &Bench, before: &World) {
    let now = bench.world();
    assert_eq!(now.open_entries(), Vec::<String>::new(), "open to all");
    for other in [POLARDB_CLUSTER, MONGODB_INSTANCE] {
        assert_eq!(
            now.groups_of(other),
            before.groups_of(other),
            "the whitelist of {other} changed"
        );
    }
    assert!(
        now.resources
            .contains(&("rds-instance".to_string(), bench.id.clone())),
        "the RDS instance {} is gone",
        bench.id
    );
    // The link's own groups, but for dwlink's.
    let mine = |w: &World| {
        let mut g = w.groups_of(&bench.id);
        g.remove(&format!("{}/dataworks", bench.id));
        g
    };
    assert_eq!(mine(&now), mine(before), "a group of {} changed", bench.id);
}

/// `destroy --yes` leaves the world exactly as it was before the first command.
async fn destroy_restores(bench: &Bench, fixture_name: &str, before: &World) {
    let out = bench.dwlink("destroy", fixture_name, &["--yes"]).await;
    assert_eq!(out.code, 0, "destroy: {}", out.text);
    assert_eq!(&bench.world(), before, "destroy did not restore the world");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fixture_without_an_attack_connects_and_destroys_cleanly() {
    let bench = Bench::start("").await;
    let before = bench.world();
    let out = bench.dwlink("run", "hostile-cloud", &["--yes"]).await;
    assert_eq!(out.code, 0, "{}", out.text);
    assert!(
        out.text.contains("\"status\": \"connected\""),
        "{}",
        out.text
    );
    let built = bench.world();
    assert_eq!(
        built.groups_of(SEED_ID)[&format!("{SEED_ID}/dataworks")]["entries"],
        serde_json::json!(["172.16.66.0/24"])
    );
    contained(&bench, &before);
    assert_eq!(bench.data_source_properties().len(), 1);
    // The host's one identity check in account A: the anchor of the STS assertions below.
    assert_eq!(sts_as_a(&bench.requests()), ["GetCallerIdentity"]);
    destroy_restores(&bench, "hostile-cloud", &before).await;
    bench.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletedb_undeclared_is_refused_and_never_sent() {
    let bench = Bench::start("deletedb").await;
    let before = bench.world();
    for (cmd, extra) in [("plan", &[][..]), ("run", &["--yes"][..])] {
        let out = bench.dwlink(cmd, "hostile-cloud", extra).await;
        refused(
            &out,
            1,
            "hostile-cloud",
            "rds:DeleteDBInstance",
            "dwlink.UndeclaredAction",
        );
    }
    never_received(&bench.requests(), "Rds", "DeleteDBInstance");
    contained(&bench, &before);
    // discover failed before anything was built.
    assert_eq!(bench.world(), before);
    bench.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletedb_declared_as_a_read_is_refused_at_load() {
    let bench = Bench::start("deletedb").await;
    let before = bench.world();
    for (cmd, extra) in [("plan", &[][..]), ("run", &["--yes"][..])] {
        let out = bench.dwlink(cmd, "hostile-cloud-deletedb", extra).await;
        refused_at_load(
            &out,
            "hostile-cloud-deletedb",
            "capabilities[6] (Rds:DeleteDBInstance): access is read",
        );
    }
    // Refused before the first cloud call.
    assert_eq!(bench.requests(), Vec::<RequestRecord>::new());
    assert_eq!(bench.world(), before);
    bench.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whitelist_write_from_discover_is_refused_in_every_command() {
    let bench = Bench::start("readonlywrite").await;
    let before = bench.world();
    // `run` without --yes shows the plan first (and fails on it before asking).
    for (cmd, extra) in [
        ("plan", &[][..]),
        ("status", &[][..]),
        ("diagnose", &[][..]),
        ("run", &[][..]),
        ("run", &["--yes"][..]),
    ] {
        let out = bench.dwlink(cmd, "hostile-cloud", extra).await;
        refused(
            &out,
            1,
            "hostile-cloud",
            "rds:ModifySecurityIps",
            "dwlink.OutOfScope",
        );
        assert!(out.text.contains("may only read"), "{cmd}: {}", out.text);
    }
    never_received(&bench.requests(), "Rds", "ModifySecurityIps");
    contained(&bench, &before);
    assert_eq!(bench.world(), before);
    bench.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_reads_is_cut_at_the_budget() {
    let bench = Bench::start("flood").await;
    let before = bench.world();
    let out = bench.dwlink("plan", "hostile-cloud", &[]).await;
    refused(
        &out,
        1,
        "hostile-cloud",
        "rds:DescribeDBInstanceAttribute",
        "dwlink.Budget",
    );
    let requests = bench.requests();
    let reads = received(&requests, "Rds", "DescribeDBInstanceAttribute").count();
    assert_eq!(reads, MAX_CALLS, "one discover may make {MAX_CALLS} calls");
    assert_eq!(bench.world(), before);
    bench.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_in_another_region_are_refused() {
    for (attack, says) in [
        ("region", "region cn-beijing is not the link's region"),
        (
            "regionparam",
            "RegionId cn-beijing is not the link's region",
        ),
    ] {
        let bench = Bench::start(attack).await;
        let before = bench.world();
        let out = bench.dwlink("plan", "hostile-cloud", &[]).await;
        refused(
            &out,
            1,
            "hostile-cloud",
            "rds:DescribeDBInstanceAttribute",
            "dwlink.OutOfScope",
        );
        assert!(out.text.contains(says), "{attack}: {}", out.text);
        // The refused read was the plugin's first call, and nothing follows a refusal.
        assert_eq!(
            of_product(&bench.requests(), "Rds"),
            Vec::<&RequestRecord>::new(),
            "{attack}"
        );
        assert_eq!(bench.world(), before);
        bench.sim.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_instances_whitelists_are_out_of_reach() {
    let bench = Bench::start("otherinstance").await;
    let before = bench.world();
    let out = bench.dwlink("run", "hostile-cloud", &["--yes"]).await;
    refused(
        &out,
        1,
        "hostile-cloud",
        "polardb:ModifyDBClusterAccessWhitelist",
        "dwlink.OutOfScope",
    );
    assert!(
        out.text.contains(&format!(
            "DBClusterId = {POLARDB_CLUSTER} is not the link's instance"
        )),
        "{}",
        out.text
    );
    let requests = bench.requests();
    assert_eq!(
        of_product(&requests, "polardb"),
        Vec::<&RequestRecord>::new()
    );
    assert_eq!(of_product(&requests, "Dds"), Vec::<&RequestRecord>::new());
    contained(&bench, &before);
    destroy_restores(&bench, "hostile-cloud", &before).await;
    bench.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_the_instance_to_all_is_refused() {
    let bench = Bench::start("opentoall").await;
    let before = bench.world();
    let out = bench.dwlink("run", "hostile-cloud", &["--yes"]).await;
    refused(
        &out,
        1,
        "hostile-cloud",
        "rds:ModifySecurityIps",
        "dwlink.OutOfScope",
    );
    assert!(out.text.contains("entry 0.0.0.0/0"), "{}", out.text);
    never_received(&bench.requests(), "Rds", "ModifySecurityIps");
    contained(&bench, &before);
    assert_eq!(
        bench.world().groups_of(&bench.id),
        before.groups_of(&bench.id)
    );
    destroy_restores(&bench, "hostile-cloud", &before).await;
    bench.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_group_of_the_instance_is_out_of_reach() {
    let bench = Bench::start("othergroup").await;
    let before = bench.world();
    let out = bench.dwlink("run", "hostile-cloud", &["--yes"]).await;
    refused(
        &out,
        1,
        "hostile-cloud",
        "rds:ModifySecurityIps",
        "dwlink.OutOfScope",
    );
    assert!(
        out.text
            .contains("DBInstanceIPArrayName = default is not dwlink's whitelist group dataworks"),
        "{}",
        out.text
    );
    never_received(&bench.requests(), "Rds", "ModifySecurityIps");
    contained(&bench, &before);
    destroy_restores(&bench, "hostile-cloud", &before).await;
    bench.sim.shutdown().await;
}

/// Whether a connection-properties key or value carries a credential.
fn credential_in(value: &serde_json::Value, keys: &[String], path: &str) -> Vec<String> {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| {
                let at = format!("{path}.{k}");
                let l = k.to_ascii_lowercase();
                let mut found = Vec::new();
                if ["accesskey", "secret", "token", "credential"]
                    .iter()
                    .any(|s| l.contains(s))
                {
                    found.push(format!("key {at}"));
                }
                found.extend(credential_in(v, keys, &at));
                found
            })
            .collect(),
        serde_json::Value::Array(items) => items
            .iter()
            .flat_map(|v| credential_in(v, keys, path))
            .collect(),
        serde_json::Value::String(s) => keys
            .iter()
            .filter(|k| s.contains(k.as_str()))
            .map(|_| format!("a credential at {path}"))
            .chain(s.contains("STS.").then(|| format!("an STS key at {path}")))
            .collect(),
        _ => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_calls_are_refused_and_no_credential_reaches_dataworks() {
    let bench = Bench::start("assumerole").await;
    let before = bench.world();
    let out = bench.dwlink("run", "hostile-cloud", &["--yes"]).await;
    refused(
        &out,
        1,
        "hostile-cloud",
        "sts:AssumeRole",
        "dwlink.OutOfScope",
    );
    assert!(
        out.text.contains("identity or credential product"),
        "{}",
        out.text
    );
    // The host assumes the role as account B, then checks once who it is in account A; any
    // other STS call as account A would be the plugin's.
    assert_eq!(sts_as_a(&bench.requests()), ["GetCallerIdentity"]);
    let secrets: Vec<String> = bench
        .sim
        .accounts()
        .into_iter()
        .flat_map(|a| [a.access_key_id, a.access_key_secret])
        .collect();
    // connection-properties failed, so no data source was registered at all.
    assert_eq!(
        bench.data_source_properties(),
        Vec::<serde_json::Value>::new()
    );
    for props in bench.data_source_properties() {
        let found = credential_in(&props, &secrets, "properties");
        assert!(found.is_empty(), "{found:?} in {props:#}");
    }
    contained(&bench, &before);
    destroy_restores(&bench, "hostile-cloud", &before).await;
    bench.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whitelist_writes_declared_with_smuggled_parameters_are_refused_at_load() {
    let bench = Bench::start("params").await;
    let before = bench.world();
    let run = bench
        .dwlink("run", "hostile-cloud-params", &["--yes"])
        .await;
    // The world first: what reached the simulator is the finding.
    contained(&bench, &before);
    never_received(&bench.requests(), "Dds", "ModifySecurityIps");
    never_received(&bench.requests(), "Rds", "ModifySecurityIps");
    refused_at_load(
        &run,
        "hostile-cloud-params",
        "capabilities[2] (Rds:ModifySecurityIps)",
    );
    let plan = bench.dwlink("plan", "hostile-cloud-params", &[]).await;
    refused_at_load(
        &plan,
        "hostile-cloud-params",
        "capabilities[2] (Rds:ModifySecurityIps)",
    );
    assert_eq!(bench.requests(), Vec::<RequestRecord>::new());
    assert_eq!(bench.world(), before);
    bench.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_call_disguised_as_another_product_is_refused_at_load() {
    let bench = Bench::start("disguise").await;
    let before = bench.world();
    let run = bench
        .dwlink("run", "hostile-cloud-disguise", &["--yes"])
        .await;
    let sts = sts_as_a(&bench.requests());
    assert!(
        sts.is_empty() || sts == ["GetCallerIdentity"],
        "a disguised STS call was sent: {sts:?}"
    );
    for props in bench.data_source_properties() {
        assert!(props.get("callerIdentity").is_none(), "{props:#}");
    }
    refused_at_load(
        &run,
        "hostile-cloud-disguise",
        "capabilities[6] (Rds:GetCallerIdentity)",
    );
    let plan = bench.dwlink("plan", "hostile-cloud-disguise", &[]).await;
    refused_at_load(
        &plan,
        "hostile-cloud-disguise",
        "capabilities[6] (Rds:GetCallerIdentity)",
    );
    assert_eq!(bench.requests(), Vec::<RequestRecord>::new());
    assert_eq!(bench.world(), before);
    bench.sim.shutdown().await;
}
