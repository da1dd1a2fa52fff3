//! The Mellon WebECR connector (`plugins/mellon`, built for wasm32-wasip2)
//! in the host runtime, against the simulated WebECR service
//! (`tests/webecr-sim`) over real HTTPS on loopback, the way the coming
//! card-payment domain will call it: company settings and the password
//! secret in the call context, the device's API key passed to every call.
//!
//! Covered: login and pairing (a code works once, a wrong code is a clear
//! error), terminals, an approved sale, a declined one (9.99), a lost
//! answer (13.13) recovered by reference with exactly one charge, a bad
//! provider signature, a void (by intent and by RRN), a refund linked by
//! RRN, a period's intents, JWT expiry (refresh, then re-login), and a 5xx
//! as a retryable error.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use h2h_host::capabilities::Grants;
use h2h_host::capabilities::http::{AllowedOrigin, HttpGrant};
use h2h_host::kv::MemoryKv;
use h2h_host::runtime::model::pos::{
    CardPayment, EInvoicing, IntentKind, IntentQuery, IntentRequest, IntentResult, IntentStatus,
    PaymentIntent, VoidTarget,
};
use h2h_host::runtime::model::{ConnectorError, Money};
use h2h_host::runtime::{CallContext, CallError, Plugin, Runtime, RuntimeConfig};
use h2h_webecr_sim::{
    ProviderInput, ProviderKey, Running, SimHandle, Simulator, SimulatorBuilder, TerminalSpec,
};

const USER: &str = "shop";
const PASSWORD: &str = "test-password-not-secret";
const TID: &str = "12345678";
const MID: &str = "000000012345";
const PROVIDER: &str = "PROV-1";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0)
        .single()
        .expect("t0")
}

pub(crate) struct Fixture {
    _running: Running,
    pub(crate) sim: SimHandle,
    pub(crate) plugin: Plugin,
    pub(crate) ctx: CallContext,
    pub(crate) provider: ProviderKey,
}

impl Fixture {
    async fn new() -> Fixture {
        Self::on(Simulator::builder().start_time(t0())).await
    }

    /// The connector against a simulator made by `builder`, with the
    /// shop's account added.
    pub(crate) async fn on(builder: SimulatorBuilder) -> Fixture {
        let sim = builder.account(USER, PASSWORD).build().expect("simulator");
        let running = sim.start("127.0.0.1:0").await.expect("simulator serving");
        let url = running.url();
        let handle = running.handle.clone();
        let provider = ProviderKey::generate();
        handle.register_provider(PROVIDER, provider.verifying_key());

        // The grants an admin gives the connector: the service's origin on
        // loopback and its test CA.
        let http = HttpGrant::new(vec![AllowedOrigin::parse(&url).expect("origin")])
            .with_private_host(url.trim_start_matches("https://"))
            .expect("loopback")
            .with_extra_ca(handle.ca_pem().as_bytes())
            .expect("CA");
        let runtime =
            Runtime::new(RuntimeConfig::default(), Arc::new(MemoryKv::default())).expect("runtime");
        let wasm = std::fs::read(h2h_test_plugins::MELLON).expect("connector built");
        let plugin = runtime
            .load(
                "mellon",
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
        ctx.settings.insert("base-url".into(), url);
        ctx.settings.insert("username".into(), USER.into());
        ctx.secrets
            .insert("password".into(), secrecy::SecretString::from(PASSWORD));
        Fixture {
            _running: running,
            sim: handle,
            plugin,
            ctx,
            provider,
        }
    }

    /// A terminal paired through the connector: its API key and entry id.
    pub(crate) async fn pair(&self) -> (String, String) {
        let code = self
            .sim
            .issue_pairing_code(USER, TerminalSpec::new(TID, MID))
            .expect("code");
        let pairing = self
            .plugin
            .redeem_pairing_code(self.ctx.clone(), &code.code)
            .await
            .expect("redeem");
        (pairing.api_key, code.terminal.id.to_string())
    }

    /// The provider's signature for a card amount on our terminal.
    pub(crate) fn e_invoicing(&self, cents: i64, uid: &str) -> EInvoicing {
        receipt(&self.provider, cents, uid, "2026-11-30T09:59:00Z")
    }

    fn sale(&self, terminal: &str, amount: &str, reference: &str) -> IntentRequest {
        let cents: i64 = amount.replace('.', "").parse().expect("cents");
        IntentRequest {
            terminal: terminal.into(),
            kind: IntentKind::Sale,
            amount: eur(amount),
            tip: None,
            reference: reference.into(),
            instalments: None,
            original: None,
            e_invoicing: Some(self.e_invoicing(cents, &format!("UID-{reference}"))),
        }
    }

    async fn start(&self, key: &str, request: &IntentRequest) -> Result<PaymentIntent, CallError> {
        self.plugin
            .start_intent(self.ctx.clone(), key, request)
            .await
    }

    async fn get(&self, key: &str, id: &str) -> PaymentIntent {
        self.plugin
            .get_intent(self.ctx.clone(), key, id)
            .await
            .expect("get-intent")
    }

    /// Lets the device finish (5 s of simulated clock) and reads the intent.
    async fn completed(&self, key: &str, id: &str) -> PaymentIntent {
        self.sim.advance_clock(Duration::from_secs(6));
        let intent = self.get(key, id).await;
        assert_eq!(intent.status, IntentStatus::Completed, "{intent:?}");
        assert_eq!(intent.status_code, 3);
        intent
    }
}

/// The e-invoicing provider's data for a receipt of `cents` on our
/// terminal, signed with `provider` at `signed_at` (RFC 3339).
pub(crate) fn receipt(
    provider: &ProviderKey,
    cents: i64,
    uid: &str,
    signed_at: &str,
) -> EInvoicing {
    let input = ProviderInput {
        uid: uid.into(),
        mark: "400001234567".into(),
        timestamp: signed_at.into(),
        amount: cents,
        net: cents * 100 / 124,
        vat: cents - cents * 100 / 124,
        total: cents,
        tid: TID.into(),
    };
    let data = provider.provider_data(PROVIDER, &input);
    EInvoicing {
        provider_id: Some(PROVIDER.into()),
        input: data["Input"].as_str().expect("input").into(),
        signature: data["Signature"].as_str().expect("signature").into(),
    }
}

fn eur(amount: &str) -> Money {
    Money {
        amount: amount.into(),
        currency: "EUR".into(),
    }
}

/// The contract error of a failed call.
fn connector_error(error: CallError) -> ConnectorError {
    match error {
        CallError::Connector { error, .. } => error,
        other => panic!("not a connector error: {other}"),
    }
}

fn rejected_code(error: CallError) -> String {
    match connector_error(error) {
        ConnectorError::Rejected(r) => r.code.unwrap_or_default(),
        other => panic!("not a rejection: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pairing_and_terminals() {
    let fx = Fixture::new().await;
    let code = fx
        .sim
        .issue_pairing_code(USER, TerminalSpec::new(TID, MID))
        .expect("code");
    let pairing = fx
        .plugin
        .redeem_pairing_code(fx.ctx.clone(), &code.code)
        .await
        .expect("redeem");
    assert_eq!(pairing.api_key.len(), 40, "WebECR's key is 40 hex digits");
    assert!(
        pairing.label.as_deref().is_some_and(|l| l.contains(TID)),
        "{:?}",
        pairing.label
    );
    assert!(
        !format!("{pairing:?}").contains(&pairing.api_key),
        "the key never prints"
    );

    // A code works once; a wrong code and a malformed one are clear errors.
    let again = fx
        .plugin
        .redeem_pairing_code(fx.ctx.clone(), &code.code)
        .await
        .expect_err("a code works once");
    assert_eq!(rejected_code(again), "code_already_redeemed");
    let wrong = fx
        .plugin
        .redeem_pairing_code(fx.ctx.clone(), "00000000")
        .await
        .expect_err("unknown code");
    assert_eq!(rejected_code(wrong), "code_not_found");
    let malformed = fx
        .plugin
        .redeem_pairing_code(fx.ctx.clone(), "1234")
        .await
        .expect_err("not 8 digits");
    assert!(matches!(
        connector_error(malformed),
        ConnectorError::InvalidInput(_)
    ));

    let terminals = fx
        .plugin
        .list_terminals(fx.ctx.clone(), &pairing.api_key)
        .await
        .expect("terminals");
    assert_eq!(terminals.len(), 1, "{terminals:?}");
    let t = &terminals[0];
    assert_eq!(t.id, code.terminal.id.to_string());
    assert_eq!(t.terminal_id, TID);
    assert_eq!(t.merchant_id.as_deref(), Some(MID));
    assert_eq!(t.model.as_deref(), Some("DX8000"));

    // One login served every call; the key went only as X-Api-Key.
    let requests = fx.sim.requests();
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.path.ends_with("/token/"))
            .count(),
        1,
        "{requests:?}"
    );

    // Wrong credentials are `unauthorized`.
    let mut bad = fx.ctx.clone();
    bad.company_id = Some("other".into());
    bad.secrets.insert(
        "password".into(),
        secrecy::SecretString::from("wrong-password"),
    );
    let refused = fx
        .plugin
        .list_terminals(bad, &pairing.api_key)
        .await
        .expect_err("bad password");
    assert!(
        matches!(connector_error(refused), ConnectorError::Unauthorized(_)),
        "wrong credentials"
    );
    // A revoked or unknown key too.
    let unknown = fx
        .plugin
        .list_terminals(fx.ctx.clone(), &"0".repeat(40))
        .await
        .expect_err("unknown key");
    assert!(matches!(
        connector_error(unknown),
        ConnectorError::Unauthorized(_)
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn sales_declines_lost_answers_and_signatures() {
    let fx = Fixture::new().await;
    let (key, terminal) = fx.pair().await;

    // Approved.
    let started = fx
        .start(&key, &fx.sale(&terminal, "12.40", "INV-2026-0001"))
        .await
        .expect("sale");
    assert_eq!(started.status, IntentStatus::Pending);
    assert_eq!(started.status_code, 1);
    assert_eq!(started.result, None);
    assert_eq!(started.reference, "INV-2026-0001");
    assert_eq!(started.amount, eur("12.40"));
    assert_eq!(started.terminal, terminal);
    assert_eq!(started.kind, IntentKind::Sale);
    let approved = fx.completed(&key, &started.id).await;
    assert_eq!(approved.result, Some(IntentResult::Approved));
    assert_eq!(approved.result_code, Some(1));
    let payment = approved.payment.clone().expect("booked payment");
    assert_eq!(payment.rrn.len(), 12);
    assert_eq!(payment.terminal_id.as_deref(), Some(TID));
    assert_eq!(payment.merchant_id.as_deref(), Some(MID));
    assert!(payment.auth_code.is_some() && payment.masked_pan.is_some());
    let answer: serde_json::Value =
        serde_json::from_str(&approved.provider_response).expect("provider JSON");
    assert_eq!(
        answer["TransactionId"]
            .as_str()
            .map(|t| t.starts_with("075;")),
        Some(true)
    );
    assert_eq!(fx.sim.charge_count("INV-2026-0001"), 1);

    // Declined (9.99): a completed intent, not an error; nothing booked.
    let started = fx
        .start(&key, &fx.sale(&terminal, "9.99", "INV-2026-0002"))
        .await
        .expect("sale");
    let declined = fx.completed(&key, &started.id).await;
    assert_eq!(declined.result, Some(IntentResult::Declined));
    assert_eq!(declined.result_code, Some(2));
    assert!(declined.payment.is_none());
    assert_eq!(fx.sim.charge_count("INV-2026-0002"), 0);

    // 13.13: the service takes the intent, then the connection breaks
    // before its answer. The error says "may have been taken" (retryable
    // timeout) and the connector does not send it again.
    let request = fx.sale(&terminal, "13.13", "INV-2026-0003");
    let lost = fx.start(&key, &request).await.expect_err("lost answer");
    match connector_error(lost) {
        ConnectorError::Timeout(message) => {
            assert!(message.contains("look it up by its reference"), "{message}");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    let txninits = fx
        .sim
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/txninit/") && r.dropped)
        .count();
    assert_eq!(txninits, 1, "sent once, never retried by the connector");
    // The host's recovery: find the intent by the same reference.
    let found = fx
        .plugin
        .find_intent(fx.ctx.clone(), &key, "INV-2026-0003")
        .await
        .expect("find-intent")
        .expect("the service has it");
    assert_eq!(found.reference, "INV-2026-0003");
    assert_eq!(found.amount, eur("13.13"));
    let recovered = fx.completed(&key, &found.id).await;
    assert_eq!(recovered.result, Some(IntentResult::Approved));
    let again = fx
        .plugin
        .find_intent(fx.ctx.clone(), &key, "INV-2026-0003")
        .await
        .expect("find-intent")
        .expect("still there");
    assert_eq!(again.id, found.id);
    assert_eq!(again.result, Some(IntentResult::Approved));
    // Starting it again with the same reference is the same intent.
    let replay = fx.start(&key, &request).await.expect("replay");
    assert_eq!(replay.id, found.id);
    assert_eq!(
        fx.sim.charge_count("INV-2026-0003"),
        1,
        "exactly one charge"
    );
    // A reference never used: nothing.
    assert!(
        fx.plugin
            .find_intent(fx.ctx.clone(), &key, "INV-NEVER")
            .await
            .expect("find-intent")
            .is_none()
    );

    // A signature that does not verify is refused with the provider's code.
    let mut forged = fx.sale(&terminal, "20.00", "INV-2026-0004");
    let other = ProviderKey::generate();
    if let Some(e) = forged.e_invoicing.as_mut() {
        e.signature = other.sign(&e.input);
    }
    let refused = fx.start(&key, &forged).await.expect_err("bad signature");
    assert_eq!(rejected_code(refused), "invalid_provider_signature");
    // A signed amount that is not the card amount too.
    let mut mismatch = fx.sale(&terminal, "20.00", "INV-2026-0005");
    mismatch.e_invoicing = Some(fx.e_invoicing(2100, "UID-X"));
    let refused = fx.start(&key, &mismatch).await.expect_err("mismatch");
    assert_eq!(rejected_code(refused), "provider_data_mismatch");
    // Refused before the service: three decimals, another currency.
    let mut precise = fx.sale(&terminal, "20.00", "INV-2026-0006");
    precise.amount = eur("20.001");
    assert!(matches!(
        connector_error(fx.start(&key, &precise).await.expect_err("3 decimals")),
        ConnectorError::InvalidInput(_)
    ));
    precise.amount = Money {
        amount: "20.00".into(),
        currency: "USD".into(),
    };
    assert!(matches!(
        connector_error(fx.start(&key, &precise).await.expect_err("USD")),
        ConnectorError::InvalidInput(_)
    ));
    assert_eq!(fx.sim.charges().len(), 2, "{:?}", fx.sim.charges());
}

#[tokio::test(flavor = "multi_thread")]
async fn voids_refunds_and_periods() {
    let fx = Fixture::new().await;
    let (key, terminal) = fx.pair().await;

    // A sale voided by its intent id.
    let sale = fx
        .start(&key, &fx.sale(&terminal, "30.00", "INV-V1"))
        .await
        .expect("sale");
    fx.completed(&key, &sale.id).await;
    let void = fx
        .plugin
        .void_intent(fx.ctx.clone(), &key, &VoidTarget::Intent(sale.id.clone()))
        .await
        .expect("void");
    assert_ne!(void.id, sale.id);
    assert_eq!(void.status, IntentStatus::Pending);
    assert!(
        void.provider_response.contains("\"VOID\""),
        "{}",
        void.provider_response
    );
    let voided = fx.completed(&key, &void.id).await;
    assert_eq!(voided.result, Some(IntentResult::Approved));
    // Voiding again is answered with the same void, not a second one.
    let repeated = fx
        .plugin
        .void_intent(fx.ctx.clone(), &key, &VoidTarget::Intent(sale.id.clone()))
        .await
        .expect("same void");
    assert_eq!(repeated.id, void.id);
    let charge = fx
        .sim
        .charges()
        .into_iter()
        .find(|c| c.customer_reference.as_deref() == Some("INV-V1"))
        .expect("charge");
    assert!(charge.voided);

    // A sale voided by its RRN (and MID), as the ERP knows it from the
    // receipt.
    let sale2 = fx
        .start(&key, &fx.sale(&terminal, "31.00", "INV-V2"))
        .await
        .expect("sale");
    let paid = fx.completed(&key, &sale2.id).await;
    let payment = paid.payment.clone().expect("payment");
    let void2 = fx
        .plugin
        .void_intent(
            fx.ctx.clone(),
            &key,
            &VoidTarget::Payment(CardPayment {
                rrn: payment.rrn.clone(),
                merchant_id: Some(MID.into()),
                ..CardPayment::default()
            }),
        )
        .await
        .expect("void by RRN");
    assert_eq!(
        fx.completed(&key, &void2.id).await.result,
        Some(IntentResult::Approved)
    );
    // A void of something not voidable is the provider's refusal.
    let declined = fx
        .start(&key, &fx.sale(&terminal, "9.99", "INV-V3"))
        .await
        .expect("sale");
    fx.completed(&key, &declined.id).await;
    let refused = fx
        .plugin
        .void_intent(
            fx.ctx.clone(),
            &key,
            &VoidTarget::Intent(declined.id.clone()),
        )
        .await
        .expect_err("declined: not voidable");
    assert_eq!(rejected_code(refused), "not_voidable");

    // A refund linked to its sale by RRN and MID.
    let sale3 = fx
        .start(&key, &fx.sale(&terminal, "50.00", "INV-R1"))
        .await
        .expect("sale");
    let paid = fx.completed(&key, &sale3.id).await;
    let original = paid.payment.clone().expect("payment");
    let refund = IntentRequest {
        terminal: terminal.clone(),
        kind: IntentKind::Refund,
        amount: eur("20.00"),
        tip: None,
        reference: "CN-R1".into(),
        instalments: None,
        original: Some(CardPayment {
            rrn: original.rrn.clone(),
            merchant_id: original.merchant_id.clone(),
            ..CardPayment::default()
        }),
        e_invoicing: None,
    };
    let started = fx.start(&key, &refund).await.expect("refund");
    assert_eq!(started.kind, IntentKind::Refund);
    let refunded = fx.completed(&key, &started.id).await;
    assert_eq!(refunded.result, Some(IntentResult::Approved));
    let charge = fx
        .sim
        .charges()
        .into_iter()
        .find(|c| c.customer_reference.as_deref() == Some("INV-R1"))
        .expect("charge");
    assert_eq!(charge.refunded, 2000);
    // More than the sale is the provider's refusal.
    let mut too_much = refund.clone();
    too_much.reference = "CN-R2".into();
    too_much.amount = eur("40.00");
    let refused = fx.start(&key, &too_much).await.expect_err("over-refund");
    assert_eq!(rejected_code(refused), "refund_exceeds_sale");

    // The period's intents: every one above (sales, voids, the refund).
    let query = IntentQuery {
        from: "2026-11-30T00:00:00Z".into(),
        to: "2026-12-01T00:00:00Z".into(),
        status: None,
        terminal: None,
    };
    let listed = fx
        .plugin
        .list_intents(fx.ctx.clone(), &key, &query)
        .await
        .expect("list");
    assert_eq!(listed.len(), 7, "{listed:#?}");
    assert!(listed.iter().all(|i| i.status == IntentStatus::Completed));
    assert!(
        listed
            .iter()
            .any(|i| i.reference == "CN-R1" && i.kind == IntentKind::Refund)
    );
    let completed = IntentQuery {
        status: Some(IntentStatus::Pending),
        ..query.clone()
    };
    assert!(
        fx.plugin
            .list_intents(fx.ctx.clone(), &key, &completed)
            .await
            .expect("list")
            .is_empty()
    );
    let before = IntentQuery {
        from: "2026-11-29T00:00:00Z".into(),
        to: "2026-11-30T00:00:00Z".into(),
        status: None,
        terminal: None,
    };
    assert!(
        fx.plugin
            .list_intents(fx.ctx.clone(), &key, &before)
            .await
            .expect("list")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_expire_and_faults_are_retryable() {
    let fx = Fixture::new().await;
    let (key, terminal) = fx.pair().await;
    let count = |suffix: &str| {
        fx.sim
            .requests()
            .iter()
            .filter(|r| r.path.ends_with(suffix))
            .count()
    };
    assert_eq!(count("/token/"), 1);

    // The access token expires after 300 s: one refresh, then on.
    fx.sim.advance_clock(Duration::from_secs(301));
    let terminals = fx
        .plugin
        .list_terminals(fx.ctx.clone(), &key)
        .await
        .expect("terminals after expiry");
    assert_eq!(terminals.len(), 1);
    assert_eq!(count("/token/refresh"), 1);
    assert_eq!(count("/token/"), 1, "no new login");

    // Both tokens refused: a new login.
    fx.sim.faults().expire_jwts(true);
    let started = fx
        .start(&key, &fx.sale(&terminal, "12.00", "INV-T1"))
        .await
        .expect("sale after re-login");
    assert_eq!(count("/token/refresh"), 2);
    assert_eq!(count("/token/"), 2);
    assert_eq!(fx.sim.charge_count("INV-T1"), 0);
    fx.completed(&key, &started.id).await;
    assert_eq!(fx.sim.charge_count("INV-T1"), 1);

    // A 5xx is `unavailable`, retryable; the next call goes through.
    fx.sim.faults().fail_next(1, 503).expect("fault");
    let failed = fx
        .plugin
        .list_terminals(fx.ctx.clone(), &key)
        .await
        .expect_err("503");
    let error = connector_error(failed);
    assert!(matches!(error, ConnectorError::Unavailable(_)), "{error:?}");
    assert!(error.is_retryable());
    fx.plugin
        .list_terminals(fx.ctx.clone(), &key)
        .await
        .expect("after the failure");

    // A 5xx on start: retryable, nothing taken, nothing to find.
    fx.sim.faults().fail_next(1, 502).expect("fault");
    let failed = fx
        .start(&key, &fx.sale(&terminal, "14.00", "INV-T2"))
        .await
        .expect_err("502");
    assert!(connector_error(failed).is_retryable());
    assert!(
        fx.plugin
            .find_intent(fx.ctx.clone(), &key, "INV-T2")
            .await
            .expect("find")
            .is_none()
    );

    // Secrets never reach the request log's query strings.
    assert!(
        fx.sim
            .requests()
            .iter()
            .all(|r| r.query.as_deref().is_none_or(|q| !q.contains(PASSWORD)))
    );
}

#[test]
fn the_manifest_names_the_seed_settings() {
    use h2h_host::packages::manifest::{Manifest, SettingType};
    use h2h_host::runtime::World;

    let manifest =
        Manifest::parse(include_str!("../../../plugins/mellon/h2h.toml")).expect("valid manifest");
    assert_eq!(manifest.id, "mellon");
    assert_eq!(manifest.world, World::PosConnector);
    assert_eq!(manifest.version.to_string(), "1.0.1");
    let origins: Vec<String> = manifest.http.iter().map(ToString::to_string).collect();
    for acquirer in ["gbl", "nexi", "www", "wl"] {
        let origin = format!("https://{acquirer}.mreceipts.com");
        assert!(
            origins.iter().any(|o| o.starts_with(&origin)),
            "{origins:?}"
        );
    }
    let kind = |name: &str| {
        manifest
            .settings
            .iter()
            .find(|s| s.name == name)
            .map(|s| (s.kind, s.required))
    };
    assert_eq!(kind("base-url"), Some((SettingType::String, true)));
    assert_eq!(kind("token-url"), Some((SettingType::String, false)));
    assert_eq!(kind("post-url"), Some((SettingType::String, false)));
    assert_eq!(kind("username"), Some((SettingType::String, true)));
    assert_eq!(kind("password"), Some((SettingType::Secret, true)));
}
