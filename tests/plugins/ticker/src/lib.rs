//! A test connector for the scheduler and company settings: its tasks count
//! their runs, notice when they overlap, fail on purpose, and report what
//! configuration they were given.

use std::time::{Duration, Instant};

use h2h_sdk::bank::{Statement, StatementQuery};
use h2h_sdk::{BankConnector, Error, Lifecycle, Result, Tasks, config, storage};
use serde::Serialize;

struct Ticker;

impl Lifecycle for Ticker {}

impl Tasks for Ticker {
    fn run(name: &str) -> Result<()> {
        match name {
            "tick" => count("ticks"),
            "slow" => slow(),
            "fail" => Err(Error::rejected(None, "the bank said no")),
            "report" => report(),
            "probe-storage" => probe_storage(),
            other => Err(Error::unsupported(format!("unknown task `{other}`"))),
        }
    }
}

/// Adds one to `key` with compare-and-swap, so runs in two processes at
/// once would both be counted rather than one lost.
fn count(key: &str) -> Result<()> {
    loop {
        let current: Option<u64> = storage::get(key)?;
        let next = current.unwrap_or(0) + 1;
        if storage::compare_and_swap(key, current.as_ref(), Some(&next))? {
            return Ok(());
        }
    }
}

/// Marks itself active for about a second; finding the mark already set
/// means another run of this task is going on at the same time.
fn slow() -> Result<()> {
    if !storage::compare_and_swap::<bool>("slow-active", None, Some(&true))? {
        count("overlaps")?;
    }
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(1200) {
        std::hint::spin_loop();
    }
    storage::delete("slow-active")?;
    count("slow-runs")
}

/// What the task saw, stored for the test to read.
#[derive(Serialize)]
struct Report {
    company: Option<String>,
    user: Option<String>,
    context_id: Option<String>,
    retries: Option<String>,
    /// The length of the secret `token` (the token itself is not stored).
    token_length: Option<usize>,
    /// `setting("token")`: a secret must not be readable as a setting.
    token_as_setting: Option<String>,
}

fn report() -> Result<()> {
    let invocation = config::invocation();
    let report = Report {
        company: invocation.company_id,
        user: invocation.user,
        context_id: config::setting("context-id"),
        retries: config::setting("retries"),
        token_length: config::secret("token").map(|s| s.expose().len()),
        token_as_setting: config::setting("token"),
    };
    storage::set("report", &report)
}

/// What `probe-storage` found, stored under `probe`.
#[derive(Serialize)]
struct Probe {
    listed: Vec<String>,
    cas_with_stale_value: bool,
    cas_with_current_value: bool,
    after_cas: Option<u64>,
    /// A key that looks like a path into another company is just a key.
    escape_read: Option<u64>,
    bomb: String,
}

fn probe_storage() -> Result<()> {
    storage::set("probe/a", &1u64)?;
    storage::set("probe/b", &2u64)?;
    storage::set("probe-not-a-child", &3u64)?;
    let listed = storage::list("probe/")?;
    let cas_with_stale_value = storage::compare_and_swap("probe/a", Some(&7u64), Some(&8u64))?;
    let cas_with_current_value = storage::compare_and_swap("probe/a", Some(&1u64), Some(&9u64))?;
    let after_cas = storage::get("probe/a")?;
    storage::set("../globex/ticks", &1000u64)?;
    let escape_read = storage::get("../globex/ticks")?;
    let bomb = match storage::set_bytes("bomb", &vec![0u8; 2 << 20]) {
        Ok(()) => "stored".to_owned(),
        Err(e) => format!("{e:?}"),
    };
    storage::set(
        "probe",
        &Probe {
            listed,
            cas_with_stale_value,
            cas_with_current_value,
            after_cas,
            escape_read,
            bomb,
        },
    )
}

impl BankConnector for Ticker {
    fn fetch_statement(_query: StatementQuery) -> Result<Statement> {
        Err(Error::unsupported("this test plugin has no statements"))
    }
}

h2h_sdk::export_bank_connector!(Ticker);
