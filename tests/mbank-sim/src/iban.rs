//! Polish account numbers: the 26-digit NRB, its `PL` IBAN form and the
//! ISO 13616 mod-97 check (the same check for both), and the 8-digit bank
//! sort code inside it (digits 3–10 of the NRB).

/// `n` mod 97 of a string of decimal digits (ASCII), folded digit by digit.
fn mod97(digits: &str) -> u32 {
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

/// `PL` + a valid NRB.
pub fn is_valid_pl_iban(s: &str) -> bool {
    s.strip_prefix("PL").is_some_and(is_valid_nrb)
}

/// `PL`+NRB from an IBAN or a bare NRB (spaces ignored); `None` when the
/// check fails or the shape is wrong.
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

/// A `PL` IBAN for this sort code (8 digits) and account number (16
/// digits), check digits computed.
pub fn pl_iban(sort_code: &str, account: &str) -> Option<String> {
    if sort_code.len() != 8 || account.len() != 16 || !all_digits(sort_code) || !all_digits(account)
    {
        return None;
    }
    let check = 98 - mod97(&format!("{sort_code}{account}252100"));
    Some(format!("PL{check:02}{sort_code}{account}"))
}

/// The sort code of an NRB (its digits 3–10).
pub fn nrb_sort_code(nrb: &str) -> &str {
    nrb.get(2..10).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits() {
        assert!(is_valid_pl_iban("PL61109010140000071219812874"));
        assert!(is_valid_nrb("61109010140000071219812874"));
        assert!(!is_valid_nrb("61109010140000071219812875"));
        assert!(!is_valid_nrb("6110901014000007121981287"));
        assert_eq!(
            normalise_account("61 1090 1014 0000 0712 1981 2874").as_deref(),
            Some("PL61109010140000071219812874")
        );
        let built = pl_iban("11402004", "0000320212345678").unwrap();
        assert!(is_valid_pl_iban(&built), "{built}");
        assert_eq!(nrb_sort_code(&built[2..]), "11402004");
        assert!(pl_iban("1140200", "0000320212345678").is_none());
    }
}
