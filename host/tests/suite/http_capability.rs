//! The HTTP capability through a real plugin (well-behaved's `fetch` task)
//! against real servers on loopback: allow-list, address checks on literal
//! and resolved addresses, redirects, time and size limits, concurrency,
//! client TLS identities, and what gets logged.

use crate::common;
use std::collections::BTreeMap;
use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::{company, host, stored, wasm};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use h2h_host::capabilities::Grants;
use h2h_host::capabilities::http::{ClientIdentity, HttpGrant, HttpLimits};
use h2h_host::packages::origin::AllowedOrigin;
use h2h_host::runtime::{CallContext, CallError, Limits};
use h2h_test_plugins::WELL_BEHAVED;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------------------------------------------------------------- servers

/// A bank on loopback. `away` is where `/away` redirects.
#[derive(Clone, Default)]
struct Bank {
    away: String,
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

fn bank_routes(bank: Bank) -> Router {
    Router::new()
        .route("/hello", get(|| async { ([("x-echo", "hello")], "hello") }))
        .route("/echo", any(echo))
        .route(
            "/away",
            any(|State(bank): State<Bank>| async move {
                (StatusCode::FOUND, [(header::LOCATION, bank.away)])
            }),
        )
        .route(
            "/see-other",
            any(|| async { (StatusCode::SEE_OTHER, [(header::LOCATION, "/echo")]) }),
        )
        .route(
            "/temporary",
            any(|| async {
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(header::LOCATION, "/echo")],
                )
            }),
        )
        .route(
            "/loop",
            any(|| async { (StatusCode::FOUND, [(header::LOCATION, "/loop")]) }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                "late"
            }),
        )
        .route("/busy", get(busy))
        .route("/big", get(|| async { vec![b'x'; 2000] }))
        .with_state(bank)
}

/// Answers `<method> <content-type> <body>`, and sends back the `x-token`
/// and `authorization` request headers as `x-seen-token` and `x-seen-auth`.
async fn echo(method: Method, headers: HeaderMap, body: String) -> impl IntoResponse {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned()
    };
    (
        [
            ("x-seen-token", text("x-token")),
            ("x-seen-auth", text("authorization")),
        ],
        format!("{method} {} {body}", text("content-type")),
    )
}

/// Counts requests in flight and remembers the most seen at once.
async fn busy(State(bank): State<Bank>) -> &'static str {
    let now = bank.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    bank.peak.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;
    bank.in_flight.fetch_sub(1, Ordering::SeqCst);
    "done"
}

async fn listener() -> (tokio::net::TcpListener, u16) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// Serves `bank` on 127.0.0.1; returns the port.
async fn serve(bank: Bank) -> u16 {
    let (listener, port) = listener().await;
    tokio::spawn(async move { axum::serve(listener, bank_routes(bank)).await.unwrap() });
    port
}

/// A server that answers every connection with 200 and `size` bytes of
/// body without `Content-Length`, ending the body by closing.
async fn serve_unsized(size: usize) -> u16 {
    let (listener, port) = listener().await;
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let mut answer = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
                answer.extend(std::iter::repeat_n(b'y', size));
                let _ = socket.write_all(&answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    port
}

// ---------------------------------------------------------------- the host

fn origin(text: &str) -> AllowedOrigin {
    AllowedOrigin::parse(text).unwrap()
}

/// A grant for `http://127.0.0.1:<port>` of each port, each also allowed
/// to be loopback.
fn loopback_grant(ports: &[u16]) -> HttpGrant {
    let origins = ports
        .iter()
        .map(|p| origin(&format!("http://127.0.0.1:{p}")))
        .collect();
    ports.iter().fold(HttpGrant::new(origins), |grant, p| {
        grant.with_private_host(&format!("127.0.0.1:{p}")).unwrap()
    })
}

fn limits() -> Limits {
    Limits {
        deadline: Duration::from_secs(10),
        ..Limits::default()
    }
}

fn context(settings: &[(&str, &str)]) -> CallContext {
    CallContext {
        settings: settings
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        ..company("acme")
    }
}

struct Harness {
    host: common::Host,
    plugin: h2h_host::runtime::Plugin,
}

fn harness(grant: HttpGrant, limits: Limits) -> Harness {
    let host = host(limits);
    let plugin = host
        .runtime
        .load(
            "well-behaved",
            &wasm(WELL_BEHAVED),
            Grants {
                http: grant,
                ..Grants::default()
            },
        )
        .unwrap();
    Harness { host, plugin }
}

impl Harness {
    /// Runs `fetch` with these settings and returns what it stored.
    async fn fetch(&self, settings: &[(&str, &str)]) -> Value {
        self.plugin
            .run_task(context(settings), "fetch")
            .await
            .unwrap();
        let bytes = stored(&self.host, "well-behaved", Some("acme"), "fetch")
            .await
            .expect("fetch stored its outcome");
        serde_json::from_slice(&bytes).unwrap()
    }
}

fn denied(detail: &str) -> Value {
    json!({ "error": { "kind": "denied", "detail": detail } })
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn an_allowed_get_round_trips_status_headers_and_body() {
    let port = serve(Bank::default()).await;
    let h = harness(loopback_grant(&[port]), limits());

    let url = format!("http://127.0.0.1:{port}/hello");
    let fetched = h
        .fetch(&[("url", &url), ("response-headers", "x-echo,content-type")])
        .await;

    assert_eq!(
        fetched,
        json!({ "response": {
            "status": 200,
            "headers": [["x-echo", "hello"], ["content-type", "text/plain; charset=utf-8"]],
            "body": "hello",
        }})
    );
}

#[tokio::test]
async fn a_post_carries_its_body_and_headers() {
    let port = serve(Bank::default()).await;
    let h = harness(loopback_grant(&[port]), limits());

    let url = format!("http://127.0.0.1:{port}/echo");
    let fetched = h
        .fetch(&[
            ("url", &url),
            ("method", "POST"),
            ("body", "{\"amount\":\"12.50\"}"),
            ("headers", "Content-Type: application/json\nX-Token: t-1"),
            ("response-headers", "x-seen-token"),
        ])
        .await;

    assert_eq!(
        fetched,
        json!({ "response": {
            "status": 200,
            "headers": [["x-seen-token", "t-1"]],
            "body": "POST application/json {\"amount\":\"12.50\"}",
        }})
    );
}

#[tokio::test]
async fn a_url_outside_the_allow_list_is_denied() {
    let port = serve(Bank::default()).await;
    let h = harness(loopback_grant(&[port]), limits());

    let fetched = h.fetch(&[("url", "https://evil.example")]).await;

    assert_eq!(
        fetched,
        denied(&format!(
            "https://evil.example/: not in this plugin's allow-list (http://127.0.0.1:{port})"
        ))
    );
}

#[tokio::test]
async fn the_default_grant_denies_everything() {
    let h = harness(HttpGrant::default(), limits());

    let fetched = h.fetch(&[("url", "https://bank.example/x?a=1")]).await;

    assert_eq!(
        fetched,
        denied("https://bank.example/x?a=***: this plugin has no HTTP grant")
    );
}

#[tokio::test]
async fn a_redirect_to_an_origin_outside_the_allow_list_is_denied() {
    let other = serve(Bank::default()).await;
    let port = serve(Bank {
        away: format!("http://127.0.0.1:{other}/hello"),
        ..Bank::default()
    })
    .await;
    let h = harness(loopback_grant(&[port]), limits());

    let url = format!("http://127.0.0.1:{port}/away");
    let fetched = h.fetch(&[("url", &url)]).await;

    assert_eq!(
        fetched,
        denied(&format!(
            "http://127.0.0.1:{other}/hello (redirected from http://127.0.0.1:{port}/away): \
             not in this plugin's allow-list (http://127.0.0.1:{port})"
        ))
    );
}

#[tokio::test]
async fn a_redirect_to_an_allowed_origin_is_followed() {
    let other = serve(Bank::default()).await;
    let port = serve(Bank {
        away: format!("http://127.0.0.1:{other}/hello"),
        ..Bank::default()
    })
    .await;
    let h = harness(loopback_grant(&[port, other]), limits());

    let url = format!("http://127.0.0.1:{port}/away");
    let fetched = h
        .fetch(&[("url", &url), ("response-headers", "x-echo")])
        .await;

    assert_eq!(
        fetched,
        json!({ "response": { "status": 200, "headers": [["x-echo", "hello"]], "body": "hello" } })
    );
}

#[tokio::test]
async fn a_redirect_to_an_allowed_origin_is_still_checked_for_its_address() {
    let other = serve(Bank::default()).await;
    let port = serve(Bank {
        away: format!("http://127.0.0.1:{other}/hello"),
        ..Bank::default()
    })
    .await;
    // `other` is allowed, but not as a loopback address.
    let grant = HttpGrant::new(vec![
        origin(&format!("http://127.0.0.1:{port}")),
        origin(&format!("http://127.0.0.1:{other}")),
    ])
    .with_private_host(&format!("127.0.0.1:{port}"))
    .unwrap();
    let h = harness(grant, limits());

    let url = format!("http://127.0.0.1:{port}/away");
    let fetched = h.fetch(&[("url", &url)]).await;

    assert_eq!(
        fetched,
        denied(&format!(
            "http://127.0.0.1:{other}/hello (redirected from http://127.0.0.1:{port}/away): \
             127.0.0.1 is a loopback address; the admin has not allowed 127.0.0.1:{other} \
             for this plugin"
        ))
    );
}

#[tokio::test]
async fn see_other_turns_a_post_into_a_get_and_307_keeps_it() {
    let port = serve(Bank::default()).await;
    let h = harness(loopback_grant(&[port]), limits());

    let see_other = format!("http://127.0.0.1:{port}/see-other");
    let fetched = h
        .fetch(&[("url", &see_other), ("method", "POST"), ("body", "b=1")])
        .await;
    assert_eq!(fetched["response"]["body"], "GET - ");

    let temporary = format!("http://127.0.0.1:{port}/temporary");
    let fetched = h
        .fetch(&[("url", &temporary), ("method", "POST"), ("body", "b=1")])
        .await;
    assert_eq!(fetched["response"]["body"], "POST - b=1");
}

#[tokio::test]
async fn credentials_follow_a_redirect_only_within_the_origin() {
    let other = serve(Bank::default()).await;
    let port = serve(Bank {
        away: format!("http://127.0.0.1:{other}/echo"),
        ..Bank::default()
    })
    .await;
    let h = harness(loopback_grant(&[port, other]), limits());
    let headers = "Authorization: Bearer t-1\nX-Token: t-2";

    let same_origin = format!("http://127.0.0.1:{port}/temporary");
    let fetched = h
        .fetch(&[
            ("url", &same_origin),
            ("headers", headers),
            ("response-headers", "x-seen-auth,x-seen-token"),
        ])
        .await;
    assert_eq!(
        fetched["response"]["headers"],
        json!([["x-seen-auth", "Bearer t-1"], ["x-seen-token", "t-2"]])
    );

    let elsewhere = format!("http://127.0.0.1:{port}/away");
    let fetched = h
        .fetch(&[
            ("url", &elsewhere),
            ("headers", headers),
            ("response-headers", "x-seen-auth,x-seen-token"),
        ])
        .await;
    assert_eq!(
        fetched["response"]["headers"],
        json!([["x-seen-auth", "-"], ["x-seen-token", "t-2"]])
    );
}

#[tokio::test]
async fn redirects_stop_after_the_limit() {
    let port = serve(Bank::default()).await;
    let h = harness(loopback_grant(&[port]), limits());

    let url = format!("http://127.0.0.1:{port}/loop");
    let fetched = h.fetch(&[("url", &url)]).await;

    assert_eq!(
        fetched,
        json!({ "error": {
            "kind": "connection",
            "detail": format!("http://127.0.0.1:{port}/loop: stopped after 5 redirects"),
        }})
    );
}

/// A server that reads the request, then drops the connection unanswered.
async fn serve_hang_up() -> u16 {
    let (listener, port) = listener().await;
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            drop(socket);
        }
    });
    port
}

#[tokio::test]
async fn a_request_that_never_left_is_not_sent_and_one_that_did_is_a_connection_error() {
    // A closed port: nothing reached a server, so a payment order may be
    // sent again safely.
    let closed = {
        let (listener, port) = listener().await;
        drop(listener);
        port
    };
    let hang_up = serve_hang_up().await;
    let h = harness(loopback_grant(&[closed, hang_up]), limits());

    let url = format!("http://127.0.0.1:{closed}/payment");
    let fetched = h.fetch(&[("url", &url), ("method", "POST")]).await;
    assert_eq!(fetched["error"]["kind"], "not-sent", "{fetched}");

    // The server read the request before hanging up: it may have acted.
    let url = format!("http://127.0.0.1:{hang_up}/payment");
    let fetched = h.fetch(&[("url", &url), ("method", "POST")]).await;
    assert_eq!(fetched["error"]["kind"], "connection", "{fetched}");
}

#[tokio::test]
async fn loopback_is_denied_unless_the_admin_allowed_that_host_and_port() {
    let port = serve(Bank::default()).await;
    let url = format!("http://127.0.0.1:{port}/hello");
    let allow_list = vec![origin(&format!("http://127.0.0.1:{port}"))];

    let h = harness(HttpGrant::new(allow_list.clone()), limits());
    assert_eq!(
        h.fetch(&[("url", &url)]).await,
        denied(&format!(
            "http://127.0.0.1:{port}/hello: 127.0.0.1 is a loopback address; \
             the admin has not allowed 127.0.0.1:{port} for this plugin"
        ))
    );

    // Another port of the same host does not count.
    let other_port = HttpGrant::new(allow_list.clone())
        .with_private_host(&format!("127.0.0.1:{}", port.wrapping_add(1).max(1)))
        .unwrap();
    let h = harness(other_port, limits());
    assert_eq!(h.fetch(&[("url", &url)]).await["error"]["kind"], "denied");

    let exact = HttpGrant::new(allow_list)
        .with_private_host(&format!("127.0.0.1:{port}"))
        .unwrap();
    let h = harness(exact, limits());
    assert_eq!(h.fetch(&[("url", &url)]).await["response"]["status"], 200);
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_denied_on_the_resolved_address() {
    let port = serve(Bank::default()).await;
    let url = format!("http://localhost:{port}/hello");
    let allow_list = vec![origin(&format!("http://localhost:{port}"))];

    let h = harness(HttpGrant::new(allow_list.clone()), limits());
    let fetched = h.fetch(&[("url", &url)]).await;
    let detail = fetched["error"]["detail"].as_str().unwrap_or_default();
    let expected = |address: &str| {
        format!(
            "http://localhost:{port}/hello: localhost resolves to {address}, a loopback \
             address; the admin has not allowed localhost:{port} for this plugin"
        )
    };
    assert_eq!(fetched["error"]["kind"], "denied", "{fetched}");
    assert!(
        detail == expected("127.0.0.1") || detail == expected("::1"),
        "{detail}"
    );

    let allowed = HttpGrant::new(allow_list)
        .with_private_host(&format!("localhost:{port}"))
        .unwrap();
    let h = harness(allowed, limits());
    assert_eq!(h.fetch(&[("url", &url)]).await["response"]["body"], "hello");
}

#[tokio::test]
async fn a_slow_server_times_out_within_the_request_timeout() {
    let port = serve(Bank::default()).await;
    let h = harness(loopback_grant(&[port]), limits());

    let url = format!("http://127.0.0.1:{port}/slow");
    let started = Instant::now();
    let fetched = h.fetch(&[("url", &url), ("timeout-ms", "200")]).await;
    let took = started.elapsed();

    assert_eq!(
        fetched,
        json!({ "error": { "kind": "timeout", "detail": null } })
    );
    assert!(took >= Duration::from_millis(200), "{took:?}");
    assert!(took < Duration::from_millis(2500), "{took:?}");
}

#[tokio::test]
async fn no_request_outlives_the_call_deadline() {
    let port = serve(Bank::default()).await;
    // The request asks for 30 s (the default); the call has 1 s.
    let h = harness(
        loopback_grant(&[port]),
        Limits {
            deadline: Duration::from_secs(1),
            ..Limits::default()
        },
    );

    let url = format!("http://127.0.0.1:{port}/slow");
    let started = Instant::now();
    let error = h
        .plugin
        .run_task(context(&[("url", &url)]), "fetch")
        .await
        .unwrap_err();
    let took = started.elapsed();

    assert!(
        matches!(error, CallError::DeadlineExceeded { .. }),
        "{error:?}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn a_response_over_the_cap_is_too_large_whether_or_not_it_has_a_length() {
    let sized = serve(Bank::default()).await;
    let unsized_port = serve_unsized(2000).await;
    let cap = HttpLimits {
        max_response_bytes: 1024,
        ..HttpLimits::default()
    };
    let h = harness(
        loopback_grant(&[sized, unsized_port]).with_limits(cap),
        limits(),
    );
    let too_large = json!({ "error": { "kind": "too-large", "detail": "1024" } });

    let url = format!("http://127.0.0.1:{sized}/big");
    assert_eq!(h.fetch(&[("url", &url)]).await, too_large);

    let url = format!("http://127.0.0.1:{unsized_port}/");
    assert_eq!(h.fetch(&[("url", &url)]).await, too_large);
    // A HEAD answer announces the length of a body it does not send.
    let url = format!("http://127.0.0.1:{sized}/big");
    let fetched = h
        .fetch(&[
            ("url", &url),
            ("method", "HEAD"),
            ("response-headers", "content-length"),
        ])
        .await;
    assert_eq!(
        fetched,
        json!({ "response": { "status": 200, "headers": [["content-length", "2000"]], "body": "" } })
    );
}

#[tokio::test]
async fn a_response_at_the_cap_is_accepted() {
    let unsized_port = serve_unsized(1024).await;
    let cap = HttpLimits {
        max_response_bytes: 1024,
        ..HttpLimits::default()
    };
    let h = harness(loopback_grant(&[unsized_port]).with_limits(cap), limits());

    let url = format!("http://127.0.0.1:{unsized_port}/");
    let fetched = h.fetch(&[("url", &url)]).await;
    assert_eq!(fetched["response"]["body"], "y".repeat(1024));
}

#[tokio::test]
async fn an_unknown_client_certificate_is_refused() {
    let port = serve(Bank::default()).await;
    let h = harness(loopback_grant(&[port]), limits());

    let url = format!("http://127.0.0.1:{port}/hello");
    let fetched = h
        .fetch(&[("url", &url), ("client-certificate", "pko-communication")])
        .await;

    assert_eq!(
        fetched,
        json!({ "error": { "kind": "unknown-certificate", "detail": "pko-communication" } })
    );
}

#[tokio::test]
async fn headers_the_host_owns_are_invalid() {
    let port = serve(Bank::default()).await;
    let h = harness(loopback_grant(&[port]), limits());

    let url = format!("http://127.0.0.1:{port}/hello");
    let fetched = h
        .fetch(&[("url", &url), ("headers", "Host: intranet.example")])
        .await;

    assert_eq!(
        fetched,
        json!({ "error": { "kind": "invalid-request", "detail": "header `Host` is set by the host" } })
    );
}

#[tokio::test]
async fn requests_beyond_the_concurrency_limit_wait_their_turn() {
    let bank = Bank::default();
    let peak = bank.peak.clone();
    let port = serve(bank).await;
    let one_at_a_time = HttpLimits {
        max_concurrent: 1,
        ..HttpLimits::default()
    };
    let h = harness(loopback_grant(&[port]).with_limits(one_at_a_time), limits());

    let url = format!("http://127.0.0.1:{port}/busy");
    let started = Instant::now();
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let plugin = h.plugin.clone();
            let ctx = context(&[("url", &url)]);
            tokio::spawn(async move { plugin.run_task(ctx, "fetch").await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }

    assert_eq!(peak.load(Ordering::SeqCst), 1);
    assert!(started.elapsed() >= Duration::from_millis(900));
}

// ---------------------------------------------------------------- logging

/// Set in the child process that [`log_probe`] runs in.
const LOG_PROBE: &str = "H2H_HTTP_LOG_PROBE";

/// tracing decides per callsite, process-wide, whether anyone listens, and
/// the other tests of this binary hit the same callsites from other threads
/// at the same time; so the logging check runs alone, in a child process of
/// this test binary, and reads what it printed.
#[test]
fn each_request_is_logged_without_credentials() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &probe_name!("log_probe"),
            "--nocapture",
            "--test-threads=1",
        ])
        .env(LOG_PROBE, "1")
        .output()
        .unwrap();
    let logs = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{logs}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let port = logs
        .lines()
        .find_map(|l| l.strip_prefix("probe port "))
        .unwrap_or_else(|| panic!("the probe did not run:\n{logs}"));

    let line = logs
        .lines()
        .find(|l| l.contains("INFO h2h::http: HTTP request "))
        .unwrap_or_else(|| panic!("no request line in:\n{logs}"));
    for part in [
        "plugin=well-behaved",
        "method=POST",
        "host=127.0.0.1",
        &format!("url=http://127.0.0.1:{port}/echo?account=***&token=***"),
        "status=200",
        "duration_ms=",
    ] {
        assert!(line.contains(part), "`{part}` missing from: {line}");
    }
    assert!(
        logs.contains(r#"headers=["Authorization: ***", "Cookie: ***", "X-Api-Key: ***", "Accept: text/plain"]"#),
        "{logs}"
    );
    assert!(
        !logs.contains("s3cret"),
        "a secret leaked into the logs:\n{logs}"
    );
}

/// The request [`each_request_is_logged_without_credentials`] checks, made
/// in its child process with every log line at debug and above printed.
/// Does nothing when run as an ordinary test.
#[tokio::test]
async fn log_probe() {
    if std::env::var_os(LOG_PROBE).is_none() {
        return;
    }
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(std::io::stdout)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let port = serve(Bank::default()).await;
    let h = harness(loopback_grant(&[port]), limits());
    println!("probe port {port}");

    let url = format!("http://127.0.0.1:{port}/echo?account=PL61&token=s3cret-q");
    let fetched = h
        .fetch(&[
            ("url", &url),
            ("method", "POST"),
            ("body", "s3cret-body"),
            (
                "headers",
                "Authorization: Bearer s3cret-a\nCookie: s=s3cret-c\nX-Api-Key: s3cret-k\nAccept: text/plain",
            ),
        ])
        .await;
    assert_eq!(fetched["response"]["status"], 200);
}

// ---------------------------------------------------------------- TLS

/// Test certificates made by the `openssl` CLI: a CA, a server certificate
/// for 127.0.0.1 and a client certificate, all signed by the CA.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }
}

fn openssl(dir: &std::path::Path, args: &[&str]) -> bool {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The certificates, or none when the `openssl` CLI is missing.
fn make_pki() -> Option<Pki> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    std::fs::write(
        d.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    std::fs::write(
        d.join("client.ext"),
        "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
    )
    .unwrap();
    let ok = openssl(
        d,
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=h2h test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat(),
    );
    if !ok {
        return None;
    }
    for (who, cn) in [("server", "127.0.0.1"), ("client", "h2h-test-client")] {
        let key = format!("{who}.key");
        let csr = format!("{who}.csr");
        let pem = format!("{who}.pem");
        let ext = format!("{who}.ext");
        let subject = format!("/CN={cn}");
        assert!(openssl(
            d,
            &[
                &["req"][..],
                &ec,
                &["-keyout", &key, "-out", &csr, "-subj", &subject]
            ]
            .concat()
        ));
        assert!(openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "2",
                "-extfile",
                &ext,
            ]
        ));
    }
    Some(Pki { dir })
}

/// `openssl s_server` requiring a client certificate from the CA; its
/// `-www` page shows the client certificate it received.
struct TlsServer {
    child: Child,
    port: u16,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tls_server(pki: &Pki) -> TlsServer {
    let port = StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("openssl")
        .args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
        .args([
            "-cert",
            "server.pem",
            "-key",
            "server.key",
            "-CAfile",
            "ca.pem",
        ])
        .args(["-Verify", "1", "-www", "-quiet"])
        .current_dir(pki.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "s_server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    TlsServer { child, port }
}

#[tokio::test]
async fn a_client_identity_is_presented_to_a_server_that_requires_one() {
    let Some(pki) = make_pki() else {
        eprintln!("skipped: the openssl CLI is not available to make test certificates");
        return;
    };
    let server = tls_server(&pki);
    let identity =
        ClientIdentity::from_pem(&pki.read("client.pem"), &pki.read("client.key")).unwrap();
    let grant = HttpGrant::new(vec![origin(&format!("https://127.0.0.1:{}", server.port))])
        .with_private_host(&format!("127.0.0.1:{}", server.port))
        .unwrap()
        .with_extra_ca(&pki.read("ca.pem"))
        .unwrap()
        .with_identity("pko-communication", identity);
    let debug = format!("{grant:?}");
    let key_pem = String::from_utf8(pki.read("client.key")).unwrap();
    let key_line = key_pem.lines().nth(1).unwrap();
    assert!(!debug.contains(key_line), "{debug}");
    let h = harness(grant, limits());
    let url = format!("https://127.0.0.1:{}/", server.port);

    let fetched = h
        .fetch(&[("url", &url), ("client-certificate", "pko-communication")])
        .await;
    assert_eq!(fetched["response"]["status"], 200, "{fetched}");
    let page = fetched["response"]["body"].as_str().unwrap();
    assert!(page.contains("Client certificate"), "{page}");
    assert!(page.contains("Subject: CN=h2h-test-client"), "{page}");

    // Without the identity the server refuses the handshake.
    let fetched = h.fetch(&[("url", &url)]).await;
    assert_eq!(fetched["error"]["kind"], "connection", "{fetched}");
}

#[test]
fn broken_identities_and_cas_are_refused_when_configured() {
    let error = ClientIdentity::from_pem(b"not pem", b"not pem").unwrap_err();
    assert_eq!(
        error.to_string(),
        "client identity: the certificate chain holds no certificate"
    );
    let error = HttpGrant::default().with_extra_ca(b"").unwrap_err();
    assert_eq!(
        error.to_string(),
        "extra CA certificates: no certificate in the PEM"
    );
    let error = HttpGrant::default()
        .with_private_host("bank.local")
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "private host `bank.local` must be written host:port (port 1-65535)"
    );
}

#[tokio::test]
async fn a_companys_own_identity_is_presented_and_no_other_companys() {
    let Some(pki) = make_pki() else {
        eprintln!("skipped: the openssl CLI is not available to make test certificates");
        return;
    };
    let server = tls_server(&pki);
    let grant = HttpGrant::new(vec![origin(&format!("https://127.0.0.1:{}", server.port))])
        .with_private_host(&format!("127.0.0.1:{}", server.port))
        .unwrap()
        .with_extra_ca(&pki.read("ca.pem"))
        .unwrap();
    let h = harness(grant, limits());
    let url = format!("https://127.0.0.1:{}/", server.port);
    let settings = [
        ("url", url.as_str()),
        ("client-certificate", "pko-communication"),
    ];

    // acme's call carries acme's identity (as the vault hands it over).
    let identity =
        ClientIdentity::from_pem(&pki.read("client.pem"), &pki.read("client.key")).unwrap();
    let mut acme = context(&settings);
    acme.tls_identities
        .insert("pko-communication".to_owned(), identity);
    h.plugin.run_task(acme, "fetch").await.unwrap();
    let bytes = stored(&h.host, "well-behaved", Some("acme"), "fetch")
        .await
        .unwrap();
    let fetched: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(fetched["response"]["status"], 200, "{fetched}");

    // globex's call does not see it, though the plugin is the same.
    let globex = CallContext {
        company_id: Some("globex".to_owned()),
        ..context(&settings)
    };
    h.plugin.run_task(globex, "fetch").await.unwrap();
    let bytes = stored(&h.host, "well-behaved", Some("globex"), "fetch")
        .await
        .unwrap();
    let fetched: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        fetched,
        json!({ "error": { "kind": "unknown-certificate", "detail": "pko-communication" } })
    );
}
