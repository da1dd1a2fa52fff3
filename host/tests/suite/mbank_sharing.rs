//! An mBank session shared to another database, as the seed describes it:
//! the origin (SQLite or PostgreSQL) opens a long-lived session by
//! signature on SoftHSM2 for two DIKs; an admin registers the target
//! (PostgreSQL, reached with a role holding only the rights the README
//! lists); anna shares the session to the target's user and head office
//! for its DIK; the target syncs that DIK's statements with it, never
//! holding the token in clear; the target cannot share, refresh or close
//! it; the origin's refresh reaches the target; revoking ends it there.
//! Refusals: a DIK outside the session, a target user without the
//! permission, a target without mbank, a database that is not h2h, one
//! that cannot be reached, a connection string that is not PostgreSQL.

use crate::admin::Fixture;
use crate::mbank_e2e::{BANK_USER, PLUGIN, add_account, set_up, transactions};
use crate::served::Served;
use crate::softhsm::{self, PIN, RSA_ID};
use h2h_host::db::testing::TestBackend;
use h2h_host::settlements::Settlements;
use h2h_mbank_sim::{DEMO_DIK, DEMO_DIK_2, Simulator};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Row;

const COOP: &str = "coop-pln";

/// A login role on the target database with only what sharing needs
/// (README, "Sharing bank sessions"); its connection string.
async fn sharing_role(target: &Fixture, role: &str) -> String {
    let pool = target.host.db.pool();
    let statements = [
        format!("CREATE ROLE {role} LOGIN"),
        format!(
            "GRANT SELECT ON session_share_keys, installations, companies, erp_users, \
             erp_user_companies, plugin_permissions, erp_user_permissions TO {role}"
        ),
        format!("GRANT SELECT, INSERT, UPDATE ON bank_sessions TO {role}"),
        format!("GRANT USAGE ON SEQUENCE bank_sessions_id_seq TO {role}"),
    ];
    for statement in statements {
        sqlx::query(&statement)
            .execute(pool)
            .await
            .expect("role set-up");
    }
    target
        .database
        .url
        .replacen("://postgres@", &format!("://{role}@"), 1)
}

async fn drop_role(target: &Fixture, role: &str) {
    let pool = target.host.db.pool();
    for statement in [format!("DROP OWNED BY {role}"), format!("DROP ROLE {role}")] {
        let _ = sqlx::query(&statement).execute(pool).await;
    }
}

async fn add_target(api: &Served, name: &str, url: &str) -> (StatusCode, Value) {
    api.admin(
        Method::POST,
        "/share-targets",
        Some(json!({ "name": name, "connection_string": url })),
    )
    .await
}

async fn share(api: &Served, session: i64, body: Value) -> (StatusCode, Value) {
    api.post(&format!("/bank-sessions/{session}/shares"), "anna", body)
        .await
}

async fn remote_row(target: &Fixture, id: i64) -> (String, Option<String>, Option<String>) {
    let row =
        sqlx::query("SELECT state, shared_from, shared_secret FROM bank_sessions WHERE id = $1")
            .bind(id)
            .fetch_one(target.host.db.pool())
            .await
            .expect("the shared row");
    (
        row.get("state"),
        row.get("shared_from"),
        row.get("shared_secret"),
    )
}

async fn mbank_session_sharing(backend: TestBackend) {
    let Some(hsm) = softhsm::softhsm() else {
        return;
    };
    let Some(origin) = Fixture::new(backend).await else {
        return;
    };
    let Some(target) = Fixture::new(TestBackend::Postgres).await else {
        origin.finish().await;
        return;
    };
    let Some(bare) = Fixture::new(TestBackend::Postgres).await else {
        origin.finish().await;
        target.finish().await;
        return;
    };
    let (origin_token, target_token) = match backend {
        TestBackend::Sqlite => ("share-origin-sqlite", "share-target-sqlite"),
        TestBackend::Postgres => ("share-origin-postgres", "share-target-postgres"),
    };
    let today = chrono::Utc::now().date_naive();
    let sim = Simulator::builder()
        .today(today)
        .days(3)
        .seed(11)
        .build()
        .expect("simulator");
    let accounts = Simulator::demo_accounts();
    let running = sim.start("127.0.0.1:0").await.expect("bank serving");
    let bank = running.handle.clone();
    let url = running.url();
    set_up(&origin, hsm, &bank, &url, origin_token).await;
    add_account(
        &Settlements::new(origin.host.db.clone()),
        "acme-pln",
        &accounts[0],
    )
    .await;
    // The target: another database of the group, mbank installed, its head
    // office `acme` under the second DIK, and bob, who may not open
    // sessions there.
    set_up(&target, hsm, &bank, &url, target_token).await;
    target
        .host
        .admin
        .set_setting(&target.actor, "acme", PLUGIN, "dik", DEMO_DIK_2)
        .await
        .expect("dik");
    add_account(
        &Settlements::new(target.host.db.clone()),
        COOP,
        &accounts[2],
    )
    .await;
    target
        .host
        .admin
        .add_erp_user(&target.actor, "bob", "Bob", None)
        .await
        .expect("bob");
    target
        .host
        .admin
        .grant_company(&target.actor, "bob", "acme", false)
        .await
        .expect("bob's company");
    bare.company("acme").await;
    let api = Served::start(&origin).await;
    let there = Served::start(&target).await;

    let (status, opened) = api
        .post(
            "/bank-sessions",
            "anna",
            json!({ "company": "acme", "plugin": PLUGIN, "bank_user_id": BANK_USER,
                    "company_ids": [DEMO_DIK, DEMO_DIK_2], "refresh_by_bot": true,
                    "valid_until": format!("{}T23:59:59Z", today + chrono::Days::new(30)),
                    "sign_with": { "key": format!("{origin_token}:{RSA_ID}"), "pin": PIN } }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let session = opened["id"].as_i64().expect("id");
    let token = bank.sessions()[0].token.clone();

    // Registering targets: only PostgreSQL, only reachable, only h2h.
    let (status, refused) = add_target(&api, "branch", "mysql://root@127.0.0.1/test").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let (status, refused) = add_target(&api, "branch", "postgres://postgres@127.0.0.1:1/x").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{refused}");
    assert_eq!(refused["code"], "share_target_unreachable", "{refused}");
    let server = target.database.url.rsplit_once('/').expect("url").0;
    let (status, refused) = add_target(&api, "branch", &format!("{server}/postgres")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "share_target_not_h2h", "{refused}");
    let role = format!(
        "h2h_share_{}",
        &target.database.url[target.database.url.len() - 8..]
    );
    let url = sharing_role(&target, &role).await;
    let (status, added) = add_target(&api, "branch", &url).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["name"], "branch");
    let (status, listed) = api.admin(Method::GET, "/share-targets", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!listed.to_string().contains("postgres://"), "{listed}");
    let (status, added) = add_target(&api, "bare", &bare.database.url).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");

    // Refusals, each before anything is written there.
    let to = |target: &str, user: &str, dik: &str| json!({ "target": target, "user": user, "company": "acme", "company_ids": [dik] });
    let (status, refused) = share(&api, session, to("branch", "anna", "10099999")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["code"], "company_id_outside_session");
    let (status, refused) = share(&api, session, to("branch", "bob", DEMO_DIK_2)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["code"], "target_user_not_permitted", "{refused}");
    let (status, refused) = share(&api, session, to("bare", "anna", DEMO_DIK_2)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "plugin_not_at_target", "{refused}");
    let (status, refused) = share(&api, session, to("nowhere", "anna", DEMO_DIK_2)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
    assert_eq!(target.count("bank_sessions").await, 0);

    // The share: the target's anna, head office acme, the second DIK.
    let (status, shared) = share(&api, session, to("branch", "anna", DEMO_DIK_2)).await;
    assert_eq!(status, StatusCode::CREATED, "{shared}");
    assert_eq!(shared["state"], "active");
    assert_eq!(shared["company_ids"], json!([DEMO_DIK_2]));
    let share_id = shared["id"].as_i64().expect("id");
    let remote = shared["remote_session_id"].as_i64().expect("remote id");
    let (state, from, sealed) = remote_row(&target, remote).await;
    assert_eq!(state, "active");
    assert!(from.is_some_and(|f| f.ends_with(&format!("session {session}"))));
    let sealed = sealed.expect("a sealed token");
    assert!(!sealed.contains(&token), "the token lies there in clear");
    let (status, again) = share(&api, session, to("branch", "anna", DEMO_DIK_2)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(again["code"], "already_shared");

    // The target uses it for its DIK.
    bank.clear_requests();
    let (status, outcome) = there
        .post(&format!("/accounts/{COOP}/sync"), "anna", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert_eq!(outcome["run"]["error"], Value::Null, "{outcome}");
    let stored = transactions(&there, COOP).await;
    assert_eq!(stored.len(), bank.transactions(&accounts[2].iban).len());
    assert!(!stored.is_empty());
    assert!(
        bank.requests()
            .iter()
            .filter(|r| r.path.contains("/statements/"))
            .all(|r| r.dik.as_deref() == Some(DEMO_DIK_2)),
        "{:?}",
        bank.requests()
    );

    // Only the origin shares, refreshes or closes it.
    let (status, refused) = there
        .post(
            &format!("/bank-sessions/{remote}/shares"),
            "anna",
            to("branch", "anna", DEMO_DIK_2),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "session_received", "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("only the database"))
    );
    let (status, refused) = there
        .post(
            &format!("/bank-sessions/{remote}/refresh"),
            "anna",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "session_received");

    // The origin's refresh reaches the target.
    let before: i64 = sqlx::query("SELECT updated_at FROM bank_sessions WHERE id = $1")
        .bind(remote)
        .fetch_one(target.host.db.pool())
        .await
        .expect("row")
        .get("updated_at");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (status, refreshed) = api
        .post(
            &format!("/bank-sessions/{session}/refresh"),
            "anna",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    let (_, shares) = api
        .get(&format!("/bank-sessions/{session}/shares"), "anna")
        .await;
    assert_eq!(shares[0]["last_error"], Value::Null, "{shares}");
    let after: i64 = sqlx::query("SELECT updated_at FROM bank_sessions WHERE id = $1")
        .bind(remote)
        .fetch_one(target.host.db.pool())
        .await
        .expect("row")
        .get("updated_at");
    assert!(after > before, "{before} {after}");

    // Revoked from the origin: closed there, token gone, no more use.
    let (status, revoked) = api
        .erp(
            Method::DELETE,
            &format!("/bank-sessions/{session}/shares/{share_id}"),
            Some("anna"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["state"], "revoked");
    let (state, _, sealed) = remote_row(&target, remote).await;
    assert_eq!(state, "closed");
    assert_eq!(sealed, None);
    let (status, outcome) = there
        .post(&format!("/accounts/{COOP}/sync"), "anna", json!({}))
        .await;
    // A failed sync is a failure to an ERP that reads status codes: 502,
    // the error's code and message, and the run beside them.
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{outcome}");
    assert_eq!(outcome["code"], "sync_failed");
    assert_eq!(outcome["message"], outcome["run"]["error"]);
    assert_eq!(outcome["run"]["outcome"], "error");
    assert!(
        outcome["run"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("session")),
        "{outcome}"
    );
    // The origin's session itself is untouched.
    let (_, kept) = api.get(&format!("/bank-sessions/{session}"), "anna").await;
    assert_eq!(kept["state"], "active", "{kept}");
    let (status, refused) = api
        .admin(Method::DELETE, "/share-targets/branch", None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");

    api.stop().await;
    there.stop().await;
    bank.stop().await;
    drop_role(&target, &role).await;
    origin.finish().await;
    target.finish().await;
    bare.finish().await;
}

on_both_databases!(mbank_session_sharing);

/// `h2h share-target ...` over `fx`'s database, `stdin` fed; exit status,
/// stdout and stderr.
fn share_target_cli(fx: &Fixture, args: &[&str], stdin: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_h2h"))
        .arg("--data-dir")
        .arg(fx.dir.path())
        .arg("--database-url")
        .arg(&fx.database.url)
        .arg("share-target")
        .args(args)
        .env("USER", "ops")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("h2h runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("h2h ends");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The admin's command line: the connection string goes in on stdin and
/// never comes out, in answers, errors or the audit log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_targets_from_the_command_line() {
    let Some(origin) = Fixture::new(TestBackend::Sqlite).await else {
        return;
    };
    let Some(target) = Fixture::new(TestBackend::Postgres).await else {
        origin.finish().await;
        return;
    };
    let secretive = "postgres://postgres:hunter2-pass@127.0.0.1:1/nothing";
    let (ok, out, err) = share_target_cli(&origin, &["add", "branch"], secretive);
    assert!(!ok, "{out}");
    assert!(err.contains("cannot be reached"), "{err}");
    assert!(
        !err.contains("hunter2") && !out.contains("hunter2"),
        "{err}"
    );
    let (ok, out, err) = share_target_cli(&origin, &["add", "Bad Name"], &target.database.url);
    assert!(!ok && err.contains("share target names"), "{out}{err}");
    let (ok, out, err) = share_target_cli(&origin, &["add", "branch"], &target.database.url);
    assert!(ok, "{err}");
    assert!(out.contains("branch registered"), "{out}");
    let (ok, out, _) = share_target_cli(&origin, &["list"], "");
    assert!(ok && out.contains("branch"), "{out}");
    assert!(!out.contains("postgres://"), "{out}");
    let audit: Vec<String> = sqlx::query("SELECT detail FROM audit_log")
        .fetch_all(origin.host.db.pool())
        .await
        .expect("audit")
        .iter()
        .map(|r| r.get::<String, _>("detail"))
        .collect();
    assert!(
        audit
            .iter()
            .all(|d| !d.contains("hunter2") && !d.contains("postgres://"))
    );
    let (ok, out, err) = share_target_cli(&origin, &["remove", "branch"], "");
    assert!(ok, "{err}");
    assert!(out.contains("removed"), "{out}");
    let (ok, _, err) = share_target_cli(&origin, &["remove", "branch"], "");
    assert!(!ok && err.contains("no share target"), "{err}");
    origin.finish().await;
    target.finish().await;
}
