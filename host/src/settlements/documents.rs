//! Files exactly as the bank sent or took them (an MT940 statement, a
//! pain.001 batch), kept beside what was read from them: once per account
//! and content, so a re-read range or a retried submission adds nothing.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Settlements, SettlementsError};
use crate::db::{format_millis, now_millis};
use crate::runtime::model::Document;

/// A kept file, without its content.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct StoredDocument {
    /// Id, to fetch the content.
    pub id: i64,
    /// The bank account.
    pub account: String,
    /// The transfer batch it was sent with, for a batch file.
    pub batch: Option<i64>,
    /// The provider's or connector's file name.
    pub name: String,
    /// IANA media type, with the charset the bank named.
    pub media_type: String,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Bytes.
    pub size: i64,
    /// When the host first kept it, RFC 3339 UTC.
    pub received_at: String,
}

const COLUMNS: &str = "id, account_id, batch_id, name, media_type, sha256, size, received_at";

fn stored(row: &sqlx::any::AnyRow) -> Result<StoredDocument, SettlementsError> {
    Ok(StoredDocument {
        id: row.try_get("id")?,
        account: row.try_get("account_id")?,
        batch: row.try_get("batch_id")?,
        name: row.try_get("name")?,
        media_type: row.try_get("media_type")?,
        sha256: row.try_get("sha256")?,
        size: row.try_get("size")?,
        received_at: format_millis(row.try_get("received_at")?),
    })
}

impl Settlements {
    /// Keeps `documents` of `account` (sent with `batch`, if any); answers
    /// how many were new.
    pub async fn keep_documents(
        &self,
        account: &str,
        batch: Option<i64>,
        documents: &[Document],
    ) -> Result<usize, SettlementsError> {
        let mut new = 0;
        for document in documents {
            let sha256 = hex::encode(Sha256::digest(&document.content));
            let kept = sqlx::query(
                "INSERT INTO bank_documents (account_id, batch_id, name, media_type, sha256, \
                   size, content, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (account_id, sha256) DO NOTHING",
            )
            .bind(account)
            .bind(batch)
            .bind(&document.name)
            .bind(&document.media_type)
            .bind(&sha256)
            .bind(i64::try_from(document.content.len()).unwrap_or(i64::MAX))
            .bind(document.content.clone())
            .bind(now_millis())
            .execute(self.db.pool())
            .await?;
            new += usize::from(kept.rows_affected() == 1);
        }
        Ok(new)
    }

    /// The files kept for `account`, newest first, at most `limit`.
    pub async fn documents(
        &self,
        account: &str,
        limit: i64,
    ) -> Result<Vec<StoredDocument>, SettlementsError> {
        self.account(account).await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM bank_documents WHERE account_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(account)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(stored).collect()
    }

    /// One kept file with its content.
    pub async fn document(&self, id: i64) -> Result<(StoredDocument, Vec<u8>), SettlementsError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, content FROM bank_documents WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?
        .ok_or(SettlementsError::UnknownDocument(id))?;
        Ok((stored(&row)?, row.try_get("content")?))
    }
}
