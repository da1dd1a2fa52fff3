//! The whole mBank CompanyNet path on both databases, against the
//! simulated bank over mutual TLS, with SoftHSM2 as the qualified-signature
//! card: pack, upload, license and install `mbank`; a certificate the bank
//! does not know is refused; a long-lived session is opened by signature
//! with a chosen end date and covers two DIKs, and statements of both come
//! through it in one run (each account under its DIK: `account-diks`, else
//! the company's `dik`); a DIK outside the session is refused before the
//! bank; a line first reported
//! in today's MT942 comes back in the MT940 once the bank closes the day
//! and is stored once (the TNR); a batch goes out as a signed Elixir-O
//! file, a malformed line is reported rejected with the bank's reason and
//! the rest accepted, then booked and recognised on the statement;
//! scheduled work runs with the default authorizing user's session; mobile
//! token logins (the bank user's default login method): approved (polled
//! by the bot to active and kept alive, superseding the signature session:
//! one per user), rejected, left to time out, and closed by the bank for
//! idleness (an event, and a new confirmation asked).

use std::time::Duration;

use crate::admin::Fixture;
use crate::served::Served;
use crate::softhsm::{self, EC_ID, PIN, RSA_ID, SoftHsm};
use h2h_host::db::testing::TestBackend;
use h2h_host::settlements::{BankAccount, Settlements};
use h2h_mbank_sim::{DEMO_DIK, DEMO_DIK_2, NewTransaction, SimHandle, Simulator};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

pub(crate) const PLUGIN: &str = "mbank";
const MANIFEST: &str = include_str!("../../../plugins/mbank/h2h.toml");
const README: &str = include_str!("../../../plugins/mbank/README.md");
pub(crate) const BANK_USER: &str = "JKOWALSKI";
/// An account of the first DIK, and the second DIK's account.
const ACCOUNT: &str = "acme-pln";
const COOP: &str = "coop-pln";
/// Valid Polish IBANs of made-up beneficiaries.
const SUPPLIER: &str = "PL61109010140000071219812874";
const LANDLORD: &str = "PL10105000997603123456789123";
/// An NRB whose check digits are wrong (the host keeps non-IBAN numbers
/// as given; the bank refuses the line).
const TYPO: &str = "61109010140000071219812875";

/// mbank delivered to `fx` (company acme, anna, the card's token) against
/// the simulated bank, where the card's RSA certificate is registered for
/// both DIKs.
pub(crate) async fn set_up(fx: &Fixture, hsm: &SoftHsm, bank: &SimHandle, url: &str, token: &str) {
    let transport = bank.client_identity();
    crate::shipped::deliver(
        fx,
        hsm,
        &crate::shipped::Connector {
            plugin: PLUGIN,
            manifest: MANIFEST,
            readme: README,
            wasm: h2h_test_plugins::MBANK,
            permissions: &["mbank-session", "mbank-statements", "mbank-export"],
        },
        &crate::shipped::Bank {
            url,
            ca_pem: &bank.ca_pem(),
            transport_cert_pem: &transport.cert_pem,
            transport_key_pem: &transport.key_pem,
        },
        &[("dik", DEMO_DIK)],
        token,
    )
    .await;
    // The card's RSA certificate is registered at the bank; its EC one is
    // not.
    bank.register_user(BANK_USER, &hsm.rsa.der, &[DEMO_DIK, DEMO_DIK_2], true)
        .expect("bank user");
}

pub(crate) async fn add_account(
    settlements: &Settlements,
    id: &str,
    account: &h2h_mbank_sim::Account,
) {
    settlements
        .add_account(&BankAccount {
            id: id.to_owned(),
            company: "acme".to_owned(),
            plugin: PLUGIN.to_owned(),
            iban: account.iban.clone(),
            currency: "PLN".to_owned(),
            name: account.holder.clone(),
        })
        .await
        .expect("account");
}

/// As if `seconds` had passed since session `id` was last refreshed, at
/// the host and at the bank.
async fn time_passes(fx: &Fixture, bank: &SimHandle, id: i64, seconds: i64) {
    sqlx::query(
        "UPDATE bank_sessions SET last_refresh_at = last_refresh_at - $2, \
           opened_at = opened_at - $2 WHERE id = $1",
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

async fn set_dik(fx: &Fixture, dik: &str) {
    fx.host
        .admin
        .set_setting(&fx.actor, "acme", PLUGIN, "dik", dik)
        .await
        .expect("dik");
}

pub(crate) async fn transactions(api: &Served, account: &str) -> Vec<Value> {
    let (status, page) = api
        .get(
            &format!("/accounts/{account}/transactions?limit=1000"),
            "anna",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["transactions"].as_array().cloned().unwrap_or_default()
}

async fn sync(api: &Served, account: &str) -> Value {
    let (status, outcome) = api
        .post(&format!("/accounts/{account}/sync"), "anna", json!({}))
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

/// Every line the bank booked on `iban` is stored once, with its TNR, its
/// counterparty (for debits too) and amount.
fn assert_stored(stored: &[Value], booked: &[h2h_mbank_sim::Transaction]) {
    let mut references: Vec<&str> = stored
        .iter()
        .map(|t| t["bank_reference"].as_str().unwrap_or_default())
        .collect();
    references.sort_unstable();
    let mut expected: Vec<&str> = booked.iter().map(|t| t.tnr.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(references, expected);
    for line in booked {
        let kept = stored
            .iter()
            .find(|t| t["bank_reference"] == line.tnr.as_str())
            .expect("stored");
        assert_eq!(kept["title"], line.title.as_str(), "{kept}");
        assert_eq!(kept["counterparty_name"], line.counterparty_name.as_str());
        assert_eq!(
            kept["counterparty_account"],
            line.counterparty_account.as_str()
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
        assert_eq!(kept["type_code"], line.type_code.as_str());
    }
}

async fn open_mobile(api: &Served) -> Value {
    let (status, opened) = api
        .post(
            "/bank-sessions",
            "anna",
            json!({ "company": "acme", "plugin": PLUGIN, "bank_user_id": BANK_USER,
                    "company_ids": [DEMO_DIK], "refresh_by_bot": true }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    assert_eq!(opened["state"], "pending-confirmation", "{opened}");
    assert!(
        opened["message"]
            .as_str()
            .is_some_and(|m| m.contains("CompanyMobile")),
        "{opened}"
    );
    opened
}

async fn mbank_end_to_end(backend: TestBackend) {
    let Some(hsm) = softhsm::softhsm() else {
        return;
    };
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let token = match backend {
        TestBackend::Sqlite => "mbank-sqlite",
        TestBackend::Postgres => "mbank-postgres",
    };
    let today = chrono::Utc::now().date_naive();
    let sim = Simulator::builder()
        .today(today)
        .days(3)
        .seed(7)
        .build()
        .expect("simulator");
    let accounts = Simulator::demo_accounts();
    let iban = accounts[0].iban.clone();
    let coop_iban = accounts[2].iban.clone();
    let running = sim.start("127.0.0.1:0").await.expect("bank serving");
    let bank = running.handle.clone();
    let url = running.url();
    set_up(&fx, hsm, &bank, &url, token).await;
    add_account(&Settlements::new(fx.host.db.clone()), ACCOUNT, &accounts[0]).await;
    let api = Served::start(&fx).await;
    let connectors = fx.host.connectors();
    let sessions = fx.host.sessions();
    let via = &*connectors;

    // No session yet: statements say so.
    let outcome = sync(&api, ACCOUNT).await;
    assert!(
        outcome["run"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("session")),
        "{outcome}"
    );

    // A long-lived session by signature, for both DIKs, until a day anna
    // picks.
    let until = today + chrono::Days::new(30);
    let valid_until = format!("{until}T23:59:59Z");
    let (status, opened) = api
        .post(
            "/bank-sessions",
            "anna",
            json!({ "company": "acme", "plugin": PLUGIN, "bank_user_id": BANK_USER,
                    "company_ids": [DEMO_DIK, DEMO_DIK_2], "valid_until": valid_until,
                    "refresh_by_bot": true,
                    "sign_with": { "key": format!("{token}:{RSA_ID}"), "pin": PIN,
                                   "save_pin": true } }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    assert_eq!(opened["state"], "active", "{opened}");
    assert_eq!(opened["company_ids"], json!([DEMO_DIK, DEMO_DIK_2]));
    let expected_until = chrono::DateTime::parse_from_rfc3339(&valid_until)
        .expect("instant")
        .timestamp_millis();
    assert_eq!(opened["expires_at"], expected_until, "{opened}");
    let signature_session = opened["id"].as_i64().expect("id");
    let at_bank = bank.sessions();
    assert_eq!(at_bank.len(), 1);
    assert_eq!(at_bank[0].diks, [DEMO_DIK, DEMO_DIK_2]);
    assert_eq!(
        at_bank[0].valid_until.format("%Y-%m-%d").to_string(),
        until.to_string()
    );
    // A certificate the bank does not know (the card's other key, not
    // registered at mBank): refused, clearly, and no session is stored.
    let (status, refused) = api
        .post(
            "/bank-sessions",
            "anna",
            json!({ "company": "acme", "plugin": PLUGIN, "bank_user_id": BANK_USER,
                    "company_ids": [DEMO_DIK],
                    "sign_with": { "key": format!("{token}:{EC_ID}") } }),
        )
        .await;
    assert_ne!(status, StatusCode::CREATED, "{refused}");
    assert!(
        refused.to_string().contains("CERTIFICATE_MISMATCH"),
        "{status} {refused}"
    );
    assert_eq!(bank.sessions().len(), 1);

    let (status, _) = api
        .put(
            "/companies/acme/bank-sessions/default-user",
            "anna",
            json!({ "plugin": PLUGIN, "user": "anna" }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Statements of the first DIK: MT940 and today's MT942, every line
    // once by its TNR, debits with their counterparty.
    let outcome = sync(&api, ACCOUNT).await;
    assert_eq!(outcome["run"]["error"], Value::Null, "{outcome}");
    let booked = bank.transactions(&iban);
    assert!(booked.len() >= 3, "{booked:?}");
    assert_stored(&transactions(&api, ACCOUNT).await, &booked);
    let dik_headers: Vec<Option<String>> = bank
        .requests()
        .iter()
        .filter(|r| r.path.contains("/statements/"))
        .map(|r| r.dik.clone())
        .collect();
    assert!(
        dik_headers.iter().all(|d| d.as_deref() == Some(DEMO_DIK)),
        "{dik_headers:?}"
    );

    // A DIK the session does not cover: refused before the bank.
    set_dik(&fx, "10099999").await;
    bank.clear_requests();
    let outcome = sync(&api, ACCOUNT).await;
    assert!(
        outcome["run"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("10099999") && e.contains(DEMO_DIK)),
        "{outcome}"
    );
    assert!(bank.requests().is_empty(), "{:?}", bank.requests());
    set_dik(&fx, DEMO_DIK).await;

    // Today's line first comes in the MT942; when the bank closes the day
    // it is in the MT940, the same TNR: stored once.
    let payer = "PL70105010121000002312345678";
    let fresh = bank
        .add_transaction(NewTransaction::credit(
            &iban,
            "1500.00".parse().expect("amount"),
            "Zapłata za FV/1/2026",
            "Łukasz Żółć",
            payer,
        ))
        .expect("booked");
    assert_eq!(fresh.booking_date, bank.today());
    let before = transactions(&api, ACCOUNT).await.len();
    let outcome = sync(&api, ACCOUNT).await;
    assert_eq!(outcome["run"]["error"], Value::Null, "{outcome}");
    let stored = transactions(&api, ACCOUNT).await;
    assert_eq!(stored.len(), before + 1);
    let intraday = stored
        .iter()
        .find(|t| t["bank_reference"] == fresh.tnr.as_str())
        .expect("from the MT942");
    assert_eq!(intraday["counterparty_name"], "Łukasz Żółć");
    // The bank closes today: the business day moves on.
    assert!(bank.close_day() > today);
    let outcome = sync(&api, ACCOUNT).await;
    assert_eq!(outcome["run"]["error"], Value::Null, "{outcome}");
    let stored = transactions(&api, ACCOUNT).await;
    assert_eq!(stored.len(), before + 1, "the MT940 adds nothing new");
    assert_eq!(
        stored
            .iter()
            .filter(|t| t["bank_reference"] == fresh.tnr.as_str())
            .count(),
        1
    );
    assert_stored(&stored, &bank.transactions(&iban));
    let mt940 = bank
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/statements/mt940") && r.status == Some(200))
        .count();
    assert!(mt940 >= 2, "{:?}", bank.requests());

    // Scheduled work (no ERP user) runs with the default authorizing
    // user's session.
    let report = Settlements::new(fx.host.db.clone())
        .sync_account(&connectors, ACCOUNT, today, None)
        .await
        .expect("a sync as the default authorizing user");
    assert_eq!(report.new, 0);

    // A batch: two good transfers and one the bank refuses (check digits).
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
        "TYPO-1",
        "10.00",
        TYPO,
        "Literówka Sp. z o.o.",
        "Zapłata za FV/43",
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
    let (status, batches) = api
        .post(
            "/transfers/export",
            "anna",
            json!({ "company": "acme", "account": ACCOUNT }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{batches}");
    let batches = batches.as_array().cloned().unwrap_or_default();
    assert_eq!(batches.len(), 1, "{batches:?}");
    assert_eq!(batches[0]["state"], "submitted", "{batches:?}");
    let at_bank = bank.batches();
    assert_eq!(at_bank.len(), 1);
    let sent = &at_bank[0];
    assert_eq!(sent.signed_by, BANK_USER);
    assert_eq!(sent.dik, DEMO_DIK);
    assert_eq!(sent.transfers.len(), 3);
    assert_eq!(transfer(&api, "FV-2026-0042").await["status"], "accepted");
    assert_eq!(transfer(&api, "CZYNSZ-12").await["status"], "accepted");
    let typo = transfer(&api, "TYPO-1").await;
    assert_eq!(typo["status"], "rejected", "{typo}");
    assert!(
        typo.to_string().contains("BAD_NRB") && typo.to_string().contains("line 2"),
        "{typo}"
    );
    let (_, documents) = api
        .get(&format!("/accounts/{ACCOUNT}/documents"), "anna")
        .await;
    let file = documents
        .as_array()
        .and_then(|d| d.iter().find(|d| d["batch"] == batches[0]["id"]))
        .expect("the batch file is kept");
    assert!(
        file["media_type"]
            .as_str()
            .is_some_and(|m| m.contains("iso-8859-2")),
        "{file}"
    );

    // The bank executes the good ones; the statement books them and the
    // ERP sees which transfers they were.
    bank.execute_batch(&sent.batch_id).expect("execute");
    let outcome = sync(&api, ACCOUNT).await;
    assert_eq!(outcome["run"]["error"], Value::Null, "{outcome}");
    let stored = transactions(&api, ACCOUNT).await;
    for id in ["FV-2026-0042", "CZYNSZ-12"] {
        let t = transfer(&api, id).await;
        assert_eq!(t["status"], "executed", "{t}");
        let line = t["booked_transaction"].as_i64().expect("booked");
        let debit = stored
            .iter()
            .find(|s| s["id"] == line)
            .expect("the booking line");
        assert_eq!(debit["own_reference"], id);
        assert_eq!(debit["direction"], "debit");
    }
    assert_eq!(transfer(&api, "TYPO-1").await["status"], "rejected");

    // Mobile token, from now on the bank user's default login method:
    // approved in the app, the bot's poll finds it active; then kept alive
    // within the bank's idle limit.
    let (status, body) = api
        .put(
            &format!("/companies/acme/bank-sessions/login-methods/{BANK_USER}"),
            "anna",
            json!({ "plugin": PLUGIN, "method": "mobile-confirmation" }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let pending = open_mobile(&api).await;
    let mobile = pending["id"].as_i64().expect("id");
    let login = bank
        .mobile_logins()
        .into_iter()
        .find(|l| l.status == h2h_mbank_sim::MobileStatus::Pending)
        .expect("pending at the bank");
    let round = sessions
        .keep_alive(via, PLUGIN, "acme", h2h_host::db::now_millis())
        .await
        .expect("round");
    assert!(round.refreshed.contains(&mobile), "{round:?}");
    assert_eq!(
        sessions.get(mobile).await.expect("session").state,
        h2h_host::runtime::model::bank::SessionState::PendingConfirmation
    );
    bank.approve_mobile(&login.login_id).expect("approve");
    let round = sessions
        .keep_alive(via, PLUGIN, "acme", h2h_host::db::now_millis())
        .await
        .expect("round");
    assert!(round.refreshed.contains(&mobile), "{round:?}");
    let active = sessions.get(mobile).await.expect("session");
    assert_eq!(
        active.state,
        h2h_host::runtime::model::bank::SessionState::Active
    );
    assert_eq!(active.company_ids, [DEMO_DIK]);
    assert_eq!(active.refresh_every_seconds, Some(300));
    // One session per user and context: the signature session it replaces
    // is closed, at the bank too.
    assert_eq!(
        sessions
            .get(signature_session)
            .await
            .expect("session")
            .state,
        h2h_host::runtime::model::bank::SessionState::Closed
    );
    assert!(
        !bank
            .sessions()
            .iter()
            .any(|s| s.kind == h2h_mbank_sim::SessionKind::Signature
                && s.state == h2h_mbank_sim::SessionState::Active),
        "{:?}",
        bank.sessions()
    );
    // 25 minutes: the bot's keepalive every 5 keeps the bank from
    // closing the session after 30 idle minutes.
    for _ in 0..5 {
        time_passes(&fx, &bank, mobile, 300).await;
        let round = sessions
            .keep_alive(via, PLUGIN, "acme", h2h_host::db::now_millis())
            .await
            .expect("round");
        assert!(round.refreshed.contains(&mobile), "{round:?}");
    }
    time_passes(&fx, &bank, mobile, 1000).await;
    let outcome = sync(&api, ACCOUNT).await;
    assert_eq!(
        outcome["run"]["error"],
        Value::Null,
        "anna's newest session is the mobile one: {outcome}"
    );
    let keepalives = bank
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/session/keepalive") && r.status == Some(200))
        .count();
    assert!(keepalives >= 5, "{keepalives}");

    // Rejected in the app.
    let pending = open_mobile(&api).await;
    let rejected = pending["id"].as_i64().expect("id");
    let login = bank
        .mobile_logins()
        .into_iter()
        .find(|l| l.status == h2h_mbank_sim::MobileStatus::Pending)
        .expect("pending at the bank");
    bank.reject_mobile(&login.login_id).expect("reject");
    let round = sessions
        .keep_alive(via, PLUGIN, "acme", h2h_host::db::now_millis())
        .await
        .expect("round");
    assert!(round.ended.contains(&(rejected, None)), "{round:?}");
    assert_eq!(
        sessions.get(rejected).await.expect("session").state,
        h2h_host::runtime::model::bank::SessionState::Rejected
    );

    // Left unanswered: the bank times the login out.
    let pending = open_mobile(&api).await;
    let unanswered = pending["id"].as_i64().expect("id");
    time_passes(&fx, &bank, unanswered, 121).await;
    let round = sessions
        .keep_alive(via, PLUGIN, "acme", h2h_host::db::now_millis())
        .await
        .expect("round");
    assert!(
        round.ended.iter().any(|(id, _)| *id == unanswered),
        "{round:?}"
    );
    assert_eq!(
        sessions.get(unanswered).await.expect("session").state,
        h2h_host::runtime::model::bank::SessionState::Expired
    );
    let kinds: Vec<String> = sqlx::query("SELECT kind FROM events ORDER BY id")
        .fetch_all(fx.host.db.pool())
        .await
        .expect("events")
        .iter()
        .map(|r| r.get::<String, _>("kind"))
        .collect();
    for kind in ["bank_session.changed", "bank_session.superseded"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind}: {kinds:?}");
    }

    // Half an hour without the bot: the bank closes the mobile session for
    // idleness. The bot's next round finds it gone and tells the ERP
    // (`bank_session.expired`); the next login asks for a new confirmation.
    time_passes(&fx, &bank, mobile, 31 * 60).await;
    let round = sessions
        .keep_alive(via, PLUGIN, "acme", h2h_host::db::now_millis())
        .await
        .expect("round");
    assert!(round.ended.contains(&(mobile, None)), "{round:?}");
    assert_eq!(
        sessions.get(mobile).await.expect("session").state,
        h2h_host::runtime::model::bank::SessionState::Expired
    );
    let expired: i64 = sqlx::query("SELECT COUNT(*) AS n FROM events WHERE kind = $1")
        .bind("bank_session.expired")
        .fetch_one(fx.host.db.pool())
        .await
        .expect("events")
        .get("n");
    assert!(expired >= 1);
    let again = open_mobile(&api).await["id"].as_i64().expect("id");

    // The second DIK: anna signs a session for both again (superseding
    // the mobile login she never confirmed); the company's second
    // account sits under the second DIK (`account-diks`), so one run syncs
    // both accounts, each under its own DIK.
    let (status, opened) = api
        .post(
            "/bank-sessions",
            "anna",
            json!({ "company": "acme", "plugin": PLUGIN, "bank_user_id": BANK_USER,
                    "method": "signature", "company_ids": [DEMO_DIK, DEMO_DIK_2],
                    "refresh_by_bot": true,
                    "sign_with": { "key": format!("{token}:{RSA_ID}") } }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    assert_eq!(
        sessions.get(again).await.expect("session").state,
        h2h_host::runtime::model::bank::SessionState::Closed,
        "the unconfirmed login is superseded"
    );
    add_account(&Settlements::new(fx.host.db.clone()), COOP, &accounts[2]).await;
    fx.host
        .admin
        .set_setting(
            &fx.actor,
            "acme",
            PLUGIN,
            "account-diks",
            &format!("{coop_iban} = {DEMO_DIK_2}"),
        )
        .await
        .expect("account-diks");
    bank.clear_requests();
    let outcome = sync(&api, COOP).await;
    assert_eq!(outcome["run"]["error"], Value::Null, "{outcome}");
    assert_stored(
        &transactions(&api, COOP).await,
        &bank.transactions(&coop_iban),
    );
    let nrb = |iban: &str| iban.trim_start_matches("PL").to_owned();
    let statements: Vec<(String, Option<String>)> = bank
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/statements/mt940"))
        .map(|r| (r.query.clone().unwrap_or_default(), r.dik.clone()))
        .collect();
    for (iban, dik) in [(&coop_iban, DEMO_DIK_2), (&iban, DEMO_DIK)] {
        let of_account: Vec<_> = statements
            .iter()
            .filter(|(query, _)| query.contains(&nrb(iban)))
            .collect();
        assert!(!of_account.is_empty(), "{iban}: {statements:?}");
        assert!(
            of_account.iter().all(|(_, d)| d.as_deref() == Some(dik)),
            "{iban} under {dik}: {statements:?}"
        );
    }

    api.stop().await;
    bank.stop().await;
    fx.finish().await;
}

on_both_databases!(mbank_end_to_end);
