//! The simulator's throw-away test PKI: a CA (ECDSA P-256, made fresh at
//! every build) and a server certificate for `127.0.0.1` and `localhost`.
//! Plain server TLS: WebECR clients authenticate with JWTs and API keys,
//! not with certificates.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};

use crate::SimError;

fn pki_err(e: impl std::fmt::Display) -> SimError {
    SimError::Pki(e.to_string())
}

pub(crate) struct Pki {
    pub(crate) ca_pem: String,
    ca_der: Vec<u8>,
    pub(crate) server_cert_pem: String,
    server_cert_der: Vec<u8>,
    server_key_der: Vec<u8>,
    pub(crate) server_key_pem: String,
}

impl Pki {
    pub(crate) fn generate() -> Result<Pki, SimError> {
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(pki_err)?;
        ca.distinguished_name
            .push(DnType::CommonName, "h2h WebECR simulator TEST CA");
        ca.distinguished_name.push(
            DnType::OrganizationName,
            "h2h test PKI (not a real service)",
        );
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().map_err(pki_err)?;
        let ca_cert = ca.self_signed(&ca_key).map_err(pki_err)?;

        let mut server = CertificateParams::new(Vec::<String>::new()).map_err(pki_err)?;
        server
            .distinguished_name
            .push(DnType::CommonName, "webecr-sim.invalid");
        server.subject_alt_names = vec![
            SanType::DnsName("localhost".try_into().map_err(pki_err)?),
            SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        ];
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().map_err(pki_err)?;
        let cert = server.signed_by(&key, &ca_cert, &ca_key).map_err(pki_err)?;
        Ok(Pki {
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().to_vec(),
            server_cert_pem: cert.pem(),
            server_cert_der: cert.der().to_vec(),
            server_key_der: key.serialize_der(),
            server_key_pem: key.serialize_pem(),
        })
    }

    /// rustls server configuration: TLS 1.2/1.3, HTTP/1.1, no client
    /// certificates.
    pub(crate) fn server_config(&self) -> Result<rustls::ServerConfig, SimError> {
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(pki_err)?
            .with_no_client_auth()
            .with_single_cert(
                vec![
                    CertificateDer::from(self.server_cert_der.clone()),
                    CertificateDer::from(self.ca_der.clone()),
                ],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key_der.clone())),
            )
            .map_err(pki_err)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}
