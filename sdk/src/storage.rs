//! Durable key-value storage, scoped by the host to this plugin and the
//! company of the call. Typed helpers store values as JSON.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::imports::storage as wit;
use crate::{Error, Result};

/// Why the host refused a storage operation.
pub use wit::StorageError;

impl From<StorageError> for Error {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::QuotaExceeded(quota) => Error::rejected(
                Some("quota-exceeded"),
                format!("storage quota of {quota} bytes exceeded"),
            ),
            StorageError::InvalidKey(reason) => {
                Error::invalid_input(format!("invalid storage key: {reason}"))
            }
            StorageError::Unavailable(reason) => {
                Error::unavailable(format!("storage unavailable: {reason}"))
            }
        }
    }
}

/// The value under `key`, decoded from JSON.
pub fn get<T: DeserializeOwned>(key: &str) -> Result<Option<T>> {
    match get_bytes(key)? {
        Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
        None => Ok(None),
    }
}

/// Stores `value` under `key` as JSON.
pub fn set<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<()> {
    set_bytes(key, &serde_json::to_vec(value)?)
}

/// The raw bytes under `key`.
pub fn get_bytes(key: &str) -> Result<Option<Vec<u8>>> {
    Ok(wit::get(key)?)
}

/// Stores raw bytes under `key`.
pub fn set_bytes(key: &str, value: &[u8]) -> Result<()> {
    Ok(wit::set(key, value)?)
}

/// Removes `key`; true if it existed.
pub fn delete(key: &str) -> Result<bool> {
    Ok(wit::delete(key)?)
}

/// Keys starting with `prefix`, ascending.
pub fn list(prefix: &str) -> Result<Vec<String>> {
    Ok(wit::list(prefix)?)
}

/// Replaces the value of `key` by `new` (`None` deletes) only if it still
/// equals `expected` (`None`: absent). False, changing nothing, otherwise.
pub fn compare_and_swap<T: Serialize + ?Sized>(
    key: &str,
    expected: Option<&T>,
    new: Option<&T>,
) -> Result<bool> {
    let expected = expected.map(serde_json::to_vec).transpose()?;
    let new = new.map(serde_json::to_vec).transpose()?;
    Ok(wit::compare_and_swap(
        key,
        expected.as_deref(),
        new.as_deref(),
    )?)
}
