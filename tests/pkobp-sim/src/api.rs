//! The Integra API under `/integra/v1/`: session (challenge, login,
//! refresh, logout), accounts, MT940 statements, transfer batches. Paths,
//! fields and codes are assumed (PKO BP publishes no protocol); the README
//! gives the reason for each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{NaiveDate, TimeDelta};
use h2h_sim_kit::faults::{Gate, Plan, gate, take_failure};
use h2h_sim_kit::tls::ClientSubject;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::crypto::{random_bytes, random_hex};
use crate::faults::{RequestLog, RequestRecord};
use crate::iban::normalise_account;
use crate::state::{Bank, Challenge, Session, Shared, lock};

type Sh = Arc<Shared>;

/// How long a challenge may be answered (assumed).
pub const CHALLENGE_SECS: i64 = 120;
/// How long a token lives, and what a refresh extends it to (the seed).
pub const TOKEN_SECS: i64 = 600;
/// The longest statement range one request may ask for (assumed).
pub const MAX_RANGE_DAYS: i64 = 93;
/// The readable start of every login challenge.
pub const CHALLENGE_PREFIX: &str = "PKOBP-INTEGRA-LOGIN";

/// `{"code": "...", "message": "..."}` with a status.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

pub(crate) fn err(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError {
        status,
        code,
        message: message.into(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "code": self.code, "message": self.message })),
        )
            .into_response()
    }
}

type Reply = Result<Response, ApiError>;

fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        err(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            format!("malformed body: {e}"),
        )
    })
}

fn b64(field: &str, s: &str) -> Result<Vec<u8>, ApiError> {
    B64.decode(s.trim()).map_err(|_| {
        err(
            StatusCode::BAD_REQUEST,
            "BAD_BASE64",
            format!("{field} is not base64"),
        )
    })
}

pub(crate) fn router(shared: Sh) -> Router {
    Router::new()
        .route("/integra/v1/session/challenge", post(challenge))
        .route("/integra/v1/session/login", post(login))
        .route("/integra/v1/session/refresh", post(refresh))
        .route("/integra/v1/session/logout", post(logout))
        .route("/integra/v1/accounts", get(accounts))
        .route("/integra/v1/statements/mt940", get(mt940))
        .route("/integra/v1/batches", post(post_batch))
        .route("/integra/v1/batches/{id}", get(get_batch))
        .fallback(|| async { err(StatusCode::NOT_FOUND, "NOT_FOUND", "no such endpoint") })
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            gate::<Shared>,
        ))
        .with_state(shared)
}

/// `h2h-sim-kit`'s gate logs every request, then applies the delay and
/// planned failures.
impl Gate for Shared {
    type Record = RequestRecord;

    fn log(&self) -> &Mutex<RequestLog> {
        &self.log
    }

    fn record(&self, req: &Request) -> RequestRecord {
        RequestRecord {
            seq: 0,
            method: req.method().to_string(),
            path: req.uri().path().to_string(),
            query: req.uri().query().map(str::to_string),
            client_subject: ClientSubject::of(req),
            context_id: req
                .headers()
                .get("x-context-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            status: None,
        }
    }

    fn plan(&self) -> Plan {
        let mut f = lock(&self.faults);
        let s = &mut f.settings;
        Plan {
            failure: take_failure(&mut s.fail_next, s.fail_status),
            delay_ms: s.delay_ms,
        }
    }

    fn failure(&self, status: StatusCode) -> Response {
        err(
            status,
            "SIMULATED_FAILURE",
            "failure injected by the simulator",
        )
        .into_response()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChallengeRequest {
    user_id: String,
    context_id: String,
    certificate: String,
}

async fn challenge(State(sh): State<Sh>, b: Bytes) -> Reply {
    let req: ChallengeRequest = body(&b)?;
    let cert = b64("certificate", &req.certificate)?;
    let mut bank = sh.bank();
    let now = bank.now();
    bank.challenges.retain(|_, c| c.expires > now);
    let user = bank.users.get(&req.user_id).ok_or_else(|| {
        err(
            StatusCode::FORBIDDEN,
            "USER_UNKNOWN",
            "no Integra user with this id",
        )
    })?;
    if user.cert_der != cert {
        return Err(err(
            StatusCode::FORBIDDEN,
            "CERTIFICATE_MISMATCH",
            "this is not the certificate registered for the user",
        ));
    }
    if !user.context_ids.contains(&req.context_id) {
        return Err(err(
            StatusCode::FORBIDDEN,
            "CONTEXT_NOT_ALLOWED",
            "the user has no rights in this ContextId",
        ));
    }
    let mechanism = user.key.mechanism();
    let mut bytes = format!("{CHALLENGE_PREFIX}:{}:{}:", req.context_id, req.user_id).into_bytes();
    bytes.extend(random_bytes(32));
    let session_id = random_hex(16);
    let challenge = B64.encode(&bytes);
    bank.challenges.insert(
        session_id.clone(),
        Challenge {
            user_id: req.user_id,
            bytes,
            expires: now + TimeDelta::seconds(CHALLENGE_SECS),
        },
    );
    Ok(Json(json!({
        "sessionId": session_id,
        "challenge": challenge,
        "mechanism": mechanism,
        "expiresIn": CHALLENGE_SECS,
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginRequest {
    session_id: String,
    signature: String,
}

async fn login(State(sh): State<Sh>, b: Bytes) -> Reply {
    let req: LoginRequest = body(&b)?;
    let signature = b64("signature", &req.signature)?;
    let mut bank = sh.bank();
    let now = bank.now();
    // Single use: whatever the outcome, the challenge is gone.
    let challenge = bank.challenges.remove(&req.session_id).ok_or_else(|| {
        err(
            StatusCode::UNAUTHORIZED,
            "UNKNOWN_CHALLENGE",
            "no open challenge with this sessionId (used, expired or never issued)",
        )
    })?;
    if challenge.expires <= now {
        return Err(err(
            StatusCode::UNAUTHORIZED,
            "CHALLENGE_EXPIRED",
            "the challenge expired",
        ));
    }
    let user = bank
        .users
        .get(&challenge.user_id)
        .ok_or_else(|| err(StatusCode::FORBIDDEN, "USER_UNKNOWN", "user removed"))?;
    if !user.key.verify(&challenge.bytes, &signature) {
        return Err(err(
            StatusCode::UNAUTHORIZED,
            "BAD_SIGNATURE",
            "the signature does not verify with the user's certificate",
        ));
    }
    let context_ids = user.context_ids.clone();
    let token = random_hex(32);
    bank.sessions.insert(
        token.clone(),
        Session {
            user_id: challenge.user_id,
            context_ids: context_ids.clone(),
            expires: now + TimeDelta::seconds(TOKEN_SECS),
        },
    );
    Ok(
        Json(json!({ "token": token, "expiresIn": TOKEN_SECS, "contextIds": context_ids }))
            .into_response(),
    )
}

fn bearer(headers: &HeaderMap) -> Result<String, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            err(
                StatusCode::UNAUTHORIZED,
                "NO_TOKEN",
                "Authorization: Bearer <token> is required",
            )
        })
}

/// The live session of a token. Expired sessions are kept so that they
/// keep answering `SESSION_EXPIRED` rather than `INVALID_TOKEN`.
fn live<'a>(bank: &'a mut Bank, token: &str) -> Result<&'a mut Session, ApiError> {
    let now = bank.now();
    let session = bank.sessions.get_mut(token).ok_or_else(|| {
        err(
            StatusCode::UNAUTHORIZED,
            "INVALID_TOKEN",
            "unknown or ended session",
        )
    })?;
    if session.expires <= now {
        return Err(err(
            StatusCode::UNAUTHORIZED,
            "SESSION_EXPIRED",
            "the token expired; log in again",
        ));
    }
    Ok(session)
}

struct Auth {
    context_id: String,
}

fn authorize(bank: &mut Bank, headers: &HeaderMap) -> Result<Auth, ApiError> {
    let token = bearer(headers)?;
    let session = live(bank, &token)?;
    let context_id = headers
        .get("x-context-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            err(
                StatusCode::BAD_REQUEST,
                "MISSING_CONTEXT_ID",
                "X-Context-Id is required",
            )
        })?;
    if !session.context_ids.iter().any(|c| c == context_id) {
        return Err(err(
            StatusCode::FORBIDDEN,
            "CONTEXT_NOT_ALLOWED",
            "the session has no rights in this ContextId",
        ));
    }
    Ok(Auth {
        context_id: context_id.to_string(),
    })
}

async fn refresh(State(sh): State<Sh>, headers: HeaderMap) -> Reply {
    let token = bearer(&headers)?;
    let mut bank = sh.bank();
    let now = bank.now();
    let session = live(&mut bank, &token)?;
    session.expires = now + TimeDelta::seconds(TOKEN_SECS);
    let user_id = session.user_id.clone();
    Ok(Json(json!({ "token": token, "expiresIn": TOKEN_SECS, "userId": user_id })).into_response())
}

async fn logout(State(sh): State<Sh>, headers: HeaderMap) -> Reply {
    let token = bearer(&headers)?;
    let mut bank = sh.bank();
    if bank.sessions.remove(&token).is_none() {
        return Err(err(
            StatusCode::UNAUTHORIZED,
            "INVALID_TOKEN",
            "unknown or ended session",
        ));
    }
    Ok(Json(json!({ "status": "LOGGED_OUT" })).into_response())
}

async fn accounts(State(sh): State<Sh>, headers: HeaderMap) -> Reply {
    let mut bank = sh.bank();
    let auth = authorize(&mut bank, &headers)?;
    let accounts: Vec<Value> = bank
        .accounts
        .iter()
        .filter(|a| a.context_id == auth.context_id)
        .map(|a| {
            json!({
                "iban": a.iban,
                "nrb": a.iban.get(2..).unwrap_or(""),
                "currency": "PLN",
                "holder": a.holder,
            })
        })
        .collect();
    Ok(Json(json!({ "accounts": accounts })).into_response())
}

fn date_param(q: &HashMap<String, String>, name: &str) -> Result<NaiveDate, ApiError> {
    let s = q.get(name).ok_or_else(|| {
        err(
            StatusCode::BAD_REQUEST,
            "MISSING_PARAMETER",
            format!("{name} is required"),
        )
    })?;
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        err(
            StatusCode::BAD_REQUEST,
            "BAD_DATE",
            format!("{name} must be YYYY-MM-DD"),
        )
    })
}

/// Text to ISO-8859-2; a character it cannot hold becomes `?`.
pub(crate) fn latin2(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut buf = [0u8; 4];
    for c in text.chars() {
        let (bytes, _, unmappable) = encoding_rs::ISO_8859_2.encode(c.encode_utf8(&mut buf));
        if unmappable {
            out.push(b'?');
        } else {
            out.extend_from_slice(&bytes);
        }
    }
    out
}

async fn mt940(
    State(sh): State<Sh>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Reply {
    let Query(q) = query.map_err(|e| err(StatusCode::BAD_REQUEST, "BAD_REQUEST", e.body_text()))?;
    let (text, truncate) = {
        let mut bank = sh.bank();
        let auth = authorize(&mut bank, &headers)?;
        let account = q.get("account").ok_or_else(|| {
            err(
                StatusCode::BAD_REQUEST,
                "MISSING_PARAMETER",
                "account is required",
            )
        })?;
        let iban = normalise_account(account).ok_or_else(|| {
            err(
                StatusCode::BAD_REQUEST,
                "BAD_ACCOUNT",
                "account must be a PL IBAN or an NRB",
            )
        })?;
        let account_no = bank
            .accounts
            .iter()
            .position(|a| a.iban == iban)
            .map_or(0, |i| i + 1);
        let account = bank
            .accounts
            .iter()
            .find(|a| a.iban == iban)
            .cloned()
            .ok_or_else(|| err(StatusCode::NOT_FOUND, "UNKNOWN_ACCOUNT", "no such account"))?;
        if account.context_id != auth.context_id {
            return Err(err(
                StatusCode::FORBIDDEN,
                "ACCOUNT_NOT_ALLOWED",
                "the account is not in this ContextId",
            ));
        }
        let from = date_param(&q, "from")?;
        let to = date_param(&q, "to")?;
        if from > to {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "BAD_DATE_RANGE",
                "from is after to",
            ));
        }
        if (to - from).num_days() >= MAX_RANGE_DAYS {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "RANGE_TOO_LONG",
                format!("at most {MAX_RANGE_DAYS} days per request"),
            ));
        }
        // Days after the business day have no statement yet.
        let to = to.min(bank.today());
        let days = if from <= to {
            bank.statement_days(&iban, from, to)
        } else {
            Vec::new()
        };
        let faults = lock(&sh.faults).settings.clone();
        let mut text = String::new();
        crate::mt940::render(
            &account,
            account_no,
            &days,
            faults.duplicate_lines,
            &mut text,
        );
        (text, faults.truncate_mt940)
    };
    let mut bytes = latin2(&text);
    if truncate {
        bytes.truncate(bytes.len() / 2);
    }
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=ISO-8859-2")],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchRequest {
    context_id: String,
    #[serde(default)]
    editable: bool,
    file_name: String,
    file: String,
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    signer_certificate: Option<String>,
}

fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
    err(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

async fn post_batch(State(sh): State<Sh>, headers: HeaderMap, b: Bytes) -> Reply {
    let req: BatchRequest = body(&b)?;
    let mut bank = sh.bank();
    let auth = authorize(&mut bank, &headers)?;
    if req.context_id != auth.context_id {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "CONTEXT_MISMATCH",
            "contextId differs from X-Context-Id",
        ));
    }
    let file = b64("file", &req.file)?;
    let init = crate::pain001::check(&file).map_err(|r| unprocessable(r.code, r.message))?;
    for t in &init.transfers {
        if !bank
            .accounts
            .iter()
            .any(|a| a.iban == t.debtor_iban && a.context_id == auth.context_id)
        {
            return Err(unprocessable(
                "UNKNOWN_DEBTOR_ACCOUNT",
                format!("{} is not an account of this ContextId", t.debtor_iban),
            ));
        }
    }
    if let Some(existing) = bank
        .batches
        .iter()
        .find(|s| s.view.context_id == auth.context_id && s.view.msg_id == init.msg_id)
    {
        if existing.file == file {
            return Ok((
                StatusCode::OK,
                Json(json!({ "batchId": existing.view.batch_id, "status": existing.view.status })),
            )
                .into_response());
        }
        return Err(err(
            StatusCode::CONFLICT,
            "DUPLICATE_MSG_ID",
            "another file with this MsgId was already sent",
        ));
    }
    let signed_by = if req.editable {
        if !bank.editable_allowed.contains(&auth.context_id) {
            return Err(unprocessable(
                "EDITABLE_NOT_ALLOWED",
                "editable batches are not enabled for this ContextId at the bank",
            ));
        }
        None
    } else {
        let (Some(sig), Some(cert)) = (&req.signature, &req.signer_certificate) else {
            return Err(unprocessable(
                "SIGNATURE_REQUIRED",
                "a non-editable batch needs signature and signerCertificate",
            ));
        };
        let sig = b64("signature", sig)?;
        let cert = b64("signerCertificate", cert)?;
        let (user_id, user) = bank
            .users
            .iter()
            .find(|(_, u)| u.cert_der == cert && u.context_ids.contains(&auth.context_id))
            .ok_or_else(|| {
                unprocessable(
                    "UNKNOWN_SIGNER",
                    "the certificate is not registered for a user of this ContextId",
                )
            })?;
        if !user.key.verify(&file, &sig) {
            return Err(unprocessable(
                "BAD_SIGNATURE",
                "the signature does not verify over the file bytes",
            ));
        }
        Some(user_id.clone())
    };
    let view = bank.store_batch(
        &auth.context_id,
        &req.file_name,
        req.editable,
        signed_by,
        file,
        init,
    );
    Ok((
        StatusCode::CREATED,
        Json(json!({ "batchId": view.batch_id, "status": view.status })),
    )
        .into_response())
}

async fn get_batch(State(sh): State<Sh>, headers: HeaderMap, Path(id): Path<String>) -> Reply {
    let mut bank = sh.bank();
    let auth = authorize(&mut bank, &headers)?;
    let batch = bank
        .batches
        .iter()
        .find(|s| s.view.batch_id == id && s.view.context_id == auth.context_id)
        .ok_or_else(|| err(StatusCode::NOT_FOUND, "UNKNOWN_BATCH", "no such batch"))?;
    Ok(Json(batch.view.clone()).into_response())
}
