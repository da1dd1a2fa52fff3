//! The transfer waiting room on both databases, through the well-behaved
//! test connector acting as a bank with idempotency: validation, idempotent
//! queueing, export per account, concurrent exports, the batch state
//! machine (submitted, unknown after a lost answer, failed after a refusal),
//! status refresh and cancelling.

use crate::admin;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::admin::Fixture;
use crate::served::Served;
use h2h_host::connectors::Connectors;
use h2h_host::db::testing::TestBackend;
use h2h_host::runtime::Limits;
use h2h_host::settlements::transfers::{
    Batch, BatchState, NewTransfer, TransferError, TransferStatus, Transfers,
};
use h2h_host::settlements::{BankAccount, Settlements};
use h2h_test_plugins::WELL_BEHAVED;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Row;

const PLUGIN: &str = "bank";
const BENEFICIARY: &str = "PL29 2490 0005 0000 4600 0000 0001";

struct Room {
    fx: Fixture,
    connectors: Arc<Connectors>,
    transfers: Transfers,
}

impl Room {
    fn connectors(&self) -> &Connectors {
        &self.connectors
    }

    async fn export(&self, company: &str, account: Option<&str>) -> Vec<Batch> {
        self.transfers
            .export(self.connectors(), company, account, Some("clerk"))
            .await
            .expect("export")
    }

    async fn submit(&self, batch: i64) -> Result<Batch, TransferError> {
        self.transfers
            .submit(self.connectors(), batch, Some("clerk"))
            .await
    }

    async fn enqueue(&self, company: &str, new: &NewTransfer) {
        self.transfers.enqueue(company, new).await.expect("enqueue");
    }

    async fn status(&self, company: &str, id: &str) -> TransferStatus {
        self.transfers
            .transfer(company, id)
            .await
            .expect("transfer")
            .status
    }

    /// What the pretend bank keeps for `company` under `key`.
    async fn bank(&self, company: &str, key: &str) -> Option<Value> {
        self.fx.stored_for(PLUGIN, company, key).await
    }

    /// How many batches the pretend bank holds for `company`.
    async fn bank_batches(&self, company: &str) -> i64 {
        sqlx::query(
            "SELECT COUNT(*) AS n FROM plugin_kv \
             WHERE plugin_id = $1 AND company_id = $2 AND key LIKE 'batch:%'",
        )
        .bind(PLUGIN)
        .bind(company)
        .fetch_one(self.fx.host.db.pool())
        .await
        .expect("count")
        .get("n")
    }

    async fn event_kinds(&self, company: &str) -> Vec<(String, Value)> {
        Settlements::new(self.fx.host.db.clone())
            .events(0, 1000, Some(company))
            .await
            .expect("events")
            .into_iter()
            .map(|e| (e.kind, e.payload))
            .collect()
    }
}

fn account(id: &str, company: &str, iban: &str) -> BankAccount {
    BankAccount {
        id: id.to_owned(),
        company: company.to_owned(),
        plugin: PLUGIN.to_owned(),
        iban: iban.to_owned(),
        currency: "PLN".to_owned(),
        name: format!("Account {id}"),
    }
}

fn transfer(id: &str, account: &str, amount: &str, title: &str) -> NewTransfer {
    NewTransfer {
        id: id.to_owned(),
        account: account.to_owned(),
        amount: amount.to_owned(),
        currency: "PLN".to_owned(),
        counterparty_account: BENEFICIARY.to_owned(),
        counterparty_name: "Dostawca Sp. z o.o.".to_owned(),
        counterparty_address: None,
        title: title.to_owned(),
        execution_date: None,
    }
}

/// Companies `acme` (accounts `acme-main`, `acme-second`) and `other`
/// (`other-main`), all served by the well-behaved connector as `bank`.
async fn setup(backend: TestBackend) -> Option<Room> {
    let fx = Fixture::new(backend).await?;
    let extra = "[capabilities]\nhttp = [\"https://bank.example\"]\nsigning = true\n";
    fx.install_with(
        PLUGIN,
        &admin::manifest(PLUGIN, "1.0.0", extra),
        WELL_BEHAVED,
    )
    .await;
    fx.company("acme").await;
    fx.company("other").await;
    let settlements = Settlements::new(fx.host.db.clone());
    for account in [
        account("acme-main", "acme", "PL61 1090 1014 0000 0712 1981 2874"),
        account("acme-second", "acme", "PL27114020040000300201355387"),
        account("other-main", "other", "PL60102010260000042270201111"),
    ] {
        settlements.add_account(&account).await.expect("account");
    }
    let connectors = fx.host.connectors();
    let transfers = Transfers::new(fx.host.db.clone());
    Some(Room {
        fx,
        connectors,
        transfers,
    })
}

async fn validation_errors_name_the_problem(backend: TestBackend) {
    let Some(room) = setup(backend).await else {
        return;
    };
    let good = transfer("T-1", "acme-main", "1234.50", "FV/2026/11/0042");
    let long_title = "x".repeat(141);
    let today = chrono::Utc::now().date_naive();
    let window = format!(
        "{} to {}",
        today - chrono::Days::new(1),
        today + chrono::Days::new(365)
    );
    let too_early =
        format!("execution date 2001-01-01 is outside what a bank books today: {window}");
    let too_late =
        format!("execution date 9999-12-31 is outside what a bank books today: {window}");
    let cases: Vec<(NewTransfer, &str, &str)> = vec![
        (
            NewTransfer {
                id: String::new(),
                ..good.clone()
            },
            "invalid_input",
            "a transfer id is required",
        ),
        (
            NewTransfer {
                id: "PP/2026/1".into(),
                ..good.clone()
            },
            "invalid_input",
            "transfer id `PP/2026/1` must be at most 64 letters, digits, `.`, `_`, `-` or `:`",
        ),
        (
            NewTransfer {
                amount: "0.00".into(),
                ..good.clone()
            },
            "invalid_input",
            "amount `0.00` must be more than zero",
        ),
        (
            NewTransfer {
                amount: "-5.00".into(),
                ..good.clone()
            },
            "invalid_input",
            "amount `-5.00` is not written like 1234.50: digits, at most one `.`, no sign, exponent, grouping or spaces",
        ),
        (
            NewTransfer {
                amount: "12,50".into(),
                ..good.clone()
            },
            "invalid_input",
            "amount `12,50` is not written like 1234.50: digits, at most one `.`, no sign, exponent, grouping or spaces",
        ),
        (
            NewTransfer {
                amount: "1e3".into(),
                ..good.clone()
            },
            "invalid_input",
            "amount `1e3` is not written like 1234.50: digits, at most one `.`, no sign, exponent, grouping or spaces",
        ),
        (
            NewTransfer {
                amount: " 100 ".into(),
                ..good.clone()
            },
            "invalid_input",
            "amount ` 100 ` is not written like 1234.50: digits, at most one `.`, no sign, exponent, grouping or spaces",
        ),
        (
            NewTransfer {
                amount: "+100".into(),
                ..good.clone()
            },
            "invalid_input",
            "amount `+100` is not written like 1234.50: digits, at most one `.`, no sign, exponent, grouping or spaces",
        ),
        (
            NewTransfer {
                amount: "0.001".into(),
                ..good.clone()
            },
            "invalid_input",
            "amount `0.001` has more decimals than PLN's 2",
        ),
        (
            NewTransfer {
                amount: "1234567890123456789012345678".into(),
                ..good.clone()
            },
            "invalid_input",
            "amount `1234567890123456789012345678` is too large: at most 12 digits before the point",
        ),
        (
            NewTransfer {
                currency: "pln".into(),
                ..good.clone()
            },
            "invalid_input",
            "currency `pln` is not an ISO 4217 currency code like UAH, PLN or EUR",
        ),
        (
            NewTransfer {
                currency: "EUR".into(),
                ..good.clone()
            },
            "invalid_input",
            "currency EUR does not match account `acme-main`, which is in PLN",
        ),
        (
            NewTransfer {
                counterparty_account: "  ".into(),
                ..good.clone()
            },
            "invalid_input",
            "a counterparty account is required",
        ),
        (
            NewTransfer {
                counterparty_account: "12 3456 <script>".into(),
                ..good.clone()
            },
            "invalid_input",
            "counterparty account `12 3456 <script>` must be an IBAN or at most 64 letters, digits, spaces, `-`, `/` or `.`",
        ),
        (
            NewTransfer {
                counterparty_name: String::new(),
                ..good.clone()
            },
            "invalid_input",
            "`counterparty_name` is required",
        ),
        (
            NewTransfer {
                title: " ".into(),
                ..good.clone()
            },
            "invalid_input",
            "`title` is required",
        ),
        (
            NewTransfer {
                title: long_title,
                ..good.clone()
            },
            "invalid_input",
            "`title` is 141 characters long; at most 140 are allowed",
        ),
        (
            NewTransfer {
                title: "two\nlines".into(),
                ..good.clone()
            },
            "invalid_input",
            "`title` contains a line break (U+000A); control and bidirectional formatting characters are not allowed",
        ),
        (
            NewTransfer {
                title: "Zwrot \u{202e}txt.exe".into(),
                ..good.clone()
            },
            "invalid_input",
            "`title` contains a bidirectional embedding or override (U+202E); control and bidirectional formatting characters are not allowed",
        ),
        (
            NewTransfer {
                counterparty_name: "\u{1b}[31mACME".into(),
                ..good.clone()
            },
            "invalid_input",
            "`counterparty_name` contains an escape (ANSI sequences) (U+001B); control and bidirectional formatting characters are not allowed",
        ),
        (
            NewTransfer {
                execution_date: Some("2001-01-01".into()),
                ..good.clone()
            },
            "invalid_input",
            &too_early,
        ),
        (
            NewTransfer {
                execution_date: Some("9999-12-31".into()),
                ..good.clone()
            },
            "invalid_input",
            &too_late,
        ),
        (
            NewTransfer {
                execution_date: Some("30.11.2026".into()),
                ..good.clone()
            },
            "invalid_input",
            "execution date `30.11.2026` is not a date like 2026-11-30",
        ),
        (
            NewTransfer {
                execution_date: Some("2026-02-30".into()),
                ..good.clone()
            },
            "invalid_input",
            "execution date `2026-02-30` is not a date like 2026-11-30",
        ),
        (
            NewTransfer {
                account: "other-main".into(),
                ..good.clone()
            },
            "unknown_account",
            "bank account `other-main` does not exist",
        ),
        (
            NewTransfer {
                account: "nowhere".into(),
                ..good.clone()
            },
            "unknown_account",
            "bank account `nowhere` does not exist",
        ),
    ];
    for (new, kind, message) in &cases {
        let error = room
            .transfers
            .enqueue("acme", new)
            .await
            .expect_err(message);
        assert_eq!(
            (error.kind(), error.to_string().as_str()),
            (*kind, *message)
        );
    }
    let bad_iban = NewTransfer {
        counterparty_account: "PL61 1090 1014 0000 0712 1981 2875".into(),
        ..good.clone()
    };
    let error = room
        .transfers
        .enqueue("acme", &bad_iban)
        .await
        .expect_err("checksum");
    assert!(
        error.to_string().starts_with(
            "counterparty account `PL61 1090 1014 0000 0712 1981 2875` is not a valid IBAN: "
        ),
        "{error}"
    );
    let error = room
        .transfers
        .enqueue("nope", &good)
        .await
        .expect_err("company");
    assert_eq!(error.to_string(), "company `nope` does not exist");
    assert_eq!(error.kind(), "unknown_company");
    assert!(
        room.transfers
            .list("acme", None, 0, 1000)
            .await
            .expect("list")
            .is_empty()
    );

    // Valid: canonical forms are stored.
    let tomorrow = (today + chrono::Days::new(1)).to_string();
    let queued = room
        .transfers
        .enqueue(
            "acme",
            &NewTransfer {
                amount: "0001234.50".into(),
                counterparty_account: "pl29 2490 0005 0000 4600 0000 0001".into(),
                execution_date: Some(tomorrow.clone()),
                counterparty_address: Some("  ".into()),
                ..good.clone()
            },
        )
        .await
        .expect("valid")
        .transfer;
    // Kept canonical, shown in the currency's minor units.
    assert_eq!(queued.amount, "1234.50");
    assert_eq!(queued.counterparty_account, "PL29249000050000460000000001");
    assert_eq!(queued.execution_date.as_deref(), Some(tomorrow.as_str()));
    assert_eq!(queued.counterparty_address, None);
    assert_eq!(queued.status, TransferStatus::Queued);
    // Days later its date has passed; the ERP's retry still gets it.
    sqlx::query("UPDATE transfers SET execution_date = '2026-01-05' WHERE id = 'T-1'")
        .execute(room.fx.host.db.pool())
        .await
        .expect("age the transfer");
    let retried = room
        .transfers
        .enqueue(
            "acme",
            &NewTransfer {
                amount: "1234.50".into(),
                counterparty_account: "PL29249000050000460000000001".into(),
                execution_date: Some("2026-01-05".into()),
                ..good.clone()
            },
        )
        .await
        .expect("a retry is answered, not refused");
    assert!(!retried.created);
    assert_eq!(retried.transfer.seq, queued.seq);
    let domestic = room
        .transfers
        .enqueue(
            "acme",
            &NewTransfer {
                id: "T-2".into(),
                counterparty_account: " 26007233566001 ".into(),
                ..good.clone()
            },
        )
        .await
        .expect("non-IBAN account")
        .transfer;
    assert_eq!(domestic.counterparty_account, "26007233566001");
    assert_eq!(
        "sent"
            .parse::<TransferStatus>()
            .expect_err("unknown status")
            .to_string(),
        "unknown transfer status `sent`; one of: queued, batched, submitted, awaiting-approval, accepted, executed, rejected, cancelled, needs-review"
    );
    room.fx.finish().await;
}
on_both_databases!(validation_errors_name_the_problem);

async fn enqueue_is_idempotent_by_erp_id(backend: TestBackend) {
    let Some(room) = setup(backend).await else {
        return;
    };
    let new = transfer("PAY-7", "acme-main", "100.00", "FV/7");
    let first = room.transfers.enqueue("acme", &new).await.expect("first");
    assert!(first.created);
    let again = room.transfers.enqueue("acme", &new).await.expect("again");
    assert!(!again.created);
    assert_eq!(again.transfer, first.transfer);
    // The same values written differently are the same request.
    let respelled = NewTransfer {
        amount: "100.0".into(),
        counterparty_account: "PL29249000050000460000000001".into(),
        title: " FV/7 ".into(),
        ..new.clone()
    };
    let same = room
        .transfers
        .enqueue("acme", &respelled)
        .await
        .expect("respelled");
    assert!(!same.created);
    let other = NewTransfer {
        amount: "100.01".into(),
        ..new.clone()
    };
    let error = room
        .transfers
        .enqueue("acme", &other)
        .await
        .expect_err("conflict");
    assert_eq!(error.kind(), "transfer_conflict");
    assert_eq!(
        error.to_string(),
        "transfer `PAY-7` of acme already exists with different details; a retried request must repeat the same body"
    );
    // Another company may use the same id.
    let theirs = NewTransfer {
        account: "other-main".into(),
        ..new.clone()
    };
    assert!(
        room.transfers
            .enqueue("other", &theirs)
            .await
            .expect("other company")
            .created
    );
    // A retry after the transfer moved on answers it as it stands.
    room.transfers
        .cancel("acme", "PAY-7")
        .await
        .expect("cancel");
    let late = room
        .transfers
        .enqueue("acme", &new)
        .await
        .expect("late retry");
    assert!(!late.created);
    assert_eq!(late.transfer.status, TransferStatus::Cancelled);
    assert_eq!(room.fx.count("transfers").await, 2);
    room.fx.finish().await;
}
on_both_databases!(enqueue_is_idempotent_by_erp_id);

async fn export_batches_per_account_and_company(backend: TestBackend) {
    let Some(room) = setup(backend).await else {
        return;
    };
    room.enqueue("acme", &transfer("A1", "acme-main", "10", "one"))
        .await;
    room.enqueue("acme", &transfer("A2", "acme-second", "20.5", "two"))
        .await;
    room.enqueue("acme", &transfer("A3", "acme-main", "30.00", "three"))
        .await;
    room.enqueue("other", &transfer("O1", "other-main", "40", "theirs"))
        .await;

    let batches = room.export("acme", None).await;
    assert_eq!(batches.len(), 2);
    let by_account: HashMap<&str, &Batch> =
        batches.iter().map(|b| (b.account.as_str(), b)).collect();
    assert_eq!(by_account["acme-main"].transfers, ["A1", "A3"]);
    assert_eq!(by_account["acme-second"].transfers, ["A2"]);
    assert_ne!(batches[0].idempotency_key, batches[1].idempotency_key);
    for batch in &batches {
        assert_eq!(batch.state, BatchState::Submitted, "{batch:?}");
        assert_eq!(batch.attempts, 1);
        assert_eq!(
            batch.bank_batch_id.as_deref(),
            Some(format!("batch-{}", batch.idempotency_key).as_str())
        );
        assert_eq!(batch.company, "acme");
        assert_eq!(batch.plugin, PLUGIN);
    }
    for id in ["A1", "A2", "A3"] {
        assert_eq!(room.status("acme", id).await, TransferStatus::Submitted);
    }
    assert_eq!(room.status("other", "O1").await, TransferStatus::Queued);
    assert_eq!(room.bank_batches("acme").await, 2);
    assert_eq!(room.bank_batches("other").await, 0);

    // What the bank received: the source IBAN, amounts with two decimals.
    let main = room
        .bank(
            "acme",
            &format!("batch:{}", by_account["acme-main"].idempotency_key),
        )
        .await
        .expect("received");
    assert_eq!(main["account"], "PL61109010140000071219812874");
    assert_eq!(main["transfers"][0][2], "10.00 PLN");
    assert_eq!(main["transfers"][1][2], "30.00 PLN");
    assert_eq!(main["calls"], 1);

    // Nothing queued: nothing to do. One account only: the other waits.
    assert!(room.export("acme", None).await.is_empty());
    room.enqueue("acme", &transfer("A4", "acme-main", "1", "four"))
        .await;
    room.enqueue("acme", &transfer("A5", "acme-second", "2", "five"))
        .await;
    let second_only = room.export("acme", Some("acme-second")).await;
    assert_eq!(second_only.len(), 1);
    assert_eq!(second_only[0].transfers, ["A5"]);
    assert_eq!(room.status("acme", "A4").await, TransferStatus::Queued);
    let error = room
        .transfers
        .export(room.connectors(), "acme", Some("other-main"), None)
        .await
        .expect_err("another company's account");
    assert_eq!(error.kind(), "unknown_account");

    let kinds: Vec<String> = room
        .event_kinds("acme")
        .await
        .into_iter()
        .map(|(kind, _)| kind)
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "batch.submitted").count(), 3);
    assert_eq!(kinds.iter().filter(|k| *k == "transfer.updated").count(), 4);
    assert!(room.event_kinds("other").await.is_empty());
    room.fx.finish().await;
}
on_both_databases!(export_batches_per_account_and_company);

async fn concurrent_exports_never_batch_a_transfer_twice(backend: TestBackend) {
    let Some(room) = setup(backend).await else {
        return;
    };
    let mut total = 0;
    for round in 0..4 {
        for n in 0..12 {
            let account = if n % 2 == 0 {
                "acme-main"
            } else {
                "acme-second"
            };
            room.enqueue(
                "acme",
                &transfer(&format!("R{round}-{n}"), account, "1.00", "race"),
            )
            .await;
            total += 1;
        }
        let mut tasks = Vec::new();
        for _ in 0..2 {
            let transfers = room.transfers.clone();
            let connectors = room.connectors.clone();
            tasks.push(tokio::spawn(async move {
                transfers.export(&connectors, "acme", None, None).await
            }));
        }
        let mut batched = 0;
        for task in tasks {
            for batch in task.await.expect("task").expect("export") {
                assert!(!batch.transfers.is_empty());
                assert_eq!(batch.state, BatchState::Submitted, "{batch:?}");
                batched += batch.transfers.len();
            }
        }
        assert_eq!(batched, 12, "round {round}");
    }
    let pool = room.fx.host.db.pool();
    let twice: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM (SELECT transfer_seq FROM transfer_batch_items \
         GROUP BY transfer_seq HAVING COUNT(*) > 1) AS doubled",
    )
    .fetch_one(pool)
    .await
    .expect("count")
    .get("n");
    assert_eq!(twice, 0);
    let items = room.fx.count("transfer_batch_items").await;
    assert_eq!(items, total);
    let listed = room
        .transfers
        .list("acme", None, 0, 1000)
        .await
        .expect("list");
    assert!(
        listed
            .iter()
            .all(|t| t.status == TransferStatus::Submitted && t.batch.is_some())
    );
    // The bank got each batch once, and holds each transfer once.
    let mut at_bank = 0;
    for batch in room.transfers.batches("acme", 100).await.expect("batches") {
        let received = room
            .bank("acme", &format!("batch:{}", batch.idempotency_key))
            .await
            .expect("at the bank");
        assert_eq!(received["calls"], 1);
        at_bank += received["transfers"].as_array().expect("list").len();
    }
    assert_eq!(at_bank as i64, total);
    room.fx.finish().await;
}
on_both_databases!(concurrent_exports_never_batch_a_transfer_twice);

async fn submission_stores_the_banks_statuses(backend: TestBackend) {
    let Some(room) = setup(backend).await else {
        return;
    };
    room.enqueue("acme", &transfer("S1", "acme-main", "5", "plain"))
        .await;
    room.enqueue("acme", &transfer("S2", "acme-main", "6", "closed #reject"))
        .await;
    room.enqueue("acme", &transfer("S3", "acme-main", "7", "big #approval"))
        .await;
    let batches = room.export("acme", None).await;
    assert_eq!(batches.len(), 1);
    let batch = &batches[0];
    assert_eq!(batch.state, BatchState::Submitted);
    assert!(batch.submitted_at.is_some() && batch.last_attempt_at.is_some());
    assert_eq!(batch.last_error, None);
    let s2 = room.transfers.transfer("acme", "S2").await.expect("S2");
    assert_eq!(s2.status, TransferStatus::Rejected);
    assert_eq!(
        s2.bank_message.as_deref(),
        Some("beneficiary account closed")
    );
    assert_eq!(s2.batch, Some(batch.id));
    assert_eq!(room.status("acme", "S1").await, TransferStatus::Submitted);
    assert_eq!(
        room.status("acme", "S3").await,
        TransferStatus::AwaitingApproval
    );
    let events = room.event_kinds("acme").await;
    let submitted = events
        .iter()
        .find(|(kind, _)| kind == "batch.submitted")
        .expect("batch.submitted");
    assert_eq!(submitted.1["batch"], batch.id);
    assert_eq!(
        submitted.1["idempotency_key"],
        batch.idempotency_key.as_str()
    );
    let updates: Vec<(String, String)> = events
        .iter()
        .filter(|(kind, _)| kind == "transfer.updated")
        .map(|(_, p)| {
            (
                p["transfer"].as_str().unwrap_or_default().to_owned(),
                p["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        updates,
        [
            ("S1".to_owned(), "submitted".to_owned()),
            ("S2".to_owned(), "rejected".to_owned()),
            ("S3".to_owned(), "awaiting-approval".to_owned()),
        ]
    );
    // A submitted batch is not submitted again.
    let error = room.submit(batch.id).await.expect_err("again");
    assert_eq!(error.kind(), "batch_state");
    assert_eq!(
        error.to_string(),
        format!(
            "transfer batch {} is submitted; only a created or unknown batch is submitted",
            batch.id
        )
    );
    room.fx.finish().await;
}
on_both_databases!(submission_stores_the_banks_statuses);

async fn a_lost_answer_is_retried_with_the_same_key(backend: TestBackend) {
    let Some(room) = setup(backend).await else {
        return;
    };
    room.enqueue(
        "acme",
        &transfer("L1", "acme-main", "99.99", "rent #timeout"),
    )
    .await;
    room.enqueue("acme", &transfer("L2", "acme-main", "1", "fee"))
        .await;
    let batches = room.export("acme", None).await;
    assert_eq!(batches.len(), 1);
    let batch = batches[0].clone();
    assert_eq!(batch.state, BatchState::Unknown);
    assert_eq!(batch.attempts, 1);
    assert_eq!(batch.bank_batch_id, None);
    let error = batch.last_error.clone().unwrap_or_default();
    assert!(error.contains("provider timed out"), "{error}");
    assert_eq!(room.status("acme", "L1").await, TransferStatus::Batched);
    // The bank has it, though we do not know.
    let key = format!("batch:{}", batch.idempotency_key);
    assert_eq!(room.bank("acme", &key).await.expect("at bank")["calls"], 1);

    // Nothing is queued, so another export makes no second batch; the
    // batched transfers cannot be cancelled (the bank may execute them).
    assert!(room.export("acme", None).await.is_empty());
    let refused = room
        .transfers
        .cancel("acme", "L1")
        .await
        .expect_err("batched");
    assert_eq!(
        refused.to_string(),
        "transfer `L1` is batched; only a queued transfer can be cancelled"
    );
    let refresh = room
        .transfers
        .refresh(room.connectors(), batch.id, None)
        .await
        .expect_err("no bank id yet");
    assert_eq!(refresh.kind(), "batch_state");

    let retried = room.submit(batch.id).await.expect("retry");
    assert_eq!(retried.state, BatchState::Submitted);
    assert_eq!(retried.idempotency_key, batch.idempotency_key);
    assert_eq!(retried.attempts, 2);
    assert_eq!(retried.last_error, None);
    assert_eq!(
        retried.bank_batch_id.as_deref(),
        Some(format!("batch-{}", batch.idempotency_key).as_str())
    );
    // One batch at the bank, reached twice under its one key.
    assert_eq!(room.bank_batches("acme").await, 1);
    assert_eq!(room.bank("acme", "batch-count").await, Some(Value::from(1)));
    assert_eq!(room.bank("acme", &key).await.expect("at bank")["calls"], 2);
    assert_eq!(room.status("acme", "L1").await, TransferStatus::Submitted);
    assert_eq!(room.fx.count("transfer_batches").await, 1);
    let kinds: Vec<String> = room
        .event_kinds("acme")
        .await
        .into_iter()
        .map(|(kind, _)| kind)
        .collect();
    assert_eq!(
        kinds[..2],
        ["batch.unknown".to_owned(), "batch.submitted".to_owned()]
    );
    room.fx.finish().await;
}
on_both_databases!(a_lost_answer_is_retried_with_the_same_key);

async fn a_call_stopped_at_its_deadline_is_unknown_too(backend: TestBackend) {
    let Some(room) = setup(backend).await else {
        return;
    };
    // A registry whose calls stop after 1 s, over the same database.
    let connectors = room.fx.connectors_with(Limits {
        deadline: Duration::from_secs(1),
        ..Limits::default()
    });
    room.enqueue("acme", &transfer("H1", "acme-main", "3", "slow #hang"))
        .await;
    let batches = room
        .transfers
        .export(&connectors, "acme", None, None)
        .await
        .expect("export");
    let batch = &batches[0];
    assert_eq!(batch.state, BatchState::Unknown);
    let error = batch.last_error.clone().unwrap_or_default();
    assert!(error.contains("deadline"), "{error}");
    let retried = room
        .transfers
        .submit(&connectors, batch.id, None)
        .await
        .expect("retry");
    assert_eq!(retried.state, BatchState::Submitted);
    assert_eq!(room.bank_batches("acme").await, 1);
    let key = format!("batch:{}", batch.idempotency_key);
    assert_eq!(room.bank("acme", &key).await.expect("at bank")["calls"], 2);
    room.fx.finish().await;
}
on_both_databases!(a_call_stopped_at_its_deadline_is_unknown_too);

/// A host with no free instance never reached the bank: the batch stays
/// `created` (not `unknown`, which would send a person to the bank), and the
/// next submission is the first the bank sees.
async fn a_busy_host_leaves_the_batch_as_it_was(backend: TestBackend) {
    let Some(room) = setup(backend).await else {
        return;
    };
    // One instance slot, held for 2 s by acme's hanging submission.
    let connectors = room.fx.connectors_with(Limits {
        deadline: Duration::from_secs(2),
        max_concurrent_instances: 1,
        ..Limits::default()
    });
    room.enqueue("acme", &transfer("H1", "acme-main", "3", "slow #hang"))
        .await;
    room.enqueue("other", &transfer("O1", "other-main", "9", "rent"))
        .await;
    let holding = {
        let (transfers, connectors) = (room.transfers.clone(), connectors.clone());
        tokio::spawn(async move {
            transfers
                .export(&connectors, "acme", None, None)
                .await
                .expect("export")
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let batches = room
        .transfers
        .export(&connectors, "other", None, None)
        .await
        .expect("export");
    let batch = &batches[0];
    assert_eq!(batch.state, BatchState::Created, "{batch:?}");
    assert_eq!(batch.attempts, 0);
    let error = batch.last_error.clone().unwrap_or_default();
    assert!(
        error.starts_with("not submitted: plugin `bank` bank.submit-batch: no free instance slot, the host is at capacity"),
        "{error}"
    );
    assert!(error.ends_with("; submit it again"), "{error}");
    assert_eq!(room.bank_batches("other").await, 0);
    assert_eq!(room.status("other", "O1").await, TransferStatus::Batched);
    let kinds: Vec<String> = room
        .event_kinds("other")
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert!(
        !kinds
            .iter()
            .any(|k| k == "batch.unknown" || k == "batch.failed"),
        "{kinds:?}"
    );

    // Once the slot is free, the next submission is the bank's first call.
    assert_eq!(holding.await.expect("acme")[0].state, BatchState::Unknown);
    let submitted = room
        .transfers
        .submit(&connectors, batch.id, None)
        .await
        .expect("submit");
    assert_eq!(submitted.state, BatchState::Submitted);
    assert_eq!(submitted.attempts, 1);
    let key = format!("batch:{}", batch.idempotency_key);
    assert_eq!(room.bank("other", &key).await.expect("at bank")["calls"], 1);
    room.fx.finish().await;
}
on_both_databases!(a_busy_host_leaves_the_batch_as_it_was);

async fn a_refused_batch_gives_its_transfers_back(backend: TestBackend) {
    let Some(room) = setup(backend).await else {
        return;
    };
    room.enqueue(
        "acme",
        &transfer("F1", "acme-main", "10", "bad #reject-batch"),
    )
    .await;
    room.enqueue("acme", &transfer("F2", "acme-main", "20", "salary"))
        .await;
    let failed = room.export("acme", None).await;
    assert_eq!(failed.len(), 1);
    let failed = failed[0].clone();
    assert_eq!(failed.state, BatchState::Failed);
    let error = failed.last_error.clone().unwrap_or_default();
    assert!(
        error.contains("rejected by the provider (AC01): the bank refused the batch"),
        "{error}"
    );
    assert_eq!(room.bank_batches("acme").await, 0);
    for id in ["F1", "F2"] {
        let t = room.transfers.transfer("acme", id).await.expect("transfer");
        assert_eq!(t.status, TransferStatus::Queued);
        assert_eq!(t.batch, None);
        assert!(
            t.last_error
                .as_deref()
                .is_some_and(|e| e.starts_with(&format!("batch {} failed: ", failed.id))),
            "{t:?}"
        );
    }
    let error = room.submit(failed.id).await.expect_err("failed is final");
    assert_eq!(error.kind(), "batch_state");

    // The ERP drops the bad one; the next export sends the rest under a
    // new key. The failed batch still lists what it carried.
    room.transfers.cancel("acme", "F1").await.expect("cancel");
    let next = room.export("acme", None).await;
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].state, BatchState::Submitted);
    assert_eq!(next[0].transfers, ["F2"]);
    assert_ne!(next[0].idempotency_key, failed.idempotency_key);
    let f2 = room.transfers.transfer("acme", "F2").await.expect("F2");
    assert_eq!(f2.last_error, None);
    assert_eq!(
        room.transfers
            .batch(failed.id)
            .await
            .expect("failed batch")
            .transfers,
        ["F1", "F2"]
    );
    let kinds: Vec<String> = room
        .event_kinds("acme")
        .await
        .into_iter()
        .map(|(kind, _)| kind)
        .collect();
    assert!(kinds.contains(&"batch.failed".to_owned()), "{kinds:?}");

    // A refusal after an attempt whose answer was lost proves nothing: the
    // first attempt may be at the bank. The batch stays unknown, its
    // transfers stay batched.
    room.enqueue(
        "acme",
        &transfer("U1", "acme-second", "10", "odd #timeout-then-reject"),
    )
    .await;
    let unknown = room.export("acme", None).await;
    assert_eq!(unknown[0].state, BatchState::Unknown);
    let again = room.submit(unknown[0].id).await.expect("retry");
    assert_eq!(again.state, BatchState::Unknown);
    assert_eq!(again.attempts, 2);
    let error = again.last_error.unwrap_or_default();
    assert!(
        error.contains("AM05") && error.contains("an earlier attempt may have reached the bank"),
        "{error}"
    );
    assert_eq!(room.status("acme", "U1").await, TransferStatus::Batched);
    room.fx.finish().await;
}
on_both_databases!(a_refused_batch_gives_its_transfers_back);

async fn refresh_applies_the_banks_statuses(backend: TestBackend) {
    let Some(room) = setup(backend).await else {
        return;
    };
    room.enqueue("acme", &transfer("Q1", "acme-main", "5", "goods"))
        .await;
    room.enqueue("acme", &transfer("Q2", "acme-main", "6", "closed #reject"))
        .await;
    room.enqueue("acme", &transfer("Q3", "acme-main", "7", "big #approval"))
        .await;
    let batch = room.export("acme", None).await.remove(0);
    let refreshed = room
        .transfers
        .refresh(room.connectors(), batch.id, Some("clerk"))
        .await
        .expect("refresh");
    assert_eq!(refreshed.state, BatchState::Submitted);
    let all = room
        .transfers
        .batch_transfers(batch.id)
        .await
        .expect("items");
    let states: Vec<(&str, TransferStatus, Option<&str>)> = all
        .iter()
        .map(|t| (t.id.as_str(), t.status, t.bank_reference.as_deref()))
        .collect();
    assert_eq!(
        states,
        [
            ("Q1", TransferStatus::Executed, Some("REF-Q1")),
            ("Q2", TransferStatus::Rejected, None),
            ("Q3", TransferStatus::Executed, Some("REF-Q3")),
        ]
    );
    // Again: nothing changes, no new events.
    let before = room.event_kinds("acme").await.len();
    room.transfers
        .refresh(room.connectors(), batch.id, None)
        .await
        .expect("refresh again");
    assert_eq!(room.event_kinds("acme").await.len(), before);
    let executed = room
        .event_kinds("acme")
        .await
        .into_iter()
        .filter(|(kind, p)| kind == "transfer.updated" && p["status"] == "executed")
        .count();
    assert_eq!(executed, 2);
    let error = room
        .transfers
        .refresh(room.connectors(), 9999, None)
        .await
        .expect_err("unknown");
    assert_eq!(error.to_string(), "transfer batch 9999 does not exist");
    room.fx.finish().await;
}
on_both_databases!(refresh_applies_the_banks_statuses);

async fn cancel_only_while_queued(backend: TestBackend) {
    let Some(room) = setup(backend).await else {
        return;
    };
    room.enqueue("acme", &transfer("C1", "acme-main", "5", "maybe"))
        .await;
    room.enqueue("acme", &transfer("C2", "acme-main", "6", "surely"))
        .await;
    let cancelled = room.transfers.cancel("acme", "C1").await.expect("cancel");
    assert_eq!(cancelled.status, TransferStatus::Cancelled);
    let twice = room.transfers.cancel("acme", "C1").await.expect("again");
    assert_eq!(twice.status, TransferStatus::Cancelled);
    let batch = room.export("acme", None).await.remove(0);
    assert_eq!(batch.transfers, ["C2"]);
    assert_eq!(room.status("acme", "C1").await, TransferStatus::Cancelled);
    let error = room
        .transfers
        .cancel("acme", "C2")
        .await
        .expect_err("submitted");
    assert_eq!(error.kind(), "not_cancellable");
    assert_eq!(
        error.to_string(),
        "transfer `C2` is submitted; only a queued transfer can be cancelled"
    );
    let error = room
        .transfers
        .cancel("other", "C2")
        .await
        .expect_err("not theirs");
    assert_eq!(error.to_string(), "transfer `C2` of other does not exist");
    assert_eq!(error.kind(), "unknown_transfer");
    let cancelled_only = room
        .transfers
        .list("acme", Some(TransferStatus::Cancelled), 0, 1000)
        .await
        .expect("list");
    assert_eq!(cancelled_only.len(), 1);
    assert_eq!(cancelled_only[0].id, "C1");
    room.fx.finish().await;
}
on_both_databases!(cancel_only_while_queued);

async fn the_erp_drives_the_waiting_room_over_http(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let extra = "[capabilities]\nhttp = [\"https://bank.example\"]\nsigning = true\n\n\
                 [[permissions]]\nname = \"send-money\"\ndescription = \"Submit transfers\"\n\
                 operations = [\"submit-transfers\"]\n";
    fx.install_with(
        PLUGIN,
        &admin::manifest(PLUGIN, "1.0.0", extra),
        WELL_BEHAVED,
    )
    .await;
    fx.company("acme").await;
    fx.company("other").await;
    let settlements = Settlements::new(fx.host.db.clone());
    settlements
        .add_account(&account(
            "acme-main",
            "acme",
            "PL61109010140000071219812874",
        ))
        .await
        .expect("account");
    let admin = &fx.host.admin;
    for (user, company) in [("anna", "acme"), ("bob", "acme"), ("carl", "other")] {
        admin
            .add_erp_user(&fx.actor, user, user, None)
            .await
            .expect("user");
        admin
            .grant_company(&fx.actor, user, company, false)
            .await
            .expect("company");
    }
    admin
        .grant_permission(&fx.actor, "anna", PLUGIN, "send-money")
        .await
        .expect("permission");
    let api = Served::start(&fx).await;
    let call = |method: Method, path: String, user: &'static str, body: Option<Value>| {
        let api = &api;
        async move { api.erp(method, &path, Some(user), body).await }
    };
    let rent = json!({
        "company": "acme", "id": "RENT-11", "account": "acme-main", "amount": "2500.00",
        "currency": "PLN", "counterparty_account": BENEFICIARY,
        "counterparty_name": "Landlord", "title": "Rent 11/2026",
    });

    let (status, created) = call(
        Method::POST,
        "/transfers".to_owned(),
        "anna",
        Some(rent.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "queued");
    assert_eq!(created["amount"], "2500.00");
    let (status, again) = call(
        Method::POST,
        "/transfers".to_owned(),
        "anna",
        Some(rent.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, created);
    let mut changed = rent.clone();
    changed["amount"] = json!("2600.00");
    let (status, body) = call(Method::POST, "/transfers".to_owned(), "anna", Some(changed)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("transfer_conflict"))
    );
    let mut bad = rent.clone();
    bad["id"] = json!("BAD");
    bad["amount"] = json!("-1");
    let (status, body) = call(Method::POST, "/transfers".to_owned(), "anna", Some(bad)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "amount `-1` is not written like 1234.50: digits, at most one `.`, no sign, exponent, grouping or spaces"
    );
    let mut fee = rent.clone();
    fee["id"] = json!("FEE-1");
    fee["title"] = json!("fee");
    let (status, _) = call(Method::POST, "/transfers".to_owned(), "bob", Some(fee)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = call(
        Method::POST,
        "/transfers".to_owned(),
        "carl",
        Some(rent.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let (status, queued) = call(
        Method::GET,
        "/transfers?company=acme&status=queued".to_owned(),
        "bob",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(queued.as_array().map(Vec::len), Some(2));
    let (status, body) = call(
        Method::GET,
        "/transfers?company=acme&status=sent".to_owned(),
        "bob",
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_input"))
    );
    let (status, cancelled) = call(
        Method::DELETE,
        "/transfers/acme/FEE-1".to_owned(),
        "bob",
        None,
    )
    .await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );

    // Sending money needs the plugin's permission.
    let export = json!({ "company": "acme" });
    let (status, body) = call(
        Method::POST,
        "/transfers/export".to_owned(),
        "bob",
        Some(export.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = call(
        Method::GET,
        "/transfers/acme/RENT-11".to_owned(),
        "bob",
        None,
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("queued"))
    );
    let (status, batches) = call(
        Method::POST,
        "/transfers/export".to_owned(),
        "anna",
        Some(export.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{batches}");
    let batch = &batches[0];
    assert_eq!(batches.as_array().map(Vec::len), Some(1));
    assert_eq!(batch["state"], "submitted");
    assert_eq!(batch["transfers"][0]["id"], "RENT-11");
    assert_eq!(batch["transfers"][0]["status"], "submitted");
    let id = batch["id"].as_i64().expect("batch id");

    let (status, body) = call(Method::GET, format!("/batches/{id}"), "carl", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = call(Method::POST, format!("/batches/{id}/submit"), "anna", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("batch_state"))
    );
    let (status, refreshed) =
        call(Method::POST, format!("/batches/{id}/refresh"), "bob", None).await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    assert_eq!(refreshed["transfers"][0]["status"], "executed");
    assert_eq!(refreshed["transfers"][0]["bank_reference"], "REF-RENT-11");
    let (status, body) = call(Method::GET, "/batches/4242".to_owned(), "bob", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_batch"))
    );

    // A lost answer: the batch is unknown until submitted again.
    let mut lost = rent.clone();
    lost["id"] = json!("RENT-12");
    lost["title"] = json!("Rent 12/2026 #timeout");
    call(Method::POST, "/transfers".to_owned(), "anna", Some(lost)).await;
    let (status, batches) = call(
        Method::POST,
        "/transfers/export".to_owned(),
        "anna",
        Some(export),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(batches[0]["state"], "unknown");
    let lost_id = batches[0]["id"].as_i64().expect("id");
    let (status, body) = call(
        Method::POST,
        format!("/batches/{lost_id}/submit"),
        "bob",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, retried) = call(
        Method::POST,
        format!("/batches/{lost_id}/submit"),
        "anna",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    assert_eq!(retried["state"], "submitted");
    assert_eq!(retried["attempts"], 2);
    assert_eq!(retried["idempotency_key"], batches[0]["idempotency_key"]);
    let (status, body) = call(
        Method::DELETE,
        "/transfers/acme/RENT-12".to_owned(),
        "anna",
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_cancellable"))
    );

    api.stop().await;
    fx.finish().await;
}
on_both_databases!(the_erp_drives_the_waiting_room_over_http);

/// A connector that declares no permission guarding `submit-transfers`:
/// nobody may send money through it, though company access still lets
/// users queue and read transfers.
async fn money_never_moves_without_a_permission(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let extra = "[capabilities]\nhttp = [\"https://bank.example\"]\nsigning = true\n";
    fx.install_with(
        PLUGIN,
        &admin::manifest(PLUGIN, "1.0.0", extra),
        WELL_BEHAVED,
    )
    .await;
    fx.company("acme").await;
    Settlements::new(fx.host.db.clone())
        .add_account(&account(
            "acme-main",
            "acme",
            "PL61109010140000071219812874",
        ))
        .await
        .expect("account");
    let admin = &fx.host.admin;
    admin
        .add_erp_user(&fx.actor, "anna", "anna", None)
        .await
        .expect("user");
    admin
        .grant_company(&fx.actor, "anna", "acme", false)
        .await
        .expect("company");
    let api = Served::start(&fx).await;
    let rent = json!({
        "company": "acme", "id": "RENT-11", "account": "acme-main", "amount": "2500.00",
        "currency": "PLN", "counterparty_account": BENEFICIARY,
        "counterparty_name": "Landlord", "title": "Rent 11/2026",
    });
    let (status, body) = api
        .erp(Method::POST, "/transfers", Some("anna"), Some(rent))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = api
        .erp(
            Method::POST,
            "/transfers/export",
            Some("anna"),
            Some(json!({ "company": "acme" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "forbidden");
    assert_eq!(
        body["message"],
        "bank declares no permission guarding `submit-transfers`, and money moves only with a \
         permission an admin grants: no ERP user may do it through bank"
    );
    let (_, still) = api
        .erp(Method::GET, "/transfers/acme/RENT-11", Some("anna"), None)
        .await;
    assert_eq!(still["status"], "queued", "nothing was batched: {still}");
    api.stop().await;
    fx.finish().await;
}

on_both_databases!(money_never_moves_without_a_permission);

fn debit(
    reference: &str,
    own: Option<&str>,
    amount: &str,
) -> h2h_host::settlements::IncomingTransaction {
    h2h_host::settlements::IncomingTransaction {
        bank_reference: reference.to_owned(),
        booking_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("date"),
        direction: h2h_host::settlements::Direction::Debit,
        amount: amount.parse().expect("amount"),
        currency: "PLN".to_owned(),
        title: "plain".to_owned(),
        counterparty_name: Some("Dostawca Sp. z o.o.".to_owned()),
        counterparty_account: Some(BENEFICIARY.replace(' ', "")),
        former_references: Vec::new(),
        details: h2h_host::settlements::LineDetails {
            own_reference: own.map(str::to_owned),
            value_date: Some("2026-02-30".to_owned()),
            ..Default::default()
        },
    }
}

async fn a_debit_books_the_sent_transfer_its_own_reference_names(backend: TestBackend) {
    let Some(room) = setup(backend).await else {
        return;
    };
    room.enqueue("acme", &transfer("B1", "acme-main", "150", "plain"))
        .await;
    room.enqueue("acme", &transfer("B2", "acme-main", "99.99", "plain"))
        .await;
    room.enqueue("other", &transfer("B1", "other-main", "150", "plain"))
        .await;
    assert_eq!(
        room.export("acme", None).await[0].state,
        BatchState::Submitted
    );
    assert_eq!(
        room.export("other", None).await[0].state,
        BatchState::Submitted
    );
    let settlements = Settlements::new(room.fx.host.db.clone());

    // B1 booked; B2's reference on a debit of another amount is not B2;
    // a line naming no sent transfer, or a queued one, books nothing.
    let report = settlements
        .record(
            "acme-main",
            &[
                debit("PKO1", Some("B1"), "150.00"),
                debit("PKO2", Some("B2"), "100.00"),
                debit("PKO3", Some("NOT-SENT"), "1.00"),
            ],
        )
        .await
        .expect("record");
    assert_eq!(report.booked_transfers, ["B1"]);
    let b1 = room.transfers.transfer("acme", "B1").await.expect("B1");
    assert_eq!(b1.status, TransferStatus::Executed);
    let stored = settlements
        .transactions(
            "acme-main",
            &h2h_host::settlements::TransactionFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("transactions");
    let line = &stored.transactions[0];
    assert_eq!(b1.booked_transaction, Some(line.id));
    assert_eq!(line.own_reference.as_deref(), Some("B1"));
    assert_eq!(
        line.value_date.as_deref(),
        Some("2026-02-30"),
        "kept as sent"
    );
    let b2 = room.transfers.transfer("acme", "B2").await.expect("B2");
    assert_eq!(
        (b2.status, b2.booked_transaction),
        (TransferStatus::Submitted, None)
    );
    // The same ERP id sent by another company stays untouched.
    let other = room
        .transfers
        .transfer("other", "B1")
        .await
        .expect("other B1");
    assert_eq!(
        (other.status, other.booked_transaction),
        (TransferStatus::Submitted, None)
    );
    // The line again (an overlapping download): nothing booked twice.
    let again = settlements
        .record("acme-main", &[debit("PKO1", Some("B1"), "150.00")])
        .await
        .expect("again");
    assert_eq!((again.new, again.booked_transfers.len()), (0, 0));
    let booked: Vec<(String, Value)> = room
        .event_kinds("acme")
        .await
        .into_iter()
        .filter(|(kind, _)| kind == "transfer.booked")
        .collect();
    assert_eq!(booked.len(), 1);
    assert_eq!(booked[0].1["transfer"], "B1");
    assert_eq!(booked[0].1["bank_reference"], "PKO1");
    room.fx.finish().await;
}
on_both_databases!(a_debit_books_the_sent_transfer_its_own_reference_names);

async fn bank_files_are_kept_once_and_read_back_by_company(backend: TestBackend) {
    let Some(room) = setup(backend).await else {
        return;
    };
    let settlements = Settlements::new(room.fx.host.db.clone());
    let file = h2h_host::runtime::model::Document {
        name: "pko.sta".to_owned(),
        media_type: "text/plain; charset=iso-8859-2".to_owned(),
        content: b":20:MT940/1\r\n\xb3\r\n".to_vec(),
    };
    assert_eq!(
        settlements
            .keep_documents("acme-main", None, std::slice::from_ref(&file))
            .await
            .expect("keep"),
        1
    );
    assert_eq!(
        settlements
            .keep_documents("acme-main", None, std::slice::from_ref(&file))
            .await
            .expect("again"),
        0,
        "the same bytes are kept once"
    );
    let listed = settlements.documents("acme-main", 10).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].size, 16);

    let admin = &room.fx.host.admin;
    for (user, company) in [("clerk", "acme"), ("outsider", "other")] {
        admin
            .add_erp_user(&room.fx.actor, user, user, None)
            .await
            .expect("user");
        admin
            .grant_company(&room.fx.actor, user, company, false)
            .await
            .expect("company");
    }
    let api = Served::start(&room.fx).await;
    let url = format!("{}/erp/v1/documents/{}", api.base, listed[0].id);
    let fetch = |user: &'static str| {
        api.client
            .get(&url)
            .bearer_auth(&api.erp_key)
            .header("X-H2H-User", user)
            .send()
    };
    let mine = fetch("clerk").await.expect("fetch");
    assert_eq!(mine.status(), StatusCode::OK);
    assert_eq!(
        mine.headers()["content-type"],
        "text/plain; charset=iso-8859-2"
    );
    assert_eq!(
        mine.bytes().await.expect("bytes").as_ref(),
        file.content.as_slice()
    );
    assert_eq!(
        fetch("outsider").await.expect("fetch").status(),
        StatusCode::FORBIDDEN
    );
    let (status, body) = api.get("/documents/999999", "clerk").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_document"))
    );
    let (status, _) = api.get("/accounts/acme-main/documents", "outsider").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    api.stop().await;
    room.fx.finish().await;
}
on_both_databases!(bank_files_are_kept_once_and_read_back_by_company);

/// `GET /transfers` answers a page at a time: `limit` (1 to 1000, default
/// 100) and the `seq` cursor `after`, oldest first.
async fn transfers_are_listed_a_page_at_a_time(backend: TestBackend) {
    let Some(room) = setup(backend).await else {
        return;
    };
    for id in ["P1", "P2", "P3"] {
        room.enqueue("acme", &transfer(id, "acme-main", "10", id))
            .await;
    }
    let admin = &room.fx.host.admin;
    admin
        .add_erp_user(&room.fx.actor, "anna", "anna", None)
        .await
        .expect("user");
    admin
        .grant_company(&room.fx.actor, "anna", "acme", false)
        .await
        .expect("company");
    let api = Served::start(&room.fx).await;
    let page = |query: &'static str| {
        let api = &api;
        async move {
            api.erp(
                Method::GET,
                &format!("/transfers?company=acme{query}"),
                Some("anna"),
                None,
            )
            .await
        }
    };
    let ids = |body: &Value| -> Vec<String> {
        body.as_array()
            .expect("list")
            .iter()
            .map(|t| t["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let (status, first) = page("&limit=2").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(ids(&first), ["P1", "P2"]);
    let cursor = first[1]["seq"].as_i64().expect("seq");
    let (_, rest) = api
        .erp(
            Method::GET,
            &format!("/transfers?company=acme&limit=2&after={cursor}"),
            Some("anna"),
            None,
        )
        .await;
    assert_eq!(ids(&rest), ["P3"]);
    let (_, all) = page("").await;
    assert_eq!(ids(&all), ["P1", "P2", "P3"]);
    for bad in ["&limit=0", "&limit=1001", "&after=-1"] {
        let (status, body) = page(bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    api.stop().await;
    room.fx.finish().await;
}
on_both_databases!(transfers_are_listed_a_page_at_a_time);
