//! A throw-away test PKI made each time a simulator is built: one CA
//! (ECDSA P-256), the server certificate for `127.0.0.1`/`localhost`, and
//! client transport ("company communication") certificates.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::SimError;

fn e(err: impl std::fmt::Display) -> SimError {
    SimError::Pki(err.to_string())
}

/// A client transport identity issued by the simulator's CA.
#[derive(Debug, Clone)]
pub struct ClientIdentity {
    /// Certificate, PEM.
    pub cert_pem: String,
    /// PKCS#8 private key, PEM.
    pub key_pem: String,
    /// Certificate, DER.
    pub cert_der: Vec<u8>,
    /// Subject as the request log records it, e.g.
    /// `O=h2h test client,CN=erp-transport` (RFC 4514 order).
    pub subject: String,
}

impl ClientIdentity {
    /// Key, certificate and CA in one PEM (what
    /// `reqwest::Identity::from_pem` takes).
    pub fn identity_pem(&self, ca_pem: &str) -> String {
        [self.key_pem.as_str(), &self.cert_pem, ca_pem].concat()
    }
}

pub(crate) struct Pki {
    pub(crate) ca_pem: String,
    ca_der: Vec<u8>,
    ca: Certificate,
    ca_key: KeyPair,
    pub(crate) server_cert_pem: String,
    server_cert_der: Vec<u8>,
    server_key_der: Vec<u8>,
    pub(crate) server_key_pem: String,
}

impl Pki {
    pub(crate) fn generate() -> Result<Pki, SimError> {
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
        ca.distinguished_name
            .push(DnType::CommonName, "h2h mBank CompanyNet simulator TEST CA");
        ca.distinguished_name
            .push(DnType::OrganizationName, "h2h test PKI (not a real bank)");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().map_err(e)?;
        let ca = ca.self_signed(&ca_key).map_err(e)?;

        let mut server = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
        server
            .distinguished_name
            .push(DnType::CommonName, "companynet.mbank.sim.invalid");
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

    pub(crate) fn issue_client(&self, common_name: &str) -> Result<ClientIdentity, SimError> {
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
            subject: crate::crypto::subject_of(&cert_der).unwrap_or_default(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der,
        })
    }

    /// rustls server configuration; client certificates from our CA are
    /// required (or, with `require_client_cert` off, checked when sent).
    pub(crate) fn server_config(
        &self,
        require_client_cert: bool,
    ) -> Result<rustls::ServerConfig, SimError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.ca_der.clone()))
            .map_err(e)?;
        let mut verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        );
        if !require_client_cert {
            verifier = verifier.allow_unauthenticated();
        }
        let verifier = verifier.build().map_err(e)?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(e)?
            .with_client_cert_verifier(verifier)
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
