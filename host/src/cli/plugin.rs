//! `plugin inspect`, `plugin validate`, `plugin test`.

use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum PluginCommand {
    /// Show a plugin's name, version, data-source type, actions, WIT version and limits.
    Inspect {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        output: super::link::Output,
    },
    /// Load a plugin and check it against the contract.
    Validate { file: PathBuf },
}

pub async fn run(cmd: PluginCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`dwlink-host plugin {cmd:?}` is not built yet (see issue 2)")
}
