//! A well-behaved plugin reaches the host's capabilities through its calls,
//! each call in its own scope.

use std::collections::BTreeMap;

use crate::common::{company, host, stored, test_limits};
use h2h_host::capabilities::Grants;
use h2h_host::runtime::model::ConnectorError;
use h2h_host::runtime::model::bank::{Direction, StatementQuery};
use h2h_host::runtime::{CallContext, CallError, LoadError, World};
use h2h_test_plugins::{MINIMAL, WELL_BEHAVED};

fn query() -> StatementQuery {
    StatementQuery {
        account: "PL61109010140000071219812874".into(),
        from: "2026-11-01".into(),
        to: "2026-11-30".into(),
        continuation: None,
    }
}

fn with_context_id(company_id: &str) -> CallContext {
    CallContext {
        settings: BTreeMap::from([("context-id".to_owned(), "CTX-42".to_owned())]),
        ..company(company_id)
    }
}

#[tokio::test]
async fn storage_is_scoped_per_company() {
    let host = host(test_limits());
    let plugin = host.load("well-behaved", WELL_BEHAVED);

    plugin.run_task(company("acme"), "count").await.unwrap();
    plugin.run_task(company("acme"), "count").await.unwrap();
    plugin.run_task(company("globex"), "count").await.unwrap();

    assert_eq!(
        stored(&host, "well-behaved", Some("acme"), "runs")
            .await
            .as_deref(),
        Some(&b"2"[..])
    );
    assert_eq!(
        stored(&host, "well-behaved", Some("globex"), "runs")
            .await
            .as_deref(),
        Some(&b"1"[..])
    );
    // Same key, other plugin: untouched.
    assert_eq!(stored(&host, "other", Some("acme"), "runs").await, None);
}

#[tokio::test]
async fn install_writes_to_the_plugin_wide_scope() {
    let host = host(test_limits());
    let plugin = host.load("well-behaved", WELL_BEHAVED);

    plugin.install(CallContext::default()).await.unwrap();

    assert_eq!(
        stored(&host, "well-behaved", None, "installed")
            .await
            .as_deref(),
        Some(&b"true"[..])
    );
}

#[tokio::test]
async fn the_plugin_sees_who_it_runs_for() {
    let host = host(test_limits());
    let plugin = host.load("well-behaved", WELL_BEHAVED);
    let ctx = CallContext {
        user: Some("jan.kowalski".into()),
        ..company("acme")
    };

    plugin.run_task(ctx, "whoami").await.unwrap();

    let raw = stored(&host, "well-behaved", Some("acme"), "whoami")
        .await
        .expect("stored");
    let seen: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(
        seen,
        serde_json::json!({"company_id": "acme", "user": "jan.kowalski", "call": "tasks.run"})
    );
}

#[tokio::test]
async fn statement_uses_company_settings() {
    let host = host(test_limits());
    let plugin = host.load("well-behaved", WELL_BEHAVED);

    let statement = plugin
        .fetch_statement(with_context_id("acme"), &query())
        .await
        .unwrap();

    assert_eq!(statement.account, "PL61109010140000071219812874");
    assert_eq!(statement.transactions.len(), 2);
    let first = &statement.transactions[0];
    assert_eq!(first.bank_reference, "ref-1");
    assert_eq!(first.direction, Direction::Credit);
    assert_eq!(
        (first.amount.amount.as_str(), first.amount.currency.as_str()),
        ("75.50", "PLN")
    );
    assert_eq!(first.booking_date, "2026-11-01");
}

#[tokio::test]
async fn a_missing_setting_is_a_permanent_connector_error() {
    let host = host(test_limits());
    let plugin = host.load("well-behaved", WELL_BEHAVED);

    let error = plugin
        .fetch_statement(company("acme"), &query())
        .await
        .unwrap_err();

    let CallError::Connector {
        error: ConnectorError::InvalidInput(message),
        ..
    } = &error
    else {
        panic!("expected invalid-input, got {error:?}");
    };
    assert!(message.contains("context-id"), "{message}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn an_unknown_task_is_unsupported() {
    let host = host(test_limits());
    let plugin = host.load("minimal", MINIMAL);

    let error = plugin
        .run_task(company("acme"), "no-such-task")
        .await
        .unwrap_err();

    assert!(
        matches!(&error, CallError::Connector { error: ConnectorError::Unsupported(m), call: "tasks.run", .. }
            if m.contains("no-such-task")),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_sdk_readme_terminal_connector_runs_in_the_pos_world() {
    use h2h_host::runtime::model::Money;
    use h2h_host::runtime::model::pos::{IntentKind, IntentRequest, IntentResult, IntentStatus};
    let host = host(test_limits());
    let plugin = host.load("minimal-pos", h2h_test_plugins::MINIMAL_POS);
    assert_eq!(plugin.world(), World::PosConnector);

    let request = IntentRequest {
        terminal: "T-1".into(),
        kind: IntentKind::Sale,
        amount: Money {
            amount: "12.40".into(),
            currency: "EUR".into(),
        },
        tip: None,
        reference: "R-7".into(),
        instalments: None,
        original: None,
        e_invoicing: None,
    };
    let intent = plugin
        .start_intent(company("acme"), "device-key", &request)
        .await
        .expect("sale");
    assert_eq!(
        (
            intent.id.as_str(),
            intent.reference.as_str(),
            intent.amount.amount.as_str()
        ),
        ("intent-R-7", "R-7", "12.40")
    );
    assert_eq!(intent.status, IntentStatus::Completed);
    assert_eq!(intent.result, Some(IntentResult::Approved));
    assert_eq!((intent.status_code, intent.result_code), (3, Some(1)));

    let error = plugin
        .get_intent(company("acme"), "device-key", "intent-9")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CallError::Connector { error: ConnectorError::Rejected(r), call: "pos.get-intent", .. }
            if r.message == "no intent intent-9"),
        "{error:?}"
    );
    let error = plugin
        .redeem_pairing_code(company("acme"), "12345678")
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            CallError::Connector {
                error: ConnectorError::Unsupported(_),
                ..
            }
        ),
        "{error:?}"
    );
    // A bank call on it is refused by the host, naming the world.
    let error = plugin
        .fetch_statement(
            company("acme"),
            &h2h_host::runtime::model::bank::StatementQuery {
                account: "PL1".into(),
                from: "2026-11-01".into(),
                to: "2026-11-30".into(),
                continuation: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "plugin `minimal-pos` is a pos-connector connector and has no `bank.fetch-statement`"
    );
}

#[tokio::test]
async fn a_pos_call_on_a_bank_plugin_is_refused() {
    let host = host(test_limits());
    let plugin = host.load("well-behaved", WELL_BEHAVED);
    assert_eq!(plugin.world(), World::BankConnector);

    let error = plugin
        .list_terminals(company("acme"), "api-key")
        .await
        .unwrap_err();

    assert_eq!(
        error.to_string(),
        "plugin `well-behaved` is a bank-connector connector and has no `pos.list-terminals`"
    );
}

#[tokio::test]
async fn http_without_a_grant_is_denied() {
    let host = host(test_limits());
    let plugin = host.load("well-behaved", WELL_BEHAVED);

    let error = plugin.run_task(company("acme"), "http").await.unwrap_err();

    let CallError::Connector {
        error: ConnectorError::InvalidInput(message),
        ..
    } = &error
    else {
        panic!("expected the SDK's mapping of `denied`, got {error:?}");
    };
    assert!(message.contains("no HTTP grant"), "{message}");
}

#[test]
fn garbage_is_not_a_component() {
    let host = host(test_limits());
    let error = host
        .runtime
        .load("junk", b"PK\x03\x04 not wasm", Grants::default())
        .unwrap_err();
    assert!(
        matches!(error, LoadError::Compile { ref plugin, .. } if plugin == "junk"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("plugin `junk`: not a valid WebAssembly component: ")
    );
}

#[test]
fn a_core_module_is_not_a_component() {
    let host = host(test_limits());
    let error = host
        .runtime
        .load("core", b"(module)", Grants::default())
        .unwrap_err();
    assert!(matches!(error, LoadError::Compile { .. }), "{error:?}");
}

#[test]
fn a_component_without_connector_exports_is_refused() {
    let host = host(test_limits());
    let error = host
        .runtime
        .load("empty", b"(component)", Grants::default())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "plugin `empty`: exports neither `h2h:connector/bank` nor `h2h:connector/pos` of contract 1.x (it exports: )"
    );
}

#[test]
fn a_component_importing_what_the_host_does_not_lend_is_refused() {
    let host = host(test_limits());
    // Claims to be a bank connector, but wants a raw socket interface.
    let wat = r#"(component
        (import "evil:net/raw-socket@1.0.0" (instance (export "connect" (func))))
        (instance $bank)
        (export "h2h:connector/bank@1.0.0" (instance $bank))
    )"#;
    let error = host
        .runtime
        .load("evil", wat.as_bytes(), Grants::default())
        .unwrap_err();
    let LoadError::Link { plugin, reason } = &error else {
        panic!("expected a link error, got {error:?}");
    };
    assert_eq!(plugin, "evil");
    assert!(reason.contains("evil:net/raw-socket@1.0.0"), "{reason}");
}

/// Set in the child process that [`guest_log_probe`] runs in.
const LOG_PROBE: &str = "H2H_GUEST_LOG_PROBE";

/// tracing decides per callsite, process-wide, whether anyone listens (a
/// scoped subscriber in a shared test binary misses lines now and then), so
/// the guest's log line is produced alone in a child process of this test
/// binary, which prints every line, and read from its output.
#[test]
fn guest_log_lines_reach_tracing_with_the_plugin_id() {
    let logs = crate::common::run_probe(&probe_name!("guest_log_probe"), LOG_PROBE);
    let line = logs
        .lines()
        .find(|l| l.contains("hello from well-behaved"))
        .unwrap_or_else(|| panic!("no guest line in:\n{logs}"));
    assert!(line.contains(" INFO h2h::plugin: "), "{line}");
    assert!(line.contains("plugin=\"well-behaved\""), "{line}");
    assert!(line.contains("company=\"acme\""), "{line}");
    assert!(line.contains("call=\"tasks.run\""), "{line}");
}

/// Runs well-behaved's `log` task with every line printed. Does nothing
/// when run as an ordinary test.
#[tokio::test]
async fn guest_log_probe() {
    if std::env::var_os(LOG_PROBE).is_none() {
        return;
    }
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(std::io::stdout)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("subscriber");
    let host = host(test_limits());
    let plugin = host.load("well-behaved", WELL_BEHAVED);
    plugin
        .run_task(company("acme"), "log")
        .await
        .expect("the log task runs");
}
