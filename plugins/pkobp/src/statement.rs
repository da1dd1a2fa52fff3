//! Statements: the bank's MT940 file for an account and date range (the
//! seed's `PkoBpGetStatment`), parsed here, its lines keyed by PKO's own
//! reference for each booking, and the file itself handed to the host to
//! keep.

use h2h_sdk::bank::{Finality, Statement, StatementQuery, Transaction};
use h2h_sdk::from_mt940;
use h2h_sdk::mt940::{self, Encoding, ParseOptions};
use h2h_sdk::{Document, Error, Result, time};

use crate::api::{Auth, Call, Client};
use crate::session;

/// The charset PKO BP sends MT940 in when the answer does not say
/// (polish-bank-formats.md: ISO-8859-2).
const DEFAULT_ENCODING: Encoding = Encoding::Iso8859_2;

/// Account numbers as MT940's `:25:` and the ERP write them: IBAN or NRB,
/// with or without spaces and a leading `/`.
pub fn compact_account(account: &str) -> String {
    account
        .trim()
        .trim_start_matches('/')
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Whether `:25:` names `account` (the bank may write the NRB, the IBAN
/// or either with its bank code in front, `BANKCODE/ACCOUNT`).
fn same_account(statement_account: &str, account: &str) -> bool {
    let written = compact_account(statement_account);
    let written = written.rsplit('/').next().unwrap_or_default();
    let nrb = |a: &str| {
        a.strip_prefix("PL")
            .map(str::to_owned)
            .unwrap_or_else(|| a.to_owned())
    };
    !written.is_empty() && nrb(written) == nrb(&compact_account(account))
}

/// The encoding named by a `Content-Type`'s charset.
pub fn encoding(content_type: Option<&str>) -> Encoding {
    let charset = content_type
        .and_then(|t| {
            t.split(';')
                .find_map(|part| part.trim().strip_prefix("charset="))
        })
        .map(|c| c.trim_matches('"').to_ascii_lowercase());
    match charset.as_deref() {
        Some("utf-8" | "utf8") => Encoding::Utf8,
        Some("windows-1250" | "cp1250") => Encoding::Windows1250,
        Some("ibm852" | "cp852") => Encoding::Cp852,
        Some("iso-8859-2" | "iso8859-2" | "latin2") => Encoding::Iso8859_2,
        _ => DEFAULT_ENCODING,
    }
}

/// A parsed file as one statement page of `account`: the range's opening
/// and closing balances, every line once (a line the bank repeats in the
/// file, same bank reference, is taken once), the file as a document; and
/// how many repeated lines were dropped.
pub fn page(
    account: &str,
    file: &[u8],
    encoding: Encoding,
    document: Document,
) -> Result<(Statement, usize)> {
    let parsed =
        mt940::parse_with(file, &ParseOptions::default().encoding(encoding)).map_err(|e| {
            Error::protocol(format!(
                "PKO BP sent an MT940 file that does not parse: {e}"
            ))
        })?;
    let days: Vec<_> = parsed
        .iter()
        .filter(|s| same_account(&s.account, account))
        .collect();
    // A file may hold other accounts too (a multi-account export); they
    // are fetched under their own queries. One without ours is an error.
    if days.is_empty() {
        let other = parsed.first().map_or("none", |s| s.account.as_str());
        return Err(Error::protocol(format!(
            "PKO BP's MT940 holds no statement of {account} (first account: {other})"
        )));
    }
    let currency = days
        .iter()
        .find_map(|s| s.currency())
        .map(str::to_owned)
        .ok_or_else(|| {
            Error::protocol(format!("PKO BP's MT940 for {account} names no currency"))
        })?;
    let mut statement = Statement::new(account, currency.clone());
    statement.opening_balance = days
        .first()
        .and_then(|s| s.opening_balance.as_ref())
        .map(from_mt940::balance);
    statement.closing_balance = days
        .last()
        .and_then(|s| s.closing_balance.as_ref())
        .map(from_mt940::balance);
    let mut seen = std::collections::BTreeSet::new();
    let mut repeated = 0;
    let mut transactions: Vec<Transaction> = Vec::new();
    for day in &days {
        let closing = day.closing_balance.as_ref().map(|b| &b.date);
        for (position, line) in day.transactions.iter().enumerate() {
            // Fee lines may come without the bank's reference: their key is
            // the day's statement reference (stable per day), the line's
            // place and its amount.
            let reference = match line.bank_reference.as_deref().map(str::trim) {
                Some(reference) if !reference.is_empty() => reference.to_owned(),
                _ => format!(
                    "{}/{}/{}{}",
                    day.reference,
                    position + 1,
                    line.mark.code(),
                    line.amount.abs()
                ),
            };
            if !seen.insert(reference.clone()) {
                repeated += 1;
                continue;
            }
            transactions.push(from_mt940::transaction(line, &currency, reference, closing));
        }
    }
    statement.transactions = transactions;
    statement.documents = vec![document];
    Ok((statement, repeated))
}

/// `fetch-statement`: one file covers the whole range, so there is one
/// page and no continuation.
pub fn fetch(query: &StatementQuery) -> Result<Statement> {
    let account = compact_account(&query.account);
    if account.is_empty() {
        return Err(Error::invalid_input("the statement query names no account"));
    }
    if query.from.trim() > query.to.trim() {
        return Err(Error::invalid_input(format!(
            "the range {} to {} ends before it starts",
            query.from, query.to
        )));
    }
    let (secret, context_id) = session::for_company()?;
    let auth = Auth {
        token: &secret.token,
        context_id: Some(&context_id),
    };
    let answer = Client::from_config()?.get(
        "statements/mt940",
        &[
            ("account", &account),
            ("from", query.from.trim()),
            ("to", query.to.trim()),
        ],
        &auth,
        Call::Session,
    )?;
    let content_type = answer.header("content-type").map(str::to_owned);
    let document = Document {
        name: format!(
            "pko-{account}-{}-{}.sta",
            query.from.trim(),
            query.to.trim()
        ),
        media_type: content_type
            .clone()
            .unwrap_or_else(|| "text/plain; charset=iso-8859-2".to_owned()),
        content: answer.body().to_vec(),
    };
    let mut statement = if answer.body().iter().all(u8::is_ascii_whitespace) {
        // No statement day in the range yet: an empty page in the
        // account's currency, which the bank's account list gives.
        let mut empty = Statement::new(query.account.clone(), currency_of(&account, &auth)?);
        empty.documents = vec![document];
        empty
    } else {
        let (page, repeated) = page(
            &account,
            answer.body(),
            encoding(content_type.as_deref()),
            document,
        )?;
        if repeated > 0 {
            h2h_sdk::warn!(
                "PKO BP repeated {repeated} booking(s) in one MT940 file; each taken once"
            );
        }
        page
    };
    statement.account = query.account.clone();
    // Days before today are closed at the bank; today's may still grow.
    let today = time::rfc3339(time::now_unix());
    statement.finality = if query.to.trim() < &today[..10.min(today.len())] {
        Finality::Final
    } else {
        Finality::Interim
    };
    Ok(statement)
}

#[derive(serde::Deserialize)]
struct Accounts {
    accounts: Vec<AccountEntry>,
}

#[derive(serde::Deserialize)]
struct AccountEntry {
    iban: String,
    nrb: Option<String>,
    currency: String,
}

fn currency_of(account: &str, auth: &Auth<'_>) -> Result<String> {
    let answer = Client::from_config()?.get("accounts", &[], auth, Call::Session)?;
    let list: Accounts = crate::api::json(&answer, "the account list")?;
    list.accounts
        .into_iter()
        .find(|a| {
            same_account(&a.iban, account)
                || a.nrb.as_deref().is_some_and(|n| same_account(n, account))
        })
        .map(|a| a.currency)
        .ok_or_else(|| {
            Error::invalid_input(format!(
                "PKO BP does not list account {account} for this ContextId"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(file: &[u8]) -> Document {
        Document {
            name: "t.sta".to_owned(),
            media_type: "text/plain".to_owned(),
            content: file.to_vec(),
        }
    }

    /// polish-bank-formats.md's PKO layout (`~` subfields, ISO-8859-2),
    /// as the workspace's written PKO fixture has it.
    const FILE: &[u8] =
        include_bytes!("../../../formats/mt940/tests/fixtures/written/pko_iso8859-2.sta");

    #[test]
    fn charsets_are_read_from_the_content_type() {
        assert_eq!(
            encoding(Some("text/plain; charset=ISO-8859-2")),
            Encoding::Iso8859_2
        );
        assert_eq!(
            encoding(Some("text/plain;charset=\"windows-1250\"")),
            Encoding::Windows1250
        );
        assert_eq!(encoding(Some("text/plain")), Encoding::Iso8859_2);
        assert_eq!(encoding(None), Encoding::Iso8859_2);
    }

    #[test]
    fn accounts_match_as_iban_nrb_or_with_a_bank_code() {
        assert!(same_account(
            "/PL60102010260000042270201111",
            "PL60 1020 1026 0000 0422 7020 1111"
        ));
        assert!(same_account(
            "60102010260000042270201111",
            "PL60102010260000042270201111"
        ));
        assert!(same_account(
            "10201026/60102010260000042270201111",
            "60102010260000042270201111"
        ));
        assert!(!same_account(
            "PL61109010140000071219812874",
            "PL60102010260000042270201111"
        ));
    }

    #[test]
    fn the_written_pko_file_becomes_one_page() {
        let parsed = mt940::parse(FILE).expect("fixture parses");
        let account = compact_account(&parsed[0].account);
        let (page, repeated) =
            page(&account, FILE, Encoding::Iso8859_2, document(FILE)).expect("page");
        assert_eq!(repeated, 0);
        assert_eq!(page.currency, "PLN");
        let lines: usize = parsed
            .iter()
            .filter(|s| s.account == parsed[0].account)
            .map(|s| s.transactions.len())
            .sum();
        assert!(lines > 0);
        assert_eq!(page.transactions.len(), lines);
        assert!(page.opening_balance.is_some() && page.closing_balance.is_some());
        let keys: Vec<&str> = page
            .transactions
            .iter()
            .map(|t| t.bank_reference.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "PKO261102000001",
                "PKO261102000002",
                "MT940/20261102/1/3/D5.00"
            ]
        );
        let sent = &page.transactions[1];
        assert_eq!(sent.own_reference.as_deref(), Some("REF-ERP-0042"));
        assert_eq!(sent.amount.amount, "1234.56");
        assert_eq!(sent.counterparty.name.as_deref(), Some("Gąsienica Józef"));
        assert_eq!(
            sent.counterparty.account.as_deref(),
            Some("PL10105000997603123456789123")
        );
        assert_eq!(
            page.transactions[0].title,
            "Zapłata za fakturę FV/12/2026, dostawa części"
        );
        assert_eq!(
            page.opening_balance.as_ref().map(|m| m.amount.as_str()),
            Some("10000.00")
        );
        assert_eq!(
            page.closing_balance.as_ref().map(|m| m.amount.as_str()),
            Some("11260.44")
        );
        assert_eq!(page.documents.len(), 1);
    }

    #[test]
    fn a_repeated_booking_is_taken_once_and_garbage_is_a_protocol_error() {
        let file = b":20:MT940/20261130/1\r\n:25:/PL60102010260000042270201111\r\n:28C:334/1\r\n\
:60F:C261130PLN100,00\r\n:61:2611301130C10,00N020NONREF//PKO261130000001\r\n\
:86:020~00PRZELEW~20Zap\xb3ata FV/1~32Jan Kowalski\r\n\
:61:2611301130C10,00N020NONREF//PKO261130000001\r\n\
:86:020~00PRZELEW~20Zap\xb3ata FV/1~32Jan Kowalski\r\n:62F:C261130PLN120,00\r\n-\r\n";
        let (page, repeated) = page(
            "PL60102010260000042270201111",
            file,
            Encoding::Iso8859_2,
            document(file),
        )
        .expect("page");
        assert_eq!(repeated, 1);
        assert_eq!(page.transactions.len(), 1);
        assert_eq!(page.transactions[0].title, "Zapłata FV/1");
        assert_eq!(page.transactions[0].own_reference, None);
        let garbage = super::page(
            "PL60102010260000042270201111",
            b":20:X\r\n:61:garbage\r\n",
            Encoding::Iso8859_2,
            document(b""),
        );
        assert!(
            matches!(garbage, Err(Error::Protocol(ref m)) if m.contains("line")),
            "{garbage:?}"
        );
    }
}
