//! The data-source side as the engine sees it: a loaded plugin bound to the data source's
//! account. Nothing here checks the plugin: the engine does, with its own reads
//! ([`super::whitelist`], [`super::verify`]), so a plugin's answers never check themselves.

use super::datasource::DataSource;
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
        Box::pin(async move {
            Ok(self
                .plugin
                .whitelist_add(self.caller.clone(), &instance, &group, &cidrs)
                .await?)
        })
    }

    fn whitelist_remove(
        &self,
        instance: InstanceRef,
        group: String,
        cidrs: Vec<String>,
    ) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            Ok(self
                .plugin
                .whitelist_remove(self.caller.clone(), &instance, &group, &cidrs)
                .await?)
        })
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
