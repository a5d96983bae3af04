//! The admin view of the world (`GET /_sim/state`) and out-of-band changes for tests
//! ("break one hop" behind dwlink's back: `POST /_sim/break`).

use crate::lifecycle::Lifecycle;
use crate::state::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Instant;

/// One resource in `GET /_sim/state`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceView {
    /// Account name in the scenario (`A`, `B`).
    pub account: String,
    /// Region id, or `global` for CEN instances and RAM roles.
    pub region: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub status: String,
    pub attributes: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateView {
    pub resources: Vec<ResourceView>,
}

impl StateView {
    /// Resources of one type.
    pub fn of_type<'s>(&'s self, kind: &'s str) -> impl Iterator<Item = &'s ResourceView> + 's {
        self.resources.iter().filter(move |r| r.kind == kind)
    }

    pub fn find(&self, kind: &str, id: &str) -> Option<&ResourceView> {
        self.resources.iter().find(|r| r.kind == kind && r.id == id)
    }
}

fn endpoints_json(eps: &[Endpoint]) -> Value {
    eps.iter()
        .map(|e| {
            json!({"kind": e.kind, "connection_string": e.connection_string, "port": e.port,
                   "ip": e.ip.to_string(), "vpc_id": e.vpc_id, "vswitch_id": e.vswitch_id})
        })
        .collect()
}

/// Builds the admin view; lifecycles advance to `now` (an admin read is not a client poll).
pub fn snapshot(w: &mut World, now: Instant) -> StateView {
    let names: std::collections::HashMap<String, String> = w
        .accounts
        .iter()
        .map(|a| (a.uid.clone(), a.name.clone()))
        .collect();
    let name = |uid: &str| names.get(uid).cloned().unwrap_or_else(|| uid.to_string());
    let mut out = Vec::new();
    let mut push =
        |account: &str, region: &str, kind: &str, id: &str, status: &str, attributes: Value| {
            out.push(ResourceView {
                account: name(account),
                region: region.to_string(),
                kind: kind.to_string(),
                id: id.to_string(),
                status: status.to_string(),
                attributes,
            })
        };
    for (uid, g) in w.globals.iter_mut() {
        for role in g.roles.values() {
            let trusted: Vec<String> = role.trusted_uids.iter().map(|u| name(u)).collect();
            push(
                uid,
                "global",
                "ram-role",
                &role.name,
                "Active",
                json!({
                    "arn": role.arn(), "trusted_accounts": trusted, "trusted_uids": role.trusted_uids,
                    "trust_policy": role.trust_policy(),
                }),
            );
        }
        for cen in g.cens.values_mut() {
            let s = cen.status.peek(now);
            push(
                uid,
                "global",
                "cen",
                &cen.id,
                s.as_str(),
                json!({
                    "name": cen.name, "description": cen.description, "protection_level": cen.protection_level,
                }),
            );
        }
    }
    for ((uid, region), r) in w.regions.iter_mut() {
        for v in r.vpcs.values_mut() {
            let s = v.status.peek(now);
            push(
                uid,
                region,
                "vpc",
                &v.id,
                s.as_str(),
                json!({
                    "name": v.name, "cidr": v.cidr.to_string(), "vrouter_id": v.vrouter_id,
                    "route_table_id": v.route_table_id,
                }),
            );
        }
        for v in r.vswitches.values_mut() {
            let s = v.status.peek(now);
            push(
                uid,
                region,
                "vswitch",
                &v.id,
                s.as_str(),
                json!({
                    "name": v.name, "vpc_id": v.vpc_id, "zone": v.zone, "cidr": v.cidr.to_string(),
                }),
            );
        }
        for t in r.route_tables.values_mut() {
            push(
                uid,
                region,
                "route-table",
                &t.id,
                "Available",
                json!({
                    "vpc_id": t.vpc_id, "type": t.kind.as_str(), "vrouter_id": t.vrouter_id,
                }),
            );
            for e in t.entries.iter_mut() {
                let s = e.status.peek(now);
                let hops: Vec<Value> = e
                    .next_hops
                    .iter()
                    .map(|h| json!({"type": h.kind, "id": h.id}))
                    .collect();
                push(
                    uid,
                    region,
                    "route-entry",
                    &e.id,
                    s.as_str(),
                    json!({
                        "route_table_id": t.id, "vpc_id": t.vpc_id,
                        "destination_cidr": e.destination.to_string(), "type": e.kind.as_str(),
                        "next_hops": hops,
                    }),
                );
            }
        }
        for p in r.peerings.values_mut() {
            let s = p.status.peek(now);
            push(
                uid,
                region,
                "vpc-peer-connection",
                &p.id,
                s.as_str(),
                json!({
                    "name": p.name, "vpc_id": p.vpc_id, "owner_uid": p.owner_uid,
                    "accepting_uid": p.accepting_uid, "accepting_account": name(&p.accepting_uid),
                    "accepting_region": p.accepting_region, "accepting_vpc_id": p.accepting_vpc_id,
                    "bandwidth": p.bandwidth,
                }),
            );
        }
        for g in &r.cen_grants {
            push(
                uid,
                region,
                "cen-grant",
                &format!("{}/{}", g.cen_id, g.instance_id),
                "Granted",
                json!({
                    "cen_id": g.cen_id, "cen_owner_id": g.cen_owner_uid, "cen_owner_account": name(&g.cen_owner_uid),
                    "instance_id": g.instance_id, "instance_type": g.instance_type, "order_type": g.order_type,
                }),
            );
        }
        for t in r.transit_routers.values_mut() {
            let s = t.status.peek(now);
            push(
                uid,
                region,
                "transit-router",
                &t.id,
                s.as_str(),
                json!({
                    "cen_id": t.cen_id, "name": t.name, "type": t.kind,
                }),
            );
            for rt in t.route_tables.iter_mut() {
                let s = rt.status.peek(now);
                let assoc: Vec<Value> = rt.associations.iter_mut()
                    .map(|a| json!({"attachment_id": a.attachment_id, "status": a.status.peek(now).as_str()}))
                    .collect();
                let prop: Vec<Value> = rt.propagations.iter_mut()
                    .map(|a| json!({"attachment_id": a.attachment_id, "status": a.status.peek(now).as_str()}))
                    .collect();
                push(
                    uid,
                    region,
                    "transit-router-route-table",
                    &rt.id,
                    s.as_str(),
                    json!({
                        "transit_router_id": t.id, "type": rt.kind.as_str(),
                        "associations": assoc, "propagations": prop,
                    }),
                );
            }
        }
        for a in r.tr_vpc_attachments.values_mut() {
            let s = a.status.peek(now);
            let zones: Vec<Value> = a
                .zone_mappings
                .iter()
                .map(|z| json!({"zone": z.zone, "vswitch_id": z.vswitch_id}))
                .collect();
            push(
                uid,
                region,
                "transit-router-vpc-attachment",
                &a.id,
                s.as_str(),
                json!({
                    "cen_id": a.cen_id, "transit_router_id": a.transit_router_id, "vpc_id": a.vpc_id,
                    "vpc_owner_id": a.vpc_owner_uid, "vpc_account": name(&a.vpc_owner_uid),
                    "vpc_region": a.vpc_region, "zone_mappings": zones,
                }),
            );
        }
        for a in r.tr_peer_attachments.values_mut() {
            let s = a.status.peek(now);
            push(
                uid,
                region,
                "transit-router-peer-attachment",
                &a.id,
                s.as_str(),
                json!({
                    "cen_id": a.cen_id, "transit_router_id": a.transit_router_id,
                    "peer_transit_router_id": a.peer_transit_router_id, "peer_region": a.peer_region,
                    "bandwidth": a.bandwidth, "bandwidth_type": a.bandwidth_type,
                }),
            );
        }
        let mut whitelist = Vec::new();
        for i in r.rds_instances.values_mut() {
            let s = i.status.peek(now);
            push(
                uid,
                region,
                "rds-instance",
                &i.id,
                s.as_str(),
                json!({
                    "description": i.description, "engine": i.engine, "engine_version": i.engine_version,
                    "zone": i.zone, "vpc_id": i.vpc_id, "vswitch_id": i.vswitch_id,
                    "endpoints": endpoints_json(&i.endpoints),
                }),
            );
            whitelist.extend(
                i.whitelist
                    .iter()
                    .map(|g| ("rds-instance", i.id.clone(), g.clone())),
            );
        }
        for i in r.polardb_clusters.values_mut() {
            let s = i.status.peek(now);
            push(
                uid,
                region,
                "polardb-cluster",
                &i.id,
                s.as_str(),
                json!({
                    "description": i.description, "db_type": i.db_type, "db_version": i.db_version,
                    "zone": i.zone, "vpc_id": i.vpc_id, "vswitch_id": i.vswitch_id,
                    "endpoints": endpoints_json(&i.endpoints),
                }),
            );
            whitelist.extend(
                i.whitelist
                    .iter()
                    .map(|g| ("polardb-cluster", i.id.clone(), g.clone())),
            );
        }
        for i in r.mongodb_instances.values_mut() {
            let s = i.status.peek(now);
            push(
                uid,
                region,
                "mongodb-instance",
                &i.id,
                s.as_str(),
                json!({
                    "description": i.description, "engine_version": i.engine_version, "kind": i.kind,
                    "zone": i.zone, "vpc_id": i.vpc_id, "vswitch_id": i.vswitch_id,
                    "endpoints": endpoints_json(&i.endpoints),
                }),
            );
            whitelist.extend(
                i.whitelist
                    .iter()
                    .map(|g| ("mongodb-instance", i.id.clone(), g.clone())),
            );
        }
        for (kind, instance, g) in whitelist {
            push(
                uid,
                region,
                "whitelist-group",
                &format!("{instance}/{}", g.name),
                "Active",
                json!({
                    "instance": instance, "instance_type": kind, "name": g.name,
                    "attribute": g.attribute, "entries": g.entries,
                }),
            );
        }
        let dw = &mut r.dataworks;
        for ws in dw.workspaces.values() {
            push(
                uid,
                region,
                "dataworks-workspace",
                &ws.id.to_string(),
                "Available",
                json!({"name": ws.name}),
            );
        }
        for g in dw.resource_groups.values_mut() {
            let s = g.status.peek(now);
            push(
                uid,
                region,
                "dataworks-resource-group",
                &g.id,
                s.as_str(),
                json!({
                    "name": g.name, "type": g.kind, "vpc_id": g.default_vpc_id,
                    "vswitch_id": g.default_vswitch_id, "workspaces": g.workspaces,
                }),
            );
        }
        for n in dw.networks.values_mut() {
            let s = n.status.peek(now);
            push(
                uid,
                region,
                "dataworks-network",
                &n.id.to_string(),
                s.as_str(),
                json!({
                    "resource_group_id": n.resource_group_id, "vpc_id": n.vpc_id, "vswitch_id": n.vswitch_id,
                }),
            );
        }
        for rt in dw.routes.values() {
            push(
                uid,
                region,
                "dataworks-route",
                &rt.id.to_string(),
                "Available",
                json!({
                    "network_id": rt.network_id, "resource_group_id": rt.resource_group_id,
                    "destination_cidr": rt.destination.to_string(),
                }),
            );
        }
        for d in dw.data_sources.values() {
            // Connection properties may hold a password: only non-secret fields are shown.
            push(
                uid,
                region,
                "dataworks-data-source",
                &d.id.to_string(),
                "Available",
                json!({
                    "project_id": d.project_id, "name": d.name, "type": d.kind, "mode": d.mode,
                }),
            );
        }
    }
    StateView { resources: out }
}

/// An out-of-band change (`POST /_sim/break`), for tests that break one hop.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "op", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Tamper {
    /// Deletes a resource of a `/_sim/state` type (see [`DELETE_TYPES`]), as if someone had
    /// deleted it behind dwlink's back. What belongs to the resource goes with it; what other
    /// resources hold that points at it stays, dangling (a VPC route entry whose next hop was
    /// deleted, a grant for a deleted CEN), as the cloud leaves it:
    ///
    /// - `route-entry`, `vpc-peer-connection`, `transit-router-vpc-attachment`,
    ///   `transit-router-peer-attachment`, `dataworks-route`, `dataworks-network`,
    ///   `dataworks-data-source` (numeric id): the record only.
    /// - `cen-grant` (id `cen/instance`), `whitelist-group` (id `instance/group`).
    /// - `vswitch`: with the system route entry of its CIDR; refused (like `DeleteVSwitch`)
    ///   while a database instance, a DataWorks network or a live VPC attachment uses it.
    /// - `transit-router`: with its route tables, its VPC attachments and the peer attachments
    ///   on either end (and their associations, propagations and the static routes through
    ///   them in the peer router's tables). The CEN stays.
    /// - `cen` (global, per account): with every transit router of it, as above. Grants other
    ///   accounts issued to it stay.
    Delete {
        #[serde(rename = "type")]
        kind: String,
        id: String,
    },
    /// Forces a status and holds it (settled: no lifecycle step follows), e.g. a peering to
    /// `Rejected`, a transit router to `Creating`, an attachment to `Detaching` (a `Detached`
    /// attachment is gone for the API: not found). Types: see [`SET_STATUS_TYPES`].
    SetStatus {
        #[serde(rename = "type")]
        kind: String,
        id: String,
        status: String,
    },
    /// Removes one entry from a whitelist group of an instance.
    RemoveWhitelistEntry {
        instance: String,
        group: String,
        entry: String,
    },
}

/// The types [`Tamper::Delete`] supports.
pub const DELETE_TYPES: &[&str] = &[
    "cen",
    "transit-router",
    "transit-router-vpc-attachment",
    "transit-router-peer-attachment",
    "cen-grant",
    "vswitch",
    "route-entry",
    "vpc-peer-connection",
    "dataworks-network",
    "dataworks-route",
    "dataworks-data-source",
    "whitelist-group",
];

/// The types [`Tamper::SetStatus`] supports.
pub const SET_STATUS_TYPES: &[&str] = &[
    "cen",
    "transit-router",
    "transit-router-route-table",
    "transit-router-vpc-attachment",
    "transit-router-peer-attachment",
    "vpc",
    "vswitch",
    "route-entry",
    "vpc-peer-connection",
    "dataworks-resource-group",
    "dataworks-network",
    "rds-instance",
    "polardb-cluster",
    "mongodb-instance",
];

/// Applies a [`Tamper`]; the error says what was not found or not supported.
pub fn tamper(w: &mut World, t: &Tamper, now: Instant) -> Result<(), String> {
    match t {
        Tamper::Delete { kind, id } => delete(w, kind, id, now),
        Tamper::SetStatus { kind, id, status } => set_status(w, kind, id, status, now),
        Tamper::RemoveWhitelistEntry {
            instance,
            group,
            entry,
        } => {
            let found = w.regions.values_mut().any(|r| {
                with_whitelist(r, instance, |groups| {
                    groups.iter_mut().filter(|g| g.name == *group).any(|g| {
                        let before = g.entries.len();
                        g.entries.retain(|e| e != entry);
                        g.entries.len() != before
                    })
                })
            });
            found.then_some(()).ok_or_else(|| {
                format!(
                    "instance {instance:?} has no whitelist group {group:?} with entry {entry:?}"
                )
            })
        }
    }
}

fn missing(kind: &str, id: &str) -> String {
    format!("no {kind} with id {id:?}")
}

fn delete(w: &mut World, kind: &str, id: &str, now: Instant) -> Result<(), String> {
    if !DELETE_TYPES.contains(&kind) {
        return Err(format!(
            "delete does not support type {kind:?}; it supports {}",
            DELETE_TYPES.join(", ")
        ));
    }
    let found = match kind {
        "cen" => delete_cen(w, id),
        "transit-router" => delete_transit_router(w, id),
        "vswitch" => {
            let Some((uid, region)) = w.locate(|r| r.vswitches.contains_key(id)) else {
                return Err(missing(kind, id));
            };
            if let Some(user) = crate::products::vpc::vswitch_user(w, &uid, &region, id, now) {
                return Err(format!(
                    "vswitch {id:?} is used by {user}; delete that first (the cloud refuses to delete a vSwitch in use)"
                ));
            }
            crate::products::vpc::remove_vswitch(w.regional(&uid, &region), id)
        }
        _ => w.regions.values_mut().any(|r| match kind {
            "route-entry" => r.route_tables.values_mut().any(|t| {
                let before = t.entries.len();
                t.entries.retain(|e| e.id != *id);
                t.entries.len() != before
            }),
            "vpc-peer-connection" => r.peerings.remove(id).is_some(),
            "transit-router-vpc-attachment" => r.tr_vpc_attachments.remove(id).is_some(),
            "transit-router-peer-attachment" => r.tr_peer_attachments.remove(id).is_some(),
            "cen-grant" => {
                let before = r.cen_grants.len();
                r.cen_grants
                    .retain(|g| format!("{}/{}", g.cen_id, g.instance_id) != *id);
                r.cen_grants.len() != before
            }
            "dataworks-route" => id
                .parse()
                .is_ok_and(|n: u64| r.dataworks.routes.remove(&n).is_some()),
            "dataworks-network" => id
                .parse()
                .is_ok_and(|n: u64| r.dataworks.networks.remove(&n).is_some()),
            "dataworks-data-source" => id
                .parse()
                .is_ok_and(|n: u64| r.dataworks.data_sources.remove(&n).is_some()),
            "whitelist-group" => {
                let Some((inst, group)) = id.split_once('/') else {
                    return false;
                };
                with_whitelist(r, inst, |groups| {
                    let before = groups.len();
                    groups.retain(|g| g.name != group);
                    groups.len() != before
                })
            }
            _ => false,
        }),
    };
    found.then_some(()).ok_or_else(|| missing(kind, id))
}

/// Deletes a CEN instance and every transit router of it (see [`delete_transit_router`]).
fn delete_cen(w: &mut World, id: &str) -> bool {
    let Some(owner) = w.cen_owner(id) else {
        return false;
    };
    w.global(&owner).cens.remove(id);
    let routers: Vec<String> = w
        .regions
        .values()
        .flat_map(|r| r.transit_routers.values())
        .filter(|t| t.cen_id == id)
        .map(|t| t.id.clone())
        .collect();
    for tr in routers {
        delete_transit_router(w, &tr);
    }
    // Any attachment of the CEN left over (one whose router was already gone) goes too.
    for r in w.regions.values_mut() {
        r.tr_vpc_attachments.retain(|_, a| a.cen_id != id);
        r.tr_peer_attachments.retain(|_, a| a.cen_id != id);
    }
    true
}

/// Deletes a transit router with its route tables, the VPC attachments on it and the peer
/// attachments on either end; the associations, propagations and static routes of those
/// attachments in the other routers' tables go too. VPC route entries through them stay.
fn delete_transit_router(w: &mut World, id: &str) -> bool {
    if !w
        .regions
        .values_mut()
        .any(|r| r.transit_routers.remove(id).is_some())
    {
        return false;
    }
    let mut gone: Vec<String> = Vec::new();
    for r in w.regions.values_mut() {
        r.tr_vpc_attachments.retain(|a_id, a| {
            let keep = a.transit_router_id != id;
            if !keep {
                gone.push(a_id.clone());
            }
            keep
        });
        r.tr_peer_attachments.retain(|a_id, a| {
            let keep = a.transit_router_id != id && a.peer_transit_router_id != id;
            if !keep {
                gone.push(a_id.clone());
            }
            keep
        });
    }
    for r in w.regions.values_mut() {
        for t in r.transit_routers.values_mut() {
            for rt in t.route_tables.iter_mut() {
                rt.associations.retain(|a| !gone.contains(&a.attachment_id));
                rt.propagations.retain(|a| !gone.contains(&a.attachment_id));
                rt.static_entries.retain(|e| !gone.contains(&e.next_hop_id));
            }
        }
    }
    true
}

fn set_status(
    w: &mut World,
    kind: &str,
    id: &str,
    status: &str,
    now: Instant,
) -> Result<(), String> {
    if !SET_STATUS_TYPES.contains(&kind) {
        return Err(format!(
            "set-status does not support type {kind:?}; it supports {}",
            SET_STATUS_TYPES.join(", ")
        ));
    }
    macro_rules! force {
        ($lc:expr, $ty:ty) => {{
            let s = <$ty>::parse(status).ok_or_else(|| {
                let all: Vec<&str> = <$ty>::ALL.iter().map(|s| s.as_str()).collect();
                format!(
                    "{status:?} is not a status of a {kind} ({})",
                    all.join(", ")
                )
            })?;
            let lc: &mut Lifecycle<$ty> = $lc;
            lc.force(s, now);
            return Ok(());
        }};
    }
    if kind == "cen" {
        if let Some(c) = w.globals.values_mut().find_map(|g| g.cens.get_mut(id)) {
            force!(&mut c.status, CenStatus)
        }
        return Err(missing(kind, id));
    }
    for r in w.regions.values_mut() {
        match kind {
            "transit-router" => {
                if let Some(t) = r.transit_routers.get_mut(id) {
                    force!(&mut t.status, TrStatus)
                }
            }
            "transit-router-route-table" => {
                if let Some(rt) = r
                    .transit_routers
                    .values_mut()
                    .flat_map(|t| t.route_tables.iter_mut())
                    .find(|rt| rt.id == id)
                {
                    force!(&mut rt.status, TrRouteTableStatus)
                }
            }
            "vpc" => {
                if let Some(v) = r.vpcs.get_mut(id) {
                    force!(&mut v.status, VpcStatus)
                }
            }
            "vswitch" => {
                if let Some(v) = r.vswitches.get_mut(id) {
                    force!(&mut v.status, VSwitchStatus)
                }
            }
            "vpc-peer-connection" => {
                if let Some(p) = r.peerings.get_mut(id) {
                    force!(&mut p.status, PeeringStatus)
                }
            }
            "transit-router-vpc-attachment" => {
                if let Some(a) = r.tr_vpc_attachments.get_mut(id) {
                    force!(&mut a.status, AttachmentStatus)
                }
            }
            "transit-router-peer-attachment" => {
                if let Some(a) = r.tr_peer_attachments.get_mut(id) {
                    force!(&mut a.status, AttachmentStatus)
                }
            }
            "route-entry" => {
                if let Some(e) = r
                    .route_tables
                    .values_mut()
                    .flat_map(|t| t.entries.iter_mut())
                    .find(|e| e.id == id)
                {
                    force!(&mut e.status, RouteEntryStatus)
                }
            }
            "dataworks-resource-group" => {
                if let Some(g) = r.dataworks.resource_groups.get_mut(id) {
                    force!(&mut g.status, ResourceGroupStatus)
                }
            }
            "dataworks-network" => {
                if let Some(n) = id
                    .parse()
                    .ok()
                    .and_then(|n: u64| r.dataworks.networks.get_mut(&n))
                {
                    force!(&mut n.status, NetworkStatus)
                }
            }
            "rds-instance" => {
                if let Some(i) = r.rds_instances.get_mut(id) {
                    force!(&mut i.status, DbStatus)
                }
            }
            "polardb-cluster" => {
                if let Some(i) = r.polardb_clusters.get_mut(id) {
                    force!(&mut i.status, DbStatus)
                }
            }
            "mongodb-instance" => {
                if let Some(i) = r.mongodb_instances.get_mut(id) {
                    force!(&mut i.status, DbStatus)
                }
            }
            _ => return Err(format!("set-status does not support type {kind:?}")),
        }
    }
    Err(missing(kind, id))
}

fn with_whitelist(
    r: &mut Regional,
    instance: &str,
    f: impl FnOnce(&mut Vec<WhitelistGroup>) -> bool,
) -> bool {
    if let Some(i) = r.rds_instances.get_mut(instance) {
        f(&mut i.whitelist)
    } else if let Some(i) = r.polardb_clusters.get_mut(instance) {
        f(&mut i.whitelist)
    } else if let Some(i) = r.mongodb_instances.get_mut(instance) {
        f(&mut i.whitelist)
    } else {
        false
    }
}
