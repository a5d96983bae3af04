//! VPC 2016-04-28: VPCs, vSwitches, route tables and entries, CEN grants.

use super::{
    VPC,
    json::{arr, at, s, strs},
    send,
};
use crate::cloud::{Call, Caller, CloudError};
use dwlink_acs::Params;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vpc {
    pub id: String,
    pub name: String,
    pub cidr: String,
    pub status: String,
    pub owner_id: String,
    pub vrouter_id: String,
    pub vswitch_ids: Vec<String>,
    /// CENs the VPC is attached to (DescribeVpcAttribute `AssociatedCens`).
    pub associated_cens: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VSwitch {
    pub id: String,
    pub name: String,
    pub vpc_id: String,
    pub zone: String,
    pub cidr: String,
    pub status: String,
    pub route_table_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTable {
    pub id: String,
    pub kind: String,
    pub vpc_id: String,
    pub router_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteEntry {
    pub id: String,
    pub table_id: String,
    pub destination: String,
    pub status: String,
    pub next_hop_type: String,
    pub next_hop_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CenGrant {
    pub cen_id: String,
    pub cen_owner_id: String,
}

pub async fn describe_vpc(c: &dyn Caller, region: &str, vpc_id: &str) -> Result<Vpc, CloudError> {
    let v = send(
        c,
        VPC.call("DescribeVpcAttribute", region)
            .params(Params::new().set("RegionId", region).set("VpcId", vpc_id)),
    )
    .await?;
    Ok(Vpc {
        id: s(&v, "VpcId"),
        name: s(&v, "VpcName"),
        cidr: s(&v, "CidrBlock"),
        status: s(&v, "Status"),
        owner_id: s(&v, "OwnerId"),
        vrouter_id: s(&v, "VRouterId"),
        vswitch_ids: strs(&v, &["VSwitchIds", "VSwitchId"]),
        associated_cens: arr(&v, &["AssociatedCens", "AssociatedCen"])
            .iter()
            .map(|x| s(x, "CenId"))
            .collect(),
    })
}

fn parse_vswitch(x: &Value) -> VSwitch {
    VSwitch {
        id: s(x, "VSwitchId"),
        name: s(x, "VSwitchName"),
        vpc_id: s(x, "VpcId"),
        zone: s(x, "ZoneId"),
        cidr: s(x, "CidrBlock"),
        status: s(x, "Status"),
        route_table_id: at(x, &["RouteTable"])
            .map(|r| s(r, "RouteTableId"))
            .unwrap_or_default(),
    }
}

/// All vSwitches of a VPC (pages of 50).
pub async fn describe_vswitches(
    c: &dyn Caller,
    region: &str,
    vpc_id: &str,
) -> Result<Vec<VSwitch>, CloudError> {
    let mut out = Vec::new();
    for page in 1.. {
        let v = send(
            c,
            VPC.call("DescribeVSwitches", region).params(
                Params::new()
                    .set("RegionId", region)
                    .set("VpcId", vpc_id)
                    .set("PageNumber", page)
                    .set("PageSize", 50),
            ),
        )
        .await?;
        let items = arr(&v, &["VSwitches", "VSwitch"]);
        out.extend(items.iter().map(parse_vswitch));
        let total: usize = s(&v, "TotalCount").parse().unwrap_or(0);
        if items.is_empty() || out.len() >= total {
            break;
        }
    }
    Ok(out)
}

pub async fn describe_vswitch(
    c: &dyn Caller,
    region: &str,
    vswitch_id: &str,
) -> Result<VSwitch, CloudError> {
    let v = send(
        c,
        VPC.call("DescribeVSwitchAttributes", region).params(
            Params::new()
                .set("RegionId", region)
                .set("VSwitchId", vswitch_id),
        ),
    )
    .await?;
    Ok(parse_vswitch(&v))
}

pub async fn describe_route_tables(
    c: &dyn Caller,
    region: &str,
    vpc_id: &str,
) -> Result<Vec<RouteTable>, CloudError> {
    let v = send(
        c,
        VPC.call("DescribeRouteTableList", region).params(
            Params::new()
                .set("RegionId", region)
                .set("VpcId", vpc_id)
                .set("PageSize", 50),
        ),
    )
    .await?;
    Ok(arr(&v, &["RouterTableList", "RouterTableListType"])
        .iter()
        .map(|x| RouteTable {
            id: s(x, "RouteTableId"),
            kind: s(x, "RouteTableType"),
            vpc_id: s(x, "VpcId"),
            router_id: s(x, "RouterId"),
        })
        .collect())
}

/// Route entries of a table, optionally only those to `destination` (follows NextToken).
pub async fn describe_route_entries(
    c: &dyn Caller,
    region: &str,
    table_id: &str,
    destination: Option<&str>,
) -> Result<Vec<RouteEntry>, CloudError> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let v = send(
            c,
            VPC.call("DescribeRouteEntryList", region).params(
                Params::new()
                    .set("RegionId", region)
                    .set("RouteTableId", table_id)
                    .set("MaxResult", 100)
                    .set_opt("DestinationCidrBlock", destination)
                    .set_opt("NextToken", (!token.is_empty()).then_some(&token)),
            ),
        )
        .await?;
        for x in arr(&v, &["RouteEntrys", "RouteEntry"]) {
            let hop = arr(x, &["NextHops", "NextHop"]).first();
            out.push(RouteEntry {
                id: s(x, "RouteEntryId"),
                table_id: s(x, "RouteTableId"),
                destination: s(x, "DestinationCidrBlock"),
                status: s(x, "Status"),
                next_hop_type: hop.map(|h| s(h, "NextHopType")).unwrap_or_default(),
                next_hop_id: hop.map(|h| s(h, "NextHopId")).unwrap_or_default(),
            });
        }
        token = s(&v, "NextToken");
        if token.is_empty() {
            break;
        }
    }
    Ok(out)
}

pub async fn describe_grants_to_cen(
    c: &dyn Caller,
    region: &str,
    vpc_id: &str,
) -> Result<Vec<CenGrant>, CloudError> {
    let v = send(
        c,
        VPC.call("DescribeGrantRulesToCen", region).params(
            Params::new()
                .set("RegionId", region)
                .set("InstanceId", vpc_id)
                .set("InstanceType", "VPC")
                .set("PageSize", 50),
        ),
    )
    .await?;
    Ok(arr(&v, &["CenGrantRules", "CbnGrantRule"])
        .iter()
        .map(|x| CenGrant {
            cen_id: s(x, "CenInstanceId"),
            cen_owner_id: s(x, "CenOwnerId"),
        })
        .collect())
}

// ---- writes (call builders; the response id field is named beside each) ----

/// CreateVSwitch -> `VSwitchId`.
pub fn create_vswitch_call(
    region: &str,
    vpc_id: &str,
    zone: &str,
    cidr: &str,
    name: &str,
    token: &str,
) -> Call {
    VPC.call("CreateVSwitch", region).params(
        Params::new()
            .set("RegionId", region)
            .set("VpcId", vpc_id)
            .set("ZoneId", zone)
            .set("CidrBlock", cidr)
            .set("VSwitchName", name)
            .set("ClientToken", token),
    )
}

pub fn delete_vswitch_call(region: &str, vswitch_id: &str) -> Call {
    VPC.call("DeleteVSwitch", region).params(
        Params::new()
            .set("RegionId", region)
            .set("VSwitchId", vswitch_id),
    )
}

/// CreateRouteEntry -> `RouteEntryId`. `next_hop_type` is `VpcPeer` or `Attachment`.
pub fn create_route_entry_call(
    region: &str,
    table_id: &str,
    destination: &str,
    next_hop_type: &str,
    next_hop_id: &str,
    name: &str,
    token: &str,
) -> Call {
    VPC.call("CreateRouteEntry", region).params(
        Params::new()
            .set("RegionId", region)
            .set("RouteTableId", table_id)
            .set("DestinationCidrBlock", destination)
            .set("NextHopType", next_hop_type)
            .set("NextHopId", next_hop_id)
            .set("RouteEntryName", name)
            .set("ClientToken", token),
    )
}

pub fn delete_route_entry_call(region: &str, route_entry_id: &str) -> Call {
    VPC.call("DeleteRouteEntry", region).params(
        Params::new()
            .set("RegionId", region)
            .set("RouteEntryId", route_entry_id),
    )
}

/// GrantInstanceToCen, run by the VPC's owner (account A).
pub fn grant_to_cen_call(
    region: &str,
    vpc_id: &str,
    cen_id: &str,
    cen_owner: &str,
    token: &str,
) -> Call {
    VPC.call("GrantInstanceToCen", region).params(
        Params::new()
            .set("RegionId", region)
            .set("CenId", cen_id)
            .set("CenOwnerId", cen_owner)
            .set("InstanceId", vpc_id)
            .set("InstanceType", "VPC")
            .set("ClientToken", token),
    )
}

pub fn revoke_from_cen_call(region: &str, vpc_id: &str, cen_id: &str, cen_owner: &str) -> Call {
    VPC.call("RevokeInstanceFromCen", region).params(
        Params::new()
            .set("RegionId", region)
            .set("CenId", cen_id)
            .set("CenOwnerId", cen_owner)
            .set("InstanceId", vpc_id)
            .set("InstanceType", "VPC"),
    )
}
