//! Issue 12, "plugins cannot harm the cloud accounts", against the in-process simulator on
//! loopback: the host decides what happens to the cloud and never trusts a plugin claim it can
//! check with its own reads. A lying plugin is the real RDS MySQL plugin wrapped by [`Liar`],
//! a test double of the engine's `DataSource` seam that changes one answer. Every check reads
//! the SIMULATOR's own state (its admin view), not what dwlink reports.
//!
//! Needs `target/plugins/rds-mysql.wasm` (`cargo xtask plugins` builds it).

use dwlink_host::cloud::{
    AssumeRoleSpec, BoxFuture, Call, Caller, Cloud, CloudConfig, Credentials, Rate,
};
use dwlink_host::engine::{DataSource, Engine, Options, PluginDataSource, Report, Status};
use dwlink_host::plugin::{
    ConnectionRequest, InstanceRef, Location, PluginInfo, PluginRuntime, RuntimeOptions,
    WhitelistGroup,
};
use dwlink_host::spec::{Access, LinkSpec};
use dwlink_sim::{SimConfig, SimHandle, Simulator, StateView, Tamper, Timing};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const INSTANCE: &str = "rm-bp1simmysqlsource001";
/// The RDS instance's vSwitch CIDR in the seed scenario.
const SOURCE_CIDR: &str = "192.168.6.0/24";
/// The resource group's vSwitch CIDR: what dwlink adds to the whitelist.
const RG_CIDR: &str = "172.16.66.0/24";

fn plugin_path() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/plugins/rds-mysql.wasm");
    assert!(
        path.exists(),
        "{} is missing: run `cargo xtask plugins` first (it builds the example plugins)",
        path.display()
    );
    path
}

fn link(edit: impl Fn(String) -> String) -> LinkSpec {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/links/seed-peering.toml");
    let text = edit(std::fs::read_to_string(&path).unwrap());
    LinkSpec::parse(&path, &text).unwrap()
}

/// What the lying plugin says differently from the real one.
#[derive(Clone, Default)]
struct Lies {
    /// `discover` reports this vSwitch CIDR.
    cidr: Option<&'static str>,
    /// `discover` reports this address for the first endpoint.
    address: Option<Ipv4Addr>,
    /// `connection-properties` merges these keys into the real answer.
    properties: Option<Value>,
    /// `whitelist-add` also appends `0.0.0.0/0` (through its own cloud call in account A), and
    /// `whitelist-list` hides it.
    open_to_all: bool,
}

/// The real plugin, with one answer changed (test double of the engine's `DataSource`).
struct Liar {
    inner: PluginDataSource,
    /// Account A's caller: the plugin's own cloud calls go through it.
    a: Arc<dyn Caller>,
    lies: Lies,
}

impl DataSource for Liar {
    fn info(&self) -> &PluginInfo {
        self.inner.info()
    }

    fn discover(&self, instance: InstanceRef) -> BoxFuture<'_, anyhow::Result<Location>> {
        Box::pin(async move {
            let mut l = self.inner.discover(instance).await?;
            if let Some(cidr) = self.lies.cidr {
                l.vswitch_cidr = cidr.parse().unwrap();
            }
            if let Some(address) = self.lies.address {
                l.endpoints[0].address = Some(address);
            }
            Ok(l)
        })
    }

    fn whitelist_list(
        &self,
        instance: InstanceRef,
    ) -> BoxFuture<'_, anyhow::Result<Vec<WhitelistGroup>>> {
        Box::pin(async move {
            let mut groups = self.inner.whitelist_list(instance).await?;
            if self.lies.open_to_all {
                for g in &mut groups {
                    g.entries.retain(|e| e != "0.0.0.0/0");
                }
            }
            Ok(groups)
        })
    }

    fn whitelist_add(
        &self,
        instance: InstanceRef,
        group: String,
        cidrs: Vec<String>,
    ) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            self.inner
                .whitelist_add(instance.clone(), group.clone(), cidrs)
                .await?;
            if self.lies.open_to_all {
                let call = Call::new("Rds", "2014-08-15", "ModifySecurityIps", &instance.region)
                    .params(
                        dwlink_acs::Params::new()
                            .set("DBInstanceId", &instance.id)
                            .set("DBInstanceIPArrayName", &group)
                            .set("ModifyMode", "Append")
                            .set("SecurityIps", "0.0.0.0/0"),
                    );
                self.a.call(call).await?;
            }
            Ok(())
        })
    }

    fn whitelist_remove(
        &self,
        instance: InstanceRef,
        group: String,
        cidrs: Vec<String>,
    ) -> BoxFuture<'_, anyhow::Result<()>> {
        self.inner.whitelist_remove(instance, group, cidrs)
    }

    fn connection_properties(
        &self,
        request: ConnectionRequest,
    ) -> BoxFuture<'_, anyhow::Result<String>> {
        Box::pin(async move {
            let text = self.inner.connection_properties(request).await?;
            let Some(Value::Object(extra)) = &self.lies.properties else {
                return Ok(text);
            };
            let mut props: serde_json::Map<String, Value> = serde_json::from_str(&text)?;
            props.extend(extra.clone());
            Ok(Value::Object(props).to_string())
        })
    }
}

/// A simulator, a state directory, and engines built as the CLI builds them.
struct Lab {
    sim: SimHandle,
    state: tempfile::TempDir,
    config: CloudConfig,
}

impl Lab {
    async fn new(timing: Timing) -> Lab {
        let sim = Simulator::start(SimConfig {
            timing,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let config = CloudConfig::with_endpoint(Some(sim.endpoint()));
        Lab {
            sim,
            state: tempfile::tempdir().unwrap(),
            config,
        }
    }

    /// The engine for `spec`: B with its keys, A through the link's role, the real plugin bound
    /// to A, wrapped by a [`Liar`] telling `lies`.
    async fn engine(&self, spec: LinkSpec, lies: Lies) -> Engine {
        let b_info = self.sim.account("B").unwrap();
        let cloud = Cloud::new(self.config.clone()).unwrap();
        let b = cloud.with_credentials(
            "B",
            Credentials::access_key(b_info.access_key_id, b_info.access_key_secret),
        );
        let Access::RoleArn { arn, .. } = &spec.source.access else {
            panic!("the example links use a role ARN")
        };
        let a: Arc<dyn Caller> =
            Arc::new(cloud.assume_role("A", &b, AssumeRoleSpec::new(arn.clone(), &spec.link_id())));
        let runtime = PluginRuntime::with_options(RuntimeOptions {
            cache_dir: Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plugin-cache")),
            ..RuntimeOptions::default()
        })
        .unwrap();
        let plugin = runtime.load_file(&plugin_path()).await.unwrap();
        let ds = Arc::new(Liar {
            inner: PluginDataSource::new(plugin, a.clone()),
            a: a.clone(),
            lies,
        });
        Engine::new(
            a,
            Arc::new(b),
            ds,
            spec,
            Some(self.state.path().to_path_buf()),
        )
        .with_options(Options {
            poll_interval: Duration::from_millis(5),
            max_polls: 200,
            password: Some("sim-password".into()),
            progress: false,
        })
        .with_accounting(cloud)
    }

    async fn run(&self, lies: Lies) -> Report {
        self.engine(link(|t| t), lies).await.run().await
    }

    fn view(&self) -> StateView {
        self.sim.state()
    }

    /// The entries of the instance's whitelist group, as the simulator holds them.
    fn group(&self, name: &str) -> Vec<String> {
        self.view()
            .find("whitelist-group", &format!("{INSTANCE}/{name}"))
            .map(|g| {
                g.attributes["entries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e.as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Everything in the world but lifecycles: (type, id) of each live resource, and each whitelist
/// group's entries.
fn inventory(view: &StateView) -> (BTreeSet<(String, String)>, BTreeMap<String, Value>) {
    let resources = view
        .resources
        .iter()
        .filter(|r| !matches!(r.status.as_str(), "Deleted" | "Detached"))
        .map(|r| (r.kind.clone(), r.id.clone()))
        .collect();
    let whitelists = view
        .of_type("whitelist-group")
        .map(|g| (g.id.clone(), g.attributes["entries"].clone()))
        .collect();
    (resources, whitelists)
}

fn count(view: &StateView, kind: &str) -> usize {
    view.of_type(kind)
        .filter(|r| !matches!(r.status.as_str(), "Deleted" | "Detached"))
        .count()
}

/// A refused run: failed (exit 1, not bad input), the plugin and `words` named in the result,
/// and the simulator's world exactly as it was.
fn refused_before_any_write(
    lab: &Lab,
    before: &(BTreeSet<(String, String)>, BTreeMap<String, Value>),
    report: &Report,
    words: &[&str],
) {
    assert_eq!(report.status, Status::Failed, "{}", report.to_text());
    assert_eq!(report.exit_code(), 1, "{}", report.to_text());
    let error = report.error.as_deref().unwrap_or_default();
    assert!(error.contains("plugin rds-mysql"), "{error}");
    for w in words {
        assert!(error.contains(w), "{w} not named: {error}");
    }
    assert_eq!(report.calls.write, 0, "{}", report.to_text());
    assert_eq!(&inventory(&lab.view()), before, "the world changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_claiming_a_wide_vswitch_cidr_is_refused_before_any_write() {
    let lab = Lab::new(Timing::Immediate).await;
    let before = inventory(&lab.view());
    let (routes, dw_routes) = (
        count(&lab.view(), "route-entry"),
        count(&lab.view(), "dataworks-route"),
    );
    let report = lab
        .run(Lies {
            cidr: Some("0.0.0.0/1"),
            ..Lies::default()
        })
        .await;
    refused_before_any_write(
        &lab,
        &before,
        &report,
        &["CIDR of vSwitch", "0.0.0.0/1", SOURCE_CIDR],
    );
    let view = lab.view();
    assert_eq!(count(&view, "route-entry"), routes);
    assert_eq!(count(&view, "dataworks-route"), dw_routes);
    assert!(
        !view
            .of_type("route-entry")
            .any(|r| r.attributes.to_string().contains("0.0.0.0/1")),
        "a route to 0.0.0.0/1 exists"
    );
    // plan and status say the same and write nothing either.
    let engine = lab
        .engine(
            link(|t| t),
            Lies {
                cidr: Some("0.0.0.0/1"),
                ..Lies::default()
            },
        )
        .await;
    let plan = engine.plan_report().await;
    assert_eq!(plan.status, Status::Failed);
    assert!(plan.error.unwrap().contains("0.0.0.0/1"));
    assert_eq!(inventory(&lab.view()), before);
    lab.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_claiming_a_foreign_endpoint_address_is_refused() {
    let lab = Lab::new(Timing::Immediate).await;
    let before = inventory(&lab.view());
    let report = lab
        .run(Lies {
            address: Some("10.99.0.5".parse().unwrap()),
            ..Lies::default()
        })
        .await;
    refused_before_any_write(
        &lab,
        &before,
        &report,
        &["address of endpoint", "10.99.0.5", SOURCE_CIDR],
    );
    lab.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_properties_naming_another_instance_owner_role_or_address_are_refused() {
    let lab = Lab::new(Timing::Immediate).await;
    let before = inventory(&lab.view());
    for (lie, key) in [
        (
            json!({"instanceId": "rm-bp1someoneelses0001"}),
            "instanceId",
        ),
        (
            json!({"crossAccountOwnerId": "1539826603711058"}),
            "crossAccountOwnerId",
        ),
        (
            json!({"crossAccountRoleName": "AliyunDataWorksFullAccess"}),
            "crossAccountRoleName",
        ),
        (
            json!({"address": [{"host": "10.1.2.3", "port": 3306}]}),
            "address[0].host",
        ),
    ] {
        let report = lab
            .run(Lies {
                properties: Some(lie.clone()),
                ..Lies::default()
            })
            .await;
        refused_before_any_write(
            &lab,
            &before,
            &report,
            &[&format!("connection property {key}")],
        );
        assert_eq!(
            count(&lab.view(), "dataworks-data-source"),
            0,
            "{lie}: a data source was registered in B"
        );
    }
    lab.sim.shutdown().await;
}

/// The positive side of the same rule: an address of an endpoint the host verified (the
/// instance's real IP inside the vSwitch CIDR) is accepted, and the link connects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_of_a_verified_endpoint_is_accepted() {
    let lab = Lab::new(Timing::Immediate).await;
    let report = lab
        .run(Lies {
            address: Some("192.168.6.10".parse().unwrap()),
            properties: Some(json!({"address": [{"host": "192.168.6.10", "port": 3306}]})),
            ..Lies::default()
        })
        .await;
    assert_eq!(report.status, Status::Connected, "{}", report.to_text());
    assert_eq!(count(&lab.view(), "dataworks-data-source"), 1);
    lab.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_that_opens_the_whitelist_and_hides_it_is_caught_remembered_and_reported() {
    let lab = Lab::new(Timing::Immediate).await;
    let liar = Lies {
        open_to_all: true,
        ..Lies::default()
    };
    let first = lab.run(liar.clone()).await;
    assert_eq!(first.status, Status::Failed, "{}", first.to_text());
    assert_eq!(first.exit_code(), 1);
    let error = first.error.clone().unwrap_or_default();
    assert!(
        error.contains("0.0.0.0/0") && error.contains("plugin rds-mysql"),
        "{error}"
    );
    let step = first
        .steps
        .iter()
        .find(|s| s.name == "whitelist.add")
        .expect("the whitelist step");
    assert_eq!(step.status, "failed", "{}", first.to_text());
    // The host's read was right, the plugin's list lied: the simulator holds both entries.
    let dataworks = lab.group("dataworks");
    assert!(
        dataworks.contains(&"0.0.0.0/0".to_string()),
        "{dataworks:?}"
    );
    assert!(dataworks.contains(&RG_CIDR.to_string()), "{dataworks:?}");
    // The journal remembers it.
    let journal: String = std::fs::read_dir(lab.state.path())
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert!(
        journal.contains("open_to_all") && journal.contains("0.0.0.0/0"),
        "{journal}"
    );

    // A second run, even with an honest plugin, re-reads the whitelist and does not report
    // connected while the foreign entry is there; status neither.
    let second = lab.run(Lies::default()).await;
    assert_ne!(second.status, Status::Connected, "{}", second.to_text());
    assert_eq!(second.exit_code(), 1);
    assert!(
        second
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("0.0.0.0/0"),
        "{}",
        second.to_text()
    );
    let engine = lab.engine(link(|t| t), Lies::default()).await;
    let plan = engine.plan_report().await;
    assert_eq!(plan.exit_code(), 1, "{}", plan.to_text());
    assert!(
        plan.error
            .as_deref()
            .unwrap_or_default()
            .contains("0.0.0.0/0"),
        "{}",
        plan.to_text()
    );
    let status = engine.status_report().await;
    assert_eq!(status.status, Status::NotConnected, "{}", status.to_text());
    assert_ne!(status.exit_code(), 0);
    assert!(
        status
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("0.0.0.0/0"),
        "{}",
        status.to_text()
    );

    // Destroy removes dwlink's entry and everything it built, and reports (exit 1) the entry
    // it could not undo.
    let destroyed = engine.destroy().await;
    assert_eq!(destroyed.status, Status::Failed, "{}", destroyed.to_text());
    assert_eq!(destroyed.exit_code(), 1);
    let left = destroyed
        .steps
        .iter()
        .find(|s| s.status == "not_undone")
        .unwrap_or_else(|| panic!("nothing listed as not undone: {}", destroyed.to_text()));
    assert!(
        left.error
            .as_deref()
            .unwrap_or_default()
            .contains("0.0.0.0/0"),
        "{left:?}"
    );
    assert_eq!(lab.group("dataworks"), ["0.0.0.0/0"]);
    let view = lab.view();
    assert_eq!(count(&view, "vpc-peer-connection"), 0);
    assert_eq!(count(&view, "dataworks-data-source"), 0);

    // Once the entry is gone (the user removed it), destroy completes.
    lab.sim
        .tamper(&Tamper::RemoveWhitelistEntry {
            instance: INSTANCE.into(),
            group: "dataworks".into(),
            entry: "0.0.0.0/0".into(),
        })
        .unwrap();
    let again = engine.destroy().await;
    assert_eq!(again.status, Status::Destroyed, "{}", again.to_text());
    lab.sim.shutdown().await;
}

/// A whitelist change puts the instance in a transient status for 40 status reads (more than
/// a plugin's count-bounded wait); reads are paced at 20 per second. The engine waits for the
/// instance itself, on its own clock, and the step succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_waits_for_the_instance_after_a_whitelist_change() {
    let mut lab = Lab::new(Timing::Immediate).await;
    lab.config.rate_limits.read = Rate {
        per_second: 20.0,
        burst: 20,
    };
    // The network first, without the whitelist.
    let no_whitelist = |t: String| t.replace("[whitelist]", "[whitelist]\nenabled = false");
    let first = lab
        .engine(link(no_whitelist), Lies::default())
        .await
        .run()
        .await;
    assert_eq!(first.status, Status::NotConnected, "{}", first.to_text());
    // From now on every status change completes after 40 reads of the resource.
    lab.sim.with_world(|w| w.pacer.timing = Timing::Polls(40));
    let report = lab.run(Lies::default()).await;
    assert_eq!(report.status, Status::Connected, "{}", report.to_text());
    let step = report
        .steps
        .iter()
        .find(|s| s.name == "whitelist.add")
        .expect("the whitelist step");
    assert_eq!(step.status, "done");
    assert!(lab.group("dataworks").contains(&RG_CIDR.to_string()));
    // The instance is Running again: it was read 40 times after the change, more than any
    // plugin's count-bounded wait does; the host waited.
    let view = lab.view();
    let instance = view.find("rds-instance", INSTANCE).unwrap();
    assert_eq!(instance.status, "Running");
    let requests = lab.sim.requests();
    let change = requests
        .iter()
        .position(|r| r.action == "ModifySecurityIps")
        .expect("the whitelist change was sent");
    let reads = requests[change..]
        .iter()
        .filter(|r| {
            r.product.eq_ignore_ascii_case("rds") && r.action == "DescribeDBInstanceAttribute"
        })
        .count();
    eprintln!("status reads after the change: {reads}");
    assert!(reads > 40, "{reads} status reads after the change");
    lab.sim.shutdown().await;
}
