//! The capability gate: what a plugin may do to the cloud. One home for that guarantee, shared by
//! every contract version's adapter.
//!
//! The host, not the plugin, decides. A plugin declares capabilities (contract 0.2, or derived
//! from 0.1's bare action names by [`capabilities_for_v0_1`]); every call it makes is checked
//! against them AND against the [`Scope`] the host built from its own arguments to the plugin
//! call (the link's instance and region; for `whitelist-add`/`-remove`, the group, the entries
//! and the mode) before anything is signed. Responses are scrubbed of credential fields before
//! the plugin sees them. A refusal is remembered by the sandbox and fails the plugin call,
//! whatever the plugin does with the error it was given.

use super::types::{Access, Capability, InstanceRef, WhitelistParams};
use crate::cloud::{BoxFuture, Call, Caller, CloudError};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Identity and credential products: never reachable from a plugin, whatever it declares.
pub const IDENTITY_PRODUCTS: &[&str] = &["sts", "ram", "ims", "kms", "resourcemanager"];
/// Products whose writes belong to the host alone (networking and DataWorks).
pub const HOST_PRODUCTS: &[&str] = &["vpc", "vpcpeer", "cbn", "dataworks-public"];

/// Cloud calls one plugin call may make; an honest plugin makes fewer than ten.
pub const MAX_CALLS: u32 = 100;
/// Bytes of cloud answers one plugin call may receive.
pub const MAX_RESPONSE_BYTES: usize = 16 << 20;

/// Whether `product:action` may be declared as a whitelist write. The gate checks a write's
/// parameters, not what the action does, so the action itself must be one that changes an IP
/// whitelist: the known one for the products the host knows, else a `Modify*` action whose
/// name says whitelist or security IPs (never `Delete*`, `Release*`, `Create*`, ...).
pub fn is_whitelist_action(product: &str, action: &str) -> bool {
    match product.to_ascii_lowercase().as_str() {
        "rds" | "dds" => action == "ModifySecurityIps",
        "polardb" => action == "ModifyDBClusterAccessWhitelist",
        _ => {
            action.starts_with("Modify")
                && ["SecurityIp", "Whitelist", "WhiteList", "IPArray"]
                    .iter()
                    .any(|w| action.contains(w))
        }
    }
}

/// Whether `action` only reads, by the OpenAPI naming convention.
pub fn is_read_action(action: &str) -> bool {
    ["Describe", "List", "Get"]
        .iter()
        .any(|p| action.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
}

/// The error code of a write refused by [`ReadOnly`].
pub const READ_ONLY_CODE: &str = "dwlink.ReadOnly";

/// The plugin's caller for the read-only commands (`plan`, `status`, `diagnose`): whatever the
/// scope says, nothing that is not a read leaves the host.
pub struct ReadOnly(pub Arc<dyn Caller>);

impl Caller for ReadOnly {
    fn call(&self, call: Call) -> BoxFuture<'_, Result<serde_json::Value, CloudError>> {
        if is_read_action(&call.action) {
            return self.0.call(call);
        }
        let error = CloudError {
            http_status: 0,
            code: READ_ONLY_CODE.into(),
            message: format!(
                "{}:{} is not a read, and this command only reads; dwlink-host did not send it",
                call.product.to_ascii_lowercase(),
                call.action
            ),
            request_id: String::new(),
            recommend: String::new(),
            account: self.0.account().to_string(),
            region: call.region.clone(),
            product: call.product.clone(),
            action: call.action.clone(),
        };
        Box::pin(async move { Err(error) })
    }

    fn account(&self) -> &str {
        self.0.account()
    }
}

/// Which whitelist change the host asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Append,
    Delete,
}

/// A whitelist write the host asked for: this group, these entries, this mode, nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteScope {
    pub group: String,
    pub entries: BTreeSet<String>,
    pub mode: Mode,
}

/// What one plugin call may touch, built by the host from its own arguments to the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub instance: InstanceRef,
    /// `None`: reads only (discover, whitelist-list, connection-properties, every read-only
    /// command).
    pub write: Option<WriteScope>,
}

impl Scope {
    pub fn read(instance: &InstanceRef) -> Scope {
        Scope {
            instance: instance.clone(),
            write: None,
        }
    }

    pub fn write(instance: &InstanceRef, group: &str, entries: &[String], mode: Mode) -> Scope {
        Scope {
            instance: instance.clone(),
            write: Some(WriteScope {
                group: group.to_string(),
                entries: entries.iter().map(|e| normalize_entry(e)).collect(),
                mode,
            }),
        }
    }
}

/// Why a call was refused. Never sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No capability names the call's product and action.
    Undeclared { action: String },
    /// A capability matches, but the call leaves the link.
    OutOfScope { action: String, reason: String },
    /// The plugin call's budget of cloud calls or bytes is spent.
    Budget { action: String, reason: String },
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Undeclared { .. } => "dwlink.UndeclaredAction",
            Refusal::OutOfScope { .. } => "dwlink.OutOfScope",
            Refusal::Budget { .. } => "dwlink.Budget",
        }
    }

    /// The same refusal with its guest-chosen text (action names, parameter values) made safe
    /// to print: control characters escaped, lengths capped.
    pub fn sanitized(self) -> Refusal {
        use super::text::{FIELD_CAP, MESSAGE_CAP, sanitize};
        match self {
            Refusal::Undeclared { action } => Refusal::Undeclared {
                action: sanitize(&action, FIELD_CAP),
            },
            Refusal::OutOfScope { action, reason } => Refusal::OutOfScope {
                action: sanitize(&action, FIELD_CAP),
                reason: sanitize(&reason, MESSAGE_CAP),
            },
            Refusal::Budget { action, reason } => Refusal::Budget {
                action: sanitize(&action, FIELD_CAP),
                reason: sanitize(&reason, MESSAGE_CAP),
            },
        }
    }

    pub fn action(&self) -> &str {
        match self {
            Refusal::Undeclared { action }
            | Refusal::OutOfScope { action, .. }
            | Refusal::Budget { action, .. } => action,
        }
    }

    /// The message the plugin gets (and the host logs).
    pub fn message(&self, plugin: &str) -> String {
        match self {
            Refusal::Undeclared { action } => format!(
                "plugin {plugin} did not declare {action} in describe; dwlink-host refused the call without sending it"
            ),
            Refusal::OutOfScope { action, reason } => format!(
                "plugin {plugin}: {action} is out of scope: {reason}; dwlink-host refused the call without sending it"
            ),
            Refusal::Budget { action, reason } => {
                format!("plugin {plugin}: {action} refused: {reason}; dwlink-host did not send it")
            }
        }
    }
}

/// A plugin's capabilities, indexed by (lower-case product, action).
#[derive(Debug, Clone, Default)]
pub struct Gate {
    by_action: BTreeMap<(String, String), Capability>,
}

impl Gate {
    pub fn new(capabilities: &[Capability]) -> Gate {
        Gate {
            by_action: capabilities
                .iter()
                .map(|c| {
                    (
                        (c.product.to_ascii_lowercase(), c.action.clone()),
                        c.clone(),
                    )
                })
                .collect(),
        }
    }

    /// Checks `call` against the capabilities and `scope`. Only an `Ok` call may be sent.
    pub fn check(&self, scope: &Scope, call: &Call) -> Result<(), Refusal> {
        let product = call.product.to_ascii_lowercase();
        let action = format!("{product}:{}", call.action);
        let out = |reason: String| Refusal::OutOfScope {
            action: action.clone(),
            reason,
        };
        if IDENTITY_PRODUCTS.contains(&product.as_str()) {
            return Err(out(format!(
                "{product} is an identity or credential product, which no plugin may call"
            )));
        }
        let Some(cap) = self.by_action.get(&(product.clone(), call.action.clone())) else {
            return Err(Refusal::Undeclared { action });
        };
        if !cap.version.is_empty() && cap.version != call.version {
            return Err(out(format!(
                "API version {} was declared, the call says {}",
                cap.version, call.version
            )));
        }
        // Validation refuses such declarations; the gate does not rely on it.
        check_api(&call.product, &call.version).map_err(&out)?;
        check_shape(cap).map_err(&out)?;
        let link = &scope.instance;
        if call.region != link.region {
            return Err(out(format!(
                "region {} is not the link's region {}",
                call.region, link.region
            )));
        }
        let params = ParamIndex::new(call).map_err(&out)?;
        if let Some(region) = params.get("RegionId")
            && region != link.region
        {
            return Err(out(format!(
                "RegionId {region} is not the link's region {}",
                link.region
            )));
        }
        if let Some(p) = &cap.instance_param {
            match params.get(p) {
                Some(id) if id == link.id => {}
                Some(id) => {
                    return Err(out(format!(
                        "{p} = {id} is not the link's instance {}",
                        link.id
                    )));
                }
                None => {
                    return Err(out(format!(
                        "{p} (the link's instance, {}) is missing",
                        link.id
                    )));
                }
            }
        }
        match cap.access {
            Access::Read => Ok(()),
            Access::Refused => Err(out(
                "it is not a read and the host does not know its parameters (a 0.1 plugin gets reads only, and whitelist writes of the products the host knows)".into(),
            )),
            Access::WhitelistWrite => {
                // Validation refuses such a declaration; the gate does not rely on it.
                if !is_whitelist_action(&cap.product, &cap.action) {
                    return Err(out("it is not an action that changes an IP whitelist".into()));
                }
                let Some(w) = &cap.whitelist else {
                    return Err(out("the capability names no whitelist parameters".into()));
                };
                let Some(write) = &scope.write else {
                    return Err(out(
                        "this plugin call may only read (a whitelist write is allowed only inside whitelist-add or whitelist-remove during run or destroy)".into(),
                    ));
                };
                check_write(w, cap.instance_param.as_deref(), write, &params).map_err(out)
            }
        }
    }
}

/// API versions of the products the host knows (lower-case product code). A call goes where
/// its product says, but a single endpoint (the simulator, a gateway) may route on the version
/// alone: a known product must use its own versions, and no other product may use them, so
/// that, e.g., STS's `GetCallerIdentity` cannot be declared as a read of `Rds`.
const KNOWN_APIS: &[(&str, &[&str])] = &[
    ("rds", &["2014-08-15"]),
    ("polardb", &["2017-08-01"]),
    ("dds", &["2015-12-01"]),
    ("vpc", &["2016-04-28"]),
    ("vpcpeer", &["2022-01-01"]),
    ("cbn", &["2017-09-12"]),
    ("dataworks-public", &["2020-05-18", "2024-05-18"]),
    ("sts", &["2015-04-01"]),
    ("ram", &["2015-05-01"]),
    ("ims", &["2019-08-15"]),
    ("kms", &["2016-01-20"]),
    ("resourcemanager", &["2020-03-31"]),
];

/// Whether `product` may be called with API `version` (see [`KNOWN_APIS`]).
pub fn check_api(product: &str, version: &str) -> Result<(), String> {
    let p = product.to_ascii_lowercase();
    if let Some((_, versions)) = KNOWN_APIS.iter().find(|(k, _)| *k == p) {
        if versions.contains(&version) {
            return Ok(());
        }
        return Err(format!(
            "{product} speaks API version {}, not {version}",
            versions.join(" or ")
        ));
    }
    if let Some((owner, _)) = KNOWN_APIS.iter().find(|(_, v)| v.contains(&version)) {
        return Err(format!(
            "API version {version} is {owner}'s, not {product}'s (an endpoint may route a call on its version)"
        ));
    }
    Ok(())
}

/// The whitelist products the host knows the parameters of.
const KNOWN_WHITELIST_PRODUCTS: &[&str] = &["rds", "polardb", "dds"];

/// Fixed parameters the host accepts on the whitelist writes it knows, with their one value.
const KNOWN_FIXED: &[(&str, &str, &str)] = &[
    ("polardb", "WhiteListType", "IP"),
    ("rds", "SecurityIPType", "IPv4"),
];

/// Whether a declaration puts each parameter where the product reads it. The gate checks the
/// parameters a capability names; a capability that names made-up ones while the real ones
/// are left out (the product then falls back to its defaults: group `default`, mode `Cover`)
/// or fixed to values of the plugin's choosing (another instance, `0.0.0.0/0`) would pass
/// every check and still leave the link. So a call the host knows (see [`known`]) must be
/// declared as the host knows it, fixed parameters of a known product must be ones the host
/// knows, and those of any other product must be plain words (no id, address or list) that
/// neither repeat a declared parameter nor replace the group.
pub fn check_shape(c: &Capability) -> Result<(), String> {
    let product = c.product.to_ascii_lowercase();
    if let Some(k) = known(&product, &c.action) {
        if c.access != k.access {
            return Err(format!(
                "dwlink-host knows {}:{} as a {}, not a {}",
                product,
                c.action,
                access_word(k.access),
                access_word(c.access)
            ));
        }
        if c.instance_param != k.instance_param {
            return Err(format!(
                "instance-param is {}, but {}:{} names its instance in {}",
                c.instance_param.as_deref().unwrap_or("none"),
                product,
                c.action,
                k.instance_param.as_deref().unwrap_or("no parameter")
            ));
        }
        if let (Some(w), Some(kw)) = (&c.whitelist, &k.whitelist) {
            for (field, got, want) in [
                ("group-param", &w.group_param, &kw.group_param),
                ("entries-param", &w.entries_param, &kw.entries_param),
                ("mode-param", &w.mode_param, &kw.mode_param),
                ("append-mode", &w.append_mode, &kw.append_mode),
                ("delete-mode", &w.delete_mode, &kw.delete_mode),
            ] {
                if got != want {
                    return Err(format!(
                        "whitelist {field} is {got}, but {}:{} takes {want}",
                        product, c.action
                    ));
                }
            }
        }
    }
    let Some(w) = &c.whitelist else {
        return Ok(());
    };
    let declared = [
        Some(w.group_param.as_str()),
        Some(w.entries_param.as_str()),
        Some(w.mode_param.as_str()),
        c.instance_param.as_deref(),
        Some("RegionId"),
    ];
    for (name, value) in &w.fixed_params {
        if declared.contains(&Some(name.as_str())) {
            return Err(format!(
                "fixed param {name} is also the instance, group, entries, mode or region parameter"
            ));
        }
        if KNOWN_WHITELIST_PRODUCTS.contains(&product.as_str()) {
            if !KNOWN_FIXED.contains(&(product.as_str(), name.as_str(), value.as_str())) {
                let allowed: Vec<String> = KNOWN_FIXED
                    .iter()
                    .filter(|(p, _, _)| *p == product)
                    .map(|(_, n, v)| format!("{n} = {v}"))
                    .collect();
                return Err(format!(
                    "fixed param {name} = {value} is not one dwlink-host allows on {}:{} ({})",
                    product,
                    c.action,
                    if allowed.is_empty() {
                        "none".to_string()
                    } else {
                        allowed.join(", ")
                    }
                ));
            }
            continue;
        }
        let word = !value.is_empty()
            && value.len() <= 32
            && value.chars().all(|ch| ch.is_ascii_alphabetic());
        if !word || REPLACING_MODES.contains(&value.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "fixed param {name} = {value}: a fixed value must be a plain word (letters only, at most 32), and not a mode that replaces the group, so it cannot name an instance, an address or a list"
            ));
        }
    }
    Ok(())
}

/// Modes that replace a whitelist group instead of appending or deleting.
const REPLACING_MODES: &[&str] = &["cover", "replace", "set", "overwrite"];

fn access_word(a: Access) -> &'static str {
    match a {
        Access::Read => "read",
        Access::WhitelistWrite => "whitelist-write",
        Access::Refused => "refused call",
    }
}

fn check_write(
    w: &WhitelistParams,
    instance_param: Option<&str>,
    write: &WriteScope,
    params: &ParamIndex<'_>,
) -> Result<(), String> {
    let get = |name: &str| {
        params
            .get(name)
            .ok_or_else(|| format!("parameter {name} is missing"))
    };
    let group = get(&w.group_param)?;
    if group != write.group {
        return Err(format!(
            "{} = {group} is not dwlink's whitelist group {}",
            w.group_param, write.group
        ));
    }
    let (wanted, asked) = match write.mode {
        Mode::Append => (&w.append_mode, "whitelist-add"),
        Mode::Delete => (&w.delete_mode, "whitelist-remove"),
    };
    let mode = get(&w.mode_param)?;
    if mode != *wanted {
        return Err(format!(
            "{} = {mode}, but the host asked for {asked}, which is {} = {wanted} only",
            w.mode_param, w.mode_param
        ));
    }
    let entries = get(&w.entries_param)?;
    let sent: Vec<&str> = entries
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if sent.is_empty() {
        return Err(format!("{} names no entry", w.entries_param));
    }
    for e in sent {
        if !write.entries.contains(&normalize_entry(e)) {
            return Err(format!(
                "entry {e} in {} is not one the host asked for ({})",
                w.entries_param,
                write.entries.iter().cloned().collect::<Vec<_>>().join(",")
            ));
        }
    }
    let fixed: BTreeMap<&str, &str> = w
        .fixed_params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for (name, value) in &params.all {
        let known = [
            Some(w.group_param.as_str()),
            Some(w.entries_param.as_str()),
            Some(w.mode_param.as_str()),
            instance_param,
            Some("RegionId"),
        ];
        if known.contains(&Some(*name)) {
            continue;
        }
        match fixed.get(name) {
            Some(allowed) if allowed == value => {}
            Some(allowed) => {
                return Err(format!(
                    "{name} = {value}, but the plugin declared {name} = {allowed}"
                ));
            }
            None => return Err(format!("parameter {name} is not declared for this write")),
        }
    }
    Ok(())
}

/// A call's parameters by name; a name given twice is refused (which one would the cloud use?).
struct ParamIndex<'a> {
    all: BTreeMap<&'a str, &'a str>,
}

impl<'a> ParamIndex<'a> {
    fn new(call: &'a Call) -> Result<Self, String> {
        let mut all = BTreeMap::new();
        for (k, v) in &call.params.0 {
            if all.insert(k.as_str(), v.as_str()).is_some() {
                return Err(format!("parameter {k} is given twice"));
            }
        }
        Ok(ParamIndex { all })
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.all.get(name).copied()
    }
}

/// An entry as the gate compares it: a CIDR in its canonical form, anything else trimmed.
fn normalize_entry(e: &str) -> String {
    let e = e.trim();
    if let Ok(net) = e.parse::<ipnet::Ipv4Net>() {
        return net.to_string();
    }
    if let Ok(ip) = e.parse::<std::net::Ipv4Addr>() {
        return format!("{ip}/32");
    }
    e.to_string()
}

/// Removes credential fields (at any depth) from a cloud answer before a plugin sees it; returns
/// how many it removed. Pagination tokens (`NextToken`) are kept.
pub fn scrub(value: &mut serde_json::Value) -> usize {
    match value {
        serde_json::Value::Object(map) => {
            let before = map.len();
            map.retain(|k, _| !is_secret_key(k));
            let mut removed = before - map.len();
            for v in map.values_mut() {
                removed += scrub(v);
            }
            removed
        }
        serde_json::Value::Array(items) => items.iter_mut().map(scrub).sum(),
        _ => 0,
    }
}

fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "password",
        "secret",
        "accesskey",
        "privatekey",
        "credential",
    ]
    .iter()
    .any(|s| k.contains(s))
        || (k.ends_with("token") && k != "nexttoken" && !k.ends_with("clienttoken"))
}

/// Validates a 0.2 plugin's declared capabilities; the error names the field.
pub fn validate(capabilities: &[Capability]) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for (i, c) in capabilities.iter().enumerate() {
        let at = format!("capabilities[{i}] ({}:{})", c.product, c.action);
        let product = c.product.to_ascii_lowercase();
        let ok_name = |s: &str| !s.is_empty() && s.len() <= 64;
        if !ok_name(&c.product)
            || !c
                .product
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
        {
            return Err(format!(
                "{at}: product must be an OpenAPI product code like `Rds`"
            ));
        }
        if !ok_name(&c.action) || !c.action.chars().all(|ch| ch.is_ascii_alphanumeric()) {
            return Err(format!(
                "{at}: action must be an OpenAPI action name like `DescribeDBInstanceAttribute`"
            ));
        }
        if c.version.len() != 10 || !c.version.chars().all(|ch| ch.is_ascii_digit() || ch == '-') {
            return Err(format!(
                "{at}: version {:?} must be an API version like `2014-08-15`",
                c.version
            ));
        }
        if IDENTITY_PRODUCTS.contains(&product.as_str()) {
            return Err(format!(
                "{at}: product {} is an identity or credential product; no plugin may call it",
                c.product
            ));
        }
        if !seen.insert((product.clone(), c.action.clone())) {
            return Err(format!("{at}: declared twice"));
        }
        if let Some(p) = &c.instance_param
            && !ok_name(p)
        {
            return Err(format!(
                "{at}: instance-param must name a request parameter"
            ));
        }
        match c.access {
            Access::Read => {
                if !is_read_action(&c.action) {
                    return Err(format!(
                        "{at}: access is read, but {} does not start with Describe, List or Get",
                        c.action
                    ));
                }
                if c.whitelist.is_some() {
                    return Err(format!(
                        "{at}: whitelist params are only for whitelist-write"
                    ));
                }
            }
            Access::WhitelistWrite => {
                if !is_whitelist_action(&c.product, &c.action) {
                    return Err(format!(
                        "{at}: access is whitelist-write, but {} is not an action that changes an IP whitelist (for {} the host accepts {})",
                        c.action,
                        c.product,
                        match product.as_str() {
                            "rds" | "dds" => "ModifySecurityIps",
                            "polardb" => "ModifyDBClusterAccessWhitelist",
                            _ => "a Modify* action naming the whitelist or security IPs",
                        }
                    ));
                }
                if HOST_PRODUCTS.contains(&product.as_str()) {
                    return Err(format!(
                        "{at}: writes to {} belong to dwlink-host alone",
                        c.product
                    ));
                }
                if c.instance_param.is_none() {
                    return Err(format!(
                        "{at}: a whitelist-write must name its instance-param"
                    ));
                }
                let Some(w) = &c.whitelist else {
                    return Err(format!(
                        "{at}: a whitelist-write must give its whitelist params"
                    ));
                };
                let names = [&w.group_param, &w.entries_param, &w.mode_param];
                if names.iter().any(|n| !ok_name(n)) {
                    return Err(format!(
                        "{at}: whitelist group-param, entries-param and mode-param must each name a request parameter"
                    ));
                }
                if w.append_mode.is_empty()
                    || w.delete_mode.is_empty()
                    || w.append_mode == w.delete_mode
                {
                    return Err(format!(
                        "{at}: append-mode and delete-mode must be two different values"
                    ));
                }
                for m in [&w.append_mode, &w.delete_mode] {
                    if REPLACING_MODES.contains(&m.to_ascii_lowercase().as_str()) {
                        return Err(format!(
                            "{at}: mode {m} replaces the group; only modes that append or delete may be declared"
                        ));
                    }
                }
            }
            Access::Refused => return Err(format!("{at}: unknown access")),
        }
        check_api(&c.product, &c.version).map_err(|e| format!("{at}: {e}"))?;
        check_shape(c).map_err(|e| format!("{at}: {e}"))?;
    }
    Ok(())
}

/// The capabilities the host grants a 0.1 plugin, which declares bare `product:Action` names
/// and cannot say which parameter names its instance: the calls of the products the host
/// knows get their known parameters; any other read is allowed (region-checked) with no
/// instance check; anything else is refused.
pub fn capabilities_for_v0_1(actions: &[String]) -> Vec<Capability> {
    actions
        .iter()
        .filter_map(|a| a.split_once(':'))
        .map(|(product, action)| {
            if let Some(known) = known(product, action) {
                return known;
            }
            let access = if is_read_action(action) && !IDENTITY_PRODUCTS.contains(&product) {
                Access::Read
            } else {
                Access::Refused
            };
            Capability {
                product: product.into(),
                // 0.1 declared no version; any version of a read is accepted.
                version: String::new(),
                action: action.into(),
                access,
                instance_param: None,
                whitelist: None,
            }
        })
        .collect()
}

/// The calls of the shipped products, as the host knows them from their API references.
fn known(product: &str, action: &str) -> Option<Capability> {
    let (version, instance, write): (&str, &str, Option<(&str, &str)>) = match (product, action) {
        ("vpc", "DescribeVSwitchAttributes") => {
            return Some(Capability {
                product: "Vpc".into(),
                version: "2016-04-28".into(),
                action: action.into(),
                access: Access::Read,
                instance_param: None,
                whitelist: None,
            });
        }
        (
            "rds",
            "DescribeDBInstanceAttribute"
            | "DescribeDBInstanceNetInfo"
            | "DescribeDBInstanceIPArrayList",
        ) => ("2014-08-15", "DBInstanceId", None),
        ("rds", "ModifySecurityIps") => (
            "2014-08-15",
            "DBInstanceId",
            Some(("DBInstanceIPArrayName", "")),
        ),
        (
            "polardb",
            "DescribeDBClusterAttribute"
            | "DescribeDBClusterEndpoints"
            | "DescribeDBClusterAccessWhitelist",
        ) => ("2017-08-01", "DBClusterId", None),
        ("polardb", "ModifyDBClusterAccessWhitelist") => (
            "2017-08-01",
            "DBClusterId",
            Some(("DBClusterIPArrayName", "")),
        ),
        ("dds", "DescribeDBInstanceAttribute" | "DescribeSecurityIps") => {
            ("2015-12-01", "DBInstanceId", None)
        }
        ("dds", "ModifySecurityIps") => (
            "2015-12-01",
            "DBInstanceId",
            Some(("SecurityIpGroupName", "")),
        ),
        _ => return None,
    };
    let code = match product {
        "rds" => "Rds",
        "dds" => "Dds",
        other => other,
    };
    Some(Capability {
        product: code.into(),
        version: version.into(),
        action: action.into(),
        access: if write.is_some() {
            Access::WhitelistWrite
        } else {
            Access::Read
        },
        instance_param: Some(instance.into()),
        whitelist: write.map(|(group, _)| WhitelistParams {
            group_param: group.into(),
            entries_param: "SecurityIps".into(),
            mode_param: "ModifyMode".into(),
            append_mode: "Append".into(),
            delete_mode: "Delete".into(),
            fixed_params: Vec::new(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwlink_acs::Params;

    const ID: &str = "rm-bp1simmysqlsource001";
    const REGION: &str = "cn-hangzhou";
    const CIDR: &str = "172.16.66.0/24";

    fn rds_caps() -> Vec<Capability> {
        capabilities_for_v0_1(&[
            "rds:DescribeDBInstanceAttribute".into(),
            "rds:ModifySecurityIps".into(),
            "vpc:DescribeVSwitchAttributes".into(),
        ])
    }

    fn instance() -> InstanceRef {
        InstanceRef {
            id: ID.into(),
            region: REGION.into(),
        }
    }

    fn call(product: &str, version: &str, action: &str, params: &[(&str, &str)]) -> Call {
        Call::new(product, version, action, REGION).params(Params(
            params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ))
    }

    fn modify(id: &str, group: &str, mode: &str, ips: &str) -> Call {
        call(
            "Rds",
            "2014-08-15",
            "ModifySecurityIps",
            &[
                ("DBInstanceId", id),
                ("DBInstanceIPArrayName", group),
                ("ModifyMode", mode),
                ("SecurityIps", ips),
            ],
        )
    }

    fn add_scope() -> Scope {
        Scope::write(&instance(), "dataworks", &[CIDR.into()], Mode::Append)
    }

    fn reason(r: Result<(), Refusal>) -> String {
        match r {
            Err(Refusal::OutOfScope { reason, .. }) => reason,
            other => panic!("expected out of scope, got {other:?}"),
        }
    }

    #[test]
    fn the_asked_for_append_passes_and_every_deviation_is_refused() {
        let gate = Gate::new(&rds_caps());
        let scope = add_scope();
        assert_eq!(
            gate.check(&scope, &modify(ID, "dataworks", "Append", CIDR)),
            Ok(())
        );
        // Host bits or a bare address of the same block are the same entry.
        assert_eq!(
            gate.check(
                &scope,
                &modify(ID, "dataworks", "Append", " 172.16.66.0/24 ")
            ),
            Ok(())
        );
        let cases = [
            (
                modify("rm-other", "dataworks", "Append", CIDR),
                "not the link's instance",
            ),
            (
                modify(ID, "default", "Append", CIDR),
                "not dwlink's whitelist group",
            ),
            (modify(ID, "dataworks", "Cover", CIDR), "ModifyMode = Cover"),
            (
                modify(ID, "dataworks", "Delete", CIDR),
                "ModifyMode = Delete",
            ),
            (
                modify(ID, "dataworks", "Append", "0.0.0.0/0"),
                "entry 0.0.0.0/0",
            ),
            (
                modify(ID, "dataworks", "Append", "172.16.66.0/24,10.0.0.0/8"),
                "entry 10.0.0.0/8",
            ),
            (modify(ID, "dataworks", "Append", ""), "names no entry"),
        ];
        for (c, want) in cases {
            let why = reason(gate.check(&scope, &c));
            assert!(why.contains(want), "{why} should say {want}");
        }
        let mut extra = modify(ID, "dataworks", "Append", CIDR);
        extra
            .params
            .0
            .push(("DBInstanceIPArrayAttribute".into(), "hidden".into()));
        assert!(reason(gate.check(&scope, &extra)).contains("not declared for this write"));
        let mut twice = modify(ID, "dataworks", "Append", CIDR);
        twice
            .params
            .0
            .push(("DBInstanceId".into(), "rm-other".into()));
        assert!(reason(gate.check(&scope, &twice)).contains("given twice"));
    }

    #[test]
    fn writes_need_a_write_scope_and_the_right_region() {
        let gate = Gate::new(&rds_caps());
        let read_only = Scope::read(&instance());
        let why = reason(gate.check(&read_only, &modify(ID, "dataworks", "Append", CIDR)));
        assert!(why.contains("may only read"), "{why}");
        let mut elsewhere = modify(ID, "dataworks", "Append", CIDR);
        elsewhere.region = "cn-beijing".into();
        assert!(reason(gate.check(&add_scope(), &elsewhere)).contains("region cn-beijing"));
        let mut region_param = modify(ID, "dataworks", "Append", CIDR);
        region_param
            .params
            .0
            .push(("RegionId".into(), "cn-beijing".into()));
        assert!(reason(gate.check(&add_scope(), &region_param)).contains("RegionId"));
        let remove = Scope::write(&instance(), "dataworks", &[CIDR.into()], Mode::Delete);
        assert_eq!(
            gate.check(&remove, &modify(ID, "dataworks", "Delete", CIDR)),
            Ok(())
        );
    }

    #[test]
    fn reads_are_scoped_to_the_instance_and_undeclared_or_identity_calls_refused() {
        let gate = Gate::new(&rds_caps());
        let scope = Scope::read(&instance());
        let attr = |id: &str| {
            call(
                "Rds",
                "2014-08-15",
                "DescribeDBInstanceAttribute",
                &[("DBInstanceId", id)],
            )
        };
        assert_eq!(gate.check(&scope, &attr(ID)), Ok(()));
        assert!(reason(gate.check(&scope, &attr("rm-other"))).contains("rm-other"));
        assert!(
            reason(gate.check(
                &scope,
                &call("Rds", "2014-08-15", "DescribeDBInstanceAttribute", &[])
            ))
            .contains("missing")
        );
        let vsw = call(
            "Vpc",
            "2016-04-28",
            "DescribeVSwitchAttributes",
            &[("VSwitchId", "vsw-1")],
        );
        assert_eq!(gate.check(&scope, &vsw), Ok(()));
        let delete = call(
            "Rds",
            "2014-08-15",
            "DeleteDBInstance",
            &[("DBInstanceId", ID)],
        );
        assert_eq!(
            gate.check(&scope, &delete),
            Err(Refusal::Undeclared {
                action: "rds:DeleteDBInstance".into()
            })
        );
        // Declaring them changes nothing: a 0.1 plugin gets no unknown write, nobody gets STS.
        let gate = Gate::new(&capabilities_for_v0_1(&[
            "rds:DeleteDBInstance".into(),
            "vpc:DeleteVpc".into(),
            "sts:AssumeRole".into(),
        ]));
        assert!(reason(gate.check(&add_scope(), &delete)).contains("not a read"));
        let assume = call("Sts", "2015-04-01", "AssumeRole", &[]);
        assert!(reason(gate.check(&add_scope(), &assume)).contains("identity"));
    }

    #[test]
    fn answers_lose_their_credential_fields_but_keep_pagination() {
        let mut body = serde_json::json!({
            "Credentials": {"AccessKeyId": "LTAI", "AccessKeySecret": "s", "SecurityToken": "t"},
            "Items": [{"Password": "p", "DBInstanceId": "rm-1", "StsToken": "x"}],
            "NextToken": "page-2",
            "RequestId": "r",
        });
        assert_eq!(scrub(&mut body), 3);
        assert_eq!(
            body,
            serde_json::json!({
                "Items": [{"DBInstanceId": "rm-1"}],
                "NextToken": "page-2",
                "RequestId": "r",
            })
        );
    }

    #[test]
    fn malformed_declarations_name_the_field() {
        let rds = |action: &str, access| Capability {
            product: "Rds".into(),
            version: "2014-08-15".into(),
            action: action.into(),
            access,
            instance_param: Some("DBInstanceId".into()),
            whitelist: None,
        };
        assert!(validate(&rds_caps()).is_ok());
        let err = validate(&[rds("DeleteDBInstance", Access::Read)]).unwrap_err();
        assert!(
            err.starts_with("capabilities[0] (Rds:DeleteDBInstance)"),
            "{err}"
        );
        assert!(err.contains("does not start with Describe"), "{err}");
        let err = validate(&[rds("ModifySecurityIps", Access::WhitelistWrite)]).unwrap_err();
        assert!(err.contains("whitelist params"), "{err}");
        let mut cover = rds_caps()[1].clone();
        cover.whitelist.as_mut().unwrap().append_mode = "Cover".into();
        assert!(
            validate(&[cover])
                .unwrap_err()
                .contains("replaces the group")
        );
        let mut vpc = rds_caps()[1].clone();
        vpc.product = "Vpc".into();
        vpc.action = "ModifyVpcWhitelist".into();
        assert!(
            validate(&[vpc])
                .unwrap_err()
                .contains("belong to dwlink-host alone")
        );
        // A destructive action dressed up as a whitelist write, with its own "parameters".
        let mut delete = rds_caps()[1].clone();
        delete.action = "DeleteDBInstance".into();
        let err = validate(&[delete.clone()]).unwrap_err();
        assert!(
            err.contains("not an action that changes an IP whitelist"),
            "{err}"
        );
        let gate = Gate::new(&[delete]);
        let call = call(
            "Rds",
            "2014-08-15",
            "DeleteDBInstance",
            &[
                ("DBInstanceId", ID),
                ("DBInstanceIPArrayName", "dataworks"),
                ("ModifyMode", "Append"),
                ("SecurityIps", CIDR),
            ],
        );
        assert!(reason(gate.check(&add_scope(), &call)).contains("not an action that changes"));
        let mut sts = rds("GetCallerIdentity", Access::Read);
        sts.product = "Sts".into();
        assert!(validate(&[sts]).unwrap_err().contains("identity"));
        let mut version = rds("DescribeDBInstanceAttribute", Access::Read);
        version.version = "latest".into();
        assert!(validate(&[version]).unwrap_err().contains("API version"));
        let twice = rds("DescribeDBInstanceAttribute", Access::Read);
        assert!(
            validate(&[twice.clone(), twice])
                .unwrap_err()
                .contains("declared twice")
        );
    }

    /// What `tests/fixtures/hostile-cloud-params` declares: writes whose checked parameters
    /// are made up while the real ones are fixed to the plugin's values or left to the
    /// product's defaults (group `default`, mode `Cover`).
    fn smuggling() -> (Capability, Capability) {
        let mut rds = rds_caps()[1].clone();
        let w = rds.whitelist.as_mut().unwrap();
        w.group_param = "IPArrayName".into();
        w.mode_param = "Mode".into();
        let mut dds = capabilities_for_v0_1(&["dds:ModifySecurityIps".into()])[0].clone();
        dds.instance_param = Some("InstanceId".into());
        let w = dds.whitelist.as_mut().unwrap();
        w.group_param = "GroupName".into();
        w.entries_param = "Ips".into();
        w.fixed_params = vec![
            ("DBInstanceId".into(), "dds-other".into()),
            ("SecurityIpGroupName".into(), "default".into()),
            ("SecurityIps".into(), "0.0.0.0/0".into()),
        ];
        (rds, dds)
    }

    #[test]
    fn whitelist_writes_must_put_their_parameters_where_the_product_reads_them() {
        let (rds, dds) = smuggling();
        let err = validate(std::slice::from_ref(&rds)).unwrap_err();
        assert!(
            err.contains(
                "group-param is IPArrayName, but rds:ModifySecurityIps takes DBInstanceIPArrayName"
            ),
            "{err}"
        );
        let err = validate(std::slice::from_ref(&dds)).unwrap_err();
        assert!(err.contains("names its instance in DBInstanceId"), "{err}");
        // The gate refuses them at call time too, as declared and in scope.
        let gate = Gate::new(&[rds, dds]);
        let sneaky = call(
            "Rds",
            "2014-08-15",
            "ModifySecurityIps",
            &[
                ("DBInstanceId", ID),
                ("IPArrayName", "dataworks"),
                ("Mode", "Append"),
                ("SecurityIps", CIDR),
            ],
        );
        assert!(reason(gate.check(&add_scope(), &sneaky)).contains("group-param"));
        let sneaky = call(
            "Dds",
            "2015-12-01",
            "ModifySecurityIps",
            &[
                ("InstanceId", ID),
                ("GroupName", "dataworks"),
                ("ModifyMode", "Append"),
                ("Ips", CIDR),
                ("DBInstanceId", "dds-other"),
                ("SecurityIpGroupName", "default"),
                ("SecurityIps", "0.0.0.0/0"),
            ],
        );
        assert!(reason(gate.check(&add_scope(), &sneaky)).contains("instance-param"));
        // Known products: only the fixed params the host knows.
        let mut fixed = rds_caps()[1].clone();
        fixed.whitelist.as_mut().unwrap().fixed_params =
            vec![("SecurityIPType".into(), "IPv4".into())];
        assert!(validate(&[fixed.clone()]).is_ok());
        fixed.whitelist.as_mut().unwrap().fixed_params =
            vec![("DBInstanceIPArrayAttribute".into(), "hidden".into())];
        assert!(
            validate(&[fixed])
                .unwrap_err()
                .contains("not one dwlink-host allows")
        );
        // Other products: plain words only, never a declared parameter or a replacing mode.
        let other = |fixed: &[(&str, &str)]| Capability {
            product: "Gpdb".into(),
            version: "2016-05-03".into(),
            action: "ModifySecurityIps".into(),
            access: Access::WhitelistWrite,
            instance_param: Some("DBInstanceId".into()),
            whitelist: Some(WhitelistParams {
                group_param: "DBInstanceIPArrayName".into(),
                entries_param: "SecurityIPList".into(),
                mode_param: "ModifyMode".into(),
                append_mode: "Append".into(),
                delete_mode: "Delete".into(),
                fixed_params: fixed
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            }),
        };
        assert!(validate(&[other(&[("SecurityIPType", "IP")])]).is_ok());
        for (bad, says) in [
            (("DBInstanceGroupId", "gp-other1"), "plain word"),
            (("SecurityIPListExtra", "0.0.0.0/0"), "plain word"),
            (("WriteMode", "Cover"), "plain word"),
            (("DBInstanceId", "x"), "also the instance"),
        ] {
            let err = validate(&[other(&[bad])]).unwrap_err();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
    }

    #[test]
    fn an_api_version_belongs_to_its_product() {
        // STS's identity call dressed up as a read of RDS.
        let mut disguised =
            capabilities_for_v0_1(&["rds:DescribeDBInstanceAttribute".into()])[0].clone();
        disguised.action = "GetCallerIdentity".into();
        disguised.version = "2015-04-01".into();
        disguised.instance_param = None;
        let err = validate(&[disguised.clone()]).unwrap_err();
        assert!(
            err.contains("Rds speaks API version 2014-08-15, not 2015-04-01"),
            "{err}"
        );
        let mut unknown = disguised.clone();
        unknown.product = "Foo".into();
        let err = validate(&[unknown.clone()]).unwrap_err();
        assert!(err.contains("API version 2015-04-01 is sts's"), "{err}");
        let scope = Scope::read(&instance());
        let gate = Gate::new(&[disguised, unknown]);
        for product in ["Rds", "Foo"] {
            let c = call(product, "2015-04-01", "GetCallerIdentity", &[]);
            assert!(reason(gate.check(&scope, &c)).contains("2015-04-01"));
        }
        // A 0.1 plugin's unknown read may use any version, but not another product's.
        let gate = Gate::new(&capabilities_for_v0_1(&["rds:GetCallerIdentity".into()]));
        let c = call("Rds", "2015-04-01", "GetCallerIdentity", &[]);
        assert!(reason(gate.check(&scope, &c)).contains("speaks API version"));
    }
}
