//! The host's own per-call and per-tick work, on the embedded SQLite
//! default: (a) a call's context (settings, secrets opened from the vault,
//! TLS identities), kept and built afresh, and the plugin lookup every call
//! makes first; (b) an idle scheduler tick over ten tasks, done twice a second;
//! (c) recording a page of 100 new transactions and (d) the same page again
//! (all duplicates); (e) the matching rule over 1,000 open invoices.
//!
//! Run with `cargo bench -p h2h-host --bench host_paths`.

use std::time::Duration;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use h2h_host::admin::Actor;
use h2h_host::connectors::Connectors;
use h2h_host::db::now_millis;
use h2h_host::packages::pack::write_package;
use h2h_host::scheduler::Scheduler;
use h2h_host::serve::{Host, HostConfig};
use h2h_host::settlements::matching::{Open, decide};
use h2h_host::settlements::{BankAccount, Direction, IncomingTransaction, Settlements};
use h2h_host::vault::EntryId;
use h2h_license::{LicenseRequest, Limits as LicenseLimits, VendorKeyPair, VersionRange};
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

/// The minimal connector, signed, licensed and installed the way an admin
/// does it, so the serving path hands it out.
async fn install_minimal(host: &Host, actor: &Actor) {
    let key = VendorKeyPair::generate().expect("key");
    host.admin
        .trust_publisher(actor, &key.public().to_armored(), "bench")
        .await
        .expect("trust");
    let wasm = std::fs::read(h2h_test_plugins::MINIMAL).expect("the minimal plugin is built");
    let manifest = include_str!("../../tests/plugins/minimal/h2h.toml");
    let zip = write_package(manifest, &wasm, None, None, Some(&key)).expect("package");
    host.admin.upload(actor, &zip).await.expect("upload");
    let today = chrono::Utc::now().date_naive();
    let license = h2h_license::issue(
        &key,
        LicenseRequest {
            id: None,
            plugin: "minimal".to_owned(),
            versions: VersionRange::parse("*").expect("range"),
            licensee: "bench".to_owned(),
            installation: host.admin.installation_id().await.expect("installation id"),
            not_before: today,
            expires: today + chrono::Days::new(30),
            issued_at: today,
            limits: LicenseLimits::default(),
        },
    )
    .expect("license");
    host.admin
        .add_license(actor, &license.to_toml())
        .await
        .expect("add license");
    host.admin
        .install(actor, "minimal", None)
        .await
        .expect("install");
}

async fn setup(host: &Host) {
    let actor = Actor::cli("bench");
    host.admin
        .add_company(&actor, "acme", "ACME", None)
        .await
        .expect("company");
    install_minimal(host, &actor).await;
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
             VALUES ('acme', 'minimal', $1, $2, 0, 'bench')",
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
                &EntryId::secret("acme", "minimal", name),
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

    let connectors = host.connectors();
    let loaded = tokio
        .block_on(connectors.get("minimal"))
        .expect("minimal is installed");
    // The company part kept while nothing changes: the cost of every call
    // after the first.
    c.bench_function("host/call_context_kept", |b| {
        b.to_async(&tokio).iter(|| async {
            connectors
                .context(&loaded, Some("acme"), Some("anna"))
                .await
                .expect("context")
        });
    });
    // Built afresh (two settings, two secrets opened from the vault): the
    // first call after a change, and what every call paid before contexts
    // were kept.
    c.bench_function("host/call_context_built", |b| {
        b.to_async(&tokio).iter(|| async {
            Connectors::new(
                host.db.clone(),
                host.runtime.clone(),
                host.admin.vault().clone(),
            )
            .context(&loaded, Some("acme"), Some("anna"))
            .await
            .expect("context")
        });
    });
    // The lookup every call makes first: the installation, its license day
    // and the context generation, one query.
    c.bench_function("host/plugin_lookup", |b| {
        b.to_async(&tokio)
            .iter(|| async { connectors.get("minimal").await.expect("minimal") });
    });

    let scheduler = Scheduler::new(
        host.db.clone(),
        connectors.clone(),
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
