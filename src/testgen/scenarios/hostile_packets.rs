//! Hostile packets: well-formed capture files (Ethernet, IPv4, correct lengths and
//! checksums down to the transport layer) whose application payloads lie. One file per
//! protocol family; in each, every lie is its own message (its own UDP exchange or TCP
//! connection), and after the lies come well-formed messages of the same protocol, which
//! a reader must still get right.
//!
//! What each frame holds, what a reader must do with it and what TShark says about it is
//! written in `fixtures/README.md` ("Hostile files"); `tests/it/hostile.rs` checks the
//! report egresswatch writes for each file.
//!
//! The lies are built here byte by byte (not with the well-formed builders of
//! [`crate::testgen::build`]) so that each length field is visibly the one that lies.

use super::*;

/// Every hostile-packet fixture.
pub(super) fn all() -> Vec<Fixture> {
    vec![
        fx(
            "hostile-dns.pcap",
            "hostile packets: DNS compression loops, pointer chains, lying counts",
            dns(),
        ),
        fx(
            "hostile-tls.pcap",
            "hostile packets: TLS ClientHellos whose lengths lie, one cut for good",
            tls(),
        ),
        fx(
            "hostile-mqtt.pcap",
            "hostile packets: MQTT CONNECTs with overlong varints and lying lengths",
            mqtt(),
        ),
        fx(
            "hostile-dhcp.pcap",
            "hostile packets: DHCP options past their area, no end, overload, cut header",
            dhcp(),
        ),
        fx(
            "hostile-ntp-quic.pcap",
            "hostile packets: an NTP request cut short, QUIC Initials with lying lengths",
            ntp_quic(),
        ),
    ]
}

/// Frames at a steady pace: each `push` is `step` after the one before.
struct Clock {
    t: u64,
    step: u64,
    trace: Trace,
}

impl Clock {
    fn new(t: u64, step: u64) -> Self {
        Clock {
            t,
            step,
            trace: Vec::new(),
        }
    }

    fn push(&mut self, frame: Vec<u8>) {
        self.trace.push((self.t, frame));
        self.t += self.step;
    }

    fn pcap(self) -> Vec<u8> {
        pcap_of(&self.trace, PcapWriter::ethernet_le())
    }
}

/// A TCP connection that carries one client payload, which the server acknowledges by
/// closing: handshake, the payload, FIN both ways (the server's first), last ACK (7 frames).
fn one_shot(clock: &mut Clock, mut c: Conv, payload: &[u8]) {
    clock.push(c.c(SYN, b""));
    clock.push(c.s(SYNACK, b""));
    clock.push(c.c(ACK, b""));
    clock.push(c.c(PSHACK, payload));
    clock.push(c.s(FINACK, b""));
    clock.push(c.c(FINACK, b""));
    clock.push(c.s(ACK, b""));
}

// ---------------------------------------------------------------- DNS

/// A DNS header: id, flags, then the four section counts.
fn dns_head(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
    let mut m = Vec::with_capacity(64);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&flags.to_be_bytes());
    for n in counts {
        m.extend_from_slice(&n.to_be_bytes());
    }
    m
}

/// A name written label by label, uncompressed.
fn dns_name(name: &str) -> Vec<u8> {
    let mut n = Vec::new();
    for label in name.split('.') {
        n.push(label.len() as u8);
        n.extend_from_slice(label.as_bytes());
    }
    n.push(0);
    n
}

/// A compression pointer to `offset`.
fn ptr(offset: usize) -> [u8; 2] {
    (0xc000 | offset as u16).to_be_bytes()
}

const QUERY: u16 = 0x0100;
const RESPONSE: u16 = 0x8180;
const TYPE_A: [u8; 2] = [0, 1];
const TYPE_CNAME: [u8; 2] = [0, 5];
const TYPE_NULL: [u8; 2] = [0, 10];
const CLASS_IN: [u8; 2] = [0, 1];

/// Type, class IN, TTL 300 and the RDATA with its length.
fn rr_tail(m: &mut Vec<u8>, rtype: [u8; 2], rdata: &[u8]) {
    m.extend_from_slice(&rtype);
    m.extend_from_slice(&CLASS_IN);
    m.extend_from_slice(&300u32.to_be_bytes());
    m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    m.extend_from_slice(rdata);
}

/// Pointers a long chain holds: more than any limit a reader may set (egresswatch
/// follows 128).
const CHAIN: usize = 200;

/// The hostile queries, in order: (what, message).
fn dns_bad_queries(id: u16) -> Vec<(&'static str, Vec<u8>)> {
    let mut v = Vec::new();
    // A name that is a pointer to itself.
    let mut m = dns_head(id, QUERY, [1, 0, 0, 0]);
    m.extend_from_slice(&ptr(12));
    m.extend_from_slice(&TYPE_A);
    m.extend_from_slice(&CLASS_IN);
    v.push(("query: name is a pointer to itself", m));
    // Two questions whose names point at each other.
    let mut m = dns_head(id + 1, QUERY, [2, 0, 0, 0]);
    m.extend_from_slice(&ptr(18));
    m.extend_from_slice(&TYPE_A);
    m.extend_from_slice(&CLASS_IN);
    assert_eq!(m.len(), 18);
    m.extend_from_slice(&ptr(12));
    m.extend_from_slice(&TYPE_A);
    m.extend_from_slice(&CLASS_IN);
    v.push(("query: two names pointing at each other", m));
    // A pointer past the end of the message (0x3fff).
    let mut m = dns_head(id + 2, QUERY, [1, 0, 0, 0]);
    m.extend_from_slice(&[0xff, 0xff]);
    m.extend_from_slice(&TYPE_A);
    m.extend_from_slice(&CLASS_IN);
    v.push(("query: pointer past the end", m));
    // CHAIN questions, each name a pointer to the one before: the last takes CHAIN - 1
    // hops to reach chain.example.net.
    let mut m = dns_head(id + 3, QUERY, [CHAIN as u16, 0, 0, 0]);
    let mut prev = m.len();
    m.extend_from_slice(&dns_name("chain.example.net"));
    m.extend_from_slice(&TYPE_A);
    m.extend_from_slice(&CLASS_IN);
    for _ in 1..CHAIN {
        let at = m.len();
        m.extend_from_slice(&ptr(prev));
        m.extend_from_slice(&TYPE_A);
        m.extend_from_slice(&CLASS_IN);
        prev = at;
    }
    v.push(("query: a chain of 199 pointers", m));
    // A label of 63 bytes with 4 left in the message.
    let mut m = dns_head(id + 4, QUERY, [1, 0, 0, 0]);
    m.push(63);
    m.extend_from_slice(b"host");
    v.push(("query: label length past the end", m));
    // 65535 questions counted, one present.
    let mut m = dns_head(id + 5, QUERY, [0xffff, 0, 0, 0]);
    m.extend_from_slice(&dns_name("count.example.net"));
    m.extend_from_slice(&TYPE_A);
    m.extend_from_slice(&CLASS_IN);
    v.push(("query: 65535 questions counted, 1 present", m));
    v
}

/// The names of the real queries the hostile responses answer, in order.
const DNS_ANSWERED: [&str; 6] = [
    "r-self.example.net",
    "r-mutual.example.net",
    "r-past.example.net",
    "r-chain.example.net",
    "r-label.example.net",
    "r-count.example.net",
];

/// The address each hostile response would give its name if it were believed
/// (203.0.113.91 to .96, in the order of [`DNS_ANSWERED`]).
fn dns_lure(i: usize) -> [u8; 4] {
    [203, 0, 113, 91 + i as u8]
}

/// The hostile response to query `i` of [`DNS_ANSWERED`]: the question echoed as it was
/// asked, then an answer section that lies.
fn dns_bad_response(i: usize, id: u16) -> Vec<u8> {
    let name = DNS_ANSWERED[i];
    let lure = dns_lure(i);
    let answers = match i {
        1 | 3 => 2,
        5 => 0xffff,
        _ => 1,
    };
    let mut m = dns_head(id, RESPONSE, [1, answers, 0, 0]);
    m.extend_from_slice(&dns_name(name));
    m.extend_from_slice(&TYPE_A);
    m.extend_from_slice(&CLASS_IN);
    let at = m.len();
    match i {
        // An A record whose owner is a pointer to itself.
        0 => {
            m.extend_from_slice(&ptr(at));
            rr_tail(&mut m, TYPE_A, &lure);
        }
        // Two A records whose owners point at each other.
        1 => {
            let second = at + 2 + 10 + 4;
            m.extend_from_slice(&ptr(second));
            rr_tail(&mut m, TYPE_A, &lure);
            assert_eq!(m.len(), second);
            m.extend_from_slice(&ptr(at));
            rr_tail(&mut m, TYPE_A, &lure);
        }
        // An owner pointing past the end.
        2 => {
            m.extend_from_slice(&[0xff, 0xff]);
            rr_tail(&mut m, TYPE_A, &lure);
        }
        // A NULL record (owner: the question's name) whose data is a chain of CHAIN
        // pointers, each to the one before, the first to the question's name; then an A
        // record whose owner is a pointer to the last of them: CHAIN + 1 hops.
        3 => {
            m.extend_from_slice(&ptr(12));
            let base = m.len() + 10;
            let mut chain = Vec::with_capacity(2 * CHAIN);
            chain.extend_from_slice(&ptr(12));
            for k in 1..CHAIN {
                chain.extend_from_slice(&ptr(base + 2 * (k - 1)));
            }
            rr_tail(&mut m, TYPE_NULL, &chain);
            m.extend_from_slice(&ptr(base + 2 * (CHAIN - 1)));
            rr_tail(&mut m, TYPE_A, &lure);
        }
        // A CNAME whose target is a 63-byte label with 5 bytes left in the message.
        4 => {
            m.extend_from_slice(&ptr(12));
            m.extend_from_slice(&TYPE_CNAME);
            m.extend_from_slice(&CLASS_IN);
            m.extend_from_slice(&300u32.to_be_bytes());
            m.extend_from_slice(&6u16.to_be_bytes());
            m.push(63);
            m.extend_from_slice(b"lure.");
        }
        // 65535 answers counted, one present (a good one).
        _ => {
            m.extend_from_slice(&ptr(12));
            rr_tail(&mut m, TYPE_A, &lure);
        }
    }
    m
}

fn dns() -> Vec<u8> {
    let mut clock = Clock::new(T0 + 100 * NS, 20 * MS);
    let mut port = 53500;
    let mut next_port = || {
        port += 1;
        port
    };
    for (_, q) in dns_bad_queries(0x8001) {
        let mut c = Conv::v4(&PI, GW.mac, GW.v4, next_port(), 53);
        clock.push(c.cu(&q));
    }
    for (i, name) in DNS_ANSWERED.iter().enumerate() {
        let id = 0x8101 + i as u16;
        let mut c = Conv::v4(&PI, GW.mac, GW.v4, next_port(), 53);
        clock.push(c.cu(&dns_query(id, name, dnstype::A)));
        clock.push(c.su(&dns_bad_response(i, id)));
    }
    // Well-formed, after the lies.
    let mut c = Conv::v4(&PI, GW.mac, GW.v4, next_port(), 53);
    clock.push(c.cu(&dns_query(0x8201, "api.example.net", dnstype::A)));
    clock.push(c.su(&dns_response(
        0x8201,
        "api.example.net",
        dnstype::A,
        0,
        &[a_rec("api.example.net", 300, API)],
    )));
    clock.pcap()
}

// ---------------------------------------------------------------- TLS

/// The body of a TLS 1.2 ClientHello: fixed fields, then `extensions` behind a length of
/// `ext_len` (the true length when `None`).
fn hello_body(seed: u8, extensions: &[u8], ext_len: Option<u16>) -> Vec<u8> {
    let mut b = Vec::with_capacity(128 + extensions.len());
    b.extend_from_slice(&0x0303u16.to_be_bytes());
    b.extend_from_slice(&[seed; 32]);
    b.push(32);
    b.extend_from_slice(&[seed ^ 0x5a; 32]);
    let suites: [u16; 5] = [0xc02b, 0xc02f, 0xc030, 0xcca9, 0x00ff];
    b.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        b.extend_from_slice(&s.to_be_bytes());
    }
    b.extend_from_slice(&[1, 0]);
    let len = ext_len.unwrap_or(extensions.len() as u16);
    b.extend_from_slice(&len.to_be_bytes());
    b.extend_from_slice(extensions);
    b
}

/// One extension: type, length, data.
fn ext(typ: u16, data: &[u8]) -> Vec<u8> {
    let mut e = typ.to_be_bytes().to_vec();
    e.extend_from_slice(&(data.len() as u16).to_be_bytes());
    e.extend_from_slice(data);
    e
}

/// The server_name extension's data with the given list and entry lengths (`None`: true).
fn sni_data(name: &str, list_len: Option<u16>, entry_len: Option<u16>) -> Vec<u8> {
    let entry = entry_len.unwrap_or(name.len() as u16);
    let list = list_len.unwrap_or(name.len() as u16 + 3);
    let mut d = list.to_be_bytes().to_vec();
    d.push(0);
    d.extend_from_slice(&entry.to_be_bytes());
    d.extend_from_slice(name.as_bytes());
    d
}

/// server_name, then groups, point formats and signature algorithms (all true).
fn hello_extensions(sni: &[u8]) -> Vec<u8> {
    let mut e = ext(0, sni);
    e.extend(ext(10, &[0, 4, 0x00, 0x1d, 0x00, 0x17]));
    e.extend(ext(11, &[1, 0]));
    e.extend(ext(13, &[0, 4, 0x04, 0x03, 0x08, 0x04]));
    e
}

/// A handshake message of type 1 with a length of `len` (true when `None`).
fn hello_msg(body: &[u8], len: Option<u32>) -> Vec<u8> {
    let mut h = vec![1];
    h.extend_from_slice(&len.unwrap_or(body.len() as u32).to_be_bytes()[1..]);
    h.extend_from_slice(body);
    h
}

/// A handshake record (version 0x0301) with a length of `len` (true when `None`).
fn hs_record(msg: &[u8], len: Option<u16>) -> Vec<u8> {
    let mut r = vec![22, 3, 1];
    r.extend_from_slice(&len.unwrap_or(msg.len() as u16).to_be_bytes());
    r.extend_from_slice(msg);
    r
}

/// A well-formed ClientHello record for `sni`.
fn good_hello(seed: u8, sni: &str) -> Vec<u8> {
    let exts = hello_extensions(&sni_data(sni, None, None));
    hs_record(&hello_msg(&hello_body(seed, &exts, None), None), None)
}

/// The lying ClientHellos, in order: (what, client payload). The SNI each would give if
/// its lie were believed is `tN.example.net` (or a prefix of it).
fn tls_lies() -> Vec<(&'static str, Vec<u8>)> {
    let mut v = Vec::new();
    // Record length 65535: larger than the segment, and than any TLS record.
    let exts = hello_extensions(&sni_data("t1.example.net", None, None));
    let msg = hello_msg(&hello_body(1, &exts, None), None);
    v.push(("record length 65535", hs_record(&msg, Some(0xffff))));
    // Handshake length 65535 in a record holding a 150-byte hello.
    let exts = hello_extensions(&sni_data("t2.example.net", None, None));
    let msg = hello_msg(&hello_body(2, &exts, None), Some(0xffff));
    v.push(("handshake length 65535", hs_record(&msg, None)));
    // Extensions length 256 bytes more than the extensions present.
    let exts = hello_extensions(&sni_data("t3.example.net", None, None));
    let body = hello_body(3, &exts, Some(exts.len() as u16 + 256));
    v.push((
        "extensions length past the end",
        hs_record(&hello_msg(&body, None), None),
    ));
    // The server_name list length (255) runs past the extension.
    let exts = hello_extensions(&sni_data("t4.example.net", Some(255), None));
    v.push((
        "SNI list length past the extension",
        hs_record(&hello_msg(&hello_body(4, &exts, None), None), None),
    ));
    // The host_name entry says 2 bytes: "t5" would be read, and the rest of the name
    // left as a broken second entry.
    let exts = hello_extensions(&sni_data("t5.example.net", None, Some(2)));
    v.push((
        "SNI entry length shorter than the name",
        hs_record(&hello_msg(&hello_body(5, &exts, None), None), None),
    ));
    // The host_name entry length (64) runs past the list.
    let exts = hello_extensions(&sni_data("t6.example.net", None, Some(64)));
    v.push((
        "SNI entry length past the list",
        hs_record(&hello_msg(&hello_body(6, &exts, None), None), None),
    ));
    v
}

/// The ClientHello that is cut: its first segment (the whole record header and the first
/// 60 bytes of the message) is sent, the rest never is.
fn tls_cut_hello() -> Vec<u8> {
    let mut h = good_hello(7, "t7.example.net");
    h.truncate(5 + 60);
    h
}

fn tls() -> Vec<u8> {
    let mut clock = Clock::new(T0 + 110 * NS, 10 * MS);
    for (i, (_, payload)) in tls_lies().into_iter().enumerate() {
        let c = Conv::v4(&PI, GW.mac, API, 41101 + i as u16, 443);
        one_shot(&mut clock, c, &payload);
    }
    let c = Conv::v4(&PI, GW.mac, API, 41107, 443);
    one_shot(&mut clock, c, &tls_cut_hello());
    // Well-formed, after the lies: the Pi's TLS session of basic.pcap.
    let t = clock.t;
    let mut good = Vec::new();
    pi_tls(t, Vlan::Untagged, &mut good);
    clock.trace.extend(good);
    clock.pcap()
}

// ---------------------------------------------------------------- MQTT

/// The variable header of an MQTT 3.1.1 CONNECT (name MQTT, level 4, clean session,
/// keep-alive 60) and the client id, with a protocol-name length of `name_len` and a
/// client-id length of `id_len` (true when `None`).
fn connect_body(client_id: &str, name_len: Option<u16>, id_len: Option<u16>) -> Vec<u8> {
    let mut v = name_len.unwrap_or(4).to_be_bytes().to_vec();
    v.extend_from_slice(b"MQTT");
    v.extend_from_slice(&[4, 0x02, 0, 60]);
    v.extend_from_slice(&id_len.unwrap_or(client_id.len() as u16).to_be_bytes());
    v.extend_from_slice(client_id.as_bytes());
    v
}

/// A CONNECT: 0x10, the remaining-length bytes as given, the body.
fn connect(remaining: &[u8], body: &[u8]) -> Vec<u8> {
    let mut p = vec![0x10];
    p.extend_from_slice(remaining);
    p.extend_from_slice(body);
    p
}

/// A remaining length encoded as MQTT does (it must fit one byte here).
fn one_byte_len(body: &[u8]) -> [u8; 1] {
    assert!(body.len() < 128);
    [body.len() as u8]
}

/// The lying CONNECTs, in order: (what, client payload). The client id each would give
/// if its lie were believed is `mN-…`.
fn mqtt_lies() -> Vec<(&'static str, Vec<u8>)> {
    let mut v = Vec::new();
    let body = connect_body("m1-overlong-varint", None, None);
    v.push((
        "remaining length in 5 bytes (ff ff ff ff 7f)",
        connect(&[0xff, 0xff, 0xff, 0xff, 0x7f], &body),
    ));
    let body = connect_body("m2-huge-remaining", None, None);
    v.push((
        "remaining length 268435455 (ff ff ff 7f), 29 bytes present",
        connect(&[0xff, 0xff, 0xff, 0x7f], &body),
    ));
    let body = connect_body("m3-protocol-name", Some(255), None);
    v.push((
        "protocol-name length 255",
        connect(&one_byte_len(&body), &body),
    ));
    let body = connect_body("m4-client-id", None, Some(1024));
    v.push((
        "client-id length 1024",
        connect(&one_byte_len(&body), &body),
    ));
    v
}

fn mqtt() -> Vec<u8> {
    let mut clock = Clock::new(T0 + 120 * NS, 10 * MS);
    for (i, (_, payload)) in mqtt_lies().into_iter().enumerate() {
        let c = Conv::v4(&PI, GW.mac, BROKER, 41501 + i as u16, 1883);
        one_shot(&mut clock, c, &payload);
    }
    // Well-formed, after the lies: merge-a's MQTT session.
    let mut m = Conv::v4(&PI, GW.mac, BROKER, 41500, 1883);
    clock.push(m.c(SYN, b""));
    clock.push(m.s(SYNACK, b""));
    clock.push(m.c(ACK, b""));
    clock.push(m.c(PSHACK, &mqtt_connect("clockrpi-0001", 60, Some("clock"))));
    clock.push(m.s(PSHACK, &mqtt_connack(false, 0)));
    clock.push(m.c(
        PSHACK,
        &mqtt_publish("clock/clockrpi-0001/status", b"online"),
    ));
    clock.push(m.s(ACK, b""));
    clock.pcap()
}

// ---------------------------------------------------------------- DHCP

/// The client of hostile DHCP message `i` (1-based): a locally administered MAC of its own.
fn dhcp_client(i: u8) -> Mac {
    [0x02, 0xd4, 0xc0, 0x00, 0x00, i]
}

/// A BOOTREQUEST's 236-byte fixed part from `chaddr`, with `sname` and `file` as given.
fn bootp(xid: u32, chaddr: Mac, sname: &[u8], file: &[u8]) -> Vec<u8> {
    let mut m = vec![1, 1, 6, 0];
    m.extend_from_slice(&xid.to_be_bytes());
    m.extend_from_slice(&[0; 4]); // secs, flags
    m.extend_from_slice(&[0; 16]); // ciaddr, yiaddr, siaddr, giaddr
    m.extend_from_slice(&chaddr);
    m.extend_from_slice(&[0; 10]);
    let mut field = |v: &[u8], n: usize| {
        let mut f = v.to_vec();
        f.resize(n, 0);
        m.extend_from_slice(&f);
    };
    field(sname, 64);
    field(file, 128);
    assert_eq!(m.len(), 236);
    m
}

/// The options field after the cookie: each (code, value) with its true length.
fn dhcp_opts(m: &mut Vec<u8>, opts: &[(u8, &[u8])]) {
    m.extend_from_slice(&[0x63, 0x82, 0x53, 0x63]);
    for (code, value) in opts {
        m.push(*code);
        m.push(value.len() as u8);
        m.extend_from_slice(value);
    }
}

const DISCOVER: &[u8] = &[1];

/// The hostile DISCOVERs, in order: (what, UDP payload); message `i` comes from
/// [`dhcp_client`]`(i + 1)`. The host name each would give if its lie were believed is
/// `dN-…`.
fn dhcp_lies() -> Vec<(&'static str, Vec<u8>)> {
    let mut v = Vec::new();
    // Option 12 says 200 bytes; the packet ends 16 bytes later.
    let mut m = bootp(0xd4c0_0001, dhcp_client(1), b"", b"");
    dhcp_opts(&mut m, &[(53, DISCOVER)]);
    m.extend_from_slice(&[12, 200]);
    m.extend_from_slice(b"d1-lying-length!");
    v.push(("option 12 length past the packet", m));
    // Well-framed options and no end option: the packet just stops.
    let mut m = bootp(0xd4c0_0002, dhcp_client(2), b"", b"");
    dhcp_opts(
        &mut m,
        &[(53, DISCOVER), (12, b"d2-no-end"), (55, &[1, 3, 6, 15])],
    );
    v.push(("no end option", m));
    // Overload 3: `file` holds a good vendor class, `sname` a host name whose length (80)
    // runs 18 bytes past sname's 64 into `file`.
    let mut sname = vec![12, 80];
    sname.extend_from_slice(b"d3-sname-host");
    let mut file = vec![60, 14];
    file.extend_from_slice(b"d3-file-vendor");
    file.push(255);
    let mut m = bootp(0xd4c0_0003, dhcp_client(3), &sname, &file);
    dhcp_opts(&mut m, &[(53, DISCOVER), (52, &[3])]);
    m.push(255);
    v.push(("overload 3, sname option 12 length past sname", m));
    // Overload 1: `file` holds a host name whose length (255) runs past file's 128 bytes
    // into the options field.
    let mut file = vec![12, 255];
    file.extend_from_slice(b"d4-file-host");
    let mut m = bootp(0xd4c0_0004, dhcp_client(4), b"", &file);
    dhcp_opts(&mut m, &[(53, DISCOVER), (52, &[1])]);
    m.push(255);
    v.push(("overload 1, file option 12 length past file", m));
    // A DISCOVER with a host name, cut after 100 bytes (inside sname).
    let mut m = bootp(0xd4c0_0005, dhcp_client(5), b"", b"");
    dhcp_opts(&mut m, &[(53, DISCOVER), (12, b"d5-cut-header")]);
    m.push(255);
    m.truncate(100);
    v.push(("cut inside the fixed header (100 bytes)", m));
    v
}

/// A client's broadcast from 0.0.0.0:68 to 255.255.255.255:67 carrying `payload`.
fn dhcp_raw_frame(chaddr: Mac, payload: &[u8]) -> Vec<u8> {
    let mut ipv4 = Ipv4::new([0; 4], [255; 4]);
    ipv4.df = false;
    let pkt = Ip::V4(ipv4).udp(68, 67, payload);
    ethernet(BROADCAST, chaddr, Vlan::Untagged, ethertype::IPV4, &pkt)
}

fn dhcp() -> Vec<u8> {
    let mut clock = Clock::new(T0 + 130 * NS, 20 * MS);
    for (i, (_, payload)) in dhcp_lies().into_iter().enumerate() {
        clock.push(dhcp_raw_frame(dhcp_client(i as u8 + 1), &payload));
    }
    // Well-formed, after the lies: the Pi's DORA of basic.pcap.
    let mut good = Vec::new();
    pi_dora(clock.t, &mut good);
    clock.trace.extend(good);
    clock.pcap()
}

// ---------------------------------------------------------------- NTP and QUIC

/// The lying NTP and QUIC payloads, in order: (what, UDP payload, destination port).
fn ntp_quic_lies() -> Vec<(&'static str, Vec<u8>, u16)> {
    let mut v = Vec::new();
    // The first 20 bytes of a client request.
    let mut short = ntp_request(T0 + 140 * NS);
    short.truncate(20);
    v.push(("NTP request cut to 20 bytes", short, 123));
    // QUIC v1 Initial whose token length (16383) runs past the datagram.
    let mut q = quic_long_header(&[0x83; 8]);
    q.extend_from_slice(&[0x7f, 0xff]);
    q.extend_from_slice(&filler(21, 40));
    v.push(("QUIC Initial, token length 16383", q, 443));
    // QUIC v1 Initial whose Length (1200) is larger than the 60 bytes that follow it.
    let mut q = quic_long_header(&[0x84; 8]);
    q.push(0);
    q.extend_from_slice(&[0x44, 0xb0]);
    q.extend_from_slice(&filler(22, 60));
    v.push(("QUIC Initial, Length 1200, 60 bytes present", q, 443));
    v
}

/// A QUIC v1 long header of an Initial up to the token length: first byte, version, DCID
/// and an empty SCID.
fn quic_long_header(dcid: &[u8]) -> Vec<u8> {
    let mut q = vec![0xc3];
    q.extend_from_slice(&1u32.to_be_bytes());
    q.push(dcid.len() as u8);
    q.extend_from_slice(dcid);
    q.push(0);
    q
}

fn ntp_quic() -> Vec<u8> {
    let mut clock = Clock::new(T0 + 140 * NS, 20 * MS);
    for (i, (_, payload, port)) in ntp_quic_lies().into_iter().enumerate() {
        let server = if port == 123 { NTP_SRV } else { API };
        let mut c = Conv::v4(&PI, GW.mac, server, 45101 + i as u16, port);
        clock.push(c.cu(&payload));
    }
    // Well-formed, after the lies: an NTP exchange and a QUIC Initial.
    let mut n = Conv::v4(&PI, GW.mac, NTP_SRV, 123, 123);
    let sent = clock.t;
    clock.push(n.cu(&ntp_request(sent)));
    clock.push(n.su(&ntp_reply(&NtpReply {
        leap: 0,
        stratum: 2,
        refid: [198, 51, 100, 1],
        reference_ns: sent - 30 * NS,
        origin_ns: sent,
        receive_ns: sent + 10 * MS,
        transmit_ns: sent + 10 * MS + 20 * US,
    })));
    let mut q = Conv::v4(&PI, GW.mac, API, 45200, 443);
    let hello = good_hello(8, "quic.example.net");
    clock.push(q.cu(&quic_client_initial(&[0x51; 8], &[0x52; 4], &hello[5..])));
    clock.pcap()
}
