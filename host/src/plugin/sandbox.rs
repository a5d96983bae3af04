//! The per-call sandbox: the store's data ([`HostState`]), its resource limiter, the captured
//! guest stdout/stderr, and the minimal WASI linker (io + cli only).
//!
//! Deny by default: the `WasiCtx` is empty (no preopens, sockets, environment, arguments; stdin
//! closed). Only `wasi:io` and `wasi:cli` are linked, because a Rust std guest imports them for
//! its panic and allocation-error paths. Any other WASI interface a plugin imports (filesystem,
//! sockets, clocks, random) is stubbed with a function that traps when called, which the runtime
//! reports as [`PluginError::Denied`](super::PluginError::Denied).

use super::gate::{self, Gate, Refusal, Scope};
use super::limits::{self, Limits, human_duration};
use super::text::{self, sanitize};
use crate::cloud::{Call, Caller, CloudError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime::{ResourceLimiter, Store, UpdateDeadline};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream, WasiCli};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// How much guest stdout and stderr is kept per call; the rest is counted and dropped.
pub(crate) const OUTPUT_CAP: usize = 64 * 1024;
/// How much of `host.log` output is kept per call (bytes after sanitising).
pub(crate) const LOG_CAP: usize = 64 * 1024;
/// How many `host.log` lines are kept per call (empty messages cost no bytes but are lines).
pub(crate) const LOG_LINES_CAP: usize = 1024;
/// The epoch ticker's period.
pub(crate) const TICK: Duration = Duration::from_millis(10);
/// The guest yields to the async executor at least this often (in ticks), so one busy plugin
/// cannot hog a tokio worker.
const YIELD_EVERY_TICKS: u64 = 10;

/// Everything one call's store holds.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limiter: Limiter,
    /// The plugin's name, for logs and refusals.
    pub plugin: Arc<str>,
    /// The plugin's capabilities; empty while `describe` runs for the first time at load (it
    /// may call nothing anyway).
    pub gate: Arc<Gate>,
    /// Who makes cloud calls for this invocation and what they may touch; `None` for
    /// `describe`.
    pub caller: Option<(Arc<dyn Caller>, Scope)>,
    /// The first call the gate refused, if any: it fails the plugin call.
    pub refused: Option<Refusal>,
    /// Cloud calls made (or refused) in this invocation, and bytes of answers handed over.
    calls: u32,
    response_bytes: usize,
    /// Time spent waiting on the cloud, which does not count against the deadline.
    pub host_time: Duration,
    started: Instant,
    deadline: Duration,
    pub deadline_hit: bool,
    /// The wall-time budget of the whole call, cloud waits included.
    wall: Duration,
    /// Set when the wall-time budget ran out (the guest was interrupted, or a cloud call was
    /// cut off or refused): the call then fails with `PluginError::WallBudget` whatever the
    /// plugin made of it.
    pub wall_hit: bool,
    pub stdout: CappedPipe,
    pub stderr: CappedPipe,
    /// Bytes of `host.log` messages written so far (sanitised).
    pub logged: usize,
    /// `host.log` lines written so far.
    pub log_lines: usize,
}

impl HostState {
    pub fn new(
        plugin: Arc<str>,
        gate: Arc<Gate>,
        caller: Option<(Arc<dyn Caller>, Scope)>,
        limits: &Limits,
    ) -> Self {
        let stdout = CappedPipe::new(OUTPUT_CAP);
        let stderr = CappedPipe::new(OUTPUT_CAP);
        // Empty builder: no env, args, preopens or network; stdin closed.
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .build();
        HostState {
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter::new(limits),
            plugin,
            gate,
            caller,
            refused: None,
            calls: 0,
            response_bytes: 0,
            host_time: Duration::ZERO,
            started: Instant::now(),
            deadline: limits.deadline(),
            deadline_hit: false,
            wall: limits.wall(),
            wall_hit: false,
            stdout,
            stderr,
            logged: 0,
            log_lines: 0,
        }
    }

    /// Guest time used so far: wall-clock since the store was made, minus cloud waits.
    fn guest_time(&self) -> Duration {
        self.started.elapsed().saturating_sub(self.host_time)
    }

    /// What is left of the wall-time budget; zero once it is used up.
    fn wall_left(&self) -> Duration {
        self.wall.saturating_sub(self.started.elapsed())
    }
}

impl HostState {
    /// `host.call`: the capability gate, then the invocation's caller. The guest never sees
    /// credentials or signatures; it gets the JSON body (scrubbed of credential fields) or the
    /// cloud's error. A refusal is never sent and fails the plugin call.
    ///
    /// Within the call's wall-time budget: once it is used up, calls are refused without being
    /// sent, and a call in flight when it runs out is cut off (its future dropped); either way
    /// the guest gets a `dwlink.Budget` error and the call fails with
    /// [`PluginError::WallBudget`](super::PluginError::WallBudget).
    pub async fn cloud_call(&mut self, call: Call) -> Result<String, CloudError> {
        // Guest-chosen text: sanitised before it reaches a log line or an error.
        let shown = sanitize(
            &format!("{}:{}", call.product.to_ascii_lowercase(), call.action),
            text::FIELD_CAP,
        );
        let error = |code: &str, message: String| CloudError {
            http_status: 0,
            code: code.into(),
            message,
            request_id: String::new(),
            recommend: String::new(),
            account: String::new(),
            region: sanitize(&call.region, text::FIELD_CAP),
            product: sanitize(&call.product, text::FIELD_CAP),
            action: sanitize(&call.action, text::FIELD_CAP),
        };
        let Some((caller, scope)) = self.caller.clone() else {
            return Err(error(
                "dwlink.NoCloud",
                format!("plugin {}: describe must not call the cloud", self.plugin),
            ));
        };
        // Once the wall-time budget is spent, that is the answer to every later call.
        let budget = human_duration(self.wall);
        let left = self.wall_left();
        if left.is_zero() {
            self.wall_hit = true;
            return Err(error(
                "dwlink.Budget",
                format!(
                    "plugin {}: the call's wall-time budget of {budget} is used up; dwlink-host refused {shown} without sending it",
                    self.plugin
                ),
            ));
        }
        self.calls += 1;
        // After a refusal the plugin call has failed: nothing more is sent for it, in scope or
        // not (a plugin that shrugs off a refusal does not get to carry on).
        if let Some(first) = &self.refused {
            return Err(error(
                first.code(),
                format!(
                    "plugin {}: {shown} not sent: an earlier call of this plugin call ({}) was refused, and dwlink-host sends nothing more for it",
                    self.plugin,
                    first.action()
                ),
            ));
        }
        let checked = if self.calls > gate::MAX_CALLS {
            Err(Refusal::Budget {
                action: shown.clone(),
                reason: format!(
                    "more than {} cloud calls in one plugin call",
                    gate::MAX_CALLS
                ),
            })
        } else {
            self.gate.check(&scope, &call).map_err(Refusal::sanitized)
        };
        if let Err(refusal) = checked {
            tracing::warn!(plugin = %self.plugin, action = %refusal.action(), code = refusal.code(), "refused a plugin cloud call");
            let e = error(refusal.code(), refusal.message(&self.plugin));
            self.refused.get_or_insert(refusal);
            return Err(e);
        }
        tracing::debug!(plugin = %self.plugin, action = %shown, region = %sanitize(&call.region, text::FIELD_CAP), "plugin cloud call");
        let started = Instant::now();
        let result = tokio::time::timeout(left, caller.call(call.clone())).await;
        self.host_time += started.elapsed();
        let Ok(result) = result else {
            self.wall_hit = true;
            tracing::warn!(plugin = %self.plugin, action = %shown, "cut off a cloud call: the plugin call's wall-time budget of {budget} ran out");
            return Err(error(
                "dwlink.Budget",
                format!(
                    "plugin {}: the call's wall-time budget of {budget} ran out while waiting for {shown}; dwlink-host cut the request off",
                    self.plugin
                ),
            ));
        };
        if let Err(e) = &result
            && e.code == gate::READ_ONLY_CODE
        {
            self.refused.get_or_insert(Refusal::OutOfScope {
                action: shown.clone(),
                reason: "the command only reads".into(),
            });
        }
        let mut body = result?;
        let removed = gate::scrub(&mut body);
        if removed > 0 {
            tracing::info!(plugin = %self.plugin, action = %shown, removed, "removed credential fields from a cloud answer before the plugin saw it");
        }
        let text = serde_json::to_string(&body).unwrap_or_else(|_| "null".into());
        self.response_bytes += text.len();
        if self.response_bytes > gate::MAX_RESPONSE_BYTES {
            let refusal = Refusal::Budget {
                action: shown,
                reason: format!(
                    "more than {} MiB of cloud answers in one plugin call",
                    gate::MAX_RESPONSE_BYTES >> 20
                ),
            };
            let e = error(refusal.code(), refusal.message(&self.plugin));
            self.refused.get_or_insert(refusal);
            return Err(e);
        }
        Ok(text)
    }

    /// `host.log`: one line to the host log, tagged with the plugin's name, sanitised (escapes
    /// and newlines shown escaped, at most [`text::LINE_CAP`] bytes), within per-call caps of
    /// [`LOG_CAP`] bytes and [`LOG_LINES_CAP`] lines.
    pub fn log(&mut self, level: tracing::Level, message: &str) {
        if self.logged >= LOG_CAP || self.log_lines >= LOG_LINES_CAP {
            return;
        }
        let room = (LOG_CAP - self.logged).min(text::LINE_CAP);
        let message = sanitize(message, room);
        self.logged += message.len();
        self.log_lines += 1;
        let plugin = &*self.plugin;
        match level {
            tracing::Level::TRACE => tracing::trace!(plugin, "{message}"),
            tracing::Level::DEBUG => tracing::debug!(plugin, "{message}"),
            tracing::Level::INFO => tracing::info!(plugin, "{message}"),
            tracing::Level::WARN => tracing::warn!(plugin, "{message}"),
            tracing::Level::ERROR => tracing::error!(plugin, "{message}"),
        }
        if self.logged >= LOG_CAP || self.log_lines >= LOG_LINES_CAP {
            tracing::warn!(
                plugin,
                "plugin log cap of {LOG_CAP} bytes or {LOG_LINES_CAP} lines reached for this call; further lines dropped"
            );
        }
    }

    /// Forwards what the guest wrote on stdout and stderr to the host log, one event per line,
    /// tagged with the plugin's name and the stream, each line sanitised.
    pub fn forward_output(&self) {
        let plugin = &*self.plugin;
        for (stream, pipe) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            let (output, mut dropped) = pipe.take();
            // Escaping can make a line longer: the cap holds for what is written.
            let mut room = OUTPUT_CAP;
            for line in output.lines().filter(|l| !l.trim().is_empty()) {
                if room == 0 {
                    dropped += line.len() + 1;
                    continue;
                }
                let line = sanitize(line, text::LINE_CAP.min(room));
                room = room.saturating_sub(line.len());
                tracing::info!(plugin, stream, "{line}");
            }
            if dropped > 0 {
                tracing::warn!(
                    plugin,
                    stream,
                    "{dropped} more bytes dropped (cap {OUTPUT_CAP})"
                );
            }
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A store for one call, with fuel, the epoch deadline and the resource limiter installed.
pub(crate) fn new_store(
    engine: &wasmtime::Engine,
    state: HostState,
    limits: &Limits,
) -> wasmtime::Result<Store<HostState>> {
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    store.set_fuel(limits.fuel)?;
    // wasmtime 48 has no `Config` knob bounding lifted values; its per-store "hostcall fuel"
    // (default 128 MiB) caps the bytes copied out of the guest per lift: set it from the limits.
    store.set_hostcall_fuel(limits.lift_bytes());
    // The deadline must be set before instantiating (the default of 0 would fire at once).
    store.set_epoch_deadline(ticks_for(limits.deadline().min(limits.wall())));
    store.epoch_deadline_callback(|mut ctx| {
        let state = ctx.data_mut();
        let used = state.guest_time();
        if used >= state.deadline {
            state.deadline_hit = true;
            return Ok(UpdateDeadline::Interrupt);
        }
        let wall_left = state.wall_left();
        if wall_left.is_zero() {
            state.wall_hit = true;
            return Ok(UpdateDeadline::Interrupt);
        }
        // Cloud waits do not count against the deadline but do against the wall budget: check
        // again when the first of the two can have run out.
        Ok(UpdateDeadline::Yield(ticks_for(
            (state.deadline - used).min(wall_left),
        )))
    });
    Ok(store)
}

fn ticks_for(d: Duration) -> u64 {
    let ticks = d.as_millis().div_ceil(TICK.as_millis()) as u64;
    ticks.clamp(1, YIELD_EVERY_TICKS)
}

/// The store's resource limiter: caps linear memory (all the store's memories together),
/// tables and instances, and remembers that it refused a memory growth so the runtime can report
/// a memory cap rather than a bare trap.
pub(crate) struct Limiter {
    memory_bytes: usize,
    /// Bytes of linear memory the store's memories have together, as allowed so far. A store
    /// lives for one call and memories never shrink, so this only grows. (A growth allowed here
    /// that wasmtime then fails to perform stays counted: it errs on the safe side.)
    memory_total: usize,
    pub memory_denied: bool,
}

impl Limiter {
    pub(crate) fn new(limits: &Limits) -> Self {
        Limiter {
            memory_bytes: limits.memory_bytes(),
            memory_total: 0,
            memory_denied: false,
        }
    }
}

impl ResourceLimiter for Limiter {
    /// Called for every memory the store creates (`current` = 0) and for every growth; a
    /// component has up to [`limits::MAX_MEMORIES`] memories, and the cap is on their sum.
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self
            .memory_total
            .saturating_add(desired.saturating_sub(current));
        if total > self.memory_bytes || maximum.is_some_and(|m| desired > m) {
            self.memory_denied = true;
            // Trap at once instead of letting the guest's allocator limp on.
            wasmtime::bail!(
                "memory cap reached: growing linear memory to {desired} bytes would make {total} bytes over all memories"
            );
        }
        self.memory_total = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= limits::MAX_TABLE_ELEMENTS && maximum.is_none_or(|m| desired <= m))
    }

    fn instances(&self) -> usize {
        limits::MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        limits::MAX_TABLES
    }

    fn memories(&self) -> usize {
        limits::MAX_MEMORIES
    }
}

/// Guest stdout or stderr: kept in memory up to a cap, the excess counted and dropped (never a
/// trap: a chatty plugin must not fail because of its logging).
#[derive(Clone)]
pub(crate) struct CappedPipe {
    cap: usize,
    buffer: Arc<Mutex<Vec<u8>>>,
    dropped: Arc<AtomicUsize>,
}

impl CappedPipe {
    pub fn new(cap: usize) -> Self {
        CappedPipe {
            cap,
            buffer: Arc::default(),
            dropped: Arc::default(),
        }
    }

    fn push(&self, bytes: &[u8]) {
        let mut buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        let room = self.cap.saturating_sub(buffer.len());
        let keep = bytes.len().min(room);
        buffer.extend_from_slice(&bytes[..keep]);
        self.dropped
            .fetch_add(bytes.len() - keep, Ordering::Relaxed);
    }

    /// What was written (lossy UTF-8) and how many bytes were dropped.
    pub fn take(&self) -> (String, usize) {
        let buffer = std::mem::take(&mut *self.buffer.lock().unwrap_or_else(|e| e.into_inner()));
        (
            String::from_utf8_lossy(&buffer).into_owned(),
            self.dropped.swap(0, Ordering::Relaxed),
        )
    }

    pub fn peek(&self) -> String {
        String::from_utf8_lossy(&self.buffer.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

impl IsTerminal for CappedPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CappedPipe {
    async fn ready(&mut self) {}
}

impl OutputStream for CappedPipe {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for CappedPipe {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.push(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// `wasi:io` needs only the resource table; wasmtime-wasi's own marker for that is private.
struct IoTable;

impl HasData for IoTable {
    type Data<'a> = &'a mut ResourceTable;
}

/// The interfaces [`add_minimal_wasi`] links (any 0.2.x version).
const PROVIDED: &[&str] = &[
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:cli/exit",
    "wasi:cli/environment",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
];

/// Whether the sandbox links the WASI import `name` (e.g. `wasi:cli/stdout@0.2.6`).
pub(crate) fn provides(name: &str) -> bool {
    let (interface, version) = name.split_once('@').unwrap_or((name, ""));
    PROVIDED.contains(&interface) && version.starts_with("0.2.")
}

/// Starts the error of a call to an interface the sandbox does not provide.
pub(crate) const DENIED_MARKER: &str = "dwlink sandbox denied ";

/// Links `wasi:io` and `wasi:cli` (what a Rust std guest imports) and nothing else.
pub(crate) fn add_minimal_wasi(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    use wasmtime_wasi::cli::WasiCliView;
    use wasmtime_wasi::p2::bindings::{cli, io};
    let l = linker;
    io::error::add_to_linker::<HostState, IoTable>(l, |s| &mut s.table)?;
    io::poll::add_to_linker::<HostState, IoTable>(l, |s| &mut s.table)?;
    io::streams::add_to_linker::<HostState, IoTable>(l, |s| &mut s.table)?;
    cli::exit::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::environment::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::stdin::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::stdout::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::stderr::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_input::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_output::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_stdin::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_stdout::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_stderr::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    Ok(())
}

/// The message of a Rust panic printed on the guest's stderr, if there is one.
pub(crate) fn panic_message(stderr: &str) -> Option<String> {
    let after = stderr.split_once("panicked at ")?.1;
    // `panicked at src/lib.rs:1:2:\nmessage\nnote: ...`
    let (_, rest) = after.split_once('\n').unwrap_or((after, ""));
    let message: Vec<&str> = rest
        .lines()
        .take_while(|l| !l.starts_with("note: ") && !l.starts_with("stack backtrace"))
        .collect();
    let message = message.join(" ").trim().to_string();
    Some(if message.is_empty() {
        "(no message)".into()
    } else {
        sanitize(&message, text::MESSAGE_CAP)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_pipe_keeps_the_head_and_counts_the_rest() {
        let pipe = CappedPipe::new(4);
        pipe.push(b"abc");
        pipe.push(b"def");
        assert_eq!(pipe.take(), ("abcd".to_string(), 2));
        assert_eq!(pipe.take(), (String::new(), 0));
    }

    #[test]
    fn panic_message_is_extracted() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:97:24:\nboom here\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(panic_message(stderr).as_deref(), Some("boom here"));
        assert_eq!(panic_message("just noise"), None);
    }

    #[test]
    fn provided_interfaces_match_any_0_2_version() {
        assert!(provides("wasi:cli/stdout@0.2.6"));
        assert!(provides("wasi:io/streams@0.2.0"));
        assert!(!provides("wasi:filesystem/preopens@0.2.6"));
        assert!(!provides("wasi:cli/stdout@0.3.0"));
    }

    #[test]
    fn the_memory_cap_is_over_all_memories_together() {
        let mib = 1 << 20;
        let mut limiter = Limiter::new(&Limits {
            memory_mib: 4,
            ..Limits::DEFAULT
        });
        // Four memories of 1 MiB each fill the 4 MiB cap exactly.
        for _ in 0..4 {
            assert!(limiter.memory_growing(0, mib, None).unwrap());
        }
        assert!(!limiter.memory_denied);
        // A fifth byte anywhere is refused, whichever memory asks.
        assert!(limiter.memory_growing(mib, mib + 1, None).is_err());
        assert!(limiter.memory_denied);

        let mut limiter = Limiter::new(&Limits {
            memory_mib: 4,
            ..Limits::DEFAULT
        });
        // One memory growing in steps counts only the growth.
        assert!(limiter.memory_growing(0, mib, None).unwrap());
        assert!(limiter.memory_growing(mib, 3 * mib, None).unwrap());
        assert!(limiter.memory_growing(0, mib, None).unwrap());
        assert!(limiter.memory_growing(mib, 2 * mib, None).is_err());
        // Each memory alone was below the cap: the old per-memory check let this through.
        assert!(limiter.memory_denied);

        // A memory's own declared maximum still holds.
        let mut limiter = Limiter::new(&Limits::DEFAULT);
        assert!(limiter.memory_growing(0, 2 * mib, Some(mib)).is_err());
    }

    #[test]
    fn panic_messages_are_sanitised_and_capped() {
        let stderr = format!(
            "thread '<unnamed>' panicked at src/lib.rs:1:2:\n\u{1b}[2Jboom\rconnected{}\nnote: x",
            "x".repeat(10_000)
        );
        let message = panic_message(&stderr).unwrap();
        assert!(
            message.starts_with("\\u{1b}[2Jboom\\rconnected"),
            "{message}"
        );
        assert!(!text::has_control(&message));
        assert!(message.len() < text::MESSAGE_CAP + 40);
        assert!(message.ends_with("more bytes)"), "{message}");
    }

    #[test]
    fn ticks_are_bounded() {
        assert_eq!(ticks_for(Duration::from_millis(1)), 1);
        assert_eq!(ticks_for(Duration::from_millis(35)), 4);
        assert_eq!(ticks_for(Duration::from_secs(2)), YIELD_EVERY_TICKS);
    }
}
