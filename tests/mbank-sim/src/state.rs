//! What the bank keeps: accounts and their lines, users, challenges,
//! mobile logins, sessions, batches, and the simulator's clock.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeDelta, Utc};

use crate::SimError;
use crate::crypto::SignerKey;
use crate::elixir::{LineError, Transfer};
use crate::faults::{FaultState, RequestLog};
use crate::model::{
    Account, Amount, BatchStatus, BatchView, Direction, MobileLoginView, MobileStatus,
    NewTransaction, SessionKind, SessionState, SessionView, Transaction, TransferStatus,
    TransferView,
};
use crate::mt940::DayStatement;
use h2h_sim_kit::clock::Clock;
use h2h_sim_kit::pki::{ClientIdentity, Pki};

/// How long a login challenge may be answered (assumed).
pub const CHALLENGE_SECS: i64 = 120;
/// How long a mobile login waits for the user's confirmation (assumed).
pub const MOBILE_CONFIRM_SECS: i64 = 120;
/// A mobile session ends after this long without a request (assumed; the
/// Comarch page says the bank closes the session after idleness).
pub const MOBILE_IDLE_SECS: i64 = 1800;
/// The longest a session may be asked to live (assumed bank maximum).
pub const MAX_SESSION_DAYS: i64 = 90;

pub(crate) use h2h_sim_kit::lock;

pub(crate) struct Shared {
    pub(crate) bank: Mutex<Bank>,
    pub(crate) faults: Mutex<FaultState>,
    pub(crate) log: Mutex<RequestLog>,
    pub(crate) pki: Pki,
    pub(crate) client: ClientIdentity,
    pub(crate) require_client_cert: bool,
    pub(crate) handshake_failures: AtomicU64,
}

impl Shared {
    pub(crate) fn bank(&self) -> MutexGuard<'_, Bank> {
        lock(&self.bank)
    }
}

pub(crate) struct User {
    pub(crate) cert_der: Vec<u8>,
    pub(crate) key: SignerKey,
    pub(crate) subject: String,
    pub(crate) diks: Vec<String>,
    pub(crate) mobile: bool,
}

pub(crate) struct Challenge {
    pub(crate) user_id: String,
    pub(crate) diks: Vec<String>,
    pub(crate) valid_until: DateTime<Utc>,
    pub(crate) bytes: Vec<u8>,
    pub(crate) expires: DateTime<Utc>,
}

pub(crate) struct MobileLogin {
    pub(crate) view: MobileLoginView,
    pub(crate) valid_until: DateTime<Utc>,
}

pub(crate) struct Session {
    pub(crate) user_id: String,
    pub(crate) kind: SessionKind,
    pub(crate) diks: Vec<String>,
    pub(crate) valid_until: DateTime<Utc>,
    pub(crate) last_activity: DateTime<Utc>,
    pub(crate) revoked: bool,
}

impl Session {
    pub(crate) fn state(&self, now: DateTime<Utc>) -> SessionState {
        if self.revoked {
            SessionState::Revoked
        } else if now >= self.valid_until {
            SessionState::Expired
        } else if self.kind == SessionKind::Mobile
            && now - self.last_activity >= TimeDelta::seconds(MOBILE_IDLE_SECS)
        {
            SessionState::IdleTimeout
        } else {
            SessionState::Active
        }
    }

    pub(crate) fn view(&self, token: &str, now: DateTime<Utc>) -> SessionView {
        SessionView {
            token: token.to_string(),
            user_id: self.user_id.clone(),
            kind: self.kind,
            diks: self.diks.clone(),
            valid_until: self.valid_until,
            last_activity: self.last_activity,
            state: self.state(now),
        }
    }
}

pub(crate) struct StoredBatch {
    pub(crate) view: BatchView,
    pub(crate) digest: Vec<u8>,
}

pub(crate) struct Bank {
    /// Real time shifted so that it starts on the configured day, plus
    /// what it was advanced by.
    pub(crate) clock: Clock,
    pub(crate) closed_days: u64,
    pub(crate) accounts: Vec<Account>,
    opening_balance: Amount,
    pub(crate) transactions: Vec<Transaction>,
    next_seq: u64,
    pub(crate) users: BTreeMap<String, User>,
    pub(crate) challenges: HashMap<String, Challenge>,
    pub(crate) mobile: BTreeMap<String, MobileLogin>,
    pub(crate) sessions: HashMap<String, Session>,
    pub(crate) batches: Vec<StoredBatch>,
}

/// Made-up counterparties: name, sort code, account number.
const COUNTERPARTIES: &[(&str, &str, &str)] = &[
    (
        "Żółta Łódź Sp. z o.o. ul. Piękna 3 00-001 Warszawa",
        "10501012",
        "1000002312345678",
    ),
    (
        "Gąsienica Józef Usługi Transportowe Zakopane",
        "11402004",
        "0000350212345678",
    ),
    (
        "Hurtownia Świętokrzyska S.A. Kielce",
        "12401037",
        "1111001012345678",
    ),
    (
        "Zakład Energetyczny Północ Gdańsk",
        "10901014",
        "0000000112345678",
    ),
];

const CREDIT_TITLES: &[&str] = &[
    "Zapłata za fakturę FV/{n}/2026",
    "Należność za dostawę, faktura FV/{n}/2026",
    "Zaliczka do zamówienia ZAM/{n}",
];
const DEBIT_TITLES: &[&str] = &[
    "Czynsz za lokal użytkowy nr {n}",
    "Opłata za energię elektryczną {n}",
];

/// xorshift64*: deterministic made-up data.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

fn signed(t: &Transaction) -> i64 {
    match t.direction {
        Direction::Credit => t.amount.0,
        Direction::Debit => -t.amount.0,
    }
}

impl Bank {
    pub(crate) fn new(
        accounts: Vec<Account>,
        seed: u64,
        today: NaiveDate,
        days: u32,
        opening_balance: Amount,
    ) -> Bank {
        let mut bank = Bank {
            clock: Clock::shifted(TimeDelta::days(
                (today - Utc::now().date_naive()).num_days(),
            )),
            closed_days: 0,
            accounts,
            opening_balance,
            transactions: Vec::new(),
            next_seq: 1,
            users: BTreeMap::new(),
            challenges: HashMap::new(),
            mobile: BTreeMap::new(),
            sessions: HashMap::new(),
            batches: Vec::new(),
        };
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let ibans: Vec<String> = bank.accounts.iter().map(|a| a.iban.clone()).collect();
        for back in (0..days).rev() {
            let Some(date) = today.checked_sub_days(Days::new(u64::from(back))) else {
                continue;
            };
            for iban in &ibans {
                for _ in 0..=rng.below(2) {
                    let (name, sort, acct) =
                        COUNTERPARTIES[rng.below(COUNTERPARTIES.len() as u64) as usize];
                    let n = 100 + rng.below(900);
                    let credit = rng.below(3) > 0;
                    let (direction, amount, titles) = if credit {
                        (
                            Direction::Credit,
                            10_000 + rng.below(1_500_000),
                            CREDIT_TITLES,
                        )
                    } else {
                        (Direction::Debit, 5_000 + rng.below(400_000), DEBIT_TITLES)
                    };
                    let title = titles[rng.below(titles.len() as u64) as usize]
                        .replace("{n}", &n.to_string());
                    bank.book(NewTransaction {
                        account: iban.clone(),
                        direction,
                        amount: Amount(amount as i64),
                        booking_date: Some(date),
                        title,
                        counterparty_name: name.into(),
                        counterparty_account: crate::iban::pl_iban(sort, acct).unwrap_or_default(),
                        customer_reference: None,
                    });
                }
            }
        }
        bank
    }

    /// Real time, moved to start on the configured day, plus what the
    /// clock was advanced by.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The business day: the clock's date (UTC), plus days closed by hand.
    pub(crate) fn today(&self) -> NaiveDate {
        let date = self.now().date_naive();
        date.checked_add_days(Days::new(self.closed_days))
            .unwrap_or(date)
    }

    pub(crate) fn account(&self, iban: &str) -> Result<&Account, SimError> {
        self.accounts
            .iter()
            .find(|a| a.iban == iban)
            .ok_or_else(|| SimError::UnknownAccount(iban.to_string()))
    }

    /// Books a line (kept in booking-date order) with a fresh TNR.
    pub(crate) fn book(&mut self, t: NewTransaction) -> Transaction {
        let date = t.booking_date.unwrap_or_else(|| self.today());
        let (type_code, type_text) = match t.direction {
            Direction::Credit => ("910", "PRZELEW ZEWNĘTRZNY PRZYCHODZĄCY"),
            Direction::Debit => ("920", "PRZELEW ZEWNĘTRZNY WYCHODZĄCY"),
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        let tx = Transaction {
            account: t.account,
            direction: t.direction,
            amount: t.amount,
            booking_date: date,
            value_date: date,
            tnr: format!(
                "{}{:03}{:010}.{:06}",
                date.format("%y"),
                date.ordinal(),
                seq,
                1
            ),
            bank_reference: format!("MB{}{:06}", date.format("%y%m%d"), seq % 1_000_000),
            customer_reference: t.customer_reference,
            type_code: type_code.into(),
            type_text: type_text.into(),
            title: t.title,
            counterparty_name: t.counterparty_name,
            counterparty_account: t.counterparty_account,
        };
        let at = self
            .transactions
            .iter()
            .rposition(|x| x.booking_date <= date)
            .map_or(0, |i| i + 1);
        self.transactions.insert(at, tx.clone());
        tx
    }

    /// Closed days from `from` to `to` (both included), chained balances.
    pub(crate) fn statement_days(
        &self,
        iban: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Vec<DayStatement> {
        let mut balance = self.opening_balance.0
            + self
                .transactions
                .iter()
                .filter(|t| t.account == iban && t.booking_date < from)
                .map(signed)
                .sum::<i64>();
        let mut out = Vec::new();
        let mut date = from;
        while date <= to {
            let lines: Vec<Transaction> = self
                .transactions
                .iter()
                .filter(|t| t.account == iban && t.booking_date == date)
                .cloned()
                .collect();
            let opening = balance;
            balance += lines.iter().map(signed).sum::<i64>();
            out.push(DayStatement {
                date,
                opening,
                lines,
                closing: balance,
            });
            let Some(next) = date.succ_opt() else { break };
            date = next;
        }
        out
    }

    /// The business day's lines of an account so far (the MT942).
    pub(crate) fn intraday(&self, iban: &str) -> Vec<Transaction> {
        let today = self.today();
        self.transactions
            .iter()
            .filter(|t| t.account == iban && t.booking_date == today)
            .cloned()
            .collect()
    }

    /// Pending mobile logins whose time ran out become `EXPIRED`.
    pub(crate) fn tick_mobile(&mut self) {
        let now = self.now();
        for m in self.mobile.values_mut() {
            if m.view.status == MobileStatus::Pending && m.view.expires_at <= now {
                m.view.status = MobileStatus::Expired;
            }
        }
    }

    /// Moves a pending mobile login: confirmed (a session is opened),
    /// rejected or expired.
    pub(crate) fn settle_mobile(
        &mut self,
        id: &str,
        to: MobileStatus,
    ) -> Result<MobileLoginView, SimError> {
        self.tick_mobile();
        let now = self.now();
        let m = self
            .mobile
            .get_mut(id)
            .ok_or_else(|| SimError::UnknownMobileLogin(id.to_string()))?;
        if m.view.status != MobileStatus::Pending {
            return Err(SimError::MobileState {
                login_id: id.to_string(),
                status: m.view.status,
            });
        }
        m.view.status = to;
        if to == MobileStatus::Confirmed {
            let token = crate::crypto::random_hex(32);
            m.view.token = Some(token.clone());
            let session = Session {
                user_id: m.view.user_id.clone(),
                kind: SessionKind::Mobile,
                diks: m.view.diks.clone(),
                valid_until: m.valid_until,
                last_activity: now,
                revoked: false,
            };
            let view = m.view.clone();
            self.sessions.insert(token, session);
            return Ok(view);
        }
        Ok(m.view.clone())
    }

    pub(crate) fn batch_mut(&mut self, id: &str) -> Result<&mut StoredBatch, SimError> {
        self.batches
            .iter_mut()
            .find(|b| b.view.batch_id == id)
            .ok_or_else(|| SimError::UnknownBatch(id.to_string()))
    }

    fn accepted_transfer(
        batch: &mut StoredBatch,
        line: usize,
    ) -> Result<&mut TransferView, SimError> {
        let id = batch.view.batch_id.clone();
        let t = batch
            .view
            .transfers
            .iter_mut()
            .find(|t| t.line == line)
            .ok_or(SimError::UnknownTransfer { batch: id, line })?;
        if t.status != TransferStatus::Accepted {
            return Err(SimError::TransferState {
                line,
                status: t.status,
            });
        }
        Ok(t)
    }

    /// Books an accepted transfer as a debit of its sender account on the
    /// business day; the transfer gets the line's TNR.
    pub(crate) fn execute_transfer(
        &mut self,
        id: &str,
        line: usize,
    ) -> Result<BatchView, SimError> {
        let t = Self::accepted_transfer(self.batch_mut(id)?, line)?.clone();
        let booked = self.book(NewTransaction {
            account: format!("PL{}", t.sender_account.clone().unwrap_or_default()),
            direction: Direction::Debit,
            amount: t.amount.unwrap_or_default(),
            booking_date: None,
            title: t.title.clone().unwrap_or_default(),
            counterparty_name: t.recipient_name.clone().unwrap_or_default(),
            counterparty_account: t.recipient_account.clone().unwrap_or_default(),
            customer_reference: t.reference.clone(),
        });
        let batch = self.batch_mut(id)?;
        let t = Self::accepted_transfer(batch, line)?;
        t.status = TransferStatus::Executed;
        t.tnr = Some(booked.tnr);
        t.booking_date = Some(booked.booking_date);
        batch.view.restate();
        Ok(batch.view.clone())
    }

    /// Executes every accepted transfer of a batch.
    pub(crate) fn execute_batch(&mut self, id: &str) -> Result<BatchView, SimError> {
        let lines: Vec<usize> = self
            .batch_mut(id)?
            .view
            .transfers
            .iter()
            .filter(|t| t.status == TransferStatus::Accepted)
            .map(|t| t.line)
            .collect();
        for line in lines {
            self.execute_transfer(id, line)?;
        }
        Ok(self.batch_mut(id)?.view.clone())
    }

    /// The bank refuses an accepted transfer (`BANK_REJECTED`).
    pub(crate) fn reject_transfer(
        &mut self,
        id: &str,
        line: usize,
        reason: &str,
    ) -> Result<BatchView, SimError> {
        let batch = self.batch_mut(id)?;
        let t = Self::accepted_transfer(batch, line)?;
        t.status = TransferStatus::Rejected;
        t.code = Some("BANK_REJECTED".into());
        t.reason = Some(reason.to_string());
        batch.view.restate();
        Ok(batch.view.clone())
    }

    /// Stores a checked file: each line accepted or rejected.
    pub(crate) fn store_batch(
        &mut self,
        dik: &str,
        file_name: &str,
        signed_by: &str,
        digest: Vec<u8>,
        outcomes: Vec<Result<Transfer, LineError>>,
    ) -> BatchView {
        let transfers = outcomes
            .into_iter()
            .map(|o| match o {
                Ok(t) => TransferView {
                    line: t.line,
                    reference: t.reference,
                    status: TransferStatus::Accepted,
                    code: None,
                    reason: None,
                    field: None,
                    amount: Some(t.amount),
                    sender_account: Some(t.sender_nrb),
                    recipient_account: Some(t.recipient_nrb),
                    recipient_name: Some(t.recipient_name),
                    title: Some(t.title),
                    payment_code: Some(t.payment_code),
                    tnr: None,
                    booking_date: None,
                },
                Err(e) => TransferView {
                    line: e.line,
                    reference: None,
                    status: TransferStatus::Rejected,
                    code: Some(e.code),
                    reason: Some(e.message),
                    field: e.field,
                    amount: None,
                    sender_account: None,
                    recipient_account: None,
                    recipient_name: None,
                    title: None,
                    payment_code: None,
                    tnr: None,
                    booking_date: None,
                },
            })
            .collect();
        let mut view = BatchView {
            batch_id: format!("EX{:08}", self.batches.len() + 1),
            status: BatchStatus::Pending,
            dik: dik.to_string(),
            file_name: file_name.to_string(),
            signed_by: signed_by.to_string(),
            received_at: self.now(),
            transfers,
        };
        view.restate();
        self.batches.push(StoredBatch {
            view: view.clone(),
            digest,
        });
        view
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank() -> Bank {
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        Bank::new(
            crate::Simulator::demo_accounts(),
            3,
            today,
            4,
            Amount(100_000),
        )
    }

    #[test]
    fn days_chain_and_tnrs_are_unique() {
        let b = bank();
        let iban = b.accounts[0].iban.clone();
        let from = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let days = b.statement_days(&iban, from, b.today());
        assert_eq!(days[0].opening, 100_000);
        for w in days.windows(2) {
            assert_eq!(w[0].closing, w[1].opening);
        }
        let tnrs: std::collections::HashSet<_> = b.transactions.iter().map(|t| &t.tnr).collect();
        assert_eq!(tnrs.len(), b.transactions.len());
        assert!(!b.intraday(&iban).is_empty());
        assert_eq!(
            bank().transactions,
            b.transactions,
            "the same seed makes the same lines"
        );
    }
}
