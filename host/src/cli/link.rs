//! `run`, `plan`, `destroy`, `status`, `diagnose`: the link engine's commands.
//!
//! Each command loads and validates the link file first (errors exit 2 before any call), then
//! builds an [`Engine`] from the two accounts' callers and the plugin, and prints its report.

use super::BadInput;
use crate::engine::{Engine, Report};
use crate::spec::LinkSpec;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
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

/// Builds the engine for a validated link: the callers of both accounts and the plugin.
///
/// The cloud client (issue 3) and the plugin runtime (issue 2) plug in here: build
/// `caller_b` from the DataWorks side's credentials, `caller_a` by AssumeRole into
/// `spec.source.access` (or its profile), load `args.plugin` as an `Arc<dyn DataSource>` bound
/// to `caller_a`, then `Engine::new(caller_a, caller_b, datasource, spec, args.state_dir.clone())`.
async fn engine(args: &LinkArgs, spec: LinkSpec) -> anyhow::Result<Engine> {
    let _ = (&args.plugin, &args.endpoint, &spec);
    anyhow::bail!(
        "the link file {} is valid (link id {}), but this build cannot reach the cloud yet: the OpenAPI client and the plugin runtime are wired in by issues 2 and 3",
        spec.file.display(),
        spec.link_id()
    )
}

fn print(report: &Report, output: Output) -> ExitCode {
    match output {
        Output::Json => println!("{}", report.to_json()),
        Output::Text => print!("{}", report.to_text()),
    }
    ExitCode::from(report.exit_code())
}

pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let spec = load_spec(&args.link, "run")?;
    let engine = engine(&args.link, spec).await?;
    Ok(print(&engine.run().await, args.link.output))
}

pub async fn plan(args: LinkArgs) -> anyhow::Result<ExitCode> {
    let spec = load_spec(&args, "plan")?;
    let engine = engine(&args, spec).await?;
    Ok(print(&engine.plan_report().await, args.output))
}

pub async fn destroy(args: DestroyArgs) -> anyhow::Result<ExitCode> {
    let spec = load_spec(&args.link, "destroy")?;
    let engine = engine(&args.link, spec).await?;
    Ok(print(&engine.destroy().await, args.link.output))
}

pub async fn status(args: LinkArgs) -> anyhow::Result<ExitCode> {
    let spec = load_spec(&args, "status")?;
    let engine = engine(&args, spec).await?;
    // Status is the plan seen from the other side: what is missing is what `run` would create.
    Ok(print(&engine.plan_report().await, args.output))
}

pub async fn diagnose(args: LinkArgs) -> anyhow::Result<ExitCode> {
    let _spec = load_spec(&args, "diagnose")?;
    anyhow::bail!("`dwlink-host diagnose` is not built yet (issue 5)")
}
