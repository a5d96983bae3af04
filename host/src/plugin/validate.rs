//! Checks on what a plugin returns: the host trusts nothing that crosses the sandbox. Data
//! fields (ids, hosts, whitelist entries, connection properties) must be plain text: a control
//! character or escape sequence in one is refused, quoted escaped, rather than passed on to the
//! cloud, the journal or a terminal.

use super::text::{FIELD_CAP, has_control};
use super::types::{Location, PluginInfo, WhitelistGroup};
use super::v0_1::truncate;
use serde_json::{Map, Value};

/// Name lowercase `[a-z0-9-]`, actions `product:Action` with a lower-case product code.
pub(crate) fn plugin_info(info: &PluginInfo) -> Result<(), String> {
    let name_ok = !info.name.is_empty()
        && info.name.len() <= 64
        && info
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !name_ok {
        return Err(format!(
            "name `{}` is not a short lower-case name like `rds-mysql`",
            truncate(&info.name)
        ));
    }
    if info.version.trim().is_empty() {
        return Err("the version is empty".into());
    }
    for action in &info.actions {
        let ok = match action.split_once(':') {
            Some((product, name)) => {
                !product.is_empty()
                    && product
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric())
            }
            None => false,
        };
        if !ok {
            return Err(format!(
                "action `{}` is not written `product:Action` with a lower-case product, e.g. `rds:ModifySecurityIps`",
                truncate(action)
            ));
        }
    }
    Ok(())
}

/// A data field: no control characters, at most [`FIELD_CAP`] bytes.
fn plain(what: &str, value: &str) -> Result<(), String> {
    if has_control(value) {
        return Err(format!(
            "{what} `{}` contains a control character or escape sequence",
            truncate(value)
        ));
    }
    if value.len() > FIELD_CAP {
        return Err(format!(
            "{what} is {} bytes long, more than {FIELD_CAP} (`{}`)",
            value.len(),
            truncate(value)
        ));
    }
    Ok(())
}

/// The CIDR was parsed on conversion; endpoints need a host; every field is plain text.
pub(crate) fn location(location: &Location) -> Result<(), String> {
    plain("region", &location.region)?;
    plain("zone", &location.zone)?;
    plain("vpc-id", &location.vpc_id)?;
    plain("vswitch-id", &location.vswitch_id)?;
    plain("status", &location.status)?;
    for endpoint in &location.endpoints {
        plain("endpoint host", &endpoint.host)?;
        plain("endpoint role", &endpoint.role)?;
    }
    if location.endpoints.iter().any(|e| e.host.trim().is_empty()) {
        return Err("an endpoint has an empty host".into());
    }
    Ok(())
}

/// Group names must be non-empty; names, entries and attributes plain text.
pub(crate) fn whitelist(groups: &[WhitelistGroup]) -> Result<(), String> {
    for group in groups {
        plain("whitelist group name", &group.name)?;
        plain("whitelist group attribute", &group.attribute)?;
        for entry in &group.entries {
            plain("whitelist entry", entry)?;
        }
    }
    if groups.iter().any(|g| g.name.trim().is_empty()) {
        return Err("a whitelist group has an empty name".into());
    }
    Ok(())
}

/// A JSON object with no `password` key at any depth (the host adds the password itself).
pub(crate) fn connection_properties(text: &str) -> Result<Map<String, Value>, String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("connection properties are not JSON: {e}"))?;
    let Value::Object(map) = value else {
        return Err("connection properties are not a JSON object".into());
    };
    fn has_password(v: &Value) -> bool {
        match v {
            Value::Object(m) => m
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("password") || has_password(v)),
            Value::Array(a) => a.iter().any(has_password),
            _ => false,
        }
    }
    if map
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("password") || has_password(v))
    {
        return Err(
            "connection properties contain a `password` key; the host adds the password itself, plugins must not"
                .into(),
        );
    }
    /// The first key or string value holding a control character.
    fn control(v: &Value) -> Option<&str> {
        match v {
            Value::String(s) => has_control(s).then_some(s.as_str()),
            Value::Object(m) => m.iter().find_map(|(k, v)| {
                if has_control(k) {
                    Some(k.as_str())
                } else {
                    control(v)
                }
            }),
            Value::Array(a) => a.iter().find_map(control),
            _ => None,
        }
    }
    if let Some(text) = map.iter().find_map(|(k, v)| {
        if has_control(k) {
            Some(k.as_str())
        } else {
            control(v)
        }
    }) {
        return Err(format!(
            "connection properties contain a control character or escape sequence in `{}`",
            truncate(text)
        ));
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, actions: &[&str]) -> PluginInfo {
        PluginInfo {
            name: name.into(),
            version: "0.1.0".into(),
            datasource_type: "mysql".into(),
            product: "Rds".into(),
            api_version: "2014-08-15".into(),
            actions: actions.iter().map(|a| a.to_string()).collect(),
            summary: String::new(),
            capabilities: Vec::new(),
        }
    }

    #[test]
    fn plugin_info_rules() {
        assert!(plugin_info(&info("rds-mysql", &["rds:ModifySecurityIps"])).is_ok());
        assert!(plugin_info(&info("RDS", &[])).is_err());
        assert!(plugin_info(&info("rds", &["Rds:ModifySecurityIps"])).is_err());
        assert!(plugin_info(&info("rds", &["ModifySecurityIps"])).is_err());
    }

    #[test]
    fn data_fields_must_be_plain_text() {
        let location = |zone: &str| Location {
            region: "cn-hangzhou".into(),
            zone: zone.into(),
            vpc_id: "vpc-a".into(),
            vswitch_id: "vsw-a".into(),
            vswitch_cidr: "192.168.6.0/24".parse().unwrap(),
            endpoints: vec![],
            status: "Running".into(),
            running: true,
        };
        assert!(super::location(&location("cn-hangzhou-h")).is_ok());
        let err = super::location(&location("h\u{1b}[2J")).unwrap_err();
        assert_eq!(
            err,
            "zone `h\\u{1b}[2J` contains a control character or escape sequence"
        );
        assert!(super::location(&location(&"z".repeat(300))).is_err());
        let group = |entry: &str| WhitelistGroup {
            name: "default".into(),
            entries: vec![entry.into()],
            attribute: String::new(),
        };
        assert!(whitelist(&[group("10.0.0.0/8")]).is_ok());
        let err = whitelist(&[group("10.0.0.0/8\nforged")]).unwrap_err();
        assert!(err.contains("10.0.0.0/8\\nforged"), "{err}");
        assert!(!has_control(&err));
        let err = connection_properties(r#"{"a":{"b":["\u001b[2J"]}}"#).unwrap_err();
        assert!(err.contains("\\u{1b}[2J"), "{err}");
        assert!(connection_properties(r#"{"a\nb":1}"#).is_err());
    }

    #[test]
    fn connection_properties_rules() {
        assert!(connection_properties(r#"{"envType":"Dev"}"#).is_ok());
        assert!(connection_properties("[1]").is_err());
        assert!(connection_properties("nope").is_err());
        assert!(connection_properties(r#"{"a":{"Password":"x"}}"#).is_err());
        assert!(connection_properties(r#"{"a":[{"password":"x"}]}"#).is_err());
    }
}
