//! What an admin lends a plugin beyond, or instead of, what its manifest
//! declares. Installing grants the manifest's HTTP allow-list; the admin
//! can take origins away, allow exact `host:port`s to be loopback or
//! private (a test bank, an on-premise gateway), and add a CA bundle. Each
//! change touches the installation, so serving hosts reload the plugin.

use serde::Serialize;

use super::lifecycle::installed_version;
use super::{Actor, Admin, AdminError};
use crate::capabilities::http::HttpGrant;
use crate::db::{Database, now_millis};
use crate::packages::manifest::Manifest;
use crate::packages::origin::AllowedOrigin;

use crate::catalog::{EXTRA_CA, PRIVATE_HOST, REVOKED_ORIGIN, grant_rows as rows, load_package};

/// A plugin's HTTP grant as the admin sees it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HttpGrantInfo {
    /// The plugin.
    pub plugin: String,
    /// Origins the manifest declares.
    pub declared: Vec<String>,
    /// Declared origins the admin took away.
    pub revoked: Vec<String>,
    /// `host:port`s allowed to be loopback or private.
    pub private_hosts: Vec<String>,
    /// Whether an extra CA bundle is trusted.
    pub extra_ca: bool,
}

impl Admin {
    /// The HTTP grant of an installed plugin.
    pub async fn http_grant(&self, plugin: &str) -> Result<HttpGrantInfo, AdminError> {
        let manifest = installed_manifest(&self.db, plugin).await?;
        let rows = rows(&self.db, plugin).await?;
        let of = |kind: &str| -> Vec<String> {
            rows.iter()
                .filter(|(k, _)| k == kind)
                .map(|(_, v)| v.clone())
                .collect()
        };
        Ok(HttpGrantInfo {
            plugin: plugin.to_owned(),
            declared: manifest.http.iter().map(ToString::to_string).collect(),
            revoked: of(REVOKED_ORIGIN),
            private_hosts: of(PRIVATE_HOST),
            extra_ca: !of(EXTRA_CA).is_empty(),
        })
    }

    /// Takes a declared origin away from `plugin` (`restore` gives it back).
    pub async fn revoke_origin(
        &self,
        actor: &Actor,
        plugin: &str,
        origin: &str,
        restore: bool,
    ) -> Result<HttpGrantInfo, AdminError> {
        let result = async {
            let manifest = installed_manifest(&self.db, plugin).await?;
            let origin = AllowedOrigin::parse(origin).map_err(AdminError::InvalidInput)?;
            if !manifest.http.contains(&origin) {
                return Err(AdminError::InvalidInput(format!(
                    "{origin} is not in {plugin}'s allow-list ({})",
                    listed(&manifest)
                )));
            }
            self.change(actor, plugin, REVOKED_ORIGIN, &origin.to_string(), !restore)
                .await?;
            self.http_grant(plugin).await
        }
        .await;
        let action = if restore {
            "grant.restore-origin"
        } else {
            "grant.revoke-origin"
        };
        self.audited(actor, action, plugin, result, |g| {
            format!("revoked: [{}]", g.revoked.join(", "))
        })
        .await
    }

    /// Lets `host:port` resolve to loopback, private or link-local addresses
    /// for `plugin` (`allow = false` takes it back). It must be in the
    /// manifest's allow-list.
    pub async fn allow_private_host(
        &self,
        actor: &Actor,
        plugin: &str,
        host_port: &str,
        allow: bool,
    ) -> Result<HttpGrantInfo, AdminError> {
        let result = async {
            let manifest = installed_manifest(&self.db, plugin).await?;
            let host_port = host_port.trim().to_ascii_lowercase();
            let (host, port) = host_port
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h, p.parse::<u16>().ok().filter(|p| *p != 0)?)))
                .filter(|(h, _)| !h.is_empty())
                .ok_or_else(|| {
                    AdminError::InvalidInput(format!(
                        "`{host_port}` must be written host:port (port 1-65535)"
                    ))
                })?;
            let literal = host.trim_start_matches('[').trim_end_matches(']');
            let listed_here = ["http", "https"].iter().any(|scheme| {
                manifest
                    .http
                    .iter()
                    .any(|o| o.admits(scheme, literal, port))
            });
            if allow && !listed_here {
                return Err(AdminError::InvalidInput(format!(
                    "{host_port} is not in {plugin}'s allow-list ({})",
                    listed(&manifest)
                )));
            }
            self.change(actor, plugin, PRIVATE_HOST, &host_port, allow)
                .await?;
            self.http_grant(plugin).await
        }
        .await;
        let action = if allow {
            "grant.allow-private-host"
        } else {
            "grant.disallow-private-host"
        };
        self.audited(actor, action, plugin, result, |g| {
            format!("private hosts: [{}]", g.private_hosts.join(", "))
        })
        .await
    }

    /// Trusts the CA certificates of `pem` for `plugin`'s TLS, besides the
    /// web roots; none removes the bundle.
    pub async fn set_extra_ca(
        &self,
        actor: &Actor,
        plugin: &str,
        pem: Option<&str>,
    ) -> Result<HttpGrantInfo, AdminError> {
        let result = async {
            installed_manifest(&self.db, plugin).await?;
            if let Some(pem) = pem {
                HttpGrant::default()
                    .with_extra_ca(pem.as_bytes())
                    .map_err(|e| AdminError::InvalidInput(e.to_string()))?;
            }
            sqlx::query("DELETE FROM plugin_grants WHERE plugin_id = $1 AND kind = $2")
                .bind(plugin)
                .bind(EXTRA_CA)
                .execute(self.db.pool())
                .await?;
            if let Some(pem) = pem {
                self.change(actor, plugin, EXTRA_CA, pem, true).await?;
            } else {
                touch(&self.db, plugin).await?;
            }
            self.http_grant(plugin).await
        }
        .await;
        self.audited(actor, "grant.extra-ca", plugin, result, |g| {
            if g.extra_ca { "set" } else { "removed" }.to_owned()
        })
        .await
    }

    async fn change(
        &self,
        actor: &Actor,
        plugin: &str,
        kind: &str,
        value: &str,
        present: bool,
    ) -> Result<(), AdminError> {
        if present {
            sqlx::query(
                "INSERT INTO plugin_grants (plugin_id, kind, value, added_at, added_by) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (plugin_id, kind, value) DO NOTHING",
            )
            .bind(plugin)
            .bind(kind)
            .bind(value)
            .bind(now_millis())
            .bind(actor.as_str())
            .execute(self.db.pool())
            .await?;
        } else {
            sqlx::query(
                "DELETE FROM plugin_grants WHERE plugin_id = $1 AND kind = $2 AND value = $3",
            )
            .bind(plugin)
            .bind(kind)
            .bind(value)
            .execute(self.db.pool())
            .await?;
        }
        touch(&self.db, plugin).await
    }
}

pub(super) async fn installed_manifest(
    db: &Database,
    plugin: &str,
) -> Result<Manifest, AdminError> {
    let version = installed_version(db, plugin)
        .await?
        .ok_or_else(|| AdminError::NotInstalled(plugin.to_owned()))?;
    Ok(load_package(db, plugin, &version).await?.manifest)
}

/// Marks the installation changed, so serving hosts reload the plugin.
pub(super) async fn touch(db: &Database, plugin: &str) -> Result<(), AdminError> {
    sqlx::query(
        "UPDATE installations SET updated_at = \
           CASE WHEN updated_at >= $1 THEN updated_at + 1 ELSE $1 END WHERE plugin_id = $2",
    )
    .bind(now_millis())
    .bind(plugin)
    .execute(db.pool())
    .await?;
    Ok(())
}

fn listed(manifest: &Manifest) -> String {
    if manifest.http.is_empty() {
        return "empty".to_owned();
    }
    manifest
        .http
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
