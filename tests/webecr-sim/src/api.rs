//! The WebECR API under `/api/`: `token/`, `token/refresh`, and under
//! `v2/` (also served as `v2.1/`): `authorization/redeem/`, `terminal/`,
//! `terminal/{id}/txninit/`, `terminal/{id}/txnvoid/`,
//! `transactionintent/`, `transaction/`. The README says, for each,
//! what is modelled (and from where) and what is assumed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use h2h_sim_kit::faults::{DropConnection, Gate, Plan, gate, take_failure};
use serde::Serialize;
use serde_json::{Value, json};

use crate::faults::{RequestLog, RequestRecord};
use crate::jwt::{self, TokenError};
use crate::model::{IntentResult, Outcome};
use crate::provider::{self, ProviderInput};
use crate::state::{ApiKey, Intent, Kind, Refusal, Shared, World, lock, refuse};

type Sh = Arc<Shared>;

/// The longest synchronous `Timeout` (seconds).
pub const MAX_TIMEOUT_SECS: u64 = 180;
/// A provider signature older than this is refused (60 hours).
pub const PROVIDER_SIGNATURE_MAX_AGE_SECS: i64 = 60 * 3600;
/// The page size when `limit` is not given.
pub const DEFAULT_PAGE: usize = 100;

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "code": self.code, "detail": self.detail })),
        )
            .into_response()
    }
}

type Reply = Result<Response, Refusal>;

const BAD: StatusCode = StatusCode::BAD_REQUEST;
const CONFLICT: StatusCode = StatusCode::CONFLICT;
const NOT_FOUND: StatusCode = StatusCode::NOT_FOUND;

fn body(bytes: &Bytes) -> Result<serde_json::Map<String, Value>, Refusal> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(refuse(
            BAD,
            "invalid_body",
            "the body must be a JSON object",
        )),
    }
}

/// Routes `path` with and without its trailing slash.
fn both(router: Router<Sh>, path: &str, mr: MethodRouter<Sh>) -> Router<Sh> {
    let bare = path.trim_end_matches('/');
    router.route(path, mr.clone()).route(bare, mr)
}

pub(crate) fn router(shared: Sh) -> Router {
    let mut r = Router::new();
    r = both(r, "/api/token/", post(login));
    r = both(r, "/api/token/refresh/", post(refresh));
    for v in ["v2", "v2.1"] {
        r = both(r, &format!("/api/{v}/authorization/redeem/"), post(redeem));
        r = both(r, &format!("/api/{v}/terminal/"), get(terminals));
        r = both(
            r,
            &format!("/api/{v}/terminal/{{id}}/txninit/"),
            post(txninit),
        );
        r = both(
            r,
            &format!("/api/{v}/terminal/{{id}}/txnvoid/"),
            post(txnvoid).get(list_voids),
        );
        r = both(
            r,
            &format!("/api/{v}/transactionintent/"),
            get(list_intents),
        );
        r = both(
            r,
            &format!("/api/{v}/transactionintent/{{id}}/"),
            get(one_intent),
        );
        r = both(r, &format!("/api/{v}/transaction/"), get(list_transactions));
    }
    r.fallback(|| async { refuse(NOT_FOUND, "not_found", "no such endpoint") })
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            gate::<Shared>,
        ))
        .with_state(shared)
}

/// `h2h-sim-kit`'s gate logs every request and applies the delay and
/// planned failures; dropped answers are marked here.
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
            api_key: header(req.headers(), "x-api-key"),
            status: None,
            dropped: false,
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
        refuse(
            status,
            "simulated_failure",
            "failure injected by the simulator",
        )
        .into_response()
    }

    fn served(&self, response: &mut Response) {
        let mut f = lock(&self.faults);
        if f.settings.drop_next > 0 {
            f.settings.drop_next -= 1;
            response.extensions_mut().insert(DropConnection);
        }
    }
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
}

/// The account a request's access token names.
fn user(world: &World, h: &HeaderMap) -> Result<String, Refusal> {
    let unauth = StatusCode::UNAUTHORIZED;
    let Some(auth) = header(h, "authorization") else {
        return Err(refuse(
            unauth,
            "not_authenticated",
            "Authentication credentials were not provided.",
        ));
    };
    let token = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("JWT "))
        .ok_or_else(|| {
            refuse(
                unauth,
                "not_authenticated",
                "use Authorization: Bearer <access>",
            )
        })?;
    match jwt::check(world, token.trim(), "access") {
        Ok(c) => Ok(c.user_id),
        Err(TokenError::Expired) => Err(refuse(unauth, "token_not_valid", "Token is expired")),
        Err(TokenError::Invalid) => Err(refuse(unauth, "token_not_valid", "Token is invalid")),
    }
}

/// The terminal a request's `X-Api-Key` is for (it must be the user's).
fn device(world: &World, h: &HeaderMap, user: &str) -> Result<u64, Refusal> {
    let forbidden = StatusCode::FORBIDDEN;
    let key = header(h, "x-api-key")
        .filter(|k| !k.is_empty())
        .ok_or_else(|| refuse(forbidden, "api_key_required", "X-Api-Key is required"))?;
    match world.api_keys.get(&key) {
        Some(k) if !k.revoked && k.account == user => Ok(k.terminal),
        _ => Err(refuse(
            forbidden,
            "api_key_invalid",
            "X-Api-Key is unknown, revoked or another account's",
        )),
    }
}

fn ok<T: Serialize>(v: &T) -> Reply {
    Ok(Json(v).into_response())
}

// ---- token/ ----

async fn login(State(sh): State<Sh>, b: Bytes) -> Reply {
    let m = body(&b)?;
    let (Some(u), Some(p)) = (
        m.get("username").and_then(Value::as_str),
        m.get("password").and_then(Value::as_str),
    ) else {
        return Err(refuse(
            BAD,
            "invalid_body",
            "username and password are required",
        ));
    };
    let w = sh.world();
    if w.accounts.get(u).is_none_or(|pw| pw != p) {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "no_active_account",
            "No active account found with the given credentials",
        ));
    }
    ok(&json!({
        "access": jwt::issue(&w, u, "access"),
        "refresh": jwt::issue(&w, u, "refresh"),
    }))
}

async fn refresh(State(sh): State<Sh>, b: Bytes) -> Reply {
    let m = body(&b)?;
    // "refersh" is how one open-source client spells it.
    let Some(token) = m
        .get("refresh")
        .or_else(|| m.get("refersh"))
        .and_then(Value::as_str)
    else {
        return Err(refuse(BAD, "invalid_body", "refresh is required"));
    };
    let w = sh.world();
    match jwt::check(&w, token, "refresh") {
        Ok(c) => ok(&json!({ "access": jwt::issue(&w, &c.user_id, "access") })),
        Err(e) => Err(refuse(
            StatusCode::UNAUTHORIZED,
            "token_not_valid",
            if e == TokenError::Expired {
                "Token is expired"
            } else {
                "Token is invalid"
            },
        )),
    }
}

// ---- v2/authorization/redeem/ ----

async fn redeem(State(sh): State<Sh>, h: HeaderMap, b: Bytes) -> Reply {
    let mut w = sh.world();
    let user = user(&w, &h)?;
    let m = body(&b)?;
    if !m
        .get("Type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("webecr"))
    {
        return Err(refuse(BAD, "invalid_type", "Type must be \"webecr\""));
    }
    let code = m.get("Code").and_then(Value::as_str).unwrap_or_default();
    if code.len() != 8 || !code.bytes().all(|c| c.is_ascii_digit()) {
        return Err(refuse(BAD, "invalid_code", "Code must be 8 digits"));
    }
    let now = w.now();
    let terminal = {
        let Some(c) = w.codes.get(code) else {
            return Err(refuse(NOT_FOUND, "code_not_found", "no such pairing code"));
        };
        let owner = w.terminals.get(&c.terminal).map(|t| t.account.as_str());
        if owner != Some(user.as_str()) {
            return Err(refuse(NOT_FOUND, "code_not_found", "no such pairing code"));
        }
        if c.redeemed {
            return Err(refuse(
                CONFLICT,
                "code_already_redeemed",
                "this pairing code has been redeemed already",
            ));
        }
        if now >= c.expires {
            return Err(refuse(
                StatusCode::GONE,
                "code_expired",
                "this pairing code has expired",
            ));
        }
        c.terminal
    };
    if let Some(c) = w.codes.get_mut(code) {
        c.redeemed = true;
    }
    for k in w.api_keys.values_mut().filter(|k| k.terminal == terminal) {
        k.revoked = true;
    }
    let key = crate::random_hex(20);
    w.api_keys.insert(
        key.clone(),
        ApiKey {
            account: user,
            terminal,
            revoked: false,
        },
    );
    ok(&json!({ "Type": "webecr", "Id": key, "Terminal": terminal }))
}

// ---- paging and filters ----

fn page<T: Serialize>(items: Vec<T>, q: &HashMap<String, String>, path: &str) -> Reply {
    let num = |k: &str, d: usize| -> Result<usize, Refusal> {
        q.get(k).map_or(Ok(d), |v| {
            v.parse()
                .map_err(|_| refuse(BAD, "invalid_query", format!("{k} must be a number")))
        })
    };
    let limit = num("limit", DEFAULT_PAGE)?.clamp(1, 1000);
    let offset = num("offset", 0)?;
    let count = items.len();
    let link = |o: usize| {
        let mut pairs: Vec<String> = q
            .iter()
            .filter(|(k, _)| *k != "limit" && *k != "offset")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        pairs.sort();
        pairs.push(format!("limit={limit}"));
        pairs.push(format!("offset={o}"));
        format!("{path}?{}", pairs.join("&"))
    };
    let results: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
    ok(&json!({
        "count": count,
        "next": (offset + limit < count).then(|| link(offset + limit)),
        "previous": (offset > 0).then(|| link(offset.saturating_sub(limit))),
        "results": results,
    }))
}

/// `2026-11-30` (start of the day, UTC) or RFC 3339.
fn when(
    q: &HashMap<String, String>,
    key: &str,
    end_of_day: bool,
) -> Result<Option<DateTime<Utc>>, Refusal> {
    let Some(v) = q.get(key) else { return Ok(None) };
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
        refuse(
            BAD,
            "invalid_query",
            format!("{key} must be YYYY-MM-DD or RFC 3339"),
        )
    })?;
    let t = d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    Ok(Some(if end_of_day {
        t + TimeDelta::days(1)
    } else {
        t
    }))
}

// ---- v2/terminal/ ----

async fn terminals(
    State(sh): State<Sh>,
    h: HeaderMap,
    uri: axum::http::Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Reply {
    let w = sh.world();
    let user = user(&w, &h)?;
    let scope = match header(&h, "x-api-key") {
        Some(_) => Some(device(&w, &h, &user)?),
        None => None,
    };
    let paired = |id: u64| w.api_keys.values().any(|k| k.terminal == id && !k.revoked);
    let list: Vec<_> = w
        .terminals
        .values()
        .filter(|t| t.account == user && scope.is_none_or(|s| s == t.id) && paired(t.id))
        .filter(|t| q.get("TerminalID").is_none_or(|v| *v == t.tid))
        .filter(|t| q.get("Merchant").is_none_or(|v| *v == t.mid))
        .filter(|t| {
            q.get("Acquirer")
                .is_none_or(|v| *v == t.acquirer.to_string())
        })
        .map(|t| t.view())
        .collect();
    page(list, &q, uri.path())
}

fn terminal_in_scope(w: &World, h: &HeaderMap, id: &str) -> Result<(String, u64), Refusal> {
    let user = user(w, h)?;
    let scope = device(w, h, &user)?;
    let id: u64 = id
        .parse()
        .map_err(|_| refuse(NOT_FOUND, "terminal_not_found", "no such terminal"))?;
    if id != scope {
        return Err(refuse(
            NOT_FOUND,
            "terminal_not_found",
            "no such terminal for this X-Api-Key",
        ));
    }
    Ok((user, id))
}

/// `Timeout`: seconds, or `"hh:mm:ss"`; 0 answers at once.
fn timeout(m: &serde_json::Map<String, Value>) -> Result<u64, Refusal> {
    let bad = || {
        refuse(
            BAD,
            "invalid_timeout",
            format!("Timeout must be 0..={MAX_TIMEOUT_SECS} seconds or \"hh:mm:ss\""),
        )
    };
    let secs = match m.get("Timeout") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n.as_u64().ok_or_else(bad)?,
        Some(Value::String(s)) => {
            let p: Vec<&str> = s.split(':').collect();
            let [hh, mm, ss] = p.as_slice() else {
                return Err(bad());
            };
            let n = |x: &str| x.parse::<u64>().map_err(|_| bad());
            n(hh)? * 3600 + n(mm)? * 60 + n(ss.split('.').next().unwrap_or("0"))?
        }
        _ => return Err(bad()),
    };
    if secs > MAX_TIMEOUT_SECS {
        return Err(bad());
    }
    Ok(secs)
}

fn int_field(m: &serde_json::Map<String, Value>, key: &str, default: i64) -> Result<i64, Refusal> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v.as_i64().ok_or_else(|| {
            refuse(
                BAD,
                "invalid_amount",
                format!("{key} must be an integer number of cents"),
            )
        }),
    }
}

/// A decimal amount in a JSON number or string → cents.
fn cents(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => provider::parse_cents(&n.to_string()),
        Value::String(s) => provider::parse_cents(s),
        _ => None,
    }
}

/// Parses a provider timestamp: RFC 3339, `YYYYMMDDhhmmss` or
/// `YYYY-MM-DDThh:mm:ss` (UTC).
fn provider_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    ["%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| t.and_utc())
}

/// Checks `ProviderData` against the registered provider key, the
/// terminal and the amount.
fn check_provider(w: &World, pd: &Value, amount: i64, tid: &str) -> Result<(), Refusal> {
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let Some(pd) = pd.as_object() else {
        return Err(refuse(
            BAD,
            "invalid_provider_data",
            "ProviderData must be an object",
        ));
    };
    let s = |k: &str| {
        pd.get(k).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let name = s("ProviderName")
        .or_else(|| s("ProviderId"))
        .unwrap_or_default();
    let Some(key) = w.providers.get(&name) else {
        return Err(refuse(
            unprocessable,
            "unknown_provider",
            format!("no public key registered for provider {name:?}"),
        ));
    };
    let Some(signature) = s("Signature") else {
        return Err(refuse(
            BAD,
            "invalid_provider_data",
            "ProviderData.Signature is required",
        ));
    };
    let input = match s("Input") {
        Some(i) => i,
        None => {
            let (Some(uid), Some(mark), Some(ts), Some(net), Some(vat), Some(total)) = (
                s("UId"),
                s("Mark"),
                s("SignatureTimestamp"),
                cents(pd.get("NetAmount")),
                cents(pd.get("VatAmount")),
                cents(pd.get("TotalAmount")),
            ) else {
                return Err(refuse(
                    BAD,
                    "invalid_provider_data",
                    "ProviderData needs Input, or UId, Mark, SignatureTimestamp, NetAmount, VatAmount, TotalAmount",
                ));
            };
            ProviderInput {
                uid,
                mark,
                timestamp: ts,
                amount,
                net,
                vat,
                total,
                tid: tid.into(),
            }
            .to_input()
        }
    };
    let Some(parsed) = ProviderInput::parse(&input) else {
        return Err(refuse(
            BAD,
            "invalid_provider_data",
            "the provider input must be UID;MARK;timestamp;amount;net;VAT;total;TID",
        ));
    };
    if !provider::verify(key, &input, &signature) {
        return Err(refuse(
            unprocessable,
            "invalid_provider_signature",
            "the provider signature does not verify with the provider's public key",
        ));
    }
    if parsed.tid != tid {
        return Err(refuse(
            unprocessable,
            "provider_data_mismatch",
            format!("the signed TID {} is not this terminal's {tid}", parsed.tid),
        ));
    }
    if parsed.amount != amount {
        return Err(refuse(
            unprocessable,
            "provider_data_mismatch",
            format!(
                "the signed amount {} is not the Amount {}",
                provider::format_cents(parsed.amount),
                provider::format_cents(amount)
            ),
        ));
    }
    if parsed.amount > parsed.total || parsed.net + parsed.vat != parsed.total {
        return Err(refuse(
            unprocessable,
            "provider_data_mismatch",
            "the signed amounts do not add up (net + VAT = total, amount <= total)",
        ));
    }
    let Some(signed_at) = provider_time(&parsed.timestamp) else {
        return Err(refuse(
            BAD,
            "invalid_provider_data",
            "the signed timestamp must be RFC 3339 or YYYYMMDDhhmmss",
        ));
    };
    if w.now() - signed_at > TimeDelta::seconds(PROVIDER_SIGNATURE_MAX_AGE_SECS) {
        return Err(refuse(
            unprocessable,
            "provider_signature_expired",
            "the provider signature is more than 60 hours old",
        ));
    }
    Ok(())
}

/// Finds the sale a refund names: `InitialTransaction` as the sale's
/// `TxnId` (a number) or `{"RRN": "...", "MID": "..."}`.
fn find_sale(w: &World, user: &str, mid: &str, v: &Value) -> Result<u64, Refusal> {
    let not_found = |d: String| refuse(NOT_FOUND, "initial_transaction_not_found", d);
    let candidates = |pred: &dyn Fn(&Intent) -> bool| -> Option<u64> {
        w.intents
            .iter()
            .filter(|i| i.account == user && i.kind == Kind::Txn && w.transaction_of(i).is_some())
            .find(|i| pred(i))
            .map(|i| i.id)
    };
    let sale = match v {
        Value::Number(n) => {
            let txn = n.as_u64().ok_or_else(|| not_found("bad TxnId".into()))?;
            candidates(&|i| i.record.txn_id == txn)
                .ok_or_else(|| not_found(format!("no transaction {txn} of this merchant")))?
        }
        Value::String(s) if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() => {
            let txn: u64 = s.parse().map_err(|_| not_found("bad TxnId".into()))?;
            candidates(&|i| i.record.txn_id == txn)
                .ok_or_else(|| not_found(format!("no transaction {txn} of this merchant")))?
        }
        Value::Object(o) => {
            let rrn = o.get("RRN").and_then(Value::as_str).ok_or_else(|| {
                refuse(
                    BAD,
                    "invalid_initial_transaction",
                    "InitialTransaction.RRN is required",
                )
            })?;
            if let Some(m) = o.get("MID").and_then(Value::as_str)
                && m != mid
            {
                return Err(not_found(format!(
                    "MID {m} is not this terminal's merchant"
                )));
            }
            candidates(&|i| i.record.rrn == rrn).ok_or_else(|| {
                not_found(format!("no transaction with RRN {rrn} of this merchant"))
            })?
        }
        _ => {
            return Err(refuse(
                BAD,
                "invalid_initial_transaction",
                "InitialTransaction must be a TxnId or {\"RRN\", \"MID\"}",
            ));
        }
    };
    let i = w.intent(sale).ok_or_else(|| not_found("gone".into()))?;
    let sale_mid = w.terminals.get(&i.terminal).map(|t| t.mid.as_str());
    if sale_mid != Some(mid) {
        return Err(not_found(
            "the sale was made under another MID than this terminal's".into(),
        ));
    }
    if i.txn_type != 0 || i.result != IntentResult::Approved {
        return Err(refuse(
            CONFLICT,
            "initial_transaction_not_approved",
            "the named transaction is not an approved sale",
        ));
    }
    if w.live_void_of(sale).is_some() {
        return Err(refuse(
            CONFLICT,
            "initial_transaction_voided",
            "the sale is voided",
        ));
    }
    Ok(sale)
}

fn replay_header(mut r: Response) -> Response {
    r.headers_mut()
        .insert("x-idempotent-replay", HeaderValue::from_static("true"));
    r
}

/// Waits (simulated or real time, whichever first) for an intent to
/// complete, up to `secs`.
async fn wait_for(sh: &Sh, id: u64, secs: u64) {
    if secs == 0 {
        return;
    }
    let real_start = Instant::now();
    let sim_deadline = {
        let w = sh.world();
        w.intent(id).map(|i| i.created).unwrap_or_else(|| w.now()) + TimeDelta::seconds(secs as i64)
    };
    loop {
        {
            let w = sh.world();
            let now = w.now();
            let done = w.intent(id).is_none_or(|i| now >= i.completes_at);
            if done || now >= sim_deadline || real_start.elapsed() >= Duration::from_secs(secs) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn answer_intent(sh: &Sh, id: u64, wait: u64, drop: bool, replay: bool) -> Reply {
    wait_for(sh, id, wait).await;
    let view = {
        let w = sh.world();
        w.intent(id).map(|i| w.view(i))
    };
    let mut r = Json(view).into_response();
    if drop {
        r.extensions_mut().insert(DropConnection);
    }
    Ok(if replay { replay_header(r) } else { r })
}

// ---- v2/terminal/{id}/txninit/ ----

async fn txninit(State(sh): State<Sh>, h: HeaderMap, Path(id): Path<String>, b: Bytes) -> Reply {
    let (intent, wait, lose, replay) = 'decide: {
        let mut w = sh.world();
        let (user, terminal) = terminal_in_scope(&w, &h, &id)?;
        let m = body(&b)?;
        let txn_type = match m.get("TxnType") {
            None | Some(Value::Null) => 0,
            Some(v) => v.as_u64().unwrap_or(u64::MAX),
        };
        if txn_type > 1 {
            return Err(refuse(
                BAD,
                "unsupported_txn_type",
                "the simulator takes TxnType 0 (sale) and 1 (refund)",
            ));
        }
        let txn_type = txn_type as u8;
        let amount = match m.get("Amount") {
            Some(v) => v.as_i64(),
            None => None,
        };
        let Some(amount) = amount.filter(|a| (1..=99_999_999).contains(a)) else {
            return Err(refuse(
                BAD,
                "invalid_amount",
                "Amount must be an integer number of cents, 1..=99999999",
            ));
        };
        let tip = int_field(&m, "TipAmount", 0)?;
        if !(0..=99_999_999).contains(&tip) {
            return Err(refuse(
                BAD,
                "invalid_amount",
                "TipAmount must be >= 0 cents",
            ));
        }
        let currency = m.get("CurrencyCode").map_or(Some(978), Value::as_u64);
        if currency != Some(978) {
            return Err(refuse(
                BAD,
                "invalid_currency",
                "CurrencyCode must be 978 (EUR)",
            ));
        }
        let instalments = m.get("Instalments").and_then(Value::as_u64).unwrap_or(0);
        if instalments > 99 {
            return Err(refuse(
                BAD,
                "invalid_instalments",
                "Instalments must be 0..=99",
            ));
        }
        let reference = m
            .get("CustomerReference")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                refuse(
                    BAD,
                    "customer_reference_required",
                    "CustomerReference is required",
                )
            })?
            .to_string();
        if reference.len() > 64 {
            return Err(refuse(
                BAD,
                "customer_reference_required",
                "CustomerReference must be at most 64 characters",
            ));
        }
        let wait = timeout(&m)?;
        // The same reference on the same terminal answers the intent it
        // made (assumed: no second charge).
        if let Some(existing) = w.intents.iter().find(|i| {
            i.terminal == terminal
                && i.kind == Kind::Txn
                && i.reference.as_deref() == Some(reference.as_str())
        }) {
            if existing.amount != amount || existing.txn_type != txn_type || existing.tip != tip {
                return Err(refuse(
                    CONFLICT,
                    "customer_reference_conflict",
                    format!(
                        "CustomerReference {reference:?} was used by intent {} with other values",
                        existing.id
                    ),
                ));
            }
            break 'decide (existing.id, wait, false, true);
        }
        let (tid, mid) = w
            .terminals
            .get(&terminal)
            .map(|t| (t.tid.clone(), t.mid.clone()))
            .unwrap_or_default();
        let original = if txn_type == 1 {
            let Some(init) = m.get("InitialTransaction").filter(|v| !v.is_null()) else {
                return Err(refuse(
                    BAD,
                    "initial_transaction_required",
                    "a refund must name its sale in InitialTransaction",
                ));
            };
            let sale = find_sale(&w, &user, &mid, init)?;
            let sale_total = w.intent(sale).map(|i| i.amount + i.tip).unwrap_or(0);
            let already = w.refunded_or_pending(sale);
            if already + amount + tip > sale_total {
                return Err(refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "refund_exceeds_sale",
                    format!(
                        "refunds would reach {} of a {} sale",
                        provider::format_cents(already + amount + tip),
                        provider::format_cents(sale_total)
                    ),
                ));
            }
            Some(sale)
        } else {
            None
        };
        match m.get("ProviderData").filter(|v| !v.is_null()) {
            Some(pd) => check_provider(&w, pd, amount, &tid)?,
            None if txn_type == 0 && w.config.require_provider_data => {
                return Err(refuse(
                    BAD,
                    "provider_data_required",
                    "a sale needs the e-invoicing provider's ProviderData",
                ));
            }
            None => {}
        }
        let outcome = if w.open_intent_on(terminal).is_some() {
            Outcome::new(IntentResult::Busy, Duration::ZERO)
        } else {
            w.outcome_for(amount)
        };
        let id = w.create_intent(
            Kind::Txn,
            terminal,
            txn_type,
            amount,
            tip,
            instalments as u32,
            Some(reference),
            original,
            outcome,
        );
        (id, wait, outcome.drop_connection, false)
    };
    answer_intent(&sh, intent, wait, lose, replay).await
}

// ---- v2/terminal/{id}/txnvoid/ ----

async fn txnvoid(State(sh): State<Sh>, h: HeaderMap, Path(id): Path<String>, b: Bytes) -> Reply {
    let (intent, wait, replay) = 'decide: {
        let mut w = sh.world();
        let (user, terminal) = terminal_in_scope(&w, &h, &id)?;
        let m = body(&b)?;
        let wait = timeout(&m)?;
        let reference = m
            .get("CustomerReference")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        let not_found = || {
            refuse(
                NOT_FOUND,
                "original_not_found",
                "no such intent or transaction of this merchant",
            )
        };
        let num = |k: &str| {
            m.get(k).and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            })
        };
        let sale = if let Some(intent_id) = num("OriginalIntentId") {
            w.intent(intent_id)
                .filter(|i| i.account == user)
                .ok_or_else(not_found)?
        } else if let Some(txn) = num("OriginalTxnId") {
            w.intents
                .iter()
                .find(|i| {
                    i.account == user && i.record.txn_id == txn && w.transaction_of(i).is_some()
                })
                .ok_or_else(not_found)?
        } else {
            return Err(refuse(
                BAD,
                "original_required",
                "name the sale with OriginalIntentId or OriginalTxnId",
            ));
        };
        if sale.terminal != terminal {
            return Err(refuse(
                CONFLICT,
                "wrong_terminal",
                "a sale is voided on the terminal that made it",
            ));
        }
        let now = w.now();
        if sale.kind != Kind::Txn
            || sale.txn_type != 0
            || !sale.done_with(now, IntentResult::Approved)
        {
            return Err(refuse(
                CONFLICT,
                "not_voidable",
                "only an approved, completed sale can be voided",
            ));
        }
        let sale_id = sale.id;
        if let Some(v) = w.live_void_of(sale_id) {
            if reference.is_some() && v.reference == reference {
                break 'decide (v.id, wait, true);
            }
            return Err(refuse(
                CONFLICT,
                "already_voided",
                format!("the sale is voided (or being voided) by intent {}", v.id),
            ));
        }
        if w.refunded_or_pending(sale_id) > 0 {
            return Err(refuse(CONFLICT, "not_voidable", "the sale has refunds"));
        }
        let (amount, tip, txn_type, instalments) =
            (sale.amount, sale.tip, sale.txn_type, sale.instalments);
        let outcome = if w.open_intent_on(terminal).is_some() {
            Outcome::new(IntentResult::Busy, Duration::ZERO)
        } else {
            Outcome::new(IntentResult::Approved, w.config.default_after)
        };
        let id = w.create_intent(
            Kind::Void,
            terminal,
            txn_type,
            amount,
            tip,
            instalments,
            reference,
            Some(sale_id),
            outcome,
        );
        (id, wait, false)
    };
    answer_intent(&sh, intent, wait, false, replay).await
}

async fn list_voids(
    State(sh): State<Sh>,
    h: HeaderMap,
    uri: axum::http::Uri,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Reply {
    let w = sh.world();
    let (_, terminal) = terminal_in_scope(&w, &h, &id)?;
    let list: Vec<_> = w
        .intents
        .iter()
        .filter(|i| i.terminal == terminal && i.kind == Kind::Void)
        .map(|i| w.view(i))
        .collect();
    page(list, &q, uri.path())
}

// ---- v2/transactionintent/ ----

async fn list_intents(
    State(sh): State<Sh>,
    h: HeaderMap,
    uri: axum::http::Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Reply {
    let w = sh.world();
    let user = user(&w, &h)?;
    let terminal = device(&w, &h, &user)?;
    let from = when(&q, "From", false)?;
    let to = when(&q, "To", true)?;
    let list: Vec<_> = w
        .intents
        .iter()
        .filter(|i| i.terminal == terminal)
        .filter(|i| from.is_none_or(|f| i.created >= f) && to.is_none_or(|t| i.created < t))
        .map(|i| w.view(i))
        .filter(|v| {
            q.get("CustomerReference")
                .is_none_or(|r| v.customer_reference.as_deref() == Some(r.as_str()))
        })
        .filter(|v| q.get("Status").is_none_or(|s| *s == v.status.to_string()))
        .filter(|v| {
            q.get("Result")
                .is_none_or(|s| v.result.is_some_and(|r| *s == r.to_string()))
        })
        .filter(|v| {
            q.get("Kind")
                .is_none_or(|k| k.eq_ignore_ascii_case(&v.kind))
        })
        .collect();
    page(list, &q, uri.path())
}

async fn one_intent(State(sh): State<Sh>, h: HeaderMap, Path(id): Path<String>) -> Reply {
    let w = sh.world();
    let user = user(&w, &h)?;
    let terminal = device(&w, &h, &user)?;
    let intent = id
        .parse::<u64>()
        .ok()
        .and_then(|id| w.intent(id))
        .filter(|i| i.terminal == terminal)
        .ok_or_else(|| {
            refuse(
                NOT_FOUND,
                "intent_not_found",
                "no such intent for this X-Api-Key",
            )
        })?;
    ok(&w.view(intent))
}

// ---- v2/transaction/ ----

async fn list_transactions(
    State(sh): State<Sh>,
    h: HeaderMap,
    uri: axum::http::Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Reply {
    let w = sh.world();
    let user = user(&w, &h)?;
    let terminal = device(&w, &h, &user)?;
    let from = when(&q, "From", false)?;
    let to = when(&q, "To", true)?;
    let list: Vec<_> = w
        .intents
        .iter()
        .filter(|i| i.terminal == terminal)
        .filter_map(|i| w.transaction_of(i))
        .filter(|t| from.is_none_or(|f| t.timestamp >= f) && to.is_none_or(|e| t.timestamp < e))
        .filter(|t| q.get("TID").is_none_or(|v| *v == t.tid))
        .filter(|t| q.get("RRN").is_none_or(|v| *v == t.rrn))
        .collect();
    page(list, &q, uri.path())
}
