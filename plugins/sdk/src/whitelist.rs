//! Whitelist helpers every plugin needs: entry parsing and idempotent add/remove plans within
//! the product's limits. Plugins do not wait after a change: the host polls `discover`.

use crate::{PluginError, Subject, WhitelistGroup};
use core::net::Ipv4Addr;

/// An IPv4 whitelist entry: an address (meaning `/32`) or a CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// The address as written (host bits are kept: products store what they are given).
    pub addr: Ipv4Addr,
    /// Prefix length, 32 for a bare address.
    pub prefix: u8,
}

impl Entry {
    /// Parses `a.b.c.d` or `a.b.c.d/n` (n in 0..=32); `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, p.parse::<u8>().ok().filter(|p| *p <= 32)?),
            None => (text, 32),
        };
        Some(Self {
            addr: addr.parse().ok()?,
            prefix,
        })
    }
}

/// True when two entries mean the same thing (`10.0.0.1` and `10.0.0.1/32` do). Entries that
/// do not parse (IPv6, product keywords) are compared as written.
pub fn same_entry(a: &str, b: &str) -> bool {
    match (Entry::parse(a), Entry::parse(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}

/// Splits a product's comma-separated entry list, dropping blanks.
pub fn split_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Checks the entries a caller asked for: each must be an IPv4 address or CIDR block, and
/// none may open the instance to every address (`/0`). Returns them trimmed, without repeats.
pub fn validate_entries(
    subject: &Subject<'_>,
    cidrs: &[String],
) -> Result<Vec<String>, PluginError> {
    let mut out: Vec<String> = Vec::new();
    for raw in cidrs {
        let text = raw.trim();
        let Some(entry) = Entry::parse(text) else {
            return Err(PluginError::InvalidInput(format!(
                "{}: whitelist entry {raw:?} is not an IPv4 address or CIDR block (e.g. \
                 172.16.66.0/24)",
                subject.describe()
            )));
        };
        if entry.prefix == 0 {
            return Err(PluginError::InvalidInput(format!(
                "{}: whitelist entry {text} would open the database to every address; dwlink \
                 only adds the networks that need access",
                subject.describe()
            )));
        }
        if !out.iter().any(|e| same_entry(e, text)) {
            out.push(text.to_string());
        }
    }
    Ok(out)
}

/// A product's whitelist limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most entries across all groups of one instance.
    pub max_entries: usize,
    /// Most groups per instance; `None` when the product documents no limit.
    pub max_groups: Option<usize>,
}

fn find<'a>(groups: &'a [WhitelistGroup], name: &str) -> Option<&'a WhitelistGroup> {
    groups.iter().find(|g| g.name == name)
}

fn refuse_hidden(subject: &Subject<'_>, group: Option<&WhitelistGroup>) -> Result<(), PluginError> {
    match group {
        Some(g) if g.attribute.eq_ignore_ascii_case("hidden") => {
            Err(PluginError::InvalidInput(format!(
                "{}: whitelist group {:?} is a hidden group the cloud's own services use; \
                 choose another group name",
                subject.describe(),
                g.name
            )))
        }
        _ => Ok(()),
    }
}

/// The entries to append to `group` so that it holds every one of `cidrs`: those already
/// present are left alone (empty result: nothing to do). Refuses invalid entries, hidden
/// groups and anything that would exceed `limits`, before any change is asked for.
pub fn plan_add(
    subject: &Subject<'_>,
    groups: &[WhitelistGroup],
    group: &str,
    cidrs: &[String],
    limits: Limits,
) -> Result<Vec<String>, PluginError> {
    let asked = validate_entries(subject, cidrs)?;
    let existing = find(groups, group);
    refuse_hidden(subject, existing)?;
    let present: &[String] = existing.map(|g| g.entries.as_slice()).unwrap_or(&[]);
    let missing: Vec<String> = asked
        .into_iter()
        .filter(|a| !present.iter().any(|p| same_entry(p, a)))
        .collect();
    if missing.is_empty() {
        return Ok(missing);
    }
    let total: usize = groups.iter().map(|g| g.entries.len()).sum();
    if total + missing.len() > limits.max_entries {
        return Err(PluginError::LimitExceeded(format!(
            "{}: adding {} whitelist entries to the {} already there would exceed the limit of \
             {} entries per instance; remove entries that are no longer used",
            subject.describe(),
            missing.len(),
            total,
            limits.max_entries
        )));
    }
    if existing.is_none()
        && let Some(max) = limits.max_groups
        && groups.len() >= max
    {
        return Err(PluginError::LimitExceeded(format!(
            "{}: creating whitelist group {group:?} would exceed the limit of {max} groups; \
             remove a group that is no longer used or use an existing one",
            subject.describe()
        )));
    }
    Ok(missing)
}

/// The entries to delete from `group`: exactly those of `cidrs` that are present, as the
/// product stores them (empty result: nothing to do). The `default` group must keep at least
/// one entry; a hidden group is refused.
pub fn plan_remove(
    subject: &Subject<'_>,
    groups: &[WhitelistGroup],
    group: &str,
    cidrs: &[String],
) -> Result<Vec<String>, PluginError> {
    let asked = validate_entries(subject, cidrs)?;
    let Some(existing) = find(groups, group) else {
        return Ok(Vec::new());
    };
    refuse_hidden(subject, Some(existing))?;
    let doomed: Vec<String> = existing
        .entries
        .iter()
        .filter(|p| asked.iter().any(|a| same_entry(p, a)))
        .cloned()
        .collect();
    if !doomed.is_empty()
        && doomed.len() == existing.entries.len()
        && existing.name.eq_ignore_ascii_case("default")
    {
        return Err(PluginError::InvalidInput(format!(
            "{}: removing {} would leave the default whitelist group empty, which the product \
             refuses; add another entry to it first",
            subject.describe(),
            doomed.join(",")
        )));
    }
    Ok(doomed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Subject<'static> = Subject {
        kind: "RDS instance",
        id: "rm-bp1simmysqlsource001",
        region: "cn-hangzhou",
    };
    const LIMITS: Limits = Limits {
        max_entries: 5,
        max_groups: Some(2),
    };

    fn g(name: &str, entries: &[&str]) -> WhitelistGroup {
        WhitelistGroup {
            name: name.into(),
            entries: entries.iter().map(|s| s.to_string()).collect(),
            attribute: String::new(),
        }
    }

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_and_compares_entries() {
        assert_eq!(Entry::parse("10.0.0.1"), Entry::parse("10.0.0.1/32"));
        assert!(same_entry(" 192.168.7.15 ", "192.168.7.15/32"));
        assert!(!same_entry("192.168.6.0/24", "192.168.6.0/25"));
        assert!(Entry::parse("10.0.0.0/33").is_none());
        assert!(Entry::parse("10.0.0/8").is_none());
        assert!(Entry::parse("").is_none());
        assert_eq!(split_list("a, b,,c "), v(&["a", "b", "c"]));
    }

    #[test]
    fn validation_refuses_garbage_and_open_to_all() {
        assert!(matches!(
            validate_entries(&S, &v(&["nope"])),
            Err(PluginError::InvalidInput(_))
        ));
        let e = validate_entries(&S, &v(&["0.0.0.0/0"])).unwrap_err();
        assert!(e.to_string().contains("every address"), "{e}");
        assert_eq!(
            validate_entries(&S, &v(&["10.0.0.1", "10.0.0.1/32", " 10.0.0.2 "])).unwrap(),
            v(&["10.0.0.1", "10.0.0.2"])
        );
    }

    #[test]
    fn add_skips_present_entries_and_checks_limits() {
        let groups = [
            g("default", &["10.20.0.0/16"]),
            g("app", &["192.168.6.0/24"]),
        ];
        let asked = v(&["192.168.6.0/24", "172.16.66.0/24"]);
        assert_eq!(
            plan_add(&S, &groups, "app", &asked, LIMITS).unwrap(),
            v(&["172.16.66.0/24"])
        );
        assert!(
            plan_add(&S, &groups, "app", &v(&["192.168.6.0/24"]), LIMITS)
                .unwrap()
                .is_empty()
        );
        // A third group would exceed max_groups = 2.
        let e = plan_add(&S, &groups, "dataworks", &asked, LIMITS).unwrap_err();
        assert!(matches!(e, PluginError::LimitExceeded(_)), "{e}");
        // 2 present + 4 new > 5 entries.
        let many = v(&["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"]);
        let e = plan_add(&S, &groups, "app", &many, LIMITS).unwrap_err();
        assert!(matches!(e, PluginError::LimitExceeded(_)), "{e}");
    }

    #[test]
    fn remove_takes_only_present_asked_entries_and_keeps_default_non_empty() {
        let groups = [
            g("default", &["10.20.0.0/16"]),
            g("app", &["192.168.6.0/24", "192.168.7.15"]),
        ];
        assert_eq!(
            plan_remove(&S, &groups, "app", &v(&["192.168.7.15/32", "9.9.9.9"])).unwrap(),
            v(&["192.168.7.15"])
        );
        assert!(
            plan_remove(&S, &groups, "nope", &v(&["1.1.1.1"]))
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            plan_remove(&S, &groups, "default", &v(&["10.20.0.0/16"])),
            Err(PluginError::InvalidInput(_))
        ));
    }

    #[test]
    fn hidden_groups_are_refused() {
        let mut hidden = g("hdm_security_ips", &["1.2.3.4"]);
        hidden.attribute = "hidden".into();
        let groups = [hidden];
        assert!(matches!(
            plan_add(&S, &groups, "hdm_security_ips", &v(&["5.6.7.8"]), LIMITS),
            Err(PluginError::InvalidInput(_))
        ));
    }
}
