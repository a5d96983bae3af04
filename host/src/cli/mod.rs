//! Command-line interface: parses arguments and hands each command to its module.
//!
//! Exit codes: 0 success (connected), 1 failure, 2 bad input, 3 applied but not connectable.

mod consent;
mod demo;
mod link;
mod plugin;
mod sim;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit code for bad input: a malformed link file, a bad argument, a file that is not a plugin.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code when the link was applied but the connectivity test did not pass.
pub const EXIT_NOT_CONNECTABLE: u8 = 3;

/// An error caused by the user's input; the process exits with code 2.
/// The message says what is wrong, where, and how to fix it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

#[derive(Parser)]
#[command(
    name = "dwlink-host",
    version,
    about = "Connect a DataWorks workspace in one Alibaba Cloud account to a database in another."
)]
struct Cli {
    /// Log filter for stderr (e.g. `info`, `dwlink_host=debug`); also RUST_LOG.
    #[arg(long, global = true, env = "DWLINK_LOG", default_value = "warn")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the link (peering or CEN, routes, DataWorks route, whitelist) and prove connectivity.
    Run(link::RunArgs),
    /// Show what `run` would change, per account and region; nothing is written.
    Plan(link::LinkArgs),
    /// Undo what dwlink created for this link, in reverse order, and nothing else.
    Destroy(link::DestroyArgs),
    /// Show the link's state: what exists, what is missing.
    Status(link::LinkArgs),
    /// Walk the network path hop by hop and name the first one that is broken.
    Diagnose(link::LinkArgs),
    /// Inspect, validate and test data-source plugins.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Run the Alibaba Cloud simulator.
    Sim(sim::SimArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Run(args) => link::run(args).await,
            Command::Plan(args) => link::plan(args).await,
            Command::Destroy(args) => link::destroy(args).await,
            Command::Status(args) => link::status(args).await,
            Command::Diagnose(args) => link::diagnose(args).await,
            Command::Plugin(cmd) => plugin::run(cmd).await,
            Command::Sim(args) => sim::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        // The message saying what to do next is already out.
        Err(e) if e.downcast_ref::<link::Interrupted>().is_some() => ExitCode::from(130),
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<BadInput>().is_some() {
                ExitCode::from(EXIT_BAD_INPUT)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(default))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
