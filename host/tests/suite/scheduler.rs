//! The scheduler and company settings through a real plugin (`ticker`):
//! occurrences run once, missed ones once, never overlapping, paused and
//! service-mode tasks wait, failures are recorded, settings and secrets
//! reach only their company, and two host processes on one database run
//! each occurrence exactly once. On SQLite and on PostgreSQL.

use crate::admin;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::admin::Fixture;
use h2h_host::db::testing::TestBackend;
use h2h_host::scheduler::{Scheduler, SchedulerError, TaskRun};
use h2h_test_plugins::TICKER;
use serde_json::Value;
use sqlx::Row;

const HOUR: i64 = 3_600_000;

/// The ticker manifest with `tasks` (`name cron` pairs) and, if `settings`,
/// the settings context-id, retries and the secret token.
fn ticker_manifest(tasks: &[(&str, &str)], settings: bool) -> String {
    let mut extra = String::new();
    for (name, cron) in tasks {
        extra.push_str(&format!(
            "[[tasks]]\nname = \"{name}\"\ncron = \"{cron}\"\ndescription = \"Test task.\"\n\n"
        ));
    }
    if settings {
        extra.push_str(
            "[[settings]]\nname = \"context-id\"\ntype = \"string\"\ndescription = \"PKO ContextId.\"\nrequired = true\n\n\
             [[settings]]\nname = \"retries\"\ntype = \"integer\"\ndescription = \"Retries.\"\n\n\
             [[settings]]\nname = \"token\"\ntype = \"secret\"\ndescription = \"API token.\"\n",
        );
    }
    admin::manifest("ticker", "1.0.0", &extra)
}

async fn install_ticker(fx: &Fixture, tasks: &[(&str, &str)], settings: bool) {
    fx.install_with("ticker", &ticker_manifest(tasks, settings), TICKER)
        .await;
}

fn scheduler(fx: &Fixture, owner: &str) -> Scheduler {
    fx.scheduler(owner)
}

/// A value the plugin stored, as JSON.
async fn stored(fx: &Fixture, company: &str, key: &str) -> Option<Value> {
    fx.stored_for("ticker", company, key).await
}

async fn count(fx: &Fixture, company: &str, key: &str) -> u64 {
    stored(fx, company, key)
        .await
        .map_or(0, |v| v.as_u64().expect("number"))
}

async fn tick_and_wait(scheduler: &Scheduler, now: i64) -> usize {
    let runs = scheduler.tick(now).await.expect("tick");
    let started = runs.len();
    for run in runs {
        run.await.expect("run");
    }
    started
}

async fn history(fx: &Fixture, task: &str) -> Vec<TaskRun> {
    h2h_host::scheduler::history::list(&fx.host.db, "ticker", task, 1000)
        .await
        .expect("history")
}

async fn occurrences_run_once_and_missed_ones_once(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    install_ticker(&fx, &[("tick", "0 * * * *")], false).await;
    let scheduler = scheduler(&fx, "one");
    let start = 1_800_000_000_000 + 10 * 60_000; // 10 minutes past an hour

    // First sight: the next occurrence is at the top of the next hour.
    assert_eq!(tick_and_wait(&scheduler, start).await, 0);
    assert_eq!(tick_and_wait(&scheduler, start + 40 * 60_000).await, 0);
    // Due: runs once; a second tick in the same hour runs nothing.
    assert_eq!(tick_and_wait(&scheduler, start + HOUR).await, 1);
    assert_eq!(tick_and_wait(&scheduler, start + HOUR + 1000).await, 0);
    // Five hours of downtime: the missed occurrences run once, not five times.
    assert_eq!(tick_and_wait(&scheduler, start + 6 * HOUR).await, 1);
    assert_eq!(tick_and_wait(&scheduler, start + 6 * HOUR + 5000).await, 0);

    assert_eq!(count(&fx, "", "ticks").await, 2);
    let runs = history(&fx, "tick").await;
    assert_eq!(runs.len(), 2);
    assert!(
        runs.iter()
            .all(|r| r.outcome == "ok" && r.trigger == "schedule")
    );
    assert_eq!(
        runs[1].scheduled_for.as_deref(),
        Some("2027-01-15T09:00:00.000Z"),
        "{runs:?}"
    );
    assert_eq!(
        runs[0].scheduled_for.as_deref(),
        Some("2027-01-15T10:00:00.000Z")
    );
    fx.finish().await;
}

async fn paused_tasks_and_service_mode_run_nothing(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    install_ticker(&fx, &[("tick", "* * * * *")], false).await;
    let scheduler = scheduler(&fx, "one");
    let start = 1_800_000_000_000;
    tick_and_wait(&scheduler, start).await;

    fx.host
        .admin
        .pause_task(&fx.actor, "ticker", "tick", true)
        .await
        .expect("pause");
    assert_eq!(tick_and_wait(&scheduler, start + HOUR).await, 0);
    fx.host
        .admin
        .pause_task(&fx.actor, "ticker", "tick", false)
        .await
        .expect("resume");

    fx.host
        .admin
        .service_mode_on(&fx.actor, "maintenance")
        .await
        .expect("on");
    assert_eq!(tick_and_wait(&scheduler, start + HOUR).await, 0);
    let refused = scheduler
        .run_now("ticker", "tick", None, None)
        .await
        .expect_err("service mode");
    assert!(matches!(refused, SchedulerError::ServiceMode), "{refused}");
    fx.host
        .admin
        .service_mode_off(&fx.actor)
        .await
        .expect("off");

    // What waited runs once when the host is back.
    assert_eq!(tick_and_wait(&scheduler, start + HOUR).await, 1);
    assert_eq!(count(&fx, "", "ticks").await, 1);
    let actions: Vec<String> = fx
        .host
        .admin
        .audit(0, 100)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.contains(&"task.pause".to_owned()), "{actions:?}");
    assert!(actions.contains(&"task.resume".to_owned()), "{actions:?}");
    fx.finish().await;
}

async fn a_task_never_overlaps_itself(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    install_ticker(&fx, &[("slow", "* * * * * *")], false).await;
    let one = scheduler(&fx, "one");
    let two = scheduler(&fx, "two");
    let start = 1_800_000_000_000;
    assert_eq!(tick_and_wait(&one, start).await, 0);

    // One process starts the 1.2 s run; the next occurrences come while it
    // runs, in both processes: neither starts another.
    let running = one.tick(start + 1000).await.expect("tick");
    assert_eq!(running.len(), 1);
    for second in 2..=4 {
        let now = start + second * 1000;
        assert!(
            two.tick(now).await.expect("tick").is_empty(),
            "second {second}"
        );
        assert!(
            one.tick(now).await.expect("tick").is_empty(),
            "second {second}"
        );
    }
    let refused = two
        .run_now("ticker", "slow", None, None)
        .await
        .expect_err("overlap");
    assert_eq!(
        refused.to_string(),
        "ticker/slow is already running; a task never overlaps itself"
    );
    for run in running {
        run.await.expect("run");
    }
    // The occurrence that waited runs once, after.
    assert_eq!(tick_and_wait(&two, start + 5000).await, 1);
    assert_eq!(count(&fx, "", "slow-runs").await, 2);
    assert_eq!(count(&fx, "", "overlaps").await, 0);
    fx.finish().await;
}

async fn failures_and_manual_runs_are_recorded(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    install_ticker(&fx, &[("fail", "0 0 * * *"), ("tick", "0 0 * * *")], false).await;
    let scheduler = scheduler(&fx, "one");
    let failed = scheduler
        .run_now("ticker", "fail", None, Some("jan.kowalski"))
        .await
        .expect("recorded");
    assert_eq!(failed.outcome, "error");
    assert_eq!(failed.trigger, "manual");
    let error = failed.error.expect("error");
    assert!(error.contains("the bank said no"), "{error}");
    let unknown = scheduler
        .run_now("ticker", "nope", None, None)
        .await
        .expect_err("unknown");
    assert_eq!(unknown.to_string(), "ticker has no task `nope`");

    // A manual run leaves the schedule alone.
    let ok = scheduler
        .run_now("ticker", "tick", None, None)
        .await
        .expect("ran");
    assert_eq!(ok.outcome, "ok");
    assert!(ok.finished_at.is_some());
    let tasks = fx.host.admin.tasks().await.expect("tasks");
    let tick = tasks.iter().find(|t| t.task == "tick").expect("tick");
    assert_eq!(tick.cron, "0 0 * * *");
    assert!(
        tick.next_due
            .as_deref()
            .is_some_and(|d| d.ends_with("T00:00:00.000Z"))
    );

    // Cron changes are checked, then take effect; --default restores.
    let bad = fx
        .host
        .admin
        .set_task_cron(&fx.actor, "ticker", "tick", Some("61 * * * *"))
        .await
        .expect_err("bad cron");
    assert_eq!(bad.kind(), "invalid_input");
    assert!(bad.to_string().starts_with("cron `61 * * * *`: "), "{bad}");
    let set = fx
        .host
        .admin
        .set_task_cron(&fx.actor, "ticker", "tick", Some("*/5 * * * *"))
        .await
        .expect("set");
    assert_eq!(set.cron, "*/5 * * * *");
    let restored = fx
        .host
        .admin
        .set_task_cron(&fx.actor, "ticker", "tick", None)
        .await
        .expect("default");
    assert_eq!(restored.cron, "0 0 * * *");
    fx.finish().await;
}

async fn settings_and_secrets_reach_only_their_company(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    install_ticker(&fx, &[("report", "0 6 * * *")], true).await;
    fx.company("acme").await;
    fx.company("globex").await;
    let admin = &fx.host.admin;
    let actor = &fx.actor;
    let set = |company: &'static str, name: &'static str, value: &'static str| async move {
        admin
            .set_setting(actor, company, "ticker", name, value)
            .await
    };
    set("acme", "context-id", "CTX-001").await.expect("set");
    set("acme", "retries", "3").await.expect("set");
    set("acme", "token", "tok-5ecret-acme").await.expect("set");
    set("globex", "context-id", "CTX-777").await.expect("set");

    let wrong_type = set("acme", "retries", "three").await.expect_err("type");
    assert_eq!(
        wrong_type.to_string(),
        "ticker setting `retries` is an integer; `three` is not"
    );
    let undeclared = set("acme", "dik", "x").await.expect_err("undeclared");
    assert_eq!(
        undeclared.to_string(),
        "ticker declares no setting `dik`; it declares: context-id, retries, token"
    );
    let nobody = set("initech", "context-id", "x")
        .await
        .expect_err("company");
    assert_eq!(nobody.to_string(), "company `initech` does not exist");

    let scheduler = scheduler(&fx, "one");
    scheduler
        .run_now("ticker", "report", Some("acme"), Some("anna"))
        .await
        .expect("acme");
    scheduler
        .run_now("ticker", "report", Some("globex"), None)
        .await
        .expect("globex");
    let acme = stored(&fx, "acme", "report").await.expect("acme report");
    assert_eq!(acme["company"], "acme");
    assert_eq!(acme["user"], "anna");
    assert_eq!(acme["context_id"], "CTX-001");
    assert_eq!(acme["retries"], "3");
    assert_eq!(acme["token_length"], 15);
    assert_eq!(acme["token_as_setting"], Value::Null);
    let globex = stored(&fx, "globex", "report")
        .await
        .expect("globex report");
    assert_eq!(globex["context_id"], "CTX-777");
    assert_eq!(globex["retries"], Value::Null);
    assert_eq!(globex["token_length"], Value::Null);

    // The secret is nowhere in clear: not in the vault row, the settings
    // listing, or the audit log.
    let sealed: Vec<u8> = sqlx::query("SELECT sealed FROM vault_entries WHERE kind = 'secret'")
        .fetch_one(fx.host.db.pool())
        .await
        .expect("row")
        .get("sealed");
    assert!(!sealed.windows(4).any(|w| w == b"5ecr"));
    let listed = admin.settings("acme", "ticker").await.expect("list");
    let token = listed.iter().find(|s| s.name == "token").expect("token");
    assert!(token.set);
    assert_eq!(token.value, None);
    let audit = admin.audit(0, 100).await.expect("audit");
    let text = format!("{audit:?}");
    assert!(!text.contains("tok-5ecret"), "{text}");
    assert!(text.contains("secret sealed in the vault"));

    // TLS identities: checked when added, sealed, handed to acme's calls only.
    let bad = admin
        .add_tls_identity(&fx.actor, "acme", "ticker", "comm", "not pem", "not pem")
        .await
        .expect_err("bad identity");
    assert_eq!(
        bad.to_string(),
        "client identity: the certificate chain holds no certificate"
    );
    if let Some((cert, key)) = self_signed(&fx) {
        admin
            .add_tls_identity(&fx.actor, "acme", "ticker", "comm", &cert, &key)
            .await
            .expect("identity");
        let acme = crate::common::call_context(&fx.host, "acme", "ticker", None).await;
        assert_eq!(acme.tls_identities.keys().collect::<Vec<_>>(), ["comm"]);
        let globex = crate::common::call_context(&fx.host, "globex", "ticker", None).await;
        assert!(globex.tls_identities.is_empty());
        let key_line = key.lines().nth(1).expect("key body");
        let rows = sqlx::query("SELECT sealed FROM vault_entries WHERE kind = 'tls-identity'")
            .fetch_one(fx.host.db.pool())
            .await
            .expect("row");
        let sealed: Vec<u8> = rows.get("sealed");
        assert!(!String::from_utf8_lossy(&sealed).contains(key_line));
        // The same identity as a PKCS#12 file, as banks hand them out.
        let p12 = fx.dir.path().join("id.p12");
        let exported = Command::new("openssl")
            .args(["pkcs12", "-export", "-passout", "pass:p12-pass"])
            .arg("-in")
            .arg(fx.dir.path().join("cert.pem"))
            .arg("-inkey")
            .arg(fx.dir.path().join("key.pem"))
            .arg("-out")
            .arg(&p12)
            .status()
            .expect("openssl");
        assert!(exported.success());
        let p12 = std::fs::read(&p12).expect("p12");
        let wrong = admin
            .add_tls_identity_pkcs12(&fx.actor, "acme", "ticker", "p12", &p12, "nope")
            .await
            .expect_err("wrong password");
        assert!(
            wrong.to_string().starts_with(
                "client identity: cannot open the PKCS#12 file (wrong password, or not PKCS#12)"
            ),
            "{wrong}"
        );
        admin
            .add_tls_identity_pkcs12(&fx.actor, "acme", "ticker", "p12", &p12, "p12-pass")
            .await
            .expect("p12 identity");
        let acme = crate::common::call_context(&fx.host, "acme", "ticker", None).await;
        assert_eq!(
            acme.tls_identities.keys().collect::<Vec<_>>(),
            ["comm", "p12"]
        );
        sqlx::query("DELETE FROM vault_entries WHERE kind = 'tls-identity'")
            .execute(fx.host.db.pool())
            .await
            .expect("clean");
    }

    // The scheduled run goes to each configured company.
    let start = 1_800_000_000_000;
    tick_and_wait(&scheduler, start).await;
    assert_eq!(tick_and_wait(&scheduler, start + 24 * HOUR).await, 2);

    // A serving host keeps the key it loaded: no rotation while one is live.
    let before: String = sqlx::query("SELECT key_id FROM vault_entries WHERE kind = 'secret'")
        .fetch_one(fx.host.db.pool())
        .await
        .expect("row")
        .get("key_id");
    sqlx::query(
        "INSERT INTO host_processes (id, hostname, pid, started_at, heartbeat_at, in_flight, seen_generation) \
         VALUES ('serving', 'db-host', 4242, $1, $1, 0, 0)",
    )
    .bind(h2h_host::db::now_millis())
    .execute(fx.host.db.pool())
    .await
    .expect("a live host");
    let refused = admin
        .rotate_vault_key(&fx.actor, &fx.config.vault_key)
        .await
        .expect_err("a host is live");
    assert_eq!(refused.kind(), "hosts_running");
    assert!(
        refused.to_string().contains("db-host pid 4242"),
        "{refused}"
    );
    sqlx::query("DELETE FROM host_processes")
        .execute(fx.host.db.pool())
        .await
        .expect("the host stopped");

    // After a key rotation the secret and the plugin's data still open,
    // under the new key, and nothing is left under the old one.
    let report_before = fx.stored_for("ticker", "acme", "report").await;
    assert!(report_before.is_some(), "the ticker stored its report");
    let report = admin
        .rotate_vault_key(&fx.actor, &fx.config.vault_key)
        .await
        .expect("rotate");
    // The secret, the host's share key (made at its first start) and the
    // installation id (sealed when the ticker's license was added).
    assert_eq!(report.entries, 3);
    assert!(report.plugin_values >= 2, "{report:?}");
    assert_eq!(report.old_key_id, before);
    assert_ne!(report.new_key_id, before);
    let reopened = h2h_host::serve::Host::open(&fx.config)
        .await
        .expect("reopen");
    assert!(
        reopened.admin.installation_id().await.is_ok(),
        "the installation id opens under the new key"
    );
    let ctx = crate::common::call_context(&reopened, "acme", "ticker", None).await;
    assert_eq!(ctx.secrets.len(), 1, "the token opens with the new key");
    let old_key = hex_bytes(&before);
    for row in sqlx::query("SELECT value FROM plugin_kv")
        .fetch_all(fx.host.db.pool())
        .await
        .expect("rows")
    {
        let value: Vec<u8> = row.get("value");
        assert_ne!(value[1..9], old_key[..], "a plugin value under the old key");
    }
    let kv = h2h_host::kv::SqlKv::new(reopened.db.clone(), reopened.admin.vault().vault().clone());
    let scope = h2h_host::kv::Scope {
        plugin: "ticker".into(),
        company: Some("acme".to_owned()),
    };
    let reread = h2h_host::kv::KvStore::get(&kv, &scope, "report")
        .await
        .expect("opens with the new key")
        .expect("kept");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&reread).expect("json"),
        report_before.expect("report")
    );
    reopened.db.close().await;
    fx.finish().await;
}

fn hex_bytes(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A self-signed P-256 certificate and key made by the openssl CLI, if it
/// is there.
fn self_signed(fx: &Fixture) -> Option<(String, String)> {
    let cert = fx.dir.path().join("cert.pem");
    let key = fx.dir.path().join("key.pem");
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=h2h-test"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?
        .success();
    if !made {
        return None;
    }
    Some((
        std::fs::read_to_string(cert).ok()?,
        std::fs::read_to_string(key).ok()?,
    ))
}

/// Kills the child when the test ends, whatever happens.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(fx: &Fixture) -> KillOnDrop {
    let child = Command::new(env!("CARGO_BIN_EXE_h2h"))
        .arg("--data-dir")
        .arg(fx.dir.path())
        .arg("--database-url")
        .arg(&fx.database.url)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("h2h serve starts");
    KillOnDrop(child)
}

async fn two_processes_run_each_occurrence_exactly_once(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    install_ticker(&fx, &[("tick", "* * * * * *")], false).await;
    let first = serve(&fx);
    let second = serve(&fx);
    tokio::time::sleep(Duration::from_secs(8)).await;
    drop(first);
    drop(second);

    let runs = history(&fx, "tick").await;
    let finished: Vec<&TaskRun> = runs.iter().filter(|r| r.outcome == "ok").collect();
    // Both ran for about 7 s with an occurrence every second.
    assert!(finished.len() >= 4, "{runs:?}");
    let mut slots: Vec<&str> = runs
        .iter()
        .filter_map(|r| r.scheduled_for.as_deref())
        .collect();
    let all = slots.len();
    slots.sort_unstable();
    slots.dedup();
    assert_eq!(slots.len(), all, "an occurrence ran twice: {runs:?}");
    // The plugin counted every run it was given, and no more.
    assert_eq!(count(&fx, "", "ticks").await, finished.len() as u64);
    fx.finish().await;
}

/// The ticker with an hourly `tick`, configured for `companies`.
async fn hourly_ticker_for(fx: &Fixture, companies: &[impl AsRef<str>]) {
    install_ticker(fx, &[("tick", "0 * * * *")], true).await;
    for company in companies {
        let company = company.as_ref();
        fx.company(company).await;
        fx.host
            .admin
            .set_setting(&fx.actor, company, "ticker", "context-id", "CTX")
            .await
            .expect("set");
    }
}

/// With a bound of one run at a time, three companies due at once run one
/// after another on later ticks: none is skipped, none fails.
async fn runs_beyond_the_bound_wait_for_a_later_tick(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    hourly_ticker_for(&fx, &["acme", "globex", "initech"]).await;
    let scheduler = scheduler(&fx, "one").with_max_concurrent_runs(1);
    let start = 1_800_000_000_000 + 10 * 60_000;
    assert_eq!(tick_and_wait(&scheduler, start).await, 0);
    let due = start + HOUR;
    // A run that ends before the tick weighs the next company frees its
    // place at once, so a tick may start more than one, never all three
    // together; the rest wait, still due, for later ticks.
    let mut started = vec![tick_and_wait(&scheduler, due).await];
    assert!(started[0] < 3, "the bound held none back");
    for later in 1..4 {
        started.push(tick_and_wait(&scheduler, due + later * 500).await);
    }
    assert_eq!(started.iter().sum::<usize>(), 3, "{started:?}");
    assert_eq!(started[3], 0, "{started:?}");
    for company in ["acme", "globex", "initech"] {
        assert_eq!(count(&fx, company, "ticks").await, 1, "{company}");
    }
    let runs = history(&fx, "tick").await;
    assert_eq!(runs.len(), 3);
    assert!(runs.iter().all(|r| r.outcome == "ok"), "{runs:?}");
    fx.finish().await;
}

/// A run the host had no instance for never reached the plugin: it is
/// recorded `not-taken`, not as a failure, and runs again 15 s later.
async fn a_run_the_host_was_too_busy_for_runs_again(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    install_ticker(&fx, &[("tick", "0 * * * *"), ("slow", "0 0 1 1 *")], false).await;
    let connectors = fx.connectors_with(h2h_host::runtime::Limits {
        max_concurrent_instances: 1,
        ..h2h_host::runtime::Limits::default()
    });
    let scheduler = Scheduler::new(
        fx.host.db.clone(),
        connectors.clone(),
        None,
        "busy".to_owned(),
        Duration::from_secs(60),
    );
    let start = 1_800_000_000_000 + 10 * 60_000;
    assert_eq!(tick_and_wait(&scheduler, start).await, 0);

    // The one slot is taken by a run of `slow` (1.2 s) outside the scheduler.
    let loaded = connectors.get("ticker").await.expect("loaded");
    let ctx = connectors
        .context(&loaded, None, None)
        .await
        .expect("context");
    let holding = tokio::spawn(async move { loaded.plugin.run_task(ctx, "slow").await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let due = start + HOUR;
    assert_eq!(tick_and_wait(&scheduler, due).await, 1);
    holding.await.expect("slow").expect("slow ran");

    let runs = history(&fx, "tick").await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].outcome, "not-taken");
    let error = runs[0].error.clone().unwrap_or_default();
    assert!(error.contains("no free instance slot"), "{error}");
    assert_eq!(count(&fx, "", "ticks").await, 0);
    // Not before 15 s, then once.
    assert_eq!(tick_and_wait(&scheduler, due + 14_000).await, 0);
    assert_eq!(tick_and_wait(&scheduler, due + 15_000).await, 1);
    assert_eq!(tick_and_wait(&scheduler, due + 16_000).await, 0);
    assert_eq!(count(&fx, "", "ticks").await, 1);
    let runs = history(&fx, "tick").await;
    assert_eq!(runs[0].outcome, "ok", "{runs:?}");
    // And the hour after, as scheduled.
    assert_eq!(tick_and_wait(&scheduler, due + HOUR).await, 1);
    assert_eq!(count(&fx, "", "ticks").await, 2);
    fx.finish().await;
}

/// With a spread, companies due at the same occurrence start at offsets of
/// their own, each within the spread, and each still once an occurrence.
async fn a_spread_shifts_each_company_within_its_window(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let companies: Vec<String> = (0..6).map(|i| format!("company-{i}")).collect();
    hourly_ticker_for(&fx, &companies).await;
    let spread = Duration::from_secs(600);
    let scheduler = scheduler(&fx, "one").with_spread(spread);
    let offsets: Vec<i64> = companies
        .iter()
        .map(|c| h2h_host::scheduler::schedule::offset(&format!("ticker/tick for {c}"), spread))
        .collect();
    assert!(offsets.iter().all(|o| (0..=600_000).contains(o)));
    let mut distinct = offsets.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(distinct.len() > 1, "all at one offset: {offsets:?}");

    let hour = 1_800_000_000_000 - 1_800_000_000_000 % HOUR + HOUR;
    assert_eq!(tick_and_wait(&scheduler, hour - 30 * 60_000).await, 0);
    for next_hour in [hour, hour + HOUR] {
        for offset in &distinct {
            let at = next_hour + offset;
            assert_eq!(
                tick_and_wait(&scheduler, at - 1).await,
                0,
                "before {offset}"
            );
            let due = offsets.iter().filter(|o| *o == offset).count();
            assert_eq!(tick_and_wait(&scheduler, at).await, due, "at {offset}");
        }
    }
    for company in &companies {
        assert_eq!(count(&fx, company, "ticks").await, 2, "{company}");
    }
    fx.finish().await;
}

on_both_databases!(runs_beyond_the_bound_wait_for_a_later_tick);
on_both_databases!(a_run_the_host_was_too_busy_for_runs_again);
on_both_databases!(a_spread_shifts_each_company_within_its_window);
on_both_databases!(occurrences_run_once_and_missed_ones_once);
on_both_databases!(paused_tasks_and_service_mode_run_nothing);
on_both_databases!(a_task_never_overlaps_itself);
on_both_databases!(failures_and_manual_runs_are_recorded);
on_both_databases!(settings_and_secrets_reach_only_their_company);
on_both_databases!(two_processes_run_each_occurrence_exactly_once);
