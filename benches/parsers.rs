//! App-layer parsers: time per message (`Throughput::Elements(1)`), on
//! realistic messages, each parsed the way the sensor reads it.
//!
//! Every group has one bench per message: `built` messages come from
//! [`egresswatch::testgen::build`] (deterministic, shaped like what IoT
//! devices send), `real-*` ones are lifted from a capture in
//! `../shared/captures/` with egresswatch's own reader and decoder (the
//! lifting is not timed). A missing capture panics with its path: benchmarks
//! never skip.
//!
//! - `dns`: [`dns::parse`], iterate every answer, one owner name to text;
//! - `tls_client_hello`: [`tls::parse_client_hello`] on a stream prefix
//!   (testgen's TLS 1.2 hello, and Chrome 125's 1.8 kB X25519Kyber768 hello,
//!   which spans two TCP segments);
//! - `ja4`: [`tls::ja4`] on those two hellos, already parsed;
//! - `mqtt_connect`: [`mqtt::parse_connect`] and the client id as text;
//! - `http_request`: [`http::parse_request`] (method, target, Host, UA);
//! - `ntp`: [`ntp::parse`] and the reply checks (kiss code, leap);
//! - `dhcp`: [`dhcp::parse`] and the accessors the inventory uses;
//! - `capwap`: [`capwap::parse`] of a clear discovery request with its
//!   elements walked, of a real DTLS control datagram with its records
//!   walked, and of a real data datagram down to its 802.11 frame;
//! - `quic_initial`: [`quic::parse_client_initial`] (key derivation, header
//!   protection, AES-128-GCM) on the RFC 9001 A.2 client Initial, and the
//!   same followed by CRYPTO reassembly, ClientHello parse and JA4.
//!
//! Run: `cargo bench --bench parsers -- --warm-up-time 1 --measurement-time 3`

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use egresswatch::capture::file::FileReader;
use egresswatch::decode::{self, L4};
use egresswatch::proto::{capwap, dhcp, dns, http, mqtt, ntp, quic, tls};
use egresswatch::testgen::build::{self as tb, dhcpmsg, dnstype, DnsAnswer, DnsData, NtpReply};
use std::hint::black_box;
use std::net::IpAddr;
use std::path::Path;

// ------------------------------------------------------------ real messages

/// A TCP or UDP payload from a capture, with its endpoints.
struct Payload {
    tcp: bool,
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    seq: u32,
    data: Vec<u8>,
}

/// Every non-empty TCP/UDP payload of a shared capture, in frame order.
fn payloads(capture: &str) -> Vec<Payload> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/captures")
        .join(capture);
    let mut r = FileReader::open(&path, 0).unwrap_or_else(|e| {
        panic!("benchmark capture missing or unreadable ({e}); benchmarks do not skip")
    });
    let mut out = Vec::new();
    while let Some(f) = r.next_frame() {
        let Ok(p) = decode::decode(&f) else { continue };
        let (Some(ip), false) = (p.ip, p.payload.is_empty()) else {
            continue;
        };
        let (tcp, sport, dport, seq) = match p.l4 {
            L4::Tcp(t) => (true, t.sport, t.dport, t.seq),
            L4::Udp { sport, dport } => (false, sport, dport, 0),
            _ => continue,
        };
        out.push(Payload {
            tcp,
            src: (ip.src, sport),
            dst: (ip.dst, dport),
            seq,
            data: p.payload.to_vec(),
        });
    }
    out
}

/// The first payload of `capture` that `pick` accepts.
fn real(capture: &str, what: &str, pick: impl Fn(&Payload) -> bool) -> Vec<u8> {
    payloads(capture)
        .into_iter()
        .find(|p| pick(p))
        .unwrap_or_else(|| panic!("{capture}: no {what} found"))
        .data
}

/// The first ClientHello of `capture`, with the following in-order segments
/// of its stream appended until the hello is complete.
fn real_client_hello(capture: &str) -> Vec<u8> {
    let all = payloads(capture);
    let first = all
        .iter()
        .position(|p| p.tcp && !matches!(tls::client_hello_len(&p.data), tls::Need::NotTls))
        .unwrap_or_else(|| panic!("{capture}: no ClientHello"));
    let (src, dst) = (all[first].src, all[first].dst);
    let mut stream = Vec::new();
    let mut next_seq = all[first].seq;
    for p in all[first..]
        .iter()
        .filter(|p| p.tcp && p.src == src && p.dst == dst)
    {
        if p.seq != next_seq {
            continue; // a retransmission or a segment out of order
        }
        stream.extend_from_slice(&p.data);
        next_seq = next_seq.wrapping_add(p.data.len() as u32);
        if let tls::Need::Complete(end) = tls::client_hello_len(&stream) {
            stream.truncate(end);
            return stream;
        }
    }
    panic!("{capture}: ClientHello never completes");
}

// ------------------------------------------------------------ QUIC Initial

/// RFC 9001 A.2: the client's Destination Connection ID.
const RFC9001_DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];

/// RFC 9001 A.2: the client's CRYPTO frame (a ClientHello for example.com).
const RFC9001_CRYPTO_FRAME: &str = "
    060040f1010000ed0303ebf8fa56f129 39b9584a3896472ec40bb863cfd3e868
    04fe3a47f06a2b69484c000004130113 02010000c000000010000e00000b6578
    616d706c652e636f6dff01000100000a 00080006001d00170018001000070005
    04616c706e0005000501000000000033 00260024001d00209370b2c9caa47fba
    baf4559fedba753de171fa71f50f1ce1 5d43e994ec74d748002b000302030400
    0d0010000e0403050306030203080408 050806002d00020101001c0002400100
    3900320408ffffffffffffffff050480 00ffff07048000ffff08011001048000
    75300901100f088394c8f03e51570806 048000ffff";

/// The start of the RFC's protected packet, to check the construction.
const RFC9001_PROTECTED_START: &str = "c000000001088394c8f03e5157080000449e7b9aec34d1b1";

fn unhex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .map(|b| (b as char).to_digit(16).expect("hex digit") as u8)
        .collect();
    digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect()
}

/// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context.
fn expand_label(prk: &ring::hkdf::Prk, label: &[u8], out: &mut [u8]) {
    struct Len(usize);
    impl ring::hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let length = (out.len() as u16).to_be_bytes();
    let label_len = [6 + label.len() as u8];
    let info: [&[u8]; 5] = [&length, &label_len, b"tls13 ", label, &[0]];
    prk.expand(&info, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .expect("HKDF output length");
}

/// Protects the RFC 9001 A.2 client Initial (packet number 2, 4-byte
/// packet number, payload padded to 1162 bytes) as RFC 9001 §5 describes:
/// the 1200-byte datagram of Appendix A.2.
fn rfc9001_client_initial() -> Vec<u8> {
    use ring::{aead, hkdf};
    const SALT_V1: [u8; 20] = [
        0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c,
        0xad, 0xcc, 0xbb, 0x7f, 0x0a,
    ];
    let initial = hkdf::Salt::new(hkdf::HKDF_SHA256, &SALT_V1).extract(&RFC9001_DCID);
    let mut secret = [0u8; 32];
    expand_label(&initial, b"client in", &mut secret);
    let client = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, &secret);
    let (mut key, mut iv, mut hp) = ([0u8; 16], [0u8; 12], [0u8; 16]);
    expand_label(&client, b"quic key", &mut key);
    expand_label(&client, b"quic iv", &mut iv);
    expand_label(&client, b"quic hp", &mut hp);

    let packet_number: u32 = 2;
    let mut payload = unhex(RFC9001_CRYPTO_FRAME);
    payload.resize(1162, 0);
    // Long header, Initial, 4-byte packet number; version 1; DCID; empty
    // SCID and token; Length (2-byte varint) = packet number + payload + tag.
    let mut pkt = vec![0xc3, 0, 0, 0, 1, RFC9001_DCID.len() as u8];
    pkt.extend_from_slice(&RFC9001_DCID);
    pkt.extend_from_slice(&[0, 0]);
    pkt.extend_from_slice(&(0x4000 | (4 + payload.len() + 16) as u16).to_be_bytes());
    let pn_at = pkt.len();
    pkt.extend_from_slice(&packet_number.to_be_bytes());

    let mut nonce = iv;
    for (n, p) in nonce[8..].iter_mut().zip(packet_number.to_be_bytes()) {
        *n ^= p;
    }
    let aead_key = aead::LessSafeKey::new(
        aead::UnboundKey::new(&aead::AES_128_GCM, &key).expect("AES-128 key"),
    );
    aead_key
        .seal_in_place_append_tag(
            aead::Nonce::assume_unique_for_key(nonce),
            aead::Aad::from(&pkt),
            &mut payload,
        )
        .expect("seal");
    pkt.extend_from_slice(&payload);

    let hp_key = aead::quic::HeaderProtectionKey::new(&aead::quic::AES_128, &hp).expect("hp key");
    let sample_at = pn_at + 4;
    let mask = hp_key
        .new_mask(&pkt[sample_at..sample_at + 16])
        .expect("mask");
    pkt[0] ^= mask[0] & 0x0f;
    for i in 0..4 {
        pkt[pn_at + i] ^= mask[1 + i];
    }
    assert_eq!(pkt.len(), 1200);
    assert!(
        pkt.starts_with(&unhex(RFC9001_PROTECTED_START)),
        "the QUIC Initial does not match RFC 9001 A.2"
    );
    pkt
}

// ------------------------------------------------------------ benches

fn group<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(1));
    g
}

/// Parse, walk every answer, and render the first answer's owner name.
fn dns_read(msg: &[u8]) -> (usize, String) {
    let m = dns::parse(msg).expect("DNS header");
    let mut answers = 0;
    let mut first = None;
    for r in m.answers() {
        let r = r.expect("DNS answer");
        first.get_or_insert(r.name);
        black_box(&r.data);
        answers += 1;
    }
    let name = first.map(|n| n.to_string_lower()).unwrap_or_default();
    (answers, name)
}

fn bench_dns(c: &mut Criterion) {
    // A device cloud name behind two CNAMEs and four load-balancer addresses.
    let name = "api.smartthings.com";
    let built = tb::dns_response(
        0x4a1c,
        name,
        dnstype::A,
        0,
        &[
            DnsAnswer {
                name,
                ttl: 60,
                data: DnsData::Cname("api-prd.smartthingsgdc.com"),
            },
            DnsAnswer {
                name: "api-prd.smartthingsgdc.com",
                ttl: 60,
                data: DnsData::Cname("api-prd-use1.elb.us-east-1.amazonaws.com"),
            },
            DnsAnswer {
                name: "api-prd-use1.elb.us-east-1.amazonaws.com",
                ttl: 60,
                data: DnsData::A([52, 4, 91, 12]),
            },
            DnsAnswer {
                name: "api-prd-use1.elb.us-east-1.amazonaws.com",
                ttl: 60,
                data: DnsData::A([52, 4, 91, 77]),
            },
            DnsAnswer {
                name: "api-prd-use1.elb.us-east-1.amazonaws.com",
                ttl: 60,
                data: DnsData::A([34, 225, 8, 3]),
            },
            DnsAnswer {
                name: "api-prd-use1.elb.us-east-1.amazonaws.com",
                ttl: 60,
                data: DnsData::A([3, 210, 44, 190]),
            },
        ],
    );
    assert_eq!(dns_read(&built), (6, name.to_string()));
    // The capture's largest response (google.com MX, AAAA or A).
    let real_msg = payloads("suricata-verify__dns-udp-google.com-a-aaaa-mx.pcap")
        .into_iter()
        .filter(|p| !p.tcp && p.src.1 == 53)
        .max_by_key(|p| p.data.len())
        .expect("a DNS response")
        .data;
    assert!(dns_read(&real_msg).0 > 0);

    let mut g = group(c, "dns");
    for (id, msg) in [("built", &built), ("real-google-mx", &real_msg)] {
        g.bench_function(id, |b| b.iter(|| dns_read(black_box(msg))));
    }
    g.finish();
}

fn bench_tls(c: &mut Criterion) {
    let built = tb::tls_client_hello(
        "a2z7xyfbzfvxf5-ats.iot.us-east-1.amazonaws.com",
        &["x-amzn-mqtt-ca"],
        [0x5a; 32],
        [0xa5; 32],
    );
    let chrome = real_client_hello("zeek__chrome-1250-tls-x25519-kyber.pcap");
    assert!(
        chrome.len() > 1500,
        "Chrome's Kyber hello spans two segments"
    );
    let hellos = [("built", &built), ("real-chrome-125-kyber", &chrome)];

    let mut g = group(c, "tls_client_hello");
    for (id, msg) in hellos {
        let mut scratch = Vec::new();
        let h = tls::parse_client_hello(msg, &mut scratch).expect("ClientHello");
        assert!(h.sni.is_some());
        g.bench_function(id, |b| {
            let mut scratch = Vec::new();
            b.iter(|| {
                let h = tls::parse_client_hello(black_box(msg), &mut scratch).expect("hello");
                black_box(h.sni);
            })
        });
    }
    g.finish();

    let mut g = group(c, "ja4");
    for (id, msg) in hellos {
        let mut scratch = Vec::new();
        let h = tls::parse_client_hello(msg, &mut scratch).expect("ClientHello");
        g.bench_function(id, |b| {
            b.iter(|| tls::ja4(black_box(&h), tls::Transport::Tcp))
        });
    }
    g.finish();
}

fn bench_mqtt(c: &mut Criterion) {
    let built = tb::mqtt_connect("ESP_8266_3C71BF_A1B2C3", 60, Some("plug-livingroom"));
    let real_msg = real("zeek__mqtt.pcap", "MQTT CONNECT", |p| {
        p.tcp && mqtt::looks_like_connect(&p.data)
    });
    let mut g = group(c, "mqtt_connect");
    for (id, msg) in [("built", &built), ("real-paho", &real_msg)] {
        assert!(mqtt::parse_connect(msg).is_ok());
        g.bench_function(id, |b| {
            b.iter(|| {
                let m = mqtt::parse_connect(black_box(msg)).expect("CONNECT");
                black_box((m.client_id_str(), m.username_str(), m.level))
            })
        });
    }
    g.finish();
}

fn bench_http(c: &mut Criterion) {
    let built = tb::http_get(
        "firmware.tplinkcloud.com:8080",
        "/v2/ota/check?model=HS100(US)&hw=2.0&fw=1.5.6%20Build%20191125",
        "Dalvik/2.1.0 (Linux; U; Android 9; Kasa Build/PKQ1)",
    );
    let real_msg = real("zeek__testmyids.pcap", "HTTP request", |p| {
        p.tcp && http::looks_like_request(&p.data)
    });
    let mut g = group(c, "http_request");
    for (id, msg) in [("built", &built), ("real-testmyids", &real_msg)] {
        assert!(http::parse_request(msg).is_ok_and(|r| r.host.is_some()));
        g.bench_function(id, |b| {
            b.iter(|| {
                let r = http::parse_request(black_box(msg)).expect("request");
                black_box((r.method, r.target, r.host, r.user_agent))
            })
        });
    }
    g.finish();
}

fn bench_ntp(c: &mut Criterion) {
    const T: u64 = 1_767_225_600_000_000_000;
    let built = tb::ntp_reply(&NtpReply {
        leap: 0,
        stratum: 2,
        refid: [192, 5, 41, 40],
        reference_ns: T - 64_000_000_000,
        origin_ns: T,
        receive_ns: T + 12_345_678,
        transmit_ns: T + 12_400_000,
    });
    let real_msg = real("zeek__ntp-ntp.pcap", "NTP server reply", |p| {
        !p.tcp && p.src.1 == 123 && p.data.first().is_some_and(|b| b & 7 == 4)
    });
    let mut g = group(c, "ntp");
    for (id, msg) in [("built", &built), ("real-zeek", &real_msg)] {
        assert!(ntp::parse(msg).is_ok_and(|p| p.time().is_some_and(|h| h.is_reply())));
        g.bench_function(id, |b| {
            b.iter(|| {
                let p = ntp::parse(black_box(msg)).expect("NTP");
                let h = p.time().expect("time header");
                black_box((
                    h.is_kiss_of_death(),
                    h.is_unsynchronized(),
                    h.transmit_unix_nanos(),
                ))
            })
        });
    }
    g.finish();
}

/// Everything the inventory reads from a DHCP message.
fn dhcp_read(msg: &[u8]) -> usize {
    let d = dhcp::parse(msg).expect("DHCP");
    black_box((
        d.message_type(),
        d.mac(),
        d.hostname_str(),
        d.vendor_class(),
        d.param_request_list(),
        d.requested_ip(),
        d.client_id_mac(),
    ));
    d.dns_servers().count() + d.routers().count()
}

fn bench_dhcp(c: &mut Criterion) {
    let mac = [0x50, 0xc7, 0xbf, 0x12, 0x34, 0x56];
    let built = tb::Dhcp::client(dhcpmsg::REQUEST, 0x3903_f326, mac)
        .client_id(mac)
        .requested_ip([192, 168, 1, 23])
        .server_id([192, 168, 1, 1])
        .hostname("HS100-3456")
        .vendor_class("udhcp 1.19.4")
        .param_request(&[1, 3, 6, 12, 15, 28, 42, 119])
        .build();
    let real_msg = real("tcpdump__dhcp-rfc3004.pcap", "DHCP message", |p| {
        !p.tcp && matches!(p.dst.1, 67 | 68)
    });
    let mut g = group(c, "dhcp");
    for (id, msg) in [
        ("built-request", &built),
        ("real-discover-rfc3004", &real_msg),
    ] {
        dhcp_read(msg);
        g.bench_function(id, |b| b.iter(|| dhcp_read(black_box(msg))));
    }
    g.finish();
}

/// A clear CAPWAP Discovery Request (RFC 5415 §5.1) with the elements a
/// WTP sends: discovery type, WTP board data, descriptor, frame tunnel mode,
/// MAC type, and the 802.11 radio information.
fn capwap_discovery() -> Vec<u8> {
    let element = |out: &mut Vec<u8>, typ: u16, value: &[u8]| {
        out.extend_from_slice(&typ.to_be_bytes());
        out.extend_from_slice(&(value.len() as u16).to_be_bytes());
        out.extend_from_slice(value);
    };
    let mut elements = Vec::new();
    element(&mut elements, 20, &[1]); // discovery type: static
    element(
        &mut elements,
        38, // WTP board data: vendor 14179, model and serial
        b"\x00\x00\x37\x63\x00\x00\x00\x0cAIR-AP1832I\x00\x01\x00\x0bFCW2231N0QX",
    );
    element(
        &mut elements,
        37, // WTP descriptor: 2 radios, 1 active, one encryption entry, hw version
        b"\x02\x01\x00\x01\x01\x00\x01\x00\x00\x00\x37\x63\x00\x00\x00\x088.10.151",
    );
    element(&mut elements, 41, &[0x04]); // frame tunnel mode: native
    element(&mut elements, 44, &[1]); // WTP MAC type: split MAC
    element(&mut elements, 1048, &[0, 0, 0, 0, 0x0d]); // 802.11 radio information
    let mut m = vec![0x00, 0x10, 0x43, 0x00, 0x00, 0x00, 0x00, 0x00];
    m.extend_from_slice(&1u32.to_be_bytes()); // message type: discovery request
    m.push(0); // sequence
    m.extend_from_slice(&(elements.len() as u16 + 3).to_be_bytes());
    m.push(0); // flags
    m.extend_from_slice(&elements);
    m
}

fn bench_capwap(c: &mut Criterion) {
    let discovery = capwap_discovery();
    let dtls = real("ndpi__capwap.pcap", "CAPWAP DTLS datagram", |p| {
        !p.tcp
            && (p.src.1 == 5246 || p.dst.1 == 5246)
            && matches!(capwap::parse(&p.data), Ok(capwap::Capwap::Dtls(_)))
    });
    let data = real("ndpi__capwap.pcap", "CAPWAP 802.11 data datagram", |p| {
        !p.tcp
            && p.dst.1 == 5247
            && matches!(capwap::parse(&p.data), Ok(capwap::Capwap::Header(h)) if h.ieee80211_frame().is_some())
    });

    let mut g = group(c, "capwap");
    let control = |msg: &[u8]| {
        let Ok(capwap::Capwap::Header(h)) = capwap::parse(msg) else {
            panic!("clear CAPWAP header")
        };
        let ctl = h.control().expect("control header");
        ctl.elements().filter(Result::is_ok).count()
    };
    assert_eq!(control(&discovery), 6);
    g.bench_function("built-discovery-request", |b| {
        b.iter(|| control(black_box(&discovery)))
    });
    let records = |msg: &[u8]| match capwap::parse(msg) {
        Ok(capwap::Capwap::Dtls(d)) => d.records().filter(Result::is_ok).count(),
        _ => panic!("CAPWAP DTLS"),
    };
    assert!(records(&dtls) > 0);
    g.bench_function("real-dtls-control", |b| {
        b.iter(|| records(black_box(&dtls)))
    });
    g.bench_function("real-data-80211", |b| {
        b.iter(|| match capwap::parse(black_box(&data)) {
            Ok(capwap::Capwap::Header(h)) => black_box(h.ieee80211_frame()).is_some(),
            _ => panic!("CAPWAP data"),
        })
    });
    g.finish();
}

fn bench_quic(c: &mut Criterion) {
    let pkt = rfc9001_client_initial();
    assert!(quic::looks_like_initial(&pkt));
    // Decrypt, reassemble CRYPTO, parse the ClientHello and fingerprint it.
    let to_ja4 = |pkt: &[u8]| {
        let init = quic::parse_client_initial(pkt)
            .expect("decrypts")
            .expect("an Initial");
        let mut s = quic::CryptoStream::new();
        s.push_frames(&init.crypto);
        let hs = s.first_handshake_message().expect("whole ClientHello");
        let h = tls::parse_client_hello_handshake(hs).expect("ClientHello");
        tls::ja4(&h, tls::Transport::Quic)
    };
    assert!(to_ja4(&pkt).starts_with("q13d"));

    let mut g = group(c, "quic_initial");
    g.bench_function("rfc9001-a2-decrypt", |b| {
        b.iter(|| {
            let init = quic::parse_client_initial(black_box(&pkt)).expect("decrypts");
            black_box(init.map(|i| i.crypto.len()))
        })
    });
    g.bench_function("rfc9001-a2-to-ja4", |b| b.iter(|| to_ja4(black_box(&pkt))));
    g.finish();
}

criterion_group!(
    benches,
    bench_dns,
    bench_tls,
    bench_mqtt,
    bench_http,
    bench_ntp,
    bench_dhcp,
    bench_capwap,
    bench_quic
);
criterion_main!(benches);
