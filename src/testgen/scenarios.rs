//! The fixture scenarios: every capture file under `fixtures/`, built deterministically.
//!
//! Contract: [`all`] returns the same bytes on every call and every machine (fixed
//! timestamps from 2026-03-01T10:00:00Z, fixed addresses, no randomness, no clock). Each
//! fixture is small (at most ~60 frames); what it contains and what a reader must conclude
//! from it is written in `fixtures/README.md`, which tests can rely on.
//!
//! The LAN is 192.168.50.0/24 (gateway .1, MAC 02:50:00:00:00:01; ULA fd00:50::/64 and
//! documentation prefix 2001:db8:50::/64). Devices: a Raspberry Pi "clockrpi-0001"
//! (b8:27:eb:12:34:56, .23), an Espressif smart plug (24:0a:c4:aa:bb:01, .41) and a Linux
//! hub (dc:a6:32:01:02:03, .10). Public servers live in 203.0.113.0/24, 198.51.100.0/24 and
//! 2001:db8:100::/48.
//!
//! Example (prose): `for f in all() { std::fs::write(dir.join(f.name), &f.bytes)?; }`

use super::build::*;
use super::writer::{linktype, Endian, PcapWriter, PcapngWriter, TsResolution};

mod hostile_packets;

/// One generated capture file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fixture {
    /// File name inside the fixtures directory.
    pub name: &'static str,
    /// One line: what the file is for.
    pub description: &'static str,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// Every fixture, in a fixed order.
pub fn all() -> Vec<Fixture> {
    let mut v = vec![
        fx(
            "basic.pcap",
            "Ethernet LE µs: DHCP, DNS, TLS, NTP, unanswered/refused/blocked flows, IPv6 TCP",
            basic(),
        ),
        fx(
            "endian-nano.pcap",
            "big-endian nanosecond pcap: DNS + one TCP connection",
            endian_nano(),
        ),
        fx(
            "multi-if.pcapng",
            "pcapng: Ethernet µs and raw-IP ns interfaces, EPBs interleaved, one SPB",
            multi_if(),
        ),
        fx(
            "linux-sll.pcap",
            "Linux cooked v1 (113): ARP, DNS over v4/v6, HTTP",
            link_family(LinkKind::Sll),
        ),
        fx(
            "linux-sll2.pcap",
            "Linux cooked v2 (276): same traffic as linux-sll",
            link_family(LinkKind::Sll2),
        ),
        fx(
            "raw-ip.pcap",
            "raw IP (101): the IP packets of linux-sll",
            link_family(LinkKind::Raw101),
        ),
        fx(
            "raw-ip-12.pcap",
            "raw IP as DLT 12: the IP packets of linux-sll",
            link_family(LinkKind::Raw12),
        ),
        fx(
            "null-le.pcap",
            "BSD null (0), little-endian AF values (AF_INET6 = 30)",
            link_family(LinkKind::NullLe),
        ),
        fx(
            "null-be.pcap",
            "BSD null (0), big-endian AF values (AF_INET6 = 24)",
            link_family(LinkKind::NullBe),
        ),
        fx(
            "radiotap.pcap",
            "802.11 + radiotap (127): beacons ch 6/13, auth+assoc, data to/from DS",
            radiotap_scenario(),
        ),
        fx(
            "vlan-qinq.pcap",
            "802.1Q VLAN 50 and QinQ 100/50 tagged DNS and TCP handshakes",
            vlan_qinq(),
        ),
        fx(
            "fragments.pcap",
            "IPv4 fragments (complete and first-missing), IPv6 ext headers and fragment",
            fragments(),
        ),
        fx(
            "snaplen-64.pcap",
            "snaplen 64: TCP data packets cut, headers intact",
            snaplen_64(),
        ),
    ];
    let (a, b) = merge_pair();
    v.push(fx(
        "merge-a.pcap",
        "merge pair, even seconds: DHCP NAK+DORA, MQTT, HTTP",
        a,
    ));
    v.push(fx(
        "merge-b.pcap",
        "merge pair, odd seconds: the other halves of merge-a's conversations",
        b,
    ));
    v.extend(super::sites::all());
    v.extend(hostile());
    v.extend(hostile_packets::all());
    v
}

pub(super) fn fx(name: &'static str, description: &'static str, bytes: Vec<u8>) -> Fixture {
    Fixture {
        name,
        description,
        bytes,
    }
}

// ---------------------------------------------------------------- the cast

const NS: u64 = 1_000_000_000;
const MS: u64 = 1_000_000;
const US: u64 = 1_000;
/// 2026-03-01T10:00:00Z in ns since the Unix epoch.
const T0: u64 = 1_772_359_200 * NS;

#[derive(Clone, Copy, Debug)]
struct Host {
    mac: Mac,
    v4: [u8; 4],
    v6: [u8; 16],
}

const GW: Host = Host {
    mac: [0x02, 0x50, 0x00, 0x00, 0x00, 0x01],
    v4: [192, 168, 50, 1],
    v6: v6addr([0xfd00, 0x50, 0, 0, 0, 0, 0, 1]),
};
const GW_LL: [u8; 16] = v6addr([0xfe80, 0, 0, 0, 0x50, 0xff, 0xfe00, 1]);
const GW_GUA: [u8; 16] = v6addr([0x2001, 0xdb8, 0x50, 0, 0, 0, 0, 1]);
const PI: Host = Host {
    mac: [0xb8, 0x27, 0xeb, 0x12, 0x34, 0x56],
    v4: [192, 168, 50, 23],
    v6: v6addr([0xfd00, 0x50, 0, 0, 0xba27, 0xebff, 0xfe12, 0x3456]),
};
const PI_LL: [u8; 16] = v6addr([0xfe80, 0, 0, 0, 0xba27, 0xebff, 0xfe12, 0x3456]);
const ESP: Host = Host {
    mac: [0x24, 0x0a, 0xc4, 0xaa, 0xbb, 0x01],
    v4: [192, 168, 50, 41],
    v6: v6addr([0x2001, 0xdb8, 0x50, 0, 0x260a, 0xc4ff, 0xfeaa, 0xbb01]),
};
const HUB: Host = Host {
    mac: [0xdc, 0xa6, 0x32, 0x01, 0x02, 0x03],
    v4: [192, 168, 50, 10],
    v6: v6addr([0xfd00, 0x50, 0, 0, 0, 0, 0, 0x10]),
};

const API: [u8; 4] = [203, 0, 113, 10];
const MQTTS: [u8; 4] = [203, 0, 113, 20];
const REFUSER: [u8; 4] = [203, 0, 113, 21];
const CAPWAP: [u8; 4] = [203, 0, 113, 22];
const BLOCKED_NTP: [u8; 4] = [203, 0, 113, 23];
const NTP_SRV: [u8; 4] = [198, 51, 100, 123];
const BROKER: [u8; 4] = [198, 51, 100, 30];
const WEB: [u8; 4] = [198, 51, 100, 80];
const V6_COAP: [u8; 16] = v6addr([0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0x22]);
const V6_WEB: [u8; 16] = v6addr([0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0x80]);

const PI_VENDOR: &str = "dhcpcd-9.4.1:Linux-6.1.21-v8+:aarch64:BCM2835";

const fn v6addr(w: [u16; 8]) -> [u8; 16] {
    let mut a = [0u8; 16];
    let mut i = 0;
    while i < 8 {
        a[2 * i] = (w[i] >> 8) as u8;
        a[2 * i + 1] = w[i] as u8;
        i += 1;
    }
    a
}

/// A list of (timestamp ns, Ethernet frame) that is sorted (stably) before writing.
type Trace = Vec<(u64, Vec<u8>)>;

fn sorted(mut t: Trace) -> Trace {
    t.sort_by_key(|(ts, _)| *ts);
    t
}

fn pcap_of(t: &Trace, mut w: PcapWriter) -> Vec<u8> {
    for (ts, f) in t {
        w.push(*ts, f);
    }
    w.finish()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Addr {
    V4([u8; 4]),
    V6([u8; 16]),
}

/// One side-by-side conversation between a client and a server, tracking TCP sequence
/// numbers and IP ids so that every segment acknowledges what the peer has sent.
struct Conv {
    cmac: Mac,
    smac: Mac,
    c: Addr,
    s: Addr,
    cport: u16,
    sport: u16,
    vlan: Vlan,
    cseq: u32,
    sseq: u32,
    cid: u16,
    sid: u16,
    s_ttl: u8,
}

impl Conv {
    /// `smac` is the server's MAC when it is on the LAN, otherwise the gateway's.
    fn new(client: &Host, c: Addr, smac: Mac, s: Addr, cport: u16, sport: u16) -> Self {
        let seed = u32::from(cport).wrapping_mul(2_654_435_761);
        Conv {
            cmac: client.mac,
            smac,
            c,
            s,
            cport,
            sport,
            vlan: Vlan::Untagged,
            cseq: seed,
            sseq: seed.rotate_left(13) ^ 0x5a5a_0000,
            cid: (seed >> 16) as u16,
            sid: 0,
            s_ttl: if smac == GW.mac && !is_gw(s) { 52 } else { 64 },
        }
    }

    fn v4(client: &Host, smac: Mac, s: [u8; 4], cport: u16, sport: u16) -> Self {
        Conv::new(client, Addr::V4(client.v4), smac, Addr::V4(s), cport, sport)
    }

    fn vlan(mut self, v: Vlan) -> Self {
        self.vlan = v;
        self
    }

    fn ip(&mut self, from_client: bool) -> Ip {
        let (src, dst) = if from_client {
            (self.c, self.s)
        } else {
            (self.s, self.c)
        };
        let ttl = if from_client { 64 } else { self.s_ttl };
        match (src, dst) {
            (Addr::V4(a), Addr::V4(b)) => {
                let id = if from_client {
                    self.cid = self.cid.wrapping_add(1);
                    self.cid
                } else {
                    self.sid = self.sid.wrapping_add(1);
                    self.sid
                };
                Ip::V4(Ipv4::new(a, b).id(id).ttl(ttl))
            }
            (Addr::V6(a), Addr::V6(b)) => Ip::V6(Ipv6::new(a, b).hop_limit(ttl)),
            _ => unreachable!("mixed address families"),
        }
    }

    fn frame(&self, from_client: bool, ip: &Ip, pkt: &[u8]) -> Vec<u8> {
        let (dst, src) = if from_client {
            (self.smac, self.cmac)
        } else {
            (self.cmac, self.smac)
        };
        ethernet(dst, src, self.vlan, ip.ethertype(), pkt)
    }

    /// A TCP segment from the client; advances the client's sequence number.
    fn c(&mut self, flags: u8, payload: &[u8]) -> Vec<u8> {
        self.seg(true, flags, payload)
    }

    /// A TCP segment from the server; advances the server's sequence number.
    fn s(&mut self, flags: u8, payload: &[u8]) -> Vec<u8> {
        self.seg(false, flags, payload)
    }

    fn seg(&mut self, from_client: bool, flags: u8, payload: &[u8]) -> Vec<u8> {
        let (seq, ack) = if from_client {
            (self.cseq, self.sseq)
        } else {
            (self.sseq, self.cseq)
        };
        let ack = if flags & tcpflags::ACK != 0 { ack } else { 0 };
        let (sp, dp) = if from_client {
            (self.cport, self.sport)
        } else {
            (self.sport, self.cport)
        };
        let mut tcp = Tcp::new(sp, dp, seq, ack, flags);
        if flags & tcpflags::SYN != 0 {
            tcp = tcp.syn_options();
            if !from_client {
                tcp = tcp.window(65160);
            }
        } else if !from_client {
            tcp = tcp.window(501);
        } else {
            tcp = tcp.window(502);
        }
        let adv = payload.len() as u32 + u32::from(flags & (tcpflags::SYN | tcpflags::FIN) != 0);
        if from_client {
            self.cseq = self.cseq.wrapping_add(adv);
        } else {
            self.sseq = self.sseq.wrapping_add(adv);
        }
        let ip = self.ip(from_client);
        let pkt = ip.tcp(&tcp, payload);
        self.frame(from_client, &ip, &pkt)
    }

    /// The client's last SYN again (same sequence number), as a retransmission.
    fn c_syn_again(&mut self) -> Vec<u8> {
        self.cseq = self.cseq.wrapping_sub(1);
        self.c(tcpflags::SYN, b"")
    }

    /// A UDP datagram from the client.
    fn cu(&mut self, payload: &[u8]) -> Vec<u8> {
        let ip = self.ip(true);
        let pkt = ip.udp(self.cport, self.sport, payload);
        self.frame(true, &ip, &pkt)
    }

    /// A UDP datagram from the server.
    fn su(&mut self, payload: &[u8]) -> Vec<u8> {
        let ip = self.ip(false);
        let pkt = ip.udp(self.sport, self.cport, payload);
        self.frame(false, &ip, &pkt)
    }
}

fn is_gw(a: Addr) -> bool {
    matches!(a, Addr::V4(v) if v == GW.v4)
        || matches!(a, Addr::V6(v) if v == GW.v6 || v == GW_GUA || v == GW_LL)
}

const SYN: u8 = tcpflags::SYN;
const ACK: u8 = tcpflags::ACK;
const SYNACK: u8 = tcpflags::SYN | tcpflags::ACK;
const PSHACK: u8 = tcpflags::PSH | tcpflags::ACK;
const FINACK: u8 = tcpflags::FIN | tcpflags::ACK;
const RSTACK: u8 = tcpflags::RST | tcpflags::ACK;

/// The IP packet of an Ethernet frame (for quoting in ICMP errors).
fn ip_of(frame: &[u8]) -> Vec<u8> {
    split_ethernet(frame).payload.to_vec()
}

/// A DNS exchange with the gateway's resolver: (query frame, response frame).
fn dns_pair(
    client: &Host,
    vlan: Vlan,
    cport: u16,
    id: u16,
    name: &str,
    qtype: u16,
    answers: &[DnsAnswer<'_>],
) -> (Vec<u8>, Vec<u8>) {
    let mut c = Conv::v4(client, GW.mac, GW.v4, cport, 53).vlan(vlan);
    let q = c.cu(&dns_query(id, name, qtype));
    let r = c.su(&dns_response(id, name, qtype, 0, answers));
    (q, r)
}

fn a_rec(name: &str, ttl: u32, ip: [u8; 4]) -> DnsAnswer<'_> {
    DnsAnswer {
        name,
        ttl,
        data: DnsData::A(ip),
    }
}

fn arp_pair(asker: &Host, target: &Host) -> (Vec<u8>, Vec<u8>) {
    let req = ethernet(
        BROADCAST,
        asker.mac,
        Vlan::Untagged,
        ethertype::ARP,
        &arp(ARP_REQUEST, asker.mac, asker.v4, [0; 6], target.v4),
    );
    let rep = ethernet(
        asker.mac,
        target.mac,
        Vlan::Untagged,
        ethertype::ARP,
        &arp(ARP_REPLY, target.mac, target.v4, asker.mac, asker.v4),
    );
    (req, rep)
}

/// A DHCP frame: client messages are broadcast from 0.0.0.0, server messages unicast from
/// the gateway to `to` (yiaddr) and the client's MAC, or broadcast when `to` is all ones.
fn dhcp_frame(from_client: bool, chaddr: Mac, to: [u8; 4], msg: &Dhcp) -> Vec<u8> {
    let payload = msg.build();
    if from_client {
        let mut ipv4 = Ipv4::new([0; 4], [255; 4]);
        ipv4.df = false;
        let ip = Ip::V4(ipv4);
        let pkt = ip.udp(68, 67, &payload);
        ethernet(BROADCAST, chaddr, Vlan::Untagged, ethertype::IPV4, &pkt)
    } else {
        let mut ipv4 = Ipv4::new(GW.v4, to);
        ipv4.df = false;
        let ip = Ip::V4(ipv4);
        let pkt = ip.udp(67, 68, &payload);
        let dst = if to == [255; 4] { BROADCAST } else { chaddr };
        ethernet(dst, GW.mac, Vlan::Untagged, ethertype::IPV4, &pkt)
    }
}

fn pi_dora(t: u64, trace: &mut Trace) {
    let xid = 0x3903_f326;
    let params = [1, 3, 6, 12, 15, 28, 42, 51, 54, 58, 59, 119];
    let discover = Dhcp::client(dhcpmsg::DISCOVER, xid, PI.mac)
        .client_id(PI.mac)
        .hostname("clockrpi-0001")
        .vendor_class(PI_VENDOR)
        .param_request(&params);
    let server = |ty: u8| {
        Dhcp::server(ty, xid, PI.mac, PI.v4)
            .server_id(GW.v4)
            .lease_time(86_400)
            .subnet_mask([255, 255, 255, 0])
            .router(GW.v4)
            .dns_servers(&[GW.v4])
            .ntp_servers(&[GW.v4])
    };
    let request = Dhcp::client(dhcpmsg::REQUEST, xid, PI.mac)
        .client_id(PI.mac)
        .requested_ip(PI.v4)
        .server_id(GW.v4)
        .hostname("clockrpi-0001")
        .vendor_class(PI_VENDOR)
        .param_request(&params);
    trace.push((t, dhcp_frame(true, PI.mac, [0; 4], &discover)));
    trace.push((
        t + 4 * MS,
        dhcp_frame(false, PI.mac, PI.v4, &server(dhcpmsg::OFFER)),
    ));
    trace.push((t + 10 * MS, dhcp_frame(true, PI.mac, [0; 4], &request)));
    trace.push((
        t + 14 * MS,
        dhcp_frame(false, PI.mac, PI.v4, &server(dhcpmsg::ACK)),
    ));
}

/// The Pi's TLS connection to api.example.net (12 frames starting at `t`).
fn pi_tls(t: u64, vlan: Vlan, trace: &mut Trace) {
    let mut c = Conv::v4(&PI, GW.mac, API, 41000, 443).vlan(vlan);
    let sid = [0x42u8; 32];
    let ch = tls_client_hello("api.example.net", &["h2", "http/1.1"], [0x11; 32], sid);
    let mut sh = tls_server_hello([0x22; 32], sid, 0xc02f, Some("h2"));
    sh.extend_from_slice(&tls_change_cipher_spec());
    sh.extend_from_slice(&tls_record(22, 0x0303, &filler(1, 40)));
    let mut cfin = tls_change_cipher_spec();
    cfin.extend_from_slice(&tls_record(22, 0x0303, &filler(2, 40)));
    let steps: [(u64, bool, u8, Vec<u8>); 12] = [
        (0, true, SYN, vec![]),
        (30 * MS, false, SYNACK, vec![]),
        (30 * MS + 150 * US, true, ACK, vec![]),
        (31 * MS, true, PSHACK, ch),
        (61 * MS, false, PSHACK, sh),
        (62 * MS, true, PSHACK, cfin),
        (
            62 * MS + 300 * US,
            true,
            PSHACK,
            tls_record(23, 0x0303, &filler(3, 120)),
        ),
        (
            100 * MS,
            false,
            PSHACK,
            tls_record(23, 0x0303, &filler(4, 300)),
        ),
        (100 * MS + 200 * US, true, ACK, vec![]),
        (200 * MS, true, FINACK, vec![]),
        (230 * MS, false, FINACK, vec![]),
        (230 * MS + 100 * US, true, ACK, vec![]),
    ];
    for (dt, from_client, flags, payload) in steps {
        let f = if from_client {
            c.c(flags, &payload)
        } else {
            c.s(flags, &payload)
        };
        trace.push((t + dt, f));
    }
}

/// A complete TCP handshake and FIN teardown with no data (6 frames).
fn handshake_and_close(c: &mut Conv, t: u64, rtt: u64, trace: &mut Trace) {
    trace.push((t, c.c(SYN, b"")));
    trace.push((t + rtt, c.s(SYNACK, b"")));
    trace.push((t + rtt + 100 * US, c.c(ACK, b"")));
    trace.push((t + 500 * MS, c.c(FINACK, b"")));
    trace.push((t + 500 * MS + rtt, c.s(FINACK, b"")));
    trace.push((t + 500 * MS + rtt + 100 * US, c.c(ACK, b"")));
}

// ---------------------------------------------------------------- basic.pcap

fn basic() -> Vec<u8> {
    let mut tr: Trace = Vec::new();
    // Device 1: the Raspberry Pi.
    pi_dora(T0, &mut tr);
    let (q, r) = arp_pair(&PI, &GW);
    tr.push((T0 + 20 * MS, q));
    tr.push((T0 + 20 * MS + 300 * US, r));
    let (q, r) = dns_pair(
        &PI,
        Vlan::Untagged,
        51514,
        0x1a2b,
        "api.example.net",
        dnstype::A,
        &[a_rec("api.example.net", 300, API)],
    );
    tr.push((T0 + 100 * MS, q));
    tr.push((T0 + 112 * MS, r));
    pi_tls(T0 + NS, Vlan::Untagged, &mut tr);
    let (q, r) = dns_pair(
        &PI,
        Vlan::Untagged,
        51515,
        0x1a2c,
        "time.example.org",
        dnstype::A,
        &[
            DnsAnswer {
                name: "time.example.org",
                ttl: 3600,
                data: DnsData::Cname("ntp1.example.org"),
            },
            a_rec("ntp1.example.org", 300, NTP_SRV),
        ],
    );
    tr.push((T0 + 1400 * MS, q));
    tr.push((T0 + 1409 * MS, r));
    let mut ntp = Conv::v4(&PI, GW.mac, NTP_SRV, 123, 123);
    let sent = T0 + 1500 * MS;
    tr.push((sent, ntp.cu(&ntp_request(sent))));
    let reply = NtpReply {
        leap: 0,
        stratum: 2,
        refid: [198, 51, 100, 1],
        reference_ns: T0 - 64 * NS,
        origin_ns: sent,
        receive_ns: sent + 12 * MS,
        transmit_ns: sent + 12 * MS + 20 * US,
    };
    tr.push((sent + 25 * MS, ntp.su(&ntp_reply(&reply))));
    // IPv6 TCP between the Pi (ULA) and the hub (ULA), on the LAN.
    // Neighbor discovery first: the Pi (link-local) asks for the hub's ULA.
    let mc = solicited_node(HUB.v6);
    let ns = Ipv6::new(PI_LL, mc).hop_limit(255);
    let ns_msg = icmpv6_neighbor(&ns, true, HUB.v6, PI.mac);
    let f = ethernet(
        ipv6_multicast_mac(mc),
        PI.mac,
        Vlan::Untagged,
        ethertype::IPV6,
        &ns.packet(ipproto::ICMPV6, &ns_msg),
    );
    tr.push((T0 + 2 * NS - MS, f));
    let na = Ipv6::new(HUB.v6, PI_LL).hop_limit(255);
    let na_msg = icmpv6_neighbor(&na, false, HUB.v6, HUB.mac);
    let f = ethernet(
        PI.mac,
        HUB.mac,
        Vlan::Untagged,
        ethertype::IPV6,
        &na.packet(ipproto::ICMPV6, &na_msg),
    );
    tr.push((T0 + 2 * NS - MS + 300 * US, f));
    let mut v6 = Conv::new(&PI, Addr::V6(PI.v6), HUB.mac, Addr::V6(HUB.v6), 42000, 8123);
    handshake_and_close(&mut v6, T0 + 2 * NS, 400 * US, &mut tr);

    // Device 2: the Espressif plug (static address).
    let mut mq = Conv::v4(&ESP, GW.mac, MQTTS, 52000, 8883);
    tr.push((T0 + 3 * NS, mq.c(SYN, b"")));
    tr.push((T0 + 4 * NS, mq.c_syn_again()));
    tr.push((T0 + 6 * NS, mq.c_syn_again()));
    tr.push((T0 + 10 * NS, mq.c_syn_again()));
    let mut rst = Conv::v4(&ESP, GW.mac, REFUSER, 52001, 443);
    rst.sseq = 0;
    tr.push((T0 + 3500 * MS, rst.c(SYN, b"")));
    tr.push((T0 + 3528 * MS, rst.s(RSTACK, b"")));
    let mut cw = Conv::v4(&ESP, GW.mac, CAPWAP, 52002, 5246);
    let probe = cw.cu(&capwap_discovery());
    tr.push((T0 + 4500 * MS, probe.clone()));
    tr.push((
        T0 + 4530 * MS,
        icmp4_error(CAPWAP, 52, ICMP4_PORT_UNREACHABLE, &probe, &ESP),
    ));
    let mut bn = Conv::v4(&ESP, GW.mac, BLOCKED_NTP, 52003, 123);
    let probe = bn.cu(&ntp_request(T0 + 5 * NS));
    tr.push((T0 + 5 * NS, probe.clone()));
    tr.push((
        T0 + 5 * NS + 800 * US,
        icmp4_error(GW.v4, 64, ICMP4_ADMIN_PROHIBITED, &probe, &ESP),
    ));
    let mut co = Conv::new(
        &ESP,
        Addr::V6(ESP.v6),
        GW.mac,
        Addr::V6(V6_COAP),
        52004,
        5684,
    );
    let probe = co.cu(&filler(5, 37));
    tr.push((T0 + 5500 * MS, probe.clone()));
    let err6 = Ipv6::new(GW_GUA, ESP.v6);
    let msg = icmpv6_unreachable(&err6, ICMP6_ADMIN_PROHIBITED, &ip_of(&probe));
    let f = ethernet(
        ESP.mac,
        GW.mac,
        Vlan::Untagged,
        ethertype::IPV6,
        &err6.packet(ipproto::ICMPV6, &msg),
    );
    tr.push((T0 + 5500 * MS + 900 * US, f));
    pcap_of(&sorted(tr), PcapWriter::ethernet_le())
}

/// A CAPWAP discovery request header and one element, enough for a port-5246 probe.
fn capwap_discovery() -> Vec<u8> {
    let mut m = vec![0x00, 0x10, 0x43, 0x00, 0x00, 0x00, 0x00, 0x00];
    m.extend_from_slice(&[0, 0, 0, 1, 0x01, 0x00, 0x0d, 0x00]); // type 1 = discovery request
    m.extend_from_slice(&[0x00, 0x14, 0x00, 0x01, 0x01]); // discovery type: static
    m
}

/// An ICMPv4 error from `from` (TTL `ttl`) to `to`, quoting the IP packet of `probe`.
fn icmp4_error(from: [u8; 4], ttl: u8, code: u8, probe: &[u8], to: &Host) -> Vec<u8> {
    let msg = icmpv4_unreachable(code, &ip_of(probe));
    let ip = Ipv4::new(from, to.v4).ttl(ttl);
    let mut ip = ip.id(0x7700 + u16::from(code));
    ip.df = false;
    ethernet(
        to.mac,
        GW.mac,
        Vlan::Untagged,
        ethertype::IPV4,
        &ip.packet(ipproto::ICMP, &msg),
    )
}

// ---------------------------------------------------------------- endian-nano.pcap

fn endian_nano() -> Vec<u8> {
    let mut frames = Vec::new();
    let (q, r) = dns_pair(
        &PI,
        Vlan::Untagged,
        53001,
        0x0bad,
        "api.example.net",
        dnstype::A,
        &[a_rec("api.example.net", 300, API)],
    );
    frames.push(q);
    frames.push(r);
    let mut c = Conv::v4(&PI, GW.mac, API, 41001, 443);
    let mut hs = Vec::new();
    handshake_and_close(&mut c, 0, 0, &mut hs);
    frames.extend(hs.into_iter().map(|(_, f)| f));
    let offsets: [u64; 8] = [
        123_456_789,
        135_792_468,
        1_000_000_001,
        1_031_415_926,
        1_031_527_182,
        1_500_000_999,
        1_530_271_828,
        1_530_314_159,
    ];
    let mut w = PcapWriter::new(Endian::Big, TsResolution::Nano, 262_144, linktype::ETHERNET);
    for (off, f) in offsets.iter().zip(&frames) {
        w.push(T0 + off, f);
    }
    w.finish()
}

// ---------------------------------------------------------------- multi-if.pcapng

fn multi_if() -> Vec<u8> {
    let mut w = PcapngWriter::new(Endian::Little);
    let eth = w.add_interface(linktype::ETHERNET as u16, 65535, 6, "eth0");
    let wg = w.add_interface(linktype::RAW as u16, 65535, 9, "wg0");
    let tun4 = [10, 8, 0, 2];
    let tun6 = v6addr([0xfd00, 8, 0, 0, 0, 0, 0, 2]);
    let raw = |f: &[u8]| to_raw_ip(f).unwrap();

    let (q, r) = dns_pair(
        &PI,
        Vlan::Untagged,
        53100,
        0x2001,
        "update.example.com",
        dnstype::A,
        &[a_rec("update.example.com", 60, [203, 0, 113, 50])],
    );
    let tunnel_host = Host {
        mac: [0; 6],
        v4: tun4,
        v6: tun6,
    };
    let mut ssh = Conv::v4(&tunnel_host, [0; 6], [198, 51, 100, 50], 45000, 22);
    let mut blocked = Conv::v4(&tunnel_host, [0; 6], [198, 51, 100, 51], 40000, 9000);
    let probe4 = blocked.cu(b"hello-9000");
    let err4 = {
        let m = icmpv4_unreachable(ICMP4_PORT_UNREACHABLE, &raw(&probe4));
        Ipv4::new([198, 51, 100, 51], tun4)
            .ttl(55)
            .packet(ipproto::ICMP, &m)
    };
    let mut u6 = Conv::new(
        &tunnel_host,
        Addr::V6(tun6),
        [0; 6],
        Addr::V6(V6_COAP),
        40001,
        44444,
    );
    let probe6 = u6.cu(b"hello-v6");
    let err6 = {
        let h = Ipv6::new(V6_COAP, tun6).hop_limit(57);
        let m = icmpv6_unreachable(&h, ICMP6_PORT_UNREACHABLE, &raw(&probe6));
        h.packet(ipproto::ICMPV6, &m)
    };
    let mut tls = Conv::v4(&PI, GW.mac, API, 41002, 443);

    let t = T0 + 7;
    w.epb(eth, t, &q, Some("first packet on eth0"));
    w.epb(wg, t + 1_234_567, &raw(&ssh.c(SYN, b"")), None);
    w.epb(eth, t + 11 * MS, &r, None);
    w.epb(wg, t + 41_000_001, &raw(&ssh.s(SYNACK, b"")), None);
    w.epb(wg, t + 41_100_011, &raw(&ssh.c(ACK, b"")), None);
    w.spb(&arp_pair(&PI, &GW).0);
    w.epb(eth, t + 100 * MS, &tls.c(SYN, b""), None);
    w.epb(wg, t + 120_000_003, &raw(&probe4), None);
    w.epb(eth, t + 130 * MS, &tls.s(SYNACK, b""), None);
    w.epb(eth, t + 130 * MS + 90 * US, &tls.c(ACK, b""), None);
    w.epb(wg, t + 150_500_050, &err4, None);
    w.epb(wg, t + 200_000_009, &raw(&probe6), None);
    w.epb(wg, t + 230_000_070, &err6, Some("ICMPv6 port unreachable"));
    w.finish()
}

// ---------------------------------------------------------------- link-type family

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LinkKind {
    Sll,
    Sll2,
    Raw101,
    Raw12,
    NullLe,
    NullBe,
}

/// The hub's session seen from the hub itself: ARP, DNS A over IPv4 and AAAA over IPv6,
/// then an HTTP fetch from firmware.example.com (15 Ethernet frames, 13 of them IP).
fn hub_session() -> Trace {
    let mut tr: Trace = Vec::new();
    let t = T0 + 30 * NS;
    let (q, r) = arp_pair(&HUB, &GW);
    tr.push((t, q));
    tr.push((t + 200 * US, r));
    let (q, r) = dns_pair(
        &HUB,
        Vlan::Untagged,
        53000,
        0x3001,
        "firmware.example.com",
        dnstype::A,
        &[a_rec("firmware.example.com", 120, WEB)],
    );
    tr.push((t + MS, q));
    tr.push((t + 9 * MS, r));
    let mut d6 = Conv::new(&HUB, Addr::V6(HUB.v6), GW.mac, Addr::V6(GW.v6), 53002, 53);
    tr.push((
        t + MS + 50 * US,
        d6.cu(&dns_query(0x3002, "firmware.example.com", dnstype::AAAA)),
    ));
    let ans = [DnsAnswer {
        name: "firmware.example.com",
        ttl: 120,
        data: DnsData::Aaaa(V6_WEB),
    }];
    tr.push((
        t + 10 * MS,
        d6.su(&dns_response(
            0x3002,
            "firmware.example.com",
            dnstype::AAAA,
            0,
            &ans,
        )),
    ));
    let mut h = Conv::v4(&HUB, GW.mac, WEB, 44000, 80);
    let get = http_get("firmware.example.com", "/hub/latest.json", "hubd/2.3");
    let resp = http_response(200, "OK", "{\"version\":\"2.3.1\"}");
    let steps: [(u64, bool, u8, &[u8]); 9] = [
        (20 * MS, true, SYN, b""),
        (45 * MS, false, SYNACK, b""),
        (45 * MS + 80 * US, true, ACK, b""),
        (45 * MS + 120 * US, true, PSHACK, &get),
        (71 * MS, false, PSHACK, &resp),
        (71 * MS + 60 * US, true, ACK, b""),
        (72 * MS, true, FINACK, b""),
        (97 * MS, false, FINACK, b""),
        (97 * MS + 50 * US, true, ACK, b""),
    ];
    for (dt, from_client, flags, payload) in steps {
        let f = if from_client {
            h.c(flags, payload)
        } else {
            h.s(flags, payload)
        };
        tr.push((t + dt, f));
    }
    sorted(tr)
}

fn link_family(kind: LinkKind) -> Vec<u8> {
    let lt = match kind {
        LinkKind::Sll => linktype::LINUX_SLL,
        LinkKind::Sll2 => linktype::LINUX_SLL2,
        LinkKind::Raw101 => linktype::RAW,
        LinkKind::Raw12 => linktype::RAW_DLT12,
        LinkKind::NullLe | LinkKind::NullBe => linktype::NULL,
    };
    let mut w = PcapWriter::new(Endian::Little, TsResolution::Micro, 262_144, lt);
    for (ts, f) in hub_session() {
        let outgoing = split_ethernet(&f).src == HUB.mac;
        let enc = match kind {
            LinkKind::Sll => {
                let pt = if outgoing {
                    sll_pkttype::OUTGOING
                } else {
                    sll_pkttype::HOST
                };
                Some(to_sll(&f, pt))
            }
            LinkKind::Sll2 => {
                let pt = if outgoing {
                    sll_pkttype::OUTGOING
                } else {
                    sll_pkttype::HOST
                };
                Some(to_sll2(&f, 2, pt as u8))
            }
            LinkKind::Raw101 | LinkKind::Raw12 => to_raw_ip(&f),
            LinkKind::NullLe => to_null(&f, Endian::Little, AF_INET6_DARWIN),
            LinkKind::NullBe => to_null(&f, Endian::Big, AF_INET6_BSD),
        };
        if let Some(e) = enc {
            w.push(ts, &e);
        }
    }
    w.finish()
}

// ---------------------------------------------------------------- radiotap.pcap

const AP_A: Mac = [0xf0, 0x9f, 0xc2, 0x10, 0x20, 0x30];
const AP_B: Mac = [0x50, 0xc7, 0xbf, 0x40, 0x50, 0x60];

fn radiotap_scenario() -> Vec<u8> {
    let mut w = PcapWriter::new(
        Endian::Little,
        TsResolution::Micro,
        65535,
        linktype::IEEE802_11_RADIOTAP,
    );
    let ch6 = channel_freq(6);
    let ch13 = channel_freq(13);
    let t = T0 + 40 * NS;
    let tu = 1024 * US; // 1 TU
    let mut put = |ts: u64, freq: u16, rate: u8, sig: i8, frame: &[u8]| {
        let mut f = radiotap(freq, rate, sig);
        f.extend_from_slice(frame);
        w.push(ts, &f);
    };
    for i in 0..3u16 {
        let bt = t + u64::from(i) * 100 * tu;
        let a = Beacon {
            bssid: AP_A,
            ssid: "egw-lab",
            channel: 6,
            rsn: false,
            seq: 100 + i,
            tsf_us: 5_000_000_000 + u64::from(i) * 102_400,
        };
        let b = Beacon {
            bssid: AP_B,
            ssid: "neighbor-net",
            channel: 13,
            rsn: true,
            seq: 2000 + i,
            tsf_us: 9_000_000_000 + u64::from(i) * 102_400,
        };
        put(bt, ch6, 2, -40, &wifi_beacon(&a));
        put(bt + 37 * tu, ch13, 2, -72, &wifi_beacon(&b));
    }
    let t = t + 400 * tu;
    put(t, ch6, 2, -55, &wifi_auth(AP_A, ESP.mac, AP_A, 1, 10));
    put(
        t + 2 * MS,
        ch6,
        2,
        -40,
        &wifi_auth(ESP.mac, AP_A, AP_A, 2, 103),
    );
    put(
        t + 4 * MS,
        ch6,
        2,
        -55,
        &wifi_assoc_request(AP_A, ESP.mac, "egw-lab", 11),
    );
    put(
        t + 6 * MS,
        ch6,
        2,
        -40,
        &wifi_assoc_response(AP_A, ESP.mac, 1, 104),
    );
    let (q, r) = dns_pair(
        &ESP,
        Vlan::Untagged,
        49152,
        0x4001,
        "api.example.net",
        dnstype::A,
        &[a_rec("api.example.net", 300, API)],
    );
    put(
        t + 50 * MS,
        ch6,
        108,
        -55,
        &eth_to_wifi_data(&q, AP_A, true, 12),
    );
    put(
        t + 60 * MS,
        ch6,
        108,
        -40,
        &eth_to_wifi_data(&r, AP_A, false, 105),
    );
    let mut c = Conv::v4(&ESP, GW.mac, API, 49153, 443);
    put(
        t + 70 * MS,
        ch6,
        108,
        -55,
        &eth_to_wifi_data(&c.c(SYN, b""), AP_A, true, 13),
    );
    put(
        t + 100 * MS,
        ch6,
        108,
        -40,
        &eth_to_wifi_data(&c.s(SYNACK, b""), AP_A, false, 106),
    );
    put(
        t + 101 * MS,
        ch6,
        108,
        -55,
        &eth_to_wifi_data(&c.c(ACK, b""), AP_A, true, 14),
    );
    w.finish()
}

// ---------------------------------------------------------------- vlan-qinq.pcap

fn vlan_qinq() -> Vec<u8> {
    let mut tr: Trace = Vec::new();
    let t = T0 + 50 * NS;
    let v50 = Vlan::Dot1q(50);
    let (q, r) = dns_pair(
        &PI,
        v50,
        53200,
        0x5001,
        "api.example.net",
        dnstype::A,
        &[a_rec("api.example.net", 300, API)],
    );
    tr.push((t, q));
    tr.push((t + 8 * MS, r));
    let mut c = Conv::v4(&PI, GW.mac, API, 41003, 443).vlan(v50);
    tr.push((t + 20 * MS, c.c(SYN, b"")));
    tr.push((t + 50 * MS, c.s(SYNACK, b"")));
    tr.push((t + 50 * MS + 100 * US, c.c(ACK, b"")));
    let qq = Vlan::QinQ {
        outer: 100,
        inner: 50,
    };
    let ans = [
        DnsAnswer {
            name: "mqtt.example.com",
            ttl: 600,
            data: DnsData::Cname("broker-eu.example.net"),
        },
        a_rec("broker-eu.example.net", 60, BROKER),
    ];
    let (q, r) = dns_pair(
        &ESP,
        qq,
        53201,
        0x5002,
        "mqtt.example.com",
        dnstype::A,
        &ans,
    );
    tr.push((t + 200 * MS, q));
    tr.push((t + 209 * MS, r));
    let mut c = Conv::v4(&ESP, GW.mac, BROKER, 52100, 8883).vlan(qq);
    tr.push((t + 220 * MS, c.c(SYN, b"")));
    tr.push((t + 260 * MS, c.s(SYNACK, b"")));
    tr.push((t + 260 * MS + 200 * US, c.c(ACK, b"")));
    pcap_of(&sorted(tr), PcapWriter::ethernet_le())
}

// ---------------------------------------------------------------- fragments.pcap

fn fragments() -> Vec<u8> {
    let mut tr: Trace = Vec::new();
    let t = T0 + 60 * NS;
    let eth4 = |pkt: &[u8]| ethernet(GW.mac, PI.mac, Vlan::Untagged, ethertype::IPV4, pkt);
    let eth6 = |pkt: &[u8]| ethernet(GW.mac, ESP.mac, Vlan::Untagged, ethertype::IPV6, pkt);

    // A complete 3-fragment UDP datagram (3000 bytes of payload).
    let h = Ipv4::new(PI.v4, [203, 0, 113, 30]).id(0x1111);
    let l4 = udp_datagram(&Ip::V4(h.clone()), 40000, 9999, &filler(6, 3000));
    for (i, f) in fragment_v4(&h, ipproto::UDP, &l4, 1480).iter().enumerate() {
        tr.push((t + i as u64 * 50 * US, eth4(f)));
    }
    // A fragment train whose first fragment never arrives.
    let h = Ipv4::new(PI.v4, [203, 0, 113, 31]).id(0x2222);
    let l4 = udp_datagram(&Ip::V4(h.clone()), 40001, 9999, &filler(7, 3160));
    for (i, f) in fragment_v4(&h, ipproto::UDP, &l4, 1480)
        .iter()
        .enumerate()
        .skip(1)
    {
        tr.push((t + 100 * MS + i as u64 * 50 * US, eth4(f)));
    }
    // An IPv6 TCP SYN behind hop-by-hop and destination options headers.
    let ip = Ip::V6(
        Ipv6::new(ESP.v6, V6_WEB)
            .with_ext(Ext6::HopByHop)
            .with_ext(Ext6::DestOpts),
    );
    let syn = Tcp::new(52010, 443, 0x0c0f_fee0, 0, SYN).syn_options();
    tr.push((t + 200 * MS, eth6(&ip.tcp(&syn, b""))));
    // The first fragment of a 2008-byte IPv6 UDP datagram.
    let plain = Ipv6::new(ESP.v6, V6_COAP);
    let l4 = udp_datagram(&Ip::V6(plain.clone()), 52011, 7000, &filler(8, 2000));
    let first = plain.with_ext(Ext6::Fragment {
        offset8: 0,
        more: true,
        ident: 0xabcd_ef01,
    });
    tr.push((t + 300 * MS, eth6(&first.packet(ipproto::UDP, &l4[..1448]))));
    pcap_of(&sorted(tr), PcapWriter::ethernet_le())
}

// ---------------------------------------------------------------- snaplen-64.pcap

fn snaplen_64() -> Vec<u8> {
    let mut c = Conv::v4(&PI, GW.mac, WEB, 44100, 80);
    let get = http_get(
        "firmware.example.com",
        "/clock/firmware-1.4.2.bin",
        "clockd/1.4",
    );
    let big = filler(9, 1000);
    let small = filler(10, 500);
    let t = T0 + 70 * NS;
    // No SYN options here, so every header fits in 64 bytes.
    let mut seg = |from_client: bool, flags: u8, payload: &[u8]| {
        let f = if from_client {
            c.c(flags, payload)
        } else {
            c.s(flags, payload)
        };
        if flags & tcpflags::SYN != 0 {
            // strip the 12 option bytes by rebuilding without options
            strip_tcp_options(&f)
        } else {
            f
        }
    };
    let frames = [
        seg(true, SYN, b""),
        seg(false, SYNACK, b""),
        seg(true, ACK, b""),
        seg(true, PSHACK, &get),
        seg(false, ACK, b""),
        seg(false, PSHACK, &big),
        seg(false, PSHACK, &small),
        seg(true, ACK, b""),
        seg(true, FINACK, b""),
        seg(false, FINACK, b""),
        seg(true, ACK, b""),
    ];
    let mut w = PcapWriter::new(Endian::Little, TsResolution::Micro, 64, linktype::ETHERNET);
    for (i, f) in frames.iter().enumerate() {
        w.push(t + i as u64 * 10 * MS, f);
    }
    w.finish()
}

/// Rebuilds an untagged Ethernet/IPv4/TCP frame without TCP options (checksums redone).
fn strip_tcp_options(frame: &[u8]) -> Vec<u8> {
    let e = split_ethernet(frame);
    let ip = e.payload;
    let l4 = &ip[20..];
    let mut h = Ipv4::new(
        [ip[12], ip[13], ip[14], ip[15]],
        [ip[16], ip[17], ip[18], ip[19]],
    )
    .id(u16::from_be_bytes([ip[4], ip[5]]))
    .ttl(ip[8]);
    h.df = ip[6] & 0x40 != 0;
    let be16 = |at: usize| u16::from_be_bytes([l4[at], l4[at + 1]]);
    let be32 = |at: usize| u32::from_be_bytes([l4[at], l4[at + 1], l4[at + 2], l4[at + 3]]);
    let tcp = Tcp::new(be16(0), be16(2), be32(4), be32(8), l4[13]).window(be16(14));
    let ipw = Ip::V4(h);
    ethernet(
        e.dst,
        e.src,
        Vlan::Untagged,
        e.ethertype,
        &ipw.tcp(&tcp, b""),
    )
}

// ---------------------------------------------------------------- merge-a / merge-b

/// One capture of 25 frames one second apart, dealt alternately into two files.
fn merge_pair() -> (Vec<u8>, Vec<u8>) {
    let mut frames: Vec<Vec<u8>> = Vec::new();
    // The plug's stale lease: REQUEST for an old address, NAK, then a fresh DORA.
    let xid = 0x00c0_ffee;
    let esp_req = |ty: u8| {
        Dhcp::client(ty, xid, ESP.mac)
            .hostname("smartplug-7f01")
            .vendor_class("ESP32")
            .param_request(&[1, 3, 6, 15, 28, 42, 51, 54])
    };
    let srv = |ty: u8| {
        Dhcp::server(ty, xid, ESP.mac, ESP.v4)
            .server_id(GW.v4)
            .lease_time(7200)
            .subnet_mask([255, 255, 255, 0])
            .router(GW.v4)
            .dns_servers(&[GW.v4])
    };
    frames.push(dhcp_frame(
        true,
        ESP.mac,
        [0; 4],
        &esp_req(dhcpmsg::REQUEST).requested_ip([192, 168, 60, 41]),
    ));
    let nak = Dhcp::server(dhcpmsg::NAK, xid, ESP.mac, [0; 4]).server_id(GW.v4);
    let mut nak = nak;
    nak.broadcast = true;
    frames.push(dhcp_frame(false, ESP.mac, [255; 4], &nak));
    frames.push(dhcp_frame(
        true,
        ESP.mac,
        [0; 4],
        &esp_req(dhcpmsg::DISCOVER),
    ));
    frames.push(dhcp_frame(false, ESP.mac, ESP.v4, &srv(dhcpmsg::OFFER)));
    frames.push(dhcp_frame(
        true,
        ESP.mac,
        [0; 4],
        &esp_req(dhcpmsg::REQUEST)
            .requested_ip(ESP.v4)
            .server_id(GW.v4),
    ));
    frames.push(dhcp_frame(false, ESP.mac, ESP.v4, &srv(dhcpmsg::ACK)));
    // The Pi's MQTT session.
    let (q, r) = dns_pair(
        &PI,
        Vlan::Untagged,
        53300,
        0x6001,
        "broker.example.com",
        dnstype::A,
        &[a_rec("broker.example.com", 300, BROKER)],
    );
    frames.push(q);
    frames.push(r);
    let mut m = Conv::v4(&PI, GW.mac, BROKER, 41500, 1883);
    frames.push(m.c(SYN, b""));
    frames.push(m.s(SYNACK, b""));
    frames.push(m.c(ACK, b""));
    frames.push(m.c(PSHACK, &mqtt_connect("clockrpi-0001", 60, Some("clock"))));
    frames.push(m.s(PSHACK, &mqtt_connack(false, 0)));
    frames.push(m.c(
        PSHACK,
        &mqtt_publish("clock/clockrpi-0001/status", b"online"),
    ));
    frames.push(m.s(ACK, b""));
    // The plug's HTTP fetch.
    let (q, r) = dns_pair(
        &ESP,
        Vlan::Untagged,
        53301,
        0x6002,
        "ota.example.com",
        dnstype::A,
        &[a_rec("ota.example.com", 300, WEB)],
    );
    frames.push(q);
    frames.push(r);
    let mut h = Conv::v4(&ESP, GW.mac, WEB, 52200, 80);
    frames.push(h.c(SYN, b""));
    frames.push(h.s(SYNACK, b""));
    frames.push(h.c(ACK, b""));
    frames.push(h.c(
        PSHACK,
        &http_get("ota.example.com", "/ota/esp32.bin", "ESP32 HTTP Client/1.0"),
    ));
    frames.push(h.s(PSHACK, &http_response(404, "Not Found", "no update")));
    frames.push(h.c(FINACK, b""));
    frames.push(h.s(FINACK, b""));
    frames.push(h.c(ACK, b""));

    let t = T0 + 80 * NS;
    let mut a = PcapWriter::ethernet_le();
    let mut b = PcapWriter::ethernet_le();
    for (i, f) in frames.iter().enumerate() {
        let ts = t + i as u64 * NS;
        if i % 2 == 0 {
            a.push(ts, f);
        } else {
            b.push(ts, f);
        }
    }
    (a.finish(), b.finish())
}

// ---------------------------------------------------------------- hostile files

fn hostile() -> Vec<Fixture> {
    let t = T0 + 90 * NS;
    let (arp_q, arp_r) = arp_pair(&PI, &GW);
    let (dns_q, _) = dns_pair(
        &PI,
        Vlan::Untagged,
        53400,
        0x7001,
        "api.example.net",
        dnstype::A,
        &[],
    );
    let good = PcapWriter::ethernet_le();
    let header = good.clone().finish();

    let mut cut = good.clone();
    cut.push(t, &arp_q);
    cut.push(t + MS, &arp_r);
    cut.push_raw(
        t + 2 * MS,
        dns_q.len() as u32,
        dns_q.len() as u32,
        &dns_q[..20],
    );

    let mut lying = good.clone();
    lying.push(t, &arp_q);
    lying.push_raw(t + MS, 0x7fff_ffff, 0x7fff_ffff, &arp_r);

    let mut over = PcapWriter::new(
        Endian::Little,
        TsResolution::Micro,
        1500,
        linktype::ETHERNET,
    );
    over.push(t, &arp_q);
    let mut jumbo = Conv::v4(&PI, GW.mac, WEB, 44200, 80);
    let jf = jumbo.c(PSHACK, &filler(11, 2000 - 54));
    assert_eq!(jf.len(), 2000);
    over.push_raw(t + MS, 2000, 2000, &jf);
    over.push(t + 2 * MS, &arp_r);

    let mut zero = good.clone();
    zero.push(t, &arp_q);
    zero.push_raw(t + MS, 0, 0, &[]);
    zero.push(t + 2 * MS, &arp_r);

    let mut lt = PcapWriter::new(Endian::Little, TsResolution::Micro, 65535, 9999);
    lt.push(t, &dns_q);

    let mut ng = PcapngWriter::new(Endian::Little);
    ng.add_interface(linktype::ETHERNET as u16, 65535, 6, "eth0");
    // Third block: an EPB whose leading length (90) is not a multiple of 4 and whose
    // trailing length (92) does not match it; then a good EPB a reader must not reach.
    let mut body = Vec::new();
    body.extend_from_slice(&0u32.to_le_bytes());
    let units = t / 1000;
    body.extend_from_slice(&((units >> 32) as u32).to_le_bytes());
    body.extend_from_slice(&(units as u32).to_le_bytes());
    body.extend_from_slice(&(arp_q.len() as u32).to_le_bytes());
    body.extend_from_slice(&(arp_q.len() as u32).to_le_bytes());
    body.extend_from_slice(&arp_q);
    body.resize(20 + 44, 0);
    let mut blk = Vec::new();
    blk.extend_from_slice(&6u32.to_le_bytes());
    blk.extend_from_slice(&90u32.to_le_bytes());
    blk.extend_from_slice(&body);
    blk.extend_from_slice(&92u32.to_le_bytes());
    ng.raw(&blk);
    ng.epb(0, t + MS, &arp_r, None);

    vec![
        fx(
            "bad-short-header.pcap",
            "hostile: 10 bytes, a cut pcap global header",
            header[..10].to_vec(),
        ),
        fx(
            "bad-magic.pcap",
            "hostile: a text file, no capture magic",
            b"this is not a capture file\nbut a note about one\n".to_vec(),
        ),
        fx(
            "bad-cut-record.pcap",
            "hostile: 2 good records, 3rd record header complete but its data cut",
            cut.finish(),
        ),
        fx(
            "bad-lying-length.pcap",
            "hostile: 1 good record, then caplen 0x7fffffff",
            lying.finish(),
        ),
        fx(
            "bad-caplen-over-snaplen.pcap",
            "hostile: snaplen 1500 but a 2000-byte record (data present)",
            over.finish(),
        ),
        fx(
            "bad-zero-length.pcap",
            "hostile: a zero-length record between two good ones",
            zero.finish(),
        ),
        fx(
            "bad-linktype.pcap",
            "hostile: link type 9999 with one frame",
            lt.finish(),
        ),
        fx(
            "bad-pcapng-block.pcapng",
            "hostile: pcapng whose 3rd block length is 90 (not /4) with trailing 92",
            ng.finish(),
        ),
        fx("empty.pcap", "a valid pcap header and no records", header),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_unique_names() {
        let a = all();
        let b = all();
        assert_eq!(a, b);
        let mut names: Vec<&str> = a.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), a.len());
    }

    fn pcap_records(b: &[u8]) -> Vec<(u64, usize, usize)> {
        let le = b[0] == 0xd4 || b[0] == 0x4d;
        let rd = |at: usize| {
            let w = [b[at], b[at + 1], b[at + 2], b[at + 3]];
            if le {
                u32::from_le_bytes(w)
            } else {
                u32::from_be_bytes(w)
            }
        };
        let nano = rd(0) == crate::testgen::writer::PCAP_MAGIC_NANO;
        let mut at = 24;
        let mut out = Vec::new();
        while at + 16 <= b.len() {
            let frac = u64::from(rd(at + 4));
            let ts = u64::from(rd(at)) * NS + if nano { frac } else { frac * 1000 };
            let cap = rd(at + 8) as usize;
            out.push((ts, cap, rd(at + 12) as usize));
            at += 16 + cap;
        }
        assert_eq!(at, b.len());
        out
    }

    fn get(name: &str) -> Vec<u8> {
        all().into_iter().find(|f| f.name == name).unwrap().bytes
    }

    #[test]
    fn basic_is_time_ordered_and_small() {
        let r = pcap_records(&get("basic.pcap"));
        assert!(r.len() <= 60);
        assert!(r.windows(2).all(|w| w[0].0 <= w[1].0));
        assert_eq!(r[0].0, T0);
    }

    #[test]
    fn merge_pair_interleaves() {
        let a = pcap_records(&get("merge-a.pcap"));
        let b = pcap_records(&get("merge-b.pcap"));
        assert_eq!(a.len(), 13);
        assert_eq!(b.len(), 12);
        for (i, r) in a.iter().enumerate() {
            assert_eq!(r.0, T0 + 80 * NS + 2 * i as u64 * NS);
        }
        for (i, r) in b.iter().enumerate() {
            assert_eq!(r.0, T0 + 80 * NS + (2 * i as u64 + 1) * NS);
        }
    }

    /// Every frame of the plain Ethernet fixtures parses with etherparse down to the
    /// transport layer, and every TCP/UDP checksum is right.
    #[test]
    fn ethernet_fixtures_parse_with_good_checksums() {
        use etherparse::{NetSlice, SlicedPacket, TransportSlice};
        for name in [
            "basic.pcap",
            "endian-nano.pcap",
            "vlan-qinq.pcap",
            "merge-a.pcap",
            "merge-b.pcap",
            "hostile-dns.pcap",
            "hostile-tls.pcap",
            "hostile-mqtt.pcap",
            "hostile-dhcp.pcap",
            "hostile-ntp-quic.pcap",
        ] {
            let bytes = get(name);
            let mut at = 24;
            let be = bytes[0] == 0xa1;
            while at < bytes.len() {
                let w = [bytes[at + 8], bytes[at + 9], bytes[at + 10], bytes[at + 11]];
                let cap = if be {
                    u32::from_be_bytes(w)
                } else {
                    u32::from_le_bytes(w)
                } as usize;
                let frame = &bytes[at + 16..at + 16 + cap];
                at += 16 + cap;
                let p = SlicedPacket::from_ethernet(frame).unwrap();
                match (&p.net, &p.transport) {
                    (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Tcp(t))) => {
                        let h = t.to_header();
                        let want = h.calc_checksum_ipv4(&ip.header().to_header(), t.payload());
                        assert_eq!(h.checksum, want.unwrap(), "{name}");
                    }
                    (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Udp(u))) => {
                        let h = u.to_header();
                        let want = h.calc_checksum_ipv4(&ip.header().to_header(), u.payload());
                        assert_eq!(h.checksum, want.unwrap(), "{name}");
                    }
                    (Some(NetSlice::Ipv6(ip)), Some(TransportSlice::Tcp(t))) => {
                        let h = t.to_header();
                        let want = h.calc_checksum_ipv6(&ip.header().to_header(), t.payload());
                        assert_eq!(h.checksum, want.unwrap(), "{name}");
                    }
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn snaplen_cuts_only_data() {
        let r = pcap_records(&get("snaplen-64.pcap"));
        assert!(r.iter().all(|&(_, cap, _)| cap <= 64));
        assert!(r.iter().filter(|&&(_, cap, orig)| cap < orig).count() >= 3);
        assert!(r.iter().all(|&(_, _, orig)| orig >= 54));
    }
}
