//! Scenario files (TOML): accounts, regions and zones, VPCs, vSwitches, RAM roles, database
//! instances with endpoints and whitelist groups, DataWorks workspaces, resource groups and
//! networks. The default scenario (the product document's example) is embedded.

use crate::lifecycle::Lifecycle;
use crate::request::{overlaps, parse_cidr};
use crate::state::*;
use ipnet::Ipv4Net;
use serde::Deserialize;
use std::net::Ipv4Addr;

/// `examples/scenarios/seed.toml`, built into the binary.
pub const DEFAULT_SCENARIO: &str = include_str!("../../examples/scenarios/seed.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub regions: Vec<RegionSpec>,
    #[serde(default)]
    pub accounts: Vec<AccountSpec>,
    #[serde(default)]
    pub ram_roles: Vec<RoleSpec>,
    #[serde(default)]
    pub vpcs: Vec<VpcSpec>,
    #[serde(default)]
    pub vswitches: Vec<VSwitchSpec>,
    #[serde(default)]
    pub rds_instances: Vec<DbSpec>,
    #[serde(default)]
    pub polardb_clusters: Vec<DbSpec>,
    #[serde(default)]
    pub mongodb_instances: Vec<DbSpec>,
    #[serde(default)]
    pub dataworks_workspaces: Vec<WorkspaceSpec>,
    #[serde(default)]
    pub dataworks_resource_groups: Vec<ResourceGroupSpec>,
    #[serde(default)]
    pub dataworks_networks: Vec<NetworkSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionSpec {
    pub id: String,
    pub zones: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    pub name: String,
    pub uid: String,
    pub region: String,
    pub access_key_id: String,
    pub access_key_secret: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    pub account: String,
    pub name: String,
    /// Account names (or UIDs) the trust policy names as `acs:ram::<uid>:root`.
    pub trusted_accounts: Vec<String>,
    #[serde(default = "default_max_session")]
    pub max_session_seconds: u64,
    #[serde(default)]
    pub description: String,
}

fn default_max_session() -> u64 {
    3600
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpcSpec {
    pub account: String,
    pub region: String,
    pub id: String,
    pub name: String,
    pub cidr: String,
    pub route_table_id: String,
    pub vrouter_id: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VSwitchSpec {
    pub account: String,
    pub region: String,
    pub id: String,
    pub name: String,
    pub vpc: String,
    pub zone: String,
    pub cidr: String,
}

/// An RDS instance, PolarDB cluster or MongoDB instance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbSpec {
    pub account: String,
    pub region: String,
    pub id: String,
    #[serde(default)]
    pub description: String,
    /// RDS engine (`MySQL`), PolarDB DB type (`MySQL`); unused for MongoDB.
    #[serde(default)]
    pub engine: String,
    #[serde(default)]
    pub engine_version: String,
    #[serde(default = "default_db_status")]
    pub status: String,
    pub vpc: String,
    pub vswitch: String,
    pub zone: String,
    pub endpoints: Vec<EndpointSpec>,
    #[serde(default)]
    pub whitelist: Vec<WhitelistSpec>,
    /// MongoDB: `replicate` or `sharding`.
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub class: String,
}

fn default_db_status() -> String {
    "Running".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    pub kind: String,
    pub connection_string: String,
    pub port: u16,
    pub ip: Ipv4Addr,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhitelistSpec {
    pub name: String,
    pub entries: Vec<String>,
    #[serde(default)]
    pub attribute: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceSpec {
    pub account: String,
    pub region: String,
    pub id: u64,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceGroupSpec {
    pub account: String,
    pub region: String,
    pub id: String,
    pub name: String,
    #[serde(default = "default_rg_type")]
    pub kind: String,
    #[serde(default = "default_rg_status")]
    pub status: String,
    #[serde(default = "default_payment")]
    pub payment_type: String,
    pub vpc: String,
    pub vswitch: String,
    #[serde(default)]
    pub workspaces: Vec<u64>,
    #[serde(default)]
    pub spec_standard: String,
    #[serde(default)]
    pub spec_amount: u32,
    #[serde(default)]
    pub remark: String,
}

fn default_rg_type() -> String {
    "CommonV2".into()
}
fn default_rg_status() -> String {
    "Normal".into()
}
fn default_payment() -> String {
    "PrePaid".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    pub account: String,
    pub region: String,
    pub id: u64,
    pub resource_group: String,
    pub vpc: String,
    pub vswitch: String,
    #[serde(default = "default_network_status")]
    pub status: String,
}

fn default_network_status() -> String {
    "Running".into()
}

/// A scenario that does not load; the message names the entry and what to fix.
#[derive(Debug, thiserror::Error)]
#[error("scenario {source_name}: {message}")]
pub struct ScenarioError {
    pub source_name: String,
    pub message: String,
}

impl Scenario {
    /// Parses TOML; `source_name` (a path, or `built-in seed`) appears in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, ScenarioError> {
        toml::from_str(text).map_err(|e| ScenarioError {
            source_name: source_name.into(),
            message: e.to_string(),
        })
    }

    /// The embedded default scenario.
    pub fn default_seed() -> Self {
        Scenario::parse(DEFAULT_SCENARIO, "built-in seed").expect("the embedded seed parses")
    }

    /// Builds a world: checks references, CIDRs and zones as the cloud would.
    pub fn build(&self, pacer: crate::lifecycle::Pacer, seed: u64) -> Result<World, ScenarioError> {
        let err = |message: String| ScenarioError {
            source_name: if self.name.is_empty() {
                "scenario".into()
            } else {
                self.name.clone()
            },
            message,
        };
        let mut w = World::new(pacer, seed);
        for r in &self.regions {
            w.zones.insert(r.id.clone(), r.zones.clone());
        }
        for a in &self.accounts {
            if w.accounts
                .iter()
                .any(|x| x.name == a.name || x.uid == a.uid || x.access_key_id == a.access_key_id)
            {
                return Err(err(format!(
                    "account {:?}: name, uid or access key id used twice",
                    a.name
                )));
            }
            if !w.region_exists(&a.region) {
                return Err(err(format!(
                    "account {:?}: region {:?} is not in [[regions]]",
                    a.name, a.region
                )));
            }
            w.accounts.push(Account {
                name: a.name.clone(),
                uid: a.uid.clone(),
                region: a.region.clone(),
                access_key_id: a.access_key_id.clone(),
                access_key_secret: a.access_key_secret.clone(),
            });
        }
        let uid_of = |w: &World, what: &str, name: &str| -> Result<String, ScenarioError> {
            w.accounts
                .iter()
                .find(|a| a.name == name || a.uid == name)
                .map(|a| a.uid.clone())
                .ok_or_else(|| err(format!("{what}: unknown account {name:?}")))
        };
        let region_ok = |w: &World, what: &str, region: &str| -> Result<(), ScenarioError> {
            if w.region_exists(region) {
                Ok(())
            } else {
                Err(err(format!(
                    "{what}: region {region:?} is not in [[regions]]"
                )))
            }
        };
        let cidr = |what: &str, v: &str| -> Result<Ipv4Net, ScenarioError> {
            parse_cidr(what, v).map_err(|e| err(format!("{what}: {}", e.message)))
        };

        for r in &self.ram_roles {
            let what = format!("ram role {:?}", r.name);
            let uid = uid_of(&w, &what, &r.account)?;
            let trusted = r
                .trusted_accounts
                .iter()
                .map(|t| uid_of(&w, &what, t))
                .collect::<Result<Vec<_>, _>>()?;
            w.global(&uid).roles.insert(
                r.name.clone(),
                RamRole {
                    name: r.name.clone(),
                    account_uid: uid.clone(),
                    trusted_uids: trusted,
                    max_session_seconds: r.max_session_seconds,
                    description: r.description.clone(),
                },
            );
        }

        let created = utc_now();
        for v in &self.vpcs {
            let what = format!("vpc {:?}", v.id);
            let uid = uid_of(&w, &what, &v.account)?;
            region_ok(&w, &what, &v.region)?;
            let net = cidr(&what, &v.cidr)?;
            let reg = w.regional(&uid, &v.region);
            reg.route_tables.insert(
                v.route_table_id.clone(),
                RouteTable {
                    id: v.route_table_id.clone(),
                    vpc_id: v.id.clone(),
                    vrouter_id: v.vrouter_id.clone(),
                    kind: RouteTableKind::System,
                    name: String::new(),
                    entries: vec![],
                    created: created.clone(),
                },
            );
            reg.vpcs.insert(
                v.id.clone(),
                Vpc {
                    id: v.id.clone(),
                    name: v.name.clone(),
                    description: v.description.clone(),
                    cidr: net,
                    vrouter_id: v.vrouter_id.clone(),
                    route_table_id: v.route_table_id.clone(),
                    status: Lifecycle::settled(VpcStatus::Available),
                    is_default: false,
                    created: created.clone(),
                },
            );
        }
        for s in &self.vswitches {
            let what = format!("vswitch {:?}", s.id);
            let uid = uid_of(&w, &what, &s.account)?;
            region_ok(&w, &what, &s.region)?;
            if !w.zone_exists(&s.region, &s.zone) {
                return Err(err(format!(
                    "{what}: zone {:?} is not a zone of {}",
                    s.zone, s.region
                )));
            }
            let net = cidr(&what, &s.cidr)?;
            let reg = w.regional(&uid, &s.region);
            let vpc = reg.vpcs.get(&s.vpc).ok_or_else(|| {
                err(format!(
                    "{what}: VPC {:?} is not declared in this account and region",
                    s.vpc
                ))
            })?;
            if !vpc.cidr.contains(&net) {
                return Err(err(format!(
                    "{what}: CIDR {net} is not inside the VPC CIDR {}",
                    vpc.cidr
                )));
            }
            if let Some(o) = reg
                .vswitches
                .values()
                .find(|o| o.vpc_id == s.vpc && overlaps(&o.cidr, &net))
            {
                return Err(err(format!(
                    "{what}: CIDR {net} overlaps vSwitch {} ({})",
                    o.id, o.cidr
                )));
            }
            let table = vpc.route_table_id.clone();
            let vsw = VSwitch {
                id: s.id.clone(),
                name: s.name.clone(),
                description: String::new(),
                vpc_id: s.vpc.clone(),
                zone: s.zone.clone(),
                cidr: net,
                status: Lifecycle::settled(VSwitchStatus::Available),
                created: created.clone(),
            };
            let entry_id = format!("rte-{}", &s.id[4..]);
            add_system_route(reg, &table, &entry_id, &vsw);
            reg.vswitches.insert(s.id.clone(), vsw);
        }

        for (kind, specs) in [
            ("rds instance", &self.rds_instances),
            ("polardb cluster", &self.polardb_clusters),
            ("mongodb instance", &self.mongodb_instances),
        ] {
            for d in specs {
                let what = format!("{kind} {:?}", d.id);
                let uid = uid_of(&w, &what, &d.account)?;
                region_ok(&w, &what, &d.region)?;
                let reg = w.regional(&uid, &d.region);
                let vsw = reg.vswitches.get(&d.vswitch).ok_or_else(|| {
                    err(format!(
                        "{what}: vSwitch {:?} is not declared in this account and region",
                        d.vswitch
                    ))
                })?;
                if vsw.vpc_id != d.vpc || vsw.zone != d.zone {
                    return Err(err(format!(
                        "{what}: vSwitch {} is in VPC {} zone {}, not VPC {} zone {}",
                        vsw.id, vsw.vpc_id, vsw.zone, d.vpc, d.zone
                    )));
                }
                let mut endpoints = Vec::new();
                for e in &d.endpoints {
                    if !vsw.cidr.contains(&e.ip) {
                        return Err(err(format!(
                            "{what}: endpoint IP {} is not inside vSwitch CIDR {}",
                            e.ip, vsw.cidr
                        )));
                    }
                    endpoints.push(Endpoint {
                        kind: e.kind.clone(),
                        connection_string: e.connection_string.clone(),
                        port: e.port,
                        ip: e.ip,
                        vpc_id: d.vpc.clone(),
                        vswitch_id: d.vswitch.clone(),
                    });
                }
                let mut whitelist = Vec::new();
                for g in &d.whitelist {
                    for entry in &g.entries {
                        parse_cidr("whitelist entry", entry).map_err(|e| {
                            err(format!("{what} whitelist {:?}: {}", g.name, e.message))
                        })?;
                    }
                    whitelist.push(WhitelistGroup {
                        name: g.name.clone(),
                        attribute: g.attribute.clone(),
                        entries: g.entries.clone(),
                    });
                }
                let status = DbStatus::parse(&d.status)
                    .ok_or_else(|| err(format!("{what}: unknown status {:?}", d.status)))?;
                let status = Lifecycle::settled(status);
                match kind {
                    "rds instance" => {
                        reg.rds_instances.insert(
                            d.id.clone(),
                            RdsInstance {
                                id: d.id.clone(),
                                description: d.description.clone(),
                                engine: d.engine.clone(),
                                engine_version: d.engine_version.clone(),
                                class: d.class.clone(),
                                zone: d.zone.clone(),
                                vpc_id: d.vpc.clone(),
                                vswitch_id: d.vswitch.clone(),
                                status,
                                endpoints,
                                whitelist,
                                created: created.clone(),
                            },
                        );
                    }
                    "polardb cluster" => {
                        reg.polardb_clusters.insert(
                            d.id.clone(),
                            PolarDbCluster {
                                id: d.id.clone(),
                                description: d.description.clone(),
                                db_type: d.engine.clone(),
                                db_version: d.engine_version.clone(),
                                zone: d.zone.clone(),
                                vpc_id: d.vpc.clone(),
                                vswitch_id: d.vswitch.clone(),
                                status,
                                endpoints,
                                whitelist,
                                created: created.clone(),
                            },
                        );
                    }
                    _ => {
                        reg.mongodb_instances.insert(
                            d.id.clone(),
                            MongoDbInstance {
                                id: d.id.clone(),
                                description: d.description.clone(),
                                engine_version: d.engine_version.clone(),
                                kind: if d.kind.is_empty() {
                                    "replicate".into()
                                } else {
                                    d.kind.clone()
                                },
                                replica_set_name: "mgset-sim".into(),
                                zone: d.zone.clone(),
                                vpc_id: d.vpc.clone(),
                                vswitch_id: d.vswitch.clone(),
                                status,
                                endpoints,
                                whitelist,
                                created: created.clone(),
                            },
                        );
                    }
                }
            }
        }

        let now_ms = epoch_ms();
        for ws in &self.dataworks_workspaces {
            let what = format!("dataworks workspace {}", ws.id);
            let uid = uid_of(&w, &what, &ws.account)?;
            region_ok(&w, &what, &ws.region)?;
            w.ids.reserve_number(ws.id);
            w.regional(&uid, &ws.region).dataworks.workspaces.insert(
                ws.id,
                Workspace {
                    id: ws.id,
                    name: ws.name.clone(),
                },
            );
        }
        for rg in &self.dataworks_resource_groups {
            let what = format!("dataworks resource group {:?}", rg.id);
            let uid = uid_of(&w, &what, &rg.account)?;
            region_ok(&w, &what, &rg.region)?;
            let status = ResourceGroupStatus::parse(&rg.status)
                .ok_or_else(|| err(format!("{what}: unknown status {:?}", rg.status)))?;
            let reg = w.regional(&uid, &rg.region);
            check_vswitch(reg, &rg.vpc, &rg.vswitch).map_err(|m| err(format!("{what}: {m}")))?;
            for p in &rg.workspaces {
                if !reg.dataworks.workspaces.contains_key(p) {
                    return Err(err(format!(
                        "{what}: workspace {p} is not declared in this account and region"
                    )));
                }
            }
            reg.dataworks.resource_groups.insert(
                rg.id.clone(),
                ResourceGroup {
                    id: rg.id.clone(),
                    name: rg.name.clone(),
                    kind: rg.kind.clone(),
                    payment_type: rg.payment_type.clone(),
                    status: Lifecycle::settled(status),
                    default_vpc_id: rg.vpc.clone(),
                    default_vswitch_id: rg.vswitch.clone(),
                    workspaces: rg.workspaces.clone(),
                    spec_standard: rg.spec_standard.clone(),
                    spec_amount: rg.spec_amount,
                    remark: rg.remark.clone(),
                    created_ms: now_ms,
                },
            );
        }
        for n in &self.dataworks_networks {
            let what = format!("dataworks network {}", n.id);
            let uid = uid_of(&w, &what, &n.account)?;
            region_ok(&w, &what, &n.region)?;
            let status = NetworkStatus::parse(&n.status)
                .ok_or_else(|| err(format!("{what}: unknown status {:?}", n.status)))?;
            w.ids.reserve_number(n.id);
            let reg = w.regional(&uid, &n.region);
            check_vswitch(reg, &n.vpc, &n.vswitch).map_err(|m| err(format!("{what}: {m}")))?;
            if !reg
                .dataworks
                .resource_groups
                .contains_key(&n.resource_group)
            {
                return Err(err(format!(
                    "{what}: resource group {:?} is not declared in this account and region",
                    n.resource_group
                )));
            }
            reg.dataworks.networks.insert(
                n.id,
                DwNetwork {
                    id: n.id,
                    resource_group_id: n.resource_group.clone(),
                    vpc_id: n.vpc.clone(),
                    vswitch_id: n.vswitch.clone(),
                    security_group_id: String::new(),
                    status: Lifecycle::settled(status),
                    created_ms: now_ms,
                    create_user: uid.clone(),
                    client_token: String::new(),
                },
            );
        }
        Ok(w)
    }
}

fn check_vswitch(reg: &Regional, vpc: &str, vswitch: &str) -> Result<(), String> {
    match reg.vswitches.get(vswitch) {
        None => Err(format!(
            "vSwitch {vswitch:?} is not declared in this account and region"
        )),
        Some(v) if v.vpc_id != vpc => Err(format!(
            "vSwitch {vswitch} is in VPC {}, not {vpc}",
            v.vpc_id
        )),
        Some(_) => Ok(()),
    }
}

/// The system route a vSwitch's CIDR gets in its VPC's system table.
pub fn add_system_route(reg: &mut Regional, table_id: &str, entry_id: &str, vsw: &VSwitch) {
    if let Some(t) = reg.route_tables.get_mut(table_id) {
        t.entries.push(RouteEntry {
            id: entry_id.to_string(),
            route_table_id: table_id.to_string(),
            destination: vsw.cidr,
            kind: RouteEntryKind::System,
            origin: "SystemCreate".into(),
            name: String::new(),
            description: String::new(),
            next_hops: vec![NextHop {
                kind: "local".into(),
                id: String::new(),
                weight: None,
            }],
            status: Lifecycle::settled(RouteEntryStatus::Available),
            created: vsw.created.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::Pacer;

    #[test]
    fn the_seed_loads_with_the_shared_identifiers() {
        let w = Scenario::default_seed()
            .build(Pacer::immediate(), 1)
            .unwrap();
        let a = w.account_by_name("A").unwrap();
        assert_eq!(a.uid, "1862710497302214");
        let b = w.account_by_name("B").unwrap();
        assert_eq!(b.access_key_id, "LTAI5tSimAccountB0000001");
        let hz = w.regional_ref(&a.uid, "cn-hangzhou").unwrap();
        assert_eq!(
            hz.vpcs["vpc-bp1simhzvpc000000001"].cidr.to_string(),
            "192.168.0.0/16"
        );
        assert_eq!(hz.vswitches.len(), 1);
        let rds = &hz.rds_instances["rm-bp1simmysqlsource001"];
        assert_eq!(rds.whitelist.len(), 2);
        assert_eq!(
            rds.whitelist[1].entries,
            vec!["192.168.6.0/24", "192.168.7.15"]
        );
        assert_eq!(hz.polardb_clusters.len(), 1);
        assert_eq!(hz.mongodb_instances.len(), 1);
        let sh = w.regional_ref(&b.uid, "cn-shanghai").unwrap();
        assert_eq!(sh.vswitches.len(), 2);
        assert_eq!(
            sh.dataworks.networks[&1001].vswitch_id,
            "vsw-uf6simshvsw00000000e"
        );
        assert_eq!(sh.dataworks.workspaces[&61234].name, "Account_B_workspace");
        let role = &w.globals[&a.uid].roles["dataworks-cross-account"];
        assert_eq!(
            role.arn(),
            "acs:ram::1862710497302214:role/dataworks-cross-account"
        );
        assert_eq!(role.trusted_uids, vec![b.uid.clone()]);
    }

    #[test]
    fn bad_scenarios_name_the_entry() {
        let base = r#"
[[regions]]
id = "cn-hangzhou"
zones = ["cn-hangzhou-h"]
[[accounts]]
name = "A"
uid = "1"
region = "cn-hangzhou"
access_key_id = "k"
access_key_secret = "s"
[[vpcs]]
account = "A"
region = "cn-hangzhou"
id = "vpc-1"
name = "v"
cidr = "10.0.0.0/16"
route_table_id = "vtb-1"
vrouter_id = "vrt-1"
"#;
        let with = |extra: &str| {
            Scenario::parse(&format!("{base}{extra}"), "t")
                .unwrap()
                .build(Pacer::immediate(), 1)
                .map(|_| ())
                .unwrap_err()
                .to_string()
        };
        let vsw = |zone: &str, cidr: &str| {
            format!(
                "[[vswitches]]\naccount = \"A\"\nregion = \"cn-hangzhou\"\nid = \"vsw-1\"\nname = \"s\"\nvpc = \"vpc-1\"\nzone = \"{zone}\"\ncidr = \"{cidr}\"\n"
            )
        };
        assert!(with(&vsw("cn-hangzhou-x", "10.0.1.0/24")).contains("zone"));
        assert!(with(&vsw("cn-hangzhou-h", "10.9.0.0/24")).contains("not inside the VPC CIDR"));
        assert!(with(&vsw("cn-hangzhou-h", "10.0.1.1/24")).contains("host bits"));
        assert!(Scenario::parse("[[accounts]]\nnme = 1", "t").is_err());
    }
}
