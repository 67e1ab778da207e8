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
//! Cost: the router runs on one thread for every frame, ahead of all the
//! workers, so [`shard_of`] reads the common frame (Ethernet, IPv4 or IPv6,
//! TCP, UDP, ICMP echo) straight from its bytes into plain integers:
//! addresses as `u128`s (IPv4 in its IPv4-mapped form, judged local as the
//! IPv4 address it is, on either path), no `IpAddr` or [`HostKey`] built.
//! Everything else goes through the decoder ([`host_key_decoded`]), which
//! is the reference: tests hold the fast path to it on every capture and on
//! generated frames at its edges (tags, lengths, fragments, cut headers).
//!
//! Hand-off: a frame borrows libpcap's buffer only until the next read, so
//! handing it to another thread means copying its captured bytes, once,
//! into the worker's current [`Batch`] (an arena reused from batch to
//! batch: no allocation per packet, one `memcpy` of the captured length).
//! A frame read from a file is not copied: the batch holds a clone of the
//! file reader's buffer it lies in ([`Batch::push_in`]), and the reader
//! reads on into another buffer meanwhile. With one worker the capture
//! thread runs the engine itself and nothing is copied ([`Worker`] is used
//! in place).

use crate::capture::file::Chunk;
use crate::capture::{Frame, LinkType, Nanos};
use crate::decode::{self, L4};
use crate::engine::{Engine, EngineConfig, Tally};
use std::net::IpAddr;
use std::sync::mpsc::{Receiver, Sender, SyncSender, TrySendError};
use std::sync::Arc;

/// What a frame is keyed on: the host its worker is chosen by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostKey {
    Mac([u8; 6]),
    /// An IPv6 address; an IPv4 address in its IPv4-mapped form
    /// (`::ffff:a.b.c.d`), so the two spellings of one host are one key.
    Ip([u8; 16]),
    /// Worker 0: 802.11 frames, and frames nothing can be read from.
    First,
}

impl HostKey {
    /// The worker (of `n`) this key's frames go to: a fixed function of
    /// the key, spread evenly.
    #[inline(always)]
    pub fn worker(self, n: usize) -> usize {
        let a = match self {
            HostKey::First => return 0,
            HostKey::Ip(a) => u128::from_be_bytes(a),
            // A MAC's 48 bits under a tag no address in use starts with
            // (were one to, its host would share a worker with a MAC: no
            // harm, every split gives the same report).
            HostKey::Mac(m) => {
                let [a, b, c, d, e, f] = m;
                MAC_KEYS | u128::from(u64::from_be_bytes([0, 0, a, b, c, d, e, f]))
            }
        };
        spread(a, n)
    }
}

/// The top 64 bits of a MAC's number in [`HostKey::worker`].
const MAC_KEYS: u128 = 0x6d61_635f_6b65_7973 << 64;

/// The worker of `n` for the address number `a` ([`HostKey::worker`]): a
/// folded multiply (the 128-bit product of the two halves, each mixed with
/// a constant, its halves XORed), so every bit of the address moves the
/// high bits, then a multiply-shift of those by `n`, an even spread without
/// a division. About 10 instructions, where hashing the key's bytes with
/// foldhash's `Hasher` took about 40 a frame.
#[inline(always)]
fn spread(a: u128, n: usize) -> usize {
    let p = u128::from(a as u64 ^ 0x243f_6a88_85a3_08d3)
        * u128::from((a >> 64) as u64 ^ 0x1319_8a2e_0370_7344);
    let h = p as u64 ^ (p >> 64) as u64;
    ((u128::from(h) * n as u128) >> 64) as usize
}

/// An IPv4 address as the number of its IPv4-mapped IPv6 form. The fast
/// path works on addresses as `u128`s (big-endian, so they order as the
/// bytes do): no `IpAddr` to build, one compare for two addresses.
#[inline(always)]
fn mapped(v4: u32) -> u128 {
    0xffff_0000_0000 | u128::from(v4)
}

/// How the first octet of an IPv4 address decides [`local`]: `NO`, `YES`,
/// or `ASK` the second octet.
const NO: u8 = 0;
const YES: u8 = 1;
const ASK: u8 = 2;
const V4_FIRST: [u8; 256] = {
    let mut t = [NO; 256];
    // "This network" (RFC 1122, as anonymised traces use), 10/8, loopback.
    t[0] = YES;
    t[10] = YES;
    t[127] = YES;
    // 100.64/10, 169.254/16, 172.16/12, 192.168/16.
    t[100] = ASK;
    t[169] = ASK;
    t[172] = ASK;
    t[192] = ASK;
    t
};

/// [`crate::device::is_local_scope`] on the number: private, link-local,
/// loopback, "this network" (0/8) and shared (100.64/10) IPv4; loopback,
/// unique-local (fc00::/7) and link-local (fe80::/10) IPv6. An IPv4-mapped
/// address is judged as the IPv4 address it maps (both spellings are one
/// key, so they must be one judgement). A test holds it to the original.
#[inline(always)]
fn local(a: u128) -> bool {
    if a >> 32 == 0xffff {
        local_v4(a as u32)
    } else {
        local_v6(a)
    }
}

/// [`local`] of an IPv4 address.
#[inline(always)]
fn local_v4(v4: u32) -> bool {
    match V4_FIRST[(v4 >> 24) as usize] {
        NO => false,
        YES => true,
        _ => match v4 >> 16 {
            0xa9fe | 0xc0a8 => true,
            s => s >> 4 == 0xac1 || s >> 6 == 0x191,
        },
    }
}

/// [`local`] of an IPv6 address that is not IPv4-mapped.
#[inline(always)]
fn local_v6(a: u128) -> bool {
    a == 1 || a >> 121 == 0x7e || a >> 118 == 0x3fa
}

/// The client side of the unordered pair {(a, a_port), (b, b_port)}: the
/// local-scope host when only one is; else the side on an ephemeral port
/// facing a service port; else the higher port; else the lower address.
fn pick(a: u128, a_port: u16, b: u128, b_port: u16) -> u128 {
    choose((a, local(a)), a_port, (b, local(b)), b_port)
}

/// [`pick`], each address with its [`local`] already known.
#[inline(always)]
fn choose(a: (u128, bool), a_port: u16, b: (u128, bool), b_port: u16) -> u128 {
    use crate::flow::is_service_port as svc;
    let a_first = if a.1 != b.1 {
        a.1
    } else {
        let (sa, sb) = (svc(a_port), svc(b_port));
        if sa != sb {
            sb
        } else {
            a_port > b_port || (a_port == b_port && a.0 <= b.0)
        }
    };
    if a_first {
        a.0
    } else {
        b.0
    }
}

/// An address as the fast path's number ([`mapped`] for IPv4).
fn ip_num(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => mapped(a.to_bits()),
        IpAddr::V6(a) => a.to_bits(),
    }
}

/// DHCP goes to worker 0, all of it: every client's DISCOVER is the same
/// broadcast 5-tuple (0.0.0.0:68 to 255.255.255.255:67), one flow to a
/// single engine, so it must be one flow to the shards too; and an OFFER
/// or ACK meets its DISCOVER there.
fn is_dhcp(sport: u16, dport: u16) -> bool {
    matches!(sport, 67 | 68) || matches!(dport, 67 | 68)
}

fn unicast(m: [u8; 6]) -> Option<[u8; 6]> {
    (m[0] & 1 == 0 && m != [0; 6]).then_some(m)
}

/// Frames without IP: by the sender's MAC (a device's own ARP, EAPOL), else
/// by the receiver's.
fn link_only(src: Option<[u8; 6]>, dst: Option<[u8; 6]>) -> HostKey {
    match (src.and_then(unicast), dst.and_then(unicast)) {
        (Some(m), _) | (None, Some(m)) => HostKey::Mac(m),
        _ => HostKey::First,
    }
}

/// The `N` bytes at `at`, if the frame holds them.
#[inline(always)]
fn bytes<const N: usize>(d: &[u8], at: usize) -> Option<&[u8; N]> {
    d.get(at..)?.first_chunk()
}

#[inline(always)]
fn be16(d: &[u8], at: usize) -> Option<u16> {
    bytes::<2>(d, at).map(|b| u16::from_be_bytes(*b))
}

/// An Ethernet frame's EtherType and where its payload starts, past up to
/// three VLAN tags (as many as the decoder takes: a frame with more is not
/// IP to it).
#[inline(always)]
fn ether(d: &[u8]) -> Option<(u16, usize)> {
    let et = be16(d, 12)?;
    if et == 0x0800 || et == 0x86dd {
        return Some((et, 14));
    }
    tagged(d, et)
}

/// [`ether`] past VLAN tags (out of line: the untagged case is the one to
/// keep short).
#[inline(never)]
fn tagged(d: &[u8], et: u16) -> Option<(u16, usize)> {
    let vlan = |et| matches!(et, 0x8100 | 0x88a8 | 0x9100);
    let (mut et, mut at) = (et, 12);
    for _ in 0..3 {
        if !vlan(et) {
            break;
        }
        at += 4;
        et = be16(d, at)?;
    }
    (!vlan(et)).then_some((et, at + 2))
}

/// The common case read straight from the bytes, as the number of a
/// [`HostKey::Ip`]: Ethernet, up to three VLAN tags, IPv4 or IPv6 without
/// extension headers, TCP, UDP (not DHCP) or ICMP echo. Nothing but
/// numbers, so the router's hot path builds no enum. `None` leaves the
/// frame to [`link_key`] and [`decode::decode`], which give the same
/// answer for every frame this reads.
#[inline(always)]
fn fast_ip(d: &[u8]) -> Option<u128> {
    let (et, l3) = ether(d)?;
    // The L4 header is read within the IP payload as the decoder bounds
    // it: by the IP length where that is sane and captured, else by the
    // frame.
    let (s, t, proto, l4) = if et == 0x0800 {
        let h = bytes::<20>(d, l3)?;
        let ihl = if h[0] == 0x45 {
            20
        } else {
            let ihl = usize::from(h[0] & 0x0f) * 4;
            if h[0] >> 4 != 4 || ihl < 20 || d.len() < l3 + ihl {
                return None;
            }
            ihl
        };
        if u16::from_be_bytes([h[6], h[7]]) & 0x1fff != 0 {
            // A later fragment: no ports; the decoder agrees.
            return None;
        }
        let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
        let end = if total < ihl || total > d.len() - l3 {
            d.len()
        } else {
            l3 + total
        };
        let s = u32::from_be_bytes([h[12], h[13], h[14], h[15]]);
        let t = u32::from_be_bytes([h[16], h[17], h[18], h[19]]);
        let ends = ((mapped(s), local_v4(s)), (mapped(t), local_v4(t)));
        (ends.0, ends.1, h[9], d.get(l3 + ihl..end)?)
    } else if et == 0x86dd {
        let h = bytes::<40>(d, l3)?;
        if h[0] >> 4 != 6 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([h[4], h[5]]));
        let rest = d.get(l3 + 40..)?;
        let l4 = if len == 0 {
            rest
        } else {
            rest.get(..len).unwrap_or(rest)
        };
        let s = u128::from_be_bytes(*bytes::<16>(h, 8)?);
        let t = u128::from_be_bytes(*bytes::<16>(h, 24)?);
        ((s, local(s)), (t, local(t)), h[6], l4)
    } else {
        return None;
    };
    let (sport, dport) = match proto {
        // The decoder takes a TCP header only with its first 14 bytes.
        6 | 17 if l4.len() >= if proto == 6 { 14 } else { 4 } => {
            let sport = u16::from_be_bytes([l4[0], l4[1]]);
            let dport = u16::from_be_bytes([l4[2], l4[3]]);
            if proto == 17 && is_dhcp(sport, dport) {
                return None;
            }
            (sport, dport)
        }
        // ICMP echo and other non-errors: no ports. Errors quote a flow and
        // go where it went: the decoder reads the quote.
        1 if matches!(l4.first()?, 0 | 8 | 13 | 14) => (0, 0),
        58 if *l4.first()? >= 128 => (0, 0),
        _ => return None,
    };
    Some(choose(s, sport, t, dport))
}

/// ARP, EAPOL and LLDP on Ethernet, read from the bytes.
fn link_key(d: &[u8]) -> Option<HostKey> {
    let (et, _) = ether(d)?;
    if !matches!(et, 0x0806 | 0x888e | 0x88cc) {
        return None;
    }
    let dst = bytes::<6>(d, 0).copied();
    let src = bytes::<6>(d, 6).copied();
    Some(link_only(src, dst))
}

/// The host a frame is about (see the module docs).
pub fn host_key(frame: &Frame<'_>) -> HostKey {
    if frame.link == LinkType::ETHERNET {
        if let Some(a) = fast_ip(frame.data) {
            return HostKey::Ip(a.to_be_bytes());
        }
        if let Some(k) = link_key(frame.data) {
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
            if is_dhcp(sport, dport) {
                return HostKey::First;
            }
            (sport, dport)
        }
        L4::Icmp(icmp) => match icmp.quoted {
            // The error goes where the datagram it quotes went.
            Some(q) => {
                let a = pick(ip_num(q.src), q.sport, ip_num(q.dst), q.dport);
                return HostKey::Ip(a.to_be_bytes());
            }
            None => (0, 0),
        },
        L4::Other(_) | L4::None => (0, 0),
    };
    HostKey::Ip(pick(ip_num(ip.src), sport, ip_num(ip.dst), dport).to_be_bytes())
}

/// The worker (of `n`) that analyses a frame: the common case straight
/// from the bytes, without building a [`HostKey`]; the rest through
/// [`host_key`]. This runs on the reader (or capture) thread for every
/// frame, so it is kept to plain integer work: about 100 instructions for
/// an untagged TCP/UDP frame.
#[inline(always)]
pub fn shard_of(frame: &Frame<'_>, n: usize) -> usize {
    if n <= 1 {
        return 0;
    }
    if frame.link == LinkType::ETHERNET {
        if let Some(a) = fast_ip(frame.data) {
            return spread(a, n);
        }
    }
    shard_of_other(frame, n)
}

/// [`shard_of`] of the frames the fast path leaves (out of line, so the
/// common case stays short).
#[inline(never)]
fn shard_of_other(frame: &Frame<'_>, n: usize) -> usize {
    host_key(frame).worker(n)
}

/// One frame's header in a [`Batch`]: where its bytes are (the batch's own
/// arena, or one of the reader's buffers it holds) and what the reader
/// knew of it. 48 bytes, written once per frame by the router.
#[derive(Debug, Clone, Copy)]
struct Rec {
    number: u64,
    ts: Nanos,
    /// The newest capture time of any frame routed up to this one: the
    /// worker is told it before the frame, as one engine would have seen
    /// every frame before it.
    now: Nanos,
    orig_len: u32,
    len: u32,
    /// Offset of the bytes in the arena or the buffer.
    off: u32,
    link: LinkType,
    file: u16,
    /// Index into [`Batch::chunks`], or [`ARENA`].
    chunk: u16,
}

/// [`Rec::chunk`] of a frame copied into the batch's arena.
const ARENA: u16 = u16::MAX;

/// Bytes a batch holds before it is sent ([`Batch::new`]; a batch made
/// with [`Batch::with_bytes`] holds its own number).
pub const BATCH_BYTES: usize = 256 * 1024;
/// Frames a batch holds before it is sent.
pub const BATCH_FRAMES: usize = 1024;
/// Reader buffers a batch holds before it is sent: each one held is a
/// buffer the reader cannot reuse, so a shard that gets a frame now and
/// then must not hold many.
const BATCH_CHUNKS: usize = 2;

/// Frames for one worker, reused from batch to batch: their headers, and
/// their bytes either copied into the batch's arena (a frame that borrows
/// libpcap's buffer only until the next read) or held where the reader
/// read them, by a clone of its buffer ([`Batch::push_in`]: no copy).
/// `now` is the capture time the sender had reached when it sent the
/// batch (a batch may be empty: a clock tick).
#[derive(Debug)]
pub struct Batch {
    data: Vec<u8>,
    chunks: Vec<Chunk>,
    recs: Vec<Rec>,
    /// Bytes of frames it holds, copied or not.
    held: usize,
    /// Bytes it holds before it is full.
    bytes: usize,
    pub now: Nanos,
}

impl Default for Batch {
    fn default() -> Batch {
        Batch::new()
    }
}

impl Batch {
    /// A batch of up to [`BATCH_BYTES`].
    pub fn new() -> Batch {
        Batch::with_bytes(BATCH_BYTES)
    }

    /// A batch that is full at `bytes` of frames (or [`BATCH_FRAMES`]
    /// frames). The smaller the batch, the likelier its frames are still
    /// in a cache when a worker reads them, and the more often threads
    /// hand batches over. The arena is only touched by copied frames.
    pub fn with_bytes(bytes: usize) -> Batch {
        Batch {
            data: Vec::with_capacity(bytes),
            chunks: Vec::with_capacity(BATCH_CHUNKS),
            recs: Vec::with_capacity(BATCH_FRAMES),
            held: 0,
            bytes,
            now: Nanos::MIN,
        }
    }

    /// Copies the frame in. Returns false (and copies nothing) when it
    /// does not fit; an empty batch takes any frame.
    pub fn push(&mut self, f: &Frame<'_>) -> bool {
        self.push_at(f, f.ts)
    }

    /// No room for a frame of `len` bytes (an empty batch has room for any).
    #[inline(always)]
    fn full(&self, len: usize) -> bool {
        let n = self.recs.len();
        n != 0 && (n >= BATCH_FRAMES || self.held + len > self.bytes)
    }

    #[inline(always)]
    fn rec(&mut self, f: &Frame<'_>, now: Nanos, chunk: u16, off: usize) {
        self.held += f.data.len();
        self.recs.push(Rec {
            number: f.number,
            ts: f.ts,
            now,
            orig_len: f.orig_len,
            len: f.data.len() as u32,
            off: off as u32,
            link: f.link,
            file: f.file,
            chunk,
        });
    }

    /// [`Batch::push`], with the capture time reached so far.
    #[inline]
    pub fn push_at(&mut self, f: &Frame<'_>, now: Nanos) -> bool {
        if self.full(f.data.len()) {
            return false;
        }
        let off = self.data.len();
        self.rec(f, now, ARENA, off);
        self.data.extend_from_slice(f.data);
        true
    }

    /// [`Batch::push_at`] without the copy: the frame's bytes lie in
    /// `chunk`, of which the batch keeps a clone. A frame that is not in
    /// `chunk` after all is copied.
    #[inline(always)]
    pub fn push_in(&mut self, f: &Frame<'_>, now: Nanos, chunk: &Chunk) -> bool {
        if self.full(f.data.len()) {
            return false;
        }
        // Where the frame's bytes start in the buffer, by their addresses.
        // Bytes that lie within the buffer's are its bytes (allocations do
        // not overlap); a frame from elsewhere is copied.
        let off = (f.data.as_ptr() as usize).wrapping_sub(chunk.as_ptr() as usize);
        let inside = off
            .checked_add(f.data.len())
            .is_some_and(|end| end <= chunk.len() && end <= u32::MAX as usize);
        if !inside {
            return self.copy_in(f, now);
        }
        let i = match self.chunks.last() {
            Some(c) if Arc::ptr_eq(c, chunk) => self.chunks.len() - 1,
            _ => match self.hold(chunk) {
                Some(i) => i,
                None => return false,
            },
        };
        self.rec(f, now, i as u16, off);
        true
    }

    /// [`Batch::push_at`] for a frame [`Batch::push_in`] was given in the
    /// wrong buffer (out of line: it does not happen).
    #[inline(never)]
    fn copy_in(&mut self, f: &Frame<'_>, now: Nanos) -> bool {
        self.push_at(f, now)
    }

    /// The index of `chunk` among the buffers held, holding it if there is
    /// room ([`BATCH_CHUNKS`]; an empty batch always has room).
    #[inline(never)]
    fn hold(&mut self, chunk: &Chunk) -> Option<usize> {
        if let Some(i) = self.chunks.iter().position(|c| Arc::ptr_eq(c, chunk)) {
            return Some(i);
        }
        if self.chunks.len() >= BATCH_CHUNKS && !self.recs.is_empty() {
            return None;
        }
        self.chunks.push(Arc::clone(chunk));
        Some(self.chunks.len() - 1)
    }

    pub fn len(&self) -> usize {
        self.recs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    /// Empties the batch, letting go of the reader's buffers it held.
    pub fn clear(&mut self) {
        self.data.clear();
        self.chunks.clear();
        self.recs.clear();
        self.held = 0;
        self.now = Nanos::MIN;
    }

    /// The frames, borrowing the arena and the buffers.
    pub fn frames(&self) -> impl Iterator<Item = Frame<'_>> {
        self.timed().map(|(_, f)| f)
    }

    /// The frames, each with the capture time reached when it was routed.
    fn timed(&self) -> impl Iterator<Item = (Nanos, Frame<'_>)> {
        self.recs.iter().map(move |r| {
            let from: &[u8] = match self.chunks.get(usize::from(r.chunk)) {
                Some(c) => c,
                None => &self.data,
            };
            let (off, len) = (r.off as usize, r.len as usize);
            let f = Frame {
                file: r.file,
                number: r.number,
                ts: r.ts,
                link: r.link,
                orig_len: r.orig_len,
                data: from.get(off..off + len).unwrap_or_default(),
            };
            (r.now, f)
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
        for (now, f) in b.timed() {
            // A frame routed at its own time brings that time itself
            // ([`Engine::process`] advances to it first): only a frame
            // that came after a later one on another shard needs telling.
            if now != f.ts {
                self.advance(now);
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// The number form judges every address as the decoder's `IpAddr`
    /// form does: every IPv4 /16 (all the ranges are /16 or wider), both
    /// ends of each, and IPv6 by its first 16 bits, plus the odd ones.
    #[test]
    fn local_is_is_local_scope() {
        for hi in 0..=0xffffu32 {
            for lo in [0, 1, 0xfffe, 0xffff] {
                let v4 = Ipv4Addr::from(hi << 16 | lo);
                let want = crate::device::is_local_scope(&IpAddr::V4(v4));
                assert_eq!(local(mapped(v4.to_bits())), want, "{v4}");
                assert_eq!(local_v4(v4.to_bits()), want, "{v4}");
            }
            for rest in [0u128, 1, u128::MAX >> 16] {
                let v6 = Ipv6Addr::from(u128::from(hi) << 112 | rest);
                if v6.to_ipv4_mapped().is_some() {
                    continue;
                }
                let want = crate::device::is_local_scope(&IpAddr::V6(v6));
                assert_eq!(local(v6.to_bits()), want, "{v6}");
            }
        }
        for v6 in [Ipv6Addr::LOCALHOST, Ipv6Addr::UNSPECIFIED] {
            let want = crate::device::is_local_scope(&IpAddr::V6(v6));
            assert_eq!(local(v6.to_bits()), want, "{v6}");
        }
        // A v4-mapped address is judged as the IPv4 address it maps.
        assert!(local(ip_num("::ffff:10.1.2.3".parse().unwrap())));
        assert!(!local(ip_num("::ffff:8.8.8.8".parse().unwrap())));
    }

    #[test]
    fn pick_takes_the_client_side() {
        let ip = |s: &str| ip_num(s.parse().unwrap());
        let (lan, wan) = (ip("192.168.1.20"), ip("8.8.8.8"));
        // The local host, whatever the ports.
        assert_eq!(pick(wan, 50000, lan, 53), lan);
        assert_eq!(pick(lan, 443, wan, 50000), lan);
        // Both local: the ephemeral port facing a service port.
        let (a, b) = (ip("10.0.0.1"), ip("10.0.0.2"));
        assert_eq!(pick(a, 53, b, 40000), b);
        // Both services: the higher port, then the lower address.
        assert_eq!(pick(a, 80, b, 443), b);
        assert_eq!(pick(b, 123, a, 123), a);
        assert_eq!(pick(a, 123, b, 123), a);
    }

    const MACS: [[u8; 6]; 5] = [
        [0; 6],
        [0xff; 6],
        [0x02, 0, 0, 0, 0, 0x01],
        [0x00, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f],
        [0x01, 0x00, 0x5e, 0, 0, 0xfb],
    ];
    const V4: [[u8; 4]; 11] = [
        [10, 0, 0, 1],
        [192, 168, 1, 2],
        [8, 8, 8, 8],
        [100, 64, 0, 1],
        [100, 128, 0, 1],
        [172, 16, 5, 4],
        [172, 32, 0, 1],
        [169, 254, 1, 1],
        [127, 0, 0, 1],
        [0, 0, 0, 0],
        [224, 0, 0, 251],
    ];
    const V6: [&str; 8] = [
        "fe80::1",
        "fd00::1",
        "2001:db8::1",
        "::1",
        "::",
        "::ffff:10.0.0.1",
        "::ffff:8.8.8.8",
        "ff02::1",
    ];
    const PORTS: [u16; 12] = [53, 67, 68, 123, 443, 80, 1883, 5353, 40000, 50000, 65535, 0];

    /// Frames near the fast path's edges: tags up to one more than the
    /// decoder takes, IP headers with odd versions, lengths, fragments and
    /// protocols, L4 headers of every length, and a cut anywhere.
    fn frames() -> impl Strategy<Value = Vec<u8>> {
        let link = (0..5usize, 0..5usize, 0..6usize, any::<u8>());
        let et = prop::sample::select(vec![
            0x0800u16, 0x86dd, 0x0806, 0x888e, 0x88cc, 0x88e5, 0x8863,
        ]);
        let v4 = (
            prop::sample::select(vec![0x45u8, 0x46, 0x4f, 0x44, 0x65, 0x35]),
            prop::sample::select(vec![
                None,
                Some(0u16),
                Some(20),
                Some(22),
                Some(24),
                Some(30),
                Some(33),
                Some(40),
                Some(65535),
            ]),
            prop::sample::select(vec![0u16, 0x4000, 0x2000, 0x0001, 0x2001]),
            0..V4.len(),
            0..V4.len(),
        );
        let v6 = (
            prop::sample::select(vec![0x60u8, 0x40, 0x6f]),
            prop::sample::select(vec![
                None,
                Some(0u16),
                Some(1),
                Some(4),
                Some(13),
                Some(14),
                Some(20),
            ]),
            0..V6.len(),
            0..V6.len(),
        );
        let l4 = (
            prop::sample::select(vec![6u8, 17, 1, 58, 51, 0, 44, 47]),
            0..PORTS.len(),
            0..PORTS.len(),
            prop::sample::select(vec![0u8, 3, 8, 11, 13, 14, 128, 129, 1, 135]),
            prop::collection::vec(any::<u8>(), 0..40),
            prop::option::of(0..120usize),
        );
        (link, et, v4, v6, l4).prop_map(|(link, et, v4, v6, l4)| {
            let (dst, src, tags, tag_kind) = link;
            let mut d = Vec::new();
            d.extend_from_slice(&MACS[dst]);
            d.extend_from_slice(&MACS[src]);
            let tpid = [0x8100u16, 0x88a8, 0x9100][usize::from(tag_kind) % 3];
            for i in 0..tags {
                d.extend_from_slice(&tpid.to_be_bytes());
                d.extend_from_slice(&[0, i as u8 + 1]);
            }
            d.extend_from_slice(&et.to_be_bytes());
            let (proto, sp, dp, icmp, tail, cut) = l4;
            let mut body = Vec::new();
            if matches!(proto, 1 | 58) {
                body.extend_from_slice(&[icmp, 0, 0, 0, 0, 0, 0, 0]);
            } else {
                body.extend_from_slice(&PORTS[sp].to_be_bytes());
                body.extend_from_slice(&PORTS[dp].to_be_bytes());
            }
            body.extend_from_slice(&tail);
            if et == 0x86dd {
                let (first, len, s, t) = v6;
                let len = len.unwrap_or(body.len() as u16);
                d.extend_from_slice(&[first, 0, 0, 0]);
                d.extend_from_slice(&len.to_be_bytes());
                d.extend_from_slice(&[proto, 64]);
                d.extend_from_slice(&V6[s].parse::<Ipv6Addr>().unwrap().octets());
                d.extend_from_slice(&V6[t].parse::<Ipv6Addr>().unwrap().octets());
            } else {
                let (first, total, frag, s, t) = v4;
                let ihl = usize::from(first & 0x0f) * 4;
                let total = total.unwrap_or((ihl.max(20) + body.len()) as u16);
                d.extend_from_slice(&[first, 0]);
                d.extend_from_slice(&total.to_be_bytes());
                d.extend_from_slice(&[0, 0]);
                d.extend_from_slice(&frag.to_be_bytes());
                d.extend_from_slice(&[64, proto, 0, 0]);
                d.extend_from_slice(&V4[s]);
                d.extend_from_slice(&V4[t]);
                d.resize(d.len() + ihl.saturating_sub(20), 0);
            }
            d.extend_from_slice(&body);
            if let Some(c) = cut {
                d.truncate(c);
            }
            d
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// The fast path reads what the decoder reads, wherever it answers;
        /// and the router's worker is the key's.
        #[test]
        fn the_fast_key_is_the_decoders(d in frames()) {
            let f = Frame {
                file: 0,
                number: 1,
                ts: 0,
                link: LinkType::ETHERNET,
                orig_len: d.len() as u32,
                data: &d,
            };
            let key = host_key_decoded(&f);
            prop_assert_eq!(host_key(&f), key);
            for n in [1, 2, 3, 5] {
                prop_assert_eq!(shard_of(&f, n), if n == 1 { 0 } else { key.worker(n) });
            }
        }

        /// Both directions of a conversation have one key.
        #[test]
        fn pick_is_symmetric(a in any::<u128>(), b in any::<u128>(), pa in any::<u16>(), pb in any::<u16>(), mapped_a in any::<bool>()) {
            let a = if mapped_a { mapped(a as u32) } else { a };
            prop_assert_eq!(pick(a, pa, b, pb), pick(b, pb, a, pa));
        }
    }

    fn frame_of(data: &[u8], number: u64) -> Frame<'_> {
        Frame {
            file: 0,
            number,
            ts: number as i64 * 1_000,
            link: LinkType::ETHERNET,
            orig_len: data.len() as u32 + 4,
            data,
        }
    }

    /// A frame that lies in the reader's buffer is held by a clone of the
    /// buffer, not copied; one from anywhere else is copied; either way the
    /// batch gives back the same frames, in order. Clearing lets go of the
    /// buffers.
    #[test]
    fn frames_in_a_buffer_are_held_not_copied() {
        let bytes: Vec<u8> = (0..4096u32).map(|i| (i * 7 + i / 251) as u8).collect();
        let chunk: Chunk = Arc::from(bytes);
        let elsewhere = [0xabu8; 100];
        let mut b = Batch::with_bytes(1 << 20);
        let want = [
            frame_of(&chunk[0..60], 1),
            frame_of(&elsewhere[10..70], 2),
            frame_of(&chunk[60..1500], 3),
            frame_of(&chunk[4000..4096], 4),
            frame_of(&chunk[4096..], 5),
        ];
        for f in &want {
            assert!(b.push_in(f, f.ts, &chunk));
        }
        assert_eq!(b.data.len(), 60, "only the frame from elsewhere is copied");
        assert_eq!(b.chunks.len(), 1);
        assert_eq!(Arc::strong_count(&chunk), 2);
        let got: Vec<_> = b
            .frames()
            .map(|f| (f.number, f.ts, f.orig_len, f.data.to_vec()))
            .collect();
        let wanted: Vec<_> = want
            .iter()
            .map(|f| (f.number, f.ts, f.orig_len, f.data.to_vec()))
            .collect();
        assert_eq!(got, wanted);
        b.clear();
        assert_eq!(Arc::strong_count(&chunk), 1);
        assert!(b.is_empty() && b.data.is_empty() && b.held == 0);
    }

    /// A batch holds at most [`BATCH_CHUNKS`] buffers (each one held is a
    /// buffer the reader cannot reuse), and is full by the bytes of its
    /// frames whether they were copied or not.
    #[test]
    fn a_batch_is_full_at_its_buffers_and_its_bytes() {
        let chunks: Vec<Chunk> = (0..=BATCH_CHUNKS)
            .map(|i| Arc::from(vec![i as u8; 1200]))
            .collect();
        let mut b = Batch::with_bytes(1000);
        for (i, c) in chunks.iter().enumerate().take(BATCH_CHUNKS) {
            assert!(b.push_in(&frame_of(&c[..100], i as u64), 0, c));
        }
        let last = &chunks[BATCH_CHUNKS];
        assert!(
            !b.push_in(&frame_of(&last[..100], 9), 0, last),
            "one buffer too many"
        );
        // A buffer it holds already still takes frames, up to the bytes.
        let first = &chunks[0];
        let room = 1000 - 100 * BATCH_CHUNKS;
        assert!(b.push_in(&frame_of(&first[100..100 + room], 10), 0, first));
        assert!(
            !b.push_in(&frame_of(&first[0..1], 11), 0, first),
            "full by its bytes"
        );
        // An empty batch takes any frame, however long.
        let mut e = Batch::with_bytes(10);
        assert!(e.push_in(&frame_of(&last[..], 12), 0, last));
        assert_eq!(e.frames().next().map(|f| f.data.len()), Some(1200));
    }

    /// Keys spread evenly over the workers, however alike: consecutive
    /// private IPv4 addresses, IPv6 addresses of one prefix, MACs of one
    /// vendor. Each worker gets at least 90% of its share.
    #[test]
    fn alike_keys_spread_evenly() {
        let v4 = (0..20_000u32)
            .map(|i| HostKey::Ip(Ipv4Addr::from(0xc0a8_0000 + i).to_ipv6_mapped().octets()));
        let v6 = (0..20_000u128)
            .map(|i| HostKey::Ip(((0x2001_0db8_u128 << 96) | (i * 0x1_0001)).to_be_bytes()));
        let macs = (0..20_000u32).map(|i| {
            let [_, a, b, c] = i.to_be_bytes();
            HostKey::Mac([0x00, 0x1b, 0x63, a, b, c])
        });
        let sets: [(&str, Vec<HostKey>); 3] = [
            ("ipv4", v4.collect()),
            ("ipv6", v6.collect()),
            ("mac", macs.collect()),
        ];
        for (what, keys) in &sets {
            for n in 2..=5 {
                let mut count = vec![0usize; n];
                for k in keys {
                    count[k.worker(n)] += 1;
                }
                let share = keys.len() / n;
                assert!(
                    count.iter().all(|&c| c * 10 >= share * 9),
                    "{what}, {n} workers: {count:?}"
                );
            }
        }
        assert_eq!(HostKey::First.worker(4), 0);
    }
}
