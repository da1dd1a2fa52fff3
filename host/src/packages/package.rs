//! Opening an uploaded package: archive, manifest, signature, component, in
//! that order; the first problem is the answer.

use h2h_license::VendorPublicKey;

use super::archive::{self, COMPONENT, Files, ICON, MANIFEST, PackageLimits, README, SIGNATURE};
use super::manifest::Manifest;
use super::{PackageError, component, signature};

/// Whether unsigned packages and unknown publishers are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignaturePolicy {
    /// Production: a trusted publisher's valid signature is required.
    RequireTrusted,
    /// Development: unsigned packages and unknown publishers pass (with a
    /// warning); a signature by a trusted key must still verify.
    AllowUnsigned,
}

/// A package that passed every check.
#[derive(Debug, Clone)]
pub struct Package {
    /// The parsed manifest.
    pub manifest: Manifest,
    /// The manifest as written.
    pub manifest_text: String,
    /// The component.
    pub wasm: Vec<u8>,
    /// README.md, if any.
    pub readme: Option<String>,
    /// icon.png, if any.
    pub icon: Option<Vec<u8>>,
    /// Key id of the trusted signer; none for a development upload.
    pub signer: Option<String>,
    /// SHA-256 of the signed contents (see [`signature::content_digest`]).
    pub content_digest: String,
}

fn text(files: &mut Files, name: &'static str) -> Result<Option<String>, PackageError> {
    files
        .remove(name)
        .map(|bytes| String::from_utf8(bytes).map_err(|_| PackageError::NotUtf8(name)))
        .transpose()
}

fn signer(
    files: &Files,
    signature: Option<&str>,
    trusted: &[VendorPublicKey],
    policy: SignaturePolicy,
) -> Result<Option<String>, PackageError> {
    let verified = match signature {
        Some(text) => signature::verify(files, text, trusted),
        None => Err(PackageError::Unsigned),
    };
    match (verified, policy) {
        (Ok(key_id), _) => Ok(Some(key_id)),
        (
            Err(e @ (PackageError::Unsigned | PackageError::UnknownPublisher(_))),
            SignaturePolicy::AllowUnsigned,
        ) => {
            tracing::warn!(reason = %e, "DEVELOPMENT MODE: accepting a package without a trusted signature");
            Ok(None)
        }
        (Err(e), _) => Err(e),
    }
}

/// Checks `zip` completely; nothing is kept of a refused package.
pub fn open(
    zip: &[u8],
    trusted: &[VendorPublicKey],
    policy: SignaturePolicy,
    limits: &PackageLimits,
) -> Result<Package, PackageError> {
    let mut files = archive::read(zip, limits)?;
    let signature = text(&mut files, SIGNATURE)?;
    let manifest_text = match files.get(MANIFEST) {
        Some(bytes) => {
            String::from_utf8(bytes.clone()).map_err(|_| PackageError::NotUtf8(MANIFEST))?
        }
        None => return Err(PackageError::Missing(MANIFEST)),
    };
    let manifest = Manifest::parse(&manifest_text)?;
    let signer = signer(&files, signature.as_deref(), trusted, policy)?;
    let content_digest = signature::content_digest(&files);
    let wasm = files
        .remove(COMPONENT)
        .ok_or(PackageError::Missing(COMPONENT))?;
    component::check(&wasm, &manifest)?;
    Ok(Package {
        manifest,
        manifest_text,
        wasm,
        readme: text(&mut files, README)?,
        icon: files.remove(ICON),
        signer,
        content_digest,
    })
}
