//! The audit log, newest first, filtered by actor and action.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::layout;
use super::session::Signed;
use crate::admin::AuditFilter;
use crate::api::AppState;

/// Entries a page shows.
const PAGE_SIZE: i64 = 100;

/// The filters, from the query string.
#[derive(Debug, Deserialize)]
pub struct Filters {
    actor: Option<String>,
    action: Option<String>,
    before: Option<i64>,
}

/// The audit page.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Query(filters): Query<Filters>,
) -> Response {
    let filter = AuditFilter {
        actor: filters.actor.clone().filter(|a| !a.is_empty()),
        action: filters.action.clone().filter(|a| !a.is_empty()),
        before: filters.before,
        limit: PAGE_SIZE,
    };
    let entries = match state.admin.audit_newest(&filter).await {
        Ok(entries) => entries,
        Err(e) => return layout::failure(&e.to_string()),
    };
    let older = (entries.len() as i64 == PAGE_SIZE)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    let actor = filter.actor.as_deref().unwrap_or("");
    let action = filter.action.as_deref().unwrap_or("");
    let body = html! {
        form.filters method="get" action="/console/audit" {
            label for="audit-actor" { "Actor" }
            input #audit-actor type="text" name="actor" value=(actor) placeholder="api:ops";
            label for="audit-action" { "Action starts with" }
            input #audit-action type="text" name="action" value=(action) placeholder="plugin.";
            button type="submit" { "Filter" }
        }
        section aria-labelledby="entries" {
            h2 #entries { "Entries" }
            @if entries.is_empty() {
                p.empty { "Nothing matches." }
            } @else {
                table {
                    thead { tr { th { "#" } th { "At" } th { "Actor" } th { "Action" } th { "Target" } th { "Outcome" } th { "Detail" } } }
                    tbody {
                        @for entry in &entries {
                            tr data-entry=(entry.id) {
                                td { (entry.id) }
                                td { (entry.at) }
                                td { (entry.actor) }
                                td { code { (entry.action) } }
                                td { (entry.target) }
                                @if entry.outcome == "ok" { td.ok { (entry.outcome) } } @else { td.error { (entry.outcome) } }
                                td { (entry.detail) }
                            }
                        }
                    }
                }
                @if let Some(before) = older {
                    p { a href={ "/console/audit?actor=" (actor) "&action=" (action) "&before=" (before) } { "Older entries" } }
                }
            }
        }
    };
    layout::render(&state, "Audit", "Audit log", &signed, body).await
}
