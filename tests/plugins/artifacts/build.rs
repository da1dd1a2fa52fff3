//! Builds the test plugins, and the shipped connectors host tests load, as
//! wasm32-wasip2 components, so `cargo test --workspace` needs no step
//! before it.
//!
//! A nested cargo with its own target directory: the outer build holds the
//! lock on `target/`, and its flags (for the host target) must not leak in.

use std::path::{Path, PathBuf};
use std::process::Command;

const PLUGINS: &[&str] = &["well-behaved", "hostile", "minimal", "versioned", "ticker"];
/// Shipped connectors under `plugins/`, built the same way: directory, and
/// the name of the exported path (`H2H_TEST_PLUGIN_<NAME>`).
const SHIPPED: &[(&str, &str)] = &[
    ("privat24", "privat24"),
    ("pkobp", "pkobp"),
    ("mbank", "mbank"),
];
/// Card-terminal plugins, built apart from the bank ones (a component links
/// the SDK for one world, sdk/src/bindings.rs): test plugins by name, and
/// shipped connectors by directory and exported name.
const PLUGINS_POS: &[&str] = &["minimal-pos"];
const SHIPPED_POS: &[(&str, &str)] = &[("mellon", "mellon")];
/// Extra builds of the versioned plugin, one per feature.
const VERSIONED_FEATURES: &[&str] = &["v2", "broken", "slow"];
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
    for plugin in PLUGINS.iter().chain(PLUGINS_POS) {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join("tests/plugins").join(plugin).display()
        );
    }
    for (dir, _) in SHIPPED.iter().chain(SHIPPED_POS) {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join("plugins").join(dir).display()
        );
    }

    ensure_wasm_target();
    let packages: Vec<String> = PLUGINS
        .iter()
        .map(|plugin| format!("h2h-test-plugin-{plugin}"))
        .chain(SHIPPED.iter().map(|(dir, _)| format!("h2h-plugin-{dir}")))
        .collect();
    build(&workspace, &target_dir, &packages, None);
    let out = target_dir.join(TARGET).join(PROFILE);
    for plugin in PLUGINS.iter().filter(|p| **p != "versioned") {
        let file = out.join(format!("h2h_test_plugin_{}.wasm", plugin.replace('-', "_")));
        export(&plugin.replace('-', "_"), &file);
    }
    for (dir, name) in SHIPPED {
        let file = out.join(format!("h2h_plugin_{}.wasm", dir.replace('-', "_")));
        export(name, &file);
    }
    let pos: Vec<String> = PLUGINS_POS
        .iter()
        .map(|plugin| format!("h2h-test-plugin-{plugin}"))
        .chain(
            SHIPPED_POS
                .iter()
                .map(|(dir, _)| format!("h2h-plugin-{dir}")),
        )
        .collect();
    build(&workspace, &target_dir, &pos, None);
    for plugin in PLUGINS_POS {
        let file = out.join(format!("h2h_test_plugin_{}.wasm", plugin.replace('-', "_")));
        export(&plugin.replace('-', "_"), &file);
    }
    for (dir, name) in SHIPPED_POS {
        let file = out.join(format!("h2h_plugin_{}.wasm", dir.replace('-', "_")));
        export(name, &file);
    }
    // Each feature build overwrites the same artifact: copy it aside first.
    let versioned = out.join("h2h_test_plugin_versioned.wasm");
    let base_copy = out.join("versioned-base.wasm");
    copy(&versioned, &base_copy);
    export("versioned", &base_copy);
    for feature in VERSIONED_FEATURES {
        build(
            &workspace,
            &target_dir,
            &["h2h-test-plugin-versioned".to_owned()],
            Some(feature),
        );
        let copy_path = out.join(format!("versioned-{feature}.wasm"));
        copy(&versioned, &copy_path);
        export(&format!("versioned_{feature}"), &copy_path);
    }
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to)
        .unwrap_or_else(|e| panic!("copying {} to {}: {e}", from.display(), to.display()));
}

/// Checks the file is a component and tells the crate where it is.
fn export(name: &str, file: &Path) {
    assert_component(file);
    println!(
        "cargo:rustc-env=H2H_TEST_PLUGIN_{}={}",
        name.to_uppercase(),
        file.display()
    );
}

fn build(workspace: &Path, target_dir: &Path, packages: &[String], feature: Option<&str>) {
    let mut command = cargo_build(workspace, target_dir);
    for package in packages {
        command.args(["-p", package]);
    }
    if let Some(feature) = feature {
        command.args(["--features", feature]);
    }
    run(command);
}

/// `cargo build` for the wasm target and plugin profile, without the outer
/// build's flags.
fn cargo_build(workspace: &Path, target_dir: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args([
            "build",
            "--target",
            TARGET,
            "--profile",
            PROFILE,
            "--target-dir",
        ])
        .arg(target_dir);
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
    command
}

fn run(mut command: Command) {
    let output = command
        .output()
        .expect("cannot run cargo to build the test plugins");
    if !output.status.success() {
        panic!(
            "building the test plugins failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// rustup installs the targets rust-toolchain.toml lists only when it
/// installs the toolchain itself; on a machine that already had 1.95 the
/// target may be missing, so add it rather than fail with "can't find std".
fn ensure_wasm_target() {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    let installed = sysroot.is_some_and(|root| root.join("lib/rustlib").join(TARGET).exists());
    if installed {
        return;
    }
    println!("cargo:warning=installing the {TARGET} target with rustup");
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status();
    if !status.is_ok_and(|s| s.success()) {
        panic!(
            "the {TARGET} target is missing and `rustup target add {TARGET}` failed; install it"
        );
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
