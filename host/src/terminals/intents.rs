//! Card payments on paired terminals. The ERP's reference is the
//! idempotency key: the row is claimed before the connector is called, a
//! repeated request answers the same intent, and an answer lost on the way
//! back is recovered by looking the intent up by reference, never by
//! starting it again. Every provider answer is kept.

use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{PairedTerminal, TerminalError, Terminals, store};
use crate::connectors::Connectors;
use crate::db::{format_millis, now_millis};
use crate::runtime::CallError;
use crate::runtime::model::pos::{
    CardPayment, EInvoicing, IntentKind, IntentRequest, PaymentIntent, VoidTarget,
};
use crate::runtime::model::{ConnectorError, Money};

/// A card payment as the host keeps it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct CardIntent {
    /// The host's id.
    pub id: i64,
    /// The company.
    pub company: String,
    /// The terminal (host id).
    pub terminal: i64,
    /// The ERP's reference, unique per company.
    pub reference: String,
    /// `sale` or `refund`.
    pub kind: String,
    /// Decimal amount.
    pub amount: String,
    /// ISO 4217.
    pub currency: String,
    /// `starting`, `unknown` (answer lost; being looked up), `open`,
    /// `completed` or `refused` (nothing charged).
    pub state: String,
    /// The provider's status: `pending`, `sent`, `completed`.
    pub status: Option<String>,
    /// The provider's number for it.
    pub status_code: Option<i64>,
    /// Once completed: `approved`, `declined`, `cancelled`, `failed`,
    /// `unknown`, `busy`, `max-transactions`.
    pub result: Option<String>,
    /// The provider's number for it.
    pub result_code: Option<i64>,
    /// The provider's intent id.
    pub provider_intent_id: Option<String>,
    /// The card payment (RRN, MID, TID, auth code, masked PAN, ...), JSON.
    #[schema(value_type = Option<Object>)]
    pub payment: Option<serde_json::Value>,
    /// Why the last exchange failed.
    pub last_error: Option<String>,
    /// For a refund: the sale (host id).
    pub original: Option<i64>,
    /// A void asked for: `pending` until the provider confirms it,
    /// `voided`, or `refused` (the sale stands).
    pub void_state: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// One provider answer about an intent.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Exchange {
    /// The connector call (`pos.start-intent`, `pos.get-intent`, ...).
    pub call: String,
    /// `ok` or the error's kind.
    pub outcome: String,
    /// The provider's answer as received (JSON), or the error.
    pub body: String,
    /// RFC 3339.
    pub at: String,
}

/// A payment to start.
#[derive(Debug, Clone)]
pub struct NewIntent {
    /// The company.
    pub company: String,
    /// The terminal (host id).
    pub terminal: i64,
    /// Sale or refund.
    pub kind: IntentKind,
    /// The amount.
    pub amount: Money,
    /// The ERP's reference (idempotency key).
    pub reference: String,
    /// For a refund: the sale it gives money back for (host id).
    pub original: Option<i64>,
    /// The Greek e-invoicing provider's signed input and signature for the
    /// receipt, passed to the provider, which checks them.
    pub e_invoicing: Option<EInvoicing>,
}

const COLUMNS: &str = "id, company_id, terminal, reference, kind, amount, currency, state, status, \
     status_code, result, result_code, provider_intent_id, payment, last_error, void_state, \
     void_intent_id, original_intent, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<CardIntent, TerminalError> {
    Ok(CardIntent {
        id: row.try_get("id")?,
        company: row.try_get("company_id")?,
        terminal: row.try_get("terminal")?,
        reference: row.try_get("reference")?,
        kind: row.try_get("kind")?,
        amount: row.try_get("amount")?,
        currency: row.try_get("currency")?,
        state: row.try_get("state")?,
        status: row.try_get("status")?,
        status_code: row.try_get("status_code")?,
        result: row.try_get("result")?,
        result_code: row.try_get("result_code")?,
        provider_intent_id: row.try_get("provider_intent_id")?,
        payment: row
            .try_get::<Option<String>, _>("payment")?
            .and_then(|p| serde_json::from_str(&p).ok()),
        last_error: row.try_get("last_error")?,
        void_state: row.try_get("void_state")?,
        original: row.try_get("original_intent")?,
        created_at: format_millis(row.try_get("created_at")?),
        updated_at: format_millis(row.try_get("updated_at")?),
    })
}

/// A serde enum's name (`"approved"`).
pub(super) fn name<T: Serialize>(value: &T) -> Option<String> {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

/// True when the error proves the provider did not take the request.
fn surely_refused(error: &CallError) -> bool {
    matches!(
        error,
        CallError::Connector {
            error: ConnectorError::Rejected(_)
                | ConnectorError::InvalidInput(_)
                | ConnectorError::Unauthorized(_)
                | ConnectorError::Unsupported(_),
            ..
        } | CallError::WrongWorld { .. }
    )
}

impl Terminals {
    /// Starts `new` on its terminal for `user`, or answers the intent the
    /// same reference started before (refreshed when unfinished). A
    /// reference reused for another payment is refused.
    pub async fn start_intent(
        &self,
        via: &Connectors,
        user: &str,
        new: &NewIntent,
    ) -> Result<(CardIntent, bool), TerminalError> {
        let terminal = self.get(new.terminal).await?;
        if terminal.company != new.company {
            return Err(TerminalError::UnknownTerminal(new.terminal));
        }
        let kind = name(&new.kind).unwrap_or_default();
        let original = match (new.kind, new.original) {
            (IntentKind::Refund, Some(id)) => Some(self.refundable(&new.company, id).await?),
            (IntentKind::Refund, None) => return Err(TerminalError::RefundWithoutSale),
            (IntentKind::Sale, _) => None,
        };
        let now = now_millis();
        let claimed = sqlx::query(
            "INSERT INTO card_intents (company_id, plugin_id, terminal, reference, kind, amount, \
               currency, state, created_by, created_at, updated_at, original_intent) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'starting', $8, $9, $9, $10) \
             ON CONFLICT (company_id, reference) DO NOTHING RETURNING id",
        )
        .bind(&new.company)
        .bind(&terminal.plugin)
        .bind(terminal.id)
        .bind(&new.reference)
        .bind(&kind)
        .bind(&new.amount.amount)
        .bind(&new.amount.currency)
        .bind(user)
        .bind(now)
        .bind(new.original.filter(|_| original.is_some()))
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = claimed else {
            let existing = self
                .intent_by_reference(&new.company, &new.reference)
                .await?;
            if existing.terminal != new.terminal
                || existing.kind != kind
                || existing.amount != new.amount.amount
                || existing.currency != new.amount.currency
                || existing.original != new.original.filter(|_| original.is_some())
            {
                return Err(TerminalError::ReferenceTaken(new.reference.clone()));
            }
            let current = if matches!(existing.state.as_str(), "completed" | "refused") {
                existing
            } else {
                self.refresh_intent(via, user, existing.id).await?
            };
            return Ok((current, false));
        };
        let id: i64 = row.try_get("id")?;
        let loaded = via.get(&terminal.plugin).await?;
        let ctx = via.context(&loaded, Some(&new.company), Some(user)).await?;
        let key = self.api_key(&terminal).await?;
        let request = IntentRequest {
            terminal: terminal.provider_id.clone(),
            kind: new.kind,
            amount: new.amount.clone(),
            tip: None,
            reference: new.reference.clone(),
            instalments: None,
            original,
            e_invoicing: new.e_invoicing.clone(),
        };
        let answer = loaded
            .plugin
            .start_intent(ctx, secrecy::ExposeSecret::expose_secret(&key), &request)
            .await;
        match answer {
            Ok(intent) => self.store_answer(id, "pos.start-intent", &intent).await?,
            Err(error) if surely_refused(&error) => {
                self.exchange(
                    id,
                    "pos.start-intent",
                    error_kind(&error),
                    &error.to_string(),
                )
                .await?;
                self.set_state(id, "refused", Some(&error.to_string()))
                    .await?;
                crate::feed::publish(
                    &self.db,
                    &new.company,
                    "card_intent.refused",
                    &json!({ "intent": id, "reference": new.reference, "terminal": new.terminal,
                             "kind": name(&new.kind), "amount": new.amount.amount,
                             "currency": new.amount.currency, "error": error.to_string() }),
                )
                .await?;
            }
            Err(error) => {
                // The provider may have the payment: never start it again;
                // look it up by reference now, and on every refresh.
                self.exchange(
                    id,
                    "pos.start-intent",
                    error_kind(&error),
                    &error.to_string(),
                )
                .await?;
                self.set_state(id, "unknown", Some(&error.to_string()))
                    .await?;
                return Ok((self.refresh_intent(via, user, id).await?, true));
            }
        }
        Ok((self.intent(id).await?, true))
    }

    /// Asks the provider where intent `id` stands: by its provider id, or
    /// by reference when its start's answer was lost.
    pub async fn refresh_intent(
        &self,
        via: &Connectors,
        user: &str,
        id: i64,
    ) -> Result<CardIntent, TerminalError> {
        let intent = self.intent(id).await?;
        if matches!(intent.state.as_str(), "completed" | "refused") {
            return Ok(intent);
        }
        let terminal: PairedTerminal = store::get(&self.db, intent.terminal).await?;
        let loaded = via.get(&terminal.plugin).await?;
        let ctx = via
            .context(&loaded, Some(&intent.company), Some(user))
            .await?;
        let key = self.api_key(&terminal).await?;
        let key = secrecy::ExposeSecret::expose_secret(&key);
        let found = match &intent.provider_intent_id {
            Some(provider_id) => loaded
                .plugin
                .get_intent(ctx, key, provider_id)
                .await
                .map(Some),
            None => loaded.plugin.find_intent(ctx, key, &intent.reference).await,
        };
        let call = if intent.provider_intent_id.is_some() {
            "pos.get-intent"
        } else {
            "pos.find-intent"
        };
        match found {
            Ok(Some(answer)) => self.store_answer(id, call, &answer).await?,
            Ok(None) => {
                self.exchange(id, call, "not-found", "{}").await?;
            }
            Err(error) => {
                self.exchange(id, call, error_kind(&error), &error.to_string())
                    .await?;
                sqlx::query(
                    "UPDATE card_intents SET last_error = $2, updated_at = $3 WHERE id = $1",
                )
                .bind(id)
                .bind(error.to_string())
                .bind(now_millis())
                .execute(self.db.pool())
                .await?;
            }
        }
        self.intent(id).await
    }

    /// Asks the provider to void approved sale `id`. The sale is marked
    /// voided only when the provider confirms; until then `pending`, and a
    /// refusal leaves the sale as it was (`refused`). Asking again while
    /// pending asks the provider about that void (voids are idempotent at
    /// the provider: their reference derives from the sale).
    pub async fn void_intent(
        &self,
        via: &Connectors,
        user: &str,
        id: i64,
    ) -> Result<CardIntent, TerminalError> {
        let sale = self.intent(id).await?;
        let approved = sale.state == "completed" && sale.result.as_deref() == Some("approved");
        let Some(provider_id) = sale.provider_intent_id.clone().filter(|_| approved) else {
            return Err(TerminalError::NotVoidable(id));
        };
        if sale.void_state.as_deref() == Some("voided") {
            return Ok(sale);
        }
        let void_id: Option<String> =
            sqlx::query("SELECT void_intent_id FROM card_intents WHERE id = $1")
                .bind(id)
                .fetch_one(self.db.pool())
                .await?
                .try_get("void_intent_id")?;
        sqlx::query(
            "UPDATE card_intents SET void_state = 'pending', updated_at = $2 WHERE id = $1",
        )
        .bind(id)
        .bind(now_millis())
        .execute(self.db.pool())
        .await?;
        let terminal: PairedTerminal = store::get(&self.db, sale.terminal).await?;
        let loaded = via.get(&terminal.plugin).await?;
        let ctx = via
            .context(&loaded, Some(&sale.company), Some(user))
            .await?;
        let key = self.api_key(&terminal).await?;
        let key = secrecy::ExposeSecret::expose_secret(&key);
        let (call, answer) = match &void_id {
            Some(void_id) => (
                "pos.get-intent",
                loaded.plugin.get_intent(ctx, key, void_id).await,
            ),
            None => (
                "pos.void-intent",
                loaded
                    .plugin
                    .void_intent(ctx, key, &VoidTarget::Intent(provider_id))
                    .await,
            ),
        };
        match answer {
            Ok(void) => {
                self.exchange(id, call, "ok", &void.provider_response)
                    .await?;
                let completed = name(&void.status).as_deref() == Some("completed");
                let state = match (completed, void.result.as_ref().and_then(name).as_deref()) {
                    (true, Some("approved")) => "voided",
                    (true, _) => "refused",
                    (false, _) => "pending",
                };
                let moved = sqlx::query(
                    "UPDATE card_intents SET void_state = $2, void_intent_id = $3, updated_at = $4 \
                     WHERE id = $1 AND (void_state IS NULL OR void_state <> 'voided')",
                )
                .bind(id)
                .bind(state)
                .bind(&void.id)
                .bind(now_millis())
                .execute(self.db.pool())
                .await?
                .rows_affected()
                    == 1;
                let event = match state {
                    "voided" => Some("card_intent.voided"),
                    "refused" => Some("card_intent.void_refused"),
                    _ => None,
                };
                if let Some(event) = event.filter(|_| moved) {
                    crate::feed::publish(
                        &self.db,
                        &sale.company,
                        event,
                        &json!({ "intent": id, "reference": sale.reference }),
                    )
                    .await?;
                }
            }
            Err(error) => {
                self.exchange(id, call, error_kind(&error), &error.to_string())
                    .await?;
                let state = if surely_refused(&error) {
                    "refused"
                } else {
                    "pending"
                };
                sqlx::query(
                    "UPDATE card_intents SET void_state = $2, last_error = $3, updated_at = $4 \
                     WHERE id = $1",
                )
                .bind(id)
                .bind(state)
                .bind(error.to_string())
                .bind(now_millis())
                .execute(self.db.pool())
                .await?;
                if state == "refused" {
                    crate::feed::publish(
                        &self.db,
                        &sale.company,
                        "card_intent.void_refused",
                        &json!({ "intent": id, "reference": sale.reference,
                                 "error": error.to_string() }),
                    )
                    .await?;
                }
            }
        }
        self.intent(id).await
    }

    /// The acquirer's payment of sale `id` of `company`, when it is an
    /// approved sale not voided: what a refund names.
    async fn refundable(&self, company: &str, id: i64) -> Result<CardPayment, TerminalError> {
        let sale = self.intent(id).await?;
        let approved = sale.company == company
            && sale.kind == "sale"
            && sale.result.as_deref() == Some("approved")
            && sale.void_state.as_deref() != Some("voided");
        let payment = sale.payment.filter(|_| approved);
        let text = |p: &serde_json::Value, field: &str| p[field].as_str().map(str::to_owned);
        match payment
            .as_ref()
            .and_then(|p| text(p, "rrn").map(|rrn| (p, rrn)))
        {
            Some((p, rrn)) => Ok(CardPayment {
                rrn,
                merchant_id: text(p, "merchant_id"),
                terminal_id: text(p, "terminal_id"),
                auth_code: text(p, "auth_code"),
                masked_pan: text(p, "masked_pan"),
                scheme: text(p, "scheme"),
                stan: text(p, "stan"),
                batch_number: text(p, "batch_number"),
            }),
            None => Err(TerminalError::NotRefundable(id)),
        }
    }

    /// The company's payments with ids after `after`, oldest first, at
    /// most `limit`; of one terminal when given.
    pub async fn intents(
        &self,
        company: &str,
        terminal: Option<i64>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<CardIntent>, TerminalError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM card_intents WHERE company_id = $1 AND id > $2 \
               AND ($3 = 0 OR terminal = $3) ORDER BY id LIMIT $4"
        ))
        .bind(company)
        .bind(after)
        .bind(terminal.unwrap_or(0))
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// The newest card payments of `company`, newest first.
    pub async fn newest_intents(
        &self,
        company: &str,
        limit: i64,
    ) -> Result<Vec<CardIntent>, TerminalError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM card_intents WHERE company_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(company)
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// The card payment on `terminal` the provider knows as
    /// `provider_intent_id`, or that was started with `reference`.
    pub(super) async fn matching(
        &self,
        company: &str,
        terminal: i64,
        provider_intent_id: &str,
        reference: &str,
    ) -> Result<Option<CardIntent>, TerminalError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM card_intents WHERE company_id = $1 AND terminal = $2 \
               AND (provider_intent_id = $3 OR reference = $4) ORDER BY id LIMIT 1"
        ))
        .bind(company)
        .bind(terminal)
        .bind(provider_intent_id)
        .bind(reference)
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Intent `id`.
    pub async fn intent(&self, id: i64) -> Result<CardIntent, TerminalError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM card_intents WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?
            .ok_or(TerminalError::UnknownIntent(id))?;
        from_row(&row)
    }

    async fn intent_by_reference(
        &self,
        company: &str,
        reference: &str,
    ) -> Result<CardIntent, TerminalError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM card_intents WHERE company_id = $1 AND reference = $2"
        ))
        .bind(company)
        .bind(reference)
        .fetch_one(self.db.pool())
        .await?;
        from_row(&row)
    }

    /// The provider's answers about intent `id`, oldest first.
    pub async fn exchanges(&self, id: i64) -> Result<Vec<Exchange>, TerminalError> {
        let rows = sqlx::query(
            "SELECT call, outcome, body, at FROM card_intent_exchanges WHERE intent_id = $1 \
             ORDER BY id",
        )
        .bind(id)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Exchange {
                    call: row.try_get("call")?,
                    outcome: row.try_get("outcome")?,
                    body: row.try_get("body")?,
                    at: format_millis(row.try_get("at")?),
                })
            })
            .collect()
    }

    pub(super) async fn store_answer(
        &self,
        id: i64,
        call: &str,
        answer: &PaymentIntent,
    ) -> Result<(), TerminalError> {
        self.exchange(id, call, "ok", &answer.provider_response)
            .await?;
        let status = name(&answer.status);
        let completed = status.as_deref() == Some("completed");
        sqlx::query(
            "UPDATE card_intents SET status = $2, status_code = $3, result = $4, result_code = $5, \
               provider_intent_id = $6, payment = $7, last_error = NULL, updated_at = $8, \
               state = CASE WHEN state = 'completed' THEN state ELSE 'open' END WHERE id = $1",
        )
        .bind(id)
        .bind(&status)
        .bind(i64::from(answer.status_code))
        .bind(answer.result.as_ref().and_then(name))
        .bind(answer.result_code.map(i64::from))
        .bind(&answer.id)
        .bind(
            answer
                .payment
                .as_ref()
                .and_then(|p| serde_json::to_string(p).ok()),
        )
        .bind(now_millis())
        .execute(self.db.pool())
        .await?;
        // Exactly one refresher moves it to completed and tells the ERP.
        let moved = completed
            && sqlx::query(
                "UPDATE card_intents SET state = 'completed' WHERE id = $1 AND state <> 'completed'",
            )
            .bind(id)
            .execute(self.db.pool())
            .await?
            .rows_affected()
                == 1;
        if moved {
            let after = self.intent(id).await?;
            crate::feed::publish(
                &self.db,
                &after.company,
                "card_intent.completed",
                &json!({ "intent": id, "reference": after.reference, "terminal": after.terminal,
                         "kind": after.kind, "amount": after.amount, "currency": after.currency,
                         "result": after.result, "result_code": after.result_code }),
            )
            .await?;
        }
        Ok(())
    }

    async fn set_state(
        &self,
        id: i64,
        state: &str,
        error: Option<&str>,
    ) -> Result<(), TerminalError> {
        sqlx::query(
            "UPDATE card_intents SET state = $2, last_error = $3, updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(state)
        .bind(error)
        .bind(now_millis())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    async fn exchange(
        &self,
        id: i64,
        call: &str,
        outcome: &str,
        body: &str,
    ) -> Result<(), TerminalError> {
        sqlx::query(
            "INSERT INTO card_intent_exchanges (intent_id, call, outcome, body, at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(call)
        .bind(outcome)
        .bind(body)
        .bind(now_millis())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }
}

fn error_kind(error: &CallError) -> &'static str {
    match error {
        CallError::Connector { error, .. } => match error {
            ConnectorError::Unavailable(_) => "unavailable",
            ConnectorError::Timeout(_) => "timeout",
            ConnectorError::Busy(_) => "busy",
            ConnectorError::Rejected(_) => "rejected",
            ConnectorError::InvalidInput(_) => "invalid-input",
            ConnectorError::SessionRequired(_) => "session-required",
            ConnectorError::Unauthorized(_) => "unauthorized",
            ConnectorError::Protocol(_) => "protocol",
            ConnectorError::Unsupported(_) => "unsupported",
        },
        _ => "call-failed",
    }
}
