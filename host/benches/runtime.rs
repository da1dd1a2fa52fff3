//! What a plugin call costs: (a) a fresh instance from the pre-linked
//! `InstancePre` plus one trivial export call, as the host serves every call;
//! (b) the same call on a kept instance, for comparison; (c) loading a
//! component from the disk cache versus compiling it.
//!
//! Run with `cargo bench -p h2h-host --bench runtime`.

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use h2h_host::capabilities::Grants;
use h2h_host::kv::MemoryKv;
use h2h_host::runtime::{CacheOutcome, CallContext, Runtime, RuntimeConfig};
use h2h_test_plugins::WELL_BEHAVED;

fn runtime(cache_dir: Option<std::path::PathBuf>) -> Runtime {
    Runtime::new(
        RuntimeConfig {
            cache_dir,
            ..RuntimeConfig::default()
        },
        Arc::new(MemoryKv::default()),
    )
    .expect("runtime starts")
}

fn context() -> CallContext {
    CallContext {
        company_id: Some("acme".into()),
        ..CallContext::default()
    }
}

fn calls(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let wasm = std::fs::read(WELL_BEHAVED).expect("well-behaved plugin built");
    let runtime = runtime(None);
    let plugin = runtime
        .load("well-behaved", &wasm, Grants::default())
        .expect("plugin loads");

    c.bench_function("call/fresh_instance_noop", |b| {
        b.to_async(&tokio).iter(|| async {
            plugin
                .run_task(context(), "noop")
                .await
                .expect("noop succeeds");
        });
    });

    let mut kept = tokio
        .block_on(plugin.reused_instance(context()))
        .expect("instance");
    c.bench_function("call/reused_instance_noop", |b| {
        b.iter(|| {
            tokio
                .block_on(kept.run_task("noop"))
                .expect("no trap")
                .expect("noop succeeds");
        });
    });
}

fn loading(c: &mut Criterion) {
    let wasm = std::fs::read(WELL_BEHAVED).expect("well-behaved plugin built");
    let dir = tempfile::tempdir().expect("temp dir");
    let cached = runtime(Some(dir.path().to_owned()));
    cached
        .load("well-behaved", &wasm, Grants::default())
        .expect("first load compiles and stores");
    let uncached = runtime(None);

    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.bench_function("from_disk_cache", |b| {
        b.iter(|| {
            let (_, outcome) = cached
                .load_traced("well-behaved", &wasm, Grants::default())
                .expect("loads");
            assert_eq!(outcome, CacheOutcome::Hit);
        });
    });
    group.bench_function("compile", |b| {
        b.iter(|| {
            uncached
                .load("well-behaved", &wasm, Grants::default())
                .expect("compiles")
        });
    });
    group.finish();
}

criterion_group!(benches, calls, loading);
criterion_main!(benches);
