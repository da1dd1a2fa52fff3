//! The events feed: new payments and matches, in order, read with a cursor.

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

use super::{Settlements, SettlementsError};
use crate::db::format_millis;

/// One event.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Event {
    /// Increasing id: the cursor.
    pub id: i64,
    /// The company it concerns.
    pub company: String,
    /// `payment.received`, `payment.settled` or `payment.review`.
    pub kind: String,
    /// Details.
    pub payload: Value,
    /// When, RFC 3339 UTC.
    pub at: String,
}

pub(super) use crate::feed::append;

impl Settlements {
    /// Events after the cursor `after` (0: from the start), at most `limit`,
    /// of one company or all.
    pub async fn events(
        &self,
        after: i64,
        limit: i64,
        company: Option<&str>,
    ) -> Result<Vec<Event>, SettlementsError> {
        let rows = sqlx::query(
            "SELECT id, company_id, kind, payload, created_at FROM events \
             WHERE id > $1 AND ($2 = '' OR company_id = $2) ORDER BY id LIMIT $3",
        )
        .bind(after)
        .bind(company.unwrap_or(""))
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(event).collect()
    }

    /// The newest events (of one company or all), newest first, at most
    /// `limit`: what an operator looks at.
    pub async fn newest_events(
        &self,
        limit: i64,
        company: Option<&str>,
    ) -> Result<Vec<Event>, SettlementsError> {
        let rows = sqlx::query(
            "SELECT id, company_id, kind, payload, created_at FROM events \
             WHERE ($1 = '' OR company_id = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(company.unwrap_or(""))
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(event).collect()
    }
}

fn event(row: &sqlx::any::AnyRow) -> Result<Event, SettlementsError> {
    let payload: String = row.try_get("payload")?;
    Ok(Event {
        id: row.try_get("id")?,
        company: row.try_get("company_id")?,
        kind: row.try_get("kind")?,
        payload: serde_json::from_str(&payload)
            .map_err(|e| SettlementsError::Corrupt(e.to_string()))?,
        at: format_millis(row.try_get("created_at")?),
    })
}
