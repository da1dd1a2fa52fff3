//! What the service keeps — merchant accounts, terminals, pairing codes,
//! API keys, provider keys, intents — and the rules that move intents
//! along the simulated clock.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use axum::http::StatusCode;
use chrono::{DateTime, TimeDelta, Utc};

use crate::faults::{FaultState, RequestLog};
use crate::model::{
    Charge, IntentResult, IntentStatus, IntentView, Outcome, SEND_SECS, TerminalView,
    TransactionView,
};
use h2h_sim_kit::clock::Clock;
use h2h_sim_kit::pki::Pki;

pub(crate) use h2h_sim_kit::lock;

pub(crate) struct Shared {
    pub(crate) world: Mutex<World>,
    pub(crate) faults: Mutex<FaultState>,
    pub(crate) log: Mutex<RequestLog>,
    pub(crate) pki: Pki,
}

impl Shared {
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }
}

/// An API refusal: status, machine code, text.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) detail: String,
}

pub(crate) fn refuse(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Refusal {
    Refusal {
        status,
        code,
        detail: detail.into(),
    }
}

/// Settings fixed at build.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) access_secs: i64,
    pub(crate) refresh_secs: i64,
    pub(crate) pairing_code_secs: i64,
    pub(crate) require_provider_data: bool,
    pub(crate) default_after: Duration,
}

pub(crate) struct Terminal {
    pub(crate) id: u64,
    pub(crate) account: String,
    pub(crate) tid: String,
    pub(crate) mid: String,
    pub(crate) model: String,
    pub(crate) acquirer: u32,
    pub(crate) friendly_name: String,
    pub(crate) batch: u32,
    pub(crate) stan: u32,
}

impl Terminal {
    pub(crate) fn view(&self) -> TerminalView {
        TerminalView {
            id: self.id,
            terminal_id: self.tid.clone(),
            friendly_name: self.friendly_name.clone(),
            terminal_type: 1,
            merchant: self.mid.clone(),
            acquirer: self.acquirer,
            model: self.model.clone(),
            locked: false,
            current_batch_number: self.batch,
        }
    }
}

pub(crate) struct PairingCode {
    pub(crate) terminal: u64,
    pub(crate) expires: DateTime<Utc>,
    pub(crate) redeemed: bool,
}

pub(crate) struct ApiKey {
    pub(crate) account: String,
    pub(crate) terminal: u64,
    pub(crate) revoked: bool,
}

/// The host's record of an intent that reached the card host.
#[derive(Clone)]
pub(crate) struct TxnRecord {
    pub(crate) txn_id: u64,
    pub(crate) rrn: String,
    pub(crate) auth_code: String,
    pub(crate) stan: String,
    pub(crate) batch: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Txn,
    Void,
}

pub(crate) struct Intent {
    pub(crate) id: u64,
    pub(crate) kind: Kind,
    pub(crate) terminal: u64,
    pub(crate) account: String,
    pub(crate) txn_type: u8,
    pub(crate) amount: i64,
    pub(crate) tip: i64,
    pub(crate) currency: u16,
    pub(crate) instalments: u32,
    pub(crate) reference: Option<String>,
    /// For a refund or void: the intent id of the sale it names.
    pub(crate) original: Option<u64>,
    pub(crate) created: DateTime<Utc>,
    pub(crate) sent_at: DateTime<Utc>,
    pub(crate) completes_at: DateTime<Utc>,
    pub(crate) result: IntentResult,
    pub(crate) record: TxnRecord,
}

impl Intent {
    pub(crate) fn status(&self, now: DateTime<Utc>) -> IntentStatus {
        if now >= self.completes_at {
            IntentStatus::Completed
        } else if now >= self.sent_at {
            IntentStatus::Sent
        } else {
            IntentStatus::Pending
        }
    }

    pub(crate) fn done_with(&self, now: DateTime<Utc>, result: IntentResult) -> bool {
        now >= self.completes_at && self.result == result
    }
}

pub(crate) struct World {
    /// Real time, or with a start time set, standing still except for
    /// `advance_clock`.
    clock: Clock,
    pub(crate) config: Config,
    pub(crate) jwt_secret: Vec<u8>,
    /// Tokens of an older generation are expired (`expire_jwts`).
    pub(crate) access_generation: u64,
    pub(crate) refresh_generation: u64,
    pub(crate) accounts: BTreeMap<String, String>,
    pub(crate) terminals: BTreeMap<u64, Terminal>,
    pub(crate) codes: HashMap<String, PairingCode>,
    pub(crate) api_keys: HashMap<String, ApiKey>,
    pub(crate) providers: BTreeMap<String, p256::ecdsa::VerifyingKey>,
    pub(crate) intents: Vec<Intent>,
    pub(crate) outcomes: BTreeMap<i64, Outcome>,
    next_terminal: u64,
    next_intent: u64,
    next_txn: u64,
    next_rrn: u64,
}

impl World {
    pub(crate) fn new(
        config: Config,
        base: Option<DateTime<Utc>>,
        outcomes: BTreeMap<i64, Outcome>,
    ) -> World {
        World {
            clock: Clock::real_or_fixed(base),
            config,
            jwt_secret: crate::random_bytes(32),
            access_generation: 0,
            refresh_generation: 0,
            accounts: BTreeMap::new(),
            terminals: BTreeMap::new(),
            codes: HashMap::new(),
            api_keys: HashMap::new(),
            providers: BTreeMap::new(),
            intents: Vec::new(),
            outcomes,
            next_terminal: 1,
            next_intent: 1,
            next_txn: 1,
            next_rrn: 1,
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(crate) fn advance(&mut self, by: Duration) {
        self.clock.advance(by);
    }

    pub(crate) fn add_terminal(
        &mut self,
        account: &str,
        spec: &crate::TerminalSpec,
    ) -> Result<u64, crate::SimError> {
        if !self.accounts.contains_key(account) {
            return Err(crate::SimError::UnknownAccount(account.into()));
        }
        if spec.tid.trim().is_empty() || spec.mid.trim().is_empty() {
            return Err(crate::SimError::BadTerminal(
                "TID and MID are required".into(),
            ));
        }
        // The same TID under the same account is the same terminal.
        if let Some(t) = self
            .terminals
            .values()
            .find(|t| t.account == account && t.tid == spec.tid)
        {
            if spec.call_id.is_some_and(|id| id != t.id) || t.mid != spec.mid {
                return Err(crate::SimError::BadTerminal(format!(
                    "TID {} already exists with another call id or MID",
                    spec.tid
                )));
            }
            return Ok(t.id);
        }
        if let Some(t) = self.terminals.values().find(|t| t.tid == spec.tid) {
            return Err(crate::SimError::BadTerminal(format!(
                "TID {} belongs to account {:?}",
                spec.tid, t.account
            )));
        }
        let id = match spec.call_id {
            Some(id) if self.terminals.contains_key(&id) => {
                return Err(crate::SimError::BadTerminal(format!(
                    "call id {id} is taken"
                )));
            }
            Some(id) => id,
            None => {
                while self.terminals.contains_key(&self.next_terminal) {
                    self.next_terminal += 1;
                }
                self.next_terminal
            }
        };
        self.terminals.insert(
            id,
            Terminal {
                id,
                account: account.into(),
                tid: spec.tid.clone(),
                mid: spec.mid.clone(),
                model: spec.model.clone(),
                acquirer: spec.acquirer,
                friendly_name: spec
                    .friendly_name
                    .clone()
                    .unwrap_or_else(|| format!("POS {}", spec.tid)),
                batch: 1,
                stan: 0,
            },
        );
        Ok(id)
    }

    pub(crate) fn outcome_for(&self, amount: i64) -> Outcome {
        self.outcomes.get(&amount).copied().unwrap_or(Outcome::new(
            IntentResult::Approved,
            self.config.default_after,
        ))
    }

    /// Registers an intent whose end is already decided; it becomes
    /// visible along the clock.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn create_intent(
        &mut self,
        kind: Kind,
        terminal: u64,
        txn_type: u8,
        amount: i64,
        tip: i64,
        instalments: u32,
        reference: Option<String>,
        original: Option<u64>,
        outcome: Outcome,
    ) -> u64 {
        let now = self.now();
        let id = self.next_intent;
        self.next_intent += 1;
        let after = TimeDelta::from_std(outcome.after).unwrap_or(TimeDelta::MAX);
        let completes_at = now.checked_add_signed(after).unwrap_or(now);
        let sent_at = (now + TimeDelta::seconds(SEND_SECS as i64)).min(completes_at);
        let record = self.new_record(terminal, now);
        let account = self
            .terminals
            .get(&terminal)
            .map(|t| t.account.clone())
            .unwrap_or_default();
        self.intents.push(Intent {
            id,
            kind,
            terminal,
            account,
            txn_type,
            amount,
            tip,
            currency: 978,
            instalments,
            reference,
            original,
            created: now,
            sent_at,
            completes_at,
            result: outcome.result,
            record,
        });
        id
    }

    fn new_record(&mut self, terminal: u64, now: DateTime<Utc>) -> TxnRecord {
        let txn_id = self.next_txn;
        self.next_txn += 1;
        let rrn = format!("{}{:07}", now.format("%y%j"), self.next_rrn % 10_000_000);
        self.next_rrn += 1;
        let auth_code = format!("{:06}", (txn_id * 7919 + 104_729) % 1_000_000);
        let (stan, batch) = match self.terminals.get_mut(&terminal) {
            Some(t) => {
                t.stan = t.stan % 999_999 + 1;
                (format!("{:06}", t.stan), t.batch)
            }
            None => ("000001".into(), 1),
        };
        TxnRecord {
            txn_id,
            rrn,
            auth_code,
            stan,
            batch,
        }
    }

    pub(crate) fn intent(&self, id: u64) -> Option<&Intent> {
        self.intents.iter().find(|i| i.id == id)
    }

    /// The void of this sale that is approved or still under way.
    pub(crate) fn live_void_of(&self, sale: u64) -> Option<&Intent> {
        let now = self.now();
        self.intents.iter().find(|i| {
            i.kind == Kind::Void
                && i.original == Some(sale)
                && (now < i.completes_at || i.result == IntentResult::Approved)
        })
    }

    /// Cents of this sale refunded by refunds approved or under way.
    pub(crate) fn refunded_or_pending(&self, sale: u64) -> i64 {
        let now = self.now();
        self.intents
            .iter()
            .filter(|i| {
                i.kind == Kind::Txn
                    && i.txn_type == 1
                    && i.original == Some(sale)
                    && (now < i.completes_at || i.result == IntentResult::Approved)
            })
            .map(|i| i.amount + i.tip)
            .sum()
    }

    /// The intent on this terminal that has not completed yet, if any.
    pub(crate) fn open_intent_on(&self, terminal: u64) -> Option<&Intent> {
        let now = self.now();
        self.intents
            .iter()
            .find(|i| i.terminal == terminal && now < i.completes_at)
    }

    fn txn_view(&self, intent: &Intent, now: DateTime<Utc>) -> TransactionView {
        let term = self.terminals.get(&intent.terminal);
        let original = intent.original.and_then(|o| self.intent(o));
        let approved = intent.result == IntentResult::Approved;
        let voided = intent.kind == Kind::Txn
            && self.intents.iter().any(|v| {
                v.kind == Kind::Void
                    && v.original == Some(intent.id)
                    && v.done_with(now, IntentResult::Approved)
            });
        let tid = term.map(|t| t.tid.clone()).unwrap_or_default();
        let mid = term.map(|t| t.mid.clone()).unwrap_or_default();
        let what = match (intent.kind, intent.txn_type) {
            (Kind::Void, _) => "VOID",
            (_, 1) => "REFUND",
            _ => "SALE",
        };
        let verdict = if approved { "APPROVED" } else { "DECLINED" };
        TransactionView {
            txn_id: intent.record.txn_id,
            transaction_type: intent.txn_type,
            timestamp: intent.completes_at,
            card_pan: "476173******0119".into(),
            approved,
            voided,
            is_void: intent.kind == Kind::Void,
            stan: intent.record.stan.clone(),
            batch_number: intent.record.batch,
            tid: tid.clone(),
            mid: mid.clone(),
            amount: intent.amount,
            tip_amount: intent.tip,
            instalments: intent.instalments,
            currency_code: intent.currency,
            host_response_code: if approved { "00" } else { "05" }.into(),
            rrn: intent.record.rrn.clone(),
            auth_code: approved.then(|| intent.record.auth_code.clone()),
            original_rrn: original.map(|o| o.record.rrn.clone()),
            original_auth_code: original.map(|o| o.record.auth_code.clone()),
            voucher: format!(
                "WEBECR SIMULATOR (TEST)\nTID {tid} MID {mid}\n{what} EUR {}.{:02}\nRRN {} STAN {}\n{verdict}\n",
                (intent.amount + intent.tip) / 100,
                (intent.amount + intent.tip) % 100,
                intent.record.rrn,
                intent.record.stan
            ),
        }
    }

    /// The transaction view of a completed, host-seen intent.
    pub(crate) fn transaction_of(&self, intent: &Intent) -> Option<TransactionView> {
        let now = self.now();
        (intent.status(now) == IntentStatus::Completed && intent.result.has_transaction())
            .then(|| self.txn_view(intent, now))
    }

    pub(crate) fn view(&self, intent: &Intent) -> IntentView {
        let now = self.now();
        let status = intent.status(now);
        let done = status == IntentStatus::Completed;
        let transaction = self.transaction_of(intent);
        let approved = done && intent.result == IntentResult::Approved;
        IntentView {
            id: intent.id,
            kind: match intent.kind {
                Kind::Txn => "TXN",
                Kind::Void => "VOID",
            }
            .into(),
            status: status.code(),
            status_text: status.name().into(),
            result: done.then(|| intent.result.code()),
            result_text: done.then(|| intent.result.name().to_string()),
            txn_type: intent.txn_type,
            amount: intent.amount,
            tip_amount: intent.tip,
            currency_code: intent.currency,
            instalments: intent.instalments,
            customer_reference: intent.reference.clone(),
            terminal: intent.terminal,
            transaction_id: approved
                .then(|| format!("075;{};{}", intent.record.rrn, intent.record.auth_code)),
            transaction,
            initial_transaction: intent
                .original
                .and_then(|o| self.intent(o))
                .and_then(|o| self.transaction_of(o)),
            created: intent.created,
            completed: done.then_some(intent.completes_at),
        }
    }

    pub(crate) fn charges(&self) -> Vec<Charge> {
        let now = self.now();
        self.intents
            .iter()
            .filter(|i| {
                i.kind == Kind::Txn && i.txn_type == 0 && i.done_with(now, IntentResult::Approved)
            })
            .map(|i| {
                let term = self.terminals.get(&i.terminal);
                Charge {
                    intent_id: i.id,
                    txn_id: i.record.txn_id,
                    terminal: i.terminal,
                    tid: term.map(|t| t.tid.clone()).unwrap_or_default(),
                    mid: term.map(|t| t.mid.clone()).unwrap_or_default(),
                    customer_reference: i.reference.clone(),
                    amount: i.amount + i.tip,
                    rrn: i.record.rrn.clone(),
                    voided: self.intents.iter().any(|v| {
                        v.kind == Kind::Void
                            && v.original == Some(i.id)
                            && v.done_with(now, IntentResult::Approved)
                    }),
                    refunded: self
                        .intents
                        .iter()
                        .filter(|r| {
                            r.kind == Kind::Txn
                                && r.txn_type == 1
                                && r.original == Some(i.id)
                                && r.done_with(now, IntentResult::Approved)
                        })
                        .map(|r| r.amount + r.tip)
                        .sum(),
                }
            })
            .collect()
    }
}
