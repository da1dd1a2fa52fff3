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

/// How much one plugin may hold across all its scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Bytes of keys and values.
    pub bytes: u64,
    /// Keys.
    pub keys: u64,
}

impl Quota {
    /// `bytes`, with no cap on the number of keys.
    pub fn bytes(bytes: u64) -> Self {
        Self {
            bytes,
            keys: u64::MAX,
        }
    }
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
    /// The write would give the plugin more than `max` keys.
    #[error("storage key limit of {max} keys reached")]
    TooManyKeys {
        /// The cap on keys.
        max: u64,
        /// The byte quota, which the contract's error carries.
        quota: u64,
    },
    /// The backing database failed.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

/// A key-value backend. `quota` bounds the bytes (keys plus values) and the
/// keys one plugin holds across all its scopes; a write that shrinks
/// neither passes even over it.
#[async_trait::async_trait]
pub trait KvStore: Send + Sync + 'static {
    /// The value of `key`, if any.
    async fn get(&self, scope: &Scope, key: &str) -> Result<Option<Vec<u8>>, KvError>;
    /// Stores `value` under `key`.
    async fn set(
        &self,
        scope: &Scope,
        key: &str,
        value: &[u8],
        quota: Quota,
    ) -> Result<(), KvError>;
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
        quota: Quota,
    ) -> Result<bool, KvError>;
}
