//! Signing tokens: registering a PKCS#11 token (a module and which of its
//! tokens), listing them with their slots, and granting or revoking a
//! plugin's signing with one. Each action is audited.

use serde::Serialize;
use sqlx::Row;

use super::{Actor, Admin, AdminError};
use crate::db::Database;
use crate::packages::manifest::{Manifest, is_slug};
use crate::pkcs11::{self, SlotSelector, SlotView, TokenError, TokenRecord, TokenService};

/// A token just registered, and the slot it was found in.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RegisteredToken {
    /// The registration.
    #[serde(flatten)]
    pub token: TokenRecord,
    /// Where the token is now.
    pub found: SlotView,
}

/// A registered token as `h2h token list` shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TokenListing {
    /// The registration.
    #[serde(flatten)]
    pub token: TokenRecord,
    /// Plugins granted signing with it.
    pub granted_to: Vec<String>,
    /// The module's slots now.
    pub slots: Vec<SlotView>,
    /// Why the module could not be inspected, if it could not.
    pub module_error: Option<String>,
}

/// A grant or revocation.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GrantChange {
    /// The token.
    pub token: String,
    /// The plugin.
    pub plugin: String,
    /// False when the grant already was (or was not) there.
    pub changed: bool,
}

impl Admin {
    /// Registers `name` for the token of the module at `module_path` that
    /// `selector` names; with none, the module's only initialized token
    /// (bound by its label). The module must load and the token be there.
    pub async fn register_token(
        &self,
        actor: &Actor,
        name: &str,
        module_path: &str,
        selector: Option<SlotSelector>,
    ) -> Result<RegisteredToken, AdminError> {
        let result = register(&self.db, name, module_path, selector, actor).await;
        self.audited(actor, "token.register", name, result, |r| {
            format!(
                "module {}, token `{}` in slot {}",
                r.token.module_path,
                r.found.token_label.as_deref().unwrap_or_default(),
                r.found.slot
            )
        })
        .await
    }

    /// Every registered token with its grants and its module's slots.
    pub async fn tokens(&self) -> Result<Vec<TokenListing>, AdminError> {
        let mut listings = Vec::new();
        for token in pkcs11::list_tokens(&self.db).await? {
            let granted_to = pkcs11::grantees(&self.db, &token.name).await?;
            let (slots, module_error) = match TokenService::inspect_module(&token.module_path).await
            {
                Ok(slots) => (slots, None),
                Err(e) => (Vec::new(), Some(e.to_string())),
            };
            listings.push(TokenListing {
                token,
                granted_to,
                slots,
                module_error,
            });
        }
        Ok(listings)
    }

    /// The plugins `token` is granted to.
    pub async fn token_grantees(&self, token: &str) -> Result<Vec<String>, AdminError> {
        pkcs11::get_token(&self.db, token).await?;
        Ok(pkcs11::grantees(&self.db, token).await?)
    }

    /// Forgets the wrong PINs the host counted on `token`, so users may try
    /// again (once they know the right PIN: a real card locks soon after).
    pub async fn reset_wrong_pins(&self, actor: &Actor, token: &str) -> Result<i64, AdminError> {
        let result = TokenService::new(self.db.clone(), None)
            .reset_wrong_pins(token)
            .await
            .map_err(AdminError::from);
        self.audited(actor, "token.reset-pins", token, result, |count| {
            format!("{count} wrong PINs forgotten")
        })
        .await
    }

    /// Lets `plugin` sign with `token`. The plugin must be installed and
    /// its manifest declare `capabilities.signing = true`.
    pub async fn grant_signing(
        &self,
        actor: &Actor,
        token: &str,
        plugin: &str,
    ) -> Result<GrantChange, AdminError> {
        let result = async {
            pkcs11::get_token(&self.db, token).await?;
            require_signing_plugin(&self.db, plugin).await?;
            let changed = pkcs11::grant(&self.db, token, plugin, actor.as_str()).await?;
            super::grants::touch(&self.db, plugin).await?;
            Ok(change(token, plugin, changed))
        }
        .await;
        let target = format!("{token} to {plugin}");
        self.audited(actor, "token.grant", &target, result, |c| {
            if c.changed {
                "granted"
            } else {
                "already granted"
            }
            .to_owned()
        })
        .await
    }

    /// Stops `plugin` signing with `token` (for grants built from now on:
    /// a loaded plugin keeps the grant it was loaded with).
    pub async fn revoke_signing(
        &self,
        actor: &Actor,
        token: &str,
        plugin: &str,
    ) -> Result<GrantChange, AdminError> {
        let result = async {
            pkcs11::get_token(&self.db, token).await?;
            let changed = pkcs11::revoke(&self.db, token, plugin).await?;
            super::grants::touch(&self.db, plugin).await?;
            Ok(change(token, plugin, changed))
        }
        .await;
        let target = format!("{token} from {plugin}");
        self.audited(actor, "token.revoke", &target, result, |c| {
            if c.changed {
                "revoked"
            } else {
                "was not granted"
            }
            .to_owned()
        })
        .await
    }
}

fn change(token: &str, plugin: &str, changed: bool) -> GrantChange {
    GrantChange {
        token: token.to_owned(),
        plugin: plugin.to_owned(),
        changed,
    }
}

async fn register(
    db: &Database,
    name: &str,
    module_path: &str,
    selector: Option<SlotSelector>,
    actor: &Actor,
) -> Result<RegisteredToken, AdminError> {
    if !is_slug(name) {
        return Err(TokenError::InvalidName(name.to_owned()).into());
    }
    let selector = match selector {
        Some(selector) => selector,
        None => only_token(module_path).await?,
    };
    let found = TokenService::find_token(name, module_path, &selector).await?;
    let token = pkcs11::insert_token(db, name, module_path, &selector, actor.as_str()).await?;
    Ok(RegisteredToken { token, found })
}

/// The label of the module's only initialized token.
async fn only_token(module_path: &str) -> Result<SlotSelector, AdminError> {
    let slots = TokenService::inspect_module(module_path).await?;
    let labels: Vec<&str> = slots
        .iter()
        .filter(|s| s.initialized)
        .filter_map(|s| s.token_label.as_deref())
        .collect();
    match labels.as_slice() {
        [label] => Ok(SlotSelector::Label((*label).to_owned())),
        [] => Err(AdminError::InvalidInput(format!(
            "{module_path} holds no initialized token"
        ))),
        several => Err(AdminError::InvalidInput(format!(
            "{module_path} holds several tokens (`{}`); name one by its label or slot",
            several.join("`, `")
        ))),
    }
}

/// Fails unless `plugin` is installed and its manifest asks for signing.
async fn require_signing_plugin(db: &Database, plugin: &str) -> Result<(), AdminError> {
    let version = super::lifecycle::installed_version(db, plugin)
        .await?
        .ok_or_else(|| AdminError::NotInstalled(plugin.to_owned()))?;
    let row = sqlx::query("SELECT manifest FROM packages WHERE plugin_id = $1 AND version = $2")
        .bind(plugin)
        .bind(version.to_string())
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| AdminError::NotUploaded {
            plugin: plugin.to_owned(),
            version: Some(version.to_string()),
        })?;
    let text: String = row.try_get("manifest")?;
    let manifest = Manifest::parse(&text).map_err(|e| AdminError::Corrupt(e.to_string()))?;
    if manifest.signing {
        Ok(())
    } else {
        Err(TokenError::SigningNotDeclared(plugin.to_owned()).into())
    }
}
