//! DataWorks (dataworks-public 2024-05-18): resource groups, their networks and routes, data
//! sources, and `TestDataSourceConnectivity` (computed by [`crate::connectivity`]).
//!
//! DataWorks ids are numeric (networks, routes, data sources) and anchored to an existing
//! resource group or workspace of the caller, whose region they share. Error codes of this API
//! are not published; the ones here follow the `Object.Problem` pattern (see the report).

use crate::connectivity;
use crate::error::{ApiError, ApiResult};
use crate::registry::{Product, Registry};
use crate::request::Ctx;
use crate::state::{
    DataSource, DataWorks, DwNetwork, DwRoute, NetworkStatus, ResourceGroup, durations, epoch_ms,
};
use serde_json::{Map, Value, json};

pub static PRODUCT: Product = Product {
    code: "dataworks-public",
    version: "2024-05-18",
    host: "dataworks.aliyuncs.com",
};

pub fn register(r: &mut Registry) {
    r.add(&PRODUCT, "ListResourceGroups", list_resource_groups);
    r.add(&PRODUCT, "GetResourceGroup", get_resource_group);
    r.add(&PRODUCT, "ListNetworks", list_networks);
    r.add(&PRODUCT, "GetNetwork", get_network);
    r.add(&PRODUCT, "CreateNetwork", create_network);
    r.add(&PRODUCT, "DeleteNetwork", delete_network);
    r.add(&PRODUCT, "CreateRoute", create_route);
    r.add(&PRODUCT, "ListRoutes", list_routes);
    r.add(&PRODUCT, "GetRoute", get_route);
    r.add(&PRODUCT, "UpdateRoute", update_route);
    r.add(&PRODUCT, "DeleteRoute", delete_route);
    r.add(&PRODUCT, "CreateDataSource", create_data_source);
    r.add(&PRODUCT, "GetDataSource", get_data_source);
    r.add(&PRODUCT, "ListDataSources", list_data_sources);
    r.add(&PRODUCT, "UpdateDataSource", update_data_source);
    r.add(&PRODUCT, "DeleteDataSource", delete_data_source);
    r.add(
        &PRODUCT,
        "TestDataSourceConnectivity",
        test_data_source_connectivity,
    );
}

/// The data source types the simulator accepts (`Type`).
const TYPES: &[&str] = &[
    "mysql",
    "polardb",
    "mongodb",
    "postgresql",
    "sqlserver",
    "mariadb",
    "oracle",
    "hologres",
    "starrocks",
    "clickhouse",
];

/// The region of the caller's DataWorks state that satisfies `has`.
fn region_of(ctx: &Ctx<'_>, has: impl Fn(&DataWorks) -> bool) -> Option<String> {
    let uid = ctx.uid();
    ctx.world
        .regions
        .iter()
        .find(|((u, _), r)| u == uid && has(&r.dataworks))
        .map(|((_, region), _)| region.clone())
}

fn dw<'w>(ctx: &'w mut Ctx<'_>, region: &str) -> &'w mut DataWorks {
    let uid = ctx.uid().to_string();
    &mut ctx.world.regional(&uid, region).dataworks
}

fn rg_region(ctx: &Ctx<'_>, id: &str) -> ApiResult<String> {
    region_of(ctx, |d| d.resource_groups.contains_key(id)).ok_or_else(|| {
        ApiError::not_found(
            "ResourceGroup.NotFound",
            format!(
                "The resource group {id} does not exist in account {}.",
                ctx.uid()
            ),
        )
    })
}

fn network_region(ctx: &Ctx<'_>, id: u64) -> ApiResult<String> {
    region_of(ctx, |d| d.networks.contains_key(&id)).ok_or_else(|| {
        ApiError::not_found(
            "Network.NotFound",
            format!(
                "The resource group network {id} does not exist in account {}.",
                ctx.uid()
            ),
        )
    })
}

fn route_region(ctx: &Ctx<'_>, id: u64) -> ApiResult<String> {
    region_of(ctx, |d| d.routes.contains_key(&id)).ok_or_else(|| {
        ApiError::not_found(
            "Route.NotFound",
            format!("The route {id} does not exist in account {}.", ctx.uid()),
        )
    })
}

fn project_region(ctx: &Ctx<'_>, id: u64) -> ApiResult<String> {
    region_of(ctx, |d| d.workspaces.contains_key(&id)).ok_or_else(|| {
        ApiError::not_found(
            "Project.NotFound",
            format!(
                "The workspace (project) {id} does not exist in account {}.",
                ctx.uid()
            ),
        )
    })
}

fn data_source_region(ctx: &Ctx<'_>, id: u64) -> ApiResult<String> {
    region_of(ctx, |d| d.data_sources.contains_key(&id)).ok_or_else(|| {
        ApiError::not_found(
            "DataSource.NotFound",
            format!(
                "The data source {id} does not exist in account {}.",
                ctx.uid()
            ),
        )
    })
}

fn paging(page: crate::request::Page, key: &str, items: Vec<Value>) -> Value {
    let total = items.len();
    let mut p = Map::new();
    p.insert(key.into(), Value::Array(page.slice(&items).to_vec()));
    p.insert("PageNumber".into(), json!(page.number));
    p.insert("PageSize".into(), json!(page.size));
    p.insert("TotalCount".into(), json!(total));
    Value::Object(p)
}

// ---- resource groups ----

fn rg_json(
    g: &mut ResourceGroup,
    owner: &str,
    now: std::time::Instant,
    vswitch_key: &str,
) -> Value {
    let status = g.status.poll(now);
    let mut v = json!({
        "Id": g.id,
        "Name": g.name,
        "Status": status.as_str(),
        "ResourceGroupType": g.kind,
        "PaymentType": g.payment_type,
        "DefaultVpcId": g.default_vpc_id,
        "Spec": {"Standard": g.spec_standard, "Amount": g.spec_amount},
        "CreateTime": g.created_ms,
        "CreateUser": owner,
        "Remark": g.remark,
        "AliyunResourceGroupId": "",
        "AliyunResourceTags": [],
        "OrderInstanceId": "",
    });
    // The list spells it `DefaultVswicthId`, the get `DefaultVswitchId` (as the SDK models do).
    v[vswitch_key] = json!(g.default_vswitch_id);
    v
}

fn list_resource_groups(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let region = ctx.opt_region()?;
    let project: Option<u64> = ctx.parse("ProjectId")?;
    let name = ctx.opt("Name");
    let payment = ctx.opt("PaymentType");
    let types = ctx.json_list("ResourceGroupTypes")?;
    let statuses = ctx.json_list("Statuses")?;
    let page = ctx.page(10, 100)?;
    let (uid, now) = (ctx.uid().to_string(), ctx.now);
    let mut items = Vec::new();
    for ((u, r), reg) in ctx.world.regions.iter_mut() {
        if *u != uid || region.as_ref().is_some_and(|want| want != r) {
            continue;
        }
        for g in reg.dataworks.resource_groups.values_mut() {
            let keep = project.is_none_or(|p| g.workspaces.contains(&p))
                && name.is_none_or(|n| g.name.contains(n))
                && payment.is_none_or(|p| g.payment_type == p)
                && (types.is_empty() || types.contains(&g.kind))
                && (statuses.is_empty()
                    || statuses.iter().any(|s| s == g.status.peek(now).as_str()));
            if keep {
                items.push(rg_json(g, &uid, now, "DefaultVswicthId"));
            }
        }
    }
    Ok(json!({"PagingInfo": paging(page, "ResourceGroupList", items), "Success": true}))
}

fn get_resource_group(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let id = ctx.req("Id")?;
    let region = rg_region(ctx, id)?;
    let (uid, now) = (ctx.uid().to_string(), ctx.now);
    let g = dw(ctx, &region)
        .resource_groups
        .get_mut(id)
        .expect("located");
    Ok(json!({"ResourceGroup": rg_json(g, &uid, now, "DefaultVswitchId"), "Success": true}))
}

// ---- networks ----

fn network_json(n: &mut DwNetwork, now: std::time::Instant) -> Value {
    json!({
        "Id": n.id,
        "ResourceGroupId": n.resource_group_id,
        "VpcId": n.vpc_id,
        "VswitchId": n.vswitch_id,
        "SecurityGroupId": n.security_group_id,
        "Status": n.status.poll(now).as_str(),
        "CreateTime": n.created_ms,
        "CreateUser": n.create_user,
    })
}

fn list_networks(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let rg = ctx.req("ResourceGroupId")?;
    let page = ctx.page(10, 100)?;
    let region = rg_region(ctx, rg)?;
    let now = ctx.now;
    let items: Vec<Value> = dw(ctx, &region)
        .networks
        .values_mut()
        .filter(|n| n.resource_group_id == rg)
        .map(|n| network_json(n, now))
        .collect();
    Ok(json!({"PagingInfo": paging(page, "NetworkList", items), "Success": true}))
}

fn get_network(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let id: u64 = ctx.req_parse("Id")?;
    let region = network_region(ctx, id)?;
    let now = ctx.now;
    let n = dw(ctx, &region).networks.get_mut(&id).expect("located");
    Ok(json!({"Network": network_json(n, now), "Success": true}))
}

fn create_network(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let rg = ctx.req("ResourceGroupId")?;
    let vpc = ctx.req("VpcId")?;
    let vsw = ctx.req("VswitchId")?;
    let token = ctx.req("ClientToken")?;
    let region = rg_region(ctx, rg)?;
    let uid = ctx.uid().to_string();
    let id = ctx.idempotent(|ctx| {
        let reg = ctx.world.regional(&uid, &region);
        if !reg.vpcs.contains_key(vpc) {
            return Err(ApiError::not_found(
                "InvalidVpcId.NotFound",
                format!("The VPC {vpc} does not exist in account {uid}, region {region} (the resource group's region)."),
            ));
        }
        match reg.vswitches.get(vsw) {
            Some(s) if s.vpc_id == vpc => {}
            Some(s) => {
                return Err(ApiError::bad(
                    "InvalidVSwitchId.Mismatch",
                    format!("The vSwitch {vsw} belongs to VPC {}, not {vpc}.", s.vpc_id),
                ));
            }
            None => {
                return Err(ApiError::not_found(
                    "InvalidVSwitchId.NotFound",
                    format!("The vSwitch {vsw} does not exist in account {uid}, region {region}."),
                ));
            }
        }
        if let Some(n) = reg
            .dataworks
            .networks
            .values()
            .find(|n| n.resource_group_id == rg && n.vswitch_id == vsw)
        {
            return Err(ApiError::bad(
                "Network.AlreadyExists",
                format!("Resource group {rg} is already bound to vSwitch {vsw} (network {}).", n.id),
            ));
        }
        let id = ctx.world.ids.number();
        let sg = ctx.world.ids.regional("sg", &region);
        let status = crate::lifecycle::Lifecycle::start(
            NetworkStatus::Creating,
            &[(NetworkStatus::Running, durations::DATAWORKS_NETWORK)],
            &ctx.world.pacer,
            ctx.now,
        );
        ctx.world.regional(&uid, &region).dataworks.networks.insert(
            id,
            DwNetwork {
                id,
                resource_group_id: rg.to_string(),
                vpc_id: vpc.to_string(),
                vswitch_id: vsw.to_string(),
                security_group_id: sg,
                status,
                created_ms: epoch_ms(),
                create_user: uid.clone(),
                client_token: token.to_string(),
            },
        );
        Ok(id.to_string())
    })?;
    Ok(json!({"Id": id.parse::<u64>().unwrap_or_default(), "Success": true}))
}

fn delete_network(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let id: u64 = ctx.req_parse("Id")?;
    let region = network_region(ctx, id)?;
    let d = dw(ctx, &region);
    d.networks.remove(&id);
    // The network's custom routes go with it.
    d.routes.retain(|_, r| r.network_id != id);
    Ok(json!({"Success": true}))
}

// ---- routes ----

fn route_json(r: &DwRoute) -> Value {
    json!({
        "Id": r.id,
        "NetworkId": r.network_id,
        "DestinationCidr": r.destination.to_string(),
        "ResourceGroupId": r.resource_group_id,
        "ResourceId": r.resource_id,
        "CreateTime": r.created_ms,
    })
}

fn duplicate_route(
    d: &DataWorks,
    network: u64,
    dest: &ipnet::Ipv4Net,
    except: u64,
) -> ApiResult<()> {
    match d
        .routes
        .values()
        .find(|r| r.network_id == network && r.destination == *dest && r.id != except)
    {
        Some(r) => Err(ApiError::bad(
            "Route.AlreadyExists",
            format!("Network {network} already has route {} to {dest}.", r.id),
        )),
        None => Ok(()),
    }
}

fn create_route(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let network: u64 = ctx.req_parse("NetworkId")?;
    let dest = ctx.req_cidr("DestinationCidr")?;
    let rg = ctx.opt("ResourceGroupId");
    let region = network_region(ctx, network)?;
    let now = ctx.now;
    let d = dw(ctx, &region);
    let n = d.networks.get_mut(&network).expect("located");
    if let Some(rg) = rg
        && rg != n.resource_group_id
    {
        return Err(ApiError::bad(
            "Network.ResourceGroupMismatch",
            format!(
                "Network {network} belongs to resource group {}, not {rg}.",
                n.resource_group_id
            ),
        ));
    }
    let status = n.status.peek(now);
    if status != NetworkStatus::Running {
        return Err(ApiError::bad(
            "Network.StatusInvalid",
            format!("Network {network} is {status}; routes can be added once it is Running."),
        ));
    }
    let (rg, vpc) = (n.resource_group_id.clone(), n.vpc_id.clone());
    duplicate_route(d, network, &dest, 0)?;
    let id = ctx.world.ids.number();
    dw(ctx, &region).routes.insert(
        id,
        DwRoute {
            id,
            network_id: network,
            resource_group_id: rg,
            destination: dest,
            resource_id: vpc,
            created_ms: epoch_ms(),
        },
    );
    Ok(json!({"Id": id, "Success": true}))
}

fn list_routes(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let rg = ctx.req("ResourceGroupId")?;
    let network: Option<u64> = ctx.parse("NetworkId")?;
    let page = ctx.page(10, 100)?;
    let region = rg_region(ctx, rg)?;
    let items: Vec<Value> = dw(ctx, &region)
        .routes
        .values()
        .filter(|r| r.resource_group_id == rg && network.is_none_or(|n| r.network_id == n))
        .map(route_json)
        .collect();
    Ok(json!({"PagingInfo": paging(page, "RouteList", items), "Success": true}))
}

fn get_route(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let id: u64 = ctx.req_parse("Id")?;
    let region = route_region(ctx, id)?;
    let r = &dw(ctx, &region).routes[&id];
    Ok(json!({"Route": route_json(r), "Success": true}))
}

fn update_route(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let id: u64 = ctx.req_parse("Id")?;
    let dest = ctx.req_cidr("DestinationCidr")?;
    let region = route_region(ctx, id)?;
    let d = dw(ctx, &region);
    let network = d.routes[&id].network_id;
    duplicate_route(d, network, &dest, id)?;
    d.routes.get_mut(&id).expect("located").destination = dest;
    Ok(json!({"Success": true}))
}

fn delete_route(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let id: u64 = ctx.req_parse("Id")?;
    let region = route_region(ctx, id)?;
    dw(ctx, &region).routes.remove(&id);
    Ok(json!({"Success": true}))
}

// ---- data sources ----

fn check_name(name: &str) -> ApiResult<()> {
    let ok = name.len() <= 255
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "Name",
            format!(
                "{name:?} must be at most 255 letters, digits and underscores, starting with a letter"
            ),
        ))
    }
}

fn str_prop<'v>(props: &'v Value, key: &str) -> Option<&'v str> {
    props
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Parses and checks `ConnectionProperties` for the type and mode; returns the object.
fn check_properties(kind: &str, mode: &str, raw: &str) -> ApiResult<Value> {
    let props: Value = serde_json::from_str(raw)
        .map_err(|e| ApiError::invalid("ConnectionProperties", format!("not valid JSON: {e}")))?;
    if !props.is_object() {
        return Err(ApiError::invalid(
            "ConnectionProperties",
            "must be a JSON object",
        ));
    }
    let missing = |key: &str| {
        ApiError::invalid(
            "ConnectionProperties",
            format!("the key {key:?} is required for a {kind} data source in {mode}"),
        )
    };
    match str_prop(&props, "envType") {
        Some("Dev" | "Prod") => {}
        Some(other) => {
            return Err(ApiError::invalid(
                "ConnectionProperties",
                format!("envType {other:?} must be Dev or Prod"),
            ));
        }
        None => return Err(missing("envType")),
    }
    match mode {
        "InstanceMode" => {
            let id_key = if kind == "polardb" {
                "clusterId"
            } else {
                "instanceId"
            };
            for key in ["regionId", id_key] {
                str_prop(&props, key).ok_or_else(|| missing(key))?;
            }
            if str_prop(&props, "crossAccountOwnerId").is_some()
                || props
                    .get("crossAccountOwnerId")
                    .is_some_and(Value::is_number)
            {
                str_prop(&props, "crossAccountRoleName")
                    .ok_or_else(|| missing("crossAccountRoleName"))?;
            }
        }
        "UrlMode" => {
            let first = props
                .get("address")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .ok_or_else(|| missing("address"))?;
            str_prop(first, "host").ok_or_else(|| missing("address[0].host"))?;
            let port_ok = first.get("port").is_some_and(|p| {
                p.as_u64().is_some() || p.as_str().is_some_and(|s| s.parse::<u16>().is_ok())
            });
            if !port_ok {
                return Err(missing("address[0].port"));
            }
        }
        other => {
            return Err(ApiError::invalid(
                "ConnectionPropertiesMode",
                format!("{other:?} must be InstanceMode or UrlMode"),
            ));
        }
    }
    Ok(props)
}

/// Removes every password-like key (the API never returns secrets).
fn scrub(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| {
                    let k = k.to_ascii_lowercase();
                    !(k.contains("password") || k.contains("secret"))
                })
                .map(|(k, v)| (k.clone(), scrub(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(scrub).collect()),
        other => other.clone(),
    }
}

fn env_of(d: &DataSource) -> &str {
    str_prop(&d.properties, "envType").unwrap_or("Prod")
}

fn data_source_json(d: &DataSource) -> Value {
    json!({
        "Id": d.id,
        "Name": d.name,
        "Type": d.kind,
        "ProjectId": d.project_id,
        "ConnectionProperties": scrub(&d.properties),
        "ConnectionPropertiesMode": d.mode,
        "QualifiedName": format!("{}:{}:{}", d.project_id, d.name, env_of(d)),
        "Description": d.description,
        "CreateTime": d.created_ms,
        "CreateUser": d.create_user,
        "ModifyTime": d.modified_ms,
        "ModifyUser": d.create_user,
    })
}

fn create_data_source(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let project: u64 = ctx.req_parse("ProjectId")?;
    let name = ctx.req("Name")?;
    check_name(name)?;
    let kind = ctx.req("Type")?;
    if !TYPES.contains(&kind) {
        return Err(ApiError::invalid(
            "Type",
            format!(
                "{kind:?} is not a supported data source type ({})",
                TYPES.join(", ")
            ),
        ));
    }
    let mode = ctx.req("ConnectionPropertiesMode")?;
    let props = check_properties(kind, mode, ctx.req("ConnectionProperties")?)?;
    let description = ctx.opt("Description").unwrap_or_default().to_string();
    let region = project_region(ctx, project)?;
    let uid = ctx.uid().to_string();
    let env = str_prop(&props, "envType").unwrap_or("Prod").to_string();
    let d = dw(ctx, &region);
    if let Some(other) = d
        .data_sources
        .values()
        .find(|x| x.project_id == project && x.name == name && (env_of(x) == env || x.kind != kind))
    {
        return Err(ApiError::bad(
            "DataSource.AlreadyExists",
            format!(
                "Workspace {project} already has a {} data source named {name:?} (id {}, {}).",
                other.kind,
                other.id,
                env_of(other)
            ),
        ));
    }
    let id = ctx.world.ids.number();
    let now = epoch_ms();
    dw(ctx, &region).data_sources.insert(
        id,
        DataSource {
            id,
            project_id: project,
            name: name.to_string(),
            kind: kind.to_string(),
            mode: mode.to_string(),
            properties: props,
            description,
            created_ms: now,
            create_user: uid,
            modified_ms: now,
        },
    );
    Ok(json!({"Id": id}))
}

fn get_data_source(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let id: u64 = ctx.req_parse("Id")?;
    let region = data_source_region(ctx, id)?;
    Ok(json!({"DataSource": data_source_json(&dw(ctx, &region).data_sources[&id])}))
}

fn list_data_sources(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let project: u64 = ctx.req_parse("ProjectId")?;
    let name = ctx.opt("Name");
    let env = ctx.opt("EnvType");
    let types = ctx.comma_list("Types");
    let page = ctx.page(10, 100)?;
    let region = project_region(ctx, project)?;
    // Grouped by name: one entry per name, one `DataSource` per environment.
    let mut groups: std::collections::BTreeMap<(String, String), Vec<Value>> = Default::default();
    for d in dw(ctx, &region).data_sources.values() {
        let keep = d.project_id == project
            && name.is_none_or(|n| d.name.contains(n))
            && env.is_none_or(|e| env_of(d) == e)
            && (types.is_empty() || types.contains(&d.kind.as_str()));
        if keep {
            groups
                .entry((d.name.clone(), d.kind.clone()))
                .or_default()
                .push(data_source_json(d));
        }
    }
    let items: Vec<Value> = groups
        .into_iter()
        .map(|((name, kind), list)| json!({"Name": name, "Type": kind, "DataSource": list}))
        .collect();
    Ok(json!({"PagingInfo": paging(page, "DataSources", items)}))
}

fn update_data_source(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let id: u64 = ctx.req_parse("Id")?;
    let project: u64 = ctx.req_parse("ProjectId")?;
    let raw = ctx.req("ConnectionProperties")?;
    let mode_param = ctx.opt("ConnectionPropertiesMode").map(str::to_string);
    let description = ctx.opt("Description").map(str::to_string);
    let region = data_source_region(ctx, id)?;
    let d = dw(ctx, &region).data_sources.get_mut(&id).expect("located");
    if d.project_id != project {
        return Err(ApiError::not_found(
            "DataSource.NotFound",
            format!("The data source {id} is not in workspace {project}."),
        ));
    }
    let mode = mode_param.unwrap_or_else(|| d.mode.clone());
    let mut props = check_properties(&d.kind, &mode, raw)?;
    // GetDataSource never returns the password, so an update without one keeps it.
    if let (Some(old), Some(new)) = (d.properties.as_object(), props.as_object_mut()) {
        for (k, v) in old {
            if k.to_ascii_lowercase().contains("password") && !new.contains_key(k) {
                new.insert(k.clone(), v.clone());
            }
        }
    }
    d.properties = props;
    d.mode = mode;
    if let Some(desc) = description {
        d.description = desc;
    }
    d.modified_ms = epoch_ms();
    Ok(json!({"Success": true}))
}

fn delete_data_source(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let id: u64 = ctx.req_parse("Id")?;
    let region = data_source_region(ctx, id)?;
    dw(ctx, &region).data_sources.remove(&id);
    Ok(json!({"Success": true}))
}

fn test_data_source_connectivity(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let id: u64 = ctx.req_parse("DataSourceId")?;
    let project: u64 = ctx.req_parse("ProjectId")?;
    let rg = ctx.req("ResourceGroupId")?;
    let region = data_source_region(ctx, id)?;
    rg_region(ctx, rg)?;
    let ds = dw(ctx, &region).data_sources[&id].clone();
    if ds.project_id != project {
        return Err(ApiError::not_found(
            "DataSource.NotFound",
            format!("The data source {id} is not in workspace {project}."),
        ));
    }
    let uid = ctx.uid().to_string();
    let verdict = connectivity::test(
        ctx.world,
        &connectivity::Probe {
            dataworks_uid: &uid,
            project_id: project,
            resource_group_id: rg,
            data_source: &ds,
        },
        ctx.now,
    );
    Ok(json!({"Connectivity": verdict.to_json()}))
}
