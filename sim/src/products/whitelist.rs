//! Whitelist groups shared by RDS, PolarDB and MongoDB: parsing `SecurityIps`, the
//! Cover / Append / Extend / Delete modes, the per-product limits and the empty-group rule
//! (SEED.md: deleting the last entry of a non-default group deletes the group; the `default`
//! group must keep at least one entry).

use crate::error::{ApiError, ApiResult};
use crate::request::parse_cidr;
use crate::state::WhitelistGroup;
use ipnet::Ipv4Net;

/// The group every instance has and that may never become empty.
pub const DEFAULT_GROUP: &str = "default";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Replace the group's entries.
    Cover,
    /// Add entries (RDS/PolarDB merge duplicates; MongoDB rejects them).
    Append,
    /// MongoDB: add entries, merging duplicates.
    Extend,
    /// Remove entries.
    Delete,
}

impl Mode {
    /// `ModifyMode`, default `Cover`; `allowed` lists the modes the product documents.
    pub fn parse(value: Option<&str>, allowed: &[Mode]) -> ApiResult<Mode> {
        let mode = match value.unwrap_or("Cover") {
            "Cover" => Mode::Cover,
            "Append" => Mode::Append,
            "Extend" => Mode::Extend,
            "Delete" => Mode::Delete,
            other => {
                return Err(ApiError::invalid(
                    "ModifyMode",
                    format!("{other:?} is not one of Cover, Append, Delete"),
                ));
            }
        };
        if allowed.contains(&mode) {
            Ok(mode)
        } else {
            Err(ApiError::invalid(
                "ModifyMode",
                format!("{mode:?} is not supported by this product"),
            ))
        }
    }
}

/// What differs between the products.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Entries across all groups of one instance.
    pub max_entries: usize,
    pub max_groups: usize,
    /// MongoDB's `Append` fails when an entry is already in the group.
    pub append_rejects_duplicates: bool,
    /// The request parameter naming the group (for messages).
    pub group_param: &'static str,
}

/// Splits and validates a comma-joined `SecurityIps` value: each entry an IPv4 address or a
/// CIDR block without host bits; duplicates within the request are an error.
pub fn parse_entries(raw: &str) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let mut nets: Vec<Ipv4Net> = Vec::new();
    for entry in raw.split(',').map(str::trim) {
        if entry.is_empty() {
            return Err(ApiError::bad(
                "InvalidSecurityIPList.Format",
                format!(
                    "The SecurityIps list {raw:?} has an empty entry; separate entries with single commas."
                ),
            ));
        }
        let net = parse_cidr("SecurityIps", entry).map_err(|e| {
            ApiError::bad(
                "InvalidSecurityIPList.Format",
                format!(
                    "The SecurityIps entry {entry:?} is not an IPv4 address or CIDR block: {}",
                    e.message
                ),
            )
        })?;
        if nets.contains(&net) {
            return Err(ApiError::bad(
                "InvalidSecurityIPList.Duplicate",
                format!("The SecurityIps entry {entry:?} is listed twice in the request."),
            ));
        }
        nets.push(net);
        out.push(entry.to_string());
    }
    Ok(out)
}

/// Group names: 2-120 characters, lowercase letters, digits and underscores, starting with a
/// letter (the rule RDS, PolarDB and MongoDB document for new groups).
pub fn check_group_name(param: &str, name: &str) -> ApiResult<()> {
    let ok = (2..=120).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            param,
            format!(
                "{name:?} must be 2 to 120 characters of lowercase letters, digits and underscores, starting with a letter"
            ),
        ))
    }
}

fn net_of(entry: &str) -> Option<Ipv4Net> {
    parse_cidr("entry", entry).ok()
}

fn same(a: &str, b: &str) -> bool {
    match (net_of(a), net_of(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Applies one modification to an instance's groups, all or nothing. `instance` is for messages.
pub fn apply(
    groups: &mut Vec<WhitelistGroup>,
    instance: &str,
    group: &str,
    attribute: Option<&str>,
    mode: Mode,
    entries: &[String],
    rules: &Rules,
) -> ApiResult<()> {
    let mut next = groups.clone();
    let pos = next.iter().position(|g| g.name.eq_ignore_ascii_case(group));
    let pos = match (pos, mode) {
        (Some(p), _) => p,
        (None, Mode::Delete) => {
            return Err(ApiError::not_found(
                "InvalidSecurityIPGroup.NotFound",
                format!(
                    "Instance {instance} has no whitelist group {group:?} to delete entries from."
                ),
            ));
        }
        (None, _) => {
            check_group_name(rules.group_param, group)?;
            if next.len() >= rules.max_groups {
                return Err(ApiError::bad(
                    "QuotaExceeded.WhitelistGroup",
                    format!(
                        "Instance {instance} already has {} whitelist groups, the maximum; add the entries to an existing group.",
                        next.len()
                    ),
                ));
            }
            next.push(WhitelistGroup {
                name: group.to_string(),
                attribute: attribute.unwrap_or_default().to_string(),
                entries: Vec::new(),
            });
            next.len() - 1
        }
    };
    let g = &mut next[pos];
    match mode {
        Mode::Cover => g.entries = entries.to_vec(),
        Mode::Append | Mode::Extend => {
            for e in entries {
                if g.entries.iter().any(|x| same(x, e)) {
                    if mode == Mode::Append && rules.append_rejects_duplicates {
                        return Err(ApiError::bad(
                            "InvalidSecurityIPList.Duplicate",
                            format!(
                                "The entry {e:?} is already in whitelist group {:?} of instance {instance}; use ModifyMode=Extend to merge duplicates.",
                                g.name
                            ),
                        ));
                    }
                } else {
                    g.entries.push(e.clone());
                }
            }
        }
        Mode::Delete => g.entries.retain(|x| !entries.iter().any(|e| same(x, e))),
    }
    if g.entries.is_empty() {
        if g.name.eq_ignore_ascii_case(DEFAULT_GROUP) {
            return Err(ApiError::bad(
                "InvalidSecurityIPList.Empty",
                format!(
                    "The default whitelist group of instance {instance} must keep at least one entry."
                ),
            ));
        }
        // Emptying a non-default group deletes it.
        next.remove(pos);
    }
    let total: usize = next.iter().map(|g| g.entries.len()).sum();
    if total > rules.max_entries {
        return Err(ApiError::bad(
            "InvalidSecurityIPList.QuotaExceeded",
            format!(
                "Instance {instance} would have {total} whitelist entries; the maximum is {}.",
                rules.max_entries
            ),
        ));
    }
    *groups = next;
    Ok(())
}

/// Whether any entry of any group covers `source` (an entry CIDR containing the source CIDR).
pub fn covers(groups: &[WhitelistGroup], source: &Ipv4Net) -> Option<(String, String)> {
    groups.iter().find_map(|g| {
        g.entries.iter().find_map(|e| {
            net_of(e)
                .filter(|n| n.contains(source))
                .map(|_| (g.name.clone(), e.clone()))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Rules = Rules {
        max_entries: 4,
        max_groups: 2,
        append_rejects_duplicates: false,
        group_param: "G",
    };

    fn groups() -> Vec<WhitelistGroup> {
        vec![WhitelistGroup {
            name: "default".into(),
            attribute: String::new(),
            entries: vec!["10.20.0.0/16".into()],
        }]
    }

    fn e(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn modes_limits_and_the_empty_group_rule() {
        let mut g = groups();
        apply(
            &mut g,
            "i",
            "dw",
            None,
            Mode::Append,
            &e(&["172.16.66.0/24"]),
            &RULES,
        )
        .unwrap();
        assert_eq!(g[1].entries, e(&["172.16.66.0/24"]));
        // Append merges a duplicate (RDS/PolarDB).
        apply(
            &mut g,
            "i",
            "dw",
            None,
            Mode::Append,
            &e(&["172.16.66.0/24", "1.2.3.4"]),
            &RULES,
        )
        .unwrap();
        assert_eq!(g[1].entries.len(), 2);
        // Group quota.
        let err = apply(
            &mut g,
            "i",
            "third",
            None,
            Mode::Append,
            &e(&["1.1.1.1"]),
            &RULES,
        )
        .unwrap_err();
        assert_eq!(err.code, "QuotaExceeded.WhitelistGroup");
        // Entry quota, nothing applied.
        let err = apply(
            &mut g,
            "i",
            "dw",
            None,
            Mode::Append,
            &e(&["2.2.2.2", "3.3.3.3"]),
            &RULES,
        )
        .unwrap_err();
        assert_eq!(err.code, "InvalidSecurityIPList.QuotaExceeded");
        assert_eq!(g[1].entries.len(), 2);
        // Emptying a non-default group deletes it; /32 and bare address are the same entry.
        apply(
            &mut g,
            "i",
            "dw",
            None,
            Mode::Delete,
            &e(&["172.16.66.0/24", "1.2.3.4/32"]),
            &RULES,
        )
        .unwrap();
        assert_eq!(g.len(), 1);
        let err = apply(
            &mut g,
            "i",
            "default",
            None,
            Mode::Delete,
            &e(&["10.20.0.0/16"]),
            &RULES,
        )
        .unwrap_err();
        assert_eq!(err.code, "InvalidSecurityIPList.Empty");
        apply(
            &mut g,
            "i",
            "default",
            None,
            Mode::Cover,
            &e(&["0.0.0.0/0"]),
            &RULES,
        )
        .unwrap();
        assert!(covers(&g, &"172.16.66.0/24".parse().unwrap()).is_some());
    }

    #[test]
    fn entries_are_validated() {
        assert!(parse_entries("10.0.0.0/8,1.2.3.4").is_ok());
        assert_eq!(
            parse_entries("10.0.0.1/8").unwrap_err().code,
            "InvalidSecurityIPList.Format"
        );
        assert_eq!(
            parse_entries("a,b").unwrap_err().code,
            "InvalidSecurityIPList.Format"
        );
        assert_eq!(
            parse_entries("1.2.3.4,,").unwrap_err().code,
            "InvalidSecurityIPList.Format"
        );
        assert_eq!(
            parse_entries("1.2.3.4,1.2.3.4/32").unwrap_err().code,
            "InvalidSecurityIPList.Duplicate"
        );
        assert!(check_group_name("G", "dataworks_1").is_ok());
        assert!(check_group_name("G", "1abc").is_err());
        assert!(check_group_name("G", "Abc").is_err());
    }
}
