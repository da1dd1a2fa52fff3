//! The fuzz targets' corpora and the crashes kept as regressions, replayed
//! through the same bodies `fuzz/run` fuzzes (`fuzz/src/lib.rs`), on the
//! stable toolchain: none may panic or break its invariant.

use std::path::Path;

#[path = "../../../fuzz/src/lib.rs"]
mod targets;

/// A target's body: an input in, nothing out; a panic is a finding.
type Body = fn(&[u8]);

const TARGETS: &[(&str, Body)] = &[
    ("package", targets::package),
    ("manifest", targets::manifest),
    ("license", targets::license),
    ("mt940", targets::mt940),
    ("erp_bodies", targets::erp_bodies),
];

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<_> = entries
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    found.sort();
    found
}

#[test]
fn every_corpus_input_and_kept_crash_replays_cleanly() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut replayed = 0;
    for (target, body) in TARGETS {
        let mut inputs = files(&fuzz.join("corpus").join(target));
        if *target == "mt940" {
            inputs.extend(files(&fuzz.join("../formats/mt940/fuzz/corpus")));
        }
        assert!(!inputs.is_empty(), "{target} has no corpus");
        inputs.extend(files(&fuzz.join("regressions").join(target)));
        for input in inputs {
            let bytes = std::fs::read(&input).expect("readable input");
            body(&bytes);
            replayed += 1;
        }
    }
    assert!(replayed >= 20, "{replayed} inputs");
}
