//! The account's JWTs (`token/`, `token/refresh`). They are kept in the
//! plugin's storage, which the host scopes to this plugin and the company of
//! the call, so each company logs in with its own account and calls share
//! the tokens instead of logging in every time. They are never logged.

use h2h_sdk::{Error, Result, storage};
use serde::{Deserialize, Serialize};

use crate::api::Client;

/// Storage key of the company's tokens.
const KEY: &str = "webecr/jwt";

/// An access token and the refresh token that renews it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// `access`: sent as `Authorization: Bearer`.
    pub access: String,
    /// `refresh`: exchanged at `token/refresh` for a new access token.
    pub refresh: String,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(***)")
    }
}

#[derive(Deserialize)]
struct LoginAnswer {
    access: Option<String>,
    refresh: Option<String>,
}

/// `token/`'s answer: `{"access", "refresh"}`.
pub fn parse_login(body: &[u8]) -> Result<Tokens> {
    let answer: LoginAnswer = serde_json::from_slice(body)
        .map_err(|_| Error::protocol("WebECR's login answer is not the expected JSON"))?;
    match (answer.access, answer.refresh) {
        (Some(access), Some(refresh)) if !access.is_empty() && !refresh.is_empty() => {
            Ok(Tokens { access, refresh })
        }
        _ => Err(Error::protocol(
            "WebECR's login answer lacks `access` or `refresh`",
        )),
    }
}

/// `token/refresh`'s answer: `{"access"}`, and a new `refresh` when the
/// service rotates them.
pub fn parse_refresh(body: &[u8], previous: &Tokens) -> Result<Tokens> {
    let answer: LoginAnswer = serde_json::from_slice(body)
        .map_err(|_| Error::protocol("WebECR's refresh answer is not the expected JSON"))?;
    let access = answer
        .access
        .filter(|a| !a.is_empty())
        .ok_or_else(|| Error::protocol("WebECR's refresh answer lacks `access`"))?;
    Ok(Tokens {
        access,
        refresh: answer
            .refresh
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| previous.refresh.clone()),
    })
}

/// The stored tokens, or new ones from a login.
pub fn current(client: &Client) -> Result<Tokens> {
    // Unreadable stored tokens (another version's shape) are simply
    // replaced.
    if let Ok(Some(tokens)) = storage::get::<Tokens>(KEY) {
        return Ok(tokens);
    }
    let tokens = client.login()?;
    storage::set(KEY, &tokens)?;
    Ok(tokens)
}

/// New tokens after a 401: a refresh, or a login when the refresh token is
/// refused too.
pub fn renew(client: &Client, stale: &Tokens) -> Result<Tokens> {
    let tokens = match client.refresh(stale)? {
        Some(tokens) => tokens,
        None => client.login()?,
    };
    storage::set(KEY, &tokens)?;
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_and_refresh_answers() {
        let tokens = parse_login(br#"{"access":"a1","refresh":"r1"}"#).unwrap();
        assert_eq!(tokens.access, "a1");
        assert_eq!(tokens.refresh, "r1");
        assert!(matches!(
            parse_login(br#"{"access":"a1"}"#),
            Err(Error::Protocol(_))
        ));
        assert!(matches!(parse_login(b"<html>"), Err(Error::Protocol(_))));
        let renewed = parse_refresh(br#"{"access":"a2"}"#, &tokens).unwrap();
        assert_eq!(
            (renewed.access.as_str(), renewed.refresh.as_str()),
            ("a2", "r1")
        );
        let rotated = parse_refresh(br#"{"access":"a3","refresh":"r3"}"#, &tokens).unwrap();
        assert_eq!(rotated.refresh, "r3");
        assert!(parse_refresh(b"{}", &tokens).is_err());
    }

    #[test]
    fn tokens_never_print() {
        let tokens = Tokens {
            access: "secret-a".into(),
            refresh: "secret-r".into(),
        };
        assert_eq!(format!("{tokens:?}"), "Tokens(***)");
    }
}
