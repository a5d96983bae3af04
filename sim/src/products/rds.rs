//! RDS 2014-08-15: instance attributes, the VPC endpoint, whitelist groups (`ModifySecurityIps`).

use super::whitelist::{self, Mode, Rules};
use crate::error::{ApiError, ApiResult};
use crate::registry::{Product, Registry};
use crate::request::Ctx;
use crate::state::{DbStatus, RdsInstance, durations};
use serde_json::{Value, json};

pub static PRODUCT: Product = Product {
    code: "Rds",
    version: "2014-08-15",
    host: "rds.aliyuncs.com",
};

pub fn register(r: &mut Registry) {
    r.add(
        &PRODUCT,
        "DescribeDBInstanceAttribute",
        describe_db_instance_attribute,
    );
    r.add(
        &PRODUCT,
        "DescribeDBInstanceNetInfo",
        describe_db_instance_net_info,
    );
    r.add(
        &PRODUCT,
        "DescribeDBInstanceIPArrayList",
        describe_db_instance_ip_array_list,
    );
    r.add(&PRODUCT, "ModifySecurityIps", modify_security_ips);
}

const RULES: Rules = Rules {
    max_entries: 1000,
    max_groups: 200,
    append_rejects_duplicates: false,
    group_param: "DBInstanceIPArrayName",
};

/// The caller's instance (another account's is answered like a missing one) and its region.
fn instance<'w>(ctx: &'w mut Ctx<'_>) -> ApiResult<(String, &'w mut RdsInstance)> {
    let id = ctx.req("DBInstanceId")?;
    let uid = ctx.uid().to_string();
    ctx.world
        .regions
        .iter_mut()
        .filter(|((u, _), _)| *u == uid)
        .find_map(|((_, region), reg)| reg.rds_instances.get_mut(id).map(|i| (region.clone(), i)))
        .ok_or_else(|| {
            ApiError::not_found(
                "InvalidDBInstanceId.NotFound",
                format!("The specified instance {id} is not found in account {uid}."),
            )
        })
}

fn describe_db_instance_attribute(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let now = ctx.now;
    let (region, i) = instance(ctx)?;
    let status = i.status.poll(now);
    let ep = i.endpoints.first();
    let ips: Vec<String> = i
        .whitelist
        .iter()
        .flat_map(|g| g.entries.iter().cloned())
        .collect();
    Ok(json!({"Items": {"DBInstanceAttribute": [{
        "DBInstanceId": i.id,
        "DBInstanceDescription": i.description,
        "RegionId": region,
        "ZoneId": i.zone,
        "VpcId": i.vpc_id,
        "VSwitchId": i.vswitch_id,
        "VpcCloudInstanceId": format!("{}_vpc", i.id),
        "InstanceNetworkType": "VPC",
        "DBInstanceNetType": "Intranet",
        "IPType": "IPv4",
        "ConnectionString": ep.map(|e| e.connection_string.clone()).unwrap_or_default(),
        "Port": ep.map(|e| e.port.to_string()).unwrap_or_default(),
        "DBInstanceStatus": status.as_str(),
        "Engine": i.engine,
        "EngineVersion": i.engine_version,
        "DBInstanceClass": i.class,
        "DBInstanceType": "Primary",
        "Category": "HighAvailability",
        "PayType": "Postpaid",
        "LockMode": "Unlock",
        "SecurityIPMode": "normal",
        "SecurityIPList": ips.join(","),
        "CreationTime": i.created,
    }]}}))
}

fn describe_db_instance_net_info(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let (_, i) = instance(ctx)?;
    let groups: Vec<Value> = i
        .whitelist
        .iter()
        .map(|g| json!({"SecurityIPGroupName": g.name, "SecurityIPs": g.entries.join(",")}))
        .collect();
    let infos: Vec<Value> = i
        .endpoints
        .iter()
        .map(|e| {
            json!({
                "ConnectionString": e.connection_string,
                "IPAddress": e.ip.to_string(),
                "IPType": "Private",
                "Port": e.port.to_string(),
                "VPCId": e.vpc_id,
                "VSwitchId": e.vswitch_id,
                "ConnectionStringType": "Normal",
                "Upgradeable": "Disabled",
                "SecurityIPGroups": {"securityIPGroup": groups},
            })
        })
        .collect();
    Ok(json!({
        "DBInstanceNetInfos": {"DBInstanceNetInfo": infos},
        "InstanceNetworkType": "VPC",
        "SecurityIPMode": "normal",
    }))
}

fn describe_db_instance_ip_array_list(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let (_, i) = instance(ctx)?;
    let items: Vec<Value> = i
        .whitelist
        .iter()
        .map(|g| {
            json!({
                "DBInstanceIPArrayName": g.name,
                "DBInstanceIPArrayAttribute": g.attribute,
                "SecurityIPType": "IPv4",
                "SecurityIPList": g.entries.join(","),
                "WhitelistNetworkType": "MIX",
            })
        })
        .collect();
    Ok(json!({"Items": {"DBInstanceIPArray": items}}))
}

fn modify_security_ips(ctx: &mut Ctx<'_>) -> ApiResult<Value> {
    let entries = whitelist::parse_entries(ctx.req("SecurityIps")?)?;
    let mode = Mode::parse(
        ctx.opt("ModifyMode"),
        &[Mode::Cover, Mode::Append, Mode::Delete],
    )?;
    let group = ctx
        .opt("DBInstanceIPArrayName")
        .unwrap_or(whitelist::DEFAULT_GROUP)
        .to_string();
    let attribute = ctx.opt("DBInstanceIPArrayAttribute");
    if let Some(t) = ctx.opt("SecurityIPType")
        && !t.eq_ignore_ascii_case("IPv4")
    {
        return Err(ApiError::invalid(
            "SecurityIPType",
            format!("{t:?}: only IPv4 is simulated"),
        ));
    }
    let (now, pacer) = (ctx.now, ctx.world.pacer);
    let (_, i) = instance(ctx)?;
    let status = i.status.peek(now);
    if status != DbStatus::Running {
        return Err(ApiError::forbidden(
            "IncorrectDBInstanceState",
            format!(
                "Instance {} is {status}; ModifySecurityIps needs it Running. Wait and retry.",
                i.id
            ),
        ));
    }
    let id = i.id.clone();
    whitelist::apply(
        &mut i.whitelist,
        &id,
        &group,
        attribute,
        mode,
        &entries,
        &RULES,
    )?;
    // The change is applied in the background: the instance reports a transient status.
    i.status.begin(
        DbStatus::Modifying,
        &[(DbStatus::Running, durations::WHITELIST)],
        &pacer,
        now,
    );
    let task_id = ctx.world.ids.number().to_string();
    Ok(json!({"TaskId": task_id}))
}
