//! CEN / CBN 2017-09-12: CEN instances, transit routers, VPC and peer attachments, transit-router
//! route tables (association and propagation).

use super::{
    CBN,
    json::{arr, s},
    send,
};
use crate::cloud::{Call, Caller, CloudError};
use dwlink_acs::Params;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cen {
    pub id: String,
    pub name: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitRouter {
    pub id: String,
    pub cen_id: String,
    pub region: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcAttachment {
    pub id: String,
    pub status: String,
    pub cen_id: String,
    pub transit_router_id: String,
    pub vpc_id: String,
    pub vpc_owner_id: String,
    pub vpc_region: String,
    /// (zone, vSwitch) pairs.
    pub zones: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerAttachment {
    pub id: String,
    pub status: String,
    pub transit_router_id: String,
    pub peer_transit_router_id: String,
    pub peer_region: String,
}

/// A transit-router route table and which attachments it associates / learns from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrRouteTable {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub associations: Vec<String>,
    pub propagations: Vec<String>,
    /// Associations and propagations not yet Active (Associating, Enabling): `(propagation?,
    /// attachment id)`.
    pub settling: Vec<(bool, String)>,
}

/// CEN instances, filtered by id or by name.
pub async fn describe_cens(
    c: &dyn Caller,
    region: &str,
    key: &str,
    value: &str,
) -> Result<Vec<Cen>, CloudError> {
    let v = send(
        c,
        CBN.call("DescribeCens", region).params(
            Params::new()
                .set("Filter.1.Key", key)
                .set("Filter.1.Value.1", value)
                .set("PageSize", 50),
        ),
    )
    .await?;
    Ok(arr(&v, &["Cens", "Cen"])
        .iter()
        .map(|x| Cen {
            id: s(x, "CenId"),
            name: s(x, "Name"),
            status: s(x, "Status"),
        })
        .collect())
}

pub async fn list_transit_routers(
    c: &dyn Caller,
    region: &str,
    cen_id: &str,
) -> Result<Vec<TransitRouter>, CloudError> {
    let v = send(
        c,
        CBN.call("ListTransitRouters", region).params(
            Params::new()
                .set("CenId", cen_id)
                .set("RegionId", region)
                .set("PageSize", 50),
        ),
    )
    .await?;
    Ok(arr(&v, &["TransitRouters"])
        .iter()
        .map(|x| TransitRouter {
            id: s(x, "TransitRouterId"),
            cen_id: s(x, "CenId"),
            region: s(x, "RegionId"),
            status: s(x, "Status"),
        })
        .collect())
}

fn parse_vpc_attachment(x: &Value) -> VpcAttachment {
    VpcAttachment {
        id: s(x, "TransitRouterAttachmentId"),
        status: s(x, "Status"),
        cen_id: s(x, "CenId"),
        transit_router_id: s(x, "TransitRouterId"),
        vpc_id: s(x, "VpcId"),
        vpc_owner_id: s(x, "VpcOwnerId"),
        vpc_region: s(x, "VpcRegionId"),
        zones: arr(x, &["ZoneMappings"])
            .iter()
            .map(|z| (s(z, "ZoneId"), s(z, "VSwitchId")))
            .collect(),
    }
}

/// VPC attachments, filtered by CEN and/or VPC (follows NextToken).
pub async fn list_vpc_attachments(
    c: &dyn Caller,
    region: &str,
    cen_id: Option<&str>,
    vpc_id: Option<&str>,
) -> Result<Vec<VpcAttachment>, CloudError> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let v = send(
            c,
            CBN.call("ListTransitRouterVpcAttachments", region).params(
                Params::new()
                    .set("RegionId", region)
                    .set_opt("CenId", cen_id)
                    .set_opt("VpcId", vpc_id)
                    .set("MaxResults", 100)
                    .set_opt("NextToken", (!token.is_empty()).then_some(&token)),
            ),
        )
        .await?;
        out.extend(
            arr(&v, &["TransitRouterAttachments"])
                .iter()
                .map(parse_vpc_attachment),
        );
        token = s(&v, "NextToken");
        if token.is_empty() {
            break;
        }
    }
    Ok(out)
}

pub async fn list_peer_attachments(
    c: &dyn Caller,
    region: &str,
    cen_id: &str,
) -> Result<Vec<PeerAttachment>, CloudError> {
    let v = send(
        c,
        CBN.call("ListTransitRouterPeerAttachments", region).params(
            Params::new()
                .set("CenId", cen_id)
                .set("RegionId", region)
                .set("MaxResults", 100),
        ),
    )
    .await?;
    Ok(arr(&v, &["TransitRouterAttachments"])
        .iter()
        .map(|x| PeerAttachment {
            id: s(x, "TransitRouterAttachmentId"),
            status: s(x, "Status"),
            transit_router_id: s(x, "TransitRouterId"),
            peer_transit_router_id: s(x, "PeerTransitRouterId"),
            peer_region: s(x, "PeerTransitRouterRegionId"),
        })
        .collect())
}

/// The transit router's system route table with its associations and propagations.
pub async fn system_route_table(
    c: &dyn Caller,
    region: &str,
    tr_id: &str,
) -> Result<Option<TrRouteTable>, CloudError> {
    let v = send(
        c,
        CBN.call("ListTransitRouterRouteTables", region).params(
            Params::new()
                .set("RegionId", region)
                .set("TransitRouterId", tr_id)
                .set("TransitRouterRouteTableType", "System"),
        ),
    )
    .await?;
    let Some(t) = arr(&v, &["TransitRouterRouteTables"]).first() else {
        return Ok(None);
    };
    let id = s(t, "TransitRouterRouteTableId");
    let links = |action: &str| {
        CBN.call(action, region).params(
            Params::new()
                .set("RegionId", region)
                .set("TransitRouterRouteTableId", &id)
                .set("MaxResults", 100),
        )
    };
    let (a_call, a_field) = (
        links("ListTransitRouterRouteTableAssociations"),
        "TransitRouterAssociations",
    );
    let (p_call, p_field) = (
        links("ListTransitRouterRouteTablePropagations"),
        "TransitRouterPropagations",
    );
    let attached = |v: &Value, field: &str| {
        arr(v, &[field])
            .iter()
            .filter(|x| !matches!(s(x, "Status").as_str(), "Dissociating" | "Disabling"))
            .map(|x| s(x, "TransitRouterAttachmentId"))
            .collect::<Vec<_>>()
    };
    let av = send(c, a_call).await?;
    let pv = send(c, p_call).await?;
    let settling = [(false, &av, a_field), (true, &pv, p_field)]
        .into_iter()
        .flat_map(|(propagation, v, field)| {
            arr(v, &[field])
                .iter()
                .filter(|x| matches!(s(x, "Status").as_str(), "Associating" | "Enabling"))
                .map(|x| (propagation, s(x, "TransitRouterAttachmentId")))
                .collect::<Vec<_>>()
        })
        .collect();
    Ok(Some(TrRouteTable {
        associations: attached(&av, a_field),
        propagations: attached(&pv, p_field),
        settling,
        id,
        kind: s(t, "TransitRouterRouteTableType"),
        status: s(t, "TransitRouterRouteTableStatus"),
    }))
}

/// The status of `attachment`'s association with (or, with `propagation`, its propagation
/// into) the transit-router route table `table`; `None` when there is none.
pub async fn route_table_link_status(
    c: &dyn Caller,
    region: &str,
    table: &str,
    attachment: &str,
    propagation: bool,
) -> Result<Option<String>, CloudError> {
    let (action, field) = if propagation {
        (
            "ListTransitRouterRouteTablePropagations",
            "TransitRouterPropagations",
        )
    } else {
        (
            "ListTransitRouterRouteTableAssociations",
            "TransitRouterAssociations",
        )
    };
    let v = send(
        c,
        CBN.call(action, region).params(
            Params::new()
                .set("RegionId", region)
                .set("TransitRouterRouteTableId", table)
                .set("TransitRouterAttachmentId", attachment)
                .set("MaxResults", 100),
        ),
    )
    .await?;
    Ok(arr(&v, &[field])
        .iter()
        .find(|x| s(x, "TransitRouterAttachmentId") == attachment)
        .map(|x| s(x, "Status")))
}

// ---- writes ----

/// CreateCen -> `CenId`.
pub fn create_cen_call(region: &str, name: &str, token: &str) -> Call {
    CBN.call("CreateCen", region).params(
        Params::new()
            .set("Name", name)
            .set("Description", "created by dwlink")
            .set("ClientToken", token),
    )
}

pub fn delete_cen_call(region: &str, cen_id: &str) -> Call {
    CBN.call("DeleteCen", region)
        .params(Params::new().set("CenId", cen_id))
}

/// CreateTransitRouter -> `TransitRouterId`.
pub fn create_transit_router_call(region: &str, cen_id: &str, name: &str, token: &str) -> Call {
    CBN.call("CreateTransitRouter", region).params(
        Params::new()
            .set("CenId", cen_id)
            .set("RegionId", region)
            .set("TransitRouterName", name)
            .set("ClientToken", token),
    )
}

pub fn delete_transit_router_call(region: &str, tr_id: &str) -> Call {
    CBN.call("DeleteTransitRouter", region).params(
        Params::new()
            .set("RegionId", region)
            .set("TransitRouterId", tr_id),
    )
}

/// CreateTransitRouterVpcAttachment -> `TransitRouterAttachmentId`. `vpc_owner` is set when the
/// VPC belongs to another account (cross-account attachment).
#[allow(clippy::too_many_arguments)]
pub fn create_vpc_attachment_call(
    region: &str,
    cen_id: &str,
    tr_id: &str,
    vpc_id: &str,
    vpc_owner: Option<&str>,
    zones: &[(String, String)],
    name: &str,
    token: &str,
) -> Call {
    CBN.call("CreateTransitRouterVpcAttachment", region).params(
        Params::new()
            .set("RegionId", region)
            .set("CenId", cen_id)
            .set("TransitRouterId", tr_id)
            .set("VpcId", vpc_id)
            .set_opt("VpcOwnerId", vpc_owner)
            .objects(
                "ZoneMappings",
                zones
                    .iter()
                    .map(|(z, v)| [("ZoneId", z.as_str()), ("VSwitchId", v.as_str())]),
            )
            .set("TransitRouterAttachmentName", name)
            .set("ClientToken", token),
    )
}

pub fn delete_vpc_attachment_call(region: &str, id: &str) -> Call {
    CBN.call("DeleteTransitRouterVpcAttachment", region)
        .params(Params::new().set("TransitRouterAttachmentId", id))
}

/// CreateTransitRouterPeerAttachment (inter-region connection) -> `TransitRouterAttachmentId`.
pub fn create_peer_attachment_call(
    region: &str,
    cen_id: &str,
    tr_id: &str,
    peer_tr_id: &str,
    peer_region: &str,
    name: &str,
    token: &str,
) -> Call {
    CBN.call("CreateTransitRouterPeerAttachment", region)
        .params(
            Params::new()
                .set("RegionId", region)
                .set("CenId", cen_id)
                .set("TransitRouterId", tr_id)
                .set("PeerTransitRouterId", peer_tr_id)
                .set("PeerTransitRouterRegionId", peer_region)
                .set("BandwidthType", "DataTransfer")
                .set("TransitRouterAttachmentName", name)
                .set("ClientToken", token),
        )
}

pub fn delete_peer_attachment_call(region: &str, id: &str) -> Call {
    CBN.call("DeleteTransitRouterPeerAttachment", region)
        .params(Params::new().set("TransitRouterAttachmentId", id))
}

pub fn associate_call(region: &str, attachment: &str, table: &str, token: &str) -> Call {
    CBN.call("AssociateTransitRouterAttachmentWithRouteTable", region)
        .params(route_table_params(attachment, table).set("ClientToken", token))
}

pub fn dissociate_call(region: &str, attachment: &str, table: &str) -> Call {
    CBN.call("DissociateTransitRouterAttachmentFromRouteTable", region)
        .params(route_table_params(attachment, table))
}

pub fn enable_propagation_call(region: &str, attachment: &str, table: &str, token: &str) -> Call {
    CBN.call("EnableTransitRouterRouteTablePropagation", region)
        .params(route_table_params(attachment, table).set("ClientToken", token))
}

pub fn disable_propagation_call(region: &str, attachment: &str, table: &str) -> Call {
    CBN.call("DisableTransitRouterRouteTablePropagation", region)
        .params(route_table_params(attachment, table))
}

fn route_table_params(attachment: &str, table: &str) -> Params {
    Params::new()
        .set("TransitRouterAttachmentId", attachment)
        .set("TransitRouterRouteTableId", table)
}

/// Zones where a transit router can attach a vSwitch in `region`.
pub async fn available_zones(c: &dyn Caller, region: &str) -> Result<Vec<String>, CloudError> {
    let v = send(
        c,
        CBN.call("ListTransitRouterAvailableResource", region)
            .params(Params::new().set("RegionId", region)),
    )
    .await?;
    let mut zones = super::json::strs(&v, &["AvailableZones"]);
    for k in ["MasterZones", "SlaveZones"] {
        for z in super::json::strs(&v, &[k]) {
            if !zones.contains(&z) {
                zones.push(z);
            }
        }
    }
    Ok(zones)
}
