//! The whole Privat24 path on both databases: pack and sign the connector,
//! upload, license, install, configure a company and its merchant, register
//! invoices, let the scheduler sync statements from the simulated bank,
//! read them through the ERP API, and sync again over an overlapping range
//! with the bank failing: nothing doubled, nothing lost.

use std::time::Duration;

use crate::admin::Fixture;
use crate::served::Served;
use chrono::{Datelike, Days, NaiveDate, Utc, Weekday};
use h2h_host::connectors::Registry;
use h2h_host::db::now_millis;
use h2h_host::db::testing::TestBackend;
use h2h_host::packages::pack::{with_extra_origins, write_package};
use h2h_host::runtime::ContractVersion;
use h2h_host::scheduler::{Scheduler, history};
use h2h_host::settlements::sync::SYNC_TASK;
use h2h_host::settlements::{BankAccount, Settlements};
use h2h_privat24_sim::{
    Merchant, Money, NewTransaction, SimHandle, Simulator, StatementTransaction,
};
use h2h_test_plugins::PRIVAT24;
use reqwest::StatusCode;
use serde_json::{Value, json};

const MANIFEST: &str = include_str!("../../../plugins/privat24/h2h.toml");
const README: &str = include_str!("../../../plugins/privat24/README.md");
pub(crate) const IBAN: &str = "UA213223130000026007233566001";
pub(crate) const MERCHANT: &str = "m-acme";
pub(crate) const TOKEN: &str = "sim-token-acme-NOT-A-SECRET";

pub(crate) fn money(text: &str) -> Money {
    text.parse().expect("money")
}

/// The bank's `lastday`, its last closed day: the working day before
/// `today`.
pub(crate) fn last_closed_day(today: NaiveDate) -> NaiveDate {
    let mut day = today - Days::new(1);
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day = day - Days::new(1);
    }
    day
}

/// Transactions the connector must deliver: real (`FL_REAL` r) and done
/// (`PR_PR` r) lines, as plugins/privat24/README.md says.
fn real_lines(bank: &SimHandle) -> Vec<StatementTransaction> {
    bank.transactions(MERCHANT)
        .expect("statement")
        .into_iter()
        .filter(|t| t.fl_real == "r" && t.pr_pr == "r")
        .collect()
}

/// The key connector 1.0.0 stored a line under.
fn key_1_0(t: &StatementTransaction) -> String {
    t.id.clone()
}

/// The key the current connector gives a line: `REF#REFN`.
fn key_now(t: &StatementTransaction) -> String {
    format!("{}#{}", t.reference, t.refn)
}

fn keys(bank: &SimHandle, key: fn(&StatementTransaction) -> String) -> Vec<String> {
    let mut keys: Vec<String> = real_lines(bank).iter().map(key).collect();
    keys.sort();
    keys
}

fn expected_references(bank: &SimHandle) -> Vec<String> {
    keys(bank, key_now)
}

async fn stored_references(fx: &Fixture) -> Vec<String> {
    let rows = sqlx::query("SELECT dedupe_key FROM bank_transactions ORDER BY dedupe_key")
        .fetch_all(fx.host.db.pool())
        .await
        .expect("rows");
    rows.iter()
        .map(|row| sqlx::Row::try_get(row, "dedupe_key").expect("key"))
        .collect()
}

/// Packs and signs the connector (this build may also reach the bank at
/// `bank_origin`), uploads, licenses and installs it, and configures
/// company `acme` for it ([`configure_acme`]).
pub(crate) async fn install(fx: &Fixture, bank_origin: &str) {
    let manifest = with_extra_origins(MANIFEST, &[bank_origin.to_owned()]).expect("origin");
    let wasm = std::fs::read(PRIVAT24).expect("connector built");
    let zip = write_package(&manifest, &wasm, Some(README), None, Some(&fx.key)).expect("pack");
    let admin = &fx.host.admin;
    admin.upload(&fx.actor, &zip).await.expect("upload");
    fx.add_license("privat24").await;
    admin
        .install(&fx.actor, "privat24", None)
        .await
        .expect("install");
    assert!(!admin.service_mode().await.expect("mode").active);
    configure_acme(fx, bank_origin).await;
}

/// Company `acme` with the merchant's settings for the bank at
/// `bank_origin` (a loopback address the admin allows) and its account
/// `acme-uah`.
async fn configure_acme(fx: &Fixture, bank_origin: &str) {
    let admin = &fx.host.admin;
    fx.company("acme").await;
    admin
        .set_setting(&fx.actor, "acme", "privat24", "api-url", bank_origin)
        .await
        .expect("api-url");
    admin
        .set_setting(&fx.actor, "acme", "privat24", "token", TOKEN)
        .await
        .expect("token");
    let host_port = bank_origin.trim_start_matches("http://");
    admin
        .allow_private_host(&fx.actor, "privat24", host_port, true)
        .await
        .expect("loopback grant");
    add_acme_account(fx).await;
}

/// ERP user `anna`, acting for `acme`, holding privat24's `permission`.
pub(crate) async fn anna_may(fx: &Fixture, permission: &str) {
    let admin = &fx.host.admin;
    admin
        .add_erp_user(&fx.actor, "anna", "Anna Accountant", None)
        .await
        .expect("user");
    admin
        .grant_company(&fx.actor, "anna", "acme", false)
        .await
        .expect("company access");
    admin
        .grant_permission(&fx.actor, "anna", "privat24", permission)
        .await
        .expect("permission");
}

/// Account `acme-uah` of company `acme` at privat24.
pub(crate) async fn add_acme_account(fx: &Fixture) {
    Settlements::new(fx.host.db.clone())
        .add_account(&BankAccount {
            id: "acme-uah".to_owned(),
            company: "acme".to_owned(),
            plugin: "privat24".to_owned(),
            iban: IBAN.to_owned(),
            currency: "UAH".to_owned(),
            name: "ACME UAH".to_owned(),
        })
        .await
        .expect("account");
}

/// Runs the sync task the way the schedule does: a tick past its next
/// occurrence. Returns the run's error, if any.
async fn scheduled_sync(scheduler: &Scheduler, fx: &Fixture, at: i64) -> Option<String> {
    for handle in scheduler.tick(at).await.expect("tick") {
        handle.await.expect("run");
    }
    let runs = history::list(&fx.host.db, "privat24", SYNC_TASK, 1)
        .await
        .expect("history");
    let last = runs.first().expect("a run happened");
    assert!(last.finished_at.is_some(), "{last:?}");
    last.error.clone()
}

async fn privat24_end_to_end(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let today = Utc::now().date_naive();
    let yesterday = today.checked_sub_days(Days::new(1)).expect("date");

    // The bank: generated movements plus two payments of our invoices.
    let sim = Simulator::builder()
        .merchant(Merchant::new(MERCHANT, TOKEN, IBAN, "UAH"))
        .seed(7)
        .days(5)
        .today(today)
        .build()
        .expect("simulator");
    let bank = sim.handle();
    bank.add_transaction(
        MERCHANT,
        NewTransaction::credit(
            money("1500.00"),
            yesterday,
            "Оплата рахунку FV/2026/11/0042",
        ),
    )
    .expect("payment");
    bank.add_transaction(
        MERCHANT,
        NewTransaction::credit(money("700.00"), today, "Часткова оплата FV/2026/11/0043"),
    )
    .expect("payment");
    let running = sim.start("127.0.0.1:0").await.expect("bank serving");
    let bank_origin = running.url();
    install(&fx, &bank_origin).await;
    let settlements = Settlements::new(fx.host.db.clone());

    // The ERP: a user with access to acme, invoices, auto-matching.
    anna_may(&fx, "sync-statements").await;
    let api = Served::start(&fx).await;
    let erp = Anna(&api);
    for (invoice, amount) in [
        ("FV/2026/11/0042", "1500.00"),
        ("FV/2026/11/0043", "1000.00"),
    ] {
        let (status, body) = erp
            .post(
                "/receivables",
                json!({ "company": "acme", "invoice_number": invoice, "amount": amount,
                        "currency": "UAH", "counterparty": "ТОВ Покупець" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = erp
        .put("/companies/acme/auto-matching", json!({ "enabled": true }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The daily sync, as scheduled.
    let scheduler = fx.scheduler("e2e");
    let now = now_millis();
    assert!(scheduler.tick(now).await.expect("first tick").is_empty());
    let day = 24 * 3600 * 1000;
    assert_eq!(scheduled_sync(&scheduler, &fx, now + day).await, None);
    let expected = expected_references(&bank);
    assert!(
        expected.len() > 5,
        "the simulator books a realistic statement"
    );
    assert_eq!(stored_references(&fx).await, expected);

    // Statements through the ERP API, every transaction once.
    let listed = erp.all_transactions("acme-uah").await;
    let mut ids: Vec<String> = listed
        .iter()
        .map(|t| t["bank_reference"].as_str().expect("reference").to_owned())
        .collect();
    ids.sort();
    assert_eq!(ids, expected);
    let paid = listed
        .iter()
        .find(|t| t["title"] == "Оплата рахунку FV/2026/11/0042")
        .expect("the payment is listed");
    assert_eq!(paid["amount"], "1500.00");
    assert_eq!(paid["direction"], "credit");

    // One invoice settled, the partial payment flagged.
    let (_, settled) = erp.get("/receivables/acme/FV%2F2026%2F11%2F0042").await;
    assert_eq!(settled["status"], "settled", "{settled}");
    let (_, partial) = erp.get("/receivables/acme/FV%2F2026%2F11%2F0043").await;
    assert_eq!(partial["status"], "review", "{partial}");

    // The events: every payment, one match, one flag.
    let events = erp.all_events().await;
    let kinds = |kind: &str| events.iter().filter(|e| e["kind"] == kind).count();
    assert_eq!(kinds("payment.received"), expected.len());
    assert_eq!(kinds("payment.settled"), 1);
    assert_eq!(kinds("payment.review"), 1);
    let review = events
        .iter()
        .find(|e| e["kind"] == "payment.review")
        .expect("review event");
    assert_eq!(review["payload"]["reason"], "partial");

    // The bank fails: the sync fails with the reason, nothing is stored
    // twice or lost, and the account says what happened.
    bank.faults().fail_next(2, 503).expect("fault");
    let error = scheduled_sync(&scheduler, &fx, now + 2 * day)
        .await
        .expect("the sync fails while the bank answers 503");
    assert!(error.contains("acme-uah"), "{error}");
    let state = settlements.sync_state("acme-uah").await.expect("state");
    assert_eq!(state.last_error.as_deref(), Some(error.as_str()));
    assert_eq!(stored_references(&fx).await, expected);

    // A phase other than WRK: refused before any statement is read.
    bank.faults().reset();
    bank.faults().phase("EOD");
    let error = scheduled_sync(&scheduler, &fx, now + 3 * day)
        .await
        .expect("no statements outside WRK");
    assert!(error.contains("EOD"), "{error}");

    // The bank asks clients not to call (work_balance Y): no statements.
    bank.faults().reset();
    bank.faults().work_balance(true);
    let error = scheduled_sync(&scheduler, &fx, now + 4 * day)
        .await
        .expect("no statements while the bank recomputes balances");
    assert!(
        error.ends_with("provider unavailable: Privat24 asks clients not to call now (work_balance = Y); try again later"),
        "{error}"
    );

    // Too slow: the connector's 15 s request timeout ends the sync.
    bank.faults().reset();
    bank.faults().delay(Duration::from_secs(16));
    let error = scheduled_sync(&scheduler, &fx, now + 5 * day)
        .await
        .expect("the sync fails when the bank does not answer");
    assert!(
        error.ends_with("bank.fetch-statement: provider timed out: no answer in time"),
        "{error}"
    );

    // Throttled: 429 comes back as busy.
    bank.faults().reset();
    bank.faults().rate_limit(1);
    let error = scheduled_sync(&scheduler, &fx, now + 6 * day)
        .await
        .expect("the sync fails while the bank throttles");
    assert!(
        error.ends_with("bank.fetch-statement: provider busy (retry after 1 s): HTTP 429: {\"code\":429,\"message\":\"Too many requests\",\"status\":\"ERROR\"}"),
        "{error}"
    );
    assert_eq!(stored_references(&fx).await, expected);

    // The bank serves every page twice, and a new payment arrives; the ERP
    // asks for a sync on demand over the overlapping range.
    bank.faults().reset();
    bank.faults().duplicate_pages(true);
    bank.add_transaction(
        MERCHANT,
        NewTransaction::credit(money("42.00"), today, "Оплата рахунку FV/2026/11/0099"),
    )
    .expect("late payment");
    let (status, body) = erp.post("/accounts/acme-uah/sync", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let expected_now = expected_references(&bank);
    assert_eq!(expected_now.len(), expected.len() + 1);
    assert_eq!(stored_references(&fx).await, expected_now);
    let state = settlements.sync_state("acme-uah").await.expect("state");
    assert_eq!(state.last_error, None);
    // Complete up to the last day the bank closed (its date_final_statement).
    let closed = last_closed_day(today);
    assert_eq!(state.final_through, Some(closed.to_string()));
    assert_eq!(
        state.synced_through,
        Some(closed.min(yesterday).to_string())
    );
    assert!(state.balance_booked.is_some());

    api.stop().await;
    bank.stop().await;
    fx.finish().await;
}

on_both_databases!(privat24_end_to_end);

/// The ERP side of the test, acting for user anna.
struct Anna<'a>(&'a Served);

impl Anna<'_> {
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.0.get(path, "anna").await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.0.post(path, "anna", body).await
    }

    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.0.put(path, "anna", body).await
    }

    /// Every item of a cursor-paged list at `path` (with `?` or `&`), in
    /// pages of `limit`, following the cursor until an empty page.
    async fn all(&self, path: &str, field: &str, limit: u32) -> Vec<Value> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let separator = if path.contains('?') { '&' } else { '?' };
            let (status, page) = self
                .get(&format!("{path}{separator}after={after}&limit={limit}"))
                .await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let items = page[field].as_array().expect("items").clone();
            if items.is_empty() {
                return all;
            }
            after = page["next"].as_i64().expect("next cursor");
            all.extend(items);
        }
    }

    async fn all_transactions(&self, account: &str) -> Vec<Value> {
        self.all(
            &format!("/accounts/{account}/transactions"),
            "transactions",
            7,
        )
        .await
    }

    async fn all_events(&self) -> Vec<Value> {
        self.all("/events?company=acme", "events", 5).await
    }
}

/// The privat24 1.0.0 package exactly as the 1.0 contract's last host
/// packed and signed it (tests/fixtures/privat24-1.0.0/README.md): never
/// rebuilt, so it proves a 1.0 plugin keeps running on a host that also
/// serves 2.0.
const V1_PACKAGE: &[u8] =
    include_bytes!("../../../tests/fixtures/privat24-1.0.0/privat24-1.0.0.zip");
const V1_PUBLISHER: &str = include_str!("../../../tests/fixtures/privat24-1.0.0/publisher.pub");

/// The installed privat24 is `version`, called under `contract`.
async fn assert_running(fx: &Fixture, version: &str, contract: ContractVersion) {
    assert_eq!(
        fx.installed_version("privat24").await.as_deref(),
        Some(version)
    );
    let loaded = Registry::new(
        fx.host.db.clone(),
        fx.host.admin.vault().clone(),
        fx.host.runtime.clone(),
    )
    .get("privat24")
    .await
    .expect("privat24 is callable");
    assert_eq!(loaded.plugin.contract(), contract);
}

/// Books one more payment at the bank, runs the scheduled sync at `at`, and
/// checks every real line is stored exactly once, the new one under `key`.
async fn sync_one_more(
    fx: &Fixture,
    scheduler: &Scheduler,
    bank: &SimHandle,
    at: i64,
    title: &str,
    key: fn(&StatementTransaction) -> String,
) {
    let today = Utc::now().date_naive();
    bank.add_transaction(
        MERCHANT,
        NewTransaction::credit(money("10.00"), today, title),
    )
    .expect("payment");
    assert_eq!(scheduled_sync(scheduler, fx, at).await, None);
    let lines = real_lines(bank);
    let stored = stored_references(fx).await;
    assert_eq!(stored.len(), lines.len(), "{stored:?}");
    let new = lines
        .iter()
        .find(|t| t.osnd == title)
        .expect("the new line");
    assert!(stored.contains(&key(new)), "{stored:?}");
}

/// A 1.0 package uploaded, installed and synced; upgraded to the 2.0
/// build of itself and synced; rolled back to 1.0 and synced: every bank
/// line stored exactly once throughout.
async fn privat24_1_0_package_upgrades_and_rolls_back(backend: TestBackend) {
    // The package's allow-list names one fixed loopback address per
    // database, so both runs can serve a bank at once.
    let bank_addr = match backend {
        TestBackend::Sqlite => "127.24.0.1:8089",
        TestBackend::Postgres => "127.24.0.2:8089",
    };
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let today = Utc::now().date_naive();
    let sim = Simulator::builder()
        .merchant(Merchant::new(MERCHANT, TOKEN, IBAN, "UAH"))
        .seed(11)
        .days(3)
        .today(today)
        .build()
        .expect("simulator");
    let bank = sim.handle();
    // 1.0.0 sends no charset on GET, so the real bank (and the simulator)
    // answer it in cp1251; answer UTF-8 to keep this test about versions.
    bank.faults().utf8_without_charset(true);
    let running = sim.start(bank_addr).await.expect("bank serving");
    let bank_origin = running.url();
    assert_eq!(bank_origin, format!("http://{bank_addr}"));

    let admin = &fx.host.admin;
    admin
        .trust_publisher(&fx.actor, V1_PUBLISHER, "h2h 1.0 release")
        .await
        .expect("trust the 1.0 publisher");
    admin
        .upload(&fx.actor, V1_PACKAGE)
        .await
        .expect("upload 1.0.0");
    fx.add_license("privat24").await;
    admin
        .install(&fx.actor, "privat24", None)
        .await
        .expect("install 1.0.0");
    assert_running(&fx, "1.0.0", ContractVersion::V1).await;
    configure_acme(&fx, &bank_origin).await;

    let scheduler = fx.scheduler("versions");
    let now = now_millis();
    assert!(scheduler.tick(now).await.expect("first tick").is_empty());
    let day = 24 * 3600 * 1000;
    assert_eq!(scheduled_sync(&scheduler, &fx, now + day).await, None);
    let synced_by_1_0 = keys(&bank, key_1_0);
    assert!(!synced_by_1_0.is_empty());
    assert_eq!(stored_references(&fx).await, synced_by_1_0);

    // The 2.0 build of the same connector, a newer version, signed by the
    // tests' key rather than the 1.0 release key: the admin hands the plugin
    // to that key first (a plugin id is pinned to its publisher).
    admin
        .pin_publisher(&fx.actor, "privat24", &fx.key.public().key_id())
        .await
        .expect("hand privat24 to the tests' key");
    let manifest =
        with_extra_origins(MANIFEST, std::slice::from_ref(&bank_origin)).expect("origin");
    let wasm = std::fs::read(PRIVAT24).expect("connector built");
    let zip = write_package(&manifest, &wasm, Some(README), None, Some(&fx.key)).expect("pack");
    admin
        .upload(&fx.actor, &zip)
        .await
        .expect("upload the 2.0 build");
    admin
        .upgrade(&fx.actor, "privat24", None, false)
        .await
        .expect("upgrade");
    assert_eq!(
        fx.installed_version("privat24").await.as_deref(),
        Some("1.2.2")
    );
    assert_running(&fx, "1.2.2", ContractVersion::V2).await;
    // It keys lines by REF#REFN and names the 1.0 key: nothing doubles.
    sync_one_more(
        &fx,
        &scheduler,
        &bank,
        now + 2 * day,
        "Після оновлення",
        key_now,
    )
    .await;

    // Back to the 1.0 package, which the 1.0 release key signed: the admin
    // hands the plugin back to that key first.
    let v1_key = admin
        .publishers()
        .await
        .expect("publishers")
        .into_iter()
        .find(|p| p.name == "h2h 1.0 release")
        .expect("the 1.0 publisher")
        .key_id;
    admin
        .pin_publisher(&fx.actor, "privat24", &v1_key)
        .await
        .expect("hand privat24 back");
    let v1 = Some("1.0.0".parse().expect("version"));
    admin
        .upgrade(&fx.actor, "privat24", v1, true)
        .await
        .expect("roll back");
    assert_running(&fx, "1.0.0", ContractVersion::V1).await;
    // 1.0 keys by ID again, and knows no former keys: still nothing doubles.
    sync_one_more(
        &fx,
        &scheduler,
        &bank,
        now + 3 * day,
        "Після відкату",
        key_1_0,
    )
    .await;

    bank.stop().await;
    fx.finish().await;
}

on_both_databases!(privat24_1_0_package_upgrades_and_rolls_back);
