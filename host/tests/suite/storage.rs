//! Plugin storage in the host database, through a real plugin (`ticker`):
//! list by prefix, compare-and-swap, the quota, and keys that try to reach
//! another company. And the quota under concurrent writers. On SQLite and
//! on PostgreSQL.

use crate::admin;
use std::sync::Arc;

use crate::admin::Fixture;
use h2h_host::db::testing::TestBackend;
use h2h_host::kv::{KvError, KvStore, Scope, SqlKv};
use h2h_test_plugins::TICKER;
use serde_json::{Value, json};
use sqlx::Row;

async fn stored(fx: &Fixture, company: &str, key: &str) -> Option<Value> {
    fx.stored_for("ticker", company, key).await
}

async fn a_plugin_sees_only_its_companys_keys(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let extra = "[capabilities]\nstorage-quota-bytes = 1048576\n\n\
                 [[tasks]]\nname = \"probe-storage\"\ncron = \"0 0 1 1 *\"\ndescription = \"Probe.\"\n\n\
                 [[tasks]]\nname = \"tick\"\ncron = \"0 0 1 1 *\"\ndescription = \"Count.\"\n";
    fx.install_with("ticker", &admin::manifest("ticker", "1.0.0", extra), TICKER)
        .await;
    fx.company("acme").await;
    fx.company("globex").await;
    let scheduler = fx.scheduler("test");
    let run = |task: &'static str, company: &'static str| {
        let scheduler = scheduler.clone();
        async move {
            let run = scheduler
                .run_now("ticker", task, Some(company), None)
                .await
                .expect("run");
            assert_eq!(run.outcome, "ok", "{run:?}");
        }
    };
    run("tick", "globex").await;
    run("probe-storage", "acme").await;

    let probe = stored(&fx, "acme", "probe").await.expect("probe");
    assert_eq!(probe["listed"], json!(["probe/a", "probe/b"]));
    assert_eq!(probe["cas_with_stale_value"], false);
    assert_eq!(probe["cas_with_current_value"], true);
    assert_eq!(probe["after_cas"], 9);
    assert_eq!(probe["escape_read"], 1000);
    let bomb = probe["bomb"].as_str().expect("text");
    assert!(bomb.contains("quota-exceeded"), "{bomb}");
    assert!(
        bomb.contains("storage quota of 1048576 bytes exceeded"),
        "{bomb}"
    );
    assert_eq!(
        stored(&fx, "acme", "bomb").await,
        None,
        "nothing of the bomb is kept"
    );

    // The path-like key stayed a key of acme; globex's count is untouched.
    assert_eq!(
        stored(&fx, "acme", "../globex/ticks").await,
        Some(json!(1000))
    );
    assert_eq!(stored(&fx, "globex", "ticks").await, Some(json!(1)));
    assert_eq!(stored(&fx, "acme", "ticks").await, None);
    assert_eq!(stored(&fx, "globex", "probe").await, None);
    fx.finish().await;
}

async fn concurrent_writers_cannot_overshoot_the_quota(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let kv = Arc::new(SqlKv::new(fx.host.db.clone()));
    let quota = 1000;
    let writers: Vec<_> = (0..24)
        .map(|i| {
            let kv = kv.clone();
            tokio::spawn(async move {
                let scope = Scope {
                    plugin: "ticker".into(),
                    company: Some(format!("company-{}", i % 3)),
                };
                kv.set(&scope, &format!("key-{i:02}"), &[7u8; 94], quota)
                    .await
            })
        })
        .collect();
    let mut stored = 0;
    for writer in writers {
        match writer.await.expect("join") {
            Ok(()) => stored += 1,
            Err(KvError::QuotaExceeded { quota: q }) => assert_eq!(q, quota),
            Err(other) => panic!("unexpected {other}"),
        }
    }
    // Each entry is 6 + 94 = 100 bytes: ten fit, no more.
    assert_eq!(stored, 10);
    let used: i64 = sqlx::query(
        "SELECT CAST(SUM(OCTET_LENGTH(key) + OCTET_LENGTH(value)) AS BIGINT) FROM plugin_kv",
    )
    .fetch_one(fx.host.db.pool())
    .await
    .expect("sum")
    .get(0);
    assert_eq!(used, 1000);
    fx.finish().await;
}

on_both_databases!(a_plugin_sees_only_its_companys_keys);
on_both_databases!(concurrent_writers_cannot_overshoot_the_quota);
