//! What may appear in logs and error messages about a request: URLs without
//! credentials and header values without secrets.
//!
//! Plugins put API keys and tokens in query strings and headers; a log line
//! must never carry them, so redaction is applied to everything the HTTP
//! capability prints.

use reqwest::Url;

/// What replaces a hidden value.
pub(crate) const HIDDEN: &str = "***";

/// `url` without user name and password, with every query value replaced by
/// [`HIDDEN`] (names stay, so a log still shows which parameters were sent),
/// and without the fragment.
pub(crate) fn url(url: &Url) -> String {
    let mut shown = url.clone();
    // Only fails for URLs that cannot have credentials; nothing to hide then.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_fragment(None);
    if let Some(query) = url.query() {
        let hidden: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) => format!("{name}={HIDDEN}"),
                None => pair.to_owned(),
            })
            .collect();
        shown.set_query(Some(&hidden.join("&")));
    }
    shown.to_string()
}

/// Whether a header carries credentials: its value is never logged.
pub(crate) fn is_sensitive_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie" | "x-api-key"
    ) || [
        "token",
        "secret",
        "password",
        "api-key",
        "apikey",
        "signature",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// The value of header `name` as it may be logged.
pub(crate) fn header_value<'a>(name: &str, value: &'a str) -> &'a str {
    if is_sensitive_header(name) {
        HIDDEN
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_credentials_query_values_and_fragment() {
        let url =
            Url::parse("https://user:pw@bank.example/api/x?token=s3cret&page=2&flag#frag").unwrap();
        assert_eq!(
            super::url(&url),
            "https://bank.example/api/x?token=***&page=***&flag"
        );
        let plain = Url::parse("http://127.0.0.1:8080/x").unwrap();
        assert_eq!(super::url(&plain), "http://127.0.0.1:8080/x");
    }

    #[test]
    fn credential_headers_are_hidden() {
        for name in [
            "Authorization",
            "cookie",
            "X-Api-Key",
            "Proxy-Authorization",
            "X-Auth-Token",
            "X-Client-Secret",
        ] {
            assert_eq!(header_value(name, "s3cret"), HIDDEN, "{name}");
        }
        assert_eq!(
            header_value("Accept", "application/json"),
            "application/json"
        );
        assert_eq!(header_value("Content-Type", "text/plain"), "text/plain");
    }
}
