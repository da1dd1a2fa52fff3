//! Plugins: upload a package, add a license, install, upgrade, roll back,
//! enable, disable, uninstall; what is uploaded, installed and licensed.

use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use semver::Version;
use serde::Deserialize;

use super::layout;
use super::session::Signed;
use crate::admin::{Installed, LicenseInfo, PackageInfo};
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
    let outcome = match form.op.as_str() {
        "install" => admin.install(&actor, &plugin, version).await.map(|r| {
            format!(
                "Installed {} {}; service mode came and went.",
                r.plugin, r.to
            )
        }),
        "upgrade" => admin
            .upgrade(&actor, &plugin, version, false)
            .await
            .map(|r| format!("Upgraded {} to {}.", r.plugin, r.to)),
        "rollback" => admin
            .upgrade(&actor, &plugin, version, true)
            .await
            .map(|r| format!("Rolled {} back to {}.", r.plugin, r.to)),
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
