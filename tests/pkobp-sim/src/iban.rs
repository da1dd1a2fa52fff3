//! Polish IBANs and NRBs: the mod-97 check (ISO 13616) and the parts the
//! `:86:` field names (bank sort code, account).

/// `PL` + 26 digits whose mod-97 check holds. Spaces are not allowed.
pub fn is_valid_pl_iban(s: &str) -> bool {
    let Some(digits) = s.strip_prefix("PL") else {
        return false;
    };
    digits.len() == 26
        && digits.bytes().all(|b| b.is_ascii_digit())
        && mod97(&rearranged(digits)) == 1
}

/// `PL`+NRB from an account given as an IBAN or a 26-digit NRB, spaces
/// ignored; `None` when it is neither.
pub fn normalise_account(s: &str) -> Option<String> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let iban = if compact.len() == 26 && compact.bytes().all(|b| b.is_ascii_digit()) {
        format!("PL{compact}")
    } else {
        compact.to_ascii_uppercase()
    };
    is_valid_pl_iban(&iban).then_some(iban)
}

/// A valid `PL` IBAN from a bank sort code (8 digits) and an account
/// number (16 digits): the check digits are computed.
pub fn pl_iban(sort_code: &str, account: &str) -> Option<String> {
    let body = format!("{sort_code}{account}");
    if body.len() != 24 || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let check = 98 - mod97(&format!("{body}252100"));
    Some(format!("PL{check:02}{body}"))
}

/// The bank sort code (8 digits after the check digits).
pub fn sort_code(iban: &str) -> &str {
    iban.get(4..12).unwrap_or("")
}

/// The account part (16 digits after the sort code).
pub fn account_part(iban: &str) -> &str {
    iban.get(12..).unwrap_or("")
}

/// Digits of a `PL` IBAN with the country and check moved to the end and
/// `P`=25, `L`=21.
fn rearranged(nrb: &str) -> String {
    format!("{}2521{}", &nrb[2..], &nrb[..2])
}

fn mod97(digits: &str) -> u32 {
    digits
        .bytes()
        .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ibans() {
        assert!(is_valid_pl_iban("PL61109010140000071219812874"));
        assert!(!is_valid_pl_iban("PL61109010140000071219812875"));
        assert!(!is_valid_pl_iban("DE89370400440532013000"));
        assert_eq!(
            normalise_account("61 1090 1014 0000 0712 1981 2874").as_deref(),
            Some("PL61109010140000071219812874")
        );
    }

    #[test]
    fn built_ibans_are_valid() {
        let iban = pl_iban("10201026", "0000042270201111").unwrap();
        assert!(is_valid_pl_iban(&iban), "{iban}");
        assert_eq!(sort_code(&iban), "10201026");
        assert_eq!(account_part(&iban), "0000042270201111");
    }
}
