//! The Polish split-payment title (MPP, "mechanizm podzielonej płatności"):
//! `/VAT/230,00/IDC/5260250995/INV/FV/2026/11/0043/TXT/free text`.

use rust_decimal::Decimal;

use crate::amount::parse_amount;

/// The fields of a split-payment title. Values are as sent; `INV` and
/// `TXT` may themselves contain `/`, so each field runs to the next known
/// marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitPayment {
    /// `/VAT/`: the VAT amount as sent (decimal comma).
    pub vat: String,
    /// `/IDC/`: the supplier's tax id (NIP).
    pub tax_id: Option<String>,
    /// `/INV/`: the invoice number.
    pub invoice: Option<String>,
    /// `/TXT/`: free text.
    pub text: Option<String>,
}

impl SplitPayment {
    /// The VAT amount, if it is a valid amount.
    pub fn vat_amount(&self) -> Option<Decimal> {
        parse_amount(&self.vat).ok()
    }

    /// Reads a title starting with `/VAT/`; `None` for any other title.
    pub fn parse(title: &str) -> Option<SplitPayment> {
        const MARKERS: [&str; 4] = ["/VAT/", "/IDC/", "/INV/", "/TXT/"];
        let rest = title.trim().strip_prefix("/VAT/")?;
        // Field values by marker index; a value ends where the next marker
        // (of those that follow in the fixed order) begins.
        let mut values: [Option<String>; 4] = Default::default();
        let mut current = 0;
        let mut rest = rest;
        loop {
            let next = MARKERS
                .iter()
                .enumerate()
                .skip(current + 1)
                .filter_map(|(i, m)| rest.find(m).map(|at| (at, i, m.len())))
                .min();
            let (end, following) = match next {
                Some((at, i, len)) => (at, Some((i, at + len))),
                None => (rest.len(), None),
            };
            if let Some(slot) = values.get_mut(current) {
                *slot = Some(rest.get(..end).unwrap_or_default().to_owned());
            }
            match following {
                Some((i, start)) => {
                    current = i;
                    rest = rest.get(start..).unwrap_or_default();
                }
                None => break,
            }
        }
        let [vat, tax_id, invoice, text] = values;
        Some(SplitPayment {
            vat: vat.unwrap_or_default(),
            tax_id,
            invoice,
            text,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_all_fields() {
        let s =
            SplitPayment::parse("/VAT/230,00/IDC/5260250995/INV/FV/2026/11/0043/TXT/split payment")
                .unwrap();
        assert_eq!(s.vat, "230,00");
        assert_eq!(s.vat_amount(), Some(Decimal::new(23000, 2)));
        assert_eq!(s.tax_id.as_deref(), Some("5260250995"));
        assert_eq!(s.invoice.as_deref(), Some("FV/2026/11/0043"));
        assert_eq!(s.text.as_deref(), Some("split payment"));
        assert!(SplitPayment::parse("Zapłata za FV").is_none());
        let s = SplitPayment::parse("/VAT/1,00/INV/A").unwrap();
        assert_eq!(
            (s.tax_id, s.invoice.as_deref(), s.text),
            (None, Some("A"), None)
        );
    }
}
