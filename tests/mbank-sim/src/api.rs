//! The web service under `/companynet/ws/v1/`: sessions (signature
//! challenge, mobile-token login, keep-alive, logout), accounts, MT940 and
//! MT942 statements, Elixir-O batches. mBank publishes no protocol: every
//! path, field and code here is assumed; the README gives the reasons.

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
use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use h2h_sim_kit::faults::{Gate, Plan, gate, take_failure};
use h2h_sim_kit::tls::ClientSubject;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::Digest;

use crate::crypto::{random_bytes, random_hex};
use crate::faults::{RequestLog, RequestRecord};
use crate::iban::normalise_account;
use crate::model::{
    BatchView, MobileLoginView, MobileStatus, SessionKind, SessionState, TransferStatus,
};
use crate::state::{
    Bank, CHALLENGE_SECS, Challenge, MAX_SESSION_DAYS, MOBILE_CONFIRM_SECS, MOBILE_IDLE_SECS,
    MobileLogin, Session, Shared, lock,
};

type Sh = Arc<Shared>;

/// Where the API lives.
pub const API_BASE: &str = "/companynet/ws/v1";
/// The readable start of every login challenge.
pub const CHALLENGE_PREFIX: &str = "MBANK-COMPANYNET-SESSION";
/// The longest statement range one request may ask for (assumed).
pub const MAX_RANGE_DAYS: i64 = 93;
/// The header naming the DIK a request acts for.
pub const DIK_HEADER: &str = "X-DIK";

/// `{"code", "message"}` (plus `errors` for refused files) with a status.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    errors: Option<Value>,
}

pub(crate) fn err(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError {
        status,
        code,
        message: message.into(),
        errors: None,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "code": self.code, "message": self.message });
        if let Some(e) = self.errors {
            body["errors"] = e;
        }
        (self.status, Json(body)).into_response()
    }
}

type Reply = Result<Response, ApiError>;

fn body<T: DeserializeOwned>(b: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(b).map_err(|e| {
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

fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
    err(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// Text to ISO-8859-2; what it cannot hold becomes `?`.
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

pub(crate) fn router(shared: Sh) -> Router {
    let r = |p: &str| format!("{API_BASE}{p}");
    Router::new()
        .route(&r("/session/challenge"), post(challenge))
        .route(&r("/session/login"), post(login))
        .route(&r("/session/mobile"), post(mobile_start))
        .route(&r("/session/mobile/{id}"), get(mobile_status))
        .route(&r("/session/keepalive"), post(keepalive))
        .route(&r("/session/logout"), post(logout))
        .route(&r("/accounts"), get(accounts))
        .route(&r("/statements/mt940"), get(mt940))
        .route(&r("/statements/mt942"), get(mt942))
        .route(&r("/batches"), post(post_batch).get(list_batches))
        .route(&r("/batches/{id}"), get(get_batch))
        .fallback(|| async { err(StatusCode::NOT_FOUND, "NOT_FOUND", "no such endpoint") })
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            gate::<Shared>,
        ))
        .with_state(shared)
}

/// `h2h-sim-kit`'s gate logs the request, then applies the delay and
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
            dik: req
                .headers()
                .get(DIK_HEADER)
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

/// `YYYY-MM-DD` (the end of that day, 23:59:59 UTC) or RFC 3339; after
/// now; capped at now + [`MAX_SESSION_DAYS`].
fn valid_until(s: Option<&str>, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    let cap = now + TimeDelta::days(MAX_SESSION_DAYS);
    let Some(s) = s else { return Ok(cap) };
    let bad = || {
        err(
            StatusCode::BAD_REQUEST,
            "BAD_VALID_UNTIL",
            "validUntil must be YYYY-MM-DD or RFC 3339, in the future",
        )
    };
    let at = match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => d
            .and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default())
            .and_utc(),
        Err(_) => DateTime::parse_from_rfc3339(s)
            .map_err(|_| bad())?
            .with_timezone(&Utc),
    };
    if at <= now {
        return Err(bad());
    }
    // Whole seconds: the value is signed as text.
    let at = at.min(cap);
    Ok(DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The user and the DIKs asked for: every one must be the user's.
fn check_diks(bank: &Bank, user_id: &str, diks: &[String]) -> Result<Vec<String>, ApiError> {
    let user = bank
        .users
        .get(user_id)
        .ok_or_else(|| err(StatusCode::FORBIDDEN, "USER_UNKNOWN", "no such user"))?;
    if diks.is_empty() {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "NO_DIK",
            "diks must name at least one DIK",
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for d in diks {
        if !user.diks.contains(d) {
            return Err(err(
                StatusCode::FORBIDDEN,
                "DIK_NOT_ALLOWED",
                format!("the user may not act for DIK {d}"),
            ));
        }
        if !out.contains(d) {
            out.push(d.clone());
        }
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChallengeRequest {
    user_id: String,
    diks: Vec<String>,
    valid_until: String,
    certificate: String,
}

async fn challenge(State(sh): State<Sh>, b: Bytes) -> Reply {
    let req: ChallengeRequest = body(&b)?;
    let cert = b64("certificate", &req.certificate)?;
    let mut bank = sh.bank();
    let now = bank.now();
    bank.challenges.retain(|_, c| c.expires > now);
    let diks = check_diks(&bank, &req.user_id, &req.diks)?;
    let user = bank
        .users
        .get(&req.user_id)
        .ok_or_else(|| err(StatusCode::FORBIDDEN, "USER_UNKNOWN", "no such user"))?;
    if user.cert_der != cert {
        return Err(err(
            StatusCode::FORBIDDEN,
            "CERTIFICATE_MISMATCH",
            "not the certificate registered for this user",
        ));
    }
    let mechanism = user.key.mechanism();
    let until = valid_until(Some(&req.valid_until), now)?;
    let mut bytes = format!(
        "{CHALLENGE_PREFIX}:{}:{}:{}:",
        req.user_id,
        diks.join(","),
        rfc3339(until)
    )
    .into_bytes();
    bytes.extend(random_bytes(32));
    let id = random_hex(16);
    let encoded = B64.encode(&bytes);
    bank.challenges.insert(
        id.clone(),
        Challenge {
            user_id: req.user_id,
            diks: diks.clone(),
            valid_until: until,
            bytes,
            expires: now + TimeDelta::seconds(CHALLENGE_SECS),
        },
    );
    Ok(Json(json!({
        "challengeId": id,
        "challenge": encoded,
        "mechanism": mechanism,
        "expiresIn": CHALLENGE_SECS,
        "diks": diks,
        "validUntil": rfc3339(until),
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginRequest {
    challenge_id: String,
    signature: String,
}

fn session_json(token: &str, s: &Session) -> Value {
    let mut v = json!({
        "token": token,
        "kind": s.kind,
        "userId": s.user_id,
        "diks": s.diks,
        "validUntil": rfc3339(s.valid_until),
    });
    if s.kind == SessionKind::Mobile {
        v["idleTimeout"] = json!(MOBILE_IDLE_SECS);
    }
    v
}

async fn login(State(sh): State<Sh>, b: Bytes) -> Reply {
    let req: LoginRequest = body(&b)?;
    let signature = b64("signature", &req.signature)?;
    let mut bank = sh.bank();
    let now = bank.now();
    // Single use, whatever the outcome.
    let c = bank.challenges.remove(&req.challenge_id).ok_or_else(|| {
        err(
            StatusCode::UNAUTHORIZED,
            "UNKNOWN_CHALLENGE",
            "no open challenge with this id (used, expired or never issued)",
        )
    })?;
    if c.expires <= now {
        return Err(err(
            StatusCode::UNAUTHORIZED,
            "CHALLENGE_EXPIRED",
            "the challenge expired",
        ));
    }
    let user = bank
        .users
        .get(&c.user_id)
        .ok_or_else(|| err(StatusCode::FORBIDDEN, "USER_UNKNOWN", "user removed"))?;
    if !user.key.verify(&c.bytes, &signature) {
        return Err(err(
            StatusCode::UNAUTHORIZED,
            "BAD_SIGNATURE",
            "the signature does not verify with the user's certificate",
        ));
    }
    let token = random_hex(32);
    let session = Session {
        user_id: c.user_id,
        kind: SessionKind::Signature,
        diks: c.diks,
        valid_until: c.valid_until,
        last_activity: now,
        revoked: false,
    };
    let answer = session_json(&token, &session);
    bank.sessions.insert(token, session);
    Ok(Json(answer).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MobileRequest {
    user_id: String,
    diks: Vec<String>,
    #[serde(default)]
    valid_until: Option<String>,
}

async fn mobile_start(State(sh): State<Sh>, b: Bytes) -> Reply {
    let req: MobileRequest = body(&b)?;
    let mut bank = sh.bank();
    let now = bank.now();
    let diks = check_diks(&bank, &req.user_id, &req.diks)?;
    if !bank.users.get(&req.user_id).is_some_and(|u| u.mobile) {
        return Err(err(
            StatusCode::FORBIDDEN,
            "MOBILE_NOT_ENABLED",
            "the user has no mobile app (token) enabled",
        ));
    }
    let until = valid_until(req.valid_until.as_deref(), now)?;
    let id = random_hex(16);
    let view = MobileLoginView {
        login_id: id.clone(),
        user_id: req.user_id,
        diks,
        status: MobileStatus::Pending,
        created_at: now,
        expires_at: now + TimeDelta::seconds(MOBILE_CONFIRM_SECS),
        token: None,
    };
    bank.mobile.insert(
        id.clone(),
        MobileLogin {
            view,
            valid_until: until,
        },
    );
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "loginId": id, "status": MobileStatus::Pending, "expiresIn": MOBILE_CONFIRM_SECS })),
    )
        .into_response())
}

async fn mobile_status(State(sh): State<Sh>, Path(id): Path<String>) -> Reply {
    let mut bank = sh.bank();
    bank.tick_mobile();
    let m = bank.mobile.get(&id).ok_or_else(|| {
        err(
            StatusCode::NOT_FOUND,
            "UNKNOWN_LOGIN",
            "no such mobile login",
        )
    })?;
    let mut v =
        json!({ "loginId": id, "status": m.view.status, "expiresAt": rfc3339(m.view.expires_at) });
    if let Some(token) = &m.view.token
        && let Some(s) = bank.sessions.get(token)
    {
        let s = session_json(token, s);
        if let (Some(obj), Some(more)) = (v.as_object_mut(), s.as_object()) {
            obj.extend(more.clone());
        }
    }
    Ok(Json(v).into_response())
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

/// The token's session, if usable; a request on it counts as activity.
fn live<'a>(bank: &'a mut Bank, token: &str) -> Result<&'a mut Session, ApiError> {
    let now = bank.now();
    let s = bank.sessions.get_mut(token).ok_or_else(|| {
        err(
            StatusCode::UNAUTHORIZED,
            "INVALID_TOKEN",
            "unknown or logged-out session",
        )
    })?;
    let unauthorized = |code, message| Err(err(StatusCode::UNAUTHORIZED, code, message));
    match s.state(now) {
        SessionState::Active => {}
        SessionState::Expired => {
            return unauthorized("SESSION_EXPIRED", "the session is past its validUntil");
        }
        SessionState::IdleTimeout => {
            return unauthorized(
                "SESSION_IDLE_TIMEOUT",
                "the mobile session was idle too long; log in again",
            );
        }
        SessionState::Revoked => {
            return unauthorized("SESSION_REVOKED", "the bank ended this session");
        }
    }
    s.last_activity = now;
    Ok(s)
}

/// Token, then the `X-DIK` header within the session's DIKs.
fn authorize(bank: &mut Bank, headers: &HeaderMap) -> Result<String, ApiError> {
    let token = bearer(headers)?;
    let session = live(bank, &token)?;
    let dik = headers
        .get(DIK_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            err(
                StatusCode::BAD_REQUEST,
                "MISSING_DIK",
                "the X-DIK header is required",
            )
        })?;
    if !session.diks.iter().any(|d| d == dik) {
        return Err(err(
            StatusCode::FORBIDDEN,
            "DIK_NOT_IN_SESSION",
            format!("DIK {dik} is not one of this session's DIKs"),
        ));
    }
    Ok(dik.to_string())
}

async fn keepalive(State(sh): State<Sh>, headers: HeaderMap) -> Reply {
    let token = bearer(&headers)?;
    let mut bank = sh.bank();
    let s = live(&mut bank, &token)?;
    Ok(Json(session_json(&token, s)).into_response())
}

async fn logout(State(sh): State<Sh>, headers: HeaderMap) -> Reply {
    let token = bearer(&headers)?;
    let mut bank = sh.bank();
    if bank.sessions.remove(&token).is_none() {
        return Err(err(
            StatusCode::UNAUTHORIZED,
            "INVALID_TOKEN",
            "unknown or logged-out session",
        ));
    }
    Ok(Json(json!({ "status": "LOGGED_OUT" })).into_response())
}

async fn accounts(State(sh): State<Sh>, headers: HeaderMap) -> Reply {
    let mut bank = sh.bank();
    let dik = authorize(&mut bank, &headers)?;
    let accounts: Vec<Value> = bank
        .accounts
        .iter()
        .filter(|a| a.dik == dik)
        .map(|a| {
            json!({
                "iban": a.iban,
                "nrb": a.iban.get(2..).unwrap_or(""),
                "currency": "PLN",
                "holder": a.holder,
            })
        })
        .collect();
    Ok(Json(json!({ "dik": dik, "accounts": accounts })).into_response())
}

type Q = Result<Query<HashMap<String, String>>, QueryRejection>;

fn param<'a>(q: &'a HashMap<String, String>, name: &str) -> Result<&'a str, ApiError> {
    q.get(name).map(String::as_str).ok_or_else(|| {
        err(
            StatusCode::BAD_REQUEST,
            "MISSING_PARAMETER",
            format!("{name} is required"),
        )
    })
}

fn date_param(q: &HashMap<String, String>, name: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(param(q, name)?, "%Y-%m-%d").map_err(|_| {
        err(
            StatusCode::BAD_REQUEST,
            "BAD_DATE",
            format!("{name} must be YYYY-MM-DD"),
        )
    })
}

/// The account asked for, checked against the DIK; and its place at the
/// bank (from 1).
fn account_param(
    bank: &Bank,
    q: &HashMap<String, String>,
    dik: &str,
) -> Result<(crate::model::Account, usize), ApiError> {
    let iban = normalise_account(param(q, "account")?).ok_or_else(|| {
        err(
            StatusCode::BAD_REQUEST,
            "BAD_ACCOUNT",
            "account must be a PL IBAN or an NRB",
        )
    })?;
    let (no, account) = bank
        .accounts
        .iter()
        .enumerate()
        .find(|(_, a)| a.iban == iban)
        .ok_or_else(|| err(StatusCode::NOT_FOUND, "UNKNOWN_ACCOUNT", "no such account"))?;
    if account.dik != dik {
        return Err(err(
            StatusCode::FORBIDDEN,
            "ACCOUNT_NOT_IN_DIK",
            "the account does not belong to this DIK",
        ));
    }
    Ok((account.clone(), no + 1))
}

fn statement(text: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=ISO-8859-2")],
        latin2(text),
    )
        .into_response()
}

fn query(q: Q) -> Result<HashMap<String, String>, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| err(StatusCode::BAD_REQUEST, "BAD_REQUEST", e.body_text()))
}

async fn mt940(State(sh): State<Sh>, headers: HeaderMap, q: Q) -> Reply {
    let q = query(q)?;
    let duplicate = lock(&sh.faults).settings.duplicate_lines;
    let mut bank = sh.bank();
    let dik = authorize(&mut bank, &headers)?;
    let (account, no) = account_param(&bank, &q, &dik)?;
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
    // Only closed days have an end-of-day statement.
    let last_closed = bank.today().pred_opt().unwrap_or(to);
    let to = to.min(last_closed);
    let days = if from <= to {
        bank.statement_days(&account.iban, from, to)
    } else {
        Vec::new()
    };
    Ok(statement(&crate::mt940::render_mt940(
        &account, no, &days, duplicate,
    )))
}

async fn mt942(State(sh): State<Sh>, headers: HeaderMap, q: Q) -> Reply {
    let q = query(q)?;
    let duplicate = lock(&sh.faults).settings.duplicate_lines;
    let mut bank = sh.bank();
    let dik = authorize(&mut bank, &headers)?;
    let (account, no) = account_param(&bank, &q, &dik)?;
    let lines = bank.intraday(&account.iban);
    Ok(statement(&crate::mt940::render_mt942(
        &account,
        no,
        bank.today(),
        bank.now(),
        &lines,
        duplicate,
    )))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchRequest {
    #[serde(default)]
    dik: Option<String>,
    file_name: String,
    file: String,
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    signer_certificate: Option<String>,
    #[serde(default)]
    all_or_nothing: bool,
}

fn errors_of(view: &BatchView) -> Vec<Value> {
    view.transfers
        .iter()
        .filter(|t| t.status == TransferStatus::Rejected)
        .map(|t| {
            let mut e = json!({ "line": t.line, "code": t.code, "message": t.reason });
            if let Some(f) = t.field {
                e["field"] = json!(f);
            }
            e
        })
        .collect()
}

fn summary(view: &BatchView) -> Value {
    let rejected = view
        .transfers
        .iter()
        .filter(|t| t.status == TransferStatus::Rejected)
        .count();
    json!({
        "batchId": view.batch_id,
        "status": view.status,
        "accepted": view.transfers.len() - rejected,
        "rejected": rejected,
        "errors": errors_of(view),
    })
}

async fn post_batch(State(sh): State<Sh>, headers: HeaderMap, b: Bytes) -> Reply {
    let req: BatchRequest = body(&b)?;
    let mut bank = sh.bank();
    let dik = authorize(&mut bank, &headers)?;
    if req.dik.as_ref().is_some_and(|d| *d != dik) {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "DIK_MISMATCH",
            "dik differs from X-DIK",
        ));
    }
    let file = b64("file", &req.file)?;
    if file.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(unprocessable("EMPTY_FILE", "the file has no lines"));
    }
    let (Some(sig), Some(cert)) = (&req.signature, &req.signer_certificate) else {
        return Err(unprocessable(
            "SIGNATURE_REQUIRED",
            "signature and signerCertificate are required",
        ));
    };
    let sig = b64("signature", sig)?;
    let cert = b64("signerCertificate", cert)?;
    let (signer, user) = bank
        .users
        .iter()
        .find(|(_, u)| u.cert_der == cert && u.diks.contains(&dik))
        .ok_or_else(|| {
            unprocessable(
                "UNKNOWN_SIGNER",
                "the certificate is not registered for a user of this DIK",
            )
        })?;
    if !user.key.verify(&file, &sig) {
        return Err(unprocessable(
            "BAD_SIGNATURE",
            "the signature does not verify over the file bytes",
        ));
    }
    let signer = signer.clone();
    let digest = sha2::Sha256::digest(&file).to_vec();
    if let Some(same) = bank
        .batches
        .iter()
        .find(|s| s.view.dik == dik && s.digest == digest)
    {
        return Ok((StatusCode::OK, Json(summary(&same.view))).into_response());
    }
    let mut outcomes = crate::elixir::check(&file);
    for o in &mut outcomes {
        if let Ok(t) = o {
            let iban = format!("PL{}", t.sender_nrb);
            if !bank.accounts.iter().any(|a| a.iban == iban && a.dik == dik) {
                *o = Err(crate::elixir::LineError {
                    line: t.line,
                    field: Some(6),
                    code: "UNKNOWN_SENDER_ACCOUNT".into(),
                    message: format!("{} is not an account of DIK {dik}", t.sender_nrb),
                });
            }
        }
    }
    let errors: Vec<Value> = outcomes
        .iter()
        .filter_map(|o| o.as_ref().err())
        .filter_map(|e| serde_json::to_value(e).ok())
        .collect();
    if errors.len() == outcomes.len() || (req.all_or_nothing && !errors.is_empty()) {
        let (code, message) = if errors.len() == outcomes.len() {
            ("NO_VALID_LINES", "no line of the file is a valid transfer")
        } else {
            ("MALFORMED_LINES", "allOrNothing: some lines are malformed")
        };
        let mut e = unprocessable(code, message);
        e.errors = Some(Value::Array(errors));
        return Err(e);
    }
    let view = bank.store_batch(&dik, &req.file_name, &signer, digest, outcomes);
    Ok((StatusCode::CREATED, Json(summary(&view))).into_response())
}

async fn list_batches(State(sh): State<Sh>, headers: HeaderMap) -> Reply {
    let mut bank = sh.bank();
    let dik = authorize(&mut bank, &headers)?;
    let list: Vec<Value> = bank
        .batches
        .iter()
        .filter(|b| b.view.dik == dik)
        .map(|b| {
            json!({
                "batchId": b.view.batch_id,
                "status": b.view.status,
                "fileName": b.view.file_name,
                "receivedAt": rfc3339(b.view.received_at),
            })
        })
        .collect();
    Ok(Json(json!({ "batches": list })).into_response())
}

async fn get_batch(State(sh): State<Sh>, headers: HeaderMap, Path(id): Path<String>) -> Reply {
    let mut bank = sh.bank();
    let dik = authorize(&mut bank, &headers)?;
    let b = bank
        .batches
        .iter()
        .find(|b| b.view.batch_id == id && b.view.dik == dik)
        .ok_or_else(|| err(StatusCode::NOT_FOUND, "UNKNOWN_BATCH", "no such batch"))?;
    Ok(Json(&b.view).into_response())
}
