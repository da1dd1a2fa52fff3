//! Terminal (POS) connectors: one charge per reference, status polling
//! that ends, results mapped to the contract's codes, errors mapped as the
//! contract says.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use rust_decimal::Decimal;

use super::{Outcome, Report, is_currency, permanent, positive_amount, verdict};
use crate::runtime::model::Money;
use crate::runtime::model::pos::{
    EInvoicing, IntentKind, IntentQuery, IntentRequest, IntentResult, IntentStatus, PaymentIntent,
};
use crate::runtime::{CallContext, Plugin};

/// Makes the e-invoicing provider's data for a request, where the provider
/// requires it on every sale (Greek receipts).
pub type Sign = Arc<dyn Fn(&IntentRequest) -> Option<EInvoicing> + Send + Sync>;

/// An amount the provider's test environment documents the result of
/// (WebECR's 9.99 is declined, say).
#[derive(Debug, Clone)]
pub struct Expected {
    /// The amount to charge.
    pub amount: Money,
    /// How the provider ends it.
    pub result: IntentResult,
}

/// What to charge, where, and how long to wait.
#[derive(Clone)]
pub struct TerminalCase {
    /// A paired device's API key.
    pub api_key: String,
    /// The terminal entry to charge on (`terminal.id`).
    pub terminal: String,
    /// An amount the test environment approves.
    pub amount: Money,
    /// More amounts with known results, each charged once.
    pub expected: Vec<Expected>,
    /// The e-invoicing data for each request, when the provider needs it.
    pub sign: Option<Sign>,
    /// How often to poll an intent.
    pub poll_every: Duration,
    /// How long an intent may take to complete.
    pub max_wait: Duration,
}

impl std::fmt::Debug for TerminalCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TerminalCase")
            .field("terminal", &self.terminal)
            .field("amount", &self.amount)
            .field("expected", &self.expected)
            .finish_non_exhaustive()
    }
}

/// Every intent answer seen, for the checks that compare them.
#[derive(Default)]
struct Seen {
    answers: Vec<PaymentIntent>,
}

/// Runs every terminal check. It charges the case's amounts on the
/// terminal: run it against a test environment.
pub async fn terminal(plugin: &Plugin, ctx: &CallContext, case: &TerminalCase) -> Report {
    let mut report = Report::default();
    let mut seen = Seen::default();
    report.add("terminal-listed", listed(plugin, ctx, case).await);

    let stamp = Utc::now().timestamp_millis();
    let reference = format!("h2h-conf-{stamp}");
    let request = sale(case, &case.amount, &reference);
    let started = plugin
        .start_intent(ctx.clone(), &case.api_key, &request)
        .await;
    let first = match started {
        Ok(intent) => {
            report.add("intent-echoes-request", echoes(&request, &intent));
            seen.answers.push(intent.clone());
            intent
        }
        Err(e) => {
            report.add(
                "intent-echoes-request",
                Outcome::Failed(format!("start-intent {reference}: {e}")),
            );
            return finish(plugin, ctx, case, report, &seen).await;
        }
    };
    let again = plugin
        .start_intent(ctx.clone(), &case.api_key, &request)
        .await;
    let outcome = match again {
        Ok(intent) if intent.id == first.id => {
            seen.answers.push(intent);
            Outcome::Passed
        }
        Ok(intent) => Outcome::Failed(format!(
            "the same reference started intent {}, then {}",
            first.id, intent.id
        )),
        Err(e) if !e.is_retryable() => Outcome::Passed,
        Err(e) => Outcome::Failed(format!(
            "start-intent {reference} a second time (as the host does after a lost answer): {e}"
        )),
    };
    report.add("same-reference-starts-once", outcome);

    let done = poll(plugin, ctx, case, &first.id, &mut seen).await;
    let outcome = match &done {
        Ok(intent) if intent.result == Some(IntentResult::Approved) => approved(intent),
        Ok(intent) => Outcome::Failed(format!(
            "{} ended {:?}, not approved",
            intent.id, intent.result
        )),
        Err(why) => Outcome::Failed(why.clone()),
    };
    report.add("status-polling-ends", outcome);
    report.add(
        "found-by-reference",
        found(plugin, ctx, case, &reference, &first.id).await,
    );
    report.add(
        "one-charge-per-reference",
        charged_once(plugin, ctx, case, &reference).await,
    );

    let mut problems = Vec::new();
    for (n, expected) in case.expected.iter().enumerate() {
        let reference = format!("h2h-conf-{stamp}-{}", n + 1);
        let request = sale(case, &expected.amount, &reference);
        let intent = match plugin
            .start_intent(ctx.clone(), &case.api_key, &request)
            .await
        {
            Ok(intent) => intent,
            Err(e) => {
                problems.push(format!("start-intent of {}: {e}", expected.amount.amount));
                continue;
            }
        };
        seen.answers.push(intent.clone());
        match poll(plugin, ctx, case, &intent.id, &mut seen).await {
            Ok(done) if done.result == Some(expected.result) => {}
            Ok(done) => problems.push(format!(
                "{} {} ended {:?}, the provider documents {:?}",
                expected.amount.amount, expected.amount.currency, done.result, expected.result
            )),
            Err(why) => problems.push(why),
        }
    }
    let outcome = if case.expected.is_empty() {
        Outcome::Skipped("the case names no amounts with documented results".to_owned())
    } else {
        verdict(problems)
    };
    report.add("documented-results", outcome);
    finish(plugin, ctx, case, report, &seen).await
}

/// The checks that need no charge, and the one over every answer seen.
async fn finish(
    plugin: &Plugin,
    ctx: &CallContext,
    case: &TerminalCase,
    mut report: Report,
    seen: &Seen,
) -> Report {
    report.add("results-mapped", mapped(seen));
    report.add(
        "unknown-intent-is-permanent",
        permanent(
            "get-intent 999999999",
            plugin
                .get_intent(ctx.clone(), &case.api_key, "999999999")
                .await,
            |intent| format!("intent {}", intent.id),
        ),
    );
    report.add(
        "wrong-api-key-is-permanent",
        permanent(
            "list-terminals with a key the provider never issued",
            plugin
                .list_terminals(ctx.clone(), "h2h-conformance-not-a-key")
                .await,
            |list| format!("{} terminals", list.len()),
        ),
    );
    report
}

fn sale(case: &TerminalCase, amount: &Money, reference: &str) -> IntentRequest {
    let mut request = IntentRequest {
        terminal: case.terminal.clone(),
        kind: IntentKind::Sale,
        amount: amount.clone(),
        tip: None,
        reference: reference.to_owned(),
        instalments: None,
        original: None,
        e_invoicing: None,
    };
    request.e_invoicing = case.sign.as_ref().and_then(|sign| sign(&request));
    request
}

async fn listed(plugin: &Plugin, ctx: &CallContext, case: &TerminalCase) -> Outcome {
    match plugin.list_terminals(ctx.clone(), &case.api_key).await {
        Ok(list) => {
            let mut problems: Vec<String> = list
                .iter()
                .filter(|t| t.id.trim().is_empty() || t.terminal_id.trim().is_empty())
                .map(|t| format!("terminal `{}` ({}) lacks an id or TID", t.id, t.name))
                .collect();
            if !list.iter().any(|t| t.id == case.terminal) {
                let ids: Vec<&str> = list.iter().map(|t| t.id.as_str()).collect();
                problems.push(format!("terminal `{}` is not among {ids:?}", case.terminal));
            }
            verdict(problems)
        }
        Err(e) => Outcome::Failed(format!("list-terminals: {e}")),
    }
}

fn same_amount(a: &Money, b: &Money) -> bool {
    a.currency == b.currency
        && matches!(
            (a.amount.parse::<Decimal>(), b.amount.parse::<Decimal>()),
            (Ok(x), Ok(y)) if x == y
        )
}

/// The intent is the request's: terminal, kind, amount and reference.
fn echoes(request: &IntentRequest, intent: &PaymentIntent) -> Outcome {
    let mut problems = Vec::new();
    if intent.id.trim().is_empty() {
        problems.push("the intent has no id".to_owned());
    }
    if intent.terminal != request.terminal {
        problems.push(format!(
            "terminal `{}`, asked `{}`",
            intent.terminal, request.terminal
        ));
    }
    if intent.kind != request.kind {
        problems.push(format!("kind {:?}, asked {:?}", intent.kind, request.kind));
    }
    if !same_amount(&intent.amount, &request.amount) {
        problems.push(format!(
            "amount {} {}, asked {} {}",
            intent.amount.amount,
            intent.amount.currency,
            request.amount.amount,
            request.amount.currency
        ));
    }
    if intent.reference != request.reference {
        problems.push(format!(
            "reference `{}`, asked `{}`",
            intent.reference, request.reference
        ));
    }
    verdict(problems)
}

/// Polls `id` until it completes or `max_wait` passes.
async fn poll(
    plugin: &Plugin,
    ctx: &CallContext,
    case: &TerminalCase,
    id: &str,
    seen: &mut Seen,
) -> Result<PaymentIntent, String> {
    let until = tokio::time::Instant::now() + case.max_wait;
    loop {
        let intent = plugin
            .get_intent(ctx.clone(), &case.api_key, id)
            .await
            .map_err(|e| format!("get-intent {id}: {e}"))?;
        seen.answers.push(intent.clone());
        if intent.status == IntentStatus::Completed {
            return Ok(intent);
        }
        if tokio::time::Instant::now() + case.poll_every > until {
            return Err(format!(
                "intent {id} is still {:?} after {:?}",
                intent.status, case.max_wait
            ));
        }
        tokio::time::sleep(case.poll_every).await;
    }
}

/// An approved sale names the acquirer's payment.
fn approved(intent: &PaymentIntent) -> Outcome {
    match &intent.payment {
        Some(payment) if !payment.rrn.trim().is_empty() => Outcome::Passed,
        _ => Outcome::Failed(format!(
            "{} is approved without the card payment's RRN (refunds and voids need it)",
            intent.id
        )),
    }
}

async fn found(
    plugin: &Plugin,
    ctx: &CallContext,
    case: &TerminalCase,
    reference: &str,
    id: &str,
) -> Outcome {
    let mut problems = Vec::new();
    match plugin
        .find_intent(ctx.clone(), &case.api_key, reference)
        .await
    {
        Ok(Some(intent)) if intent.id == id => {}
        Ok(Some(intent)) => problems.push(format!(
            "find-intent {reference} answered {}, started as {id}",
            intent.id
        )),
        Ok(None) => problems.push(format!("find-intent {reference} found nothing")),
        Err(e) => problems.push(format!("find-intent {reference}: {e}")),
    }
    let unused = format!("{reference}-never-used");
    match plugin
        .find_intent(ctx.clone(), &case.api_key, &unused)
        .await
    {
        Ok(None) => {}
        Ok(Some(intent)) => problems.push(format!(
            "find-intent {unused} answered {}, which was never started",
            intent.id
        )),
        Err(e) => problems.push(format!("find-intent {unused}: {e}")),
    }
    verdict(problems)
}

/// Exactly one sale carries `reference` among the terminal's intents of
/// the day.
async fn charged_once(
    plugin: &Plugin,
    ctx: &CallContext,
    case: &TerminalCase,
    reference: &str,
) -> Outcome {
    let now = Utc::now();
    let query = IntentQuery {
        from: (now - chrono::Duration::hours(1)).to_rfc3339_opts(SecondsFormat::Secs, true),
        to: (now + chrono::Duration::hours(1)).to_rfc3339_opts(SecondsFormat::Secs, true),
        status: None,
        terminal: Some(case.terminal.clone()),
    };
    match plugin
        .list_intents(ctx.clone(), &case.api_key, &query)
        .await
    {
        Ok(list) => {
            let sales = list
                .iter()
                .filter(|i| i.reference == reference && i.kind == IntentKind::Sale)
                .count();
            if sales == 1 {
                Outcome::Passed
            } else {
                Outcome::Failed(format!(
                    "{sales} sales carry reference {reference} in list-intents"
                ))
            }
        }
        Err(e) => Outcome::Failed(format!("list-intents: {e}")),
    }
}

/// Every answer keeps the contract's rules: a result exactly when
/// completed, with its provider code; each provider code always the same
/// contract value; positive amounts; the provider's answer as JSON.
fn mapped(seen: &Seen) -> Outcome {
    let mut problems = Vec::new();
    let mut statuses: BTreeMap<u32, IntentStatus> = BTreeMap::new();
    let mut results: BTreeMap<u32, IntentResult> = BTreeMap::new();
    for intent in &seen.answers {
        let id = &intent.id;
        let completed = intent.status == IntentStatus::Completed;
        if completed != intent.result.is_some() {
            problems.push(format!(
                "{id} is {:?} with result {:?}: a result comes exactly with completion",
                intent.status, intent.result
            ));
        }
        if intent.result.is_some() != intent.result_code.is_some() {
            problems.push(format!(
                "{id}: result {:?} with provider code {:?}",
                intent.result, intent.result_code
            ));
        }
        if let Some(before) = statuses.insert(intent.status_code, intent.status)
            && before != intent.status
        {
            problems.push(format!(
                "provider status {} is {before:?} once and {:?} once",
                intent.status_code, intent.status
            ));
        }
        if let (Some(code), Some(result)) = (intent.result_code, intent.result)
            && let Some(before) = results.insert(code, result)
            && before != result
        {
            problems.push(format!(
                "provider result {code} is {before:?} once and {result:?} once"
            ));
        }
        if let Some(problem) = positive_amount(&intent.amount.amount) {
            problems.push(format!("{id}: {problem}"));
        }
        if !is_currency(&intent.amount.currency) {
            problems.push(format!(
                "{id}: currency `{}` is not ISO 4217",
                intent.amount.currency
            ));
        }
        if serde_json::from_str::<serde_json::Value>(&intent.provider_response).is_err() {
            problems.push(format!("{id}: provider-response is not JSON"));
        }
    }
    problems.dedup();
    if seen.answers.is_empty() {
        Outcome::Skipped("no intent was answered".to_owned())
    } else {
        verdict(problems)
    }
}
