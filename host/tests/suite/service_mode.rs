//! Service mode seen from outside: a serving host refuses ERP requests with
//! 503 while admin requests work; an install killed with SIGKILL half-way
//! is rolled back by the next start. On SQLite and on PostgreSQL.

use crate::admin;
use crate::served::Served;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::admin::Fixture;
use h2h_host::db::testing::TestBackend;
use h2h_test_plugins::{VERSIONED, VERSIONED_SLOW};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn erp_gets_503_in_service_mode(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let ping =
        "[[tasks]]\nname = \"ping\"\ncron = \"0 0 1 1 *\"\ndescription = \"Stores that it ran.\"\n";
    fx.upload_with(&admin::manifest("versioned", "1.0.0", ping), VERSIONED)
        .await;
    fx.add_license("versioned").await;
    fx.host
        .admin
        .install(&fx.actor, "versioned", None)
        .await
        .expect("install");
    fx.company("acme").await;
    fx.host
        .admin
        .add_erp_user(&fx.actor, "anna", "Anna", None)
        .await
        .expect("user");
    fx.host
        .admin
        .grant_company(&fx.actor, "anna", "acme", false)
        .await
        .expect("grant");
    let api = Served::start(&fx).await;
    let (base, client) = (&api.base, &api.client);
    let (admin_key, erp_key) = (&api.admin_key, &api.erp_key);
    let erp = |path: &str| {
        client
            .post(format!("{base}/erp/v1{path}"))
            .bearer_auth(erp_key)
            .header("X-H2H-User", "anna")
            .json(&json!({ "company": "acme" }))
    };

    let ok = erp("/plugins/versioned/tasks/ping")
        .send()
        .await
        .expect("call");
    assert_eq!(ok.status(), StatusCode::OK);
    let body: Value = ok.json().await.expect("json");
    assert_eq!(body["outcome"], "ok", "{body}");
    assert_eq!(body["trigger"], "manual");
    assert_eq!(body["company"], "acme");

    // An ERP key is not an admin key; no key is nobody.
    let forbidden = client
        .get(format!("{base}/admin/v1/plugins"))
        .bearer_auth(erp_key)
        .send()
        .await
        .expect("call");
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    let anonymous = client
        .get(format!("{base}/erp/v1/plugins"))
        .send()
        .await
        .expect("call");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let on = client
        .put(format!("{base}/admin/v1/service-mode"))
        .bearer_auth(admin_key)
        .json(&json!({ "active": true, "reason": "bank migration" }))
        .send()
        .await
        .expect("call");
    assert_eq!(on.status(), StatusCode::OK, "{:?}", on.text().await);

    let refused = erp("/plugins/versioned/tasks/ping")
        .send()
        .await
        .expect("call");
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()["retry-after"], "30");
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["code"], "service_mode");
    assert_eq!(
        body["message"],
        "the host is in service mode (bank migration); retry later"
    );

    // Admin requests still work.
    let list = client
        .get(format!("{base}/admin/v1/plugins"))
        .bearer_auth(admin_key)
        .send()
        .await
        .expect("call");
    assert_eq!(list.status(), StatusCode::OK);
    let plugins: Value = list.json().await.expect("json");
    assert_eq!(plugins[0]["plugin"], "versioned");

    fx.host
        .admin
        .service_mode_off(&fx.actor)
        .await
        .expect("off");
    let check = || async {
        erp("/plugins/versioned/tasks/ping")
            .send()
            .await
            .map(|r| r.status())
            .ok()
            == Some(StatusCode::OK)
    };
    wait_for("the gate to open again", check).await;

    let audit: Value = client
        .get(format!("{base}/admin/v1/audit?limit=1000"))
        .bearer_auth(admin_key)
        .send()
        .await
        .expect("call")
        .json()
        .await
        .expect("json");
    let on_entry = audit
        .as_array()
        .expect("list")
        .iter()
        .find(|e| e["action"] == "service-mode.on")
        .expect("service-mode.on audited");
    assert_eq!(on_entry["actor"], "api:ops");
    assert_eq!(on_entry["outcome"], "ok");

    api.stop().await;
    fx.finish().await;
}
on_both_databases!(erp_gets_503_in_service_mode);

fn h2h(fx: &Fixture, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_h2h"));
    command
        .arg("--data-dir")
        .arg(fx.dir.path())
        .arg("--database-url")
        .arg(&fx.database.url)
        .args(args)
        .env("USER", "killer-test");
    command
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn sigkill_during_upgrade_rolls_back(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    fx.upload("versioned", "1.0.0", VERSIONED).await;
    fx.add_license("versioned").await;
    fx.host
        .admin
        .install(&fx.actor, "versioned", None)
        .await
        .expect("install");
    fx.upload("versioned", "1.1.0", VERSIONED_SLOW).await;

    let mut child = KillOnDrop(
        h2h(&fx, &["plugin", "upgrade", "versioned"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("h2h runs"),
    );
    // The slow migrate writes format 2, then spins: kill it right there.
    wait_for("the migrate step to change data", || async {
        fx.stored("versioned", "format").await == Some(json!(2))
    })
    .await;
    assert!(fx.host.admin.service_mode().await.expect("mode").active);
    child.0.kill().expect("SIGKILL");
    child.0.wait().expect("reaped");

    // The next start (any command) finds the orphaned journal row.
    let output = h2h(&fx, &["--json", "plugin", "list"])
        .output()
        .expect("h2h runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let list: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(list[0]["plugin"], "versioned");
    assert_eq!(list[0]["version"], "1.0.0");
    assert_eq!(list[0]["upgrade_available"], "1.1.0");

    assert_eq!(fx.stored("versioned", "format").await, Some(json!(1)));
    assert_eq!(
        fx.stored("versioned", "greeting").await,
        Some(json!("hello"))
    );
    assert!(!fx.host.admin.service_mode().await.expect("mode").active);
    assert_eq!(fx.count("journal").await, 0);
    assert_eq!(fx.count("plugin_kv_backup").await, 0);
    let recovered = sqlx::query(
        "SELECT outcome, detail FROM audit_log WHERE action = 'plugin.upgrade.recover'",
    )
    .fetch_one(fx.host.db.pool())
    .await
    .expect("recovery audited");
    assert_eq!(
        recovered.try_get::<String, _>("outcome").expect("outcome"),
        "rolled_back"
    );
    let detail: String = recovered.try_get("detail").expect("detail");
    assert!(
        detail.starts_with("upgrade by cli:killer-test (host ")
            && detail.ends_with("stopped at step `lifecycle`; rolled back, version 1.0.0 kept"),
        "{detail}"
    );
    fx.finish().await;
}
on_both_databases!(sigkill_during_upgrade_rolls_back);

async fn cli_speaks_json(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let output = h2h(&fx, &["--json", "installation-id"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let id: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(
        id["installation_id"],
        fx.host.admin.installation_id().await.expect("id").as_str()
    );

    let output = h2h(&fx, &["--json", "plugin", "install", "nothing"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(
        error,
        json!({ "error": { "code": "not_uploaded", "message": "no package of nothing has been uploaded" } })
    );
    fx.finish().await;
}
on_both_databases!(cli_speaks_json);

/// Upgrades `plugin` to its slow 1.1.0 (a migrate that spins until the
/// call deadline, then fails and rolls back) on a host of `fx`'s database
/// whose deadline is `deadline`.
async fn slow_upgrade(
    fx: &Fixture,
    plugin: &str,
    deadline: Duration,
) -> tokio::task::JoinHandle<()> {
    let config = h2h_host::serve::HostConfig {
        limits: h2h_host::runtime::Limits {
            deadline,
            ..h2h_host::runtime::Limits::default()
        },
        ..fx.config.clone()
    };
    let host = h2h_host::serve::Host::open(&config)
        .await
        .expect("a second host");
    let (actor, plugin) = (fx.actor.clone(), plugin.to_owned());
    tokio::spawn(async move {
        let failed = host
            .admin
            .upgrade(&actor, &plugin, None, false)
            .await
            .expect_err("the slow migrate runs out of time");
        assert!(failed.to_string().contains("rolled back"), "{failed}");
        host.db.close().await;
    })
}

/// Two plugins upgraded at once: service mode lasts until the last one
/// ends, whichever switched it on and whichever ends first.
async fn service_mode_lasts_until_the_last_of_two_upgrades(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    for plugin in ["versioned", "versioned-b"] {
        fx.upload_with(&admin::manifest(plugin, "1.0.0", ""), VERSIONED)
            .await;
        fx.add_license(plugin).await;
        fx.host
            .admin
            .install(&fx.actor, plugin, None)
            .await
            .expect("install");
        fx.upload_with(&admin::manifest(plugin, "1.1.0", ""), VERSIONED_SLOW)
            .await;
    }
    let active = || async { fx.host.admin.service_mode().await.expect("mode").active };
    let in_journal = |plugin: &'static str| {
        let fx = &fx;
        async move {
            sqlx::query("SELECT 1 FROM journal WHERE plugin_id = $1")
                .bind(plugin)
                .fetch_optional(fx.host.db.pool())
                .await
                .expect("journal")
                .is_some()
        }
    };

    // The one that switched service mode on ends first.
    let first = slow_upgrade(&fx, "versioned", Duration::from_secs(2)).await;
    wait_for("the first upgrade to migrate", || async {
        fx.stored("versioned", "format").await == Some(json!(2))
    })
    .await;
    let second = slow_upgrade(&fx, "versioned-b", Duration::from_secs(5)).await;
    wait_for("the second upgrade to migrate", || async {
        fx.stored("versioned-b", "format").await == Some(json!(2))
    })
    .await;
    first.await.expect("first ended");
    assert!(in_journal("versioned-b").await, "the second still runs");
    assert!(
        active().await,
        "service mode outlives the upgrade that set it"
    );
    second.await.expect("second ended");
    assert!(!active().await, "the last upgrade ends service mode");
    assert_eq!(fx.count("journal").await, 0);

    // The other one ends first.
    let first = slow_upgrade(&fx, "versioned", Duration::from_secs(5)).await;
    wait_for("the first upgrade to migrate", || async {
        fx.stored("versioned", "format").await == Some(json!(2))
    })
    .await;
    let second = slow_upgrade(&fx, "versioned-b", Duration::from_secs(2)).await;
    second.await.expect("second ended");
    assert!(active().await, "the first still runs");
    first.await.expect("first ended");
    assert!(!active().await);
    assert_eq!(fx.count("journal").await, 0);
    fx.finish().await;
}

on_both_databases!(service_mode_lasts_until_the_last_of_two_upgrades);
