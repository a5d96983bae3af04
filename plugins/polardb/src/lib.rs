//! dwlink plugin `polardb`: PolarDB clusters (DataWorks type `polardb`, PolarDB API
//! 2017-08-01). Discovery, the IP whitelist (Append/Delete only, never Cover, PolarDB's
//! group-name rules) and the DataWorks connection properties in cross-account mode.

mod api;

use api::{Attribute, Endpoints, Whitelist};
use dwlink_plugin_sdk::whitelist::{self, Limits};
use dwlink_plugin_sdk::{
    Api, Cloud, ConnectionRequest, Endpoint, InstanceRef, Location, LogLevel, Plugin, PluginError,
    PluginInfo, Properties, Subject, WhitelistGroup, WhitelistParams, export_plugin,
    serde_json::json, vpc,
};

const POLARDB: Api = Api::new("polardb", "2017-08-01");

const DESCRIBE_ATTRIBUTE: &str = "DescribeDBClusterAttribute";
const DESCRIBE_ENDPOINTS: &str = "DescribeDBClusterEndpoints";
const DESCRIBE_WHITELIST: &str = "DescribeDBClusterAccessWhitelist";
const MODIFY_WHITELIST: &str = "ModifyDBClusterAccessWhitelist";
/// The request parameter naming the cluster in every call.
const INSTANCE_PARAM: &str = "DBClusterId";

/// PolarDB whitelist limits: 1000 entries across all groups, 50 groups.
const LIMITS: Limits = Limits {
    max_entries: 1000,
    max_groups: Some(50),
};

/// The `polardb` plugin.
pub struct PolarDb;

fn subject(instance: &InstanceRef) -> Subject<'_> {
    Subject {
        kind: "PolarDB cluster",
        id: &instance.id,
        region: &instance.region,
    }
}

fn attribute(cloud: &dyn Cloud, instance: &InstanceRef) -> Result<Attribute, PluginError> {
    let s = subject(instance);
    let a: Attribute = cloud
        .call(
            POLARDB
                .request(DESCRIBE_ATTRIBUTE, &instance.region)
                .param("DBClusterId", &instance.id),
        )
        .map_err(|e| s.cloud_error(&POLARDB.declared(DESCRIBE_ATTRIBUTE), e))?;
    if a.id.is_empty() {
        return Err(PluginError::NotFound(format!(
            "{} was not found: {} returned no cluster. Check the cluster id and region in the \
             link file.",
            s.describe(),
            POLARDB.declared(DESCRIBE_ATTRIBUTE)
        )));
    }
    Ok(a)
}

/// PolarDB group names: 2-120 characters, lowercase letters and digits, starting with a
/// letter. Existing groups are always accepted.
fn check_group_name(instance: &InstanceRef, name: &str) -> Result<(), PluginError> {
    let b = name.as_bytes();
    let ok = (2..=120).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if ok {
        return Ok(());
    }
    Err(PluginError::InvalidInput(format!(
        "{}: whitelist group name {name:?} is not valid for PolarDB (2-120 characters: \
         lowercase letters and digits, starting with a letter), e.g. \"dataworks\"",
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
            POLARDB
                .request(MODIFY_WHITELIST, &instance.region)
                .param("DBClusterId", &instance.id)
                .param("DBClusterIPArrayName", group)
                .param("ModifyMode", mode)
                .param("SecurityIps", entries.join(",")),
        )
        .map_err(|e| s.cloud_error(&POLARDB.declared(MODIFY_WHITELIST), e))?;
    // The host waits for `discover` to say the cluster is running again.
    Ok(())
}

/// The role of an endpoint type, and its order (the cluster endpoint first).
fn endpoint_role(endpoint_type: &str) -> (u8, &'static str) {
    match endpoint_type {
        "Cluster" => (0, "cluster"),
        "Primary" => (1, "primary"),
        _ => (2, "custom"),
    }
}

impl Plugin for PolarDb {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "polardb".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            datasource_type: "polardb".into(),
            product: POLARDB.product.into(),
            api_version: POLARDB.version.into(),
            capabilities: vec![
                POLARDB.read(DESCRIBE_ATTRIBUTE, Some(INSTANCE_PARAM)),
                POLARDB.read(DESCRIBE_ENDPOINTS, Some(INSTANCE_PARAM)),
                POLARDB.read(DESCRIBE_WHITELIST, Some(INSTANCE_PARAM)),
                POLARDB.whitelist_write(
                    MODIFY_WHITELIST,
                    INSTANCE_PARAM,
                    WhitelistParams::modify_mode("DBClusterIPArrayName"),
                ),
                vpc::describe_vswitch_attributes(),
            ],
            summary: "PolarDB (MySQL or PostgreSQL compatible) cluster".into(),
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
        let endpoints: Endpoints = cloud
            .call(
                POLARDB
                    .request(DESCRIBE_ENDPOINTS, &instance.region)
                    .param("DBClusterId", &instance.id),
            )
            .map_err(|e| s.cloud_error(&POLARDB.declared(DESCRIBE_ENDPOINTS), e))?;
        let mut private: Vec<(u8, &'static str, &api::Address)> = Vec::new();
        for item in &endpoints.items {
            let (order, role) = endpoint_role(&item.endpoint_type);
            for address in &item.addresses {
                if address.net_type.eq_ignore_ascii_case("Private") {
                    private.push((order, role, address));
                }
            }
        }
        private.sort_by_key(|(order, _, _)| *order);
        let mut list = Vec::new();
        for (_, role, address) in &private {
            let port = dwlink_plugin_sdk::de::port(&address.port).ok_or_else(|| {
                PluginError::Other(format!(
                    "{}: {} returned port {:?} for {}; expected a TCP port",
                    s.describe(),
                    POLARDB.declared(DESCRIBE_ENDPOINTS),
                    address.port,
                    address.connection_string
                ))
            })?;
            list.push(Endpoint {
                host: address.connection_string.clone(),
                port,
                role: (*role).into(),
                address: Some(address.ip_address.clone()).filter(|a| !a.is_empty()),
            });
        }
        if list.is_empty() {
            return Err(PluginError::InvalidState(format!(
                "{} has no private endpoint; create a private address for its cluster \
                 endpoint, then run again",
                s.describe()
            )));
        }
        let first = private.first().map(|(_, _, a)| *a);
        let pick = |from_endpoint: Option<&String>, from_cluster: &String| {
            from_endpoint
                .filter(|v| !v.is_empty())
                .unwrap_or(from_cluster)
                .clone()
        };
        let vpc_id = pick(first.map(|f| &f.vpc_id), &a.vpc_id);
        let vswitch_id = pick(first.map(|f| &f.vswitch_id), &a.vswitch_id);
        if vpc_id.is_empty() || vswitch_id.is_empty() {
            return Err(PluginError::Other(format!(
                "{}: the cloud did not say which VPC and vSwitch the cluster is on",
                s.describe()
            )));
        }
        let vsw = vpc::vswitch(cloud, &instance.region, &vswitch_id, &s)?;
        let zone = if vsw.zone_id.is_empty() {
            a.zone_ids
                .split(',')
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        } else {
            vsw.zone_id
        };
        Ok(Location {
            region: instance.region.clone(),
            zone,
            vpc_id,
            vswitch_id,
            vswitch_cidr: vsw.cidr_block,
            endpoints: list,
            running: a.status == "Running",
            status: a.status,
        })
    }

    fn whitelist_list(
        cloud: &dyn Cloud,
        instance: &InstanceRef,
    ) -> Result<Vec<WhitelistGroup>, PluginError> {
        let s = subject(instance);
        let w: Whitelist = cloud
            .call(
                POLARDB
                    .request(DESCRIBE_WHITELIST, &instance.region)
                    .param("DBClusterId", &instance.id),
            )
            .map_err(|e| s.cloud_error(&POLARDB.declared(DESCRIBE_WHITELIST), e))?;
        Ok(w.items
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
        cloud: &dyn Cloud,
        request: &ConnectionRequest,
    ) -> Result<Properties, PluginError> {
        let s = subject(&request.instance);
        request.check(&s)?;
        // DataWorks needs the engine (`dbType`), which only the cluster knows.
        let a = attribute(cloud, &request.instance)?;
        let db_type = match a.db_type.to_ascii_lowercase().as_str() {
            "mysql" => "mysql",
            "postgresql" => "postgresql",
            other => {
                return Err(PluginError::InvalidInput(format!(
                    "{} is a PolarDB for {other:?} cluster; DataWorks `polardb` data sources \
                     support MySQL and PostgreSQL clusters only",
                    s.describe()
                )));
            }
        };
        let json = json!({
            "envType": request.env_type,
            "regionId": request.instance.region,
            "clusterId": request.instance.id,
            "dbType": db_type,
            "database": request.database,
            "username": request.username,
            "crossAccountOwnerId": request.owner_uid,
            "crossAccountRoleName": request.role_name,
        });
        Ok(json.as_object().cloned().unwrap_or_default())
    }
}

export_plugin!(PolarDb);

#[cfg(test)]
mod tests;
