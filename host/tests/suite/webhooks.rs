//! Webhooks on SQLite and on PostgreSQL: a loopback receiver gets each new
//! event of its company once acknowledged, in order, signed so that an
//! independent HMAC-SHA256 verifies it; failures (a 500, no answer in time)
//! are retried with backoff and the cursor only moves on a 2xx, so nothing
//! is lost or sent twice, across a restart of the worker too; another
//! company's events never reach it; the secret never comes back.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::admin::Fixture;
use crate::served::Served;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::NaiveDate;
use h2h_host::db::testing::TestBackend;
use h2h_host::settlements::webhooks::{WebhookConfig, WebhookWorker};
use h2h_host::settlements::{BankAccount, Direction, IncomingTransaction, Settlements};
use secrecy::SecretString;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const SECRET: &str = "whsec-0123456789abcdef-not-for-logs";

/// HMAC-SHA256 as RFC 2104 defines it, written here from SHA-256 alone so
/// the check does not share code with the host.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Got {
    event_id: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
    answered: u16,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    /// Verifies the signature with the shared secret, independently.
    fn verify(&self, secret: &str) -> bool {
        let mut signed = self.timestamp.clone().into_bytes();
        signed.push(b'.');
        signed.extend_from_slice(&self.body);
        let expected = format!(
            "sha256={}",
            hex::encode(hmac_sha256(secret.as_bytes(), &signed))
        );
        expected == self.signature
    }
}

/// What the receiver answers next: a status, or `None` for "answer 200
/// after 1.5 s" (past the attempt timeout); 200 when the script is empty.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Got>>>,
    script: Arc<Mutex<VecDeque<Option<u16>>>>,
}

impl Receiver {
    fn got(&self) -> Vec<Got> {
        self.got.lock().expect("lock").clone()
    }

    /// Event ids answered with a 2xx, in order.
    fn acknowledged(&self) -> Vec<i64> {
        self.got()
            .iter()
            .filter(|g| (200..300).contains(&g.answered))
            .map(|g| g.event_id.parse().expect("numeric event id"))
            .collect()
    }
}

async fn hook(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let next = receiver.script.lock().expect("lock").pop_front();
    let status = match next {
        Some(Some(status)) => status,
        Some(None) | None => 200,
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    receiver.got.lock().expect("lock").push(Got {
        event_id: header("x-h2h-event-id"),
        timestamp: header("x-h2h-timestamp"),
        signature: header("x-h2h-signature"),
        body: body.to_vec(),
        answered: if next == Some(None) { 0 } else { status },
    });
    if next == Some(None) {
        // Recorded first: the sender gives up and this future is dropped.
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    StatusCode::from_u16(status).expect("status")
}

async fn receiver(script: &[Option<u16>]) -> (SocketAddr, Receiver) {
    let receiver = Receiver::default();
    receiver.script.lock().expect("lock").extend(script);
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, receiver)
}

fn credit(reference: &str) -> IncomingTransaction {
    IncomingTransaction {
        bank_reference: reference.to_owned(),
        booking_date: NaiveDate::from_ymd_opt(2026, 11, 20).expect("date"),
        direction: Direction::Credit,
        amount: "12.34".parse().expect("decimal"),
        currency: "UAH".to_owned(),
        title: format!("payment {reference}"),
        counterparty_name: None,
        counterparty_account: None,
        former_references: Vec::new(),
        details: Default::default(),
    }
}

/// Companies acme, globex and initech, each with an account; user anna
/// may act for acme.
async fn setup(fx: &Fixture) -> Settlements {
    let settlements = Settlements::new(fx.host.db.clone());
    for (company, iban) in [
        ("acme", "UA21 3223 1300 0002 6007 2335 6600 1"),
        ("globex", "UA80 3052 9900 0002 6001 4041 0005 1"),
        ("initech", "UA74 3052 9900 0002 6001 4041 0006 2"),
    ] {
        fx.company(company).await;
        settlements
            .add_account(&BankAccount {
                id: format!("{company}-uah"),
                company: company.to_owned(),
                plugin: "privat24".to_owned(),
                iban: iban.to_owned(),
                currency: "UAH".to_owned(),
                name: "Main".to_owned(),
            })
            .await
            .unwrap_or_else(|e| panic!("account of {company}: {e}"));
    }
    fx.host
        .admin
        .add_erp_user(&fx.actor, "anna", "Anna", None)
        .await
        .expect("user");
    fx.host
        .admin
        .grant_company(&fx.actor, "anna", "acme", false)
        .await
        .expect("grant");
    settlements
}

async fn record(settlements: &Settlements, company: &str, reference: &str) {
    settlements
        .record(&format!("{company}-uah"), &[credit(reference)])
        .await
        .expect("record");
}

async fn event_ids(settlements: &Settlements, company: &str) -> Vec<i64> {
    settlements
        .events(0, 1000, Some(company))
        .await
        .expect("events")
        .iter()
        .map(|e| e.id)
        .collect()
}

/// Waits (at most 20 s) until `done`.
async fn until(mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn fast() -> WebhookConfig {
    WebhookConfig {
        tick: Duration::from_millis(50),
        attempt_timeout: Duration::from_millis(700),
        backoff_base: Duration::from_millis(200),
        backoff_max: Duration::from_secs(1),
        batch: 3,
        ..WebhookConfig::default()
    }
}

async fn serve_posts_signed_events_in_order(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let settlements = setup(&fx).await;
    record(&settlements, "acme", "BEFORE").await;
    let (addr, receiver) = receiver(&[]).await;
    let api = Served::start(&fx).await;
    let admin = format!("{}/admin/v1", api.base);
    let client = &api.client;
    let key = &api.admin_key;
    let put = |url: String, secret: &str, allow_private: bool| {
        client
            .put(format!("{admin}/companies/acme/webhook"))
            .bearer_auth(key)
            .json(&json!({"url": url, "secret": secret, "allow_private": allow_private}))
            .send()
    };

    for (url, secret, allow_private, says) in [
        ("ftp://127.0.0.1/hook".to_owned(), SECRET, true, "scheme"),
        ("not a url".to_owned(), SECRET, true, "webhook URL"),
        (format!("http://{addr}/hook"), "short", true, "secret"),
        (
            format!("http://{addr}/hook"),
            SECRET,
            false,
            "127.0.0.1 is a loopback address",
        ),
        (
            "http://[::1]:9/hook".to_owned(),
            SECRET,
            false,
            "::1 is a loopback address",
        ),
        (
            "http://10.1.2.3/hook".to_owned(),
            SECRET,
            false,
            "private address",
        ),
    ] {
        let refused = put(url.clone(), secret, allow_private).await.expect("call");
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let body: Value = refused.json().await.expect("json");
        assert_eq!(body["code"], "invalid_input");
        assert!(
            body["message"].as_str().is_some_and(|m| m.contains(says)),
            "{url}: {body}"
        );
    }
    let set = put(format!("http://{addr}/hook"), SECRET, true)
        .await
        .expect("call");
    assert_eq!(set.status(), StatusCode::OK);
    let text = set.text().await.expect("text");
    assert!(!text.contains(SECRET), "{text}");
    let before = event_ids(&settlements, "acme").await;
    let info: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        info["delivered_through"],
        json!(before[0]),
        "starts after the newest event"
    );

    for reference in ["P-1", "P-2", "P-3"] {
        record(&settlements, "acme", reference).await;
    }
    let expected: Vec<i64> = event_ids(&settlements, "acme").await[1..].to_vec();
    until(|| receiver.acknowledged().len() >= 3).await;
    assert_eq!(
        receiver.acknowledged(),
        expected,
        "in order, once, nothing older"
    );
    for got in receiver.got() {
        assert!(got.verify(SECRET), "signature does not verify: {got:?}");
        assert!(!got.verify("another secret"));
        let event = got.json();
        assert_eq!(event["id"].to_string(), got.event_id);
        assert_eq!(event["company"], "acme");
        assert_eq!(event["kind"], "payment.received");
        assert_eq!(event["notify"], json!(["anna"]));
        let age = chrono::Utc::now().timestamp() - got.timestamp.parse::<i64>().expect("ts");
        assert!((0..60).contains(&age), "timestamp {}", got.timestamp);
    }
    let references: Vec<Value> = receiver
        .got()
        .iter()
        .map(|g| g.json()["payload"]["bank_reference"].clone())
        .collect();
    assert_eq!(references, [json!("P-1"), json!("P-2"), json!("P-3")]);

    let listed = client
        .get(format!("{admin}/webhooks"))
        .bearer_auth(key)
        .send()
        .await
        .expect("call")
        .text()
        .await
        .expect("text");
    assert!(!listed.contains(SECRET), "{listed}");
    let listed: Value = serde_json::from_str(&listed).expect("json");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut cursor = listed[0]["delivered_through"].clone();
    while cursor != json!(expected[2]) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        cursor = json!(
            fx.host
                .admin
                .webhook("acme")
                .await
                .expect("webhook")
                .delivered_through
        );
    }
    assert_eq!(cursor, json!(expected[2]));
    let audit = fx.host.admin.audit(0, 1000).await.expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.action == "webhook.set" && e.outcome == "ok")
    );
    assert!(
        audit.iter().all(|e| !e.detail.contains(SECRET)),
        "the secret reached the audit log"
    );

    let removed = client
        .delete(format!("{admin}/companies/acme/webhook"))
        .bearer_auth(key)
        .send()
        .await
        .expect("call");
    assert_eq!(removed.status(), StatusCode::OK);
    let gone = client
        .delete(format!("{admin}/companies/acme/webhook"))
        .bearer_auth(key)
        .send()
        .await
        .expect("call");
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    api.stop().await;
    fx.finish().await;
}

on_both_databases!(serve_posts_signed_events_in_order);

async fn failures_are_retried_and_nothing_is_sent_twice(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let settlements = setup(&fx).await;
    // The first event: a 500, then no answer in time, then a 200.
    let (addr, receiver) = receiver(&[Some(500), None]).await;
    let set = fx
        .host
        .admin
        .set_webhook(
            &fx.actor,
            "acme",
            &format!("http://{addr}/hook"),
            &SecretString::from(SECRET),
            true,
        )
        .await
        .expect("set");
    for reference in ["R-1", "R-2", "R-3", "R-4"] {
        record(&settlements, "acme", reference).await;
    }
    let expected = event_ids(&settlements, "acme").await;

    let worker = WebhookWorker::new(fx.host.admin.clone(), "worker-1", fast()).expect("worker");
    let first = worker.deliver_due().await.expect("pass");
    assert_eq!((first.delivered, first.failed), (0, 1));
    let hook = fx.host.admin.webhook("acme").await.expect("webhook");
    assert_eq!(hook.attempts, 1);
    assert_eq!(hook.last_status, Some(500));
    assert!(hook.next_attempt_at.is_some());
    assert_eq!(
        hook.delivered_through, set.delivered_through,
        "the cursor did not move"
    );
    // Backing off: an immediate pass sends nothing.
    let waiting = worker.deliver_due().await.expect("pass");
    assert_eq!((waiting.delivered, waiting.failed), (0, 0));
    assert_eq!(receiver.got().len(), 1);

    let start = Instant::now();
    while receiver.acknowledged().len() < expected.len() {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out");
        worker.deliver_due().await.expect("pass");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        receiver.acknowledged(),
        expected,
        "each event acknowledged once, in order"
    );
    let attempts_of_first = receiver
        .got()
        .iter()
        .filter(|g| g.event_id == expected[0].to_string())
        .map(|g| g.answered)
        .collect::<Vec<_>>();
    assert_eq!(
        attempts_of_first,
        [500, 0, 200],
        "500, timeout, then delivered"
    );
    assert!(receiver.got().iter().all(|g| g.verify(SECRET)));
    let hook = fx.host.admin.webhook("acme").await.expect("webhook");
    assert_eq!(hook.delivered_through, *expected.last().expect("id"));
    assert_eq!((hook.attempts, hook.last_error), (0, None));

    // More passes, and a new worker (as after a restart): nothing again.
    let sent = receiver.got().len();
    let restarted = WebhookWorker::new(fx.host.admin.clone(), "worker-2", fast()).expect("worker");
    for _ in 0..3 {
        worker.deliver_due().await.expect("pass");
        restarted.deliver_due().await.expect("pass");
    }
    assert_eq!(
        receiver.got().len(),
        sent,
        "an acknowledged event is not sent again"
    );
    // Only new events go out.
    record(&settlements, "acme", "R-5").await;
    restarted.deliver_due().await.expect("pass");
    assert_eq!(receiver.got().len(), sent + 1);
    assert_eq!(
        receiver
            .got()
            .last()
            .map(|g| g.json()["payload"]["bank_reference"].clone()),
        Some(json!("R-5"))
    );
    fx.finish().await;
}

on_both_databases!(failures_are_retried_and_nothing_is_sent_twice);

async fn each_webhook_gets_only_its_company(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let settlements = setup(&fx).await;
    let (acme_addr, acme) = receiver(&[]).await;
    let (globex_addr, globex) = receiver(&[Some(503)]).await;
    for (company, addr) in [("acme", acme_addr), ("globex", globex_addr)] {
        fx.host
            .admin
            .set_webhook(
                &fx.actor,
                company,
                &format!("http://{addr}/hook"),
                &SecretString::from(format!("{SECRET}-{company}")),
                true,
            )
            .await
            .expect("set");
    }
    for n in 0..4 {
        for company in ["acme", "globex", "initech"] {
            record(&settlements, company, &format!("{company}-{n}")).await;
        }
    }
    // Two workers at once (two host processes): each event goes out once.
    let one = WebhookWorker::new(fx.host.admin.clone(), "host-a", fast()).expect("worker");
    let two = WebhookWorker::new(fx.host.admin.clone(), "host-b", fast()).expect("worker");
    let acme_events = event_ids(&settlements, "acme").await;
    let globex_events = event_ids(&settlements, "globex").await;
    let start = Instant::now();
    while acme.acknowledged().len() < 4 || globex.acknowledged().len() < 4 {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out");
        let (a, b) = tokio::join!(one.deliver_due(), two.deliver_due());
        a.expect("pass");
        b.expect("pass");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for _ in 0..3 {
        let (a, b) = tokio::join!(one.deliver_due(), two.deliver_due());
        a.expect("pass");
        b.expect("pass");
    }
    assert_eq!(acme.acknowledged(), acme_events);
    assert_eq!(globex.acknowledged(), globex_events);
    assert_eq!(acme.got().len(), 4, "nothing sent twice");
    assert_eq!(globex.got().len(), 5, "one 503, then four deliveries");
    for got in acme.got() {
        assert_eq!(got.json()["company"], "acme");
        assert!(got.verify(&format!("{SECRET}-acme")));
        assert!(!got.verify(&format!("{SECRET}-globex")));
    }
    for got in globex.got() {
        assert_eq!(got.json()["company"], "globex");
        assert!(got.verify(&format!("{SECRET}-globex")));
    }
    fx.finish().await;
}

on_both_databases!(each_webhook_gets_only_its_company);

async fn a_name_resolving_to_a_private_address_is_refused_unless_allowed(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let settlements = setup(&fx).await;
    let (addr, receiver) = receiver(&[]).await;
    // `localhost` passes the URL check (a name) but resolves to loopback.
    let url = format!("http://localhost:{}/hook", addr.port());
    let secret = SecretString::from(SECRET);
    let set = |allow_private| {
        fx.host
            .admin
            .set_webhook(&fx.actor, "acme", &url, &secret, allow_private)
    };
    let hook = set(false).await.expect("set");
    assert!(!hook.allow_private);
    record(&settlements, "acme", "L-1").await;
    let worker = WebhookWorker::new(fx.host.admin.clone(), "worker-1", fast()).expect("worker");
    let pass = worker.deliver_due().await.expect("pass");
    assert_eq!((pass.delivered, pass.failed), (0, 1));
    let failed = fx.host.admin.webhook("acme").await.expect("webhook");
    assert!(
        failed
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("loopback")),
        "{failed:?}"
    );
    assert_eq!(
        failed.delivered_through, hook.delivered_through,
        "nothing lost"
    );
    assert!(receiver.got().is_empty(), "nothing reached the receiver");

    // The admin allows it: the same event goes out.
    assert!(set(true).await.expect("set").allow_private);
    let start = Instant::now();
    while receiver.acknowledged().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out");
        worker.deliver_due().await.expect("pass");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        receiver.acknowledged(),
        event_ids(&settlements, "acme").await
    );
    fx.finish().await;
}
on_both_databases!(a_name_resolving_to_a_private_address_is_refused_unless_allowed);
