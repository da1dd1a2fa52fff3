//! The `h2h` binary serves on its embedded SQLite default and answers health.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// `h2h serve` on a free loopback port over `data` with `extra` arguments,
/// and the `scheme` URL its first line prints.
fn serve(data: &std::path::Path, extra: &[&std::ffi::OsStr], scheme: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_h2h"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("h2h starts");
    let stdout = child.stdout.take().unwrap();
    let mut first_line = String::new();
    BufReader::new(stdout).read_line(&mut first_line).unwrap();
    let url = first_line
        .split_whitespace()
        .find(|word| word.starts_with(scheme))
        .unwrap_or_else(|| panic!("no {scheme} URL in {first_line:?}"))
        .to_owned();
    (child, url)
}

#[tokio::test]
async fn h2h_serve_answers_health_on_sqlite_and_stops_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let (mut child, url) = serve(data.path(), &[], "http://");

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

/// `h2h serve --tls-cert --tls-key` answers HTTPS from the given
/// certificate, and nothing in clear on that port.
#[tokio::test]
async fn h2h_serve_answers_https_from_its_certificate() {
    let data = tempfile::tempdir().unwrap();
    let pki = h2h_sim_kit::pki::Pki::generate(&h2h_sim_kit::pki::PkiNames {
        ca_common_name: "h2h serve TEST CA",
        ca_organization: "h2h test PKI (not a real host)",
        server_common_name: "localhost",
    })
    .expect("pki");
    let cert = data.path().join("host.crt");
    let key = data.path().join("host.key");
    std::fs::write(&cert, pki.server_cert_pem()).unwrap();
    std::fs::write(&key, pki.server_key_pem()).unwrap();
    let tls = [
        std::ffi::OsStr::new("--tls-cert"),
        cert.as_os_str(),
        "--tls-key".as_ref(),
        key.as_os_str(),
    ];
    let (mut child, url) = serve(data.path(), &tls, "https://");

    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pki.ca_pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let health = client.get(format!("{url}/health")).send().await;
    let in_clear = reqwest::get(format!("{}/health", url.replace("https://", "http://"))).await;
    let untrusted = reqwest::get(format!("{url}/health")).await;
    let _ = child.kill();
    let _ = child.wait();

    let health = health.expect("https answers");
    assert_eq!(health.status(), 200);
    assert!(
        in_clear.is_err(),
        "plain HTTP on the TLS port: {in_clear:?}"
    );
    assert!(untrusted.is_err(), "a client without the CA: {untrusted:?}");
}

/// A certificate file that is not there stops `h2h serve` at once, naming it.
#[test]
fn h2h_serve_refuses_a_missing_certificate() {
    let data = tempfile::tempdir().unwrap();
    let missing = data.path().join("nope.crt");
    let output = Command::new(env!("CARGO_BIN_EXE_h2h"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .arg("--tls-cert")
        .arg(&missing)
        .arg("--tls-key")
        .arg(data.path().join("nope.key"))
        .env("RUST_LOG", "off")
        .output()
        .expect("h2h runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
    assert!(!data.path().join("h2h.db").exists(), "nothing opened");
}

/// Over plain HTTP only loopback peers reach the API; a peer elsewhere
/// gets 403 `tls_required` before anything is read, except for health and
/// the OpenAPI document. Over TLS, or behind a TLS proxy
/// (`--plain-http-anywhere`), every peer does.
#[tokio::test]
async fn plain_http_answers_loopback_only() {
    use axum::extract::ConnectInfo;
    use h2h_host::serve::PlainHttp;
    use h2h_host::serve::transport::{Peer, guard};
    use tower::ServiceExt;

    let router = |policy: PlainHttp| {
        axum::Router::new()
            .route("/health", axum::routing::get(|| async { "ok" }))
            .route("/erp/v1/plugins", axum::routing::get(|| async { "[]" }))
            .layer(axum::middleware::from_fn_with_state(policy, guard))
    };
    let ask = |policy: PlainHttp, peer: &str, tls: bool, path: &str| {
        let request = axum::http::Request::builder()
            .uri(path)
            .extension(ConnectInfo(Peer {
                addr: peer.parse().expect("addr"),
                tls,
            }))
            .body(axum::body::Body::empty())
            .expect("request");
        async move {
            let response = router(policy).oneshot(request).await.expect("answer");
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), 1 << 16)
                .await
                .expect("body");
            (status.as_u16(), String::from_utf8_lossy(&body).into_owned())
        }
    };
    let remote = "203.0.113.9:50000";
    let (status, body) = ask(PlainHttp::LoopbackOnly, remote, false, "/erp/v1/plugins").await;
    assert_eq!(status, 403, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(body["code"], "tls_required");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("--tls-cert") && m.contains("--plain-http-anywhere")),
        "{body}"
    );
    for (policy, peer, tls, path) in [
        (PlainHttp::LoopbackOnly, remote, false, "/health"),
        (
            PlainHttp::LoopbackOnly,
            "127.0.0.1:50000",
            false,
            "/erp/v1/plugins",
        ),
        (
            PlainHttp::LoopbackOnly,
            "[::1]:50000",
            false,
            "/erp/v1/plugins",
        ),
        (
            PlainHttp::LoopbackOnly,
            "[::ffff:127.0.0.1]:50000",
            false,
            "/erp/v1/plugins",
        ),
        (PlainHttp::LoopbackOnly, remote, true, "/erp/v1/plugins"),
        (PlainHttp::Anywhere, remote, false, "/erp/v1/plugins"),
    ] {
        let (status, body) = ask(policy, peer, tls, path).await;
        assert_eq!(status, 200, "{policy:?} {peer} tls={tls} {path}: {body}");
    }
}

/// `h2h` with `args` run in `dir` (RUST_LOG=info), stopped with SIGTERM
/// after its health answered; what it logged on stderr.
async fn serve_and_stop(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_h2h"))
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "info")
        .env_remove("H2H_LOG_FORMAT")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("h2h starts");
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let url = first_line
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first_line:?}"))
        .to_owned();
    let health = reqwest::get(format!("{url}/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `h2h-host.toml` in the working directory sets the data directory
/// (relative to the file), the listen address and the log format; a flag
/// or an `H2H_*` variable wins over it.
#[tokio::test]
async fn the_host_config_file_sets_what_flags_do_not() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("h2h-host.toml"),
        "data_dir = \"state\"\nlog_format = \"json\"\n\n[serve]\nlisten = \"127.0.0.1:0\"\n\n\
         [limits]\ncall_deadline_seconds = 5\nmax_concurrent_instances = 32\n",
    )
    .unwrap();

    let logs = serve_and_stop(dir.path(), &["serve"], &[]).await;
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "h2h serving"),
        "{logs}"
    );
    assert!(
        dir.path().join("state/h2h.db").exists(),
        "the file's data dir"
    );

    // From elsewhere, through --config; the variable and the flag win.
    let elsewhere = tempfile::tempdir().unwrap();
    let config = dir.path().join("h2h-host.toml");
    let logs = serve_and_stop(
        elsewhere.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "serve",
            "--data-dir",
            "flagged",
        ],
        &[("H2H_LOG_FORMAT", "text")],
    )
    .await;
    assert!(logs.contains("h2h serving"), "{logs}");
    assert!(
        !logs.trim_start().starts_with('{'),
        "text, not JSON: {logs}"
    );
    assert!(elsewhere.path().join("flagged/h2h.db").exists());
}

/// A config file with a key the host does not know stops it before
/// anything opens, naming the file and the key.
#[test]
fn a_host_config_with_an_unknown_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("h2h-host.toml");
    std::fs::write(
        &config,
        "data_dir = \"state\"\nlisten_on = \"0.0.0.0:80\"\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_h2h"))
        .args(["--config"])
        .arg(&config)
        .arg("serve")
        .current_dir(dir.path())
        .output()
        .expect("h2h runs");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&config.display().to_string()), "{stderr}");
    assert!(stderr.contains("listen_on"), "{stderr}");
    assert!(!dir.path().join("state").exists(), "nothing opened");
}

/// `h2h completions <shell>` prints a script that knows the commands.
#[test]
fn completions_are_printed_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F _h2h"),
        ("zsh", "#compdef h2h"),
        ("fish", "complete -c h2h"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_h2h"))
            .args(["completions", shell])
            .output()
            .expect("h2h runs");
        assert!(output.status.success(), "{shell}: {output:?}");
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(script.contains(marker), "{shell}:\n{script}");
        assert!(
            script.contains("service-mode"),
            "{shell}: knows the commands"
        );
    }
}
