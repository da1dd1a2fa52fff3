//! `h2h plugin new`: the crate it makes, for either world, builds outside
//! this workspace (its own workspace, the SDK by path), packs into a signed
//! package the host accepts, and answers `unsupported` until written. And
//! `h2h plugin call`: one export of a package run directly, against the
//! Privat24 simulator, arguments and answer as JSON.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{company, host, test_limits};
use h2h_host::capabilities::Grants;
use h2h_host::packages::{PackageLimits, SignaturePolicy};
use h2h_host::runtime::model::ConnectorError;
use h2h_host::runtime::model::bank::StatementQuery;
use h2h_host::runtime::{CallError, World};
use h2h_license::VendorKeyPair;

fn h2h(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_h2h"))
        .args(args)
        .arg("--data-dir")
        .arg(dir.join("data"))
        // The crate's dependencies resolve from the local cache, as the
        // workspace's did, and build beside this workspace's artifacts.
        .env("CARGO_NET_OFFLINE", "true")
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/scaffold"),
        )
        .output()
        .expect("h2h runs")
}

fn ok(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Makes, packs and opens a connector of `world`; its component.
fn made_and_packed(world: &str, dir: &Path, key: &VendorKeyPair) -> Vec<u8> {
    // Not `acme-bank`: the first-connector page's crate shares the target
    // directory, and one cdylib name would be built over by the other.
    let id = format!("scaffold-{world}");
    let crate_dir = dir.join(&id);
    ok(&h2h(
        &[
            "plugin",
            "new",
            &id,
            "--world",
            world,
            "--setting",
            "base-url",
            "--secret",
            "token",
            "--origin",
            "https://api.acme.example",
            "--dir",
            &crate_dir.to_string_lossy(),
        ],
        dir,
    ));
    let lib = std::fs::read_to_string(crate_dir.join("src/lib.rs")).expect("lib.rs");
    assert!(lib.contains("is not written yet"), "{lib}");
    let zip = dir.join(format!("{id}.zip"));
    ok(&h2h(
        &[
            "plugin",
            "pack",
            &crate_dir.to_string_lossy(),
            "--sign-key",
            &dir.join("publisher.key").to_string_lossy(),
            "--output",
            &zip.to_string_lossy(),
        ],
        dir,
    ));
    let package = h2h_host::packages::open(
        &std::fs::read(&zip).expect("zip"),
        &[key.public()],
        SignaturePolicy::RequireTrusted,
        &PackageLimits::default(),
    )
    .expect("the host accepts the package");
    assert_eq!(package.manifest.id, id);
    let names: Vec<&str> = package
        .manifest
        .settings
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["base-url", "token"]);
    package.wasm
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_connector_builds_packs_and_answers_unsupported() {
    let dir = tempfile::tempdir().expect("dir");
    let key = VendorKeyPair::generate().expect("key");
    key.save(&dir.path().join("publisher.key"))
        .expect("key file");
    let host = host(test_limits());

    let bank = made_and_packed("bank", dir.path(), &key);
    let plugin = host
        .runtime
        .load("scaffold-bank", &bank, Grants::default())
        .expect("loads");
    assert_eq!(plugin.world(), World::BankConnector);
    let query = StatementQuery {
        account: "PL61109010140000071219812874".to_owned(),
        from: "2026-11-01".to_owned(),
        to: "2026-11-30".to_owned(),
        continuation: None,
    };
    match plugin.fetch_statement(company("acme"), &query).await {
        Err(CallError::Connector {
            error: ConnectorError::Unsupported(message),
            ..
        }) => assert_eq!(
            message,
            "fetch-statement of PL61109010140000071219812874 is not written yet"
        ),
        other => panic!("expected unsupported, got {other:?}"),
    }

    let pos = made_and_packed("pos", dir.path(), &key);
    let plugin = host
        .runtime
        .load("scaffold-pos", &pos, Grants::default())
        .expect("loads");
    assert_eq!(plugin.world(), World::PosConnector);
    match plugin
        .get_intent(company("acme"), "device-key", "i-1")
        .await
    {
        Err(CallError::Connector {
            error: ConnectorError::Unsupported(message),
            ..
        }) => assert_eq!(message, "get-intent i-1 is not written yet"),
        other => panic!("expected unsupported, got {other:?}"),
    }
}

#[test]
fn a_bad_id_or_a_used_directory_writes_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let refused = h2h(
        &[
            "plugin",
            "new",
            "Acme_Bank",
            "--world",
            "bank",
            "--dir",
            &dir.path().join("x").to_string_lossy(),
        ],
        dir.path(),
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("plugin id `Acme_Bank`"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(!dir.path().join("x").exists());

    let used = dir.path().join("used");
    std::fs::create_dir_all(&used).expect("dir");
    std::fs::write(used.join("keep.txt"), "mine").expect("file");
    let refused = h2h(
        &[
            "plugin",
            "new",
            "acme-bank",
            "--world",
            "bank",
            "--dir",
            &used.to_string_lossy(),
        ],
        dir.path(),
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("is not empty; nothing was written"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(
        std::fs::read_dir(&used).expect("dir").count(),
        1,
        "only the file that was there"
    );
}

/// The shipped Privat24 connector as an unsigned package in `dir`.
pub(crate) fn unsigned_privat24(dir: &Path) -> std::path::PathBuf {
    unsigned_package(
        dir,
        "privat24",
        h2h_test_plugins::PRIVAT24_MANIFEST,
        h2h_test_plugins::PRIVAT24,
    )
}

/// A built connector (`wasm`, a path) as an unsigned package in `dir`.
pub(crate) fn unsigned_package(
    dir: &Path,
    name: &str,
    manifest: &str,
    wasm: &str,
) -> std::path::PathBuf {
    let zip = dir.join(format!("{name}.zip"));
    std::fs::write(
        &zip,
        h2h_host::packages::pack::write_package(
            manifest,
            &std::fs::read(wasm).expect("connector built"),
            None,
            None,
            None,
        )
        .expect("package"),
    )
    .expect("zip");
    zip
}

/// `h2h plugin call` on the shipped Privat24 connector, unsigned, against
/// its simulator on loopback: the statement comes back as JSON with the
/// bank's lines; the balance too; a bad argument and an unknown export are
/// clear errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_call_runs_one_export_against_a_bank() {
    use crate::privat24_e2e::{IBAN, MERCHANT, TOKEN};
    use h2h_privat24_sim::{Merchant, Simulator};

    let dir = tempfile::tempdir().expect("dir");
    let today = chrono::Utc::now().date_naive();
    let sim = Simulator::builder()
        .merchant(Merchant::new(MERCHANT, TOKEN, IBAN, "UAH"))
        .seed(11)
        .days(3)
        .today(today)
        .build()
        .expect("simulator");
    let running = sim.start("127.0.0.1:0").await.expect("bank serving");
    let origin = running.url();
    let host_port = origin.trim_start_matches("http://").to_owned();
    let zip = unsigned_privat24(dir.path());
    let call = |export: &str, arguments: String| {
        let (zip, origin, host_port) = (zip.clone(), origin.clone(), host_port.clone());
        let export = export.to_owned();
        let data = dir.path().to_owned();
        async move {
            tokio::task::spawn_blocking(move || {
                h2h(
                    &[
                        "plugin",
                        "call",
                        &zip.to_string_lossy(),
                        &export,
                        &arguments,
                        "--setting",
                        &format!("api-url={origin}"),
                        "--secret",
                        &format!("token={TOKEN}"),
                        "--allow-origin",
                        &origin,
                        "--allow-private",
                        &host_port,
                        "--json",
                    ],
                    &data,
                )
            })
            .await
            .expect("join")
        }
    };
    let from = (today - chrono::Days::new(3)).to_string();
    let statement = call(
        "fetch-statement",
        format!(r#"{{"account": "{IBAN}", "from": "{from}", "to": "{today}"}}"#),
    )
    .await;
    let statement: serde_json::Value = serde_json::from_str(&ok(&statement)).expect("JSON answer");
    assert_eq!(statement["account"], IBAN);
    let lines = statement["transactions"].as_array().expect("transactions");
    assert!(!lines.is_empty(), "{statement}");
    assert!(
        lines.iter().all(|t| t["amount"]["currency"] == "UAH"),
        "{statement}"
    );

    let balance = call("get-balance", format!(r#"{{"account": "{IBAN}"}}"#)).await;
    let balance: serde_json::Value = serde_json::from_str(&ok(&balance)).expect("JSON answer");
    assert_eq!(balance["account"], IBAN, "{balance}");

    let bad = call("fetch-statement", r#"{"account": 7}"#.to_owned()).await;
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stdout).contains("the arguments of `fetch-statement`"),
        "{}",
        String::from_utf8_lossy(&bad.stdout)
    );
    let unknown = call("send-money", "{}".to_owned()).await;
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stdout).contains("no export `send-money` to call"),
        "{}",
        String::from_utf8_lossy(&unknown.stdout)
    );
}

/// A running `h2h dev up`: the address it serves on, and the process.
struct DevUp {
    child: std::process::Child,
    addr: String,
    said: String,
}

impl Drop for DevUp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `child`'s output until it says it serves; what it said up to
/// then. A thread keeps reading the rest, so the process never writes to a
/// closed pipe (which would end it).
pub(crate) fn until_serving(child: &mut std::process::Child) -> String {
    use std::io::{BufRead as _, BufReader};
    let stdout = child.stdout.take().expect("stdout piped");
    let (lines, said) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // The receiver stops listening once the host serves.
            let _ = lines.send(line);
        }
    });
    let mut text = String::new();
    for line in said {
        text.push_str(&line);
        text.push('\n');
        if line.starts_with("h2h is serving ") {
            return text;
        }
    }
    let status = child.wait().expect("wait");
    panic!("dev up ended ({status}) before serving:\n{text}");
}

/// Starts `h2h dev up` with `args` and waits until it serves.
fn dev_up(data: &Path, args: &[String]) -> DevUp {
    let mut child = Command::new(env!("CARGO_BIN_EXE_h2h"))
        .arg("--data-dir")
        .arg(data)
        .args(["dev", "up"])
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("dev up starts");
    let said = until_serving(&mut child);
    let addr = said
        .lines()
        .find_map(|l| l.strip_prefix("h2h is serving "))
        .and_then(|rest| rest.split("http://").nth(1))
        .and_then(|r| r.split([';', ' ']).next())
        .expect("the address")
        .to_owned();
    DevUp { child, addr, said }
}

/// `h2h dev up` on the shipped Privat24 crate against its simulator: the
/// connector delivered under the development key, the company configured,
/// an ERP key and user made; the printed ERP calls then sync the bank's
/// lines. A second run upgrades in place and keeps the key and the data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_up_serves_a_connector_and_upgrades_it_in_place() {
    use crate::privat24_e2e::{IBAN, MERCHANT, TOKEN};
    use h2h_privat24_sim::{Merchant, Simulator};

    let dir = tempfile::tempdir().expect("dir");
    let today = chrono::Utc::now().date_naive();
    let sim = Simulator::builder()
        .merchant(Merchant::new(MERCHANT, TOKEN, IBAN, "UAH"))
        .seed(5)
        .days(3)
        .today(today)
        .build()
        .expect("simulator");
    let running = sim.start("127.0.0.1:0").await.expect("bank serving");
    let bank = running.url();
    let crate_dir = Path::new(h2h_test_plugins::PRIVAT24_DIR);
    let args: Vec<String> = vec![
        crate_dir.to_string_lossy().into_owned(),
        "--bank".to_owned(),
        bank.clone(),
        "--setting".to_owned(),
        format!("api-url={bank}"),
        "--secret".to_owned(),
        format!("token={TOKEN}"),
    ];
    let data = dir.path().join("data");
    let first = {
        let (data, args) = (data.clone(), args.clone());
        tokio::task::spawn_blocking(move || dev_up(&data, &args))
            .await
            .expect("join")
    };
    assert!(first.said.contains("!!! DEVELOPMENT KEY"), "{}", first.said);
    assert!(first.said.contains("privat24 1.2.2-dev."), "{}", first.said);
    assert!(!first.said.contains(TOKEN), "the secret is never printed");
    let key = std::fs::read_to_string(data.join("dev/erp-key")).expect("the ERP key file");
    assert!(!first.said.contains(key.trim()), "nor the ERP key");
    let admin_key =
        std::fs::read_to_string(data.join("dev/admin-key")).expect("the admin key file");
    assert!(!first.said.contains(admin_key.trim()), "nor the admin key");
    assert!(
        first
            .said
            .contains(&format!("(console: http://{}/console", first.addr)),
        "{}",
        first.said
    );

    let client = reqwest::Client::new();
    let erp = |method: reqwest::Method, path: &str, body: Option<serde_json::Value>| {
        let mut request = client
            .request(method, format!("http://{}/erp/v1{path}", first.addr))
            .bearer_auth(key.trim())
            .header("X-H2H-User", "dev");
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.expect("call");
            let status = response.status();
            let body: serde_json::Value = response.json().await.expect("json");
            (status, body)
        }
    };
    let (status, account) = erp(
        reqwest::Method::POST,
        "/accounts",
        Some(serde_json::json!({
            "id": "dev-main", "company": "dev", "plugin": "privat24",
            "iban": IBAN, "currency": "UAH"
        })),
    )
    .await;
    assert!(status.is_success(), "{account}");
    let (_, run) = erp(
        reqwest::Method::POST,
        "/plugins/privat24/tasks/sync-statements",
        Some(serde_json::json!({"company": "dev"})),
    )
    .await;
    assert_eq!(run["outcome"], "ok", "{run}");
    let (_, lines) = erp(
        reqwest::Method::GET,
        "/accounts/dev-main/transactions?limit=1000",
        None,
    )
    .await;
    let synced = lines["transactions"].as_array().expect("lines").len();
    assert!(synced > 0, "{lines}");
    drop(first);

    let second = tokio::task::spawn_blocking(move || dev_up(&data, &args))
        .await
        .expect("join");
    assert!(
        second
            .said
            .contains("install   privat24 upgraded 1.2.2-dev."),
        "{}",
        second.said
    );
    assert!(
        second.said.contains("erp key   dev-erp (from"),
        "{}",
        second.said
    );
    let response = reqwest::Client::new()
        .get(format!(
            "http://{}/erp/v1/accounts/dev-main/transactions?limit=1000",
            second.addr
        ))
        .bearer_auth(key.trim())
        .header("X-H2H-User", "dev")
        .send()
        .await
        .expect("call");
    let kept: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        kept["transactions"].as_array().expect("lines").len(),
        synced,
        "the data stays"
    );
}

/// The commands that open no host do not offer the host's flags; the ones
/// that do still show them.
#[test]
fn hostless_commands_show_only_their_own_flags() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["pack", "new", "call"] {
        let help = h2h(&["plugin", command, "--help"], dir.path());
        let text = String::from_utf8_lossy(&help.stdout);
        assert!(help.status.success(), "{command}: {text}");
        assert!(text.contains("Usage: h2h plugin"), "{command}: {text}");
        for flag in ["--data-dir", "--database-url", "--allow-untrusted-packages"] {
            assert!(!text.contains(flag), "{command} shows {flag}: {text}");
        }
    }
    let upload = h2h(&["plugin", "upload", "--help"], dir.path());
    assert!(String::from_utf8_lossy(&upload.stdout).contains("--data-dir"));
}
