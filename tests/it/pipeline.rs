//! Offline analysis end to end through the library (`analyze::run`): every
//! fixture counted as fixtures/README.md says, each link type decoded to the
//! same devices and flows, merging in time order, and basic.pcap's
//! destinations, outcomes and blocked_port findings down to the frames.

use crate::common::{analyze, fixture, tshark, tshark_frames, VALID_FIXTURES};
use egresswatch::device::Outcomes;
use egresswatch::finding::{Evidence, Kind};
use egresswatch::report::{format_time, DestinationReport, DeviceReport, Report};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;

const GATEWAY: &str = "02:50:00:00:00:01";
const PI: &str = "b8:27:eb:12:34:56";
const PLUG: &str = "24:0a:c4:aa:bb:01";
const HUB: &str = "dc:a6:32:01:02:03";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn device<'a>(r: &'a Report, mac: &str) -> &'a DeviceReport {
    r.devices
        .iter()
        .find(|d| d.mac.as_deref() == Some(mac))
        .unwrap_or_else(|| {
            panic!(
                "no device {mac}; devices: {:?}",
                r.devices.iter().map(|d| d.id()).collect::<Vec<_>>()
            )
        })
}

fn macless<'a>(r: &'a Report, addr: &str) -> &'a DeviceReport {
    r.devices
        .iter()
        .find(|d| d.mac.is_none() && d.ips == [ip(addr)])
        .unwrap_or_else(|| {
            panic!(
                "no MAC-less device {addr}; devices: {:?}",
                r.devices
                    .iter()
                    .map(|d| (d.mac.clone(), d.ips.clone()))
                    .collect::<Vec<_>>()
            )
        })
}

/// A device's destinations as (proto, ip, port, flows, outcomes), sorted.
fn dests(d: &DeviceReport) -> Vec<(&'static str, IpAddr, u16, u32, Outcomes)> {
    let mut v: Vec<_> = d
        .destinations
        .iter()
        .map(|x| (x.proto, x.ip, x.port, x.flows, x.outcomes))
        .collect();
    v.sort_by_key(|x| (x.0, x.1, x.2));
    v
}

fn dest<'a>(d: &'a DeviceReport, proto: &str, addr: &str, port: u16) -> &'a DestinationReport {
    d.destinations
        .iter()
        .find(|x| x.proto == proto && x.ip == ip(addr) && x.port == port)
        .unwrap_or_else(|| {
            panic!(
                "{}: no destination {proto} {addr}:{port}; has {:?}",
                d.id(),
                dests(d)
            )
        })
}

fn ok(n: u32) -> Outcomes {
    Outcomes {
        ok: n,
        ..Default::default()
    }
}

fn ev(file: u16, frame: u64) -> Evidence {
    Evidence { file, frame }
}

fn one(name: &str) -> Report {
    analyze(&[fixture(name)])
}

/// Nanoseconds since the epoch from tshark's `frame.time_epoch` ("s.fffffffff").
fn epoch_ns(s: &str) -> i64 {
    let (secs, frac) = s.split_once('.').unwrap_or((s, "0"));
    let frac = format!("{frac:0<9}");
    secs.parse::<i64>().unwrap() * 1_000_000_000 + frac[..9].parse::<i64>().unwrap()
}

// ---------------------------------------------------------------- counts

/// Packets, bytes and TCP/UDP flows of every valid fixture, as the README
/// (checked with capinfos and `tshark -z conv`) gives them; nothing
/// undecodable and nothing reported as damaged.
#[test]
fn every_valid_fixture_is_counted_as_the_readme_says() {
    let mut wrong = Vec::new();
    for &(name, packets, tcp, udp) in VALID_FIXTURES {
        let path = fixture(name);
        let r = analyze(std::slice::from_ref(&path));
        let c = &r.capture;
        if c.packets != packets {
            wrong.push(format!("{name}: packets {} (README {packets})", c.packets));
        }
        // radiotap.pcap's flows (from 802.11 data frames) are checked by
        // radiotap_data_frames_reach_the_flow_table, with the devices.
        if name != "radiotap.pcap" && (c.flows.tcp, c.flows.udp) != (tcp, udp) {
            wrong.push(format!(
                "{name}: (tcp, udp) flows ({}, {}), expected ({tcp}, {udp})",
                c.flows.tcp, c.flows.udp
            ));
        }
        if c.undecodable != 0 {
            wrong.push(format!(
                "{name}: {} undecodable {:?}",
                c.undecodable, c.stats.undecodable_reasons
            ));
        }
        if !c.problems.is_empty() {
            wrong.push(format!("{name}: problems {:?}", c.problems));
        }
        if c.files != [path.display().to_string()] {
            wrong.push(format!("{name}: capture.files {:?}", c.files));
        }
        // capinfos' data size is the sum of the frames' lengths on the wire.
        if packets > 0 {
            let out = std::process::Command::new("capinfos")
                .args(["-d", "-M", path.to_str().unwrap()])
                .output()
                .expect("capinfos (from tshark's package) is needed");
            let text = String::from_utf8_lossy(&out.stdout);
            let size: u64 = text
                .lines()
                .find(|l| l.contains("Data size"))
                .and_then(|l| l.split_whitespace().find_map(|w| w.parse().ok()))
                .unwrap_or_else(|| panic!("{name}: capinfos said {text}"));
            if c.bytes != size {
                wrong.push(format!(
                    "{name}: bytes {} (capinfos data size {size})",
                    c.bytes
                ));
            }
        } else if c.bytes != 0 || c.start.is_some() || c.end.is_some() {
            wrong.push(format!(
                "{name}: empty capture with bytes {} start {:?} end {:?}",
                c.bytes, c.start, c.end
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// capture.start and capture.end are the first and last frame times to the
/// nanosecond (as tshark reads them, whatever the file's resolution).
#[test]
fn capture_times_are_the_first_and_last_frame_times() {
    let mut wrong = Vec::new();
    for &(name, packets, _, _) in VALID_FIXTURES {
        if packets == 0 {
            continue;
        }
        let path = fixture(name);
        let times: Vec<i64> = tshark(&[
            "-r",
            path.to_str().unwrap(),
            "-T",
            "fields",
            "-e",
            "frame.time_epoch",
        ])
        .lines()
        .map(str::trim)
        // multi-if's simple packet block has no timestamp of its own.
        .filter(|l| !l.is_empty())
        .map(epoch_ns)
        .collect();
        let (first, last) = (*times.iter().min().unwrap(), *times.iter().max().unwrap());
        let c = one(name).capture;
        if (c.start, c.end) != (Some(first), Some(last)) {
            wrong.push(format!(
                "{name}: start/end {:?}/{:?}, tshark {first}/{last}",
                c.start, c.end
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ---------------------------------------------------------------- link types

/// The hub's session in six encodings: Linux cooked v1 and v2 carry the
/// sender's MAC (devices by MAC); raw IP and BSD loopback carry none, so a
/// device is its IP address with `mac` null. All six give the same flows and
/// the same destinations with the same outcomes.
#[test]
fn every_link_type_gives_the_same_devices_and_flows() {
    let with_mac = ["linux-sll.pcap", "linux-sll2.pcap"];
    let without_mac = [
        "raw-ip.pcap",
        "raw-ip-12.pcap",
        "null-le.pcap",
        "null-be.pcap",
    ];
    let all_ips: BTreeSet<IpAddr> = ["192.168.50.1", "192.168.50.10", "fd00:50::1", "fd00:50::10"]
        .into_iter()
        .map(ip)
        .collect();
    let expected_dests = vec![
        ("tcp", ip("198.51.100.80"), 80u16, 1u32, ok(1)),
        ("udp", ip("192.168.50.1"), 53, 1, ok(1)),
        ("udp", ip("fd00:50::1"), 53, 1, ok(1)),
    ];
    let all_dests = |r: &Report| {
        let mut v: Vec<_> = r.devices.iter().flat_map(dests).collect();
        v.sort_by_key(|x| (x.0, x.1, x.2));
        v
    };
    for name in with_mac.iter().chain(&without_mac) {
        let r = one(name);
        let c = &r.capture;
        assert_eq!((c.flows.tcp, c.flows.udp), (1, 2), "{name}: flows");
        assert_eq!(c.undecodable, 0, "{name}");
        assert_eq!(
            c.start.map(format_time).as_deref(),
            Some(if with_mac.contains(name) {
                "2026-03-01T10:00:30.000000Z"
            } else {
                // The ARP exchange (frames 1-2 of the cooked captures) is not there.
                "2026-03-01T10:00:30.001000Z"
            }),
            "{name}: start"
        );
        assert_eq!(
            c.end.map(format_time).as_deref(),
            Some("2026-03-01T10:00:30.097050Z"),
            "{name}: end"
        );
        assert_eq!(all_dests(&r), expected_dests, "{name}: destinations");
        let ips: BTreeSet<IpAddr> = r
            .devices
            .iter()
            .flat_map(|d| d.ips.iter().copied())
            .collect();
        assert_eq!(ips, all_ips, "{name}: addresses of devices");
    }
    for name in with_mac {
        let r = one(name);
        let macs: Vec<_> = r.devices.iter().map(|d| d.mac.clone()).collect();
        assert_eq!(
            macs,
            [Some(GATEWAY.to_string()), Some(HUB.to_string())],
            "{name}: devices"
        );
        assert_eq!(
            device(&r, HUB).ips,
            [ip("192.168.50.10"), ip("fd00:50::10")],
            "{name}"
        );
        assert_eq!(
            device(&r, GATEWAY).ips,
            [ip("192.168.50.1"), ip("fd00:50::1")],
            "{name}"
        );
        assert_eq!(
            dests(device(&r, HUB)),
            expected_dests,
            "{name}: the hub's destinations"
        );
        assert_eq!(r.capture.stats.non_ip, 2, "{name}: the ARP exchange");
    }
    for name in without_mac {
        let r = one(name);
        assert_eq!(r.devices.len(), 4, "{name}: one device per local address");
        for d in &r.devices {
            assert_eq!(d.mac, None, "{name}: {:?}", d.ips);
            assert_eq!(d.ips.len(), 1, "{name}: a MAC-less device is one address");
            assert_eq!(d.id(), d.ips[0].to_string());
        }
        assert_eq!(
            dests(macless(&r, "192.168.50.10")),
            vec![expected_dests[0], expected_dests[1]],
            "{name}: the hub's IPv4 destinations"
        );
        assert_eq!(
            dests(macless(&r, "fd00:50::10")),
            vec![expected_dests[2]],
            "{name}: the hub's IPv6 destinations"
        );
        assert!(
            dests(macless(&r, "192.168.50.1")).is_empty(),
            "{name}: the resolver only answers"
        );
    }
    // The cooked pair and the MAC-less four agree among themselves byte for
    // byte, apart from the header sizes.
    let json = |name: &str| {
        let mut v = serde_json::to_value(one(name)).unwrap();
        for k in ["files", "bytes"] {
            v["capture"].as_object_mut().unwrap().remove(k);
        }
        v["capture"]["stats"]
            .as_object_mut()
            .unwrap()
            .remove("bytes");
        for d in v["devices"].as_array_mut().unwrap() {
            for k in ["bytes_sent", "bytes_received"] {
                d.as_object_mut().unwrap().remove(k);
            }
        }
        v
    };
    assert_eq!(json("linux-sll.pcap"), json("linux-sll2.pcap"));
    for name in &without_mac[1..] {
        assert_eq!(
            json("raw-ip.pcap"),
            json(name),
            "{name} differs from raw-ip.pcap"
        );
    }
}

/// Radiotap frames are 802.11 frames: all counted as such, none undecodable.
#[test]
fn radiotap_frames_are_counted_as_wifi_frames() {
    let r = one("radiotap.pcap");
    assert_eq!(r.capture.packets, 15);
    assert_eq!(r.capture.stats.wifi_frames, 15);
    assert_eq!(
        r.capture.undecodable, 0,
        "{:?}",
        r.capture.stats.undecodable_reasons
    );
    assert!(r.capture.problems.is_empty(), "{:?}", r.capture.problems);
}

/// The five 802.11 data frames carry IP over LLC/SNAP (a DNS exchange and a
/// TCP handshake between the plug and 203.0.113.10): one UDP and one TCP
/// flow, and the plug is a device with its address, as on a wired capture.
#[test]
fn radiotap_data_frames_reach_the_flow_table() {
    let r = one("radiotap.pcap");
    assert_eq!(
        (r.capture.flows.tcp, r.capture.flows.udp),
        (1, 1),
        "flows from the data frames"
    );
    let plug = device(&r, PLUG);
    assert_eq!(plug.ips, [ip("192.168.50.41")]);
    assert_eq!(
        dests(plug),
        vec![
            ("tcp", ip("203.0.113.10"), 443, 1, ok(1)),
            ("udp", ip("192.168.50.1"), 53, 1, ok(1)),
        ]
    );
    // ToDS frames 11, 13, 15 are the plug's; the SYN is frame 13.
    assert_eq!(
        dest(plug, "tcp", "203.0.113.10", 443).evidence.first(),
        Some(&ev(0, 13))
    );
}

/// Big-endian nanosecond pcap: the timestamps keep their nanoseconds.
#[test]
fn endian_nano_keeps_nanoseconds() {
    let r = one("endian-nano.pcap");
    let base = 1_772_359_200_000_000_000i64;
    assert_eq!(r.capture.start, Some(base + 123_456_789));
    assert_eq!(r.capture.end, Some(base + 1_530_314_159));
    // The report's RFC 3339 times are written to the microsecond.
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["capture"]["start"], "2026-03-01T10:00:00.123456Z");
    assert_eq!(json["capture"]["end"], "2026-03-01T10:00:01.530314Z");
    let pi = device(&r, PI);
    assert_eq!(pi.ips, [ip("192.168.50.23")]);
    assert_eq!(
        dests(pi),
        vec![
            ("tcp", ip("203.0.113.10"), 443, 1, ok(1)),
            ("udp", ip("192.168.50.1"), 53, 1, ok(1))
        ]
    );
    let tcp = dest(pi, "tcp", "203.0.113.10", 443);
    assert_eq!(tcp.first_seen, base + 1_000_000_001, "the SYN's time");
    assert_eq!(tcp.last_seen, base + 1_530_314_159);
}

/// pcapng with an Ethernet interface (µs) and a raw-IP interface (ns), and a
/// simple packet block: every frame decoded with its own interface's link
/// type and resolution, numbered as Wireshark numbers them.
#[test]
fn multi_interface_pcapng_decodes_both_interfaces() {
    let r = one("multi-if.pcapng");
    let c = &r.capture;
    assert_eq!(c.packets, 13);
    assert_eq!(c.undecodable, 0);
    assert_eq!(c.stats.non_ip, 1, "the ARP in the simple packet block");
    // The last frame is on wg0 at …00.230000077 (ns resolution).
    assert_eq!(c.end, Some(1_772_359_200_230_000_077));
    // eth0 (Ethernet): the Pi's DNS and HTTPS handshake; its frames 1, 6 (the
    // SPB's ARP), 7 and 10.
    let pi = device(&r, PI);
    assert_eq!(pi.ips, [ip("192.168.50.23")]);
    assert_eq!(pi.packets_sent, 4, "frames 1, 6 (SPB), 7, 10");
    assert_eq!(
        dests(pi),
        vec![
            ("tcp", ip("203.0.113.10"), 443, 1, ok(1)),
            ("udp", ip("192.168.50.1"), 53, 1, ok(1))
        ]
    );
    // wg0 (raw IP): no MAC, so devices are addresses.
    let wg = macless(&r, "10.8.0.2");
    let unreachable = Outcomes {
        icmp_unreachable: 1,
        ..Default::default()
    };
    assert_eq!(
        dests(wg),
        vec![
            ("tcp", ip("198.51.100.50"), 22, 1, ok(1)),
            ("udp", ip("198.51.100.51"), 9000, 1, unreachable),
        ]
    );
    assert_eq!(
        dest(wg, "udp", "198.51.100.51", 9000).evidence,
        [ev(0, 8), ev(0, 11)]
    );
    let wg6 = macless(&r, "fd00:8::2");
    assert_eq!(
        dests(wg6),
        vec![("udp", ip("2001:db8:100::22"), 44444, 1, unreachable)]
    );
    assert_eq!(
        dest(wg6, "udp", "2001:db8:100::22", 44444).evidence,
        [ev(0, 12), ev(0, 13)]
    );
}

/// 802.1Q and QinQ: the VLANs a device's frames were tagged with are on the
/// device. The Pi is on VLAN 50; the plug's frames carry the service tag
/// 100 around the same customer VLAN 50, and both ids belong in its record
/// (as Suricata lists every tag): VLAN 50 is the network it is on.
#[test]
fn vlan_ids_are_recorded_on_devices() {
    let r = one("vlan-qinq.pcap");
    assert_eq!(r.capture.packets, 10);
    assert_eq!((r.capture.flows.tcp, r.capture.flows.udp), (2, 2));
    let pi = device(&r, PI);
    assert_eq!(pi.vlans, [50]);
    assert_eq!(
        dests(pi),
        vec![
            ("tcp", ip("203.0.113.10"), 443, 1, ok(1)),
            ("udp", ip("192.168.50.1"), 53, 1, ok(1))
        ]
    );
    let plug = device(&r, PLUG);
    assert_eq!(
        dests(plug),
        vec![
            ("tcp", ip("198.51.100.30"), 8883, 1, ok(1)),
            ("udp", ip("192.168.50.1"), 53, 1, ok(1))
        ]
    );
    assert!(
        plug.vlans.contains(&100),
        "the outer (service) tag: {:?}",
        plug.vlans
    );
    assert_eq!(
        plug.vlans,
        [50, 100],
        "the inner (customer) VLAN 50 is missing"
    );
    assert_eq!(device(&r, GATEWAY).vlans, [50, 100]);
}

/// IPv4 and IPv6 fragments: counted; the first fragment's UDP header keys the
/// flow; later fragments carry no ports and make no flow of their own; an
/// IPv6 TCP SYN behind extension headers is decoded.
#[test]
fn fragments_are_counted_and_first_fragments_make_flows() {
    let r = one("fragments.pcap");
    let s = &r.capture.stats;
    // Frames 1-3 (IPv4, first + 2 later), 4-5 (IPv4, later only), 7 (IPv6 first).
    assert_eq!(s.fragments, 6);
    assert_eq!(s.later_fragments, 4);
    assert_eq!(r.capture.undecodable, 0);
    let pending = Outcomes {
        pending: 1,
        ..Default::default()
    };
    let pi = device(&r, PI);
    // Nothing to 203.0.113.31: its first fragment is missing.
    assert_eq!(
        dests(pi),
        vec![("udp", ip("203.0.113.30"), 9999, 1, pending)]
    );
    assert_eq!(dest(pi, "udp", "203.0.113.30", 9999).evidence, [ev(0, 1)]);
    let plug = device(&r, PLUG);
    assert_eq!(plug.ips, [ip("2001:db8:50:0:260a:c4ff:feaa:bb01")]);
    assert_eq!(
        dests(plug),
        vec![
            ("tcp", ip("2001:db8:100::80"), 443, 1, pending),
            ("udp", ip("2001:db8:100::22"), 7000, 1, pending),
        ]
    );
    assert_eq!(
        dest(plug, "tcp", "2001:db8:100::80", 443).evidence,
        [ev(0, 6)]
    );
    assert_eq!(
        dest(plug, "udp", "2001:db8:100::22", 7000).evidence,
        [ev(0, 7)]
    );
}

/// Snap length 64: three frames cut, their headers still decoded, the flow
/// built with its ports and counted with the lengths on the wire.
#[test]
fn frames_cut_by_the_snap_length_still_make_flows() {
    let r = one("snaplen-64.pcap");
    assert_eq!(r.capture.packets, 11);
    assert_eq!(r.capture.truncated, 3);
    assert_eq!(r.capture.stats.truncated, 3);
    assert_eq!(r.capture.undecodable, 0);
    assert_eq!(
        r.capture.bytes, 2201,
        "lengths on the wire, not as captured"
    );
    assert_eq!((r.capture.flows.tcp, r.capture.flows.udp), (1, 0));
    let pi = device(&r, PI);
    assert_eq!(dests(pi), vec![("tcp", ip("198.51.100.80"), 80, 1, ok(1))]);
    let d = dest(pi, "tcp", "198.51.100.80", 80);
    assert_eq!(d.packets_out + d.packets_back, 11);
    assert_eq!(d.evidence.first(), Some(&ev(0, 1)), "the SYN");
}

// ---------------------------------------------------------------- merging

fn merged(order: [&str; 2]) -> Report {
    analyze(&[fixture(order[0]), fixture(order[1])])
}

/// merge-a and merge-b are one capture dealt alternately by second: given
/// together they are read in time order, so every conversation split across
/// the two files is seen whole.
#[test]
fn two_files_are_merged_in_time_order() {
    let r = merged(["merge-a.pcap", "merge-b.pcap"]);
    let c = &r.capture;
    assert_eq!(c.packets, 25);
    assert_eq!((c.flows.tcp, c.flows.udp), (2, 5));
    assert_eq!(
        c.bytes,
        one("merge-a.pcap").capture.bytes + one("merge-b.pcap").capture.bytes
    );
    assert_eq!(
        c.start.map(format_time).as_deref(),
        Some("2026-03-01T10:01:20.000000Z")
    );
    assert_eq!(
        c.end.map(format_time).as_deref(),
        Some("2026-03-01T10:01:44.000000Z")
    );
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    assert_eq!(c.flows.reused + c.flows.expired + c.flows.evicted, 0);
    // Packet k (t = k s) is frame k/2+1 of merge-a when k is even, frame
    // (k+1)/2 of merge-b when odd; file 0 is merge-a, file 1 merge-b.
    let a = |k: u64| ev(0, k / 2 + 1);
    let b = |k: u64| ev(1, k.div_ceil(2));
    // Pi: DNS (6-7) and the MQTT session (8-14: SYN in a, SYN-ACK in b).
    let pi = device(&r, PI);
    assert_eq!(
        dests(pi),
        vec![
            ("tcp", ip("198.51.100.30"), 1883, 1, ok(1)),
            ("udp", ip("192.168.50.1"), 53, 1, ok(1))
        ]
    );
    let mqtt = dest(pi, "tcp", "198.51.100.30", 1883);
    assert_eq!(
        (mqtt.packets_out, mqtt.packets_back),
        (4, 3),
        "all 7 packets of the session"
    );
    assert_eq!(mqtt.evidence, [a(8), b(9)], "SYN and SYN-ACK");
    assert_eq!(
        dest(pi, "udp", "192.168.50.1", 53).evidence.first(),
        Some(&a(6))
    );
    // Plug: after the NAK and a fresh DORA (0-5) it is 192.168.50.41, never
    // the stale 192.168.60.41 it asked for; DNS (15-16) and OTA (17-24).
    let plug = device(&r, PLUG);
    assert_eq!(plug.ips, [ip("192.168.50.41")]);
    assert_eq!(
        dests(plug),
        vec![
            ("tcp", ip("198.51.100.80"), 80, 1, ok(1)),
            ("udp", ip("192.168.50.1"), 53, 1, ok(1)),
            // The DHCP exchange with the server, answered (the client's
            // MAC comes from the server's reply to it).
            ("udp", ip("192.168.50.1"), 67, 1, ok(1))
        ]
    );
    let ota = dest(plug, "tcp", "198.51.100.80", 80);
    assert_eq!(
        (ota.packets_out, ota.packets_back),
        (5, 3),
        "all 8 packets of the session"
    );
    assert_eq!(ota.evidence, [b(17), a(18)], "SYN and SYN-ACK");
    assert_eq!(
        dest(plug, "udp", "192.168.50.1", 53).evidence.first(),
        Some(&b(15))
    );
    // Every attempt in the merged capture succeeded: the plug's NAK and
    // fresh DORA included (the server's replies are not attempts).
    for d in &r.devices {
        for x in &d.destinations {
            assert!(
                x.outcomes.ok > 0 && x.outcomes == ok(x.outcomes.ok),
                "{}: {} {}:{} {:?}",
                d.id(),
                x.proto,
                x.ip,
                x.port,
                x.outcomes
            );
        }
    }
    assert!(
        r.findings.iter().all(|f| f.kind != Kind::BlockedPort),
        "{:?}",
        r.findings.iter().map(|f| &f.message).collect::<Vec<_>>()
    );
    // Each file alone sees only half of each conversation.
    let alone = one("merge-a.pcap");
    assert_eq!(
        dest(device(&alone, PI), "tcp", "198.51.100.30", 1883)
            .outcomes
            .ok,
        0
    );
}

/// Replaces evidence file indices by the files' names, so reports of the
/// same files given in another order compare equal.
fn by_file_name(v: &mut serde_json::Value, files: &[String]) {
    match v {
        serde_json::Value::Object(m) => {
            if m.len() == 2 && m.contains_key("frame") {
                if let Some(i) = m.get("file").and_then(|f| f.as_u64()) {
                    m.insert("file".into(), files[i as usize].clone().into());
                    return;
                }
            }
            m.values_mut().for_each(|x| by_file_name(x, files));
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| by_file_name(x, files)),
        _ => {}
    }
}

/// The order the files are given in changes only `capture.files` (and the
/// file index in evidence, which refers to it).
#[test]
fn merging_does_not_depend_on_the_order_of_the_files() {
    let ab = merged(["merge-a.pcap", "merge-b.pcap"]);
    let ba = merged(["merge-b.pcap", "merge-a.pcap"]);
    let files_ab = ab.capture.files.clone();
    let files_ba = ba.capture.files.clone();
    assert_eq!(
        files_ab,
        [
            fixture("merge-a.pcap").display().to_string(),
            fixture("merge-b.pcap").display().to_string()
        ]
    );
    assert_eq!(files_ba, [files_ab[1].clone(), files_ab[0].clone()]);
    let mut x = serde_json::to_value(&ab).unwrap();
    let mut y = serde_json::to_value(&ba).unwrap();
    by_file_name(&mut x, &files_ab);
    by_file_name(&mut y, &files_ba);
    x["capture"].as_object_mut().unwrap().remove("files");
    y["capture"].as_object_mut().unwrap().remove("files");
    assert_eq!(x, y);
    // And the evidence really names the other index.
    let e_ab = &dest(device(&ab, PI), "tcp", "198.51.100.30", 1883).evidence;
    let e_ba = &dest(device(&ba, PI), "tcp", "198.51.100.30", 1883).evidence;
    assert_eq!(
        e_ab.iter()
            .map(|e| (1 - e.file, e.frame))
            .collect::<Vec<_>>(),
        e_ba.iter().map(|e| (e.file, e.frame)).collect::<Vec<_>>()
    );
}

// ---------------------------------------------------------------- basic.pcap

/// The devices are the cast: four MACs with the addresses each used in
/// basic.pcap. The gateway forwards replies from public servers; none of
/// those addresses is its own.
#[test]
fn basic_devices_are_the_cast() {
    let r = one("basic.pcap");
    let macs: Vec<_> = r
        .devices
        .iter()
        .map(|d| d.mac.clone().unwrap_or_default())
        .collect();
    assert_eq!(macs, [GATEWAY, PLUG, PI, HUB], "devices (sorted by MAC)");
    assert_eq!(
        device(&r, PI).ips,
        [
            ip("192.168.50.23"),
            ip("fd00:50::ba27:ebff:fe12:3456"),
            ip("fe80::ba27:ebff:fe12:3456")
        ]
    );
    assert_eq!(
        device(&r, PLUG).ips,
        [ip("192.168.50.41"), ip("2001:db8:50:0:260a:c4ff:feaa:bb01")]
    );
    assert_eq!(device(&r, HUB).ips, [ip("fd00:50::10")]);
    let gw = device(&r, GATEWAY);
    let own: BTreeSet<IpAddr> = [
        "192.168.50.1",
        "fd00:50::1",
        "fe80::50:ff:fe00:1",
        "2001:db8:50::1",
    ]
    .into_iter()
    .map(ip)
    .collect();
    assert!(gw.ips.contains(&ip("192.168.50.1")), "{:?}", gw.ips);
    for a in &gw.ips {
        assert!(
            own.contains(a),
            "the gateway is credited with {a}, not its own: {:?}",
            gw.ips
        );
    }
    for d in &r.devices {
        assert!(d.vlans.is_empty());
        assert_eq!(d.id(), d.mac.clone().unwrap());
    }
    assert_eq!(r.capture.stats.non_ip, 2, "the ARP exchange");
}

/// Every destination the Pi and the plug tried, with how it went.
#[test]
fn basic_destinations_and_outcomes() {
    let r = one("basic.pcap");
    let pi = device(&r, PI);
    assert_eq!(
        dests(pi),
        vec![
            ("tcp", ip("203.0.113.10"), 443, 1, ok(1)),
            ("tcp", ip("fd00:50::10"), 8123, 1, ok(1)),
            ("udp", ip("192.168.50.1"), 53, 2, ok(2)),
            ("udp", ip("192.168.50.1"), 67, 1, ok(1)),
            ("udp", ip("198.51.100.123"), 123, 1, ok(1)),
        ]
    );
    let https = dest(pi, "tcp", "203.0.113.10", 443);
    assert_eq!(
        (https.packets_out, https.packets_back),
        (8, 4),
        "12 packets"
    );
    assert_eq!(https.evidence, [ev(0, 9), ev(0, 10)], "SYN, SYN-ACK");

    let plug = device(&r, PLUG);
    let o = |f: fn(&mut Outcomes)| {
        let mut x = Outcomes::default();
        f(&mut x);
        x
    };
    assert_eq!(
        dests(plug),
        vec![
            // Four SYNs (one and three retransmissions): one attempt.
            ("tcp", ip("203.0.113.20"), 8883, 1, o(|x| x.no_answer = 1)),
            ("tcp", ip("203.0.113.21"), 443, 1, o(|x| x.reset = 1)),
            (
                "udp",
                ip("203.0.113.22"),
                5246,
                1,
                o(|x| x.icmp_unreachable = 1)
            ),
            (
                "udp",
                ip("203.0.113.23"),
                123,
                1,
                o(|x| x.icmp_admin_prohibited = 1)
            ),
            (
                "udp",
                ip("2001:db8:100::22"),
                5684,
                1,
                o(|x| x.icmp_admin_prohibited = 1)
            ),
        ]
    );
    let syns = dest(plug, "tcp", "203.0.113.20", 8883);
    assert_eq!((syns.packets_out, syns.packets_back), (4, 0));
}

/// One blocked_port finding per destination the plug never reached, with
/// the cause, and evidence frames that are the attempt and its refusal as
/// tshark numbers them. No other blocked_port findings.
#[test]
fn basic_blocked_port_findings() {
    let path = fixture("basic.pcap");
    let r = analyze(std::slice::from_ref(&path));
    let frames = |f: &str| -> BTreeSet<u64> { tshark_frames(&path, f).into_iter().collect() };
    // (proto, remote, port, how, frames of the attempt, frames of the refusal)
    type Expected<'a> = (&'a str, &'a str, u16, &'a str, BTreeSet<u64>, BTreeSet<u64>);
    let expected: Vec<Expected> = vec![
        (
            "tcp",
            "203.0.113.20",
            8883,
            "no_answer",
            frames("tcp.dstport == 8883 && tcp.flags.syn == 1 && tcp.flags.ack == 0"),
            BTreeSet::new(),
        ),
        (
            "tcp",
            "203.0.113.21",
            443,
            "reset",
            frames("ip.dst == 203.0.113.21 && tcp.flags.syn == 1 && tcp.flags.ack == 0"),
            frames("ip.src == 203.0.113.21 && tcp.flags.reset == 1"),
        ),
        (
            "udp",
            "203.0.113.22",
            5246,
            "icmp_unreachable",
            frames("!icmp && udp.dstport == 5246"),
            frames("icmp.type == 3 && icmp.code == 3"),
        ),
        (
            "udp",
            "203.0.113.23",
            123,
            "icmp_admin_prohibited",
            frames("!icmp && ip.dst == 203.0.113.23 && udp.dstport == 123"),
            frames("icmp.type == 3 && icmp.code == 13"),
        ),
        (
            "udp",
            "2001:db8:100::22",
            5684,
            "icmp_admin_prohibited",
            frames("!icmpv6 && udp.dstport == 5684"),
            frames("icmpv6.type == 1 && icmpv6.code == 1"),
        ),
    ];
    // The layout README documents, as tshark confirms.
    assert_eq!(expected[0].4, [33, 36, 43, 44].into());
    assert_eq!(
        (&expected[1].4, &expected[1].5),
        (&[34].into(), &[35].into())
    );
    assert_eq!(
        (&expected[2].4, &expected[2].5),
        (&[37].into(), &[38].into())
    );
    assert_eq!(
        (&expected[3].4, &expected[3].5),
        (&[39].into(), &[40].into())
    );
    assert_eq!(
        (&expected[4].4, &expected[4].5),
        (&[41].into(), &[42].into())
    );

    let mut wrong = Vec::new();
    let blocked: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.kind == Kind::BlockedPort)
        .collect();
    for (proto, remote, port, how, attempt, refusal) in &expected {
        let Some(f) = blocked
            .iter()
            .find(|f| f.remote_ip == Some(ip(remote)) && f.port == Some(*port))
        else {
            wrong.push(format!(
                "no blocked_port finding for {proto} {remote}:{port} ({how})"
            ));
            continue;
        };
        let what = format!("{proto} {remote}:{port}");
        if f.device != PLUG {
            wrong.push(format!("{what}: device {}", f.device));
        }
        if (f.proto, f.how) != (Some(*proto), Some(*how)) {
            wrong.push(format!(
                "{what}: proto/how {:?}/{:?}, expected {proto}/{how}",
                f.proto, f.how
            ));
        }
        if f.count != 1 {
            wrong.push(format!("{what}: count {} (one attempt)", f.count));
        }
        let ev: BTreeSet<u64> = f.evidence.iter().map(|e| e.frame).collect();
        if f.evidence.iter().any(|e| e.file != 0) {
            wrong.push(format!(
                "{what}: evidence names another file {:?}",
                f.evidence
            ));
        }
        let first_attempt = *attempt.iter().next().unwrap();
        if !ev.contains(&first_attempt) {
            wrong.push(format!(
                "{what}: evidence {ev:?} lacks the first attempt, frame {first_attempt}"
            ));
        }
        if !refusal.is_empty() && !refusal.is_subset(&ev) {
            wrong.push(format!(
                "{what}: evidence {ev:?} lacks the refusal {refusal:?}"
            ));
        }
        if let Some(x) = ev
            .iter()
            .find(|x| !attempt.contains(x) && !refusal.contains(x))
        {
            wrong.push(format!(
                "{what}: evidence frame {x} is neither the attempt nor the refusal"
            ));
        }
        if !f.message.contains(&port.to_string()) || !f.message.contains(remote) {
            wrong.push(format!("{what}: message {:?}", f.message));
        }
    }
    let first_last = blocked
        .iter()
        .find(|f| f.port == Some(8883))
        .map(|f| (format_time(f.first_seen), format_time(f.last_seen)));
    if let Some(fl) = first_last {
        if fl
            != (
                "2026-03-01T10:00:03.000000Z".to_string(),
                "2026-03-01T10:00:10.000000Z".to_string(),
            )
        {
            wrong.push(format!(
                "8883: first/last seen {fl:?}, expected the first and last SYN"
            ));
        }
    }
    for f in &blocked {
        if !expected
            .iter()
            .any(|e| f.remote_ip == Some(ip(e.1)) && f.port == Some(e.2))
        {
            wrong.push(format!(
                "unexpected blocked_port: device {} {:?} {:?}:{:?} {:?} frames {:?}",
                f.device, f.proto, f.remote_ip, f.port, f.how, f.evidence
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The gateway answers (DHCP OFFER/ACK, DNS, forwarded replies, ICMP errors)
/// and the hub answers a neighbor solicitation: neither made an attempt of
/// its own in basic.pcap, so neither has a destination that failed. Same for
/// the DHCP server's unicast OFFER/ACK in the merged capture.
#[test]
fn dhcp_server_replies_are_not_attempts() {
    let mut wrong = Vec::new();
    let runs: Vec<(&str, Vec<PathBuf>)> = vec![
        ("basic.pcap", vec![fixture("basic.pcap")]),
        (
            "merge-a + merge-b",
            vec![fixture("merge-a.pcap"), fixture("merge-b.pcap")],
        ),
    ];
    for (what, files) in runs {
        let r = analyze(&files);
        for mac in [GATEWAY, HUB] {
            let Some(d) = r.devices.iter().find(|d| d.mac.as_deref() == Some(mac)) else {
                continue;
            };
            for x in &d.destinations {
                let o = x.outcomes;
                if o.no_answer + o.reset + o.icmp_unreachable + o.icmp_admin_prohibited > 0 {
                    wrong.push(format!(
                        "{what}: {mac} has a failed attempt {} {}:{} {:?} (frames {:?})",
                        x.proto, x.ip, x.port, o, x.evidence
                    ));
                }
            }
        }
        for f in &r.findings {
            if f.device == GATEWAY || f.device == HUB {
                wrong.push(format!("{what}: finding on {}: {}", f.device, f.message));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
