//! The adapter for contract version 0.2.0 (`wit/since_v0.2.0`): typed capabilities, endpoint
//! addresses. Its `bindgen!` output and the conversions of its records into the host's.

wasmtime::component::bindgen!({
    path: "../wit/since_v0.2.0",
    world: "datasource-plugin",
    imports: { default: async },
    exports: { default: async },
});

super::adapter::version_adapter!();

/// Fully-qualified name of the export every 0.2 plugin provides.
pub(crate) const EXPORT: &str = "dwlink:plugin/datasource@0.2.0";
/// The imports a 0.2 plugin may have besides WASI.
pub(crate) const IMPORTS: &[&str] = &["dwlink:plugin/host@0.2.0", "dwlink:plugin/types@0.2.0"];

fn plugin_info_from_wit(info: wit::PluginInfo) -> host::PluginInfo {
    // Every declared name is shown to people (inspect, errors): sanitised like free text; a
    // name that needed it no longer validates.
    let capabilities: Vec<host::Capability> = info
        .capabilities
        .into_iter()
        .map(|c| host::Capability {
            product: field(&c.product),
            version: field(&c.version),
            action: field(&c.action),
            access: match c.access {
                wit::Access::Read => host::Access::Read,
                wit::Access::WhitelistWrite => host::Access::WhitelistWrite,
            },
            instance_param: c.instance_param.as_deref().map(field),
            whitelist: c.whitelist.map(|w| host::WhitelistParams {
                group_param: field(&w.group_param),
                entries_param: field(&w.entries_param),
                mode_param: field(&w.mode_param),
                append_mode: field(&w.append_mode),
                delete_mode: field(&w.delete_mode),
                fixed_params: w
                    .fixed_params
                    .iter()
                    .map(|(k, v)| (field(k), field(v)))
                    .collect(),
            }),
        })
        .collect();
    host::PluginInfo {
        actions: capabilities
            .iter()
            .map(host::Capability::declared)
            .collect(),
        capabilities,
        name: field(&info.name),
        version: field(&info.version),
        datasource_type: field(&info.datasource_type),
        product: field(&info.product),
        api_version: field(&info.api_version),
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
                address: e.address.map(|a| a.to_string()),
            })
            .collect(),
        status: l.status.clone(),
        running: l.running,
    }
}

fn location_from_wit(l: wit::Location) -> Result<host::Location, CallError> {
    let mut endpoints = Vec::with_capacity(l.endpoints.len());
    for e in l.endpoints {
        let address = match e.address.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(a) => Some(a.parse().map_err(|_| {
                CallError::Malformed(format!(
                    "endpoint {} has address {:?}, which is not an IPv4 address",
                    super::v0_1::truncate(&e.host),
                    super::v0_1::truncate(a)
                ))
            })?),
        };
        endpoints.push(host::Endpoint {
            host: e.host,
            port: e.port,
            role: e.role,
            address,
        });
    }
    Ok(host::Location {
        vswitch_cidr: vswitch_cidr_from_wit(&l.vswitch_cidr)?,
        region: l.region,
        zone: l.zone,
        vpc_id: l.vpc_id,
        vswitch_id: l.vswitch_id,
        endpoints,
        status: l.status,
        running: l.running,
    })
}
