//! dwlink plugin `rds-mysql`: ApsaraDB RDS for MySQL (DataWorks type `mysql`, RDS API
//! 2014-08-15). Discovery, the IP whitelist (Append/Delete only, never Cover) and the
//! DataWorks connection properties in cross-account instance mode.

mod api;

use api::{Attribute, IpArrayList, NetInfoResponse};
use dwlink_plugin_sdk::vpc;
use dwlink_plugin_sdk::whitelist::{self, Limits};
use dwlink_plugin_sdk::{
    Api, Cloud, ConnectionRequest, Endpoint, InstanceRef, Location, LogLevel, Plugin, PluginError,
    PluginInfo, Properties, Subject, WhitelistGroup, WhitelistParams, export_plugin,
    serde_json::json,
};

const RDS: Api = Api::new("Rds", "2014-08-15");

const DESCRIBE_ATTRIBUTE: &str = "DescribeDBInstanceAttribute";
const DESCRIBE_NET_INFO: &str = "DescribeDBInstanceNetInfo";
const DESCRIBE_IP_ARRAYS: &str = "DescribeDBInstanceIPArrayList";
const MODIFY_SECURITY_IPS: &str = "ModifySecurityIps";
/// The request parameter naming the instance in every call.
const INSTANCE_PARAM: &str = "DBInstanceId";

/// RDS whitelist limits: 1000 entries per instance, 200 groups.
const LIMITS: Limits = Limits {
    max_entries: 1000,
    max_groups: Some(200),
};

/// The `rds-mysql` plugin.
pub struct RdsMysql;

fn subject(instance: &InstanceRef) -> Subject<'_> {
    Subject {
        kind: "RDS instance",
        id: &instance.id,
        region: &instance.region,
    }
}

fn attribute(cloud: &dyn Cloud, instance: &InstanceRef) -> Result<Attribute, PluginError> {
    let s = subject(instance);
    let response: api::AttributeResponse = cloud
        .call(
            RDS.request(DESCRIBE_ATTRIBUTE, &instance.region)
                .param("DBInstanceId", &instance.id),
        )
        .map_err(|e| s.cloud_error(&RDS.declared(DESCRIBE_ATTRIBUTE), e))?;
    response
        .items
        .list
        .into_iter()
        .find(|a| a.id.is_empty() || a.id == instance.id)
        .ok_or_else(|| {
            PluginError::NotFound(format!(
                "{} was not found: {} returned no instance. Check the instance id and region \
                 in the link file.",
                s.describe(),
                RDS.declared(DESCRIBE_ATTRIBUTE)
            ))
        })
}

/// Fails with invalid-state unless the instance is Running.
fn require_running(instance: &InstanceRef, a: &Attribute) -> Result<(), PluginError> {
    if a.status == "Running" {
        return Ok(());
    }
    Err(PluginError::InvalidState(format!(
        "{} is {:?}, not Running, so its whitelist cannot be changed now; wait until it is \
         Running, then run again",
        subject(instance).describe(),
        a.status
    )))
}

/// RDS group names: 2-120 characters, lowercase letters, digits and underscores, starting
/// with a letter and ending with a letter or digit. Existing groups are always accepted.
fn check_group_name(instance: &InstanceRef, name: &str) -> Result<(), PluginError> {
    let b = name.as_bytes();
    let ok = (2..=120).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_');
    if ok {
        return Ok(());
    }
    Err(PluginError::InvalidInput(format!(
        "{}: whitelist group name {name:?} is not valid for RDS (2-120 characters: lowercase \
         letters, digits and underscores, starting with a letter and ending with a letter or \
         digit)",
        subject(instance).describe()
    )))
}

fn modify(
    cloud: &dyn Cloud,
    instance: &InstanceRef,
    group: &str,
    entries: &[String],
    mode: &str,
) -> Result<(), PluginError> {
    let s = subject(instance);
    require_running(instance, &attribute(cloud, instance)?)?;
    cloud.log(
        LogLevel::Info,
        &format!(
            "{}: {mode} {} in whitelist group {group}",
            s.describe(),
            entries.join(",")
        ),
    );
    cloud
        .call::<dwlink_plugin_sdk::Ignored>(
            RDS.request(MODIFY_SECURITY_IPS, &instance.region)
                .param("DBInstanceId", &instance.id)
                .param("DBInstanceIPArrayName", group)
                .param("ModifyMode", mode)
                .param("SecurityIps", entries.join(",")),
        )
        .map_err(|e| s.cloud_error(&RDS.declared(MODIFY_SECURITY_IPS), e))?;
    // The instance may be in a transient status while the change applies: the host waits
    // for `discover` to say it is running again.
    Ok(())
}

impl Plugin for RdsMysql {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "rds-mysql".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            datasource_type: "mysql".into(),
            product: RDS.product.into(),
            api_version: RDS.version.into(),
            capabilities: vec![
                RDS.read(DESCRIBE_ATTRIBUTE, Some(INSTANCE_PARAM)),
                RDS.read(DESCRIBE_NET_INFO, Some(INSTANCE_PARAM)),
                RDS.read(DESCRIBE_IP_ARRAYS, Some(INSTANCE_PARAM)),
                RDS.whitelist_write(
                    MODIFY_SECURITY_IPS,
                    INSTANCE_PARAM,
                    WhitelistParams::modify_mode("DBInstanceIPArrayName"),
                ),
                vpc::describe_vswitch_attributes(),
            ],
            summary: "ApsaraDB RDS for MySQL".into(),
        }
    }

    fn discover(cloud: &dyn Cloud, instance: &InstanceRef) -> Result<Location, PluginError> {
        let s = subject(instance);
        let a = attribute(cloud, instance)?;
        if !a.engine.is_empty() && !a.engine.eq_ignore_ascii_case("MySQL") {
            return Err(PluginError::InvalidInput(format!(
                "{} runs {}, not MySQL; use the plugin for that engine",
                s.describe(),
                a.engine
            )));
        }
        if a.network_type.eq_ignore_ascii_case("Classic") {
            return Err(PluginError::InvalidState(format!(
                "{} is on the classic network; dwlink connects VPCs only. Switch the instance \
                 to a VPC first",
                s.describe()
            )));
        }
        let net: NetInfoResponse = cloud
            .call(
                RDS.request(DESCRIBE_NET_INFO, &instance.region)
                    .param("DBInstanceId", &instance.id),
            )
            .map_err(|e| s.cloud_error(&RDS.declared(DESCRIBE_NET_INFO), e))?;
        let mut private: Vec<&api::NetInfo> = net
            .infos
            .list
            .iter()
            .filter(|n| n.ip_type.eq_ignore_ascii_case("Private"))
            .collect();
        // The normal (read-write) endpoint first, then read-write-splitting ones.
        private.sort_by_key(|n| !n.string_type.is_empty() && n.string_type != "Normal");
        let mut endpoints = Vec::new();
        for n in &private {
            let Some(port) = dwlink_plugin_sdk::de::port(&n.port) else {
                return Err(PluginError::Other(format!(
                    "{}: {} returned port {:?} for {}; expected a TCP port",
                    s.describe(),
                    RDS.declared(DESCRIBE_NET_INFO),
                    n.port,
                    n.connection_string
                )));
            };
            let role = if n.string_type.is_empty() || n.string_type == "Normal" {
                "primary"
            } else {
                "read-write-splitting"
            };
            endpoints.push(Endpoint {
                host: n.connection_string.clone(),
                port,
                role: role.into(),
                address: Some(n.ip_address.clone()).filter(|a| !a.is_empty()),
            });
        }
        if endpoints.is_empty()
            && !a.connection_string.is_empty()
            && let Some(port) = dwlink_plugin_sdk::de::port(&a.port)
        {
            endpoints.push(Endpoint {
                host: a.connection_string.clone(),
                port,
                role: "primary".into(),
                address: None,
            });
        }
        if endpoints.is_empty() {
            return Err(PluginError::InvalidState(format!(
                "{} has no private (VPC) endpoint; create an internal endpoint for it, then run \
                 again",
                s.describe()
            )));
        }
        let first = private.first();
        let vpc_id = first
            .map(|n| n.vpc_id.clone())
            .filter(|v| !v.is_empty())
            .unwrap_or(a.vpc_id.clone());
        let vswitch_id = first
            .map(|n| n.vswitch_id.clone())
            .filter(|v| !v.is_empty())
            .unwrap_or(a.vswitch_id.clone());
        if vpc_id.is_empty() || vswitch_id.is_empty() {
            return Err(PluginError::Other(format!(
                "{}: the cloud did not say which VPC and vSwitch the instance is on",
                s.describe()
            )));
        }
        let vsw = vpc::vswitch(cloud, &instance.region, &vswitch_id, &s)?;
        Ok(Location {
            region: instance.region.clone(),
            zone: if vsw.zone_id.is_empty() {
                a.zone_id.clone()
            } else {
                vsw.zone_id
            },
            vpc_id,
            vswitch_id,
            vswitch_cidr: vsw.cidr_block,
            endpoints,
            running: a.status == "Running",
            status: a.status,
        })
    }

    fn whitelist_list(
        cloud: &dyn Cloud,
        instance: &InstanceRef,
    ) -> Result<Vec<WhitelistGroup>, PluginError> {
        let s = subject(instance);
        let list: IpArrayList = cloud
            .call(
                RDS.request(DESCRIBE_IP_ARRAYS, &instance.region)
                    .param("DBInstanceId", &instance.id),
            )
            .map_err(|e| s.cloud_error(&RDS.declared(DESCRIBE_IP_ARRAYS), e))?;
        Ok(list
            .items
            .list
            .into_iter()
            .map(|g| WhitelistGroup {
                entries: whitelist::split_list(&g.ips),
                name: g.name,
                attribute: g.attribute,
            })
            .collect())
    }

    fn whitelist_add(
        cloud: &dyn Cloud,
        instance: &InstanceRef,
        group: &str,
        cidrs: &[String],
    ) -> Result<(), PluginError> {
        let groups = Self::whitelist_list(cloud, instance)?;
        if !groups.iter().any(|g| g.name == group) {
            check_group_name(instance, group)?;
        }
        let missing = whitelist::plan_add(&subject(instance), &groups, group, cidrs, LIMITS)?;
        if missing.is_empty() {
            cloud.log(
                LogLevel::Info,
                &format!(
                    "{}: whitelist group {group} already holds every entry; nothing to do",
                    subject(instance).describe()
                ),
            );
            return Ok(());
        }
        modify(cloud, instance, group, &missing, "Append")
    }

    fn whitelist_remove(
        cloud: &dyn Cloud,
        instance: &InstanceRef,
        group: &str,
        cidrs: &[String],
    ) -> Result<(), PluginError> {
        let groups = Self::whitelist_list(cloud, instance)?;
        let present = whitelist::plan_remove(&subject(instance), &groups, group, cidrs)?;
        if present.is_empty() {
            return Ok(());
        }
        modify(cloud, instance, group, &present, "Delete")
    }

    fn connection_properties(
        _cloud: &dyn Cloud,
        request: &ConnectionRequest,
    ) -> Result<Properties, PluginError> {
        request.check(&subject(&request.instance))?;
        let json = json!({
            "envType": request.env_type,
            "regionId": request.instance.region,
            "instanceId": request.instance.id,
            "database": request.database,
            "username": request.username,
            "crossAccountOwnerId": request.owner_uid,
            "crossAccountRoleName": request.role_name,
        });
        Ok(json.as_object().cloned().unwrap_or_default())
    }
}

export_plugin!(RdsMysql);

#[cfg(test)]
mod tests;
