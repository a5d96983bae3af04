//! The data-source side as the engine sees it: a loaded plugin bound to the data source's
//! account, with the host's whitelist guard around every change.

use super::datasource::DataSource;
use super::guard::{self, Change};
use crate::cloud::{BoxFuture, Caller};
use crate::plugin::{ConnectionRequest, InstanceRef, Location, Plugin, PluginInfo, WhitelistGroup};
use std::sync::Arc;

/// A plugin plus the caller its cloud calls go through (account A, usually an assumed role).
pub struct PluginDataSource {
    plugin: Plugin,
    caller: Arc<dyn Caller>,
}

impl PluginDataSource {
    pub fn new(plugin: Plugin, caller: Arc<dyn Caller>) -> Self {
        PluginDataSource { plugin, caller }
    }

    /// Runs one whitelist change between two reads and checks the guard's invariants.
    async fn guarded(
        &self,
        instance: InstanceRef,
        group: String,
        cidrs: Vec<String>,
        adding: bool,
    ) -> anyhow::Result<()> {
        let before = self.plugin.whitelist_list(self.caller.clone(), &instance).await?;
        if adding {
            self.plugin
                .whitelist_add(self.caller.clone(), &instance, &group, &cidrs)
                .await?;
        } else {
            self.plugin
                .whitelist_remove(self.caller.clone(), &instance, &group, &cidrs)
                .await?;
        }
        let after = self.plugin.whitelist_list(self.caller.clone(), &instance).await?;
        let change = if adding {
            Change::Add { group: &group, entries: &cidrs }
        } else {
            Change::Remove { group: &group, entries: &cidrs }
        };
        guard::check(self.plugin.name(), &instance.id, &before, &after, change)?;
        Ok(())
    }
}

impl DataSource for PluginDataSource {
    fn info(&self) -> &PluginInfo {
        self.plugin.info()
    }

    fn discover(&self, instance: InstanceRef) -> BoxFuture<'_, anyhow::Result<Location>> {
        Box::pin(async move { Ok(self.plugin.discover(self.caller.clone(), &instance).await?) })
    }

    fn whitelist_list(
        &self,
        instance: InstanceRef,
    ) -> BoxFuture<'_, anyhow::Result<Vec<WhitelistGroup>>> {
        Box::pin(async move {
            Ok(self
                .plugin
                .whitelist_list(self.caller.clone(), &instance)
                .await?)
        })
    }

    fn whitelist_add(
        &self,
        instance: InstanceRef,
        group: String,
        cidrs: Vec<String>,
    ) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(self.guarded(instance, group, cidrs, true))
    }

    fn whitelist_remove(
        &self,
        instance: InstanceRef,
        group: String,
        cidrs: Vec<String>,
    ) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(self.guarded(instance, group, cidrs, false))
    }

    fn connection_properties(
        &self,
        request: ConnectionRequest,
    ) -> BoxFuture<'_, anyhow::Result<String>> {
        Box::pin(async move {
            let properties = self
                .plugin
                .connection_properties(self.caller.clone(), &request)
                .await?;
            Ok(serde_json::Value::Object(properties).to_string())
        })
    }
}
