//! PolarDB 2017-08-01: cluster attributes, endpoints and whitelist groups.

use super::whitelist::{self, Mode, Rules};
use crate::error::{ApiError, ApiResult};
use crate::registry::{Product, Registry};
use crate::request::Ctx;
use crate::state::{DbStatus, PolarDbCluster, durations};
use serde_json::{Value, json};

pub static PRODUCT: Product = Product {
    code: "polardb",
    version: "2017-08-01",
    host: "polardb.aliyuncs.com",
};

pub fn register(r: &mut Registry) {
    r.add(
        &PRODUCT,
        "DescribeDBClusterAttribute",
        describe_db_cluster_attribute,
    );
    r.add(
        &PRODUCT,
        "DescribeDBClusterEndpoints",
        describe_db_cluster_endpoints,
    );
    r.add(
        &PRODUCT,
        "DescribeDBClusterAccessWhitelist",
        describe_db_cluster_access_whitelist,
    );
    r.add(
        &PRODUCT,
        "ModifyDBClusterAccessWhitelist",
        modify_db_cluster_access_whitelist,
    );
}

const RULES: Rules = Rules {
    max_entries: 1000,
    max_groups: 50,
    append_rejects_duplicates: false,
    group_param: "DBClusterIPArrayName",
};

/// The caller's cluster (another account's is answered like a missing one) and its region.
fn cluster<'w>(ctx: &'w mut Ctx<'_>) -> ApiResult<(String, &'w mut PolarDbCluster)> {
    let id = ctx.req("DBClusterId")?;
    let uid = ctx.uid().to_string();
    ctx.world
        .regions
        .iter_mut()
        .filter(|((u, _), _)| *u == uid)
        .find_map(|((_, region), reg)| {
            reg.polardb_clusters
                .get_mut(id)
                .map(|c| (region.clone(), c))
        })
        .ok_or_else(|| {
            ApiError::not_found(
                "InvalidDBClusterId.NotFound",
                format!("The specified DB cluster {id} is not found in account {uid}."),
            )
        })
}

fn describe_db_cluster_attribute(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let now = ctx.now;
    let (region, c) = cluster(ctx)?;
    let status = c.status.poll(now);
    let node = |n: u32, role: &str| {
        json!({
            "DBNodeId": format!("pi-{}{n:02}", c.id.trim_start_matches("pc-")),
            "DBNodeRole": role,
            "DBNodeStatus": "Running",
            "DBNodeClass": "polar.mysql.x4.medium",
            "ZoneId": c.zone,
        })
    };
    Ok(json!({
        "DBClusterId": c.id,
        "DBClusterDescription": c.description,
        "RegionId": region,
        "ZoneIds": c.zone,
        "VPCId": c.vpc_id,
        "VSwitchId": c.vswitch_id,
        "DBClusterNetworkType": "VPC",
        "DBClusterStatus": status.as_str(),
        "DBType": c.db_type,
        "DBVersion": c.db_version,
        "Engine": "POLARDB",
        "Category": "Normal",
        "PayType": "Postpaid",
        "LockMode": "Unlock",
        "CreationTime": c.created,
        "DBNodes": [node(1, "Writer"), node(2, "Reader")],
    }))
}

fn describe_db_cluster_endpoints(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let wanted = ctx.opt("DBEndpointId").map(str::to_string);
    let (_, c) = cluster(ctx)?;
    let mut items = Vec::new();
    for (n, e) in c.endpoints.iter().enumerate() {
        let endpoint_id = format!("{}-{}", c.id, e.kind.to_lowercase());
        if wanted.as_deref().is_some_and(|w| w != endpoint_id) {
            continue;
        }
        let rw = if e.kind == "Primary" {
            "ReadWrite"
        } else {
            "ReadOnly"
        };
        items.push(json!({
            "DBClusterId": c.id,
            "DBEndpointId": endpoint_id,
            "EndpointType": e.kind,
            "ReadWriteMode": if e.kind == "Cluster" { "ReadWrite" } else { rw },
            "AutoAddNewNodes": "Enable",
            "Nodes": "",
            "AddressItems": [{
                "ConnectionString": e.connection_string,
                "IPAddress": e.ip.to_string(),
                "NetType": "Private",
                "Port": e.port.to_string(),
                "VPCId": e.vpc_id,
                "VSwitchId": e.vswitch_id,
                "VpcInstanceId": format!("{}-vpc-{n}", c.id),
                "PrivateZoneConnectionString": "",
            }],
        }));
    }
    Ok(json!({"Items": items}))
}

fn describe_db_cluster_access_whitelist(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let (_, c) = cluster(ctx)?;
    let items: Vec<Value> = c
        .whitelist
        .iter()
        .map(|g| {
            json!({
                "DBClusterIPArrayName": g.name,
                "DBClusterIPArrayAttribute": g.attribute,
                "SecurityIps": g.entries.join(","),
            })
        })
        .collect();
    Ok(json!({
        "Items": {"DBClusterIPArray": items},
        "DBClusterSecurityGroups": {"DBClusterSecurityGroup": []},
    }))
}

fn modify_db_cluster_access_whitelist(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    if let Some(t) = ctx.opt("WhiteListType")
        && t != "IP"
    {
        return Err(ApiError::invalid(
            "WhiteListType",
            format!("{t:?}: only IP whitelists are simulated"),
        ));
    }
    let entries = whitelist::parse_entries(ctx.req("SecurityIps")?)?;
    let mode = Mode::parse(
        ctx.opt("ModifyMode"),
        &[Mode::Cover, Mode::Append, Mode::Delete],
    )?;
    let group = ctx
        .opt("DBClusterIPArrayName")
        .unwrap_or(whitelist::DEFAULT_GROUP)
        .to_string();
    let attribute = ctx.opt("DBClusterIPArrayAttribute");
    let (now, pacer) = (ctx.now, ctx.world.pacer);
    let (_, c) = cluster(ctx)?;
    let status = c.status.peek(now);
    if status != DbStatus::Running {
        return Err(ApiError::forbidden(
            "OperationDenied.DBClusterStatus",
            format!(
                "Cluster {} is {status}; ModifyDBClusterAccessWhitelist needs it Running. Wait and retry.",
                c.id
            ),
        ));
    }
    let id = c.id.clone();
    whitelist::apply(
        &mut c.whitelist,
        &id,
        &group,
        attribute,
        mode,
        &entries,
        &RULES,
    )?;
    c.status.begin(
        DbStatus::Modifying,
        &[(DbStatus::Running, durations::WHITELIST)],
        &pacer,
        now,
    );
    Ok(json!({}))
}
