//! Sharding a live capture across worker threads.
//!
//! Every frame goes to exactly one worker, chosen by the local host it is
//! about ([`host_key`]), and each worker runs its own [`Engine`]. All flows
//! of one host address land on one worker, so what ties them together
//! stays there without a lock: the host's DNS cache (a flow is named by the
//! answer the host got earlier; the engine keys it by client address too)
//! and its DNS transactions. The workers share nothing while they run;
//! their state is merged only when a report is asked for
//! ([`Engine::from_tallies`]): counters add up, a device's facts learned by
//! several workers are joined. The price of host affinity: one busy host is
//! analysed by one worker, so a site scales with its number of hosts.
//!
//! The key of a frame is the address of its *client side* (see [`pick`]),
//! a function of the unordered pair of endpoints, so both directions of a
//! flow, and an ICMP error quoting it, agree. Frames no flow owns are
//! routed so they reach the inventory exactly once: ARP, EAPOL and other
//! link-layer frames by their sender's MAC, all DHCP to worker 0 (every
//! client's DISCOVER is one broadcast 5-tuple, one flow; an OFFER goes
//! where its DISCOVER went), every 802.11 frame to worker 0 (beacons and
//! the stations they describe must meet). A worker that learns a fact about a MAC it has not seen send
//! keeps it under a placeholder, and the merge keeps it only if some worker
//! saw the MAC send first, as a single engine would
//! ([`crate::device::merge_shards`]).
//!
//! Time: every engine is told the time of every frame, its own or another
//! worker's ([`Engine::advance`]), and its timeouts are swept once per
//! second of capture time as of the start of that second, so a worker ends
//! flows and DNS transactions where one engine would. Frames received by a
//! MAC are counted per destination MAC whether or not it has sent yet, so
//! the workers' counts add up. The merged report of a file is the report of
//! one engine, byte for byte: a test holds every fixture and shared capture
//! to that with 1, 2 and 3 workers. Only the caps differ: each worker has
//! the full table sizes, so under a flood two workers keep more.
//!
//! Hand-off: a frame borrows libpcap's buffer only until the next read, so
//! handing it to another thread means copying its captured bytes, once,
//! into the worker's current [`Batch`] (an arena reused from batch to
//! batch: no allocation per packet, one `memcpy` of the captured length).
//! With one worker the capture thread runs the engine itself and nothing
//! is copied ([`Worker`] is used in place).

use crate::capture::{Frame, LinkType, Nanos};
use crate::decode::{self, L4};
use crate::engine::{Engine, EngineConfig, Tally};
use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;
use std::sync::mpsc::{Receiver, Sender, SyncSender, TrySendError};

/// What a frame is keyed on: the host its worker is chosen by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostKey {
    Mac([u8; 6]),
    Ip([u8; 16]),
    /// Worker 0: 802.11 frames, and frames nothing can be read from.
    First,
}

/// One side of a conversation as the router sees it.
#[derive(Debug, Clone, Copy)]
struct End {
    ip: [u8; 16],
    local: bool,
    port: u16,
}

fn unicast(m: [u8; 6]) -> Option<[u8; 6]> {
    (m[0] & 1 == 0 && m != [0; 6]).then_some(m)
}

fn v4(b: [u8; 4]) -> [u8; 16] {
    std::net::Ipv4Addr::from(b).to_ipv6_mapped().octets()
}

fn ip16(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    }
}

fn end(ip: IpAddr, port: u16) -> End {
    End {
        ip: ip16(ip),
        local: crate::device::is_local_scope(&ip),
        port,
    }
}

/// The client side of the unordered pair {a, b}: the local-scope host when
/// only one is; else the side on an ephemeral port facing a service port;
/// else the higher port; else the lower address.
fn pick(a: End, b: End) -> HostKey {
    use crate::flow::is_service_port as svc;
    let a_first = match (a.local, b.local) {
        (true, false) => true,
        (false, true) => false,
        _ => match (svc(a.port), svc(b.port)) {
            (false, true) => true,
            (true, false) => false,
            _ => (a.port, std::cmp::Reverse(a.ip)) >= (b.port, std::cmp::Reverse(b.ip)),
        },
    };
    HostKey::Ip(if a_first { a.ip } else { b.ip })
}

/// DHCP goes to worker 0, all of it: every client's DISCOVER is the same
/// broadcast 5-tuple (0.0.0.0:68 to 255.255.255.255:67), one flow to a
/// single engine, so it must be one flow to the shards too; and an OFFER
/// or ACK meets its DISCOVER there.
fn dhcp_client(sport: u16, dport: u16, _payload: &[u8]) -> Option<HostKey> {
    (matches!(sport, 67 | 68) || matches!(dport, 67 | 68)).then_some(HostKey::First)
}

/// Frames without IP: by the sender's MAC (a device's own ARP, EAPOL), else
/// by the receiver's.
fn link_only(src: Option<[u8; 6]>, dst: Option<[u8; 6]>) -> HostKey {
    match (src.and_then(unicast), dst.and_then(unicast)) {
        (Some(m), _) | (None, Some(m)) => HostKey::Mac(m),
        _ => HostKey::First,
    }
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(d.get(at..at + 2)?.try_into().ok()?))
}

/// The common case read straight from the bytes: Ethernet, up to four VLAN
/// tags, IPv4 or IPv6 without extension headers, TCP, UDP or ICMP echo.
/// `None` leaves the frame to [`decode::decode`], which gives the same
/// answer for every frame this reads.
fn fast_key(d: &[u8]) -> Option<HostKey> {
    let dst: [u8; 6] = d.get(0..6)?.try_into().ok()?;
    let src: [u8; 6] = d.get(6..12)?.try_into().ok()?;
    let mut at = 12;
    let mut et = be16(d, at)?;
    let mut tags = 0;
    while matches!(et, 0x8100 | 0x88a8 | 0x9100) {
        tags += 1;
        if tags > 4 {
            return None;
        }
        at += 4;
        et = be16(d, at)?;
    }
    let l3 = at + 2;
    let (sip, dip, proto, l4) = match et {
        0x0800 => {
            let h = d.get(l3..l3 + 20)?;
            let ihl = ((h[0] & 0x0f) as usize) * 4;
            if h[0] >> 4 != 4 || ihl < 20 || d.len() < l3 + ihl {
                return None;
            }
            let frag = u16::from_be_bytes([h[6], h[7]]);
            if frag & 0x1fff != 0 {
                // A later fragment: no ports; the decoder agrees.
                return None;
            }
            let s: [u8; 4] = h[12..16].try_into().ok()?;
            let t: [u8; 4] = h[16..20].try_into().ok()?;
            let local = |b: [u8; 4]| crate::device::is_local_scope(&IpAddr::V4(b.into()));
            ((v4(s), local(s)), (v4(t), local(t)), h[9], l3 + ihl)
        }
        0x86dd => {
            let h = d.get(l3..l3 + 40)?;
            if h[0] >> 4 != 6 {
                return None;
            }
            let s: [u8; 16] = h[8..24].try_into().ok()?;
            let t: [u8; 16] = h[24..40].try_into().ok()?;
            // A v4-mapped address is judged as the IPv4 address it maps.
            let local = |b: [u8; 16]| {
                let v6 = std::net::Ipv6Addr::from(b);
                let ip = v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4);
                crate::device::is_local_scope(&ip)
            };
            ((s, local(s)), (t, local(t)), h[6], l3 + 40)
        }
        0x0806 | 0x888e | 0x88cc => return Some(link_only(Some(src), Some(dst))),
        _ => return None,
    };
    let (sport, dport) = match proto {
        6 | 17 => (be16(d, l4)?, be16(d, l4 + 2)?),
        // ICMP echo and other non-errors: no ports. Errors quote a flow and
        // go where it went: the decoder reads the quote.
        1 if matches!(d.get(l4)?, 0 | 8 | 13 | 14) => (0, 0),
        58 if *d.get(l4)? >= 128 => (0, 0),
        _ => return None,
    };
    if proto == 17 {
        if let Some(k) = dhcp_client(sport, dport, d.get(l4 + 8..).unwrap_or(&[])) {
            return Some(k);
        }
    }
    let a = End {
        ip: sip.0,
        local: sip.1,
        port: sport,
    };
    let b = End {
        ip: dip.0,
        local: dip.1,
        port: dport,
    };
    Some(pick(a, b))
}

/// The host a frame is about (see the module docs).
pub fn host_key(frame: &Frame<'_>) -> HostKey {
    if frame.link == LinkType::ETHERNET {
        if let Some(k) = fast_key(frame.data) {
            return k;
        }
    }
    host_key_decoded(frame)
}

/// [`host_key`] through the decoder alone, for every frame (the fast path
/// must agree with it wherever it answers: a test holds it to that).
pub fn host_key_decoded(frame: &Frame<'_>) -> HostKey {
    if matches!(frame.link, LinkType::RADIOTAP | LinkType::IEEE802_11) {
        return HostKey::First;
    }
    let Ok(p) = decode::decode(frame) else {
        return HostKey::First;
    };
    let (src, dst) = (p.src_mac.map(|m| m.0), p.dst_mac.map(|m| m.0));
    let Some(ip) = p.ip else {
        return link_only(src, dst);
    };
    let (sport, dport) = match p.l4 {
        L4::Tcp(t) => (t.sport, t.dport),
        L4::Udp { sport, dport } => {
            if let Some(k) = dhcp_client(sport, dport, p.payload) {
                return k;
            }
            (sport, dport)
        }
        L4::Icmp(icmp) => match icmp.quoted {
            // The error goes where the datagram it quotes went.
            Some(q) => return pick(end(q.src, q.sport), end(q.dst, q.dport)),
            None => (0, 0),
        },
        L4::Other(_) | L4::None => (0, 0),
    };
    pick(end(ip.src, sport), end(ip.dst, dport))
}

/// The worker (of `n`) that analyses a frame.
pub fn shard_of(frame: &Frame<'_>, n: usize) -> usize {
    if n <= 1 {
        return 0;
    }
    let key = host_key(frame);
    if key == HostKey::First {
        return 0;
    }
    let h = foldhash::fast::FixedState::with_seed(0x5eed).hash_one(key);
    // Multiply-shift: an even spread without a division.
    ((h as u128 * n as u128) >> 64) as usize
}

/// One frame's header in a [`Batch`]; its bytes are `data[at..at + len]`.
#[derive(Debug, Clone, Copy)]
struct Rec {
    file: u16,
    link: LinkType,
    number: u64,
    ts: Nanos,
    /// The newest capture time of any frame routed up to this one: the
    /// worker is told it before the frame, as one engine would have seen
    /// every frame before it.
    now: Nanos,
    orig_len: u32,
    at: u32,
    len: u32,
}

/// Bytes a batch holds before it is sent.
pub const BATCH_BYTES: usize = 256 * 1024;
/// Frames a batch holds before it is sent.
pub const BATCH_FRAMES: usize = 1024;

/// Frames copied for one worker: one arena of bytes and their headers,
/// reused from batch to batch. `now` is the capture time the sender had
/// reached when it sent the batch (a batch may be empty: a clock tick).
#[derive(Debug, Default)]
pub struct Batch {
    data: Vec<u8>,
    recs: Vec<Rec>,
    pub now: Nanos,
}

impl Batch {
    pub fn new() -> Batch {
        Batch {
            data: Vec::with_capacity(BATCH_BYTES),
            recs: Vec::with_capacity(BATCH_FRAMES),
            now: Nanos::MIN,
        }
    }

    /// Copies the frame in. Returns false (and copies nothing) when it
    /// does not fit; an empty batch takes any frame.
    pub fn push(&mut self, f: &Frame<'_>) -> bool {
        self.push_at(f, f.ts)
    }

    /// [`Batch::push`], with the capture time reached so far.
    pub fn push_at(&mut self, f: &Frame<'_>, now: Nanos) -> bool {
        if !self.recs.is_empty()
            && (self.recs.len() >= BATCH_FRAMES || self.data.len() + f.data.len() > BATCH_BYTES)
        {
            return false;
        }
        self.recs.push(Rec {
            file: f.file,
            link: f.link,
            number: f.number,
            ts: f.ts,
            now,
            orig_len: f.orig_len,
            at: self.data.len() as u32,
            len: f.data.len() as u32,
        });
        self.data.extend_from_slice(f.data);
        true
    }

    pub fn len(&self) -> usize {
        self.recs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    pub fn clear(&mut self) {
        self.data.clear();
        self.recs.clear();
        self.now = Nanos::MIN;
    }

    /// The frames, borrowing the arena.
    pub fn frames(&self) -> impl Iterator<Item = Frame<'_>> {
        self.recs.iter().map(|r| Frame {
            file: r.file,
            number: r.number,
            ts: r.ts,
            link: r.link,
            orig_len: r.orig_len,
            data: &self.data[r.at as usize..(r.at + r.len) as usize],
        })
    }
}

/// One shard's analysis: an engine and the capture time it was told.
pub struct Worker {
    pub engine: Engine,
    now: Nanos,
}

impl Worker {
    pub fn new(cfg: EngineConfig) -> Worker {
        let mut engine = Engine::new(cfg);
        engine.inventory.shard = true;
        Worker {
            engine,
            now: Nanos::MIN,
        }
    }

    /// One frame, in place (no copy).
    pub fn frame(&mut self, f: &Frame<'_>) {
        self.engine.process(f);
    }

    /// Capture time has reached `now` on some shard.
    pub fn advance(&mut self, now: Nanos) {
        if now > self.now {
            self.now = now;
            self.engine.advance(now);
        }
    }

    pub fn batch(&mut self, b: &Batch) {
        for (r, f) in b.recs.iter().zip(b.frames()) {
            self.advance(r.now);
            self.engine.process(&f);
        }
        self.advance(b.now);
    }

    /// The state now, open flows summarised (for a running capture).
    pub fn tally(&self) -> Tally {
        self.engine.tally()
    }

    /// Ends the run.
    pub fn finish(self) -> Tally {
        self.engine.into_tally()
    }
}

/// What a worker thread is sent.
pub enum Msg {
    /// Frames to analyse; the batch goes back on its sender when done.
    Batch(Batch, Option<SyncSender<Batch>>),
    /// Reply with the state as it stands.
    Tally(Sender<Tally>),
}

/// A worker thread's loop: until every sender has gone, then the final
/// state.
pub fn work(cfg: EngineConfig, rx: Receiver<Msg>) -> Tally {
    let mut w = Worker::new(cfg);
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Batch(mut b, home) => {
                w.batch(&b);
                if let Some(home) = home {
                    b.clear();
                    let _ = home.try_send(b);
                }
            }
            Msg::Tally(reply) => {
                let _ = reply.send(w.tally());
            }
        }
    }
    w.finish()
}

/// The capture side of the hand-off: routes each frame to its worker's
/// current batch and sends full batches. Batches come back from the
/// workers to be reused, so in steady state nothing is allocated.
pub struct Router {
    workers: Vec<SyncSender<Msg>>,
    open: Vec<Batch>,
    pool_tx: SyncSender<Batch>,
    pool_rx: Receiver<Batch>,
    now: Nanos,
    /// Capture time each worker was last sent.
    told: Vec<Nanos>,
}

impl Router {
    pub fn new(workers: Vec<SyncSender<Msg>>) -> Router {
        let n = workers.len();
        let (pool_tx, pool_rx) = std::sync::mpsc::sync_channel(4 * n + 4);
        Router {
            open: (0..n).map(|_| Batch::new()).collect(),
            workers,
            pool_tx,
            pool_rx,
            now: Nanos::MIN,
            told: vec![Nanos::MIN; n],
        }
    }

    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// Copies the frame into its worker's batch, sending the batch first
    /// when it is full. Blocks while that worker's queue is full: the
    /// capture falls behind, and libpcap's drop counter says so.
    pub fn route(&mut self, f: &Frame<'_>) -> Result<(), Gone> {
        self.now = self.now.max(f.ts);
        let i = shard_of(f, self.workers.len());
        if !self.open[i].push_at(f, self.now) {
            self.send(i)?;
            self.open[i].push_at(f, self.now);
        }
        Ok(())
    }

    fn fresh(&mut self) -> Batch {
        self.pool_rx.try_recv().unwrap_or_else(|_| Batch::new())
    }

    fn send(&mut self, i: usize) -> Result<(), Gone> {
        let fresh = self.fresh();
        let mut b = std::mem::replace(&mut self.open[i], fresh);
        b.now = self.now;
        self.told[i] = self.now;
        let home = Some(self.pool_tx.clone());
        match self.workers[i].try_send(Msg::Batch(b, home)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(m)) => self.workers[i].send(m).map_err(|_| Gone),
            Err(TrySendError::Disconnected(_)) => Err(Gone),
        }
    }

    /// Sends every batch holding frames, and a clock tick to every worker
    /// that has not been told the time for a second of capture time.
    pub fn flush(&mut self) -> Result<(), Gone> {
        for i in 0..self.workers.len() {
            if !self.open[i].is_empty() || self.now >= self.told[i].saturating_add(1_000_000_000) {
                self.send(i)?;
            }
        }
        Ok(())
    }

    /// Sends what is left and tells every worker the final time.
    pub fn close(mut self) -> Result<(), Gone> {
        for i in 0..self.workers.len() {
            self.send(i)?;
        }
        Ok(())
    }

    /// The newest capture time routed.
    pub fn now(&self) -> Nanos {
        self.now
    }
}

/// A worker thread has ended (it panicked): the capture cannot go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone;

/// The live path without libpcap: frames pushed here are routed, copied
/// and analysed by `n` worker threads exactly as a capture thread's are,
/// and [`Sharded::finish`] merges the workers' engines. For tests and
/// benchmarks.
pub struct Sharded {
    cfg: EngineConfig,
    router: Router,
    handles: Vec<std::thread::JoinHandle<Tally>>,
}

impl Sharded {
    pub fn new(cfg: EngineConfig, n: usize) -> Sharded {
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for i in 0..n.max(1) {
            let (tx, rx) = std::sync::mpsc::sync_channel(8);
            senders.push(tx);
            handles.push(
                std::thread::Builder::new()
                    .name(format!("shard-{i}"))
                    .spawn(move || work(cfg, rx))
                    .expect("spawn a worker thread"),
            );
        }
        Sharded {
            cfg,
            router: Router::new(senders),
            handles,
        }
    }

    pub fn push(&mut self, f: &Frame<'_>) {
        self.router.route(f).expect("worker threads run");
    }

    /// Ends the run: every worker finishes, and their states are merged.
    pub fn finish(self) -> Engine {
        let _ = self.router.close();
        let tallies = self
            .handles
            .into_iter()
            .map(|h| h.join().expect("worker thread"))
            .collect();
        Engine::from_tallies(self.cfg, tallies)
    }
}
