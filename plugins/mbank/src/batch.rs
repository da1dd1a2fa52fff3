//! Transfer batches: the waiting room's transfers as one Elixir-O file,
//! signed with the authorizing user's qualified certificate (detached RSA
//! PKCS#1 v1.5 or ECDSA P-256, SHA-256, over the exact bytes), and their
//! statuses read back per line.
//!
//! The exact file and signature are stored under the host's idempotency
//! key before the first send: a retry sends the same bytes, which mBank
//! answers with the batch it already has, never a second one.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use h2h_sdk::bank::{BatchStatus, Transfer, TransferBatch, TransferState, TransferStatus};
use h2h_sdk::signing::{self, Certificate, Mechanism};
use h2h_sdk::{Document, Error, Result, storage, time};
use serde::{Deserialize, Serialize};

use crate::api::{Auth, Call, Client, json, path};
use crate::elixir::{self, Line};
use crate::session::{self, SessionSecret};
use crate::statement::{self, AccountEntry};

/// The file's media type.
const MEDIA_TYPE: &str = "text/plain; charset=iso-8859-2";

/// What was sent (or is about to be) for one idempotency key.
#[derive(Serialize, Deserialize)]
struct Record {
    file_name: String,
    /// Base64 of the exact bytes.
    file: String,
    signature: String,
    certificate: String,
    transfer_ids: Vec<String>,
    bank_batch_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BatchRequest<'a> {
    dik: &'a str,
    file_name: &'a str,
    file: &'a str,
    signature: &'a str,
    signer_certificate: &'a str,
    all_or_nothing: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Accepted {
    batch_id: String,
    status: String,
    accepted: Option<u64>,
    rejected: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BankBatch {
    batch_id: String,
    transfers: Vec<BankTransfer>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BankTransfer {
    line: usize,
    reference: Option<String>,
    status: String,
    code: Option<String>,
    field: Option<u8>,
    reason: Option<String>,
    tnr: Option<String>,
}

/// The bank's word for a transfer's state (assumed names, see README).
pub fn state(bank: &str) -> TransferState {
    match bank {
        "ACCEPTED" => TransferState::Accepted,
        "EXECUTED" => TransferState::Executed,
        "REJECTED" => TransferState::Rejected,
        _ => TransferState::Pending,
    }
}

fn refuse(transfer: &Transfer, what: impl std::fmt::Display) -> Error {
    Error::invalid_input(format!("transfer {}: {what}", transfer.id.trim()))
}

/// One transfer as an Elixir-O line from `sender` on `today` (`YYYY-MM-DD`).
pub fn line(transfer: &Transfer, sender_nrb: &str, sender: &[String], today: &str) -> Result<Line> {
    let id = transfer.id.trim();
    if !elixir::valid_reference(id) {
        return Err(Error::invalid_input(format!(
            "transfer id `{id}` cannot be mBank's client reference (1 to {} of A-Z a-z 0-9 - . _)",
            elixir::MAX_REFERENCE
        )));
    }
    if transfer.amount.currency != "PLN" {
        return Err(refuse(
            transfer,
            format!("Elixir-O carries PLN, not {}", transfer.amount.currency),
        ));
    }
    let grosze = elixir::grosze(&transfer.amount.amount).ok_or_else(|| {
        refuse(
            transfer,
            format!(
                "`{}` is not a positive amount in grosze",
                transfer.amount.amount
            ),
        )
    })?;
    let account = transfer
        .counterparty
        .account
        .as_deref()
        .ok_or_else(|| refuse(transfer, "no beneficiary account"))?;
    let recipient_nrb = elixir::nrb(account).ok_or_else(|| {
        refuse(
            transfer,
            format!(
                "`{account}` is not a Polish account number (Elixir-O takes domestic transfers)"
            ),
        )
    })?;
    let name = transfer
        .counterparty
        .name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| refuse(transfer, "no beneficiary name"))?;
    let recipient = elixir::name_and_address(name, transfer.counterparty.address.as_deref())
        .ok_or_else(|| {
            refuse(
                transfer,
                "the beneficiary's name is longer than 4 × 35 characters",
            )
        })?;
    if transfer.title.trim().is_empty() {
        return Err(refuse(transfer, "no title"));
    }
    let (title, split_payment) = match &transfer.split_payment {
        Some(split) => {
            let vat = elixir::grosze(&split.vat_amount.amount)
                .filter(|v| *v <= grosze)
                .ok_or_else(|| {
                    refuse(
                        transfer,
                        format!(
                            "VAT `{}` is not an amount up to the transfer's",
                            split.vat_amount.amount
                        ),
                    )
                })?;
            let title = elixir::split_payment_title(vat, &split.tax_id, &split.invoice_number, &transfer.title)
                .ok_or_else(|| refuse(transfer, "the split payment needs a NIP of up to 14 characters and an invoice number of up to 35"))?;
            (title, true)
        }
        None => (
            elixir::wrap(&transfer.title)
                .ok_or_else(|| refuse(transfer, "the title is longer than 4 × 35 characters"))?,
            false,
        ),
    };
    let date = transfer
        .execution_date
        .as_deref()
        .map(str::trim)
        .filter(|d| *d > today)
        .unwrap_or(today)
        .replace('-', "");
    Ok(Line {
        date,
        grosze,
        sender_nrb: sender_nrb.to_owned(),
        recipient_nrb,
        sender: sender.to_vec(),
        recipient,
        title,
        split_payment,
        reference: Some(id.to_owned()),
    })
}

/// The whole file for `batch` from the DIK's account `sender`.
pub fn file(batch: &TransferBatch, sender: &AccountEntry, today: &str) -> Result<Vec<u8>> {
    if batch.transfers.is_empty() {
        return Err(Error::invalid_input("a batch without transfers"));
    }
    let mut ids = std::collections::BTreeSet::new();
    if let Some(twice) = batch.transfers.iter().find(|t| !ids.insert(t.id.trim())) {
        return Err(Error::invalid_input(format!(
            "transfer id {} is twice in the batch",
            twice.id
        )));
    }
    let sender_nrb = elixir::nrb(&sender.iban)
        .ok_or_else(|| Error::invalid_input(format!("{} is not a Polish account", sender.iban)))?;
    let holder = sender.holder.as_deref().unwrap_or_default();
    let sender_name = elixir::name_and_address(holder, None).ok_or_else(|| {
        Error::protocol(format!("mBank names no usable holder of {}", sender.iban))
    })?;
    let lines = batch
        .transfers
        .iter()
        .map(|t| line(t, &sender_nrb, &sender_name, today))
        .collect::<Result<Vec<_>>>()?;
    elixir::file(&lines)
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
        (None, None) => {
            return Err(Error::invalid_input(
                "a session opened by mobile token names no certificate: the batch must name its signing key",
            ));
        }
    };
    let certificate = found.ok_or_else(|| {
        Error::session_required(
            "the authorizing user's certificate is not open for signing: open a signing session with its PIN",
        )
    })?;
    let mechanism = [Mechanism::RsaPkcs1Sha256, Mechanism::EcdsaP256Sha256]
        .into_iter()
        .find(|m| certificate.mechanisms.contains(m))
        .ok_or_else(|| {
            Error::invalid_input(format!(
                "key {} signs with no mechanism mBank verifies (RSA PKCS#1 v1.5 or ECDSA P-256, SHA-256)",
                certificate.key_id
            ))
        })?;
    Ok((certificate, mechanism))
}

fn prepare(batch: &TransferBatch, secret: &SessionSecret, auth: &Auth<'_>) -> Result<Record> {
    if batch.editable_in_bank {
        return Err(Error::unsupported(
            "mBank CompanyNet takes signed Elixir-O files only; edit the batch before sending it",
        ));
    }
    let key = batch.idempotency_key.trim();
    if key.is_empty()
        || key.len() > 64
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::invalid_input(format!(
            "idempotency key `{key}` cannot name a file (1 to 64 of A-Z a-z 0-9 - _)"
        )));
    }
    let sender = statement::account_entry(&batch.account, auth)?;
    let today = time::rfc3339(time::now_unix())
        .get(..10)
        .unwrap_or_default()
        .to_owned();
    let file = file(batch, &sender, &today)?;
    let (certificate, mechanism) = signer(batch, secret)?;
    let signature = signing::sign(&certificate.key_id, mechanism, &file)?;
    Ok(Record {
        file_name: format!("przelewy-{key}.pli"),
        file: BASE64.encode(&file),
        signature: BASE64.encode(signature),
        certificate: BASE64.encode(&certificate.der),
        transfer_ids: batch
            .transfers
            .iter()
            .map(|t| t.id.trim().to_owned())
            .collect(),
        bank_batch_id: None,
    })
}

/// The contract's statuses of the bank's lines; line `n` is the `n`th
/// transfer sent.
pub(crate) fn statuses(answer: BankBatch, transfer_ids: &[String]) -> BatchStatus {
    BatchStatus {
        batch_id: answer.batch_id,
        transfers: answer
            .transfers
            .into_iter()
            .map(|t| {
                let id = t
                    .line
                    .checked_sub(1)
                    .and_then(|i| transfer_ids.get(i).cloned())
                    .or(t.reference)
                    .unwrap_or_else(|| format!("line {}", t.line));
                let message = (t.status == "REJECTED").then(|| {
                    let field = t.field.map(|f| format!(", field {f}")).unwrap_or_default();
                    format!(
                        "line {}{field}: {} {}",
                        t.line,
                        t.code.as_deref().unwrap_or("REJECTED"),
                        t.reason.as_deref().unwrap_or_default()
                    )
                    .trim_end()
                    .to_owned()
                });
                TransferStatus {
                    transfer_id: id,
                    state: state(&t.status),
                    bank_state: Some(t.status),
                    bank_reference: t.tnr,
                    message,
                }
            })
            .collect(),
        documents: Vec::new(),
    }
}

fn sent_key(bank_batch_id: &str) -> String {
    format!("sent/{bank_batch_id}")
}

/// The DIK a batch went under: its status is asked under the same one.
fn dik_key(bank_batch_id: &str) -> String {
    format!("dik/{bank_batch_id}")
}

fn read(batch_id: &str, auth: &Auth<'_>) -> Result<BatchStatus> {
    let answer = Client::from_config().get(
        &format!("{}/{batch_id}", path::BATCHES),
        &[],
        Some(auth),
        Call::Session,
    )?;
    let ids: Vec<String> = storage::get(&sent_key(batch_id))?.unwrap_or_default();
    Ok(statuses(json(&answer, "the batch status")?, &ids))
}

/// `submit-batch`.
pub fn submit(batch: TransferBatch) -> Result<BatchStatus> {
    let (secret, dik) = session::for_account(&batch.account)?;
    let auth = Auth {
        token: &secret.token,
        dik: Some(&dik),
    };
    let key = format!("batch/{}", batch.idempotency_key.trim());
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
            let record = prepare(&batch, &secret, &auth)?;
            storage::set(&key, &record)?;
            record
        }
    };
    let answer = Client::from_config().post(
        path::BATCHES,
        &BatchRequest {
            dik: &dik,
            file_name: &record.file_name,
            file: &record.file,
            signature: &record.signature,
            signer_certificate: &record.certificate,
            all_or_nothing: false,
        },
        Some(&auth),
        Call::Session,
    )?;
    let accepted: Accepted = json(&answer, "the batch")?;
    record.bank_batch_id = Some(accepted.batch_id.clone());
    storage::set(&key, &record)?;
    storage::set(&sent_key(&accepted.batch_id), &record.transfer_ids)?;
    storage::set(&dik_key(&accepted.batch_id), &dik)?;
    h2h_sdk::info!(
        "batch {}: {} transfers sent to mBank as {} ({}, {} accepted, {} rejected)",
        batch.idempotency_key,
        record.transfer_ids.len(),
        accepted.batch_id,
        accepted.status,
        accepted.accepted.unwrap_or_default(),
        accepted.rejected.unwrap_or_default()
    );
    let mut status = read(&accepted.batch_id, &auth).unwrap_or_else(|_| BatchStatus {
        batch_id: accepted.batch_id.clone(),
        transfers: record
            .transfer_ids
            .iter()
            .map(|id| TransferStatus {
                transfer_id: id.clone(),
                state: TransferState::Pending,
                bank_state: Some(accepted.status.clone()),
                bank_reference: None,
                message: None,
            })
            .collect(),
        documents: Vec::new(),
    });
    let bytes = BASE64
        .decode(&record.file)
        .map_err(|e| Error::protocol(format!("the stored batch file is unreadable: {e}")))?;
    status.documents = vec![Document {
        name: record.file_name.clone(),
        media_type: MEDIA_TYPE.to_owned(),
        content: bytes,
    }];
    Ok(status)
}

/// `get-batch-status`.
pub fn status(batch_id: &str) -> Result<BatchStatus> {
    let (secret, dik) = match storage::get::<String>(&dik_key(batch_id))? {
        Some(dik) => session::covering(dik)?,
        None => session::for_company()?,
    };
    read(
        batch_id,
        &Auth {
            token: &secret.token,
            dik: Some(&dik),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use h2h_sdk::Money;
    use h2h_sdk::bank::{Counterparty, SplitPayment};

    const TODAY: &str = "2026-11-30";

    fn transfer(id: &str, amount: &str) -> Transfer {
        Transfer {
            id: id.to_owned(),
            counterparty: Counterparty {
                name: Some("Dostawca Wałbrzych Sp. z o.o.".to_owned()),
                account: Some("PL61 1090 1014 0000 0712 1981 2874".to_owned()),
                ..Counterparty::default()
            },
            amount: Money::new(amount, "PLN"),
            title: "Zapłata za FV/42".to_owned(),
            execution_date: None,
            split_payment: None,
        }
    }

    fn sender() -> AccountEntry {
        AccountEntry {
            iban: "PL81114020040000320212345678".to_owned(),
            nrb: None,
            currency: "PLN".to_owned(),
            holder: Some("Przedsiębiorstwo Testowe Żuraw Sp. z o.o.".to_owned()),
        }
    }

    fn batch(transfers: Vec<Transfer>) -> TransferBatch {
        TransferBatch {
            idempotency_key: "0123456789abcdef".to_owned(),
            account: "PL81114020040000320212345678".to_owned(),
            transfers,
            editable_in_bank: false,
            signing_key: None,
        }
    }

    #[test]
    fn transfers_become_lines() {
        let mut later = transfer("FV-2", "2400.5");
        later.execution_date = Some("2026-12-03".to_owned());
        let mut past = transfer("FV-3", "1");
        past.execution_date = Some("2026-11-01".to_owned());
        let bytes = file(
            &batch(vec![transfer("FV-1", "150.00"), later, past]),
            &sender(),
            TODAY,
        )
        .expect("file");
        let text: String = bytes.iter().map(|b| char::from(*b)).collect();
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("110,20261130,15000,11402004,0,\"81114020040000320212345678\",\"61109010140000071219812874\","), "{}", lines[0]);
        assert!(
            lines[0].ends_with(",0,10901014,\"Zap\u{b3}ata za FV/42\",\"\",\"\",\"51\",\"FV-1\""),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].contains("\"Przedsi\u{ea}biorstwo Testowe \u{af}uraw Sp.|z o.o.\""),
            "{}",
            lines[0]
        );
        assert!(lines[1].starts_with("110,20261203,240050,"));
        assert!(lines[2].starts_with("110,20261130,100,"));
    }

    #[test]
    fn split_payments_take_code_53() {
        let mut t = transfer("FV-1", "123.00");
        t.split_payment = Some(SplitPayment {
            vat_amount: Money::new("23.00", "PLN"),
            tax_id: "5260250995".to_owned(),
            invoice_number: "FV/1/2026".to_owned(),
        });
        let l = line(&t, "81114020040000320212345678", &["X".to_owned()], TODAY).expect("line");
        assert!(l.split_payment);
        assert_eq!(
            l.title.concat(),
            "/VAT/23,00/IDC/5260250995/INV/FV/1/2026/TXT/Zapłata za FV/42"
        );
        assert!(l.text().ends_with(",\"\",\"\",\"53\",\"FV-1\""));
        let mut too_much = t.clone();
        if let Some(s) = too_much.split_payment.as_mut() {
            s.vat_amount = Money::new("124.00", "PLN");
        }
        assert!(
            line(
                &too_much,
                "81114020040000320212345678",
                &["X".to_owned()],
                TODAY
            )
            .is_err()
        );
    }

    #[test]
    fn bad_transfers_are_refused_before_the_bank() {
        let mut no_name = transfer("A-1", "1.00");
        no_name.counterparty.name = None;
        let mut foreign = transfer("A-2", "1.00");
        foreign.counterparty.account = Some("DE89370400440532013000".to_owned());
        let mut euro = transfer("A-3", "1.00");
        euro.amount.currency = "EUR".to_owned();
        let mut long_title = transfer("A-4", "1.00");
        long_title.title = "słowo ".repeat(40);
        let slash = transfer("A/5", "1.00");
        let zero = transfer("A-6", "0.00");
        for (t, says) in [
            (no_name, "name"),
            (foreign, "Polish"),
            (euro, "EUR"),
            (long_title, "4 × 35"),
            (slash, "client reference"),
            (zero, "grosze"),
        ] {
            let error = file(&batch(vec![t]), &sender(), TODAY).expect_err("refused");
            assert!(
                matches!(&error, Error::InvalidInput(m) if m.contains(says)),
                "{error:?}"
            );
        }
        let twice = file(
            &batch(vec![transfer("A-1", "1"), transfer("A-1", "2")]),
            &sender(),
            TODAY,
        )
        .expect_err("twice");
        assert!(
            matches!(&twice, Error::InvalidInput(m) if m.contains("twice")),
            "{twice:?}"
        );
        // Check digits are the bank's to judge: the line is written.
        let mut typo = transfer("A-7", "1.00");
        typo.counterparty.account = Some("61109010140000071219812875".to_owned());
        assert!(file(&batch(vec![typo]), &sender(), TODAY).is_ok());
    }

    #[test]
    fn bank_lines_map_to_transfers_by_line() {
        let answer: BankBatch = serde_json::from_str(
            r#"{"batchId":"EX00000001","status":"PENDING","dik":"10012345","transfers":[
              {"line":1,"reference":"FV-1","status":"ACCEPTED","amount":"150.00"},
              {"line":2,"status":"REJECTED","code":"BAD_NRB","field":7,"reason":"check digits"},
              {"line":3,"reference":"FV-3","status":"EXECUTED","tnr":"263340000000042.000001"},
              {"line":4,"reference":"FV-4","status":"REJECTED","code":"BANK_REJECTED","reason":"RACHUNEK ZAMKNIĘTY"},
              {"line":5,"reference":"FV-5","status":"ON_HOLD"}]}"#,
        )
        .expect("json");
        let ids: Vec<String> = ["FV-1", "FV-2", "FV-3", "FV-4"].map(str::to_owned).to_vec();
        let status = statuses(answer, &ids);
        assert_eq!(status.batch_id, "EX00000001");
        let t = &status.transfers;
        assert_eq!(t[0].state, TransferState::Accepted);
        assert_eq!(t[1].transfer_id, "FV-2");
        assert_eq!(t[1].state, TransferState::Rejected);
        assert_eq!(
            t[1].message.as_deref(),
            Some("line 2, field 7: BAD_NRB check digits")
        );
        assert_eq!(t[2].state, TransferState::Executed);
        assert_eq!(
            t[2].bank_reference.as_deref(),
            Some("263340000000042.000001")
        );
        assert_eq!(
            t[3].message.as_deref(),
            Some("line 4: BANK_REJECTED RACHUNEK ZAMKNIĘTY")
        );
        assert_eq!(t[4].transfer_id, "FV-5");
        assert_eq!(t[4].state, TransferState::Pending);
        assert_eq!(t[4].bank_state.as_deref(), Some("ON_HOLD"));
    }
}
