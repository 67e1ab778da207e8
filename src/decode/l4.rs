//! The L4 header: TCP, UDP, ICMP and ICMPv6, read from as few bytes as carry
//! each field, so a segment cut by the snap length still yields its ports,
//! flags and sequence numbers.

use crate::proto::cursor::Cursor;
use etherparse::{LaxNetSlice, LaxSlicedPacket};
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
pub fn decode(proto: u8, data: &[u8], v6: bool) -> (L4, &[u8], usize) {
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

/// The datagram quoted inside an ICMP error: its addresses, protocol and,
/// where the quote holds them, its ports.
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
