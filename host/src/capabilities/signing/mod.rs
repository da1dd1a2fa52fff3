//! `h2h:connector/signing`: signatures by keys on a PKCS#11 token, made by
//! the host so the PIN and keys never enter the plugin.
//!
//! - `grant`: which registered tokens the plugin may use;
//! - the tokens, sessions and mechanisms themselves are
//!   [`crate::pkcs11::TokenService`]'s.
//!
//! Sessions belong to a company: a call sees the certificates of the
//! granted tokens on which an ERP user of its company opened a session (or
//! whose saved PIN opens one).

mod grant;

pub use grant::SigningGrant;

use std::sync::Arc;
use std::time::Instant;

use crate::pkcs11::{KeyId, SignMechanism, TokenCertificate, TokenError, millis_since};
use crate::wit::v2::signing::{self, Certificate, Mechanism, SigningError};

/// Per-call state of the signing capability.
#[derive(Debug)]
pub struct SigningCtx {
    plugin: Arc<str>,
    grant: SigningGrant,
    company: Option<String>,
}

impl SigningCtx {
    pub(crate) fn new(plugin: Arc<str>, grant: SigningGrant, company_id: Option<String>) -> Self {
        Self {
            plugin,
            grant,
            company: company_id,
        }
    }

    fn denied<T>(&self, what: &str) -> Result<T, SigningError> {
        tracing::warn!(target: "h2h::signing", plugin = %self.plugin, what, "signing denied: no grant");
        Err(SigningError::NotGranted)
    }

    async fn list(&self) -> Result<Vec<Certificate>, SigningError> {
        let Some(service) = self.grant.service() else {
            return self.denied("list-certificates");
        };
        let Some(company) = &self.company else {
            return Err(to_wit(TokenError::CompanyRequired));
        };
        let mut found = Vec::new();
        let mut without_session = Vec::new();
        for token in self.grant.tokens() {
            match service.certificates(company, token).await {
                Ok(list) => found.extend(list.into_iter().map(certificate)),
                Err(e @ TokenError::SessionRequired { .. }) => without_session.push((token, e)),
                Err(e) => return Err(to_wit(e)),
            }
        }
        if without_session.len() == self.grant.tokens().len() {
            return Err(session_required(company, without_session));
        }
        Ok(found)
    }

    async fn sign(
        &self,
        key_id: &str,
        mechanism: SignMechanism,
        data: Vec<u8>,
    ) -> Result<Vec<u8>, SigningError> {
        let Some(service) = self.grant.service() else {
            return self.denied("sign");
        };
        // A key of a token not granted is, to this plugin, no key at all.
        let Some(key) = KeyId::parse(key_id).filter(|k| self.grant.allows(&k.token)) else {
            return Err(SigningError::KeyNotFound(key_id.to_owned()));
        };
        let Some(company) = &self.company else {
            return Err(to_wit(TokenError::CompanyRequired));
        };
        let started = Instant::now();
        let bytes = data.len();
        let result = service.sign(company, &key, mechanism, data).await;
        let duration_ms = millis_since(started);
        match &result {
            Ok(_) => tracing::info!(
                target: "h2h::signing",
                plugin = %self.plugin,
                company,
                token = %key.token,
                key_id,
                %mechanism,
                bytes,
                duration_ms,
                "signed"
            ),
            Err(e) => tracing::warn!(
                target: "h2h::signing",
                plugin = %self.plugin,
                company,
                token = %key.token,
                key_id,
                %mechanism,
                bytes,
                duration_ms,
                kind = e.kind(),
                error = %e,
                "signing failed"
            ),
        }
        result.map_err(to_wit)
    }
}

impl signing::Host for SigningCtx {
    async fn list_certificates(
        &mut self,
    ) -> wasmtime::Result<Result<Vec<Certificate>, SigningError>> {
        Ok(self.list().await)
    }

    async fn sign(
        &mut self,
        key_id: String,
        mechanism: Mechanism,
        data: Vec<u8>,
    ) -> wasmtime::Result<Result<Vec<u8>, SigningError>> {
        Ok(SigningCtx::sign(self, &key_id, from_wit(mechanism), data).await)
    }
}

/// `session-required` naming every granted token without a session.
fn session_required(company: &str, mut missing: Vec<(&String, TokenError)>) -> SigningError {
    if missing.len() == 1 {
        let (_, error) = missing.remove(0);
        return to_wit(error);
    }
    let names: Vec<String> = missing.iter().map(|(t, _)| format!("`{t}`")).collect();
    SigningError::SessionRequired(format!(
        "tokens {}: no signing session is open for company `{company}`; an ERP user must open one with the token's PIN",
        names.join(", ")
    ))
}

fn to_wit(error: TokenError) -> SigningError {
    match error {
        TokenError::SessionRequired { .. } | TokenError::CompanyRequired => {
            SigningError::SessionRequired(error.to_string())
        }
        TokenError::KeyNotFound(key_id) => SigningError::KeyNotFound(key_id),
        TokenError::UnsupportedMechanism { .. } => {
            SigningError::UnsupportedMechanism(error.to_string())
        }
        other => SigningError::Token(other.to_string()),
    }
}

fn from_wit(mechanism: Mechanism) -> SignMechanism {
    match mechanism {
        Mechanism::RsaPkcs1Sha256 => SignMechanism::RsaPkcs1Sha256,
        Mechanism::RsaPssSha256 => SignMechanism::RsaPssSha256,
        Mechanism::EcdsaP256Sha256 => SignMechanism::EcdsaP256Sha256,
    }
}

fn to_wit_mechanism(mechanism: SignMechanism) -> Mechanism {
    match mechanism {
        SignMechanism::RsaPkcs1Sha256 => Mechanism::RsaPkcs1Sha256,
        SignMechanism::RsaPssSha256 => Mechanism::RsaPssSha256,
        SignMechanism::EcdsaP256Sha256 => Mechanism::EcdsaP256Sha256,
    }
}

fn certificate(c: TokenCertificate) -> Certificate {
    Certificate {
        key_id: c.key_id,
        label: c.label,
        subject: c.subject,
        issuer: c.issuer,
        serial: c.serial,
        not_before: c.not_before,
        not_after: c.not_after,
        der: c.der,
        mechanisms: c.mechanisms.into_iter().map(to_wit_mechanism).collect(),
    }
}
