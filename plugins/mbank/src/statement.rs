//! Statements: MT940 for the days mBank has closed and MT942 for the open
//! business day, both ISO-8859-2 with SOH/ETX framing and mBank's
//! `;`-separated `:86:`. Each line is keyed by its **TNR**, which the bank
//! keeps when a line first reported in the MT942 reappears in the day's
//! MT940, so the host stores it once. Both files go to the host as the
//! page's documents.

use std::collections::BTreeSet;

use h2h_sdk::bank::{Finality, Statement, StatementQuery, Transaction};
use h2h_sdk::from_mt940;
use h2h_sdk::mt940::{self, Encoding, ParseOptions, Transaction as Line};
use h2h_sdk::{Document, Error, Money, Result, time};

use crate::api::{Auth, Call, Client, json, path};
use crate::session;

/// The charset mBank sends statements in when the answer does not say.
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

/// The NRB (26 digits) of a Polish IBAN or NRB; other numbers as given.
pub fn nrb(account: &str) -> String {
    let compact = compact_account(account);
    let written = compact.rsplit('/').next().unwrap_or_default();
    written.strip_prefix("PL").unwrap_or(written).to_owned()
}

/// Whether `:25:` names `account`.
fn same_account(statement_account: &str, account: &str) -> bool {
    let written = nrb(statement_account);
    !written.is_empty() && written == nrb(account)
}

/// A counterparty account as the statement writes it (NRB digits) in the
/// IBAN form the ERP uses.
pub fn as_iban(account: &str) -> String {
    let compact = compact_account(account);
    if compact.len() == 26 && compact.bytes().all(|b| b.is_ascii_digit()) {
        format!("PL{compact}")
    } else {
        compact
    }
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
        Some("iso-8859-2" | "iso8859-2" | "latin2") => Encoding::Iso8859_2,
        _ => DEFAULT_ENCODING,
    }
}

/// One statement line as a contract transaction, keyed by its TNR.
pub fn transaction(
    line: &Line,
    currency: &str,
    fallback_key: String,
    statement_date: Option<&mt940::Date>,
) -> Transaction {
    let details = line.details.as_ref();
    let tnr = details
        .and_then(|d| d.tnr())
        .map(|t| t.split_whitespace().collect::<String>())
        .filter(|t| !t.is_empty());
    let key = tnr
        .clone()
        .or_else(|| {
            line.bank_reference
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
        })
        .unwrap_or(fallback_key);
    let mut t = from_mt940::transaction(line, currency, key, statement_date);
    if let Some(details) = details {
        // The whole reference: `:61:` holds only its first 16 characters.
        if let Some(own) = details
            .part("REF. KLIENTA")
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            t.own_reference = Some(own.to_owned());
        }
        // Debits name the other side `DO:` / `NA RACH.:` (credits `OD:` /
        // `Z RACH.:`, which the parser reads).
        if t.counterparty.name.is_none() {
            t.counterparty.name = details.part("DO").map(str::to_owned);
        }
        if t.counterparty.account.is_none() {
            t.counterparty.account = details.part("NA RACH.").map(str::to_owned);
        }
        if let Some(date) = details.part("DATA STEMPLA") {
            t.extra
                .push(("mbank.data-stempla".to_owned(), date.to_owned()));
        }
    }
    t.counterparty.account = t.counterparty.account.as_deref().map(as_iban);
    if let Some(tnr) = tnr {
        t.extra.push(("mbank.tnr".to_owned(), tnr));
    }
    t
}

/// What the files of one query give.
#[derive(Debug, Default)]
pub struct Page {
    /// The account's currency, when a file names it.
    pub currency: Option<String>,
    /// The first closed day's opening balance.
    pub opening_balance: Option<Money>,
    /// The last closed day's closing balance, plus the open day's lines.
    pub closing_balance: Option<Money>,
    /// The last day the MT940 closed.
    pub final_through: Option<String>,
    /// Every line in the range once, oldest first.
    pub transactions: Vec<Transaction>,
    /// Lines the files repeated (same TNR), dropped.
    pub repeated: usize,
}

fn parse(file: &[u8], encoding: Encoding, what: &str) -> Result<Vec<mt940::Statement>> {
    if file
        .iter()
        .all(|b| b.is_ascii_whitespace() || *b == 0x01 || *b == 0x03)
    {
        return Ok(Vec::new());
    }
    mt940::parse_with(file, &ParseOptions::default().encoding(encoding)).map_err(|e| {
        Error::protocol(format!(
            "mBank sent an {what} file that does not parse: {e}"
        ))
    })
}

/// The lines of `account` booked from `from` to `to` (inclusive,
/// `YYYY-MM-DD`) in the MT940 of closed days, and those of the MT942 of the
/// open day from `from` on, each TNR once.
pub fn page(
    account: &str,
    mt940_file: &[u8],
    mt942_file: Option<&[u8]>,
    encoding: Encoding,
    from: &str,
    to: &str,
) -> Result<Page> {
    let closed = parse(mt940_file, encoding, "MT940")?;
    let open = match mt942_file {
        Some(file) => parse(file, encoding, "MT942")?,
        None => Vec::new(),
    };
    let closed: Vec<_> = closed
        .iter()
        .filter(|s| same_account(&s.account, account))
        .collect();
    let open: Vec<_> = open
        .iter()
        .filter(|s| same_account(&s.account, account))
        .collect();
    let mut page = Page {
        currency: closed
            .iter()
            .chain(open.iter())
            .find_map(|s| s.currency())
            .map(str::to_owned),
        ..Page::default()
    };
    let currency = page.currency.clone().unwrap_or_else(|| "PLN".to_owned());
    page.opening_balance = closed
        .first()
        .and_then(|s| s.opening_balance.as_ref())
        .map(from_mt940::balance);
    let last_closing = closed.last().and_then(|s| s.closing_balance.as_ref());
    page.final_through = last_closing.map(|b| from_mt940::date(&b.date));
    let mut seen = BTreeSet::new();
    let mut running = last_closing.map(|b| b.mark.apply(b.amount));
    let mut open_lines = false;
    for (kind, day) in closed
        .iter()
        .map(|d| ("940", d))
        .chain(open.iter().map(|d| ("942", d)))
    {
        let date = day
            .closing_balance
            .as_ref()
            .map(|b| &b.date)
            .or_else(|| day.date_time.as_ref().map(|d| &d.date));
        for (position, line) in day.transactions.iter().enumerate() {
            let fallback = format!(
                "{}/{}/{}{}",
                day.reference,
                position + 1,
                line.mark.code(),
                line.amount.abs()
            );
            let t = transaction(line, &currency, fallback, date);
            // The open day's lines count whatever its date: the bank's
            // business day may already be past the caller's `to`.
            let after = kind == "940" && t.booking_date.as_str() > to;
            if t.booking_date.as_str() < from || after {
                continue;
            }
            if !seen.insert(t.bank_reference.clone()) {
                page.repeated += 1;
                continue;
            }
            if kind == "942" {
                open_lines = true;
                running = running.map(|r| r + line.amount);
            }
            page.transactions.push(t);
        }
    }
    page.closing_balance = if open_lines {
        running.map(|r| Money::new(r.to_string(), currency.clone()))
    } else {
        last_closing.map(from_mt940::balance)
    };
    Ok(page)
}

fn today() -> String {
    time::rfc3339(time::now_unix())
        .get(..10)
        .unwrap_or_default()
        .to_owned()
}

struct File {
    body: Vec<u8>,
    content_type: Option<String>,
}

fn download(path: &str, query: &[(&str, &str)], auth: &Auth<'_>) -> Result<File> {
    let answer = Client::from_config().get(path, query, Some(auth), Call::Session)?;
    Ok(File {
        content_type: answer.header("content-type").map(str::to_owned),
        body: answer.body().to_vec(),
    })
}

fn document(name: String, file: &File) -> Document {
    Document {
        name,
        media_type: file
            .content_type
            .clone()
            .unwrap_or_else(|| "text/plain; charset=iso-8859-2".to_owned()),
        content: file.body.clone(),
    }
}

/// `fetch-statement`: the MT940 of the range, and the MT942 when the range
/// reaches today. One page, no continuation.
pub fn fetch(query: &StatementQuery) -> Result<Statement> {
    let account = compact_account(&query.account);
    let (from, to) = (query.from.trim(), query.to.trim());
    if account.is_empty() {
        return Err(Error::invalid_input("the statement query names no account"));
    }
    if from > to {
        return Err(Error::invalid_input(format!(
            "the range {from} to {to} ends before it starts"
        )));
    }
    let (secret, dik) = session::for_account(&account)?;
    let auth = Auth {
        token: &secret.token,
        dik: Some(&dik),
    };
    let closed = download(
        path::MT940,
        &[("account", &account), ("from", from), ("to", to)],
        &auth,
    )?;
    let open = if to >= today().as_str() {
        Some(download(path::MT942, &[("account", &account)], &auth)?)
    } else {
        None
    };
    let encoding = encoding(closed.content_type.as_deref());
    let page = page(
        &account,
        &closed.body,
        open.as_ref().map(|f| f.body.as_slice()),
        encoding,
        from,
        to,
    )?;
    if page.repeated > 0 {
        h2h_sdk::warn!(
            "mBank repeated {} line(s) (same TNR) in its files; each taken once",
            page.repeated
        );
    }
    let currency = match page.currency.clone() {
        Some(currency) => currency,
        None => currency_of(&account, &auth)?,
    };
    let mut statement = Statement::new(query.account.clone(), currency);
    statement.opening_balance = page.opening_balance;
    statement.closing_balance = page.closing_balance;
    statement.finality = match &page.final_through {
        Some(day) if day.as_str() >= to => Finality::Final,
        _ => Finality::Interim,
    };
    statement.final_through = page.final_through;
    statement.transactions = page.transactions;
    statement.documents = vec![document(
        format!("mbank-{account}-{from}-{to}.mt940"),
        &closed,
    )];
    if let Some(open) = &open {
        statement
            .documents
            .push(document(format!("mbank-{account}-{}.mt942", today()), open));
    }
    Ok(statement)
}

/// `get-balance`: the last closed day's closing balance plus the open
/// day's lines so far.
pub fn balance(account: &str) -> Result<h2h_sdk::bank::Balance> {
    let compact = compact_account(account);
    let now = time::now_unix();
    let to = today();
    let from = time::rfc3339(now.saturating_sub(7 * 86_400))
        .get(..10)
        .unwrap_or_default()
        .to_owned();
    let (secret, dik) = session::for_account(&compact)?;
    let auth = Auth {
        token: &secret.token,
        dik: Some(&dik),
    };
    let closed = download(
        path::MT940,
        &[("account", &compact), ("from", &from), ("to", &to)],
        &auth,
    )?;
    let open = download(path::MT942, &[("account", &compact)], &auth)?;
    let page = page(
        &compact,
        &closed.body,
        Some(&open.body),
        encoding(closed.content_type.as_deref()),
        "0000-00-00",
        "9999-99-99",
    )?;
    let booked = page.closing_balance.ok_or_else(|| {
        Error::protocol(format!(
            "mBank's statements of the last week give no balance of {account}"
        ))
    })?;
    Ok(h2h_sdk::bank::Balance {
        account: account.to_owned(),
        booked,
        available: None,
        as_of: time::rfc3339(now),
    })
}

#[derive(serde::Deserialize)]
struct Accounts {
    accounts: Vec<AccountEntry>,
}

/// One account of the DIK, as `GET accounts` lists it.
#[derive(serde::Deserialize, Clone)]
pub struct AccountEntry {
    /// IBAN.
    pub iban: String,
    /// NRB.
    pub nrb: Option<String>,
    /// ISO 4217.
    pub currency: String,
    /// The holder's name and address (the Elixir-O sender).
    pub holder: Option<String>,
}

/// The DIK's account `account`, from the bank's list.
pub fn account_entry(account: &str, auth: &Auth<'_>) -> Result<AccountEntry> {
    let answer = Client::from_config().get(path::ACCOUNTS, &[], Some(auth), Call::Session)?;
    let list: Accounts = json(&answer, "the account list")?;
    list.accounts
        .into_iter()
        .find(|a| {
            same_account(&a.iban, account)
                || a.nrb.as_deref().is_some_and(|n| same_account(n, account))
        })
        .ok_or_else(|| {
            Error::invalid_input(format!(
                "mBank does not list account {account} for DIK {}",
                auth.dik.unwrap_or_default()
            ))
        })
}

fn currency_of(account: &str, auth: &Auth<'_>) -> Result<String> {
    account_entry(account, auth).map(|a| a.currency)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latin2;

    const ACCOUNT: &str = "PL81114020040000320212345678";

    /// The simulator's README shapes: a closed day, then the open day.
    fn closed_day() -> Vec<u8> {
        let text = "\u{1}\r\n:20:ST261130CYC/1\r\n:25:PL81114020040000320212345678\r\n:28C:334/1\r\n\
:60F:C261130PLN250000,00\r\n\
:61:2611301130CN5947,04NTRFNONREF//MB261130000001\r\n910-PRZELEW ZEWNĘTRZNY PRZYCHODZĄC\r\n\
:86:910 PRZELEW ZEWNĘTRZNY PRZYCHODZĄCY; Z RACH.: 701050101210000\r\n\
02312345678; OD: Żółta Łódź Sp. z o.o. ul. Piękna 3 00-001 Warsza\r\n\
wa; TYT.: Zapłata za fakturę FV/751/2026; DATA STEMPLA: 2026-11-3\r\n\
0; TNR: 263340000000001.000001\r\n\
:61:2611301130DN150,00NTRFFV-2026-0042//MB261130000002\r\n920-PRZELEW ZEWNĘTRZNY WYCHODZĄCY\r\n\
:86:920 PRZELEW ZEWNĘTRZNY WYCHODZĄCY; NA RACH.: 6110901014000007\r\n\
1219812874; DO: Dostawca Wałbrzych Sp. z o.o.; TYT.: Zapłata za FV/\r\n\
42; DATA STEMPLA: 2026-11-30; REF. KLIENTA: FV-2026-0042-LONG-REF\r\n\
ERENCE; TNR: 26334\r\n0000000002.000001\r\n\
:62F:C261130PLN255797,04\r\n:64:C261130PLN255797,04\r\n-\u{3}\r\n";
        latin2::encode(text)
    }

    fn open_day(duplicate: bool) -> Vec<u8> {
        let line = ":61:2612011201DN1183,51NTRFNONREF//MB261201000006\r\n920-PRZELEW ZEWNĘTRZNY WYCHODZĄC\r\n\
:86:920 PRZELEW ZEWNĘTRZNY WYCHODZĄCY; NA RACH.: 7912401037111100\r\n\
1012345678; DO: Hurtownia Świętokrzyska S.A. Kielce; TYT.: Opłata\r\n\x20za energię elektryczną 970; DATA STEMPLA: 2026-12-01; TNR: 26335\r\n\
0000000006.000001\r\n";
        let lines = if duplicate {
            format!("{line}{line}")
        } else {
            line.to_owned()
        };
        let text = format!(
            "\u{1}\r\n:20:ST261201CYC/1\r\n:25:PL81114020040000320212345678\r\n:28C:335/1\r\n\
:34F:PLND0,\r\n:34F:PLNC0,\r\n:13D:2612010200+0100\r\n{lines}:90D:1PLN1183,51\r\n:90C:0PLN0,\r\n-\u{3}\r\n"
        );
        latin2::encode(&text)
    }

    #[test]
    fn accounts_and_charsets() {
        assert!(same_account(
            "PL81114020040000320212345678",
            "81 1140 2004 0000 3202 1234 5678"
        ));
        assert!(!same_account("PL29114020040000320255555555", ACCOUNT));
        assert_eq!(
            as_iban("61109010140000071219812874"),
            "PL61109010140000071219812874"
        );
        assert_eq!(as_iban("DE89370400440532013000"), "DE89370400440532013000");
        assert_eq!(
            encoding(Some("text/plain; charset=ISO-8859-2")),
            Encoding::Iso8859_2
        );
        assert_eq!(encoding(None), Encoding::Iso8859_2);
    }

    #[test]
    fn closed_days_key_lines_by_tnr_with_both_sides_named() {
        let page = page(
            ACCOUNT,
            &closed_day(),
            None,
            Encoding::Iso8859_2,
            "2026-11-01",
            "2026-11-30",
        )
        .expect("page");
        assert_eq!(page.currency.as_deref(), Some("PLN"));
        assert_eq!(page.final_through.as_deref(), Some("2026-11-30"));
        let [credit, debit] = page.transactions.as_slice() else {
            panic!("{:?}", page.transactions);
        };
        assert_eq!(credit.bank_reference, "263340000000001.000001");
        assert_eq!(credit.title, "Zapłata za fakturę FV/751/2026");
        assert_eq!(
            credit.counterparty.name.as_deref(),
            Some("Żółta Łódź Sp. z o.o. ul. Piękna 3 00-001 Warszawa")
        );
        assert_eq!(
            credit.counterparty.account.as_deref(),
            Some("PL70105010121000002312345678")
        );
        assert_eq!(credit.own_reference, None);
        assert_eq!(debit.bank_reference, "263340000000002.000001");
        assert_eq!(debit.direction, h2h_sdk::bank::Direction::Debit);
        assert_eq!(debit.amount.amount, "150.00");
        assert_eq!(
            debit.counterparty.name.as_deref(),
            Some("Dostawca Wałbrzych Sp. z o.o.")
        );
        assert_eq!(
            debit.counterparty.account.as_deref(),
            Some("PL61109010140000071219812874")
        );
        assert_eq!(
            debit.own_reference.as_deref(),
            Some("FV-2026-0042-LONG-REFERENCE")
        );
        assert_eq!(debit.type_code.as_deref(), Some("920"));
        assert_eq!(
            page.opening_balance.as_ref().map(|m| m.amount.as_str()),
            Some("250000.00")
        );
        assert_eq!(
            page.closing_balance.as_ref().map(|m| m.amount.as_str()),
            Some("255797.04")
        );
    }

    #[test]
    fn the_open_day_adds_its_lines_once_and_moves_the_balance() {
        let page = page(
            ACCOUNT,
            &closed_day(),
            Some(&open_day(true)),
            Encoding::Iso8859_2,
            "2026-11-28",
            "2026-12-01",
        )
        .expect("page");
        assert_eq!(page.transactions.len(), 3);
        assert_eq!(page.repeated, 1);
        let open = &page.transactions[2];
        assert_eq!(open.bank_reference, "263350000000006.000001");
        assert_eq!(open.booking_date, "2026-12-01");
        assert_eq!(open.title, "Opłata za energię elektryczną 970");
        assert_eq!(
            page.closing_balance.as_ref().map(|m| m.amount.as_str()),
            Some("254613.53")
        );
        // The open day counts even past `to` (the bank's business day may
        // be ahead of the caller's today); lines before `from` never.
        let ahead = super::page(
            ACCOUNT,
            &closed_day(),
            Some(&open_day(false)),
            Encoding::Iso8859_2,
            "2026-11-28",
            "2026-11-30",
        )
        .expect("page");
        assert_eq!(ahead.transactions.len(), 3);
        let later = super::page(
            ACCOUNT,
            &closed_day(),
            Some(&open_day(false)),
            Encoding::Iso8859_2,
            "2026-12-02",
            "2026-12-03",
        )
        .expect("page");
        assert!(later.transactions.is_empty());
    }

    #[test]
    fn empty_files_and_garbage() {
        let empty = page(
            ACCOUNT,
            b"",
            Some(b"\x01\r\n\x03"),
            Encoding::Iso8859_2,
            "2026-11-01",
            "2026-11-30",
        )
        .expect("empty");
        assert!(empty.transactions.is_empty() && empty.currency.is_none());
        let garbage = page(
            ACCOUNT,
            b":20:X\r\n:61:garbage\r\n",
            None,
            Encoding::Iso8859_2,
            "a",
            "b",
        );
        assert!(
            matches!(garbage, Err(Error::Protocol(ref m)) if m.contains("MT940")),
            "{garbage:?}"
        );
    }
}
