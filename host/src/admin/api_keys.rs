//! API keys for the REST API. Only a SHA-256 of each secret is stored; the
//! secret is shown once, when the key is created.

use serde::{Deserialize, Serialize};

use sha2::{Digest as _, Sha256};
use sqlx::Row;

use super::{Actor, Admin, AdminError};
use crate::db::{Database, format_millis, now_millis};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The admin API (and the ERP API).
    Admin,
    /// The ERP API only.
    Erp,
}

impl Role {
    /// `admin` or `erp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Erp => "erp",
        }
    }

    /// From `admin` or `erp`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "admin" => Some(Role::Admin),
            "erp" => Some(Role::Erp),
            _ => None,
        }
    }
}

/// A key, without its secret.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ApiKey {
    /// Unique name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// When it was created.
    pub created_at: String,
    /// By whom.
    pub created_by: String,
    /// The ERP users it may act for; none: any.
    pub acts_for: Option<Vec<String>>,
}

impl ApiKey {
    /// Whether a request with this key may act for ERP user `user`.
    pub fn may_act_for(&self, user: &str) -> bool {
        self.acts_for
            .as_ref()
            .is_none_or(|users| users.iter().any(|u| u == user))
    }
}

/// A new key with its secret: the only time the secret is available.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedKey {
    /// The key.
    pub key: ApiKey,
    /// Send as `Authorization: Bearer <secret>`.
    pub secret: String,
}

pub(super) fn fingerprint(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub(super) const KEY_COLUMNS: &str = "name, role, created_at, created_by, acts_for";

pub(super) fn key_from_row(row: &sqlx::any::AnyRow) -> Result<ApiKey, AdminError> {
    let role: String = row.try_get("role")?;
    let acts_for = row
        .try_get::<Option<String>, _>("acts_for")?
        .map(|text| {
            serde_json::from_str(&text)
                .map_err(|e| AdminError::Corrupt(format!("API key users `{text}`: {e}")))
        })
        .transpose()?;
    Ok(ApiKey {
        name: row.try_get("name")?,
        role: Role::parse(&role)
            .ok_or_else(|| AdminError::Corrupt(format!("API key role `{role}`")))?,
        created_at: format_millis(row.try_get("created_at")?),
        created_by: row.try_get("created_by")?,
        acts_for,
    })
}

/// The key `secret` belongs to, if any.
pub(crate) async fn authenticate(
    db: &Database,
    secret: &str,
) -> Result<Option<ApiKey>, AdminError> {
    let row = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM api_keys WHERE secret_sha256 = $1"
    ))
    .bind(fingerprint(secret))
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(key_from_row).transpose()
}

/// The key `secret` belongs to, and whether ERP user `user` exists and is
/// enabled: one query, as every ERP request asks both.
pub(crate) async fn authenticate_for(
    db: &Database,
    secret: &str,
    user: &str,
) -> Result<Option<(ApiKey, bool)>, AdminError> {
    let row = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS}, \
           (SELECT u.enabled FROM erp_users u WHERE u.id = $2) AS user_enabled \
         FROM api_keys WHERE secret_sha256 = $1"
    ))
    .bind(fingerprint(secret))
    .bind(user)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        let enabled = row
            .try_get::<Option<i64>, _>("user_enabled")?
            .is_some_and(|e| e != 0);
        Ok((key_from_row(&row)?, enabled))
    })
    .transpose()
}

impl Admin {
    /// Creates a key that may act for any ERP user; the returned secret is
    /// not stored anywhere.
    pub async fn create_api_key(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
    ) -> Result<CreatedKey, AdminError> {
        self.create_api_key_for(actor, name, role, &[]).await
    }

    /// Creates a key; an `erp` key given `users` may act only for them
    /// (`X-H2H-User`), so an ERP integration holding it cannot act as
    /// anyone else.
    pub async fn create_api_key_for(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        users: &[String],
    ) -> Result<CreatedKey, AdminError> {
        let result = async {
            if name.is_empty() || name.len() > 64 || name.chars().any(char::is_whitespace) {
                return Err(AdminError::InvalidInput(format!(
                    "API key name `{name}`: 1 to 64 characters, no whitespace"
                )));
            }
            if !users.is_empty() && role != Role::Erp {
                return Err(AdminError::InvalidInput(
                    "only an erp key is bound to ERP users; an admin key acts for the host"
                        .to_owned(),
                ));
            }
            for user in users {
                self.erp_user(user).await?;
            }
            let mut bound = users.to_vec();
            bound.sort();
            bound.dedup();
            let acts_for = if bound.is_empty() {
                None
            } else {
                Some(serde_json::to_string(&bound).map_err(|e| AdminError::Corrupt(e.to_string()))?)
            };
            let mut random = [0u8; 32];
            getrandom::getrandom(&mut random)
                .map_err(|e| AdminError::Corrupt(format!("no randomness for a key: {e}")))?;
            let secret = format!("h2h_{}", hex::encode(random));
            let inserted = sqlx::query(
                "INSERT INTO api_keys (id, name, role, secret_sha256, created_at, created_by, acts_for) \
                 VALUES ($1, $1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(name)
            .bind(role.as_str())
            .bind(fingerprint(&secret))
            .bind(now_millis())
            .bind(actor.as_str())
            .bind(acts_for)
            .execute(self.db.pool())
            .await?;
            if inserted.rows_affected() == 0 {
                return Err(AdminError::InvalidInput(format!(
                    "an API key named `{name}` exists"
                )));
            }
            let key = self
                .api_keys()
                .await?
                .into_iter()
                .find(|k| k.name == name)
                .ok_or_else(|| AdminError::Corrupt("a new API key vanished".to_owned()))?;
            Ok(CreatedKey { key, secret })
        }
        .await;
        self.audited(actor, "api-key.create", name, result, |k| {
            match &k.key.acts_for {
                None => format!("role {}", k.key.role.as_str()),
                Some(users) => format!(
                    "role {}, acting for {}",
                    k.key.role.as_str(),
                    users.join(", ")
                ),
            }
        })
        .await
    }

    /// Every key, without secrets.
    pub async fn api_keys(&self) -> Result<Vec<ApiKey>, AdminError> {
        let rows = sqlx::query(&format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY name"))
            .fetch_all(self.db.pool())
            .await?;
        rows.iter().map(key_from_row).collect()
    }

    /// Revokes key `name`: its secret is refused from the next request on,
    /// by every host process (keys are looked up on each request).
    pub async fn revoke_api_key(&self, actor: &Actor, name: &str) -> Result<ApiKey, AdminError> {
        let result = async {
            let key = self
                .api_keys()
                .await?
                .into_iter()
                .find(|k| k.name == name)
                .ok_or_else(|| AdminError::UnknownApiKey(name.to_owned()))?;
            sqlx::query("DELETE FROM api_keys WHERE name = $1")
                .bind(name)
                .execute(self.db.pool())
                .await?;
            Ok(key)
        }
        .await;
        self.audited(actor, "api-key.revoke", name, result, |k| {
            format!("role {}", k.role.as_str())
        })
        .await
    }

    /// The key a bearer secret belongs to.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<ApiKey>, AdminError> {
        authenticate(&self.db, secret).await
    }

    /// The key a bearer secret belongs to, and whether ERP user `user` is
    /// known and enabled, in one read.
    pub async fn authenticate_for(
        &self,
        secret: &str,
        user: &str,
    ) -> Result<Option<(ApiKey, bool)>, AdminError> {
        authenticate_for(&self.db, secret, user).await
    }
}
