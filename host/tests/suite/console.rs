//! The admin console over HTTP, as a browser speaks to it: sign-in with an
//! admin key for a session cookie, the forms' CSRF tokens, the security
//! headers, session ends (sign-out, idle, revoked key), the sign-in rate
//! limit, and the plugin flow with its refusals shown word for word.
//! `console_browser` drives the same pages in a real Chromium.

use h2h_host::admin::Role;
use h2h_host::db::testing::TestBackend;
use h2h_test_plugins::{MINIMAL, WELL_BEHAVED};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};

use crate::admin::Fixture;
use crate::served::Served;

/// A browser without a cookie jar of its own: the test holds the cookie.
pub struct Browser {
    client: reqwest::Client,
    base: String,
    pub cookie: Option<String>,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// Where a redirect points.
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The CSRF token the page's forms carry.
    pub fn csrf(&self) -> String {
        let marker = r#"name="csrf" value=""#;
        let at = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no CSRF field in\n{}", self.body))
            + marker.len();
        self.body[at..]
            .split('"')
            .next()
            .unwrap_or_default()
            .to_owned()
    }
}

impl Browser {
    pub fn new(api: &Served) -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: api.base.clone(),
            cookie: None,
        }
    }

    async fn read(&mut self, request: reqwest::RequestBuilder) -> Page {
        let request = match &self.cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        };
        let response = request.send().await.expect("console answers");
        let status = response.status();
        let headers = response.headers().clone();
        if let Some(set) = headers.get(SET_COOKIE).and_then(|v| v.to_str().ok()) {
            let pair = set.split(';').next().unwrap_or_default().to_owned();
            self.cookie = if pair.ends_with('=') {
                None
            } else {
                Some(pair)
            };
        }
        let body = response.text().await.expect("body");
        Page {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(format!("{}{path}", self.base));
        self.read(request).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self.client.post(format!("{}{path}", self.base)).form(form);
        self.read(request).await
    }

    pub async fn upload(&mut self, path: &str, csrf: &str, field: &str, bytes: Vec<u8>) -> Page {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.to_owned())
            .part(
                field.to_owned(),
                reqwest::multipart::Part::bytes(bytes).file_name("upload"),
            );
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .multipart(form);
        self.read(request).await
    }

    pub async fn multipart(&mut self, path: &str, form: reqwest::multipart::Form) -> Page {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .multipart(form);
        self.read(request).await
    }

    pub async fn sign_in(&mut self, key: &str) -> Page {
        self.post("/console/sign-in", &[("key", key)]).await
    }
}

/// The progress page at `path`, once it shows the outcome (it reloads
/// every second until then).
pub async fn until_done(browser: &mut Browser, path: &str) -> Page {
    for _ in 0..200 {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        if page.body.contains(r#"id="outcome""#) {
            return page;
        }
        assert!(
            page.body.contains(r#"http-equiv="refresh""#),
            "{}",
            page.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{path} never showed an outcome");
}

async fn console_signs_in_and_guards_every_form(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let api = Served::start(&fx).await;
    let mut browser = Browser::new(&api);

    // Signed out: every page sends the browser to sign in.
    let page = browser.get("/console/plugins").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/console/sign-in");
    let page = browser.get("/console/sign-in").await;
    assert_eq!(page.status, StatusCode::OK);
    let csp = page.headers["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert_eq!(page.headers["cache-control"], "no-store");
    assert!(page.headers.contains_key("x-request-id"));
    // An unknown console page is the console's 404; the API keeps its JSON.
    let page = browser.get("/console/no-such-page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("No such console page"), "{}", page.body);
    let page = browser.get("/erp/v1/no-such-route").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.starts_with('{'), "{}", page.body);

    // An ERP key is not enough; a wrong one is unknown.
    let page = browser.sign_in(&api.erp_key).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.body.contains("ERP key"), "{}", page.body);
    assert!(browser.cookie.is_none());
    // A sign-in posted from another site is refused before the key is read.
    let cross = browser
        .client
        .post(format!("{}/console/sign-in", api.base))
        .header("origin", "http://attacker.example")
        .form(&[("key", api.admin_key.as_str())])
        .send()
        .await
        .expect("answer");
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);

    // The admin key: a session cookie, HttpOnly, SameSite=Strict, the
    // console's path only; not Secure over plain loopback HTTP.
    let page = browser.sign_in(&api.admin_key).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/console/plugins");
    let set = page.headers[SET_COOKIE].to_str().expect("cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(!set.contains("Secure"), "{set}");
    assert!(
        !set.contains(&api.admin_key),
        "the cookie is not the key: {set}"
    );
    let page = browser.get("/console/plugins").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Signed in as"), "{}", page.body);
    assert!(page.body.contains("ops"), "{}", page.body);
    let csrf = page.csrf();
    assert_eq!(csrf.len(), 64);

    // A form without this session's token does nothing.
    let package = fx.package("minimal", "1.0.0", MINIMAL);
    let page = browser
        .upload(
            "/console/plugins/upload",
            "forged",
            "package",
            package.clone(),
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("CSRF"), "{}", page.body);
    assert!(fx.host.admin.packages().await.expect("packages").is_empty());

    // A tampered package is refused with the exact reason.
    let tampered = fx.tampered_package("minimal", "1.0.0", MINIMAL, WELL_BEHAVED);
    let page = browser
        .upload("/console/plugins/upload", &csrf, "package", tampered)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let page = browser.get("/console/plugins").await;
    let key_id = fx.key.public().key_id();
    assert!(
        page.body.contains(&format!(
            "the signature by key {key_id} does not match the package contents: a file was changed after signing"
        )),
        "{}",
        page.body
    );
    // The message is shown once.
    let page = browser.get("/console/plugins").await;
    assert!(!page.body.contains("Refused"), "{}", page.body);

    // Upload, license, install: each through its form.
    browser
        .upload("/console/plugins/upload", &csrf, "package", package)
        .await;
    let page = browser.get("/console/plugins").await;
    assert!(
        page.body.contains("Uploaded minimal 1.0.0"),
        "{}",
        page.body
    );
    let license = fx.license("minimal", "*", 1, 365).await;
    browser
        .upload(
            "/console/plugins/license",
            &csrf,
            "license",
            license.into_bytes(),
        )
        .await;
    let page = browser.get("/console/plugins").await;
    assert!(page.body.contains("Added license"), "{}", page.body);
    let page = browser
        .post(
            "/console/plugins/minimal/action",
            &[("csrf", &csrf), ("op", "install"), ("version", "1.0.0")],
        )
        .await;
    // The install runs on; its page reloads until the audit log has it.
    let progress = page.location().to_owned();
    assert!(
        progress.starts_with("/console/plugins/minimal/progress?op=install&after="),
        "{progress}"
    );
    let page = until_done(&mut browser, &progress).await;
    assert!(
        page.body.contains("Done: installed minimal 1.0.0."),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("http-equiv=\"refresh\""),
        "done: no reload"
    );
    assert!(
        page.body.contains("Service mode came and went"),
        "{}",
        page.body
    );
    assert_eq!(
        fx.installed_version("minimal").await.as_deref(),
        Some("1.0.0")
    );

    // Service mode shows on every page while it is on.
    assert!(!page.body.contains("Service mode is on"));
    fx.host
        .admin
        .service_mode_on(&fx.actor, "nightly upgrade")
        .await
        .expect("on");
    let page = browser.get("/console/plugins").await;
    assert!(page.body.contains("Service mode is on"), "{}", page.body);
    assert!(page.body.contains("nightly upgrade"), "{}", page.body);
    fx.host
        .admin
        .service_mode_off(&fx.actor)
        .await
        .expect("off");

    // Every action is audited under the key's name.
    let audit = fx.host.admin.audit(0, 1000).await.expect("audit");
    let by_console: Vec<&str> = audit
        .iter()
        .filter(|e| e.actor == "api:ops")
        .map(|e| e.action.as_str())
        .collect();
    for action in [
        "console.sign-in",
        "package.upload",
        "license.add",
        "plugin.install",
    ] {
        assert!(by_console.contains(&action), "{action} in {by_console:?}");
    }

    // Sign-out ends the session; its cookie no longer opens a page.
    let old_cookie = browser.cookie.clone();
    let page = browser.post("/console/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(browser.cookie.is_none(), "the cookie is cleared");
    browser.cookie = old_cookie;
    let page = browser.get("/console/plugins").await;
    assert_eq!(page.location(), "/console/sign-in?ended=1");

    api.stop().await;
    fx.finish().await;
}

on_both_databases!(console_signs_in_and_guards_every_form);

/// A session ends when idle too long, and when its key is revoked.
#[tokio::test]
async fn console_sessions_end_when_idle_or_revoked() {
    let Some(fx) = Fixture::new(TestBackend::Sqlite).await else {
        return;
    };
    let api = Served::start(&fx).await;
    let mut browser = Browser::new(&api);
    browser.sign_in(&api.admin_key).await;
    assert_eq!(browser.get("/console/plugins").await.status, StatusCode::OK);

    // Sixteen minutes without a request.
    sqlx::query("UPDATE console_sessions SET last_seen_at = last_seen_at - 960000")
        .execute(fx.host.db.pool())
        .await
        .expect("age");
    let page = browser.get("/console/plugins").await;
    assert_eq!(page.location(), "/console/sign-in?ended=1");
    let page = browser.get(page.location()).await;
    assert!(page.body.contains("Your session ended"), "{}", page.body);

    // A second key's session ends with its key.
    let second = fx
        .host
        .admin
        .create_api_key(&fx.actor, "night-shift", Role::Admin)
        .await
        .expect("key");
    browser.sign_in(&second.secret).await;
    assert_eq!(browser.get("/console/plugins").await.status, StatusCode::OK);
    fx.host
        .admin
        .revoke_api_key(&fx.actor, "night-shift")
        .await
        .expect("revoke");
    let page = browser.get("/console/plugins").await;
    assert_eq!(page.location(), "/console/sign-in?ended=1");

    api.stop().await;
    fx.finish().await;
}

/// Five wrong keys a minute from one address, then 429 with Retry-After,
/// the right key included, until the minute is over.
#[tokio::test]
async fn console_sign_in_attempts_are_limited() {
    let Some(fx) = Fixture::new(TestBackend::Sqlite).await else {
        return;
    };
    let api = Served::start(&fx).await;
    let mut browser = Browser::new(&api);
    for attempt in 1..=5 {
        let page = browser.sign_in(&format!("wrong-{attempt}")).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let page = browser.sign_in(&api.admin_key).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = page.headers["retry-after"]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(browser.cookie.is_none());
    api.stop().await;
    fx.finish().await;
}

/// Off this machine the console answers 403 unless opened to the network.
#[tokio::test]
async fn the_console_answers_loopback_only_by_default() {
    use axum::extract::ConnectInfo;
    use h2h_host::console::{Reach, reach_guard};
    use h2h_host::serve::transport::Peer;
    use tower::ServiceExt as _;

    for (reach, peer, expected) in [
        (Reach::LoopbackOnly, "127.0.0.1:5000", StatusCode::OK),
        (Reach::LoopbackOnly, "[::1]:5000", StatusCode::OK),
        (Reach::LoopbackOnly, "192.0.2.7:5000", StatusCode::FORBIDDEN),
        (Reach::Anywhere, "192.0.2.7:5000", StatusCode::OK),
    ] {
        let app = axum::Router::new()
            .route("/console/sign-in", axum::routing::get(|| async { "form" }))
            .layer(axum::middleware::from_fn_with_state(reach, reach_guard));
        let mut request = axum::http::Request::get("/console/sign-in")
            .body(axum::body::Body::empty())
            .expect("request");
        request.extensions_mut().insert(ConnectInfo(Peer {
            addr: peer.parse().expect("addr"),
            tls: true,
        }));
        let response = app.oneshot(request).await.expect("answer");
        assert_eq!(response.status(), expected, "{reach:?} from {peer}");
    }
}

/// ERP users, API keys and the audit log through the console: a new key's
/// secret shown once and working, a refused grant shown word for word,
/// the log filtered by actor and action.
async fn console_manages_users_keys_and_reads_the_audit(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    fx.company("acme").await;
    let api = Served::start(&fx).await;
    let mut browser = Browser::new(&api);
    browser.sign_in(&api.admin_key).await;
    let csrf = browser.get("/console/keys").await.csrf();

    // A new key: its secret once, on the answer; it works; then revoked.
    let page = browser
        .post(
            "/console/keys",
            &[("csrf", &csrf), ("name", "reporting"), ("role", "erp")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let marker = r#"<code id="key-secret">"#;
    let at = page.body.find(marker).expect("the secret is shown") + marker.len();
    let secret = page.body[at..]
        .split('<')
        .next()
        .expect("secret")
        .to_owned();
    let key = fx.host.admin.authenticate(&secret).await.expect("lookup");
    assert_eq!(key.map(|k| k.name).as_deref(), Some("reporting"));
    let page = browser.get("/console/keys").await;
    assert!(page.body.contains("reporting"));
    assert!(!page.body.contains(&secret), "shown once only");
    browser
        .post(
            "/console/keys/revoke",
            &[("csrf", &csrf), ("name", "reporting")],
        )
        .await;
    assert!(
        fx.host
            .admin
            .authenticate(&secret)
            .await
            .expect("lookup")
            .is_none()
    );

    // A user, a company grant; a permission of a plugin that is not there
    // is refused with the reason.
    browser
        .post(
            "/console/users/add",
            &[("csrf", &csrf), ("id", "anna"), ("name", "Anna Accountant")],
        )
        .await;
    browser
        .post(
            "/console/users/grant",
            &[
                ("csrf", &csrf),
                ("user", "anna"),
                ("company", "acme"),
                ("permission", ""),
            ],
        )
        .await;
    let page = browser.get("/console/users").await;
    assert!(
        page.body.contains("Granted: anna acts for acme."),
        "{}",
        page.body
    );
    let access = fx.host.admin.erp_user_access("anna").await.expect("access");
    assert_eq!(access.companies, ["acme"]);
    browser
        .post(
            "/console/users/grant",
            &[
                ("csrf", &csrf),
                ("user", "anna"),
                ("permission", "privat24/sync-statements"),
            ],
        )
        .await;
    let page = browser.get("/console/users").await;
    assert!(page.body.contains("Refused: "), "{}", page.body);
    assert!(page.body.contains("privat24"), "{}", page.body);
    browser
        .post(
            "/console/users/state",
            &[("csrf", &csrf), ("user", "anna"), ("op", "disable")],
        )
        .await;
    assert!(!fx.host.admin.erp_user("anna").await.expect("user").enabled);

    // The audit log, newest first, by actor and action prefix.
    let page = browser
        .get("/console/audit?actor=api%3Aops&action=erp-user.")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let rows: Vec<&str> = page.body.split("<tr data-entry=").skip(1).collect();
    assert!(rows.len() >= 3, "{}", page.body);
    for row in &rows {
        assert!(row.contains("api:ops"), "{row}");
        assert!(row.contains("<code>erp-user."), "{row}");
    }
    let ids: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.trim_start_matches('"').split('"').next()?.parse().ok())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let page = browser.get("/console/audit?actor=cli%3Anobody").await;
    assert!(page.body.contains("Nothing matches."), "{}", page.body);

    api.stop().await;
    fx.finish().await;
}

on_both_databases!(console_manages_users_keys_and_reads_the_audit);

/// `h2h --json ARGS` over the fixture's database, as user `ops`.
pub fn h2h(fx: &Fixture, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_h2h"))
        .arg("--data-dir")
        .arg(fx.dir.path())
        .arg("--database-url")
        .arg(&fx.database.url)
        .arg("--json")
        .args(args)
        .env("USER", "ops")
        .output()
        .expect("h2h runs")
}

/// Posts an HTTP grant button of privat24's.
async fn grant_op(browser: &mut Browser, csrf: &str, op: &str, value: &str) -> Page {
    let form = [
        ("csrf", csrf),
        ("plugin", "privat24"),
        ("op", op),
        ("value", value),
    ];
    browser.post("/console/access/http", &form).await
}

/// HTTP grants and client TLS identities through the console: a declared
/// origin revoked and restored, a private host forbidden, an identity
/// sealed and a broken one refused with the reason.
async fn console_sets_what_plugins_may_reach(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    crate::privat24_e2e::install(&fx, "http://127.0.0.1:9").await;
    let api = Served::start(&fx).await;
    let mut browser = Browser::new(&api);
    browser.sign_in(&api.admin_key).await;
    let page = browser.get("/console/access").await;
    assert!(
        page.body.contains(r#"data-grant="privat24""#),
        "{}",
        page.body
    );
    assert!(page.body.contains("127.0.0.1:9"), "{}", page.body);
    let csrf = page.csrf();
    let grant = || async { fx.host.admin.http_grant("privat24").await.expect("grant") };
    let declared = grant().await.declared[0].clone();

    grant_op(&mut browser, &csrf, "revoke", &declared).await;
    assert_eq!(grant().await.revoked, std::slice::from_ref(&declared));
    grant_op(&mut browser, &csrf, "restore", &declared).await;
    assert!(grant().await.revoked.is_empty());
    grant_op(&mut browser, &csrf, "forbid", "127.0.0.1:9").await;
    assert!(grant().await.private_hosts.is_empty());

    let pki = h2h_sim_kit::pki::Pki::generate(&h2h_sim_kit::pki::PkiNames {
        ca_common_name: "console TEST CA",
        ca_organization: "h2h test PKI (not a real bank)",
        server_common_name: "acme client",
    })
    .expect("pki");
    let identity = |key: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("company", "acme")
            .text("plugin", "privat24")
            .text("name", "bank-mtls")
            .part(
                "chain",
                reqwest::multipart::Part::text(pki.server_cert_pem().to_owned())
                    .file_name("chain.pem"),
            )
            .part(
                "key",
                reqwest::multipart::Part::text(key.to_owned()).file_name("key.pem"),
            )
    };
    browser
        .multipart("/console/access/identity", identity("not a key"))
        .await;
    let page = browser.get("/console/access").await;
    assert!(page.body.contains("Refused: "), "{}", page.body);
    browser
        .multipart("/console/access/identity", identity(pki.server_key_pem()))
        .await;
    let page = browser.get("/console/access").await;
    assert!(
        page.body
            .contains("Sealed TLS identity `bank-mtls` for privat24 at acme."),
        "{}",
        page.body
    );
    let page = browser.get("/console/companies/acme").await;
    assert!(
        page.body.contains(r#"<tr data-identity="bank-mtls">"#),
        "the company page lists it: {}",
        page.body
    );
    assert!(!page.body.contains("PRIVATE KEY"), "never its key");
    // The command line sees the same vault.
    let listed = h2h(&fx, &["tls-identity", "list", "acme", "privat24"]);
    assert!(listed.status.success(), "{listed:?}");
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert_eq!(listed[0]["name"], "bank-mtls", "{listed}");
    assert!(!listed.to_string().contains("PRIVATE KEY"));
    browser
        .post(
            "/console/companies/acme/identities",
            &[
                ("csrf", &csrf),
                ("plugin", "privat24"),
                ("name", "bank-mtls"),
            ],
        )
        .await;
    let page = browser.get("/console/companies/acme").await;
    assert!(
        page.body
            .contains("Removed TLS identity `bank-mtls` of privat24 at acme."),
        "{}",
        page.body
    );
    assert!(!page.body.contains("data-identity="), "{}", page.body);
    assert!(
        fx.host
            .admin
            .tls_identities("acme", "privat24")
            .await
            .expect("list")
            .is_empty()
    );
    let again = h2h(
        &fx,
        &["tls-identity", "remove", "acme", "privat24", "bank-mtls"],
    );
    assert_eq!(again.status.code(), Some(1));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&again.stdout),
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(
        said.contains("no TLS identity `bank-mtls` is sealed for acme/privat24"),
        "{said}"
    );
    let audit = fx.host.admin.audit(0, 1000).await.expect("audit");
    let sealed: Vec<&str> = audit
        .iter()
        .filter(|e| e.action.starts_with("tls-identity."))
        .map(|e| e.outcome.as_str())
        .collect();
    assert_eq!(
        sealed.len(),
        4,
        "add refused, add, remove, remove again: {sealed:?}"
    );
    assert_ne!(sealed[0], "ok");
    assert_eq!(sealed[1..], ["ok", "ok", "ok"]);

    api.stop().await;
    fx.finish().await;
}

on_both_databases!(console_sets_what_plugins_may_reach);

/// A PKCS#11 token registered from the access page (SoftHSM2): found by
/// its label, listed; a module that is not there refused with the reason.
#[tokio::test]
async fn console_registers_a_token() {
    let Some(hsm) = crate::softhsm::softhsm() else {
        return;
    };
    let Some(fx) = Fixture::new(TestBackend::Sqlite).await else {
        return;
    };
    let api = Served::start(&fx).await;
    let mut browser = Browser::new(&api);
    browser.sign_in(&api.admin_key).await;
    let csrf = browser.get("/console/access").await.csrf();
    let register = |module: &str| {
        [
            ("csrf", csrf.clone()),
            ("name", "console".to_owned()),
            ("module", module.to_owned()),
            ("label", "console".to_owned()),
            ("slot", String::new()),
        ]
    };
    let form = register("/nowhere/libpkcs11.so");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.post("/console/access/tokens", &form).await;
    let page = browser.get("/console/access").await;
    assert!(page.body.contains("Refused: "), "{}", page.body);
    assert!(page.body.contains("/nowhere/libpkcs11.so"), "{}", page.body);

    let form = register(&hsm.module);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.post("/console/access/tokens", &form).await;
    let page = browser.get("/console/access").await;
    assert!(
        page.body
            .contains("Registered token console (`console`, slot"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(r#"<tr data-token="console">"#),
        "{}",
        page.body
    );
    let tokens = fx.host.admin.tokens().await.expect("tokens");
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].token.token_label.as_deref(), Some("console"));
    api.stop().await;
    fx.finish().await;
}
