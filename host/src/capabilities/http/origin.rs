//! Entries of a manifest's HTTP allow-list: `scheme://host[:port]`, with an
//! optional `*.` wildcard for subdomains.

use std::fmt;

/// One allowed origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigin {
    /// `http` or `https`.
    pub scheme: String,
    /// Lowercase host name, without the wildcard.
    pub host: String,
    /// True for `*.host`: any subdomain of `host` (not `host` itself).
    pub any_subdomain: bool,
    /// The port; the scheme's default when not written.
    pub port: u16,
}

impl AllowedOrigin {
    /// Parses `https://api.bank.example`, `https://*.bank.example:8443`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| format!("`{text}` must look like scheme://host[:port]"))?;
        let default_port = match scheme {
            "https" => 443,
            "http" => 80,
            other => return Err(format!("`{text}`: scheme `{other}` is not http or https")),
        };
        if rest.contains(['/', '?', '#', '@']) {
            return Err(format!(
                "`{text}`: only scheme://host[:port], no path, query or user"
            ));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| format!("`{text}`: port `{port}` is not 1-65535"))?,
            ),
            None => (rest, default_port),
        };
        let (any_subdomain, host) = match host.strip_prefix("*.") {
            Some(host) => (true, host),
            None => (false, host),
        };
        let valid_label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if host.is_empty() || host.contains('*') || !host.split('.').all(valid_label) {
            return Err(format!(
                "`{text}`: `{host}` is not a host name (wildcards only as a leading `*.`)"
            ));
        }
        Ok(Self {
            scheme: scheme.to_owned(),
            host: host.to_ascii_lowercase(),
            any_subdomain,
            port,
        })
    }

    /// Whether a request to `scheme://host:port` falls under this entry.
    pub fn admits(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host = host.to_ascii_lowercase();
        let host_ok = if self.any_subdomain {
            host.strip_suffix(&self.host)
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.'))
        } else {
            host == self.host
        };
        scheme == self.scheme && port == self.port && host_ok
    }
}

impl fmt::Display for AllowedOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wildcard = if self.any_subdomain { "*." } else { "" };
        write!(f, "{}://{wildcard}{}:{}", self.scheme, self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::AllowedOrigin;

    #[test]
    fn exact_host_with_default_port() {
        let o = AllowedOrigin::parse("https://API.bank.example").unwrap();
        assert!(o.admits("https", "api.bank.example", 443));
        assert!(!o.admits("http", "api.bank.example", 443));
        assert!(!o.admits("https", "api.bank.example", 8443));
        assert!(!o.admits("https", "evil.api.bank.example", 443));
        assert!(!o.admits("https", "api.bank.example.evil", 443));
    }

    #[test]
    fn wildcard_means_subdomains_only() {
        let o = AllowedOrigin::parse("https://*.bank.example:8443").unwrap();
        assert!(o.admits("https", "a.bank.example", 8443));
        assert!(o.admits("https", "a.b.bank.example", 8443));
        assert!(!o.admits("https", "bank.example", 8443));
        assert!(!o.admits("https", "evilbank.example", 8443));
        assert_eq!(o.to_string(), "https://*.bank.example:8443");
    }

    #[test]
    fn refusals_say_why() {
        for (text, why) in [
            ("bank.example", "must look like scheme://host[:port]"),
            ("ftp://bank.example", "scheme `ftp` is not http or https"),
            ("https://bank.example/api", "no path, query or user"),
            ("https://bank.example:0", "port `0` is not 1-65535"),
            ("https://ba*nk.example", "is not a host name"),
            ("https://*", "is not a host name"),
        ] {
            let error = AllowedOrigin::parse(text).unwrap_err();
            assert!(error.contains(why), "{text}: {error}");
        }
    }
}
