//! The admin's HTTP grant of an installed plugin, through the registry and
//! a real plugin (well-behaved's `fetch`) against a loopback bank: loopback
//! stays refused until the admin allows that exact host:port, a revoked
//! origin is refused, and each change reaches the serving registry without
//! a restart. On SQLite and on PostgreSQL.

use crate::admin;
use crate::admin::Fixture;
use h2h_host::db::testing::TestBackend;
use h2h_host::scheduler::Scheduler;
use h2h_test_plugins::WELL_BEHAVED;
use serde_json::Value;

async fn bank() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let app = axum::Router::new().route("/hello", axum::routing::get(|| async { "hello" }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

async fn fetched(fx: &Fixture, scheduler: &Scheduler) -> Value {
    let run = scheduler
        .run_now("well-behaved", "fetch", Some("acme"), None)
        .await
        .expect("run");
    assert_eq!(run.outcome, "ok", "{run:?}");
    fx.stored_for("well-behaved", "acme", "fetch")
        .await
        .expect("fetch stored its outcome")
}

async fn admin_grants_decide_what_an_installed_plugin_reaches(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let port = bank().await;
    let origin = format!("http://127.0.0.1:{port}");
    let manifest = admin::manifest(
        "well-behaved",
        "1.0.0",
        &format!(
            "[capabilities]\nhttp = [\"{origin}\", \"https://bank.example\"]\nsigning = true\n\n\
             [[settings]]\nname = \"url\"\ntype = \"string\"\ndescription = \"What to fetch.\"\n\n\
             [[tasks]]\nname = \"fetch\"\ncron = \"0 0 1 1 *\"\ndescription = \"Fetches url.\"\n"
        ),
    );
    fx.install_with("well-behaved", &manifest, WELL_BEHAVED)
        .await;
    let admin = &fx.host.admin;
    fx.company("acme").await;
    admin
        .set_setting(
            &fx.actor,
            "acme",
            "well-behaved",
            "url",
            &format!("{origin}/hello"),
        )
        .await
        .expect("url");
    let scheduler = fx.scheduler("test");

    // Declared, but loopback: refused on the address.
    let refused = fetched(&fx, &scheduler).await;
    assert_eq!(refused["error"]["kind"], "denied", "{refused}");
    assert_eq!(
        refused["error"]["detail"],
        format!(
            "{origin}/hello: 127.0.0.1 is a loopback address; the admin has not allowed 127.0.0.1:{port} for this plugin"
        )
    );

    // Only a host:port in the allow-list can be allowed.
    let outside = admin
        .allow_private_host(&fx.actor, "well-behaved", "10.0.0.7:443", true)
        .await
        .expect_err("not listed");
    assert_eq!(
        outside.to_string(),
        format!(
            "10.0.0.7:443 is not in well-behaved's allow-list ({origin}, https://bank.example:443)"
        )
    );
    let grant = admin
        .allow_private_host(
            &fx.actor,
            "well-behaved",
            &format!("127.0.0.1:{port}"),
            true,
        )
        .await
        .expect("allow");
    assert_eq!(grant.private_hosts, vec![format!("127.0.0.1:{port}")]);
    let allowed = fetched(&fx, &scheduler).await;
    assert_eq!(allowed["response"]["status"], 200, "{allowed}");
    assert_eq!(allowed["response"]["body"], "hello");

    // Revoking the origin takes it away again, for the same registry.
    admin
        .revoke_origin(&fx.actor, "well-behaved", &origin, false)
        .await
        .expect("revoke");
    let revoked = fetched(&fx, &scheduler).await;
    assert_eq!(revoked["error"]["kind"], "denied");
    assert_eq!(
        revoked["error"]["detail"],
        format!("{origin}/hello: not in this plugin's allow-list (https://bank.example)")
    );
    let unknown = admin
        .revoke_origin(&fx.actor, "well-behaved", "https://evil.example", false)
        .await
        .expect_err("not declared");
    assert_eq!(unknown.kind(), "invalid_input");

    let shown = admin.http_grant("well-behaved").await.expect("grant");
    assert_eq!(shown.revoked, vec![origin.clone()]);
    fx.finish().await;
}

on_both_databases!(admin_grants_decide_what_an_installed_plugin_reaches);
