//! The adapter for contract version 0.1.0 (`wit/since_v0.1.0`): its `bindgen!` output and the
//! conversions that differ from later versions. A 0.1 plugin declares bare action names; the
//! host grants it capabilities of its own making (reads, and whitelist writes of the products
//! whose parameters it knows: see [`super::gate::capabilities_for_v0_1`]). This module stays as
//! it is so 0.1 plugins keep loading.
//!
//! The conversions are where guest text enters the host: free text (messages, the `describe`
//! fields) is sanitised ([`super::text::sanitize`]); data fields (ids, hosts, whitelist
//! entries) are checked in [`super::validate`], which refuses control characters in them.

wasmtime::component::bindgen!({
    path: "../wit/since_v0.1.0",
    world: "datasource-plugin",
    imports: { default: async },
    exports: { default: async },
});

super::adapter::version_adapter!();

/// Fully-qualified name of the export every 0.1 plugin provides.
pub(crate) const EXPORT: &str = "dwlink:plugin/datasource@0.1.0";
/// The imports a 0.1 plugin may have besides WASI.
pub(crate) const IMPORTS: &[&str] = &["dwlink:plugin/host@0.1.0", "dwlink:plugin/types@0.1.0"];

fn plugin_info_from_wit(info: wit::PluginInfo) -> host::PluginInfo {
    // Sanitising leaves a valid name or action as it is and an invalid one invalid (an escape
    // brings a backslash, a cut brings spaces), so validation still refuses it.
    let actions: Vec<String> = info.actions.iter().map(|a| field(a)).collect();
    host::PluginInfo {
        capabilities: super::gate::capabilities_for_v0_1(&actions),
        name: field(&info.name),
        version: field(&info.version),
        datasource_type: field(&info.datasource_type),
        product: field(&info.product),
        api_version: field(&info.api_version),
        actions,
        summary: sanitize(&info.summary, MESSAGE_CAP),
    }
}

fn location_to_wit(l: &host::Location) -> wit::Location {
    wit::Location {
        region: l.region.clone(),
        zone: l.zone.clone(),
        vpc_id: l.vpc_id.clone(),
        vswitch_id: l.vswitch_id.clone(),
        vswitch_cidr: l.vswitch_cidr.to_string(),
        endpoints: l
            .endpoints
            .iter()
            .map(|e| wit::Endpoint {
                host: e.host.clone(),
                port: e.port,
                role: e.role.clone(),
            })
            .collect(),
        status: l.status.clone(),
        running: l.running,
    }
}

fn location_from_wit(l: wit::Location) -> Result<host::Location, CallError> {
    Ok(host::Location {
        vswitch_cidr: vswitch_cidr_from_wit(&l.vswitch_cidr)?,
        region: l.region,
        zone: l.zone,
        vpc_id: l.vpc_id,
        vswitch_id: l.vswitch_id,
        endpoints: l
            .endpoints
            .into_iter()
            .map(|e| host::Endpoint {
                host: e.host,
                port: e.port,
                role: e.role,
                address: None,
            })
            .collect(),
        status: l.status,
        running: l.running,
    })
}

/// Guest-supplied text quoted in an error, sanitised and cut to a readable length.
pub(crate) fn truncate(s: &str) -> String {
    sanitize(s, 80)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::text::has_control;

    #[test]
    fn failures_are_sanitised_and_capped() {
        let huge = format!("\u{1b}[2J{}", "E".repeat(40 << 20));
        let CallError::Failure(host::PluginFailure::Other(m)) =
            failure(wit::PluginError::Other(huge))
        else {
            panic!("not a failure")
        };
        assert!(m.starts_with("\\u{1b}[2JEEE"), "{}", &m[..40]);
        assert!(m.len() < MESSAGE_CAP + 40, "{}", m.len());
        let CallError::Failure(host::PluginFailure::Cloud { code, message, .. }) =
            failure(wit::PluginError::Cloud(wit::CloudError {
                code: "Fake\nINFO".into(),
                message: "line\r\u{9b}2J".into(),
                request_id: String::new(),
                http_status: 500,
            }))
        else {
            panic!("not a cloud failure")
        };
        assert_eq!(code, "Fake\\nINFO");
        assert!(!has_control(&message), "{message}");
    }
}
