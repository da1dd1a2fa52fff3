//! The values of the company settings plugins declare. Plain values live in
//! `company_settings`; `secret` settings and client TLS identities are
//! sealed in the vault and never shown again.

use serde::Serialize;
use sqlx::Row;

use super::{Actor, Admin, AdminError};
use crate::capabilities::http::{ClientIdentity, pkcs12_to_pem};
use crate::catalog::StoredIdentity;
use crate::db::now_millis;
use crate::vault::{self, EntryId, EntryKind, KeySource, RotateReport};

/// A declared setting and its value for one company.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SettingValue {
    /// Its name.
    pub name: String,
    /// `string`, `integer`, `boolean` or `secret`.
    pub kind: String,
    /// What it is for.
    pub description: String,
    /// Whether the plugin needs it.
    pub required: bool,
    /// Whether a value is set.
    pub set: bool,
    /// The value; never shown for secrets.
    pub value: Option<String>,
}

impl Admin {
    /// Sets `name` of `plugin` for `company`; a secret is sealed in the
    /// vault. The value is checked against the declared type.
    pub async fn set_setting(
        &self,
        actor: &Actor,
        company: &str,
        plugin: &str,
        name: &str,
        value: &str,
    ) -> Result<(), AdminError> {
        let result = self.set_inner(actor, company, plugin, name, value).await;
        let target = format!("{company}/{plugin}/{name}");
        self.audited(actor, "setting.set", &target, result, |kind| {
            // The audit log never holds a secret.
            if kind == "secret" {
                "secret sealed in the vault".to_owned()
            } else {
                format!("= {value}")
            }
        })
        .await
        .map(drop)
    }

    async fn set_inner(
        &self,
        actor: &Actor,
        company: &str,
        plugin: &str,
        name: &str,
        value: &str,
    ) -> Result<String, AdminError> {
        crate::catalog::require_company(&self.db, company).await?;
        let kind = self.declared_kind(plugin, name).await?;
        crate::catalog::admit_company(&self.db, plugin, company).await?;
        match kind.as_str() {
            "integer" if value.trim().parse::<i64>().is_err() => {
                return Err(AdminError::InvalidInput(format!(
                    "{plugin} setting `{name}` is an integer; `{value}` is not"
                )));
            }
            "boolean" if !matches!(value, "true" | "false") => {
                return Err(AdminError::InvalidInput(format!(
                    "{plugin} setting `{name}` is a boolean: write true or false"
                )));
            }
            "secret" => {
                let entry = EntryId::secret(company, plugin, name);
                self.vault
                    .put(&entry, value.as_bytes(), actor.as_str())
                    .await?;
                return Ok(kind);
            }
            _ => {}
        }
        sqlx::query(
            "INSERT INTO company_settings (company_id, plugin_id, name, value, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (company_id, plugin_id, name) DO UPDATE SET \
               value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(company)
        .bind(plugin)
        .bind(name)
        .bind(value.trim())
        .bind(now_millis())
        .bind(actor.as_str())
        .execute(self.db.pool())
        .await?;
        Ok(kind)
    }

    /// Removes the value of `name`; true if one was set.
    pub async fn unset_setting(
        &self,
        actor: &Actor,
        company: &str,
        plugin: &str,
        name: &str,
    ) -> Result<bool, AdminError> {
        let result = async {
            crate::catalog::require_company(&self.db, company).await?;
            let kind = self.declared_kind(plugin, name).await?;
            if kind == "secret" {
                return Ok(self
                    .vault
                    .delete(&EntryId::secret(company, plugin, name))
                    .await?);
            }
            let done = sqlx::query(
                "DELETE FROM company_settings WHERE company_id = $1 AND plugin_id = $2 AND name = $3",
            )
            .bind(company)
            .bind(plugin)
            .bind(name)
            .execute(self.db.pool())
            .await?;
            Ok(done.rows_affected() > 0)
        }
        .await;
        let target = format!("{company}/{plugin}/{name}");
        self.audited(actor, "setting.unset", &target, result, |existed| {
            if *existed { "removed" } else { "was not set" }.to_owned()
        })
        .await
    }

    /// Every setting `plugin` declares, with its value for `company`
    /// (secrets only say whether they are set).
    pub async fn settings(
        &self,
        company: &str,
        plugin: &str,
    ) -> Result<Vec<SettingValue>, AdminError> {
        crate::catalog::require_company(&self.db, company).await?;
        self.require_installed(plugin).await?;
        let declared = sqlx::query(
            "SELECT name, kind, description, required FROM plugin_settings \
             WHERE plugin_id = $1 ORDER BY name",
        )
        .bind(plugin)
        .fetch_all(self.db.pool())
        .await?;
        let values = crate::catalog::company_settings(&self.db, company, plugin).await?;
        let secrets: Vec<String> = self
            .vault
            .list(EntryKind::Secret, company, plugin)
            .await?
            .into_iter()
            .map(|e| e.name)
            .collect();
        declared
            .iter()
            .map(|row| {
                let name: String = row.try_get("name")?;
                let kind: String = row.try_get("kind")?;
                let (set, value) = if kind == "secret" {
                    (secrets.contains(&name), None)
                } else {
                    let value = values.get(&name).cloned();
                    (value.is_some(), value)
                };
                Ok(SettingValue {
                    description: row.try_get("description")?,
                    required: row.try_get::<i64, _>("required")? != 0,
                    name,
                    kind,
                    set,
                    value,
                })
            })
            .collect()
    }

    /// Stores a client TLS identity (PEM chain, leaf first, and PEM key)
    /// that `plugin` names in its requests for `company`.
    pub async fn add_tls_identity(
        &self,
        actor: &Actor,
        company: &str,
        plugin: &str,
        name: &str,
        chain_pem: &str,
        key_pem: &str,
    ) -> Result<(), AdminError> {
        let result = async {
            crate::catalog::require_company(&self.db, company).await?;
            self.require_installed(plugin).await?;
            if name.trim().is_empty() {
                return Err(AdminError::InvalidInput(
                    "a TLS identity needs a name".to_owned(),
                ));
            }
            ClientIdentity::from_pem(chain_pem.as_bytes(), key_pem.as_bytes())
                .map_err(|e| AdminError::InvalidInput(e.to_string()))?;
            let stored = serde_json::to_vec(&StoredIdentity {
                chain: chain_pem.to_owned(),
                key: key_pem.to_owned(),
            })
            .map_err(|e| AdminError::Corrupt(e.to_string()))?;
            let stored = zeroize::Zeroizing::new(stored);
            let entry = EntryId::tls_identity(company, plugin, name);
            self.vault.put(&entry, &stored, actor.as_str()).await?;
            Ok(())
        }
        .await;
        let target = format!("{company}/{plugin}/{name}");
        self.audited(actor, "tls-identity.add", &target, result, |()| {
            "sealed in the vault".to_owned()
        })
        .await
    }

    /// The client TLS identities sealed for `plugin` at `company`: names
    /// and when, never their keys.
    pub async fn tls_identities(
        &self,
        company: &str,
        plugin: &str,
    ) -> Result<Vec<vault::EntryInfo>, AdminError> {
        Ok(self
            .vault
            .list(EntryKind::TlsIdentity, company, plugin)
            .await?)
    }

    /// Removes the client TLS identity `name` of `plugin` at `company`;
    /// false when there was none. Audited either way.
    pub async fn remove_tls_identity(
        &self,
        actor: &Actor,
        company: &str,
        plugin: &str,
        name: &str,
    ) -> Result<bool, AdminError> {
        let result = self
            .vault
            .delete(&EntryId::tls_identity(company, plugin, name))
            .await
            .map_err(AdminError::from);
        let target = format!("{company}/{plugin}/{name}");
        self.audited(actor, "tls-identity.remove", &target, result, |removed| {
            if *removed {
                "removed from the vault"
            } else {
                "there was none"
            }
            .to_owned()
        })
        .await
    }

    /// Stores a client TLS identity given as a PKCS#12 file (as banks hand
    /// them out) and its password.
    pub async fn add_tls_identity_pkcs12(
        &self,
        actor: &Actor,
        company: &str,
        plugin: &str,
        name: &str,
        p12: &[u8],
        password: &str,
    ) -> Result<(), AdminError> {
        match pkcs12_to_pem(p12, password) {
            Ok((chain, key)) => {
                self.add_tls_identity(actor, company, plugin, name, &chain, &key)
                    .await
            }
            Err(e) => {
                let result: Result<(), AdminError> = Err(AdminError::InvalidInput(e.to_string()));
                let target = format!("{company}/{plugin}/{name}");
                self.audited(actor, "tls-identity.add", &target, result, |()| {
                    String::new()
                })
                .await
            }
        }
    }

    /// Re-seals every vault value under a new key (see [`vault::rotate`]).
    pub async fn rotate_vault_key(
        &self,
        actor: &Actor,
        source: &KeySource,
    ) -> Result<RotateReport, AdminError> {
        let result = async {
            // A serving host keeps sealing and opening with the key it
            // loaded at start: it would write values under the old key once
            // the new one took over, and could not open the re-sealed ones.
            let live = super::processes::live(&self.db).await?;
            if !live.is_empty() {
                return Err(AdminError::HostsRunning(live.join(", ")));
            }
            Ok(vault::rotate(&self.db, source).await?)
        }
        .await;
        self.audited(actor, "vault.rotate-key", "vault", result, |r| {
            format!(
                "{} values and {} plugin values: key {} -> {}",
                r.entries, r.plugin_values, r.old_key_id, r.new_key_id
            )
        })
        .await
    }

    async fn declared_kind(&self, plugin: &str, name: &str) -> Result<String, AdminError> {
        self.require_installed(plugin).await?;
        let rows = sqlx::query(
            "SELECT name, kind FROM plugin_settings WHERE plugin_id = $1 ORDER BY name",
        )
        .bind(plugin)
        .fetch_all(self.db.pool())
        .await?;
        let mut declared = Vec::new();
        for row in &rows {
            let found: String = row.try_get("name")?;
            if found == name {
                return Ok(row.try_get("kind")?);
            }
            declared.push(found);
        }
        Err(AdminError::UnknownSetting {
            plugin: plugin.to_owned(),
            name: name.to_owned(),
            declared: if declared.is_empty() {
                "nothing".to_owned()
            } else {
                declared.join(", ")
            },
        })
    }

    async fn require_installed(&self, plugin: &str) -> Result<(), AdminError> {
        let found = sqlx::query("SELECT plugin_id FROM installations WHERE plugin_id = $1")
            .bind(plugin)
            .fetch_optional(self.db.pool())
            .await?;
        match found {
            Some(_) => Ok(()),
            None => Err(AdminError::NotInstalled(plugin.to_owned())),
        }
    }
}
