//! `h2h task`: scheduled tasks: list, change the cron, pause, resume, run
//! now, history.

use clap::Subcommand;
use h2h_host::scheduler;
use h2h_host::serve::Host;

use super::actor;
use crate::output::{Output, table};

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// Lists the installed plugins' tasks.
    List,
    /// Sets a task's cron (5 fields, or 6 with seconds first; UTC).
    Set {
        /// `<plugin>/<task>`.
        task: String,
        /// The new cron expression.
        #[arg(long, conflicts_with = "default")]
        cron: Option<String>,
        /// Restore the manifest's default.
        #[arg(long)]
        default: bool,
    },
    /// Stops a task from running on schedule.
    Pause {
        /// `<plugin>/<task>`.
        task: String,
    },
    /// Lets a paused task run on schedule again.
    Resume {
        /// `<plugin>/<task>`.
        task: String,
    },
    /// Runs a task now, in this process, and prints how it ended.
    Run {
        /// `<plugin>/<task>`.
        task: String,
        /// The company to run it for (plugin-wide if omitted).
        #[arg(long)]
        company: Option<String>,
    },
    /// The latest runs of a task.
    History {
        /// `<plugin>/<task>`.
        task: String,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

fn split(task: &str) -> anyhow::Result<(&str, &str)> {
    task.split_once('/')
        .filter(|(p, t)| !p.is_empty() && !t.is_empty())
        .ok_or_else(|| anyhow::anyhow!("name the task as <plugin>/<task>, not `{task}`"))
}

pub async fn run(host: &Host, command: &TaskCommand, out: Output) -> anyhow::Result<()> {
    let show = |info: &h2h_host::admin::TaskInfo| {
        format!(
            "{}/{}: cron `{}`{}",
            info.plugin,
            info.task,
            info.cron,
            if info.paused { ", paused" } else { "" }
        )
    };
    match command {
        TaskCommand::List => {
            let tasks = host.admin.tasks().await?;
            out.show(&tasks, |list| {
                table(
                    &["TASK", "CRON", "DEFAULT", "STATE", "NEXT DUE (UTC)"],
                    list.iter()
                        .map(|t| {
                            let state = match (t.paused, t.running) {
                                (true, _) => "paused",
                                (false, true) => "running",
                                (false, false) => "scheduled",
                            };
                            vec![
                                format!("{}/{}", t.plugin, t.task),
                                t.cron.clone(),
                                t.default_cron.clone(),
                                state.to_owned(),
                                t.next_due.clone().unwrap_or_else(|| "-".to_owned()),
                            ]
                        })
                        .collect(),
                )
            })
        }
        TaskCommand::Set {
            task,
            cron,
            default,
        } => {
            let (plugin, name) = split(task)?;
            if cron.is_none() && !default {
                anyhow::bail!("give --cron EXPR or --default");
            }
            let info = host
                .admin
                .set_task_cron(&actor(), plugin, name, cron.as_deref())
                .await?;
            out.show(&info, show)
        }
        TaskCommand::Pause { task } | TaskCommand::Resume { task } => {
            let (plugin, name) = split(task)?;
            let paused = matches!(command, TaskCommand::Pause { .. });
            let info = host
                .admin
                .pause_task(&actor(), plugin, name, paused)
                .await?;
            out.show(&info, show)
        }
        TaskCommand::Run { task, company } => {
            let (plugin, name) = split(task)?;
            let owner = format!("cli-{}", std::process::id());
            let scheduler = host.scheduler(
                host.connectors(),
                None,
                owner,
                host.runtime.limits().deadline + std::time::Duration::from_secs(30),
            );
            let run = scheduler
                .run_now(plugin, name, company.as_deref(), None)
                .await?;
            out.show(&run, |r| match &r.error {
                None => format!("{task}: ok"),
                Some(error) => format!("{task}: failed: {error}"),
            })?;
            if run.error.is_some() {
                std::process::exit(1);
            }
            Ok(())
        }
        TaskCommand::History { task, limit } => {
            let (plugin, name) = split(task)?;
            let runs = scheduler::history::list(&host.db, plugin, name, *limit).await?;
            out.show(&runs, |list| {
                table(
                    &[
                        "ID", "COMPANY", "TRIGGER", "STARTED", "FINISHED", "OUTCOME", "ERROR",
                    ],
                    list.iter()
                        .map(|r| {
                            vec![
                                r.id.to_string(),
                                r.company.clone().unwrap_or_else(|| "-".to_owned()),
                                r.trigger.clone(),
                                r.started_at.clone(),
                                r.finished_at.clone().unwrap_or_default(),
                                r.outcome.clone(),
                                r.error.clone().unwrap_or_default(),
                            ]
                        })
                        .collect(),
                )
            })
        }
    }
}
