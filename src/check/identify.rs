//! Matching a device to at most one profile, with the evidence.
//!
//! Each profile's signals that hold for the device add their weight; the
//! best score at or above the profile's `min_score` wins (ties go to the
//! profile first by id). A profile for an appliance (not
//! `general_purpose`) is refused for a device that used names in more than
//! [`APPLIANCE_MAX_DOMAINS`] registrable domains the profile does not
//! mention: that is a computer browsing the web, not a charger that once
//! asked for its vendor's API.

use crate::profile::pattern::PatternIndex;
use crate::profile::{Pattern, Profile, ProfileSet, Proto, SignalKind};
use crate::report::DeviceReport;
use std::collections::BTreeSet;

/// Registrable domains outside its profile beyond which a device is a
/// general-purpose computer.
pub const APPLIANCE_MAX_DOMAINS: usize = 10;

/// A match: the profile's index, its score, and the evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub index: usize,
    pub score: i32,
    pub identified_by: Vec<String>,
}

/// The profile this device is, if any.
pub fn identify(set: &ProfileSet, dev: &DeviceReport) -> Option<Match> {
    Identifier::new(set).identify(dev)
}

/// A profile set made ready to identify many devices: the patterns of
/// every name signal (`name`, `dns`, `sni`) in one [`PatternIndex`], so
/// each of a device's names is tried once against them all instead of
/// once per signal (a device on the site mix has hundreds of names).
#[derive(Debug, Clone)]
pub struct Identifier<'a> {
    set: &'a ProfileSet,
    names: PatternIndex,
    /// Per profile, per signal: the ids of a name signal's patterns.
    ids: Vec<Vec<Vec<usize>>>,
}

/// A device's name that matches some name signal: the name, where it came
/// from, and the ids of the patterns it matches.
struct NameHit<'d> {
    name: &'d str,
    sources: &'d [&'static str],
    ids: Vec<usize>,
}

impl<'a> Identifier<'a> {
    pub fn new(set: &'a ProfileSet) -> Identifier<'a> {
        let mut names = PatternIndex::default();
        let ids = (set.profiles.iter())
            .map(|p| {
                (p.identify.signals.iter())
                    .map(|s| match &s.what {
                        SignalKind::Name(x) | SignalKind::Dns(x) | SignalKind::Sni(x) => {
                            x.iter().map(|q| names.add(q)).collect()
                        }
                        _ => Vec::new(),
                    })
                    .collect()
            })
            .collect();
        Identifier { set, names, ids }
    }

    /// The profile this device is, if any: what [`identify`] gives.
    pub fn identify(&self, dev: &DeviceReport) -> Option<Match> {
        let hits = self.name_hits(dev);
        let mut best: Option<Match> = None;
        for (index, p) in self.set.profiles.iter().enumerate() {
            let ids = self.ids.get(index).map_or(&[][..], Vec::as_slice);
            let (score, identified_by) = score_with(p, |i, what| {
                holds_with(what, dev, &hits, ids.get(i).map_or(&[][..], Vec::as_slice))
            });
            if score < p.identify.min_score {
                continue;
            }
            if !p.identify.general_purpose && foreign_domains(p, dev) > APPLIANCE_MAX_DOMAINS {
                continue;
            }
            if best.as_ref().is_none_or(|b| score > b.score) {
                best = Some(Match {
                    index,
                    score,
                    identified_by,
                });
            }
        }
        best
    }

    /// The device's names that match some name signal, in name order.
    fn name_hits<'d>(&self, dev: &'d DeviceReport) -> Vec<NameHit<'d>> {
        let mut hits = Vec::new();
        if self.names.is_empty() {
            return hits;
        }
        for (name, sources) in &dev.name_sources {
            let mut ids = Vec::new();
            self.names.matching(name, |id| ids.push(id));
            if !ids.is_empty() {
                hits.push(NameHit { name, sources, ids });
            }
        }
        hits
    }
}

/// The sum of the weights of the signals that hold, and what they saw.
pub fn score(p: &Profile, dev: &DeviceReport) -> (i32, Vec<String>) {
    score_with(p, |_, what| holds(what, dev))
}

/// [`score`] with `holds(i, signal)` saying whether signal `i` holds.
fn score_with(
    p: &Profile,
    mut holds: impl FnMut(usize, &SignalKind) -> Option<String>,
) -> (i32, Vec<String>) {
    let mut total = 0;
    let mut why = Vec::new();
    for (i, s) in p.identify.signals.iter().enumerate() {
        if let Some(evidence) = holds(i, &s.what) {
            total += s.weight;
            if s.weight > 0 && !why.contains(&evidence) {
                why.push(evidence);
            }
        }
    }
    (total, why)
}

/// [`holds`], a name signal answered from the device's `hits` (`ids`: the
/// signal's patterns).
fn holds_with(
    what: &SignalKind,
    dev: &DeviceReport,
    hits: &[NameHit<'_>],
    ids: &[usize],
) -> Option<String> {
    let sourced = |wanted: &[&str]| {
        hits.iter().find_map(|h| {
            let src = h
                .sources
                .iter()
                .find(|s| wanted.is_empty() || wanted.contains(s))?;
            h.ids
                .iter()
                .any(|id| ids.contains(id))
                .then(|| format!("{src}:{}", h.name))
        })
    };
    match what {
        SignalKind::Name(_) => sourced(&[]),
        SignalKind::Dns(_) => sourced(&["dns"]),
        SignalKind::Sni(_) => sourced(&["sni", "quic"]),
        _ => holds(what, dev),
    }
}

fn any(patterns: &[Pattern], text: &str) -> bool {
    patterns.iter().any(|p| p.matches(text))
}

/// The evidence string when the signal holds for the device.
fn holds(what: &SignalKind, dev: &DeviceReport) -> Option<String> {
    let sourced = |patterns: &[Pattern], wanted: &[&str]| {
        dev.name_sources.iter().find_map(|(name, sources)| {
            let src = sources
                .iter()
                .find(|s| wanted.is_empty() || wanted.contains(s))?;
            any(patterns, name).then(|| format!("{src}:{name}"))
        })
    };
    match what {
        SignalKind::Oui(prefixes) => {
            let mac = dev.mac_bytes()?;
            prefixes
                .iter()
                .any(|p| p.matches(mac))
                .then(|| "oui".to_string())
        }
        SignalKind::Vendor(p) => dev
            .vendor
            .as_deref()
            .filter(|v| any(p, v))
            .map(|_| "oui".to_string()),
        SignalKind::DhcpHostname(p) => dev
            .hostname
            .as_deref()
            .filter(|h| any(p, h))
            .map(|_| "dhcp-hostname".to_string()),
        SignalKind::DhcpVendorClass(p) => dev
            .dhcp
            .as_ref()
            .and_then(|d| d.vendor_class.as_deref())
            .filter(|v| any(p, v))
            .map(|_| "dhcp-vendor-class".to_string()),
        SignalKind::Name(p) => sourced(p, &[]),
        SignalKind::Dns(p) => sourced(p, &["dns"]),
        SignalKind::Sni(p) => sourced(p, &["sni", "quic"]),
        SignalKind::MqttClientId(p) => dev
            .mqtt
            .iter()
            .any(|m| any(p, &m.client_id))
            .then(|| "mqtt-client-id".to_string()),
        SignalKind::MudUrl(p) => dev
            .dhcp
            .as_ref()
            .and_then(|d| d.mud_url.as_deref())
            .filter(|u| any(p, u))
            .map(|_| "mud-url".to_string()),
        SignalKind::Port(ports) => ports.iter().find_map(|ps| {
            let proto = match ps.proto {
                Proto::Tcp => "tcp",
                Proto::Udp => "udp",
            };
            dev.destinations
                .iter()
                .any(|d| d.proto == proto && d.port == ps.port)
                .then(|| format!("port:{ps}"))
        }),
        SignalKind::Speaks(what) => {
            let yes = match what.as_str() {
                "capwap" => !dev.capwap.is_empty(),
                "mqtt" => !dev.mqtt.is_empty(),
                "ssh" => !dev.ssh.is_empty(),
                "http" => !dev.http.is_empty(),
                "tls" => dev.tls.iter().any(|t| t.transport != "quic"),
                "quic" => dev.tls.iter().any(|t| t.transport == "quic"),
                _ => false,
            };
            yes.then(|| format!("speaks:{what}"))
        }
    }
}

/// Registrable domains the device used that the profile does not name.
fn foreign_domains(p: &Profile, dev: &DeviceReport) -> usize {
    let mut patterns: Vec<&Pattern> = p.egress_names().collect();
    for s in &p.identify.signals {
        match &s.what {
            SignalKind::Name(x) | SignalKind::Dns(x) | SignalKind::Sni(x) => {
                patterns.extend(x.iter())
            }
            _ => {}
        }
    }
    let mut domains = BTreeSet::new();
    for (name, sources) in &dev.name_sources {
        if sources.iter().all(|s| *s == "mdns") || is_local_name(name) {
            continue;
        }
        if patterns.iter().any(|p| p.matches(name)) {
            continue;
        }
        domains.insert(registrable(name));
    }
    domains.len()
}

fn is_local_name(name: &str) -> bool {
    !name.contains('.')
        || [
            ".local",
            ".arpa",
            ".lan",
            ".home",
            ".localdomain",
            ".internal",
        ]
        .iter()
        .any(|s| name.ends_with(s))
}

/// The last two labels, or three under a two-letter country code whose
/// second level is short (`example.co.uk`): close enough to count sites.
pub fn registrable(name: &str) -> &str {
    let labels: Vec<&str> = name.rsplitn(4, '.').collect();
    let take = match labels.as_slice() {
        [tld, second, _, ..] if tld.len() == 2 && second.len() <= 3 => 3,
        _ => 2,
    };
    let mut cut = name.len();
    let mut seen = 0;
    for (i, c) in name.char_indices().rev() {
        if c == '.' {
            seen += 1;
            if seen == take {
                cut = i + 1;
                break;
            }
        }
    }
    if seen < take {
        name
    } else {
        &name[cut..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains() {
        assert_eq!(registrable("api.zaptec.com"), "zaptec.com");
        assert_eq!(registrable("zaptec.com"), "zaptec.com");
        assert_eq!(registrable("a.b.example.co.uk"), "example.co.uk");
        assert_eq!(registrable("www.bbc.co.uk"), "bbc.co.uk");
        assert_eq!(registrable("localhost"), "localhost");
        assert_eq!(registrable("x.y.amazonaws.com"), "amazonaws.com");
    }
}
