//! Site scenarios: for each vendor document in `../shared/seeds/` one small wired capture of
//! a site where the device gets everything its document asks for, and one where the
//! network breaks it in the ways a site technician meets (plus, for the WiFi charger,
//! monitor-mode captures of the same sites and a one-way mirror capture).
//!
//! Contract: [`all`] returns the same bytes on every call (timestamps from
//! 2026-03-02T08:00:00Z, fixed addresses and keys, no randomness, no clock). Every capture
//! is an Ethernet (or radiotap) pcap under 40 KB spanning 60 to 120 s, so that a SYN retried
//! at 1, 2 and 4 s or a query unanswered for more than 5 s before the end is unambiguous.
//! Every frame has correct lengths and checksums. What each file holds and what a correct
//! analysis concludes from it is written in `fixtures/README.md`; the unit tests here and in
//! each submodule check the properties that text relies on.
//!
//! Layout: this file holds the machinery (endpoints, `Conv` and `Sess` for TCP and UDP
//! conversations, `Site` for DHCP, DNS, ARP, NTP and ICMP, the TLS and SSH exchanges);
//! one submodule per vendor document writes that vendor's sites with it: `zaptec` (seed
//! 000), `cemm` (001), `knx` (002), `clock` (003), `cassia` (004).
//!
//! The site: LAN 192.168.50.0/24 behind a router at .1 (a Ubiquiti OUI; a FortiGate for the
//! KNX office) that is the DHCP server and the DNS resolver; public servers in the
//! documentation ranges 203.0.113.0/24, 198.51.100.0/24 and 192.0.2.0/24. Devices do what
//! real ones do: DHCP with their hostname, vendor class and parameter list, a gratuitous
//! ARP, DNS before each connection (with CNAMEs where the real service has them), TLS with
//! SNI, NTP. Conversations are written with `Sess`, which keeps TCP sequence numbers
//! consistent; the capture point is next to the devices, so a server's answer comes one
//! round trip after the packet it answers.
//!
//! Example (prose): `for f in sites::all() { std::fs::write(dir.join(f.name), &f.bytes)?; }`

use super::build::*;
use super::scenarios::Fixture;
use super::writer::{linktype, Endian, PcapWriter, TsResolution};

mod cassia;
mod cemm;
mod clock;
mod knx;
mod zaptec;

/// Every site fixture, in a fixed order.
pub fn all() -> Vec<Fixture> {
    let zaptec_ok = zaptec::wired(false);
    let zaptec_bad = zaptec::wired(true);
    vec![
        fixture(
            "site-zaptec-healthy.pcap",
            "Zaptec charger: DHCP, DNS, NTP, MQTT/TLS 8883 and HTTPS work; a laptop browses",
            pcap(&zaptec_ok),
        ),
        fixture(
            "site-zaptec-healthy-wifi.pcap",
            "radiotap: the charger joins WPA2 \"Site-IoT\" on channel 6",
            zaptec::wifi(6, &zaptec_ok),
        ),
        fixture(
            "site-zaptec-broken.pcap",
            "Zaptec charger: TCP 8883 SYNs dropped twice, NTP never answered; HTTPS works",
            pcap(&zaptec_bad),
        ),
        fixture(
            "site-zaptec-broken-wifi.pcap",
            "radiotap: the charger joins WPA2 \"Site-IoT\" on channel 13",
            zaptec::wifi(13, &zaptec_bad),
        ),
        fixture(
            "site-zaptec-oneway.pcap",
            "one-way mirror: only the frames the charger sends",
            zaptec::oneway(),
        ),
        fixture(
            "site-cemm-healthy.pcap",
            "CEMM: DHCP with NTP option, NTP, three HTTPS names, local UI on 80 and 8090",
            cemm::healthy(),
        ),
        fixture(
            "site-cemm-broken.pcap",
            "CEMM: static address, SERVFAIL, RST on 443, port 80 reached from the internet",
            cemm::broken(),
        ),
        fixture(
            "site-knx-healthy.pcap",
            "KNX ETS6 PC: the five KNX services on 443 and 80 work; general browsing",
            knx::healthy(),
        ),
        fixture(
            "site-knx-broken.pcap",
            "KNX ETS6 PC: FortiGate-signed certificate, handshake_failure alert",
            knx::broken(),
        ),
        fixture(
            "site-clock-healthy.pcap",
            "Clock IoT Pi: 443, SSH 22, 5000, AWS IoT 8883 and NTP work",
            clock::scenario(false),
        ),
        fixture(
            "site-clock-broken.pcap",
            "Clock IoT Pi: LAN 172.17.0.0/16, RST on 5000, ICMP prohibited on 8883, NTP RATE",
            clock::scenario(true),
        ),
        fixture(
            "site-cassia-healthy.pcap",
            "Cassia X2000: CAPWAP 5246/5247 with DTLS, MQTT/TLS 8883, 443, 9999 to the AC",
            cassia::scenario(false),
        ),
        fixture(
            "site-cassia-broken.pcap",
            "Cassia X2000: CAPWAP unanswered, RST on 9999, MQTT 1883 CONNACK 5; 8883 works",
            cassia::scenario(true),
        ),
    ]
}

use super::scenarios::fx as fixture;

// ---------------------------------------------------------------- time

const NS: u64 = 1_000_000_000;
const MS: u64 = 1_000_000;
const US: u64 = 1_000;
/// 2026-03-02T08:00:00Z in ns since the Unix epoch.
pub const T0: u64 = 1_772_438_400 * NS;

/// `ms` milliseconds after [`T0`].
const fn at(ms: u64) -> u64 {
    T0 + ms * MS
}

// ---------------------------------------------------------------- the cast

/// One end of a conversation as the capture sees it: the MAC the frames carry (the
/// router's for anything beyond it), the IPv4 address, and the TTL its packets arrive with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ep {
    mac: Mac,
    ip: [u8; 4],
    ttl: u8,
}

impl Ep {
    const fn new(mac: Mac, ip: [u8; 4], ttl: u8) -> Self {
        Ep { mac, ip, ttl }
    }

    /// The same device at another address.
    const fn with_ip(self, ip: [u8; 4]) -> Self {
        Ep { ip, ..self }
    }
}

/// The site router (Ubiquiti OUI): gateway, DHCP server, DNS resolver, NTP server.
const GW: Ep = Ep::new([0x74, 0x83, 0xc2, 0x5e, 0x00, 0x01], [192, 168, 50, 1], 64);

const SYN: u8 = tcpflags::SYN;
const ACK: u8 = tcpflags::ACK;
const SYNACK: u8 = tcpflags::SYN | tcpflags::ACK;
const PSHACK: u8 = tcpflags::PSH | tcpflags::ACK;
const FINACK: u8 = tcpflags::FIN | tcpflags::ACK;
const RSTACK: u8 = tcpflags::RST | tcpflags::ACK;

/// Largest TCP payload per segment (Ethernet MTU 1500, no TCP options after the SYN).
const MSS: usize = 1460;

/// 32 deterministic bytes from `seed` (randoms, key shares, session ids).
fn bytes32(seed: u32) -> [u8; 32] {
    let mut a = [0u8; 32];
    a.copy_from_slice(&filler(seed, 32));
    a
}

fn bytes16(seed: u32) -> [u8; 16] {
    let mut a = [0u8; 16];
    a.copy_from_slice(&filler(seed, 16));
    a
}

// ---------------------------------------------------------------- conversations

/// One conversation between `a` (who opened it) and `b`, tracking TCP sequence numbers and
/// IPv4 identifications so every segment acknowledges what the other side has sent.
struct Conv {
    a: Ep,
    b: Ep,
    aport: u16,
    bport: u16,
    aseq: u32,
    bseq: u32,
    aid: u16,
    bid: u16,
}

impl Conv {
    fn new(a: Ep, b: Ep, aport: u16, bport: u16) -> Self {
        let seed =
            (u32::from(aport) << 16 | u32::from(bport)) ^ u32::from_be_bytes(b.ip).rotate_left(7);
        let seed = seed.wrapping_mul(2_654_435_761);
        Conv {
            a,
            b,
            aport,
            bport,
            aseq: seed,
            bseq: seed.rotate_left(11) ^ 0x3c5a_0000,
            aid: (seed >> 16) as u16,
            bid: seed as u16,
        }
    }

    fn ip(&mut self, from_a: bool) -> Ip {
        let (src, dst) = if from_a {
            self.aid = self.aid.wrapping_add(1);
            (self.a, self.b)
        } else {
            self.bid = self.bid.wrapping_add(1);
            (self.b, self.a)
        };
        let id = if from_a { self.aid } else { self.bid };
        Ip::V4(Ipv4::new(src.ip, dst.ip).id(id).ttl(src.ttl))
    }

    fn frame(&self, from_a: bool, ip: &Ip, pkt: &[u8]) -> Vec<u8> {
        let (src, dst) = if from_a {
            (self.a.mac, self.b.mac)
        } else {
            (self.b.mac, self.a.mac)
        };
        ethernet(dst, src, Vlan::Untagged, ip.ethertype(), pkt)
    }

    /// A TCP segment; advances the sender's sequence number.
    fn seg(&mut self, from_a: bool, flags: u8, payload: &[u8]) -> Vec<u8> {
        let (seq, ack, sp, dp) = if from_a {
            (self.aseq, self.bseq, self.aport, self.bport)
        } else {
            (self.bseq, self.aseq, self.bport, self.aport)
        };
        let ack = if flags & ACK != 0 { ack } else { 0 };
        let mut tcp = Tcp::new(sp, dp, seq, ack, flags);
        tcp = if flags & SYN != 0 {
            tcp.syn_options().window(if from_a { 64240 } else { 65160 })
        } else if flags & tcpflags::RST != 0 {
            tcp.window(0)
        } else {
            tcp.window(if from_a { 502 } else { 501 })
        };
        let adv = payload.len() as u32 + u32::from(flags & (SYN | tcpflags::FIN) != 0);
        if from_a {
            self.aseq = self.aseq.wrapping_add(adv);
        } else {
            self.bseq = self.bseq.wrapping_add(adv);
        }
        let ip = self.ip(from_a);
        let pkt = ip.tcp(&tcp, payload);
        self.frame(from_a, &ip, &pkt)
    }

    /// The opener's SYN again, same sequence number: a retransmission.
    fn syn_again(&mut self) -> Vec<u8> {
        self.aseq = self.aseq.wrapping_sub(1);
        self.seg(true, SYN, b"")
    }

    /// A UDP datagram.
    fn dgram(&mut self, from_a: bool, payload: &[u8]) -> Vec<u8> {
        let ip = self.ip(from_a);
        let (sp, dp) = if from_a {
            (self.aport, self.bport)
        } else {
            (self.bport, self.aport)
        };
        let pkt = ip.udp(sp, dp, payload);
        self.frame(from_a, &ip, &pkt)
    }
}

/// A list of (timestamp ns, frame), sorted (stably) by time before it is written.
type Trace = Vec<(u64, Vec<u8>)>;

/// How an NTP server answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NtpAnswer {
    /// Stratum 2, leap 0, this reference id.
    Synced([u8; 4]),
    /// A kiss-of-death: leap 3, stratum 0, this kiss code as reference id.
    Kiss([u8; 4]),
    /// No answer.
    Silent,
}

/// A DHCP client's identity.
struct DhcpClient<'a> {
    dev: Ep,
    xid: u32,
    hostname: &'a str,
    vendor_class: Option<&'a str>,
    params: &'a [u8],
}

/// What the DHCP server hands out.
struct Lease {
    mask: [u8; 4],
    router: [u8; 4],
    dns: [u8; 4],
    ntp: Option<[u8; 4]>,
    secs: u32,
}

/// The usual /24 lease from the router, with or without option 42.
const fn lease24(ntp: Option<[u8; 4]>) -> Lease {
    Lease {
        mask: [255, 255, 255, 0],
        router: GW.ip,
        dns: GW.ip,
        ntp,
        secs: 86_400,
    }
}

/// A site being written: its router, the frames so far, and counters for client ports and
/// DNS ids.
struct Site {
    gw: Ep,
    tr: Trace,
    port: u16,
    dns_id: u16,
}

impl Site {
    fn new(gw: Ep, first_port: u16) -> Self {
        Site {
            gw,
            tr: Vec::new(),
            port: first_port,
            dns_id: first_port.rotate_left(5) ^ 0x2b1d,
        }
    }

    fn push(&mut self, t: u64, frame: Vec<u8>) {
        self.tr.push((t, frame));
    }

    /// The next ephemeral client port.
    fn port(&mut self) -> u16 {
        self.port = self.port.wrapping_add(1 + self.port % 7);
        if self.port < 32768 {
            self.port = 32768 + self.port % 1024;
        }
        self.port
    }

    /// A public server: reached through the router, some hops away.
    fn remote(&self, ip: [u8; 4]) -> Ep {
        Ep::new(self.gw.mac, ip, 52)
    }

    /// A conversation whose first packet is at `t`, with `rtt` between a packet and its
    /// answer.
    fn conv(&mut self, c: Conv, t: u64, rtt: u64) -> Sess<'_> {
        Sess {
            site: self,
            c,
            t,
            rtt,
        }
    }

    /// A TCP conversation from `dev` (next ephemeral port) to the public `server`.
    fn out(&mut self, dev: Ep, server: [u8; 4], port: u16, t: u64, rtt: u64) -> Sess<'_> {
        let c = Conv::new(dev, self.remote(server), self.port(), port);
        self.conv(c, t, rtt)
    }

    /// A DNS A query from `dev` to the router at `t`, answered after 9 ms with `answers`
    /// (rcode NOERROR) or, when `answers` is empty, with `rcode` and nothing.
    fn dns(&mut self, t: u64, dev: Ep, name: &str, rcode: u8, answers: &[DnsAnswer<'_>]) {
        self.dns_delayed(t, 9 * MS, dev, name, rcode, answers);
    }

    fn dns_delayed(
        &mut self,
        t: u64,
        delay: u64,
        dev: Ep,
        name: &str,
        rcode: u8,
        answers: &[DnsAnswer<'_>],
    ) {
        self.dns_id = self.dns_id.wrapping_mul(25_173).wrapping_add(13_849);
        let id = self.dns_id;
        let port = self.port();
        let mut c = Conv::new(dev, self.gw, port, 53);
        self.push(t, c.dgram(true, &dns_query(id, name, dnstype::A)));
        let r = dns_response(id, name, dnstype::A, rcode, answers);
        self.push(t + delay, c.dgram(false, &r));
    }

    /// `asker` asks who has `target`'s address; `target` answers 0.4 ms later.
    fn arp(&mut self, t: u64, asker: Ep, target: Ep) {
        let req = arp(ARP_REQUEST, asker.mac, asker.ip, [0; 6], target.ip);
        self.push(
            t,
            ethernet(BROADCAST, asker.mac, Vlan::Untagged, ethertype::ARP, &req),
        );
        let rep = arp(ARP_REPLY, target.mac, target.ip, asker.mac, asker.ip);
        self.push(
            t + 400 * US,
            ethernet(asker.mac, target.mac, Vlan::Untagged, ethertype::ARP, &rep),
        );
    }

    /// A gratuitous ARP (an announcement: a request for the sender's own address).
    fn announce(&mut self, t: u64, dev: Ep) {
        let req = arp(ARP_REQUEST, dev.mac, dev.ip, [0; 6], dev.ip);
        self.push(
            t,
            ethernet(BROADCAST, dev.mac, Vlan::Untagged, ethertype::ARP, &req),
        );
    }

    fn dhcp_client_frame(&self, c: &DhcpClient<'_>, msg: &Dhcp) -> Vec<u8> {
        let mut ip = Ipv4::new([0; 4], [255; 4]).ttl(64);
        ip.df = false;
        let pkt = Ip::V4(ip).udp(68, 67, &msg.build());
        ethernet(BROADCAST, c.dev.mac, Vlan::Untagged, ethertype::IPV4, &pkt)
    }

    fn dhcp_server_frame(&self, c: &DhcpClient<'_>, msg: &Dhcp) -> Vec<u8> {
        let mut ip = Ipv4::new(self.gw.ip, c.dev.ip).ttl(64);
        ip.df = false;
        let pkt = Ip::V4(ip).udp(67, 68, &msg.build());
        ethernet(
            c.dev.mac,
            self.gw.mac,
            Vlan::Untagged,
            ethertype::IPV4,
            &pkt,
        )
    }

    fn dhcp_request(&self, c: &DhcpClient<'_>, ty: u8) -> Dhcp {
        let mut m = Dhcp::client(ty, c.xid, c.dev.mac)
            .client_id(c.dev.mac)
            .hostname(c.hostname);
        if let Some(v) = c.vendor_class {
            m = m.vendor_class(v);
        }
        m.param_request(c.params)
    }

    fn dhcp_reply(&self, c: &DhcpClient<'_>, ty: u8, l: &Lease) -> Dhcp {
        let mut m = Dhcp::server(ty, c.xid, c.dev.mac, c.dev.ip)
            .server_id(self.gw.ip)
            .lease_time(l.secs)
            .opt(58, &(l.secs / 2).to_be_bytes())
            .opt(59, &(l.secs / 8 * 7).to_be_bytes())
            .subnet_mask(l.mask)
            .router(l.router)
            .dns_servers(&[l.dns])
            .opt(15, b"localdomain");
        if let Some(n) = l.ntp {
            m = m.ntp_servers(&[n]);
        }
        m
    }

    /// DISCOVER, OFFER, REQUEST, ACK: `c.dev.ip` is leased.
    fn dora(&mut self, t: u64, c: &DhcpClient<'_>, l: &Lease) {
        let discover = self.dhcp_request(c, dhcpmsg::DISCOVER);
        let offer = self.dhcp_reply(c, dhcpmsg::OFFER, l);
        let mut request = self
            .dhcp_request(c, dhcpmsg::REQUEST)
            .requested_ip(c.dev.ip)
            .server_id(self.gw.ip);
        request.secs = 1;
        let ack = self.dhcp_reply(c, dhcpmsg::ACK, l);
        let f = [
            self.dhcp_client_frame(c, &discover),
            self.dhcp_server_frame(c, &offer),
            self.dhcp_client_frame(c, &request),
            self.dhcp_server_frame(c, &ack),
        ];
        for (dt, frame) in [0, 3 * MS, 9 * MS, 12 * MS].into_iter().zip(f) {
            self.push(t + dt, frame);
        }
    }

    /// INIT-REBOOT: a REQUEST for the address the client had (no server id), and the ACK.
    fn reboot(&mut self, t: u64, c: &DhcpClient<'_>, l: &Lease) {
        let request = self
            .dhcp_request(c, dhcpmsg::REQUEST)
            .requested_ip(c.dev.ip);
        let ack = self.dhcp_reply(c, dhcpmsg::ACK, l);
        let f = self.dhcp_client_frame(c, &request);
        self.push(t, f);
        let f = self.dhcp_server_frame(c, &ack);
        self.push(t + 2 * MS, f);
    }

    /// An NTP client request from `dev`'s `cport` to `server` at `t`, carrying
    /// `device_clock` (the device's idea of the time) as its transmit timestamp, and the
    /// server's answer.
    fn ntp(&mut self, t: u64, dev: Ep, cport: u16, server: Ep, device_clock: u64, a: NtpAnswer) {
        let mut c = Conv::new(dev, server, cport, 123);
        self.push(t, c.dgram(true, &ntp_request(device_clock)));
        let delay = if server.ip == self.gw.ip {
            700 * US
        } else {
            23 * MS
        };
        let reply = |leap, stratum, refid| NtpReply {
            leap,
            stratum,
            refid,
            reference_ns: t - 517 * NS,
            origin_ns: device_clock,
            receive_ns: t + delay / 2,
            transmit_ns: t + delay / 2 + 30 * US,
        };
        let msg = match a {
            NtpAnswer::Synced(refid) => ntp_reply(&reply(0, 2, refid)),
            NtpAnswer::Kiss(code) => {
                let mut m = ntp_reply(&reply(3, 0, code));
                m[16..24].fill(0); // a kiss carries no reference time
                m
            }
            NtpAnswer::Silent => return,
        };
        self.push(t + delay, c.dgram(false, &msg));
    }

    /// An ICMP destination unreachable from `from` (the router) to `to`, quoting the IP
    /// packet of `probe`.
    fn icmp_unreachable(&mut self, t: u64, from: Ep, to: Ep, code: u8, probe: &[u8]) {
        let quoted = &probe[14..];
        let msg = icmpv4_unreachable(code, quoted);
        let mut ip = Ipv4::new(from.ip, to.ip).ttl(from.ttl).id(0x4c1d);
        ip.df = false;
        let f = ethernet(
            to.mac,
            from.mac,
            Vlan::Untagged,
            ethertype::IPV4,
            &ip.packet(ipproto::ICMP, &msg),
        );
        self.push(t, f);
    }

    /// The frames in time order (stable, so frames at the same instant keep their order).
    fn frames(mut self) -> Trace {
        self.tr.sort_by_key(|(t, _)| *t);
        self.tr
    }
}

/// A pcap (little-endian, microseconds, Ethernet) of a trace.
fn pcap(tr: &Trace) -> Vec<u8> {
    let mut w = PcapWriter::ethernet_le();
    for (t, f) in tr {
        w.push(*t, f);
    }
    w.finish()
}

/// A TCP (or UDP) conversation being written, with its own clock `t`.
struct Sess<'s> {
    site: &'s mut Site,
    c: Conv,
    t: u64,
    rtt: u64,
}

impl Sess<'_> {
    /// Moves the clock forward to `t`; going back in time is a bug in the scenario.
    fn at(&mut self, t: u64) -> &mut Self {
        assert!(t >= self.t, "a conversation cannot go back in time");
        self.t = t;
        self
    }

    fn wait(&mut self, dt: u64) -> &mut Self {
        self.t += dt;
        self
    }

    /// One round trip.
    fn rt(&mut self) -> &mut Self {
        self.t += self.rtt;
        self
    }

    /// Segments from the opener (`from_a`) or the other side: `payload` cut at the MSS,
    /// 12 µs apart; `flags` on the last segment, ACK on the others.
    fn send(&mut self, from_a: bool, flags: u8, payload: &[u8]) -> &mut Self {
        if payload.len() <= MSS {
            let f = self.c.seg(from_a, flags, payload);
            self.site.push(self.t, f);
            return self;
        }
        let chunks: Vec<&[u8]> = payload.chunks(MSS).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let fl = if i + 1 == chunks.len() { flags } else { ACK };
            let f = self.c.seg(from_a, fl, chunk);
            self.site.push(self.t, f);
            if i + 1 < chunks.len() {
                self.t += 12 * US;
            }
        }
        self
    }

    /// From the client (the opener).
    fn cs(&mut self, flags: u8, payload: &[u8]) -> &mut Self {
        self.send(true, flags, payload)
    }

    /// From the server.
    fn ss(&mut self, flags: u8, payload: &[u8]) -> &mut Self {
        self.send(false, flags, payload)
    }

    /// SYN, SYN-ACK one round trip later, ACK.
    fn open(&mut self) -> &mut Self {
        self.cs(SYN, b"")
            .rt()
            .ss(SYNACK, b"")
            .wait(90 * US)
            .cs(ACK, b"")
    }

    /// The client sends `req`; one round trip later the server answers `resp`; the client
    /// acknowledges.
    fn ask(&mut self, req: &[u8], resp: &[u8]) -> &mut Self {
        self.wait(200 * US)
            .cs(PSHACK, req)
            .rt()
            .ss(PSHACK, resp)
            .wait(150 * US)
            .cs(ACK, b"")
    }

    /// The server pushes `msg`; the client acknowledges.
    fn push_down(&mut self, msg: &[u8]) -> &mut Self {
        self.ss(PSHACK, msg).wait(40 * MS).cs(ACK, b"")
    }

    /// The client sends `msg`; the server acknowledges one round trip later.
    fn push_up(&mut self, msg: &[u8]) -> &mut Self {
        self.cs(PSHACK, msg).rt().ss(ACK, b"")
    }

    /// The client closes: FIN, the server's FIN one round trip later, the last ACK.
    fn close(&mut self) -> &mut Self {
        self.wait(300 * US)
            .cs(FINACK, b"")
            .rt()
            .ss(FINACK, b"")
            .wait(80 * US)
            .cs(ACK, b"")
    }

    /// The server closes: its FIN, the client's FIN at once, the server's ACK a round trip
    /// later.
    fn close_by_server(&mut self) -> &mut Self {
        self.ss(FINACK, b"")
            .wait(200 * US)
            .cs(FINACK, b"")
            .rt()
            .ss(ACK, b"")
    }

    /// A SYN and its retransmissions 1, 3 and 7 s later, none answered.
    fn syn_unanswered(&mut self) -> &mut Self {
        self.cs(SYN, b"");
        for dt in [1, 2, 4] {
            self.t += dt * NS;
            let f = self.c.syn_again();
            self.site.push(self.t, f);
        }
        self
    }

    /// A SYN refused by the server with RST/ACK one round trip later.
    fn syn_refused(&mut self) -> &mut Self {
        self.cs(SYN, b"");
        self.c.bseq = 0;
        self.rt().ss(RSTACK, b"")
    }

    /// The opener's UDP datagram.
    fn cu(&mut self, payload: &[u8]) -> &mut Self {
        let f = self.c.dgram(true, payload);
        self.site.push(self.t, f);
        self
    }

    /// The other side's UDP datagram.
    fn su(&mut self, payload: &[u8]) -> &mut Self {
        let f = self.c.dgram(false, payload);
        self.site.push(self.t, f);
        self
    }
}

// ---------------------------------------------------------------- TLS exchanges

/// A TLS 1.3 handshake on an open connection: ClientHello (SNI `sni`, ALPN `alpn`), the
/// server's ServerHello, ChangeCipherSpec and `flight` bytes of encrypted handshake, the
/// client's ChangeCipherSpec and encrypted Finished.
fn tls13(s: &mut Sess<'_>, sni: &str, alpn: &[&str], seed: u32, flight: usize) {
    tls13_then(s, sni, alpn, seed, flight, 0);
}

/// [`tls13`], with the client's first `request` bytes of application data in the same
/// segment as its Finished, as browsers send them.
fn tls13_then(
    s: &mut Sess<'_>,
    sni: &str,
    alpn: &[&str],
    seed: u32,
    flight: usize,
    request: usize,
) {
    let ch = tls13_client_hello(
        sni,
        alpn,
        bytes32(seed),
        bytes32(seed ^ 1),
        bytes32(seed ^ 2),
    );
    let mut sh = tls13_server_hello(
        bytes32(seed ^ 3),
        bytes32(seed ^ 1),
        0x1301,
        bytes32(seed ^ 4),
    );
    sh.extend_from_slice(&tls_change_cipher_spec());
    sh.extend_from_slice(&tls_app_data(seed ^ 5, flight));
    let mut fin = tls_change_cipher_spec();
    fin.extend_from_slice(&tls_app_data(seed ^ 6, 53));
    if request > 0 {
        fin.extend_from_slice(&tls_app_data(seed ^ 0x10, request));
    }
    s.wait(150 * US)
        .cs(PSHACK, &ch)
        .rt()
        .ss(PSHACK, &sh)
        .wait(900 * US)
        .cs(PSHACK, &fin);
}

/// A TLS 1.2 ClientHello answered by an abbreviated (resumed) handshake: the server echoes
/// the session id, sends ChangeCipherSpec and Finished, and so does the client.
fn tls12_resumed(s: &mut Sess<'_>, sni: &str, seed: u32) {
    let sid = bytes32(seed ^ 1);
    let ch = tls_client_hello(sni, &[], bytes32(seed), sid);
    let mut sh = tls_server_hello(bytes32(seed ^ 3), sid, 0xc02f, None);
    sh.extend_from_slice(&tls_change_cipher_spec());
    sh.extend_from_slice(&tls_record(22, 0x0303, &filler(seed ^ 4, 40)));
    let mut fin = tls_change_cipher_spec();
    fin.extend_from_slice(&tls_record(22, 0x0303, &filler(seed ^ 5, 40)));
    s.wait(150 * US)
        .cs(PSHACK, &ch)
        .rt()
        .ss(PSHACK, &sh)
        .wait(600 * US)
        .cs(PSHACK, &fin);
}

/// A full TLS 1.2 handshake whose server flight (ServerHello, Certificate with `chain`,
/// ServerKeyExchange, ServerHelloDone) is in the clear.
fn tls12_full(s: &mut Sess<'_>, sni: &str, chain: &[Vec<u8>], seed: u32) {
    let ch = tls_client_hello(sni, &[], bytes32(seed), bytes32(seed ^ 1));
    let msgs = [
        tls_server_hello_msg(bytes32(seed ^ 3), bytes32(seed ^ 7), 0xc02f, None),
        tls_certificate_msg(chain),
        tls_server_key_exchange_msg(bytes32(seed ^ 4), seed ^ 8),
        tls_server_hello_done_msg(),
    ]
    .concat();
    let mut ckx = tls_record(22, 0x0303, &tls_client_key_exchange_msg(bytes32(seed ^ 2)));
    ckx.extend_from_slice(&tls_change_cipher_spec());
    ckx.extend_from_slice(&tls_record(22, 0x0303, &filler(seed ^ 5, 40)));
    let mut fin = tls_change_cipher_spec();
    fin.extend_from_slice(&tls_record(22, 0x0303, &filler(seed ^ 6, 40)));
    s.wait(150 * US)
        .cs(PSHACK, &ch)
        .rt()
        .ss(PSHACK, &tls_handshake_records(&msgs))
        .wait(150 * US)
        .cs(ACK, b"")
        .wait(2 * MS)
        .cs(PSHACK, &ckx)
        .rt()
        .ss(PSHACK, &fin);
}

/// Application data: `up` bytes from the client, `down` bytes back.
fn tls_ask(s: &mut Sess<'_>, up: usize, down: usize, seed: u32) {
    s.ask(&tls_app_data(seed, up), &tls_app_data(seed ^ 0x77, down));
}

// ---------------------------------------------------------------- SSH

/// An SSH connection's opening: the server's banner, the client's, both KEXINITs, the ECDH
/// exchange and NEWKEYS; what follows is encrypted.
fn ssh_open(s: &mut Sess<'_>, client: &str, server: &str, seed: u32) {
    let cookie = bytes16(seed);
    let kex = "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256";
    let cipher = "chacha20-poly1305@openssh.com,aes128-ctr,aes256-gcm@openssh.com";
    let ckex = ssh_packet(
        &ssh_kexinit(
            cookie,
            kex,
            "ssh-ed25519,rsa-sha2-512",
            cipher,
            "hmac-sha2-256",
        ),
        seed,
    );
    let skex = ssh_packet(
        &ssh_kexinit(
            bytes16(seed ^ 9),
            kex,
            "ssh-ed25519",
            cipher,
            "hmac-sha2-256",
        ),
        seed ^ 9,
    );
    let ecdh_init = ssh_ecdh_init(bytes32(seed ^ 3));
    let mut reply = ssh_packet(&ssh_ecdh_reply(bytes32(seed ^ 4), seed ^ 14), seed ^ 5);
    reply.extend_from_slice(&ssh_packet(&[21], seed ^ 6));
    s.rt()
        .ss(PSHACK, format!("{server}\r\n").as_bytes())
        .wait(300 * US)
        .cs(PSHACK, format!("{client}\r\n").as_bytes())
        .wait(200 * US)
        .cs(PSHACK, &ckex)
        .rt()
        .ss(PSHACK, &skex)
        .wait(2 * MS)
        .cs(PSHACK, &ssh_packet(&ecdh_init, seed ^ 7))
        .rt()
        .ss(PSHACK, &reply)
        .wait(3 * MS)
        .cs(PSHACK, &ssh_packet(&[21], seed ^ 8))
        .wait(MS)
        .cs(PSHACK, &filler(seed ^ 10, 52))
        .rt()
        .ss(PSHACK, &filler(seed ^ 11, 52))
        .wait(2 * MS)
        .cs(PSHACK, &filler(seed ^ 12, 92))
        .rt()
        .ss(PSHACK, &filler(seed ^ 13, 36));
}

// ---------------------------------------------------------------- DNS answers, browsing

fn a_rec(name: &str, ttl: u32, ip: [u8; 4]) -> DnsAnswer<'_> {
    DnsAnswer {
        name,
        ttl,
        data: DnsData::A(ip),
    }
}

fn cname<'a>(name: &'a str, ttl: u32, target: &'a str) -> DnsAnswer<'a> {
    DnsAnswer {
        name,
        ttl,
        data: DnsData::Cname(target),
    }
}

/// A DNS answer for `name`: a CNAME to `via` when given, then one A record per address.
fn answers<'a>(name: &'a str, via: Option<&'a str>, ips: &[[u8; 4]]) -> Vec<DnsAnswer<'a>> {
    let mut v = Vec::new();
    let owner = match via {
        Some(target) => {
            v.push(cname(name, 300, target));
            target
        }
        None => name,
    };
    v.extend(ips.iter().map(|ip| a_rec(owner, 60, *ip)));
    v
}

/// A browser's visit: DNS, a TLS 1.3 connection with ALPN h2, one request and its answer;
/// the connection stays open, as browsers keep them.
fn browse(site: &mut Site, dev: Ep, t: u64, name: &str, via: Option<&str>, ip: [u8; 4]) {
    site.dns(t, dev, name, 0, &answers(name, via, &[ip]));
    let rtt = (12 + u64::from(ip[3]) % 29) * MS;
    let seed = u32::from(ip[3]) << 8 | 0x5e;
    let mut s = site.out(dev, ip, 443, t + 15 * MS, rtt);
    s.open();
    tls13_then(&mut s, name, &["h2", "http/1.1"], seed, 380, 180);
    s.rt()
        .ss(PSHACK, &tls_app_data(seed ^ 0x11, 520))
        .wait(150 * US)
        .cs(ACK, b"");
}

/// What the tests of every site read from the captures.
#[cfg(test)]
mod testkit {
    use super::*;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    pub(super) fn get(name: &str) -> Vec<u8> {
        all().into_iter().find(|f| f.name == name).unwrap().bytes
    }

    /// The records of a little-endian microsecond pcap written by [`PcapWriter`].
    pub(super) fn records(b: &[u8]) -> Vec<(u64, &[u8])> {
        let rd = |at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        assert_eq!(rd(0), 0xa1b2_c3d4);
        let mut at = 24;
        let mut out = Vec::new();
        while at < b.len() {
            let ts = u64::from(rd(at)) * NS + u64::from(rd(at + 4)) * US;
            let cap = rd(at + 8) as usize;
            assert_eq!(cap, rd(at + 12) as usize, "no frame is cut");
            out.push((ts, &b[at + 16..at + 16 + cap]));
            at += 16 + cap;
        }
        assert_eq!(at, b.len());
        out
    }

    /// What the tests look at in a frame.
    #[derive(Debug, Default)]
    pub(super) struct Pkt<'a> {
        pub(super) ts: u64,
        pub(super) src_mac: Mac,
        pub(super) src: [u8; 4],
        pub(super) dst: [u8; 4],
        pub(super) udp: bool,
        pub(super) tcp: bool,
        pub(super) sport: u16,
        pub(super) dport: u16,
        pub(super) syn: bool,
        pub(super) ack: bool,
        pub(super) rst: bool,
        pub(super) seq: u32,
        pub(super) icmp: Option<(u8, u8, &'a [u8])>,
        pub(super) payload: &'a [u8],
    }

    pub(super) fn pkts(b: &[u8]) -> Vec<Pkt<'_>> {
        records(b)
            .into_iter()
            .map(|(ts, f)| {
                let p = SlicedPacket::from_ethernet(f).expect("frame parses");
                let mut v = Pkt {
                    ts,
                    src_mac: f[6..12].try_into().unwrap(),
                    ..Default::default()
                };
                if let Some(NetSlice::Ipv4(ip)) = &p.net {
                    v.src = ip.header().source();
                    v.dst = ip.header().destination();
                }
                match &p.transport {
                    Some(TransportSlice::Tcp(t)) => {
                        v.tcp = true;
                        v.sport = t.source_port();
                        v.dport = t.destination_port();
                        v.syn = t.syn();
                        v.ack = t.ack();
                        v.rst = t.rst();
                        v.seq = t.sequence_number();
                        v.payload = t.payload();
                    }
                    Some(TransportSlice::Udp(u)) => {
                        v.udp = true;
                        v.sport = u.source_port();
                        v.dport = u.destination_port();
                        v.payload = u.payload();
                    }
                    Some(TransportSlice::Icmpv4(i)) => {
                        v.icmp = Some((i.type_u8(), i.code_u8(), i.payload()));
                    }
                    _ => {}
                }
                v
            })
            .collect()
    }

    pub(super) const WIRED: [&str; 11] = [
        "site-zaptec-healthy.pcap",
        "site-zaptec-broken.pcap",
        "site-zaptec-oneway.pcap",
        "site-cemm-healthy.pcap",
        "site-cemm-broken.pcap",
        "site-knx-healthy.pcap",
        "site-knx-broken.pcap",
        "site-clock-healthy.pcap",
        "site-clock-broken.pcap",
        "site-cassia-healthy.pcap",
        "site-cassia-broken.pcap",
    ];
    pub(super) const WIFI: [&str; 2] = [
        "site-zaptec-healthy-wifi.pcap",
        "site-zaptec-broken-wifi.pcap",
    ];

    pub(super) fn from_port(p: &[Pkt<'_>], port: u16) -> usize {
        p.iter()
            .filter(|x| (x.tcp || x.udp) && x.sport == port)
            .count()
    }

    /// A DHCP message as the tests read it: type, yiaddr, options (code, value).
    pub(super) type DhcpView<'a> = (u8, [u8; 4], Vec<(u8, &'a [u8])>);

    /// Reads a DHCP message.
    pub(super) fn dhcp(payload: &[u8]) -> DhcpView<'_> {
        let mut opts = Vec::new();
        let mut at = 240;
        while at < payload.len() && payload[at] != 255 {
            let (code, len) = (payload[at], usize::from(payload[at + 1]));
            opts.push((code, &payload[at + 2..at + 2 + len]));
            at += 2 + len;
        }
        let ty = opts.iter().find(|o| o.0 == 53).unwrap().1[0];
        (ty, payload[16..20].try_into().unwrap(), opts)
    }
}

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use super::*;
    use etherparse::{NetSlice, SlicedPacket};

    #[test]
    fn small_ordered_and_long_enough() {
        let all = all();
        assert_eq!(all.len(), WIRED.len() + WIFI.len());
        assert_eq!(all, super::all(), "deterministic");
        for f in &all {
            assert!(
                f.bytes.len() < 40_000,
                "{} is {} bytes",
                f.name,
                f.bytes.len()
            );
            let r = records(&f.bytes);
            assert!(r.windows(2).all(|w| w[0].0 <= w[1].0), "{}", f.name);
            assert!(r[0].0 >= T0 && r[0].0 < T0 + 2 * NS, "{}", f.name);
            let span = r[r.len() - 1].0 - r[0].0;
            if WIRED.contains(&f.name) {
                assert!((60 * NS..=120 * NS).contains(&span), "{}: {span}", f.name);
            } else {
                assert!(span > 2 * NS, "{}", f.name);
            }
        }
    }

    /// Every wired frame parses with etherparse, and every checksum (IPv4 header, TCP, UDP,
    /// ICMP) adds up.
    #[test]
    fn wired_frames_parse_with_good_checksums() {
        for name in WIRED {
            let b = get(name);
            for (i, (_, f)) in records(&b).into_iter().enumerate() {
                let p =
                    SlicedPacket::from_ethernet(f).unwrap_or_else(|e| panic!("{name} #{i}: {e:?}"));
                let Some(NetSlice::Ipv4(ip)) = &p.net else {
                    assert!(matches!(p.net, Some(NetSlice::Arp(_))), "{name} #{}", i + 1);
                    continue;
                };
                let hdr = &f[14..14 + usize::from(f[14] & 0x0f) * 4];
                assert_eq!(internet_checksum(hdr), 0, "{name} #{} IPv4", i + 1);
                let l4 = &f[14 + hdr.len()..];
                let proto = ip.header().protocol().0;
                let sum = if proto == ipproto::ICMP {
                    internet_checksum(l4)
                } else {
                    let mut ph = Vec::new();
                    ph.extend_from_slice(&hdr[12..20]);
                    ph.extend_from_slice(&[0, proto]);
                    ph.extend_from_slice(&(l4.len() as u16).to_be_bytes());
                    ph.extend_from_slice(l4);
                    internet_checksum(&ph)
                };
                assert_eq!(sum, 0, "{name} #{} proto {proto}", i + 1);
                assert!(f.len() <= 1514, "{name} #{}", i + 1);
            }
        }
    }
}
