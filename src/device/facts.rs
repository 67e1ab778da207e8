//! What the app-layer parsers learned about one device, joined per MAC:
//! the names it used and where each came from, its DNS questions and how
//! they were answered, its DHCP conversation, NTP servers, TLS sessions,
//! MQTT sessions, HTTP requests, SSH banners and WiFi association.
//!
//! Every collection is capped ([`MAX_NAMES`] and friends); what a cap turns
//! away is counted, so a device that floods names cannot grow memory.

use crate::capture::Nanos;
use crate::device::names::{self, NameMap};
use crate::flow::FrameRef;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

pub const MAX_NAMES: usize = 512;
pub const MAX_DNS_QUESTIONS: usize = 1024;
pub const MAX_SESSIONS: usize = 64;
pub const MAX_NTP_SERVERS: usize = 32;
const MAX_EVIDENCE: usize = 4;

/// Frames that show a fact: at most [`MAX_EVIDENCE`]; the first two held
/// in place (most facts have one or two), the rest in one heap block.
pub type Evidence = smallvec::SmallVec<[FrameRef; 2]>;

/// Responses by rcode name, counted in place: a map per question cost a
/// heap node for each of the 55,000 questions of the site mix. Index
/// `rcode` for 0..=10, the last slot for every other (`UNKNOWN`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RcodeCounts([u32; 12]);

impl RcodeCounts {
    fn slot(rcode: u8) -> usize {
        usize::from(rcode).min(11)
    }

    /// Counts one response with this header rcode.
    pub fn add(&mut self, rcode: u8) {
        let n = &mut self.0[Self::slot(rcode)];
        *n = n.saturating_add(1);
    }

    /// The rcode name of a slot.
    fn name(slot: usize) -> &'static str {
        crate::proto::dns::rcode_name(if slot == 11 { 15 } else { slot as u8 })
    }

    /// The slots in the order of their names (checked by a test).
    const BY_NAME: [usize; 12] = [1, 0, 9, 4, 10, 3, 8, 5, 2, 11, 6, 7];

    /// Responses under `name` (as [`crate::proto::dns::rcode_name`] names
    /// them); `None` when there were none.
    pub fn get(&self, name: &str) -> Option<u32> {
        let slot = (0..12).find(|&i| Self::name(i) == name)?;
        Some(self.0[slot]).filter(|n| *n > 0)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Responses with the header rcode `rcode` (0 for none): [`Self::get`]
    /// by number, without comparing names.
    pub fn count(&self, rcode: u8) -> u32 {
        self.0[Self::slot(rcode)]
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|n| *n == 0)
    }

    /// Every rcode seen, with its count, in name order (as a map would
    /// give them).
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u32)> + '_ {
        Self::BY_NAME
            .iter()
            .map(|&i| (Self::name(i), self.0[i]))
            .filter(|(_, n)| *n > 0)
    }

    pub fn merge(&mut self, o: &RcodeCounts) {
        for (a, b) in self.0.iter_mut().zip(o.0) {
            *a = a.saturating_add(b);
        }
    }
}

impl Serialize for RcodeCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

/// An address in a session record (unspecified until known).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Addr(pub IpAddr);

impl Default for Addr {
    fn default() -> Self {
        Addr(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }
}

/// Where a name came from.
pub mod source {
    pub const DNS: u8 = 1;
    pub const SNI: u8 = 2;
    pub const HTTP: u8 = 4;
    pub const MQTT: u8 = 8;
    pub const QUIC: u8 = 16;
    pub const MDNS: u8 = 32;

    /// The sources in a bit set, by name.
    pub fn names(bits: u8) -> Vec<&'static str> {
        [
            (DNS, "dns"),
            (SNI, "sni"),
            (HTTP, "http"),
            (MQTT, "mqtt"),
            (QUIC, "quic"),
            (MDNS, "mdns"),
        ]
        .into_iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| n)
        .collect()
    }
}

/// How one DNS name the device asked for was answered.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DnsQuestion {
    /// Distinct queries (retransmissions of one query count once).
    pub queries: u32,
    pub answered: u32,
    /// Every response, by rcode name (NOERROR, NXDOMAIN, SERVFAIL, ...),
    /// duplicates included.
    pub rcodes: RcodeCounts,
    /// Queries not answered within their timeout (those still within it
    /// when the capture ended are not counted).
    pub unanswered: u32,
    /// Of those, the ones answered after all, later (their rcodes are in
    /// `rcodes`).
    pub late: u32,
    /// Addresses the answers gave, and the servers asked, each in address
    /// order.
    pub addresses: smallvec::SmallVec<[IpAddr; 4]>,
    pub servers: smallvec::SmallVec<[IpAddr; 2]>,
    #[serde(serialize_with = "crate::report::ser_time")]
    pub first_seen: Nanos,
    #[serde(serialize_with = "crate::report::ser_time")]
    pub last_seen: Nanos,
    #[serde(skip)]
    pub evidence: Evidence,
}

/// The device's DHCP conversation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DhcpFacts {
    /// Messages sent or received, by type name.
    pub messages: BTreeMap<&'static str, u32>,
    pub hostname: Option<String>,
    pub vendor_class: Option<String>,
    pub parameter_request_list: Vec<u8>,
    pub requested_ip: Option<Ipv4Addr>,
    /// The address the last ACK assigned, and from which server.
    pub leased_ip: Option<Ipv4Addr>,
    pub offered_ip: Option<Ipv4Addr>,
    pub server: Option<Ipv4Addr>,
    pub subnet_mask: Option<Ipv4Addr>,
    pub routers: Vec<Ipv4Addr>,
    pub dns_servers: Vec<Ipv4Addr>,
    pub ntp_servers: Vec<Ipv4Addr>,
    pub lease_time: Option<u32>,
    pub mud_url: Option<String>,
    pub client_fqdn: Option<String>,
    /// Transactions: DISCOVERs with no OFFER, REQUESTs with no ACK, NAKs.
    pub discovers_unanswered: u32,
    pub requests_unanswered: u32,
    pub naks: u32,
    #[serde(skip)]
    pub evidence: Evidence,
    #[serde(skip)]
    pub first_seen: Nanos,
    #[serde(skip)]
    pub last_seen: Nanos,
    /// Transactions waiting for the server.
    #[serde(skip)]
    pub open: Vec<DhcpOpen>,
}

/// A DHCP transaction (DISCOVER or REQUEST) waiting for the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpOpen {
    pub xid: u32,
    pub kind: u8,
    pub ts: Nanos,
    pub frame: FrameRef,
}

/// What the device's NTP exchanges with one server showed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NtpServer {
    pub requests: u32,
    pub replies: u32,
    /// Packets by mode name (client, server, symmetric active, ...).
    pub modes: BTreeMap<&'static str, u32>,
    pub version: u8,
    /// The last reply's stratum, and every stratum the replies gave.
    pub stratum: Option<u8>,
    pub strata: Vec<u8>,
    pub leap: Option<u8>,
    pub reference_id: Option<String>,
    #[serde(skip)]
    pub reference_raw: Option<[u8; 4]>,
    pub kiss_codes: Vec<String>,
    pub unsynchronized_replies: u32,
    #[serde(skip)]
    pub evidence: Evidence,
    #[serde(skip)]
    pub first_seen: Nanos,
    #[serde(skip)]
    pub last_seen: Nanos,
}

/// One TLS (or QUIC) session's handshake as seen.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TlsSession {
    pub server: Addr,
    pub port: u16,
    pub transport: &'static str,
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    pub offered_versions: Vec<String>,
    pub ja4: Option<String>,
    pub version: Option<String>,
    /// The server's leaf certificate (TLS 1.2 and older only).
    pub subject: Option<String>,
    pub issuer: Option<String>,
    pub san: Vec<String>,
    pub not_before: Option<i64>,
    pub not_after: Option<i64>,
    pub chain_len: u32,
    /// The chain as sent, leaf first, as DER, for [`crate::trust::judge`]:
    /// at most [`crate::trust::MAX_CHAIN_CERTS`] certificates of at most
    /// [`crate::trust::MAX_CERT_DER`] bytes each, kept as a prefix: a
    /// longer chain is cut, and so is the rest from the first larger
    /// certificate on (see [`crate::trust::bounded_chain`]). Empty for TLS
    /// 1.3, whose certificate is encrypted, and when the leaf was too large.
    #[serde(skip)]
    pub chain_der: Vec<Box<[u8]>>,
    pub alerts: Vec<String>,
    /// The first fatal alert the server sent (warnings such as
    /// unrecognized_name let the handshake go on).
    pub fatal_alert: Option<String>,
    /// The server reset the connection before answering the ClientHello.
    pub server_reset: bool,
    #[serde(skip)]
    pub evidence: Evidence,
    #[serde(skip)]
    pub ts: Nanos,
}

/// One MQTT session: CONNECT and its CONNACK.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MqttSession {
    pub server: Addr,
    pub port: u16,
    pub protocol: String,
    pub level: u8,
    pub client_id: String,
    pub username: Option<String>,
    pub keep_alive: u16,
    pub connack_code: Option<u8>,
    pub connack: Option<&'static str>,
    #[serde(skip)]
    pub evidence: Evidence,
    #[serde(skip)]
    pub ts: Nanos,
}

/// One HTTP request head.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HttpRequest {
    pub server: Addr,
    pub port: u16,
    pub method: String,
    pub host: Option<String>,
    pub target: String,
    pub user_agent: Option<String>,
    pub status: Option<u16>,
}

/// An SSH banner the device sent or received.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SshBanner {
    pub peer: Addr,
    pub port: u16,
    pub client: Option<String>,
    pub server: Option<String>,
}

/// A CAPWAP peer (an access controller, or an access point seen from the
/// controller's side) and what was exchanged with it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CapwapPeer {
    pub peer: Addr,
    pub port: u16,
    /// Control messages in the clear, by type name (Discovery Request ...).
    pub control: BTreeMap<&'static str, u32>,
    /// DTLS records (secured control), and data-channel packets.
    pub dtls: u32,
    pub data: u32,
}

/// The WiFi network the device was seen on.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WifiFacts {
    pub bssid: Option<String>,
    pub ssid: Option<String>,
    pub channel: Option<u16>,
    pub frequency: Option<u16>,
    pub band: Option<&'static str>,
    /// True for an access point (it sent beacons).
    pub access_point: bool,
    #[serde(skip)]
    pub evidence: Evidence,
    #[serde(skip)]
    pub ts: Nanos,
}

/// Everything learned about one device.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Hash maps, looked up on every DNS message; the report sorts them.
    pub names: NameMap<u8>,
    pub names_dropped: u64,
    /// Boxed: a table of 300-byte entries grown by doubling left half of
    /// it empty (31 MB for the site mix's 55,000 questions); boxes in a
    /// table of pointers waste little.
    pub dns: NameMap<Box<DnsQuestion>>,
    pub dns_dropped: u64,
    pub dhcp: Option<DhcpFacts>,
    pub ntp: BTreeMap<IpAddr, NtpServer>,
    pub tls: Vec<TlsSession>,
    pub mqtt: Vec<MqttSession>,
    pub http: Vec<HttpRequest>,
    pub ssh: Vec<SshBanner>,
    pub capwap: Vec<CapwapPeer>,
    pub wifi: Option<WifiFacts>,
    pub sessions_dropped: u64,
}

impl Facts {
    /// Notes a name the device used; `name` is lowercase already.
    pub fn note_name(&mut self, name: &str, src: u8) {
        self.note_name_hashed(names::hash(name), name, src);
    }

    /// [`Facts::note_name`] with the name's [`names::hash`] known.
    pub fn note_name_hashed(&mut self, h: u64, name: &str, src: u8) {
        if name.is_empty() {
            return;
        }
        match self.names.get_or_insert_with(h, name, MAX_NAMES, || 0) {
            Some(bits) => *bits |= src,
            None => self.names_dropped += 1,
        }
    }

    /// The DNS question entry for `name`, created if there is room.
    pub fn dns_question(&mut self, name: &str, hash: u64, ts: Nanos) -> Option<&mut DnsQuestion> {
        let made = || {
            Box::new(DnsQuestion {
                first_seen: ts,
                last_seen: ts,
                ..Default::default()
            })
        };
        match self
            .dns
            .get_or_insert_with(hash, name, MAX_DNS_QUESTIONS, made)
        {
            Some(q) => {
                q.last_seen = q.last_seen.max(ts);
                Some(q)
            }
            None => {
                self.dns_dropped += 1;
                None
            }
        }
    }

    /// The DHCP facts, created on first use.
    pub fn dhcp_mut(&mut self, ts: Nanos) -> &mut DhcpFacts {
        let d = self.dhcp.get_or_insert_with(|| DhcpFacts {
            first_seen: ts,
            ..Default::default()
        });
        d.last_seen = d.last_seen.max(ts);
        d
    }

    pub fn ntp_server(&mut self, server: IpAddr, ts: Nanos) -> Option<&mut NtpServer> {
        if !self.ntp.contains_key(&server) && self.ntp.len() >= MAX_NTP_SERVERS {
            self.sessions_dropped += 1;
            return None;
        }
        let s = self.ntp.entry(server).or_insert_with(|| NtpServer {
            first_seen: ts,
            ..Default::default()
        });
        s.last_seen = s.last_seen.max(ts);
        Some(s)
    }
}

/// Adds `x` to a sorted list of at most `cap` unless it is there: a set
/// whose order does not depend on the order things were seen in (shards
/// merge to what one engine lists).
pub fn insert_sorted<A: smallvec::Array>(list: &mut smallvec::SmallVec<A>, x: A::Item, cap: usize)
where
    A::Item: Ord,
{
    if let Err(at) = list.binary_search(&x) {
        if list.len() < cap {
            list.insert(at, x);
        }
    }
}

/// Adds `frame` to an evidence list unless it is full.
pub fn push_evidence(list: &mut Evidence, frame: FrameRef) {
    if list.len() < MAX_EVIDENCE && !list.contains(&frame) {
        list.push(frame);
    }
}

/// Pushes onto a capped session list, counting what does not fit.
pub fn push_capped<T>(list: &mut Vec<T>, item: T, dropped: &mut u64) -> bool {
    if list.len() < MAX_SESSIONS {
        list.push(item);
        true
    } else {
        *dropped += 1;
        false
    }
}

// Merging: the shards of a live capture each keep facts for the devices
// whose flows they analyse; a device seen by two shards (a gateway, or a
// conversation whose initiator the shard key and the flow table judged
// differently) has its facts joined here. Counts add up, lists are joined
// without duplicates under their caps, and where one value must win (the
// last lease, the last stratum) the later observation does.

/// Joins `b` into `a` without duplicates, keeping at most `cap`.
fn union<T: PartialEq, L>(a: &mut L, b: impl IntoIterator<Item = T>, cap: usize)
where
    L: std::ops::Deref<Target = [T]> + Extend<T>,
{
    for x in b {
        if a.len() >= cap {
            break;
        }
        if !a.contains(&x) {
            a.extend(std::iter::once(x));
        }
    }
}

fn add_counts(a: &mut BTreeMap<&'static str, u32>, b: BTreeMap<&'static str, u32>) {
    for (k, n) in b {
        *a.entry(k).or_default() += n;
    }
}

/// Evidence of both, earliest frames first, capped.
fn join_evidence(a: &mut Evidence, b: Evidence) {
    a.extend(b);
    a.sort_unstable();
    a.dedup();
    a.truncate(MAX_EVIDENCE);
}

impl DnsQuestion {
    fn merge(&mut self, o: DnsQuestion) {
        self.queries += o.queries;
        self.answered += o.answered;
        self.rcodes.merge(&o.rcodes);
        self.unanswered += o.unanswered;
        self.late += o.late;
        for a in o.addresses {
            insert_sorted(&mut self.addresses, a, 16);
        }
        for s in o.servers {
            insert_sorted(&mut self.servers, s, 4);
        }
        self.first_seen = self.first_seen.min(o.first_seen);
        self.last_seen = self.last_seen.max(o.last_seen);
        join_evidence(&mut self.evidence, o.evidence);
    }
}

impl DhcpFacts {
    fn merge(&mut self, o: DhcpFacts) {
        add_counts(&mut self.messages, o.messages);
        // The later conversation's values win where both have one.
        let later = o.last_seen > self.last_seen;
        macro_rules! pick {
            ($($f:ident),*) => {$(
                if o.$f.is_some() && (later || self.$f.is_none()) {
                    self.$f = o.$f;
                }
            )*};
        }
        pick!(
            hostname,
            vendor_class,
            requested_ip,
            leased_ip,
            offered_ip,
            server,
            subnet_mask,
            lease_time,
            mud_url,
            client_fqdn
        );
        macro_rules! pick_list {
            ($($f:ident),*) => {$(
                if !o.$f.is_empty() && (later || self.$f.is_empty()) {
                    self.$f = o.$f;
                }
            )*};
        }
        pick_list!(parameter_request_list, routers, dns_servers, ntp_servers);
        self.discovers_unanswered += o.discovers_unanswered;
        self.requests_unanswered += o.requests_unanswered;
        self.naks += o.naks;
        join_evidence(&mut self.evidence, o.evidence);
        self.first_seen = self.first_seen.min(o.first_seen);
        self.last_seen = self.last_seen.max(o.last_seen);
        self.open.extend(o.open);
    }
}

impl NtpServer {
    fn merge(&mut self, o: NtpServer) {
        let later = o.last_seen > self.last_seen;
        self.requests += o.requests;
        self.replies += o.replies;
        add_counts(&mut self.modes, o.modes);
        self.version = self.version.max(o.version);
        if o.stratum.is_some() && (later || self.stratum.is_none()) {
            self.stratum = o.stratum;
            self.leap = o.leap;
            self.reference_id = o.reference_id;
            self.reference_raw = o.reference_raw;
        }
        union(&mut self.strata, o.strata, 16);
        union(&mut self.kiss_codes, o.kiss_codes, 8);
        self.unsynchronized_replies += o.unsynchronized_replies;
        join_evidence(&mut self.evidence, o.evidence);
        self.first_seen = self.first_seen.min(o.first_seen);
        self.last_seen = self.last_seen.max(o.last_seen);
    }
}

impl Facts {
    /// Joins another shard's facts about the same device into these.
    pub fn merge(&mut self, o: Facts) {
        for (name, bits) in o.names {
            if let Some(b) = self.names.get_mut(&name) {
                *b |= bits;
            } else if self.names.len() < MAX_NAMES {
                self.names.insert(name, bits);
            } else {
                self.names_dropped += 1;
            }
        }
        self.names_dropped += o.names_dropped;
        for (name, q) in o.dns {
            if let Some(mine) = self.dns.get_mut(&name) {
                mine.merge(*q);
            } else if self.dns.len() < MAX_DNS_QUESTIONS {
                self.dns.insert(name, q);
            } else {
                self.dns_dropped += 1;
            }
        }
        self.dns_dropped += o.dns_dropped;
        match (&mut self.dhcp, o.dhcp) {
            (Some(a), Some(b)) => a.merge(b),
            (a @ None, b) => *a = b,
            (Some(_), None) => {}
        }
        for (server, s) in o.ntp {
            if let Some(mine) = self.ntp.get_mut(&server) {
                mine.merge(s);
            } else if self.ntp.len() < MAX_NTP_SERVERS {
                self.ntp.insert(server, s);
            } else {
                self.sessions_dropped += 1;
            }
        }
        let dropped = &mut self.sessions_dropped;
        let mut join = |n: usize, cap_left: usize| {
            *dropped += n.saturating_sub(cap_left) as u64;
        };
        // Sessions in the order they began, as one engine would list them.
        join(o.tls.len(), MAX_SESSIONS.saturating_sub(self.tls.len()));
        self.tls.extend(o.tls);
        self.tls.sort_by_key(|t| t.ts);
        self.tls.truncate(MAX_SESSIONS);
        join(o.mqtt.len(), MAX_SESSIONS.saturating_sub(self.mqtt.len()));
        self.mqtt.extend(o.mqtt);
        self.mqtt.sort_by_key(|m| m.ts);
        self.mqtt.truncate(MAX_SESSIONS);
        join(o.http.len(), MAX_SESSIONS.saturating_sub(self.http.len()));
        self.http.extend(o.http);
        self.http.truncate(MAX_SESSIONS);
        join(o.ssh.len(), MAX_SESSIONS.saturating_sub(self.ssh.len()));
        self.ssh.extend(o.ssh);
        self.ssh.truncate(MAX_SESSIONS);
        for p in o.capwap {
            match self
                .capwap
                .iter_mut()
                .find(|c| c.peer == p.peer && c.port == p.port)
            {
                Some(c) => {
                    add_counts(&mut c.control, p.control);
                    c.dtls += p.dtls;
                    c.data += p.data;
                }
                None => {
                    join(1, MAX_SESSIONS.saturating_sub(self.capwap.len()));
                    if self.capwap.len() < MAX_SESSIONS {
                        self.capwap.push(p);
                    }
                }
            }
        }
        self.sessions_dropped += o.sessions_dropped;
        match (&mut self.wifi, o.wifi) {
            (Some(a), Some(b)) if b.ts > a.ts => *a = b,
            (a @ None, b) => *a = b,
            _ => {}
        }
    }
}

#[cfg(test)]
mod rcode_tests {
    use super::RcodeCounts;

    #[test]
    fn rcodes_come_out_in_name_order_and_are_found_by_name() {
        let mut c = RcodeCounts::default();
        for rc in 0..16u8 {
            for _ in 0..=rc {
                c.add(rc);
            }
        }
        let names: Vec<&str> = c.iter().map(|(n, _)| n).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        assert_eq!(names.len(), 12);
        assert_eq!(c.get("NOERROR"), Some(1));
        assert_eq!(c.get("NXDOMAIN"), Some(4));
        // 11..=15 are all UNKNOWN: 12 + 13 + 14 + 15 + 16 responses.
        assert_eq!(c.get("UNKNOWN"), Some(70));
        assert_eq!(RcodeCounts::default().get("NOERROR"), None);
        assert!(RcodeCounts::default().is_empty());
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.starts_with(r#"{"FORMERR":2,"NOERROR":1,"#), "{json}");
    }
}
