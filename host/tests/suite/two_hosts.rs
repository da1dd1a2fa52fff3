//! Two host processes on one database: a serving host keeps each company's
//! call context (settings, secrets opened from the vault, TLS identities)
//! and its loaded plugins, yet a change made through another process (the
//! CLI beside `h2h serve` on SQLite, a second host on PostgreSQL) reaches
//! its very next call. Through a real plugin (well-behaved's `fetch`)
//! against a loopback bank that echoes what it got. On SQLite and on
//! PostgreSQL.

use axum::extract::Request;
use h2h_host::db::testing::TestBackend;
use h2h_host::vault::EntryId;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::admin::{self, Fixture};
use crate::served::Served;
use h2h_test_plugins::WELL_BEHAVED;

const PLUGIN: &str = "well-behaved";

/// A bank answering every request with its path and Authorization header.
async fn echo_bank() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let app = axum::Router::new().fallback(|request: Request| async move {
        let auth = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none")
            .to_owned();
        format!("{} {auth}", request.uri().path())
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

async fn set(fx: &Fixture, name: &str, value: &str) {
    fx.host
        .admin
        .set_setting(&fx.actor, "acme", PLUGIN, name, value)
        .await
        .expect("setting");
}

/// Runs `fetch` for acme on the serving host; what the bank answered, or
/// the capability's refusal.
async fn fetch_on(served: &Served, fx: &Fixture) -> Value {
    let (status, run) = served
        .post(
            &format!("/plugins/{PLUGIN}/tasks/fetch"),
            "anna",
            json!({"company": "acme"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["outcome"], "ok", "{run}");
    let fetched = fx.stored_for(PLUGIN, "acme", "fetch").await.expect("fetch");
    match fetched.get("response") {
        Some(response) => response["body"].clone(),
        None => fetched["error"].clone(),
    }
}

async fn a_change_through_one_process_reaches_the_others_next_call(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let port = echo_bank().await;
    let origin = format!("http://127.0.0.1:{port}");
    let manifest = admin::manifest(
        PLUGIN,
        "1.0.0",
        &format!(
            "[capabilities]\nhttp = [\"{origin}\"]\nsigning = true\n\n\
             [[settings]]\nname = \"url\"\ntype = \"string\"\ndescription = \"What to fetch.\"\n\n\
             [[settings]]\nname = \"token\"\ntype = \"secret\"\ndescription = \"Bearer token.\"\n\n\
             [[tasks]]\nname = \"fetch\"\ncron = \"0 0 1 1 *\"\ndescription = \"Fetches url.\"\n"
        ),
    );
    fx.install_with(PLUGIN, &manifest, WELL_BEHAVED).await;
    fx.company("acme").await;
    let admin = &fx.host.admin;
    admin
        .allow_private_host(&fx.actor, PLUGIN, &format!("127.0.0.1:{port}"), true)
        .await
        .expect("loopback bank");
    admin
        .add_erp_user(&fx.actor, "anna", "Anna", None)
        .await
        .expect("user");
    admin
        .grant_company(&fx.actor, "anna", "acme", false)
        .await
        .expect("access");
    set(&fx, "url", &format!("{origin}/first")).await;
    set(&fx, "token", "t-one").await;

    // The serving host is another process: its own connectors and kept
    // contexts. `fx.host` plays the CLI (or a second host).
    let served = Served::start(&fx).await;
    assert_eq!(fetch_on(&served, &fx).await, "/first Bearer t-one");
    assert_eq!(
        fetch_on(&served, &fx).await,
        "/first Bearer t-one",
        "the kept context serves the next call"
    );

    set(&fx, "url", &format!("{origin}/second")).await;
    assert_eq!(fetch_on(&served, &fx).await, "/second Bearer t-one");

    set(&fx, "token", "t-two").await;
    assert_eq!(fetch_on(&served, &fx).await, "/second Bearer t-two");

    let removed = admin
        .unset_setting(&fx.actor, "acme", PLUGIN, "token")
        .await
        .expect("unset");
    assert!(removed);
    assert_eq!(fetch_on(&served, &fx).await, "/second none");

    // A grant taken away.
    admin
        .revoke_origin(&fx.actor, PLUGIN, &origin, false)
        .await
        .expect("revoke");
    let refused = fetch_on(&served, &fx).await;
    assert_eq!(refused["kind"], "denied", "{refused}");

    // An API key revoked: the serving host refuses its next request.
    admin
        .revoke_api_key(&fx.actor, "erp")
        .await
        .expect("revoke key");
    let (status, body) = served.get("/plugins", "anna").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    served.stop().await;
    fx.finish().await;
}

on_both_databases!(a_change_through_one_process_reaches_the_others_next_call);

/// The generation that keeps contexts moves with what they are built from,
/// and only with that: a PIN or a sealed bank session changes often and is
/// read per call, so it must not throw kept contexts away.
async fn the_context_generation_moves_only_with_what_contexts_hold(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let manifest = admin::manifest(
        PLUGIN,
        "1.0.0",
        "[capabilities]\nhttp = [\"https://bank.example\"]\nsigning = true\n\n\
         [[settings]]\nname = \"url\"\ntype = \"string\"\ndescription = \"What to fetch.\"\n",
    );
    fx.install_with(PLUGIN, &manifest, WELL_BEHAVED).await;
    fx.company("acme").await;
    let connectors = fx.host.connectors();
    let generation = || async {
        connectors
            .get(PLUGIN)
            .await
            .expect("loaded")
            .context_generation()
    };
    let start = generation().await;
    assert_eq!(generation().await, start, "nothing changed");

    let vault = fx.host.admin.vault();
    vault
        .put(&EntryId::pin("acme", "card-1"), b"1234", "test")
        .await
        .expect("pin");
    vault
        .put(&EntryId::bank_session("acme", PLUGIN, 7), b"token", "test")
        .await
        .expect("session");
    assert_eq!(
        generation().await,
        start,
        "PINs and sessions are read per call"
    );

    set(&fx, "url", "https://bank.example/a").await;
    let after_setting = generation().await;
    assert!(after_setting > start);
    vault
        .put(&EntryId::secret("acme", PLUGIN, "token"), b"s", "test")
        .await
        .expect("secret");
    let after_secret = generation().await;
    assert!(after_secret > after_setting);
    vault
        .put(
            &EntryId::tls_identity("acme", PLUGIN, "comm"),
            b"{}",
            "test",
        )
        .await
        .expect("identity");
    assert!(generation().await > after_secret);
    fx.finish().await;
}

on_both_databases!(the_context_generation_moves_only_with_what_contexts_hold);
