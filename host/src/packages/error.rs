//! Why a package was refused. One variant per problem, each message naming
//! the file, the limit or the field; [`PackageError::kind`] is the stable
//! code.

use crate::packages::manifest::ManifestError;

/// Why a package is refused. Nothing is stored when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The bytes are not a readable zip archive.
    #[error("not a zip archive: {0}")]
    NotAZip(String),
    /// The whole upload is over the limit.
    #[error("the package is {size} bytes; the limit is {limit}")]
    TooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// More entries than any valid package has.
    #[error("the package has {count} entries; at most {limit} are allowed")]
    TooManyEntries {
        /// Entries found.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A name that is not a plain file name at the root.
    #[error(
        "entry `{0}`: only plain file names at the archive root are allowed (no directories, `..`, absolute paths or backslashes)"
    )]
    UnsafePath(String),
    /// A name the format does not know.
    #[error(
        "entry `{0}` is not part of the package format (allowed: h2h.toml, plugin.wasm, README.md, icon.png, signature.toml)"
    )]
    UnexpectedEntry(String),
    /// The same name twice.
    #[error("entry `{0}` appears twice")]
    DuplicateEntry(String),
    /// A symlink or directory entry.
    #[error("entry `{0}` is not a regular file")]
    NotAFile(String),
    /// An encrypted entry.
    #[error("entry `{0}` is encrypted; packages are signed, not encrypted")]
    Encrypted(String),
    /// An entry inflates past its size limit.
    #[error("`{name}` inflates to more than {limit} bytes")]
    EntryTooLarge {
        /// The entry.
        name: String,
        /// Its limit.
        limit: u64,
    },
    /// An entry inflates far more than real files do.
    #[error("`{name}` inflates more than {limit}:1; refusing a likely compression bomb")]
    CompressionBomb {
        /// The entry.
        name: String,
        /// The ratio limit.
        limit: u64,
    },
    /// An entry cannot be inflated.
    #[error("`{name}` cannot be read: {reason}")]
    CorruptEntry {
        /// The entry.
        name: String,
        /// Why.
        reason: String,
    },
    /// A required file is missing.
    #[error("the package has no `{0}`")]
    Missing(&'static str),
    /// A text file is not UTF-8.
    #[error("`{0}` is not UTF-8 text")]
    NotUtf8(&'static str),
    /// The manifest is invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// No signature, and the host requires one.
    #[error(
        "the package is not signed (no signature.toml); sign it with `h2h plugin pack --sign-key`, or run a development host with --allow-untrusted-packages"
    )]
    Unsigned,
    /// signature.toml is unreadable.
    #[error("signature.toml: {0}")]
    MalformedSignature(String),
    /// Signed by a key the host does not trust.
    #[error(
        "signed by key {0}, which this host does not trust (`h2h publisher trust <public key file>`)"
    )]
    UnknownPublisher(String),
    /// The signature does not match the contents.
    #[error(
        "the signature by key {0} does not match the package contents: a file was changed after signing"
    )]
    BadSignature(String),
    /// plugin.wasm is not a valid component.
    #[error("plugin.wasm is not a WebAssembly component: {0}")]
    NotAComponent(String),
    /// The component does not export the declared world.
    #[error("plugin.wasm does not match the declared world `{declared}`: {reason}")]
    WorldMismatch {
        /// The manifest's world.
        declared: String,
        /// What is wrong.
        reason: String,
    },
    /// The component uses a contract version this host does not serve.
    #[error(
        "plugin.wasm uses `{0}`; this host serves h2h:connector {versions}",
        versions = crate::runtime::ContractVersion::list()
    )]
    UnsupportedContract(String),
    /// The component was built for another contract version than its
    /// manifest declares.
    #[error("plugin.wasm uses `{item}` but h2h.toml declares {declared}")]
    ContractMismatch {
        /// The component's import or export.
        item: String,
        /// The package the manifest's `contract.version` names.
        declared: String,
    },
    /// The component imports a capability the manifest does not declare.
    #[error("plugin.wasm imports `{import}` but h2h.toml does not declare {needs}")]
    UngrantedImport {
        /// The import.
        import: String,
        /// What the manifest would need.
        needs: &'static str,
    },
    /// The component imports something no host provides.
    #[error("plugin.wasm imports `{0}`, which this host does not provide")]
    UnknownImport(String),
}

impl PackageError {
    /// A stable snake_case code for scripts and JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            PackageError::NotAZip(_) => "not_a_zip",
            PackageError::TooLarge { .. } => "package_too_large",
            PackageError::TooManyEntries { .. } => "too_many_entries",
            PackageError::UnsafePath(_) => "unsafe_path",
            PackageError::UnexpectedEntry(_) => "unexpected_entry",
            PackageError::DuplicateEntry(_) => "duplicate_entry",
            PackageError::NotAFile(_) => "not_a_regular_file",
            PackageError::Encrypted(_) => "encrypted_entry",
            PackageError::EntryTooLarge { .. } => "entry_too_large",
            PackageError::CompressionBomb { .. } => "compression_bomb",
            PackageError::CorruptEntry { .. } => "corrupt_entry",
            PackageError::Missing(_) => "missing_entry",
            PackageError::NotUtf8(_) => "not_utf8",
            PackageError::Manifest(_) => "invalid_manifest",
            PackageError::Unsigned => "unsigned",
            PackageError::MalformedSignature(_) => "malformed_signature",
            PackageError::UnknownPublisher(_) => "unknown_publisher",
            PackageError::BadSignature(_) => "bad_signature",
            PackageError::NotAComponent(_) => "not_a_component",
            PackageError::WorldMismatch { .. } => "world_mismatch",
            PackageError::UnsupportedContract(_) => "unsupported_contract",
            PackageError::ContractMismatch { .. } => "contract_mismatch",
            PackageError::UngrantedImport { .. } => "ungranted_import",
            PackageError::UnknownImport(_) => "unknown_import",
        }
    }
}
