//! The `h2h` binary serves on its embedded SQLite default and answers health.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn h2h_serve_answers_health_on_sqlite_and_stops_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_h2h"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("h2h starts");
    let stdout = child.stdout.take().unwrap();
    let mut first_line = String::new();
    BufReader::new(stdout).read_line(&mut first_line).unwrap();
    let url = first_line
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first_line:?}"))
        .to_owned();

    let response = reqwest::get(format!("{url}/health")).await.unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();

    // SIGTERM: a graceful stop, exit status 0.
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let exit = child.wait().unwrap();

    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "sqlite");
    assert_eq!(
        body["contracts"],
        serde_json::json!(["h2h:connector@1.0.0", "h2h:connector@2.0.0"])
    );
    assert!(
        data.path().join("h2h.db").exists(),
        "SQLite file created in the data dir"
    );
    assert!(exit.success(), "{exit:?}");
}
