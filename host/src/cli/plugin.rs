//! `plugin inspect`, `plugin validate`, `plugin test`.

use super::BadInput;
use crate::plugin::{LimitArgs, Limits, Plugin, PluginError, PluginRuntime, RuntimeOptions};
use crate::testkit;
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum PluginCommand {
    /// Show a plugin's name, version, data-source type, actions, WIT version and limits.
    Inspect {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        output: super::link::Output,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Load a plugin and check it against the contract.
    Validate {
        file: PathBuf,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Run a plugin against the embedded simulator and report pass/fail per check.
    ///
    /// Checks: discovery matches the scenario; whitelist add is idempotent; remove leaves
    /// every other entry; a second add or remove writes nothing; every call was declared;
    /// add and remove converge under throttling; connection properties are DataWorks JSON.
    /// Exit code 0 when every check passes, 1 when one fails, 2 for bad input.
    Test {
        file: PathBuf,
        /// Simulator scenario (TOML); default: the embedded examples/scenarios/seed.toml.
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Instance to test; default: the scenario's first instance of the plugin's product.
        #[arg(long)]
        instance: Option<String>,
        /// Faults of the simulator the throttling check runs against.
        #[arg(long, default_value = testkit::DEFAULT_FAULTS)]
        faults: String,
        #[arg(long, value_enum, default_value = "text")]
        output: super::link::Output,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        consent: super::consent::ConsentArgs,
    },
}

pub async fn run(cmd: PluginCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PluginCommand::Inspect {
            file,
            output,
            limits,
        } => {
            let plugin = load(&file, &limits, None).await?;
            match output {
                super::link::Output::Json => {
                    println!("{}", serde_json::to_string_pretty(&inspect_json(&plugin))?)
                }
                super::link::Output::Text => print!("{}", inspect_text(&plugin)),
            }
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Validate { file, limits } => {
            let plugin = load(&file, &limits, None).await?;
            let info = plugin.info();
            println!(
                "ok: {}: plugin {} {} (WIT {}), data source {}, {} declared action(s)",
                file.display(),
                info.name,
                info.version,
                plugin.wit_version(),
                info.datasource_type,
                info.actions.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Test {
            file,
            scenario,
            instance,
            faults,
            output,
            limits,
            consent,
        } => {
            let plugin = load(&file, &limits, Some(&consent)).await?;
            let options = testkit::Options {
                scenario,
                instance,
                faults,
            };
            let report =
                testkit::run(&plugin, &file, &options)
                    .await
                    .map_err(|e| match e.downcast::<testkit::InputError>() {
                        Ok(input) => BadInput(input.0).into(),
                        Err(e) => e,
                    })?;
            match output {
                super::link::Output::Json => println!("{}", report.to_json()),
                super::link::Output::Text => print!("{}", report.to_text()),
            }
            Ok(if report.passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// Loads a plugin with the command line's limits (`max_component_mib` applies to loading),
/// after the operator's policy when one is given; a file that is not an acceptable plugin, a
/// refused limit or an unadmitted plugin is bad input (exit code 2).
async fn load(
    file: &Path,
    limits: &LimitArgs,
    consent: Option<&super::consent::ConsentArgs>,
) -> anyhow::Result<Plugin> {
    let limits = Limits::DEFAULT
        .with_overrides(&limits.overrides())
        .map_err(|e| BadInput(e.to_string()))?;
    let runtime = PluginRuntime::with_options(RuntimeOptions {
        limits,
        ..RuntimeOptions::default()
    })?;
    let label = file.display().to_string();
    let loaded = match runtime.read_file(file) {
        Ok(bytes) => {
            if let Some(consent) = consent {
                consent.admit(file, &bytes)?;
            }
            runtime.load(&label, &bytes).await
        }
        Err(e) => Err(e),
    };
    loaded.map_err(|e| load_error(file, e))
}

/// A plugin that could not be loaded is bad input (exit 2): a file that is not an acceptable
/// plugin, and also one whose `describe` failed or answered nonsense (the file's fault).
pub(super) fn load_error(file: &Path, e: PluginError) -> anyhow::Error {
    match e {
        e if e.is_load_error() => BadInput(e.to_string()).into(),
        e @ (PluginError::Malformed { .. }
        | PluginError::Trap { .. }
        | PluginError::Panic { .. }
        | PluginError::Deadline { .. }
        | PluginError::WallBudget { .. }
        | PluginError::TooMuchData { .. }
        | PluginError::OutOfFuel { .. }
        | PluginError::MemoryLimit { .. }
        | PluginError::Denied { .. }
        | PluginError::UndeclaredAction { .. }
        | PluginError::OutOfScope { .. }
        | PluginError::Budget { .. }
        | PluginError::Failure { .. }) => BadInput(format!("{}: {e}", file.display())).into(),
        e => anyhow::Error::new(e),
    }
}

fn inspect_json(plugin: &Plugin) -> serde_json::Value {
    let info = plugin.info();
    serde_json::json!({
        "name": info.name,
        "version": info.version,
        "datasource_type": info.datasource_type,
        "product": info.product,
        "actions": info.actions,
        "capabilities": info.capabilities.iter().map(|c| serde_json::json!({
            "action": c.declared(),
            "version": c.version,
            "access": c.access,
            "instance_param": c.instance_param,
            "whitelist": c.whitelist,
            "description": c.describe(),
        })).collect::<Vec<_>>(),
        "wit_version": plugin.wit_version(),
        "limits": plugin.limits(),
        "size_bytes": plugin.size_bytes(),
        "sha256": plugin.sha256(),
    })
}

fn inspect_text(plugin: &Plugin) -> String {
    let info = plugin.info();
    let mut out = format!(
        "{} {}: {}\n  data source type  {}\n  product           {} (API {})\n  WIT version       {}\n  limits            {}\n  size              {} bytes\n  sha256            {}\n  may call          {} action(s), each checked by dwlink-host before it is sent:\n",
        info.name,
        info.version,
        info.summary,
        info.datasource_type,
        info.product,
        info.api_version,
        plugin.wit_version(),
        plugin.limits(),
        plugin.size_bytes(),
        plugin.sha256(),
        info.actions.len(),
    );
    for c in &info.capabilities {
        out.push_str(&format!("    - {}\n", c.describe()));
    }
    out.push_str(
        "  never             credentials or identity (sts, ram, ims, kms, resourcemanager); \
         writes to VPC, peering, CEN or DataWorks; another instance or region; \
         whitelist writes during plan, status or diagnose\n",
    );
    out
}
