//! [`Plugin`]: a loaded, checked plugin. Every call gets a fresh store and instance with the
//! plugin's limits and a [`Scope`] the host builds from the call's own arguments; every failure
//! becomes a [`PluginError`] naming the plugin and the call.

use super::CallError;
use super::contract::WitVersion;
use super::error::{PluginError, one_line};
use super::gate::{Gate, Mode, Refusal, Scope};
use super::limits::Limits;
use super::sandbox::{self, HostState};
use super::types::{ConnectionRequest, InstanceRef, Location, PluginInfo, WhitelistGroup};
use super::validate;
use super::{v0_1, v0_2};
use crate::cloud::Caller;
use std::sync::Arc;
use wasmtime::{Engine, Store, Trap};

/// The per-version pre-instantiated component.
#[derive(Clone)]
pub(crate) enum Adapter {
    V0_1(v0_1::Pre),
    V0_2(v0_2::Pre),
}

/// Calls the same export on whichever version's adapter the plugin has: the one dispatch.
macro_rules! dispatch {
    ($adapter:expr, |$pre:ident| $call:expr) => {
        match $adapter {
            Adapter::V0_1($pre) => $call,
            Adapter::V0_2($pre) => $call,
        }
    };
}

/// A loaded plugin. Cheap to clone; calls may run concurrently.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<Inner>,
    limits: Limits,
}

struct Inner {
    engine: Engine,
    adapter: Adapter,
    wit_version: WitVersion,
    info: PluginInfo,
    name: Arc<str>,
    gate: Arc<Gate>,
    sha256: String,
    size_bytes: u64,
}

impl Plugin {
    pub(crate) async fn new(
        engine: Engine,
        adapter: Adapter,
        wit_version: WitVersion,
        sha256: String,
        size_bytes: u64,
        limits: Limits,
        label: &str,
    ) -> Result<Plugin, PluginError> {
        // Until describe answers, the plugin is known by its file name.
        let mut plugin = Plugin {
            inner: Arc::new(Inner {
                engine,
                adapter,
                wit_version,
                info: PluginInfo {
                    name: label.into(),
                    version: String::new(),
                    datasource_type: String::new(),
                    product: String::new(),
                    api_version: String::new(),
                    actions: Vec::new(),
                    summary: String::new(),
                    capabilities: Vec::new(),
                },
                name: label.into(),
                gate: Arc::default(),
                sha256,
                size_bytes,
            }),
            limits,
        };
        let info = plugin.describe().await?;
        if wit_version != WitVersion::V0_1 {
            super::gate::validate(&info.capabilities)
                .map_err(|detail| plugin.malformed("describe", detail))?;
        }
        let inner = Arc::get_mut(&mut plugin.inner).expect("not shared yet");
        inner.name = info.name.as_str().into();
        inner.gate = Arc::new(Gate::new(&info.capabilities));
        inner.info = info;
        Ok(plugin)
    }

    /// What `describe` answered at load (validated).
    pub fn info(&self) -> &PluginInfo {
        &self.inner.info
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The contract version the plugin was built against, e.g. `0.1.0`.
    pub fn wit_version(&self) -> &'static str {
        self.inner.wit_version.as_str()
    }

    /// Hex sha256 of the component file.
    pub fn sha256(&self) -> &str {
        &self.inner.sha256
    }

    pub fn size_bytes(&self) -> u64 {
        self.inner.size_bytes
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The same plugin with other limits (see [`Limits::with_overrides`]).
    pub fn with_limits(&self, limits: Limits) -> Plugin {
        Plugin {
            inner: self.inner.clone(),
            limits,
        }
    }

    /// Calls `describe` in a fresh instance.
    pub async fn describe(&self) -> Result<PluginInfo, PluginError> {
        let mut store = self.store(None)?;
        let result = dispatch!(&self.inner.adapter, |pre| pre.describe(&mut store).await);
        let info = self.finish("describe", &mut store, result)?;
        validate::plugin_info(&info).map_err(|detail| self.malformed("describe", detail))?;
        Ok(info)
    }

    /// Where the instance lives. The plugin may only read, and only about `instance`.
    pub async fn discover(
        &self,
        caller: Arc<dyn Caller>,
        instance: &InstanceRef,
    ) -> Result<Location, PluginError> {
        let mut store = self.store(Some((caller, Scope::read(instance))))?;
        let result = dispatch!(&self.inner.adapter, |pre| pre
            .discover(&mut store, instance)
            .await);
        let location = self.finish("discover", &mut store, result)?;
        validate::location(&location).map_err(|d| self.malformed("discover", d))?;
        Ok(location)
    }

    /// Every whitelist group of the instance. Reads only.
    pub async fn whitelist_list(
        &self,
        caller: Arc<dyn Caller>,
        instance: &InstanceRef,
    ) -> Result<Vec<WhitelistGroup>, PluginError> {
        let mut store = self.store(Some((caller, Scope::read(instance))))?;
        let result = dispatch!(&self.inner.adapter, |pre| pre
            .whitelist_list(&mut store, instance)
            .await);
        let groups = self.finish("whitelist-list", &mut store, result)?;
        validate::whitelist(&groups).map_err(|d| self.malformed("whitelist-list", d))?;
        Ok(groups)
    }

    /// Adds `cidrs` to `group`: the only writes allowed are appends of exactly these entries
    /// to this group of this instance.
    pub async fn whitelist_add(
        &self,
        caller: Arc<dyn Caller>,
        instance: &InstanceRef,
        group: &str,
        cidrs: &[String],
    ) -> Result<(), PluginError> {
        self.whitelist_change(caller, instance, group, cidrs, Mode::Append)
            .await
    }

    /// Removes `cidrs` from `group`: the only writes allowed are deletions of exactly these
    /// entries from this group of this instance.
    pub async fn whitelist_remove(
        &self,
        caller: Arc<dyn Caller>,
        instance: &InstanceRef,
        group: &str,
        cidrs: &[String],
    ) -> Result<(), PluginError> {
        self.whitelist_change(caller, instance, group, cidrs, Mode::Delete)
            .await
    }

    async fn whitelist_change(
        &self,
        caller: Arc<dyn Caller>,
        instance: &InstanceRef,
        group: &str,
        cidrs: &[String],
        mode: Mode,
    ) -> Result<(), PluginError> {
        let scope = Scope::write(instance, group, cidrs, mode);
        let mut store = self.store(Some((caller, scope)))?;
        let adding = mode == Mode::Append;
        let result = dispatch!(&self.inner.adapter, |pre| pre
            .whitelist_change(&mut store, instance, group, cidrs, adding)
            .await);
        let call = if adding {
            "whitelist-add"
        } else {
            "whitelist-remove"
        };
        self.finish(call, &mut store, result)
    }

    /// The host's own wait after a whitelist change (since contract 0.2 plugins do not wait):
    /// `discover` every `poll`, with the host's clock, until the plugin reports the instance
    /// running, at most `max_polls` times. Answers the last location.
    pub async fn wait_until_running(
        &self,
        caller: Arc<dyn Caller>,
        instance: &InstanceRef,
        poll: std::time::Duration,
        max_polls: u32,
    ) -> Result<Location, PluginError> {
        let started = std::time::Instant::now();
        let mut polls = 0;
        loop {
            let location = self.discover(caller.clone(), instance).await?;
            polls += 1;
            if location.running || polls >= max_polls.max(1) {
                if location.running {
                    return Ok(location);
                }
                return Err(PluginError::Failure {
                    plugin: self.name().into(),
                    call: "discover",
                    failure: super::PluginFailure::InvalidState(format!(
                        "instance {} in {} was still {:?}, not running, {} s after the whitelist \
                         change ({polls} checks); the change was accepted: run again once it is \
                         running (it is not repeated)",
                        instance.id,
                        instance.region,
                        location.status,
                        started.elapsed().as_secs()
                    )),
                });
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// The DataWorks connection properties: a JSON object without any `password` key. Reads
    /// only.
    pub async fn connection_properties(
        &self,
        caller: Arc<dyn Caller>,
        request: &ConnectionRequest,
    ) -> Result<serde_json::Map<String, serde_json::Value>, PluginError> {
        let mut store = self.store(Some((caller, Scope::read(&request.instance))))?;
        let result = dispatch!(&self.inner.adapter, |pre| pre
            .connection_properties(&mut store, request)
            .await);
        let text = self.finish("connection-properties", &mut store, result)?;
        validate::connection_properties(&text)
            .map_err(|d| self.malformed("connection-properties", d))
    }

    fn store(
        &self,
        caller: Option<(Arc<dyn Caller>, Scope)>,
    ) -> Result<Store<HostState>, PluginError> {
        let state = HostState::new(
            self.inner.name.clone(),
            self.inner.gate.clone(),
            caller,
            &self.limits,
        );
        sandbox::new_store(&self.inner.engine, state, &self.limits).map_err(|e| PluginError::Trap {
            plugin: self.name().into(),
            call: "setup",
            detail: one_line(&format!("{e:#}")),
        })
    }

    fn malformed(&self, call: &'static str, detail: String) -> PluginError {
        PluginError::Malformed {
            plugin: self.name().into(),
            call,
            detail,
        }
    }

    /// Turns a call's outcome into the typed error, forwards the guest's output to the log.
    fn finish<T>(
        &self,
        call: &'static str,
        store: &mut Store<HostState>,
        result: Result<T, CallError>,
    ) -> Result<T, PluginError> {
        let state = store.data();
        let plugin = self.name().to_string();
        // A refused call is the headline whatever the plugin made of the refusal.
        let outcome = if let Some(refusal) = &state.refused {
            Err(match refusal {
                Refusal::Undeclared { action } => PluginError::UndeclaredAction {
                    plugin,
                    call,
                    action: action.clone(),
                },
                Refusal::OutOfScope { action, reason } => PluginError::OutOfScope {
                    plugin,
                    call,
                    action: action.clone(),
                    reason: reason.clone(),
                },
                Refusal::Budget { action, reason } => PluginError::Budget {
                    plugin,
                    call,
                    action: action.clone(),
                    reason: reason.clone(),
                },
            })
        } else if state.wall_hit {
            // So is a used-up wall-time budget (the guest was interrupted, or got `dwlink.Budget`
            // for a cloud call and may have carried on as if nothing happened).
            Err(PluginError::WallBudget {
                plugin,
                call,
                budget: self.limits.wall(),
            })
        } else {
            match result {
                Ok(v) => Ok(v),
                Err(CallError::Failure(failure)) => Err(PluginError::Failure {
                    plugin,
                    call,
                    failure,
                }),
                Err(CallError::Malformed(detail)) => Err(PluginError::Malformed {
                    plugin,
                    call,
                    detail,
                }),
                Err(CallError::Wasm(e)) => Err(self.classify(call, state, &e)),
            }
        };
        if let Err(e) = &outcome {
            tracing::debug!(plugin = %self.name(), "{e}");
        }
        state.forward_output();
        outcome
    }

    fn classify(&self, call: &'static str, state: &HostState, e: &wasmtime::Error) -> PluginError {
        let plugin = self.name().to_string();
        let text = one_line(&format!("{e:#}"));
        if state.limiter.memory_denied {
            return PluginError::MemoryLimit {
                plugin,
                call,
                limit_mib: self.limits.memory_mib,
            };
        }
        match e.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => {
                return PluginError::OutOfFuel {
                    plugin,
                    call,
                    fuel: self.limits.fuel,
                };
            }
            Some(Trap::Interrupt) => {
                return PluginError::Deadline {
                    plugin,
                    call,
                    deadline: self.limits.deadline(),
                };
            }
            _ => {}
        }
        if state.deadline_hit {
            return PluginError::Deadline {
                plugin,
                call,
                deadline: self.limits.deadline(),
            };
        }
        if text.contains(HOSTCALL_FUEL_EXHAUSTED) {
            return PluginError::TooMuchData {
                plugin,
                call,
                limit: self.limits.lift_bytes(),
            };
        }
        if let Some(import) = denied_import(&text) {
            return PluginError::Denied {
                plugin,
                call,
                import,
            };
        }
        if let Some(message) = sandbox::panic_message(&state.stderr.peek()) {
            return PluginError::Panic {
                plugin,
                call,
                message,
            };
        }
        let detail = match e.downcast_ref::<Trap>() {
            // The guest's shadow stack lives in linear memory: running off it looks like this.
            Some(Trap::MemoryOutOfBounds) => {
                format!(
                    "{} (a guest stack overflow from deep recursion also looks like this)",
                    Trap::MemoryOutOfBounds
                )
            }
            Some(trap) => trap.to_string(),
            None => text,
        };
        PluginError::Trap {
            plugin,
            call,
            detail,
        }
    }
}

/// What wasmtime 48 says when a value lifted out of the guest is beyond the store's hostcall
/// fuel (`HostcallFuelExhausted` in `runtime/component/func/options.rs`, a private type: only
/// its text can be matched).
const HOSTCALL_FUEL_EXHAUSTED: &str = "fuel allocated for hostcalls has been exhausted";

/// The WASI function named by a denied stub's error, e.g.
/// ``dwlink sandbox denied `wasi:filesystem/preopens@0.2.6#get-directories` ``.
fn denied_import(text: &str) -> Option<String> {
    let rest = text
        .split_once(sandbox::DENIED_MARKER)?
        .1
        .strip_prefix('`')?;
    let name = rest.split('`').next()?;
    Some(match name.split_once('#') {
        Some((interface, func)) => format!("{interface} ({func})"),
        None => name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denied_import_names_the_interface() {
        assert_eq!(
            denied_import("error while executing: dwlink sandbox denied `wasi:filesystem/preopens@0.2.6#get-directories`").as_deref(),
            Some("wasi:filesystem/preopens@0.2.6 (get-directories)")
        );
        assert_eq!(denied_import("wasm trap: unreachable"), None);
    }
}
