//! What egresswatch learns from the app layer agrees with tshark on every
//! real capture that carries it: DNS question names, TLS SNIs and HTTP
//! Hosts; MQTT client ids and CONNACK codes; DHCP hostnames and message
//! types; NTP modes and strata; 802.11 channels. Every difference is listed
//! here with its reason.

use crate::common::{analyze, manifest, shared_captures, tshark};
use egresswatch::report::Report;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn fields(path: &Path, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut args = vec!["-r", path.to_str().unwrap(), "-T", "fields"];
    if !filter.is_empty() {
        args.extend(["-Y", filter]);
    }
    for f in fields {
        args.extend(["-e", f]);
    }
    tshark(&args)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// Undoes dig-style `\DDD` escapes, as tshark prints names raw.
fn unescape(name: &str) -> String {
    let b = name.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() + 1 && b[i + 1..].len() >= 3 {
            if let Ok(v) = std::str::from_utf8(&b[i + 1..i + 4])
                .unwrap_or("x")
                .parse::<u8>()
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn our_names(r: &Report) -> BTreeSet<String> {
    r.devices
        .iter()
        .flat_map(|d| d.names.iter().map(|n| unescape(n)))
        .collect()
}

#[test]
fn names_agree_with_tshark() {
    let dir = shared_captures();
    // tshark's http.host also holds the Host header of SSDP (HTTP over UDP
    // to 239.255.255.250:1900): an address, not a DNS name, so egresswatch
    // does not list it; and "<Name too long>" is tshark's placeholder for a
    // malformed question, not a name.
    let not_names = |n: &str| n.parse::<std::net::IpAddr>().is_ok() || n == "<name too long>";
    let mut compared = 0;
    for row in manifest() {
        let path = dir.join(&row.file);
        let mut theirs = BTreeSet::new();
        let rows = fields(
            &path,
            "",
            &[
                "dns.qry.name",
                "tls.handshake.extensions_server_name",
                "http.host",
            ],
        );
        for cells in rows {
            for cell in cells {
                for v in cell.split(',') {
                    let v = v.trim().trim_end_matches('.').to_ascii_lowercase();
                    let v = match v.rsplit_once(':') {
                        Some((h, p))
                            if p.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') =>
                        {
                            h.to_string()
                        }
                        _ => v,
                    };
                    if !v.is_empty() && !not_names(&v) {
                        theirs.insert(v);
                    }
                }
            }
        }
        let ours = our_names(&analyze(&[path]));
        assert_eq!(ours, theirs, "{}: names", row.file);
        compared += theirs.len();
    }
    assert!(compared >= 80, "only {compared} names compared");
}

#[test]
fn mqtt_client_ids_and_connack_codes_agree_with_tshark() {
    let dir = shared_captures();
    for file in [
        "zeek__mqtt.pcap",
        "ndpi__mqtt.pcapng",
        "suricata-verify__mqtt5_pub_jpeg_connack134.pcap",
    ] {
        let path = dir.join(file);
        let mut ids = BTreeSet::new();
        let mut codes = Vec::new();
        for r in fields(
            &path,
            "mqtt.msgtype == 1 || mqtt.msgtype == 2",
            &[
                "mqtt.msgtype",
                "mqtt.clientid",
                "mqtt.conack.val",
                "mqtt.connack.reason_code",
            ],
        ) {
            match r[0].as_str() {
                "1" => {
                    ids.insert(r[1].clone());
                }
                // MQTT 5 calls it a reason code.
                _ => codes.push(format!("{}{}", r[2], r[3]).parse::<u8>().unwrap()),
            }
        }
        let report = analyze(&[path]);
        let sessions: Vec<_> = report.devices.iter().flat_map(|d| d.mqtt.iter()).collect();
        let our_ids: BTreeSet<String> = sessions.iter().map(|s| s.client_id.clone()).collect();
        let mut our_codes: Vec<u8> = sessions.iter().filter_map(|s| s.connack_code).collect();
        codes.sort_unstable();
        our_codes.sort_unstable();
        assert_eq!(our_ids, ids, "{file}: client ids");
        assert_eq!(our_codes, codes, "{file}: CONNACK codes");
    }
}

#[test]
fn dhcp_hostnames_and_message_types_agree_with_tshark() {
    let dir = shared_captures();
    let names = [
        "", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM",
    ];
    for file in [
        "zeek__dhcp.pcap",
        "tcpdump__dhcp-rfc3004.pcap",
        "iotsentinel__TP-LinkPlugHS100_Setup-C-2-STA.pcap",
        "zeek__dhcp-unique-xid-join-data-growth.pcapng",
        "tjoconnor__schlage-lock-01.pcap",
        "ndpi__capwap.pcap",
    ] {
        let path = dir.join(file);
        let mut types: BTreeMap<String, u32> = BTreeMap::new();
        let mut hostnames = BTreeSet::new();
        for r in fields(&path, "dhcp", &["dhcp.option.dhcp", "dhcp.option.hostname"]) {
            let t: usize = r[0].parse().unwrap();
            *types.entry(names[t].to_string()).or_default() += 1;
            if !r[1].is_empty() {
                hostnames.insert(r[1].clone());
            }
        }
        let report = analyze(&[path]);
        let mut our_types: BTreeMap<String, u32> = BTreeMap::new();
        let mut our_hosts = BTreeSet::new();
        for d in report.devices.iter().filter_map(|d| d.dhcp.as_ref()) {
            for (k, v) in &d.messages {
                *our_types.entry(k.to_string()).or_default() += v;
            }
            our_hosts.extend(d.hostname.clone());
        }
        assert_eq!(our_types, types, "{file}: message types");
        assert_eq!(our_hosts, hostnames, "{file}: hostnames");
    }
}

#[test]
fn ntp_modes_and_strata_agree_with_tshark() {
    let dir = shared_captures();
    let mode_names = [
        "reserved",
        "symmetric active",
        "symmetric passive",
        "client",
        "server",
        "broadcast",
    ];
    for file in [
        "zeek__ntp-ntp.pcap",
        "tcpdump__ntp.pcap",
        "zeek__NTP-digest.pcap",
        "iotsentinel__EdimaxPlug1101W_Setup-A-1-STA.pcap",
        "iotsentinel__TP-LinkPlugHS100_Setup-C-2-STA.pcap",
    ] {
        let path = dir.join(file);
        let mut modes: BTreeMap<String, u32> = BTreeMap::new();
        let mut strata = BTreeSet::new();
        for r in fields(&path, "ntp", &["ntp.flags.mode", "ntp.stratum"]) {
            let m: usize = r[0].parse().unwrap();
            *modes.entry(mode_names[m].to_string()).or_default() += 1;
            if m == 4 {
                strata.insert(r[1].parse::<u8>().unwrap());
            }
        }
        let report = analyze(&[path]);
        let mut our_modes: BTreeMap<String, u32> = BTreeMap::new();
        let mut our_strata = BTreeSet::new();
        for s in report.devices.iter().flat_map(|d| d.ntp.values()) {
            for (k, v) in &s.modes {
                *our_modes.entry(k.to_string()).or_default() += v;
            }
            our_strata.extend(s.strata.iter().copied());
        }
        assert_eq!(our_modes, modes, "{file}: modes");
        assert_eq!(our_strata, strata, "{file}: strata of replies");
    }
    // The kiss-of-death and the unsynchronized reply in tcpdump's trace.
    let report = analyze(&[dir.join("tcpdump__ntp.pcap")]);
    let s = report
        .devices
        .iter()
        .flat_map(|d| d.ntp.values())
        .next()
        .unwrap();
    assert_eq!(s.kiss_codes, ["STEP"]);
    assert_eq!(s.unsynchronized_replies, 1);
}

#[test]
fn wifi_channels_agree_with_tshark() {
    let dir = shared_captures();
    for file in [
        "aircrack__test1.pcap",
        "aircrack__wps2.0.pcap",
        "tcpdump__ieee802.11_meshid.pcap",
    ] {
        let path = dir.join(file);
        let mut theirs = BTreeMap::new();
        for r in fields(
            &path,
            "wlan.fc.type_subtype == 8 || wlan.fc.type_subtype == 5",
            &[
                "wlan.bssid",
                "wlan.ds.current_channel",
                "wlan_radio.channel",
            ],
        ) {
            // The DS parameter set's channel, else the radio's.
            let ch = if r[1].is_empty() { &r[2] } else { &r[1] };
            theirs.insert(r[0].clone(), ch.parse::<u16>().unwrap());
        }
        let report = analyze(&[path]);
        let ours: BTreeMap<String, u16> = report
            .devices
            .iter()
            .filter_map(|d| d.wifi.as_ref())
            .filter(|w| w.access_point)
            .map(|w| (w.bssid.clone().unwrap(), w.channel.unwrap()))
            .collect();
        assert_eq!(ours, theirs, "{file}: channel per BSSID");
    }
}

#[test]
fn dns_to_internet_resolvers_is_flagged_as_bypass() {
    let dir = shared_captures();
    for (file, server) in [
        ("suricata-verify__dns-rcode.pcap", "8.8.4.4"),
        (
            "suricata-verify__dns-udp-google.com-a-aaaa-mx.pcap",
            "8.8.8.8",
        ),
    ] {
        let report = analyze(&[dir.join(file)]);
        let flagged: Vec<_> = report
            .devices
            .iter()
            .flat_map(|d| d.dns_bypass.iter())
            .collect();
        assert_eq!(flagged.len(), 1, "{file}");
        assert_eq!(flagged[0].how, "public_resolver");
        assert_eq!(flagged[0].server.to_string(), server);
        assert!(flagged[0].well_known);
    }
    // A device using the site's resolver is not flagged.
    let report = analyze(&[dir.join("iotsentinel__EdimaxPlug1101W_Setup-A-1-STA.pcap")]);
    assert!(report.devices.iter().all(|d| d.dns_bypass.is_empty()));
}

/// The access point's CAPWAP conversation: discovery broadcasts in the
/// clear, then DTLS-secured control and the data channel to its controller.
#[test]
fn capwap_controller_is_recorded_on_the_access_point() {
    let report = analyze(&[shared_captures().join("ndpi__capwap.pcap")]);
    let ap = report
        .devices
        .iter()
        .find(|d| !d.capwap.is_empty())
        .expect("a device speaking CAPWAP");
    assert_eq!(
        ap.ips,
        ["192.168.10.10".parse::<std::net::IpAddr>().unwrap()]
    );
    let by_peer: BTreeMap<(String, u16), (u32, u32, u32)> = ap
        .capwap
        .iter()
        .map(|c| {
            let control: u32 = c.control.values().sum();
            ((c.peer.0.to_string(), c.port), (control, c.dtls, c.data))
        })
        .collect();
    // tshark: 4 clear discovery requests to the broadcast address; with the
    // controller on 5246, 2 clear Discovery Responses (frames 21, 23) and
    // 215 DTLS datagrams both ways; 173 data packets on 5247.
    assert_eq!(by_peer[&("255.255.255.255".to_string(), 5246)], (4, 0, 0));
    assert_eq!(by_peer[&("192.168.10.9".to_string(), 5246)], (2, 215, 0));
    assert_eq!(by_peer[&("192.168.10.9".to_string(), 5247)], (0, 0, 173));
}

/// Every DNS response a device received, tallied by name and rcode, equals
/// tshark's tally on every capture (DNS on port 53; mDNS has no rcodes worth
/// tallying, and a response quoted inside an ICMP error was never received).
#[test]
fn dns_rcodes_per_name_agree_with_tshark() {
    let dir = shared_captures();
    let rcode_names = [
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
    ];
    for row in manifest() {
        let path = dir.join(&row.file);
        let mut theirs: BTreeMap<(String, String), u32> = BTreeMap::new();
        for r in fields(
            &path,
            "dns.flags.response == 1 && (udp.port == 53 || tcp.port == 53) && !icmp && !icmpv6",
            &["dns.qry.name", "dns.flags.rcode"],
        ) {
            let name = r[0].split(',').next().unwrap_or("").to_ascii_lowercase();
            let code: usize = r[1].parse().unwrap();
            *theirs
                .entry((name, rcode_names[code].to_string()))
                .or_default() += 1;
        }
        let report = analyze(&[path]);
        let mut ours: BTreeMap<(String, String), u32> = BTreeMap::new();
        for d in &report.devices {
            for (name, q) in &d.dns {
                for (code, n) in q.rcodes.iter() {
                    *ours.entry((name.clone(), code.to_string())).or_default() += n;
                }
            }
        }
        assert_eq!(ours, theirs, "{}: responses by name and rcode", row.file);
    }
}

/// The smart lock's cloud name: 209 queries; 17 answered within the
/// timeout; 192 not, all of them answered some 160 s later when the
/// resolver's upstream came back (a burst of 154 SERVFAIL and NOERRORs).
/// Duplicate responses (malformed_dns) tally as responses but answer no
/// query twice.
#[test]
fn dns_transactions_in_time_late_and_duplicate() {
    let dir = shared_captures();
    let report = analyze(&[dir.join("tjoconnor__schlage-lock-01.pcap")]);
    let q = report
        .devices
        .iter()
        .find_map(|d| d.dns.get("a30hje92j76kem.iot.us-west-2.amazonaws.com"))
        .unwrap();
    assert_eq!(
        (q.queries, q.answered, q.unanswered, q.late),
        (209, 17, 192, 192)
    );
    let report = analyze(&[dir.join("ndpi__malformed_dns.pcap")]);
    let q = report
        .devices
        .iter()
        .find_map(|d| d.dns.get("www.xt.com"))
        .unwrap();
    assert_eq!((q.queries, q.answered, q.unanswered), (2, 2, 0));
    assert_eq!(q.rcodes.get("NOERROR"), Some(4));
}
