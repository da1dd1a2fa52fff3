//! The admin console in a real browser: headless Chromium driven over
//! WebDriver (Debian's `chromium` and `chromium-driver`, which `.ci/run`
//! installs) through an admin's first visit to a fresh host. Screenshots
//! of the main pages land in `target/console-screenshots/`, never in the
//! tree. Without the browser the test says SKIPPED, except under CI.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use h2h_host::db::testing::TestBackend;
use h2h_host::packages::pack::{with_extra_origins, write_package};
use h2h_privat24_sim::{Merchant, Simulator};
use h2h_test_plugins::{PRIVAT24, WELL_BEHAVED};
use serde_json::json;

use crate::admin::Fixture;
use crate::privat24_e2e::{IBAN, MERCHANT, TOKEN};
use crate::served::Served;

const PRIVAT24_MANIFEST: &str = include_str!("../../../plugins/privat24/h2h.toml");

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// chromedriver, started; none when it is not installed.
async fn driver() -> Option<Driver> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = match Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "chromedriver must run under CI: {e}"
            );
            eprintln!("SKIPPED: no chromedriver ({e}); apt-get install chromium chromium-driver");
            return None;
        }
    };
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if reqwest::get(format!("{}/status", driver.url)).await.is_ok() {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not answer on port {port}");
}

async fn browser(driver: &Driver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({ "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--window-size=1366,900", "--lang=en"
        ] }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("console-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn snap(browser: &Client, name: &str) {
    let png = browser.screenshot().await.expect("screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).expect("saved");
}

async fn text_of(browser: &Client, css: &str) -> String {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no `{css}` on the page: {e}"))
        .text()
        .await
        .expect("text")
}

/// Clicks `button` and waits until the page it leads to has loaded: the
/// old page's root goes stale, the new one is complete.
async fn click_and_load(browser: &Client, button: fantoccini::elements::Element) {
    let old = browser.find(Locator::Css("html")).await.expect("page");
    button.click().await.expect("clicked");
    for _ in 0..200 {
        if old.tag_name().await.is_err() {
            let state = browser
                .execute("return document.readyState", vec![])
                .await
                .expect("state");
            if state == "complete" {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the click led nowhere within 5 s");
}

async fn click_css(browser: &Client, css: &str) {
    let button = browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no `{css}`: {e}"));
    click_and_load(browser, button).await;
}

/// Chooses `file` in the form's file input and submits the form.
async fn submit_file(browser: &Client, input: &str, file: &std::path::Path) {
    let field = browser.find(Locator::Css(input)).await.expect("file input");
    field
        .send_keys(&file.display().to_string())
        .await
        .expect("file chosen");
    let form = browser
        .find(Locator::XPath(&format!(
            "//input[@id='{}']/ancestor::form",
            input.trim_start_matches('#')
        )))
        .await
        .expect("its form");
    let button = form
        .find(Locator::Css("button[type=submit]"))
        .await
        .expect("submit button");
    click_and_load(browser, button).await;
}

/// Types `text` into the field `css`.
async fn type_into(browser: &Client, css: &str, text: &str) {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no `{css}`: {e}"))
        .send_keys(text)
        .await
        .expect("typed");
}

/// Whether the browser is on the sign-in form.
async fn on_sign_in(browser: &Client) -> bool {
    browser
        .current_url()
        .await
        .expect("url")
        .path()
        .ends_with("/sign-in")
}

/// Types `key` into the sign-in form and sends it.
async fn sign_in(browser: &Client, key: &str) {
    browser
        .find(Locator::Id("key"))
        .await
        .expect("key field")
        .send_keys(key)
        .await
        .expect("typed");
    click_css(browser, "button[type=submit]").await;
}

#[tokio::test]
async fn an_admin_installs_privat24_in_the_browser() {
    let Some(driver) = driver().await else {
        return;
    };
    let Some(fx) = Fixture::new(TestBackend::Sqlite).await else {
        return;
    };
    let api = Served::start(&fx).await;
    let files = tempfile::tempdir().expect("dir");
    let wasm = std::fs::read(PRIVAT24).expect("connector built");
    // The bank the company's sync will reach, added to this build's
    // allow-list.
    let sim = Simulator::builder()
        .merchant(Merchant::new(MERCHANT, TOKEN, IBAN, "UAH"))
        .seed(5)
        .days(3)
        .today(chrono::Utc::now().date_naive())
        .build()
        .expect("simulator");
    let bank = sim.start("127.0.0.1:0").await.expect("bank serving");
    let manifest = with_extra_origins(PRIVAT24_MANIFEST, &[bank.url()]).expect("origin");
    let package = files.path().join("privat24.zip");
    std::fs::write(
        &package,
        write_package(&manifest, &wasm, None, None, Some(&fx.key)).expect("pack"),
    )
    .expect("write");
    let version = PRIVAT24_MANIFEST
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("version");
    let tampered = files.path().join("privat24-tampered.zip");
    std::fs::write(
        &tampered,
        fx.tampered_package("privat24", version, PRIVAT24, WELL_BEHAVED),
    )
    .expect("write");
    let license = files.path().join("privat24.lic");
    std::fs::write(&license, fx.license("privat24", "*", 1, 365).await).expect("write");

    let c = browser(&driver).await;
    // A fresh visit lands on the sign-in form.
    c.goto(&format!("{}/console", api.base))
        .await
        .expect("open");
    assert!(on_sign_in(&c).await);
    snap(&c, "sign-in").await;
    sign_in(&c, &api.admin_key).await;
    assert_eq!(
        c.current_url().await.expect("url").path(),
        "/console/plugins"
    );
    assert!(text_of(&c, "header").await.contains("ops"));

    // A form whose CSRF token was changed does nothing.
    c.execute(
        "document.querySelector('form.sign-out input[name=csrf]').value = 'forged'",
        vec![],
    )
    .await
    .expect("token changed");
    click_css(&c, "form.sign-out button").await;
    assert_eq!(text_of(&c, "h1").await, "Form refused");
    assert!(text_of(&c, "main").await.contains("CSRF"));
    c.goto(&format!("{}/console/plugins", api.base))
        .await
        .expect("open");
    assert!(!on_sign_in(&c).await, "still signed in");

    // A tampered package: refused, with the reason.
    submit_file(&c, "#package-file", &tampered).await;
    let flash = text_of(&c, "#flash").await;
    assert!(
        flash.contains("does not match the package contents"),
        "{flash}"
    );
    snap(&c, "package-refused").await;

    // The real one, its license, then install on the database.
    submit_file(&c, "#package-file", &package).await;
    let flash = text_of(&c, "#flash").await;
    assert!(
        flash.contains(&format!("Uploaded privat24 {version}")),
        "{flash}"
    );
    submit_file(&c, "#license-file", &license).await;
    let flash = text_of(&c, "#flash").await;
    assert!(flash.contains("Added license"), "{flash}");
    click_css(&c, "button[data-op=install]").await;
    // Its page reloads itself until the install is done.
    let outcome = c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Id("outcome"))
        .await
        .expect("the install finished");
    let outcome = outcome.text().await.expect("text");
    assert!(
        outcome.contains(&format!("installed privat24 {version}")),
        "{outcome}"
    );
    let cycle = text_of(&c, "#service-mode-cycle").await;
    assert!(cycle.contains("Service mode came and went"), "{cycle}");
    snap(&c, "install-done").await;
    click_css(&c, "main a[href='/console/plugins']").await;
    let row = text_of(&c, "tr[data-plugin=privat24]").await;
    assert!(row.contains("enabled"), "{row}");
    assert!(
        !fx.host.admin.service_mode().await.expect("mode").active,
        "service mode came and went"
    );
    snap(&c, "plugins").await;

    // A company and the connector's settings for it; the token is
    // write-only.
    c.goto(&format!("{}/console/companies", api.base))
        .await
        .expect("open");
    type_into(&c, "#company-id", "acme").await;
    type_into(&c, "#company-name", "ACME Sp. z o.o.").await;
    click_css(&c, "#add-company ~ form button[type=submit]").await;
    assert!(text_of(&c, "#flash").await.contains("Added company acme"));
    click_css(&c, "tr[data-company=acme] a").await;
    type_into(&c, "#privat24-api-url", &bank.url()).await;
    click_css(&c, "tr[data-setting=api-url] button[value=set]").await;
    assert!(
        text_of(&c, "#flash")
            .await
            .contains("Set privat24 `api-url` for acme")
    );
    type_into(&c, "#privat24-token", TOKEN).await;
    click_css(&c, "tr[data-setting=token] button[value=set]").await;
    let token_row = text_of(&c, "tr[data-setting=token]").await;
    assert!(token_row.contains("set (never shown)"), "{token_row}");
    assert!(
        !c.source().await.expect("source").contains(TOKEN),
        "the secret never comes back to the browser"
    );
    snap(&c, "company-settings").await;
    // The simulated bank listens on loopback: a private address the admin
    // allows on the access page.
    let host_port = bank.url().trim_start_matches("http://").to_owned();
    c.goto(&format!("{}/console/access", api.base))
        .await
        .expect("open");
    type_into(&c, "#private-privat24", &host_port).await;
    click_css(&c, "[data-grant=privat24] > form button[type=submit]").await;
    let flash = text_of(&c, "#flash").await;
    assert!(
        flash.contains(&format!("privat24: allow {host_port}")),
        "{flash}"
    );
    snap(&c, "access").await;
    // The company's account is the ERP's to add.
    crate::privat24_e2e::add_acme_account(&fx).await;

    // Run the statement sync now, and read its history.
    c.goto(&format!("{}/console/tasks", api.base))
        .await
        .expect("open");
    c.find(Locator::Css(
        "tr[data-task='privat24/sync-statements'] select",
    ))
    .await
    .expect("company select")
    .select_by_value("acme")
    .await
    .expect("acme chosen");
    click_css(
        &c,
        "tr[data-task='privat24/sync-statements'] button[data-op=run]",
    )
    .await;
    let flash = text_of(&c, "#flash").await;
    assert!(
        flash.contains("of privat24/sync-statements for acme: ok"),
        "{flash}"
    );
    let history = text_of(&c, "#history ~ table").await;
    assert!(history.contains("acme"), "{history}");
    assert!(history.contains("manual"), "{history}");
    snap(&c, "task-history").await;

    // While service mode is on, every page says so.
    fx.host
        .admin
        .service_mode_on(&fx.actor, "bank certificate renewal")
        .await
        .expect("on");
    c.refresh().await.expect("reload");
    let banner = text_of(&c, "#service-mode").await;
    assert!(banner.contains("bank certificate renewal"), "{banner}");
    snap(&c, "service-mode").await;
    fx.host
        .admin
        .service_mode_off(&fx.actor)
        .await
        .expect("off");

    // An idle session ends: the next page is the sign-in form, saying so.
    sqlx::query("UPDATE console_sessions SET last_seen_at = last_seen_at - 960000")
        .execute(fx.host.db.pool())
        .await
        .expect("age");
    c.refresh().await.expect("reload");
    assert!(on_sign_in(&c).await);
    assert!(text_of(&c, "#flash").await.contains("Your session ended"));

    // Sign in again, then out with the button.
    sign_in(&c, &api.admin_key).await;
    click_css(&c, "form.sign-out button").await;
    assert!(on_sign_in(&c).await);
    c.goto(&format!("{}/console/plugins", api.base))
        .await
        .expect("open");
    assert!(on_sign_in(&c).await, "signed out for good");

    c.close().await.expect("browser closed");
    api.stop().await;
    bank.handle.stop().await;
    fx.finish().await;
}
