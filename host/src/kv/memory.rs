//! An in-process [`KvStore`]: for tests and benchmarks that need no database.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{KvError, KvStore, Quota, Scope};

/// Keeps everything in memory; lost when the process ends.
#[derive(Debug, Default)]
pub struct MemoryKv {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: BTreeMap<(Scope, String), Vec<u8>>,
    /// Bytes (keys plus values) and keys held per plugin.
    usage: HashMap<Arc<str>, (u64, u64)>,
}

impl MemoryKv {
    fn lock(&self) -> Result<MutexGuard<'_, Inner>, KvError> {
        self.inner
            .lock()
            .map_err(|_| KvError::Unavailable("in-memory store poisoned".into()))
    }
}

fn entry_size(key: &str, value: &[u8]) -> u64 {
    (key.len() + value.len()) as u64
}

impl Inner {
    /// Writes or removes one entry, keeping the plugin's usage within `quota`.
    fn put(
        &mut self,
        scope: &Scope,
        key: &str,
        value: Option<&[u8]>,
        quota: Quota,
    ) -> Result<(), KvError> {
        let slot = (scope.clone(), key.to_owned());
        let old = self.entries.get(&slot).map(|v| entry_size(key, v));
        let new = value.map(|v| entry_size(key, v));
        let (used, keys) = self.usage.get(&scope.plugin).copied().unwrap_or((0, 0));
        let after = used - old.unwrap_or(0) + new.unwrap_or(0);
        let keys_after = keys - u64::from(old.is_some()) + u64::from(new.is_some());
        if new > old && after > quota.bytes {
            return Err(KvError::QuotaExceeded { quota: quota.bytes });
        }
        if keys_after > keys && keys_after > quota.keys {
            return Err(KvError::TooManyKeys {
                max: quota.keys,
                quota: quota.bytes,
            });
        }
        match value {
            Some(v) => self.entries.insert(slot, v.to_vec()),
            None => self.entries.remove(&slot),
        };
        self.usage.insert(scope.plugin.clone(), (after, keys_after));
        Ok(())
    }
}

#[async_trait::async_trait]
impl KvStore for MemoryKv {
    async fn get(&self, scope: &Scope, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self
            .lock()?
            .entries
            .get(&(scope.clone(), key.to_owned()))
            .cloned())
    }

    async fn set(
        &self,
        scope: &Scope,
        key: &str,
        value: &[u8],
        quota: Quota,
    ) -> Result<(), KvError> {
        self.lock()?.put(scope, key, Some(value), quota)
    }

    async fn delete(&self, scope: &Scope, key: &str) -> Result<bool, KvError> {
        let mut inner = self.lock()?;
        let existed = inner.entries.contains_key(&(scope.clone(), key.to_owned()));
        inner.put(scope, key, None, Quota::bytes(u64::MAX))?;
        Ok(existed)
    }

    async fn list(&self, scope: &Scope, prefix: &str) -> Result<Vec<String>, KvError> {
        let inner = self.lock()?;
        let start = (scope.clone(), prefix.to_owned());
        Ok(inner
            .entries
            .range(start..)
            .map(|((s, k), _)| (s, k))
            .take_while(|(s, k)| *s == scope && k.starts_with(prefix))
            .map(|(_, k)| k.clone())
            .collect())
    }

    async fn compare_and_swap(
        &self,
        scope: &Scope,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
        quota: Quota,
    ) -> Result<bool, KvError> {
        let mut inner = self.lock()?;
        let current = inner.entries.get(&(scope.clone(), key.to_owned()));
        if current.map(Vec::as_slice) != expected {
            return Ok(false);
        }
        inner.put(scope, key, new, quota)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(plugin: &str, company: Option<&str>) -> Scope {
        Scope {
            plugin: plugin.into(),
            company: company.map(str::to_owned),
        }
    }

    #[tokio::test]
    async fn scopes_do_not_see_each_other() {
        let kv = MemoryKv::default();
        let a = scope("p", Some("acme"));
        let b = scope("p", Some("globex"));
        kv.set(&a, "k", b"1", Quota::bytes(1000)).await.unwrap();
        assert_eq!(kv.get(&b, "k").await.unwrap(), None);
        assert_eq!(kv.list(&b, "").await.unwrap(), Vec::<String>::new());
        assert_eq!(kv.list(&a, "").await.unwrap(), vec!["k".to_owned()]);
    }

    #[tokio::test]
    async fn quota_counts_every_scope_of_a_plugin() {
        let kv = MemoryKv::default();
        kv.set(&scope("p", Some("a")), "k", b"12345", Quota::bytes(11))
            .await
            .unwrap();
        let err = kv
            .set(&scope("p", Some("b")), "k", b"12345", Quota::bytes(11))
            .await;
        assert_eq!(err, Err(KvError::QuotaExceeded { quota: 11 }));
        // Shrinking is always allowed, and frees room.
        kv.delete(&scope("p", Some("a")), "k").await.unwrap();
        kv.set(&scope("p", Some("b")), "k", b"12345", Quota::bytes(11))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn keys_are_capped_per_plugin_and_replacing_one_is_no_new_key() {
        let kv = MemoryKv::default();
        let two = Quota {
            bytes: 1000,
            keys: 2,
        };
        kv.set(&scope("p", Some("a")), "k", b"1", two)
            .await
            .unwrap();
        kv.set(&scope("p", Some("b")), "k", b"1", two)
            .await
            .unwrap();
        let err = kv.set(&scope("p", Some("c")), "k", b"1", two).await;
        assert_eq!(
            err,
            Err(KvError::TooManyKeys {
                max: 2,
                quota: 1000
            })
        );
        kv.set(&scope("p", Some("a")), "k", b"22", two)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn compare_and_swap_only_replaces_the_expected_value() {
        let kv = MemoryKv::default();
        let s = scope("p", None);
        assert!(
            kv.compare_and_swap(&s, "k", None, Some(b"1"), Quota::bytes(100))
                .await
                .unwrap()
        );
        assert!(
            !kv.compare_and_swap(&s, "k", None, Some(b"2"), Quota::bytes(100))
                .await
                .unwrap()
        );
        assert!(
            kv.compare_and_swap(&s, "k", Some(b"1"), None, Quota::bytes(100))
                .await
                .unwrap()
        );
        assert_eq!(kv.get(&s, "k").await.unwrap(), None);
    }
}
