//! Entry points for fuzzing: every function takes arbitrary bytes and runs
//! one part of egresswatch that reads untrusted input, all the way through
//! (a parser's result is walked, not just returned), so a fuzzer finds
//! panics, hangs and runaway allocation anywhere behind it.
//!
//! The cargo-fuzz targets in `fuzz/fuzz_targets/` are one line each over
//! [`TARGETS`]; `tests/it/fuzz_smoke.rs` runs every entry over the project's
//! fixtures and deterministic mutations of them in the ordinary test run,
//! so a crash a fuzzer once found stays fixed.

use crate::capture::{Frame, LinkType};
use crate::proto;
use std::io::Cursor;

/// A fuzz entry point.
pub type Target = fn(&[u8]);

/// Every entry point, by the name of its fuzz target.
pub const TARGETS: &[(&str, Target)] = &[
    ("capture", capture),
    ("decode", decode),
    ("pipeline", pipeline),
    ("dns", dns),
    ("tls", tls),
    ("quic", quic),
    ("mqtt", mqtt),
    ("http", http),
    ("ntp", ntp),
    ("dhcp", dhcp),
    ("ssh", ssh),
    ("capwap", capwap),
    ("wifi", wifi),
    ("reassembly", reassembly),
    ("profile", profile),
    ("mud", mud),
];

/// The pcap/pcapng reader: every frame of a file given as bytes.
pub fn capture(data: &[u8]) {
    let Ok(mut r) = crate::capture::file::FileReader::new(Cursor::new(data), "fuzz".into(), 0)
    else {
        return;
    };
    // Bounded by the input: each frame consumes at least a record header.
    while let Some(f) = r.next_frame() {
        std::hint::black_box(f.data.len());
    }
    std::hint::black_box(r.problems().len());
}

/// Link, IP and L4 decoding: the first two bytes pick the link type.
pub fn decode(data: &[u8]) {
    let [a, b, rest @ ..] = data else {
        return;
    };
    const LINKS: [u32; 10] = [1, 0, 101, 12, 14, 113, 276, 105, 127, 108];
    let link = LinkType(LINKS[usize::from(*a) % LINKS.len()]);
    let frame = Frame {
        file: 0,
        number: 1,
        ts: i64::from(*b),
        link,
        orig_len: rest.len() as u32,
        data: rest,
    };
    if let Ok(p) = crate::decode::decode(&frame) {
        std::hint::black_box((p.payload.len(), p.ip.is_some()));
    }
}

/// The whole pipeline, from a capture file to the report with the
/// built-in profiles.
pub fn pipeline(data: &[u8]) {
    let Ok(mut r) = crate::capture::file::FileReader::new(Cursor::new(data), "fuzz".into(), 0)
    else {
        return;
    };
    let mut engine = crate::engine::Engine::new(crate::engine::EngineConfig::default());
    while let Some(f) = r.next_frame() {
        engine.process(&f);
    }
    engine.finish();
    let Ok(profiles) = crate::profile::builtin() else {
        return;
    };
    let site = crate::profile::Site::default();
    let checks = crate::report::Checks {
        profiles: &profiles,
        site: &site,
    };
    let report = crate::report::build(&engine, &[], Vec::new(), checks);
    // Every finding names a device the report lists.
    for f in &report.findings {
        assert!(
            report.devices.iter().any(|d| d.id() == f.device),
            "finding for an unknown device: {f:?}"
        );
    }
}

/// DNS: header, every question and answer.
pub fn dns(data: &[u8]) {
    if let Ok(m) = proto::dns::parse(data) {
        for q in m.questions() {
            let Ok(q) = q else { break };
            let mut s = String::new();
            q.name.write_to(&mut s);
            std::hint::black_box(s);
        }
        for r in m.answers() {
            let Ok(r) = r else { break };
            std::hint::black_box(r.ttl);
        }
    }
    for m in proto::dns::tcp_messages(data) {
        std::hint::black_box(m.len());
    }
}

/// TLS: a ClientHello (and its JA4) from a client stream, a server flight.
pub fn tls(data: &[u8]) {
    let mut scratch = Vec::new();
    if let Ok(ch) = proto::tls::parse_client_hello(data, &mut scratch) {
        std::hint::black_box(proto::tls::ja4(&ch, proto::tls::Transport::Tcp));
    }
    let mut scratch = Vec::new();
    let flight = proto::tls::parse_flight(data, &mut scratch);
    std::hint::black_box(flight.certificates.len());
    std::hint::black_box(proto::tls::parse_alerts(data).len());
}

/// QUIC: client Initial decryption and its CRYPTO reassembly.
pub fn quic(data: &[u8]) {
    if let Ok(Some(init)) = proto::quic::parse_client_initial(data) {
        let mut out = Vec::new();
        if proto::quic::assemble_crypto(&init.crypto, &mut out) {
            tls(&out);
        }
    }
}

/// MQTT CONNECT and CONNACK.
pub fn mqtt(data: &[u8]) {
    std::hint::black_box(proto::mqtt::packet_type(data));
    if let Ok(c) = proto::mqtt::parse_connect(data) {
        std::hint::black_box(c.client_id.len());
    }
    if let Ok(c) = proto::mqtt::parse_connack(data) {
        std::hint::black_box(c);
    }
}

/// HTTP request heads and status lines.
pub fn http(data: &[u8]) {
    if let Ok(r) = proto::http::parse_request(data) {
        std::hint::black_box(r.host.map(proto::http::host_without_port));
    }
    std::hint::black_box(proto::http::parse_response_status(data).is_some());
}

pub fn ntp(data: &[u8]) {
    if let Ok(p) = proto::ntp::parse(data) {
        std::hint::black_box(p);
    }
}

/// DHCP with every option decoded.
pub fn dhcp(data: &[u8]) {
    if let Ok(d) = proto::dhcp::parse(data) {
        std::hint::black_box((d.server_id(), d.subnet_mask(), d.lease_time()));
        std::hint::black_box(d.client_fqdn().map(|q| q.labels().count()));
    }
}

pub fn ssh(data: &[u8]) {
    std::hint::black_box(proto::ssh::parse_banner(data).is_some());
}

pub fn capwap(data: &[u8]) {
    if let Ok(c) = proto::capwap::parse(data) {
        std::hint::black_box(c);
    }
}

/// Radiotap, then the 802.11 frame behind it and its elements.
pub fn wifi(data: &[u8]) {
    let dot11 = match proto::wifi::parse_radiotap(data) {
        Ok(rt) => data.get(rt.len..).unwrap_or(&[]),
        Err(_) => data,
    };
    for f in [
        proto::wifi::parse_dot11(dot11),
        proto::wifi::parse_dot11_swapped_fc(dot11),
    ]
    .into_iter()
    .flatten()
    {
        std::hint::black_box(f.duration);
    }
    for e in proto::wifi::elements(data) {
        std::hint::black_box(e);
    }
}

/// TCP reassembly: the input is a list of (sequence offset, length) pieces
/// cut from a 4 KiB stream, inserted in the given order.
pub fn reassembly(data: &[u8]) {
    let stream: Vec<u8> = (0..4096u32).map(|i| i as u8).collect();
    let mut buf = crate::flow::reasm::StreamBuf::new(1001, 16 * 1024);
    for piece in data.chunks_exact(4).take(256) {
        let off = u32::from(u16::from_be_bytes([piece[0], piece[1]])) % 4096;
        let len = usize::from(piece[2]) * 8 % 600;
        let from = off as usize;
        let to = (from + len).min(stream.len());
        let _ = buf.insert(1001u32.wrapping_add(off), &stream[from..to]);
        // What is contiguous is the stream itself, from its start.
        let got = buf.contiguous();
        assert_eq!(got, &stream[..got.len()], "reassembly mixed up the bytes");
    }
}

/// Profile and site files (TOML), as text.
pub fn profile(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = crate::profile::parse_profile("fuzz.toml", &text) {
        std::hint::black_box(p.requirements.len());
    }
    if let Ok(set) = crate::profile::builtin() {
        std::hint::black_box(crate::profile::Site::parse("site.toml", &text, &set).is_ok());
    }
}

/// MUD files (JSON), imported; what imports must also parse as a profile.
pub fn mud(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(imported) = crate::profile::mud::import("fuzz.json", &text) {
        assert!(
            crate::profile::parse_profile("imported.toml", &imported.toml).is_ok(),
            "an import that does not load"
        );
    }
}
