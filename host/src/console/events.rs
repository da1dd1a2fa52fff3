//! The events feed, newest first, as the ERP and the webhooks receive it.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;

use super::layout;
use super::session::Signed;
use crate::api::AppState;
use crate::settlements::Settlements;

/// Events a page shows.
const SHOWN: i64 = 100;

/// The events page.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Query(which): Query<layout::CompanyQuery>,
) -> Response {
    let company = which.company.filter(|c| !c.is_empty());
    let events = match Settlements::new(state.db.clone())
        .newest_events(SHOWN, company.as_deref())
        .await
    {
        Ok(events) => events,
        Err(e) => return layout::failure(&e.to_string()),
    };
    let body = html! {
        form.filters method="get" action="/console/events" {
            label for="events-company" { "Company" }
            input #events-company type="text" name="company" value=[company.as_deref()] placeholder="every company";
            button type="submit" { "Show" }
        }
        section aria-labelledby="feed" {
            h2 #feed { "Newest events" }
            @if events.is_empty() {
                p.empty { "No event yet." }
            } @else {
                table {
                    thead { tr { th { "#" } th { "At" } th { "Company" } th { "Kind" } th { "Payload" } } }
                    tbody {
                        @for event in &events {
                            tr data-event=(event.id) {
                                td { (event.id) }
                                td { (event.at) }
                                td { (event.company) }
                                td { code { (event.kind) } }
                                td { details { summary { "show" } pre { (serde_json::to_string_pretty(&event.payload).unwrap_or_default()) } } }
                            }
                        }
                    }
                }
            }
        }
    };
    layout::render(&state, "Events", "Events", &signed, body).await
}
