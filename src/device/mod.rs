//! The device inventory: who is on the local network, and what each did.
//!
//! A device is a MAC address on the local side. Every unicast source MAC is
//! observed, but only those with an address of their own become devices in
//! the report: a local-scope address (private, link-local, CGNAT, ULA, or
//! one leased by DHCP in the capture), a public address that did not talk to
//! a local-scope host, or link-layer traffic of their own (ARP, EAPOL, a
//! DHCP DISCOVER from 0.0.0.0). A gateway forwarding internet replies
//! sources many public addresses; those are remote hosts, not its own.
//! Where the link layer carries no MAC (raw IP, some cooked captures), a
//! device is its local-scope IP address.
//!
//! Flows are summarised per device and destination when they end
//! ([`Destination`]), so memory grows with destinations, not packets; every
//! per-device table is capped and what is dropped is counted.

pub mod bypass;
pub mod facts;
pub mod names;
pub mod oui;

use crate::capture::{Frame, Nanos};
use crate::decode::{Mac, Packet};
use crate::flow::{Dir, EndReason, Flow, FlowSink, FrameRef};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// The hasher of the inventory's tables: keys are MACs and addresses,
/// hashed on every frame, where SipHash's flood resistance is not needed
/// (each table is capped) and its cost shows.
pub type Fast = foldhash::fast::RandomState;

/// MAC addresses (and MAC-less local addresses) observed, at most: a flood
/// of random source MACs cannot grow the inventory past this.
pub const MAX_MACS: usize = 65_536;
/// Client addresses whose destinations are summarised, at most (a SYN
/// flood from random sources makes each source a client).
pub const MAX_CLIENTS: usize = 16_384;
/// Remote addresses remembered as peers of local hosts, at most.
pub const MAX_REMOTE_PEERS: usize = 262_144;

/// Addresses recorded per MAC.
pub const MAX_IPS_PER_MAC: usize = 32;
/// Destinations recorded per client address.
pub const MAX_DESTINATIONS: usize = 4096;
/// Distinct public source addresses from one MAC beyond which it is a
/// router forwarding other hosts' traffic.
pub const GATEWAY_PUBLIC_IPS: usize = 3;
/// Public source addresses kept per MAC: enough to tell a router (at
/// least [`GATEWAY_PUBLIC_IPS`]) from a device with a public address.
pub const MAX_PUBLIC_IPS: usize = 8;

/// How a device is named in the report: its MAC, or its IP without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeviceKey {
    Mac(Mac),
    Ip(IpAddr),
}

impl std::fmt::Display for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceKey::Mac(m) => m.fmt(f),
            DeviceKey::Ip(ip) => ip.fmt(f),
        }
    }
}

/// True for addresses that are on a local network by their range alone.
pub fn is_local_scope(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_link_local()
                || v4.is_loopback()
                // "This network" (RFC 1122), as anonymised traces use.
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback() || (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Multicast, broadcast or unspecified: never an address of a host.
pub fn is_non_host(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_multicast() || v4.is_broadcast() || v4.is_unspecified(),
        IpAddr::V6(v6) => v6.is_multicast() || v6.is_unspecified(),
    }
}

/// What a frame's source address says of its sender: one test per frame
/// instead of [`crate::flow::is_unspecified`] then [`is_non_host`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// An address of the sender's own (or one it relays).
    Host,
    /// The unspecified address (DHCP before a lease).
    Unspecified,
    /// Multicast or broadcast: never a sender's address.
    Group,
}

impl Source {
    #[inline]
    fn of(ip: &IpAddr) -> Source {
        match ip {
            IpAddr::V4(a) => {
                let x = u32::from(*a);
                // 0.0.0.1 to 223.255.255.255: the common case, one compare.
                if x.wrapping_sub(1) < 0xdfff_ffff {
                    Source::Host
                } else if x == 0 {
                    Source::Unspecified
                } else if a.is_multicast() || a.is_broadcast() {
                    Source::Group
                } else {
                    Source::Host
                }
            }
            IpAddr::V6(a) if a.is_unspecified() => Source::Unspecified,
            IpAddr::V6(a) if a.is_multicast() => Source::Group,
            IpAddr::V6(_) => Source::Host,
        }
    }
}

/// Where each address of a [`MacObservation::src_ips`] sits in the list:
/// an open-addressed table of [`IpIndex::SLOTS`] slots, each empty (0) or
/// an entry's position plus one, and the entry last found. The list holds
/// at most [`MAX_IPS_PER_MAC`] entries, half the slots, so a lookup ends
/// at an empty slot after a probe or two: an address the list lacks (a
/// router's relayed frames come from thousands) costs no walk of the list.
#[derive(Debug, Clone, Copy)]
struct IpIndex {
    slots: [u8; IpIndex::SLOTS],
    last: u8,
}

impl Default for IpIndex {
    fn default() -> Self {
        IpIndex {
            slots: [0; IpIndex::SLOTS],
            last: 0,
        }
    }
}

impl IpIndex {
    const SLOTS: usize = 2 * MAX_IPS_PER_MAC;

    /// The slot where a lookup of `ip` starts.
    #[inline]
    fn home(ip: &IpAddr) -> usize {
        let h = match ip {
            IpAddr::V4(a) => u64::from(u32::from(*a)),
            IpAddr::V6(a) => {
                let x = u128::from(*a);
                (x as u64) ^ ((x >> 64) as u64)
            }
        };
        (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58) as usize
    }

    #[inline]
    fn find(&mut self, list: &[(IpAddr, u64, (Nanos, FrameRef))], ip: &IpAddr) -> Option<usize> {
        let home = Self::home(ip);
        // Bounded by the table; it always has empty slots.
        for s in home..home + Self::SLOTS {
            let i = usize::from(self.slots[s % Self::SLOTS].checked_sub(1)?);
            if list.get(i).is_some_and(|e| e.0 == *ip) {
                // The list holds at most MAX_IPS_PER_MAC entries.
                self.last = i as u8;
                return Some(i);
            }
        }
        None
    }

    /// Records that `ip`, absent from the table, is entry `at` (below
    /// [`MAX_IPS_PER_MAC`]).
    fn add(&mut self, ip: &IpAddr, at: usize) {
        let home = Self::home(ip);
        for k in 0..Self::SLOTS {
            let s = (home + k) % Self::SLOTS;
            if self.slots[s] == 0 {
                self.slots[s] = at as u8 + 1;
                break;
            }
        }
        self.last = at as u8;
    }
}

/// What one MAC address was seen doing.
#[derive(Debug, Clone, Default)]
pub struct MacObservation {
    pub first_ts: Nanos,
    pub last_ts: Nanos,
    pub first_frame: FrameRef,
    pub frames_sent: u64,
    pub bytes_sent: u64,
    /// Source addresses it used, with frame counts and the time and frame
    /// each was first seen (capped: the first [`MAX_IPS_PER_MAC`]).
    pub src_ips: Vec<(IpAddr, u64, (Nanos, FrameRef))>,
    pub src_ips_dropped: u64,
    /// How many of `src_ips` are public (not local scope).
    public_ips: u8,
    /// Finds a source address in `src_ips` without walking it: every
    /// frame a MAC sends looks its address up, and a router's relayed
    /// frames come from addresses it does not keep.
    ip_index: IpIndex,
    /// Frames sent that carried no IP (ARP, EAPOL, LLDP, ...).
    pub link_frames: u64,
    /// IP frames sent from the unspecified address (DHCP before a lease).
    pub unspecified_frames: u64,
    pub vlans: Vec<u16>,
    /// What the app-layer parsers learned, allocated on the first fact.
    pub facts: Option<Box<facts::Facts>>,
    /// For a shard's placeholder (see [`Inventory::shard`]): the capture
    /// time of its first fact, before the shard saw the MAC send.
    pub placeholder_since: Option<Nanos>,
    /// The placeholder's facts, set aside when the shard first saw the MAC
    /// send: [`merge_shards`] keeps them only if another shard saw it send
    /// before them.
    pub early_facts: Option<Box<facts::Facts>>,
}

impl MacObservation {
    /// The facts, created on first use.
    pub fn facts_mut(&mut self) -> &mut facts::Facts {
        self.facts.get_or_insert_with(Default::default)
    }

    fn new(ts: Nanos, frame: FrameRef) -> Self {
        MacObservation {
            first_ts: ts,
            last_ts: ts,
            first_frame: frame,
            ..Default::default()
        }
    }

    /// An observation with no frame of its own yet (see
    /// [`Inventory::shard`]): its times lose to any real one's in a merge.
    fn placeholder(since: Nanos) -> Self {
        MacObservation {
            first_ts: Nanos::MAX,
            last_ts: Nanos::MIN,
            placeholder_since: Some(since),
            ..Default::default()
        }
    }

    /// One frame from `ip`. Nearly every frame a MAC sends comes from the
    /// address its last one did: that case is inlined here.
    #[inline]
    fn note_ip(&mut self, ip: IpAddr, first: (Nanos, FrameRef)) {
        let last = usize::from(self.ip_index.last);
        if let Some(e) = self.src_ips.get_mut(last).filter(|e| e.0 == ip) {
            e.1 += 1;
            if first < e.2 {
                e.2 = first;
            }
            return;
        }
        self.add_ip(ip, 1, first);
    }

    /// One frame tagged with VLAN `v`.
    #[inline]
    fn note_vlan(&mut self, v: u16) {
        if !self.vlans.contains(&v) && self.vlans.len() < 8 {
            self.vlans.push(v);
        }
    }

    /// A router: it sent from [`GATEWAY_PUBLIC_IPS`] public addresses or
    /// more, so most of its source addresses are the hosts it relays.
    fn relays(&self) -> bool {
        usize::from(self.public_ips) >= GATEWAY_PUBLIC_IPS
    }

    /// Counts `n` frames from `ip`. Past [`MAX_PUBLIC_IPS`] public source
    /// addresses the MAC is a router relaying the internet's hosts (see
    /// [`Inventory::own_ips`]): further ones are theirs, not its own, and
    /// are neither kept nor counted as lost. Which ones came first then
    /// does not matter, so shards that each saw some of them agree.
    ///
    /// Past [`MAX_IPS_PER_MAC`] a router's further addresses are likewise
    /// not counted as lost, and shards keep the earliest addresses: each
    /// address among the first of the whole capture is among the first its
    /// own shard saw, so the merge ([`MacObservation::merge`]) keeps the
    /// same ones one engine keeps.
    #[inline(never)]
    fn add_ip(&mut self, ip: IpAddr, n: u64, first: (Nanos, FrameRef)) {
        if let Some(i) = self.ip_index.find(&self.src_ips, &ip) {
            let e = &mut self.src_ips[i];
            e.1 += n;
            e.2 = e.2.min(first);
            return;
        }
        let public = !is_local_scope(&ip);
        if public && usize::from(self.public_ips) >= MAX_PUBLIC_IPS {
            return;
        }
        if self.src_ips.len() < MAX_IPS_PER_MAC {
            self.ip_index.add(&ip, self.src_ips.len());
            self.src_ips.push((ip, n, first));
            self.public_ips += u8::from(public);
        } else if !self.relays() {
            self.src_ips_dropped += n;
        }
    }
}

/// How attempts to one destination went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Outcomes {
    /// Connections that worked (handshake or data both ways; a reply for UDP).
    pub ok: u32,
    /// TCP SYNs (with retransmissions grouped) or UDP requests never answered.
    pub no_answer: u32,
    /// Refused with RST.
    pub reset: u32,
    /// Answered by ICMP destination unreachable.
    pub icmp_unreachable: u32,
    pub icmp_admin_prohibited: u32,
    /// Attempts still within their timeout when the capture ended.
    pub pending: u32,
    /// Conversations joined mid-stream (no SYN seen) with one side only.
    pub unknown: u32,
}

/// One destination a client address reached (or tried to).
#[derive(Debug, Clone)]
pub struct Destination {
    pub proto: u8,
    pub ip: IpAddr,
    pub port: u16,
    /// The name the client used for it (SNI, Host, DNS), where known.
    pub name: Option<std::sync::Arc<str>>,
    pub flows: u32,
    pub outcomes: Outcomes,
    pub first_ts: Nanos,
    pub last_ts: Nanos,
    /// A few frames proving the outcome: first attempt, first answer or
    /// failure.
    pub evidence: Vec<FrameRef>,
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
}

const MAX_EVIDENCE: usize = 4;

/// A SYN not yet retransmitted and younger than this at the end of the
/// capture may still be answered: its attempt is pending, not failed (the
/// first retransmission comes after 1 s on Linux, 3 s on older stacks).
pub const TCP_ANSWER_WINDOW: Nanos = 3_000_000_000;
/// The same for a UDP request.
pub const UDP_ANSWER_WINDOW: Nanos = 5_000_000_000;

/// One client's destinations, by (protocol, address, port).
///
/// A hash map, in no order: every flow that ends looks its destination up,
/// and a tree's search compared addresses node by node (2% of a run on the
/// site mix). Whoever needs them in order sorts them ([`sorted`]).
pub type Destinations = HashMap<DestKey, Destination, Fast>;

/// A destination's key: protocol, address, port.
pub type DestKey = (u8, IpAddr, u16);

/// A client's destinations in key order.
pub fn sorted(d: &Destinations) -> Vec<(&DestKey, &Destination)> {
    let mut v: Vec<_> = d.iter().collect();
    v.sort_unstable_by_key(|(k, _)| **k);
    v
}

/// Frames and bytes sent to each unicast MAC, at most [`MAX_MACS`]
/// addresses (see [`Inventory::received`]).
///
/// Every frame counts one: a small direct-mapped table remembers where
/// the MAC last counted in each of its slots sits, so most frames find
/// their counter without a hash-table probe.
#[derive(Debug, Clone)]
pub struct Received {
    /// Each MAC's position in `counts`.
    at: HashMap<Mac, u32, Fast>,
    counts: Vec<(Mac, [u64; 2])>,
    /// By a hash of the MAC: a position in `counts` plus one, or 0.
    recent: Vec<u32>,
}

impl Default for Received {
    fn default() -> Self {
        Received {
            at: HashMap::default(),
            counts: Vec::new(),
            recent: vec![0; Received::RECENT],
        }
    }
}

impl Received {
    const RECENT: usize = 512;

    #[inline]
    fn slot(mac: &Mac) -> usize {
        let m = mac.0;
        let x = u64::from_le_bytes([m[0], m[1], m[2], m[3], m[4], m[5], 0, 0]);
        // The top 9 bits: RECENT slots.
        (x.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 55) as usize
    }

    /// Counts `frames` frames of `bytes` bytes sent to `mac`; a MAC not
    /// yet counted is dropped once [`MAX_MACS`] are.
    #[inline]
    pub fn add(&mut self, mac: Mac, frames: u64, bytes: u64) {
        let s = Self::slot(&mac);
        let i = self.recent.get(s).map_or(0, |&i| i as usize);
        if let Some(e) = i
            .checked_sub(1)
            .and_then(|i| self.counts.get_mut(i))
            .filter(|e| e.0 == mac)
        {
            e.1[0] += frames;
            e.1[1] += bytes;
            return;
        }
        self.add_found(mac, frames, bytes, s);
    }

    /// [`Received::add`] for a MAC its slot does not remember.
    #[inline(never)]
    fn add_found(&mut self, mac: Mac, frames: u64, bytes: u64, slot: usize) {
        let i = match self.at.get(&mac) {
            Some(&i) => i as usize,
            None if self.counts.len() < MAX_MACS => {
                let i = self.counts.len();
                // MAX_MACS fits a u32.
                self.at.insert(mac, i as u32);
                self.counts.push((mac, [0; 2]));
                i
            }
            None => return,
        };
        if let Some(e) = self.counts.get_mut(i) {
            e.1[0] += frames;
            e.1[1] += bytes;
        }
        if let Some(r) = self.recent.get_mut(slot) {
            *r = i as u32 + 1;
        }
    }

    /// Frames and bytes sent to `mac`.
    pub fn get(&self, mac: Mac) -> [u64; 2] {
        self.at
            .get(&mac)
            .and_then(|&i| self.counts.get(i as usize))
            .map_or([0; 2], |e| e.1)
    }

    /// Every MAC counted, with its frames and bytes, in the order first
    /// counted.
    pub fn iter(&self) -> impl Iterator<Item = (&Mac, &[u64; 2])> {
        self.counts.iter().map(|(m, c)| (m, c))
    }

    /// How many MACs are counted.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

/// The inventory of everything seen, devices decided at report time.
#[derive(Debug, Default, Clone)]
pub struct Inventory {
    pub macs: HashMap<Mac, MacObservation, Fast>,
    /// Client (MAC, IP) → destinations, filled as flows end.
    pub destinations: HashMap<(Option<Mac>, IpAddr), Destinations, Fast>,
    pub destinations_dropped: u64,
    /// Frames from MACs (or MAC-less addresses) not recorded because the
    /// inventory was full ([`MAX_MACS`]).
    pub macs_dropped: u64,
    /// Addresses seen in flows with a local-scope peer (so they are remote).
    remote_peers: HashMap<IpAddr, (), Fast>,
    /// Addresses leased by DHCP in this capture: local whatever their range.
    pub leased: HashMap<IpAddr, Mac, Fast>,
    /// The last capture timestamp seen, for pending attempts.
    pub last_ts: Nanos,
    /// Frames and bytes sent to each unicast MAC, whether or not it had
    /// sent anything yet (so the count does not depend on which frames an
    /// engine saw first: shards add up to one engine's count). Capped at
    /// [`MAX_MACS`] addresses; the report shows a device's entry.
    pub received: Received,
    /// Local-scope addresses seen without a MAC (MAC-less link types).
    pub macless_ips: BTreeMap<IpAddr, MacObservation>,
    /// This inventory is one shard's of a live capture: a MAC it has not
    /// seen send may have been seen by another shard, so facts about it
    /// are kept (under a placeholder observation that a merge absorbs)
    /// instead of dropped.
    pub shard: bool,
}

impl Inventory {
    /// Notes one decoded frame's link-layer facts.
    pub fn observe_frame(&mut self, pkt: &Packet<'_>, frame: &Frame<'_>) {
        let (ts, wire_len) = (frame.ts, frame.orig_len);
        let frame = FrameRef {
            file: frame.file,
            number: frame.number,
        };
        let src_ip = pkt.ip.as_ref().map(|i| &i.src);
        self.last_ts = self.last_ts.max(ts);
        if let Some(mac) = pkt.dst_mac.filter(Mac::is_unicast) {
            self.count_received(mac, wire_len);
        }
        match pkt.src_mac {
            Some(mac) if mac.is_unicast() => {
                if self.macs.len() >= MAX_MACS && !self.macs.contains_key(&mac) {
                    self.macs_dropped += 1;
                    return;
                }
                let o = self
                    .macs
                    .entry(mac)
                    .or_insert_with(|| MacObservation::new(ts, frame));
                if o.first_ts == Nanos::MAX {
                    // A placeholder's first frame of its own.
                    o.first_ts = ts;
                    o.first_frame = frame;
                    o.early_facts = o.facts.take();
                }
                o.last_ts = ts;
                o.frames_sent += 1;
                o.bytes_sent += u64::from(wire_len);
                match src_ip.map(|ip| (ip, Source::of(ip))) {
                    Some((ip, Source::Host)) => o.note_ip(*ip, (ts, frame)),
                    Some((_, Source::Unspecified)) => o.unspecified_frames += 1,
                    Some((_, Source::Group)) => {}
                    None => o.link_frames += 1,
                }
                if let Some(v) = pkt.vlan {
                    o.note_vlan(v);
                }
                if let Some(v) = pkt.inner_vlan {
                    o.note_vlan(v);
                }
            }
            Some(_) => {}
            None => {
                if let Some(&ip) = src_ip.filter(|ip| is_local_scope(ip) && !is_non_host(ip)) {
                    if self.macless_ips.len() >= MAX_MACS && !self.macless_ips.contains_key(&ip) {
                        self.macs_dropped += 1;
                        return;
                    }
                    let o = self
                        .macless_ips
                        .entry(ip)
                        .or_insert_with(|| MacObservation::new(ts, frame));
                    o.last_ts = ts;
                    o.frames_sent += 1;
                    o.bytes_sent += wire_len as u64;
                    o.note_ip(ip, (ts, frame));
                }
            }
        }
    }

    fn count_received(&mut self, mac: Mac, wire_len: u32) {
        self.received.add(mac, 1, u64::from(wire_len));
    }

    /// Frames and bytes sent to `mac`.
    pub fn received_by(&self, mac: Mac) -> [u64; 2] {
        self.received.get(mac)
    }

    /// Records a DHCP lease: the address is local whatever its range.
    pub fn note_lease(&mut self, ip: IpAddr, mac: Mac) {
        if self.leased.len() < 65_536 {
            self.leased.insert(ip, mac);
        }
    }

    fn is_local(&self, ip: &IpAddr) -> bool {
        is_local_scope(ip) || self.leased.contains_key(ip)
    }

    /// The addresses a MAC used that are its own (see the module docs).
    pub fn own_ips(&self, obs: &MacObservation) -> Vec<IpAddr> {
        let public: Vec<&IpAddr> = obs
            .src_ips
            .iter()
            .map(|s| &s.0)
            .filter(|ip| !self.is_local(ip))
            .collect();
        let gateway = public.len() >= GATEWAY_PUBLIC_IPS;
        let mut ips: Vec<IpAddr> = obs
            .src_ips
            .iter()
            .map(|s| s.0)
            .filter(|ip| self.is_local(ip) || (!gateway && !self.remote_peers.contains_key(ip)))
            .collect();
        ips.sort();
        ips
    }

    /// True when the MAC is a device in the report.
    pub fn is_device(&self, obs: &MacObservation) -> bool {
        self.is_device_with(obs, &self.own_ips(obs))
    }

    /// [`Inventory::is_device`] for a MAC whose own addresses
    /// ([`Inventory::own_ips`]) are known.
    pub fn is_device_with(&self, obs: &MacObservation, own_ips: &[IpAddr]) -> bool {
        obs.link_frames > 0
            || obs.unspecified_frames > 0
            || obs
                .facts
                .as_ref()
                .is_some_and(|f| f.dhcp.is_some() || f.wifi.is_some())
            || !own_ips.is_empty()
    }

    /// The observation of a MAC, created if absent (a device known only
    /// from what others say of it: a DHCP client inside a tunnel, a WiFi
    /// station).
    /// `None` when the inventory is full ([`MAX_MACS`]; counted).
    pub fn mac_mut(&mut self, mac: Mac, ts: Nanos, frame: FrameRef) -> Option<&mut MacObservation> {
        if self.macs.len() >= MAX_MACS && !self.macs.contains_key(&mac) {
            self.macs_dropped += 1;
            return None;
        }
        Some(
            self.macs
                .entry(mac)
                .or_insert_with(|| MacObservation::new(ts, frame)),
        )
    }

    /// The facts of the device that sent (or, for `by_ip`, holds) an
    /// address: by MAC where the frame had one, else by local-scope IP.
    pub fn facts_for(&mut self, mac: Option<Mac>, ip: IpAddr) -> Option<&mut facts::Facts> {
        // A group address names no station: such a frame is MAC-less here.
        match mac {
            Some(m) if m.is_unicast() => {
                if self.shard && !self.macs.contains_key(&m) {
                    let since = self.last_ts;
                    self.macs.insert(m, MacObservation::placeholder(since));
                }
                self.macs.get_mut(&m).map(|o| o.facts_mut())
            }
            _ => self.macless_ips.get_mut(&ip).map(|o| o.facts_mut()),
        }
    }

    fn note_flow_peers(&mut self, flow: &Flow) {
        let (c, s) = (flow.client_ip(), flow.server_ip());
        if self.remote_peers.len() < MAX_REMOTE_PEERS {
            if self.is_local(&c) && !self.is_local(&s) {
                self.remote_peers.insert(s, ());
            } else if self.is_local(&s) && !self.is_local(&c) {
                self.remote_peers.insert(c, ());
            }
        }
    }

    /// A TLS server that resets the connection instead of answering the
    /// ClientHello (a filter on the SNI, or a server refusing the client).
    fn note_tls_reset(&mut self, flow: &Flow) {
        let Some(app) = flow.app.as_deref() else {
            return;
        };
        let rst = flow.tcp.rst[Dir::Back as usize];
        if app.proto != crate::app::AppProto::Tls || flow.proto() != 6 {
            return;
        }
        let (Some(i), Some(rst)) = (app.session, rst) else {
            return;
        };
        let session = self
            .facts_for(flow.client_mac, flow.client_ip())
            .and_then(|f| f.tls.get_mut(i));
        if let Some(t) = session {
            if t.version.is_none() && t.alerts.is_empty() {
                t.server_reset = true;
                facts::push_evidence(&mut t.evidence, rst);
            }
        }
    }

    /// Folds an ended flow into its client's destination summary.
    fn summarise(&mut self, flow: &Flow, why: EndReason) {
        self.note_flow_peers(flow);
        self.note_tls_reset(flow);
        let client = (flow.client_mac, flow.client_ip());
        let server_ip = flow.server_ip();
        if is_non_host(&server_ip) || !matches!(flow.proto(), 6 | 17) {
            return;
        }
        let dkey = (flow.proto(), server_ip, flow.server.port);
        let last_ts = self.last_ts;
        // Never insert a client past the cap (an empty entry per flooding
        // source would grow without bound).
        if self.destinations.len() >= MAX_CLIENTS && !self.destinations.contains_key(&client) {
            self.destinations_dropped += 1;
            return;
        }
        let per_client = self.destinations.entry(client).or_default();
        if per_client.len() >= MAX_DESTINATIONS && !per_client.contains_key(&dkey) {
            self.destinations_dropped += 1;
            return;
        }
        let d = per_client.entry(dkey).or_insert_with(|| Destination {
            proto: flow.proto(),
            ip: server_ip,
            port: flow.server.port,
            name: None,
            flows: 0,
            outcomes: Outcomes::default(),
            first_ts: flow.first_ts,
            last_ts: flow.last_ts,
            evidence: Vec::new(),
            packets: [0; 2],
            bytes: [0; 2],
        });
        d.flows += 1;
        d.first_ts = d.first_ts.min(flow.first_ts);
        d.last_ts = d.last_ts.max(flow.last_ts);
        for i in 0..2 {
            d.packets[i] += flow.packets[i];
            d.bytes[i] += flow.bytes[i];
        }
        if d.name.is_none() {
            d.name = flow.app.as_ref().and_then(|a| a.name.clone());
        }
        let (outcome, proof) = classify(flow, why, last_ts);
        let o = &mut d.outcomes;
        match outcome {
            Outcome::Ok => o.ok += 1,
            Outcome::NoAnswer => o.no_answer += 1,
            Outcome::Reset => o.reset += 1,
            Outcome::IcmpUnreachable => o.icmp_unreachable += 1,
            Outcome::IcmpAdmin => o.icmp_admin_prohibited += 1,
            Outcome::Pending => o.pending += 1,
            Outcome::Unknown => o.unknown += 1,
        }
        for f in [Some(flow.first_frame), proof].into_iter().flatten() {
            if d.evidence.len() < MAX_EVIDENCE && !d.evidence.contains(&f) {
                d.evidence.push(f);
            }
        }
    }
}

// Merging: each shard of a live capture keeps an inventory of what it
// analysed; the report is built from their union. A MAC's counters add up
// across shards, its facts are joined ([`facts::Facts::merge`]), and a
// destination summarised by two shards adds its flows and outcomes.

impl MacObservation {
    /// Joins another shard's observation of the same MAC into this one.
    pub fn merge(&mut self, o: MacObservation) {
        if (o.first_ts, o.first_frame) < (self.first_ts, self.first_frame) {
            self.first_ts = o.first_ts;
            self.first_frame = o.first_frame;
        }
        self.last_ts = self.last_ts.max(o.last_ts);
        self.frames_sent += o.frames_sent;
        self.bytes_sent += o.bytes_sent;
        // Both lists, earliest first, through the same caps.
        let mut all = std::mem::take(&mut self.src_ips);
        self.public_ips = 0;
        self.ip_index = IpIndex::default();
        all.extend(o.src_ips);
        all.sort_by_key(|s| s.2);
        for (ip, n, first) in all {
            self.add_ip(ip, n, first);
        }
        self.src_ips_dropped += o.src_ips_dropped;
        self.link_frames += o.link_frames;
        self.unspecified_frames += o.unspecified_frames;
        for v in o.vlans {
            if !self.vlans.contains(&v) && self.vlans.len() < 8 {
                self.vlans.push(v);
            }
        }
        match (&mut self.facts, o.facts) {
            (Some(a), Some(b)) => a.merge(*b),
            (a @ None, b) => *a = b,
            (Some(_), None) => {}
        }
        self.placeholder_since = None;
    }
}

impl Outcomes {
    /// Adds another summary's counts.
    pub fn add(&mut self, o: &Outcomes) {
        self.ok += o.ok;
        self.no_answer += o.no_answer;
        self.reset += o.reset;
        self.icmp_unreachable += o.icmp_unreachable;
        self.icmp_admin_prohibited += o.icmp_admin_prohibited;
        self.pending += o.pending;
        self.unknown += o.unknown;
    }
}

impl Destination {
    fn merge(&mut self, o: Destination) {
        if self.name.is_none() || (o.name.is_some() && o.first_ts < self.first_ts) {
            self.name = o.name.or(self.name.take());
        }
        self.flows += o.flows;
        self.outcomes.add(&o.outcomes);
        self.first_ts = self.first_ts.min(o.first_ts);
        self.last_ts = self.last_ts.max(o.last_ts);
        self.evidence.extend(o.evidence);
        self.evidence.sort_unstable();
        self.evidence.dedup();
        self.evidence.truncate(MAX_EVIDENCE);
        for i in 0..2 {
            self.packets[i] += o.packets[i];
            self.bytes[i] += o.bytes[i];
        }
    }
}

/// Drops what shards learned about MACs before any shard saw them send,
/// as one engine would have (it keeps no facts about a MAC it has not
/// seen), then joins the inventories.
pub fn merge_shards(shards: Vec<Inventory>) -> Inventory {
    merge_shards_on(shards, 1)
}

/// [`merge_shards`] on up to `threads` threads: the same inventory.
///
/// The first shard's inventory is the start, and every later one is
/// joined into it in shard order, as [`Inventory::merge`] joins them into
/// an empty one. A MAC seen by several shards has its observations joined
/// in shard order too, but each MAC apart from the others (joining facts
/// is most of a merge: 15 ms of the 18 on the 1M-packet site mix), on
/// every thread at once, while the calling thread first joins the rest
/// (destinations, addresses, counters).
pub fn merge_shards_on(shards: Vec<Inventory>, threads: usize) -> Inventory {
    let mut first: HashMap<Mac, Nanos, Fast> = HashMap::default();
    for inv in &shards {
        for (mac, o) in &inv.macs {
            if o.first_ts != Nanos::MAX {
                let e = first.entry(*mac).or_insert(o.first_ts);
                *e = (*e).min(o.first_ts);
            }
        }
    }
    let mut shards = shards.into_iter().map(|mut inv| {
        inv.macs
            .retain(|mac, o| keep_sent_or_known(o, first.get(mac).copied()));
        inv
    });
    let Some(mut out) = shards.next() else {
        return Inventory::default();
    };
    let mut rest: Vec<Inventory> = shards.collect();
    // What joining the first shard into an empty inventory changed, kept
    // so the report stays the same: the clock starts at zero.
    out.last_ts = out.last_ts.max(0);
    out.shard = false;
    // Each MAC that more than one shard kept: its observations, first
    // shard first.
    let mut macs = std::mem::take(&mut out.macs);
    let mut shared: Vec<(Mac, Vec<MacObservation>)> = Vec::new();
    let mut group: HashMap<Mac, usize, Fast> = HashMap::default();
    for inv in &mut rest {
        for (mac, obs) in std::mem::take(&mut inv.macs) {
            if let Some(&g) = group.get(&mac) {
                shared[g].1.push(obs);
            } else if let Some(mine) = macs.remove(&mac) {
                group.insert(mac, shared.len());
                shared.push((mac, vec![mine, obs]));
            } else {
                macs.insert(mac, obs);
            }
        }
    }
    let join = |(mac, obs): (Mac, Vec<MacObservation>)| {
        let mut obs = obs.into_iter();
        let mut joined = obs.next().unwrap_or_default();
        for o in obs {
            joined.merge(o);
        }
        (mac, joined)
    };
    let ((), joined) = crate::par::map_beside(
        shared,
        threads,
        || {
            for inv in rest {
                out.merge(inv);
            }
        },
        join,
    );
    macs.extend(joined);
    macs.retain(|_, o| o.first_ts != Nanos::MAX);
    out.macs = macs;
    out
}

/// Whether a shard keeps a MAC's observation for the merge, given the
/// time any shard first saw the MAC send (`first`): a MAC seen sending
/// is kept; a placeholder only for its facts, and those only if the MAC
/// was seen sending by then. Drops or restores the facts to match.
fn keep_sent_or_known(o: &mut MacObservation, first: Option<Nanos>) -> bool {
    if let Some(since) = o.placeholder_since {
        let keep = first.is_some_and(|f| f <= since);
        if o.first_ts == Nanos::MAX {
            if !keep {
                o.facts = None;
            }
        } else if let Some(mut early) = o.early_facts.take() {
            if keep {
                if let Some(later) = o.facts.take() {
                    early.merge(*later);
                }
                o.facts = Some(early);
            }
        }
    }
    o.first_ts != Nanos::MAX || o.facts.is_some()
}

impl Inventory {
    /// Joins another shard's inventory into this one.
    pub fn merge(&mut self, o: Inventory) {
        for (mac, [frames, bytes]) in o.received.iter() {
            self.received.add(*mac, *frames, *bytes);
        }
        for (mac, obs) in o.macs {
            match self.macs.entry(mac) {
                std::collections::hash_map::Entry::Occupied(mut e) => e.get_mut().merge(obs),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(obs);
                }
            }
        }
        for (ip, obs) in o.macless_ips {
            match self.macless_ips.entry(ip) {
                std::collections::btree_map::Entry::Occupied(mut e) => e.get_mut().merge(obs),
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(obs);
                }
            }
        }
        for (client, dests) in o.destinations {
            let mine = self.destinations.entry(client).or_default();
            // In key order, so which ones a full map drops does not depend
            // on the hash map's order.
            let mut dests: Vec<_> = dests.into_iter().collect();
            dests.sort_unstable_by_key(|(k, _)| *k);
            for (key, d) in dests {
                if let Some(m) = mine.get_mut(&key) {
                    m.merge(d);
                } else if mine.len() < MAX_DESTINATIONS {
                    mine.insert(key, d);
                } else {
                    self.destinations_dropped += 1;
                }
            }
        }
        self.destinations_dropped += o.destinations_dropped;
        // Frames of MACs a full shard turned away. Each shard fills its own
        // table, so several shards may keep more MACs than one engine
        // would, and count fewer refusals; the count says that shards
        // refused some, where it read 0 with several workers before.
        self.macs_dropped += o.macs_dropped;
        for ip in o.remote_peers.into_keys() {
            if self.remote_peers.len() < 1 << 20 {
                self.remote_peers.insert(ip, ());
            }
        }
        for (ip, mac) in o.leased {
            if self.leased.len() < 65_536 {
                self.leased.entry(ip).or_insert(mac);
            }
        }
        self.last_ts = self.last_ts.max(o.last_ts);
        self.shard = false;
    }
}

/// How one flow's attempt went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    NoAnswer,
    Reset,
    IcmpUnreachable,
    IcmpAdmin,
    Pending,
    Unknown,
}

/// Classifies an ended flow, with the frame that proves it.
pub fn classify(flow: &Flow, why: EndReason, capture_end: Nanos) -> (Outcome, Option<FrameRef>) {
    if let Some(e) = flow.icmp_error {
        if !flow.answered() || flow.proto() == 17 {
            let o = if e.admin_prohibited {
                Outcome::IcmpAdmin
            } else {
                Outcome::IcmpUnreachable
            };
            if !(flow.proto() == 6 && flow.tcp.worked()) {
                return (o, Some(e.frame));
            }
        }
    }
    match flow.proto() {
        6 => {
            let t = &flow.tcp;
            if t.worked() {
                return (Outcome::Ok, t.syn_ack);
            }
            if let Some(rst) = t.rst[Dir::Back as usize] {
                return (Outcome::Reset, Some(rst));
            }
            if t.syns > 0 {
                if why == EndReason::CaptureEnd
                    && t.syns == 1
                    && flow.first_ts.saturating_add(TCP_ANSWER_WINDOW) > capture_end
                {
                    return (Outcome::Pending, None);
                }
                return (Outcome::NoAnswer, t.first_syn);
            }
            (Outcome::Unknown, None)
        }
        _ => {
            if flow.answered() {
                (Outcome::Ok, None)
            } else if why == EndReason::CaptureEnd
                && flow.last_ts.saturating_add(UDP_ANSWER_WINDOW) > capture_end
            {
                (Outcome::Pending, None)
            } else {
                (Outcome::NoAnswer, Some(flow.first_frame))
            }
        }
    }
}

impl FlowSink for Inventory {
    fn flow_ended(&mut self, flow: &Flow, why: EndReason) {
        self.summarise(flow, why);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::merge::Merge;
    use crate::engine::EngineConfig;
    use crate::live::shard::{shard_of, Worker};

    /// Local-scope addresses (no public cap, no router): IPv4 and IPv6,
    /// many sharing an index slot.
    fn local_ip(k: u16) -> IpAddr {
        if k.is_multiple_of(3) {
            IpAddr::V6(std::net::Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, k >> 8, k))
        } else {
            IpAddr::V4(std::net::Ipv4Addr::new(10, (k >> 8) as u8, k as u8, 7))
        }
    }

    proptest::proptest! {
        /// The source-address index finds exactly what a walk of the list
        /// finds: each address once, counted every time, the first
        /// [`MAX_IPS_PER_MAC`] kept and the rest counted as dropped.
        #[test]
        fn source_addresses_match_a_plain_list(seq in proptest::collection::vec(0u16..80, 0..400)) {
            let mut o = MacObservation::default();
            let mut model: Vec<(IpAddr, u64)> = Vec::new();
            let mut dropped = 0u64;
            for (t, k) in seq.iter().enumerate() {
                let ip = local_ip(*k);
                o.add_ip(ip, 1, (t as Nanos, FrameRef::default()));
                if let Some(e) = model.iter_mut().find(|e| e.0 == ip) {
                    e.1 += 1;
                } else if model.len() < MAX_IPS_PER_MAC {
                    model.push((ip, 1));
                } else {
                    dropped += 1;
                }
            }
            let got: Vec<(IpAddr, u64)> = o.src_ips.iter().map(|e| (e.0, e.1)).collect();
            proptest::prop_assert_eq!(got, model);
            proptest::prop_assert_eq!(o.src_ips_dropped, dropped);
        }

        /// Frames received per MAC: the slot memo never counts one MAC's
        /// frames to another, whatever collides.
        #[test]
        fn received_counts_match_a_map(seq in proptest::collection::vec((0u16..3000, 1u64..1500), 0..600)) {
            let mut r = Received::default();
            let mut model: HashMap<Mac, [u64; 2]> = HashMap::new();
            for (k, len) in &seq {
                let mac = Mac([2, 0, 0, (k >> 8) as u8, *k as u8, (k % 7) as u8]);
                r.add(mac, 1, *len);
                let e = model.entry(mac).or_default();
                e[0] += 1;
                e[1] += len;
            }
            proptest::prop_assert_eq!(r.len(), model.len());
            for (mac, c) in &model {
                proptest::prop_assert_eq!(r.get(*mac), *c);
            }
            let listed: HashMap<Mac, [u64; 2]> = r.iter().map(|(m, c)| (*m, *c)).collect();
            proptest::prop_assert_eq!(listed, model);
        }
    }

    /// The merge as it was first written, one shard after another into an
    /// empty inventory: what [`merge_shards_on`] must give on any number
    /// of threads.
    fn merge_one_by_one(shards: Vec<Inventory>) -> Inventory {
        let mut first: HashMap<Mac, Nanos> = HashMap::new();
        for inv in &shards {
            for (mac, o) in &inv.macs {
                if o.first_ts != Nanos::MAX {
                    let e = first.entry(*mac).or_insert(o.first_ts);
                    *e = (*e).min(o.first_ts);
                }
            }
        }
        let mut out = Inventory::default();
        for mut inv in shards {
            inv.macs
                .retain(|mac, o| keep_sent_or_known(o, first.get(mac).copied()));
            out.merge(inv);
        }
        out.macs.retain(|_, o| o.first_ts != Nanos::MAX);
        out
    }

    /// Everything an inventory holds, in an order that does not depend on
    /// its hash maps'.
    fn canonical(inv: &Inventory) -> Vec<String> {
        fn sorted_lines<I: Iterator<Item = String>>(lines: I) -> Vec<String> {
            let mut v: Vec<String> = lines.collect();
            v.sort();
            v
        }
        let mut out = vec![format!(
            "dropped {} {} last {} shard {}",
            inv.destinations_dropped, inv.macs_dropped, inv.last_ts, inv.shard
        )];
        out.extend(sorted_lines(
            inv.macs.iter().map(|(m, o)| format!("mac {m} {o:?}")),
        ));
        out.extend(sorted_lines(
            inv.received
                .iter()
                .map(|(m, r)| format!("received {m} {r:?}")),
        ));
        out.extend(sorted_lines(
            inv.destinations
                .iter()
                .map(|(c, d)| format!("client {c:?} {:?}", sorted(d))),
        ));
        out.extend(sorted_lines(
            inv.remote_peers.keys().map(|ip| format!("peer {ip}")),
        ));
        out.extend(sorted_lines(
            inv.leased.iter().map(|(ip, m)| format!("lease {ip} {m}")),
        ));
        out.extend(
            inv.macless_ips
                .iter()
                .map(|(ip, o)| format!("macless {ip} {o:?}")),
        );
        out
    }

    /// Each shard's inventory once `n` shards have analysed the fixtures,
    /// each frame on its host's shard and every other shard told its time.
    fn shard_inventories(fixtures: &[&str], n: usize) -> Vec<Inventory> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let paths: Vec<_> = fixtures.iter().map(|f| dir.join(f)).collect();
        let mut merge = Merge::open(&paths).expect("fixtures open");
        let mut workers: Vec<Worker> = (0..n)
            .map(|_| Worker::new(EngineConfig::default()))
            .collect();
        while let Some(ref f) = merge.next_frame() {
            let i = shard_of(f, n);
            for (j, w) in workers.iter_mut().enumerate() {
                if j != i {
                    w.advance(f.ts);
                }
            }
            workers[i].frame(f);
        }
        workers.into_iter().map(|w| w.finish().inventory).collect()
    }

    fn assert_merges_agree(shards: Vec<Inventory>, what: &str) {
        let want = canonical(&merge_one_by_one(shards.clone()));
        assert_eq!(canonical(&merge_shards(shards.clone())), want, "{what}");
        for threads in [1, 2, 3, 7] {
            let got = canonical(&merge_shards_on(shards.clone(), threads));
            assert_eq!(got, want, "{what}, {threads} threads");
        }
    }

    #[test]
    fn merged_on_any_number_of_threads_as_one_by_one() {
        let sites: [&[&str]; 4] = [
            &["site-zaptec-broken.pcap", "site-zaptec-broken-wifi.pcap"],
            &["site-cemm-broken.pcap", "site-knx-healthy.pcap"],
            &["site-cassia-broken.pcap", "site-clock-broken.pcap"],
            &["hostile-dhcp.pcap", "hostile-dns.pcap", "multi-if.pcapng"],
        ];
        let mut shared_macs = 0;
        for files in sites {
            for n in [2, 3, 4] {
                let shards = shard_inventories(files, n);
                // Not a vacuous test: some MACs are seen by several shards.
                let mut seen: HashMap<Mac, usize> = HashMap::new();
                for inv in &shards {
                    for mac in inv.macs.keys() {
                        *seen.entry(*mac).or_default() += 1;
                    }
                }
                shared_macs += seen.values().filter(|n| **n > 1).count();
                assert_merges_agree(shards, &format!("{files:?} in {n} shards"));
            }
        }
        assert!(shared_macs > 0);
    }

    fn mac(i: u8) -> Mac {
        Mac([0x02, 0, 0, 0, 0, i])
    }

    /// Shards made by hand: MACs that only later shards saw, placeholders
    /// whose facts another shard's frames keep or drop, and counters and
    /// clocks the first shard alone has.
    #[test]
    fn merged_by_hand_made_shards_as_one_by_one() {
        let f = FrameRef::default();
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let mut shards: Vec<Inventory> = (0..4).map(|_| Inventory::default()).collect();
        for (k, inv) in shards.iter_mut().enumerate() {
            let k8 = k as u8;
            inv.shard = true;
            inv.macs_dropped = 5;
            inv.last_ts = -100 + i64::from(k8);
            for i in 0..40u8 {
                // MAC i is in the shards whose bit is set in i.
                if i & (1 << k) == 0 {
                    continue;
                }
                let ts = 1_000 * i64::from(i) + i64::from(k8);
                let mut o = MacObservation::new(ts, f);
                o.frames_sent = u64::from(i) + 1;
                o.add_ip(ip(&format!("10.0.{k}.{i}")), 2, (ts, f));
                o.add_ip(ip(&format!("203.0.{i}.{k}")), 1, (ts + 1, f));
                o.vlans.push(u16::from(i % 3 + k8));
                o.link_frames = u64::from(i % 2);
                inv.macs.insert(mac(i), o);
            }
            // Placeholders: facts about a MAC this shard has not seen send,
            // learned before or after another shard saw it send (MAC `i`
            // first sends at 1000 * i), or about a MAC nobody saw send.
            let (m, since) = [(10, 5), (12, 500_000), (11, 12_000), (50, 7)][k];
            let mut p = MacObservation::placeholder(since);
            p.facts_mut().names_dropped = 1 + k as u64;
            inv.macs.insert(mac(m), p);
            // A MAC this shard saw send after learning facts about it.
            let (m, since) = [(19, 18_000), (22, 30_000), (28, 20_000), (24, 30_000)][k];
            {
                let o = inv.macs.get_mut(&mac(m)).expect("the shard saw it");
                o.placeholder_since = Some(since);
                o.facts_mut().names_dropped = 10;
                o.early_facts = Some(Box::new(facts::Facts {
                    names_dropped: 20 + k as u64,
                    ..Default::default()
                }));
            }
            inv.received.add(mac(k8), 1, 60);
            inv.note_lease(ip(&format!("100.64.0.{k}")), mac(k8));
            inv.remote_peers.insert(ip(&format!("198.51.100.{k}")), ());
            inv.destinations_dropped = 1;
            let dests = inv
                .destinations
                .entry((Some(mac(3)), ip("10.0.0.3")))
                .or_default();
            dests.insert(
                (6, ip("192.0.2.1"), 443),
                Destination {
                    proto: 6,
                    ip: ip("192.0.2.1"),
                    port: 443,
                    name: Some(format!("n{k}").into()),
                    flows: 1,
                    outcomes: Outcomes::default(),
                    first_ts: 10 - i64::from(k8),
                    last_ts: 20,
                    evidence: vec![FrameRef {
                        file: 0,
                        number: u64::from(k8),
                    }],
                    packets: [1, 1],
                    bytes: [60, 60],
                },
            );
            inv.macless_ips
                .insert(ip("192.168.9.9"), MacObservation::new(i64::from(k8), f));
        }
        for n in 1..=4 {
            assert_merges_agree(shards[..n].to_vec(), &format!("{n} hand-made shards"));
        }
        assert_merges_agree(Vec::new(), "no shards");
        let merged = merge_shards_on(shards, 3);
        // Every shard's refusals are counted.
        assert_eq!(
            (merged.macs_dropped, merged.last_ts, merged.shard),
            (20, 0, false)
        );
    }
}
