//! dwlink plugin `mongodb`: ApsaraDB for MongoDB replica sets and sharded clusters (DataWorks
//! type `mongodb`, Dds API 2015-12-01). Discovery (primary or mongos endpoints), the IP
//! whitelist (Append/Delete only, never Cover; Append refuses duplicates, so present entries
//! are never sent) and the DataWorks connection properties in cross-account mode.

mod api;

use api::{AttributeResponse, Instance, SecurityIps};
use dwlink_plugin_sdk::whitelist::{self, Limits};
use dwlink_plugin_sdk::{
    Api, Cloud, ConnectionRequest, Endpoint, InstanceRef, Location, LogLevel, Plugin, PluginError,
    PluginInfo, Properties, Subject, WhitelistGroup, WhitelistParams, export_plugin,
    serde_json::json, vpc,
};

const DDS: Api = Api::new("Dds", "2015-12-01");

const DESCRIBE_ATTRIBUTE: &str = "DescribeDBInstanceAttribute";
const DESCRIBE_SECURITY_IPS: &str = "DescribeSecurityIps";
const MODIFY_SECURITY_IPS: &str = "ModifySecurityIps";
/// The request parameter naming the instance in every call.
const INSTANCE_PARAM: &str = "DBInstanceId";

/// MongoDB whitelist limit: 1000 entries per instance; no documented group limit.
const LIMITS: Limits = Limits {
    max_entries: 1000,
    max_groups: None,
};

/// The `mongodb` plugin.
pub struct MongoDb;

fn subject(instance: &InstanceRef) -> Subject<'_> {
    Subject {
        kind: "MongoDB instance",
        id: &instance.id,
        region: &instance.region,
    }
}

fn attribute(cloud: &dyn Cloud, instance: &InstanceRef) -> Result<Instance, PluginError> {
    let s = subject(instance);
    let response: AttributeResponse = cloud
        .call(
            DDS.request(DESCRIBE_ATTRIBUTE, &instance.region)
                .param("DBInstanceId", &instance.id),
        )
        .map_err(|e| s.cloud_error(&DDS.declared(DESCRIBE_ATTRIBUTE), e))?;
    response
        .instances
        .list
        .into_iter()
        .find(|i| i.id.is_empty() || i.id == instance.id)
        .ok_or_else(|| {
            PluginError::NotFound(format!(
                "{} was not found: {} returned no instance. Check the instance id and region \
                 in the link file.",
                s.describe(),
                DDS.declared(DESCRIBE_ATTRIBUTE)
            ))
        })
}

/// Group names: 2-120 characters, lowercase letters, digits and underscores, starting with a
/// letter. Existing groups are always accepted.
fn check_group_name(instance: &InstanceRef, name: &str) -> Result<(), PluginError> {
    let b = name.as_bytes();
    let ok = (2..=120).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_');
    if ok {
        return Ok(());
    }
    Err(PluginError::InvalidInput(format!(
        "{}: whitelist group name {name:?} is not valid (2-120 characters: lowercase letters, \
         digits and underscores, starting with a letter), e.g. \"dataworks\"",
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
    let a = attribute(cloud, instance)?;
    if a.status != "Running" {
        return Err(PluginError::InvalidState(format!(
            "{} is {:?}, not Running, so its whitelist cannot be changed now; wait until it is \
             Running, then run again",
            s.describe(),
            a.status
        )));
    }
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
            DDS.request(MODIFY_SECURITY_IPS, &instance.region)
                .param("DBInstanceId", &instance.id)
                .param("SecurityIpGroupName", group)
                .param("ModifyMode", mode)
                .param("SecurityIps", entries.join(",")),
        )
        .map_err(|e| s.cloud_error(&DDS.declared(MODIFY_SECURITY_IPS), e))?;
    // The host waits for `discover` to say the instance is running again.
    Ok(())
}

fn endpoint(s: &Subject<'_>, host: &str, port: &str, role: &str) -> Result<Endpoint, PluginError> {
    let port = dwlink_plugin_sdk::de::port(port).ok_or_else(|| {
        PluginError::Other(format!(
            "{}: {} returned port {port:?} for {host}; expected a TCP port",
            s.describe(),
            DDS.declared(DESCRIBE_ATTRIBUTE)
        ))
    })?;
    Ok(Endpoint {
        host: host.to_string(),
        port,
        role: role.to_string(),
        address: None,
    })
}

impl Plugin for MongoDb {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "mongodb".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            datasource_type: "mongodb".into(),
            product: DDS.product.into(),
            api_version: DDS.version.into(),
            capabilities: vec![
                DDS.read(DESCRIBE_ATTRIBUTE, Some(INSTANCE_PARAM)),
                DDS.read(DESCRIBE_SECURITY_IPS, Some(INSTANCE_PARAM)),
                DDS.whitelist_write(
                    MODIFY_SECURITY_IPS,
                    INSTANCE_PARAM,
                    WhitelistParams::modify_mode("SecurityIpGroupName"),
                ),
                vpc::describe_vswitch_attributes(),
            ],
            summary: "ApsaraDB for MongoDB (replica set or sharded cluster)".into(),
        }
    }

    fn discover(cloud: &dyn Cloud, instance: &InstanceRef) -> Result<Location, PluginError> {
        let s = subject(instance);
        let a = attribute(cloud, instance)?;
        if a.network_type.eq_ignore_ascii_case("Classic") {
            return Err(PluginError::InvalidState(format!(
                "{} is on the classic network; dwlink connects VPCs only",
                s.describe()
            )));
        }
        let private = |network_type: &str| {
            !network_type.eq_ignore_ascii_case("Public")
                && !network_type.eq_ignore_ascii_case("Classic")
        };
        let mut endpoints = Vec::new();
        let (mut vpc_id, mut vswitch_id) = (a.vpc_id.clone(), a.vswitch_id.clone());
        if a.instance_type.eq_ignore_ascii_case("sharding") {
            for m in &a.mongos.list {
                let host = if m.connect_string.is_empty() {
                    &m.connect_sting
                } else {
                    &m.connect_string
                };
                if host.is_empty() {
                    continue;
                }
                endpoints.push(endpoint(&s, host, &m.port, "mongos")?);
                if vswitch_id.is_empty() {
                    (vpc_id, vswitch_id) = (m.vpc_id.clone(), m.vswitch_id.clone());
                }
            }
        } else if let Some(primary) = a
            .replica_sets
            .list
            .iter()
            .find(|r| r.role.eq_ignore_ascii_case("Primary") && private(&r.network_type))
        {
            endpoints.push(endpoint(
                &s,
                &primary.domain,
                &primary.port,
                "replica-primary",
            )?);
            if !primary.vswitch_id.is_empty() {
                (vpc_id, vswitch_id) = (primary.vpc_id.clone(), primary.vswitch_id.clone());
            }
        }
        if endpoints.is_empty() {
            return Err(PluginError::InvalidState(format!(
                "{} reports no private {} endpoint; check that it is a VPC instance with a \
                 primary node",
                s.describe(),
                if a.instance_type.eq_ignore_ascii_case("sharding") {
                    "mongos"
                } else {
                    "primary"
                }
            )));
        }
        if vpc_id.is_empty() {
            vpc_id = a.vpc_id.clone();
        }
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
        let ips: SecurityIps = cloud
            .call(
                DDS.request(DESCRIBE_SECURITY_IPS, &instance.region)
                    .param("DBInstanceId", &instance.id),
            )
            .map_err(|e| s.cloud_error(&DDS.declared(DESCRIBE_SECURITY_IPS), e))?;
        let mut groups: Vec<WhitelistGroup> = ips
            .groups
            .list
            .into_iter()
            .map(|g| WhitelistGroup {
                entries: whitelist::split_list(&g.ips),
                name: g.name,
                attribute: g.attribute,
            })
            .collect();
        // Older answers carry only the default group, in `SecurityIps`.
        if groups.is_empty() && !ips.default_ips.is_empty() {
            groups.push(WhitelistGroup {
                name: "default".into(),
                entries: whitelist::split_list(&ips.default_ips),
                attribute: String::new(),
            });
        }
        Ok(groups)
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
        // Append fails on a duplicate: only entries not yet in the group are ever sent.
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

export_plugin!(MongoDb);

#[cfg(test)]
mod tests;
