//! Golden tests: one site scenario per vendor document, healthy and broken
//! (the captures the project's generator writes, fixtures/site-*.pcap, as
//! fixtures/README.md describes them). Each asserts the device's profile,
//! every requirement's verdict and every finding above `info`; a healthy
//! site has no error or warning at all.

use crate::common::{analyze, fixture};
use egresswatch::finding::{Finding, Kind, Severity};
use egresswatch::report::{DeviceReport, Report};

struct Scenario {
    files: &'static [&'static str],
    device: &'static str,
    profile: &'static str,
    requirements: &'static [(&'static str, &'static str)],
    /// (severity, kind, requirement, how) of every finding above info.
    findings: &'static [(
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
    )],
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        files: &["site-zaptec-healthy.pcap", "site-zaptec-healthy-wifi.pcap"],
        device: "3c:dc:03:1a:bc:01",
        profile: "zaptec-pro",
        requirements: &[
            ("mqtt-cloud", "pass"),
            ("https-firmware", "pass"),
            ("ntp", "pass"),
            ("dns", "pass"),
            ("dhcp", "pass"),
            ("wifi-channel", "pass"),
            ("no-inbound", "not_observed"),
        ],
        findings: &[],
    },
    Scenario {
        files: &["site-zaptec-broken.pcap", "site-zaptec-broken-wifi.pcap"],
        device: "3c:dc:03:1a:bc:01",
        profile: "zaptec-pro",
        requirements: &[
            ("mqtt-cloud", "fail"),
            ("https-firmware", "pass"),
            ("ntp", "fail"),
            ("dns", "pass"),
            ("dhcp", "pass"),
            ("wifi-channel", "fail"),
            ("no-inbound", "not_observed"),
        ],
        findings: &[
            ("error", "ntp_failure", Some("ntp"), Some("no_reply")),
            (
                "error",
                "blocked_port",
                Some("mqtt-cloud"),
                Some("no_answer"),
            ),
            ("error", "bad_wifi_channel", Some("wifi-channel"), None),
        ],
    },
    Scenario {
        files: &["site-cemm-healthy.pcap"],
        device: "00:1e:c0:4a:11:22",
        profile: "cemm",
        requirements: &[
            ("cloud", "pass"),
            ("updates", "pass"),
            ("notifications", "pass"),
            ("support-tunnel", "not_observed"),
            ("dhcp", "pass"),
            ("dns", "pass"),
            ("ntp", "pass"),
            ("local-ui", "not_observed"),
            ("wired", "not_observed"),
        ],
        findings: &[],
    },
    Scenario {
        files: &["site-cemm-broken.pcap"],
        device: "00:1e:c0:4a:11:22",
        profile: "cemm",
        requirements: &[
            ("cloud", "pass"),
            ("updates", "fail"),
            ("notifications", "fail"),
            ("support-tunnel", "not_observed"),
            ("dhcp", "warn"),
            ("dns", "pass"),
            ("ntp", "pass"),
            ("local-ui", "fail"),
            ("wired", "not_observed"),
        ],
        findings: &[
            ("error", "dns_failure", Some("updates"), Some("servfail")),
            (
                "error",
                "blocked_port",
                Some("notifications"),
                Some("reset"),
            ),
            (
                "error",
                "inbound_exposure",
                Some("local-ui"),
                Some("completed_handshake"),
            ),
            ("warning", "static_address", Some("dhcp"), None),
        ],
    },
    Scenario {
        files: &["site-knx-healthy.pcap"],
        device: "d8:9e:f3:7a:3b:c4",
        profile: "knx-ets6",
        requirements: &[
            ("updates", "pass"),
            ("app-updates", "pass"),
            ("app-updates-http", "pass"),
            ("licensing", "pass"),
            ("admin-data", "pass"),
            ("catalog", "pass"),
            ("no-deep-inspection", "not_observed"),
            ("dns", "pass"),
        ],
        findings: &[],
    },
    Scenario {
        files: &["site-knx-broken.pcap"],
        device: "d8:9e:f3:7a:3b:c4",
        profile: "knx-ets6",
        requirements: &[
            ("updates", "pass"),
            ("app-updates", "not_observed"),
            ("app-updates-http", "pass"),
            ("licensing", "fail"),
            ("admin-data", "not_observed"),
            ("catalog", "pass"),
            ("no-deep-inspection", "fail"),
            ("dns", "pass"),
        ],
        findings: &[
            (
                "error",
                "tls_interception",
                Some("no-deep-inspection"),
                Some("inspection_product"),
            ),
            ("error", "tls_failure", Some("licensing"), Some("alert")),
        ],
    },
    Scenario {
        files: &["site-clock-healthy.pcap"],
        device: "b8:27:eb:5a:0c:11",
        profile: "clock-iot",
        requirements: &[
            ("clock-software", "pass"),
            ("aws", "pass"),
            ("ruby-gems", "pass"),
            ("ntp", "pass"),
            ("dhcp", "pass"),
            ("not-172-17", "pass"),
            ("no-inbound", "not_observed"),
            ("wired", "not_observed"),
        ],
        findings: &[],
    },
    Scenario {
        files: &["site-clock-broken.pcap"],
        device: "b8:27:eb:5a:0c:11",
        profile: "clock-iot",
        requirements: &[
            ("clock-software", "pass"),
            ("aws", "fail"),
            ("ruby-gems", "fail"),
            ("ntp", "fail"),
            ("dhcp", "pass"),
            ("not-172-17", "fail"),
            ("no-inbound", "not_observed"),
            ("wired", "not_observed"),
        ],
        findings: &[
            ("error", "subnet_clash", Some("not-172-17"), None),
            ("error", "ntp_failure", Some("ntp"), Some("kiss_of_death")),
            ("error", "blocked_port", Some("ruby-gems"), Some("reset")),
            (
                "error",
                "blocked_port",
                Some("aws"),
                Some("icmp_admin_prohibited"),
            ),
        ],
    },
    Scenario {
        files: &["site-cassia-healthy.pcap"],
        device: "cc:1b:e0:e1:22:33",
        profile: "cassia-x2000",
        requirements: &[
            ("ac-capwap", "pass"),
            ("ac-mqtt", "pass"),
            ("downloads-http", "not_observed"),
            ("downloads-https", "pass"),
            ("container-ssh", "pass"),
            ("dns", "pass"),
            ("mqtt-bypass", "not_observed"),
        ],
        findings: &[],
    },
    Scenario {
        files: &["site-cassia-broken.pcap"],
        device: "cc:1b:e0:e1:22:33",
        profile: "cassia-x2000",
        requirements: &[
            ("ac-capwap", "warn"),
            ("ac-mqtt", "pass"),
            ("downloads-http", "not_observed"),
            ("downloads-https", "not_observed"),
            ("container-ssh", "fail"),
            ("dns", "pass"),
            ("mqtt-bypass", "warn"),
        ],
        findings: &[
            (
                "error",
                "blocked_port",
                Some("container-ssh"),
                Some("reset"),
            ),
            (
                "warning",
                "blocked_port",
                Some("ac-capwap"),
                Some("no_answer"),
            ),
            (
                "warning",
                "blocked_port",
                Some("ac-capwap"),
                Some("no_answer"),
            ),
            (
                "warning",
                "mqtt_rejected",
                Some("mqtt-bypass"),
                Some("refused"),
            ),
        ],
    },
    Scenario {
        files: &["site-zaptec-oneway.pcap"],
        device: "3c:dc:03:1a:bc:01",
        profile: "zaptec-pro",
        requirements: &[
            ("mqtt-cloud", "not_observed"),
            ("https-firmware", "not_observed"),
            ("ntp", "not_observed"),
            ("dns", "not_observed"),
            ("dhcp", "pass"),
            ("wifi-channel", "not_observed"),
            ("no-inbound", "not_observed"),
        ],
        findings: &[],
    },
];

fn run(files: &[&str]) -> Report {
    let paths: Vec<_> = files.iter().map(|f| fixture(f)).collect();
    analyze(&paths)
}

fn device<'r>(r: &'r Report, mac: &str) -> &'r DeviceReport {
    r.devices
        .iter()
        .find(|d| d.mac.as_deref() == Some(mac))
        .unwrap_or_else(|| panic!("no device {mac}"))
}

fn findings(r: &Report, kind: Kind) -> Vec<&Finding> {
    r.findings.iter().filter(|f| f.kind == kind).collect()
}

fn frames(f: &Finding) -> Vec<u64> {
    f.evidence.iter().map(|e| e.frame).collect()
}

#[test]
fn every_scenario_gives_its_verdicts_and_findings() {
    for s in SCENARIOS {
        let r = run(s.files);
        let d = device(&r, s.device);
        assert_eq!(d.profile.as_deref(), Some(s.profile), "{:?}", s.files);
        assert!(!d.identified_by.is_empty());
        let got: Vec<(&str, &str)> = d
            .requirements
            .iter()
            .map(|q| (q.id.as_str(), q.status))
            .collect();
        assert_eq!(got, s.requirements, "{:?}", s.files);
        for q in &d.requirements {
            assert!(
                !q.evidence.is_empty(),
                "{:?}: {} has no evidence",
                s.files,
                q.id
            );
        }
        let got: Vec<(&str, &str, Option<&str>, Option<&str>)> = r
            .findings
            .iter()
            .filter(|f| f.severity > Severity::Info)
            .map(|f| {
                (
                    f.severity.as_str(),
                    f.kind.as_str(),
                    f.requirement.as_deref(),
                    f.how,
                )
            })
            .collect();
        assert_eq!(got, s.findings, "{:?}", s.files);
        for f in &r.findings {
            assert!(!f.evidence.is_empty(), "{:?}: {f:?} has no frames", s.files);
            assert!(f.message.len() > 40, "{:?}: {}", s.files, f.message);
            if f.severity > Severity::Info {
                assert_eq!(f.profile.as_deref(), Some(s.profile));
                assert_eq!(f.device, s.device);
            }
        }
        // Only the scenario's device is profiled: bystanders are not.
        let profiled = r.devices.iter().filter(|d| d.profile.is_some()).count();
        assert_eq!(profiled, 1, "{:?}", s.files);
        if s.files[0].contains("healthy") {
            assert!(
                s.findings.is_empty(),
                "a healthy site has no error or warning"
            );
            assert!(d.requirements.iter().all(|q| q.status != "fail"));
        }
    }
}

#[test]
fn a_laptop_using_the_vendor_app_is_not_a_charger() {
    let r = run(&["site-zaptec-healthy.pcap"]);
    let laptop = device(&r, "8c:85:90:21:7e:4a");
    assert!(laptop.names.iter().any(|n| n == "api.zaptec.com"));
    assert_eq!(laptop.profile, None);
    assert!(laptop.requirements.is_empty());
    assert!(r
        .findings
        .iter()
        .all(|f| f.device != "8c:85:90:21:7e:4a" || f.profile.is_none()));
}

#[test]
fn zaptec_broken_says_what_is_dropped_and_why_it_matters() {
    let r = run(&["site-zaptec-broken.pcap", "site-zaptec-broken-wifi.pcap"]);
    let d = device(&r, "3c:dc:03:1a:bc:01");
    let summary = d.summary.as_deref().unwrap();
    assert!(
        summary.starts_with("DHCP ok → DNS ok → TCP 8883 to zapcloud.azure-devices.net silently dropped → cloud unreachable"),
        "{summary}"
    );
    assert!(
        summary.contains("NTP never answered (the charger has no clock: cloud login will fail)"),
        "{summary}"
    );
    let blocked = findings(&r, Kind::BlockedPort);
    assert_eq!(blocked.len(), 1);
    let b = blocked[0];
    // Two SYN trains (retransmissions grouped): two attempts.
    assert_eq!(
        (b.port, b.count, b.name.as_deref()),
        (Some(8883), 2, Some("zapcloud.azure-devices.net"))
    );
    assert!(frames(b).contains(&15), "{:?}", frames(b));
    assert!(
        b.message
            .contains("Allow outbound TCP 8883 to zapcloud.azure-devices.net")
            || b.message
                .contains("allow outbound TCP 8883 to zapcloud.azure-devices.net")
    );
    let ntp = findings(&r, Kind::NtpFailure);
    assert_eq!(ntp[0].count, 6);
    assert!(frames(ntp[0]).contains(&12));
    let wifi = findings(&r, Kind::BadWifiChannel);
    assert_eq!(wifi[0].channel, Some(13));
    assert_eq!(wifi[0].ssid.as_deref(), Some("Site-IoT"));
    // The WiFi evidence points into the second file.
    assert!(wifi[0].evidence.iter().all(|e| e.file == 1));
}

#[test]
fn one_way_mirror_is_not_observed_never_blocked() {
    let r = run(&["site-zaptec-oneway.pcap"]);
    assert!(
        r.findings.iter().all(|f| f.severity == Severity::Info),
        "{:?}",
        r.findings
    );
    assert!(findings(&r, Kind::BlockedPort).is_empty());
    assert!(findings(&r, Kind::DnsFailure).is_empty());
    assert!(findings(&r, Kind::NtpFailure).is_empty());
    let d = device(&r, "3c:dc:03:1a:bc:01");
    assert!(d.summary.as_deref().unwrap().contains("one-way mirror"));
}

#[test]
fn knx_interception_names_the_inspection_product() {
    let r = run(&["site-knx-broken.pcap"]);
    let f = findings(&r, Kind::TlsInterception);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].name.as_deref(), Some("update.knx.org"));
    assert!(f[0].issuer.as_deref().unwrap().contains("Fortinet"));
    assert!(
        frames(f[0]).iter().any(|n| (25..=26).contains(n)),
        "{:?}",
        frames(f[0])
    );
    let t = findings(&r, Kind::TlsFailure);
    assert_eq!((t.len(), t[0].count), (1, 2));
    let fr = frames(t[0]);
    assert!(fr.contains(&42) && fr.contains(&61), "{fr:?}");
}

#[test]
fn clock_broken_clash_and_admin_prohibited() {
    let r = run(&["site-clock-broken.pcap"]);
    let c = findings(&r, Kind::SubnetClash);
    assert_eq!(c[0].subnet.as_deref(), Some("172.17.0.0/16"));
    assert_eq!(c[0].forbidden.as_deref(), Some("172.17.0.0/16"));
    let b: Vec<_> = findings(&r, Kind::BlockedPort)
        .into_iter()
        .map(|f| (f.port, f.how))
        .collect();
    assert!(
        b.contains(&(Some(8883), Some("icmp_admin_prohibited"))),
        "{b:?}"
    );
    assert!(b.contains(&(Some(5000), Some("reset"))), "{b:?}");
    let k = findings(&r, Kind::NtpFailure);
    assert_eq!(k.len(), 1, "kiss-of-death only, not also unsynchronized");
    assert!(k[0].message.contains("RATE"));
}

#[test]
fn cassia_learns_its_controller_and_weighs_alternatives() {
    let r = run(&["site-cassia-broken.pcap"]);
    let d = device(&r, "cc:1b:e0:e1:22:33");
    let capwap = d.requirements.iter().find(|q| q.id == "ac-capwap").unwrap();
    assert!(capwap
        .evidence
        .contains("203.0.113.50 learned from the device's CAPWAP traffic"));
    assert!(capwap.evidence.contains("ac-mqtt works instead"));
    let m = findings(&r, Kind::MqttRejected);
    assert_eq!((m[0].code, m[0].severity), (Some(5), Severity::Warning));
}

#[test]
fn site_file_gives_the_controller() {
    // With the controller given by name, the requirements are judged
    // against the addresses the gateway resolved that name to.
    let dir = crate::common::TempDir::new("site");
    let site = dir.path().join("site.toml");
    std::fs::write(
        &site,
        "[cassia-x2000]\ncontroller = \"ac.example-iot.com\"\n",
    )
    .unwrap();
    let out = crate::common::bin()
        .args(["analyze", "--format", "json", "--site"])
        .arg(&site)
        .arg(fixture("site-cassia-healthy.pcap"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["profile"] == "cassia-x2000")
        .unwrap();
    let mqtt = d["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "ac-mqtt")
        .unwrap();
    assert_eq!(mqtt["status"], "pass");
    assert!(mqtt["evidence"]
        .as_str()
        .unwrap()
        .contains("controller from --site"));
}

#[test]
fn fail_on_error_gates_a_broken_site() {
    let status = |file: &str| {
        crate::common::bin()
            .args(["analyze", "--fail-on", "error"])
            .arg(fixture(file))
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(status("site-clock-broken.pcap"), Some(1));
    assert_eq!(status("site-clock-healthy.pcap"), Some(0));
}

#[test]
fn the_sample_markdown_report_is_current() {
    // fixtures/report-site-zaptec-broken.md shows a reader what a
    // technician gets; it must be what the program writes today.
    let out = crate::common::bin()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "analyze",
            "--format",
            "markdown",
            "fixtures/site-zaptec-broken.pcap",
            "fixtures/site-zaptec-broken-wifi.pcap",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let want = std::fs::read_to_string(fixture("report-site-zaptec-broken.md")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        want,
        "regenerate with: egresswatch analyze --format markdown -o fixtures/report-site-zaptec-broken.md fixtures/site-zaptec-broken.pcap fixtures/site-zaptec-broken-wifi.pcap"
    );
}

#[test]
fn a_snapshot_at_the_end_gives_the_final_verdicts() {
    // What a live sensor shows after the last frame is what analyze says.
    use egresswatch::capture::merge::Merge;
    use egresswatch::engine::{Engine, EngineConfig};
    let profiles = egresswatch::profile::builtin().unwrap();
    let site = egresswatch::profile::Site::default();
    let checks = egresswatch::report::Checks {
        profiles: &profiles,
        site: &site,
    };
    for s in SCENARIOS {
        let paths: Vec<_> = s.files.iter().map(|f| fixture(f)).collect();
        let mut merge = Merge::open(&paths).unwrap();
        let mut engine = Engine::new(EngineConfig::default());
        while let Some(frame) = merge.next_frame() {
            engine.process(&frame);
        }
        let live = engine.snapshot(&[], Vec::new(), checks);
        let done = run(s.files);
        // Everything a user reads: findings with their evidence frames and
        // messages, and every requirement's verdict and evidence.
        let key = |r: &Report| {
            let reqs: Vec<_> = r
                .devices
                .iter()
                .map(|d| (d.id(), &d.requirements, &d.summary))
                .collect();
            serde_json::to_string(&(&r.findings, reqs)).unwrap()
        };
        assert_eq!(key(&live), key(&done), "{:?}", s.files);
    }
}
