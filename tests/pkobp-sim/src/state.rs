//! What the bank keeps: accounts and their lines, users, challenges,
//! sessions, batches, and the simulator's clock.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Days, NaiveDate, Utc};

use crate::SimError;
use crate::crypto::SignerKey;
use crate::faults::{FaultState, RequestLog};
use crate::model::{
    Account, Amount, BatchStatus, BatchView, Direction, NewTransaction, Transaction,
    TransferStatus, TransferView,
};
use h2h_sim_kit::clock::Clock;
use h2h_sim_kit::pki::{ClientIdentity, Pki};

pub(crate) use h2h_sim_kit::lock;

pub(crate) struct Shared {
    pub(crate) bank: Mutex<Bank>,
    pub(crate) faults: Mutex<FaultState>,
    pub(crate) log: Mutex<RequestLog>,
    pub(crate) pki: Pki,
    pub(crate) client: ClientIdentity,
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
    pub(crate) context_ids: Vec<String>,
}

pub(crate) struct Challenge {
    pub(crate) user_id: String,
    pub(crate) bytes: Vec<u8>,
    pub(crate) expires: DateTime<Utc>,
}

pub(crate) struct Session {
    pub(crate) user_id: String,
    pub(crate) context_ids: Vec<String>,
    pub(crate) expires: DateTime<Utc>,
}

pub(crate) struct StoredBatch {
    pub(crate) view: BatchView,
    pub(crate) file: Vec<u8>,
}

/// One day of one account's statement.
pub(crate) struct DayStatement {
    pub(crate) date: NaiveDate,
    pub(crate) opening: i64,
    pub(crate) lines: Vec<Transaction>,
    pub(crate) closing: i64,
}

pub(crate) struct Bank {
    start_today: NaiveDate,
    pub(crate) clock: Clock,
    pub(crate) accounts: Vec<Account>,
    opening_balance: Amount,
    pub(crate) transactions: Vec<Transaction>,
    pub(crate) users: BTreeMap<String, User>,
    pub(crate) challenges: HashMap<String, Challenge>,
    pub(crate) sessions: HashMap<String, Session>,
    pub(crate) editable_allowed: HashSet<String>,
    pub(crate) batches: Vec<StoredBatch>,
    next_bank_ref: u64,
}

/// Made-up counterparties (valid PL IBANs built at start), Polish letters
/// on purpose.
const COUNTERPARTIES: &[(&str, &str, &str)] = &[
    (
        "Żółta Łódź Spółka z ograniczoną odpowiedzialnością",
        "10501012",
        "1000002312345678",
    ),
    (
        "Gąsienica Józef Usługi Transportowe",
        "11402004",
        "0000350212345678",
    ),
    (
        "Hurtownia Świętokrzyska S.A.",
        "12401037",
        "1111001012345678",
    ),
    ("Zakład Energetyczny Północ", "10901014", "0000000112345678"),
];

const CREDIT_TITLES: &[&str] = &[
    "Zapłata za fakturę FV/{n}/2026",
    "Należność za dostawę części, faktura FV/{n}/2026",
    "Wpłata zaliczki — zamówienie ZAM/{n}",
];

const DEBIT_TITLES: &[&str] = &[
    "Czynsz za grudzień, lokal użytkowy nr {n}",
    "Opłata za energię elektryczną {n}",
];

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
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
            start_today: today,
            clock: Clock::real(),
            accounts,
            opening_balance,
            transactions: Vec::new(),
            users: BTreeMap::new(),
            challenges: HashMap::new(),
            sessions: HashMap::new(),
            editable_allowed: HashSet::new(),
            batches: Vec::new(),
            next_bank_ref: 1,
        };
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let ibans: Vec<String> = bank.accounts.iter().map(|a| a.iban.clone()).collect();
        for back in (0..days).rev() {
            let Some(date) = today.checked_sub_days(Days::new(u64::from(back))) else {
                continue;
            };
            for iban in &ibans {
                for _ in 0..rng.below(3) + 1 {
                    let (name, sort, acct) =
                        COUNTERPARTIES[rng.below(COUNTERPARTIES.len() as u64) as usize];
                    let cp_iban = crate::iban::pl_iban(sort, acct).unwrap_or_default();
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
                        value_date: None,
                        title,
                        counterparty_name: name.into(),
                        counterparty_iban: cp_iban,
                        customer_reference: None,
                    });
                }
            }
        }
        bank
    }

    /// The simulator's "now": the real time plus what the clock was
    /// advanced by.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The business day: the configured one plus whole days advanced.
    pub(crate) fn today(&self) -> NaiveDate {
        let days = u64::try_from(self.clock.advanced().num_days()).unwrap_or(0);
        self.start_today
            .checked_add_days(Days::new(days))
            .unwrap_or(self.start_today)
    }

    pub(crate) fn account(&self, iban: &str) -> Result<&Account, SimError> {
        self.accounts
            .iter()
            .find(|a| a.iban == iban)
            .ok_or_else(|| SimError::UnknownAccount(iban.to_string()))
    }

    /// Books a line, keeping lines in booking-date order.
    pub(crate) fn book(&mut self, t: NewTransaction) -> Transaction {
        let booking_date = t.booking_date.unwrap_or_else(|| self.today());
        let (type_code, type_text) = match t.direction {
            Direction::Credit => ("020", "PRZELEW PRZYCHODZĄCY"),
            Direction::Debit => ("073", "PRZELEW WYCHODZĄCY"),
        };
        let bank_reference = format!(
            "PKO{}{:06}",
            booking_date.format("%y%m%d"),
            self.next_bank_ref % 1_000_000
        );
        self.next_bank_ref += 1;
        let tx = Transaction {
            account: t.account,
            direction: t.direction,
            amount: t.amount,
            booking_date,
            value_date: t.value_date.unwrap_or(booking_date),
            type_code: type_code.into(),
            type_text: type_text.into(),
            customer_reference: t.customer_reference,
            bank_reference,
            title: t.title,
            counterparty_name: t.counterparty_name,
            counterparty_iban: t.counterparty_iban,
        };
        let at = self
            .transactions
            .iter()
            .rposition(|x| x.booking_date <= booking_date)
            .map_or(0, |i| i + 1);
        self.transactions.insert(at, tx.clone());
        tx
    }

    fn signed(t: &Transaction) -> i64 {
        match t.direction {
            Direction::Credit => t.amount.0,
            Direction::Debit => -t.amount.0,
        }
    }

    /// One statement per day from `from` to `to` (both included).
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
                .map(Self::signed)
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
            balance += lines.iter().map(Self::signed).sum::<i64>();
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

    pub(crate) fn batch_mut(&mut self, id: &str) -> Result<&mut StoredBatch, SimError> {
        self.batches
            .iter_mut()
            .find(|b| b.view.batch_id == id)
            .ok_or_else(|| SimError::UnknownBatch(id.to_string()))
    }

    /// Executes the accepted transfers of a batch and books them.
    pub(crate) fn execute_batch(&mut self, id: &str) -> Result<BatchView, SimError> {
        let batch = self.batch_mut(id)?;
        if batch.view.status != BatchStatus::Accepted {
            return Err(SimError::BatchState {
                batch: id.to_string(),
                status: batch.view.status,
            });
        }
        batch.view.status = BatchStatus::Executed;
        let mut to_book = Vec::new();
        for t in &mut batch.view.transactions {
            if t.status == TransferStatus::Accepted {
                t.status = TransferStatus::Executed;
                to_book.push(t.clone());
            }
        }
        let view = batch.view.clone();
        for t in to_book {
            self.book(NewTransaction {
                account: t.debtor_iban,
                direction: Direction::Debit,
                amount: t.amount,
                booking_date: None,
                value_date: None,
                title: t.title,
                counterparty_name: t.creditor_name,
                counterparty_iban: t.creditor_iban,
                customer_reference: Some(t.end_to_end_id),
            });
        }
        Ok(view)
    }

    /// Rejects one transfer not yet executed.
    pub(crate) fn reject_transaction(
        &mut self,
        id: &str,
        end_to_end_id: &str,
        reason: &str,
    ) -> Result<BatchView, SimError> {
        let batch = self.batch_mut(id)?;
        let t = batch
            .view
            .transactions
            .iter_mut()
            .find(|t| t.end_to_end_id == end_to_end_id)
            .ok_or_else(|| SimError::UnknownTransfer(end_to_end_id.to_string()))?;
        if !matches!(
            t.status,
            TransferStatus::Accepted | TransferStatus::WaitingForSignature
        ) {
            return Err(SimError::TransferState {
                end_to_end_id: end_to_end_id.to_string(),
                status: t.status,
            });
        }
        t.status = TransferStatus::Rejected;
        t.reason = Some(reason.to_string());
        Ok(batch.view.clone())
    }

    /// An editable batch signed in the bank's own application.
    pub(crate) fn sign_batch(&mut self, id: &str) -> Result<BatchView, SimError> {
        let batch = self.batch_mut(id)?;
        if batch.view.status != BatchStatus::WaitingForSignature {
            return Err(SimError::BatchState {
                batch: id.to_string(),
                status: batch.view.status,
            });
        }
        batch.view.status = BatchStatus::Accepted;
        for t in &mut batch.view.transactions {
            if t.status == TransferStatus::WaitingForSignature {
                t.status = TransferStatus::Accepted;
            }
        }
        Ok(batch.view.clone())
    }

    /// Stores a checked batch and answers its view.
    pub(crate) fn store_batch(
        &mut self,
        context_id: &str,
        file_name: &str,
        editable: bool,
        signed_by: Option<String>,
        file: Vec<u8>,
        init: crate::pain001::Initiation,
    ) -> BatchView {
        let status = if editable {
            BatchStatus::WaitingForSignature
        } else {
            BatchStatus::Accepted
        };
        let tx_status = if editable {
            TransferStatus::WaitingForSignature
        } else {
            TransferStatus::Accepted
        };
        let view = BatchView {
            batch_id: format!("B{:08}", self.batches.len() + 1),
            status,
            context_id: context_id.to_string(),
            msg_id: init.msg_id,
            file_name: file_name.to_string(),
            editable,
            signed_by,
            transactions: init
                .transfers
                .into_iter()
                .map(|t| TransferView {
                    end_to_end_id: t.end_to_end_id,
                    status: tx_status,
                    reason: None,
                    amount: t.amount,
                    debtor_iban: t.debtor_iban,
                    creditor_iban: t.creditor_iban,
                    creditor_name: t.creditor_name,
                    title: t.title,
                })
                .collect(),
        };
        self.batches.push(StoredBatch {
            view: view.clone(),
            file,
        });
        view
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank() -> Bank {
        let accounts = crate::Simulator::demo_accounts();
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        Bank::new(accounts, 1, today, 4, Amount::new(1000, 0))
    }

    #[test]
    fn days_chain_and_add_up() {
        let b = bank();
        let iban = b.accounts[0].iban.clone();
        let from = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let days = b.statement_days(&iban, from, b.today());
        assert_eq!(days.len(), 6);
        assert_eq!(days[0].opening, 100_000, "before the generated lines");
        for w in days.windows(2) {
            assert_eq!(w[0].closing, w[1].opening);
        }
        for d in &days {
            let sum: i64 = d.lines.iter().map(Bank::signed).sum();
            assert_eq!(d.opening + sum, d.closing);
        }
        assert!(days[5].lines.iter().all(|t| t.booking_date == b.today()));
    }

    #[test]
    fn generation_is_deterministic_and_references_unique() {
        let (a, b) = (bank(), bank());
        assert_eq!(a.transactions, b.transactions);
        let refs: HashSet<_> = a.transactions.iter().map(|t| &t.bank_reference).collect();
        assert_eq!(refs.len(), a.transactions.len());
    }

    #[test]
    fn batch_moves() {
        let mut b = bank();
        let debtor = b.accounts[0].iban.clone();
        let init = crate::pain001::Initiation {
            msg_id: "M".into(),
            transfers: vec![crate::pain001::Transfer {
                end_to_end_id: "E1".into(),
                amount: Amount(500),
                debtor_iban: debtor.clone(),
                creditor_iban: "PL61109010140000071219812874".into(),
                creditor_name: "X".into(),
                title: "T".into(),
            }],
        };
        let v = b.store_batch("C", "f.xml", true, None, Vec::new(), init);
        assert!(matches!(
            b.execute_batch(&v.batch_id),
            Err(SimError::BatchState { .. })
        ));
        b.sign_batch(&v.batch_id).unwrap();
        let before = b.transactions.len();
        let v = b.execute_batch(&v.batch_id).unwrap();
        assert_eq!(v.transactions[0].status, TransferStatus::Executed);
        assert_eq!(b.transactions.len(), before + 1);
        let booked = b
            .transactions
            .iter()
            .find(|t| t.customer_reference.as_deref() == Some("E1"))
            .unwrap();
        assert_eq!(
            (booked.direction, booked.account.as_str()),
            (Direction::Debit, debtor.as_str())
        );
        assert!(b.reject_transaction(&v.batch_id, "E1", "late").is_err());
    }
}
