//! Shared helpers for the plugin runtime tests: fixture paths, one runtime per test process
//! (with its compile cache in a temp dir), and a test double for the cloud caller.

#![allow(dead_code)]

pub mod bench;

use dwlink_host::cloud::{BoxFuture, Call, Caller, CloudError};
use dwlink_host::plugin::{PluginRuntime, RuntimeOptions};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// `target/fixtures/<name>.wasm`, built by `cargo xtask plugins`.
pub fn fixture(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/fixtures")
        .join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "{} is missing: run `cargo xtask plugins` first (it builds the test fixtures)",
        path.display()
    );
    path
}

/// `target/plugins/<name>.wasm`, built by `cargo xtask plugins`.
pub fn plugin(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/plugins")
        .join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "{} is missing: run `cargo xtask plugins` first",
        path.display()
    );
    path
}

/// `target/plugins/<name>.wasm` of a JavaScript plugin, which `cargo xtask plugins` builds only
/// when node and npm are installed. Without them the test is skipped: `None`, and the reason on
/// stderr (`test` names the test). With them the file must be there, as any built plugin.
pub fn js_plugin(name: &str, test: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/plugins")
        .join(format!("{name}.wasm"));
    let runs = |program: &str| {
        std::process::Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !runs("node") || !runs("npm") {
        eprintln!(
            "SKIPPED {test} (JavaScript plugin {name}): node and npm are not both installed, so \
             `cargo xtask plugins` does not build {}; install Node.js 20 or later to run it",
            path.display()
        );
        return None;
    }
    assert!(
        path.exists(),
        "{} is missing although node and npm are installed: run `cargo xtask plugins` first (or \
         `npm ci && node build.mjs` in examples/plugins/{name})",
        path.display()
    );
    Some(path)
}

/// A compile-cache directory for the tests, under cargo's per-target temp dir (never the
/// user's cache).
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plugin-cache")
}

pub fn runtime() -> PluginRuntime {
    PluginRuntime::with_options(RuntimeOptions {
        cache_dir: Some(cache_dir()),
        ..RuntimeOptions::default()
    })
    .expect("runtime")
}

/// A caller that answers canned JSON per action and records every call it receives.
#[derive(Default)]
pub struct FakeCaller {
    pub answers: BTreeMap<String, serde_json::Value>,
    pub calls: Mutex<Vec<Call>>,
}

impl FakeCaller {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn answer(mut self, action: &str, body: serde_json::Value) -> Self {
        self.answers.insert(action.into(), body);
        self
    }

    pub fn shared(self) -> Arc<FakeCaller> {
        Arc::new(self)
    }

    pub fn actions(&self) -> Vec<String> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|c| c.action.clone())
            .collect()
    }
}

impl Caller for FakeCaller {
    fn call(&self, call: Call) -> BoxFuture<'_, Result<serde_json::Value, CloudError>> {
        self.calls.lock().unwrap().push(call.clone());
        let answer = self.answers.get(&call.action).cloned();
        Box::pin(async move {
            answer.ok_or_else(|| CloudError {
                http_status: 404,
                code: "InvalidAction.NotFound".into(),
                message: format!("the fake caller has no answer for {}", call.action),
                request_id: "FAKE-REQUEST".into(),
                recommend: String::new(),
                account: "test-account".into(),
                region: call.region.clone(),
                product: call.product.clone(),
                action: call.action.clone(),
            })
        })
    }

    fn account(&self) -> &str {
        "test-account"
    }
}

/// The answers the well-behaved fixture needs for `discover` of `rm-1`.
pub fn rds_caller() -> Arc<FakeCaller> {
    FakeCaller::new()
        .answer(
            "DescribeDBInstanceAttribute",
            serde_json::json!({"Items": {"DBInstanceAttribute": [{
                "VpcId": "vpc-a", "VSwitchId": "vsw-a", "ZoneId": "cn-hangzhou-h",
                "ConnectionString": "rm-1.mysql.rds.aliyuncs.com", "Port": "3306",
                "DBInstanceStatus": "Running"
            }]}}),
        )
        .answer(
            "DescribeVSwitchAttributes",
            serde_json::json!({"CidrBlock": "192.168.6.0/24"}),
        )
        .answer(
            "DescribeDBInstanceIPArrayList",
            serde_json::json!({"Items": {"DBInstanceIPArray": [
                {"DBInstanceIPArrayName": "default", "SecurityIPList": "127.0.0.1,10.0.0.0/8", "DBInstanceIPArrayAttribute": ""}
            ]}}),
        )
        .answer("ModifySecurityIps", serde_json::json!({"RequestId": "R-1"}))
        .shared()
}
