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
