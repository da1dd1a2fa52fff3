//! Card terminals on both databases, through the ERP API with the Mellon
//! WebECR connector against the simulated service: pairing by the code a
//! terminal shows (the device's key sealed, never answered), a used code
//! refused, the license's terminal cap enforced before a code is spent,
//! unpairing freeing a place, a replacing device keeping the terminal's id,
//! and permissions and companies checked.

use crate::admin::Fixture;
use crate::served::Served;
use h2h_host::db::testing::TestBackend;
use h2h_host::packages::pack::{with_extra_origins, write_package};
use h2h_host::runtime::model::Money;
use h2h_host::runtime::model::pos::{EInvoicing, IntentKind, IntentRequest};
use h2h_license::Limits;
use h2h_webecr_sim::{ProviderInput, ProviderKey, SimHandle, Simulator, TerminalSpec};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PLUGIN: &str = "mellon";
const MANIFEST: &str = include_str!("../../../plugins/mellon/h2h.toml");
const README: &str = include_str!("../../../plugins/mellon/README.md");
const USER: &str = "shop";
const PASSWORD: &str = "test-password-not-secret";
const MID: &str = "000000012345";

/// Mellon installed with a license for two terminals; company `acme` with
/// the service's account; `anna` may pair, `bob` only reads acme, `carl`
/// works for globex.
async fn set_up(fx: &Fixture, url: &str, ca_pem: &str) {
    set_up_with(fx, MANIFEST, url, ca_pem).await;
}

/// [`set_up`] with the connector packed with `manifest`.
async fn set_up_with(fx: &Fixture, manifest: &str, url: &str, ca_pem: &str) {
    let admin = &fx.host.admin;
    let manifest = with_extra_origins(manifest, &[url.to_owned()]).expect("origin");
    let wasm = std::fs::read(h2h_test_plugins::MELLON).expect("connector built");
    let zip = write_package(&manifest, &wasm, Some(README), None, Some(&fx.key)).expect("pack");
    admin.upload(&fx.actor, &zip).await.expect("upload");
    let installation = admin.installation_id().await.expect("id");
    let license = fx.license_with(
        &installation,
        PLUGIN,
        "*",
        1,
        365,
        Limits {
            max_terminals: Some(2),
            ..Limits::default()
        },
    );
    admin
        .add_license(&fx.actor, &license)
        .await
        .expect("license");
    admin
        .install(&fx.actor, PLUGIN, None)
        .await
        .expect("install");
    fx.company("acme").await;
    fx.company("globex").await;
    for (name, value) in [
        ("base-url", url),
        ("username", USER),
        ("password", PASSWORD),
    ] {
        admin
            .set_setting(&fx.actor, "acme", PLUGIN, name, value)
            .await
            .expect("setting");
    }
    admin
        .allow_private_host(&fx.actor, PLUGIN, url.trim_start_matches("https://"), true)
        .await
        .expect("loopback grant");
    admin
        .set_extra_ca(&fx.actor, PLUGIN, Some(ca_pem))
        .await
        .expect("the service's CA");
    // The served host's own refresh stays out of the way: the tests run it
    // themselves.
    admin
        .pause_task(&fx.actor, PLUGIN, "card-payment-refresh", true)
        .await
        .expect("pause");
    for (user, company) in [("anna", "acme"), ("bob", "acme"), ("carl", "globex")] {
        admin
            .add_erp_user(&fx.actor, user, user, None)
            .await
            .expect("user");
        admin
            .grant_company(&fx.actor, user, company, false)
            .await
            .expect("company");
    }
    for user in ["anna", "carl"] {
        admin
            .grant_permission(&fx.actor, user, PLUGIN, "pos-terminals")
            .await
            .expect("permission");
    }
}

fn code(sim: &SimHandle, tid: &str) -> String {
    sim.issue_pairing_code(USER, TerminalSpec::new(tid, MID))
        .expect("pairing code")
        .code
}

async fn pair(api: &Served, user: &str, code: &str) -> (StatusCode, Value) {
    pair_replacing(api, user, code, None).await
}

async fn pair_replacing(
    api: &Served,
    user: &str,
    code: &str,
    replaces: Option<i64>,
) -> (StatusCode, Value) {
    api.post(
        "/terminals/pair",
        user,
        json!({ "company": "acme", "plugin": PLUGIN, "code": code, "payment_method": "card",
                "replaces": replaces }),
    )
    .await
}

async fn keys(fx: &Fixture) -> usize {
    sqlx::query("SELECT 1 FROM vault_entries WHERE kind = 'terminal-key'")
        .fetch_all(fx.host.db.pool())
        .await
        .expect("vault")
        .len()
}

async fn terminals_are_paired_within_the_license_cap(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let sim = Simulator::builder()
        .account(USER, PASSWORD)
        .build()
        .expect("simulator");
    let running = sim.start("127.0.0.1:0").await.expect("serving");
    let bank = running.handle.clone();
    set_up(&fx, &running.url(), &bank.ca_pem()).await;
    let api = Served::start(&fx).await;

    // Paired: the terminal's data, no key in the answer, the key sealed.
    let first = code(&bank, "10000001");
    let (status, paired) = pair(&api, "anna", &first).await;
    assert_eq!(status, StatusCode::CREATED, "{paired}");
    let terminal = &paired[0];
    assert_eq!(terminal["terminal_id"], "10000001");
    assert_eq!(terminal["merchant_id"], MID);
    assert_eq!(terminal["payment_method"], "card");
    assert_eq!(terminal["paired_by"], "anna");
    assert_eq!(terminal["unpaired_at"], Value::Null);
    let keys_issued: Vec<String> = bank
        .requests()
        .iter()
        .filter_map(|r| r.api_key.clone())
        .collect();
    for key in &keys_issued {
        assert!(
            !paired.to_string().contains(key.as_str()),
            "the key is never answered"
        );
    }
    assert_eq!(keys(&fx).await, 1);
    let first_id = terminal["id"].as_i64().expect("id");

    // A code works once.
    let (status, body) = pair(&api, "anna", &first).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "rejected");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("code_already_redeemed")),
        "{body}"
    );

    // Permissions and companies.
    let (status, body) = pair(&api, "bob", &code(&bank, "10000009")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = api
        .erp(
            Method::DELETE,
            &format!("/terminals/{first_id}"),
            Some("carl"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["message"],
        format!("ERP user `carl` may not see terminal {first_id}")
    );

    // The cap: two terminals; the third is refused before its code is used.
    let (status, second) = pair(&api, "anna", &code(&bank, "10000002")).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let third = code(&bank, "10000003");
    let (status, body) = pair(&api, "anna", &third).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "terminal_cap_reached");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("allows 2 paired terminal(s)")),
        "{body}"
    );

    // Unpairing frees a place; the same code now pairs.
    let (status, unpaired) = api
        .erp(
            Method::DELETE,
            &format!("/terminals/{first_id}"),
            Some("anna"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{unpaired}");
    assert!(unpaired["unpaired_at"].is_string(), "{unpaired}");
    assert_eq!(keys(&fx).await, 1, "the unpaired device's key is forgotten");
    let (status, body) = pair(&api, "anna", &third).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // At the cap, a new device for the second place replaces it: the
    // terminal keeps its id (and its payments), the old key is forgotten.
    let second_id = second[0]["id"].as_i64().expect("id");
    let (status, body) = pair(&api, "anna", &code(&bank, "10000004")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, again) =
        pair_replacing(&api, "anna", &code(&bank, "10000004"), Some(second_id)).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(
        again[0]["id"].as_i64(),
        Some(second_id),
        "the terminal keeps its id"
    );
    assert_eq!(again[0]["terminal_id"], "10000004");
    assert_eq!(keys(&fx).await, 2, "the replaced key is forgotten");
    let (status, body) =
        pair_replacing(&api, "anna", &code(&bank, "10000005"), Some(first_id)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("terminal_unpaired")),
        "an unpaired terminal is not replaced: {body}"
    );

    let (status, listed) = api.get("/terminals?company=acme", "bob").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let states: Vec<(String, bool)> = listed
        .as_array()
        .expect("list")
        .iter()
        .map(|t| {
            (
                t["terminal_id"].as_str().unwrap_or_default().to_owned(),
                t["unpaired_at"].is_null(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("10000001".to_owned(), false),
            ("10000004".to_owned(), true),
            ("10000003".to_owned(), true),
        ]
    );

    // A bank connector named for a terminal: the caller's mistake (422),
    // not a plugin failure (502).
    fx.install_with(
        "well-behaved",
        &crate::admin::manifest(
            "well-behaved",
            "1.0.0",
            "[capabilities]\nhttp = [\"https://bank.example\"]\nsigning = true\n",
        ),
        h2h_test_plugins::WELL_BEHAVED,
    )
    .await;
    // The serving gate sees the install's service mode end within its poll.
    let mut answer = (StatusCode::SERVICE_UNAVAILABLE, Value::Null);
    for _ in 0..100 {
        answer = api
            .post(
                "/terminals/pair",
                "anna",
                json!({ "company": "acme", "plugin": "well-behaved", "code": "12345678" }),
            )
            .await;
        if answer.0 != StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (status, body) = answer;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "wrong_world");
    api.stop().await;
    bank.stop().await;
    fx.finish().await;
}

on_both_databases!(terminals_are_paired_within_the_license_cap);

/// The service on today's clock, taking sales without the provider's
/// signed data.
fn payment_service() -> Simulator {
    Simulator::builder()
        .account(USER, PASSWORD)
        .start_time(chrono::Utc::now())
        .require_provider_data(false)
        .build()
        .expect("simulator")
}

async fn start(
    api: &Served,
    user: &str,
    terminal: i64,
    amount: &str,
    reference: &str,
) -> (StatusCode, Value) {
    api.post(
        "/card-payments",
        user,
        json!({ "company": "acme", "terminal": terminal, "amount": amount, "currency": "EUR",
                "reference": reference }),
    )
    .await
}

async fn void(api: &Served, id: &Value) -> (StatusCode, Value) {
    api.post(&format!("/card-payments/{id}/void"), "anna", json!({}))
        .await
}

async fn refreshed(api: &Served, id: &Value) -> Value {
    let (status, body) = api
        .post(&format!("/card-payments/{id}/refresh"), "anna", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn card_payments_never_charge_twice(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let sim = payment_service();
    let running = sim.start("127.0.0.1:0").await.expect("serving");
    let bank = running.handle.clone();
    set_up(&fx, &running.url(), &bank.ca_pem()).await;
    fx.host
        .admin
        .grant_permission(&fx.actor, "anna", PLUGIN, "pos-payments")
        .await
        .expect("permission");
    let api = Served::start(&fx).await;
    let (status, paired) = pair(&api, "anna", &code(&bank, "20000001")).await;
    assert_eq!(status, StatusCode::CREATED, "{paired}");
    let terminal = paired[0]["id"].as_i64().expect("id");

    // Refused before the provider: a bad amount; a user without the
    // permission (money moves).
    let (status, body) = start(&api, "anna", terminal, "1.001", "R-0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = start(&api, "bob", terminal, "12.40", "R-0").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // A sale: started, then approved as the device reports.
    let (status, sale) = start(&api, "anna", terminal, "12.40", "R-1").await;
    assert_eq!(status, StatusCode::CREATED, "{sale}");
    assert_eq!(sale["state"], "open", "{sale}");
    bank.advance_clock(std::time::Duration::from_secs(10));
    let done = refreshed(&api, &sale["id"]).await;
    assert_eq!(
        (
            done["state"].as_str(),
            done["result"].as_str(),
            done["result_code"].as_i64()
        ),
        (Some("completed"), Some("approved"), Some(1)),
        "{done}"
    );
    assert!(done["payment"]["rrn"].is_string(), "{done}");
    // The same reference again: the same payment, no second charge.
    let (status, again) = start(&api, "anna", terminal, "12.40", "R-1").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["id"], sale["id"]);
    assert_eq!(bank.charge_count("R-1"), 1);
    // ... and another payment under it is refused.
    let (status, body) = start(&api, "anna", terminal, "99.00", "R-1").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("reference_taken")),
        "{body}"
    );

    // Nobody asks: the host's refresh task brings the result.
    let (_, quiet) = start(&api, "anna", terminal, "7.00", "R-Q").await;
    assert_eq!(quiet["state"], "open", "{quiet}");
    bank.advance_clock(std::time::Duration::from_secs(10));
    let run = fx
        .scheduler("test")
        .run_now(PLUGIN, "card-payment-refresh", Some("acme"), None)
        .await
        .expect("refresh task");
    assert_eq!(run.error, None, "{run:?}");
    let (_, quiet) = api
        .get(&format!("/card-payments/{}", quiet["id"]), "anna")
        .await;
    assert_eq!(quiet["result"], "approved", "{quiet}");
    // From one listing of the terminal's period, not a call per payment.
    let (_, exchanges) = api
        .get(&format!("/card-payments/{}/exchanges", quiet["id"]), "anna")
        .await;
    let calls: Vec<&str> = exchanges
        .as_array()
        .expect("exchanges")
        .iter()
        .filter_map(|e| e["call"].as_str())
        .collect();
    assert_eq!(
        calls,
        ["pos.start-intent", "pos.list-intents"],
        "{exchanges}"
    );

    // 9.99 is declined by the card's bank: completed, declined, no charge,
    // nothing to void.
    let (_, declined) = start(&api, "anna", terminal, "9.99", "R-2").await;
    bank.advance_clock(std::time::Duration::from_secs(10));
    let declined = refreshed(&api, &declined["id"]).await;
    assert_eq!(declined["result"], "declined", "{declined}");
    let (status, body) = api
        .post(
            &format!("/card-payments/{}/void", declined["id"]),
            "anna",
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_voidable")),
        "{body}"
    );

    // A void: pending until the provider confirms, then voided.
    let (status, pending) = void(&api, &sale["id"]).await;
    assert_eq!(status, StatusCode::OK, "{pending}");
    assert_eq!(pending["void_state"], "pending", "{pending}");
    assert_eq!(
        pending["result"], "approved",
        "the sale stands until confirmed"
    );
    bank.advance_clock(std::time::Duration::from_secs(10));
    let (_, voided) = void(&api, &sale["id"]).await;
    assert_eq!(voided["void_state"], "voided", "{voided}");
    let (status, body) = void(&api, &sale["id"]).await;
    assert_eq!(
        (status, body["void_state"].as_str()),
        (StatusCode::OK, Some("voided"))
    );

    // 13.13 loses the connection during approval: the start's answer never
    // comes, the payment is `unknown` and found by its reference, never
    // started again; exactly one charge.
    let (status, lost) = start(&api, "anna", terminal, "13.13", "R-3").await;
    assert_eq!(status, StatusCode::CREATED, "{lost}");
    assert_ne!(lost["state"], "refused", "{lost}");
    bank.advance_clock(std::time::Duration::from_secs(10));
    let found = refreshed(&api, &lost["id"]).await;
    assert_eq!(
        (found["state"].as_str(), found["result"].as_str()),
        (Some("completed"), Some("approved")),
        "{found}"
    );
    let (status, again) = start(&api, "anna", terminal, "13.13", "R-3").await;
    assert_eq!((status, &again["id"]), (StatusCode::OK, &lost["id"]));
    assert_eq!(bank.charge_count("R-3"), 1, "one charge, whatever happened");

    // A refund of the approved 13.13 sale, linked by its payment; not of
    // the declined one.
    let refund = |original: &Value, amount: &str, reference: &str| {
        json!({ "company": "acme", "terminal": terminal, "amount": amount, "currency": "EUR",
                "reference": reference, "kind": "refund", "original": original })
    };
    let (status, body) = api
        .post(
            "/card-payments",
            "anna",
            refund(&declined["id"], "1.00", "RF-0"),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_refundable")),
        "{body}"
    );
    let (status, back) = api
        .post(
            "/card-payments",
            "anna",
            refund(&lost["id"], "3.13", "RF-1"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{back}");
    assert_eq!(back["kind"], "refund");
    assert_eq!(back["original"], lost["id"]);
    bank.advance_clock(std::time::Duration::from_secs(10));
    let back = refreshed(&api, &back["id"]).await;
    assert_eq!(back["result"], "approved", "{back}");

    // The company's payments, a page at a time; none for another company.
    let (status, page) = api
        .get(
            &format!("/card-payments?company=acme&terminal={terminal}&limit=2"),
            "bob",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let references: Vec<&str> = page
        .as_array()
        .expect("list")
        .iter()
        .map(|p| p["reference"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(references, ["R-1", "R-Q"]);
    let next = page[1]["id"].as_i64().expect("cursor");
    let (_, rest) = api
        .get(&format!("/card-payments?company=acme&after={next}"), "bob")
        .await;
    assert_eq!(rest.as_array().map(Vec::len), Some(3), "{rest}");
    let (status, _) = api.get("/card-payments?company=acme", "carl").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Every answer is kept, readable by the ERP.
    let (status, exchanges) = api
        .get(&format!("/card-payments/{}/exchanges", lost["id"]), "bob")
        .await;
    assert_eq!(status, StatusCode::OK, "{exchanges}");
    let calls: Vec<&str> = exchanges
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["call"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(calls.first(), Some(&"pos.start-intent"), "{exchanges}");
    assert!(calls.contains(&"pos.find-intent"), "{exchanges}");
    let last = exchanges
        .as_array()
        .and_then(|e| e.last())
        .expect("an exchange");
    assert_eq!(last["outcome"], "ok");
    assert!(
        last["body"].as_str().is_some_and(|b| b.contains("R-3")),
        "{last}"
    );
    let completed =
        sqlx::query("SELECT COUNT(*) AS n FROM events WHERE kind = 'card_intent.completed'")
            .fetch_one(fx.host.db.pool())
            .await
            .expect("events");
    assert_eq!(sqlx::Row::get::<i64, _>(&completed, "n"), 5);
    let voided = sqlx::query("SELECT COUNT(*) AS n FROM events WHERE kind = 'card_intent.voided'")
        .fetch_one(fx.host.db.pool())
        .await
        .expect("events");
    assert_eq!(sqlx::Row::get::<i64, _>(&voided, "n"), 1);
    assert!(
        bank.charges()
            .iter()
            .any(|c| c.customer_reference.as_deref() == Some("R-1") && c.voided),
        "the provider voided the charge"
    );

    // The console shows the terminal, the payments with their results and
    // the provider's answers, and the feed.
    let mut browser = crate::console::Browser::new(&api);
    browser.sign_in(&api.admin_key).await;
    let page = browser.get("/console/terminals?company=acme").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(&format!("<tr data-terminal=\"{terminal}\"")),
        "{}",
        page.body
    );
    let stored = sqlx::query("SELECT COUNT(*) AS n FROM card_intents WHERE company_id = 'acme'")
        .fetch_one(fx.host.db.pool())
        .await
        .expect("intents");
    let stored = usize::try_from(sqlx::Row::get::<i64, _>(&stored, "n")).expect("count");
    assert!(stored >= 5);
    let payments = page.body.matches("<tr data-intent=").count();
    assert_eq!(payments, stored, "{}", page.body);
    assert!(page.body.contains("<details>"), "the provider's answers");
    let page = browser.get("/console/events?company=acme").await;
    assert_eq!(
        page.body
            .matches("<code>card_intent.completed</code>")
            .count(),
        5,
        "{}",
        page.body
    );
    api.stop().await;
    bank.stop().await;
    fx.finish().await;
}

on_both_databases!(card_payments_never_charge_twice);

/// A terminal connector that declares no permission guarding
/// `card-payments`: terminals pair, but nobody may charge, refund or void
/// through it (money never moves by default).
async fn card_payments_need_a_declared_permission(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let guard = "[[permissions]]\nname = \"pos-payments\"\n\
                 description = \"Start sales and refunds on the company's terminals, and void them\"\n\
                 operations = [\"card-payments\"]\n";
    assert!(
        MANIFEST.contains(guard),
        "the shipped manifest guards card payments"
    );
    let unguarded = MANIFEST.replace(guard, "");
    let sim = payment_service();
    let running = sim.start("127.0.0.1:0").await.expect("serving");
    let bank = running.handle.clone();
    set_up_with(&fx, &unguarded, &running.url(), &bank.ca_pem()).await;
    let api = Served::start(&fx).await;
    let (status, paired) = pair(&api, "anna", &code(&bank, "20000009")).await;
    assert_eq!(status, StatusCode::CREATED, "{paired}");
    let terminal = paired[0]["id"].as_i64().expect("id");

    let (status, body) = start(&api, "anna", terminal, "12.40", "R-1").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "forbidden");
    assert_eq!(
        body["message"],
        "mellon declares no permission guarding `card-payments`, and money moves only with a \
         permission an admin grants: no ERP user may do it through mellon"
    );
    let (_, listed) = api.get("/card-payments?company=acme", "anna").await;
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");
    api.stop().await;
    bank.stop().await;
    fx.finish().await;
}

on_both_databases!(card_payments_need_a_declared_permission);

/// The Greek e-invoicing provider's data goes with the sale: the provider
/// checks its ECDSA signature; a sale whose data verifies is approved, a
/// forged one is refused with the provider's code, charges nothing, and
/// its answer is kept.
async fn card_payments_carry_the_providers_signature(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let sim = Simulator::builder()
        .account(USER, PASSWORD)
        .start_time(chrono::Utc::now())
        .build()
        .expect("simulator");
    let running = sim.start("127.0.0.1:0").await.expect("serving");
    let bank = running.handle.clone();
    let provider = ProviderKey::generate();
    bank.register_provider("PROV-1", provider.verifying_key());
    set_up(&fx, &running.url(), &bank.ca_pem()).await;
    fx.host
        .admin
        .grant_permission(&fx.actor, "anna", PLUGIN, "pos-payments")
        .await
        .expect("permission");
    let api = Served::start(&fx).await;
    let (status, paired) = pair(&api, "anna", &code(&bank, "20000001")).await;
    assert_eq!(status, StatusCode::CREATED, "{paired}");
    let terminal = paired[0]["id"].as_i64().expect("id");
    let signed = |reference: &str, key: &ProviderKey| {
        let input = ProviderInput {
            uid: format!("UID-{reference}"),
            mark: "400001234567".into(),
            timestamp: chrono::Utc::now().to_rfc3339(),
            amount: 1240,
            net: 1000,
            vat: 240,
            total: 1240,
            tid: "20000001".into(),
        };
        let data = provider.provider_data("PROV-1", &input);
        let text = data["Input"].as_str().expect("input").to_owned();
        json!({ "provider_id": "PROV-1", "input": text, "signature": key.sign(&text) })
    };
    let sale = |reference: &str, e_invoicing: Value| {
        json!({ "company": "acme", "terminal": terminal, "amount": "12.40",
                "currency": "EUR", "reference": reference, "e_invoicing": e_invoicing })
    };

    let (status, good) = api
        .post(
            "/card-payments",
            "anna",
            sale("E-1", signed("E-1", &provider)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{good}");
    bank.advance_clock(std::time::Duration::from_secs(10));
    let done = refreshed(&api, &good["id"]).await;
    assert_eq!(done["result"], "approved", "{done}");

    let forger = ProviderKey::generate();
    let (status, forged) = api
        .post(
            "/card-payments",
            "anna",
            sale("E-2", signed("E-2", &forger)),
        )
        .await;
    // Kept, as every refusal is: refused with the provider's reason.
    assert_eq!(status, StatusCode::CREATED, "{forged}");
    assert_eq!(forged["state"], "refused", "{forged}");
    assert!(
        forged["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("invalid_provider_signature")),
        "{forged}"
    );
    assert_eq!(bank.charge_count("E-2"), 0);
    let (_, listed) = api.get("/card-payments?company=acme", "anna").await;
    let kept = listed
        .as_array()
        .and_then(|all| all.iter().find(|p| p["reference"] == "E-2").cloned())
        .expect("the refused sale is listed");
    assert_eq!(kept["state"], "refused", "{kept}");
    let refusals: Vec<String> =
        sqlx::query("SELECT payload FROM events WHERE kind = 'card_intent.refused'")
            .fetch_all(fx.host.db.pool())
            .await
            .expect("events")
            .iter()
            .map(|r| sqlx::Row::get::<String, _>(r, "payload"))
            .collect();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert!(refusals[0].contains("E-2") && refusals[0].contains("invalid_provider_signature"));

    // The provider's payments of a period on the terminal: one the host
    // started and has not asked about since is brought up to date from the
    // list; one started past the host (at the device, by another system)
    // is listed as unknown.
    let (status, quiet) = api
        .post(
            "/card-payments",
            "anna",
            sale("E-3", signed("E-3", &provider)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{quiet}");
    let paired_terminal = fx.host.terminals().get(terminal).await.expect("terminal");
    let key = fx
        .host
        .terminals()
        .api_key(&paired_terminal)
        .await
        .expect("key");
    let connectors = fx.host.connectors();
    let loaded = connectors.get(PLUGIN).await.expect("mellon");
    let ctx = crate::common::call_context(&fx.host, "acme", PLUGIN, None).await;
    let elsewhere = IntentRequest {
        terminal: paired_terminal.provider_id.clone(),
        kind: IntentKind::Sale,
        amount: Money {
            amount: "12.40".into(),
            currency: "EUR".into(),
        },
        tip: None,
        reference: "AT-THE-DEVICE".into(),
        instalments: None,
        original: None,
        e_invoicing: serde_json::from_value::<EInvoicingWire>(signed("X-1", &provider))
            .ok()
            .map(Into::into),
    };
    loaded
        .plugin
        .start_intent(ctx, secrecy::ExposeSecret::expose_secret(&key), &elsewhere)
        .await
        .expect("started past the host");
    bank.advance_clock(std::time::Duration::from_secs(10));
    let now = chrono::Utc::now();
    let period = format!(
        "/terminals/{terminal}/provider-intents?from={}&to={}",
        (now - chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ"),
        (now + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ"),
    );
    let (status, listed) = api.get(&period, "anna").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let of = |reference: &str| {
        listed
            .as_array()
            .and_then(|all| all.iter().find(|p| p["reference"] == reference).cloned())
            .unwrap_or_else(|| panic!("{reference} listed: {listed}"))
    };
    assert_eq!(of("E-1")["card_payment"], good["id"]);
    assert_eq!(of("E-3")["card_payment"], quiet["id"]);
    assert_eq!(of("AT-THE-DEVICE")["card_payment"], Value::Null);
    let (_, caught_up) = api
        .get(&format!("/card-payments/{}", quiet["id"]), "anna")
        .await;
    assert_eq!(
        (caught_up["state"].as_str(), caught_up["result"].as_str()),
        (Some("completed"), Some("approved")),
        "{caught_up}"
    );
    let (status, refused) = api
        .get(
            &format!("/terminals/{terminal}/provider-intents?from=yesterday&to=now"),
            "anna",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let (_, exchanges) = api
        .get(&format!("/card-payments/{}/exchanges", kept["id"]), "anna")
        .await;
    assert!(
        exchanges.to_string().contains("invalid_provider_signature"),
        "{exchanges}"
    );
    api.stop().await;
    bank.stop().await;
    fx.finish().await;
}

on_both_databases!(card_payments_carry_the_providers_signature);

/// The e-invoicing data as the ERP sends it, for calling the connector
/// directly.
#[derive(serde::Deserialize)]
struct EInvoicingWire {
    provider_id: Option<String>,
    input: String,
    signature: String,
}

impl From<EInvoicingWire> for EInvoicing {
    fn from(wire: EInvoicingWire) -> Self {
        Self {
            provider_id: wire.provider_id,
            input: wire.input,
            signature: wire.signature,
        }
    }
}
