//! `dwlink-host plugin test`: runs a data-source plugin against the embedded simulator and
//! reports pass/fail per check ([`CheckId`]). Plugin authors run it in their own CI.
//!
//! The plugin runs exactly as `dwlink-host run` runs it: in the sandbox, its cloud calls going
//! through the host's cloud client (signing, retries) to a simulator started from the
//! scenario. Every whitelist change is bracketed by the host's whitelist guard, and the
//! simulator's own state is read back, so a plugin cannot pass by reporting what it did not do.

mod report;
mod target;

pub use report::{Check, CheckId, InstanceSummary, PluginSummary, Report, Status};
pub use target::{Product, Target};

use crate::cloud::{
    AccountClient, BoxFuture, Call, Caller, Cloud, CloudConfig, CloudError, Credentials, Rate,
    RateLimits, RetryPolicy,
};
use crate::engine::guard::{self, Change, FailedChange};
use crate::plugin::{ConnectionRequest, Endpoint, Location, Plugin, PluginError, WhitelistGroup};
use dwlink_sim::{FaultSettings, Scenario, SimConfig, SimHandle, Simulator, Timing};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Bad input (exit 2): a scenario or instance `plugin test` cannot use. Says what to fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// The whitelist group `run` writes to by default; the test uses a fresh name per run (see
/// [`Names`]) so a plugin cannot recognise it.
pub const GROUP: &str = "dataworks";
/// How many times the host re-reads the instance after a change before giving up.
const WAIT_POLLS: u32 = 500;

/// What one test run writes and asks for, fresh each run so a plugin cannot recognise a
/// test: the whitelist group, the entries it adds (the first two the instance does not hold
/// yet), the database and user names, and the suffix of the renamed instance.
struct Names {
    group: String,
    candidates: Vec<String>,
    database: String,
    username: String,
    instance_suffix: String,
}

impl Names {
    fn fresh() -> Names {
        use rand::Rng;
        let mut rng = rand::rng();
        let mut word = |n: usize| -> String {
            (0..n)
                .map(|_| {
                    let c = rng.random_range(0..36u8);
                    (if c < 10 { b'0' + c } else { b'a' + c - 10 }) as char
                })
                .collect()
        };
        let group = format!("dw{}", word(6));
        let database = format!("db_{}", word(8));
        let username = format!("u{}", word(8));
        let instance_suffix = format!("bp1{}", word(17));
        let mut candidates = Vec::new();
        let mut rng = rand::rng();
        while candidates.len() < 6 {
            let c = if candidates.len() % 2 == 0 {
                format!(
                    "172.{}.{}.0/24",
                    rng.random_range(17..31u8),
                    rng.random_range(0..=255u8)
                )
            } else {
                format!(
                    "10.{}.{}.0/24",
                    rng.random_range(200..=254u8),
                    rng.random_range(0..=255u8)
                )
            };
            if !candidates.contains(&c) {
                candidates.push(c);
            }
        }
        Names {
            group,
            candidates,
            database,
            username,
            instance_suffix,
        }
    }
}

/// The default faults of the throttling check's simulator.
pub const DEFAULT_FAULTS: &str = "throttle=0.3,seed=7";

/// The DataWorks environment the test asks for (and expects back unchanged).
const ENV_TYPE: &str = "Prod";

/// How to run the test.
#[derive(Debug, Clone)]
pub struct Options {
    /// `None`: the embedded `examples/scenarios/seed.toml`.
    pub scenario: Option<std::path::PathBuf>,
    /// The instance id; `None` picks one of the plugin's product (see [`Target::select`]).
    pub instance: Option<String>,
    /// Faults of the second simulator, e.g. [`DEFAULT_FAULTS`].
    pub faults: String,
}

/// Loads the scenario (`None`: the embedded seed) and says where it came from.
pub fn load_scenario(path: Option<&Path>) -> Result<(Scenario, String), InputError> {
    let Some(path) = path else {
        return Ok((
            Scenario::default_seed(),
            "examples/scenarios/seed.toml (embedded)".into(),
        ));
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        InputError(format!(
            "--scenario {}: cannot read the scenario file: {e}",
            path.display()
        ))
    })?;
    let source = path.display().to_string();
    let invalid = |message: &str| {
        InputError(format!(
            "--scenario {source}: {}; see examples/scenarios/seed.toml for the format",
            one_line(message)
        ))
    };
    let scenario = Scenario::parse(&text, &source).map_err(|e| invalid(&e.message))?;
    // Build once to check references, CIDRs and zones before anything starts.
    scenario
        .build(dwlink_sim::Pacer::default(), 0)
        .map_err(|e| invalid(&e.message))?;
    Ok((scenario, source))
}

/// A multi-line message (a TOML parse error with its source excerpt) as one line, without
/// the excerpt.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains('|'))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Runs every check and returns the report; `Err` only for bad input ([`InputError`]) or when
/// the simulator cannot start.
pub async fn run(plugin: &Plugin, file: &Path, options: &Options) -> anyhow::Result<Report> {
    let started = Instant::now();
    let faults = FaultSettings::parse(&options.faults)
        .map_err(|e| InputError(format!("--faults {:?}: {e}", options.faults)))?;
    let (scenario, source) = load_scenario(options.scenario.as_deref())?;
    let info = plugin.info();
    let target = Target::select(&scenario, &source, info, options.instance.as_deref())?;
    let names = Names::fresh();
    let (scenario, target) = target.disguise(&scenario, &names.instance_suffix);

    let calls = Arc::new(Mutex::new(CallLog::default()));
    let mut run = Run {
        plugin,
        target: &target,
        undeclared: Vec::new(),
        names,
    };
    let mut checks = Checks::new();

    let env = Env::start(&scenario, &target, FaultSettings::default(), calls.clone()).await?;
    let location = run.discovery(&env, checks.get(CheckId::Discovery)).await;
    run.whitelist(&env, &mut checks).await;
    run.connection_properties(&env, location, checks.get(CheckId::ConnectionProperties))
        .await;
    env.sim.shutdown().await;

    let throttled = Env::start(&scenario, &target, faults, calls.clone()).await?;
    run.throttling(&throttled, &options.faults, checks.get(CheckId::Throttling))
        .await;
    throttled.sim.shutdown().await;

    let log = calls.lock().unwrap_or_else(|e| e.into_inner()).clone();
    run.calls_declared(&log, checks.get(CheckId::CallsDeclared));
    if log.cover > 0 {
        checks.get(CheckId::RemoveKeepsOthers).fail(format!(
            "plugin {} sent ModifyMode=Cover {} time(s) ({}): Cover replaces every entry of the \
             group, including ones other people rely on; use Append and Delete",
            plugin.name(),
            log.cover,
            log.cover_actions
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }

    let checks = checks.0;
    Ok(Report {
        plugin: PluginSummary {
            name: info.name.clone(),
            version: info.version.clone(),
            file: file.display().to_string(),
            product: info.product.clone(),
            datasource_type: info.datasource_type.clone(),
        },
        scenario: source,
        instance: InstanceSummary {
            id: target.db.id.clone(),
            kind: target.noun().into(),
            account: target.account.name.clone(),
            region: target.db.region.clone(),
        },
        faults: options.faults.clone(),
        passed: checks.iter().all(|c| c.status == Status::Pass),
        checks,
        calls: log.seen,
        declared: info.actions.clone(),
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

/// The checks, in [`CheckId::ALL`] order.
struct Checks(Vec<Check>);

impl Checks {
    fn new() -> Checks {
        Checks(CheckId::ALL.iter().map(|id| Check::new(*id)).collect())
    }

    fn get(&mut self, id: CheckId) -> &mut Check {
        let i = CheckId::ALL.iter().position(|c| *c == id).unwrap_or(0);
        &mut self.0[i]
    }
}

/// What reached the cloud, across both simulators.
#[derive(Debug, Clone, Default)]
struct CallLog {
    /// `product:Action` (product lower case, as declared) -> count.
    seen: BTreeMap<String, u64>,
    /// Calls that carried `ModifyMode=Cover`.
    cover: u64,
    cover_actions: BTreeSet<String>,
}

/// The host's caller, recording each call the plugin makes through it.
struct Recorder {
    inner: AccountClient,
    log: Arc<Mutex<CallLog>>,
}

impl Caller for Recorder {
    fn call(&self, call: Call) -> BoxFuture<'_, Result<serde_json::Value, CloudError>> {
        let action = format!("{}:{}", call.product.to_ascii_lowercase(), call.action);
        {
            let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
            if call.params.get("ModifyMode") == Some("Cover") {
                log.cover += 1;
                log.cover_actions.insert(action.clone());
            }
            *log.seen.entry(action).or_default() += 1;
        }
        self.inner.call(call)
    }

    fn account(&self) -> &str {
        self.inner.account()
    }
}

/// One simulator and the host's cloud client pointed at it, acting in the instance's account.
struct Env {
    sim: SimHandle,
    cloud: Cloud,
    caller: Arc<dyn Caller>,
    account: String,
}

impl Env {
    async fn start(
        scenario: &Scenario,
        target: &Target,
        faults: FaultSettings,
        log: Arc<Mutex<CallLog>>,
    ) -> anyhow::Result<Env> {
        let sim = Simulator::start(SimConfig {
            scenario: scenario.clone(),
            faults,
            // Every change goes through an intermediate status for two reads, so the host's
            // wait after a change (a 0.1 plugin's own loop) runs, deterministically and without
            // wall-clock waits.
            timing: Timing::Polls(2),
            ..SimConfig::default()
        })
        .await?;
        let mut config = CloudConfig::with_endpoint(Some(sim.endpoint()));
        // The real retry rules, with waits fit for a local simulator rather than the cloud.
        config.retry = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            attempt_timeout: Duration::from_secs(10),
            call_deadline: Duration::from_secs(60),
        };
        // The simulator has no quotas; the client's own pacing would only slow the test.
        config.rate_limits = RateLimits {
            default: Rate {
                per_second: 10_000.0,
                burst: 10_000,
            },
            read: Rate {
                per_second: 10_000.0,
                burst: 10_000,
            },
            overrides: Default::default(),
        };
        let cloud = Cloud::new(config)?;
        let a = &target.account;
        let client = cloud.with_credentials(
            &a.name,
            Credentials::access_key(a.access_key_id.clone(), a.access_key_secret.clone()),
        );
        Ok(Env {
            sim,
            cloud,
            caller: Arc::new(Recorder { inner: client, log }),
            account: a.name.clone(),
        })
    }

    fn writes(&self) -> u64 {
        self.counts().writes
    }

    fn counts(&self) -> crate::cloud::CallCounts {
        self.cloud
            .call_counts()
            .get(&self.account)
            .copied()
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Remove,
}

impl Op {
    fn verb(self) -> &'static str {
        match self {
            Op::Add => "adding",
            Op::Remove => "removing",
        }
    }

    /// The plugin call, as the runtime's errors name it.
    fn call(self) -> &'static str {
        match self {
            Op::Add => "whitelist-add",
            Op::Remove => "whitelist-remove",
        }
    }
}

struct Run<'a> {
    plugin: &'a Plugin,
    target: &'a Target,
    /// Undeclared actions the runtime refused, as its messages.
    undeclared: Vec<String>,
    names: Names,
}

impl Run<'_> {
    fn noted(&mut self, e: PluginError) -> String {
        if matches!(
            e,
            PluginError::UndeclaredAction { .. }
                | PluginError::OutOfScope { .. }
                | PluginError::Budget { .. }
        ) {
            self.undeclared.push(e.to_string());
        }
        e.to_string()
    }

    fn world(&self, env: &Env) -> Vec<WhitelistGroup> {
        env.sim
            .with_world(|w| self.target.world_whitelist(w))
            .unwrap_or_default()
    }

    async fn list(&mut self, env: &Env) -> Result<Vec<WhitelistGroup>, String> {
        let instance = self.target.instance();
        match self
            .plugin
            .whitelist_list(env.caller.clone(), &instance)
            .await
        {
            Ok(groups) => Ok(groups),
            Err(e) => Err(self.noted(e)),
        }
    }

    /// One whitelist change between two reads, checked by the host's guard; answers the
    /// number of write calls it made. `Err` says what went wrong, without the step (callers
    /// add it).
    async fn change(&mut self, env: &Env, op: Op, entry: &str) -> Result<u64, String> {
        let instance = self.target.instance();
        let group = self.names.group.clone();
        let cidrs = vec![entry.to_string()];
        let before = self
            .list(env)
            .await
            .map_err(|e| format!("whitelist-list before the change: {e}"))?;
        let writes = env.writes();
        let caller = env.caller.clone();
        let result = match op {
            Op::Add => {
                self.plugin
                    .whitelist_add(caller, &instance, &group, &cidrs)
                    .await
            }
            Op::Remove => {
                self.plugin
                    .whitelist_remove(caller, &instance, &group, &cidrs)
                    .await
            }
        };
        let change = match op {
            Op::Add => Change::Add {
                group: &group,
                entries: &cidrs,
            },
            Op::Remove => Change::Remove {
                group: &group,
                entries: &cidrs,
            },
        };
        if let Err(e) = result {
            let error = self.noted(e);
            // The plugin may have broken the whitelist before it failed: look again.
            let Ok(after) = self.list(env).await else {
                return Err(error);
            };
            return match guard::check_after_failure(
                self.plugin.name(),
                &instance.id,
                &before,
                &after,
                change,
            ) {
                Ok(()) => Err(error),
                Err(v) => {
                    Err(FailedChange::new(self.plugin.name(), op.call(), v, &error).to_string())
                }
            };
        }
        // The host waits for the instance to settle, as `run` does; the plugin does not.
        if self.plugin.wit_version() != "0.1.0" {
            self.plugin
                .wait_until_running(
                    env.caller.clone(),
                    &instance,
                    Duration::from_millis(20),
                    WAIT_POLLS,
                )
                .await
                .map_err(|e| self.noted(e))?;
        }
        let writes = env.writes() - writes;
        let after = self
            .list(env)
            .await
            .map_err(|e| format!("whitelist-list after the change: {e}"))?;
        guard::check(self.plugin.name(), &instance.id, &before, &after, change)
            .map_err(|v| v.to_string())?;
        Ok(writes)
    }

    /// [`Run::change`] with the step named in the error, e.g. `adding X to group dataworks`.
    async fn step(&mut self, env: &Env, op: Op, entry: &str, context: &str) -> Result<u64, String> {
        let group = self.names.group.clone();
        self.change(env, op, entry).await.map_err(|e| {
            let to = if op == Op::Add { "to" } else { "from" };
            format!("{} {entry} {to} group {group}{context}: {e}", op.verb())
        })
    }

    /// Check 1: region, zone, VPC, vSwitch, CIDR and endpoints as the scenario has them.
    async fn discovery(&mut self, env: &Env, check: &mut Check) -> Option<Location> {
        let instance = self.target.instance();
        let location = match self.plugin.discover(env.caller.clone(), &instance).await {
            Ok(l) => l,
            Err(e) => {
                let e = self.noted(e);
                check.fail(e);
                return None;
            }
        };
        let db = &self.target.db;
        let mut same = |field: &str, got: &str, want: &str| {
            if got != want {
                check.fail(format!(
                    "{field}: plugin {} reported {got:?}, the scenario has {want:?}",
                    self.plugin.name()
                ));
            }
        };
        same("region", &location.region, &db.region);
        same("zone", &location.zone, &db.zone);
        same("vpc", &location.vpc_id, &db.vpc);
        same("vswitch", &location.vswitch_id, &db.vswitch);
        if let Some(cidr) = &self.target.vswitch_cidr {
            same("vswitch cidr", &location.vswitch_cidr.to_string(), cidr);
        }
        same(
            "running",
            &location.running.to_string(),
            &(db.status == "Running").to_string(),
        );
        let private: Vec<(&str, u16)> = db
            .endpoints
            .iter()
            .filter(|e| !e.kind.eq_ignore_ascii_case("Public"))
            .map(|e| (e.connection_string.as_str(), e.port))
            .collect();
        let show = |eps: &mut dyn Iterator<Item = (&str, u16)>| {
            eps.map(|(h, p)| format!("{h}:{p}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if location.endpoints.is_empty() {
            check.fail(format!(
                "endpoints: plugin {} reported none; the scenario has {}",
                self.plugin.name(),
                show(&mut private.iter().copied())
            ));
        }
        for Endpoint {
            host, port, role, ..
        } in &location.endpoints
        {
            if !private.contains(&(host.as_str(), *port)) {
                check.fail(format!(
                    "endpoint {host}:{port} ({role}): not a private endpoint of {} {} in the \
                     scenario, which has {}",
                    self.target.noun(),
                    db.id,
                    show(&mut private.iter().copied())
                ));
            }
        }
        if check.status == Status::Pass {
            check.note(format!(
                "{} / {} / {} ({}) / {}",
                location.zone,
                location.vpc_id,
                location.vswitch_id,
                location.vswitch_cidr,
                show(&mut location.endpoints.iter().map(|e| (e.host.as_str(), e.port)))
            ));
        }
        Some(location)
    }

    /// Checks 2, 3 and 4: add twice, add a second entry, remove both (the first twice).
    async fn whitelist(&mut self, env: &Env, checks: &mut Checks) {
        let group = self.names.group.clone();
        let candidates = self.names.candidates.clone();
        let name = self.plugin.name().to_string();
        let initial_world = self.world(env);
        let initial = match self.list(env).await {
            Ok(groups) => groups,
            Err(e) => {
                for id in [
                    CheckId::AddIdempotent,
                    CheckId::RemoveKeepsOthers,
                    CheckId::SecondRunWritesNothing,
                ] {
                    checks.get(id).fail(format!("whitelist-list: {e}"));
                }
                return;
            }
        };
        let mut free = candidates
            .iter()
            .map(String::as_str)
            .filter(|c| !holds_anywhere(&initial, c) && !holds_anywhere(&initial_world, c));
        let (Some(x), Some(y)) = (free.next(), free.next()) else {
            checks.get(CheckId::AddIdempotent).skip(format!(
                "not run: the instance's whitelist already holds every test entry ({})",
                candidates.join(", ")
            ));
            return;
        };

        // Check 2: the same add twice leaves exactly one entry.
        let first = self.step(env, Op::Add, x, "").await;
        if let Err(e) = &first {
            checks.get(CheckId::AddIdempotent).fail(e.clone());
        }
        let second = self.step(env, Op::Add, x, " a second time").await;
        if let Err(e) = &second {
            checks.get(CheckId::AddIdempotent).fail(e.clone());
        }
        // Check 4 needs a first add that worked: only then is the second one a repeat.
        match (&first, &second) {
            (Ok(_), Ok(0)) => checks
                .get(CheckId::SecondRunWritesNothing)
                .note(format!("second add of {x}: 0 write calls")),
            (Ok(_), Ok(n)) => checks.get(CheckId::SecondRunWritesNothing).fail(format!(
                "adding {x} again, already present in group {group}, made {n} write call(s); \
                 plugin {name} must read the group first and write only what is missing"
            )),
            _ => checks
                .get(CheckId::SecondRunWritesNothing)
                .skip("second add not judged: an add failed (see add-idempotent)"),
        }
        match self.list(env).await {
            Ok(groups) => {
                let n = count_in(&groups, &group, x);
                if n != 1 {
                    checks.get(CheckId::AddIdempotent).fail(format!(
                        "after adding {x} twice, whitelist-list of plugin {name} shows it {n} \
                         time(s) in group {group}; expected exactly once"
                    ));
                }
            }
            Err(e) => checks
                .get(CheckId::AddIdempotent)
                .fail(format!("whitelist-list: {e}")),
        }
        let world = self.world(env);
        let n = count_in(&world, &group, x);
        if n != 1 {
            checks.get(CheckId::AddIdempotent).fail(format!(
                "after adding {x} twice, the simulator holds it {n} time(s) in group {group} of \
                 {} {}; expected exactly once",
                self.target.noun(),
                self.target.db.id
            ));
        } else if checks.get(CheckId::AddIdempotent).status == Status::Pass {
            checks.get(CheckId::AddIdempotent).note(format!(
                "{x} is in group {group} exactly once (whitelist-list and simulator)"
            ));
        }
        if let Some(diff) = others_changed(&group, &initial_world, &world) {
            checks
                .get(CheckId::RemoveKeepsOthers)
                .fail(format!("after adding {x} to group {group}: {diff}"));
        }

        // Check 3: a second entry next to the first, then remove them one by one.
        let context = format!(", which already held {x}");
        if let Err(e) = self.step(env, Op::Add, y, &context).await {
            checks.get(CheckId::RemoveKeepsOthers).fail(e);
        }
        let context = format!(", which also held {y}");
        let removed = self.step(env, Op::Remove, x, &context).await;
        if let Err(e) = &removed {
            checks.get(CheckId::RemoveKeepsOthers).fail(e.clone());
        }
        let again = self.step(env, Op::Remove, x, " a second time").await;
        match (&removed, &again) {
            (_, Err(e)) => checks.get(CheckId::RemoveKeepsOthers).fail(e.clone()),
            (Ok(_), Ok(0)) => checks
                .get(CheckId::SecondRunWritesNothing)
                .note(format!("second remove of {x}: 0 write calls")),
            (Ok(_), Ok(n)) => checks.get(CheckId::SecondRunWritesNothing).fail(format!(
                "removing {x} again, no longer in group {group}, made {n} write call(s); plugin \
                 {name} must remove only entries that are present"
            )),
            (Err(_), Ok(_)) => {}
        }
        if removed.is_err() || again.is_err() {
            checks
                .get(CheckId::SecondRunWritesNothing)
                .skip("second remove not judged: a remove failed (see remove-keeps-others)");
        }
        if let Err(e) = self.step(env, Op::Remove, y, "").await {
            checks.get(CheckId::RemoveKeepsOthers).fail(e);
        }
        let end_world = self.world(env);
        if end_world != initial_world {
            checks.get(CheckId::RemoveKeepsOthers).fail(format!(
                "after adding and removing {x} and {y}, the simulator's whitelist of {} {} is \
                 not what it was: before {}, after {}",
                self.target.noun(),
                self.target.db.id,
                show_groups(&initial_world),
                show_groups(&end_world)
            ));
        }
        match self.list(env).await {
            Ok(end) if end != initial => checks.get(CheckId::RemoveKeepsOthers).fail(format!(
                "after adding and removing {x} and {y}, whitelist-list of plugin {name} differs: \
                 before {}, after {}",
                show_groups(&initial),
                show_groups(&end)
            )),
            Ok(_) => {
                if checks.get(CheckId::RemoveKeepsOthers).status == Status::Pass {
                    checks.get(CheckId::RemoveKeepsOthers).note(format!(
                        "every other group and entry byte-identical before and after: {}",
                        show_groups(&initial_world)
                    ));
                }
            }
            Err(e) => checks
                .get(CheckId::RemoveKeepsOthers)
                .fail(format!("whitelist-list: {e}")),
        }
    }

    /// Check 5: calls seen against `describe().actions`.
    fn calls_declared(&self, log: &CallLog, check: &mut Check) {
        let declared: BTreeSet<&str> = self
            .plugin
            .info()
            .actions
            .iter()
            .map(String::as_str)
            .collect();
        for message in &self.undeclared {
            check.fail(message.clone());
        }
        for action in log.seen.keys() {
            // The runtime refuses undeclared actions before they are sent; this would be a
            // host bug, but the check must not take it on trust.
            if !declared.contains(action.as_str()) {
                check.fail(format!(
                    "{action} reached the cloud but is not declared by plugin {}",
                    self.plugin.name()
                ));
            }
        }
        let unused: Vec<&str> = declared
            .iter()
            .copied()
            .filter(|a| !log.seen.contains_key(*a))
            .collect();
        if !unused.is_empty() {
            check.warn(format!(
                "declared but never called during the test: {} (declare only what the plugin \
                 calls)",
                unused.join(", ")
            ));
        }
        check.note(format!(
            "{} declared, {} called",
            declared.len(),
            log.seen.len()
        ));
    }

    /// Check 6: add (twice) and remove converge while the simulator throttles calls.
    async fn throttling(&mut self, env: &Env, faults: &str, check: &mut Check) {
        let group = self.names.group.clone();
        let candidates = self.names.candidates.clone();
        let initial = self.world(env);
        let Some(x) = candidates
            .iter()
            .map(String::as_str)
            .find(|c| !holds_anywhere(&initial, c))
        else {
            check.skip("not run: the instance's whitelist already holds every test entry");
            return;
        };
        let context = format!(" under {faults}");
        for context in [context.clone(), format!(" a second time{context}")] {
            if let Err(e) = self.step(env, Op::Add, x, &context).await {
                check.fail(e);
            }
        }
        let world = self.world(env);
        let n = count_in(&world, &group, x);
        if n != 1 {
            check.fail(format!(
                "under {faults}, after adding {x} twice the simulator holds it {n} time(s) in \
                 group {group}; expected exactly once"
            ));
        }
        if let Some(diff) = others_changed(&group, &initial, &world) {
            check.fail(format!("under {faults}, after adding {x}: {diff}"));
        }
        if let Err(e) = self
            .step(env, Op::Remove, x, &format!(" under {faults}"))
            .await
        {
            check.fail(e);
        }
        let end = self.world(env);
        if end != initial {
            check.fail(format!(
                "under {faults}, after adding and removing {x} the whitelist is not what it \
                 was: before {}, after {}",
                show_groups(&initial),
                show_groups(&end)
            ));
        }
        let counts = env.counts();
        let calls = counts.reads + counts.writes;
        check.note(format!(
            "{faults}: {calls} calls, {} throttled attempt(s) retried by the host",
            counts.retries
        ));
        if counts.retries == 0 {
            check.warn(format!(
                "no call was throttled under {faults}, so retries were not exercised; try \
                 another seed with --faults"
            ));
        }
    }

    /// Check 7: connection-properties answers a JSON object with the DataWorks fields.
    async fn connection_properties(
        &mut self,
        env: &Env,
        location: Option<Location>,
        check: &mut Check,
    ) {
        let t = self.target;
        let Some(location) = location.or_else(|| scenario_location(t)) else {
            check
                .skip("not run: no location (discovery failed and the scenario lacks the vSwitch)");
            return;
        };
        let request = ConnectionRequest {
            instance: t.instance(),
            location,
            owner_uid: t.account.uid.clone(),
            role_name: t.role_name.clone(),
            database: self.names.database.clone(),
            username: self.names.username.clone(),
            env_type: ENV_TYPE.into(),
        };
        // The runtime already refuses text that is not a JSON object or that holds a password.
        let properties = match self
            .plugin
            .connection_properties(env.caller.clone(), &request)
            .await
        {
            Ok(p) => p,
            Err(e) => {
                let e = self.noted(e);
                check.fail(e);
                return;
            }
        };
        // What `run` does with them: the host's merge refuses an identity key set to another
        // value, or an address naming no endpoint the host verified.
        let identity = crate::engine::verify::Identity {
            instance_id: t.db.id.clone(),
            id_key: crate::engine::verify::Identity::id_key_for(
                &self.plugin.info().datasource_type,
            )
            .into(),
            region: t.db.region.clone(),
            owner_uid: t.account.uid.clone(),
            role_name: t.role_name.clone(),
            env_type: ENV_TYPE.into(),
        };
        if let Err(e) = crate::engine::verify::merge_properties(
            self.plugin.name(),
            &properties,
            &identity,
            &request.location.endpoints,
            "",
        ) {
            check.fail(e.to_string());
        }
        let want = [
            ("envType", ENV_TYPE),
            ("regionId", t.db.region.as_str()),
            ("database", self.names.database.as_str()),
            ("username", self.names.username.as_str()),
            ("crossAccountOwnerId", t.account.uid.as_str()),
            ("crossAccountRoleName", t.role_name.as_str()),
        ];
        for (key, value) in want {
            match properties.get(key) {
                Some(serde_json::Value::String(s)) if s == value => {}
                Some(other) => check.fail(format!(
                    "{key} is {other}, expected \"{value}\" (from the request)"
                )),
                None => check.fail(format!(
                    "{key} is missing; DataWorks cross-account instance mode needs it"
                )),
            }
        }
        let id_keys = ["instanceId", "clusterId"];
        match id_keys
            .iter()
            .find_map(|k| properties.get(*k).map(|v| (k, v)))
        {
            Some((_, serde_json::Value::String(s))) if *s == t.db.id => {}
            Some((k, v)) => check.fail(format!("{k} is {v}, expected \"{}\"", t.db.id)),
            None => check.fail(format!(
                "neither instanceId nor clusterId is set; DataWorks needs the instance id {}",
                t.db.id
            )),
        }
        if check.status == Status::Pass {
            let keys: Vec<&str> = properties.keys().map(String::as_str).collect();
            check.note(format!("keys: {}", keys.join(", ")));
        }
    }
}

/// The location the scenario declares, for `connection-properties` when discovery failed.
fn scenario_location(t: &Target) -> Option<Location> {
    let cidr = t.vswitch_cidr.as_deref()?.parse().ok()?;
    Some(Location {
        region: t.db.region.clone(),
        zone: t.db.zone.clone(),
        vpc_id: t.db.vpc.clone(),
        vswitch_id: t.db.vswitch.clone(),
        vswitch_cidr: cidr,
        endpoints: t
            .db
            .endpoints
            .iter()
            .map(|e| Endpoint {
                host: e.connection_string.clone(),
                port: e.port,
                role: "primary".into(),
                address: None,
            })
            .collect(),
        status: t.db.status.clone(),
        running: t.db.status == "Running",
    })
}

/// An entry as a network, so `10.0.0.1` and `10.0.0.1/32` compare equal.
fn same_entry(a: &str, b: &str) -> bool {
    let net = |s: &str| -> Option<ipnet::Ipv4Net> {
        let s = s.trim();
        s.parse::<ipnet::Ipv4Net>()
            .ok()
            .or_else(|| s.parse::<std::net::Ipv4Addr>().ok().map(Into::into))
            .map(|n| n.trunc())
    };
    match (net(a), net(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}

fn holds_anywhere(groups: &[WhitelistGroup], entry: &str) -> bool {
    groups
        .iter()
        .any(|g| g.entries.iter().any(|e| same_entry(e, entry)))
}

fn count_in(groups: &[WhitelistGroup], group: &str, entry: &str) -> usize {
    groups
        .iter()
        .filter(|g| g.name == group)
        .flat_map(|g| &g.entries)
        .filter(|e| same_entry(e, entry))
        .count()
}

/// Whether any group other than `group` differs (names, attributes, entries, order).
fn others_changed(
    group: &str,
    before: &[WhitelistGroup],
    after: &[WhitelistGroup],
) -> Option<String> {
    let others = |groups: &[WhitelistGroup]| -> Vec<WhitelistGroup> {
        groups.iter().filter(|g| g.name != group).cloned().collect()
    };
    let (b, a) = (others(before), others(after));
    (b != a).then(|| {
        format!(
            "the other whitelist groups changed: before {}, after {}",
            show_groups(&b),
            show_groups(&a)
        )
    })
}

fn show_groups(groups: &[WhitelistGroup]) -> String {
    if groups.is_empty() {
        return "(no groups)".into();
    }
    groups
        .iter()
        .map(|g| format!("{}=[{}]", g.name, g.entries.join(",")))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(spec: &[(&str, &[&str])]) -> Vec<WhitelistGroup> {
        spec.iter()
            .map(|(name, entries)| WhitelistGroup {
                name: name.to_string(),
                entries: entries.iter().map(|e| e.to_string()).collect(),
                attribute: String::new(),
            })
            .collect()
    }

    #[test]
    fn entries_compare_as_networks() {
        assert!(same_entry("10.0.0.1", "10.0.0.1/32"));
        assert!(!same_entry("10.0.0.0/24", "10.0.0.0/16"));
        let g = groups(&[
            ("dataworks", &["172.16.66.0/24", "10.0.0.1"]),
            ("app", &["172.16.66.0/24"]),
        ]);
        assert_eq!(count_in(&g, "dataworks", "172.16.66.0/24"), 1);
        assert!(holds_anywhere(&g, "10.0.0.1/32"));
        assert!(!holds_anywhere(&g, "172.16.67.0/24"));
    }

    #[test]
    fn only_changes_outside_the_test_group_count() {
        let before = groups(&[("default", &["10.20.0.0/16"]), ("app", &["192.168.7.15"])]);
        let after = groups(&[
            ("default", &["10.20.0.0/16"]),
            ("app", &["192.168.7.15"]),
            ("dataworks", &["172.16.66.0/24"]),
        ]);
        assert_eq!(others_changed(GROUP, &before, &after), None);
        let dropped = groups(&[
            ("default", &["10.20.0.0/16"]),
            ("dataworks", &["172.16.66.0/24"]),
        ]);
        let diff = others_changed(GROUP, &before, &dropped).unwrap();
        assert!(diff.contains("app=[192.168.7.15]"), "{diff}");
    }

    #[test]
    fn the_seed_location_is_complete() {
        let seed = Scenario::default_seed();
        let info = crate::plugin::PluginInfo {
            name: "rds-mysql".into(),
            version: String::new(),
            datasource_type: "mysql".into(),
            product: "Rds".into(),
            api_version: String::new(),
            actions: Vec::new(),
            summary: String::new(),
            capabilities: Vec::new(),
        };
        let t = Target::select(&seed, "seed", &info, None).unwrap();
        let l = scenario_location(&t).unwrap();
        assert_eq!(l.vswitch_cidr.to_string(), "192.168.6.0/24");
        assert_eq!(l.endpoints[0].port, 3306);
    }

    #[test]
    fn a_bad_scenario_file_is_input_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, "name = 3\n").unwrap();
        let e = load_scenario(Some(&path)).unwrap_err().0;
        assert!(e.starts_with("--scenario ") && e.contains("s.toml"), "{e}");
        assert_eq!(e.lines().count(), 1, "{e}");
        let e = load_scenario(Some(&dir.path().join("none.toml")))
            .unwrap_err()
            .0;
        assert!(e.contains("cannot read the scenario file"), "{e}");
    }
}
