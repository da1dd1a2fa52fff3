//! A well-behaved test connector that exercises every host capability the
//! host tests check: storage, config, logging, HTTP (denied without a grant,
//! and any request a test describes in company settings with `fetch`), and
//! signing (`sign`: list the certificates, sign with them), and a bank's
//! session protocol (`sessions`).

mod sessions;

use h2h_sdk::bank::{
    Balance, BatchStatus, ChallengeSignature, Direction, Session, SessionRequest, Statement,
    StatementQuery, Transaction, TransferBatch, TransferState, TransferStatus,
};
use h2h_sdk::{
    BankConnector, Error, Lifecycle, Money, Result, Tasks, config, http, signing, storage,
};
use serde::{Deserialize, Serialize};

struct WellBehaved;

impl Lifecycle for WellBehaved {
    fn install() -> Result<()> {
        storage::set("installed", &true)
    }
}

#[derive(Serialize)]
struct WhoAmI {
    company_id: Option<String>,
    user: Option<String>,
    call: String,
}

impl Tasks for WellBehaved {
    fn run(name: &str) -> Result<()> {
        match name {
            // The benchmark's trivial call: nothing at all.
            "noop" => Ok(()),
            "count" => {
                let runs: u64 = storage::get("runs")?.unwrap_or(0);
                storage::set("runs", &(runs + 1))
            }
            "log" => {
                h2h_sdk::info!("hello from well-behaved");
                Ok(())
            }
            "whoami" => {
                let seen = config::invocation();
                storage::set(
                    "whoami",
                    &WhoAmI {
                        company_id: seen.company_id,
                        user: seen.user,
                        call: seen.call,
                    },
                )
            }
            "http" => {
                http::Request::get("https://bank.example/api/ping").send()?;
                Ok(())
            }
            "fetch" => fetch(),
            "sign" => sign(),
            other => Err(Error::unsupported(format!("unknown task `{other}`"))),
        }
    }
}

/// What `fetch` stores under `fetch`: the response, or the host's error
/// with its exact kind (the SDK's `Error` mapping would blur it).
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
enum Fetched {
    Response {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    Error {
        kind: &'static str,
        detail: Option<String>,
    },
}

/// Sends the request the company settings describe: `url`, and optionally
/// `method` (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS), `body`,
/// `headers` (`Name: value` lines), `timeout-ms`, `client-certificate`, and
/// `response-headers` (comma-separated names of the headers to keep). The
/// secret `token`, when set, goes as `Authorization: Bearer <token>`.
fn fetch() -> Result<()> {
    let url = config::require_setting("url")?;
    let method = match config::setting("method").as_deref().unwrap_or("GET") {
        "GET" => http::Method::Get,
        "HEAD" => http::Method::Head,
        "POST" => http::Method::Post,
        "PUT" => http::Method::Put,
        "PATCH" => http::Method::Patch,
        "DELETE" => http::Method::Delete,
        "OPTIONS" => http::Method::Options,
        other => return Err(Error::invalid_input(format!("unknown method `{other}`"))),
    };
    let mut request = http::Request::new(method, url);
    for line in config::setting("headers").unwrap_or_default().lines() {
        if let Some((name, value)) = line.split_once(':') {
            request = request.header(name.trim(), value.trim());
        }
    }
    if let Some(token) = config::secret("token") {
        request = request.header("Authorization", format!("Bearer {}", token.expose()));
    }
    if let Some(body) = config::setting("body") {
        request = request.body(body.into_bytes());
    }
    if let Some(ms) = config::setting("timeout-ms") {
        let ms: u64 = ms
            .parse()
            .map_err(|_| Error::invalid_input(format!("timeout-ms `{ms}` is not a number")))?;
        request = request.timeout(std::time::Duration::from_millis(ms));
    }
    if let Some(name) = config::setting("client-certificate") {
        request = request.client_certificate(name);
    }
    let fetched = match request.send() {
        Ok(response) => Fetched::Response {
            status: response.status(),
            headers: config::setting("response-headers")
                .unwrap_or_default()
                .split(',')
                .filter_map(|name| {
                    let value = response.header(name.trim())?;
                    Some((name.trim().to_owned(), value.to_owned()))
                })
                .collect(),
            body: String::from_utf8_lossy(response.body()).into_owned(),
        },
        Err(error) => {
            let (kind, detail) = match error {
                http::HttpError::Denied(why) => ("denied", Some(why)),
                http::HttpError::Timeout => ("timeout", None),
                http::HttpError::NotSent(why) => ("not-sent", Some(why)),
                http::HttpError::Connection(why) => ("connection", Some(why)),
                http::HttpError::TooLarge(cap) => ("too-large", Some(cap.to_string())),
                http::HttpError::InvalidRequest(why) => ("invalid-request", Some(why)),
                http::HttpError::UnknownCertificate(name) => ("unknown-certificate", Some(name)),
            };
            Fetched::Error { kind, detail }
        }
    };
    storage::set("fetch", &fetched)
}

/// What `sign` stores under `signed`: the certificates and one entry per
/// signature attempt, or the error of listing; errors keep the host's exact
/// kind and message.
#[derive(Serialize, Default)]
#[serde(rename_all = "kebab-case")]
struct Signed {
    #[serde(skip_serializing_if = "Option::is_none")]
    certificates: Option<Vec<Cert>>,
    signatures: Vec<Signature>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<SignError>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Cert {
    key_id: String,
    label: String,
    subject: String,
    issuer: String,
    serial: String,
    not_before: String,
    not_after: String,
    der: String,
    mechanisms: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Signature {
    key_id: String,
    mechanism: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<SignError>,
}

#[derive(Serialize)]
struct SignError {
    kind: &'static str,
    message: Option<String>,
}

impl From<signing::SigningError> for SignError {
    fn from(error: signing::SigningError) -> Self {
        use signing::SigningError as E;
        let (kind, message) = match error {
            E::NotGranted => ("not-granted", None),
            E::SessionRequired(m) => ("session-required", Some(m)),
            E::KeyNotFound(k) => ("key-not-found", Some(k)),
            E::UnsupportedMechanism(m) => ("unsupported-mechanism", Some(m)),
            E::Token(m) => ("token", Some(m)),
        };
        SignError { kind, message }
    }
}

fn mechanism_name(mechanism: signing::Mechanism) -> &'static str {
    match mechanism {
        signing::Mechanism::RsaPkcs1Sha256 => "rsa-pkcs1-sha256",
        signing::Mechanism::RsaPssSha256 => "rsa-pss-sha256",
        signing::Mechanism::EcdsaP256Sha256 => "ecdsa-p256-sha256",
    }
}

fn mechanism_named(name: &str) -> Result<signing::Mechanism> {
    match name.trim() {
        "rsa-pkcs1-sha256" => Ok(signing::Mechanism::RsaPkcs1Sha256),
        "rsa-pss-sha256" => Ok(signing::Mechanism::RsaPssSha256),
        "ecdsa-p256-sha256" => Ok(signing::Mechanism::EcdsaP256Sha256),
        other => Err(Error::invalid_input(format!("unknown mechanism `{other}`"))),
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Signs the company setting `sign-data` with the certificates' keys: with
/// `sign-key` set, only that key id and without listing; else with every
/// listed certificate. Mechanisms: those `sign-mechanisms` names
/// (comma-separated; empty: none), or each the key supports.
fn sign() -> Result<()> {
    let data = config::setting("sign-data")
        .unwrap_or_default()
        .into_bytes();
    let named = config::setting("sign-mechanisms")
        .map(|names| {
            names
                .split(',')
                .filter(|name| !name.trim().is_empty())
                .map(mechanism_named)
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?;
    let mut signed = Signed::default();
    let keys: Vec<(String, Vec<signing::Mechanism>)> = match config::setting("sign-key") {
        Some(key) => vec![(key, named.clone().unwrap_or_default())],
        None => match signing::list_certificates() {
            Ok(list) => {
                let keys = list
                    .iter()
                    .map(|c| {
                        let wanted = match &named {
                            Some(named) => named.clone(),
                            None => c.mechanisms.clone(),
                        };
                        (c.key_id.clone(), wanted)
                    })
                    .collect();
                signed.certificates = Some(
                    list.into_iter()
                        .map(|c| Cert {
                            key_id: c.key_id,
                            label: c.label,
                            subject: c.subject,
                            issuer: c.issuer,
                            serial: c.serial,
                            not_before: c.not_before,
                            not_after: c.not_after,
                            der: to_hex(&c.der),
                            mechanisms: c.mechanisms.into_iter().map(mechanism_name).collect(),
                        })
                        .collect(),
                );
                keys
            }
            Err(error) => {
                signed.error = Some(error.into());
                Vec::new()
            }
        },
    };
    for (key_id, mechanisms) in keys {
        for mechanism in mechanisms {
            let (signature, error) = match signing::sign(&key_id, mechanism, &data) {
                Ok(signature) => (Some(to_hex(&signature)), None),
                Err(error) => (None, Some(error.into())),
            };
            signed.signatures.push(Signature {
                key_id: key_id.clone(),
                mechanism: mechanism_name(mechanism),
                signature,
                error,
            });
        }
    }
    storage::set("signed", &signed)
}

fn transaction(
    reference: &str,
    date: &str,
    direction: Direction,
    amount: &str,
    title: &str,
) -> Transaction {
    Transaction::new(reference, date, direction, Money::new(amount, "PLN"), title)
}

impl BankConnector for WellBehaved {
    fn open_session(request: SessionRequest) -> Result<Session> {
        sessions::open(request)
    }

    fn complete_session(session_id: &str, signature: ChallengeSignature) -> Result<Session> {
        sessions::complete(session_id, signature)
    }

    fn refresh_session(session_id: &str) -> Result<Session> {
        sessions::refresh(session_id)
    }

    fn close_session(_session_id: &str) -> Result<()> {
        Ok(())
    }

    fn fetch_statement(query: StatementQuery) -> Result<Statement> {
        config::require_setting("context-id")?;
        sessions::require_when_asked()?;
        let mut credit = transaction(
            "ref-1",
            &query.from,
            Direction::Credit,
            "75.50",
            "FV/2026/11/001",
        );
        credit.counterparty.name = Some("ACME Sp. z o.o.".into());
        let mut page = Statement::new(query.account, "PLN");
        page.transactions = vec![
            credit,
            transaction("ref-2", &query.to, Direction::Debit, "25.00", "Fee"),
        ];
        page.opening_balance = Some(Money::new("100.00", "PLN"));
        page.closing_balance = Some(Money::new("150.50", "PLN"));
        Ok(page)
    }

    fn get_balance(account: &str) -> Result<Balance> {
        Ok(Balance {
            account: account.into(),
            booked: Money::new("150.50", "PLN"),
            available: None,
            as_of: "2026-11-22T00:00:00Z".into(),
        })
    }

    fn submit_batch(batch: TransferBatch) -> Result<BatchStatus> {
        submit(batch)
    }

    fn get_batch_status(batch_id: &str) -> Result<BatchStatus> {
        let key: String = storage::get(&format!("bank-batch:{batch_id}"))?
            .ok_or_else(|| Error::invalid_input(format!("no batch `{batch_id}` at this bank")))?;
        let received: Received = storage::get(&format!("batch:{key}"))?
            .ok_or_else(|| Error::protocol(format!("batch `{batch_id}` lost its transfers")))?;
        Ok(received.status(true))
    }
}

/// A batch as this pretend bank received it, stored under
/// `batch:<idempotency key>` for the company; `bank-batch:<batch id>` maps
/// back to the key and `batch-count` counts distinct batches. Like a bank
/// with idempotency, the same key again answers the same batch (and counts
/// the call in `calls`) instead of making a second one.
///
/// Tokens in a transfer's title steer it: `#reject` (that transfer is
/// refused), `#approval` (awaits approval until the status is asked),
/// `#reject-batch` (the whole batch refused, nothing kept), `#unavailable`
/// (bank down, nothing kept), `#timeout` (kept, then the answer is lost:
/// `timeout`, once), `#timeout-then-reject` (kept, `timeout`, then every
/// later call `rejected`), `#hang` (kept, then spins until the host stops
/// the call at its deadline, once).
#[derive(Serialize, Deserialize)]
struct Received {
    batch_id: String,
    account: String,
    transfers: Vec<(String, String, String)>,
    calls: u32,
}

impl Received {
    fn status(&self, asked_later: bool) -> BatchStatus {
        BatchStatus {
            batch_id: self.batch_id.clone(),
            transfers: self
                .transfers
                .iter()
                .map(|(id, title, _)| {
                    let (state, reference, message) = if has_token(title, "#reject") {
                        (
                            TransferState::Rejected,
                            None,
                            Some("beneficiary account closed".to_owned()),
                        )
                    } else if asked_later {
                        (TransferState::Executed, Some(format!("REF-{id}")), None)
                    } else if has_token(title, "#approval") {
                        (
                            TransferState::AwaitingApproval,
                            None,
                            Some("sign it in the bank's app".to_owned()),
                        )
                    } else {
                        (TransferState::Pending, None, None)
                    };
                    TransferStatus {
                        transfer_id: id.clone(),
                        state,
                        bank_state: None,
                        bank_reference: reference,
                        message,
                    }
                })
                .collect(),
            documents: Vec::new(),
        }
    }
}

fn has_token(title: &str, token: &str) -> bool {
    title.split_whitespace().any(|word| word == token)
}

fn submit(batch: TransferBatch) -> Result<BatchStatus> {
    let key = format!("batch:{}", batch.idempotency_key);
    let titles: Vec<String> = batch.transfers.iter().map(|t| t.title.clone()).collect();
    let any = |token: &str| titles.iter().any(|title| has_token(title, token));
    if let Some(mut seen) = storage::get::<Received>(&key)? {
        seen.calls += 1;
        storage::set(&key, &seen)?;
        if any("#timeout-then-reject") {
            return Err(Error::rejected(
                Some("AM05"),
                "duplicate submission refused",
            ));
        }
        return Ok(seen.status(false));
    }
    if any("#reject-batch") {
        return Err(Error::rejected(Some("AC01"), "the bank refused the batch"));
    }
    if any("#unavailable") {
        return Err(Error::unavailable("the bank is down for maintenance"));
    }
    let count: u64 = storage::get("batch-count")?.unwrap_or(0);
    storage::set("batch-count", &(count + 1))?;
    let received = Received {
        batch_id: format!("batch-{}", batch.idempotency_key),
        account: batch.account,
        transfers: batch
            .transfers
            .into_iter()
            .map(|t| {
                (
                    t.id,
                    t.title,
                    format!("{} {}", t.amount.amount, t.amount.currency),
                )
            })
            .collect(),
        calls: 1,
    };
    storage::set(&key, &received)?;
    storage::set(
        &format!("bank-batch:{}", received.batch_id),
        &batch.idempotency_key,
    )?;
    if any("#timeout") || any("#timeout-then-reject") {
        return Err(Error::timeout(
            "the bank took the batch but its answer was lost",
        ));
    }
    if any("#hang") {
        // Past the call's deadline: the host stops this instance.
        loop {
            std::hint::spin_loop();
        }
    }
    Ok(received.status(false))
}

h2h_sdk::export_bank_connector!(WellBehaved);
