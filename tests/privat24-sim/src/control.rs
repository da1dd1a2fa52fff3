//! The control API under `/__control`: the same switches as
//! [`crate::SimHandle`], as JSON over HTTP, for tests in other processes
//! and the README's demo. Unauthenticated: the simulator is a loopback
//! test tool.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveTime;
use h2h_sim_kit::control::{ControlError, FailNext, Millis, bad, body};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::SimError;
use crate::faults::{FaultSettings, Faults, RequestRecord};
use crate::model::{
    Counterparty, Direction, Money, NewTransaction, PaymentStatus, PaymentView,
    StatementTransaction, TxStatus, parse_bank_date,
};
use crate::state::{Shared, lock};

type Sh = Arc<Shared>;

impl From<SimError> for ControlError {
    fn from(e: SimError) -> Self {
        let status = match e {
            SimError::UnknownMerchant(_) | SimError::UnknownPayment(_) => StatusCode::NOT_FOUND,
            SimError::InvalidTransition { .. } => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        };
        ControlError(status, e.to_string())
    }
}

type Reply<T> = Result<Json<T>, ControlError>;

pub(crate) fn router(shared: Sh) -> Router {
    Router::new()
        .route("/__control/faults", get(faults))
        .route("/__control/faults/fail_next", post(fail_next))
        .route("/__control/faults/delay", post(delay))
        .route("/__control/faults/delay_answer", post(delay_answer))
        .route("/__control/faults/rate_limit", post(rate_limit))
        .route("/__control/faults/phase", post(phase))
        .route("/__control/faults/duplicate_pages", post(duplicate_pages))
        .route(
            "/__control/faults/deduplicate_document_numbers",
            post(deduplicate_document_numbers),
        )
        .route("/__control/reset", post(reset))
        .route("/__control/requests", get(requests).delete(clear_requests))
        .route(
            "/__control/transactions",
            get(transactions).post(add_transaction),
        )
        .route("/__control/payments", get(payments))
        .route(
            "/__control/payments/{reference}/status",
            post(set_payment_status),
        )
        .fallback(|| async { ControlError(StatusCode::NOT_FOUND, "not found".into()) })
        .with_state(shared)
}

fn switches(sh: &Sh) -> Faults {
    Faults { shared: sh.clone() }
}

async fn faults(State(sh): State<Sh>) -> Json<FaultSettings> {
    Json(switches(&sh).settings())
}

async fn fail_next(State(sh): State<Sh>, b: Bytes) -> Reply<FaultSettings> {
    let FailNext { count, status } = body(&b)?;
    Ok(Json(switches(&sh).fail_next(count, status)?))
}

async fn delay(State(sh): State<Sh>, b: Bytes) -> Reply<FaultSettings> {
    let Millis { ms } = body(&b)?;
    Ok(Json(switches(&sh).delay(Duration::from_millis(ms))))
}

async fn delay_answer(State(sh): State<Sh>, b: Bytes) -> Reply<FaultSettings> {
    let Millis { ms } = body(&b)?;
    Ok(Json(switches(&sh).delay_answer(Duration::from_millis(ms))))
}

#[derive(Deserialize)]
struct RateLimit {
    per_sec: u32,
}

async fn rate_limit(State(sh): State<Sh>, b: Bytes) -> Reply<FaultSettings> {
    let RateLimit { per_sec } = body(&b)?;
    Ok(Json(switches(&sh).rate_limit(per_sec)))
}

#[derive(Deserialize)]
struct Phase {
    phase: String,
}

async fn phase(State(sh): State<Sh>, b: Bytes) -> Reply<FaultSettings> {
    let Phase { phase } = body(&b)?;
    if phase.trim().is_empty() {
        return Err(bad("phase must not be empty"));
    }
    Ok(Json(switches(&sh).phase(phase)))
}

#[derive(Deserialize)]
struct Toggle {
    enabled: bool,
}

async fn duplicate_pages(State(sh): State<Sh>, b: Bytes) -> Reply<FaultSettings> {
    let Toggle { enabled } = body(&b)?;
    Ok(Json(switches(&sh).duplicate_pages(enabled)))
}

async fn deduplicate_document_numbers(State(sh): State<Sh>, b: Bytes) -> Reply<FaultSettings> {
    let Toggle { enabled } = body(&b)?;
    Ok(Json(switches(&sh).deduplicate_document_numbers(enabled)))
}

/// Faults off and the request log emptied; statements and payments stay.
async fn reset(State(sh): State<Sh>) -> Json<FaultSettings> {
    let settings = switches(&sh).reset();
    lock(&sh.log).clear();
    Json(settings)
}

async fn requests(State(sh): State<Sh>) -> Json<Vec<RequestRecord>> {
    Json(lock(&sh.log).records().to_vec())
}

async fn clear_requests(State(sh): State<Sh>) -> Json<Value> {
    lock(&sh.log).clear();
    Json(json!({ "cleared": true }))
}

#[derive(Deserialize)]
struct MerchantQuery {
    merchant_id: Option<String>,
}

/// The book a control request means: the named merchant, or the first.
fn book_index(sh: &Shared, merchant_id: Option<&str>) -> Result<usize, ControlError> {
    match merchant_id {
        Some(id) => Ok(lock(&sh.books).by_id(id)?),
        None => Ok(0),
    }
}

async fn transactions(
    State(sh): State<Sh>,
    q: Result<Query<MerchantQuery>, axum::extract::rejection::QueryRejection>,
) -> Reply<Vec<StatementTransaction>> {
    let Query(q) = q.map_err(|e| bad(e.body_text()))?;
    let b = book_index(&sh, q.merchant_id.as_deref())?;
    let books = sh.books();
    let book = &books.books[b];
    Ok(Json(
        book.transactions
            .iter()
            .map(|t| t.to_statement(&book.merchant))
            .collect(),
    ))
}

/// A line to book, as JSON: dates `dd.MM.yyyy`, times `HH:mm[:ss]`.
#[derive(Deserialize)]
struct AddTransaction {
    merchant_id: Option<String>,
    direction: Direction,
    amount: Money,
    date: String,
    time: Option<String>,
    purpose: String,
    counterparty: Option<Counterparty>,
    status: Option<TxStatus>,
    real: Option<bool>,
    doc_number: Option<String>,
}

async fn add_transaction(State(sh): State<Sh>, b: Bytes) -> Reply<StatementTransaction> {
    let a: AddTransaction = body(&b)?;
    let date = parse_bank_date(&a.date)
        .ok_or_else(|| bad(format!("date must be dd.MM.yyyy, not {:?}", a.date)))?;
    let time = a
        .time
        .as_deref()
        .map(|t| {
            NaiveTime::parse_from_str(t, "%H:%M:%S")
                .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
                .map_err(|_| bad(format!("time must be HH:mm or HH:mm:ss, not {t:?}")))
        })
        .transpose()?;
    if !a.amount.is_positive() {
        return Err(SimError::NonPositiveAmount(a.amount).into());
    }
    let new = NewTransaction {
        direction: a.direction,
        amount: a.amount,
        date,
        time,
        purpose: a.purpose,
        counterparty: a.counterparty,
        status: a.status.unwrap_or(TxStatus::Done),
        real: a.real.unwrap_or(true),
        doc_number: a.doc_number,
    };
    let mut books = sh.books();
    let idx = match a.merchant_id.as_deref() {
        Some(id) => books.by_id(id)?,
        None => 0,
    };
    let tx = books.add_transaction(idx, new);
    Ok(Json(tx.to_statement(&books.books[idx].merchant)))
}

async fn payments(
    State(sh): State<Sh>,
    q: Result<Query<MerchantQuery>, axum::extract::rejection::QueryRejection>,
) -> Reply<Vec<PaymentView>> {
    let Query(q) = q.map_err(|e| bad(e.body_text()))?;
    let b = book_index(&sh, q.merchant_id.as_deref())?;
    let books = sh.books();
    Ok(Json(
        books.books[b].payments.iter().map(|p| p.view()).collect(),
    ))
}

#[derive(Deserialize)]
struct SetStatus {
    status: PaymentStatus,
}

async fn set_payment_status(
    State(sh): State<Sh>,
    Path(reference): Path<String>,
    b: Bytes,
) -> Reply<PaymentView> {
    let SetStatus { status } = body(&b)?;
    let now = sh.now();
    Ok(Json(
        sh.books().set_payment_status(&reference, status, now)?,
    ))
}
