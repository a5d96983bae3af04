//! DataWorks dataworks-public 2024-05-18: resource groups, their networks and routes, data
//! sources, the connectivity test. `List*`, `Get*` and `DeleteDataSource` are GET calls.

use super::{
    DATAWORKS,
    json::{arr, at, s},
    send,
};
use crate::cloud::{Call, Caller, CloudError};
use dwlink_acs::Params;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceGroup {
    pub id: String,
    pub name: String,
    pub status: String,
    pub kind: String,
    pub default_vpc_id: String,
    pub default_vswitch_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub id: String,
    pub resource_group_id: String,
    pub vpc_id: String,
    pub vswitch_id: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub id: String,
    pub network_id: String,
    pub destination: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSource {
    pub id: String,
    pub name: String,
    pub kind: String,
}

/// The connectivity test's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connectivity {
    /// `Connectable`, `ConfigError`, `Unreachable`, `Unsupport`.
    pub state: String,
    pub message: String,
    pub detail_logs: Vec<DetailLog>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailLog {
    pub code: String,
    pub message: String,
}

pub async fn get_resource_group(
    c: &dyn Caller,
    region: &str,
    id: &str,
) -> Result<ResourceGroup, CloudError> {
    let v = send(
        c,
        DATAWORKS
            .call("GetResourceGroup", region)
            .get()
            .params(Params::new().set("Id", id)),
    )
    .await?;
    let g = v.get("ResourceGroup").unwrap_or(&v);
    // Get spells it DefaultVswitchId, List spells it DefaultVswicthId: accept both.
    let mut vsw = s(g, "DefaultVswitchId");
    if vsw.is_empty() {
        vsw = s(g, "DefaultVswicthId");
    }
    Ok(ResourceGroup {
        id: s(g, "Id"),
        name: s(g, "Name"),
        status: s(g, "Status"),
        kind: s(g, "ResourceGroupType"),
        default_vpc_id: s(g, "DefaultVpcId"),
        default_vswitch_id: vsw,
    })
}

pub async fn list_networks(
    c: &dyn Caller,
    region: &str,
    resource_group: &str,
) -> Result<Vec<Network>, CloudError> {
    let v = send(
        c,
        DATAWORKS.call("ListNetworks", region).get().params(
            Params::new()
                .set("ResourceGroupId", resource_group)
                .set("PageSize", 100),
        ),
    )
    .await?;
    Ok(arr(&v, &["PagingInfo", "NetworkList"])
        .iter()
        .map(|x| Network {
            id: s(x, "Id"),
            resource_group_id: s(x, "ResourceGroupId"),
            vpc_id: s(x, "VpcId"),
            vswitch_id: s(x, "VswitchId"),
            status: s(x, "Status"),
        })
        .collect())
}

pub async fn list_routes(
    c: &dyn Caller,
    region: &str,
    resource_group: &str,
) -> Result<Vec<Route>, CloudError> {
    let v = send(
        c,
        DATAWORKS.call("ListRoutes", region).get().params(
            Params::new()
                .set("ResourceGroupId", resource_group)
                .set("PageSize", 100),
        ),
    )
    .await?;
    Ok(arr(&v, &["PagingInfo", "RouteList"])
        .iter()
        .map(|x| Route {
            id: s(x, "Id"),
            network_id: s(x, "NetworkId"),
            destination: s(x, "DestinationCidr"),
        })
        .collect())
}

/// Data sources of a workspace with this name (the name is unique per workspace).
pub async fn list_data_sources(
    c: &dyn Caller,
    region: &str,
    project_id: u64,
    name: &str,
) -> Result<Vec<DataSource>, CloudError> {
    let v = send(
        c,
        DATAWORKS.call("ListDataSources", region).get().params(
            Params::new()
                .set("ProjectId", project_id)
                .set("Name", name)
                .set("PageSize", 100),
        ),
    )
    .await?;
    let mut out = Vec::new();
    for group in arr(&v, &["PagingInfo", "DataSources"]) {
        for ds in arr(group, &["DataSource"]) {
            out.push(DataSource {
                id: s(ds, "Id"),
                name: s(group, "Name"),
                kind: s(group, "Type"),
            });
        }
    }
    Ok(out.into_iter().filter(|d| d.name == name).collect())
}

pub async fn test_connectivity(
    c: &dyn Caller,
    region: &str,
    project_id: u64,
    data_source_id: &str,
    resource_group: &str,
) -> Result<Connectivity, CloudError> {
    let v = send(
        c,
        DATAWORKS.call("TestDataSourceConnectivity", region).params(
            Params::new()
                .set("ProjectId", project_id)
                .set("DataSourceId", data_source_id)
                .set("ResourceGroupId", resource_group),
        ),
    )
    .await?;
    let k = at(&v, &["Connectivity"]).unwrap_or(&v);
    Ok(Connectivity {
        state: s(k, "ConnectState"),
        message: s(k, "ConnectMessage"),
        detail_logs: arr(k, &["DetailLogs"])
            .iter()
            .map(|l| DetailLog {
                code: s(l, "Code"),
                message: s(l, "Message"),
            })
            .collect(),
    })
}

// ---- writes ----

/// CreateRoute -> `Id` (a number). DataWorks takes no ClientToken here: the engine looks the
/// route up by destination before creating it.
pub fn create_route_call(
    region: &str,
    network_id: &str,
    destination: &str,
    resource_group: &str,
) -> Call {
    DATAWORKS.call("CreateRoute", region).params(
        Params::new()
            .set("NetworkId", network_id)
            .set("DestinationCidr", destination)
            .set("ResourceGroupId", resource_group),
    )
}

pub fn delete_route_call(region: &str, id: &str) -> Call {
    DATAWORKS
        .call("DeleteRoute", region)
        .params(Params::new().set("Id", id))
}

/// CreateDataSource -> `Id`. `properties` is the ConnectionProperties JSON text (it holds the
/// password: never log the returned call).
pub fn create_data_source_call(
    region: &str,
    project_id: u64,
    name: &str,
    kind: &str,
    properties: &str,
) -> Call {
    DATAWORKS.call("CreateDataSource", region).params(
        Params::new()
            .set("ProjectId", project_id)
            .set("Name", name)
            .set("Type", kind)
            .set("ConnectionPropertiesMode", "InstanceMode")
            .set("ConnectionProperties", properties)
            .set("Description", "registered by dwlink"),
    )
}

pub fn delete_data_source_call(region: &str, id: &str) -> Call {
    DATAWORKS
        .call("DeleteDataSource", region)
        .get()
        .params(Params::new().set("Id", id))
}
