//! The signing capability against a real SoftHSM2 token, through a real
//! plugin (well-behaved's `sign` task): certificates, the three mechanisms
//! checked by independent verifiers (the `rsa` and `p256` crates), the
//! refusals (no grant, no session, missing key, unsupported mechanism,
//! wrong and locked PIN), saved PINs across a restart, the ERP API, the
//! admin functions, and what gets logged.

use crate::softhsm;
use std::sync::Arc;

use crate::admin::{Fixture, manifest};
use crate::served::Served;
use crate::softhsm::{EC_ID, PIN, RSA_ID, SoftHsm, softhsm};
use h2h_host::capabilities::Grants;
use h2h_host::capabilities::signing::SigningGrant;
use h2h_host::db::testing::TestBackend;
use h2h_host::pkcs11::{SlotSelector, TokenError, TokenService};
use h2h_host::runtime::{CallContext, Plugin};
use h2h_host::vault::EntryId;
use h2h_test_plugins::{MINIMAL, WELL_BEHAVED};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::Row;

// ---------------------------------------------------------------- set-up

/// A host on SQLite with company `acme` and the token `label` registered
/// under the same name.
async fn host(hsm: &SoftHsm, label: &str) -> Fixture {
    let fx = Fixture::new(TestBackend::Sqlite).await.expect("SQLite");
    fx.company("acme").await;
    fx.host
        .admin
        .register_token(
            &fx.actor,
            label,
            &hsm.module,
            Some(SlotSelector::Label(label.to_owned())),
        )
        .await
        .expect("token registers");
    fx
}

fn pin(text: &str) -> SecretString {
    SecretString::from(text)
}

/// Opens acme's session on `token` with the right PIN.
async fn open(tokens: &TokenService, token: &str, save: bool) {
    tokens
        .open_session("acme", token, pin(PIN), save, "anna")
        .await
        .expect("session opens");
}

/// well-behaved, allowed to sign with `tokens` of `service`.
fn signer(fx: &Fixture, service: &Arc<TokenService>, tokens: &[&str]) -> Plugin {
    let signing = SigningGrant::new(
        service.clone(),
        tokens.iter().map(|t| (*t).to_owned()).collect(),
    );
    load(
        fx,
        Grants {
            signing,
            ..Grants::default()
        },
    )
}

fn load(fx: &Fixture, grants: Grants) -> Plugin {
    fx.host
        .runtime
        .load(
            "well-behaved",
            &std::fs::read(WELL_BEHAVED).expect("test plugin built"),
            grants,
        )
        .expect("loads")
}

/// Runs `sign` for `company` with these settings; what it stored.
async fn run_sign(
    fx: &Fixture,
    plugin: &Plugin,
    company: Option<&str>,
    settings: &[(&str, &str)],
) -> Value {
    let ctx = CallContext {
        company_id: company.map(str::to_owned),
        settings: settings
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..CallContext::default()
    };
    plugin.run_task(ctx, "sign").await.expect("sign runs");
    fx.stored_for("well-behaved", company.unwrap_or_default(), "signed")
        .await
        .expect("sign stored its outcome")
}

fn unhex(text: &Value) -> Vec<u8> {
    let text = text.as_str().expect("hex string");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Verifies `signature` over `data` with the certificate's public key, by
/// the RustCrypto verifiers (not the host's code).
pub(crate) fn verify(cert: &softhsm::Cert, mechanism: &str, data: &[u8], signature: &[u8]) -> bool {
    use p256::ecdsa::signature::Verifier as _;
    use rsa::pkcs8::DecodePublicKey as _;
    match mechanism {
        "rsa-pkcs1-sha256" | "rsa-pss-sha256" => {
            let key = rsa::RsaPublicKey::from_public_key_pem(&cert.public_pem).expect("RSA key");
            if mechanism == "rsa-pkcs1-sha256" {
                let key = rsa::pkcs1v15::VerifyingKey::<rsa::sha2::Sha256>::new(key);
                rsa::pkcs1v15::Signature::try_from(signature)
                    .is_ok_and(|s| key.verify(data, &s).is_ok())
            } else {
                // Salt length 32 exactly: the verifier checks it.
                let key = rsa::pss::VerifyingKey::<rsa::sha2::Sha256>::new_with_salt_len(key, 32);
                rsa::pss::Signature::try_from(signature).is_ok_and(|s| key.verify(data, &s).is_ok())
            }
        }
        "ecdsa-p256-sha256" => {
            let key =
                p256::ecdsa::VerifyingKey::from_public_key_pem(&cert.public_pem).expect("EC key");
            p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|s| key.verify(data, &s).is_ok())
        }
        other => panic!("unknown mechanism {other}"),
    }
}

fn error(kind: &str, message: &str) -> Value {
    json!({ "kind": kind, "message": message })
}

async fn pin_rows(fx: &Fixture) -> Vec<Vec<u8>> {
    sqlx::query("SELECT sealed FROM vault_entries WHERE kind = 'pin'")
        .fetch_all(fx.host.db.pool())
        .await
        .expect("query")
        .iter()
        .map(|row| row.try_get("sealed").expect("sealed"))
        .collect()
}

// ---------------------------------------------------------------- plugin

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plugin_lists_certificates_with_their_fields() {
    let Some(hsm) = softhsm() else { return };
    let fx = host(hsm, "listing").await;
    open(&fx.host.tokens, "listing", false).await;
    let plugin = signer(&fx, &fx.host.tokens, &["listing"]);

    let signed = run_sign(&fx, &plugin, Some("acme"), &[("sign-mechanisms", "")]).await;
    let hex = |der: &[u8]| der.iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(
        signed["certificates"],
        json!([
            {
                "key-id": format!("listing:{EC_ID}"),
                "label": "EC signer",
                "subject": "CN=ACME Signer EC,O=ACME sp. z o.o.,C=PL",
                "issuer": "CN=ACME Signer EC,O=ACME sp. z o.o.,C=PL",
                "serial": "2002",
                "not-before": hsm.ec.not_before,
                "not-after": hsm.ec.not_after,
                "der": hex(&hsm.ec.der),
                "mechanisms": ["ecdsa-p256-sha256"],
            },
            {
                "key-id": format!("listing:{RSA_ID}"),
                "label": "RSA signer",
                "subject": "CN=ACME Signer RSA,O=ACME sp. z o.o.,C=PL",
                "issuer": "CN=ACME Signer RSA,O=ACME sp. z o.o.,C=PL",
                "serial": "1001",
                "not-before": hsm.rsa.not_before,
                "not-after": hsm.rsa.not_after,
                "der": hex(&hsm.rsa.der),
                "mechanisms": ["rsa-pkcs1-sha256", "rsa-pss-sha256"],
            },
        ])
    );
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_mechanism_signs_and_an_independent_verifier_accepts_it() {
    let Some(hsm) = softhsm() else { return };
    let fx = host(hsm, "mechanisms").await;
    open(&fx.host.tokens, "mechanisms", false).await;
    let plugin = signer(&fx, &fx.host.tokens, &["mechanisms"]);
    let data = "<Przelew><Kwota>1234.50</Kwota><Waluta>PLN</Waluta></Przelew>";

    // No mechanisms named: each key signs with each it supports.
    let signed = run_sign(&fx, &plugin, Some("acme"), &[("sign-data", data)]).await;
    let signatures = signed["signatures"].as_array().expect("signatures");
    let made: Vec<(&str, &str)> = signatures
        .iter()
        .map(|s| {
            assert!(s.get("error").is_none(), "{s}");
            (
                s["key-id"].as_str().expect("key id"),
                s["mechanism"].as_str().expect("mechanism"),
            )
        })
        .collect();
    assert_eq!(
        made,
        [
            ("mechanisms:02", "ecdsa-p256-sha256"),
            ("mechanisms:01", "rsa-pkcs1-sha256"),
            ("mechanisms:01", "rsa-pss-sha256"),
        ]
    );
    for s in signatures {
        let mechanism = s["mechanism"].as_str().expect("mechanism");
        let cert = if mechanism.starts_with("rsa") {
            &hsm.rsa
        } else {
            &hsm.ec
        };
        let signature = unhex(&s["signature"]);
        let expected_len = if mechanism.starts_with("rsa") {
            256
        } else {
            64
        };
        assert_eq!(signature.len(), expected_len, "{mechanism}");
        assert!(
            verify(cert, mechanism, data.as_bytes(), &signature),
            "{mechanism}: the verifier refused a signature of the data"
        );
        assert!(
            !verify(cert, mechanism, b"other data", &signature),
            "{mechanism}: the verifier accepted it for other data"
        );
    }
    // PKCS#1 v1.5 is deterministic: the same data, the same signature.
    let again = run_sign(
        &fx,
        &plugin,
        Some("acme"),
        &[
            ("sign-data", data),
            ("sign-key", "mechanisms:01"),
            ("sign-mechanisms", "rsa-pkcs1-sha256"),
        ],
    )
    .await;
    assert_eq!(
        again["signatures"][0]["signature"],
        signatures[1]["signature"]
    );
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_keys_and_unsupported_mechanisms_are_refused_exactly() {
    let Some(hsm) = softhsm() else { return };
    let fx = host(hsm, "refusals").await;
    open(&fx.host.tokens, "refusals", false).await;
    let plugin = signer(&fx, &fx.host.tokens, &["refusals"]);
    let attempt = |key: &'static str, mechanism: &'static str| {
        let (fx, plugin) = (&fx, &plugin);
        async move {
            let signed = run_sign(
                fx,
                plugin,
                Some("acme"),
                &[
                    ("sign-key", key),
                    ("sign-mechanisms", mechanism),
                    ("sign-data", "x"),
                ],
            )
            .await;
            signed["signatures"][0]["error"].clone()
        }
    };

    assert_eq!(
        attempt("refusals:02", "rsa-pss-sha256").await,
        error(
            "unsupported-mechanism",
            "key `refusals:02` cannot sign with rsa-pss-sha256: it is an EC P-256 key, which signs with ecdsa-p256-sha256"
        )
    );
    assert_eq!(
        attempt("refusals:01", "ecdsa-p256-sha256").await,
        error(
            "unsupported-mechanism",
            "key `refusals:01` cannot sign with ecdsa-p256-sha256: it is an RSA key, which signs with rsa-pkcs1-sha256, rsa-pss-sha256"
        )
    );
    assert_eq!(
        attempt("refusals:7f", "rsa-pkcs1-sha256").await,
        error("key-not-found", "refusals:7f")
    );
    // A key of a token not granted, and ids that are no key ids at all.
    assert_eq!(
        attempt("listing:01", "rsa-pkcs1-sha256").await,
        error("key-not-found", "listing:01")
    );
    assert_eq!(
        attempt("refusals:zz", "rsa-pkcs1-sha256").await,
        error("key-not-found", "refusals:zz")
    );
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_without_the_grant_is_denied() {
    let Some(hsm) = softhsm() else { return };
    let fx = host(hsm, "no-grant").await;
    open(&fx.host.tokens, "no-grant", false).await;
    let denied = json!({ "kind": "not-granted", "message": null });

    // The default grant, and a grant of no token, deny both calls.
    for plugin in [
        load(&fx, Grants::default()),
        signer(&fx, &fx.host.tokens, &[]),
    ] {
        let listed = run_sign(&fx, &plugin, Some("acme"), &[]).await;
        assert_eq!(listed, json!({ "signatures": [], "error": denied }));
        let signed = run_sign(
            &fx,
            &plugin,
            Some("acme"),
            &[
                ("sign-key", "no-grant:01"),
                ("sign-mechanisms", "rsa-pkcs1-sha256"),
            ],
        )
        .await;
        assert_eq!(signed["signatures"][0]["error"], denied);
    }
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_session_the_plugin_is_told_a_session_is_required() {
    let Some(hsm) = softhsm() else { return };
    let fx = host(hsm, "no-session").await;
    let plugin = signer(&fx, &fx.host.tokens, &["no-session"]);

    let listed = run_sign(&fx, &plugin, Some("acme"), &[]).await;
    assert_eq!(
        listed["error"],
        error(
            "session-required",
            "token `no-session`: no signing session is open for company `acme`; an ERP user must open one with the token's PIN"
        )
    );
    let signed = run_sign(
        &fx,
        &plugin,
        Some("acme"),
        &[
            ("sign-key", "no-session:01"),
            ("sign-mechanisms", "rsa-pkcs1-sha256"),
        ],
    )
    .await;
    assert_eq!(signed["signatures"][0]["error"], listed["error"]);

    // Sessions belong to companies: a plugin-wide call has none.
    let plugin_wide = run_sign(&fx, &plugin, None, &[]).await;
    assert_eq!(
        plugin_wide["error"],
        error(
            "session-required",
            "signing needs a company, and this call runs for none"
        )
    );
    // Another company's session is not this one's.
    fx.company("globex").await;
    fx.host
        .tokens
        .open_session("globex", "no-session", pin(PIN), false, "greg")
        .await
        .expect("globex opens");
    let still = run_sign(&fx, &plugin, Some("acme"), &[]).await;
    assert_eq!(
        still["error"]["kind"], "session-required",
        "acme must not use globex's session: {still}"
    );
    fx.finish().await;
}

// ---------------------------------------------------------------- PINs

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_pins_are_counted_and_the_host_stops_before_a_card_would_lock() {
    let Some(hsm) = softhsm() else { return };
    let fx = host(hsm, "wrong-pin").await;
    let tokens = &fx.host.tokens;

    let wrong = tokens
        .open_session("acme", "wrong-pin", pin("0000-wrong"), true, "anna")
        .await
        .expect_err("wrong PIN");
    assert_eq!(wrong.kind(), "wrong_pin");
    // SoftHSM sets CKF_USER_PIN_COUNT_LOW after a wrong PIN; the message
    // passes that on, and never the PIN.
    assert_eq!(
        wrong.to_string(),
        "token `wrong-pin`: wrong PIN (the token reports few tries left before it locks the PIN)"
    );
    assert!(
        pin_rows(&fx).await.is_empty(),
        "a refused PIN is never saved"
    );
    assert!(tokens.sessions(None).is_empty());

    // SoftHSM2 keeps no retry counter, so the host counts: after two wrong
    // PINs in a row it sends none, not even the right one, until an admin
    // says the right PIN is known. A real card would lock at the third.
    let second = tokens
        .open_session("acme", "wrong-pin", pin("1111-wrong"), false, "anna")
        .await
        .expect_err("wrong PIN");
    assert!(matches!(second, TokenError::WrongPin { .. }), "{second}");
    for attempt in [pin("2222-wrong"), pin(PIN)] {
        let stopped = tokens
            .open_session("acme", "wrong-pin", attempt, false, "anna")
            .await
            .expect_err("stopped");
        assert_eq!(stopped.kind(), "pin_attempts_exhausted");
        assert_eq!(
            stopped.to_string(),
            "token `wrong-pin`: 2 wrong PINs in a row; the host sends no more before the card \
             would lock; an admin resets the count with `h2h token reset-pins wrong-pin` once the \
             right PIN is known"
        );
    }
    assert_eq!(
        fx.host
            .admin
            .reset_wrong_pins(&fx.actor, "wrong-pin")
            .await
            .expect("reset"),
        2
    );
    let info = tokens
        .open_session("acme", "wrong-pin", pin(PIN), false, "anna")
        .await
        .expect("right PIN");
    assert_eq!(info.token_label, "wrong-pin");

    // A working session is never logged out by another try: refused as it
    // is, the session still signs.
    let again = tokens
        .open_session("acme", "wrong-pin", pin("3333-wrong"), false, "anna")
        .await
        .expect_err("a session is open");
    assert_eq!(again.kind(), "signing_session_open");
    assert_eq!(tokens.sessions(Some("acme")).len(), 1);
    tokens
        .certificates("acme", "wrong-pin")
        .await
        .expect("still logged in");
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_pin_is_refused_without_sending_the_pin() {
    let Some(hsm) = softhsm() else { return };
    let fx = host(hsm, softhsm::LOCKED).await;
    // The right PIN: were it sent, SoftHSM (which ignores its own locked
    // flag) would accept it; the host refuses before logging in.
    let locked = fx
        .host
        .tokens
        .open_session("acme", softhsm::LOCKED, pin(PIN), true, "anna")
        .await
        .expect_err("locked");
    assert_eq!(locked.kind(), "pin_locked");
    assert_eq!(
        locked.to_string(),
        "token `locked`: PIN locked; unblock it with the token's administration tool before signing"
    );
    assert!(fx.host.tokens.sessions(None).is_empty());
    assert!(pin_rows(&fx).await.is_empty());
    // Admins see it in the listing too.
    let listing = fx.host.admin.tokens().await.expect("tokens");
    let slot = listing[0]
        .slots
        .iter()
        .find(|s| s.token_label.as_deref() == Some("locked"))
        .expect("the locked token's slot");
    assert!(slot.pin_locked);
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_pin_reopens_the_session_after_a_restart_and_a_wrong_one_is_dropped() {
    let Some(hsm) = softhsm() else { return };
    let fx = host(hsm, "saved").await;
    let vault = fx.host.admin.vault().vault().clone();
    let first = Arc::new(TokenService::new(fx.host.db.clone(), Some(vault.clone())));
    let info = first
        .open_session("acme", "saved", pin(PIN), true, "anna")
        .await
        .expect("opens");
    assert!(info.saved);
    let rows = pin_rows(&fx).await;
    assert_eq!(rows.len(), 1);
    assert!(
        !rows[0].windows(PIN.len()).any(|w| w == PIN.as_bytes()),
        "the vault row holds the PIN in clear"
    );
    drop(first);

    // A restart: a new service with no sessions opens one from the vault.
    let second = Arc::new(TokenService::new(fx.host.db.clone(), Some(vault.clone())));
    let plugin = signer(&fx, &second, &["saved"]);
    let signed = run_sign(
        &fx,
        &plugin,
        Some("acme"),
        &[
            ("sign-key", "saved:01"),
            ("sign-mechanisms", "rsa-pss-sha256"),
            ("sign-data", "d"),
        ],
    )
    .await;
    let signature = unhex(&signed["signatures"][0]["signature"]);
    assert!(verify(&hsm.rsa, "rsa-pss-sha256", b"d", &signature));
    let sessions = second.sessions(Some("acme"));
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].opened_by, "host");
    assert!(sessions[0].saved);
    drop((plugin, second));

    // A saved PIN that is wrong (changed on the token since) is tried once,
    // deleted, and said so; the next call is not another try.
    let store = fx.host.admin.vault();
    store
        .put(&EntryId::pin("acme", "saved"), b"0000-stale", "anna")
        .await
        .expect("put");
    let third = Arc::new(TokenService::new(fx.host.db.clone(), Some(vault)));
    let plugin = signer(&fx, &third, &["saved"]);
    let refused = run_sign(&fx, &plugin, Some("acme"), &[]).await;
    assert_eq!(
        refused["error"],
        error(
            "token",
            "token `saved`: the saved PIN of company `acme` was refused as wrong and has been deleted; an ERP user must open a signing session with the PIN"
        )
    );
    assert!(pin_rows(&fx).await.is_empty());
    let next = run_sign(&fx, &plugin, Some("acme"), &[]).await;
    assert_eq!(next["error"]["kind"], "session-required");
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_save_nothing_is_kept_and_closing_forgets_the_pin() {
    let Some(hsm) = softhsm() else { return };
    let fx = host(hsm, "unsaved").await;
    let tokens = &fx.host.tokens;
    let info = tokens
        .open_session("acme", "unsaved", pin(PIN), false, "anna")
        .await
        .expect("opens");
    assert!(!info.saved);
    assert!(pin_rows(&fx).await.is_empty());

    // While it is open, no second login replaces it.
    let again = tokens
        .open_session("acme", "unsaved", pin(PIN), true, "anna")
        .await
        .expect_err("open already");
    assert_eq!(again.kind(), "signing_session_open");
    assert!(pin_rows(&fx).await.is_empty());
    tokens
        .close_session("acme", "unsaved")
        .await
        .expect("close");

    // Saved; after a restart (no session in memory) opened without save:
    // the saved PIN goes.
    open(tokens, "unsaved", true).await;
    assert_eq!(pin_rows(&fx).await.len(), 1);
    let restarted = TokenService::new(
        fx.host.db.clone(),
        Some(fx.host.admin.vault().vault().clone()),
    );
    open(&restarted, "unsaved", false).await;
    assert!(pin_rows(&fx).await.is_empty());
    assert_eq!(restarted.sessions(Some("acme")).len(), 1);
    restarted
        .close_session("acme", "unsaved")
        .await
        .expect("close");
    tokens
        .close_session("acme", "unsaved")
        .await
        .expect("close");

    open(tokens, "unsaved", true).await;
    let closed = tokens
        .close_session("acme", "unsaved")
        .await
        .expect("close");
    assert!(closed.closed && closed.forgot_pin);
    assert!(tokens.sessions(None).is_empty());
    assert!(pin_rows(&fx).await.is_empty());
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_token_serves_one_companys_login_at_a_time() {
    let Some(hsm) = softhsm() else { return };
    let fx = host(hsm, "busy").await;
    fx.company("globex").await;
    let tokens = &fx.host.tokens;
    open(tokens, "busy", false).await;
    let busy = tokens
        .open_session("globex", "busy", pin(PIN), false, "greg")
        .await
        .expect_err("busy");
    assert_eq!(
        busy.to_string(),
        "token `busy` is in use by company `acme`'s signing session; close that session first"
    );
    tokens.close_session("acme", "busy").await.expect("close");
    tokens
        .open_session("globex", "busy", pin(PIN), false, "greg")
        .await
        .expect("free again");
    let unknown = tokens
        .open_session("nobody", "busy", pin(PIN), false, "greg")
        .await
        .expect_err("no such company");
    assert_eq!(unknown.to_string(), "company `nobody` does not exist");
    fx.finish().await;
}

// ---------------------------------------------------------------- ERP API

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_erp_api_opens_lists_and_closes_sessions_for_users_who_may() {
    let Some(hsm) = softhsm() else { return };
    let fx = host(hsm, "api").await;
    fx.company("globex").await;
    let extra = "[capabilities]\nsigning = true\nhttp = [\"https://bank.example\"]\n\n\
                 [[permissions]]\nname = \"log-in\"\ndescription = \"Log in.\"\n\
                 operations = [\"open-session\"]\n";
    fx.install_with(
        "well-behaved",
        &manifest("well-behaved", "1.0.0", extra),
        WELL_BEHAVED,
    )
    .await;
    let admin = &fx.host.admin;
    for (user, company, may) in [
        ("anna", "acme", true),
        ("bob", "acme", false),
        ("carl", "globex", true),
    ] {
        admin
            .add_erp_user(&fx.actor, user, user, None)
            .await
            .expect("user");
        admin
            .grant_company(&fx.actor, user, company, false)
            .await
            .expect("company");
        if may {
            admin
                .grant_permission(&fx.actor, user, "well-behaved", "log-in")
                .await
                .expect("permission");
        }
    }
    let api = Served::start(&fx).await;
    let call = |user: &'static str, method: Method, path: &str, body: Option<Value>| {
        let api = &api;
        let path = path.to_owned();
        async move { api.erp(method, &path, Some(user), body).await }
    };
    let login = |pin: &str| json!({"company": "acme", "token": "api", "pin": pin, "save": true});

    // Without a user, the routes are closed like every ERP route.
    let (status, _) = api
        .erp(Method::GET, "/signing/sessions?company=acme", None, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Not granted to any plugin yet: nobody may log in to it.
    let (status, body) = call("anna", Method::POST, "/signing/sessions", Some(login(PIN))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not_granted")),
        "{body}"
    );
    admin
        .grant_signing(&fx.actor, "api", "well-behaved")
        .await
        .expect("grant");
    // bob reads acme but may not log in; carl may log in, not for acme.
    for user in ["bob", "carl"] {
        let (status, body) = call(user, Method::POST, "/signing/sessions", Some(login(PIN))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user}: {body}");
    }

    let (status, body) = call(
        "anna",
        Method::POST,
        "/signing/sessions",
        Some(login("0000-wrong")),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("wrong_pin"))
    );
    assert!(!body.to_string().contains("0000-wrong"), "{body}");

    let (status, body) = call("anna", Method::POST, "/signing/sessions", Some(login(PIN))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let slot = body["slot"].as_u64().expect("slot");
    assert_eq!(
        body,
        json!({"company": "acme", "token": "api", "slot": slot, "token_label": "api", "saved": true})
    );
    // Another try over the working session is refused and logs nothing out.
    let (status, body) = call(
        "anna",
        Method::POST,
        "/signing/sessions",
        Some(login("1111-wrong")),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("signing_session_open"))
    );

    let (status, listed) = call("bob", Method::GET, "/signing/sessions?company=acme", None).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["opened_by"], "anna");
    assert!(!listed.to_string().contains(PIN));
    let (status, _) = call("carl", Method::GET, "/signing/sessions?company=acme", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call("carl", Method::DELETE, "/signing/sessions/acme/api", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "carl cannot log acme out");

    let (status, body) = call(
        "anna",
        Method::POST,
        "/signing/sessions",
        Some(json!({"company": "acme", "token": "nope", "pin": PIN})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"code": "unknown_token", "message": "token `nope` is not registered"})
    );

    let (status, body) = call("anna", Method::DELETE, "/signing/sessions/acme/api", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"closed": true, "forgot_pin": true}));

    // The locked token, registered here under another name.
    admin
        .register_token(
            &fx.actor,
            "locked-too",
            &hsm.module,
            Some(SlotSelector::Label(softhsm::LOCKED.into())),
        )
        .await
        .expect("registers");
    admin
        .grant_signing(&fx.actor, "locked-too", "well-behaved")
        .await
        .expect("grant");
    let (status, body) = call(
        "anna",
        Method::POST,
        "/signing/sessions",
        Some(json!({"company": "acme", "token": "locked-too", "pin": PIN})),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::LOCKED, Some("pin_locked"))
    );

    api.stop().await;
    fx.finish().await;
}

// ---------------------------------------------------------------- admin

async fn admin_functions(backend: TestBackend) {
    let Some(hsm) = softhsm() else { return };
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let label = match backend {
        TestBackend::Sqlite => "admin-sqlite",
        TestBackend::Postgres => "admin-postgres",
    };
    let admin = &fx.host.admin;
    let actor = &fx.actor;

    let missing = admin
        .register_token(actor, "card", "/nonexistent/libnope.so", None)
        .await
        .expect_err("no module");
    assert_eq!(missing.kind(), "module_load");
    assert_eq!(
        missing.to_string(),
        "PKCS#11 module /nonexistent/libnope.so: No such file or directory (os error 2)"
    );
    let not_a_module = admin
        .register_token(actor, "card", "/etc/hostname", None)
        .await
        .expect_err("not a library");
    assert_eq!(not_a_module.kind(), "module_load");
    let relative = admin
        .register_token(actor, "card", "libsofthsm2.so", None)
        .await
        .expect_err("relative");
    assert_eq!(
        relative.to_string(),
        "PKCS#11 module libsofthsm2.so: give the module's absolute path"
    );
    let bad_name = admin
        .register_token(actor, "Card 1", &hsm.module, None)
        .await
        .expect_err("name");
    assert_eq!(bad_name.kind(), "invalid_token_name");
    let no_such_label = admin
        .register_token(
            actor,
            "card",
            &hsm.module,
            Some(SlotSelector::Label("nope".into())),
        )
        .await
        .expect_err("label");
    assert_eq!(no_such_label.kind(), "slot_not_found");
    let text = no_such_label.to_string();
    assert!(
        text.starts_with(&format!(
            "token `card`: token label `nope` not found in {}; it holds `",
            std::fs::canonicalize(&hsm.module).expect("path").display()
        )),
        "{text}"
    );
    // Several tokens: the admin must say which.
    let ambiguous = admin
        .register_token(actor, "card", &hsm.module, None)
        .await
        .expect_err("several");
    assert_eq!(ambiguous.kind(), "invalid_input");

    let registered = admin
        .register_token(
            actor,
            "card",
            &hsm.module,
            Some(SlotSelector::Label(label.into())),
        )
        .await
        .expect("registers");
    assert_eq!(registered.found.token_label.as_deref(), Some(label));
    assert!(registered.found.initialized && !registered.found.pin_locked);
    let again = admin
        .register_token(
            actor,
            "card",
            &hsm.module,
            Some(SlotSelector::Label(label.into())),
        )
        .await
        .expect_err("taken");
    assert_eq!(again.to_string(), "token `card` is already registered");

    // Grants: only to an installed plugin whose manifest asks for signing.
    let uninstalled = admin
        .grant_signing(actor, "card", "signer")
        .await
        .expect_err("not installed");
    assert_eq!(uninstalled.to_string(), "signer is not installed");
    let signer = manifest(
        "signer",
        "1.0.0",
        "[capabilities]\nsigning = true\nhttp = [\"https://bank.example\"]\n",
    );
    fx.upload_with(&signer, WELL_BEHAVED).await;
    fx.add_license("signer").await;
    admin.install(actor, "signer", None).await.expect("install");
    fx.upload("plain", "1.0.0", MINIMAL).await;
    fx.add_license("plain").await;
    admin.install(actor, "plain", None).await.expect("install");

    let undeclared = admin
        .grant_signing(actor, "card", "plain")
        .await
        .expect_err("no signing in the manifest");
    assert_eq!(undeclared.kind(), "signing_not_declared");
    assert_eq!(
        undeclared.to_string(),
        "plugin `plain` does not declare `capabilities.signing = true` in its manifest, so it cannot be granted signing"
    );
    let unknown = admin
        .grant_signing(actor, "nope", "signer")
        .await
        .expect_err("no token");
    assert_eq!(unknown.kind(), "unknown_token");
    assert!(
        admin
            .grant_signing(actor, "card", "signer")
            .await
            .expect("grant")
            .changed
    );
    assert!(
        !admin
            .grant_signing(actor, "card", "signer")
            .await
            .expect("again")
            .changed
    );

    let listing = admin.tokens().await.expect("list");
    assert_eq!(listing.len(), 1);
    assert_eq!(listing[0].token.name, "card");
    assert_eq!(listing[0].token.token_label.as_deref(), Some(label));
    assert_eq!(listing[0].granted_to, ["signer"]);
    assert!(listing[0].module_error.is_none());
    let granted = fx
        .host
        .tokens
        .granted_tokens("signer")
        .await
        .expect("grant");
    assert_eq!(granted, ["card"]);

    assert!(
        admin
            .revoke_signing(actor, "card", "signer")
            .await
            .expect("revoke")
            .changed
    );
    assert!(
        !admin
            .revoke_signing(actor, "card", "signer")
            .await
            .expect("again")
            .changed
    );
    let granted = fx
        .host
        .tokens
        .granted_tokens("signer")
        .await
        .expect("grant");
    assert!(granted.is_empty());

    let audit: Vec<(String, String, String)> = admin
        .audit(0, 1000)
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.action.starts_with("token."))
        .map(|e| (e.action, e.target, e.outcome))
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("token.register", "card", "module_load"),
        ("token.register", "card", "module_load"),
        ("token.register", "card", "module_load"),
        ("token.register", "Card 1", "invalid_token_name"),
        ("token.register", "card", "slot_not_found"),
        ("token.register", "card", "invalid_input"),
        ("token.register", "card", "ok"),
        ("token.register", "card", "token_exists"),
        ("token.grant", "card to signer", "not_installed"),
        ("token.grant", "card to plain", "signing_not_declared"),
        ("token.grant", "nope to signer", "unknown_token"),
        ("token.grant", "card to signer", "ok"),
        ("token.grant", "card to signer", "ok"),
        ("token.revoke", "card from signer", "ok"),
        ("token.revoke", "card from signer", "ok"),
    ]
    .iter()
    .map(|(a, t, o)| ((*a).to_owned(), (*t).to_owned(), (*o).to_owned()))
    .collect();
    assert_eq!(audit, expected);
    fx.finish().await;
}

on_both_databases!(admin_functions);

// ---------------------------------------------------------------- logging

/// Set in the child process that [`signing_log_probe`] runs in.
const LOG_PROBE: &str = "H2H_SIGNING_LOG_PROBE";

/// tracing decides per callsite, process-wide, whether anyone listens, so
/// the logging check runs alone in a child process of this test binary
/// (with its own SoftHSM set-up) and reads what it printed.
#[test]
fn the_pin_never_appears_in_the_logs() {
    if softhsm().is_none() {
        return;
    }
    let logs = crate::common::run_probe(&probe_name!("signing_log_probe"), LOG_PROBE);
    assert!(
        logs.contains("probe done"),
        "the probe did not run:\n{logs}"
    );
    let line = logs
        .lines()
        .find(|l| l.contains("INFO h2h::signing: signed "))
        .unwrap_or_else(|| panic!("no signature line in:\n{logs}"));
    for part in [
        "plugin=well-behaved",
        "company=\"acme\"",
        "token=probe",
        "key_id=\"probe:01\"",
        "mechanism=rsa-pss-sha256",
        "bytes=11",
        "duration_ms=",
    ] {
        assert!(line.contains(part), "`{part}` missing from: {line}");
    }
    assert!(logs.contains("signing session refused"), "{logs}");
    assert!(logs.contains("kind=\"wrong_pin\""), "{logs}");
    for secret in [PIN, "0000-wrong", "secret data"] {
        assert!(
            !logs.contains(secret),
            "`{secret}` leaked into the logs:\n{logs}"
        );
    }
}

/// Opens a session with a wrong then the right PIN (saved), signs, and
/// closes, with every log line at trace and above printed. Does nothing
/// when run as an ordinary test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_log_probe() {
    if std::env::var_os(LOG_PROBE).is_none() {
        return;
    }
    let Some(hsm) = softhsm() else { return };
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(std::io::stdout)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("subscriber");
    let fx = host(hsm, "probe").await;
    let tokens = &fx.host.tokens;
    let _ = tokens
        .open_session("acme", "probe", pin("0000-wrong"), true, "anna")
        .await;
    open(tokens, "probe", true).await;
    let plugin = signer(&fx, tokens, &["probe"]);
    let signed = run_sign(
        &fx,
        &plugin,
        Some("acme"),
        &[
            ("sign-key", "probe:01"),
            ("sign-mechanisms", "rsa-pss-sha256"),
            ("sign-data", "secret data"),
        ],
    )
    .await;
    assert!(signed["signatures"][0]["signature"].is_string(), "{signed}");
    tokens.close_session("acme", "probe").await.expect("close");
    fx.finish().await;
    println!("probe done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_installed_plugin_signs_only_while_the_admin_grants_the_token() {
    let Some(hsm) = softhsm() else { return };
    let fx = host(hsm, "served").await;
    let extra = "[capabilities]\nsigning = true\nhttp = [\"https://bank.example\"]\n\n\
                 [[settings]]\nname = \"sign-mechanisms\"\ntype = \"string\"\ndescription = \"Which.\"\n\n\
                 [[tasks]]\nname = \"sign\"\ncron = \"0 0 1 1 *\"\ndescription = \"Signs.\"\n";
    fx.install_with(
        "well-behaved",
        &manifest("well-behaved", "1.0.0", extra),
        WELL_BEHAVED,
    )
    .await;
    let admin = &fx.host.admin;
    admin
        .set_setting(&fx.actor, "acme", "well-behaved", "sign-mechanisms", "")
        .await
        .expect("setting");
    open(&fx.host.tokens, "served", false).await;
    let scheduler = fx.scheduler("test");
    let signed = || async {
        let run = scheduler
            .run_now("well-behaved", "sign", Some("acme"), None)
            .await
            .expect("run");
        assert_eq!(run.outcome, "ok", "{run:?}");
        fx.stored_for("well-behaved", "acme", "signed")
            .await
            .expect("stored")
    };
    let denied = json!({ "kind": "not-granted", "message": null });

    assert_eq!(signed().await["error"], denied, "installed, not granted");
    admin
        .grant_signing(&fx.actor, "served", "well-behaved")
        .await
        .expect("grant");
    let granted = signed().await;
    assert_eq!(
        granted["certificates"].as_array().map(Vec::len),
        Some(2),
        "{granted}"
    );
    admin
        .revoke_signing(&fx.actor, "served", "well-behaved")
        .await
        .expect("revoke");
    assert_eq!(signed().await["error"], denied, "revoked without a restart");
    fx.finish().await;
}
