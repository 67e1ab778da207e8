//! The lax slicer between the link header and L4: VLAN and MACsec tags,
//! IPv4 (options, an authentication header, fragments) and IPv6 (extension
//! headers, fragments), read straight from the frame's bytes.
//!
//! Contract:
//! - nothing is copied or allocated: slices borrow the frame;
//! - nothing panics: every read is checked against the slice it reads, and
//!   lengths in headers only ever shorten a slice, never lengthen it;
//! - lax: a header's own length fields are trusted only as far as the
//!   capture holds bytes, so a frame cut by the snap length still yields
//!   every header it holds, and a header that is cut or damaged stops the
//!   walk with what came before it kept.
//!
//! The layers and their edge cases are the ones etherparse's
//! `LaxSlicedPacket` (0.21) gives, which the decoder used before; a test-only
//! copy of that decoder (`super::reference`) checks that both agree on every
//! frame of every capture at hand and on random and mutated frames.
//!
//! ```text
//! tags(0x8100, [00 2a 08 00 | 45 ...]) -> vlan 42, then (0x0800, [45 ...])
//! ip([45 00 00 54 ...])                -> IPv4, its payload cut to total length
//! ```

use super::{Fragment, Ip, Packet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub(super) const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
/// The pre-standard QinQ outer tag.
const ETHERTYPE_VLAN_9100: u16 = 0x9100;
const ETHERTYPE_MACSEC: u16 = 0x88e5;

/// How many VLAN and MACsec tags are walked; a frame with more stops at
/// the fourth (it then carries no IP for the decoder).
const MAX_TAGS: u8 = 3;

const IP_HOP_BY_HOP: u8 = 0;
const IP_ROUTING: u8 = 43;
const IP_FRAGMENT: u8 = 44;
const IP_AUTH: u8 = 51;
const IP_DEST_OPTIONS: u8 = 60;

/// `N` bytes of `h` from `at`: for headers whose length the caller has
/// checked, where it compiles to plain loads. Reads past the end give
/// zeros rather than a panic.
#[inline(always)]
pub(super) fn bytes<const N: usize>(h: &[u8], at: usize) -> [u8; N] {
    let mut out = [0; N];
    if let Some(s) = h.get(at..at.saturating_add(N)) {
        out.copy_from_slice(s);
    }
    out
}

#[inline(always)]
fn be16(h: &[u8], at: usize) -> u16 {
    u16::from_be_bytes(bytes(h, at))
}

/// Walks the VLAN (802.1Q, 802.1ad and 0x9100) and MACsec tags that start
/// with `ether_type`, recording the VLAN ids in `p`. Returns the EtherType
/// and payload behind the tags, or `None` where the walk stops: a tag cut
/// short, a fourth tag, a MACsec header that is damaged or whose payload is
/// encrypted or modified.
#[inline]
pub(super) fn tags<'a>(
    p: &mut Packet<'a>,
    mut ether_type: u16,
    mut data: &'a [u8],
) -> Option<(u16, &'a [u8])> {
    let mut tags = 0;
    loop {
        match ether_type {
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_VLAN_9100 => {
                if tags == MAX_TAGS {
                    return None;
                }
                let (tag, rest) = data.split_first_chunk::<4>()?;
                let id = u16::from_be_bytes([tag[0], tag[1]]) & 0x0fff;
                match p.vlan_tags {
                    0 => p.vlan = Some(id),
                    1 => p.inner_vlan = Some(id),
                    _ => {}
                }
                p.vlan_tags += 1;
                ether_type = u16::from_be_bytes([tag[2], tag[3]]);
                data = rest;
            }
            ETHERTYPE_MACSEC => {
                if tags == MAX_TAGS {
                    return None;
                }
                (ether_type, data) = macsec(data)?;
            }
            _ => return Some((ether_type, data)),
        }
        tags += 1;
    }
}

/// An IEEE 802.1AE (MACsec) SecTAG whose payload is neither encrypted nor
/// modified: the EtherType it carries and the payload behind it, cut to the
/// short length when one is set and the capture holds that much.
fn macsec(data: &[u8]) -> Option<(u16, &[u8])> {
    let h = data.first_chunk::<6>()?;
    let tci_an = h[0];
    if tci_an & 0x80 != 0 {
        return None; // version bit: not a SecTAG this knows
    }
    if tci_an & 0x0c != 0 {
        return None; // encrypted or modified: no EtherType to follow
    }
    let short_len = usize::from(h[1] & 0x3f);
    if short_len == 1 {
        return None; // too short to hold the EtherType
    }
    let sci = if tci_an & 0x20 != 0 { 8 } else { 0 };
    let hdr = 6 + sci + 2;
    let rest = data.get(hdr..)?;
    let ether_type = be16(data, hdr - 2);
    // A short length of 0 says the payload is 64 bytes or more.
    let payload = match short_len.checked_sub(2) {
        Some(n) => rest.get(..n).unwrap_or(rest),
        None => rest,
    };
    Some((ether_type, payload))
}

/// An IP header and the payload behind it (and behind the extension
/// headers this walks).
#[derive(Debug, Clone, Copy)]
pub(super) struct IpSlice<'a> {
    pub ip: Ip,
    pub v6: bool,
    /// The payload: cut to the header's length where the capture holds it
    /// all, else as captured.
    pub payload: &'a [u8],
}

/// Slices an IPv4 or IPv6 header (by its version nibble, whatever the
/// link said). `None` where there is no usable IP header: no bytes, another
/// version, an IPv4 header length under 20, or a header cut short.
#[inline]
pub(super) fn ip(data: &[u8]) -> Option<IpSlice<'_>> {
    match data.first()? >> 4 {
        4 => ipv4(data),
        6 => ipv6(data),
        _ => None,
    }
}

#[inline]
fn ipv4(data: &[u8]) -> Option<IpSlice<'_>> {
    let h = data.first_chunk::<20>()?;
    let header_len = usize::from(h[0] & 0x0f) * 4;
    if header_len < 20 {
        return None;
    }
    // The total length bounds the payload only where it is sane and the
    // capture holds it (a cut frame keeps what it has).
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let end = if total < header_len || total > data.len() {
        data.len()
    } else {
        total
    };
    let mut payload = data.get(header_len..end)?;
    let flags_offset = u16::from_be_bytes([h[6], h[7]]);
    let offset = flags_offset & 0x1fff;
    let more = flags_offset & 0x2000 != 0;
    let fragment = if !more && offset == 0 {
        Fragment::Whole
    } else if offset == 0 {
        Fragment::First
    } else {
        Fragment::Later
    };
    let mut proto = h[9];
    if proto == IP_AUTH {
        // A damaged authentication header stays the payload, under its
        // own protocol number.
        if let Some((next, rest)) = auth(payload) {
            proto = next;
            payload = rest;
        }
    }
    let ip = Ip {
        src: IpAddr::V4(Ipv4Addr::from(bytes::<4>(h, 12))),
        dst: IpAddr::V4(Ipv4Addr::from(bytes::<4>(h, 16))),
        proto,
        ttl: h[8],
        fragment,
    };
    Some(IpSlice {
        ip,
        v6: false,
        payload,
    })
}

#[inline]
fn ipv6(data: &[u8]) -> Option<IpSlice<'_>> {
    let (h, rest) = data.split_first_chunk::<40>()?;
    // A payload length of 0 is a jumbogram or an unset field: the capture
    // then says how long the payload is.
    let len = usize::from(u16::from_be_bytes([h[4], h[5]]));
    let payload = if len == 0 {
        rest
    } else {
        rest.get(..len).unwrap_or(rest)
    };
    let (proto, payload, fragment) = ipv6_extensions(h[6], payload);
    let ip = Ip {
        src: IpAddr::V6(Ipv6Addr::from(bytes::<16>(h, 8))),
        dst: IpAddr::V6(Ipv6Addr::from(bytes::<16>(h, 24))),
        proto,
        ttl: h[7],
        fragment,
    };
    Some(IpSlice {
        ip,
        v6: true,
        payload,
    })
}

/// Walks IPv6 extension headers (hop-by-hop first only, routing,
/// destination options, fragment, authentication) from `next`. Returns the
/// protocol of what follows and its bytes: where a header is cut or out of
/// place, that header's own number and the bytes from it.
#[inline]
fn ipv6_extensions(mut next: u8, mut data: &[u8]) -> (u8, &[u8], Fragment) {
    let mut fragmenting = false;
    // The offset in the first fragment header, which decides First or
    // Later.
    let mut first_offset = None;
    let mut at_start = true;
    loop {
        let (following, len) = match next {
            IP_HOP_BY_HOP if at_start => match raw_extension(data) {
                Some(e) => e,
                None => break,
            },
            IP_ROUTING | IP_DEST_OPTIONS => match raw_extension(data) {
                Some(e) => e,
                None => break,
            },
            IP_FRAGMENT => {
                let Some(f) = data.first_chunk::<8>() else {
                    break;
                };
                let offset = u16::from_be_bytes([f[2], f[3]]) >> 3;
                let more = f[3] & 1 != 0;
                fragmenting |= more || offset != 0;
                first_offset.get_or_insert(offset);
                (f[0], 8)
            }
            IP_AUTH => match auth(data) {
                Some((following, rest)) => (following, data.len() - rest.len()),
                None => break,
            },
            // A hop-by-hop header after the start, or the upper layer.
            _ => break,
        };
        let Some(rest) = data.get(len..) else {
            break;
        };
        next = following;
        data = rest;
        at_start = false;
    }
    let fragment = if !fragmenting {
        Fragment::Whole
    } else if first_offset == Some(0) {
        Fragment::First
    } else {
        Fragment::Later
    };
    (next, data, fragment)
}

/// An extension header measured in 8-byte units after the first 8 (RFC
/// 8200 4.3-4.6): the next header and the length, where the capture holds
/// it all.
#[inline]
fn raw_extension(data: &[u8]) -> Option<(u8, usize)> {
    let h = data.first_chunk::<8>()?;
    let len = (usize::from(h[1]) + 1) * 8;
    (data.len() >= len).then_some((h[0], len))
}

/// An authentication header (RFC 4302), measured in 4-byte units after
/// the first 8: the next header and the bytes behind it. A zero length is
/// damaged (the header holds at least the SPI and sequence number).
#[inline]
fn auth(data: &[u8]) -> Option<(u8, &[u8])> {
    let h = data.first_chunk::<12>()?;
    if h[1] == 0 {
        return None;
    }
    let len = (usize::from(h[1]) + 2) * 4;
    Some((h[0], data.get(len..)?))
}
