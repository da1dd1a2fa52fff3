//! API keys: who may call the REST API and sign in here. A new key's
//! secret is shown once, on the answer to the form, and kept nowhere else.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::layout;
use super::session::Signed;
use crate::admin::Role;
use crate::api::AppState;

const PAGE: &str = "/console/keys";

/// The keys page.
pub async fn page(State(state): State<AppState>, signed: Signed) -> Response {
    let keys = match state.admin.api_keys().await {
        Ok(keys) => keys,
        Err(e) => return layout::failure(&e.to_string()),
    };
    let csrf = &signed.session.csrf;
    let own = &signed.session.key.name;
    let body = html! {
        section aria-labelledby="keys" {
            h2 #keys { "API keys" }
            table {
                thead { tr { th { "Name" } th { "Role" } th { "Acts for" } th { "Created" } th { "" } } }
                tbody {
                    @for key in &keys {
                        tr data-key=(key.name) {
                            td { (key.name) @if &key.name == own { " (this session's)" } }
                            td { (key.role.as_str()) }
                            td { (key.acts_for.as_ref().map_or("any ERP user".to_owned(), |u| u.join(", "))) }
                            td { (key.created_at) " by " (key.created_by) }
                            td.actions {
                                form.inline method="post" action="/console/keys/revoke" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="name" value=(key.name);
                                    button type="submit" data-op="revoke" { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="new-key" {
            h2 #new-key { "Create a key" }
            form method="post" action=(PAGE) {
                input type="hidden" name="csrf" value=(csrf);
                label for="key-name" { "Name" }
                input #key-name type="text" name="name" required;
                label for="key-role" { "Role" }
                select #key-role name="role" {
                    option value="erp" { "erp: the ERP API" }
                    option value="admin" { "admin: the admin API, /metrics and this console" }
                }
                button type="submit" { "Create key" }
            }
        }
    };
    layout::render(&state, "Keys", "API keys", &signed, body).await
}

/// The create form.
#[derive(Deserialize)]
pub struct CreateForm {
    csrf: String,
    name: String,
    role: String,
}

/// Creates a key and shows its secret, this once.
pub async fn create(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<CreateForm>,
) -> Response {
    if let Err(refused) = signed.check(&form.csrf) {
        return refused.into_response();
    }
    let Some(role) = Role::parse(&form.role) else {
        let refused = Err(format!("unknown role `{}` (erp or admin)", form.role));
        return signed.done(&state, refused, PAGE).await;
    };
    let created = match state
        .admin
        .create_api_key(&signed.session.actor(), form.name.trim(), role)
        .await
    {
        Ok(created) => created,
        Err(e) => return signed.done(&state, Err(e.to_string()), PAGE).await,
    };
    let body = html! {
        div.flash.done role="status" id="flash" {
            "Created " (role.as_str()) " key " strong { (created.key.name) } "."
        }
        section aria-labelledby="secret" {
            h2 #secret { "Its secret, shown this once" }
            p { "Copy it now: the host keeps only its SHA-256, so it cannot show it again." }
            p { code #key-secret { (created.secret) } }
            p { a href=(PAGE) { "Back to the keys" } }
        }
    };
    layout::render(&state, "Keys", "API keys", &signed, body).await
}

/// The revoke form.
#[derive(Deserialize)]
pub struct RevokeForm {
    csrf: String,
    name: String,
}

/// Revokes a key: its API calls and console sessions end.
pub async fn revoke(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<RevokeForm>,
) -> Response {
    if let Err(refused) = signed.check(&form.csrf) {
        return refused.into_response();
    }
    let outcome = state
        .admin
        .revoke_api_key(&signed.session.actor(), &form.name)
        .await
        .map(|key| {
            format!(
                "Revoked {}: its calls and console sessions end now.",
                key.name
            )
        })
        .map_err(|e| e.to_string());
    signed.done(&state, outcome, PAGE).await
}
