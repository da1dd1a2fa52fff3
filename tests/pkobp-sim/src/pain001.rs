//! pain.001.001.03 (ISO 20022 customer credit transfer initiation) as the
//! simulator takes it: parsed into a small tree, then checked rule by rule.
//! Each refusal names the rule it broke.

use std::collections::HashSet;

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::iban::is_valid_pl_iban;
use crate::model::Amount;

/// The namespace a file must declare.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03";

/// A rule a file broke: a code for clients, and what exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// E.g. `CTRL_SUM_MISMATCH`.
    pub code: &'static str,
    /// Human-readable detail.
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

/// One transfer of a checked file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// `PmtId/EndToEndId`.
    pub end_to_end_id: String,
    /// `Amt/InstdAmt`.
    pub amount: Amount,
    /// The enclosing `PmtInf/DbtrAcct/Id/IBAN`.
    pub debtor_iban: String,
    /// `CdtrAcct/Id/IBAN`.
    pub creditor_iban: String,
    /// `Cdtr/Nm`.
    pub creditor_name: String,
    /// `RmtInf/Ustrd` (empty if absent).
    pub title: String,
}

/// A checked file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initiation {
    /// `GrpHdr/MsgId`.
    pub msg_id: String,
    /// Every transfer, in file order.
    pub transfers: Vec<Transfer>,
}

#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    fn path(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |n, p| n.child(p))
    }
    fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.path(path).map(|n| n.text.trim())
    }
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn local(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    match s.rsplit_once(':') {
        Some((_, l)) => l.to_string(),
        None => s.into_owned(),
    }
}

fn parse_tree(xml: &[u8]) -> Result<Node, String> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        match reader.read_event() {
            Err(e) => return Err(format!("at byte {}: {e}", reader.buffer_position())),
            Ok(Event::Eof) => break,
            Ok(Event::Start(_) | Event::Empty(_)) if root.is_some() => {
                return Err("content after the root element".into());
            }
            Ok(Event::Start(e)) => stack.push(start_node(&e)?),
            Ok(Event::Empty(e)) => {
                let node = start_node(&e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Ok(Event::End(_)) => {
                let node = stack.pop().ok_or("unbalanced end tag")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Ok(Event::Text(t)) => {
                let text = t.unescape().map_err(|e| e.to_string())?;
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&text);
                } else if !text.trim().is_empty() {
                    return Err("text outside the root element".into());
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Ok(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err("unclosed elements at end of file".into());
    }
    root.ok_or_else(|| "no root element".into())
}

fn start_node(e: &quick_xml::events::BytesStart<'_>) -> Result<Node, String> {
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        let value = a.unescape_value().map_err(|e| e.to_string())?.into_owned();
        attrs.push((key, value));
    }
    Ok(Node {
        name: local(e.name().as_ref()),
        attrs,
        ..Node::default()
    })
}

/// Parses and checks a file; the first rule broken refuses it.
pub fn check(xml: &[u8]) -> Result<Initiation, Refusal> {
    let root = parse_tree(xml).map_err(|e| refuse("BAD_XML", e))?;
    let ns = root
        .attrs
        .iter()
        .find(|(k, _)| k == "xmlns" || k.starts_with("xmlns:"))
        .map(|(_, v)| v.as_str());
    if root.name != "Document" || ns != Some(NAMESPACE) {
        return Err(refuse(
            "BAD_NAMESPACE",
            format!("expected <Document xmlns=\"{NAMESPACE}\">"),
        ));
    }
    let init = root
        .child("CstmrCdtTrfInitn")
        .ok_or_else(|| refuse("MISSING_FIELD", "CstmrCdtTrfInitn"))?;
    let hdr = init
        .child("GrpHdr")
        .ok_or_else(|| refuse("MISSING_FIELD", "GrpHdr"))?;
    let msg_id = hdr
        .text_at(&["MsgId"])
        .filter(|s| !s.is_empty())
        .ok_or_else(|| refuse("MISSING_FIELD", "GrpHdr/MsgId"))?
        .to_string();
    let nb = hdr
        .text_at(&["NbOfTxs"])
        .ok_or_else(|| refuse("MISSING_FIELD", "GrpHdr/NbOfTxs"))?;
    let nb: usize = nb.parse().map_err(|_| {
        refuse(
            "NB_OF_TXS_MISMATCH",
            format!("NbOfTxs {nb:?} is not a number"),
        )
    })?;
    let ctrl = hdr
        .text_at(&["CtrlSum"])
        .ok_or_else(|| refuse("MISSING_FIELD", "GrpHdr/CtrlSum"))?;
    let ctrl = Amount::parse_decimal(ctrl).ok_or_else(|| {
        refuse(
            "CTRL_SUM_MISMATCH",
            format!("CtrlSum {ctrl:?} is not an amount"),
        )
    })?;

    let mut transfers = Vec::new();
    let mut seen = HashSet::new();
    let mut any_pmt_inf = false;
    for pmt in init.children("PmtInf") {
        any_pmt_inf = true;
        let debtor_iban = pmt
            .text_at(&["DbtrAcct", "Id", "IBAN"])
            .ok_or_else(|| refuse("MISSING_FIELD", "PmtInf/DbtrAcct/Id/IBAN"))?;
        if !is_valid_pl_iban(debtor_iban) {
            return Err(refuse(
                "BAD_IBAN",
                format!("debtor account {debtor_iban:?} is not a valid PL IBAN"),
            ));
        }
        let mut pmt_count = 0usize;
        let mut pmt_sum = Amount(0);
        for tx in pmt.children("CdtTrfTxInf") {
            let e2e = tx
                .text_at(&["PmtId", "EndToEndId"])
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    refuse(
                        "MISSING_END_TO_END_ID",
                        "CdtTrfTxInf without PmtId/EndToEndId",
                    )
                })?;
            if e2e.len() > 35 {
                return Err(refuse(
                    "BAD_END_TO_END_ID",
                    format!("{e2e:?} is longer than 35"),
                ));
            }
            if !seen.insert(e2e.to_string()) {
                return Err(refuse(
                    "DUPLICATE_END_TO_END_ID",
                    format!("EndToEndId {e2e:?} appears twice"),
                ));
            }
            let amt = tx
                .path(&["Amt", "InstdAmt"])
                .ok_or_else(|| refuse("MISSING_FIELD", format!("{e2e}: Amt/InstdAmt")))?;
            if amt.attr("Ccy") != Some("PLN") {
                return Err(refuse("BAD_AMOUNT", format!("{e2e}: currency must be PLN")));
            }
            let amount = Amount::parse_two_decimals(amt.text.trim())
                .filter(|a| a.0 > 0)
                .ok_or_else(|| {
                    refuse(
                        "BAD_AMOUNT",
                        format!(
                            "{e2e}: amount {:?} must be positive with exactly two decimals",
                            amt.text.trim()
                        ),
                    )
                })?;
            let creditor_iban = tx
                .text_at(&["CdtrAcct", "Id", "IBAN"])
                .ok_or_else(|| refuse("MISSING_FIELD", format!("{e2e}: CdtrAcct/Id/IBAN")))?;
            if !is_valid_pl_iban(creditor_iban) {
                return Err(refuse(
                    "BAD_IBAN",
                    format!("{e2e}: creditor account {creditor_iban:?} is not a valid PL IBAN"),
                ));
            }
            let creditor_name = tx
                .text_at(&["Cdtr", "Nm"])
                .filter(|s| !s.is_empty())
                .ok_or_else(|| refuse("MISSING_FIELD", format!("{e2e}: Cdtr/Nm")))?;
            pmt_count += 1;
            pmt_sum = Amount(pmt_sum.0 + amount.0);
            transfers.push(Transfer {
                end_to_end_id: e2e.to_string(),
                amount,
                debtor_iban: debtor_iban.to_string(),
                creditor_iban: creditor_iban.to_string(),
                creditor_name: creditor_name.to_string(),
                title: tx.text_at(&["RmtInf", "Ustrd"]).unwrap_or("").to_string(),
            });
        }
        if let Some(n) = pmt.text_at(&["NbOfTxs"])
            && n.parse::<usize>().ok() != Some(pmt_count)
        {
            return Err(refuse(
                "NB_OF_TXS_MISMATCH",
                format!("PmtInf/NbOfTxs {n} but {pmt_count} transfers"),
            ));
        }
        if let Some(s) = pmt.text_at(&["CtrlSum"])
            && Amount::parse_decimal(s) != Some(pmt_sum)
        {
            return Err(refuse(
                "CTRL_SUM_MISMATCH",
                format!("PmtInf/CtrlSum {s} but the amounts add up to {pmt_sum}"),
            ));
        }
    }
    if !any_pmt_inf {
        return Err(refuse("MISSING_FIELD", "PmtInf"));
    }
    if nb != transfers.len() {
        return Err(refuse(
            "NB_OF_TXS_MISMATCH",
            format!("GrpHdr/NbOfTxs {nb} but {} transfers", transfers.len()),
        ));
    }
    let sum = Amount(transfers.iter().map(|t| t.amount.0).sum());
    if ctrl != sum {
        return Err(refuse(
            "CTRL_SUM_MISMATCH",
            format!("GrpHdr/CtrlSum {ctrl} but the amounts add up to {sum}"),
        ));
    }
    Ok(Initiation { msg_id, transfers })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(nb: &str, sum: &str, amounts: &[&str]) -> String {
        let txs: String = amounts
            .iter()
            .enumerate()
            .map(|(i, a)| {
                format!(
                    "<CdtTrfTxInf><PmtId><EndToEndId>E2E-{i}</EndToEndId></PmtId>\
                     <Amt><InstdAmt Ccy=\"PLN\">{a}</InstdAmt></Amt>\
                     <Cdtr><Nm>Łódź Sp. z o.o.</Nm></Cdtr>\
                     <CdtrAcct><Id><IBAN>PL61109010140000071219812874</IBAN></Id></CdtrAcct>\
                     <RmtInf><Ustrd>FV &amp; 1</Ustrd></RmtInf></CdtTrfTxInf>"
                )
            })
            .collect();
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
             <Document xmlns=\"{NAMESPACE}\"><CstmrCdtTrfInitn><GrpHdr><MsgId>M1</MsgId>\
             <NbOfTxs>{nb}</NbOfTxs><CtrlSum>{sum}</CtrlSum></GrpHdr><PmtInf>\
             <DbtrAcct><Id><IBAN>PL61109010140000071219812874</IBAN></Id></DbtrAcct>{txs}\
             </PmtInf></CstmrCdtTrfInitn></Document>"
        )
    }

    #[test]
    fn a_good_file_passes() {
        let i = check(doc("2", "15.50", &["10.00", "5.50"]).as_bytes()).unwrap();
        assert_eq!(i.msg_id, "M1");
        assert_eq!(i.transfers.len(), 2);
        assert_eq!(i.transfers[0].title, "FV & 1");
        assert_eq!(i.transfers[1].creditor_name, "Łódź Sp. z o.o.");
    }

    #[test]
    fn each_rule_has_its_code() {
        let code = |x: String| check(x.as_bytes()).unwrap_err().code;
        assert_eq!(
            code(doc("3", "15.50", &["10.00", "5.50"])),
            "NB_OF_TXS_MISMATCH"
        );
        assert_eq!(
            code(doc("2", "15.51", &["10.00", "5.50"])),
            "CTRL_SUM_MISMATCH"
        );
        assert_eq!(code(doc("1", "10.0", &["10.0"])), "BAD_AMOUNT");
        assert_eq!(code(doc("1", "0", &["0.00"])), "BAD_AMOUNT");
        assert_eq!(code(doc("1", "1", &["-1.00"])), "BAD_AMOUNT");
        assert_eq!(code("<Document><x/></Document>".into()), "BAD_NAMESPACE");
        assert_eq!(code("<Document><x></Document>".into()), "BAD_XML");
        let bad_iban = doc("1", "1.00", &["1.00"]).replacen("2874</IBAN>", "2875</IBAN>", 1);
        assert_eq!(code(bad_iban), "BAD_IBAN");
        let no_e2e = doc("1", "1.00", &["1.00"]).replace("<EndToEndId>E2E-0</EndToEndId>", "");
        assert_eq!(code(no_e2e), "MISSING_END_TO_END_ID");
    }
}
