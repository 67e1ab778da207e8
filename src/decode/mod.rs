//! Decoding frames into packets: link layer, VLANs, IP, and the L4 header.
//!
//! Decoding is lax: a frame cut by the snap length still yields every header
//! it holds (real mirror-port captures often keep only 60 bytes), and a
//! damaged frame is an error value that the engine counts, never a panic.
//! Ethernet, VLAN and IP layers are sliced with etherparse's lax slicer. The
//! L4 header is read here, because etherparse's `TcpSlice` needs the whole
//! TCP header including options and skips fragments, while a sensor wants
//! ports and flags from the first 14 bytes of a cut segment and from the
//! first fragment of a datagram.
//!
//! A [`Packet`] borrows the frame; nothing is copied.

pub mod l4;
mod link;

use crate::capture::{Frame, LinkType};
use etherparse::{LaxNetSlice, LaxSlicedPacket};
pub use l4::{Icmp, Quoted, Tcp, L4};
use std::fmt;
use std::net::IpAddr;

/// A MAC address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Mac(pub [u8; 6]);

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
    fn empty() -> Self {
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
    let mut p = decode_link(frame)?;
    if matches!(p.l4, L4::Tcp(_) | L4::Udp { .. }) {
        let missing = frame.orig_len.saturating_sub(frame.data.len() as u32);
        p.payload_len = (p.payload.len() as u32).saturating_add(missing.saturating_sub(p.l4_short));
    }
    Ok(p)
}

fn decode_link<'a>(frame: &Frame<'a>) -> Result<Packet<'a>, DecodeError> {
    let data = frame.data;
    match frame.link {
        LinkType::ETHERNET => {
            let sliced =
                LaxSlicedPacket::from_ethernet(data).map_err(|_| DecodeError::ShortLink)?;
            let mut p = Packet::empty();
            if let Some(etherparse::LinkSlice::Ethernet2(eth)) = &sliced.link {
                // An all-zero address names no station: loopback captures
                // and anonymised traces write it. Such frames are MAC-less.
                p.src_mac = Some(Mac(eth.source())).filter(|m| m.0 != [0; 6]);
                p.dst_mac = Some(Mac(eth.destination())).filter(|m| m.0 != [0; 6]);
                p.ether_type = eth.ether_type().0;
            }
            from_sliced(p, &sliced)
        }
        LinkType::RAW | LinkType::RAW_12 | LinkType::RAW_14 | LinkType::IPV4 | LinkType::IPV6 => {
            from_ip(Packet::empty(), data)
        }
        LinkType::LINUX_SLL | LinkType::LINUX_SLL2 => {
            let l = link::linux_cooked(frame.link, data).ok_or(DecodeError::ShortLink)?;
            let mut p = Packet::empty();
            p.src_mac = l.src_mac;
            from_ether_type(p, l.ether_type, l.payload)
        }
        LinkType::NULL | LinkType::LOOP => {
            let (family, rest) = link::loopback(data).ok_or(DecodeError::ShortLink)?;
            match family {
                link::Family::Ipv4 | link::Family::Ipv6 => from_ip(Packet::empty(), rest),
                link::Family::Other(a) => Err(DecodeError::UnknownFamily(a)),
            }
        }
        LinkType::RADIOTAP | LinkType::IEEE802_11 => {
            let mut p = Packet::empty();
            p.wifi = Some(data);
            // An unprotected data frame (an open network) carries IP that
            // is decoded like a wired frame's.
            match link::wifi_data(frame.link, data) {
                Some(w) => {
                    p.src_mac = w.src_mac;
                    p.dst_mac = w.dst_mac;
                    from_ether_type(p, w.ether_type, w.payload)
                }
                None => Ok(p),
            }
        }
        other => Err(DecodeError::UnsupportedLink(other.0)),
    }
}

fn from_ether_type<'a>(
    mut p: Packet<'a>,
    ether_type: u16,
    payload: &'a [u8],
) -> Result<Packet<'a>, DecodeError> {
    p.ether_type = ether_type;
    let sliced = LaxSlicedPacket::from_ether_type(etherparse::EtherType(ether_type), payload);
    from_sliced(p, &sliced)
}

fn from_ip<'a>(p: Packet<'a>, data: &'a [u8]) -> Result<Packet<'a>, DecodeError> {
    let sliced = LaxSlicedPacket::from_ip(data).map_err(|_| DecodeError::BadIp)?;
    from_sliced(p, &sliced)
}

fn from_sliced<'a>(
    mut p: Packet<'a>,
    sliced: &LaxSlicedPacket<'a>,
) -> Result<Packet<'a>, DecodeError> {
    let vlans = sliced.vlan_ids();
    p.vlan_tags = vlans.len() as u8;
    p.vlan = vlans.first().map(|v| v.value());
    p.inner_vlan = vlans.get(1).map(|v| v.value());
    let (ip, payload) = match &sliced.net {
        Some(LaxNetSlice::Ipv4(v4)) => {
            p.ether_type = ETHERTYPE_IPV4;
            let h = v4.header();
            let pl = v4.payload();
            let offset = h.fragments_offset().value();
            let fragment = if !pl.fragmented {
                Fragment::Whole
            } else if offset == 0 {
                Fragment::First
            } else {
                Fragment::Later
            };
            let ip = Ip {
                src: IpAddr::V4(h.source_addr()),
                dst: IpAddr::V4(h.destination_addr()),
                proto: pl.ip_number.0,
                ttl: h.ttl(),
                fragment,
            };
            (ip, pl.payload)
        }
        Some(LaxNetSlice::Ipv6(v6)) => {
            p.ether_type = ETHERTYPE_IPV6;
            let h = v6.header();
            let pl = v6.payload();
            let fragment = if !pl.fragmented {
                Fragment::Whole
            } else if ipv6_first_fragment(v6.extensions()) {
                Fragment::First
            } else {
                Fragment::Later
            };
            let ip = Ip {
                src: IpAddr::V6(h.source_addr()),
                dst: IpAddr::V6(h.destination_addr()),
                proto: pl.ip_number.0,
                ttl: h.hop_limit(),
                fragment,
            };
            (ip, pl.payload)
        }
        Some(LaxNetSlice::Arp(_)) | None => {
            // A frame that said IP but whose IP header is broken.
            if matches!(p.ether_type, ETHERTYPE_IPV4 | ETHERTYPE_IPV6)
                && sliced.net.is_none()
                && sliced.stop_err.is_some()
            {
                return Err(DecodeError::BadIp);
            }
            return Ok(p);
        }
    };
    p.ip = Some(ip);
    if ip.fragment != Fragment::Later {
        let (l4, rest, short) = l4::decode(ip.proto, payload, ip.src.is_ipv6());
        p.l4 = l4;
        p.payload = rest;
        p.l4_short = short as u32;
    }
    Ok(p)
}

fn ipv6_first_fragment(exts: &etherparse::Ipv6ExtensionsSlice<'_>) -> bool {
    for ext in exts.clone().into_iter() {
        if let etherparse::Ipv6ExtensionSlice::Fragment(f) = ext {
            return f.fragment_offset().value() == 0;
        }
    }
    false
}
