//! How long the simulator takes to start in-process with the default configuration (the
//! embedded seed scenario, `delay` timing), serve one signed V3 `DescribeVpcs`, and shut down.
//! A measurement, not a pass/fail check: `cargo bench -p dwlink-sim --bench sim_start`.

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use dwlink_sim::SimConfig;

fn sim_start(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    // One HTTP client for every iteration: the bench measures the simulator, not the client.
    common::install_crypto();
    let http = reqwest::Client::new();
    c.bench_function("sim_start", |b| {
        b.iter(|| {
            rt.block_on(async {
                let sim = common::start_config(SimConfig::default()).await;
                let mut a = common::Client::new(&sim, "A");
                a.http = http.clone();
                let vpcs = a
                    .call("2016-04-28", "DescribeVpcs", &[("RegionId", "cn-hangzhou")])
                    .await
                    .ok();
                assert_eq!(vpcs["TotalCount"], 1, "{vpcs}");
                sim.shutdown().await;
            })
        })
    });
}

criterion_group!(benches, sim_start);
criterion_main!(benches);
