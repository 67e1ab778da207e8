//! KNX ETS6 (seed 002, German): the engineering PC reaches update.knx.org, api.knx.org and
//! openapi.knx.org on 443 and update.knx.org, api.knx.org and onlinecatalog.knx.org on 80;
//! no deep-inspection firewall. The office's router is a FortiGate; in the broken site it
//! inspects TLS.

use super::*;

/// The KNX office's router: a FortiGate 60F (Fortinet OUI).
const FORTIGATE: Ep = Ep::new([0x00, 0x09, 0x0f, 0x09, 0x2e, 0x01], [192, 168, 50, 1], 64);

/// The KNX engineering PC (Dell OUI), Windows.
const ENG_PC: Ep = Ep::new(
    [0xd8, 0x9e, 0xf3, 0x7a, 0x3b, 0xc4],
    [192, 168, 50, 45],
    128,
);

const KNX_UPDATE: [u8; 4] = [203, 0, 113, 90];
const KNX_API: [u8; 4] = [203, 0, 113, 91];
const KNX_OPENAPI: [u8; 4] = [203, 0, 113, 92];
const KNX_CATALOG: [u8; 4] = [203, 0, 113, 93];
const NCSI: [u8; 4] = [198, 51, 100, 140];
const ETS_UA: &str = "ETS6/6.2.1 (Windows NT 10.0; Win64; x64)";

fn eng_pc_dhcp() -> DhcpClient<'static> {
    DhcpClient {
        dev: ENG_PC,
        xid: 0x7e57_0a11,
        hostname: "ENG-LAPTOP-7",
        vendor_class: Some("MSFT 5.0"),
        params: &[1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252],
    }
}

/// Boot of the engineering PC: lease, gratuitous ARP, and Windows' connectivity probe
/// (plain HTTP to www.msftconnecttest.com).
fn eng_pc_boot(site: &mut Site) {
    site.dora(at(500), &eng_pc_dhcp(), &lease24(None));
    site.announce(at(520), ENG_PC);
    site.arp(at(530), ENG_PC, site.gw);
    let name = "www.msftconnecttest.com";
    site.dns(at(1_000), ENG_PC, name, 0, &answers(name, None, &[NCSI]));
    let mut s = site.out(ENG_PC, NCSI, 80, at(1_015), 19 * MS);
    s.open();
    let get = http_request(
        "GET",
        "/connecttest.txt",
        &[
            ("Connection", "Close"),
            ("User-Agent", "Microsoft NCSI"),
            ("Host", name),
        ],
        b"",
    );
    let ok = http_reply(
        200,
        "OK",
        &[("Content-Type", "text/plain")],
        b"Microsoft Connect Test",
    );
    s.ask(&get, &ok).close_by_server();
}

/// A plain HTTP GET from the engineering PC to `name` (resolved at `t`), answered 200.
fn knx_http(site: &mut Site, t: u64, name: &str, ip: [u8; 4], path: &str, body: &str) {
    site.dns(t, ENG_PC, name, 0, &answers(name, None, &[ip]));
    let mut s = site.out(ENG_PC, ip, 80, t + 12 * MS, 24 * MS);
    s.open();
    let get = http_request(
        "GET",
        path,
        &[
            ("Host", name),
            ("User-Agent", ETS_UA),
            ("Accept", "application/json, application/xml"),
            ("Accept-Encoding", "gzip, deflate"),
        ],
        b"",
    );
    let type_ = if body.starts_with('<') {
        "application/xml; charset=utf-8"
    } else {
        "application/json; charset=utf-8"
    };
    let ok = http_reply(200, "OK", &[("Content-Type", type_)], body.as_bytes());
    s.ask(&get, &ok).close();
}

/// A TLS 1.3 request from the engineering PC to `name`: resolved, asked, closed.
fn knx_https(site: &mut Site, t: u64, name: &str, ip: [u8; 4], up: usize, down: usize) {
    site.dns(t, ENG_PC, name, 0, &answers(name, None, &[ip]));
    let seed = u32::from(ip[3]) << 12 | 0x0e75;
    let mut s = site.out(ENG_PC, ip, 443, t + 12 * MS, 24 * MS);
    s.open();
    tls13(&mut s, name, &["http/1.1"], seed, 640);
    tls_ask(&mut s, up, down, seed ^ 0x33);
    s.close();
}

/// Windows and the user's browsing: (ms after T0, name, CNAME, address).
const OFFICE_BROWSING: &[(u64, &str, Option<&str>, [u8; 4])] = &[
    (
        20_000,
        "www.bing.com",
        Some("www-bing-com.a-0001.a-msedge.net"),
        [198, 51, 100, 150],
    ),
    (
        27_000,
        "outlook.office365.com",
        Some("outlook.ha.office365.com"),
        [198, 51, 100, 105],
    ),
    (
        33_000,
        "teams.microsoft.com",
        Some("teams-office-com.s-0005.s-msedge.net"),
        [198, 51, 100, 151],
    ),
    (40_000, "www.google.com", None, [198, 51, 100, 101]),
    (47_000, "www.knx.org", None, [203, 0, 113, 94]),
    (58_000, "my.knx.org", None, [203, 0, 113, 95]),
];

/// KNX healthy: every service of the ETS6 firewall table answers; Windows and the user
/// reach the usual sites besides.
pub(super) fn healthy() -> Vec<u8> {
    let mut site = Site::new(FORTIGATE, 49_700);
    eng_pc_boot(&mut site);
    knx_https(
        &mut site,
        at(2_000),
        "settings-win.data.microsoft.com",
        [198, 51, 100, 153],
        380,
        820,
    );
    knx_https(
        &mut site,
        at(3_000),
        "login.microsoftonline.com",
        [198, 51, 100, 154],
        640,
        760,
    );
    knx_https(&mut site, at(5_000), "update.knx.org", KNX_UPDATE, 240, 910);
    knx_http(
        &mut site,
        at(6_500),
        "update.knx.org",
        KNX_UPDATE,
        "/ETS6/AdministrativeData/version.xml",
        "<?xml version=\"1.0\"?><AdministrativeData version=\"2026.02\"/>",
    );
    knx_https(&mut site, at(8_000), "api.knx.org", KNX_API, 260, 640);
    knx_http(
        &mut site,
        at(9_000),
        "api.knx.org",
        KNX_API,
        "/ets/apps/latest?lang=de-DE",
        r#"{"apps":[{"id":"knx-ip-secure","version":"2.4.0"}]}"#,
    );
    knx_https(
        &mut site,
        at(11_000),
        "openapi.knx.org",
        KNX_OPENAPI,
        560,
        980,
    );
    knx_http(
        &mut site,
        at(14_000),
        "onlinecatalog.knx.org",
        KNX_CATALOG,
        "/api/catalog/manufacturers?lang=de-DE",
        r#"{"manufacturers":412,"updated":"2026-02-27"}"#,
    );
    for &(ms, name, via, ip) in OFFICE_BROWSING {
        browse(&mut site, ENG_PC, at(ms), name, via, ip);
    }
    site.arp(at(88_000), site.gw, ENG_PC);
    pcap(&site.frames())
}

const FORTINET_CA: &[(&[u32], &str)] = &[
    (oid::C, "US"),
    (oid::O, "Fortinet"),
    (oid::OU, "Certificate Authority"),
    (oid::CN, "FGT60FTK2209XXXX"),
];

/// The chain a FortiGate doing deep inspection shows for update.knx.org: the real site's
/// subject, names and validity, re-signed by the firewall's own CA (leaf, then the CA).
fn fortigate_chain() -> Vec<Vec<u8>> {
    let leaf = x509_certificate(&CertSpec {
        serial: &[
            0x04, 0x9a, 0x1e, 0x7c, 0x52, 0x31, 0xd0, 0x8b, 0x6e, 0x11, 0xfa, 0x3c, 0x90, 0x27,
            0x45, 0xb2,
        ],
        issuer: FORTINET_CA,
        subject: &[(oid::CN, "update.knx.org")],
        not_before: "260115083012Z",
        not_after: "260415083011Z",
        dns_names: &["update.knx.org"],
        ca: false,
        key_seed: 0x4b4e58,
        issuer_key_seed: 0xf0f0,
    });
    let ca = x509_certificate(&CertSpec {
        serial: &[0x1e, 0x83, 0x2d, 0x55],
        issuer: FORTINET_CA,
        subject: FORTINET_CA,
        not_before: "220915120000Z",
        not_after: "320912120000Z",
        dns_names: &[],
        ca: true,
        key_seed: 0xf0f0,
        issuer_key_seed: 0xf0f0,
    });
    vec![leaf, ca]
}

/// KNX broken: a FortiGate inspects TLS. update.knx.org gets its re-signed certificate over
/// TLS 1.2 (the ETS connects anyway: the PC trusts the firewall's CA); openapi.knx.org is
/// refused with a fatal handshake_failure alert, twice; plain HTTP works.
pub(super) fn broken() -> Vec<u8> {
    let mut site = Site::new(FORTIGATE, 49_900);
    eng_pc_boot(&mut site);

    let name = "update.knx.org";
    site.dns(
        at(5_000),
        ENG_PC,
        name,
        0,
        &answers(name, None, &[KNX_UPDATE]),
    );
    // The firewall answers in the server's place, from one hop away.
    let proxy = |ip| Ep::new(FORTIGATE.mac, ip, 64);
    let c = Conv::new(ENG_PC, proxy(KNX_UPDATE), site.port(), 443);
    let mut s = site.conv(c, at(5_012), 2 * MS);
    s.open();
    tls12_full(&mut s, name, &fortigate_chain(), 0x0b01);
    s.rtt = 27 * MS;
    tls_ask(&mut s, 250, 910, 0x0b02);
    s.close();

    let name = "openapi.knx.org";
    site.dns(
        at(9_000),
        ENG_PC,
        name,
        0,
        &answers(name, None, &[KNX_OPENAPI]),
    );
    for (i, ms) in [9_012u64, 12_050].into_iter().enumerate() {
        let c = Conv::new(ENG_PC, proxy(KNX_OPENAPI), site.port(), 443);
        let mut s = site.conv(c, at(ms), 2 * MS);
        s.open();
        let ch = tls_client_hello(
            name,
            &[],
            bytes32(0x0b10 + i as u32),
            bytes32(0x0b20 + i as u32),
        );
        s.wait(150 * US).cs(PSHACK, &ch).rt();
        s.ss(
            PSHACK,
            &tls_alert(TLS_ALERT_FATAL, TLS_ALERT_HANDSHAKE_FAILURE),
        );
        s.wait(20 * US).close_by_server();
    }

    knx_http(
        &mut site,
        at(10_000),
        "api.knx.org",
        KNX_API,
        "/ets/apps/latest?lang=de-DE",
        r#"{"apps":[{"id":"knx-ip-secure","version":"2.4.0"}]}"#,
    );
    knx_http(
        &mut site,
        at(14_000),
        "onlinecatalog.knx.org",
        KNX_CATALOG,
        "/api/catalog/manufacturers?lang=de-DE",
        r#"{"manufacturers":412,"updated":"2026-02-27"}"#,
    );
    for &(ms, name, via, ip) in &OFFICE_BROWSING[..3] {
        browse(&mut site, ENG_PC, at(ms), name, via, ip);
    }
    site.arp(at(88_000), site.gw, ENG_PC);
    pcap(&site.frames())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;

    #[test]
    fn knx_broken_shows_fortinet_chain_and_alerts() {
        use x509_parser::prelude::{FromDer, X509Certificate};
        let chain = fortigate_chain();
        let (_, leaf) = X509Certificate::from_der(&chain[0]).unwrap();
        let (_, ca) = X509Certificate::from_der(&chain[1]).unwrap();
        let fortinet = "C=US, O=Fortinet, OU=Certificate Authority, CN=FGT60FTK2209XXXX";
        assert_eq!(leaf.issuer().to_string(), fortinet);
        assert_eq!(leaf.subject().to_string(), "CN=update.knx.org");
        assert_eq!(ca.subject().to_string(), fortinet);
        assert!(ca.is_ca() && !leaf.is_ca());
        let san = leaf.subject_alternative_name().unwrap().unwrap();
        assert_eq!(san.value.general_names.len(), 1);
        let now = (T0 / NS) as i64;
        for c in [&leaf, &ca] {
            let v = c.validity();
            assert!(v.not_before.timestamp() < now && now < v.not_after.timestamp());
        }

        let b = get("site-knx-broken.pcap");
        let p = pkts(&b);
        // The chain travels in the clear, split over two segments.
        let flight: Vec<u8> = p
            .iter()
            .filter(|x| x.tcp && x.src == KNX_UPDATE && x.sport == 443)
            .flat_map(|x| x.payload.iter().copied())
            .collect();
        assert!(flight
            .windows(chain[0].len())
            .any(|w| w == chain[0].as_slice()));
        let alert = tls_alert(TLS_ALERT_FATAL, TLS_ALERT_HANDSHAKE_FAILURE);
        let alerts = p
            .iter()
            .filter(|x| x.tcp && x.src == KNX_OPENAPI && x.payload == alert.as_slice())
            .count();
        assert_eq!(alerts, 2);
        assert!(p
            .iter()
            .any(|x| x.tcp && x.src == KNX_CATALOG && x.payload.starts_with(b"HTTP/1.1 200")));
    }
}
