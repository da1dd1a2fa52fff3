//! Arrows run one way: a module of the host library may use modules of its
//! own layer or below, never above. The layers, top to bottom, are the
//! README's ("Architecture"); this test reads every source file and fails
//! on an upward `crate::` path, naming the file and the line.

use std::path::{Path, PathBuf};

/// The host library's top-level modules by layer, top first.
const LAYERS: &[(&str, &[&str])] = &[
    ("faces", &["api", "console", "serve", "dev", "logs"]),
    (
        "domain and admin",
        &["settlements", "sessions", "terminals", "admin"],
    ),
    ("scheduler", &["scheduler"]),
    ("connectors", &["connectors", "catalog"]),
    ("runtime", &["runtime", "packages"]),
    ("capabilities", &["capabilities"]),
    ("storage", &["db", "kv", "vault", "pkcs11", "feed", "wit"]),
    ("values and meters", &["values", "metrics"]),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The top-level modules a line names through `crate::`, outside comments.
fn named(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or_default();
    code.match_indices("crate::")
        .map(|(at, _)| {
            code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut upward = Vec::new();
    let mut unplaced = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let first = relative
            .components()
            .next()
            .expect("a component")
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        // The binary and the crate root are the edge, above every layer.
        if first == "bin" || first == "lib" {
            continue;
        }
        let Some(own) = layer_of(&first) else {
            unplaced.push(first);
            continue;
        };
        let text = std::fs::read_to_string(file).expect("readable source");
        for (number, line) in text.lines().enumerate() {
            for module in named(line) {
                if module == first {
                    continue;
                }
                match layer_of(&module) {
                    Some(used) if used < own => upward.push(format!(
                        "{}:{}: {} ({}) uses {module} ({})",
                        relative.display(),
                        number + 1,
                        first,
                        LAYERS[own].0,
                        LAYERS[used].0
                    )),
                    Some(_) => {}
                    None => unplaced.push(module),
                }
            }
        }
    }
    unplaced.sort();
    unplaced.dedup();
    assert!(
        unplaced.is_empty(),
        "modules in no layer (add them to LAYERS and the README): {unplaced:?}"
    );
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
}

#[test]
fn the_check_sees_an_upward_path() {
    assert_eq!(named("use crate::admin::Admin; // crate::api"), ["admin"]);
    assert!(layer_of("api") < layer_of("runtime"));
}
