//! PKCS#12 (`.p12`, `.pfx`) client identities, as banks hand them out,
//! turned into the PEM chain and key the HTTP clients use.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
use zeroize::Zeroizing;

use super::grant::GrantError;

/// The certificate chain (leaf first) and the PKCS#8 key of the first key
/// entry of `p12`, both PEM.
pub fn pkcs12_to_pem(
    p12: &[u8],
    password: &str,
) -> Result<(String, Zeroizing<String>), GrantError> {
    let store = KeyStore::from_pkcs12(p12, password, Pkcs12ImportPolicy::Strict).map_err(|e| {
        GrantError::Identity(format!(
            "cannot open the PKCS#12 file (wrong password, or not PKCS#12): {e}"
        ))
    })?;
    let (_, chain) = store.private_key_chain().ok_or_else(|| {
        GrantError::Identity(
            "the PKCS#12 file holds no private key with its certificate".to_owned(),
        )
    })?;
    let mut certificates = String::new();
    for certificate in chain.certs() {
        certificates.push_str(&pem("CERTIFICATE", certificate.as_der()));
    }
    let key = Zeroizing::new(pem("PRIVATE KEY", chain.key().as_der()));
    Ok((certificates, key))
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = Zeroizing::new(STANDARD.encode(der));
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
