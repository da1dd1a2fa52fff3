//! ERP users: who the ERP acts for, the companies each may act for, and
//! the plugin permissions each holds.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout;
use super::session::Signed;
use crate::admin::ErpUserAccess;
use crate::api::AppState;

const PAGE: &str = "/console/users";

/// The users page.
pub async fn page(State(state): State<AppState>, signed: Signed) -> Response {
    let admin = &state.admin;
    let loaded = async {
        let mut users = Vec::new();
        for user in admin.erp_users().await? {
            let access = admin.erp_user_access(&user.id).await?;
            users.push((user, access));
        }
        Ok::<_, crate::admin::AdminError>(users)
    }
    .await;
    let users = match loaded {
        Ok(users) => users,
        Err(e) => return layout::failure(&e.to_string()),
    };
    let csrf = &signed.session.csrf;
    let body = html! {
        section aria-labelledby="users" {
            h2 #users { "ERP users" }
            @if users.is_empty() {
                p.empty { "No ERP user yet: ERP requests name the user they act for in X-H2H-User." }
            } @else {
                table {
                    thead { tr { th { "User" } th { "Companies" } th { "Permissions" } th { "State" } th { "" } } }
                    tbody {
                        @for (user, access) in &users {
                            tr data-user=(user.id) {
                                td { (user.id) br; span.hint { (user.display_name) } }
                                td { (access.companies.join(", ")) }
                                td { (permissions(access)) }
                                td { @if user.enabled { "enabled" } @else { "disabled" } }
                                td.actions {
                                    (user_action(&user.id, if user.enabled { "disable" } else { "enable" }, csrf))
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="add-user" {
            h2 #add-user { "Add a user" }
            form method="post" action="/console/users/add" {
                input type="hidden" name="csrf" value=(csrf);
                label for="user-id" { "Id (as the ERP sends it)" }
                input #user-id type="text" name="id" required;
                label for="user-name" { "Name" }
                input #user-name type="text" name="name" required;
                button type="submit" { "Add user" }
            }
        }
        section aria-labelledby="grant" {
            h2 #grant { "Grant" }
            form method="post" action="/console/users/grant" {
                input type="hidden" name="csrf" value=(csrf);
                label for="grant-user" { "User" }
                input #grant-user type="text" name="user" required;
                label for="grant-company" { "Company (acts for it)" }
                input #grant-company type="text" name="company";
                label for="grant-permission" { "or a plugin permission, as plugin/permission" }
                input #grant-permission type="text" name="permission" placeholder="privat24/sync-statements";
                button type="submit" { "Grant" }
            }
        }
    };
    layout::render(&state, "Users", "ERP users", &signed, body).await
}

fn permissions(access: &ErpUserAccess) -> String {
    access
        .permissions
        .iter()
        .map(|p| format!("{}/{}", p.plugin, p.permission))
        .collect::<Vec<_>>()
        .join(", ")
}

fn user_action(user: &str, op: &str, csrf: &str) -> Markup {
    html! {
        form.inline method="post" action="/console/users/state" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="user" value=(user);
            input type="hidden" name="op" value=(op);
            button type="submit" data-op=(op) { @if op == "disable" { "Disable" } @else { "Enable" } }
        }
    }
}

/// The add form.
#[derive(Deserialize)]
pub struct AddForm {
    csrf: String,
    id: String,
    name: String,
}

/// Adds an ERP user.
pub async fn add(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<AddForm>,
) -> Response {
    if let Err(refused) = signed.check(&form.csrf) {
        return refused.into_response();
    }
    let outcome = state
        .admin
        .add_erp_user(
            &signed.session.actor(),
            form.id.trim(),
            form.name.trim(),
            None,
        )
        .await
        .map(|u| format!("Added ERP user {}.", u.id))
        .map_err(|e| e.to_string());
    signed.done(&state, outcome, PAGE).await
}

/// The grant form: a company, or a permission, or both.
#[derive(Deserialize)]
pub struct GrantForm {
    csrf: String,
    user: String,
    company: Option<String>,
    permission: Option<String>,
}

/// Grants a company and/or a plugin permission.
pub async fn grant(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<GrantForm>,
) -> Response {
    if let Err(refused) = signed.check(&form.csrf) {
        return refused.into_response();
    }
    let actor = signed.session.actor();
    let user = form.user.trim();
    let mut said = Vec::new();
    if let Some(company) = form
        .company
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        if let Err(e) = state
            .admin
            .grant_company(&actor, user, company, false)
            .await
        {
            return signed.done(&state, Err(e.to_string()), PAGE).await;
        }
        said.push(format!("{user} acts for {company}"));
    }
    if let Some(permission) = form
        .permission
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let Some((plugin, name)) = permission.split_once('/') else {
            let refused = Err(format!(
                "`{permission}`: write a permission as plugin/permission"
            ));
            return signed.done(&state, refused, PAGE).await;
        };
        if let Err(e) = state
            .admin
            .grant_permission(&actor, user, plugin, name)
            .await
        {
            return signed.done(&state, Err(e.to_string()), PAGE).await;
        }
        said.push(format!("{user} holds {plugin}/{name}"));
    }
    let outcome = if said.is_empty() {
        Err("name a company or a permission to grant".to_owned())
    } else {
        Ok(format!("Granted: {}.", said.join("; ")))
    };
    signed.done(&state, outcome, PAGE).await
}

/// The enable/disable form.
#[derive(Deserialize)]
pub struct StateForm {
    csrf: String,
    user: String,
    op: String,
}

/// Enables or disables an ERP user.
pub async fn set_state(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<StateForm>,
) -> Response {
    if let Err(refused) = signed.check(&form.csrf) {
        return refused.into_response();
    }
    let enabled = form.op == "enable";
    let outcome = state
        .admin
        .set_erp_user_enabled(&signed.session.actor(), &form.user, enabled)
        .await
        .map(|u| {
            if u.enabled {
                format!("Enabled {}.", u.id)
            } else {
                format!("Disabled {}: the ERP can no longer act for them.", u.id)
            }
        })
        .map_err(|e| e.to_string());
    signed.done(&state, outcome, PAGE).await
}
