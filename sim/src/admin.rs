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
    /// Deletes a resource of a `/_sim/state` type: `route-entry`, `vpc-peer-connection`,
    /// `transit-router-vpc-attachment`, `transit-router-peer-attachment`, `cen-grant`
    /// (id `cen/instance`), `dataworks-route`, `dataworks-network`, `whitelist-group`
    /// (id `instance/group`).
    Delete {
        #[serde(rename = "type")]
        kind: String,
        id: String,
    },
    /// Forces a status (settled): e.g. a peering to `Rejected`, an attachment to `Detached`.
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

/// Applies a [`Tamper`]; the error says what was not found or not supported.
pub fn tamper(w: &mut World, t: &Tamper, now: Instant) -> Result<(), String> {
    let missing = |kind: &str, id: &str| format!("no {kind} with id {id:?}");
    match t {
        Tamper::Delete { kind, id } => {
            let found = w.regions.values_mut().any(|r| match kind.as_str() {
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
            });
            found.then_some(()).ok_or_else(|| missing(kind, id))
        }
        Tamper::SetStatus { kind, id, status } => {
            let bad = || format!("{status:?} is not a status of a {kind}");
            let mut result = Err(missing(kind, id));
            for r in w.regions.values_mut() {
                macro_rules! force {
                    ($lc:expr, $ty:ty) => {{
                        let s = <$ty>::parse(status).ok_or_else(bad)?;
                        let lc: &mut Lifecycle<$ty> = $lc;
                        lc.force(s, now);
                        result = Ok(());
                    }};
                }
                match kind.as_str() {
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
                            .find(|e| e.id == *id)
                        {
                            force!(&mut e.status, RouteEntryStatus)
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
                    other => return Err(format!("set-status does not support type {other:?}")),
                }
            }
            result
        }
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
