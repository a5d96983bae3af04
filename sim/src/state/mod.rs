//! The simulated cloud: accounts and RAM roles, STS sessions, and every resource, keyed by
//! (account UID, region) as moto keys its backends.
//!
//! Handlers get `&mut World` under one lock; nothing here does I/O.

pub mod database;
pub mod dataworks;
pub mod identity;
pub mod network;

pub use database::*;
pub use dataworks::*;
pub use identity::*;
pub use network::*;

use crate::idempotency::ClientTokens;
use crate::lifecycle::Pacer;
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::collections::BTreeMap;

/// Account UID (a decimal string, e.g. `1862710497302214`).
pub type Uid = String;

/// Everything one account owns in one region.
#[derive(Debug, Default)]
pub struct Regional {
    pub vpcs: BTreeMap<String, Vpc>,
    pub vswitches: BTreeMap<String, VSwitch>,
    pub route_tables: BTreeMap<String, RouteTable>,
    /// Peering connections this account requested from this region (moto stores a two-sided
    /// object once, with both sides' identities; lookups search every requester region).
    pub peerings: BTreeMap<String, VpcPeering>,
    /// Grants issued by this account for its instances in this region.
    pub cen_grants: Vec<CenGrant>,
    pub transit_routers: BTreeMap<String, TransitRouter>,
    pub tr_vpc_attachments: BTreeMap<String, TrVpcAttachment>,
    pub tr_peer_attachments: BTreeMap<String, TrPeerAttachment>,
    pub rds_instances: BTreeMap<String, RdsInstance>,
    pub polardb_clusters: BTreeMap<String, PolarDbCluster>,
    pub mongodb_instances: BTreeMap<String, MongoDbInstance>,
    pub dataworks: DataWorks,
}

/// What an account owns outside any region.
#[derive(Debug, Default)]
pub struct Global {
    pub cens: BTreeMap<String, Cen>,
    pub roles: BTreeMap<String, RamRole>,
}

/// The whole simulated cloud.
#[derive(Debug)]
pub struct World {
    pub accounts: Vec<Account>,
    /// Zones of each region the simulator knows.
    pub zones: BTreeMap<String, Vec<String>>,
    pub sessions: BTreeMap<String, StsSession>,
    pub globals: BTreeMap<Uid, Global>,
    pub regions: BTreeMap<(Uid, String), Regional>,
    pub tokens: ClientTokens,
    pub nonces: crate::auth::Nonces,
    pub pacer: Pacer,
    pub ids: IdGen,
}

impl World {
    pub fn new(pacer: Pacer, seed: u64) -> Self {
        World {
            accounts: Vec::new(),
            zones: BTreeMap::new(),
            sessions: BTreeMap::new(),
            globals: BTreeMap::new(),
            regions: BTreeMap::new(),
            tokens: ClientTokens::default(),
            nonces: Default::default(),
            pacer,
            ids: IdGen::new(seed),
        }
    }

    pub fn account(&self, uid: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.uid == uid)
    }

    pub fn account_by_name(&self, name: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.name == name)
    }

    /// The account's state in `region`, created on first touch.
    pub fn regional(&mut self, uid: &str, region: &str) -> &mut Regional {
        self.regions
            .entry((uid.to_string(), region.to_string()))
            .or_default()
    }

    /// The account's state in `region`, if it has any.
    pub fn regional_ref(&self, uid: &str, region: &str) -> Option<&Regional> {
        self.regions.get(&(uid.to_string(), region.to_string()))
    }

    pub fn global(&mut self, uid: &str) -> &mut Global {
        self.globals.entry(uid.to_string()).or_default()
    }

    pub fn region_exists(&self, region: &str) -> bool {
        self.zones.contains_key(region)
    }

    pub fn zone_exists(&self, region: &str, zone: &str) -> bool {
        self.zones
            .get(region)
            .is_some_and(|zs| zs.iter().any(|z| z == zone))
    }

    /// Finds a resource anywhere by a selector, returning its (uid, region) key.
    pub fn locate<F>(&self, mut has: F) -> Option<(Uid, String)>
    where
        F: FnMut(&Regional) -> bool,
    {
        self.regions
            .iter()
            .find(|(_, r)| has(r))
            .map(|(k, _)| k.clone())
    }

    /// The (uid, region) and a mutable reference of a peering connection, wherever it lives.
    pub fn peering_mut(&mut self, id: &str) -> Option<(Uid, String, &mut VpcPeering)> {
        self.regions
            .iter_mut()
            .find_map(|((u, r), reg)| reg.peerings.get_mut(id).map(|p| (u.clone(), r.clone(), p)))
    }

    /// The CEN with this id and its owner, wherever it lives.
    pub fn cen_owner(&self, cen_id: &str) -> Option<Uid> {
        self.globals
            .iter()
            .find(|(_, g)| g.cens.contains_key(cen_id))
            .map(|(u, _)| u.clone())
    }

    /// The transit router with this id, its owner and region.
    pub fn transit_router_mut(&mut self, id: &str) -> Option<(Uid, String, &mut TransitRouter)> {
        self.regions.iter_mut().find_map(|((u, r), reg)| {
            reg.transit_routers
                .get_mut(id)
                .map(|t| (u.clone(), r.clone(), t))
        })
    }
}

/// Generates resource ids in the real shapes (`vsw-bp1…`, `pcc-…`, numeric DataWorks ids),
/// from a seeded RNG so a run can be replayed.
#[derive(Debug)]
pub struct IdGen {
    rng: StdRng,
    next_number: u64,
}

impl IdGen {
    pub fn new(seed: u64) -> Self {
        IdGen {
            rng: StdRng::seed_from_u64(seed),
            next_number: 100_000,
        }
    }

    /// `prefix-` + the region's id infix (`bp1` for cn-hangzhou, `uf6` for cn-shanghai, ...) +
    /// lower-case alphanumerics, 22 characters after the dash in all.
    pub fn regional(&mut self, prefix: &str, region: &str) -> String {
        let infix = region_infix(region);
        format!("{prefix}-{infix}{}", self.alnum(22 - infix.len()))
    }

    /// `prefix-` + lower-case alphanumerics, for central resources (`cen-`, `pcc-`, `tr-attach-`).
    pub fn plain(&mut self, prefix: &str, len: usize) -> String {
        format!("{prefix}-{}", self.alnum(len))
    }

    /// A fresh number for numeric ids (DataWorks networks, routes, data sources).
    pub fn number(&mut self) -> u64 {
        self.next_number += 1;
        self.next_number
    }

    /// Keeps numeric ids above ones a scenario used.
    pub fn reserve_number(&mut self, used: u64) {
        self.next_number = self.next_number.max(used);
    }

    /// Upper-case request id in the UUID layout the cloud uses.
    pub fn request_id(&mut self) -> String {
        let h: String = (0..32)
            .map(|_| char::from(b"0123456789ABCDEF"[self.rng.random_range(0..16)]))
            .collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// Random bytes as lower-case alphanumerics (secrets, tokens).
    pub fn alnum(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| char::from(CHARS[self.rng.random_range(0..CHARS.len())]))
            .collect()
    }
}

fn region_infix(region: &str) -> &'static str {
    match region {
        "cn-hangzhou" => "bp1",
        "cn-shanghai" => "uf6",
        "cn-beijing" => "2ze",
        "cn-shenzhen" => "wz9",
        "cn-qingdao" => "m5e",
        "cn-zhangjiakou" => "8vb",
        "cn-hongkong" => "j6c",
        "ap-southeast-1" => "t4n",
        _ => "sim",
    }
}

/// Current UTC time as `yyyy-MM-ddTHH:mm:ssZ`.
pub fn utc_now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Current UTC time in milliseconds since the epoch (DataWorks `CreateTime`).
pub fn epoch_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}
