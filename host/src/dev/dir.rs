//! `<data-dir>/<name>/` (mode 0700): the development publisher key and the
//! ERP key's secret, each readable by its owner only.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use h2h_license::VendorKeyPair;

use super::DevError;

/// A development directory inside a data directory.
pub struct DevDir {
    path: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DevError + '_ {
    move |source| DevError::Io {
        path: path.to_owned(),
        source,
    }
}

impl DevDir {
    /// `<data_dir>/<name>/`, made (owner only) if it is not there.
    pub fn open(data_dir: &Path, name: &str) -> Result<Self, DevError> {
        let path = data_dir.join(name);
        fs::create_dir_all(&path).map_err(io(&path))?;
        restrict(&path, 0o700)?;
        Ok(Self { path })
    }

    /// A file in it.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The development publisher key (`vendor.key`, its public half in
    /// `vendor.pub`): loaded, or made now and saved. True when made now.
    pub fn vendor_key(&self) -> Result<(VendorKeyPair, bool), DevError> {
        let path = self.file("vendor.key");
        if path.exists() {
            return Ok((VendorKeyPair::load(&path)?, false));
        }
        let key = VendorKeyPair::generate()?;
        key.save(&path)?;
        let public = self.file("vendor.pub");
        if !public.exists() {
            key.public().save(&public)?;
        }
        Ok((key, true))
    }

    /// The stored secret in `file` (`erp-key`, `admin-key`), if any.
    pub fn secret(&self, file: &str) -> Result<Option<String>, DevError> {
        let path = self.file(file);
        match fs::read_to_string(&path) {
            Ok(text) => {
                let secret = text.trim();
                Ok((!secret.is_empty()).then(|| secret.to_owned()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Stores a secret in `file` (0600), replacing an older one.
    pub fn save_secret(&self, file: &str, secret: &str) -> Result<(), DevError> {
        write_private(&self.file(file), format!("{secret}\n").as_bytes())
    }
}

/// Writes `bytes` to `path` through a temporary file readable by its owner
/// only, then renames it into place.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), DevError> {
    let temporary = path.with_extension("tmp");
    let _ = fs::remove_file(&temporary);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&temporary).map_err(io(&temporary))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io(&temporary))?;
    fs::rename(&temporary, path).map_err(io(path))?;
    restrict(path, 0o600)
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> Result<(), DevError> {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io(path))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> Result<(), DevError> {
    Ok(())
}
