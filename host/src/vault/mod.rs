//! The vault: secrets at rest (plugin secrets, TLS identities, saved token
//! PINs), sealed with XChaCha20-Poly1305.
//!
//! - `key`: where the 256-bit key comes from (environment or key file);
//! - `sealed`: the byte format of one sealed value;
//! - `store`: sealed values in the host database;
//! - `rotate`: re-encrypting everything under a new key.
//!
//! Each value is bound to what it is (`EntryId` is the associated data), so
//! a sealed secret copied to another company's or plugin's row no longer
//! opens.

mod key;
mod rotate;
mod sealed;
mod store;

pub use key::{KeySource, VaultKey};
pub use rotate::{RotateReport, rotate};
pub use sealed::OVERHEAD as SEALING_OVERHEAD;
pub use store::{EntryInfo, VaultStore};

use std::fmt;

use zeroize::Zeroizing;

/// Why the vault could not seal, open or load.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The key could not be read or written.
    #[error("vault key {path}: {reason}")]
    KeyFile {
        /// The key file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The key text is not 32 bytes of base64.
    #[error("vault key from {origin} is not 32 bytes of base64")]
    BadKey {
        /// Where the key came from.
        origin: String,
    },
    /// A sealed value was made with a key this host does not have.
    #[error("{entry}: sealed with vault key {key_id}, which this host does not have")]
    UnknownKey {
        /// The entry.
        entry: String,
        /// The key id in the value.
        key_id: String,
    },
    /// Authentication failed: the value was altered or belongs elsewhere.
    #[error("{entry}: the sealed value is damaged or was moved from another entry")]
    Tampered {
        /// The entry.
        entry: String,
    },
    /// The database failed.
    #[error("vault storage: {0}")]
    Database(#[from] sqlx::Error),
}

impl VaultError {
    /// Stable code for APIs and `--json`.
    pub fn kind(&self) -> &'static str {
        match self {
            VaultError::KeyFile { .. } => "vault_key_file",
            VaultError::BadKey { .. } => "vault_bad_key",
            VaultError::UnknownKey { .. } => "vault_unknown_key",
            VaultError::Tampered { .. } => "vault_tampered",
            VaultError::Database(_) => "database",
        }
    }
}

/// What a sealed value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A plugin's secret company setting.
    Secret,
    /// A client TLS identity (PEM key and chain).
    TlsIdentity,
    /// A PKCS#11 token PIN a user asked to save.
    Pin,
    /// A bank session's secret (the bank's token).
    BankSession,
    /// A paired card terminal's device API key.
    TerminalKey,
    /// This host's private key for bank sessions shared to it.
    ShareKey,
    /// The connection string of a database sessions are shared to.
    ExternalDatabase,
    /// A value a plugin keeps in its storage (`plugin_kv`, sealed in place:
    /// never a row of `vault_entries`).
    PluginData,
    /// This installation's id, sealed so that an edited or copied id is
    /// told apart from the one this host made.
    Installation,
}

impl EntryKind {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Secret => "secret",
            EntryKind::TlsIdentity => "tls-identity",
            EntryKind::Pin => "pin",
            EntryKind::BankSession => "bank-session",
            EntryKind::TerminalKey => "terminal-key",
            EntryKind::ShareKey => "share-key",
            EntryKind::ExternalDatabase => "external-database",
            EntryKind::PluginData => "plugin-data",
            EntryKind::Installation => "installation",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "secret" => Some(EntryKind::Secret),
            "tls-identity" => Some(EntryKind::TlsIdentity),
            "pin" => Some(EntryKind::Pin),
            "bank-session" => Some(EntryKind::BankSession),
            "terminal-key" => Some(EntryKind::TerminalKey),
            "share-key" => Some(EntryKind::ShareKey),
            "external-database" => Some(EntryKind::ExternalDatabase),
            "plugin-data" => Some(EntryKind::PluginData),
            "installation" => Some(EntryKind::Installation),
            _ => None,
        }
    }
}

/// The owner of the host-wide entries session sharing keeps.
const SHARE_OWNER: &str = "h2h:share";

/// Names one sealed value: kind, company, owner (a plugin, or a token for
/// PINs) and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryId {
    /// What it is.
    pub kind: EntryKind,
    /// The company it belongs to.
    pub company: String,
    /// The plugin (secrets, identities) or token (PINs).
    pub owner: String,
    /// The name within the owner; empty for PINs.
    pub name: String,
}

impl EntryId {
    /// A plugin's secret setting for a company.
    pub fn secret(company: &str, plugin: &str, name: &str) -> Self {
        Self::new(EntryKind::Secret, company, plugin, name)
    }

    /// A client TLS identity of a plugin for a company.
    pub fn tls_identity(company: &str, plugin: &str, name: &str) -> Self {
        Self::new(EntryKind::TlsIdentity, company, plugin, name)
    }

    /// The saved PIN of a token for a company.
    pub fn pin(company: &str, token: &str) -> Self {
        Self::new(EntryKind::Pin, company, token, "")
    }

    /// The secret of bank session `id` of a plugin for a company.
    pub fn bank_session(company: &str, plugin: &str, id: i64) -> Self {
        Self::new(EntryKind::BankSession, company, plugin, &id.to_string())
    }

    /// A card terminal device's API key, of a plugin for a company.
    pub fn terminal_key(company: &str, plugin: &str, key_name: &str) -> Self {
        Self::new(EntryKind::TerminalKey, company, plugin, key_name)
    }

    /// This host's private share key `key_id` (host-wide: no company).
    pub fn share_key(key_id: &str) -> Self {
        Self::new(EntryKind::ShareKey, "", SHARE_OWNER, key_id)
    }

    /// This installation's id (host-wide).
    pub fn installation() -> Self {
        Self::new(EntryKind::Installation, "", "h2h", "id")
    }

    /// The connection string of share target `name` (host-wide).
    pub fn external_database(name: &str) -> Self {
        Self::new(EntryKind::ExternalDatabase, "", SHARE_OWNER, name)
    }

    /// A plugin's storage value under `key`, for a company ('' for
    /// plugin-wide data).
    pub fn plugin_data(company: &str, plugin: &str, key: &str) -> Self {
        Self::new(EntryKind::PluginData, company, plugin, key)
    }

    fn new(kind: EntryKind, company: &str, owner: &str, name: &str) -> Self {
        Self {
            kind,
            company: company.to_owned(),
            owner: owner.to_owned(),
            name: name.to_owned(),
        }
    }

    /// The associated data: NUL cannot occur in the parts, so no two
    /// entries share it.
    fn aad(&self) -> Vec<u8> {
        format!(
            "h2h-vault-v1\0{}\0{}\0{}\0{}",
            self.kind.as_str(),
            self.company,
            self.owner,
            self.name
        )
        .into_bytes()
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.kind.as_str(), self.company, self.owner)?;
        if !self.name.is_empty() {
            write!(f, "/{}", self.name)?;
        }
        Ok(())
    }
}

/// The keys of one host: the current one seals; every one opens.
pub struct Vault {
    current: VaultKey,
    /// Keys that still open values: a rotation's new key while it runs, or
    /// the old one while an admin switches the environment variable.
    others: Vec<VaultKey>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("current", &self.current.id())
            .field(
                "others",
                &self.others.iter().map(VaultKey::id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Vault {
    /// A vault sealing with `current`, opening with it and `others`.
    pub fn new(current: VaultKey, others: Vec<VaultKey>) -> Self {
        Self { current, others }
    }

    /// Loads the keys `source` names, creating the key file on first use.
    pub fn load(source: &KeySource) -> Result<Self, VaultError> {
        let (current, others) = source.load()?;
        Ok(Self::new(current, others))
    }

    /// The id of the key new values are sealed with.
    pub fn current_key_id(&self) -> &str {
        self.current.id()
    }

    /// Seals `plaintext` as `entry`.
    pub fn seal(&self, entry: &EntryId, plaintext: &[u8]) -> Vec<u8> {
        sealed::seal(&self.current, &entry.aad(), plaintext)
    }

    /// Opens a value sealed as `entry`.
    pub fn open(&self, entry: &EntryId, value: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let key_id = sealed::key_id(value).ok_or_else(|| VaultError::Tampered {
            entry: entry.to_string(),
        })?;
        let key = std::iter::once(&self.current)
            .chain(&self.others)
            .find(|k| k.id() == key_id)
            .ok_or_else(|| VaultError::UnknownKey {
                entry: entry.to_string(),
                key_id: key_id.clone(),
            })?;
        sealed::open(key, &entry.aad(), value).ok_or_else(|| VaultError::Tampered {
            entry: entry.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        Vault::new(VaultKey::generate(), Vec::new())
    }

    #[test]
    fn a_sealed_value_opens_only_as_its_own_entry() {
        let vault = vault();
        let entry = EntryId::secret("acme", "privat24", "token");
        let sealed = vault.seal(&entry, b"s3cret");
        assert!(!sealed.windows(6).any(|w| w == b"s3cret"));
        assert_eq!(vault.open(&entry, &sealed).unwrap().as_slice(), b"s3cret");
        let other_company = EntryId::secret("globex", "privat24", "token");
        assert_eq!(
            vault.open(&other_company, &sealed).unwrap_err().to_string(),
            "secret globex/privat24/token: the sealed value is damaged or was moved from another entry"
        );
    }

    #[test]
    fn a_flipped_bit_is_detected() {
        let vault = vault();
        let entry = EntryId::pin("acme", "card");
        let mut sealed = vault.seal(&entry, b"1234");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(
            vault.open(&entry, &sealed).unwrap_err().kind(),
            "vault_tampered"
        );
    }

    #[test]
    fn another_hosts_key_is_named() {
        let entry = EntryId::secret("acme", "p", "n");
        let sealed = vault().seal(&entry, b"x");
        let error = vault().open(&entry, &sealed).unwrap_err();
        assert_eq!(error.kind(), "vault_unknown_key");
    }

    #[test]
    fn same_plaintext_seals_differently_each_time() {
        let vault = vault();
        let entry = EntryId::secret("acme", "p", "n");
        assert_ne!(vault.seal(&entry, b"x"), vault.seal(&entry, b"x"));
    }
}
