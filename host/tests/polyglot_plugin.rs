//! The JavaScript example plugin (`examples/plugins/rds-postgresql`, built with componentize-qjs)
//! loaded through the real plugin runtime, against a fake cloud caller holding the seed
//! scenario's RDS answers for a PostgreSQL instance. It checks the same contract as the Rust
//! plugins (0.2): typed capabilities, discovery with the endpoint's VPC address, idempotent
//! Append/Delete whitelist changes that leave other entries alone and pass the host's capability
//! gate, no waiting after a change (the host waits), errors as values, connection properties
//! without a password.
//!
//! Needs `target/plugins/rds-postgresql.wasm` (`cargo xtask plugins` builds it when node and npm
//! are installed); without node and npm the test prints why and passes without checking
//! anything, with them a missing file fails it.

mod common;

use dwlink_host::cloud::{BoxFuture, Call, Caller, CloudError};
use dwlink_host::plugin::{
    Access, Capability, ConnectionRequest, InstanceRef, Plugin, PluginError, PluginFailure,
    PluginRuntime, RuntimeOptions, WhitelistParams,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

const ID: &str = "pgm-bp1simpgsqlsrc00001";
const REGION: &str = "cn-hangzhou";
const HOST: &str = "pgm-bp1simpgsqlsrc00001.pg.rds.aliyuncs.com";
const VPC: &str = "vpc-bp1simhzvpc000000001";
const VSW: &str = "vsw-bp1simhzvsw00000000h";

fn wasm() -> Option<PathBuf> {
    common::js_plugin("rds-postgresql", "polyglot_plugin")
}

fn instance() -> InstanceRef {
    InstanceRef {
        id: ID.into(),
        region: REGION.into(),
    }
}

/// The cloud's state for one RDS PostgreSQL instance; ModifySecurityIps changes it the way
/// the simulator does.
struct State {
    groups: Vec<(String, Vec<String>)>,
    /// Statuses answered before `Running`, one per DescribeDBInstanceAttribute.
    statuses: VecDeque<String>,
    /// Action -> error code to answer with.
    failures: BTreeMap<String, String>,
    calls: Vec<Call>,
}

struct FakeRds {
    state: Mutex<State>,
}

impl FakeRds {
    fn seed() -> Arc<FakeRds> {
        Arc::new(FakeRds {
            state: Mutex::new(State {
                groups: vec![
                    ("default".into(), vec!["10.20.0.0/16".into()]),
                    (
                        "app".into(),
                        vec!["192.168.6.0/24".into(), "192.168.7.15".into()],
                    ),
                ],
                statuses: VecDeque::new(),
                failures: BTreeMap::new(),
                calls: Vec::new(),
            }),
        })
    }

    fn groups(&self) -> Vec<(String, Vec<String>)> {
        self.state.lock().unwrap().groups.clone()
    }

    fn calls_to(&self, action: &str) -> Vec<Call> {
        let state = self.state.lock().unwrap();
        state
            .calls
            .iter()
            .filter(|c| c.action == action)
            .cloned()
            .collect()
    }

    fn answer(&self, call: &Call) -> Result<Value, (u16, String)> {
        let mut state = self.state.lock().unwrap();
        if let Some(code) = state.failures.get(&call.action) {
            return Err((400, code.clone()));
        }
        let p = |name: &str| call.params.get(name).unwrap_or_default().to_string();
        match (call.product.as_str(), call.action.as_str()) {
            ("Rds", "DescribeDBInstanceAttribute") => {
                if p("DBInstanceId") != ID {
                    return Err((404, "InvalidDBInstanceId.NotFound".into()));
                }
                let status = state
                    .statuses
                    .pop_front()
                    .unwrap_or_else(|| "Running".into());
                Ok(
                    json!({"RequestId": "R-attr", "Items": {"DBInstanceAttribute": [{
                        "DBInstanceId": ID, "RegionId": REGION, "ZoneId": "cn-hangzhou-h",
                        "VpcId": VPC, "VSwitchId": VSW, "InstanceNetworkType": "VPC",
                        "ConnectionString": HOST, "Port": "5432", "DBInstanceStatus": status,
                        "Engine": "PostgreSQL", "EngineVersion": "16.0"
                    }]}}),
                )
            }
            ("Rds", "DescribeDBInstanceNetInfo") => Ok(json!({
                "RequestId": "R-net", "InstanceNetworkType": "VPC",
                "DBInstanceNetInfos": {"DBInstanceNetInfo": [
                    {"ConnectionString": "pgm-bp1simpgsqlsrc00001o.pg.rds.aliyuncs.com",
                     "IPType": "Public", "Port": "5432"},
                    {"ConnectionString": HOST, "IPAddress": "192.168.6.40", "IPType": "Private",
                     "Port": "5432", "VPCId": VPC, "VSwitchId": VSW, "ConnectionStringType": "Normal"}
                ]}
            })),
            ("Vpc", "DescribeVSwitchAttributes") => Ok(json!({
                "RequestId": "R-vsw", "VSwitchId": p("VSwitchId"), "VpcId": VPC,
                "ZoneId": "cn-hangzhou-h", "CidrBlock": "192.168.6.0/24", "Status": "Available"
            })),
            ("Rds", "DescribeDBInstanceIPArrayList") => {
                let list: Vec<Value> = state
                    .groups
                    .iter()
                    .map(|(name, ips)| {
                        json!({"DBInstanceIPArrayName": name, "DBInstanceIPArrayAttribute": "",
                               "SecurityIPType": "IPv4", "SecurityIPList": ips.join(",")})
                    })
                    .collect();
                Ok(json!({"RequestId": "R-ips", "Items": {"DBInstanceIPArray": list}}))
            }
            ("Rds", "ModifySecurityIps") => {
                let ips: Vec<String> = p("SecurityIps").split(',').map(String::from).collect();
                let name = p("DBInstanceIPArrayName");
                let pos = state.groups.iter().position(|(n, _)| *n == name);
                match (p("ModifyMode").as_str(), pos) {
                    ("Append", Some(i)) => state.groups[i].1.extend(ips),
                    ("Append", None) => state.groups.push((name, ips)),
                    ("Delete", Some(i)) => {
                        state.groups[i].1.retain(|e| !ips.contains(e));
                        if state.groups[i].1.is_empty() && name != "default" {
                            state.groups.remove(i);
                        }
                    }
                    ("Delete", None) => {}
                    // Cover (or anything else): what a plugin must never send.
                    (_, Some(i)) => state.groups[i].1 = ips,
                    (_, None) => state.groups.push((name, ips)),
                }
                Ok(json!({"RequestId": "R-mod", "TaskId": "1"}))
            }
            _ => Err((404, "InvalidAction.NotFound".into())),
        }
    }
}

impl Caller for FakeRds {
    fn call(&self, call: Call) -> BoxFuture<'_, Result<Value, CloudError>> {
        let answer = self.answer(&call);
        self.state.lock().unwrap().calls.push(call.clone());
        Box::pin(async move {
            answer.map_err(|(http_status, code)| CloudError {
                http_status,
                message: format!("the fake cloud answers {code}"),
                code,
                request_id: "FAKE-REQUEST".into(),
                recommend: String::new(),
                account: "A".into(),
                region: call.region.clone(),
                product: call.product.clone(),
                action: call.action.clone(),
            })
        })
    }

    fn account(&self) -> &str {
        "A"
    }
}

fn failure(e: PluginError) -> PluginFailure {
    match e {
        PluginError::Failure { failure, .. } => failure,
        other => panic!("expected the plugin's own error, got: {other}"),
    }
}

/// Loads the plugin twice (cold compile, then from the compile cache) and prints the times
/// next to a Rust plugin's when that is built: they go into the plugin's README. Nothing is
/// asserted about them (no timed assertions).
async fn load(path: &std::path::Path) -> Plugin {
    let rust = path.with_file_name("rds-mysql.wasm");
    if rust.exists() {
        measure(&rust).await;
    }
    measure(path).await
}

async fn measure(path: &std::path::Path) -> Plugin {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("polyglot-cache-{name}"));
    let _ = std::fs::remove_dir_all(&cache);
    let runtime = |cache_dir: Option<PathBuf>| {
        PluginRuntime::with_options(RuntimeOptions {
            cache_dir,
            ..RuntimeOptions::default()
        })
        .expect("runtime")
    };
    let start = Instant::now();
    runtime(Some(cache.clone()))
        .load_file(path)
        .await
        .expect("cold load");
    let cold = start.elapsed();
    let start = Instant::now();
    let plugin = runtime(Some(cache))
        .load_file(path)
        .await
        .expect("cached load");
    let cached = start.elapsed();
    let start = Instant::now();
    const CALLS: u32 = 20;
    for _ in 0..CALLS {
        plugin.describe().await.expect("describe");
    }
    let per_call = start.elapsed() / CALLS;
    eprintln!(
        "{name} ({} bytes): cold load {cold:?}, load from cache {cached:?}, \
         instantiate + describe {per_call:?}",
        plugin.size_bytes()
    );
    plugin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn javascript_rds_postgresql_plugin_keeps_the_contract() {
    let Some(path) = wasm() else { return };
    let plugin = load(&path).await;

    // describe: what it is and exactly the calls it makes, as typed capabilities.
    let info = plugin.info();
    assert_eq!(plugin.name(), "rds-postgresql");
    assert_eq!(plugin.wit_version(), "0.2.0");
    assert_eq!(info.datasource_type, "postgresql");
    assert_eq!(info.product, "Rds");
    assert_eq!(info.api_version, "2014-08-15");
    assert_eq!(
        info.actions,
        [
            "rds:DescribeDBInstanceAttribute",
            "rds:DescribeDBInstanceNetInfo",
            "rds:DescribeDBInstanceIPArrayList",
            "rds:ModifySecurityIps",
            "vpc:DescribeVSwitchAttributes",
        ]
    );
    let read =
        |product: &str, version: &str, action: &str, instance_param: Option<&str>| Capability {
            product: product.into(),
            version: version.into(),
            action: action.into(),
            access: Access::Read,
            instance_param: instance_param.map(Into::into),
            whitelist: None,
        };
    let rds_read = |action| read("Rds", "2014-08-15", action, Some("DBInstanceId"));
    assert_eq!(
        info.capabilities,
        [
            rds_read("DescribeDBInstanceAttribute"),
            rds_read("DescribeDBInstanceNetInfo"),
            rds_read("DescribeDBInstanceIPArrayList"),
            Capability {
                product: "Rds".into(),
                version: "2014-08-15".into(),
                action: "ModifySecurityIps".into(),
                access: Access::WhitelistWrite,
                instance_param: Some("DBInstanceId".into()),
                whitelist: Some(WhitelistParams {
                    group_param: "DBInstanceIPArrayName".into(),
                    entries_param: "SecurityIps".into(),
                    mode_param: "ModifyMode".into(),
                    append_mode: "Append".into(),
                    delete_mode: "Delete".into(),
                    fixed_params: vec![],
                }),
            },
            read("Vpc", "2016-04-28", "DescribeVSwitchAttributes", None),
        ]
    );

    // discover: the private endpoint (not the public one), VPC, vSwitch, zone, CIDR.
    let cloud = FakeRds::seed();
    let location = plugin.discover(cloud.clone(), &instance()).await.unwrap();
    assert_eq!(location.region, REGION);
    assert_eq!(location.zone, "cn-hangzhou-h");
    assert_eq!(location.vpc_id, VPC);
    assert_eq!(location.vswitch_id, VSW);
    assert_eq!(location.vswitch_cidr.to_string(), "192.168.6.0/24");
    assert_eq!(location.endpoints.len(), 1);
    assert_eq!(location.endpoints[0].host, HOST);
    assert_eq!(location.endpoints[0].port, 5432);
    assert_eq!(location.endpoints[0].role, "primary");
    assert_eq!(
        location.endpoints[0].address,
        Some("192.168.6.40".parse().unwrap()),
        "the endpoint's VPC address, from IPAddress"
    );
    assert!(location.running);
    let vsw = cloud.calls_to("DescribeVSwitchAttributes");
    assert_eq!(vsw[0].product, "Vpc");
    assert_eq!(vsw[0].params.get("VSwitchId"), Some(VSW));

    // whitelist: list, add only what is missing, twice, then remove exactly what was asked.
    let groups = plugin
        .whitelist_list(cloud.clone(), &instance())
        .await
        .unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[1].name, "app");
    assert_eq!(groups[1].entries, ["192.168.6.0/24", "192.168.7.15"]);
    let before = cloud.groups();
    let wanted = vec!["172.16.66.0/24".to_string(), "192.168.7.15/32".to_string()];
    cloud
        .state
        .lock()
        .unwrap()
        .statuses
        .extend(["Running".into(), "ModifyingSecurityIps".into()]);
    for _ in 0..2 {
        plugin
            .whitelist_add(cloud.clone(), &instance(), "dataworks", &wanted)
            .await
            .unwrap();
    }
    // The plugin read the status once before the change (after discover's read) and did not
    // wait after it: the host polls `discover` until the instance is running again.
    assert_eq!(cloud.calls_to("DescribeDBInstanceAttribute").len(), 2);
    let mut running = Vec::new();
    for _ in 0..2 {
        let l = plugin.discover(cloud.clone(), &instance()).await.unwrap();
        running.push(l.running);
    }
    assert_eq!(running, [false, true]);
    let modify = cloud.calls_to("ModifySecurityIps");
    assert_eq!(modify.len(), 1, "the second add must write nothing");
    assert_eq!(modify[0].params.get("ModifyMode"), Some("Append"));
    assert_eq!(
        modify[0].params.get("DBInstanceIPArrayName"),
        Some("dataworks")
    );
    assert_eq!(
        modify[0].params.get("SecurityIps"),
        Some("172.16.66.0/24,192.168.7.15/32")
    );
    let mut expected = before.clone();
    expected.push(("dataworks".into(), wanted.clone()));
    assert_eq!(cloud.groups(), expected);
    plugin
        .whitelist_remove(
            cloud.clone(),
            &instance(),
            "dataworks",
            &["192.168.7.15".into(), "9.9.9.9".into()],
        )
        .await
        .unwrap();
    let modify = cloud.calls_to("ModifySecurityIps");
    assert_eq!(modify.len(), 2);
    assert_eq!(modify[1].params.get("ModifyMode"), Some("Delete"));
    assert_eq!(modify[1].params.get("SecurityIps"), Some("192.168.7.15/32"));
    expected.last_mut().unwrap().1 = vec!["172.16.66.0/24".into()];
    assert_eq!(cloud.groups(), expected, "only the asked entry went away");
    assert!(
        cloud
            .calls_to("ModifySecurityIps")
            .iter()
            .all(|c| c.params.get("ModifyMode") != Some("Cover"))
    );

    // Errors are values the user can act on; bad input never reaches the cloud.
    let e = failure(
        plugin
            .whitelist_add(cloud.clone(), &instance(), "app", &["0.0.0.0/0".into()])
            .await
            .unwrap_err(),
    );
    assert!(
        matches!(&e, PluginFailure::InvalidInput(m) if m.contains("every address")),
        "{e}"
    );
    let missing = InstanceRef {
        id: "pgm-doesnotexist".into(),
        region: REGION.into(),
    };
    let e = failure(plugin.discover(cloud.clone(), &missing).await.unwrap_err());
    assert!(
        matches!(&e, PluginFailure::NotFound(m) if m.contains("pgm-doesnotexist") && m.contains(REGION)),
        "{e}"
    );
    cloud.state.lock().unwrap().failures.insert(
        "DescribeDBInstanceIPArrayList".into(),
        "Throttling.User".into(),
    );
    let e = failure(
        plugin
            .whitelist_list(cloud.clone(), &instance())
            .await
            .unwrap_err(),
    );
    match e {
        PluginFailure::Cloud {
            code,
            message,
            request_id,
            http_status,
        } => {
            assert_eq!(code, "Throttling.User");
            assert_eq!(request_id, "FAKE-REQUEST");
            assert_eq!(http_status, 400);
            assert!(message.contains(ID), "{message}");
        }
        other => panic!("expected a cloud error, got {other}"),
    }
    assert_eq!(cloud.groups(), expected, "no failed call changed anything");
    cloud.state.lock().unwrap().failures.clear();

    // Contract 0.2: the plugin returns once RDS accepts the change and does not wait for the
    // instance to settle; the host polls `discover`, which reports it not running meanwhile.
    let busy = FakeRds::seed();
    busy.state.lock().unwrap().statuses.extend(
        std::iter::once("Running".to_string())
            .chain(std::iter::repeat_n("ModifyingSecurityIps".to_string(), 40)),
    );
    plugin
        .whitelist_add(busy.clone(), &instance(), "dataworks", &wanted)
        .await
        .unwrap();
    assert_eq!(busy.calls_to("DescribeDBInstanceAttribute").len(), 1);
    assert_eq!(busy.calls_to("ModifySecurityIps").len(), 1);
    let settling = plugin.discover(busy.clone(), &instance()).await.unwrap();
    assert!(!settling.running);
    assert_eq!(settling.status, "ModifyingSecurityIps");

    // Connection properties: DataWorks `postgresql`, cross-account instance mode, no password.
    let props = plugin
        .connection_properties(
            cloud.clone(),
            &ConnectionRequest {
                instance: instance(),
                location,
                owner_uid: "1862710497302214".into(),
                role_name: "dataworks-cross-account".into(),
                database: "sales".into(),
                username: "dw_reader".into(),
                env_type: "Dev".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        Value::Object(props),
        json!({
            "envType": "Dev", "regionId": REGION, "instanceId": ID, "database": "sales",
            "username": "dw_reader", "crossAccountOwnerId": "1862710497302214",
            "crossAccountRoleName": "dataworks-cross-account"
        })
    );
}
