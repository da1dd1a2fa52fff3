//! Files written for these tests from the published Polish layouts
//! (tests/fixtures/written/README.md).

use h2h_mt940::{Encoding, Kind, Mark};

use crate::{dec, statements};

#[test]
fn pko_latin2_two_accounts() {
    let all = statements("written/pko_iso8859-2.sta");
    assert_eq!(all.len(), 2);
    let pln = &all[0];
    assert_eq!(pln.encoding, Encoding::Iso8859_2);
    assert_eq!(pln.account_id(), "PL27102010260000042270201111");
    assert_eq!(pln.currency(), Some("PLN"));
    assert_eq!(pln.transactions.len(), 3);
    assert_eq!(pln.balance_difference(), Some(dec("0")));

    let t = &pln.transactions[0];
    assert_eq!(
        (t.amount, t.bank_reference.as_deref()),
        (dec("2500.00"), Some("PKO261102000001"))
    );
    let d = t.details.as_ref().unwrap();
    assert_eq!(d.operation_code.as_deref(), Some("020"));
    assert_eq!(
        d.transaction_text().as_deref(),
        Some("PRZELEW PRZYCHODZĄCY")
    );
    // The title fills 27-character subfields (`~21` starts with "26").
    assert_eq!(d.subfield(21).as_deref(), Some("26, dostawa części"));
    assert_eq!(
        d.title().as_deref(),
        Some("Zapłata za fakturę FV/12/2026, dostawa części")
    );
    assert_eq!(d.bank_code().as_deref(), Some("102010260"));
    assert_eq!(
        d.counterparty_name().as_deref(),
        Some("ŻÓŁTA ŁÓDŹ SPÓŁKA Z OGRANICZONĄ ODPOWIEDZIALNOŚCIĄ")
    );
    assert_eq!(
        d.subfield(32).as_deref(),
        Some("ŻÓŁTA ŁÓDŹ SPÓŁKA Z OGRANIC")
    );
    assert_eq!(d.subfield(62).as_deref(), Some("UL. ŚWIĘTOKRZYSKA 11"));
    assert_eq!(d.subfield(63).as_deref(), Some("00-001 WARSZAWA"));
    assert_eq!(
        d.counterparty_account().as_deref(),
        Some("PL61102010260000042270201234")
    );

    let t = &pln.transactions[1];
    assert_eq!(t.customer_reference.as_deref(), Some("REF-ERP-0042"));
    let d = t.details.as_ref().unwrap();
    assert_eq!(d.title().as_deref(), Some("Czynsz za grudzień"));
    assert_eq!(d.counterparty_name().as_deref(), Some("Gąsienica Józef"));
    assert_eq!(
        d.counterparty_account().as_deref(),
        Some("PL10105000997603123456789123")
    );
    assert_eq!(pln.transactions[2].amount, dec("-5.00"));

    let eur = &all[1];
    assert_eq!(eur.line, 17);
    let open = eur.opening_balance.as_ref().unwrap();
    assert_eq!(
        (open.mark, open.amount, open.currency.as_str()),
        (Mark::Debit, dec("-150.00"), "EUR")
    );
    let close = eur.closing_balance.as_ref().unwrap();
    assert_eq!((close.mark, close.amount), (Mark::Credit, dec("0")));
    assert_eq!(
        eur.closing_available_balance.as_ref().unwrap().amount,
        dec("0")
    );
    assert_eq!(eur.balance_difference(), Some(dec("0")));
    let d = eur.transactions[0].details.as_ref().unwrap();
    assert_eq!(d.counterparty_name().as_deref(), Some("Świętosław Żądło"));
    assert_eq!(d.title().as_deref(), Some("Wyrównanie salda"));
}

#[test]
fn mbank_mt942_interim_report() {
    let all = statements("written/mbank_mt942_iso8859-2.sta");
    assert_eq!(all.len(), 2);
    let s = &all[0];
    assert_eq!(s.kind, Kind::Mt942);
    assert_eq!(s.encoding, Encoding::Iso8859_2);
    assert!(s.opening_balance.is_none() && s.closing_balance.is_none());
    assert_eq!(s.balance_difference(), None);
    assert_eq!(s.currency(), Some("PLN"));
    assert_eq!(s.floor_limits.len(), 2);
    assert_eq!(
        (s.floor_limits[0].mark, s.floor_limits[0].amount),
        (Some(Mark::Debit), dec("0"))
    );
    assert_eq!(s.floor_limits[1].mark, Some(Mark::Credit));
    let dt = s.date_time.as_ref().unwrap();
    assert_eq!(dt.date.iso().as_deref(), Some("2026-11-03"));
    assert_eq!(
        (dt.hour, dt.minute, dt.utc_offset_minutes),
        (10, 15, Some(60))
    );
    let debits = s.debit_summary.as_ref().unwrap();
    let credits = s.credit_summary.as_ref().unwrap();
    assert_eq!((debits.count, debits.amount), (1, dec("300.00")));
    assert_eq!((credits.count, credits.amount), (1, dec("6979.18")));
    // The summaries agree with the lines.
    assert_eq!(s.totals(), Some((credits.amount, -debits.amount)));

    let t = &s.transactions[0];
    assert_eq!((t.funds_code, t.amount), (Some('N'), dec("6979.18")));
    assert_eq!(t.bank_reference.as_deref(), Some("EL004391-000970"));
    assert_eq!(
        t.supplementary_details.as_deref(),
        Some("911-TRANSAKCJA IPH")
    );
    assert_eq!(t.tnr(), Some("154961063737599.110001"));
    let d = t.details.as_ref().unwrap();
    assert_eq!(
        d.counterparty_name().as_deref(),
        Some("PRZEDSIĘBIORSTWO ŁĄKA SP. Z O.O. UL. ŻÓŁKIEWSKIEGO 5 31-234 KRAKÓW")
    );
    assert_eq!(d.title().as_deref(), Some("FAKTURA FV/11/2026/0042"));
    assert_eq!(d.part("DATA STEMPLA"), Some("2026-11-03"));

    let eur = &all[1];
    assert_eq!(eur.kind, Kind::Mt942);
    assert_eq!(eur.account, "PL02114010810000267002001003");
    assert_eq!(eur.transactions[0].funds_code, Some('R'));
    assert_eq!(eur.debit_summary.as_ref().unwrap().count, 0);
    assert_eq!(eur.credit_summary.as_ref().unwrap().currency, "EUR");
    assert_eq!(
        eur.transactions[0]
            .details
            .as_ref()
            .unwrap()
            .counterparty_name()
            .as_deref(),
        Some("ŚWIĘTOSŁAW ŻĄDŁO")
    );
}

/// The TNR keeps an intraday line and its end-of-day copy one transaction.
#[test]
fn mbank_tnr_matches_between_mt942_and_mt940() {
    let interim = statements("written/mbank_mt942_iso8859-2.sta");
    let eod = statements("written/mbank_mt940_iso8859-2.sta");
    assert_eq!(eod.len(), 1);
    let eod = &eod[0];
    assert_eq!(eod.kind, Kind::Mt940);
    assert_eq!(eod.balance_difference(), Some(dec("0")));
    assert_eq!(
        eod.closing_available_balance.as_ref().unwrap().amount,
        dec("7699.18")
    );

    let interim_tnrs: Vec<&str> = interim
        .iter()
        .filter(|s| s.account == eod.account)
        .flat_map(|s| s.transactions.iter().filter_map(|t| t.tnr()))
        .collect();
    let eod_tnrs: Vec<&str> = eod.transactions.iter().filter_map(|t| t.tnr()).collect();
    assert_eq!(
        eod_tnrs,
        [
            "154961063737599.110001",
            "154961063737600.020001",
            "154961063737702.000001"
        ]
    );
    let both: Vec<&str> = eod_tnrs
        .iter()
        .copied()
        .filter(|t| interim_tnrs.contains(t))
        .collect();
    assert_eq!(both, ["154961063737599.110001", "154961063737600.020001"]);
    // Same line, same money, although the end-of-day copy wraps the text
    // elsewhere (its TNR is cut across two lines).
    let a = interim[0]
        .transactions
        .iter()
        .find(|t| t.tnr() == Some(both[0]))
        .unwrap();
    let b = eod
        .transactions
        .iter()
        .find(|t| t.tnr() == Some(both[0]))
        .unwrap();
    assert_eq!(
        (a.amount, a.value_date.clone()),
        (b.amount, b.value_date.clone())
    );
    assert_ne!(
        a.details.as_ref().unwrap().raw,
        b.details.as_ref().unwrap().raw
    );
    assert_eq!(
        a.details.as_ref().unwrap().text(),
        b.details.as_ref().unwrap().text()
    );
}

#[test]
fn cp852_polish_letters() {
    let s = &statements("written/multicash_cp852.sta")[0];
    assert_eq!(s.encoding, Encoding::Cp852);
    let d = s.transactions[0].details.as_ref().unwrap();
    assert_eq!(d.separator, Some('<'));
    assert_eq!(d.operation_code.as_deref(), Some("152"));
    assert_eq!(d.subfield(20).as_deref(), Some("Zażółć gęślą jaźń"));
    assert_eq!(d.subfield(21).as_deref(), Some("ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ"));
    // `<3` ends one line and `3CHRZĄ…` starts the next: still subfield 33.
    assert_eq!(
        d.counterparty_name().as_deref(),
        Some("GRZEGORZ BRZĘCZYSZCZYKIEWICZCHRZĄSZCZYŻEWOSZYCE")
    );
    assert_eq!(
        d.counterparty_account().as_deref(),
        Some("PL11116022020000000098765432")
    );
    assert_eq!(s.balance_difference(), Some(dec("0")));
}
