//! Reading a package zip under limits. Sizes in zip headers are claims, so
//! every limit is enforced on the bytes actually inflated.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use zip::ZipArchive;
use zip::result::ZipError;

use super::PackageError;

/// The manifest.
pub const MANIFEST: &str = "h2h.toml";
/// The component.
pub const COMPONENT: &str = "plugin.wasm";
/// Optional documentation.
pub const README: &str = "README.md";
/// Optional icon.
pub const ICON: &str = "icon.png";
/// The publisher's detached signature.
pub const SIGNATURE: &str = "signature.toml";

/// Size limits for one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageLimits {
    /// The zip itself.
    pub archive_bytes: u64,
    /// plugin.wasm, inflated.
    pub component_bytes: u64,
    /// h2h.toml, README.md and signature.toml, inflated.
    pub text_bytes: u64,
    /// icon.png, inflated.
    pub icon_bytes: u64,
    /// Entries in the archive.
    pub entries: usize,
    /// Inflated bytes per compressed byte, per entry.
    pub compression_ratio: u64,
}

impl Default for PackageLimits {
    fn default() -> Self {
        Self {
            archive_bytes: 64 << 20,
            component_bytes: 32 << 20,
            text_bytes: 256 << 10,
            icon_bytes: 1 << 20,
            entries: 16,
            // Wasm deflates about 3:1, text about 5:1; 200:1 is only zeros.
            compression_ratio: 200,
        }
    }
}

impl PackageLimits {
    fn for_entry(&self, name: &str) -> u64 {
        match name {
            COMPONENT => self.component_bytes,
            ICON => self.icon_bytes,
            _ => self.text_bytes,
        }
    }
}

/// The files of a package, by name.
pub type Files = BTreeMap<String, Vec<u8>>;

fn known(name: &str) -> bool {
    matches!(name, MANIFEST | COMPONENT | README | ICON | SIGNATURE)
}

fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains(['/', '\\', '\0'])
        && name != "."
        && name != ".."
        && !name.contains(':')
}

/// Inflated bytes below this never count as a bomb (tiny files compress
/// absurdly well).
const RATIO_FLOOR: u64 = 64 << 10;

/// Reads every entry of `zip`, refusing anything outside the format.
pub fn read(zip: &[u8], limits: &PackageLimits) -> Result<Files, PackageError> {
    let size = zip.len() as u64;
    if size > limits.archive_bytes {
        return Err(PackageError::TooLarge {
            size,
            limit: limits.archive_bytes,
        });
    }
    let mut archive =
        ZipArchive::new(Cursor::new(zip)).map_err(|e| PackageError::NotAZip(e.to_string()))?;
    if archive.len() > limits.entries {
        return Err(PackageError::TooManyEntries {
            count: archive.len(),
            limit: limits.entries,
        });
    }
    let mut files = Files::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|e| match e {
            ZipError::UnsupportedArchive(reason) if reason.contains("assword") => {
                PackageError::Encrypted(format!("#{index}"))
            }
            other => PackageError::NotAZip(other.to_string()),
        })?;
        let name = entry
            .name()
            .map_err(|e| PackageError::NotAZip(e.to_string()))?
            .into_owned();
        if !plain_name(&name) {
            return Err(PackageError::UnsafePath(name));
        }
        if !known(&name) {
            return Err(PackageError::UnexpectedEntry(name));
        }
        if entry.encrypted() {
            return Err(PackageError::Encrypted(name));
        }
        if entry.is_symlink() || entry.is_dir() || !entry.is_file() {
            return Err(PackageError::NotAFile(name));
        }
        if files.contains_key(&name) {
            return Err(PackageError::DuplicateEntry(name));
        }
        let limit = limits.for_entry(&name);
        let compressed = entry.compressed_size().max(1);
        let mut bytes = Vec::new();
        (&mut entry)
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| PackageError::CorruptEntry {
                name: name.clone(),
                reason: e.to_string(),
            })?;
        let inflated = bytes.len() as u64;
        if inflated > limit {
            return Err(PackageError::EntryTooLarge { name, limit });
        }
        if inflated > RATIO_FLOOR && inflated / compressed > limits.compression_ratio {
            return Err(PackageError::CompressionBomb {
                name,
                limit: limits.compression_ratio,
            });
        }
        files.insert(name, bytes);
    }
    for required in [MANIFEST, COMPONENT] {
        if !files.contains_key(required) {
            return Err(PackageError::Missing(required));
        }
    }
    Ok(files)
}
