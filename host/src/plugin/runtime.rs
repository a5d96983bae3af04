//! [`PluginRuntime`]: the one wasmtime `Engine` of the process, its on-disk compile cache, the
//! epoch ticker, and the linkers of every contract version the host supports.

use super::contract::{self, WitVersion};
use super::error::{PluginError, one_line};
use super::limits::Limits;
use super::loaded::{Adapter, Plugin};
use super::sandbox::{self, HostState, TICK};
use super::size;
use super::{v0_1, v0_2};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wasmtime::component::{Component, Linker, types::ComponentItem};
use wasmtime::{Config, Engine};

/// How the runtime is set up.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Where compiled components are cached; `None` disables the cache.
    /// [`RuntimeOptions::default`] uses [`default_cache_dir`].
    pub cache_dir: Option<PathBuf>,
    /// Use wasmtime's pooling instance allocator. On by default: it cut instantiate + describe
    /// from 110 µs to 75 µs (median) on the 2-core build machine. Falls back to on-demand
    /// allocation when the pool's address space cannot be reserved.
    pub pooling: bool,
    /// Limits every loaded plugin starts with.
    pub limits: Limits,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            cache_dir: default_cache_dir(),
            pooling: true,
            limits: Limits::DEFAULT,
        }
    }
}

/// `$DWLINK_CACHE_DIR`, else `$XDG_CACHE_HOME/dwlink`, else `~/.cache/dwlink`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("DWLINK_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("dwlink")))
        .or_else(|| env("HOME").map(|d| d.join(".cache").join("dwlink")))
}

/// The plugin runtime. Create one per process and share it (it is cheap to clone).
#[derive(Clone)]
pub struct PluginRuntime {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    linker_v0_1: Linker<HostState>,
    linker_v0_2: Linker<HostState>,
    limits: Limits,
}

impl PluginRuntime {
    /// A runtime with the default options (cache under [`default_cache_dir`]).
    pub fn new() -> anyhow::Result<Self> {
        Self::with_options(RuntimeOptions::default())
    }

    pub fn with_options(options: RuntimeOptions) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.consume_fuel(true);
        config.epoch_interruption(true);
        if let Some(dir) = &options.cache_dir {
            match cache(dir) {
                Ok(cache) => {
                    config.cache(Some(cache));
                }
                // A missing cache only costs compile time; say so and go on.
                Err(e) => tracing::warn!(
                    "plugin compile cache disabled: cannot use {}: {e:#}",
                    dir.display()
                ),
            }
        }
        let engine = if options.pooling {
            let mut pooled = config.clone();
            pooled.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool()));
            match Engine::new(&pooled) {
                Ok(engine) => engine,
                // The pool reserves virtual address space up front; where that is refused
                // (`ulimit -v`, strict overcommit) the on-demand allocator still works.
                Err(e) => {
                    tracing::warn!(
                        "plugin runtime: pooling allocator unavailable ({e:#}); using on-demand allocation"
                    );
                    Engine::new(&config)?
                }
            }
        } else {
            Engine::new(&config)?
        };
        start_ticker(&engine);

        let mut linker_v0_1 = Linker::new(&engine);
        sandbox::add_minimal_wasi(&mut linker_v0_1)?;
        v0_1::add_to_linker(&mut linker_v0_1)?;
        let mut linker_v0_2 = Linker::new(&engine);
        sandbox::add_minimal_wasi(&mut linker_v0_2)?;
        v0_2::add_to_linker(&mut linker_v0_2)?;

        Ok(PluginRuntime {
            inner: Arc::new(Inner {
                engine,
                linker_v0_1,
                linker_v0_2,
                limits: options.limits,
            }),
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The limits plugins start with.
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// Loads the plugin at `path` (see [`PluginRuntime::load`]); a file above
    /// `max_component_mib` is refused before it is read.
    pub async fn load_file(&self, path: &Path) -> Result<Plugin, PluginError> {
        let bytes = self.read_file(path)?;
        self.load(&path.display().to_string(), &bytes).await
    }

    /// Reads a plugin file, refusing one over `max_component_mib` before reading it.
    pub fn read_file(&self, path: &Path) -> Result<Vec<u8>, PluginError> {
        let label = path.display().to_string();
        let io = |e: std::io::Error| PluginError::Io {
            path: label.clone(),
            reason: e.to_string(),
        };
        let size = std::fs::metadata(path).map_err(io)?.len();
        size::check_file_size(&label, size, &self.inner.limits)?;
        std::fs::read(path).map_err(io)
    }

    /// Checks `bytes` against the contract and makes it ready to call. Before anything is
    /// compiled: the size (`max_component_mib`), the WIT version, the amount of code (the
    /// compile-cost caps); then compilation (from the cache when possible), the world, and one
    /// `describe` call whose answer is validated and kept.
    pub async fn load(&self, label: &str, bytes: &[u8]) -> Result<Plugin, PluginError> {
        size::check_file_size(label, bytes.len() as u64, &self.inner.limits)?;
        let version = contract::read_wit_version(label, bytes)?;
        size::check_code(label, bytes)?;
        let component =
            Component::new(&self.inner.engine, bytes).map_err(|e| PluginError::Compile {
                path: label.into(),
                reason: one_line(&format!("{e:#}")),
            })?;
        let wrong_world = |e: wasmtime::Error| PluginError::WrongWorld {
            path: label.into(),
            detail: one_line(&format!("{e:#}")),
        };
        let adapter = match version {
            WitVersion::V0_1 => {
                let linker = self.linker_for(
                    label,
                    &component,
                    &self.inner.linker_v0_1,
                    v0_1::EXPORT,
                    v0_1::IMPORTS,
                )?;
                Adapter::V0_1(v0_1::Pre::new(&linker, &component).map_err(wrong_world)?)
            }
            WitVersion::V0_2 => {
                let linker = self.linker_for(
                    label,
                    &component,
                    &self.inner.linker_v0_2,
                    v0_2::EXPORT,
                    v0_2::IMPORTS,
                )?;
                Adapter::V0_2(v0_2::Pre::new(&linker, &component).map_err(wrong_world)?)
            }
        };
        let sha256 = hex::encode(Sha256::digest(bytes));
        Plugin::new(
            self.inner.engine.clone(),
            adapter,
            version,
            sha256,
            bytes.len() as u64,
            self.inner.limits,
            label,
        )
        .await
    }

    /// Checks the component's exports and imports against a contract version, and returns a
    /// linker for it in which every WASI import the sandbox does not provide traps when called.
    fn linker_for(
        &self,
        label: &str,
        component: &Component,
        base: &Linker<HostState>,
        export: &str,
        imports: &[&str],
    ) -> Result<Linker<HostState>, PluginError> {
        let engine = &self.inner.engine;
        let ty = component.component_type();
        let wrong = |detail: String| PluginError::WrongWorld {
            path: label.into(),
            detail,
        };
        let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_string()).collect();
        if !exports.iter().any(|e| e == export) {
            return Err(wrong(format!(
                "it exports {} instead of {export}",
                if exports.is_empty() {
                    "nothing".into()
                } else {
                    exports.join(", ")
                }
            )));
        }
        for (name, item) in ty.imports(engine) {
            let is_instance = matches!(item.ty, ComponentItem::ComponentInstance(_));
            if !(is_instance && (imports.contains(&name) || name.starts_with("wasi:"))) {
                return Err(wrong(format!(
                    "it imports {name}, which dwlink-host does not provide"
                )));
            }
        }
        // Resources the provided interfaces define (e.g. `wasi:io/poll.pollable`): other WASI
        // interfaces re-export them, and those must stay the linker's own.
        let provided_resources: Vec<wasmtime::component::ResourceType> = ty
            .imports(engine)
            .filter(|(name, _)| sandbox::provides(name))
            .filter_map(|(_, item)| match item.ty {
                ComponentItem::ComponentInstance(i) => Some(i),
                _ => None,
            })
            .flat_map(|i| {
                i.exports(engine)
                    .filter_map(|(_, e)| match e.ty {
                        ComponentItem::Resource(r) => Some(r),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut linker = base.clone();
        for (name, item) in ty.imports(engine) {
            if let ComponentItem::ComponentInstance(instance) = item.ty
                && name.starts_with("wasi:")
                && !sandbox::provides(name)
            {
                stub_denied(&mut linker, engine, name, &instance, &provided_resources)
                    .map_err(|e| wrong(one_line(&format!("{e:#}"))))?;
            }
        }
        Ok(linker)
    }
}

/// Up to [`POOL_SLOTS`] plugin calls in flight at once (beyond that, instantiation fails
/// with a "limit reached" trap and the caller may retry); each slot reserves address space
/// for the maximum memory, committed only as used.
const POOL_SLOTS: u32 = 256;

fn pool() -> wasmtime::PoolingAllocationConfig {
    use super::limits::{MAX_INSTANCES, MAX_MEMORIES, MAX_TABLES};
    let mut pool = wasmtime::PoolingAllocationConfig::default();
    pool.total_component_instances(POOL_SLOTS)
        .total_core_instances(POOL_SLOTS * MAX_INSTANCES as u32)
        .total_memories(POOL_SLOTS * MAX_MEMORIES as u32)
        .total_tables(POOL_SLOTS * MAX_TABLES as u32)
        .total_stacks(POOL_SLOTS)
        .max_memory_size(Limits::MAX.memory_bytes());
    pool
}

/// Defines every function of the WASI interface `name` as one that traps with a "denied"
/// error when called, and its resources as opaque host resources, so a plugin that merely links
/// std's filesystem or socket code still loads but can never use it.
fn stub_denied(
    linker: &mut Linker<HostState>,
    engine: &Engine,
    name: &str,
    instance: &wasmtime::component::types::ComponentInstance,
    provided_resources: &[wasmtime::component::ResourceType],
) -> wasmtime::Result<()> {
    let mut scope = linker.instance(name)?;
    for (item, export) in instance.exports(engine) {
        match export.ty {
            ComponentItem::ComponentFunc(_) => {
                let what = format!("{name}#{item}");
                scope.func_new(item, move |_, _, _, _| {
                    wasmtime::bail!("{}`{what}`", sandbox::DENIED_MARKER)
                })?;
            }
            ComponentItem::Resource(r) if !provided_resources.contains(&r) => {
                scope.resource(
                    item,
                    wasmtime::component::ResourceType::host::<()>(),
                    |_, _| Ok(()),
                )?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn cache(dir: &Path) -> anyhow::Result<wasmtime::Cache> {
    let dir = dir.join("wasmtime");
    std::fs::create_dir_all(&dir)?;
    let dir = dir.canonicalize()?;
    let mut config = wasmtime::CacheConfig::new();
    config.with_directory(dir);
    Ok(wasmtime::Cache::new(config)?)
}

/// Advances the engine's epoch every [`TICK`] for as long as the engine lives.
fn start_ticker(engine: &Engine) {
    let weak = engine.weak();
    let spawned = std::thread::Builder::new()
        .name("dwlink-plugin-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => return,
                }
            }
        });
    if let Err(e) = spawned {
        // Without a ticker no deadline fires; fuel still bounds every call.
        tracing::error!("could not start the plugin epoch ticker: {e}");
    }
}
