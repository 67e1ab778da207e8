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
/// Distinct strata and kiss codes kept per NTP server.
pub const MAX_STRATA: usize = 16;
pub const MAX_KISS_CODES: usize = 4;
const MAX_EVIDENCE: usize = 4;

/// Frames that show a fact: the [`MAX_EVIDENCE`] earliest (in frame
/// order), sorted; the first two held in place (most facts have one or
/// two), the rest in one heap block.
pub type Evidence = smallvec::SmallVec<[FrameRef; 2]>;

/// When something was seen: capture time, then the frame. Shards order
/// what they join by it, so a list one engine keeps in the order things
/// came merges into that order, whichever shard saw what. (One engine
/// reads a file in frame order: where a file's timestamps go backwards,
/// time order is not reading order, and a merge gives time order.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seen {
    pub ts: Nanos,
    pub frame: FrameRef,
}

impl Seen {
    pub fn new(ts: Nanos, frame: FrameRef) -> Seen {
        Seen { ts, frame }
    }
}

/// Responses by rcode name, counted in place: a map per question cost a
/// heap node for each of the 55,000 questions of the site mix. Slot
/// `rcode` for 0..=10, the last slot for every other (`UNKNOWN`). The
/// first four (NOERROR, FORMERR, SERVFAIL, NXDOMAIN: all but every
/// response) are held in place, the rest in a block made when one is
/// first counted: 24 bytes a question, not 48.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RcodeCounts {
    common: [u32; 4],
    /// Slots 4.. (never all zero once made).
    rare: Option<Box<[u32; 8]>>,
}

impl RcodeCounts {
    fn slot(rcode: u8) -> usize {
        usize::from(rcode).min(11)
    }

    fn at(&self, slot: usize) -> u32 {
        match slot.checked_sub(4) {
            None => self.common[slot],
            Some(i) => self.rare.as_ref().map_or(0, |r| r[i]),
        }
    }

    fn at_mut(&mut self, slot: usize) -> &mut u32 {
        match slot.checked_sub(4) {
            None => &mut self.common[slot],
            Some(i) => &mut self.rare.get_or_insert_with(Default::default)[i],
        }
    }

    /// Counts one response with this header rcode.
    pub fn add(&mut self, rcode: u8) {
        let n = self.at_mut(Self::slot(rcode));
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
        Some(self.at(slot)).filter(|n| *n > 0)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Responses with the header rcode `rcode` (0 for none): [`Self::get`]
    /// by number, without comparing names.
    pub fn count(&self, rcode: u8) -> u32 {
        self.at(Self::slot(rcode))
    }

    pub fn is_empty(&self) -> bool {
        self.common.iter().all(|n| *n == 0) && self.rare.is_none()
    }

    /// Every rcode seen, with its count, in name order (as a map would
    /// give them).
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u32)> + '_ {
        Self::BY_NAME
            .iter()
            .map(|&i| (Self::name(i), self.at(i)))
            .filter(|(_, n)| *n > 0)
    }

    pub fn merge(&mut self, o: &RcodeCounts) {
        for slot in 0..12 {
            let b = o.at(slot);
            if b > 0 {
                let a = self.at_mut(slot);
                *a = a.saturating_add(b);
            }
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
    /// One server held in place (all but 3% of the site mix's questions
    /// asked one): 16 bytes a question less.
    pub servers: smallvec::SmallVec<[IpAddr; 1]>,
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
    /// When each value above was last set.
    #[serde(skip)]
    pub seen: DhcpSeen,
}

/// When each value of [`DhcpFacts`] that the last message to carry it
/// sets was last set (`None`: never): a merge keeps the later, field by
/// field, as one engine would have (the later shard's conversation may
/// lack a value an earlier one gave).
#[derive(Debug, Clone, Copy, Default)]
pub struct DhcpSeen {
    pub hostname: Option<Seen>,
    pub vendor_class: Option<Seen>,
    pub parameter_request_list: Option<Seen>,
    pub requested_ip: Option<Seen>,
    pub leased_ip: Option<Seen>,
    pub offered_ip: Option<Seen>,
    pub server: Option<Seen>,
    pub subnet_mask: Option<Seen>,
    pub routers: Option<Seen>,
    pub dns_servers: Option<Seen>,
    pub ntp_servers: Option<Seen>,
    pub lease_time: Option<Seen>,
    pub mud_url: Option<Seen>,
    pub client_fqdn: Option<Seen>,
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
    /// The last packet's version.
    pub version: u8,
    /// The last reply's stratum, and every stratum the replies gave, in the
    /// order first given (at most [`MAX_STRATA`]).
    pub stratum: Option<u8>,
    pub strata: Vec<u8>,
    pub leap: Option<u8>,
    pub reference_id: Option<String>,
    #[serde(skip)]
    pub reference_raw: Option<[u8; 4]>,
    /// Kiss codes, in the order first sent (at most [`MAX_KISS_CODES`]).
    pub kiss_codes: Vec<String>,
    pub unsynchronized_replies: u32,
    /// The first request, the kisses of death, the unsynchronized replies.
    #[serde(skip)]
    pub evidence: Evidence,
    #[serde(skip)]
    pub first_seen: Nanos,
    #[serde(skip)]
    pub last_seen: Nanos,
    /// When the last packet, the last reply and the first request were
    /// seen, and each of `strata` and `kiss_codes` first: what a merge
    /// needs to know which shard's value one engine would have kept.
    #[serde(skip)]
    pub last_packet: Seen,
    #[serde(skip)]
    pub last_reply: Option<Seen>,
    #[serde(skip)]
    pub first_request: Option<Seen>,
    #[serde(skip)]
    pub strata_seen: Vec<Seen>,
    #[serde(skip)]
    pub kiss_seen: Vec<Seen>,
}

impl NtpServer {
    /// A packet to or from the server: its version and mode.
    pub fn note_packet(&mut self, at: Seen, version: u8, mode: &'static str) {
        self.version = version;
        self.last_packet = at;
        *self.modes.entry(mode).or_default() += 1;
    }

    /// A request the device sent; the first is evidence.
    pub fn note_request(&mut self, at: Seen) {
        self.requests += 1;
        if self.first_request.is_none() {
            self.first_request = Some(at);
            push_evidence(&mut self.evidence, at.frame);
        }
    }

    /// A reply: its stratum and leap indicator, its kiss code when it is a
    /// kiss of death, and whether the server is unsynchronized. The caller
    /// sets the reference it names ([`NtpServer::reference_raw`] and
    /// [`NtpServer::reference_id`]): that of the last reply, like these.
    pub fn note_reply(
        &mut self,
        at: Seen,
        stratum: u8,
        leap: u8,
        kiss: Option<&str>,
        unsynchronized: bool,
    ) {
        self.replies += 1;
        self.last_reply = Some(at);
        self.stratum = Some(stratum);
        self.leap = Some(leap);
        if !self.strata.contains(&stratum) && self.strata.len() < MAX_STRATA {
            self.strata.push(stratum);
            self.strata_seen.push(at);
        }
        if let Some(k) = kiss {
            if !self.kiss_codes.iter().any(|c| c == k) && self.kiss_codes.len() < MAX_KISS_CODES {
                self.kiss_codes.push(k.to_string());
                self.kiss_seen.push(at);
            }
            push_evidence(&mut self.evidence, at.frame);
        }
        if unsynchronized {
            self.unsynchronized_replies += 1;
            push_evidence(&mut self.evidence, at.frame);
        }
    }
}

/// One TLS (or QUIC) session's handshake as seen.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TlsSession {
    pub server: Addr,
    pub port: u16,
    pub transport: &'static str,
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    /// Version names ("TLS 1.3"): borrowed from a table but for versions
    /// it does not know, which are written in hex.
    pub offered_versions: Vec<std::borrow::Cow<'static, str>>,
    pub ja4: Option<String>,
    pub version: Option<std::borrow::Cow<'static, str>>,
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
    /// The request's frame (sessions are listed in the order they began).
    #[serde(skip)]
    pub seen: Seen,
}

/// An SSH banner the device sent or received.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SshBanner {
    pub peer: Addr,
    pub port: u16,
    pub client: Option<String>,
    pub server: Option<String>,
    /// The first banner's frame.
    #[serde(skip)]
    pub seen: Seen,
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
    /// The first packet's frame (peers are listed in the order first seen).
    #[serde(skip)]
    pub seen: Seen,
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
    /// The last frame's time.
    #[serde(skip)]
    pub ts: Nanos,
    /// When the last frame was seen, and when the SSID, channel and
    /// frequency were last set (`bssid` and `band` are the last frame's).
    #[serde(skip)]
    pub last: Seen,
    #[serde(skip)]
    pub ssid_seen: Option<Seen>,
    #[serde(skip)]
    pub channel_seen: Option<Seen>,
    #[serde(skip)]
    pub frequency_seen: Option<Seen>,
}

impl WifiFacts {
    /// A frame of (or about) the device at `at`.
    pub fn note_frame(&mut self, at: Seen, bssid: String) {
        self.ts = at.ts;
        self.last = at;
        self.bssid = Some(bssid);
    }

    /// The SSID, when the frame gave one.
    pub fn set_ssid(&mut self, ssid: Option<String>, at: Seen) {
        if ssid.is_some() {
            self.ssid = ssid;
            self.ssid_seen = Some(at);
        }
    }

    /// The channel and frequency, where known, and the band they make.
    pub fn set_channel(&mut self, channel: Option<u16>, freq: Option<u16>, at: Seen) {
        if channel.is_some() {
            self.channel = channel;
            self.channel_seen = Some(at);
        }
        if freq.is_some() {
            self.frequency = freq;
            self.frequency_seen = Some(at);
        }
        self.band = band_of(self.channel, self.frequency);
    }
}

/// The band's name: by the frequency, else by the channel.
fn band_of(channel: Option<u16>, frequency: Option<u16>) -> Option<&'static str> {
    use crate::proto::wifi::{band, Band};
    let b = frequency.and_then(band).or(match channel {
        Some(1..=14) => Some(Band::Ghz2_4),
        Some(32..=177) => Some(Band::Ghz5),
        _ => None,
    })?;
    Some(match b {
        Band::Ghz2_4 => "2.4GHz",
        Band::Ghz5 => "5GHz",
        Band::Ghz6 => "6GHz",
        Band::Ghz60 => "60GHz",
    })
}

/// What a device did with one name: used it (where from) and asked for
/// it in DNS. One entry for both, so a DNS message notes its question's
/// name and finds the question with one probe, and the name is held once.
#[derive(Debug, Clone, Default)]
pub struct NameFacts {
    /// The question, when the device asked for the name and there was room.
    pub question: Option<Box<DnsQuestion>>,
    /// Where the name came from ([`source`] bits); 0 unless noted.
    sources: u8,
    /// Counted among the names (an entry may hold a question only: the
    /// names were full, or the name was empty).
    noted: bool,
}

impl NameFacts {
    /// The name's [`source`] bits, when it is among the device's names.
    pub fn sources(&self) -> Option<u8> {
        self.noted.then_some(self.sources)
    }

    fn is_empty(&self) -> bool {
        !self.noted && self.question.is_none()
    }
}

/// The names a device used and the DNS questions it asked, in one table,
/// each capped on its own: [`MAX_NAMES`] names, [`MAX_DNS_QUESTIONS`]
/// questions (what each cap turns away is what it would in a table of its
/// own).
#[derive(Debug, Clone, Default)]
pub struct Names {
    table: NameMap<NameFacts>,
    /// Entries noted as names, and entries with a question.
    noted: usize,
    asked: usize,
}

impl Names {
    /// Names noted.
    pub fn names_len(&self) -> usize {
        self.noted
    }

    /// Questions held.
    pub fn questions_len(&self) -> usize {
        self.asked
    }

    /// The sources of `name`, when it was noted.
    pub fn name(&self, name: &str) -> Option<u8> {
        self.table.get(name).and_then(NameFacts::sources)
    }

    pub fn question(&self, name: &str) -> Option<&DnsQuestion> {
        self.table.get(name).and_then(|e| e.question.as_deref())
    }

    /// The names noted and their sources, in no order.
    pub fn names(&self) -> impl Iterator<Item = (&str, u8)> {
        self.table
            .iter()
            .filter_map(|(n, e)| Some((n, e.sources()?)))
    }

    /// The questions, in no order.
    pub fn questions(&self) -> impl Iterator<Item = (&str, &DnsQuestion)> {
        self.table
            .iter()
            .filter_map(|(n, e)| Some((n, e.question.as_deref()?)))
    }

    /// A question whose name hashed to `h` (a timed-out query kept only
    /// its name's hash).
    pub fn question_by_hash_mut(&mut self, h: u64) -> Option<&mut DnsQuestion> {
        self.table
            .find_by_hash_mut(h, |e| e.question.is_some())
            .and_then(|e| e.question.as_deref_mut())
    }

    /// Every entry, names and questions alike.
    pub fn into_map(self) -> NameMap<NameFacts> {
        self.table
    }
}

/// Everything learned about one device.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The names it used and the questions it asked (a hash table, looked
    /// up on every DNS message; the report sorts it). Questions are boxed:
    /// a table of 300-byte entries grown by doubling left half of it empty
    /// (31 MB for the site mix's 55,000 questions), and most names are
    /// asked for.
    pub names: Names,
    pub names_dropped: u64,
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
        self.note(h, name, Some(src), None);
    }

    /// The DNS question entry for `name`, created if there is room.
    pub fn dns_question(&mut self, name: &str, hash: u64, ts: Nanos) -> Option<&mut DnsQuestion> {
        self.note(hash, name, None, Some(ts))
    }

    /// [`Facts::note_name_hashed`] then [`Facts::dns_question`], with one
    /// lookup: a DNS message's question.
    pub fn name_and_question(
        &mut self,
        h: u64,
        name: &str,
        src: u8,
        ts: Nanos,
    ) -> Option<&mut DnsQuestion> {
        self.note(h, name, (!name.is_empty()).then_some(src), Some(ts))
    }

    /// Notes `name` (hash `h`) among the names with the sources `src`, when
    /// given, and, when a time is given, returns its question (created
    /// then if there is room). Each cap turns away, and counts, what it
    /// would on its own.
    fn note(
        &mut self,
        h: u64,
        name: &str,
        src: Option<u8>,
        ts: Option<Nanos>,
    ) -> Option<&mut DnsQuestion> {
        let Names {
            table,
            noted,
            asked,
        } = &mut self.names;
        let name_room = src.is_some() && *noted < MAX_NAMES;
        let question_room = ts.is_some() && *asked < MAX_DNS_QUESTIONS;
        // A new entry only when it will hold something.
        let cap = if name_room || question_room {
            usize::MAX
        } else {
            0
        };
        let Some(e) = table.get_or_insert_with(h, name, cap, NameFacts::default) else {
            self.names_dropped += u64::from(src.is_some());
            self.dns_dropped += u64::from(ts.is_some());
            return None;
        };
        if let Some(src) = src {
            if e.noted {
                e.sources |= src;
            } else if name_room {
                (e.noted, e.sources) = (true, src);
                *noted += 1;
            } else {
                self.names_dropped += 1;
            }
        }
        let ts = ts?;
        if e.question.is_none() {
            if !question_room {
                self.dns_dropped += 1;
                return None;
            }
            *asked += 1;
            e.question = Some(Box::new(DnsQuestion {
                first_seen: ts,
                last_seen: ts,
                ..Default::default()
            }));
        }
        let q = e.question.as_deref_mut()?;
        q.last_seen = q.last_seen.max(ts);
        Some(q)
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

/// Adds `x` to a sorted list unless it is there, keeping the `cap`
/// smallest: a set whose content and order do not depend on the order
/// things were seen in, so shards merge to what one engine lists even
/// when the cap turned some away.
#[inline]
pub fn insert_sorted<A: smallvec::Array>(list: &mut smallvec::SmallVec<A>, x: A::Item, cap: usize)
where
    A::Item: Ord,
{
    // Most calls find the list empty, `x` last already (the server asked
    // again) or past the end (the answers' addresses in order): no search.
    match list.last() {
        None => {
            if cap > 0 {
                list.push(x);
            }
            return;
        }
        Some(last) if *last < x => {
            if list.len() < cap {
                list.push(x);
            }
            return;
        }
        Some(last) if *last == x => return,
        Some(_) => {}
    }
    if let Err(at) = list.binary_search(&x) {
        if at < cap {
            list.insert(at, x);
            list.truncate(cap);
        }
    }
}

/// Adds `frame` to an evidence list, which keeps the [`MAX_EVIDENCE`]
/// earliest frames, sorted (as [`insert_sorted`]): whichever shard saw
/// which frames, the merged list is one engine's.
pub fn push_evidence(list: &mut Evidence, frame: FrameRef) {
    insert_sorted(list, frame, MAX_EVIDENCE);
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

// Merging: the shards of a capture each keep facts for the devices whose
// flows they analyse; a device seen by several shards (a gateway, a host
// with an IPv4 and an IPv6 address, a conversation between two local
// hosts, a CAPWAP tunnel's wireless clients) has its facts joined here, a
// shard at a time, in whatever order the shards come. The result is what
// one engine would have recorded, whichever shard saw what and whatever
// the order of the joins:
//
// - counts add up;
// - sets are kept sorted under their caps, the smallest items
//   ([`insert_sorted`]; evidence is a set of the earliest frames);
// - lists one engine keeps in the order things came are joined by when
//   each item was first seen ([`Seen`]) and cut at their cap: that keeps
//   the items one engine kept, as each of them was among the first `cap`
//   items of the shard that saw it first;
// - where one value wins (the last lease, the last reply's stratum), the
//   one set last does, field by field.
//
// What one engine's answer cannot be recovered from: a shard's cap turning
// away an item another shard kept (what that shard would have added to it
// is lost), counts of what caps turned away (each shard counts its own
// refusals), and the few places noted below. Those stay deterministic.

/// Joins `b` into `a`, two lists in the order first seen, with when each
/// item was (`a_seen`, `b_seen`, beside them): an item both hold keeps its
/// earlier time; the result is in time order, cut to `cap`.
fn join_first_seen<T: Ord>(
    a: &mut Vec<T>,
    a_seen: &mut Vec<Seen>,
    b: Vec<T>,
    b_seen: Vec<Seen>,
    cap: usize,
) {
    // A list without its times (made by hand) sorts first, not lost.
    let pad = || std::iter::repeat(Seen::default());
    let mut all: Vec<(Seen, T)> = Vec::with_capacity(a.len() + b.len());
    all.extend(
        std::mem::take(a_seen)
            .into_iter()
            .chain(pad())
            .zip(std::mem::take(a)),
    );
    for (at, x) in b_seen.into_iter().chain(pad()).zip(b) {
        match all.iter_mut().find(|(_, y)| *y == x) {
            Some(e) => e.0 = e.0.min(at),
            None => all.push((at, x)),
        }
    }
    all.sort_unstable();
    all.truncate(cap);
    (*a_seen, *a) = all.into_iter().unzip();
}

/// Joins two lists of sessions, each in the order its sessions began
/// (`key`: when one began), into that order, cut at [`MAX_SESSIONS`]; what
/// the cut drops is counted (with what each shard's cap dropped, that is
/// one engine's count: it dropped all but the first [`MAX_SESSIONS`]).
fn join_sessions<T, K: Ord>(a: &mut Vec<T>, b: Vec<T>, dropped: &mut u64, key: impl Fn(&T) -> K) {
    a.extend(b);
    a.sort_by_key(key);
    if a.len() > MAX_SESSIONS {
        *dropped += (a.len() - MAX_SESSIONS) as u64;
        a.truncate(MAX_SESSIONS);
    }
}

fn add_counts(a: &mut BTreeMap<&'static str, u32>, b: BTreeMap<&'static str, u32>) {
    for (k, n) in b {
        *a.entry(k).or_default() += n;
    }
}

/// Evidence of both: the earliest frames, sorted, capped (as
/// [`push_evidence`] keeps them).
fn join_evidence(a: &mut Evidence, b: Evidence) {
    a.extend(b);
    a.sort_unstable();
    a.dedup();
    a.truncate(MAX_EVIDENCE);
}

impl DnsQuestion {
    /// Not exact where one engine's count depended on what another shard
    /// saw: a response whose query was not seen answers one only while no
    /// query for the name was seen, and each shard judges that by its own
    /// queries (a device asking over IPv4 and IPv6 on two shards).
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
    /// All DHCP on the wire goes to one shard; what a CAPWAP tunnel
    /// carries goes with the tunnel. A transaction opened on one shard and
    /// answered on another stays unanswered on the first: not recoverable.
    fn merge(&mut self, o: DhcpFacts) {
        add_counts(&mut self.messages, o.messages);
        macro_rules! later {
            ($($f:ident),*) => {$(
                if o.seen.$f > self.seen.$f {
                    self.$f = o.$f;
                    self.seen.$f = o.seen.$f;
                }
            )*};
        }
        later!(
            hostname,
            vendor_class,
            parameter_request_list,
            requested_ip,
            leased_ip,
            offered_ip,
            server,
            subnet_mask,
            routers,
            dns_servers,
            ntp_servers,
            lease_time,
            mud_url,
            client_fqdn
        );
        self.discovers_unanswered += o.discovers_unanswered;
        self.requests_unanswered += o.requests_unanswered;
        self.naks += o.naks;
        join_evidence(&mut self.evidence, o.evidence);
        self.first_seen = self.first_seen.min(o.first_seen);
        self.last_seen = self.last_seen.max(o.last_seen);
        self.open.extend(o.open);
        self.open
            .sort_unstable_by_key(|t| (t.ts, t.frame, t.xid, t.kind));
    }
}

impl NtpServer {
    fn merge(&mut self, o: NtpServer) {
        self.requests += o.requests;
        self.replies += o.replies;
        add_counts(&mut self.modes, o.modes);
        if o.last_packet > self.last_packet {
            self.version = o.version;
            self.last_packet = o.last_packet;
        }
        if o.last_reply > self.last_reply {
            self.stratum = o.stratum;
            self.leap = o.leap;
            self.reference_id = o.reference_id;
            self.reference_raw = o.reference_raw;
            self.last_reply = o.last_reply;
        }
        join_first_seen(
            &mut self.strata,
            &mut self.strata_seen,
            o.strata,
            o.strata_seen,
            MAX_STRATA,
        );
        join_first_seen(
            &mut self.kiss_codes,
            &mut self.kiss_seen,
            o.kiss_codes,
            o.kiss_seen,
            MAX_KISS_CODES,
        );
        self.unsynchronized_replies += o.unsynchronized_replies;
        // Each shard's evidence holds the first request it saw; one
        // engine's holds the earliest of them only.
        let first = match (self.first_request, o.first_request) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut theirs = o.evidence;
        for (ev, req) in [
            (&mut self.evidence, self.first_request),
            (&mut theirs, o.first_request),
        ] {
            if let Some(r) = req.filter(|r| Some(*r) != first) {
                ev.retain(|f| *f != r.frame);
            }
        }
        join_evidence(&mut self.evidence, theirs);
        self.first_request = first;
        self.first_seen = self.first_seen.min(o.first_seen);
        self.last_seen = self.last_seen.max(o.last_seen);
    }
}

impl WifiFacts {
    fn merge(&mut self, o: WifiFacts) {
        if o.last > self.last {
            (self.bssid, self.ts, self.last) = (o.bssid, o.ts, o.last);
        }
        if o.ssid_seen > self.ssid_seen {
            (self.ssid, self.ssid_seen) = (o.ssid, o.ssid_seen);
        }
        if o.channel_seen > self.channel_seen {
            (self.channel, self.channel_seen) = (o.channel, o.channel_seen);
        }
        if o.frequency_seen > self.frequency_seen {
            (self.frequency, self.frequency_seen) = (o.frequency, o.frequency_seen);
        }
        // The last frame's band is that of the channel and frequency known
        // then: the last ones set.
        self.band = band_of(self.channel, self.frequency);
        self.access_point |= o.access_point;
        join_evidence(&mut self.evidence, o.evidence);
    }
}

impl Facts {
    /// Joins another shard's facts about the same device into these.
    pub fn merge(&mut self, o: Facts) {
        self.names.table.absorb(o.names.table, |mine, theirs| {
            mine.noted |= theirs.noted;
            mine.sources |= theirs.sources;
            match (&mut mine.question, theirs.question) {
                (Some(a), Some(b)) => a.merge(*b),
                (a @ None, b) => *a = b,
                (Some(_), None) => {}
            }
        });
        self.names_dropped += o.names_dropped;
        self.dns_dropped += o.dns_dropped;
        let (mut noted, mut asked) = (0, 0);
        for (_, e) in self.names.table.iter() {
            noted += usize::from(e.noted);
            asked += usize::from(e.question.is_some());
        }
        // Names: one engine keeps the first MAX_NAMES it saw, but no time
        // is kept per name (it would cost every name of every device), so
        // when the shards together hold more, the alphabetically first are
        // kept: deterministic, not necessarily one engine's.
        let last_name: Option<Box<str>> = (noted > MAX_NAMES).then(|| {
            let mut all: Vec<&str> = self.names.names().map(|(n, _)| n).collect();
            let (_, last, _) = all.select_nth_unstable(MAX_NAMES - 1);
            (*last).into()
        });
        // Questions: the first MAX_DNS_QUESTIONS asked, as one engine
        // kept them (each was created when first asked).
        let last_question: Option<(Nanos, Box<str>)> = (asked > MAX_DNS_QUESTIONS).then(|| {
            let mut all: Vec<(Nanos, &str)> = self
                .names
                .questions()
                .map(|(n, q)| (q.first_seen, n))
                .collect();
            let (_, (t, n), _) = all.select_nth_unstable(MAX_DNS_QUESTIONS - 1);
            (*t, (*n).into())
        });
        if last_name.is_some() || last_question.is_some() {
            self.names.table.retain(|n, e| {
                if e.noted && last_name.as_deref().is_some_and(|last| n > last) {
                    (e.noted, e.sources) = (false, 0);
                }
                if let (Some(q), Some((t, last))) = (&e.question, &last_question) {
                    if (q.first_seen, n) > (*t, &**last) {
                        e.question = None;
                    }
                }
                !e.is_empty()
            });
            self.names_dropped += noted.saturating_sub(MAX_NAMES) as u64;
            self.dns_dropped += asked.saturating_sub(MAX_DNS_QUESTIONS) as u64;
        }
        self.names.noted = noted.min(MAX_NAMES);
        self.names.asked = asked.min(MAX_DNS_QUESTIONS);
        match (&mut self.dhcp, o.dhcp) {
            (Some(a), Some(b)) => a.merge(b),
            (a @ None, b) => *a = b,
            (Some(_), None) => {}
        }
        // NTP servers: the first MAX_NTP_SERVERS seen.
        for (server, s) in o.ntp {
            match self.ntp.get_mut(&server) {
                Some(mine) => mine.merge(s),
                None => {
                    self.ntp.insert(server, s);
                }
            }
        }
        if self.ntp.len() > MAX_NTP_SERVERS {
            let mut by_age: Vec<(Nanos, IpAddr)> =
                self.ntp.iter().map(|(ip, s)| (s.first_seen, *ip)).collect();
            by_age.sort_unstable();
            for (_, ip) in &by_age[MAX_NTP_SERVERS..] {
                self.ntp.remove(ip);
                self.sessions_dropped += 1;
            }
        }
        let dropped = &mut self.sessions_dropped;
        // Sessions in the order they began, as one engine lists them (a
        // TLS or MQTT session's first evidence is its hello's frame).
        join_sessions(&mut self.tls, o.tls, dropped, |t| {
            (t.ts, t.evidence.first().copied())
        });
        join_sessions(&mut self.mqtt, o.mqtt, dropped, |m| {
            (m.ts, m.evidence.first().copied())
        });
        join_sessions(&mut self.http, o.http, dropped, |h| h.seen);
        join_sessions(&mut self.ssh, o.ssh, dropped, |b| b.seen);
        let mut new = Vec::new();
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
                    c.seen = c.seen.min(p.seen);
                }
                None => new.push(p),
            }
        }
        join_sessions(&mut self.capwap, new, dropped, |c| c.seen);
        self.sessions_dropped += o.sessions_dropped;
        match (&mut self.wifi, o.wifi) {
            (Some(a), Some(b)) => a.merge(b),
            (a @ None, b) => *a = b,
            (Some(_), None) => {}
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

    /// Counts held in place and those in the block made for the rarer
    /// rcodes add up alike, one at a time or merged.
    #[test]
    fn rare_rcodes_count_and_merge_like_common_ones() {
        let (mut a, mut b, mut both) = (
            RcodeCounts::default(),
            RcodeCounts::default(),
            RcodeCounts::default(),
        );
        for (i, rc) in [0u8, 3, 3, 5, 2, 9, 15, 12, 0, 5].into_iter().enumerate() {
            if i % 2 == 0 { &mut a } else { &mut b }.add(rc);
            both.add(rc);
        }
        assert_eq!((a.count(5), b.count(5)), (0, 2));
        assert_eq!((a.count(15), b.count(12)), (1, 1), "both UNKNOWN");
        let only_common = {
            let mut c = RcodeCounts::default();
            c.add(3);
            c
        };
        assert!(!only_common.is_empty());
        let mut m = only_common.clone();
        m.merge(&RcodeCounts::default());
        assert_eq!(m, only_common, "merging nothing makes no block");
        a.merge(&b);
        assert_eq!(a, both);
        assert_eq!(a.get("YXDOMAIN"), None);
        assert_eq!(a.get("NOTAUTH"), Some(1));
        assert_eq!(a.iter().map(|(_, n)| n).sum::<u32>(), 10);
    }
}

#[cfg(test)]
mod merge_tests {
    //! Facts split between shards in several ways and merged in both
    //! orders give what one engine recorded from all of them.
    use super::*;

    fn frame(n: u64) -> FrameRef {
        FrameRef { file: 0, number: n }
    }

    /// What one frame teaches (applied as the app layer records it).
    #[derive(Debug, Clone)]
    enum Ev {
        NtpRequest(u8),
        /// Server, stratum, kiss code, unsynchronized.
        NtpReply(u8, u8, Option<&'static str>, bool),
        Name(String, u8),
        /// A DNS message's question: its name noted and its question
        /// counted with one lookup.
        Asked(String, u8),
        /// Name, server, addresses in the answer.
        Dns(String, u8, Vec<u8>),
        Tls(String),
        Mqtt(String),
        Http(String),
        Ssh(String),
        Capwap(u8),
        DhcpRequest(Option<&'static str>, Option<u8>),
        DhcpAck(Option<u8>, Option<u32>),
        Wifi(u8, Option<&'static str>, Option<u16>, Option<u16>, bool),
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
    }

    /// Records event `n` (frame `n`, at `n` seconds) on `f`.
    fn apply(f: &mut Facts, n: u64, ev: &Ev) {
        let ts = n as Nanos * 1_000_000_000;
        let at = Seen::new(ts, frame(n));
        match ev {
            Ev::NtpRequest(srv) => {
                let s = f.ntp_server(ip(*srv), ts).unwrap();
                s.note_packet(at, 4, "client");
                s.note_request(at);
            }
            Ev::NtpReply(srv, stratum, kiss, unsync) => {
                let s = f.ntp_server(ip(*srv), ts).unwrap();
                s.note_packet(at, 3 + (n % 2) as u8, "server");
                s.note_reply(at, *stratum, 0, *kiss, *unsync);
                s.reference_raw = Some([n as u8; 4]);
                s.reference_id = Some(format!("ref{n}"));
            }
            Ev::Name(name, src) => f.note_name(name, *src),
            Ev::Asked(name, src) => {
                if let Some(q) = f.name_and_question(names::hash(name), name, *src, ts) {
                    q.queries += 1;
                    push_evidence(&mut q.evidence, frame(n));
                }
            }
            Ev::Dns(name, server, addrs) => {
                if let Some(q) = f.dns_question(name, names::hash(name), ts) {
                    q.queries += 1;
                    insert_sorted(&mut q.servers, ip(*server), 4);
                    for a in addrs {
                        insert_sorted(&mut q.addresses, ip(*a), 16);
                    }
                    push_evidence(&mut q.evidence, frame(n));
                }
            }
            Ev::Tls(sni) => {
                let mut s = TlsSession {
                    sni: Some(sni.clone()),
                    ts,
                    ..Default::default()
                };
                push_evidence(&mut s.evidence, frame(n));
                push_capped(&mut f.tls, s, &mut f.sessions_dropped);
            }
            Ev::Mqtt(id) => {
                let mut m = MqttSession {
                    client_id: id.clone(),
                    ts,
                    ..Default::default()
                };
                push_evidence(&mut m.evidence, frame(n));
                push_capped(&mut f.mqtt, m, &mut f.sessions_dropped);
            }
            Ev::Http(target) => {
                let r = HttpRequest {
                    target: target.clone(),
                    seen: at,
                    ..Default::default()
                };
                push_capped(&mut f.http, r, &mut f.sessions_dropped);
            }
            Ev::Ssh(sw) => {
                let b = SshBanner {
                    client: Some(sw.clone()),
                    seen: at,
                    ..Default::default()
                };
                push_capped(&mut f.ssh, b, &mut f.sessions_dropped);
            }
            Ev::Capwap(peer) => {
                let peer = Addr(ip(*peer));
                let i = match f.capwap.iter().position(|c| c.peer == peer) {
                    Some(i) => i,
                    None => {
                        let c = CapwapPeer {
                            peer,
                            seen: at,
                            ..Default::default()
                        };
                        push_capped(&mut f.capwap, c, &mut f.sessions_dropped);
                        f.capwap.len() - 1
                    }
                };
                f.capwap[i].data += 1;
            }
            Ev::DhcpRequest(host, requested) => {
                let d = f.dhcp_mut(ts);
                *d.messages.entry("REQUEST").or_default() += 1;
                if let Some(h) = host {
                    (d.hostname, d.seen.hostname) = (Some(h.to_string()), Some(at));
                }
                if let Some(r) = requested {
                    let r = Ipv4Addr::new(10, 0, 0, *r);
                    (d.requested_ip, d.seen.requested_ip) = (Some(r), Some(at));
                }
            }
            Ev::DhcpAck(leased, lease_time) => {
                let d = f.dhcp_mut(ts);
                *d.messages.entry("ACK").or_default() += 1;
                if let Some(l) = leased {
                    let l = Ipv4Addr::new(10, 0, 0, *l);
                    (d.leased_ip, d.seen.leased_ip) = (Some(l), Some(at));
                }
                if let Some(t) = lease_time {
                    (d.lease_time, d.seen.lease_time) = (Some(*t), Some(at));
                }
                push_evidence(&mut d.evidence, frame(n));
            }
            Ev::Wifi(bssid, ssid, channel, freq, ap) => {
                let w = f.wifi.get_or_insert_with(Default::default);
                w.note_frame(at, format!("02:00:00:00:00:{bssid:02x}"));
                w.access_point |= ap;
                w.set_ssid(ssid.map(str::to_string), at);
                w.set_channel(*channel, *freq, at);
                push_evidence(&mut w.evidence, frame(n));
            }
        }
    }

    /// Everything the facts hold, in an order that does not depend on how
    /// the hash tables were filled.
    fn digest(f: &Facts) -> String {
        let mut names: Vec<_> = f.names.names().collect();
        names.sort();
        let mut dns: Vec<_> = f.names.questions().collect();
        dns.sort_by_key(|(n, _)| *n);
        assert_eq!(names.len(), f.names.names_len());
        assert_eq!(dns.len(), f.names.questions_len());
        format!(
            "names {names:?} dropped {}\ndns {dns:?} dropped {}\ndhcp {:?}\nntp {:?}\n\
             tls {:?}\nmqtt {:?}\nhttp {:?}\nssh {:?}\ncapwap {:?}\nwifi {:?}\nsessions dropped {}",
            f.names_dropped,
            f.dns_dropped,
            f.dhcp,
            f.ntp,
            f.tls,
            f.mqtt,
            f.http,
            f.ssh,
            f.capwap,
            f.wifi,
            f.sessions_dropped
        )
    }

    /// Ways to deal events to two shards: all to one, halves, interleaved,
    /// and a few scrambles.
    fn splits(n: usize) -> Vec<Vec<bool>> {
        let mut out = vec![
            vec![false; n],
            vec![true; n],
            (0..n).map(|i| i >= n / 2).collect(),
            (0..n).map(|i| i < n / 2).collect(),
            (0..n).map(|i| i % 2 == 1).collect(),
            (0..n).map(|i| i % 3 == 0).collect(),
        ];
        for seed in 1..=6u64 {
            let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            out.push(
                (0..n)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x & 1 == 1
                    })
                    .collect(),
            );
        }
        out
    }

    /// The facts one engine records from `evs`, and for every split, the
    /// two shards' facts merged each way round.
    fn one_and_merged(evs: &[Ev]) -> (Facts, Vec<(Vec<bool>, Facts, Facts)>) {
        let mut one = Facts::default();
        for (i, e) in evs.iter().enumerate() {
            apply(&mut one, i as u64 + 1, e);
        }
        let mut out = Vec::new();
        for split in splits(evs.len()) {
            let (mut a, mut b) = (Facts::default(), Facts::default());
            for (i, e) in evs.iter().enumerate() {
                apply(if split[i] { &mut b } else { &mut a }, i as u64 + 1, e);
            }
            let (mut ab, mut ba) = (a.clone(), b.clone());
            ab.merge(b);
            ba.merge(a);
            out.push((split, ab, ba));
        }
        (one, out)
    }

    fn assert_merges_to_one_engine(evs: &[Ev]) {
        let (one, merged) = one_and_merged(evs);
        let want = digest(&one);
        for (split, ab, ba) in merged {
            assert_eq!(digest(&ab), want, "A then B, split {split:?}");
            assert_eq!(digest(&ba), want, "B then A, split {split:?}");
        }
    }

    /// tcpdump__ntp.pcap's exchange: the first request and the kiss of
    /// death are the evidence, strata in the order given; the last
    /// exchange (123 to 123, another flow) on another shard changes none
    /// of it.
    #[test]
    fn ntp_of_tcpdump_capture_merges_to_one_engine() {
        let evs = [
            Ev::NtpRequest(1),
            Ev::NtpReply(1, 0, Some("STEP"), true),
            Ev::NtpRequest(1),
            Ev::NtpReply(1, 2, None, false),
            Ev::NtpRequest(1),
            Ev::NtpReply(1, 2, None, false),
            Ev::NtpRequest(1),
            Ev::NtpReply(1, 2, None, false),
        ];
        let (one, merged) = one_and_merged(&evs);
        let s = &one.ntp[&ip(1)];
        assert_eq!(s.strata, [0, 2]);
        assert_eq!(&s.evidence[..], [frame(1), frame(2)]);
        for (split, ab, ba) in merged {
            for m in [&ab, &ba] {
                let s = &m.ntp[&ip(1)];
                assert_eq!(s.strata, [0, 2], "{split:?}");
                assert_eq!(&s.evidence[..], [frame(1), frame(2)], "{split:?}");
                assert_eq!((s.requests, s.replies, s.stratum), (4, 4, Some(2)));
            }
        }
        assert_merges_to_one_engine(&evs);
    }

    /// Strata and kiss codes past their caps, servers answering after the
    /// last request, a version that changes: every field as one engine.
    #[test]
    fn ntp_lists_and_last_values_merge_to_one_engine() {
        let kisses = ["RATE", "DENY", "RSTR", "STEP", "INIT", "AUTH"];
        let mut evs = Vec::new();
        for i in 0..60u8 {
            evs.push(Ev::NtpRequest(1 + i % 3));
            // Server 1 gives every kiss code and 20 strata.
            let kiss = (i % 3 == 0).then(|| kisses[usize::from(i / 3) % kisses.len()]);
            evs.push(Ev::NtpReply(
                1 + i % 3,
                (u32::from(i) * 7 % 23) as u8,
                kiss,
                i % 7 == 0,
            ));
        }
        evs.push(Ev::NtpReply(2, 1, None, false));
        assert_merges_to_one_engine(&evs);
        let (one, _) = one_and_merged(&evs);
        assert_eq!(one.ntp[&ip(1)].kiss_codes.len(), MAX_KISS_CODES);
        assert_eq!(one.ntp[&ip(1)].strata.len(), MAX_STRATA);
    }

    #[test]
    fn dns_names_and_sessions_merge_to_one_engine() {
        let mut evs = Vec::new();
        for i in 0..90u8 {
            let name = format!("h{}.example", i % 11);
            evs.push(Ev::Name(name.clone(), 1 << (i % 3)));
            evs.push(Ev::Asked(format!("a{}.example", i % 7), source::DNS));
            // More addresses and servers than a question keeps.
            evs.push(Ev::Dns(name, i % 6, vec![i, i.wrapping_mul(7), 200 - i]));
            // More TLS sessions than a device keeps.
            evs.push(Ev::Tls(format!("t{i}")));
            if i % 4 == 0 {
                evs.push(Ev::Mqtt(format!("m{i}")));
                evs.push(Ev::Http(format!("/r{i}")));
                evs.push(Ev::Ssh(format!("s{i}")));
                evs.push(Ev::Capwap(i % 5));
            }
        }
        assert_merges_to_one_engine(&evs);
        let (one, _) = one_and_merged(&evs);
        assert_eq!(one.tls.len(), MAX_SESSIONS);
        assert_eq!(one.sessions_dropped, 90 - MAX_SESSIONS as u64);
        assert_eq!(
            one.names.question("h3.example").unwrap().addresses.len(),
            16
        );
    }

    #[test]
    fn dhcp_and_wifi_keep_each_value_set_last() {
        let evs = [
            Ev::DhcpRequest(Some("first"), Some(5)),
            Ev::Wifi(1, Some("site"), Some(6), None, false),
            Ev::DhcpAck(Some(5), Some(3600)),
            Ev::DhcpRequest(None, Some(6)),
            Ev::Wifi(1, None, None, Some(5180), true),
            Ev::DhcpAck(Some(6), None),
            Ev::DhcpRequest(Some("second"), None),
            Ev::Wifi(2, None, Some(36), None, false),
            Ev::DhcpAck(None, Some(60)),
            Ev::Wifi(2, Some("guest"), None, None, false),
        ];
        assert_merges_to_one_engine(&evs);
    }

    /// One engine keeps the first questions asked: so do the shards
    /// merged, each question created when first asked.
    #[test]
    fn dns_questions_past_the_cap_merge_to_one_engine() {
        let evs: Vec<Ev> = (0..MAX_DNS_QUESTIONS + 40)
            .map(|i| Ev::Dns(format!("q{}.example", (i * 7) % 1100), 1, vec![]))
            .collect();
        let (one, merged) = one_and_merged(&evs);
        let want: Vec<&str> = {
            let mut k: Vec<&str> = one.names.questions().map(|(n, _)| n).collect();
            k.sort_unstable();
            k
        };
        assert_eq!(want.len(), MAX_DNS_QUESTIONS);
        for (split, ab, ba) in &merged {
            for m in [ab, ba] {
                let mut got: Vec<&str> = m.names.questions().map(|(n, _)| n).collect();
                got.sort_unstable();
                assert!(got == want, "{split:?}");
            }
        }
    }

    /// Names carry no time: past the cap the merge cannot tell which one
    /// engine kept, and keeps the alphabetically first, the same whichever
    /// shard saw what and whichever merges first.
    #[test]
    fn names_past_the_cap_merge_the_same_whatever_the_order() {
        let evs: Vec<Ev> = (0..MAX_NAMES + 100)
            .map(|i| Ev::Name(format!("n{:04}.example", (i * 37) % 1000), 1))
            .collect();
        let (_, merged) = one_and_merged(&evs);
        for (split, ab, ba) in &merged {
            assert_eq!(ab.names.names_len(), MAX_NAMES);
            assert_eq!(digest(ab), digest(ba), "{split:?}");
        }
        // Where both shards kept their names, what was kept is the
        // alphabetically first of them.
        let (_, ab, _) = &merged[4];
        assert!(ab.names.name("n0000.example").is_some());
    }

    /// Names and questions share a table but not a cap: past the names'
    /// cap a name is still asked for, past the questions' cap still noted.
    #[test]
    fn names_and_questions_are_capped_each_on_its_own() {
        let mut f = Facts::default();
        for i in 0..MAX_NAMES {
            f.note_name(&format!("n{i}.example"), source::SNI);
        }
        let q = |f: &mut Facts, n: &str| f.dns_question(n, names::hash(n), 5).is_some();
        assert!(q(&mut f, "q.example"), "questions have room");
        assert_eq!(f.names.name("q.example"), None, "not noted: asked only");
        f.note_name("q.example", source::DNS);
        assert_eq!((f.names.names_len(), f.names_dropped), (MAX_NAMES, 1));
        let h = names::hash("r.example");
        assert!(f
            .name_and_question(h, "r.example", source::DNS, 6)
            .is_some());
        assert_eq!(f.names_dropped, 2);
        // A noted name gains sources past the cap.
        f.note_name("n0.example", source::HTTP);
        assert_eq!(f.names.name("n0.example"), Some(source::SNI | source::HTTP));
        // A name noted without a question is not found by its hash.
        assert!(f
            .names
            .question_by_hash_mut(names::hash("n1.example"))
            .is_none());
        assert!(f.names.question_by_hash_mut(h).is_some());
        for i in 2..MAX_DNS_QUESTIONS {
            assert!(q(&mut f, &format!("n{i}.example")));
        }
        assert_eq!(f.names.questions_len(), MAX_DNS_QUESTIONS);
        assert!(!q(&mut f, "n0.example"), "questions full");
        assert!(!q(&mut f, "new.example"), "questions full");
        assert!(f.name_and_question(h, "r.example", 0, 7).is_some(), "held");
        assert_eq!((f.names_dropped, f.dns_dropped), (3, 2));
        // Neither cap had room: no entry was made.
        assert!(f.names.question("new.example").is_none());
        assert_eq!(f.names.name("n0.example"), Some(source::SNI | source::HTTP));
        assert_eq!(f.names.names().count(), MAX_NAMES);
        assert_eq!(f.names.questions().count(), MAX_DNS_QUESTIONS);
        // The empty name (the root) is asked for, never noted.
        let mut g = Facts::default();
        assert!(g
            .name_and_question(names::hash(""), "", source::DNS, 1)
            .is_some());
        assert_eq!((g.names.names_len(), g.names.questions_len()), (0, 1));
    }

    /// One lookup for a DNS message's name and question records what
    /// noting the name, then looking the question up, did: below, at and
    /// past both caps.
    #[test]
    fn one_lookup_records_what_two_did() {
        let (mut one, mut two) = (Facts::default(), Facts::default());
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        for i in 0..4 * MAX_DNS_QUESTIONS as u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let name = format!("h{}.example", x % 1500);
            let ts = i as Nanos;
            match x % 4 {
                0 => {
                    one.note_name(&name, source::SNI);
                    two.note_name(&name, source::SNI);
                }
                1 => {
                    one.dns_question(&name, names::hash(&name), ts);
                    two.dns_question(&name, names::hash(&name), ts);
                }
                _ => {
                    let h = names::hash(&name);
                    let a = one.name_and_question(h, &name, source::DNS, ts);
                    if let Some(q) = a {
                        q.queries += 1;
                    }
                    two.note_name_hashed(h, &name, source::DNS);
                    let b = two.dns_question(&name, h, ts);
                    if let Some(q) = b {
                        q.queries += 1;
                    }
                }
            }
        }
        assert!(
            one.names_dropped > 0 && one.dns_dropped > 0,
            "both caps hit"
        );
        assert_eq!(digest(&one), digest(&two));
    }

    /// Past both caps at once, shards that noted names and asked
    /// questions merge the same whichever merges first, keeping the
    /// questions one engine kept.
    #[test]
    fn names_and_questions_past_both_caps_merge() {
        let evs: Vec<Ev> = (0..3 * MAX_DNS_QUESTIONS)
            .map(|i| {
                let name = format!("x{:04}.example", (i * 17) % 2600);
                match i % 3 {
                    0 => Ev::Name(name, source::SNI),
                    1 => Ev::Asked(name, source::DNS),
                    _ => Ev::Dns(name, 1, vec![]),
                }
            })
            .collect();
        let (one, merged) = one_and_merged(&evs);
        assert!(
            one.names_dropped > 0 && one.dns_dropped > 0,
            "both caps hit"
        );
        let mut want: Vec<&str> = one.names.questions().map(|(n, _)| n).collect();
        want.sort_unstable();
        for (split, ab, ba) in &merged {
            assert_eq!(digest(ab), digest(ba), "{split:?}");
            assert_eq!(ab.names.names_len(), MAX_NAMES);
            let mut got: Vec<&str> = ab.names.questions().map(|(n, _)| n).collect();
            got.sort_unstable();
            assert!(got == want, "{split:?}");
        }
    }

    #[test]
    fn capped_sets_keep_the_smallest_whatever_the_order() {
        let mut up: Evidence = Evidence::new();
        let mut down: Evidence = Evidence::new();
        for n in 1..=9 {
            push_evidence(&mut up, frame(n));
            push_evidence(&mut down, frame(10 - n));
        }
        assert_eq!(up, down);
        assert_eq!(&up[..], [frame(1), frame(2), frame(3), frame(4)]);
    }
}
