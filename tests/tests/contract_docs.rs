//! The WIT contract is the connector authors' reference: every item in it
//! must carry documentation, and the SDK README must show code that builds.

use std::path::Path;

use wit_parser::{Docs, Resolve, TypeDefKind};

/// Every contract version under `wit/`, one directory each (`v1`, `v2`).
fn contracts() -> Vec<(String, Resolve)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
    let mut found: Vec<(String, Resolve)> = std::fs::read_dir(&root)
        .expect("wit/ is readable")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_dir())
        .map(|dir| {
            let mut resolve = Resolve::default();
            resolve
                .push_dir(&dir)
                .unwrap_or_else(|e| panic!("{} parses: {e:#}", dir.display()));
            (dir.display().to_string(), resolve)
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

fn missing(docs: &Docs) -> bool {
    docs.contents
        .as_deref()
        .is_none_or(|text| text.trim().is_empty())
}

#[test]
fn every_wit_item_is_documented() {
    for (dir, resolve) in contracts() {
        let undocumented = undocumented(&resolve);
        assert!(
            undocumented.is_empty(),
            "undocumented WIT items in {dir}: {undocumented:#?}"
        );
    }
}

fn undocumented(resolve: &Resolve) -> Vec<String> {
    let mut undocumented = Vec::new();
    for (_, world) in &resolve.worlds {
        if missing(&world.docs) {
            undocumented.push(format!("world {}", world.name));
        }
    }
    for (_, interface) in &resolve.interfaces {
        let name = interface.name.clone().unwrap_or_default();
        if missing(&interface.docs) {
            undocumented.push(format!("interface {name}"));
        }
        for (fname, function) in &interface.functions {
            if missing(&function.docs) {
                undocumented.push(format!("{name}.{fname}"));
            }
        }
        for (tname, id) in &interface.types {
            let ty = &resolve.types[*id];
            // A `use` shows up as an alias of a type documented where it is
            // declared.
            if matches!(ty.kind, TypeDefKind::Type(wit_parser::Type::Id(_))) {
                continue;
            }
            if missing(&ty.docs) {
                undocumented.push(format!("{name}.{tname}"));
            }
            let members: Vec<(&str, &Docs)> = match &ty.kind {
                TypeDefKind::Record(r) => r
                    .fields
                    .iter()
                    .map(|f| (f.name.as_str(), &f.docs))
                    .collect(),
                TypeDefKind::Variant(v) => {
                    v.cases.iter().map(|c| (c.name.as_str(), &c.docs)).collect()
                }
                TypeDefKind::Enum(e) => {
                    e.cases.iter().map(|c| (c.name.as_str(), &c.docs)).collect()
                }
                _ => Vec::new(),
            };
            for (member, docs) in members {
                if missing(docs) {
                    undocumented.push(format!("{name}.{tname}.{member}"));
                }
            }
        }
    }
    undocumented
}

#[test]
fn wit_holds_exactly_the_versions_the_host_serves() {
    let names: Vec<String> = contracts()
        .iter()
        .flat_map(|(_, resolve)| resolve.packages.iter().map(|(_, p)| p.name.to_string()))
        .collect();
    let served: Vec<String> = h2h_host::runtime::ContractVersion::ALL
        .map(h2h_host::runtime::ContractVersion::package)
        .to_vec();
    assert_eq!(names, served);
}

/// Published versions are frozen: plugins built against them run unchanged,
/// so not one byte of their WIT may change.
#[test]
fn published_contracts_are_frozen() {
    assert_eq!(digest("v1"), FROZEN_V1, "wit/v1 (1.0.0) changed");
    assert_eq!(digest("v2"), FROZEN_V2, "wit/v2 (2.0.0) changed");
}

fn digest(version: &str) -> String {
    use sha2::{Digest, Sha256};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../wit")
        .join(version);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let mut hash = Sha256::new();
    for file in files {
        hash.update(file.file_name().expect("name").as_encoded_bytes());
        hash.update(std::fs::read(&file).expect("read"));
    }
    hex::encode(hash.finalize())
}

const FROZEN_V1: &str = "467e99a7be5cf1320849772b795656a7dca5000c638431ede81930771d4b2397";
const FROZEN_V2: &str = "2cc11a40cc9106fbdd7ce0ac3ef341aa4307be0b65e5b730cba7093b514a024c";

#[test]
fn sdk_readme_shows_the_minimal_connector_verbatim() {
    // tests/plugins/minimal is built and loaded by the host tests; the README
    // must show exactly that code, so the example can never rot.
    assert!(
        h2h_test_plugins::SDK_README.contains(h2h_test_plugins::MINIMAL_SOURCE.trim()),
        "sdk/README.md does not contain tests/plugins/minimal/src/lib.rs verbatim"
    );
    assert!(
        h2h_test_plugins::SDK_README.contains(h2h_test_plugins::MINIMAL_POS_SOURCE.trim()),
        "sdk/README.md does not contain tests/plugins/minimal-pos/src/lib.rs verbatim"
    );
}
