//! The adapter for contract version 0.1.0 (`wit/since_v0.1.0`): its `bindgen!` output and the
//! conversions that differ from later versions. A 0.1 plugin declares bare action names; the
//! host grants it capabilities of its own making (reads, and whitelist writes of the products
//! whose parameters it knows: see [`super::gate::capabilities_for_v0_1`]). This module stays as
//! it is so 0.1 plugins keep loading.

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
    host::PluginInfo {
        capabilities: super::gate::capabilities_for_v0_1(&info.actions),
        name: info.name,
        version: info.version,
        datasource_type: info.datasource_type,
        product: info.product,
        api_version: info.api_version,
        actions: info.actions,
        summary: info.summary,
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

/// Guest-supplied text quoted in an error, cut to a readable length.
pub(crate) fn truncate(s: &str) -> String {
    if s.chars().count() > 80 {
        format!("{}...", s.chars().take(80).collect::<String>())
    } else {
        s.to_string()
    }
}
