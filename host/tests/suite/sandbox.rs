//! Hostile plugins are contained with a specific error, and the host keeps
//! serving well-behaved ones afterwards.

use crate::common;
use std::time::{Duration, Instant};

use crate::common::{company, host, test_limits};
use h2h_host::runtime::CallError;
use h2h_test_plugins::{HOSTILE, WELL_BEHAVED};

#[tokio::test]
async fn infinite_loop_stops_at_the_deadline() {
    let host = host(test_limits());
    let hostile = host.load("hostile", HOSTILE);

    let started = Instant::now();
    let error = hostile.run_task(company("acme"), "spin").await.unwrap_err();

    assert!(
        matches!(error, CallError::DeadlineExceeded { ref plugin, call: "tasks.run", limit }
            if plugin == "hostile" && limit == Duration::from_millis(750)),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "plugin `hostile` tasks.run: stopped after exceeding its 750ms deadline"
    );
    assert!(error.is_retryable());
    // Stopped near the deadline, not at some later timeout.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_spinning_plugin_does_not_starve_other_calls() {
    let host = host(test_limits());
    let hostile = host.load("hostile", HOSTILE);
    let good = host.load("well-behaved", WELL_BEHAVED);

    // One worker thread: if the spinning guest never yielded, the other call
    // could only run after the deadline fired.
    let spin = tokio::spawn(async move { hostile.run_task(company("acme"), "spin").await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    good.run_task(company("acme"), "noop")
        .await
        .expect("noop runs");
    assert!(
        !spin.is_finished(),
        "the spinning call should still be running"
    );

    let error = spin.await.expect("task joins").unwrap_err();
    assert!(
        matches!(error, CallError::DeadlineExceeded { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn memory_bomb_stops_at_the_memory_cap() {
    let host = host(test_limits());
    let hostile = host.load("hostile", HOSTILE);

    let error = hostile
        .run_task(company("acme"), "allocate")
        .await
        .unwrap_err();

    assert!(
        matches!(error, CallError::MemoryLimit { ref plugin, call: "tasks.run", limit_bytes }
            if plugin == "hostile" && limit_bytes == 64 << 20),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "plugin `hostile` tasks.run: stopped at its memory limit of 67108864 bytes"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn panic_comes_back_with_its_message() {
    let host = host(test_limits());
    let hostile = host.load("hostile", HOSTILE);

    let error = hostile
        .run_task(company("acme"), "panic")
        .await
        .unwrap_err();

    let CallError::Panic {
        plugin,
        call,
        message,
    } = &error
    else {
        panic!("expected a panic error, got {error:?}");
    };
    assert_eq!((plugin.as_str(), *call), ("hostile", "tasks.run"));
    assert!(
        message.contains("hostile plugin panicked on purpose"),
        "{message}"
    );
    assert!(
        error
            .to_string()
            .starts_with("plugin `hostile` tasks.run: panicked: ")
    );
}

#[tokio::test]
async fn unbounded_recursion_is_a_stack_overflow() {
    let host = host(test_limits());
    let hostile = host.load("hostile", HOSTILE);

    let error = hostile
        .run_task(company("acme"), "recurse")
        .await
        .unwrap_err();

    assert!(
        matches!(error, CallError::StackOverflow { ref plugin, call: "tasks.run" } if plugin == "hostile"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "plugin `hostile` tasks.run: stack overflow"
    );
}

#[tokio::test]
async fn huge_result_is_refused() {
    let host = host(test_limits());
    let hostile = host.load("hostile", HOSTILE);
    let error = hostile
        .fetch_statement(company("acme"), &huge_query())
        .await
        .unwrap_err();

    // Stopped while copying, not after: the 24 MiB never reach the host.
    assert!(
        matches!(error, CallError::TransferTooLarge { ref plugin, call: "bank.fetch-statement", limit_bytes }
            if plugin == "hostile" && limit_bytes == 16 << 20),
        "{error:?}"
    );
}

/// A result the copy allows but that is too large as JSON (what the host
/// passes on) is refused too.
#[tokio::test]
async fn a_result_too_large_as_json_is_refused() {
    let host = host(h2h_host::runtime::Limits {
        max_transfer_bytes: 32 << 20,
        ..test_limits()
    });
    let hostile = host.load("hostile", HOSTILE);

    let error = hostile
        .fetch_statement(company("acme"), &huge_query())
        .await
        .unwrap_err();

    assert!(
        matches!(error, CallError::OutputTooLarge { ref plugin, call: "bank.fetch-statement", limit_bytes }
            if plugin == "hostile" && limit_bytes == 16 << 20),
        "{error:?}"
    );
}

fn huge_query() -> h2h_host::runtime::model::bank::StatementQuery {
    h2h_host::runtime::model::bank::StatementQuery {
        account: "PL61109010140000071219812874".into(),
        from: "2026-11-01".into(),
        to: "2026-11-30".into(),
        continuation: None,
    }
}

/// One 1 MiB string named by 4096 HTTP headers: the host stops copying at
/// its cap, before any grant check could, and says so.
#[tokio::test]
async fn aliased_arguments_are_refused_while_copied() {
    let host = host(test_limits());
    let hostile = host.load("hostile", HOSTILE);
    let good = host.load("well-behaved", WELL_BEHAVED);

    let error = hostile
        .run_task(company("acme"), "alias-headers")
        .await
        .unwrap_err();

    assert!(
        matches!(error, CallError::TransferTooLarge { ref plugin, call: "tasks.run", limit_bytes }
            if plugin == "hostile" && limit_bytes == 16 << 20),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "plugin `hostile` tasks.run: handed the host more than 16777216 bytes at once \
         (a host call's arguments or the call's result)"
    );
    good.run_task(company("acme"), "count").await.unwrap();
}

/// Set in the child process [`alias_probe`] runs in.
const ALIAS_PROBE: &str = "H2H_ALIAS_PROBE";

/// What the host allocates for the aliased headers stays near its cap
/// (16 MiB), not the 4 GiB they name nor wasmtime's default of 128 MiB:
/// measured as the peak resident memory of a child process running only
/// that call, so no other test's allocations count.
#[test]
fn aliased_arguments_cost_the_host_at_most_its_cap() {
    let printed = common::run_probe(&probe_name!("alias_probe"), ALIAS_PROBE);
    let grew_kib: u64 = printed
        .lines()
        .find_map(|l| Some(l.split_once("peak grew KiB ")?.1))
        .unwrap_or_else(|| panic!("the probe did not run:\n{printed}"))
        .parse()
        .expect("a number");
    assert!(grew_kib < 40 << 10, "the peak grew {grew_kib} KiB");
}

/// The call [`aliased_arguments_cost_the_host_at_most_its_cap`] measures.
/// Does nothing when run as an ordinary test.
#[tokio::test]
async fn alias_probe() {
    if std::env::var_os(ALIAS_PROBE).is_none() {
        return;
    }
    let host = host(test_limits());
    let hostile = host.load("hostile", HOSTILE);
    // A first call compiles and instantiates: that is not what is measured.
    hostile
        .run_task(company("acme"), "recurse")
        .await
        .unwrap_err();
    let before = resident_kib("VmRSS");
    // Linux: writing 5 resets the peak (VmHWM) to the current size.
    std::fs::write("/proc/self/clear_refs", "5").expect("peak reset");
    let error = hostile
        .run_task(company("acme"), "alias-headers")
        .await
        .unwrap_err();
    assert!(
        matches!(error, CallError::TransferTooLarge { .. }),
        "{error:?}"
    );
    println!(
        "peak grew KiB {}",
        resident_kib("VmHWM").saturating_sub(before)
    );
}

fn resident_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

#[tokio::test]
async fn the_host_still_serves_after_every_attack() {
    let host = host(test_limits());
    let hostile = host.load("hostile", HOSTILE);
    let good = host.load("well-behaved", WELL_BEHAVED);

    for attack in ["spin", "allocate", "panic", "recurse"] {
        let error = hostile.run_task(company("acme"), attack).await.unwrap_err();
        assert!(
            !matches!(error, CallError::Connector { .. }),
            "{attack}: {error:?}"
        );
        good.run_task(company("acme"), "count")
            .await
            .unwrap_or_else(|e| panic!("well-behaved failed after {attack}: {e}"));
    }
    // Four counts landed: the attacks did not disturb the store either.
    let stored = common::stored(&host, "well-behaved", Some("acme"), "runs").await;
    assert_eq!(stored.as_deref(), Some(&b"4"[..]));
}

#[tokio::test]
async fn no_filesystem_environment_or_sockets() {
    let host = host(test_limits());
    let hostile = host.load("hostile", HOSTILE);

    // Each task returns an error naming what it reached, if it reached it.
    for escape in ["escape-fs", "escape-env", "escape-net"] {
        let outcome = hostile.run_task(company("acme"), escape).await;
        assert!(outcome.is_ok(), "{escape}: {outcome:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_instance_pool_answers_busy() {
    let host = host(h2h_host::runtime::Limits {
        max_concurrent_instances: 1,
        ..test_limits()
    });
    let hostile = host.load("hostile", HOSTILE);
    let good = host.load("well-behaved", WELL_BEHAVED);

    let spin = tokio::spawn(async move { hostile.run_task(company("acme"), "spin").await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let error = good.run_task(company("acme"), "noop").await.unwrap_err();

    assert!(
        matches!(error, CallError::Busy { ref plugin, call: "tasks.run", .. } if plugin == "well-behaved"),
        "{error:?}"
    );
    assert!(error.is_retryable());
    // Once the slot frees up, calls go through again.
    assert!(matches!(
        spin.await.unwrap(),
        Err(CallError::DeadlineExceeded { .. })
    ));
    good.run_task(company("acme"), "noop")
        .await
        .expect("slot is free again");
}

/// A component holding more memories than any Rust component needs (here
/// three) is refused when loaded: it could take a pool slot's worth of
/// memories from the other plugins.
#[test]
fn a_component_over_the_per_component_caps_is_refused() {
    let host = host(test_limits());
    let wat = r#"(component
        (core module $m (memory 1))
        (core instance (instantiate $m))
        (core instance (instantiate $m))
        (core instance (instantiate $m)))"#;

    let error = host
        .runtime
        .load(
            "hoarder",
            wat.as_bytes(),
            h2h_host::capabilities::Grants::default(),
        )
        .map(drop)
        .unwrap_err();

    let message = error.to_string();
    assert!(message.starts_with("plugin `hoarder`"), "{message}");
    assert!(message.contains("memories"), "{message}");
}

/// Set in the child process that [`log_flood_probe`] runs in.
const FLOOD_PROBE: &str = "H2H_LOG_FLOOD_PROBE";

/// A plugin writing 20,000 log lines at once gets its burst (ten seconds at
/// 100 lines a second) into the host's log, the rest dropped and counted in
/// one line; the call itself succeeds.
#[test]
fn a_log_flood_is_cut_to_the_plugins_rate() {
    let logs = common::run_probe(&probe_name!("log_flood_probe"), FLOOD_PROBE);
    let kept = logs.lines().filter(|l| l.contains("flood line ")).count();
    // The burst, and what refills at 100 a second while the flood lasts.
    assert!((1000..=1100).contains(&kept), "{kept} lines kept");
    let summary = logs
        .lines()
        .find(|l| l.contains("guest log lines dropped"))
        .unwrap_or_else(|| {
            panic!(
                "no summary in:\n{}",
                &logs[logs.len().saturating_sub(2000)..]
            )
        });
    assert!(summary.contains(" WARN h2h::plugin: "), "{summary}");
    assert!(summary.contains("plugin=\"hostile\""), "{summary}");
    assert!(
        summary.contains(&format!("dropped={}", 20_000 - kept)),
        "{summary}"
    );
    assert!(logs.contains("FLOOD CALL OK"), "the call failed");
}

/// Runs hostile's `log-flood` with every line printed. Does nothing when
/// run as an ordinary test.
#[tokio::test]
async fn log_flood_probe() {
    if std::env::var_os(FLOOD_PROBE).is_none() {
        return;
    }
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(std::io::stdout)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("subscriber");
    let host = host(h2h_host::runtime::Limits {
        deadline: Duration::from_secs(20),
        ..test_limits()
    });
    let plugin = host.load("hostile", HOSTILE);
    plugin
        .run_task(company("acme"), "log-flood")
        .await
        .expect("the flood task runs");
    println!("FLOOD CALL OK");
}
