//! `egresswatch learn`: a draft profile from what one device did in a
//! capture, written as TOML a person edits and then uses with `--rules`.
//!
//! What it writes, from the device's report:
//! - identification: its OUI block (when the registry names the vendor and
//!   the address is not locally administered), its DHCP hostname with the
//!   trailing serial digits wildcarded, and up to [`MAX_NAME_SIGNALS`]
//!   names it used;
//! - one `egress` requirement per destination name, protocol and port it
//!   reached on the internet, named as the device itself asked for it (its
//!   DNS answers, SNI or Host: never a reverse lookup). One port each, so a
//!   single blocked port fails its own requirement;
//! - the infrastructure it used: DHCP, DNS, NTP (the server DHCP offered,
//!   else the name it resolved, else any);
//! - `local_only` for its own services reached from the LAN;
//! - comments for what a profile cannot hold: destinations reached without
//!   a name, and local peers.
//!
//! Only what the packets show is written: a destination the device never
//! reached in the capture is not guessed.

use crate::check::identify::registrable;
use crate::device::is_local_scope;
use crate::report::DeviceReport;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Names used as identification signals, at most.
pub const MAX_NAME_SIGNALS: usize = 5;
/// Destinations written, at most (the rest are counted in a comment).
pub const MAX_REQUIREMENTS: usize = 128;
/// Registrable domains beyond which the device is a general-purpose computer.
const GENERAL_PURPOSE_DOMAINS: usize = 10;

/// A TOML string literal (the MUD importer's writer).
fn q(s: &str) -> String {
    super::mud::toml::quote(s)
}

/// Lowercase letters, digits and `-`, for ids.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out.truncate(48);
    out
}

/// A hostname pattern: a trailing run of digits or hex after a separator
/// (a serial number) becomes `*`: `clockrpi-a407…` → `clockrpi-*`,
/// `ZAP051234` → `ZAP*`.
pub fn hostname_pattern(h: &str) -> String {
    if let Some((head, tail)) = h.rsplit_once(['-', '_']) {
        if tail.len() >= 4 && tail.chars().all(|c| c.is_ascii_hexdigit()) {
            return format!("{head}{}*", &h[head.len()..head.len() + 1]);
        }
    }
    let digits = h.chars().rev().take_while(|c| c.is_ascii_digit()).count();
    if digits >= 3 && digits < h.len() {
        return format!("{}*", &h[..h.len() - digits]);
    }
    h.to_string()
}

/// The draft profile for `dev`, as TOML; `source` names the captures.
pub fn learn(dev: &DeviceReport, id: Option<&str>, source: &str) -> String {
    let id = id.map(slug).filter(|s| !s.is_empty()).unwrap_or_else(|| {
        let base = dev
            .hostname
            .as_deref()
            .map(|h| slug(&hostname_pattern(h).replace('*', "")))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| slug(&dev.id()));
        format!("learned-{base}")
    });
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# Draft profile learned by egresswatch from what device {} did in {source}.",
        dev.id()
    );
    let _ = writeln!(
        t,
        "# Edit it (check each requirement against the vendor's documentation), then use it with --rules."
    );
    let _ = writeln!(t, "id = {}", q(&id));
    let name = dev
        .hostname
        .clone()
        .unwrap_or_else(|| format!("device {}", dev.id()));
    let _ = writeln!(t, "name = {}", q(&name));
    let _ = writeln!(
        t,
        "vendor = {}",
        q(dev.vendor.as_deref().unwrap_or("unknown"))
    );
    let _ = writeln!(t, "device = \"learned from traffic\"");
    let _ = writeln!(t);
    let _ = writeln!(t, "[[document]]");
    let _ = writeln!(t, "id = \"capture\"");
    let _ = writeln!(
        t,
        "title = {}",
        q(&format!("Traffic of {} in the capture", dev.id()))
    );
    let _ = writeln!(t, "source = {}", q(source));

    // Identification.
    let mut signals: Vec<(String, i32)> = Vec::new();
    if let (Some(mac), Some(_)) = (dev.mac_bytes(), dev.vendor.as_deref()) {
        signals.push((
            format!("oui = \"{:02x}:{:02x}:{:02x}\"", mac[0], mac[1], mac[2]),
            2,
        ));
    }
    if let Some(h) = &dev.hostname {
        signals.push((format!("dhcp_hostname = {}", q(&hostname_pattern(h))), 2));
    }
    let egress = egress_destinations(dev);
    let used: BTreeSet<&str> = egress.keys().map(|(n, _, _)| n.as_str()).collect();
    for n in used.iter().take(MAX_NAME_SIGNALS) {
        signals.push((format!("name = {}", q(n)), 1));
    }
    let total: i32 = signals.iter().map(|(_, w)| w).sum();
    let domains: BTreeSet<&str> = dev
        .names
        .iter()
        .filter(|n| n.contains('.') && !n.ends_with(".local"))
        .map(|n| registrable(n))
        .collect();
    let general = domains.len() > GENERAL_PURPOSE_DOMAINS;
    let _ = writeln!(t);
    let _ = writeln!(t, "[identify]");
    let _ = writeln!(t, "min_score = {}", total.clamp(1, 3));
    if general {
        let _ = writeln!(
            t,
            "# It used names in {} domains: a general-purpose computer.",
            domains.len()
        );
        let _ = writeln!(t, "general_purpose = true");
    }
    if signals.is_empty() {
        // Nothing identifies it but its MAC: a full 36-bit-wide guess is
        // not possible, so the exact address's block is used.
        let _ = writeln!(t, "# Nothing names this device: edit the signal below.");
        signals.push(("name = \"edit.me.example\"".into(), 1));
    }
    for (s, w) in &signals {
        let _ = writeln!(t);
        let _ = writeln!(t, "[[identify.signal]]");
        let _ = writeln!(t, "{s}");
        let _ = writeln!(t, "weight = {w}");
    }

    // Requirements.
    let mut ids = BTreeSet::new();
    let mut req = |t: &mut String, id: String, kind: &str, description: &str, body: &[String]| {
        let mut unique = id.clone();
        let mut n = 2;
        while !ids.insert(unique.clone()) {
            unique = format!("{id}-{n}");
            n += 1;
        }
        let _ = writeln!(t);
        let _ = writeln!(t, "[[requirement]]");
        let _ = writeln!(t, "id = {}", q(&unique));
        let _ = writeln!(t, "kind = {}", q(kind));
        let _ = writeln!(t, "description = {}", q(description));
        let _ = writeln!(t, "cite = \"capture\"");
        for line in body {
            let _ = writeln!(t, "{line}");
        }
    };
    let mut written = 0usize;
    for ((name, proto, port), flows) in &egress {
        if written >= MAX_REQUIREMENTS {
            break;
        }
        written += 1;
        req(
            &mut t,
            slug(&format!("{name}-{proto}-{port}")),
            "egress",
            &format!(
                "{} {port} to {name} (seen: {flows} connection(s))",
                proto.to_uppercase()
            ),
            &[
                format!("proto = {}", q(proto)),
                format!("ports = [{port}]"),
                format!("names = [{}]", q(name)),
            ],
        );
    }
    if egress.len() > written {
        let _ = writeln!(
            t,
            "# {} more destinations not written.",
            egress.len() - written
        );
    }
    if let Some(d) = &dev.dhcp {
        if d.leased_ip.is_some() || d.messages.contains_key("REQUEST") {
            req(&mut t, "dhcp".into(), "dhcp", "Its address from DHCP", &[]);
        }
    }
    if !dev.dns.is_empty() {
        req(&mut t, "dns".into(), "dns", "Name resolution", &[]);
    }
    if let Some((ip, _)) = dev.ntp.iter().find(|(_, s)| s.replies > 0) {
        let offered = dev.dhcp.as_ref().is_some_and(|d| {
            d.ntp_servers
                .iter()
                .any(|s| std::net::IpAddr::V4(*s) == *ip)
        });
        let resolved = dev
            .dns
            .iter()
            .find(|(_, q)| q.addresses.contains(ip))
            .map(|(n, _)| n.clone());
        let server = if offered {
            "dhcp".to_string()
        } else {
            resolved.unwrap_or_else(|| "any".into())
        };
        req(
            &mut t,
            "ntp".into(),
            "ntp",
            &format!("NTP (seen from {ip})"),
            &[format!("server = {}", q(&server))],
        );
    }
    let mut local_ports: BTreeMap<(&str, u16), usize> = BTreeMap::new();
    for i in dev
        .inbound
        .iter()
        .filter(|i| !i.public && i.outcomes.ok > 0)
    {
        *local_ports.entry((i.proto, i.port)).or_default() += 1;
    }
    for ((proto, port), clients) in &local_ports {
        if !matches!(*proto, "tcp" | "udp") {
            continue;
        }
        req(
            &mut t,
            format!("local-{proto}-{port}"),
            "local_only",
            &format!(
                "Its {} {port} service, reached from the LAN ({clients} client(s))",
                proto.to_uppercase()
            ),
            &[format!("proto = {}", q(proto)), format!("ports = [{port}]")],
        );
    }
    // What a profile cannot hold.
    let unnamed: Vec<String> = dev
        .destinations
        .iter()
        .filter(|d| {
            d.name.is_none()
                && !is_local_scope(&d.ip)
                && matches!(d.proto, "tcp" | "udp")
                && !matches!(d.port, 53 | 123)
        })
        .map(|d| format!("{} {} to {}", d.proto, d.port, d.ip))
        .collect();
    if !unnamed.is_empty() {
        let _ = writeln!(t);
        let _ = writeln!(
            t,
            "# Reached without a name (no DNS answer, SNI or Host in the capture), not written:"
        );
        for u in unnamed.iter().take(32) {
            let _ = writeln!(t, "#   {u}");
        }
    }
    let local: BTreeSet<String> = dev
        .destinations
        .iter()
        .filter(|d| is_local_scope(&d.ip) && !matches!(d.port, 53 | 67 | 68 | 123 | 5353 | 1900))
        .map(|d| format!("{} {} to {}", d.proto, d.port, d.ip))
        .collect();
    if !local.is_empty() {
        let _ = writeln!(t);
        let _ = writeln!(t, "# Local peers it reached (profiles hold egress only):");
        for l in local.iter().take(32) {
            let _ = writeln!(t, "#   {l}");
        }
    }
    t
}

/// Internet destinations by (name, proto, port), with their working flows.
fn egress_destinations(dev: &DeviceReport) -> BTreeMap<(String, &'static str, u16), u32> {
    let mut out: BTreeMap<(String, &'static str, u16), u32> = BTreeMap::new();
    for d in &dev.destinations {
        let Some(name) = d.name.as_deref() else {
            continue;
        };
        if is_local_scope(&d.ip) || !matches!(d.proto, "tcp" | "udp") || d.port == 53 {
            continue;
        }
        // NTP is its own requirement.
        if d.proto == "udp" && d.port == 123 {
            continue;
        }
        if d.outcomes.ok == 0 {
            continue;
        }
        *out.entry((name.to_string(), d.proto, d.port)).or_default() += d.outcomes.ok;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_lose_their_serials() {
        assert_eq!(
            hostname_pattern("clockrpi-a407a36985b48965a3e00ab85aa1e820"),
            "clockrpi-*"
        );
        assert_eq!(hostname_pattern("ZAP051234"), "ZAP*");
        assert_eq!(hostname_pattern("X2000-E12233"), "X2000-*");
        assert_eq!(hostname_pattern("MacBook-Pro"), "MacBook-Pro");
        assert_eq!(hostname_pattern("123"), "123");
    }

    #[test]
    fn slugs_and_quotes() {
        assert_eq!(
            slug("zapcloud.azure-devices.net-tcp-8883"),
            "zapcloud-azure-devices-net-tcp-8883"
        );
        assert_eq!(slug("  A b  "), "a-b");
        assert_eq!(q("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    }
}
