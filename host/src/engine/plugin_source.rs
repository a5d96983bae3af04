//! The data-source side as the engine sees it: a loaded plugin bound to the data source's
//! account, with the host's whitelist guard around every change.

use super::datasource::DataSource;
use super::guard::{self, Change, FailedChange};
use crate::cloud::{BoxFuture, Caller};
use crate::plugin::{
    ConnectionRequest, InstanceRef, Location, Plugin, PluginError, PluginInfo, WhitelistGroup,
};
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

/// The three calls the guard wraps, apart from the wasm plugin that answers them, so the guard
/// can be tested with an in-memory plugin.
trait Whitelists: Sync {
    fn name(&self) -> &str;

    fn list(
        &self,
        instance: &InstanceRef,
    ) -> impl Future<Output = Result<Vec<WhitelistGroup>, PluginError>> + Send;

    /// `whitelist-add` when `adding`, else `whitelist-remove`.
    fn change(
        &self,
        instance: &InstanceRef,
        group: &str,
        cidrs: &[String],
        adding: bool,
    ) -> impl Future<Output = Result<(), PluginError>> + Send;
}

impl Whitelists for PluginDataSource {
    fn name(&self) -> &str {
        self.plugin.name()
    }

    async fn list(&self, instance: &InstanceRef) -> Result<Vec<WhitelistGroup>, PluginError> {
        self.plugin
            .whitelist_list(self.caller.clone(), instance)
            .await
    }

    async fn change(
        &self,
        instance: &InstanceRef,
        group: &str,
        cidrs: &[String],
        adding: bool,
    ) -> Result<(), PluginError> {
        if adding {
            self.plugin
                .whitelist_add(self.caller.clone(), instance, group, cidrs)
                .await
        } else {
            self.plugin
                .whitelist_remove(self.caller.clone(), instance, group, cidrs)
                .await
        }
    }
}

/// Runs one whitelist change between two reads and checks the guard's invariants. The second
/// read happens even when the change fails: a plugin may have broken the whitelist before it
/// failed (covered the group, say), and that is reported with the plugin's own error.
async fn guarded<W: Whitelists>(
    plugin: &W,
    instance: InstanceRef,
    group: String,
    cidrs: Vec<String>,
    adding: bool,
) -> anyhow::Result<()> {
    let before = plugin.list(&instance).await?;
    let result = plugin.change(&instance, &group, &cidrs, adding).await;
    let change = if adding {
        Change::Add {
            group: &group,
            entries: &cidrs,
        }
    } else {
        Change::Remove {
            group: &group,
            entries: &cidrs,
        }
    };
    let name = plugin.name();
    let Err(error) = result else {
        let after = plugin.list(&instance).await?;
        guard::check(name, &instance.id, &before, &after, change)?;
        return Ok(());
    };
    let after = match plugin.list(&instance).await {
        Ok(after) => after,
        Err(list_error) => {
            return Err(anyhow::anyhow!(
                "{error} (dwlink could not read the whitelist again to check it: {list_error}; \
                 check whitelist group {group} of instance {} by hand)",
                instance.id
            ));
        }
    };
    match guard::check_after_failure(name, &instance.id, &before, &after, change) {
        Ok(()) => Err(error.into()),
        Err(violation) => {
            let call = if adding {
                "whitelist-add"
            } else {
                "whitelist-remove"
            };
            Err(FailedChange::new(name, call, violation, &error).into())
        }
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
        Box::pin(guarded(self, instance, group, cidrs, true))
    }

    fn whitelist_remove(
        &self,
        instance: InstanceRef,
        group: String,
        cidrs: Vec<String>,
    ) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(guarded(self, instance, group, cidrs, false))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::guard::Violation;
    use crate::plugin::PluginFailure;
    use std::sync::Mutex;

    /// What the in-memory plugin does to the whitelist in `change`, and how it answers.
    #[derive(Clone, Copy)]
    enum Does {
        /// Appends (or deletes) as asked, and succeeds.
        Append,
        /// Replaces the group with the asked-for entries.
        Cover,
        /// Adds `0.0.0.0/0` beside the asked-for entries.
        OpenToAll,
        /// Touches nothing.
        Nothing,
    }

    struct Fake {
        groups: Mutex<Vec<WhitelistGroup>>,
        does: Does,
        /// Whether `change` answers an error after doing what `does` says.
        fails: bool,
        /// Whether `list` fails once `change` has run.
        list_fails_after: bool,
        changed: Mutex<bool>,
    }

    fn fake(does: Does, fails: bool) -> Fake {
        Fake {
            groups: Mutex::new(vec![
                WhitelistGroup {
                    name: "default".into(),
                    entries: vec!["10.20.0.0/16".into()],
                    attribute: String::new(),
                },
                WhitelistGroup {
                    name: "app".into(),
                    entries: vec!["192.168.7.15".into()],
                    attribute: String::new(),
                },
            ]),
            does,
            fails,
            list_fails_after: false,
            changed: Mutex::new(false),
        }
    }

    fn failure(call: &'static str, code: &str) -> PluginError {
        PluginError::Failure {
            plugin: "fake".into(),
            call,
            failure: PluginFailure::Cloud {
                code: code.into(),
                message: "the write may or may not have happened".into(),
                request_id: "R-9".into(),
                http_status: 503,
            },
        }
    }

    impl Whitelists for Fake {
        fn name(&self) -> &str {
            "fake"
        }

        async fn list(&self, _: &InstanceRef) -> Result<Vec<WhitelistGroup>, PluginError> {
            if self.list_fails_after && *self.changed.lock().unwrap() {
                return Err(failure("whitelist-list", "Throttling"));
            }
            Ok(self.groups.lock().unwrap().clone())
        }

        async fn change(
            &self,
            _: &InstanceRef,
            group: &str,
            cidrs: &[String],
            adding: bool,
        ) -> Result<(), PluginError> {
            *self.changed.lock().unwrap() = true;
            let mut groups = self.groups.lock().unwrap();
            if !groups.iter().any(|g| g.name == group) {
                groups.push(WhitelistGroup {
                    name: group.into(),
                    entries: Vec::new(),
                    attribute: String::new(),
                });
            }
            let g = groups.iter_mut().find(|g| g.name == group).unwrap();
            match (self.does, adding) {
                (Does::Append, true) => g.entries.extend(cidrs.iter().cloned()),
                (Does::Append, false) => g.entries.retain(|e| !cidrs.contains(e)),
                (Does::Cover, _) => g.entries = cidrs.to_vec(),
                (Does::OpenToAll, _) => {
                    g.entries.extend(cidrs.iter().cloned());
                    g.entries.push("0.0.0.0/0".into());
                }
                (Does::Nothing, _) => {}
            }
            if self.fails {
                let call = if adding {
                    "whitelist-add"
                } else {
                    "whitelist-remove"
                };
                return Err(failure(call, "ServiceUnavailable"));
            }
            Ok(())
        }
    }

    fn rm1() -> InstanceRef {
        InstanceRef {
            id: "rm-1".into(),
            region: "cn-hangzhou".into(),
        }
    }

    async fn add(plugin: &Fake, group: &str) -> anyhow::Result<()> {
        guarded(
            plugin,
            rm1(),
            group.into(),
            vec!["172.16.66.0/24".into()],
            true,
        )
        .await
    }

    #[tokio::test]
    async fn a_plugin_that_covers_the_group_and_then_fails_is_reported_for_the_lost_entry() {
        let err = add(&fake(Does::Cover, true), "app").await.unwrap_err();
        let text = format!("{err:#}");
        assert_eq!(
            text,
            "plugin fake: whitelist-add: plugin fake removed entry 192.168.7.15 from whitelist \
             group app, which dwlink did not ask for; restore it on instance rm-1 and report the \
             plugin (and the call itself failed: cloud error ServiceUnavailable: the write may or \
             may not have happened (request id R-9))"
        );
        let failed = err.downcast_ref::<FailedChange>().expect("a FailedChange");
        assert!(matches!(
            &failed.violation,
            Violation::Lost { entry, group, .. } if entry == "192.168.7.15" && group == "app"
        ));
    }

    #[tokio::test]
    async fn an_open_to_all_entry_left_by_a_failed_change_is_reported() {
        let err = add(&fake(Does::OpenToAll, true), "dataworks")
            .await
            .unwrap_err();
        let failed = err.downcast_ref::<FailedChange>().expect("a FailedChange");
        assert!(
            matches!(&failed.violation, Violation::OpenToAll { entry, .. } if entry == "0.0.0.0/0"),
            "{err:#}"
        );
        assert!(
            format!("{err:#}").contains("cloud error ServiceUnavailable"),
            "{err:#}"
        );
    }

    #[tokio::test]
    async fn a_failed_change_that_broke_nothing_is_the_plugins_own_error() {
        // Nothing applied, or the asked-for entry applied before the failure: no violation.
        for does in [Does::Nothing, Does::Append] {
            let err = add(&fake(does, true), "dataworks").await.unwrap_err();
            assert_eq!(
                err.downcast_ref::<PluginError>(),
                Some(&failure("whitelist-add", "ServiceUnavailable")),
                "{err:#}"
            );
        }
        let plugin = fake(Does::Append, true);
        plugin.groups.lock().unwrap()[1]
            .entries
            .push("172.16.66.0/24".into());
        let err = guarded(
            &plugin,
            rm1(),
            "app".into(),
            vec!["172.16.66.0/24".into()],
            false,
        )
        .await
        .unwrap_err();
        assert_eq!(
            err.downcast_ref::<PluginError>(),
            Some(&failure("whitelist-remove", "ServiceUnavailable"))
        );
    }

    #[tokio::test]
    async fn a_failed_change_that_cannot_be_checked_says_so() {
        let mut plugin = fake(Does::Cover, true);
        plugin.list_fails_after = true;
        let text = format!("{:#}", add(&plugin, "app").await.unwrap_err());
        assert!(
            text.starts_with("plugin fake: whitelist-add: cloud error ServiceUnavailable"),
            "{text}"
        );
        assert!(
            text.contains("could not read the whitelist again to check it")
                && text.contains("whitelist group app of instance rm-1"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_successful_change_is_still_checked() {
        assert!(add(&fake(Does::Append, false), "dataworks").await.is_ok());
        let err = add(&fake(Does::Cover, false), "app").await.unwrap_err();
        assert!(
            matches!(err.downcast_ref::<Violation>(), Some(Violation::Lost { entry, .. }) if entry == "192.168.7.15"),
            "{err:#}"
        );
        let err = add(&fake(Does::Nothing, false), "dataworks")
            .await
            .unwrap_err();
        assert!(
            matches!(
                err.downcast_ref::<Violation>(),
                Some(Violation::NotApplied { .. })
            ),
            "{err:#}"
        );
    }
}
