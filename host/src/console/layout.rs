//! The frame of every console page: navigation, the service-mode banner,
//! the last action's message, then the page.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::session::Signed;
use crate::api::AppState;
use crate::catalog::ServiceMode;

/// The pages in the navigation, with their paths.
const NAV: [(&str, &str); 10] = [
    ("Plugins", "/console/plugins"),
    ("Companies", "/console/companies"),
    ("Access", "/console/access"),
    ("Tasks", "/console/tasks"),
    ("Sessions", "/console/sessions"),
    ("Terminals", "/console/terminals"),
    ("Events", "/console/events"),
    ("Users", "/console/users"),
    ("Keys", "/console/keys"),
    ("Audit", "/console/audit"),
];

/// `?company=` of the pages that show one company or all.
#[derive(Debug, serde::Deserialize)]
pub struct CompanyQuery {
    /// The company; none or empty: every one (or the page's default).
    pub company: Option<String>,
}

/// What the last action left for the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flash {
    /// It worked: what it did.
    Done(String),
    /// It was refused: the exact reason.
    Refused(String),
}

impl From<Result<String, String>> for Flash {
    fn from(outcome: Result<String, String>) -> Self {
        match outcome {
            Ok(message) => Flash::Done(message),
            Err(reason) => Flash::Refused(reason),
        }
    }
}

impl Flash {
    /// As the session keeps it.
    pub fn store(&self) -> String {
        match self {
            Flash::Done(m) => format!("done\n{m}"),
            Flash::Refused(m) => format!("refused\n{m}"),
        }
    }

    /// From what the session kept.
    pub fn load(stored: &str) -> Self {
        match stored.split_once('\n') {
            Some(("done", m)) => Flash::Done(m.to_owned()),
            Some((_, m)) => Flash::Refused(m.to_owned()),
            None => Flash::Refused(stored.to_owned()),
        }
    }
}

fn head(title: &str, refresh: Option<u32>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            @if let Some(seconds) = refresh {
                meta http-equiv="refresh" content=(seconds);
            }
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · h2h console" }
            link rel="stylesheet" href="/console/assets/console.css";
            script src="/console/assets/console.js" defer {}
        }
    }
}

/// A page of the signed-in console under the navigation entry `nav`, with
/// service mode as it is now.
pub async fn render(
    state: &AppState,
    nav: &str,
    title: &str,
    signed: &Signed,
    body: Markup,
) -> Response {
    match state.admin.service_mode().await {
        Ok(mode) => page(nav, title, signed, &mode, body),
        Err(e) => failure(&e.to_string()),
    }
}

/// A page of the signed-in console, under the navigation entry `nav`.
pub fn page(nav: &str, title: &str, signed: &Signed, mode: &ServiceMode, body: Markup) -> Response {
    page_with(nav, title, signed, mode, body, None)
}

/// [`render`] for a page that reloads itself every `seconds`.
pub async fn render_reloading(
    state: &AppState,
    nav: &str,
    title: &str,
    signed: &Signed,
    body: Markup,
    seconds: u32,
) -> Response {
    match state.admin.service_mode().await {
        Ok(mode) => page_with(nav, title, signed, &mode, body, Some(seconds)),
        Err(e) => failure(&e.to_string()),
    }
}

fn page_with(
    nav: &str,
    title: &str,
    signed: &Signed,
    mode: &ServiceMode,
    body: Markup,
    refresh: Option<u32>,
) -> Response {
    let flash = signed.flash.as_deref().map(Flash::load);
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, refresh))
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    span.brand { "h2h" }
                    nav aria-label="Console" {
                        ul {
                            @for (name, path) in NAV {
                                li {
                                    @if name == nav {
                                        a href=(path) aria-current="page" { (name) }
                                    } @else {
                                        a href=(path) { (name) }
                                    }
                                }
                            }
                        }
                    }
                    form.sign-out method="post" action="/console/sign-out" {
                        input type="hidden" name="csrf" value=(signed.session.csrf);
                        span.who { "Signed in as " strong { (signed.session.key.name) } }
                        button type="submit" { "Sign out" }
                    }
                }
                @if mode.active {
                    div.banner.service-mode role="status" id="service-mode" {
                        strong { "Service mode is on" }
                        " since " (mode.since.as_deref().unwrap_or("?"))
                        " (" (mode.reason) ", by " (mode.actor) "): the ERP API answers 503 until it ends."
                    }
                }
                @match &flash {
                    Some(Flash::Done(message)) => {
                        div.flash.done role="status" id="flash" { (message) }
                    }
                    Some(Flash::Refused(reason)) => {
                        div.flash.refused role="alert" id="flash" { strong { "Refused: " } (reason) }
                    }
                    None => {}
                }
                main id="main" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    Html(markup.into_string()).into_response()
}

/// A page outside the signed-in console (sign-in, refusals).
pub fn bare(title: &str, message: &str) -> Html<String> {
    bare_with(title, html! { p { (message) } })
}

/// A page outside the signed-in console with `body`.
pub fn bare_with(title: &str, body: Markup) -> Html<String> {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, None))
            body.bare {
                main id="main" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    Html(markup.into_string())
}

/// 500 with the reason, for a failure of the host itself.
pub fn failure(reason: &str) -> Response {
    tracing::error!(%reason, "console page failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        bare("Something failed", reason),
    )
        .into_response()
}

/// 404 inside the console.
pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        bare_with(
            "Not found",
            html! { p { "No such console page. " a href="/console/plugins" { "Plugins" } } },
        ),
    )
        .into_response()
}
