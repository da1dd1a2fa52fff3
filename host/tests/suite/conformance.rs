//! The conformance suite proven on connectors: every shipped connector
//! passes it against its simulator (Privat24 in the runtime and through
//! `h2h plugin conform`; PKO BP and mBank through a host with a session
//! opened by a smart card; Mellon WebECR's terminal checks), and a
//! connector that moves its lines between ranges and accepts any account
//! (the test plugin well-behaved) fails exactly those checks.

use std::sync::Arc;

use chrono::{Days, NaiveDate, Utc};
use h2h_host::capabilities::Grants;
use h2h_host::capabilities::http::{AllowedOrigin, HttpGrant};
use h2h_host::dev::conformance::{
    self, BankCase, BatchCase, Expected, Outcome, Report, TerminalCase,
};
use h2h_host::kv::MemoryKv;
use h2h_host::runtime::model::Money;
use h2h_host::runtime::model::pos::{IntentRequest, IntentResult};
use h2h_host::runtime::{CallContext, Plugin, Runtime, RuntimeConfig};
use h2h_privat24_sim::data::ua_iban;
use h2h_privat24_sim::{Merchant, NewTransaction, Running, Simulator};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::admin::Fixture;
use crate::served::Served;
use crate::softhsm::{self, PIN, RSA_ID};

use crate::privat24_e2e::{IBAN, MERCHANT, TOKEN, money};

async fn privat24_bank(today: NaiveDate) -> Running {
    let sim = Simulator::builder()
        .merchant(Merchant::new(MERCHANT, TOKEN, IBAN, "UAH"))
        .seed(21)
        .days(10)
        .today(today)
        .build()
        .expect("simulator");
    let bank = sim.handle();
    bank.add_transaction(
        MERCHANT,
        NewTransaction::credit(money("1500.00"), today - Days::new(2), "Оплата FV/1"),
    )
    .expect("a payment");
    sim.start("127.0.0.1:0").await.expect("bank serving")
}

fn load(id: &str, wasm: &str, origin: &str) -> Plugin {
    let http = HttpGrant::new(vec![AllowedOrigin::parse(origin).expect("origin")])
        .with_private_host(origin.trim_start_matches("http://"))
        .expect("loopback");
    Runtime::new(RuntimeConfig::default(), Arc::new(MemoryKv::default()))
        .expect("runtime")
        .load(
            id,
            &std::fs::read(wasm).expect("plugin built"),
            Grants {
                http,
                ..Grants::default()
            },
        )
        .expect("loads")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privat24_passes_against_its_simulator() {
    let today = Utc::now().date_naive();
    let running = privat24_bank(today).await;
    let origin = running.url();
    let plugin = load("privat24", h2h_test_plugins::PRIVAT24, &origin);
    let mut ctx = CallContext {
        company_id: Some("acme".to_owned()),
        ..CallContext::default()
    };
    ctx.settings.insert("api-url".to_owned(), origin.clone());
    ctx.secrets
        .insert("token".to_owned(), secrecy::SecretString::from(TOKEN));
    let case = BankCase {
        account: IBAN.to_owned(),
        from: today - Days::new(9),
        to: today,
        batch: Some(BatchCase {
            to_account: ua_iban("305299", "26002000000002"),
            to_name: "ТОВ Постачальник".to_owned(),
            to_tax_id: Some("12345678".to_owned()),
            amount: Money {
                amount: "1.00".to_owned(),
                currency: "UAH".to_owned(),
            },
            editable_in_bank: false,
            signing_key: None,
        }),
    };
    let report = conformance::bank(&plugin, &ctx, &case).await;
    all_passed(&report, &BANK_CHECKS);
    let payments = running.handle.payments(MERCHANT).expect("payments");
    assert_eq!(payments.len(), 1, "one payment for one key: {payments:?}");

    // The same through the CLI, on the package as a publisher ships it.
    let dir = tempfile::tempdir().expect("dir");
    let zip = crate::scaffold::unsigned_privat24(dir.path());
    let (from, to) = (case.from.to_string(), case.to.to_string());
    let args = [
        "plugin".to_owned(),
        "conform".to_owned(),
        zip.to_string_lossy().into_owned(),
        "--account".to_owned(),
        IBAN.to_owned(),
        "--from".to_owned(),
        from,
        "--to".to_owned(),
        to,
        "--setting".to_owned(),
        format!("api-url={origin}"),
        "--secret".to_owned(),
        format!("token={TOKEN}"),
        "--allow-origin".to_owned(),
        origin.clone(),
        "--allow-private".to_owned(),
        origin.trim_start_matches("http://").to_owned(),
        "--json".to_owned(),
        "--data-dir".to_owned(),
        dir.path().join("data").to_string_lossy().into_owned(),
    ];
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_h2h"))
            .args(&args)
            .output()
            .expect("h2h runs")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("a JSON report");
    assert_eq!(
        json["checks"].as_array().expect("checks").len(),
        8,
        "{json}"
    );
    assert_eq!(json["checks"][0]["outcome"], "passed", "{json}");
    assert_eq!(json["checks"][5]["name"], "one-batch-per-key", "{json}");
    assert_eq!(json["checks"][5]["outcome"], "skipped", "{json}");
}

/// well-behaved books its two lines on the first and last day of whatever
/// range it is asked, for any account: the suite says so, and passes what
/// it does right.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_that_moves_lines_between_ranges_fails() {
    let plugin = load(
        "well-behaved",
        h2h_test_plugins::WELL_BEHAVED,
        "http://127.0.0.1:9",
    );
    let mut ctx = CallContext {
        company_id: Some("acme".to_owned()),
        ..CallContext::default()
    };
    ctx.settings
        .insert("context-id".to_owned(), "CTX-001".to_owned());
    let to = NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
    let case = BankCase {
        account: "PL61109010140000071219812874".to_owned(),
        from: to - Days::new(10),
        to,
        batch: None,
    };
    let report = conformance::bank(&plugin, &ctx, &case).await;
    assert_eq!(
        report.failed(),
        ["overlapping-ranges-agree", "unknown-account-is-permanent"],
        "{report:#?}"
    );
    let overlap = report
        .checks
        .iter()
        .find(|c| c.name == "overlapping-ranges-agree")
        .expect("check");
    match &overlap.outcome {
        Outcome::Failed(why) => assert_eq!(why, "ref-1 (2026-11-25) is in the later range only"),
        other => panic!("{other:?}"),
    }
}

/// The bank checks, in the order they run.
const BANK_CHECKS: [&str; 8] = [
    "paging-ends",
    "lines-are-storable",
    "no-line-twice",
    "overlapping-ranges-agree",
    "balance",
    "one-batch-per-key",
    "unknown-account-is-permanent",
    "missing-credentials-are-permanent",
];

/// Every check of `names` ran, in order, and passed (none skipped).
fn all_passed(report: &Report, names: &[&str]) {
    let ran: Vec<&str> = report.checks.iter().map(|c| c.name).collect();
    assert_eq!(ran, names, "{report:#?}");
    assert!(
        report.checks.iter().all(|c| c.outcome == Outcome::Passed),
        "{report:#?}"
    );
}

fn cash(amount: &str, currency: &str) -> Money {
    Money {
        amount: amount.to_owned(),
        currency: currency.to_owned(),
    }
}

/// The shipped Mellon WebECR connector, paired with a simulated terminal
/// whose intents complete in a moment; receipts signed by the e-invoicing
/// provider, as the simulator requires on every sale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mellon_passes_against_its_simulator() {
    let fx = crate::mellon_connector::Fixture::on(
        h2h_webecr_sim::Simulator::builder().approval_time(std::time::Duration::from_millis(300)),
    )
    .await;
    let case = mellon_case(&fx).await;
    let report = conformance::terminal(&fx.plugin, &fx.ctx, &case).await;
    all_passed(
        &report,
        &[
            "terminal-listed",
            "intent-echoes-request",
            "same-reference-starts-once",
            "status-polling-ends",
            "found-by-reference",
            "one-charge-per-reference",
            "documented-results",
            "results-mapped",
            "unknown-intent-is-permanent",
            "wrong-api-key-is-permanent",
        ],
    );
    let charges = fx.sim.charges();
    assert_eq!(charges.len(), 1, "one approved charge: {charges:?}");
    let reference = charges[0].customer_reference.clone().expect("reference");
    assert_eq!(fx.sim.charge_count(&reference), 1);
}

/// A test terminal paired through the connector: 12.40 EUR approved, 9.99
/// declined (WebECR's certification amounts), every receipt signed.
async fn mellon_case(fx: &crate::mellon_connector::Fixture) -> TerminalCase {
    let (api_key, terminal) = fx.pair().await;
    let provider = fx.provider.clone();
    TerminalCase {
        api_key,
        terminal,
        amount: cash("12.40", "EUR"),
        expected: vec![Expected {
            amount: cash("9.99", "EUR"),
            result: IntentResult::Declined,
        }],
        sign: Some(Arc::new(move |request: &IntentRequest| {
            let cents = request.amount.amount.replace('.', "").parse().ok()?;
            let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            Some(crate::mellon_connector::receipt(
                &provider,
                cents,
                &request.reference,
                &now,
            ))
        })),
        poll_every: std::time::Duration::from_millis(100),
        max_wait: std::time::Duration::from_secs(15),
    }
}

/// A provider that approves the amount its documentation says it declines:
/// the suite says so, and passes the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_that_strays_from_its_documented_results_fails() {
    use h2h_webecr_sim::{IntentResult as Sim, Outcome as Planned};
    let fast = std::time::Duration::from_millis(300);
    let fx = crate::mellon_connector::Fixture::on(
        h2h_webecr_sim::Simulator::builder()
            .approval_time(fast)
            .outcome(999, Planned::new(Sim::Approved, fast)),
    )
    .await;
    let case = mellon_case(&fx).await;
    let report = conformance::terminal(&fx.plugin, &fx.ctx, &case).await;
    assert_eq!(report.failed(), ["documented-results"], "{report:#?}");
    assert_eq!(
        report.outcome("documented-results"),
        Some(&Outcome::Failed(
            "9.99 EUR ended Some(Approved), the provider documents Declined".to_owned()
        ))
    );
}

/// A connector installed on a host, with the session ERP user anna opened
/// by `body` (her card and PIN), and the context the host gives its calls.
async fn with_session(
    fx: &Fixture,
    plugin: &str,
    body: Value,
) -> (h2h_host::runtime::Plugin, CallContext) {
    let api = Served::start(fx).await;
    let (status, opened) = api.post("/bank-sessions", "anna", body).await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    assert_eq!(opened["state"], "active", "{opened}");
    let connectors = fx.host.connectors();
    let loaded = connectors.get(plugin).await.expect("installed");
    let ctx =
        h2h_host::sessions::call_context(&connectors, &loaded, &fx.host.db, "acme", Some("anna"))
            .await
            .expect("call context");
    assert!(ctx.session.is_some(), "the session rides along");
    (loaded.plugin.clone(), ctx)
}

/// A batch of one transfer to a made-up supplier, signed with the card the
/// session was opened with.
fn pln_transfer() -> Option<BatchCase> {
    Some(BatchCase {
        to_account: "PL61109010140000071219812874".to_owned(),
        to_name: "Dostawca Sp. z o.o.".to_owned(),
        to_tax_id: None,
        amount: cash("1.00", "PLN"),
        editable_in_bank: false,
        signing_key: None,
    })
}

/// PKO BP Integra through a host: a session by smart card (SoftHSM), then
/// statements as MT940 and a pain.001 batch signed with the card.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pkobp_passes_against_its_simulator() {
    use h2h_pkobp_sim::{DEMO_CONTEXT_ID, Simulator};
    let Some(hsm) = softhsm::softhsm() else {
        return;
    };
    let Some(fx) = Fixture::new(h2h_host::db::testing::TestBackend::Sqlite).await else {
        return;
    };
    let today = Utc::now().date_naive();
    let sim = Simulator::builder()
        .today(today)
        .days(5)
        .seed(11)
        .build()
        .expect("simulator");
    let iban = Simulator::demo_accounts()[0].iban.clone();
    let running = sim.start("127.0.0.1:0").await.expect("bank serving");
    let bank = running.handle.clone();
    crate::pkobp_e2e::set_up(&fx, hsm, &bank, &running.url(), "pko-conform").await;
    let (plugin, ctx) = with_session(
        &fx,
        "pkobp",
        json!({ "company": "acme", "plugin": "pkobp", "bank_user_id": crate::pkobp_e2e::BANK_USER,
                "sign_with": { "key": format!("pko-conform:{RSA_ID}"), "pin": PIN, "save_pin": true } }),
    )
    .await;
    assert_eq!(
        ctx.settings.get("context-id").map(String::as_str),
        Some(DEMO_CONTEXT_ID)
    );
    let case = BankCase {
        account: iban,
        from: today - Days::new(4),
        to: today,
        batch: pln_transfer(),
    };
    let report = conformance::bank(&plugin, &ctx, &case).await;
    all_passed(&report, &BANK_CHECKS);
    assert_eq!(bank.batches().len(), 1, "one batch for one key");

    // The same from the command line, on the installed connector with
    // anna's session, as a developer runs it on a `dev up` host.
    let data_dir = fx.dir.path().to_string_lossy().into_owned();
    let args = [
        "--data-dir",
        &data_dir,
        "--database-url",
        &fx.config.url(),
        "plugin",
        "conform",
        "pkobp",
        "--installed",
        "--company",
        "acme",
        "--user",
        "anna",
        "--account",
        &case.account,
        "--from",
        &case.from.to_string(),
        "--to",
        &case.to.to_string(),
        "--json",
    ];
    let output = h2h(args.map(str::to_owned).to_vec()).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let report: Value = serde_json::from_str(&stdout).expect("a JSON report");
    let outcomes: Vec<(&str, &str)> = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default(),
                c["outcome"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let expected: Vec<(&str, &str)> = BANK_CHECKS
        .iter()
        .map(|&name| {
            let outcome = if name == "one-batch-per-key" {
                "skipped"
            } else {
                "passed"
            };
            (name, outcome)
        })
        .collect();
    assert_eq!(outcomes, expected, "{report}");
}

/// mBank CompanyNet through a host: a long-lived session by qualified
/// signature (SoftHSM), then statements and a signed Elixir-O batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mbank_passes_against_its_simulator() {
    use h2h_mbank_sim::{DEMO_DIK, Simulator};
    let Some(hsm) = softhsm::softhsm() else {
        return;
    };
    let Some(fx) = Fixture::new(h2h_host::db::testing::TestBackend::Sqlite).await else {
        return;
    };
    let today = Utc::now().date_naive();
    let sim = Simulator::builder()
        .today(today)
        .days(5)
        .seed(7)
        .build()
        .expect("simulator");
    let iban = Simulator::demo_accounts()[0].iban.clone();
    let running = sim.start("127.0.0.1:0").await.expect("bank serving");
    let bank = running.handle.clone();
    crate::mbank_e2e::set_up(&fx, hsm, &bank, &running.url(), "mbank-conform").await;
    let (plugin, ctx) = with_session(
        &fx,
        "mbank",
        json!({ "company": "acme", "plugin": "mbank", "bank_user_id": crate::mbank_e2e::BANK_USER,
                "company_ids": [DEMO_DIK],
                "sign_with": { "key": format!("mbank-conform:{RSA_ID}"), "pin": PIN, "save_pin": true } }),
    )
    .await;
    let case = BankCase {
        account: iban,
        from: today - Days::new(4),
        to: today,
        batch: pln_transfer(),
    };
    let report = conformance::bank(&plugin, &ctx, &case).await;
    all_passed(&report, &BANK_CHECKS);
    assert_eq!(bank.batches().len(), 1, "one batch for one key");
}

/// `h2h plugin conform` on the Mellon package: a terminal connector's
/// checks, run from the command line against a simulator that takes sales
/// without e-invoicing data (as its demo mode does); without a device's key
/// it says what it needs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_conform_runs_the_terminal_checks() {
    let fx = crate::mellon_connector::Fixture::on(
        h2h_webecr_sim::Simulator::builder()
            .approval_time(std::time::Duration::from_millis(300))
            .require_provider_data(false),
    )
    .await;
    let (api_key, terminal) = fx.pair().await;
    let dir = tempfile::tempdir().expect("dir");
    let zip = crate::scaffold::unsigned_package(
        dir.path(),
        "mellon",
        include_str!("../../../plugins/mellon/h2h.toml"),
        h2h_test_plugins::MELLON,
    );
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, fx.sim.ca_pem()).expect("ca");
    let url = fx.ctx.settings["base-url"].clone();
    let mut args: Vec<String> = [
        "plugin",
        "conform",
        &zip.to_string_lossy(),
        "--setting",
        &format!("base-url={url}"),
        "--setting",
        "username=shop",
        "--secret",
        "password=test-password-not-secret",
        "--allow-origin",
        &url,
        "--allow-private",
        url.trim_start_matches("https://"),
        "--extra-ca",
        &ca.to_string_lossy(),
        "--json",
    ]
    .map(str::to_owned)
    .to_vec();
    let refused = h2h(args.clone()).await;
    assert!(!refused.status.success());
    let error: Value = serde_json::from_slice(&refused.stdout).expect("a JSON error");
    assert_eq!(
        error["error"]["message"],
        "mellon is a card-terminal connector: give --api-key and --terminal",
        "{error}"
    );

    args.extend(
        [
            "--api-key",
            &api_key,
            "--terminal",
            &terminal,
            "--currency",
            "EUR",
            "--expect",
            "9.99=declined",
            "--poll-every",
            "0.1",
            "--max-wait",
            "15",
        ]
        .map(str::to_owned),
    );
    let output = h2h(args).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let report: Value = serde_json::from_str(&stdout).expect("a JSON report");
    let checks = report["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 10, "{report}");
    assert!(checks.iter().all(|c| c["outcome"] == "passed"), "{report}");
    assert_eq!(fx.sim.charges().len(), 1);
}

async fn h2h(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_h2h"))
            .args(&args)
            .output()
            .expect("h2h runs")
    })
    .await
    .expect("join")
}
