//! Every real capture in ../shared/captures: read whole, counted right, and
//! flows that agree with tshark's conversation statistics.

use crate::common::{analyze, analyze_with, manifest, shared_captures, tshark};
use egresswatch::engine::EngineConfig;
use egresswatch::flow::FlowConfig;

#[test]
fn every_capture_is_read_whole_with_a_valid_report() {
    let dir = shared_captures();
    let rows = manifest();
    assert!(rows.len() >= 40, "MANIFEST lists {} captures", rows.len());
    for row in rows {
        let path = dir.join(&row.file);
        let report = analyze(std::slice::from_ref(&path));
        assert_eq!(
            report.capture.packets, row.packets,
            "{}: packets ({})",
            row.file, row.description
        );
        assert!(
            report.capture.problems.is_empty(),
            "{}: {:?}",
            row.file,
            report.capture.problems
        );
        // None of these captures holds one of the five profiled devices, so
        // none may be identified as one, and nothing the packets do not
        // justify may be an error (see each warning in the issue notes).
        for d in &report.devices {
            assert_eq!(
                d.profile,
                None,
                "{}: {} identified by {:?}",
                row.file,
                d.id(),
                d.identified_by
            );
        }
        for f in &report.findings {
            assert!(
                f.severity < egresswatch::finding::Severity::Error,
                "{}: {f:?}",
                row.file
            );
        }
        let json = serde_json::to_value(&report).unwrap();
        for key in ["version", "capture", "devices", "findings"] {
            assert!(json.get(key).is_some(), "{}: no {key}", row.file);
        }
        let cap = &json["capture"];
        for key in [
            "files",
            "packets",
            "bytes",
            "start",
            "end",
            "undecodable",
            "truncated",
        ] {
            assert!(cap.get(key).is_some(), "{}: no capture.{key}", row.file);
        }
        // Every finding names a device in the report.
        let ids: Vec<String> = report.devices.iter().map(|d| d.id()).collect();
        for f in &report.findings {
            assert!(
                ids.contains(&f.device),
                "{}: finding for unknown device {}",
                row.file,
                f.device
            );
        }
    }
}

/// tshark's conversation count for `kind` (tcp or udp).
fn tshark_conversations(path: &std::path::Path, kind: &str) -> u64 {
    let out = tshark(&[
        "-r",
        path.to_str().unwrap(),
        "-q",
        "-z",
        &format!("conv,{kind}"),
    ]);
    out.lines().filter(|l| l.contains("<->")).count() as u64
}

/// tshark keeps a conversation for as long as the capture lasts; with the
/// idle timeouts lifted, egresswatch must count the same TCP and UDP flows.
/// With the default timeouts it may only count more (a long-idle 5-tuple is
/// split into several flows), never fewer.
#[test]
fn flows_agree_with_tshark_conversations() {
    let dir = shared_captures();
    let forever = EngineConfig {
        flow: FlowConfig {
            tcp_idle: i64::MAX / 4,
            udp_idle: i64::MAX / 4,
            other_idle: i64::MAX / 4,
            ..FlowConfig::default()
        },
    };
    // Differences explained: tshark also counts conversations inside
    // tunnels it decapsulates; egresswatch counts the tunnel itself.
    let tunnelled: &[(&str, u64, &str)] = &[(
        "ndpi__capwap.pcap",
        1,
        "a wireless client's DHCP DISCOVERs inside the CAPWAP data tunnel (UDP 5247)",
    )];
    let mut split = Vec::new();
    for row in manifest() {
        let path = dir.join(&row.file);
        let (t_tcp, mut t_udp) = (
            tshark_conversations(&path, "tcp"),
            tshark_conversations(&path, "udp"),
        );
        if let Some((_, inner, _why)) = tunnelled.iter().find(|(f, _, _)| *f == row.file) {
            t_udp -= inner;
        }
        let lifted = analyze_with(std::slice::from_ref(&path), forever)
            .capture
            .flows;
        assert_eq!(
            (lifted.tcp, lifted.udp),
            (t_tcp, t_udp),
            "{}: (tcp, udp) flows",
            row.file
        );
        let default = analyze(&[path]).capture.flows;
        assert!(default.tcp >= t_tcp && default.udp >= t_udp, "{}", row.file);
        if (default.tcp, default.udp) != (t_tcp, t_udp) {
            split.push(row.file);
        }
    }
    // The captures whose long idle gaps the timeouts split: CAPWAP discovery
    // broadcasts a minute apart, zoom's STUN bursts, a 7-day smart lock, and
    // NTP requests minutes apart.
    split.sort();
    assert_eq!(
        split,
        [
            "ndpi__capwap.pcap",
            "ndpi__zoom_p2p.pcapng",
            "tjoconnor__schlage-lock-01.pcap",
            "zeek__NTP-digest.pcap"
        ]
    );
}

#[test]
fn dhcp_failures_are_only_what_the_packets_show() {
    // D-Link setup: 38:0b:40:ef:85:41 is refused (NAK, frame 5) and never
    // leased; 90:8d:78:a9:3d:6f's DISCOVER (frame 20) is followed by a
    // REQUEST in the same transaction (frame 24), so an OFFER reached it
    // that the capture missed: not a DHCP failure.
    let path = shared_captures().join("iotsentinel__D-LinkSwitch_Setup-C-12-STA.pcap");
    let r = analyze(&[path]);
    let dhcp: Vec<(&str, Option<&str>, u64)> = r
        .findings
        .iter()
        .filter(|f| f.kind == egresswatch::finding::Kind::DhcpFailure)
        .map(|f| (f.device.as_str(), f.how, f.evidence[0].frame))
        .collect();
    assert_eq!(dhcp, [("38:0b:40:ef:85:41", Some("nak"), 5)]);
}
