//! What observe found: the input of the pure planner, serialisable so tests can write it by hand.

use crate::network::{cen, dataworks, peer, vpc};
use crate::plugin::{Location, WhitelistGroup};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One side's network: its VPC, the vSwitch that matters, and the route table it uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideFacts {
    pub account_uid: String,
    pub region: String,
    pub vpc: vpc::Vpc,
    /// The data source's vSwitch (A) or the resource group's vSwitch (B).
    pub vswitch: vpc::VSwitch,
    pub vswitches: Vec<vpc::VSwitch>,
    /// The route table of `vswitch`.
    pub route_table_id: String,
    pub route_entries: Vec<vpc::RouteEntry>,
    /// CEN grants of the VPC (only read in A, where grants matter).
    pub cen_grants: Vec<vpc::CenGrant>,
    /// Zones a transit router supports in this region (CEN mode only).
    pub tr_zones: Vec<String>,
}

/// A CEN that joins (or will join) the two VPCs, with its transit routers and attachments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CenFacts {
    pub cen: cen::Cen,
    pub transit_routers: Vec<cen::TransitRouter>,
    pub vpc_attachments: Vec<cen::VpcAttachment>,
    pub peer_attachments: Vec<cen::PeerAttachment>,
    /// System route table per transit router id.
    pub route_tables: BTreeMap<String, cen::TrRouteTable>,
    /// Why observe looked at it: named in the link, attached to a VPC, or created by dwlink.
    pub found_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    pub link_id: String,
    /// The journal's generation (bumped by each complete destroy); salts the ClientTokens.
    #[serde(default)]
    pub generation: u32,
    /// Each step's attempt, from the journal: a step whose resource was deleted since it was
    /// created is created again as a new attempt, with a new ClientToken.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attempts: BTreeMap<String, u32>,
    /// The journal's salt for ClientTokens (empty for journals of the first release).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token_salt: String,
    /// The ids of what dwlink created for this link (per the journal), with their steps.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub owned: BTreeMap<String, String>,
    /// What the plugin discovered about the instance, checked by observe against account A's
    /// own read of its vSwitch (`source.vswitch`): use [`Facts::source_cidr`] for the CIDR.
    pub location: Location,
    pub source: SideFacts,
    pub dataworks: SideFacts,
    pub resource_group: dataworks::ResourceGroup,
    pub dw_network: dataworks::Network,
    pub dw_routes: Vec<dataworks::Route>,
    /// Data sources already registered under the link's name.
    pub data_sources: Vec<dataworks::DataSource>,
    /// The instance's whitelist: the host's own read for RDS, PolarDB and MongoDB, the plugin's
    /// list for other products.
    pub whitelist: Vec<WhitelistGroup>,
    /// Live peering connections joining the two VPCs.
    pub peerings: Vec<peer::Peering>,
    pub cen: Option<CenFacts>,
}

impl Facts {
    /// The data source's vSwitch CIDR as the host read it through account A's VPC API (the
    /// plugin's claim was checked against it): what routes and whitelists are built from.
    pub fn source_cidr(&self) -> String {
        self.source.vswitch.cidr.trim().to_string()
    }
}

impl CenFacts {
    pub fn transit_router(&self, region: &str) -> Option<&cen::TransitRouter> {
        self.transit_routers
            .iter()
            .find(|t| t.region == region && !matches!(t.status.as_str(), "Deleting"))
    }

    pub fn attachment_of(&self, vpc_id: &str) -> Option<&cen::VpcAttachment> {
        self.vpc_attachments
            .iter()
            .find(|a| a.vpc_id == vpc_id && !matches!(a.status.as_str(), "Detaching" | "Detached"))
    }

    pub fn peer_between(&self, tr1: &str, tr2: &str) -> Option<&cen::PeerAttachment> {
        self.peer_attachments.iter().find(|p| {
            !matches!(p.status.as_str(), "Detaching" | "Detached")
                && ((p.transit_router_id == tr1 && p.peer_transit_router_id == tr2)
                    || (p.transit_router_id == tr2 && p.peer_transit_router_id == tr1))
        })
    }

    /// Whether this CEN already joins `vpc_id`.
    pub fn joins(&self, vpc_id: &str) -> bool {
        self.attachment_of(vpc_id).is_some()
    }
}
