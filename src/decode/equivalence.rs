//! The decoder against its etherparse-based reference (`super::reference`):
//! the same `Packet`, field by field and slice by slice (a payload must be
//! the same bytes of the frame, not equal bytes elsewhere), or the same
//! error, for
//! - every frame of every fixture and of every capture in ../shared/captures,
//!   whole and cut at every length through its headers;
//! - random bytes under every link type;
//! - real frames with one byte changed, and cut;
//! - frames built layer by layer from a random script, so that the rare
//!   layers (QinQ stacks, MACsec, IPv4 authentication headers, IPv6
//!   extension chains and fragments, ICMP errors quoting a datagram) meet
//!   every kind of damage.
//!
//! Neither decoder may panic on any of them.

use super::{decode, reference, DecodeError, Packet};
use crate::capture::file::FileReader;
use crate::capture::{Frame, LinkType};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Every link type the decoder knows, and one it does not.
const LINKS: [LinkType; 13] = [
    LinkType::NULL,
    LinkType::ETHERNET,
    LinkType::RAW_12,
    LinkType::RAW_14,
    LinkType::RAW,
    LinkType::IEEE802_11,
    LinkType::LOOP,
    LinkType::LINUX_SLL,
    LinkType::RADIOTAP,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::LINUX_SLL2,
    LinkType(147),
];

fn frame(link: LinkType, orig_len: u32, data: &[u8]) -> Frame<'_> {
    Frame {
        file: 0,
        number: 1,
        ts: 0,
        link,
        orig_len,
        data,
    }
}

/// The same bytes of the frame: equal position and length (two empty
/// slices are the same wherever they point).
fn same_slice(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && (a.is_empty() || a.as_ptr() == b.as_ptr())
}

/// Where the two decodes differ, or `None`.
fn differ(
    new: &Result<Packet<'_>, DecodeError>,
    old: &Result<Packet<'_>, DecodeError>,
) -> Option<String> {
    let (a, b) = match (new, old) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(a), Err(b)) if a == b => return None,
        _ => return Some(format!("decode {new:?}\n reference {old:?}")),
    };
    let same = a.src_mac == b.src_mac
        && a.dst_mac == b.dst_mac
        && a.vlan == b.vlan
        && a.inner_vlan == b.inner_vlan
        && a.vlan_tags == b.vlan_tags
        && a.ether_type == b.ether_type
        && a.ip == b.ip
        && a.l4 == b.l4
        && same_slice(a.payload, b.payload)
        && a.payload_len == b.payload_len
        && a.l4_short == b.l4_short
        && match (a.wifi, b.wifi) {
            (Some(x), Some(y)) => same_slice(x, y),
            (x, y) => x.is_none() && y.is_none(),
        };
    (!same).then(|| {
        format!(
            "decode {a:?} (payload at {:p})\n reference {b:?} (payload at {:p})",
            a.payload.as_ptr(),
            b.payload.as_ptr()
        )
    })
}

/// Decodes one frame both ways.
fn check(f: &Frame<'_>) -> Result<(), String> {
    match differ(&decode(f), &reference::decode(f)) {
        None => Ok(()),
        Some(d) => Err(format!(
            "link {} orig_len {} bytes {:02x?}\n {d}",
            f.link.0, f.orig_len, f.data
        )),
    }
}

/// One frame of a capture, owned.
#[derive(Debug, Clone)]
struct Owned {
    place: String,
    link: LinkType,
    orig_len: u32,
    data: Vec<u8>,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The fixtures and the shared real captures (whose absence fails: a test
/// that skips proves nothing).
fn capture_paths() -> Vec<PathBuf> {
    let shared = root().join("../shared/captures");
    assert!(
        shared.join("MANIFEST.tsv").is_file(),
        "{} is missing: the real captures live in ../shared beside the checkout",
        shared.display()
    );
    let mut paths = Vec::new();
    for dir in [root().join("fixtures"), shared] {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for e in entries {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.contains(".pcap") {
                paths.push(p);
            }
        }
    }
    paths.sort();
    paths
}

/// Every frame of every capture (files the reader refuses give none).
fn corpus() -> &'static [Owned] {
    static CORPUS: OnceLock<Vec<Owned>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut out = Vec::new();
        for path in capture_paths() {
            let Ok(mut r) = FileReader::open(&path, 0) else {
                continue;
            };
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            while let Some(f) = r.next_frame() {
                out.push(Owned {
                    place: format!("{name} frame {}", f.number),
                    link: f.link,
                    orig_len: f.orig_len,
                    data: f.data.to_vec(),
                });
            }
        }
        out
    })
}

#[test]
fn every_captured_frame_decodes_as_the_reference_did() {
    let corpus = corpus();
    // The fixtures and the real captures hold tens of thousands of frames
    // between them, under six link types.
    assert!(corpus.len() > 10_000, "{} frames", corpus.len());
    let mut links: Vec<u32> = corpus.iter().map(|f| f.link.0).collect();
    links.sort_unstable();
    links.dedup();
    assert!(links.len() >= 6, "link types {links:?}");
    let mut failures = Vec::new();
    let mut decoded = 0;
    for f in corpus {
        let fr = frame(f.link, f.orig_len, &f.data);
        decoded += usize::from(decode(&fr).is_ok_and(|p| p.ip.is_some()));
        if let Err(e) = check(&fr) {
            failures.push(format!("{}: {e}", f.place));
        }
    }
    assert!(decoded > corpus.len() / 2, "{decoded} IP frames");
    assert!(
        failures.is_empty(),
        "{} frames differ; the first:\n{}",
        failures.len(),
        failures[..failures.len().min(5)].join("\n")
    );
}

/// Every frame cut at every length up to 128 bytes (as a snap length
/// would), its length on the wire kept.
#[test]
fn every_captured_frame_cut_short_decodes_as_the_reference_did() {
    for f in corpus() {
        for cut in 0..f.data.len().min(128) {
            let fr = frame(f.link, f.orig_len, &f.data[..cut]);
            if let Err(e) = check(&fr) {
                panic!("{} cut to {cut}: {e}", f.place);
            }
        }
    }
}

/// The 1M-frame site mix (bench-data/site-mix.pcap, a symlink to a
/// generated file too big for every test run):
/// `cargo test --release --lib decode::equivalence -- --ignored`.
#[test]
#[ignore = "reads the 700 MB site mix; run by hand"]
fn site_mix_decodes_as_the_reference_did() {
    let path = root().join("bench-data/site-mix.pcap");
    let mut r = FileReader::open(&path, 0).unwrap_or_else(|e| panic!("{e}"));
    let mut n = 0u64;
    while let Some(f) = r.next_frame() {
        n += 1;
        if let Err(e) = check(&f) {
            panic!("frame {}: {e}", f.number);
        }
    }
    assert!(n >= 1_000_000, "{n} frames");
}

/// Builds a frame from a script of bytes: each choice (which layers, which
/// fields, which damage) takes the script's next byte, 0 once it is spent.
struct Script<'s> {
    bytes: &'s [u8],
    at: usize,
}

impl Script<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }

    /// One of `n` choices.
    fn pick(&mut self, n: u8) -> u8 {
        self.byte() % n
    }

    /// True about one time in `n`.
    fn one_in(&mut self, n: u8) -> bool {
        self.pick(n) == 0
    }
}

const IP_NUMBERS: [u8; 10] = [6, 17, 1, 58, 51, 0, 43, 44, 60, 47];

/// An L4 header and payload for `proto` (an ICMP error quotes a datagram).
fn l4(s: &mut Script<'_>, proto: u8, depth: u8) -> Vec<u8> {
    let mut out = Vec::new();
    match proto {
        6 => {
            out.extend(s.take(12));
            out.push(s.byte()); // data offset, anything
            out.push(s.byte());
            out.extend(s.take(6));
        }
        17 => {
            out.extend(s.take(4));
            let body = usize::from(s.pick(24));
            // The length: right, anything, or near the header's 8.
            let len = match s.pick(4) {
                0 => s.u16(),
                1 => u16::from(s.pick(16)),
                _ => (8 + body) as u16,
            };
            out.extend(len.to_be_bytes());
            out.extend(s.take(2));
            out.extend(s.take(body));
            return out;
        }
        1 | 58 => {
            out.push(if s.one_in(2) {
                [3, 1, 11, 4][usize::from(s.pick(4))]
            } else {
                s.byte()
            });
            out.extend(s.take(7));
            if depth == 0 && !s.one_in(4) {
                let et = if s.one_in(2) { 0x0800 } else { 0x86dd };
                out.extend(network(s, et, 1));
            }
        }
        _ => {}
    }
    let body = usize::from(s.pick(32));
    out.extend(s.take(body));
    out
}

fn pick_proto(s: &mut Script<'_>) -> u8 {
    if s.one_in(8) {
        s.byte()
    } else {
        IP_NUMBERS[usize::from(s.pick(IP_NUMBERS.len() as u8))]
    }
}

/// An IPv4 or IPv6 datagram (by `ether_type`, its version nibble sometimes
/// the other one or garbage), or other bytes.
fn network(s: &mut Script<'_>, ether_type: u16, depth: u8) -> Vec<u8> {
    let mut out = Vec::new();
    match ether_type {
        0x0800 => {
            let ihl = if s.one_in(6) {
                s.pick(16)
            } else {
                5 + s.pick(3)
            };
            let version = if s.one_in(10) { s.pick(16) } else { 4 };
            let proto = pick_proto(s);
            let mut rest = Vec::new();
            if proto == 51 {
                rest.push(pick_proto(s));
                let len = if s.one_in(5) { s.byte() } else { 1 + s.pick(4) };
                rest.push(len);
                rest.extend(s.take((usize::from(len) + 2) * 4 - 2));
                let next = rest[0];
                rest.extend(l4(s, next, depth));
            } else {
                rest.extend(l4(s, proto, depth));
            }
            let header = usize::from(ihl.max(5)) * 4;
            // The total length: right, anything, or near the header's.
            let total = match s.pick(5) {
                0 => s.u16(),
                1 => (header + usize::from(s.pick(8))).saturating_sub(4) as u16,
                _ => (header + rest.len()) as u16,
            };
            let frag: u16 = match s.pick(5) {
                0 => 0x2000,
                1 => 0x2000 | (s.u16() & 0x1fff),
                2 => s.u16() & 0x1fff,
                3 => 0x4000,
                _ => 0,
            };
            out.push(version << 4 | ihl);
            out.push(s.byte());
            out.extend(total.to_be_bytes());
            out.extend(s.take(2));
            out.extend(frag.to_be_bytes());
            out.push(s.byte());
            out.push(proto);
            out.extend(s.take(2 + 8 + header - 20));
            out.extend(rest);
        }
        0x86dd => {
            let version = if s.one_in(10) { s.pick(16) } else { 6 };
            let mut chain = Vec::new();
            let mut next = pick_proto(s);
            let first = next;
            for _ in 0..s.pick(5) {
                if !matches!(next, 0 | 43 | 44 | 51 | 60) {
                    break;
                }
                let following = pick_proto(s);
                match next {
                    44 => {
                        chain.push(following);
                        chain.push(s.byte());
                        let off: u16 = match s.pick(4) {
                            0 => 1,
                            1 => s.u16() & 0xfff9,
                            2 => s.u16(),
                            _ => 0,
                        };
                        chain.extend(off.to_be_bytes());
                        chain.extend(s.take(4));
                    }
                    51 => {
                        chain.push(following);
                        let len = if s.one_in(5) { s.byte() } else { 1 + s.pick(4) };
                        chain.push(len);
                        chain.extend(s.take((usize::from(len) + 2) * 4 - 2));
                    }
                    _ => {
                        chain.push(following);
                        let len = if s.one_in(5) { s.byte() } else { s.pick(3) };
                        chain.push(len);
                        chain.extend(s.take((usize::from(len) + 1) * 8 - 2));
                    }
                }
                next = following;
            }
            chain.extend(l4(s, next, depth));
            let len = match s.pick(6) {
                0 => 0,
                1 => s.u16(),
                2 => u16::from(s.pick(16)),
                _ => chain.len() as u16,
            };
            out.push(version << 4 | s.pick(16));
            out.extend(s.take(3));
            out.extend(len.to_be_bytes());
            out.push(first);
            out.push(s.byte());
            out.extend(s.take(32));
            out.extend(chain);
        }
        _ => {
            let n = usize::from(s.pick(64));
            out.extend(s.take(n));
        }
    }
    out
}

/// The EtherTypes behind a link header: tags, then the network layer.
fn tagged(s: &mut Script<'_>) -> (u16, Vec<u8>) {
    let inner = match s.pick(8) {
        0..=2 => 0x0800,
        3..=5 => 0x86dd,
        6 => 0x0806,
        _ => s.u16(),
    };
    let mut body = network(s, inner, 0);
    let mut ether_type = inner;
    // Tags from the innermost out.
    for _ in 0..s.pick(6) {
        let mut tag = Vec::new();
        let outer = match s.pick(5) {
            0 | 1 => 0x8100,
            2 => 0x88a8,
            3 => 0x9100,
            _ => 0x88e5,
        };
        if outer == 0x88e5 {
            let tci_an = if s.one_in(2) {
                s.byte() & 0x23
            } else {
                s.byte()
            };
            let short_len = match s.pick(4) {
                0 => 0,
                1 => (body.len() + 2).min(63) as u8,
                _ => s.byte() & 0x3f,
            };
            tag.push(tci_an);
            tag.push(short_len);
            tag.extend(s.take(4));
            if tci_an & 0x20 != 0 {
                tag.extend(s.take(8));
            }
            if tci_an & 0x0c == 0 {
                tag.extend(ether_type.to_be_bytes());
            }
        } else {
            tag.extend(s.take(2));
            tag.extend(ether_type.to_be_bytes());
        }
        tag.extend(body);
        body = tag;
        ether_type = outer;
    }
    (ether_type, body)
}

/// A whole frame: its link type and bytes.
fn build(s: &mut Script<'_>) -> (LinkType, Vec<u8>) {
    let mut out = Vec::new();
    let link = match s.pick(8) {
        0..=2 => {
            out.extend(if s.one_in(4) { vec![0; 12] } else { s.take(12) });
            let (et, body) = tagged(s);
            out.extend(et.to_be_bytes());
            out.extend(body);
            LinkType::ETHERNET
        }
        3 => {
            out.extend(s.take(2));
            out.extend([0, if s.one_in(2) { 1 } else { s.byte() }, 0, 6]);
            out.extend(s.take(8));
            let (et, body) = tagged(s);
            out.extend(et.to_be_bytes());
            out.extend(body);
            LinkType::LINUX_SLL
        }
        4 => {
            let (et, body) = tagged(s);
            out.extend(et.to_be_bytes());
            out.extend(s.take(6));
            out.extend([0, 1, s.byte(), 6]);
            out.extend(s.take(8));
            out.extend(body);
            LinkType::LINUX_SLL2
        }
        5 => {
            // An open network's data frame: 802.11 header, LLC/SNAP.
            out.extend([0x08, s.byte() & 0x03, 0, 0]);
            out.extend(s.take(20));
            out.extend([0xaa, 0xaa, 0x03, 0, 0, 0]);
            let (et, body) = tagged(s);
            out.extend(et.to_be_bytes());
            out.extend(body);
            LinkType::IEEE802_11
        }
        6 => {
            let family: u32 = [2, 24, 28, 30, 10, 7][usize::from(s.pick(6))];
            let link = if s.one_in(2) {
                LinkType::NULL
            } else {
                LinkType::LOOP
            };
            out.extend(if s.one_in(2) {
                family.to_le_bytes()
            } else {
                family.to_be_bytes()
            });
            let et = if s.one_in(2) { 0x0800 } else { 0x86dd };
            out.extend(network(s, et, 0));
            link
        }
        _ => {
            let et = if s.one_in(2) { 0x0800 } else { 0x86dd };
            out.extend(network(s, et, 0));
            [LinkType::RAW, LinkType::IPV4, LinkType::IPV6][usize::from(s.pick(3))]
        }
    };
    (link, out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn random_bytes_decode_as_the_reference_did(
        link in 0..LINKS.len(),
        data in proptest::collection::vec(any::<u8>(), 0..160),
        extra in 0u32..3,
    ) {
        let f = frame(LINKS[link], data.len() as u32 + extra, &data);
        prop_assert!(check(&f).is_ok(), "{}", check(&f).unwrap_err());
    }

    #[test]
    fn real_frames_with_a_byte_changed_decode_as_the_reference_did(
        pick in any::<u32>(),
        at in any::<u16>(),
        value in any::<u8>(),
        cut in any::<u16>(),
        headers_only in any::<bool>(),
        cut_too in any::<bool>(),
    ) {
        let corpus = corpus();
        let f = &corpus[pick as usize % corpus.len()];
        let mut data = f.data.clone();
        if !data.is_empty() {
            let span = if headers_only { data.len().min(96) } else { data.len() };
            let i = usize::from(at) % span;
            data[i] = value;
        }
        if cut_too {
            data.truncate(usize::from(cut) % (data.len() + 1));
        }
        let fr = frame(f.link, f.orig_len, &data);
        prop_assert!(check(&fr).is_ok(), "{}: {}", f.place, check(&fr).unwrap_err());
    }

    #[test]
    fn built_frames_decode_as_the_reference_did(
        script in proptest::collection::vec(any::<u8>(), 0..400),
        cut in any::<u16>(),
        cut_too in any::<bool>(),
    ) {
        let mut s = Script { bytes: &script, at: 0 };
        let (link, mut data) = build(&mut s);
        let orig_len = data.len() as u32;
        if cut_too {
            data.truncate(usize::from(cut) % (data.len() + 1));
        }
        let f = frame(link, orig_len, &data);
        prop_assert!(check(&f).is_ok(), "{}", check(&f).unwrap_err());
    }
}

/// The generator reaches the layers it is there for: without this, a
/// mistake in it could leave the rare paths untested while the property
/// above still passed.
#[test]
fn built_frames_reach_the_rare_layers() {
    use super::{Fragment, L4};
    let mut seen = [false; 8];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20_000 {
        let script: Vec<u8> = (0..400)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let (link, data) = build(&mut Script {
            bytes: &script,
            at: 0,
        });
        let f = frame(link, data.len() as u32, &data);
        check(&f).unwrap();
        let Ok(p) = decode(&f) else { continue };
        seen[0] |= p.vlan_tags == 3;
        seen[1] |= data.windows(2).any(|w| w == [0x88, 0xe5]) && p.ip.is_some();
        if let Some(ip) = p.ip {
            seen[2] |= ip.fragment == Fragment::First && ip.src.is_ipv6();
            seen[3] |= ip.fragment == Fragment::Later && ip.src.is_ipv6();
            seen[4] |= ip.fragment == Fragment::Later && ip.src.is_ipv4();
            seen[5] |=
                ip.src.is_ipv6() && matches!(p.l4, L4::Tcp(_) | L4::Udp { .. }) && data.len() > 100;
        }
        if let L4::Icmp(i) = p.l4 {
            seen[6] |= i.quoted.is_some_and(|q| q.sport != 0);
        }
        seen[7] |= link == LinkType::LINUX_SLL2 && p.ip.is_some();
    }
    assert_eq!(seen, [true; 8]);
}
