//! Energy Bytes CEMM (seed 001, Dutch): DHCP only, NTP from the server DHCP offers, outbound
//! TCP 443 to cemm.energybytes.nl, cemm-updates.energybytes.nl and
//! cemm-notifications.energybytes.nl, the local UI on TCP 80 and 8090 (WebSocket) from the
//! LAN, and no exposure to the internet.

use super::*;

/// Energy Bytes CEMM (Microchip OUI of its Ethernet controller).
const CEMM: Ep = Ep::new([0x00, 0x1e, 0xc0, 0x4a, 0x11, 0x22], [192, 168, 50, 60], 64);

/// The CEMM with the address someone typed in.
const CEMM_STATIC: Ep = CEMM.with_ip([192, 168, 50, 77]);

/// A Windows laptop on the CEMM's LAN (Lenovo/LCFC OUI) opening its local UI.
const UI_LAPTOP: Ep = Ep::new(
    [0x98, 0xfa, 0x9b, 0x3d, 0x52, 0xe0],
    [192, 168, 50, 30],
    128,
);

/// An HP printer that gets its address by DHCP on the CEMM's broken site.
const PRINTER: Ep = Ep::new(
    [0x3c, 0x52, 0x82, 0x6e, 0x1f, 0x09],
    [192, 168, 50, 112],
    64,
);

const CEMM_CLOUD: [u8; 4] = [203, 0, 113, 61];
const CEMM_UPDATES: [u8; 4] = [203, 0, 113, 62];
const CEMM_NOTIFY: [u8; 4] = [203, 0, 113, 63];
const POOL_NL: [[u8; 4]; 2] = [[192, 0, 2, 51], [192, 0, 2, 52]];

/// The internet host that reaches the CEMM through the port forward.
const SCANNER: [u8; 4] = [198, 51, 100, 23];

/// The site's public (WAN) address, as the scanner typed it.
const SITE_WAN: &str = "192.0.2.200";
const CEMM_UA: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
Chrome/133.0.0.0 Safari/537.36 Edg/133.0.0.0";

/// The CEMM's own web page, small.
const CEMM_INDEX: &str = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>CEMM</title>\
<link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><div id=\"app\">CEMM-3F2A1B</div>\
<script src=\"/static/app.js\"></script></body></html>";

fn cemm_dhcp() -> DhcpClient<'static> {
    DhcpClient {
        dev: CEMM,
        xid: 0x1c3f_2a1b,
        hostname: "CEMM-3F2A1B",
        vendor_class: None,
        params: &[1, 3, 6, 12, 15, 28, 42, 51, 54, 58, 59],
    }
}

/// The CEMM's long-lived HTTPS WebSocket to cemm.energybytes.nl: readings every 10 s.
fn cemm_cloud(site: &mut Site, dev: Ep, t: u64) {
    site.dns(
        t,
        dev,
        "cemm.energybytes.nl",
        0,
        &answers("cemm.energybytes.nl", None, &[CEMM_CLOUD]),
    );
    let mut s = site.out(dev, CEMM_CLOUD, 443, t + 20 * MS, 14 * MS);
    s.open();
    tls13(&mut s, "cemm.energybytes.nl", &["http/1.1"], 0xce01, 1_240);
    // The WebSocket upgrade (GET with Upgrade: websocket, 101 Switching Protocols).
    tls_ask(&mut s, 331, 187, 0xce02);
    for i in 0..8u64 {
        s.at(t + (10 + 10 * i) * NS);
        s.push_up(&tls_app_data(0xce10 + i as u32, 164));
        if i == 3 {
            // A tariff update from the cloud.
            s.at(t + 45_300 * MS).push_down(&tls_app_data(0xce20, 92));
        }
    }
}

/// The LAN laptop opens the CEMM's local web UI: the page on port 80, then the live data
/// WebSocket on port 8090.
fn cemm_local_ui(site: &mut Site, t: u64) {
    site.arp(t, UI_LAPTOP, CEMM);
    let host = "192.168.50.60";
    let c = Conv::new(UI_LAPTOP, CEMM, 50_712, 80);
    let mut s = site.conv(c, t + 2 * MS, 400 * US);
    s.open();
    let get = http_request(
        "GET",
        "/",
        &[
            ("Host", host),
            ("Connection", "keep-alive"),
            ("User-Agent", CEMM_UA),
            ("Accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
            ("Accept-Language", "nl-NL,nl;q=0.9"),
        ],
        b"",
    );
    let page = http_reply(
        200,
        "OK",
        &[("Content-Type", "text/html; charset=utf-8")],
        CEMM_INDEX.as_bytes(),
    );
    s.ask(&get, &page);
    // The CEMM closes the idle keep-alive connection after 5 s.
    s.wait(5 * NS).close_by_server();

    let key = "q4xkcO32u266gldTuKaSOw==";
    let c = Conv::new(UI_LAPTOP, CEMM, 50_714, 8090);
    let mut s = site.conv(c, t + 310 * MS, 450 * US);
    s.open();
    let upgrade = http_request(
        "GET",
        "/ws",
        &[
            ("Host", "192.168.50.60:8090"),
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Origin", "http://192.168.50.60"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", key),
            ("User-Agent", CEMM_UA),
        ],
        b"",
    );
    let accept = websocket_accept(key);
    let switched = http_reply(
        101,
        "Switching Protocols",
        &[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", &accept),
        ],
        b"",
    );
    s.ask(&upgrade, &switched);
    let sub = websocket_frame(
        1,
        Some([0x1f, 0x4e, 0x9a, 0x03]),
        br#"{"subscribe":"live"}"#,
    );
    s.wait(2 * MS).push_up(&sub);
    for i in 0..10u32 {
        s.at(t + 310 * MS + u64::from(i + 1) * NS);
        let msg = format!(
            r#"{{"t":{},"p_grid_w":{},"p_pv_w":{},"soc":61}}"#,
            1_772_438_420 + u64::from(i),
            1_840 - 37 * i,
            2_310 + 11 * i
        );
        s.push_down(&websocket_frame(1, None, msg.as_bytes()));
    }
    // The user closes the tab: a WebSocket close, then TCP.
    s.at(t + 25 * NS);
    let bye = websocket_frame(8, Some([0x77, 0x01, 0xc3, 0x5d]), &1001u16.to_be_bytes());
    s.push_up(&bye);
    s.wait(MS)
        .push_down(&websocket_frame(8, None, &1001u16.to_be_bytes()));
    s.wait(MS).close_by_server();
}

/// CEMM healthy: DHCP lease with NTP server, NTP from it, the three cloud names over HTTPS,
/// the local UI from the LAN.
pub(super) fn healthy() -> Vec<u8> {
    let mut site = Site::new(GW, 52_000);
    site.dora(at(500), &cemm_dhcp(), &lease24(Some(GW.ip)));
    site.announce(at(520), CEMM);
    site.arp(at(530), CEMM, GW);
    let refid = [192, 0, 2, 123]; // the router's own upstream
    site.ntp(
        at(1_000),
        CEMM,
        41_877,
        GW,
        at(1_000) + 2_417 * MS,
        NtpAnswer::Synced(refid),
    );
    site.ntp(
        at(65_000),
        CEMM,
        41_877,
        GW,
        at(65_000),
        NtpAnswer::Synced(refid),
    );
    cemm_cloud(&mut site, CEMM, at(2_000));

    let name = "cemm-updates.energybytes.nl";
    site.dns(
        at(3_000),
        CEMM,
        name,
        0,
        &answers(name, None, &[CEMM_UPDATES]),
    );
    let mut s = site.out(CEMM, CEMM_UPDATES, 443, at(3_020), 15 * MS);
    s.open();
    tls13(&mut s, name, &["http/1.1"], 0xce31, 1_240);
    tls_ask(&mut s, 244, 563, 0xce32);
    s.close();

    let name = "cemm-notifications.energybytes.nl";
    site.dns(
        at(4_000),
        CEMM,
        name,
        0,
        &answers(name, None, &[CEMM_NOTIFY]),
    );
    let mut s = site.out(CEMM, CEMM_NOTIFY, 443, at(4_020), 15 * MS);
    s.open();
    tls13(&mut s, name, &["http/1.1"], 0xce41, 1_240);
    tls_ask(&mut s, 302, 171, 0xce42);
    for sec in [34u64, 64] {
        s.at(at(sec * 1_000));
        tls_ask(&mut s, 28, 28, 0xce43 + sec as u32);
    }

    cemm_local_ui(&mut site, at(20_000));
    site.arp(at(89_000), GW, CEMM);
    pcap(&site.frames())
}

/// CEMM broken: a static address and no DHCP (while a printer gets its lease), SERVFAIL for
/// cemm-updates, RST from cemm-notifications:443, and its port 80 reached from the
/// internet through a port forward.
pub(super) fn broken() -> Vec<u8> {
    let mut site = Site::new(GW, 52_400);
    let printer = DhcpClient {
        dev: PRINTER,
        xid: 0x0e1f_0901,
        hostname: "HP6E1F09",
        vendor_class: None,
        params: &[1, 3, 6, 15, 44, 46, 47, 12, 81, 42],
    };
    site.dora(at(200), &printer, &lease24(None));
    site.announce(at(220), PRINTER);

    let dev = CEMM_STATIC;
    site.announce(at(500), dev);
    site.announce(at(1_500), dev);
    site.arp(at(600), dev, GW);
    cemm_cloud(&mut site, dev, at(1_000));

    let name = "cemm-updates.energybytes.nl";
    site.dns_delayed(at(2_000), 820 * MS, dev, name, 2, &[]);
    site.dns_delayed(at(7_000), 815 * MS, dev, name, 2, &[]);

    let name = "cemm-notifications.energybytes.nl";
    site.dns(
        at(3_000),
        dev,
        name,
        0,
        &answers(name, None, &[CEMM_NOTIFY]),
    );
    site.out(dev, CEMM_NOTIFY, 443, at(3_020), 16 * MS)
        .syn_refused();
    site.out(dev, CEMM_NOTIFY, 443, at(18_020), 16 * MS)
        .syn_refused();

    let name = "0.pool.ntp.org";
    site.dns(at(5_000), dev, name, 0, &answers(name, None, &POOL_NL));
    let ntp = site.remote(POOL_NL[0]);
    let refid = [192, 0, 2, 5];
    site.ntp(
        at(5_030),
        dev,
        41_877,
        ntp,
        at(5_030) + 2_417 * MS,
        NtpAnswer::Synced(refid),
    );
    site.ntp(
        at(69_030),
        dev,
        41_877,
        ntp,
        at(69_030),
        NtpAnswer::Synced(refid),
    );

    // An internet host reaches the UI through a port forward on the router: the frames
    // come from the router's MAC with the public source address kept.
    site.arp(at(29_990), GW, dev);
    let scanner = Ep::new(GW.mac, SCANNER, 49);
    let mut s = site.conv(Conv::new(scanner, dev, 50_122, 80), at(30_000), 170 * US);
    let rtt = 33 * MS;
    s.cs(SYN, b"").rt().ss(SYNACK, b"");
    s.rtt = rtt;
    s.rt().cs(ACK, b"");
    let get = http_request(
        "GET",
        "/",
        &[
            ("Host", SITE_WAN),
            (
                "User-Agent",
                "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)",
            ),
            ("Accept", "*/*"),
            ("Accept-Encoding", "gzip"),
        ],
        b"",
    );
    s.wait(200 * US).cs(PSHACK, &get);
    s.wait(2 * MS);
    let page = http_reply(
        200,
        "OK",
        &[("Content-Type", "text/html; charset=utf-8")],
        CEMM_INDEX.as_bytes(),
    );
    s.ss(PSHACK, &page).rt().cs(FINACK, b"");
    s.wait(300 * US).ss(FINACK, b"").rt().cs(ACK, b"");

    site.arp(at(89_000), dev, GW);
    pcap(&site.frames())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;

    #[test]
    fn cemm_healthy_and_broken() {
        let ok = get("site-cemm-healthy.pcap");
        let p = pkts(&ok);
        let ack = p
            .iter()
            .filter(|x| x.udp && x.sport == 67)
            .map(|x| dhcp(x.payload))
            .find(|d| d.0 == dhcpmsg::ACK)
            .unwrap();
        assert_eq!(ack.1, CEMM.ip);
        assert!(ack.2.contains(&(42, &GW.ip[..])));
        assert_eq!(
            p.iter()
                .filter(|x| x.udp && x.src == GW.ip && x.sport == 123)
                .count(),
            2
        );
        let switched = p
            .iter()
            .find(|x| x.tcp && x.sport == 8090 && x.payload.starts_with(b"HTTP/1.1 101"))
            .unwrap();
        let text = String::from_utf8_lossy(switched.payload);
        assert!(text.contains(&websocket_accept("q4xkcO32u266gldTuKaSOw==")));
        assert!(p
            .iter()
            .any(|x| x.tcp && x.sport == 80 && x.payload.starts_with(b"HTTP/1.1 200")));

        let bad = get("site-cemm-broken.pcap");
        let p = pkts(&bad);
        assert!(!p
            .iter()
            .any(|x| x.udp && x.dport == 67 && x.src_mac == CEMM.mac));
        assert!(p
            .iter()
            .any(|x| x.udp && x.dport == 67 && x.src_mac == PRINTER.mac));
        assert!(p
            .iter()
            .filter(|x| x.src_mac == CEMM.mac && (x.tcp || x.udp))
            .all(|x| x.src == CEMM_STATIC.ip));
        let servfail = p
            .iter()
            .filter(|x| x.udp && x.sport == 53 && x.payload[3] & 0x0f == 2)
            .count();
        assert_eq!(servfail, 2);
        let rst = p
            .iter()
            .filter(|x| x.tcp && x.src == CEMM_NOTIFY && x.rst)
            .count();
        assert_eq!(rst, 2);
        let inbound = p
            .iter()
            .find(|x| x.tcp && x.src == SCANNER && x.syn)
            .unwrap();
        assert_eq!(
            (inbound.src_mac, inbound.dst, inbound.dport),
            (GW.mac, CEMM_STATIC.ip, 80)
        );
        assert!(p
            .iter()
            .any(|x| x.tcp && x.sport == 80 && x.dst == SCANNER && x.syn && x.ack));
        assert!(p.iter().any(|x| x.tcp
            && x.sport == 80
            && x.dst == SCANNER
            && x.payload.starts_with(b"HTTP/1.1 200")));
    }
}
