//! Plugin storage in the host database, through a real plugin (`ticker`):
//! list by prefix, compare-and-swap, the quota, and keys that try to reach
//! another company. And the quota under concurrent writers, and values
//! sealed at rest. On SQLite and on PostgreSQL.

use crate::admin;
use std::sync::Arc;

use crate::admin::Fixture;
use h2h_host::db::testing::TestBackend;
use h2h_host::kv::{KvError, KvStore, Quota, Scope, SqlKv};
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
    let kv = Arc::new(SqlKv::new(
        fx.host.db.clone(),
        fx.host.admin.vault().vault().clone(),
    ));
    let quota = 1000;
    let writers: Vec<_> = (0..24)
        .map(|i| {
            let kv = kv.clone();
            tokio::spawn(async move {
                let scope = Scope {
                    plugin: "ticker".into(),
                    company: Some(format!("company-{}", i % 3)),
                };
                kv.set(
                    &scope,
                    &format!("key-{i:02}"),
                    &[7u8; 94],
                    Quota::bytes(quota),
                )
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
    // Each entry is 6 + 94 = 100 bytes: ten fit, no more. Sealing adds its
    // overhead to each stored row, which the quota does not count.
    assert_eq!(stored, 10);
    let used: i64 = sqlx::query(
        "SELECT CAST(SUM(OCTET_LENGTH(key) + OCTET_LENGTH(value)) AS BIGINT) FROM plugin_kv",
    )
    .fetch_one(fx.host.db.pool())
    .await
    .expect("sum")
    .get(0);
    assert_eq!(used, 1000 + 10 * h2h_host::vault::SEALING_OVERHEAD as i64);
    assert_eq!(usage(&fx).await, (1000, 10), "the kept usage agrees");
    fx.finish().await;
}

/// The usage the quota reads, as the admin sees it.
async fn usage(fx: &Fixture) -> (u64, u64) {
    h2h_host::catalog::storage_usage(&fx.host.db, "ticker")
        .await
        .expect("usage")
}

/// The usage row follows every kind of write (set, replace, delete,
/// compare-and-swap both ways) without summing the data, and a plugin's
/// keys are capped: a new key over the cap is refused, replacing or
/// removing one is not.
async fn usage_is_kept_as_it_changes_and_keys_are_capped(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let kv = kv(&fx);
    let quota = Quota {
        bytes: 1 << 20,
        keys: 3,
    };
    let at = |company: &str| Scope {
        plugin: "ticker".into(),
        company: Some(company.to_owned()),
    };
    kv.set(&at("acme"), "a", b"1234", quota).await.expect("a");
    kv.set(&at("globex"), "b", b"12", quota).await.expect("b");
    assert_eq!(usage(&fx).await, (1 + 4 + 1 + 2, 2));
    kv.set(&at("acme"), "a", b"123456789", quota)
        .await
        .expect("replace a");
    assert_eq!(usage(&fx).await, (1 + 9 + 1 + 2, 2));
    assert!(
        kv.compare_and_swap(&at("acme"), "c", None, Some(b"xyz"), quota)
            .await
            .expect("cas")
    );
    assert_eq!(usage(&fx).await, (10 + 3 + 4, 3));
    let refused = kv.set(&at("initech"), "d", b"1", quota).await;
    assert_eq!(
        refused,
        Err(KvError::TooManyKeys {
            max: 3,
            quota: 1 << 20
        })
    );
    assert_eq!(usage(&fx).await, (17, 3), "the refused write left nothing");
    kv.set(&at("globex"), "b", b"22", quota)
        .await
        .expect("replacing is no new key");
    assert!(kv.delete(&at("globex"), "b").await.expect("delete"));
    assert!(
        kv.compare_and_swap(&at("acme"), "c", Some(b"xyz"), None, quota)
            .await
            .expect("cas away")
    );
    assert_eq!(usage(&fx).await, (10, 1));
    kv.set(&at("initech"), "d", b"1", quota)
        .await
        .expect("room again");
    let summed: i64 = sqlx::query(
        "SELECT CAST(SUM(OCTET_LENGTH(key) + OCTET_LENGTH(value)) AS BIGINT) FROM plugin_kv",
    )
    .fetch_one(fx.host.db.pool())
    .await
    .expect("sum")
    .get(0);
    let (bytes, keys) = usage(&fx).await;
    assert_eq!(
        summed as u64,
        bytes + keys * h2h_host::vault::SEALING_OVERHEAD as u64
    );
    fx.finish().await;
}

/// Without the admin's word a manifest gets at most 64 MiB; the admin's
/// limits replace the manifest's quota (lower or higher), reach the
/// serving plugin at once, and are audited.
async fn the_admin_has_the_last_word_on_storage(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let extra = "[capabilities]\nstorage-quota-bytes = 1073741824\n\n\
                 [[tasks]]\nname = \"probe-storage\"\ncron = \"0 0 1 1 *\"\ndescription = \"Probe.\"\n";
    fx.install_with("ticker", &admin::manifest("ticker", "1.0.0", extra), TICKER)
        .await;
    fx.company("acme").await;
    let admin = &fx.host.admin;
    let report = admin.storage("ticker").await.expect("report");
    assert_eq!(report.manifest_quota_bytes, 1 << 30);
    assert_eq!(report.quota_bytes, 64 << 20, "the host's cap");
    assert_eq!(report.max_keys, 100_000);
    assert_eq!(report.admin_limits, None);

    let report = admin
        .set_storage_limits(&fx.actor, "ticker", Some((3 << 20, 50)))
        .await
        .expect("set");
    assert_eq!((report.quota_bytes, report.max_keys), (3 << 20, 50));
    // The probe stores a 2 MiB value: under 3 MiB it now fits.
    let scheduler = fx.scheduler("test");
    let run = scheduler
        .run_now("ticker", "probe-storage", Some("acme"), None)
        .await
        .expect("run");
    assert_eq!(run.outcome, "ok", "{run:?}");
    assert_eq!(
        stored(&fx, "acme", "probe").await.expect("probe")["bomb"],
        "stored"
    );
    let report = admin.storage("ticker").await.expect("report");
    assert!(
        report.used_bytes > 2 << 20 && report.used_keys == 6,
        "{report:?}"
    );

    let refused = admin.storage("nothing").await.expect_err("not installed");
    assert_eq!(refused.kind(), "not_installed");
    let back = admin
        .set_storage_limits(&fx.actor, "ticker", None)
        .await
        .expect("back to the manifest");
    assert_eq!(back.quota_bytes, 64 << 20);
    let audit = admin.audit(0, 1000).await.expect("audit");
    let details: Vec<&str> = audit
        .iter()
        .filter(|e| e.action == "plugin.storage-limits")
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(
        details,
        ["3145728 bytes, 50 keys", "manifest quota, 67108864 bytes"],
        "in order"
    );
    fx.finish().await;
}

fn kv(fx: &Fixture) -> SqlKv {
    SqlKv::new(fx.host.db.clone(), fx.host.admin.vault().vault().clone())
}

async fn raw(fx: &Fixture, key: &str) -> Vec<u8> {
    sqlx::query("SELECT value FROM plugin_kv WHERE key = $1")
        .bind(key)
        .fetch_one(fx.host.db.pool())
        .await
        .expect("row")
        .get("value")
}

/// What a connector keeps (Mellon's JWT, a bank's session hints) lies
/// sealed: the database shows none of it, a value moved to another key or
/// company does not open, and compare-and-swap still compares values.
async fn plugin_data_is_sealed_at_rest(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let kv = kv(&fx);
    let acme = Scope {
        plugin: "mellon".into(),
        company: Some("acme".to_owned()),
    };
    let token = b"eyJhbGciOiJFUzI1NiJ9.jwt-of-acme";
    kv.set(&acme, "jwt", token, Quota::bytes(1 << 20))
        .await
        .expect("set");
    kv.set(&acme, "other", b"42", Quota::bytes(1 << 20))
        .await
        .expect("set");
    let sealed = raw(&fx, "jwt").await;
    assert!(!sealed.windows(11).any(|w| w == b"jwt-of-acme"));
    assert_eq!(
        kv.get(&acme, "jwt").await.expect("get").as_deref(),
        Some(&token[..])
    );

    // The same bytes under another key, or for another company, are refused.
    sqlx::query("UPDATE plugin_kv SET value = $1 WHERE key = 'other'")
        .bind(&sealed)
        .execute(fx.host.db.pool())
        .await
        .expect("move");
    let moved = kv.get(&acme, "other").await.expect_err("bound to its key");
    assert!(
        moved
            .to_string()
            .contains("stored value `other` does not open"),
        "{moved}"
    );
    sqlx::query(
        "INSERT INTO plugin_kv (plugin_id, company_id, key, value) VALUES ('mellon', 'globex', 'jwt', $1)",
    )
    .bind(&sealed)
    .execute(fx.host.db.pool())
    .await
    .expect("copy");
    let globex = Scope {
        company: Some("globex".to_owned()),
        ..acme.clone()
    };
    assert!(
        kv.get(&globex, "jwt").await.is_err(),
        "bound to its company"
    );

    // Sealing is randomised; compare-and-swap compares what was stored.
    assert!(
        !kv.compare_and_swap(
            &acme,
            "jwt",
            Some(b"stale"),
            Some(b"new"),
            Quota::bytes(1 << 20)
        )
        .await
        .expect("cas")
    );
    assert_eq!(
        kv.get(&acme, "jwt").await.expect("get").as_deref(),
        Some(&token[..])
    );
    assert!(
        kv.compare_and_swap(
            &acme,
            "jwt",
            Some(token),
            Some(b"new"),
            Quota::bytes(1 << 20)
        )
        .await
        .expect("cas")
    );
    assert_eq!(
        kv.get(&acme, "jwt").await.expect("get").as_deref(),
        Some(&b"new"[..])
    );
    fx.finish().await;
}

/// A database written by a host from before sealing keeps its plugins'
/// data: the first host to open it seals every value, once.
async fn values_stored_in_clear_are_sealed_at_the_next_start(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    for (table, value) in [
        ("plugin_kv", "\"kept\""),
        ("plugin_kv_backup", "\"backup\""),
    ] {
        sqlx::query(&format!(
            "INSERT INTO {table} (plugin_id, company_id, key, value) VALUES ('ticker', 'acme', 'old', $1)"
        ))
        .bind(value.as_bytes().to_vec())
        .execute(fx.host.db.pool())
        .await
        .expect("a clear row");
    }
    sqlx::query("DELETE FROM host_meta WHERE key = 'plugin-kv-sealed'")
        .execute(fx.host.db.pool())
        .await
        .expect("as before sealing");
    let reopened = h2h_host::serve::Host::open(&fx.config)
        .await
        .expect("reopen");
    assert_ne!(raw(&fx, "old").await, b"\"kept\"");
    assert_eq!(stored(&fx, "acme", "old").await, Some(json!("kept")));
    let backup: Vec<u8> = sqlx::query("SELECT value FROM plugin_kv_backup WHERE key = 'old'")
        .fetch_one(fx.host.db.pool())
        .await
        .expect("row")
        .get("value");
    assert_ne!(backup, b"\"backup\"");
    // A second start seals nothing again.
    let again = h2h_host::serve::Host::open(&fx.config)
        .await
        .expect("reopen");
    assert_eq!(stored(&fx, "acme", "old").await, Some(json!("kept")));
    again.db.close().await;
    reopened.db.close().await;
    fx.finish().await;
}

on_both_databases!(a_plugin_sees_only_its_companys_keys);
on_both_databases!(plugin_data_is_sealed_at_rest);
on_both_databases!(values_stored_in_clear_are_sealed_at_the_next_start);
on_both_databases!(concurrent_writers_cannot_overshoot_the_quota);
on_both_databases!(usage_is_kept_as_it_changes_and_keys_are_capped);
on_both_databases!(the_admin_has_the_last_word_on_storage);
