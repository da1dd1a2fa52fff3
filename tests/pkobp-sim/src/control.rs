//! The control API under `/__control`: the same switches as
//! [`crate::SimHandle`], as JSON over the same mTLS listener, for tests in
//! other processes and the README's demo. No further authentication: the
//! simulator is a loopback test tool.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use h2h_sim_kit::control::{ControlError, FailNext, Millis, On, Seconds, bad, body};
use h2h_sim_kit::server::ServerControl;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::faults::{FaultSettings, RequestRecord};
use crate::model::{BatchView, NewTransaction, Transaction};
use crate::state::{Shared, lock};
use crate::{SimError, SimHandle};

type Sh = Arc<Shared>;

impl From<SimError> for ControlError {
    fn from(e: SimError) -> Self {
        let status = match e {
            SimError::UnknownAccount(_)
            | SimError::UnknownBatch(_)
            | SimError::UnknownTransfer(_) => StatusCode::NOT_FOUND,
            SimError::BatchState { .. } | SimError::TransferState { .. } => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        };
        ControlError(status, e.to_string())
    }
}

type Reply<T> = Result<Json<T>, ControlError>;

fn handle(sh: &Sh) -> SimHandle {
    SimHandle {
        shared: sh.clone(),
        server: ServerControl::idle(),
    }
}

pub(crate) fn router(shared: Sh) -> Router {
    Router::new()
        .route("/__control/faults", get(faults))
        .route("/__control/faults/fail_next", post(fail_next))
        .route("/__control/faults/delay", post(delay))
        .route("/__control/faults/duplicate_lines", post(duplicate_lines))
        .route("/__control/faults/truncate_mt940", post(truncate_mt940))
        .route("/__control/faults/drop_sessions", post(drop_sessions))
        .route("/__control/reset", post(reset))
        .route("/__control/clock", get(clock))
        .route("/__control/clock/advance", post(advance_clock))
        .route("/__control/users", get(users).post(register_user))
        .route("/__control/editable", post(editable))
        .route("/__control/batches", get(batches))
        .route("/__control/batches/{id}/execute", post(execute))
        .route("/__control/batches/{id}/sign", post(sign))
        .route("/__control/batches/{id}/reject", post(reject))
        .route(
            "/__control/transactions",
            get(transactions).post(add_transaction),
        )
        .route("/__control/requests", get(requests).delete(clear_requests))
        .with_state(shared)
}

async fn faults(State(sh): State<Sh>) -> Json<FaultSettings> {
    Json(handle(&sh).faults().settings())
}

async fn fail_next(State(sh): State<Sh>, b: Bytes) -> Reply<FaultSettings> {
    let FailNext { count, status } = body(&b)?;
    Ok(Json(handle(&sh).faults().fail_next(count, status)?))
}

async fn delay(State(sh): State<Sh>, b: Bytes) -> Reply<FaultSettings> {
    let Millis { ms } = body(&b)?;
    Ok(Json(handle(&sh).faults().delay(Duration::from_millis(ms))))
}

async fn duplicate_lines(State(sh): State<Sh>, b: Bytes) -> Reply<FaultSettings> {
    let On { on } = body(&b)?;
    Ok(Json(handle(&sh).faults().duplicate_lines(on)))
}

async fn truncate_mt940(State(sh): State<Sh>, b: Bytes) -> Reply<FaultSettings> {
    let On { on } = body(&b)?;
    Ok(Json(handle(&sh).faults().truncate_mt940(on)))
}

async fn drop_sessions(State(sh): State<Sh>) -> Json<Value> {
    Json(json!({ "dropped": handle(&sh).faults().drop_sessions() }))
}

async fn reset(State(sh): State<Sh>) -> Json<FaultSettings> {
    Json(handle(&sh).faults().reset())
}

async fn clock(State(sh): State<Sh>) -> Json<Value> {
    let h = handle(&sh);
    Json(json!({ "now": h.now().to_rfc3339(), "today": h.today().to_string() }))
}

async fn advance_clock(State(sh): State<Sh>, b: Bytes) -> Reply<Value> {
    let Seconds { seconds } = body(&b)?;
    let h = handle(&sh);
    h.advance_clock(Duration::from_secs(seconds));
    Ok(Json(
        json!({ "now": h.now().to_rfc3339(), "today": h.today().to_string() }),
    ))
}

async fn users(State(sh): State<Sh>) -> Json<Value> {
    let users: Vec<Value> = handle(&sh)
        .users()
        .into_iter()
        .map(|(id, subject, ctx)| json!({ "userId": id, "subject": subject, "contextIds": ctx }))
        .collect();
    Json(json!({ "users": users }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegisterUser {
    user_id: String,
    certificate: String,
    context_ids: Vec<String>,
}

async fn register_user(State(sh): State<Sh>, b: Bytes) -> Reply<Value> {
    let r: RegisterUser = body(&b)?;
    let der = B64
        .decode(r.certificate.trim())
        .map_err(|_| bad("certificate is not base64"))?;
    let ctx: Vec<&str> = r.context_ids.iter().map(String::as_str).collect();
    handle(&sh).register_user(&r.user_id, &der, &ctx)?;
    Ok(Json(
        json!({ "userId": r.user_id, "contextIds": r.context_ids }),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Editable {
    context_id: String,
    allowed: bool,
}

async fn editable(State(sh): State<Sh>, b: Bytes) -> Reply<Value> {
    let e: Editable = body(&b)?;
    handle(&sh).set_editable_allowed(&e.context_id, e.allowed);
    Ok(Json(
        json!({ "contextId": e.context_id, "allowed": e.allowed }),
    ))
}

async fn batches(State(sh): State<Sh>) -> Json<Vec<BatchView>> {
    Json(handle(&sh).batches())
}

async fn execute(State(sh): State<Sh>, Path(id): Path<String>) -> Reply<BatchView> {
    Ok(Json(handle(&sh).execute_batch(&id)?))
}

async fn sign(State(sh): State<Sh>, Path(id): Path<String>) -> Reply<BatchView> {
    Ok(Json(handle(&sh).sign_batch(&id)?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reject {
    end_to_end_id: String,
    reason: String,
}

async fn reject(State(sh): State<Sh>, Path(id): Path<String>, b: Bytes) -> Reply<BatchView> {
    let r: Reject = body(&b)?;
    Ok(Json(handle(&sh).reject_transaction(
        &id,
        &r.end_to_end_id,
        &r.reason,
    )?))
}

async fn transactions(
    State(sh): State<Sh>,
    Query(q): Query<HashMap<String, String>>,
) -> Reply<Vec<Transaction>> {
    let account = q.get("account").ok_or_else(|| bad("account is required"))?;
    let iban = crate::iban::normalise_account(account).ok_or_else(|| bad("bad account"))?;
    Ok(Json(handle(&sh).transactions(&iban)))
}

async fn add_transaction(State(sh): State<Sh>, b: Bytes) -> Reply<Transaction> {
    let tx: NewTransaction = body(&b)?;
    Ok(Json(handle(&sh).add_transaction(tx)?))
}

async fn requests(State(sh): State<Sh>) -> Json<Vec<RequestRecord>> {
    Json(lock(&sh.log).records().to_vec())
}

async fn clear_requests(State(sh): State<Sh>) -> StatusCode {
    lock(&sh.log).clear();
    StatusCode::NO_CONTENT
}
