//! Bank sessions: state and expiry, refresh now, close.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::layout;
use super::session::Signed;
use crate::api::AppState;
use crate::db::format_millis;

const PAGE: &str = "/console/sessions";

/// Sessions a page shows.
const SHOWN: i64 = 200;

/// An enum as its wire word (`active`, `mobile-confirmation`).
pub fn word<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(word)) => word,
        Ok(other) => other.to_string(),
        Err(_) => "?".to_owned(),
    }
}

/// The bank sessions page.
pub async fn page(State(state): State<AppState>, signed: Signed) -> Response {
    let sessions = match state.sessions.list(None, SHOWN).await {
        Ok(sessions) => sessions,
        Err(e) => return layout::failure(&e.to_string()),
    };
    let csrf = &signed.session.csrf;
    let body = html! {
        section aria-labelledby="bank-sessions" {
            h2 #bank-sessions { "Bank sessions" }
            @if sessions.is_empty() {
                p.empty { "No bank session yet: ERP users open them (POST /erp/v1/bank-sessions)." }
            } @else {
                table {
                    thead { tr { th { "#" } th { "Bank" } th { "Company" } th { "Bank user" } th { "Login" } th { "State" } th { "Expires" } th { "Last word" } th { "" } } }
                    tbody {
                        @for session in &sessions {
                            tr data-session=(session.id) {
                                td { (session.id) }
                                td { (session.plugin) }
                                td { (session.company) }
                                td { (session.bank_user_id) }
                                td { (word(&session.login_method)) }
                                td { (word(&session.state)) @if session.refresh_by_bot { br; span.hint { "kept alive by the bot" } } }
                                td { (session.expires_at.map(format_millis).unwrap_or_default()) }
                                td { (session.message.as_deref().unwrap_or("")) }
                                td.actions {
                                    @for (op, label) in [("refresh", "Refresh now"), ("close", "Close")] {
                                        form.inline method="post" action="/console/sessions/action" {
                                            input type="hidden" name="csrf" value=(csrf);
                                            input type="hidden" name="id" value=(session.id);
                                            input type="hidden" name="op" value=(op);
                                            button type="submit" data-op=(op) { (label) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    layout::render(&state, "Sessions", "Bank sessions", &signed, body).await
}

/// A session's button.
#[derive(Deserialize)]
pub struct ActionForm {
    csrf: String,
    id: i64,
    op: String,
}

/// Refreshes or closes a session.
pub async fn action(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<ActionForm>,
) -> Response {
    if let Err(refused) = signed.check(&form.csrf) {
        return refused.into_response();
    }
    let sessions = &state.sessions;
    let connectors = &state.connectors;
    let outcome = match form.op.as_str() {
        "refresh" => sessions
            .refresh(connectors, form.id, None)
            .await
            .map(|s| format!("Session {} refreshed: {}.", s.id, word(&s.state))),
        "close" => sessions
            .close(connectors, &signed.session.actor(), form.id)
            .await
            .map(|s| format!("Session {} closed.", s.id)),
        other => {
            let refused = Err(format!("unknown action `{other}`"));
            return signed.done(&state, refused, PAGE).await;
        }
    };
    signed
        .done(&state, outcome.map_err(|e| e.to_string()), PAGE)
        .await
}
