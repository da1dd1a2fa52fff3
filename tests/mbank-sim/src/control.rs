//! `/__control`: the handle's switches as JSON on the same listener, for
//! tests in other processes and manual demos. No authentication beyond the
//! transport: a loopback test tool.

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
use crate::model::{
    Account, BatchView, MobileLoginView, NewTransaction, SessionView, Transaction, UserView,
};
use crate::state::{Shared, lock};
use crate::{SimError, SimHandle};

type Sh = Arc<Shared>;

impl From<SimError> for ControlError {
    fn from(e: SimError) -> Self {
        let status = match e {
            SimError::UnknownAccount(_)
            | SimError::UnknownBatch(_)
            | SimError::UnknownTransfer { .. }
            | SimError::UnknownMobileLogin(_)
            | SimError::UnknownSession => StatusCode::NOT_FOUND,
            SimError::TransferState { .. } | SimError::MobileState { .. } => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        };
        ControlError(status, e.to_string())
    }
}

type Reply<T> = Result<Json<T>, ControlError>;

fn h(sh: &Sh) -> SimHandle {
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
        .route("/__control/faults/revoke_sessions", post(revoke_sessions))
        .route("/__control/reset", post(reset))
        .route("/__control/clock", get(clock))
        .route("/__control/clock/advance", post(advance))
        .route("/__control/clock/close_day", post(close_day))
        .route("/__control/users", get(users).post(register_user))
        .route("/__control/accounts", get(accounts))
        .route("/__control/mobile", get(mobile))
        .route("/__control/mobile/{id}/{action}", post(mobile_action))
        .route("/__control/sessions", get(sessions))
        .route("/__control/sessions/revoke", post(revoke_session))
        .route("/__control/batches", get(batches))
        .route("/__control/batches/{id}", get(batch))
        .route("/__control/batches/{id}/execute", post(execute_batch))
        .route(
            "/__control/batches/{id}/transfers/{line}/{action}",
            post(transfer_action),
        )
        .route(
            "/__control/transactions",
            get(transactions).post(add_transaction),
        )
        .route("/__control/requests", get(requests).delete(clear_requests))
        .with_state(shared)
}

async fn faults(State(sh): State<Sh>) -> Json<FaultSettings> {
    Json(h(&sh).faults().settings())
}

async fn fail_next(State(sh): State<Sh>, b: Bytes) -> Reply<FaultSettings> {
    let f: FailNext = body(&b)?;
    Ok(Json(h(&sh).faults().fail_next(f.count, f.status)?))
}

async fn delay(State(sh): State<Sh>, b: Bytes) -> Reply<FaultSettings> {
    let Millis { ms } = body(&b)?;
    Ok(Json(h(&sh).faults().delay(Duration::from_millis(ms))))
}

async fn duplicate_lines(State(sh): State<Sh>, b: Bytes) -> Reply<FaultSettings> {
    let On { on } = body(&b)?;
    Ok(Json(h(&sh).faults().duplicate_lines(on)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Revoke {
    #[serde(default)]
    user_id: Option<String>,
}

async fn revoke_sessions(State(sh): State<Sh>, b: Bytes) -> Reply<Value> {
    let r: Revoke = if b.is_empty() {
        Revoke { user_id: None }
    } else {
        body(&b)?
    };
    let n = h(&sh).faults().revoke_sessions(r.user_id.as_deref());
    Ok(Json(json!({ "revoked": n })))
}

async fn reset(State(sh): State<Sh>) -> Json<FaultSettings> {
    Json(h(&sh).faults().reset())
}

fn clock_json(sh: &Sh) -> Json<Value> {
    let h = h(sh);
    Json(json!({ "now": h.now().to_rfc3339(), "today": h.today().to_string() }))
}

async fn clock(State(sh): State<Sh>) -> Json<Value> {
    clock_json(&sh)
}

async fn advance(State(sh): State<Sh>, b: Bytes) -> Reply<Value> {
    let Seconds { seconds } = body(&b)?;
    h(&sh).advance_clock(Duration::from_secs(seconds));
    Ok(clock_json(&sh))
}

async fn close_day(State(sh): State<Sh>) -> Json<Value> {
    h(&sh).close_day();
    clock_json(&sh)
}

async fn users(State(sh): State<Sh>) -> Json<Vec<UserView>> {
    Json(h(&sh).users())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegisterUser {
    user_id: String,
    certificate: String,
    diks: Vec<String>,
    #[serde(default)]
    mobile: bool,
}

async fn register_user(State(sh): State<Sh>, b: Bytes) -> Reply<UserView> {
    let r: RegisterUser = body(&b)?;
    let der = B64
        .decode(r.certificate.trim())
        .map_err(|_| bad("certificate is not base64"))?;
    let diks: Vec<&str> = r.diks.iter().map(String::as_str).collect();
    Ok(Json(
        h(&sh).register_user(&r.user_id, &der, &diks, r.mobile)?,
    ))
}

async fn accounts(State(sh): State<Sh>) -> Json<Vec<Account>> {
    Json(h(&sh).accounts())
}

async fn mobile(State(sh): State<Sh>) -> Json<Vec<MobileLoginView>> {
    Json(h(&sh).mobile_logins())
}

async fn mobile_action(
    State(sh): State<Sh>,
    Path((id, action)): Path<(String, String)>,
) -> Reply<MobileLoginView> {
    let h = h(&sh);
    let v = match action.as_str() {
        "approve" => h.approve_mobile(&id)?,
        "reject" => h.reject_mobile(&id)?,
        "expire" => h.expire_mobile(&id)?,
        _ => {
            return Err(ControlError(
                StatusCode::NOT_FOUND,
                "approve, reject or expire".into(),
            ));
        }
    };
    Ok(Json(v))
}

async fn sessions(State(sh): State<Sh>) -> Json<Vec<SessionView>> {
    Json(h(&sh).sessions())
}

#[derive(Deserialize)]
struct Token {
    token: String,
}

async fn revoke_session(State(sh): State<Sh>, b: Bytes) -> Reply<SessionView> {
    let Token { token } = body(&b)?;
    Ok(Json(h(&sh).revoke_session(&token)?))
}

async fn batches(State(sh): State<Sh>) -> Json<Vec<BatchView>> {
    Json(h(&sh).batches())
}

async fn batch(State(sh): State<Sh>, Path(id): Path<String>) -> Reply<BatchView> {
    h(&sh)
        .batch(&id)
        .map(Json)
        .ok_or_else(|| SimError::UnknownBatch(id).into())
}

async fn execute_batch(State(sh): State<Sh>, Path(id): Path<String>) -> Reply<BatchView> {
    Ok(Json(h(&sh).execute_batch(&id)?))
}

#[derive(Deserialize, Default)]
struct Reason {
    #[serde(default)]
    reason: Option<String>,
}

async fn transfer_action(
    State(sh): State<Sh>,
    Path((id, line, action)): Path<(String, usize, String)>,
    b: Bytes,
) -> Reply<BatchView> {
    let h = h(&sh);
    let v = match action.as_str() {
        "execute" => h.execute_transfer(&id, line)?,
        "reject" => {
            let r: Reason = if b.is_empty() {
                Reason::default()
            } else {
                body(&b)?
            };
            let reason = r.reason.unwrap_or_else(|| "ODRZUCONE PRZEZ BANK".into());
            h.reject_transfer(&id, line, &reason)?
        }
        _ => {
            return Err(ControlError(
                StatusCode::NOT_FOUND,
                "execute or reject".into(),
            ));
        }
    };
    Ok(Json(v))
}

async fn transactions(
    State(sh): State<Sh>,
    Query(q): Query<HashMap<String, String>>,
) -> Reply<Vec<Transaction>> {
    let account = q.get("account").ok_or_else(|| bad("account is required"))?;
    let iban = crate::iban::normalise_account(account).ok_or_else(|| bad("bad account"))?;
    Ok(Json(h(&sh).transactions(&iban)))
}

async fn add_transaction(State(sh): State<Sh>, b: Bytes) -> Reply<Transaction> {
    let tx: NewTransaction = body(&b)?;
    Ok(Json(h(&sh).add_transaction(tx)?))
}

async fn requests(State(sh): State<Sh>) -> Json<Vec<RequestRecord>> {
    Json(lock(&sh.log).records().to_vec())
}

async fn clear_requests(State(sh): State<Sh>) -> StatusCode {
    lock(&sh.log).clear();
    StatusCode::NO_CONTENT
}
