//! The data-source side seam: what the engine needs from a plugin. The plugin runtime implements
//! it with a wasm component; tests implement it in memory.

use crate::cloud::BoxFuture;
use crate::plugin::{ConnectionRequest, InstanceRef, Location, PluginInfo, WhitelistGroup};

/// A data-source plugin bound to account A (its cloud calls act there).
///
/// Errors are `anyhow::Error`; the engine prefixes them with the plugin's name and the call
/// (`plugin rds-mysql: discover: ...`), so implementations need not.
pub trait DataSource: Send + Sync {
    /// `describe()`: name, version, the DataWorks data-source type.
    fn info(&self) -> &PluginInfo;

    fn discover(&self, instance: InstanceRef) -> BoxFuture<'_, anyhow::Result<Location>>;

    fn whitelist_list(
        &self,
        instance: InstanceRef,
    ) -> BoxFuture<'_, anyhow::Result<Vec<WhitelistGroup>>>;

    fn whitelist_add(
        &self,
        instance: InstanceRef,
        group: String,
        cidrs: Vec<String>,
    ) -> BoxFuture<'_, anyhow::Result<()>>;

    fn whitelist_remove(
        &self,
        instance: InstanceRef,
        group: String,
        cidrs: Vec<String>,
    ) -> BoxFuture<'_, anyhow::Result<()>>;

    /// The DataWorks ConnectionProperties (JSON object text) without the password; the host
    /// adds the password itself so it never enters the plugin.
    fn connection_properties(
        &self,
        request: ConnectionRequest,
    ) -> BoxFuture<'_, anyhow::Result<String>>;
}
