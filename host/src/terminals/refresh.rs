//! The host task every card-terminal connector gets: card payments and
//! voids the ERP still sees unfinished (started, answer lost, open at the
//! provider, void pending) are asked about again, so a result reaches the
//! ERP even when nobody asks for it. As the seed's POS_GetTransactionIntent
//! and Refresh_ERP_Status do, it lists each terminal's payments of the
//! period once and updates the unfinished ones from the list; only those
//! the list lacks are asked about one by one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use sqlx::Row;

use super::Terminals;
use crate::connectors::Connectors;
use crate::db::{format_millis, now_millis};
use crate::packages::host_tasks::CARD_PAYMENT_REFRESH;
use crate::scheduler::{HostTask, RunError};

/// How far around the unfinished payments the listed period reaches, for
/// clocks that differ between host and provider.
const SLACK_MILLIS: i64 = 5 * 60 * 1000;

/// Who the refresh acts for in the audit and the provider's logs.
const ACTOR: &str = "h2h:card-payment-refresh";

/// The runner of `card-payment-refresh`.
pub struct PaymentRefresh {
    terminals: Terminals,
    connectors: Arc<Connectors>,
}

impl PaymentRefresh {
    /// Over `terminals`, calling through `connectors`.
    pub fn new(terminals: Terminals, connectors: Arc<Connectors>) -> Self {
        Self {
            terminals,
            connectors,
        }
    }
}

const UNFINISHED: &str = "plugin_id = $1 AND (state IN ('starting', 'unknown', 'open') \
     OR void_state = 'pending')";

#[async_trait::async_trait]
impl HostTask for PaymentRefresh {
    fn name(&self) -> &str {
        CARD_PAYMENT_REFRESH.name
    }

    async fn companies(&self, plugin: &str) -> Result<Vec<String>, String> {
        let rows = sqlx::query(&format!(
            "SELECT DISTINCT company_id FROM card_intents WHERE {UNFINISHED} ORDER BY company_id"
        ))
        .bind(plugin)
        .fetch_all(self.terminals.db.pool())
        .await
        .map_err(|e| e.to_string())?;
        rows.iter()
            .map(|r| r.try_get("company_id").map_err(|e| e.to_string()))
            .collect()
    }

    async fn run(&self, plugin: &str, company: &str, user: Option<&str>) -> Result<(), RunError> {
        let rows = sqlx::query(&format!(
            "SELECT id, terminal, created_at, void_state FROM card_intents \
             WHERE {UNFINISHED} AND company_id = $2 ORDER BY id"
        ))
        .bind(plugin)
        .bind(company)
        .fetch_all(self.terminals.db.pool())
        .await
        .map_err(|e| e.to_string())?;
        let via = &*self.connectors;
        let who = user.unwrap_or(ACTOR);
        let mut failed = Vec::new();
        // Payments by terminal (earliest start, ids); voids one by one.
        let mut by_terminal: BTreeMap<i64, (i64, Vec<i64>)> = BTreeMap::new();
        for row in &rows {
            let id: i64 = row.try_get("id").map_err(|e| e.to_string())?;
            let void_pending = row
                .try_get::<Option<String>, _>("void_state")
                .map_err(|e| e.to_string())?
                == Some("pending".to_owned());
            if void_pending {
                if let Err(e) = self.terminals.void_intent(via, who, id).await {
                    failed.push(format!("{id}: {e}"));
                }
                continue;
            }
            let terminal: i64 = row.try_get("terminal").map_err(|e| e.to_string())?;
            let created: i64 = row.try_get("created_at").map_err(|e| e.to_string())?;
            let entry = by_terminal.entry(terminal).or_insert((created, Vec::new()));
            entry.0 = entry.0.min(created);
            entry.1.push(id);
        }
        for (terminal, (earliest, ids)) in by_terminal {
            // One listing of the period brings every payment the provider
            // has; only those it does not list are asked about one by one
            // (by their reference, when the start's answer was lost).
            let from = format_millis(earliest - SLACK_MILLIS);
            let to = format_millis(now_millis() + SLACK_MILLIS);
            let listed = match self
                .terminals
                .provider_intents(via, who, terminal, &from, &to)
                .await
            {
                Ok(listed) => listed.iter().filter_map(|p| p.card_payment).collect(),
                Err(e) => {
                    tracing::warn!(terminal, error = %e, "cannot list the provider's payments; asking one by one");
                    BTreeSet::new()
                }
            };
            for id in ids.into_iter().filter(|id| !listed.contains(id)) {
                if let Err(e) = self.terminals.refresh_intent(via, who, id).await {
                    failed.push(format!("{id}: {e}"));
                }
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(format!("card payments not refreshed: {}", failed.join("; ")).into())
        }
    }
}
