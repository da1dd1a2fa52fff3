//! Plugins: upload a package, add a license, install, upgrade, roll back,
//! enable, disable, uninstall; what is uploaded, installed and licensed.

use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use semver::Version;
use serde::Deserialize;

use super::layout;
use super::session::Signed;
use crate::admin::{AuditFilter, Installed, LicenseInfo, PackageInfo};
use crate::api::AppState;

const PAGE: &str = "/console/plugins";

/// The plugins page.
pub async fn page(State(state): State<AppState>, signed: Signed) -> Response {
    let admin = &state.admin;
    let loaded = async {
        Ok::<_, crate::admin::AdminError>((
            admin.installed().await?,
            admin.packages().await?,
            admin.licenses().await?,
        ))
    }
    .await;
    let (installed, packages, licenses) = match loaded {
        Ok(all) => all,
        Err(e) => return layout::failure(&e.to_string()),
    };
    let csrf = &signed.session.csrf;
    let body = html! {
        (installed_section(&installed, &packages, csrf))
        (packages_section(&installed, &packages, csrf))
        (licenses_section(&licenses, csrf))
        (upload_section(csrf))
    };
    layout::render(&state, "Plugins", "Plugins", &signed, body).await
}

/// A one-button form posting `op` (and `version`) for `plugin`.
fn button_form(plugin: &str, op: &str, version: Option<&str>, label: &str, csrf: &str) -> Markup {
    html! {
        form.inline method="post" action={ "/console/plugins/" (plugin) "/action" } {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="op" value=(op);
            @if let Some(version) = version {
                input type="hidden" name="version" value=(version);
            }
            button type="submit" data-op=(op) { (label) }
        }
    }
}

fn installed_section(installed: &[Installed], packages: &[PackageInfo], csrf: &str) -> Markup {
    html! {
        section aria-labelledby="installed" {
            h2 #installed { "Installed" }
            @if installed.is_empty() {
                p.empty { "No plugin is installed yet: upload a package, add its license, install it." }
            } @else {
                table {
                    thead { tr { th { "Plugin" } th { "Version" } th { "State" } th { "Installed" } th { "Actions" } } }
                    tbody {
                        @for plugin in installed {
                            tr data-plugin=(plugin.plugin) {
                                td { (plugin.plugin) }
                                td { (plugin.version) }
                                td { @if plugin.enabled { "enabled" } @else { "disabled" } }
                                td { (plugin.installed_at) }
                                td.actions {
                                    @if let Some(newer) = &plugin.upgrade_available {
                                        (button_form(&plugin.plugin, "upgrade", Some(newer), &format!("Upgrade to {newer}"), csrf))
                                    }
                                    @for older in older_versions(packages, plugin) {
                                        (button_form(&plugin.plugin, "rollback", Some(&older), &format!("Roll back to {older}"), csrf))
                                    }
                                    @if plugin.enabled {
                                        (button_form(&plugin.plugin, "disable", None, "Disable", csrf))
                                    } @else {
                                        (button_form(&plugin.plugin, "enable", None, "Enable", csrf))
                                    }
                                    (button_form(&plugin.plugin, "uninstall", None, "Uninstall", csrf))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Uploaded versions of `plugin` older than the installed one.
fn older_versions(packages: &[PackageInfo], plugin: &Installed) -> Vec<String> {
    let Ok(current) = Version::parse(&plugin.version) else {
        return Vec::new();
    };
    packages
        .iter()
        .filter(|p| p.plugin == plugin.plugin)
        .filter(|p| Version::parse(&p.version).is_ok_and(|v| v < current))
        .map(|p| p.version.clone())
        .collect()
}

fn packages_section(installed: &[Installed], packages: &[PackageInfo], csrf: &str) -> Markup {
    html! {
        section aria-labelledby="uploaded" {
            h2 #uploaded { "Uploaded packages" }
            @if packages.is_empty() {
                p.empty { "No package uploaded yet." }
            } @else {
                table {
                    thead { tr { th { "Plugin" } th { "Version" } th { "Name" } th { "Publisher" } th { "Signed by" } th { "Uploaded" } th { "" } } }
                    tbody {
                        @for package in packages {
                            tr data-package={ (package.plugin) "@" (package.version) } {
                                td { (package.plugin) }
                                td { (package.version) }
                                td { (package.name) }
                                td { (package.publisher) }
                                td { (package.signer.as_deref().unwrap_or("unsigned (development)")) }
                                td { (package.uploaded_at) " by " (package.uploaded_by) }
                                td.actions {
                                    @if !installed.iter().any(|i| i.plugin == package.plugin) {
                                        (button_form(&package.plugin, "install", Some(&package.version), "Install on the database", csrf))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn licenses_section(licenses: &[LicenseInfo], csrf: &str) -> Markup {
    html! {
        section aria-labelledby="licenses" {
            h2 #licenses { "Licenses" }
            @if licenses.is_empty() {
                p.empty { "No license yet: a plugin installs and runs only with one." }
            } @else {
                table {
                    thead { tr { th { "License" } th { "Plugin" } th { "Versions" } th { "Licensee" } th { "Valid" } th { "Status" } } }
                    tbody {
                        @for license in licenses {
                            tr class=(license.status) {
                                td { (license.id) }
                                td { (license.plugin) }
                                td { (license.versions) }
                                td { (license.licensee) }
                                td { (license.not_before) " to " (license.expires) }
                                td {
                                    (license.status)
                                    @if license.status == "expiring" {
                                        " (" (license.days_left) " days left)"
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form method="post" action="/console/plugins/license" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(csrf);
                label for="license-file" { "License file" }
                input #license-file type="file" name="license" accept=".lic,.txt,text/plain" required;
                button type="submit" { "Add license" }
            }
        }
    }
}

fn upload_section(csrf: &str) -> Markup {
    html! {
        section aria-labelledby="upload" {
            h2 #upload { "Upload a package" }
            form.drop method="post" action="/console/plugins/upload" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(csrf);
                label for="package-file" { "Signed plugin package (.zip): choose it, or drop it here" }
                input #package-file type="file" name="package" accept=".zip,application/zip" required;
                button type="submit" { "Upload" }
            }
        }
    }
}

/// The fields of a multipart form: the CSRF token and one file.
async fn csrf_and_file(
    mut form: Multipart,
    file_field: &str,
) -> Result<(String, Option<Vec<u8>>), String> {
    let mut csrf = String::new();
    let mut file = None;
    while let Some(field) = form.next_field().await.map_err(|e| e.body_text())? {
        match field.name() {
            Some("csrf") => csrf = field.text().await.map_err(|e| e.body_text())?,
            Some(name) if name == file_field => {
                file = Some(field.bytes().await.map_err(|e| e.body_text())?.to_vec());
            }
            _ => {}
        }
    }
    Ok((csrf, file))
}

/// Uploads a package; the page then says what was stored or why not.
pub async fn upload(State(state): State<AppState>, signed: Signed, form: Multipart) -> Response {
    let (csrf, file) = match csrf_and_file(form, "package").await {
        Ok(fields) => fields,
        Err(reason) => return signed.done(&state, Err(reason), PAGE).await,
    };
    if let Err(refused) = signed.check(&csrf) {
        return refused.into_response();
    }
    let outcome = match file.filter(|bytes| !bytes.is_empty()) {
        None => Err("choose a package file to upload".to_owned()),
        Some(zip) => state
            .admin
            .upload(&signed.session.actor(), &zip)
            .await
            .map(|uploaded| {
                let p = &uploaded.package;
                if uploaded.stored {
                    format!("Uploaded {} {} ({}).", p.plugin, p.version, p.name)
                } else {
                    format!(
                        "{} {} was already uploaded, identical.",
                        p.plugin, p.version
                    )
                }
            })
            .map_err(|e| e.to_string()),
    };
    signed.done(&state, outcome, PAGE).await
}

/// Adds a license file.
pub async fn license(State(state): State<AppState>, signed: Signed, form: Multipart) -> Response {
    let (csrf, file) = match csrf_and_file(form, "license").await {
        Ok(fields) => fields,
        Err(reason) => return signed.done(&state, Err(reason), PAGE).await,
    };
    if let Err(refused) = signed.check(&csrf) {
        return refused.into_response();
    }
    let outcome = match file.map(String::from_utf8) {
        None => Err("choose a license file".to_owned()),
        Some(Err(_)) => Err("a license file is text; this one is not UTF-8".to_owned()),
        Some(Ok(text)) => state
            .admin
            .add_license(&signed.session.actor(), &text)
            .await
            .map(|l| {
                format!(
                    "Added license {} for {} ({}), valid to {}.",
                    l.id, l.plugin, l.versions, l.expires
                )
            })
            .map_err(|e| e.to_string()),
    };
    signed.done(&state, outcome, PAGE).await
}

/// A lifecycle button's form.
#[derive(Deserialize)]
pub struct ActionForm {
    csrf: String,
    op: String,
    version: Option<String>,
}

/// Install, upgrade, roll back, enable, disable or uninstall.
pub async fn action(
    State(state): State<AppState>,
    signed: Signed,
    Path(plugin): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    if let Err(refused) = signed.check(&form.csrf) {
        return refused.into_response();
    }
    let admin = &state.admin;
    let actor = signed.session.actor();
    let version = match form.version.as_deref().map(Version::parse).transpose() {
        Ok(version) => version,
        Err(e) => {
            return signed
                .done(&state, Err(format!("version: {e}")), PAGE)
                .await;
        }
    };
    if matches!(form.op.as_str(), "install" | "upgrade" | "rollback") {
        return start_lifecycle(&state, &signed, plugin, form.op, version).await;
    }
    let outcome = match form.op.as_str() {
        "enable" => admin
            .enable(&actor, &plugin)
            .await
            .map(|()| format!("Enabled {plugin}.")),
        "disable" => admin
            .disable(&actor, &plugin)
            .await
            .map(|()| format!("Disabled {plugin}: its calls are refused until enabled.")),
        "uninstall" => admin
            .uninstall(&actor, &plugin, false)
            .await
            .map(|()| format!("Uninstalled {plugin}; its data is kept.")),
        other => {
            return signed
                .done(&state, Err(format!("unknown action `{other}`")), PAGE)
                .await;
        }
    };
    signed
        .done(&state, outcome.map_err(|e| e.to_string()), PAGE)
        .await
}

/// Starts an install, upgrade or roll-back in the background and sends
/// the browser to its progress page: the operation waits for running calls
/// under service mode, which can take a while.
async fn start_lifecycle(
    state: &AppState,
    signed: &Signed,
    plugin: String,
    op: String,
    version: Option<Version>,
) -> Response {
    // The progress page looks for the operation's audit entry after this.
    let newest = AuditFilter {
        limit: 1,
        ..AuditFilter::default()
    };
    let marks = async {
        Ok::<_, crate::admin::AdminError>((
            state.admin.audit_newest(&newest).await?,
            state.admin.service_mode().await?,
        ))
    }
    .await;
    let (mark, generation) = match marks {
        Ok((entries, mode)) => (entries.first().map_or(0, |e| e.id), mode.generation),
        Err(e) => return layout::failure(&e.to_string()),
    };
    let admin = state.admin.clone();
    let actor = signed.session.actor();
    let (task_plugin, task_op) = (plugin.clone(), op.clone());
    tokio::spawn(async move {
        let result = match task_op.as_str() {
            "install" => admin.install(&actor, &task_plugin, version).await,
            "upgrade" => admin.upgrade(&actor, &task_plugin, version, false).await,
            _ => admin.upgrade(&actor, &task_plugin, version, true).await,
        };
        // The audit log keeps the outcome for the page; the log says it too.
        match result {
            Ok(report) => {
                tracing::info!(plugin = %report.plugin, to = %report.to, op = %task_op, "console lifecycle operation done")
            }
            Err(e) => {
                tracing::warn!(plugin = %task_plugin, op = %task_op, error = %e, "console lifecycle operation refused")
            }
        }
    });
    Redirect::to(&format!(
        "/console/plugins/{plugin}/progress?op={op}&after={mark}&generation={generation}"
    ))
    .into_response()
}

/// The progress page's query.
#[derive(Deserialize)]
pub struct ProgressQuery {
    op: String,
    after: i64,
    /// Service mode's generation when the operation started: a greater one
    /// means it switched service mode on since.
    generation: i64,
}

/// How an install, upgrade or roll-back stands: service mode and the calls
/// it waits for while it runs (the page reloads itself every second), its
/// outcome from the audit log once it is done. Read from the database, so
/// any host process can answer it.
pub async fn progress(
    State(state): State<AppState>,
    signed: Signed,
    Path(plugin): Path<String>,
    Query(query): Query<ProgressQuery>,
) -> Response {
    let admin = &state.admin;
    let action = if query.op == "install" {
        "plugin.install"
    } else {
        "plugin.upgrade"
    };
    let filter = AuditFilter {
        action: Some(action.to_owned()),
        limit: 100,
        ..AuditFilter::default()
    };
    let loaded = async {
        Ok::<_, crate::admin::AdminError>((
            admin.audit_newest(&filter).await?,
            admin.service_mode().await?,
            admin.calls_in_flight().await?,
        ))
    }
    .await;
    let (entries, mode, in_flight) = match loaded {
        Ok(all) => all,
        Err(e) => return layout::failure(&e.to_string()),
    };
    let done = entries.iter().rev().find(|e| {
        e.id > query.after && (e.target == plugin || e.target.starts_with(&format!("{plugin} ")))
    });
    let title = format!("{} {plugin}", verb(&query.op));
    let running = done.is_none();
    let body = match done {
        Some(entry) if entry.outcome == "ok" => html! {
            div.flash.done role="status" id="outcome" { "Done: " (entry.detail) "." }
            @if mode.generation > query.generation && !mode.active {
                p #service-mode-cycle { "Service mode came and went: on while the new version was loaded, off now." }
            }
            p { a href=(PAGE) { "Back to the plugins" } }
        },
        Some(entry) => html! {
            div.flash.refused role="alert" id="outcome" { strong { "Refused: " } (entry.detail) }
            p { a href=(PAGE) { "Back to the plugins" } }
        },
        None => html! {
            p #progress role="status" {
                @if mode.active {
                    "Service mode is on (" (mode.reason) "); waiting for "
                    (in_flight) @if in_flight == 1 { " running call" } @else { " running calls" }
                    " to finish, then the new version is loaded and checked."
                } @else {
                    "Starting…"
                }
            }
            p.hint { "This page reloads every second until the operation is done." }
        },
    };
    if running {
        layout::render_reloading(&state, "Plugins", &title, &signed, body, 1).await
    } else {
        layout::render(&state, "Plugins", &title, &signed, body).await
    }
}

fn verb(op: &str) -> &'static str {
    match op {
        "install" => "Installing",
        "upgrade" => "Upgrading",
        _ => "Rolling back",
    }
}
