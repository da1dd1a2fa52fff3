//! The WIT contract is the connector authors' reference: every item in it
//! must carry documentation, and the SDK README must show code that builds.

use std::path::Path;

use wit_parser::{Docs, Resolve, TypeDefKind};

fn contract() -> Resolve {
    let mut resolve = Resolve::default();
    let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
    resolve.push_dir(&wit).expect("wit/ parses");
    resolve
}

fn missing(docs: &Docs) -> bool {
    docs.contents
        .as_deref()
        .is_none_or(|text| text.trim().is_empty())
}

#[test]
fn every_wit_item_is_documented() {
    let resolve = contract();
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
    assert!(
        undocumented.is_empty(),
        "undocumented WIT items: {undocumented:#?}"
    );
}

#[test]
fn the_contract_is_version_one() {
    let resolve = contract();
    let names: Vec<String> = resolve
        .packages
        .iter()
        .map(|(_, p)| p.name.to_string())
        .collect();
    assert_eq!(names, vec![h2h_host::CONTRACT.to_owned()]);
}

#[test]
fn sdk_readme_shows_the_minimal_connector_verbatim() {
    // tests/plugins/minimal is built and loaded by the host tests; the README
    // must show exactly that code, so the example can never rot.
    assert!(
        h2h_test_plugins::SDK_README.contains(h2h_test_plugins::MINIMAL_SOURCE.trim()),
        "sdk/README.md does not contain tests/plugins/minimal/src/lib.rs verbatim"
    );
}
