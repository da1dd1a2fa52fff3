//! The whole PKO BP Integra path on both databases, against the simulated
//! bank over mutual TLS, with SoftHSM2 as the smart card: pack, upload,
//! license and install `pkobp`; an ERP user opens a session with the PIN;
//! the bot keeps it alive across several 600 s windows (the bank's clock
//! moves with the test's); statements arrive as MT940, kept as sent, with
//! nothing doubled across overlapping downloads or a bank repeating a line;
//! a batch is exported as pain.001, signed with the card and accepted, and
//! its transfers are recognised on the statement by their own reference;
//! one transfer the bank refuses is read back rejected; an editable batch
//! goes unsigned once the bank allows it; an expired session is reopened
//! with the saved PIN, and a dropped one without it becomes an event.

use std::time::Duration;

use crate::admin::Fixture;
use crate::served::Served;
use crate::softhsm::{self, PIN, RSA_ID, SoftHsm};
use h2h_host::db::testing::TestBackend;
use h2h_pkobp_sim::{DEMO_CONTEXT_ID, SimHandle, Simulator};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

const PLUGIN: &str = "pkobp";
const MANIFEST: &str = include_str!("../../../plugins/pkobp/h2h.toml");
const README: &str = include_str!("../../../plugins/pkobp/README.md");
pub(crate) const BANK_USER: &str = "JKOWALSKI";
const ACCOUNT: &str = "acme-pln";
/// Valid Polish IBANs of made-up beneficiaries.
const SUPPLIER: &str = "PL61109010140000071219812874";
const LANDLORD: &str = "PL10105000997603123456789123";

/// The host and the bank, configured as an admin would: the connector
/// installed, company `acme` with its ContextId, the bank's address, the
/// transport certificate and the bank's CA; the card's token granted;
/// ERP user `anna` with the connector's permissions.
pub(crate) async fn set_up(fx: &Fixture, hsm: &SoftHsm, bank: &SimHandle, url: &str, token: &str) {
    let transport = bank.client_identity();
    crate::shipped::deliver(
        fx,
        hsm,
        &crate::shipped::Connector {
            plugin: PLUGIN,
            manifest: MANIFEST,
            readme: README,
            wasm: h2h_test_plugins::PKOBP,
            permissions: &["pko-session", "pko-statements", "pko-export"],
        },
        &crate::shipped::Bank {
            url,
            ca_pem: &bank.ca_pem(),
            transport_cert_pem: &transport.cert_pem,
            transport_key_pem: &transport.key_pem,
        },
        &[("context-id", DEMO_CONTEXT_ID)],
        token,
    )
    .await;
    bank.register_user(BANK_USER, &hsm.rsa.der, &[DEMO_CONTEXT_ID])
        .expect("bank user");
}

/// As if `seconds` had passed since session `id` was last refreshed, at
/// the host and at the bank.
async fn time_passes(fx: &Fixture, bank: &SimHandle, id: i64, seconds: i64) {
    sqlx::query(
        "UPDATE bank_sessions SET last_refresh_at = last_refresh_at - $2, \
           expires_at = expires_at - $2 WHERE id = $1",
    )
    .bind(id)
    .bind(seconds * 1000)
    .execute(fx.host.db.pool())
    .await
    .expect("clock");
    bank.advance_clock(Duration::from_secs(
        u64::try_from(seconds).expect("positive"),
    ));
}

async fn event_kinds(fx: &Fixture) -> Vec<String> {
    sqlx::query("SELECT kind FROM events ORDER BY id")
        .fetch_all(fx.host.db.pool())
        .await
        .expect("events")
        .iter()
        .map(|r| r.get::<String, _>("kind"))
        .collect()
}

async fn transactions(api: &Served) -> Vec<Value> {
    let (status, page) = api
        .get(
            &format!("/accounts/{ACCOUNT}/transactions?limit=1000"),
            "anna",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["transactions"].as_array().cloned().unwrap_or_default()
}

async fn sync(api: &Served) -> Value {
    let (status, outcome) = api
        .post(&format!("/accounts/{ACCOUNT}/sync"), "anna", json!({}))
        .await;
    // A failed run is answered 502 with its error's code beside the run.
    let expected = if outcome["run"]["outcome"] == "ok" {
        StatusCode::OK
    } else {
        StatusCode::BAD_GATEWAY
    };
    assert_eq!(status, expected, "{outcome}");
    outcome
}

async fn export(api: &Served) -> Vec<Value> {
    let (status, batches) = api
        .post(
            "/transfers/export",
            "anna",
            json!({ "company": "acme", "account": ACCOUNT }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{batches}");
    batches.as_array().cloned().unwrap_or_default()
}

async fn queue(api: &Served, id: &str, amount: &str, to: &str, name: &str, title: &str) {
    let (status, body) = api
        .post(
            "/transfers",
            "anna",
            json!({ "company": "acme", "id": id, "account": ACCOUNT, "amount": amount,
                    "currency": "PLN", "counterparty_account": to,
                    "counterparty_name": name, "title": title }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn transfer(api: &Served, id: &str) -> Value {
    let (status, body) = api.get(&format!("/transfers/acme/{id}"), "anna").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn pkobp_end_to_end(backend: TestBackend) {
    let Some(hsm) = softhsm::softhsm() else {
        return;
    };
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let token = match backend {
        TestBackend::Sqlite => "pko-sqlite",
        TestBackend::Postgres => "pko-postgres",
    };
    let today = chrono::Utc::now().date_naive();
    let sim = Simulator::builder()
        .today(today)
        .days(3)
        .seed(11)
        .build()
        .expect("simulator");
    let iban = Simulator::demo_accounts()[0].iban.clone();
    let running = sim.start("127.0.0.1:0").await.expect("bank serving");
    let bank = running.handle.clone();
    let url = running.url();
    set_up(&fx, hsm, &bank, &url, token).await;
    h2h_host::settlements::Settlements::new(fx.host.db.clone())
        .add_account(&h2h_host::settlements::BankAccount {
            id: ACCOUNT.to_owned(),
            company: "acme".to_owned(),
            plugin: PLUGIN.to_owned(),
            iban: iban.clone(),
            currency: "PLN".to_owned(),
            name: "ACME PLN".to_owned(),
        })
        .await
        .expect("account");
    let cron: String = sqlx::query(
        "SELECT cron FROM plugin_tasks WHERE plugin_id = $1 AND name = 'sync-statements'",
    )
    .bind(PLUGIN)
    .fetch_one(fx.host.db.pool())
    .await
    .expect("task")
    .get("cron");
    assert_eq!(
        cron, "0 0 */2 * * *",
        "the seed's PkoBpGetStatment schedule"
    );
    let api = Served::start(&fx).await;
    let key = format!("{token}:{RSA_ID}");

    // Statements need a session: none yet.
    let outcome = sync(&api).await;
    assert!(
        outcome["run"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("session")),
        "{outcome}"
    );

    // anna opens a session with her card's PIN, saved for the bot.
    let (status, opened) = api
        .post(
            "/bank-sessions",
            "anna",
            json!({ "company": "acme", "plugin": PLUGIN, "bank_user_id": BANK_USER,
                    "refresh_by_bot": true,
                    "sign_with": { "key": key, "pin": PIN, "save_pin": true } }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    assert_eq!(opened["state"], "active", "{opened}");
    assert_eq!(opened["company_ids"], json!([DEMO_CONTEXT_ID]));
    assert_eq!(opened["refresh_every_seconds"], 60);
    let session = opened["id"].as_i64().expect("id");
    let (status, _) = api
        .put(
            "/companies/acme/bank-sessions/default-user",
            "anna",
            json!({ "plugin": PLUGIN, "user": "anna" }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // The bot keeps the 600 s token alive for three windows, a minute at
    // a time: the bank would have expired it twice over otherwise.
    let connectors = fx.host.connectors();
    let sessions = fx.host.sessions();
    let via = &*connectors;
    for minute in 1..=30 {
        time_passes(&fx, &bank, session, 60).await;
        let round = sessions
            .keep_alive(via, PLUGIN, "acme", h2h_host::db::now_millis())
            .await
            .expect("round");
        assert_eq!(round.refreshed, vec![session], "minute {minute}: {round:?}");
    }
    let refreshes = bank
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/session/refresh") && r.status == Some(200))
        .count();
    assert_eq!(refreshes, 30);

    // MT940 for 30 days: every booking once, Polish letters intact, the
    // file kept as the bank sent it.
    let outcome = sync(&api).await;
    assert_eq!(outcome["run"]["error"], Value::Null, "{outcome}");
    let booked = bank.transactions(&iban);
    assert!(booked.len() >= 3, "{booked:?}");
    let stored = transactions(&api).await;
    assert_eq!(stored.len(), booked.len());
    let mut references: Vec<&str> = stored
        .iter()
        .map(|t| t["bank_reference"].as_str().unwrap_or_default())
        .collect();
    references.sort_unstable();
    let mut expected: Vec<&str> = booked.iter().map(|t| t.bank_reference.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(references, expected);
    for line in &booked {
        let kept = stored
            .iter()
            .find(|t| t["bank_reference"] == line.bank_reference.as_str())
            .expect("stored");
        // ISO-8859-2 has no dash: the bank serves it as `?` (its README).
        let latin2 = |text: &str| text.replace('—', "?");
        assert_eq!(kept["title"], latin2(&line.title), "{kept}");
        assert_eq!(kept["counterparty_name"], latin2(&line.counterparty_name));
        assert_eq!(
            kept["counterparty_account"],
            line.counterparty_iban.as_str()
        );
        let amount = |text: &str| {
            text.replace(',', ".")
                .parse::<rust_decimal::Decimal>()
                .expect("decimal")
        };
        assert_eq!(
            amount(kept["amount"].as_str().unwrap_or_default()),
            amount(&line.amount.to_string())
        );
        assert_eq!(kept["value_date"], line.value_date.to_string());
        assert_eq!(kept["type_code"], line.type_code.as_str());
    }
    let (status, documents) = api
        .get(&format!("/accounts/{ACCOUNT}/documents"), "anna")
        .await;
    assert_eq!(status, StatusCode::OK, "{documents}");
    let statement = &documents[0];
    assert!(
        statement["media_type"]
            .as_str()
            .is_some_and(|m| m.to_ascii_lowercase().contains("iso-8859-2")),
        "{statement}"
    );
    let file = api
        .client
        .get(format!("{}/erp/v1/documents/{}", api.base, statement["id"]))
        .bearer_auth(&api.erp_key)
        .header("X-H2H-User", "anna")
        .send()
        .await
        .expect("document");
    assert_eq!(file.status(), StatusCode::OK);
    let bytes = file.bytes().await.expect("bytes");
    assert!(bytes.starts_with(b":20:MT940/"), "{bytes:?}");
    assert_eq!(
        h2h_mt940::parse(&bytes)
            .expect("the kept file parses")
            .len(),
        31,
        "one statement a day"
    );

    // The bank repeats a line in an overlapping download: nothing doubles.
    bank.faults().duplicate_lines(true);
    let outcome = sync(&api).await;
    assert_eq!(outcome["run"]["error"], Value::Null, "{outcome}");
    assert_eq!(transactions(&api).await.len(), booked.len());
    bank.faults().duplicate_lines(false);

    // Garbage MT940: a clear error, nothing stored from it.
    bank.faults().truncate_mt940(true);
    let outcome = sync(&api).await;
    assert!(
        outcome["run"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("does not parse")),
        "{outcome}"
    );
    assert_eq!(transactions(&api).await.len(), booked.len());
    bank.faults().truncate_mt940(false);

    // A batch from the waiting room: pain.001, signed with anna's card.
    queue(
        &api,
        "FV-2026-0042",
        "150.00",
        SUPPLIER,
        "Dostawca Wałbrzych Sp. z o.o.",
        "Zapłata za FV/42",
    )
    .await;
    queue(
        &api,
        "CZYNSZ-12",
        "2400.50",
        LANDLORD,
        "Gąsienica Józef",
        "Czynsz za grudzień",
    )
    .await;
    let batches = export(&api).await;
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0]["state"], "submitted", "{batches:?}");
    let at_bank = bank.batches();
    assert_eq!(at_bank.len(), 1);
    let sent = &at_bank[0];
    assert_eq!(sent.signed_by.as_deref(), Some(BANK_USER));
    assert!(!sent.editable);
    assert_eq!(transfer(&api, "FV-2026-0042").await["status"], "accepted");
    let (_, documents) = api
        .get(&format!("/accounts/{ACCOUNT}/documents"), "anna")
        .await;
    let pain = documents
        .as_array()
        .and_then(|d| d.iter().find(|d| d["batch"] == batches[0]["id"]))
        .expect("the batch file is kept");
    assert_eq!(pain["media_type"], "application/xml");

    // The bank refuses one transfer of the batch; a refresh reads it back.
    bank.reject_transaction(&sent.batch_id, "CZYNSZ-12", "RACHUNEK ZAMKNIĘTY")
        .expect("reject");
    let (status, refreshed) = api
        .post(
            &format!("/batches/{}/refresh", batches[0]["id"]),
            "anna",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    let refused = transfer(&api, "CZYNSZ-12").await;
    assert_eq!(refused["status"], "rejected", "{refused}");
    assert_eq!(refused["bank_message"], "RACHUNEK ZAMKNIĘTY");

    // The bank executes the rest; the next statement books the debit, and
    // the ERP sees which of its transfers it was.
    bank.execute_batch(&sent.batch_id).expect("execute");
    let outcome = sync(&api).await;
    assert_eq!(outcome["run"]["error"], Value::Null, "{outcome}");
    let t = transfer(&api, "FV-2026-0042").await;
    assert_eq!(t["status"], "executed", "{t}");
    let line = t["booked_transaction"].as_i64().expect("booked");
    let stored = transactions(&api).await;
    let debit = stored
        .iter()
        .find(|s| s["id"] == line)
        .expect("the booking line");
    assert_eq!(debit["own_reference"], "FV-2026-0042");
    assert_eq!(debit["direction"], "debit");
    assert_eq!(debit["amount"], "150.00");
    assert_eq!(
        transfer(&api, "CZYNSZ-12").await["booked_transaction"],
        Value::Null
    );
    let kinds = event_kinds(&fx).await;
    assert_eq!(kinds.iter().filter(|k| *k == "transfer.booked").count(), 1);

    // "Editable in the bank" must match the bank's setting: refused while
    // it does not (the transfer waits again), sent unsigned once it does.
    fx.host
        .admin
        .set_setting(&fx.actor, "acme", PLUGIN, "editable-batches", "true")
        .await
        .expect("setting");
    queue(
        &api,
        "FV-2026-0043",
        "99.99",
        SUPPLIER,
        "Dostawca Wałbrzych Sp. z o.o.",
        "Zapłata za FV/43",
    )
    .await;
    let refused = export(&api).await;
    assert_eq!(refused[0]["state"], "failed", "{refused:?}");
    assert!(
        refused[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("EDITABLE_NOT_ALLOWED")),
        "{refused:?}"
    );
    assert_eq!(transfer(&api, "FV-2026-0043").await["status"], "queued");
    bank.set_editable_allowed(DEMO_CONTEXT_ID, true);
    let editable = export(&api).await;
    assert_eq!(editable[0]["state"], "submitted", "{editable:?}");
    let unsigned = bank
        .batches()
        .into_iter()
        .find(|b| b.editable)
        .expect("editable batch");
    assert_eq!(unsigned.signed_by, None);
    assert_eq!(
        transfer(&api, "FV-2026-0043").await["status"],
        "awaiting-approval"
    );

    // Nobody refreshes for 601 s: the bank expires the token, work is
    // refused with a clear error, and the bot reopens the session with the
    // saved PIN.
    bank.advance_clock(Duration::from_secs(601));
    let outcome = sync(&api).await;
    assert!(
        outcome["run"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("SESSION_EXPIRED")),
        "{outcome}"
    );
    time_passes(&fx, &bank, session, 60).await;
    let round = sessions
        .keep_alive(via, PLUGIN, "acme", h2h_host::db::now_millis())
        .await
        .expect("round");
    let [(dropped, Some(successor))] = round.ended.as_slice() else {
        panic!("reopened: {round:?}");
    };
    assert_eq!(*dropped, session);
    let fresh = sessions.get(*successor).await.expect("successor");
    assert_eq!(
        fresh.state,
        h2h_host::runtime::model::bank::SessionState::Active
    );
    let outcome = sync(&api).await;
    assert_eq!(outcome["run"]["error"], Value::Null, "{outcome}");

    // Without the saved PIN, a drop is an event for the ERP.
    fx.host
        .tokens
        .close_session("acme", token)
        .await
        .expect("forget the PIN");
    bank.faults().drop_sessions();
    time_passes(&fx, &bank, fresh.id, 60).await;
    let round = sessions
        .keep_alive(via, PLUGIN, "acme", h2h_host::db::now_millis())
        .await
        .expect("round");
    assert_eq!(round.ended, vec![(fresh.id, None)]);
    assert_eq!(
        event_kinds(&fx).await.last().map(String::as_str),
        Some("bank_session.expired")
    );
    let leaked = sqlx::query("SELECT detail FROM audit_log")
        .fetch_all(fx.host.db.pool())
        .await
        .expect("audit")
        .iter()
        .any(|r| {
            r.get::<Option<String>, _>("detail")
                .is_some_and(|d| d.contains(PIN))
        });
    assert!(!leaked, "the PIN is never written to the audit log");

    api.stop().await;
    bank.stop().await;
    fx.finish().await;
}

on_both_databases!(pkobp_end_to_end);
