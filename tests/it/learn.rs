//! `egresswatch learn`: a draft profile from a device's traffic that, used
//! with `--rules`, passes the healthy site it was learned from and fails
//! the broken one.

use crate::common::{bin, fixture, TempDir};
use egresswatch::analyze::{self, Options};
use egresswatch::profile;

/// (device, healthy files, broken files) for each vendor scenario.
const PAIRS: &[(&str, &[&str], &[&str])] = &[
    (
        "3c:dc:03:1a:bc:01",
        &["site-zaptec-healthy.pcap", "site-zaptec-healthy-wifi.pcap"],
        &["site-zaptec-broken.pcap", "site-zaptec-broken-wifi.pcap"],
    ),
    (
        "00:1e:c0:4a:11:22",
        &["site-cemm-healthy.pcap"],
        &["site-cemm-broken.pcap"],
    ),
    (
        "d8:9e:f3:7a:3b:c4",
        &["site-knx-healthy.pcap"],
        &["site-knx-broken.pcap"],
    ),
    (
        "b8:27:eb:5a:0c:11",
        &["site-clock-healthy.pcap"],
        &["site-clock-broken.pcap"],
    ),
    (
        "cc:1b:e0:e1:22:33",
        &["site-cassia-healthy.pcap"],
        &["site-cassia-broken.pcap"],
    ),
];

fn statuses(
    files: &[&str],
    rules: &std::path::Path,
    mac: &str,
) -> (Option<String>, Vec<(String, &'static str)>) {
    let opts = Options {
        files: files.iter().map(|f| fixture(f)).collect(),
        profiles: Some(profile::load_dir(rules).unwrap_or_else(|e| panic!("{e}"))),
        ..Default::default()
    };
    let r = analyze::run(&opts, &mut |_| {}).unwrap();
    let d = r
        .devices
        .iter()
        .find(|d| d.mac.as_deref() == Some(mac))
        .unwrap();
    (
        d.profile.clone(),
        d.requirements
            .iter()
            .map(|q| (q.id.clone(), q.status))
            .collect(),
    )
}

#[test]
fn learned_profiles_pass_their_healthy_site_and_fail_the_broken_one() {
    for (mac, healthy, broken) in PAIRS {
        let dir = TempDir::new("learn");
        let out = dir.path().join("learned.toml");
        let status = bin()
            .arg("learn")
            .args(healthy.iter().map(|f| fixture(f)))
            .args(["--device", mac, "--id", "draft", "-o"])
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success(), "{mac}");
        let text = std::fs::read_to_string(&out).unwrap();
        let p = profile::parse_profile("learned.toml", &text)
            .unwrap_or_else(|e| panic!("{mac}: {e}\n{text}"));
        assert!(
            p.requirements.iter().any(|r| r.check.kind() == "egress"),
            "{mac}: no destination learned\n{text}"
        );

        let (prof, got) = statuses(healthy, dir.path(), mac);
        assert_eq!(prof.as_deref(), Some("draft"), "{mac}");
        // Every destination and infrastructure requirement it learned works
        // there; local-only services are not_observed without a public try.
        for (id, s) in &got {
            let want = if id.starts_with("local-") {
                "not_observed"
            } else {
                "pass"
            };
            assert_eq!(*s, want, "{mac} healthy {id}: {got:?}\n{text}");
        }

        let (prof, got) = statuses(broken, dir.path(), mac);
        assert_eq!(
            prof.as_deref(),
            Some("draft"),
            "{mac} broken not recognised"
        );
        assert!(
            got.iter().any(|(_, s)| *s == "fail"),
            "{mac} broken: {got:?}"
        );
    }
}

#[test]
fn learn_names_what_it_cannot_use() {
    let out = bin()
        .args(["learn", "--device", "00:00:5e:00:53:99"])
        .arg(fixture("site-cemm-healthy.pcap"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--device 00:00:5e:00:53:99: no such device"),
        "{err}"
    );
}

#[test]
fn the_report_compares_a_device_with_its_profile() {
    let r = crate::common::analyze(&[fixture("site-cemm-healthy.pcap")]);
    let d = r
        .devices
        .iter()
        .find(|d| d.profile.as_deref() == Some("cemm"))
        .unwrap();
    let diff = d.profile_diff.as_ref().unwrap();
    assert_eq!(
        diff.documented_not_seen,
        ["support-tunnel: Outbound SSH support tunnel, when extra support is switched on"]
    );
    assert!(diff.seen_not_documented.is_empty());
}
