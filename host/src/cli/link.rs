//! `run`, `plan`, `destroy`, `status`, `diagnose`: the link engine's commands.

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

fn pending(what: &str) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`dwlink-host {what}` is not built yet (see issue 5)")
}

pub async fn run(_args: RunArgs) -> anyhow::Result<ExitCode> {
    pending("run")
}

pub async fn plan(_args: LinkArgs) -> anyhow::Result<ExitCode> {
    pending("plan")
}

pub async fn destroy(_args: DestroyArgs) -> anyhow::Result<ExitCode> {
    pending("destroy")
}

pub async fn status(_args: LinkArgs) -> anyhow::Result<ExitCode> {
    pending("status")
}

pub async fn diagnose(_args: LinkArgs) -> anyhow::Result<ExitCode> {
    pending("diagnose")
}
