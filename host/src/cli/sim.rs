//! `sim`: run the Alibaba Cloud simulator.

use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct SimArgs {
    /// Address to listen on, e.g. 127.0.0.1:0 for any free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
}

pub async fn run(_args: SimArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`dwlink-host sim` is not built yet (see issue 4)")
}
