//! Polish account numbers: the 26-digit NRB, its `PL` IBAN form and the
//! ISO 13616 mod-97 check (the same check for both), and the parts inside
//! it (the 8-digit bank sort code, the 16-digit account number).

/// A string of ASCII decimal digits mod 97, folded digit by digit.
pub fn mod97(digits: &str) -> u32 {
    digits
        .bytes()
        .fold(0, |r, b| (r * 10 + u32::from(b.wrapping_sub(b'0'))) % 97)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A 26-digit NRB whose check digits hold (`PL` = 25 21 moved behind).
pub fn is_valid_nrb(nrb: &str) -> bool {
    nrb.len() == 26 && all_digits(nrb) && {
        let (check, body) = nrb.split_at(2);
        mod97(&format!("{body}2521{check}")) == 1
    }
}

/// `PL` + 26 digits whose mod-97 check holds. Spaces are not allowed.
pub fn is_valid_pl_iban(s: &str) -> bool {
    s.strip_prefix("PL").is_some_and(is_valid_nrb)
}

/// `PL`+NRB from an account given as an IBAN or a 26-digit NRB, spaces
/// ignored; `None` when the check fails or the shape is wrong.
pub fn normalise_account(s: &str) -> Option<String> {
    let compact: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let iban = if compact.starts_with("PL") {
        compact
    } else {
        format!("PL{compact}")
    };
    is_valid_pl_iban(&iban).then_some(iban)
}

/// A valid `PL` IBAN from a bank sort code (8 digits) and an account
/// number (16 digits): the check digits are computed. `None` for any
/// other shape.
pub fn pl_iban(sort_code: &str, account: &str) -> Option<String> {
    if sort_code.len() != 8 || account.len() != 16 || !all_digits(sort_code) || !all_digits(account)
    {
        return None;
    }
    let check = 98 - mod97(&format!("{sort_code}{account}252100"));
    Some(format!("PL{check:02}{sort_code}{account}"))
}

/// The bank sort code of a `PL` IBAN (8 digits after the check digits).
pub fn sort_code(iban: &str) -> &str {
    iban.get(4..12).unwrap_or("")
}

/// The account part of a `PL` IBAN (16 digits after the sort code).
pub fn account_part(iban: &str) -> &str {
    iban.get(12..).unwrap_or("")
}

/// The sort code of an NRB (its digits 3–10).
pub fn nrb_sort_code(nrb: &str) -> &str {
    nrb.get(2..10).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ibans() {
        assert!(is_valid_pl_iban("PL61109010140000071219812874"));
        assert!(!is_valid_pl_iban("PL61109010140000071219812875"));
        assert!(!is_valid_pl_iban("DE89370400440532013000"));
        assert!(is_valid_nrb("61109010140000071219812874"));
        assert!(!is_valid_nrb("61109010140000071219812875"));
        assert!(!is_valid_nrb("6110901014000007121981287"));
        assert_eq!(
            normalise_account("61 1090 1014 0000 0712 1981 2874").as_deref(),
            Some("PL61109010140000071219812874")
        );
        assert_eq!(
            normalise_account("pl61 1090 1014 0000 0712 1981 2874").as_deref(),
            Some("PL61109010140000071219812874")
        );
        assert_eq!(normalise_account("DE89370400440532013000"), None);
    }

    #[test]
    fn built_ibans_are_valid() {
        let iban = pl_iban("10201026", "0000042270201111").unwrap();
        assert!(is_valid_pl_iban(&iban), "{iban}");
        assert_eq!(sort_code(&iban), "10201026");
        assert_eq!(account_part(&iban), "0000042270201111");

        let built = pl_iban("11402004", "0000320212345678").unwrap();
        assert!(is_valid_pl_iban(&built), "{built}");
        assert_eq!(nrb_sort_code(&built[2..]), "11402004");
        assert!(pl_iban("1140200", "0000320212345678").is_none());
    }
}
