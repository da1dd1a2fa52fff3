//! Vault keys and where they come from: `H2H_VAULT_KEY` (base64 of 32
//! bytes) when set, otherwise a key file in the data directory, created
//! with mode 0600 on first use.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{KeyInit, OsRng};
use chacha20poly1305::{Key, XChaCha20Poly1305};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::VaultError;

/// The environment variable holding the key.
pub const KEY_ENV: &str = "H2H_VAULT_KEY";
/// The environment variable holding the key a rotation moves to.
pub const NEW_KEY_ENV: &str = "H2H_VAULT_NEW_KEY";
/// What a key file starts with.
const FILE_PREFIX: &str = "h2h-vault-key-v1:";

/// One 256-bit key, known by an id derived from it (never the key itself).
#[derive(Clone)]
pub struct VaultKey {
    id: String,
    id_bytes: [u8; 8],
    cipher: XChaCha20Poly1305,
    material: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultKey").field("id", &self.id).finish()
    }
}

impl VaultKey {
    /// A new random key.
    pub fn generate() -> Self {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut material = Zeroizing::new([0u8; 32]);
        material.copy_from_slice(&key);
        Self::from_bytes(material)
    }

    fn from_bytes(material: Zeroizing<[u8; 32]>) -> Self {
        let digest = Sha256::new()
            .chain_update(b"h2h-vault-key-id\0")
            .chain_update(material.as_slice())
            .finalize();
        let mut id_bytes = [0u8; 8];
        id_bytes.copy_from_slice(&digest[..8]);
        Self {
            id: hex::encode(id_bytes),
            id_bytes,
            cipher: XChaCha20Poly1305::new(Key::from_slice(material.as_slice())),
            material,
        }
    }

    /// Parses base64 key text (with or without the key file prefix).
    pub fn parse(text: &str, origin: &str) -> Result<Self, VaultError> {
        let bad = || VaultError::BadKey {
            origin: origin.to_owned(),
        };
        let text = text.trim();
        let text = text.strip_prefix(FILE_PREFIX).unwrap_or(text);
        let bytes = Zeroizing::new(STANDARD.decode(text).map_err(|_| bad())?);
        let mut material = Zeroizing::new([0u8; 32]);
        if bytes.len() != 32 {
            return Err(bad());
        }
        material.copy_from_slice(&bytes);
        Ok(Self::from_bytes(material))
    }

    /// The key as an admin writes it into `H2H_VAULT_KEY`.
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(STANDARD.encode(self.material.as_slice()))
    }

    /// Key id: 16 hex digits.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(super) fn id_bytes(&self) -> &[u8; 8] {
        &self.id_bytes
    }

    pub(super) fn cipher(&self) -> &XChaCha20Poly1305 {
        &self.cipher
    }
}

/// Where the host's vault key lives.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// From the environment; `next` is the key a rotation moves to.
    Env {
        /// `H2H_VAULT_KEY`.
        current: SecretString,
        /// `H2H_VAULT_NEW_KEY`, during a rotation.
        next: Option<SecretString>,
    },
    /// A key file (created on first use); `<file>.next` holds the key of a
    /// rotation that has not finished.
    File(PathBuf),
}

impl KeySource {
    /// `H2H_VAULT_KEY` if set, else the key file `file`.
    pub fn from_env_or_file(file: PathBuf) -> Self {
        match std::env::var(KEY_ENV) {
            Ok(current) if !current.trim().is_empty() => KeySource::Env {
                current: current.into(),
                next: std::env::var(NEW_KEY_ENV)
                    .ok()
                    .filter(|k| !k.trim().is_empty())
                    .map(Into::into),
            },
            _ => KeySource::File(file),
        }
    }

    /// The sealing key and the other keys that open values.
    pub(super) fn load(&self) -> Result<(VaultKey, Vec<VaultKey>), VaultError> {
        match self {
            KeySource::Env { current, next } => {
                let current = VaultKey::parse(current.expose_secret(), KEY_ENV)?;
                let next = next
                    .as_ref()
                    .map(|k| VaultKey::parse(k.expose_secret(), NEW_KEY_ENV))
                    .transpose()?;
                Ok((current, next.into_iter().collect()))
            }
            KeySource::File(path) => {
                let current = read_or_create(path)?;
                let next = read(&next_path(path))?;
                Ok((current, next.into_iter().collect()))
            }
        }
    }
}

/// Where a rotation writes the new key before it takes over.
pub(super) fn next_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".next");
    PathBuf::from(name)
}

fn file_error(path: &Path, reason: impl fmt::Display) -> VaultError {
    VaultError::KeyFile {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// The key in `path`, if the file exists.
pub(super) fn read(path: &Path) -> Result<Option<VaultKey>, VaultError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let text = Zeroizing::new(text);
            VaultKey::parse(&text, &path.display().to_string()).map(Some)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(file_error(path, e)),
    }
}

fn read_or_create(path: &Path) -> Result<VaultKey, VaultError> {
    if let Some(key) = read(path)? {
        return Ok(key);
    }
    let key = VaultKey::generate();
    match write_new(path, &key) {
        Ok(()) => {
            tracing::info!(path = %path.display(), key_id = key.id(), "created a new vault key; back it up");
            Ok(key)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read(path)?.ok_or_else(|| file_error(path, "vanished after creation"))
        }
        Err(e) => Err(file_error(path, e)),
    }
}

/// Writes `key` to a file that must not exist yet, readable by the owner
/// only, and flushed to disk before anything is sealed with it.
pub(super) fn write_new(path: &Path, key: &VaultKey) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    let text = Zeroizing::new(format!(
        "{FILE_PREFIX}{}\n",
        key.to_base64().expose_secret()
    ));
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.key");
        let first = read_or_create(&path).unwrap();
        let second = read_or_create(&path).unwrap();
        assert_eq!(first.id(), second.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn bad_key_text_names_its_origin() {
        let error = VaultKey::parse("c2hvcnQ=", KEY_ENV).unwrap_err();
        assert_eq!(
            error.to_string(),
            "vault key from H2H_VAULT_KEY is not 32 bytes of base64"
        );
    }

    #[test]
    fn a_key_round_trips_through_base64() {
        let key = VaultKey::generate();
        let again = VaultKey::parse(key.to_base64().expose_secret(), "test").unwrap();
        assert_eq!(key.id(), again.id());
    }
}
