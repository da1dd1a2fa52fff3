//! The sandbox: one wasmtime engine, compiled components cached on disk, and
//! a fresh, limited instance for every call.

pub mod bindings;
mod cache;
mod engine;
mod error;
mod limits;
mod output;
mod plugin;
mod state;

pub use cache::{CacheOutcome, digest};
pub use error::{CallError, LoadError};
pub use limits::Limits;
pub use plugin::{Plugin, ReusedInstance, World};
pub use state::{CallContext, HostState};

use std::path::PathBuf;
use std::sync::Arc;

use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

use crate::capabilities::{self, Grants};
use crate::kv::KvStore;
use plugin::Pre;

/// How to build a [`Runtime`].
#[derive(Debug, Clone, Default)]
pub struct RuntimeConfig {
    /// Where compiled components are cached; none compiles on every load.
    pub cache_dir: Option<PathBuf>,
    /// Per-call limits.
    pub limits: Limits,
}

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// wasmtime refused the engine configuration.
    #[error("cannot configure the WebAssembly engine: {0}")]
    Engine(String),
    /// The cache directory is unusable.
    #[error("cannot use the component cache directory: {0}")]
    Cache(#[source] std::io::Error),
    /// The epoch thread could not start.
    #[error("cannot start the deadline timer thread: {0}")]
    Ticker(#[source] std::io::Error),
}

/// What every plugin of a runtime shares.
pub(crate) struct Shared {
    pub(crate) engine: Engine,
    pub(crate) limits: Limits,
    pub(crate) kv: Arc<dyn KvStore>,
}

/// Loads plugins and runs calls into them. One per host process.
pub struct Runtime {
    shared: Arc<Shared>,
    linker: Linker<HostState>,
    cache: cache::ComponentCache,
}

impl Runtime {
    /// Builds the engine, the linker with every host interface, and starts the
    /// epoch thread that enforces deadlines.
    pub fn new(config: RuntimeConfig, kv: Arc<dyn KvStore>) -> Result<Self, StartError> {
        let engine =
            engine::new_engine(&config.limits).map_err(|e| StartError::Engine(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .and_then(|()| capabilities::add_to_linker(&mut linker))
            .map_err(|e| StartError::Engine(format!("{e:#}")))?;
        let cache =
            cache::ComponentCache::new(&engine, config.cache_dir).map_err(StartError::Cache)?;
        engine::spawn_epoch_ticker(&engine).map_err(StartError::Ticker)?;
        Ok(Self {
            shared: Arc::new(Shared {
                engine,
                limits: config.limits,
                kv,
            }),
            linker,
            cache,
        })
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    /// Compiles (or loads from the cache) and pre-links a component.
    pub fn load(&self, plugin_id: &str, wasm: &[u8], grants: Grants) -> Result<Plugin, LoadError> {
        self.load_traced(plugin_id, wasm, grants)
            .map(|(plugin, _)| plugin)
    }

    /// Like [`Runtime::load`], also telling whether the cache was hit.
    pub fn load_traced(
        &self,
        plugin_id: &str,
        wasm: &[u8],
        grants: Grants,
    ) -> Result<(Plugin, CacheOutcome), LoadError> {
        let plugin = || plugin_id.to_owned();
        let (component, outcome) =
            self.cache
                .load(&self.shared.engine, wasm)
                .map_err(|e| LoadError::Compile {
                    plugin: plugin(),
                    reason: format!("{e:#}"),
                })?;
        let world = detect_world(&self.shared.engine, &component).ok_or_else(|| {
            LoadError::UnknownWorld {
                plugin: plugin(),
                exports: export_names(&self.shared.engine, &component).join(", "),
            }
        })?;
        let link_error = |e: wasmtime::Error| LoadError::Link {
            plugin: plugin(),
            reason: format!("{e:#}"),
        };
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(link_error)?;
        let pre = match world {
            World::BankConnector => {
                Pre::Bank(bindings::bank::BankConnectorPre::new(instance_pre).map_err(link_error)?)
            }
            World::PosConnector => {
                Pre::Pos(bindings::pos::PosConnectorPre::new(instance_pre).map_err(link_error)?)
            }
        };
        tracing::info!(plugin = plugin_id, %world, cache = ?outcome, "plugin loaded");
        let plugin = Plugin::new(plugin_id, digest(wasm), pre, grants, self.shared.clone());
        Ok((plugin, outcome))
    }
}

/// The contract major version this host implements.
pub const CONTRACT_MAJOR: u64 = 1;

fn export_names(engine: &Engine, component: &Component) -> Vec<String> {
    component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect()
}

fn detect_world(engine: &Engine, component: &Component) -> Option<World> {
    let exports = export_names(engine, component);
    let exports_major = |interface: &str| {
        let prefix = format!("h2h:connector/{interface}@{CONTRACT_MAJOR}.");
        exports.iter().any(|name| name.starts_with(&prefix))
    };
    match (exports_major("bank"), exports_major("pos")) {
        (true, false) => Some(World::BankConnector),
        (false, true) => Some(World::PosConnector),
        _ => None,
    }
}
