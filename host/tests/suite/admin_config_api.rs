//! The admin REST API for companies, settings and tasks: the CLI's
//! operations over HTTP, secrets never coming back; API keys.

use crate::admin;
use crate::admin::Fixture;
use crate::served::Served;
use h2h_host::db::testing::TestBackend;
use h2h_test_plugins::TICKER;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn companies_settings_and_tasks_over_http(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let extra = "[[settings]]\nname = \"token\"\ntype = \"secret\"\ndescription = \"API token.\"\n\n\
                 [[tasks]]\nname = \"tick\"\ncron = \"0 6 * * *\"\ndescription = \"Counts.\"\n";
    fx.install_with("ticker", &admin::manifest("ticker", "1.0.0", extra), TICKER)
        .await;
    let api = Served::start(&fx).await;
    let base = format!("{}/admin/v1", api.base);
    let client = &api.client;
    let key = &api.admin_key;

    let added = client
        .post(format!("{base}/companies"))
        .bearer_auth(key)
        .json(&json!({ "id": "acme", "name": "ACME S.A." }))
        .send()
        .await
        .expect("call");
    assert_eq!(added.status(), StatusCode::OK);
    let again = client
        .post(format!("{base}/companies"))
        .bearer_auth(key)
        .json(&json!({ "id": "acme", "name": "ACME again" }))
        .send()
        .await
        .expect("call");
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let body: Value = again.json().await.expect("json");
    assert_eq!(body["code"], "company_exists");

    let set = client
        .put(format!(
            "{base}/companies/acme/plugins/ticker/settings/token"
        ))
        .bearer_auth(key)
        .json(&json!({ "value": "tok-very-secret" }))
        .send()
        .await
        .expect("call");
    assert_eq!(set.status(), StatusCode::OK);
    let text = set.text().await.expect("text");
    assert!(!text.contains("tok-very-secret"), "{text}");
    let listed: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(listed[0]["name"], "token");
    assert_eq!(listed[0]["set"], true);
    assert_eq!(listed[0]["value"], Value::Null);

    let bad = client
        .put(format!("{base}/tasks/ticker/tick"))
        .bearer_auth(key)
        .json(&json!({ "cron": "every day" }))
        .send()
        .await
        .expect("call");
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let paused: Value = client
        .put(format!("{base}/tasks/ticker/tick"))
        .bearer_auth(key)
        .json(&json!({ "cron": "*/10 * * * *", "paused": true }))
        .send()
        .await
        .expect("call")
        .json()
        .await
        .expect("json");
    assert_eq!(paused["cron"], "*/10 * * * *");
    assert_eq!(paused["paused"], true);
    let history = client
        .get(format!("{base}/tasks/ticker/tick/history"))
        .bearer_auth(key)
        .send()
        .await
        .expect("call");
    assert_eq!(history.status(), StatusCode::OK);
    assert_eq!(history.json::<Value>().await.expect("json"), json!([]));

    api.stop().await;
    fx.finish().await;
}

on_both_databases!(companies_settings_and_tasks_over_http);

/// API keys over the admin API: a created key's secret is answered once
/// and works; the list never shows a secret; a revoked key is refused from
/// the next request; an ERP key cannot manage keys.
async fn api_keys_are_created_listed_and_revoked_over_http(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let api = Served::start(&fx).await;
    let (status, created) = api
        .admin(
            reqwest::Method::POST,
            "/api-keys",
            Some(json!({ "name": "billing", "role": "erp" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["key"]["name"], "billing");
    assert_eq!(created["key"]["role"], "erp");
    let secret = created["secret"].as_str().expect("secret").to_owned();
    let (status, taken) = api
        .admin(
            reqwest::Method::POST,
            "/api-keys",
            Some(json!({ "name": "billing", "role": "admin" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{taken}");
    assert_eq!(taken["code"], "invalid_input");

    let plugins = |secret: String| {
        let api = &api;
        async move {
            api.client
                .get(format!("{}/erp/v1/plugins", api.base))
                .bearer_auth(secret)
                .header("X-H2H-User", "anna")
                .send()
                .await
                .expect("call")
                .status()
        }
    };
    assert_ne!(plugins(secret.clone()).await, StatusCode::UNAUTHORIZED);
    let forbidden = api
        .client
        .get(format!("{}/admin/v1/api-keys", api.base))
        .bearer_auth(&secret)
        .send()
        .await
        .expect("call");
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);

    let (status, listed) = api.admin(reqwest::Method::GET, "/api-keys", None).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = listed
        .as_array()
        .expect("list")
        .iter()
        .map(|k| k["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["billing", "erp", "ops"]);
    assert!(!listed.to_string().contains(&secret));

    let (status, revoked) = api
        .admin(reqwest::Method::DELETE, "/api-keys/billing", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["name"], "billing");
    assert_eq!(plugins(secret).await, StatusCode::UNAUTHORIZED);
    let (status, unknown) = api
        .admin(reqwest::Method::DELETE, "/api-keys/billing", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(unknown["code"], "unknown_api_key");
    let audit = fx.host.admin.audit(0, 100).await.expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.action == "api-key.revoke" && e.target == "billing"),
        "{audit:?}"
    );
    api.stop().await;
    fx.finish().await;
}

on_both_databases!(api_keys_are_created_listed_and_revoked_over_http);

/// An ERP key bound to users acts only for them: another user named in
/// `X-H2H-User` is refused before anything runs, though that user exists
/// and has access. Binding names existing users, and only on ERP keys.
async fn an_erp_key_bound_to_users_acts_only_for_them(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    for user in ["anna", "bob"] {
        fx.host
            .admin
            .add_erp_user(&fx.actor, user, user, None)
            .await
            .expect("user");
    }
    let api = Served::start(&fx).await;
    let create = |body: serde_json::Value| {
        let api = &api;
        async move {
            api.admin(reqwest::Method::POST, "/api-keys", Some(body))
                .await
        }
    };
    let (status, created) =
        create(json!({ "name": "shop", "role": "erp", "acts_for": ["anna"] })).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["key"]["acts_for"], json!(["anna"]));
    let secret = created["secret"].as_str().expect("secret").to_owned();

    let as_user = |user: &'static str| {
        let (api, secret) = (&api, secret.clone());
        async move {
            let response = api
                .client
                .get(format!("{}/erp/v1/plugins", api.base))
                .bearer_auth(secret)
                .header("X-H2H-User", user)
                .send()
                .await
                .expect("call");
            let status = response.status();
            (
                status,
                response.json::<serde_json::Value>().await.expect("json"),
            )
        }
    };
    assert_eq!(as_user("anna").await.0, StatusCode::OK);
    let (status, refused) = as_user("bob").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["code"], "forbidden");
    assert_eq!(
        refused["message"],
        "API key `shop` acts only for ERP users anna, not for `bob`"
    );

    let (status, unknown) =
        create(json!({ "name": "ghost", "role": "erp", "acts_for": ["nobody"] })).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}");
    assert_eq!(unknown["code"], "unknown_erp_user");
    let (status, admin) =
        create(json!({ "name": "root", "role": "admin", "acts_for": ["anna"] })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{admin}");
    assert_eq!(admin["code"], "invalid_input");

    let (_, listed) = api.admin(reqwest::Method::GET, "/api-keys", None).await;
    let bound: Vec<(&str, &serde_json::Value)> = listed
        .as_array()
        .expect("list")
        .iter()
        .map(|k| (k["name"].as_str().expect("name"), &k["acts_for"]))
        .collect();
    assert_eq!(
        bound,
        [
            ("erp", &json!(null)),
            ("ops", &json!(null)),
            ("shop", &json!(["anna"]))
        ]
    );
    let audit = fx.host.admin.audit(0, 100).await.expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.action == "api-key.create" && e.detail == "role erp, acting for anna"),
        "{audit:?}"
    );
    api.stop().await;
    fx.finish().await;
}

on_both_databases!(an_erp_key_bound_to_users_acts_only_for_them);
