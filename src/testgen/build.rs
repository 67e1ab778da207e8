//! Packet builders for the fixture generator: frames as `Vec<u8>`, correct lengths and
//! checksums, nothing read from the environment.
//!
//! Contract: every function is a pure function of its arguments, so the fixtures are
//! byte-for-byte reproducible. Builders are layered the way packets are: an application
//! payload (DNS, DHCP, NTP, TLS, MQTT, HTTP) goes into [`Ip::udp`] / [`Ip::tcp`] (which compute
//! the pseudo-header checksum), the IP packet goes into [`ethernet`] (optionally 802.1Q or
//! QinQ tagged), and an Ethernet frame can be re-encoded for another link type with
//! [`to_sll`], [`to_sll2`], [`to_raw_ip`], [`to_null`] or [`eth_to_wifi_data`] (802.11 +
//! LLC/SNAP, to be prefixed with [`radiotap`]). Header field meanings follow the RFCs: IPv4
//! (791), IPv6 and its extension headers (8200), TCP (9293), UDP (768), ICMP (792),
//! ICMPv6 (4443), ARP (826), DNS (1035), DHCP (2131/2132), NTP (5905), TLS 1.2 (5246, 6066
//! SNI, 7301 ALPN), QUIC v1 Initials (9000, 9001), MQTT 3.1.1 (OASIS), radiotap
//! (radiotap.org) and 802.11.
//!
//! This is test-data generation code: it indexes and unwraps freely on its own data; it never
//! parses untrusted input. Lengths are not clamped: asking for a DNS label over 63 bytes or an
//! IP payload over 65535 bytes yields a wrong (but panic-free) packet.
//!
//! Example (prose): `let ip = Ip::V4(Ipv4::new(DEV, SRV)); let frame = ethernet(GW_MAC,
//! DEV_MAC, Vlan::Untagged, ip.ethertype(), &ip.udp(50000, 53, &dns_query(7, "a.example",
//! dnstype::A)));`

use super::writer::Endian;

/// A 48-bit MAC address.
pub type Mac = [u8; 6];

/// The Ethernet broadcast address.
pub const BROADCAST: Mac = [0xff; 6];

/// EtherType values.
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// 802.1Q customer VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// 802.1ad service VLAN tag (QinQ outer).
    pub const QINQ: u16 = 0x88a8;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
    /// 802.1X (EAPOL).
    pub const EAPOL: u16 = 0x888e;
}

/// IP protocol / IPv6 next-header numbers.
pub mod ipproto {
    /// IPv6 hop-by-hop options.
    pub const HOPOPT: u8 = 0;
    /// ICMP for IPv4.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 fragment header.
    pub const FRAGMENT: u8 = 44;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// IPv6 destination options.
    pub const DSTOPTS: u8 = 60;
}

/// TCP flag bits.
pub mod tcpflags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
}

/// The RFC 1071 internet checksum of `data` (odd length padded with a zero byte).
pub fn internet_checksum(data: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    for c in data.chunks(2) {
        let hi = c[0];
        let lo = if c.len() > 1 { c[1] } else { 0 };
        sum += u64::from(u16::from_be_bytes([hi, lo]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

// ---------------------------------------------------------------- Ethernet, VLAN, ARP

/// VLAN tagging of an Ethernet frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vlan {
    /// No tag.
    Untagged,
    /// One 802.1Q tag (TPID 0x8100) with this VLAN id.
    Dot1q(u16),
    /// An 802.1ad outer tag (TPID 0x88a8) and an 802.1Q inner tag.
    QinQ {
        /// Service (outer) VLAN id.
        outer: u16,
        /// Customer (inner) VLAN id.
        inner: u16,
    },
}

/// An Ethernet II frame (no FCS, no padding).
pub fn ethernet(dst: Mac, src: Mac, vlan: Vlan, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(22 + payload.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    match vlan {
        Vlan::Untagged => {}
        Vlan::Dot1q(vid) => {
            f.extend_from_slice(&ethertype::VLAN.to_be_bytes());
            f.extend_from_slice(&(vid & 0x0fff).to_be_bytes());
        }
        Vlan::QinQ { outer, inner } => {
            f.extend_from_slice(&ethertype::QINQ.to_be_bytes());
            f.extend_from_slice(&(outer & 0x0fff).to_be_bytes());
            f.extend_from_slice(&ethertype::VLAN.to_be_bytes());
            f.extend_from_slice(&(inner & 0x0fff).to_be_bytes());
        }
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// ARP operation: request.
pub const ARP_REQUEST: u16 = 1;
/// ARP operation: reply.
pub const ARP_REPLY: u16 = 2;

/// An ARP packet for Ethernet/IPv4 (28 bytes).
pub fn arp(op: u16, sha: Mac, spa: [u8; 4], tha: Mac, tpa: [u8; 4]) -> Vec<u8> {
    let mut p = Vec::with_capacity(28);
    p.extend_from_slice(&1u16.to_be_bytes());
    p.extend_from_slice(&ethertype::IPV4.to_be_bytes());
    p.push(6);
    p.push(4);
    p.extend_from_slice(&op.to_be_bytes());
    p.extend_from_slice(&sha);
    p.extend_from_slice(&spa);
    p.extend_from_slice(&tha);
    p.extend_from_slice(&tpa);
    p
}

/// The parts of an Ethernet frame a link-layer re-encoder needs.
#[derive(Clone, Copy, Debug)]
pub struct EthParts<'a> {
    /// Destination MAC.
    pub dst: Mac,
    /// Source MAC.
    pub src: Mac,
    /// EtherType after any VLAN tags.
    pub ethertype: u16,
    /// Bytes after the EtherType.
    pub payload: &'a [u8],
}

/// Splits a frame built by [`ethernet`], skipping 802.1Q / 802.1ad tags.
pub fn split_ethernet(frame: &[u8]) -> EthParts<'_> {
    let mut dst = [0u8; 6];
    let mut src = [0u8; 6];
    dst.copy_from_slice(&frame[0..6]);
    src.copy_from_slice(&frame[6..12]);
    let mut at = 12;
    let mut et = u16::from_be_bytes([frame[at], frame[at + 1]]);
    while et == ethertype::VLAN || et == ethertype::QINQ {
        at += 4;
        et = u16::from_be_bytes([frame[at], frame[at + 1]]);
    }
    EthParts {
        dst,
        src,
        ethertype: et,
        payload: &frame[at + 2..],
    }
}

// ---------------------------------------------------------------- IPv4 / IPv6

/// IPv4 header settings. `frag_offset8` is in 8-byte units as on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv4 {
    /// Source address.
    pub src: [u8; 4],
    /// Destination address.
    pub dst: [u8; 4],
    /// Identification.
    pub id: u16,
    /// Time to live.
    pub ttl: u8,
    /// DSCP/ECN byte.
    pub tos: u8,
    /// Don't Fragment.
    pub df: bool,
    /// More Fragments.
    pub mf: bool,
    /// Fragment offset in units of 8 bytes.
    pub frag_offset8: u16,
}

impl Ipv4 {
    /// DF set, id 0, TTL 64: what Linux sends for an unfragmented packet.
    pub fn new(src: [u8; 4], dst: [u8; 4]) -> Self {
        Ipv4 {
            src,
            dst,
            id: 0,
            ttl: 64,
            tos: 0,
            df: true,
            mf: false,
            frag_offset8: 0,
        }
    }

    /// Sets the identification field.
    pub fn id(mut self, id: u16) -> Self {
        self.id = id;
        self
    }

    /// Sets the TTL.
    pub fn ttl(mut self, ttl: u8) -> Self {
        self.ttl = ttl;
        self
    }

    /// Makes this a fragment: clears DF, sets the offset (8-byte units) and MF.
    pub fn fragment(mut self, offset8: u16, more: bool) -> Self {
        self.df = false;
        self.frag_offset8 = offset8;
        self.mf = more;
        self
    }

    /// A 20-byte header (no options) with a correct header checksum, then `payload`.
    pub fn packet(&self, proto: u8, payload: &[u8]) -> Vec<u8> {
        let total = (20 + payload.len()) as u16;
        let mut flags_frag = self.frag_offset8 & 0x1fff;
        if self.df {
            flags_frag |= 0x4000;
        }
        if self.mf {
            flags_frag |= 0x2000;
        }
        let mut p = Vec::with_capacity(total as usize);
        p.push(0x45);
        p.push(self.tos);
        p.extend_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&self.id.to_be_bytes());
        p.extend_from_slice(&flags_frag.to_be_bytes());
        p.push(self.ttl);
        p.push(proto);
        p.extend_from_slice(&[0, 0]);
        p.extend_from_slice(&self.src);
        p.extend_from_slice(&self.dst);
        let ck = internet_checksum(&p);
        p[10..12].copy_from_slice(&ck.to_be_bytes());
        p.extend_from_slice(payload);
        p
    }
}

/// Splits an upper-layer message (`l4`, already checksummed over the whole datagram) into
/// IPv4 fragments of at most `chunk` payload bytes (rounded down to a multiple of 8).
pub fn fragment_v4(ip: &Ipv4, proto: u8, l4: &[u8], chunk: usize) -> Vec<Vec<u8>> {
    let chunk = (chunk / 8).max(1) * 8;
    let n = l4.len().div_ceil(chunk);
    (0..n)
        .map(|i| {
            let start = i * chunk;
            let end = (start + chunk).min(l4.len());
            ip.clone()
                .fragment((start / 8) as u16, i + 1 < n)
                .packet(proto, &l4[start..end])
        })
        .collect()
}

/// An IPv6 extension header to insert between the fixed header and the upper layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ext6 {
    /// Hop-by-hop options: a Router Alert (MLD) option and PadN, 8 bytes.
    HopByHop,
    /// Destination options: one PadN option, 8 bytes.
    DestOpts,
    /// Fragment header, 8 bytes; `offset8` in 8-byte units.
    Fragment {
        /// Fragment offset in 8-byte units.
        offset8: u16,
        /// M flag.
        more: bool,
        /// Identification.
        ident: u32,
    },
}

impl Ext6 {
    fn code(&self) -> u8 {
        match self {
            Ext6::HopByHop => ipproto::HOPOPT,
            Ext6::DestOpts => ipproto::DSTOPTS,
            Ext6::Fragment { .. } => ipproto::FRAGMENT,
        }
    }

    fn encode(&self, next: u8, out: &mut Vec<u8>) {
        match self {
            Ext6::HopByHop => out.extend_from_slice(&[next, 0, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00]),
            Ext6::DestOpts => out.extend_from_slice(&[next, 0, 0x01, 0x04, 0, 0, 0, 0]),
            Ext6::Fragment {
                offset8,
                more,
                ident,
            } => {
                out.push(next);
                out.push(0);
                let v = (offset8 << 3) | u16::from(*more);
                out.extend_from_slice(&v.to_be_bytes());
                out.extend_from_slice(&ident.to_be_bytes());
            }
        }
    }
}

/// IPv6 header settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv6 {
    /// Source address.
    pub src: [u8; 16],
    /// Destination address.
    pub dst: [u8; 16],
    /// Hop limit.
    pub hop_limit: u8,
    /// Flow label (20 bits).
    pub flow_label: u32,
    /// Extension headers in order.
    pub ext: Vec<Ext6>,
}

impl Ipv6 {
    /// Hop limit 64, flow label 0, no extension headers.
    pub fn new(src: [u8; 16], dst: [u8; 16]) -> Self {
        Ipv6 {
            src,
            dst,
            hop_limit: 64,
            flow_label: 0,
            ext: Vec::new(),
        }
    }

    /// Adds an extension header (after those already added).
    pub fn with_ext(mut self, e: Ext6) -> Self {
        self.ext.push(e);
        self
    }

    /// Sets the hop limit.
    pub fn hop_limit(mut self, h: u8) -> Self {
        self.hop_limit = h;
        self
    }

    /// Fixed header, extension headers, then `payload` whose protocol is `proto`.
    pub fn packet(&self, proto: u8, payload: &[u8]) -> Vec<u8> {
        let mut exts = Vec::with_capacity(8 * self.ext.len());
        for (i, e) in self.ext.iter().enumerate() {
            let next = self.ext.get(i + 1).map_or(proto, Ext6::code);
            e.encode(next, &mut exts);
        }
        let first = self.ext.first().map_or(proto, Ext6::code);
        let plen = (exts.len() + payload.len()) as u16;
        let mut p = Vec::with_capacity(40 + plen as usize);
        let vtf = (6u32 << 28) | (self.flow_label & 0x000f_ffff);
        p.extend_from_slice(&vtf.to_be_bytes());
        p.extend_from_slice(&plen.to_be_bytes());
        p.push(first);
        p.push(self.hop_limit);
        p.extend_from_slice(&self.src);
        p.extend_from_slice(&self.dst);
        p.extend_from_slice(&exts);
        p.extend_from_slice(payload);
        p
    }
}

/// Either IP version; carries what an upper layer needs for its pseudo-header checksum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ip {
    /// IPv4.
    V4(Ipv4),
    /// IPv6.
    V6(Ipv6),
}

impl Ip {
    /// The EtherType for this version.
    pub fn ethertype(&self) -> u16 {
        match self {
            Ip::V4(_) => ethertype::IPV4,
            Ip::V6(_) => ethertype::IPV6,
        }
    }

    /// Wraps an upper-layer message in this IP header.
    pub fn packet(&self, proto: u8, l4: &[u8]) -> Vec<u8> {
        match self {
            Ip::V4(h) => h.packet(proto, l4),
            Ip::V6(h) => h.packet(proto, l4),
        }
    }

    /// Fills the checksum at `l4[ck_at..ck_at+2]` (which must be zero) using the
    /// pseudo-header for `proto` and the full `l4` length.
    fn fill_checksum(&self, proto: u8, l4: &mut [u8], ck_at: usize) {
        let mut buf = Vec::with_capacity(40 + l4.len());
        match self {
            Ip::V4(h) => {
                buf.extend_from_slice(&h.src);
                buf.extend_from_slice(&h.dst);
                buf.push(0);
                buf.push(proto);
                buf.extend_from_slice(&(l4.len() as u16).to_be_bytes());
            }
            Ip::V6(h) => {
                buf.extend_from_slice(&h.src);
                buf.extend_from_slice(&h.dst);
                buf.extend_from_slice(&(l4.len() as u32).to_be_bytes());
                buf.extend_from_slice(&[0, 0, 0, proto]);
            }
        }
        buf.extend_from_slice(l4);
        let mut ck = internet_checksum(&buf);
        if proto == ipproto::UDP && ck == 0 {
            ck = 0xffff;
        }
        l4[ck_at..ck_at + 2].copy_from_slice(&ck.to_be_bytes());
    }

    /// A whole IP packet carrying a TCP segment.
    pub fn tcp(&self, tcp: &Tcp, payload: &[u8]) -> Vec<u8> {
        self.packet(ipproto::TCP, &tcp_segment(self, tcp, payload))
    }

    /// A whole IP packet carrying a UDP datagram.
    pub fn udp(&self, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        self.packet(ipproto::UDP, &udp_datagram(self, sport, dport, payload))
    }
}

// ---------------------------------------------------------------- TCP / UDP

/// TCP header settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tcp {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (sent as is; meaningful when ACK is set).
    pub ack: u32,
    /// Flag bits, see [`tcpflags`].
    pub flags: u8,
    /// Receive window.
    pub window: u16,
    /// Raw options, padded by the builder to a multiple of 4.
    pub options: Vec<u8>,
}

impl Tcp {
    /// Window 64240, no options.
    pub fn new(sport: u16, dport: u16, seq: u32, ack: u32, flags: u8) -> Self {
        Tcp {
            sport,
            dport,
            seq,
            ack,
            flags,
            window: 64240,
            options: Vec::new(),
        }
    }

    /// Adds the usual SYN options: MSS 1460, NOP, window scale 7, NOP, NOP, SACK permitted.
    pub fn syn_options(mut self) -> Self {
        self.options = vec![2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 4, 2];
        self
    }

    /// Sets the window.
    pub fn window(mut self, w: u16) -> Self {
        self.window = w;
        self
    }
}

/// A TCP segment (header + payload) with its checksum computed for `ip`.
pub fn tcp_segment(ip: &Ip, tcp: &Tcp, payload: &[u8]) -> Vec<u8> {
    let mut opts = tcp.options.clone();
    opts.resize(opts.len().next_multiple_of(4), 0);
    let hlen = 20 + opts.len();
    let mut s = Vec::with_capacity(hlen + payload.len());
    s.extend_from_slice(&tcp.sport.to_be_bytes());
    s.extend_from_slice(&tcp.dport.to_be_bytes());
    s.extend_from_slice(&tcp.seq.to_be_bytes());
    s.extend_from_slice(&tcp.ack.to_be_bytes());
    s.push(((hlen / 4) as u8) << 4);
    s.push(tcp.flags);
    s.extend_from_slice(&tcp.window.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    s.extend_from_slice(&opts);
    s.extend_from_slice(payload);
    ip.fill_checksum(ipproto::TCP, &mut s, 16);
    s
}

/// A UDP datagram (header + payload) with its checksum computed for `ip`.
pub fn udp_datagram(ip: &Ip, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut d = Vec::with_capacity(8 + payload.len());
    d.extend_from_slice(&sport.to_be_bytes());
    d.extend_from_slice(&dport.to_be_bytes());
    d.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(payload);
    ip.fill_checksum(ipproto::UDP, &mut d, 6);
    d
}

// ---------------------------------------------------------------- ICMP

/// ICMPv4 destination-unreachable code: port unreachable.
pub const ICMP4_PORT_UNREACHABLE: u8 = 3;
/// ICMPv4 destination-unreachable code: host administratively prohibited.
pub const ICMP4_HOST_ADMIN_PROHIBITED: u8 = 10;
/// ICMPv4 destination-unreachable code: communication administratively prohibited.
pub const ICMP4_ADMIN_PROHIBITED: u8 = 13;
/// ICMPv6 destination-unreachable code: administratively prohibited.
pub const ICMP6_ADMIN_PROHIBITED: u8 = 1;
/// ICMPv6 destination-unreachable code: port unreachable.
pub const ICMP6_PORT_UNREACHABLE: u8 = 4;

/// An ICMPv4 destination unreachable (type 3) message quoting the original IP header plus
/// the first 8 bytes of its payload. Put it in an IPv4 packet with protocol 1.
pub fn icmpv4_unreachable(code: u8, original_ip: &[u8]) -> Vec<u8> {
    let ihl = usize::from(original_ip[0] & 0x0f) * 4;
    let quote = &original_ip[..(ihl + 8).min(original_ip.len())];
    let mut m = vec![3, code, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(quote);
    let ck = internet_checksum(&m);
    m[2..4].copy_from_slice(&ck.to_be_bytes());
    m
}

/// An ICMPv4 echo request or reply (`typ` 8 or 0).
pub fn icmpv4_echo(typ: u8, ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let mut m = vec![typ, 0, 0, 0];
    m.extend_from_slice(&ident.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(data);
    let ck = internet_checksum(&m);
    m[2..4].copy_from_slice(&ck.to_be_bytes());
    m
}

/// An ICMPv6 destination unreachable (type 1) message from `ip.src` to `ip.dst`, quoting as
/// much of the original packet as fits in the IPv6 minimum MTU (1280). Put it in `ip` with
/// next header 58.
pub fn icmpv6_unreachable(ip: &Ipv6, code: u8, original_ip: &[u8]) -> Vec<u8> {
    const MAX_QUOTE: usize = 1280 - 40 - 8;
    let quote = &original_ip[..original_ip.len().min(MAX_QUOTE)];
    let mut m = vec![1, code, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(quote);
    Ip::V6(ip.clone()).fill_checksum(ipproto::ICMPV6, &mut m, 2);
    m
}

/// An ICMPv6 neighbor solicitation (`solicit`, type 135, with a source link-layer address
/// option) or a solicited, override neighbor advertisement (type 136, with a target
/// link-layer address option) about `target`. Send it with hop limit 255.
pub fn icmpv6_neighbor(ip: &Ipv6, solicit: bool, target: [u8; 16], mac: Mac) -> Vec<u8> {
    let (typ, flags, opt) = if solicit {
        (135u8, 0u8, 1u8)
    } else {
        (136, 0x60, 2)
    };
    let mut m = vec![typ, 0, 0, 0, flags, 0, 0, 0];
    m.extend_from_slice(&target);
    m.extend_from_slice(&[opt, 1]);
    m.extend_from_slice(&mac);
    Ip::V6(ip.clone()).fill_checksum(ipproto::ICMPV6, &mut m, 2);
    m
}

/// The solicited-node multicast address (ff02::1:ffXX:XXXX) of `addr`.
pub fn solicited_node(addr: [u8; 16]) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0xff;
    a[1] = 0x02;
    a[11] = 1;
    a[12] = 0xff;
    a[13..].copy_from_slice(&addr[13..]);
    a
}

/// The Ethernet multicast MAC (33:33:...) for an IPv6 multicast address.
pub fn ipv6_multicast_mac(addr: [u8; 16]) -> Mac {
    [0x33, 0x33, addr[12], addr[13], addr[14], addr[15]]
}

// ---------------------------------------------------------------- DNS

/// DNS record types used by the fixtures.
pub mod dnstype {
    /// IPv4 address.
    pub const A: u16 = 1;
    /// Canonical name.
    pub const CNAME: u16 = 5;
    /// IPv6 address.
    pub const AAAA: u16 = 28;
}

/// Answer data of a DNS resource record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsData<'a> {
    /// An A record.
    A([u8; 4]),
    /// An AAAA record.
    Aaaa([u8; 16]),
    /// A CNAME record (the target name; compressed when it can be).
    Cname(&'a str),
}

/// One answer record (class IN).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DnsAnswer<'a> {
    /// Owner name.
    pub name: &'a str,
    /// Time to live in seconds.
    pub ttl: u32,
    /// Record data.
    pub data: DnsData<'a>,
}

/// Writes a domain name, compressing against names already written (pointers only ever
/// point backwards, as RFC 1035 requires).
struct NameWriter {
    seen: Vec<(String, u16)>,
}

impl NameWriter {
    fn write(&mut self, msg: &mut Vec<u8>, name: &str) {
        let name = name.trim_end_matches('.');
        let labels: Vec<&str> = name.split('.').filter(|l| !l.is_empty()).collect();
        for i in 0..labels.len() {
            let suffix = labels[i..].join(".").to_ascii_lowercase();
            if let Some((_, off)) = self.seen.iter().find(|(s, _)| *s == suffix) {
                msg.extend_from_slice(&(0xc000 | off).to_be_bytes());
                return;
            }
            if msg.len() < 0x3fff {
                self.seen.push((suffix, msg.len() as u16));
            }
            msg.push(labels[i].len() as u8);
            msg.extend_from_slice(labels[i].as_bytes());
        }
        msg.push(0);
    }
}

fn dns_header(id: u16, flags: u16, qd: u16, an: u16) -> Vec<u8> {
    let mut m = Vec::with_capacity(128);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&flags.to_be_bytes());
    m.extend_from_slice(&qd.to_be_bytes());
    m.extend_from_slice(&an.to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    m
}

/// A standard query with RD set and one question of class IN.
pub fn dns_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut m = dns_header(id, 0x0100, 1, 0);
    NameWriter { seen: Vec::new() }.write(&mut m, name);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    m
}

/// A response (QR, RD, RA set, `rcode` in the low 4 bits) echoing the question and carrying
/// `answers`; owner names and CNAME targets are compressed against earlier names.
pub fn dns_response(
    id: u16,
    name: &str,
    qtype: u16,
    rcode: u8,
    answers: &[DnsAnswer<'_>],
) -> Vec<u8> {
    let flags = 0x8180 | u16::from(rcode & 0x0f);
    let mut m = dns_header(id, flags, 1, answers.len() as u16);
    let mut names = NameWriter { seen: Vec::new() };
    names.write(&mut m, name);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    for a in answers {
        names.write(&mut m, a.name);
        let rtype = match a.data {
            DnsData::A(_) => dnstype::A,
            DnsData::Aaaa(_) => dnstype::AAAA,
            DnsData::Cname(_) => dnstype::CNAME,
        };
        m.extend_from_slice(&rtype.to_be_bytes());
        m.extend_from_slice(&1u16.to_be_bytes());
        m.extend_from_slice(&a.ttl.to_be_bytes());
        let len_at = m.len();
        m.extend_from_slice(&[0, 0]);
        match a.data {
            DnsData::A(v) => m.extend_from_slice(&v),
            DnsData::Aaaa(v) => m.extend_from_slice(&v),
            DnsData::Cname(target) => names.write(&mut m, target),
        }
        let rdlen = (m.len() - len_at - 2) as u16;
        m[len_at..len_at + 2].copy_from_slice(&rdlen.to_be_bytes());
    }
    m
}

// ---------------------------------------------------------------- DHCP

/// DHCP message types (option 53).
pub mod dhcpmsg {
    /// DHCPDISCOVER.
    pub const DISCOVER: u8 = 1;
    /// DHCPOFFER.
    pub const OFFER: u8 = 2;
    /// DHCPREQUEST.
    pub const REQUEST: u8 = 3;
    /// DHCPACK.
    pub const ACK: u8 = 5;
    /// DHCPNAK.
    pub const NAK: u8 = 6;
}

/// A DHCP message. Option 53 is written first from `msg_type`, then `options` in order,
/// then the end option; the message is padded to the 300-byte BOOTP minimum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dhcp {
    /// 1 = BOOTREQUEST, 2 = BOOTREPLY.
    pub op: u8,
    /// Transaction id.
    pub xid: u32,
    /// Seconds since the client began.
    pub secs: u16,
    /// Broadcast flag.
    pub broadcast: bool,
    /// Client address.
    pub ciaddr: [u8; 4],
    /// "Your" address.
    pub yiaddr: [u8; 4],
    /// Next server address.
    pub siaddr: [u8; 4],
    /// Relay agent address.
    pub giaddr: [u8; 4],
    /// Client hardware address.
    pub chaddr: Mac,
    /// Option 53 value, see [`dhcpmsg`].
    pub msg_type: u8,
    /// Further options as (code, value).
    pub options: Vec<(u8, Vec<u8>)>,
}

impl Dhcp {
    /// A client message (op 1) with no addresses filled in.
    pub fn client(msg_type: u8, xid: u32, chaddr: Mac) -> Self {
        Dhcp {
            op: 1,
            xid,
            secs: 0,
            broadcast: false,
            ciaddr: [0; 4],
            yiaddr: [0; 4],
            siaddr: [0; 4],
            giaddr: [0; 4],
            chaddr,
            msg_type,
            options: Vec::new(),
        }
    }

    /// A server message (op 2) giving `yiaddr`.
    pub fn server(msg_type: u8, xid: u32, chaddr: Mac, yiaddr: [u8; 4]) -> Self {
        Dhcp {
            op: 2,
            yiaddr,
            ..Dhcp::client(msg_type, xid, chaddr)
        }
    }

    /// Adds a raw option.
    pub fn opt(mut self, code: u8, value: &[u8]) -> Self {
        self.options.push((code, value.to_vec()));
        self
    }

    /// Option 1, subnet mask.
    pub fn subnet_mask(self, m: [u8; 4]) -> Self {
        self.opt(1, &m)
    }

    /// Option 3, routers.
    pub fn router(self, r: [u8; 4]) -> Self {
        self.opt(3, &r)
    }

    /// Option 6, DNS servers.
    pub fn dns_servers(self, s: &[[u8; 4]]) -> Self {
        self.opt(6, &s.concat())
    }

    /// Option 12, host name.
    pub fn hostname(self, h: &str) -> Self {
        self.opt(12, h.as_bytes())
    }

    /// Option 42, NTP servers.
    pub fn ntp_servers(self, s: &[[u8; 4]]) -> Self {
        self.opt(42, &s.concat())
    }

    /// Option 50, requested IP address.
    pub fn requested_ip(self, ip: [u8; 4]) -> Self {
        self.opt(50, &ip)
    }

    /// Option 51, lease time in seconds.
    pub fn lease_time(self, secs: u32) -> Self {
        self.opt(51, &secs.to_be_bytes())
    }

    /// Option 54, server identifier.
    pub fn server_id(self, ip: [u8; 4]) -> Self {
        self.opt(54, &ip)
    }

    /// Option 55, parameter request list.
    pub fn param_request(self, codes: &[u8]) -> Self {
        self.opt(55, codes)
    }

    /// Option 60, vendor class identifier.
    pub fn vendor_class(self, v: &str) -> Self {
        self.opt(60, v.as_bytes())
    }

    /// Option 61, client identifier (hardware type 1 + MAC).
    pub fn client_id(self, mac: Mac) -> Self {
        let mut v = vec![1];
        v.extend_from_slice(&mac);
        self.opt(61, &v)
    }

    /// The encoded message (the UDP payload).
    pub fn build(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(300);
        m.extend_from_slice(&[self.op, 1, 6, 0]);
        m.extend_from_slice(&self.xid.to_be_bytes());
        m.extend_from_slice(&self.secs.to_be_bytes());
        let flags: u16 = if self.broadcast { 0x8000 } else { 0 };
        m.extend_from_slice(&flags.to_be_bytes());
        m.extend_from_slice(&self.ciaddr);
        m.extend_from_slice(&self.yiaddr);
        m.extend_from_slice(&self.siaddr);
        m.extend_from_slice(&self.giaddr);
        m.extend_from_slice(&self.chaddr);
        m.extend_from_slice(&[0u8; 10]); // rest of chaddr
        m.extend_from_slice(&[0u8; 64]); // sname
        m.extend_from_slice(&[0u8; 128]); // file
        m.extend_from_slice(&[0x63, 0x82, 0x53, 0x63]);
        m.extend_from_slice(&[53, 1, self.msg_type]);
        for (code, value) in &self.options {
            m.push(*code);
            m.push(value.len() as u8);
            m.extend_from_slice(value);
        }
        m.push(255);
        if m.len() < 300 {
            m.resize(300, 0);
        }
        m
    }
}

// ---------------------------------------------------------------- NTP

/// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01.
pub const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// A 64-bit NTP timestamp (32.32 fixed point since 1900) for Unix time in nanoseconds. The
/// fraction is rounded up, so converting back with truncation gives the same nanosecond.
pub fn ntp_timestamp(unix_ns: u64) -> u64 {
    let secs = unix_ns / 1_000_000_000 + NTP_UNIX_OFFSET;
    let frac = ((unix_ns % 1_000_000_000) << 32).div_ceil(1_000_000_000);
    (secs << 32) | frac
}

/// An NTPv4 client request (mode 3) with only the transmit timestamp set, as SNTP clients
/// send it.
pub fn ntp_request(transmit_ns: u64) -> Vec<u8> {
    let mut m = vec![0u8; 48];
    m[0] = 4 << 3 | 3;
    m[2] = 6; // poll 2^6
    m[3] = 0xec; // precision -20
    m[40..48].copy_from_slice(&ntp_timestamp(transmit_ns).to_be_bytes());
    m
}

/// Fields of an NTP server reply (mode 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NtpReply {
    /// Leap indicator (0..=3; 3 = clock unsynchronised).
    pub leap: u8,
    /// Stratum (1 = primary reference).
    pub stratum: u8,
    /// Reference id: 4 ASCII bytes at stratum 1, an IPv4 address above.
    pub refid: [u8; 4],
    /// Reference timestamp (Unix ns).
    pub reference_ns: u64,
    /// The request's transmit time (Unix ns), echoed as the origin timestamp.
    pub origin_ns: u64,
    /// Receive timestamp (Unix ns).
    pub receive_ns: u64,
    /// Transmit timestamp (Unix ns).
    pub transmit_ns: u64,
}

/// An NTPv4 server reply (mode 4).
pub fn ntp_reply(r: &NtpReply) -> Vec<u8> {
    let mut m = vec![0u8; 48];
    m[0] = (r.leap & 3) << 6 | 4 << 3 | 4;
    m[1] = r.stratum;
    m[2] = 6;
    m[3] = 0xe9; // precision -23
    m[4..8].copy_from_slice(&0x0000_0010u32.to_be_bytes()); // root delay
    m[8..12].copy_from_slice(&0x0000_0020u32.to_be_bytes()); // root dispersion
    m[12..16].copy_from_slice(&r.refid);
    m[16..24].copy_from_slice(&ntp_timestamp(r.reference_ns).to_be_bytes());
    m[24..32].copy_from_slice(&ntp_timestamp(r.origin_ns).to_be_bytes());
    m[32..40].copy_from_slice(&ntp_timestamp(r.receive_ns).to_be_bytes());
    m[40..48].copy_from_slice(&ntp_timestamp(r.transmit_ns).to_be_bytes());
    m
}

// ---------------------------------------------------------------- TLS

/// A TLS record: content type, version 0x0303, length, body.
pub fn tls_record(content_type: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut r = Vec::with_capacity(5 + body.len());
    r.push(content_type);
    r.extend_from_slice(&version.to_be_bytes());
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut h = Vec::with_capacity(4 + body.len());
    h.push(msg_type);
    h.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    h.extend_from_slice(body);
    h
}

fn extension(out: &mut Vec<u8>, typ: u16, data: &[u8]) {
    out.extend_from_slice(&typ.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// The server_name extension's body: a list holding one host_name.
fn sni_ext(sni: &str) -> Vec<u8> {
    let mut sn = Vec::with_capacity(5 + sni.len());
    sn.extend_from_slice(&((sni.len() + 3) as u16).to_be_bytes());
    sn.push(0);
    sn.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    sn.extend_from_slice(sni.as_bytes());
    sn
}

fn alpn_ext(protocols: &[&str]) -> Vec<u8> {
    let mut list = Vec::new();
    for p in protocols {
        list.push(p.len() as u8);
        list.extend_from_slice(p.as_bytes());
    }
    let mut d = (list.len() as u16).to_be_bytes().to_vec();
    d.extend_from_slice(&list);
    d
}

/// A TLS 1.2 ClientHello in one handshake record (record version 0x0301 as clients send
/// it): 32-byte session id, ECDHE/RSA suites, null compression, and the extensions
/// server_name (`sni`), ec_point_formats, supported_groups, session_ticket, ALPN (when
/// `alpn` is non-empty), extended_master_secret, signature_algorithms, renegotiation_info.
pub fn tls_client_hello(
    sni: &str,
    alpn: &[&str],
    random: [u8; 32],
    session_id: [u8; 32],
) -> Vec<u8> {
    const SUITES: [u16; 9] = [
        0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0x009c, 0x002f, 0x00ff,
    ];
    client_hello(sni, alpn, random, session_id, &SUITES, None)
}

/// The ClientHello both builders share; `tls13_share` adds encrypt_then_mac,
/// supported_versions, psk_key_exchange_modes and key_share, and drops
/// renegotiation_info.
fn client_hello(
    sni: &str,
    alpn: &[&str],
    random: [u8; 32],
    session_id: [u8; 32],
    suites: &[u16],
    tls13_share: Option<[u8; 32]>,
) -> Vec<u8> {
    let mut b = Vec::with_capacity(320);
    b.extend_from_slice(&0x0303u16.to_be_bytes());
    b.extend_from_slice(&random);
    b.push(32);
    b.extend_from_slice(&session_id);
    b.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        b.extend_from_slice(&s.to_be_bytes());
    }
    b.extend_from_slice(&[1, 0]);
    let mut ext = Vec::new();
    extension(&mut ext, 0, &sni_ext(sni));
    extension(&mut ext, 11, &[1, 0]);
    extension(&mut ext, 10, &[0, 6, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18]);
    extension(&mut ext, 35, &[]);
    if !alpn.is_empty() {
        extension(&mut ext, 16, &alpn_ext(alpn));
    }
    if tls13_share.is_some() {
        extension(&mut ext, 22, &[]);
    }
    extension(&mut ext, 23, &[]);
    extension(
        &mut ext,
        13,
        &[
            0, 16, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03, 0x08, 0x05, 0x05, 0x01, 0x08,
            0x06, 0x06, 0x01,
        ],
    );
    match tls13_share {
        None => extension(&mut ext, 0xff01, &[0]),
        Some(share) => {
            extension(&mut ext, 43, &[4, 0x03, 0x04, 0x03, 0x03]);
            extension(&mut ext, 45, &[1, 1]);
            let mut ks = Vec::with_capacity(38);
            ks.extend_from_slice(&36u16.to_be_bytes());
            ks.extend_from_slice(&[0x00, 0x1d, 0x00, 0x20]);
            ks.extend_from_slice(&share);
            extension(&mut ext, 51, &ks);
        }
    }
    b.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    b.extend_from_slice(&ext);
    tls_record(22, 0x0301, &handshake(1, &b))
}

/// A TLS 1.2 ServerHello record echoing `session_id` (an abbreviated, resumed handshake
/// when it equals the client's) with `cipher`, and ALPN when given.
pub fn tls_server_hello(
    random: [u8; 32],
    session_id: [u8; 32],
    cipher: u16,
    alpn: Option<&str>,
) -> Vec<u8> {
    tls_record(
        22,
        0x0303,
        &tls_server_hello_msg(random, session_id, cipher, alpn),
    )
}

/// The TLS 1.2 ServerHello handshake message of [`tls_server_hello`], without its record,
/// to send in one record with the messages that follow it.
pub fn tls_server_hello_msg(
    random: [u8; 32],
    session_id: [u8; 32],
    cipher: u16,
    alpn: Option<&str>,
) -> Vec<u8> {
    let mut b = Vec::with_capacity(128);
    b.extend_from_slice(&0x0303u16.to_be_bytes());
    b.extend_from_slice(&random);
    b.push(32);
    b.extend_from_slice(&session_id);
    b.extend_from_slice(&cipher.to_be_bytes());
    b.push(0);
    let mut ext = Vec::new();
    extension(&mut ext, 0xff01, &[0]);
    if let Some(p) = alpn {
        extension(&mut ext, 16, &alpn_ext(&[p]));
    }
    extension(&mut ext, 23, &[]);
    b.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    b.extend_from_slice(&ext);
    handshake(2, &b)
}

/// A ChangeCipherSpec record.
pub fn tls_change_cipher_spec() -> Vec<u8> {
    tls_record(20, 0x0303, &[1])
}

/// Deterministic filler bytes standing in for ciphertext (a simple LCG from `seed`).
pub fn filler(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect()
}

/// TLS alert level: fatal.
pub const TLS_ALERT_FATAL: u8 = 2;
/// TLS alert description: handshake_failure.
pub const TLS_ALERT_HANDSHAKE_FAILURE: u8 = 40;

/// A TLS 1.3 ClientHello in one handshake record, as a TLS 1.3 stack sends it: record
/// version 0x0301, legacy version 0x0303, a 32-byte legacy session id, the three TLS 1.3
/// suites before six TLS 1.2 ECDHE suites, and the extensions server_name,
/// ec_point_formats, supported_groups, session_ticket, ALPN (when `alpn` is non-empty),
/// encrypt_then_mac, extended_master_secret, signature_algorithms, supported_versions
/// (1.3, 1.2), psk_key_exchange_modes (psk_dhe_ke) and key_share (one X25519 share).
pub fn tls13_client_hello(
    sni: &str,
    alpn: &[&str],
    random: [u8; 32],
    session_id: [u8; 32],
    x25519_share: [u8; 32],
) -> Vec<u8> {
    const SUITES: [u16; 9] = [
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
    ];
    client_hello(sni, alpn, random, session_id, &SUITES, Some(x25519_share))
}

/// A TLS 1.3 ServerHello record (legacy version 0x0303, `session_id` echoed, `cipher` one of
/// 0x1301..=0x1303) with the extensions supported_versions (0x0304) and key_share (X25519).
/// What a TLS 1.3 server sends after it, encrypted extensions, certificate, verify and
/// finished, travels in application-data records: see [`tls_app_data`].
pub fn tls13_server_hello(
    random: [u8; 32],
    session_id: [u8; 32],
    cipher: u16,
    x25519_share: [u8; 32],
) -> Vec<u8> {
    let mut b = Vec::with_capacity(128);
    b.extend_from_slice(&0x0303u16.to_be_bytes());
    b.extend_from_slice(&random);
    b.push(32);
    b.extend_from_slice(&session_id);
    b.extend_from_slice(&cipher.to_be_bytes());
    b.push(0);
    let mut ext = Vec::new();
    extension(&mut ext, 43, &[0x03, 0x04]);
    let mut ks = Vec::with_capacity(36);
    ks.extend_from_slice(&[0x00, 0x1d, 0x00, 0x20]);
    ks.extend_from_slice(&x25519_share);
    extension(&mut ext, 51, &ks);
    b.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    b.extend_from_slice(&ext);
    tls_record(22, 0x0303, &handshake(2, &b))
}

/// `len` bytes of ciphertext in application-data records (type 23, at most 2^14 bytes
/// each), filled from `seed`.
pub fn tls_app_data(seed: u32, len: usize) -> Vec<u8> {
    let body = filler(seed, len);
    let mut out = Vec::with_capacity(len + 5 * (len / 16384 + 1));
    for chunk in body.chunks(16384) {
        out.extend_from_slice(&tls_record(23, 0x0303, chunk));
    }
    out
}

/// Handshake messages (already framed, e.g. by [`tls_server_hello_msg`] and
/// [`tls_certificate_msg`]) in as many handshake records of at most 2^14 bytes as they
/// need; a message may straddle two records, as RFC 5246 allows.
pub fn tls_handshake_records(messages: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(messages.len() + 10);
    for chunk in messages.chunks(16384) {
        out.extend_from_slice(&tls_record(22, 0x0303, chunk));
    }
    out
}

/// A TLS 1.2 Certificate handshake message carrying `chain` (DER certificates, leaf first).
pub fn tls_certificate_msg(chain: &[Vec<u8>]) -> Vec<u8> {
    handshake(11, &certificate_body(chain))
}

/// The body of a TLS 1.2 (or DTLS) Certificate message: the 24-bit length of the list,
/// then each certificate with its 24-bit length.
pub fn certificate_body(chain: &[Vec<u8>]) -> Vec<u8> {
    let mut list = Vec::new();
    for c in chain {
        list.extend_from_slice(&(c.len() as u32).to_be_bytes()[1..]);
        list.extend_from_slice(c);
    }
    let mut body = Vec::with_capacity(3 + list.len());
    body.extend_from_slice(&(list.len() as u32).to_be_bytes()[1..]);
    body.extend_from_slice(&list);
    body
}

/// A TLS 1.2 ServerKeyExchange for ECDHE over X25519, signed with rsa_pss_rsae_sha256
/// (the 256-byte signature is filler from `seed`).
pub fn tls_server_key_exchange_msg(x25519_share: [u8; 32], seed: u32) -> Vec<u8> {
    handshake(12, &server_key_exchange_body(x25519_share, seed))
}

/// The body of [`tls_server_key_exchange_msg`] (also a DTLS 1.2 ServerKeyExchange body).
pub fn server_key_exchange_body(x25519_share: [u8; 32], seed: u32) -> Vec<u8> {
    let mut b = vec![3, 0x00, 0x1d, 32];
    b.extend_from_slice(&x25519_share);
    b.extend_from_slice(&signed(0x0804, seed));
    b
}

/// A digitally-signed struct: the signature scheme and a 256-byte filler signature.
fn signed(scheme: u16, seed: u32) -> Vec<u8> {
    let mut b = Vec::with_capacity(260);
    b.extend_from_slice(&scheme.to_be_bytes());
    b.extend_from_slice(&256u16.to_be_bytes());
    b.extend_from_slice(&filler(seed, 256));
    b
}

/// The body of a (D)TLS 1.2 CertificateRequest: certificate type rsa_sign, signature
/// scheme rsa_pkcs1_sha256, no CA names.
pub fn certificate_request_body() -> Vec<u8> {
    vec![1, 1, 0, 2, 0x04, 0x01, 0, 0]
}

/// The body of a (D)TLS 1.2 CertificateVerify: rsa_pkcs1_sha256 and a filler signature.
pub fn certificate_verify_body(seed: u32) -> Vec<u8> {
    signed(0x0401, seed)
}

/// The body of an ECDHE ClientKeyExchange: the client's X25519 share.
pub fn client_key_exchange_body(x25519_share: [u8; 32]) -> Vec<u8> {
    let mut b = vec![32];
    b.extend_from_slice(&x25519_share);
    b
}

/// A TLS 1.2 ServerHelloDone handshake message.
pub fn tls_server_hello_done_msg() -> Vec<u8> {
    handshake(14, &[])
}

/// A TLS 1.2 ClientKeyExchange handshake message for ECDHE (the client's X25519 share).
pub fn tls_client_key_exchange_msg(x25519_share: [u8; 32]) -> Vec<u8> {
    handshake(16, &client_key_exchange_body(x25519_share))
}

/// A cleartext alert record (level 1 warning or 2 fatal, RFC 5246 description code).
pub fn tls_alert(level: u8, description: u8) -> Vec<u8> {
    tls_record(21, 0x0303, &[level, description])
}

// ---------------------------------------------------------------- X.509 (DER)

/// A DER tag-length-value (definite length, short or long form).
pub fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 4);
    out.push(tag);
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = (n as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// An OBJECT IDENTIFIER from its arcs (the first two packed into one byte, the rest in
/// base 128 with continuation bits).
pub fn der_oid(arcs: &[u32]) -> Vec<u8> {
    let mut body = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &arc in &arcs[2..] {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        groups.reverse();
        body.extend_from_slice(&groups);
    }
    der(0x06, &body)
}

/// Object identifiers used in the certificates, as arcs.
pub mod oid {
    /// id-at-commonName.
    pub const CN: &[u32] = &[2, 5, 4, 3];
    /// id-at-countryName.
    pub const C: &[u32] = &[2, 5, 4, 6];
    /// id-at-localityName.
    pub const L: &[u32] = &[2, 5, 4, 7];
    /// id-at-stateOrProvinceName.
    pub const ST: &[u32] = &[2, 5, 4, 8];
    /// id-at-organizationName.
    pub const O: &[u32] = &[2, 5, 4, 10];
    /// id-at-organizationalUnitName.
    pub const OU: &[u32] = &[2, 5, 4, 11];
    /// rsaEncryption.
    pub const RSA: &[u32] = &[1, 2, 840, 113_549, 1, 1, 1];
    /// sha256WithRSAEncryption.
    pub const SHA256_RSA: &[u32] = &[1, 2, 840, 113_549, 1, 1, 11];
    /// id-ce-subjectKeyIdentifier.
    pub const SKI: &[u32] = &[2, 5, 29, 14];
    /// id-ce-keyUsage.
    pub const KEY_USAGE: &[u32] = &[2, 5, 29, 15];
    /// id-ce-subjectAltName.
    pub const SAN: &[u32] = &[2, 5, 29, 17];
    /// id-ce-basicConstraints.
    pub const BASIC_CONSTRAINTS: &[u32] = &[2, 5, 29, 19];
    /// id-ce-authorityKeyIdentifier.
    pub const AKI: &[u32] = &[2, 5, 29, 35];
    /// id-ce-extKeyUsage.
    pub const EXT_KEY_USAGE: &[u32] = &[2, 5, 29, 37];
    /// id-kp-serverAuth.
    pub const SERVER_AUTH: &[u32] = &[1, 3, 6, 1, 5, 5, 7, 3, 1];
}

/// A distinguished name, most significant part first: `(attribute oid, value)`.
pub type DistinguishedName<'a> = &'a [(&'a [u32], &'a str)];

/// The DER Name: one single-attribute RDN per part; countryName as PrintableString, the rest
/// as UTF8String.
pub fn der_name(parts: DistinguishedName<'_>) -> Vec<u8> {
    let mut rdns = Vec::new();
    for (attr, value) in parts {
        let tag = if *attr == oid::C { 0x13 } else { 0x0c };
        let atv = der(0x30, &[der_oid(attr), der(tag, value.as_bytes())].concat());
        rdns.extend_from_slice(&der(0x31, &atv));
    }
    der(0x30, &rdns)
}

/// What an X.509 v3 certificate built by [`x509_certificate`] says.
#[derive(Clone, Copy, Debug)]
pub struct CertSpec<'a> {
    /// Serial number (big-endian, positive: the first byte below 0x80).
    pub serial: &'a [u8],
    /// Issuer name.
    pub issuer: DistinguishedName<'a>,
    /// Subject name.
    pub subject: DistinguishedName<'a>,
    /// notBefore as UTCTime text, `YYMMDDHHMMSSZ`.
    pub not_before: &'a str,
    /// notAfter as UTCTime text.
    pub not_after: &'a str,
    /// DNS names of the subjectAltName extension (none: no extension).
    pub dns_names: &'a [&'a str],
    /// A CA certificate (basicConstraints cA, keyCertSign) rather than a server's.
    pub ca: bool,
    /// Seed of the subject's filler RSA key and key identifier.
    pub key_seed: u32,
    /// Seed of the issuer's key identifier (equal to `key_seed` when self-signed).
    pub issuer_key_seed: u32,
}

fn x509_extension(id: &[u32], critical: bool, value: &[u8]) -> Vec<u8> {
    let mut e = der_oid(id);
    if critical {
        e.extend_from_slice(&der(0x01, &[0xff]));
    }
    e.extend_from_slice(&der(0x04, value));
    der(0x30, &e)
}

/// A DER X.509 v3 certificate with an RSA-2048 key and a sha256WithRSAEncryption signature
/// whose modulus and signature are filler: it parses (x509-parser, openssl) and carries the
/// names, validity and extensions of `spec`, but no signature verifies.
pub fn x509_certificate(spec: &CertSpec<'_>) -> Vec<u8> {
    let alg = der(0x30, &[der_oid(oid::SHA256_RSA), der(0x05, &[])].concat());
    let validity = der(
        0x30,
        &[
            der(0x17, spec.not_before.as_bytes()),
            der(0x17, spec.not_after.as_bytes()),
        ]
        .concat(),
    );
    let mut modulus = vec![0u8];
    modulus.extend_from_slice(&filler(spec.key_seed, 256));
    modulus[1] |= 0x80;
    modulus[256] |= 1;
    let rsa_key = der(
        0x30,
        &[der(0x02, &modulus), der(0x02, &[0x01, 0x00, 0x01])].concat(),
    );
    let spki = der(
        0x30,
        &[
            der(0x30, &[der_oid(oid::RSA), der(0x05, &[])].concat()),
            der(0x03, &[&[0u8][..], &rsa_key].concat()),
        ]
        .concat(),
    );
    let mut exts = Vec::new();
    if spec.ca {
        exts.push(x509_extension(
            oid::BASIC_CONSTRAINTS,
            true,
            &der(0x30, &der(0x01, &[0xff])),
        ));
        // digitalSignature, keyCertSign, cRLSign
        exts.push(x509_extension(oid::KEY_USAGE, true, &der(0x03, &[1, 0x86])));
    } else {
        exts.push(x509_extension(
            oid::BASIC_CONSTRAINTS,
            true,
            &der(0x30, &[]),
        ));
        // digitalSignature, keyEncipherment
        exts.push(x509_extension(oid::KEY_USAGE, true, &der(0x03, &[5, 0xa0])));
        exts.push(x509_extension(
            oid::EXT_KEY_USAGE,
            false,
            &der(0x30, &der_oid(oid::SERVER_AUTH)),
        ));
    }
    exts.push(x509_extension(
        oid::SKI,
        false,
        &der(0x04, &filler(spec.key_seed ^ 0x5151, 20)),
    ));
    exts.push(x509_extension(
        oid::AKI,
        false,
        &der(0x30, &der(0x80, &filler(spec.issuer_key_seed ^ 0x5151, 20))),
    ));
    if !spec.dns_names.is_empty() {
        let names: Vec<u8> = spec
            .dns_names
            .iter()
            .flat_map(|n| der(0x82, n.as_bytes()))
            .collect();
        exts.push(x509_extension(oid::SAN, false, &der(0x30, &names)));
    }
    let tbs = der(
        0x30,
        &[
            der(0xa0, &der(0x02, &[2])),
            der(0x02, spec.serial),
            alg.clone(),
            der_name(spec.issuer),
            validity,
            der_name(spec.subject),
            spki,
            der(0xa3, &der(0x30, &exts.concat())),
        ]
        .concat(),
    );
    let mut sig = vec![0u8];
    sig.extend_from_slice(&filler(
        spec.issuer_key_seed.wrapping_add(spec.key_seed),
        256,
    ));
    der(0x30, &[tbs, alg, der(0x03, &sig)].concat())
}

// ---------------------------------------------------------------- MQTT, HTTP

fn mqtt_remaining_length(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            break;
        }
    }
}

fn mqtt_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// An MQTT 3.1.1 CONNECT (protocol "MQTT", level 4, clean session) with `client_id` and an
/// optional user name.
pub fn mqtt_connect(client_id: &str, keep_alive: u16, username: Option<&str>) -> Vec<u8> {
    let mut v = Vec::new();
    mqtt_str(&mut v, "MQTT");
    v.push(4);
    v.push(0x02 | if username.is_some() { 0x80 } else { 0 });
    v.extend_from_slice(&keep_alive.to_be_bytes());
    mqtt_str(&mut v, client_id);
    if let Some(u) = username {
        mqtt_str(&mut v, u);
    }
    let mut p = vec![0x10];
    mqtt_remaining_length(&mut p, v.len());
    p.extend_from_slice(&v);
    p
}

/// An MQTT 3.1.1 CONNACK with the session-present flag and return code (0 = accepted,
/// 5 = not authorised).
pub fn mqtt_connack(session_present: bool, code: u8) -> Vec<u8> {
    vec![0x20, 2, u8::from(session_present), code]
}

/// An MQTT PUBLISH at QoS 0.
pub fn mqtt_publish(topic: &str, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    mqtt_str(&mut v, topic);
    v.extend_from_slice(payload);
    let mut p = vec![0x30];
    mqtt_remaining_length(&mut p, v.len());
    p.extend_from_slice(&v);
    p
}

/// An HTTP/1.1 GET request with Host, User-Agent and Accept headers.
pub fn http_get(host: &str, path: &str, user_agent: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\nAccept: */*\r\n\r\n"
    )
    .into_bytes()
}

/// An HTTP/1.1 response with a Content-Length and a text body.
pub fn http_response(status: u16, reason: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// An HTTP/1.1 request: request line, `headers` in order, blank line, `body`.
pub fn http_request(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    http_message(&format!("{method} {target} HTTP/1.1"), headers, body)
}

/// An HTTP/1.1 response: status line, `headers` in order, blank line, `body`. A
/// Content-Length header is added after the others unless the status is 101 or 304.
pub fn http_reply(status: u16, reason: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let len = body.len().to_string();
    let mut all = headers.to_vec();
    if status != 101 && status != 304 {
        all.push(("Content-Length", &len));
    }
    http_message(&format!("HTTP/1.1 {status} {reason}"), &all, body)
}

fn http_message(start: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(start.len() + 64 * headers.len() + body.len());
    m.extend_from_slice(start.as_bytes());
    m.extend_from_slice(b"\r\n");
    for (k, v) in headers {
        m.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    m.extend_from_slice(b"\r\n");
    m.extend_from_slice(body);
    m
}

/// A WebSocket frame (RFC 6455) with FIN set: opcode 1 text, 2 binary, 9 ping, 10 pong;
/// `mask` given for frames from a client, which must mask.
pub fn websocket_frame(opcode: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80 | (opcode & 0x0f)];
    let m = if mask.is_some() { 0x80 } else { 0 };
    let n = payload.len();
    if n < 126 {
        f.push(m | n as u8);
    } else if n <= 0xffff {
        f.push(m | 126);
        f.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        f.push(m | 127);
        f.extend_from_slice(&(n as u64).to_be_bytes());
    }
    match mask {
        Some(k) => {
            f.extend_from_slice(&k);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => f.extend_from_slice(payload),
    }
    f
}

/// The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key (RFC 6455 §4.2.2):
/// base64 of the SHA-1 of the key followed by the protocol's GUID.
pub fn websocket_accept(key: &str) -> String {
    let mut input = key.as_bytes().to_vec();
    input.extend_from_slice(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &input);
    base64(digest.as_ref())
}

/// Standard base64 with padding (RFC 4648 §4).
pub fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let v = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[(v >> (18 - 6 * i) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------- SSH

/// An unencrypted SSH binary packet (RFC 4253 §6) around `payload`, padded with at least 4
/// bytes to a multiple of 8 (padding bytes from `seed`).
pub fn ssh_packet(payload: &[u8], seed: u32) -> Vec<u8> {
    let mut pad = 8 - (5 + payload.len()) % 8;
    if pad < 4 {
        pad += 8;
    }
    let mut p = Vec::with_capacity(5 + payload.len() + pad);
    p.extend_from_slice(&((1 + payload.len() + pad) as u32).to_be_bytes());
    p.push(pad as u8);
    p.extend_from_slice(payload);
    p.extend_from_slice(&filler(seed, pad));
    p
}

/// An SSH_MSG_KEXINIT payload: the cookie, then the ten name-lists (`kex`, `host_key`,
/// `cipher` and `mac` for both directions, compression "none" both ways, no languages),
/// first_kex_packet_follows false and the reserved word.
pub fn ssh_kexinit(
    cookie: [u8; 16],
    kex: &str,
    host_key: &str,
    cipher: &str,
    mac: &str,
) -> Vec<u8> {
    let mut p = vec![20];
    p.extend_from_slice(&cookie);
    for list in [
        kex, host_key, cipher, cipher, mac, mac, "none", "none", "", "",
    ] {
        p.extend_from_slice(&(list.len() as u32).to_be_bytes());
        p.extend_from_slice(list.as_bytes());
    }
    p.push(0);
    p.extend_from_slice(&[0, 0, 0, 0]);
    p
}

fn ssh_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

/// An SSH_MSG_KEX_ECDH_INIT payload (RFC 5656) with the client's curve25519 share.
pub fn ssh_ecdh_init(share: [u8; 32]) -> Vec<u8> {
    let mut p = vec![30];
    ssh_string(&mut p, &share);
    p
}

/// An SSH_MSG_KEX_ECDH_REPLY payload: an ssh-ed25519 host key, the server's curve25519
/// share and an ssh-ed25519 signature (key and signature are filler from `seed`).
pub fn ssh_ecdh_reply(share: [u8; 32], seed: u32) -> Vec<u8> {
    let mut key = Vec::new();
    ssh_string(&mut key, b"ssh-ed25519");
    ssh_string(&mut key, &filler(seed, 32));
    let mut sig = Vec::new();
    ssh_string(&mut sig, b"ssh-ed25519");
    ssh_string(&mut sig, &filler(seed ^ 0x5157, 64));
    let mut p = vec![31];
    ssh_string(&mut p, &key);
    ssh_string(&mut p, &share);
    ssh_string(&mut p, &sig);
    p
}

// ---------------------------------------------------------------- CAPWAP, DTLS

/// CAPWAP message element types (RFC 5415 §4.6) used by the fixtures.
pub mod capwap_element {
    /// AC Descriptor.
    pub const AC_DESCRIPTOR: u16 = 1;
    /// AC Name.
    pub const AC_NAME: u16 = 4;
    /// CAPWAP Control IPv4 Address.
    pub const CONTROL_IPV4: u16 = 10;
    /// Discovery Type.
    pub const DISCOVERY_TYPE: u16 = 20;
    /// Session ID.
    pub const SESSION_ID: u16 = 35;
    /// WTP Board Data.
    pub const WTP_BOARD_DATA: u16 = 38;
    /// WTP Frame Tunnel Mode.
    pub const WTP_FRAME_TUNNEL_MODE: u16 = 41;
    /// WTP MAC Type.
    pub const WTP_MAC_TYPE: u16 = 44;
}

/// The 8-byte CAPWAP header (preamble version 0 type 0, HLEN 2 words, radio 0, wireless
/// binding 802.11, T clear, K as given, no fragmentation).
fn capwap_header(keep_alive: bool) -> Vec<u8> {
    let bits: u32 = (2 << 19) | (1 << 9) | if keep_alive { 1 << 3 } else { 0 };
    let mut h = vec![0x00];
    h.extend_from_slice(&bits.to_be_bytes()[1..]);
    h.extend_from_slice(&[0, 0, 0, 0]);
    h
}

fn capwap_elements(elements: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut e = Vec::new();
    for (t, v) in elements {
        e.extend_from_slice(&t.to_be_bytes());
        e.extend_from_slice(&(v.len() as u16).to_be_bytes());
        e.extend_from_slice(v);
    }
    e
}

/// A clear CAPWAP control message (RFC 5415 §4.5): header, message type, sequence number,
/// message element length (the bytes after the sequence number), flags 0, elements.
pub fn capwap_control(message_type: u32, seq: u8, elements: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let e = capwap_elements(elements);
    let mut m = capwap_header(false);
    m.extend_from_slice(&message_type.to_be_bytes());
    m.push(seq);
    m.extend_from_slice(&((e.len() + 3) as u16).to_be_bytes());
    m.push(0);
    m.extend_from_slice(&e);
    m
}

/// A data-channel keep-alive (RFC 5415 §4.4.1): the header with K set, the message element
/// length (every byte after the CAPWAP header, itself included), and the Session ID
/// element.
pub fn capwap_keepalive(session_id: [u8; 16]) -> Vec<u8> {
    let e = capwap_elements(&[(capwap_element::SESSION_ID, session_id.to_vec())]);
    let mut m = capwap_header(true);
    m.extend_from_slice(&((e.len() + 2) as u16).to_be_bytes());
    m.extend_from_slice(&e);
    m
}

/// A CAPWAP DTLS datagram: the DTLS preamble (version 0, type 1) and 3 reserved bytes,
/// then `records` (see [`dtls_record`]).
pub fn capwap_dtls(records: &[u8]) -> Vec<u8> {
    let mut m = vec![0x01, 0, 0, 0];
    m.extend_from_slice(records);
    m
}

/// A DTLS 1.2 record (version 0xfefd) with its epoch and 48-bit sequence number.
pub fn dtls_record(content_type: u8, epoch: u16, seq: u64, fragment: &[u8]) -> Vec<u8> {
    let mut r = Vec::with_capacity(13 + fragment.len());
    r.push(content_type);
    r.extend_from_slice(&0xfefdu16.to_be_bytes());
    r.extend_from_slice(&epoch.to_be_bytes());
    r.extend_from_slice(&seq.to_be_bytes()[2..]);
    r.extend_from_slice(&(fragment.len() as u16).to_be_bytes());
    r.extend_from_slice(fragment);
    r
}

/// A whole (unfragmented) DTLS handshake message: type, length, message sequence,
/// fragment offset 0 and fragment length equal to the length, body.
pub fn dtls_handshake(msg_type: u8, message_seq: u16, body: &[u8]) -> Vec<u8> {
    let len = (body.len() as u32).to_be_bytes();
    let mut h = vec![msg_type];
    h.extend_from_slice(&len[1..]);
    h.extend_from_slice(&message_seq.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0]);
    h.extend_from_slice(&len[1..]);
    h.extend_from_slice(body);
    h
}

/// The body of a DTLS 1.2 ClientHello with `cookie` (empty on the first try), two ECDHE
/// suites with AES-GCM and the extensions supported_groups and ec_point_formats.
pub fn dtls_client_hello_body(random: [u8; 32], cookie: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(96);
    b.extend_from_slice(&0xfefdu16.to_be_bytes());
    b.extend_from_slice(&random);
    b.push(0);
    b.push(cookie.len() as u8);
    b.extend_from_slice(cookie);
    b.extend_from_slice(&[0, 4, 0xc0, 0x2b, 0xc0, 0x2f, 1, 0]);
    let mut ext = Vec::new();
    extension(&mut ext, 10, &[0, 4, 0x00, 0x1d, 0x00, 0x17]);
    extension(&mut ext, 11, &[1, 0]);
    b.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    b.extend_from_slice(&ext);
    b
}

/// The body of a DTLS HelloVerifyRequest carrying `cookie`.
pub fn dtls_hello_verify_body(cookie: &[u8]) -> Vec<u8> {
    let mut b = vec![0xfe, 0xff, cookie.len() as u8];
    b.extend_from_slice(cookie);
    b
}

/// The body of a DTLS 1.2 ServerHello: new session id of 32 bytes, `cipher`, no
/// compression, no extensions.
pub fn dtls_server_hello_body(random: [u8; 32], session_id: [u8; 32], cipher: u16) -> Vec<u8> {
    let mut b = Vec::with_capacity(72);
    b.extend_from_slice(&0xfefdu16.to_be_bytes());
    b.extend_from_slice(&random);
    b.push(32);
    b.extend_from_slice(&session_id);
    b.extend_from_slice(&cipher.to_be_bytes());
    b.push(0);
    b
}

// ---------------------------------------------------------------- QUIC

/// The QUIC v1 initial salt (RFC 9001 §5.2).
const QUIC_V1_SALT: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];

/// An HKDF output length for ring's typed expand.
struct HkdfLen(usize);

impl ring::hkdf::KeyType for HkdfLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// TLS 1.3 HKDF-Expand-Label with an empty context (RFC 8446 §7.1), `N` bytes.
fn hkdf_label<const N: usize>(prk: &ring::hkdf::Prk, label: &[u8]) -> [u8; N] {
    let len = (N as u16).to_be_bytes();
    let label_len = [6 + label.len() as u8];
    let info: [&[u8]; 5] = [&len, &label_len, b"tls13 ", label, &[0]];
    let mut out = [0u8; N];
    prk.expand(&info, HkdfLen(N))
        .and_then(|okm| okm.fill(&mut out))
        .expect("HKDF output length");
    out
}

/// A client's first QUIC v1 Initial, protected as RFC 9001 §5 says (keys from `dcid`,
/// AES-128-GCM, AES header protection): packet number 0 in one byte, no token, one CRYPTO
/// frame at offset 0 holding `crypto` (a TLS handshake message, e.g. a ClientHello without
/// its record header), then PADDING so that the datagram is 1200 bytes.
pub fn quic_client_initial(dcid: &[u8], scid: &[u8], crypto: &[u8]) -> Vec<u8> {
    use ring::{aead, hkdf};
    let initial = hkdf::Salt::new(hkdf::HKDF_SHA256, &QUIC_V1_SALT).extract(dcid);
    let secret: [u8; 32] = hkdf_label(&initial, b"client in");
    let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, &secret);
    let key: [u8; 16] = hkdf_label(&prk, b"quic key");
    let iv: [u8; 12] = hkdf_label(&prk, b"quic iv");
    let hp: [u8; 16] = hkdf_label(&prk, b"quic hp");

    let mut h = vec![0xc0]; // long header, fixed bit, Initial, 1-byte packet number
    h.extend_from_slice(&1u32.to_be_bytes());
    h.push(dcid.len() as u8);
    h.extend_from_slice(dcid);
    h.push(scid.len() as u8);
    h.extend_from_slice(scid);
    h.push(0); // token length
    let mut frames = vec![0x06, 0x00]; // CRYPTO, offset 0
    frames.extend_from_slice(&(crypto.len() as u16 | 0x4000).to_be_bytes());
    frames.extend_from_slice(crypto);
    // Header so far, the 2-byte Length, the packet number, the frames and the tag.
    let padded = 1200 - (h.len() + 2 + 1) - 16;
    assert!(
        frames.len() <= padded,
        "CRYPTO data too long for one Initial"
    );
    frames.resize(padded, 0);
    h.extend_from_slice(&((1 + frames.len() + 16) as u16 | 0x4000).to_be_bytes());
    let pn_at = h.len();
    h.push(0);
    let sealing = aead::LessSafeKey::new(
        aead::UnboundKey::new(&aead::AES_128_GCM, &key).expect("AES-128 key"),
    );
    sealing
        .seal_in_place_append_tag(
            aead::Nonce::assume_unique_for_key(iv), // packet number 0: the IV itself
            aead::Aad::from(&h),
            &mut frames,
        )
        .expect("seal");
    let mut pkt = h;
    pkt.extend_from_slice(&frames);
    let hp = aead::quic::HeaderProtectionKey::new(&aead::quic::AES_128, &hp).expect("hp key");
    let mask = hp
        .new_mask(&pkt[pn_at + 4..pn_at + 20])
        .expect("sample of 16 bytes");
    pkt[0] ^= mask[0] & 0x0f;
    pkt[pn_at] ^= mask[1];
    assert_eq!(pkt.len(), 1200);
    pkt
}

// ---------------------------------------------------------------- link-layer re-encoding

/// Linux cooked-capture packet types.
pub mod sll_pkttype {
    /// Sent to us.
    pub const HOST: u16 = 0;
    /// Broadcast.
    pub const BROADCAST: u16 = 1;
    /// Multicast.
    pub const MULTICAST: u16 = 2;
    /// Sent to someone else (promiscuous).
    pub const OTHERHOST: u16 = 3;
    /// Sent by us.
    pub const OUTGOING: u16 = 4;
}

fn sll_addr(mac: Mac) -> [u8; 8] {
    let mut a = [0u8; 8];
    a[..6].copy_from_slice(&mac);
    a
}

/// Re-encodes an Ethernet frame as Linux cooked capture v1 (link type 113): packet type,
/// ARPHRD_ETHER, address length 6, the sender MAC padded to 8, the EtherType, payload.
pub fn to_sll(frame: &[u8], pkt_type: u16) -> Vec<u8> {
    let e = split_ethernet(frame);
    let mut f = Vec::with_capacity(16 + e.payload.len());
    f.extend_from_slice(&pkt_type.to_be_bytes());
    f.extend_from_slice(&1u16.to_be_bytes());
    f.extend_from_slice(&6u16.to_be_bytes());
    f.extend_from_slice(&sll_addr(e.src));
    f.extend_from_slice(&e.ethertype.to_be_bytes());
    f.extend_from_slice(e.payload);
    f
}

/// Re-encodes an Ethernet frame as Linux cooked capture v2 (link type 276): EtherType,
/// reserved, interface index, ARPHRD_ETHER, packet type, address length 6, sender MAC
/// padded to 8, payload.
pub fn to_sll2(frame: &[u8], if_index: u32, pkt_type: u8) -> Vec<u8> {
    let e = split_ethernet(frame);
    let mut f = Vec::with_capacity(20 + e.payload.len());
    f.extend_from_slice(&e.ethertype.to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&if_index.to_be_bytes());
    f.extend_from_slice(&1u16.to_be_bytes());
    f.push(pkt_type);
    f.push(6);
    f.extend_from_slice(&sll_addr(e.src));
    f.extend_from_slice(e.payload);
    f
}

/// The IP packet inside an Ethernet frame (for raw-IP link types 101 and 12), or `None`
/// when the frame does not carry IPv4 or IPv6.
pub fn to_raw_ip(frame: &[u8]) -> Option<Vec<u8>> {
    let e = split_ethernet(frame);
    match e.ethertype {
        ethertype::IPV4 | ethertype::IPV6 => Some(e.payload.to_vec()),
        _ => None,
    }
}

/// BSD loopback address family for IPv4.
pub const AF_INET: u32 = 2;
/// AF_INET6 on NetBSD/OpenBSD (and in Wireshark's list).
pub const AF_INET6_BSD: u32 = 24;
/// AF_INET6 on FreeBSD/DragonFly.
pub const AF_INET6_FREEBSD: u32 = 28;
/// AF_INET6 on macOS/iOS.
pub const AF_INET6_DARWIN: u32 = 30;

/// Re-encodes an Ethernet frame's IP packet for BSD null/loopback (link type 0): a 4-byte
/// address family in the capturing host's byte order, `af_inet6` being that OS's AF_INET6.
pub fn to_null(frame: &[u8], host_order: Endian, af_inet6: u32) -> Option<Vec<u8>> {
    let e = split_ethernet(frame);
    let af = match e.ethertype {
        ethertype::IPV4 => AF_INET,
        ethertype::IPV6 => af_inet6,
        _ => return None,
    };
    let mut f = Vec::with_capacity(4 + e.payload.len());
    match host_order {
        Endian::Little => f.extend_from_slice(&af.to_le_bytes()),
        Endian::Big => f.extend_from_slice(&af.to_be_bytes()),
    }
    f.extend_from_slice(e.payload);
    Some(f)
}

// ---------------------------------------------------------------- radiotap, 802.11

/// Centre frequency in MHz of a 2.4 GHz (1..=14) or 5 GHz channel number.
pub fn channel_freq(channel: u8) -> u16 {
    match channel {
        14 => 2484,
        1..=13 => 2407 + 5 * u16::from(channel),
        _ => 5000 + 5 * u16::from(channel),
    }
}

/// A radiotap header (little-endian, 15 bytes) with the fields Flags (no FCS), Rate (in
/// 500 kb/s units), Channel (frequency + 2 GHz/5 GHz and OFDM flags) and antenna signal in
/// dBm.
pub fn radiotap(freq_mhz: u16, rate_500k: u8, signal_dbm: i8) -> Vec<u8> {
    const PRESENT: u32 = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 5);
    let band: u16 = if freq_mhz < 3000 { 0x0080 } else { 0x0100 };
    let chan_flags = band | 0x0040;
    let mut r = vec![0u8, 0];
    r.extend_from_slice(&15u16.to_le_bytes());
    r.extend_from_slice(&PRESENT.to_le_bytes());
    r.push(0x00); // flags
    r.push(rate_500k);
    r.extend_from_slice(&freq_mhz.to_le_bytes());
    r.extend_from_slice(&chan_flags.to_le_bytes());
    r.push(signal_dbm as u8);
    r
}

fn dot11_header(fc0: u8, fc1: u8, a1: Mac, a2: Mac, a3: Mac, seq: u16) -> Vec<u8> {
    let mut h = Vec::with_capacity(24);
    h.push(fc0);
    h.push(fc1);
    h.extend_from_slice(&0x013au16.to_le_bytes()); // duration
    h.extend_from_slice(&a1);
    h.extend_from_slice(&a2);
    h.extend_from_slice(&a3);
    h.extend_from_slice(&((seq & 0x0fff) << 4).to_le_bytes());
    h
}

fn ie(out: &mut Vec<u8>, id: u8, data: &[u8]) {
    out.push(id);
    out.push(data.len() as u8);
    out.extend_from_slice(data);
}

const RATES: [u8; 8] = [0x82, 0x84, 0x8b, 0x96, 0x0c, 0x12, 0x18, 0x24];

/// An 802.11 beacon (no radiotap, no FCS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Beacon<'a> {
    /// BSSID (also the transmitter).
    pub bssid: Mac,
    /// Network name.
    pub ssid: &'a str,
    /// Primary channel (DS parameter set and HT operation).
    pub channel: u8,
    /// WPA2-PSK (an RSN element and the privacy bit) when true; open otherwise.
    pub rsn: bool,
    /// Sequence number.
    pub seq: u16,
    /// TSF timer value in µs.
    pub tsf_us: u64,
}

/// Encodes a beacon: fixed fields (TSF, interval 100 TU, capabilities) then the elements
/// SSID, supported rates, DS parameter set, TIM, RSN (if `rsn`) and HT operation.
pub fn wifi_beacon(b: &Beacon<'_>) -> Vec<u8> {
    let mut f = dot11_header(0x80, 0x00, BROADCAST, b.bssid, b.bssid, b.seq);
    f.extend_from_slice(&b.tsf_us.to_le_bytes());
    f.extend_from_slice(&100u16.to_le_bytes());
    let cap: u16 = 0x0001 | 0x0400 | if b.rsn { 0x0010 } else { 0 };
    f.extend_from_slice(&cap.to_le_bytes());
    ie(&mut f, 0, b.ssid.as_bytes());
    ie(&mut f, 1, &RATES);
    ie(&mut f, 3, &[b.channel]);
    ie(&mut f, 5, &[0, 1, 0, 0]);
    if b.rsn {
        let mut rsn = vec![1, 0, 0x00, 0x0f, 0xac, 0x04, 1, 0, 0x00, 0x0f, 0xac, 0x04];
        rsn.extend_from_slice(&[1, 0, 0x00, 0x0f, 0xac, 0x02, 0x0c, 0x00]);
        ie(&mut f, 48, &rsn);
    }
    let mut ht = vec![0u8; 22];
    ht[0] = b.channel;
    ht[6] = 0xff; // basic MCS 0-7
    ie(&mut f, 61, &ht);
    f
}

/// An open-system authentication frame (`auth_seq` 1 from the station, 2 from the AP).
pub fn wifi_auth(da: Mac, sa: Mac, bssid: Mac, auth_seq: u16, seq: u16) -> Vec<u8> {
    let mut f = dot11_header(0xb0, 0x00, da, sa, bssid, seq);
    f.extend_from_slice(&0u16.to_le_bytes());
    f.extend_from_slice(&auth_seq.to_le_bytes());
    f.extend_from_slice(&0u16.to_le_bytes());
    f
}

/// An association request from `sta` to `bssid` for `ssid`.
pub fn wifi_assoc_request(bssid: Mac, sta: Mac, ssid: &str, seq: u16) -> Vec<u8> {
    let mut f = dot11_header(0x00, 0x00, bssid, sta, bssid, seq);
    f.extend_from_slice(&0x0401u16.to_le_bytes());
    f.extend_from_slice(&10u16.to_le_bytes());
    ie(&mut f, 0, ssid.as_bytes());
    ie(&mut f, 1, &RATES);
    f
}

/// A successful association response giving association id `aid`.
pub fn wifi_assoc_response(bssid: Mac, sta: Mac, aid: u16, seq: u16) -> Vec<u8> {
    let mut f = dot11_header(0x10, 0x00, sta, bssid, bssid, seq);
    f.extend_from_slice(&0x0401u16.to_le_bytes());
    f.extend_from_slice(&0u16.to_le_bytes());
    f.extend_from_slice(&(0xc000 | aid).to_le_bytes());
    ie(&mut f, 1, &RATES);
    f
}

/// Re-encodes an Ethernet frame as an 802.11 data frame carrying LLC/SNAP. `to_ds`: the
/// station sends to the AP (addr1 BSSID, addr2 source, addr3 destination); otherwise the AP
/// delivers it (FromDS: addr1 destination, addr2 BSSID, addr3 source).
pub fn eth_to_wifi_data(frame: &[u8], bssid: Mac, to_ds: bool, seq: u16) -> Vec<u8> {
    let e = split_ethernet(frame);
    let mut f = if to_ds {
        dot11_header(0x08, 0x01, bssid, e.src, e.dst, seq)
    } else {
        dot11_header(0x08, 0x02, e.dst, bssid, e.src, seq)
    };
    f.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0]);
    f.extend_from_slice(&e.ethertype.to_be_bytes());
    f.extend_from_slice(e.payload);
    f
}

/// The RSN element (id 48) a WPA2-Personal network advertises: version 1, CCMP group and
/// pairwise ciphers, PSK key management, capabilities 0x000c (as in [`wifi_beacon`]).
pub fn wifi_rsn_element() -> Vec<u8> {
    let mut out = Vec::with_capacity(22);
    let mut rsn = vec![1, 0, 0x00, 0x0f, 0xac, 0x04, 1, 0, 0x00, 0x0f, 0xac, 0x04];
    rsn.extend_from_slice(&[1, 0, 0x00, 0x0f, 0xac, 0x02, 0x0c, 0x00]);
    ie(&mut out, 48, &rsn);
    out
}

/// Re-encodes an Ethernet frame as a protected (CCMP) QoS data frame, as a monitor capture
/// of a WPA2 network shows it: the 802.11 header with the Protected bit, QoS control (TID
/// 0), the 8-byte CCMP header with packet number `pn`, then ciphertext as long as the
/// LLC/SNAP header and payload would be (filler) and an 8-byte MIC. Addresses as in
/// [`eth_to_wifi_data`].
pub fn eth_to_wifi_protected(frame: &[u8], bssid: Mac, to_ds: bool, seq: u16, pn: u64) -> Vec<u8> {
    let e = split_ethernet(frame);
    let mut f = if to_ds {
        dot11_header(0x88, 0x41, bssid, e.src, e.dst, seq)
    } else {
        dot11_header(0x88, 0x42, e.dst, bssid, e.src, seq)
    };
    f.extend_from_slice(&0u16.to_le_bytes());
    let pnb = pn.to_le_bytes();
    f.extend_from_slice(&[pnb[0], pnb[1], 0, 0x20, pnb[2], pnb[3], pnb[4], pnb[5]]);
    f.extend_from_slice(&filler(pn as u32 ^ u32::from(seq), 8 + e.payload.len()));
    f.extend_from_slice(&filler(!(pn as u32), 8));
    f
}

/// An EAPOL-Key frame (802.1X-2004, RSN descriptor, HMAC-SHA1/AES) of the WPA2 4-way
/// handshake, `message` 1 to 4, to carry as the payload of an Ethernet frame with
/// EtherType 0x888e. Messages 2 to 4 carry a MIC (filler from `seed`); message 2 carries
/// the station's RSN element as key data, message 3 encrypted key data (filler).
pub fn eapol_key(message: u8, replay_counter: u64, nonce: [u8; 32], seed: u32) -> Vec<u8> {
    let (info, key_data): (u16, Vec<u8>) = match message {
        1 => (0x008a, Vec::new()),
        2 => (0x010a, wifi_rsn_element()),
        3 => (0x13ca, filler(seed ^ 3, 56)),
        _ => (0x030a, Vec::new()),
    };
    let mut k = vec![2];
    k.extend_from_slice(&info.to_be_bytes());
    let key_len: u16 = if message % 2 == 1 { 16 } else { 0 };
    k.extend_from_slice(&key_len.to_be_bytes());
    k.extend_from_slice(&replay_counter.to_be_bytes());
    if message == 4 {
        k.extend_from_slice(&[0; 32]);
    } else {
        k.extend_from_slice(&nonce);
    }
    k.extend_from_slice(&[0; 16]); // key IV
    k.extend_from_slice(&[0; 8]); // key RSC
    k.extend_from_slice(&[0; 8]); // reserved
    if message == 1 {
        k.extend_from_slice(&[0; 16]);
    } else {
        k.extend_from_slice(&filler(seed, 16));
    }
    k.extend_from_slice(&(key_data.len() as u16).to_be_bytes());
    k.extend_from_slice(&key_data);
    let mut p = vec![2, 3];
    p.extend_from_slice(&(k.len() as u16).to_be_bytes());
    p.extend_from_slice(&k);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    /// A client Initial opens with the keys its DCID gives (RFC 9001 §5.2) and carries
    /// the handshake message whole.
    #[test]
    fn quic_initial_round_trips() {
        use crate::proto::quic;
        let hello = tls_client_hello("quic.example", &["h3"], [7; 32], [8; 32]);
        let pkt = quic_client_initial(&[1, 2, 3, 4, 5, 6, 7, 8], &[9; 4], &hello[5..]);
        assert_eq!(pkt.len(), 1200);
        assert!(quic::looks_like_initial(&pkt));
        let init = quic::parse_client_initial(&pkt).unwrap().unwrap();
        assert_eq!(
            (init.dcid, init.scid),
            (&[1, 2, 3, 4, 5, 6, 7, 8][..], &[9; 4][..])
        );
        assert_eq!(init.packet_number, 0);
        let mut cs = quic::CryptoStream::new();
        cs.push_frames(&init.crypto);
        let msg = cs.first_handshake_message().unwrap();
        assert_eq!(msg, &hello[5..]);
        let ch = crate::proto::tls::parse_client_hello_handshake(msg).unwrap();
        assert_eq!(ch.sni, Some("quic.example"));
    }

    const A: [u8; 4] = [192, 168, 50, 23];
    const B: [u8; 4] = [203, 0, 113, 10];

    fn v6(last: u8) -> [u8; 16] {
        let mut a = [0u8; 16];
        a[0] = 0x20;
        a[1] = 0x01;
        a[2] = 0x0d;
        a[3] = 0xb8;
        a[15] = last;
        a
    }

    #[test]
    fn checksum_rfc1071_example() {
        // RFC 1071 section 3 example words sum to 0xddf2; checksum is its complement.
        let d = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(&d), !0xddf2);
    }

    #[test]
    fn tcp_v4_checksum_matches_etherparse() {
        let ip = Ip::V4(Ipv4::new(A, B).id(7));
        let tcp = Tcp::new(41000, 443, 1000, 0, tcpflags::SYN).syn_options();
        let f = ethernet(
            [2; 6],
            [4; 6],
            Vlan::Untagged,
            ip.ethertype(),
            &ip.tcp(&tcp, b""),
        );
        let p = SlicedPacket::from_ethernet(&f).unwrap();
        let Some(NetSlice::Ipv4(v4)) = &p.net else {
            panic!("no ipv4")
        };
        let hdr = v4.header().to_header();
        assert_eq!(hdr.header_checksum, hdr.calc_header_checksum());
        let Some(TransportSlice::Tcp(t)) = &p.transport else {
            panic!("no tcp")
        };
        let th = t.to_header();
        assert!(th.syn && !th.ack);
        assert_eq!(
            th.checksum,
            th.calc_checksum_ipv4(&hdr, t.payload()).unwrap()
        );
    }

    #[test]
    fn udp_v6_with_ext_headers_checksum() {
        let h = Ipv6::new(v6(1), v6(2))
            .with_ext(Ext6::HopByHop)
            .with_ext(Ext6::DestOpts);
        let ip = Ip::V6(h);
        let pkt = ip.udp(5353, 53, b"hello");
        assert_eq!(pkt[6], ipproto::HOPOPT);
        assert_eq!(pkt[40], ipproto::DSTOPTS);
        assert_eq!(pkt[48], ipproto::UDP);
        let p = SlicedPacket::from_ip(&pkt).unwrap();
        let Some(TransportSlice::Udp(u)) = &p.transport else {
            panic!("no udp")
        };
        let uh = u.to_header();
        let Some(NetSlice::Ipv6(v)) = &p.net else {
            panic!("no ipv6")
        };
        let want = uh
            .calc_checksum_ipv6(&v.header().to_header(), u.payload())
            .unwrap();
        assert_eq!(uh.checksum, want);
    }

    #[test]
    fn fragments_cover_the_datagram() {
        let h = Ipv4::new(A, B).id(0x1111);
        let l4 = udp_datagram(&Ip::V4(h.clone()), 1, 2, &[7u8; 3000]);
        let frags = fragment_v4(&h, ipproto::UDP, &l4, 1480);
        assert_eq!(frags.len(), 3);
        assert_eq!(frags[0][6] & 0x20, 0x20);
        assert_eq!(u16::from_be_bytes([frags[1][6], frags[1][7]]) & 0x1fff, 185);
        assert_eq!(frags[2][6] & 0x20, 0);
        let total: usize = frags.iter().map(|f| f.len() - 20).sum();
        assert_eq!(total, 3008);
    }

    #[test]
    fn icmp_quote_is_header_plus_8() {
        let orig = Ip::V4(Ipv4::new(A, B)).udp(40000, 5246, &[1u8; 40]);
        let m = icmpv4_unreachable(ICMP4_PORT_UNREACHABLE, &orig);
        assert_eq!(m.len(), 8 + 28);
        assert_eq!(internet_checksum(&m), 0);
        assert_eq!(&m[8..], &orig[..28]);
    }

    #[test]
    fn dns_compresses_backwards() {
        let r = dns_response(
            9,
            "api.example.net",
            dnstype::A,
            0,
            &[
                DnsAnswer {
                    name: "api.example.net",
                    ttl: 60,
                    data: DnsData::Cname("edge.example.net"),
                },
                DnsAnswer {
                    name: "edge.example.net",
                    ttl: 60,
                    data: DnsData::A(B),
                },
            ],
        );
        // question name at 12; first answer owner is a pointer to 12
        assert_eq!(&r[12 + 17 + 4..12 + 17 + 6], &[0xc0, 12]);
        assert_eq!(u16::from_be_bytes([r[2], r[3]]), 0x8180);
        assert_eq!(u16::from_be_bytes([r[6], r[7]]), 2);
    }

    #[test]
    fn dhcp_layout() {
        let m = Dhcp::client(dhcpmsg::DISCOVER, 0xdead_beef, [1, 2, 3, 4, 5, 6])
            .hostname("clockrpi-0001")
            .build();
        assert_eq!(m.len(), 300);
        assert_eq!(&m[236..240], &[0x63, 0x82, 0x53, 0x63]);
        assert_eq!(&m[240..243], &[53, 1, 1]);
        assert_eq!(m[243], 12);
        assert_eq!(&m[245..258], b"clockrpi-0001");
        assert_eq!(m[258], 255);
    }

    #[test]
    fn ntp_timestamp_fraction() {
        let t = ntp_timestamp(500_000_000);
        assert_eq!(t >> 32, NTP_UNIX_OFFSET);
        assert_eq!(t & 0xffff_ffff, 0x8000_0000);
        let req = ntp_request(0);
        assert_eq!(req[0] & 7, 3);
    }

    #[test]
    fn client_hello_parses_with_lengths_consistent() {
        let r = tls_client_hello("api.example.net", &["h2", "http/1.1"], [1; 32], [2; 32]);
        assert_eq!(r[0], 22);
        let rec_len = usize::from(u16::from_be_bytes([r[3], r[4]]));
        assert_eq!(rec_len + 5, r.len());
        assert_eq!(r[5], 1);
        let hs_len = u32::from_be_bytes([0, r[6], r[7], r[8]]) as usize;
        assert_eq!(hs_len + 4, rec_len);
        let s = r.windows(15).any(|w| w == b"api.example.net");
        assert!(s);
    }

    #[test]
    fn mqtt_connect_layout() {
        let p = mqtt_connect("dev-1", 60, None);
        assert_eq!(p[0], 0x10);
        assert_eq!(usize::from(p[1]) + 2, p.len());
        assert_eq!(&p[2..8], b"\0\x04MQTT");
        assert_eq!(mqtt_connack(false, 5), vec![0x20, 2, 0, 5]);
    }

    #[test]
    fn link_reencodings() {
        let ip = Ip::V6(Ipv6::new(v6(1), v6(2)));
        let f = ethernet(
            [2; 6],
            [4; 6],
            Vlan::QinQ {
                outer: 100,
                inner: 50,
            },
            ip.ethertype(),
            &ip.udp(1, 2, b""),
        );
        assert_eq!(&f[12..14], &[0x88, 0xa8]);
        assert_eq!(&f[16..18], &[0x81, 0x00]);
        let sll = to_sll(&f, sll_pkttype::OUTGOING);
        assert_eq!(sll.len(), 16 + 48);
        assert_eq!(&sll[14..16], &[0x86, 0xdd]);
        let sll2 = to_sll2(&f, 3, 0);
        assert_eq!(sll2.len(), 20 + 48);
        assert_eq!(to_raw_ip(&f).unwrap()[0] >> 4, 6);
        let n = to_null(&f, Endian::Big, AF_INET6_BSD).unwrap();
        assert_eq!(&n[..4], &[0, 0, 0, 24]);
        let arp_f = ethernet(
            BROADCAST,
            [4; 6],
            Vlan::Untagged,
            ethertype::ARP,
            &arp(1, [4; 6], A, [0; 6], B),
        );
        assert!(to_raw_ip(&arp_f).is_none());
        let w = eth_to_wifi_data(&f, [9; 6], true, 5);
        assert_eq!(&w[..2], &[0x08, 0x01]);
        assert_eq!(&w[4..10], &[9; 6]);
        assert_eq!(&w[24..32], &[0xaa, 0xaa, 3, 0, 0, 0, 0x86, 0xdd]);
    }

    #[test]
    fn radiotap_length_field() {
        let r = radiotap(channel_freq(6), 2, -40);
        assert_eq!(r.len(), 15);
        assert_eq!(u16::from_le_bytes([r[2], r[3]]), 15);
        assert_eq!(u16::from_le_bytes([r[10], r[11]]), 2437);
        assert_eq!(channel_freq(13), 2472);
    }

    #[test]
    fn websocket_accept_rfc6455_example() {
        assert_eq!(
            websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
        let f = websocket_frame(1, Some([1, 2, 3, 4]), b"hi");
        assert_eq!(f, vec![0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2]);
        assert_eq!(
            &websocket_frame(2, None, &[0; 200])[..4],
            &[0x82, 126, 0, 200]
        );
    }

    #[test]
    fn der_lengths_and_oids() {
        assert_eq!(der(4, &[7; 3]), vec![4, 3, 7, 7, 7]);
        assert_eq!(&der(4, &[0; 200])[..3], &[4, 0x81, 200]);
        assert_eq!(&der(4, &[0; 300])[..4], &[4, 0x82, 1, 44]);
        // 1.2.840.113549.1.1.11
        assert_eq!(
            der_oid(oid::SHA256_RSA),
            vec![6, 9, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 0x0b]
        );
    }

    #[test]
    fn certificate_parses_with_x509_parser() {
        use x509_parser::prelude::{FromDer, X509Certificate};
        let issuer: &[(&[u32], &str)] = &[(oid::C, "NL"), (oid::O, "Test CA")];
        let der = x509_certificate(&CertSpec {
            serial: &[1, 2, 3],
            issuer,
            subject: &[(oid::CN, "a.example")],
            not_before: "260101000000Z",
            not_after: "270101000000Z",
            dns_names: &["a.example", "b.example"],
            ca: false,
            key_seed: 1,
            issuer_key_seed: 2,
        });
        let (rest, c) = X509Certificate::from_der(&der).unwrap();
        assert!(rest.is_empty());
        assert_eq!(c.issuer().to_string(), "C=NL, O=Test CA");
        assert_eq!(c.subject().to_string(), "CN=a.example");
        assert_eq!(c.validity().not_before.timestamp(), 1_767_225_600);
        let san = c.subject_alternative_name().unwrap().unwrap();
        assert_eq!(san.value.general_names.len(), 2);
        assert!(!c.is_ca());
        let msg = tls_certificate_msg(std::slice::from_ref(&der));
        assert_eq!(msg[0], 11);
        assert_eq!(msg.len(), 4 + 3 + 3 + der.len());
    }

    #[test]
    fn tls13_hellos_carry_supported_versions() {
        let ch = tls13_client_hello("x.example", &["h2"], [1; 32], [2; 32], [3; 32]);
        let rec_len = usize::from(u16::from_be_bytes([ch[3], ch[4]]));
        assert_eq!(rec_len + 5, ch.len());
        assert!(ch.windows(7).any(|w| w == [0, 43, 0, 5, 4, 3, 4]));
        let sh = tls13_server_hello([4; 32], [2; 32], 0x1301, [5; 32]);
        assert_eq!(sh[5], 2);
        assert!(sh.windows(6).any(|w| w == [0, 43, 0, 2, 3, 4]));
        assert_eq!(tls_alert(2, 40), vec![21, 3, 3, 0, 2, 2, 40]);
        let recs = tls_handshake_records(&[0u8; 20_000]);
        assert_eq!(recs.len(), 20_000 + 10);
        assert_eq!(&recs[..5], &[22, 3, 3, 0x40, 0]);
    }

    #[test]
    fn capwap_and_dtls_layouts() {
        let k = capwap_keepalive([9; 16]);
        assert_eq!(&k[..4], &[0, 0x10, 0x02, 0x08]);
        assert_eq!(u16::from_be_bytes([k[8], k[9]]) as usize, k.len() - 8);
        let c = capwap_control(1, 7, &[(20, vec![1])]);
        assert_eq!(&c[8..16], &[0, 0, 0, 1, 7, 0, 8, 0]);
        let r = dtls_record(22, 1, 5, &[0xaa]);
        assert_eq!(r, vec![22, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 5, 0, 1, 0xaa]);
        let h = dtls_handshake(1, 2, &[7; 3]);
        assert_eq!(h, vec![1, 0, 0, 3, 0, 2, 0, 0, 0, 0, 0, 3, 7, 7, 7]);
        assert_eq!(capwap_dtls(&r)[..4], [1, 0, 0, 0]);
    }

    #[test]
    fn eapol_and_protected_frames() {
        let m2 = eapol_key(2, 1, [7; 32], 9);
        assert_eq!(&m2[..2], &[2, 3]);
        assert_eq!(
            usize::from(u16::from_be_bytes([m2[2], m2[3]])) + 4,
            m2.len()
        );
        assert_eq!(u16::from_be_bytes([m2[5], m2[6]]), 0x010a);
        assert_eq!(&m2[m2.len() - 22..m2.len() - 20], &[48, 20]);
        let ip = Ip::V4(Ipv4::new(A, B));
        let f = ethernet(
            [2; 6],
            [4; 6],
            Vlan::Untagged,
            ip.ethertype(),
            &ip.udp(1, 2, b"x"),
        );
        let w = eth_to_wifi_protected(&f, [9; 6], true, 3, 0x0102);
        assert_eq!(&w[..2], &[0x88, 0x41]);
        assert_eq!(&w[26..30], &[0x02, 0x01, 0, 0x20]);
        assert_eq!(w.len(), 24 + 2 + 8 + 8 + (f.len() - 14) + 8);
    }

    #[test]
    fn ssh_packets_are_padded_to_eight() {
        let k = ssh_kexinit(
            [0; 16],
            "curve25519-sha256",
            "ssh-ed25519",
            "aes128-ctr",
            "hmac-sha2-256",
        );
        let p = ssh_packet(&k, 1);
        assert_eq!(p.len() % 8, 0);
        assert!(p[4] >= 4);
        assert_eq!(
            u32::from_be_bytes([p[0], p[1], p[2], p[3]]) as usize,
            p.len() - 4
        );
        let r = ssh_ecdh_reply([1; 32], 2);
        assert_eq!(r.len(), 1 + 4 + 51 + 4 + 32 + 4 + 83);
    }
}
