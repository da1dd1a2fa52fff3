//! Signing in with an admin API key, and out.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::html;
use serde::Deserialize;

use super::layout;
use super::limiter::SignInLimiter;
use super::session::{self, PeerOf, Signed};
use crate::admin::SignInRefusal;
use crate::api::AppState;

/// `?ended=1` after a session ran out.
#[derive(Debug, Deserialize)]
pub struct Ended {
    ended: Option<String>,
}

fn form_page(status: StatusCode, notice: Option<&str>) -> Response {
    let body = html! {
        @if let Some(notice) = notice {
            p.flash.refused role="alert" id="flash" { (notice) }
        }
        form method="post" action="/console/sign-in" {
            label for="key" { "Admin API key" }
            input #key type="password" name="key" autocomplete="off" required autofocus;
            p.hint {
                "An admin key, as " code { "h2h api-key create NAME --role admin" }
                " printed it. The key stays in this host; the browser keeps only a session cookie."
            }
            button type="submit" { "Sign in" }
        }
    };
    (status, layout::bare_with("Sign in", body)).into_response()
}

/// The sign-in form.
pub async fn form(Query(ended): Query<Ended>) -> Response {
    let notice = ended
        .ended
        .map(|_| "Your session ended (idle too long, signed out, or its key was revoked). Sign in again.");
    form_page(StatusCode::OK, notice)
}

/// The form's field.
#[derive(Deserialize)]
pub struct KeyForm {
    key: String,
}

/// A sign-in form posted from another site is refused: its `Origin` must be
/// this host.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        // Browsers send Origin with every form POST; tools may not.
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or_default();
    !host.is_empty() && authority == host
}

/// Exchanges the key for a session cookie.
pub async fn submit(
    State(state): State<AppState>,
    Extension(limiter): Extension<SignInLimiter>,
    peer: PeerOf,
    headers: HeaderMap,
    Form(form): Form<KeyForm>,
) -> Response {
    if !same_origin(&headers) {
        return form_page(
            StatusCode::FORBIDDEN,
            Some("This sign-in was posted from another site and is refused."),
        );
    }
    let ip = peer
        .0
        .map_or(std::net::Ipv4Addr::LOCALHOST.into(), |p| p.addr.ip());
    if let Some(wait) = limiter.wait(ip) {
        let mut response = form_page(
            StatusCode::TOO_MANY_REQUESTS,
            Some(&format!(
                "Too many wrong keys from this address; try again in {} s.",
                wait.as_secs().max(1)
            )),
        );
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(wait.as_secs().max(1)),
        );
        return response;
    }
    match state.admin.open_console_session(form.key.trim()).await {
        Ok(Ok((token, signed))) => {
            tracing::info!(key = %signed.key.name, "console sign-in");
            let tls = peer.tls();
            let mut response = Redirect::to("/console/plugins").into_response();
            if let Ok(value) = HeaderValue::from_str(&session::set_cookie(&token, tls)) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Ok(Err(refusal)) => {
            limiter.failed(ip);
            let notice = match refusal {
                SignInRefusal::UnknownKey => "No API key has this secret.",
                SignInRefusal::NotAdmin => "This is an ERP key; the console needs an admin key.",
            };
            form_page(StatusCode::UNAUTHORIZED, Some(notice))
        }
        Err(e) => layout::failure(&e.to_string()),
    }
}

/// The sign-out form's field.
#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// Ends the session and clears the cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    signed: Signed,
    peer: PeerOf,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(refused) = signed.check(&form.csrf) {
        return refused.into_response();
    }
    if let Err(e) = state
        .admin
        .close_console_session(&signed.session, &signed.token)
        .await
    {
        return layout::failure(&e.to_string());
    }
    let mut response = Redirect::to("/console/sign-in").into_response();
    if let Ok(value) = HeaderValue::from_str(&session::clear_cookie(peer.tls())) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
