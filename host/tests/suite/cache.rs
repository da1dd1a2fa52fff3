//! Compiled components are cached on disk and survive a restart.

use crate::common;
use std::sync::Arc;

use h2h_host::capabilities::Grants;
use h2h_host::kv::MemoryKv;
use h2h_host::runtime::{CacheOutcome, Runtime, RuntimeConfig, digest};
use h2h_test_plugins::WELL_BEHAVED;

fn runtime_with_cache(dir: &std::path::Path) -> Runtime {
    Runtime::new(
        RuntimeConfig {
            cache_dir: Some(dir.to_owned()),
            limits: common::test_limits(),
        },
        Arc::new(MemoryKv::default()),
    )
    .expect("runtime starts")
}

#[tokio::test]
async fn a_restart_loads_from_the_cache_instead_of_compiling() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = common::wasm(WELL_BEHAVED);

    let (_, first) = runtime_with_cache(dir.path())
        .load_traced("well-behaved", &wasm, Grants::default())
        .unwrap();
    // A new runtime is what a restarted process has.
    let (plugin, second) = runtime_with_cache(dir.path())
        .load_traced("well-behaved", &wasm, Grants::default())
        .unwrap();

    assert_eq!((first, second), (CacheOutcome::Compiled, CacheOutcome::Hit));
    plugin
        .run_task(common::company("acme"), "noop")
        .await
        .unwrap();
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "one entry per component and engine");
    let name = entries[0]
        .as_ref()
        .unwrap()
        .file_name()
        .into_string()
        .unwrap();
    assert!(name.starts_with(&digest(&wasm)), "{name}");
}

#[tokio::test]
async fn a_corrupt_cache_entry_is_replaced_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = common::wasm(WELL_BEHAVED);
    runtime_with_cache(dir.path())
        .load("well-behaved", &wasm, Grants::default())
        .unwrap();
    let entry = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&entry, b"garbage, not an ELF image").unwrap();

    let (plugin, outcome) = runtime_with_cache(dir.path())
        .load_traced("well-behaved", &wasm, Grants::default())
        .unwrap();

    assert_eq!(outcome, CacheOutcome::Compiled);
    plugin
        .run_task(common::company("acme"), "noop")
        .await
        .unwrap();
    let (_, again) = runtime_with_cache(dir.path())
        .load_traced("well-behaved", &wasm, Grants::default())
        .unwrap();
    assert_eq!(again, CacheOutcome::Hit);
}
