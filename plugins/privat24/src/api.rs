//! Requests to the Autoclient API: credentials from the company's
//! configuration, the bank's paths and query names, and its errors mapped
//! to the contract's.

use std::time::Duration;

use h2h_sdk::config::{self, Secret};
use h2h_sdk::http::{HttpError, Method, Request, Response};
use h2h_sdk::{Error, Result};
use serde::de::DeserializeOwned;

use crate::map;
use crate::model::{
    BalanceAnswer, BankBalance, BankTransaction, CreateAnswer, Envelope, Payment, PaymentRequest,
    Settings, SettingsAnswer, TransactionsPage, scalar,
};

/// The bank's API when the company sets no `api-url`.
pub const DEFAULT_API_URL: &str = "https://acp.privatbank.ua";

/// Time allowed for one request; the host also stops at the call's deadline.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

const USER_AGENT: &str = concat!("h2h-privat24/", env!("CARGO_PKG_VERSION"));

/// Sent on every request, as the bank's description and its production
/// clients do: without a charset the bank answers in cp1251, which is not
/// JSON's UTF-8.
const CONTENT_TYPE: &str = "application/json;charset=utf8";

/// Lines asked per statement page (the bank's default is 20, its cap 500,
/// 100 advised).
pub const PAGE_SIZE: usize = 100;

/// Pages read when the connector looks for its own payments on the
/// statement, or for one day's balance.
const MAX_LOOKUP_PAGES: usize = 200;

/// How `payment/create` ended.
pub enum Created {
    /// The bank created the payment (201).
    Payment(CreateAnswer),
    /// The bank refused this payment (400, 422): its reason.
    Refused {
        /// HTTP status.
        code: u16,
        /// The bank's message.
        message: String,
    },
    /// Surely nothing was created: the request never left, or the bank
    /// turned it away before handling it (401, 403, 429, 503). Safe to
    /// send again.
    NotTaken(Error),
    /// The bank may have created the payment: the answer never came, or
    /// it failed while handling the request (500, 502, 504, a body that is
    /// not the documented one).
    Unanswered(Error),
}

/// How `payment/delete` ended.
pub enum Deleted {
    /// Deleted (204).
    Done,
    /// The bank does not know the payment (404).
    NotFound,
    /// The bank keeps it (signed already): its reason.
    Refused(String),
}

/// The API of one company: base URL and credentials.
pub struct Client {
    base: String,
    token: Secret,
    merchant_id: Option<String>,
}

impl Client {
    /// The client for the company of the call: `api-url` and `merchant-id`
    /// settings, `token` secret.
    pub fn from_config() -> Result<Self> {
        let base = config::setting("api-url")
            .map(|url| url.trim().trim_end_matches('/').to_owned())
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(Error::invalid_input(format!(
                "company setting `api-url` must be an http(s) URL, not `{base}`"
            )));
        }
        let token = config::secret("token").ok_or_else(|| {
            Error::invalid_input(
                "company secret `token` is not set: store the Autoclient token with \
                 `h2h settings set <company> privat24 token -`",
            )
        })?;
        let merchant_id = config::setting("merchant-id")
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty());
        Ok(Client {
            base,
            token,
            merchant_id,
        })
    }

    /// A request to `path` with the credential headers (`token`, and `id`
    /// for the older credential format) and the UTF-8 content type.
    fn request(&self, method: Method, path: &str) -> Request {
        let mut request = Request::new(method, format!("{}{path}", self.base))
            .header("token", self.token.expose())
            .header("User-Agent", USER_AGENT)
            .header("Accept", "application/json")
            .header("Content-Type", CONTENT_TYPE)
            .timeout(REQUEST_TIMEOUT);
        if let Some(id) = &self.merchant_id {
            request = request.header("id", id.as_str());
        }
        request
    }

    /// The statement settings: phase and business day.
    pub fn settings(&self) -> Result<Settings> {
        let answer: SettingsAnswer = fetch(self.request(Method::Get, "/api/statements/settings"))?;
        Ok(answer.settings)
    }

    /// The settings, or `unavailable` unless the bank is in its working
    /// phase: outside it statements may be incomplete (and the bank
    /// answers 503 anyway).
    pub fn working_settings(&self) -> Result<Settings> {
        let settings = self.settings()?;
        if settings
            .work_balance
            .as_deref()
            .is_some_and(|w| w.trim().eq_ignore_ascii_case("Y"))
        {
            return Err(Error::unavailable(
                "Privat24 asks clients not to call now (work_balance = Y); try again later",
            ));
        }
        if settings.phase.trim() != crate::model::WORKING_PHASE {
            return Err(Error::unavailable(format!(
                "Privat24 statements are unavailable in phase {}; they can be fetched in phase {}",
                settings.phase.trim(),
                crate::model::WORKING_PHASE
            )));
        }
        Ok(settings)
    }

    /// Every line of `account` booked from `start` to `end` (`dd-MM-yyyy`),
    /// page after page.
    pub fn all_transactions(
        &self,
        account: &str,
        start: &str,
        end: &str,
    ) -> Result<Vec<BankTransaction>> {
        let mut lines = Vec::new();
        let mut follow: Option<String> = None;
        for _ in 0..MAX_LOOKUP_PAGES {
            let page = self.transactions(account, start, end, follow.as_deref(), PAGE_SIZE)?;
            lines.extend(page.transactions.iter().cloned());
            match page.next_page() {
                Some(next) if Some(&next) != follow.as_ref() => follow = Some(next),
                _ => return Ok(lines),
            }
        }
        Err(Error::unavailable(format!(
            "Privat24 statement of {account} from {start} to {end} has more than \
             {MAX_LOOKUP_PAGES} pages"
        )))
    }

    /// One page of lines of `account` booked from `start` to `end`
    /// (`dd-MM-yyyy`), after `follow_id`.
    pub fn transactions(
        &self,
        account: &str,
        start: &str,
        end: &str,
        follow_id: Option<&str>,
        limit: usize,
    ) -> Result<TransactionsPage> {
        let limit = limit.to_string();
        let mut query = vec![
            ("acc", account),
            ("startDate", start),
            ("endDate", end),
            ("limit", limit.as_str()),
        ];
        if let Some(follow_id) = follow_id {
            query.push(("followId", follow_id));
        }
        fetch(
            self.request(Method::Get, "/api/statements/transactions")
                .query(&query),
        )
    }

    /// The balance record of `account` on `day` (`dd-MM-yyyy`). The bank
    /// answers a range with one record per day (`dpd`), paged; asking for
    /// one day and reading the record of that day is right either way.
    pub fn day_balance(&self, account: &str, day: &str) -> Result<BankBalance> {
        let mut records = Vec::new();
        let mut follow: Option<String> = None;
        for _ in 0..MAX_LOOKUP_PAGES {
            let mut query = vec![("acc", account), ("startDate", day), ("endDate", day)];
            if let Some(follow) = &follow {
                query.push(("followId", follow.as_str()));
            }
            let page: BalanceAnswer = fetch(
                self.request(Method::Get, "/api/statements/balance")
                    .query(&query),
            )?;
            records.extend(page.balances);
            match page.paging.next_page() {
                Some(next) if Some(&next) != follow.as_ref() => follow = Some(next),
                _ => return map::day_balance(records, account, day),
            }
        }
        Err(Error::unavailable(format!(
            "Privat24 balances of {account} on {day} have more than {MAX_LOOKUP_PAGES} pages"
        )))
    }

    /// Creates a payment, unsigned: 201 with its references and `new`.
    pub fn create_payment(&self, payment: &PaymentRequest) -> Result<Created> {
        let body = serde_json::to_vec(payment)
            .map_err(|e| Error::invalid_input(format!("cannot encode the payment: {e}")))?;
        let sent = self
            .request(Method::Post, "/api/proxy/payment/create")
            .body(body)
            .send();
        let response = match sent {
            Ok(response) => response,
            Err(
                error @ (HttpError::Timeout | HttpError::Connection(_) | HttpError::TooLarge(_)),
            ) => {
                return Ok(Created::Unanswered(error.into()));
            }
            // Not sent, refused by the host, malformed: never reached the bank.
            Err(error) => return Ok(Created::NotTaken(error.into())),
        };
        match response.status() {
            400 | 422 => Ok(Created::Refused {
                code: response.status(),
                message: bank_message(&response),
            }),
            401 | 403 | 429 | 503 => Ok(Created::NotTaken(failure(response))),
            200..=299 => Ok(match decode::<CreateAnswer>(response) {
                Ok(answer) => Created::Payment(answer),
                Err(error) => Created::Unanswered(error),
            }),
            _ => Ok(Created::Unanswered(failure(response))),
        }
    }

    /// A payment by its reference; none when the bank does not know it.
    pub fn payment(&self, payment_ref: &str) -> Result<Option<Payment>> {
        let response = self
            .request(Method::Get, "/api/proxy/payment/get")
            .query(&[("ref", payment_ref)])
            .send()?;
        if response.status() == 404 {
            return Ok(None);
        }
        decode(response).map(Some)
    }

    /// Deletes an unsigned payment: `POST payment/delete?ref=` with an
    /// empty body, 204.
    pub fn delete_payment(&self, payment_ref: &str) -> Result<Deleted> {
        let response = self
            .request(Method::Post, "/api/proxy/payment/delete")
            .query(&[("ref", payment_ref)])
            .send()?;
        match response.status() {
            200..=299 => Ok(Deleted::Done),
            404 => Ok(Deleted::NotFound),
            400 | 409 | 422 => Ok(Deleted::Refused(bank_message(&response))),
            _ => Err(failure(response)),
        }
    }
}

/// Sends `request` and decodes its JSON answer.
fn fetch<T: DeserializeOwned>(request: Request) -> Result<T> {
    decode(request.send()?)
}

/// A 2xx answer decoded; any other status, or an `ERROR` envelope, as the
/// contract's error (5xx unavailable, 429 busy, 401/403 unauthorized,
/// other 4xx rejected; malformed JSON protocol).
fn decode<T: DeserializeOwned>(response: Response) -> Result<T> {
    let response = response.error_for_status()?;
    let envelope: Envelope = serde_json::from_slice(response.body()).unwrap_or_default();
    if envelope.is_error() {
        let mut message = envelope
            .message
            .clone()
            .unwrap_or_else(|| "the bank answered ERROR".to_owned());
        let ids: Vec<String> = [
            ("serviceCode", &envelope.service_code),
            ("requestId", &envelope.request_id),
        ]
        .into_iter()
        .filter_map(|(name, value)| scalar(value).map(|v| format!("{name} {v}")))
        .collect();
        if !ids.is_empty() {
            message = format!("{message} ({})", ids.join(", "));
        }
        return Err(error_for_code(envelope.code(), message));
    }
    response.json()
}

/// The error a non-2xx answer stands for.
fn failure(response: Response) -> Error {
    let status = response.status();
    match decode::<serde_json::Value>(response) {
        Err(error) => error,
        Ok(_) => Error::protocol(format!("Privat24 answered HTTP {status} without an error")),
    }
}

/// The error an `ERROR` envelope with `code` stands for.
pub fn error_for_code(code: Option<u16>, message: String) -> Error {
    let message = match code {
        Some(code) => format!("Privat24 error {code}: {message}"),
        None => format!("Privat24 error: {message}"),
    };
    match code {
        Some(429) => Error::busy(message, None),
        Some(401 | 403) => Error::unauthorized(message),
        Some(408 | 504) => Error::timeout(message),
        Some(500..) => Error::unavailable(message),
        Some(code) => Error::rejected(Some(&code.to_string()), message),
        None => Error::rejected(None, message),
    }
}

/// The bank's `message` from an error answer, or the start of the body.
fn bank_message(response: &Response) -> String {
    serde_json::from_slice::<Envelope>(response.body())
        .ok()
        .and_then(|e| e.message)
        .unwrap_or_else(|| {
            String::from_utf8_lossy(response.body())
                .chars()
                .take(200)
                .collect()
        })
}
