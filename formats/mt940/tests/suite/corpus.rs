//! Replays the fuzz corpus (fixtures plus inputs that once crashed the
//! parser): every input must give `Ok` or `Err`, never a panic, and an
//! error's line must lie within the input.

use std::path::PathBuf;

use h2h_mt940::{ParseOptions, parse_with};

fn inputs(dir: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

#[test]
fn corpus_never_panics() {
    let corpus = inputs("fuzz/corpus");
    assert!(
        corpus.len() >= 16,
        "fuzz/corpus holds the fixtures at least"
    );
    for (path, bytes) in corpus.iter().chain(inputs("tests/fixtures").iter()) {
        for options in [
            ParseOptions::default(),
            ParseOptions::default().allow_missing_reference(true),
        ] {
            if let Err(e) = parse_with(bytes, &options) {
                let lines = 1 + bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count();
                assert!(e.line >= 1 && e.line <= lines, "{}: {e}", path.display());
            }
        }
    }
}
