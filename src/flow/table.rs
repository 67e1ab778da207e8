//! The bounded flow table.

use super::index::SlotIndex;
use super::{
    is_service_port, Dir, EndReason, Endpoint, Flow, FlowKey, FlowSink, FrameRef, IcmpError,
    TcpState,
};
use crate::capture::Nanos;
use crate::decode::l4::{TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN};
use crate::decode::{Packet, L4};
use std::hash::BuildHasher;

const NIL: u32 = u32::MAX;
const SEC: Nanos = 1_000_000_000;

/// Limits and timeouts, all in capture time.
#[derive(Debug, Clone, Copy)]
pub struct FlowConfig {
    pub max_flows: usize,
    pub tcp_idle: Nanos,
    pub udp_idle: Nanos,
    pub other_idle: Nanos,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            max_flows: 262_144,
            tcp_idle: 300 * SEC,
            udp_idle: 60 * SEC,
            other_idle: 60 * SEC,
        }
    }
}

/// What the table did, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct FlowStats {
    pub created: u64,
    pub expired: u64,
    pub evicted: u64,
    pub reused: u64,
    /// ICMP errors quoting a flow the table did not hold.
    pub icmp_unmatched: u64,
    pub tcp: u64,
    pub udp: u64,
}

/// Idle classes, each with its own timeout and its own idle-ordered list.
const CLASSES: usize = 3;
fn class_of(proto: u8) -> u8 {
    match proto {
        6 => 0,
        17 => 1,
        _ => 2,
    }
}

#[derive(Debug, Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

/// A slot's place in its class's idle list, and whether it holds a flow.
#[derive(Debug, Clone, Copy)]
struct Link {
    prev: u32,
    next: u32,
    class: u8,
    live: bool,
}

/// The flow table: a hash index over a slot vector, with per-class idle
/// lists ordered from least to most recently active.
///
/// Every packet moves its flow to the tail of its list, which touches the
/// flows before and after it: the links live in their own small vector,
/// beside the slots, so that touches a few bytes each (mostly in cache)
/// instead of two whole flows scattered over megabytes. The index holds
/// slot numbers and 32 bits of their flow's hash, 8 bytes an entry where a
/// key and slot took 64, in one array ([`SlotIndex`]): a lookup reads one
/// line of it and then the one flow whose hash matches.
///
/// Whether a slot holds a flow is kept in its link, not as an
/// `Option<Flow>`: the option's tag lay wherever the compiler found a
/// niche (176 bytes into the flow, past every field a UDP packet touches),
/// so each lookup missed on one more cache line before comparing the key.
/// A freed slot keeps its dead flow, without its app state, until reused.
pub struct FlowTable {
    cfg: FlowConfig,
    index: SlotIndex,
    hasher: crate::device::Fast,
    slots: Vec<Flow>,
    links: Vec<Link>,
    free: Vec<u32>,
    lists: [List; CLASSES],
    stats: FlowStats,
    next_sweep: Nanos,
}

/// Where a packet went in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub slot: u32,
    pub dir: Dir,
    pub new: bool,
}

impl FlowTable {
    pub fn new(cfg: FlowConfig) -> Self {
        // Grown as flows come: a table made for 65,536 flows held memory
        // a site of a few thousand never used.
        let cap = cfg.max_flows.min(1 << 12);
        FlowTable {
            cfg,
            index: SlotIndex::with_capacity(cap),
            hasher: Default::default(),
            slots: Vec::with_capacity(cap),
            links: Vec::with_capacity(cap),
            free: Vec::new(),
            lists: [List {
                head: NIL,
                tail: NIL,
            }; CLASSES],
            stats: FlowStats::default(),
            next_sweep: Nanos::MIN,
        }
    }

    pub fn stats(&self) -> FlowStats {
        self.stats
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    fn live(&self, slot: u32) -> bool {
        self.links.get(slot as usize).is_some_and(|l| l.live)
    }

    pub fn get(&self, slot: u32) -> Option<&Flow> {
        self.slots.get(slot as usize).filter(|_| self.live(slot))
    }

    pub fn get_mut(&mut self, slot: u32) -> Option<&mut Flow> {
        let live = self.live(slot);
        self.slots.get_mut(slot as usize).filter(|_| live)
    }

    /// The flow a packet was just [`FlowTable::update`]d into: live until
    /// the table is next changed, so without [`FlowTable::get_mut`]'s check.
    pub fn placed_mut(&mut self, placed: &Placed) -> Option<&mut Flow> {
        self.slots.get_mut(placed.slot as usize)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Flow> {
        self.slots
            .iter()
            .zip(&self.links)
            .filter_map(|(f, l)| l.live.then_some(f))
    }

    /// The open flows in the order [`FlowTable::drain`] ends them (class by
    /// class, least recently active first), so a snapshot summarises them
    /// exactly as the end of the capture would.
    pub fn iter_drain_order(&self) -> impl Iterator<Item = &Flow> {
        (0..CLASSES).flat_map(move |class| {
            let mut slot = self.lists[class].head;
            std::iter::from_fn(move || {
                if slot == NIL {
                    return None;
                }
                let f = self.get(slot)?;
                slot = self.links.get(slot as usize)?.next;
                Some(f)
            })
        })
    }

    fn timeout(&self, class: u8) -> Nanos {
        match class {
            0 => self.cfg.tcp_idle,
            1 => self.cfg.udp_idle,
            _ => self.cfg.other_idle,
        }
    }

    /// The flow in a slot the index or a list holds (always live).
    fn flow(&self, slot: u32) -> &Flow {
        &self.slots[slot as usize]
    }

    fn flow_mut(&mut self, slot: u32) -> &mut Flow {
        &mut self.slots[slot as usize]
    }

    fn hash(&self, key: &FlowKey) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The slot of the flow with `key` (hashed `h`).
    fn find(&self, h: u64, key: &FlowKey) -> Option<u32> {
        let slots = &self.slots;
        // The index holds live slots only.
        let holds = |s: u32| slots.get(s as usize).is_some_and(|f| f.key == *key);
        self.index.find(h, holds)
    }

    fn unlink(&mut self, slot: u32) {
        let Link {
            prev, next, class, ..
        } = self.links[slot as usize];
        let class = class as usize;
        if prev == NIL {
            self.lists[class].head = next;
        } else {
            self.links[prev as usize].next = next;
        }
        if next == NIL {
            self.lists[class].tail = prev;
        } else {
            self.links[next as usize].prev = prev;
        }
    }

    fn push_tail(&mut self, slot: u32) {
        let link = &mut self.links[slot as usize];
        let class = link.class as usize;
        let tail = self.lists[class].tail;
        link.prev = tail;
        link.next = NIL;
        if tail == NIL {
            self.lists[class].head = slot;
        } else {
            self.links[tail as usize].next = slot;
        }
        self.lists[class].tail = slot;
    }

    fn remove(&mut self, slot: u32, why: EndReason, sink: &mut impl FlowSink) {
        if !self.live(slot) {
            return;
        }
        self.unlink(slot);
        // Summarised where it lies, then dropped: taking it out first
        // copied the whole flow once more.
        if let Some(flow) = self.slots.get(slot as usize) {
            let h = self.hasher.hash_one(flow.key);
            self.index.remove(h, slot);
            match why {
                EndReason::Idle => self.stats.expired += 1,
                EndReason::Evicted => self.stats.evicted += 1,
                EndReason::Reused => self.stats.reused += 1,
                EndReason::CaptureEnd => {}
            }
            sink.flow_ended(flow, why);
            // The slot keeps the dead flow's plain fields until reused;
            // what it owns goes now.
            self.slots[slot as usize].app = None;
            self.links[slot as usize].live = false;
            self.free.push(slot);
        }
    }

    /// Capture time has reached `now`: expires idle flows once per second
    /// of capture time, as of the start of that second. The sweeps are a
    /// function of capture time alone, not of which frame brings the time,
    /// so an engine that sees only some of the frames (a shard) but is told
    /// the time of the others ends the same flows at the same points.
    #[inline]
    pub fn tick(&mut self, now: Nanos, sink: &mut impl FlowSink) {
        // Every packet asks; about one in a thousand sweeps.
        if now >= self.next_sweep {
            self.sweep(now, sink);
        }
    }

    #[inline(never)]
    fn sweep(&mut self, now: Nanos, sink: &mut impl FlowSink) {
        let second = now - now.rem_euclid(SEC);
        self.expire(second, sink);
        self.next_sweep = second.saturating_add(SEC);
    }

    /// Adds another table's counters to this one's (shards merged into one
    /// report).
    pub fn add_stats(&mut self, o: &FlowStats) {
        let s = &mut self.stats;
        s.created += o.created;
        s.expired += o.expired;
        s.evicted += o.evicted;
        s.reused += o.reused;
        s.icmp_unmatched += o.icmp_unmatched;
        s.tcp += o.tcp;
        s.udp += o.udp;
    }

    /// Ends every flow idle past its timeout at capture time `now`.
    pub fn expire(&mut self, now: Nanos, sink: &mut impl FlowSink) {
        for class in 0..CLASSES {
            let timeout = self.timeout(class as u8);
            // Bounded by the number of flows: each pass removes one.
            loop {
                let head = self.lists[class].head;
                if head == NIL || self.flow(head).last_ts.saturating_add(timeout) >= now {
                    break;
                }
                self.remove(head, EndReason::Idle, sink);
            }
        }
    }

    /// Gives the memory of an empty table back (after [`FlowTable::drain`]):
    /// the report is built next, and can reuse it.
    pub fn release(&mut self) {
        if self.index.is_empty() {
            self.index = SlotIndex::default();
            self.slots = Vec::new();
            self.links = Vec::new();
            self.free = Vec::new();
        }
    }

    /// Ends every flow still in the table (the capture is over).
    pub fn drain(&mut self, sink: &mut impl FlowSink) {
        // In list order, as removing each head would, but without unlinking
        // and unindexing flows one by one: the table is emptied at once.
        for class in 0..CLASSES {
            let mut slot = self.lists[class].head;
            while let Some(flow) = self.get(slot) {
                sink.flow_ended(flow, EndReason::CaptureEnd);
                slot = self.links[slot as usize].next;
            }
            self.lists[class] = List {
                head: NIL,
                tail: NIL,
            };
        }
        self.index.clear();
        self.slots.clear();
        self.links.clear();
        self.free.clear();
    }

    fn evict_one(&mut self, sink: &mut impl FlowSink) {
        let oldest = (0..CLASSES)
            .filter_map(|c| {
                let h = self.lists[c].head;
                (h != NIL).then(|| (self.flow(h).last_ts, h))
            })
            .min();
        if let Some((_, slot)) = oldest {
            self.remove(slot, EndReason::Evicted, sink);
        }
    }

    /// Accounts one packet to its flow, creating the flow if needed. ICMP
    /// errors are attached to the flow they quote instead. Returns where
    /// the packet went, or `None` for packets that belong to no flow.
    pub fn update(
        &mut self,
        pkt: &Packet<'_>,
        frame: FrameRef,
        ts: Nanos,
        wire_len: u32,
        sink: &mut impl FlowSink,
    ) -> Option<Placed> {
        self.tick(ts, sink);
        let ip = pkt.ip?;
        let (sport, dport) = match pkt.l4 {
            L4::Tcp(t) => (t.sport, t.dport),
            L4::Udp { sport, dport } => (sport, dport),
            L4::Icmp(icmp) => {
                if let Some(q) = icmp.quoted {
                    self.icmp_error(&icmp, q, ip.src, frame);
                    return None;
                }
                (0, 0)
            }
            L4::Other(_) => (0, 0),
            L4::None => return None,
        };
        let src = Endpoint::new(ip.src, sport);
        let dst = Endpoint::new(ip.dst, dport);
        let (key, _) = FlowKey::new(ip.proto, src, dst);
        let h = self.hash(&key);

        let mut existing = self.find(h, &key);
        if let (Some(slot), L4::Tcp(t)) = (existing, pkt.l4) {
            let f = self.flow(slot);
            let ended = f.tcp.rst.iter().any(Option::is_some) || (f.tcp.fin[0] && f.tcp.fin[1]);
            if t.has(TCP_SYN) && !t.has(TCP_ACK) && ended {
                self.remove(slot, EndReason::Reused, sink);
                existing = None;
            }
        }
        let (slot, new) = match existing {
            Some(slot) => {
                self.unlink(slot);
                (slot, false)
            }
            None => {
                if self.index.len() >= self.cfg.max_flows {
                    self.evict_one(sink);
                }
                let slot = self.create(key, h, pkt, src, dst, frame, ts);
                (slot, true)
            }
        };
        self.push_tail(slot);
        let flow = self.flow_mut(slot);
        let dir = flow.direction_of(&src);
        flow.last_ts = flow.last_ts.max(ts);
        flow.last_frame = frame;
        flow.packets[dir as usize] += 1;
        flow.bytes[dir as usize] += wire_len as u64;
        // Each side's MAC, from the first packet it sends; the client's
        // also from the first answer it receives (the last hop to it is
        // itself, where the server's side may be a router's).
        match dir {
            Dir::Out if flow.client_mac.is_none() => flow.client_mac = pkt.src_mac,
            Dir::Back => {
                if flow.server_mac.is_none() {
                    flow.server_mac = pkt.src_mac;
                }
                if flow.client_mac.is_none() {
                    flow.client_mac = pkt.dst_mac.filter(|m| m.is_unicast());
                }
            }
            _ => {}
        }
        if let L4::Tcp(t) = pkt.l4 {
            track_tcp(&mut flow.tcp, t, dir, frame, ts, pkt.payload_len);
        }
        Some(Placed { slot, dir, new })
    }

    #[allow(clippy::too_many_arguments)]
    fn create(
        &mut self,
        key: FlowKey,
        h: u64,
        pkt: &Packet<'_>,
        src: Endpoint,
        dst: Endpoint,
        frame: FrameRef,
        ts: Nanos,
    ) -> u32 {
        let sender_is_client = match pkt.l4 {
            L4::Tcp(t) if t.has(TCP_SYN) => !t.has(TCP_ACK),
            L4::Icmp(i) => !matches!((i.v6, i.kind), (false, 0) | (true, 129)),
            _ => match (is_service_port(src.port), is_service_port(dst.port)) {
                // Both well known (DHCP 68 -> 67, NTP 123 <-> 123): the lower
                // port is the server's; equal ports, the first sender asks.
                (true, true) => src.port >= dst.port,
                (s, d) => !s || d,
            },
        };
        let (client, server, client_mac, server_mac) = if sender_is_client {
            (src, dst, pkt.src_mac, None)
        } else {
            (dst, src, None, pkt.src_mac)
        };
        let midstream = matches!(pkt.l4, L4::Tcp(t) if !t.has(TCP_SYN));
        let flow = Flow {
            key,
            client,
            server,
            client_mac,
            server_mac,
            vlan: pkt.vlan,
            first_ts: ts,
            last_ts: ts,
            first_frame: frame,
            last_frame: frame,
            packets: [0; 2],
            bytes: [0; 2],
            tcp: TcpState {
                midstream,
                ..TcpState::default()
            },
            icmp_error: None,
            app: None,
            streams_done: false,
        };
        let link = Link {
            prev: NIL,
            next: NIL,
            class: class_of(key.proto),
            live: true,
        };
        self.stats.created += 1;
        match key.proto {
            6 => self.stats.tcp += 1,
            17 => self.stats.udp += 1,
            _ => {}
        }
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = flow;
                self.links[s as usize] = link;
                s
            }
            None => {
                self.slots.push(flow);
                self.links.push(link);
                (self.slots.len() - 1) as u32
            }
        };
        self.index.insert(h, slot);
        slot
    }

    fn icmp_error(
        &mut self,
        icmp: &crate::decode::Icmp,
        q: crate::decode::Quoted,
        from: std::net::IpAddr,
        frame: FrameRef,
    ) {
        let (key, _) = FlowKey::new(
            q.proto,
            Endpoint::new(q.src, q.sport),
            Endpoint::new(q.dst, q.dport),
        );
        let Some(slot) = self.find(self.hash(&key), &key) else {
            self.stats.icmp_unmatched += 1;
            return;
        };
        let flow = self.flow_mut(slot);
        match &mut flow.icmp_error {
            Some(e) => e.count += 1,
            None => {
                flow.icmp_error = Some(IcmpError {
                    v6: icmp.v6,
                    kind: icmp.kind,
                    code: icmp.code,
                    admin_prohibited: icmp.is_admin_prohibited(),
                    frame,
                    from,
                    count: 1,
                })
            }
        }
    }
}

fn track_tcp(
    s: &mut TcpState,
    t: crate::decode::Tcp,
    dir: Dir,
    frame: FrameRef,
    ts: Nanos,
    payload_len: u32,
) {
    let d = dir as usize;
    if t.has(TCP_SYN) {
        if t.has(TCP_ACK) {
            if dir == Dir::Back && s.syn_ack.is_none() {
                s.syn_ack = Some(frame);
            }
        } else if dir == Dir::Out {
            s.syns += 1;
            s.first_syn.get_or_insert(frame);
            s.last_syn_ts = ts;
        }
    } else if t.has(TCP_ACK) && dir == Dir::Out && s.syn_ack.is_some() {
        s.established = true;
    }
    if t.has(TCP_RST) && s.rst[d].is_none() {
        s.rst[d] = Some(frame);
    }
    if t.has(TCP_FIN) {
        s.fin[d] = true;
    }
    s.data[d] += payload_len as u64;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Fragment, Ip, Tcp};
    use std::net::{IpAddr, Ipv4Addr};

    /// The flows handed on, with why, in order.
    #[derive(Default)]
    struct Ended(Vec<(FlowKey, EndReason, u64)>);

    impl FlowSink for Ended {
        fn flow_ended(&mut self, flow: &Flow, why: EndReason) {
            self.0
                .push((flow.key, why, flow.packets[0] + flow.packets[1]));
        }
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
    }

    fn packet(src: u8, dst: u8, l4: L4) -> Packet<'static> {
        let mut p = Packet::empty();
        p.ip = Some(Ip {
            src: ip(src),
            dst: ip(dst),
            proto: match l4 {
                L4::Tcp(_) => 6,
                _ => 17,
            },
            ttl: 64,
            fragment: Fragment::Whole,
        });
        p.l4 = l4;
        p
    }

    fn udp(src: u8, dst: u8, sport: u16, dport: u16) -> Packet<'static> {
        packet(src, dst, L4::Udp { sport, dport })
    }

    fn tcp(src: u8, dst: u8, sport: u16, dport: u16, flags: u8) -> Packet<'static> {
        let t = Tcp {
            sport,
            dport,
            seq: 0,
            ack: 0,
            flags,
        };
        packet(src, dst, L4::Tcp(t))
    }

    fn frame(n: u64) -> FrameRef {
        FrameRef { file: 0, number: n }
    }

    /// Both directions land on one flow; a freed slot is reused, reads as
    /// empty until then, and never shows in `iter`.
    #[test]
    fn slots_are_reused_and_freed_ones_are_invisible() {
        let mut t = FlowTable::new(FlowConfig::default());
        let mut sink = Ended::default();
        let a = t.update(&udp(1, 2, 5000, 53), frame(1), 0, 80, &mut sink);
        let back = t.update(&udp(2, 1, 53, 5000), frame(2), SEC, 120, &mut sink);
        let (a, back) = (a.expect("placed"), back.expect("placed"));
        assert!(a.new && !back.new);
        assert_eq!((a.slot, a.dir, back.dir), (back.slot, Dir::Out, Dir::Back));
        let b = t.update(&udp(3, 2, 5000, 53), frame(3), 2 * SEC, 80, &mut sink);
        let b = b.expect("placed");
        assert_ne!(a.slot, b.slot);
        // The first flow idles past the UDP timeout: swept, slot freed.
        t.tick(SEC + 61 * SEC + 1, &mut sink);
        assert_eq!(sink.0.len(), 1);
        assert_eq!((sink.0[0].1, sink.0[0].2), (EndReason::Idle, 2));
        assert!(t.get(a.slot).is_none());
        assert_eq!(t.len(), 1);
        assert_eq!(t.iter().count(), 1);
        // The next new flow takes the freed slot, starting from nothing.
        // Within second 62 (swept already; the second flow idles until 62).
        let now = 62 * SEC + SEC / 2;
        let c = t.update(&udp(4, 2, 6000, 53), frame(4), now, 80, &mut sink);
        let c = c.expect("placed");
        assert!(c.new);
        assert_eq!(c.slot, a.slot);
        let f = t.get(c.slot).expect("live");
        assert_eq!((f.packets, f.first_frame), ([1, 0], frame(4)));
        assert!(f.app.is_none());
        // The old key is gone from the index: its next packet is new.
        let again = t.update(&udp(1, 2, 5000, 53), frame(5), now, 80, &mut sink);
        assert!(again.expect("placed").new);
        assert_eq!(t.len(), 3);
    }

    /// A SYN after the old connection ended reuses the 5-tuple: the old
    /// flow ends as reused and a new one starts in another state.
    #[test]
    fn a_syn_after_a_reset_starts_a_new_flow() {
        let mut t = FlowTable::new(FlowConfig::default());
        let mut sink = Ended::default();
        t.update(&tcp(1, 2, 4000, 443, TCP_SYN), frame(1), 0, 60, &mut sink);
        t.update(
            &tcp(2, 1, 443, 4000, TCP_RST | TCP_ACK),
            frame(2),
            1,
            60,
            &mut sink,
        );
        let p = t.update(&tcp(1, 2, 4000, 443, TCP_SYN), frame(3), 2, 60, &mut sink);
        assert!(p.expect("placed").new);
        assert_eq!(sink.0.len(), 1);
        assert_eq!((sink.0[0].1, sink.0[0].2), (EndReason::Reused, 2));
        assert_eq!(t.stats().reused, 1);
        assert_eq!(t.len(), 1);
    }

    /// Past `max_flows` the least recently active flow (of any class) is
    /// evicted; the table ends its flows class by class, least recently
    /// active first, and is empty after.
    #[test]
    fn eviction_takes_the_least_recently_active_and_drain_empties() {
        let cfg = FlowConfig {
            max_flows: 3,
            ..FlowConfig::default()
        };
        let mut t = FlowTable::new(cfg);
        let mut sink = Ended::default();
        t.update(&udp(1, 9, 1001, 53), frame(1), 10, 60, &mut sink);
        t.update(&tcp(2, 9, 1002, 443, TCP_SYN), frame(2), 20, 60, &mut sink);
        t.update(&udp(3, 9, 1003, 53), frame(3), 30, 60, &mut sink);
        // Touch the oldest: the TCP flow is now the least recently active.
        t.update(&udp(1, 9, 1001, 53), frame(4), 40, 60, &mut sink);
        t.update(&udp(4, 9, 1004, 53), frame(5), 50, 60, &mut sink);
        assert_eq!(sink.0.len(), 1);
        assert_eq!(sink.0[0].0.proto, 6);
        assert_eq!(sink.0[0].1, EndReason::Evicted);
        assert_eq!(t.stats().evicted, 1);
        sink.0.clear();
        t.drain(&mut sink);
        // The clients' addresses sort first: their ports are the keys' low.
        let servers: Vec<u16> = sink.0.iter().map(|e| e.0.hi.port).collect();
        assert_eq!(servers, [53, 53, 53]);
        let clients: Vec<u16> = sink.0.iter().map(|e| e.0.lo.port).collect();
        assert_eq!(clients, [1003, 1001, 1004]);
        assert!(t.is_empty() && t.iter().next().is_none());
    }
}
