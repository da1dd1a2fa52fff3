//! A bank connector built in several versions to test install, upgrade and
//! rollback: 1.0 stores data at install; the 1.1 builds migrate it (or fail
//! to, or hang half-way).

use h2h_sdk::bank::{Statement, StatementQuery};
use h2h_sdk::{BankConnector, Error, Lifecycle, Result, Tasks, storage};

struct Versioned;

impl Lifecycle for Versioned {
    fn install() -> Result<()> {
        storage::set("format", &1u32)?;
        storage::set("greeting", &"hello".to_owned())
    }

    fn migrate(previous: &str) -> Result<()> {
        if !previous.starts_with("1.0") {
            return Err(Error::unsupported(format!(
                "cannot migrate from {previous}"
            )));
        }
        // Every 1.1 build changes data first, so a failure after it shows
        // whether the host restores what was there.
        storage::set("format", &2u32)?;
        if cfg!(feature = "broken") {
            return Err(Error::rejected(None, "greeting cannot be converted"));
        }
        if cfg!(feature = "slow") {
            #[allow(clippy::empty_loop)]
            loop {}
        }
        let greeting: String = storage::get("greeting")?.unwrap_or_default();
        storage::set("greeting", &greeting.to_uppercase())
    }
}

impl Tasks for Versioned {
    fn run(name: &str) -> Result<()> {
        match name {
            "ping" => storage::set("pinged", &true),
            other => Err(Error::unsupported(format!("unknown task `{other}`"))),
        }
    }
}

impl BankConnector for Versioned {
    fn fetch_statement(_query: StatementQuery) -> Result<Statement> {
        Err(Error::unsupported("this test plugin has no statements"))
    }
}

h2h_sdk::export_bank_connector!(Versioned);
