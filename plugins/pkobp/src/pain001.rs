//! pain.001.001.03 as the Polish Bank Association's XML recommendation for
//! PLN transfers lays it out (GrpHdr with MsgId, NbOfTxs and CtrlSum; one
//! PmtInf with the debtor's IBAN; a CdtTrfTxInf per transfer with its
//! EndToEndId, InstdAmt in PLN, creditor and title). Written by hand: the
//! document is small and fixed, and the one crate that writes pain.001
//! (`sepa`) is EUR only (polish-bank-formats.md).

use std::fmt::Write;

/// One transfer, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    /// EndToEndId: the ERP's transfer id (PKO returns it as the own
    /// reference on the statement).
    pub end_to_end_id: String,
    /// Amount in PLN, two decimals (`"150.00"`).
    pub amount: String,
    /// Creditor name.
    pub creditor_name: String,
    /// Creditor IBAN (`PL` + 26 digits).
    pub creditor_iban: String,
    /// Title: free text, or the split-payment form `/VAT/…/IDC/…/INV/…/TXT/…`.
    pub title: String,
}

/// The transfers of one requested execution date: one `PmtInf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// PmtInf/ReqdExctnDt, `YYYY-MM-DD`.
    pub execution_date: String,
    /// The transfers.
    pub credits: Vec<Credit>,
}

/// A batch from one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// GrpHdr/MsgId (at most 35 characters): the host's idempotency key.
    pub message_id: String,
    /// GrpHdr/CreDtTm, `YYYY-MM-DDThh:mm:ss`.
    pub created_at: String,
    /// The debtor's IBAN.
    pub debtor_iban: String,
    /// One per execution date, in order.
    pub payments: Vec<Payment>,
}

/// XML text escaping for element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Cuts to `max` characters (the schema's `Max140Text`, `Max70Text`).
fn cut(text: &str, max: usize) -> String {
    text.trim().chars().take(max).collect()
}

/// The sum of two-decimal amounts, exactly, as `"1234.50"`.
pub fn control_sum(amounts: &[String]) -> Option<String> {
    let mut grosze: u128 = 0;
    for amount in amounts {
        let (units, fraction) = amount.split_once('.')?;
        if fraction.len() != 2
            || !units
                .bytes()
                .chain(fraction.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        grosze = grosze.checked_add(format!("{units}{fraction}").parse::<u128>().ok()?)?;
    }
    Some(format!("{}.{:02}", grosze / 100, grosze % 100))
}

fn sum_of(credits: &[&Credit]) -> Option<String> {
    let amounts: Vec<String> = credits.iter().map(|c| c.amount.clone()).collect();
    control_sum(&amounts)
}

impl Batch {
    /// The document, UTF-8; `None` when an amount is not two-decimal.
    pub fn to_xml(&self) -> Option<String> {
        let all: Vec<&Credit> = self.payments.iter().flat_map(|p| &p.credits).collect();
        let sum = sum_of(&all)?;
        let mut xml = String::new();
        // `write!` to a String cannot fail.
        let _ = write!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\">\n\
<CstmrCdtTrfInitn>\n\
<GrpHdr><MsgId>{id}</MsgId><CreDtTm>{created}</CreDtTm><NbOfTxs>{count}</NbOfTxs>\
<CtrlSum>{sum}</CtrlSum><InitgPty><Nm>h2h</Nm></InitgPty></GrpHdr>\n",
            id = escape(&self.message_id),
            created = escape(&self.created_at),
            count = all.len(),
        );
        let several = self.payments.len() > 1;
        for (n, payment) in self.payments.iter().enumerate() {
            let credits: Vec<&Credit> = payment.credits.iter().collect();
            let _ = write!(xml, "<PmtInf><PmtInfId>{}", escape(&self.message_id));
            if several {
                let _ = write!(xml, "-{}", n + 1);
            }
            xml.push_str("</PmtInfId><PmtMtd>TRF</PmtMtd>");
            // The optional per-PmtInf totals only where they cannot be read
            // as the file's.
            if !several {
                let _ = write!(
                    xml,
                    "<NbOfTxs>{}</NbOfTxs><CtrlSum>{}</CtrlSum>",
                    credits.len(),
                    sum_of(&credits)?
                );
            }
            let _ = writeln!(
                xml,
                "<ReqdExctnDt>{date}</ReqdExctnDt><Dbtr><Nm>h2h</Nm></Dbtr>\
<DbtrAcct><Id><IBAN>{debtor}</IBAN></Id><Ccy>PLN</Ccy></DbtrAcct>\
<DbtrAgt><FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId></DbtrAgt>",
                date = escape(&payment.execution_date),
                debtor = escape(&self.debtor_iban),
            );
            for credit in credits {
                let _ = writeln!(
                    xml,
                    "<CdtTrfTxInf><PmtId><EndToEndId>{e2e}</EndToEndId></PmtId>\
<Amt><InstdAmt Ccy=\"PLN\">{amount}</InstdAmt></Amt>\
<Cdtr><Nm>{name}</Nm></Cdtr><CdtrAcct><Id><IBAN>{iban}</IBAN></Id></CdtrAcct>\
<RmtInf><Ustrd>{title}</Ustrd></RmtInf></CdtTrfTxInf>",
                    e2e = escape(&credit.end_to_end_id),
                    amount = escape(&credit.amount),
                    name = escape(&cut(&credit.creditor_name, 70)),
                    iban = escape(&credit.creditor_iban),
                    title = escape(&cut(&credit.title, 140)),
                );
            }
            xml.push_str("</PmtInf>\n");
        }
        xml.push_str("</CstmrCdtTrfInitn>\n</Document>\n");
        Some(xml)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> Batch {
        Batch {
            message_id: "0123456789abcdef0123456789abcdef".to_owned(),
            created_at: "2026-11-30T10:00:00".to_owned(),
            debtor_iban: "PL60102010260000042270201111".to_owned(),
            payments: vec![Payment {
                execution_date: "2026-11-30".to_owned(),
                credits: vec![
                    Credit {
                        end_to_end_id: "ERP-1".to_owned(),
                        amount: "150.00".to_owned(),
                        creditor_name: "Dostawca <Wałbrzych> & Syn".to_owned(),
                        creditor_iban: "PL61109010140000071219812874".to_owned(),
                        title: "Zapłata za FV/1".to_owned(),
                    },
                    Credit {
                        end_to_end_id: "ERP-2".to_owned(),
                        amount: "0.05".to_owned(),
                        creditor_name: "B".to_owned(),
                        creditor_iban: "PL61109010140000071219812874".to_owned(),
                        title: "/VAT/0,01/IDC/5260250995/INV/FV 2/TXT/zaliczka".to_owned(),
                    },
                ],
            }],
        }
    }

    #[test]
    fn counts_and_sums_match_the_transfers() {
        let xml = batch().to_xml().expect("xml");
        assert_eq!(xml.matches("<NbOfTxs>2</NbOfTxs>").count(), 2);
        assert_eq!(xml.matches("<CtrlSum>150.05</CtrlSum>").count(), 2);
        assert!(xml.contains("<InstdAmt Ccy=\"PLN\">150.00</InstdAmt>"));
        assert!(xml.contains("<EndToEndId>ERP-2</EndToEndId>"));
        assert!(
            xml.contains("Dostawca &lt;Wałbrzych&gt; &amp; Syn"),
            "{xml}"
        );
        assert!(xml.contains("urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"));
    }

    #[test]
    fn each_execution_date_is_its_own_payment_with_file_totals_only() {
        let mut batch = batch();
        let mut later = batch.payments[0].clone();
        later.execution_date = "2026-12-02".to_owned();
        later.credits.truncate(1);
        batch.payments.push(later);
        let xml = batch.to_xml().expect("xml");
        assert_eq!(xml.matches("<PmtInf>").count(), 2);
        assert_eq!(xml.matches("<NbOfTxs>").count(), 1, "{xml}");
        assert!(xml.contains("<NbOfTxs>3</NbOfTxs><CtrlSum>300.05</CtrlSum>"));
        assert!(xml.contains("<PmtInfId>0123456789abcdef0123456789abcdef-2</PmtInfId>"));
    }

    #[test]
    fn control_sums_are_exact() {
        let amounts: Vec<String> = ["0.10", "0.20", "999999999.99"].map(String::from).to_vec();
        assert_eq!(control_sum(&amounts).as_deref(), Some("1000000000.29"));
        assert_eq!(control_sum(&["1.5".to_owned()]), None);
        assert_eq!(control_sum(&["-1.50".to_owned()]), None);
    }
}
