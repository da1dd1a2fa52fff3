//! Transfer batches: the waiting room's transfers as one pain.001 file,
//! signed with the authorizing user's card (or sent unsigned to be edited
//! and signed in PKO BP's web application, the seed's "editable package"),
//! and their statuses read back.
//!
//! The exact file and signature are stored under the host's idempotency
//! key before the first send: a retry sends the same bytes, which PKO BP
//! answers with the batch it already has (same MsgId, same file), never a
//! second one.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use h2h_sdk::bank::{BatchStatus, Transfer, TransferBatch, TransferState, TransferStatus};
use h2h_sdk::signing::{self, Certificate, Mechanism};
use h2h_sdk::{Document, Error, Result, config, storage, time};
use serde::{Deserialize, Serialize};

use crate::api::{Auth, Call, Client, json};
use crate::pain001::{self, Credit, Payment};
use crate::session::{self, SessionSecret};
use crate::statement::compact_account;

/// SWIFT's limit for an EndToEndId and a MsgId.
const MAX_ID: usize = 35;

/// What was sent (or is about to be) for one idempotency key.
#[derive(Serialize, Deserialize)]
struct Record {
    file_name: String,
    file: String,
    editable: bool,
    signature: Option<String>,
    certificate: Option<String>,
    transfer_ids: Vec<String>,
    bank_batch_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BatchRequest<'a> {
    context_id: &'a str,
    editable: bool,
    file_name: &'a str,
    file: String,
    signature: Option<&'a str>,
    signer_certificate: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Accepted {
    batch_id: String,
    status: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BankBatch {
    batch_id: String,
    transactions: Vec<BankTransfer>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BankTransfer {
    end_to_end_id: String,
    status: String,
    reason: Option<String>,
}

/// The bank's word for a transfer's state (assumed names, see README).
fn state(bank: &str) -> TransferState {
    match bank {
        "WAITING_FOR_SIGNATURE" => TransferState::AwaitingApproval,
        "ACCEPTED" => TransferState::Accepted,
        "EXECUTED" => TransferState::Executed,
        "REJECTED" => TransferState::Rejected,
        _ => TransferState::Pending,
    }
}

/// `PL` + 26 digits from an IBAN or NRB as the ERP wrote it.
fn polish_iban(account: &str, what: &str) -> Result<String> {
    let compact = compact_account(account);
    let iban = if compact.len() == 26 && compact.bytes().all(|b| b.is_ascii_digit()) {
        format!("PL{compact}")
    } else {
        compact
    };
    let digits = iban.strip_prefix("PL").unwrap_or_default();
    if digits.len() != 26 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid_input(format!(
            "{what} `{account}` is not a Polish account number (PKO BP Integra takes domestic PLN transfers)"
        )));
    }
    Ok(iban)
}

/// `"150.00"` from the host's amount (two or more decimals, the extra ones
/// zeros).
fn pln_amount(transfer: &Transfer) -> Result<String> {
    let money = &transfer.amount;
    if money.currency != "PLN" {
        return Err(Error::invalid_input(format!(
            "transfer {}: PKO BP Integra takes PLN transfers, not {}",
            transfer.id, money.currency
        )));
    }
    let text = money.amount.trim();
    let (units, fraction) = text.split_once('.').unwrap_or((text, ""));
    let kept = fraction.get(..2).unwrap_or(fraction);
    let dropped = fraction.get(2..).unwrap_or_default();
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if units.is_empty() || !digits(units) || !digits(fraction) || dropped.bytes().any(|b| b != b'0')
    {
        return Err(Error::invalid_input(format!(
            "transfer {}: `{}` is not an amount in grosze",
            transfer.id, money.amount
        )));
    }
    let units = match units.trim_start_matches('0') {
        "" => "0",
        significant => significant,
    };
    let amount = format!("{units}.{kept:0<2}");
    if amount == "0.00" {
        return Err(Error::invalid_input(format!(
            "transfer {}: a zero amount",
            transfer.id
        )));
    }
    Ok(amount)
}

/// The title, in the split-payment form when the transfer pays VAT apart.
fn title(transfer: &Transfer) -> String {
    let text = transfer.title.trim();
    match &transfer.split_payment {
        Some(split) => format!(
            "/VAT/{}/IDC/{}/INV/{}/TXT/{text}",
            split.vat_amount.amount.replace('.', ","),
            split.tax_id.trim(),
            split.invoice_number.trim()
        ),
        None => text.to_owned(),
    }
}

fn credit(transfer: &Transfer) -> Result<Credit> {
    let id = transfer.id.trim();
    if id.is_empty() || id.chars().count() > MAX_ID || !id.is_ascii() {
        return Err(Error::invalid_input(format!(
            "transfer id `{id}` cannot be PKO BP's EndToEndId (1 to {MAX_ID} ASCII characters)"
        )));
    }
    let account =
        transfer.counterparty.account.as_deref().ok_or_else(|| {
            Error::invalid_input(format!("transfer {id}: no beneficiary account"))
        })?;
    let name = transfer
        .counterparty
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Error::invalid_input(format!("transfer {id}: no beneficiary name")))?;
    if transfer.title.trim().is_empty() {
        return Err(Error::invalid_input(format!("transfer {id}: no title")));
    }
    Ok(Credit {
        end_to_end_id: id.to_owned(),
        amount: pln_amount(transfer)?,
        creditor_name: name.to_owned(),
        creditor_iban: polish_iban(account, "the beneficiary account")?,
        title: title(transfer),
    })
}

/// The pain.001 document for `batch`, one `PmtInf` per execution date.
pub fn document(batch: &TransferBatch, now_unix: u64) -> Result<String> {
    if batch.transfers.is_empty() {
        return Err(Error::invalid_input("a batch without transfers"));
    }
    if batch.idempotency_key.is_empty() || batch.idempotency_key.len() > MAX_ID {
        return Err(Error::invalid_input(format!(
            "idempotency key `{}` cannot be a MsgId (1 to {MAX_ID} characters)",
            batch.idempotency_key
        )));
    }
    let created = time::rfc3339(now_unix);
    let today = created.get(..10).unwrap_or_default().to_owned();
    let mut payments: Vec<Payment> = Vec::new();
    for transfer in &batch.transfers {
        let date = transfer
            .execution_date
            .as_deref()
            .map(str::trim)
            .filter(|d| *d > today.as_str())
            .unwrap_or(&today)
            .to_owned();
        let credit = credit(transfer)?;
        match payments.iter_mut().find(|p| p.execution_date == date) {
            Some(payment) => payment.credits.push(credit),
            None => payments.push(Payment {
                execution_date: date,
                credits: vec![credit],
            }),
        }
    }
    pain001::Batch {
        message_id: batch.idempotency_key.clone(),
        created_at: created.get(..19).unwrap_or_default().to_owned(),
        debtor_iban: polish_iban(&batch.account, "the source account")?,
        payments,
    }
    .to_xml()
    .ok_or_else(|| Error::invalid_input("an amount is not two-decimal PLN"))
}

/// Whether to send unsigned for editing at the bank: the batch asks, or
/// the company's `editable-batches` setting does (the seed's "mark the
/// package editable", which must match PKO BP's own setting).
fn editable(batch: &TransferBatch) -> bool {
    batch.editable_in_bank
        || config::setting("editable-batches")
            .is_some_and(|v| matches!(v.trim(), "true" | "1" | "yes"))
}

/// The signer: the key the batch names, else the card the session was
/// opened with, among the keys of tokens open for signing.
fn signer(batch: &TransferBatch, secret: &SessionSecret) -> Result<(Certificate, Mechanism)> {
    let certificates = signing::list_certificates()?;
    let found = match (&batch.signing_key, &secret.certificate) {
        (Some(key), _) => certificates.into_iter().find(|c| &c.key_id == key),
        (None, Some(card)) => {
            let der = BASE64.decode(card).map_err(|e| {
                Error::session_required(format!("the session's certificate is unreadable: {e}"))
            })?;
            certificates.into_iter().find(|c| c.der == der)
        }
        (None, None) => None,
    };
    let certificate = found.ok_or_else(|| {
        Error::session_required(
            "the authorizing user's card is not open for signing: open a signing session with its PIN",
        )
    })?;
    let mechanism = [Mechanism::RsaPkcs1Sha256, Mechanism::EcdsaP256Sha256]
        .into_iter()
        .find(|m| certificate.mechanisms.contains(m))
        .ok_or_else(|| {
            Error::invalid_input(format!(
                "key {} signs with no mechanism PKO BP verifies (RSA PKCS#1 v1.5 or ECDSA P-256, SHA-256)",
                certificate.key_id
            ))
        })?;
    Ok((certificate, mechanism))
}

fn prepare(batch: &TransferBatch, secret: &SessionSecret) -> Result<Record> {
    let file = document(batch, time::now_unix())?;
    let editable = editable(batch);
    let (signature, certificate) = if editable {
        (None, None)
    } else {
        let (certificate, mechanism) = signer(batch, secret)?;
        let signature = signing::sign(&certificate.key_id, mechanism, file.as_bytes())?;
        (
            Some(BASE64.encode(signature)),
            Some(BASE64.encode(&certificate.der)),
        )
    };
    Ok(Record {
        file_name: format!("przelewy-{}.xml", batch.idempotency_key),
        file,
        editable,
        signature,
        certificate,
        transfer_ids: batch
            .transfers
            .iter()
            .map(|t| t.id.trim().to_owned())
            .collect(),
        bank_batch_id: None,
    })
}

fn statuses(answer: BankBatch) -> BatchStatus {
    BatchStatus {
        batch_id: answer.batch_id,
        transfers: answer
            .transactions
            .into_iter()
            .map(|t| TransferStatus {
                transfer_id: t.end_to_end_id,
                state: state(&t.status),
                bank_state: Some(t.status),
                bank_reference: None,
                message: t.reason,
            })
            .collect(),
        documents: Vec::new(),
    }
}

fn read(batch_id: &str, auth: &Auth<'_>) -> Result<BatchStatus> {
    let answer =
        Client::from_config()?.get(&format!("batches/{batch_id}"), &[], auth, Call::Session)?;
    Ok(statuses(json(&answer, "the batch status")?))
}

/// `submit-batch`.
pub fn submit(batch: TransferBatch) -> Result<BatchStatus> {
    let (secret, context_id) = session::for_company()?;
    let key = format!("batch/{}", batch.idempotency_key);
    let mut record = match storage::get::<Record>(&key)? {
        Some(record) => {
            let ids: Vec<String> = batch
                .transfers
                .iter()
                .map(|t| t.id.trim().to_owned())
                .collect();
            if ids != record.transfer_ids {
                return Err(Error::invalid_input(format!(
                    "batch {} was first sent with other transfers",
                    batch.idempotency_key
                )));
            }
            record
        }
        None => {
            let record = prepare(&batch, &secret)?;
            storage::set(&key, &record)?;
            record
        }
    };
    let auth = Auth {
        token: &secret.token,
        context_id: Some(&context_id),
    };
    let answer = Client::from_config()?.post(
        "batches",
        &BatchRequest {
            context_id: &context_id,
            editable: record.editable,
            file_name: &record.file_name,
            file: BASE64.encode(&record.file),
            signature: record.signature.as_deref(),
            signer_certificate: record.certificate.as_deref(),
        },
        Some(&auth),
        Call::Session,
    )?;
    let accepted: Accepted = json(&answer, "the batch")?;
    record.bank_batch_id = Some(accepted.batch_id.clone());
    storage::set(&key, &record)?;
    h2h_sdk::info!(
        "batch {}: {} transfers sent to PKO BP as {} ({})",
        batch.idempotency_key,
        record.transfer_ids.len(),
        accepted.batch_id,
        accepted.status
    );
    // The answer to the send names the batch's state; the transfers'
    // states come from reading it back, or are the batch's own.
    let mut status = read(&accepted.batch_id, &auth).unwrap_or_else(|_| BatchStatus {
        batch_id: accepted.batch_id.clone(),
        transfers: record
            .transfer_ids
            .iter()
            .map(|id| TransferStatus {
                transfer_id: id.clone(),
                state: state(&accepted.status),
                bank_state: Some(accepted.status.clone()),
                bank_reference: None,
                message: None,
            })
            .collect(),
        documents: Vec::new(),
    });
    status.documents = vec![Document {
        name: record.file_name.clone(),
        media_type: "application/xml".to_owned(),
        content: record.file.clone().into_bytes(),
    }];
    Ok(status)
}

/// `get-batch-status`.
pub fn status(batch_id: &str) -> Result<BatchStatus> {
    let (secret, context_id) = session::for_company()?;
    read(
        batch_id,
        &Auth {
            token: &secret.token,
            context_id: Some(&context_id),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use h2h_sdk::Money;
    use h2h_sdk::bank::Counterparty;

    fn transfer(id: &str, amount: &str) -> Transfer {
        Transfer {
            id: id.to_owned(),
            counterparty: Counterparty {
                name: Some("Dostawca Sp. z o.o.".to_owned()),
                account: Some("61 1090 1014 0000 0712 1981 2874".to_owned()),
                ..Counterparty::default()
            },
            amount: Money::new(amount, "PLN"),
            title: "FV/1".to_owned(),
            execution_date: None,
            split_payment: None,
        }
    }

    fn batch(transfers: Vec<Transfer>) -> TransferBatch {
        TransferBatch {
            idempotency_key: "0123456789abcdef0123456789abcdef".to_owned(),
            account: "PL60102010260000042270201111".to_owned(),
            transfers,
            editable_in_bank: false,
            signing_key: None,
        }
    }

    #[test]
    fn amounts_are_grosze_in_pln() {
        assert_eq!(pln_amount(&transfer("a", "150.00")).expect("ok"), "150.00");
        assert_eq!(pln_amount(&transfer("a", "0.50")).expect("ok"), "0.50");
        assert_eq!(pln_amount(&transfer("a", "7.1000")).expect("ok"), "7.10");
        assert_eq!(pln_amount(&transfer("a", "12")).expect("ok"), "12.00");
        for bad in ["1.001", "-5.00", "0.00", "1,50", ""] {
            assert!(pln_amount(&transfer("a", bad)).is_err(), "{bad}");
        }
        let mut euro = transfer("a", "1.00");
        euro.amount.currency = "EUR".to_owned();
        assert!(matches!(pln_amount(&euro), Err(Error::InvalidInput(m)) if m.contains("EUR")));
    }

    #[test]
    fn the_document_carries_every_transfer_with_an_nrb_made_iban() {
        let xml = document(
            &batch(vec![transfer("ERP-1", "150.00"), transfer("ERP-2", "0.05")]),
            1_796_000_000,
        )
        .expect("xml");
        assert!(
            xml.contains("<IBAN>PL61109010140000071219812874</IBAN>"),
            "{xml}"
        );
        assert!(
            xml.contains("<NbOfTxs>2</NbOfTxs><CtrlSum>150.05</CtrlSum>"),
            "{xml}"
        );
        assert!(xml.contains("<MsgId>0123456789abcdef0123456789abcdef</MsgId>"));
    }

    #[test]
    fn bad_transfers_are_refused_before_the_bank() {
        let mut no_name = transfer("ERP-1", "1.00");
        no_name.counterparty.name = None;
        let mut foreign = transfer("ERP-2", "1.00");
        foreign.counterparty.account = Some("DE89370400440532013000".to_owned());
        let long = transfer(&"x".repeat(36), "1.00");
        for (t, says) in [(no_name, "name"), (foreign, "Polish"), (long, "EndToEndId")] {
            let error = document(&batch(vec![t]), 1_796_000_000).expect_err("refused");
            assert!(
                matches!(&error, Error::InvalidInput(m) if m.contains(says)),
                "{error:?}"
            );
        }
    }

    #[test]
    fn split_payment_titles_take_the_mpp_form() {
        let mut t = transfer("ERP-1", "123.00");
        t.split_payment = Some(h2h_sdk::bank::SplitPayment {
            vat_amount: Money::new("23.00", "PLN"),
            tax_id: "5260250995".to_owned(),
            invoice_number: "FV/1".to_owned(),
        });
        assert_eq!(title(&t), "/VAT/23,00/IDC/5260250995/INV/FV/1/TXT/FV/1");
    }

    #[test]
    fn bank_states_map_to_the_contract() {
        assert_eq!(
            state("WAITING_FOR_SIGNATURE"),
            TransferState::AwaitingApproval
        );
        assert_eq!(state("EXECUTED"), TransferState::Executed);
        assert_eq!(state("REJECTED"), TransferState::Rejected);
        assert_eq!(state("SOMETHING_NEW"), TransferState::Pending);
    }
}
