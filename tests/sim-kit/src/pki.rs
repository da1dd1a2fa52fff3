//! The throw-away test PKI a simulator makes each time it is built: a CA
//! (ECDSA P-256, rcgen's default), the server certificate for
//! `127.0.0.1` and `localhost`, and on demand client transport
//! identities. Nothing here is a secret outside the test that made it.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Making a certificate or the TLS configuration failed; the message is
/// rcgen's or rustls's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiError(pub String);

impl std::fmt::Display for PkiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PkiError {}

fn e(err: impl std::fmt::Display) -> PkiError {
    PkiError(err.to_string())
}

/// The names in a simulator's certificates.
#[derive(Debug, Clone, Copy)]
pub struct PkiNames {
    /// The CA's common name, e.g. `h2h mBank CompanyNet simulator TEST CA`.
    pub ca_common_name: &'static str,
    /// The CA's organisation, e.g. `h2h test PKI (not a real bank)`.
    pub ca_organization: &'static str,
    /// The server certificate's common name (its SANs are always
    /// `localhost` and `127.0.0.1`).
    pub server_common_name: &'static str,
}

/// Which client certificates the server asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// None (plain server TLS).
    None,
    /// One from the test CA is checked if sent; none is fine.
    Optional,
    /// One from the test CA is required: without, the handshake fails.
    Required,
}

/// A client transport identity the test CA issued: what a client presents
/// in the TLS handshake.
#[derive(Debug, Clone)]
pub struct ClientIdentity {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its PKCS#8 private key, PEM.
    pub key_pem: String,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// The subject the simulator records for requests over it (as
    /// [`subject_of`] renders it).
    pub subject: String,
}

impl ClientIdentity {
    /// Key, certificate and CA in one PEM, as
    /// `reqwest::Identity::from_pem` and most clients take it.
    pub fn identity_pem(&self, ca_pem: &str) -> String {
        [self.key_pem.as_str(), &self.cert_pem, ca_pem].concat()
    }
}

/// A DER certificate's subject, when it parses (x509-cert's rendering).
pub fn subject_of(der: &[u8]) -> Option<String> {
    use x509_cert::der::Decode;
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    Some(cert.tbs_certificate.subject.to_string())
}

/// The CA and the server's certificate and key.
pub struct Pki {
    ca_pem: String,
    ca_der: Vec<u8>,
    ca: Certificate,
    ca_key: KeyPair,
    server_cert_pem: String,
    server_cert_der: Vec<u8>,
    server_key_der: Vec<u8>,
    server_key_pem: String,
}

impl Pki {
    /// A fresh CA and server certificate with these names.
    pub fn generate(names: &PkiNames) -> Result<Pki, PkiError> {
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
        ca.distinguished_name
            .push(DnType::CommonName, names.ca_common_name);
        ca.distinguished_name
            .push(DnType::OrganizationName, names.ca_organization);
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().map_err(e)?;
        let ca = ca.self_signed(&ca_key).map_err(e)?;

        let mut server = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
        server
            .distinguished_name
            .push(DnType::CommonName, names.server_common_name);
        server.subject_alt_names = vec![
            SanType::DnsName("localhost".try_into().map_err(e)?),
            SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        ];
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_key = KeyPair::generate().map_err(e)?;
        let server_cert = server.signed_by(&server_key, &ca, &ca_key).map_err(e)?;
        Ok(Pki {
            ca_pem: ca.pem(),
            ca_der: ca.der().to_vec(),
            server_cert_pem: server_cert.pem(),
            server_cert_der: server_cert.der().to_vec(),
            server_key_der: server_key.serialize_der(),
            server_key_pem: server_key.serialize_pem(),
            ca,
            ca_key,
        })
    }

    /// The test CA, PEM: what clients trust as an extra CA.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The server certificate, PEM.
    pub fn server_cert_pem(&self) -> &str {
        &self.server_cert_pem
    }

    /// The server's PKCS#8 private key, PEM.
    pub fn server_key_pem(&self) -> &str {
        &self.server_key_pem
    }

    /// A client transport certificate (EKU clientAuth) with this common
    /// name and the organisation `h2h test client`.
    pub fn issue_client(&self, common_name: &str) -> Result<ClientIdentity, PkiError> {
        let mut p = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
        p.distinguished_name.push(DnType::CommonName, common_name);
        p.distinguished_name
            .push(DnType::OrganizationName, "h2h test client");
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().map_err(e)?;
        let cert = p.signed_by(&key, &self.ca, &self.ca_key).map_err(e)?;
        let cert_der = cert.der().to_vec();
        Ok(ClientIdentity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            subject: subject_of(&cert_der).unwrap_or_default(),
            cert_der,
        })
    }

    /// The rustls server configuration: TLS 1.2/1.3 (ring), HTTP/1.1 by
    /// ALPN, the server certificate with the CA as its chain, and client
    /// certificates from the test CA as `clients` says (rustls
    /// `WebPkiClientVerifier`).
    pub fn server_config(&self, clients: ClientAuth) -> Result<rustls::ServerConfig, PkiError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(e)?;
        let builder = match clients {
            ClientAuth::None => builder.with_no_client_auth(),
            ClientAuth::Optional | ClientAuth::Required => {
                let mut roots = rustls::RootCertStore::empty();
                roots
                    .add(CertificateDer::from(self.ca_der.clone()))
                    .map_err(e)?;
                let mut verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                );
                if clients == ClientAuth::Optional {
                    verifier = verifier.allow_unauthenticated();
                }
                builder.with_client_cert_verifier(verifier.build().map_err(e)?)
            }
        };
        let mut config = builder
            .with_single_cert(
                vec![
                    CertificateDer::from(self.server_cert_der.clone()),
                    CertificateDer::from(self.ca_der.clone()),
                ],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key_der.clone())),
            )
            .map_err(e)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: PkiNames = PkiNames {
        ca_common_name: "kit TEST CA",
        ca_organization: "h2h test PKI (not a real bank)",
        server_common_name: "kit.sim.invalid",
    };

    #[test]
    fn identities_name_their_subject() {
        let pki = Pki::generate(&NAMES).unwrap();
        assert!(pki.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pki.server_key_pem().contains("PRIVATE KEY"));
        let id = pki.issue_client("erp-transport").unwrap();
        assert!(id.subject.contains("CN=erp-transport"), "{}", id.subject);
        assert!(id.subject.contains("O=h2h test client"), "{}", id.subject);
        assert_eq!(
            subject_of(&id.cert_der).as_deref(),
            Some(id.subject.as_str())
        );
        assert_eq!(subject_of(b"not a certificate"), None);
        let pem = id.identity_pem(pki.ca_pem());
        assert!(pem.starts_with(&id.key_pem) && pem.ends_with(pki.ca_pem()));
        for auth in [ClientAuth::None, ClientAuth::Optional, ClientAuth::Required] {
            let c = pki.server_config(auth).unwrap();
            assert_eq!(c.alpn_protocols, vec![b"http/1.1".to_vec()]);
        }
    }
}
