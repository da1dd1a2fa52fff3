//! What an operator watches: `/metrics` counts plugin calls, bank requests
//! and task runs as they happen, and every request's id rides on its
//! answer and on every log line it causes, the plugin's and its bank
//! calls' included.

use std::time::Duration;

use chrono::Utc;
use h2h_host::db::testing::TestBackend;
use h2h_privat24_sim::{Merchant, Running as SimRunning, Simulator};
use h2h_test_plugins::HOSTILE;
use reqwest::StatusCode;
use serde_json::Value;

use crate::admin::Fixture;
use crate::common::{company, host, test_limits};
use crate::privat24_e2e::{IBAN, MERCHANT, TOKEN, anna_may, install};
use crate::served::Served;

/// Privat24 installed against a simulated bank, company `acme` with its
/// account `acme-uah`, ERP user `anna` allowed to sync it, and the host
/// serving.
async fn privat24_served(fx: &Fixture) -> (SimRunning, Served) {
    let sim = Simulator::builder()
        .merchant(Merchant::new(MERCHANT, TOKEN, IBAN, "UAH"))
        .seed(11)
        .days(3)
        .today(Utc::now().date_naive())
        .build()
        .expect("simulator");
    let bank = sim.start("127.0.0.1:0").await.expect("bank serving");
    install(fx, &bank.url()).await;
    anna_may(fx, "sync-statements").await;
    (bank, Served::start(fx).await)
}

/// `/metrics` as `key` sees it.
async fn scrape(api: &Served, key: &str) -> (StatusCode, String, String) {
    let response = api
        .client
        .get(format!("{}/metrics", api.base))
        .bearer_auth(key)
        .send()
        .await
        .expect("scrape");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, content_type, response.text().await.expect("text"))
}

/// The value of the sample `name{labels}` (labels as written, in order).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
}

async fn metrics_count_what_a_sync_did(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let (bank, api) = privat24_served(&fx).await;

    let (status, before, _) = scrape(&api, &api.admin_key).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        before.starts_with("application/openmetrics-text"),
        "{before}"
    );
    let (status, body) = api
        .post("/accounts/acme-uah/sync", "anna", serde_json::json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, _, text) = scrape(&api, &api.admin_key).await;

    let statements = sample(
        &text,
        r#"h2h_plugin_calls_total{plugin="privat24",export="bank.fetch-statement",outcome="ok"}"#,
    )
    .unwrap_or_else(|| panic!("no statement calls in\n{text}"));
    assert!(statements >= 1.0, "{text}");
    let timed = sample(
        &text,
        r#"h2h_plugin_call_duration_seconds_count{plugin="privat24",export="bank.fetch-statement"}"#,
    );
    assert_eq!(timed, Some(statements), "every call is timed:\n{text}");
    let bank_requests = sample(
        &text,
        r#"h2h_http_capability_requests_total{plugin="privat24",host="127.0.0.1",status="200"}"#,
    )
    .unwrap_or_else(|| panic!("no bank requests in\n{text}"));
    assert!(bank_requests >= statements, "{text}");
    assert_eq!(
        sample(
            &text,
            r#"h2h_task_runs_total{plugin="privat24",task="sync-statements",outcome="ok"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, "h2h_instances_in_use"), Some(0.0), "{text}");
    assert_eq!(sample(&text, "h2h_service_mode"), Some(0.0), "{text}");
    assert_eq!(
        sample(&text, "h2h_webhook_delivery_lag_seconds"),
        Some(0.0),
        "no webhook waits:\n{text}"
    );
    assert!(
        sample(&text, r#"h2h_db_pool_connections{state="idle"}"#).is_some(),
        "{text}"
    );
    assert!(text.trim_end().ends_with("# EOF"), "{text}");

    // Service mode shows at the next scrape.
    fx.host
        .admin
        .service_mode_on(&fx.actor, "maintenance")
        .await
        .expect("service mode");
    let (_, _, text) = scrape(&api, &api.admin_key).await;
    assert_eq!(sample(&text, "h2h_service_mode"), Some(1.0), "{text}");

    // Metrics are the admin's: an ERP key is refused, no key is unknown.
    let (status, _, body) = scrape(&api, &api.erp_key).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, body) = scrape(&api, "not-a-key").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    api.stop().await;
    bank.handle.stop().await;
    fx.finish().await;
}

on_both_databases!(metrics_count_what_a_sync_did);

/// A call stopped by the sandbox is counted under why it stopped.
#[tokio::test]
async fn a_stopped_call_is_counted_by_its_outcome() {
    let host = host(h2h_host::runtime::Limits {
        deadline: Duration::from_millis(300),
        ..test_limits()
    });
    let plugin = host.load("hostile", HOSTILE);
    plugin
        .run_task(company("acme"), "spin")
        .await
        .expect_err("an endless loop is stopped");
    let text = host.runtime.metrics().encode();
    assert_eq!(
        sample(
            &text,
            r#"h2h_plugin_calls_total{plugin="hostile",export="tasks.run",outcome="deadline"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, "h2h_instances_in_use"), Some(0.0), "{text}");
}

/// An id the caller sends comes back; one that could forge log structure
/// is replaced by one the host makes.
#[tokio::test]
async fn answers_carry_the_request_id() {
    let Some(fx) = Fixture::new(TestBackend::Sqlite).await else {
        return;
    };
    let api = Served::start(&fx).await;
    let id_of = |response: &reqwest::Response| {
        response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let health = format!("{}/health", api.base);
    let kept = api
        .client
        .get(&health)
        .header("X-Request-Id", "erp-7f3a:batch/12")
        .send()
        .await
        .expect("health");
    assert_eq!(id_of(&kept).as_deref(), Some("erp-7f3a:batch/12"));
    let replaced = api
        .client
        .get(&health)
        .header("X-Request-Id", "x\" level=ERROR")
        .send()
        .await
        .expect("health");
    let made = id_of(&replaced).expect("an id");
    assert_eq!(made.len(), 32, "{made}");
    assert!(made.bytes().all(|b| b.is_ascii_hexdigit()), "{made}");
    // Errors carry it too.
    let missing = api
        .client
        .get(format!("{}/erp/v1/nowhere", api.base))
        .send()
        .await
        .expect("404");
    assert!(id_of(&missing).is_some());
    api.stop().await;
    fx.finish().await;
}

/// Set in the child process that [`request_log_probe`] runs in.
const LOG_PROBE: &str = "H2H_REQUEST_LOG_PROBE";
const PROBE_ID: &str = "probe-req-42";

/// Every line a sync request causes (the access line, the connector's own
/// line, each bank request) names the request's id, in the JSON log.
#[test]
fn every_log_line_of_a_request_names_its_id() {
    let logs = crate::common::run_probe(&probe_name!("request_log_probe"), LOG_PROBE);
    let lines: Vec<Value> = logs
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let of_request = |target: &str| -> Vec<&Value> {
        lines
            .iter()
            .filter(|line| line["target"] == target)
            .filter(|line| {
                line["spans"]
                    .as_array()
                    .is_some_and(|spans| spans.iter().any(|s| s["request_id"] == PROBE_ID))
            })
            .collect()
    };
    let bank = of_request("h2h::http");
    assert!(
        !bank.is_empty(),
        "no bank request line with the id in:\n{logs}"
    );
    let plugin = of_request("h2h::plugin");
    assert!(
        plugin.iter().any(|l| l["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("lines on this page"))),
        "no connector line with the id in:\n{logs}"
    );
    let access = of_request("h2h::access");
    assert_eq!(access.len(), 1, "{logs}");
    assert_eq!(access[0]["fields"]["status"], 200, "{logs}");
    assert_eq!(
        access[0]["fields"]["path"],
        "/erp/v1/accounts/acme-uah/sync"
    );
}

/// A sync through the ERP API with `X-Request-Id`, every line at info and
/// above printed as JSON, as `h2h --log-format json` prints it. Does
/// nothing when run as an ordinary test.
#[tokio::test]
async fn request_log_probe() {
    if std::env::var_os(LOG_PROBE).is_none() {
        return;
    }
    let subscriber = h2h_host::logs::subscriber(
        h2h_host::logs::LogFormat::Json,
        tracing_subscriber::EnvFilter::new("info"),
        std::io::stdout,
    );
    tracing::subscriber::set_global_default(subscriber).expect("subscriber");
    let fx = Fixture::new(TestBackend::Sqlite).await.expect("sqlite");
    let (bank, api) = privat24_served(&fx).await;
    let response = api
        .client
        .post(format!("{}/erp/v1/accounts/acme-uah/sync", api.base))
        .bearer_auth(&api.erp_key)
        .header("X-H2H-User", "anna")
        .header("X-Request-Id", PROBE_ID)
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("sync");
    assert_eq!(response.status(), StatusCode::OK);
    api.stop().await;
    bank.handle.stop().await;
}
