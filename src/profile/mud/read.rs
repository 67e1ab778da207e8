//! Reading a MUD file's access lists into grants: what the device may
//! reach (or serve to the local network), on which transport and ports.
//!
//! Both forms are read. The RFC form (RFC 8520 with RFC 8519 access lists):
//! `ietf-access-control-list:acls` → `acl` (`name`, `aces` → `ace`), each
//! ACE's `matches` in `ipv4`/`ipv6`, `tcp`/`udp` (`destination-port` with
//! `operator` and `port`, or `lower-port` and `upper-port`) and `ietf-mud:mud`.
//! The older draft form: `ietf-access-control-list:access-lists` → `acl`
//! (`acl-name`, `access-list-entries` → `ace` with `rule-name`), matches in
//! `ipv4-acl`/`tcp-acl`/`mud-acl` or flat, ports as
//! `destination-port-range`. Keys are compared without their module prefix.
//!
//! An ACE is carried when it names one destination (a DNS name, a
//! controller, `my-controller`, `local-networks`), TCP or UDP, and a service
//! port (at most [`MAX_RANGE`] of them). Everything else becomes a note that
//! names the ACE. Structural damage (a policy naming a missing ACL, a port
//! that is not a port) is an error.

use super::{MAX_ACES, MAX_RANGE};
use crate::profile::Proto;
use serde_json::{Map, Value};

/// Where a grant goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Peer {
    Name(String),
    /// A class of local servers (`urn:ietf:params:mud:dns`, or a URI).
    Controller(String),
    MyController,
    /// The local network.
    Local,
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Peer::Name(n) => f.write_str(n),
            Peer::Controller(u) => write!(f, "the controller {u}"),
            Peer::MyController => f.write_str("my-controller"),
            Peer::Local => f.write_str("the local network"),
        }
    }
}

/// Who opens the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// The device opens it to the peer's `ports`.
    Client,
    /// The peer opens it to the device's `ports`.
    Server,
}

/// One carried ACE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Grant {
    pub ace: String,
    pub from_device: bool,
    pub peer: Peer,
    pub role: Role,
    pub proto: Proto,
    pub ports: Vec<u16>,
}

impl Grant {
    /// The request direction of the connection: from-device for a client,
    /// to-device for a service. The other direction is its replies.
    pub fn is_request(&self) -> bool {
        self.from_device == (self.role == Role::Client)
    }

    /// The ACE in words, for a requirement's `quote`.
    pub fn words(&self) -> String {
        let dir = if self.from_device {
            "from-device"
        } else {
            "to-device"
        };
        let ports = join_ports(&self.ports);
        let proto = self.proto.as_str().to_uppercase();
        match self.role {
            Role::Client => format!("{dir} ACE {}: {proto} {ports} to {}", self.ace, self.peer),
            Role::Server => format!(
                "{dir} ACE {}: {proto} {ports} of the device, from {}",
                self.ace, self.peer
            ),
        }
    }
}

pub(super) fn join_ports(p: &[u16]) -> String {
    p.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The key's name without its module prefix (`ietf-mud:mud` → `mud`).
pub(super) fn local_name(k: &str) -> &str {
    k.rsplit_once(':').map_or(k, |(_, l)| l)
}

/// The value under the first of `keys`, with or without a module prefix.
pub(super) fn get<'v>(o: &'v Map<String, Value>, keys: &[&str]) -> Option<&'v Value> {
    keys.iter().find_map(|k| o.get(*k)).or_else(|| {
        o.iter()
            .find(|(k, _)| keys.contains(&local_name(k)))
            .map(|(_, v)| v)
    })
}

/// A string under one of `keys`.
pub(super) fn get_str<'v>(o: &'v Map<String, Value>, keys: &[&str]) -> Option<&'v str> {
    get(o, keys).and_then(|v| v.as_str())
}

/// Errors (line 0 unless the JSON parser gave one) and notes.
#[derive(Debug, Default)]
pub(super) struct Log {
    pub errors: Vec<String>,
    pub notes: Vec<String>,
}

impl Log {
    pub fn err(&mut self, m: String) {
        self.errors.push(m);
    }
    pub fn note(&mut self, m: String) {
        if !self.notes.contains(&m) {
            self.notes.push(m);
        }
    }
}

/// The carried ACEs of both policies, in file order, without duplicates
/// (the same ACE in an IPv4 and an IPv6 list counts once).
pub(super) fn grants(
    root: &Map<String, Value>,
    mud: &Map<String, Value>,
    log: &mut Log,
) -> Vec<Grant> {
    let acls = read_acls(root, log);
    let mut used = vec![false; acls.len()];
    let mut out: Vec<Grant> = Vec::new();
    let mut read = 0usize;
    for (policy, from_device) in [("from-device-policy", true), ("to-device-policy", false)] {
        for name in policy_acls(mud, policy, log) {
            let Some(i) = acls.iter().position(|a| a.name == name) else {
                log.err(format!(
                    "{policy} names the access list `{name}`, which the file does not define"
                ));
                continue;
            };
            used[i] = true;
            for ace in &acls[i].aces {
                read += 1;
                if read > MAX_ACES {
                    log.note(format!("more than {MAX_ACES} ACEs: the rest are not read"));
                    return out;
                }
                if let Some(g) = read_ace(ace, from_device, log) {
                    if !out.contains(&g) {
                        out.push(g);
                    }
                }
            }
        }
    }
    for (a, u) in acls.iter().zip(used) {
        if !u {
            log.note(format!(
                "the access list `{}` is in neither policy: a MUD manager does not apply it, nor does the profile",
                a.name
            ));
        }
    }
    out
}

struct Acl<'v> {
    name: String,
    aces: Vec<&'v Map<String, Value>>,
}

fn read_acls<'v>(root: &'v Map<String, Value>, log: &mut Log) -> Vec<Acl<'v>> {
    let mut out = Vec::new();
    for (key, v) in root {
        if !matches!(local_name(key), "acls" | "access-lists") {
            continue;
        }
        let list = v
            .as_object()
            .and_then(|o| get(o, &["acl", "access-list"]))
            .and_then(|l| l.as_array());
        let Some(list) = list else {
            log.err(format!("`{key}` must hold a list `acl`"));
            continue;
        };
        for (i, a) in list.iter().enumerate() {
            let Some(a) = a.as_object() else {
                log.err(format!("`{key}`: access list {} is not an object", i + 1));
                continue;
            };
            let Some(name) = get_str(a, &["name", "acl-name"]) else {
                log.err(format!("`{key}`: access list {} has no `name`", i + 1));
                continue;
            };
            let entries = get(a, &["aces", "access-list-entries"]);
            let list = match entries {
                None => Some(&[][..]),
                Some(Value::Array(l)) => Some(l.as_slice()),
                Some(Value::Object(o)) => get(o, &["ace", "access-list-entry"])
                    .and_then(|l| l.as_array())
                    .map(|l| l.as_slice()),
                Some(_) => None,
            };
            let Some(list) = list else {
                log.err(format!(
                    "access list `{name}`: `aces` must hold a list `ace`"
                ));
                continue;
            };
            let mut aces = Vec::new();
            for (j, e) in list.iter().enumerate() {
                match e.as_object() {
                    Some(o) => aces.push(o),
                    None => log.err(format!(
                        "access list `{name}`: ACE {} is not an object",
                        j + 1
                    )),
                }
            }
            out.push(Acl {
                name: name.to_string(),
                aces,
            });
        }
    }
    out
}

/// The access-list names a policy applies.
fn policy_acls(mud: &Map<String, Value>, policy: &str, log: &mut Log) -> Vec<String> {
    let Some(p) = get(mud, &[policy]) else {
        return Vec::new();
    };
    let list = p
        .as_object()
        .and_then(|o| get(o, &["access-lists"]))
        .and_then(|v| v.as_object())
        .and_then(|o| get(o, &["access-list"]))
        .and_then(|v| v.as_array());
    let Some(list) = list else {
        log.err(format!(
            "`{policy}` must be {{\"access-lists\": {{\"access-list\": [...]}}}}"
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in list {
        match e
            .as_object()
            .and_then(|o| get_str(o, &["name", "acl-name"]))
        {
            Some(n) => out.push(n.to_string()),
            None => log.err(format!("`{policy}` lists an access list without a `name`")),
        }
    }
    out
}

/// Ports an ACE matches.
enum Ports {
    List(Vec<u16>),
    /// More than the profile format can list, in words.
    Wide(String),
}

/// What an ACE's matches say.
#[derive(Default)]
struct Facts {
    dst_dns: Option<String>,
    src_dns: Option<String>,
    controller: Option<String>,
    my_controller: bool,
    local: bool,
    protocol: Option<u64>,
    l4: Option<Proto>,
    dst_port: Option<Ports>,
    src_port: Option<Ports>,
    initiated: Option<String>,
    /// Destinations a profile cannot name (manufacturer, addresses, ...).
    foreign: Vec<String>,
    /// Further conditions the profile leaves out.
    ignored: Vec<String>,
}

fn read_ace(ace: &Map<String, Value>, from_device: bool, log: &mut Log) -> Option<Grant> {
    let name = get_str(ace, &["name", "rule-name"]).unwrap_or("(unnamed)");
    let what = format!("ACE `{name}`");
    if let Some(a) = get(ace, &["actions"]).and_then(|a| a.as_object()) {
        let fwd = get_str(a, &["forwarding"]).map(local_name);
        let deny = matches!(fwd, Some("drop" | "reject")) || get(a, &["deny"]).is_some();
        if deny {
            log.note(format!(
                "{what} drops traffic: a profile lists only what the device needs, so it is not carried"
            ));
            return None;
        }
    }
    let mut f = Facts::default();
    match get(ace, &["matches"]) {
        Some(Value::Object(m)) => read_matches(m, &what, &mut f, log),
        Some(_) => {
            log.err(format!("{what}: `matches` must be an object"));
            return None;
        }
        None => {}
    }
    classify(name, &what, from_device, f, log)
}

fn read_matches(m: &Map<String, Value>, what: &str, f: &mut Facts, log: &mut Log) {
    for (k, v) in m {
        let l = local_name(k);
        let container = match l {
            "ipv4" | "ipv6" | "ipv4-acl" | "ipv6-acl" | "mud" | "mud-acl" => true,
            "tcp" | "tcp-acl" => {
                f.l4 = Some(Proto::Tcp);
                true
            }
            "udp" | "udp-acl" => {
                f.l4 = Some(Proto::Udp);
                true
            }
            "icmp" | "icmp-acl" | "icmpv6" => {
                f.protocol = f.protocol.or(Some(1));
                continue;
            }
            "eth" | "eth-acl" => {
                f.foreign.push("Ethernet matches".into());
                continue;
            }
            "any-acl" => continue,
            _ => false,
        };
        if container {
            match v.as_object() {
                Some(o) => {
                    for (k2, v2) in o {
                        read_field(k2, v2, what, f, log);
                    }
                }
                None => log.err(format!("{what}: `{k}` must be an object")),
            }
        } else {
            // The oldest drafts put the fields right in `matches`.
            read_field(k, v, what, f, log);
        }
    }
}

fn read_field(k: &str, v: &Value, what: &str, f: &mut Facts, log: &mut Log) {
    let s = v.as_str();
    match local_name(k) {
        "protocol" => match v.as_u64().or_else(|| s.and_then(|s| s.parse().ok())) {
            Some(n) if n <= 255 => f.protocol = Some(n),
            _ => log.err(format!("{what}: `protocol` must be a number from 0 to 255")),
        },
        "dst-dnsname" | "src-dnsname" => {
            let Some(name) = s else {
                log.err(format!("{what}: `{k}` must be a string"));
                return;
            };
            if !dns_name(name) {
                f.foreign.push(format!("`{name}`, which is not a DNS name"));
                return;
            }
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if local_name(k) == "dst-dnsname" {
                f.dst_dns = Some(name);
            } else {
                f.src_dns = Some(name);
            }
        }
        "destination-port" | "destination-port-range" => f.dst_port = ports(k, v, what, log),
        "source-port" | "source-port-range" => f.src_port = ports(k, v, what, log),
        "direction-initiated" => match s.map(local_name) {
            Some(d @ ("from-device" | "to-device")) => f.initiated = Some(d.to_string()),
            _ => log.err(format!(
                "{what}: `direction-initiated` must be from-device or to-device"
            )),
        },
        "controller" => match s {
            Some(u) if !u.trim().is_empty() => f.controller = Some(u.trim().to_string()),
            _ => log.err(format!("{what}: `controller` must be a URI")),
        },
        "my-controller" => f.my_controller = true,
        "local-networks" => f.local = true,
        "manufacturer" => f
            .foreign
            .push(format!("devices of the manufacturer {}", s.unwrap_or("?"))),
        "same-manufacturer" => f.foreign.push("devices of the same manufacturer".into()),
        "model" => f
            .foreign
            .push(format!("devices of the model {}", s.unwrap_or("?"))),
        l if l.ends_with("-network") || l.ends_with("-address") || l.ends_with("-mac-address") => {
            f.foreign.push(format!("addresses (`{l}`)"))
        }
        l => f.ignored.push(format!("`{l}`")),
    }
}

/// A DNS name as `dst-dnsname` may hold it: no wildcard, no space.
fn dns_name(s: &str) -> bool {
    let s = s.trim_end_matches('.');
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

fn port_number(v: &Value) -> Option<u32> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        .filter(|n| *n <= 65_535)
        .map(|n| n as u32)
}

/// A port match: `{"operator": "eq", "port": 443}`, `{"lower-port": 5246,
/// "upper-port": 5247}`, or a bare number.
fn ports(k: &str, v: &Value, what: &str, log: &mut Log) -> Option<Ports> {
    let bad = |log: &mut Log, why: String| {
        log.err(format!("{what}: `{k}`: {why}"));
        None
    };
    let o = match v {
        Value::Object(o) => o,
        other => {
            return match port_number(other) {
                Some(p) if p > 0 => Some(Ports::List(vec![p as u16])),
                _ => bad(log, format!("{other} is not a port")),
            }
        }
    };
    if let Some(lo) = get(o, &["lower-port"]) {
        let Some(lo_n) = port_number(lo) else {
            return bad(log, format!("lower-port {lo} is not a port"));
        };
        let hi_n = match get(o, &["upper-port"]) {
            None => lo_n,
            Some(hi) => match port_number(hi) {
                Some(h) => h,
                None => return bad(log, format!("upper-port {hi} is not a port")),
            },
        };
        if lo_n > hi_n {
            return bad(log, format!("lower-port {lo_n} is above upper-port {hi_n}"));
        }
        if hi_n == 0 {
            return bad(log, "port 0 is not a service port".into());
        }
        let lo_n = lo_n.max(1);
        return Some(if hi_n - lo_n + 1 > MAX_RANGE {
            Ports::Wide(format!("ports {lo_n} to {hi_n}"))
        } else {
            Ports::List((lo_n..=hi_n).map(|p| p as u16).collect())
        });
    }
    let Some(p) = get(o, &["port"]) else {
        return bad(
            log,
            "names no port (`port`, or `lower-port` and `upper-port`)".into(),
        );
    };
    let Some(n) = port_number(p) else {
        return bad(log, format!("{p} is not a port"));
    };
    match get_str(o, &["operator"]).map(local_name).unwrap_or("eq") {
        "eq" if n == 0 => bad(log, "port 0 is not a service port".into()),
        "eq" => Some(Ports::List(vec![n as u16])),
        "neq" => Some(Ports::Wide(format!("every port but {n}"))),
        "lte" | "lt" => Some(Ports::Wide(format!("ports up to {n}"))),
        "gte" | "gt" => Some(Ports::Wide(format!("ports from {n}"))),
        op => bad(log, format!("unknown operator `{op}` (eq, neq, lte, gte)")),
    }
}

/// Decides what an ACE grants, or notes why it is not carried.
fn classify(name: &str, what: &str, from_device: bool, f: Facts, log: &mut Log) -> Option<Grant> {
    let dir = if from_device {
        "from-device"
    } else {
        "to-device"
    };
    if !f.ignored.is_empty() {
        log.note(format!(
            "{what}: the conditions {} are not carried (the profile keeps its destination and port)",
            f.ignored.join(", ")
        ));
    }
    let (remote_dns, wrong_side) = if from_device {
        (f.dst_dns, f.src_dns)
    } else {
        (f.src_dns, f.dst_dns)
    };
    let mut foreign = f.foreign;
    if let Some(n) = wrong_side {
        foreign.push(format!("the device's own name {n}"));
    }
    if !foreign.is_empty() {
        log.note(format!(
            "{what} ({dir}) is about {}, which a profile cannot name: not carried",
            foreign.join(", ")
        ));
        return None;
    }
    let mut peers = Vec::new();
    if let Some(n) = remote_dns {
        peers.push(Peer::Name(n));
    }
    if let Some(u) = f.controller {
        peers.push(Peer::Controller(u));
    }
    if f.my_controller {
        peers.push(Peer::MyController);
    }
    if f.local {
        peers.push(Peer::Local);
    }
    let peer = match peers.len() {
        1 => peers.remove(0),
        0 => {
            log.note(format!(
                "{what} ({dir}) allows any destination: a profile names its destinations, so it is not carried"
            ));
            return None;
        }
        _ => {
            log.note(format!(
                "{what} ({dir}) names several destinations at once: not carried"
            ));
            return None;
        }
    };
    let proto = match (f.l4, f.protocol) {
        (Some(p), None) => p,
        (Some(Proto::Tcp), Some(6)) | (None, Some(6)) => Proto::Tcp,
        (Some(Proto::Udp), Some(17)) | (None, Some(17)) => Proto::Udp,
        (_, Some(1 | 58)) => {
            log.note(format!(
                "{what} ({dir}): ICMP to {peer} is not carried (profiles check TCP and UDP)"
            ));
            return None;
        }
        (None, None) => {
            log.note(format!(
                "{what} ({dir}): every protocol to {peer} is not carried (profiles name TCP or UDP ports)"
            ));
            return None;
        }
        (_, Some(n)) => {
            log.note(format!(
                "{what} ({dir}): IP protocol {n} to {peer} is not carried (profiles check TCP and UDP)"
            ));
            return None;
        }
    };
    let (remote_port, device_port) = if from_device {
        (f.dst_port, f.src_port)
    } else {
        (f.src_port, f.dst_port)
    };
    let role = match f.initiated.as_deref() {
        Some("from-device") => Role::Client,
        Some(_) => Role::Server,
        None if remote_port.is_none() && device_port.is_some() => Role::Server,
        None => Role::Client,
    };
    let (service, other) = match role {
        Role::Client => (remote_port, device_port),
        Role::Server => (device_port, remote_port),
    };
    if other.is_some() {
        log.note(format!(
            "{what} ({dir}): the port on the {} side is not carried",
            if role == Role::Client {
                "device's"
            } else {
                "peer's"
            }
        ));
    }
    let ports = match service {
        Some(Ports::List(p)) => p,
        Some(Ports::Wide(words)) => {
            log.note(format!(
                "{what} ({dir}): {words} of {peer} is more than a profile lists ({MAX_RANGE} ports at most): not carried"
            ));
            return None;
        }
        None => {
            log.note(format!(
                "{what} ({dir}): any port of {peer} is not carried (profiles name their ports)"
            ));
            return None;
        }
    };
    if role == Role::Server && peer != Peer::Local {
        log.note(format!(
            "{what} ({dir}): {peer} opening {} {} on the device is not carried (a profile lists what the device reaches, and services for the local network only)",
            proto.as_str().to_uppercase(),
            join_ports(&ports)
        ));
        return None;
    }
    if role == Role::Client && peer == Peer::Local {
        if from_device {
            log.note(format!(
                "{what} ({dir}): the device reaching the local network on {} {} is not carried (a profile has no destination for it)",
                proto.as_str().to_uppercase(),
                join_ports(&ports)
            ));
        }
        return None;
    }
    Some(Grant {
        ace: name.to_string(),
        from_device,
        peer,
        role,
        proto,
        ports,
    })
}
