//! The signed-in session a page acts in: found from the cookie, else the
//! browser is sent to sign in. Forms carry the session's CSRF token, and
//! [`Signed::check`] refuses any other.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};

use super::layout;
use crate::admin::ConsoleSession;
use crate::api::AppState;
use crate::serve::transport::Peer;

/// The session cookie's name.
pub const COOKIE: &str = "h2h_console";

/// A request from a signed-in browser.
pub struct Signed {
    /// The session.
    pub session: ConsoleSession,
    /// The cookie's token.
    pub token: String,
    /// The message the last action left, on pages (GET) only.
    pub flash: Option<String>,
}

/// The session cookie's token, if the request has one.
pub fn token(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == COOKIE)
        .map(|cookie| cookie.value().to_owned())
        .filter(|token| !token.is_empty())
}

/// The peer of the request, when served over a socket (not in-process).
pub struct PeerOf(pub Option<Peer>);

impl<S: Send + Sync> FromRequestParts<S> for PeerOf {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<Peer>>()
                .map(|c| c.0),
        ))
    }
}

impl PeerOf {
    /// Whether the request came over TLS (the cookie is then `Secure`).
    pub fn tls(&self) -> bool {
        self.0.is_some_and(|p| p.tls)
    }
}

/// `Set-Cookie` for `token`: HttpOnly, SameSite=Strict, the console's path
/// only, Secure over TLS; no expiry, so it ends with the browser too.
pub fn set_cookie(token: &str, tls: bool) -> String {
    Cookie::build((COOKIE, token.to_owned()))
        .path(super::BASE)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(tls)
        .build()
        .to_string()
}

/// `Set-Cookie` that removes the cookie.
pub fn clear_cookie(tls: bool) -> String {
    let mut cookie = Cookie::build((COOKIE, ""))
        .path(super::BASE)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(tls)
        .build();
    cookie.make_removal();
    cookie.to_string()
}

/// To the sign-in page, saying the session ended when there was one.
fn to_sign_in(ended: bool) -> Response {
    let target = if ended {
        "/console/sign-in?ended=1"
    } else {
        "/console/sign-in"
    };
    Redirect::to(target).into_response()
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(token) = token(parts) else {
            return Err(to_sign_in(false));
        };
        let session = match state.admin.console_session(&token).await {
            Ok(Some(session)) => session,
            Ok(None) => return Err(to_sign_in(true)),
            Err(e) => return Err(layout::failure(&e.to_string())),
        };
        let flash = if parts.method == Method::GET {
            state.admin.take_console_flash(&token).await.ok().flatten()
        } else {
            None
        };
        Ok(Self {
            session,
            token,
            flash,
        })
    }
}

impl Signed {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check(&self, sent: &str) -> Result<(), CsrfRefused> {
        let expected = self.session.csrf.as_bytes();
        let sent = sent.as_bytes();
        // Compared in full whatever the first difference, so timing says
        // nothing about the token.
        let same = expected.len() == sent.len()
            && expected
                .iter()
                .zip(sent)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same { Ok(()) } else { Err(CsrfRefused) }
    }

    /// Leaves what an action did (or why it was refused) for the next page
    /// and sends the browser there.
    pub async fn done(
        &self,
        state: &AppState,
        outcome: Result<String, String>,
        to: &str,
    ) -> Response {
        let flash = layout::Flash::from(outcome).store();
        if let Err(e) = state.admin.set_console_flash(&self.token, &flash).await {
            return layout::failure(&e.to_string());
        }
        Redirect::to(to).into_response()
    }
}

/// A form that did not carry its session's CSRF token: 403, nothing done.
#[derive(Debug)]
pub struct CsrfRefused;

impl IntoResponse for CsrfRefused {
    fn into_response(self) -> Response {
        (
            StatusCode::FORBIDDEN,
            layout::bare(
                "Form refused",
                "This form was not sent from this console session (the CSRF check failed): \
                 reload the page and try again.",
            ),
        )
            .into_response()
    }
}
