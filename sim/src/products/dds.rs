//! ApsaraDB for MongoDB (Dds 2015-12-01): instance attributes with replica-set endpoints and
//! whitelist groups (`ModifySecurityIps` with Cover / Append / Extend / Delete).

use super::whitelist::{self, Mode, Rules};
use crate::error::{ApiError, ApiResult};
use crate::registry::{Product, Registry};
use crate::request::Ctx;
use crate::state::{DbStatus, MongoDbInstance, durations};
use serde_json::{Value, json};

pub static PRODUCT: Product = Product {
    code: "Dds",
    version: "2015-12-01",
    host: "mongodb.aliyuncs.com",
};

pub fn register(r: &mut Registry) {
    r.add(
        &PRODUCT,
        "DescribeDBInstanceAttribute",
        describe_db_instance_attribute,
    );
    r.add(&PRODUCT, "DescribeSecurityIps", describe_security_ips);
    r.add(&PRODUCT, "ModifySecurityIps", modify_security_ips);
}

const RULES: Rules = Rules {
    max_entries: 1000,
    max_groups: 50,
    append_rejects_duplicates: true,
    group_param: "SecurityIpGroupName",
};

/// The caller's instance (another account's is answered like a missing one) and its region.
fn instance<'w>(ctx: &'w mut Ctx<'_>) -> ApiResult<(String, &'w mut MongoDbInstance)> {
    let id = ctx.req("DBInstanceId")?;
    let uid = ctx.uid().to_string();
    ctx.world
        .regions
        .iter_mut()
        .filter(|((u, _), _)| *u == uid)
        .find_map(|((_, region), reg)| {
            reg.mongodb_instances
                .get_mut(id)
                .map(|i| (region.clone(), i))
        })
        .ok_or_else(|| {
            ApiError::not_found(
                "InvalidDBInstanceId.NotFound",
                format!("The specified instance {id} is not found in account {uid}."),
            )
        })
}

fn describe_db_instance_attribute(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    if let Some(e) = ctx.opt("Engine")
        && e != "MongoDB"
    {
        return Err(ApiError::invalid("Engine", format!("{e:?}: use MongoDB")));
    }
    let now = ctx.now;
    let (region, i) = instance(ctx)?;
    let status = i.status.poll(now);
    let sharding = i.kind == "sharding";
    let node = |n: usize, e: &crate::state::Endpoint| {
        json!({
            "ConnectionDomain": e.connection_string,
            "ConnectionPort": e.port.to_string(),
            "NetworkType": "VPC",
            "ReplicaSetRole": if e.kind == "Primary" { "Primary" } else { "Secondary" },
            "VPCId": e.vpc_id,
            "VSwitchId": e.vswitch_id,
            "VPCCloudInstanceId": format!("{}-vpc-{n}", i.id),
        })
    };
    let (replica_sets, mongos): (Vec<Value>, Vec<Value>) = if sharding {
        let mongos = i
            .endpoints
            .iter()
            .enumerate()
            .map(|(n, e)| {
                json!({
                    "NodeId": format!("s-{}{n}", i.id.trim_start_matches("dds-")),
                    "ConnectSting": e.connection_string,
                    "ConnectString": e.connection_string,
                    "Port": e.port,
                    "VPCId": e.vpc_id,
                    "VSwitchId": e.vswitch_id,
                    "VpcCloudInstanceId": format!("{}-vpc-{n}", i.id),
                    "NodeClass": "dds.mongos.mid",
                })
            })
            .collect();
        (Vec::new(), mongos)
    } else {
        (
            i.endpoints
                .iter()
                .enumerate()
                .map(|(n, e)| node(n, e))
                .collect(),
            Vec::new(),
        )
    };
    let mut inst = json!({
        "DBInstanceId": i.id,
        "DBInstanceDescription": i.description,
        "DBInstanceType": i.kind,
        "DBInstanceStatus": status.as_str(),
        "Engine": "MongoDB",
        "EngineVersion": i.engine_version,
        "NetworkType": "VPC",
        "VPCId": i.vpc_id,
        "VSwitchId": i.vswitch_id,
        "ZoneId": i.zone,
        "RegionId": region,
        "ReplicaSetName": i.replica_set_name,
        "VpcAuthMode": "Open",
        "ChargeType": "PostPaid",
        "LockMode": "Unlock",
        "CreationTime": i.created,
        "ReplicaSets": {"ReplicaSet": replica_sets},
    });
    if sharding {
        inst["MongosList"] = json!({"MongosAttribute": mongos});
    }
    Ok(json!({"DBInstances": {"DBInstance": [inst]}}))
}

fn describe_security_ips(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let (_, i) = instance(ctx)?;
    let default = i
        .whitelist
        .iter()
        .find(|g| g.name == whitelist::DEFAULT_GROUP)
        .map(|g| g.entries.join(","))
        .unwrap_or_default();
    let groups: Vec<Value> = i
        .whitelist
        .iter()
        .map(|g| {
            json!({
                "SecurityIpGroupName": g.name,
                "SecurityIpGroupAttribute": g.attribute,
                "SecurityIpList": g.entries.join(","),
            })
        })
        .collect();
    Ok(json!({
        "SecurityIps": default,
        "SecurityIpGroups": {"SecurityIpGroup": groups},
    }))
}

fn modify_security_ips(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let entries = whitelist::parse_entries(ctx.req("SecurityIps")?)?;
    let mode = Mode::parse(
        ctx.opt("ModifyMode"),
        &[Mode::Cover, Mode::Append, Mode::Extend, Mode::Delete],
    )?;
    let group = ctx
        .opt("SecurityIpGroupName")
        .unwrap_or(whitelist::DEFAULT_GROUP)
        .to_string();
    let attribute = ctx.opt("SecurityIpGroupAttribute").map(str::to_string);
    ctx.idempotent(|ctx| {
        let (now, pacer) = (ctx.now, ctx.world.pacer);
        let dry_run = ctx.bool("DryRun")? == Some(true);
        let (_, i) = instance(ctx)?;
        let status = i.status.peek(now);
        if status != DbStatus::Running {
            return Err(ApiError::forbidden(
                "OperationDenied.DBInstanceStatus",
                format!(
                    "Instance {} is {status}; ModifySecurityIps needs it Running. Wait and retry.",
                    i.id
                ),
            ));
        }
        let id = i.id.clone();
        let mut groups = i.whitelist.clone();
        whitelist::apply(
            &mut groups,
            &id,
            &group,
            attribute.as_deref(),
            mode,
            &entries,
            &RULES,
        )?;
        if dry_run {
            return Err(ApiError::dry_run());
        }
        i.whitelist = groups;
        i.status.begin(
            DbStatus::Modifying,
            &[(DbStatus::Running, durations::WHITELIST)],
            &pacer,
            now,
        );
        Ok(id)
    })?;
    Ok(json!({}))
}
