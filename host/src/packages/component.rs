//! Checks plugin.wasm against its manifest without compiling it: it is a
//! valid component, exports the declared world of the contract version its
//! manifest declares (one this host serves), and imports only capabilities
//! the manifest declares.

use wasmparser::{Encoding, Parser, Payload, Validator, WasmFeatures};

use super::PackageError;
use super::manifest::Manifest;
use crate::runtime::{ContractVersion, World};

const CONTRACT: &str = "h2h:connector/";

/// The component's top-level import and export names.
struct Interfaces {
    imports: Vec<String>,
    exports: Vec<String>,
}

fn interfaces(wasm: &[u8]) -> Result<Interfaces, PackageError> {
    let not_component = |reason: String| PackageError::NotAComponent(reason);
    let mut found = Interfaces {
        imports: Vec::new(),
        exports: Vec::new(),
    };
    // parse_all also yields the payloads of nested modules and components;
    // only depth 1 is the component's own surface.
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| not_component(e.message().to_owned()))? {
            Payload::Version { encoding, .. } => {
                if depth == 0 && encoding == Encoding::Module {
                    return Err(not_component(
                        "it is a core module; build with the h2h SDK for wasm32-wasip2".to_owned(),
                    ));
                }
                depth += 1;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    let import = import.map_err(|e| not_component(e.message().to_owned()))?;
                    found.imports.push(import.name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    let export = export.map_err(|e| not_component(e.message().to_owned()))?;
                    found.exports.push(export.name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    Ok(found)
}

/// `(interface, version)` of an `h2h:connector/<interface>@<version>` name.
fn contract_item(name: &str) -> Option<(&str, &str)> {
    name.strip_prefix(CONTRACT)?.split_once('@')
}

/// Every contract item must be of a served version, and of the one the
/// manifest declares: a component built for 2.0 under a manifest saying
/// `^1.0` would be called through the wrong adapter.
fn check_version(name: &str, declared: ContractVersion) -> Result<(), PackageError> {
    let Some((_, version)) = contract_item(name) else {
        return Ok(());
    };
    match ContractVersion::of_interface_version(version) {
        None => Err(PackageError::UnsupportedContract(name.to_owned())),
        Some(found) if found != declared => Err(PackageError::ContractMismatch {
            item: name.to_owned(),
            declared: declared.package(),
        }),
        Some(_) => Ok(()),
    }
}

/// Validates `wasm` and checks it against `manifest`.
pub fn check(wasm: &[u8], manifest: &Manifest) -> Result<(), PackageError> {
    if !wasm.starts_with(b"\0asm") {
        return Err(PackageError::NotAComponent(
            "it does not start with the WebAssembly magic bytes".to_owned(),
        ));
    }
    let found = interfaces(wasm)?;
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(wasm)
        .map_err(|e| PackageError::NotAComponent(e.message().to_owned()))?;
    for name in found.imports.iter().chain(&found.exports) {
        check_version(name, manifest.contract)?;
    }
    let declared = manifest.world.to_string();
    let (wanted, other) = match manifest.world {
        World::BankConnector => ("bank", "pos"),
        World::PosConnector => ("pos", "bank"),
    };
    let exports = |interface: &str| {
        found
            .exports
            .iter()
            .any(|e| contract_item(e).is_some_and(|(i, _)| i == interface))
    };
    if !exports(wanted) {
        let reason = if exports(other) {
            format!("it exports h2h:connector/{other}, the other connector world")
        } else {
            format!("it does not export h2h:connector/{wanted}")
        };
        return Err(PackageError::WorldMismatch { declared, reason });
    }
    for required in ["lifecycle", "tasks"] {
        if !exports(required) {
            return Err(PackageError::WorldMismatch {
                declared,
                reason: format!("it does not export h2h:connector/{required}"),
            });
        }
    }
    for import in &found.imports {
        if import.starts_with("wasi:") {
            continue;
        }
        match contract_item(import).map(|(interface, _)| interface) {
            Some("types" | "storage" | "config" | "log") => {}
            Some("http") if !manifest.http.is_empty() => {}
            Some("http") => {
                return Err(PackageError::UngrantedImport {
                    import: import.clone(),
                    needs: "an HTTP allow-list (`capabilities.http`)",
                });
            }
            Some("signing") if manifest.signing => {}
            Some("signing") => {
                return Err(PackageError::UngrantedImport {
                    import: import.clone(),
                    needs: "`capabilities.signing = true`",
                });
            }
            _ => return Err(PackageError::UnknownImport(import.clone())),
        }
    }
    Ok(())
}
