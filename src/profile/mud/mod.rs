//! Manufacturer Usage Descriptions (MUD, RFC 8520): profiles to and from
//! MUD files.
//!
//! A MUD file is a manufacturer's statement of the access a device needs,
//! written as access lists (RFC 8519) a MUD manager turns into firewall
//! rules: `from-device-policy` lists what the device may send,
//! `to-device-policy` what may reach it. Destinations are DNS names
//! (`ietf-acldns:dst-dnsname`), classes of local servers (`controller`,
//! with the standard `urn:ietf:params:mud:dns` and `urn:ietf:params:mud:ntp`),
//! the device's own controller (`my-controller`) or the local network
//! (`local-networks`).
//!
//! - [`import`] reads a MUD file (the RFC form, or the older draft form with
//!   `access-lists` and `access-list-entries` still found in the wild) and
//!   writes the TOML text of a profile a person can edit: every from-device
//!   ACE becomes a requirement, DNS and NTP controllers become `dns` and `ntp`
//!   requirements, `local-networks` services become `local_only`, and the
//!   MUD URL becomes the strongest identification signal (`mud_url`, the URL
//!   the device announces in DHCP). What the profile format cannot hold
//!   (ICMP, address ranges, `manufacturer` and `model` matches, wide port
//!   ranges, inbound access from the internet) is returned as notes, never
//!   dropped silently. The text is checked with [`parse_profile`] before it
//!   is returned.
//! - [`export`] writes a valid MUD file for a profile: an ACE per name,
//!   protocol and port run for each egress requirement with its reply in the
//!   to-device policy, in IPv4 and IPv6 access lists; the standard
//!   controllers for DNS and NTP; `my-controller` for a value the site
//!   supplies; `local-networks` for local-only services. Wildcard names
//!   cannot be a `dst-dnsname`, and wifi, subnet, DHCP and interception
//!   requirements have no MUD form: they are kept in the declared extension
//!   `egresswatch` (RFC 8520 §3.7: a MUD manager ignores what it does not
//!   understand) and named in the notes. Wildcards are deliberately *not*
//!   put inside ACEs: a MUD manager that skipped the unknown match would open
//!   the port to every destination.
//!
//! Importing an exported file gives back every requirement MUD can hold,
//! and, through the extension, the rest of the profile.
//!
//! Neither direction reads the clock: `last-update` is
//! [`ExportOptions::last_update`], which the command line sets to now.
//!
//! ```
//! use egresswatch::profile::{builtin, mud, parse_profile};
//! let set = builtin().unwrap();
//! let (json, _notes) = mud::export(set.get("zaptec-pro").unwrap());
//! let back = mud::import("zaptec-pro.json", &json.to_string()).unwrap();
//! let p = parse_profile("zaptec-pro.toml", &back.toml).unwrap();
//! assert_eq!(p.id, "zaptec-pro");
//! ```
//!
//! [`parse_profile`]: super::parse_profile

mod assemble;
mod export;
mod ext;
mod import;
mod read;
pub(crate) mod toml;

pub use export::{export, export_with, ExportOptions, FIXED_LAST_UPDATE};
pub use import::{import, Imported};

/// The standard controller class of DNS servers (RFC 8520 §8.3).
pub const DNS_URN: &str = "urn:ietf:params:mud:dns";
/// The standard controller class of NTP servers (RFC 8520 §8.3).
pub const NTP_URN: &str = "urn:ietf:params:mud:ntp";
/// The name under which exported files declare their extension.
pub const EXTENSION: &str = "egresswatch";
/// The extension's container in `ietf-mud:mud`.
pub const EXTENSION_NODE: &str = "egresswatch:egresswatch";
/// The widest port range carried into a profile as a list of ports.
pub const MAX_RANGE: u32 = 32;
/// ACEs read from one file; the rest are named in a note.
pub const MAX_ACES: usize = 4096;

/// `text` as an id: lowercase letters and digits, other runs of characters
/// become one `-`, at most `max` bytes. Empty when nothing is left.
pub(crate) fn slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if out.len() >= max {
                break;
            }
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            if out.len() + 1 >= max {
                break;
            }
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// At most `max` characters of `text`, on a character boundary.
pub(crate) fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The last meaningful segment of a URL's path (`lightbulb2000` of
/// `https://lighting.example.com/lightbulb2000`), without a `.json`
/// suffix; the host when the path is empty.
pub(crate) fn url_stem(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let seg = path
        .split('/')
        .rev()
        .find(|s| !s.is_empty())
        .unwrap_or(host);
    seg.strip_suffix(".json").unwrap_or(seg)
}

/// The host of a URL (`lighting.example.com`).
pub(crate) fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    host.rsplit_once('@').map_or(host, |(_, h)| h)
}

#[cfg(test)]
mod tests;
