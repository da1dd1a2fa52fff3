//! The bank's API under `/api`: statements (settings, transactions,
//! balance) and payments (create, get, delete). Every request passes the
//! gate (request log, delay, rate limit, planned failures), then token
//! auth. The README names the public source of each shape, or marks it
//! assumed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, OriginalUri, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::data::ua_iban_is_valid;
use crate::faults::{RequestRecord, Verdict, WORKING_PHASE};
use crate::model::{
    CreatedPayment, DATE_TIME_FMT, Direction, Merchant, Money, PaymentAnswer, PaymentRequest,
    QUERY_DATE_FMT, equivalent,
};
use crate::state::{Book, DeleteRefusal, Shared, lock, signed};

type Sh = Arc<Shared>;

/// Default and largest page sizes, as the bank documents them.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 500;
/// Field limits of Ukrainian interbank payment orders.
const MAX_DOCUMENT_NUMBER: usize = 10;
const MAX_DESTINATION: usize = 420;

/// An error in the bank's shape: `{"status":"ERROR","code":…,"message":…}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "status": "ERROR",
            "code": self.status.as_u16(),
            "message": self.message,
        });
        (self.status, Json(body)).into_response()
    }
}

pub(crate) fn router(shared: Sh) -> Router {
    let api = Router::new()
        .route("/statements/settings", get(settings))
        .route("/statements/transactions", get(transactions))
        .route("/statements/balance", get(balance))
        .route("/proxy/payment/create", post(create_payment))
        .route("/proxy/payment/get", get(get_payment))
        .route("/proxy/payment/delete", post(delete_payment))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(shared.clone(), gate));
    Router::new().nest("/api", api).with_state(shared)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Unknown API method")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
}

/// Logs the request, then applies the fault switches in the order a real
/// outage would show them: slowness, then throttling, then failure.
async fn gate(State(sh): State<Sh>, req: Request, next: Next) -> Response {
    // Inside `nest` the URI has lost its `/api` prefix; log the original.
    let uri = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().clone(), |o| o.0.clone());
    let names_utf8 = asks_for_utf8(&req);
    let seq = lock(&sh.log).arrive(RequestRecord {
        seq: 0,
        method: req.method().to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        status: None,
    });

    let delay_ms = lock(&sh.faults).settings.delay_ms;
    if delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    }
    let verdict = lock(&sh.faults).admit(Instant::now());
    let response = match verdict {
        Verdict::Pass => {
            let response = next.run(req).await;
            // The work is done; only the answer is late.
            let answer_delay_ms = lock(&sh.faults).settings.answer_delay_ms;
            if answer_delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(answer_delay_ms)).await;
            }
            response
        }
        Verdict::RateLimited { retry_after_secs } => {
            let mut r =
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests").into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            r
        }
        Verdict::Fail(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let reason = status.canonical_reason().unwrap_or("Error");
            ApiError::new(status, format!("{reason} (simulated)")).into_response()
        }
    };
    lock(&sh.log).answered(seq, &response);
    if names_utf8 || lock(&sh.faults).settings.utf8_without_charset {
        response
    } else {
        in_cp1251(response).await
    }
}

/// Whether a request's `Content-Type` names UTF-8 (`charset=utf8`, as the
/// bank's description writes it, or `utf-8`).
fn asks_for_utf8(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.to_ascii_lowercase().replace([' ', '"'], ""))
        .is_some_and(|v| v.contains("charset=utf8") || v.contains("charset=utf-8"))
}

/// The bank answers in cp1251 when a request names no charset (its API
/// description; see README). The charset label is an assumption.
async fn in_cp1251(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "body lost").into_response();
    };
    // Nothing to encode (204 No Content): no charset to name either.
    if bytes.is_empty() {
        return Response::from_parts(parts, axum::body::Body::empty());
    }
    let text = String::from_utf8_lossy(&bytes);
    let (encoded, _, _) = encoding_rs::WINDOWS_1251.encode(&text);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=windows-1251"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(encoded.into_owned()))
}

/// The merchant a request's `token` (and, in the older format, `id`)
/// header names.
pub(crate) struct Authed(usize);

impl FromRequestParts<Sh> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, sh: &Sh) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get("token")
            .and_then(|v| v.to_str().ok())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthorized("Missing token header"))?;
        let books = lock(&sh.books);
        let b = books
            .by_token(token)
            .ok_or_else(|| ApiError::unauthorized("Invalid token"))?;
        if let Some(id) = parts.headers.get("id")
            && id.to_str().ok() != Some(books.books[b].merchant.id.as_str())
        {
            return Err(ApiError::unauthorized(
                "The id header does not match the token",
            ));
        }
        Ok(Authed(b))
    }
}

/// Statements are served only in the working phase; the real bank may
/// answer with incomplete data otherwise, the simulator refuses so a
/// client that ignores the phase fails visibly.
fn require_working_phase(sh: &Shared) -> Result<(), ApiError> {
    let phase = lock(&sh.faults).settings.phase.clone();
    if phase == WORKING_PHASE {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("Statements are unavailable in phase {phase}; fetch in phase {WORKING_PHASE}"),
        ))
    }
}

/// The previous working day: the bank's `lastday`.
fn previous_working_day(d: NaiveDate) -> NaiveDate {
    let mut day = d - Days::new(1);
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day = day - Days::new(1);
    }
    day
}

async fn settings(State(sh): State<Sh>, Authed(_): Authed) -> Json<Value> {
    let (phase, work_balance) = {
        let faults = lock(&sh.faults);
        (faults.settings.phase.clone(), faults.settings.work_balance)
    };
    let today = sh.today;
    let lastday = previous_working_day(today);
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap_or_default();
    // The last day whose statement is final: `lastday`, as in the
    // documented example (`lastday` and `date_final_statement` both
    // "01.04.2026 00:00:00" on `today` "02.04.2026 00:00:00").
    Json(json!({
        "status": "SUCCESS",
        "type": "settings",
        "settings": {
            "phase": phase,
            "today": midnight(today).format(DATE_TIME_FMT).to_string(),
            "lastday": midnight(lastday).format(DATE_TIME_FMT).to_string(),
            "work_balance": if work_balance { "Y" } else { "N" },
            "server_date_time": sh.now().format(DATE_TIME_FMT).to_string(),
            "date_final_statement": midnight(lastday).format(DATE_TIME_FMT).to_string(),
        }
    }))
}

/// Query parameters of the statement endpoints; all optional here so that
/// a missing one gets the bank's error, not axum's.
#[derive(Debug, Deserialize)]
struct StatementQuery {
    acc: Option<String>,
    #[serde(rename = "startDate")]
    start_date: Option<String>,
    #[serde(rename = "endDate")]
    end_date: Option<String>,
    limit: Option<String>,
    #[serde(rename = "followId")]
    follow_id: Option<String>,
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::bad_request(format!("Malformed query: {}", e.body_text())))
}

fn parse_date(value: &str, name: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(value, QUERY_DATE_FMT).map_err(|_| {
        ApiError::bad_request(format!(
            "{name} must be a date as dd-MM-yyyy, not {value:?}"
        ))
    })
}

/// The validated date range: `startDate` required, `endDate` today when
/// absent.
fn date_range(sh: &Shared, q: &StatementQuery) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let start = q
        .start_date
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("startDate is required"))
        .and_then(|s| parse_date(s, "startDate"))?;
    let end = match q.end_date.as_deref() {
        Some(s) => parse_date(s, "endDate")?,
        None => sh.today,
    };
    if end < start {
        return Err(ApiError::bad_request("endDate is before startDate"));
    }
    Ok((start, end))
}

fn check_account(merchant: &Merchant, acc: Option<&str>) -> Result<(), ApiError> {
    match acc {
        Some(acc) if acc != merchant.account => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("Account {acc} is not available to this client"),
        )),
        _ => Ok(()),
    }
}

/// `limit`: 20 when absent, at most 500 (larger values are capped, as the
/// bank does), at least 1.
fn parse_limit(limit: Option<&str>) -> Result<usize, ApiError> {
    let Some(text) = limit else {
        return Ok(DEFAULT_LIMIT);
    };
    match text.parse::<usize>() {
        Ok(0) | Err(_) => Err(ApiError::bad_request(format!(
            "limit must be a whole number from 1 to {MAX_LIMIT}, not {text:?}"
        ))),
        Ok(n) => Ok(n.min(MAX_LIMIT)),
    }
}

/// A position in a statement, as `next_page_id` / `followId` carry it:
/// before everything, or after a line (keyset, so lines added meanwhile do
/// not shift pages). Opaque to clients: `P` + hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    Start,
    After(u64),
}

impl Cursor {
    fn encode(self) -> String {
        match self {
            Cursor::Start => "P0".into(),
            Cursor::After(id) => format!("P{id:x}"),
        }
    }

    fn decode(s: &str) -> Result<Cursor, ApiError> {
        let bad = || ApiError::bad_request(format!("Invalid followId {s:?}"));
        let hex = s.strip_prefix('P').ok_or_else(bad)?;
        match u64::from_str_radix(hex, 16).map_err(|_| bad())? {
            0 => Ok(Cursor::Start),
            id => Ok(Cursor::After(id)),
        }
    }
}

async fn transactions(
    State(sh): State<Sh>,
    Authed(b): Authed,
    q: Result<Query<StatementQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let q = query(q)?;
    require_working_phase(&sh)?;
    let (start, end) = date_range(&sh, &q)?;
    let limit = parse_limit(q.limit.as_deref())?;
    let cursor = q
        .follow_id
        .as_deref()
        .map(Cursor::decode)
        .transpose()?
        .unwrap_or(Cursor::Start);

    let (page, exist_next_page, next) = {
        let books = sh.books();
        let book: &Book = &books.books[b];
        check_account(&book.merchant, q.acc.as_deref())?;
        let lines = book.between(start, end);
        let from = match cursor {
            Cursor::Start => 0,
            Cursor::After(id) => {
                let key = book
                    .transactions
                    .iter()
                    .find(|t| t.id == id)
                    .map(|t| t.sort_key())
                    .ok_or_else(|| ApiError::bad_request("Invalid followId: no such position"))?;
                lines.partition_point(|t| t.sort_key() <= key)
            }
        };
        let to = (from + limit).min(lines.len());
        let page: Vec<_> = lines[from..to]
            .iter()
            .map(|t| t.to_statement(&book.merchant))
            .collect();
        let next = lines[..to].last().map_or(cursor, |t| Cursor::After(t.id));
        (page, to < lines.len(), next)
    };

    // A duplicated page names itself as its successor once: the client
    // gets it again and must drop the lines it already has.
    let page_key = format!(
        "{b}|{start}|{end}|{limit}|{}|{}",
        q.acc.as_deref().unwrap_or(""),
        cursor.encode()
    );
    let next = if exist_next_page && lock(&sh.faults).duplicate_once(page_key) {
        cursor
    } else {
        next
    };
    Ok(Json(json!({
        "status": "SUCCESS",
        "type": "transactions",
        "exist_next_page": exist_next_page,
        "next_page_id": next.encode(),
        "transactions": page,
    })))
}

/// A position in the per-day balance list, as `next_page_id` /
/// `followId` carry it: the index of the next day to serve, counted from
/// `startDate`. Opaque to clients: `B` + the index in decimal.
fn encode_balance_cursor(index: u64) -> String {
    format!("B{index}")
}

fn decode_balance_cursor(s: &str, days: u64) -> Result<u64, ApiError> {
    let bad = || ApiError::bad_request(format!("Invalid followId {s:?}"));
    let digits = s.strip_prefix('B').ok_or_else(bad)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let index: u64 = digits.parse().map_err(|_| bad())?;
    if index > days {
        return Err(bad());
    }
    Ok(index)
}

/// One record per day from `startDate` to `endDate`, keyed by `dpd`
/// (the day at midnight), paged like transactions. The per-day keying is
/// how two production clients read a date-range answer (see README).
async fn balance(
    State(sh): State<Sh>,
    Authed(b): Authed,
    q: Result<Query<StatementQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let q = query(q)?;
    require_working_phase(&sh)?;
    let (start, end) = date_range(&sh, &q)?;
    let limit = parse_limit(q.limit.as_deref())?;
    // `end >= start`, so the difference is not negative.
    let days = u64::try_from((end - start).num_days()).unwrap_or(0) + 1;
    let from = q
        .follow_id
        .as_deref()
        .map(|f| decode_balance_cursor(f, days))
        .transpose()?
        .unwrap_or(0);
    let to = from.saturating_add(limit as u64).min(days);
    let final_day = previous_working_day(sh.today);

    let books = sh.books();
    let book = &books.books[b];
    let m = &book.merchant;
    check_account(m, q.acc.as_deref())?;

    let eq = |v: Money| equivalent(v, &m.currency).to_string();
    let page_days: Vec<NaiveDate> = start
        .iter_days()
        .skip(usize::try_from(from).unwrap_or(usize::MAX))
        .take(usize::try_from(to - from).unwrap_or(0))
        .collect();
    let mut running = page_days
        .first()
        .map_or(Money::ZERO, |d| book.balance_before(*d));
    let mut records = Vec::with_capacity(page_days.len());
    for day in page_days {
        let moving: Vec<_> = book
            .between(day, day)
            .into_iter()
            .filter(|t| t.moves_balance())
            .collect();
        let turnover = |d: Direction| -> Money {
            moving
                .iter()
                .filter(|t| t.direction == d)
                .map(|t| t.amount)
                .sum()
        };
        let credits = turnover(Direction::Credit);
        let debits = turnover(Direction::Debit);
        let balance_in = running;
        let balance_out = balance_in + moving.iter().copied().map(signed).sum::<Money>();
        running = balance_out;
        let dpd = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        records.push(json!({
            "acc": m.account,
            "currency": m.currency,
            "balanceIn": balance_in.to_string(),
            "balanceInEq": eq(balance_in),
            "balanceOut": balance_out.to_string(),
            "balanceOutEq": eq(balance_out),
            "turnoverDebt": debits.to_string(),
            "turnoverDebtEq": eq(debits),
            "turnoverCred": credits.to_string(),
            "turnoverCredEq": eq(credits),
            "dpd": dpd.format(DATE_TIME_FMT).to_string(),
            "nameACC": m.name,
            "state": "a",
            "atp": "D",
            "flmn": "DN",
            "date_open_acc_reg": "15.01.2019 00:00:00",
            "date_open_acc_sys": "15.01.2019 00:00:00",
            "date_close_acc": "01.01.1900 00:00:00",
            "is_final_bal": day <= final_day,
        }));
    }
    Ok(Json(json!({
        "status": "SUCCESS",
        "type": "balances",
        "exist_next_page": to < days,
        "next_page_id": encode_balance_cursor(to),
        "balances": records,
    })))
}

/// What the bank checks before accepting a payment.
fn validate_payment(r: &PaymentRequest, m: &Merchant) -> Result<(), ApiError> {
    let bad = |msg: String| Err(ApiError::bad_request(msg));
    let doc = r.document_number.trim();
    if doc.is_empty() || doc.chars().count() > MAX_DOCUMENT_NUMBER {
        return bad(format!(
            "document_number must have 1 to {MAX_DOCUMENT_NUMBER} characters"
        ));
    }
    if !ua_iban_is_valid(&r.recipient_account) {
        return bad(format!(
            "recipient_account {:?} is not a valid Ukrainian IBAN",
            r.recipient_account
        ));
    }
    let nceo = &r.recipient_nceo;
    if !matches!(nceo.len(), 8 | 10) || !nceo.bytes().all(|b| b.is_ascii_digit()) {
        return bad("recipient_nceo must be an 8-digit EDRPOU or a 10-digit tax number".into());
    }
    if r.payment_naming.trim().is_empty() {
        return bad("payment_naming is required".into());
    }
    let dest = r.payment_destination.trim();
    if dest.is_empty() || dest.chars().count() > MAX_DESTINATION {
        return bad(format!(
            "payment_destination must have 1 to {MAX_DESTINATION} characters"
        ));
    }
    if !r.payment_amount.is_positive() {
        return bad("payment_amount must be positive".into());
    }
    if let Some(ccy) = &r.payment_ccy
        && ccy != &m.currency
    {
        return bad(format!(
            "payment_ccy {ccy} does not match the account's {}",
            m.currency
        ));
    }
    match r.payer_account.as_deref().map(str::trim) {
        None | Some("") => return bad("payer_account is required".to_owned()),
        Some(payer) if payer != m.account => {
            return bad(format!(
                "payer_account {payer} is not this client's account"
            ));
        }
        Some(_) => {}
    }
    Ok(())
}

/// Creates an unsigned payment (status `new`) and answers 201. A
/// repeated `document_number` makes another payment, unless the switch
/// `deduplicate_document_numbers` is on: then the existing one comes back,
/// in the same shape.
async fn create_payment(
    State(sh): State<Sh>,
    Authed(b): Authed,
    body: Bytes,
) -> Result<(StatusCode, Json<CreatedPayment>), ApiError> {
    let request: PaymentRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("Malformed payment: {e}")))?;
    let deduplicate = lock(&sh.faults).settings.deduplicate_document_numbers;
    let now = sh.now();
    let mut books = sh.books();
    validate_payment(&request, &books.books[b].merchant)?;
    let (i, _created) = books.create_payment(b, request, now, deduplicate);
    let answer = books.books[b].payments[i].created_answer();
    Ok((StatusCode::CREATED, Json(answer)))
}

#[derive(Debug, Deserialize)]
struct PaymentQuery {
    #[serde(rename = "ref")]
    reference: Option<String>,
}

/// The `ref` query parameter, required.
fn payment_ref(q: Result<Query<PaymentQuery>, QueryRejection>) -> Result<String, ApiError> {
    query(q)?
        .reference
        .filter(|r| !r.is_empty())
        .ok_or_else(|| ApiError::bad_request("ref is required"))
}

fn payment_not_found(reference: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("Payment {reference} not found"),
    )
}

async fn get_payment(
    State(sh): State<Sh>,
    Authed(b): Authed,
    q: Result<Query<PaymentQuery>, QueryRejection>,
) -> Result<Json<PaymentAnswer>, ApiError> {
    let reference = payment_ref(q)?;
    let books = sh.books();
    // Another merchant's payment is as unknown as a missing one.
    match books.payment(&reference) {
        Some((pb, i)) if pb == b => Ok(Json(books.books[pb].payments[i].answer())),
        _ => Err(payment_not_found(&reference)),
    }
}

/// `POST /api/proxy/payment/delete?ref=…`, body ignored: a `new` payment
/// is deleted (204, no body); afterwards it is unknown.
async fn delete_payment(
    State(sh): State<Sh>,
    Authed(b): Authed,
    q: Result<Query<PaymentQuery>, QueryRejection>,
) -> Result<StatusCode, ApiError> {
    let reference = payment_ref(q)?;
    match sh.books().delete_payment(b, &reference) {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(DeleteRefusal::Unknown) => Err(payment_not_found(&reference)),
        Err(DeleteRefusal::NoLongerNew(status)) => Err(ApiError::bad_request(format!(
            "Payment {reference} is {status} and can no longer be deleted"
        ))),
    }
}
