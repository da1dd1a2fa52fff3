//! The sandbox: one wasmtime engine, compiled components cached on disk, and
//! a fresh, limited instance for every call.

mod adapter;
mod cache;
mod engine;
mod error;
mod limits;
mod linker;
pub mod model;
mod output;
mod plugin;
mod state;
mod v1;
mod v2;
mod version;

pub use cache::{CacheOutcome, digest};
pub use error::{CallError, LoadError};
pub use limits::Limits;
pub use plugin::{Plugin, ReusedInstance, World};
pub use state::{CallContext, HostState};
pub use version::ContractVersion;

use std::path::PathBuf;
use std::sync::Arc;

use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

use crate::capabilities::Grants;
use crate::kv::KvStore;
use crate::metrics::Metrics;
use crate::wit;
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
    pub(crate) metrics: Arc<Metrics>,
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
        let linker =
            linker::new_linker(&engine).map_err(|e| StartError::Engine(format!("{e:#}")))?;
        let cache =
            cache::ComponentCache::new(&engine, config.cache_dir).map_err(StartError::Cache)?;
        engine::spawn_epoch_ticker(&engine).map_err(StartError::Ticker)?;
        Ok(Self {
            shared: Arc::new(Shared {
                engine,
                metrics: Metrics::new(config.limits.max_concurrent_instances),
                limits: config.limits,
                kv,
            }),
            linker,
            cache,
        })
    }

    /// What this runtime's calls and their capabilities counted.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.shared.metrics
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
        let (world, version) = detect_world(&self.shared.engine, &component).ok_or_else(|| {
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
        let pre = match (version, world) {
            (ContractVersion::V1, World::BankConnector) => {
                Pre::V1Bank(wit::v1::bank::BankConnectorPre::new(instance_pre).map_err(link_error)?)
            }
            (ContractVersion::V1, World::PosConnector) => {
                Pre::V1Pos(wit::v1::pos::PosConnectorPre::new(instance_pre).map_err(link_error)?)
            }
            (ContractVersion::V2, World::BankConnector) => {
                Pre::V2Bank(wit::v2::bank::BankConnectorPre::new(instance_pre).map_err(link_error)?)
            }
            (ContractVersion::V2, World::PosConnector) => {
                Pre::V2Pos(wit::v2::pos::PosConnectorPre::new(instance_pre).map_err(link_error)?)
            }
        };
        tracing::info!(plugin = plugin_id, %world, contract = %version, cache = ?outcome, "plugin loaded");
        let plugin = Plugin::new(plugin_id, digest(wasm), pre, grants, self.shared.clone());
        Ok((plugin, outcome))
    }
}

fn export_names(engine: &Engine, component: &Component) -> Vec<String> {
    component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect()
}

/// The world and contract version of a component, from its exports: exactly
/// one of `bank` and `pos`, of a version this host serves.
fn detect_world(engine: &Engine, component: &Component) -> Option<(World, ContractVersion)> {
    let exports = export_names(engine, component);
    let exported = |interface: &str| {
        let prefix = format!("h2h:connector/{interface}@");
        exports
            .iter()
            .filter_map(|name| name.strip_prefix(&prefix))
            .find_map(ContractVersion::of_interface_version)
    };
    match (exported("bank"), exported("pos")) {
        (Some(version), None) => Some((World::BankConnector, version)),
        (None, Some(version)) => Some((World::PosConnector, version)),
        _ => None,
    }
}
