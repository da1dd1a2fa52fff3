//! WebECR's JSON and the contract's records, both ways, without touching
//! the host: amounts in cents, the `txninit`/`txnvoid` bodies, and intents,
//! terminals and transactions read from the service's answers. Field names
//! are the simulator's documented model (`tests/webecr-sim/README.md`).

use h2h_sdk::pos::{
    CardPayment, EInvoicing, IntentKind, IntentRequest, IntentResult, IntentStatus, PaymentIntent,
    Terminal,
};
use h2h_sdk::{Error, Money, Result};
use serde_json::{Map, Value, json};

/// ISO 4217 numeric code of the euro, WebECR's `CurrencyCode`.
pub const EUR_NUMERIC: i64 = 978;
/// WebECR's largest amount, in cents.
pub const MAX_CENTS: i64 = 99_999_999;
/// `CustomerReference` is 1-64 characters.
pub const MAX_REFERENCE: usize = 64;
/// `Instalments` is 0-99.
pub const MAX_INSTALMENTS: u8 = 99;

/// `Timeout` sent with every intent: 0, answer at once (the host polls
/// `get-intent`; a device can take minutes).
pub const START_TIMEOUT: u32 = 0;

/// The contract's decimal money as WebECR's cents: EUR only, positive, at
/// most two decimals (more are refused, not rounded: trailing zeros are
/// fine).
pub fn cents(money: &Money, what: &str) -> Result<i64> {
    if money.currency.trim() != "EUR" {
        return Err(Error::invalid_input(format!(
            "{what}: WebECR takes euros only, not {:?}",
            money.currency
        )));
    }
    let text = money.amount.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !digits(whole)
        || !digits(fraction)
        || (text.contains('.') && fraction.is_empty())
    {
        return Err(Error::invalid_input(format!(
            "{what}: {:?} is not a positive decimal amount like 12.40",
            money.amount
        )));
    }
    let significant = fraction.trim_end_matches('0');
    if significant.len() > 2 {
        return Err(Error::invalid_input(format!(
            "{what}: {:?} has more than two decimals; card payments are in whole cents",
            money.amount
        )));
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 6 {
        return Err(Error::invalid_input(format!(
            "{what}: {:?} is more than WebECR takes (999999.99)",
            money.amount
        )));
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().unwrap_or(i64::MAX)
    };
    let fraction: i64 = format!("{significant:0<2}").parse().unwrap_or(0);
    let total = whole * 100 + fraction;
    if total > MAX_CENTS {
        return Err(Error::invalid_input(format!(
            "{what}: {:?} is more than WebECR takes (999999.99)",
            money.amount
        )));
    }
    Ok(total)
}

/// Cents as the contract's decimal string: `1240` → `"12.40"`.
pub fn decimal(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// WebECR's numeric currency as ISO 4217 alphabetic.
pub fn currency(code: Option<i64>) -> Result<&'static str> {
    match code {
        None | Some(EUR_NUMERIC) => Ok("EUR"),
        Some(other) => Err(Error::protocol(format!(
            "WebECR answered in currency {other}; only 978 (EUR) is known"
        ))),
    }
}

/// WebECR's intent status (1-3).
pub fn status(code: i64) -> Option<IntentStatus> {
    match code {
        1 => Some(IntentStatus::Pending),
        2 => Some(IntentStatus::Sent),
        3 => Some(IntentStatus::Completed),
        _ => None,
    }
}

/// The contract's status as WebECR's number (the `Status` filter).
pub fn status_code(status: IntentStatus) -> u32 {
    match status {
        IntentStatus::Pending => 1,
        IntentStatus::Sent => 2,
        IntentStatus::Completed => 3,
    }
}

/// WebECR's intent result (1-7). A number the seed does not list is
/// `unknown` (its number is kept beside it).
pub fn result(code: i64) -> IntentResult {
    match code {
        1 => IntentResult::Approved,
        2 => IntentResult::Declined,
        3 => IntentResult::Cancelled,
        4 => IntentResult::Failed,
        6 => IntentResult::Busy,
        7 => IntentResult::MaxTransactions,
        _ => IntentResult::Unknown,
    }
}

/// A reference the service takes as `CustomerReference`.
pub fn check_reference(reference: &str) -> Result<()> {
    let n = reference.chars().count();
    if n == 0 || n > MAX_REFERENCE || reference.trim() != reference {
        return Err(Error::invalid_input(format!(
            "the reference {reference:?} must be 1-{MAX_REFERENCE} characters without surrounding spaces (it is WebECR's CustomerReference)"
        )));
    }
    Ok(())
}

/// A provider id used in a path (`terminal/{id}/`, `transactionintent/{id}/`):
/// digits only.
pub fn check_id(id: &str, what: &str) -> Result<()> {
    if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid_input(format!(
            "{what} {id:?} is not a WebECR id (digits)"
        )));
    }
    Ok(())
}

/// The `ProviderData` object: the provider's exact input and signature,
/// plus the fields WebECR's models name, read from the input
/// (`UID;MARK;timestamp;amount;net;VAT;total;TID`) when it has that shape.
pub fn provider_data(e: &EInvoicing) -> Value {
    let mut data = Map::new();
    if let Some(id) = e.provider_id.as_deref().filter(|p| !p.is_empty()) {
        data.insert("ProviderName".into(), json!(id));
    }
    let fields: Vec<&str> = e.input.split(';').collect();
    if let [uid, mark, timestamp, _amount, net, vat, total, _tid] = fields[..] {
        data.insert("UId".into(), json!(uid));
        data.insert("Mark".into(), json!(mark));
        data.insert("SignatureTimestamp".into(), json!(timestamp));
        data.insert("NetAmount".into(), json!(net));
        data.insert("VatAmount".into(), json!(vat));
        data.insert("TotalAmount".into(), json!(total));
    }
    data.insert("Input".into(), json!(e.input));
    data.insert("Signature".into(), json!(e.signature));
    Value::Object(data)
}

/// The `txninit` body for a sale or refund.
pub fn txninit_body(request: &IntentRequest) -> Result<Value> {
    check_id(&request.terminal, "terminal")?;
    check_reference(&request.reference)?;
    let amount = cents(&request.amount, "amount")?;
    if amount == 0 {
        return Err(Error::invalid_input("amount: must be more than 0.00"));
    }
    let tip = match &request.tip {
        Some(tip) => cents(tip, "tip")?,
        None => 0,
    };
    let instalments = request.instalments.unwrap_or(0);
    if instalments > MAX_INSTALMENTS {
        return Err(Error::invalid_input(format!(
            "instalments: {instalments} is more than WebECR's {MAX_INSTALMENTS}"
        )));
    }
    let mut body = Map::new();
    body.insert(
        "TxnType".into(),
        json!(match request.kind {
            IntentKind::Sale => 0,
            IntentKind::Refund => 1,
        }),
    );
    body.insert("Amount".into(), json!(amount));
    body.insert("TipAmount".into(), json!(tip));
    body.insert("CurrencyCode".into(), json!(EUR_NUMERIC));
    body.insert("Instalments".into(), json!(instalments));
    body.insert("CustomerReference".into(), json!(request.reference));
    match (request.kind, &request.original) {
        (IntentKind::Refund, Some(original)) => {
            body.insert("InitialTransaction".into(), initial_transaction(original)?);
        }
        (IntentKind::Refund, None) => {
            return Err(Error::invalid_input(
                "a refund names the original payment (its RRN, and the MID where needed)",
            ));
        }
        (IntentKind::Sale, Some(_)) => {
            return Err(Error::invalid_input(
                "a sale names no original payment; only a refund does",
            ));
        }
        (IntentKind::Sale, None) => {}
    }
    if let Some(e) = &request.e_invoicing {
        body.insert("ProviderData".into(), provider_data(e));
    }
    body.insert("Timeout".into(), json!(START_TIMEOUT));
    Ok(Value::Object(body))
}

/// A refund's `InitialTransaction`: the sale by RRN, and MID when known.
pub fn initial_transaction(original: &CardPayment) -> Result<Value> {
    let rrn = original.rrn.trim();
    if rrn.is_empty() {
        return Err(Error::invalid_input(
            "the original payment's RRN (the receipt number) is missing",
        ));
    }
    let mut v = Map::new();
    v.insert("RRN".into(), json!(rrn));
    if let Some(mid) = original
        .merchant_id
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        v.insert("MID".into(), json!(mid));
    }
    Ok(Value::Object(v))
}

/// The `CustomerReference` of a void: derived from what it voids, so a
/// repeated void is answered with the same one instead of a second.
pub fn void_reference(what: &str) -> String {
    let mut reference = format!("VOID-{what}");
    if reference.chars().count() > MAX_REFERENCE {
        reference = reference.chars().take(MAX_REFERENCE).collect();
    }
    reference
}

/// A field as text: strings as they are, numbers written out.
pub fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A field as a whole number (also from a digit string).
pub fn int(v: &Value, key: &str) -> Option<i64> {
    match v.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A terminal of `GET terminal/`.
pub fn terminal(v: &Value) -> Result<Terminal> {
    let id = text(v, "id").ok_or_else(|| Error::protocol("a WebECR terminal has no `id`"))?;
    let tid = text(v, "TerminalID")
        .ok_or_else(|| Error::protocol("a WebECR terminal has no `TerminalID`"))?;
    Ok(Terminal {
        name: text(v, "FriendlyName")
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("POS {tid}")),
        pos_id: Some(id.clone()),
        id,
        terminal_id: tid,
        merchant_id: text(v, "Merchant").filter(|m| !m.is_empty()),
        model: text(v, "Model").filter(|m| !m.is_empty()),
    })
}

/// The card payment of a `Transaction` record.
pub fn card_payment(tx: &Value) -> Option<CardPayment> {
    let rrn = text(tx, "RRN").filter(|r| !r.is_empty())?;
    Some(CardPayment {
        rrn,
        merchant_id: text(tx, "MID"),
        terminal_id: text(tx, "TID"),
        auth_code: text(tx, "AuthCode"),
        masked_pan: text(tx, "CardPAN"),
        scheme: text(tx, "CardType").or_else(|| text(tx, "Scheme")),
        stan: text(tx, "STAN"),
        batch_number: text(tx, "BatchNumber"),
    })
}

/// An intent of WebECR (`txninit`, `txnvoid`, `transactionintent/`) as the
/// contract's, with `raw` (the answer as received) kept beside it. Its
/// card payment is the booked `Transaction` of an approved intent.
pub fn intent(v: &Value, raw: String) -> Result<PaymentIntent> {
    let id = text(v, "id").ok_or_else(|| Error::protocol("a WebECR intent has no `id`"))?;
    let missing = |field: &str| Error::protocol(format!("WebECR intent {id} has no `{field}`"));
    let terminal = text(v, "Terminal").ok_or_else(|| missing("Terminal"))?;
    let kind = match int(v, "TxnType").unwrap_or(0) {
        0 => IntentKind::Sale,
        1 => IntentKind::Refund,
        other => {
            return Err(Error::protocol(format!(
                "WebECR intent {id} has TxnType {other}; only sales (0) and refunds (1) are known"
            )));
        }
    };
    let amount = int(v, "Amount").ok_or_else(|| missing("Amount"))?;
    let status_number = int(v, "Status").ok_or_else(|| missing("Status"))?;
    let status = status(status_number).ok_or_else(|| {
        Error::protocol(format!(
            "WebECR intent {id} has Status {status_number}; only 1-3 are known"
        ))
    })?;
    let result_number = int(v, "Result");
    let created_at = text(v, "Created").ok_or_else(|| missing("Created"))?;
    let payment = v
        .get("Transaction")
        .filter(|tx| tx.get("Approved").and_then(Value::as_bool) == Some(true))
        .and_then(card_payment);
    Ok(PaymentIntent {
        terminal,
        kind,
        amount: Money {
            amount: decimal(amount),
            currency: currency(int(v, "CurrencyCode"))?.to_owned(),
        },
        reference: text(v, "CustomerReference").unwrap_or_default(),
        status,
        status_code: u32::try_from(status_number).unwrap_or(0),
        result: result_number.map(result),
        result_code: result_number.and_then(|n| u32::try_from(n).ok()),
        payment,
        updated_at: text(v, "Completed")
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| created_at.clone()),
        created_at,
        provider_response: raw,
        id,
    })
}

/// Whether an intent is a void (`Kind: "VOID"`), not a sale or refund.
pub fn is_void(v: &Value) -> bool {
    v.get("Kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.eq_ignore_ascii_case("VOID"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(amount: &str) -> Money {
        Money {
            amount: amount.into(),
            currency: "EUR".into(),
        }
    }

    #[test]
    fn money_becomes_cents() {
        for (text, expected) in [
            ("12.40", 1240),
            ("12.4", 1240),
            ("12", 1200),
            ("0.05", 5),
            ("9.99", 999),
            ("13.130", 1313),
            ("007.00", 700),
            ("999999.99", 99_999_999),
        ] {
            assert_eq!(cents(&eur(text), "amount").unwrap(), expected, "{text}");
        }
        for bad in [
            "12.345",
            "-1.00",
            "+1",
            "1,00",
            "",
            ".5",
            "5.",
            "1e3",
            "1000000.00",
            "12.40 EUR",
        ] {
            assert!(
                matches!(cents(&eur(bad), "amount"), Err(Error::InvalidInput(_))),
                "{bad}"
            );
        }
        let pln = Money {
            amount: "1.00".into(),
            currency: "PLN".into(),
        };
        assert!(matches!(cents(&pln, "amount"), Err(Error::InvalidInput(_))));
        assert_eq!(decimal(1240), "12.40");
        assert_eq!(decimal(5), "0.05");
        assert_eq!(decimal(0), "0.00");
    }

    #[test]
    fn statuses_and_results_follow_the_seed() {
        assert_eq!(status(1), Some(IntentStatus::Pending));
        assert_eq!(status(2), Some(IntentStatus::Sent));
        assert_eq!(status(3), Some(IntentStatus::Completed));
        assert_eq!(status(4), None);
        for s in [
            IntentStatus::Pending,
            IntentStatus::Sent,
            IntentStatus::Completed,
        ] {
            assert_eq!(status(i64::from(status_code(s))), Some(s));
        }
        let results = [
            IntentResult::Approved,
            IntentResult::Declined,
            IntentResult::Cancelled,
            IntentResult::Failed,
            IntentResult::Unknown,
            IntentResult::Busy,
            IntentResult::MaxTransactions,
        ];
        for (n, expected) in (1..).zip(results) {
            assert_eq!(result(n), expected);
        }
        assert_eq!(result(42), IntentResult::Unknown);
    }

    fn payment(rrn: &str, mid: Option<&str>) -> CardPayment {
        CardPayment {
            rrn: rrn.into(),
            merchant_id: mid.map(Into::into),
            terminal_id: None,
            auth_code: None,
            masked_pan: None,
            scheme: None,
            stan: None,
            batch_number: None,
        }
    }

    fn request(kind: IntentKind) -> IntentRequest {
        IntentRequest {
            terminal: "1".into(),
            kind,
            amount: eur("12.40"),
            tip: None,
            reference: "INV-2026-0042".into(),
            instalments: None,
            original: None,
            e_invoicing: None,
        }
    }

    #[test]
    fn a_sale_body() {
        let mut sale = request(IntentKind::Sale);
        sale.tip = Some(eur("1.5"));
        sale.instalments = Some(3);
        sale.e_invoicing = Some(EInvoicing {
            provider_id: Some("PROV-1".into()),
            input: "UID1;400001;2026-11-30T09:59:00Z;12.40;10.00;2.40;12.40;12345678".into(),
            signature: "c2ln".into(),
        });
        let body = txninit_body(&sale).unwrap();
        assert_eq!(
            body,
            json!({
                "TxnType": 0, "Amount": 1240, "TipAmount": 150, "CurrencyCode": 978,
                "Instalments": 3, "CustomerReference": "INV-2026-0042", "Timeout": 0,
                "ProviderData": {
                    "ProviderName": "PROV-1", "UId": "UID1", "Mark": "400001",
                    "SignatureTimestamp": "2026-11-30T09:59:00Z", "NetAmount": "10.00",
                    "VatAmount": "2.40", "TotalAmount": "12.40",
                    "Input": "UID1;400001;2026-11-30T09:59:00Z;12.40;10.00;2.40;12.40;12345678",
                    "Signature": "c2ln"
                }
            })
        );
        // An input of another shape goes as it is.
        let data = provider_data(&EInvoicing {
            provider_id: None,
            input: "opaque".into(),
            signature: "s".into(),
        });
        assert_eq!(data, json!({"Input": "opaque", "Signature": "s"}));
    }

    #[test]
    fn a_refund_body_names_its_sale() {
        let mut refund = request(IntentKind::Refund);
        assert!(matches!(txninit_body(&refund), Err(Error::InvalidInput(_))));
        refund.original = Some(payment("263340000001", Some("000000012345")));
        let body = txninit_body(&refund).unwrap();
        assert_eq!(body["TxnType"], 1);
        assert_eq!(
            body["InitialTransaction"],
            json!({"RRN": "263340000001", "MID": "000000012345"})
        );
        assert!(body.get("ProviderData").is_none());
        refund.original = Some(payment(" ", None));
        assert!(matches!(txninit_body(&refund), Err(Error::InvalidInput(_))));
    }

    #[test]
    fn requests_refused_before_the_service() {
        let mut sale = request(IntentKind::Sale);
        sale.reference = String::new();
        assert!(txninit_body(&sale).is_err());
        sale.reference = "x".repeat(65);
        assert!(txninit_body(&sale).is_err());
        let mut sale = request(IntentKind::Sale);
        sale.terminal = "1/../2".into();
        assert!(txninit_body(&sale).is_err());
        let mut sale = request(IntentKind::Sale);
        sale.amount = eur("0.00");
        assert!(txninit_body(&sale).is_err());
        let mut sale = request(IntentKind::Sale);
        sale.instalments = Some(100);
        assert!(txninit_body(&sale).is_err());
        let mut sale = request(IntentKind::Sale);
        sale.original = Some(payment("1", None));
        assert!(txninit_body(&sale).is_err());
        assert_eq!(void_reference("7"), "VOID-7");
        assert_eq!(void_reference(&"9".repeat(80)).chars().count(), 64);
    }

    #[test]
    fn an_approved_intent() {
        let answer = json!({
            "id": 7, "Kind": "TXN", "Status": 3, "StatusText": "COMPLETED", "Result": 1,
            "ResultText": "APPROVED", "TxnType": 0, "Amount": 1240, "TipAmount": 0,
            "CurrencyCode": 978, "Instalments": 0, "CustomerReference": "INV-2026-0042",
            "Terminal": 1, "TransactionId": "075;263340000001;112648",
            "Transaction": {"TxnId": 1, "TransactionType": 0, "CardPAN": "476173******0119",
                "Approved": true, "Voided": false, "STAN": "000001", "BatchNumber": 1,
                "TID": "12345678", "MID": "000000012345", "RRN": "263340000001",
                "AuthCode": "112648"},
            "InitialTransaction": null, "Created": "2026-11-30T10:00:00Z",
            "Completed": "2026-11-30T10:00:05Z"
        });
        let raw = answer.to_string();
        let intent = intent(&answer, raw.clone()).unwrap();
        assert_eq!(intent.id, "7");
        assert_eq!(intent.terminal, "1");
        assert_eq!(intent.kind, IntentKind::Sale);
        assert_eq!(
            (
                intent.amount.amount.as_str(),
                intent.amount.currency.as_str()
            ),
            ("12.40", "EUR")
        );
        assert_eq!(intent.reference, "INV-2026-0042");
        assert_eq!(intent.status, IntentStatus::Completed);
        assert_eq!(intent.status_code, 3);
        assert_eq!(intent.result, Some(IntentResult::Approved));
        assert_eq!(intent.result_code, Some(1));
        assert_eq!(intent.created_at, "2026-11-30T10:00:00Z");
        assert_eq!(intent.updated_at, "2026-11-30T10:00:05Z");
        assert_eq!(intent.provider_response, raw);
        let payment = intent.payment.unwrap();
        assert_eq!(payment.rrn, "263340000001");
        assert_eq!(payment.merchant_id.as_deref(), Some("000000012345"));
        assert_eq!(payment.terminal_id.as_deref(), Some("12345678"));
        assert_eq!(payment.auth_code.as_deref(), Some("112648"));
        assert_eq!(payment.masked_pan.as_deref(), Some("476173******0119"));
        assert_eq!(payment.stan.as_deref(), Some("000001"));
        assert_eq!(payment.batch_number.as_deref(), Some("1"));
    }

    #[test]
    fn pending_declined_and_odd_intents() {
        let pending = json!({"id": 8, "Status": 1, "Result": null, "TxnType": 1, "Amount": 5,
            "Terminal": 1, "CustomerReference": "R", "Created": "2026-11-30T10:00:00Z"});
        let p = intent(&pending, String::new()).unwrap();
        assert_eq!(
            (p.status, p.result, p.result_code),
            (IntentStatus::Pending, None, None)
        );
        assert_eq!(p.kind, IntentKind::Refund);
        assert_eq!(p.updated_at, p.created_at);
        assert!(p.payment.is_none());

        let declined = json!({"id": 9, "Status": 3, "Result": 2, "TxnType": 0, "Amount": 999,
            "Terminal": "1", "Created": "2026-11-30T10:00:00Z",
            "Transaction": {"Approved": false, "RRN": "263340000002", "AuthCode": null}});
        let d = intent(&declined, String::new()).unwrap();
        assert_eq!(d.result, Some(IntentResult::Declined));
        assert!(d.payment.is_none(), "a decline books no payment");

        let mut odd = pending.clone();
        odd["Status"] = json!(9);
        assert!(matches!(
            intent(&odd, String::new()),
            Err(Error::Protocol(_))
        ));
        let mut odd = pending.clone();
        odd["TxnType"] = json!(2);
        assert!(matches!(
            intent(&odd, String::new()),
            Err(Error::Protocol(_))
        ));
        let mut odd = pending.clone();
        odd["CurrencyCode"] = json!(840);
        assert!(matches!(
            intent(&odd, String::new()),
            Err(Error::Protocol(_))
        ));
        assert!(matches!(
            intent(&json!({}), String::new()),
            Err(Error::Protocol(_))
        ));
        assert!(is_void(&json!({"Kind": "VOID"})));
        assert!(!is_void(&pending));
    }

    #[test]
    fn a_terminal() {
        let t = terminal(
            &json!({"id": 1, "TerminalID": "12345678", "FriendlyName": "POS 1",
            "Merchant": "000000012345", "Model": "DX8000"}),
        )
        .unwrap();
        assert_eq!(t.id, "1");
        assert_eq!(t.terminal_id, "12345678");
        assert_eq!(t.pos_id.as_deref(), Some("1"));
        assert_eq!(t.merchant_id.as_deref(), Some("000000012345"));
        assert_eq!(t.name, "POS 1");
        assert_eq!(t.model.as_deref(), Some("DX8000"));
        assert!(terminal(&json!({"id": 1})).is_err());
    }
}
