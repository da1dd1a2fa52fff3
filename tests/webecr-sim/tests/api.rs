//! The simulator over real HTTPS (reqwest + rustls, trusting the test CA),
//! as a connector would use it.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use h2h_webecr_sim::{ProviderInput, ProviderKey, Running, SimHandle, Simulator, TerminalSpec};
use serde_json::{Value, json};

const USER: &str = "shop-athens";
const PASSWORD: &str = "s3cret-test";
const PROVIDER: &str = "PROV-1";
const TID: &str = "12345678";
const MID: &str = "000000012345";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap()
}

struct Env {
    running: Running,
    http: reqwest::Client,
    provider: ProviderKey,
    access: String,
    refresh: String,
    key: String,
    terminal: u64,
}

impl Env {
    fn h(&self) -> &SimHandle {
        &self.running.handle
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    fn advance(&self, secs: u64) {
        self.h().advance_clock(Duration::from_secs(secs));
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        access: Option<&str>,
        key: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Result<reqwest::Response> {
        let mut rb = self.http.request(method, self.url(path));
        if let Some(a) = access {
            rb = rb.bearer_auth(a);
        }
        if let Some(k) = key {
            rb = rb.header("X-Api-Key", k);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        rb.send().await
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        access: Option<&str>,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let r = self.send(method, path, access, key, body).await.unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(
            reqwest::Method::POST,
            path,
            Some(&self.access),
            Some(&self.key),
            Some(body),
        )
        .await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(
            reqwest::Method::GET,
            path,
            Some(&self.access),
            Some(&self.key),
            None,
        )
        .await
    }

    /// Logs in again (access tokens live 300 simulated seconds).
    async fn relogin(&mut self) {
        let (s, v) = login(&self.http, &self.running.url(), USER, PASSWORD).await;
        assert_eq!(s, 200, "{v}");
        self.access = v["access"].as_str().unwrap().to_string();
    }

    async fn redeem(&self, code: Value, ty: &str) -> (u16, Value) {
        self.call(
            reqwest::Method::POST,
            "/api/v2/authorization/redeem/",
            Some(&self.access),
            None,
            Some(json!({"Type": ty, "Code": code})),
        )
        .await
    }

    fn input(&self, amount: i64) -> ProviderInput {
        ProviderInput {
            uid: format!("UID{amount}"),
            mark: "400001234567".into(),
            timestamp: self.h().now().format("%Y%m%d%H%M%S").to_string(),
            amount,
            net: amount * 100 / 124,
            vat: amount - amount * 100 / 124,
            total: amount,
            tid: TID.into(),
        }
    }

    fn pd(&self, amount: i64) -> Value {
        self.provider.provider_data(PROVIDER, &self.input(amount))
    }

    fn sale_body(&self, reference: &str, amount: i64) -> Value {
        json!({"TxnType": 0, "Amount": amount, "TipAmount": 0, "CurrencyCode": 978,
               "Instalments": 0, "CustomerReference": reference,
               "ProviderData": self.pd(amount), "Timeout": 0})
    }

    fn txninit(&self) -> String {
        format!("/api/v2/terminal/{}/txninit/", self.terminal)
    }

    fn txnvoid(&self) -> String {
        format!("/api/v2/terminal/{}/txnvoid/", self.terminal)
    }

    async fn sale(&self, reference: &str, amount: i64) -> (u16, Value) {
        let body = self.sale_body(reference, amount);
        self.post(&self.txninit(), body).await
    }

    /// A sale that completes approved; returns its intent.
    async fn approved_sale(&self, reference: &str, amount: i64) -> Value {
        let (s, v) = self.sale(reference, amount).await;
        assert_eq!(s, 200, "{v}");
        self.advance(10);
        let (s, v) = self
            .get(&format!("/api/v2/transactionintent/{}/", v["id"]))
            .await;
        assert_eq!(s, 200);
        assert_eq!(v["Result"], 1, "{v}");
        v
    }
}

async fn login(http: &reqwest::Client, base: &str, user: &str, pw: &str) -> (u16, Value) {
    let r = http
        .post(format!("{base}/api/token/"))
        .json(&json!({"username": user, "password": pw}))
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn client(ca: &str, timeout: Option<Duration>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap());
    if let Some(t) = timeout {
        b = b.timeout(t);
    }
    b.build().unwrap()
}

/// A running simulator with one account, a provider, and one paired
/// terminal (logged in, API key redeemed).
async fn env() -> Env {
    let sim = Simulator::builder()
        .account(USER, PASSWORD)
        .start_time(t0())
        .build()
        .unwrap();
    let running = sim.start("127.0.0.1:0").await.unwrap();
    let h = running.handle.clone();
    let provider = ProviderKey::generate();
    h.register_provider_pem(PROVIDER, &provider.public_key_pem())
        .unwrap();
    let pairing = h
        .issue_pairing_code(USER, TerminalSpec::new(TID, MID))
        .unwrap();
    let http = client(&h.ca_pem(), None);
    let (s, tokens) = login(&http, &running.url(), USER, PASSWORD).await;
    assert_eq!(s, 200, "{tokens}");
    let access = tokens["access"].as_str().unwrap().to_string();
    let refresh = tokens["refresh"].as_str().unwrap().to_string();
    let r = http
        .post(format!("{}/api/v2/authorization/redeem/", running.url()))
        .bearer_auth(&access)
        .json(&json!({"Type": "webecr", "Code": pairing.code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["Type"], "webecr");
    let key = v["Id"].as_str().unwrap().to_string();
    Env {
        running,
        http,
        provider,
        access,
        refresh,
        key,
        terminal: pairing.terminal.id,
    }
}

#[tokio::test]
async fn login_refresh_and_jwt_expiry() {
    let e = env().await;
    let base = e.running.url();
    let (s, v) = login(&e.http, &base, USER, "wrong").await;
    assert_eq!((s, v["code"].as_str()), (401, Some("no_active_account")));
    let (s, v) = e
        .call(reqwest::Method::GET, "/api/v2/terminal/", None, None, None)
        .await;
    assert_eq!((s, v["code"].as_str()), (401, Some("not_authenticated")));
    let (s, v) = e
        .call(
            reqwest::Method::GET,
            "/api/v2/terminal/",
            Some("a.b.c"),
            None,
            None,
        )
        .await;
    assert_eq!((s, v["detail"].as_str()), (401, Some("Token is invalid")));
    // A refresh token is not an access token.
    let (s, _) = e
        .call(
            reqwest::Method::GET,
            "/api/v2/terminal/",
            Some(&e.refresh),
            None,
            None,
        )
        .await;
    assert_eq!(s, 401);

    let (s, v) = e.get("/api/v2/terminal/").await;
    assert_eq!(s, 200, "{v}");
    e.advance(301);
    let (s, v) = e.get("/api/v2/terminal/").await;
    assert_eq!((s, v["code"].as_str()), (401, Some("token_not_valid")));
    assert_eq!(v["detail"], "Token is expired");

    let refresh = |token: String| {
        let http = e.http.clone();
        let base = base.clone();
        async move {
            let r = http
                .post(format!("{base}/api/token/refresh"))
                .json(&json!({"refresh": token}))
                .send()
                .await
                .unwrap();
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, v) = refresh(e.refresh.clone()).await;
    assert_eq!(s, 200, "{v}");
    let access = v["access"].as_str().unwrap().to_string();
    let (s, _) = e
        .call(
            reqwest::Method::GET,
            "/api/v2/terminal/",
            Some(&access),
            None,
            None,
        )
        .await;
    assert_eq!(s, 200);

    // Fault: every access token expires at once; refresh still works.
    e.h().faults().expire_jwts(false);
    let (s, v) = e
        .call(
            reqwest::Method::GET,
            "/api/v2/terminal/",
            Some(&access),
            None,
            None,
        )
        .await;
    assert_eq!((s, v["detail"].as_str()), (401, Some("Token is expired")));
    let (s, _) = refresh(e.refresh.clone()).await;
    assert_eq!(s, 200);
    // And with refresh tokens too: log in again.
    e.h().faults().expire_jwts(true);
    let (s, v) = refresh(e.refresh.clone()).await;
    assert_eq!((s, v["code"].as_str()), (401, Some("token_not_valid")));
    let (s, _) = refresh("garbage".into()).await;
    assert_eq!(s, 401);
    let (s, _) = login(&e.http, &base, USER, PASSWORD).await;
    assert_eq!(s, 200);
    e.h().stop().await;
}

#[tokio::test]
async fn redeem_codes_work_once_and_keys_are_scoped() {
    let mut e = env().await;
    let h = e.h().clone();
    let (s, v) = e.redeem(json!("12345678"), "other").await;
    assert_eq!((s, v["code"].as_str()), (400, Some("invalid_type")));
    let (s, v) = e.redeem(json!("1234"), "webecr").await;
    assert_eq!((s, v["code"].as_str()), (400, Some("invalid_code")));
    let (s, v) = e.redeem(json!("00000000"), "webecr").await;
    assert_eq!((s, v["code"].as_str()), (404, Some("code_not_found")));

    // A second terminal: its code works once.
    let p2 = h
        .issue_pairing_code(USER, TerminalSpec::new("87654321", MID))
        .unwrap();
    let (s, v) = e.redeem(json!(p2.code), "webecr").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["Terminal"], p2.terminal.id);
    let key2 = v["Id"].as_str().unwrap().to_string();
    assert_ne!(key2, e.key);
    let (s, v) = e.redeem(json!(p2.code), "webecr").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("code_already_redeemed"))
    );

    // Codes expire.
    let p3 = h
        .issue_pairing_code(USER, TerminalSpec::new("11112222", MID))
        .unwrap();
    e.advance(901);
    e.relogin().await;
    let (s, v) = e.redeem(json!(p3.code), "webecr").await;
    assert_eq!((s, v["code"].as_str()), (410, Some("code_expired")));

    // Terminal listing: with a key, that device's terminal only.
    let (s, v) = e.get("/api/v2/terminal/").await;
    assert_eq!(s, 200);
    assert_eq!(v["count"], 1);
    assert_eq!(v["results"][0]["id"], e.terminal);
    assert_eq!(v["results"][0]["TerminalID"], TID);
    assert_eq!(v["results"][0]["Merchant"], MID);
    // Without a key, every paired terminal of the account (p3 never paired).
    let fresh = login(&e.http, &e.running.url(), USER, PASSWORD).await.1["access"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, v) = e
        .call(
            reqwest::Method::GET,
            "/api/v2/terminal/?TerminalID=87654321",
            Some(&fresh),
            None,
            None,
        )
        .await;
    assert_eq!((s, v["count"].as_u64()), (200, Some(1)));
    let (_, v) = e
        .call(
            reqwest::Method::GET,
            "/api/v2/terminal/",
            Some(&fresh),
            None,
            None,
        )
        .await;
    assert_eq!(v["count"], 2);

    // Key A cannot drive terminal B.
    let (s, v) = e
        .call(
            reqwest::Method::POST,
            &format!("/api/v2/terminal/{}/txninit/", p2.terminal.id),
            Some(&fresh),
            Some(&e.key),
            Some(json!({"Amount": 100, "CustomerReference": "x"})),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (404, Some("terminal_not_found")));
    // Missing and unknown keys.
    let (s, v) = e
        .call(
            reqwest::Method::POST,
            &e.txninit(),
            Some(&fresh),
            None,
            Some(json!({})),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (403, Some("api_key_required")));
    let (s, v) = e
        .call(
            reqwest::Method::POST,
            &e.txninit(),
            Some(&fresh),
            Some("nope"),
            Some(json!({})),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (403, Some("api_key_invalid")));

    // Another merchant account cannot use our key nor our code.
    h.add_account("other-shop", "pw2");
    let other = login(&e.http, &e.running.url(), "other-shop", "pw2")
        .await
        .1["access"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = e
        .call(
            reqwest::Method::GET,
            "/api/v2/transactionintent/",
            Some(&other),
            Some(&e.key),
            None,
        )
        .await;
    assert_eq!(s, 403);
    let p4 = h
        .issue_pairing_code(USER, TerminalSpec::new("33334444", MID))
        .unwrap();
    let (s, _) = e
        .call(
            reqwest::Method::POST,
            "/api/v2/authorization/redeem/",
            Some(&other),
            None,
            Some(json!({"Type": "webecr", "Code": p4.code})),
        )
        .await;
    assert_eq!(s, 404);

    // Re-pairing a device revokes its old key.
    let again = h
        .issue_pairing_code(USER, TerminalSpec::new(TID, MID))
        .unwrap();
    assert_eq!(again.terminal.id, e.terminal);
    let (s, _) = e.redeem(json!(again.code), "webecr").await;
    assert_eq!(s, 200);
    let (s, v) = e.get("/api/v2/transactionintent/").await;
    assert_eq!((s, v["code"].as_str()), (403, Some("api_key_invalid")));
    e.h().stop().await;
}

#[tokio::test]
async fn sale_moves_pending_sent_completed() {
    let e = env().await;
    let (s, v) = e.sale("INV-1", 1240).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["Status"], 1);
    assert_eq!(v["StatusText"], "PENDING");
    assert!(v["Result"].is_null() && v["Transaction"].is_null() && v["TransactionId"].is_null());
    assert_eq!(v["Terminal"], e.terminal);
    let id = v["id"].as_u64().unwrap();
    let path = format!("/api/v2/transactionintent/{id}/");
    e.advance(1);
    assert_eq!(e.get(&path).await.1["Status"], 2);
    e.advance(4);
    let (_, v) = e.get(&path).await;
    assert_eq!(
        (v["Status"].as_u64(), v["Result"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(v["ResultText"], "APPROVED");
    let t = &v["Transaction"];
    assert_eq!(
        (t["TID"].as_str(), t["MID"].as_str()),
        (Some(TID), Some(MID))
    );
    assert_eq!(t["Amount"], 1240);
    assert_eq!(t["Approved"], true);
    assert_eq!(t["HostResponseCode"], "00");
    assert_eq!(t["RRN"].as_str().unwrap().len(), 12);
    assert!(t["CardPAN"].as_str().unwrap().contains("******"));
    let tx_id = v["TransactionId"].as_str().unwrap();
    assert_eq!(
        tx_id,
        format!(
            "075;{};{}",
            t["RRN"].as_str().unwrap(),
            t["AuthCode"].as_str().unwrap()
        )
    );
    assert_eq!(e.h().charge_count("INV-1"), 1);
    // The same via the v2.1 alias, without the trailing slash.
    let (s, v2) = e.get(&format!("/api/v2.1/transactionintent/{id}")).await;
    assert_eq!((s, v2["id"].as_u64()), (200, Some(id)));
    e.h().stop().await;
}

#[tokio::test]
async fn results_chosen_by_amount_and_busy_terminal() {
    let e = env().await;
    let cases = [
        (999, 2, "DECLINED"),
        (3333, 3, "CANCELLED"),
        (4444, 4, "FAILED"),
        (5555, 5, "UNKNOWN"),
        (6666, 6, "BUSY"),
        (7777, 7, "MAX_TRANSACTIONS"),
        (100, 1, "APPROVED"),
    ];
    for (amount, result, name) in cases {
        let (s, v) = e.sale(&format!("R-{amount}"), amount).await;
        assert_eq!(s, 200, "{v}");
        e.advance(10);
        let (_, v) = e
            .get(&format!("/api/v2/transactionintent/{}/", v["id"]))
            .await;
        assert_eq!(v["Result"], result, "{amount}: {v}");
        assert_eq!(v["ResultText"], name);
        if amount == 999 {
            assert_eq!(v["Transaction"]["Approved"], false);
            assert_eq!(v["Transaction"]["HostResponseCode"], "05");
            assert!(v["Transaction"]["AuthCode"].is_null());
            assert!(v["TransactionId"].is_null());
        } else if result != 1 {
            assert!(v["Transaction"].is_null(), "{v}");
        }
    }
    assert_eq!(e.h().charges().len(), 1);

    // A terminal busy with an intent answers a second one BUSY at once.
    let (_, first) = e.sale("OCC-1", 500).await;
    let (_, second) = e.sale("OCC-2", 600).await;
    assert_eq!(
        (second["Status"].as_u64(), second["Result"].as_u64()),
        (Some(3), Some(6))
    );
    e.advance(10);
    let (_, first) = e
        .get(&format!("/api/v2/transactionintent/{}/", first["id"]))
        .await;
    assert_eq!(first["Result"], 1);
    e.h().stop().await;
}

#[tokio::test]
async fn slow_approval_waits_on_the_clock_not_the_wall() {
    let mut e = env().await;
    // Asynchronous: still SENT after 100 s, approved after 150 s.
    let (_, v) = e.sale("SLOW-1", 2222).await;
    let path = format!("/api/v2/transactionintent/{}/", v["id"]);
    e.advance(100);
    assert_eq!(e.get(&path).await.1["Status"], 2);
    e.advance(50);
    assert_eq!(e.get(&path).await.1["Result"], 1);

    // Synchronous (Timeout 180): the answer comes when the clock moves.
    let mut body = e.sale_body("SLOW-2", 2222);
    body["Timeout"] = json!(180);
    let url = e.txninit();
    let req = e.post(&url, body);
    let mover = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        e.advance(150);
    };
    let started = std::time::Instant::now();
    let ((s, v), ()) = tokio::join!(req, mover);
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["Status"].as_u64(), v["Result"].as_u64()),
        (Some(3), Some(1))
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    // Timeout as "hh:mm:ss", elapsing on the simulated clock first.
    e.relogin().await;
    let mut body = e.sale_body("SLOW-3", 2222);
    body["Timeout"] = json!("00:00:30");
    let url = e.txninit();
    let req = e.post(&url, body);
    let mover = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        e.advance(31);
    };
    let ((s, v), ()) = tokio::join!(req, mover);
    assert_eq!((s, v["Status"].as_u64()), (200, Some(2)), "{v}");
    e.h().stop().await;
}

#[tokio::test]
async fn lost_connection_then_recovery_by_reference() {
    let e = env().await;
    let body = e.sale_body("LOST-1", 1313);
    let r = e
        .send(
            reqwest::Method::POST,
            &e.txninit(),
            Some(&e.access),
            Some(&e.key),
            Some(body.clone()),
        )
        .await;
    assert!(r.is_err(), "expected no HTTP answer, got {r:?}");
    let log = e.h().requests();
    assert!(log.last().unwrap().dropped);
    // The intent exists and completes approved anyway.
    e.advance(10);
    let (s, v) = e
        .get("/api/v2/transactionintent/?CustomerReference=LOST-1")
        .await;
    assert_eq!((s, v["count"].as_u64()), (200, Some(1)), "{v}");
    let found = &v["results"][0];
    assert_eq!(found["Result"], 1);
    // Retrying the same txninit answers the same intent, no second charge.
    let r = e
        .send(
            reqwest::Method::POST,
            &e.txninit(),
            Some(&e.access),
            Some(&e.key),
            Some(body),
        )
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["x-idempotent-replay"], "true");
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["id"], found["id"]);
    assert_eq!(e.h().charge_count("LOST-1"), 1);
    e.h().stop().await;
}

#[tokio::test]
async fn same_reference_never_charges_twice() {
    let e = env().await;
    let (_, a) = e.sale("DUP-1", 1500).await;
    let (s, b) = e.sale("DUP-1", 1500).await;
    assert_eq!(s, 200);
    assert_eq!(a["id"], b["id"]);
    e.advance(10);
    let (_, c) = e.sale("DUP-1", 1500).await;
    assert_eq!(
        (c["id"].clone(), c["Result"].as_u64()),
        (a["id"].clone(), Some(1))
    );
    let (s, v) = e.sale("DUP-1", 1600).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("customer_reference_conflict"))
    );
    assert_eq!(e.h().charge_count("DUP-1"), 1);
    assert_eq!(e.h().intents().len(), 1);
    e.h().stop().await;
}

#[tokio::test]
async fn txninit_validation_and_provider_signatures() {
    let e = env().await;
    let url = e.txninit();
    let mut check = Vec::new();
    for (amount, code) in [
        (json!(0), "invalid_amount"),
        (json!(-5), "invalid_amount"),
        (json!(12.5), "invalid_amount"),
        (json!("100"), "invalid_amount"),
    ] {
        let mut b = e.sale_body("V-1", 100);
        b["Amount"] = amount;
        check.push((b, 400, code));
    }
    let mut b = e.sale_body("V-2", 100);
    b["CurrencyCode"] = json!(840);
    check.push((b, 400, "invalid_currency"));
    let mut b = e.sale_body("V-3", 100);
    b.as_object_mut().unwrap().remove("CustomerReference");
    check.push((b, 400, "customer_reference_required"));
    let mut b = e.sale_body("V-4", 100);
    b["TxnType"] = json!(2);
    check.push((b, 400, "unsupported_txn_type"));
    let mut b = e.sale_body("V-5", 100);
    b["Timeout"] = json!(181);
    check.push((b, 400, "invalid_timeout"));
    let mut b = e.sale_body("V-6", 100);
    b.as_object_mut().unwrap().remove("ProviderData");
    check.push((b, 400, "provider_data_required"));
    let mut b = e.sale_body("V-7", 100);
    b["ProviderData"]["ProviderName"] = json!("NOBODY");
    check.push((b, 422, "unknown_provider"));
    // Signed by another key.
    let mut b = e.sale_body("V-8", 100);
    b["ProviderData"] = ProviderKey::generate().provider_data(PROVIDER, &e.input(100));
    check.push((b, 422, "invalid_provider_signature"));
    // Signed for another amount.
    let mut b = e.sale_body("V-9", 100);
    b["ProviderData"] = e.pd(200);
    check.push((b, 422, "provider_data_mismatch"));
    // Signed for another terminal.
    let mut i = e.input(100);
    i.tid = "99999999".into();
    let mut b = e.sale_body("V-10", 100);
    b["ProviderData"] = e.provider.provider_data(PROVIDER, &i);
    check.push((b, 422, "provider_data_mismatch"));
    // Signed more than 60 hours ago.
    let mut i = e.input(100);
    i.timestamp = (e.h().now() - chrono::TimeDelta::hours(61))
        .format("%Y%m%d%H%M%S")
        .to_string();
    let mut b = e.sale_body("V-11", 100);
    b["ProviderData"] = e.provider.provider_data(PROVIDER, &i);
    check.push((b, 422, "provider_signature_expired"));
    // Malformed input.
    let mut b = e.sale_body("V-12", 100);
    b["ProviderData"]["Input"] = json!("a;b");
    check.push((b, 400, "invalid_provider_data"));
    check.push((json!([1]), 400, "invalid_body"));
    for (body, status, code) in check {
        let (s, v) = e.post(&url, body.clone()).await;
        assert_eq!((s, v["code"].as_str()), (status, Some(code)), "{body}");
    }
    assert!(e.h().intents().is_empty());

    // Fields only (no Input): the simulator rebuilds the signed string.
    let input = e.input(2480);
    let mut pd = e.provider.provider_data(PROVIDER, &input);
    pd.as_object_mut().unwrap().remove("Input");
    let body = json!({"Amount": 2480, "CustomerReference": "F-1", "ProviderData": pd});
    let (s, v) = e.post(&url, body).await;
    assert_eq!(s, 200, "{v}");
    // Decimal amounts given as JSON numbers work as well.
    e.advance(10);
    let input = e.input(1000);
    let text = input.to_input();
    let pd = json!({"ProviderName": PROVIDER, "UId": input.uid, "Mark": 400001234567u64,
        "SignatureTimestamp": input.timestamp, "NetAmount": 8.06, "VatAmount": 1.94,
        "TotalAmount": 10, "Signature": e.provider.sign(&text)});
    let (s, v) = e
        .post(
            &url,
            json!({"Amount": 1000, "CustomerReference": "F-2", "ProviderData": pd}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    e.h().stop().await;
}

#[tokio::test]
async fn void_an_approved_sale_once() {
    let e = env().await;
    let sale = e.approved_sale("S-1", 5000).await;
    let sale_id = sale["id"].as_u64().unwrap();
    let (s, v) = e
        .post(
            &e.txnvoid(),
            json!({"OriginalIntentId": sale_id, "CustomerReference": "VOID-S-1"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["Kind"].as_str(), v["Status"].as_u64()),
        (Some("VOID"), Some(1))
    );
    assert_eq!(
        v["InitialTransaction"]["TxnId"],
        sale["Transaction"]["TxnId"]
    );
    // A retry with the same reference answers the same void.
    let (s, again) = e
        .post(
            &e.txnvoid(),
            json!({"OriginalIntentId": sale_id, "CustomerReference": "VOID-S-1"}),
        )
        .await;
    assert_eq!((s, again["id"].clone()), (200, v["id"].clone()));
    // Another void is refused.
    let (s, x) = e
        .post(
            &e.txnvoid(),
            json!({"OriginalTxnId": sale["Transaction"]["TxnId"]}),
        )
        .await;
    assert_eq!((s, x["code"].as_str()), (409, Some("already_voided")));
    e.advance(10);
    let (_, done) = e
        .get(&format!("/api/v2/transactionintent/{}/", v["id"]))
        .await;
    assert_eq!(done["Result"], 1);
    assert_eq!(done["Transaction"]["IsVoid"], true);
    assert_eq!(
        done["Transaction"]["OriginalRRN"],
        sale["Transaction"]["RRN"]
    );
    let (_, s1) = e
        .get(&format!("/api/v2/transactionintent/{sale_id}/"))
        .await;
    assert_eq!(s1["Transaction"]["Voided"], true);
    let charges = e.h().charges();
    assert!(charges[0].voided);
    let (_, list) = e.get(&e.txnvoid()).await;
    assert_eq!(list["count"], 1);

    // A refund of a voided sale is refused.
    let (s, x) = e
        .post(
            &e.txninit(),
            json!({"TxnType": 1, "Amount": 100, "CustomerReference": "RF-V",
            "InitialTransaction": sale["Transaction"]["TxnId"]}),
        )
        .await;
    assert_eq!(
        (s, x["code"].as_str()),
        (409, Some("initial_transaction_voided"))
    );

    // Declined sales, unknown ids, missing ids.
    let (_, declined) = e.sale("S-2", 999).await;
    e.advance(10);
    let (s, x) = e
        .post(&e.txnvoid(), json!({"OriginalIntentId": declined["id"]}))
        .await;
    assert_eq!((s, x["code"].as_str()), (409, Some("not_voidable")));
    let (s, x) = e
        .post(&e.txnvoid(), json!({"OriginalIntentId": 999_999}))
        .await;
    assert_eq!((s, x["code"].as_str()), (404, Some("original_not_found")));
    let (s, x) = e.post(&e.txnvoid(), json!({})).await;
    assert_eq!((s, x["code"].as_str()), (400, Some("original_required")));
    e.h().stop().await;
}

#[tokio::test]
async fn refund_names_an_approved_sale_by_rrn_and_mid() {
    let e = env().await;
    let sale = e.approved_sale("S-10", 10000).await;
    let rrn = sale["Transaction"]["RRN"].as_str().unwrap().to_string();
    let refund = |reference: &str, amount: i64, init: Value| json!({"TxnType": 1, "Amount": amount, "CustomerReference": reference, "InitialTransaction": init});
    let (s, v) = e
        .post(
            &e.txninit(),
            refund("RF-1", 4000, json!({"RRN": rrn, "MID": MID})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    e.advance(10);
    let (_, v) = e
        .get(&format!("/api/v2/transactionintent/{}/", v["id"]))
        .await;
    assert_eq!(
        (v["TxnType"].as_u64(), v["Result"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(v["Transaction"]["OriginalRRN"], rrn.as_str());
    assert_eq!(v["InitialTransaction"]["RRN"], rrn.as_str());
    // By TxnId too; the total may not pass the sale.
    let (s, x) = e
        .post(
            &e.txninit(),
            refund("RF-2", 6001, sale["Transaction"]["TxnId"].clone()),
        )
        .await;
    assert_eq!((s, x["code"].as_str()), (422, Some("refund_exceeds_sale")));
    let (s, _) = e
        .post(
            &e.txninit(),
            refund("RF-3", 6000, sale["Transaction"]["TxnId"].clone()),
        )
        .await;
    assert_eq!(s, 200);
    e.advance(10);
    assert_eq!(e.h().charges()[0].refunded, 10000);
    // Errors.
    let (s, x) = e
        .post(
            &e.txninit(),
            refund("RF-4", 100, json!({"RRN": rrn, "MID": "999"})),
        )
        .await;
    assert_eq!(
        (s, x["code"].as_str()),
        (404, Some("initial_transaction_not_found"))
    );
    let (s, x) = e
        .post(
            &e.txninit(),
            refund("RF-5", 100, json!({"RRN": "000000000000"})),
        )
        .await;
    assert_eq!(
        (s, x["code"].as_str()),
        (404, Some("initial_transaction_not_found"))
    );
    let (s, x) = e
        .post(
            &e.txninit(),
            json!({"TxnType": 1, "Amount": 100, "CustomerReference": "RF-6"}),
        )
        .await;
    assert_eq!(
        (s, x["code"].as_str()),
        (400, Some("initial_transaction_required"))
    );
    let (s, x) = e.post(&e.txninit(), refund("RF-7", 100, json!(true))).await;
    assert_eq!(
        (s, x["code"].as_str()),
        (400, Some("invalid_initial_transaction"))
    );
    // A refund cannot name a declined sale, nor a refund.
    let (_, d) = e.sale("S-11", 999).await;
    e.advance(10);
    let (_, d) = e
        .get(&format!("/api/v2/transactionintent/{}/", d["id"]))
        .await;
    let (s, x) = e
        .post(
            &e.txninit(),
            refund("RF-8", 100, d["Transaction"]["TxnId"].clone()),
        )
        .await;
    assert_eq!(
        (s, x["code"].as_str()),
        (409, Some("initial_transaction_not_approved"))
    );
    // A sale that was refunded cannot be voided.
    let (s, x) = e
        .post(&e.txnvoid(), json!({"OriginalIntentId": sale["id"]}))
        .await;
    assert_eq!((s, x["code"].as_str()), (409, Some("not_voidable")));

    // Another merchant's terminal cannot refund our sale.
    let h = e.h();
    h.add_account("other", "pw");
    let p = h
        .issue_pairing_code("other", TerminalSpec::new("55556666", "000000099999"))
        .unwrap();
    let other = login(&e.http, &e.running.url(), "other", "pw").await.1["access"]
        .as_str()
        .unwrap()
        .to_string();
    let key = e
        .call(
            reqwest::Method::POST,
            "/api/v2/authorization/redeem/",
            Some(&other),
            None,
            Some(json!({"Type": "webecr", "Code": p.code})),
        )
        .await
        .1["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, x) = e
        .call(
            reqwest::Method::POST,
            &format!("/api/v2/terminal/{}/txninit/", p.terminal.id),
            Some(&other),
            Some(&key),
            Some(refund("RF-9", 100, json!({"RRN": rrn}))),
        )
        .await;
    assert_eq!(
        (s, x["code"].as_str()),
        (404, Some("initial_transaction_not_found"))
    );
    e.h().stop().await;
}

#[tokio::test]
async fn lookups_by_reference_status_period_and_rrn() {
    let e = env().await;
    let a = e.approved_sale("L-1", 100).await;
    e.approved_sale("L-2", 200).await;
    let (_, pending) = e.sale("L-3", 300).await;
    let (_, v) = e.get("/api/v2/transactionintent/?Status=1").await;
    assert_eq!(v["count"], 1);
    assert_eq!(v["results"][0]["id"], pending["id"]);
    let (_, v) = e.get("/api/v2/transactionintent/?Result=1").await;
    assert_eq!(v["count"], 2);
    let (_, v) = e.get("/api/v2/transactionintent/?limit=2").await;
    assert_eq!(
        (v["count"].as_u64(), v["results"].as_array().unwrap().len()),
        (Some(3), 2)
    );
    let next = v["next"].as_str().unwrap().to_string();
    assert!(next.contains("offset=2"), "{next}");
    let (_, v) = e.get(&next).await;
    assert_eq!(v["results"].as_array().unwrap().len(), 1);
    assert!(v["next"].is_null());
    let (_, v) = e
        .get("/api/v2/transactionintent/?From=2026-11-30&To=2026-11-30")
        .await;
    assert_eq!(v["count"], 3);
    let (_, v) = e.get("/api/v2/transactionintent/?From=2026-12-01").await;
    assert_eq!(v["count"], 0);
    let (s, v) = e.get("/api/v2/transactionintent/?From=yesterday").await;
    assert_eq!((s, v["code"].as_str()), (400, Some("invalid_query")));
    let (s, v) = e.get("/api/v2/transactionintent/999999/").await;
    assert_eq!((s, v["code"].as_str()), (404, Some("intent_not_found")));

    let rrn = a["Transaction"]["RRN"].as_str().unwrap();
    let (_, v) = e.get(&format!("/api/v2/transaction/?RRN={rrn}")).await;
    assert_eq!(v["count"], 1);
    assert_eq!(v["results"][0]["RRN"], rrn);
    let (_, v) = e.get(&format!("/api/v2/transaction/?TID={TID}")).await;
    assert_eq!(v["count"], 2);
    let (s, _) = e.get("/api/v2/nothing/").await;
    assert_eq!(s, 404);
    e.h().stop().await;
}

#[tokio::test]
async fn faults_fail_delay_and_drop() {
    let e = env().await;
    e.h().faults().fail_next(2, 503).unwrap();
    for _ in 0..2 {
        let (s, v) = e.get("/api/v2/terminal/").await;
        assert_eq!((s, v["code"].as_str()), (503, Some("simulated_failure")));
    }
    assert_eq!(e.get("/api/v2/terminal/").await.0, 200);
    assert!(e.h().faults().fail_next(1, 200).is_err());

    // A failed txninit is not processed.
    e.h().faults().fail_next(1, 500).unwrap();
    let (s, _) = e.sale("FF-1", 100).await;
    assert_eq!(s, 500);
    assert!(e.h().intents().is_empty());

    // Delay: a client with a short timeout gives up.
    e.h().faults().delay(Duration::from_millis(800));
    let impatient = client(&e.h().ca_pem(), Some(Duration::from_millis(200)));
    let r = impatient
        .get(e.url("/api/v2/terminal/"))
        .bearer_auth(&e.access)
        .send()
        .await;
    assert!(r.unwrap_err().is_timeout());
    e.h().faults().reset();

    // Drop: processed, answer lost.
    e.h().faults().drop_next(1);
    let body = e.sale_body("DROP-1", 700);
    assert!(
        e.send(
            reqwest::Method::POST,
            &e.txninit(),
            Some(&e.access),
            Some(&e.key),
            Some(body)
        )
        .await
        .is_err()
    );
    assert_eq!(e.h().intents().len(), 1);
    assert_eq!(e.get("/api/v2/terminal/").await.0, 200);
    let log = e.h().requests();
    assert_eq!(log.iter().filter(|r| r.dropped).count(), 1);
    assert_eq!(log.last().unwrap().status, Some(200));
    assert_eq!(log.last().unwrap().api_key.as_deref(), Some(e.key.as_str()));
    e.h().stop().await;
}

#[tokio::test]
async fn control_api_over_https() {
    let e = env().await;
    let c = |path: &str, body: Value| {
        let r = e.http.post(e.url(path)).json(&body).send();
        async move {
            let r = r.await.unwrap();
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, v) = c("/__control/clock/advance", json!({"seconds": 60})).await;
    assert_eq!(s, 200);
    assert_eq!(v["now"], "2026-11-30T10:01:00+00:00");
    let (s, _) = c(
        "/__control/accounts",
        json!({"username": "u2", "password": "p2"}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = c(
        "/__control/pairing_codes",
        json!({"username": "u2", "tid": "70000001", "mid": "000000077777", "model": "Move 2500", "callId": 4242}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["terminal"]["id"], 4242);
    assert_eq!(v["terminal"]["Model"], "Move 2500");
    assert_eq!(v["code"].as_str().unwrap().len(), 8);
    let (s, v) = c(
        "/__control/pairing_codes",
        json!({"username": "nobody", "tid": "1", "mid": "2"}),
    )
    .await;
    assert_eq!((s, v["error"].is_string()), (404, true));
    let k = ProviderKey::generate();
    let (s, _) = c(
        "/__control/providers",
        json!({"name": "P2", "publicKey": k.public_key_pem()}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = c(
        "/__control/providers",
        json!({"name": "P3", "publicKey": "junk"}),
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = c(
        "/__control/outcomes",
        json!({"amount": 4321, "result": 2, "afterSeconds": 3}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = c(
        "/__control/faults/fail_next",
        json!({"count": 1, "status": 502}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(e.get("/api/v2/terminal/").await.0, 502);
    let (s, v) = c("/__control/faults/drop_next", json!({"count": 0})).await;
    assert_eq!((s, v["dropNext"].as_u64()), (200, Some(0)));
    let (s, _) = c("/__control/faults/delay", json!({"ms": 0})).await;
    assert_eq!(s, 200);
    let (s, _) = c("/__control/faults/expire_jwts", json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(e.get("/api/v2/terminal/").await.0, 401);
    let (s, _) = c("/__control/reset", json!({})).await;
    assert_eq!(s, 200);
    let fresh = login(&e.http, &e.running.url(), USER, PASSWORD).await.1["access"]
        .as_str()
        .unwrap()
        .to_string();
    let body = e.sale_body("CTL-1", 4321);
    let (s, _) = e
        .call(
            reqwest::Method::POST,
            &e.txninit(),
            Some(&fresh),
            Some(&e.key),
            Some(body),
        )
        .await;
    assert_eq!(s, 200);
    c("/__control/clock/advance", json!({"seconds": 3})).await;
    let intents: Value = e
        .http
        .get(e.url("/__control/intents"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(intents[0]["Result"], 2);
    let charges: Value = e
        .http
        .get(e.url("/__control/charges"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(charges.as_array().unwrap().len(), 0);
    let terminals: Value = e
        .http
        .get(e.url("/__control/terminals"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(terminals.as_array().unwrap().len(), 2);
    let log: Value = e
        .http
        .get(e.url("/__control/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!log.as_array().unwrap().is_empty());
    let r = e
        .http
        .delete(e.url("/__control/requests"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    assert!(e.h().requests().is_empty());
    e.h().stop().await;
}

#[tokio::test]
async fn untrusted_clients_fail_the_handshake() {
    let e = env().await;
    let plain = reqwest::Client::builder().use_rustls_tls().build().unwrap();
    assert!(plain.get(e.url("/__control/clock")).send().await.is_err());
    e.h().stop().await;
}
