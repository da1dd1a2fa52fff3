//! The ERP REST API over loopback, on SQLite and on PostgreSQL: the OpenAPI
//! document lists every route and every documented route is served; each
//! request names an ERP user who must exist, be enabled and have access to
//! the company; plugin permissions guard the operations their manifest
//! says; accounts, transactions, receivables and the events feed round
//! trip with cursor paging that never repeats or skips.

use crate::admin;
use std::collections::BTreeSet;

use crate::admin::Fixture;
use crate::served::Served;
use chrono::NaiveDate;
use h2h_host::db::testing::TestBackend;
use h2h_host::packages::Operation;

use h2h_host::settlements::{BankAccount, Direction, IncomingTransaction, Settlements};
use h2h_test_plugins::TICKER;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The ERP routes this API must document, as `(method, path)`.
const ERP_ROUTES: &[(&str, &str)] = &[
    ("get", "/erp/v1/plugins"),
    ("post", "/erp/v1/plugins/{id}/tasks/{task}"),
    ("get", "/erp/v1/companies"),
    ("put", "/erp/v1/companies/{id}/auto-matching"),
    ("get", "/erp/v1/accounts"),
    ("post", "/erp/v1/accounts"),
    ("get", "/erp/v1/accounts/{id}"),
    ("get", "/erp/v1/accounts/{id}/transactions"),
    ("get", "/erp/v1/accounts/{id}/documents"),
    ("get", "/erp/v1/documents/{id}"),
    ("get", "/erp/v1/receivables"),
    ("post", "/erp/v1/receivables"),
    ("get", "/erp/v1/receivables/{company}/{invoice}"),
    ("get", "/erp/v1/events"),
    ("post", "/erp/v1/transfers"),
    ("post", "/erp/v1/transfers/export"),
    ("get", "/erp/v1/batches/{id}"),
    ("post", "/erp/v1/batches/{id}/refresh"),
    ("post", "/erp/v1/batches/{id}/withdraw"),
    ("post", "/erp/v1/batches/{id}/submit"),
    ("post", "/erp/v1/bank-sessions"),
    ("get", "/erp/v1/bank-sessions"),
    ("get", "/erp/v1/bank-sessions/{id}"),
    ("delete", "/erp/v1/bank-sessions/{id}"),
    ("post", "/erp/v1/bank-sessions/{id}/signature"),
    ("post", "/erp/v1/bank-sessions/{id}/refresh"),
    (
        "put",
        "/erp/v1/companies/{company}/bank-sessions/default-user",
    ),
    ("post", "/erp/v1/terminals/pair"),
    ("get", "/erp/v1/terminals"),
    ("delete", "/erp/v1/terminals/{id}"),
    ("post", "/erp/v1/card-payments"),
    ("get", "/erp/v1/card-payments"),
    ("get", "/erp/v1/card-payments/{id}"),
    ("post", "/erp/v1/card-payments/{id}/refresh"),
    ("post", "/erp/v1/card-payments/{id}/void"),
    ("get", "/erp/v1/card-payments/{id}/exchanges"),
    ("post", "/erp/v1/signing/sessions"),
    ("get", "/erp/v1/signing/sessions"),
    ("delete", "/erp/v1/signing/sessions/{company}/{token}"),
];

/// The admin routes for ERP users and webhooks.
const ADMIN_ROUTES: &[(&str, &str)] = &[
    ("get", "/admin/v1/erp-users"),
    ("post", "/admin/v1/erp-users"),
    ("get", "/admin/v1/erp-users/{id}"),
    ("post", "/admin/v1/erp-users/{id}/disable"),
    ("post", "/admin/v1/erp-users/{id}/enable"),
    ("get", "/admin/v1/erp-users/{id}/permissions"),
    ("post", "/admin/v1/erp-users/{id}/permissions"),
    (
        "delete",
        "/admin/v1/erp-users/{id}/permissions/{plugin}/{permission}",
    ),
    ("put", "/admin/v1/erp-users/{id}/companies/{company}"),
    ("delete", "/admin/v1/erp-users/{id}/companies/{company}"),
    ("get", "/admin/v1/webhooks"),
    ("put", "/admin/v1/companies/{company}/webhook"),
    ("delete", "/admin/v1/companies/{company}/webhook"),
    // Some of the admin API that was there before.
    ("get", "/admin/v1/plugins"),
    ("post", "/admin/v1/plugins/{id}/install"),
    ("get", "/admin/v1/companies"),
    ("put", "/admin/v1/tasks/{plugin}/{task}"),
];

/// Adds ERP user `id` with access to `companies`.
async fn user(fx: &Fixture, id: &str, companies: &[&str]) {
    fx.host
        .admin
        .add_erp_user(&fx.actor, id, &format!("User {id}"), None)
        .await
        .expect("user");
    for company in companies {
        fx.host
            .admin
            .grant_company(&fx.actor, id, company, false)
            .await
            .expect("grant");
    }
}

fn credit(reference: &str, day: u32, amount: &str, title: &str) -> IncomingTransaction {
    IncomingTransaction {
        bank_reference: reference.to_owned(),
        booking_date: NaiveDate::from_ymd_opt(2026, 11, day).expect("date"),
        direction: Direction::Credit,
        amount: amount.parse().expect("decimal"),
        currency: "UAH".to_owned(),
        title: title.to_owned(),
        counterparty_name: Some("ТОВ Ромашка".to_owned()),
        counterparty_account: None,
        former_references: Vec::new(),
        details: Default::default(),
    }
}

const IBAN_ACME: &str = "UA21 3223 1300 0002 6007 2335 6600 1";
const IBAN_GLOBEX: &str = "UA80 3052 9900 0002 6001 4041 0005 1";

async fn account(settlements: &Settlements, id: &str, company: &str, iban: &str) {
    settlements
        .add_account(&BankAccount {
            id: id.to_owned(),
            company: company.to_owned(),
            plugin: "privat24".to_owned(),
            iban: iban.to_owned(),
            currency: "UAH".to_owned(),
            name: id.to_owned(),
        })
        .await
        .expect("account");
}

// ------------------------------------------------------------- OpenAPI

async fn openapi_lists_and_serves_every_route(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    fx.company("acme").await;
    user(&fx, "anna", &["acme"]).await;
    let api = Served::start(&fx).await;

    // Served without a key.
    let response = api
        .client
        .get(format!("{}/openapi.json", api.base))
        .send()
        .await
        .expect("call");
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.expect("valid JSON");
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3."), "{version}");
    assert_eq!(
        doc,
        serde_json::to_value(h2h_host::api::openapi()).expect("doc")
    );

    let paths = doc["paths"].as_object().expect("paths");
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            ["get", "put", "post", "delete", "patch"]
                .into_iter()
                .filter(|m| item.get(*m).is_some())
                .map(|m| (m.to_owned(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let missing: Vec<_> = ERP_ROUTES
        .iter()
        .chain(ADMIN_ROUTES)
        .filter(|(m, p)| !documented.contains(&((*m).to_owned(), (*p).to_owned())))
        .collect();
    assert!(missing.is_empty(), "not in the document: {missing:?}");

    // Every ERP operation names X-H2H-User, needs the bearer key, and
    // documents its errors as ErrorBody; operation ids are unique.
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], json!(["code", "message"]), "{error}");
    let mut ids = BTreeSet::new();
    let schemas = &doc["components"]["schemas"];
    let mut without_example = Vec::new();
    for (method, path) in &documented {
        let item = &paths[path];
        let operation = &item[method];
        let id = operation["operationId"].as_str().expect("operation id");
        assert!(ids.insert(id.to_owned()), "operation id {id} repeats");
        assert_eq!(operation["security"], json!([{"bearer": []}]), "{path}");
        // The key check's answer, and no catch-all in place of answers.
        assert_eq!(
            operation["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody",
            "{method} {path}"
        );
        assert!(
            operation["responses"].get("default").is_none(),
            "{method} {path}"
        );
        if path.contains('{') {
            assert!(
                operation["responses"].get("404").is_some(),
                "{method} {path} names a resource but documents no 404"
            );
        }
        if path.starts_with("/admin/v1/") {
            for status in ["409", "422"] {
                assert!(
                    operation["responses"].get(status).is_some(),
                    "{method} {path} documents no {status}"
                );
            }
        }
        // The query's limits are in the document: paging bounds, and the
        // company every route but the feed requires.
        for param in operation["parameters"].as_array().into_iter().flatten() {
            let schema = &param["schema"];
            match param["name"].as_str() {
                Some("limit") => assert_eq!(
                    (schema["minimum"].as_i64(), schema["maximum"].as_i64()),
                    (Some(1), Some(1000)),
                    "{method} {path} limit"
                ),
                Some("after") => assert_eq!(schema["minimum"], 0, "{method} {path} after"),
                Some("company") if param["in"] == "query" && path != "/erp/v1/events" => {
                    assert_eq!(param["required"], true, "{method} {path} company");
                    assert_eq!(schema["minLength"], 1, "{method} {path} company");
                }
                _ => {}
            }
        }
        // A body is documented with what the body layers answer, and a JSON
        // body with an example a checker can send to reach success.
        let body = &operation["requestBody"]["content"];
        if let Some(json) = body.get("application/json") {
            for status in ["400", "413", "415"] {
                assert!(
                    operation["responses"].get(status).is_some(),
                    "{method} {path} has a JSON body but no {status}"
                );
            }
            let schema = match json["schema"]["$ref"].as_str() {
                Some(name) => &schemas[name.trim_start_matches("#/components/schemas/")],
                None => &json["schema"],
            };
            if json.get("example").is_none() && schema.get("example").is_none() {
                without_example.push(format!("{method} {path}"));
            }
        }
        if path.starts_with("/erp/v1/") {
            let header = item["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(operation["parameters"].as_array().into_iter().flatten())
                .any(|p| p["name"] == "X-H2H-User" && p["in"] == "header");
            assert!(header, "{method} {path} does not document X-H2H-User");
            assert_eq!(
                operation["responses"]["403"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path}"
            );
        }
    }

    assert!(
        without_example.is_empty(),
        "JSON bodies without an example: {without_example:#?}"
    );

    // Every documented operation is routed: the router answers it with
    // something other than its own 404 or 405.
    let routed = |status: StatusCode, body: &Value| {
        // The router's own 404 is `not_found`; a handler's names what it
        // did not find (`unknown_account`, ...).
        status != StatusCode::METHOD_NOT_ALLOWED
            && (status != StatusCode::NOT_FOUND || body["code"] != "not_found")
    };
    let unrouted = api
        .erp(Method::GET, "/no-such-route", Some("anna"), None)
        .await;
    assert!(
        !routed(unrouted.0, &unrouted.1),
        "the check must be able to fail"
    );
    for (method, path) in &documented {
        let concrete = path
            .split('/')
            .map(|s| if s.starts_with('{') { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let (status, body) = if let Some(rest) = concrete.strip_prefix("/erp/v1") {
            api.erp(method.clone(), rest, Some("anna"), None).await
        } else if let Some(rest) = concrete.strip_prefix("/admin/v1") {
            api.admin(method.clone(), rest, None).await
        } else {
            panic!("{path} is outside the APIs");
        };
        assert!(routed(status, &body), "{method} {path}: {status} {body}");
    }
    api.stop().await;
    fx.finish().await;
}

on_both_databases!(openapi_lists_and_serves_every_route);

// ------------------------------------------------------ users and access

async fn each_request_names_a_user_with_access(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    fx.company("acme").await;
    fx.host
        .admin
        .add_company(&fx.actor, "acme-krakow", "ACME Kraków", Some("acme"))
        .await
        .expect("branch");
    fx.company("globex").await;
    let api = Served::start(&fx).await;

    // Users through the admin API.
    let (status, added) = api
        .admin(
            Method::POST,
            "/erp-users",
            Some(json!({"id": "anna", "display_name": "Anna Nowak", "email": "anna@acme.example"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added["enabled"], true);
    let (status, again) = api
        .admin(
            Method::POST,
            "/erp-users",
            Some(json!({"id": "anna", "display_name": "Anna again"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(again["code"], "erp_user_exists");
    let (status, access) = api
        .admin(Method::PUT, "/erp-users/anna/companies/acme", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{access}");
    assert_eq!(access["companies"], json!(["acme"]));
    user(&fx, "bob", &["acme"]).await;
    let (status, _) = api
        .admin(Method::POST, "/erp-users/bob/disable", None)
        .await;
    assert_eq!(status, StatusCode::OK);

    // No key: 401 before anything else.
    let anonymous = api
        .client
        .get(format!("{}/erp/v1/companies", api.base))
        .header("X-H2H-User", "anna")
        .send()
        .await
        .expect("call");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let (status, body) = api.erp(Method::GET, "/companies", None, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "erp_user_required");
    for who in ["nobody", "bob"] {
        let (status, body) = api.get("/companies", who).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {body}");
        assert_eq!(body["code"], "unknown_erp_user", "{who}");
    }

    // Anna acts for acme only: not globex, not acme's branch.
    let (status, companies) = api.get("/companies", "anna").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = companies
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["acme"]);
    assert_eq!(companies[0]["auto_matching"], false);
    let (status, _) = api.get("/accounts?company=acme", "anna").await;
    assert_eq!(status, StatusCode::OK);
    for company in ["globex", "acme-krakow", "no-such-company"] {
        let (status, body) = api
            .get(&format!("/accounts?company={company}"), "anna")
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{company}: {body}");
        assert_eq!(body["code"], "forbidden");
        assert_eq!(
            body["message"],
            format!("ERP user `anna` may not act for company `{company}`")
        );
    }
    // A resource named by id: refused without naming its company.
    account(
        &Settlements::new(fx.host.db.clone()),
        "g-1",
        "globex",
        "UA213223130000026007233566001",
    )
    .await;
    for path in [
        "/accounts/g-1",
        "/accounts/g-1/transactions",
        "/accounts/g-1/documents",
        "/accounts/g-1/sync",
    ] {
        let (status, body) = api.get(path, "anna").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(body["code"], "forbidden");
        assert_eq!(body["message"], "ERP user `anna` may not see account `g-1`");
    }
    let (status, body) = api
        .erp(
            Method::PUT,
            "/companies/globex/auto-matching",
            Some("anna"),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );

    // Branches are granted explicitly.
    let (status, access) = api
        .admin(
            Method::PUT,
            "/erp-users/anna/companies/acme",
            Some(json!({"with_branches": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(access["companies"], json!(["acme", "acme-krakow"]));
    let (status, _) = api.get("/accounts?company=acme-krakow", "anna").await;
    assert_eq!(status, StatusCode::OK);

    // Revoked: refused again.
    let (status, _) = api
        .admin(Method::DELETE, "/erp-users/anna/companies/acme", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api.get("/accounts?company=acme", "anna").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let audit = fx.host.admin.audit(0, 1000).await.expect("audit");
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    for action in [
        "erp-user.add",
        "erp-user.grant-company",
        "erp-user.disable",
        "erp-user.revoke-company",
    ] {
        assert!(
            actions.contains(&action),
            "{action} not audited: {actions:?}"
        );
    }
    api.stop().await;
    fx.finish().await;
}

on_both_databases!(each_request_names_a_user_with_access);

// ---------------------------------------------------- permission guards

const GUARDED_TICKER: &str = r#"
[[tasks]]
name = "tick"
cron = "0 6 * * *"
description = "Counts."

[[tasks]]
name = "report"
cron = "0 7 * * *"
description = "Reports."

[[permissions]]
name = "run-ticks"
description = "Run the tick task now"
operations = ["task:tick"]

[[permissions]]
name = "open-sessions"
description = "Open bank sessions"
operations = ["open-session"]
"#;

async fn plugin_permissions_guard_their_operations(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    fx.install_with(
        "ticker",
        &admin::manifest("ticker", "1.0.0", GUARDED_TICKER),
        TICKER,
    )
    .await;
    fx.company("acme").await;
    fx.company("globex").await;
    user(&fx, "anna", &["acme"]).await;
    let api = Served::start(&fx).await;
    let run = async |task: &str, company: &str| {
        api.erp(
            Method::POST,
            &format!("/plugins/ticker/tasks/{task}"),
            Some("anna"),
            Some(json!({"company": company})),
        )
        .await
    };

    // Guarded: refused, nothing ran.
    let (status, body) = run("tick", "acme").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "forbidden");
    assert_eq!(
        body["message"],
        "ERP user `anna` needs the permission run-ticks of ticker for `task:tick`"
    );
    assert_eq!(fx.stored_for("ticker", "acme", "ticks").await, None);

    // Not guarded by any permission: company access is enough.
    let (status, body) = run("report", "acme").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["outcome"], "ok", "{body}");
    let report = fx
        .stored_for("ticker", "acme", "report")
        .await
        .expect("ran");
    assert_eq!(report["user"], "anna", "the run acts for the header's user");

    // A permission the plugin does not declare cannot be granted.
    let (status, body) = api
        .admin(
            Method::POST,
            "/erp-users/anna/permissions",
            Some(json!({"permission": "ticker/run-everything"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "unknown_permission");

    // Granted: the task runs.
    let (status, access) = api
        .admin(
            Method::POST,
            "/erp-users/anna/permissions",
            Some(json!({"permission": "ticker/run-ticks"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{access}");
    assert_eq!(
        access["permissions"],
        json!([{"plugin": "ticker", "permission": "run-ticks", "operations": ["task:tick"], "declared": true}])
    );
    let (status, body) = run("tick", "acme").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["outcome"], "ok", "{body}");
    assert_eq!(
        fx.stored_for("ticker", "acme", "ticks").await,
        Some(json!(1))
    );

    // The permission does not open another company.
    let (status, body) = run("tick", "globex").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    // A task run names its company.
    let (status, body) = api
        .erp(
            Method::POST,
            "/plugins/ticker/tasks/tick",
            Some("anna"),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_input"))
    );

    // Revoked: refused again.
    let (status, _) = api
        .admin(
            Method::DELETE,
            "/erp-users/anna/permissions/ticker/run-ticks",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = run("tick", "acme").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        fx.stored_for("ticker", "acme", "ticks").await,
        Some(json!(1))
    );

    // The library check itself.
    let admin = &fx.host.admin;
    admin
        .authorize("anna", "acme", Some("ticker"), &Operation::SyncStatements)
        .await
        .expect("no permission guards it");
    let error = admin
        .authorize("anna", "acme", Some("ticker"), &Operation::OpenSession)
        .await
        .expect_err("guarded");
    assert_eq!(error.kind(), "forbidden");
    api.stop().await;
    fx.finish().await;
}

on_both_databases!(plugin_permissions_guard_their_operations);

// ------------------------------------------- accounts and receivables

async fn accounts_transactions_and_receivables_round_trip(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    fx.install_with("ticker", &admin::manifest("ticker", "1.0.0", ""), TICKER)
        .await;
    fx.company("acme").await;
    user(&fx, "anna", &["acme"]).await;
    let api = Served::start(&fx).await;
    let post =
        |path: &'static str, body: Value| api.erp(Method::POST, path, Some("anna"), Some(body));

    let new_account = json!({
        "id": "acme-uah", "company": "acme", "plugin": "ticker",
        "iban": IBAN_ACME, "currency": "UAH"
    });
    let (status, added) = post("/accounts", new_account.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(
        added,
        json!({"id": "acme-uah", "company": "acme", "plugin": "ticker",
               "iban": "UA213223130000026007233566001", "currency": "UAH", "name": "acme-uah"})
    );
    let (status, body) = post("/accounts", new_account).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_exists"))
    );
    let (status, body) = post(
        "/accounts",
        json!({"id": "bad", "company": "acme", "plugin": "ticker", "iban": "UA00 1234", "currency": "UAH"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_input"))
    );
    let (status, body) = post(
        "/accounts",
        json!({"id": "other", "company": "acme", "plugin": "nope", "iban": IBAN_GLOBEX, "currency": "UAH"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_installed"))
    );
    let (status, body) = post("/accounts", json!({"id": "x"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_input"))
    );

    let (status, list) = api.get("/accounts?company=acme", "anna").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    let (status, body) = api.get("/accounts", "anna").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_input"))
    );
    let (status, one) = api.get("/accounts/acme-uah", "anna").await;
    assert_eq!(
        (status, one["iban"].clone()),
        (StatusCode::OK, json!("UA213223130000026007233566001"))
    );
    let (status, body) = api.get("/accounts/nope", "anna").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_account"))
    );

    // Transactions as record() stored them, paged.
    let settlements = Settlements::new(fx.host.db.clone());
    let page: Vec<IncomingTransaction> = (1..=5)
        .map(|day| credit(&format!("ID-{day}"), day, &format!("{day}0.50"), "payment"))
        .collect();
    settlements.record("acme-uah", &page).await.expect("record");
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = api
            .get(
                &format!("/accounts/acme-uah/transactions?limit=2&after={after}"),
                "anna",
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for t in page["transactions"].as_array().expect("list") {
            seen.push(t["bank_reference"].as_str().expect("ref").to_owned());
        }
        after = page["next"].as_i64().expect("next");
        if page["more"] == false {
            break;
        }
    }
    assert_eq!(seen, ["ID-1", "ID-2", "ID-3", "ID-4", "ID-5"]);
    let (_, again) = api
        .get(
            &format!("/accounts/acme-uah/transactions?after={after}"),
            "anna",
        )
        .await;
    assert_eq!(again["transactions"], json!([]));
    assert_eq!(again["next"], after, "an empty page keeps the cursor");
    let (status, range) = api
        .get(
            "/accounts/acme-uah/transactions?from=2026-11-02&to=2026-11-03",
            "anna",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let first = &range["transactions"][0];
    assert_eq!(
        (
            first["booking_date"].as_str(),
            first["amount"].as_str(),
            first["direction"].as_str()
        ),
        (Some("2026-11-02"), Some("20.50"), Some("credit"))
    );
    assert_eq!(range["transactions"].as_array().map(Vec::len), Some(2));
    for bad in [
        "from=2026-13-01",
        "to=yesterday",
        "from=2026-11-05&to=2026-11-01",
        "limit=0",
        "limit=1001",
        "limit=many",
        "after=-1",
    ] {
        let (status, body) = api
            .get(&format!("/accounts/acme-uah/transactions?{bad}"), "anna")
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["code"], "invalid_input", "{bad}");
    }

    // Receivables, then a matching payment settles one.
    let invoice = json!({"company": "acme", "invoice_number": "FV/2026/11/0042",
                         "amount": "1500.00", "currency": "UAH", "counterparty": "ТОВ Ромашка"});
    let (status, added) = post("/receivables", invoice.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(
        (
            added["amount"].as_str(),
            added["open_amount"].as_str(),
            added["status"].as_str()
        ),
        (Some("1500.00"), Some("1500.00"), Some("open"))
    );
    let (status, body) = post("/receivables", invoice).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_exists"))
    );
    for amount in ["abc", "-5", "0"] {
        let (status, body) = post(
            "/receivables",
            json!({"company": "acme", "invoice_number": "FV/X", "amount": amount, "currency": "UAH"}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{amount}: {body}");
    }
    post(
        "/receivables",
        json!({"company": "acme", "invoice_number": "FV/2026/11/0043", "amount": "99.99", "currency": "UAH"}),
    )
    .await;
    let (status, switch) = api
        .erp(
            Method::PUT,
            "/companies/acme/auto-matching",
            Some("anna"),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!((status, switch), (StatusCode::OK, json!({"enabled": true})));
    let (_, companies) = api.get("/companies", "anna").await;
    assert_eq!(companies[0]["auto_matching"], true);
    settlements
        .record(
            "acme-uah",
            &[credit("PAY-1", 6, "1500", "Оплата FV/2026/11/0042")],
        )
        .await
        .expect("record");
    let (status, detail) = api
        .get("/receivables/acme/FV%2F2026%2F11%2F0042", "anna")
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(
        (detail["status"].as_str(), detail["open_amount"].as_str()),
        (Some("settled"), Some("0.00"))
    );
    let payment = &detail["payments"][0];
    assert_eq!(
        (
            payment["bank_reference"].as_str(),
            payment["amount"].as_str(),
            payment["reason"].as_str()
        ),
        (Some("PAY-1"), Some("1500.00"), Some("exact"))
    );
    let (_, settled) = api
        .get("/receivables?company=acme&status=settled", "anna")
        .await;
    let (_, open) = api
        .get("/receivables?company=acme&status=open", "anna")
        .await;
    let numbers = |list: &Value| -> Vec<String> {
        list.as_array()
            .expect("list")
            .iter()
            .map(|r| r["invoice_number"].as_str().expect("number").to_owned())
            .collect()
    };
    assert_eq!(numbers(&settled), ["FV/2026/11/0042"]);
    assert_eq!(numbers(&open), ["FV/2026/11/0043"]);
    let (_, paged) = api
        .get(
            &format!(
                "/receivables?company=acme&limit=1&after={}",
                settled[0]["id"]
            ),
            "anna",
        )
        .await;
    assert_eq!(numbers(&paged), ["FV/2026/11/0043"]);
    let (status, body) = api
        .get("/receivables?company=acme&status=paid", "anna")
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_input"))
    );
    let (status, body) = api.get("/receivables/acme/FV%2FNOPE", "anna").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_receivable"))
    );
    api.stop().await;
    fx.finish().await;
}

on_both_databases!(accounts_transactions_and_receivables_round_trip);

// ---------------------------------------------------------------- events

/// Every event `user` can page through with `limit`, as ids, checking each
/// page starts after the previous one.
async fn page_all(
    api: &Served,
    user: &str,
    query: &str,
    limit: i64,
    after: i64,
) -> (Vec<i64>, i64) {
    let mut ids = Vec::new();
    let mut after = after;
    loop {
        let (status, page) = api
            .get(&format!("/events?limit={limit}&after={after}{query}"), user)
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let events = page["events"].as_array().expect("events");
        for event in events {
            let id = event["id"].as_i64().expect("id");
            assert!(id > after, "event {id} repeats a page ending at {after}");
            ids.push(id);
        }
        let next = page["next"].as_i64().expect("next");
        if events.is_empty() {
            assert_eq!(next, after, "an empty page keeps the cursor");
            return (ids, next);
        }
        assert_eq!(next, *ids.last().expect("id"));
        after = next;
    }
}

async fn events_page_in_order_without_repeats_or_gaps(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    fx.company("acme").await;
    fx.company("globex").await;
    let settlements = Settlements::new(fx.host.db.clone());
    account(&settlements, "acme-uah", "acme", IBAN_ACME).await;
    account(&settlements, "globex-uah", "globex", IBAN_GLOBEX).await;
    user(&fx, "anna", &["acme", "globex"]).await;
    user(&fx, "bob", &["acme"]).await;
    user(&fx, "carol", &[]).await;
    let api = Served::start(&fx).await;

    let mut n = 0;
    let mut add = async |account: &str, count: usize| {
        for _ in 0..count {
            n += 1;
            settlements
                .record(account, &[credit(&format!("T-{n}"), 1, "1", "x")])
                .await
                .expect("record");
        }
    };
    add("acme-uah", 4).await;
    add("globex-uah", 3).await;
    add("acme-uah", 3).await;

    // Anna pages in threes, while more events arrive.
    let (first, cursor) = page_all(&api, "anna", "", 3, 0).await;
    assert_eq!(first.len(), 10);
    add("globex-uah", 2).await;
    add("acme-uah", 2).await;
    let (rest, _) = page_all(&api, "anna", "", 3, cursor).await;
    let mut all_ids = first.clone();
    all_ids.extend(&rest);
    let stored: Vec<i64> = settlements
        .events(0, 1000, None)
        .await
        .expect("events")
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(all_ids, stored, "paging neither repeats nor skips");

    // Bob sees acme's events only; globex is not his.
    let acme: Vec<i64> = settlements
        .events(0, 1000, Some("acme"))
        .await
        .expect("events")
        .iter()
        .map(|e| e.id)
        .collect();
    let (bobs, _) = page_all(&api, "bob", "", 4, 0).await;
    assert_eq!(bobs, acme);
    let (annas_acme, _) = page_all(&api, "anna", "&company=acme", 2, 0).await;
    assert_eq!(annas_acme, acme);
    let (status, body) = api.get("/events?company=globex", "bob").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (carols, _) = page_all(&api, "carol", "", 10, 0).await;
    assert!(carols.is_empty());

    // Whom to notify, computed when read.
    let (_, page) = api.get("/events?limit=1000", "anna").await;
    let events = page["events"].as_array().expect("events");
    let notify_of = |company: &str| {
        events
            .iter()
            .find(|e| e["company"] == company)
            .map(|e| e["notify"].clone())
            .expect("an event")
    };
    assert_eq!(notify_of("acme"), json!(["anna", "bob"]));
    assert_eq!(notify_of("globex"), json!(["anna"]));
    assert_eq!(events[0]["kind"], "payment.received");
    assert_eq!(events[0]["payload"]["amount"], "1.00");
    fx.host
        .admin
        .set_erp_user_enabled(&fx.actor, "bob", false)
        .await
        .expect("disable");
    let (_, page) = api.get("/events?limit=1&company=acme", "anna").await;
    assert_eq!(page["events"][0]["notify"], json!(["anna"]));

    for bad in ["limit=0", "limit=5000", "after=x", "after=-3"] {
        let (status, body) = api.get(&format!("/events?{bad}"), "anna").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["code"], "invalid_input");
    }
    api.stop().await;
    fx.finish().await;
}

on_both_databases!(events_page_in_order_without_repeats_or_gaps);

async fn erp_bodies_are_capped_with_a_json_error(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    fx.company("acme").await;
    user(&fx, "anna", &["acme"]).await;
    let api = Served::start(&fx).await;
    let receivable = |counterparty: String| {
        json!({ "company": "acme", "invoice_number": "FV/1", "amount": "10.00",
                "currency": "UAH", "counterparty": counterparty })
    };
    // Just over the cap: refused before it is parsed, as JSON, nothing stored.
    let big = receivable("x".repeat(h2h_host::api::MAX_ERP_BODY_BYTES));
    let (status, body) = api.post("/receivables", "anna", big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["code"], "body_too_large", "{body}");
    assert_eq!(fx.count("receivables").await, 0);
    // A wrong media type is a JSON error too.
    let response = api
        .client
        .post(format!("{}/erp/v1/receivables", api.base))
        .bearer_auth(&api.erp_key)
        .header("X-H2H-User", "anna")
        .body("{}")
        .send()
        .await
        .expect("call");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = response.json().await.expect("JSON error");
    assert_eq!(body["code"], "unsupported_media_type", "{body}");
    // serde would read a struct from an array of its fields; the API takes
    // objects only, ERP and admin alike.
    let fields = json!(["acme", "FV/1", "10.00", "UAH", "ACME"]);
    let (status, body) = api.post("/receivables", "anna", fields).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["message"], "the body must be a JSON object");
    assert_eq!(fx.count("receivables").await, 0);
    let (status, body) = api
        .admin(
            Method::PUT,
            "/service-mode",
            Some(json!([true, "by array"])),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_input")),
        "{body}"
    );
    let (_, mode) = api.admin(Method::GET, "/service-mode", None).await;
    assert_eq!(mode["active"], false, "{mode}");
    // An ordinary body still passes.
    let (status, body) = api
        .post("/receivables", "anna", receivable("ACME".into()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    api.stop().await;
    fx.finish().await;
}
on_both_databases!(erp_bodies_are_capped_with_a_json_error);

/// Money and text have one grammar in and out: amounts `digits[.digits]`
/// within the currency's minor units, ISO 4217 currencies that have minor
/// units, one-line text without control or bidirectional formatting
/// characters under a length cap; amounts go out in minor units.
async fn money_and_text_have_one_grammar(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    fx.company("acme").await;
    user(&fx, "anna", &["acme"]).await;
    let settlements = Settlements::new(fx.host.db.clone());
    account(&settlements, "acme-uah", "acme", IBAN_ACME).await;
    let api = Served::start(&fx).await;
    let receivable = |invoice: &str, amount: &str, currency: &str, counterparty: &str| {
        json!({ "company": "acme", "invoice_number": invoice, "amount": amount,
                "currency": currency, "counterparty": counterparty })
    };
    let refused = [
        (
            receivable("FV/1", "1e3", "UAH", "x"),
            "amount `1e3` is not written like 1234.50",
        ),
        (
            receivable("FV/1", "+100", "UAH", "x"),
            "amount `+100` is not written",
        ),
        (
            receivable("FV/1", " 100 ", "UAH", "x"),
            "amount ` 100 ` is not written",
        ),
        (
            receivable("FV/1", "0.001", "UAH", "x"),
            "amount `0.001` has more decimals than UAH's 2",
        ),
        (
            receivable("FV/1", "10.5", "JPY", "x"),
            "amount `10.5` has more decimals than JPY's 0",
        ),
        (
            receivable("FV/1", "10", "XYZ", "x"),
            "currency `XYZ` is not an ISO 4217 currency code",
        ),
        (
            receivable("FV/1", "10", "XAU", "x"),
            "currency `XAU` is not an ISO 4217 currency code",
        ),
        (
            receivable("FV\u{0}1", "10", "UAH", "x"),
            "`invoice_number` contains NUL (U+0000)",
        ),
        (
            receivable("FV/1", "10", "UAH", "\u{1b}[2J"),
            "`counterparty` contains an escape",
        ),
        (
            receivable("FV/1", "10", "UAH", "ACME \u{202e}gro"),
            "`counterparty` contains a bidirectional",
        ),
        (
            receivable(&"9".repeat(65), "10", "UAH", "x"),
            "`invoice_number` is 65 characters long; at most 64",
        ),
        (
            receivable(&"9".repeat(100_000), "10", "UAH", "x"),
            "`invoice_number` is 100000 characters long",
        ),
        (
            receivable("FV/1", "10", "UAH", &"x".repeat(141)),
            "`counterparty` is 141 characters long; at most 140",
        ),
    ];
    for (body, message) in refused {
        let (status, answer) = api.post("/receivables", "anna", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["code"], "invalid_input");
        let text = answer["message"].as_str().expect("message");
        assert!(text.starts_with(message), "{text}");
        assert!(
            text.len() < 300,
            "no echo of a huge value: {} bytes",
            text.len()
        );
    }
    assert_eq!(fx.count("receivables").await, 0, "nothing refused was kept");

    // The longest invoice number is stored and read back by its own URL;
    // amounts come back in the currency's minor units.
    let longest = "9".repeat(64);
    let (status, added) = api
        .post(
            "/receivables",
            "anna",
            receivable(&longest, "1500.5", "UAH", "  ТОВ Ромашка "),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(
        (added["amount"].as_str(), added["counterparty"].as_str()),
        (Some("1500.50"), Some("ТОВ Ромашка"))
    );
    let (status, read) = api
        .get(&format!("/receivables/acme/{longest}"), "anna")
        .await;
    assert_eq!(
        (status, read["open_amount"].as_str()),
        (StatusCode::OK, Some("1500.50")),
        "{read}"
    );
    let (_, yen) = api
        .post(
            "/receivables",
            "anna",
            receivable("FV/JP", "1500", "JPY", "株式会社"),
        )
        .await;
    assert_eq!(yen["amount"], "1500", "{yen}");
    let (_, dinar) = api
        .post(
            "/receivables",
            "anna",
            receivable("FV/BH", "1.5", "BHD", ""),
        )
        .await;
    assert_eq!(dinar["amount"], "1.500", "{dinar}");

    settlements
        .record("acme-uah", &[credit("PAY-9", 6, "23416.9", "Оплата")])
        .await
        .expect("record");
    let (_, page) = api.get("/accounts/acme-uah/transactions", "anna").await;
    assert_eq!(page["transactions"][0]["amount"], "23416.90", "{page}");
    api.stop().await;
    fx.finish().await;
}
on_both_databases!(money_and_text_have_one_grammar);

/// Every error is `{code, message}` JSON, axum's own too (an unknown route,
/// a wrong method, a body that is not JSON), and no message sends a huge
/// value back.
async fn every_error_is_json_and_short(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    fx.company("acme").await;
    user(&fx, "anna", &["acme"]).await;
    let api = Served::start(&fx).await;
    let raw = |method: Method, path: &str| {
        api.client
            .request(method, format!("{}{path}", api.base))
            .bearer_auth(&api.admin_key)
            .header("X-H2H-User", "anna")
    };
    let read = |response: reqwest::Response| async move {
        let status = response.status();
        let allow = response.headers().get("allow").cloned();
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body: Value = response.json().await.expect("a JSON body");
        assert!(kind.starts_with("application/json"), "{kind}");
        (status, body, allow)
    };

    let (status, body, _) = read(
        raw(Method::GET, "/erp/v1/nothing-here")
            .send()
            .await
            .expect("call"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "{body}"
    );
    let (status, body, _) = read(raw(Method::GET, "/nowhere").send().await.expect("call")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "{body}"
    );
    let (status, body, allow) =
        read(raw(Method::DELETE, "/health").send().await.expect("call")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed")),
        "{body}"
    );
    assert!(allow.is_some(), "the Allow header is kept");
    let (status, body, _) = read(
        raw(Method::POST, "/admin/v1/companies")
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .expect("call"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_input")),
        "{body}"
    );
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );

    // A value quoted back in a message is cut.
    let long = "x".repeat(20_000);
    let (status, body) = api
        .get(&format!("/transfers?company=acme&status={long}"), "anna")
        .await;
    assert!(status.is_client_error(), "{status}");
    let message = body["message"].as_str().expect("message");
    assert!(
        message.len() <= h2h_host::api::error::MAX_MESSAGE_BYTES + 8,
        "{} bytes",
        message.len()
    );
    api.stop().await;
    fx.finish().await;
}
on_both_databases!(every_error_is_json_and_short);

/// `GET /erp/v1/plugins` lists the enabled installations with their
/// versions, in id order; a disabled one is not there.
async fn the_erp_sees_the_enabled_plugins(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    for id in ["ticker", "zz-ticker"] {
        fx.install_with(id, &admin::manifest(id, "1.2.0", ""), TICKER)
            .await;
    }
    fx.install_with(
        "aa-ticker",
        &admin::manifest("aa-ticker", "2.0.0", ""),
        TICKER,
    )
    .await;
    fx.host
        .admin
        .disable(&fx.actor, "ticker")
        .await
        .expect("disable");
    user(&fx, "anna", &[]).await;
    let api = Served::start(&fx).await;
    let (status, listed) = api.get("/plugins", "anna").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(
        listed,
        json!([
            {"plugin": "aa-ticker", "version": "2.0.0"},
            {"plugin": "zz-ticker", "version": "1.2.0"},
        ])
    );
    api.stop().await;
    fx.finish().await;
}
on_both_databases!(the_erp_sees_the_enabled_plugins);
