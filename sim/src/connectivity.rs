//! `TestDataSourceConnectivity`, computed from the modelled network (never stubbed).
//!
//! The walk follows a packet from the DataWorks resource group to the database and back, hop by
//! hop, and stops at the first hop that fails:
//!
//! 1. cross-account RAM role (ConfigError): the owner account exists, the role exists there and
//!    its trust policy names the DataWorks account;
//! 2. data source instance / instance status (ConfigError): the instance exists in that region
//!    and is Running;
//! 3. resource group network (ConfigError): bound to the workspace, with a Running network
//!    (VPC + vSwitch) in the DataWorks region;
//! 4. DataWorks route (Unreachable): a route on that network covering the instance IP;
//! 5. route table of the resource group's VPC: an Available entry covering the instance IP whose
//!    next hop is a peering connection or a transit-router attachment;
//! 6. VPC peering (Activated, joining exactly these VPCs) or CEN (both VPC attachments Attached in
//!    one CEN, transit-router route tables associated and propagated, an inter-region
//!    connection when the regions differ);
//! 7. return route in the database's VPC back to the resource group's vSwitch CIDR over the same
//!    peering / attachment (and the transit-router return path);
//! 8. instance whitelist: an entry covering the resource group's vSwitch CIDR;
//! 9. instance endpoint: the IP inside the instance's vSwitch (and the URL port, in UrlMode).
//!
//! Statuses are read with `peek`, so a connectivity test never advances a client's poll count.

use crate::products::whitelist;
use crate::state::*;
use ipnet::Ipv4Net;
use serde_json::{Value, json};
use std::net::Ipv4Addr;
use std::time::Instant;

crate::wire_enum!(ConnectState {
    Connectable = "Connectable",
    ConfigError = "ConfigError",
    Unreachable = "Unreachable"
});

/// One hop of the walk: a stable code (DetailLogs `Code`) and the name messages use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hop {
    pub code: &'static str,
    pub name: &'static str,
}

pub const CROSS_ACCOUNT_ROLE: Hop = Hop {
    code: "CROSS_ACCOUNT_ROLE",
    name: "cross-account RAM role",
};
pub const INSTANCE: Hop = Hop {
    code: "DATA_SOURCE_INSTANCE",
    name: "data source instance",
};
pub const INSTANCE_STATUS: Hop = Hop {
    code: "INSTANCE_STATUS",
    name: "instance status",
};
pub const RESOURCE_GROUP: Hop = Hop {
    code: "RESOURCE_GROUP_NETWORK",
    name: "resource group network",
};
pub const DATAWORKS_ROUTE: Hop = Hop {
    code: "DATAWORKS_ROUTE",
    name: "DataWorks route",
};
pub const SOURCE_VPC_ROUTE: Hop = Hop {
    code: "SOURCE_VPC_ROUTE",
    name: "route table of the resource group's VPC",
};
pub const PEERING: Hop = Hop {
    code: "VPC_PEERING",
    name: "VPC peering connection",
};
pub const CEN: Hop = Hop {
    code: "CEN_TRANSIT",
    name: "CEN transit router path",
};
pub const RETURN_ROUTE: Hop = Hop {
    code: "RETURN_ROUTE",
    name: "return route in the data source's VPC",
};
pub const WHITELIST: Hop = Hop {
    code: "WHITELIST",
    name: "instance whitelist",
};
pub const ENDPOINT: Hop = Hop {
    code: "ENDPOINT",
    name: "instance endpoint",
};

/// What to test: a data source from a resource group of a workspace.
pub struct Probe<'a> {
    pub dataworks_uid: &'a str,
    pub project_id: u64,
    pub resource_group_id: &'a str,
    pub data_source: &'a DataSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub code: String,
    pub message: String,
    pub start_ms: i64,
    pub end_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub state: ConnectState,
    pub message: String,
    /// The failing hop, if any.
    pub failed: Option<Hop>,
    pub logs: Vec<LogEntry>,
}

impl Verdict {
    /// The `Connectivity` object of the response.
    pub fn to_json(&self) -> Value {
        let logs: Vec<Value> = self
            .logs
            .iter()
            .map(|l| {
                json!({"Code": l.code, "Message": l.message, "StartTime": l.start_ms, "EndTime": l.end_ms})
            })
            .collect();
        json!({
            "ConnectState": self.state.as_str(),
            "ConnectMessage": self.message,
            "DetailLogs": logs,
        })
    }
}

struct Fail {
    hop: Hop,
    state: ConnectState,
    message: String,
}

fn config(hop: Hop, message: String) -> Fail {
    Fail {
        hop,
        state: ConnectState::ConfigError,
        message,
    }
}

fn unreachable(hop: Hop, message: String) -> Fail {
    Fail {
        hop,
        state: ConnectState::Unreachable,
        message,
    }
}

/// Runs the walk.
pub fn test(w: &mut World, probe: &Probe<'_>, now: Instant) -> Verdict {
    let mut passed: Vec<(Hop, String)> = Vec::new();
    let outcome = walk(w, probe, now, &mut passed);
    let start = epoch_ms();
    let mut logs: Vec<LogEntry> = passed
        .iter()
        .map(|(hop, msg)| LogEntry {
            code: hop.code.to_string(),
            message: format!("{}: OK. {msg}", hop.name),
            start_ms: start,
            end_ms: start,
        })
        .collect();
    match outcome {
        Ok(summary) => Verdict {
            state: ConnectState::Connectable,
            message: summary,
            failed: None,
            logs,
        },
        Err(f) => {
            let message = format!("{} check failed: {}", f.hop.name, f.message);
            logs.push(LogEntry {
                code: f.hop.code.to_string(),
                message: message.clone(),
                start_ms: start,
                end_ms: start,
            });
            Verdict {
                state: f.state,
                message,
                failed: Some(f.hop),
                logs,
            }
        }
    }
}

/// The database end, copied out of the world.
struct Target {
    kind: &'static str,
    id: String,
    uid: String,
    region: String,
    vpc_id: String,
    vswitch_id: String,
    ip: Ipv4Addr,
    port: u16,
    status: DbStatus,
    whitelist: Vec<WhitelistGroup>,
}

fn account_label(w: &World, uid: &str) -> String {
    match w.account(uid) {
        Some(a) => format!("account {} ({uid})", a.name),
        None => format!("account {uid}"),
    }
}

fn prop(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn walk(
    w: &mut World,
    probe: &Probe<'_>,
    now: Instant,
    passed: &mut Vec<(Hop, String)>,
) -> Result<String, Fail> {
    let ds = probe.data_source;
    let props = &ds.properties;
    let dw_uid = probe.dataworks_uid;

    // 1. Which account owns the database, and may DataWorks act there?
    let owner = prop(props, "crossAccountOwnerId").unwrap_or_else(|| dw_uid.to_string());
    if owner != dw_uid {
        if w.account(&owner).is_none() {
            return Err(config(
                CROSS_ACCOUNT_ROLE,
                format!(
                    "crossAccountOwnerId {owner} is not an existing account; set it to the UID of the account that owns the database."
                ),
            ));
        }
        let role_name = prop(props, "crossAccountRoleName").ok_or_else(|| {
            config(
                CROSS_ACCOUNT_ROLE,
                format!(
                    "crossAccountRoleName is missing for the cross-account data source {:?} ({}).",
                    ds.name,
                    account_label(w, &owner)
                ),
            )
        })?;
        let role = w
            .globals
            .get(&owner)
            .and_then(|g| g.roles.values().find(|r| r.name.eq_ignore_ascii_case(&role_name)))
            .cloned()
            .ok_or_else(|| {
                config(
                    CROSS_ACCOUNT_ROLE,
                    format!(
                        "RAM role {role_name:?} does not exist in {}; create it with a trust policy for account {dw_uid}.",
                        account_label(w, &owner)
                    ),
                )
            })?;
        if !role.trusted_uids.iter().any(|u| u == dw_uid) {
            return Err(config(
                CROSS_ACCOUNT_ROLE,
                format!(
                    "the trust policy of {} in {} does not allow {} to assume it; add acs:ram::{dw_uid}:root as a principal.",
                    role.arn(),
                    account_label(w, &owner),
                    account_label(w, dw_uid)
                ),
            ));
        }
        passed.push((
            CROSS_ACCOUNT_ROLE,
            format!(
                "{} in {} trusts {}.",
                role.arn(),
                account_label(w, &owner),
                account_label(w, dw_uid)
            ),
        ));
    }

    // 2. The instance.
    let target = resolve_target(w, ds, &owner, now)?;
    passed.push((
        INSTANCE,
        format!(
            "{} {} in {}, region {}: {}:{} in VPC {} vSwitch {}.",
            target.kind,
            target.id,
            account_label(w, &target.uid),
            target.region,
            target.ip,
            target.port,
            target.vpc_id,
            target.vswitch_id
        ),
    ));
    if !matches!(target.status, DbStatus::Running | DbStatus::Modifying) {
        return Err(config(
            INSTANCE_STATUS,
            format!(
                "{} {} in {}, region {} is {}; it must be Running.",
                target.kind,
                target.id,
                account_label(w, &target.uid),
                target.region,
                target.status
            ),
        ));
    }
    passed.push((
        INSTANCE_STATUS,
        format!("{} {} is {}.", target.kind, target.id, target.status),
    ));

    // 3. The resource group and its network.
    let (dw_region, network, src_vpc, src_cidr) = resource_group_network(w, probe, target.ip, now)?;
    let dw_label = account_label(w, dw_uid);
    passed.push((
        RESOURCE_GROUP,
        format!(
            "resource group {} (workspace {}) uses network {} = VPC {src_vpc}, vSwitch CIDR {src_cidr}, in {dw_label}, region {dw_region}.",
            probe.resource_group_id, probe.project_id, network.id
        ),
    ));

    let same_vpc = dw_uid == target.uid && dw_region == target.region && src_vpc == target.vpc_id;
    let mut path = String::from("the same VPC");
    if same_vpc {
        passed.push((
            DATAWORKS_ROUTE,
            "not needed: the instance is in the resource group's VPC.".into(),
        ));
    } else {
        // 4. DataWorks route.
        let route = w
            .regional_ref(dw_uid, &dw_region)
            .and_then(|r| {
                r.dataworks
                    .routes
                    .values()
                    .find(|r| r.network_id == network.id && r.destination.contains(&target.ip))
                    .cloned()
            })
            .ok_or_else(|| {
                unreachable(
                    DATAWORKS_ROUTE,
                    format!(
                        "no route on network {} of resource group {} ({dw_label}, region {dw_region}) covers {}; add a route to {}'s vSwitch CIDR.",
                        network.id, probe.resource_group_id, target.ip, target.id
                    ),
                )
            })?;
        passed.push((
            DATAWORKS_ROUTE,
            format!(
                "route {} on network {} sends {} ({}) to VPC {src_vpc}.",
                route.id, network.id, route.destination, target.ip
            ),
        ));

        // 5. The resource group VPC's route table.
        let ip_net = Ipv4Net::from(target.ip);
        let (entry_id, table_id, hop) = vpc_route(w, dw_uid, &dw_region, &src_vpc, &ip_net, now)
            .map_err(|m| unreachable(SOURCE_VPC_ROUTE, m))?;
        passed.push((
            SOURCE_VPC_ROUTE,
            format!(
                "entry {entry_id} of {table_id} sends {} to {} {}.",
                target.ip, hop.kind, hop.id
            ),
        ));

        // 6 and 7. Transport and return route.
        match hop.kind.as_str() {
            "VpcPeer" => {
                let p = peering(w, &hop.id, now).ok_or_else(|| {
                    unreachable(PEERING, format!("peering connection {} (next hop of {entry_id} in {table_id}) does not exist.", hop.id))
                })?;
                if p.status.current() != PeeringStatus::Activated {
                    return Err(unreachable(
                        PEERING,
                        format!(
                            "peering connection {} ({}, region {}) is {}, not Activated; accept it in the accepting {}, region {}.",
                            p.id,
                            account_label(w, &p.owner_uid),
                            p.region,
                            p.status.current(),
                            account_label(w, &p.accepting_uid),
                            p.accepting_region
                        ),
                    ));
                }
                if !(p.has_side(dw_uid, &dw_region, &src_vpc)
                    && p.has_side(&target.uid, &target.region, &target.vpc_id))
                {
                    return Err(unreachable(
                        PEERING,
                        format!(
                            "peering connection {} joins VPC {} ({}) and VPC {} ({}), not {src_vpc} and {}.",
                            p.id,
                            p.vpc_id,
                            p.region,
                            p.accepting_vpc_id,
                            p.accepting_region,
                            target.vpc_id
                        ),
                    ));
                }
                passed.push((
                    PEERING,
                    format!(
                        "{} is Activated between VPC {src_vpc} and VPC {}.",
                        p.id, target.vpc_id
                    ),
                ));
                let (rid, rtable, rhop) = vpc_route(
                    w,
                    &target.uid,
                    &target.region,
                    &target.vpc_id,
                    &src_cidr,
                    now,
                )
                .map_err(|m| unreachable(RETURN_ROUTE, m))?;
                if rhop.kind != "VpcPeer" || rhop.id != p.id {
                    return Err(unreachable(
                        RETURN_ROUTE,
                        format!(
                            "entry {rid} of {rtable} ({}, region {}) sends {src_cidr} to {} {}, not to peering connection {}.",
                            account_label(w, &target.uid),
                            target.region,
                            rhop.kind,
                            rhop.id,
                            p.id
                        ),
                    ));
                }
                passed.push((
                    RETURN_ROUTE,
                    format!(
                        "entry {rid} of {rtable} sends {src_cidr} back over {}.",
                        p.id
                    ),
                ));
                path = format!("peering connection {}", p.id);
            }
            "Attachment" => {
                let from = vpc_attachment(w, &hop.id, now).ok_or_else(|| {
                    unreachable(CEN, format!("transit router attachment {} (next hop of {entry_id} in {table_id}) does not exist.", hop.id))
                })?;
                if from.vpc_id != src_vpc || from.vpc_owner_uid != dw_uid {
                    return Err(unreachable(
                        CEN,
                        format!(
                            "attachment {} attaches VPC {}, not the resource group's VPC {src_vpc}.",
                            from.id, from.vpc_id
                        ),
                    ));
                }
                if from.status.current() != AttachmentStatus::Attached {
                    return Err(unreachable(
                        CEN,
                        format!(
                            "attachment {} of VPC {src_vpc} ({dw_label}, region {dw_region}) is {}, not Attached.",
                            from.id,
                            from.status.current()
                        ),
                    ));
                }
                let to = find_vpc_attachment(w, &from.cen_id, &target.uid, &target.region, &target.vpc_id, now)
                    .ok_or_else(|| {
                        unreachable(
                            CEN,
                            format!(
                                "CEN {} has no attachment of VPC {} ({}, region {}); attach it (with a grant from its owner).",
                                from.cen_id, target.vpc_id, account_label(w, &target.uid), target.region
                            ),
                        )
                    })?;
                if to.status.current() != AttachmentStatus::Attached {
                    return Err(unreachable(
                        CEN,
                        format!(
                            "attachment {} of VPC {} ({}, region {}) is {}, not Attached.",
                            to.id,
                            target.vpc_id,
                            account_label(w, &target.uid),
                            target.region,
                            to.status.current()
                        ),
                    ));
                }
                // Transit-router problems are reported with the CEN owner's account.
                let cen_owner = w
                    .cen_owner(&from.cen_id)
                    .map(|u| account_label(w, &u))
                    .unwrap_or_else(|| "an unknown account".into());
                let in_cen =
                    |m: String| format!("{m}; CEN {} is owned by {cen_owner}.", from.cen_id);
                let forward = tr_path(w, &from, &to, &ip_net, now)
                    .map_err(|m| unreachable(CEN, in_cen(m)))?;
                passed.push((CEN, format!("CEN {}: {forward}.", from.cen_id)));
                let (rid, rtable, rhop) = vpc_route(
                    w,
                    &target.uid,
                    &target.region,
                    &target.vpc_id,
                    &src_cidr,
                    now,
                )
                .map_err(|m| unreachable(RETURN_ROUTE, m))?;
                if rhop.kind != "Attachment" || rhop.id != to.id {
                    return Err(unreachable(
                        RETURN_ROUTE,
                        format!(
                            "entry {rid} of {rtable} ({}, region {}) sends {src_cidr} to {} {}, not to attachment {}.",
                            account_label(w, &target.uid),
                            target.region,
                            rhop.kind,
                            rhop.id,
                            to.id
                        ),
                    ));
                }
                let back = tr_path(w, &to, &from, &src_cidr, now)
                    .map_err(|m| unreachable(RETURN_ROUTE, in_cen(m)))?;
                passed.push((
                    RETURN_ROUTE,
                    format!(
                        "entry {rid} of {rtable} sends {src_cidr} to {}; {back}.",
                        to.id
                    ),
                ));
                path = format!("CEN {}", from.cen_id);
            }
            other => {
                return Err(unreachable(
                    SOURCE_VPC_ROUTE,
                    format!(
                        "entry {entry_id} of {table_id} sends {} to next hop type {other:?} ({}), which does not lead to VPC {}.",
                        target.ip, hop.id, target.vpc_id
                    ),
                ));
            }
        }
    }

    // 8. Whitelist.
    let (group, entry) = whitelist::covers(&target.whitelist, &src_cidr).ok_or_else(|| {
        unreachable(
            WHITELIST,
            format!(
                "no whitelist entry of {} {} ({}, region {}) covers the resource group's vSwitch CIDR {src_cidr}; add it to a whitelist group.",
                target.kind, target.id, account_label(w, &target.uid), target.region
            ),
        )
    })?;
    passed.push((
        WHITELIST,
        format!("entry {entry} of group {group:?} covers {src_cidr}."),
    ));

    // 9. Endpoint.
    let vsw_cidr = w
        .regional_ref(&target.uid, &target.region)
        .and_then(|r| r.vswitches.get(&target.vswitch_id))
        .map(|v| v.cidr);
    match vsw_cidr {
        Some(c) if c.contains(&target.ip) => {}
        Some(c) => {
            return Err(unreachable(
                ENDPOINT,
                format!(
                    "{} {} has IP {} outside its vSwitch {} ({c}).",
                    target.kind, target.id, target.ip, target.vswitch_id
                ),
            ));
        }
        None => {
            return Err(unreachable(
                ENDPOINT,
                format!(
                    "the vSwitch {} of {} {} does not exist.",
                    target.vswitch_id, target.kind, target.id
                ),
            ));
        }
    }
    if ds.mode == "UrlMode"
        && let Some(port) = url_port(props)
        && port != target.port
    {
        return Err(unreachable(
            ENDPOINT,
            format!(
                "{} {} listens on port {}, not {port}.",
                target.kind, target.id, target.port
            ),
        ));
    }
    passed.push((
        ENDPOINT,
        format!(
            "{}:{} is in vSwitch {}.",
            target.ip, target.port, target.vswitch_id
        ),
    ));
    Ok(format!(
        "Connectable: resource group {} reaches {} {} at {}:{} via {path}.",
        probe.resource_group_id, target.kind, target.id, target.ip, target.port
    ))
}

fn url_address(props: &Value) -> Option<&Value> {
    props.get("address")?.as_array()?.first()
}

fn url_port(props: &Value) -> Option<u16> {
    let p = url_address(props)?.get("port")?;
    p.as_u64()
        .and_then(|n| u16::try_from(n).ok())
        .or_else(|| p.as_str()?.parse().ok())
}

/// An instance found for a data source, copied out of the world.
struct Found {
    kind: &'static str,
    id: String,
    vpc_id: String,
    vswitch_id: String,
    status: DbStatus,
    endpoints: Vec<Endpoint>,
    whitelist: Vec<WhitelistGroup>,
}

/// Finds the instance the data source points at, in the owner account.
fn resolve_target(
    w: &mut World,
    ds: &DataSource,
    owner: &str,
    now: Instant,
) -> Result<Target, Fail> {
    let props = &ds.properties;
    let region = prop(props, "regionId");
    let label = account_label(w, owner);
    let (wanted_id, host) = if ds.mode == "UrlMode" {
        let host = url_address(props)
            .and_then(|a| a.get("host"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        (None, Some(host))
    } else {
        let key = if ds.kind == "polardb" {
            "clusterId"
        } else {
            "instanceId"
        };
        let id = prop(props, key).ok_or_else(|| {
            config(
                INSTANCE,
                format!("the data source {:?} has no {key}.", ds.name),
            )
        })?;
        if region.is_none() {
            return Err(config(
                INSTANCE,
                format!("the data source {:?} has no regionId.", ds.name),
            ));
        }
        (Some(id), None)
    };
    let matches = |id: &str, eps: &[Endpoint]| match (&wanted_id, &host) {
        (Some(want), _) => want == id,
        (None, Some(h)) => eps
            .iter()
            .any(|e| e.connection_string.eq_ignore_ascii_case(h) || e.ip.to_string() == *h),
        _ => false,
    };
    let kind = ds.kind.as_str();
    for ((u, r), reg) in w.regions.iter_mut() {
        if u != owner || region.as_ref().is_some_and(|want| want != r) {
            continue;
        }
        let by_url = wanted_id.is_none();
        let mut found: Option<Found> = None;
        if (kind == "polardb" || by_url)
            && let Some(c) = reg
                .polardb_clusters
                .values_mut()
                .find(|c| matches(&c.id, &c.endpoints))
        {
            found = Some(Found {
                kind: "PolarDB cluster",
                id: c.id.clone(),
                vpc_id: c.vpc_id.clone(),
                vswitch_id: c.vswitch_id.clone(),
                status: c.status.peek(now),
                endpoints: c.endpoints.clone(),
                whitelist: c.whitelist.clone(),
            });
        }
        if found.is_none()
            && (kind == "mongodb" || by_url)
            && let Some(i) = reg
                .mongodb_instances
                .values_mut()
                .find(|i| matches(&i.id, &i.endpoints))
        {
            found = Some(Found {
                kind: "MongoDB instance",
                id: i.id.clone(),
                vpc_id: i.vpc_id.clone(),
                vswitch_id: i.vswitch_id.clone(),
                status: i.status.peek(now),
                endpoints: i.endpoints.clone(),
                whitelist: i.whitelist.clone(),
            });
        }
        if found.is_none()
            && (!matches!(kind, "polardb" | "mongodb") || by_url)
            && let Some(i) = reg
                .rds_instances
                .values_mut()
                .find(|i| matches(&i.id, &i.endpoints))
        {
            found = Some(Found {
                kind: "RDS instance",
                id: i.id.clone(),
                vpc_id: i.vpc_id.clone(),
                vswitch_id: i.vswitch_id.clone(),
                status: i.status.peek(now),
                endpoints: i.endpoints.clone(),
                whitelist: i.whitelist.clone(),
            });
        }
        if let Some(Found {
            kind,
            id,
            vpc_id,
            vswitch_id,
            status,
            endpoints: eps,
            whitelist,
        }) = found
        {
            let ep = match &host {
                Some(h) => eps.iter().find(|e| {
                    e.connection_string.eq_ignore_ascii_case(h) || e.ip.to_string() == *h
                }),
                None => eps.first(),
            }
            .cloned()
            .ok_or_else(|| config(INSTANCE, format!("{kind} {id} has no VPC endpoint.")))?;
            return Ok(Target {
                kind,
                id,
                uid: u.clone(),
                region: r.clone(),
                vpc_id,
                vswitch_id,
                ip: ep.ip,
                port: ep.port,
                status,
                whitelist,
            });
        }
    }
    let what = match (&wanted_id, &host) {
        (Some(id), _) => format!("instance {id}"),
        (None, Some(h)) => format!("an instance with the address {h:?}"),
        _ => "the instance".into(),
    };
    Err(config(
        INSTANCE,
        format!(
            "{what} ({} data source {:?}) does not exist in {label}{}.",
            ds.kind,
            ds.name,
            region.map(|r| format!(", region {r}")).unwrap_or_default()
        ),
    ))
}

/// The resource group's network to use, with the DataWorks region, VPC and vSwitch CIDR.
fn resource_group_network(
    w: &mut World,
    probe: &Probe<'_>,
    ip: Ipv4Addr,
    now: Instant,
) -> Result<(String, DwNetwork, String, Ipv4Net), Fail> {
    let uid = probe.dataworks_uid;
    let rg_id = probe.resource_group_id;
    let label = account_label(w, uid);
    let (region, reg) = w
        .regions
        .iter_mut()
        .find(|((u, _), r)| u == uid && r.dataworks.resource_groups.contains_key(rg_id))
        .map(|((_, r), reg)| (r.clone(), reg))
        .ok_or_else(|| {
            config(
                RESOURCE_GROUP,
                format!("resource group {rg_id} does not exist in {label}."),
            )
        })?;
    let dw = &mut reg.dataworks;
    let g = dw.resource_groups.get_mut(rg_id).expect("found");
    let status = g.status.peek(now);
    if status != ResourceGroupStatus::Normal {
        return Err(config(
            RESOURCE_GROUP,
            format!("resource group {rg_id} ({label}, region {region}) is {status}, not Normal."),
        ));
    }
    if !g.workspaces.contains(&probe.project_id) {
        return Err(config(
            RESOURCE_GROUP,
            format!(
                "resource group {rg_id} ({label}, region {region}) is not bound to workspace {}; associate it first.",
                probe.project_id
            ),
        ));
    }
    let mut running: Vec<DwNetwork> = dw
        .networks
        .values_mut()
        .filter(|n| n.resource_group_id == rg_id)
        .filter_map(|n| (n.status.peek(now) == NetworkStatus::Running).then(|| n.clone()))
        .collect();
    if running.is_empty() {
        return Err(config(
            RESOURCE_GROUP,
            format!(
                "resource group {rg_id} ({label}, region {region}) has no Running network (VPC and vSwitch); create one."
            ),
        ));
    }
    // Prefer a network that already routes to the database.
    let pick = running
        .iter()
        .position(|n| {
            dw.routes
                .values()
                .any(|r| r.network_id == n.id && r.destination.contains(&ip))
        })
        .unwrap_or(0);
    let network = running.swap_remove(pick);
    let vsw = reg.vswitches.get(&network.vswitch_id).filter(|v| v.vpc_id == network.vpc_id).ok_or_else(|| {
        config(
            RESOURCE_GROUP,
            format!(
                "network {} of resource group {rg_id} uses vSwitch {} of VPC {}, which does not exist in {label}, region {region}.",
                network.id, network.vswitch_id, network.vpc_id
            ),
        )
    })?;
    let cidr = vsw.cidr;
    let vpc = network.vpc_id.clone();
    Ok((region, network, vpc, cidr))
}

/// Longest-prefix match in the VPC's route tables: (entry id, table id, next hop).
fn vpc_route(
    w: &mut World,
    uid: &str,
    region: &str,
    vpc: &str,
    dest: &Ipv4Net,
    now: Instant,
) -> Result<(String, String, NextHop), String> {
    let label = account_label(w, uid);
    let reg = w.regions.get_mut(&(uid.to_string(), region.to_string()));
    let best = reg.and_then(|reg| {
        reg.route_tables
            .values_mut()
            .filter(|t| t.vpc_id == vpc)
            .flat_map(|t| t.entries.iter_mut())
            .filter(|e| {
                e.destination.contains(dest)
                    && e.next_hops.first().is_some_and(|h| h.kind != "local")
            })
            .max_by_key(|e| e.destination.prefix_len())
    });
    let Some(e) = best else {
        return Err(format!(
            "no route table entry of VPC {vpc} ({label}, region {region}) covers {dest}; add one pointing at the peering connection or the transit router attachment."
        ));
    };
    let status = e.status.peek(now);
    if status != RouteEntryStatus::Available {
        return Err(format!(
            "route entry {} ({}) in {} of VPC {vpc} ({label}, region {region}) is {status}, not Available.",
            e.id, e.destination, e.route_table_id
        ));
    }
    Ok((
        e.id.clone(),
        e.route_table_id.clone(),
        e.next_hops[0].clone(),
    ))
}

fn peering(w: &mut World, id: &str, now: Instant) -> Option<VpcPeering> {
    let (_, _, p) = w.peering_mut(id)?;
    p.status.peek(now);
    Some(p.clone())
}

/// The VPC attachment with this id; a Detached one is gone (the cloud forgets it).
fn vpc_attachment(w: &mut World, id: &str, now: Instant) -> Option<TrVpcAttachment> {
    w.regions.values_mut().find_map(|r| {
        let a = r.tr_vpc_attachments.get_mut(id)?;
        (a.status.peek(now) != AttachmentStatus::Detached).then(|| a.clone())
    })
}

fn find_vpc_attachment(
    w: &mut World,
    cen: &str,
    uid: &str,
    region: &str,
    vpc: &str,
    now: Instant,
) -> Option<TrVpcAttachment> {
    let mut all: Vec<TrVpcAttachment> = w
        .regions
        .values_mut()
        .flat_map(|r| r.tr_vpc_attachments.values_mut())
        .filter(|a| {
            a.cen_id == cen && a.vpc_id == vpc && a.vpc_owner_uid == uid && a.vpc_region == region
        })
        .filter_map(|a| (a.status.peek(now) != AttachmentStatus::Detached).then(|| a.clone()))
        .collect();
    // An Attached one wins over one still attaching.
    all.sort_by_key(|a| a.status.current() != AttachmentStatus::Attached);
    all.into_iter().next()
}

/// The route table of `tr` associated (Active) with `attachment`, and whether that table routes
/// `dest` via `next`: an Active propagation of `next` learning `learned`, or a static entry.
fn table_routes(
    w: &mut World,
    tr: &str,
    attachment: &str,
    next: &str,
    learned: Option<Ipv4Net>,
    dest: &Ipv4Net,
    now: Instant,
) -> Result<String, String> {
    let (_, region, t) = w
        .transit_router_mut(tr)
        .ok_or_else(|| format!("transit router {tr} does not exist"))?;
    let pos = t
        .route_tables
        .iter_mut()
        .position(|rt| {
            rt.associations
                .iter_mut()
                .any(|a| a.attachment_id == attachment && a.status.peek(now) == AssociationStatus::Active)
        })
        .ok_or_else(|| {
            format!("attachment {attachment} is not associated with a route table of transit router {tr} ({region})")
        })?;
    let table = &mut t.route_tables[pos];
    let propagated = learned.is_some_and(|l| l.contains(dest))
        && table
            .propagations
            .iter_mut()
            .any(|p| p.attachment_id == next && p.status.peek(now) == PropagationStatus::Active);
    let static_route = table.static_entries.iter().any(|s| {
        s.destination.contains(dest) && s.next_hop_type == "Attachment" && s.next_hop_id == next
    });
    if propagated || static_route {
        Ok(table.id.clone())
    } else {
        Err(format!(
            "route table {} of transit router {tr} ({region}) has no route to {dest} via {next} (enable route propagation of {next} into it)",
            table.id
        ))
    }
}

/// The transit-router path from one VPC attachment to another for `dest`.
fn tr_path(
    w: &mut World,
    from: &TrVpcAttachment,
    to: &TrVpcAttachment,
    dest: &Ipv4Net,
    now: Instant,
) -> Result<String, String> {
    let to_cidr = w
        .regional_ref(&to.vpc_owner_uid, &to.vpc_region)
        .and_then(|r| r.vpcs.get(&to.vpc_id))
        .map(|v| v.cidr);
    if from.transit_router_id == to.transit_router_id {
        let rt = table_routes(
            w,
            &from.transit_router_id,
            &from.id,
            &to.id,
            to_cidr,
            dest,
            now,
        )?;
        return Ok(format!(
            "{} -> transit router {} (route table {rt}) -> {}",
            from.id, from.transit_router_id, to.id
        ));
    }
    let (a, b) = (&from.transit_router_id, &to.transit_router_id);
    // A Detached peer attachment is gone: one deleted and created again is not mistaken for
    // the old one.
    let peer = w
        .regions
        .values_mut()
        .flat_map(|r| r.tr_peer_attachments.values_mut())
        .filter(|p| {
            p.cen_id == from.cen_id
                && ((p.transit_router_id == *a && p.peer_transit_router_id == *b)
                    || (p.transit_router_id == *b && p.peer_transit_router_id == *a))
        })
        .find_map(|p| (p.status.peek(now) != AttachmentStatus::Detached).then(|| p.clone()))
        .ok_or_else(|| {
            format!(
                "no inter-region connection (peer attachment) joins transit routers {a} ({}) and {b} ({}) in CEN {}",
                from.vpc_region, to.vpc_region, from.cen_id
            )
        })?;
    if peer.status.current() != AttachmentStatus::Attached {
        return Err(format!(
            "inter-region connection {} is {}, not Attached",
            peer.id,
            peer.status.current()
        ));
    }
    // At the near router the route is learned over the peer attachment; at the far router the
    // table associated with the peer attachment must know the destination VPC.
    let near = table_routes(w, a, &from.id, &peer.id, to_cidr, dest, now)?;
    let far = table_routes(w, b, &peer.id, &to.id, to_cidr, dest, now)?;
    Ok(format!(
        "{} -> transit router {a} (route table {near}) -> {} -> transit router {b} (route table {far}) -> {}",
        from.id, peer.id, to.id
    ))
}
