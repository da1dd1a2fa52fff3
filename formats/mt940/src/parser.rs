//! Fields to statements: which field goes where, what may repeat, what a
//! statement must have.

use crate::ParseOptions;
use crate::balance::Balance;
use crate::decode::Encoding;
use crate::details86::DetailsBuilder;
use crate::error::{ErrorKind, ParseError, excerpt};
use crate::lexer::{Field, Item, Line};
use crate::line61::Transaction;
use crate::mt942::{DateTimeIndication, EntrySummary, FloorLimit};
use crate::statement::{Kind, Statement, UnknownTag};

/// Parses decoded text.
pub(crate) fn parse_text(
    text: &str,
    encoding: Encoding,
    options: &ParseOptions,
) -> Result<Vec<Statement>, ParseError> {
    let lines = crate::lexer::lines(text);
    let items = crate::lexer::items(&lines);
    let mut statements = Vec::new();
    let mut current: Option<Builder> = None;
    let mut hint = None;
    for item in items {
        match item {
            Item::Field(field) if field.tag == "20" => {
                if let Some(done) = current.take() {
                    statements.push(done.finish()?);
                }
                let builder = Builder::new(&field, encoding, hint.take());
                single_line(&field)?;
                current = Some(builder);
            }
            Item::Field(field) => match current.as_mut() {
                Some(builder) => builder.field(&field, options)?,
                None => {
                    return Err(ParseError::new(
                        field.line,
                        ErrorKind::TagOutsideStatement {
                            tag: field.tag.to_owned(),
                        },
                    ));
                }
            },
            Item::End => {
                if let Some(done) = current.take() {
                    statements.push(done.finish()?);
                }
            }
            Item::KindHint(kind) => hint = Some(kind),
            Item::Stray => {}
        }
    }
    if let Some(done) = current.take() {
        statements.push(done.finish()?);
    }
    if statements.is_empty() {
        let first = lines.iter().find(|l| !l.text.trim().is_empty());
        return Err(no_statement(first));
    }
    Ok(statements)
}

fn no_statement(first: Option<&Line<'_>>) -> ParseError {
    ParseError::new(
        first.map_or(1, |l| l.number),
        ErrorKind::NoStatement {
            first_line: excerpt(first.map_or("", |l| l.text)),
        },
    )
}

/// Where a `:86:` goes: the last line's details or the statement's.
enum Attach {
    Transaction,
    Statement,
}

struct Builder {
    statement: Statement,
    hint: Option<Kind>,
    has_account: bool,
    has_942_fields: bool,
    attach: Attach,
    tx_details: DetailsBuilder,
    info: DetailsBuilder,
}

impl Builder {
    fn new(field: &Field<'_>, encoding: Encoding, hint: Option<Kind>) -> Builder {
        Builder {
            statement: Statement {
                kind: Kind::Mt940,
                encoding,
                line: field.line,
                reference: field.first.trim().to_owned(),
                related_reference: None,
                account: String::new(),
                statement_number: None,
                sequence_number: None,
                opening_balance: None,
                closing_balance: None,
                closing_available_balance: None,
                forward_available_balances: Vec::new(),
                floor_limits: Vec::new(),
                date_time: None,
                debit_summary: None,
                credit_summary: None,
                transactions: Vec::new(),
                info: None,
                unknown_tags: Vec::new(),
            },
            hint,
            has_account: false,
            has_942_fields: false,
            attach: Attach::Statement,
            tx_details: DetailsBuilder::default(),
            info: DetailsBuilder::default(),
        }
    }

    fn field(&mut self, field: &Field<'_>, options: &ParseOptions) -> Result<(), ParseError> {
        let tag = field.tag;
        let invalid = |problem| ParseError::field(field.line, tag, problem);
        if tag == "86" {
            match self.attach {
                Attach::Transaction => self.tx_details.push(field),
                Attach::Statement => self.info.push(field),
            }
            return Ok(());
        }
        self.close_transaction_details();
        if tag == "61" {
            let require_reference = !options.allow_missing_reference;
            let tx = Transaction::parse(field.line, field.first, &field.more, require_reference)
                .map_err(invalid)?;
            self.statement.transactions.push(tx);
            self.attach = Attach::Transaction;
            return Ok(());
        }
        self.attach = Attach::Statement;
        single_line(field)?;
        let value = field.first;
        let s = &mut self.statement;
        match tag {
            "21" => set_once(&mut s.related_reference, value.trim().to_owned(), field)?,
            "25" | "25P" => {
                if self.has_account {
                    return Err(duplicate(field));
                }
                self.has_account = true;
                s.account = value.trim().to_owned();
            }
            "28" | "28C" => {
                let (number, sequence) = match value.trim().split_once('/') {
                    Some((n, q)) => (n, Some(q.to_owned())),
                    None => (value.trim(), None),
                };
                set_once(&mut s.statement_number, number.to_owned(), field)?;
                s.sequence_number = sequence;
            }
            "60F" | "60M" => {
                let b = Balance::parse(field.line, tag, value).map_err(invalid)?;
                set_once(&mut s.opening_balance, b, field)?;
            }
            "62F" | "62M" => {
                let b = Balance::parse(field.line, tag, value).map_err(invalid)?;
                set_once(&mut s.closing_balance, b, field)?;
            }
            "64" => {
                let b = Balance::parse(field.line, tag, value).map_err(invalid)?;
                set_once(&mut s.closing_available_balance, b, field)?;
            }
            "65" => {
                let b = Balance::parse(field.line, tag, value).map_err(invalid)?;
                s.forward_available_balances.push(b);
            }
            "34F" => {
                s.floor_limits
                    .push(FloorLimit::parse(field.line, value).map_err(invalid)?);
                self.has_942_fields = true;
            }
            "13D" | "13" => {
                let d = DateTimeIndication::parse(field.line, value).map_err(invalid)?;
                set_once(&mut s.date_time, d, field)?;
                self.has_942_fields = true;
            }
            "90D" | "90C" => {
                let summary = EntrySummary::parse(field.line, value).map_err(invalid)?;
                let slot = match tag {
                    "90D" => &mut s.debit_summary,
                    _ => &mut s.credit_summary,
                };
                set_once(slot, summary, field)?;
                self.has_942_fields = true;
            }
            _ => keep_unknown(s, field),
        }
        Ok(())
    }

    /// Hands the last line its collected `:86:` fields.
    fn close_transaction_details(&mut self) {
        let collected = std::mem::take(&mut self.tx_details);
        if let (Some(details), Some(tx)) =
            (collected.build(), self.statement.transactions.last_mut())
        {
            tx.details = Some(details);
        }
    }

    fn finish(mut self) -> Result<Statement, ParseError> {
        self.close_transaction_details();
        let line = self.statement.line;
        let missing = |what| Err(ParseError::new(line, ErrorKind::MissingField { what }));
        if !self.info.is_empty() {
            self.statement.info = std::mem::take(&mut self.info).build();
        }
        let s = &mut self.statement;
        s.kind = match self.hint {
            Some(kind) => kind,
            None if self.has_942_fields => Kind::Mt942,
            None => Kind::Mt940,
        };
        if !self.has_account {
            return missing("account (`:25:`)");
        }
        if s.kind == Kind::Mt940 && s.opening_balance.is_none() {
            return missing(
                "opening balance (`:60F:`/`:60M:`), and no MT942 fields (`:34F:`, `:13D:`, `:90D:`, `:90C:`)",
            );
        }
        if s.kind == Kind::Mt940 && s.closing_balance.is_none() {
            return missing("closing balance (`:62F:`/`:62M:`)");
        }
        Ok(self.statement)
    }
}

fn keep_unknown(s: &mut Statement, field: &Field<'_>) {
    let lines: Vec<&str> = field.lines().map(|l| l.text).collect();
    s.unknown_tags.push(UnknownTag {
        line: field.line,
        tag: field.tag.to_owned(),
        value: lines.join("\n"),
    });
}

fn duplicate(field: &Field<'_>) -> ParseError {
    ParseError::new(
        field.line,
        ErrorKind::DuplicateField {
            tag: field.tag.to_owned(),
        },
    )
}

fn set_once<T>(slot: &mut Option<T>, value: T, field: &Field<'_>) -> Result<(), ParseError> {
    if slot.is_some() {
        return Err(duplicate(field));
    }
    *slot = Some(value);
    Ok(())
}

/// Fields other than `:61:`, `:86:` and unknown tags are one line
/// (`:25P:` two: account and BIC).
fn single_line(field: &Field<'_>) -> Result<(), ParseError> {
    let single = matches!(
        field.tag,
        "20" | "21"
            | "25"
            | "25P"
            | "28"
            | "28C"
            | "60F"
            | "60M"
            | "62F"
            | "62M"
            | "64"
            | "65"
            | "34F"
            | "13D"
            | "13"
            | "90D"
            | "90C"
    );
    let allowed = usize::from(field.tag == "25P");
    match field.more.get(allowed) {
        Some(extra) if single => Err(ParseError::new(
            extra.number,
            ErrorKind::UnexpectedContinuation {
                tag: field.tag.to_owned(),
            },
        )),
        _ => Ok(()),
    }
}
