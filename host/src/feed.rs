//! The events feed's writer: what happened, per company, in order. The
//! ERP reads it (`GET /erp/v1/events`, webhooks); every domain that has
//! news for the ERP (settlements, bank sessions) appends here.

use serde_json::Value;

use crate::db::{Database, now_millis};

/// Appends an event inside `tx`, so it commits with what it tells.
pub async fn append(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    company: &str,
    kind: &str,
    payload: &Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO events (company_id, kind, payload, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(company)
    .bind(kind)
    .bind(payload.to_string())
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Appends one event on its own.
pub async fn publish(
    db: &Database,
    company: &str,
    kind: &str,
    payload: &Value,
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    append(&mut tx, company, kind, payload).await?;
    tx.commit().await
}
