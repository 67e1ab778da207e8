//! The L4 header: TCP, UDP, ICMP and ICMPv6, read from as few bytes as carry
//! each field, so a segment cut by the snap length still yields its ports,
//! flags and sequence numbers.

use std::net::IpAddr;

pub const TCP_FIN: u8 = 0x01;
pub const TCP_SYN: u8 = 0x02;
pub const TCP_RST: u8 = 0x04;
pub const TCP_PSH: u8 = 0x08;
pub const TCP_ACK: u8 = 0x10;

pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_ICMPV6: u8 = 58;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tcp {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
}

impl Tcp {
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// The 5-tuple of the datagram an ICMP error quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quoted {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    /// 0 when the quote is too short to hold ports.
    pub sport: u16,
    pub dport: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmp {
    pub v6: bool,
    pub kind: u8,
    pub code: u8,
    /// For errors (unreachable, time exceeded, ...): what they quote.
    pub quoted: Option<Quoted>,
}

impl Icmp {
    /// Destination unreachable (ICMP type 3, ICMPv6 type 1).
    pub fn is_unreachable(&self) -> bool {
        if self.v6 {
            self.kind == 1
        } else {
            self.kind == 3
        }
    }

    /// Unreachable because a filter said no (codes 9, 10, 13; ICMPv6 code 1).
    pub fn is_admin_prohibited(&self) -> bool {
        self.is_unreachable()
            && if self.v6 {
                self.code == 1
            } else {
                matches!(self.code, 9 | 10 | 13)
            }
    }
}

/// The transport layer of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4 {
    /// No L4 header (not IP, a later fragment, or cut before it).
    None,
    Tcp(Tcp),
    Udp {
        sport: u16,
        dport: u16,
    },
    Icmp(Icmp),
    /// Another IP protocol.
    Other(u8),
}

/// Decodes the L4 header of `proto` at the start of `data`, returning the
/// header, the payload behind it (empty where the header was cut), and how
/// many header bytes the capture cut off.
#[inline]
pub fn decode(proto: u8, data: &[u8], v6: bool) -> (L4, &[u8], usize) {
    match proto {
        PROTO_TCP => tcp(data),
        PROTO_UDP => udp(data),
        PROTO_ICMP | PROTO_ICMPV6 => {
            let Some(&[kind, code]) = data.first_chunk::<2>() else {
                return (L4::None, &[], 0);
            };
            let v6 = proto == PROTO_ICMPV6 || v6;
            let is_error = if v6 {
                (1..=4).contains(&kind)
            } else {
                matches!(kind, 3 | 4 | 5 | 11 | 12)
            };
            let payload = data.get(8..).unwrap_or(&[]);
            let quoted = if is_error && data.len() >= 8 {
                quoted(payload)
            } else {
                None
            };
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

/// A TCP header ([`decode`] for protocol 6): the header, the payload and
/// the header bytes cut off.
#[inline(always)]
pub(super) fn tcp(data: &[u8]) -> (L4, &[u8], usize) {
    // Ports, numbers, header length and flags: the first 14 bytes.
    let Some(h) = data.first_chunk::<14>() else {
        return (L4::None, &[], 0);
    };
    let hdr = (usize::from(h[12] >> 4) * 4).max(20);
    let payload = data.get(hdr..).unwrap_or(&[]);
    let short = hdr.saturating_sub(data.len());
    let tcp = Tcp {
        sport: u16::from_be_bytes([h[0], h[1]]),
        dport: u16::from_be_bytes([h[2], h[3]]),
        seq: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
        ack: u32::from_be_bytes([h[8], h[9], h[10], h[11]]),
        flags: h[13],
    };
    (L4::Tcp(tcp), payload, short)
}

/// A UDP header ([`decode`] for protocol 17).
#[inline(always)]
pub(super) fn udp(data: &[u8]) -> (L4, &[u8], usize) {
    let Some(ports) = data.first_chunk::<4>() else {
        return (L4::None, &[], 0);
    };
    let sport = u16::from_be_bytes([ports[0], ports[1]]);
    let dport = u16::from_be_bytes([ports[2], ports[3]]);
    // The UDP length bounds the payload where it is sane; a cut
    // datagram keeps what was captured.
    let len = match data.get(4..6) {
        Some(&[a, b]) => usize::from(u16::from_be_bytes([a, b])),
        _ => 0,
    };
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

/// The datagram quoted inside an ICMP error: its addresses, protocol and,
/// where the quote holds them, its ports.
fn quoted(data: &[u8]) -> Option<Quoted> {
    let s = super::net::ip(data)?;
    let (sport, dport) = match s.ip.proto {
        PROTO_TCP | PROTO_UDP => {
            let port = |at: usize| match s.payload.get(at..at + 2) {
                Some(&[a, b]) => u16::from_be_bytes([a, b]),
                _ => 0,
            };
            (port(0), port(2))
        }
        _ => (0, 0),
    };
    Some(Quoted {
        src: s.ip.src,
        dst: s.ip.dst,
        proto: s.ip.proto,
        sport,
        dport,
    })
}
