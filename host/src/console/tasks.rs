//! Scheduled tasks: their schedule, pause and resume, "run now" for a
//! company, and each task's history.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout;
use super::session::Signed;
use crate::admin::{Company, TaskInfo};
use crate::api::AppState;
use crate::scheduler::history;

const PAGE: &str = "/console/tasks";

/// Runs shown on a task's page.
const HISTORY: i64 = 50;

/// The tasks page.
pub async fn page(State(state): State<AppState>, signed: Signed) -> Response {
    let loaded = async {
        Ok::<_, crate::admin::AdminError>((
            state.admin.tasks().await?,
            state.admin.companies().await?,
        ))
    }
    .await;
    let (tasks, companies) = match loaded {
        Ok(all) => all,
        Err(e) => return layout::failure(&e.to_string()),
    };
    let csrf = &signed.session.csrf;
    let body = html! {
        section aria-labelledby="tasks" {
            h2 #tasks { "Tasks" }
            @if tasks.is_empty() {
                p.empty { "No installed plugin declares a task." }
            } @else {
                table {
                    thead { tr { th { "Task" } th { "Schedule" } th { "Next" } th { "State" } th { "Actions" } } }
                    tbody {
                        @for task in &tasks {
                            (task_row(task, &companies, csrf))
                        }
                    }
                }
            }
        }
    };
    layout::render(&state, "Tasks", "Tasks", &signed, body).await
}

fn task_path(task: &TaskInfo) -> String {
    format!("{PAGE}/{}/{}", task.plugin, task.task)
}

fn task_row(task: &TaskInfo, companies: &[Company], csrf: &str) -> Markup {
    let path = task_path(task);
    let field = format!("run-{}-{}", task.plugin, task.task);
    html! {
        tr data-task={ (task.plugin) "/" (task.task) } {
            td {
                a href=(path) { (task.plugin) "/" (task.task) }
                br;
                span.hint { (task.description) }
            }
            td { code { (task.cron) } @if task.cron != task.default_cron { " (default " code { (task.default_cron) } ")" } }
            td { (task.next_due.as_deref().unwrap_or("")) }
            td {
                @if task.running { "running" } @else if task.paused { "paused" } @else { "scheduled" }
            }
            td.actions {
                form.inline method="post" action={ (path) "/run" } {
                    input type="hidden" name="csrf" value=(csrf);
                    label.visually-hidden for=(field) { "Company" }
                    select id=(field) name="company" {
                        option value="" { "plugin-wide" }
                        @for company in companies {
                            option value=(company.id) { (company.id) }
                        }
                    }
                    button type="submit" data-op="run" { "Run now" }
                }
                form.inline method="post" action={ (path) "/pause" } {
                    input type="hidden" name="csrf" value=(csrf);
                    @if task.paused {
                        input type="hidden" name="paused" value="false";
                        button type="submit" data-op="resume" { "Resume" }
                    } @else {
                        input type="hidden" name="paused" value="true";
                        button type="submit" data-op="pause" { "Pause" }
                    }
                }
            }
        }
    }
}

/// One task's recent runs.
pub async fn runs(
    State(state): State<AppState>,
    signed: Signed,
    Path((plugin, task)): Path<(String, String)>,
) -> Response {
    let runs = match history::list(&state.db, &plugin, &task, HISTORY).await {
        Ok(runs) => runs,
        Err(e) => return layout::failure(&e.to_string()),
    };
    let body = html! {
        p { a href=(PAGE) { "All tasks" } }
        section aria-labelledby="history" {
            h2 #history { "Last runs" }
            @if runs.is_empty() {
                p.empty { "It has not run yet." }
            } @else {
                table {
                    thead { tr { th { "Run" } th { "Company" } th { "Trigger" } th { "Started" } th { "Finished" } th { "Outcome" } } }
                    tbody {
                        @for run in &runs {
                            tr data-run=(run.id) {
                                td { (run.id) }
                                td { (run.company.as_deref().unwrap_or("")) }
                                td { (run.trigger) }
                                td { (run.started_at) }
                                td { (run.finished_at.as_deref().unwrap_or("")) }
                                @if let Some(error) = &run.error {
                                    td.error { (run.outcome) ": " (error) }
                                } @else {
                                    td.ok { (run.outcome) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let title = format!("Task {plugin}/{task}");
    layout::render(&state, "Tasks", &title, &signed, body).await
}

/// The run form.
#[derive(Deserialize)]
pub struct RunForm {
    csrf: String,
    company: Option<String>,
}

/// Runs the task now and shows how the run ended on its history.
pub async fn run(
    State(state): State<AppState>,
    signed: Signed,
    Path((plugin, task)): Path<(String, String)>,
    Form(form): Form<RunForm>,
) -> Response {
    if let Err(refused) = signed.check(&form.csrf) {
        return refused.into_response();
    }
    let company = form.company.as_deref().filter(|c| !c.is_empty());
    let for_whom = company.map_or("plugin-wide".to_owned(), |c| format!("for {c}"));
    let outcome = match state.scheduler.run_now(&plugin, &task, company, None).await {
        Ok(run) => match run.error {
            None => Ok(format!(
                "Run {} of {plugin}/{task} {for_whom}: {}.",
                run.id, run.outcome
            )),
            Some(error) => Err(format!(
                "run {} of {plugin}/{task} {for_whom} ended with {}: {error}",
                run.id, run.outcome
            )),
        },
        Err(e) => Err(e.to_string()),
    };
    signed
        .done(&state, outcome, &format!("{PAGE}/{plugin}/{task}"))
        .await
}

/// The pause form.
#[derive(Deserialize)]
pub struct PauseForm {
    csrf: String,
    paused: bool,
}

/// Pauses or resumes the task's schedule.
pub async fn pause(
    State(state): State<AppState>,
    signed: Signed,
    Path((plugin, task)): Path<(String, String)>,
    Form(form): Form<PauseForm>,
) -> Response {
    if let Err(refused) = signed.check(&form.csrf) {
        return refused.into_response();
    }
    let outcome = state
        .admin
        .pause_task(&signed.session.actor(), &plugin, &task, form.paused)
        .await
        .map(|t| {
            if t.paused {
                format!("Paused {plugin}/{task}: it runs only when asked.")
            } else {
                format!("Resumed {plugin}/{task} on {}.", t.cron)
            }
        })
        .map_err(|e| e.to_string());
    signed.done(&state, outcome, PAGE).await
}
