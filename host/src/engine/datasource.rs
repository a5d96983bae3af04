//! The data-source side seam: what the engine needs from a plugin. The plugin runtime implements
//! it with a wasm component; tests implement it in memory.

use crate::cloud::BoxFuture;
use crate::plugin::{ConnectionRequest, InstanceRef, Location, PluginInfo, WhitelistGroup};

/// A data-source plugin bound to account A (its cloud calls act there).
///
/// Errors are `anyhow::Error`; the engine prefixes them with the plugin's name and the call
/// (`plugin rds-mysql: discover: ...`), so implementations need not.
///
/// Implementations are untrusted: the engine checks `discover` against account A's own reads,
/// brackets every whitelist change with its own reads of the whitelist (for the products it
/// knows) and waits for the instance itself afterwards. Implementations need not guard or wait.
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

    /// The DataWorks ConnectionProperties (JSON object text) without the password. The engine
    /// builds the final properties itself: it sets the identity keys (instance, region, owner,
    /// role, environment, password) from the link and refuses an answer that gives one of them
    /// another value or names an address it did not verify (`engine::verify`).
    fn connection_properties(
        &self,
        request: ConnectionRequest,
    ) -> BoxFuture<'_, anyhow::Result<String>>;
}
