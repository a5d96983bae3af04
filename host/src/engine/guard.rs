//! The host's whitelist guard: whatever a plugin does, a whitelist change may only add or remove
//! the entries the host asked for, in the group it named; every other entry survives, and no
//! open-to-the-world entry (`0.0.0.0/0`-like) appears.

use crate::plugin::WhitelistGroup;
use ipnet::Ipv4Net;
use std::collections::BTreeSet;

/// The change the host asked the plugin for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change<'a> {
    Add {
        group: &'a str,
        entries: &'a [String],
    },
    Remove {
        group: &'a str,
        entries: &'a [String],
    },
}

/// A broken invariant, named precisely so the user can act on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error(
        "plugin {plugin} removed entry {entry} from whitelist group {group}, which dwlink did not ask for; restore it on instance {instance} and report the plugin"
    )]
    Lost {
        plugin: String,
        instance: String,
        group: String,
        entry: String,
    },
    #[error(
        "plugin {plugin} added entry {entry} to whitelist group {group}, which dwlink did not ask for; remove it from instance {instance} and report the plugin"
    )]
    Unexpected {
        plugin: String,
        instance: String,
        group: String,
        entry: String,
    },
    #[error(
        "whitelist group {group} of instance {instance} now holds {entry}, which opens the database to every address; dwlink refuses this: remove it and report plugin {plugin}"
    )]
    OpenToAll {
        plugin: String,
        instance: String,
        group: String,
        entry: String,
    },
    #[error(
        "plugin {plugin} reported success, but entry {entry} is {state} whitelist group {group} of instance {instance}; run again, and report the plugin if it persists"
    )]
    NotApplied {
        plugin: String,
        instance: String,
        group: String,
        entry: String,
        state: &'static str,
    },
}

/// A change the plugin reported as failed, after which the guard still found a broken invariant:
/// the violation first (it needs the user's action), then the plugin's own error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plugin {plugin}: {call}: {violation} (and the call itself failed: {error})")]
pub struct FailedChange {
    pub plugin: String,
    pub call: &'static str,
    pub violation: Violation,
    /// The plugin's error, without its `plugin NAME: CALL: ` prefix.
    pub error: String,
}

impl FailedChange {
    pub fn new(
        plugin: &str,
        call: &'static str,
        violation: Violation,
        error: &dyn std::fmt::Display,
    ) -> FailedChange {
        let error = error.to_string();
        let prefix = format!("plugin {plugin}: {call}: ");
        let error = error.strip_prefix(&prefix).unwrap_or(&error).to_string();
        FailedChange {
            plugin: plugin.to_string(),
            call,
            violation,
            error,
        }
    }
}

/// An entry as a network, so `10.0.0.1` and `10.0.0.1/32` compare equal. Entries that are not
/// IPv4 (the products also accept a few keywords) are kept as text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Net(Ipv4Net),
    Text(String),
}

fn key(entry: &str) -> Key {
    let entry = entry.trim();
    if let Ok(net) = entry.parse::<Ipv4Net>() {
        return Key::Net(net.trunc());
    }
    if let Ok(ip) = entry.parse::<std::net::Ipv4Addr>() {
        return Key::Net(Ipv4Net::from(ip));
    }
    Key::Text(entry.to_string())
}

/// True for an entry that admits every address: a /0, or the `%` wildcard some products take.
pub fn open_to_all(entry: &str) -> bool {
    match key(entry) {
        Key::Net(net) => net.prefix_len() == 0,
        Key::Text(t) => t == "%" || t == "*",
    }
}

fn entries(groups: &[WhitelistGroup]) -> BTreeSet<(String, Key, String)> {
    groups
        .iter()
        .flat_map(|g| {
            g.entries
                .iter()
                .map(|e| (g.name.clone(), key(e), e.trim().to_string()))
        })
        .collect()
}

/// Checks `after` against `before` for `change`; `plugin` and `instance` name the culprit.
pub fn check(
    plugin: &str,
    instance: &str,
    before: &[WhitelistGroup],
    after: &[WhitelistGroup],
    change: Change<'_>,
) -> Result<(), Violation> {
    check_with(plugin, instance, before, after, change, true)
}

/// [`check`] after a change the plugin reported as failed: the asked-for entries may be all,
/// some or none applied, but every other entry must have survived, and nothing else (nothing
/// open to all) may have appeared.
pub fn check_after_failure(
    plugin: &str,
    instance: &str,
    before: &[WhitelistGroup],
    after: &[WhitelistGroup],
    change: Change<'_>,
) -> Result<(), Violation> {
    check_with(plugin, instance, before, after, change, false)
}

fn check_with(
    plugin: &str,
    instance: &str,
    before: &[WhitelistGroup],
    after: &[WhitelistGroup],
    change: Change<'_>,
    must_be_applied: bool,
) -> Result<(), Violation> {
    match violations(plugin, instance, before, after, change, must_be_applied)
        .into_iter()
        .next()
    {
        Some(v) => Err(v),
        None => Ok(()),
    }
}

/// Every broken invariant of `after` against `before` for `change`, in the order [`check`]
/// reports them (lost entries, then entries not asked for or open to all, then the asked-for
/// entries not applied, the last only when `must_be_applied`). Empty: the change is clean.
pub fn violations(
    plugin: &str,
    instance: &str,
    before: &[WhitelistGroup],
    after: &[WhitelistGroup],
    change: Change<'_>,
    must_be_applied: bool,
) -> Vec<Violation> {
    let (group, asked, adding) = match change {
        Change::Add { group, entries } => (group, entries, true),
        Change::Remove { group, entries } => (group, entries, false),
    };
    let asked: BTreeSet<Key> = asked.iter().map(|e| key(e)).collect();
    let in_group = |set: &BTreeSet<(String, Key, String)>, k: &Key| {
        set.iter().any(|(g, key, _)| g == group && key == k)
    };
    let before_set = entries(before);
    let after_set = entries(after);
    let strip = |set: &BTreeSet<(String, Key, String)>| -> BTreeSet<(String, Key)> {
        set.iter().map(|(g, k, _)| (g.clone(), k.clone())).collect()
    };
    let (b, a) = (strip(&before_set), strip(&after_set));
    let who = |g: &str, e: &str| {
        (
            plugin.to_string(),
            instance.to_string(),
            g.to_string(),
            e.to_string(),
        )
    };
    let mut out = Vec::new();

    for (g, k, text) in &before_set {
        let expected_gone = !adding && g == group && asked.contains(k);
        if !expected_gone && !a.contains(&(g.clone(), k.clone())) {
            let (plugin, instance, group, entry) = who(g, text);
            out.push(Violation::Lost {
                plugin,
                instance,
                group,
                entry,
            });
        }
    }
    for (g, k, text) in &after_set {
        if b.contains(&(g.clone(), k.clone())) {
            continue;
        }
        let (plugin, instance, group_name, entry) = who(g, text);
        if open_to_all(text) {
            out.push(Violation::OpenToAll {
                plugin,
                instance,
                group: group_name,
                entry,
            });
            continue;
        }
        let expected_new = adding && g == group && asked.contains(k);
        if !expected_new {
            out.push(Violation::Unexpected {
                plugin,
                instance,
                group: group_name,
                entry,
            });
        }
    }
    if !must_be_applied {
        return out;
    }
    for k in &asked {
        let present = in_group(&after_set, k);
        if present != adding {
            let entry = match k {
                Key::Net(n) => n.to_string(),
                Key::Text(t) => t.clone(),
            };
            let (plugin, instance, group, entry) = who(group, &entry);
            let state = if adding { "missing from" } else { "still in" };
            out.push(Violation::NotApplied {
                plugin,
                instance,
                group,
                entry,
                state,
            });
        }
    }
    out
}

/// Whether two whitelist entries are the same network (`10.0.0.1` and `10.0.0.1/32` are).
pub fn same_entry(a: &str, b: &str) -> bool {
    key(a) == key(b)
}

/// Whether whitelist group `group` holds `entry` (as the same network).
pub fn holds(groups: &[WhitelistGroup], group: &str, entry: &str) -> bool {
    groups
        .iter()
        .filter(|g| g.name == group)
        .any(|g| g.entries.iter().any(|e| same_entry(e, entry)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(spec: &[(&str, &[&str])]) -> Vec<WhitelistGroup> {
        spec.iter()
            .map(|(name, entries)| WhitelistGroup {
                name: name.to_string(),
                entries: entries.iter().map(|e| e.to_string()).collect(),
                attribute: String::new(),
            })
            .collect()
    }

    fn cidrs(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    const RG: &str = "172.16.66.0/24";

    #[test]
    fn a_clean_add_and_remove_pass() {
        let before = groups(&[("default", &["10.20.0.0/16"]), ("app", &["192.168.7.15"])]);
        let after = groups(&[
            ("default", &["10.20.0.0/16"]),
            ("app", &["192.168.7.15/32"]),
            ("dataworks", &[RG]),
        ]);
        let asked = cidrs(&[RG]);
        let add = Change::Add {
            group: "dataworks",
            entries: &asked,
        };
        assert_eq!(check("p", "rm-1", &before, &after, add), Ok(()));
        let remove = Change::Remove {
            group: "dataworks",
            entries: &asked,
        };
        assert_eq!(check("p", "rm-1", &after, &before, remove), Ok(()));
    }

    #[test]
    fn a_lost_entry_is_named() {
        let before = groups(&[("default", &["10.20.0.0/16"]), ("app", &["192.168.7.15"])]);
        // A Cover of the wrong group would do this.
        let after = groups(&[("default", &["10.20.0.0/16"]), ("app", &[RG])]);
        let asked = cidrs(&[RG]);
        let err = check(
            "cover",
            "rm-1",
            &before,
            &after,
            Change::Add {
                group: "app",
                entries: &asked,
            },
        )
        .unwrap_err();
        assert!(
            matches!(&err, Violation::Lost { entry, group, .. } if entry == "192.168.7.15" && group == "app")
        );
        assert!(err.to_string().contains("plugin cover"));
    }

    #[test]
    fn open_to_all_and_unexpected_entries_are_refused() {
        let before = groups(&[("default", &["10.20.0.0/16"])]);
        let asked = cidrs(&[RG]);
        let after = groups(&[
            ("default", &["10.20.0.0/16"]),
            ("dataworks", &[RG, "0.0.0.0/0"]),
        ]);
        let err = check(
            "p",
            "rm-1",
            &before,
            &after,
            Change::Add {
                group: "dataworks",
                entries: &asked,
            },
        )
        .unwrap_err();
        assert!(matches!(err, Violation::OpenToAll { .. }));
        let after = groups(&[
            ("default", &["10.20.0.0/16", "8.8.8.8"]),
            ("dataworks", &[RG]),
        ]);
        let err = check(
            "p",
            "rm-1",
            &before,
            &after,
            Change::Add {
                group: "dataworks",
                entries: &asked,
            },
        )
        .unwrap_err();
        assert!(matches!(err, Violation::Unexpected { .. }));
        assert!(open_to_all("0.0.0.0/0") && open_to_all("%") && !open_to_all("0.0.0.0/8"));
    }

    #[test]
    fn after_a_failed_change_only_the_entries_not_asked_for_are_checked() {
        let before = groups(&[
            ("default", &["10.20.0.0/16"]),
            ("dataworks", &["10.9.0.0/24"]),
        ]);
        let asked = cidrs(&[RG, "172.16.67.0/24"]);
        let add = Change::Add {
            group: "dataworks",
            entries: &asked,
        };
        // Nothing, half or all of the change happened: not a violation when the call failed.
        for after in [
            before.clone(),
            groups(&[
                ("default", &["10.20.0.0/16"]),
                ("dataworks", &["10.9.0.0/24", RG]),
            ]),
            groups(&[
                ("default", &["10.20.0.0/16"]),
                ("dataworks", &["10.9.0.0/24", RG, "172.16.67.0/24"]),
            ]),
        ] {
            assert_eq!(
                check_after_failure("p", "rm-1", &before, &after, add),
                Ok(())
            );
        }
        // Covered, then failed: the lost entry is named.
        let covered = groups(&[("default", &["10.20.0.0/16"]), ("dataworks", &[RG])]);
        let err = check_after_failure("cover", "rm-1", &before, &covered, add).unwrap_err();
        assert_eq!(
            err,
            Violation::Lost {
                plugin: "cover".into(),
                instance: "rm-1".into(),
                group: "dataworks".into(),
                entry: "10.9.0.0/24".into(),
            }
        );
        // An entry nobody asked for, or one open to all, is refused after a failure too.
        let extra = groups(&[
            ("default", &["10.20.0.0/16", "8.8.8.8"]),
            ("dataworks", &["10.9.0.0/24"]),
        ]);
        let err = check_after_failure("p", "rm-1", &before, &extra, add).unwrap_err();
        assert!(matches!(&err, Violation::Unexpected { entry, .. } if entry == "8.8.8.8"));
        let open = groups(&[
            ("default", &["10.20.0.0/16"]),
            ("dataworks", &["10.9.0.0/24", "0.0.0.0/0"]),
        ]);
        let err = check_after_failure("p", "rm-1", &before, &open, add).unwrap_err();
        assert!(matches!(err, Violation::OpenToAll { .. }));
        // A failed remove may have removed the asked-for entry, but nothing else.
        let asked = cidrs(&["10.9.0.0/24"]);
        let remove = Change::Remove {
            group: "dataworks",
            entries: &asked,
        };
        let removed = groups(&[("default", &["10.20.0.0/16"]), ("dataworks", &[])]);
        assert_eq!(
            check_after_failure("p", "rm-1", &before, &removed, remove),
            Ok(())
        );
        let wiped = groups(&[("dataworks", &[])]);
        let err = check_after_failure("p", "rm-1", &before, &wiped, remove).unwrap_err();
        assert!(matches!(&err, Violation::Lost { entry, .. } if entry == "10.20.0.0/16"));
    }

    #[test]
    fn a_failed_change_names_the_violation_and_the_plugins_error_once() {
        let violation = Violation::Lost {
            plugin: "cover".into(),
            instance: "rm-1".into(),
            group: "app".into(),
            entry: "192.168.7.15".into(),
        };
        let own = "plugin cover: whitelist-add: cloud error ServiceUnavailable: try later";
        let e = FailedChange::new("cover", "whitelist-add", violation, &own);
        assert_eq!(
            e.to_string(),
            "plugin cover: whitelist-add: plugin cover removed entry 192.168.7.15 from whitelist \
             group app, which dwlink did not ask for; restore it on instance rm-1 and report the \
             plugin (and the call itself failed: cloud error ServiceUnavailable: try later)"
        );
    }

    #[test]
    fn a_change_that_did_not_happen_is_reported() {
        let before = groups(&[("default", &["10.20.0.0/16"])]);
        let asked = cidrs(&[RG]);
        let err = check(
            "p",
            "rm-1",
            &before,
            &before,
            Change::Add {
                group: "dataworks",
                entries: &asked,
            },
        )
        .unwrap_err();
        assert!(matches!(
            err,
            Violation::NotApplied {
                state: "missing from",
                ..
            }
        ));
        let with = groups(&[("default", &["10.20.0.0/16"]), ("dataworks", &[RG])]);
        let err = check(
            "p",
            "rm-1",
            &with,
            &with,
            Change::Remove {
                group: "dataworks",
                entries: &asked,
            },
        )
        .unwrap_err();
        assert!(matches!(
            err,
            Violation::NotApplied {
                state: "still in",
                ..
            }
        ));
    }
}
