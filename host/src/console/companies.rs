//! Companies, and each one's settings per installed plugin. Secrets are
//! write-only: the page says whether one is set and offers to replace it,
//! never shows it.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout;
use super::session::Signed;
use crate::admin::{Company, SettingValue};
use crate::api::AppState;

const PAGE: &str = "/console/companies";

/// The companies page.
pub async fn page(State(state): State<AppState>, signed: Signed) -> Response {
    let companies = match state.admin.companies().await {
        Ok(companies) => companies,
        Err(e) => return layout::failure(&e.to_string()),
    };
    let csrf = &signed.session.csrf;
    let body = html! {
        section aria-labelledby="companies" {
            h2 #companies { "Companies" }
            @if companies.is_empty() {
                p.empty { "No company yet." }
            } @else {
                table {
                    thead { tr { th { "Id" } th { "Name" } th { "Head office" } th { "Added" } } }
                    tbody {
                        @for company in &companies {
                            tr data-company=(company.id) {
                                td { a href={ "/console/companies/" (company.id) } { (company.id) } }
                                td { (company.name) }
                                td { (company.parent.as_deref().unwrap_or("")) }
                                td { (company.created_at) }
                            }
                        }
                    }
                }
            }
        }
        (add_form(&companies, csrf))
    };
    layout::render(&state, "Companies", "Companies", &signed, body).await
}

fn add_form(companies: &[Company], csrf: &str) -> Markup {
    html! {
        section aria-labelledby="add-company" {
            h2 #add-company { "Add a company" }
            form method="post" action=(PAGE) {
                input type="hidden" name="csrf" value=(csrf);
                label for="company-id" { "Id (as the ERP names it)" }
                input #company-id type="text" name="id" required pattern="[A-Za-z0-9._-]{1,64}";
                label for="company-name" { "Name" }
                input #company-name type="text" name="name" required;
                label for="company-parent" { "Head office (for a branch)" }
                select #company-parent name="parent" {
                    option value="" { "none: a head office" }
                    @for company in companies {
                        option value=(company.id) { (company.id) " · " (company.name) }
                    }
                }
                button type="submit" { "Add company" }
            }
        }
    }
}

/// The add form.
#[derive(Deserialize)]
pub struct AddForm {
    csrf: String,
    id: String,
    name: String,
    parent: Option<String>,
}

/// Adds a company.
pub async fn add(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<AddForm>,
) -> Response {
    if let Err(refused) = signed.check(&form.csrf) {
        return refused.into_response();
    }
    let parent = form.parent.as_deref().filter(|p| !p.is_empty());
    let outcome = state
        .admin
        .add_company(
            &signed.session.actor(),
            form.id.trim(),
            form.name.trim(),
            parent,
        )
        .await
        .map(|c| format!("Added company {} ({}).", c.id, c.name))
        .map_err(|e| e.to_string());
    signed.done(&state, outcome, PAGE).await
}

/// One company: its settings for every installed plugin.
pub async fn company(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let admin = &state.admin;
    let loaded = async {
        let company = admin.companies().await?.into_iter().find(|c| c.id == id);
        let mut plugins = Vec::new();
        for installed in admin.installed().await? {
            let settings = admin.settings(&id, &installed.plugin).await?;
            let identities = admin.tls_identities(&id, &installed.plugin).await?;
            plugins.push((installed.plugin, settings, identities));
        }
        Ok::<_, crate::admin::AdminError>((company, plugins))
    }
    .await;
    let (company, plugins) = match loaded {
        Ok((Some(company), plugins)) => (company, plugins),
        Ok((None, _)) => return layout::not_found().await,
        Err(e) => return layout::failure(&e.to_string()),
    };
    let csrf = &signed.session.csrf;
    let body = html! {
        p { (company.name) @if let Some(parent) = &company.parent { " · branch of " (parent) } }
        @if plugins.is_empty() {
            p.empty { "No plugin is installed, so there is nothing to set." }
        }
        @for (plugin, settings, identities) in &plugins {
            (plugin_settings(&company.id, plugin, settings, csrf))
            @if !identities.is_empty() {
                section aria-labelledby={ "identities-" (plugin) } {
                    h2 id={ "identities-" (plugin) } { (plugin) " client TLS identities" }
                    table {
                        thead { tr { th { "Name" } th { "Sealed" } th { "" } } }
                        tbody {
                            @for identity in identities {
                                tr data-identity=(identity.name) {
                                    td { code { (identity.name) } }
                                    td { (identity.updated_at) " by " (identity.updated_by) }
                                    td.actions {
                                        form.inline method="post" action={ "/console/companies/" (company.id) "/identities" } {
                                            input type="hidden" name="csrf" value=(csrf);
                                            input type="hidden" name="plugin" value=(plugin);
                                            input type="hidden" name="name" value=(identity.name);
                                            button type="submit" data-op="unset" { "Remove" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    p.hint { "Add or replace one on the " a href="/console/access#identities" { "access page" } "." }
                }
            }
        }
    };
    let title = format!("Company {}", company.id);
    layout::render(&state, "Companies", &title, &signed, body).await
}

fn plugin_settings(company: &str, plugin: &str, settings: &[SettingValue], csrf: &str) -> Markup {
    html! {
        section aria-labelledby={ "settings-" (plugin) } data-plugin=(plugin) {
            h2 id={ "settings-" (plugin) } { (plugin) " settings" }
            @if settings.is_empty() {
                p.empty { (plugin) " declares no settings." }
            } @else {
                table {
                    thead { tr { th { "Setting" } th { "Kind" } th { "Value" } th { "Set it" } } }
                    tbody {
                        @for setting in settings {
                            tr data-setting=(setting.name) {
                                td {
                                    code { (setting.name) }
                                    @if setting.required { " (required)" }
                                    br;
                                    span.hint { (setting.description) }
                                }
                                td { (setting.kind) }
                                td {
                                    @if setting.kind == "secret" {
                                        @if setting.set { "set (never shown)" } @else { "not set" }
                                    } @else {
                                        @match &setting.value {
                                            Some(value) => code { (value) },
                                            None => "not set",
                                        }
                                    }
                                }
                                td { (setting_form(company, plugin, setting, csrf)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn setting_form(company: &str, plugin: &str, setting: &SettingValue, csrf: &str) -> Markup {
    let secret = setting.kind == "secret";
    let field = format!("{plugin}-{}", setting.name);
    html! {
        form.inline method="post" action={ "/console/companies/" (company) "/settings" } {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="plugin" value=(plugin);
            input type="hidden" name="name" value=(setting.name);
            label.visually-hidden for=(field) { (setting.name) }
            @if secret {
                input id=(field) type="password" name="value" autocomplete="off" required;
            } @else {
                input id=(field) type="text" name="value" value=[setting.value.as_deref()] required;
            }
            button type="submit" name="op" value="set" {
                @if secret && setting.set { "Replace" } @else { "Set" }
            }
        }
        @if setting.set {
            form.inline method="post" action={ "/console/companies/" (company) "/settings" } {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="plugin" value=(plugin);
                input type="hidden" name="name" value=(setting.name);
                button type="submit" name="op" value="unset" data-op="unset" { "Remove" }
            }
        }
    }
}

/// A setting's form.
#[derive(Deserialize)]
pub struct SettingForm {
    csrf: String,
    plugin: String,
    name: String,
    op: String,
    value: Option<String>,
}

/// Sets or removes one setting.
pub async fn setting(
    State(state): State<AppState>,
    signed: Signed,
    Path(company): Path<String>,
    Form(form): Form<SettingForm>,
) -> Response {
    if let Err(refused) = signed.check(&form.csrf) {
        return refused.into_response();
    }
    let actor = signed.session.actor();
    let (plugin, name) = (&form.plugin, &form.name);
    let outcome = match (form.op.as_str(), form.value.as_deref()) {
        ("set", Some(value)) => state
            .admin
            .set_setting(&actor, &company, plugin, name, value)
            .await
            .map(|()| format!("Set {plugin} `{name}` for {company}.")),
        ("unset", _) => state
            .admin
            .unset_setting(&actor, &company, plugin, name)
            .await
            .map(|_| format!("Removed {plugin} `{name}` for {company}.")),
        _ => {
            let refused = Err("a setting form must say set (with a value) or unset".to_owned());
            return signed
                .done(&state, refused, &format!("{PAGE}/{company}"))
                .await;
        }
    };
    let back = format!("{PAGE}/{company}");
    signed
        .done(&state, outcome.map_err(|e| e.to_string()), &back)
        .await
}

/// An identity's remove button.
#[derive(Deserialize)]
pub struct IdentityForm {
    csrf: String,
    plugin: String,
    name: String,
}

/// Removes a sealed client TLS identity.
pub async fn remove_identity(
    State(state): State<AppState>,
    signed: Signed,
    Path(company): Path<String>,
    Form(form): Form<IdentityForm>,
) -> Response {
    if let Err(refused) = signed.check(&form.csrf) {
        return refused.into_response();
    }
    let (plugin, name) = (&form.plugin, &form.name);
    let outcome = match state
        .admin
        .remove_tls_identity(&signed.session.actor(), &company, plugin, name)
        .await
    {
        Ok(true) => Ok(format!(
            "Removed TLS identity `{name}` of {plugin} at {company}."
        )),
        Ok(false) => Err(format!("no TLS identity `{name}` of {plugin} at {company}")),
        Err(e) => Err(e.to_string()),
    };
    signed
        .done(&state, outcome, &format!("{PAGE}/{company}"))
        .await
}
