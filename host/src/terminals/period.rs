//! The provider's card payments of a period on one terminal (the seed's
//! POS_GetTransactionIntent): each matched to the host's card payment by
//! the provider's id or the ERP's reference; those the host still sees
//! unfinished are brought up to date from the list (Refresh_ERP_Status),
//! and those the host does not know (started at the device, or by another
//! system) are shown as such, so the ERP can find them.

use serde::Serialize;

use super::intents::name;
use super::{TerminalError, Terminals, store};
use crate::connectors::Connectors;
use crate::runtime::model::pos::{IntentQuery, PaymentIntent};

/// A payment as the provider lists it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ProviderIntent {
    /// The provider's intent id.
    pub provider_intent_id: String,
    /// The reference it was started with.
    pub reference: String,
    /// `sale` or `refund`.
    pub kind: Option<String>,
    /// Decimal amount.
    pub amount: String,
    /// ISO 4217.
    pub currency: String,
    /// The provider's status and its number.
    pub status: Option<String>,
    /// The provider's number for the status.
    pub status_code: i64,
    /// The result once completed, and its number.
    pub result: Option<String>,
    /// The provider's number for the result.
    pub result_code: Option<i64>,
    /// When the provider created it.
    pub created_at: String,
    /// The host's card payment it is; none when the host does not know it.
    pub card_payment: Option<i64>,
}

impl Terminals {
    /// The provider's payments on terminal `id` created from `from` to
    /// `to` (RFC 3339), acting for `user`; the host's unfinished ones among
    /// them are updated from the list (each answer kept as an exchange).
    pub async fn provider_intents(
        &self,
        via: &Connectors,
        user: &str,
        id: i64,
        from: &str,
        to: &str,
    ) -> Result<Vec<ProviderIntent>, TerminalError> {
        for instant in [from, to] {
            if chrono::DateTime::parse_from_rfc3339(instant).is_err() {
                return Err(TerminalError::InvalidInput(format!(
                    "`{instant}` is not an RFC 3339 instant (2026-11-30T00:00:00Z)"
                )));
            }
        }
        let terminal = store::get(&self.db, id).await?;
        if terminal.unpaired_at.is_some() {
            return Err(TerminalError::Unpaired(id));
        }
        let loaded = via.get(&terminal.plugin).await?;
        let ctx = via
            .context(&loaded, Some(&terminal.company), Some(user))
            .await?;
        let key = self.api_key(&terminal).await?;
        let query = IntentQuery {
            from: from.to_owned(),
            to: to.to_owned(),
            status: None,
            terminal: Some(terminal.provider_id.clone()),
        };
        let listed = loaded
            .plugin
            .list_intents(ctx, secrecy::ExposeSecret::expose_secret(&key), &query)
            .await?;
        let mut out = Vec::with_capacity(listed.len());
        for answer in listed {
            let known = self
                .matching(&terminal.company, id, &answer.id, &answer.reference)
                .await?;
            if let Some(intent) = &known
                && !matches!(intent.state.as_str(), "completed" | "refused")
            {
                self.store_answer(intent.id, "pos.list-intents", &answer)
                    .await?;
            }
            out.push(view(&answer, known.map(|i| i.id)));
        }
        Ok(out)
    }
}

fn view(answer: &PaymentIntent, card_payment: Option<i64>) -> ProviderIntent {
    ProviderIntent {
        provider_intent_id: answer.id.clone(),
        reference: answer.reference.clone(),
        kind: name(&answer.kind),
        amount: answer.amount.amount.clone(),
        currency: answer.amount.currency.clone(),
        status: name(&answer.status),
        status_code: i64::from(answer.status_code),
        result: answer.result.as_ref().and_then(name),
        result_code: answer.result_code.map(i64::from),
        created_at: answer.created_at.clone(),
        card_payment,
    }
}
