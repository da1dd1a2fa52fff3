//! The settlements core on both databases: a page fetched twice or an
//! overlapping range never duplicates a transaction and never loses one;
//! incoming payments settle the invoice they name, or are flagged for
//! review; the events feed reports it all in order.

use crate::admin;
use crate::admin::Fixture;
use chrono::NaiveDate;
use h2h_host::db::testing::TestBackend;
use h2h_host::settlements::{BankAccount, Direction, IncomingTransaction, Settlements};
use rust_decimal::Decimal;
use sqlx::Row;

fn money(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

fn credit(reference: &str, day: u32, amount: &str, title: &str) -> IncomingTransaction {
    IncomingTransaction {
        bank_reference: reference.to_owned(),
        booking_date: NaiveDate::from_ymd_opt(2026, 11, day).expect("date"),
        direction: Direction::Credit,
        amount: money(amount),
        currency: "UAH".to_owned(),
        title: title.to_owned(),
        counterparty_name: Some("ТОВ Ромашка".to_owned()),
        counterparty_account: None,
        former_references: Vec::new(),
        details: Default::default(),
    }
}

async fn setup(fx: &Fixture) -> Settlements {
    fx.company("acme").await;
    let settlements = Settlements::new(fx.host.db.clone());
    settlements
        .add_account(&BankAccount {
            id: "acme-uah".to_owned(),
            company: "acme".to_owned(),
            plugin: "privat24".to_owned(),
            iban: "UA21 3223 1300 0002 6007 2335 6600 1".to_owned(),
            currency: "UAH".to_owned(),
            name: "Main".to_owned(),
        })
        .await
        .expect("account");
    settlements
}

async fn overlapping_fetches_neither_duplicate_nor_lose(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let settlements = setup(&fx).await;
    let days_1_2 = [
        credit("ID-1", 1, "10.00", "a"),
        credit("ID-2", 2, "20", "b"),
    ];
    let days_2_3 = [credit("ID-2", 2, "20", "b"), credit("ID-3", 3, "30", "c")];
    let first = settlements
        .record("acme-uah", &days_1_2)
        .await
        .expect("page");
    assert_eq!((first.new, first.duplicates), (2, 0));
    let again = settlements
        .record("acme-uah", &days_1_2)
        .await
        .expect("same page");
    assert_eq!((again.new, again.duplicates), (0, 2));
    let overlap = settlements
        .record("acme-uah", &days_2_3)
        .await
        .expect("overlap");
    assert_eq!((overlap.new, overlap.duplicates), (1, 1));
    // A page that repeats a transaction within itself.
    let twice = [credit("ID-4", 4, "1", "d"), credit("ID-4", 4, "1", "d")];
    let inner = settlements
        .record("acme-uah", &twice)
        .await
        .expect("repeat");
    assert_eq!((inner.new, inner.duplicates), (1, 1));

    let events = settlements
        .events(0, 100, Some("acme"))
        .await
        .expect("events");
    let references: Vec<&str> = events
        .iter()
        .map(|e| e.payload["bank_reference"].as_str().expect("reference"))
        .collect();
    assert_eq!(references, ["ID-1", "ID-2", "ID-3", "ID-4"]);
    assert!(events.iter().all(|e| e.kind == "payment.received"));
    let later = settlements
        .events(events[1].id, 100, None)
        .await
        .expect("cursor");
    assert_eq!(later.len(), 2);

    // A bad page keeps nothing of itself.
    let bad = [
        credit("ID-5", 5, "5", "e"),
        credit("", 5, "5", "no reference"),
    ];
    let refused = settlements.record("acme-uah", &bad).await.expect_err("bad");
    assert_eq!(
        refused.to_string(),
        "a transaction without a bank reference cannot be deduplicated"
    );
    let after = settlements.events(0, 100, None).await.expect("events");
    assert_eq!(after.len(), 4);
    fx.finish().await;
}

async fn payments_settle_or_are_flagged(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let settlements = setup(&fx).await;
    for (invoice, amount) in [
        ("FV/2026/11/0042", "1500.00"),
        ("FV/2026/11/0043", "200.00"),
        ("FV/2026/11/0044", "80.00"),
        ("FV/2026/11/0045", "10.00"),
        ("FV/2026/11/0046", "10.00"),
    ] {
        settlements
            .add_receivable("acme", invoice, amount, "UAH", "ТОВ Ромашка")
            .await
            .expect("receivable");
    }
    // Matching is off until the company turns it on.
    let off = settlements
        .record("acme-uah", &[credit("P-0", 1, "1500", "FV/2026/11/0042")])
        .await
        .expect("record");
    assert!(off.settled.is_empty());
    settlements
        .set_auto_matching("acme", true)
        .await
        .expect("on");

    let page = [
        credit("P-1", 2, "1500.00", "Оплата рахунку FV/2026/11/0042"),
        credit("P-2", 2, "150.00", "Часткова оплата FV/2026/11/0043"),
        credit("P-3", 2, "100.00", "FV/2026/11/0044"),
        credit("P-4", 2, "20.00", "FV/2026/11/0045 FV/2026/11/0046"),
        credit("P-5", 2, "99.00", "без рахунку"),
    ];
    let report = settlements.record("acme-uah", &page).await.expect("record");
    assert_eq!(report.settled, ["FV/2026/11/0042"]);
    assert_eq!(
        report.review,
        [
            "FV/2026/11/0043",
            "FV/2026/11/0044",
            "FV/2026/11/0045",
            "FV/2026/11/0046"
        ]
    );
    let settled = settlements
        .receivable("acme", "FV/2026/11/0042")
        .await
        .expect("invoice");
    assert_eq!(settled.status, "settled");
    assert_eq!(settled.open_amount, Decimal::ZERO);
    let partial = settlements
        .receivable("acme", "FV/2026/11/0043")
        .await
        .expect("invoice");
    assert_eq!(partial.status, "review");
    assert_eq!(partial.open_amount, money("200"));

    let events = settlements
        .events(0, 100, Some("acme"))
        .await
        .expect("events");
    let kinds: Vec<(&str, Option<&str>)> = events
        .iter()
        .filter(|e| e.kind != "payment.received")
        .map(|e| (e.kind.as_str(), e.payload["reason"].as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("payment.settled", Some("exact")),
            ("payment.review", Some("partial")),
            ("payment.review", Some("overpayment")),
            ("payment.review", Some("ambiguous")),
        ]
    );
    // The same page again settles nothing twice.
    let again = settlements.record("acme-uah", &page).await.expect("again");
    assert_eq!(
        (again.new, again.settled.len(), again.review.len()),
        (0, 0, 0)
    );
    fx.finish().await;
}

async fn bad_accounts_and_receivables_are_refused(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let settlements = setup(&fx).await;
    let account = |iban: &str, currency: &str| BankAccount {
        id: "other".to_owned(),
        company: "acme".to_owned(),
        plugin: "privat24".to_owned(),
        iban: iban.to_owned(),
        currency: currency.to_owned(),
        name: "Other".to_owned(),
    };
    let bad_iban = settlements
        .add_account(&account("UA21 3223 1300 0002 6007 2335 6600 2", "UAH"))
        .await
        .expect_err("checksum");
    assert!(
        bad_iban
            .to_string()
            .starts_with("`UA21 3223 1300 0002 6007 2335 6600 2` is not a valid IBAN"),
        "{bad_iban}"
    );
    let bad_currency = settlements
        .add_account(&account("PL61 1090 1014 0000 0712 1981 2874", "zl"))
        .await
        .expect_err("currency");
    assert_eq!(
        bad_currency.to_string(),
        "currency `zl` is not an ISO 4217 currency code like UAH, PLN or EUR"
    );
    let gold = settlements
        .add_account(&account("PL61 1090 1014 0000 0712 1981 2874", "XAU"))
        .await
        .expect_err("no minor units");
    assert_eq!(gold.kind(), "invalid_input");
    let same_iban = settlements
        .add_account(&BankAccount {
            id: "again".to_owned(),
            ..account("UA213223130000026007233566001", "UAH")
        })
        .await
        .expect_err("duplicate");
    assert_eq!(same_iban.kind(), "already_exists");
    // Another company's account of the same IBAN is its own business.
    fx.company("globex").await;
    let theirs = settlements
        .add_account(&BankAccount {
            id: "globex-uah".to_owned(),
            company: "globex".to_owned(),
            ..account("UA213223130000026007233566001", "UAH")
        })
        .await
        .expect("the IBAN is unique per company, not host-wide");
    assert_eq!(theirs.iban, "UA213223130000026007233566001");
    let negative = settlements
        .add_receivable("acme", "FV/1", "-5", "UAH", "x")
        .await
        .expect_err("negative");
    assert_eq!(
        negative.to_string(),
        "amount `-5` is not written like 1234.50: digits, at most one `.`, no sign, exponent, grouping or spaces"
    );
    let nobody = settlements
        .add_receivable("initech", "FV/1", "5", "UAH", "x")
        .await
        .expect_err("company");
    assert_eq!(nobody.to_string(), "company `initech` does not exist");
    fx.finish().await;
}

async fn bank_plugins_can_require_the_module(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let wants = |version: &str, range: &str| {
        admin::manifest(
            "ticker",
            version,
            &format!("[requires]\nsettlements = \"{range}\"\n"),
        )
    };
    fx.upload_with(&wants("1.0.0", "^2"), h2h_test_plugins::TICKER)
        .await;
    fx.upload_with(&wants("1.0.1", "^1"), h2h_test_plugins::TICKER)
        .await;
    fx.add_license("ticker").await;
    let admin = &fx.host.admin;
    let refused = admin
        .install(&fx.actor, "ticker", Some("1.0.0".parse().expect("version")))
        .await
        .expect_err("needs settlements 2");
    assert_eq!(refused.kind(), "requirement_not_met", "{refused}");
    admin
        .install(&fx.actor, "ticker", Some("1.0.1".parse().expect("version")))
        .await
        .expect("settlements 1 is there");
    fx.finish().await;
}

on_both_databases!(bank_plugins_can_require_the_module);
on_both_databases!(overlapping_fetches_neither_duplicate_nor_lose);
on_both_databases!(payments_settle_or_are_flagged);
on_both_databases!(bad_accounts_and_receivables_are_refused);

/// A connector that changes its dedupe key names the old one: a line
/// stored under it is not stored again, whether the new build or, after a
/// rollback, the old one sends it; nor is a line the new build stored
/// first.
async fn a_changed_key_finds_lines_stored_under_the_former_one(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let settlements = setup(&fx).await;
    let old_build = [
        credit("ID-1", 1, "10.00", "a"),
        credit("ID-2", 2, "20", "b"),
    ];
    settlements
        .record("acme-uah", &old_build)
        .await
        .expect("old keys");

    let renamed = |new: &str, former: &str, day| {
        let mut t = credit(new, day, "10.00", "a");
        t.former_references = vec![former.to_owned()];
        t
    };
    let new_build = [renamed("REF-1#1", "ID-1", 1), renamed("REF-9#1", "ID-9", 3)];
    let report = settlements
        .record("acme-uah", &new_build)
        .await
        .expect("new keys");
    assert_eq!((report.new, report.duplicates, report.rekeyed), (1, 1, 1));
    let again = settlements
        .record("acme-uah", &new_build)
        .await
        .expect("again");
    assert_eq!((again.new, again.duplicates, again.rekeyed), (0, 2, 0));

    // Rolled back: the old build sends its keys, former references unknown.
    let rolled_back = [
        credit("ID-1", 1, "10.00", "a"),
        credit("ID-9", 3, "10.00", "a"),
    ];
    let back = settlements
        .record("acme-uah", &rolled_back)
        .await
        .expect("old build again");
    assert_eq!((back.new, back.duplicates), (0, 2));

    let keys: Vec<String> = sqlx::query_scalar::<_, String>(
        "SELECT dedupe_key FROM bank_transactions ORDER BY dedupe_key",
    )
    .fetch_all(fx.host.db.pool())
    .await
    .expect("keys");
    assert_eq!(keys, ["ID-1", "ID-2", "REF-9#1"]);
    fx.finish().await;
}

on_both_databases!(a_changed_key_finds_lines_stored_under_the_former_one);

/// A connector without balances (the SDK's default answers `unsupported`)
/// still syncs: its statement is stored and the sync counts as done, with
/// no balance.
async fn a_connector_without_balances_still_syncs(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    fx.install_with(
        "minimal",
        &admin::manifest("minimal", "1.0.0", ""),
        h2h_test_plugins::MINIMAL,
    )
    .await;
    fx.company("acme").await;
    let settlements = Settlements::new(fx.host.db.clone());
    settlements
        .add_account(&BankAccount {
            id: "acme-pln".to_owned(),
            company: "acme".to_owned(),
            plugin: "minimal".to_owned(),
            iban: "PL61109010140000071219812874".to_owned(),
            currency: "PLN".to_owned(),
            name: "Main".to_owned(),
        })
        .await
        .expect("account");
    let today = chrono::Utc::now().date_naive();
    let connectors = fx.host.connectors();
    let report = settlements
        .sync_account(&connectors, "acme-pln", today, None)
        .await
        .expect("synced without a balance");
    assert_eq!(report.new, 0);
    let state = settlements.sync_state("acme-pln").await.expect("state");
    assert_eq!(state.last_error, None);
    assert_eq!(state.balance_booked, None);
    assert!(state.last_success_at.is_some(), "{state:?}");
    fx.finish().await;
}

on_both_databases!(a_connector_without_balances_still_syncs);

/// Two syncs recording at once, each with a payment of the same invoice:
/// it is settled once; the other payment is for a person (review,
/// `already-settled`) or finds nothing open, never a second settlement.
async fn concurrent_payments_settle_an_invoice_once(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let settlements = setup(&fx).await;
    settlements
        .set_auto_matching("acme", true)
        .await
        .expect("on");
    for round in 0..8 {
        let invoice = format!("FV/2026/12/{round:04}");
        settlements
            .add_receivable("acme", &invoice, "300.00", "UAH", "ТОВ Ромашка")
            .await
            .expect("receivable");
        let first = [credit(&format!("A-{round}"), 3, "300.00", &invoice)];
        let second = [credit(&format!("B-{round}"), 3, "300.00", &invoice)];
        let (a, b) = tokio::join!(
            settlements.record("acme-uah", &first),
            settlements.record("acme-uah", &second)
        );
        let (a, b) = (a.expect("first"), b.expect("second"));
        assert_eq!(
            a.settled.len() + b.settled.len(),
            1,
            "round {round}: {a:?} {b:?}"
        );
        let settled: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM payment_matches m JOIN receivables r \
               ON r.id = m.receivable_id WHERE r.invoice_number = $1 AND m.outcome = 'settled'",
        )
        .bind(&invoice)
        .fetch_one(fx.host.db.pool())
        .await
        .expect("matches")
        .get("n");
        assert_eq!(settled, 1, "round {round}");
    }
    fx.finish().await;
}

on_both_databases!(concurrent_payments_settle_an_invoice_once);
