//! The link engine: observe -> preflight -> plan (pure) -> apply (journaled) -> verify.
//!
//! The engine codes against two seams only: [`Caller`] (one per account, from the cloud client)
//! and [`DataSource`] (the data-source plugin, from the plugin runtime). The CLI builds an
//! [`Engine`] from those and a validated [`LinkSpec`].

pub mod apply;
mod datasource;
mod destroy;
pub mod diagnose;
pub mod facts;
pub mod guard;
pub mod journal;
pub mod observe;
pub mod plan;
mod plugin_source;
pub mod preflight;
mod rebuild;
pub mod report;
pub mod verify;
mod wait;
mod whitelist;

pub use datasource::DataSource;
pub use diagnose::{Diagnosis, Hop, HopStatus};
pub use facts::Facts;
pub use journal::Journal;
pub use plan::{Action, Op, Plan};
pub use plugin_source::PluginDataSource;
pub use report::{Report, Status};
pub use verify::Untrusted;

use crate::cloud::{BoxFuture, Call, Caller, CloudError};
use crate::spec::LinkSpec;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Which account an action runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Account A: owns the data source.
    Source,
    /// Account B: owns DataWorks (and the CEN dwlink creates).
    Dataworks,
}

/// Knobs of a run. Defaults suit the real cloud; tests shorten the polling.
#[derive(Clone)]
pub struct Options {
    /// Pause between two polls of an async state.
    pub poll_interval: Duration,
    /// Polls before a waiter gives up (bounded waiting).
    pub max_polls: u32,
    /// The database password; when `None` it is read from the link's `password_env` variable.
    pub password: Option<String>,
    /// Print progress lines on stderr.
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            poll_interval: Duration::from_secs(2),
            max_polls: 300,
            password: None,
            progress: true,
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password.
        f.debug_struct("Options")
            .field("poll_interval", &self.poll_interval)
            .field("max_polls", &self.max_polls)
            .field("password", &self.password.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// One link's engine: the two accounts, the plugin, the link and where its journal lives.
pub struct Engine {
    pub(crate) a: Arc<Counted>,
    pub(crate) b: Arc<Counted>,
    pub(crate) ds: Arc<dyn DataSource>,
    pub(crate) spec: LinkSpec,
    pub(crate) journal_dir: PathBuf,
    pub(crate) opts: Options,
    /// The plugin file, named in the commands diagnose suggests.
    pub(crate) plugin_path: Option<PathBuf>,
    /// stderr is a terminal: waits show a live line.
    pub(crate) interactive: bool,
    /// The waits under way (what, current status, since), for that line.
    live: std::sync::Mutex<Vec<(String, String, std::time::Instant)>>,
    /// The cloud client whose accounting [`calls`](Self::calls) reports, when set.
    accounting: Option<crate::cloud::Cloud>,
}

impl Engine {
    /// `caller_a` acts in the data-source account (usually through AssumeRole), `caller_b` in the
    /// DataWorks account. `journal_dir` defaults to [`journal::default_dir`].
    pub fn new(
        caller_a: Arc<dyn Caller>,
        caller_b: Arc<dyn Caller>,
        datasource: Arc<dyn DataSource>,
        spec: LinkSpec,
        journal_dir: Option<PathBuf>,
    ) -> Engine {
        Engine {
            a: Arc::new(Counted::new(caller_a)),
            b: Arc::new(Counted::new(caller_b)),
            ds: datasource,
            spec,
            journal_dir: journal_dir.unwrap_or_else(journal::default_dir),
            opts: Options::default(),
            plugin_path: None,
            interactive: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            live: Default::default(),
            accounting: None,
        }
    }

    pub fn with_options(mut self, opts: Options) -> Engine {
        self.opts = opts;
        self
    }

    /// Names the plugin file in the fixes diagnose suggests (`dwlink-host run PLUGIN ...`).
    pub fn with_plugin_path(mut self, path: PathBuf) -> Engine {
        self.plugin_path = Some(path);
        self
    }

    pub fn spec(&self) -> &LinkSpec {
        &self.spec
    }

    pub fn link_id(&self) -> String {
        self.spec.link_id()
    }

    pub(crate) fn caller(&self, side: Side) -> &dyn Caller {
        match side {
            Side::Source => self.a.as_ref(),
            Side::Dataworks => self.b.as_ref(),
        }
    }

    /// Counts every call through `cloud`'s own accounting (the plugin's and `AssumeRole`
    /// included, per account) instead of the engine's own callers only.
    pub fn with_accounting(mut self, cloud: crate::cloud::Cloud) -> Engine {
        self.accounting = Some(cloud);
        self
    }

    /// Read and write calls made so far: from the cloud client's accounting when there is one
    /// (every call, per account), else those of the engine's own two callers.
    pub fn calls(&self) -> report::Calls {
        match &self.accounting {
            Some(cloud) => {
                let by_account = cloud.call_counts();
                report::Calls {
                    read: by_account.values().map(|c| c.reads).sum(),
                    write: by_account.values().map(|c| c.writes).sum(),
                    by_account,
                }
            }
            None => report::Calls {
                read: self.a.reads() + self.b.reads(),
                write: self.a.writes() + self.b.writes(),
                by_account: Default::default(),
            },
        }
    }

    /// How long one resource still changing is waited for: `max_polls` polls.
    pub(crate) fn max_wait(&self) -> Duration {
        self.opts
            .poll_interval
            .saturating_mul(self.opts.max_polls.max(1))
    }

    pub(crate) fn progress(&self, line: &str) {
        if !self.opts.progress {
            return;
        }
        if !self.interactive {
            eprintln!("{line}");
            return;
        }
        // A step starting while others wait: print above the live line, then redraw it.
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        eprintln!("\r\x1b[2K{line}");
        render_waits(&live);
    }

    /// On a terminal, one line rewritten in place while waits last: what is awaited, its
    /// current status, for how long (several at once when independent steps wait together).
    /// Elsewhere (CI logs, pipes) nothing: the plain line that started the wait is enough.
    pub(crate) fn waiting(&self, what: &str, status: Option<&str>, since: std::time::Instant) {
        if !(self.opts.progress && self.interactive) {
            return;
        }
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let shown = status.unwrap_or("not visible yet").to_string();
        match live.iter_mut().find(|w| w.0 == what) {
            Some(w) => w.1 = shown,
            None => live.push((what.to_string(), shown, since)),
        }
        render_waits(&live);
    }

    /// Ends a [`waiting`](Self::waiting) line.
    pub(crate) fn waited(&self, what: &str, since: std::time::Instant) {
        if !(self.opts.progress && self.interactive) {
            return;
        }
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|w| w.0 != what);
        eprintln!(
            "\r\x1b[2K  {what}: done after {:.1} s",
            since.elapsed().as_secs_f64()
        );
        render_waits(&live);
    }
}

/// The live line: a spinner and every wait under way.
fn render_waits(live: &[(String, String, std::time::Instant)]) {
    const SPIN: [char; 4] = ['|', '/', '-', '\\'];
    let Some(oldest) = live.iter().map(|w| w.2).min() else {
        return;
    };
    let spin = SPIN[(oldest.elapsed().as_secs_f64() * 4.0) as usize % SPIN.len()];
    let waits = live
        .iter()
        .map(|(what, status, since)| {
            format!("{what}: {status} ({:.0} s)", since.elapsed().as_secs_f64())
        })
        .collect::<Vec<_>>()
        .join("; ");
    eprint!("\r\x1b[2K{spin} waiting for {waits}");
}

/// A caller that counts the calls it forwards (read vs write, by action name).
pub(crate) struct Counted {
    inner: Arc<dyn Caller>,
    reads: AtomicU64,
    writes: AtomicU64,
}

impl Counted {
    fn new(inner: Arc<dyn Caller>) -> Counted {
        Counted {
            inner,
            reads: AtomicU64::new(0),
            writes: AtomicU64::new(0),
        }
    }
    fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }
    fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }
}

impl Caller for Counted {
    fn call(&self, call: Call) -> BoxFuture<'_, Result<serde_json::Value, CloudError>> {
        let counter = if crate::cloud::is_read(&call.action) {
            &self.reads
        } else {
            &self.writes
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.inner.call(call)
    }
    fn account(&self) -> &str {
        self.inner.account()
    }
}

/// An engine failure: what went wrong, where, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Cloud(Box<CloudError>),
    #[error("plugin {plugin}: {call}: {message}")]
    Plugin {
        plugin: String,
        call: String,
        message: String,
    },
    /// A plugin claim the host's own read contradicts (a wrong vSwitch CIDR, connection
    /// properties naming another instance...): refused before it steers a write. Exit 1.
    #[error(transparent)]
    Untrusted(Box<verify::Untrusted>),
    #[error("preflight: {0}")]
    Preflight(String),
    /// Bad input discovered at run time (e.g. the password variable is not set).
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Other(String),
}

impl From<CloudError> for EngineError {
    fn from(e: CloudError) -> Self {
        EngineError::Cloud(Box::new(e))
    }
}

impl From<verify::Untrusted> for EngineError {
    fn from(e: verify::Untrusted) -> Self {
        EngineError::Untrusted(Box::new(e))
    }
}
