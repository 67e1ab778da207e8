//! App-layer glue: runs the pure parsers of [`crate::proto`] on the packets
//! that can carry their messages, and records what they learn on the flow
//! ([`FlowApp`]) and on the device ([`crate::device::facts::Facts`]).
//!
//! Which parser runs is decided per packet from the flow's state and cheap
//! checks (ports for DNS, NTP, DHCP, CAPWAP and QUIC; the first bytes of a
//! TCP stream for TLS, HTTP, MQTT and SSH, on any port). A TCP half-stream
//! is parsed from the packet itself when its first segment holds the whole
//! message, and reassembled into a bounded buffer only when it does not;
//! once a half-stream has given what it can, it is never looked at again.

mod dhcp;
mod dns;
mod stream;
mod udp;
mod wifi;

use crate::capture::{LinkType, Nanos};
use crate::decode::{Mac, Packet, L4};
use crate::device::{Fast, Inventory};
use crate::flow::reasm::StreamBuf;
use crate::flow::table::Placed;
use crate::flow::{Flow, FrameRef};
use crate::proto::quic::CryptoStream;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// What a flow carries, as far as the parsers could tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AppProto {
    #[default]
    Unknown,
    Tls,
    Http,
    Mqtt,
    Ssh,
    Dns,
    Quic,
    /// Looked at, and none of the above.
    Other,
}

/// One direction of a TCP stream, as the parsers consume it.
#[derive(Debug, Default)]
pub struct Half {
    /// Reassembly buffer, only when a message spans segments.
    pub buf: Option<Box<StreamBuf>>,
    /// Nothing more is wanted from this direction.
    pub done: bool,
    /// Segments fed so far: a message not whole after [`MAX_SEGMENTS`]
    /// (holes a snap length or a lost segment left) is given up on.
    pub segments: u16,
}

/// Segments a half-stream is fed before it is given up on.
pub const MAX_SEGMENTS: u16 = 32;

/// What the app-layer parsers learned about one flow.
#[derive(Debug, Default)]
pub struct FlowApp {
    /// The destination's name as the device used it: SNI, HTTP Host, or the
    /// name it resolved to this address.
    pub name: Option<std::sync::Arc<str>>,
    /// Where `name` came from (a [`crate::device::facts::source`] bit).
    pub name_source: u8,
    pub proto: AppProto,
    pub client: Half,
    pub server: Half,
    /// Index of this flow's session in the device's facts (TLS, MQTT,
    /// HTTP or SSH list), to add what the server says.
    pub session: Option<usize>,
    /// QUIC: the client's CRYPTO stream, until its ClientHello is whole.
    pub quic: Option<Box<CryptoStream>>,
}

/// Messages parsed and malformed, per protocol, for the report.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ProtoCount {
    pub messages: u64,
    pub malformed: u64,
}

/// [`ProtoCount`]s by protocol name, in the order first counted: a
/// handful of protocols, counted once per message, found by a short scan
/// that compares the name's address before its text (the names are
/// literals), where an ordered map compared strings at every level.
#[derive(Debug, Clone, Default)]
pub struct ProtoCounts(Vec<(&'static str, ProtoCount)>);

impl ProtoCounts {
    fn entry(&mut self, proto: &'static str) -> &mut ProtoCount {
        let at = (self.0.iter().position(|(p, _)| std::ptr::eq(*p, proto)))
            .or_else(|| self.0.iter().position(|(p, _)| *p == proto));
        match at {
            Some(i) => &mut self.0[i].1,
            None => {
                self.0.push((proto, ProtoCount::default()));
                let last = self.0.len() - 1;
                &mut self.0[last].1
            }
        }
    }

    /// One message of `proto`, malformed unless `ok`.
    pub fn add(&mut self, proto: &'static str, ok: bool) {
        let c = self.entry(proto);
        c.messages += 1;
        if !ok {
            c.malformed += 1;
        }
    }

    /// The counts by protocol name, for the report.
    pub fn to_map(&self) -> BTreeMap<&'static str, ProtoCount> {
        self.0.iter().map(|(p, c)| (*p, *c)).collect()
    }
}

/// A DNS query waiting for its response.
#[derive(Debug, Clone, Copy)]
struct PendingDns {
    ts: Nanos,
    client_mac: Option<Mac>,
    name_hash: u64,
}

/// DNS transactions waiting for an answer, at most.
const MAX_PENDING_DNS: usize = 65_536;
/// Resolved addresses remembered per client, at most.
const MAX_CACHE_PER_CLIENT: usize = 2048;
/// Clients with a DNS cache, at most.
const MAX_CACHE_CLIENTS: usize = 16_384;
/// How long a DNS query may wait for its answer (capture time).
pub const DNS_TIMEOUT: Nanos = 5_000_000_000;
/// How long a timed-out DNS query is remembered for a late answer.
pub const DNS_LATE_WINDOW: Nanos = 600_000_000_000;
/// How long a DHCP transaction may wait.
pub const DHCP_TIMEOUT: Nanos = 10_000_000_000;
const SWEEP_EVERY: Nanos = 1_000_000_000;
/// How often expired DNS cache entries are forgotten (capture time): each
/// purge walks the whole cache, and what expired in between is a few
/// seconds of answers.
const CACHE_PURGE_EVERY: Nanos = 30_000_000_000;

/// App-layer state shared across flows.
#[derive(Debug, Default)]
pub struct AppLayer {
    /// Per protocol: messages and malformed ones.
    pub counts: ProtoCounts,
    /// Per client address: resolved address → (name asked for, expiry).
    cache: dns::Cache,
    pub cache_dropped: u64,
    /// (client, server, client port, DNS id) → the query.
    pending_dns: HashMap<dns::TxKey, PendingDns, Fast>,
    /// Queries that timed out, kept for [`DNS_LATE_WINDOW`] so an answer
    /// that comes after all is counted as late, not lost.
    /// (A client may reuse an id while the first query waits: each
    /// timed-out transaction under a key is counted.)
    timed_out_dns: dns::TimedOut,
    /// No query in `pending_dns` was sent before this (a lower bound,
    /// exact after a walk): a second with nothing to time out walks nothing.
    pending_soonest: Nanos,
    /// No transaction in `timed_out_dns` timed out before this (likewise).
    timed_out_soonest: Nanos,
    pub pending_dropped: u64,
    /// BSSID → (SSID, channel, frequency), from beacons.
    bss: HashMap<Mac, wifi::Bss, Fast>,
    /// Clients with DHCP transactions waiting, so timing them out looks at
    /// those alone.
    dhcp_waiting: std::collections::HashSet<Mac, Fast>,
    /// Reused buffers: a name being looked up, a TLS message split over
    /// records.
    scratch: String,
    tls_scratch: Vec<u8>,
    next_sweep: Nanos,
    next_cache_purge: Nanos,
}

impl AppLayer {
    fn count(&mut self, proto: &'static str, ok: bool) {
        self.counts.add(proto, ok);
    }

    /// A new flow: name it from the client's DNS cache.
    pub fn on_new_flow(&mut self, flow: &mut Flow, ts: Nanos) {
        let Some(cache) = self.cache.get(&flow.client_ip()) else {
            return;
        };
        if let Some((name, expires)) = cache.get(&flow.server_ip()) {
            if *expires >= ts {
                let app = flow.app.get_or_insert_with(Default::default);
                app.name = Some(name.clone());
                app.name_source = crate::device::facts::source::DNS;
            }
        }
    }

    /// A TCP or UDP payload on `flow`.
    pub fn on_payload(
        &mut self,
        flow: &mut Flow,
        placed: Placed,
        pkt: &Packet<'_>,
        ts: Nanos,
        frame: FrameRef,
        inv: &mut Inventory,
    ) {
        self.tick(ts, inv);
        match pkt.l4 {
            L4::Tcp(t) => stream::on_tcp(self, flow, placed.dir, t, pkt, ts, frame, inv),
            L4::Udp { sport, dport } => {
                udp::on_udp(self, flow, placed.dir, sport, dport, pkt, ts, frame, inv)
            }
            _ => {}
        }
    }

    /// An 802.11 frame (with its radiotap header when `link` is radiotap).
    pub fn on_wifi(
        &mut self,
        link: LinkType,
        bytes: &[u8],
        ts: Nanos,
        frame: FrameRef,
        inv: &mut Inventory,
    ) {
        wifi::on_frame(self, link, bytes, ts, frame, inv);
    }

    /// Capture time has reached `now`: times out what waited too long, at
    /// most once per second (a payload packet does this; so does a live
    /// shard told the time by the capture thread).
    #[inline]
    pub fn tick(&mut self, now: Nanos, inv: &mut Inventory) {
        if now >= self.next_sweep {
            self.sweep_second(now, inv);
        }
    }

    #[inline(never)]
    fn sweep_second(&mut self, now: Nanos, inv: &mut Inventory) {
        // As of the start of the second, as the flow table sweeps.
        let second = now - now.rem_euclid(SWEEP_EVERY);
        self.sweep(second, inv);
        self.next_sweep = second.saturating_add(SWEEP_EVERY);
    }

    /// Adds another app layer's counters to this one's (shards merged into
    /// one report).
    pub fn add_counts(&mut self, counts: &ProtoCounts) {
        for (proto, c) in &counts.0 {
            let e = self.counts.entry(proto);
            e.messages += c.messages;
            e.malformed += c.malformed;
        }
    }

    /// Times out DNS queries and DHCP transactions older than their timeout.
    fn sweep(&mut self, now: Nanos, inv: &mut Inventory) {
        if now >= self.next_cache_purge {
            // Expired answers name nothing any more: forget them every
            // 30 s of capture time instead of holding them until a
            // client's cache fills (most of the memory a site mix's DNS
            // cache held was expired).
            dns::purge_expired(&mut self.cache, now);
            self.next_cache_purge = now.saturating_add(CACHE_PURGE_EVERY);
        }
        dns::expire(self, now.saturating_sub(DNS_TIMEOUT), inv);
        dhcp::expire(
            &mut self.dhcp_waiting,
            inv,
            now.saturating_sub(DHCP_TIMEOUT),
        );
    }

    /// Gives back what only the packets needed (the DNS cache, pending
    /// transactions, beacons seen): after [`AppLayer::finish`], before the
    /// report is built.
    pub fn release(&mut self) {
        self.cache = Default::default();
        self.pending_dns = Default::default();
        self.timed_out_dns = Default::default();
        self.bss = Default::default();
        self.dhcp_waiting = Default::default();
        self.scratch = String::new();
        self.tls_scratch = Vec::new();
    }

    /// The capture ended at `end`: what waited past its timeout failed;
    /// what could still have been answered is left out.
    pub fn finish(&mut self, end: Nanos, inv: &mut Inventory) {
        dns::expire(self, end.saturating_sub(DNS_TIMEOUT), inv);
        self.pending_dns.clear();
        self.timed_out_dns.clear();
        dhcp::expire(
            &mut self.dhcp_waiting,
            inv,
            end.saturating_sub(DHCP_TIMEOUT),
        );
    }
}

/// The facts of a flow's client device.
fn client_facts<'i>(
    inv: &'i mut Inventory,
    flow: &Flow,
) -> Option<&'i mut crate::device::facts::Facts> {
    inv.facts_for(flow.client_mac, flow.client_ip())
}

/// Lowercase, trimmed of a trailing dot: how names are kept.
fn normalise_name(name: &str, out: &mut String) {
    out.clear();
    out.push_str(name.trim_end_matches('.'));
    out.make_ascii_lowercase();
}
