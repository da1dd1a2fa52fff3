//! Bank sessions end to end against the well-behaved connector's session
//! protocol (tests/plugins/well-behaved/src/sessions.rs): signed by the
//! host with a SoftHSM key and the PIN given now, or at the workstation;
//! confirmed in a mobile app; kept alive by the bot across 600 s windows;
//! reopened with a saved PIN when the bank drops them, or reported.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use h2h_host::db::testing::TestBackend;
use h2h_host::pkcs11::SlotSelector;
use h2h_host::runtime::model::bank::{LoginMethod, SessionState};
use h2h_host::sessions::{BankSession, HostSigning, OpenRequest};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::Row;

use crate::admin::{Fixture, manifest};
use crate::served::Served;
use crate::softhsm::{self, PIN, RSA_ID, SoftHsm};

const PLUGIN: &str = "well-behaved";

fn plugin_manifest() -> String {
    let mut extra = String::from(
        "[capabilities]\nsigning = true\nhttp = [\"https://bank.example\"]\n\n\
         [[permissions]]\nname = \"log-in\"\ndescription = \"Log in to the bank\"\n\
         operations = [\"open-session\"]\n",
    );
    for setting in [
        "context-id",
        "session-mechanism",
        "confirm-after",
        "confirm-result",
        "session-drop",
        "refresh-fail",
        "needs-session",
    ] {
        extra.push_str(&format!(
            "\n[[settings]]\nname = \"{setting}\"\ntype = \"string\"\ndescription = \"Test.\"\n"
        ));
    }
    manifest(PLUGIN, "1.0.0", &extra)
}

/// A host with the connector installed, company `acme` (ContextId
/// `CTX-ACME`), and ERP users: `anna` may log in, `bob` only reads acme,
/// `carl` belongs to another company.
async fn set_up(backend: TestBackend) -> Option<Fixture> {
    let fx = Fixture::new(backend).await?;
    fx.company("acme").await;
    fx.company("globex").await;
    fx.install_with(PLUGIN, &plugin_manifest(), h2h_test_plugins::WELL_BEHAVED)
        .await;
    let admin = &fx.host.admin;
    admin
        .set_setting(&fx.actor, "acme", PLUGIN, "context-id", "CTX-ACME")
        .await
        .expect("setting");
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
            .grant_permission(&fx.actor, user, PLUGIN, "log-in")
            .await
            .expect("permission");
    }
    Some(fx)
}

async fn setting(fx: &Fixture, name: &str, value: &str) {
    fx.host
        .admin
        .set_setting(&fx.actor, "acme", PLUGIN, name, value)
        .await
        .expect("setting");
}

/// Registers SoftHSM token `label` and grants it to the connector.
async fn token(fx: &Fixture, hsm: &SoftHsm, label: &str) -> String {
    let admin = &fx.host.admin;
    admin
        .register_token(
            &fx.actor,
            label,
            &hsm.module,
            Some(SlotSelector::Label(label.to_owned())),
        )
        .await
        .expect("token");
    admin
        .grant_signing(&fx.actor, label, PLUGIN)
        .await
        .expect("grant");
    format!("{label}:{RSA_ID}")
}

/// The signature and the data a completed session says it got, checked
/// against the SoftHSM certificate by an independent verifier.
fn assert_signed_by_the_card(hsm: &SoftHsm, message: &str) {
    let rest = message.strip_prefix("signature ").expect(message);
    let (hex, data) = rest.split_once(" over ").expect(message);
    let signature: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    assert!(data.starts_with("h2h login anna-pko "), "{data}");
    assert!(
        crate::signing_capability::verify(
            &hsm.rsa,
            "rsa-pkcs1-sha256",
            data.as_bytes(),
            &signature
        ),
        "the bank got a signature the certificate does not verify"
    );
}

async fn audit_actions(fx: &Fixture) -> Vec<(String, String, String)> {
    let rows = sqlx::query("SELECT actor, action, outcome, detail FROM audit_log ORDER BY id")
        .fetch_all(fx.host.db.pool())
        .await
        .expect("audit");
    rows.iter()
        .filter(|r| r.get::<String, _>("action").starts_with("bank-session."))
        .map(|r| {
            let detail: String = r.get("detail");
            assert!(
                !detail.contains(PIN) && !detail.contains("token-"),
                "{detail}"
            );
            (r.get("actor"), r.get("action"), r.get("outcome"))
        })
        .collect()
}

async fn secret_rows(fx: &Fixture) -> usize {
    sqlx::query("SELECT 1 FROM vault_entries WHERE kind = 'bank-session'")
        .fetch_all(fx.host.db.pool())
        .await
        .expect("vault")
        .len()
}

async fn events(fx: &Fixture) -> Vec<Value> {
    let rows = sqlx::query("SELECT kind, payload FROM events ORDER BY id")
        .fetch_all(fx.host.db.pool())
        .await
        .expect("events");
    rows.iter()
        .map(|r| {
            let payload: String = r.get("payload");
            json!({ "kind": r.get::<String, _>("kind"), "payload": serde_json::from_str::<Value>(&payload).expect("json") })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_erp_opens_a_session_the_host_signs_then_refreshes_and_closes_it() {
    let Some(hsm) = softhsm::softhsm() else {
        return;
    };
    let Some(fx) = set_up(TestBackend::Sqlite).await else {
        return;
    };
    let key = token(&fx, hsm, "bank-api").await;
    let api = Served::start(&fx).await;
    let call = |user: &'static str, method: Method, path: String, body: Option<Value>| {
        let api = &api;
        async move { api.erp(method, &path, Some(user), body).await }
    };
    let open = |pin: &str| {
        json!({ "company": "acme", "plugin": PLUGIN, "bank_user_id": "anna-pko",
                "refresh_by_bot": true,
                "sign_with": { "key": key, "pin": pin, "save_pin": false } })
    };

    // Permission and company are checked before anything reaches the card.
    let (status, body) = call(
        "bob",
        Method::POST,
        "/bank-sessions".into(),
        Some(open(PIN)),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = call(
        "carl",
        Method::POST,
        "/bank-sessions".into(),
        Some(open(PIN)),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // A wrong PIN: refused, nothing opened, the PIN in no answer.
    let (status, body) = call(
        "anna",
        Method::POST,
        "/bank-sessions".into(),
        Some(open("0000")),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("wrong_pin")),
        "{body}"
    );
    assert!(!body.to_string().contains("0000"));

    let (status, opened) = call(
        "anna",
        Method::POST,
        "/bank-sessions".into(),
        Some(open(PIN)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    assert_eq!(opened["state"], "active", "{opened}");
    assert_eq!(opened["company_ids"], json!(["CTX-ACME"]));
    assert_eq!(opened["refresh_every_seconds"], 60);
    assert_eq!(opened["opened_by"], "anna");
    assert_eq!(opened["signing_key"], key);
    assert!(opened["expires_at"].as_i64().is_some(), "{opened}");
    assert_signed_by_the_card(hsm, opened["message"].as_str().unwrap_or_default());
    assert!(
        !opened.to_string().contains("token-"),
        "the secret is never shown"
    );
    assert_eq!(secret_rows(&fx).await, 1, "the bank's token is sealed");
    let id = opened["id"].as_i64().expect("id");

    // bob reads acme's sessions; carl sees none of them.
    let (status, listed) = call(
        "bob",
        Method::GET,
        "/bank-sessions?company=acme".into(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let (status, _) = call("carl", Method::GET, format!("/bank-sessions/{id}"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        "bob",
        Method::POST,
        format!("/bank-sessions/{id}/refresh"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Refreshing hands the connector the sealed token, which it rotates.
    for _ in 0..2 {
        let (status, refreshed) = call(
            "anna",
            Method::POST,
            format!("/bank-sessions/{id}/refresh"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{refreshed}");
        assert_eq!(refreshed["state"], "active");
        assert_eq!(refreshed["failures"], 0);
    }

    // Not awaiting a signature: a posted one is refused.
    let signature =
        json!({ "signature": STANDARD.encode(b"sig"), "certificate": STANDARD.encode(b"c") });
    let (status, body) = call(
        "anna",
        Method::POST,
        format!("/bank-sessions/{id}/signature"),
        Some(signature),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("session_state"))
    );

    let (status, closed) = call("anna", Method::DELETE, format!("/bank-sessions/{id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["state"], "closed");
    assert_eq!(closed["last_error"], Value::Null);
    assert_eq!(secret_rows(&fx).await, 0, "closing forgets the token");
    let (status, body) = call(
        "anna",
        Method::POST,
        format!("/bank-sessions/{id}/refresh"),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("session_state"))
    );

    let actions = audit_actions(&fx).await;
    let erp_anna = "erp:anna".to_owned();
    assert_eq!(
        actions,
        vec![
            (
                erp_anna.clone(),
                "bank-session.open".into(),
                "wrong_pin".into()
            ),
            (erp_anna.clone(), "bank-session.open".into(), "ok".into()),
            (erp_anna.clone(), "bank-session.refresh".into(), "ok".into()),
            (erp_anna.clone(), "bank-session.refresh".into(), "ok".into()),
            (
                erp_anna.clone(),
                "bank-session.complete".into(),
                "session_state".into()
            ),
            (erp_anna.clone(), "bank-session.close".into(), "ok".into()),
            (
                erp_anna,
                "bank-session.refresh".into(),
                "session_state".into()
            ),
        ]
    );

    // The console lists the closed session; refreshing it is refused with
    // the reason.
    let mut browser = crate::console::Browser::new(&api);
    browser.sign_in(&api.admin_key).await;
    let page = browser.get("/console/sessions").await;
    let row = page
        .body
        .split("<tr data-session=")
        .nth(1)
        .unwrap_or_else(|| panic!("no session row in\n{}", page.body));
    assert!(row.contains("<td>closed"), "{row}");
    assert!(row.contains("anna-pko"), "{row}");
    let id = row.trim_start_matches('"').split('"').next().expect("id");
    let csrf = page.csrf();
    browser
        .post(
            "/console/sessions/action",
            &[("csrf", &csrf), ("id", id), ("op", "refresh")],
        )
        .await;
    let page = browser.get("/console/sessions").await;
    assert!(page.body.contains("Refused: "), "{}", page.body);
    api.stop().await;
    fx.finish().await;
}

fn request(method: LoginMethod) -> OpenRequest {
    OpenRequest {
        plugin: PLUGIN.to_owned(),
        company: "acme".to_owned(),
        bank_user_id: "anna-pko".to_owned(),
        method,
        company_ids: Vec::new(),
        valid_until: None,
        refresh_by_bot: true,
        host_signing: None,
        certificate: None,
    }
}

async fn the_workstation_signs_the_challenge(backend: TestBackend) {
    let Some(fx) = set_up(backend).await else {
        return;
    };
    let connectors = fx.host.connectors();
    let sessions = fx.host.sessions();
    let via = &*connectors;

    let refused = sessions
        .open(via, "anna", request(LoginMethod::Signature))
        .await
        .expect_err("no key and no certificate");
    assert_eq!(refused.kind(), "invalid_input");
    let mixed = sessions
        .open(
            via,
            "anna",
            OpenRequest {
                host_signing: Some(HostSigning {
                    key: "bank-api:01".to_owned(),
                    pin: None,
                    save_pin: false,
                }),
                ..request(LoginMethod::MobileConfirmation)
            },
        )
        .await
        .expect_err("a key for a mobile login");
    assert_eq!(
        mixed.to_string(),
        "`sign_with` applies to a signature login only"
    );

    let waiting = sessions
        .open(
            via,
            "anna",
            OpenRequest {
                certificate: Some(b"workstation certificate".to_vec()),
                ..request(LoginMethod::Signature)
            },
        )
        .await
        .expect("open");
    assert_eq!(waiting.state, SessionState::AwaitingSignature);
    let challenge = waiting.challenge.clone().expect("a challenge");
    assert_eq!(challenge.mechanism, "rsa-pkcs1-sha256");
    let data = STANDARD.decode(&challenge.data).expect("base64");
    assert!(data.starts_with(b"h2h login anna-pko "), "{data:?}");
    assert_eq!(secret_rows(&fx).await, 0, "no token before the signature");

    let signature = h2h_host::runtime::model::bank::ChallengeSignature {
        signature: b"made at the workstation".to_vec(),
        certificate: b"workstation certificate".to_vec(),
    };
    let active = sessions
        .complete(via, "anna", waiting.id, signature.clone())
        .await
        .expect("complete");
    assert_eq!(active.state, SessionState::Active);
    assert_eq!(active.challenge, None);
    assert_eq!(secret_rows(&fx).await, 1);
    let again = sessions
        .complete(via, "anna", waiting.id, signature)
        .await
        .expect_err("already active");
    assert_eq!(again.kind(), "session_state");
    fx.finish().await;
}

on_both_databases!(the_workstation_signs_the_challenge);

async fn a_mobile_login_is_polled_until_confirmed_or_rejected(backend: TestBackend) {
    let Some(fx) = set_up(backend).await else {
        return;
    };
    setting(&fx, "confirm-after", "2").await;
    let connectors = fx.host.connectors();
    let sessions = fx.host.sessions();
    let via = &*connectors;
    let now = h2h_host::db::now_millis();

    let pending = sessions
        .open(via, "anna", request(LoginMethod::MobileConfirmation))
        .await
        .expect("open");
    assert_eq!(pending.state, SessionState::PendingConfirmation);
    assert_eq!(
        pending.message.as_deref(),
        Some("Confirm the login in the bank's app")
    );
    let first = sessions
        .keep_alive(via, PLUGIN, "acme", now)
        .await
        .expect("round");
    assert_eq!(first.refreshed, vec![pending.id]);
    assert_eq!(
        sessions.get(pending.id).await.expect("get").state,
        SessionState::PendingConfirmation
    );
    sessions
        .keep_alive(via, PLUGIN, "acme", now)
        .await
        .expect("round");
    let confirmed = sessions.get(pending.id).await.expect("get");
    assert_eq!(confirmed.state, SessionState::Active);
    assert_eq!(secret_rows(&fx).await, 1);

    setting(&fx, "confirm-after", "1").await;
    setting(&fx, "confirm-result", "reject").await;
    let refused = sessions
        .open(via, "anna", request(LoginMethod::MobileConfirmation))
        .await
        .expect("open");
    let round = sessions
        .keep_alive(via, PLUGIN, "acme", now)
        .await
        .expect("round");
    assert_eq!(round.ended, vec![(refused.id, None)]);
    assert_eq!(
        sessions.get(refused.id).await.expect("get").state,
        SessionState::Rejected
    );

    let kinds: Vec<(String, String)> = events(&fx)
        .await
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or_default().to_owned(),
                e["payload"]["state"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("bank_session.changed".to_owned(), "active".to_owned()),
            ("bank_session.changed".to_owned(), "rejected".to_owned()),
        ]
    );
    fx.finish().await;
}

on_both_databases!(a_mobile_login_is_polled_until_confirmed_or_rejected);

/// Moves session `id`'s clock back by `seconds`: as if that much time had
/// passed since its last refresh.
async fn time_passes(fx: &Fixture, id: i64, seconds: i64) {
    sqlx::query(
        "UPDATE bank_sessions SET last_refresh_at = last_refresh_at - $2, \
           expires_at = expires_at - $2 WHERE id = $1",
    )
    .bind(id)
    .bind(seconds * 1000)
    .execute(fx.host.db.pool())
    .await
    .expect("clock");
}

async fn the_bot_keeps_sessions_alive_and_reopens_dropped_ones(backend: TestBackend) {
    let Some(hsm) = softhsm::softhsm() else {
        return;
    };
    let Some(fx) = set_up(backend).await else {
        return;
    };
    let label = match backend {
        TestBackend::Sqlite => "bank-bot-sqlite",
        TestBackend::Postgres => "bank-bot-postgres",
    };
    let key = token(&fx, hsm, label).await;
    let connectors = fx.host.connectors();
    let sessions = fx.host.sessions();
    let via = &*connectors;
    let signing = |pin: Option<&str>, save: bool| HostSigning {
        key: key.clone(),
        pin: pin.map(SecretString::from),
        save_pin: save,
    };
    let opened = sessions
        .open(
            via,
            "anna",
            OpenRequest {
                host_signing: Some(signing(Some(PIN), true)),
                ..request(LoginMethod::Signature)
            },
        )
        .await
        .expect("open");
    assert_eq!(opened.state, SessionState::Active);
    assert_signed_by_the_card(hsm, opened.message.as_deref().unwrap_or_default());
    let now = h2h_host::db::now_millis();

    // Just refreshed: nothing to do.
    let idle = sessions
        .keep_alive(via, PLUGIN, "acme", now)
        .await
        .expect("round");
    assert!(idle.refreshed.is_empty(), "{idle:?}");

    // Two 600 s windows, a minute at a time: refreshed every minute, never
    // expired, the token rotated each time (the connector checks it).
    let mut expires = opened.expires_at.expect("expiry");
    for minute in 1..=20 {
        time_passes(&fx, opened.id, 60).await;
        let round = sessions
            .keep_alive(via, PLUGIN, "acme", h2h_host::db::now_millis())
            .await
            .expect("round");
        assert_eq!(
            round.refreshed,
            vec![opened.id],
            "minute {minute}: {round:?}"
        );
        let kept: BankSession = sessions.get(opened.id).await.expect("get");
        assert_eq!(kept.state, SessionState::Active);
        assert!(
            kept.expires_at.expect("expiry") >= expires,
            "minute {minute}"
        );
        expires = kept.expires_at.expect("expiry");
    }

    // The bank is down: recorded, announced, retried next round.
    setting(&fx, "refresh-fail", "yes").await;
    time_passes(&fx, opened.id, 60).await;
    let failed = sessions
        .keep_alive(via, PLUGIN, "acme", h2h_host::db::now_millis())
        .await
        .expect("round");
    assert_eq!(failed.failed, vec![opened.id]);
    let kept = sessions.get(opened.id).await.expect("get");
    assert_eq!((kept.state, kept.failures), (SessionState::Active, 1));
    assert!(
        kept.last_error
            .as_deref()
            .is_some_and(|e| e.contains("the bank is down")),
        "{kept:?}"
    );
    setting(&fx, "refresh-fail", "").await;

    // The bank drops the session: the saved PIN reopens it.
    setting(&fx, "session-drop", "yes").await;
    let round = sessions
        .keep_alive(via, PLUGIN, "acme", h2h_host::db::now_millis())
        .await
        .expect("round");
    let [(dropped, Some(successor))] = round.ended.as_slice() else {
        panic!("reopened: {round:?}");
    };
    assert_eq!(*dropped, opened.id);
    assert_eq!(
        sessions.get(opened.id).await.expect("get").state,
        SessionState::Expired
    );
    let fresh = sessions.get(*successor).await.expect("successor");
    assert_eq!(fresh.state, SessionState::Active);
    assert_eq!(fresh.opened_by, "anna");
    assert_signed_by_the_card(hsm, fresh.message.as_deref().unwrap_or_default());
    setting(&fx, "session-drop", "").await;

    // Without a saved PIN the drop is an event for the ERP.
    fx.host
        .tokens
        .close_session("acme", label)
        .await
        .expect("forget the PIN");
    setting(&fx, "session-drop", "yes").await;
    time_passes(&fx, fresh.id, 60).await;
    let round = sessions
        .keep_alive(via, PLUGIN, "acme", h2h_host::db::now_millis())
        .await
        .expect("round");
    assert_eq!(round.ended, vec![(fresh.id, None)]);
    let kinds: Vec<String> = events(&fx)
        .await
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        kinds,
        [
            "bank_session.failed",
            "bank_session.failed",
            "bank_session.reopened",
            "bank_session.failed",
            "bank_session.expired",
        ]
    );
    assert_eq!(secret_rows(&fx).await, 0, "no token outlives its session");
    fx.finish().await;
}

on_both_databases!(the_bot_keeps_sessions_alive_and_reopens_dropped_ones);

async fn calls_run_with_the_users_or_the_default_users_session(backend: TestBackend) {
    let Some(fx) = set_up(backend).await else {
        return;
    };
    let connectors = fx.host.connectors();
    let sessions = fx.host.sessions();
    let via = &*connectors;
    let opened = sessions
        .open(via, "anna", request(LoginMethod::StoredCredentials))
        .await
        .expect("open");
    let context = |user: Option<&str>| {
        let fx = &fx;
        let user = user.map(str::to_owned);
        async move {
            let mut ctx =
                crate::common::call_context(&fx.host, "acme", PLUGIN, user.as_deref()).await;
            fx.host
                .sessions()
                .attach(&mut ctx, PLUGIN)
                .await
                .expect("attach");
            ctx.session.map(|s| (s.bank_user_id, s.company_ids))
        }
    };
    let anna = Some(("anna-pko".to_owned(), vec!["CTX-ACME".to_owned()]));
    assert_eq!(context(Some("anna")).await, anna);
    assert_eq!(context(Some("bob")).await, None, "bob has no session");
    assert_eq!(context(None).await, None, "no default user yet");
    sessions
        .set_default_user("acme", PLUGIN, "anna")
        .await
        .expect("default");
    assert_eq!(context(None).await, anna, "scheduled work uses anna's");
    assert_eq!(
        context(Some("bob")).await,
        anna,
        "a user without a session is served by the default user's"
    );
    // Past its expiry a session serves no call, whatever its state says.
    sqlx::query("UPDATE bank_sessions SET expires_at = 1 WHERE id = $1")
        .bind(opened.id)
        .execute(fx.host.db.pool())
        .await
        .expect("expire");
    assert_eq!(
        context(None).await,
        None,
        "an expired session is no session"
    );
    sqlx::query("UPDATE bank_sessions SET expires_at = NULL WHERE id = $1")
        .bind(opened.id)
        .execute(fx.host.db.pool())
        .await
        .expect("unexpire");
    sessions
        .close(via, &h2h_host::admin::Actor::erp("anna"), opened.id)
        .await
        .expect("close");
    assert_eq!(context(None).await, None, "a closed session is no session");
    fx.finish().await;
}

on_both_databases!(calls_run_with_the_users_or_the_default_users_session);

/// `h2h session ...` over the fixture's database, as JSON.
fn cli(fx: &Fixture, args: &[&str]) -> Value {
    let output = crate::console::h2h(fx, args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}

async fn an_admin_lists_and_closes_sessions_on_the_command_line(backend: TestBackend) {
    let Some(fx) = set_up(backend).await else {
        return;
    };
    let connectors = fx.host.connectors();
    let via = &*connectors;
    let opened = fx
        .host
        .sessions()
        .open(via, "anna", request(LoginMethod::StoredCredentials))
        .await
        .expect("open");
    let listed = cli(&fx, &["session", "list", "--company", "acme"]);
    assert_eq!(listed[0]["id"], opened.id, "{listed}");
    assert_eq!(listed[0]["state"], "active");
    assert!(!listed.to_string().contains("token-"), "{listed}");
    let closed = cli(&fx, &["session", "close", &opened.id.to_string()]);
    assert_eq!(closed["state"], "closed", "{closed}");
    assert_eq!(secret_rows(&fx).await, 0);
    let last = audit_actions(&fx).await.pop().expect("audited");
    assert_eq!(
        last,
        (
            "cli:ops".to_owned(),
            "bank-session.close".to_owned(),
            "ok".to_owned()
        )
    );
    fx.finish().await;
}

on_both_databases!(an_admin_lists_and_closes_sessions_on_the_command_line);

/// A statement sync, as the schedule runs it (no user): with the default
/// authorizing user's session, or refused as `session-required`.
async fn scheduled_work_runs_with_the_default_users_session(backend: TestBackend) {
    let Some(fx) = set_up(backend).await else {
        return;
    };
    setting(&fx, "needs-session", "yes").await;
    let settlements = h2h_host::settlements::Settlements::new(fx.host.db.clone());
    settlements
        .add_account(&h2h_host::settlements::BankAccount {
            id: "acme-main".to_owned(),
            company: "acme".to_owned(),
            plugin: PLUGIN.to_owned(),
            iban: "PL61109010140000071219812874".to_owned(),
            currency: "PLN".to_owned(),
            name: "ACME main".to_owned(),
        })
        .await
        .expect("account");
    let connectors = fx.host.connectors();
    let today = chrono::Utc::now().date_naive();
    let sync = || settlements.sync_account(&connectors, "acme-main", today, None);
    let refused = sync().await.expect_err("no session");
    assert!(
        refused
            .to_string()
            .contains("statements need a bank session"),
        "{refused}"
    );

    let via = &*connectors;
    fx.host
        .sessions()
        .open(via, "anna", request(LoginMethod::StoredCredentials))
        .await
        .expect("open");
    let still = sync().await.expect_err("anna is not the default user yet");
    assert!(still.to_string().contains("session"), "{still}");
    fx.host
        .sessions()
        .set_default_user("acme", PLUGIN, "anna")
        .await
        .expect("default");
    let report = sync().await.expect("synced with anna's session");
    assert!(report.new > 0, "{report:?}");
    fx.finish().await;
}

on_both_databases!(scheduled_work_runs_with_the_default_users_session);

/// mBank's "one long-lived session per user in a given context": by
/// default the database (a session opened for one company serves the
/// user's calls for the others, and a new one anywhere supersedes it), or
/// per company once the admin says so (`h2h session context`).
async fn one_session_per_user_in_the_database_or_per_company(backend: TestBackend) {
    let Some(fx) = set_up(backend).await else {
        return;
    };
    let admin = &fx.host.admin;
    admin
        .grant_company(&fx.actor, "anna", "globex", false)
        .await
        .expect("globex");
    admin
        .set_setting(&fx.actor, "globex", PLUGIN, "context-id", "CTX-GLOBEX")
        .await
        .expect("setting");
    let connectors = fx.host.connectors();
    let sessions = fx.host.sessions();
    let via = &*connectors;
    let open = |company: &str| {
        let sessions = sessions.clone();
        let company = company.to_owned();
        async move {
            let mut wanted = request(LoginMethod::StoredCredentials);
            wanted.company = company;
            let opened = sessions.open(via, "anna", wanted).await.expect("open");
            assert_eq!(opened.state, SessionState::Active);
            opened.id
        }
    };
    let serving = |company: &str| {
        let company = company.to_owned();
        let fx = &fx;
        async move {
            let mut ctx =
                crate::common::call_context(&fx.host, &company, PLUGIN, Some("anna")).await;
            fx.host
                .sessions()
                .attach(&mut ctx, PLUGIN)
                .await
                .expect("attach");
            ctx.session.map(|s| s.company_ids)
        }
    };
    let state = |id: i64| {
        let sessions = sessions.clone();
        async move { sessions.get(id).await.expect("session").state }
    };
    let acme = vec!["CTX-ACME".to_owned()];
    let globex = vec!["CTX-GLOBEX".to_owned()];

    assert!(!sessions.per_company(PLUGIN).await.expect("context"));
    let first = open("acme").await;
    assert_eq!(
        serving("globex").await,
        Some(acme.clone()),
        "the database's one"
    );
    let second = open("globex").await;
    assert_eq!(state(first).await, SessionState::Closed, "superseded");
    assert_eq!(serving("acme").await, Some(globex.clone()));

    let out = cli(
        &fx,
        &["session", "context", PLUGIN, "--per-company", "true"],
    );
    assert_eq!(out["per_company"], true);
    let third = open("acme").await;
    assert_eq!(
        state(second).await,
        SessionState::Active,
        "another company's"
    );
    assert_eq!(serving("acme").await, Some(acme));
    assert_eq!(serving("globex").await, Some(globex));
    let _ = open("acme").await;
    assert_eq!(
        state(third).await,
        SessionState::Closed,
        "the same company's"
    );
    fx.finish().await;
}

on_both_databases!(one_session_per_user_in_the_database_or_per_company);
