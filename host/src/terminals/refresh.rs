//! The host task every card-terminal connector gets: card payments and
//! voids the ERP still sees unfinished (started, answer lost, open at the
//! provider, void pending) are asked about again, so a result reaches the
//! ERP even when nobody asks for it.

use std::sync::Arc;

use sqlx::Row;

use super::Terminals;
use crate::admin::Admin;
use crate::packages::host_tasks::CARD_PAYMENT_REFRESH;
use crate::registry::Registry;
use crate::scheduler::HostTask;
use crate::sessions::Connectors;

/// Who the refresh acts for in the audit and the provider's logs.
const ACTOR: &str = "h2h:card-payment-refresh";

/// The runner of `card-payment-refresh`.
pub struct PaymentRefresh {
    terminals: Terminals,
    registry: Arc<Registry>,
    admin: Admin,
}

impl PaymentRefresh {
    /// Over `terminals`, calling connectors through `registry`.
    pub fn new(terminals: Terminals, registry: Arc<Registry>, admin: Admin) -> Self {
        Self {
            terminals,
            registry,
            admin,
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

    async fn run(&self, plugin: &str, company: &str, user: Option<&str>) -> Result<(), String> {
        let rows = sqlx::query(&format!(
            "SELECT id, state, void_state FROM card_intents WHERE {UNFINISHED} AND company_id = $2 \
             ORDER BY id"
        ))
        .bind(plugin)
        .bind(company)
        .fetch_all(self.terminals.db.pool())
        .await
        .map_err(|e| e.to_string())?;
        let via = Connectors {
            registry: &self.registry,
            admin: &self.admin,
        };
        let who = user.unwrap_or(ACTOR);
        let mut failed = Vec::new();
        for row in &rows {
            let id: i64 = row.try_get("id").map_err(|e| e.to_string())?;
            let void_pending = row
                .try_get::<Option<String>, _>("void_state")
                .map_err(|e| e.to_string())?
                == Some("pending".to_owned());
            let result = if void_pending {
                self.terminals.void_intent(via, who, id).await
            } else {
                self.terminals.refresh_intent(via, who, id).await
            };
            if let Err(e) = result {
                failed.push(format!("{id}: {e}"));
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "card payments not refreshed: {}",
                failed.join("; ")
            ))
        }
    }
}
