//! A profile as a MUD file (RFC 8520, access lists of RFC 8519).
//!
//! Every requirement MUD can hold becomes grants: one destination (a DNS
//! name, a controller class, `my-controller` or `local-networks`), one
//! transport and one run of consecutive ports. Each grant is an ACE in the
//! from-device policy and its mirror in the to-device policy (the replies
//! of a connection the device opens, or the requests a local-only service
//! receives), repeated in an IPv4 and an IPv6 access list so a MUD manager
//! applies it to both families. The whole profile is also written into the
//! declared `egresswatch` extension, in the profile format's own keys,
//! with the ACE names each requirement became: that is what lets
//! [`super::import`] give back requirement ids, descriptions, alternatives,
//! wildcard names and the requirements MUD has no form for.

use super::{clip, DNS_URN, EXTENSION, EXTENSION_NODE, NTP_URN};
use crate::profile::{Check, NtpSource, Profile, Proto, Requirement, Target};
use serde_json::{json, Map, Value};

/// The `last-update` of [`export`]: a fixed time, so the same profile
/// always gives the same file. The command line uses the current time.
pub const FIXED_LAST_UPDATE: &str = "1970-01-01T00:00:00Z";

/// How long a MUD manager may cache the file, in hours (the RFC's default).
const CACHE_VALIDITY: u8 = 48;
/// RFC 8520 limits `systeminfo` to 60 characters.
const SYSTEMINFO_MAX: usize = 60;

/// What the profile does not say about the file itself.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Where the file will be served (`https://...`); without it,
    /// `https://mud.example.com/ID.json`, a placeholder the notes point out.
    pub mud_url: Option<String>,
    /// `last-update`, an RFC 3339 time.
    pub last_update: String,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            mud_url: None,
            last_update: FIXED_LAST_UPDATE.to_string(),
        }
    }
}

/// The MUD file of `p` with the default options, and notes on what MUD
/// cannot hold.
pub fn export(p: &Profile) -> (Value, Vec<String>) {
    export_with(p, &ExportOptions::default())
}

/// Where a grant goes.
enum Peer<'a> {
    Name(&'a str),
    Controller(String),
    MyController,
    /// The local network reaches one of the device's services.
    Local,
}

/// One ACE pair: a destination, a transport and a run of ports.
struct Grant<'a> {
    ace: String,
    peer: Peer<'a>,
    proto: Proto,
    lo: u16,
    hi: u16,
}

#[derive(Clone, Copy)]
enum Family {
    V4,
    V6,
}

impl Family {
    fn tag(self) -> &'static str {
        match self {
            Family::V4 => "v4",
            Family::V6 => "v6",
        }
    }
    fn container(self) -> &'static str {
        match self {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        }
    }
    fn acl_type(self) -> &'static str {
        match self {
            Family::V4 => "ipv4-acl-type",
            Family::V6 => "ipv6-acl-type",
        }
    }
}

/// The MUD file of `p`, and notes on what MUD cannot hold.
pub fn export_with(p: &Profile, opts: &ExportOptions) -> (Value, Vec<String>) {
    let mut notes = Vec::new();
    let url = match &opts.mud_url {
        Some(u) => {
            if !u.starts_with("https://") {
                notes.push(format!(
                    "the MUD URL {u} is not https: RFC 8520 requires https"
                ));
            }
            u.clone()
        }
        None => {
            let u = format!("https://mud.example.com/{}.json", p.id);
            notes.push(format!(
                "the MUD URL {u} is a placeholder: give the address the file will be served from (--mud-url)"
            ));
            u
        }
    };
    let sites = Sites {
        url: &url,
        many: p.site.len() > 1,
    };
    let mut grants: Vec<Grant<'_>> = Vec::new();
    let ext_reqs: Vec<Value> = p
        .requirements
        .iter()
        .map(|r| requirement(r, &sites, &mut grants, &mut notes))
        .collect();
    profile_notes(p, &sites, &mut notes);

    let mut mud = Map::new();
    mud.insert("mud-version".into(), json!(1));
    mud.insert("mud-url".into(), json!(url));
    mud.insert("last-update".into(), json!(opts.last_update));
    mud.insert("cache-validity".into(), json!(CACHE_VALIDITY));
    mud.insert("is-supported".into(), json!(true));
    let info = if p.device.is_empty() {
        p.name.clone()
    } else {
        format!("{}: {}", p.name, p.device)
    };
    mud.insert("systeminfo".into(), json!(clip(&info, SYSTEMINFO_MAX)));
    mud.insert("mfg-name".into(), json!(p.vendor));
    mud.insert("model-name".into(), json!(p.name));
    if let Some(d) = p
        .documents
        .iter()
        .find(|d| d.source.starts_with("https://") || d.source.starts_with("http://"))
    {
        mud.insert("documentation".into(), json!(d.source));
    }
    mud.insert("extensions".into(), json!([EXTENSION]));
    let mut acls = Vec::new();
    if grants.is_empty() {
        notes.push(
            "no requirement has a MUD form: the file opens nothing for the device".to_string(),
        );
    } else {
        let base = clip(&p.id, 48);
        let mut from = Vec::new();
        let mut to = Vec::new();
        for fam in [Family::V4, Family::V6] {
            let fr = format!("{base}-{}fr", fam.tag());
            let tn = format!("{base}-{}to", fam.tag());
            acls.push(acl(&fr, fam, &grants, true));
            acls.push(acl(&tn, fam, &grants, false));
            from.push(json!({ "name": fr }));
            to.push(json!({ "name": tn }));
        }
        mud.insert(
            "from-device-policy".into(),
            json!({ "access-lists": { "access-list": from } }),
        );
        mud.insert(
            "to-device-policy".into(),
            json!({ "access-lists": { "access-list": to } }),
        );
    }
    mud.insert(EXTENSION_NODE.into(), extension(p, ext_reqs, &sites));
    let file = json!({
        "ietf-mud:mud": mud,
        "ietf-access-control-list:acls": { "acl": acls },
    });
    (file, notes)
}

/// How the site's values become controllers: `my-controller` when the
/// profile has one, else a controller class per key (the MUD URL with the
/// key as fragment), which a MUD manager maps to addresses.
struct Sites<'u> {
    url: &'u str,
    many: bool,
}

impl Sites<'_> {
    fn peer(&self, key: &str) -> Peer<'static> {
        if self.many {
            Peer::Controller(format!("{}#{key}", self.url))
        } else {
            Peer::MyController
        }
    }

    /// What the extension records for the key.
    fn uri(&self, key: &str) -> String {
        match self.peer(key) {
            Peer::Controller(u) => u,
            _ => "my-controller".to_string(),
        }
    }
}

/// False for requirements kept in the extension only.
fn has_mud_form(c: &Check) -> bool {
    matches!(
        c,
        Check::Egress { .. } | Check::Dns | Check::Ntp { .. } | Check::LocalOnly { .. }
    )
}

/// The grants of one requirement, and its entry in the extension.
fn requirement<'a>(
    r: &'a Requirement,
    sites: &Sites<'_>,
    grants: &mut Vec<Grant<'a>>,
    notes: &mut Vec<String>,
) -> Value {
    let first = grants.len();
    let mut ext = common_fields(r);
    match &r.check {
        Check::Egress {
            proto,
            ports,
            target,
        } => {
            ext.insert("proto".into(), json!(proto.as_str()));
            ext.insert("ports".into(), json!(ports));
            match target {
                Target::Names(names) => {
                    let mut wild = Vec::new();
                    for n in names {
                        if n.is_literal() {
                            add(r, Peer::Name(n.as_str()), *proto, ports, grants);
                        } else {
                            wild.push(n.as_str());
                            notes.push(format!(
                                "requirement `{}`: {n} is a wildcard, which a MUD dst-dnsname cannot hold: kept in the {EXTENSION} extension only, so a MUD manager will not open it",
                                r.id
                            ));
                        }
                    }
                    if !wild.is_empty() {
                        ext.insert("names".into(), json!(wild));
                    }
                }
                Target::Site(key) => {
                    ext.insert("site".into(), json!(key));
                    add(r, sites.peer(key), *proto, ports, grants);
                }
            }
        }
        Check::Dns => add(
            r,
            Peer::Controller(DNS_URN.into()),
            Proto::Udp,
            &[53],
            grants,
        ),
        Check::Ntp { server } => {
            let ntp = || Peer::Controller(NTP_URN.into());
            let (peer, word) = match server {
                NtpSource::Any => (ntp(), "any".to_string()),
                NtpSource::Dhcp => {
                    notes.push(format!(
                        "requirement `{}`: NTP from the server DHCP offers becomes the standard NTP controller ({NTP_URN})",
                        r.id
                    ));
                    (ntp(), "dhcp".to_string())
                }
                NtpSource::Name(n) if n.is_literal() => (Peer::Name(n.as_str()), n.to_string()),
                NtpSource::Name(n) => {
                    notes.push(format!(
                        "requirement `{}`: the NTP server {n} is a wildcard: exported as the standard NTP controller ({NTP_URN}), the pattern kept in the {EXTENSION} extension",
                        r.id
                    ));
                    (ntp(), n.to_string())
                }
            };
            ext.insert("server".into(), json!(word));
            add(r, peer, Proto::Udp, &[123], grants);
        }
        Check::LocalOnly { proto, ports } => {
            ext.insert("proto".into(), json!(proto.as_str()));
            ext.insert("ports".into(), json!(ports));
            add(r, Peer::Local, *proto, ports, grants);
        }
        Check::Wifi { channels, bands } => {
            ext.insert("channels".into(), json!(channels));
            if !bands.is_empty() {
                ext.insert("bands".into(), json!(bands));
            }
        }
        Check::Subnet { forbidden } => {
            let f: Vec<String> = forbidden.iter().map(|n| n.to_string()).collect();
            ext.insert("forbidden".into(), json!(f));
        }
        Check::NoInterception { names } => {
            if !names.is_empty() {
                let n: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
                ext.insert("names".into(), json!(n));
            }
        }
        Check::Dhcp | Check::NoInbound => {}
    }
    if !has_mud_form(&r.check) {
        let why = match r.check {
            Check::NoInbound => "implied by MUD, which denies what it does not list",
            _ => "MUD has no form for it",
        };
        notes.push(format!(
            "requirement `{}` ({}): {why}; kept in the {EXTENSION} extension, which MUD managers ignore",
            r.id,
            r.check.kind()
        ));
    }
    let aces: Vec<String> = grants
        .get(first..)
        .unwrap_or_default()
        .iter()
        .flat_map(|g| [format!("{}-fr", g.ace), format!("{}-to", g.ace)])
        .collect();
    if !aces.is_empty() {
        ext.insert("aces".into(), json!(aces));
    }
    Value::Object(ext)
}

/// What the profile as a whole loses: site values become controllers
/// someone must map, alternatives and optional services become plain grants.
fn profile_notes(p: &Profile, sites: &Sites<'_>, notes: &mut Vec<String>) {
    for s in &p.site {
        let users: Vec<&str> = p
            .requirements
            .iter()
            .filter(|r| {
                matches!(&r.check, Check::Egress { target: Target::Site(k), .. } if *k == s.key)
            })
            .map(|r| r.id.as_str())
            .collect();
        let as_what = match sites.peer(&s.key) {
            Peer::Controller(u) => format!("the controller class {u}"),
            _ => "my-controller".to_string(),
        };
        notes.push(format!(
            "the site's `{}` ({}) becomes {as_what}: the MUD manager must be told which address that is",
            s.key,
            if users.is_empty() {
                "no requirement uses it".to_string()
            } else {
                format!("for {}", users.join(", "))
            }
        ));
    }
    let soft: Vec<&str> = p
        .requirements
        .iter()
        .filter(|r| (r.group.is_some() || !r.required) && has_mud_form(&r.check))
        .map(|r| r.id.as_str())
        .collect();
    if !soft.is_empty() {
        notes.push(format!(
            "alternatives and optional requirements ({}) have no MUD meaning: a MUD manager opens them all; their roles are kept in the {EXTENSION} extension",
            soft.join(", ")
        ));
    }
}

/// Grants for `ports` of `peer`, one per run of consecutive ports.
fn add<'a>(
    r: &Requirement,
    peer: Peer<'a>,
    proto: Proto,
    ports: &[u16],
    grants: &mut Vec<Grant<'a>>,
) {
    for (lo, hi) in runs(ports) {
        let ace = format!("{}-{}", clip(&r.id, 40), grants.len());
        grants.push(Grant {
            ace,
            peer: clone_peer(&peer),
            proto,
            lo,
            hi,
        });
    }
}

fn clone_peer<'a>(p: &Peer<'a>) -> Peer<'a> {
    match p {
        Peer::Name(n) => Peer::Name(n),
        Peer::Controller(u) => Peer::Controller(u.clone()),
        Peer::MyController => Peer::MyController,
        Peer::Local => Peer::Local,
    }
}

/// Consecutive ports as (first, last) runs: [80, 443, 5246, 5247] gives
/// (80, 80), (443, 443), (5246, 5247).
fn runs(ports: &[u16]) -> Vec<(u16, u16)> {
    let mut sorted = ports.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out: Vec<(u16, u16)> = Vec::new();
    for p in sorted {
        match out.last_mut() {
            Some((_, hi)) if hi.checked_add(1) == Some(p) => *hi = p,
            _ => out.push((p, p)),
        }
    }
    out
}

/// The keys every requirement has, as the profile format names them.
fn common_fields(r: &Requirement) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(r.id));
    m.insert("kind".into(), json!(r.check.kind()));
    m.insert("description".into(), json!(r.description));
    m.insert("cite".into(), json!(r.cite));
    if let Some(q) = &r.quote {
        m.insert("quote".into(), json!(q));
    }
    if !r.required {
        m.insert("required".into(), json!(false));
    }
    if let Some(g) = &r.group {
        m.insert("group".into(), json!(g));
    }
    if let Some(i) = &r.impact {
        m.insert("impact".into(), json!(i));
    }
    m
}

/// The `egresswatch` extension: the profile in its own keys.
fn extension(p: &Profile, requirements: Vec<Value>, sites: &Sites<'_>) -> Value {
    let documents: Vec<Value> = p
        .documents
        .iter()
        .map(|d| {
            let mut m = Map::new();
            m.insert("id".into(), json!(d.id));
            m.insert("title".into(), json!(d.title));
            m.insert("source".into(), json!(d.source));
            if let Some(l) = &d.language {
                m.insert("language".into(), json!(l));
            }
            Value::Object(m)
        })
        .collect();
    let site: Vec<Value> = p
        .site
        .iter()
        .map(|s| {
            let mut m = Map::new();
            m.insert("key".into(), json!(s.key));
            m.insert("description".into(), json!(s.description));
            if !s.learn.is_empty() {
                m.insert("learn".into(), json!(s.learn));
            }
            m.insert("mud".into(), json!(sites.uri(&s.key)));
            Value::Object(m)
        })
        .collect();
    let signals = serde_json::to_value(&p.identify.signals).unwrap_or(Value::Null);
    json!({
        "profile": {
            "id": p.id,
            "name": p.name,
            "vendor": p.vendor,
            "device": p.device,
        },
        "document": documents,
        "identify": {
            "min_score": p.identify.min_score,
            "general_purpose": p.identify.general_purpose,
            "signal": signals,
        },
        "site": site,
        "requirement": requirements,
    })
}

fn acl(name: &str, fam: Family, grants: &[Grant<'_>], from_device: bool) -> Value {
    let suffix = if from_device { "fr" } else { "to" };
    let aces: Vec<Value> = grants
        .iter()
        .map(|g| ace(&format!("{}-{suffix}", g.ace), fam, g, from_device))
        .collect();
    json!({
        "name": name,
        "type": fam.acl_type(),
        "aces": { "ace": aces },
    })
}

/// One ACE: the request (from-device) or the reply (to-device) of a
/// connection the device opens; for a local-only service, the request the
/// local network sends (to-device) and the device's reply (from-device).
fn ace(name: &str, fam: Family, g: &Grant<'_>, from_device: bool) -> Value {
    let local = matches!(g.peer, Peer::Local);
    let mut l3 = Map::new();
    let mut mud = Map::new();
    l3.insert(
        "protocol".into(),
        json!(match g.proto {
            Proto::Tcp => 6,
            Proto::Udp => 17,
        }),
    );
    match &g.peer {
        Peer::Name(n) => {
            let key = if from_device {
                "ietf-acldns:dst-dnsname"
            } else {
                "ietf-acldns:src-dnsname"
            };
            l3.insert(key.into(), json!(n));
        }
        Peer::Controller(u) => {
            mud.insert("controller".into(), json!(u));
        }
        Peer::MyController => {
            mud.insert("my-controller".into(), json!([null]));
        }
        Peer::Local => {
            mud.insert("local-networks".into(), json!([null]));
        }
    }
    // The service's port: the remote end's for egress, the device's own
    // for a local service.
    let port_key = if from_device != local {
        "destination-port"
    } else {
        "source-port"
    };
    let port = if g.lo == g.hi {
        json!({ "operator": "eq", "port": g.lo })
    } else {
        json!({ "lower-port": g.lo, "upper-port": g.hi })
    };
    let mut l4 = Map::new();
    l4.insert(port_key.into(), port);
    if g.proto == Proto::Tcp {
        l4.insert(
            "ietf-mud:direction-initiated".into(),
            json!(if local { "to-device" } else { "from-device" }),
        );
    }
    let mut matches = Map::new();
    matches.insert(fam.container().into(), Value::Object(l3));
    if !mud.is_empty() {
        matches.insert("ietf-mud:mud".into(), Value::Object(mud));
    }
    matches.insert(g.proto.as_str().into(), Value::Object(l4));
    json!({
        "name": name,
        "matches": matches,
        "actions": { "forwarding": "accept" },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_become_runs() {
        assert_eq!(
            runs(&[443, 80, 5247, 5246, 80]),
            [(80, 80), (443, 443), (5246, 5247)]
        );
        assert_eq!(runs(&[65535, 65534]), [(65534, 65535)]);
    }
}
