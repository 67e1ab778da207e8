//! The report: what every output renders, built once the run has ended.
//!
//! Its JSON form is the one CONTRACT.md gives (`version`, `capture`,
//! `devices`, `findings`); fields beyond the contract are additions, never
//! renames.

use crate::app::ProtoCount;
use crate::capture::Nanos;
use crate::device::bypass::{self, DnsBypass};
use crate::device::facts::{
    source, CapwapPeer, DhcpFacts, Facts, HttpRequest, MqttSession, NtpServer, SshBanner,
    TlsSession, WifiFacts,
};
use crate::device::{
    is_local_scope, oui, Destination, DeviceKey, Inventory, MacObservation, Outcomes,
};
use crate::engine::{CaptureStats, Engine};
use crate::finding::{proto_name, Evidence, Finding};
use crate::flow::FlowStats;
use crate::profile::{ProfileSet, Site};
use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

mod names;
pub use names::{DnsQuestions, NameEntry, NameSources, Names, Sources};

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: &'static str,
    pub capture: CaptureSummary,
    pub devices: Vec<DeviceReport>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaptureSummary {
    pub files: Vec<String>,
    pub packets: u64,
    pub bytes: u64,
    #[serde(serialize_with = "ser_opt_time")]
    pub start: Option<Nanos>,
    #[serde(serialize_with = "ser_opt_time")]
    pub end: Option<Nanos>,
    pub undecodable: u64,
    pub truncated: u64,
    /// Additions: more counters, the flow table's work, and what could not
    /// be read (a damaged file's tail, a filter that does not apply).
    pub stats: CaptureStats,
    pub flows: FlowStats,
    /// App-layer messages parsed and malformed, per protocol.
    pub app: BTreeMap<&'static str, ProtoCount>,
    pub problems: Vec<String>,
    /// What the capture point can and cannot see (the mirror self-check).
    pub mirror: crate::check::mirror::Mirror,
    /// A live capture's interfaces and their drop counters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<crate::live::LiveSummary>,
    /// What the tables' caps turned away: nothing is lost silently.
    pub dropped: Dropped,
}

/// Entries not recorded because a table was full (see each cap's docs).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Dropped {
    /// Frames from MACs past `device::MAX_MACS`.
    pub macs: u64,
    /// Flow summaries past `device::MAX_CLIENTS` clients or
    /// `device::MAX_DESTINATIONS` destinations per client.
    pub destinations: u64,
    /// DNS answers not cached (cache full), queries not tracked.
    pub dns_cache: u64,
    pub dns_pending: u64,
    /// Per device: names, DNS questions, sessions, addresses.
    pub names: u64,
    pub dns_questions: u64,
    pub sessions: u64,
    pub addresses: u64,
}

/// One destination of a device, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct DestinationReport {
    pub proto: &'static str,
    pub ip: IpAddr,
    pub port: u16,
    pub name: Option<String>,
    pub flows: u32,
    pub outcomes: Outcomes,
    pub packets_out: u64,
    pub packets_back: u64,
    #[serde(serialize_with = "ser_time")]
    pub first_seen: Nanos,
    #[serde(serialize_with = "ser_time")]
    pub last_seen: Nanos,
    pub evidence: Vec<Evidence>,
}

/// One requirement of a device's profile and its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct RequirementReport {
    pub id: String,
    pub description: String,
    pub status: &'static str,
    pub evidence: String,
    // Additions: whether it is required, its alternatives' group, and the
    // vendor document it comes from.
    pub required: bool,
    pub group: Option<String>,
    pub cite: String,
}

/// What a profiled device did against what its profile documents.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProfileDiff {
    /// Internet destinations it reached that no requirement lists
    /// (not given for software on general-purpose computers).
    pub seen_not_documented: Vec<String>,
    /// Egress requirements it never attempted in the capture.
    pub documented_not_seen: Vec<String>,
}

/// Connections others made to a device (its services, as reached).
#[derive(Debug, Clone, Serialize)]
pub struct InboundReport {
    pub client: IpAddr,
    /// The client is on the internet (not a local-scope address).
    pub public: bool,
    pub proto: &'static str,
    pub port: u16,
    pub flows: u32,
    pub outcomes: Outcomes,
    #[serde(serialize_with = "ser_time")]
    pub first_seen: Nanos,
    #[serde(serialize_with = "ser_time")]
    pub last_seen: Nanos,
    pub evidence: Vec<Evidence>,
}

/// Inbound connections kept per device.
pub const MAX_INBOUND: usize = 256;

#[derive(Debug, Clone, Serialize)]
pub struct DeviceReport {
    pub mac: Option<String>,
    pub ips: Vec<IpAddr>,
    pub hostname: Option<String>,
    pub vendor: Option<String>,
    pub profile: Option<String>,
    pub identified_by: Vec<String>,
    /// The names the device used; the names, their sources and the DNS
    /// questions are one table, shared by the three fields.
    pub names: Names,
    pub requirements: Vec<RequirementReport>,
    // Additions to the contract.
    #[serde(serialize_with = "ser_time")]
    pub first_seen: Nanos,
    #[serde(serialize_with = "ser_time")]
    pub last_seen: Nanos,
    pub packets_sent: u64,
    pub bytes_sent: u64,
    pub packets_received: u64,
    pub bytes_received: u64,
    pub vlans: Vec<u16>,
    /// Where each name came from: dns, mdns, sni, quic, http, mqtt.
    pub name_sources: NameSources,
    pub dns: DnsQuestions,
    pub dhcp: Option<DhcpFacts>,
    pub ntp: BTreeMap<IpAddr, NtpServer>,
    pub tls: Vec<TlsSession>,
    pub mqtt: Vec<MqttSession>,
    pub http: Vec<HttpRequest>,
    pub ssh: Vec<SshBanner>,
    pub capwap: Vec<CapwapPeer>,
    pub wifi: Option<WifiFacts>,
    /// DNS that went around the site's resolver (hides names from it).
    pub dns_bypass: Vec<DnsBypass>,
    pub destinations: Vec<DestinationReport>,
    /// Connections to the device's own services, by client and port.
    pub inbound: Vec<InboundReport>,
    /// The chain of what works and what breaks, for a profiled device.
    pub summary: Option<String>,
    /// Its traffic against its profile: seen but not documented,
    /// documented but never seen.
    pub profile_diff: Option<ProfileDiff>,
    #[serde(skip)]
    pub key: Option<DeviceKey>,
    #[serde(skip)]
    pub first_frame: Option<Evidence>,
}

impl DeviceReport {
    /// How the device is named in findings: its MAC, else its first IP.
    pub fn id(&self) -> String {
        match (&self.mac, self.ips.first()) {
            (Some(m), _) => m.clone(),
            (None, Some(ip)) => ip.to_string(),
            (None, None) => "unknown".into(),
        }
    }

    /// The MAC's bytes, for a device that has one.
    pub fn mac_bytes(&self) -> Option<[u8; 6]> {
        match self.key {
            Some(DeviceKey::Mac(m)) => Some(m.0),
            _ => None,
        }
    }
}

/// What the profile checks use: the profiles and the site's values.
#[derive(Debug, Clone, Copy)]
pub struct Checks<'a> {
    pub profiles: &'a ProfileSet,
    pub site: &'a Site,
}

/// Builds the report from a finished engine: devices, their profile checks
/// and the findings.
pub fn build(
    engine: &Engine,
    files: &[String],
    problems: Vec<String>,
    checks: Checks<'_>,
) -> Report {
    build_with(engine, &engine.inventory, files, problems, checks)
}

/// [`build`] from an inventory other than the engine's own (a snapshot
/// with the open flows summarised, for a running capture).
pub fn build_with(
    engine: &Engine,
    inv: &Inventory,
    files: &[String],
    problems: Vec<String>,
    checks: Checks<'_>,
) -> Report {
    assemble(engine, inv, None, files, problems, checks, 1)
}

/// [`build`] from an engine that is done with: each device's facts move
/// into its report instead of being copied, so the facts are not held
/// twice at the end of a run (on the 1M-packet site mix they are most of
/// the memory). Gives the engine back, its devices' facts gone.
pub fn build_owned(
    engine: Engine,
    files: &[String],
    problems: Vec<String>,
    checks: Checks<'_>,
) -> (Report, Engine) {
    build_owned_on(engine, files, problems, checks, 1)
}

/// [`build_owned`] with the devices' reports built and checked on up to
/// `threads` threads (a run with several analysis workers): the same
/// report, in the same order.
pub fn build_owned_on(
    mut engine: Engine,
    files: &[String],
    problems: Vec<String>,
    checks: Checks<'_>,
    threads: usize,
) -> (Report, Engine) {
    let mut taken: HashMap<DeviceKey, Facts> = HashMap::new();
    let dropped = dropped(&engine.inventory, &engine.app);
    // What only the packets needed goes first: the report reuses it.
    engine.flows.release();
    engine.app.release();
    // Only from devices (whether a MAC is one depends on its facts, so
    // decide before taking them).
    let devices: Vec<_> = (engine.inventory.macs.iter())
        .filter(|(_, o)| engine.inventory.is_device(o))
        .map(|(m, _)| *m)
        .collect();
    let inv = &mut engine.inventory;
    for mac in devices {
        if let Some(f) = inv.macs.get_mut(&mac).and_then(|o| o.facts.take()) {
            taken.insert(DeviceKey::Mac(mac), *f);
        }
    }
    for (ip, o) in inv.macless_ips.iter_mut() {
        if let Some(f) = o.facts.take() {
            taken.insert(DeviceKey::Ip(*ip), *f);
        }
    }
    let mut report = assemble(
        &engine,
        &engine.inventory,
        Some(&mut taken),
        files,
        problems,
        checks,
        threads,
    );
    report.capture.dropped = dropped;
    (report, engine)
}

fn assemble(
    engine: &Engine,
    inv: &Inventory,
    mut taken: Option<&mut HashMap<DeviceKey, Facts>>,
    files: &[String],
    problems: Vec<String>,
    checks: Checks<'_>,
    threads: usize,
) -> Report {
    // What each device's report is made from, in report order.
    let mut jobs = Vec::new();
    let mut macs: Vec<_> = inv.macs.iter().collect();
    macs.sort_by_key(|(m, _)| **m);
    for (mac, obs) in macs {
        let key = DeviceKey::Mac(*mac);
        let own = taken.as_mut().and_then(|t| t.remove(&key));
        let ips = inv.own_ips(obs);
        if own.is_none() && !inv.is_device_with(obs, &ips) {
            continue;
        }
        jobs.push((key, obs, own, ips));
    }
    for (ip, obs) in &inv.macless_ips {
        let key = DeviceKey::Ip(*ip);
        let own = taken.as_mut().and_then(|t| t.remove(&key));
        jobs.push((key, obs, own, vec![*ip]));
    }
    let ips: Vec<Vec<IpAddr>> = jobs.iter().map(|j| j.3.clone()).collect();
    // The connections others made to each device are gathered on this
    // thread while the others build the devices' reports.
    let (mut inbound, mut devices) = crate::par::map_beside(
        jobs,
        threads,
        || inbound_of(inv, &ips),
        |(key, obs, own, ips)| match key {
            DeviceKey::Mac(mac) => {
                let dests = destinations_of(inv, Some(mac), &ips);
                let received = inv.received_by(mac);
                device_report(Some(key), obs, received, own, ips, dests)
            }
            DeviceKey::Ip(ip) => {
                let dests = destinations_of(inv, None, &[ip]);
                device_report(Some(key), obs, [0, 0], own, vec![ip], dests)
            }
        },
    );
    for (d, list) in devices.iter_mut().zip(inbound.iter_mut()) {
        d.inbound = std::mem::take(list);
    }
    let ctx = crate::check::Context {
        profiles: checks.profiles,
        site: checks.site,
        capture_end: engine.stats.last_ts.unwrap_or(0),
        dhcp_seen: devices
            .iter()
            .any(|d| d.dhcp.as_ref().is_some_and(|x| x.leased_ip.is_some())),
        identifier: crate::check::Identifier::new(checks.profiles),
    };
    // Each device's findings sorted on its thread: putting them together
    // in order is then a merge.
    let ((), checked) = crate::par::map_beside(
        devices.iter().collect(),
        threads,
        || (),
        |d| {
            let mut c = crate::check::check_device(&ctx, d);
            sort_findings(&mut c.findings);
            c
        },
    );
    let mut per_device = Vec::with_capacity(devices.len());
    for (d, c) in devices.iter_mut().zip(checked) {
        d.profile = c.profile;
        d.identified_by = c.identified_by;
        d.requirements = c.requirements;
        d.summary = c.summary;
        d.profile_diff = c.diff;
        per_device.push(c.findings);
    }
    let findings = merge_sorted_findings(per_device);
    let s = &engine.stats;
    Report {
        version: env!("CARGO_PKG_VERSION"),
        capture: CaptureSummary {
            files: files.to_vec(),
            packets: s.packets,
            bytes: s.bytes,
            start: s.first_ts,
            end: s.last_ts,
            undecodable: s.undecodable,
            truncated: s.truncated,
            stats: s.clone(),
            flows: engine.flows.stats(),
            app: engine.app.counts.to_map(),
            problems,
            dropped: dropped(inv, &engine.app),
            mirror: crate::check::mirror::assess(&devices, None),
            live: None,
        },
        devices,
        findings,
    }
}

fn dropped(inv: &Inventory, app: &crate::app::AppLayer) -> Dropped {
    let mut d = Dropped {
        macs: inv.macs_dropped,
        destinations: inv.destinations_dropped,
        dns_cache: app.cache_dropped,
        dns_pending: app.pending_dropped,
        ..Default::default()
    };
    for o in inv.macs.values().chain(inv.macless_ips.values()) {
        d.addresses += o.src_ips_dropped;
        if let Some(f) = &o.facts {
            d.names += f.names_dropped;
            d.dns_questions += f.dns_dropped;
            d.sessions += f.sessions_dropped;
        }
    }
    d
}

/// Most severe first, then by device and time.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.device.cmp(&b.device))
            .then_with(|| a.first_seen.cmp(&b.first_seen))
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.port.cmp(&b.port))
    });
}

/// The devices' findings, each device's already in [`sort_findings`]
/// order, put together in that order: what sorting them all gives. A
/// device's findings all name it, and devices are named apart, so the
/// order is, for each severity from the most severe, each device's
/// findings of that severity with the devices in name order. Should the
/// lists not be one per named device, they are sorted together instead.
fn merge_sorted_findings(per_device: Vec<Vec<Finding>>) -> Vec<Finding> {
    let mut named: Vec<(&str, usize)> = Vec::new();
    let mut one_name_each = true;
    for (i, list) in per_device.iter().enumerate() {
        let Some(first) = list.first() else {
            continue;
        };
        one_name_each &= list.iter().all(|f| f.device == first.device);
        named.push((&first.device, i));
    }
    named.sort_unstable();
    one_name_each &= named.windows(2).all(|w| w[0].0 != w[1].0);
    if !one_name_each {
        let mut all: Vec<Finding> = per_device.into_iter().flatten().collect();
        sort_findings(&mut all);
        return all;
    }
    let order: Vec<usize> = named.into_iter().map(|(_, i)| i).collect();
    let total = per_device.iter().map(Vec::len).sum();
    let mut lists: Vec<std::iter::Peekable<std::vec::IntoIter<Finding>>> = per_device
        .into_iter()
        .map(|l| l.into_iter().peekable())
        .collect();
    let mut out = Vec::with_capacity(total);
    // Each list is most severe first: the most severe left at the head of
    // any list is the next severity to put out.
    while let Some(severity) = lists
        .iter_mut()
        .filter_map(|l| l.peek())
        .map(|f| f.severity)
        .max()
    {
        for &i in &order {
            while let Some(f) = lists[i].next_if(|f| f.severity == severity) {
                out.push(f);
            }
        }
    }
    out
}

fn device_report(
    key: Option<DeviceKey>,
    obs: &MacObservation,
    received: [u64; 2],
    facts: Option<Facts>,
    ips: Vec<IpAddr>,
    destinations: Vec<DestinationReport>,
) -> DeviceReport {
    let (mac, vendor) = match key {
        Some(DeviceKey::Mac(m)) => (Some(m.to_string()), oui::vendor(m.0).map(str::to_string)),
        _ => (None, None),
    };
    let mut vlans = obs.vlans.clone();
    vlans.sort_unstable();
    // The facts are moved into the report when the caller gave them up,
    // else copied.
    let f = facts.unwrap_or_else(|| obs.facts.as_deref().cloned().unwrap_or_default());
    let hostname = f.dhcp.as_ref().and_then(|d| d.hostname.clone());
    let dns_bypass = dns_bypass(&destinations, &f.tls);
    // Sorted once, for the names, their sources and the questions alike
    // (a device on the site mix has hundreds of names), and held once.
    let entries = by_name_into(f.names.into_map(), |name, e| {
        let sources = e.sources().map(source_names);
        (sources.is_some() || e.question.is_some()).then(|| NameEntry {
            name: String::from(name),
            sources,
            question: e.question,
        })
    });
    let (names, name_sources, dns) = names::views(entries);
    DeviceReport {
        mac,
        ips,
        hostname,
        vendor,
        profile: None,
        identified_by: Vec::new(),
        names,
        name_sources,
        dns,
        dhcp: f.dhcp,
        ntp: f.ntp,
        tls: f.tls,
        mqtt: f.mqtt,
        http: f.http,
        ssh: f.ssh,
        capwap: f.capwap,
        wifi: f.wifi,
        requirements: Vec::new(),
        first_seen: obs.first_ts,
        last_seen: obs.last_ts,
        packets_sent: obs.frames_sent,
        bytes_sent: obs.bytes_sent,
        packets_received: received[0],
        bytes_received: received[1],
        vlans,
        dns_bypass,
        destinations,
        inbound: Vec::new(),
        summary: None,
        profile_diff: None,
        key,
        first_frame: Some(Evidence::from(obs.first_frame)),
    }
}

/// A device's names and their values, sorted by name.
#[cfg(test)]
fn by_name<V>(map: crate::device::names::NameMap<V>) -> Vec<(String, V)> {
    by_name_into(map, |n, v| Some((String::from(n), v)))
}

/// A device's names and their values, sorted by name, each made into what
/// `make` gives (or left out), straight into the one list. The names are
/// distinct, so the order is total. What is sorted is one integer per
/// name: its first [`KEY_BYTES`] bytes (an order-preserving prefix: shorter
/// names pad with zeros) above its index; names that share the prefix end
/// up side by side and are then put in order by their whole text.
fn by_name_into<V, T>(
    map: crate::device::names::NameMap<V>,
    mut make: impl FnMut(Box<str>, V) -> Option<T>,
) -> Vec<T> {
    let mut slots: Vec<Option<(Box<str>, V)>> = map.into_iter().map(Some).collect();
    let mut keys: Vec<u128> = Vec::with_capacity(slots.len());
    for (i, (n, _)) in slots.iter().flatten().enumerate() {
        keys.push(name_key(n) | i as u128);
    }
    keys.sort_unstable();
    let name = |k: &u128| match &slots[index_of(*k)] {
        Some((n, _)) => &**n,
        None => "",
    };
    let mut at = 0;
    while at < keys.len() {
        let prefix = keys[at] >> INDEX_BITS;
        let run = keys[at..]
            .iter()
            .take_while(|k| *k >> INDEX_BITS == prefix)
            .count();
        if run > 1 {
            keys[at..at + run].sort_unstable_by(|a, b| name(a).cmp(name(b)));
        }
        at += run;
    }
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        if let Some(t) = slots[index_of(k)].take().and_then(|(n, x)| make(n, x)) {
            out.push(t);
        }
    }
    out
}

/// Bytes of a name in its sort key; the rest of the key is its index (a
/// device's names and questions are capped far below 2^32).
const KEY_BYTES: usize = 12;
const INDEX_BITS: u32 = 128 - 8 * KEY_BYTES as u32;

fn index_of(key: u128) -> usize {
    (key & ((1 << INDEX_BITS) - 1)) as usize
}

/// The first [`KEY_BYTES`] bytes of `name`, big-endian, zero-padded, in
/// the high bits: `a <= b` implies `name_key(a) <= name_key(b)`.
fn name_key(name: &str) -> u128 {
    let mut b = [0u8; 16];
    let n = name.len().min(KEY_BYTES);
    b[..n].copy_from_slice(&name.as_bytes()[..n]);
    u128::from_be_bytes(b)
}

/// [`source::names`] of every bit set, made once: the report names a
/// device's sources per name.
fn source_names(bits: u8) -> &'static [&'static str] {
    static ALL: std::sync::OnceLock<Vec<Vec<&'static str>>> = std::sync::OnceLock::new();
    let all = ALL.get_or_init(|| (0..=u8::MAX).map(source::names).collect());
    &all[usize::from(bits)]
}

/// DNS to internet resolvers, DNS over TLS, and DoH to well-known
/// endpoints, from what the device reached.
fn dns_bypass(dests: &[DestinationReport], tls: &[TlsSession]) -> Vec<DnsBypass> {
    let mut out = Vec::new();
    for d in dests {
        let how = match (d.proto, d.port) {
            (_, 53) if !is_local_scope(&d.ip) => "public_resolver",
            ("tcp", 853) => "dot",
            ("tcp" | "udp", 443) if bypass::is_public_resolver(&d.ip) => "doh",
            _ => continue,
        };
        out.push(DnsBypass {
            how,
            server: d.ip,
            port: d.port,
            name: d.name.clone(),
            well_known: bypass::is_public_resolver(&d.ip),
        });
    }
    for t in tls {
        if let Some(sni) = t.sni.as_deref().filter(|s| bypass::is_doh_name(s)) {
            if !out
                .iter()
                .any(|b| b.server == t.server.0 && b.port == t.port)
            {
                out.push(DnsBypass {
                    how: "doh",
                    server: t.server.0,
                    port: t.port,
                    name: Some(sni.to_string()),
                    well_known: true,
                });
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn destinations_of(
    inv: &Inventory,
    mac: Option<crate::decode::Mac>,
    ips: &[IpAddr],
) -> Vec<DestinationReport> {
    // In order of protocol name, address and port; alike ones (several
    // IP protocols to one address) in the order met. Sorted as small keys,
    // then each report made once, in place.
    let mut all: Vec<&Destination> = Vec::new();
    for ip in ips {
        if let Some(dests) = inv.destinations.get(&(mac, *ip)) {
            all.extend(dests.values());
        }
    }
    let mut order: Vec<(u8, IpAddr, u16, usize)> = (all.iter().enumerate())
        .map(|(i, d)| (proto_rank(d.proto), d.ip, d.port, i))
        .collect();
    order.sort_unstable();
    order.iter().map(|o| destination_report(all[o.3])).collect()
}

/// Where [`proto_name`] of `proto` sorts among the names it gives.
fn proto_rank(proto: u8) -> u8 {
    match proto_name(proto) {
        "icmp" => 0,
        "ip" => 1,
        "tcp" => 2,
        "udp" => 3,
        _ => 4,
    }
}

fn destination_report(d: &Destination) -> DestinationReport {
    DestinationReport {
        proto: proto_name(d.proto),
        ip: d.ip,
        port: d.port,
        name: d.name.as_deref().map(str::to_string),
        flows: d.flows,
        outcomes: d.outcomes,
        packets_out: d.packets[0],
        packets_back: d.packets[1],
        first_seen: d.first_ts,
        last_seen: d.last_ts,
        evidence: d.evidence.iter().map(|f| Evidence::from(*f)).collect(),
    }
}

/// The conversations others had with each device (`ips[i]` are device
/// `i`'s addresses): each filed with the device that owns the address it
/// reached, clients in order, up to [`MAX_INBOUND`] a device.
fn inbound_of(inv: &Inventory, ips: &[Vec<IpAddr>]) -> Vec<Vec<InboundReport>> {
    let mut owner: std::collections::HashMap<IpAddr, usize> = Default::default();
    for (i, own) in ips.iter().enumerate() {
        for ip in own {
            owner.entry(*ip).or_insert(i);
        }
    }
    let mut lists: Vec<Vec<InboundReport>> = ips.iter().map(|_| Vec::new()).collect();
    let mut clients: Vec<_> = inv.destinations.iter().collect();
    clients.sort_by_key(|((mac, ip), _)| (*mac, *ip));
    for ((_, client), dests) in clients {
        for (_, dest) in crate::device::sorted(dests) {
            let Some(&i) = owner.get(&dest.ip) else {
                continue;
            };
            let list = &mut lists[i];
            if ips[i].contains(client) || list.len() >= MAX_INBOUND {
                continue;
            }
            list.push(InboundReport {
                client: *client,
                public: !is_local_scope(client) && !inv.leased.contains_key(client),
                proto: proto_name(dest.proto),
                port: dest.port,
                flows: dest.flows,
                outcomes: dest.outcomes,
                first_seen: dest.first_ts,
                last_seen: dest.last_ts,
                evidence: dest.evidence.iter().map(|f| Evidence::from(*f)).collect(),
            });
        }
    }
    lists
}

/// RFC 3339 in UTC with microseconds, e.g. `2026-03-01T10:00:00.000000Z`.
pub fn format_time(ns: Nanos) -> String {
    let mut buf = [0u8; 27];
    match time_in(ns, &mut buf) {
        Some(s) => s.to_string(),
        None => format_time_slow(ns),
    }
}

/// [`format_time`] appended to `out`, with no String made.
pub fn push_time(out: &mut Vec<u8>, ns: Nanos) {
    let mut buf = [0u8; 27];
    match time_in(ns, &mut buf) {
        Some(s) => out.extend_from_slice(s.as_bytes()),
        None => out.extend_from_slice(format_time_slow(ns).as_bytes()),
    }
}

/// [`format_time`] written into `buf` without formatting machinery (the
/// JSON report writes two times per DNS question: 110,000 on the site
/// mix). `None` for years outside 0000..=9999.
fn time_in(ns: Nanos, buf: &mut [u8; 27]) -> Option<&str> {
    let secs = ns.div_euclid(1_000_000_000);
    let micros = ns.rem_euclid(1_000_000_000) / 1000;
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    if !(0..=9999).contains(&y) {
        return None;
    }
    let mut put = |at: usize, width: usize, mut v: i64| {
        for i in (0..width).rev() {
            buf[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, y);
    put(5, 2, i64::from(m));
    put(8, 2, i64::from(d));
    put(11, 2, rem / 3600);
    put(14, 2, rem % 3600 / 60);
    put(17, 2, rem % 60);
    put(20, 6, micros);
    for (at, c) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (26, b'Z'),
    ] {
        buf[at] = c;
    }
    std::str::from_utf8(buf).ok()
}

fn format_time_slow(ns: Nanos) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let micros = ns.rem_euclid(1_000_000_000) / 1000;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// published algorithm for civil dates).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn ser_time<S: Serializer>(ns: &Nanos, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 27];
    match time_in(*ns, &mut buf) {
        Some(t) => s.serialize_str(t),
        None => s.serialize_str(&format_time_slow(*ns)),
    }
}

pub fn ser_opt_time<S: Serializer>(ns: &Option<Nanos>, s: S) -> Result<S::Ok, S::Error> {
    match ns {
        Some(ns) => s.serialize_str(&format_time(*ns)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The hand-written time equals the formatted one, from before
        /// 1970 to past 9999 (where the formatted one is used).
        #[test]
        fn times_written_by_hand_equal_formatted_ones(ns in -80_000_000_000_000_000i64..300_000_000_000_000_000i64) {
            proptest::prop_assert_eq!(format_time(ns), format_time_slow(ns));
        }
    }

    proptest::proptest! {
        /// Names come out in string order with their values, whatever
        /// prefixes they share (runs longer than the key's bytes).
        #[test]
        fn names_are_sorted_by_text(names in proptest::collection::hash_set("(api|api1|x)[.a-c0-9]{0,16}", 0..60)) {
            let mut map = crate::device::names::NameMap::default();
            for (i, n) in names.iter().enumerate() {
                map.insert(n.as_str().into(), i);
            }
            let mut want: Vec<(String, usize)> = names.iter().cloned().enumerate().map(|(i, n)| (n, i)).collect();
            want.sort();
            proptest::prop_assert_eq!(by_name(map), want);
        }
    }

    #[test]
    fn protocol_ranks_follow_their_names() {
        let mut protos: Vec<u8> = (0..=u8::MAX).collect();
        protos.sort_by_key(|p| proto_rank(*p));
        assert!(protos
            .windows(2)
            .all(|w| proto_name(w[0]) <= proto_name(w[1])));
        assert!((0..=u8::MAX).all(|p| proto_rank(p) < 4));
    }

    #[test]
    fn pushed_times_are_formatted_ones() {
        for ns in [0, -1, 1_767_225_600_123_456_789, i64::MAX, i64::MIN] {
            let mut out = b"x".to_vec();
            push_time(&mut out, ns);
            assert_eq!(out, format!("x{}", format_time(ns)).into_bytes());
        }
    }

    #[test]
    fn a_known_time() {
        assert_eq!(
            format_time(1_767_225_600_123_456_789),
            "2026-01-01T00:00:00.123456Z"
        );
        assert_eq!(format_time(-1), "1969-12-31T23:59:59.999999Z");
    }

    fn dest(proto: &'static str, ip: &str, port: u16) -> DestinationReport {
        DestinationReport {
            proto,
            ip: ip.parse().unwrap(),
            port,
            name: None,
            flows: 1,
            outcomes: Outcomes::default(),
            packets_out: 1,
            packets_back: 1,
            first_seen: 0,
            last_seen: 0,
            evidence: Vec::new(),
        }
    }

    #[test]
    fn dns_bypass_kinds() {
        let dests = [
            dest("udp", "192.168.1.1", 53),
            dest("udp", "203.0.113.53", 53),
            dest("tcp", "198.51.100.9", 853),
            dest("tcp", "1.1.1.1", 443),
            dest("tcp", "203.0.113.80", 443),
        ];
        let tls = [TlsSession {
            server: crate::device::facts::Addr("198.51.100.44".parse().unwrap()),
            port: 443,
            sni: Some("dns.google".into()),
            ..Default::default()
        }];
        let got: Vec<(&str, String, bool)> = dns_bypass(&dests, &tls)
            .into_iter()
            .map(|b| (b.how, b.server.to_string(), b.well_known))
            .collect();
        assert_eq!(
            got,
            [
                ("doh", "1.1.1.1".to_string(), true),
                ("doh", "198.51.100.44".to_string(), true),
                ("dot", "198.51.100.9".to_string(), false),
                ("public_resolver", "203.0.113.53".to_string(), false),
            ]
        );
    }

    /// Findings for device `dev`: severities, times, kinds and ports
    /// mixed, some alike in every sorted field.
    fn findings_of(dev: &str, n: u64) -> Vec<Finding> {
        use crate::finding::{Kind, Severity};
        (0..n)
            .map(|i| {
                let severity =
                    [Severity::Info, Severity::Error, Severity::Warning][(i % 3) as usize];
                let kind = [Kind::BlockedPort, Kind::DnsFailure][(i / 2 % 2) as usize];
                let mut f = Finding::new(kind, severity, dev.to_string(), format!("{dev} #{i}"));
                f.first_seen = (i * 7 % 5) as i64;
                f.port = (i % 4 != 0).then_some((i % 2) as u16);
                f
            })
            .collect()
    }

    fn sorted_each(lists: &[Vec<Finding>]) -> Vec<Vec<Finding>> {
        lists
            .iter()
            .map(|l| {
                let mut l = l.clone();
                sort_findings(&mut l);
                l
            })
            .collect()
    }

    #[test]
    fn merged_findings_are_all_of_them_sorted() {
        // Devices out of name order (a MAC-less device's IP among MACs,
        // "10.0.0.10" before "10.0.0.9"), some with no findings.
        let devices = [
            ("02:00:00:00:00:0b", 9),
            ("02:00:00:00:00:0a", 13),
            ("10.0.0.9", 4),
            ("10.0.0.10", 0),
            ("10.0.0.10", 5),
            ("02:00:00:00:00:0c", 1),
        ];
        let lists: Vec<Vec<Finding>> = devices.iter().map(|(d, n)| findings_of(d, *n)).collect();
        // One list per device, and one where two lists name the same
        // device or a list names two (the merge sorts them together).
        let distinct: Vec<Vec<Finding>> = lists
            .iter()
            .take(4)
            .cloned()
            .chain([lists[5].clone()])
            .collect();
        let mut mixed = lists.clone();
        mixed[1].extend(findings_of("02:00:00:00:00:01", 3));
        for (what, lists) in [
            ("distinct", distinct),
            ("same name twice", lists),
            ("mixed", mixed),
        ] {
            let mut want: Vec<Finding> = lists.iter().flatten().cloned().collect();
            sort_findings(&mut want);
            assert_eq!(merge_sorted_findings(sorted_each(&lists)), want, "{what}");
        }
        assert!(merge_sorted_findings(vec![Vec::new(), Vec::new()]).is_empty());
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            format_time(1_772_359_200_123_456_789),
            "2026-03-01T10:00:00.123456Z"
        );
        assert_eq!(
            format_time(951_782_400 * 1_000_000_000),
            "2000-02-29T00:00:00.000000Z"
        );
        assert_eq!(format_time(-1_000_000_000), "1969-12-31T23:59:59.000000Z");
    }
}
