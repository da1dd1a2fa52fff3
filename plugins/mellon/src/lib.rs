//! Mellon WebECR card-terminal connector: the cloud service Greek acquirers
//! front at `*.mreceipts.com`. Pairing (redeem), terminals, sales and
//! refunds as payment intents, lookups by id, by the ERP's reference and by
//! period, and voids.
//!
//! - `api`: URLs, JWT-authenticated requests, paging and the service's
//!   errors (every wire detail is assumed; see README);
//! - `auth`: the account's tokens, kept in the company's plugin storage;
//! - `intent`: amounts, request bodies and answers (pure, unit-tested).

mod api;
mod auth;
mod intent;

use h2h_sdk::http::Request;
use h2h_sdk::pos::{IntentQuery, IntentRequest, Pairing, PaymentIntent, Terminal, VoidTarget};
use h2h_sdk::{Error, Lifecycle, PosConnector, Result, Tasks};
use serde_json::{Value, json};

use api::{Call, Client};

struct Mellon;

impl Lifecycle for Mellon {}

/// No tasks: the host polls intents and asks for periods itself.
impl Tasks for Mellon {}

/// A device's API key as given: it must be there (it is never logged).
fn key(api_key: &str) -> Result<&str> {
    let key = api_key.trim();
    if key.is_empty() {
        return Err(Error::invalid_input(
            "no API key for the terminal: pair it first (redeem its code)",
        ));
    }
    Ok(key)
}

/// One intent from an answer that is one intent.
fn one_intent(body: &[u8]) -> Result<PaymentIntent> {
    let raw = String::from_utf8_lossy(body).into_owned();
    let value: Value = serde_json::from_slice(body)?;
    intent::intent(&value, raw)
}

/// The intent `id` as WebECR answers it now.
fn fetch_intent(client: &Client, api_key: &str, id: &str) -> Result<(Value, PaymentIntent)> {
    intent::check_id(id, "intent")?;
    let url = client.url(&format!("transactionintent/{id}/"));
    let response = client.send(Some(api_key), Call::Read, || Request::get(url.clone()))?;
    let value: Value = serde_json::from_slice(response.body())?;
    let parsed = intent::intent(
        &value,
        String::from_utf8_lossy(response.body()).into_owned(),
    )?;
    Ok((value, parsed))
}

/// `POST terminal/{terminal}/txnvoid/`.
fn send_void(
    client: &Client,
    api_key: &str,
    terminal: &str,
    body: &Value,
) -> Result<PaymentIntent> {
    intent::check_id(terminal, "terminal")?;
    let url = client.url(&format!("terminal/{terminal}/txnvoid/"));
    let response = client.send(Some(api_key), Call::Start, || {
        Request::post(url.clone()).json(body)
    })?;
    let void = one_intent(response.body()).map_err(|e| {
        Error::protocol(format!(
            "WebECR registered the void but its answer is unreadable ({e:?}); look it up by its reference"
        ))
    })?;
    h2h_sdk::info!(
        "void intent {} on terminal {terminal}: status {}",
        void.id,
        void.status_code
    );
    Ok(void)
}

impl PosConnector for Mellon {
    /// `authorization/redeem/` with the 8-digit code the terminal shows;
    /// the label is the paired terminal's name.
    fn redeem_pairing_code(code: &str) -> Result<Pairing> {
        let code = code.trim();
        if code.len() != 8 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid_input(
                "a WebECR pairing code is the 8 digits the terminal shows",
            ));
        }
        let client = Client::from_config()?;
        let url = client.url("authorization/redeem/");
        let body = json!({ "Type": "webecr", "Code": code });
        let response = client.send(None, Call::Read, || Request::post(url.clone()).json(&body))?;
        let answer: Value = serde_json::from_slice(response.body())?;
        let api_key = intent::text(&answer, "Id")
            .filter(|k| !k.is_empty())
            .ok_or_else(|| Error::protocol("WebECR's redeem answer has no `Id` (the API key)"))?;
        // A name for the device: its terminal's, when the new key lists it.
        let label = client
            .list(Some(&api_key), client.url("terminal/"))
            .ok()
            .and_then(|list| list.first().and_then(|t| intent::terminal(t).ok()))
            .map(|t| format!("{} (TID {})", t.name, t.terminal_id))
            .or_else(|| intent::text(&answer, "Terminal").map(|t| format!("WebECR terminal {t}")));
        h2h_sdk::info!("terminal paired: {}", label.as_deref().unwrap_or("?"));
        Ok(Pairing { api_key, label })
    }

    fn list_terminals(api_key: &str) -> Result<Vec<Terminal>> {
        let api_key = key(api_key)?;
        let client = Client::from_config()?;
        client
            .list(Some(api_key), client.url("terminal/"))?
            .iter()
            .map(intent::terminal)
            .collect()
    }

    /// `terminal/{id}/txninit/`, answered at once (`Timeout: 0`): the
    /// intent as registered, usually pending. A lost answer is a `timeout`
    /// the host resolves with `find-intent`; the connector never sends the
    /// request twice.
    fn start_intent(api_key: &str, request: IntentRequest) -> Result<PaymentIntent> {
        let api_key = key(api_key)?;
        let body = intent::txninit_body(&request)?;
        let client = Client::from_config()?;
        let url = client.url(&format!("terminal/{}/txninit/", request.terminal));
        let response = client.send(Some(api_key), Call::Start, || {
            Request::post(url.clone()).json(&body)
        })?;
        let started = one_intent(response.body()).map_err(|e| {
            Error::protocol(format!(
                "WebECR registered the intent but its answer is unreadable ({e:?}); look it up by its reference"
            ))
        })?;
        let replay = response
            .header("X-Idempotent-Replay")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        h2h_sdk::info!(
            "intent {} for reference {} on terminal {}: status {}{}",
            started.id,
            request.reference,
            request.terminal,
            started.status_code,
            if replay { " (already registered)" } else { "" }
        );
        Ok(started)
    }

    fn get_intent(api_key: &str, intent_id: &str) -> Result<PaymentIntent> {
        let api_key = key(api_key)?;
        let client = Client::from_config()?;
        fetch_intent(&client, api_key, intent_id).map(|(_, intent)| intent)
    }

    /// `transactionintent/?CustomerReference=`: the sale or refund started
    /// with `reference` (not a void), the latest if several.
    fn find_intent(api_key: &str, reference: &str) -> Result<Option<PaymentIntent>> {
        let api_key = key(api_key)?;
        intent::check_reference(reference)?;
        let client = Client::from_config()?;
        let url = api::with_query(
            &client.url("transactionintent/"),
            &[("CustomerReference", reference), ("Kind", "TXN")],
        );
        let found = client
            .list(Some(api_key), url)?
            .into_iter()
            .filter(|v| !intent::is_void(v))
            .rfind(|v| intent::text(v, "CustomerReference").as_deref() == Some(reference));
        found.map(|v| intent::intent(&v, v.to_string())).transpose()
    }

    /// `transactionintent/?From=&To=&Status=`, every page; voids included
    /// (their answer says `"Kind": "VOID"`).
    fn list_intents(api_key: &str, query: IntentQuery) -> Result<Vec<PaymentIntent>> {
        let api_key = key(api_key)?;
        if let Some(terminal) = &query.terminal {
            intent::check_id(terminal, "terminal")?;
        }
        let client = Client::from_config()?;
        let status = query.status.map(|s| intent::status_code(s).to_string());
        let mut pairs = vec![("From", query.from.as_str()), ("To", query.to.as_str())];
        if let Some(status) = &status {
            pairs.push(("Status", status.as_str()));
        }
        let url = api::with_query(&client.url("transactionintent/"), &pairs);
        let mut intents = Vec::new();
        for value in client.list(Some(api_key), url)? {
            if let Some(terminal) = &query.terminal
                && intent::text(&value, "Terminal").as_deref() != Some(terminal.as_str())
            {
                continue;
            }
            match intent::intent(&value, value.to_string()) {
                Ok(intent) => intents.push(intent),
                // One intent of a kind the contract cannot carry (a
                // preauth made elsewhere) must not hide the others.
                Err(e) => h2h_sdk::warn!("skipping an intent WebECR listed: {e:?}"),
            }
        }
        Ok(intents)
    }

    /// `terminal/{id}/txnvoid/`, by the sale's intent id or by its RRN (the
    /// receipt number) and MID. The void's `CustomerReference` is derived
    /// from what it voids, so repeating a void whose answer was lost is
    /// answered with the same void.
    fn void_intent(api_key: &str, target: VoidTarget) -> Result<PaymentIntent> {
        let api_key = key(api_key)?;
        let client = Client::from_config()?;
        match target {
            VoidTarget::Intent(id) => {
                let (value, sale) = fetch_intent(&client, api_key, &id)?;
                if intent::is_void(&value) {
                    return Err(Error::invalid_input(format!(
                        "intent {id} is itself a void"
                    )));
                }
                let original: u64 = id.parse().map_err(|_| {
                    Error::invalid_input(format!("intent {id:?} is not a WebECR id"))
                })?;
                let body = json!({
                    "OriginalIntentId": original,
                    "CustomerReference": intent::void_reference(&id),
                    "Timeout": intent::START_TIMEOUT,
                });
                send_void(&client, api_key, &sale.terminal, &body)
            }
            VoidTarget::Payment(payment) => {
                let rrn = payment.rrn.trim();
                if rrn.is_empty() {
                    return Err(Error::invalid_input(
                        "a void by payment needs its RRN (the receipt number)",
                    ));
                }
                let url = api::with_query(&client.url("transaction/"), &[("RRN", rrn)]);
                let matches = |tx: &Value, key: &str, want: &Option<String>| match want {
                    Some(want) if !want.trim().is_empty() => {
                        intent::text(tx, key).as_deref() == Some(want.trim())
                    }
                    _ => true,
                };
                let sale = client
                    .list(Some(api_key), url)?
                    .into_iter()
                    .filter(|tx| intent::text(tx, "RRN").as_deref() == Some(rrn))
                    .filter(|tx| tx.get("IsVoid").and_then(Value::as_bool) != Some(true))
                    .filter(|tx| tx.get("Approved").and_then(Value::as_bool) != Some(false))
                    .filter(|tx| matches(tx, "MID", &payment.merchant_id))
                    .find(|tx| matches(tx, "TID", &payment.terminal_id))
                    .ok_or_else(|| {
                        Error::rejected(
                            Some("original_not_found"),
                            format!(
                                "WebECR lists no approved payment with RRN {rrn} for this terminal"
                            ),
                        )
                    })?;
                let txn_id = intent::int(&sale, "TxnId").ok_or_else(|| {
                    Error::protocol(format!("WebECR's payment {rrn} has no `TxnId`"))
                })?;
                let tid = intent::text(&sale, "TID");
                let terminals = client.list(Some(api_key), client.url("terminal/"))?;
                let terminal = terminals
                    .iter()
                    .filter_map(|t| intent::terminal(t).ok())
                    .find(|t| tid.is_none() || tid.as_deref() == Some(t.terminal_id.as_str()))
                    .ok_or_else(|| {
                        Error::rejected(
                            Some("terminal_not_found"),
                            format!("payment {rrn} was not made on this key's terminal"),
                        )
                    })?;
                let body = json!({
                    "OriginalTxnId": txn_id,
                    "CustomerReference": intent::void_reference(rrn),
                    "Timeout": intent::START_TIMEOUT,
                });
                send_void(&client, api_key, &terminal.id, &body)
            }
        }
    }
}

h2h_sdk::export_pos_connector!(Mellon);
