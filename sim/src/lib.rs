//! dwlink-sim: an Alibaba Cloud simulator that speaks the real OpenAPI wire protocol.
//!
//! One HTTP endpoint serves every product (dispatch on API version and action), with V3 and V1
//! signature verification, multi-account state keyed by (account, region), async lifecycles,
//! ClientToken idempotency, fault injection and a loopback-only admin API. Start it in-process
//! with [`Simulator::start`] or as `dwlink-host sim`. See `FRAMEWORK.md` to add a product.

pub mod admin;
pub mod auth;
pub mod connectivity;
pub mod error;
pub mod faults;
pub mod idempotency;
pub mod lifecycle;
pub mod products;
pub mod registry;
pub mod request;
pub mod scenario;
pub mod server;
pub mod state;

pub use admin::{ResourceView, StateView, Tamper};
pub use error::{ApiError, ApiResult};
pub use faults::{FaultEffect, FaultRule, FaultSettings};
pub use lifecycle::{Pacer, Timing};
pub use scenario::Scenario;
pub use server::RequestRecord;

use serde::{Deserialize, Serialize};
use server::{Shared, lock};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// `127.0.0.1:0` picks a free port.
    pub listen: SocketAddr,
    pub scenario: Scenario,
    pub faults: FaultSettings,
    /// How async steps complete (immediate, delay, after N reads).
    pub timing: Timing,
    /// Multiplies nominal delays in `Timing::Delay` mode, and injected fault latency.
    pub time_scale: f64,
    /// Seed for generated ids and secrets.
    pub seed: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            scenario: Scenario::default_seed(),
            faults: FaultSettings::default(),
            timing: Timing::Delay,
            time_scale: 1.0,
            seed: 0,
        }
    }
}

/// An account as the ready file lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub name: String,
    pub uid: String,
    pub region: String,
    pub access_key_id: String,
    pub access_key_secret: String,
}

/// A RAM role as the ready file lists it (one entry per trusted account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleInfo {
    pub account: String,
    pub arn: String,
    pub trusted_account: String,
}

/// The ready file: `{"endpoint", "accounts": [...], "roles": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyInfo {
    pub endpoint: String,
    pub accounts: Vec<AccountInfo>,
    pub roles: Vec<RoleInfo>,
}

pub struct Simulator;

impl Simulator {
    /// Builds the world from the scenario, binds, and serves in the background.
    pub async fn start(config: SimConfig) -> anyhow::Result<SimHandle> {
        let pacer = Pacer {
            timing: config.timing,
            time_scale: config.time_scale,
        };
        let world = config.scenario.build(pacer, config.seed)?;
        let shared = Arc::new(Shared::new(world, config.faults));
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| {
                anyhow::anyhow!("the simulator cannot listen on {}: {e}", config.listen)
            })?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app =
            server::router(shared.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(SimHandle {
            addr,
            shared,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// A running simulator. Dropping it stops the server.
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn accounts(&self) -> Vec<AccountInfo> {
        lock(&self.shared.world)
            .accounts
            .iter()
            .map(|a| AccountInfo {
                name: a.name.clone(),
                uid: a.uid.clone(),
                region: a.region.clone(),
                access_key_id: a.access_key_id.clone(),
                access_key_secret: a.access_key_secret.clone(),
            })
            .collect()
    }

    /// The account with this scenario name.
    pub fn account(&self, name: &str) -> Option<AccountInfo> {
        self.accounts().into_iter().find(|a| a.name == name)
    }

    pub fn roles(&self) -> Vec<RoleInfo> {
        let w = lock(&self.shared.world);
        let name = |uid: &str| {
            w.account(uid)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| uid.to_string())
        };
        let mut out = Vec::new();
        for (uid, g) in &w.globals {
            for r in g.roles.values() {
                for t in &r.trusted_uids {
                    out.push(RoleInfo {
                        account: name(uid),
                        arn: r.arn(),
                        trusted_account: name(t),
                    });
                }
            }
        }
        out
    }

    pub fn ready_info(&self) -> ReadyInfo {
        ReadyInfo {
            endpoint: self.endpoint(),
            accounts: self.accounts(),
            roles: self.roles(),
        }
    }

    /// Writes the ready file atomically (temp file + rename), so a watcher never reads half.
    pub fn write_ready_file(&self, path: &Path) -> std::io::Result<()> {
        let json =
            serde_json::to_string_pretty(&self.ready_info()).map_err(std::io::Error::other)?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, json)?;
        std::fs::rename(&tmp, path)
    }

    /// The admin view (`GET /_sim/state`).
    pub fn state(&self) -> StateView {
        self.shared.state()
    }

    /// The requests served so far (`GET /_sim/requests`).
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log).clone()
    }

    /// Replaces the fault settings (`POST /_sim/faults`): reseeds the RNG and restarts the
    /// rules' call counts.
    pub fn set_faults(&self, faults: FaultSettings) {
        lock(&self.shared.faults).set(faults);
    }

    /// The current fault settings (`GET /_sim/faults`), with any rules added since.
    pub fn faults(&self) -> FaultSettings {
        lock(&self.shared.faults).settings().clone()
    }

    /// Appends one targeted fault rule (`POST /_sim/faults/rules`), keeping the other settings,
    /// the random sequence and the other rules' call counts; this rule counts calls from now.
    pub fn add_fault_rule(&self, rule: FaultRule) {
        lock(&self.shared.faults).add_rule(rule);
    }

    /// Changes the world behind the client's back (`POST /_sim/break`).
    pub fn tamper(&self, t: &Tamper) -> Result<(), String> {
        admin::tamper(&mut lock(&self.shared.world), t, std::time::Instant::now())
    }

    /// Direct access to the world, for tests and for in-process tools.
    pub fn with_world<R>(&self, f: impl FnOnce(&mut state::World) -> R) -> R {
        f(&mut lock(&self.shared.world))
    }

    /// Stops accepting requests and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
