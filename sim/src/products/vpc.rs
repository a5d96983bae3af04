//! VPC 2016-04-28: VPCs, vSwitches, route tables and entries (incl. `VpcPeer` and transit-router
//! `Attachment` next hops) and CEN grants.

use crate::error::{ApiError, ApiResult};
use crate::lifecycle::Lifecycle;
use crate::registry::{Product, Registry};
use crate::request::{Ctx, overlaps, parse_cidr};
use crate::scenario::add_system_route;
use crate::state::*;
use ipnet::Ipv4Net;
use serde_json::{Value, json};

pub static PRODUCT: Product = Product {
    code: "Vpc",
    version: "2016-04-28",
    host: "vpc.aliyuncs.com",
};

pub fn register(r: &mut Registry) {
    r.add(&PRODUCT, "DescribeVpcs", describe_vpcs);
    r.add(&PRODUCT, "DescribeVpcAttribute", describe_vpc_attribute);
    r.add(&PRODUCT, "DescribeVSwitches", describe_vswitches);
    r.add(
        &PRODUCT,
        "DescribeVSwitchAttributes",
        describe_vswitch_attributes,
    );
    r.add(&PRODUCT, "CreateVSwitch", create_vswitch);
    r.add(&PRODUCT, "DeleteVSwitch", delete_vswitch);
    r.add(
        &PRODUCT,
        "DescribeRouteTableList",
        describe_route_table_list,
    );
    r.add(
        &PRODUCT,
        "DescribeRouteEntryList",
        describe_route_entry_list,
    );
    r.add(&PRODUCT, "CreateRouteEntry", create_route_entry);
    r.add(&PRODUCT, "DeleteRouteEntry", delete_route_entry);
    r.add(&PRODUCT, "GrantInstanceToCen", grant_instance_to_cen);
    r.add(&PRODUCT, "RevokeInstanceFromCen", revoke_instance_from_cen);
    r.add(
        &PRODUCT,
        "DescribeGrantRulesToCen",
        describe_grant_rules_to_cen,
    );
}

/// A UID as the JSON number the SDK models declare (`OwnerId: int`).
pub fn uid_num(uid: &str) -> Value {
    uid.parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(uid))
}

pub fn vpc_not_found(id: &str) -> ApiError {
    ApiError::not_found(
        "InvalidVpcId.NotFound",
        format!("Specified VPC {id:?} does not exist in this account and region."),
    )
}

fn vswitch_not_found(id: &str) -> ApiError {
    ApiError::not_found(
        "InvalidVSwitchId.NotFound",
        format!("Specified vSwitch {id:?} does not exist in this account and region."),
    )
}

fn table_not_found(id: &str) -> ApiError {
    ApiError::not_found(
        "InvalidRouteTableId.NotFound",
        format!("Specified route table {id:?} does not exist in this account and region."),
    )
}

fn vpc_json(
    uid: &str,
    region: &str,
    v: &mut Vpc,
    reg_vsw: &[String],
    now: std::time::Instant,
) -> Value {
    json!({
        "VpcId": v.id, "VpcName": v.name, "Description": v.description,
        "CidrBlock": v.cidr.to_string(), "Status": v.status.poll(now).as_str(),
        "RegionId": region, "VRouterId": v.vrouter_id, "OwnerId": uid_num(uid),
        "IsDefault": v.is_default, "CreationTime": v.created, "CenStatus": "",
        "ResourceGroupId": "", "Ipv6CidrBlock": "",
        "VSwitchIds": {"VSwitchId": reg_vsw},
        "RouterTableIds": {"RouterTableIds": [v.route_table_id]},
        "SecondaryCidrBlocks": {"SecondaryCidrBlock": []},
        "UserCidrs": {"UserCidr": []},
        "NatGatewayIds": {"NatGatewayIds": []},
        "Tags": {"Tag": []},
    })
}

fn vswitch_ids(reg: &Regional, vpc: &str) -> Vec<String> {
    reg.vswitches
        .values()
        .filter(|s| s.vpc_id == vpc)
        .map(|s| s.id.clone())
        .collect()
}

fn describe_vpcs(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let region = ctx.region()?;
    let ids = ctx.comma_list("VpcId");
    let name = ctx.opt("VpcName");
    let is_default = ctx.bool("IsDefault")?;
    let page = ctx.page(10, 50)?;
    ctx.dry_run()?;
    // Another account's VPCs are invisible (VpcOwnerId only narrows the caller's own view).
    if let Some(owner) = ctx.opt("VpcOwnerId")
        && owner != ctx.uid()
    {
        return Ok(
            json!({"Vpcs": {"Vpc": []}, "TotalCount": 0, "PageNumber": page.number, "PageSize": page.size}),
        );
    }
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let reg = ctx.world.regional(&uid, &region);
    let matching: Vec<String> = reg
        .vpcs
        .values()
        .filter(|v| ids.is_empty() || ids.contains(&v.id.as_str()))
        .filter(|v| name.is_none_or(|n| v.name == n))
        .filter(|v| is_default.is_none_or(|d| v.is_default == d))
        .map(|v| v.id.clone())
        .collect();
    let mut out = Vec::new();
    for id in page.slice(&matching) {
        let vsw = vswitch_ids(reg, id);
        let v = reg.vpcs.get_mut(id).expect("listed above");
        out.push(vpc_json(&uid, &region, v, &vsw, now));
    }
    Ok(
        json!({"Vpcs": {"Vpc": out}, "TotalCount": matching.len(), "PageNumber": page.number, "PageSize": page.size}),
    )
}

fn describe_vpc_attribute(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let region = ctx.region()?;
    let id = ctx.req("VpcId")?;
    ctx.dry_run()?;
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    // CENs the VPC is attached to (by anyone, through a grant or the same account).
    let attached: Vec<String> = ctx
        .world
        .regions
        .values_mut()
        .flat_map(|r| r.tr_vpc_attachments.values_mut())
        .filter_map(|a| {
            let here = a.vpc_id == id && a.vpc_owner_uid == uid && a.vpc_region == region;
            (here && a.status.peek(now) != AttachmentStatus::Detached).then(|| a.cen_id.clone())
        })
        .collect();
    let cens: Vec<Value> = attached
        .iter()
        .map(|cen_id| {
            let owner = ctx.world.cen_owner(cen_id).unwrap_or_default();
            json!({"CenId": cen_id, "CenOwnerId": uid_num(&owner), "CenStatus": "Attached"})
        })
        .collect();
    let reg = ctx.world.regional(&uid, &region);
    let vsw = vswitch_ids(reg, id);
    let v = reg.vpcs.get_mut(id).ok_or_else(|| vpc_not_found(id))?;
    let mut body = vpc_json(&uid, &region, v, &vsw, now);
    let m = body.as_object_mut().expect("object");
    m.remove("RouterTableIds");
    m.remove("NatGatewayIds");
    m.insert("AssociatedCens".into(), json!({"AssociatedCen": cens}));
    m.insert(
        "CloudResources".into(),
        json!({"CloudResourceSetType": [
            {"ResourceType": "VSwitch", "ResourceCount": vsw.len()},
            {"ResourceType": "RouteTable", "ResourceCount": 1},
        ]}),
    );
    m.insert("ClassicLinkEnabled".into(), json!(false));
    Ok(body)
}

fn vswitch_json(uid: &str, reg: &mut Regional, id: &str, now: std::time::Instant) -> Value {
    let table = reg
        .vswitches
        .get(id)
        .and_then(|s| reg.vpcs.get(&s.vpc_id))
        .map(|v| v.route_table_id.clone())
        .unwrap_or_default();
    let used = ips_in_use(reg, id);
    let s = reg.vswitches.get_mut(id).expect("caller checked");
    json!({
        "VSwitchId": s.id, "VSwitchName": s.name, "Description": s.description,
        "VpcId": s.vpc_id, "ZoneId": s.zone, "CidrBlock": s.cidr.to_string(),
        "Status": s.status.poll(now).as_str(),
        "AvailableIpAddressCount": s.capacity().saturating_sub(used),
        "OwnerId": uid_num(uid), "IsDefault": false, "ShareType": "Sharing",
        "CreationTime": s.created, "NetworkAclId": "", "ResourceGroupId": "",
        "RouteTable": {"RouteTableId": table, "RouteTableType": "System"},
        "Tags": {"Tag": []},
    })
}

/// Addresses taken in a vSwitch by modelled instances.
fn ips_in_use(reg: &Regional, vsw: &str) -> u64 {
    let eps = reg
        .rds_instances
        .values()
        .flat_map(|i| &i.endpoints)
        .chain(reg.polardb_clusters.values().flat_map(|i| &i.endpoints))
        .chain(reg.mongodb_instances.values().flat_map(|i| &i.endpoints));
    eps.filter(|e| e.vswitch_id == vsw).count() as u64
}

fn describe_vswitches(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let vpc = ctx.opt("VpcId");
    let region = match ctx.opt_region()? {
        Some(r) => r,
        None if vpc.is_some() => {
            // VpcId alone: find the caller's VPC in any region.
            let uid = ctx.uid().to_string();
            let vpc = vpc.unwrap_or_default();
            ctx.world
                .regions
                .iter()
                .find(|((u, _), r)| *u == uid && r.vpcs.contains_key(vpc))
                .map(|((_, r), _)| r.clone())
                .ok_or_else(|| vpc_not_found(vpc))?
        }
        None => return Err(ApiError::missing("RegionId")),
    };
    let vsw_id = ctx.opt("VSwitchId");
    let zone = ctx.opt("ZoneId");
    let table = ctx.opt("RouteTableId");
    let page = ctx.page(10, 50)?;
    ctx.dry_run()?;
    if ctx.opt("VSwitchOwnerId").is_some_and(|o| o != ctx.uid()) {
        return Ok(
            json!({"VSwitches": {"VSwitch": []}, "TotalCount": 0, "PageNumber": page.number, "PageSize": page.size}),
        );
    }
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let reg = ctx.world.regional(&uid, &region);
    let matching: Vec<String> = reg
        .vswitches
        .values()
        .filter(|s| vpc.is_none_or(|v| s.vpc_id == v))
        .filter(|s| vsw_id.is_none_or(|v| s.id == v))
        .filter(|s| zone.is_none_or(|z| s.zone == z))
        .filter(|s| {
            table.is_none_or(|t| {
                reg.vpcs
                    .get(&s.vpc_id)
                    .is_some_and(|v| v.route_table_id == t)
            })
        })
        .map(|s| s.id.clone())
        .collect();
    let out: Vec<Value> = page
        .slice(&matching)
        .iter()
        .map(|id| vswitch_json(&uid, reg, id, now))
        .collect();
    Ok(
        json!({"VSwitches": {"VSwitch": out}, "TotalCount": matching.len(), "PageNumber": page.number, "PageSize": page.size}),
    )
}

fn describe_vswitch_attributes(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let id = ctx.req("VSwitchId")?;
    let uid = ctx.uid().to_string();
    let region = match ctx.opt_region()? {
        Some(r) => r,
        None => ctx
            .world
            .regions
            .iter()
            .find(|((u, _), r)| *u == uid && r.vswitches.contains_key(id))
            .map(|((_, r), _)| r.clone())
            .ok_or_else(|| vswitch_not_found(id))?,
    };
    ctx.dry_run()?;
    let now = ctx.now;
    let reg = ctx.world.regional(&uid, &region);
    if !reg.vswitches.contains_key(id) {
        return Err(vswitch_not_found(id));
    }
    Ok(vswitch_json(&uid, reg, id, now))
}

fn create_vswitch(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let region = ctx.region()?;
    let vpc_id = ctx.req("VpcId")?;
    let zone = ctx.req("ZoneId")?;
    let cidr = ctx.req_cidr("CidrBlock")?;
    let name = ctx.opt("VSwitchName").unwrap_or_default().to_string();
    let description = ctx.opt("Description").unwrap_or_default().to_string();
    if let Some(id) = ctx.replay()? {
        return Ok(json!({"VSwitchId": id}));
    }
    if !ctx.world.zone_exists(&region, zone) {
        return Err(ApiError::bad(
            "InvalidZoneId.NotFound",
            format!("The specified zone {zone:?} does not exist in region {region}."),
        ));
    }
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    {
        let reg = ctx.world.regional(&uid, &region);
        let vpc = reg
            .vpcs
            .get_mut(vpc_id)
            .ok_or_else(|| vpc_not_found(vpc_id))?;
        if vpc.status.peek(now) != VpcStatus::Available {
            return Err(ApiError::bad(
                "IncorrectVpcStatus",
                format!("The VPC {vpc_id} is not Available."),
            ));
        }
        if !(16..=29).contains(&cidr.prefix_len()) {
            return Err(ApiError::bad(
                "InvalidCidrBlock.Malformed",
                format!(
                    "The vSwitch CIDR block {cidr} must have a prefix length between 16 and 29."
                ),
            ));
        }
        if !vpc.cidr.contains(&cidr) {
            return Err(ApiError::bad(
                "InvalidCidrBlock.Mismatch",
                format!(
                    "The vSwitch CIDR block {cidr} is not inside the CIDR block {} of VPC {vpc_id}.",
                    vpc.cidr
                ),
            ));
        }
        if let Some(o) = reg
            .vswitches
            .values()
            .find(|s| s.vpc_id == vpc_id && overlaps(&s.cidr, &cidr))
        {
            return Err(ApiError::bad(
                "InvalidCidrBlock.Overlapped",
                format!(
                    "The CIDR block {cidr} overlaps vSwitch {} ({}) in VPC {vpc_id}.",
                    o.id, o.cidr
                ),
            ));
        }
    }
    ctx.dry_run()?;
    let id = ctx.idempotent(|ctx| {
        let id = ctx.world.ids.regional("vsw", &region);
        let entry_id = ctx.world.ids.regional("rte", &region);
        let pacer = ctx.world.pacer;
        let reg = ctx.world.regional(&uid, &region);
        let table = reg.vpcs[vpc_id].route_table_id.clone();
        let vsw = VSwitch {
            id: id.clone(),
            name,
            description,
            vpc_id: vpc_id.to_string(),
            zone: zone.to_string(),
            cidr,
            status: Lifecycle::start(
                VSwitchStatus::Pending,
                &[(VSwitchStatus::Available, durations::VSWITCH)],
                &pacer,
                now,
            ),
            created: utc_now(),
        };
        add_system_route(reg, &table, &entry_id, &vsw);
        reg.vswitches.insert(id.clone(), vsw);
        Ok(id)
    })?;
    Ok(json!({"VSwitchId": id}))
}

fn delete_vswitch(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let id = ctx.req("VSwitchId")?;
    let uid = ctx.uid().to_string();
    let region = match ctx.opt_region()? {
        Some(r) => r,
        None => ctx
            .world
            .regions
            .iter()
            .find(|((u, _), r)| *u == uid && r.vswitches.contains_key(id))
            .map(|((_, r), _)| r.clone())
            .ok_or_else(|| vswitch_not_found(id))?,
    };
    let now = ctx.now;
    if !ctx.world.regional(&uid, &region).vswitches.contains_key(id) {
        return Err(vswitch_not_found(id));
    }
    if let Some(user) = vswitch_user(ctx.world, &uid, &region, id, now) {
        return Err(ApiError::bad(
            "DependencyViolation",
            format!("The vSwitch {id} is still used by {user}; remove that first."),
        ));
    }
    ctx.dry_run()?;
    remove_vswitch(ctx.world.regional(&uid, &region), id);
    Ok(json!({}))
}

/// What still uses a vSwitch of `uid` in `region` (a database instance, a DataWorks network,
/// a VPC attachment's zone mapping), which the cloud refuses to delete it under; shared with
/// the admin `delete` of a `vswitch`. A detached attachment (kept as a record, see cbn) no
/// longer holds it.
pub fn vswitch_user(
    world: &mut World,
    uid: &str,
    region: &str,
    id: &str,
    now: std::time::Instant,
) -> Option<String> {
    let in_attachment = world
        .regions
        .values_mut()
        .flat_map(|r| r.tr_vpc_attachments.values_mut())
        .find_map(|a| {
            let holds =
                a.vpc_owner_uid == uid && a.zone_mappings.iter().any(|z| z.vswitch_id == id);
            (holds && a.status.peek(now) != AttachmentStatus::Detached)
                .then(|| format!("transit router attachment {}", a.id))
        });
    let reg = world.regional(uid, region);
    reg.rds_instances
        .values()
        .filter(|i| i.vswitch_id == id)
        .map(|i| i.id.clone())
        .chain(
            reg.polardb_clusters
                .values()
                .filter(|i| i.vswitch_id == id)
                .map(|i| i.id.clone()),
        )
        .chain(
            reg.mongodb_instances
                .values()
                .filter(|i| i.vswitch_id == id)
                .map(|i| i.id.clone()),
        )
        .chain(
            reg.dataworks
                .networks
                .values()
                .filter(|n| n.vswitch_id == id)
                .map(|n| format!("DataWorks network {}", n.id)),
        )
        .chain(in_attachment)
        .next()
}

/// Removes a vSwitch and the system route entry of its CIDR; `false` if there is none.
pub fn remove_vswitch(reg: &mut Regional, id: &str) -> bool {
    let Some(vsw) = reg.vswitches.remove(id) else {
        return false;
    };
    if let Some(t) = reg.vpcs.get(&vsw.vpc_id).map(|v| v.route_table_id.clone())
        && let Some(t) = reg.route_tables.get_mut(&t)
    {
        t.entries
            .retain(|e| !(e.kind == RouteEntryKind::System && e.destination == vsw.cidr));
    }
    true
}

fn describe_route_table_list(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let region = ctx.region()?;
    let vpc = ctx.opt("VpcId");
    let table = ctx.opt("RouteTableId");
    let kind = ctx.opt("RouteTableType");
    let router = ctx.opt("RouterId");
    let router_type = ctx.opt("RouterType");
    let page = ctx.page(10, 50)?;
    let uid = ctx.uid().to_string();
    let reg = ctx.world.regional(&uid, &region);
    let list: Vec<Value> = reg
        .route_tables
        .values()
        .filter(|t| vpc.is_none_or(|v| t.vpc_id == v))
        .filter(|t| table.is_none_or(|v| t.id == v))
        .filter(|t| kind.is_none_or(|k| t.kind.as_str() == k))
        .filter(|t| router.is_none_or(|r| t.vrouter_id == r))
        .filter(|_| router_type.is_none_or(|r| r == "VRouter"))
        .map(|t| {
            json!({
                "RouteTableId": t.id, "RouteTableName": t.name, "RouteTableType": t.kind.as_str(),
                "VpcId": t.vpc_id, "RouterId": t.vrouter_id, "RouterType": "VRouter",
                "Status": "Available", "AssociateType": "VSwitch", "RoutePropagationEnable": true,
                "Description": "", "CreationTime": t.created, "OwnerId": uid_num(&uid), "ResourceGroupId": "",
                "VSwitchIds": {"VSwitchId": vswitch_ids(reg, &t.vpc_id)},
                "GatewayIds": {"GatewayIds": []},
                "Tags": {"Tag": []},
            })
        })
        .collect();
    let total = list.len();
    Ok(
        json!({"RouterTableList": {"RouterTableListType": page.slice(&list)}, "TotalCount": total,
              "PageNumber": page.number, "PageSize": page.size}),
    )
}

fn next_hop_json(world: &World, region: &str, h: &NextHop) -> Value {
    let related = match h.kind.as_str() {
        "VpcPeer" => json!({"InstanceId": h.id, "InstanceType": "VpcPeer", "RegionId": region}),
        "Attachment" => {
            let tr = world
                .regions
                .values()
                .flat_map(|r| r.tr_vpc_attachments.values())
                .find(|a| a.id == h.id)
                .map(|a| a.transit_router_id.clone())
                .unwrap_or_default();
            json!({"InstanceId": tr, "InstanceType": "TransitRouter", "RegionId": region})
        }
        _ => json!({}),
    };
    json!({
        "NextHopType": h.kind, "NextHopId": h.id, "Enabled": 1, "Weight": h.weight.unwrap_or(100),
        "NextHopRegionId": region, "NextHopRelatedInfo": related,
    })
}

fn describe_route_entry_list(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let region = ctx.region()?;
    let table_id = ctx.req("RouteTableId")?;
    let dest = ctx.cidr("DestinationCidrBlock")?;
    let dests: Vec<Ipv4Net> = ctx
        .list("DestCidrBlockList")
        .into_iter()
        .map(|d| parse_cidr("DestCidrBlockList", d))
        .collect::<ApiResult<_>>()?;
    let entry_id = ctx.opt("RouteEntryId");
    let kind = ctx.opt("RouteEntryType");
    let hop_id = ctx.opt("NextHopId");
    let hop_type = ctx.opt("NextHopType");
    let page = ctx.token_page("MaxResult", 10, 100)?;
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    if !ctx
        .world
        .regional(&uid, &region)
        .route_tables
        .contains_key(table_id)
    {
        return Err(table_not_found(table_id));
    }
    // Compute the JSON of next hops first (needs the whole world), then poll the entries.
    let table = ctx.world.regional(&uid, &region).route_tables[table_id].clone();
    let matching: Vec<&RouteEntry> = table
        .entries
        .iter()
        .filter(|e| dest.is_none_or(|d| e.destination == d))
        .filter(|e| dests.is_empty() || dests.contains(&e.destination))
        .filter(|e| entry_id.is_none_or(|id| e.id == id))
        .filter(|e| kind.is_none_or(|k| e.kind.as_str() == k))
        .filter(|e| hop_id.is_none_or(|h| e.next_hops.iter().any(|n| n.id == h)))
        .filter(|e| hop_type.is_none_or(|h| e.next_hops.iter().any(|n| n.kind == h)))
        .collect();
    let (slice, next) = page.slice(&matching);
    let hops: Vec<Vec<Value>> = slice
        .iter()
        .map(|e| {
            e.next_hops
                .iter()
                .filter(|h| h.kind != "local")
                .map(|h| next_hop_json(ctx.world, &region, h))
                .collect()
        })
        .collect();
    let ids: Vec<String> = slice.iter().map(|e| e.id.clone()).collect();
    let total = matching.len();
    let live = ctx
        .world
        .regional(&uid, &region)
        .route_tables
        .get_mut(table_id)
        .expect("checked");
    let mut out = Vec::new();
    for (id, hops) in ids.iter().zip(hops) {
        let e = live
            .entries
            .iter_mut()
            .find(|e| e.id == *id)
            .expect("listed");
        out.push(json!({
            "RouteEntryId": e.id, "RouteTableId": e.route_table_id,
            "DestinationCidrBlock": e.destination.to_string(), "Status": e.status.poll(now).as_str(),
            "Type": e.kind.as_str(), "Origin": e.origin, "RouteEntryName": e.name,
            "Description": e.description, "IpVersion": "ipv4", "ServiceType": "", "GmtModified": e.created,
            "NextHops": {"NextHop": hops},
        }));
    }
    Ok(json!({"RouteEntrys": {"RouteEntry": out}, "NextToken": next, "TotalCount": total}))
}

fn create_route_entry(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let table_id = ctx.req("RouteTableId")?;
    let dest = ctx.req_cidr("DestinationCidrBlock")?;
    let uid = ctx.uid().to_string();
    let region = match ctx.opt_region()? {
        Some(r) => r,
        None => ctx
            .world
            .regions
            .iter()
            .find(|((u, _), r)| *u == uid && r.route_tables.contains_key(table_id))
            .map(|((_, r), _)| r.clone())
            .ok_or_else(|| table_not_found(table_id))?,
    };
    if !ctx.list("NextHopList").is_empty() || !ctx.objects("NextHopList").is_empty() {
        return Err(ApiError::bad(
            "InvalidParameter.NextHopList",
            "ECMP routes (NextHopList) are not modelled by the simulator; use NextHopType and NextHopId.",
        ));
    }
    if let Some(id) = ctx.replay()? {
        return Ok(json!({"RouteEntryId": id}));
    }
    let hop_type = ctx.opt("NextHopType").unwrap_or("Instance");
    let hop_id = ctx.req("NextHopId")?;
    let name = ctx.opt("RouteEntryName").unwrap_or_default().to_string();
    let description = ctx.opt("Description").unwrap_or_default().to_string();
    let now = ctx.now;

    let (vpc_id, vpc_cidr, vsw_cidrs, busy) = {
        let reg = ctx.world.regional(&uid, &region);
        let table = reg
            .route_tables
            .get_mut(table_id)
            .ok_or_else(|| table_not_found(table_id))?;
        let busy = table.entries.iter_mut().any(|e| {
            matches!(
                e.status.peek(now),
                RouteEntryStatus::Pending | RouteEntryStatus::Deleting
            )
        });
        let vpc_id = table.vpc_id.clone();
        if let Some(e) = table.entries.iter().find(|e| e.destination == dest) {
            return Err(ApiError::bad(
                "RouterEntryConflict.Duplicated",
                format!(
                    "Specified route entry has conflict: route table {table_id} already has {} ({}) for {dest}.",
                    e.id,
                    e.kind.as_str()
                ),
            ));
        }
        let vpc = reg
            .vpcs
            .get(&vpc_id)
            .ok_or_else(|| vpc_not_found(&vpc_id))?;
        let vsw: Vec<Ipv4Net> = reg
            .vswitches
            .values()
            .filter(|s| s.vpc_id == vpc_id)
            .map(|s| s.cidr)
            .collect();
        (vpc_id, vpc.cidr, vsw, busy)
    };
    let cgnat: Ipv4Net = "100.64.0.0/10".parse().expect("literal");
    if overlaps(&dest, &cgnat) && dest.prefix_len() >= 10 {
        return Err(ApiError::bad(
            "InvalidDestinationCidrBlock.Forbidden",
            format!("The destination {dest} is inside 100.64.0.0/10, which is reserved."),
        ));
    }
    if let Some(c) = vsw_cidrs.iter().find(|c| c.contains(&dest)) {
        return Err(ApiError::bad(
            "InvalidDestinationCidrBlock.Overlapped",
            format!(
                "The destination {dest} is inside vSwitch CIDR {c} of VPC {vpc_id} (VPC CIDR {vpc_cidr})."
            ),
        ));
    }
    match hop_type {
        "VpcPeer" => {
            let peering = ctx
                .world
                .peering_mut(hop_id)
                .map(|(_, _, p)| p)
                .filter(|p| p.has_side(&uid, &region, &vpc_id))
                .ok_or_else(|| {
                    ApiError::bad(
                        "InvalidNextHopId.NotFound",
                        format!(
                            "The next hop {hop_id} is not a peering connection of VPC {vpc_id}."
                        ),
                    )
                })?;
            let s = peering.status.peek(now);
            if s != PeeringStatus::Activated {
                return Err(ApiError::bad(
                    "IncorrectStatus.VpcPeer",
                    format!(
                        "The peering connection {hop_id} is {s}; a route can use it only when it is Activated."
                    ),
                ));
            }
        }
        "Attachment" => {
            // A Detached attachment is gone (see cbn's attachment_region).
            let s = ctx
                .world
                .regions
                .values_mut()
                .flat_map(|r| r.tr_vpc_attachments.values_mut())
                .filter(|a| a.id == hop_id && a.vpc_id == vpc_id && a.vpc_owner_uid == uid && a.vpc_region == region)
                .find_map(|a| Some(a.status.peek(now)).filter(|s| *s != AttachmentStatus::Detached))
                .ok_or_else(|| {
                    ApiError::bad(
                        "InvalidNextHopId.NotFound",
                        format!("The next hop {hop_id} is not a transit router attachment of VPC {vpc_id}."),
                    )
                })?;
            if s != AttachmentStatus::Attached {
                return Err(ApiError::bad(
                    "IncorrectStatus.Attachment",
                    format!(
                        "The transit router attachment {hop_id} is {s}; a route can use it only when it is Attached."
                    ),
                ));
            }
        }
        other => {
            return Err(ApiError::bad(
                "InvalidNextHopType.NotSupport",
                format!(
                    "The simulator models next hop types VpcPeer and Attachment, not {other:?}."
                ),
            ));
        }
    }
    if busy {
        return Err(ApiError::bad(
            "TaskConflict",
            format!(
                "Another route entry of route table {table_id} is being changed; retry when it is Available."
            ),
        ));
    }
    ctx.dry_run()?;
    let id = ctx.idempotent(|ctx| {
        let id = ctx.world.ids.regional("rte", &region);
        let pacer = ctx.world.pacer;
        let table = ctx
            .world
            .regional(&uid, &region)
            .route_tables
            .get_mut(table_id)
            .expect("checked");
        table.entries.push(RouteEntry {
            id: id.clone(),
            route_table_id: table_id.to_string(),
            destination: dest,
            kind: RouteEntryKind::Custom,
            origin: "CustomCreate".into(),
            name,
            description,
            next_hops: vec![NextHop {
                kind: hop_type.to_string(),
                id: hop_id.to_string(),
                weight: None,
            }],
            status: Lifecycle::start(
                RouteEntryStatus::Pending,
                &[(RouteEntryStatus::Available, durations::ROUTE_ENTRY)],
                &pacer,
                now,
            ),
            created: utc_now(),
        });
        Ok(id)
    })?;
    Ok(json!({"RouteEntryId": id}))
}

fn delete_route_entry(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let entry_id = ctx.opt("RouteEntryId");
    let table_id = ctx.opt("RouteTableId");
    let dest = ctx.cidr("DestinationCidrBlock")?;
    let hop_id = ctx.opt("NextHopId");
    if entry_id.is_none() && (table_id.is_none() || dest.is_none()) {
        return Err(ApiError::missing("RouteEntryId"));
    }
    let uid = ctx.uid().to_string();
    let region = ctx.opt_region()?;
    let now = ctx.now;
    let key = ctx
        .world
        .regions
        .iter()
        .filter(|((u, r), _)| *u == uid && region.as_ref().is_none_or(|x| x == r))
        .find(|(_, reg)| {
            reg.route_tables.values().any(|t| {
                table_id.is_none_or(|id| t.id == id)
                    && t.entries.iter().any(|e| {
                        entry_id.is_none_or(|id| e.id == id)
                            && dest.is_none_or(|d| e.destination == d)
                            && hop_id.is_none_or(|h| e.next_hops.iter().any(|n| n.id == h))
                    })
            })
        })
        .map(|(k, _)| k.clone());
    let not_found = || {
        ApiError::not_found(
            "InvalidRouteEntry.NotFound",
            format!(
                "The specified route entry {} does not exist.",
                entry_id
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{dest:?} in {table_id:?}"))
            ),
        )
    };
    let (u, r) = key.ok_or_else(not_found)?;
    let reg = ctx.world.regional(&u, &r);
    for t in reg.route_tables.values_mut() {
        if table_id.is_some_and(|id| t.id != id) {
            continue;
        }
        if let Some(pos) = t.entries.iter().position(|e| {
            entry_id.is_none_or(|id| e.id == id)
                && dest.is_none_or(|d| e.destination == d)
                && hop_id.is_none_or(|h| e.next_hops.iter().any(|n| n.id == h))
        }) {
            let e = &mut t.entries[pos];
            if e.kind == RouteEntryKind::System {
                return Err(ApiError::bad(
                    "OperationDenied.SystemRoute",
                    format!("The system route entry {} cannot be deleted.", e.id),
                ));
            }
            if e.status.peek(now) != RouteEntryStatus::Available {
                return Err(ApiError::bad(
                    "IncorrectRouteEntryStatus",
                    format!(
                        "The route entry {} is {}; it can be deleted when it is Available.",
                        e.id,
                        e.status.current()
                    ),
                ));
            }
            ctx.dry_run()?;
            let reg = ctx.world.regional(&u, &r);
            for t in reg.route_tables.values_mut() {
                t.entries.retain(|x| {
                    !(table_id.is_none_or(|id| x.route_table_id == id)
                        && entry_id.is_none_or(|id| x.id == id)
                        && dest.is_none_or(|d| x.destination == d)
                        && hop_id.is_none_or(|h| x.next_hops.iter().any(|n| n.id == h))
                        && x.kind != RouteEntryKind::System)
                });
            }
            return Ok(json!({}));
        }
    }
    Err(not_found())
}

/// Validates a grant request's instance (the caller's VPC) and CEN; shared with CBN's
/// `GrantInstanceToTransitRouter`.
pub fn grant(ctx: &mut Ctx<'_>, region: &str, order_type: &str) -> ApiResult<Value> {
    let cen_id = ctx.req("CenId")?;
    let cen_owner = ctx.req_parse::<u64>("CenOwnerId")?.to_string();
    let instance = ctx.req("InstanceId")?;
    let kind = ctx.req("InstanceType")?;
    if kind != "VPC" {
        return Err(ApiError::invalid(
            "InstanceType",
            format!("the simulator models VPC grants, not {kind:?}"),
        ));
    }
    let uid = ctx.uid().to_string();
    if !ctx.world.regional(&uid, region).vpcs.contains_key(instance) {
        return Err(ApiError::bad(
            "InvalidInstanceId.NotFound",
            format!("The instance {instance} does not exist in this account and region {region}."),
        ));
    }
    if ctx.world.cen_owner(cen_id).as_deref() != Some(cen_owner.as_str()) {
        return Err(ApiError::bad(
            "InvalidCenInstanceId.NotFound",
            format!("CEN {cen_id} owned by {cen_owner} does not exist."),
        ));
    }
    let reg = ctx.world.regional(&uid, region);
    if reg
        .cen_grants
        .iter()
        .any(|g| g.cen_id == cen_id && g.instance_id == instance)
    {
        return Err(ApiError::bad(
            "Forbidden.GrantRuleExist",
            format!("The instance {instance} is already granted to CEN {cen_id}."),
        ));
    }
    ctx.dry_run()?;
    let reg = ctx.world.regional(&uid, region);
    reg.cen_grants.push(CenGrant {
        cen_id: cen_id.to_string(),
        cen_owner_uid: cen_owner,
        instance_id: instance.to_string(),
        instance_type: kind.to_string(),
        order_type: order_type.to_string(),
        created: utc_now(),
    });
    Ok(json!({}))
}

/// Removes a grant; shared with CBN's `RevokeInstanceFromTransitRouter`.
pub fn revoke(ctx: &mut Ctx<'_>, region: &str) -> ApiResult<Value> {
    let cen_id = ctx.req("CenId")?;
    let instance = ctx.req("InstanceId")?;
    ctx.req("InstanceType")?;
    let uid = ctx.uid().to_string();
    // Detaching still counts (the cloud refuses the revoke until the detach completes).
    let now = ctx.now;
    let attached = ctx
        .world
        .regions
        .values_mut()
        .flat_map(|r| r.tr_vpc_attachments.values_mut())
        .filter(|a| a.cen_id == cen_id && a.vpc_id == instance && a.vpc_owner_uid == uid)
        .any(|a| a.status.peek(now) != AttachmentStatus::Detached);
    let reg = ctx.world.regional(&uid, region);
    let pos = reg
        .cen_grants
        .iter()
        .position(|g| g.cen_id == cen_id && g.instance_id == instance)
        .ok_or_else(|| {
            ApiError::bad(
                "InvalidGrantRule.NotFound",
                format!("The instance {instance} is not granted to CEN {cen_id}."),
            )
        })?;
    if attached {
        return Err(ApiError::bad(
            "IncorrectStatus",
            format!("The instance {instance} is still attached to CEN {cen_id}; detach it first."),
        ));
    }
    ctx.dry_run()?;
    ctx.world.regional(&uid, region).cen_grants.remove(pos);
    Ok(json!({}))
}

fn grant_instance_to_cen(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let region = ctx.region()?;
    ctx.idempotent(|ctx| grant(ctx, &region, "PayByCenOwner").map(|_| String::new()))?;
    Ok(json!({}))
}

fn revoke_instance_from_cen(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let region = ctx.region()?;
    revoke(ctx, &region)
}

fn describe_grant_rules_to_cen(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let region = ctx.region()?;
    let instance = ctx.req("InstanceId")?;
    ctx.req("InstanceType")?;
    let page = ctx.page(10, 50)?;
    let uid = ctx.uid().to_string();
    let reg = ctx.world.regional(&uid, &region);
    if !reg.vpcs.contains_key(instance) {
        return Err(ApiError::bad(
            "InvalidInstanceId.NotFound",
            format!("The instance {instance} does not exist in this account and region."),
        ));
    }
    let rules: Vec<Value> = reg
        .cen_grants
        .iter()
        .filter(|g| g.instance_id == instance)
        .map(|g| json!({"CenInstanceId": g.cen_id, "CenOwnerId": uid_num(&g.cen_owner_uid), "CreationTime": g.created}))
        .collect();
    Ok(
        json!({"CenGrantRules": {"CbnGrantRule": page.slice(&rules)}, "TotalCount": rules.len(),
              "PageNumber": page.number, "PageSize": page.size}),
    )
}
