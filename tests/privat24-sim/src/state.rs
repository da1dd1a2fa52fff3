//! The bank's books: one per merchant, with its statement lines and the
//! payments made through the API. Everything sits behind std mutexes held
//! only for short, non-async stretches.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{Local, NaiveDate, NaiveDateTime, NaiveTime};

use crate::SimError;
use crate::data::{self, IdSource, Rng};
use crate::faults::{FaultState, RequestLog};
use crate::model::{
    Counterparty, CreatedPayment, CreatedPaymentData, DATE_TIME_FMT, Direction, FieldsForSign,
    LevelSign, Merchant, Money, NewTransaction, PaymentAnswer, PaymentRequest, PaymentStatus,
    PaymentView, Transaction, TxStatus,
};

pub(crate) use h2h_sim_kit::lock;

/// How payments move on after creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Progression {
    /// Only [`crate::SimHandle::set_payment_status`] (or the control API)
    /// moves them: tests decide exactly when.
    #[default]
    Manual,
    /// Each non-final payment takes one step (`new` → `signed` → `sent` →
    /// `done`; the words after `new` are assumed) every `step`, as if
    /// someone signed it in Privat24.
    Auto {
        /// Time per step.
        step: Duration,
    },
}

/// Everything the routes and handles share.
pub(crate) struct Shared {
    pub(crate) books: Mutex<Books>,
    pub(crate) faults: Mutex<FaultState>,
    pub(crate) log: Mutex<RequestLog>,
    pub(crate) progression: Progression,
    /// The bank's business day: fixed per simulator so tests can name
    /// dates.
    pub(crate) today: NaiveDate,
}

impl Shared {
    /// The bank's clock: its business day, at the wall clock's time.
    pub(crate) fn now(&self) -> NaiveDateTime {
        let t = Local::now().time();
        // Whole seconds: the bank prints no fractions.
        let t = NaiveTime::from_num_seconds_from_midnight_opt(
            chrono::Timelike::num_seconds_from_midnight(&t),
            0,
        )
        .unwrap_or_default();
        self.today.and_time(t)
    }

    /// Books with payments advanced to the present.
    pub(crate) fn books(&self) -> MutexGuard<'_, Books> {
        let mut books = lock(&self.books);
        books.advance_payments(self.progression, Instant::now(), self.now());
        books
    }
}

pub(crate) struct Payment {
    pub(crate) reference: String,
    pub(crate) pack_reference: String,
    pub(crate) request: PaymentRequest,
    pub(crate) status: PaymentStatus,
    /// Whether it was ever signed (`level_sign.1_sign_level`); stays true
    /// if it is rejected afterwards.
    pub(crate) signed: bool,
    pub(crate) created: NaiveDateTime,
    pub(crate) status_changed: NaiveDateTime,
    /// When the status last changed, for automatic progression.
    pub(crate) since: Instant,
    pub(crate) transaction_id: Option<u64>,
}

impl Payment {
    pub(crate) fn view(&self) -> PaymentView {
        PaymentView {
            payment_ref: self.reference.clone(),
            payment_pack_ref: self.pack_reference.clone(),
            document_number: self.request.document_number.clone(),
            payment_status: self.status,
            payment_status_text: self.status.description().into(),
            created: self.created.format(DATE_TIME_FMT).to_string(),
            status_changed: self.status_changed.format(DATE_TIME_FMT).to_string(),
            transaction_id: self.transaction_id.map(|id| id.to_string()),
            payment_data: self.request.clone(),
        }
    }

    /// The answer to `payment/create`.
    pub(crate) fn created_answer(&self) -> CreatedPayment {
        CreatedPayment {
            payment_ref: self.reference.clone(),
            payment_pack_ref: self.pack_reference.clone(),
            payment_data: CreatedPaymentData {
                request: self.request.clone(),
                payment_status: self.status,
            },
        }
    }

    /// The answer to `payment/get`.
    pub(crate) fn answer(&self) -> PaymentAnswer {
        PaymentAnswer {
            payment_ref: self.reference.clone(),
            payment_pack_ref: self.pack_reference.clone(),
            payment_status: self.status,
            document_number: self.request.document_number.clone(),
            payment_amount: self.request.payment_amount,
            level_sign: LevelSign {
                first: self.signed,
                second: false,
            },
            fields_for_sign: FieldsForSign::DOCUMENTED,
        }
    }
}

/// Why a payment could not be deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeleteRefusal {
    /// No such payment for this merchant.
    Unknown,
    /// It has left `new`.
    NoLongerNew(PaymentStatus),
}

/// One merchant's account.
pub(crate) struct Book {
    pub(crate) merchant: Merchant,
    /// Balance before the first line.
    pub(crate) opening_balance: Money,
    /// Kept in statement order.
    pub(crate) transactions: Vec<Transaction>,
    pub(crate) payments: Vec<Payment>,
}

impl Book {
    /// Lines booked on `start..=end`, in statement order.
    pub(crate) fn between(&self, start: NaiveDate, end: NaiveDate) -> Vec<&Transaction> {
        self.transactions
            .iter()
            .filter(|t| t.date >= start && t.date <= end)
            .collect()
    }

    /// Balance at the start of `day`.
    pub(crate) fn balance_before(&self, day: NaiveDate) -> Money {
        self.opening_balance
            + self
                .transactions
                .iter()
                .filter(|t| t.date < day && t.moves_balance())
                .map(signed)
                .sum()
    }

    fn insert(&mut self, tx: Transaction) {
        let at = self
            .transactions
            .partition_point(|t| t.sort_key() < tx.sort_key());
        self.transactions.insert(at, tx);
    }
}

/// The effect of a line on the balance.
pub(crate) fn signed(t: &Transaction) -> Money {
    match t.direction {
        Direction::Credit => t.amount,
        Direction::Debit => Money::ZERO - t.amount,
    }
}

pub(crate) struct Books {
    pub(crate) books: Vec<Book>,
    rng: Rng,
    ids: IdSource,
}

impl Books {
    pub(crate) fn new(
        merchants: Vec<Merchant>,
        seed: u64,
        today: NaiveDate,
        days: u32,
        opening_balance: Money,
    ) -> Self {
        let mut ids = IdSource::new(seed);
        let books = merchants
            .into_iter()
            .enumerate()
            .map(|(i, merchant)| {
                // Each merchant its own stream, so adding one leaves the
                // others' statements as they were.
                let merchant_seed = seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let transactions = data::generate(&merchant, merchant_seed, today, days, &mut ids);
                Book {
                    merchant,
                    opening_balance,
                    transactions,
                    payments: Vec::new(),
                }
            })
            .collect();
        Books {
            books,
            rng: Rng::new(seed ^ 0x005E_ED0F_BA4C),
            ids,
        }
    }

    pub(crate) fn by_token(&self, token: &str) -> Option<usize> {
        self.books.iter().position(|b| b.merchant.token == token)
    }

    pub(crate) fn by_id(&self, id: &str) -> Result<usize, SimError> {
        self.books
            .iter()
            .position(|b| b.merchant.id == id)
            .ok_or_else(|| SimError::UnknownMerchant(id.to_string()))
    }

    pub(crate) fn add_transaction(&mut self, book: usize, new: NewTransaction) -> Transaction {
        let id = self.ids.take(&mut self.rng);
        let counterparty = new
            .counterparty
            .unwrap_or_else(|| data::default_counterparty(new.direction, id));
        let doc_number = new
            .doc_number
            .unwrap_or_else(|| self.rng.range(1, 9_999).to_string());
        let b = &mut self.books[book];
        let tx = Transaction {
            id,
            direction: new.direction,
            amount: new.amount,
            currency: b.merchant.currency.clone(),
            date: new.date,
            time: new
                .time
                .unwrap_or_else(|| NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default()),
            doc_date: new.date,
            purpose: new.purpose,
            doc_number,
            doc_type: "p".into(),
            counterparty,
            status: new.status,
            real: new.real,
            reference: data::bank_reference(&mut self.rng),
            dlr: String::new(),
        };
        b.insert(tx.clone());
        tx
    }

    /// Creates a payment and returns its index in the book, with `true`.
    /// A repeated document number makes a new payment, as nothing public
    /// says otherwise; with `deduplicate` (the fault switch
    /// `deduplicate_document_numbers`) the merchant's existing payment with
    /// that number is returned instead, with `false`.
    pub(crate) fn create_payment(
        &mut self,
        book: usize,
        request: PaymentRequest,
        now: NaiveDateTime,
        deduplicate: bool,
    ) -> (usize, bool) {
        if deduplicate
            && let Some(i) = self.books[book]
                .payments
                .iter()
                .position(|p| p.request.document_number == request.document_number)
        {
            return (i, false);
        }
        let reference = loop {
            let candidate = format!("SIM{}", self.rng.alnum(13));
            if self.payment(&candidate).is_none() {
                break candidate;
            }
        };
        let pack_reference = format!("PP{}", self.rng.range(1_000_000_000, 9_999_999_999));
        let payment = Payment {
            reference,
            pack_reference,
            request,
            status: PaymentStatus::New,
            signed: false,
            created: now,
            status_changed: now,
            since: Instant::now(),
            transaction_id: None,
        };
        let payments = &mut self.books[book].payments;
        payments.push(payment);
        (payments.len() - 1, true)
    }

    /// Deletes one of `book`'s payments while it is `new`: it is gone, so
    /// `payment/get` no longer knows it and it never progresses.
    pub(crate) fn delete_payment(
        &mut self,
        book: usize,
        reference: &str,
    ) -> Result<PaymentView, DeleteRefusal> {
        let payments = &mut self.books[book].payments;
        let i = payments
            .iter()
            .position(|p| p.reference == reference)
            .ok_or(DeleteRefusal::Unknown)?;
        let status = payments[i].status;
        if !status.can_be_deleted() {
            return Err(DeleteRefusal::NoLongerNew(status));
        }
        Ok(payments.remove(i).view())
    }

    /// (book, index) of a payment.
    pub(crate) fn payment(&self, reference: &str) -> Option<(usize, usize)> {
        self.books.iter().enumerate().find_map(|(b, book)| {
            book.payments
                .iter()
                .position(|p| p.reference == reference)
                .map(|i| (b, i))
        })
    }

    pub(crate) fn set_payment_status(
        &mut self,
        reference: &str,
        to: PaymentStatus,
        now: NaiveDateTime,
    ) -> Result<PaymentView, SimError> {
        let (b, i) = self
            .payment(reference)
            .ok_or_else(|| SimError::UnknownPayment(reference.to_string()))?;
        let from = self.books[b].payments[i].status;
        if !from.can_move_to(to) {
            return Err(SimError::InvalidTransition {
                reference: reference.to_string(),
                from,
                to,
            });
        }
        self.move_payment(b, i, to, now, Instant::now());
        Ok(self.books[b].payments[i].view())
    }

    fn move_payment(
        &mut self,
        b: usize,
        i: usize,
        to: PaymentStatus,
        now: NaiveDateTime,
        since: Instant,
    ) {
        let p = &mut self.books[b].payments[i];
        p.status = to;
        p.signed |= to.is_signed();
        p.status_changed = now;
        p.since = since;
        if to == PaymentStatus::Done {
            self.book_payment(b, i, now);
        }
    }

    /// A settled payment shows up on the statement as a debit, so a
    /// client can reconcile it by `DLR` (the pack reference) or `NUM_DOC`.
    fn book_payment(&mut self, b: usize, i: usize, now: NaiveDateTime) {
        let id = self.ids.take(&mut self.rng);
        let reference = data::bank_reference(&mut self.rng);
        let book = &mut self.books[b];
        let p = &book.payments[i];
        let r = &p.request;
        let mfo = r
            .recipient_ifi
            .clone()
            .unwrap_or_else(|| data::mfo_of(&r.recipient_account));
        let tx = Transaction {
            id,
            direction: Direction::Debit,
            amount: r.payment_amount,
            currency: book.merchant.currency.clone(),
            date: now.date(),
            time: now.time(),
            doc_date: p.created.date(),
            purpose: r.payment_destination.clone(),
            doc_number: r.document_number.clone(),
            doc_type: "p".into(),
            counterparty: Counterparty {
                name: r.payment_naming.clone(),
                edrpou: r.recipient_nceo.clone(),
                account: r.recipient_account.clone(),
                bank_name: r
                    .recipient_ifi_text
                    .clone()
                    .unwrap_or_else(|| data::bank_name(&mfo).to_string()),
                mfo,
            },
            status: TxStatus::Done,
            real: true,
            reference,
            dlr: p.pack_reference.clone(),
        };
        book.payments[i].transaction_id = Some(id);
        book.insert(tx);
    }

    /// Applies automatic progression up to `now`. Lazy: payments advance
    /// when anyone looks, which is indistinguishable from outside.
    pub(crate) fn advance_payments(
        &mut self,
        progression: Progression,
        instant: Instant,
        now: NaiveDateTime,
    ) {
        let Progression::Auto { step } = progression else {
            return;
        };
        if step.is_zero() {
            return;
        }
        for b in 0..self.books.len() {
            for i in 0..self.books[b].payments.len() {
                loop {
                    let p = &self.books[b].payments[i];
                    let Some(next) = p.status.next() else { break };
                    if instant.duration_since(p.since) < step {
                        break;
                    }
                    let since = p.since + step;
                    self.move_payment(b, i, next, now, since);
                }
            }
        }
    }
}
