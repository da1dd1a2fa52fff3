//! Card terminals, a host domain: a terminal is paired with the one-time
//! code its device shows; the pos connector redeems it for the device's API
//! key, which the vault keeps sealed and only connector calls for that
//! device receive. The device's terminal entries are stored; pairing the
//! same entry again (a replaced device, a rotated key) keeps its row, and
//! unpairing forgets the key but keeps the row for the payments made on
//! it. The license's `max-terminals` caps the terminals paired with a
//! plugin across the host.

mod intents;
mod period;
mod refresh;
mod store;

pub use intents::{CardIntent, Exchange, NewIntent};
pub use period::ProviderIntent;
pub use refresh::PaymentRefresh;
pub use store::PairedTerminal;

use secrecy::SecretString;
use serde_json::json;

use crate::admin::{Actor, AdminError};
use crate::catalog::CatalogError;
use crate::connectors::Connectors;
use crate::connectors::UnavailableError;
use crate::db::{Database, now_millis};
use crate::runtime::CallError;
use crate::vault::{EntryId, VaultError, VaultStore};

/// Why a terminal operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TerminalError {
    /// The connector is not available (not installed, disabled, unlicensed).
    #[error(transparent)]
    Unavailable(#[from] UnavailableError),
    /// The request is malformed.
    #[error("{0}")]
    InvalidInput(String),
    /// The operating system gave no randomness for a key's name.
    #[error("the OS random generator failed: {0}")]
    Randomness(String),
    /// The connector refused or failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The license caps the plugin's terminals.
    #[error(
        "the license of {plugin} allows {cap} paired terminal(s) on this host; {paired} are paired \
         and this device brings {more}: unpair one, or ask the vendor for a larger license"
    )]
    CapReached {
        /// The plugin.
        plugin: String,
        /// The license's cap.
        cap: u32,
        /// Terminals paired now.
        paired: i64,
        /// Terminals the device would add.
        more: usize,
    },
    /// No terminal has this id.
    #[error("terminal {0} does not exist")]
    UnknownTerminal(i64),
    /// The terminal was unpaired.
    #[error("terminal {0} is unpaired: pair it again with a new code")]
    Unpaired(i64),
    /// No card payment has this id.
    #[error("card payment {0} does not exist")]
    UnknownIntent(i64),
    /// A refund names an approved sale of the company, not voided.
    #[error("card payment {0} is not an approved sale of this company: it cannot be refunded")]
    NotRefundable(i64),
    /// A refund names its sale.
    #[error("a refund names the sale it gives money back for (`original`)")]
    RefundWithoutSale,
    /// Only an approved sale is voided.
    #[error("card payment {0} is not an approved sale: nothing to void")]
    NotVoidable(i64),
    /// The reference started another payment.
    #[error(
        "reference `{0}` started another payment (other terminal, kind or amount); \
         a reference names one payment"
    )]
    ReferenceTaken(String),
    /// The provider listed no terminal for the paired device.
    #[error("the provider lists no terminal for this device")]
    NoTerminals,
    /// A replacing device must bring exactly one terminal.
    #[error("a device replacing terminal {replaces} must bring one terminal, not {found}")]
    NotOneReplacement {
        /// The terminal replaced.
        replaces: i64,
        /// Terminals the device brought.
        found: usize,
    },
    /// Settings or vault could not give the call context.
    #[error(transparent)]
    Context(#[from] CatalogError),
    /// Settings or licenses could not be read.
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The database failed.
    #[error("terminal database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl TerminalError {
    /// Stable code for APIs.
    pub fn kind(&self) -> &'static str {
        match self {
            TerminalError::Unavailable(_) => "plugin_unavailable",
            TerminalError::Call(_) => "plugin_call_failed",
            TerminalError::CapReached { .. } => "terminal_cap_reached",
            TerminalError::UnknownTerminal(_) => "unknown_terminal",
            TerminalError::Unpaired(_) => "terminal_unpaired",
            TerminalError::NoTerminals => "no_terminals",
            TerminalError::UnknownIntent(_) => "unknown_card_payment",
            TerminalError::ReferenceTaken(_) => "reference_taken",
            TerminalError::NotVoidable(_) => "not_voidable",
            TerminalError::NotRefundable(_) => "not_refundable",
            TerminalError::RefundWithoutSale | TerminalError::InvalidInput(_) => "invalid_input",
            TerminalError::NotOneReplacement { .. } => "not_one_replacement",
            TerminalError::Context(e) => e.kind(),
            TerminalError::Admin(e) => e.kind(),
            TerminalError::Vault(e) => e.kind(),
            TerminalError::Database(_) => "database_error",
            TerminalError::Randomness(_) => "randomness",
        }
    }
}

/// A pairing to make.
#[derive(Debug, Clone)]
pub struct PairRequest {
    /// The company.
    pub company: String,
    /// The pos connector.
    pub plugin: String,
    /// The code the device shows.
    pub code: String,
    /// The ERP's payment method its payments book to.
    pub payment_method: Option<String>,
    /// The paired terminal this device replaces (a new device, or a new
    /// code for the same place): it keeps its id and payments, and does
    /// not count against the cap twice.
    pub replaces: Option<i64>,
}

/// The card terminals of this host's database.
#[derive(Clone)]
pub struct Terminals {
    db: Database,
    vault: VaultStore,
}

impl Terminals {
    /// Over `db`, keeping keys in `vault`.
    pub fn new(db: Database, vault: VaultStore) -> Self {
        Self { db, vault }
    }

    /// Pairs the device showing `request.code` for `user`: the connector
    /// redeems the code, the key is sealed, the device's terminals are
    /// stored (an entry paired before gets the new key and keeps its id).
    pub async fn pair(
        &self,
        via: &Connectors,
        user: &str,
        request: &PairRequest,
    ) -> Result<Vec<PairedTerminal>, TerminalError> {
        let cap = self.cap(&request.plugin).await?;
        let replaced = match request.replaces {
            Some(id) => {
                let old = store::get(&self.db, id).await?;
                if old.company != request.company || old.plugin != request.plugin {
                    return Err(TerminalError::UnknownTerminal(id));
                }
                if old.unpaired_at.is_some() {
                    return Err(TerminalError::Unpaired(id));
                }
                Some(old)
            }
            None => None,
        };
        let paired =
            store::live_count(&self.db, &request.plugin).await? - i64::from(replaced.is_some());
        if let Some(cap) = cap
            && paired >= i64::from(cap)
        {
            return Err(TerminalError::CapReached {
                plugin: request.plugin.clone(),
                cap,
                paired,
                more: 1,
            });
        }
        let loaded = via.get(&request.plugin).await?;
        let ctx = via
            .context(&loaded, Some(&request.company), Some(user))
            .await?;
        let pairing = loaded
            .plugin
            .redeem_pairing_code(ctx.clone(), request.code.trim())
            .await?;
        let listed = loaded.plugin.list_terminals(ctx, &pairing.api_key).await?;
        if listed.is_empty() {
            return Err(TerminalError::NoTerminals);
        }
        if let Some(old) = &replaced
            && listed.len() != 1
        {
            return Err(TerminalError::NotOneReplacement {
                replaces: old.id,
                found: listed.len(),
            });
        }
        let new: Vec<_> = {
            let mut new = Vec::new();
            for terminal in &listed {
                let live = store::live_by_provider(&self.db, &request.plugin, &terminal.id).await?;
                if live.is_none() && replaced.is_none() {
                    new.push(terminal.id.clone());
                }
            }
            new
        };
        if let Some(cap) = cap
            && paired + i64::try_from(new.len()).unwrap_or(i64::MAX) > i64::from(cap)
        {
            return Err(TerminalError::CapReached {
                plugin: request.plugin.clone(),
                cap,
                paired,
                more: new.len(),
            });
        }
        let key_name = store::new_key_name()?;
        self.vault
            .put(
                &EntryId::terminal_key(&request.company, &request.plugin, &key_name),
                pairing.api_key.as_bytes(),
                user,
            )
            .await?;
        let mut stored = Vec::with_capacity(listed.len());
        for terminal in &listed {
            let (row, replaced_key) = match &replaced {
                Some(old) => {
                    store::replace(&self.db, old.id, request, terminal, &key_name, user).await?
                }
                None => store::upsert(&self.db, request, terminal, &key_name, user).await?,
            };
            if let Some(old) = replaced_key {
                self.forget_key_if_unused(&row.company, &row.plugin, &old)
                    .await?;
            }
            stored.push(row);
        }
        let actor = Actor::erp(user);
        for terminal in &stored {
            let detail = format!(
                "terminal {} (TID {}) of {} paired",
                terminal.id, terminal.terminal_id, terminal.company
            );
            crate::admin::record_audit(
                &self.db,
                &actor,
                "terminal.pair",
                &request.plugin,
                "ok",
                &detail,
            )
            .await;
            crate::feed::publish(
                &self.db,
                &terminal.company,
                "terminal.paired",
                &json!({ "terminal": terminal.id, "terminal_id": terminal.terminal_id,
                         "plugin": terminal.plugin, "at": now_millis() }),
            )
            .await?;
        }
        Ok(stored)
    }

    /// The company's terminals, paired and unpaired, by id.
    pub async fn list(&self, company: &str) -> Result<Vec<PairedTerminal>, TerminalError> {
        store::list(&self.db, company).await
    }

    /// One terminal.
    pub async fn get(&self, id: i64) -> Result<PairedTerminal, TerminalError> {
        store::get(&self.db, id).await
    }

    /// Unpairs terminal `id`: its key is forgotten once no other terminal
    /// of the device uses it; its payments stay.
    pub async fn unpair(&self, actor: &Actor, id: i64) -> Result<PairedTerminal, TerminalError> {
        let terminal = store::get(&self.db, id).await?;
        if terminal.unpaired_at.is_some() {
            return Err(TerminalError::Unpaired(id));
        }
        let key = store::unpair(&self.db, id).await?;
        self.forget_key_if_unused(&terminal.company, &terminal.plugin, &key)
            .await?;
        crate::admin::record_audit(
            &self.db,
            actor,
            "terminal.unpair",
            &terminal.plugin,
            "ok",
            &format!(
                "terminal {id} (TID {}) of {}",
                terminal.terminal_id, terminal.company
            ),
        )
        .await;
        store::get(&self.db, id).await
    }

    /// The device API key of a paired terminal, for a connector call.
    pub async fn api_key(&self, terminal: &PairedTerminal) -> Result<SecretString, TerminalError> {
        if terminal.unpaired_at.is_some() {
            return Err(TerminalError::Unpaired(terminal.id));
        }
        let key_name = store::key_name(&self.db, terminal.id).await?;
        let entry = EntryId::terminal_key(&terminal.company, &terminal.plugin, &key_name);
        let bytes = self
            .vault
            .get(&entry)
            .await?
            .ok_or(TerminalError::Unpaired(terminal.id))?;
        Ok(SecretString::from(
            String::from_utf8_lossy(&bytes).into_owned(),
        ))
    }

    async fn forget_key_if_unused(
        &self,
        company: &str,
        plugin: &str,
        key_name: &str,
    ) -> Result<(), TerminalError> {
        if !store::key_in_use(&self.db, key_name).await? {
            self.vault
                .delete(&EntryId::terminal_key(company, plugin, key_name))
                .await?;
        }
        Ok(())
    }

    /// The strictest `max-terminals` of the plugin's licenses in force.
    async fn cap(&self, plugin: &str) -> Result<Option<u32>, TerminalError> {
        Ok(crate::catalog::max_terminals(&self.db, plugin).await?)
    }
}
