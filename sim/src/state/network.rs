//! VPC, vSwitch, route tables and entries, VPC peering, CEN, transit routers and their
//! attachments, route tables, associations, propagations and grants.

use crate::lifecycle::Lifecycle;
use ipnet::Ipv4Net;
use std::time::Duration;

/// Declares a status enum with its wire spelling.
#[macro_export]
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }
        impl $name {
            /// The spelling on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
            /// Parses the wire spelling (case-sensitive, as the cloud is).
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }
            /// Every status, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(VpcStatus { Pending = "Pending", Available = "Available" });
wire_enum!(VSwitchStatus { Pending = "Pending", Available = "Available" });
wire_enum!(RouteTableKind { System = "System", Custom = "Custom" });
wire_enum!(
    /// `Type` of a route entry.
    RouteEntryKind { System = "System", Custom = "Custom", Cen = "CEN" }
);
wire_enum!(RouteEntryStatus {
    Pending = "Pending",
    Available = "Available",
    Modifying = "Modifying",
    Deleting = "Deleting"
});
wire_enum!(PeeringStatus {
    Creating = "Creating",
    Accepting = "Accepting",
    Updating = "Updating",
    Rejected = "Rejected",
    Expired = "Expired",
    Activated = "Activated",
    Deleting = "Deleting",
    Deleted = "Deleted"
});
wire_enum!(CenStatus { Creating = "Creating", Active = "Active", Deleting = "Deleting" });
wire_enum!(TrStatus {
    Creating = "Creating",
    Active = "Active",
    Modifying = "Modifying",
    Deleting = "Deleting"
});
wire_enum!(AttachmentStatus {
    Attaching = "Attaching",
    Attached = "Attached",
    Modifying = "Modifying",
    Detaching = "Detaching",
    Detached = "Detached"
});
wire_enum!(AssociationStatus { Associating = "Associating", Active = "Active", Dissociating = "Dissociating" });
wire_enum!(PropagationStatus { Enabling = "Enabling", Active = "Active", Disabling = "Disabling" });
wire_enum!(TrRouteTableStatus { Creating = "Creating", Active = "Active", Deleting = "Deleting" });

/// Nominal durations of the async steps, scaled by the pacer in `delay` mode.
pub mod durations {
    use super::Duration;
    pub const VSWITCH: Duration = Duration::from_secs(1);
    pub const ROUTE_ENTRY: Duration = Duration::from_secs(2);
    pub const PEERING_CREATE: Duration = Duration::from_secs(2);
    pub const PEERING_ACCEPT: Duration = Duration::from_secs(3);
    pub const CEN: Duration = Duration::from_secs(1);
    pub const TRANSIT_ROUTER: Duration = Duration::from_secs(3);
    pub const ATTACHMENT: Duration = Duration::from_secs(5);
    pub const ASSOCIATION: Duration = Duration::from_secs(2);
    pub const WHITELIST: Duration = Duration::from_secs(2);
    pub const DATAWORKS_NETWORK: Duration = Duration::from_secs(5);
}

#[derive(Debug, Clone)]
pub struct Vpc {
    pub id: String,
    pub name: String,
    pub description: String,
    pub cidr: Ipv4Net,
    pub vrouter_id: String,
    /// The system route table's id.
    pub route_table_id: String,
    pub status: Lifecycle<VpcStatus>,
    pub is_default: bool,
    pub created: String,
}

#[derive(Debug, Clone)]
pub struct VSwitch {
    pub id: String,
    pub name: String,
    pub description: String,
    pub vpc_id: String,
    pub zone: String,
    pub cidr: Ipv4Net,
    pub status: Lifecycle<VSwitchStatus>,
    pub created: String,
}

impl VSwitch {
    /// Usable addresses: the cloud reserves the first three and the last one.
    pub fn capacity(&self) -> u64 {
        let size = 1u64 << (32 - self.cidr.prefix_len());
        size.saturating_sub(4)
    }
}

#[derive(Debug, Clone)]
pub struct RouteTable {
    pub id: String,
    pub vpc_id: String,
    pub vrouter_id: String,
    pub kind: RouteTableKind,
    pub name: String,
    pub entries: Vec<RouteEntry>,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
    /// `VpcPeer`, `Attachment`, `Instance`, `local`, ...
    pub kind: String,
    pub id: String,
    pub weight: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct RouteEntry {
    pub id: String,
    pub route_table_id: String,
    pub destination: Ipv4Net,
    pub kind: RouteEntryKind,
    /// `SystemCreate`, `CustomCreate` or `RoutePropagation`.
    pub origin: String,
    pub name: String,
    pub description: String,
    pub next_hops: Vec<NextHop>,
    pub status: Lifecycle<RouteEntryStatus>,
    pub created: String,
}

/// A VPC peering connection. Stored once, in the requester's (account, region).
#[derive(Debug, Clone)]
pub struct VpcPeering {
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner_uid: String,
    pub region: String,
    pub vpc_id: String,
    pub accepting_uid: String,
    pub accepting_region: String,
    pub accepting_vpc_id: String,
    pub bandwidth: i64,
    pub link_type: String,
    pub resource_group_id: String,
    pub status: Lifecycle<PeeringStatus>,
    pub created: String,
    pub modified: String,
}

impl VpcPeering {
    pub fn is_cross_account(&self) -> bool {
        self.owner_uid != self.accepting_uid
    }
    pub fn is_inter_region(&self) -> bool {
        self.region != self.accepting_region
    }
    /// Whether `(uid, region, vpc)` is one of the two sides.
    pub fn has_side(&self, uid: &str, region: &str, vpc_id: &str) -> bool {
        (self.owner_uid == uid && self.region == region && self.vpc_id == vpc_id)
            || (self.accepting_uid == uid
                && self.accepting_region == region
                && self.accepting_vpc_id == vpc_id)
    }
}

/// A CEN instance (global, per account).
#[derive(Debug, Clone)]
pub struct Cen {
    pub id: String,
    pub name: String,
    pub description: String,
    pub protection_level: String,
    pub status: Lifecycle<CenStatus>,
    pub created: String,
}

/// An account's permission for another account's CEN to attach one of its instances
/// (`GrantInstanceToCen` / `GrantInstanceToTransitRouter`). Stored with the granting account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CenGrant {
    pub cen_id: String,
    pub cen_owner_uid: String,
    pub instance_id: String,
    /// `VPC`, `VBR`, ...
    pub instance_type: String,
    /// `PayByCenOwner` / `PayByResourceOwner`.
    pub order_type: String,
    pub created: String,
}

#[derive(Debug, Clone)]
pub struct TransitRouter {
    pub id: String,
    pub cen_id: String,
    pub name: String,
    pub description: String,
    /// `Enterprise` or `Basic`.
    pub kind: String,
    pub status: Lifecycle<TrStatus>,
    pub route_tables: Vec<TrRouteTable>,
    pub created: String,
}

#[derive(Debug, Clone)]
pub struct TrRouteTable {
    pub id: String,
    pub kind: RouteTableKind,
    pub name: String,
    pub status: Lifecycle<TrRouteTableStatus>,
    pub associations: Vec<TrAssociation>,
    pub propagations: Vec<TrPropagation>,
    /// Static entries added by the user (`CreateTransitRouterRouteEntry`); propagated ones are
    /// computed from the propagations.
    pub static_entries: Vec<TrStaticRoute>,
}

#[derive(Debug, Clone)]
pub struct TrAssociation {
    pub attachment_id: String,
    pub status: Lifecycle<AssociationStatus>,
}

#[derive(Debug, Clone)]
pub struct TrPropagation {
    pub attachment_id: String,
    pub status: Lifecycle<PropagationStatus>,
}

#[derive(Debug, Clone)]
pub struct TrStaticRoute {
    pub id: String,
    pub destination: Ipv4Net,
    /// `Attachment` or `BlackHole`.
    pub next_hop_type: String,
    pub next_hop_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneMapping {
    pub zone: String,
    pub vswitch_id: String,
    pub eni_id: String,
}

/// A VPC attached to a transit router. Stored with the CEN owner, in the TR's region.
#[derive(Debug, Clone)]
pub struct TrVpcAttachment {
    pub id: String,
    pub cen_id: String,
    pub transit_router_id: String,
    pub vpc_id: String,
    pub vpc_owner_uid: String,
    pub vpc_region: String,
    pub zone_mappings: Vec<ZoneMapping>,
    pub name: String,
    pub description: String,
    pub auto_publish_route: bool,
    pub charge_type: String,
    pub status: Lifecycle<AttachmentStatus>,
    pub created: String,
}

/// An inter-region connection between two transit routers of one CEN. Stored with the CEN
/// owner in the local TR's region.
#[derive(Debug, Clone)]
pub struct TrPeerAttachment {
    pub id: String,
    pub cen_id: String,
    pub transit_router_id: String,
    pub peer_transit_router_id: String,
    pub peer_region: String,
    pub peer_owner_uid: String,
    pub bandwidth: i64,
    pub bandwidth_type: String,
    pub link_type: String,
    pub name: String,
    pub description: String,
    pub auto_publish_route: bool,
    pub status: Lifecycle<AttachmentStatus>,
    pub created: String,
}
