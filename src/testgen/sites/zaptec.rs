//! Zaptec ZapCharger Pro (seed 000, Swedish): outbound TCP 8883 to
//! zapcloud.azure-devices.net (MQTT over TLS), TCP 443 to the firmware hosts, UDP 123 to
//! no.pool.ntp.org (the charger has no real-time clock), DNS, DHCP, WiFi channels 1 to 11.
//!
//! The site: the charger on WiFi ("Site-IoT", WPA2) and a MacBook on the same LAN that
//! browses, including the Zaptec web site and the portal's API (it is not a charger). The
//! wired captures are the AP uplink's mirror; the WiFi captures are a monitor-mode view of
//! the same minutes; the one-way capture keeps only what the charger sends.

use super::*;

/// ZapCharger Pro (Zaptec MA-M block 3C:DC:03:1), on WiFi.
const CHARGER: Ep = Ep::new([0x3c, 0xdc, 0x03, 0x1a, 0xbc, 0x01], [192, 168, 50, 21], 64);

/// A MacBook (Apple OUI) browsing on the charger's site.
const MACBOOK: Ep = Ep::new([0x8c, 0x85, 0x90, 0x21, 0x7e, 0x4a], [192, 168, 50, 34], 64);

/// The WiFi access point of the charger's site (Ubiquiti OUI) and a neighbour's (TP-Link).
const AP: Mac = [0x24, 0x5a, 0x4c, 0x6b, 0x10, 0x01];
const NEIGHBOUR_AP: Mac = [0xb0, 0xbe, 0x76, 0x33, 0x44, 0x55];

// Public servers.
const ZAPCLOUD: [u8; 4] = [203, 0, 113, 80];
const ZAPTEC_API: [u8; 4] = [198, 51, 100, 44];
const NO_POOL: [[u8; 4]; 3] = [[192, 0, 2, 123], [192, 0, 2, 124], [192, 0, 2, 125]];

/// The charger's firmware was built on 2025-06-12; with no real-time clock it counts from
/// there until NTP answers.
const CHARGER_BOOT_CLOCK: u64 = 1_749_686_400 * NS;
const ZAPCLOUD_NAME: &str = "zapcloud.azure-devices.net";
const ZAPCLOUD_CNAME: &str = "ihsu-prod-ams-011.cloudapp.net";
const ZAPTEC_API_CNAME: &str = "waws-prod-am2-541.sip.azurewebsites.windows.net";

/// What goes wrong for the charger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ChargerFaults {
    /// TCP 8883 SYNs are dropped.
    mqtt_dropped: bool,
    /// NTP requests are dropped.
    ntp_dropped: bool,
}

fn charger_dhcp() -> DhcpClient<'static> {
    DhcpClient {
        dev: CHARGER,
        xid: 0x5a7e_c001,
        hostname: "ZAP051234",
        vendor_class: Some("udhcp 1.31.1"),
        params: &[1, 3, 6, 12, 15, 28, 42],
    }
}

/// The ZapCharger Pro: boots, gets a lease, sets its clock, connects to ZapCloud over MQTT
/// and TLS and checks for firmware over HTTPS.
fn charger(site: &mut Site, f: ChargerFaults) {
    site.dora(at(1_000), &charger_dhcp(), &lease24(None));
    site.announce(at(1_020), CHARGER);
    site.arp(at(1_030), CHARGER, GW);

    // NTP first: without a clock the cloud will not authenticate it.
    let pool = answers("no.pool.ntp.org", None, &NO_POOL);
    site.dns(at(1_200), CHARGER, "no.pool.ntp.org", 0, &pool);
    let ntp = site.remote(NO_POOL[0]);
    if f.ntp_dropped {
        // busybox ntpd backs off: 2, 4, 8, 16, 32 s; never answered.
        for (i, ms) in [1_250u64, 3_250, 7_250, 15_250, 31_250, 63_250]
            .into_iter()
            .enumerate()
        {
            let clock = CHARGER_BOOT_CLOCK + ms * MS + i as u64 * 7 * US;
            site.ntp(at(ms), CHARGER, 123, ntp, clock, NtpAnswer::Silent);
        }
    } else {
        let refid = [192, 0, 2, 1];
        let boot = CHARGER_BOOT_CLOCK + 1_250 * MS;
        site.ntp(at(1_250), CHARGER, 123, ntp, boot, NtpAnswer::Synced(refid));
        site.ntp(
            at(65_250),
            CHARGER,
            123,
            ntp,
            at(65_250),
            NtpAnswer::Synced(refid),
        );
    }

    // MQTT over TLS to the Azure IoT Hub.
    let hub = answers(ZAPCLOUD_NAME, Some(ZAPCLOUD_CNAME), &[ZAPCLOUD]);
    site.dns(at(2_000), CHARGER, ZAPCLOUD_NAME, 0, &hub);
    if f.mqtt_dropped {
        site.out(CHARGER, ZAPCLOUD, 8883, at(2_030), 0)
            .syn_unanswered();
        site.dns(at(39_950), CHARGER, ZAPCLOUD_NAME, 0, &hub);
        site.out(CHARGER, ZAPCLOUD, 8883, at(40_000), 0)
            .syn_unanswered();
    } else {
        let mut s = site.out(CHARGER, ZAPCLOUD, 8883, at(2_030), 31 * MS);
        s.open();
        tls13(&mut s, ZAPCLOUD_NAME, &[], 0x2a01, 980);
        // CONNECT with a SAS token, CONNACK; SUBSCRIBE, SUBACK; the first status.
        tls_ask(&mut s, 412, 34, 0x2a02);
        tls_ask(&mut s, 118, 39, 0x2a03);
        s.wait(5 * MS).push_up(&tls_app_data(0x2a04, 356));
        for (i, sec) in [20u64, 40, 60, 80].into_iter().enumerate() {
            s.at(at(sec * 1_000 + 7));
            tls_ask(&mut s, 301, 38, 0x2a10 + i as u32);
            if sec == 40 {
                // A command from the cloud (start charging) and its acknowledgement.
                s.at(at(50_420)).push_down(&tls_app_data(0x2a20, 214));
                s.wait(3 * MS).push_up(&tls_app_data(0x2a21, 97));
            }
        }
    }

    // Firmware check over HTTPS.
    let api = answers("api.zaptec.com", Some(ZAPTEC_API_CNAME), &[ZAPTEC_API]);
    site.dns(at(6_000), CHARGER, "api.zaptec.com", 0, &api);
    let mut s = site.out(CHARGER, ZAPTEC_API, 443, at(6_020), 36 * MS);
    s.open();
    tls13(&mut s, "api.zaptec.com", &[], 0x2a30, 980);
    tls_ask(&mut s, 262, 880, 0x2a31);
    s.wait(2 * MS).close();
}

/// The sites a laptop user visits: (ms after T0, name, CNAME, address).
const BROWSING: &[(u64, &str, Option<&str>, [u8; 4])] = &[
    (4_000, "www.google.com", None, [198, 51, 100, 101]),
    (9_000, "github.com", None, [198, 51, 100, 103]),
    (
        15_000,
        "www.zaptec.com",
        Some("proxy-ssl.webflow.com"),
        [198, 51, 100, 102],
    ),
    (16_500, "api.zaptec.com", Some(ZAPTEC_API_CNAME), ZAPTEC_API),
    (
        24_000,
        "www.wikipedia.org",
        Some("dyna.wikimedia.org"),
        [198, 51, 100, 104],
    ),
    (
        31_000,
        "outlook.office365.com",
        Some("outlook.ha.office365.com"),
        [198, 51, 100, 105],
    ),
    (
        38_000,
        "www.youtube.com",
        Some("youtube-ui.l.google.com"),
        [198, 51, 100, 106],
    ),
    (45_000, "slack.com", None, [198, 51, 100, 109]),
    (52_000, "www.nrk.no", None, [198, 51, 100, 108]),
    (60_000, "news.ycombinator.com", None, [198, 51, 100, 107]),
    (
        68_000,
        "www.apple.com",
        Some("www.apple.com.edgekey.net"),
        [198, 51, 100, 110],
    ),
];

/// The MacBook on the charger's site: renews its lease and browses, including the Zaptec
/// web site and the portal's API.
fn macbook(site: &mut Site) {
    let c = DhcpClient {
        dev: MACBOOK,
        xid: 0x6b1e_77a0,
        hostname: "MacBook-Pro",
        vendor_class: None,
        params: &[1, 121, 3, 6, 15, 108, 114, 119, 252, 95, 44, 46],
    };
    site.reboot(at(300), &c, &lease24(None));
    for &(ms, name, via, ip) in BROWSING {
        browse(site, MACBOOK, at(ms), name, via, ip);
    }
    site.arp(at(88_500), GW, MACBOOK);
}

/// The wired capture of the charger's site (the AP's uplink port mirrored).
pub(super) fn wired(broken: bool) -> Trace {
    let mut site = Site::new(GW, 41_000);
    charger(
        &mut site,
        ChargerFaults {
            mqtt_dropped: broken,
            ntp_dropped: broken,
        },
    );
    macbook(&mut site);
    site.arp(at(89_000), GW, CHARGER);
    site.frames()
}

/// A one-way mirror of the charger's port: the frames it sends and nothing sent to it.
/// Underneath, 8883 is dropped (the charger retries its SYNs) while NTP, DNS, DHCP and
/// HTTPS work, which the capture can only show through what the charger does next.
pub(super) fn oneway() -> Vec<u8> {
    let mut site = Site::new(GW, 43_000);
    charger(
        &mut site,
        ChargerFaults {
            mqtt_dropped: true,
            ntp_dropped: false,
        },
    );
    site.arp(at(89_000), GW, CHARGER);
    let tr: Trace = site
        .frames()
        .into_iter()
        .filter(|(_, f)| f[6..12] == CHARGER.mac)
        .collect();
    pcap(&tr)
}

/// A monitor-mode capture of the charger's site on `channel`: beacons of "Site-IoT"
/// (WPA2) and of a neighbour's network, the charger's authentication, association and
/// 4-way handshake, then its traffic of the wired capture's first seconds as protected
/// data frames.
pub(super) fn wifi(channel: u8, wired: &Trace) -> Vec<u8> {
    let freq = channel_freq(channel);
    let neighbour_channel = if channel == 6 { 1 } else { 6 };
    let nfreq = channel_freq(neighbour_channel);
    let mut tr: Trace = Vec::new();
    let mut put = |t: u64, freq: u16, rate: u8, signal: i8, frame: Vec<u8>| {
        let mut f = radiotap(freq, rate, signal);
        f.extend_from_slice(&frame);
        tr.push((t, f));
    };
    let tu = 1024 * US;
    for i in 0..30u16 {
        let t = at(50) + u64::from(i) * 100 * tu;
        let site_beacon = Beacon {
            bssid: AP,
            ssid: "Site-IoT",
            channel,
            rsn: true,
            seq: 1_200 + i,
            tsf_us: 812_000_000_000 + u64::from(i) * 102_400,
        };
        put(t, freq, 2, -47, wifi_beacon(&site_beacon));
        let other = Beacon {
            bssid: NEIGHBOUR_AP,
            ssid: "Granne-WiFi",
            channel: neighbour_channel,
            rsn: true,
            seq: 3_500 + i,
            tsf_us: 95_000_000_000 + u64::from(i) * 102_400,
        };
        put(t + 41 * MS, nfreq, 2, -81, wifi_beacon(&other));
    }
    // Authentication, association, 4-way handshake.
    let t = at(420);
    put(t, freq, 2, -62, wifi_auth(AP, CHARGER.mac, AP, 1, 7));
    put(
        t + MS,
        freq,
        2,
        -47,
        wifi_auth(CHARGER.mac, AP, AP, 2, 1_801),
    );
    let mut req = wifi_assoc_request(AP, CHARGER.mac, "Site-IoT", 8);
    req.extend_from_slice(&wifi_rsn_element());
    put(t + 3 * MS, freq, 2, -62, req);
    put(
        t + 5 * MS,
        freq,
        2,
        -47,
        wifi_assoc_response(AP, CHARGER.mac, 3, 1_802),
    );
    let anonce = bytes32(0xa0a0);
    let snonce = bytes32(0x5a5a);
    for (i, (msg, nonce)) in [(1u8, anonce), (2, snonce), (3, anonce), (4, snonce)]
        .into_iter()
        .enumerate()
    {
        let replay = if msg < 3 { 1 } else { 2 };
        let from_sta = msg % 2 == 0;
        let (dst, src) = if from_sta {
            (AP, CHARGER.mac)
        } else {
            (CHARGER.mac, AP)
        };
        let eth = ethernet(
            dst,
            src,
            Vlan::Untagged,
            ethertype::EAPOL,
            &eapol_key(msg, replay, nonce, 0xe0 + u32::from(msg)),
        );
        let seq = if from_sta {
            9 + i as u16
        } else {
            1_803 + i as u16
        };
        let (rate, signal) = if from_sta { (12, -62) } else { (12, -47) };
        put(
            t + 10 * MS + i as u64 * 2 * MS,
            freq,
            rate,
            signal,
            eth_to_wifi_data(&eth, AP, from_sta, seq),
        );
    }
    // The charger's first seconds on the network, encrypted.
    let (mut sta_seq, mut ap_seq, mut sta_pn, mut ap_pn) = (20u16, 1_900u16, 1u64, 1u64);
    for (ts, f) in wired.iter().filter(|(ts, _)| *ts <= at(3_000)) {
        let src = &f[6..12];
        let dst = &f[0..6];
        if src == CHARGER.mac {
            put(
                *ts,
                freq,
                130,
                -62,
                eth_to_wifi_protected(f, AP, true, sta_seq, sta_pn),
            );
            sta_seq += 1;
            sta_pn += 1;
        } else if dst == CHARGER.mac {
            put(
                *ts,
                freq,
                130,
                -47,
                eth_to_wifi_protected(f, AP, false, ap_seq, ap_pn),
            );
            ap_seq += 1;
            ap_pn += 1;
        }
    }
    tr.sort_by_key(|(t, _)| *t);
    let mut w = PcapWriter::new(
        Endian::Little,
        TsResolution::Micro,
        65535,
        linktype::IEEE802_11_RADIOTAP,
    );
    for (t, f) in &tr {
        w.push(*t, f);
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;

    #[test]
    fn zaptec_healthy_and_broken() {
        let ok = get("site-zaptec-healthy.pcap");
        let p = pkts(&ok);
        assert!(p.iter().any(|x| x.tcp && x.sport == 8883 && x.syn && x.ack));
        let replies = p
            .iter()
            .filter(|x| x.udp && x.src == NO_POOL[0] && x.sport == 123);
        assert_eq!(replies.count(), 2);

        let bad = get("site-zaptec-broken.pcap");
        let p = pkts(&bad);
        let end = p.last().unwrap().ts;
        assert_eq!(from_port(&p, 8883), 0, "nothing ever comes back from 8883");
        let syns: Vec<&Pkt<'_>> = p.iter().filter(|x| x.tcp && x.dport == 8883).collect();
        assert_eq!(syns.len(), 8);
        for attempt in syns.chunks(4) {
            assert!(attempt.iter().all(|x| x.syn && x.seq == attempt[0].seq));
            assert!(attempt.iter().all(|x| x.sport == attempt[0].sport));
            let gaps: Vec<u64> = attempt
                .windows(2)
                .map(|w| (w[1].ts - w[0].ts) / NS)
                .collect();
            assert_eq!(gaps, [1, 2, 4]);
            assert!(end - attempt[3].ts > 5 * NS);
        }
        let ntp: Vec<&Pkt<'_>> = p.iter().filter(|x| x.udp && x.dport == 123).collect();
        assert!(ntp.len() >= 5);
        assert!(!p.iter().any(|x| x.udp && x.src == NO_POOL[0]));
        assert!(end - ntp[ntp.len() - 1].ts > 5 * NS);
        assert!(p.iter().any(|x| x.tcp && x.sport == 443 && x.syn && x.ack));

        let one = get("site-zaptec-oneway.pcap");
        let p = pkts(&one);
        assert!(p.iter().all(|x| x.src_mac == CHARGER.mac));
        assert_eq!(
            p.iter()
                .filter(|x| x.tcp && x.dport == 8883 && x.syn)
                .count(),
            8
        );
    }

    /// The 802.11 frames: radiotap with the channel's frequency; Site-IoT's beacons carry
    /// the channel; the charger authenticates and associates to its BSSID.
    #[test]
    fn wifi_captures_show_the_charger_on_its_channel() {
        for (name, channel) in [(WIFI[0], 6u8), (WIFI[1], 13)] {
            let b = get(name);
            assert_eq!(u32::from_le_bytes([b[20], b[21], b[22], b[23]]), 127);
            let mut site_beacons = 0;
            let mut assoc = false;
            let mut protected_from_charger = 0;
            for (_, f) in records(&b) {
                assert_eq!(u16::from_le_bytes([f[2], f[3]]), 15);
                let freq = u16::from_le_bytes([f[10], f[11]]);
                let d = &f[15..];
                match d[0] {
                    0x80 if d[16..22] == AP => {
                        site_beacons += 1;
                        assert_eq!(freq, channel_freq(channel));
                        // SSID then rates then DS parameter set.
                        let ies = &d[36..];
                        assert_eq!(&ies[2..2 + usize::from(ies[1])], b"Site-IoT");
                        let ds =
                            2 + usize::from(ies[1]) + 2 + usize::from(ies[3 + ies[1] as usize]);
                        assert_eq!(&ies[ds..ds + 3], &[3, 1, channel]);
                    }
                    0x00 => {
                        assoc = d[10..16] == CHARGER.mac && d[4..10] == AP;
                    }
                    0x88 if d[1] & 0x40 != 0 && d[10..16] == CHARGER.mac => {
                        protected_from_charger += 1;
                        assert_eq!(freq, channel_freq(channel));
                    }
                    _ => {}
                }
            }
            assert!(
                site_beacons >= 20 && assoc && protected_from_charger >= 5,
                "{name}"
            );
        }
    }
}
