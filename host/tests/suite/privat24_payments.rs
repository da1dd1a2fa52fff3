//! Privat24 payments and balances against the simulator modelling the
//! documented Autoclient API: payments are created `new` (201) and found
//! executed on the statement; unknown status words end in `needs-review`;
//! a create whose answer was lost is never sent twice; withdrawing deletes
//! unsigned payments; a range's balances come from the records of its
//! first and last day, and the statement says how far the bank has closed.

use std::time::Duration;

use crate::admin::Fixture;
use crate::privat24_e2e::{IBAN, MERCHANT, TOKEN, anna_may, install, last_closed_day, money};
use crate::served::Served;
use chrono::{Days, NaiveDate, Utc};
use h2h_host::connectors::Registry;
use h2h_host::db::testing::TestBackend;
use h2h_host::runtime::model::bank::{Finality, StatementQuery};
use h2h_privat24_sim::data::ua_iban;
use h2h_privat24_sim::{
    Merchant, Money, NewTransaction, PaymentStatus, PaymentView, SimHandle, Simulator,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The connector checks an unknown status this many times before asking a
/// person (plugins/privat24/README.md).
const MAX_UNKNOWN_POLLS: usize = 48;
/// The account's balance before the simulator's first line.
const OPENING: &str = "10000.00";

struct Erp<'a>(&'a Served);

impl Erp<'_> {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.0.erp(method, path, Some("anna"), body).await
    }

    async fn queue(&self, id: &str, amount: &str, title: &str) {
        self.queue_on(id, amount, title, None).await;
    }

    /// Queues a transfer, to be executed on `date` (`YYYY-MM-DD`) if given.
    async fn queue_on(&self, id: &str, amount: &str, title: &str, date: Option<&str>) {
        let mut transfer = json!({
            "company": "acme", "id": id, "account": "acme-uah", "amount": amount,
            "currency": "UAH", "counterparty_account": ua_iban("305299", "26002000000002"),
            "counterparty_name": "ТОВ Постачальник", "counterparty_address": "12345678",
            "title": title,
        });
        if let Some(date) = date {
            transfer["execution_date"] = json!(date);
        }
        let (status, body) = self.call(Method::POST, "/transfers", Some(transfer)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// Exports the queue: the one batch it made.
    async fn export(&self) -> Value {
        let (status, batches) = self
            .call(
                Method::POST,
                "/transfers/export",
                Some(json!({ "company": "acme" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{batches}");
        assert_eq!(batches.as_array().map(Vec::len), Some(1), "{batches}");
        batches[0].clone()
    }

    async fn batch_call(&self, batch: &Value, action: &str) -> (StatusCode, Value) {
        let id = batch["id"].as_i64().expect("batch id");
        self.call(Method::POST, &format!("/batches/{id}/{action}"), None)
            .await
    }

    async fn refresh(&self, batch: &Value) -> Value {
        let (status, body) = self.batch_call(batch, "refresh").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

/// The state of transfer `id` in a batch view.
fn transfer<'a>(batch: &'a Value, id: &str) -> &'a Value {
    batch["transfers"]
        .as_array()
        .and_then(|all| all.iter().find(|t| t["id"] == id))
        .unwrap_or_else(|| panic!("{id} in {batch}"))
}

fn payments(bank: &SimHandle) -> Vec<PaymentView> {
    bank.payments(MERCHANT).expect("payments")
}

/// The bank's payment whose amount is `amount`.
fn payment_of(bank: &SimHandle, amount: &str) -> PaymentView {
    let amount = money(amount);
    let found: Vec<PaymentView> = payments(bank)
        .into_iter()
        .filter(|p| p.payment_data.payment_amount == amount)
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
}

async fn setup(backend: TestBackend) -> Option<(Fixture, SimHandle, NaiveDate)> {
    let fx = Fixture::new(backend).await?;
    let today = Utc::now().date_naive();
    let sim = Simulator::builder()
        .merchant(Merchant::new(MERCHANT, TOKEN, IBAN, "UAH"))
        .seed(3)
        .days(4)
        .today(today)
        .opening_balance(money(OPENING))
        .build()
        .expect("simulator");
    let running = sim.start("127.0.0.1:0").await.expect("bank serving");
    install(&fx, &running.url()).await;
    let bank = running.handle;
    anna_may(&fx, "submit-transfers").await;
    Some((fx, bank, today))
}

async fn privat24_payments_are_created_found_and_withdrawn(backend: TestBackend) {
    let Some((fx, bank, _)) = setup(backend).await else {
        return;
    };
    let api = Served::start(&fx).await;
    let erp = Erp(&api);

    // Created unsigned: the bank answers 201 and `new`.
    erp.queue("RENT-11", "1500.00", "Оренда за листопад").await;
    erp.queue("FEE-11", "250.00", "Послуги за листопад").await;
    let batch = erp.export().await;
    assert_eq!(batch["state"], "submitted", "{batch}");
    for id in ["RENT-11", "FEE-11"] {
        assert_eq!(
            transfer(&batch, id)["status"],
            "awaiting-approval",
            "{batch}"
        );
    }
    let rent = payment_of(&bank, "1500.00");
    let fee = payment_of(&bank, "250.00");
    assert_eq!(rent.payment_status, PaymentStatus::New);
    assert_eq!(
        transfer(&batch, "RENT-11")["bank_reference"],
        rent.payment_ref.as_str()
    );

    // Signed and executed in Privat24: the statement books it (DLR).
    bank.set_payment_status(&rent.payment_ref, PaymentStatus::Done)
        .expect("executed");
    let refreshed = erp.refresh(&batch).await;
    assert_eq!(
        transfer(&refreshed, "RENT-11")["status"],
        "executed",
        "{refreshed}"
    );
    assert_eq!(
        transfer(&refreshed, "FEE-11")["status"],
        "awaiting-approval"
    );

    // A status word no public source names: pending, then after 48 checks
    // a person is asked to look, and the connector stops asking.
    bank.set_payment_status(&fee.payment_ref, PaymentStatus::Signed)
        .expect("signed");
    for check in 1..MAX_UNKNOWN_POLLS {
        let refreshed = erp.refresh(&batch).await;
        assert_eq!(
            transfer(&refreshed, "FEE-11")["status"],
            "submitted",
            "check {check}: {refreshed}"
        );
    }
    let refreshed = erp.refresh(&batch).await;
    let fee_now = transfer(&refreshed, "FEE-11");
    assert_eq!(fee_now["status"], "needs-review", "{refreshed}");
    let message = fee_now["bank_message"].as_str().unwrap_or_default();
    assert!(
        message.contains("`signed`") && message.contains("look at the payment in Privat24"),
        "{message}"
    );
    bank.clear_requests();
    erp.refresh(&batch).await;
    assert!(
        !bank
            .requests()
            .iter()
            .any(|r| r.path == "/api/proxy/payment/get"),
        "a transfer that needs review is not polled again"
    );

    // Withdrawn: the unsigned payment is deleted at the bank; a signed one
    // stays, with the bank's reason.
    let tomorrow = Utc::now().date_naive() + Days::new(1);
    erp.queue_on(
        "GAS-11",
        "99.00",
        "Газ за листопад",
        Some(&tomorrow.to_string()),
    )
    .await;
    erp.queue("WATER-11", "45.50", "Вода за листопад").await;
    let second = erp.export().await;
    let water = payment_of(&bank, "45.50");
    // The execution date is the debit date, `payment_date`; the crediting
    // date (`payment_accept_date`) is the bank's.
    let gas = payment_of(&bank, "99.00");
    assert_eq!(
        gas.payment_data.payment_date,
        Some(tomorrow.format("%d.%m.%Y").to_string())
    );
    assert_eq!(gas.payment_data.payment_accept_date, None);
    assert_eq!(water.payment_data.payment_date, None);
    bank.set_payment_status(&water.payment_ref, PaymentStatus::Signed)
        .expect("signed");
    let (status, withdrawn) = erp.batch_call(&second, "withdraw").await;
    assert_eq!(status, StatusCode::OK, "{withdrawn}");
    assert_eq!(
        transfer(&withdrawn, "GAS-11")["status"],
        "cancelled",
        "{withdrawn}"
    );
    assert!(
        payments(&bank)
            .iter()
            .all(|p| p.payment_data.payment_amount != money("99.00"))
    );
    let water_now = transfer(&withdrawn, "WATER-11");
    assert_eq!(water_now["status"], "awaiting-approval", "{withdrawn}");
    assert!(
        water_now["bank_message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Privat24 keeps the payment: ")),
        "{withdrawn}"
    );

    // Only a submitted batch can be withdrawn.
    erp.queue("TAX-11", "10.00", "Податок").await;
    bank.faults().fail_next(1, 503).expect("fault");
    let refused = erp.export().await;
    assert_ne!(refused["state"], "submitted", "{refused}");
    let (status, body) = erp.batch_call(&refused, "withdraw").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("batch_state")),
        "{body}"
    );
    // A 503 means the bank did not take it: submitted again, it is created
    // once.
    let (status, again) = erp.batch_call(&refused, "submit").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(
        transfer(&again, "TAX-11")["status"],
        "awaiting-approval",
        "{again}"
    );
    payment_of(&bank, "10.00");

    api.stop().await;
    bank.stop().await;
    fx.finish().await;
}

on_both_databases!(privat24_payments_are_created_found_and_withdrawn);

/// The bank creates the payment but its answer never arrives: the batch is
/// unknown, and submitting it again does not create a second draft that a
/// person might sign.
async fn privat24_a_lost_create_answer_never_makes_a_second_payment(backend: TestBackend) {
    let Some((fx, bank, _)) = setup(backend).await else {
        return;
    };
    let api = Served::start(&fx).await;
    let erp = Erp(&api);

    erp.queue("RENT-12", "1500.00", "Оренда за грудень").await;
    // The bank creates it, then answers past the connector's 15 s request
    // timeout.
    bank.faults().delay_answer(Duration::from_secs(16));
    let lost = erp.export().await;
    assert_eq!(lost["state"], "unknown", "{lost}");
    bank.faults().reset();
    assert_eq!(payments(&bank).len(), 1);

    let (status, again) = erp.batch_call(&lost, "submit").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    let rent = transfer(&again, "RENT-12");
    assert_eq!(rent["status"], "needs-review", "{again}");
    let message = rent["bank_message"].as_str().unwrap_or_default();
    assert!(
        message.contains("look in Privat24 for a payment with document number"),
        "{message}"
    );
    let document_number = &payments(&bank)[0].document_number;
    assert!(message.contains(document_number.as_str()), "{message}");
    assert_eq!(payments(&bank).len(), 1, "no second payment");

    api.stop().await;
    bank.stop().await;
    fx.finish().await;
}

on_both_databases!(privat24_a_lost_create_answer_never_makes_a_second_payment);

/// The balance at the end of `day` from the bank's own lines.
fn balance_after(bank: &SimHandle, opening: Money, day: NaiveDate) -> Money {
    bank.transactions(MERCHANT)
        .expect("statement")
        .iter()
        .filter(|t| t.fl_real == "r" && t.pr_pr == "r")
        .filter(|t| t.date().is_some_and(|d| d <= day))
        .fold(opening, |sum, t| {
            let amount = t.amount().expect("amount");
            if t.is_credit() {
                sum + amount
            } else {
                sum - amount
            }
        })
}

async fn privat24_statement_balances_and_finality_over_a_range(backend: TestBackend) {
    let Some((fx, bank, today)) = setup(backend).await else {
        return;
    };
    let opening = money(OPENING);
    let closed = last_closed_day(today);
    let first = closed - Days::new(2);
    // Movements on several days of the range, so each day's record differs.
    for (days_before, amount) in [(2, "100.00"), (1, "20.00"), (0, "3.00")] {
        bank.add_transaction(
            MERCHANT,
            NewTransaction::credit(money(amount), closed - Days::new(days_before), "Оплата"),
        )
        .expect("line");
    }
    let loaded = Registry::new(
        fx.host.db.clone(),
        fx.host.admin.vault().clone(),
        fx.host.runtime.clone(),
    )
    .get("privat24")
    .await
    .expect("privat24");
    let statement = |from: NaiveDate, to: NaiveDate| {
        let loaded = &loaded;
        let fx = &fx;
        async move {
            let ctx = crate::common::call_context(&fx.host, "acme", "privat24", None).await;
            let query = StatementQuery {
                account: IBAN.to_owned(),
                from: from.to_string(),
                to: to.to_string(),
                continuation: None,
            };
            loaded
                .plugin
                .fetch_statement(ctx, &query)
                .await
                .expect("statement")
        }
    };

    let closed_range = statement(first, closed).await;
    let before_first = balance_after(&bank, opening, first - Days::new(1));
    assert_eq!(
        closed_range.opening_balance.map(|m| m.amount),
        Some(before_first.to_string())
    );
    assert_eq!(
        closed_range.closing_balance.map(|m| m.amount),
        Some(balance_after(&bank, opening, closed).to_string())
    );
    assert_eq!(closed_range.finality, Finality::Final);
    assert_eq!(closed_range.final_through, Some(closed.to_string()));

    // Through today: not closed yet, so no closing balance.
    let open_range = statement(first, today).await;
    assert_eq!(open_range.finality, Finality::Interim);
    assert_eq!(open_range.closing_balance, None);
    assert_eq!(open_range.final_through, Some(closed.to_string()));

    bank.stop().await;
    fx.finish().await;
}

on_both_databases!(privat24_statement_balances_and_finality_over_a_range);
