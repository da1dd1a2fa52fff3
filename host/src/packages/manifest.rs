//! `h2h.toml`, the manifest every plugin package carries: who the plugin
//! is, which world and contract it implements, what it needs (other
//! modules, HTTP origins, signing, storage), and what it brings (company
//! settings, ERP permissions, scheduled tasks).
//!
//! Parsing validates everything a host relies on later; each error names
//! the line and the field.

use std::collections::{BTreeMap, BTreeSet};

use semver::{Version, VersionReq};
use serde::Deserialize;
use toml::Spanned;

use super::Operation;
use super::origin::AllowedOrigin;
use crate::runtime::{ContractVersion, World};

/// Why a manifest is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("h2h.toml{}: `{field}`: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct ManifestError {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The field at fault, dotted (`tasks.refresh-sessions.cron`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// Default storage quota when the manifest sets none: 16 MiB.
pub const DEFAULT_STORAGE_QUOTA: u64 = 16 << 20;

/// A validated manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Lowercase slug, unique per host.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The plugin's version.
    pub version: Version,
    /// Who publishes it.
    pub publisher: String,
    /// One paragraph for admins.
    pub description: String,
    /// The connector world.
    pub world: World,
    /// The contract range it declares, e.g. `^1.0`.
    pub contract_range: VersionReq,
    /// The served contract version that range names: what it was built for.
    pub contract: ContractVersion,
    /// Other plugins or host modules it needs, by id.
    pub requires: BTreeMap<String, VersionReq>,
    /// Origins it may call.
    pub http: Vec<AllowedOrigin>,
    /// Whether it signs with a PKCS#11 token.
    pub signing: bool,
    /// Bytes of storage it may use.
    pub storage_quota: u64,
    /// Company settings created at install.
    pub settings: Vec<Setting>,
    /// Permissions it defines for ERP users.
    pub permissions: Vec<Permission>,
    /// Scheduled tasks with their default cron.
    pub tasks: Vec<Task>,
    /// The connector's own default schedule for host tasks (PKO BP's
    /// statements every 2 hours), by task name; the rest keep the host's.
    pub host_task_crons: BTreeMap<String, String>,
}

/// Kind of value a company setting holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SettingType {
    /// Free text (PKO's ContextId, mBank's DIK).
    String,
    /// A whole number.
    Integer,
    /// true / false.
    Boolean,
    /// Kept encrypted in the vault, never shown again (a token).
    Secret,
}

impl std::fmt::Display for SettingType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SettingType::String => "string",
            SettingType::Integer => "integer",
            SettingType::Boolean => "boolean",
            SettingType::Secret => "secret",
        })
    }
}

/// A company setting the plugin reads through `config`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    /// Name the plugin asks for.
    pub name: String,
    /// Kind of value.
    #[serde(rename = "type")]
    pub kind: SettingType,
    /// What admins see.
    pub description: String,
    /// Whether the plugin cannot work without it.
    #[serde(default)]
    pub required: bool,
}

/// A permission ERP users can be granted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permission {
    /// Name, e.g. `create-long-session`.
    pub name: String,
    /// What it allows.
    pub description: String,
    /// The operations it guards: an ERP user must hold one of the
    /// permissions guarding an operation to ask for it. Each is one of
    /// [`Operation::GUARDABLE`] or `task:<name>` of a task the manifest
    /// declares, by the name [`Operation`] displays.
    #[serde(default)]
    pub operations: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPermission {
    name: String,
    description: String,
    #[serde(default)]
    operations: Vec<Spanned<String>>,
}

/// A scheduled task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Name passed to `tasks.run`.
    pub name: String,
    /// Default cron: 5 fields, or 6 with seconds first.
    pub cron: String,
    /// What it does.
    pub description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    id: Spanned<String>,
    name: String,
    version: Spanned<String>,
    publisher: String,
    #[serde(default)]
    description: String,
    contract: RawContract,
    #[serde(default)]
    requires: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    capabilities: RawCapabilities,
    #[serde(default)]
    settings: Vec<Spanned<Setting>>,
    #[serde(default)]
    permissions: Vec<Spanned<RawPermission>>,
    #[serde(default)]
    tasks: Vec<RawTask>,
    #[serde(default, rename = "host-tasks")]
    host_tasks: BTreeMap<String, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContract {
    world: Spanned<String>,
    version: Spanned<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCapabilities {
    #[serde(default)]
    http: Vec<Spanned<String>>,
    #[serde(default)]
    signing: bool,
    storage_quota_bytes: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    name: Spanned<String>,
    cron: Spanned<String>,
    #[serde(default)]
    description: String,
}

/// Why `cron` is not a schedule the scheduler reads (5 fields, or 6 with
/// seconds first).
fn check_cron(cron: &str) -> Result<(), String> {
    croner::Cron::new(cron)
        .with_seconds_optional()
        .parse()
        .map(drop)
        .map_err(|e| format!("`{cron}` is not a cron expression: {e}"))
}

/// The key written on the line holding `offset` (`key = value`), or that
/// line itself (a table header).
fn key_at(text: &str, offset: usize) -> String {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next().unwrap_or_default();
    line.split_once('=')
        .map_or(line, |(key, _)| key)
        .trim()
        .to_owned()
}

/// Lowercase letters, digits and inner dashes.
pub fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

impl Manifest {
    /// Parses and validates `h2h.toml`.
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let line_of = |offset: usize| {
            text.as_bytes()[..offset.min(text.len())]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1
        };
        let raw: Raw = toml::from_str(text).map_err(|e| ManifestError {
            line: e.span().map(|s| line_of(s.start)),
            field: e.span().map(|s| key_at(text, s.start)).unwrap_or_default(),
            message: e.message().to_owned(),
        })?;
        let fail = |at: std::ops::Range<usize>, field: &str, message: String| ManifestError {
            line: Some(line_of(at.start)),
            field: field.to_owned(),
            message,
        };

        if !is_slug(raw.id.get_ref()) {
            return Err(fail(
                raw.id.span(),
                "id",
                "must be a lowercase slug (a-z, 0-9, -)".into(),
            ));
        }
        let version = Version::parse(raw.version.get_ref())
            .map_err(|e| fail(raw.version.span(), "version", format!("not semver: {e}")))?;
        let world = match raw.contract.world.get_ref().as_str() {
            "bank-connector" => World::BankConnector,
            "pos-connector" => World::PosConnector,
            other => {
                return Err(fail(
                    raw.contract.world.span(),
                    "contract.world",
                    format!("`{other}` is not bank-connector or pos-connector"),
                ));
            }
        };
        let contract = VersionReq::parse(raw.contract.version.get_ref()).map_err(|e| {
            fail(
                raw.contract.version.span(),
                "contract.version",
                format!("not a semver range: {e}"),
            )
        })?;
        let contract_range = contract;
        let Some(contract) = ContractVersion::for_range(&contract_range)
            .filter(|_| !contract_range.comparators.is_empty())
        else {
            return Err(fail(
                raw.contract.version.span(),
                "contract.version",
                format!(
                    "`{contract_range}` names no contract version this host serves \
                     (h2h:connector {}); build the plugin with an SDK for one of them",
                    ContractVersion::list()
                ),
            ));
        };
        let mut requires = BTreeMap::new();
        for (name, range) in raw.requires {
            let req = VersionReq::parse(range.get_ref()).map_err(|e| {
                fail(
                    range.span(),
                    &format!("requires.{name}"),
                    format!("not a semver range: {e}"),
                )
            })?;
            requires.insert(name, req);
        }
        let http = raw
            .capabilities
            .http
            .iter()
            .map(|entry| {
                AllowedOrigin::parse(entry.get_ref())
                    .map_err(|e| fail(entry.span(), "capabilities.http", e))
            })
            .collect::<Result<Vec<_>, _>>()?;

        let mut names = BTreeSet::new();
        for setting in &raw.settings {
            let s = setting.get_ref();
            if !is_slug(&s.name) || !names.insert(s.name.clone()) {
                return Err(fail(
                    setting.span(),
                    "settings.name",
                    format!("`{}` is not a slug or is declared twice", s.name),
                ));
            }
        }
        let mut names = BTreeSet::new();
        for permission in &raw.permissions {
            let p = permission.get_ref();
            if !is_slug(&p.name) || !names.insert(p.name.clone()) {
                return Err(fail(
                    permission.span(),
                    "permissions.name",
                    format!("`{}` is not a slug or is declared twice", p.name),
                ));
            }
        }
        let mut names = BTreeSet::new();
        let mut tasks = Vec::new();
        for t in raw.tasks {
            let name = t.name.get_ref();
            if !is_slug(name) || !names.insert(name.clone()) {
                return Err(fail(
                    t.name.span(),
                    "tasks.name",
                    format!("`{name}` is not a slug or is declared twice"),
                ));
            }
            if let Some(host_task) = super::host_tasks::for_world(world).find(|t| t.name == name) {
                return Err(fail(
                    t.name.span(),
                    "tasks.name",
                    format!(
                        "`{name}` is a task the host runs itself ({}); choose another name",
                        host_task.description
                    ),
                ));
            }
            check_cron(t.cron.get_ref())
                .map_err(|e| fail(t.cron.span(), &format!("tasks.{name}.cron"), e))?;
            tasks.push(Task {
                name: t.name.into_inner(),
                cron: t.cron.into_inner(),
                description: t.description,
            });
        }
        let mut host_task_crons = BTreeMap::new();
        for (name, cron) in raw.host_tasks {
            let field = format!("host-tasks.{name}");
            if !super::host_tasks::for_world(world).any(|t| t.name == name) {
                let known: Vec<&str> = super::host_tasks::for_world(world)
                    .map(|t| t.name)
                    .collect();
                return Err(fail(
                    cron.span(),
                    &field,
                    format!(
                        "`{name}` is not a task the host runs for this world (one of: {})",
                        known.join(", ")
                    ),
                ));
            }
            check_cron(cron.get_ref()).map_err(|e| fail(cron.span(), &field, e))?;
            host_task_crons.insert(name, cron.into_inner());
        }
        let mut permissions = Vec::new();
        for permission in raw.permissions {
            let p = permission.into_inner();
            let mut operations = Vec::new();
            for operation in &p.operations {
                let text = operation.get_ref();
                let known = match Operation::parse(text) {
                    Some(Operation::Task(task)) => tasks.iter().any(|t| t.name == task),
                    Some(_) => true,
                    None => false,
                };
                if !known {
                    return Err(fail(
                        operation.span(),
                        &format!("permissions.{}.operations", p.name),
                        format!(
                            "`{text}` is not {} or `task:<name>` of a task declared here",
                            Operation::GUARDABLE.map(|o| o.to_string()).join(", ")
                        ),
                    ));
                }
                if operations.contains(text) {
                    return Err(fail(
                        operation.span(),
                        &format!("permissions.{}.operations", p.name),
                        format!("`{text}` is listed twice"),
                    ));
                }
                operations.push(text.clone());
            }
            permissions.push(Permission {
                name: p.name,
                description: p.description,
                operations,
            });
        }

        Ok(Manifest {
            id: raw.id.into_inner(),
            name: raw.name,
            version,
            publisher: raw.publisher,
            description: raw.description,
            world,
            contract_range,
            contract,
            requires,
            http,
            signing: raw.capabilities.signing,
            storage_quota: raw
                .capabilities
                .storage_quota_bytes
                .unwrap_or(DEFAULT_STORAGE_QUOTA),
            settings: raw.settings.into_iter().map(Spanned::into_inner).collect(),
            permissions,
            tasks,
            host_task_crons,
        })
    }
}
