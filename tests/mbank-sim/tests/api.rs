//! The simulator over real HTTPS with mutual TLS, real keys and real
//! signatures, as the mBank connector would use it.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::NaiveDate;
use h2h_mbank_sim::{
    API_BASE, DEMO_DIK, DEMO_DIK_2, NewTransaction, Running, SimHandle, Simulator, TransferStatus,
};
use reqwest::Method;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::{Value, json};

/// A test-only RSA 2048 key (made with `openssl genpkey`; used nowhere
/// else). Fixed so the tests need not generate RSA keys, which is slow in
/// an unoptimised build.
const USER_KEY_PEM: &str = include_str!("bank-user-rsa2048.pem");
const USER: &str = "JKOWALSKI";
const RECIPIENT: &str = "61109010140000071219812874";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

struct RsaUser {
    cert_der: Vec<u8>,
    key: rsa::pkcs1v15::SigningKey<sha2::Sha256>,
}

impl RsaUser {
    fn new() -> RsaUser {
        let kp =
            rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(USER_KEY_PEM, &rcgen::PKCS_RSA_SHA256)
                .unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(
            rcgen::DnType::CommonName,
            "Jan Kowalski (test qualified signature)",
        );
        let cert = p.self_signed(&kp).unwrap();
        RsaUser {
            cert_der: cert.der().to_vec(),
            key: rsa::pkcs1v15::SigningKey::new(
                rsa::RsaPrivateKey::from_pkcs8_pem(USER_KEY_PEM).unwrap(),
            ),
        }
    }

    fn sign(&self, data: &[u8]) -> Vec<u8> {
        self.key.sign(data).to_vec()
    }
}

fn http(h: &SimHandle, identity: Option<&h2h_mbank_sim::ClientIdentity>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(h.ca_pem().as_bytes()).unwrap())
        .timeout(Duration::from_secs(10));
    if let Some(id) = identity {
        b = b.identity(
            reqwest::Identity::from_pem(id.identity_pem(&h.ca_pem()).as_bytes()).unwrap(),
        );
    }
    b.build().unwrap()
}

struct Bank {
    running: Running,
    http: reqwest::Client,
    user: RsaUser,
}

async fn bank() -> Bank {
    let running = Simulator::builder()
        .today(today())
        .days(3)
        .seed(7)
        .build()
        .unwrap()
        .start("127.0.0.1:0")
        .await
        .unwrap();
    let user = RsaUser::new();
    running
        .handle
        .register_user(USER, &user.cert_der, &[DEMO_DIK, DEMO_DIK_2], true)
        .unwrap();
    let http = http(&running.handle, Some(&running.handle.client_identity()));
    Bank {
        running,
        http,
        user,
    }
}

impl Bank {
    fn h(&self) -> &SimHandle {
        &self.running.handle
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("/__control") {
            format!("{}{path}", self.running.url())
        } else {
            format!("{}{path}", self.running.api_url())
        }
    }

    /// The first account of a DIK.
    fn iban(&self, dik: &str) -> String {
        self.h()
            .accounts()
            .into_iter()
            .find(|a| a.dik == dik)
            .unwrap()
            .iban
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        dik: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut rb = self.http.request(method, self.url(path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(d) = dik {
            rb = rb.header("X-DIK", d);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        rb.send().await.unwrap()
    }

    async fn json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        dik: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let r = self.send(method, path, token, dik, body).await;
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.json(Method::POST, path, None, None, Some(body)).await
    }

    async fn get(&self, path: &str, token: &str, dik: &str) -> (u16, Value) {
        self.json(Method::GET, path, Some(token), Some(dik), None)
            .await
    }

    async fn challenge(&self, diks: &[&str], valid_until: &str) -> (u16, Value) {
        self.post(
            "/session/challenge",
            json!({"userId": USER, "diks": diks, "validUntil": valid_until,
                   "certificate": B64.encode(&self.user.cert_der)}),
        )
        .await
    }

    async fn login_with(&self, diks: &[&str], valid_until: &str) -> Value {
        let (s, c) = self.challenge(diks, valid_until).await;
        assert_eq!(s, 200, "{c}");
        let bytes = B64.decode(c["challenge"].as_str().unwrap()).unwrap();
        let (s, v) = self
            .post(
                "/session/login",
                json!({"challengeId": c["challengeId"], "signature": B64.encode(self.user.sign(&bytes))}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v
    }

    async fn login(&self) -> String {
        let v = self.login_with(&[DEMO_DIK], "2027-06-30").await;
        v["token"].as_str().unwrap().to_string()
    }

    async fn statement(&self, token: &str, kind: &str, query: &str) -> (u16, Vec<u8>) {
        let r = self
            .send(
                Method::GET,
                &format!("/statements/{kind}?{query}"),
                Some(token),
                Some(DEMO_DIK),
                None,
            )
            .await;
        let s = r.status().as_u16();
        (s, r.bytes().await.unwrap().to_vec())
    }

    async fn mt942(&self, token: &str) -> Vec<u8> {
        let (s, b) = self
            .statement(token, "mt942", &format!("account={}", self.iban(DEMO_DIK)))
            .await;
        assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
        b
    }

    async fn mt940(&self, token: &str, from: &str, to: &str) -> Vec<u8> {
        let q = format!("account={}&from={from}&to={to}", self.iban(DEMO_DIK));
        let (s, b) = self.statement(token, "mt940", &q).await;
        assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
        b
    }

    fn batch_body(&self, file: &[u8]) -> Value {
        json!({
            "dik": DEMO_DIK,
            "fileName": "przelewy.pli",
            "file": B64.encode(file),
            "signature": B64.encode(self.user.sign(file)),
            "signerCertificate": B64.encode(&self.user.cert_der),
        })
    }

    async fn poll(&self, id: &str) -> (u16, Value) {
        self.json(
            Method::GET,
            &format!("/session/mobile/{id}"),
            None,
            None,
            None,
        )
        .await
    }

    async fn ctl(&self, m: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.json(m, path, None, None, body).await
    }

    async fn post_batch(&self, token: &str, body: Value) -> (u16, Value) {
        self.json(
            Method::POST,
            "/batches",
            Some(token),
            Some(DEMO_DIK),
            Some(body),
        )
        .await
    }
}

/// One Elixir-O line (ISO-8859-2 bytes are made by `latin2`).
fn elixir_line(sender_nrb: &str, amount: u64, title: &str, code: &str, reference: &str) -> String {
    format!(
        "110,20261130,{amount},{},0,\"{sender_nrb}\",\"{RECIPIENT}\",\"PRZEDSIĘBIORSTWO TESTOWE ŻURAW|UL. DŁUGA 1 KRAKÓW\",\
         \"Dostawca Wałbrzych Sp. z o.o.|ul. Krótka 2\",0,10901014,\"{title}\",\"\",\"\",\"{code}\",\"{reference}\"",
        &sender_nrb[2..10]
    )
}

fn latin2(s: &str) -> Vec<u8> {
    encoding_rs::ISO_8859_2.encode(s).0.into_owned()
}

fn parse(bytes: &[u8]) -> Vec<h2h_mt940::Statement> {
    h2h_mt940::parse_with(
        bytes,
        &h2h_mt940::ParseOptions::default().encoding(h2h_mt940::Encoding::Iso8859_2),
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(bytes)))
}

fn tnrs(statements: &[h2h_mt940::Statement]) -> Vec<String> {
    statements
        .iter()
        .flat_map(|s| &s.transactions)
        .filter_map(|t| t.tnr().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn mtls_is_required() {
    let b = bank().await;
    let h = b.h();
    assert!(
        http(h, None)
            .get(b.url("/__control/clock"))
            .send()
            .await
            .is_err()
    );
    // A client certificate from another CA.
    let other = Simulator::builder()
        .build()
        .unwrap()
        .handle()
        .client_identity();
    let foreign = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(h.ca_pem().as_bytes()).unwrap())
        .identity(
            reqwest::Identity::from_pem(format!("{}{}", other.key_pem, other.cert_pem).as_bytes())
                .unwrap(),
        )
        .build()
        .unwrap();
    assert!(foreign.get(b.url("/__control/clock")).send().await.is_err());
    assert!(h.handshake_failures() >= 2);
    let (s, v) = b.json(Method::GET, "/accounts", None, None, None).await;
    assert_eq!((s, v["code"].as_str()), (401, Some("NO_TOKEN")));
    let r = h.requests();
    let subject = h.client_identity().subject;
    assert!(subject.contains("CN=erp-transport"), "{subject}");
    assert_eq!(
        r.last().unwrap().client_subject.as_deref(),
        Some(subject.as_str())
    );
    h.stop().await;
}

#[tokio::test]
async fn signature_session_lives_until_valid_until() {
    let b = bank().await;
    let (s, c) = b.challenge(&[DEMO_DIK], "2099-01-01").await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["mechanism"], "rsa-pkcs1-sha256");
    let bytes = B64.decode(c["challenge"].as_str().unwrap()).unwrap();
    let until = c["validUntil"].as_str().unwrap();
    let prefix = format!("MBANK-COMPANYNET-SESSION:{USER}:{DEMO_DIK}:{until}:");
    assert!(
        bytes.starts_with(prefix.as_bytes()),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(bytes.len(), prefix.len() + 32);
    // Capped at 90 days from now.
    let until_t = chrono::DateTime::parse_from_rfc3339(until).unwrap();
    let days = (until_t.with_timezone(&chrono::Utc) - b.h().now()).num_days();
    assert!((89..=90).contains(&days), "{days}");

    let v = b.login_with(&[DEMO_DIK], "2026-12-31").await;
    assert_eq!(v["kind"], "SIGNATURE");
    assert_eq!(v["diks"], json!([DEMO_DIK]));
    let token = v["token"].as_str().unwrap();
    let valid = chrono::DateTime::parse_from_rfc3339(v["validUntil"].as_str().unwrap()).unwrap();
    assert_eq!(valid.to_rfc3339(), "2026-12-31T23:59:59+00:00");

    let (s, a) = b.get("/accounts", token, DEMO_DIK).await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["accounts"].as_array().unwrap().len(), 2);
    // DIK scoping.
    let (s, e) = b
        .json(Method::GET, "/accounts", Some(token), None, None)
        .await;
    assert_eq!((s, e["code"].as_str()), (400, Some("MISSING_DIK")));
    let (s, e) = b.get("/accounts", token, DEMO_DIK_2).await;
    assert_eq!((s, e["code"].as_str()), (403, Some("DIK_NOT_IN_SESSION")));
    let (s, e) = b
        .statement(token, "mt942", &format!("account={}", b.iban(DEMO_DIK_2)))
        .await;
    assert_eq!(s, 403, "{}", String::from_utf8_lossy(&e));

    // Idle hours do not end a signature session; validUntil does.
    b.h().advance_clock(Duration::from_secs(6 * 3600));
    let (s, k) = b
        .json(Method::POST, "/session/keepalive", Some(token), None, None)
        .await;
    assert_eq!(s, 200, "{k}");
    assert_eq!(k["userId"], USER);
    let left = (valid.with_timezone(&chrono::Utc) - b.h().now())
        .to_std()
        .unwrap();
    b.h().advance_clock(left + Duration::from_secs(1));
    let (s, e) = b.get("/accounts", token, DEMO_DIK).await;
    assert_eq!((s, e["code"].as_str()), (401, Some("SESSION_EXPIRED")));

    // Logout.
    let token = b.login().await;
    let (s, _) = b
        .json(Method::POST, "/session/logout", Some(&token), None, None)
        .await;
    assert_eq!(s, 200);
    let (s, e) = b.get("/accounts", &token, DEMO_DIK).await;
    assert_eq!((s, e["code"].as_str()), (401, Some("INVALID_TOKEN")));
    // A session over two DIKs reaches both.
    let v = b.login_with(&[DEMO_DIK, DEMO_DIK_2], "2027-06-30").await;
    let t = v["token"].as_str().unwrap();
    let (s, a) = b.get("/accounts", t, DEMO_DIK_2).await;
    assert_eq!((s, a["accounts"].as_array().unwrap().len()), (200, 1));
    b.h().stop().await;
}

#[tokio::test]
async fn login_refusals() {
    let b = bank().await;
    let cert = B64.encode(&b.user.cert_der);
    let cases = [
        (
            json!({"userId": "NOBODY", "diks": [DEMO_DIK], "validUntil": "2026-12-31", "certificate": cert}),
            403,
            "USER_UNKNOWN",
        ),
        (
            json!({"userId": USER, "diks": ["99999999"], "validUntil": "2026-12-31", "certificate": cert}),
            403,
            "DIK_NOT_ALLOWED",
        ),
        (
            json!({"userId": USER, "diks": [], "validUntil": "2026-12-31", "certificate": cert}),
            400,
            "NO_DIK",
        ),
        (
            json!({"userId": USER, "diks": [DEMO_DIK], "validUntil": "2020-01-01", "certificate": cert}),
            400,
            "BAD_VALID_UNTIL",
        ),
        (
            json!({"userId": USER, "diks": [DEMO_DIK], "validUntil": "soon", "certificate": cert}),
            400,
            "BAD_VALID_UNTIL",
        ),
        (
            json!({"userId": USER, "diks": [DEMO_DIK], "validUntil": "2026-12-31", "certificate": B64.encode(b"x")}),
            403,
            "CERTIFICATE_MISMATCH",
        ),
        (
            json!({"userId": USER, "diks": [DEMO_DIK], "validUntil": "2026-12-31", "certificate": "%%"}),
            400,
            "BAD_BASE64",
        ),
        (json!({"userId": USER}), 400, "BAD_REQUEST"),
    ];
    for (body, status, code) in cases {
        let (s, v) = b.post("/session/challenge", body).await;
        assert_eq!((s, v["code"].as_str()), (status, Some(code)), "{v}");
    }
    // A wrong signature, then the same challenge again (single use).
    let (_, c) = b.challenge(&[DEMO_DIK], "2026-12-31").await;
    let login = json!({"challengeId": c["challengeId"], "signature": B64.encode(b.user.sign(b"something else"))});
    let (s, v) = b.post("/session/login", login.clone()).await;
    assert_eq!((s, v["code"].as_str()), (401, Some("BAD_SIGNATURE")));
    let (s, v) = b.post("/session/login", login).await;
    assert_eq!((s, v["code"].as_str()), (401, Some("UNKNOWN_CHALLENGE")));
    // Too late.
    let (_, c) = b.challenge(&[DEMO_DIK], "2026-12-31").await;
    let bytes = B64.decode(c["challenge"].as_str().unwrap()).unwrap();
    b.h().advance_clock(Duration::from_secs(121));
    let (s, v) = b
        .post(
            "/session/login",
            json!({"challengeId": c["challengeId"], "signature": B64.encode(b.user.sign(&bytes))}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (401, Some("CHALLENGE_EXPIRED")),
        "{v}"
    );
    let (s, v) = b
        .post(
            "/session/login",
            json!({"challengeId": c["challengeId"], "signature": B64.encode(b.user.sign(&bytes))}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (401, Some("UNKNOWN_CHALLENGE")),
        "{v}"
    );
    b.h().stop().await;
}

#[tokio::test]
async fn ec_p256_login_and_batch() {
    use p256::ecdsa::signature::Signer as _;
    use p256::pkcs8::DecodePrivateKey as _;
    let b = bank().await;
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "Anna Nowak (EC card)");
    let cert = p.self_signed(&kp).unwrap().der().to_vec();
    let key = p256::ecdsa::SigningKey::from_pkcs8_der(&kp.serialize_der()).unwrap();
    b.h()
        .register_user("ANOWAK", &cert, &[DEMO_DIK], false)
        .unwrap();
    let (s, c) = b
        .post("/session/challenge", json!({"userId": "ANOWAK", "diks": [DEMO_DIK], "validUntil": "2026-12-15", "certificate": B64.encode(&cert)}))
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["mechanism"], "ecdsa-p256-sha256");
    let bytes = B64.decode(c["challenge"].as_str().unwrap()).unwrap();
    let sig: p256::ecdsa::Signature = key.sign(&bytes);
    assert_eq!(sig.to_bytes().len(), 64);
    let (s, v) = b
        .post(
            "/session/login",
            json!({"challengeId": c["challengeId"], "signature": B64.encode(sig.to_bytes())}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let token = v["token"].as_str().unwrap();
    let file = latin2(&elixir_line(
        &b.iban(DEMO_DIK)[2..],
        100,
        "FV/EC/1",
        "51",
        "EC-1",
    ));
    let sig: p256::ecdsa::Signature = key.sign(&file);
    let body = json!({"fileName": "ec.pli", "file": B64.encode(&file), "signature": B64.encode(sig.to_bytes()), "signerCertificate": B64.encode(&cert)});
    let (s, v) = b.post_batch(token, body).await;
    assert_eq!((s, v["accepted"].as_u64()), (201, Some(1)), "{v}");
    assert_eq!(b.h().batches()[0].signed_by, "ANOWAK");
    b.h().stop().await;
}

#[tokio::test]
async fn mobile_confirmation_flow() {
    let b = bank().await;
    let h = b.h();
    let start = |diks: Value| b.post("/session/mobile", json!({"userId": USER, "diks": diks}));
    let (s, v) = start(json!([DEMO_DIK])).await;
    assert_eq!((s, v["status"].as_str()), (202, Some("PENDING")), "{v}");
    let id = v["loginId"].as_str().unwrap().to_string();
    let (s, v) = b.poll(&id).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("PENDING")));
    assert!(v.get("token").is_none());
    // Confirmed in the app (the control API plays the phone).
    let (s, v) = b
        .post(&format!("/__control/mobile/{id}/approve"), json!({}))
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("CONFIRMED")), "{v}");
    let (_, v) = b.poll(&id).await;
    assert_eq!(v["status"], "CONFIRMED");
    assert_eq!(v["kind"], "MOBILE");
    assert_eq!(v["idleTimeout"], 1800);
    let token = v["token"].as_str().unwrap().to_string();
    let (s, _) = b.get("/accounts", &token, DEMO_DIK).await;
    assert_eq!(s, 200);
    // Activity keeps it: 20 minutes, a keep-alive, 20 more.
    h.advance_clock(Duration::from_secs(1200));
    let (s, _) = b
        .json(Method::POST, "/session/keepalive", Some(&token), None, None)
        .await;
    assert_eq!(s, 200);
    h.advance_clock(Duration::from_secs(1200));
    let (s, _) = b.get("/accounts", &token, DEMO_DIK).await;
    assert_eq!(s, 200);
    // 30 idle minutes end it.
    h.advance_clock(Duration::from_secs(1800));
    let (s, e) = b.get("/accounts", &token, DEMO_DIK).await;
    assert_eq!((s, e["code"].as_str()), (401, Some("SESSION_IDLE_TIMEOUT")));
    // Approving twice is refused.
    let (s, _) = b
        .post(&format!("/__control/mobile/{id}/approve"), json!({}))
        .await;
    assert_eq!(s, 409);

    // Rejected in the app.
    let (_, v) = start(json!([DEMO_DIK])).await;
    let id = v["loginId"].as_str().unwrap().to_string();
    h.reject_mobile(&id).unwrap();
    assert_eq!(b.poll(&id).await.1["status"], "REJECTED");
    // Not confirmed in time (120 s of simulated clock).
    let (_, v) = start(json!([DEMO_DIK])).await;
    let id = v["loginId"].as_str().unwrap().to_string();
    h.advance_clock(Duration::from_secs(121));
    assert_eq!(b.poll(&id).await.1["status"], "EXPIRED");
    assert!(h.approve_mobile(&id).is_err());
    // Expired by hand.
    let (_, v) = start(json!([DEMO_DIK])).await;
    let id = v["loginId"].as_str().unwrap().to_string();
    let (s, v) = b
        .post(&format!("/__control/mobile/{id}/expire"), json!({}))
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("EXPIRED")));
    // Refusals.
    let (s, v) = start(json!(["99999999"])).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("DIK_NOT_ALLOWED")));
    h.register_user("NOAPP", &b.user.cert_der, &[DEMO_DIK], false)
        .unwrap();
    let (s, v) = b
        .post(
            "/session/mobile",
            json!({"userId": "NOAPP", "diks": [DEMO_DIK]}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (403, Some("MOBILE_NOT_ENABLED")));
    let (s, v) = b.poll("nope").await;
    assert_eq!((s, v["code"].as_str()), (404, Some("UNKNOWN_LOGIN")));
    assert_eq!(h.mobile_logins().len(), 4);
    h.stop().await;
}

#[tokio::test]
async fn statements_in_iso_8859_2_with_soh_etx_and_tnr() {
    let b = bank().await;
    let h = b.h();
    let token = b.login().await;
    let iban = b.iban(DEMO_DIK);
    let payer = "PL61109010140000071219812874";
    let tx = h
        .add_transaction(NewTransaction::credit(
            &iban,
            "1500.00".parse().unwrap(),
            "Zapłata za FV/1/2026; łódź",
            "Łukasz Żółć",
            payer,
        ))
        .unwrap();
    assert_eq!(tx.booking_date, today());

    // MT942: the business day's lines.
    let raw = b.mt942(&token).await;
    assert_eq!(raw[0], 0x01);
    assert!(raw.ends_with(b"-\x03\r\n"));
    assert!(
        raw.windows(2).any(|w| w == b"\xB3u"),
        "ł as ISO-8859-2 0xB3"
    );
    assert!(
        !raw.contains(&b'\n')
            || raw
                .windows(2)
                .filter(|w| w[1] == b'\n')
                .all(|w| w[0] == b'\r')
    );
    let st = parse(&raw);
    assert_eq!(st.len(), 1);
    assert_eq!(st[0].kind, h2h_mt940::Kind::Mt942);
    assert!(tnrs(&st).contains(&tx.tnr));
    let line = st[0]
        .transactions
        .iter()
        .find(|t| t.tnr() == Some(tx.tnr.as_str()))
        .unwrap();
    let d = line.details.as_ref().unwrap();
    assert_eq!(d.part("OD"), Some("Łukasz Żółć"));
    assert_eq!(d.part("Z RACH."), Some(&payer[2..]));
    assert_eq!(d.part("TYT."), Some("Zapłata za FV/1/2026  łódź"));
    assert_eq!(line.funds_code, Some('N'));
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains(":34F:PLND0,") && text.contains(":13D:") && text.contains(":90C:"));

    // MT940: closed days only, one SOH/ETX block per day, chained.
    let raw = b.mt940(&token, "2026-11-28", "2026-11-30").await;
    let st = parse(&raw);
    assert_eq!(st.len(), 2, "28th and 29th; the 30th is not closed");
    assert_eq!(raw.iter().filter(|b| **b == 0x01).count(), 2);
    assert_eq!(raw.iter().filter(|b| **b == 0x03).count(), 2);
    assert!(!tnrs(&st).contains(&tx.tnr));
    for s in &st {
        assert_eq!(s.balance_difference(), Some(0.into()), "{}", s.reference);
        assert!(s.reference.starts_with("ST2611"), "{}", s.reference);
        assert_eq!(s.account, iban);
    }
    assert_eq!(
        st[0].closing_balance.as_ref().unwrap().amount,
        st[1].opening_balance.as_ref().unwrap().amount
    );
    let yesterday_tnrs = tnrs(&st);

    // The day closes: the MT942 line becomes the MT940 line, same TNR.
    let intraday = tnrs(&parse(&b.mt942(&token).await));
    assert_eq!(h.close_day(), NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
    let st = parse(&b.mt940(&token, "2026-11-30", "2026-11-30").await);
    assert_eq!(tnrs(&st), intraday);
    assert_eq!(st[0].balance_difference(), Some(0.into()));
    let st = parse(&b.mt942(&token).await);
    assert!(st[0].transactions.is_empty());
    // The clock closes days too; earlier days keep their TNRs.
    h.advance_clock(Duration::from_secs(86_400));
    assert_eq!(h.today(), NaiveDate::from_ymd_opt(2026, 12, 2).unwrap());
    let st = parse(&b.mt940(&token, "2026-11-28", "2026-12-05").await);
    assert_eq!(st.len(), 4);
    assert!(tnrs(&st).starts_with(&yesterday_tnrs));

    // Refusals.
    let other = b.iban(DEMO_DIK_2);
    for (query, status, code) in [
        (
            format!("account={iban}&from=2026-11-01"),
            400,
            "MISSING_PARAMETER",
        ),
        (
            format!("account={iban}&from=2026-11-31&to=2026-11-30"),
            400,
            "BAD_DATE",
        ),
        (
            format!("account={iban}&from=2026-11-30&to=2026-11-01"),
            400,
            "BAD_DATE_RANGE",
        ),
        (
            format!("account={iban}&from=2026-01-01&to=2026-11-30"),
            400,
            "RANGE_TOO_LONG",
        ),
        (
            "account=PL00123&from=2026-11-01&to=2026-11-02".to_string(),
            400,
            "BAD_ACCOUNT",
        ),
        (
            "account=PL61109010140000071219812874&from=2026-11-01&to=2026-11-02".to_string(),
            404,
            "UNKNOWN_ACCOUNT",
        ),
        (
            format!("account={other}&from=2026-11-01&to=2026-11-02"),
            403,
            "ACCOUNT_NOT_IN_DIK",
        ),
    ] {
        let (s, body) = b.statement(&token, "mt940", &query).await;
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((s, v["code"].as_str()), (status, Some(code)), "{query}");
    }
    h.stop().await;
}

#[tokio::test]
async fn elixir_rules_and_per_transfer_status() {
    let b = bank().await;
    let token = b.login().await;
    let nrb = b.iban(DEMO_DIK)[2..].to_string();
    let other_nrb = b.iban(DEMO_DIK_2)[2..].to_string();
    let good = elixir_line(&nrb, 12_345, "Zapłata za FV/1/2026", "51", "ERP-1");
    let lines = [
        good.clone(),
        good.replacen("110,", "210,", 1),
        good.replacen("20261130", "20261330", 1),
        good.replacen(",12345,", ",-5,", 1),
        good.replacen(&format!("\"{nrb}\""), "\"11114020040000320212345678\"", 1),
        good.replacen(",10901014,", ",10501012,", 1),
        elixir_line(
            &nrb,
            10,
            "ten tytuł jest zdecydowanie za długi na jedną linię",
            "51",
            "ERP-7",
        ),
        elixir_line(&nrb, 10, "FV/1", "53", "ERP-8"),
        elixir_line(
            &nrb,
            12_300,
            "/VAT/23,00/IDC/5250001009|/INV/FV 9/2026/TXT/towar",
            "53",
            "ERP-9",
        ),
        good.clone(),
        "110,20261130,100".to_string(),
        elixir_line(&other_nrb, 10, "FV/1", "51", "ERP-12"),
        elixir_line(&nrb, 10, "FV/1", "51", "ERP 13"),
    ];
    let file = latin2(&(lines.join("\r\n") + "\r\n"));
    let (s, v) = b.post_batch(&token, b.batch_body(&file)).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(
        (v["accepted"].as_u64(), v["rejected"].as_u64()),
        (Some(2), Some(11)),
        "{v}"
    );
    let expected = [
        (2, Some(1), "BAD_TRANSACTION_TYPE"),
        (3, Some(2), "BAD_DATE"),
        (4, Some(3), "BAD_AMOUNT"),
        (5, Some(6), "BAD_NRB"),
        (6, Some(11), "SORT_CODE_MISMATCH"),
        (7, Some(12), "BAD_TEXT"),
        (8, Some(12), "BAD_SPLIT_PAYMENT"),
        (10, Some(16), "DUPLICATE_REFERENCE"),
        (11, None, "FIELD_COUNT"),
        (12, Some(6), "UNKNOWN_SENDER_ACCOUNT"),
        (13, Some(16), "BAD_REFERENCE"),
    ];
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), expected.len());
    for ((line, field, code), e) in expected.iter().zip(errors) {
        assert_eq!(e["line"].as_u64(), Some(*line as u64), "{e}");
        assert_eq!(e["field"].as_u64(), field.map(|f| f as u64), "{e}");
        assert_eq!(e["code"].as_str(), Some(*code), "{e}");
    }
    let id = v["batchId"].as_str().unwrap().to_string();
    let (s, view) = b.get(&format!("/batches/{id}"), &token, DEMO_DIK).await;
    assert_eq!(s, 200);
    assert_eq!(view["status"], "PENDING");
    assert_eq!(view["signedBy"], USER);
    let t = &view["transfers"];
    assert_eq!(t[0]["status"], "ACCEPTED");
    assert_eq!(t[0]["reference"], "ERP-1");
    assert_eq!(t[0]["amount"], "123.45");
    assert_eq!(
        t[0]["recipientName"],
        "Dostawca Wałbrzych Sp. z o.o.|ul. Krótka 2"
    );
    assert_eq!(t[8]["paymentCode"], "53");
    assert_eq!(t[1]["status"], "REJECTED");
    // The same file again: the same batch (a safe retry).
    let (s, again) = b.post_batch(&token, b.batch_body(&file)).await;
    assert_eq!((s, again["batchId"].as_str()), (200, Some(id.as_str())));
    let (s, list) = b.get("/batches", &token, DEMO_DIK).await;
    assert_eq!((s, list["batches"].as_array().unwrap().len()), (200, 1));
    // Another DIK does not see it.
    let t2 = b.login_with(&[DEMO_DIK_2], "2027-06-30").await;
    let (s, e) = b
        .get(
            &format!("/batches/{id}"),
            t2["token"].as_str().unwrap(),
            DEMO_DIK_2,
        )
        .await;
    assert_eq!((s, e["code"].as_str()), (404, Some("UNKNOWN_BATCH")));

    // allOrNothing, all bad, Windows-1250, signatures, envelope.
    let mut body = b.batch_body(&latin2(&format!("{good}\r\n{}", lines[1])));
    body["allOrNothing"] = json!(true);
    let (s, e) = b.post_batch(&token, body).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (422, Some("MALFORMED_LINES")),
        "{e}"
    );
    assert_eq!(e["errors"][0]["line"], 2);
    let (s, e) = b
        .post_batch(&token, b.batch_body(lines[1].as_bytes()))
        .await;
    assert_eq!((s, e["code"].as_str()), (422, Some("NO_VALID_LINES")));
    let cp1250 = encoding_rs::WINDOWS_1250
        .encode(&elixir_line(&nrb, 10, "Opłata śmieciowa", "51", "W1"))
        .0
        .into_owned();
    let (s, e) = b.post_batch(&token, b.batch_body(&cp1250)).await;
    assert_eq!(
        (s, e["errors"][0]["code"].as_str()),
        (422, Some("BAD_ENCODING")),
        "{e}"
    );
    let one = latin2(&elixir_line(&nrb, 10, "FV/2", "51", "S-1"));
    let mut body = b.batch_body(&one);
    body["signature"] = json!(B64.encode(b.user.sign(b"other bytes")));
    let (s, e) = b.post_batch(&token, body).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("BAD_SIGNATURE")));
    let mut body = b.batch_body(&one);
    body["signerCertificate"] = json!(B64.encode(b"not registered"));
    let (s, e) = b.post_batch(&token, body).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("UNKNOWN_SIGNER")));
    let mut body = b.batch_body(&one);
    body.as_object_mut().unwrap().remove("signature");
    let (s, e) = b.post_batch(&token, body).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("SIGNATURE_REQUIRED")));
    let mut body = b.batch_body(&one);
    body["dik"] = json!(DEMO_DIK_2);
    let (s, e) = b.post_batch(&token, body).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("DIK_MISMATCH")));
    let (s, e) = b.post_batch(&token, b.batch_body(b"\r\n")).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("EMPTY_FILE")));
    let (s, e) = b.post_batch(&token, json!({"fileName": "x"})).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("BAD_REQUEST")));
    b.h().stop().await;
}

#[tokio::test]
async fn executed_transfer_is_on_mt942_then_mt940_by_reference_and_tnr() {
    let b = bank().await;
    let h = b.h();
    let token = b.login().await;
    let nrb = b.iban(DEMO_DIK)[2..].to_string();
    let file = latin2(&format!(
        "{}\r\n{}\r\n",
        elixir_line(
            &nrb,
            50_000,
            "Zapłata za fakturę FV/42/2026",
            "51",
            "ERP-FV-2026-42"
        ),
        elixir_line(&nrb, 7_000, "Zaliczka", "51", "ERP-FV-2026-43"),
    ));
    let (s, v) = b.post_batch(&token, b.batch_body(&file)).await;
    assert_eq!(s, 201, "{v}");
    let id = v["batchId"].as_str().unwrap().to_string();
    h.reject_transfer(&id, 2, "RACHUNEK ODBIORCY ZAMKNIĘTY")
        .unwrap();
    let view = h.execute_transfer(&id, 1).unwrap();
    assert_eq!(view.status, h2h_mbank_sim::BatchStatus::Processed);
    assert!(h.execute_transfer(&id, 1).is_err());
    let (_, v) = b.get(&format!("/batches/{id}"), &token, DEMO_DIK).await;
    let t = &v["transfers"];
    assert_eq!(
        (t[0]["status"].as_str(), t[1]["status"].as_str()),
        (Some("EXECUTED"), Some("REJECTED"))
    );
    assert_eq!(t[1]["code"], "BANK_REJECTED");
    assert_eq!(t[1]["reason"], "RACHUNEK ODBIORCY ZAMKNIĘTY");
    let tnr = t[0]["tnr"].as_str().unwrap().to_string();
    assert_eq!(t[0]["bookingDate"], "2026-11-30");

    let st = parse(&b.mt942(&token).await);
    let line = st[0]
        .transactions
        .iter()
        .find(|l| l.tnr() == Some(tnr.as_str()))
        .unwrap();
    assert_eq!(line.customer_reference.as_deref(), Some("ERP-FV-2026-42"));
    assert_eq!(line.amount, h2h_mt940::Decimal::new(-50_000, 2));
    let d = line.details.as_ref().unwrap();
    assert_eq!(d.part("REF. KLIENTA"), Some("ERP-FV-2026-42"));
    assert_eq!(d.part("NA RACH."), Some(RECIPIENT));
    assert_eq!(
        d.part("DO"),
        Some("Dostawca Wałbrzych Sp. z o.o. ul. Krótka 2")
    );
    h.close_day();
    let st = parse(&b.mt940(&token, "2026-11-30", "2026-11-30").await);
    let line = st[0]
        .transactions
        .iter()
        .find(|l| l.tnr() == Some(tnr.as_str()))
        .unwrap();
    assert_eq!(line.customer_reference.as_deref(), Some("ERP-FV-2026-42"));
    assert_eq!(st[0].balance_difference(), Some(0.into()));
    h.stop().await;
}

#[tokio::test]
async fn faults() {
    let b = bank().await;
    let h = b.h();
    let token = b.login().await;
    // 5xx.
    h.faults().fail_next(2, 503).unwrap();
    for _ in 0..2 {
        let (s, e) = b.get("/accounts", &token, DEMO_DIK).await;
        assert_eq!((s, e["code"].as_str()), (503, Some("SIMULATED_FAILURE")));
    }
    assert_eq!(b.get("/accounts", &token, DEMO_DIK).await.0, 200);
    assert!(h.faults().fail_next(1, 200).is_err());
    // Timeouts: the bank answers later than the client waits.
    h.faults().delay(Duration::from_millis(1500));
    let r = b
        .http
        .get(b.url("/accounts"))
        .bearer_auth(&token)
        .header("X-DIK", DEMO_DIK)
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(r.unwrap_err().is_timeout());
    h.faults().reset();
    // A line served twice, same TNR, in MT942 and MT940.
    h.add_transaction(NewTransaction::credit(
        &b.iban(DEMO_DIK),
        "10.00".parse().unwrap(),
        "x",
        "y",
        RECIPIENT,
    ))
    .unwrap();
    h.faults().duplicate_lines(true);
    let st = parse(&b.mt942(&token).await);
    let t = tnrs(&st);
    assert_eq!(t[0], t[1]);
    let st = parse(&b.mt940(&token, "2026-11-29", "2026-11-29").await);
    let t = tnrs(&st);
    assert_eq!(t[0], t[1]);
    assert_ne!(st[0].balance_difference(), Some(0.into()));
    h.faults().duplicate_lines(false);
    // The bank revokes sessions.
    let other = b.login().await;
    assert_eq!(h.faults().revoke_sessions(None), 2);
    for t in [&token, &other] {
        let (s, e) = b.get("/accounts", t, DEMO_DIK).await;
        assert_eq!((s, e["code"].as_str()), (401, Some("SESSION_REVOKED")));
    }
    let fresh = b.login().await;
    h.revoke_session(&fresh).unwrap();
    let (s, e) = b
        .json(Method::POST, "/session/keepalive", Some(&fresh), None, None)
        .await;
    assert_eq!((s, e["code"].as_str()), (401, Some("SESSION_REVOKED")));
    assert_eq!(h.sessions().len(), 3);
    h.stop().await;
}

#[tokio::test]
async fn control_api_mirrors_the_handle() {
    let b = bank().await;
    let h = b.h();
    let (s, v) = b.ctl(Method::POST, "/__control/users", Some(json!({"userId": "U2", "certificate": B64.encode(&b.user.cert_der), "diks": [DEMO_DIK], "mobile": true}))).await;
    assert_eq!((s, v["mobile"].as_bool()), (200, Some(true)), "{v}");
    let (_, v) = b.ctl(Method::GET, "/__control/users", None).await;
    assert_eq!(v.as_array().unwrap().len(), 2);
    let (_, v) = b.ctl(Method::GET, "/__control/accounts", None).await;
    assert_eq!(v.as_array().unwrap().len(), 3);
    let (s, v) = b
        .ctl(
            Method::POST,
            "/__control/faults/fail_next",
            Some(json!({"count": 1, "status": 502})),
        )
        .await;
    assert_eq!((s, v["failNext"].as_u64()), (200, Some(1)));
    let (s, _) = b.json(Method::GET, "/accounts", None, None, None).await;
    assert_eq!(s, 502, "control calls are not failed, API calls are");
    let (_, v) = b
        .ctl(
            Method::POST,
            "/__control/faults/delay",
            Some(json!({"ms": 5})),
        )
        .await;
    assert_eq!(v["delayMs"], 5);
    let (_, v) = b
        .ctl(
            Method::POST,
            "/__control/faults/duplicate_lines",
            Some(json!({"on": true})),
        )
        .await;
    assert_eq!(v["duplicateLines"], true);
    let (_, v) = b.ctl(Method::POST, "/__control/reset", None).await;
    assert_eq!(
        v,
        serde_json::to_value(h2h_mbank_sim::FaultSettings::default()).unwrap()
    );
    let (_, v) = b
        .ctl(
            Method::POST,
            "/__control/clock/advance",
            Some(json!({"seconds": 86_400})),
        )
        .await;
    assert_eq!(v["today"], "2026-12-01");
    let (_, v) = b
        .ctl(Method::POST, "/__control/clock/close_day", None)
        .await;
    assert_eq!(v["today"], "2026-12-02");
    let iban = b.iban(DEMO_DIK);
    let (s, v) = b.ctl(Method::POST, "/__control/transactions", Some(json!({"account": iban, "direction": "CREDIT", "amount": "12.30", "title": "T", "counterpartyName": "N", "counterpartyAccount": RECIPIENT, "customerReference": "R-1"}))).await;
    assert_eq!(
        (s, v["bookingDate"].as_str()),
        (200, Some("2026-12-02")),
        "{v}"
    );
    let (_, list) = b
        .ctl(
            Method::GET,
            &format!("/__control/transactions?account={iban}"),
            None,
        )
        .await;
    assert_eq!(list.as_array().unwrap().last().unwrap()["tnr"], v["tnr"]);

    let token = b.login().await;
    let (_, v) = b.ctl(Method::GET, "/__control/sessions", None).await;
    assert_eq!(v[0]["state"], "ACTIVE");
    let (s, v) = b
        .ctl(
            Method::POST,
            "/__control/sessions/revoke",
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!((s, v["state"].as_str()), (200, Some("REVOKED")));
    let (_, v) = b
        .ctl(
            Method::POST,
            "/__control/faults/revoke_sessions",
            Some(json!({"userId": USER})),
        )
        .await;
    assert_eq!(v["revoked"], 0);
    let token = b.login().await;
    let (_, v) = b
        .post(
            "/session/mobile",
            json!({"userId": "U2", "diks": [DEMO_DIK]}),
        )
        .await;
    let (_, m) = b.ctl(Method::GET, "/__control/mobile", None).await;
    assert_eq!(m[0]["loginId"], v["loginId"]);
    assert_eq!(m[0]["status"], "PENDING");
    let (s, _) = b.ctl(Method::POST, "/__control/mobile/x/dance", None).await;
    assert_eq!(s, 404);

    let nrb = iban[2..].to_string();
    let file = latin2(&format!(
        "{}\r\n{}\r\n",
        elixir_line(&nrb, 100, "A", "51", "C-1"),
        elixir_line(&nrb, 200, "B", "51", "C-2")
    ));
    let (_, v) = b.post_batch(&token, b.batch_body(&file)).await;
    let id = v["batchId"].as_str().unwrap();
    let (s, v) = b
        .ctl(
            Method::POST,
            &format!("/__control/batches/{id}/transfers/2/reject"),
            Some(json!({"reason": "BRAK ŚRODKÓW"})),
        )
        .await;
    assert_eq!(
        (s, v["transfers"][1]["reason"].as_str()),
        (200, Some("BRAK ŚRODKÓW"))
    );
    let (s, v) = b
        .ctl(
            Method::POST,
            &format!("/__control/batches/{id}/execute"),
            None,
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("PROCESSED")));
    assert_eq!(
        h.batch(id).unwrap().transfers[0].status,
        TransferStatus::Executed
    );
    let (s, _) = b
        .ctl(
            Method::POST,
            &format!("/__control/batches/{id}/transfers/1/execute"),
            None,
        )
        .await;
    assert_eq!(s, 409);
    let (s, _) = b.ctl(Method::GET, "/__control/batches/EX404", None).await;
    assert_eq!(s, 404);
    let (_, v) = b.ctl(Method::GET, "/__control/batches", None).await;
    assert_eq!(v.as_array().unwrap().len(), 1);

    let (_, log) = b.ctl(Method::GET, "/__control/requests", None).await;
    let log = log.as_array().unwrap();
    assert!(
        log.iter()
            .any(|r| r["path"] == format!("{API_BASE}/batches")
                && r["dik"] == DEMO_DIK
                && r["status"] == 201)
    );
    assert!(
        log.iter()
            .all(|r| !r["path"].as_str().unwrap().starts_with("/__control"))
    );
    let (s, _) = b.ctl(Method::DELETE, "/__control/requests", None).await;
    assert_eq!(s, 204);
    assert!(h.requests().is_empty());
    h.stop().await;
}

/// An independent tool agrees about detached signatures over the file
/// bytes: openssl's signature is accepted, and openssl verifies ours.
#[tokio::test]
async fn openssl_interoperates() {
    if !std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("NOTE: openssl not found; skipping the openssl interoperability test");
        return;
    }
    let b = bank().await;
    let token = b.login().await;
    let dir = tempfile::tempdir().unwrap();
    let (file, key, public, sig) = (
        dir.path().join("przelewy.pli"),
        dir.path().join("key.pem"),
        dir.path().join("pub.pem"),
        dir.path().join("sig.bin"),
    );
    let bytes = latin2(&elixir_line(
        &b.iban(DEMO_DIK)[2..],
        1234,
        "Zapłata OSSL",
        "51",
        "OSSL-1",
    ));
    std::fs::write(&file, &bytes).unwrap();
    std::fs::write(&key, USER_KEY_PEM).unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    run(&[
        "pkey".as_ref(),
        "-in".as_ref(),
        key.as_os_str(),
        "-pubout".as_ref(),
        "-out".as_ref(),
        public.as_os_str(),
    ]);
    run(&[
        "dgst".as_ref(),
        "-sha256".as_ref(),
        "-sign".as_ref(),
        key.as_os_str(),
        "-out".as_ref(),
        sig.as_os_str(),
        file.as_os_str(),
    ]);
    let mut body = b.batch_body(&bytes);
    body["signature"] = json!(B64.encode(std::fs::read(&sig).unwrap()));
    let (s, v) = b.post_batch(&token, body).await;
    assert_eq!(s, 201, "openssl's signature accepted: {v}");
    std::fs::write(&sig, b.user.sign(&bytes)).unwrap();
    let out = run(&[
        "dgst".as_ref(),
        "-sha256".as_ref(),
        "-verify".as_ref(),
        public.as_os_str(),
        "-signature".as_ref(),
        sig.as_os_str(),
        file.as_os_str(),
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Verified OK"));
    b.h().stop().await;
}
