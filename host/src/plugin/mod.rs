//! The sandboxed plugin runtime: wasmtime components that implement `dwlink:plugin/datasource`.

pub mod types;

pub use types::{
    ConnectionRequest, Endpoint, InstanceRef, Location, PluginFailure, PluginInfo, WhitelistGroup,
};
