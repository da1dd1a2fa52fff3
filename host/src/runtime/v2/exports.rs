//! 2.0 export types ↔ the host's model (`runtime::model`).

use crate::pkcs11::SignMechanism;
use crate::runtime::model::{self, bank as m, pos as p};
use crate::wit::v2::{bank_exports as b, pos_exports as w, types};

crate::runtime::adapter::money_and_error_conversions!();

fn document(d: types::Document) -> model::Document {
    model::Document {
        name: d.name,
        media_type: d.media_type,
        content: d.content,
    }
}

fn mechanism(x: types::Mechanism) -> SignMechanism {
    match x {
        types::Mechanism::RsaPkcs1Sha256 => SignMechanism::RsaPkcs1Sha256,
        types::Mechanism::RsaPssSha256 => SignMechanism::RsaPssSha256,
        types::Mechanism::EcdsaP256Sha256 => SignMechanism::EcdsaP256Sha256,
    }
}

pub(crate) fn session_request(r: &m::SessionRequest) -> b::SessionRequest {
    b::SessionRequest {
        bank_user_id: r.bank_user_id.clone(),
        method: match r.method {
            m::LoginMethod::Signature => b::LoginMethod::Signature,
            m::LoginMethod::MobileConfirmation => b::LoginMethod::MobileConfirmation,
            m::LoginMethod::StoredCredentials => b::LoginMethod::StoredCredentials,
        },
        company_ids: r.company_ids.clone(),
        valid_until: r.valid_until.clone(),
        certificate: r.certificate.clone(),
    }
}

pub(crate) fn challenge_signature(s: &m::ChallengeSignature) -> b::ChallengeSignature {
    b::ChallengeSignature {
        signature: s.signature.clone(),
        certificate: s.certificate.clone(),
    }
}

pub(crate) fn session(s: b::Session) -> m::Session {
    m::Session {
        id: s.id,
        bank_user_id: s.bank_user_id,
        state: match s.state {
            b::SessionState::Active => m::SessionState::Active,
            b::SessionState::AwaitingSignature => m::SessionState::AwaitingSignature,
            b::SessionState::PendingConfirmation => m::SessionState::PendingConfirmation,
            b::SessionState::Rejected => m::SessionState::Rejected,
            b::SessionState::Expired => m::SessionState::Expired,
            b::SessionState::Closed => m::SessionState::Closed,
        },
        company_ids: s.company_ids,
        expires_at: s.expires_at,
        refresh_every_seconds: s.refresh_every_seconds,
        challenge: s.challenge.map(|c| m::Challenge {
            data: c.data,
            mechanism: mechanism(c.mechanism),
            message: c.message,
        }),
        secret: s.secret,
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

fn counterparty(c: b::Counterparty) -> m::Counterparty {
    m::Counterparty {
        name: c.name,
        account: c.account,
        bank: c.bank,
        tax_id: c.tax_id,
        address: c.address,
    }
}

fn counterparty_out(c: &m::Counterparty) -> b::Counterparty {
    b::Counterparty {
        name: c.name.clone(),
        account: c.account.clone(),
        bank: c.bank.clone(),
        tax_id: c.tax_id.clone(),
        address: c.address.clone(),
    }
}

fn transaction(t: b::Transaction) -> m::Transaction {
    m::Transaction {
        bank_reference: t.bank_reference,
        former_references: t.former_references,
        booking_date: t.booking_date,
        value_date: t.value_date,
        direction: match t.direction {
            b::Direction::Credit => m::Direction::Credit,
            b::Direction::Debit => m::Direction::Debit,
        },
        amount: money(t.amount),
        counterparty: counterparty(t.counterparty),
        title: t.title,
        own_reference: t.own_reference,
        type_code: t.type_code,
        extra: t.extra,
    }
}

pub(crate) fn statement(s: b::Statement) -> m::Statement {
    m::Statement {
        account: s.account,
        currency: s.currency,
        opening_balance: s.opening_balance.map(money),
        closing_balance: s.closing_balance.map(money),
        finality: match s.finality {
            b::Finality::Interim => m::Finality::Interim,
            b::Finality::Final => m::Finality::Final,
        },
        final_through: s.final_through,
        transactions: s.transactions.into_iter().map(transaction).collect(),
        documents: s.documents.into_iter().map(document).collect(),
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

pub(crate) fn batch(x: &m::TransferBatch) -> b::TransferBatch {
    b::TransferBatch {
        idempotency_key: x.idempotency_key.clone(),
        account: x.account.clone(),
        transfers: x
            .transfers
            .iter()
            .map(|t| b::Transfer {
                id: t.id.clone(),
                counterparty: counterparty_out(&t.counterparty),
                amount: money_out(&t.amount),
                title: t.title.clone(),
                execution_date: t.execution_date.clone(),
                split_payment: t.split_payment.as_ref().map(|s| b::SplitPayment {
                    vat_amount: money_out(&s.vat_amount),
                    tax_id: s.tax_id.clone(),
                    invoice_number: s.invoice_number.clone(),
                }),
            })
            .collect(),
        editable_in_bank: x.editable_in_bank,
        signing_key: x.signing_key.clone(),
    }
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
                    b::TransferState::Cancelled => m::TransferState::Cancelled,
                    b::TransferState::NeedsReview => m::TransferState::NeedsReview,
                },
                bank_state: t.bank_state,
                bank_reference: t.bank_reference,
                message: t.message,
            })
            .collect(),
        documents: x.documents.into_iter().map(document).collect(),
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
        id: x.id,
        terminal_id: x.terminal_id,
        pos_id: x.pos_id,
        merchant_id: x.merchant_id,
        name: x.name,
        model: x.model,
    }
}

fn kind(x: w::IntentKind) -> p::IntentKind {
    match x {
        w::IntentKind::Sale => p::IntentKind::Sale,
        w::IntentKind::Refund => p::IntentKind::Refund,
    }
}

fn status(x: w::IntentStatus) -> p::IntentStatus {
    match x {
        w::IntentStatus::Pending => p::IntentStatus::Pending,
        w::IntentStatus::Sent => p::IntentStatus::Sent,
        w::IntentStatus::Completed => p::IntentStatus::Completed,
    }
}

fn status_out(x: p::IntentStatus) -> w::IntentStatus {
    match x {
        p::IntentStatus::Pending => w::IntentStatus::Pending,
        p::IntentStatus::Sent => w::IntentStatus::Sent,
        p::IntentStatus::Completed => w::IntentStatus::Completed,
    }
}

fn card_payment(x: w::CardPayment) -> p::CardPayment {
    p::CardPayment {
        rrn: x.rrn,
        merchant_id: x.merchant_id,
        terminal_id: x.terminal_id,
        auth_code: x.auth_code,
        masked_pan: x.masked_pan,
        scheme: x.scheme,
        stan: x.stan,
        batch_number: x.batch_number,
    }
}

fn card_payment_out(x: &p::CardPayment) -> w::CardPayment {
    w::CardPayment {
        rrn: x.rrn.clone(),
        merchant_id: x.merchant_id.clone(),
        terminal_id: x.terminal_id.clone(),
        auth_code: x.auth_code.clone(),
        masked_pan: x.masked_pan.clone(),
        scheme: x.scheme.clone(),
        stan: x.stan.clone(),
        batch_number: x.batch_number.clone(),
    }
}

pub(crate) fn intent_request(x: &p::IntentRequest) -> w::IntentRequest {
    w::IntentRequest {
        terminal: x.terminal.clone(),
        kind: match x.kind {
            p::IntentKind::Sale => w::IntentKind::Sale,
            p::IntentKind::Refund => w::IntentKind::Refund,
        },
        amount: money_out(&x.amount),
        tip: x.tip.as_ref().map(money_out),
        reference: x.reference.clone(),
        instalments: x.instalments,
        original: x.original.as_ref().map(card_payment_out),
        e_invoicing: x.e_invoicing.as_ref().map(|e| w::EInvoicing {
            provider_id: e.provider_id.clone(),
            input: e.input.clone(),
            signature: e.signature.clone(),
        }),
    }
}

pub(crate) fn intent(x: w::PaymentIntent) -> p::PaymentIntent {
    use w::IntentResult as R;
    p::PaymentIntent {
        id: x.id,
        terminal: x.terminal,
        kind: kind(x.kind),
        amount: money(x.amount),
        reference: x.reference,
        status: status(x.status),
        status_code: x.status_code,
        result: x.result.map(|r| match r {
            R::Approved => p::IntentResult::Approved,
            R::Declined => p::IntentResult::Declined,
            R::Cancelled => p::IntentResult::Cancelled,
            R::Failed => p::IntentResult::Failed,
            R::Unknown => p::IntentResult::Unknown,
            R::Busy => p::IntentResult::Busy,
            R::MaxTransactions => p::IntentResult::MaxTransactions,
        }),
        result_code: x.result_code,
        payment: x.payment.map(card_payment),
        created_at: x.created_at,
        updated_at: x.updated_at,
        provider_response: x.provider_response,
    }
}

pub(crate) fn intent_query(x: &p::IntentQuery) -> w::IntentQuery {
    w::IntentQuery {
        from: x.from.clone(),
        to: x.to.clone(),
        status: x.status.map(status_out),
        terminal: x.terminal.clone(),
    }
}

pub(crate) fn void_target(x: &p::VoidTarget) -> w::VoidTarget {
    match x {
        p::VoidTarget::Intent(id) => w::VoidTarget::Intent(id.clone()),
        p::VoidTarget::Payment(payment) => w::VoidTarget::Payment(card_payment_out(payment)),
    }
}
