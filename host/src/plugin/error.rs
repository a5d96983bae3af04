//! Typed errors of the plugin runtime: load errors (the file is not an acceptable plugin) and
//! call errors (a call into a loaded plugin failed). Each names the plugin or file, the call,
//! and what to do.

use super::limits::{self, human_duration};
use super::text::{self, sanitize};
use super::types::PluginFailure;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    // ---- load errors -------------------------------------------------------------------
    #[error("{path}: cannot read the plugin file: {reason}")]
    Io { path: String, reason: String },
    #[error(
        "{path}: not a WebAssembly file ({reason}); a dwlink plugin is a component built for wasm32-wasip2"
    )]
    NotWasm { path: String, reason: String },
    #[error(
        "{path}: a core WebAssembly module, not a component; build the plugin for wasm32-wasip2, which produces a component"
    )]
    CoreModule { path: String },
    #[error(
        "{path}: a component of another world ({detail}); a dwlink plugin targets world dwlink:plugin/datasource-plugin"
    )]
    WrongWorld { path: String, detail: String },
    #[error(
        "{path}: built against plugin WIT {found}, which this dwlink-host does not support (it supports {supported}); rebuild the plugin against WIT {} or use a dwlink-host that supports {found}", super::SUPPORTED_WIT_VERSIONS.last().copied().unwrap_or_default()
    )]
    UnsupportedWitVersion {
        path: String,
        found: String,
        supported: String,
    },
    #[error(
        "{path}: no `dwlink:wit-version` custom section, so the contract version is unknown; build the plugin with dwlink-plugin-sdk, which embeds it"
    )]
    MissingWitVersion { path: String },
    #[error("{path}: the component does not compile: {reason}")]
    Compile { path: String, reason: String },
    #[error(
        "{path}: the file is {size} bytes, more than the {} MiB a plugin component may have (limit max_component_mib); refused before compiling. Build the plugin with --release (the `plugin` profile strips debug info), or raise max_component_mib in the link file's [limits] or with --plugin-max-component-mib (at most {} MiB)",
        limit >> 20, limits::Limits::MAX.max_component_mib
    )]
    TooLarge { path: String, size: u64, limit: u64 },
    #[error(
        "{path}: {found} {what}, more than the {limit} a plugin may have; refused before compiling (compiling that much code takes minutes). Build with --release and opt-level \"s\" and drop unused dependencies"
    )]
    TooMuchCode {
        path: String,
        /// `functions`, `bytes of code` or `bytes in one function`.
        what: &'static str,
        found: u64,
        limit: u64,
    },

    // ---- call errors ---------------------------------------------------------------------
    #[error("plugin {plugin}: {call}: trapped: {detail}")]
    Trap {
        plugin: String,
        call: &'static str,
        detail: String,
    },
    #[error("plugin {plugin}: {call}: panicked: {message}")]
    Panic {
        plugin: String,
        call: &'static str,
        message: String,
    },
    #[error("plugin {plugin}: {call}: exceeded its {} deadline", human_duration(*deadline))]
    Deadline {
        plugin: String,
        call: &'static str,
        deadline: Duration,
    },
    #[error(
        "plugin {plugin}: {call}: exceeded its {} wall-time budget (cloud waits included); if the cloud is that slow, raise wall_ms in the link file's [limits] or --plugin-wall-ms (at most {})",
        human_duration(*budget),
        human_duration(limits::Limits::MAX.wall())
    )]
    WallBudget {
        plugin: String,
        call: &'static str,
        budget: Duration,
    },
    #[error("plugin {plugin}: {call}: ran out of fuel ({fuel} units)")]
    OutOfFuel {
        plugin: String,
        call: &'static str,
        fuel: u64,
    },
    #[error("plugin {plugin}: {call}: exceeded its memory cap of {limit_mib} MiB")]
    MemoryLimit {
        plugin: String,
        call: &'static str,
        limit_mib: u32,
    },
    #[error(
        "plugin {plugin}: {call}: passed the host a value of more than {} MiB (strings and lists copied out of the sandbox at once are capped at the memory cap, memory_mib, and at most 64 MiB)",
        limit >> 20
    )]
    TooMuchData {
        plugin: String,
        call: &'static str,
        limit: usize,
    },
    #[error("plugin {plugin}: {call}: returned a malformed result: {detail}")]
    Malformed {
        plugin: String,
        call: &'static str,
        detail: String,
    },
    #[error(
        "plugin {plugin}: {call}: called {action}, which it did not declare; the host refused it without sending it (dwlink.UndeclaredAction)"
    )]
    UndeclaredAction {
        plugin: String,
        call: &'static str,
        action: String,
    },
    #[error(
        "plugin {plugin}: {call}: tried {action} out of scope ({reason}); the host refused it without sending it (dwlink.OutOfScope). The plugin may touch only the link's instance, in the link's region, and only the whitelist entries the host asks for: report it to its author, or remove it"
    )]
    OutOfScope {
        plugin: String,
        call: &'static str,
        action: String,
        reason: String,
    },
    #[error(
        "plugin {plugin}: {call}: {reason} ({action} was not sent; dwlink.Budget): the plugin is looping or reading far more than it needs"
    )]
    Budget {
        plugin: String,
        call: &'static str,
        action: String,
        reason: String,
    },
    #[error(
        "plugin {plugin}: {call}: tried to use {import}, which the sandbox does not provide{}",
        denied_hint(import)
    )]
    Denied {
        plugin: String,
        call: &'static str,
        import: String,
    },
    #[error("plugin {plugin}: {call}: {failure}")]
    Failure {
        plugin: String,
        call: &'static str,
        failure: PluginFailure,
    },
}

impl PluginError {
    /// True when the capability gate refused a cloud call of the plugin: it tried something
    /// it may not, which no retry or other reading of the state changes.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            PluginError::UndeclaredAction { .. }
                | PluginError::OutOfScope { .. }
                | PluginError::Budget { .. }
        )
    }

    /// True for errors about the file itself (not a plugin, wrong contract): bad input.
    pub fn is_load_error(&self) -> bool {
        matches!(
            self,
            PluginError::Io { .. }
                | PluginError::NotWasm { .. }
                | PluginError::CoreModule { .. }
                | PluginError::WrongWorld { .. }
                | PluginError::UnsupportedWitVersion { .. }
                | PluginError::MissingWitVersion { .. }
                | PluginError::Compile { .. }
                | PluginError::TooLarge { .. }
                | PluginError::TooMuchCode { .. }
        )
    }
}

/// What usually pulls in a denied WASI interface, so the author knows what to change.
fn denied_hint(import: &str) -> &'static str {
    if import.starts_with("wasi:random/") {
        " (a HashMap/HashSet seeds itself from wasi:random: use BTreeMap/BTreeSet)"
    } else if import.starts_with("wasi:clocks/") {
        " (Instant/SystemTime need a clock: the sandbox has none)"
    } else {
        ""
    }
}

/// Collapses a multi-line message (wasmtime's, a guest's) into one line, sanitised (a trap's
/// backtrace quotes function names from the plugin's name section) and capped.
pub(crate) fn one_line(text: &str) -> String {
    let joined = text
        .split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    sanitize(&joined, text::LINE_CAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_reads_like_the_issue() {
        let e = PluginError::Deadline {
            plugin: "rds-mysql".into(),
            call: "discover",
            deadline: Duration::from_secs(2),
        };
        assert_eq!(
            e.to_string(),
            "plugin rds-mysql: discover: exceeded its 2 s deadline"
        );
    }

    #[test]
    fn unsupported_version_names_both() {
        let e = PluginError::UnsupportedWitVersion {
            path: "x.wasm".into(),
            found: "9.0.0".into(),
            supported: "0.1.0".into(),
        };
        let text = e.to_string();
        assert!(text.contains("9.0.0") && text.contains("0.1.0"), "{text}");
        assert!(e.is_load_error());
    }

    #[test]
    fn denied_random_and_clocks_say_what_to_change() {
        let denied = |import: &str| {
            PluginError::Denied {
                plugin: "my-postgresql".into(),
                call: "whitelist-list",
                import: import.into(),
            }
            .to_string()
        };
        assert_eq!(
            denied("wasi:random/insecure-seed@0.2.6 (insecure-seed)"),
            "plugin my-postgresql: whitelist-list: tried to use wasi:random/insecure-seed@0.2.6 \
             (insecure-seed), which the sandbox does not provide (a HashMap/HashSet seeds itself \
             from wasi:random: use BTreeMap/BTreeSet)"
        );
        assert!(
            denied("wasi:clocks/monotonic-clock@0.2.6 (now)").ends_with(
                "does not provide (Instant/SystemTime need a clock: the sandbox has none)"
            )
        );
        assert!(
            denied("wasi:filesystem/preopens@0.2.6 (get-directories)")
                .ends_with("which the sandbox does not provide")
        );
    }

    #[test]
    fn one_line_joins_lines() {
        assert_eq!(one_line("a\n  b\n\nc "), "a; b; c");
        assert_eq!(one_line("at \u{1b}[2Jf\rx"), "at \\u{1b}[2Jf\\rx");
    }

    #[test]
    fn new_limits_read_well_and_size_errors_are_load_errors() {
        let e = PluginError::WallBudget {
            plugin: "rds-mysql".into(),
            call: "plan",
            budget: Duration::from_secs(60),
        };
        assert!(
            e.to_string().starts_with(
                "plugin rds-mysql: plan: exceeded its 60 s wall-time budget (cloud waits included)"
            ),
            "{e}"
        );
        assert!(e.to_string().contains("wall_ms"), "{e}");
        assert!(!e.is_load_error());
        let e = PluginError::TooLarge {
            path: "big.wasm".into(),
            size: 40 << 20,
            limit: 32 << 20,
        };
        assert!(
            e.to_string()
                .starts_with("big.wasm: the file is 41943040 bytes, more than the 32 MiB"),
            "{e}"
        );
        assert!(e.to_string().contains("--plugin-max-component-mib"), "{e}");
        assert!(e.is_load_error());
        let e = PluginError::TooMuchCode {
            path: "p.wasm".into(),
            what: "functions",
            found: 60_000,
            limit: 50_000,
        };
        assert!(
            e.to_string()
                .starts_with("p.wasm: 60000 functions, more than the 50000 a plugin may have"),
            "{e}"
        );
        assert!(e.is_load_error());
    }
}
