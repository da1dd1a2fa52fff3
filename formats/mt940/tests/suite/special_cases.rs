//! mt940-rs's deliberately odd files: the outcome each case calls for.

use h2h_mt940::{Encoding, ErrorKind, FieldProblem, ParseOptions, decode, parse, parse_with};

use crate::{dec, fixture, statements};

#[test]
fn february_30_is_read_and_kept_as_sent() {
    let s = &statements("special-cases_february_30.sta")[0];
    let t = &s.transactions[0];
    assert_eq!(t.value_date.raw, "160230");
    assert_eq!(
        (t.value_date.year, t.value_date.month, t.value_date.day),
        (2016, 2, 30)
    );
    assert_eq!(t.value_date.ymd(), None);
    assert!(!t.value_date.is_valid());
    assert_eq!(t.value_date.to_string(), "2016-02-30");
    // The entry date (1 March) is real and in the same year.
    assert_eq!(
        t.entry_date.as_ref().unwrap().iso().as_deref(),
        Some("2016-03-01")
    );
    assert_eq!(t.amount, dec("-6.00"));
    // 29 February 2016 exists.
    assert_eq!(
        s.opening_balance.as_ref().unwrap().date.iso().as_deref(),
        Some("2016-02-29")
    );
    let d = t.details.as_ref().unwrap();
    assert_eq!(d.operation_code.as_deref(), Some("805"));
    assert_eq!(d.transaction_text().as_deref(), Some("ENTGELTABSCHLUSS"));
    // `?11` continues on the next line.
    assert_eq!(d.subfield(11).as_deref(), Some("2233445566"));
    assert_eq!(s.balance_difference(), Some(dec("0")));
}

#[test]
fn incomplete_61_is_an_error_on_its_line() {
    let err = parse(&fixture("special-cases_incomplete_tag_61.sta")).unwrap_err();
    assert_eq!(err.line, 5);
    assert_eq!(
        err.kind,
        ErrorKind::InvalidField {
            tag: "61".into(),
            problem: FieldProblem::MissingReference {
                transaction_type: "NMSC".into()
            },
        }
    );
    assert!(
        err.to_string()
            .starts_with("line 5: invalid `:61:`: no customer reference")
    );
}

#[test]
fn invalid_statement_is_an_error_on_line_1() {
    let err = parse(&fixture("special-cases_invalid_statement.sta")).unwrap_err();
    assert_eq!(err.line, 1);
    assert_eq!(
        err.kind,
        ErrorKind::NoStatement {
            first_line: "1".into()
        }
    );
}

/// Not UTF-8: the bytes are code page 852 (Hungarian: á = 0xA0, ó = 0xA2,
/// ö = 0x94, é = 0x82, ü = 0x81), and the heuristic reads them so, giving
/// real words instead of an error. The file's `:61:` lines also lack the
/// mandatory reference, so by default it stops there (line 6), after
/// decoding; a connector that allows missing references gets everything.
#[test]
fn invalid_utf8_is_decoded_as_the_code_page_it_is() {
    let bytes = fixture("special-cases_invalid_utf8.sta");
    assert!(std::str::from_utf8(&bytes).is_err());
    let decoded = decode(&bytes, Encoding::Auto).unwrap();
    assert_eq!(decoded.encoding, Encoding::Cp852);
    assert!(decoded.text.contains("Csoportos átutalás jóváírása"));
    assert!(decoded.text.contains("UV, napi összevont utánvét"));

    let err = parse(&bytes).unwrap_err();
    assert_eq!(err.line, 6);
    assert!(matches!(
        err.kind,
        ErrorKind::InvalidField {
            problem: FieldProblem::MissingReference { .. },
            ..
        }
    ));

    let lenient = ParseOptions::default().allow_missing_reference(true);
    let s = &parse_with(&bytes, &lenient).unwrap()[0];
    assert_eq!(s.encoding, Encoding::Cp852);
    assert_eq!(s.account, "UBRTHUHB/123456789150ABCDEF002/HUF");
    assert_eq!(s.transactions.len(), 7);
    let t = &s.transactions[0];
    assert_eq!((t.funds_code, t.amount), (Some('F'), dec("2066637.00")));
    assert_eq!(t.transaction_type, "N527");
    assert_eq!(t.customer_reference, None);
    assert_eq!(
        t.supplementary_details.as_deref(),
        Some("Csoportos átutalás jóváírása")
    );
    assert_eq!(
        s.transactions[1].supplementary_details.as_deref(),
        Some("Bankon belüli átutalás")
    );
    assert_eq!(
        s.transactions[3].supplementary_details.as_deref(),
        Some("Díj, jutalék")
    );
    assert_eq!(
        s.closing_balance.as_ref().unwrap().amount,
        dec("25281687.60")
    );
    assert_eq!(s.forward_available_balances.len(), 3);
    assert_eq!(
        s.forward_available_balances[2].date.iso().as_deref(),
        Some("2018-04-20")
    );
    // Its balances do not add up (lines are missing from the sample).
    assert_ne!(s.balance_difference(), Some(dec("0")));

    // Forcing UTF-8 instead is a clear error on the first bad line.
    let err = parse_with(&bytes, &ParseOptions::default().encoding(Encoding::Utf8)).unwrap_err();
    assert_eq!((err.line, err.kind), (7, ErrorKind::InvalidUtf8));
}

#[test]
fn overly_long_details_are_accepted_whole() {
    let s = &statements("special-cases_overly_long_details.sta")[0];
    let t = &s.transactions[0];
    assert_eq!(t.customer_reference.as_deref(), Some("ASDAD"));
    assert_eq!(t.bank_reference.as_deref(), Some("QEE"));
    let d = t.details.as_ref().unwrap();
    assert_eq!(d.raw.lines().count(), 9);
    assert!(d.raw.chars().count() > 6 * 65);
    let title = d.title().unwrap();
    assert!(title.starts_with("EREF+123/123/12345-----L1101234567890123 MREF+BYA12345678901"));
    assert!(title.ends_with("IBAN: DE00700500"));
    assert_eq!(d.bank_code().as_deref(), Some("BYLADEMM"));
    assert_eq!(
        d.counterparty_name().as_deref(),
        Some("Finanzamt Muenchen Abteilung Erhebung")
    );
    assert_eq!(
        d.counterparty_account().as_deref(),
        Some("DE99700500000000012345")
    );
    assert_eq!(
        d.more_text().as_deref(),
        Some("000000012345 BIC: BYLADEMM ABWA: Finanzamt Muenchen ABWA+Finanzamt Sentinel")
    );
    // The file's balances do not add up; the parser reports, a connector decides.
    assert_eq!(s.balance_difference(), Some(dec("234.01")));
}

#[test]
fn unknown_tag_is_kept() {
    let s = &statements("special-cases_unknown_tag.sta")[0];
    assert_eq!(s.unknown_tags.len(), 1);
    let u = &s.unknown_tags[0];
    assert_eq!((u.line, u.tag.as_str(), u.value.as_str()), (9, "12", "11"));
    // The unknown tag ends the line's `:86:`, which keeps its own subfields.
    let d = s.transactions[0].details.as_ref().unwrap();
    assert_eq!(d.subfield(60).as_deref(), Some("2017-01-01T13"));
    assert_eq!(s.closing_balance.as_ref().unwrap().amount, dec("1194.00"));
}
