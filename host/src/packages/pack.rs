//! Making packages: [`write_package`] from bytes, and [`pack`], which builds
//! a plugin crate for wasm32-wasip2 first.

use std::io::{Cursor, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;

use h2h_license::VendorKeyPair;
use serde::Serialize;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::archive::{COMPONENT, Files, ICON, MANIFEST, README, SIGNATURE};
use super::manifest::Manifest;
use super::origin::AllowedOrigin;
use super::{PackageError, component, signature};

/// Why a package could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `cargo build` failed or produced no component.
    #[error("building the plugin failed: {0}")]
    Build(String),
    /// The manifest or component is not a valid package.
    #[error(transparent)]
    Package(#[from] PackageError),
    /// Writing the zip failed.
    #[error("writing the zip: {0}")]
    Zip(String),
    /// An origin to add is not `scheme://host[:port]`, or the manifest has
    /// no place for it.
    #[error("--allow-origin: {0}")]
    ExtraOrigin(String),
    /// The manifest's version could not be replaced.
    #[error("{MANIFEST}: {0}")]
    Version(String),
}

/// What to pack.
#[derive(Debug)]
pub struct PackOptions {
    /// The plugin crate: its `h2h.toml`, optional README.md and icon.png.
    pub crate_dir: PathBuf,
    /// The publisher's key; none writes an unsigned (development) package.
    pub sign_key: Option<VendorKeyPair>,
    /// The zip to write; default `<crate_dir>/target/h2h/<id>-<version>.zip`.
    pub output: Option<PathBuf>,
    /// Cargo's target directory; default cargo's own choice.
    pub target_dir: Option<PathBuf>,
    /// Origins added to the manifest's HTTP allow-list in this package (test
    /// and demo builds that reach a bank simulator on loopback).
    pub extra_origins: Vec<String>,
    /// Replaces the manifest's version in this package (development
    /// builds, each a newer pre-release of the crate's version).
    pub version: Option<semver::Version>,
}

/// What [`pack`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct PackReport {
    /// The zip.
    pub path: PathBuf,
    /// Plugin id.
    pub id: String,
    /// Version.
    pub version: String,
    /// Size of the component.
    pub wasm_bytes: u64,
    /// Size of the zip.
    pub zip_bytes: u64,
    /// Key id of the signature.
    pub signer: Option<String>,
}

/// A package zip of these files, signed with `key` when given. Entries are
/// sorted and carry a fixed timestamp, so the same inputs give the same
/// bytes. The manifest and component are checked first.
pub fn write_package(
    manifest_text: &str,
    wasm: &[u8],
    readme: Option<&str>,
    icon: Option<&[u8]>,
    key: Option<&VendorKeyPair>,
) -> Result<Vec<u8>, PackError> {
    let manifest = Manifest::parse(manifest_text).map_err(PackageError::from)?;
    component::check(wasm, &manifest)?;
    let mut files = Files::new();
    files.insert(MANIFEST.to_owned(), manifest_text.as_bytes().to_vec());
    files.insert(COMPONENT.to_owned(), wasm.to_vec());
    if let Some(readme) = readme {
        files.insert(README.to_owned(), readme.as_bytes().to_vec());
    }
    if let Some(icon) = icon {
        files.insert(ICON.to_owned(), icon.to_vec());
    }
    if let Some(key) = key {
        let signed = signature::sign(&files, key);
        files.insert(SIGNATURE.to_owned(), signed.into_bytes());
    }
    zip_files(&files)
}

/// `manifest_text` with `origins` appended to `[capabilities] http`,
/// comments and layout kept. The result is what gets signed, so the package
/// says exactly what the plugin may reach.
pub fn with_extra_origins(manifest_text: &str, origins: &[String]) -> Result<String, PackError> {
    if origins.is_empty() {
        return Ok(manifest_text.to_owned());
    }
    for origin in origins {
        AllowedOrigin::parse(origin).map_err(PackError::ExtraOrigin)?;
    }
    let mut doc: toml_edit::DocumentMut = manifest_text
        .parse()
        .map_err(|e: toml_edit::TomlError| PackError::ExtraOrigin(format!("{MANIFEST}: {e}")))?;
    let capabilities = doc
        .entry("capabilities")
        .or_insert(toml_edit::table())
        .as_table_like_mut()
        .ok_or_else(|| PackError::ExtraOrigin("`capabilities` is not a table".to_owned()))?;
    let http = capabilities
        .entry("http")
        .or_insert(toml_edit::value(toml_edit::Array::new()))
        .as_array_mut()
        .ok_or_else(|| PackError::ExtraOrigin("`capabilities.http` is not a list".to_owned()))?;
    for origin in origins {
        if !http.iter().any(|v| v.as_str() == Some(origin)) {
            http.push(origin.as_str());
        }
    }
    Ok(doc.to_string())
}

/// `manifest_text` with its `version` replaced, comments and layout kept.
pub fn with_version(manifest_text: &str, version: &semver::Version) -> Result<String, PackError> {
    let mut doc: toml_edit::DocumentMut = manifest_text
        .parse()
        .map_err(|e: toml_edit::TomlError| PackError::Version(e.to_string()))?;
    doc["version"] = toml_edit::value(version.to_string());
    Ok(doc.to_string())
}

/// Zips `files` as they are (tests use it to build malformed packages too).
pub fn zip_files(files: &Files) -> Result<Vec<u8>, PackError> {
    let zip_error = |e: zip::result::ZipError| PackError::Zip(e.to_string());
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        writer
            .start_file(name.as_str(), options)
            .map_err(zip_error)?;
        writer
            .write_all(bytes)
            .map_err(|e| PackError::Zip(e.to_string()))?;
    }
    Ok(writer.finish().map_err(zip_error)?.into_inner())
}

fn read(path: &Path) -> Result<Vec<u8>, PackError> {
    std::fs::read(path).map_err(|source| PackError::Io {
        path: path.to_owned(),
        source,
    })
}

fn optional(path: &Path) -> Result<Option<Vec<u8>>, PackError> {
    if path.exists() {
        read(path).map(Some)
    } else {
        Ok(None)
    }
}

/// Builds the crate in release for wasm32-wasip2, checks the component
/// against `h2h.toml`, and writes the (signed) package.
pub fn pack(options: &PackOptions) -> Result<PackReport, PackError> {
    let manifest_path = options.crate_dir.join(MANIFEST);
    let manifest_text =
        String::from_utf8(read(&manifest_path)?).map_err(|_| PackageError::NotUtf8(MANIFEST))?;
    let manifest_text = with_extra_origins(&manifest_text, &options.extra_origins)?;
    let manifest_text = match &options.version {
        Some(version) => with_version(&manifest_text, version)?,
        None => manifest_text,
    };
    let manifest = Manifest::parse(&manifest_text).map_err(PackageError::from)?;
    let wasm = read(&build(options)?)?;
    let readme = optional(&options.crate_dir.join(README))?
        .map(|bytes| String::from_utf8(bytes).map_err(|_| PackageError::NotUtf8(README)))
        .transpose()?;
    let icon = optional(&options.crate_dir.join(ICON))?;
    let zip = write_package(
        &manifest_text,
        &wasm,
        readme.as_deref(),
        icon.as_deref(),
        options.sign_key.as_ref(),
    )?;
    let path = options.output.clone().unwrap_or_else(|| {
        options
            .crate_dir
            .join("target/h2h")
            .join(format!("{}-{}.zip", manifest.id, manifest.version))
    });
    write_atomically(&path, &zip)?;
    Ok(PackReport {
        path,
        id: manifest.id,
        version: manifest.version.to_string(),
        wasm_bytes: wasm.len() as u64,
        zip_bytes: zip.len() as u64,
        signer: options.sign_key.as_ref().map(|k| k.public().key_id()),
    })
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PackError> {
    let io = |source| PackError::Io {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// The compiler-artifact message of cargo's JSON output we need.
#[derive(serde::Deserialize)]
struct Artifact {
    reason: String,
    #[serde(default)]
    target: Option<Target>,
    #[serde(default)]
    filenames: Vec<PathBuf>,
    #[serde(default)]
    manifest_path: Option<PathBuf>,
}

#[derive(serde::Deserialize)]
struct Target {
    crate_types: Vec<String>,
}

/// Runs cargo; returns the component of the crate's cdylib.
fn build(options: &PackOptions) -> Result<PathBuf, PackError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(&options.crate_dir).args([
        "build",
        "--release",
        "--target",
        "wasm32-wasip2",
        "--message-format=json-render-diagnostics",
    ]);
    if let Some(dir) = &options.target_dir {
        command.arg("--target-dir").arg(dir);
    }
    // An outer cargo (tests, build scripts) must not leak its flags in.
    for key in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "RUSTC_WRAPPER",
    ] {
        command.env_remove(key);
    }
    let output = command
        .output()
        .map_err(|e| PackError::Build(format!("cannot run cargo: {e}")))?;
    if !output.status.success() {
        return Err(PackError::Build(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    }
    let own_manifest = options
        .crate_dir
        .join("Cargo.toml")
        .canonicalize()
        .map_err(|source| PackError::Io {
            path: options.crate_dir.join("Cargo.toml"),
            source,
        })?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Artifact>(line).ok())
        .filter(|a| a.reason == "compiler-artifact")
        .filter(|a| a.manifest_path.as_deref() == Some(own_manifest.as_path()))
        .filter(|a| {
            a.target
                .as_ref()
                .is_some_and(|t| t.crate_types.iter().any(|c| c == "cdylib"))
        })
        .flat_map(|a| a.filenames)
        .find(|f| f.extension().is_some_and(|e| e == "wasm"))
        .ok_or_else(|| {
            PackError::Build(format!(
                "{} built no wasm32-wasip2 component (is it a cdylib using h2h-sdk?)",
                options.crate_dir.display()
            ))
        })
}
