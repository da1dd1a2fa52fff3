//! Card terminals of a company and its recent card payments, each with
//! its result and the provider's full answer.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;

use super::layout;
use super::session::Signed;
use crate::api::AppState;

/// Payments a page shows.
const SHOWN: i64 = 50;

/// The terminals page.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Query(which): Query<layout::CompanyQuery>,
) -> Response {
    let companies = match state.admin.companies().await {
        Ok(companies) => companies,
        Err(e) => return layout::failure(&e.to_string()),
    };
    let chosen = which
        .company
        .filter(|c| !c.is_empty())
        .or_else(|| companies.first().map(|c| c.id.clone()));
    let loaded = match &chosen {
        None => Ok((Vec::new(), Vec::new())),
        Some(company) => {
            async {
                Ok::<_, crate::terminals::TerminalError>((
                    state.terminals.list(company).await?,
                    state.terminals.newest_intents(company, SHOWN).await?,
                ))
            }
            .await
        }
    };
    let (terminals, intents) = match loaded {
        Ok(all) => all,
        Err(e) => return layout::failure(&e.to_string()),
    };
    let body = html! {
        form.filters method="get" action="/console/terminals" {
            label for="terminals-company" { "Company" }
            select #terminals-company name="company" {
                @for company in &companies {
                    option value=(company.id) selected[chosen.as_deref() == Some(company.id.as_str())] { (company.id) }
                }
            }
            button type="submit" { "Show" }
        }
        section aria-labelledby="terminals" {
            h2 #terminals { "Terminals" }
            @if terminals.is_empty() {
                p.empty { "No terminal is paired: the ERP pairs one with the code its device shows (POST /erp/v1/terminals/pair)." }
            } @else {
                table {
                    thead { tr { th { "#" } th { "Name" } th { "Provider" } th { "Terminal id" } th { "Model" } } }
                    tbody {
                        @for terminal in &terminals {
                            tr data-terminal=(terminal.id) {
                                td { (terminal.id) }
                                td { (terminal.name) }
                                td { (terminal.plugin) }
                                td { (terminal.terminal_id) }
                                td { (terminal.model.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="payments" {
            h2 #payments { "Recent card payments" }
            @if intents.is_empty() {
                p.empty { "None yet." }
            } @else {
                table {
                    thead { tr { th { "#" } th { "Terminal" } th { "Kind" } th { "Amount" } th { "State" } th { "Result" } th { "Provider's answer" } } }
                    tbody {
                        @for intent in &intents {
                            tr data-intent=(intent.id) {
                                td { (intent.id) br; span.hint { (intent.created_at) } }
                                td { (intent.terminal) }
                                td { (intent.kind) }
                                td { (intent.amount) " " (intent.currency) }
                                td { (intent.state) @if let Some(status) = &intent.status { br; span.hint { (status) } } }
                                td {
                                    (intent.result.as_deref().unwrap_or(""))
                                    @if let Some(error) = &intent.last_error { br; span.hint { (error) } }
                                }
                                td {
                                    @if let Some(payment) = &intent.payment {
                                        details {
                                            summary { "show" }
                                            pre { (serde_json::to_string_pretty(payment).unwrap_or_default()) }
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
    layout::render(&state, "Terminals", "Terminals", &signed, body).await
}
