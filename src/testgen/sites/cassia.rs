//! Cassia X2000 Bluetooth gateway (seed 004, English): to its controller (AC), UDP 5246/5247
//! CAPWAP with DTLS or TCP 8883 MQTT over TLS 1.2, TCP 80/443 for downloads, TCP 9999 for the
//! container SSH tunnel, DNS, and optionally plaintext MQTT on 1883.

use super::*;

/// Cassia X2000 Bluetooth gateway (Cassia Networks MA-M block CC:1B:E0:E).
const CASSIA: Ep = Ep::new([0xcc, 0x1b, 0xe0, 0xe1, 0x22, 0x33], [192, 168, 50, 52], 64);
const CASSIA_AC: [u8; 4] = [203, 0, 113, 50];
const POOL: [[u8; 4]; 2] = [[192, 0, 2, 61], [192, 0, 2, 62]];
const AC_NAME: &str = "ac.example-iot.com";
const CASSIA_CLIENT_ID: &str = "CC1BE0E12233";

/// A CAPWAP Discovery Request from the gateway: discovery type static, WTP board data
/// (model and serial number), local MAC, 802.3 tunnel mode.
fn capwap_discovery_request(seq: u8) -> Vec<u8> {
    let mut board = 0u32.to_be_bytes().to_vec(); // vendor identifier
    for (ty, v) in [(0u16, "X2000"), (1, CASSIA_CLIENT_ID)] {
        board.extend_from_slice(&ty.to_be_bytes());
        board.extend_from_slice(&(v.len() as u16).to_be_bytes());
        board.extend_from_slice(v.as_bytes());
    }
    capwap_control(
        1,
        seq,
        &[
            (capwap_element::DISCOVERY_TYPE, vec![1]),
            (capwap_element::WTP_BOARD_DATA, board),
            (capwap_element::WTP_MAC_TYPE, vec![0]),
            (capwap_element::WTP_FRAME_TUNNEL_MODE, vec![0x02]),
        ],
    )
}

/// The AC's Discovery Response: AC descriptor, AC name, its control address.
fn capwap_discovery_response(seq: u8) -> Vec<u8> {
    let mut descriptor = Vec::new();
    descriptor.extend_from_slice(&3u16.to_be_bytes()); // stations
    descriptor.extend_from_slice(&2000u16.to_be_bytes()); // station limit
    descriptor.extend_from_slice(&1u16.to_be_bytes()); // active WTPs
    descriptor.extend_from_slice(&500u16.to_be_bytes()); // max WTPs
    descriptor.extend_from_slice(&[0x04, 1, 0, 0x02]); // security X.509, R-MAC, DTLS on
    let mut ip = CASSIA_AC.to_vec();
    ip.extend_from_slice(&1u16.to_be_bytes());
    capwap_control(
        2,
        seq,
        &[
            (capwap_element::AC_DESCRIPTOR, descriptor),
            (capwap_element::AC_NAME, b"Cassia-AC".to_vec()),
            (capwap_element::CONTROL_IPV4, ip),
        ],
    )
}

/// The CAPWAP session of a healthy gateway: discovery, the DTLS handshake on the control
/// port, Join and configuration inside DTLS, echoes every 30 s; keep-alives on the data
/// port.
fn capwap_session(site: &mut Site, t: u64) {
    let ac = site.remote(CASSIA_AC);
    let rtt = 21 * MS;
    let mut s = site.conv(Conv::new(CASSIA, ac, 40_210, 5246), t, rtt);
    s.cu(&capwap_discovery_request(0))
        .rt()
        .su(&capwap_discovery_response(0));
    let dtls = |records: &[Vec<u8>]| capwap_dtls(&records.concat());
    let hs = |seq: u64, msg_seq: u16, ty: u8, body: &[u8]| {
        dtls_record(22, 0, seq, &dtls_handshake(ty, msg_seq, body))
    };
    let cookie = filler(0xca01, 20);
    let cassia_ca: &[(&[u32], &str)] = &[(oid::O, "Cassia Networks"), (oid::CN, "Cassia AC CA")];
    let ac_cert = x509_certificate(&CertSpec {
        serial: &[0x31, 0x07],
        issuer: cassia_ca,
        subject: &[(oid::O, "Cassia Networks"), (oid::CN, AC_NAME)],
        not_before: "250301000000Z",
        not_after: "350227000000Z",
        dns_names: &[AC_NAME],
        ca: false,
        key_seed: 0xac01,
        issuer_key_seed: 0xacca,
    });
    let gw_cert = x509_certificate(&CertSpec {
        serial: &[0x31, 0x08],
        issuer: cassia_ca,
        subject: &[(oid::O, "Cassia Networks"), (oid::CN, CASSIA_CLIENT_ID)],
        not_before: "250301000000Z",
        not_after: "350227000000Z",
        dns_names: &[],
        ca: false,
        key_seed: 0xac02,
        issuer_key_seed: 0xacca,
    });
    s.wait(5 * MS)
        .cu(&dtls(&[hs(
            0,
            0,
            1,
            &dtls_client_hello_body(bytes32(0xca02), &[]),
        )]))
        .rt()
        .su(&dtls(&[hs(0, 0, 3, &dtls_hello_verify_body(&cookie))]))
        .wait(300 * US)
        .cu(&dtls(&[hs(
            1,
            1,
            1,
            &dtls_client_hello_body(bytes32(0xca02), &cookie),
        )]))
        .rt()
        .su(&dtls(&[
            hs(
                1,
                1,
                2,
                &dtls_server_hello_body(bytes32(0xca03), bytes32(0xca04), 0xc02f),
            ),
            hs(2, 2, 11, &certificate_body(&[ac_cert])),
            hs(3, 3, 12, &server_key_exchange_body(bytes32(0xca06), 0xca07)),
            hs(4, 4, 13, &certificate_request_body()),
            hs(5, 5, 14, &[]),
        ]))
        .wait(4 * MS)
        .cu(&dtls(&[
            hs(2, 2, 11, &certificate_body(&[gw_cert])),
            hs(3, 3, 16, &client_key_exchange_body(bytes32(0xca09))),
            hs(4, 4, 15, &certificate_verify_body(0xca0a)),
            dtls_record(20, 0, 5, &[1]),
            dtls_record(22, 1, 0, &filler(0xca0b, 40)),
        ]))
        .rt()
        .su(&dtls(&[
            dtls_record(20, 0, 6, &[1]),
            dtls_record(22, 1, 0, &filler(0xca0c, 40)),
        ]));
    // Join, Configuration Status, Change State Event: requests and responses, encrypted.
    let mut seq = 1u64;
    for (up, down) in [(180usize, 96usize), (420, 260), (64, 40)] {
        s.wait(2 * MS)
            .cu(&capwap_dtls(&dtls_record(
                23,
                1,
                seq,
                &filler(0xca10 + seq as u32, up),
            )))
            .rt()
            .su(&capwap_dtls(&dtls_record(
                23,
                1,
                seq,
                &filler(0xca20 + seq as u32, down),
            )));
        seq += 1;
    }
    for sec in [30u64, 60] {
        s.at(t + sec * NS);
        s.cu(&capwap_dtls(&dtls_record(
            23,
            1,
            seq,
            &filler(0xca30 + seq as u32, 40),
        )))
        .rt()
        .su(&capwap_dtls(&dtls_record(
            23,
            1,
            seq,
            &filler(0xca40 + seq as u32, 40),
        )));
        seq += 1;
    }
    // The data channel: keep-alives carrying the session id, echoed by the AC.
    let sid = bytes16(0xca50);
    let mut d = site.conv(Conv::new(CASSIA, ac, 40_211, 5247), t + NS, rtt);
    for sec in [0u64, 30, 60] {
        d.at(t + NS + sec * NS);
        d.cu(&capwap_keepalive(sid)).rt().su(&capwap_keepalive(sid));
    }
}

/// Cassia X2000: lease, DNS for the AC, NTP, then CAPWAP, MQTT over TLS 1.2 on 8883, HTTPS
/// and the container SSH tunnel on 9999 to the AC. `broken`: the firewall drops UDP to the
/// AC (CAPWAP unanswered), 9999 is refused, and a plaintext MQTT bypass on 1883 is refused
/// with CONNACK 5; 8883 works.
pub(super) fn scenario(broken: bool) -> Vec<u8> {
    let mut site = Site::new(GW, 36_000);
    let c = DhcpClient {
        dev: CASSIA,
        xid: 0xca55_1a22,
        hostname: "X2000-E12233",
        vendor_class: Some("udhcp 1.23.2"),
        params: &[1, 3, 6, 12, 15, 28, 42],
    };
    site.dora(at(500), &c, &lease24(None));
    site.announce(at(520), CASSIA);
    site.arp(at(530), CASSIA, GW);
    site.dns(
        at(1_000),
        CASSIA,
        AC_NAME,
        0,
        &answers(AC_NAME, None, &[CASSIA_AC]),
    );
    site.dns(
        at(1_500),
        CASSIA,
        "pool.ntp.org",
        0,
        &answers("pool.ntp.org", None, &POOL),
    );
    let ntp = site.remote(POOL[0]);
    let refid = [192, 0, 2, 7];
    for ms in [1_550u64, 65_550] {
        site.ntp(
            at(ms),
            CASSIA,
            123,
            ntp,
            at(ms) - 3_100 * MS,
            NtpAnswer::Synced(refid),
        );
    }

    if broken {
        // Discovery every 5 s, ten times, then a pause and again; the data channel's
        // keep-alives from the session the gateway still believes in. Nothing comes back.
        let ac = site.remote(CASSIA_AC);
        let mut s = site.conv(Conv::new(CASSIA, ac, 40_210, 5246), at(2_000), 0);
        for i in 0..12u8 {
            let ms = if i < 10 {
                2_000 + 5_000 * u64::from(i)
            } else {
                77_000 + 5_000 * u64::from(i - 10)
            };
            s.at(at(ms)).cu(&capwap_discovery_request(i));
        }
        let mut d = site.conv(Conv::new(CASSIA, ac, 40_211, 5247), at(3_000), 0);
        for sec in [3u64, 33, 63] {
            d.at(at(sec * 1_000)).cu(&capwap_keepalive(bytes16(0xca50)));
        }
    } else {
        capwap_session(&mut site, at(2_000));
    }

    // MQTT over TLS 1.2 to the AC (the session is resumed: no certificate is sent).
    let mut s = site.out(CASSIA, CASSIA_AC, 8883, at(2_500), 21 * MS);
    s.open();
    tls12_resumed(&mut s, AC_NAME, 0xca60);
    tls_ask(&mut s, 61, 33, 0xca61);
    tls_ask(&mut s, 96, 33, 0xca62);
    for sec in [17u64, 32, 47, 62, 77] {
        s.at(at(sec * 1_000 + 500));
        s.push_up(&tls_app_data(0xca70 + sec as u32, 388));
        if sec == 47 {
            // A command from the AC (start a scan).
            s.at(at(52_800)).push_down(&tls_app_data(0xca80, 142));
        }
    }

    if !broken {
        // Container download over HTTPS.
        let mut s = site.out(CASSIA, CASSIA_AC, 443, at(4_000), 21 * MS);
        s.open();
        tls13(&mut s, AC_NAME, &["http/1.1"], 0xca90, 1_100);
        tls_ask(&mut s, 233, 1_380, 0xca91);
        s.close();
    }

    // The container's SSH tunnel.
    if broken {
        site.out(CASSIA, CASSIA_AC, 9999, at(5_000), 21 * MS)
            .syn_refused();
        site.out(CASSIA, CASSIA_AC, 9999, at(35_000), 21 * MS)
            .syn_refused();
    } else {
        let mut s = site.out(CASSIA, CASSIA_AC, 9999, at(6_000), 21 * MS);
        s.open();
        ssh_open(
            &mut s,
            "SSH-2.0-dropbear_2019.78",
            "SSH-2.0-OpenSSH_7.4",
            0xcaa0,
        );
        for sec in [36u64, 66] {
            s.at(at(sec * 1_000));
            s.ask(
                &filler(0xcab0 + sec as u32, 36),
                &filler(0xcac0 + sec as u32, 36),
            );
        }
    }

    if broken {
        // The MQTT bypass in plaintext: the broker refuses the client.
        for ms in [8_000u64, 38_000] {
            let mut s = site.out(CASSIA, CASSIA_AC, 1883, at(ms), 21 * MS);
            s.open();
            s.ask(
                &mqtt_connect(CASSIA_CLIENT_ID, 60, None),
                &mqtt_connack(false, 5),
            );
            s.wait(MS).close_by_server();
        }
    }

    site.arp(at(89_000), GW, CASSIA);
    pcap(&site.frames())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;

    #[test]
    fn cassia_capwap_answered_or_not() {
        let ok = get("site-cassia-healthy.pcap");
        let p = pkts(&ok);
        for port in [5246u16, 5247] {
            assert!(from_port(&p, port) >= 3, "{port}");
        }
        for port in [8883u16, 443, 9999] {
            assert!(
                p.iter().any(|x| x.tcp && x.sport == port && x.syn && x.ack),
                "{port}"
            );
        }

        let bad = get("site-cassia-broken.pcap");
        let p = pkts(&bad);
        let end = p.last().unwrap().ts;
        for port in [5246u16, 5247] {
            assert_eq!(from_port(&p, port), 0);
            let last = p.iter().rfind(|x| x.udp && x.dport == port).unwrap();
            assert!(end - last.ts > 5 * NS);
        }
        assert!(p.iter().any(|x| x.tcp && x.sport == 8883 && x.syn && x.ack));
        assert_eq!(
            p.iter()
                .filter(|x| x.tcp && x.sport == 9999 && x.rst)
                .count(),
            2
        );
        let connect = mqtt_connect(CASSIA_CLIENT_ID, 60, None);
        assert!(p
            .iter()
            .any(|x| x.tcp && x.dport == 1883 && x.payload == connect.as_slice()));
        let refused = p
            .iter()
            .filter(|x| x.tcp && x.sport == 1883 && x.payload == [0x20, 2, 0, 5])
            .count();
        assert_eq!(refused, 2);
    }
}
