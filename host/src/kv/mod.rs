//! Where plugin key-value data lives. The capability checks keys and quotas;
//! a [`KvStore`] only stores, inside the scope it is given.

mod memory;
mod sql;

pub use memory::MemoryKv;
pub use sql::SqlKv;

use std::sync::Arc;

/// The partition a plugin call may touch: one plugin, one company (or the
/// plugin-wide partition). Nothing crosses it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    /// Plugin id.
    pub plugin: Arc<str>,
    /// Company id; none for plugin-wide data.
    pub company: Option<String>,
}

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// The write would take the plugin's data past its quota.
    #[error("storage quota of {quota} bytes exceeded")]
    QuotaExceeded {
        /// The quota, in bytes.
        quota: u64,
    },
    /// The backing database failed.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

/// A key-value backend. `quota` bounds the bytes (keys plus values) one
/// plugin holds across all its scopes.
#[async_trait::async_trait]
pub trait KvStore: Send + Sync + 'static {
    /// The value of `key`, if any.
    async fn get(&self, scope: &Scope, key: &str) -> Result<Option<Vec<u8>>, KvError>;
    /// Stores `value` under `key`.
    async fn set(&self, scope: &Scope, key: &str, value: &[u8], quota: u64) -> Result<(), KvError>;
    /// Removes `key`; true if it existed.
    async fn delete(&self, scope: &Scope, key: &str) -> Result<bool, KvError>;
    /// Keys starting with `prefix`, ascending.
    async fn list(&self, scope: &Scope, prefix: &str) -> Result<Vec<String>, KvError>;
    /// Replaces `expected` by `new` atomically; false if the value differed.
    async fn compare_and_swap(
        &self,
        scope: &Scope,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
        quota: u64,
    ) -> Result<bool, KvError>;
}
