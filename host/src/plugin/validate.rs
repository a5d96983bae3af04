//! Checks on what a plugin returns: the host trusts nothing that crosses the sandbox.

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
            "name {:?} is not a short lower-case name like `rds-mysql`",
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
                "action {:?} is not written `product:Action` with a lower-case product, e.g. `rds:ModifySecurityIps`",
                truncate(action)
            ));
        }
    }
    Ok(())
}

/// The CIDR was parsed on conversion; endpoints need a host.
pub(crate) fn location(location: &Location) -> Result<(), String> {
    if location.endpoints.iter().any(|e| e.host.trim().is_empty()) {
        return Err("an endpoint has an empty host".into());
    }
    Ok(())
}

/// Group names must be non-empty.
pub(crate) fn whitelist(groups: &[WhitelistGroup]) -> Result<(), String> {
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
    fn connection_properties_rules() {
        assert!(connection_properties(r#"{"envType":"Dev"}"#).is_ok());
        assert!(connection_properties("[1]").is_err());
        assert!(connection_properties("nope").is_err());
        assert!(connection_properties(r#"{"a":{"Password":"x"}}"#).is_err());
        assert!(connection_properties(r#"{"a":[{"password":"x"}]}"#).is_err());
    }
}
