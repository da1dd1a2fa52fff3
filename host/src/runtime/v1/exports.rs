//! 1.0 export types ↔ the host's model (`runtime::model`).

use crate::runtime::model::{ConnectorError, bank as m, pos as p};
use crate::wit::v1::{bank_exports as b, pos_exports as w, types};

crate::runtime::adapter::money_and_error_conversions!();

/// The refusal for something contract 1.0 cannot carry.
pub(crate) fn cannot_say(what: &str) -> ConnectorError {
    ConnectorError::Unsupported(format!(
        "this connector is built for h2h:connector@1.0.0, which cannot carry {what}; \
         it needs a build for 2.0"
    ))
}

pub(crate) fn session_request(r: &m::SessionRequest) -> Result<b::SessionRequest, ConnectorError> {
    let authentication = match (r.method, &r.signing_key) {
        (m::LoginMethod::Signature, Some(key)) => b::Authentication::Signature(key.clone()),
        (m::LoginMethod::Signature, None) => {
            return Err(cannot_say("a session opened by a signature the host makes"));
        }
        (m::LoginMethod::MobileConfirmation, _) => b::Authentication::MobileConfirmation,
        (m::LoginMethod::StoredCredentials, _) => b::Authentication::StoredCredentials,
    };
    if !r.company_ids.is_empty() {
        return Err(cannot_say("the company identifiers a session covers"));
    }
    Ok(b::SessionRequest {
        bank_user_id: r.bank_user_id.clone(),
        authentication,
        valid_until: r.valid_until.clone(),
    })
}

pub(crate) fn session(s: b::Session) -> m::Session {
    m::Session {
        id: s.id,
        bank_user_id: s.bank_user_id,
        state: match s.state {
            b::SessionState::Active => m::SessionState::Active,
            b::SessionState::PendingConfirmation => m::SessionState::PendingConfirmation,
            b::SessionState::Expired => m::SessionState::Expired,
            b::SessionState::Closed => m::SessionState::Closed,
        },
        company_ids: Vec::new(),
        expires_at: s.expires_at,
        refresh_every_seconds: None,
        challenge: None,
        secret: None,
        message: s.message,
    }
}

pub(crate) fn statement_query(q: &m::StatementQuery) -> b::StatementQuery {
    b::StatementQuery {
        account: q.account.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
        continuation: q.continuation.clone(),
    }
}

fn transaction(t: b::Transaction) -> m::Transaction {
    m::Transaction {
        bank_reference: t.bank_reference,
        former_references: Vec::new(),
        booking_date: t.booking_date,
        value_date: t.value_date,
        direction: match t.direction {
            b::Direction::Credit => m::Direction::Credit,
            b::Direction::Debit => m::Direction::Debit,
        },
        amount: money(t.amount),
        counterparty: m::Counterparty {
            name: t.counterparty_name,
            account: t.counterparty_account,
            // 1.0's counterparty id is the tax or company id.
            tax_id: t.counterparty_id,
            ..m::Counterparty::default()
        },
        title: t.title,
        own_reference: t.own_reference,
        type_code: None,
        extra: t.extra,
    }
}

/// 1.0 statements say nothing of finality; the host has always treated
/// them as booked lines, so they read as final.
pub(crate) fn statement(s: b::Statement) -> m::Statement {
    m::Statement {
        account: s.account,
        currency: s.currency,
        opening_balance: s.opening_balance.map(money),
        closing_balance: s.closing_balance.map(money),
        finality: m::Finality::Final,
        final_through: None,
        transactions: s.transactions.into_iter().map(transaction).collect(),
        documents: Vec::new(),
        continuation: s.continuation,
    }
}

pub(crate) fn balance(x: b::Balance) -> m::Balance {
    m::Balance {
        account: x.account,
        booked: money(x.booked),
        available: x.available.map(money),
        as_of: x.as_of,
    }
}

pub(crate) fn batch(x: &m::TransferBatch) -> Result<b::TransferBatch, ConnectorError> {
    if x.editable_in_bank {
        return Err(cannot_say("a batch editable in the bank"));
    }
    if x.signing_key.is_some() {
        return Err(cannot_say("a batch signed with a named key"));
    }
    let transfers = x
        .transfers
        .iter()
        .map(|t| {
            if t.split_payment.is_some() {
                return Err(cannot_say("a split payment"));
            }
            if t.counterparty.tax_id.is_some() || t.counterparty.bank.is_some() {
                return Err(cannot_say("a counterparty's tax id or bank code"));
            }
            Ok(b::Transfer {
                id: t.id.clone(),
                counterparty_account: t.counterparty.account.clone().unwrap_or_default(),
                counterparty_name: t.counterparty.name.clone().unwrap_or_default(),
                counterparty_address: t.counterparty.address.clone(),
                amount: money_out(&t.amount),
                title: t.title.clone(),
                execution_date: t.execution_date.clone(),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(b::TransferBatch {
        idempotency_key: x.idempotency_key.clone(),
        account: x.account.clone(),
        transfers,
    })
}

pub(crate) fn batch_status(x: b::BatchStatus) -> m::BatchStatus {
    m::BatchStatus {
        batch_id: x.batch_id,
        transfers: x
            .transfers
            .into_iter()
            .map(|t| m::TransferStatus {
                transfer_id: t.transfer_id,
                state: match t.state {
                    b::TransferState::Pending => m::TransferState::Pending,
                    b::TransferState::AwaitingApproval => m::TransferState::AwaitingApproval,
                    b::TransferState::Accepted => m::TransferState::Accepted,
                    b::TransferState::Executed => m::TransferState::Executed,
                    b::TransferState::Rejected => m::TransferState::Rejected,
                },
                bank_state: None,
                bank_reference: t.bank_reference,
                message: t.message,
            })
            .collect(),
        documents: Vec::new(),
    }
}

pub(crate) fn pairing(x: w::Pairing) -> p::Pairing {
    p::Pairing {
        api_key: x.api_key,
        label: x.label,
    }
}

pub(crate) fn terminal(x: w::Terminal) -> p::Terminal {
    p::Terminal {
        terminal_id: x.id.clone(),
        id: x.id,
        pos_id: None,
        merchant_id: None,
        name: x.name,
        model: x.model,
    }
}

pub(crate) fn intent_request(x: &p::IntentRequest) -> Result<w::IntentRequest, ConnectorError> {
    if x.tip.is_some() || x.instalments.is_some() || x.e_invoicing.is_some() {
        return Err(cannot_say("a tip, instalments or e-invoicing data"));
    }
    if x.original.is_some() {
        return Err(cannot_say("a refund by the original payment's RRN"));
    }
    Ok(w::IntentRequest {
        terminal_id: x.terminal.clone(),
        kind: match x.kind {
            p::IntentKind::Sale => w::IntentKind::Sale,
            p::IntentKind::Refund => w::IntentKind::Refund,
        },
        amount: money_out(&x.amount),
        reference: x.reference.clone(),
        original_intent_id: None,
        idempotency_key: x.reference.clone(),
    })
}

/// A 1.0 intent; `voided` (a status 2.0 folds into the result) reads as
/// completed and cancelled, status number 4.
pub(crate) fn intent(x: w::PaymentIntent) -> p::PaymentIntent {
    use w::IntentResult as R;
    let provider_response = serde_json::to_string(&x).unwrap_or_default();
    let (status, status_code) = match x.status {
        w::IntentStatus::Pending => (p::IntentStatus::Pending, 1),
        w::IntentStatus::Sent => (p::IntentStatus::Sent, 2),
        w::IntentStatus::Completed => (p::IntentStatus::Completed, 3),
        w::IntentStatus::Voided => (p::IntentStatus::Completed, 4),
    };
    let result = if x.status == w::IntentStatus::Voided {
        Some(p::IntentResult::Cancelled)
    } else {
        x.result.map(|r| match r {
            R::Approved => p::IntentResult::Approved,
            R::Declined => p::IntentResult::Declined,
            R::Cancelled => p::IntentResult::Cancelled,
            R::Failed => p::IntentResult::Failed,
            R::Unknown => p::IntentResult::Unknown,
            R::Busy => p::IntentResult::Busy,
            R::MaxTransactions => p::IntentResult::MaxTransactions,
        })
    };
    p::PaymentIntent {
        id: x.id,
        terminal: x.terminal_id,
        kind: match x.kind {
            w::IntentKind::Sale => p::IntentKind::Sale,
            w::IntentKind::Refund => p::IntentKind::Refund,
        },
        amount: money(x.amount),
        reference: x.reference,
        status,
        status_code,
        result,
        result_code: None,
        payment: None,
        created_at: x.created_at,
        updated_at: x.updated_at,
        provider_response,
    }
}
