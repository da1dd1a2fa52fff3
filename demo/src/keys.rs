//! What the demo keeps between runs in `<data-dir>/demo/` (mode 0700): the
//! development vendor key that signs the package and the license, and the
//! ERP API key's secret, each readable by its owner only.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use h2h_license::VendorKeyPair;

/// `<data-dir>/demo/`.
pub struct DemoDir {
    path: PathBuf,
}

impl DemoDir {
    /// Creates the directory (owner only) if it is not there.
    pub fn open(data_dir: &Path) -> Result<Self> {
        let path = data_dir.join("demo");
        fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        restrict(&path, 0o700)?;
        Ok(Self { path })
    }

    /// A file in it.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The development vendor key: loaded, or made now and saved (0600).
    /// True when it was made by this run.
    pub fn vendor_key(&self) -> Result<(VendorKeyPair, bool)> {
        let path = self.file("vendor.key");
        if path.exists() {
            let key = VendorKeyPair::load(&path)
                .with_context(|| format!("reading the demo vendor key {}", path.display()))?;
            return Ok((key, false));
        }
        let key = VendorKeyPair::generate().context("generating the demo vendor key")?;
        key.save(&path)
            .with_context(|| format!("saving the demo vendor key to {}", path.display()))?;
        let public = self.file("vendor.pub");
        if !public.exists() {
            key.public()
                .save(&public)
                .with_context(|| format!("saving {}", public.display()))?;
        }
        Ok((key, true))
    }

    /// The stored ERP key secret, if any.
    pub fn erp_secret(&self) -> Result<Option<String>> {
        let path = self.file("erp-key");
        match fs::read_to_string(&path) {
            Ok(text) => {
                let secret = text.trim();
                Ok((!secret.is_empty()).then(|| secret.to_owned()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Stores the ERP key secret (0600), replacing an older one.
    pub fn save_erp_secret(&self, secret: &str) -> Result<()> {
        write_private(&self.file("erp-key"), format!("{secret}\n").as_bytes())
    }
}

/// Writes `bytes` to `path` through a temporary file readable by its owner
/// only, then renames it into place.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let temporary = path.with_extension("tmp");
    let _ = fs::remove_file(&temporary);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(&temporary)
        .with_context(|| format!("creating {}", temporary.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", temporary.display()))?;
    fs::rename(&temporary, path).with_context(|| format!("writing {}", path.display()))?;
    restrict(path, 0o600)
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("restricting {}", path.display()))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}
