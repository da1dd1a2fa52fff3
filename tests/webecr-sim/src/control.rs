//! The control API under `/__control`: the handle's switches as JSON on
//! the same listener, for tests in other processes and demos. No
//! authentication: the simulator is a loopback test tool.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use h2h_sim_kit::control::{ControlError, Count, FailNext, Millis, Seconds, body};
use h2h_sim_kit::server::ServerControl;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::model::{IntentResult, Outcome, TerminalSpec};
use crate::state::Shared;
use crate::{SimError, SimHandle};

type Sh = Arc<Shared>;

impl From<SimError> for ControlError {
    fn from(e: SimError) -> Self {
        let status = match e {
            SimError::UnknownAccount(_) | SimError::UnknownTerminal(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        };
        ControlError(status, e.to_string())
    }
}

type Reply = Result<Json<Value>, ControlError>;

fn h(sh: &Sh) -> SimHandle {
    SimHandle {
        shared: sh.clone(),
        server: ServerControl::idle(),
    }
}

fn val<T: serde::Serialize>(v: T) -> Reply {
    Ok(Json(serde_json::to_value(v).unwrap_or(Value::Null)))
}

pub(crate) fn router(shared: Sh) -> Router {
    Router::new()
        .route("/__control/faults", get(faults))
        .route("/__control/faults/fail_next", post(fail_next))
        .route("/__control/faults/delay", post(delay))
        .route("/__control/faults/drop_next", post(drop_next))
        .route("/__control/faults/expire_jwts", post(expire_jwts))
        .route("/__control/reset", post(reset))
        .route("/__control/clock", get(clock))
        .route("/__control/clock/advance", post(advance))
        .route("/__control/accounts", post(account))
        .route("/__control/pairing_codes", post(pairing_code))
        .route("/__control/terminals", get(terminals))
        .route("/__control/providers", post(provider))
        .route("/__control/outcomes", post(outcome))
        .route("/__control/intents", get(intents))
        .route("/__control/charges", get(charges))
        .route("/__control/requests", get(requests).delete(clear_requests))
        .with_state(shared)
}

async fn faults(State(sh): State<Sh>) -> Reply {
    val(h(&sh).faults().settings())
}

async fn fail_next(State(sh): State<Sh>, b: Bytes) -> Reply {
    let f: FailNext = body(&b)?;
    val(h(&sh).faults().fail_next(f.count, f.status)?)
}

async fn delay(State(sh): State<Sh>, b: Bytes) -> Reply {
    let Millis { ms } = body(&b)?;
    val(h(&sh).faults().delay(Duration::from_millis(ms)))
}

async fn drop_next(State(sh): State<Sh>, b: Bytes) -> Reply {
    let Count { count } = body(&b)?;
    val(h(&sh).faults().drop_next(count))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Expire {
    #[serde(default)]
    refresh_too: bool,
}

async fn expire_jwts(State(sh): State<Sh>, b: Bytes) -> Reply {
    let e: Expire = if b.is_empty() {
        Expire::default()
    } else {
        body(&b)?
    };
    h(&sh).faults().expire_jwts(e.refresh_too);
    val(json!({ "expired": true, "refreshToo": e.refresh_too }))
}

async fn reset(State(sh): State<Sh>) -> Reply {
    val(h(&sh).faults().reset())
}

async fn clock(State(sh): State<Sh>) -> Reply {
    val(json!({ "now": h(&sh).now().to_rfc3339() }))
}

async fn advance(State(sh): State<Sh>, b: Bytes) -> Reply {
    let Seconds { seconds } = body(&b)?;
    let hd = h(&sh);
    hd.advance_clock(Duration::from_secs(seconds));
    val(json!({ "now": hd.now().to_rfc3339() }))
}

#[derive(Deserialize)]
struct Account {
    username: String,
    password: String,
}

async fn account(State(sh): State<Sh>, b: Bytes) -> Reply {
    let a: Account = body(&b)?;
    h(&sh).add_account(&a.username, &a.password);
    val(json!({ "username": a.username }))
}

#[derive(Deserialize)]
struct PairingRequest {
    username: String,
    #[serde(flatten)]
    terminal: TerminalSpec,
}

async fn pairing_code(State(sh): State<Sh>, b: Bytes) -> Reply {
    let p: PairingRequest = body(&b)?;
    val(h(&sh).issue_pairing_code(&p.username, p.terminal)?)
}

async fn terminals(State(sh): State<Sh>) -> Reply {
    val(h(&sh).terminals())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Provider {
    name: String,
    public_key: String,
}

async fn provider(State(sh): State<Sh>, b: Bytes) -> Reply {
    let p: Provider = body(&b)?;
    h(&sh).register_provider_pem(&p.name, &p.public_key)?;
    val(json!({ "name": p.name }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OutcomeRequest {
    amount: i64,
    result: u8,
    #[serde(default)]
    after_seconds: u64,
    #[serde(default)]
    drop_connection: bool,
}

async fn outcome(State(sh): State<Sh>, b: Bytes) -> Reply {
    let o: OutcomeRequest = body(&b)?;
    let result = IntentResult::from_code(o.result)
        .ok_or_else(|| ControlError(StatusCode::BAD_REQUEST, "result must be 1..=7".into()))?;
    h(&sh).set_outcome(
        o.amount,
        Outcome {
            result,
            after: Duration::from_secs(o.after_seconds),
            drop_connection: o.drop_connection,
        },
    )?;
    val(json!({ "amount": o.amount, "result": o.result }))
}

async fn intents(State(sh): State<Sh>) -> Reply {
    val(h(&sh).intents())
}

async fn charges(State(sh): State<Sh>) -> Reply {
    val(h(&sh).charges())
}

async fn requests(State(sh): State<Sh>) -> Reply {
    val(h(&sh).requests())
}

async fn clear_requests(State(sh): State<Sh>) -> StatusCode {
    h(&sh).clear_requests();
    StatusCode::NO_CONTENT
}
