//! Deciding what an incoming payment pays: the invoice number appears in
//! the title (as a whole token) and the amount equals the open amount →
//! settled; a partial payment, an overpayment or several invoices named →
//! flagged for review; no invoice named → nothing.

use rust_decimal::Decimal;

/// An open receivable as matching sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    /// Row id.
    pub id: i64,
    /// The invoice number, e.g. `FV/2026/11/0042`.
    pub invoice_number: String,
    /// What remains to be paid.
    pub open_amount: Decimal,
    /// ISO 4217.
    pub currency: String,
}

/// Why a payment needs a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Review {
    /// Less than the open amount.
    Partial,
    /// More than the open amount.
    Overpayment,
    /// The title names more than one open invoice.
    Ambiguous,
}

impl Review {
    /// As stored and sent in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Review::Partial => "partial",
            Review::Overpayment => "overpayment",
            Review::Ambiguous => "ambiguous",
        }
    }
}

/// What to do with one incoming payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No open invoice of that currency is named in the title.
    Unmatched,
    /// Pays this receivable exactly.
    Settles(i64),
    /// Needs a person: these receivables, for this reason.
    Review(Review, Vec<i64>),
}

/// Decides for a payment of `amount` `currency` titled `title`.
pub fn decide(title: &str, amount: Decimal, currency: &str, open: &[Open]) -> Decision {
    let title = title.to_uppercase();
    let named: Vec<&Open> = open
        .iter()
        .filter(|o| o.currency == currency && names(&title, &o.invoice_number))
        .collect();
    match named.as_slice() {
        [] => Decision::Unmatched,
        [one] if amount == one.open_amount => Decision::Settles(one.id),
        [one] if amount < one.open_amount => Decision::Review(Review::Partial, vec![one.id]),
        [one] => Decision::Review(Review::Overpayment, vec![one.id]),
        many => Decision::Review(Review::Ambiguous, many.iter().map(|o| o.id).collect()),
    }
}

/// Whether the upper-cased `title` contains `invoice` as a whole token,
/// ignoring case: `FV/1` is not named by a title that says `FV/12`.
fn names(title: &str, invoice: &str) -> bool {
    let invoice = invoice.trim().to_uppercase();
    if invoice.is_empty() {
        return false;
    }
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    title.match_indices(&invoice).any(|(at, found)| {
        boundary(title[..at].chars().next_back())
            && boundary(title[at + found.len()..].chars().next())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(id: i64, invoice: &str, amount: &str) -> Open {
        Open {
            id,
            invoice_number: invoice.to_owned(),
            open_amount: amount.parse().unwrap(),
            currency: "UAH".to_owned(),
        }
    }

    fn money(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn exact_amount_and_named_invoice_settles() {
        let open = [
            open(1, "FV/2026/11/0042", "1500.00"),
            open(2, "FV/2026/11/0043", "10"),
        ];
        assert_eq!(
            decide(
                "Оплата рахунку fv/2026/11/0042 без ПДВ",
                money("1500"),
                "UAH",
                &open
            ),
            Decision::Settles(1)
        );
    }

    #[test]
    fn partial_overpayment_and_ambiguous_go_to_review() {
        let open = [open(1, "FV/7", "100.00"), open(2, "FV/8", "50.00")];
        assert_eq!(
            decide("za FV/7", money("40"), "UAH", &open),
            Decision::Review(Review::Partial, vec![1])
        );
        assert_eq!(
            decide("za FV/7", money("100.01"), "UAH", &open),
            Decision::Review(Review::Overpayment, vec![1])
        );
        assert_eq!(
            decide("FV/7, FV/8", money("150"), "UAH", &open),
            Decision::Review(Review::Ambiguous, vec![1, 2])
        );
    }

    #[test]
    fn only_whole_invoice_numbers_in_the_same_currency_count() {
        let open = [open(1, "FV/1", "10")];
        assert_eq!(
            decide("FV/12", money("10"), "UAH", &open),
            Decision::Unmatched
        );
        assert_eq!(
            decide("AFV/1", money("10"), "UAH", &open),
            Decision::Unmatched
        );
        assert_eq!(
            decide("FV/1", money("10"), "EUR", &open),
            Decision::Unmatched
        );
        assert_eq!(
            decide("(FV/1)", money("10"), "UAH", &open),
            Decision::Settles(1)
        );
    }
}
