//! Decoding frames into packets: link layer, VLANs, IP, and the L4 header.
//!
//! Decoding is lax: a frame cut by the snap length still yields every header
//! it holds (real mirror-port captures often keep only 60 bytes), and a
//! damaged frame is an error value that the engine counts, never a panic.
//! Every layer is read straight from the frame's bytes by the project's own
//! lax slicer: link headers here and in `link`, VLAN/MACsec tags and IP in
//! `net`, the L4 header in [`l4`] (ports and flags from the first 14 bytes
//! of a cut TCP segment, and from the first fragment of a datagram).
//!
//! It gives the same packets as etherparse's `LaxSlicedPacket`, which
//! sliced these layers before: etherparse builds a general description of
//! the frame (every link extension, the transport slice, error details with
//! offsets) of which the decoder used a few fields. On the site mix that
//! slicing was 488 of the decoder's 932 instructions per packet; with this
//! slicer the whole decoder takes 315, and 177 since the common case
//! (Ethernet, at most one 802.1Q tag, plain IPv4, TCP or UDP) is decoded in
//! a straight line (`ipv4_fast`) before the walk. A test-only copy of the
//! etherparse-based decoder (`reference`) checks that the two agree on
//! every frame at hand and on random, mutated and generated ones
//! (`equivalence`).
//!
//! A [`Packet`] borrows the frame; nothing is copied.

#[cfg(test)]
mod equivalence;
pub mod l4;
mod link;
mod net;
#[cfg(test)]
mod reference;

use crate::capture::{Frame, LinkType};
pub use l4::{Icmp, Quoted, Tcp, L4};
use std::fmt;
use std::net::IpAddr;

/// A MAC address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Mac(pub [u8; 6]);

/// One word per address (the derived impl wrote the length and the six
/// bytes apart: every frame looks up two MACs).
impl std::hash::Hash for Mac {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let m = self.0;
        h.write_u64(u64::from_le_bytes([
            m[0], m[1], m[2], m[3], m[4], m[5], 0, 0,
        ]));
    }
}

impl Mac {
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }
    pub fn is_broadcast(&self) -> bool {
        self.0 == [0xff; 6]
    }
    /// A unicast address that can name one station.
    pub fn is_unicast(&self) -> bool {
        !self.is_multicast() && self.0 != [0; 6]
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Where a datagram sits in its fragment train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fragment {
    /// Not fragmented.
    Whole,
    /// The first fragment: its L4 header is decoded.
    First,
    /// A later fragment: no L4 header.
    Later,
}

/// The IP layer of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ip {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The L4 protocol number (after IPv6 extension headers).
    pub proto: u8,
    pub ttl: u8,
    pub fragment: Fragment,
}

/// A decoded frame. Fields a frame does not carry are `None`.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    pub src_mac: Option<Mac>,
    pub dst_mac: Option<Mac>,
    /// The outermost VLAN id, the next one in (QinQ's customer tag), and
    /// how many tags there were.
    pub vlan: Option<u16>,
    pub inner_vlan: Option<u16>,
    pub vlan_tags: u8,
    /// The EtherType of the network layer (0 where not known).
    pub ether_type: u16,
    pub ip: Option<Ip>,
    pub l4: L4,
    /// The L4 payload as captured (possibly cut short).
    pub payload: &'a [u8],
    /// The L4 payload's length on the wire (more than `payload.len()` when
    /// the snap length cut the frame).
    pub payload_len: u32,
    /// Header bytes of L4 the snap length cut off (internal).
    l4_short: u32,
    /// For 802.11 link types: the 802.11 frame (radiotap header included
    /// when the link type is radiotap).
    pub wifi: Option<&'a [u8]>,
}

impl<'a> Packet<'a> {
    /// A packet with nothing decoded, for [`decode_into`].
    pub fn empty() -> Self {
        Packet {
            src_mac: None,
            dst_mac: None,
            vlan: None,
            inner_vlan: None,
            vlan_tags: 0,
            ether_type: 0,
            ip: None,
            l4: L4::None,
            payload: &[],
            payload_len: 0,
            l4_short: 0,
            wifi: None,
        }
    }
}

/// Why a frame could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The link type is not one the decoder knows.
    UnsupportedLink(u32),
    /// The frame is shorter than its link-layer header.
    ShortLink,
    /// The IP header is damaged or cut off.
    BadIp,
    /// A loopback frame names an address family that is not IP.
    UnknownFamily(u32),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnsupportedLink(l) => write!(f, "unsupported link type {l}"),
            DecodeError::ShortLink => f.write_str("frame shorter than its link-layer header"),
            DecodeError::BadIp => f.write_str("damaged or cut-off IP header"),
            DecodeError::UnknownFamily(a) => write!(f, "loopback address family {a}"),
        }
    }
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// Decodes one frame.
pub fn decode<'a>(frame: &Frame<'a>) -> Result<Packet<'a>, DecodeError> {
    let mut p = Packet::empty();
    decode_into(frame, &mut p)?;
    Ok(p)
}

/// [`decode`] into a packet the caller holds, which must be
/// [`Packet::empty`]: the per-packet path decodes in place, as the packet
/// is large enough (the addresses of two datagrams) that returning it cost
/// two copies a frame.
///
/// The common frame ([`ipv4_fast`] behind Ethernet) is decoded inline at
/// the caller; the rest goes through [`decode_walk`]. As one call per
/// frame the decoder spent about 17 instructions a frame entering and
/// leaving.
#[inline(always)]
pub fn decode_into<'a>(frame: &Frame<'a>, p: &mut Packet<'a>) -> Result<(), DecodeError> {
    if frame.link == LinkType::ETHERNET {
        if let Some((eth, payload)) = frame.data.split_first_chunk::<14>() {
            let ether_type = u16::from_be_bytes([eth[12], eth[13]]);
            if ipv4_fast(p, ether_type, payload) {
                set_macs(p, eth);
                set_payload_len(frame, p);
                return Ok(());
            }
        }
    }
    decode_walk(frame, p)
}

/// [`decode_into`] for every frame: the link layer, then the general walk.
#[inline(never)]
fn decode_walk<'a>(frame: &Frame<'a>, p: &mut Packet<'a>) -> Result<(), DecodeError> {
    // Filled in place layer by layer, for the same reason.
    decode_link(frame, p)?;
    set_payload_len(frame, p);
    Ok(())
}

/// The L4 payload's length on the wire, for TCP and UDP.
#[inline(always)]
fn set_payload_len(frame: &Frame<'_>, p: &mut Packet<'_>) {
    if matches!(p.l4, L4::Tcp(_) | L4::Udp { .. }) {
        let missing = frame.orig_len.saturating_sub(frame.data.len() as u32);
        p.payload_len = (p.payload.len() as u32).saturating_add(missing.saturating_sub(p.l4_short));
    }
}

/// An Ethernet header's addresses.
#[inline(always)]
fn set_macs(p: &mut Packet<'_>, eth: &[u8; 14]) {
    // An all-zero address names no station: loopback captures and
    // anonymised traces write it. Such frames are MAC-less.
    let (dst, src) = (Mac(net::bytes(eth, 0)), Mac(net::bytes(eth, 6)));
    p.dst_mac = Some(dst).filter(|m| m.0 != [0; 6]);
    p.src_mac = Some(src).filter(|m| m.0 != [0; 6]);
}

#[inline]
fn decode_link<'a>(frame: &Frame<'a>, p: &mut Packet<'a>) -> Result<(), DecodeError> {
    let data = frame.data;
    match frame.link {
        LinkType::ETHERNET => {
            let (eth, payload) = data
                .split_first_chunk::<14>()
                .ok_or(DecodeError::ShortLink)?;
            set_macs(p, eth);
            let ether_type = u16::from_be_bytes([eth[12], eth[13]]);
            // [`decode_into`] tried [`ipv4_fast`] already.
            from_ether_type(p, ether_type, payload)
        }
        LinkType::RAW | LinkType::RAW_12 | LinkType::RAW_14 | LinkType::IPV4 | LinkType::IPV6 => {
            from_ip(p, data)
        }
        LinkType::LINUX_SLL | LinkType::LINUX_SLL2 => {
            let l = link::linux_cooked(frame.link, data).ok_or(DecodeError::ShortLink)?;
            p.src_mac = l.src_mac;
            from_ether_type(p, l.ether_type, l.payload)
        }
        LinkType::NULL | LinkType::LOOP => {
            let (family, rest) = link::loopback(data).ok_or(DecodeError::ShortLink)?;
            match family {
                link::Family::Ipv4 | link::Family::Ipv6 => from_ip(p, rest),
                link::Family::Other(a) => Err(DecodeError::UnknownFamily(a)),
            }
        }
        LinkType::RADIOTAP | LinkType::IEEE802_11 => {
            p.wifi = Some(data);
            // An unprotected data frame (an open network) carries IP that
            // is decoded like a wired frame's.
            match link::wifi_data(frame.link, data) {
                Some(w) => {
                    p.src_mac = w.src_mac;
                    p.dst_mac = w.dst_mac;
                    from_ether_type(p, w.ether_type, w.payload)
                }
                None => Ok(()),
            }
        }
        other => Err(DecodeError::UnsupportedLink(other.0)),
    }
}

/// The frames that are most of any capture, decoded straight: IPv4 with
/// a 20-byte header, not fragmented, carrying TCP or UDP, untagged or
/// behind one 802.1Q tag. Returns false, with `p` untouched, for anything
/// else, which [`from_ether_type`] then walks; what this fills in is what
/// that walk gives for these frames (the equivalence tests hold both to
/// the reference decoder). The general walk took about 270 instructions a
/// packet, through calls that returned the IP and L4 layers by copy.
#[inline(always)]
fn ipv4_fast<'a>(p: &mut Packet<'a>, ether_type: u16, payload: &'a [u8]) -> bool {
    let (vlan, data) = match ether_type {
        ETHERTYPE_IPV4 => (None, payload),
        net::ETHERTYPE_VLAN => match payload.split_first_chunk::<4>() {
            Some((tag, rest)) if u16::from_be_bytes([tag[2], tag[3]]) == ETHERTYPE_IPV4 => {
                (Some(u16::from_be_bytes([tag[0], tag[1]]) & 0x0fff), rest)
            }
            _ => return false,
        },
        _ => return false,
    };
    let Some(h) = data.first_chunk::<20>() else {
        return false;
    };
    // Version 4, no options; neither more fragments nor an offset.
    if h[0] != 0x45 || u16::from_be_bytes([h[6], h[7]]) & 0x3fff != 0 {
        return false;
    }
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let end = if total < 20 || total > data.len() {
        data.len()
    } else {
        total
    };
    let Some(ip_payload) = data.get(20..end) else {
        return false;
    };
    let proto = h[9];
    // Each arm stores its own variant: one L4 value out of the match was
    // copied whole (48 bytes, the size of ICMP's quote) into the packet.
    let (rest, short) = match proto {
        l4::PROTO_TCP => {
            let (l4, rest, short) = l4::tcp(ip_payload);
            p.l4 = l4;
            (rest, short)
        }
        l4::PROTO_UDP => {
            let (l4, rest, short) = l4::udp(ip_payload);
            p.l4 = l4;
            (rest, short)
        }
        _ => return false,
    };
    if vlan.is_some() {
        p.vlan = vlan;
        p.vlan_tags = 1;
    }
    p.ether_type = ETHERTYPE_IPV4;
    p.ip = Some(Ip {
        src: IpAddr::V4(std::net::Ipv4Addr::from(net::bytes::<4>(h, 12))),
        dst: IpAddr::V4(std::net::Ipv4Addr::from(net::bytes::<4>(h, 16))),
        proto,
        ttl: h[8],
        fragment: Fragment::Whole,
    });
    p.payload = rest;
    p.l4_short = short as u32;
    true
}

/// The network layer behind a link header that named `ether_type`: VLAN
/// and MACsec tags, then IP. A frame that is not IP decodes without `ip`.
#[inline]
fn from_ether_type<'a>(
    p: &mut Packet<'a>,
    ether_type: u16,
    payload: &'a [u8],
) -> Result<(), DecodeError> {
    p.ether_type = ether_type;
    let Some((inner, payload)) = net::tags(p, ether_type, payload) else {
        return Ok(());
    };
    if !matches!(inner, ETHERTYPE_IPV4 | ETHERTYPE_IPV6) {
        return Ok(());
    }
    match net::ip(payload) {
        Some(s) => {
            with_ip(p, s);
            Ok(())
        }
        // An untagged frame that says IP but whose IP header is broken is
        // undecodable. Behind a tag the frame stays a decoded non-IP frame
        // with its tags, and `ether_type` stays the outer one (the tag's),
        // as the etherparse-based decoder had it.
        None if matches!(p.ether_type, ETHERTYPE_IPV4 | ETHERTYPE_IPV6) => Err(DecodeError::BadIp),
        None => Ok(()),
    }
}

/// A frame that starts with its IP header (raw IP, loopback).
#[inline]
fn from_ip<'a>(p: &mut Packet<'a>, data: &'a [u8]) -> Result<(), DecodeError> {
    let s = net::ip(data).ok_or(DecodeError::BadIp)?;
    with_ip(p, s);
    Ok(())
}

/// Fills in the IP layer and, unless the datagram is a later fragment,
/// the L4 header behind it.
#[inline]
fn with_ip<'a>(p: &mut Packet<'a>, s: net::IpSlice<'a>) {
    p.ether_type = if s.v6 { ETHERTYPE_IPV6 } else { ETHERTYPE_IPV4 };
    p.ip = Some(s.ip);
    if s.ip.fragment != Fragment::Later {
        let (l4, rest, short) = l4::decode(s.ip.proto, s.payload, s.v6);
        p.l4 = l4;
        p.payload = rest;
        p.l4_short = short as u32;
    }
}
