//! VpcPeer 2022-01-01: peering connections between two VPCs, possibly in two accounts and two
//! regions. Lifecycle: create -> Creating -> Accepting (cross-account) or Activated (same
//! account); accept -> Updating -> Activated; reject -> Rejected; delete -> Deleting -> gone.

use crate::error::{ApiError, ApiResult};
use crate::lifecycle::Lifecycle;
use crate::products::vpc::uid_num;
use crate::registry::{Product, Registry};
use crate::request::Ctx;
use crate::state::*;
use serde_json::{Value, json};

pub static PRODUCT: Product = Product {
    code: "VpcPeer",
    version: "2022-01-01",
    host: "vpcpeer.aliyuncs.com",
};

pub fn register(r: &mut Registry) {
    r.add(&PRODUCT, "CreateVpcPeerConnection", create);
    r.add(&PRODUCT, "AcceptVpcPeerConnection", accept);
    r.add(&PRODUCT, "RejectVpcPeerConnection", reject);
    r.add(&PRODUCT, "GetVpcPeerConnectionAttribute", get);
    r.add(&PRODUCT, "ListVpcPeerConnections", list);
    r.add(&PRODUCT, "DeleteVpcPeerConnection", delete);
}

fn not_found(id: &str) -> ApiError {
    ApiError::bad(
        "ResourceNotFound.InstanceId",
        format!("The peering connection {id} does not exist or is not visible to this account."),
    )
}

fn cidr_of(world: &World, uid: &str, region: &str, vpc: &str) -> Vec<String> {
    world
        .regional_ref(uid, region)
        .and_then(|r| r.vpcs.get(vpc))
        .map(|v| vec![v.cidr.to_string()])
        .unwrap_or_default()
}

fn peering_json(world: &World, p: &VpcPeering, status: PeeringStatus) -> Value {
    json!({
        "InstanceId": p.id, "Name": p.name, "Description": p.description,
        "Status": status.as_str(), "BizStatus": "Normal",
        "OwnerId": uid_num(&p.owner_uid), "RegionId": p.region,
        "Vpc": {"VpcId": p.vpc_id, "Ipv4Cidrs": cidr_of(world, &p.owner_uid, &p.region, &p.vpc_id), "Ipv6Cidrs": []},
        "AcceptingOwnerUid": uid_num(&p.accepting_uid), "AcceptingRegionId": p.accepting_region,
        "AcceptingVpc": {"VpcId": p.accepting_vpc_id,
            "Ipv4Cidrs": cidr_of(world, &p.accepting_uid, &p.accepting_region, &p.accepting_vpc_id), "Ipv6Cidrs": []},
        "Bandwidth": p.bandwidth, "LinkType": p.link_type,
        "GmtCreate": p.created, "GmtModified": p.modified,
        "GmtExpired": if matches!(status, PeeringStatus::Accepting | PeeringStatus::Expired) { p.created.clone() } else { String::new() },
        "ResourceGroupId": p.resource_group_id, "ManagedService": "", "Tags": [],
    })
}

/// A peering the caller can see (either side), with its status after a client read.
fn visible<'w>(
    world: &'w mut World,
    uid: &str,
    id: &str,
    now: std::time::Instant,
) -> ApiResult<&'w mut VpcPeering> {
    let (_, _, p) = world.peering_mut(id).ok_or_else(|| not_found(id))?;
    if p.owner_uid != uid && p.accepting_uid != uid {
        return Err(not_found(id));
    }
    if p.status.peek(now) == PeeringStatus::Deleted {
        return Err(not_found(id));
    }
    Ok(p)
}

fn create(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let region = ctx.region()?;
    let vpc_id = ctx.req("VpcId")?;
    let acc_uid = ctx.req_parse::<u64>("AcceptingAliUid")?.to_string();
    let acc_region = ctx.req("AcceptingRegionId")?.to_string();
    let acc_vpc = ctx.req("AcceptingVpcId")?;
    ctx.check_region(&acc_region)?;
    let bandwidth = ctx.parse::<i64>("Bandwidth")?;
    let link_type = ctx.opt("LinkType").map(str::to_string);
    let name = ctx.opt("Name").unwrap_or_default().to_string();
    let description = ctx.opt("Description").unwrap_or_default().to_string();
    let resource_group = ctx.opt("ResourceGroupId").unwrap_or_default().to_string();
    if let Some(id) = ctx.replay()? {
        return Ok(json!({"InstanceId": id}));
    }
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let vpc_status = ctx
        .world
        .regional(&uid, &region)
        .vpcs
        .get_mut(vpc_id)
        .map(|v| v.status.peek(now))
        .ok_or_else(|| {
            ApiError::bad(
                "ResourceNotFound.VpcId",
                format!("The VPC {vpc_id} does not exist in this account and region {region}."),
            )
        })?;
    if vpc_status != VpcStatus::Available {
        return Err(ApiError::bad(
            "IncorrectStatus.Vpc",
            format!("The VPC {vpc_id} is {vpc_status}."),
        ));
    }
    if ctx.world.account(&acc_uid).is_none()
        || !ctx
            .world
            .regional_ref(&acc_uid, &acc_region)
            .is_some_and(|r| r.vpcs.contains_key(acc_vpc))
    {
        return Err(ApiError::bad(
            "IllegalParam.AcceptingVpcId",
            format!(
                "The accepting VPC {acc_vpc} does not exist in account {acc_uid}, region {acc_region}."
            ),
        ));
    }
    if acc_uid == uid && acc_region == region && acc_vpc == vpc_id {
        return Err(ApiError::bad(
            "IllegalParam.AcceptingVpcId",
            "A VPC cannot peer with itself.",
        ));
    }
    let inter_region = acc_region != region;
    if !inter_region && (bandwidth.is_some() || link_type.is_some()) {
        return Err(ApiError::bad(
            "IllegalParam.Bandwidth",
            "Bandwidth and LinkType apply to inter-region peering only.",
        ));
    }
    let existing = ctx
        .world
        .regions
        .values_mut()
        .flat_map(|r| r.peerings.values_mut())
        .find_map(|p| {
            (p.has_side(&uid, &region, vpc_id)
                && p.has_side(&acc_uid, &acc_region, acc_vpc)
                && !matches!(
                    p.status.peek(now),
                    PeeringStatus::Deleted | PeeringStatus::Rejected | PeeringStatus::Expired
                ))
            .then(|| p.id.clone())
        });
    ctx.dry_run()?;
    let id = ctx.idempotent(|ctx| {
        if let Some(id) = existing {
            return Err(ApiError::bad(
                "ResourceAlreadyExist.VpcPeer",
                format!("The VPCs {vpc_id} and {acc_vpc} are already peered by {id}."),
            ));
        }
        let id = ctx.world.ids.plain("pcc", 21);
        let pacer = ctx.world.pacer;
        let next = if acc_uid == uid {
            PeeringStatus::Activated
        } else {
            PeeringStatus::Accepting
        };
        let created = utc_now();
        let p = VpcPeering {
            id: id.clone(),
            name,
            description,
            owner_uid: uid.clone(),
            region: region.clone(),
            vpc_id: vpc_id.to_string(),
            accepting_uid: acc_uid.clone(),
            accepting_region: acc_region.clone(),
            accepting_vpc_id: acc_vpc.to_string(),
            bandwidth: bandwidth.unwrap_or(if inter_region { 1024 } else { -1 }),
            link_type: link_type.unwrap_or_else(|| {
                if inter_region {
                    "Gold".into()
                } else {
                    String::new()
                }
            }),
            resource_group_id: resource_group,
            status: Lifecycle::start(
                PeeringStatus::Creating,
                &[(next, durations::PEERING_CREATE)],
                &pacer,
                now,
            ),
            created: created.clone(),
            modified: created,
        };
        ctx.world
            .regional(&uid, &region)
            .peerings
            .insert(id.clone(), p);
        Ok(id)
    })?;
    Ok(json!({"InstanceId": id}))
}

/// Accept and reject: by the accepting account only, while the peering is Accepting.
fn answer(ctx: &mut Ctx<'_>, accept: bool) -> ApiResult<Value> {
    let id = ctx.req("InstanceId")?;
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let pacer = ctx.world.pacer;
    let dry_run = ctx.bool("DryRun")? == Some(true);
    let p = visible(ctx.world, &uid, id, now)?;
    if p.accepting_uid != uid {
        return Err(ApiError::bad(
            "Forbidden.NoPermission",
            format!(
                "Only the accepting account {} can accept or reject {id}.",
                p.accepting_uid
            ),
        ));
    }
    let s = p.status.peek(now);
    if accept && matches!(s, PeeringStatus::Updating | PeeringStatus::Activated) {
        // Accepting twice is harmless: the cloud answers success while it is already accepted.
        return Ok(json!({}));
    }
    if s != PeeringStatus::Accepting {
        return Err(ApiError::bad(
            "IncorrectStatus.VpcPeer",
            format!(
                "The peering connection {id} is {s}; it can be accepted or rejected only while Accepting."
            ),
        ));
    }
    if dry_run {
        return Err(ApiError::dry_run());
    }
    if accept {
        p.status.begin(
            PeeringStatus::Updating,
            &[(PeeringStatus::Activated, durations::PEERING_ACCEPT)],
            &pacer,
            now,
        );
    } else {
        p.status.force(PeeringStatus::Rejected, now);
    }
    p.modified = utc_now();
    Ok(json!({}))
}

fn accept(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    answer(ctx, true)
}

fn reject(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    answer(ctx, false)
}

fn get(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let id = ctx.req("InstanceId")?;
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let p = visible(ctx.world, &uid, id, now)?;
    let status = p.status.poll(now);
    let p = p.clone();
    Ok(peering_json(ctx.world, &p, status))
}

fn list(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let region = ctx.opt_region()?;
    let ids = ctx.list("InstanceId");
    let single = ctx.opt("InstanceId");
    let name = ctx.opt("Name");
    let vpcs: Vec<&str> = ctx
        .comma_list("VpcId")
        .into_iter()
        .chain(ctx.list("VpcId"))
        .collect();
    let page = ctx.token_page("MaxResults", 20, 100)?;
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let mut found = Vec::new();
    for p in ctx
        .world
        .regions
        .values_mut()
        .flat_map(|r| r.peerings.values_mut())
    {
        let mine = (p.owner_uid == uid && region.as_ref().is_none_or(|r| *r == p.region))
            || (p.accepting_uid == uid && region.as_ref().is_none_or(|r| *r == p.accepting_region));
        if !mine
            || p.status.peek(now) == PeeringStatus::Deleted
            || !(ids.is_empty() || ids.contains(&p.id.as_str()))
            || single.is_some_and(|s| s != p.id)
            || name.is_some_and(|n| n != p.name)
            || !(vpcs.is_empty()
                || vpcs.contains(&p.vpc_id.as_str())
                || vpcs.contains(&p.accepting_vpc_id.as_str()))
        {
            continue;
        }
        found.push(p.id.clone());
    }
    found.sort();
    let (slice, next) = page.slice(&found);
    let mut out = Vec::new();
    for id in slice {
        let p = ctx.world.peering_mut(id).expect("listed").2;
        let status = p.status.poll(now);
        let p = p.clone();
        out.push(peering_json(ctx.world, &p, status));
    }
    Ok(
        json!({"VpcPeerConnects": out, "TotalCount": found.len(), "NextToken": next, "MaxResults": page.size}),
    )
}

fn delete(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let id = ctx.req("InstanceId")?.to_string();
    let force = ctx.bool("Force")?.unwrap_or(false);
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let pacer = ctx.world.pacer;
    let s = visible(ctx.world, &uid, &id, now)?.status.peek(now);
    if matches!(
        s,
        PeeringStatus::Creating | PeeringStatus::Updating | PeeringStatus::Deleting
    ) {
        return Err(ApiError::bad(
            "IncorrectStatus.VpcPeer",
            format!("The peering connection {id} is {s}; retry when the change completes."),
        ));
    }
    let routes: Vec<String> = ctx
        .world
        .regions
        .values()
        .flat_map(|r| r.route_tables.values())
        .flat_map(|t| &t.entries)
        .filter(|e| {
            e.next_hops
                .iter()
                .any(|h| h.kind == "VpcPeer" && h.id == id)
        })
        .map(|e| e.id.clone())
        .collect();
    if !routes.is_empty() && !force {
        return Err(ApiError::bad(
            "OperationDenied.RouteEntryExist",
            format!(
                "Route entries {} still point at {id}; delete them first or pass Force=true.",
                routes.join(", ")
            ),
        ));
    }
    ctx.dry_run()?;
    for r in ctx.world.regions.values_mut() {
        for t in r.route_tables.values_mut() {
            t.entries.retain(|e| !routes.contains(&e.id));
        }
    }
    let p = ctx.world.peering_mut(&id).expect("visible").2;
    p.status.begin(
        PeeringStatus::Deleting,
        &[(PeeringStatus::Deleted, durations::PEERING_CREATE)],
        &pacer,
        now,
    );
    p.modified = utc_now();
    Ok(json!({}))
}
