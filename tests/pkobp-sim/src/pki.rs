//! The simulator's own test PKI: a CA that issues the server certificate
//! (for `127.0.0.1` and `localhost`) and client transport certificates.
//! Generated fresh (ECDSA P-256) every time a simulator is built; nothing
//! here is a secret outside the test that made it.

use std::net::{IpAddr, Ipv4Addr};

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};

use crate::SimError;

fn pki_err(e: rcgen::Error) -> SimError {
    SimError::Pki(e.to_string())
}

/// A transport identity the CA issued: what a client presents in the TLS
/// handshake (the "communication certificate" of the seed).
#[derive(Debug, Clone)]
pub struct ClientIdentity {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its PKCS#8 private key, PEM.
    pub key_pem: String,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// The subject the simulator records for requests over it, e.g.
    /// `CN=erp-transport,O=h2h test client`.
    pub subject: String,
}

impl ClientIdentity {
    /// Key then certificate chain (leaf, CA) in one PEM, as
    /// `reqwest::Identity::from_pem` and most clients take it.
    pub fn identity_pem(&self, ca_pem: &str) -> String {
        format!("{}{}{}", self.key_pem, self.cert_pem, ca_pem)
    }
}

/// The CA, the server's certificate and key, and the first client identity.
pub(crate) struct Pki {
    pub(crate) ca_pem: String,
    pub(crate) ca_der: Vec<u8>,
    ca_cert: Certificate,
    ca_key: KeyPair,
    pub(crate) server_cert_pem: String,
    pub(crate) server_cert_der: Vec<u8>,
    pub(crate) server_key_der: Vec<u8>,
    pub(crate) server_key_pem: String,
}

impl Pki {
    pub(crate) fn generate() -> Result<Pki, SimError> {
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(pki_err)?;
        ca.distinguished_name
            .push(DnType::CommonName, "h2h PKO BP Integra simulator TEST CA");
        ca.distinguished_name
            .push(DnType::OrganizationName, "h2h test PKI (not a real bank)");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().map_err(pki_err)?;
        let ca_cert = ca.self_signed(&ca_key).map_err(pki_err)?;

        let mut server = CertificateParams::new(Vec::<String>::new()).map_err(pki_err)?;
        server
            .distinguished_name
            .push(DnType::CommonName, "integra.pkobp.sim.invalid");
        server.subject_alt_names = vec![
            SanType::DnsName("localhost".try_into().map_err(pki_err)?),
            SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        ];
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_key = KeyPair::generate().map_err(pki_err)?;
        let server_cert = server
            .signed_by(&server_key, &ca_cert, &ca_key)
            .map_err(pki_err)?;
        Ok(Pki {
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().to_vec(),
            ca_cert,
            ca_key,
            server_cert_pem: server_cert.pem(),
            server_cert_der: server_cert.der().to_vec(),
            server_key_der: server_key.serialize_der(),
            server_key_pem: server_key.serialize_pem(),
        })
    }

    /// A client transport certificate with this common name.
    pub(crate) fn issue_client(&self, common_name: &str) -> Result<ClientIdentity, SimError> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(pki_err)?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "h2h test client");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().map_err(pki_err)?;
        let cert = params
            .signed_by(&key, &self.ca_cert, &self.ca_key)
            .map_err(pki_err)?;
        let cert_der = cert.der().to_vec();
        let subject = crate::crypto::subject_of(&cert_der).unwrap_or_default();
        Ok(ClientIdentity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der,
            subject,
        })
    }

    /// The server's rustls configuration: our certificate, and client
    /// certificates required and verified against our CA.
    pub(crate) fn server_config(&self) -> Result<rustls::ServerConfig, SimError> {
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
        let tls = |e: rustls::Error| SimError::Pki(e.to_string());
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.ca_der.clone()))
            .map_err(tls)?;
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            std::sync::Arc::new(roots),
            provider.clone(),
        )
        .build()
        .map_err(|e| SimError::Pki(e.to_string()))?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(tls)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![
                    CertificateDer::from(self.server_cert_der.clone()),
                    CertificateDer::from(self.ca_der.clone()),
                ],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key_der.clone())),
            )
            .map_err(tls)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}
