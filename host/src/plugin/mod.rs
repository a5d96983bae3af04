//! The sandboxed plugin runtime: wasmtime components that implement `dwlink:plugin/datasource`.
//!
//! - [`PluginRuntime`]: one per process: the `Engine`, the on-disk compile cache, the epoch
//!   ticker, one linker per supported contract version.
//! - [`Plugin`]: a loaded plugin; `describe`, `discover`, `whitelist_*`, `connection_properties`,
//!   each in a fresh store with [`Limits`].
//! - [`PluginError`]: every way loading or calling a plugin can fail.
//!
//! One module per contract version (`v0_1`, `v0_2`) holds that version's `bindgen!` output and
//! conversions (the shared part is [`adapter`]'s macro); the rest of the runtime works on the
//! version-independent types in [`types`]. What a plugin may do to the cloud is decided in one
//! place, [`gate`], for every version.

mod adapter;
pub mod contract;
mod error;
pub mod gate;
mod limits;
mod loaded;
mod runtime;
mod sandbox;
mod size;
pub mod text;
pub mod types;
mod v0_1;
mod v0_2;
mod validate;

pub use contract::{SUPPORTED_WIT_VERSIONS, WIT_VERSION_SECTION};
pub use error::PluginError;
pub use gate::{Mode, Refusal, Scope};
pub use limits::{LimitArgs, LimitOverrides, Limits, LimitsError};
pub use loaded::Plugin;
pub use runtime::{PluginRuntime, RuntimeOptions, default_cache_dir};
pub use types::{
    Access, Capability, ConnectionRequest, Endpoint, InstanceRef, Location, PluginFailure,
    PluginInfo, WhitelistGroup, WhitelistParams,
};

/// How a call failed before it is given the plugin's name (version adapters answer this).
pub(crate) enum CallError {
    /// A trap or host error from wasmtime.
    Wasm(wasmtime::Error),
    /// The plugin reported its own failure.
    Failure(PluginFailure),
    /// The plugin returned something the contract does not allow.
    Malformed(String),
}
