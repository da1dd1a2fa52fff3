//! ACME Bank: the example bank of the first-connector guide
//! (`docs/first-connector.md`), small enough to read in one sitting. One
//! account, five booked lines ending today, two per page, a bearer token.
//!
//! - `GET /v1/accounts/{iban}/transactions?from=YYYY-MM-DD&to=YYYY-MM-DD&page=N`
//!   answers `{"transactions": [{"id", "booked", "amount", "currency",
//!   "description", "counterparty"}], "next_page": N | null}`; amounts are
//!   signed (`"-12.50"` left the account);
//! - `GET /v1/accounts/{iban}/balance` answers `{"booked", "currency", "as_of"}`;
//! - a wrong token is 401, another account 404, a bad date or page 400.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The account the bank keeps.
pub const IBAN: &str = "PL61109010140000071219812874";
/// The token it accepts (a fake, for the guide).
pub const TOKEN: &str = "acme-dev-token";
const PAGE: usize = 2;

/// One booked line as the bank answers it.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    /// The bank's id of the line.
    pub id: String,
    /// Booking date.
    pub booked: NaiveDate,
    /// Signed decimal.
    pub amount: String,
    /// ISO 4217.
    pub currency: String,
    /// Payment title.
    pub description: String,
    /// The other side.
    pub counterparty: String,
}

/// The five lines, ending `today`.
pub fn lines(today: NaiveDate) -> Vec<Line> {
    [
        (
            4,
            "1500.00",
            "Payment for invoice FV/2026/11/001",
            "Globex Sp. z o.o.",
        ),
        (3, "-12.50", "Card fee", "ACME Bank"),
        (
            2,
            "250.00",
            "Payment for invoice FV/2026/11/002",
            "Initech S.A.",
        ),
        (1, "-99.90", "Office supplies", "Papiernik"),
        (0, "42.00", "Refund", "Globex Sp. z o.o."),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (ago, amount, description, counterparty))| Line {
        id: format!("T-{}", 1001 + i),
        booked: today - Days::new(ago),
        amount: amount.to_owned(),
        currency: "PLN".to_owned(),
        description: description.to_owned(),
        counterparty: counterparty.to_owned(),
    })
    .collect()
}

#[derive(Deserialize)]
struct Range {
    from: String,
    to: String,
    #[serde(default)]
    page: Option<String>,
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// Why a request is refused, if it is: a wrong token, another account.
fn refusal(headers: &HeaderMap, iban: &str) -> Option<Response> {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(TOKEN) {
        return Some(refuse(
            StatusCode::UNAUTHORIZED,
            "a valid bearer token is required",
        ));
    }
    (iban != IBAN).then(|| refuse(StatusCode::NOT_FOUND, "no such account"))
}

async fn transactions(
    State(today): State<NaiveDate>,
    Path(iban): Path<String>,
    Query(range): Query<Range>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = refusal(&headers, &iban) {
        return refused;
    }
    let (Ok(from), Ok(to)) = (
        range.from.parse::<NaiveDate>(),
        range.to.parse::<NaiveDate>(),
    ) else {
        return refuse(StatusCode::BAD_REQUEST, "from and to are YYYY-MM-DD");
    };
    let page: usize = match range.page.as_deref().map(str::parse).transpose() {
        Ok(page) => page.unwrap_or(1).max(1),
        Err(_) => return refuse(StatusCode::BAD_REQUEST, "page is a number"),
    };
    let all: Vec<Line> = lines(today)
        .into_iter()
        .filter(|l| l.booked >= from && l.booked <= to)
        .collect();
    let shown: Vec<&Line> = all.iter().skip((page - 1) * PAGE).take(PAGE).collect();
    let next_page = (page * PAGE < all.len()).then_some(page + 1);
    Json(json!({ "transactions": shown, "next_page": next_page })).into_response()
}

async fn balance(Path(iban): Path<String>, headers: HeaderMap) -> Response {
    if let Some(refused) = refusal(&headers, &iban) {
        return refused;
    }
    Json(json!({
        "booked": "1679.60",
        "currency": "PLN",
        "as_of": Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    }))
    .into_response()
}

/// The bank's routes, its lines ending `today`.
pub fn router(today: NaiveDate) -> axum::Router {
    axum::Router::new()
        .route("/v1/accounts/{iban}/transactions", get(transactions))
        .route("/v1/accounts/{iban}/balance", get(balance))
        .with_state(today)
}

/// Serves the bank on `addr` in the background; where it listens.
pub async fn start(addr: &str) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let app = router(Utc::now().date_naive());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(local)
}
