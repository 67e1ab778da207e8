//! Clock PMS+ IoT device (seed 003, German): a Raspberry Pi named `clockrpi-<serial>` that
//! needs TCP 80/443/22 to *.clock-software.com, 443/8443/8883 to *.amazonaws.com, 5000 to
//! ruby-gems.clock-software.com, NTP, DHCP, and a LAN that is not 172.17.0.0/16.

use super::*;

/// The same router as [`GW`] on the Clock site whose LAN is 172.17.0.0/16.
const GW_172: Ep = GW.with_ip([172, 17, 0, 1]);

/// The Clock PMS+ IoT device (Raspberry Pi OUI).
const CLOCK_PI: Ep = Ep::new([0xb8, 0x27, 0xeb, 0x5a, 0x0c, 0x11], [192, 168, 50, 40], 64);

/// The Clock Pi on the site whose LAN is 172.17.0.0/16.
const CLOCK_PI_172: Ep = CLOCK_PI.with_ip([172, 17, 5, 20]);
const CLOCK_API: [u8; 4] = [203, 0, 113, 70];
const CLOCK_TUNNEL: [u8; 4] = [203, 0, 113, 71];
const CLOCK_GEMS: [u8; 4] = [203, 0, 113, 72];
const AWS_IOT: [[u8; 4]; 2] = [[198, 51, 100, 73], [198, 51, 100, 74]];
const DEBIAN_POOL: [[u8; 4]; 4] = [
    [192, 0, 2, 41],
    [192, 0, 2, 42],
    [192, 0, 2, 43],
    [192, 0, 2, 44],
];

const CLOCK_HOSTNAME: &str = "clockrpi-a407a36985b48965a3e00ab85aa1e820";
const CLOCK_API_CNAME: &str = "clock-api-1186519371.eu-west-1.elb.amazonaws.com";
const AWS_IOT_NAME: &str = "a1b2c3d4e5-ats.iot.eu-west-1.amazonaws.com";

/// Clock IoT: the Pi's lease, NTP from the Debian pool, the Clock API over HTTPS, the
/// support tunnel over SSH, the gem server on 5000 and AWS IoT on 8883. `broken`: the LAN
/// is 172.17.0.0/16, 5000 is refused, 8883 is administratively prohibited by the router,
/// and the NTP server sends kiss-of-death RATE.
pub(super) fn scenario(broken: bool) -> Vec<u8> {
    let (gw, pi) = if broken {
        (GW_172, CLOCK_PI_172)
    } else {
        (GW, CLOCK_PI)
    };
    let mut site = Site::new(gw, 38_200);
    let c = DhcpClient {
        dev: pi,
        xid: 0xc10c_4a07,
        hostname: CLOCK_HOSTNAME,
        vendor_class: Some("dhcpcd-9.4.1:Linux-6.1.21-v7+:armv7l:BCM2835"),
        params: &[1, 121, 33, 3, 6, 12, 15, 26, 28, 51, 54, 58, 59, 119, 42],
    };
    let lease = if broken {
        Lease {
            mask: [255, 255, 0, 0],
            router: gw.ip,
            dns: gw.ip,
            ntp: None,
            secs: 86_400,
        }
    } else {
        lease24(None)
    };
    site.dora(at(500), &c, &lease);
    site.announce(at(1_520), pi);
    site.arp(at(1_530), pi, gw);

    // systemd-timesyncd.
    let name = "0.debian.pool.ntp.org";
    site.dns(at(1_800), pi, name, 0, &answers(name, None, &DEBIAN_POOL));
    let ntp = site.remote(DEBIAN_POOL[0]);
    let answer = if broken {
        NtpAnswer::Kiss(*b"RATE")
    } else {
        NtpAnswer::Synced([192, 0, 2, 9])
    };
    for ms in [1_850u64, 33_850, 65_850] {
        if broken && ms == 65_850 {
            break; // told to slow down, it waits longer
        }
        site.ntp(at(ms), pi, 45_123, ntp, at(ms) + 80 * MS, answer);
    }

    // The Clock API behind an AWS load balancer.
    let api = answers(
        "api.clock-software.com",
        Some(CLOCK_API_CNAME),
        &[CLOCK_API],
    );
    for (i, ms) in [2_000u64, 45_000].into_iter().enumerate() {
        site.dns(at(ms), pi, "api.clock-software.com", 0, &api);
        let mut s = site.out(pi, CLOCK_API, 443, at(ms + 15), 22 * MS);
        s.open();
        tls13(
            &mut s,
            "api.clock-software.com",
            &["http/1.1"],
            0xc1a0 + i as u32,
            1_320,
        );
        tls_ask(&mut s, 284, 1_210, 0xc1b0 + i as u32);
        s.close();
    }

    // The support tunnel.
    let name = "tunnel.clock-software.com";
    site.dns(
        at(3_000),
        pi,
        name,
        0,
        &answers(name, None, &[CLOCK_TUNNEL]),
    );
    let mut s = site.out(pi, CLOCK_TUNNEL, 22, at(3_015), 23 * MS);
    s.open();
    ssh_open(
        &mut s,
        "SSH-2.0-OpenSSH_8.4p1 Raspbian-5+deb11u3",
        "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10",
        0x55a1,
    );
    for sec in [33u64, 63] {
        s.at(at(sec * 1_000 + 15));
        s.ask(
            &filler(0x55b0 + sec as u32, 44),
            &filler(0x55c0 + sec as u32, 28),
        );
    }

    // The gem server.
    let name = "ruby-gems.clock-software.com";
    site.dns(at(5_000), pi, name, 0, &answers(name, None, &[CLOCK_GEMS]));
    if broken {
        site.out(pi, CLOCK_GEMS, 5000, at(5_015), 22 * MS)
            .syn_refused();
        site.out(pi, CLOCK_GEMS, 5000, at(35_015), 22 * MS)
            .syn_refused();
    } else {
        let mut s = site.out(pi, CLOCK_GEMS, 5000, at(5_015), 22 * MS);
        s.open();
        let get = http_request(
            "GET",
            "/api/v1/dependencies?gems=clock_iot_bridge",
            &[
                ("Host", "ruby-gems.clock-software.com:5000"),
                (
                    "User-Agent",
                    "Ruby, RubyGems/3.2.5 arm-linux-gnueabihf Ruby/2.7.4 (2021-07-07 patchlevel 191)",
                ),
                ("Accept", "*/*"),
                ("Connection", "keep-alive"),
            ],
            b"",
        );
        let ok = http_reply(
            200,
            "OK",
            &[("Content-Type", "application/octet-stream")],
            &filler(0xc1c0, 214),
        );
        s.ask(&get, &ok).close();
    }

    // AWS IoT Core over MQTT and TLS.
    let iot = answers(AWS_IOT_NAME, None, &AWS_IOT);
    site.dns(at(6_000), pi, AWS_IOT_NAME, 0, &iot);
    if broken {
        for ms in [6_015u64, 36_015] {
            let mut s = site.out(pi, AWS_IOT[0], 8883, at(ms), 0);
            s.cs(SYN, b"");
            let syn = s.site.tr.last().map(|(_, f)| f.clone()).unwrap_or_default();
            let t = s.t + 600 * US;
            site.icmp_unreachable(t, gw, pi, ICMP4_ADMIN_PROHIBITED, &syn);
        }
    } else {
        let mut s = site.out(pi, AWS_IOT[0], 8883, at(6_015), 29 * MS);
        s.open();
        tls13(&mut s, AWS_IOT_NAME, &[], 0xc1d0, 2_480);
        tls_ask(&mut s, 96, 31, 0xc1d1);
        tls_ask(&mut s, 88, 33, 0xc1d2);
        for sec in [26u64, 46, 66, 86] {
            s.at(at(sec * 1_000));
            tls_ask(&mut s, 212, 35, 0xc1e0 + sec as u32);
        }
    }

    site.arp(at(89_000), gw, pi);
    pcap(&site.frames())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;

    #[test]
    fn clock_broken_clashes_and_is_refused() {
        let b = get("site-clock-broken.pcap");
        let p = pkts(&b);
        let ack = p
            .iter()
            .filter(|x| x.udp && x.sport == 67)
            .map(|x| dhcp(x.payload))
            .find(|d| d.0 == dhcpmsg::ACK)
            .unwrap();
        assert_eq!(ack.1, [172, 17, 5, 20]);
        assert!(ack.2.contains(&(1, &[255, 255, 0, 0][..])));
        assert!(ack.2.contains(&(3, &[172, 17, 0, 1][..])));
        let icmp: Vec<&Pkt<'_>> = p.iter().filter(|x| x.icmp.is_some()).collect();
        assert_eq!(icmp.len(), 2);
        for x in icmp {
            let (ty, code, quote) = x.icmp.unwrap();
            assert_eq!((ty, code, x.src), (3, 13, GW_172.ip));
            // The quoted IPv4 header and the first 8 bytes of the SYN: ports 8883.
            assert_eq!(u16::from_be_bytes([quote[22], quote[23]]), 8883);
            assert_eq!(quote.len(), 28);
        }
        assert_eq!(
            p.iter()
                .filter(|x| x.tcp && x.sport == 5000 && x.rst)
                .count(),
            2
        );
        let kiss: Vec<&Pkt<'_>> = p.iter().filter(|x| x.udp && x.sport == 123).collect();
        assert_eq!(kiss.len(), 2);
        assert!(kiss
            .iter()
            .all(|x| x.payload[1] == 0 && &x.payload[12..16] == b"RATE"));
        assert!(p.iter().any(|x| x.tcp && x.sport == 443 && x.syn && x.ack));

        let ok = get("site-clock-healthy.pcap");
        let p = pkts(&ok);
        for port in [443u16, 22, 5000, 8883] {
            assert!(
                p.iter().any(|x| x.tcp && x.sport == port && x.syn && x.ack),
                "{port}"
            );
        }
        assert!(p
            .iter()
            .any(|x| x.tcp && x.sport == 22 && x.payload.starts_with(b"SSH-2.0-")));
    }
}
