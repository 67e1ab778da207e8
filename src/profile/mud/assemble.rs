//! Grants become requirements and site values.
//!
//! In order: replies are set aside (the requirement of the request they
//! answer covers them; a reply to nothing is a note); the extension's
//! requirements claim the ACEs they list (their names and ports come from
//! those ACEs, everything else from the extension); the grants left make
//! one `dns` and one `ntp` requirement, then one egress requirement per
//! name (or site value) and transport, and one `local_only` per transport.

use super::ext::{set, tstr, Ext, ExtReq};
use super::read::{join_ports, Grant, Log, Peer, Role};
use super::toml::{TVal, Table};
use super::{slug, url_stem, DNS_URN, EXTENSION, NTP_URN};
use crate::profile::Proto;
use std::collections::{BTreeMap, BTreeSet};

/// What the access lists (and the extension) make of a profile.
pub(super) struct Assembly {
    pub site: Vec<Table>,
    pub requirements: Vec<Table>,
    /// The literal names egress requirements reach, for identification.
    pub names: Vec<String>,
}

/// Requirements and site values from `grants`; `mud_doc` is the id of the
/// MUD file's `[[document]]`, `doc_ids` every document id.
pub(super) fn assemble(
    grants: &[Grant],
    ext: Option<&Ext>,
    mud_doc: &str,
    doc_ids: &BTreeSet<String>,
    log: &mut Log,
) -> Assembly {
    let (site, site_keys) = site_values(grants, ext, log);
    let mut by_ace: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, g) in grants.iter().enumerate() {
        by_ace.entry(g.ace.as_str()).or_default().push(i);
    }
    let mut a = Assembler {
        grants,
        by_ace,
        used: vec![false; grants.len()],
        ids: Ids::default(),
        site_keys,
        mud_doc,
        requirements: Vec::new(),
    };
    a.replies(log);
    for r in ext.map_or(&[][..], |e| e.requirements.as_slice()) {
        a.claim(r, doc_ids, log);
    }
    let names = a.free(log);
    Assembly {
        site,
        requirements: a.requirements,
        names,
    }
}

struct Assembler<'g> {
    grants: &'g [Grant],
    /// The grants of each ACE name.
    by_ace: BTreeMap<&'g str, Vec<usize>>,
    /// Grants a requirement (or a request, for replies) already carries.
    used: Vec<bool>,
    ids: Ids,
    /// (controller, site key): `my-controller` or a controller URI.
    site_keys: Vec<(String, String)>,
    mud_doc: &'g str,
    requirements: Vec<Table>,
}

/// Ids already taken in one profile.
#[derive(Default)]
struct Ids(BTreeSet<String>);

impl Ids {
    /// `want` (as an id), or `want-2`, `want-3`, ... when taken.
    fn take(&mut self, want: &str) -> String {
        let base = match slug(want, 56) {
            s if s.is_empty() => "requirement".to_string(),
            s => s,
        };
        let mut id = base.clone();
        let mut n = 2;
        while self.0.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        self.0.insert(id.clone());
        id
    }
}

/// `my-controller`, or the URI of a controller class other than DNS and NTP.
fn controller_uri(peer: &Peer) -> Option<String> {
    match peer {
        Peer::Controller(u) if u != DNS_URN && u != NTP_URN => Some(u.clone()),
        Peer::MyController => Some("my-controller".into()),
        _ => None,
    }
}

/// The site key a controller becomes without the extension: the URI's
/// fragment or last path segment (`lighting-controller`).
fn controller_key(peer: &Peer) -> String {
    let Peer::Controller(u) = peer else {
        return "my-controller".into();
    };
    let frag = u.split_once('#').map_or("", |(_, f)| f);
    let s = slug(if frag.is_empty() { url_stem(u) } else { frag }, 40);
    if s.is_empty() {
        "controller".into()
    } else {
        s
    }
}

/// The `[[site]]` tables: the extension's, then one per controller class
/// the grants use that the extension does not map.
fn site_values(
    grants: &[Grant],
    ext: Option<&Ext>,
    log: &mut Log,
) -> (Vec<Table>, Vec<(String, String)>) {
    let mut site: Vec<Table> = Vec::new();
    let mut keys: Vec<(String, String)> = Vec::new();
    let mut taken = Ids::default();
    for (t, mud) in ext.map_or(&[][..], |e| e.site.as_slice()) {
        if let Some(k) = tstr(t, "key") {
            taken.0.insert(k.clone());
            if let Some(m) = mud {
                keys.push((m.clone(), k));
            }
            site.push(t.clone());
        }
    }
    for g in grants {
        let Some(uri) = controller_uri(&g.peer) else {
            continue;
        };
        if keys.iter().any(|(u, _)| *u == uri) {
            continue;
        }
        let key = taken.take(&controller_key(&g.peer));
        let description = match &g.peer {
            Peer::MyController => {
                "The controller the site assigns to this device (MUD my-controller)".to_string()
            }
            _ => format!("The site's controller of the class {uri} (MUD controller)"),
        };
        site.push(vec![
            ("key".into(), TVal::Str(key.clone())),
            ("description".into(), TVal::Str(description)),
        ]);
        log.note(format!(
            "{} becomes the site value `{key}`: give its address with --site",
            g.peer
        ));
        keys.push((uri, key));
    }
    (site, keys)
}

/// NTP: the standard controller, or a named server on UDP 123.
fn is_ntp(g: &Grant) -> bool {
    match &g.peer {
        Peer::Controller(u) => u == NTP_URN,
        Peer::Name(_) => g.proto == Proto::Udp && g.ports == [123],
        _ => false,
    }
}

/// The request a requirement rests on (not a reply).
fn carries(g: &Grant) -> bool {
    g.is_request() || g.peer == Peer::Local
}

/// The quote of a requirement: the ACEs it rests on, in words.
fn quote(gs: &[&Grant]) -> String {
    const SHOWN: usize = 4;
    let mut q: Vec<String> = gs.iter().take(SHOWN).map(|g| g.words()).collect();
    if gs.len() > SHOWN {
        q.push(format!("and {} more", gs.len() - SHOWN));
    }
    q.join("; ")
}

fn union_ports(gs: &[&Grant]) -> Vec<u16> {
    let set: BTreeSet<u16> = gs.iter().flat_map(|g| g.ports.iter().copied()).collect();
    set.into_iter().collect()
}

fn upper(p: Proto) -> String {
    p.as_str().to_uppercase()
}

impl Assembler<'_> {
    fn site_key(&self, p: &Peer) -> Option<String> {
        let uri = controller_uri(p)?;
        self.site_keys
            .iter()
            .find(|(u, _)| *u == uri)
            .map(|(_, k)| k.clone())
    }

    /// The common keys of a requirement made from grants.
    fn head(&self, id: String, kind: &str, description: String, gs: &[&Grant]) -> Table {
        vec![
            ("id".into(), TVal::Str(id)),
            ("kind".into(), TVal::Str(kind.into())),
            ("description".into(), TVal::Str(description)),
            ("cite".into(), TVal::Str(self.mud_doc.to_string())),
            ("quote".into(), TVal::Str(quote(gs))),
        ]
    }

    /// Sets the replies aside, noting those that answer no request.
    fn replies(&mut self, log: &mut Log) {
        for (i, g) in self.grants.iter().enumerate() {
            if carries(g) {
                continue;
            }
            self.used[i] = true;
            let answered = self.grants.iter().any(|r| {
                r.is_request()
                    && r.peer == g.peer
                    && r.proto == g.proto
                    && g.ports.iter().all(|p| r.ports.contains(p))
            });
            if !answered {
                log.note(format!(
                    "ACE `{}` lets {} answer from {} {}, but no from-device ACE opens that: not carried",
                    g.ace,
                    g.peer,
                    upper(g.proto),
                    join_ports(&g.ports)
                ));
            }
        }
    }

    /// One requirement of the extension, with the names and ports of the
    /// ACEs it lists; MUD's own word wins over the extension's.
    fn claim(&mut self, r: &ExtReq, doc_ids: &BTreeSet<String>, log: &mut Log) {
        let kind = r.str("kind").unwrap_or("");
        let mut t = r.table.clone();
        if let Some(id) = r.str("id") {
            self.ids.0.insert(id.to_string());
        }
        let cite = tstr(&t, "cite")
            .filter(|c| doc_ids.contains(c))
            .unwrap_or_else(|| self.mud_doc.to_string());
        set(&mut t, "cite", TVal::Str(cite));
        if r.aces.is_empty() {
            // MUD has no form for it: the extension is all there is.
            self.requirements.push(t);
            return;
        }
        let wants_site = r.str("site").is_some();
        let mut mine: Vec<&Grant> = Vec::new();
        let grants = self.grants;
        let listed: BTreeSet<usize> = r
            .aces
            .iter()
            .filter_map(|a| self.by_ace.get(a.as_str()))
            .flatten()
            .copied()
            .collect();
        for (i, g) in listed.into_iter().filter_map(|i| Some((i, grants.get(i)?))) {
            let fits = match kind {
                "egress" => match &g.peer {
                    Peer::Name(_) => !wants_site && g.role == Role::Client,
                    p => wants_site && controller_uri(p).is_some(),
                },
                "dns" => g.peer == Peer::Controller(DNS_URN.into()),
                "ntp" => is_ntp(g),
                "local_only" => g.peer == Peer::Local,
                _ => false,
            };
            if fits {
                self.used[i] = true;
                if carries(g) {
                    mine.push(g);
                }
            }
        }
        let Some(first) = mine.first() else {
            log.note(format!(
                "requirement `{}` of the {EXTENSION} extension: none of its ACEs is in the access lists: dropped",
                r.str("id").unwrap_or("?")
            ));
            return;
        };
        let proto = first.proto;
        mine.retain(|g| g.proto == proto);
        let proto_ports = |t: &mut Table| {
            set(t, "proto", TVal::Str(proto.as_str().into()));
            set(t, "ports", TVal::ports(&union_ports(&mine)));
        };
        match kind {
            "egress" if wants_site => {
                proto_ports(&mut t);
                if let Some(k) = self.site_key(&mine[0].peer) {
                    set(&mut t, "site", TVal::Str(k));
                }
            }
            "egress" => {
                proto_ports(&mut t);
                let mut names: Vec<String> = Vec::new();
                for g in &mine {
                    if let Peer::Name(n) = &g.peer {
                        names.push(n.clone());
                    }
                }
                // Wildcards live in the extension only.
                if let Some((_, TVal::List(extra))) = t.iter().find(|(k, _)| k == "names") {
                    for x in extra {
                        if let TVal::Str(s) = x {
                            names.push(s.clone());
                        }
                    }
                }
                let mut seen = BTreeSet::new();
                names.retain(|n| seen.insert(n.clone()));
                set(&mut t, "names", TVal::strs(&names));
            }
            "ntp" if r.str("server").is_none() => {
                let server = match &mine[0].peer {
                    Peer::Name(n) => n.clone(),
                    _ => "any".into(),
                };
                set(&mut t, "server", TVal::Str(server));
            }
            "local_only" => proto_ports(&mut t),
            _ => {}
        }
        self.requirements.push(t);
    }

    /// Requirements for the grants nothing claimed; returns the literal
    /// names they reach (NTP servers aside).
    fn free(&mut self, log: &mut Log) -> Vec<String> {
        let grants = self.grants;
        let free: Vec<&Grant> = grants
            .iter()
            .zip(&self.used)
            .filter(|(g, used)| !**used && carries(g))
            .map(|(g, _)| g)
            .collect();
        let has = |reqs: &[Table], kind: &str| {
            reqs.iter()
                .any(|t| tstr(t, "kind").as_deref() == Some(kind))
        };
        let mut dns_done = has(&self.requirements, "dns");
        let mut ntp_done = has(&self.requirements, "ntp");
        let ntp_controller = free
            .iter()
            .any(|g| g.peer == Peer::Controller(NTP_URN.into()));
        let mut ntp_name: Option<&str> = None;
        // (kind, target, proto) → grants, in first-seen order.
        let mut groups: Vec<(&'static str, String, Proto, Vec<&Grant>)> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for g in free {
            let (kind, target) = match &g.peer {
                Peer::Controller(u) if u == DNS_URN => {
                    if g.ports != [53] {
                        log.note(format!(
                            "ACE `{}`: the DNS controller on {} {} is read as DNS",
                            g.ace,
                            upper(g.proto),
                            join_ports(&g.ports)
                        ));
                    }
                    if !dns_done {
                        dns_done = true;
                        let id = self.ids.take("dns");
                        let d = format!("DNS from the site's servers (MUD controller {DNS_URN})");
                        let t = self.head(id, "dns", d, &[g]);
                        self.requirements.push(t);
                    }
                    continue;
                }
                Peer::Controller(u) if u == NTP_URN => {
                    if g.ports != [123] || g.proto != Proto::Udp {
                        log.note(format!(
                            "ACE `{}`: the NTP controller on {} {} is read as NTP",
                            g.ace,
                            upper(g.proto),
                            join_ports(&g.ports)
                        ));
                    }
                    if !ntp_done {
                        ntp_done = true;
                        let id = self.ids.take("ntp");
                        let d = format!("NTP from the site's servers (MUD controller {NTP_URN})");
                        let mut t = self.head(id, "ntp", d, &[g]);
                        t.push(("server".into(), TVal::Str("any".into())));
                        self.requirements.push(t);
                    }
                    continue;
                }
                // The first named NTP server is the ntp requirement (the
                // same name in another access list counts once); more
                // servers are plain egress.
                Peer::Name(n)
                    if is_ntp(g)
                        && !ntp_controller
                        && (ntp_name == Some(n.as_str()) || ntp_name.is_none() && !ntp_done) =>
                {
                    if ntp_name.is_none() {
                        ntp_done = true;
                        ntp_name = Some(n);
                        let id = self.ids.take("ntp");
                        let mut t = self.head(id, "ntp", format!("NTP from {n}"), &[g]);
                        t.push(("server".into(), TVal::Str(n.clone())));
                        self.requirements.push(t);
                    }
                    continue;
                }
                Peer::Name(n) => {
                    if !is_ntp(g) && !names.contains(n) {
                        names.push(n.clone());
                    }
                    ("name", n.clone())
                }
                Peer::Local => ("local", String::new()),
                p => (
                    "site",
                    self.site_key(p).unwrap_or_else(|| "controller".into()),
                ),
            };
            match groups
                .iter_mut()
                .find(|(k, t, p, _)| *k == kind && *t == target && *p == g.proto)
            {
                Some(grp) => grp.3.push(g),
                None => groups.push((kind, target, g.proto, vec![g])),
            }
        }
        for (kind, target, proto, gs) in groups {
            self.group(kind, &target, proto, &gs);
        }
        names
    }

    /// One requirement for grants of the same destination and transport.
    fn group(&mut self, kind: &str, target: &str, proto: Proto, gs: &[&Grant]) {
        let ports = union_ports(gs);
        let (up, list) = (upper(proto), join_ports(&ports));
        let (id, kind, description, extra) = match kind {
            "name" => (
                self.ids.take(target),
                "egress",
                format!("{up} {list} to {target}"),
                Some(("names", TVal::strs(&[target]))),
            ),
            "site" => (
                self.ids.take(&format!("{target}-{}", proto.as_str())),
                "egress",
                format!("{up} {list} to the site's {target}"),
                Some(("site", TVal::Str(target.to_string()))),
            ),
            _ => (
                self.ids.take(&format!("local-{}", proto.as_str())),
                "local_only",
                format!(
                    "{up} {list} of the device, for the local network only (MUD local-networks)"
                ),
                None,
            ),
        };
        let mut t = self.head(id, kind, description, gs);
        t.push(("proto".into(), TVal::Str(proto.as_str().into())));
        t.push(("ports".into(), TVal::ports(&ports)));
        if let Some((k, v)) = extra {
            t.push((k.into(), v));
        }
        self.requirements.push(t);
    }
}
