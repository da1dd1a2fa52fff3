//! MT940 inside a connector: the PKO BP connector (`plugins/pkobp`, built
//! for wasm32-wasip2) fetching one day of 5 000 statement lines from the
//! simulated bank over loopback mutual TLS, parsing the ISO-8859-2 file
//! with h2h-mt940 inside the sandbox and handing the host the page, as
//! every statement sync does. Criterion reports lines per second as
//! `elem/s`; `cargo bench -p h2h-mt940` measures the parser alone.
//!
//! Run with `cargo bench -p h2h-host --bench connector_mt940`.

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use h2h_host::capabilities::Grants;
use h2h_host::capabilities::http::{AllowedOrigin, ClientIdentity, HttpGrant};
use h2h_host::kv::MemoryKv;
use h2h_host::runtime::model::bank::{
    ChallengeSignature, LoginMethod, SessionContext, SessionRequest, StatementQuery,
};
use h2h_host::runtime::{CallContext, Runtime, RuntimeConfig};
use h2h_pkobp_sim::{DEMO_CONTEXT_ID, NewTransaction, Simulator};
use p256::ecdsa::signature::Signer;
use p256::pkcs8::DecodePrivateKey;

const LINES: u64 = 5_000;
const PAYER: &str = "PL61109010140000071219812874";

fn bench(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let today = chrono::Utc::now().date_naive();
    let sim = Simulator::builder()
        .today(today)
        .days(1)
        .build()
        .expect("simulator");
    let bank = sim.handle();
    let iban = Simulator::demo_accounts()[0].iban.clone();
    for i in 0..LINES {
        let amount = format!("{}.{:02}", 10 + i % 9_000, i % 100);
        bank.add_transaction(NewTransaction::credit(
            &iban,
            amount.parse().expect("amount"),
            &format!("Zapłata za fakturę FV/2026/11/{i:05}, dziękujemy"),
            "Przedsiębiorstwo Handlowo-Usługowe Żółw Sp. z o.o.",
            PAYER,
        ))
        .expect("line");
    }
    let running = tokio
        .block_on(sim.start("127.0.0.1:0"))
        .expect("bank serving");
    let url = running.url();

    // The connector with the grants an admin gives it: the bank's origin on
    // loopback, its test CA, the transport certificate.
    let transport = bank.client_identity();
    let http = HttpGrant::new(vec![AllowedOrigin::parse(&url).expect("origin")])
        .with_private_host(url.trim_start_matches("https://"))
        .expect("loopback")
        .with_extra_ca(bank.ca_pem().as_bytes())
        .expect("CA");
    let runtime =
        Runtime::new(RuntimeConfig::default(), Arc::new(MemoryKv::default())).expect("runtime");
    let wasm = std::fs::read(h2h_test_plugins::PKOBP).expect("connector built");
    let plugin = runtime
        .load(
            "pkobp",
            &wasm,
            Grants {
                http,
                ..Grants::default()
            },
        )
        .expect("connector loads");
    let mut ctx = CallContext {
        company_id: Some("acme".into()),
        ..CallContext::default()
    };
    ctx.settings
        .insert("context-id".into(), DEMO_CONTEXT_ID.into());
    ctx.settings.insert("api-url".into(), url.clone());
    ctx.tls_identities.insert(
        "transport".into(),
        ClientIdentity::from_pem(transport.cert_pem.as_bytes(), transport.key_pem.as_bytes())
            .expect("identity"),
    );

    // A session, opened the way the host opens one: the bank's challenge
    // signed by the user's key (here a P-256 key the bank's CA issued).
    let user = bank.issue_client_identity("bench-user").expect("user key");
    bank.register_user("BENCH", &user.cert_der, &[DEMO_CONTEXT_ID])
        .expect("bank user");
    let request = SessionRequest {
        bank_user_id: "BENCH".into(),
        method: LoginMethod::Signature,
        company_ids: Vec::new(),
        valid_until: None,
        certificate: Some(user.cert_der.clone()),
        signing_key: None,
    };
    let waiting = tokio
        .block_on(plugin.open_session(ctx.clone(), &request))
        .expect("challenge");
    let challenge = waiting.challenge.expect("a challenge to sign");
    let key = p256::ecdsa::SigningKey::from_pkcs8_pem(&user.key_pem).expect("key");
    let signature: p256::ecdsa::Signature = key.sign(&challenge.data);
    let active = tokio
        .block_on(plugin.complete_session(
            ctx.clone(),
            &waiting.id,
            &ChallengeSignature {
                signature: signature.to_bytes().to_vec(),
                certificate: user.cert_der.clone(),
            },
        ))
        .expect("login");
    ctx.session = Some(SessionContext {
        id: active.id,
        bank_user_id: active.bank_user_id,
        company_ids: active.company_ids,
        secret: active.secret.map(secrecy::SecretString::from),
    });

    let query = StatementQuery {
        account: iban,
        from: today.to_string(),
        to: today.to_string(),
        continuation: None,
    };
    let page = tokio
        .block_on(plugin.fetch_statement(ctx.clone(), &query))
        .expect("statement");
    assert!(
        page.transactions.len() as u64 >= LINES,
        "{} lines",
        page.transactions.len()
    );
    let bytes: usize = page.documents.iter().map(|d| d.content.len()).sum();
    eprintln!(
        "input: {} lines, {bytes} bytes of MT940",
        page.transactions.len()
    );

    let mut group = c.benchmark_group("mt940");
    group.throughput(Throughput::Elements(LINES));
    group.sample_size(10);
    group.bench_function("pkobp_fetch_statement_5000_lines", |b| {
        b.to_async(&tokio).iter(|| async {
            plugin
                .fetch_statement(ctx.clone(), &query)
                .await
                .expect("statement")
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
