//! The public fixtures (mt940-rs test data, mt940-py's ZBP output): real
//! values read back.

use h2h_mt940::{Encoding, Kind, Mark};

use crate::{dec, statements};

#[test]
fn zbp_windows_1250_as_the_readme_expects() {
    let all = statements("zbp-mt940py-cp1250.sta");
    assert_eq!(all.len(), 1);
    let s = &all[0];
    assert_eq!(s.encoding, Encoding::Windows1250);
    assert_eq!(s.kind, Kind::Mt940);
    assert_eq!(s.account_id(), "PL61109010140000071219812874");
    assert_eq!(s.statement_number.as_deref(), Some("261102"));
    let open = s.opening_balance.as_ref().unwrap();
    let close = s.closing_balance.as_ref().unwrap();
    assert_eq!(
        (open.amount, open.currency.as_str()),
        (dec("12345.67"), "PLN")
    );
    assert_eq!(open.date.iso().as_deref(), Some("2026-11-02"));
    assert_eq!(
        (close.amount, close.currency.as_str()),
        (dec("12960.17"), "PLN")
    );
    let amounts: Vec<_> = s.transactions.iter().map(|t| t.amount).collect();
    assert_eq!(
        amounts,
        [
            dec("1500.00"),
            dec("-2100.50"),
            dec("-15.00"),
            dec("1230.00")
        ]
    );
    assert_eq!(s.balance_difference(), Some(dec("0")));

    // `:86:` comes twice per line (`SD95`, then `SD95~00…`): the second,
    // which repeats and extends the first, is kept.
    let t = &s.transactions[0];
    assert_eq!(t.transaction_type, "SD95");
    assert_eq!(t.customer_reference.as_deref(), Some("00000000001"));
    assert_eq!(t.value_date.iso().as_deref(), Some("2026-11-02"));
    assert_eq!(
        t.entry_date.as_ref().unwrap().iso().as_deref(),
        Some("2026-11-02")
    );
    let d = t.details.as_ref().unwrap();
    assert_eq!(d.line, 7);
    assert_eq!(d.operation_code.as_deref(), Some("SD95"));
    assert_eq!(d.separator, Some('~'));
    assert_eq!(
        d.transaction_text().as_deref(),
        Some("BD95PRZELEW ZEWNĘTRZNY PRZYCHODZĄCY")
    );
    // Title cut into 27-character subfields and across 65-character lines
    // ("pozdr~22aw" / "iamy"), with an em dash.
    assert_eq!(
        d.title().as_deref(),
        Some("Zapłata za fakturę FV/2026/11/0042 — dziękujemy, pozdrawiamy")
    );
    assert_eq!(
        d.counterparty_name().as_deref(),
        Some("Przedsiębiorstwo Handlowo-Usługowe \"Żółw\" Spółka z ograniczoną odpowie")
    );
    assert_eq!(
        d.counterparty_account().as_deref(),
        Some("PL12102010260000040200123456")
    );
    assert_eq!(
        d.subfield(31).as_deref(),
        Some("12102010260000040200123456")
    );
    assert!(d.raw.starts_with("SD95~00BD95PRZELEW"));

    let d = s.transactions[1].details.as_ref().unwrap();
    assert_eq!(
        d.title().as_deref(),
        Some("Czynsz za listopad 2026 lokal nr 5")
    );
    assert_eq!(
        d.counterparty_name().as_deref(),
        Some("Wspólnota Mieszkaniowa Łąkowa 7")
    );
    assert_eq!(
        d.counterparty_account().as_deref(),
        Some("PL45114020040000310276543210")
    );

    let d = s.transactions[2].details.as_ref().unwrap();
    assert_eq!(d.title().as_deref(), Some("Opłata za prowadzenie rachunku"));
    assert_eq!(d.counterparty_name(), None);
    assert_eq!(d.transaction_text().as_deref(), Some("BD95OPŁATA"));

    let d = s.transactions[3].details.as_ref().unwrap();
    assert_eq!(
        d.title().as_deref(),
        Some("/VAT/230,00/IDC/5260250995/INV/FV/2026/11/0043/TXT/split payment")
    );
    assert_eq!(
        d.counterparty_name().as_deref(),
        Some("Śląskie Zakłady Ćwiczeń Sp. j.")
    );
    let split = d.split_payment().unwrap();
    assert_eq!(split.vat_amount(), Some(dec("230.00")));
    assert_eq!(split.tax_id.as_deref(), Some("5260250995"));
    assert_eq!(split.invoice.as_deref(), Some("FV/2026/11/0043"));
    assert_eq!(split.text.as_deref(), Some("split payment"));
}

#[test]
fn mbank_framed_statement_with_tnr() {
    let all = statements("mBank_mt940.sta");
    assert_eq!(all.len(), 1);
    let s = &all[0];
    assert_eq!(s.reference, "ST170119CYC/1");
    assert_eq!(s.account, "PL29114010810000267002001002");
    assert_eq!(
        (s.statement_number.as_deref(), s.sequence_number.as_deref()),
        (Some("1"), Some("1"))
    );
    assert_eq!(s.opening_balance.as_ref().unwrap().amount, dec("0.40"));
    assert_eq!(s.closing_balance.as_ref().unwrap().amount, dec("0.43"));
    assert_eq!(
        s.closing_available_balance.as_ref().unwrap().amount,
        dec("0.43")
    );
    assert_eq!(s.balance_difference(), Some(dec("0")));
    assert_eq!(s.transactions.len(), 3);
    let t = &s.transactions[0];
    assert_eq!(
        (t.mark, t.funds_code, t.amount),
        (Mark::Credit, Some('N'), dec("0.01"))
    );
    assert_eq!(t.transaction_type, "NTRF");
    assert_eq!(t.customer_reference, None);
    assert_eq!(t.bank_reference.as_deref(), Some("MB170119012058"));
    assert_eq!(
        t.supplementary_details.as_deref(),
        Some("911-TRANSAKCJA IPH")
    );
    let d = t.details.as_ref().unwrap();
    assert_eq!(d.operation_code.as_deref(), Some("911"));
    assert!(d.subfields.is_empty());
    assert_eq!(d.part("ID IPH"), Some("XX000000000001"));
    assert_eq!(
        d.counterparty_account().as_deref(),
        Some("56114010810000267002001001")
    );
    assert_eq!(
        d.counterparty_name().as_deref(),
        Some("JAN NOWAK  UL. NIJAKA 1 M 2 31-234 KRAKOW")
    );
    assert_eq!(d.title().as_deref(), Some("PRZELEW SRODKOW"));
    assert_eq!(t.tnr(), Some("179171073864111.010001"));
    let tnrs: Vec<_> = s.transactions.iter().filter_map(|t| t.tnr()).collect();
    assert_eq!(
        tnrs,
        [
            "179171073864111.010001",
            "179171073864192.000001",
            "179171073864291.000001"
        ]
    );
}

#[test]
fn mbank_tnr_cut_by_a_line_break() {
    let s = &statements("mBank_with_newline_in_tnr.sta")[0];
    assert_eq!(s.statement_number.as_deref(), Some("3"));
    let tnrs: Vec<_> = s.transactions.iter().filter_map(|t| t.tnr()).collect();
    assert_eq!(tnrs, ["179301073837502.000001", "179301073844398.000001"]);
    let d = s.transactions[0].details.as_ref().unwrap();
    assert_eq!(
        d.title().as_deref(),
        Some("_FAKTURA VAT NR FVD-0000/02/2017  A AAAAA AAAAAA UL. AAAAAAAAAAA 220/22")
    );
    assert_eq!(s.transactions[1].amount, dec("44.00"));
    assert_eq!(s.closing_balance.as_ref().unwrap().amount, dec("860.17"));
}

#[test]
fn abnamro_two_statements_with_bank_headers() {
    let all = statements("abnamro_mt940.sta");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].reference, "ABN AMRO BANK NV");
    assert_eq!(all[0].account, "123456789");
    assert_eq!(all[0].statement_number.as_deref(), Some("23801"));
    assert_eq!(all[0].transactions.len(), 3);
    assert_eq!(
        all[0].opening_balance.as_ref().unwrap().amount,
        dec("1111.10")
    );
    assert_eq!(all[0].transactions[1].amount, dec("-2.95"));
    assert_eq!(all[0].transactions[1].transaction_type, "N426");
    assert_eq!(
        all[0].transactions[0].details.as_ref().unwrap().raw,
        "BEA   NR:YV7XDL   24.08.19/15.33 RESTAURANT IL SENSO MIDD,PAS263"
    );
    assert_eq!(all[1].line, 19);
    assert_eq!(all[1].transactions.len(), 1);
    assert_eq!(all[1].transactions[0].amount, dec("-8.25"));
    assert_eq!(
        all[1].closing_balance.as_ref().unwrap().amount,
        dec("6666.83")
    );
    assert_eq!(
        all[1]
            .closing_balance
            .as_ref()
            .unwrap()
            .date
            .iso()
            .as_deref(),
        Some("2019-08-29")
    );
}

#[test]
fn cmxl_german_subfields_wrapped_anywhere() {
    let s = &statements("cmxl_mt940_1.sta")[0];
    assert_eq!(s.related_reference.as_deref(), Some("9876543210"));
    assert_eq!(s.account, "10020030/1234567");
    assert_eq!(s.transactions.len(), 2);
    let t = &s.transactions[0];
    // "DR800," is a debit with funds code R (EUR), not a reversal.
    assert_eq!(
        (t.mark, t.funds_code, t.amount),
        (Mark::Debit, Some('R'), dec("-800"))
    );
    assert_eq!(t.transaction_type, "NSTO");
    assert_eq!(t.bank_reference.as_deref(), Some("55555"));
    let d = t.details.as_ref().unwrap();
    assert_eq!(
        (d.operation_code.as_deref(), d.separator),
        (Some("008"), Some('?'))
    );
    assert_eq!(d.title().as_deref(), Some("Miete November"));
    assert_eq!(d.bank_code().as_deref(), Some("10020030"));
    assert_eq!(d.counterparty_account().as_deref(), Some("234567"));
    assert_eq!(d.subfield(34).as_deref(), Some("339"));
    let d = s.transactions[1].details.as_ref().unwrap();
    assert_eq!(d.subfield(20).as_deref(), Some("Gehalt Oktober"));
    assert_eq!(d.subfield(21).as_deref(), Some("FirmaMustermannGmbH"));
    assert_eq!(d.counterparty_account().as_deref(), Some("0847564700"));
    assert_eq!(s.balance_difference(), Some(dec("0")));
}

#[test]
fn danske_preamble_repeated_86_and_available_balance() {
    let s = &statements("danskebank_MT940_FI_Example.sta")[0];
    assert_eq!(s.reference, "3996-11-11111111");
    assert_eq!(
        (s.statement_number.as_deref(), s.sequence_number.as_deref()),
        (Some("00001"), Some("001"))
    );
    assert_eq!(s.transactions.len(), 6);
    let first = &s.transactions[0];
    assert_eq!(first.transaction_type, "FINT");
    assert_eq!(first.customer_reference.as_deref(), Some("Interest"));
    // Entry date 30 September, value date 1 October: same year.
    assert_eq!(
        first.entry_date.as_ref().unwrap().iso().as_deref(),
        Some("2009-09-30")
    );
    // Four `:86:` fields for one line, all different: all kept in order.
    let raw = &first.details.as_ref().unwrap().raw;
    assert!(raw.starts_with("For your inform. IBAN no.: FI1111111111111111\nDABADKKK"));
    assert!(raw.ends_with("DANSKE BANK                        HOLMENS KANAL 2-12"));
    let fees = &s.transactions[4];
    assert_eq!(fees.customer_reference.as_deref(), Some("Fees according"));
    assert_eq!(fees.bank_reference.as_deref(), Some("to advice"));
    assert_eq!(fees.amount, dec("-62.60"));
    assert_eq!(
        s.closing_available_balance.as_ref().unwrap().amount,
        dec("53189.31")
    );
    assert_eq!(s.balance_difference(), Some(dec("0")));
}

#[test]
fn ing_header_lines_statement_info_and_free_text() {
    let s = &statements("jejik_ing.sta")[0];
    assert_eq!(s.reference, "MPBZ");
    assert_eq!(s.opening_balance.as_ref().unwrap().amount, dec("0"));
    assert_eq!(s.transactions.len(), 7);
    assert_eq!(
        s.transactions[2].customer_reference.as_deref(),
        Some("TMG TANGO")
    );
    assert!(s.transactions.iter().all(|t| t.entry_date.is_none()));
    let (credits, debits) = s.totals().unwrap();
    assert_eq!((credits, debits), (dec("4.68"), dec("-50.27")));
    // `:86:` after the closing balance belongs to the statement.
    assert_eq!(s.info.as_ref().unwrap().raw, "D000004C000002D25,24C28,71");
    let d = s.transactions[6].details.as_ref().unwrap();
    assert_eq!(
        d.raw,
        "0111111111 Hr S Marechal\nROSMALEN Hr S Marechal ROSMALEN\nBetaling transactiedatum: 22-07-2010"
    );
    assert!(d.subfields.is_empty() && d.operation_code.is_none());
}
