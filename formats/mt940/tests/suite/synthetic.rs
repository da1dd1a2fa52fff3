//! Small hand-made inputs for the layout rules and every error path.

use h2h_mt940::{ErrorKind, FieldProblem, Kind, Mark, ParseError, ParseOptions, parse, parse_str};

use crate::dec;

fn err(text: &str) -> ParseError {
    parse(text.as_bytes()).expect_err("must fail")
}

#[test]
fn swift_envelope_and_several_statements_without_trailers() {
    let text = "{1:F01BPKOPLPWAXXX0000000000}{2:O9401200261102BPKOPLPWAXXX00000000002611021200N}{4:\r\n\
:20:A\r\n:25:PL1\r\n:28C:1\r\n:60M:C261102PLN0,\r\n:62M:D261102PLN5,\r\n\
:20:B\r\n:25:PL2\r\n:60F:C261102PLN1,\r\n:62F:C261102PLN1,\r\n-}\r\n{5:{CHK:123456789ABC}}\r\n";
    let all = parse(text.as_bytes()).unwrap();
    assert_eq!(all.len(), 2);
    let a = &all[0];
    assert_eq!(
        (a.kind, a.line, a.reference.as_str()),
        (Kind::Mt940, 2, "A")
    );
    assert!(a.opening_balance.as_ref().unwrap().intermediate);
    let close = a.closing_balance.as_ref().unwrap();
    assert_eq!(
        (close.mark, close.amount, close.intermediate),
        (Mark::Debit, dec("-5"), true)
    );
    assert_eq!(a.balance_difference(), Some(dec("-5")));
    assert_eq!((all[1].line, all[1].account.as_str()), (7, "PL2"));
    assert!(!all[1].opening_balance.as_ref().unwrap().intermediate);
}

#[test]
fn block_2_names_an_mt942_without_its_own_fields() {
    let text = "{1:F01X}{2:O942X}{4:\n:20:A\n:25:PL1\n:61:2611021102C1,NTRFNONREF\n-}\n";
    let s = &parse(text.as_bytes()).unwrap()[0];
    assert_eq!(s.kind, Kind::Mt942);
    assert_eq!(s.transactions.len(), 1);
}

#[test]
fn reversals_year_end_and_statement_info_before_lines() {
    let text = ":20:X\n:25:PL1\n:60F:C251231PLN100,\n:86:Informacja do wyciagu\n\
:61:2512310102RC10,00NTRFNONREF\n:61:2512310102RD2,50NTRFNONREF\n:62F:C260102PLN92,50\n";
    let s = &parse(text.as_bytes()).unwrap()[0];
    assert_eq!(s.info.as_ref().unwrap().raw, "Informacja do wyciagu");
    let (rc, rd) = (&s.transactions[0], &s.transactions[1]);
    assert_eq!(
        (rc.mark, rc.amount),
        (Mark::ReversalOfCredit, dec("-10.00"))
    );
    assert_eq!((rd.mark, rd.amount), (Mark::ReversalOfDebit, dec("2.50")));
    assert!(rc.mark.is_reversal() && rc.mark.is_outflow());
    assert!(rc.details.is_none());
    // Value date 31 December 2025, booked 2 January: 2026.
    assert_eq!(
        rc.entry_date.as_ref().unwrap().iso().as_deref(),
        Some("2026-01-02")
    );
    assert_eq!(s.balance_difference(), Some(dec("0")));
}

#[test]
fn other_separators_and_classic_mac_line_ends() {
    let text = ":20:X\r:25:PL1\r:60F:C261102PLN0,\r:61:261102C1,NTRFNONREF\r:86:152^00PRZELEW^20Tytul^32Jan\r Kowalski^38PL99\r:62F:C261102PLN1,\r";
    let s = &parse(text.as_bytes()).unwrap()[0];
    let d = s.transactions[0].details.as_ref().unwrap();
    assert_eq!(d.separator, Some('^'));
    assert_eq!(d.counterparty_name().as_deref(), Some("Jan Kowalski"));
    assert_eq!(d.line, 5);
}

#[test]
fn parse_str_reads_decoded_text() {
    let s = &parse_str(
        ":20:X\n:25:PL1\n:60F:C261102PLN0,\n:62F:C261102PLN0,\n",
        &ParseOptions::default(),
    )
    .unwrap()[0];
    assert_eq!(s.transactions.len(), 0);
    assert_eq!(s.balance_difference(), Some(dec("0")));
}

#[test]
fn every_error_names_its_line() {
    let e = err(":25:PL1\n:20:X\n");
    assert_eq!(
        (e.line, e.kind),
        (1, ErrorKind::TagOutsideStatement { tag: "25".into() })
    );

    let e = err(":20:X\n:25:PL1\n:25:PL2\n");
    assert_eq!(
        (e.line, e.kind),
        (3, ErrorKind::DuplicateField { tag: "25".into() })
    );

    let e = err(":20:X\n:25:PL1\n:60F:C261102PLN1,\n-\n");
    assert_eq!(e.line, 1);
    assert!(
        matches!(e.kind, ErrorKind::MissingField { what } if what.starts_with("closing balance"))
    );

    let e = err("\n\n:20:X\n:60F:C261102PLN1,\n:62F:C261102PLN1,\n");
    assert!(matches!(e.kind, ErrorKind::MissingField { what } if what.starts_with("account")));
    assert_eq!(e.line, 3);

    let e = err(":20:X\n:25:PL1\n:62F:C261102PLN1,\n");
    assert!(
        matches!(e.kind, ErrorKind::MissingField { what } if what.starts_with("opening balance"))
    );

    let e = err(":20:X\n:25:PL1\n:60F:C261102PLN1.50\n");
    assert_eq!(e.line, 3);
    assert!(
        matches!(e.kind, ErrorKind::InvalidField { ref tag, problem: FieldProblem::Malformed { what: "amount", .. } } if tag == "60F")
    );

    let e = err(":20:X\n:25:PL1\n:60F:C261102PLN1,\n:61:2611\n");
    assert_eq!(e.line, 4);
    assert!(matches!(
        e.kind,
        ErrorKind::InvalidField {
            problem: FieldProblem::Truncated { .. },
            ..
        }
    ));

    let e = err(":20:X\n:25:PL1\n:60F:C261102PLN1,\nBANK HEADER\n");
    assert_eq!(
        (e.line, e.kind),
        (4, ErrorKind::UnexpectedContinuation { tag: "60F".into() })
    );

    let e = err(":20:X\n:25:PL1\n:34F:PLN\n");
    assert_eq!(e.line, 3);
    assert_eq!(
        e.to_string(),
        "line 3: invalid `:34F:`: the value ends before the amount"
    );

    let e = err("");
    assert_eq!(
        (e.line, e.kind),
        (
            1,
            ErrorKind::NoStatement {
                first_line: String::new()
            }
        )
    );
}

#[test]
fn non_swift_capital_tags_are_kept_as_unknown() {
    let text = ":20:X\n:25:PL1\n:60F:C261102PLN0,\n:61:261102C1,NTRFNONREF\n:86:a\n:NS:22Datum\n01.11.\n:62F:C261102PLN1,\n";
    let s = &parse(text.as_bytes()).unwrap()[0];
    assert_eq!(s.transactions[0].details.as_ref().unwrap().raw, "a");
    let u = &s.unknown_tags[0];
    assert_eq!(
        (u.line, u.tag.as_str(), u.value.as_str()),
        (6, "NS", "22Datum\n01.11.")
    );
}
