//! `h2h:connector/storage`: key-value data in the scope of the calling plugin
//! and company, within the plugin's quota.

use std::sync::Arc;

use crate::kv::{KvError, KvStore, Quota, Scope};
use crate::wit::v2::storage::{self, StorageError};

/// How much a plugin may store.
#[derive(Debug, Clone)]
pub struct StorageGrant {
    /// Bytes of keys and values across all the plugin's scopes.
    pub quota_bytes: u64,
    /// Keys across all the plugin's scopes.
    pub max_keys: u64,
}

/// The most a manifest's quota gives without the admin's word.
pub const HOST_MAX_QUOTA_BYTES: u64 = 64 << 20;

/// Keys a plugin may hold without the admin's word.
pub const DEFAULT_MAX_KEYS: u64 = 100_000;

impl Default for StorageGrant {
    fn default() -> Self {
        Self {
            quota_bytes: 16 << 20,
            max_keys: DEFAULT_MAX_KEYS,
        }
    }
}

impl StorageGrant {
    fn quota(&self) -> Quota {
        Quota {
            bytes: self.quota_bytes,
            keys: self.max_keys,
        }
    }
}

const MAX_KEY_BYTES: usize = 512;

/// Per-call state of the storage capability.
pub struct StorageCtx {
    scope: Scope,
    grant: StorageGrant,
    store: Arc<dyn KvStore>,
}

impl std::fmt::Debug for StorageCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageCtx")
            .field("scope", &self.scope)
            .field("grant", &self.grant)
            .finish_non_exhaustive()
    }
}

impl StorageCtx {
    pub(crate) fn new(scope: Scope, grant: StorageGrant, store: Arc<dyn KvStore>) -> Self {
        Self {
            scope,
            grant,
            store,
        }
    }
}

fn check_key(key: &str) -> Result<(), StorageError> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(StorageError::InvalidKey(format!(
            "keys are 1 to {MAX_KEY_BYTES} bytes, this one is {}",
            key.len()
        )));
    }
    if key.chars().any(char::is_control) {
        return Err(StorageError::InvalidKey(
            "keys may not contain control characters".into(),
        ));
    }
    Ok(())
}

impl From<KvError> for StorageError {
    fn from(error: KvError) -> Self {
        match error {
            // The contract has one quota error; a key over the cap is one.
            KvError::QuotaExceeded { quota } | KvError::TooManyKeys { quota, .. } => {
                StorageError::QuotaExceeded(quota)
            }
            KvError::Unavailable(reason) => StorageError::Unavailable(reason),
        }
    }
}

impl storage::Host for StorageCtx {
    async fn get(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, StorageError>> {
        if let Err(e) = check_key(&key) {
            return Ok(Err(e));
        }
        Ok(self.store.get(&self.scope, &key).await.map_err(Into::into))
    }

    async fn set(
        &mut self,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), StorageError>> {
        if let Err(e) = check_key(&key) {
            return Ok(Err(e));
        }
        let quota = self.grant.quota();
        Ok(self
            .store
            .set(&self.scope, &key, &value, quota)
            .await
            .map_err(Into::into))
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<Result<bool, StorageError>> {
        if let Err(e) = check_key(&key) {
            return Ok(Err(e));
        }
        Ok(self
            .store
            .delete(&self.scope, &key)
            .await
            .map_err(Into::into))
    }

    async fn list(
        &mut self,
        prefix: String,
    ) -> wasmtime::Result<Result<Vec<String>, StorageError>> {
        Ok(self
            .store
            .list(&self.scope, &prefix)
            .await
            .map_err(Into::into))
    }

    async fn compare_and_swap(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
    ) -> wasmtime::Result<Result<bool, StorageError>> {
        if let Err(e) = check_key(&key) {
            return Ok(Err(e));
        }
        let quota = self.grant.quota();
        let result = self
            .store
            .compare_and_swap(
                &self.scope,
                &key,
                expected.as_deref(),
                new.as_deref(),
                quota,
            )
            .await;
        Ok(result.map_err(Into::into))
    }
}
