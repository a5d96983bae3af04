//! The runtime against real components: a well-behaved plugin works end to end through the
//! capability gate; every hostile behaviour is contained with a typed error, and the same
//! runtime keeps serving a well-behaved plugin after each one.

mod common;

use common::{FakeCaller, fixture, rds_caller, runtime};
use dwlink_host::cloud::{BoxFuture, Call, Caller, CloudError};
use dwlink_host::engine::{DataSource, PluginDataSource};
use dwlink_host::plugin::text::{LINE_CAP, MESSAGE_CAP, has_control};
use dwlink_host::plugin::{
    ConnectionRequest, InstanceRef, LimitOverrides, Limits, PluginError, PluginFailure,
    PluginRuntime, RuntimeOptions,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn instance(id: &str) -> InstanceRef {
    InstanceRef {
        id: id.into(),
        region: "cn-hangzhou".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_well_behaved_plugin_works_through_the_gate() {
    let rt = runtime();
    let plugin = rt.load_file(&fixture("well-behaved")).await.unwrap();
    assert_eq!(plugin.name(), "well-behaved");
    assert_eq!(plugin.info().version, "1.2.3");
    assert_eq!(plugin.wit_version(), "0.1.0");
    assert_eq!(plugin.sha256().len(), 64);
    assert_eq!(plugin.limits(), Limits::DEFAULT);

    let caller = rds_caller();
    let location = plugin
        .discover(caller.clone(), &instance("rm-1"))
        .await
        .unwrap();
    assert_eq!(location.vpc_id, "vpc-a");
    assert_eq!(location.vswitch_cidr.to_string(), "192.168.6.0/24");
    assert_eq!(location.endpoints[0].port, 3306);
    assert!(location.running);
    assert_eq!(
        caller.actions(),
        ["DescribeDBInstanceAttribute", "DescribeVSwitchAttributes"]
    );
    let sent = caller.calls.lock().unwrap()[0].clone();
    assert_eq!(sent.product, "Rds");
    assert_eq!(sent.version, "2014-08-15");
    assert_eq!(sent.region, "cn-hangzhou");
    assert_eq!(sent.params.get("DBInstanceId"), Some("rm-1"));

    let groups = plugin
        .whitelist_list(caller.clone(), &instance("rm-1"))
        .await
        .unwrap();
    assert_eq!(groups[0].entries, ["127.0.0.1", "10.0.0.0/8"]);
    plugin
        .whitelist_add(
            caller.clone(),
            &instance("rm-1"),
            "dataworks",
            &["10.1.0.0/24".into()],
        )
        .await
        .unwrap();
    let modify = caller.calls.lock().unwrap().last().unwrap().clone();
    assert_eq!(modify.params.get("SecurityIps"), Some("10.1.0.0/24"));
    assert_eq!(modify.params.get("ModifyMode"), Some("Append"));

    let props = plugin
        .connection_properties(
            caller.clone(),
            &ConnectionRequest {
                instance: instance("rm-1"),
                location,
                owner_uid: "1234".into(),
                role_name: "dw-role".into(),
                database: "db".into(),
                username: "u".into(),
                env_type: "Dev".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(props["crossAccountOwnerId"], "1234");
    assert!(!props.contains_key("password"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloud_error_reaches_the_plugin_and_comes_back_typed() {
    let rt = runtime();
    let plugin = rt.load_file(&fixture("well-behaved")).await.unwrap();
    let err = plugin
        .discover(FakeCaller::new().shared(), &instance("rm-1"))
        .await
        .unwrap_err();
    match &err {
        PluginError::Failure {
            failure:
                PluginFailure::Cloud {
                    code,
                    request_id,
                    http_status,
                    ..
                },
            ..
        } => {
            assert_eq!(code, "InvalidAction.NotFound");
            assert_eq!(request_id, "FAKE-REQUEST");
            assert_eq!(*http_status, 404);
        }
        other => panic!("expected a cloud failure, got {other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("plugin well-behaved: discover: cloud error InvalidAction.NotFound"),
        "{err}"
    );
}

/// Runs the well-behaved plugin's discover; proves the runtime still serves.
async fn still_serving(rt: &dwlink_host::plugin::PluginRuntime) {
    let good = rt.load_file(&fixture("well-behaved")).await.unwrap();
    let location = good
        .discover(rds_caller(), &instance("rm-1"))
        .await
        .unwrap();
    assert_eq!(location.vswitch_id, "vsw-a");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_behaviour_is_contained_and_the_host_keeps_serving() {
    let rt = runtime();
    let hostile = rt.load_file(&fixture("hostile")).await.unwrap();
    assert_eq!(hostile.name(), "hostile");

    // A plain id is answered normally.
    let caller = FakeCaller::new().shared();
    assert!(
        hostile
            .discover(caller.clone(), &instance("rm-ok"))
            .await
            .is_ok()
    );

    for id in [
        "loop",
        "memory-bomb",
        "recursion",
        "undeclared-action",
        "panic",
        "malformed-cidr",
        "read-file",
        "read-env",
        "open-socket",
    ] {
        let caller = FakeCaller::new().shared();
        let err = hostile
            .discover(caller.clone(), &instance(id))
            .await
            .expect_err(id);
        let text = err.to_string();
        eprintln!("{id}: {text}");
        assert!(
            text.starts_with("plugin hostile: discover: "),
            "{id}: {text}"
        );
        match id {
            // Default limits: fuel (1e9) runs out before the 2 s deadline on any machine
            // that runs the loop at >= 0.5 G instructions/s; either way the loop is stopped.
            "loop" => assert!(
                matches!(
                    err,
                    PluginError::OutOfFuel { .. } | PluginError::Deadline { .. }
                ),
                "{text}"
            ),
            "memory-bomb" => {
                assert!(
                    matches!(err, PluginError::MemoryLimit { limit_mib: 64, .. }),
                    "{text}"
                );
                assert_eq!(
                    text,
                    "plugin hostile: discover: exceeded its memory cap of 64 MiB"
                );
            }
            "recursion" => assert!(matches!(err, PluginError::Trap { .. }), "{text}"),
            "undeclared-action" => {
                assert_eq!(
                    err,
                    PluginError::UndeclaredAction {
                        plugin: "hostile".into(),
                        call: "discover",
                        action: "vpc:DeleteVpc".into()
                    }
                );
                assert!(
                    caller.actions().is_empty(),
                    "the refused call must never reach the caller"
                );
            }
            "panic" => assert_eq!(
                err,
                PluginError::Panic {
                    plugin: "hostile".into(),
                    call: "discover",
                    message: "hostile fixture panics on purpose".into()
                }
            ),
            "malformed-cidr" => {
                assert!(matches!(err, PluginError::Malformed { .. }), "{text}");
                assert!(text.contains("300.1.2.0/24"), "{text}");
            }
            "read-file" => match &err {
                PluginError::Denied { import, .. } => {
                    assert!(import.starts_with("wasi:filesystem/"), "{text}")
                }
                other => panic!("read-file: {other:?}"),
            },
            "read-env" => match &err {
                PluginError::Failure {
                    failure: PluginFailure::Other(m),
                    ..
                } => {
                    assert!(
                        m.starts_with("read-env: 0 variables [], 0 arguments []"),
                        "{m}"
                    )
                }
                other => panic!("read-env: {other:?}"),
            },
            "open-socket" => match &err {
                PluginError::Denied { import, .. } => {
                    assert!(import.starts_with("wasi:sockets/"), "{text}")
                }
                other => panic!("open-socket: {other:?}"),
            },
            _ => unreachable!(),
        }
        // The same runtime, the same hostile plugin and a well-behaved one all keep working.
        still_serving(&rt).await;
        assert!(
            hostile
                .discover(FakeCaller::new().shared(), &instance("rm-ok"))
                .await
                .is_ok(),
            "after {id}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_loop_hits_the_deadline_when_fuel_is_plentiful() {
    let rt = runtime();
    let hostile = rt.load_file(&fixture("hostile")).await.unwrap();
    let limits = Limits::DEFAULT
        .with_overrides(&LimitOverrides {
            deadline_ms: Some(300),
            fuel: Some(Limits::MAX.fuel),
            ..Default::default()
        })
        .unwrap();
    let err = hostile
        .with_limits(limits)
        .discover(FakeCaller::new().shared(), &instance("loop"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin hostile: discover: exceeded its 300 ms deadline"
    );
    still_serving(&rt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_loop_runs_out_of_a_small_fuel_budget() {
    let rt = runtime();
    let hostile = rt.load_file(&fixture("hostile")).await.unwrap();
    let limits = Limits::DEFAULT
        .with_overrides(&LimitOverrides {
            fuel: Some(5_000_000),
            ..Default::default()
        })
        .unwrap();
    let err = hostile
        .with_limits(limits)
        .discover(FakeCaller::new().shared(), &instance("loop"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        PluginError::OutOfFuel {
            plugin: "hostile".into(),
            call: "discover",
            fuel: 5_000_000
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_properties_must_be_an_object_without_a_password() {
    let rt = runtime();
    let hostile = rt.load_file(&fixture("hostile")).await.unwrap();
    let good = rt.load_file(&fixture("well-behaved")).await.unwrap();
    let location = good
        .discover(rds_caller(), &instance("rm-1"))
        .await
        .unwrap();
    for (id, needle) in [
        ("malformed-password", "password"),
        ("malformed-json", "not a JSON object"),
    ] {
        let request = ConnectionRequest {
            instance: instance(id),
            location: location.clone(),
            owner_uid: "1".into(),
            role_name: "r".into(),
            database: "d".into(),
            username: "u".into(),
            env_type: "Dev".into(),
        };
        let err = hostile
            .connection_properties(FakeCaller::new().shared(), &request)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                PluginError::Malformed {
                    call: "connection-properties",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains(needle), "{err}");
        assert!(
            !err.to_string().contains("stolen"),
            "the value must not be echoed: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_files_are_refused_at_load_with_the_reason() {
    let rt = runtime();
    let err = rt.load_file(&fixture("other-world")).await.err().unwrap();
    assert!(matches!(err, PluginError::WrongWorld { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("dwlink-test:calculator/math@0.1.0"),
        "{err}"
    );

    let err = rt
        .load_file(&fixture("future-version"))
        .await
        .err()
        .unwrap();
    match &err {
        PluginError::UnsupportedWitVersion {
            found, supported, ..
        } => {
            assert_eq!(found, "9.0.0");
            assert_eq!(supported, "0.1.0, 0.2.0");
        }
        other => panic!("{other:?}"),
    }

    let err = rt
        .load("core.wasm", b"\0asm\x01\0\0\0")
        .await
        .err()
        .unwrap();
    assert!(matches!(err, PluginError::CoreModule { .. }), "{err}");
    let err = rt
        .load("notes.txt", b"not wasm at all")
        .await
        .err()
        .unwrap();
    assert!(matches!(err, PluginError::NotWasm { .. }), "{err}");
    let err = rt
        .load_file(std::path::Path::new("/nonexistent/p.wasm"))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, PluginError::Io { .. }), "{err}");
    still_serving(&rt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_version_section_survives_the_stripped_plugin_profile() {
    // target/fixtures/*.wasm are built with the `plugin` profile (strip = true).
    let bytes = std::fs::read(fixture("well-behaved")).unwrap();
    assert_eq!(
        dwlink_host::plugin::contract::read_wit_version("well-behaved.wasm", &bytes).unwrap(),
        dwlink_host::plugin::contract::WitVersion::V0_1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_share_one_loaded_plugin() {
    let rt = runtime();
    let plugin = Arc::new(rt.load_file(&fixture("well-behaved")).await.unwrap());
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let plugin = plugin.clone();
        tasks.push(tokio::spawn(async move {
            plugin.discover(rds_caller(), &instance("rm-1")).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().vpc_id, "vpc-a");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compiled_components_are_cached_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let options = || dwlink_host::plugin::RuntimeOptions {
        cache_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    // Compiled artifacts only (their names have no dot): the cache's worker thread adds
    // `*.stats` and `.cleanup*` files in the background.
    let files = || {
        walk(dir.path())
            .into_iter()
            .filter(|p| p.is_file() && !p.file_name().unwrap().to_string_lossy().contains('.'))
            .count()
    };
    assert_eq!(files(), 0);
    let rt = dwlink_host::plugin::PluginRuntime::with_options(options()).unwrap();
    rt.load_file(&fixture("well-behaved")).await.unwrap();
    let after_first = files();
    assert!(after_first > 0, "the compile cache wrote nothing");
    // A new runtime (as in a second process) finds the entry and adds none.
    let rt = dwlink_host::plugin::PluginRuntime::with_options(options()).unwrap();
    rt.load_file(&fixture("well-behaved")).await.unwrap();
    assert_eq!(files(), after_first, "{:#?}", walk(dir.path()));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

/// An RDS instance whose `ModifySecurityIps` performs the write (Append, Delete or Cover) and
/// then answers `ServiceUnavailable`, as when the response of an applied write is lost.
struct LossyRds {
    groups: Mutex<Vec<(String, Vec<String>)>>,
}

impl Caller for LossyRds {
    fn call(&self, call: Call) -> BoxFuture<'_, Result<serde_json::Value, CloudError>> {
        let answer = match call.action.as_str() {
            "DescribeDBInstanceAttribute" => {
                Ok(serde_json::json!({"Items": {"DBInstanceAttribute": [{
                    "VpcId": "vpc-a", "VSwitchId": "vsw-a", "ConnectionString": "rm-1.mysql.rds.aliyuncs.com",
                    "Port": "3306", "DBInstanceStatus": "Running"
                }]}}))
            }
            "DescribeDBInstanceIPArrayList" => {
                let groups = self.groups.lock().unwrap();
                let list: Vec<serde_json::Value> = groups
                    .iter()
                    .map(|(name, ips)| {
                        serde_json::json!({
                            "DBInstanceIPArrayName": name,
                            "SecurityIPList": ips.join(","),
                            "DBInstanceIPArrayAttribute": ""
                        })
                    })
                    .collect();
                Ok(serde_json::json!({"Items": {"DBInstanceIPArray": list}}))
            }
            "ModifySecurityIps" => {
                let p = |k: &str| call.params.get(k).unwrap_or_default().to_string();
                let (group, mode) = (p("DBInstanceIPArrayName"), p("ModifyMode"));
                let ips: Vec<String> = p("SecurityIps").split(',').map(str::to_string).collect();
                let mut groups = self.groups.lock().unwrap();
                if !groups.iter().any(|(g, _)| *g == group) {
                    groups.push((group.clone(), Vec::new()));
                }
                let entries = &mut groups.iter_mut().find(|(g, _)| *g == group).unwrap().1;
                match mode.as_str() {
                    "Cover" => *entries = ips,
                    "Delete" => entries.retain(|e| !ips.contains(e)),
                    _ => entries.extend(ips),
                }
                Err(CloudError {
                    http_status: 503,
                    code: "ServiceUnavailable".into(),
                    message: "the response was lost".into(),
                    request_id: "LOST-1".into(),
                    recommend: String::new(),
                    account: "test-account".into(),
                    region: call.region.clone(),
                    product: call.product.clone(),
                    action: call.action.clone(),
                })
            }
            other => panic!("unexpected call {other}"),
        };
        Box::pin(async move { answer })
    }

    fn account(&self) -> &str {
        "test-account"
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_names_a_plugin_that_covers_the_whitelist_and_then_fails() {
    let rt = runtime();
    let lossy = || {
        Arc::new(LossyRds {
            groups: Mutex::new(vec![
                ("default".into(), vec!["10.20.0.0/16".into()]),
                ("app".into(), vec!["192.168.7.15".into()]),
            ]),
        })
    };

    // The Cover fixture (contract 0.2): the gate refuses its `ModifyMode=Cover` before it is
    // sent, so the whitelist is untouched, and the refusal is the error whatever the plugin
    // made of it. (The guard's own check after a failed change is tested in plugin_source.rs.)
    let caller = lossy();
    let cover = rt.load_file(&fixture("cover-whitelist")).await.unwrap();
    let source = PluginDataSource::new(cover, caller.clone());
    let err = source
        .whitelist_add(
            instance("rm-1"),
            "app".into(),
            vec!["172.16.66.0/24".into()],
        )
        .await
        .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        matches!(
            err.downcast_ref::<PluginError>(),
            Some(PluginError::OutOfScope { call: "whitelist-add", action, reason, .. })
                if action == "rds:ModifySecurityIps" && reason.contains("ModifyMode = Cover")
        ),
        "{text}"
    );
    assert_eq!(
        caller.groups.lock().unwrap()[1],
        ("app".to_string(), vec!["192.168.7.15".to_string()]),
        "the Cover write never reached the cloud"
    );

    // The well-behaved fixture appends: the same failure is only its own error.
    let caller = lossy();
    let good = rt.load_file(&fixture("well-behaved")).await.unwrap();
    let source = PluginDataSource::new(good, caller.clone());
    let err = source
        .whitelist_add(
            instance("rm-1"),
            "app".into(),
            vec!["172.16.66.0/24".into()],
        )
        .await
        .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        matches!(
            err.downcast_ref::<PluginError>(),
            Some(PluginError::Failure {
                call: "whitelist-add",
                failure: PluginFailure::Cloud { .. },
                ..
            })
        ),
        "{text}"
    );
    assert!(!text.contains("did not ask for"), "{text}");
}

/// One event of the host's log: its level, target and fields (`message` among them).
#[derive(Debug, Clone)]
struct Logged {
    level: tracing::Level,
    target: String,
    fields: std::collections::BTreeMap<String, String>,
    thread: std::thread::ThreadId,
}

/// A tracing layer that keeps every event, for a test to read back.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Logged>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Fields<'a>(&'a mut std::collections::BTreeMap<String, String>);
        impl tracing::field::Visit for Fields<'_> {
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                self.0.insert(field.name().into(), value.into());
            }
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.insert(field.name().into(), format!("{value:?}"));
            }
        }
        let mut fields = std::collections::BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(Logged {
            level: *event.metadata().level(),
            target: event.metadata().target().into(),
            fields,
            thread: std::thread::current().id(),
        });
    }
}

/// The events the calling thread logs from now on (a `current_thread` test runs the plugin on
/// its own thread). One global subscriber keeps every event of the test process: with a scoped
/// `set_default`, an event whose callsite another test's thread registered first could be
/// missed, as tracing caches a callsite's interest for all threads (it did, now and then).
struct ThreadLog {
    all: Capture,
    thread: std::thread::ThreadId,
    start: usize,
}

impl ThreadLog {
    fn start() -> ThreadLog {
        use tracing_subscriber::layer::SubscriberExt;
        static ALL: std::sync::OnceLock<Capture> = std::sync::OnceLock::new();
        let all = ALL
            .get_or_init(|| {
                let all = Capture::default();
                tracing::subscriber::set_global_default(
                    tracing_subscriber::registry().with(all.clone()),
                )
                .expect("no other global subscriber in this test binary");
                all
            })
            .clone();
        tracing::callsite::rebuild_interest_cache();
        let start = all.0.lock().unwrap().len();
        ThreadLog {
            all,
            thread: std::thread::current().id(),
            start,
        }
    }

    fn events(&self) -> Vec<Logged> {
        self.all.0.lock().unwrap()[self.start..]
            .iter()
            .filter(|e| e.thread == self.thread)
            .cloned()
            .collect()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn guest_stdout_and_stderr_reach_the_host_log_tagged_with_the_plugin() {
    let log = ThreadLog::start();
    let forwarded = |plugin: &str, stream: &str| -> Vec<Logged> {
        log.events()
            .into_iter()
            .filter(|e| {
                e.fields.get("plugin").map(String::as_str) == Some(plugin)
                    && e.fields.get("stream").map(String::as_str) == Some(stream)
            })
            .collect()
    };

    let rt = runtime();
    // The well-behaved fixture's discover prints `stdout line from well-behaved`.
    let good = rt.load_file(&fixture("well-behaved")).await.unwrap();
    assert!(
        forwarded("well-behaved", "stdout").is_empty(),
        "describe prints nothing"
    );
    good.discover(rds_caller(), &instance("rm-1"))
        .await
        .unwrap();
    let lines = forwarded("well-behaved", "stdout");
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!(lines[0].fields["message"], "stdout line from well-behaved");
    assert_eq!(lines[0].level, tracing::Level::INFO);
    assert!(
        lines[0].target.starts_with("dwlink_host::plugin"),
        "{lines:#?}"
    );

    // A guest panic's message is on its stderr: forwarded too, under the hostile plugin's name.
    let hostile = rt.load_file(&fixture("hostile")).await.unwrap();
    hostile
        .discover(FakeCaller::new().shared(), &instance("panic"))
        .await
        .unwrap_err();
    let lines = forwarded("hostile", "stderr");
    assert!(
        lines
            .iter()
            .any(|e| e.fields["message"] == "hostile fixture panics on purpose"),
        "{lines:#?}"
    );
    assert!(forwarded("well-behaved", "stderr").is_empty());
}

/// A caller that answers every call after `delay` (a tokio sleep), counting the calls it got.
struct SlowCaller {
    delay: Duration,
    calls: AtomicUsize,
}

impl SlowCaller {
    fn new(delay: Duration) -> Arc<SlowCaller> {
        Arc::new(SlowCaller {
            delay,
            calls: AtomicUsize::new(0),
        })
    }

    fn count(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Caller for SlowCaller {
    fn call(&self, _call: Call) -> BoxFuture<'_, Result<serde_json::Value, CloudError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let delay = self.delay;
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            Ok(serde_json::json!({"Items": {"DBInstanceAttribute": []}}))
        })
    }

    fn account(&self) -> &str {
        "test-account"
    }
}

fn wall(ms: u64) -> Limits {
    Limits::DEFAULT
        .with_overrides(&LimitOverrides {
            wall_ms: Some(ms),
            ..Default::default()
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wall_budget_cuts_off_a_cloud_call_that_does_not_answer() {
    let rt = runtime();
    let hostile = rt.load_file(&fixture("hostile")).await.unwrap();
    // The cloud never answers in time; the plugin claims success whatever it gets.
    let caller = SlowCaller::new(Duration::from_secs(3600));
    let limited = hostile.with_limits(wall(200));
    let slow = instance("slow-cloud");
    let call = limited.discover(caller.clone(), &slow);
    // Only a guard against hanging the test run: nothing here measures time.
    let err = tokio::time::timeout(Duration::from_secs(300), call)
        .await
        .expect("the wall-time budget must end the call")
        .unwrap_err();
    assert_eq!(
        err,
        PluginError::WallBudget {
            plugin: "hostile".into(),
            call: "discover",
            budget: Duration::from_millis(200),
        }
    );
    assert!(
        err.to_string().starts_with(
            "plugin hostile: discover: exceeded its 200 ms wall-time budget (cloud waits included)"
        ),
        "{err}"
    );
    assert_eq!(caller.count(), 1);
    still_serving(&rt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wall_budget_stops_a_plugin_that_calls_the_cloud_in_a_loop() {
    let rt = runtime();
    let hostile = rt.load_file(&fixture("hostile")).await.unwrap();
    // Each answer takes at least 20 ms, so a 300 ms budget lets at most 15 calls finish and
    // one more start; the plugin ignores every error (dwlink.Budget included) and loops on.
    let caller = SlowCaller::new(Duration::from_millis(20));
    let err = hostile
        .with_limits(wall(300))
        .discover(caller.clone(), &instance("many-calls"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            PluginError::WallBudget {
                call: "discover",
                ..
            }
        ),
        "{err}"
    );
    let calls = caller.count();
    assert!(
        (1..=16).contains(&calls),
        "{calls} calls reached the caller"
    );
    still_serving(&rt).await;
}

/// Writes a file that starts like a component and is `size` bytes long (sparse: cheap).
fn sparse_component(dir: &std::path::Path, name: &str, size: u64) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, b"\0asm\x0d\0\x01\0").unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(size)
        .unwrap();
    path
}

fn leb(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn section(id: u8, body: &[u8], out: &mut Vec<u8>) {
    out.push(id);
    leb(body.len() as u64, out);
    out.extend_from_slice(body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_components_are_refused_before_compiling() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    // Above the default 32 MiB: refused from its size alone, before it is read or compiled.
    let path = sparse_component(dir.path(), "huge.wasm", 33 << 20);
    let err = rt.load_file(&path).await.err().unwrap();
    assert_eq!(
        err,
        PluginError::TooLarge {
            path: path.display().to_string(),
            size: 33 << 20,
            limit: 32 << 20,
        }
    );
    assert!(err.is_load_error());
    assert!(err.to_string().contains("max_component_mib"), "{err}");

    // A lowered cap applies to bytes handed over directly too.
    let small = PluginRuntime::with_options(RuntimeOptions {
        cache_dir: None,
        limits: Limits {
            max_component_mib: 1,
            ..Limits::DEFAULT
        },
        ..RuntimeOptions::default()
    })
    .unwrap();
    let bytes = std::fs::read(fixture("well-behaved")).unwrap();
    small.load("well-behaved.wasm", &bytes).await.unwrap();
    let mut padded = bytes.clone();
    padded.resize((1 << 20) + 1, 0);
    let err = small.load("padded.wasm", &padded).await.err().unwrap();
    assert!(
        matches!(err, PluginError::TooLarge { size, .. } if size == (1 << 20) + 1),
        "{err}"
    );

    // Small enough on disk but 8.5 MiB of code (17 functions of 512 KiB): refused from its
    // code section's size, before compiling.
    let mut code = Vec::new();
    leb(17, &mut code);
    for _ in 0..17 {
        let body = 512 << 10;
        leb(body, &mut code);
        code.push(0);
        code.extend(std::iter::repeat_n(0x01u8, body as usize - 2));
        code.push(0x0b);
    }
    let mut module = b"\0asm\x01\0\0\0".to_vec();
    let mut version = vec![dwlink_host::plugin::WIT_VERSION_SECTION.len() as u8];
    version.extend_from_slice(dwlink_host::plugin::WIT_VERSION_SECTION.as_bytes());
    version.extend_from_slice(b"0.1.0");
    section(1, &[1, 0x60, 0, 0], &mut module); // one type: [] -> []
    let mut functions = vec![17u8]; // 17 functions, each of type 0
    functions.resize(18, 0);
    section(3, &functions, &mut module);
    section(0, &version, &mut module);
    section(10, &code, &mut module);
    let mut component = b"\0asm\x0d\0\x01\0".to_vec();
    section(1, &module, &mut component);
    let err = rt.load("code.wasm", &component).await.err().unwrap();
    match &err {
        PluginError::TooMuchCode {
            what: "bytes of code",
            found,
            limit,
            ..
        } => assert!(found > limit, "{err}"),
        other => panic!("expected TooMuchCode, got {other:?}"),
    }
    assert!(err.is_load_error());
    still_serving(&rt).await;
}

#[tokio::test(flavor = "current_thread")]
async fn plugin_text_reaches_logs_and_errors_sanitised_and_capped() {
    let log = ThreadLog::start();
    let events = || -> Vec<Logged> {
        log.events()
            .into_iter()
            .filter(|e| e.fields.get("plugin").map(String::as_str) == Some("hostile"))
            .collect()
    };

    let rt = runtime();
    let hostile = rt.load_file(&fixture("hostile")).await.unwrap();
    assert_eq!(
        hostile.info().summary,
        r"misbehaves on purpose\u{1b}[2J\nplugin well-behaved: connected"
    );

    // Escapes, a fake "connected" line and embedded newlines in host.log, stdout, stderr and
    // the error: each shows up escaped, on its own line, tagged with the plugin.
    let err = hostile
        .discover(FakeCaller::new().shared(), &instance("escape-log"))
        .await
        .unwrap_err();
    match &err {
        PluginError::Failure {
            failure: PluginFailure::NotFound(m),
            ..
        } => assert_eq!(
            m,
            r"\u{1b}[2J\u{1b}[1;1Hconnected\nINFO dwlink: all good\r\u{0}"
        ),
        other => panic!("escape-log: {other:?}"),
    }
    assert!(!has_control(&err.to_string()), "{err}");
    let logged = events();
    // host.log lines keep their level (WARN here); the host's own DEBUG line about the failed
    // call carries the plugin's name too.
    let message = |stream: Option<&str>| -> Vec<String> {
        logged
            .iter()
            .filter(|e| e.fields.get("stream").map(String::as_str) == stream)
            .filter(|e| stream.is_some() || e.level == tracing::Level::WARN)
            .map(|e| e.fields["message"].clone())
            .collect()
    };
    assert_eq!(
        message(None),
        [
            r"\u{1b}[2J\u{1b}[Hconnected to rds-mysql: ok\n2030-01-01T00:00:00Z  INFO dwlink: link applied"
        ]
    );
    assert_eq!(
        message(Some("stdout")),
        [r"\u{1b}[31mred\u{1b}[0m\rconnected: yes\u{7}"]
    );
    assert_eq!(
        message(Some("stderr")),
        [r"\u{1b}]0;owned\u{7}stderr \u{9b}2J line"]
    );

    // A panic message.
    let err = hostile
        .discover(FakeCaller::new().shared(), &instance("escape-panic"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        PluginError::Panic {
            plugin: "hostile".into(),
            call: "discover",
            message: r"\u{1b}[2Jboom\rconnected".into()
        }
    );

    // A data field with an escape is refused, quoted escaped.
    let err = hostile
        .discover(FakeCaller::new().shared(), &instance("escape-zone"))
        .await
        .unwrap_err();
    assert!(matches!(err, PluginError::Malformed { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(r"zone `cn-hangzhou-h\u{1b}[2J` contains a control character"),
        "{err}"
    );

    // A 40 MiB error message (also logged whole by the plugin) is cut to about 2 KiB.
    let before = events().len();
    let err = hostile
        .discover(FakeCaller::new().shared(), &instance("huge-error"))
        .await
        .unwrap_err();
    let PluginError::Failure {
        failure: PluginFailure::Other(m),
        ..
    } = &err
    else {
        panic!("huge-error: {err:?}")
    };
    assert!(
        m.starts_with(r"\u{1b}[2J\u{1b}[2J\u{1b}[2J\u{1b}[2JEEEE"),
        "{}",
        &m[..80]
    );
    assert!(m.len() <= MESSAGE_CAP + 40, "{} bytes", m.len());
    assert!(m.ends_with("more bytes)"), "{}", &m[m.len() - 40..]);
    assert!(err.to_string().len() < MESSAGE_CAP + 200);
    let huge_lines: Vec<Logged> = events()[before..].to_vec();
    assert!(!huge_lines.is_empty());
    for e in &huge_lines {
        assert!(e.fields["message"].len() <= LINE_CAP + 40, "{e:?}");
    }

    // Nothing the plugin wrote reached the log with a raw control character.
    for e in events() {
        for (k, v) in &e.fields {
            assert!(!has_control(v), "{k} = {v:?}");
        }
    }
}
