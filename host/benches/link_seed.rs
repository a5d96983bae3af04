//! The product document's example end to end, in process: `Engine::run` against the embedded
//! simulator with immediate lifecycles, so what is measured is dwlink's own cost (observe,
//! plan, the calls over loopback HTTP with signing, the plugin, the journal's fsyncs), not
//! the cloud's waits. Each iteration starts from a fresh simulator and an empty journal.
//! Prints the calls made per mode once. Needs `cargo xtask plugins` (rds-mysql.wasm).

use criterion::{Criterion, criterion_group, criterion_main};
use dwlink_host::cloud::{self, AssumeRoleSpec, Caller, Cloud, CloudConfig};
use dwlink_host::engine::{Engine, Options, PluginDataSource, Report};
use dwlink_host::plugin::{Plugin, PluginRuntime, RuntimeOptions};
use dwlink_host::spec::{Access, LinkSpec};
use dwlink_sim::{SimConfig, Simulator, Timing};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

async fn run_once(plugin: &Plugin, spec: &LinkSpec) -> (Duration, Report) {
    let sim = Simulator::start(SimConfig {
        timing: Timing::Immediate,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let state = tempfile::tempdir().unwrap();
    let keys = sim.account("B").unwrap();
    let started = Instant::now();
    let cloud = Cloud::new(CloudConfig::with_endpoint(Some(sim.endpoint()))).unwrap();
    let b = cloud.with_credentials(
        "B",
        cloud::Credentials::access_key(keys.access_key_id, keys.access_key_secret),
    );
    let Access::RoleArn { arn, .. } = &spec.source.access else {
        panic!("the seed link assumes a role")
    };
    let a: Arc<dyn Caller> =
        Arc::new(cloud.assume_role("A", &b, AssumeRoleSpec::new(arn.clone(), &spec.link_id())));
    let ds = Arc::new(PluginDataSource::new(plugin.clone(), a.clone()));
    let engine = Engine::new(
        a,
        Arc::new(b),
        ds,
        spec.clone(),
        Some(state.path().to_path_buf()),
    )
    .with_accounting(cloud)
    .with_options(Options {
        poll_interval: Duration::from_millis(1),
        password: Some("bench-password".into()),
        progress: false,
        ..Options::default()
    });
    let report = engine.run().await;
    let took = started.elapsed();
    sim.shutdown().await;
    (took, report)
}

fn bench(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let plugin_path = root().join("target/plugins/rds-mysql.wasm");
    assert!(
        plugin_path.exists(),
        "{} is missing: run `cargo xtask plugins` first",
        plugin_path.display()
    );
    let cache = tempfile::tempdir().unwrap();
    let runtime = PluginRuntime::with_options(RuntimeOptions {
        cache_dir: Some(cache.path().to_path_buf()),
        ..Default::default()
    })
    .unwrap();
    let plugin = tokio.block_on(runtime.load_file(&plugin_path)).unwrap();

    let mut group = c.benchmark_group("link_seed");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for mode in ["peering", "cen"] {
        let path = root().join(format!("examples/links/seed-{mode}.toml"));
        let spec = LinkSpec::load(Path::new(&path)).unwrap();
        let (_, report) = tokio.block_on(run_once(&plugin, &spec));
        assert_eq!(report.exit_code(), 0, "{}", report.to_text());
        eprintln!(
            "link_seed/{mode}: calls: {} (every call: the engine's, the plugin's, AssumeRole)",
            report.calls
        );
        group.bench_function(mode, |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| tokio.block_on(run_once(&plugin, &spec)).0)
                    .sum()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
