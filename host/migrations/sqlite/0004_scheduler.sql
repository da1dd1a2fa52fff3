-- The scheduler. task_state holds, per task and company ('' for a
-- plugin-wide task), the next occurrence due and the run holding the task;
-- a process runs an occurrence only if its conditional UPDATE of this row
-- wins, so each occurrence runs once however many processes share the
-- database, and a task never overlaps itself.

CREATE TABLE task_state (
    plugin_id     TEXT NOT NULL,
    task          TEXT NOT NULL,
    company_id    TEXT NOT NULL,
    cron          TEXT NOT NULL,
    next_due      BIGINT NOT NULL,
    running_since BIGINT,
    running_owner TEXT,
    PRIMARY KEY (plugin_id, task, company_id)
);

-- trigger: schedule | manual; outcome: running | ok | error | abandoned.
CREATE TABLE task_runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    plugin_id     TEXT NOT NULL,
    task          TEXT NOT NULL,
    company_id    TEXT NOT NULL,
    trigger_kind  TEXT NOT NULL,
    scheduled_for BIGINT,
    started_at    BIGINT NOT NULL,
    finished_at   BIGINT,
    outcome       TEXT NOT NULL,
    error         TEXT,
    owner         TEXT NOT NULL
);
CREATE INDEX task_runs_by_task ON task_runs (plugin_id, task, id);
