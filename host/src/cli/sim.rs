//! `sim`: run the Alibaba Cloud simulator until Ctrl-C.

use super::BadInput;
use clap::Args;
use dwlink_sim::{FaultSettings, Scenario, SimConfig, Simulator, Timing};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct SimArgs {
    /// Address to listen on, e.g. 127.0.0.1:0 for any free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// Scenario file (TOML); default: the built-in seed scenario (examples/scenarios/seed.toml).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Faults, e.g. `throttle=0.1,5xx=0.05,latency=20ms,timeout=0.02,seed=7`, and rules:
    /// `lose=CreateRouteEntry#1` (perform the first call, drop its response),
    /// `fail=DeleteCen#2/InvalidOperation.CenInstanceStatus` (answer the second with that error),
    /// `fail=DeleteCen#*/Throttling.User` (every call).
    #[arg(long, default_value = "")]
    pub faults: String,
    /// How async steps complete: `delay` (nominal durations x --time-scale), `immediate`, `polls:N`.
    #[arg(long, default_value = "delay")]
    pub timing: String,
    /// Multiplies the nominal durations of async steps and injected latency (0.1 = ten times faster).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Seed for generated ids and secrets.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write `{"endpoint", "accounts", "roles"}` here once listening.
    #[arg(long)]
    pub ready_file: Option<PathBuf>,
}

pub async fn run(args: SimArgs) -> anyhow::Result<ExitCode> {
    let listen: SocketAddr = args.listen.parse().map_err(|_| {
        BadInput(format!(
            "--listen {:?} is not an address:port (e.g. 127.0.0.1:0)",
            args.listen
        ))
    })?;
    let faults =
        FaultSettings::parse(&args.faults).map_err(|e| BadInput(format!("--faults: {e}")))?;
    let timing: Timing = args
        .timing
        .parse()
        .map_err(|e| BadInput(format!("--timing: {e}")))?;
    if !(args.time_scale.is_finite() && args.time_scale >= 0.0) {
        return Err(BadInput(format!(
            "--time-scale {} must be a number >= 0",
            args.time_scale
        ))
        .into());
    }
    let scenario = match &args.scenario {
        None => Scenario::default_seed(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| BadInput(format!("cannot read scenario {}: {e}", path.display())))?;
            Scenario::parse(&text, &path.display().to_string())
                .map_err(|e| BadInput(e.to_string()))?
        }
    };
    let sim = Simulator::start(SimConfig {
        listen,
        scenario,
        faults,
        timing,
        time_scale: args.time_scale,
        seed: args.seed,
    })
    .await
    .map_err(
        |e| match e.downcast::<dwlink_sim::scenario::ScenarioError>() {
            Ok(se) => anyhow::Error::new(BadInput(se.to_string())),
            Err(e) => e,
        },
    )?;
    if let Some(path) = &args.ready_file {
        sim.write_ready_file(path)
            .map_err(|e| anyhow::anyhow!("cannot write the ready file {}: {e}", path.display()))?;
    }
    eprintln!(
        "dwlink simulator listening on {} (Ctrl-C to stop)",
        sim.endpoint()
    );
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| anyhow::anyhow!("cannot wait for Ctrl-C: {e}"))?;
    sim.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
