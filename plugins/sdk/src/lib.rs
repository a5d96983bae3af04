//! `dwlink-plugin-sdk`: write a dwlink data-source plugin.
//!
//! A plugin knows one data-source product: where an instance lives on the network, its IP
//! whitelist, and the DataWorks connection properties. Implement [`Plugin`] against the
//! [`Cloud`] trait, then export it with [`export_plugin!`]:
//!
//! ```ignore
//! use dwlink_plugin_sdk::{export_plugin, Plugin};
//! struct MyPlugin;
//! impl Plugin for MyPlugin { /* six functions */ }
//! export_plugin!(MyPlugin);
//! ```
//!
//! Inside the sandbox the [`Cloud`] is the host ([`HostCloud`]); in native unit tests use
//! [`testing::FakeCloud`], which answers scripted JSON and records every call. The sandbox
//! gives a plugin no filesystem, clock, randomness or environment: do not use `HashMap`
//! (use `BTreeMap`), `Instant`/`SystemTime`, `std::fs` or `std::env`. See `plugins/README.md`.

#[doc(hidden)]
pub mod bindings;
mod cloud;
pub mod de;
mod error;
#[doc(hidden)]
pub mod export;
pub mod log;
pub mod testing;
mod types;
pub mod vpc;
pub mod whitelist;

pub use cloud::{
    Api, Cloud, CloudError, CloudRequest, HostCloud, MALFORMED_RESPONSE, call, declared_action,
    parse_response,
};
pub use error::{PluginError, Subject};
#[doc(hidden)]
pub use export::Export;
pub use types::{
    Access, Capability, ConnectionRequest, Endpoint, InstanceRef, Location, LogLevel, PluginInfo,
    WhitelistGroup, WhitelistParams,
};

/// A response whose body is not read (only its being JSON is checked), e.g. of a Modify call.
pub type Ignored = serde::de::IgnoredAny;

/// Re-exported so plugins build connection properties with the same `serde_json`.
pub use serde_json;

/// The WIT contract version this SDK implements; written into every plugin's
/// `dwlink:wit-version` custom section by [`export_plugin!`].
pub const WIT_VERSION: &str = "0.2.0";

#[doc(hidden)]
pub const WIT_VERSION_BYTES: [u8; 5] = *b"0.2.0";
const _: () = assert!(WIT_VERSION.len() == WIT_VERSION_BYTES.len());

/// A JSON object: the DataWorks `ConnectionProperties`.
pub type Properties = serde_json::Map<String, serde_json::Value>;

/// A data-source plugin. Every function but [`Plugin::describe`] gets the [`Cloud`] to call;
/// errors are values ([`PluginError`]) with a message naming the instance and region.
pub trait Plugin {
    /// Name, version, DataWorks type, product and EXACTLY the calls the plugin makes, as
    /// capabilities ([`Api::read`], [`Api::whitelist_write`],
    /// [`vpc::describe_vswitch_attributes`]); the host refuses any other call and checks each
    /// declared one against the link. Must not call the cloud.
    fn describe() -> PluginInfo;

    /// Where the instance lives: region, zone, VPC, vSwitch and its CIDR, private endpoints.
    fn discover(cloud: &dyn Cloud, instance: &InstanceRef) -> Result<Location, PluginError>;

    /// Every whitelist group with its entries.
    fn whitelist_list(
        cloud: &dyn Cloud,
        instance: &InstanceRef,
    ) -> Result<Vec<WhitelistGroup>, PluginError>;

    /// Adds `cidrs` to `group` (created when missing); entries already present are left
    /// alone and no other entry changes. Returns once the product has accepted the change:
    /// the host, not the plugin, waits for the instance to be running again.
    fn whitelist_add(
        cloud: &dyn Cloud,
        instance: &InstanceRef,
        group: &str,
        cidrs: &[String],
    ) -> Result<(), PluginError>;

    /// Removes exactly `cidrs` from `group`; absent entries are ignored. Returns once the
    /// product has accepted the change (the host waits).
    fn whitelist_remove(
        cloud: &dyn Cloud,
        instance: &InstanceRef,
        group: &str,
        cidrs: &[String],
    ) -> Result<(), PluginError>;

    /// The DataWorks `ConnectionProperties` object for cross-account instance mode, WITHOUT a
    /// password (the host adds it; a plugin that sets one is refused). The identity keys
    /// (instance id, region, owner UID, role, address, host, port, environment, password)
    /// belong to the host: set them only to the request's values, or leave them out.
    fn connection_properties(
        cloud: &dyn Cloud,
        request: &ConnectionRequest,
    ) -> Result<Properties, PluginError>;
}

/// Runs [`Plugin::connection_properties`] and serializes the object as the contract returns
/// it, refusing a `password` key (secrets never come from a plugin).
pub fn connection_properties_json<P: Plugin>(
    cloud: &dyn Cloud,
    request: &ConnectionRequest,
) -> Result<String, PluginError> {
    let props = P::connection_properties(cloud, request)?;
    if props.keys().any(|k| k.eq_ignore_ascii_case("password")) {
        return Err(PluginError::Other(
            "the plugin put a password into the connection properties; the host adds it, \
             plugins must not"
                .to_string(),
        ));
    }
    Ok(serde_json::Value::Object(props).to_string())
}

/// Exports a [`Plugin`] as the dwlink `datasource-plugin` component, and embeds the WIT
/// version (custom section `dwlink:wit-version`). Call it exactly once, in the plugin's crate.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        type __DwlinkPluginExport = $crate::Export<$plugin>;

        #[cfg(target_arch = "wasm32")]
        #[doc(hidden)]
        #[unsafe(link_section = "dwlink:wit-version")]
        #[used]
        static __DWLINK_WIT_VERSION: [u8; 5] = $crate::WIT_VERSION_BYTES;

        // Native builds (unit tests) export nothing: the names are component-model names.
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::export_datasource!(__DwlinkPluginExport with_types_in $crate::bindings);
    };
}
