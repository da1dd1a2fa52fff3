//! The `pos_terminals` rows.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{PairRequest, TerminalError};
use crate::db::{Database, format_millis, now_millis};
use crate::runtime::model::pos::Terminal;

/// A terminal paired (or once paired) with a pos connector.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PairedTerminal {
    /// The host's id.
    pub id: i64,
    /// The company.
    pub company: String,
    /// The pos connector.
    pub plugin: String,
    /// The provider's id of the terminal entry (used in its API).
    pub provider_id: String,
    /// The terminal id printed on receipts (TID).
    pub terminal_id: String,
    /// The provider's POS or call id of the device.
    pub pos_id: Option<String>,
    /// The merchant id (MID).
    pub merchant_id: Option<String>,
    /// Display name.
    pub name: String,
    /// Device model.
    pub model: Option<String>,
    /// The ERP's payment method its payments book to.
    pub payment_method: Option<String>,
    /// When it was (last) paired, RFC 3339.
    pub paired_at: String,
    /// The ERP user who paired it.
    pub paired_by: String,
    /// When it was unpaired, RFC 3339; none while paired.
    pub unpaired_at: Option<String>,
}

const COLUMNS: &str = "id, company_id, plugin_id, provider_id, terminal_id, pos_id, merchant_id, \
     name, model, payment_method, paired_at, paired_by, unpaired_at";

fn from_row(row: &AnyRow) -> Result<PairedTerminal, TerminalError> {
    Ok(PairedTerminal {
        id: row.try_get("id")?,
        company: row.try_get("company_id")?,
        plugin: row.try_get("plugin_id")?,
        provider_id: row.try_get("provider_id")?,
        terminal_id: row.try_get("terminal_id")?,
        pos_id: row.try_get("pos_id")?,
        merchant_id: row.try_get("merchant_id")?,
        name: row.try_get("name")?,
        model: row.try_get("model")?,
        payment_method: row.try_get("payment_method")?,
        paired_at: format_millis(row.try_get("paired_at")?),
        paired_by: row.try_get("paired_by")?,
        unpaired_at: row
            .try_get::<Option<i64>, _>("unpaired_at")?
            .map(format_millis),
    })
}

/// A fresh vault name for a device's key.
pub(super) fn new_key_name() -> Result<String, TerminalError> {
    let mut random = [0u8; 12];
    getrandom::getrandom(&mut random).map_err(|e| TerminalError::Randomness(e.to_string()))?;
    Ok(format!("device-{}", hex::encode(random)))
}

/// Terminals paired with `plugin` now, across the host.
pub(super) async fn live_count(db: &Database, plugin: &str) -> Result<i64, TerminalError> {
    Ok(sqlx::query(
        "SELECT COUNT(*) AS n FROM pos_terminals WHERE plugin_id = $1 AND unpaired_at IS NULL",
    )
    .bind(plugin)
    .fetch_one(db.pool())
    .await?
    .try_get("n")?)
}

/// The paired terminal of `plugin` with the provider's entry id, if any.
pub(super) async fn live_by_provider(
    db: &Database,
    plugin: &str,
    provider_id: &str,
) -> Result<Option<i64>, TerminalError> {
    let row = sqlx::query(
        "SELECT id FROM pos_terminals \
         WHERE plugin_id = $1 AND provider_id = $2 AND unpaired_at IS NULL",
    )
    .bind(plugin)
    .bind(provider_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(|r| r.try_get("id")).transpose()?)
}

/// Stores a paired terminal: the row of the same company and provider
/// entry (paired or not) gets the new key and data and keeps its id; else
/// a new row. Answers the row and the key it replaced, if any.
pub(super) async fn upsert(
    db: &Database,
    request: &PairRequest,
    terminal: &Terminal,
    key_name: &str,
    user: &str,
) -> Result<(PairedTerminal, Option<String>), TerminalError> {
    let existing = sqlx::query(
        "SELECT id, key_name, unpaired_at FROM pos_terminals \
         WHERE company_id = $1 AND plugin_id = $2 AND provider_id = $3 ORDER BY id DESC",
    )
    .bind(&request.company)
    .bind(&request.plugin)
    .bind(&terminal.id)
    .fetch_optional(db.pool())
    .await?;
    let now = now_millis();
    let (id, replaced) = match existing {
        Some(row) => {
            let id: i64 = row.try_get("id")?;
            let old: String = row.try_get("key_name")?;
            let was_paired = row.try_get::<Option<i64>, _>("unpaired_at")?.is_none();
            sqlx::query(
                "UPDATE pos_terminals SET terminal_id = $2, pos_id = $3, merchant_id = $4, \
                   name = $5, model = $6, \
                   payment_method = COALESCE($7, payment_method), key_name = $8, \
                   paired_at = $9, paired_by = $10, unpaired_at = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(&terminal.terminal_id)
            .bind(&terminal.pos_id)
            .bind(&terminal.merchant_id)
            .bind(&terminal.name)
            .bind(&terminal.model)
            .bind(&request.payment_method)
            .bind(key_name)
            .bind(now)
            .bind(user)
            .execute(db.pool())
            .await?;
            (id, was_paired.then_some(old))
        }
        None => {
            let row = sqlx::query(
                "INSERT INTO pos_terminals (company_id, plugin_id, provider_id, terminal_id, \
                   pos_id, merchant_id, name, model, payment_method, key_name, paired_at, \
                   paired_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                 RETURNING id",
            )
            .bind(&request.company)
            .bind(&request.plugin)
            .bind(&terminal.id)
            .bind(&terminal.terminal_id)
            .bind(&terminal.pos_id)
            .bind(&terminal.merchant_id)
            .bind(&terminal.name)
            .bind(&terminal.model)
            .bind(&request.payment_method)
            .bind(key_name)
            .bind(now)
            .bind(user)
            .fetch_one(db.pool())
            .await?;
            (row.try_get("id")?, None)
        }
    };
    Ok((get(db, id).await?, replaced))
}

/// Puts the replacing device's terminal in row `id`: provider entry, data
/// and key change, the id and its payments stay. Answers the row and the
/// key it replaced.
pub(super) async fn replace(
    db: &Database,
    id: i64,
    request: &PairRequest,
    terminal: &Terminal,
    key_name: &str,
    user: &str,
) -> Result<(PairedTerminal, Option<String>), TerminalError> {
    let old = self::key_name(db, id).await?;
    sqlx::query(
        "UPDATE pos_terminals SET provider_id = $2, terminal_id = $3, pos_id = $4, \
           merchant_id = $5, name = $6, model = $7, \
           payment_method = COALESCE($8, payment_method), key_name = $9, paired_at = $10, \
           paired_by = $11, unpaired_at = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(&terminal.id)
    .bind(&terminal.terminal_id)
    .bind(&terminal.pos_id)
    .bind(&terminal.merchant_id)
    .bind(&terminal.name)
    .bind(&terminal.model)
    .bind(&request.payment_method)
    .bind(key_name)
    .bind(now_millis())
    .bind(user)
    .execute(db.pool())
    .await?;
    Ok((get(db, id).await?, Some(old)))
}

/// The company's terminals by id.
pub(super) async fn list(
    db: &Database,
    company: &str,
) -> Result<Vec<PairedTerminal>, TerminalError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM pos_terminals WHERE company_id = $1 ORDER BY id"
    ))
    .bind(company)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// One terminal.
pub(super) async fn get(db: &Database, id: i64) -> Result<PairedTerminal, TerminalError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM pos_terminals WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(TerminalError::UnknownTerminal(id))?;
    from_row(&row)
}

/// The vault name of terminal `id`'s key.
pub(super) async fn key_name(db: &Database, id: i64) -> Result<String, TerminalError> {
    Ok(
        sqlx::query("SELECT key_name FROM pos_terminals WHERE id = $1")
            .bind(id)
            .fetch_optional(db.pool())
            .await?
            .ok_or(TerminalError::UnknownTerminal(id))?
            .try_get("key_name")?,
    )
}

/// Marks terminal `id` unpaired; answers its key's name.
pub(super) async fn unpair(db: &Database, id: i64) -> Result<String, TerminalError> {
    let key = key_name(db, id).await?;
    sqlx::query("UPDATE pos_terminals SET unpaired_at = $2 WHERE id = $1 AND unpaired_at IS NULL")
        .bind(id)
        .bind(now_millis())
        .execute(db.pool())
        .await?;
    Ok(key)
}

/// Whether a paired terminal still uses the key.
pub(super) async fn key_in_use(db: &Database, key_name: &str) -> Result<bool, TerminalError> {
    Ok(
        sqlx::query("SELECT 1 FROM pos_terminals WHERE key_name = $1 AND unpaired_at IS NULL")
            .bind(key_name)
            .fetch_optional(db.pool())
            .await?
            .is_some(),
    )
}
