//! The conformance suite proven on connectors: the shipped Privat24
//! connector passes it against its simulator (in the runtime, and through
//! `h2h plugin conform`), and a connector that moves its lines between
//! ranges and accepts any account (the test plugin well-behaved) fails
//! exactly those checks.

use std::sync::Arc;

use chrono::{Days, NaiveDate, Utc};
use h2h_host::capabilities::Grants;
use h2h_host::capabilities::http::{AllowedOrigin, HttpGrant};
use h2h_host::dev::conformance::{self, BankCase, Outcome};
use h2h_host::kv::MemoryKv;
use h2h_host::runtime::{CallContext, Plugin, Runtime, RuntimeConfig};
use h2h_privat24_sim::{Merchant, NewTransaction, Running, Simulator};

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
    };
    let report = conformance::bank(&plugin, &ctx, &case).await;
    assert!(report.passed(), "{report:#?}");
    let names: Vec<&str> = report.checks.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "paging-ends",
            "lines-are-storable",
            "no-line-twice",
            "overlapping-ranges-agree",
            "balance",
            "unknown-account-is-permanent",
            "missing-credentials-are-permanent",
        ]
    );
    assert!(
        report.checks.iter().all(|c| c.outcome == Outcome::Passed),
        "{report:#?}"
    );

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
        7,
        "{json}"
    );
    assert_eq!(json["checks"][0]["outcome"], "passed", "{json}");
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
