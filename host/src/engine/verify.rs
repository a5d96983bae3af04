//! The host checks what a plugin claims against what it reads itself, and owns the identity of
//! what it registers: a plugin is untrusted code, so the location it discovers steers nothing
//! the host has not verified through account A's own API, and the connection properties it
//! returns cannot name another instance, owner, role or address.

use crate::network::vpc;
use crate::plugin::{Endpoint, Location};
use ipnet::Ipv4Net;
use serde_json::{Map, Value};

/// A plugin claim the host refuses: its own read (or the link) says otherwise. Not bad input
/// from the user (exit 1): the plugin is named so it can be reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "plugin {plugin}: {call}: {field}: the plugin says {claimed}, but {real}; dwlink refuses to act on a plugin claim it can check itself (report the plugin)"
)]
pub struct Untrusted {
    pub plugin: String,
    /// The plugin call whose answer is refused: `discover`, `connection-properties`.
    pub call: String,
    /// What the claim is about, e.g. `CIDR of vSwitch vsw-1`, `connection property instanceId`.
    pub field: String,
    pub claimed: String,
    /// What the host read (or set) instead, in words.
    pub real: String,
}

fn untrusted(plugin: &str, call: &str, field: String, claimed: String, real: String) -> Untrusted {
    Untrusted {
        plugin: plugin.into(),
        call: call.into(),
        field,
        claimed,
        real,
    }
}

/// Checks the location a plugin's `discover` returned against account A's vSwitch as the host
/// read it (`real`, `None` when the vSwitch does not exist in `region` of account `account`).
/// The vSwitch must exist in the link's region, belong to the claimed VPC, have the claimed
/// CIDR and zone; an endpoint address, when the plugin reports one, must lie in that CIDR.
/// Returns the verified CIDR: the only one the engine routes to.
pub fn check_location(
    plugin: &str,
    account: &str,
    region: &str,
    claimed: &Location,
    real: Option<&vpc::VSwitch>,
) -> Result<Ipv4Net, Untrusted> {
    let refuse = |field: String, claimed: String, real: String| {
        Err(untrusted(plugin, "discover", field, claimed, real))
    };
    if claimed.region != region {
        return refuse(
            "region of the instance".into(),
            claimed.region.clone(),
            format!("the link says the instance is in {region}"),
        );
    }
    let vsw_id = &claimed.vswitch_id;
    let Some(real) = real.filter(|v| v.id.is_empty() || v.id == *vsw_id) else {
        return refuse(
            "vSwitch of the instance".into(),
            vsw_id.clone(),
            format!("account A ({account}) has no vSwitch {vsw_id} in {region}"),
        );
    };
    if real.vpc_id != claimed.vpc_id {
        return refuse(
            format!("VPC of vSwitch {vsw_id}"),
            claimed.vpc_id.clone(),
            format!(
                "account A's VPC API says vSwitch {vsw_id} belongs to VPC {}",
                real.vpc_id
            ),
        );
    }
    let Ok(cidr) = real.cidr.trim().parse::<Ipv4Net>() else {
        return refuse(
            format!("CIDR of vSwitch {vsw_id}"),
            claimed.vswitch_cidr.to_string(),
            format!(
                "account A's VPC API reports {:?}, which is not an IPv4 CIDR",
                real.cidr
            ),
        );
    };
    if cidr != claimed.vswitch_cidr {
        return refuse(
            format!("CIDR of vSwitch {vsw_id}"),
            claimed.vswitch_cidr.to_string(),
            format!("account A's VPC API says it is {cidr}"),
        );
    }
    if !real.zone.is_empty() && real.zone != claimed.zone {
        return refuse(
            format!("zone of vSwitch {vsw_id}"),
            claimed.zone.clone(),
            format!("account A's VPC API says it is in {}", real.zone),
        );
    }
    for e in &claimed.endpoints {
        if let Some(address) = e.address
            && !cidr.contains(&address)
        {
            return refuse(
                format!("address of endpoint {}:{}", e.host, e.port),
                address.to_string(),
                format!("that is outside vSwitch {vsw_id} ({cidr}), where the instance is"),
            );
        }
    }
    Ok(cidr)
}

/// Keys the host owns in the connection properties (compared case-insensitively, at any
/// depth): a plugin may only repeat the host's value.
const IDENTITY_KEYS: &[&str] = &[
    "instanceid",
    "clusterid",
    "regionid",
    "crossaccountownerid",
    "crossaccountrolename",
    "envtype",
    "password",
];

/// Keys that name where DataWorks connects: a plugin may only name an endpoint the host
/// verified (its address inside the verified vSwitch CIDR).
const ADDRESS_KEYS: &[&str] = &[
    "address",
    "host",
    "port",
    "url",
    "jdbcurl",
    "connectionstring",
    "endpoint",
];

/// What the host puts in the connection properties, from the link and the verified location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub instance_id: String,
    /// The key DataWorks reads the instance id from: `clusterId` for `polardb`, else
    /// `instanceId`.
    pub id_key: String,
    pub region: String,
    pub owner_uid: String,
    pub role_name: String,
    pub env_type: String,
}

impl Identity {
    /// The id key of a DataWorks data-source type.
    pub fn id_key_for(datasource_type: &str) -> &'static str {
        if datasource_type.eq_ignore_ascii_case("polardb") {
            "clusterId"
        } else {
            "instanceId"
        }
    }

    /// The host's value of an identity key (lower-case name); `None` for `password`, whose
    /// value a plugin never knows.
    fn value(&self, key: &str) -> Option<&str> {
        Some(match key {
            "instanceid" | "clusterid" => &self.instance_id,
            "regionid" => &self.region,
            "crossaccountownerid" => &self.owner_uid,
            "crossaccountrolename" => &self.role_name,
            "envtype" => &self.env_type,
            _ => return None,
        })
    }
}

/// Builds the connection properties DataWorks gets: the plugin's product-specific keys, and the
/// identity keys set by the host (the instance id under `id_key`, `regionId`, `envType`,
/// `crossAccountOwnerId`, `crossAccountRoleName`, `password`). Refuses, naming the key, a
/// plugin that sets an identity key to another value than the host's, any `password` key, or
/// an address-like key that names no endpoint the host verified (`endpoints` whose address the
/// host checked against the vSwitch CIDR; those without an address are not verified).
pub fn merge_properties(
    plugin: &str,
    from_plugin: &Map<String, Value>,
    identity: &Identity,
    endpoints: &[Endpoint],
    password: &str,
) -> Result<Map<String, Value>, Untrusted> {
    let verified: Vec<&Endpoint> = endpoints.iter().filter(|e| e.address.is_some()).collect();
    let check = Check {
        plugin,
        identity,
        verified: &verified,
    };
    for (k, v) in from_plugin {
        check.walk(k, k, v, false)?;
    }
    let mut out: Map<String, Value> = from_plugin
        .iter()
        .filter(|(k, _)| !IDENTITY_KEYS.contains(&k.to_ascii_lowercase().as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, v) in [
        ("envType", &identity.env_type),
        ("regionId", &identity.region),
        (identity.id_key.as_str(), &identity.instance_id),
        ("crossAccountOwnerId", &identity.owner_uid),
        ("crossAccountRoleName", &identity.role_name),
    ] {
        out.insert(k.to_string(), Value::String(v.clone()));
    }
    out.insert("password".into(), Value::String(password.to_string()));
    Ok(out)
}

struct Check<'a> {
    plugin: &'a str,
    identity: &'a Identity,
    verified: &'a [&'a Endpoint],
}

impl Check<'_> {
    fn refuse(&self, path: &str, claimed: String, real: String) -> Untrusted {
        untrusted(
            self.plugin,
            "connection-properties",
            format!("connection property {path}"),
            claimed,
            real,
        )
    }

    /// Checks `v`, found under key `key` at `path`; `address` when an ancestor key is
    /// address-like (every value under it must name a verified endpoint).
    fn walk(&self, path: &str, key: &str, v: &Value, address: bool) -> Result<(), Untrusted> {
        let lower = key.to_ascii_lowercase();
        if lower == "password" {
            return Err(self.refuse(
                path,
                "a password".into(),
                "dwlink sets the password itself, from the link's password variable; a plugin never sees it".into(),
            ));
        }
        if let Some(host) = self.identity.value(&lower) {
            return match scalar(v) {
                Some(s) if s == host => Ok(()),
                _ => Err(self.refuse(
                    path,
                    shown(v),
                    format!("dwlink sets {key} to {host:?} from the link"),
                )),
            };
        }
        let address = address || ADDRESS_KEYS.contains(&lower.as_str());
        self.value(path, v, address)
    }

    fn value(&self, path: &str, v: &Value, address: bool) -> Result<(), Untrusted> {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    self.walk(&format!("{path}.{k}"), k, x, address)?;
                }
                Ok(())
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    self.value(&format!("{path}[{i}]"), x, address)?;
                }
                Ok(())
            }
            Value::Null => Ok(()),
            _ if !address => Ok(()),
            _ if names_verified_endpoint(v, self.verified) => Ok(()),
            _ => {
                let real = if self.verified.is_empty() {
                    "no endpoint of the instance has an address dwlink verified, so the plugin may name none".to_string()
                } else {
                    format!(
                        "it names none of the endpoints dwlink verified ({})",
                        self.verified
                            .iter()
                            .map(|e| format!(
                                "{} = {}:{}",
                                e.host,
                                e.address.map(|a| a.to_string()).unwrap_or_default(),
                                e.port
                            ))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                Err(self.refuse(path, shown(v), real))
            }
        }
    }
}

/// A scalar as text: strings as they are, numbers and booleans formatted.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// Whether an address-like scalar names only verified endpoints: a port number, or host
/// names / IPv4 addresses (with an optional port) as a URL, a `host:port` pair or a
/// comma-separated list of them.
fn names_verified_endpoint(v: &Value, verified: &[&Endpoint]) -> bool {
    let port_ok = |p: u64| verified.iter().any(|e| u64::from(e.port) == p);
    let host_ok = |h: &str| {
        verified.iter().any(|e| {
            e.host.eq_ignore_ascii_case(h) || e.address.is_some_and(|a| a.to_string() == h)
        })
    };
    let text = match v {
        Value::Number(n) => return n.as_u64().is_some_and(port_ok),
        Value::String(s) => s.trim(),
        _ => return false,
    };
    if let Ok(p) = text.parse::<u16>() {
        return port_ok(p.into());
    }
    // scheme://user@host:port,host:port/path?query
    let rest = text.rsplit_once("://").map_or(text, |(_, r)| r);
    let rest = rest.split(['/', '?', ';', '#']).next().unwrap_or_default();
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let mut named = false;
    for item in rest.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (host, port) = match item.rsplit_once(':') {
            Some((h, p)) => match p.parse::<u16>() {
                Ok(p) => (h, Some(p)),
                Err(_) => return false,
            },
            None => (item, None),
        };
        if !host_ok(host) || port.is_some_and(|p| !port_ok(p.into())) {
            return false;
        }
        named = true;
    }
    named
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn location() -> Location {
        Location {
            region: "cn-hangzhou".into(),
            zone: "cn-hangzhou-h".into(),
            vpc_id: "vpc-a".into(),
            vswitch_id: "vsw-a".into(),
            vswitch_cidr: "192.168.6.0/24".parse().unwrap(),
            endpoints: vec![Endpoint {
                host: "rm-1.mysql.rds.aliyuncs.com".into(),
                port: 3306,
                role: "primary".into(),
                address: None,
            }],
            status: "Running".into(),
            running: true,
        }
    }

    fn vswitch() -> vpc::VSwitch {
        vpc::VSwitch {
            id: "vsw-a".into(),
            name: "a".into(),
            vpc_id: "vpc-a".into(),
            zone: "cn-hangzhou-h".into(),
            cidr: "192.168.6.0/24".into(),
            status: "Available".into(),
            route_table_id: String::new(),
        }
    }

    fn check(claimed: &Location, real: Option<&vpc::VSwitch>) -> Result<Ipv4Net, Untrusted> {
        check_location("liar", "1862710497302214", "cn-hangzhou", claimed, real)
    }

    #[test]
    fn a_true_location_passes_with_the_read_cidr() {
        let mut l = location();
        l.endpoints[0].address = Some("192.168.6.10".parse().unwrap());
        assert_eq!(
            check(&l, Some(&vswitch())),
            Ok("192.168.6.0/24".parse().unwrap())
        );
    }

    #[test]
    fn each_false_field_is_named_with_both_values() {
        let mut l = location();
        l.vswitch_cidr = "0.0.0.0/1".parse().unwrap();
        let e = check(&l, Some(&vswitch())).unwrap_err();
        assert_eq!(e.field, "CIDR of vSwitch vsw-a");
        assert_eq!(e.claimed, "0.0.0.0/1");
        assert!(e.real.contains("192.168.6.0/24"), "{e}");
        assert!(e.to_string().starts_with("plugin liar: discover: "), "{e}");

        let mut l = location();
        l.vpc_id = "vpc-other".into();
        let e = check(&l, Some(&vswitch())).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.claimed.as_str()),
            ("VPC of vSwitch vsw-a", "vpc-other")
        );
        assert!(e.real.contains("vpc-a"));

        let mut l = location();
        l.zone = "cn-hangzhou-i".into();
        let e = check(&l, Some(&vswitch())).unwrap_err();
        assert_eq!(e.field, "zone of vSwitch vsw-a");

        let mut l = location();
        l.region = "cn-beijing".into();
        assert_eq!(
            check(&l, Some(&vswitch())).unwrap_err().field,
            "region of the instance"
        );

        let e = check(&location(), None).unwrap_err();
        assert_eq!(e.field, "vSwitch of the instance");
        assert!(
            e.real.contains("has no vSwitch vsw-a in cn-hangzhou"),
            "{e}"
        );

        let mut l = location();
        l.endpoints[0].address = Some("10.9.9.9".parse().unwrap());
        let e = check(&l, Some(&vswitch())).unwrap_err();
        assert_eq!(
            e.field,
            "address of endpoint rm-1.mysql.rds.aliyuncs.com:3306"
        );
        assert_eq!(e.claimed, "10.9.9.9");
    }

    fn identity() -> Identity {
        Identity {
            instance_id: "rm-1".into(),
            id_key: "instanceId".into(),
            region: "cn-hangzhou".into(),
            owner_uid: "1862710497302214".into(),
            role_name: "dataworks-cross-account".into(),
            env_type: "Prod".into(),
        }
    }

    fn props(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn merge(v: Value, endpoints: &[Endpoint]) -> Result<Map<String, Value>, Untrusted> {
        merge_properties("liar", &props(v), &identity(), endpoints, "pw")
    }

    #[test]
    fn the_host_sets_the_identity_and_keeps_product_keys() {
        // What the shipped plugins return.
        let out = merge(
            json!({"envType": "Prod", "regionId": "cn-hangzhou", "instanceId": "rm-1", "database": "db",
                   "username": "u", "crossAccountOwnerId": "1862710497302214",
                   "crossAccountRoleName": "dataworks-cross-account"}),
            &[],
        )
        .unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"envType": "Prod", "regionId": "cn-hangzhou", "instanceId": "rm-1", "database": "db",
                   "username": "u", "crossAccountOwnerId": "1862710497302214",
                   "crossAccountRoleName": "dataworks-cross-account", "password": "pw"})
        );
        // A plugin that sets none of them gets all of them; case variants are folded into
        // the host's spelling; a numeric owner id equal to the host's is accepted.
        let out = merge(
            json!({"database": "db", "RegionID": "cn-hangzhou", "crossAccountOwnerId": 1862710497302214u64,
                   "extra": {"instanceid": "rm-1"}}),
            &[],
        )
        .unwrap();
        assert_eq!(out["instanceId"], "rm-1");
        assert_eq!(out["crossAccountRoleName"], "dataworks-cross-account");
        assert_eq!(out["crossAccountOwnerId"], "1862710497302214");
        assert!(!out.contains_key("RegionID"));
        assert_eq!(out["password"], "pw");
        // PolarDB: the instance id goes under clusterId.
        let mut polar = identity();
        polar.id_key = Identity::id_key_for("polardb").into();
        let out = merge_properties(
            "p",
            &props(json!({"clusterId": "rm-1", "dbType": "mysql"})),
            &polar,
            &[],
            "pw",
        )
        .unwrap();
        assert_eq!(out["clusterId"], "rm-1");
        assert_eq!(out["dbType"], "mysql");
        assert!(!out.contains_key("instanceId"));
    }

    #[test]
    fn another_instance_owner_role_or_password_is_refused_naming_the_key() {
        for (v, key) in [
            (json!({"instanceId": "rm-other"}), "instanceId"),
            (json!({"ClusterId": "pc-other"}), "ClusterId"),
            (
                json!({"crossAccountOwnerId": "1111111111111111"}),
                "crossAccountOwnerId",
            ),
            (
                json!({"crossAccountRoleName": "admin"}),
                "crossAccountRoleName",
            ),
            (json!({"envType": "Dev"}), "envType"),
            (json!({"regionId": "cn-beijing"}), "regionId"),
            (
                json!({"nested": [{"INSTANCEID": "rm-2"}]}),
                "nested[0].INSTANCEID",
            ),
            (json!({"password": "x"}), "password"),
        ] {
            let e = merge(v.clone(), &[]).unwrap_err();
            assert_eq!(e.field, format!("connection property {key}"), "{v}");
            assert_eq!(e.call, "connection-properties");
            assert!(e.to_string().contains("plugin liar"), "{e}");
        }
        let e = merge(json!({"instanceId": "rm-other"}), &[]).unwrap_err();
        assert_eq!(e.claimed, "\"rm-other\"");
        assert!(e.real.contains("\"rm-1\""), "{e}");
        // The password's claimed value is never shown.
        let e = merge(json!({"password": "guess"}), &[]).unwrap_err();
        assert!(!e.to_string().contains("guess"), "{e}");
    }

    #[test]
    fn addresses_must_name_a_verified_endpoint() {
        let unverified = location().endpoints;
        // Without a verified address, no address-like key passes.
        for v in [
            json!({"address": [{"host": "rm-1.mysql.rds.aliyuncs.com", "port": 3306}]}),
            json!({"host": "10.0.0.1"}),
            json!({"jdbcUrl": "jdbc:mysql://rm-1.mysql.rds.aliyuncs.com:3306/db"}),
        ] {
            assert!(merge(v.clone(), &unverified).is_err(), "{v}");
        }
        let mut verified = unverified.clone();
        verified[0].address = Some("192.168.6.10".parse().unwrap());
        for v in [
            json!({"address": [{"host": "rm-1.mysql.rds.aliyuncs.com", "port": 3306}]}),
            json!({"host": "192.168.6.10", "port": "3306"}),
            json!({"jdbcUrl": "jdbc:mysql://u@RM-1.mysql.rds.aliyuncs.com:3306/db?ssl=true"}),
            json!({"connectionString": "192.168.6.10:3306,rm-1.mysql.rds.aliyuncs.com"}),
            json!({"Endpoint": null}),
        ] {
            assert!(merge(v.clone(), &verified).is_ok(), "{v}");
        }
        for (v, key) in [
            (
                json!({"address": [{"host": "evil.example.com", "port": 3306}]}),
                "address[0].host",
            ),
            (
                json!({"address": [{"host": "192.168.6.10", "port": 22}]}),
                "address[0].port",
            ),
            (json!({"URL": "mysql://10.1.2.3:3306/db"}), "URL"),
            (
                json!({"x": {"endpoint": "192.168.6.10:3306,10.1.2.3:3306"}}),
                "x.endpoint",
            ),
            (json!({"address": [{"ip": "10.1.2.3"}]}), "address[0].ip"),
            (json!({"port": true}), "port"),
        ] {
            let e = merge(v.clone(), &verified).unwrap_err();
            assert_eq!(e.field, format!("connection property {key}"), "{v}");
            assert!(e.real.contains("192.168.6.10"), "{e}");
        }
    }
}
