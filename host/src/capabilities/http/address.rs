//! Which addresses a plugin may connect to, checked on the address actually
//! used: literal IPs in URLs here, resolved names in [`GuardedResolver`].
//!
//! Checking only the name is not enough: `bank.example` may resolve to
//! `127.0.0.1` (DNS rebinding), and an allow-listed name must not become a
//! way into the host's own network.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why an address is off limits unless the admin allowed its `host:port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918 (`10/8`, `172.16/12`, `192.168/16`), `fc00::/7`, `fec0::/10`.
    Private,
    /// `169.254/16`, `fe80::/10`.
    LinkLocal,
    /// `0.0.0.0`, `::`.
    Unspecified,
    /// `224/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `100.64/10`, carrier-grade NAT.
    SharedCgnat,
    /// `0/8` ("this network"), `240/4`, `192.0.0/24` (IETF protocol
    /// assignments), `198.18/15` (benchmarking) and the documentation
    /// ranges: never a public server.
    Reserved,
}

impl fmt::Display for AddressKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressKind::Loopback => "a loopback address",
            AddressKind::Private => "a private address",
            AddressKind::LinkLocal => "a link-local address",
            AddressKind::Unspecified => "an unspecified address",
            AddressKind::Multicast => "a multicast address",
            AddressKind::Broadcast => "a broadcast address",
            AddressKind::SharedCgnat => "a shared (CGNAT) address",
            AddressKind::Reserved => "a reserved address",
        })
    }
}

/// The reason `ip` is off limits, or `None` for a public address.
pub fn forbidden(ip: IpAddr) -> Option<AddressKind> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<AddressKind> {
    let [a, b, c, _] = ip.octets();
    // 192.0.0/24, 198.18/15, and the documentation nets 192.0.2/24,
    // 198.51.100/24, 203.0.113/24 (RFC 6890's special-purpose registry).
    let special = matches!((a, b, c), (192, 0, 0 | 2) | (198, 51, 100) | (203, 0, 113))
        || (a == 198 && (b & 0xfe) == 18);
    if ip.is_unspecified() {
        Some(AddressKind::Unspecified)
    } else if ip.is_loopback() {
        Some(AddressKind::Loopback)
    } else if ip.is_private() {
        Some(AddressKind::Private)
    } else if ip.is_link_local() {
        Some(AddressKind::LinkLocal)
    } else if ip.is_broadcast() {
        Some(AddressKind::Broadcast)
    } else if ip.is_multicast() {
        Some(AddressKind::Multicast)
    } else if a == 100 && (b & 0xc0) == 64 {
        Some(AddressKind::SharedCgnat)
    } else if a == 0 || a >= 240 || special {
        Some(AddressKind::Reserved)
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<AddressKind> {
    let segments = ip.segments();
    if ip.is_unspecified() {
        return Some(AddressKind::Unspecified);
    }
    if ip.is_loopback() {
        return Some(AddressKind::Loopback);
    }
    let v4 = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), the NAT64
    // well-known prefix (64:ff9b::/96) and local-use NAT64 (64:ff9b:1::/48,
    // RFC 8215) all reach the IPv4 address in their last 32 bits.
    let embeds_v4 = segments[..5] == [0; 5] && (segments[5] == 0 || segments[5] == 0xffff)
        || segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
        || segments[..3] == [0x64, 0xff9b, 1];
    if embeds_v4 {
        let [.., hi, lo] = segments;
        return forbidden_v4(v4(hi, lo));
    }
    // 6to4 (2002::/16) reaches the IPv4 address in bits 16..48.
    if segments[0] == 0x2002 {
        return forbidden_v4(v4(segments[1], segments[2]));
    }
    match segments[0] {
        s if s & 0xfe00 == 0xfc00 => Some(AddressKind::Private),
        s if s & 0xffc0 == 0xfec0 => Some(AddressKind::Private),
        s if s & 0xffc0 == 0xfe80 => Some(AddressKind::LinkLocal),
        s if s & 0xff00 == 0xff00 => Some(AddressKind::Multicast),
        _ => None,
    }
}

/// A resolved name led to an address the plugin may not reach.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{name} resolves to {address}, {kind}")]
pub struct AddressRefused {
    /// The name that was resolved.
    pub name: String,
    /// The first forbidden address it resolved to.
    pub address: IpAddr,
    /// Why that address is forbidden.
    pub kind: AddressKind,
}

/// Resolves with the system resolver and refuses a name if any of its
/// addresses is forbidden, unless the client it serves is only used for
/// `host:port`s the admin allowed (`allow_private`).
///
/// reqwest does not consult a resolver for IP literals; those are checked
/// before the request is made.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GuardedResolver {
    pub(crate) allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if !allow_private
                && let Some((address, kind)) = addrs
                    .iter()
                    .find_map(|a| forbidden(a.ip()).map(|kind| (a.ip(), kind)))
            {
                return Err(Box::new(AddressRefused {
                    name,
                    address,
                    kind,
                }) as _);
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Option<AddressKind> {
        forbidden(text.parse().unwrap())
    }

    #[test]
    fn classifies_ipv4() {
        use AddressKind::*;
        for (ip, expected) in [
            ("127.0.0.1", Some(Loopback)),
            ("127.255.0.9", Some(Loopback)),
            ("10.1.2.3", Some(Private)),
            ("172.16.0.1", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("192.168.1.1", Some(Private)),
            ("169.254.169.254", Some(LinkLocal)),
            ("0.0.0.0", Some(Unspecified)),
            ("0.1.2.3", Some(Reserved)),
            ("224.0.0.1", Some(Multicast)),
            ("255.255.255.255", Some(Broadcast)),
            ("240.0.0.1", Some(Reserved)),
            ("100.64.0.1", Some(SharedCgnat)),
            ("100.127.255.255", Some(SharedCgnat)),
            ("100.128.0.1", None),
            ("192.0.0.170", Some(Reserved)),
            ("192.0.2.1", Some(Reserved)),
            ("198.18.0.1", Some(Reserved)),
            ("198.19.255.255", Some(Reserved)),
            ("198.20.0.1", None),
            ("198.51.100.7", Some(Reserved)),
            ("203.0.113.9", Some(Reserved)),
            ("192.0.1.1", None),
            ("172.32.0.1", None),
            ("8.8.8.8", None),
            ("193.0.96.1", None),
        ] {
            assert_eq!(kind(ip), expected, "{ip}");
        }
    }

    #[test]
    fn classifies_ipv6_and_embedded_ipv4() {
        use AddressKind::*;
        for (ip, expected) in [
            ("::1", Some(Loopback)),
            ("::", Some(Unspecified)),
            ("fc00::1", Some(Private)),
            ("fd12:3456::1", Some(Private)),
            ("fe80::1", Some(LinkLocal)),
            ("ff02::1", Some(Multicast)),
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("::ffff:10.0.0.1", Some(Private)),
            ("::ffff:169.254.169.254", Some(LinkLocal)),
            ("::ffff:100.64.0.1", Some(SharedCgnat)),
            ("64:ff9b::192.168.0.1", Some(Private)),
            ("64:ff9b:1::10.0.0.1", Some(Private)),
            ("64:ff9b:1::127.0.0.1", Some(Loopback)),
            ("2002:7f00:1::1", Some(Loopback)),
            ("2002:a9fe:a9fe::1", Some(LinkLocal)),
            ("2002:0808:0808::1", None),
            ("::ffff:8.8.8.8", None),
            ("2001:4860:4860::8888", None),
        ] {
            assert_eq!(kind(ip), expected, "{ip}");
        }
    }

    #[test]
    fn kinds_read_well_in_messages() {
        assert_eq!(AddressKind::Loopback.to_string(), "a loopback address");
        assert_eq!(
            AddressKind::SharedCgnat.to_string(),
            "a shared (CGNAT) address"
        );
        assert_eq!(
            AddressKind::Unspecified.to_string(),
            "an unspecified address"
        );
    }
}
