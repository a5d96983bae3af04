//! The whitelist as the host sees it. For the products the host knows (RDS, PolarDB, MongoDB:
//! [`Product`]) it reads the whitelist and the instance's status itself, through account A's
//! caller, never through the plugin it checks; for other products it falls back to the
//! plugin's own list and `discover`'s `running`. Every whitelist change a plugin makes is
//! bracketed by two such reads and checked by the guard ([`guarded`]); what the guard finds is
//! journalled so no later command forgets it; and the wait for the instance afterwards is the
//! host's, on its own clock and bounds ([`Options`](super::Options)).

use super::guard::{self, Change, FailedChange, Violation};
use super::journal::{Finding, FindingKind, Journal};
use super::{Engine, EngineError};
use crate::network::whitelist::{self as wl, Product};
use crate::plugin::WhitelistGroup;
use std::sync::Mutex;

/// A whitelist change the host does not accept.
#[derive(Debug)]
pub(crate) struct Refused {
    pub error: EngineError,
    /// What the guard found broken (empty when the plugin failed and broke nothing, or a read
    /// failed).
    pub violations: Vec<Violation>,
    /// The plugin said the instance is not in a state that allows the change yet, and nothing
    /// else happened: the change may be tried again later.
    pub retry: bool,
}

impl Refused {
    fn new(error: EngineError) -> Refused {
        Refused {
            error,
            violations: Vec::new(),
            retry: false,
        }
    }
}

/// A plugin's error as an engine error, `plugin NAME: CALL: ` said once.
pub(crate) fn plugin_error(plugin: &str, call: &str, e: anyhow::Error) -> EngineError {
    let mut message = format!("{e:#}");
    let prefix = format!("plugin {plugin}: {call}: ");
    if let Some(rest) = message.strip_prefix(&prefix) {
        message = rest.to_string();
    }
    EngineError::Plugin {
        plugin: plugin.to_string(),
        call: call.into(),
        message,
    }
}

/// The whitelist change the host asks a plugin for, and who is asked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asked<'a> {
    pub plugin: &'a str,
    pub instance: &'a str,
    pub group: &'a str,
    pub cidrs: &'a [String],
    /// Add when true, else remove.
    pub adding: bool,
    /// The whitelist reads are the host's own (not the plugin's list).
    pub verified: bool,
}

/// Runs one whitelist change (`change`, the plugin's call) between two reads of the whitelist
/// (`read`) and checks the guard's invariants on what really happened. The second read happens
/// even when the change fails: a plugin may have broken the whitelist before it failed.
///
/// When `verified` (the reads are the host's own, not the plugin's) and the plugin reports a
/// failure although the whitelist shows exactly the change asked for and nothing else, the
/// change is accepted: `Ok(Some(the plugin's error))`. A plugin cannot make the host accept
/// anything else by what it says, only by what the host reads.
pub(crate) async fn guarded<R, RF, C, CF>(
    asked: Asked<'_>,
    read: R,
    change: C,
) -> Result<Option<String>, Refused>
where
    R: Fn() -> RF,
    RF: Future<Output = Result<Vec<WhitelistGroup>, EngineError>>,
    C: FnOnce() -> CF,
    CF: Future<Output = anyhow::Result<()>>,
{
    let Asked {
        plugin,
        instance,
        group,
        cidrs,
        adding,
        verified,
    } = asked;
    let call = if adding {
        "whitelist-add"
    } else {
        "whitelist-remove"
    };
    let spec = if adding {
        Change::Add {
            group,
            entries: cidrs,
        }
    } else {
        Change::Remove {
            group,
            entries: cidrs,
        }
    };
    let before = read().await.map_err(Refused::new)?;
    let result = change().await;
    let after = read().await;
    let error = match result {
        Ok(()) => {
            let after = after.map_err(|e| {
                Refused::new(EngineError::Other(format!(
                    "plugin {plugin}: {call}: it reported success, but dwlink could not read the whitelist again to check it: {e}; check whitelist group {group} of instance {instance} by hand, then run again"
                )))
            })?;
            let found = guard::violations(plugin, instance, &before, &after, spec, true);
            return match found.first() {
                None => Ok(None),
                Some(first) => Err(Refused {
                    error: plugin_error(plugin, call, anyhow::Error::new(first.clone())),
                    violations: found,
                    retry: false,
                }),
            };
        }
        Err(error) => error,
    };
    let after = match after {
        Ok(after) => after,
        Err(read_error) => {
            return Err(Refused::new(plugin_error(
                plugin,
                call,
                anyhow::anyhow!(
                    "{error:#} (dwlink could not read the whitelist again to check it: {read_error}; check whitelist group {group} of instance {instance} by hand)"
                ),
            )));
        }
    };
    let found = guard::violations(plugin, instance, &before, &after, spec, false);
    if let Some(first) = found.first() {
        let failed = FailedChange::new(plugin, call, first.clone(), &format!("{error:#}"));
        return Err(Refused {
            error: plugin_error(plugin, call, anyhow::Error::new(failed)),
            violations: found,
            retry: false,
        });
    }
    if verified && guard::violations(plugin, instance, &before, &after, spec, true).is_empty() {
        return Ok(Some(format!("{error:#}")));
    }
    let retry = super::apply::is_invalid_state(&error);
    Err(Refused {
        error: plugin_error(plugin, call, error),
        violations: Vec::new(),
        retry,
    })
}

/// The guard's findings that outlive the command: entries a plugin added or removed unasked.
pub(crate) fn findings(step: &str, violations: &[Violation]) -> Vec<Finding> {
    violations
        .iter()
        .filter_map(|v| {
            let (kind, plugin, instance, group, entry) = match v {
                Violation::Lost {
                    plugin,
                    instance,
                    group,
                    entry,
                } => (FindingKind::Lost, plugin, instance, group, entry),
                Violation::Unexpected {
                    plugin,
                    instance,
                    group,
                    entry,
                } => (FindingKind::Unexpected, plugin, instance, group, entry),
                Violation::OpenToAll {
                    plugin,
                    instance,
                    group,
                    entry,
                } => (FindingKind::OpenToAll, plugin, instance, group, entry),
                Violation::NotApplied { .. } => return None,
            };
            Some(Finding {
                kind,
                plugin: plugin.clone(),
                instance: instance.clone(),
                group: group.clone(),
                entry: entry.clone(),
                step: step.to_string(),
                message: v.to_string(),
            })
        })
        .collect()
}

/// The findings as one message.
pub(crate) fn findings_text(found: &[Finding]) -> String {
    found
        .iter()
        .map(Finding::describe)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Engine {
    /// The product whose whitelist and status the host reads itself, from the plugin's
    /// declared product code.
    pub(crate) fn whitelist_product(&self) -> Option<Product> {
        Product::from_code(&self.ds.info().product)
    }

    /// The instance's whitelist: the host's own read for the products it knows, the plugin's
    /// list otherwise.
    pub(crate) async fn read_whitelist(&self) -> Result<Vec<WhitelistGroup>, EngineError> {
        let spec = &self.spec.source;
        match self.whitelist_product() {
            Some(p) => Ok(wl::list(self.a.as_ref(), p, &spec.region, &spec.instance_id).await?),
            None => self
                .ds
                .whitelist_list(self.instance())
                .await
                .map_err(|e| self.plugin_err("whitelist-list", e)),
        }
    }

    /// The instance's status word and whether it is ready: the host's own read for the
    /// products it knows, `discover` otherwise.
    async fn readiness(&self) -> Result<(String, bool), EngineError> {
        let spec = &self.spec.source;
        match self.whitelist_product() {
            Some(p) => {
                let status =
                    wl::status(self.a.as_ref(), p, &spec.region, &spec.instance_id).await?;
                let ready = p.is_ready(&status);
                Ok((status, ready))
            }
            None => {
                let l = self
                    .ds
                    .discover(self.instance())
                    .await
                    .map_err(|e| self.plugin_err("discover", e))?;
                Ok((l.status, l.running))
            }
        }
    }

    /// After a whitelist change: polls the instance until it is ready again, with the engine's
    /// own interval and bound (a plugin has no clock; the host does not rely on it waiting).
    pub(crate) async fn await_instance_ready(&self) -> Result<(), EngineError> {
        let what = format!(
            "instance {} to apply the whitelist change",
            self.spec.source.instance_id
        );
        let since = std::time::Instant::now();
        let mut last = String::new();
        for poll in 0..self.opts.max_polls.max(1) {
            if poll > 0 {
                tokio::time::sleep(self.opts.poll_interval).await;
            }
            let (status, ready) = self.readiness().await?;
            if ready {
                if poll > 0 {
                    self.waited(&what, since);
                }
                return Ok(());
            }
            if poll == 0 && !self.interactive {
                self.progress(&format!("dwlink: waiting for {what} (it is {status})"));
            }
            self.waiting(&what, Some(&status), since);
            last = status;
        }
        Err(EngineError::Other(format!(
            "gave up waiting for {what} after {} polls: it is still {last} (account {}, {}); the change is made, run again to keep waiting",
            self.opts.max_polls, self.spec.source.account_uid, self.spec.source.region
        )))
    }

    /// One whitelist change through the plugin, checked by the host's own reads. What the guard
    /// finds broken is journalled (as findings) before the error is returned. Does not wait
    /// for the instance: see [`await_instance_ready`](Self::await_instance_ready).
    pub(crate) async fn change_whitelist(
        &self,
        step: &str,
        group: &str,
        cidr: &str,
        adding: bool,
        journal: &Mutex<Journal>,
    ) -> Result<(), Refused> {
        let name = self.ds.info().name.clone();
        let cidrs = vec![cidr.to_string()];
        let verified = self.whitelist_product().is_some();
        let asked = Asked {
            plugin: &name,
            instance: &self.spec.source.instance_id,
            group,
            cidrs: &cidrs,
            adding,
            verified,
        };
        let outcome = guarded(
            asked,
            || self.read_whitelist(),
            || {
                let (instance, group, cidrs) = (self.instance(), group.to_string(), cidrs.clone());
                async move {
                    if adding {
                        self.ds.whitelist_add(instance, group, cidrs).await
                    } else {
                        self.ds.whitelist_remove(instance, group, cidrs).await
                    }
                }
            },
        )
        .await;
        match outcome {
            Ok(None) => Ok(()),
            Ok(Some(plugin_said)) => {
                self.progress(&format!(
                    "dwlink: plugin {name} reported a failure ({plugin_said}), but dwlink's own read of the whitelist shows exactly the change it asked for; continuing"
                ));
                Ok(())
            }
            Err(refused) => {
                let found = findings(step, &refused.violations);
                if !found.is_empty() {
                    let mut j = journal.lock().unwrap_or_else(|e| e.into_inner());
                    if let Err(e) = j.add_findings(found) {
                        return Err(Refused::new(EngineError::Other(format!(
                            "{}; and recording it in the journal failed: {e}",
                            refused.error
                        ))));
                    }
                }
                Err(refused)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::{PluginError, PluginFailure};

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
        groups: std::sync::Mutex<Vec<WhitelistGroup>>,
        does: Does,
        /// Whether `change` answers an error after doing what `does` says.
        fails: Option<PluginFailure>,
        /// Whether `list` fails once `change` has run.
        list_fails_after: bool,
        changed: std::sync::Mutex<bool>,
    }

    fn unavailable() -> PluginFailure {
        PluginFailure::Cloud {
            code: "ServiceUnavailable".into(),
            message: "the write may or may not have happened".into(),
            request_id: "R-9".into(),
            http_status: 503,
        }
    }

    fn fake(does: Does, fails: bool) -> Fake {
        Fake {
            groups: std::sync::Mutex::new(vec![
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
            fails: fails.then(unavailable),
            list_fails_after: false,
            changed: std::sync::Mutex::new(false),
        }
    }

    impl Fake {
        async fn list(&self) -> Result<Vec<WhitelistGroup>, EngineError> {
            if self.list_fails_after && *self.changed.lock().unwrap() {
                return Err(EngineError::Other("cloud error Throttling".into()));
            }
            Ok(self.groups.lock().unwrap().clone())
        }

        async fn change(&self, group: &str, cidrs: &[String], adding: bool) -> anyhow::Result<()> {
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
            match &self.fails {
                Some(failure) => Err(PluginError::Failure {
                    plugin: "fake".into(),
                    call: if adding {
                        "whitelist-add"
                    } else {
                        "whitelist-remove"
                    },
                    failure: failure.clone(),
                }
                .into()),
                None => Ok(()),
            }
        }
    }

    async fn change(
        plugin: &Fake,
        group: &str,
        adding: bool,
        verified: bool,
    ) -> Result<Option<String>, Refused> {
        let cidrs = vec!["172.16.66.0/24".to_string()];
        let asked = Asked {
            plugin: "fake",
            instance: "rm-1",
            group,
            cidrs: &cidrs,
            adding,
            verified,
        };
        guarded(
            asked,
            || plugin.list(),
            || plugin.change(group, &cidrs, adding),
        )
        .await
    }

    async fn add(plugin: &Fake, group: &str) -> Result<Option<String>, Refused> {
        change(plugin, group, true, false).await
    }

    #[tokio::test]
    async fn a_plugin_that_covers_the_group_and_then_fails_is_reported_for_the_lost_entry() {
        let refused = add(&fake(Does::Cover, true), "app").await.unwrap_err();
        assert_eq!(
            refused.error.to_string(),
            "plugin fake: whitelist-add: plugin fake removed entry 192.168.7.15 from whitelist \
             group app, which dwlink did not ask for; restore it on instance rm-1 and report the \
             plugin (and the call itself failed: cloud error ServiceUnavailable: the write may or \
             may not have happened (request id R-9))"
        );
        assert!(matches!(
            refused.violations.as_slice(),
            [Violation::Lost { entry, group, .. }] if entry == "192.168.7.15" && group == "app"
        ));
        let found = findings("whitelist.add", &refused.violations);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, FindingKind::Lost);
    }

    #[tokio::test]
    async fn an_open_to_all_entry_is_reported_whether_the_change_failed_or_not() {
        for fails in [true, false] {
            let refused = add(&fake(Does::OpenToAll, fails), "dataworks")
                .await
                .unwrap_err();
            assert!(
                matches!(refused.violations.as_slice(), [Violation::OpenToAll { entry, .. }] if entry == "0.0.0.0/0"),
                "{:?}",
                refused.violations
            );
            let text = refused.error.to_string();
            assert!(
                text.contains("opens the database to every address"),
                "{text}"
            );
            assert_eq!(
                text.contains("cloud error ServiceUnavailable"),
                fails,
                "{text}"
            );
            let found = findings("whitelist.add", &refused.violations);
            assert_eq!(found[0].kind, FindingKind::OpenToAll);
            assert!(found[0].describe().contains("0.0.0.0/0"));
        }
    }

    #[tokio::test]
    async fn a_failed_change_that_broke_nothing_is_the_plugins_own_error() {
        // Nothing applied, or the asked-for entry applied before the failure: no violation.
        for does in [Does::Nothing, Does::Append] {
            let refused = add(&fake(does, true), "dataworks").await.unwrap_err();
            assert!(refused.violations.is_empty());
            assert_eq!(
                refused.error.to_string(),
                "plugin fake: whitelist-add: cloud error ServiceUnavailable: the write may or may \
                 not have happened (request id R-9)"
            );
            assert!(!refused.retry);
        }
    }

    #[tokio::test]
    async fn with_the_hosts_own_read_a_failure_after_the_exact_change_is_accepted() {
        // The plugin gave up waiting for the instance, but the change is there: the host's
        // read decides, not the plugin's word.
        let mut plugin = fake(Does::Append, true);
        plugin.fails = Some(PluginFailure::InvalidState("still Modifying".into()));
        let said = change(&plugin, "dataworks", true, true).await.unwrap();
        assert!(said.unwrap().contains("still Modifying"));
        // Not applied: the plugin's own error, retryable when it says the instance is busy.
        let mut plugin = fake(Does::Nothing, true);
        plugin.fails = Some(PluginFailure::InvalidState("not Running".into()));
        let refused = change(&plugin, "dataworks", true, true).await.unwrap_err();
        assert!(refused.retry && refused.violations.is_empty());
        // From the plugin's own list (another product), its word is not enough.
        let mut plugin = fake(Does::Append, true);
        plugin.fails = Some(PluginFailure::InvalidState("still Modifying".into()));
        assert!(change(&plugin, "dataworks", true, false).await.is_err());
    }

    #[tokio::test]
    async fn a_failed_change_that_cannot_be_checked_says_so() {
        let mut plugin = fake(Does::Cover, true);
        plugin.list_fails_after = true;
        let text = add(&plugin, "app").await.unwrap_err().error.to_string();
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
        assert!(matches!(
            add(&fake(Does::Append, false), "dataworks").await,
            Ok(None)
        ));
        let refused = add(&fake(Does::Cover, false), "app").await.unwrap_err();
        assert!(
            matches!(refused.violations.as_slice(), [Violation::Lost { entry, .. }] if entry == "192.168.7.15"),
            "{:?}",
            refused.violations
        );
        let refused = add(&fake(Does::Nothing, false), "dataworks")
            .await
            .unwrap_err();
        assert!(matches!(
            refused.violations.as_slice(),
            [Violation::NotApplied { .. }]
        ));
        // Not applied is no lasting finding: the next run plans the step again.
        assert!(findings("whitelist.add", &refused.violations).is_empty());
        // A clean remove.
        let plugin = fake(Does::Append, false);
        plugin.groups.lock().unwrap()[1]
            .entries
            .push("172.16.66.0/24".into());
        assert!(matches!(
            change(&plugin, "app", false, true).await,
            Ok(None)
        ));
    }
}
