//! The decoder as it was built on etherparse's lax slicer, kept for tests
//! only: the project's own slicer ([`super::net`]) must give the same
//! [`Packet`] for every frame, and `super::equivalence` holds it to that.
//!
//! This is the code that ran until the slicer was written (the link layers
//! etherparse does not know still come from [`super::link`], shared by both).
//! It is a yardstick: do not improve it, or the comparison stops meaning
//! anything. Where it is wrong, the test says so next to the comparison.

use super::link;
use super::{DecodeError, Fragment, Icmp, Ip, Mac, Packet, Quoted, Tcp, L4};
use super::{ETHERTYPE_IPV4, ETHERTYPE_IPV6};
use crate::capture::{Frame, LinkType};
use crate::proto::cursor::Cursor;
use etherparse::{LaxNetSlice, LaxSlicedPacket};
use std::net::IpAddr;

const PROTO_ICMP: u8 = 1;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_ICMPV6: u8 = 58;

/// Decodes one frame, the etherparse way.
pub(super) fn decode<'a>(frame: &Frame<'a>) -> Result<Packet<'a>, DecodeError> {
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
        let (l4, rest, short) = l4_decode(ip.proto, payload, ip.src.is_ipv6());
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

/// The L4 reader as it was, over `proto::cursor::Cursor`.
fn l4_decode(proto: u8, data: &[u8], v6: bool) -> (L4, &[u8], usize) {
    let mut c = Cursor::new(data);
    match proto {
        PROTO_TCP => {
            let (Ok(sport), Ok(dport), Ok(seq), Ok(ack), Ok(off), Ok(flags)) =
                (c.u16(), c.u16(), c.u32(), c.u32(), c.u8(), c.u8())
            else {
                return (L4::None, &[], 0);
            };
            let hdr = (((off >> 4) as usize) * 4).max(20);
            let payload = data.get(hdr..).unwrap_or(&[]);
            let short = hdr.saturating_sub(data.len());
            let tcp = Tcp {
                sport,
                dport,
                seq,
                ack,
                flags,
            };
            (L4::Tcp(tcp), payload, short)
        }
        PROTO_UDP => {
            let (Ok(sport), Ok(dport)) = (c.u16(), c.u16()) else {
                return (L4::None, &[], 0);
            };
            let len = c.u16().map(|l| l as usize).unwrap_or(0);
            let end = if len >= 8 {
                len.min(data.len())
            } else {
                data.len()
            };
            let payload = data.get(8..end).unwrap_or(&[]);
            (
                L4::Udp { sport, dport },
                payload,
                8usize.saturating_sub(data.len()),
            )
        }
        PROTO_ICMP | PROTO_ICMPV6 => {
            let (Ok(kind), Ok(code)) = (c.u8(), c.u8()) else {
                return (L4::None, &[], 0);
            };
            let v6 = proto == PROTO_ICMPV6 || v6;
            let is_error = if v6 {
                (1..=4).contains(&kind)
            } else {
                matches!(kind, 3 | 4 | 5 | 11 | 12)
            };
            let quoted = if is_error {
                data.get(8..).and_then(quoted)
            } else {
                None
            };
            let payload = data.get(8..).unwrap_or(&[]);
            (
                L4::Icmp(Icmp {
                    v6,
                    kind,
                    code,
                    quoted,
                }),
                payload,
                0,
            )
        }
        other => (L4::Other(other), data, 0),
    }
}

fn quoted(data: &[u8]) -> Option<Quoted> {
    let sliced = LaxSlicedPacket::from_ip(data).ok()?;
    let (src, dst, proto, payload) = match &sliced.net {
        Some(LaxNetSlice::Ipv4(v4)) => {
            let h = v4.header();
            let pl = v4.payload();
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                pl.ip_number.0,
                pl.payload,
            )
        }
        Some(LaxNetSlice::Ipv6(v6)) => {
            let h = v6.header();
            let pl = v6.payload();
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                pl.ip_number.0,
                pl.payload,
            )
        }
        _ => return None,
    };
    let mut c = Cursor::new(payload);
    let (sport, dport) = match proto {
        PROTO_TCP | PROTO_UDP => (c.u16().unwrap_or(0), c.u16().unwrap_or(0)),
        _ => (0, 0),
    };
    Some(Quoted {
        src,
        dst,
        proto,
        sport,
        dport,
    })
}
