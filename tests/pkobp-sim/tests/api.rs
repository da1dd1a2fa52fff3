//! The simulator over real HTTPS with mutual TLS, real keys and real
//! signatures, as a connector would use it.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::NaiveDate;
use h2h_pkobp_sim::{
    Amount, BatchStatus, DEMO_CONTEXT_ID, NewTransaction, Running, SimHandle, Simulator,
    TransferStatus,
};
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::{Value, json};

/// A test-only RSA 2048 key (made with `openssl genpkey`; never used
/// outside these tests). Fixed so the tests need not generate RSA keys,
/// which takes seconds in an unoptimised build.
const USER_KEY_PEM: &str = include_str!("bank-user-rsa2048.pem");
const USER: &str = "JKOWALSKI01";
const OTHER_CTX: &str = "4000999999";
const CREDITOR: &str = "PL61109010140000071219812874";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

/// A bank user with a smart-card key: an RSA key and an rcgen certificate.
struct RsaUser {
    cert_der: Vec<u8>,
    key: rsa::pkcs1v15::SigningKey<sha2::Sha256>,
}

impl RsaUser {
    fn new() -> RsaUser {
        let kp =
            rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(USER_KEY_PEM, &rcgen::PKCS_RSA_SHA256)
                .unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Jan Kowalski (test smart card)");
        let cert = params.self_signed(&kp).unwrap();
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(USER_KEY_PEM).unwrap();
        RsaUser {
            cert_der: cert.der().to_vec(),
            key: rsa::pkcs1v15::SigningKey::new(key),
        }
    }

    fn sign(&self, data: &[u8]) -> Vec<u8> {
        self.key.sign(data).to_vec()
    }
}

struct Bank {
    running: Running,
    http: reqwest::Client,
    user: RsaUser,
}

impl Bank {
    fn h(&self) -> &SimHandle {
        &self.running.handle
    }
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }
    fn iban(&self) -> String {
        self.h().accounts()[0].iban.clone()
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        ctx: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut rb = self
            .http
            .request(method, self.url(path))
            .bearer_auth(token)
            .header("X-Context-Id", ctx);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        rb.send().await.unwrap()
    }

    async fn get_json(&self, path: &str, token: &str, ctx: &str) -> (u16, Value) {
        let r = self
            .call(reqwest::Method::GET, path, token, ctx, None)
            .await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn challenge(&self, ctx: &str) -> Value {
        let (status, v) = self
            .post(
                "/integra/v1/session/challenge",
                json!({"userId": USER, "contextId": ctx, "certificate": B64.encode(&self.user.cert_der)}),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        v
    }

    async fn login(&self) -> String {
        let c = self.challenge(DEMO_CONTEXT_ID).await;
        let bytes = B64.decode(c["challenge"].as_str().unwrap()).unwrap();
        let (status, v) = self
            .post(
                "/integra/v1/session/login",
                json!({"sessionId": c["sessionId"], "signature": B64.encode(self.user.sign(&bytes))}),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        v["token"].as_str().unwrap().to_string()
    }

    async fn mt940(&self, token: &str, from: &str, to: &str) -> reqwest::Response {
        let path = format!(
            "/integra/v1/statements/mt940?account={}&from={from}&to={to}",
            self.iban()
        );
        self.call(reqwest::Method::GET, &path, token, DEMO_CONTEXT_ID, None)
            .await
    }

    async fn post_batch(&self, token: &str, body: Value) -> (u16, Value) {
        let r = self
            .call(
                reqwest::Method::POST,
                "/integra/v1/batches",
                token,
                DEMO_CONTEXT_ID,
                Some(body),
            )
            .await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    fn signed_batch(&self, xml: &str) -> Value {
        json!({
            "contextId": DEMO_CONTEXT_ID,
            "editable": false,
            "fileName": "przelewy.xml",
            "file": B64.encode(xml),
            "signature": B64.encode(self.user.sign(xml.as_bytes())),
            "signerCertificate": B64.encode(&self.user.cert_der),
        })
    }
}

fn http(h: &SimHandle, identity: Option<&h2h_pkobp_sim::ClientIdentity>) -> reqwest::Client {
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

async fn bank() -> Bank {
    let sim = Simulator::builder()
        .today(today())
        .days(3)
        .seed(7)
        .build()
        .unwrap();
    let running = sim.start("127.0.0.1:0").await.unwrap();
    let user = RsaUser::new();
    running
        .handle
        .register_user(USER, &user.cert_der, &[DEMO_CONTEXT_ID])
        .unwrap();
    let http = http(&running.handle, Some(&running.handle.client_identity()));
    Bank {
        running,
        http,
        user,
    }
}

/// A pain.001.001.03 file; `nb`/`sum` override the header's counts.
fn pain001(
    msg_id: &str,
    debtor: &str,
    txs: &[(&str, &str, &str)],
    nb: Option<&str>,
    sum: Option<&str>,
) -> String {
    let total: i64 = txs
        .iter()
        .filter_map(|(_, a, _)| Amount::parse_two_decimals(a))
        .map(|a| a.0)
        .sum();
    let nb = nb.map_or(txs.len().to_string(), str::to_string);
    let sum = sum.map_or(Amount(total).to_string(), str::to_string);
    let body: String = txs
        .iter()
        .map(|(e2e, amount, iban)| {
            let e2e = if e2e.is_empty() {
                String::new()
            } else {
                format!("<EndToEndId>{e2e}</EndToEndId>")
            };
            format!(
                "<CdtTrfTxInf><PmtId>{e2e}</PmtId><Amt><InstdAmt Ccy=\"PLN\">{amount}</InstdAmt></Amt>\
                 <CdtrAgt><FinInstnId><ClrSysMmbId><MmbId>10901014</MmbId></ClrSysMmbId></FinInstnId></CdtrAgt>\
                 <Cdtr><Nm>Dostawca Wałbrzych Sp. z o.o.</Nm></Cdtr>\
                 <CdtrAcct><Id><IBAN>{iban}</IBAN></Id></CdtrAcct>\
                 <RmtInf><Ustrd>Zapłata za fakturę FV/1/2026</Ustrd></RmtInf></CdtTrfTxInf>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\
         <CstmrCdtTrfInitn><GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>2026-11-30T10:00:00</CreDtTm>\
         <NbOfTxs>{nb}</NbOfTxs><CtrlSum>{sum}</CtrlSum><InitgPty><Nm>ERP</Nm></InitgPty></GrpHdr>\
         <PmtInf><PmtInfId>{msg_id}-1</PmtInfId><PmtMtd>TRF</PmtMtd><ReqdExctnDt>2026-11-30</ReqdExctnDt>\
         <Dbtr><Nm>Przedsiębiorstwo Testowe</Nm></Dbtr><DbtrAcct><Id><IBAN>{debtor}</IBAN></Id></DbtrAcct>\
         <DbtrAgt><FinInstnId><BIC>BPKOPLPW</BIC></FinInstnId></DbtrAgt>{body}</PmtInf></CstmrCdtTrfInitn></Document>"
    )
}

#[tokio::test]
async fn mtls_is_required() {
    let b = bank().await;
    let h = b.h();
    // No client certificate: the handshake fails, no request is seen.
    let no_cert = http(h, None);
    assert!(
        no_cert
            .get(b.url("/__control/faults"))
            .send()
            .await
            .is_err()
    );
    // A certificate from another CA: refused as well.
    let kp = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "intruder");
    let cert = params.self_signed(&kp).unwrap();
    let foreign = h2h_pkobp_sim::ClientIdentity {
        cert_pem: cert.pem(),
        key_pem: kp.serialize_pem(),
        cert_der: cert.der().to_vec(),
        subject: "CN=intruder".into(),
    };
    assert!(
        http(h, Some(&foreign))
            .get(b.url("/__control/faults"))
            .send()
            .await
            .is_err()
    );
    assert!(h.handshake_failures() >= 2);
    assert!(h.requests().is_empty());

    // With the issued identity: served, and the subject is recorded.
    let other = h.issue_client_identity("erp-second-node").unwrap();
    let r = http(h, Some(&other))
        .post(b.url("/integra/v1/session/refresh"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let log = h.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(
        log[0].client_subject.as_deref(),
        Some(other.subject.as_str())
    );
    assert!(
        other.subject.contains("CN=erp-second-node"),
        "{}",
        other.subject
    );
    b.h().stop().await;
}

#[tokio::test]
async fn login_refresh_expiry_logout() {
    let b = bank().await;
    let c = b.challenge(DEMO_CONTEXT_ID).await;
    assert_eq!(c["mechanism"], "rsa-pkcs1-sha256");
    assert_eq!(c["expiresIn"], 120);
    let bytes = B64.decode(c["challenge"].as_str().unwrap()).unwrap();
    assert!(bytes.starts_with(b"PKOBP-INTEGRA-LOGIN:"));
    assert!(bytes.len() >= 32 + 20);

    let token = b.login().await;
    let (s, v) = b
        .get_json("/integra/v1/accounts", &token, DEMO_CONTEXT_ID)
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["accounts"].as_array().unwrap().len(), 2);
    let rec = b.h().requests().into_iter().last().unwrap();
    assert_eq!(rec.context_id.as_deref(), Some(DEMO_CONTEXT_ID));
    assert!(rec.client_subject.unwrap().contains("CN=erp-transport"));

    // Refresh extends to now + 600 s.
    b.h().advance_clock(Duration::from_secs(500));
    let r = b
        .call(
            reqwest::Method::POST,
            "/integra/v1/session/refresh",
            &token,
            DEMO_CONTEXT_ID,
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["expiresIn"], 600);
    b.h().advance_clock(Duration::from_secs(500));
    let (s, _) = b
        .get_json("/integra/v1/accounts", &token, DEMO_CONTEXT_ID)
        .await;
    assert_eq!(s, 200, "refreshed 500 s ago: still alive");

    // 601 s without a refresh: expired, with a code to recognise.
    b.h().advance_clock(Duration::from_secs(601));
    let (s, v) = b
        .get_json("/integra/v1/accounts", &token, DEMO_CONTEXT_ID)
        .await;
    assert_eq!((s, v["code"].as_str()), (401, Some("SESSION_EXPIRED")));
    let r = b
        .call(
            reqwest::Method::POST,
            "/integra/v1/session/refresh",
            &token,
            DEMO_CONTEXT_ID,
            None,
        )
        .await;
    assert_eq!(r.status(), 401);

    // Logout ends a live session.
    let token = b.login().await;
    let r = b
        .call(
            reqwest::Method::POST,
            "/integra/v1/session/logout",
            &token,
            DEMO_CONTEXT_ID,
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let (s, v) = b
        .get_json("/integra/v1/accounts", &token, DEMO_CONTEXT_ID)
        .await;
    assert_eq!((s, v["code"].as_str()), (401, Some("INVALID_TOKEN")));
    b.h().stop().await;
}

#[tokio::test]
async fn login_refusals() {
    let b = bank().await;
    let cert = B64.encode(&b.user.cert_der);
    let refuse = |user: &str, ctx: &str, cert: &str| json!({"userId": user, "contextId": ctx, "certificate": cert});
    let (s, v) = b
        .post(
            "/integra/v1/session/challenge",
            refuse("NOBODY", DEMO_CONTEXT_ID, &cert),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (403, Some("USER_UNKNOWN")));
    let (s, v) = b
        .post(
            "/integra/v1/session/challenge",
            refuse(USER, OTHER_CTX, &cert),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (403, Some("CONTEXT_NOT_ALLOWED")));
    let other_cert = B64.encode(b.h().client_identity().cert_der);
    let (s, v) = b
        .post(
            "/integra/v1/session/challenge",
            refuse(USER, DEMO_CONTEXT_ID, &other_cert),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (403, Some("CERTIFICATE_MISMATCH")));

    // A wrong signature: 401, and the challenge is used up.
    let c = b.challenge(DEMO_CONTEXT_ID).await;
    let bad = B64.encode(b.user.sign(b"something else"));
    let (s, v) = b
        .post(
            "/integra/v1/session/login",
            json!({"sessionId": c["sessionId"], "signature": bad}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (401, Some("BAD_SIGNATURE")));
    let bytes = B64.decode(c["challenge"].as_str().unwrap()).unwrap();
    let good = B64.encode(b.user.sign(&bytes));
    let (s, v) = b
        .post(
            "/integra/v1/session/login",
            json!({"sessionId": c["sessionId"], "signature": good}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (401, Some("UNKNOWN_CHALLENGE")));

    // A challenge expires after 120 s.
    let c = b.challenge(DEMO_CONTEXT_ID).await;
    b.h().advance_clock(Duration::from_secs(121));
    let bytes = B64.decode(c["challenge"].as_str().unwrap()).unwrap();
    let good = B64.encode(b.user.sign(&bytes));
    let (s, v) = b
        .post(
            "/integra/v1/session/login",
            json!({"sessionId": c["sessionId"], "signature": good}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (401, Some("CHALLENGE_EXPIRED")));

    // A ContextId the session does not have: 403.
    let token = b.login().await;
    let (s, v) = b.get_json("/integra/v1/accounts", &token, OTHER_CTX).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("CONTEXT_NOT_ALLOWED")));
    b.h().stop().await;
}

#[tokio::test]
async fn ec_p256_login() {
    use p256::ecdsa::signature::Signer as _;
    let b = bank().await;
    let kp = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Anna Nowak (EC card)");
    let cert = params.self_signed(&kp).unwrap();
    b.h()
        .register_user("ANOWAK", cert.der(), &[DEMO_CONTEXT_ID])
        .unwrap();
    let (s, c) = b
        .post(
            "/integra/v1/session/challenge",
            json!({"userId": "ANOWAK", "contextId": DEMO_CONTEXT_ID, "certificate": B64.encode(cert.der())}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(c["mechanism"], "ecdsa-p256-sha256");
    let key = {
        use p256::pkcs8::DecodePrivateKey as _;
        p256::ecdsa::SigningKey::from_pkcs8_der(&kp.serialize_der()).unwrap()
    };
    let bytes = B64.decode(c["challenge"].as_str().unwrap()).unwrap();
    let sig: p256::ecdsa::Signature = key.sign(&bytes);
    let (s, v) = b
        .post(
            "/integra/v1/session/login",
            json!({"sessionId": c["sessionId"], "signature": B64.encode(sig.to_bytes())}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let token = v["token"].as_str().unwrap();
    // A batch signed by the EC card: r||s over the file bytes.
    let xml = pain001(
        "ERP-EC-1",
        &b.iban(),
        &[("EC-1", "5.00", CREDITOR)],
        None,
        None,
    );
    let sig: p256::ecdsa::Signature = key.sign(xml.as_bytes());
    let body = json!({"contextId": DEMO_CONTEXT_ID, "editable": false, "fileName": "ec.xml",
        "file": B64.encode(&xml), "signature": B64.encode(sig.to_bytes()),
        "signerCertificate": B64.encode(cert.der())});
    let (s, v) = b.post_batch(token, body).await;
    assert_eq!((s, v["status"].as_str()), (201, Some("ACCEPTED")), "{v}");
    assert_eq!(b.h().batches()[0].signed_by.as_deref(), Some("ANOWAK"));
    b.h().stop().await;
}

/// Opening + lines = closing for every statement, each day opening where
/// the previous closed.
fn check_balances(statements: &[h2h_mt940::Statement]) {
    let mut previous: Option<h2h_mt940::Decimal> = None;
    for st in statements {
        let open = st.opening_balance.as_ref().unwrap();
        let close = st.closing_balance.as_ref().unwrap();
        // Signed by the mark whether or not the parser signs amounts.
        let signed = |mark: h2h_mt940::Mark, a: h2h_mt940::Decimal| mark.apply(a.abs());
        let opening = signed(open.mark, open.amount);
        let sum: h2h_mt940::Decimal = st
            .transactions
            .iter()
            .map(|t| signed(t.mark, t.amount))
            .sum();
        assert_eq!(
            opening + sum,
            signed(close.mark, close.amount),
            "{}: {:?}",
            st.reference,
            st.transactions
                .iter()
                .map(|t| (t.mark, t.amount))
                .collect::<Vec<_>>()
        );
        if let Some(p) = previous {
            assert_eq!(p, opening);
        }
        previous = Some(signed(close.mark, close.amount));
    }
}

#[tokio::test]
async fn mt940_in_iso_8859_2_with_balances() {
    let b = bank().await;
    let iban = b.iban();
    b.h()
        .add_transaction(
            NewTransaction::credit(
                &iban,
                "1234.56".parse().unwrap(),
                "Zapłata za fakturę FV/7/2026 — łączna",
                "Łukasz Żółć",
                CREDITOR,
            )
            .on(today()),
        )
        .unwrap();
    let token = b.login().await;
    let r = b.mt940(&token, "2026-11-28", "2026-11-30").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "text/plain; charset=ISO-8859-2"
    );
    let bytes = r.bytes().await.unwrap().to_vec();
    assert!(bytes.contains(&0xB3), "ł is 0xB3 in ISO-8859-2");
    assert!(std::str::from_utf8(&bytes).is_err(), "not UTF-8");
    let (text, _, errors) = encoding_rs::ISO_8859_2.decode(&bytes);
    assert!(!errors);
    for line in text.split_terminator("\r\n") {
        assert!(line.chars().count() <= 65, "{line}");
        assert!(!line.contains('\n'));
    }
    let flat = text.replace("\r\n", "");
    assert!(
        flat.contains("~32Łukasz Żółć~38PL61109010140000071219812874"),
        "{text}"
    );
    // The em dash has no ISO-8859-2 code: served as `?`.
    assert!(
        flat.contains("~20Zapłata za fakturę FV/7/202~216 ? łączna"),
        "{text}"
    );
    assert!(text.contains(":61:2611301130C1234,56N020NONREF//PKO"));
    let statements = h2h_mt940::parse(&bytes).unwrap();
    assert_eq!(statements.len(), 3, "one statement per day");
    assert!(
        statements
            .iter()
            .all(|s| s.account == format!("/{iban}") || s.account_id().contains(&iban[2..]))
    );
    check_balances(&statements);
    let last = statements.last().unwrap();
    let ours = last.transactions.last().unwrap();
    assert_eq!(
        ours.details
            .as_ref()
            .unwrap()
            .counterparty_name()
            .as_deref(),
        Some("Łukasz Żółć")
    );

    // NRB works as the account too; bad ranges are refused.
    let path = format!(
        "/integra/v1/statements/mt940?account={}&from=2026-11-30&to=2026-11-30",
        &iban[2..]
    );
    let r = b
        .call(reqwest::Method::GET, &path, &token, DEMO_CONTEXT_ID, None)
        .await;
    assert_eq!(r.status(), 200);
    let r = b.mt940(&token, "2026-11-30", "2026-11-01").await;
    assert_eq!(r.status(), 400);
    b.h().stop().await;
}

#[tokio::test]
async fn pain001_rules_have_their_codes() {
    let b = bank().await;
    let token = b.login().await;
    let debtor = b.iban();
    let ok = [("E2E-1", "100.00", CREDITOR), ("E2E-2", "20.50", CREDITOR)];
    let cases: Vec<(String, &str)> = vec![
        (
            pain001("M-NB", &debtor, &ok, Some("3"), None),
            "NB_OF_TXS_MISMATCH",
        ),
        (
            pain001("M-SUM", &debtor, &ok, None, Some("120.51")),
            "CTRL_SUM_MISMATCH",
        ),
        (
            pain001(
                "M-IBAN",
                &debtor,
                &[("E2E-1", "1.00", "PL61109010140000071219812875")],
                None,
                None,
            ),
            "BAD_IBAN",
        ),
        (
            pain001("M-DIBAN", "PL00102010260000042270201111", &ok, None, None),
            "BAD_IBAN",
        ),
        (
            pain001(
                "M-AMT",
                &debtor,
                &[("E2E-1", "10.5", CREDITOR)],
                None,
                Some("10.50"),
            ),
            "BAD_AMOUNT",
        ),
        (
            pain001(
                "M-ZERO",
                &debtor,
                &[("E2E-1", "0.00", CREDITOR)],
                None,
                None,
            ),
            "BAD_AMOUNT",
        ),
        (
            pain001("M-EUR", &debtor, &ok, None, None).replace("Ccy=\"PLN\"", "Ccy=\"EUR\""),
            "BAD_AMOUNT",
        ),
        (
            pain001("M-E2E", &debtor, &[("", "1.00", CREDITOR)], None, None),
            "MISSING_END_TO_END_ID",
        ),
        (
            pain001("M-NS", &debtor, &ok, None, None).replace("pain.001.001.03", "pain.001.001.09"),
            "BAD_NAMESPACE",
        ),
        (
            pain001("M-XML", &debtor, &ok, None, None).replace("</GrpHdr>", ""),
            "BAD_XML",
        ),
        (
            pain001("M-DEB", "PL61109010140000071219812874", &ok, None, None),
            "UNKNOWN_DEBTOR_ACCOUNT",
        ),
    ];
    for (xml, code) in cases {
        let (s, v) = b.post_batch(&token, b.signed_batch(&xml)).await;
        assert_eq!((s, v["code"].as_str()), (422, Some(code)), "{v}");
    }
    // Signature rules.
    let xml = pain001("M-SIG", &debtor, &ok, None, None);
    let mut body = b.signed_batch(&xml);
    body["signature"] = json!(B64.encode(b.user.sign(b"other bytes")));
    let (s, v) = b.post_batch(&token, body.clone()).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("BAD_SIGNATURE")));
    body["signature"] = Value::Null;
    let (s, v) = b.post_batch(&token, body.clone()).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("SIGNATURE_REQUIRED")));
    let mut body = b.signed_batch(&xml);
    body["signerCertificate"] = json!(B64.encode(b.h().client_identity().cert_der));
    let (s, v) = b.post_batch(&token, body).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("UNKNOWN_SIGNER")));
    let mut body = b.signed_batch(&xml);
    body["editable"] = json!(true);
    let (s, v) = b.post_batch(&token, body).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("EDITABLE_NOT_ALLOWED")));
    assert!(b.h().batches().is_empty());
    b.h().stop().await;
}

#[tokio::test]
async fn signed_batch_is_executed_and_on_the_statement() {
    let b = bank().await;
    let token = b.login().await;
    let debtor = b.iban();
    let xml = pain001(
        "ERP-2026-0001",
        &debtor,
        &[
            ("ERP-FV-0042", "150.00", CREDITOR),
            ("ERP-FV-0043", "99.99", CREDITOR),
        ],
        None,
        None,
    );
    let (s, v) = b.post_batch(&token, b.signed_batch(&xml)).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["status"], "ACCEPTED");
    let id = v["batchId"].as_str().unwrap().to_string();
    // The same file again is the same batch.
    let (s, again) = b.post_batch(&token, b.signed_batch(&xml)).await;
    assert_eq!((s, again["batchId"].as_str()), (200, Some(id.as_str())));
    assert_eq!(b.h().batches().len(), 1);

    b.h()
        .reject_transaction(&id, "ERP-FV-0043", "RACHUNEK ZAMKNIĘTY")
        .unwrap();
    let view = b.h().execute_batch(&id).unwrap();
    assert_eq!(view.status, BatchStatus::Executed);
    let (s, v) = b
        .get_json(
            &format!("/integra/v1/batches/{id}"),
            &token,
            DEMO_CONTEXT_ID,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["status"], "EXECUTED");
    assert_eq!(v["signedBy"], USER);
    assert_eq!(v["transactions"][0]["endToEndId"], "ERP-FV-0042");
    assert_eq!(v["transactions"][0]["status"], "EXECUTED");
    assert_eq!(v["transactions"][1]["status"], "REJECTED");
    assert_eq!(v["transactions"][1]["reason"], "RACHUNEK ZAMKNIĘTY");
    assert!(b.h().execute_batch(&id).is_err(), "executed once only");

    let r = b.mt940(&token, "2026-11-30", "2026-11-30").await;
    let bytes = r.bytes().await.unwrap();
    let statements = h2h_mt940::parse(&bytes).unwrap();
    check_balances(&statements);
    let line = statements[0]
        .transactions
        .iter()
        .find(|t| t.customer_reference.as_deref() == Some("ERP-FV-0042"))
        .expect("the executed transfer is on the statement");
    assert_eq!(line.amount.abs().to_string(), "150.00");
    assert!(line.mark.is_outflow());
    assert!(
        !statements[0]
            .transactions
            .iter()
            .any(|t| t.customer_reference.as_deref() == Some("ERP-FV-0043"))
    );
    b.h().stop().await;
}

#[tokio::test]
async fn editable_batch_only_where_allowed() {
    let b = bank().await;
    let token = b.login().await;
    let xml = pain001(
        "ERP-ED-1",
        &b.iban(),
        &[("ED-1", "10.00", CREDITOR)],
        None,
        None,
    );
    let body = json!({"contextId": DEMO_CONTEXT_ID, "editable": true, "fileName": "p.xml", "file": B64.encode(&xml), "signature": null, "signerCertificate": null});
    let (s, v) = b.post_batch(&token, body.clone()).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("EDITABLE_NOT_ALLOWED")));
    b.h().set_editable_allowed(DEMO_CONTEXT_ID, true);
    let (s, v) = b.post_batch(&token, body).await;
    assert_eq!(
        (s, v["status"].as_str()),
        (201, Some("WAITING_FOR_SIGNATURE"))
    );
    let id = v["batchId"].as_str().unwrap();
    assert!(b.h().execute_batch(id).is_err(), "not signed yet");
    let view = b.h().sign_batch(id).unwrap();
    assert_eq!(view.transactions[0].status, TransferStatus::Accepted);
    assert_eq!(
        b.h().execute_batch(id).unwrap().status,
        BatchStatus::Executed
    );
    b.h().stop().await;
}

#[tokio::test]
async fn faults() {
    let b = bank().await;
    let token = b.login().await;
    // Duplicated line: the same bank reference twice, balances as booked.
    b.h().faults().duplicate_lines(true);
    let bytes = b
        .mt940(&token, "2026-11-30", "2026-11-30")
        .await
        .bytes()
        .await
        .unwrap();
    let st = &h2h_mt940::parse(&bytes).unwrap()[0];
    assert!(st.transactions.len() >= 2);
    assert_eq!(
        st.transactions[0].bank_reference,
        st.transactions[1].bank_reference
    );
    b.h().faults().duplicate_lines(false);

    // Truncated file: half of what the same request serves otherwise.
    let whole = b
        .mt940(&token, "2026-11-28", "2026-11-30")
        .await
        .bytes()
        .await
        .unwrap();
    b.h().faults().truncate_mt940(true);
    let cut = b
        .mt940(&token, "2026-11-28", "2026-11-30")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(cut.len(), whole.len() / 2);
    assert!(whole.starts_with(&cut) && !cut.ends_with(b"-\r\n"));
    b.h().faults().truncate_mt940(false);

    // 5xx for the next two requests, then normal again.
    b.h().faults().fail_next(2, 503).unwrap();
    for _ in 0..2 {
        let (s, v) = b
            .get_json("/integra/v1/accounts", &token, DEMO_CONTEXT_ID)
            .await;
        assert_eq!((s, v["code"].as_str()), (503, Some("SIMULATED_FAILURE")));
    }
    let (s, _) = b
        .get_json("/integra/v1/accounts", &token, DEMO_CONTEXT_ID)
        .await;
    assert_eq!(s, 200);

    // A delay longer than the client waits: a timeout.
    b.h().faults().delay(Duration::from_millis(300));
    let r = b
        .http
        .get(b.url("/integra/v1/accounts"))
        .bearer_auth(&token)
        .header("X-Context-Id", DEMO_CONTEXT_ID)
        .timeout(Duration::from_millis(50))
        .send()
        .await;
    assert!(r.unwrap_err().is_timeout());
    b.h().faults().reset();

    // Dropped sessions: the token is invalid at once.
    assert_eq!(b.h().faults().drop_sessions(), 1);
    let (s, v) = b
        .get_json("/integra/v1/accounts", &token, DEMO_CONTEXT_ID)
        .await;
    assert_eq!((s, v["code"].as_str()), (401, Some("INVALID_TOKEN")));
    b.h().stop().await;
}

#[tokio::test]
async fn control_api_mirrors_the_handle() {
    let b = bank().await;
    let token = b.login().await;
    let (s, v) = b
        .post("/__control/clock/advance", json!({"seconds": 601}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = b
        .get_json("/integra/v1/accounts", &token, DEMO_CONTEXT_ID)
        .await;
    assert_eq!((s, v["code"].as_str()), (401, Some("SESSION_EXPIRED")));
    let (s, v) = b
        .post(
            "/__control/faults/fail_next",
            json!({"count": 1, "status": 502}),
        )
        .await;
    assert_eq!((s, v["failNext"].as_u64()), (200, Some(1)));
    let (s, _) = b
        .post(
            "/__control/editable",
            json!({"contextId": DEMO_CONTEXT_ID, "allowed": true}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, v) = b
        .post("/__control/users", json!({"userId": "U2", "certificate": B64.encode(&b.user.cert_der), "contextIds": [DEMO_CONTEXT_ID]}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(b.h().users().len(), 2);
    let (s, v) = b.post("/__control/batches/B404/execute", json!({})).await;
    assert_eq!(s, 404, "{v}");
    b.h().stop().await;
}

/// An independent tool agrees with the simulator about signatures:
/// openssl's signature is accepted by the bank, and openssl verifies the
/// signature the `rsa` crate made.
#[tokio::test]
async fn openssl_interoperates() {
    let probe = std::process::Command::new("openssl")
        .arg("version")
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("NOTE: openssl not found; skipping the openssl interoperability test");
        return;
    }
    let b = bank().await;
    let token = b.login().await;
    let dir = tempfile::tempdir().unwrap();
    let xml = pain001(
        "ERP-OSSL-1",
        &b.iban(),
        &[("OSSL-1", "12.34", CREDITOR)],
        None,
        None,
    );
    let file = dir.path().join("file.xml");
    let key = dir.path().join("key.pem");
    let pubkey = dir.path().join("pub.pem");
    let sig = dir.path().join("sig.bin");
    std::fs::write(&file, &xml).unwrap();
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
        pubkey.as_os_str(),
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
    let mut body = b.signed_batch(&xml);
    body["signature"] = json!(B64.encode(std::fs::read(&sig).unwrap()));
    let (s, v) = b.post_batch(&token, body).await;
    assert_eq!(s, 201, "openssl's signature accepted: {v}");

    std::fs::write(&sig, b.user.sign(xml.as_bytes())).unwrap();
    let out = run(&[
        "dgst".as_ref(),
        "-sha256".as_ref(),
        "-verify".as_ref(),
        pubkey.as_os_str(),
        "-signature".as_ref(),
        sig.as_os_str(),
        file.as_os_str(),
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Verified OK"));
    b.h().stop().await;
}
