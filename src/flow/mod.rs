//! Flows: the bounded table of conversations and their state.
//!
//! A flow is keyed by its canonical 5-tuple (the lower endpoint first), so
//! both directions land on one entry; VLAN tags are not part of the key,
//! because mirror ports often tag one direction only. Each flow knows which
//! side initiated it, and keeps TCP handshake state (SYNs and their
//! retransmissions, SYN-ACK, RST, FIN, data each way), UDP request/reply
//! counts, and the ICMP errors that quote it.
//!
//! The table is bounded: flows idle longer than their protocol's timeout (in
//! capture time) expire, and when the table is full the least recently
//! active flow is evicted and counted. Ended flows are handed to a
//! [`FlowSink`], which is how checks learn about every flow exactly once.
//! Idle order is kept by intrusive lists over the slot vector: touching a
//! flow is O(1) and allocates nothing.

mod index;
pub mod reasm;
pub mod table;

pub use table::{FlowConfig, FlowStats, FlowTable};

use crate::capture::Nanos;
use crate::decode::Mac;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A frame, as a person finds it in Wireshark: file index and 1-based number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FrameRef {
    pub file: u16,
    pub number: u64,
}

/// An address and port as stored in a key: IPv4 is kept v4-mapped, and
/// the address as one big-endian number (its high and low words), so keys
/// are ordered as the addresses' bytes are, and compared and hashed as two
/// words. Two words rather than a `u128`: a `u128` is aligned to 16 bytes,
/// which padded each endpoint to 32 bytes and the flow key to 80.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    addr_hi: u64,
    addr_lo: u64,
    pub port: u16,
}

/// The v4-mapped prefix (`::ffff:0:0/96`) as [`Endpoint::addr`] holds it.
const V4_MAPPED: u128 = 0xffff << 32;

impl Endpoint {
    pub fn new(ip: IpAddr, port: u16) -> Self {
        let addr = match ip {
            IpAddr::V4(v4) => V4_MAPPED | u128::from(u32::from(v4)),
            IpAddr::V6(v6) => u128::from(v6),
        };
        Endpoint {
            addr_hi: (addr >> 64) as u64,
            addr_lo: addr as u64,
            port,
        }
    }

    /// The address as one big-endian number.
    pub fn addr(&self) -> u128 {
        u128::from(self.addr_hi) << 64 | u128::from(self.addr_lo)
    }

    pub fn ip(&self) -> IpAddr {
        let addr = self.addr();
        if addr >> 32 == V4_MAPPED >> 32 {
            IpAddr::V4(Ipv4Addr::from(addr as u32))
        } else {
            IpAddr::V6(Ipv6Addr::from(addr))
        }
    }
}

/// The canonical 5-tuple: `lo` sorts before `hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowKey {
    pub lo: Endpoint,
    pub hi: Endpoint,
    pub proto: u8,
}

/// Hashed as five words (the derived impl wrote each array with its
/// length and each field apart: every packet hashes one key).
impl std::hash::Hash for FlowKey {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u64(self.lo.addr_lo);
        h.write_u64(self.lo.addr_hi);
        h.write_u64(self.hi.addr_lo);
        h.write_u64(self.hi.addr_hi);
        h.write_u64(
            u64::from(self.lo.port) << 24 | u64::from(self.hi.port) << 8 | u64::from(self.proto),
        );
    }
}

impl FlowKey {
    /// The key for a packet from `a` to `b`, and whether `a` is `lo`.
    pub fn new(proto: u8, a: Endpoint, b: Endpoint) -> (FlowKey, bool) {
        // `a <= b`, spelled out: the derived order went through
        // `Option<Ordering>` for the `u128` and cost 30 instructions a packet.
        let (x, y) = (a.addr(), b.addr());
        let a_first = x < y || (x == y && a.port <= b.port);
        if a_first {
            (
                FlowKey {
                    lo: a,
                    hi: b,
                    proto,
                },
                true,
            )
        } else {
            (
                FlowKey {
                    lo: b,
                    hi: a,
                    proto,
                },
                false,
            )
        }
    }

    /// A symmetric hash of the key, the same for both directions: used to
    /// shard flows across workers.
    pub fn shard_hash(&self) -> u64 {
        use std::hash::BuildHasher;

        foldhash::fast::FixedState::with_seed(0x5eed).hash_one(self)
    }
}

/// Direction of a packet relative to the flow's initiator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// From the initiator (client) to the responder.
    Out = 0,
    /// From the responder back to the initiator.
    Back = 1,
}

/// TCP handshake and teardown state. Laid out in declaration order, what
/// every segment reads or writes first (see [`Flow`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C)]
pub struct TcpState {
    /// Payload bytes seen each way.
    pub data: [u64; 2],
    pub syn_ack: Option<FrameRef>,
    /// The handshake's final ACK, or any later client ACK after a SYN-ACK.
    pub established: bool,
    pub fin: [bool; 2],
    /// The first packet seen was not a SYN: the capture started mid-stream.
    pub midstream: bool,
    /// SYNs from the client (the first and its retransmissions).
    pub syns: u32,
    pub last_syn_ts: Nanos,
    pub first_syn: Option<FrameRef>,
    /// RSTs seen from each side: the first frame.
    pub rst: [Option<FrameRef>; 2],
}

impl TcpState {
    /// The connection worked: a handshake completed, or data flowed both
    /// ways (a SYN-ACK missing from the capture does not make it fail).
    pub fn worked(&self) -> bool {
        self.syn_ack.is_some() || self.established || (self.data[0] > 0 && self.data[1] > 0)
    }
}

/// An ICMP error that quotes this flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpError {
    pub v6: bool,
    pub kind: u8,
    pub code: u8,
    pub admin_prohibited: bool,
    pub frame: FrameRef,
    pub from: IpAddr,
    pub count: u32,
}

/// One conversation.
///
/// Laid out in declaration order (`repr(C)`), with what every packet of the
/// flow reads or writes first: the key its lookup compares, the client
/// endpoint that gives the direction, the time, counters, last frame, MACs
/// and the app state, then the TCP state every segment updates. With the
/// compiler's order those were spread over six cache lines of a 432-byte
/// flow, and the flow table is far larger than the caches: each line is a
/// miss.
#[derive(Debug)]
#[repr(C)]
pub struct Flow {
    pub key: FlowKey,
    /// The initiator's endpoint and MAC (the side that sent the SYN, or the
    /// first packet), and the responder's.
    pub client: Endpoint,
    pub last_ts: Nanos,
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    /// What the app-layer parsers learned, allocated only when they learn
    /// something.
    pub app: Option<Box<crate::app::FlowApp>>,
    pub last_frame: FrameRef,
    pub client_mac: Option<Mac>,
    pub server_mac: Option<Mac>,
    /// Both directions' stream parsers have finished with this flow, so its
    /// further segments need not open `app` (a bulk transfer's every
    /// segment reached for it, a cache miss each).
    pub streams_done: bool,
    pub tcp: TcpState,
    pub server: Endpoint,
    pub first_ts: Nanos,
    pub first_frame: FrameRef,
    pub vlan: Option<u16>,
    pub icmp_error: Option<IcmpError>,
}

impl Flow {
    pub fn proto(&self) -> u8 {
        self.key.proto
    }

    /// True when the responder was heard at all.
    pub fn answered(&self) -> bool {
        self.packets[Dir::Back as usize] > 0
    }

    pub fn client_ip(&self) -> IpAddr {
        self.client.ip()
    }

    pub fn server_ip(&self) -> IpAddr {
        self.server.ip()
    }

    pub fn direction_of(&self, src: &Endpoint) -> Dir {
        if *src == self.client {
            Dir::Out
        } else {
            Dir::Back
        }
    }
}

/// Why a flow left the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Idle past its timeout.
    Idle,
    /// Evicted to make room.
    Evicted,
    /// A new connection reused the 5-tuple (a SYN after the old one ended).
    Reused,
    /// The capture ended.
    CaptureEnd,
}

/// Receives every flow once, when it leaves the table.
pub trait FlowSink {
    fn flow_ended(&mut self, flow: &Flow, why: EndReason);
}

/// Ports of services that identify the responder when the handshake is
/// not in the capture.
pub fn is_service_port(port: u16) -> bool {
    port < 1024
        || matches!(
            port,
            1194 | 1433
                | 1883
                | 3306
                | 3389
                | 3478
                | 5000
                | 5060
                | 5222
                | 5228
                | 5246
                | 5247
                | 5353
                | 5432
                | 5683
                | 8000
                | 8080
                | 8090
                | 8443
                | 8883
                | 9999
                | 47808
        )
}

/// Addresses unspecified or of this host.
pub fn is_unspecified(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => *v4 == Ipv4Addr::UNSPECIFIED,
        IpAddr::V6(v6) => v6.is_unspecified(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v6(a: u128) -> IpAddr {
        IpAddr::V6(Ipv6Addr::from(a))
    }

    /// The size the README and `--max-flows` quote, and the layout the
    /// per-packet path counts on: what every packet touches in the first
    /// 160 bytes, a TCP segment's state in the next 44.
    #[test]
    fn a_flow_takes_392_bytes_with_the_hot_fields_first() {
        use std::mem::{offset_of, size_of};
        assert_eq!(size_of::<Flow>(), 392);
        assert_eq!(size_of::<FlowKey>(), 56);
        assert!(offset_of!(Flow, streams_done) < 160);
        assert_eq!(offset_of!(Flow, tcp), 160);
        assert!(offset_of!(Flow, tcp) + offset_of!(TcpState, midstream) < 204);
    }

    #[test]
    fn endpoints_keep_the_order_and_value_of_their_address() {
        let a = Endpoint::new(v6(1 << 64), 1);
        let b = Endpoint::new(v6((1 << 64) - 1), 9);
        assert!(b < a, "the high word decides first");
        assert_eq!(a.addr(), 1 << 64);
        assert_eq!(b.ip(), v6((1 << 64) - 1));
        let v4 = Endpoint::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 53);
        assert_eq!(v4.ip(), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
        assert!(FlowKey::new(17, a, b).0.lo == b && !FlowKey::new(17, a, b).1);
    }

    #[test]
    fn endpoints_give_back_their_address() {
        for ip in [
            IpAddr::V4(Ipv4Addr::new(192, 168, 1, 10)),
            IpAddr::V4(Ipv4Addr::new(0, 0, 0, 0)),
            IpAddr::V4(Ipv4Addr::new(255, 255, 255, 255)),
            v6(0x2001_0db8_0000_0000_0000_0000_0000_0001),
            v6(0xfe80_0000_0000_0000_0000_0000_0000_00ff),
            v6(0),
            v6(1),
        ] {
            assert_eq!(Endpoint::new(ip, 443).ip(), ip);
        }
        // A v4-mapped IPv6 address is the IPv4 host, as before.
        let mapped = v6(0xffff_c0a8_010a);
        assert_eq!(
            Endpoint::new(mapped, 1).ip(),
            IpAddr::V4(Ipv4Addr::new(192, 168, 1, 10))
        );
    }

    proptest! {
        /// Keys order endpoints as the v4-mapped address bytes and then the
        /// port, which decides each flow's `lo` and `hi`.
        #[test]
        fn endpoints_order_as_their_bytes(a in any::<u128>(), b in any::<u128>(), v4 in any::<bool>(), p in any::<u16>(), q in any::<u16>()) {
            let ip = |x: u128| if v4 { IpAddr::V4(Ipv4Addr::from(x as u32)) } else { v6(x) };
            let bytes = |x: u128| match ip(x) {
                IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
                IpAddr::V6(a) => a.octets(),
            };
            let (x, y) = (Endpoint::new(ip(a), p), Endpoint::new(ip(b), q));
            prop_assert_eq!(x.cmp(&y), (bytes(a), p).cmp(&(bytes(b), q)));
            prop_assert_eq!(x == y, (bytes(a), p) == (bytes(b), q));
            // The key puts the lower endpoint first, by that same order.
            let (key, x_first) = FlowKey::new(6, x, y);
            prop_assert_eq!(x_first, x <= y);
            prop_assert_eq!((key.lo, key.hi), if x <= y { (x, y) } else { (y, x) });
        }

        /// Equal addresses: the port decides.
        #[test]
        fn keys_order_ports_of_one_address(a in any::<u128>(), p in any::<u16>(), q in any::<u16>()) {
            let (x, y) = (Endpoint::new(v6(a), p), Endpoint::new(v6(a), q));
            prop_assert_eq!(FlowKey::new(17, x, y).1, p <= q);
        }
    }
}
