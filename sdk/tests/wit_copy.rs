//! `sdk/wit/v2` is a copy of the repository's `wit/v2`, so that the crate
//! carries the WIT it builds from when packaged. The repository's directory
//! is the one source of truth: this test fails when the copy differs from
//! it. Outside the repository (a packaged crate) there is nothing to compare
//! with, and the test passes.

use std::collections::BTreeMap;
use std::path::Path;

/// File name to contents, for every file directly in `dir`.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{} is readable: {e}", dir.display()))
        .map(|entry| entry.expect("entry").path())
        .map(|path| {
            assert!(
                path.is_file(),
                "{} holds a directory ({}); the contract is flat",
                dir.display(),
                path.display()
            );
            let name = path
                .file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned();
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{} is readable: {e}", path.display()));
            (name, bytes)
        })
        .collect()
}

#[test]
fn the_sdk_carries_an_exact_copy_of_the_contract() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let original = crate_dir.join("../wit/v2");
    if !original.is_dir() {
        // A packaged crate: only the copy exists.
        return;
    }
    let copy = files(&crate_dir.join("wit/v2"));
    let original = files(&original);
    let names = |files: &BTreeMap<String, Vec<u8>>| files.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&copy),
        names(&original),
        "sdk/wit/v2 and wit/v2 hold different files: run `rm -r sdk/wit/v2 && cp -r wit/v2 sdk/wit/v2`"
    );
    for (name, bytes) in &original {
        assert!(
            copy[name] == *bytes,
            "sdk/wit/v2/{name} differs from wit/v2/{name}: wit/v2 is the source; \
             run `rm -r sdk/wit/v2 && cp -r wit/v2 sdk/wit/v2`"
        );
    }
}
