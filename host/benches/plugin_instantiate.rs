//! Instantiate-from-cache plus one `describe` call (goal: <= 100 µs median), with the
//! on-demand and the pooling allocator; and the cold compile of one plugin.
//!
//! Needs `cargo xtask plugins` (it uses `target/fixtures/well-behaved.wasm`).

use criterion::{Criterion, criterion_group, criterion_main};
use dwlink_host::plugin::{PluginRuntime, RuntimeOptions};
use std::path::PathBuf;
use std::time::Duration;

fn fixture() -> PathBuf {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/fixtures/well-behaved.wasm");
    assert!(
        path.exists(),
        "{} is missing: run `cargo xtask plugins` first",
        path.display()
    );
    path
}

fn bench(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let path = fixture();
    let bytes = std::fs::read(&path).unwrap();

    let mut group = c.benchmark_group("plugin_instantiate");
    group
        .sample_size(200)
        .measurement_time(Duration::from_secs(4));
    for pooling in [false, true] {
        let rt = PluginRuntime::with_options(RuntimeOptions {
            cache_dir: Some(cache.path().to_path_buf()),
            pooling,
            ..Default::default()
        })
        .unwrap();
        let plugin = tokio.block_on(rt.load_file(&path)).unwrap();
        let name = if pooling {
            "describe_pooling"
        } else {
            "describe_on_demand"
        };
        group.bench_function(name, |b| {
            b.iter(|| tokio.block_on(plugin.describe()).unwrap())
        });
    }
    group.finish();

    let mut group = c.benchmark_group("plugin_load");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("cold_compile", |b| {
        let rt = PluginRuntime::with_options(RuntimeOptions {
            cache_dir: None,
            ..Default::default()
        })
        .unwrap();
        b.iter(|| {
            tokio
                .block_on(rt.load("well-behaved.wasm", &bytes))
                .unwrap()
        })
    });
    group.bench_function("from_disk_cache", |b| {
        b.iter(|| {
            // A new runtime each time, as a new process would have.
            let rt = PluginRuntime::with_options(RuntimeOptions {
                cache_dir: Some(cache.path().to_path_buf()),
                ..Default::default()
            })
            .unwrap();
            tokio
                .block_on(rt.load("well-behaved.wasm", &bytes))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
