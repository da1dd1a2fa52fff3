//! The Greek e-invoicing provider's signature: ECDSA P-256 with SHA-256,
//! base64, over `UID;MARK;timestamp;amount;net;VAT;total;TID`, checked
//! with the provider's public key. [`ProviderKey`] plays the provider in
//! tests.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde_json::{Value, json};

/// The DER prefix of a P-256 `SubjectPublicKeyInfo` (id-ecPublicKey,
/// prime256v1) before the 65-byte uncompressed point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// Reads a P-256 public key: PEM (`-----BEGIN PUBLIC KEY-----`), base64
/// of the SPKI DER, base64 of the SEC1 point, or those bytes raw.
pub fn parse_public_key(text_or_bytes: &[u8]) -> Result<VerifyingKey, String> {
    let bytes = match std::str::from_utf8(text_or_bytes) {
        Ok(s) if s.contains("-----BEGIN") => {
            let body: String = s
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<Vec<_>>()
                .concat();
            B64.decode(body.trim())
                .map_err(|_| "bad PEM body".to_string())?
        }
        Ok(s) if !s.trim().is_empty() && B64.decode(s.trim()).is_ok() => {
            B64.decode(s.trim()).unwrap_or_default()
        }
        _ => text_or_bytes.to_vec(),
    };
    let point = bytes.strip_prefix(&P256_SPKI_PREFIX[..]).unwrap_or(&bytes);
    VerifyingKey::from_sec1_bytes(point).map_err(|_| "not a P-256 public key".to_string())
}

/// The SPKI DER of a P-256 public key.
pub fn public_key_der(key: &VerifyingKey) -> Vec<u8> {
    let mut der = P256_SPKI_PREFIX.to_vec();
    der.extend_from_slice(key.to_encoded_point(false).as_bytes());
    der
}

/// Checks a base64 signature (DER, or raw `r||s`) over `input`.
pub(crate) fn verify(key: &VerifyingKey, input: &str, signature_b64: &str) -> bool {
    let Ok(sig) = B64.decode(signature_b64.trim()) else {
        return false;
    };
    let sig = Signature::from_der(&sig).or_else(|_| Signature::from_slice(&sig));
    sig.is_ok_and(|s| key.verify(input.as_bytes(), &s).is_ok())
}

/// Cents as the provider writes amounts: `12.40`.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// `12.4`, `12.40`, `12` → cents; more than two decimals → `None`.
pub fn parse_cents(s: &str) -> Option<i64> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 2 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac = format!("{frac:0<2}");
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(frac.parse::<i64>().ok()?)
}

/// What the provider signs, field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderInput {
    /// The invoice's UID as the provider issued it.
    pub uid: String,
    /// The myDATA MARK.
    pub mark: String,
    /// When the provider signed (RFC 3339 or `YYYYMMDDhhmmss`).
    pub timestamp: String,
    /// The card amount, cents.
    pub amount: i64,
    /// Net, cents.
    pub net: i64,
    /// VAT, cents.
    pub vat: i64,
    /// Invoice total, cents.
    pub total: i64,
    /// The terminal's TID.
    pub tid: String,
}

impl ProviderInput {
    /// `UID;MARK;timestamp;amount;net;VAT;total;TID`, amounts as `12.40`.
    pub fn to_input(&self) -> String {
        format!(
            "{};{};{};{};{};{};{};{}",
            self.uid,
            self.mark,
            self.timestamp,
            format_cents(self.amount),
            format_cents(self.net),
            format_cents(self.vat),
            format_cents(self.total),
            self.tid
        )
    }

    /// Reads the input string back.
    pub fn parse(input: &str) -> Option<ProviderInput> {
        let f: Vec<&str> = input.split(';').collect();
        if f.len() != 8 || f[0].is_empty() || f[7].is_empty() {
            return None;
        }
        Some(ProviderInput {
            uid: f[0].into(),
            mark: f[1].into(),
            timestamp: f[2].into(),
            amount: parse_cents(f[3])?,
            net: parse_cents(f[4])?,
            vat: parse_cents(f[5])?,
            total: parse_cents(f[6])?,
            tid: f[7].into(),
        })
    }
}

/// A provider's signing key (tests play the provider with it).
#[derive(Clone)]
pub struct ProviderKey {
    key: SigningKey,
}

impl ProviderKey {
    /// A fresh random P-256 key.
    pub fn generate() -> ProviderKey {
        loop {
            let bytes = crate::random_bytes(32);
            if let Ok(key) = SigningKey::from_slice(&bytes) {
                return ProviderKey { key };
            }
        }
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        *self.key.verifying_key()
    }

    /// The public key as `-----BEGIN PUBLIC KEY-----` PEM.
    pub fn public_key_pem(&self) -> String {
        let b64 = B64.encode(public_key_der(&self.verifying_key()));
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
    }

    /// ECDSA P-256 SHA-256 over the input's bytes: base64 of the DER
    /// signature.
    pub fn sign(&self, input: &str) -> String {
        let sig: Signature = self.key.sign(input.as_bytes());
        B64.encode(sig.to_der().as_bytes())
    }

    /// The `ProviderData` object a client sends in `txninit`: the fields,
    /// the exact `Input` string and its `Signature`.
    pub fn provider_data(&self, provider_name: &str, input: &ProviderInput) -> Value {
        let text = input.to_input();
        json!({
            "ProviderName": provider_name,
            "UId": input.uid,
            "Mark": input.mark,
            "SignatureTimestamp": input.timestamp,
            "NetAmount": format_cents(input.net),
            "VatAmount": format_cents(input.vat),
            "TotalAmount": format_cents(input.total),
            "Input": text,
            "Signature": self.sign(&text),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_round_trip() {
        assert_eq!(parse_cents("12.4"), Some(1240));
        assert_eq!(parse_cents("12.40"), Some(1240));
        assert_eq!(parse_cents("12"), Some(1200));
        assert_eq!(parse_cents("12.401"), None);
        assert_eq!(parse_cents("-1"), None);
        assert_eq!(parse_cents("1,20"), None);
        assert_eq!(format_cents(5), "0.05");
        assert_eq!(format_cents(123456), "1234.56");
    }

    #[test]
    fn sign_verify_and_key_forms() {
        let k = ProviderKey::generate();
        let input = "UID1;400001;20261130120000;12.40;10.00;2.40;12.40;12345678";
        let sig = k.sign(input);
        let pem = k.public_key_pem();
        let from_pem = parse_public_key(pem.as_bytes()).unwrap();
        assert!(verify(&from_pem, input, &sig));
        assert!(!verify(&from_pem, &input.replace("12.40", "12.41"), &sig));
        let der = public_key_der(&k.verifying_key());
        assert_eq!(parse_public_key(&der).unwrap(), k.verifying_key());
        let sec1 = B64.encode(k.verifying_key().to_encoded_point(false).as_bytes());
        assert_eq!(
            parse_public_key(sec1.as_bytes()).unwrap(),
            k.verifying_key()
        );
        // Raw r||s is accepted too.
        let raw: Signature = k.key.sign(input.as_bytes());
        assert!(verify(&from_pem, input, &B64.encode(raw.to_bytes())));
        assert!(parse_public_key(b"nonsense").is_err());
    }

    #[test]
    fn input_parses_back() {
        let i = ProviderInput {
            uid: "A1".into(),
            mark: "4000".into(),
            timestamp: "20261130120000".into(),
            amount: 1240,
            net: 1000,
            vat: 240,
            total: 1240,
            tid: "12345678".into(),
        };
        assert_eq!(ProviderInput::parse(&i.to_input()), Some(i));
        assert_eq!(ProviderInput::parse("a;b;c"), None);
    }
}
