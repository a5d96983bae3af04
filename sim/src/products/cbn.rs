//! CBN (CEN) 2017-09-12: CEN instances, transit routers, VPC attachments (cross-account with
//! `VpcOwnerId` and a grant), inter-region peer attachments, route tables, associations,
//! propagations and computed route entries.

use crate::error::{ApiError, ApiResult};
use crate::lifecycle::Lifecycle;
use crate::products::vpc::{self, uid_num};
use crate::registry::{Product, Registry};
use crate::request::Ctx;
use crate::state::*;
use serde_json::{Value, json};
use std::time::Instant;

pub static PRODUCT: Product = Product {
    code: "Cbn",
    version: "2017-09-12",
    host: "cbn.aliyuncs.com",
};

pub fn register(r: &mut Registry) {
    r.add(&PRODUCT, "CreateCen", create_cen);
    r.add(&PRODUCT, "DescribeCens", describe_cens);
    r.add(&PRODUCT, "DeleteCen", delete_cen);
    r.add(&PRODUCT, "CreateTransitRouter", create_transit_router);
    r.add(&PRODUCT, "ListTransitRouters", list_transit_routers);
    r.add(&PRODUCT, "DeleteTransitRouter", delete_transit_router);
    r.add(
        &PRODUCT,
        "ListTransitRouterAvailableResource",
        list_transit_router_available_resource,
    );
    r.add(
        &PRODUCT,
        "GrantInstanceToTransitRouter",
        grant_instance_to_transit_router,
    );
    r.add(
        &PRODUCT,
        "RevokeInstanceFromTransitRouter",
        revoke_instance_from_transit_router,
    );
    r.add(
        &PRODUCT,
        "ListGrantVSwitchesToCen",
        list_grant_vswitches_to_cen,
    );
    r.add(
        &PRODUCT,
        "CreateTransitRouterVpcAttachment",
        create_vpc_attachment,
    );
    r.add(
        &PRODUCT,
        "ListTransitRouterVpcAttachments",
        list_vpc_attachments,
    );
    r.add(
        &PRODUCT,
        "DeleteTransitRouterVpcAttachment",
        delete_vpc_attachment,
    );
    r.add(
        &PRODUCT,
        "CreateTransitRouterPeerAttachment",
        create_peer_attachment,
    );
    r.add(
        &PRODUCT,
        "ListTransitRouterPeerAttachments",
        list_peer_attachments,
    );
    r.add(
        &PRODUCT,
        "DeleteTransitRouterPeerAttachment",
        delete_peer_attachment,
    );
    r.add(&PRODUCT, "ListTransitRouterRouteTables", list_route_tables);
    r.add(
        &PRODUCT,
        "AssociateTransitRouterAttachmentWithRouteTable",
        associate,
    );
    r.add(
        &PRODUCT,
        "EnableTransitRouterRouteTablePropagation",
        enable_propagation,
    );
    r.add(
        &PRODUCT,
        "DissociateTransitRouterAttachmentFromRouteTable",
        dissociate,
    );
    r.add(
        &PRODUCT,
        "DisableTransitRouterRouteTablePropagation",
        disable_propagation,
    );
    r.add(
        &PRODUCT,
        "ListTransitRouterRouteTableAssociations",
        list_associations,
    );
    r.add(
        &PRODUCT,
        "ListTransitRouterRouteTablePropagations",
        list_propagations,
    );
    r.add(
        &PRODUCT,
        "ListTransitRouterRouteEntries",
        list_route_entries,
    );
}

fn cen_not_found(id: &str) -> ApiError {
    ApiError::bad(
        "ParameterCenInstanceId",
        format!("The CEN instance {id} does not exist in this account."),
    )
}

fn tr_not_found(id: &str) -> ApiError {
    ApiError::bad(
        "InvalidTransitRouterId.NotFound",
        format!("The transit router {id} does not exist in this account."),
    )
}

fn attachment_not_found(id: &str) -> ApiError {
    ApiError::bad(
        "InvalidTransitRouterAttachmentId.NotFound",
        format!("The transit router attachment {id} does not exist in this account."),
    )
}

fn table_not_found(id: &str) -> ApiError {
    ApiError::bad(
        "InvalidTransitRouterRouteTableId.NotFound",
        format!("The transit router route table {id} does not exist in this account."),
    )
}

/// The caller's CEN, checked.
fn own_cen<'w>(ctx: &'w mut Ctx<'_>, id: &str) -> ApiResult<&'w mut Cen> {
    let uid = ctx.uid().to_string();
    ctx.world
        .global(&uid)
        .cens
        .get_mut(id)
        .ok_or_else(|| cen_not_found(id))
}

/// The region of one of the caller's transit routers.
fn tr_region(world: &World, uid: &str, tr: &str) -> Option<String> {
    world
        .regions
        .iter()
        .find(|((u, _), r)| u == uid && r.transit_routers.contains_key(tr))
        .map(|((_, r), _)| r.clone())
}

/// Resolves `TransitRouterId`, or `CenId` + `RegionId`, to (region, TR id) of the caller.
fn resolve_tr(ctx: &mut Ctx<'_>) -> ApiResult<(String, String)> {
    let uid = ctx.uid().to_string();
    if let Some(tr) = ctx.opt("TransitRouterId") {
        let region = tr_region(ctx.world, &uid, tr).ok_or_else(|| tr_not_found(tr))?;
        return Ok((region, tr.to_string()));
    }
    let cen = ctx.req("CenId")?;
    let region = ctx.region()?;
    own_cen(ctx, cen)?;
    let tr = ctx
        .world
        .regional(&uid, &region)
        .transit_routers
        .values()
        .find(|t| t.cen_id == cen)
        .map(|t| t.id.clone())
        .ok_or_else(|| {
            ApiError::bad(
                "InvalidTransitRouterId.NotFound",
                format!("CEN {cen} has no transit router in {region}."),
            )
        })?;
    Ok((region, tr))
}

/// Where a caller's attachment (VPC or peer) lives. A Detached attachment is gone: the cloud
/// forgets it once detaching completes (its id is then not found). The simulator keeps the
/// record, which the admin state shows as Detached, but no API finds it.
fn attachment_region(world: &mut World, uid: &str, id: &str, now: Instant) -> Option<String> {
    world.regions.iter_mut().find_map(|((u, r), reg)| {
        if u != uid {
            return None;
        }
        let s = match reg.tr_vpc_attachments.get_mut(id) {
            Some(a) => a.status.peek(now),
            None => reg.tr_peer_attachments.get_mut(id)?.status.peek(now),
        };
        (s != AttachmentStatus::Detached).then(|| r.clone())
    })
}

fn create_cen(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    if let Some(id) = ctx.replay()? {
        return Ok(json!({"CenId": id}));
    }
    let name = ctx.opt("Name").unwrap_or_default().to_string();
    let description = ctx.opt("Description").unwrap_or_default().to_string();
    let level = ctx.opt("ProtectionLevel").unwrap_or("REDUCED").to_string();
    ctx.dry_run()?;
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let id = ctx.idempotent(|ctx| {
        let id = ctx.world.ids.plain("cen", 18);
        let pacer = ctx.world.pacer;
        ctx.world.global(&uid).cens.insert(
            id.clone(),
            Cen {
                id: id.clone(),
                name,
                description,
                protection_level: level,
                status: Lifecycle::start(
                    CenStatus::Creating,
                    &[(CenStatus::Active, durations::CEN)],
                    &pacer,
                    now,
                ),
                created: utc_now(),
            },
        );
        Ok(id)
    })?;
    Ok(json!({"CenId": id}))
}

fn describe_cens(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let page = ctx.page(10, 50)?;
    let mut ids: Vec<String> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for f in ctx.objects("Filter") {
        let key = f.get("Key").cloned().unwrap_or_default();
        let values: Vec<String> = f
            .iter()
            .filter(|(k, _)| k.starts_with("Value."))
            .map(|(_, v)| v.clone())
            .collect();
        match key.as_str() {
            "CenId" => ids.extend(values),
            "Name" => names.extend(values),
            other => {
                return Err(ApiError::invalid(
                    "Filter.N.Key",
                    format!("{other:?} is not CenId or Name"),
                ));
            }
        }
    }
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let mut out = Vec::new();
    for c in ctx.world.global(&uid).cens.values_mut() {
        if (!ids.is_empty() && !ids.contains(&c.id))
            || (!names.is_empty() && !names.contains(&c.name))
        {
            continue;
        }
        out.push(json!({
            "CenId": c.id, "Name": c.name, "Description": c.description, "Status": c.status.poll(now).as_str(),
            "ProtectionLevel": c.protection_level, "CreationTime": c.created, "ResourceGroupId": "",
            "CenBandwidthPackageIds": {"CenBandwidthPackageId": []}, "Tags": {"Tag": []},
        }));
    }
    Ok(
        json!({"Cens": {"Cen": page.slice(&out)}, "TotalCount": out.len(), "PageNumber": page.number, "PageSize": page.size}),
    )
}

fn delete_cen(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let id = ctx.req("CenId")?;
    own_cen(ctx, id)?;
    let uid = ctx.uid().to_string();
    if let Some(tr) = ctx
        .world
        .regions
        .iter()
        .filter(|((u, _), _)| *u == uid)
        .flat_map(|(_, r)| r.transit_routers.values())
        .find(|t| t.cen_id == id)
    {
        return Err(ApiError::bad(
            "InvalidOperation.CenInstanceStatus",
            format!(
                "CEN {id} still has transit router {}; delete it first.",
                tr.id
            ),
        ));
    }
    ctx.dry_run()?;
    ctx.world.global(&uid).cens.remove(id);
    Ok(json!({}))
}

fn create_transit_router(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    if let Some(id) = ctx.replay()? {
        return Ok(json!({"TransitRouterId": id}));
    }
    let cen = ctx.req("CenId")?;
    let region = ctx.region()?;
    let name = ctx.opt("TransitRouterName").unwrap_or_default().to_string();
    let description = ctx
        .opt("TransitRouterDescription")
        .unwrap_or_default()
        .to_string();
    let now = ctx.now;
    let s = own_cen(ctx, cen)?.status.peek(now);
    if s != CenStatus::Active {
        return Err(ApiError::bad(
            "InvalidOperation.CenInstanceStatus",
            format!("CEN {cen} is {s}; retry when it is Active."),
        ));
    }
    let uid = ctx.uid().to_string();
    if let Some(t) = ctx
        .world
        .regional(&uid, &region)
        .transit_routers
        .values()
        .find(|t| t.cen_id == cen)
    {
        return Err(ApiError::bad(
            "InstanceExist.TransitRouter",
            format!("CEN {cen} already has transit router {} in {region}.", t.id),
        ));
    }
    ctx.dry_run()?;
    let id = ctx.idempotent(|ctx| {
        let id = ctx.world.ids.regional("tr", &region);
        let table = ctx.world.ids.regional("vtb", &region);
        let pacer = ctx.world.pacer;
        ctx.world.regional(&uid, &region).transit_routers.insert(
            id.clone(),
            TransitRouter {
                id: id.clone(),
                cen_id: cen.to_string(),
                name,
                description,
                kind: "Enterprise".into(),
                status: Lifecycle::start(
                    TrStatus::Creating,
                    &[(TrStatus::Active, durations::TRANSIT_ROUTER)],
                    &pacer,
                    now,
                ),
                route_tables: vec![TrRouteTable {
                    id: table,
                    kind: RouteTableKind::System,
                    name: String::new(),
                    status: Lifecycle::settled(TrRouteTableStatus::Active),
                    associations: vec![],
                    propagations: vec![],
                    static_entries: vec![],
                }],
                created: utc_now(),
            },
        );
        Ok(id)
    })?;
    Ok(json!({"TransitRouterId": id}))
}

/// Deletes an Active transit router with no live attachment (the cloud refuses otherwise).
fn delete_transit_router(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let id = ctx.req("TransitRouterId")?.to_string();
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let not_found = || {
        ApiError::bad(
            "InvalidTransitRouterId.NotFound",
            format!("The transit router {id} does not exist."),
        )
    };
    let region = ctx
        .world
        .regions
        .iter()
        .find(|((u, _), r)| *u == uid && r.transit_routers.contains_key(&id))
        .map(|((_, r), _)| r.clone())
        .ok_or_else(not_found)?;
    let mut live = Vec::new();
    for reg in ctx.world.regions.values_mut() {
        for a in reg.tr_vpc_attachments.values_mut() {
            if a.transit_router_id == id && a.status.peek(now) != AttachmentStatus::Detached {
                live.push(a.id.clone());
            }
        }
        for a in reg.tr_peer_attachments.values_mut() {
            let touches = a.transit_router_id == id || a.peer_transit_router_id == id;
            if touches && a.status.peek(now) != AttachmentStatus::Detached {
                live.push(a.id.clone());
            }
        }
    }
    let reg = ctx.world.regional(&uid, &region);
    let t = reg.transit_routers.get_mut(&id).ok_or_else(not_found)?;
    let s = t.status.peek(now);
    if s != TrStatus::Active {
        return Err(ApiError::bad(
            "IncorrectStatus.TransitRouter",
            format!("The transit router {id} is {s}; retry when it is Active."),
        ));
    }
    if !live.is_empty() {
        return Err(ApiError::bad(
            "IncorrectStatus.TransitRouter",
            format!(
                "The transit router {id} still has attachments {}; delete them first.",
                live.join(", ")
            ),
        ));
    }
    ctx.dry_run()?;
    ctx.world
        .regional(&uid, &region)
        .transit_routers
        .remove(&id);
    Ok(json!({}))
}

fn list_transit_routers(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let cen = ctx.opt("CenId");
    let region = ctx.opt_region()?;
    let tr = ctx.opt("TransitRouterId");
    let status = ctx.opt("Status");
    let kind = ctx.opt("Type");
    let page = ctx.page(10, 50)?;
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let mut out = Vec::new();
    for ((u, r), reg) in ctx.world.regions.iter_mut() {
        if *u != uid || region.as_ref().is_some_and(|x| x != r) {
            continue;
        }
        for t in reg.transit_routers.values_mut() {
            let s = t.status.poll(now);
            if cen.is_some_and(|c| c != t.cen_id)
                || tr.is_some_and(|x| x != t.id)
                || status.is_some_and(|x| x != s.as_str())
                || kind.is_some_and(|k| k != t.kind)
            {
                continue;
            }
            out.push(json!({
                "TransitRouterId": t.id, "CenId": t.cen_id, "RegionId": r, "Status": s.as_str(),
                "Type": t.kind, "AliUid": uid_num(&uid), "TransitRouterName": t.name,
                "TransitRouterDescription": t.description, "CreationTime": t.created,
                "SupportMulticast": false, "TransitRouterCidrList": [], "Tags": [],
            }));
        }
    }
    Ok(
        json!({"TransitRouters": page.slice(&out), "TotalCount": out.len(), "PageNumber": page.number, "PageSize": page.size}),
    )
}

fn grant_instance_to_transit_router(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let region = ctx.region()?;
    let order = ctx.opt("OrderType").unwrap_or("PayByCenOwner").to_string();
    vpc::grant(ctx, &region, &order)
}

fn revoke_instance_from_transit_router(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let region = ctx.region()?;
    vpc::revoke(ctx, &region)
}

/// The grant allowing the caller's CEN to attach `vpc` of `owner` in `region`.
fn granted(
    world: &World,
    owner: &str,
    region: &str,
    vpc: &str,
    cen: &str,
    cen_owner: &str,
) -> bool {
    world.regional_ref(owner, region).is_some_and(|r| {
        r.cen_grants
            .iter()
            .any(|g| g.instance_id == vpc && g.cen_id == cen && g.cen_owner_uid == cen_owner)
    })
}

/// The zones where a transit router of the region can place its interfaces: the region's zones
/// in the scenario, the first two as master and slave (what older APIs and ROS still require).
fn list_transit_router_available_resource(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let region = ctx.region()?;
    let zones = ctx.world.zones.get(&region).cloned().unwrap_or_default();
    let master: Vec<&String> = zones.iter().take(1).collect();
    let slave: Vec<&String> = zones.iter().skip(1).take(1).collect();
    Ok(json!({
        "MasterZones": master,
        "SlaveZones": slave,
        "AvailableZones": zones,
        "SupportMulticast": false,
    }))
}

fn list_grant_vswitches_to_cen(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let cen = ctx.req("CenId")?;
    let region = ctx.region()?;
    let vpc_id = ctx.req("VpcId")?;
    let zone = ctx.opt("ZoneId");
    let page = ctx.page(10, 50)?;
    own_cen(ctx, cen)?;
    let uid = ctx.uid().to_string();
    let owner = ctx
        .world
        .regions
        .iter()
        .filter(|((_, r), _)| *r == region)
        .find(|((u, _), reg)| {
            reg.vpcs.contains_key(vpc_id)
                && (*u == uid || granted(ctx.world, u, &region, vpc_id, cen, &uid))
        })
        .map(|((u, _), _)| u.clone())
        .ok_or_else(|| {
            ApiError::bad(
                "InvalidVpcId.NotFound",
                format!("VPC {vpc_id} is not yours nor granted to CEN {cen} in {region}."),
            )
        })?;
    let out: Vec<Value> = ctx
        .world
        .regional(&owner, &region)
        .vswitches
        .values()
        .filter(|s| s.vpc_id == vpc_id && zone.is_none_or(|z| s.zone == z))
        .map(|s| json!({"VSwitchId": s.id, "VSwitchName": s.name, "VpcId": s.vpc_id, "ZoneId": s.zone}))
        .collect();
    Ok(
        json!({"VSwitches": page.slice(&out), "TotalCount": out.len(), "PageNumber": page.number, "PageSize": page.size}),
    )
}

fn create_vpc_attachment(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    if let Some(id) = ctx.replay()? {
        return Ok(json!({"TransitRouterAttachmentId": id}));
    }
    let vpc_id = ctx.req("VpcId")?;
    let (region, tr_id) = resolve_tr(ctx)?;
    let uid = ctx.uid().to_string();
    let owner = ctx
        .parse::<u64>("VpcOwnerId")?
        .map(|u| u.to_string())
        .unwrap_or_else(|| uid.clone());
    let mappings = ctx.objects("ZoneMappings");
    if mappings.is_empty() {
        return Err(ApiError::missing("ZoneMappings.1.VSwitchId"));
    }
    if mappings.len() > 10 {
        return Err(ApiError::bad(
            "IllegalParam.ZoneMappings",
            "At most 10 zone mappings are allowed.",
        ));
    }
    let name = ctx
        .opt("TransitRouterAttachmentName")
        .unwrap_or_default()
        .to_string();
    let description = ctx
        .opt("TransitRouterAttachmentDescription")
        .unwrap_or_default()
        .to_string();
    let auto_publish = ctx.bool("AutoPublishRouteEnabled")?.unwrap_or(false);
    let charge = ctx.opt("ChargeType").unwrap_or("POSTPAY").to_string();
    let now = ctx.now;
    let (cen_id, tr_status) = {
        let t = ctx
            .world
            .regional(&uid, &region)
            .transit_routers
            .get_mut(&tr_id)
            .expect("resolved");
        (t.cen_id.clone(), t.status.peek(now))
    };
    if tr_status != TrStatus::Active {
        return Err(ApiError::bad(
            "IncorrectStatus.Status",
            format!("The transit router {tr_id} is {tr_status}; retry when it is Active."),
        ));
    }
    let vpc_exists = ctx
        .world
        .regional_ref(&owner, &region)
        .is_some_and(|r| r.vpcs.contains_key(vpc_id));
    if !vpc_exists {
        return Err(ApiError::bad(
            "ParameterInstanceId",
            format!(
                "VPC {vpc_id} does not exist in account {owner}, region {region} (the transit router's region)."
            ),
        ));
    }
    if owner != uid && !granted(ctx.world, &owner, &region, vpc_id, &cen_id, &uid) {
        return Err(ApiError::forbidden(
            "Forbidden.InstanceNotGranted",
            format!(
                "VPC {vpc_id} of account {owner} is not granted to CEN {cen_id} (owner {uid}): account {owner} must call GrantInstanceToTransitRouter or GrantInstanceToCen first."
            ),
        ));
    }
    let mut zones: Vec<ZoneMapping> = Vec::new();
    for (i, m) in mappings.iter().enumerate() {
        let n = i + 1;
        let vsw = m
            .get("VSwitchId")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::missing(&format!("ZoneMappings.{n}.VSwitchId")))?;
        let zone = m
            .get("ZoneId")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::missing(&format!("ZoneMappings.{n}.ZoneId")))?;
        if !ctx.world.zone_exists(&region, zone) {
            return Err(ApiError::bad(
                "IllegalParam.ZoneId",
                format!("Zone {zone} is not a transit router zone of {region}."),
            ));
        }
        let reg = ctx.world.regional(&owner, &region);
        let s = reg
            .vswitches
            .get_mut(vsw.as_str())
            .filter(|s| s.vpc_id == vpc_id)
            .ok_or_else(|| {
                ApiError::bad(
                    "InvalidVSwitchId.NotFound",
                    format!("vSwitch {vsw} (ZoneMappings.{n}) is not in VPC {vpc_id}."),
                )
            })?;
        if s.zone != *zone {
            return Err(ApiError::bad(
                "IllegalParam.ZoneId",
                format!(
                    "vSwitch {vsw} (ZoneMappings.{n}) is in zone {}, not {zone}.",
                    s.zone
                ),
            ));
        }
        if s.status.peek(now) != VSwitchStatus::Available {
            return Err(ApiError::bad(
                "IncorrectStatus.VpcOrVswitch",
                format!("vSwitch {vsw} is not Available yet."),
            ));
        }
        if zones.iter().any(|z| z.zone == *zone) {
            return Err(ApiError::bad(
                "IllegalParam.ZoneMappings",
                format!("Zone {zone} appears twice in ZoneMappings."),
            ));
        }
        zones.push(ZoneMapping {
            zone: zone.clone(),
            vswitch_id: vsw.clone(),
            eni_id: String::new(),
        });
    }
    if let Some(a) = ctx
        .world
        .regional(&uid, &region)
        .tr_vpc_attachments
        .values_mut()
        .find_map(|a| {
            (a.transit_router_id == tr_id
                && a.vpc_id == vpc_id
                && a.status.peek(now) != AttachmentStatus::Detached)
                .then(|| a.id.clone())
        })
    {
        return Err(ApiError::bad(
            "InstanceExist.Attachment",
            format!("VPC {vpc_id} is already attached to transit router {tr_id} by {a}."),
        ));
    }
    ctx.dry_run()?;
    let id = ctx.idempotent(|ctx| {
        let id = ctx.world.ids.plain("tr-attach", 16);
        for z in zones.iter_mut() {
            z.eni_id = ctx.world.ids.regional("eni", &region);
        }
        let pacer = ctx.world.pacer;
        ctx.world.regional(&uid, &region).tr_vpc_attachments.insert(
            id.clone(),
            TrVpcAttachment {
                id: id.clone(),
                cen_id,
                transit_router_id: tr_id.clone(),
                vpc_id: vpc_id.to_string(),
                vpc_owner_uid: owner,
                vpc_region: region.clone(),
                zone_mappings: zones,
                name,
                description,
                auto_publish_route: auto_publish,
                charge_type: charge,
                status: Lifecycle::start(
                    AttachmentStatus::Attaching,
                    &[(AttachmentStatus::Attached, durations::ATTACHMENT)],
                    &pacer,
                    now,
                ),
                created: utc_now(),
            },
        );
        Ok(id)
    })?;
    Ok(json!({"TransitRouterAttachmentId": id}))
}

fn list_vpc_attachments(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let cen = ctx.opt("CenId");
    let region = ctx.opt_region()?;
    let tr = ctx.opt("TransitRouterId");
    let att = ctx.opt("TransitRouterAttachmentId");
    let vpc = ctx.opt("VpcId");
    let status = ctx.opt("Status");
    let page = ctx.token_page("MaxResults", 20, 100)?;
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let mut out = Vec::new();
    for ((u, r), reg) in ctx.world.regions.iter_mut() {
        if *u != uid || region.as_ref().is_some_and(|x| x != r) {
            continue;
        }
        for a in reg.tr_vpc_attachments.values_mut() {
            let s = a.status.poll(now);
            if s == AttachmentStatus::Detached
                || cen.is_some_and(|x| x != a.cen_id)
                || tr.is_some_and(|x| x != a.transit_router_id)
                || att.is_some_and(|x| x != a.id)
                || vpc.is_some_and(|x| x != a.vpc_id)
                || status.is_some_and(|x| x != s.as_str())
            {
                continue;
            }
            let zones: Vec<Value> = a
                .zone_mappings
                .iter()
                .map(|z| json!({"ZoneId": z.zone, "VSwitchId": z.vswitch_id, "NetworkInterfaceId": z.eni_id}))
                .collect();
            out.push(json!({
                "TransitRouterAttachmentId": a.id, "Status": s.as_str(), "VpcId": a.vpc_id,
                "VpcOwnerId": uid_num(&a.vpc_owner_uid), "VpcRegionId": a.vpc_region, "CenId": a.cen_id,
                "TransitRouterId": a.transit_router_id, "ResourceType": "VPC", "ZoneMappings": zones,
                "AutoPublishRouteEnabled": a.auto_publish_route, "ChargeType": a.charge_type,
                "OrderType": "PayByCenOwner", "CreationTime": a.created,
                "TransitRouterAttachmentName": a.name, "TransitRouterAttachmentDescription": a.description,
                "TransitRouterVPCAttachmentOptions": {}, "Tags": [],
            }));
        }
    }
    let (slice, next) = page.slice(&out);
    Ok(
        json!({"TransitRouterAttachments": slice, "TotalCount": out.len(), "NextToken": next, "MaxResults": page.size}),
    )
}

/// Removes associations and propagations of a deleted attachment.
fn forget_attachment(world: &mut World, id: &str) {
    for r in world.regions.values_mut() {
        for t in r.transit_routers.values_mut() {
            for rt in t.route_tables.iter_mut() {
                rt.associations.retain(|a| a.attachment_id != id);
                rt.propagations.retain(|a| a.attachment_id != id);
            }
        }
    }
}

fn delete_vpc_attachment(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let id = ctx.req("TransitRouterAttachmentId")?.to_string();
    let force = ctx.bool("Force")?.unwrap_or(false);
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let region =
        attachment_region(ctx.world, &uid, &id, now).ok_or_else(|| attachment_not_found(&id))?;
    let routes: Vec<String> = ctx
        .world
        .regions
        .values()
        .flat_map(|r| r.route_tables.values())
        .flat_map(|t| &t.entries)
        .filter(|e| {
            e.next_hops
                .iter()
                .any(|h| h.kind == "Attachment" && h.id == id)
        })
        .map(|e| e.id.clone())
        .collect();
    let pacer = ctx.world.pacer;
    let a = ctx
        .world
        .regional(&uid, &region)
        .tr_vpc_attachments
        .get_mut(&id)
        .ok_or_else(|| attachment_not_found(&id))?;
    let s = a.status.peek(now);
    if s != AttachmentStatus::Attached {
        return Err(ApiError::bad(
            "IncorrectStatus.Attachment",
            format!("The attachment {id} is {s}; retry when it is Attached."),
        ));
    }
    if !routes.is_empty() && !force {
        return Err(ApiError::bad(
            "IncorrectStatus.VpcRouteEntry",
            format!(
                "VPC route entries {} still point at {id}; delete them first or pass Force=true.",
                routes.join(", ")
            ),
        ));
    }
    ctx.dry_run()?;
    let a = ctx
        .world
        .regional(&uid, &region)
        .tr_vpc_attachments
        .get_mut(&id)
        .expect("checked");
    a.status.begin(
        AttachmentStatus::Detaching,
        &[(AttachmentStatus::Detached, durations::ATTACHMENT)],
        &pacer,
        now,
    );
    for r in ctx.world.regions.values_mut() {
        for t in r.route_tables.values_mut() {
            t.entries.retain(|e| !routes.contains(&e.id));
        }
    }
    forget_attachment(ctx.world, &id);
    Ok(json!({}))
}

fn create_peer_attachment(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    if let Some(id) = ctx.replay()? {
        return Ok(json!({"TransitRouterAttachmentId": id}));
    }
    let peer_id = ctx.req("PeerTransitRouterId")?.to_string();
    let (region, tr_id) = resolve_tr(ctx)?;
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let bandwidth_type = ctx
        .opt("BandwidthType")
        .unwrap_or("BandwidthPackage")
        .to_string();
    if !matches!(bandwidth_type.as_str(), "BandwidthPackage" | "DataTransfer") {
        return Err(ApiError::invalid(
            "BandwidthType",
            "must be BandwidthPackage or DataTransfer",
        ));
    }
    let bandwidth = ctx.parse::<i64>("Bandwidth")?.unwrap_or(0);
    let link = ctx.opt("DefaultLinkType").unwrap_or("Gold").to_string();
    if link == "Platinum" && bandwidth_type != "DataTransfer" {
        return Err(ApiError::bad(
            "IllegalParam.DefaultLinkType",
            "Platinum links need BandwidthType DataTransfer.",
        ));
    }
    let name = ctx
        .opt("TransitRouterAttachmentName")
        .unwrap_or_default()
        .to_string();
    let description = ctx
        .opt("TransitRouterAttachmentDescription")
        .unwrap_or_default()
        .to_string();
    let auto_publish = ctx.bool("AutoPublishRouteEnabled")?.unwrap_or(false);
    let cen_id = ctx.world.regional(&uid, &region).transit_routers[&tr_id]
        .cen_id
        .clone();
    let (peer_owner, peer_region, peer_tr) = ctx
        .world
        .transit_router_mut(&peer_id)
        .map(|(u, r, t)| (u, r, t.clone()))
        .ok_or_else(|| tr_not_found(&peer_id))?;
    if let Some(r) = ctx.opt("PeerTransitRouterRegionId")
        && r != peer_region
    {
        return Err(ApiError::bad(
            "IllegalParam.PeerTransitRouterRegionId",
            format!("Transit router {peer_id} is in {peer_region}, not {r}."),
        ));
    }
    if peer_tr.cen_id != cen_id {
        return Err(ApiError::bad(
            "IllegalParam.PeerTransitRouterId",
            format!(
                "Transit router {peer_id} belongs to CEN {}, not {cen_id}.",
                peer_tr.cen_id
            ),
        ));
    }
    if peer_region == region {
        return Err(ApiError::bad(
            "IllegalParam.PeerTransitRouterId",
            "A peer attachment connects transit routers in two different regions.",
        ));
    }
    for (t, r) in [(&tr_id, &region), (&peer_id, &peer_region)] {
        let s = ctx
            .world
            .transit_router_mut(t)
            .map(|(_, _, t)| t.status.peek(now))
            .expect("found");
        if s != TrStatus::Active {
            return Err(ApiError::bad(
                "IncorrectStatus.Status",
                format!("The transit router {t} in {r} is {s}; retry when it is Active."),
            ));
        }
    }
    let exists = ctx
        .world
        .regions
        .values_mut()
        .flat_map(|r| r.tr_peer_attachments.values_mut())
        .find_map(|a| {
            let same = (a.transit_router_id == tr_id && a.peer_transit_router_id == peer_id)
                || (a.transit_router_id == peer_id && a.peer_transit_router_id == tr_id);
            (same && a.status.peek(now) != AttachmentStatus::Detached).then(|| a.id.clone())
        });
    if let Some(a) = exists {
        return Err(ApiError::bad(
            "InstanceExist.Attachment",
            format!("Transit routers {tr_id} and {peer_id} are already connected by {a}."),
        ));
    }
    ctx.dry_run()?;
    let id = ctx.idempotent(|ctx| {
        let id = ctx.world.ids.plain("tr-attach", 16);
        let pacer = ctx.world.pacer;
        ctx.world
            .regional(&uid, &region)
            .tr_peer_attachments
            .insert(
                id.clone(),
                TrPeerAttachment {
                    id: id.clone(),
                    cen_id,
                    transit_router_id: tr_id.clone(),
                    peer_transit_router_id: peer_id.clone(),
                    peer_region: peer_region.clone(),
                    peer_owner_uid: peer_owner,
                    bandwidth,
                    bandwidth_type,
                    link_type: link,
                    name,
                    description,
                    auto_publish_route: auto_publish,
                    status: Lifecycle::start(
                        AttachmentStatus::Attaching,
                        &[(AttachmentStatus::Attached, durations::ATTACHMENT)],
                        &pacer,
                        now,
                    ),
                    created: utc_now(),
                },
            );
        Ok(id)
    })?;
    Ok(json!({"TransitRouterAttachmentId": id}))
}

/// A peer attachment as seen from one of its two transit routers.
fn peer_json(
    a: &TrPeerAttachment,
    local_region: &str,
    from_peer_side: bool,
    s: AttachmentStatus,
) -> Value {
    let (tr, region, peer, peer_region) = if from_peer_side {
        (
            &a.peer_transit_router_id,
            a.peer_region.as_str(),
            &a.transit_router_id,
            local_region,
        )
    } else {
        (
            &a.transit_router_id,
            local_region,
            &a.peer_transit_router_id,
            a.peer_region.as_str(),
        )
    };
    json!({
        "TransitRouterAttachmentId": a.id, "Status": s.as_str(), "CenId": a.cen_id,
        "TransitRouterId": tr, "RegionId": region, "PeerTransitRouterId": peer,
        "PeerTransitRouterRegionId": peer_region, "PeerTransitRouterOwnerId": uid_num(&a.peer_owner_uid),
        "Bandwidth": a.bandwidth, "BandwidthType": a.bandwidth_type, "CenBandwidthPackageId": "",
        "DefaultLinkType": a.link_type, "ResourceType": "TR", "AutoPublishRouteEnabled": a.auto_publish_route,
        "CreationTime": a.created, "TransitRouterAttachmentName": a.name,
        "TransitRouterAttachmentDescription": a.description, "GeographicSpanId": "", "Tags": [],
    })
}

fn list_peer_attachments(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let cen = ctx.opt("CenId");
    let region = ctx.opt_region()?;
    let tr = ctx.opt("TransitRouterId");
    let att = ctx.opt("TransitRouterAttachmentId");
    let page = ctx.token_page("MaxResults", 20, 100)?;
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let mut out = Vec::new();
    for ((u, r), reg) in ctx.world.regions.iter_mut() {
        if *u != uid {
            continue;
        }
        for a in reg.tr_peer_attachments.values_mut() {
            let s = a.status.poll(now);
            if s == AttachmentStatus::Detached
                || cen.is_some_and(|x| x != a.cen_id)
                || att.is_some_and(|x| x != a.id)
            {
                continue;
            }
            // Visible from both ends: the local TR's region and the peer's.
            for from_peer in [false, true] {
                let (t, rg) = if from_peer {
                    (&a.peer_transit_router_id, &a.peer_region)
                } else {
                    (&a.transit_router_id, r)
                };
                if tr.is_some_and(|x| x != t) || region.as_ref().is_some_and(|x| x != rg) {
                    continue;
                }
                if tr.is_none() && region.is_none() && from_peer {
                    continue;
                }
                out.push(peer_json(a, r, from_peer, s));
            }
        }
    }
    let (slice, next) = page.slice(&out);
    Ok(
        json!({"TransitRouterAttachments": slice, "TotalCount": out.len(), "NextToken": next, "MaxResults": page.size}),
    )
}

fn delete_peer_attachment(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let id = ctx.req("TransitRouterAttachmentId")?.to_string();
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let pacer = ctx.world.pacer;
    let region =
        attachment_region(ctx.world, &uid, &id, now).ok_or_else(|| attachment_not_found(&id))?;
    let a = ctx
        .world
        .regional(&uid, &region)
        .tr_peer_attachments
        .get_mut(&id)
        .ok_or_else(|| attachment_not_found(&id))?;
    let s = a.status.peek(now);
    if s != AttachmentStatus::Attached {
        return Err(ApiError::bad(
            "IncorrectStatus.Attachment",
            format!("The attachment {id} is {s}; retry when it is Attached."),
        ));
    }
    ctx.dry_run()?;
    let a = ctx
        .world
        .regional(&uid, &region)
        .tr_peer_attachments
        .get_mut(&id)
        .expect("checked");
    a.status.begin(
        AttachmentStatus::Detaching,
        &[(AttachmentStatus::Detached, durations::ATTACHMENT)],
        &pacer,
        now,
    );
    forget_attachment(ctx.world, &id);
    Ok(json!({}))
}

/// The caller's TR route table: (region, TR id).
fn find_table(world: &World, uid: &str, table: &str) -> Option<(String, String)> {
    world
        .regions
        .iter()
        .filter(|((u, _), _)| u == uid)
        .find_map(|((_, r), reg)| {
            reg.transit_routers
                .values()
                .find(|t| t.route_tables.iter().any(|rt| rt.id == table))
                .map(|t| (r.clone(), t.id.clone()))
        })
}

fn list_route_tables(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let tr = ctx.opt("TransitRouterId");
    let kind = ctx.opt("TransitRouterRouteTableType");
    let status = ctx.opt("TransitRouterRouteTableStatus");
    let ids = ctx.list("TransitRouterRouteTableIds");
    let page = ctx.token_page("MaxResults", 20, 100)?;
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let mut out = Vec::new();
    for ((u, r), reg) in ctx.world.regions.iter_mut() {
        if *u != uid {
            continue;
        }
        for t in reg.transit_routers.values_mut() {
            if tr.is_some_and(|x| x != t.id) {
                continue;
            }
            for rt in t.route_tables.iter_mut() {
                let s = rt.status.poll(now);
                if kind.is_some_and(|k| k != rt.kind.as_str())
                    || status.is_some_and(|x| x != s.as_str())
                    || !(ids.is_empty() || ids.contains(&rt.id.as_str()))
                {
                    continue;
                }
                out.push(json!({
                    "TransitRouterRouteTableId": rt.id, "TransitRouterRouteTableType": rt.kind.as_str(),
                    "TransitRouterRouteTableStatus": s.as_str(), "TransitRouterRouteTableName": rt.name,
                    "TransitRouterRouteTableDescription": "", "TransitRouterId": t.id, "RegionId": r,
                    "CreateTime": t.created, "RouteTableOptions": {"MultiRegionECMP": "disable"}, "Tags": [],
                }));
            }
        }
    }
    let (slice, next) = page.slice(&out);
    Ok(
        json!({"TransitRouterRouteTables": slice, "TotalCount": out.len(), "NextToken": next, "MaxResults": page.size}),
    )
}

/// Shared by Associate and EnablePropagation: validates the pair, returns (region, tr id).
fn check_pair(ctx: &mut Ctx<'_>, attachment: &str, table: &str) -> ApiResult<(String, String)> {
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let (region, tr) = find_table(ctx.world, &uid, table).ok_or_else(|| table_not_found(table))?;
    let att_region = attachment_region(ctx.world, &uid, attachment, now)
        .ok_or_else(|| attachment_not_found(attachment))?;
    let reg = ctx.world.regional(&uid, &att_region);
    let (att_tr, status) = if let Some(a) = reg.tr_vpc_attachments.get_mut(attachment) {
        (a.transit_router_id.clone(), a.status.peek(now))
    } else {
        let a = reg
            .tr_peer_attachments
            .get_mut(attachment)
            .expect("located");
        // A peer attachment belongs to both of its transit routers.
        let t = if a.peer_transit_router_id == tr {
            a.peer_transit_router_id.clone()
        } else {
            a.transit_router_id.clone()
        };
        (t, a.status.peek(now))
    };
    if att_tr != tr {
        return Err(ApiError::bad(
            "IllegalParam.TransitRouterRouteTableId",
            format!(
                "Route table {table} belongs to transit router {tr}, but attachment {attachment} is on {att_tr}."
            ),
        ));
    }
    if status != AttachmentStatus::Attached {
        return Err(ApiError::bad(
            "IncorrectStatus.Attachment",
            format!("The attachment {attachment} is {status}; retry when it is Attached."),
        ));
    }
    Ok((region, tr))
}

fn associate(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let attachment = ctx.req("TransitRouterAttachmentId")?;
    let table = ctx.req("TransitRouterRouteTableId")?;
    let (region, tr) = check_pair(ctx, attachment, table)?;
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let pacer = ctx.world.pacer;
    let t = ctx
        .world
        .regional(&uid, &region)
        .transit_routers
        .get_mut(&tr)
        .expect("found");
    if let Some(other) = t.route_tables.iter().find(|rt| {
        rt.associations
            .iter()
            .any(|a| a.attachment_id == attachment)
    }) {
        return Err(ApiError::bad(
            "InstanceExist.Association",
            format!(
                "Attachment {attachment} is already associated with route table {}.",
                other.id
            ),
        ));
    }
    ctx.dry_run()?;
    let t = ctx
        .world
        .regional(&uid, &region)
        .transit_routers
        .get_mut(&tr)
        .expect("found");
    let rt = t
        .route_tables
        .iter_mut()
        .find(|rt| rt.id == table)
        .expect("found");
    rt.associations.push(TrAssociation {
        attachment_id: attachment.to_string(),
        status: Lifecycle::start(
            AssociationStatus::Associating,
            &[(AssociationStatus::Active, durations::ASSOCIATION)],
            &pacer,
            now,
        ),
    });
    Ok(json!({}))
}

/// Removes an association (or, with `propagation`, a propagation) of `attachment` from
/// `table`. The cloud passes through Dissociating/Disabling; the simulator removes at once.
fn unlink(ctx: &mut Ctx<'_>, propagation: bool) -> ApiResult<Value> {
    let attachment = ctx.req("TransitRouterAttachmentId")?.to_string();
    let table = ctx.req("TransitRouterRouteTableId")?.to_string();
    let uid = ctx.uid().to_string();
    let (region, tr) =
        find_table(ctx.world, &uid, &table).ok_or_else(|| table_not_found(&table))?;
    let what = if propagation {
        "propagation"
    } else {
        "association"
    };
    let code = if propagation {
        "InvalidPropagation.NotFound"
    } else {
        "InvalidAssociation.NotFound"
    };
    let exists = {
        let t = ctx
            .world
            .regional(&uid, &region)
            .transit_routers
            .get(&tr)
            .expect("found");
        let rt = t
            .route_tables
            .iter()
            .find(|rt| rt.id == table)
            .expect("found");
        if propagation {
            rt.propagations
                .iter()
                .any(|p| p.attachment_id == attachment)
        } else {
            rt.associations
                .iter()
                .any(|a| a.attachment_id == attachment)
        }
    };
    if !exists {
        return Err(ApiError::bad(
            code,
            format!("Attachment {attachment} has no {what} with route table {table}."),
        ));
    }
    ctx.dry_run()?;
    let t = ctx
        .world
        .regional(&uid, &region)
        .transit_routers
        .get_mut(&tr)
        .expect("found");
    let rt = t
        .route_tables
        .iter_mut()
        .find(|rt| rt.id == table)
        .expect("found");
    if propagation {
        rt.propagations.retain(|p| p.attachment_id != attachment);
    } else {
        rt.associations.retain(|a| a.attachment_id != attachment);
    }
    Ok(json!({}))
}

fn dissociate(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    unlink(ctx, false)
}

fn disable_propagation(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    unlink(ctx, true)
}

fn enable_propagation(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let attachment = ctx.req("TransitRouterAttachmentId")?;
    let table = ctx.req("TransitRouterRouteTableId")?;
    let (region, tr) = check_pair(ctx, attachment, table)?;
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let pacer = ctx.world.pacer;
    let t = ctx
        .world
        .regional(&uid, &region)
        .transit_routers
        .get_mut(&tr)
        .expect("found");
    let rt = t
        .route_tables
        .iter_mut()
        .find(|rt| rt.id == table)
        .expect("found");
    if rt
        .propagations
        .iter()
        .any(|p| p.attachment_id == attachment)
    {
        return Err(ApiError::bad(
            "InstanceExist.Propagation",
            format!("Attachment {attachment} already propagates to route table {table}."),
        ));
    }
    ctx.dry_run()?;
    let t = ctx
        .world
        .regional(&uid, &region)
        .transit_routers
        .get_mut(&tr)
        .expect("found");
    let rt = t
        .route_tables
        .iter_mut()
        .find(|rt| rt.id == table)
        .expect("found");
    rt.propagations.push(TrPropagation {
        attachment_id: attachment.to_string(),
        status: Lifecycle::start(
            PropagationStatus::Enabling,
            &[(PropagationStatus::Active, durations::ASSOCIATION)],
            &pacer,
            now,
        ),
    });
    Ok(json!({}))
}

/// (resource id, resource type) an attachment connects.
fn attachment_resource(world: &World, id: &str, tr: &str) -> (String, &'static str) {
    for r in world.regions.values() {
        if let Some(a) = r.tr_vpc_attachments.get(id) {
            return (a.vpc_id.clone(), "VPC");
        }
        if let Some(a) = r.tr_peer_attachments.get(id) {
            let other = if a.transit_router_id == tr {
                &a.peer_transit_router_id
            } else {
                &a.transit_router_id
            };
            return (other.clone(), "TR");
        }
    }
    (String::new(), "")
}

fn list_links(ctx: &mut Ctx<'_>, propagations: bool) -> ApiResult<Value> {
    let table = if propagations {
        Some(ctx.req("TransitRouterRouteTableId")?)
    } else {
        ctx.opt("TransitRouterRouteTableId")
    };
    let attachment = ctx.opt("TransitRouterAttachmentId");
    let status = ctx.opt("Status");
    let page = ctx.token_page("MaxResults", 20, 100)?;
    if table.is_none() && attachment.is_none() {
        return Err(ApiError::missing("TransitRouterRouteTableId"));
    }
    let uid = ctx.uid().to_string();
    let now = ctx.now;
    let mut rows: Vec<(String, String, String, String)> = Vec::new();
    for ((u, _), reg) in ctx.world.regions.iter_mut() {
        if *u != uid {
            continue;
        }
        for t in reg.transit_routers.values_mut() {
            for rt in t.route_tables.iter_mut() {
                if table.is_some_and(|x| x != rt.id) {
                    continue;
                }
                let items: Vec<(String, String)> = if propagations {
                    rt.propagations
                        .iter_mut()
                        .map(|p| {
                            (
                                p.attachment_id.clone(),
                                p.status.poll(now).as_str().to_string(),
                            )
                        })
                        .collect()
                } else {
                    rt.associations
                        .iter_mut()
                        .map(|p| {
                            (
                                p.attachment_id.clone(),
                                p.status.poll(now).as_str().to_string(),
                            )
                        })
                        .collect()
                };
                for (a, s) in items {
                    if attachment.is_some_and(|x| x != a) || status.is_some_and(|x| x != s) {
                        continue;
                    }
                    rows.push((a, s, rt.id.clone(), t.id.clone()));
                }
            }
        }
    }
    if let Some(t) = table
        && find_table(ctx.world, &uid, t).is_none()
    {
        return Err(table_not_found(t));
    }
    let out: Vec<Value> = rows
        .iter()
        .map(|(a, s, rt, tr)| {
            let (res, kind) = attachment_resource(ctx.world, a, tr);
            json!({"TransitRouterAttachmentId": a, "TransitRouterRouteTableId": rt, "ResourceId": res, "ResourceType": kind, "Status": s})
        })
        .collect();
    let (slice, next) = page.slice(&out);
    let key = if propagations {
        "TransitRouterPropagations"
    } else {
        "TransitRouterAssociations"
    };
    Ok(json!({key: slice, "TotalCount": out.len(), "NextToken": next, "MaxResults": page.size}))
}

fn list_associations(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    list_links(ctx, false)
}

fn list_propagations(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    list_links(ctx, true)
}

/// A route learned by a transit router route table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrRoute {
    pub destination: ipnet::Ipv4Net,
    /// `Attachment` or `BlackHole`.
    pub next_hop_type: String,
    pub attachment_id: String,
    /// The VPC or peer TR behind the attachment.
    pub resource_id: String,
    pub resource_type: &'static str,
    /// `Propagated` or `Static`.
    pub kind: &'static str,
}

/// Routes a VPC attachment advertises: the VPC's vSwitch CIDRs (its system routes).
fn vpc_routes(world: &World, a: &TrVpcAttachment) -> Vec<ipnet::Ipv4Net> {
    world
        .regional_ref(&a.vpc_owner_uid, &a.vpc_region)
        .map(|r| {
            r.vswitches
                .values()
                .filter(|s| s.vpc_id == a.vpc_id)
                .map(|s| s.cidr)
                .collect()
        })
        .unwrap_or_default()
}

/// The routes of a TR route table, computed from its Active propagations (VPC attachments
/// advertise their vSwitch CIDRs; a peer attachment advertises what the peer TR's tables learned
/// from their own VPC attachments) plus static entries. Used by the connectivity verdict too.
pub fn computed_routes(world: &mut World, table: &str, now: Instant) -> Vec<TrRoute> {
    // Advance every propagation and attachment status to `now` first.
    let mut active: Vec<(String, String, String)> = Vec::new(); // (tr id, table id, attachment id)
    let mut statics: Vec<TrRoute> = Vec::new();
    let mut attached: Vec<String> = Vec::new();
    let mut table_tr: Option<String> = None;
    for reg in world.regions.values_mut() {
        for a in reg.tr_vpc_attachments.values_mut() {
            if a.status.peek(now) == AttachmentStatus::Attached {
                attached.push(a.id.clone());
            }
        }
        for a in reg.tr_peer_attachments.values_mut() {
            if a.status.peek(now) == AttachmentStatus::Attached {
                attached.push(a.id.clone());
            }
        }
        for t in reg.transit_routers.values_mut() {
            for rt in t.route_tables.iter_mut() {
                for p in rt.propagations.iter_mut() {
                    if p.status.peek(now) == PropagationStatus::Active {
                        active.push((t.id.clone(), rt.id.clone(), p.attachment_id.clone()));
                    }
                }
                if rt.id == table {
                    table_tr = Some(t.id.clone());
                    statics.extend(rt.static_entries.iter().map(|s| TrRoute {
                        destination: s.destination,
                        next_hop_type: s.next_hop_type.clone(),
                        attachment_id: s.next_hop_id.clone(),
                        resource_id: String::new(),
                        resource_type: "",
                        kind: "Static",
                    }));
                }
            }
        }
    }
    let world: &World = world;
    let vpc_att = |id: &str| {
        world
            .regions
            .values()
            .find_map(|r| r.tr_vpc_attachments.get(id))
    };
    let peer_att = |id: &str| {
        world
            .regions
            .values()
            .find_map(|r| r.tr_peer_attachments.get(id))
    };
    let mut out = statics;
    let Some(tr) = table_tr else {
        return out;
    };
    for (_, _, att) in active.iter().filter(|(_, t, _)| t == table) {
        if !attached.contains(att) {
            continue;
        }
        if let Some(a) = vpc_att(att) {
            for d in vpc_routes(world, a) {
                out.push(TrRoute {
                    destination: d,
                    next_hop_type: "Attachment".into(),
                    attachment_id: a.id.clone(),
                    resource_id: a.vpc_id.clone(),
                    resource_type: "VPC",
                    kind: "Propagated",
                });
            }
        } else if let Some(p) = peer_att(att) {
            let peer_tr = if p.transit_router_id == tr {
                p.peer_transit_router_id.clone()
            } else {
                p.transit_router_id.clone()
            };
            // What the peer TR's tables learned from their VPC attachments.
            for (_, _, patt) in active.iter().filter(|(x, _, _)| *x == peer_tr) {
                if !attached.contains(patt) {
                    continue;
                }
                if let Some(a) = vpc_att(patt) {
                    for d in vpc_routes(world, a) {
                        if !out.iter().any(|r| r.destination == d) {
                            out.push(TrRoute {
                                destination: d,
                                next_hop_type: "Attachment".into(),
                                attachment_id: p.id.clone(),
                                resource_id: peer_tr.clone(),
                                resource_type: "TR",
                                kind: "Propagated",
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

fn list_route_entries(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let table = ctx.req("TransitRouterRouteTableId")?;
    let dest = ctx.cidr("TransitRouterRouteEntryDestinationCidrBlock")?;
    let status = ctx.opt("TransitRouterRouteEntryStatus");
    let kind = ctx.opt("TransitRouterRouteEntryType");
    let hop = ctx.opt("TransitRouterRouteEntryNextHopId");
    let page = ctx.token_page("MaxResults", 20, 100)?;
    let uid = ctx.uid().to_string();
    if find_table(ctx.world, &uid, table).is_none() {
        return Err(table_not_found(table));
    }
    let now = ctx.now;
    let routes = computed_routes(ctx.world, table, now);
    let out: Vec<Value> = routes
        .iter()
        .filter(|r| dest.is_none_or(|d| r.destination == d))
        .filter(|_| status.is_none_or(|s| s == "Active"))
        .filter(|r| kind.is_none_or(|k| k == r.kind))
        .filter(|r| hop.is_none_or(|h| h == r.attachment_id))
        .map(|r| {
            let id = format!(
                "rte-{}",
                &dwlink_acs::sha256_hex(
                    format!("{table}{}{}", r.destination, r.attachment_id).as_bytes()
                )[..20]
            );
            json!({
                "TransitRouterRouteEntryId": id,
                "TransitRouterRouteEntryDestinationCidrBlock": r.destination.to_string(),
                "TransitRouterRouteEntryNextHopType": r.next_hop_type,
                "TransitRouterRouteEntryNextHopId": r.attachment_id,
                "TransitRouterRouteEntryNextHopResourceId": r.resource_id,
                "TransitRouterRouteEntryNextHopResourceType": r.resource_type,
                "TransitRouterRouteEntryOriginResourceId": r.resource_id,
                "TransitRouterRouteEntryOriginResourceType": r.resource_type,
                "TransitRouterRouteEntryStatus": "Active",
                "TransitRouterRouteEntryType": r.kind,
                "TransitRouterRouteEntryName": "", "TransitRouterRouteEntryDescription": "",
                "OperationalMode": false, "CreateTime": "",
            })
        })
        .collect();
    let (slice, next) = page.slice(&out);
    Ok(
        json!({"TransitRouterRouteEntries": slice, "TotalCount": out.len(), "NextToken": next, "MaxResults": page.size}),
    )
}
