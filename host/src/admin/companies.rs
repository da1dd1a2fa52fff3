//! Companies: a head office and its branches. Every company setting,
//! secret and plugin call belongs to one.

use serde::Serialize;
use sqlx::Row;

use super::{Actor, Admin, AdminError};
use crate::db::{Database, format_millis, now_millis};
use crate::packages::manifest::is_slug;

/// A company.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Company {
    /// Slug id (`acme`, `acme-krakow`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The head office, for a branch.
    pub parent: Option<String>,
    /// When it was added, RFC 3339 UTC.
    pub created_at: String,
}

impl Admin {
    /// Adds a company; `parent` makes it a branch of an existing company.
    pub async fn add_company(
        &self,
        actor: &Actor,
        id: &str,
        name: &str,
        parent: Option<&str>,
    ) -> Result<Company, AdminError> {
        let result = add(&self.db, id, name, parent, actor.as_str()).await;
        self.audited(actor, "company.add", id, result, |c| match &c.parent {
            Some(parent) => format!("{} (branch of {parent})", c.name),
            None => c.name.clone(),
        })
        .await
    }

    /// Every company, head offices before their branches' names sort.
    pub async fn companies(&self) -> Result<Vec<Company>, AdminError> {
        list(&self.db).await
    }
}

async fn add(
    db: &Database,
    id: &str,
    name: &str,
    parent: Option<&str>,
    actor: &str,
) -> Result<Company, AdminError> {
    if !is_slug(id) {
        return Err(AdminError::InvalidInput(format!(
            "company id `{id}` must be lowercase letters, digits and inner dashes (at most 64)"
        )));
    }
    if name.trim().is_empty() {
        return Err(AdminError::InvalidInput(
            "a company needs a name".to_owned(),
        ));
    }
    if let Some(parent) = parent {
        crate::catalog::require_company(db, parent).await?;
    }
    let inserted = sqlx::query(
        "INSERT INTO companies (id, name, parent_id, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(name.trim())
    .bind(parent)
    .bind(now_millis())
    .bind(actor)
    .execute(db.pool())
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(AdminError::CompanyExists(id.to_owned()));
    }
    list(db)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| AdminError::Corrupt(format!("company {id} vanished")))
}

async fn list(db: &Database) -> Result<Vec<Company>, AdminError> {
    let rows = sqlx::query("SELECT id, name, parent_id, created_at FROM companies ORDER BY id")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Company {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                parent: row.try_get("parent_id")?,
                created_at: format_millis(row.try_get("created_at")?),
            })
        })
        .collect()
}
