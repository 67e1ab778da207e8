//! DNS that bypasses the site's resolver: queries to a resolver on the
//! internet (hard-coded 8.8.8.8 and friends), DNS over TLS (TCP 853), and
//! DNS over HTTPS to a well-known endpoint. Such a device hides the names
//! it uses from the site, so flows it makes cannot be named from DNS.

use serde::Serialize;
use std::net::IpAddr;

/// Well-known DoH endpoints, by the name in the TLS SNI.
const DOH_NAMES: &[&str] = &[
    "dns.google",
    "dns.google.com",
    "cloudflare-dns.com",
    "mozilla.cloudflare-dns.com",
    "one.one.one.one",
    "1dot1dot1dot1.cloudflare-dns.com",
    "dns.quad9.net",
    "dns9.quad9.net",
    "dns10.quad9.net",
    "dns11.quad9.net",
    "doh.opendns.com",
    "dns.adguard.com",
    "dns.adguard-dns.com",
    "dns.nextdns.io",
    "doh.cleanbrowsing.org",
    "dns.alidns.com",
    "doh.pub",
    "doh.dns.sb",
];

/// Well-known public resolvers' addresses (also their DoH endpoints).
const PUBLIC_RESOLVERS: &[&str] = &[
    "8.8.8.8",
    "8.8.4.4",
    "1.1.1.1",
    "1.0.0.1",
    "9.9.9.9",
    "149.112.112.112",
    "208.67.222.222",
    "208.67.220.220",
    "94.140.14.14",
    "94.140.15.15",
    "2001:4860:4860::8888",
    "2001:4860:4860::8844",
    "2606:4700:4700::1111",
    "2606:4700:4700::1001",
    "2620:fe::fe",
    "2620:fe::9",
];

/// True for a well-known public resolver's address.
pub fn is_public_resolver(ip: &IpAddr) -> bool {
    // Parsed once per process (parsing them on every call cost 9,000
    // instructions a destination).
    static PARSED: std::sync::OnceLock<Vec<IpAddr>> = std::sync::OnceLock::new();
    PARSED
        .get_or_init(|| {
            PUBLIC_RESOLVERS
                .iter()
                .filter_map(|r| r.parse().ok())
                .collect()
        })
        .contains(ip)
}

/// True for a well-known DoH endpoint's name.
pub fn is_doh_name(name: &str) -> bool {
    DOH_NAMES.contains(&name)
}

/// One way a device resolved names around the site's resolver.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct DnsBypass {
    /// `public_resolver` (plain DNS to an internet resolver), `dot`, `doh`.
    pub how: &'static str,
    pub server: IpAddr,
    pub port: u16,
    pub name: Option<String>,
    /// Whether the server is one of the well-known public resolvers.
    pub well_known: bool,
}
