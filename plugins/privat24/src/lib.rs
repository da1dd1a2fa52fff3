//! PrivatBank "Privat24 for Business" bank connector over the Autoclient
//! API: statements and balances, and payments created unsigned (a person
//! with signing rights signs them in Privat24).
//!
//! - `api`: requests, credentials and the bank's errors;
//! - `model`: the bank's JSON;
//! - `map`: pure mapping to the contract's types;
//! - `batch`: document numbers and stored batches.

mod api;
mod batch;
mod map;
mod model;

use h2h_sdk::bank::{
    Balance, BatchStatus, Session, SessionRequest, Statement, StatementQuery, TransferBatch,
};
use h2h_sdk::{BankConnector, Error, Lifecycle, Money, Result, Tasks};

use crate::api::{Client, Created};
use crate::batch::{BatchRecord, TransferRecord};
use crate::model::{BalanceAnswer, BankBalance, PaymentRequest, field, scalar};

/// Lines asked per statement page (the bank's default is 20, its cap 500).
const PAGE_SIZE: usize = 100;

/// Extra requests when the bank names the page just served as the next one
/// again (it may serve a page twice; the repeat then moves on).
const SAME_PAGE_RETRIES: usize = 2;

const NO_SESSIONS: &str = "Privat24 Autoclient has no bank sessions: every request is \
                           authenticated with the company's stored `token`";

struct Privat24;

impl Lifecycle for Privat24 {
    fn install() -> Result<()> {
        h2h_sdk::info!("privat24 connector installed");
        Ok(())
    }
}

/// No scheduled tasks: the host schedules statement syncs itself.
impl Tasks for Privat24 {}

impl BankConnector for Privat24 {
    fn open_session(_request: SessionRequest) -> Result<Session> {
        Err(Error::unsupported(NO_SESSIONS))
    }

    fn refresh_session(_session_id: &str) -> Result<Session> {
        Err(Error::unsupported(NO_SESSIONS))
    }

    fn close_session(_session_id: &str) -> Result<()> {
        Err(Error::unsupported(NO_SESSIONS))
    }

    fn fetch_statement(query: StatementQuery) -> Result<Statement> {
        let account = map::compact_account(&query.account);
        if account.is_empty() {
            return Err(Error::invalid_input("the statement query names no account"));
        }
        let start = map::query_date(&query.from)?;
        let end = map::query_date(&query.to)?;
        if query.from.trim() > query.to.trim() {
            return Err(Error::invalid_input(format!(
                "the range {} to {} ends before it starts",
                query.from, query.to
            )));
        }
        let continuation = query.continuation.as_deref();
        let client = Client::from_config()?;
        client.working_settings()?;

        let mut retries = 0;
        let page = loop {
            let page = client.transactions(&account, &start, &end, continuation, PAGE_SIZE)?;
            let stuck = continuation.is_some() && page.next_page().as_deref() == continuation;
            if !stuck {
                break page;
            }
            retries += 1;
            if retries > SAME_PAGE_RETRIES {
                return Err(Error::unavailable(format!(
                    "Privat24 keeps naming page {} as its own successor",
                    continuation.unwrap_or_default()
                )));
            }
        };

        // Balances belong to the whole range: the first page carries them.
        // A later page asks only when no line names the currency.
        let line_currency = page.transactions.iter().find_map(|t| t.get(field::CCY));
        let balances = if continuation.is_none() || line_currency.is_none() {
            Some(client.balance(&account, &start, &end)?)
        } else {
            None
        };
        let balance = balances
            .as_ref()
            .map(|answer| account_balance(answer, &account))
            .transpose()?;
        let currency = balance
            .and_then(|b| scalar(&b.currency))
            .or(line_currency)
            .ok_or_else(|| Error::protocol("Privat24 named no currency for the account"))?;
        let (opening_balance, closing_balance) = match balance {
            Some(b) if continuation.is_none() => (
                money(&b.balance_in, &currency, "balanceIn")?,
                if b.is_final() {
                    money(&b.balance_out, &currency, "balanceOut")?
                } else {
                    None
                },
            ),
            _ => (None, None),
        };

        let transactions = map::transactions(&page.transactions, &currency, &mut Vec::new())?;
        h2h_sdk::debug!(
            "statement page: {} of {} lines booked",
            transactions.len(),
            page.transactions.len()
        );
        let mut statement = Statement::new(query.account, currency);
        statement.opening_balance = opening_balance;
        statement.closing_balance = closing_balance;
        statement.transactions = transactions;
        statement.continuation = page.next_page();
        Ok(statement)
    }

    fn get_balance(account: &str) -> Result<Balance> {
        let compact = map::compact_account(account);
        if compact.is_empty() {
            return Err(Error::invalid_input("no account given"));
        }
        let client = Client::from_config()?;
        let settings = client.working_settings()?;
        let today = settings
            .today
            .as_deref()
            .and_then(map::bank_to_query_date)
            .ok_or_else(|| Error::protocol("Privat24 settings carry no valid `today`"))?;
        let answer = client.balance(&compact, &today, &today)?;
        let balance = account_balance(&answer, &compact)?;
        let currency = scalar(&balance.currency)
            .ok_or_else(|| Error::protocol("Privat24 named no currency for the account"))?;
        let booked = money(&balance.balance_out, &currency, "balanceOut")?
            .ok_or_else(|| Error::protocol("Privat24 gave no balanceOut"))?;
        let as_of = settings
            .server_date_time
            .as_deref()
            .and_then(map::kyiv_timestamp)
            .unwrap_or_else(now);
        Ok(Balance {
            account: account.to_owned(),
            booked,
            available: None,
            as_of,
        })
    }

    fn submit_batch(batch: TransferBatch) -> Result<BatchStatus> {
        let payments = prepare(&batch)?;
        let client = Client::from_config()?;
        let ids: Vec<String> = batch.transfers.iter().map(|t| t.id.clone()).collect();
        let account = map::compact_account(&batch.account);
        let (batch_id, mut record) = batch::claim(&batch.idempotency_key, &account, &ids)?;

        let sent = send_payments(&client, &batch_id, &mut record, payments);
        let saved = batch::save(&batch_id, &record);
        if let Err(error) = sent.and(saved) {
            return Err(once_created(&batch_id, &record, error));
        }
        h2h_sdk::info!(
            "batch {batch_id}: {} transfers submitted to Privat24",
            record.transfers.len()
        );
        Ok(BatchStatus {
            batch_id,
            transfers: record
                .transfers
                .iter()
                .map(TransferRecord::transfer_status)
                .collect(),
            documents: Vec::new(),
        })
    }

    fn get_batch_status(batch_id: &str) -> Result<BatchStatus> {
        let mut record = batch::load(batch_id)?
            .ok_or_else(|| Error::invalid_input(format!("unknown batch `{batch_id}`")))?;
        let client = Client::from_config()?;
        let mut changed = false;
        for slot in &mut record.transfers {
            // Final states never change: no need to ask again.
            let Some(payment_ref) = slot.payment_ref.clone().filter(|_| !slot.is_final()) else {
                continue;
            };
            let before = slot.clone();
            slot.seen(&client.payment(&payment_ref)?);
            changed |= *slot != before;
        }
        if changed {
            batch::save(batch_id, &record)?;
        }
        Ok(BatchStatus {
            batch_id: batch_id.to_owned(),
            transfers: record
                .transfers
                .iter()
                .map(TransferRecord::transfer_status)
                .collect(),
            documents: Vec::new(),
        })
    }
}

/// Stored progress every this many created payments, so a call cut short
/// by its deadline does not lose what the bank already holds.
const SAVE_EVERY: usize = 10;

/// Sends the payments not sent yet, in batch order, recording each outcome
/// in `record`. The bank's refusal of one payment (400) rejects that
/// transfer only; any other error ends the call.
fn send_payments(
    client: &Client,
    batch_id: &str,
    record: &mut BatchRecord,
    payments: Vec<PaymentRequest>,
) -> Result<()> {
    let mut created = 0;
    for (position, payment) in payments.into_iter().enumerate() {
        let Some(slot) = record.transfers.get_mut(position) else {
            return Err(Error::protocol(format!(
                "the stored record of batch {batch_id} is short"
            )));
        };
        if !slot.is_unsent() {
            continue;
        }
        let request = PaymentRequest {
            document_number: batch::document_number(batch_id, position)?,
            ..payment
        };
        match client.create_payment(&request)? {
            Created::Payment(payment) if map::is_same_payment(&payment, &request) => {
                slot.seen(&payment);
            }
            Created::Payment(payment) => {
                let reason = format!(
                    "document number {} is already used at Privat24 by another payment ({})",
                    request.document_number, payment.payment_ref
                );
                h2h_sdk::warn!("{reason}");
                slot.refuse(reason);
            }
            Created::Refused { code, message } => {
                slot.refuse(format!("Privat24 refused the payment ({code}): {message}"));
            }
        }
        created += 1;
        if created % SAVE_EVERY == 0 {
            batch::save(batch_id, record)?;
        }
    }
    Ok(())
}

/// The error to report once some payments of the batch exist at the bank.
/// A permanent error would tell the host the bank did not take the batch,
/// and it would send the transfers again under a new key: report it as
/// retryable instead, so the host submits again under the same key, which
/// creates nothing twice.
fn once_created(batch_id: &str, record: &BatchRecord, error: Error) -> Error {
    let created = record
        .transfers
        .iter()
        .filter(|t| t.payment_ref.is_some())
        .count();
    if created == 0 || error.is_retryable() || matches!(error, Error::Protocol(_)) {
        return error;
    }
    Error::unavailable(format!(
        "{created} of the payments of batch {batch_id} already exist at Privat24; submit the \
         batch again with the same idempotency key to finish it. The error: {error:?}"
    ))
}

/// The current time, RFC 3339 UTC.
fn now() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    map::utc_timestamp(seconds)
}

/// A bank balance value as money; none when the bank left it out.
fn money(value: &serde_json::Value, currency: &str, name: &str) -> Result<Option<Money>> {
    let Some(text) = scalar(value) else {
        return Ok(None);
    };
    let amount = map::signed_amount(&text)
        .ok_or_else(|| Error::protocol(format!("{name} `{text}` is not a decimal")))?;
    Ok(Some(Money::new(amount, currency)))
}

/// The balance record of `account`: the one naming it, or the only one.
fn account_balance<'a>(answer: &'a BalanceAnswer, account: &str) -> Result<&'a BankBalance> {
    let named = answer
        .balances
        .iter()
        .find(|b| scalar(&b.acc).is_some_and(|acc| map::compact_account(&acc) == account));
    match (named, answer.balances.as_slice()) {
        (Some(balance), _) => Ok(balance),
        (None, [only]) => Ok(only),
        (None, []) => Err(Error::protocol(format!(
            "Privat24 returned no balance for {account}"
        ))),
        (None, _) => Err(Error::protocol(format!(
            "Privat24 returned several balances, none for {account}"
        ))),
    }
}

/// The batch's payments (document numbers still empty), checked before
/// anything is sent so a bad transfer creates nothing.
fn prepare(batch: &TransferBatch) -> Result<Vec<PaymentRequest>> {
    if batch.idempotency_key.trim().is_empty() {
        return Err(Error::invalid_input("the batch has no idempotency key"));
    }
    let payer_account = map::compact_account(&batch.account);
    if payer_account.is_empty() {
        return Err(Error::invalid_input("the batch names no source account"));
    }
    if batch.transfers.is_empty() {
        return Err(Error::invalid_input("the batch has no transfers"));
    }
    if batch.transfers.len() > batch::MAX_TRANSFERS {
        return Err(Error::invalid_input(format!(
            "a Privat24 batch holds at most {} transfers, not {}",
            batch::MAX_TRANSFERS,
            batch.transfers.len()
        )));
    }
    let mut payments = Vec::with_capacity(batch.transfers.len());
    for (position, transfer) in batch.transfers.iter().enumerate() {
        let id = &transfer.id;
        let invalid = |what: &str| Error::invalid_input(format!("transfer `{id}`: {what}"));
        if batch.transfers[..position].iter().any(|t| &t.id == id) {
            return Err(invalid("the id appears twice in the batch"));
        }
        let party = &transfer.counterparty;
        // The tax id field where the ERP sent one; the address where an
        // older ERP integration put the code.
        let recipient_nceo = map::recipient_code(party.tax_id.as_deref())
            .or_else(|| map::recipient_code(party.address.as_deref()))
            .ok_or_else(|| {
                invalid(
                    "the counterparty's `tax-id` (or `address`) must carry the recipient's \
                     EDRPOU (8 digits) or tax number (10 digits), which Privat24 requires",
                )
            })?;
        let payment_amount = map::payment_amount(&transfer.amount.amount)
            .ok_or_else(|| invalid("the amount must be positive with at most two decimals"))?;
        let currency = transfer.amount.currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid("the currency is not an ISO 4217 code"));
        }
        let recipient_account = map::compact_account(party.account.as_deref().unwrap_or_default());
        if recipient_account.is_empty() {
            return Err(invalid("no beneficiary account"));
        }
        let recipient_name = party.name.as_deref().unwrap_or_default().trim();
        if recipient_name.is_empty() {
            return Err(invalid("no beneficiary name"));
        }
        if transfer.title.trim().is_empty() {
            return Err(invalid("no title"));
        }
        let payment_accept_date = transfer
            .execution_date
            .as_deref()
            .map(map::body_date)
            .transpose()?;
        payments.push(PaymentRequest {
            document_number: String::new(),
            recipient_account,
            recipient_nceo,
            payment_naming: recipient_name.to_owned(),
            payment_amount,
            payment_destination: transfer.title.trim().to_owned(),
            payment_ccy: currency,
            payer_account: payer_account.clone(),
            payment_accept_date,
        });
    }
    Ok(payments)
}

h2h_sdk::export_bank_connector!(Privat24);
