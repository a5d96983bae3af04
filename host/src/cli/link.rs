//! `run`, `plan`, `destroy`, `status`, `diagnose`: the link engine's commands.
//!
//! Each command loads and validates the link file first (errors exit 2 before any call), then
//! builds an [`Engine`] from the two accounts' callers and the plugin, and prints its report.

use super::BadInput;
use crate::cloud::{self, AssumeRoleSpec, Caller, Cloud, CloudConfig, CredentialEnv};
use crate::engine::{Engine, Options, PluginDataSource, Report};
use crate::plugin::{LimitArgs, LimitOverrides, Limits, PluginRuntime, RuntimeOptions};
use crate::spec::{Access, LinkSpec};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args, Debug, Clone)]
pub struct LinkArgs {
    /// The data-source plugin (a .wasm component), e.g. target/plugins/rds-mysql.wasm.
    pub plugin: PathBuf,
    /// The link file (TOML).
    #[arg(long)]
    pub link: Option<PathBuf>,
    /// Send every product to this OpenAPI endpoint (e.g. a simulator); also DWLINK_ENDPOINT.
    #[arg(long, env = "DWLINK_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub output: Output,
    /// Where link journals are kept (default ~/.local/state/dwlink); also DWLINK_STATE_DIR.
    #[arg(long, env = "DWLINK_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// How often to re-read a resource that is still changing (e.g. `2s`, `200ms`).
    #[arg(long, default_value = "2s", value_parser = parse_interval)]
    pub poll_interval: Duration,
    /// How long to wait for one resource that is still changing before reporting its state
    /// (e.g. `10m`, `90s`); the next command takes up where this one stopped.
    #[arg(long, default_value = "10m", value_parser = parse_max_wait)]
    pub max_wait: Duration,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub consent: super::consent::ConsentArgs,
}

/// `10m`, `90s` or `500ms`; between 10 ms and 24 hours.
fn parse_max_wait(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let ms = match t.strip_suffix('m').filter(|n| !n.ends_with('m')) {
        Some(n) => n.trim().parse::<f64>().ok().map(|v| v * 60_000.0),
        None => parse_interval(t)
            .ok()
            .map(|d| d.as_secs_f64() * 1000.0)
            .or_else(|| {
                let n = t.strip_suffix('s')?;
                n.trim().parse::<f64>().ok().map(|v| v * 1000.0)
            }),
    }
    .ok_or_else(|| format!("`{text}` is not a duration: write e.g. `10m`, `90s` or `500ms`"))?;
    if !(10.0..=86_400_000.0).contains(&ms) {
        return Err(format!(
            "`{text}` is out of range: use between 10ms and 24h"
        ));
    }
    Ok(Duration::from_secs_f64(ms / 1000.0))
}

/// `250ms`, `2s` or a bare number of milliseconds; between 10 ms and 10 minutes.
fn parse_interval(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, unit_ms) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (t, 1.0)
    };
    let value: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: write e.g. `2s` or `250ms`"))?;
    let ms = value * unit_ms;
    if !(10.0..=600_000.0).contains(&ms) {
        return Err(format!(
            "`{text}` is out of range: use between 10ms and 600s"
        ));
    }
    Ok(Duration::from_millis(ms as u64))
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub link: LinkArgs,
    /// Do not ask for confirmation before changing the cloud.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Args, Debug)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub link: LinkArgs,
    /// Do not ask for confirmation before changing the cloud.
    #[arg(long)]
    pub yes: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
}

/// Loads and validates `--link`; every problem is bad input (exit 2) with file, line and fix.
pub fn load_spec(args: &LinkArgs, command: &str) -> anyhow::Result<LinkSpec> {
    let Some(path) = &args.link else {
        return Err(BadInput(format!(
            "`dwlink-host {command}` needs --link FILE (see examples/links/seed-peering.toml)"
        ))
        .into());
    };
    LinkSpec::load(path).map_err(|e| BadInput(e.to_string()).into())
}

/// Where the two accounts' credentials come from.
pub(super) enum Credentials {
    /// The official order: link-file profile, then environment, then `~/.aliyun/config.json`.
    Discover,
    /// Fixed keys for account B (the embedded simulator's).
    FixedB(cloud::Credentials),
}

/// The client's rate limits with the link file's `[rate_limits]` applied. A bucket holds one
/// second's worth of calls (at least one), as the defaults do.
fn rate_limits(spec: &crate::spec::RateSpec) -> cloud::RateLimits {
    let rate = |per_second: f64| cloud::Rate {
        per_second,
        burst: (per_second.ceil() as u32).max(1),
    };
    let mut limits = cloud::RateLimits::default();
    if let Some(r) = spec.writes_per_second {
        limits.default = rate(r);
    }
    if let Some(r) = spec.reads_per_second {
        limits.read = rate(r);
    }
    for ((product, action), r) in &spec.actions {
        limits = limits.with(product, action, rate(*r));
    }
    limits
}

/// The client's configuration for a link: `--endpoint`, the link file's `[endpoints]` and
/// `[rate_limits]`.
fn cloud_config(spec: &LinkSpec, endpoint: Option<String>) -> CloudConfig {
    let mut config = CloudConfig::with_endpoint(endpoint);
    config.endpoints.per_product = spec.endpoints.clone();
    config.rate_limits = rate_limits(&spec.rate_limits);
    config
}

/// Builds the engine for a validated link: the callers of both accounts and the plugin.
/// Account B acts with its own credentials; account A through AssumeRole with B's (or its own
/// profile). The plugin only ever sees account A's caller, never a credential.
pub(super) async fn engine(
    args: &LinkArgs,
    spec: LinkSpec,
    endpoint: Option<String>,
    credentials: Credentials,
    options: Options,
    read_only: bool,
) -> anyhow::Result<Engine> {
    let cloud = Cloud::new(cloud_config(&spec, endpoint))
        .map_err(|e| BadInput(format!("{}: {e}", spec.file.display())))?;
    let env = CredentialEnv::from_process();
    let b = match credentials {
        Credentials::FixedB(creds) => cloud.with_credentials("B", creds),
        Credentials::Discover => cloud
            .from_source("B", spec.dataworks.profile.as_deref(), &env)
            .map_err(|e| {
                anyhow::anyhow!(
                    "{e}\n  dwlink acts in the DataWorks account (B) with its own credentials: set \
                     ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET, name a `profile` \
                     under [dataworks] in {}, or configure the aliyun CLI",
                    spec.file.display()
                )
            })?,
    };
    let a = match &spec.source.access {
        Access::RoleArn { arn, .. } => {
            cloud.assume_role("A", &b, AssumeRoleSpec::new(arn.clone(), &spec.link_id()))
        }
        Access::Profile(profile) => cloud.from_source("A", Some(profile), &env)?,
    };
    let a: Arc<dyn Caller> = Arc::new(a);

    // The limits before the plugin is loaded: `max_component_mib` applies to loading itself.
    let mib = |m: Option<u64>| m.map(|m| u32::try_from(m).unwrap_or(u32::MAX));
    let overrides = LimitOverrides {
        deadline_ms: spec.limits.deadline_ms,
        wall_ms: spec.limits.wall_ms,
        fuel: spec.limits.fuel,
        memory_mib: mib(spec.limits.memory_mib),
        max_component_mib: mib(spec.limits.max_component_mib),
    }
    .then(args.limits.overrides());
    let limits = Limits::DEFAULT
        .with_overrides(&overrides)
        .map_err(|e| BadInput(format!("{}: [limits]: {e}", spec.file.display())))?;
    let runtime = PluginRuntime::with_options(RuntimeOptions {
        limits,
        ..RuntimeOptions::default()
    })?;
    // A plugin whose `describe` fails or declares what validation refuses is bad input, as
    // for `plugin inspect` (exit 2), before any cloud call.
    let load_error = |e| super::plugin::load_error(&args.plugin, e);
    // The size cap, then the operator's policy, both before anything is compiled.
    let bytes = runtime.read_file(&args.plugin).map_err(load_error)?;
    args.consent.admit(&args.plugin, &bytes)?;
    let label = args.plugin.display().to_string();
    let plugin = runtime.load(&label, &bytes).await.map_err(load_error)?;
    // The read-only commands give the plugin a caller that refuses every write, whatever the
    // gate would allow.
    let plugin_caller: Arc<dyn Caller> = if read_only {
        Arc::new(crate::plugin::gate::ReadOnly(a.clone()))
    } else {
        a.clone()
    };
    let datasource = Arc::new(PluginDataSource::new(plugin, plugin_caller));
    Ok(
        Engine::new(a, Arc::new(b), datasource, spec, args.state_dir.clone())
            .with_accounting(cloud)
            .with_options(options)
            .with_plugin_path(args.plugin.clone()),
    )
}

/// Polls that fit in `max_wait` at one per `poll_interval` (at least one).
fn max_polls(max_wait: Duration, poll_interval: Duration) -> u32 {
    let n = max_wait.as_secs_f64() / poll_interval.as_secs_f64().max(0.001);
    n.ceil().clamp(1.0, u32::MAX as f64) as u32
}

/// Loads the link and builds its engine with credentials from the usual sources.
async fn linked_engine(args: &LinkArgs, command: &str) -> anyhow::Result<Engine> {
    let spec = load_spec(args, command)?;
    engine(
        args,
        spec,
        args.endpoint.clone(),
        Credentials::Discover,
        Options {
            poll_interval: args.poll_interval,
            max_polls: max_polls(args.max_wait, args.poll_interval),
            ..Options::default()
        },
        matches!(command, "plan" | "status" | "diagnose"),
    )
    .await
}

/// Asks on the terminal; without one there is nobody to ask, so `--yes` is required.
fn confirm(command: &str, question: &str) -> anyhow::Result<bool> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return Err(BadInput(format!(
            "`dwlink-host {command}` changes two cloud accounts and there is no terminal to confirm on: \
             pass --yes (see what would change with `dwlink-host plan`)"
        ))
        .into());
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

pub(super) fn print(report: &Report, output: Output) -> ExitCode {
    match output {
        Output::Json => println!("{}", report.to_json()),
        Output::Text => print!("{}", report.to_text()),
    }
    ExitCode::from(report.exit_code())
}

pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    if args.link.link.is_none() {
        return super::demo::run(&args.link).await;
    }
    let engine = linked_engine(&args.link, "run").await?;
    if !args.yes {
        let plan = engine.plan_report().await;
        if plan.exit_code() != 0 {
            // Preflight problems or a failed read: show them; nothing was changed.
            return Ok(print(&plan, args.link.output));
        }
        let n = plan.steps.len();
        if n > 0 {
            eprint!("{}", plan.to_text());
            if !confirm("run", &format!("Apply these {n} changes?"))? {
                eprintln!("dwlink: nothing was changed");
                return Ok(ExitCode::from(1));
            }
        }
    }
    let report = until_interrupted(&engine, "run", engine.run()).await?;
    Ok(print(&report, args.link.output))
}

pub async fn plan(args: LinkArgs) -> anyhow::Result<ExitCode> {
    let engine = linked_engine(&args, "plan").await?;
    Ok(print(&engine.plan_report().await, args.output))
}

pub async fn destroy(args: DestroyArgs) -> anyhow::Result<ExitCode> {
    let engine = linked_engine(&args.link, "destroy").await?;
    if !args.yes
        && !confirm(
            "destroy",
            &format!(
                "Undo everything dwlink created for link {} (the whitelist entry, routes, {} it built)?",
                engine.link_id(),
                "the peering or CEN"
            ),
        )?
    {
        eprintln!("dwlink: nothing was changed");
        return Ok(ExitCode::from(1));
    }
    let report = until_interrupted(&engine, "destroy", engine.destroy()).await?;
    Ok(print(&report, args.link.output))
}

/// Runs `work` until it ends or the user presses Ctrl-C. On Ctrl-C it stops at once, in the
/// middle of whatever call or wait is under way: the journal already records every step sent
/// and every step done, exactly as after a crash, so the next `run` finishes the link and
/// `destroy` undoes it. Exit code 130, as for any program stopped by SIGINT.
pub(super) async fn until_interrupted(
    engine: &Engine,
    command: &str,
    work: impl std::future::Future<Output = Report>,
) -> anyhow::Result<Report> {
    until_interrupted_then(
        engine,
        command,
        "every step sent so far is in its journal. Run `dwlink-host run` again to finish \
         the link, or `dwlink-host destroy` to undo it.",
        work,
    )
    .await
}

/// [`until_interrupted`] with its own word on what to do next.
pub(super) async fn until_interrupted_then(
    engine: &Engine,
    command: &str,
    next: &str,
    work: impl std::future::Future<Output = Report>,
) -> anyhow::Result<Report> {
    tokio::select! {
        report = work => Ok(report),
        _ = tokio::signal::ctrl_c() => {
            eprintln!("\ndwlink: {command} of link {} interrupted; {next}", engine.link_id());
            Err(Interrupted.into())
        }
    }
}

/// The user stopped the command with Ctrl-C (exit code 130).
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

pub async fn status(args: LinkArgs) -> anyhow::Result<ExitCode> {
    let engine = linked_engine(&args, "status").await?;
    Ok(print(&engine.status_report().await, args.output))
}

/// Walks the link's hops against the live state: exit 0 when every hop is ok, 3 when one is
/// broken (it is named, with its account, region, resource id and fix), 1 when a read failed.
pub async fn diagnose(args: LinkArgs) -> anyhow::Result<ExitCode> {
    let engine = linked_engine(&args, "diagnose").await?;
    let d = engine.diagnose().await.map_err(|e| {
        anyhow::anyhow!(
            "diagnose of link {} could not read the live state: {e}",
            engine.link_id()
        )
    })?;
    let calls = engine.calls();
    match args.output {
        Output::Json => {
            let v = serde_json::json!({
                "link_id": engine.link_id(),
                "status": if d.is_ok() { "ok" } else { "broken" },
                "calls": calls,
                "diagnosis": d,
            });
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        Output::Text => {
            println!("link {}", engine.link_id());
            print!("{}", d.to_text());
            println!("calls: {calls}");
        }
    }
    Ok(ExitCode::from(d.exit_code()))
}

#[cfg(test)]
mod tests {
    use super::{cloud_config, max_polls, parse_interval, parse_max_wait, rate_limits};
    use crate::spec::{LinkSpec, RateSpec};
    use std::time::Duration;

    #[test]
    fn link_file_rates_override_the_client_defaults() {
        let defaults = crate::cloud::RateLimits::default();
        let unchanged = rate_limits(&RateSpec::default());
        assert_eq!(
            unchanged.rate("vpc", "CreateRouteEntry"),
            defaults.rate("vpc", "CreateRouteEntry")
        );
        assert_eq!(
            unchanged.rate("vpc", "DescribeVpcs"),
            defaults.rate("vpc", "DescribeVpcs")
        );
        let spec = RateSpec {
            writes_per_second: Some(0.5),
            reads_per_second: Some(10.0),
            actions: [(("cbn".into(), "CreateTransitRouter".into()), 1.5)].into(),
        };
        let limits = rate_limits(&spec);
        let w = limits.rate("vpc", "CreateRouteEntry");
        assert_eq!((w.per_second, w.burst), (0.5, 1));
        let r = limits.rate("vpc", "DescribeVpcs");
        assert_eq!((r.per_second, r.burst), (10.0, 10));
        let tr = limits.rate("CBN", "createtransitrouter");
        assert_eq!((tr.per_second, tr.burst), (1.5, 2));
        // Other CBN writes keep the link's write rate.
        assert_eq!(limits.rate("cbn", "CreateCen").per_second, 0.5);
    }

    #[test]
    fn the_link_files_endpoints_and_rates_reach_the_client() {
        let text = include_str!("../../../examples/links/seed-peering.toml").to_string()
            + "\n[endpoints]\nvpc = \"http://127.0.0.1:9\"\n\
               [rate_limits]\nwrites_per_second = 0.5\n";
        let spec = LinkSpec::parse(std::path::Path::new("link.toml"), &text).unwrap();
        let config = cloud_config(&spec, Some("http://127.0.0.1:8".into()));
        assert_eq!(config.endpoints.all.as_deref(), Some("http://127.0.0.1:8"));
        assert_eq!(
            config.endpoints.per_product.get("vpc").map(String::as_str),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(
            config
                .rate_limits
                .rate("vpc", "CreateRouteEntry")
                .per_second,
            0.5
        );
    }

    #[test]
    fn max_wait_bounds_the_polls() {
        assert_eq!(parse_max_wait("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_max_wait("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_max_wait("500ms"), Ok(Duration::from_millis(500)));
        assert!(
            parse_max_wait("soon")
                .unwrap_err()
                .contains("not a duration")
        );
        assert!(
            parse_max_wait("2000m")
                .unwrap_err()
                .contains("out of range")
        );
        let polls = |w, p| max_polls(Duration::from_millis(w), Duration::from_millis(p));
        assert_eq!(polls(600_000, 2000), 300);
        assert_eq!(polls(500, 20), 25);
        assert_eq!(polls(10, 2000), 1);
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_interval("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_interval("0.5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval("100"), Ok(Duration::from_millis(100)));
        assert!(
            parse_interval("fast")
                .unwrap_err()
                .contains("not a duration")
        );
        assert!(parse_interval("1ms").unwrap_err().contains("out of range"));
    }
}
