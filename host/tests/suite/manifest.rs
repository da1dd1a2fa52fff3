//! `h2h.toml`: a realistic manifest parses; each defect is refused with the
//! line and field at fault.

use h2h_host::packages::manifest::{Manifest, ManifestError, SettingType};
use h2h_host::runtime::World;

const PKOBP: &str = r#"id = "pkobp"
name = "PKO BP Integra"
version = "1.2.0"
publisher = "h2h"
description = "Statements and transfer batches through PKO BP Integra."

[contract]
world = "bank-connector"
version = "^2.0"

[requires]
settlements = "^1"

[capabilities]
http = ["https://integra.pkobp.pl", "https://*.pkobp.pl:8443"]
signing = true
storage-quota-bytes = 1048576

[[settings]]
name = "context-id"
type = "string"
description = "[PKOBP] ContextId given by the bank"
required = true

[[permissions]]
name = "create-session"
description = "Open a smart-card session"

[[tasks]]
name = "refresh-sessions"
cron = "* * * * *"
description = "Keep 600-second tokens alive"

[[tasks]]
name = "fetch-statements"
cron = "0 */2 * * *"
"#;

#[test]
fn a_realistic_manifest_parses() {
    let m = Manifest::parse(PKOBP).expect("valid manifest");
    assert_eq!(
        (m.id.as_str(), m.version.to_string().as_str()),
        ("pkobp", "1.2.0")
    );
    assert_eq!(m.world, World::BankConnector);
    assert_eq!(m.requires["settlements"].to_string(), "^1");
    let http: Vec<String> = m.http.iter().map(ToString::to_string).collect();
    assert_eq!(
        http,
        ["https://integra.pkobp.pl:443", "https://*.pkobp.pl:8443"]
    );
    assert!(m.signing);
    assert_eq!(m.storage_quota, 1 << 20);
    assert_eq!(m.settings[0].kind, SettingType::String);
    assert_eq!(
        m.tasks.iter().map(|t| t.cron.as_str()).collect::<Vec<_>>(),
        ["* * * * *", "0 */2 * * *"]
    );
}

fn refused(from: &str, to: &str) -> ManifestError {
    assert!(
        PKOBP.contains(from),
        "test edits a line that exists: {from}"
    );
    Manifest::parse(&PKOBP.replacen(from, to, 1)).expect_err("defect must be refused")
}

#[test]
fn each_defect_names_line_and_field() {
    let cases = [
        (
            "id = \"pkobp\"",
            "id = \"PKO BP\"",
            1,
            "id",
            "lowercase slug",
        ),
        (
            "version = \"1.2.0\"",
            "version = \"1.2\"",
            3,
            "version",
            "not semver",
        ),
        (
            "world = \"bank-connector\"",
            "world = \"atm\"",
            8,
            "contract.world",
            "not bank-connector or pos-connector",
        ),
        (
            "version = \"^2.0\"",
            "version = \"^3.0\"",
            9,
            "contract.version",
            "`^3.0` names no contract version this host serves (h2h:connector 1.0.0, 2.0.0)",
        ),
        (
            "settlements = \"^1\"",
            "settlements = \"one\"",
            12,
            "requires.settlements",
            "not a semver range",
        ),
        (
            "\"https://integra.pkobp.pl\",",
            "\"ftp://integra.pkobp.pl\",",
            15,
            "capabilities.http",
            "scheme `ftp` is not http or https",
        ),
        (
            "cron = \"0 */2 * * *\"",
            "cron = \"every two hours\"",
            36,
            "tasks.fetch-statements.cron",
            "not a cron expression",
        ),
    ];
    for (from, to, line, field, message) in cases {
        let error = refused(from, to);
        assert_eq!(
            (error.line, error.field.as_str()),
            (Some(line), field),
            "{error}"
        );
        assert!(error.message.contains(message), "{error}");
    }
}

#[test]
fn syntax_and_shape_errors_name_the_line() {
    let error = refused("publisher = \"h2h\"", "publisher = h2h");
    assert_eq!(
        (error.line, error.field.as_str()),
        (Some(4), "publisher"),
        "{error}"
    );

    let error = refused("signing = true", "signing = true\nsockets = true");
    assert_eq!(error.line, Some(17), "{error}");
    assert!(error.message.contains("unknown field `sockets`"), "{error}");

    let error = Manifest::parse("id = \"x\"\n").unwrap_err();
    assert!(error.message.contains("missing field"), "{error}");
}

#[test]
fn duplicate_task_names_are_refused() {
    let error = refused("name = \"fetch-statements\"", "name = \"refresh-sessions\"");
    assert_eq!(error.field, "tasks.name");
    assert!(error.message.contains("declared twice"), "{error}");
    assert_eq!(
        error.to_string(),
        format!(
            "h2h.toml line {}: `tasks.name`: `refresh-sessions` is not a slug or is declared twice",
            error.line.unwrap()
        )
    );
}

const SESSION: &str = "description = \"Open a smart-card session\"";

fn with_operations(list: &str) -> String {
    PKOBP.replacen(SESSION, &format!("{SESSION}\noperations = {list}"), 1)
}

#[test]
fn permissions_name_the_operations_they_guard() {
    let m = Manifest::parse(&with_operations(
        r#"["open-session", "task:fetch-statements", "sync-statements", "submit-transfers"]"#,
    ))
    .expect("valid manifest");
    assert_eq!(
        m.permissions[0].operations,
        [
            "open-session",
            "task:fetch-statements",
            "sync-statements",
            "submit-transfers"
        ]
    );
    // Without the list a permission guards nothing.
    let plain = Manifest::parse(PKOBP).expect("valid manifest");
    assert!(plain.permissions[0].operations.is_empty());
}

#[test]
fn unknown_operations_are_refused_with_line_and_field() {
    for (list, message) in [
        (r#"["send-money"]"#, "`send-money` is not sync-statements"),
        (
            r#"["open-session", "task:nightly"]"#,
            "`task:nightly` is not sync-statements, submit-transfers, open-session, pair-terminals, card-payments or `task:<name>` of a task declared here",
        ),
        (r#"["task:"]"#, "`task:` is not"),
        (
            r#"["open-session", "open-session"]"#,
            "`open-session` is listed twice",
        ),
    ] {
        let error = Manifest::parse(&with_operations(list)).expect_err(list);
        assert_eq!(
            (error.line, error.field.as_str()),
            (Some(28), "permissions.create-session.operations"),
            "{error}"
        );
        assert!(error.message.contains(message), "{list}: {error}");
    }
    let error = Manifest::parse(&with_operations(r#""open-session""#)).expect_err("not a list");
    assert_eq!(error.line, Some(28), "{error}");
}

#[test]
fn a_connector_sets_its_own_default_schedule_for_host_tasks() {
    let with = |table: &str| format!("{PKOBP}\n[host-tasks]\n{table}\n");
    let own = Manifest::parse(&with("sync-statements = \"0 0 */2 * * *\""))
        .expect("statements every 2 hours");
    assert_eq!(
        own.host_task_crons
            .get("sync-statements")
            .map(String::as_str),
        Some("0 0 */2 * * *")
    );
    assert!(!own.host_task_crons.contains_key("bank-session-bot"));

    let error =
        Manifest::parse(&with("fetch-statements = \"0 * * * *\"")).expect_err("not a host task");
    assert_eq!(error.field, "host-tasks.fetch-statements");
    assert!(
        error.message.contains(
            "not a task the host runs for this world (one of: sync-statements, bank-session-bot)"
        ),
        "{error}"
    );
    assert!(error.line.is_some(), "{error}");
    let error =
        Manifest::parse(&with("sync-statements = \"every two hours\"")).expect_err("not a cron");
    assert_eq!(error.field, "host-tasks.sync-statements");
    assert!(error.message.contains("not a cron expression"), "{error}");
}
