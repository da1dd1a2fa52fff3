//! The host's own per-call and per-tick work, on the embedded SQLite
//! default: (a) building a call's context (settings, secrets opened from
//! the vault, TLS identities), done before every plugin call for a
//! company; (b) an idle scheduler tick over ten tasks, done twice a second;
//! (c) recording a page of 100 new transactions and (d) the same page again
//! (all duplicates); (e) the matching rule over 1,000 open invoices.
//!
//! Run with `cargo bench -p h2h-host --bench host_paths`.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use h2h_host::admin::Actor;
use h2h_host::db::now_millis;
use h2h_host::registry::Registry;
use h2h_host::scheduler::Scheduler;
use h2h_host::serve::{Host, HostConfig};
use h2h_host::settlements::matching::{Open, decide};
use h2h_host::settlements::{BankAccount, Direction, IncomingTransaction, Settlements};
use h2h_host::vault::EntryId;
use rust_decimal::Decimal;

fn page(prefix: &str) -> Vec<IncomingTransaction> {
    (0..100)
        .map(|i| IncomingTransaction {
            bank_reference: format!("{prefix}-{i}"),
            booking_date: NaiveDate::from_ymd_opt(2026, 11, 20).expect("date"),
            direction: Direction::Credit,
            amount: Decimal::new(12_345 + i, 2),
            currency: "UAH".to_owned(),
            title: format!("Оплата рахунку FV/2026/11/{i:04}"),
            counterparty_name: Some("ТОВ Ромашка".to_owned()),
            counterparty_account: None,
            former_references: Vec::new(),
            details: Default::default(),
        })
        .collect()
}

async fn setup(host: &Host) {
    let actor = Actor::cli("bench");
    host.admin
        .add_company(&actor, "acme", "ACME", None)
        .await
        .expect("company");
    let db = host.db.pool();
    for plugin in ["p1", "p2", "p3", "p4", "p5"] {
        sqlx::query(
            "INSERT INTO installations (plugin_id, version, enabled, installed_at, updated_at) \
             VALUES ($1, '1.0.0', 1, $2, $2)",
        )
        .bind(plugin)
        .bind(now_millis())
        .execute(db)
        .await
        .expect("installation");
        for task in ["refresh", "fetch"] {
            sqlx::query(
                "INSERT INTO plugin_tasks (plugin_id, name, cron, default_cron, description, paused) \
                 VALUES ($1, $2, '0 0 1 1 *', '0 0 1 1 *', 'bench', 0)",
            )
            .bind(plugin)
            .bind(task)
            .execute(db)
            .await
            .expect("task");
        }
    }
    for (name, value) in [("context-id", "CTX-001"), ("dik", "123456789")] {
        sqlx::query(
            "INSERT INTO company_settings (company_id, plugin_id, name, value, updated_at, updated_by) \
             VALUES ('acme', 'pkobp', $1, $2, 0, 'bench')",
        )
        .bind(name)
        .bind(value)
        .execute(db)
        .await
        .expect("setting");
    }
    for name in ["token", "client-secret"] {
        host.admin
            .vault()
            .put(
                &EntryId::secret("acme", "pkobp", name),
                b"s3cret-value",
                "bench",
            )
            .await
            .expect("secret");
    }
}

fn paths(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let host = tokio
        .block_on(Host::open(&HostConfig::new(dir.path())))
        .expect("host opens");
    tokio.block_on(setup(&host));

    c.bench_function("host/call_context_with_two_settings_and_two_secrets", |b| {
        b.to_async(&tokio).iter(|| async {
            host.admin
                .call_context(Some("acme"), "pkobp", Some("anna"))
                .await
                .expect("context")
        });
    });

    let scheduler = Scheduler::new(
        host.admin.clone(),
        Arc::new(Registry::new(host.db.clone(), host.runtime.clone())),
        None,
        "bench".to_owned(),
        Duration::from_secs(60),
    );
    c.bench_function("scheduler/idle_tick_ten_tasks", |b| {
        b.to_async(&tokio)
            .iter(|| async { scheduler.tick(now_millis()).await.expect("tick") });
    });

    let settlements = Settlements::new(host.db.clone());
    tokio
        .block_on(settlements.add_account(&BankAccount {
            id: "acme-uah".to_owned(),
            company: "acme".to_owned(),
            plugin: "privat24".to_owned(),
            iban: "UA213223130000026007233566001".to_owned(),
            currency: "UAH".to_owned(),
            name: "Main".to_owned(),
        }))
        .expect("account");
    let mut round = 0u64;
    c.bench_function("settlements/record_100_new", |b| {
        b.to_async(&tokio).iter(|| {
            round += 1;
            let page = page(&format!("r{round}"));
            let settlements = settlements.clone();
            async move { settlements.record("acme-uah", &page).await.expect("record") }
        });
    });
    let seen = page("seen");
    tokio
        .block_on(settlements.record("acme-uah", &seen))
        .expect("first");
    c.bench_function("settlements/record_100_duplicates", |b| {
        b.to_async(&tokio)
            .iter(|| async { settlements.record("acme-uah", &seen).await.expect("record") });
    });

    let open: Vec<Open> = (0..1000)
        .map(|i| Open {
            id: i,
            invoice_number: format!("FV/2026/11/{i:04}"),
            open_amount: Decimal::new(10_000 + i, 2),
            currency: "UAH".to_owned(),
        })
        .collect();
    let amount = Decimal::new(10_042, 2);
    c.bench_function("matching/decide_against_1000_open", |b| {
        b.iter(|| {
            decide(
                "Оплата рахунку FV/2026/11/0042 згідно договору",
                amount,
                "UAH",
                &open,
            )
        });
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = paths
}
criterion_main!(benches);
