//! The adapter for contract version 0.1.0 (`wit/since_v0.1.0`): its `bindgen!` output, the host
//! imports, and conversions between its types and the version-independent host types. A later
//! contract version gets its own module beside this one; this one stays as it is so 0.1 plugins
//! keep loading.
//!
//! The conversions are where guest text enters the host: free text (messages, the `describe`
//! fields) is sanitised here ([`super::text::sanitize`]); data fields (ids, hosts, whitelist
//! entries) are checked in [`super::validate`], which refuses control characters in them.
//! The size of what is lifted at all is bounded by the store's hostcall fuel
//! ([`Limits::lift_bytes`](super::Limits::lift_bytes)).

use super::CallError;
use super::sandbox::HostState;
use super::text::{FIELD_CAP, MESSAGE_CAP, sanitize};
use super::types as host;
use crate::cloud::Call;
use wasmtime::Store;
use wasmtime::component::{Component, HasSelf, Linker};

wasmtime::component::bindgen!({
    path: "../wit/since_v0.1.0",
    world: "datasource-plugin",
    imports: { default: async },
    exports: { default: async },
});

use dwlink::plugin::types as wit;

/// Fully-qualified name of the export every 0.1 plugin provides.
pub(crate) const EXPORT: &str = "dwlink:plugin/datasource@0.1.0";
/// The imports a 0.1 plugin may have besides WASI.
pub(crate) const IMPORTS: &[&str] = &["dwlink:plugin/host@0.1.0", "dwlink:plugin/types@0.1.0"];

/// Adds the 0.1 host imports (`host.call`, `host.log`) to `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    DatasourcePlugin::add_to_linker::<_, HasSelf<_>>(linker, |s| s)
}

impl wit::Host for HostState {}

impl dwlink::plugin::host::Host for HostState {
    async fn call(&mut self, request: wit::CloudRequest) -> Result<String, wit::CloudError> {
        let call = Call::new(
            &request.product,
            &request.version,
            &request.action,
            &request.region,
        )
        .params(dwlink_acs::Params(request.params));
        self.cloud_call(call).await.map_err(|e| wit::CloudError {
            code: e.code,
            message: e.message,
            request_id: e.request_id,
            http_status: e.http_status,
        })
    }

    async fn log(&mut self, level: wit::LogLevel, message: String) {
        let level = match level {
            wit::LogLevel::Trace => tracing::Level::TRACE,
            wit::LogLevel::Debug => tracing::Level::DEBUG,
            wit::LogLevel::Info => tracing::Level::INFO,
            wit::LogLevel::Warn => tracing::Level::WARN,
            wit::LogLevel::Error => tracing::Level::ERROR,
        };
        self.log(level, &message);
    }
}

/// A 0.1 plugin ready to instantiate.
#[derive(Clone)]
pub(crate) struct Pre(DatasourcePluginPre<HostState>);

impl Pre {
    pub fn new(linker: &Linker<HostState>, component: &Component) -> wasmtime::Result<Self> {
        Ok(Pre(DatasourcePluginPre::new(
            linker.instantiate_pre(component)?,
        )?))
    }

    async fn instance(&self, store: &mut Store<HostState>) -> Result<DatasourcePlugin, CallError> {
        self.0
            .instantiate_async(&mut *store)
            .await
            .map_err(CallError::Wasm)
    }

    pub async fn describe(
        &self,
        store: &mut Store<HostState>,
    ) -> Result<host::PluginInfo, CallError> {
        let p = self.instance(store).await?;
        let info = p
            .dwlink_plugin_datasource()
            .call_describe(&mut *store)
            .await
            .map_err(CallError::Wasm)?;
        // Sanitising leaves a valid name or action as it is and an invalid one invalid (an
        // escape brings a backslash, a cut brings spaces), so validation still refuses it.
        let field = |s: &str| sanitize(s, FIELD_CAP);
        Ok(host::PluginInfo {
            name: field(&info.name),
            version: field(&info.version),
            datasource_type: field(&info.datasource_type),
            product: field(&info.product),
            api_version: field(&info.api_version),
            actions: info.actions.iter().map(|a| field(a)).collect(),
            summary: sanitize(&info.summary, MESSAGE_CAP),
        })
    }

    pub async fn discover(
        &self,
        store: &mut Store<HostState>,
        instance: &host::InstanceRef,
    ) -> Result<host::Location, CallError> {
        let p = self.instance(store).await?;
        let out = p
            .dwlink_plugin_datasource()
            .call_discover(&mut *store, &instance_to_wit(instance))
            .await
            .map_err(CallError::Wasm)?
            .map_err(failure)?;
        location_from_wit(out)
    }

    pub async fn whitelist_list(
        &self,
        store: &mut Store<HostState>,
        instance: &host::InstanceRef,
    ) -> Result<Vec<host::WhitelistGroup>, CallError> {
        let p = self.instance(store).await?;
        let groups = p
            .dwlink_plugin_datasource()
            .call_whitelist_list(&mut *store, &instance_to_wit(instance))
            .await
            .map_err(CallError::Wasm)?
            .map_err(failure)?;
        Ok(groups
            .into_iter()
            .map(|g| host::WhitelistGroup {
                name: g.name,
                entries: g.entries,
                attribute: g.attribute,
            })
            .collect())
    }

    pub async fn whitelist_add(
        &self,
        store: &mut Store<HostState>,
        instance: &host::InstanceRef,
        group: &str,
        cidrs: &[String],
    ) -> Result<(), CallError> {
        let p = self.instance(store).await?;
        p.dwlink_plugin_datasource()
            .call_whitelist_add(&mut *store, &instance_to_wit(instance), group, cidrs)
            .await
            .map_err(CallError::Wasm)?
            .map_err(failure)
    }

    pub async fn whitelist_remove(
        &self,
        store: &mut Store<HostState>,
        instance: &host::InstanceRef,
        group: &str,
        cidrs: &[String],
    ) -> Result<(), CallError> {
        let p = self.instance(store).await?;
        p.dwlink_plugin_datasource()
            .call_whitelist_remove(&mut *store, &instance_to_wit(instance), group, cidrs)
            .await
            .map_err(CallError::Wasm)?
            .map_err(failure)
    }

    pub async fn connection_properties(
        &self,
        store: &mut Store<HostState>,
        request: &host::ConnectionRequest,
    ) -> Result<String, CallError> {
        let p = self.instance(store).await?;
        let request = wit::ConnectionRequest {
            instance: instance_to_wit(&request.instance),
            location: location_to_wit(&request.location),
            owner_uid: request.owner_uid.clone(),
            role_name: request.role_name.clone(),
            database: request.database.clone(),
            username: request.username.clone(),
            env_type: request.env_type.clone(),
        };
        p.dwlink_plugin_datasource()
            .call_connection_properties(&mut *store, &request)
            .await
            .map_err(CallError::Wasm)?
            .map_err(failure)
    }
}

fn instance_to_wit(i: &host::InstanceRef) -> wit::InstanceRef {
    wit::InstanceRef {
        id: i.id.clone(),
        region: i.region.clone(),
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
    let vswitch_cidr = l.vswitch_cidr.parse::<ipnet::Ipv4Net>().map_err(|_| {
        CallError::Malformed(format!(
            "vswitch-cidr `{}` is not an IPv4 CIDR block",
            truncate(&l.vswitch_cidr)
        ))
    })?;
    Ok(host::Location {
        region: l.region,
        zone: l.zone,
        vpc_id: l.vpc_id,
        vswitch_id: l.vswitch_id,
        vswitch_cidr,
        endpoints: l
            .endpoints
            .into_iter()
            .map(|e| host::Endpoint {
                host: e.host,
                port: e.port,
                role: e.role,
            })
            .collect(),
        status: l.status,
        running: l.running,
    })
}

/// The plugin's own failure, every text sanitised and capped (a message at [`MESSAGE_CAP`]).
fn failure(e: wit::PluginError) -> CallError {
    let message = |m: String| sanitize(&m, MESSAGE_CAP);
    CallError::Failure(match e {
        wit::PluginError::NotFound(m) => host::PluginFailure::NotFound(message(m)),
        wit::PluginError::InvalidState(m) => host::PluginFailure::InvalidState(message(m)),
        wit::PluginError::InvalidInput(m) => host::PluginFailure::InvalidInput(message(m)),
        wit::PluginError::LimitExceeded(m) => host::PluginFailure::LimitExceeded(message(m)),
        wit::PluginError::Cloud(c) => host::PluginFailure::Cloud {
            code: sanitize(&c.code, FIELD_CAP),
            message: message(c.message),
            request_id: sanitize(&c.request_id, FIELD_CAP),
            http_status: c.http_status,
        },
        wit::PluginError::Other(m) => host::PluginFailure::Other(message(m)),
    })
}

/// Guest-supplied text quoted in an error: sanitised, cut to a readable length.
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
