//! ERP users: the people an ERP system acts for. The ERP authenticates with
//! an API key of role `erp` and names the user of each request in
//! `X-H2H-User`; the host keeps who they are, which companies each may act
//! for, and which plugin permissions each holds.
//!
//! Access is per company. A head office and its branches are separate
//! companies: access to a head office does not reach its branches unless
//! the admin grants them too (`grant_company(.., with_branches: true)`
//! grants the branches that exist at that moment, each as its own row).
//!
//! A plugin's manifest may declare permissions that guard operations
//! (`[[permissions]] operations = [...]`); [`Admin::authorize`] lets a user
//! ask for a guarded operation only when they hold one of the permissions
//! guarding it. Operations no permission guards need company access only,
//! except those that move money, which nobody may then do.

use serde::Serialize;
use sqlx::Row;

use super::companies::Company;
use super::{Actor, Admin, AdminError};
use crate::db::{Database, format_millis, now_millis};
use crate::packages::Operation;
use crate::packages::manifest::is_slug;

/// An ERP user.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ErpUserInfo {
    /// Slug id, as the ERP sends it in `X-H2H-User`.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Optional e-mail address.
    pub email: Option<String>,
    /// Disabled users are refused (403 `unknown_erp_user`).
    pub enabled: bool,
    /// When the user was added, RFC 3339 UTC.
    pub created_at: String,
    /// Who added them.
    pub created_by: String,
}

/// A plugin permission granted to a user.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct GrantedPermission {
    /// The plugin.
    pub plugin: String,
    /// The permission's name.
    pub permission: String,
    /// The operations it guards, as the installed manifest declares them.
    pub operations: Vec<String>,
    /// False when the installed plugin no longer declares it (or is not
    /// installed): the grant is kept but guards nothing.
    pub declared: bool,
}

/// What a user may do.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ErpUserAccess {
    /// The user.
    pub user: String,
    /// Whether the user is enabled.
    pub enabled: bool,
    /// Companies the user may act for.
    pub companies: Vec<String>,
    /// Plugin permissions held.
    pub permissions: Vec<GrantedPermission>,
}

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<ErpUserInfo, AdminError> {
    Ok(ErpUserInfo {
        id: row.try_get("id")?,
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        created_at: format_millis(row.try_get("created_at")?),
        created_by: row.try_get("created_by")?,
    })
}

async fn find(db: &Database, id: &str) -> Result<Option<ErpUserInfo>, AdminError> {
    let row = sqlx::query(
        "SELECT id, display_name, email, enabled, created_at, created_by FROM erp_users \
         WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(user_from_row).transpose()
}

async fn require(db: &Database, id: &str) -> Result<ErpUserInfo, AdminError> {
    find(db, id)
        .await?
        .ok_or_else(|| AdminError::UnknownErpUser(id.to_owned()))
}

/// `plugin/permission` split at its slash.
pub fn split_permission(text: &str) -> Result<(&str, &str), AdminError> {
    text.split_once('/')
        .filter(|(plugin, name)| !plugin.is_empty() && !name.is_empty())
        .ok_or_else(|| {
            AdminError::InvalidInput(format!(
                "`{text}`: name a permission as <plugin>/<permission>"
            ))
        })
}

impl Admin {
    /// Adds an ERP user, enabled, with access to nothing yet.
    pub async fn add_erp_user(
        &self,
        actor: &Actor,
        id: &str,
        display_name: &str,
        email: Option<&str>,
    ) -> Result<ErpUserInfo, AdminError> {
        let result = async {
            if !is_slug(id) {
                return Err(AdminError::InvalidInput(format!(
                    "ERP user id `{id}` must be lowercase letters, digits and inner dashes (at most 64)"
                )));
            }
            let display_name = display_name.trim();
            if display_name.is_empty() {
                return Err(AdminError::InvalidInput(
                    "an ERP user needs a display name".to_owned(),
                ));
            }
            let email = email.map(str::trim).filter(|e| !e.is_empty());
            if let Some(email) = email {
                let plausible = email.len() <= 254
                    && !email.chars().any(char::is_whitespace)
                    && email
                        .split_once('@')
                        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
                if !plausible {
                    return Err(AdminError::InvalidInput(format!(
                        "`{email}` is not an e-mail address"
                    )));
                }
            }
            let inserted = sqlx::query(
                "INSERT INTO erp_users (id, display_name, email, enabled, created_at, created_by) \
                 VALUES ($1, $2, $3, 1, $4, $5) ON CONFLICT (id) DO NOTHING",
            )
            .bind(id)
            .bind(display_name)
            .bind(email)
            .bind(now_millis())
            .bind(actor.as_str())
            .execute(self.db.pool())
            .await?;
            if inserted.rows_affected() == 0 {
                return Err(AdminError::ErpUserExists(id.to_owned()));
            }
            require(&self.db, id).await
        }
        .await;
        self.audited(actor, "erp-user.add", id, result, |u| {
            u.display_name.clone()
        })
        .await
    }

    /// Every ERP user.
    pub async fn erp_users(&self) -> Result<Vec<ErpUserInfo>, AdminError> {
        let rows = sqlx::query(
            "SELECT id, display_name, email, enabled, created_at, created_by FROM erp_users \
             ORDER BY id",
        )
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// The ERP user `id`.
    pub async fn erp_user(&self, id: &str) -> Result<ErpUserInfo, AdminError> {
        require(&self.db, id).await
    }

    /// The user an ERP request names, if they exist and are enabled
    /// (otherwise [`AdminError::ErpUserRefused`]).
    pub async fn active_erp_user(&self, id: &str) -> Result<ErpUserInfo, AdminError> {
        match find(&self.db, id).await? {
            Some(user) if user.enabled => Ok(user),
            _ => Err(AdminError::ErpUserRefused(id.to_owned())),
        }
    }

    /// Disables (or enables again) an ERP user; their grants are kept.
    pub async fn set_erp_user_enabled(
        &self,
        actor: &Actor,
        id: &str,
        enabled: bool,
    ) -> Result<ErpUserInfo, AdminError> {
        let result = async {
            let changed = sqlx::query("UPDATE erp_users SET enabled = $1 WHERE id = $2")
                .bind(i64::from(enabled))
                .bind(id)
                .execute(self.db.pool())
                .await?;
            if changed.rows_affected() == 0 {
                return Err(AdminError::UnknownErpUser(id.to_owned()));
            }
            require(&self.db, id).await
        }
        .await;
        let action = if enabled {
            "erp-user.enable"
        } else {
            "erp-user.disable"
        };
        self.audited(actor, action, id, result, |u| {
            if u.enabled { "enabled" } else { "disabled" }.to_owned()
        })
        .await
    }

    /// Lets `user` act for `company`; with `with_branches`, also for each
    /// branch the company has now (each its own grant: later branches are
    /// not included, and revoking the head office keeps them).
    pub async fn grant_company(
        &self,
        actor: &Actor,
        user: &str,
        company: &str,
        with_branches: bool,
    ) -> Result<ErpUserAccess, AdminError> {
        let result = async {
            require(&self.db, user).await?;
            crate::catalog::require_company(&self.db, company).await?;
            let mut targets = vec![company.to_owned()];
            if with_branches {
                let rows = sqlx::query("SELECT id FROM companies WHERE parent_id = $1 ORDER BY id")
                    .bind(company)
                    .fetch_all(self.db.pool())
                    .await?;
                for row in rows {
                    targets.push(row.try_get("id")?);
                }
            }
            let mut granted = Vec::new();
            for target in &targets {
                let inserted = sqlx::query(
                    "INSERT INTO erp_user_companies (user_id, company_id, granted_at, granted_by) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, company_id) DO NOTHING",
                )
                .bind(user)
                .bind(target)
                .bind(now_millis())
                .bind(actor.as_str())
                .execute(self.db.pool())
                .await?;
                if inserted.rows_affected() > 0 {
                    granted.push(target.clone());
                }
            }
            Ok((self.erp_user_access(user).await?, granted))
        }
        .await;
        self.audited(
            actor,
            "erp-user.grant-company",
            &format!("{user} {company}"),
            result,
            |(_, granted)| {
                if granted.is_empty() {
                    "already granted".to_owned()
                } else {
                    format!("granted {}", granted.join(", "))
                }
            },
        )
        .await
        .map(|(access, _)| access)
    }

    /// Stops `user` acting for `company` (its branches keep their own
    /// grants).
    pub async fn revoke_company(
        &self,
        actor: &Actor,
        user: &str,
        company: &str,
    ) -> Result<ErpUserAccess, AdminError> {
        let result = async {
            require(&self.db, user).await?;
            let removed = sqlx::query(
                "DELETE FROM erp_user_companies WHERE user_id = $1 AND company_id = $2",
            )
            .bind(user)
            .bind(company)
            .execute(self.db.pool())
            .await?;
            Ok((
                self.erp_user_access(user).await?,
                removed.rows_affected() > 0,
            ))
        }
        .await;
        self.audited_revoke(
            actor,
            "erp-user.revoke-company",
            &format!("{user} {company}"),
            result,
        )
        .await
    }

    /// Grants `user` the permission `plugin/permission`, which an installed
    /// plugin's manifest must declare.
    pub async fn grant_permission(
        &self,
        actor: &Actor,
        user: &str,
        plugin: &str,
        permission: &str,
    ) -> Result<ErpUserAccess, AdminError> {
        let result = async {
            require(&self.db, user).await?;
            let rows = sqlx::query(
                "SELECT name FROM plugin_permissions WHERE plugin_id = $1 ORDER BY name",
            )
            .bind(plugin)
            .fetch_all(self.db.pool())
            .await?;
            let declared = rows
                .iter()
                .map(|row| row.try_get::<String, _>("name"))
                .collect::<Result<Vec<_>, _>>()?;
            if !declared.iter().any(|name| name == permission) {
                return Err(AdminError::UnknownPermission {
                    plugin: plugin.to_owned(),
                    name: permission.to_owned(),
                    declared: if declared.is_empty() {
                        "none (or it is not installed)".to_owned()
                    } else {
                        declared.join(", ")
                    },
                });
            }
            let inserted = sqlx::query(
                "INSERT INTO erp_user_permissions (user_id, plugin_id, permission, granted_at, granted_by) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, plugin_id, permission) DO NOTHING",
            )
            .bind(user)
            .bind(plugin)
            .bind(permission)
            .bind(now_millis())
            .bind(actor.as_str())
            .execute(self.db.pool())
            .await?;
            Ok((
                self.erp_user_access(user).await?,
                inserted.rows_affected() > 0,
            ))
        }
        .await;
        self.audited(
            actor,
            "erp-user.grant",
            &format!("{user} {plugin}/{permission}"),
            result,
            |(_, added)| if *added { "granted" } else { "already granted" }.to_owned(),
        )
        .await
        .map(|(access, _)| access)
    }

    /// Takes `plugin/permission` from `user` (declared or not).
    pub async fn revoke_permission(
        &self,
        actor: &Actor,
        user: &str,
        plugin: &str,
        permission: &str,
    ) -> Result<ErpUserAccess, AdminError> {
        let result = async {
            require(&self.db, user).await?;
            let removed = sqlx::query(
                "DELETE FROM erp_user_permissions \
                 WHERE user_id = $1 AND plugin_id = $2 AND permission = $3",
            )
            .bind(user)
            .bind(plugin)
            .bind(permission)
            .execute(self.db.pool())
            .await?;
            Ok((
                self.erp_user_access(user).await?,
                removed.rows_affected() > 0,
            ))
        }
        .await;
        self.audited_revoke(
            actor,
            "erp-user.revoke",
            &format!("{user} {plugin}/{permission}"),
            result,
        )
        .await
    }

    /// The companies and permissions of `user`.
    pub async fn erp_user_access(&self, user: &str) -> Result<ErpUserAccess, AdminError> {
        let info = require(&self.db, user).await?;
        let rows = sqlx::query(
            "SELECT company_id FROM erp_user_companies WHERE user_id = $1 ORDER BY company_id",
        )
        .bind(user)
        .fetch_all(self.db.pool())
        .await?;
        let companies = rows
            .iter()
            .map(|row| row.try_get("company_id"))
            .collect::<Result<Vec<String>, _>>()?;
        let rows = sqlx::query(
            "SELECT g.plugin_id, g.permission, p.operations FROM erp_user_permissions g \
             LEFT JOIN plugin_permissions p ON p.plugin_id = g.plugin_id AND p.name = g.permission \
             WHERE g.user_id = $1 ORDER BY g.plugin_id, g.permission",
        )
        .bind(user)
        .fetch_all(self.db.pool())
        .await?;
        let permissions = rows
            .iter()
            .map(|row| {
                let operations: Option<String> = row.try_get("operations")?;
                Ok(GrantedPermission {
                    plugin: row.try_get("plugin_id")?,
                    permission: row.try_get("permission")?,
                    declared: operations.is_some(),
                    operations: operations
                        .unwrap_or_default()
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect(),
                })
            })
            .collect::<Result<Vec<_>, AdminError>>()?;
        Ok(ErpUserAccess {
            user: info.id,
            enabled: info.enabled,
            companies,
            permissions,
        })
    }

    /// The companies `user` may act for.
    pub async fn erp_user_companies(&self, user: &str) -> Result<Vec<Company>, AdminError> {
        let rows = sqlx::query(
            "SELECT c.id, c.name, c.parent_id, c.created_at FROM companies c \
             JOIN erp_user_companies a ON a.company_id = c.id \
             WHERE a.user_id = $1 ORDER BY c.id",
        )
        .bind(user)
        .fetch_all(self.db.pool())
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

    /// Whether ERP user `user` may perform `operation` for `company`: the
    /// user exists and is enabled ([`AdminError::ErpUserRefused`]), has
    /// access to the company ([`AdminError::NoCompanyAccess`]), and — when
    /// `plugin` is given and its manifest declares permissions guarding
    /// `operation` — holds one of them ([`AdminError::PermissionRequired`]).
    /// An operation that moves money is refused when the plugin declares no
    /// permission guarding it ([`AdminError::Unguarded`]).
    ///
    /// [`Operation::CompanyData`] is guarded by company access alone.
    pub async fn authorize(
        &self,
        user: &str,
        company: &str,
        plugin: Option<&str>,
        operation: &Operation,
    ) -> Result<(), AdminError> {
        // The user and their grant in one query: this runs on every request.
        let row = sqlx::query(
            "SELECT u.enabled, CAST((SELECT COUNT(*) FROM erp_user_companies c \
               WHERE c.user_id = u.id AND c.company_id = $2) AS BIGINT) AS access \
             FROM erp_users u WHERE u.id = $1",
        )
        .bind(user)
        .bind(company)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row.filter(|r| r.try_get::<i64, _>("enabled").is_ok_and(|e| e != 0)) else {
            return Err(AdminError::ErpUserRefused(user.to_owned()));
        };
        if row.try_get::<i64, _>("access")? == 0 {
            return Err(AdminError::NoCompanyAccess {
                user: user.to_owned(),
                company: company.to_owned(),
            });
        }
        let Some(plugin) = plugin.filter(|_| operation.is_guardable()) else {
            return Ok(());
        };
        let moves_money = operation.moves_money();
        let operation = operation.to_string();
        let rows =
            sqlx::query("SELECT name, operations FROM plugin_permissions WHERE plugin_id = $1")
                .bind(plugin)
                .fetch_all(self.db.pool())
                .await?;
        let mut guarding = Vec::new();
        for row in &rows {
            let operations: String = row.try_get("operations")?;
            if operations.split_whitespace().any(|o| o == operation) {
                guarding.push(row.try_get::<String, _>("name")?);
            }
        }
        if guarding.is_empty() {
            if moves_money {
                return Err(AdminError::Unguarded {
                    plugin: plugin.to_owned(),
                    operation,
                });
            }
            return Ok(());
        }
        guarding.sort();
        let rows = sqlx::query(
            "SELECT permission FROM erp_user_permissions WHERE user_id = $1 AND plugin_id = $2",
        )
        .bind(user)
        .bind(plugin)
        .fetch_all(self.db.pool())
        .await?;
        for row in &rows {
            let held: String = row.try_get("permission")?;
            if guarding.contains(&held) {
                return Ok(());
            }
        }
        Err(AdminError::PermissionRequired {
            user: user.to_owned(),
            plugin: plugin.to_owned(),
            operation,
            needed: guarding.join(" or "),
        })
    }
}

impl Admin {
    /// Audits a revocation as `revoked` or `was not granted` and answers
    /// with the user's access after it.
    async fn audited_revoke(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        result: Result<(ErpUserAccess, bool), AdminError>,
    ) -> Result<ErpUserAccess, AdminError> {
        self.audited(actor, action, target, result, |(_, removed)| {
            if *removed {
                "revoked"
            } else {
                "was not granted"
            }
            .to_owned()
        })
        .await
        .map(|(access, _)| access)
    }
}
