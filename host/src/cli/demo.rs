//! `dwlink-host run PLUGIN` with no `--link` and no credentials: the product document's own
//! example, against the embedded Alibaba Cloud simulator, so a new user sees it work at once.

use super::BadInput;
use super::link::{self, Credentials, LinkArgs};
use crate::cloud::{self, CredentialEnv};
use crate::engine::Options;
use crate::spec::LinkSpec;
use dwlink_sim::{SimConfig, Simulator, Timing};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// The example link the demo runs (the same file ships in `examples/links/`).
const SEED_LINK: &str = include_str!("../../../examples/links/seed-peering.toml");
const SEED_LINK_NAME: &str = "examples/links/seed-peering.toml (embedded)";
/// The demo data source's password: the simulator's, never a real one.
const DEMO_PASSWORD: &str = "dwlink-demo-password";

pub async fn run(args: &LinkArgs) -> anyhow::Result<ExitCode> {
    if args.endpoint.is_some() {
        return Err(BadInput(
            "--endpoint needs --link FILE: say which link to build at that endpoint \
             (see examples/links/)"
                .into(),
        )
        .into());
    }
    if CredentialEnv::from_process().resolve(None).is_ok() {
        return Err(BadInput(
            "Alibaba Cloud credentials are configured, so dwlink will not guess what to build: \
             pass --link FILE (see examples/links/seed-peering.toml). To run the built-in \
             example on the simulator instead, unset ALIBABA_CLOUD_ACCESS_KEY_ID / \
             ALIBABA_CLOUD_PROFILE and move ~/.aliyun/config.json aside."
                .into(),
        )
        .into());
    }
    let spec = LinkSpec::parse(Path::new(SEED_LINK_NAME), SEED_LINK)
        .map_err(|e| anyhow::anyhow!("the embedded example link is invalid: {e}"))?;
    // Short but visible lifecycles: the waiters show what they wait for.
    let sim = Simulator::start(SimConfig {
        timing: Timing::Delay,
        time_scale: 0.05,
        ..SimConfig::default()
    })
    .await?;
    let b = sim
        .account("B")
        .ok_or_else(|| anyhow::anyhow!("the embedded scenario has no account B"))?;
    eprintln!(
        "dwlink: no --link and no credentials: running the product document's example \
         (RDS MySQL in account A, cn-hangzhou -> DataWorks in account B, cn-shanghai) \
         against the embedded Alibaba Cloud SIMULATOR at {}. Nothing real is touched.",
        sim.endpoint()
    );
    let state = tempfile::tempdir()?;
    let mut demo_args = LinkArgs {
        state_dir: Some(state.path().to_path_buf()),
        ..args.clone()
    };
    demo_args.link = Some(SEED_LINK_NAME.into());
    let engine = link::engine(
        &demo_args,
        spec,
        Some(sim.endpoint()),
        Credentials::FixedB(cloud::Credentials::access_key(
            b.access_key_id,
            b.access_key_secret,
        )),
        Options {
            poll_interval: Duration::from_millis(50),
            password: Some(DEMO_PASSWORD.into()),
            ..Options::default()
        },
        false,
    )
    .await?;
    let report = link::until_interrupted_then(
        &engine,
        "run",
        "the embedded simulator and its world are gone with it; nothing real was touched.",
        engine.run(),
    )
    .await?;
    let code = link::print(&report, args.output);
    sim.shutdown().await;
    Ok(code)
}
