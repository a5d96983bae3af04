//! Diagnose: walks the network path from the DataWorks resource group to the database, hop by
//! hop, reading the live state through the cloud API (the same callers the engine uses), and
//! names the first hop that is broken with its account, region, resource id and the fix.
//!
//! The hops, in packet order: resource-group network -> DataWorks route -> VPC route in B ->
//! peering (Activated) or CEN (attachments, inter-region connection, transit-router route
//! tables) -> VPC route in A back to the resource group -> whitelist -> instance.

use super::{Engine, EngineError, Side};
use crate::cloud::{Caller, CloudError};
use crate::network::json::{arr, s};
use crate::network::{CBN, cen, dataworks, peer, send, sts, vpc};
use crate::plugin::{Location, WhitelistGroup};
use dwlink_acs::Params;
use ipnet::Ipv4Net;
use serde::Serialize;
use std::fmt::Write;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HopStatus {
    Ok,
    Broken,
}

/// One checked hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    /// Stable name, e.g. `route.dataworks`, `peering`, `cen.attach.source`.
    pub name: String,
    pub status: HopStatus,
    /// Account UID the resource lives in.
    pub account: String,
    pub region: String,
    pub resource_id: String,
    pub message: String,
    /// What to do (broken hops only).
    pub fix: Option<String>,
}

/// The result of a walk: the hops checked, in order, up to and including the first broken one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    /// `peering` or `cen`, as the live routes show it (None if the walk stopped before).
    pub mode: Option<String>,
    pub hops: Vec<Hop>,
    /// Name of the first broken hop; None when every hop is ok.
    pub first_broken: Option<String>,
}

impl Diagnosis {
    pub fn is_ok(&self) -> bool {
        self.first_broken.is_none()
    }

    /// The first broken hop, if any.
    pub fn broken(&self) -> Option<&Hop> {
        self.hops.iter().find(|h| h.status == HopStatus::Broken)
    }

    /// Exit code of `dwlink-host diagnose`: 0 all ok, 3 a hop is broken.
    pub fn exit_code(&self) -> u8 {
        if self.is_ok() { 0 } else { 3 }
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "diagnosis{}:",
            self.mode
                .as_ref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        );
        for h in &self.hops {
            let tag = match h.status {
                HopStatus::Ok => "ok",
                HopStatus::Broken => "BROKEN",
            };
            let _ = writeln!(
                out,
                "  [{tag:<6}] {:<26} account {} {} {}: {}",
                h.name, h.account, h.region, h.resource_id, h.message
            );
            if let Some(f) = &h.fix {
                let _ = writeln!(out, "           fix: {f}");
            }
        }
        match self.broken() {
            Some(h) => {
                let _ = writeln!(
                    out,
                    "first broken hop: {} (account {}, {}, {})",
                    h.name, h.account, h.region, h.resource_id
                );
            }
            None => {
                let _ = writeln!(out, "every hop is ok");
            }
        }
        out
    }
}

/// Why a walk stopped early.
enum Halt {
    /// A hop is broken (already recorded).
    Broken,
    /// A read failed for another reason than "not found" (network, permission...).
    Failed(EngineError),
}

impl From<CloudError> for Halt {
    fn from(e: CloudError) -> Self {
        Halt::Failed(e.into())
    }
}

impl From<EngineError> for Halt {
    fn from(e: EngineError) -> Self {
        Halt::Failed(e)
    }
}

/// A read of one named resource: not found is `None` (the hop is broken), other errors halt.
fn found<T>(r: Result<T, CloudError>) -> Result<Option<T>, Halt> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if super::apply::is_not_found(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Whether a whitelist entry (an IP or a CIDR) admits every address of `cidr`.
pub fn entry_covers(entry: &str, cidr: &Ipv4Net) -> bool {
    let entry = entry.trim();
    if let Ok(net) = entry.parse::<Ipv4Net>() {
        return net.contains(cidr);
    }
    entry
        .parse::<Ipv4Addr>()
        .is_ok_and(|ip| cidr.prefix_len() == 32 && cidr.addr() == ip)
}

/// The group and entry that admit `cidr`, if any.
pub fn whitelist_covers<'a>(
    groups: &'a [WhitelistGroup],
    cidr: &Ipv4Net,
) -> Option<(&'a str, &'a str)> {
    groups.iter().find_map(|g| {
        g.entries
            .iter()
            .find(|e| entry_covers(e, cidr))
            .map(|e| (g.name.as_str(), e.as_str()))
    })
}

/// The most specific non-local route entry whose destination contains `dest`.
pub fn best_route<'a>(
    entries: &'a [vpc::RouteEntry],
    dest: &Ipv4Net,
) -> Option<&'a vpc::RouteEntry> {
    entries
        .iter()
        .filter(|e| !e.next_hop_type.is_empty() && !e.next_hop_type.eq_ignore_ascii_case("local"))
        .filter_map(|e| {
            e.destination
                .parse::<Ipv4Net>()
                .ok()
                .filter(|n| n.contains(dest))
                .map(|n| (n.prefix_len(), e))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, e)| e)
}

/// The walk's state: the hops so far and what fixes refer to.
struct Walk<'e> {
    e: &'e Engine,
    hops: Vec<Hop>,
    mode: Option<String>,
    /// `dwlink-host run PLUGIN --link FILE`.
    rerun: String,
    uid_a: String,
    uid_b: String,
}

/// Where a hop's resource lives.
struct At<'a> {
    name: &'a str,
    account: &'a str,
    region: &'a str,
    id: &'a str,
}

impl Walk<'_> {
    fn ok(&mut self, at: At<'_>, message: String) {
        self.push(at, HopStatus::Ok, message, None);
    }

    fn broken(&mut self, at: At<'_>, message: String, fix: String) -> Halt {
        self.push(at, HopStatus::Broken, message, Some(fix));
        Halt::Broken
    }

    fn push(&mut self, at: At<'_>, status: HopStatus, message: String, fix: Option<String>) {
        self.hops.push(Hop {
            name: at.name.into(),
            status,
            account: at.account.into(),
            region: at.region.into(),
            resource_id: at.id.into(),
            message,
            fix,
        });
    }

    /// The fix that re-runs the link to recreate `steps`.
    fn rerun(&self, steps: &str) -> String {
        format!("run `{}` to recreate step {steps}", self.rerun)
    }

    fn a(&self) -> &dyn Caller {
        self.e.caller(Side::Source)
    }

    fn b(&self) -> &dyn Caller {
        self.e.caller(Side::Dataworks)
    }

    async fn walk(&mut self) -> Result<(), Halt> {
        let spec = self.e.spec.clone();
        let (ra, rb) = (spec.source.region.as_str(), spec.dataworks.region.as_str());
        let (uid_a, uid_b) = (self.uid_a.clone(), self.uid_b.clone());
        let instance_id = spec.source.instance_id.as_str();

        // Where the instance is: needed for every CIDR below (plugin discovery in A).
        let location: Location = match self.e.ds.discover(self.e.instance()).await {
            Ok(l) => l,
            // The plugin tried something it may not: that is no broken hop of the link.
            Err(e)
                if e.downcast_ref::<crate::plugin::PluginError>()
                    .is_some_and(crate::plugin::PluginError::is_refusal) =>
            {
                return Err(Halt::Failed(self.e.plugin_err("discover", e)));
            }
            Err(e) => {
                return Err(self.broken(
                    At { name: "instance", account: &uid_a, region: ra, id: instance_id },
                    format!("the plugin cannot discover the instance: {e:#}"),
                    format!(
                        "check that {instance_id} exists in account {uid_a}, region {ra} (source.instance_id in {}) and that the role can read it",
                        spec.file.display()
                    ),
                ));
            }
        };
        // The plugin's claim is checked against account A's own read of the vSwitch; every
        // CIDR below is the host's.
        let src_vsw = self.e.source_vswitch(&location.vswitch_id).await?;
        let src_cidr = super::verify::check_location(
            &self.e.ds.info().name,
            &uid_a,
            ra,
            &location,
            src_vsw.as_ref(),
        )
        .map_err(|u| Halt::Failed(u.into()))?;

        // 1. The resource group's network binding (VPC, vSwitch, CIDR) in B.
        let rg_id = spec.dataworks.resource_group_id.as_str();
        let rg_at = || At {
            name: "resource_group.network",
            account: &uid_b,
            region: rb,
            id: rg_id,
        };
        let bind_fix = format!(
            "bind resource group {rg_id} to a VPC and vSwitch in DataWorks > Resource Groups > Network Settings (account {uid_b}, {rb})"
        );
        let Some(rg) = found(dataworks::get_resource_group(self.b(), rb, rg_id).await)? else {
            let at = rg_at();
            return Err(self.broken(
                at,
                format!("resource group {rg_id} does not exist"),
                format!("fix dataworks.resource_group_id in {}", spec.file.display()),
            ));
        };
        if !rg.status.is_empty() && rg.status != "Normal" {
            let at = rg_at();
            return Err(self.broken(
                at,
                format!("resource group {rg_id} is {}, not Normal", rg.status),
                "wait until the resource group is Normal, or renew it in the DataWorks console"
                    .into(),
            ));
        }
        let networks = dataworks::list_networks(self.b(), rb, rg_id).await?;
        let network = networks
            .iter()
            .filter(|n| n.status.is_empty() || n.status == "Running")
            .min_by_key(|n| n.vpc_id != rg.default_vpc_id)
            .cloned();
        let Some(network) = network else {
            let what = match networks.first() {
                Some(n) => format!(
                    "network {} of resource group {rg_id} is {}, not Running",
                    n.id, n.status
                ),
                None => format!("resource group {rg_id} has no VPC binding"),
            };
            let at = rg_at();
            return Err(self.broken(at, what, bind_fix));
        };
        let dw_vsw = found(vpc::describe_vswitch(self.b(), rb, &network.vswitch_id).await)?
            .filter(|v| v.vpc_id.is_empty() || v.vpc_id == network.vpc_id);
        let Some(dw_vsw) = dw_vsw else {
            let at = rg_at();
            return Err(self.broken(
                at,
                format!(
                    "network {} uses vSwitch {} of VPC {}, which does not exist",
                    network.id, network.vswitch_id, network.vpc_id
                ),
                bind_fix,
            ));
        };
        let Ok(dw_cidr) = dw_vsw.cidr.parse::<Ipv4Net>() else {
            return Err(Halt::Failed(EngineError::Other(format!(
                "vSwitch {} (account {uid_b}, {rb}) has CIDR {:?}, which is not an IPv4 CIDR",
                dw_vsw.id, dw_vsw.cidr
            ))));
        };
        let dw_vpc = network.vpc_id.clone();
        self.ok(
            rg_at(),
            format!(
                "resource group {rg_id} uses network {}: VPC {dw_vpc}, vSwitch {} ({dw_cidr})",
                network.id, dw_vsw.id
            ),
        );

        // 2. The DataWorks custom route to the data source's vSwitch CIDR.
        let routes = dataworks::list_routes(self.b(), rb, rg_id).await?;
        let route = routes.iter().find(|r| {
            r.network_id == network.id
                && r.destination
                    .parse::<Ipv4Net>()
                    .is_ok_and(|d| d.contains(&src_cidr))
        });
        match route {
            Some(r) => {
                let id = r.id.clone();
                self.ok(
                    At {
                        name: "dataworks.route",
                        account: &uid_b,
                        region: rb,
                        id: &id,
                    },
                    format!(
                        "route {id} on network {} sends {} into VPC {dw_vpc}",
                        network.id, r.destination
                    ),
                );
            }
            None => {
                let fix = self.rerun("dataworks.route");
                return Err(self.broken(
                    At { name: "dataworks.route", account: &uid_b, region: rb, id: rg_id },
                    format!(
                        "no route on network {} of resource group {rg_id} covers the data source's vSwitch CIDR {src_cidr}",
                        network.id
                    ),
                    format!("{fix} (or add the route in DataWorks > Resource Groups > Network Settings > Route)"),
                ));
            }
        }

        // 3. The route entry in B's VPC towards the data source.
        let table_b = super::observe::route_table_of(self.b(), rb, &dw_vpc, &dw_vsw).await?;
        let entries_b = vpc::describe_route_entries(self.b(), rb, &table_b, None).await?;
        let entry_b = self.route_hop(
            "route.dataworks",
            &uid_b,
            rb,
            &table_b,
            &entries_b,
            &src_cidr,
            "the data source's vSwitch",
            None,
        )?;

        // 4. The transport, as B's route says; then 5. the route back in A.
        let (hop_type, hop_id) = (entry_b.next_hop_type.clone(), entry_b.next_hop_id.clone());
        let back_hop = match hop_type.as_str() {
            "VpcPeer" => {
                self.mode = Some("peering".into());
                self.peering(&hop_id, &location.vpc_id, &dw_vpc).await?;
                hop_id.clone()
            }
            "Attachment" => {
                self.mode = Some("cen".into());
                self.cen(&hop_id, &location.vpc_id, &dw_vpc, src_cidr, dw_cidr)
                    .await?
            }
            other => {
                let fix = self.rerun("route.dataworks");
                return Err(self.broken(
                    At { name: "route.dataworks", account: &uid_b, region: rb, id: &entry_b.id },
                    format!(
                        "route entry {} in {table_b} sends {src_cidr} to {other} {hop_id}, which leads neither to a peering connection nor to a transit router",
                        entry_b.id
                    ),
                    format!("delete route entry {} in account {uid_b}, {rb}, then {fix}", entry_b.id),
                ));
            }
        };
        let Some(table_a_vsw) = src_vsw else {
            return Err(self.broken(
                At {
                    name: "route.source",
                    account: &uid_a,
                    region: ra,
                    id: &location.vswitch_id,
                },
                format!(
                    "vSwitch {} of instance {instance_id} does not exist",
                    location.vswitch_id
                ),
                format!("check instance {instance_id} in account {uid_a}, {ra}"),
            ));
        };
        let table_a =
            super::observe::route_table_of(self.a(), ra, &location.vpc_id, &table_a_vsw).await?;
        let entries_a = vpc::describe_route_entries(self.a(), ra, &table_a, None).await?;
        self.route_hop(
            "route.source",
            &uid_a,
            ra,
            &table_a,
            &entries_a,
            &dw_cidr,
            "the resource group's vSwitch",
            Some((&hop_type, &back_hop)),
        )?;

        // 6. The whitelist admits the resource group's vSwitch CIDR.
        // The host's own read of the whitelist (the plugin's list for other products).
        let groups = self.e.read_whitelist().await?;
        let wl_at = At {
            name: "whitelist",
            account: &uid_a,
            region: ra,
            id: instance_id,
        };
        match whitelist_covers(&groups, &dw_cidr) {
            Some((g, entry)) => {
                let msg = format!("entry {entry} of whitelist group {g:?} admits {dw_cidr}");
                self.ok(wl_at, msg);
            }
            None => {
                let group = &spec.whitelist.group;
                let fix = if spec.whitelist.enabled {
                    format!(
                        "{} (or add {dw_cidr} to whitelist group {group:?} of {instance_id})",
                        self.rerun("whitelist.add")
                    )
                } else {
                    format!(
                        "add {dw_cidr} to a whitelist group of {instance_id} (whitelist.enabled = false: dwlink leaves it to you)"
                    )
                };
                return Err(self.broken(
                    wl_at,
                    format!("no whitelist entry of {instance_id} admits the resource group's vSwitch CIDR {dw_cidr}"),
                    fix,
                ));
            }
        }

        // 7. The instance is running and has an endpoint.
        let in_at = At {
            name: "instance",
            account: &uid_a,
            region: ra,
            id: instance_id,
        };
        if !location.running {
            return Err(self.broken(
                in_at,
                format!("instance {instance_id} is {}, not Running", location.status),
                format!("start {instance_id} (or wait until it is Running) in account {uid_a}, {ra}, then run `{}` again", self.rerun),
            ));
        }
        let Some(ep) = location.endpoints.first() else {
            return Err(self.broken(
                in_at,
                format!("instance {instance_id} has no VPC endpoint"),
                format!("create a VPC (intranet) connection address for {instance_id} in account {uid_a}, {ra}"),
            ));
        };
        let msg = format!(
            "instance {instance_id} is {} at {}:{} in vSwitch {} ({src_cidr})",
            location.status, ep.host, ep.port, location.vswitch_id
        );
        self.ok(in_at, msg);
        Ok(())
    }

    /// A VPC route hop: the most specific entry to `dest` must be Available and, when `expect`
    /// is given, go to that next hop.
    #[allow(clippy::too_many_arguments)]
    fn route_hop(
        &mut self,
        name: &str,
        uid: &str,
        region: &str,
        table: &str,
        entries: &[vpc::RouteEntry],
        dest: &Ipv4Net,
        dest_is: &str,
        expect: Option<(&str, &str)>,
    ) -> Result<vpc::RouteEntry, Halt> {
        let Some(e) = best_route(entries, dest).cloned() else {
            let fix = self.rerun(name);
            return Err(self.broken(
                At {
                    name,
                    account: uid,
                    region,
                    id: table,
                },
                format!("route table {table} has no entry to {dest} ({dest_is})"),
                fix,
            ));
        };
        if e.status != "Available" {
            return Err(self.broken(
                At {
                    name,
                    account: uid,
                    region,
                    id: &e.id,
                },
                format!(
                    "route entry {} ({}) in {table} is {}, not Available",
                    e.id, e.destination, e.status
                ),
                format!(
                    "wait until it is Available, or delete it and {}",
                    self.rerun(name)
                ),
            ));
        }
        if let Some((t, id)) = expect
            && (e.next_hop_type != t || e.next_hop_id != id)
        {
            let fix = self.rerun(name);
            return Err(self.broken(
                At {
                    name,
                    account: uid,
                    region,
                    id: &e.id,
                },
                format!(
                    "route entry {} in {table} sends {dest} to {} {}, not to {t} {id}",
                    e.id, e.next_hop_type, e.next_hop_id
                ),
                format!(
                    "delete route entry {} in account {uid}, {region}, then {fix}",
                    e.id
                ),
            ));
        }
        self.ok(
            At {
                name,
                account: uid,
                region,
                id: &e.id,
            },
            format!(
                "route entry {} in {table} sends {dest} to {} {}",
                e.id, e.next_hop_type, e.next_hop_id
            ),
        );
        Ok(e)
    }

    /// Peering: it exists, joins the two VPCs and is Activated.
    async fn peering(&mut self, id: &str, src_vpc: &str, dw_vpc: &str) -> Result<(), Halt> {
        let spec = self.e.spec.clone();
        let (ra, rb) = (spec.source.region.as_str(), spec.dataworks.region.as_str());
        let uid_a = self.uid_a.clone();
        let at = At {
            name: "peering",
            account: &uid_a,
            region: ra,
            id,
        };
        // dwlink creates it in A (requester); a reused one may have been requested from B.
        let mut p = found(peer::get(self.a(), ra, id).await)?.filter(|p| !p.id.is_empty());
        if p.is_none() {
            p = found(peer::get(self.b(), rb, id).await)?.filter(|p| !p.id.is_empty());
        }
        let gone_fix = format!(
            "delete the route entries that point at {id} (route.source in account {uid_a}, route.dataworks in account {}), then {}",
            self.uid_b,
            self.rerun("peering.create, route.source and route.dataworks")
        );
        let Some(p) = p else {
            return Err(self.broken(
                at,
                format!("peering connection {id} (next hop of B's route) does not exist"),
                gone_fix,
            ));
        };
        if p.is_dead() {
            return Err(self.broken(
                at,
                format!("peering connection {id} is {}", p.status),
                gone_fix,
            ));
        }
        if !p.joins(src_vpc, dw_vpc) {
            return Err(self.broken(
                at,
                format!(
                    "peering connection {id} joins VPC {} and VPC {}, not {src_vpc} and {dw_vpc}",
                    p.vpc_id, p.accepting_vpc_id
                ),
                gone_fix,
            ));
        }
        if p.status != "Activated" {
            let fix = if p.status == "Accepting" {
                format!(
                    "accept it in account {} ({rb}, AcceptVpcPeerConnection) or {}",
                    self.uid_b,
                    self.rerun("peering.accept")
                )
            } else {
                format!(
                    "wait until it is Activated, then run `{}` again",
                    self.rerun
                )
            };
            return Err(self.broken(
                at,
                format!("peering connection {id} is {}, not Activated", p.status),
                fix,
            ));
        }
        self.ok(
            at,
            format!("peering connection {id} is Activated between VPC {src_vpc} and VPC {dw_vpc}"),
        );
        Ok(())
    }

    /// CEN: both VPC attachments Attached, the inter-region connection when the regions differ,
    /// and each transit router's route table associated with and learning from every attachment
    /// of the path. Returns A's attachment id (the next hop of the route back).
    async fn cen(
        &mut self,
        att_b_id: &str,
        src_vpc: &str,
        dw_vpc: &str,
        src_cidr: Ipv4Net,
        dw_cidr: Ipv4Net,
    ) -> Result<String, Halt> {
        let spec = self.e.spec.clone();
        let (ra, rb) = (spec.source.region.as_str(), spec.dataworks.region.as_str());
        let uid_b = self.uid_b.clone();

        // B's attachment (the next hop of B's route).
        let atts_b = cen::list_vpc_attachments(self.b(), rb, None, Some(dw_vpc)).await?;
        let at = At {
            name: "cen.attach.dataworks",
            account: &uid_b,
            region: rb,
            id: att_b_id,
        };
        let Some(att_b) = atts_b.into_iter().find(|a| a.id == att_b_id) else {
            let fix = format!(
                "delete the route entry to it in account {uid_b}, {rb}, then {}",
                self.rerun("cen.attach.dataworks and route.dataworks")
            );
            return Err(self.broken(at, format!("transit router attachment {att_b_id} of VPC {dw_vpc} (next hop of B's route) does not exist"), fix));
        };
        if att_b.status != "Attached" {
            let fix = self.rerun("cen.attach.dataworks");
            return Err(self.broken(
                at,
                format!(
                    "attachment {att_b_id} of VPC {dw_vpc} is {}, not Attached",
                    att_b.status
                ),
                fix,
            ));
        }
        let cen_id = att_b.cen_id.clone();
        let tr_b = att_b.transit_router_id.clone();
        self.ok(
            at,
            format!(
                "attachment {att_b_id} joins VPC {dw_vpc} to transit router {tr_b} of CEN {cen_id}"
            ),
        );

        // A's attachment, in the same CEN (owned by B, attaching A's VPC).
        let atts_a = cen::list_vpc_attachments(self.b(), ra, Some(&cen_id), None).await?;
        let mut atts_a: Vec<_> = atts_a.into_iter().filter(|a| a.vpc_id == src_vpc).collect();
        atts_a.sort_by_key(|a| a.status != "Attached");
        let Some(att_a) = atts_a.into_iter().next() else {
            let grants = vpc::describe_grants_to_cen(self.a(), ra, src_vpc).await?;
            let granted = grants.iter().any(|g| g.cen_id == cen_id);
            let fix = if granted {
                self.rerun("cen.attach.source")
            } else {
                self.rerun("cen.grant and cen.attach.source")
            };
            return Err(self.broken(
                At { name: "cen.attach.source", account: &uid_b, region: ra, id: &cen_id },
                format!(
                    "CEN {cen_id} has no attachment of account A's VPC {src_vpc} ({}granted to the CEN)",
                    if granted { "" } else { "not " }
                ),
                fix,
            ));
        };
        let at = At {
            name: "cen.attach.source",
            account: &uid_b,
            region: ra,
            id: &att_a.id,
        };
        if att_a.status != "Attached" {
            let fix = self.rerun("cen.attach.source");
            return Err(self.broken(
                at,
                format!(
                    "attachment {} of VPC {src_vpc} is {}, not Attached",
                    att_a.id, att_a.status
                ),
                fix,
            ));
        }
        let tr_a = att_a.transit_router_id.clone();
        self.ok(
            at,
            format!(
                "attachment {} joins VPC {src_vpc} (account {}) to transit router {tr_a}",
                att_a.id, self.uid_a
            ),
        );

        // The transit routers' route tables: (attachment, router, region, plan label).
        let mut links = vec![
            (att_b.id.clone(), tr_b.clone(), rb.to_string(), "dataworks"),
            (att_a.id.clone(), tr_a.clone(), ra.to_string(), "source"),
        ];
        let mut peer_id = None;
        if tr_a != tr_b {
            let peers = cen::list_peer_attachments(self.b(), rb, &cen_id).await?;
            let mut peers: Vec<_> = peers
                .into_iter()
                .filter(|p| {
                    (p.transit_router_id == tr_a && p.peer_transit_router_id == tr_b)
                        || (p.transit_router_id == tr_b && p.peer_transit_router_id == tr_a)
                })
                .collect();
            // An Attached one wins over one still attaching or going away.
            peers.sort_by_key(|p| p.status != "Attached");
            let peer = peers.into_iter().next();
            let Some(peer) = peer else {
                let fix = self.rerun("cen.peer");
                return Err(self.broken(
                    At { name: "cen.peer", account: &uid_b, region: rb, id: &cen_id },
                    format!("no inter-region connection joins transit routers {tr_b} ({rb}) and {tr_a} ({ra}) in CEN {cen_id}"),
                    fix,
                ));
            };
            let at = At {
                name: "cen.peer",
                account: &uid_b,
                region: rb,
                id: &peer.id,
            };
            if peer.status != "Attached" {
                let fix = self.rerun("cen.peer");
                return Err(self.broken(
                    at,
                    format!(
                        "inter-region connection {} is {}, not Attached",
                        peer.id, peer.status
                    ),
                    fix,
                ));
            }
            self.ok(
                at,
                format!(
                    "inter-region connection {} joins {tr_b} ({rb}) and {tr_a} ({ra})",
                    peer.id
                ),
            );
            links.push((
                peer.id.clone(),
                tr_b.clone(),
                rb.to_string(),
                "peer.dataworks",
            ));
            links.push((peer.id.clone(), tr_a.clone(), ra.to_string(), "peer.source"));
            peer_id = Some(peer.id.clone());
        }
        let mut routers = vec![(tr_b.clone(), rb.to_string(), "dataworks")];
        if tr_a != tr_b {
            routers.push((tr_a.clone(), ra.to_string(), "source"));
        }
        // First every table's associations and propagations (a missing propagation in one
        // region shows up as a missing route in the other), then the routes they produce.
        let mut tables = Vec::new();
        for (tr, region, side) in routers {
            let name = format!("cen.route_table.{side}");
            let Some(table) = cen::system_route_table(self.b(), &region, &tr).await? else {
                let fix = self.rerun(&format!("cen.tr.{side}"));
                return Err(self.broken(
                    At {
                        name: &name,
                        account: &uid_b,
                        region: &region,
                        id: &tr,
                    },
                    format!("transit router {tr} has no system route table"),
                    fix,
                ));
            };
            for (att, _, _, label) in links.iter().filter(|l| l.1 == tr && l.2 == region) {
                for (kind, present, what) in [
                    (
                        "assoc",
                        table.associations.contains(att),
                        "is not associated with",
                    ),
                    (
                        "prop",
                        table.propagations.contains(att),
                        "does not propagate its routes into",
                    ),
                ] {
                    if !present {
                        let fix = self.rerun(&format!("cen.{kind}.{label}"));
                        return Err(self.broken(
                            At {
                                name: &name,
                                account: &uid_b,
                                region: &region,
                                id: &table.id,
                            },
                            format!(
                                "attachment {att} {what} route table {} of transit router {tr}",
                                table.id
                            ),
                            fix,
                        ));
                    }
                }
            }
            tables.push((tr, region, name, table));
        }
        for (tr, region, name, table) in tables {
            // The routes those propagations produce: towards each side, via the attachment
            // (or the inter-region connection) that leads there.
            let towards_src = if tr == tr_a {
                &att_a.id
            } else {
                peer_id.as_ref().unwrap_or(&att_a.id)
            };
            let towards_dw = if tr == tr_b {
                &att_b.id
            } else {
                peer_id.as_ref().unwrap_or(&att_b.id)
            };
            let routes = tr_routes(self.b(), &region, &table.id).await?;
            for (dest, via) in [(src_cidr, towards_src), (dw_cidr, towards_dw)] {
                let routed = routes.iter().any(|(d, hop)| {
                    hop == via && d.parse::<Ipv4Net>().is_ok_and(|d| d.contains(&dest))
                });
                if !routed {
                    let table_id = table.id.clone();
                    return Err(self.broken(
                        At { name: &name, account: &uid_b, region: &region, id: &table_id },
                        format!("route table {table_id} of transit router {tr} has no route to {dest} via {via}"),
                        format!(
                            "look for a conflicting or more specific route in {table_id} (CEN console > Transit Router > Route Table, account {uid_b}, {region}); the association and propagation of {via} are in place"
                        ),
                    ));
                }
            }
            self.ok(
                At { name: &name, account: &uid_b, region: &region, id: &table.id },
                format!(
                    "route table {} of transit router {tr} learns from every attachment of the path and routes {src_cidr} via {towards_src}, {dw_cidr} via {towards_dw}",
                    table.id
                ),
            );
        }
        Ok(att_a.id)
    }
}

/// The routes of a transit-router route table, propagated and static: (destination, next-hop
/// attachment). Follows NextToken.
async fn tr_routes(
    c: &dyn Caller,
    region: &str,
    table: &str,
) -> Result<Vec<(String, String)>, CloudError> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let v = send(
            c,
            CBN.call("ListTransitRouterRouteEntries", region).params(
                Params::new()
                    .set("RegionId", region)
                    .set("TransitRouterRouteTableId", table)
                    .set("MaxResults", 100)
                    .set_opt("NextToken", (!token.is_empty()).then_some(&token)),
            ),
        )
        .await?;
        out.extend(
            arr(&v, &["TransitRouterRouteEntries"])
                .iter()
                .filter(|x| {
                    matches!(
                        s(x, "TransitRouterRouteEntryStatus").as_str(),
                        "" | "Active"
                    )
                })
                .map(|x| {
                    (
                        s(x, "TransitRouterRouteEntryDestinationCidrBlock"),
                        s(x, "TransitRouterRouteEntryNextHopId"),
                    )
                }),
        );
        token = s(&v, "NextToken");
        if token.is_empty() {
            break;
        }
    }
    Ok(out)
}

impl Engine {
    /// Walks the hops of this link against the live state and names the first broken one.
    /// Errors are reads that failed for another reason than a missing resource.
    pub async fn diagnose(&self) -> Result<Diagnosis, EngineError> {
        let rb = &self.spec.dataworks.region;
        let uid_b = sts::get_caller_identity(self.caller(Side::Dataworks), rb)
            .await?
            .account_id;
        let plugin = self
            .plugin_path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "PLUGIN".into());
        let mut walk = Walk {
            e: self,
            hops: Vec::new(),
            mode: None,
            rerun: format!(
                "dwlink-host run {plugin} --link {}",
                self.spec.file.display()
            ),
            uid_a: self.spec.source.account_uid.clone(),
            uid_b,
        };
        match walk.walk().await {
            Ok(()) | Err(Halt::Broken) => {}
            Err(Halt::Failed(e)) => return Err(e),
        }
        // A missing resource dwlink created (per its journal) was deleted outside dwlink: say
        // so, since the fix (run again) creates it anew rather than finding it. A hop is named
        // after the step that builds it, or names the resource.
        let owned = super::journal::Journal::peek_memory(&self.journal_dir, &self.link_id()).owned;
        for h in walk
            .hops
            .iter_mut()
            .filter(|h| h.status == HopStatus::Broken)
        {
            let missing = h.message.contains("does not exist") || h.message.contains("has no ");
            // The hop's own step first: its message may name what it hangs off (the CEN).
            let gone = owned
                .iter()
                .find(|(_, step)| **step == h.name)
                .or_else(|| owned.iter().find(|(id, _)| h.message.contains(id.as_str())));
            if let (true, Some((id, step))) = (missing, gone) {
                h.message += &format!(
                    " (dwlink created {id} in step {step}; it was deleted outside dwlink, and `run` creates it anew)"
                );
            }
        }
        let first_broken = walk
            .hops
            .iter()
            .find(|h| h.status == HopStatus::Broken)
            .map(|h| h.name.clone());
        Ok(Diagnosis {
            mode: walk.mode,
            hops: walk.hops,
            first_broken,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    fn entry(id: &str, dest: &str, hop: &str) -> vpc::RouteEntry {
        vpc::RouteEntry {
            id: id.into(),
            table_id: "vtb-1".into(),
            destination: dest.into(),
            status: "Available".into(),
            next_hop_type: hop.into(),
            next_hop_id: format!("{hop}-id"),
        }
    }

    #[test]
    fn whitelist_entries_cover_by_containment() {
        let cidr = net("10.10.1.0/24");
        assert!(entry_covers("10.10.0.0/16", &cidr));
        assert!(entry_covers("10.10.1.0/24", &cidr));
        assert!(entry_covers("0.0.0.0/0", &cidr));
        assert!(!entry_covers("10.10.1.0/25", &cidr));
        assert!(!entry_covers("10.10.1.7", &cidr));
        assert!(entry_covers("10.10.1.7", &net("10.10.1.7/32")));
        assert!(!entry_covers("not-an-ip", &cidr));
        let groups = vec![
            WhitelistGroup {
                name: "default".into(),
                entries: vec!["127.0.0.1".into()],
                attribute: String::new(),
            },
            WhitelistGroup {
                name: "dataworks".into(),
                entries: vec!["10.10.1.0/24".into()],
                attribute: String::new(),
            },
        ];
        assert_eq!(
            whitelist_covers(&groups, &cidr),
            Some(("dataworks", "10.10.1.0/24"))
        );
        assert_eq!(whitelist_covers(&groups[..1], &cidr), None);
    }

    #[test]
    fn the_most_specific_non_local_route_wins() {
        let entries = vec![
            entry("local", "192.168.0.0/16", "local"),
            entry("wide", "10.0.0.0/8", "VpcPeer"),
            entry("narrow", "10.10.1.0/24", "Attachment"),
            entry("other", "172.16.0.0/12", "VpcPeer"),
        ];
        assert_eq!(
            best_route(&entries, &net("10.10.1.0/24")).unwrap().id,
            "narrow"
        );
        assert_eq!(
            best_route(&entries, &net("10.20.0.0/24")).unwrap().id,
            "wide"
        );
        assert!(best_route(&entries, &net("192.168.1.0/24")).is_none());
    }

    #[test]
    fn exit_code_and_json_follow_the_first_broken_hop() {
        let hop = |name: &str, status| Hop {
            name: name.into(),
            status,
            account: "1".into(),
            region: "cn-hangzhou".into(),
            resource_id: "vtb-1".into(),
            message: "m".into(),
            fix: None,
        };
        let mut d = Diagnosis {
            mode: Some("peering".into()),
            hops: vec![hop("dataworks.route", HopStatus::Ok)],
            first_broken: None,
        };
        assert_eq!(d.exit_code(), 0);
        assert!(d.to_text().contains("every hop is ok"));
        d.hops.push(hop("route.dataworks", HopStatus::Broken));
        d.first_broken = Some("route.dataworks".into());
        assert_eq!(d.exit_code(), 3);
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["first_broken"], "route.dataworks");
        assert_eq!(v["hops"][1]["status"], "broken");
        for k in [
            "name",
            "status",
            "account",
            "region",
            "resource_id",
            "message",
            "fix",
        ] {
            assert!(v["hops"][0].get(k).is_some(), "missing {k}");
        }
        assert!(d.to_text().contains("first broken hop: route.dataworks"));
    }
}
