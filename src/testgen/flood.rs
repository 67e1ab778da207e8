//! Flood captures: what an attacker or a broken device sends to grow a
//! sensor's tables, written as a stream (constant memory, any size) so the
//! sensor's own memory can be measured under each.
//!
//! `egresswatch-fixtures flood KIND PACKETS FILE` writes one classic pcap
//! (Ethernet, microseconds), deterministic for a given kind and count:
//!
//! - `syn`: TCP SYNs from random internet sources and ports to one LAN
//!   server, never answered: a new flow per packet (flow table, remote
//!   peers, per-client destinations).
//! - `udp`: one-packet UDP flows from one LAN device to random internet
//!   addresses and ports (flows, the device's destinations).
//! - `dns`: DNS responses to one client, each with 1,000 A records for a
//!   new name (the per-client DNS cache, names, questions, addresses).
//! - `names`: DNS queries from one client for a new name each, never
//!   answered (names per device, questions, pending queries).
//! - `frag`: IPv4 first fragments that never complete, random ids.
//! - `macs`: ARP from random source MACs (devices).
//!
//! Timestamps advance 10 µs per packet (100,000 packets/s of capture time).

use super::build::{
    dns_query, dns_response, ethernet, tcpflags, DnsAnswer, DnsData, Ip, Ipv4, Tcp, Vlan,
};
use std::io::{self, Write};

/// The kinds of flood, by name.
pub const KINDS: &[&str] = &["syn", "udp", "dns", "names", "frag", "macs"];

/// 2026-03-03T00:00:00Z in microseconds.
const START_US: u64 = 1_772_496_000 * 1_000_000;

const LAN_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x10, 0x10];
const GW_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const LAN_IP: [u8; 4] = [192, 168, 7, 10];
const GW_IP: [u8; 4] = [192, 168, 7, 1];

/// xorshift64*: the same stream for the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A public IPv4 address (first octet 11..=99 or 101..=126: never
    /// private, loopback or CGNAT).
    fn public_ip(&mut self) -> [u8; 4] {
        let r = self.next();
        let mut first = 11 + (r % 115) as u8;
        if first == 100 {
            first = 101;
        }
        [first, (r >> 8) as u8, (r >> 16) as u8, (r >> 24) as u8]
    }
}

/// Writes `packets` frames of flood `kind` to `out`; `Err` names an
/// unknown kind.
pub fn write(kind: &str, packets: u64, out: &mut dyn Write) -> io::Result<()> {
    if !KINDS.contains(&kind) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unknown flood `{kind}` (kinds: {})", KINDS.join(", ")),
        ));
    }
    // Classic pcap header: LE, µs, snaplen 65535, Ethernet.
    let mut h = Vec::with_capacity(24);
    h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&4u16.to_le_bytes());
    h.extend_from_slice(&[0; 8]);
    h.extend_from_slice(&65_535u32.to_le_bytes());
    h.extend_from_slice(&1u32.to_le_bytes());
    out.write_all(&h)?;
    let mut rng = Rng(0x5eed_0000 ^ kind.len() as u64 ^ (kind.as_bytes()[0] as u64) << 8);
    let mut rec = Vec::with_capacity(2048);
    for i in 0..packets {
        let frame = frame(kind, i, &mut rng);
        let us = START_US + i * 10;
        rec.clear();
        rec.extend_from_slice(&((us / 1_000_000) as u32).to_le_bytes());
        rec.extend_from_slice(&((us % 1_000_000) as u32).to_le_bytes());
        rec.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        rec.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        rec.extend_from_slice(&frame);
        out.write_all(&rec)?;
    }
    out.flush()
}

fn frame(kind: &str, i: u64, rng: &mut Rng) -> Vec<u8> {
    let v4 = |src: [u8; 4], dst: [u8; 4]| Ip::V4(Ipv4::new(src, dst));
    match kind {
        "syn" => {
            let src = rng.public_ip();
            let sport = 1024 + (rng.next() % 60_000) as u16;
            let tcp = Tcp::new(sport, 443, rng.next() as u32, 0, tcpflags::SYN);
            let ip = v4(src, LAN_IP);
            ethernet(LAN_MAC, GW_MAC, Vlan::Untagged, 0x0800, &ip.tcp(&tcp, &[]))
        }
        "udp" => {
            let dst = rng.public_ip();
            let dport = 1 + (rng.next() % 65_000) as u16;
            let ip = v4(LAN_IP, dst);
            let sport = 20_000 + (i % 40_000) as u16;
            ethernet(
                GW_MAC,
                LAN_MAC,
                Vlan::Untagged,
                0x0800,
                &ip.udp(sport, dport, b"x"),
            )
        }
        "dns" => {
            let name = format!("n{i}.flood.example");
            let records: Vec<[u8; 4]> = (0..1000).map(|_| rng.public_ip()).collect();
            let answers: Vec<DnsAnswer<'_>> = records
                .iter()
                .map(|a| DnsAnswer {
                    name: &name,
                    ttl: 300,
                    data: DnsData::A(*a),
                })
                .collect();
            let msg = dns_response((i & 0xffff) as u16, &name, 1, 0, &answers);
            let ip = v4(GW_IP, LAN_IP);
            // A response larger than one Ethernet frame: as if reassembled.
            ethernet(
                LAN_MAC,
                GW_MAC,
                Vlan::Untagged,
                0x0800,
                &ip.udp(53, 40_000, &msg),
            )
        }
        "names" => {
            let name = format!("q{i}-{:x}.flood.example", rng.next());
            let ip = v4(LAN_IP, GW_IP);
            let sport = 30_000 + (i % 30_000) as u16;
            let msg = dns_query((i & 0xffff) as u16, &name, 1);
            ethernet(
                GW_MAC,
                LAN_MAC,
                Vlan::Untagged,
                0x0800,
                &ip.udp(sport, 53, &msg),
            )
        }
        "frag" => {
            let src = rng.public_ip();
            let ip = Ipv4::new(src, LAN_IP)
                .id(rng.next() as u16)
                .fragment(0, true);
            let body = [0u8; 64];
            ethernet(
                LAN_MAC,
                GW_MAC,
                Vlan::Untagged,
                0x0800,
                &ip.packet(17, &body),
            )
        }
        _ => {
            // ARP requests from a new unicast, globally administered MAC.
            let r = rng.next().to_be_bytes();
            let mac = [r[0] & 0xfc, r[1], r[2], r[3], r[4], r[5]];
            let spa = [10, r[6], r[7], (i % 250) as u8 + 1];
            super::build::ethernet(
                [0xff; 6],
                mac,
                Vlan::Untagged,
                0x0806,
                &super::build::arp(1, mac, spa, [0; 6], LAN_IP),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floods_are_deterministic_valid_pcaps() {
        for kind in KINDS {
            let mut a = Vec::new();
            write(kind, 50, &mut a).unwrap();
            let mut b = Vec::new();
            write(kind, 50, &mut b).unwrap();
            assert_eq!(a, b, "{kind}");
            let mut r =
                crate::capture::file::FileReader::new(std::io::Cursor::new(a), "f".into(), 0)
                    .unwrap();
            let mut n = 0;
            while let Some(f) = r.next_frame() {
                assert!(crate::decode::decode(&f).is_ok(), "{kind} frame {n}");
                n += 1;
            }
            assert_eq!(n, 50, "{kind}");
            assert!(r.problems().is_empty(), "{kind}: {:?}", r.problems());
        }
        assert!(write("nope", 1, &mut Vec::new()).is_err());
    }
}
