//! What every contract version's adapter does the same way: the host imports (`host.call`,
//! `host.log`) forwarding to the one implementation in the sandbox, and the calls into the
//! plugin's exports. Each version module (`v0_1`, `v0_2`, ...) runs its own `bindgen!`, then
//! invokes [`version_adapter!`] and writes only what differs: the conversions of `describe`'s
//! answer and of the location (see Zed's `extension_host/src/wasm_host/wit`).

/// Expands, inside a version module after its `bindgen!`, to `add_to_linker`, the host-import
/// impls and the `Pre` type with one method per export. The module must define
/// `plugin_info_from_wit`, `location_from_wit` and `location_to_wit`.
macro_rules! version_adapter {
    () => {
        use super::CallError;
        use super::sandbox::HostState;
        use super::text::{FIELD_CAP, MESSAGE_CAP, sanitize};
        use super::types as host;
        use crate::cloud::Call;
        use dwlink::plugin::types as wit;
        use wasmtime::Store;
        use wasmtime::component::{Component, HasSelf, Linker};

        /// Adds this version's host imports (`host.call`, `host.log`) to `linker`.
        pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
            DatasourcePlugin::add_to_linker::<_, HasSelf<_>>(linker, |s| s)
        }

        impl wit::Host for HostState {}

        impl dwlink::plugin::host::Host for HostState {
            async fn call(
                &mut self,
                request: wit::CloudRequest,
            ) -> Result<String, wit::CloudError> {
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

        /// A plugin of this version, ready to instantiate.
        #[derive(Clone)]
        pub(crate) struct Pre(DatasourcePluginPre<HostState>);

        impl Pre {
            pub fn new(
                linker: &Linker<HostState>,
                component: &Component,
            ) -> wasmtime::Result<Self> {
                Ok(Pre(DatasourcePluginPre::new(
                    linker.instantiate_pre(component)?,
                )?))
            }

            async fn instance(
                &self,
                store: &mut Store<HostState>,
            ) -> Result<DatasourcePlugin, CallError> {
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
                Ok(plugin_info_from_wit(info))
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

            /// `whitelist-add` when `adding`, else `whitelist-remove`.
            pub async fn whitelist_change(
                &self,
                store: &mut Store<HostState>,
                instance: &host::InstanceRef,
                group: &str,
                cidrs: &[String],
                adding: bool,
            ) -> Result<(), CallError> {
                let p = self.instance(store).await?;
                let ds = p.dwlink_plugin_datasource();
                let instance = instance_to_wit(instance);
                let out = if adding {
                    ds.call_whitelist_add(&mut *store, &instance, group, cidrs)
                        .await
                } else {
                    ds.call_whitelist_remove(&mut *store, &instance, group, cidrs)
                        .await
                };
                out.map_err(CallError::Wasm)?.map_err(failure)
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

        fn vswitch_cidr_from_wit(cidr: &str) -> Result<ipnet::Ipv4Net, CallError> {
            cidr.parse::<ipnet::Ipv4Net>().map_err(|_| {
                CallError::Malformed(format!(
                    "vswitch-cidr `{}` is not an IPv4 CIDR block",
                    super::v0_1::truncate(cidr)
                ))
            })
        }

        /// A declared name or value shown to people, sanitised and capped.
        fn field(s: &str) -> String {
            sanitize(s, FIELD_CAP)
        }

        /// The plugin's own failure, every text sanitised and capped (a message at
        /// [`MESSAGE_CAP`]).
        fn failure(e: wit::PluginError) -> CallError {
            let message = |m: String| sanitize(&m, MESSAGE_CAP);
            CallError::Failure(match e {
                wit::PluginError::NotFound(m) => host::PluginFailure::NotFound(message(m)),
                wit::PluginError::InvalidState(m) => host::PluginFailure::InvalidState(message(m)),
                wit::PluginError::InvalidInput(m) => host::PluginFailure::InvalidInput(message(m)),
                wit::PluginError::LimitExceeded(m) => {
                    host::PluginFailure::LimitExceeded(message(m))
                }
                wit::PluginError::Cloud(c) => host::PluginFailure::Cloud {
                    code: sanitize(&c.code, FIELD_CAP),
                    message: message(c.message),
                    request_id: sanitize(&c.request_id, FIELD_CAP),
                    http_status: c.http_status,
                },
                wit::PluginError::Other(m) => host::PluginFailure::Other(message(m)),
            })
        }
    };
}

pub(crate) use version_adapter;
