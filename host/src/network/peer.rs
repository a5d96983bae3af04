//! VpcPeer 2022-01-01: peering connections between two VPCs.

use super::{
    VPC_PEER,
    json::{arr, s},
    send,
};
use crate::cloud::{Call, Caller, CloudError};
use dwlink_acs::Params;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peering {
    pub id: String,
    pub name: String,
    pub status: String,
    pub owner_id: String,
    pub region: String,
    pub vpc_id: String,
    pub accepting_owner_uid: String,
    pub accepting_region: String,
    pub accepting_vpc_id: String,
}

impl Peering {
    /// Whether it joins these two VPCs, in either direction.
    pub fn joins(&self, a: &str, b: &str) -> bool {
        (self.vpc_id == a && self.accepting_vpc_id == b)
            || (self.vpc_id == b && self.accepting_vpc_id == a)
    }

    /// Gone or going: never reuse it.
    pub fn is_dead(&self) -> bool {
        matches!(
            self.status.as_str(),
            "Rejected" | "Expired" | "Deleting" | "Deleted"
        )
    }
}

fn parse(x: &Value) -> Peering {
    let vpc = |k: &str| x.get(k).map(|v| s(v, "VpcId")).unwrap_or_default();
    Peering {
        id: s(x, "InstanceId"),
        name: s(x, "Name"),
        status: s(x, "Status"),
        owner_id: s(x, "OwnerId"),
        region: s(x, "RegionId"),
        vpc_id: vpc("Vpc"),
        accepting_owner_uid: s(x, "AcceptingOwnerUid"),
        accepting_region: s(x, "AcceptingRegionId"),
        accepting_vpc_id: vpc("AcceptingVpc"),
    }
}

pub async fn get(c: &dyn Caller, region: &str, id: &str) -> Result<Peering, CloudError> {
    let v = send(
        c,
        VPC_PEER
            .call("GetVpcPeerConnectionAttribute", region)
            .params(Params::new().set("InstanceId", id)),
    )
    .await?;
    Ok(parse(&v))
}

/// Peering connections in `region` that involve `vpc_id` (follows NextToken).
pub async fn list(c: &dyn Caller, region: &str, vpc_id: &str) -> Result<Vec<Peering>, CloudError> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let v = send(
            c,
            VPC_PEER.call("ListVpcPeerConnections", region).params(
                Params::new()
                    .set("RegionId", region)
                    .set("VpcId", vpc_id)
                    .set("MaxResults", 100)
                    .set_opt("NextToken", (!token.is_empty()).then_some(&token)),
            ),
        )
        .await?;
        out.extend(arr(&v, &["VpcPeerConnects"]).iter().map(parse));
        token = s(&v, "NextToken");
        if token.is_empty() {
            break;
        }
    }
    Ok(out)
}

/// CreateVpcPeerConnection (requester side, account A) -> `InstanceId`.
pub fn create_call(
    region: &str,
    vpc_id: &str,
    accepting_uid: &str,
    accepting_region: &str,
    accepting_vpc_id: &str,
    name: &str,
    token: &str,
) -> Call {
    VPC_PEER.call("CreateVpcPeerConnection", region).params(
        Params::new()
            .set("RegionId", region)
            .set("VpcId", vpc_id)
            .set("AcceptingAliUid", accepting_uid)
            .set("AcceptingRegionId", accepting_region)
            .set("AcceptingVpcId", accepting_vpc_id)
            .set("Name", name)
            .set("ClientToken", token),
    )
}

/// AcceptVpcPeerConnection (accepter side, account B).
pub fn accept_call(region: &str, id: &str, token: &str) -> Call {
    VPC_PEER.call("AcceptVpcPeerConnection", region).params(
        Params::new()
            .set("RegionId", region)
            .set("InstanceId", id)
            .set("ClientToken", token),
    )
}

pub fn delete_call(region: &str, id: &str) -> Call {
    VPC_PEER
        .call("DeleteVpcPeerConnection", region)
        .params(Params::new().set("RegionId", region).set("InstanceId", id))
}
