//! DHCPv4 (RFC 2131, options RFC 2132 and later): a zero-copy, bounded parser.
//!
//! Input is a UDP payload (port 67 or 68). [`parse`] reads the 236-byte BOOTP
//! fixed part, checks the magic cookie, and walks the options once, recording a
//! borrowed slice for each option the sensor uses ([`Options`]). Typed accessors
//! on [`Dhcp`] turn those slices into values: message type (with its name),
//! host name, vendor class, parameter request list, requested address, server
//! identifier, subnet mask, routers, DNS and NTP servers, lease time, client
//! identifier, client FQDN, MUD URL and user class.
//!
//! Contract and bounds:
//! - Nothing is copied or allocated; every slice borrows the payload.
//! - A payload shorter than the fixed part (236 bytes) is an error. A payload
//!   without the magic cookie is plain BOOTP: the fixed part is returned with
//!   `cookie == false` and no options.
//! - Options are walked by [`OptionIter`]: pad (0) is skipped, end (255) closes
//!   an area, at most [`MAX_OPTIONS`] options are yielded in total. Option
//!   overload (52, RFC 2132 9.3) is honoured when it appears in the options
//!   field: the `file` field and then the `sname` field are walked as further
//!   option areas, each at most once.
//! - Lax: an option whose length runs past the end of its area stops the walk;
//!   the options read before it are kept and `malformed` is set.
//! - An option that appears more than once keeps its first occurrence (RFC 3396
//!   long-option concatenation would need a copy; the raw sequence is still
//!   available through [`Dhcp::options`]).
//! - Address lists yield at most [`MAX_ADDRS`] addresses, user classes at most
//!   [`MAX_USER_CLASSES`] items, FQDN labels at most [`MAX_LABELS`].
//! - Unknown values (op, htype, message types, option codes) are kept as
//!   integers, never a failure.
//!
//! Example (prose): `let d = dhcp::parse(udp_payload)?;` then
//! `d.message_type()` gives `Some(MessageType::DISCOVER)` whose `name()` is
//! `"DISCOVER"`, `d.mac()` the client MAC when `htype == 1 && hlen == 6`,
//! `d.hostname_str()` the host name, and `dhcp::ips(d.opts.dns_servers?)` or
//! `d.dns_servers()` iterates the offered DNS servers.

use std::net::Ipv4Addr;

use super::cursor::Cursor;
use super::ParseError;

/// Bound on the options yielded from one message, across all areas.
pub const MAX_OPTIONS: usize = 256;
/// Bound on the addresses yielded from one address-list option (a one-byte
/// length holds at most 63 addresses anyway).
pub const MAX_ADDRS: usize = 64;
/// Bound on the items yielded from a user class option (77).
pub const MAX_USER_CLASSES: usize = 32;
/// Bound on the labels yielded from a wire-encoded client FQDN (81).
pub const MAX_LABELS: usize = 128;

/// The DHCP magic cookie, 99.130.83.99, that starts the options field.
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Length of the BOOTP fixed part, before the magic cookie.
pub const FIXED_LEN: usize = 236;

/// Option codes the parser records.
pub mod code {
    pub const PAD: u8 = 0;
    pub const SUBNET_MASK: u8 = 1;
    pub const ROUTERS: u8 = 3;
    pub const DNS_SERVERS: u8 = 6;
    pub const HOSTNAME: u8 = 12;
    pub const NTP_SERVERS: u8 = 42;
    pub const REQUESTED_IP: u8 = 50;
    pub const LEASE_TIME: u8 = 51;
    pub const OVERLOAD: u8 = 52;
    pub const MESSAGE_TYPE: u8 = 53;
    pub const SERVER_ID: u8 = 54;
    pub const PARAM_REQUEST_LIST: u8 = 55;
    pub const VENDOR_CLASS: u8 = 60;
    pub const CLIENT_ID: u8 = 61;
    pub const USER_CLASS: u8 = 77;
    pub const CLIENT_FQDN: u8 = 81;
    pub const MUD_URL: u8 = 161;
    pub const END: u8 = 255;
}

/// BOOTP `op`: 1 request (client to server), 2 reply.
pub const OP_REQUEST: u8 = 1;
pub const OP_REPLY: u8 = 2;
/// The broadcast bit of `flags` (RFC 2131 2).
pub const FLAG_BROADCAST: u16 = 0x8000;

/// DHCP message type (option 53); unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageType(pub u8);

impl MessageType {
    pub const DISCOVER: Self = Self(1);
    pub const OFFER: Self = Self(2);
    pub const REQUEST: Self = Self(3);
    pub const DECLINE: Self = Self(4);
    pub const ACK: Self = Self(5);
    pub const NAK: Self = Self(6);
    pub const RELEASE: Self = Self(7);
    pub const INFORM: Self = Self(8);
    pub const FORCERENEW: Self = Self(9);
    pub const LEASEQUERY: Self = Self(10);
    pub const LEASEUNASSIGNED: Self = Self(11);
    pub const LEASEUNKNOWN: Self = Self(12);
    pub const LEASEACTIVE: Self = Self(13);
    pub const BULKLEASEQUERY: Self = Self(14);
    pub const LEASEQUERYDONE: Self = Self(15);
    pub const ACTIVELEASEQUERY: Self = Self(16);
    pub const LEASEQUERYSTATUS: Self = Self(17);
    pub const TLS: Self = Self(18);

    /// The upper-case name (RFC 2132, 4388, 6926, 7724), or `None` when unknown.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "DISCOVER",
            2 => "OFFER",
            3 => "REQUEST",
            4 => "DECLINE",
            5 => "ACK",
            6 => "NAK",
            7 => "RELEASE",
            8 => "INFORM",
            9 => "FORCERENEW",
            10 => "LEASEQUERY",
            11 => "LEASEUNASSIGNED",
            12 => "LEASEUNKNOWN",
            13 => "LEASEACTIVE",
            14 => "BULKLEASEQUERY",
            15 => "LEASEQUERYDONE",
            16 => "ACTIVELEASEQUERY",
            17 => "LEASEQUERYSTATUS",
            18 => "TLS",
            _ => return None,
        })
    }
}

/// One option as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpOption<'a> {
    pub code: u8,
    pub data: &'a [u8],
}

/// The raw value of each option the sensor uses, first occurrence, borrowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options<'a> {
    pub message_type: Option<&'a [u8]>,
    pub hostname: Option<&'a [u8]>,
    pub vendor_class: Option<&'a [u8]>,
    pub param_request_list: Option<&'a [u8]>,
    pub requested_ip: Option<&'a [u8]>,
    pub server_id: Option<&'a [u8]>,
    pub subnet_mask: Option<&'a [u8]>,
    pub routers: Option<&'a [u8]>,
    pub dns_servers: Option<&'a [u8]>,
    pub ntp_servers: Option<&'a [u8]>,
    pub lease_time: Option<&'a [u8]>,
    pub client_id: Option<&'a [u8]>,
    pub client_fqdn: Option<&'a [u8]>,
    pub mud_url: Option<&'a [u8]>,
    pub user_class: Option<&'a [u8]>,
    pub overload: Option<&'a [u8]>,
}

impl<'a> Options<'a> {
    fn record(&mut self, o: DhcpOption<'a>) {
        let slot = match o.code {
            code::MESSAGE_TYPE => &mut self.message_type,
            code::HOSTNAME => &mut self.hostname,
            code::VENDOR_CLASS => &mut self.vendor_class,
            code::PARAM_REQUEST_LIST => &mut self.param_request_list,
            code::REQUESTED_IP => &mut self.requested_ip,
            code::SERVER_ID => &mut self.server_id,
            code::SUBNET_MASK => &mut self.subnet_mask,
            code::ROUTERS => &mut self.routers,
            code::DNS_SERVERS => &mut self.dns_servers,
            code::NTP_SERVERS => &mut self.ntp_servers,
            code::LEASE_TIME => &mut self.lease_time,
            code::CLIENT_ID => &mut self.client_id,
            code::CLIENT_FQDN => &mut self.client_fqdn,
            code::MUD_URL => &mut self.mud_url,
            code::USER_CLASS => &mut self.user_class,
            code::OVERLOAD => &mut self.overload,
            _ => return,
        };
        if slot.is_none() {
            *slot = Some(o.data);
        }
    }
}

/// A parsed DHCPv4 (or BOOTP) message borrowing the payload.
#[derive(Debug, Clone, Copy)]
pub struct Dhcp<'a> {
    pub op: u8,
    pub htype: u8,
    pub hlen: u8,
    pub hops: u8,
    pub xid: u32,
    pub secs: u16,
    pub flags: u16,
    pub ciaddr: Ipv4Addr,
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    /// The whole 16-byte client hardware address field.
    pub chaddr: [u8; 16],
    /// The raw 64-byte server host name field (may hold options, see overload).
    pub sname: &'a [u8],
    /// The raw 128-byte boot file name field (may hold options, see overload).
    pub file: &'a [u8],
    /// The magic cookie was present: this is DHCP, not plain BOOTP.
    pub cookie: bool,
    /// An option ran past the end of its area, or more than [`MAX_OPTIONS`]
    /// options were present: the options read before are kept.
    pub malformed: bool,
    /// The end option (255) closed the options field.
    pub ended: bool,
    /// The recorded option values.
    pub opts: Options<'a>,
    /// The options field, after the cookie (empty for BOOTP).
    options_area: Cursor<'a>,
    sname_area: Cursor<'a>,
    file_area: Cursor<'a>,
}

/// Parses a DHCPv4 message from a UDP payload.
///
/// Errors only when the 236-byte fixed part is cut short; a missing cookie
/// gives a BOOTP message without options, a broken option list a message
/// with `malformed` set.
pub fn parse(payload: &[u8]) -> Result<Dhcp<'_>, ParseError> {
    let mut c = Cursor::new(payload);
    let op = c.u8()?;
    let htype = c.u8()?;
    let hlen = c.u8()?;
    let hops = c.u8()?;
    let xid = c.u32()?;
    let secs = c.u16()?;
    let flags = c.u16()?;
    let ciaddr = Ipv4Addr::from(c.array::<4>()?);
    let yiaddr = Ipv4Addr::from(c.array::<4>()?);
    let siaddr = Ipv4Addr::from(c.array::<4>()?);
    let giaddr = Ipv4Addr::from(c.array::<4>()?);
    let chaddr = c.array::<16>()?;
    let sname_area = c.sub(64)?;
    let file_area = c.sub(128)?;
    let cookie = matches!(c.array::<4>(), Ok(m) if m == MAGIC_COOKIE);
    let options_area = if cookie {
        c.sub(c.remaining())?
    } else {
        Cursor::new(&[])
    };
    let mut d = Dhcp {
        op,
        htype,
        hlen,
        hops,
        xid,
        secs,
        flags,
        ciaddr,
        yiaddr,
        siaddr,
        giaddr,
        chaddr,
        sname: sname_area.buf(),
        file: file_area.buf(),
        cookie,
        malformed: false,
        ended: false,
        opts: Options::default(),
        options_area,
        sname_area,
        file_area,
    };
    let mut it = d.options();
    for o in it.by_ref() {
        d.opts.record(o);
    }
    d.malformed = it.malformed();
    d.ended = it.ended();
    Ok(d)
}

impl<'a> Dhcp<'a> {
    /// A fresh walk over every option in wire order (options field, then
    /// `file` and `sname` when overloaded), for fingerprinting by order.
    pub fn options(&self) -> OptionIter<'a> {
        OptionIter {
            cur: self.options_area,
            area: if self.cookie {
                Area::Options
            } else {
                Area::Done
            },
            file: self.file_area,
            sname: self.sname_area,
            overload: 0,
            yielded: 0,
            malformed: false,
            ended: false,
        }
    }

    /// The broadcast bit of `flags`.
    pub fn broadcast(&self) -> bool {
        self.flags & FLAG_BROADCAST != 0
    }

    /// The client MAC address, when the hardware type is Ethernet (1) with a
    /// 6-byte address.
    pub fn mac(&self) -> Option<[u8; 6]> {
        if self.htype != 1 || self.hlen != 6 {
            return None;
        }
        Cursor::new(&self.chaddr).array::<6>().ok()
    }

    /// Option 53.
    pub fn message_type(&self) -> Option<MessageType> {
        first_u8(self.opts.message_type?).map(MessageType)
    }

    /// Option 12, raw.
    pub fn hostname(&self) -> Option<&'a [u8]> {
        self.opts.hostname
    }

    /// Option 12 as text (trailing NULs trimmed), when valid UTF-8.
    pub fn hostname_str(&self) -> Option<&'a str> {
        text(self.opts.hostname?)
    }

    /// Option 60, raw (e.g. `MSFT 5.0`, `udhcp 1.30.1`, `android-dhcp-11`).
    pub fn vendor_class(&self) -> Option<&'a [u8]> {
        self.opts.vendor_class
    }

    /// Option 55: the option codes the client asks for, in its order.
    pub fn param_request_list(&self) -> Option<&'a [u8]> {
        self.opts.param_request_list
    }

    /// Option 50.
    pub fn requested_ip(&self) -> Option<Ipv4Addr> {
        ip(self.opts.requested_ip?)
    }

    /// Option 54.
    pub fn server_id(&self) -> Option<Ipv4Addr> {
        ip(self.opts.server_id?)
    }

    /// Option 1.
    pub fn subnet_mask(&self) -> Option<Ipv4Addr> {
        ip(self.opts.subnet_mask?)
    }

    /// Option 3 (at most [`MAX_ADDRS`]).
    pub fn routers(&self) -> impl Iterator<Item = Ipv4Addr> + 'a {
        ips(self.opts.routers.unwrap_or(&[]))
    }

    /// Option 6 (at most [`MAX_ADDRS`]).
    pub fn dns_servers(&self) -> impl Iterator<Item = Ipv4Addr> + 'a {
        ips(self.opts.dns_servers.unwrap_or(&[]))
    }

    /// Option 42 (at most [`MAX_ADDRS`]).
    pub fn ntp_servers(&self) -> impl Iterator<Item = Ipv4Addr> + 'a {
        ips(self.opts.ntp_servers.unwrap_or(&[]))
    }

    /// Option 51, seconds (0xffffffff is infinite).
    pub fn lease_time(&self) -> Option<u32> {
        Cursor::new(self.opts.lease_time?).u32().ok()
    }

    /// Option 61, raw: a type byte then the identifier.
    pub fn client_id(&self) -> Option<&'a [u8]> {
        self.opts.client_id
    }

    /// Option 61 when it is a hardware type 1 (Ethernet) MAC address.
    pub fn client_id_mac(&self) -> Option<[u8; 6]> {
        let mut c = Cursor::new(self.opts.client_id?);
        if c.u8().ok()? != 1 || c.remaining() != 6 {
            return None;
        }
        c.array::<6>().ok()
    }

    /// Option 81 (RFC 4702).
    pub fn client_fqdn(&self) -> Option<ClientFqdn<'a>> {
        let mut c = Cursor::new(self.opts.client_fqdn?);
        let flags = c.u8().ok()?;
        c.skip(2).ok()?;
        Some(ClientFqdn {
            flags,
            name: c.rest(),
        })
    }

    /// Option 161 (RFC 8520), raw URL bytes.
    pub fn mud_url(&self) -> Option<&'a [u8]> {
        self.opts.mud_url
    }

    /// Option 161 as text, when valid UTF-8.
    pub fn mud_url_str(&self) -> Option<&'a str> {
        text(self.opts.mud_url?)
    }

    /// Option 77, raw (RFC 3004 length-prefixed items, or, from some clients,
    /// one bare string; see [`user_classes`]).
    pub fn user_class(&self) -> Option<&'a [u8]> {
        self.opts.user_class
    }

    /// The server host name field as text (up to the first NUL), unless it is
    /// overloaded with options.
    pub fn server_name(&self) -> Option<&'a [u8]> {
        if self.overload() & 2 != 0 {
            return None;
        }
        nonempty(until_nul(self.sname))
    }

    /// The boot file name field (up to the first NUL), unless overloaded.
    pub fn boot_file(&self) -> Option<&'a [u8]> {
        if self.overload() & 1 != 0 {
            return None;
        }
        nonempty(until_nul(self.file))
    }

    fn overload(&self) -> u8 {
        self.opts.overload.and_then(first_u8).unwrap_or(0)
    }
}

/// Client FQDN option (81): flags and the name part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientFqdn<'a> {
    /// Flags: 0x01 S, 0x02 O, 0x04 E (canonical wire encoding), 0x08 N.
    pub flags: u8,
    /// The domain name, ASCII (deprecated form) or wire-encoded labels.
    pub name: &'a [u8],
}

impl<'a> ClientFqdn<'a> {
    /// The E flag: `name` is in DNS wire encoding.
    pub fn wire_encoded(&self) -> bool {
        self.flags & 0x04 != 0
    }

    /// The labels of the name: for the wire encoding, each length-prefixed
    /// label up to the root (at most [`MAX_LABELS`]; stops at a bad length or
    /// a compression pointer); for the ASCII form, the dot-separated parts.
    pub fn labels(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let wire = self.wire_encoded();
        let mut c = Cursor::new(self.name);
        let mut ascii = until_nul(self.name).split(|&b| b == b'.');
        let mut n = 0usize;
        std::iter::from_fn(move || {
            if n >= MAX_LABELS {
                return None;
            }
            n += 1;
            if wire {
                let len = c.u8().ok()?;
                if len == 0 || len > 63 {
                    return None;
                }
                c.bytes(len as usize).ok()
            } else {
                ascii.next().filter(|l| !l.is_empty())
            }
        })
    }
}

/// Iterates IPv4 addresses in an address-list option value (4 bytes each; a
/// trailing partial address is ignored; at most [`MAX_ADDRS`]).
pub fn ips(v: &[u8]) -> impl Iterator<Item = Ipv4Addr> + '_ {
    let mut c = Cursor::new(v);
    let mut n = 0usize;
    std::iter::from_fn(move || {
        if n >= MAX_ADDRS {
            return None;
        }
        n += 1;
        c.array::<4>().ok().map(Ipv4Addr::from)
    })
}

/// Iterates the items of a user class option (RFC 3004: each a one-byte
/// length then the data; at most [`MAX_USER_CLASSES`]). Stops at a zero or
/// overlong length: some clients send one bare string instead, which this
/// may read as garbage items, so callers showing a class should prefer the
/// raw value when the items do not cover it exactly.
pub fn user_classes(v: &[u8]) -> impl Iterator<Item = &[u8]> + '_ {
    let mut c = Cursor::new(v);
    let mut n = 0usize;
    std::iter::from_fn(move || {
        if n >= MAX_USER_CLASSES {
            return None;
        }
        n += 1;
        let mut item = c.vec8().ok()?;
        if item.is_empty() {
            return None;
        }
        item.bytes(item.remaining()).ok()
    })
}

/// Option text: trailing NULs trimmed, `None` unless valid UTF-8.
pub fn text(v: &[u8]) -> Option<&str> {
    let end = v.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    std::str::from_utf8(v.get(..end)?).ok()
}

fn ip(v: &[u8]) -> Option<Ipv4Addr> {
    Cursor::new(v).array::<4>().ok().map(Ipv4Addr::from)
}

fn first_u8(v: &[u8]) -> Option<u8> {
    Cursor::new(v).u8().ok()
}

fn until_nul(v: &[u8]) -> &[u8] {
    v.split(|&b| b == 0).next().unwrap_or(v)
}

fn nonempty(v: &[u8]) -> Option<&[u8]> {
    (!v.is_empty()).then_some(v)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    Options,
    File,
    Sname,
    Done,
}

/// Walks the options of a message in wire order: the options field, then
/// (when option 52 in the options field says so) `file`, then `sname`.
///
/// Each call consumes at least one byte of the current area or moves to the
/// next of at most three areas, so a walk ends within the message length;
/// at most [`MAX_OPTIONS`] options are yielded.
#[derive(Debug, Clone)]
pub struct OptionIter<'a> {
    cur: Cursor<'a>,
    area: Area,
    file: Cursor<'a>,
    sname: Cursor<'a>,
    overload: u8,
    yielded: usize,
    malformed: bool,
    ended: bool,
}

impl OptionIter<'_> {
    /// The walk stopped at an option running past its area, or at the bound.
    pub fn malformed(&self) -> bool {
        self.malformed
    }

    /// The end option closed the options field.
    pub fn ended(&self) -> bool {
        self.ended
    }

    fn next_area(&mut self) {
        let (area, cur) = match self.area {
            Area::Options if self.overload & 1 != 0 => (Area::File, self.file),
            Area::Options | Area::File if self.overload & 2 != 0 => (Area::Sname, self.sname),
            _ => (Area::Done, self.cur),
        };
        self.area = area;
        self.cur = cur;
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = DhcpOption<'a>;

    fn next(&mut self) -> Option<DhcpOption<'a>> {
        // Bounded: every turn reads a byte of a finite area or changes area.
        loop {
            if self.area == Area::Done {
                return None;
            }
            let Ok(code) = self.cur.u8() else {
                self.next_area();
                continue;
            };
            match code {
                code::PAD => continue,
                code::END => {
                    if self.area == Area::Options {
                        self.ended = true;
                    }
                    self.next_area();
                    continue;
                }
                _ => {}
            }
            if self.yielded >= MAX_OPTIONS {
                self.malformed = true;
                self.area = Area::Done;
                return None;
            }
            let Ok(v) = self.cur.vec8() else {
                self.malformed = true;
                self.area = Area::Done;
                return None;
            };
            let data = v.rest();
            if self.area == Area::Options && code == code::OVERLOAD {
                self.overload = first_u8(data).unwrap_or(0);
            }
            self.yielded += 1;
            return Some(DhcpOption { code, data });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAC: [u8; 6] = [0x90, 0xb1, 0x1c, 0x99, 0x49, 0x29];

    /// A DHCP message: fixed part, cookie, the given options then END.
    fn build(op: u8, xid: u32, opts: &[(u8, &[u8])]) -> Vec<u8> {
        let mut b = fixed(op, xid, &[0; 64], &[0; 128]);
        b.extend_from_slice(&MAGIC_COOKIE);
        push_opts(&mut b, opts);
        b.push(code::END);
        b
    }

    fn fixed(op: u8, xid: u32, sname: &[u8; 64], file: &[u8; 128]) -> Vec<u8> {
        let mut b = vec![op, 1, 6, 0];
        b.extend_from_slice(&xid.to_be_bytes());
        b.extend_from_slice(&3u16.to_be_bytes()); // secs
        b.extend_from_slice(&FLAG_BROADCAST.to_be_bytes());
        b.extend_from_slice(&[0, 0, 0, 0, 192, 168, 1, 50, 192, 168, 1, 1, 0, 0, 0, 0]);
        b.extend_from_slice(&MAC);
        b.extend_from_slice(&[0; 10]);
        b.extend_from_slice(sname);
        b.extend_from_slice(file);
        assert_eq!(b.len(), FIXED_LEN);
        b
    }

    fn push_opts(b: &mut Vec<u8>, opts: &[(u8, &[u8])]) {
        for (c, v) in opts {
            b.push(*c);
            b.push(v.len() as u8);
            b.extend_from_slice(v);
        }
    }

    #[test]
    fn discover_fields() {
        let b = build(
            OP_REQUEST,
            0x7c0,
            &[
                (53, &[1]),
                (61, &[1, 0x90, 0xb1, 0x1c, 0x99, 0x49, 0x29]),
                (12, b"btest.is.cool"),
                (60, b"udhcp 1.30.1"),
                (55, &[1, 3, 6, 42]),
                (50, &[192, 168, 1, 50]),
                (77, b"\x04abcd\x02xy"),
                (161, b"https://example.com/mud"),
            ],
        );
        let d = parse(&b).unwrap();
        assert_eq!(d.op, OP_REQUEST);
        assert_eq!(d.xid, 0x7c0);
        assert_eq!(d.secs, 3);
        assert!(d.broadcast());
        assert!(d.cookie && d.ended && !d.malformed);
        assert_eq!(d.mac(), Some(MAC));
        assert_eq!(d.yiaddr, Ipv4Addr::new(192, 168, 1, 50));
        assert_eq!(d.siaddr, Ipv4Addr::new(192, 168, 1, 1));
        assert_eq!(d.message_type(), Some(MessageType::DISCOVER));
        assert_eq!(
            d.message_type().and_then(MessageType::name),
            Some("DISCOVER")
        );
        assert_eq!(d.hostname_str(), Some("btest.is.cool"));
        assert_eq!(d.vendor_class(), Some(&b"udhcp 1.30.1"[..]));
        assert_eq!(d.param_request_list(), Some(&[1u8, 3, 6, 42][..]));
        assert_eq!(d.requested_ip(), Some(Ipv4Addr::new(192, 168, 1, 50)));
        assert_eq!(d.client_id_mac(), Some(MAC));
        let uc: Vec<_> = user_classes(d.user_class().unwrap()).collect();
        assert_eq!(uc, vec![&b"abcd"[..], &b"xy"[..]]);
        assert_eq!(d.mud_url_str(), Some("https://example.com/mud"));
        assert_eq!(d.server_id(), None);
        assert_eq!(d.routers().count(), 0);
        let codes: Vec<u8> = d.options().map(|o| o.code).collect();
        assert_eq!(codes, vec![53, 61, 12, 60, 55, 50, 77, 161]);
    }

    #[test]
    fn offer_addresses_and_lease() {
        let b = build(
            OP_REPLY,
            1,
            &[
                (53, &[2]),
                (54, &[192, 168, 1, 1]),
                (1, &[255, 255, 255, 0]),
                (3, &[192, 168, 1, 1, 192, 168, 1, 2]),
                (6, &[8, 8, 8, 8, 1, 1, 1, 1, 9]),
                (42, &[192, 168, 1, 123]),
                (51, &3600u32.to_be_bytes()),
            ],
        );
        let d = parse(&b).unwrap();
        assert_eq!(d.message_type().and_then(MessageType::name), Some("OFFER"));
        assert_eq!(d.server_id(), Some(Ipv4Addr::new(192, 168, 1, 1)));
        assert_eq!(d.subnet_mask(), Some(Ipv4Addr::new(255, 255, 255, 0)));
        let r: Vec<_> = d.routers().collect();
        assert_eq!(
            r,
            vec![Ipv4Addr::new(192, 168, 1, 1), Ipv4Addr::new(192, 168, 1, 2)]
        );
        let dns: Vec<_> = d.dns_servers().collect();
        assert_eq!(
            dns,
            vec![Ipv4Addr::new(8, 8, 8, 8), Ipv4Addr::new(1, 1, 1, 1)]
        );
        assert_eq!(
            d.ntp_servers().next(),
            Some(Ipv4Addr::new(192, 168, 1, 123))
        );
        assert_eq!(d.lease_time(), Some(3600));
    }

    #[test]
    fn message_type_names_and_unknown() {
        let names: Vec<_> = (1..=8).filter_map(|t| MessageType(t).name()).collect();
        assert_eq!(
            names,
            ["DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM"]
        );
        let b = build(1, 1, &[(53, &[200])]);
        let d = parse(&b).unwrap();
        assert_eq!(d.message_type(), Some(MessageType(200)));
        assert_eq!(MessageType(200).name(), None);
    }

    #[test]
    fn overload_walks_file_then_sname() {
        let mut file = [0u8; 128];
        file[..5].copy_from_slice(&[12, 3, b'f', b'o', b'o']);
        file[5] = code::END;
        let mut sname = [0u8; 64];
        sname[..6].copy_from_slice(&[0, 60, 3, b'b', b'a', b'r']);
        sname[6] = code::END;
        let mut b = fixed(OP_REQUEST, 9, &sname, &file);
        b.extend_from_slice(&MAGIC_COOKIE);
        push_opts(&mut b, &[(53, &[3]), (52, &[3])]);
        b.push(code::END);
        let d = parse(&b).unwrap();
        assert_eq!(d.hostname(), Some(&b"foo"[..]));
        assert_eq!(d.vendor_class(), Some(&b"bar"[..]));
        assert_eq!(d.server_name(), None);
        assert_eq!(d.boot_file(), None);
        let codes: Vec<u8> = d.options().map(|o| o.code).collect();
        assert_eq!(codes, vec![53, 52, 12, 60]);
        assert!(!d.malformed);
    }

    #[test]
    fn overload_outside_options_field_is_ignored() {
        // An overload option inside `file` must not open `sname`.
        let mut file = [0u8; 128];
        file[..3].copy_from_slice(&[52, 1, 2]);
        let mut sname = [0u8; 64];
        sname[..3].copy_from_slice(&[12, 1, b'x']);
        let mut b = fixed(OP_REQUEST, 9, &sname, &file);
        b.extend_from_slice(&MAGIC_COOKIE);
        push_opts(&mut b, &[(52, &[1])]);
        let d = parse(&b).unwrap();
        assert_eq!(d.hostname(), None);
        assert!(!d.ended);
    }

    #[test]
    fn unoverloaded_sname_and_file_are_names() {
        let mut sname = [0u8; 64];
        sname[..3].copy_from_slice(b"srv");
        let mut file = [0u8; 128];
        file[..8].copy_from_slice(b"pxelinux");
        let mut b = fixed(OP_REPLY, 9, &sname, &file);
        b.extend_from_slice(&MAGIC_COOKIE);
        b.push(code::END);
        let d = parse(&b).unwrap();
        assert_eq!(d.server_name(), Some(&b"srv"[..]));
        assert_eq!(d.boot_file(), Some(&b"pxelinux"[..]));
    }

    #[test]
    fn option_past_end_is_lax_and_malformed() {
        let mut b = build(1, 1, &[(53, &[1]), (12, b"host")]);
        b.pop(); // END
        b.extend_from_slice(&[60, 40, b'x']);
        let d = parse(&b).unwrap();
        assert!(d.malformed);
        assert!(!d.ended);
        assert_eq!(d.message_type(), Some(MessageType::DISCOVER));
        assert_eq!(d.hostname_str(), Some("host"));
        assert_eq!(d.vendor_class(), None);
    }

    #[test]
    fn bootp_without_cookie() {
        let mut b = fixed(OP_REQUEST, 5, &[0; 64], &[0; 128]);
        b.extend_from_slice(&[1, 2, 3, 4, 53, 1, 1, 255]);
        let d = parse(&b).unwrap();
        assert!(!d.cookie);
        assert_eq!(d.message_type(), None);
        assert_eq!(d.options().count(), 0);
        assert_eq!(d.mac(), Some(MAC));
        // The fixed part alone is still BOOTP.
        let d = parse(&b[..FIXED_LEN]).unwrap();
        assert!(!d.cookie);
    }

    #[test]
    fn short_fixed_part_is_truncated() {
        let b = build(1, 1, &[]);
        assert_eq!(
            parse(&b[..100]).unwrap_err(),
            ParseError::Truncated {
                offset: 44,
                needed: 64
            }
        );
        assert!(parse(&[]).is_err());
    }

    #[test]
    fn pads_repeats_and_mac_rules() {
        let mut b = fixed(OP_REQUEST, 1, &[0; 64], &[0; 128]);
        b.extend_from_slice(&MAGIC_COOKIE);
        b.extend_from_slice(&[0, 0, 0]);
        push_opts(
            &mut b,
            &[(12, b"first"), (12, b"second"), (61, &[0, b'i', b'd'])],
        );
        let d = parse(&b).unwrap();
        assert_eq!(d.hostname(), Some(&b"first"[..]));
        assert_eq!(d.client_id_mac(), None);
        assert_eq!(d.client_id(), Some(&[0, b'i', b'd'][..]));
        b[2] = 16; // hlen
        assert_eq!(parse(&b).unwrap().mac(), None);
    }

    #[test]
    fn option_bound_is_enforced() {
        let many: Vec<(u8, &[u8])> = (0..300).map(|_| (200u8, &[][..])).collect();
        let b = build(1, 1, &many);
        let d = parse(&b).unwrap();
        assert!(d.malformed);
        assert_eq!(d.options().count(), MAX_OPTIONS);
    }

    #[test]
    fn client_fqdn_both_encodings() {
        let b = build(1, 1, &[(81, b"\x05\x00\x00\x04host\x07example\x03com\x00")]);
        let d = parse(&b).unwrap();
        let f = d.client_fqdn().unwrap();
        assert!(f.wire_encoded());
        let l: Vec<_> = f.labels().collect();
        assert_eq!(l, vec![&b"host"[..], &b"example"[..], &b"com"[..]]);
        let b = build(1, 1, &[(81, b"\x01\x00\x00host.lan")]);
        let d = parse(&b).unwrap();
        let f = d.client_fqdn().unwrap();
        assert!(!f.wire_encoded());
        assert_eq!(
            f.labels().collect::<Vec<_>>(),
            vec![&b"host"[..], &b"lan"[..]]
        );
        let b = build(1, 1, &[(81, b"\x04\x00")]);
        let d = parse(&b).unwrap();
        assert_eq!(d.client_fqdn(), None);
    }

    #[test]
    fn helpers_are_bounded() {
        let v = [7u8; 255];
        assert_eq!(ips(&v).count(), 63);
        assert_eq!(ips(&[1, 2, 3]).count(), 0);
        let uc = [1u8, b'a'].repeat(100);
        assert_eq!(user_classes(&uc).count(), MAX_USER_CLASSES);
        assert_eq!(text(b"name\0\0"), Some("name"));
        assert_eq!(text(b"\xff"), None);
    }

    proptest! {
        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(d) = parse(&b) {
                let _ = d.options().count();
                let _ = (d.routers().count(), d.client_fqdn().map(|f| f.labels().count()));
                let _ = (d.hostname_str(), d.lease_time(), d.server_name(), d.boot_file());
            }
        }

        #[test]
        fn never_panics_with_cookie(tail in proptest::collection::vec(any::<u8>(), 0..400),
                                    area in proptest::collection::vec(any::<u8>(), 192)) {
            let mut sname = [0u8; 64];
            sname.copy_from_slice(&area[..64]);
            let mut file = [0u8; 128];
            file.copy_from_slice(&area[64..]);
            let mut b = fixed(1, 1, &sname, &file);
            b.extend_from_slice(&MAGIC_COOKIE);
            b.extend_from_slice(&[52, 1, 3]);
            b.extend_from_slice(&tail);
            let d = parse(&b).unwrap();
            prop_assert!(d.options().count() <= MAX_OPTIONS);
            let _ = user_classes(d.user_class().unwrap_or(&[])).count();
        }
    }
}
