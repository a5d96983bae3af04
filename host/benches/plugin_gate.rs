//! What the capability gate costs, side by side with what it guards: `Gate::check` of a read
//! and of a whitelist write, `scrub` of a typical answer, and a whole `discover` plus a whole
//! `whitelist-add` of the shipped rds-mysql plugin (contract 0.2) against an in-memory cloud
//! that answers at once, so the gate's share of a plugin call is visible.
//!
//! Needs `cargo xtask plugins` (it uses `target/plugins/rds-mysql.wasm`).

use criterion::{Criterion, criterion_group, criterion_main};
use dwlink_host::cloud::{BoxFuture, Call, Caller, CloudError};
use dwlink_host::plugin::gate::{self, Gate, Mode, Scope};
use dwlink_host::plugin::{InstanceRef, PluginRuntime, RuntimeOptions};
use serde_json::{Value, json};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const ID: &str = "rm-bp1simmysqlsource001";
const REGION: &str = "cn-hangzhou";
const CIDR: &str = "172.16.66.0/24";

/// Answers every call of the rds-mysql plugin with the seed scenario's values, at once.
struct Canned;

fn answer(action: &str) -> Value {
    let host = format!("{ID}.mysql.rds.aliyuncs.com");
    match action {
        "DescribeDBInstanceAttribute" => {
            json!({"RequestId": "r", "Items": {"DBInstanceAttribute": [{
            "DBInstanceId": ID, "RegionId": REGION, "ZoneId": "cn-hangzhou-h",
            "VpcId": "vpc-bp1simhzvpc000000001", "VSwitchId": "vsw-bp1simhzvsw00000000h",
            "InstanceNetworkType": "VPC", "ConnectionString": host, "Port": "3306",
            "DBInstanceStatus": "Running", "Engine": "MySQL", "EngineVersion": "8.0"}]}})
        }
        "DescribeDBInstanceNetInfo" => {
            json!({"RequestId": "r", "DBInstanceNetInfos": {"DBInstanceNetInfo": [{
            "ConnectionString": host, "IPAddress": "192.168.6.10", "IPType": "Private",
            "Port": "3306", "VPCId": "vpc-bp1simhzvpc000000001",
            "VSwitchId": "vsw-bp1simhzvsw00000000h", "ConnectionStringType": "Normal"}]}})
        }
        "DescribeVSwitchAttributes" => {
            json!({"RequestId": "r", "VSwitchId": "vsw-bp1simhzvsw00000000h",
            "VpcId": "vpc-bp1simhzvpc000000001", "ZoneId": "cn-hangzhou-h",
            "CidrBlock": "192.168.6.0/24"})
        }
        "DescribeDBInstanceIPArrayList" => {
            json!({"RequestId": "r", "Items": {"DBInstanceIPArray": [
            {"DBInstanceIPArrayName": "default", "DBInstanceIPArrayAttribute": "", "SecurityIPList": "10.20.0.0/16"},
            {"DBInstanceIPArrayName": "app", "DBInstanceIPArrayAttribute": "", "SecurityIPList": "192.168.7.15"}]}})
        }
        _ => json!({"RequestId": "r"}),
    }
}

impl Caller for Canned {
    fn call(&self, call: Call) -> BoxFuture<'_, Result<Value, CloudError>> {
        let body = answer(&call.action);
        Box::pin(async move { Ok(body) })
    }

    fn account(&self) -> &str {
        "A"
    }
}

fn plugin_path() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/plugins/rds-mysql.wasm");
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
    let rt = PluginRuntime::with_options(RuntimeOptions {
        cache_dir: Some(cache.path().to_path_buf()),
        ..Default::default()
    })
    .unwrap();
    let plugin = tokio.block_on(rt.load_file(&plugin_path())).unwrap();
    let instance = InstanceRef {
        id: ID.into(),
        region: REGION.into(),
    };
    let gate = Gate::new(&plugin.info().capabilities);
    let read = Call::new("Rds", "2014-08-15", "DescribeDBInstanceAttribute", REGION)
        .params(dwlink_acs::Params(vec![("DBInstanceId".into(), ID.into())]));
    let write = Call::new("Rds", "2014-08-15", "ModifySecurityIps", REGION).params(
        dwlink_acs::Params(vec![
            ("DBInstanceId".into(), ID.into()),
            ("DBInstanceIPArrayName".into(), "dataworks".into()),
            ("ModifyMode".into(), "Append".into()),
            ("SecurityIps".into(), CIDR.into()),
        ]),
    );
    let read_scope = Scope::read(&instance);
    let write_scope = Scope::write(&instance, "dataworks", &[CIDR.into()], Mode::Append);

    let mut group = c.benchmark_group("plugin_gate");
    group
        .sample_size(100)
        .measurement_time(Duration::from_secs(3));
    group.bench_function("check_read", |b| {
        b.iter(|| {
            gate.check(black_box(&read_scope), black_box(&read))
                .unwrap()
        })
    });
    group.bench_function("check_whitelist_write", |b| {
        b.iter(|| {
            gate.check(black_box(&write_scope), black_box(&write))
                .unwrap()
        })
    });
    let typical = answer("DescribeDBInstanceAttribute");
    group.bench_function("scrub_answer", |b| {
        b.iter(|| {
            let mut v = typical.clone();
            gate::scrub(black_box(&mut v))
        })
    });
    let caller: Arc<dyn Caller> = Arc::new(Canned);
    group.bench_function("discover_rds_mysql_3_calls", |b| {
        b.iter(|| {
            tokio
                .block_on(plugin.discover(caller.clone(), &instance))
                .unwrap()
        })
    });
    group.bench_function("whitelist_add_rds_mysql_3_calls", |b| {
        b.iter(|| {
            tokio
                .block_on(plugin.whitelist_add(
                    caller.clone(),
                    &instance,
                    "dataworks",
                    &[CIDR.to_string()],
                ))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
