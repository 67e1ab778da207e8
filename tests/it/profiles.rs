//! `profiles list|show|lint`, `--rules` and `--site` from the command line:
//! the output, and one clear line with exit status 2 for bad input.

use crate::common::{bin, fixture, TempDir};
use std::path::Path;
use std::process::Output;

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run egresswatch")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn rules_dir() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("rules")
        .display()
        .to_string()
}

#[test]
fn list_shows_the_five_builtin_profiles() {
    let out = run(&["profiles", "list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    for id in [
        "zaptec-pro",
        "cemm",
        "knx-ets6",
        "clock-iot",
        "cassia-x2000",
    ] {
        assert!(
            s.lines().any(|l| l.starts_with(id)),
            "{id} missing from:\n{s}"
        );
    }
    let out = run(&["profiles", "list", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().map(|a| a.len()), Some(5));
    assert_eq!(v[0]["id"], "cassia-x2000");
    assert_eq!(v[0]["requirements"][0]["kind"], "egress");
}

#[test]
fn show_cites_the_vendor_document() {
    let out = run(&["profiles", "show", "zaptec-pro"]);
    assert!(out.status.success());
    let s = text(&out.stdout);
    assert!(
        s.contains("checks: outbound TCP 8883 to zapcloud.azure-devices.net"),
        "{s}"
    );
    assert!(s.contains("cites zaptec-network"), "{s}");
    assert!(s.contains("seeds/000_11e536addac3e04f.txt"), "{s}");

    let out = run(&["profiles", "show", "no-such-device"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no profile `no-such-device`"), "{err}");
}

#[test]
fn lint_accepts_the_shipped_rules() {
    let out = run(&["profiles", "lint", &rules_dir()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("5 profiles, no errors"));
}

const BAD_A: &str = r#"id = "bad-a"
name = "A"
vendor = "V"
colour = "red"

[[document]]
id = "d"
title = "T"
source = "x"

[identify]
[[identify.signal]]
name = "a.example.com"

[[requirement]]
id = "r"
kind = "egress"
description = "x"
cite = "d"
ports = [70000]
names = ["a.example.com"]
"#;

const BAD_B: &str = "id = \"bad-b\"\nname = [\n";

#[test]
fn lint_reports_every_error_with_file_and_line() {
    let dir = TempDir::new("lint");
    std::fs::write(dir.path().join("a.toml"), BAD_A).unwrap();
    std::fs::write(dir.path().join("b.toml"), BAD_B).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a profile").unwrap();
    let out = run(&["profiles", "lint", &dir.path().display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    let a = dir.path().join("a.toml").display().to_string();
    let b = dir.path().join("b.toml").display().to_string();
    assert!(
        lines.contains(&format!("{a}:4: unknown key `colour` in the profile (allowed: id, name, vendor, device, document, identify, site, requirement)").as_str()),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{a}:20: `ports` must be"))),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{b}:2: not valid TOML"))),
        "{err}"
    );
    assert_eq!(lines.len(), 3, "{err}");
}

#[test]
fn analyze_with_bad_rules_or_site_says_one_line_and_exits_2() {
    let dir = TempDir::new("badrules");
    std::fs::write(dir.path().join("a.toml"), BAD_A).unwrap();
    let basic = fixture("basic.pcap").display().to_string();
    let out = run(&[
        "analyze",
        &basic,
        "--rules",
        &dir.path().display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("a.toml:4: unknown key `colour`"), "{err}");
    assert!(
        err.contains("and 1 more: egresswatch profiles lint"),
        "{err}"
    );

    let site = dir.path().join("site.toml");
    std::fs::write(
        &site,
        "[cassia-x2000]\ncontroller = \"1.2.3.4\"\nport = 5\n",
    )
    .unwrap();
    let out = run(&["analyze", &basic, "--site", &site.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("site.toml:3: profile `cassia-x2000` has no site value `port`"),
        "{err}"
    );

    let out = run(&["analyze", &basic, "--rules", "/nonexistent/rules"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/rules: cannot read the folder"));
}

#[test]
fn rules_folder_replaces_the_builtins() {
    // A folder with one profile that claims every device on basic.pcap's
    // Raspberry Pi: the report uses it and no built-in profile.
    let dir = TempDir::new("rules");
    std::fs::write(
        dir.path().join("pi.toml"),
        r#"id = "any-pi"
name = "Any Pi"
vendor = "Test"
[[document]]
id = "d"
title = "test"
source = "here"
[identify]
[[identify.signal]]
vendor = "raspberry pi*"
[[requirement]]
id = "web"
kind = "egress"
description = "HTTPS anywhere"
cite = "d"
ports = [443]
names = ["*"]
"#,
    )
    .unwrap();
    let basic = fixture("basic.pcap").display().to_string();
    let out = run(&[
        "analyze",
        &basic,
        "--format",
        "json",
        "--rules",
        &dir.path().display().to_string(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let profiled: Vec<&serde_json::Value> = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| !d["profile"].is_null())
        .collect();
    assert!(!profiled.is_empty());
    for d in profiled {
        assert_eq!(d["profile"], "any-pi");
        assert_eq!(d["identified_by"][0], "oui");
        assert_eq!(d["requirements"][0]["id"], "web");
    }
}

/// Profiles to and from MUD files (RFC 8520) through the command line.
mod mud {
    use super::{run, text};
    use crate::common::{assert_one_error_line, bin, TempDir};
    use egresswatch::testgen::build::{
        dhcpmsg, ethernet, ethertype, Dhcp, Ip, Ipv4, Vlan, BROADCAST,
    };
    use egresswatch::testgen::writer::PcapWriter;

    fn notes_only(stderr: &[u8]) {
        let err = text(stderr);
        assert!(
            err.lines().all(|l| l.starts_with("note: ")),
            "stderr holds more than notes: {err}"
        );
    }

    #[test]
    fn export_then_import_gives_a_profile_lint_accepts() {
        let dir = TempDir::new("mud");
        let out = run(&["profiles", "export-mud", "zaptec-pro"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        notes_only(&out.stderr);
        assert!(text(&out.stderr).contains("note: requirement `wifi-channel` (wifi)"));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["ietf-mud:mud"]["mud-version"], 1);
        let last = v["ietf-mud:mud"]["last-update"].as_str().unwrap();
        assert!(crate::common::is_rfc3339_utc(last), "{last}");
        let mud = dir.path().join("zaptec-pro.json");
        std::fs::write(&mud, &out.stdout).unwrap();

        let rules = dir.path().join("rules");
        std::fs::create_dir(&rules).unwrap();
        let toml = rules.join("zaptec-pro.toml");
        let out = run(&[
            "profiles",
            "import-mud",
            &mud.display().to_string(),
            "-o",
            &toml.display().to_string(),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(out.stdout.is_empty());
        notes_only(&out.stderr);
        let written = std::fs::read_to_string(&toml).unwrap();
        assert!(written.contains("id = \"zaptec-pro\""), "{written}");
        assert!(
            written.contains("names = [\"zapcloud.azure-devices.net\"]"),
            "{written}"
        );

        let out = run(&["profiles", "lint", &rules.display().to_string()]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("1 profiles, no errors"));
        let out = run(&[
            "profiles",
            "show",
            "zaptec-pro",
            "--rules",
            &rules.display().to_string(),
        ]);
        assert!(
            text(&out.stdout)
                .contains("announces the MUD URL https://mud.example.com/zaptec-pro.json"),
            "{}",
            text(&out.stdout)
        );
    }

    #[test]
    fn bad_mud_files_say_one_line_and_exit_2() {
        let dir = TempDir::new("mudbad");
        let cases = [
            (
                "syntax.json",
                "{\n  \"ietf-mud:mud\": {,\n}",
                "syntax.json:2: not JSON",
            ),
            ("other.json", "{\"name\": \"not mud\"}", "not a MUD file"),
            (
                "missing.json",
                r#"{"ietf-mud:mud": {"from-device-policy": {"access-lists": {"access-list": [{"name": "gone"}]}}}}"#,
                "names the access list `gone`",
            ),
        ];
        for (name, body, says) in cases {
            let f = dir.path().join(name);
            std::fs::write(&f, body).unwrap();
            let out = run(&["profiles", "import-mud", &f.display().to_string()]);
            assert_eq!(out.status.code(), Some(2), "{name}");
            assert_one_error_line(&out, says, name);
        }
        let out = run(&["profiles", "import-mud", "/nonexistent/x.json"]);
        assert_eq!(out.status.code(), Some(2));
        assert_one_error_line(&out, "/nonexistent/x.json", "missing file");
        let out = run(&[
            "profiles",
            "export-mud",
            "cemm",
            "--mud-url",
            "http://example.com/x",
        ]);
        assert_eq!(out.status.code(), Some(2));
        assert_one_error_line(&out, "https", "plain http URL");
    }

    const BULB: &str = r#"{
      "ietf-mud:mud": {
        "mud-version": 1,
        "mud-url": "https://lighting.example.com/lightbulb2000",
        "systeminfo": "The BMS Example Light Bulb",
        "from-device-policy": {"access-lists": {"access-list": [{"name": "mud-76100-v4fr"}]}}
      },
      "ietf-access-control-list:acls": {"acl": [{"name": "mud-76100-v4fr", "type": "ipv4-acl-type",
        "aces": {"ace": [{"name": "cl0-frdev",
          "matches": {"ipv4": {"ietf-acldns:dst-dnsname": "service.bms.example.com", "protocol": 6},
                      "tcp": {"ietf-mud:direction-initiated": "from-device",
                              "destination-port": {"operator": "eq", "port": 443}}},
          "actions": {"forwarding": "accept"}}]}}]}
    }"#;

    /// One DHCP DISCOVER from a device announcing `url` (option 161).
    fn announcing(url: &str) -> Vec<u8> {
        let mac = [0x02, 0x00, 0x5e, 0x10, 0x20, 0x30];
        let discover = Dhcp::client(dhcpmsg::DISCOVER, 0x1234_5678, mac)
            .hostname("bulb")
            .opt(161, url.as_bytes());
        let mut ipv4 = Ipv4::new([0; 4], [255; 4]);
        ipv4.df = false;
        let pkt = Ip::V4(ipv4).udp(68, 67, &discover.build());
        let frame = ethernet(BROADCAST, mac, Vlan::Untagged, ethertype::IPV4, &pkt);
        let mut w = PcapWriter::ethernet_le();
        w.push(1_700_000_000_000_000_000, &frame);
        w.finish()
    }

    #[test]
    fn an_imported_profile_recognises_the_device_by_its_mud_url() {
        let dir = TempDir::new("mudid");
        let mud = dir.path().join("bulb.json");
        std::fs::write(&mud, BULB).unwrap();
        let rules = dir.path().join("rules");
        std::fs::create_dir(&rules).unwrap();
        let out = run(&["profiles", "import-mud", &mud.display().to_string()]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
        std::fs::write(rules.join("bulb.toml"), &out.stdout).unwrap();

        for (url, want) in [
            (
                "https://lighting.example.com/lightbulb2000",
                Some("lightbulb2000"),
            ),
            ("https://lighting.example.com/lightbulb3000", None),
        ] {
            let pcap = dir.path().join("bulb.pcap");
            std::fs::write(&pcap, announcing(url)).unwrap();
            let out = bin()
                .args([
                    "analyze",
                    &pcap.display().to_string(),
                    "--format",
                    "json",
                    "--rules",
                    &rules.display().to_string(),
                ])
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", text(&out.stderr));
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let dev = &v["devices"][0];
            assert_eq!(dev["profile"].as_str(), want, "{url}: {dev}");
            if want.is_some() {
                assert_eq!(dev["identified_by"], serde_json::json!(["mud-url"]));
            }
        }
    }
}
