//! Builds the test plugins as wasm32-wasip2 components, so `cargo test
//! --workspace` needs no step before it.
//!
//! A nested cargo with its own target directory: the outer build holds the
//! lock on `target/`, and its flags (for the host target) must not leak in.

use std::path::{Path, PathBuf};
use std::process::Command;

const PLUGINS: &[&str] = &["well-behaved", "hostile", "minimal"];
const TARGET: &str = "wasm32-wasip2";
const PROFILE: &str = "plugin";

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest_dir.join("../../..");
    let workspace = workspace.canonicalize().unwrap_or(workspace);
    let target_dir = workspace.join("target").join("wasm-plugins");

    for watched in ["sdk", "wit", "Cargo.toml", "Cargo.lock"] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }
    for plugin in PLUGINS {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join("tests/plugins").join(plugin).display()
        );
    }

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&workspace)
        .args([
            "build",
            "--target",
            TARGET,
            "--profile",
            PROFILE,
            "--target-dir",
        ])
        .arg(&target_dir);
    for plugin in PLUGINS {
        command.args(["-p", &format!("h2h-test-plugin-{plugin}")]);
    }
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let leaks = matches!(
            key,
            "CARGO_ENCODED_RUSTFLAGS"
                | "RUSTFLAGS"
                | "CARGO_BUILD_TARGET"
                | "CARGO_TARGET_DIR"
                | "CARGO_BUILD_RUSTFLAGS"
                | "RUSTC_WRAPPER"
                | "RUSTC_WORKSPACE_WRAPPER"
                | "CARGO_PRIMARY_PACKAGE"
        ) || key.starts_with("CARGO_PROFILE_")
            || (key.starts_with("CARGO_TARGET_") && key.ends_with("_RUSTFLAGS"));
        if leaks {
            command.env_remove(key);
        }
    }

    let output = command
        .output()
        .expect("cannot run cargo to build the test plugins");
    if !output.status.success() {
        panic!(
            "building the test plugins failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let out = target_dir.join(TARGET).join(PROFILE);
    for plugin in PLUGINS {
        let file = out.join(format!("h2h_test_plugin_{}.wasm", plugin.replace('-', "_")));
        assert_component(&file);
        let var = format!(
            "H2H_TEST_PLUGIN_{}",
            plugin.replace('-', "_").to_uppercase()
        );
        println!("cargo:rustc-env={var}={}", file.display());
    }
}

/// Components start with `\0asm` and layer `0d 00 01 00`; core modules with
/// version 1.
fn assert_component(file: &Path) {
    let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{} missing: {e}", file.display()));
    assert!(
        bytes.starts_with(b"\0asm\x0d\x00\x01\x00"),
        "{} is not a WebAssembly component",
        file.display()
    );
}
