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
    Balance, BatchStatus, Finality, Session, SessionRequest, Statement, StatementQuery,
    TransferBatch,
};
use h2h_sdk::{BankConnector, Error, Lifecycle, Money, Result, Tasks};

use crate::api::{Client, Created, Deleted, PAGE_SIZE};
use crate::batch::{BatchRecord, Stage, TransferRecord};
use crate::model::{BankTransaction, PaymentRequest, field, scalar};

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
        let settings = client.working_settings()?;

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

        h2h_sdk::info!(
            "statement {start}..{end}: {} lines on this page",
            page.transactions.len()
        );

        // Balances belong to the whole range: the first page carries them,
        // the opening one of the first day and the closing one of the last.
        // A later page asks only when no line names the currency.
        let line_currency = page.transactions.iter().find_map(|t| t.get(field::CCY));
        let first = if continuation.is_none() || line_currency.is_none() {
            Some(client.day_balance(&account, &start)?)
        } else {
            None
        };
        let currency = first
            .as_ref()
            .and_then(|b| scalar(&b.currency))
            .or(line_currency)
            .ok_or_else(|| Error::protocol("Privat24 named no currency for the account"))?;
        let (opening_balance, closing_balance) = match &first {
            Some(first) if continuation.is_none() => {
                let last = if end == start {
                    first.clone()
                } else {
                    client.day_balance(&account, &end)?
                };
                (
                    money(&first.balance_in, &currency, "balanceIn")?,
                    if last.is_final() {
                        money(&last.balance_out, &currency, "balanceOut")?
                    } else {
                        None
                    },
                )
            }
            _ => (None, None),
        };

        let transactions = map::transactions(&page.transactions, &currency, &mut Vec::new())?;
        h2h_sdk::debug!(
            "statement page: {} of {} lines booked",
            transactions.len(),
            page.transactions.len()
        );
        let final_through = settings
            .date_final_statement
            .as_deref()
            .and_then(map::iso_date);
        let mut statement = Statement::new(query.account.clone(), currency);
        statement.opening_balance = opening_balance;
        statement.closing_balance = closing_balance;
        statement.finality = match &final_through {
            Some(day) if query.to.trim() <= day.as_str() => Finality::Final,
            _ => Finality::Interim,
        };
        statement.final_through = final_through;
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
        let balance = client.day_balance(&compact, &today)?;
        let currency = scalar(&balance.currency)
            .ok_or_else(|| Error::protocol("Privat24 named no currency for the account"))?;
        let booked = money(&balance.balance_out, &currency, "balanceOut")?
            .ok_or_else(|| Error::protocol("Privat24 gave no balanceOut"))?;
        let as_of = settings
            .server_date_time
            .as_deref()
            .and_then(map::kyiv_timestamp)
            .unwrap_or_else(|| h2h_sdk::time::rfc3339(h2h_sdk::time::now_unix()));
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
        let created_on = map::utc_date(h2h_sdk::time::now_unix().saturating_sub(DAY_SECONDS));
        let (batch_id, mut record) =
            batch::claim(&batch.idempotency_key, &account, &ids, &created_on)?;

        let sent = resolve_unanswered(&client, &batch_id, &mut record)
            .and_then(|()| send_payments(&client, &batch_id, &mut record, payments));
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
            transfers: record.statuses(),
            documents: Vec::new(),
        })
    }

    fn get_batch_status(batch_id: &str) -> Result<BatchStatus> {
        let mut record = batch::load(batch_id)?
            .ok_or_else(|| Error::invalid_input(format!("unknown batch `{batch_id}`")))?;
        let client = Client::from_config()?;
        let before = record.clone();
        let asked = find_on_statement(&client, batch_id, &mut record)
            .and_then(|()| poll_payments(&client, &mut record));
        if record != before {
            batch::save(batch_id, &record)?;
        }
        asked?;
        Ok(BatchStatus {
            batch_id: batch_id.to_owned(),
            transfers: record.statuses(),
            documents: Vec::new(),
        })
    }

    fn withdraw_batch(batch_id: &str) -> Result<BatchStatus> {
        let mut record = batch::load(batch_id)?
            .ok_or_else(|| Error::invalid_input(format!("unknown batch `{batch_id}`")))?;
        let client = Client::from_config()?;
        let before = record.clone();
        let deleted = delete_payments(&client, &mut record);
        if record != before {
            batch::save(batch_id, &record)?;
        }
        deleted?;
        h2h_sdk::info!("batch {batch_id}: withdrawn from Privat24");
        Ok(BatchStatus {
            batch_id: batch_id.to_owned(),
            transfers: record.statuses(),
            documents: Vec::new(),
        })
    }
}

const DAY_SECONDS: u64 = 24 * 3600;

/// Lines of the batch's account from the day it was created to today.
fn statement_since(client: &Client, record: &BatchRecord) -> Result<Vec<BankTransaction>> {
    let settings = client.working_settings()?;
    let today = settings
        .today
        .as_deref()
        .and_then(map::bank_to_query_date)
        .ok_or_else(|| Error::protocol("Privat24 settings carry no valid `today`"))?;
    let start = match record.created_on.as_deref() {
        Some(day) => map::query_date(day)?,
        None => today.clone(),
    };
    client.all_transactions(&record.account, &start, &today)
}

/// Creates sent earlier without an answer: found on the statement they are
/// booked; otherwise the bank may hold an unsigned payment that no public
/// call finds by its document number, so a person must look instead of
/// the connector sending it again.
fn resolve_unanswered(client: &Client, batch_id: &str, record: &mut BatchRecord) -> Result<()> {
    if !record.transfers.iter().any(|t| t.stage == Stage::Sending) {
        return Ok(());
    }
    let lines = statement_since(client, record)?;
    for (position, slot) in record.transfers.iter_mut().enumerate() {
        if slot.stage != Stage::Sending {
            continue;
        }
        let number = batch::document_number(batch_id, position)?;
        match map::booked_payment(&lines, &number, None) {
            Some(line) => slot.book(line),
            None => slot.review(format!(
                "Privat24 never answered the request that created this payment (document \
                 number {number}) and no public call finds an unsigned payment by its number, so \
                 the connector does not send it again: look in Privat24 for a payment with \
                 document number {number}, then sign or delete it there"
            )),
        }
    }
    Ok(())
}

/// Marks executed every payment of the batch the statement books (by its
/// pack reference or document number). Outside the bank's working phase
/// the statement is not read; the payments are polled all the same.
fn find_on_statement(client: &Client, batch_id: &str, record: &mut BatchRecord) -> Result<()> {
    let open = |t: &TransferRecord| !t.is_final() && t.stage != Stage::Unsent;
    if !record.transfers.iter().any(open) {
        return Ok(());
    }
    let lines = match statement_since(client, record) {
        Ok(lines) => lines,
        Err(error @ Error::Unavailable(_)) => {
            h2h_sdk::warn!("batch {batch_id}: statement not read: {error:?}");
            return Ok(());
        }
        Err(error) => return Err(error),
    };
    for (position, slot) in record.transfers.iter_mut().enumerate() {
        if !open(slot) {
            continue;
        }
        let number = batch::document_number(batch_id, position)?;
        if let Some(line) = map::booked_payment(&lines, &number, slot.pack_ref.as_deref()) {
            slot.book(line);
        }
    }
    Ok(())
}

/// Asks the bank for each created payment not yet booked.
fn poll_payments(client: &Client, record: &mut BatchRecord) -> Result<()> {
    let now = h2h_sdk::time::now_unix();
    for slot in &mut record.transfers {
        if slot.stage != Stage::Created {
            continue;
        }
        let Some(payment_ref) = slot.payment_ref.clone() else {
            continue;
        };
        match client.payment(&payment_ref)? {
            Some(payment) => slot.status_seen(scalar(&payment.payment_status), now),
            None => slot.review(format!(
                "Privat24 no longer knows payment {payment_ref} and the statement does not \
                 book it: it may have been deleted in Privat24; look there"
            )),
        }
    }
    Ok(())
}

/// Deletes every payment the bank has not executed; withdraws those never
/// sent. A payment the bank keeps (signed) keeps its stage, with the bank's
/// reason.
fn delete_payments(client: &Client, record: &mut BatchRecord) -> Result<()> {
    for slot in &mut record.transfers {
        match slot.stage {
            Stage::Unsent => slot.withdraw("withdrawn before it was sent to Privat24"),
            Stage::Sending => slot.review(
                "withdrawn while Privat24 had not answered its create request: look in \
                 Privat24 for an unsigned payment with its document number and delete it there"
                    .to_owned(),
            ),
            Stage::Created => {
                let Some(payment_ref) = slot.payment_ref.clone() else {
                    continue;
                };
                match client.delete_payment(&payment_ref)? {
                    Deleted::Done => slot.withdraw("deleted in Privat24 before it was signed"),
                    Deleted::NotFound => slot.review(format!(
                        "Privat24 no longer knows payment {payment_ref}: it may have been \
                         deleted or executed; look in Privat24"
                    )),
                    Deleted::Refused(reason) => {
                        slot.message = Some(format!("Privat24 keeps the payment: {reason}"));
                    }
                }
            }
            Stage::Booked | Stage::Refused | Stage::Withdrawn | Stage::NeedsReview => {}
        }
    }
    Ok(())
}

/// Sends the payments not sent yet, in batch order. The record is saved
/// before each create goes out (`sending`) and after its answer, so a call
/// cut short never forgets a payment the bank may hold. The bank's refusal
/// of one payment (400) rejects that transfer only; any other error ends
/// the call.
fn send_payments(
    client: &Client,
    batch_id: &str,
    record: &mut BatchRecord,
    payments: Vec<PaymentRequest>,
) -> Result<()> {
    for (position, payment) in payments.into_iter().enumerate() {
        let Some(slot) = record.transfers.get(position) else {
            return Err(Error::protocol(format!(
                "the stored record of batch {batch_id} is short"
            )));
        };
        if slot.stage != Stage::Unsent {
            continue;
        }
        let request = PaymentRequest {
            document_number: batch::document_number(batch_id, position)?,
            ..payment
        };
        record.transfers[position].stage = Stage::Sending;
        batch::save(batch_id, record)?;
        let created = client.create_payment(&request)?;
        let slot = &mut record.transfers[position];
        let outcome = match created {
            Created::Payment(answer) if map::is_same_payment(&answer, &request) => {
                let status = answer.status();
                slot.created(answer.payment_ref, scalar(&answer.payment_pack_ref), status);
                Ok(())
            }
            Created::Payment(answer) => {
                let reason = format!(
                    "document number {} is already used at Privat24 by another payment ({})",
                    request.document_number, answer.payment_ref
                );
                h2h_sdk::warn!("{reason}");
                slot.refuse(reason);
                Ok(())
            }
            Created::Refused { code, message } => {
                slot.refuse(format!("Privat24 refused the payment ({code}): {message}"));
                Ok(())
            }
            Created::NotTaken(error) => {
                slot.stage = Stage::Unsent;
                Err(error)
            }
            // Stays `sending`: the next submit looks for it first.
            Created::Unanswered(error) => Err(error),
        };
        batch::save(batch_id, record)?;
        outcome?;
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
        .filter(|t| !matches!(t.stage, Stage::Unsent | Stage::Refused))
        .count();
    if created == 0 || error.is_retryable() || matches!(error, Error::Protocol(_)) {
        return error;
    }
    Error::unavailable(format!(
        "{created} of the payments of batch {batch_id} may already exist at Privat24; submit \
         the batch again with the same idempotency key to finish it. The error: {error:?}"
    ))
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
        let payment_date = transfer
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
            payment_date,
        });
    }
    Ok(payments)
}

h2h_sdk::export_bank_connector!(Privat24);
