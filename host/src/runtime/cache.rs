//! Compiled components cached on disk, so a restart does not recompile.
//!
//! Entries are keyed by the SHA-256 of the wasm and by the engine's
//! compatibility hash (wasmtime version and codegen settings), so a component
//! compiled by another build is never loaded; such entries simply miss.

use std::hash::Hasher;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Whether a component came from the cache or was compiled now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded precompiled from the cache directory.
    Hit,
    /// Compiled now (and stored, when a cache directory is set).
    Compiled,
}

/// The cache directory (or none: compile every time, for tests that want it).
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
    engine_key: String,
}

/// The SHA-256 of a component's bytes, hex.
pub fn digest(wasm: &[u8]) -> String {
    hex::encode(Sha256::digest(wasm))
}

impl ComponentCache {
    pub(crate) fn new(engine: &Engine, dir: Option<PathBuf>) -> std::io::Result<Self> {
        if let Some(dir) = &dir {
            std::fs::create_dir_all(dir)?;
        }
        let mut hasher = Sha256Hasher(Sha256::new());
        std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
        let engine_key = hex::encode(&hasher.0.finalize()[..8]);
        Ok(Self { dir, engine_key })
    }

    fn path_for(&self, dir: &Path, digest: &str) -> PathBuf {
        dir.join(format!("{digest}-{}.cwasm", self.engine_key))
    }

    /// Loads the component for `wasm` from the cache, compiling and storing
    /// it on a miss. A corrupt or stale entry is replaced, never trusted.
    pub(crate) fn load(
        &self,
        engine: &Engine,
        wasm: &[u8],
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let Some(dir) = &self.dir else {
            return Ok((Component::new(engine, wasm)?, CacheOutcome::Compiled));
        };
        let path = self.path_for(dir, &digest(wasm));
        if path.exists() {
            // SAFETY: only this host writes the cache directory, atomically
            // (temp file + rename), from its own compiler's output; the name
            // binds the entry to the wasm digest and to this engine's
            // settings, and wasmtime checks the header before use.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => return Ok((component, CacheOutcome::Hit)),
                Err(error) => tracing::warn!(
                    path = %path.display(), %error,
                    "discarding unusable compiled component from the cache"
                ),
            }
        }
        let component = Component::new(engine, wasm)?;
        if let Err(error) = store_atomically(dir, &path, &component.serialize()?) {
            // The cache only saves time; serving must not depend on it.
            tracing::warn!(path = %path.display(), %error, "could not cache compiled component");
        }
        Ok((component, CacheOutcome::Compiled))
    }
}

fn store_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Feeds `Hash` output into SHA-256: stable across processes, unlike
/// `DefaultHasher`'s keys.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes([
            digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
        ])
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}
