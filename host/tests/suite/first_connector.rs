//! docs/first-connector.md, run verbatim: its blocks in order on a fresh
//! directory (`sh new`, the `rust <file>` it writes, `sh serve` in the
//! background until it serves, `sh erp`), with ACME Bank started where its
//! `sh bank` block says, and the last answer checked against the page's
//! `json answer` block (apart from ids, dates and times, which differ per
//! run).

use std::path::Path;
use std::process::{Child, Command, Stdio};

const PAGE: &str = include_str!("../../../docs/first-connector.md");

/// The page's fenced blocks: (info string, content), in order.
fn blocks(page: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in page.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => open = Some((info.trim().to_owned(), String::new())),
            (Some(_), Some("")) => found.extend(open.take()),
            (Some((_, text)), _) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, None) => {}
        }
    }
    found
}

fn block<'a>(blocks: &'a [(String, String)], info: &str) -> &'a str {
    &blocks
        .iter()
        .find(|(i, _)| i == info)
        .unwrap_or_else(|| panic!("the page has a ```{info} block"))
        .1
}

/// `bash -c script` in `dir` with the built `h2h` first on PATH.
fn bash(dir: &Path, script: &str) -> Command {
    let bin = Path::new(env!("CARGO_BIN_EXE_h2h"))
        .parent()
        .expect("bin dir")
        .to_owned();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("bash");
    command
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        // Offline, beside this workspace's artifacts: as the scaffold test.
        .env("CARGO_NET_OFFLINE", "true")
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/scaffold"),
        );
    command
}

struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Drops ids, dates and times: what differs between runs.
fn stable(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for key in ["id", "booking_date", "received_at"] {
                map.remove(key);
            }
            map.values_mut().for_each(stable);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(stable),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_connector_page_runs_as_written() {
    let blocks = blocks(PAGE);
    let dir = tempfile::tempdir().expect("dir");

    // The example bank, where the page starts it.
    let bank = block(&blocks, "sh bank");
    let listen = bank
        .split_whitespace()
        .skip_while(|w| *w != "--listen")
        .nth(1)
        .expect("the bank's --listen");
    h2h_acme_bank::start(listen)
        .await
        .expect("ACME Bank serving");

    let new = bash(dir.path(), block(&blocks, "sh new"))
        .output()
        .expect("bash");
    assert!(
        new.status.success(),
        "{}",
        String::from_utf8_lossy(&new.stderr)
    );
    let (file, code) = blocks
        .iter()
        .find_map(|(info, text)| info.strip_prefix("rust ").map(|f| (f, text)))
        .expect("the page's code block names its file");
    std::fs::write(dir.path().join(file), code).expect("the connector's code");

    let serve = block(&blocks, "sh serve").to_owned();
    let path = dir.path().to_owned();
    let _serving = tokio::task::spawn_blocking(move || {
        let mut child = bash(&path, &serve)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dev up");
        crate::scaffold::until_serving(&mut child);
        Serving(child)
    })
    .await
    .expect("join");

    let erp = block(&blocks, "sh erp");
    assert_eq!(
        erp.lines().count() + 1,
        5,
        "five commands after writing the code: dev up and these"
    );
    let output = bash(dir.path(), erp).output().expect("bash");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let last = stdout.lines().last().expect("an answer");
    let mut got: serde_json::Value = serde_json::from_str(last).expect("JSON");
    let mut shown: serde_json::Value =
        serde_json::from_str(block(&blocks, "json answer")).expect("the page's answer");
    stable(&mut got);
    stable(&mut shown);
    assert_eq!(got, shown, "the ERP answers what the page shows");
}
