//! The simulator over loopback HTTP, as a connector sees it.

use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, NaiveTime};
use h2h_privat24_sim::{
    Merchant, Money, NewTransaction, PaymentStatus, Progression, Running, SimError, Simulator,
    StatementTransaction, TxStatus, query_date,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ACCOUNT: &str = "UA213223130000026007233566001";
const TOKEN: &str = "test-token-1";
const MERCHANT_ID: &str = "test-merchant-1";

/// A Monday, so `lastday` has to skip a weekend.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn merchant() -> Merchant {
    Merchant::new(MERCHANT_ID, TOKEN, ACCOUNT, "UAH")
}

/// What the bank's documented clients send on every request; without it
/// the bank answers in cp1251.
const UTF8_JSON: &str = "application/json;charset=utf8";

fn client(timeout: Duration) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::CONTENT_TYPE,
        reqwest::header::HeaderValue::from_static(UTF8_JSON),
    );
    // No proxy: an environment proxy must not see loopback traffic.
    reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .default_headers(headers)
        .build()
        .unwrap()
}

struct Bank {
    running: Running,
    http: reqwest::Client,
}

impl Bank {
    async fn start(days: u32) -> Bank {
        Self::with(Simulator::builder().merchant(merchant()).days(days)).await
    }

    async fn with(builder: h2h_privat24_sim::SimulatorBuilder) -> Bank {
        let sim = builder.today(today()).build().unwrap();
        let running = sim.start("127.0.0.1:0").await.unwrap();
        Bank {
            running,
            http: client(Duration::from_secs(10)),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    /// GET with this merchant's token; status and JSON body.
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(self.url(path))
            .header("token", TOKEN)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap())
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(self.url(path))
            .header("token", TOKEN)
            .body(serde_json::to_vec(body).unwrap())
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap())
    }

    /// `POST /api/proxy/payment/delete?ref=…` with an empty body, as the
    /// documented client sends it; status and raw body.
    async fn delete(&self, token: &str, reference: &str) -> (StatusCode, Vec<u8>) {
        let r = self
            .http
            .post(self.url(&format!("/api/proxy/payment/delete?ref={reference}")))
            .header("token", token)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.bytes().await.unwrap().to_vec())
    }

    /// GET with another token; status and JSON body.
    async fn get_as(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(self.url(path))
            .header("token", token)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap())
    }

    /// POST with another token; status and JSON body.
    async fn post_as(&self, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(self.url(path))
            .header("token", token)
            .body(serde_json::to_vec(body).unwrap())
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap())
    }

    fn statement(&self) -> Vec<StatementTransaction> {
        self.running.handle.transactions(MERCHANT_ID).unwrap()
    }

    /// Follows `next_page_id` from the first page; every page's lines.
    async fn walk(&self, query: &str) -> Vec<Vec<StatementTransaction>> {
        let mut pages = Vec::new();
        let mut follow: Option<String> = None;
        for _ in 0..200 {
            let mut path = format!("/api/statements/transactions?{query}");
            if let Some(f) = &follow {
                path.push_str(&format!("&followId={f}"));
            }
            let (status, body) = self.get(&path).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["status"], "SUCCESS");
            assert_eq!(body["type"], "transactions");
            pages.push(lines(&body));
            if !body["exist_next_page"].as_bool().unwrap() {
                return pages;
            }
            follow = Some(body["next_page_id"].as_str().unwrap().to_string());
        }
        panic!("pagination did not end");
    }
}

fn lines(body: &Value) -> Vec<StatementTransaction> {
    serde_json::from_value(body["transactions"].clone()).unwrap()
}

fn ids(lines: &[StatementTransaction]) -> Vec<String> {
    lines.iter().map(|t| t.id.clone()).collect()
}

fn assert_bank_error(status: StatusCode, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["status"], "ERROR", "{body}");
    assert_eq!(body["code"], expected.as_u16(), "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

fn money(v: &Value) -> Money {
    v.as_str().unwrap().parse().unwrap()
}

fn bank_error(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap()
}

fn other_merchant() -> Merchant {
    Merchant::new(
        OTHER_MERCHANT_ID,
        OTHER_TOKEN,
        "UA473052990000026007233566002",
        "UAH",
    )
}

const OTHER_MERCHANT_ID: &str = "test-merchant-2";
const OTHER_TOKEN: &str = "test-token-2";

fn range_query(start: NaiveDate, end: NaiveDate) -> String {
    format!(
        "acc={ACCOUNT}&startDate={}&endDate={}",
        query_date(start),
        query_date(end)
    )
}

#[tokio::test]
async fn requests_without_a_valid_token_are_refused() {
    let bank = Bank::start(1).await;
    let url = bank.url("/api/statements/settings");
    let cases: [(&[(&str, &str)], StatusCode); 5] = [
        (&[], StatusCode::UNAUTHORIZED),
        (&[("token", "wrong")], StatusCode::UNAUTHORIZED),
        (
            &[("token", TOKEN), ("id", "someone-else")],
            StatusCode::UNAUTHORIZED,
        ),
        (&[("token", TOKEN), ("id", MERCHANT_ID)], StatusCode::OK),
        (&[("token", TOKEN)], StatusCode::OK),
    ];
    for (headers, expected) in cases {
        let mut req = bank.http.get(&url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        if expected == StatusCode::OK {
            assert_eq!(status, StatusCode::OK, "{headers:?}: {body}");
            assert_eq!(body["status"], "SUCCESS");
        } else {
            assert_bank_error(status, &body, expected);
        }
    }
    let statuses: Vec<_> = bank
        .running
        .handle
        .requests()
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses,
        [Some(401), Some(401), Some(401), Some(200), Some(200)]
    );
}

#[tokio::test]
async fn settings_report_the_phase_and_statements_need_wrk() {
    let bank = Bank::start(3).await;
    let (status, body) = bank.get("/api/statements/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "SUCCESS");
    assert_eq!(body["type"], "settings");
    let s = &body["settings"];
    assert_eq!(s["phase"], "WRK");
    assert_eq!(s["today"], "23.11.2026 00:00:00");
    assert_eq!(
        s["lastday"], "20.11.2026 00:00:00",
        "Monday's last day is Friday"
    );
    assert_eq!(s["work_balance"], "N");
    // The last final statement is lastday's, at midnight, as in the
    // documented example: today's is not final yet.
    assert_eq!(s["date_final_statement"], "20.11.2026 00:00:00");
    assert_eq!(s["date_final_statement"], s["lastday"]);
    let server_time = s["server_date_time"].as_str().unwrap();
    assert!(server_time.starts_with("23.11.2026 "), "{server_time}");
    assert_eq!(server_time.len(), "dd.MM.yyyy HH:mm:ss".len());

    let q = range_query(today(), today());
    bank.running.handle.faults().phase("NOT_WRK");
    let (_, body) = bank.get("/api/statements/settings").await;
    assert_eq!(body["settings"]["phase"], "NOT_WRK");
    let (status, body) = bank.get(&format!("/api/statements/transactions?{q}")).await;
    assert_bank_error(status, &body, StatusCode::SERVICE_UNAVAILABLE);
    let (status, body) = bank.get(&format!("/api/statements/balance?{q}")).await;
    assert_bank_error(status, &body, StatusCode::SERVICE_UNAVAILABLE);

    bank.running.handle.faults().phase("WRK");
    let (status, _) = bank.get(&format!("/api/statements/transactions?{q}")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn pagination_walks_every_line_exactly_once() {
    let bank = Bank::start(10).await;
    let expected = bank.statement();
    let n = expected.len();
    assert!(n > 20, "seed 42 over 10 days gives {n} lines");
    let start = today() - Days::new(9);
    let q = format!("{}&limit=7", range_query(start, today()));

    let pages = bank.walk(&q).await;
    assert_eq!(pages.len(), n.div_ceil(7));
    let (last, full) = pages.split_last().unwrap();
    assert!(full.iter().all(|p| p.len() == 7));
    assert_eq!(last.len(), n - 7 * full.len());
    let walked: Vec<_> = pages.concat();
    assert_eq!(ids(&walked), ids(&expected));
    assert_eq!(walked, expected, "served lines equal the bank's books");

    // Each request after the first followed the previous answer's id.
    let log = bank.running.handle.requests();
    assert_eq!(log.len(), pages.len());
    assert!(log.iter().all(|r| r.method == "GET"
        && r.path == "/api/statements/transactions"
        && r.param("limit").as_deref() == Some("7")
        && r.status == Some(200)));
    assert_eq!(log[0].param("followId"), None);
    assert!(log[1..].iter().all(|r| r.param("followId").is_some()));

    // Default page size 20; anything over 500 is capped, not refused.
    let base = range_query(start, today());
    let (_, body) = bank
        .get(&format!("/api/statements/transactions?{base}"))
        .await;
    assert_eq!(lines(&body).len(), 20);
    assert_eq!(body["exist_next_page"], true);
    let (_, body) = bank
        .get(&format!("/api/statements/transactions?{base}&limit=600"))
        .await;
    assert_eq!(lines(&body).len(), n);
    assert_eq!(body["exist_next_page"], false);

    for bad in [
        "limit=0",
        "limit=abc",
        "limit=-1",
        "followId=nonsense",
        "followId=P1",
    ] {
        let (status, body) = bank
            .get(&format!("/api/statements/transactions?{base}&{bad}"))
            .await;
        assert_bank_error(status, &body, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn pages_stay_put_when_lines_arrive_meanwhile() {
    let bank = Bank::start(10).await;
    let q = format!("{}&limit=5", range_query(today() - Days::new(9), today()));
    let (_, first) = bank.get(&format!("/api/statements/transactions?{q}")).await;
    let first_ids = ids(&lines(&first));
    // A line booked before the cursor must not shift the next page.
    let early = NewTransaction::credit(Money::new(10, 0), today() - Days::new(9), "Рання оплата")
        .at(NaiveTime::from_hms_opt(0, 1, 0).unwrap());
    bank.running
        .handle
        .add_transaction(MERCHANT_ID, early)
        .unwrap();
    let next = first["next_page_id"].as_str().unwrap();
    let (_, second) = bank
        .get(&format!("/api/statements/transactions?{q}&followId={next}"))
        .await;
    let all = ids(&bank.statement());
    // The new line is first in the books; page two starts right after
    // page one's last line all the same.
    let after_first = all.iter().position(|id| *id == first_ids[4]).unwrap() + 1;
    assert_eq!(ids(&lines(&second)), all[after_first..after_first + 5]);
}

#[tokio::test]
async fn date_range_filters_by_booking_day() {
    let bank = Bank::start(0).await;
    let h = &bank.running.handle;
    let d1 = NaiveDate::from_ymd_opt(2026, 11, 17).unwrap();
    let d2 = NaiveDate::from_ymd_opt(2026, 11, 18).unwrap();
    let d3 = NaiveDate::from_ymd_opt(2026, 11, 19).unwrap();
    let mut by_day = Vec::new();
    for (day, count) in [(d1, 2), (d2, 3), (d3, 1)] {
        for i in 0..count {
            let t = h
                .add_transaction(
                    MERCHANT_ID,
                    NewTransaction::credit(Money::new(100 + i, 0), day, format!("Оплата {i}")),
                )
                .unwrap();
            by_day.push((day, t.id));
        }
    }
    let ids_on = |days: &[NaiveDate]| -> Vec<String> {
        let mut v: Vec<_> = by_day
            .iter()
            .filter(|(d, _)| days.contains(d))
            .map(|(_, id)| id.clone())
            .collect();
        v.sort();
        v
    };
    let fetch = |q: String| {
        let bank = &bank;
        async move {
            let (status, body) = bank.get(&format!("/api/statements/transactions?{q}")).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let mut got = ids(&lines(&body));
            got.sort();
            got
        }
    };
    assert_eq!(fetch(range_query(d2, d2)).await, ids_on(&[d2]));
    assert_eq!(fetch(range_query(d1, d2)).await, ids_on(&[d1, d2]));
    assert_eq!(fetch(range_query(d3, today())).await, ids_on(&[d3]));
    // endDate defaults to today.
    assert_eq!(
        fetch(format!("startDate={}", query_date(d2))).await,
        ids_on(&[d2, d3])
    );
    assert_eq!(
        fetch(range_query(today(), today())).await,
        Vec::<String>::new()
    );

    for bad in [
        format!("endDate={}", query_date(d2)),
        "startDate=2026-11-18".to_string(),
        "startDate=18.11.2026".to_string(),
        "startDate=31-02-2026".to_string(),
        format!("startDate={}&endDate={}", query_date(d3), query_date(d1)),
    ] {
        let (status, body) = bank
            .get(&format!("/api/statements/transactions?{bad}"))
            .await;
        assert_bank_error(status, &body, StatusCode::BAD_REQUEST);
    }
    let (status, body) = bank
        .get("/api/statements/transactions?acc=UA000000000000000000000000000&startDate=18-11-2026")
        .await;
    assert_bank_error(status, &body, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_added_invoice_payment_is_served_with_the_banks_fields() {
    let bank = Bank::start(2).await;
    let day = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    let title = "Оплата рахунку FV/2026/11/0042";
    let added = bank
        .running
        .handle
        .add_transaction(
            MERCHANT_ID,
            NewTransaction::credit("1500.00".parse().unwrap(), day, title)
                .at(NaiveTime::from_hms_opt(10, 15, 0).unwrap()),
        )
        .unwrap();
    let (_, body) = bank
        .get(&format!(
            "/api/statements/transactions?{}",
            range_query(day, day)
        ))
        .await;
    let raw = body["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["ID"] == added.id.as_str())
        .expect("the added line is served");
    const FIELDS: [&str; 28] = [
        "AUT_MY_CRF",
        "AUT_MY_MFO",
        "AUT_MY_ACC",
        "AUT_MY_NAM",
        "AUT_MY_MFO_NAME",
        "AUT_CNTR_CRF",
        "AUT_CNTR_MFO",
        "AUT_CNTR_ACC",
        "AUT_CNTR_NAM",
        "AUT_CNTR_MFO_NAME",
        "CCY",
        "FL_REAL",
        "PR_PR",
        "DOC_TYP",
        "NUM_DOC",
        "DAT_KL",
        "DAT_OD",
        "OSND",
        "SUM",
        "SUM_E",
        "REF",
        "REFN",
        "TIM_P",
        "DATE_TIME_DAT_OD_TIM_P",
        "ID",
        "TRANTYPE",
        "DLR",
        "TECHNICAL_TRANSACTION_ID",
    ];
    for f in FIELDS {
        assert!(raw[f].is_string(), "{f} is a string in {raw}");
    }
    assert_eq!(raw["SUM"], "1500.00");
    assert_eq!(raw["SUM_E"], "1500.00");
    assert_eq!(raw["CCY"], "UAH");
    assert_eq!(raw["TRANTYPE"], "C");
    assert_eq!(raw["OSND"], title);
    assert_eq!(raw["DAT_OD"], "21.11.2026");
    assert_eq!(raw["TIM_P"], "10:15");
    assert_eq!(raw["DATE_TIME_DAT_OD_TIM_P"], "21.11.2026 10:15:00");
    assert_eq!(raw["FL_REAL"], "r");
    assert_eq!(raw["PR_PR"], "r");
    assert_eq!(raw["AUT_MY_ACC"], ACCOUNT);
    assert_eq!(raw["AUT_MY_MFO"], "322313", "the bank code inside the IBAN");
    assert_eq!(raw["AUT_MY_MFO_NAME"], "АТ КБ \"ПРИВАТБАНК\"");
    assert!(
        raw["ID"]
            .as_str()
            .unwrap()
            .bytes()
            .all(|b| b.is_ascii_digit())
    );
    assert_eq!(
        raw["TECHNICAL_TRANSACTION_ID"],
        format!("{}_online", added.id)
    );

    // Generated incoming titles carry invoice numbers an ERP can match.
    let invoices = bank
        .statement()
        .into_iter()
        .filter(|t| t.is_credit() && t.osnd.contains("FV/2026/"))
        .count();
    assert!(invoices >= 2, "{invoices} generated invoice payments");
}

#[tokio::test]
async fn balance_is_consistent_with_transactions() {
    let bank = Bank::with(
        Simulator::builder()
            .merchant(merchant())
            .days(7)
            .opening_balance(Money::new(100_000, 0)),
    )
    .await;
    let h = &bank.running.handle;
    // Thursday to Saturday; lastday is Friday.
    let start = today() - Days::new(4);
    let end = today() - Days::new(2);
    // Listed, but moving no money: informational and unfinished lines.
    h.add_transaction(
        MERCHANT_ID,
        NewTransaction::credit(Money::new(999, 0), start, "Інформаційний рядок").informational(),
    )
    .unwrap();
    h.add_transaction(
        MERCHANT_ID,
        NewTransaction::debit(Money::new(777, 0), end, "В обробці").status(TxStatus::InProgress),
    )
    .unwrap();

    let balances = |s: NaiveDate, e: NaiveDate| {
        let bank = &bank;
        async move {
            let (status, body) = bank
                .get(&format!("/api/statements/balance?{}", range_query(s, e)))
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["status"], "SUCCESS");
            assert_eq!(body["type"], "balances");
            assert_eq!(body["exist_next_page"], false);
            body["balances"].as_array().unwrap().clone()
        }
    };
    let records = balances(start, end).await;
    assert_eq!(records.len(), 3, "one record per day");

    let served = bank
        .walk(&format!("{}&limit=500", range_query(start, end)))
        .await
        .concat();
    assert!(served.iter().any(|t| t.fl_real == "i"));
    assert!(served.iter().any(|t| t.pr_pr == "p"));

    // The opening balance plus everything before the range.
    let before: Money = bank
        .statement()
        .iter()
        .filter(|t| t.date().unwrap() < start && t.fl_real == "r" && t.pr_pr == "r")
        .map(|t| {
            let a = t.amount().unwrap();
            if t.is_credit() { a } else { Money::ZERO - a }
        })
        .sum();
    let mut expected_in = Money::new(100_000, 0) + before;
    for (i, b) in records.iter().enumerate() {
        let day = start + Days::new(i as u64);
        assert_eq!(b["acc"], ACCOUNT);
        assert_eq!(b["currency"], "UAH");
        assert_eq!(b["dpd"], format!("{} 00:00:00", day.format("%d.%m.%Y")));
        assert_eq!(b["is_final_bal"], day <= today() - Days::new(3), "{day}");
        let (mut cred, mut debt) = (Money::ZERO, Money::ZERO);
        for t in served
            .iter()
            .filter(|t| t.date() == Some(day) && t.fl_real == "r" && t.pr_pr == "r")
        {
            if t.is_credit() {
                cred += t.amount().unwrap();
            } else {
                debt += t.amount().unwrap();
            }
        }
        assert_eq!(money(&b["balanceIn"]), expected_in, "{day}");
        assert_eq!(money(&b["turnoverCred"]), cred, "{day}");
        assert_eq!(money(&b["turnoverDebt"]), debt, "{day}");
        assert_eq!(money(&b["balanceOut"]), expected_in + cred - debt, "{day}");
        assert_eq!(
            b["balanceOutEq"], b["balanceOut"],
            "UAH is its own equivalent"
        );
        expected_in = expected_in + cred - debt;
    }

    // Ranges chain: one ends where the next begins.
    let next = balances(end + Days::new(1), today()).await;
    assert_eq!(next.len(), 2);
    assert_eq!(next[0]["balanceIn"], records[2]["balanceOut"]);
    assert_eq!(next[0]["is_final_bal"], false);
    assert_eq!(next[1]["dpd"], "23.11.2026 00:00:00");
}

#[tokio::test]
async fn balances_come_one_record_per_day_with_exact_sums() {
    let bank = Bank::with(
        Simulator::builder()
            .merchant(merchant())
            .days(0)
            .opening_balance(Money::new(1_000, 0)),
    )
    .await;
    let h = &bank.running.handle;
    let d0 = NaiveDate::from_ymd_opt(2026, 11, 16).unwrap();
    let d1 = NaiveDate::from_ymd_opt(2026, 11, 17).unwrap();
    let d2 = NaiveDate::from_ymd_opt(2026, 11, 18).unwrap();
    let d3 = NaiveDate::from_ymd_opt(2026, 11, 19).unwrap();
    for tx in [
        NewTransaction::credit(Money::new(50, 0), d0, "Раніше"),
        NewTransaction::credit(Money::new(100, 0), d1, "Оплата"),
        NewTransaction::debit(Money::new(30, 50), d1, "Комісія"),
        NewTransaction::credit(Money::new(999, 0), d2, "Інформаційний").informational(),
        NewTransaction::credit(Money::new(200, 0), d3, "Оплата 2"),
    ] {
        h.add_transaction(MERCHANT_ID, tx).unwrap();
    }
    let (status, body) = bank
        .get(&format!("/api/statements/balance?{}", range_query(d1, d3)))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["exist_next_page"], false);
    let got: Vec<_> = body["balances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["dpd"].as_str().unwrap().to_string(),
                b["balanceIn"].as_str().unwrap().to_string(),
                b["turnoverCred"].as_str().unwrap().to_string(),
                b["turnoverDebt"].as_str().unwrap().to_string(),
                b["balanceOut"].as_str().unwrap().to_string(),
                b["is_final_bal"].as_bool().unwrap(),
            )
        })
        .collect();
    let row = |dpd: &str, i: &str, c: &str, d: &str, o: &str| {
        (
            dpd.to_string(),
            i.to_string(),
            c.to_string(),
            d.to_string(),
            o.to_string(),
            true,
        )
    };
    assert_eq!(
        got,
        [
            row(
                "17.11.2026 00:00:00",
                "1050.00",
                "100.00",
                "30.50",
                "1119.50"
            ),
            row("18.11.2026 00:00:00", "1119.50", "0.00", "0.00", "1119.50"),
            row(
                "19.11.2026 00:00:00",
                "1119.50",
                "200.00",
                "0.00",
                "1319.50"
            ),
        ]
    );

    // endDate defaults to today: Thursday to Monday, five days; only the
    // days up to lastday (Friday) are final.
    let (_, body) = bank
        .get(&format!(
            "/api/statements/balance?acc={ACCOUNT}&startDate={}",
            query_date(d3)
        ))
        .await;
    let finals: Vec<_> = body["balances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["dpd"].as_str().unwrap()[..10].to_string(),
                b["is_final_bal"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        finals,
        [
            ("19.11.2026".to_string(), true),
            ("20.11.2026".to_string(), true),
            ("21.11.2026".to_string(), false),
            ("22.11.2026".to_string(), false),
            ("23.11.2026".to_string(), false),
        ]
    );
}

#[tokio::test]
async fn balances_are_paged_like_transactions() {
    let bank = Bank::start(5).await;
    let start = today() - Days::new(2);
    let base = format!("/api/statements/balance?{}", range_query(start, today()));
    let (_, whole) = bank.get(&base).await;
    let whole = whole["balances"].as_array().unwrap().clone();
    assert_eq!(whole.len(), 3);

    // limit=1: three pages of one record each, following next_page_id.
    let mut pages = Vec::new();
    let mut follow: Option<String> = None;
    loop {
        let mut path = format!("{base}&limit=1");
        if let Some(f) = &follow {
            path.push_str(&format!("&followId={f}"));
        }
        let (status, body) = bank.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page = body["balances"].as_array().unwrap().clone();
        assert_eq!(page.len(), 1, "{body}");
        pages.push(page[0].clone());
        assert!(body["next_page_id"].is_string(), "{body}");
        if !body["exist_next_page"].as_bool().unwrap() {
            break;
        }
        assert!(pages.len() < 3, "{body}");
        follow = Some(body["next_page_id"].as_str().unwrap().to_string());
    }
    assert_eq!(pages, whole, "the pages together are the whole answer");
    let log = bank.running.handle.requests();
    assert_eq!(log.len(), 4);
    assert!(log[1].param("followId").is_none());
    assert!(log[2..].iter().all(|r| r.param("followId").is_some()));

    // limit=2: two and one.
    let (_, first) = bank.get(&format!("{base}&limit=2")).await;
    assert_eq!(first["balances"].as_array().unwrap().len(), 2);
    assert_eq!(first["exist_next_page"], true);
    let next = first["next_page_id"].as_str().unwrap();
    let (_, second) = bank.get(&format!("{base}&limit=2&followId={next}")).await;
    assert_eq!(second["balances"].as_array().unwrap()[..], whole[2..]);
    assert_eq!(second["exist_next_page"], false);

    // The position after the last day is an empty last page.
    let end = second["next_page_id"].as_str().unwrap();
    let (status, after) = bank.get(&format!("{base}&followId={end}")).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(after["balances"], json!([]));
    assert_eq!(after["exist_next_page"], false);

    for bad in [
        "followId=nonsense",
        "followId=P1",
        "followId=B",
        "followId=B-1",
        "followId=B%2B1",
        "followId=B4",
        "limit=0",
        "limit=abc",
    ] {
        let (status, body) = bank.get(&format!("{base}&{bad}")).await;
        assert_bank_error(status, &body, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn duplicate_pages_serves_each_page_twice() {
    let bank = Bank::start(10).await;
    let expected = ids(&bank.statement());
    let chunks: Vec<Vec<String>> = expected.chunks(10).map(<[String]>::to_vec).collect();
    assert!(chunks.len() >= 3);
    let q = format!("{}&limit=10", range_query(today() - Days::new(9), today()));

    bank.running.handle.faults().duplicate_pages(true);
    let served: Vec<Vec<String>> = bank.walk(&q).await.iter().map(|p| ids(p)).collect();
    let mut twice = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        twice.push(c.clone());
        if i + 1 < chunks.len() {
            twice.push(c.clone());
        }
    }
    assert_eq!(served, twice, "every page but the last comes twice");
    let mut deduped: Vec<String> = Vec::new();
    for id in served.concat() {
        if !deduped.contains(&id) {
            deduped.push(id);
        }
    }
    assert_eq!(deduped, expected);

    bank.running.handle.faults().duplicate_pages(false);
    let served: Vec<Vec<String>> = bank.walk(&q).await.iter().map(|p| ids(p)).collect();
    assert_eq!(served, chunks);
}

#[tokio::test]
async fn fail_next_answers_5xx_then_recovers() {
    let bank = Bank::start(1).await;
    let faults = bank.running.handle.faults();
    faults.fail_next(2, 503).unwrap();
    for _ in 0..2 {
        let (status, body) = bank.get("/api/statements/settings").await;
        assert_bank_error(status, &body, StatusCode::SERVICE_UNAVAILABLE);
    }
    let (status, _) = bank.get("/api/statements/settings").await;
    assert_eq!(status, StatusCode::OK);

    faults.fail_next(1, 500).unwrap();
    let (status, body) = bank.post("/api/proxy/payment/create", &json!({})).await;
    assert_bank_error(status, &body, StatusCode::INTERNAL_SERVER_ERROR);
    let (status, _) = bank.get("/api/statements/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(faults.settings().fail_next, 0);

    assert!(matches!(
        faults.fail_next(1, 200),
        Err(SimError::InvalidFaultStatus(200))
    ));
}

#[tokio::test]
async fn delay_makes_a_short_timeout_client_time_out() {
    let bank = Bank::start(1).await;
    let faults = bank.running.handle.faults();
    faults.delay(Duration::from_millis(800));
    let impatient = client(Duration::from_millis(200));
    let url = bank.url("/api/statements/settings");
    let err = impatient
        .get(&url)
        .header("token", TOKEN)
        .send()
        .await
        .expect_err("the answer comes after the client's timeout");
    assert!(err.is_timeout(), "{err}");

    let started = Instant::now();
    let (status, _) = bank.get("/api/statements/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(800));

    faults.delay(Duration::ZERO);
    // A late answer: the bank acts, the client never hears.
    assert_eq!(
        faults
            .delay_answer(Duration::from_millis(800))
            .answer_delay_ms,
        800
    );
    let err = impatient
        .post(bank.url("/api/proxy/payment/create"))
        .header("token", TOKEN)
        .body(serde_json::to_vec(&payment_body("L-1", "7.00")).unwrap())
        .send()
        .await
        .expect_err("the answer comes after the client's timeout");
    assert!(err.is_timeout(), "{err}");
    let payments = bank.running.handle.payments(MERCHANT_ID).unwrap();
    assert_eq!(payments.len(), 1, "the payment was created all the same");
    assert_eq!(payments[0].document_number, "L-1");
    assert_eq!(faults.reset().answer_delay_ms, 0);

    let r = impatient
        .get(&url)
        .header("token", TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let bank = Bank::start(1).await;
    let faults = bank.running.handle.faults();
    faults.rate_limit(2);
    let url = bank.url("/api/statements/settings");
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = bank
            .http
            .get(&url)
            .header("token", TOKEN)
            .send()
            .await
            .unwrap();
        statuses.push(r.status());
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.headers()["retry-after"], "1");
            let body: Value = r.json().await.unwrap();
            assert_bank_error(
                StatusCode::TOO_MANY_REQUESTS,
                &body,
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _) = bank.get("/api/statements/settings").await;
    assert_eq!(status, StatusCode::OK);

    faults.rate_limit(0);
    for _ in 0..5 {
        let (status, _) = bank.get("/api/statements/settings").await;
        assert_eq!(status, StatusCode::OK);
    }
}

fn payment_body(doc: &str, amount: &str) -> Value {
    json!({
        "document_number": doc,
        "recipient_account": "UA903052992990004149123456789",
        "recipient_nceo": "41234567",
        "payment_naming": "ТОВ \"АГРОТЕХ-ПОСТАЧ\"",
        "payment_amount": amount,
        "payment_destination": "Оплата за товар згідно рахунку № 512 від 20.11.2026, у т.ч. ПДВ 20% - 250,00 грн.",
        "payment_ccy": "UAH",
        "payer_account": ACCOUNT,
    })
}

#[tokio::test]
async fn a_payment_moves_from_new_to_done_and_reaches_the_statement() {
    let bank = Bank::start(1).await;
    let h = &bank.running.handle;
    let mut request = payment_body("1001", "1500.00");
    request["payment_accept_date"] = json!("24.11.2026");
    let (status, created) = bank.post("/api/proxy/payment/create", &request).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let reference = created["payment_ref"].as_str().unwrap().to_string();
    let pack = created["payment_pack_ref"].as_str().unwrap().to_string();
    assert!(!reference.is_empty() && !pack.is_empty());
    // The refs, and the request as sent, with its status.
    let mut data = request.clone();
    data["payment_status"] = json!("new");
    assert_eq!(
        created,
        json!({"payment_ref": reference, "payment_pack_ref": pack, "payment_data": data})
    );

    let get = |r: String| {
        let bank = &bank;
        async move {
            let (status, body) = bank.get(&format!("/api/proxy/payment/get?ref={r}")).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body
        }
    };
    let answer = |status: &str, signed: bool| {
        json!({
            "payment_ref": reference,
            "payment_pack_ref": pack,
            "payment_status": status,
            "document_number": "1001",
            "payment_amount": "1500.00",
            "level_sign": {"1_sign_level": signed, "2_sign_level": false},
            "fields_for_sign": {"version": "v3.5.0", "fields": ["payment_ref"]},
        })
    };
    assert_eq!(get(reference.clone()).await, answer("new", false));
    for next in [PaymentStatus::Signed, PaymentStatus::Sent] {
        h.set_payment_status(&reference, next).unwrap();
        assert_eq!(get(reference.clone()).await, answer(next.as_str(), true));
    }
    assert!(
        h.transactions(MERCHANT_ID)
            .unwrap()
            .iter()
            .all(|t| t.dlr != pack)
    );

    h.set_payment_status(&reference, PaymentStatus::Done)
        .unwrap();
    assert_eq!(get(reference.clone()).await, answer("done", true));
    // The richer view stays on the simulator's side.
    let view = h.payment(&reference).unwrap();
    assert_eq!(view.payment_status, PaymentStatus::Done);
    assert_eq!(view.payment_status_text, "Проведено");
    let tx_id = view.transaction_id.unwrap();
    let (_, body) = bank
        .get(&format!(
            "/api/statements/transactions?{}",
            range_query(today(), today())
        ))
        .await;
    let line = lines(&body)
        .into_iter()
        .find(|t| t.id == tx_id)
        .expect("the settled payment is on today's statement");
    assert_eq!(line.trantype, "D");
    assert_eq!(line.sum, "1500.00");
    assert_eq!(line.dlr, pack);
    assert_eq!(line.num_doc, "1001");
    assert_eq!(line.cntr_acc, "UA903052992990004149123456789");
    assert_eq!(line.cntr_crf, "41234567");

    assert!(matches!(
        h.set_payment_status(&reference, PaymentStatus::Rejected),
        Err(SimError::InvalidTransition { .. })
    ));
    assert!(matches!(
        h.set_payment_status("nope", PaymentStatus::Signed),
        Err(SimError::UnknownPayment(_))
    ));
}

#[tokio::test]
async fn payments_progress_on_their_own_when_automatic() {
    let bank = Bank::with(
        Simulator::builder()
            .merchant(merchant())
            .days(0)
            .progression(Progression::Auto {
                step: Duration::from_millis(500),
            }),
    )
    .await;
    let (_, created) = bank
        .post("/api/proxy/payment/create", &payment_body("A-1", "10.00"))
        .await;
    let reference = created["payment_ref"].as_str().unwrap();
    assert_eq!(created["payment_data"]["payment_status"], "new");
    // Deleted while new: it never progresses, and books nothing.
    let (_, doomed) = bank
        .post("/api/proxy/payment/create", &payment_body("A-2", "20.00"))
        .await;
    let doomed = doomed["payment_ref"].as_str().unwrap();
    let (status, _) = bank.delete(TOKEN, doomed).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let (_, body) = bank
        .get(&format!("/api/proxy/payment/get?ref={reference}"))
        .await;
    assert_eq!(body["payment_status"], "done", "{body}");
    assert_eq!(body["level_sign"]["1_sign_level"], true);
    assert_eq!(bank.statement().len(), 1, "its debit is booked");
    assert_eq!(bank.statement()[0].sum, "10.00");
    assert!(bank.running.handle.payment(doomed).is_none());
    // Signed on its own by now: too late to delete.
    let (status, body) = bank.delete(TOKEN, reference).await;
    assert_bank_error(status, &bank_error(&body), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_repeated_document_number_makes_a_new_payment() {
    let bank = Bank::with(
        Simulator::builder()
            .merchant(merchant())
            .merchant(other_merchant())
            .days(0),
    )
    .await;
    assert!(
        !bank
            .running
            .handle
            .faults()
            .settings()
            .deduplicate_document_numbers
    );
    let (s1, first) = bank
        .post("/api/proxy/payment/create", &payment_body("2001", "100.00"))
        .await;
    let (s2, again) = bank
        .post("/api/proxy/payment/create", &payment_body("2001", "999.00"))
        .await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_ne!(again["payment_ref"], first["payment_ref"]);
    assert_eq!(again["payment_data"]["payment_amount"], "999.00");
    assert_eq!(again["payment_data"]["payment_status"], "new");
    let payments = bank.running.handle.payments(MERCHANT_ID).unwrap();
    assert_eq!(payments.len(), 2);
    assert!(payments.iter().all(|p| p.document_number == "2001"));

    // Payments are private to their merchant.
    let (status, body) = bank
        .get_as(
            OTHER_TOKEN,
            &format!(
                "/api/proxy/payment/get?ref={}",
                first["payment_ref"].as_str().unwrap()
            ),
        )
        .await;
    assert_bank_error(status, &body, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deduplicating_document_numbers_is_a_switch() {
    let bank = Bank::with(
        Simulator::builder()
            .merchant(merchant())
            .merchant(other_merchant())
            .days(0),
    )
    .await;
    let h = &bank.running.handle;
    assert!(
        h.faults()
            .deduplicate_document_numbers(true)
            .deduplicate_document_numbers
    );
    let (s1, first) = bank
        .post("/api/proxy/payment/create", &payment_body("2001", "100.00"))
        .await;
    // A retry, even one whose body drifted, gets the original back.
    let (s2, again) = bank
        .post("/api/proxy/payment/create", &payment_body("2001", "999.00"))
        .await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(again, first);
    assert_eq!(again["payment_data"]["payment_amount"], "100.00");
    // With its current status.
    let reference = first["payment_ref"].as_str().unwrap();
    h.set_payment_status(reference, PaymentStatus::Signed)
        .unwrap();
    let (_, signed) = bank
        .post("/api/proxy/payment/create", &payment_body("2001", "100.00"))
        .await;
    assert_eq!(signed["payment_ref"], first["payment_ref"]);
    assert_eq!(signed["payment_data"]["payment_status"], "signed");
    let (_, different) = bank
        .post("/api/proxy/payment/create", &payment_body("2002", "100.00"))
        .await;
    assert_ne!(different["payment_ref"], first["payment_ref"]);
    assert_eq!(h.payments(MERCHANT_ID).unwrap().len(), 2);

    // Document numbers are per merchant.
    let mut their_body = payment_body("2001", "100.00");
    their_body["payer_account"] = json!(other_merchant().account);
    let (status, theirs) = bank
        .post_as(OTHER_TOKEN, "/api/proxy/payment/create", &their_body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{theirs}");
    assert_ne!(theirs["payment_ref"], first["payment_ref"]);

    // Off again: the documented behaviour.
    assert!(
        !h.faults()
            .deduplicate_document_numbers(false)
            .deduplicate_document_numbers
    );
    let (_, fresh) = bank
        .post("/api/proxy/payment/create", &payment_body("2001", "100.00"))
        .await;
    assert_ne!(fresh["payment_ref"], first["payment_ref"]);
    assert_eq!(h.payments(MERCHANT_ID).unwrap().len(), 3);
    // Reset turns it off too.
    h.faults().deduplicate_document_numbers(true);
    assert!(!h.faults().reset().deduplicate_document_numbers);
}

#[tokio::test]
async fn a_new_payment_can_be_deleted_and_is_then_unknown() {
    let bank = Bank::with(
        Simulator::builder()
            .merchant(merchant())
            .merchant(other_merchant())
            .days(0),
    )
    .await;
    let h = &bank.running.handle;
    let create = |doc: &'static str| {
        let bank = &bank;
        async move {
            let (status, body) = bank
                .post("/api/proxy/payment/create", &payment_body(doc, "5.00"))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["payment_ref"].as_str().unwrap().to_string()
        }
    };
    let a = create("3101").await;
    let b = create("3102").await;
    let c = create("3103").await;

    // Another merchant's payment is unknown to them.
    let (status, body) = bank.delete(OTHER_TOKEN, &a).await;
    let body = bank_error(&body);
    assert_bank_error(status, &body, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], format!("Payment {a} not found"));

    // 204, no body; afterwards unknown.
    let (status, body) = bank.delete(TOKEN, &a).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(body.is_empty());
    let (status, body) = bank.get(&format!("/api/proxy/payment/get?ref={a}")).await;
    assert_bank_error(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = bank.delete(TOKEN, &a).await;
    assert_bank_error(status, &bank_error(&body), StatusCode::NOT_FOUND);
    assert!(h.payment(&a).is_none());
    assert_eq!(h.payments(MERCHANT_ID).unwrap().len(), 2);
    assert!(matches!(
        h.set_payment_status(&a, PaymentStatus::Signed),
        Err(SimError::UnknownPayment(_))
    ));

    // Signed: too late.
    h.set_payment_status(&b, PaymentStatus::Signed).unwrap();
    let (status, body) = bank.delete(TOKEN, &b).await;
    let body = bank_error(&body);
    assert_bank_error(status, &body, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        format!("Payment {b} is signed and can no longer be deleted")
    );
    let (status, _) = bank.get(&format!("/api/proxy/payment/get?ref={b}")).await;
    assert_eq!(status, StatusCode::OK);

    // Rejected without a signature: unsigned, but no longer new.
    h.set_payment_status(&c, PaymentStatus::Rejected).unwrap();
    let (_, got) = bank.get(&format!("/api/proxy/payment/get?ref={c}")).await;
    assert_eq!(got["payment_status"], "rejected");
    assert_eq!(got["level_sign"]["1_sign_level"], false);
    let (status, body) = bank.delete(TOKEN, &c).await;
    let body = bank_error(&body);
    assert_bank_error(status, &body, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        format!("Payment {c} is rejected and can no longer be deleted")
    );

    // Unknown, missing or empty ref; the wrong method.
    let (status, body) = bank.delete(TOKEN, "SIMNOPE").await;
    assert_bank_error(status, &bank_error(&body), StatusCode::NOT_FOUND);
    for path in [
        "/api/proxy/payment/delete",
        "/api/proxy/payment/delete?ref=",
    ] {
        let (status, body) = bank.post(path, &json!({})).await;
        assert_bank_error(status, &body, StatusCode::BAD_REQUEST);
    }
    let (status, body) = bank
        .get(&format!("/api/proxy/payment/delete?ref={b}"))
        .await;
    assert_bank_error(status, &body, StatusCode::METHOD_NOT_ALLOWED);

    // The body is ignored; without a charset the 204 stays empty, with no
    // content type to name.
    let d = create("3104").await;
    let r = bank
        .http
        .post(bank.url(&format!("/api/proxy/payment/delete?ref={d}")))
        .header("token", TOKEN)
        .header("content-type", "application/json")
        .body("{\"anything\": true}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(r.headers().get("content-type").is_none());
    assert!(r.bytes().await.unwrap().is_empty());
    assert!(h.payment(&d).is_none());

    // It passes the gate like any other route.
    let e = create("3105").await;
    h.faults().fail_next(1, 503).unwrap();
    let (status, body) = bank.delete(TOKEN, &e).await;
    assert_bank_error(status, &bank_error(&body), StatusCode::SERVICE_UNAVAILABLE);
    assert!(h.payment(&e).is_some());
    let (status, body) = bank.delete("wrong", &e).await;
    assert_bank_error(status, &bank_error(&body), StatusCode::UNAUTHORIZED);
    let deletes: Vec<_> = h
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/proxy/payment/delete")
        .collect();
    assert_eq!(
        deletes.last().unwrap().param("ref").as_deref(),
        Some(e.as_str())
    );
    assert_eq!(deletes.last().unwrap().status, Some(401));
}

#[tokio::test]
async fn malformed_requests_get_the_banks_error_json() {
    let bank = Bank::start(1).await;
    let r = bank
        .http
        .post(bank.url("/api/proxy/payment/create"))
        .header("token", TOKEN)
        .header("content-type", UTF8_JSON)
        .body("{not json")
        .send()
        .await
        .unwrap();
    let status = r.status();
    assert_bank_error(status, &r.json().await.unwrap(), StatusCode::BAD_REQUEST);

    let mut missing = payment_body("3001", "1.00");
    missing.as_object_mut().unwrap().remove("recipient_account");
    let (status, body) = bank.post("/api/proxy/payment/create", &missing).await;
    assert_bank_error(status, &body, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("recipient_account")
    );

    let invalid = [
        ("recipient_account", json!("UA003052992990004149123456789")),
        ("recipient_nceo", json!("12345")),
        ("document_number", json!("12345678901")),
        ("document_number", json!("")),
        ("payment_amount", json!("0")),
        ("payment_amount", json!("12.345")),
        ("payment_amount", json!("-5.00")),
        ("payment_ccy", json!("USD")),
        ("payment_destination", json!("x".repeat(421))),
        ("payer_account", json!("")),
        ("payer_account", json!("UA903052992990004149123456789")),
    ];
    for (field, value) in invalid {
        let mut body = payment_body("3002", "1.00");
        body[field] = value.clone();
        let (status, answer) = bank.post("/api/proxy/payment/create", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}={value}: {answer}");
        assert_bank_error(status, &answer, StatusCode::BAD_REQUEST);
    }
    assert!(
        bank.running
            .handle
            .payments(MERCHANT_ID)
            .unwrap()
            .is_empty()
    );
    // A number is as good as a string for the amount.
    let mut numeric = payment_body("3003", "1.00");
    numeric["payment_amount"] = json!(12.5);
    let (status, body) = bank.post("/api/proxy/payment/create", &numeric).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["payment_data"]["payment_amount"], "12.50");

    let (status, body) = bank.get("/api/proxy/payment/get").await;
    assert_bank_error(status, &body, StatusCode::BAD_REQUEST);
    let (status, body) = bank.get("/api/proxy/payment/get?ref=SIMNOPE").await;
    assert_bank_error(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = bank.get("/api/statements/nothing").await;
    assert_bank_error(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = bank.post("/api/statements/settings", &json!({})).await;
    assert_bank_error(status, &body, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn the_control_api_drives_the_simulator() {
    let bank = Bank::start(2).await;
    let control = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let bank = &bank;
        let url = bank.url(path);
        async move {
            let mut req = bank.http.request(method, url);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let r = req.send().await.unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    use reqwest::Method;

    // Faults.
    let (status, s) = control(
        Method::POST,
        "/__control/faults/fail_next",
        Some(json!({"count": 1, "status": 503})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (s["fail_next"].clone(), s["fail_status"].clone()),
        (json!(1), json!(503))
    );
    let (status, _) = bank.get("/api/statements/settings").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _) = bank.get("/api/statements/settings").await;
    assert_eq!(status, StatusCode::OK);

    for (path, body, field, value) in [
        ("delay", json!({"ms": 5}), "delay_ms", json!(5)),
        (
            "delay_answer",
            json!({"ms": 5}),
            "answer_delay_ms",
            json!(5),
        ),
        (
            "rate_limit",
            json!({"per_sec": 100}),
            "rate_limit_per_sec",
            json!(100),
        ),
        (
            "phase",
            json!({"phase": "FINAL_STATEMENT"}),
            "phase",
            json!("FINAL_STATEMENT"),
        ),
        (
            "duplicate_pages",
            json!({"enabled": true}),
            "duplicate_pages",
            json!(true),
        ),
        (
            "deduplicate_document_numbers",
            json!({"enabled": true}),
            "deduplicate_document_numbers",
            json!(true),
        ),
    ] {
        let (status, s) = control(
            Method::POST,
            &format!("/__control/faults/{path}"),
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{path}: {s}");
        assert_eq!(s[field], value, "{path}");
    }
    let (_, s) = control(Method::GET, "/__control/faults", None).await;
    assert_eq!(s["phase"], "FINAL_STATEMENT");
    let (_, body) = bank.get("/api/statements/settings").await;
    assert_eq!(body["settings"]["phase"], "FINAL_STATEMENT");

    // The request log.
    let (_, log) = control(Method::GET, "/__control/requests", None).await;
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0]["method"], "GET");
    assert_eq!(log[0]["path"], "/api/statements/settings");
    assert_eq!(log[0]["status"], 503);

    // Reset: faults off, log empty.
    let (_, s) = control(Method::POST, "/__control/reset", None).await;
    assert_eq!(s["phase"], "WRK");
    assert_eq!(s["delay_ms"], 0);
    assert_eq!(s["answer_delay_ms"], 0);
    assert_eq!(s["rate_limit_per_sec"], Value::Null);
    assert_eq!(s["duplicate_pages"], false);
    assert_eq!(s["deduplicate_document_numbers"], false);
    assert!(bank.running.handle.requests().is_empty());

    // Booking a line.
    let (status, line) = control(
        Method::POST,
        "/__control/transactions",
        Some(json!({
            "direction": "C",
            "amount": "1500.00",
            "date": "22.11.2026",
            "time": "09:30",
            "purpose": "Оплата рахунку FV/2026/11/0042",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{line}");
    assert_eq!(line["SUM"], "1500.00");
    assert_eq!(line["DATE_TIME_DAT_OD_TIM_P"], "22.11.2026 09:30:00");
    let q = range_query(today() - Days::new(1), today() - Days::new(1));
    let (_, body) = bank
        .get(&format!("/api/statements/transactions?{q}&limit=500"))
        .await;
    assert!(
        lines(&body)
            .iter()
            .any(|t| t.id == line["ID"].as_str().unwrap())
    );
    let (_, all) = control(Method::GET, "/__control/transactions", None).await;
    assert_eq!(all.as_array().unwrap().len(), bank.statement().len());

    // Moving a payment.
    let (_, created) = bank
        .post("/api/proxy/payment/create", &payment_body("4001", "42.00"))
        .await;
    let reference = created["payment_ref"].as_str().unwrap();
    let path = format!("/__control/payments/{reference}/status");
    let (status, view) = control(Method::POST, &path, Some(json!({"status": "signed"}))).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["payment_status"], "signed");
    let (status, _) = control(Method::POST, &path, Some(json!({"status": "new"}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, list) = control(Method::GET, "/__control/payments", None).await;
    assert_eq!(list[0]["payment_status"], "signed");

    // Mistakes get JSON errors.
    for (method, path, body, expected) in [
        (
            Method::POST,
            "/__control/faults/fail_next",
            Some(json!({"count": 1, "status": 200})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/__control/faults/delay",
            Some(json!({"millis": 5})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/__control/transactions",
            Some(json!({"direction": "C", "amount": "1", "date": "2026-11-22", "purpose": "x"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/__control/transactions",
            Some(json!({"direction": "X", "amount": "1", "date": "22.11.2026", "purpose": "x"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/__control/payments/NOPE/status",
            Some(json!({"status": "signed"})),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/__control/transactions?merchant_id=nobody",
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/__control/nothing",
            None,
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, body) = control(method, path, body).await;
        assert_eq!(status, expected, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
}

#[tokio::test]
async fn the_same_seed_gives_the_same_statement() {
    let statement = |seed: u64| {
        let sim = Simulator::builder()
            .merchant(merchant())
            .seed(seed)
            .days(5)
            .today(today())
            .build()
            .unwrap();
        sim.handle().transactions(MERCHANT_ID).unwrap()
    };
    assert_eq!(statement(7), statement(7));
    assert_ne!(statement(7), statement(8));

    let dup = Simulator::builder()
        .merchant(merchant())
        .merchant(merchant())
        .build();
    assert!(matches!(dup, Err(SimError::DuplicateMerchant(_))));
}

#[tokio::test]
async fn stop_closes_the_port() {
    let bank = Bank::start(0).await;
    let url = bank.url("/api/statements/settings");
    bank.running.handle.stop().await;
    let err = client(Duration::from_secs(2))
        .get(&url)
        .header("token", TOKEN)
        .send()
        .await
        .expect_err("nothing listens after stop");
    assert!(err.is_connect() || err.is_request(), "{err}");
}

#[tokio::test]
async fn without_a_charset_the_bank_answers_in_cp1251() {
    let bank = Bank::start(3).await;
    let path = format!(
        "/api/statements/transactions?{}",
        range_query(today() - Days::new(3), today())
    );
    let url = bank.url(&path);
    let bare = client(Duration::from_secs(10));
    // A request naming no charset: reqwest's default headers are replaced.
    let r = bare
        .get(&url)
        .header("token", TOKEN)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["content-type"],
        "application/json; charset=windows-1251"
    );
    let bytes = r.bytes().await.unwrap();
    assert!(
        serde_json::from_slice::<Value>(&bytes).is_err(),
        "Cyrillic in cp1251 is not UTF-8"
    );
    let (text, _, bad) = encoding_rs::WINDOWS_1251.decode(&bytes);
    assert!(!bad);
    let page: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(page["status"], "SUCCESS");

    // The documented header: UTF-8.
    let (status, page) = bank.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["status"], "SUCCESS");

    // The switch for older clients.
    bank.running.handle.faults().utf8_without_charset(true);
    let r = bare
        .get(&url)
        .header("token", TOKEN)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert!(serde_json::from_slice::<Value>(&r.bytes().await.unwrap()).is_ok());
}
