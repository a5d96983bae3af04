//! Which scenario instance a plugin is tested against, and what the scenario says about it.

use super::InputError;
use crate::plugin::{InstanceRef, PluginInfo, WhitelistGroup};
use dwlink_sim::Scenario;
use dwlink_sim::scenario::{AccountSpec, DbSpec};
use dwlink_sim::state::World;

/// The products the simulator simulates, by the code a plugin declares in `describe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    Rds,
    PolarDb,
    MongoDb,
}

impl Product {
    /// `Rds`, `polardb`, `Dds` (any case), as plugins declare them.
    pub fn from_code(code: &str) -> Option<Product> {
        match code.to_ascii_lowercase().as_str() {
            "rds" => Some(Product::Rds),
            "polardb" => Some(Product::PolarDb),
            "dds" => Some(Product::MongoDb),
            _ => None,
        }
    }

    /// How the scenario file names the list (`[[rds_instances]]`), for messages.
    fn table(self) -> &'static str {
        match self {
            Product::Rds => "rds_instances",
            Product::PolarDb => "polardb_clusters",
            Product::MongoDb => "mongodb_instances",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Product::Rds => "RDS instance",
            Product::PolarDb => "PolarDB cluster",
            Product::MongoDb => "MongoDB instance",
        }
    }

    fn specs_mut(self, scenario: &mut Scenario) -> &mut Vec<DbSpec> {
        match self {
            Product::Rds => &mut scenario.rds_instances,
            Product::PolarDb => &mut scenario.polardb_clusters,
            Product::MongoDb => &mut scenario.mongodb_instances,
        }
    }

    fn specs(self, scenario: &Scenario) -> &[DbSpec] {
        match self {
            Product::Rds => &scenario.rds_instances,
            Product::PolarDb => &scenario.polardb_clusters,
            Product::MongoDb => &scenario.mongodb_instances,
        }
    }

    const ALL: [Product; 3] = [Product::Rds, Product::PolarDb, Product::MongoDb];
}

/// The instance under test and the scenario's facts about it.
#[derive(Debug, Clone)]
pub struct Target {
    pub product: Product,
    pub db: DbSpec,
    pub account: AccountSpec,
    /// The vSwitch's CIDR block, when the scenario declares the vSwitch.
    pub vswitch_cidr: Option<String>,
    /// The RAM role DataWorks would assume in the instance's account.
    pub role_name: String,
}

impl Target {
    /// Picks the instance: `--instance` if given, else the first instance of the plugin's
    /// product (for RDS, the first whose engine is the plugin's data-source type: one RDS API
    /// serves MySQL, PostgreSQL and more, and a plugin handles one engine).
    pub fn select(
        scenario: &Scenario,
        scenario_name: &str,
        info: &PluginInfo,
        instance: Option<&str>,
    ) -> Result<Target, InputError> {
        let product = Product::from_code(&info.product).ok_or_else(|| {
            InputError(format!(
                "plugin {} declares product {:?}, which the simulator does not simulate \
                 (it simulates Rds, polardb and Dds); `plugin test` cannot run it",
                info.name, info.product
            ))
        })?;
        let specs = product.specs(scenario);
        let db = match instance {
            Some(id) => specs.iter().find(|d| d.id == id).ok_or_else(|| {
                let elsewhere = Product::ALL
                    .iter()
                    .find(|p| p.specs(scenario).iter().any(|d| d.id == id));
                match elsewhere {
                    Some(p) => InputError(format!(
                        "--instance {id} is a {} in scenario {scenario_name}, but plugin {} is \
                         for product {}; pick one of its [[{}]]",
                        p.noun(),
                        info.name,
                        info.product,
                        product.table()
                    )),
                    None => InputError(format!(
                        "--instance {id} is not in scenario {scenario_name}; its [[{}]] are: {}",
                        product.table(),
                        list(specs)
                    )),
                }
            })?,
            None => {
                let engine_matches =
                    |d: &&DbSpec| d.engine.eq_ignore_ascii_case(&info.datasource_type);
                let found = specs.iter().find(engine_matches);
                match (found, product) {
                    (Some(d), _) => d,
                    (None, Product::Rds) => {
                        return Err(InputError(format!(
                            "scenario {scenario_name} has no RDS instance with engine {} (the data-source \
                             type of plugin {}); its [[rds_instances]] are: {}. Add one to the \
                             scenario and pass it with --scenario, or name one with --instance",
                            info.datasource_type,
                            info.name,
                            list(specs)
                        )));
                    }
                    (None, _) => specs.first().ok_or_else(|| {
                        InputError(format!(
                            "scenario {scenario_name} has no [[{}]] for plugin {} (product {}); \
                             add one and pass the file with --scenario",
                            product.table(),
                            info.name,
                            info.product
                        ))
                    })?,
                }
            }
        };
        let account = scenario
            .accounts
            .iter()
            .find(|a| a.name == db.account)
            .cloned()
            .ok_or_else(|| {
                InputError(format!(
                    "scenario {scenario_name}: {} {} names account {:?}, which is not in [[accounts]]",
                    product.noun(),
                    db.id,
                    db.account
                ))
            })?;
        let vswitch_cidr = scenario
            .vswitches
            .iter()
            .find(|v| v.id == db.vswitch)
            .map(|v| v.cidr.clone());
        let role_name = scenario
            .ram_roles
            .iter()
            .find(|r| r.account == db.account)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| "dataworks-cross-account".into());
        Ok(Target {
            product,
            db: db.clone(),
            account,
            vswitch_cidr,
            role_name,
        })
    }

    /// The scenario and target with the instance under test renamed to a fresh id of the same
    /// prefix (`rm-`, `pc-`, `dds-`), its endpoint names along: a plugin cannot recognise a
    /// test run by its instance and behave only then.
    pub fn disguise(&self, scenario: &Scenario, suffix: &str) -> (Scenario, Target) {
        let old = self.db.id.clone();
        let prefix = old.split_once('-').map_or("", |(p, _)| p);
        let new = if prefix.is_empty() {
            format!("t{suffix}")
        } else {
            format!("{prefix}-{suffix}")
        };
        let mut scenario = scenario.clone();
        let mut target = self.clone();
        for db in self.product.specs_mut(&mut scenario) {
            if db.id == old {
                db.id = new.clone();
                for e in &mut db.endpoints {
                    e.connection_string = e.connection_string.replace(&old, &new);
                }
                target.db = db.clone();
            }
        }
        (scenario, target)
    }

    pub fn instance(&self) -> InstanceRef {
        InstanceRef {
            id: self.db.id.clone(),
            region: self.db.region.clone(),
        }
    }

    pub fn noun(&self) -> &'static str {
        self.product.noun()
    }

    /// The instance's whitelist as the simulator holds it (not as the plugin reads it).
    pub fn world_whitelist(&self, world: &World) -> Option<Vec<WhitelistGroup>> {
        let regional = world.regional_ref(&self.account.uid, &self.db.region)?;
        let groups = match self.product {
            Product::Rds => &regional.rds_instances.get(&self.db.id)?.whitelist,
            Product::PolarDb => &regional.polardb_clusters.get(&self.db.id)?.whitelist,
            Product::MongoDb => &regional.mongodb_instances.get(&self.db.id)?.whitelist,
        };
        Some(
            groups
                .iter()
                .map(|g| WhitelistGroup {
                    name: g.name.clone(),
                    entries: g.entries.clone(),
                    attribute: g.attribute.clone(),
                })
                .collect(),
        )
    }
}

fn list(specs: &[DbSpec]) -> String {
    if specs.is_empty() {
        return "none".into();
    }
    specs
        .iter()
        .map(|d| {
            if d.engine.is_empty() {
                d.id.clone()
            } else {
                format!("{} ({})", d.id, d.engine)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, product: &str, kind: &str) -> PluginInfo {
        PluginInfo {
            name: name.into(),
            version: "1.0.0".into(),
            datasource_type: kind.into(),
            product: product.into(),
            api_version: String::new(),
            actions: Vec::new(),
            summary: String::new(),
            capabilities: Vec::new(),
        }
    }

    #[test]
    fn picks_the_seed_instance_of_each_product() {
        let seed = Scenario::default_seed();
        let pick = |i: PluginInfo| Target::select(&seed, "seed", &i, None).unwrap();
        let rds = pick(info("rds-mysql", "Rds", "mysql"));
        assert_eq!(rds.db.id, "rm-bp1simmysqlsource001");
        assert_eq!(rds.account.name, "A");
        assert_eq!(rds.vswitch_cidr.as_deref(), Some("192.168.6.0/24"));
        assert_eq!(rds.role_name, "dataworks-cross-account");
        assert_eq!(
            pick(info("polardb", "polardb", "polardb")).db.id,
            "pc-bp1simpolardbsrc0001"
        );
        assert_eq!(
            pick(info("mongodb", "Dds", "mongodb")).db.id,
            "dds-bp1simmongosrc00001"
        );
    }

    #[test]
    fn refuses_what_it_cannot_test_with_a_reason() {
        let seed = Scenario::default_seed();
        let err =
            |i: PluginInfo, id: Option<&str>| Target::select(&seed, "seed", &i, id).unwrap_err().0;
        let pg = err(info("rds-postgresql", "Rds", "postgresql"), None);
        assert!(
            pg.contains("no RDS instance with engine postgresql") && pg.contains("--scenario"),
            "{pg}"
        );
        let wrong = err(
            info("rds-mysql", "Rds", "mysql"),
            Some("pc-bp1simpolardbsrc0001"),
        );
        assert!(wrong.contains("is a PolarDB cluster"), "{wrong}");
        let missing = err(info("rds-mysql", "Rds", "mysql"), Some("rm-nope"));
        assert!(
            missing.contains("not in scenario seed") && missing.contains("rm-bp1simmysqlsource001"),
            "{missing}"
        );
        let unknown = err(info("redis", "R-kvstore", "redis"), None);
        assert!(unknown.contains("does not simulate"), "{unknown}");
    }
}
