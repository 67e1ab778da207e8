//! The command line, through the built binary: every output format, `-o`,
//! `--filter`, `--fail-on` and the exit statuses of CONTRACT.md.

use crate::common::{assert_no_panic, assert_one_error_line, is_rfc3339_utc, run_bin, TempDir};
use serde_json::Value;

const BASIC: &str = "fixtures/basic.pcap";

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("output is UTF-8")
}

/// Runs `analyze ARGS`, requiring exit 0 and nothing on stderr.
fn analyze_ok(args: &[&str]) -> String {
    let mut full = vec!["analyze"];
    full.extend_from_slice(args);
    let out = run_bin(&full);
    let code = assert_no_panic(&out, &full.join(" "));
    assert_eq!(
        code,
        0,
        "{full:?}: stderr {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{full:?}: stderr {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out)
}

fn json_report(args: &[&str]) -> Value {
    let mut full = args.to_vec();
    full.extend(["--format", "json"]);
    serde_json::from_str(&analyze_ok(&full)).expect("--format json is one JSON object")
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// Every time the report writes is RFC 3339 UTC.
fn check_times(v: &Value, path: &str, bad: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{path}.{k}");
                if matches!(
                    k.as_str(),
                    "start" | "end" | "first_seen" | "last_seen" | "timestamp"
                ) {
                    match x {
                        Value::String(s) if is_rfc3339_utc(s) => {}
                        Value::Null if k == "start" || k == "end" => {}
                        other => bad.push(format!("{p} = {other}")),
                    }
                } else {
                    check_times(x, &p, bad);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                check_times(x, &format!("{path}[{i}]"), bad);
            }
        }
        _ => {}
    }
}

#[test]
fn json_report_has_the_contract_fields() {
    let v = json_report(&[BASIC]);
    for k in ["version", "capture", "devices", "findings"] {
        assert!(v.get(k).is_some(), "no {k}: {:?}", keys(&v));
    }
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    let c = &v["capture"];
    for k in [
        "files",
        "packets",
        "bytes",
        "start",
        "end",
        "undecodable",
        "truncated",
    ] {
        assert!(c.get(k).is_some(), "no capture.{k}: {:?}", keys(c));
    }
    assert_eq!(c["files"], serde_json::json!([BASIC]), "paths as given");
    assert_eq!(c["packets"], 44);
    assert_eq!(c["bytes"], 5116);
    assert_eq!(c["start"], "2026-03-01T10:00:00.000000Z");
    assert_eq!(c["end"], "2026-03-01T10:00:10.000000Z");
    assert_eq!(c["undecodable"], 0);
    assert_eq!(c["truncated"], 0);
    let devices = v["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 4);
    for d in devices {
        for k in [
            "mac",
            "ips",
            "hostname",
            "vendor",
            "profile",
            "identified_by",
            "names",
            "requirements",
        ] {
            assert!(d.get(k).is_some(), "device without {k}: {d}");
        }
        let mac = d["mac"].as_str().expect("Ethernet devices have a MAC");
        assert_eq!(mac, mac.to_lowercase());
        assert_eq!(mac.split(':').count(), 6, "{mac}");
        assert!(d["ips"].as_array().unwrap().iter().all(|i| i
            .as_str()
            .unwrap()
            .parse::<std::net::IpAddr>()
            .is_ok()));
        for q in d["requirements"].as_array().unwrap() {
            for k in ["id", "description", "status", "evidence"] {
                assert!(q.get(k).is_some(), "requirement without {k}: {q}");
            }
            assert!(
                ["pass", "fail", "warn", "not_observed"].contains(&q["status"].as_str().unwrap())
            );
        }
    }
    let macs: Vec<&str> = devices.iter().map(|d| d["mac"].as_str().unwrap()).collect();
    let findings = v["findings"].as_array().unwrap();
    assert!(!findings.is_empty(), "basic.pcap has blocked ports");
    for f in findings {
        for k in [
            "kind",
            "severity",
            "device",
            "profile",
            "requirement",
            "message",
            "first_seen",
            "last_seen",
            "count",
            "evidence",
        ] {
            assert!(f.get(k).is_some(), "finding without {k}: {f}");
        }
        assert!(
            ["error", "warning", "info"].contains(&f["severity"].as_str().unwrap()),
            "{f}"
        );
        assert!(
            macs.contains(&f["device"].as_str().unwrap()),
            "finding on an unknown device: {f}"
        );
        if f["kind"] == "blocked_port" {
            for k in ["proto", "port", "remote_ip", "how"] {
                assert!(f.get(k).is_some(), "blocked_port without {k}: {f}");
            }
            assert!(["tcp", "udp", "icmp"].contains(&f["proto"].as_str().unwrap()));
        }
        let ev = f["evidence"].as_array().unwrap();
        assert!(!ev.is_empty(), "{f}");
        for e in ev {
            assert_eq!(keys(e), ["file", "frame"], "{e}");
            assert_eq!(e["file"], 0);
            let n = e["frame"].as_u64().unwrap();
            assert!((1..=44).contains(&n), "frame numbers are 1-based: {e}");
        }
        assert!(f["count"].as_u64().unwrap() >= 1);
    }
    let mut bad = Vec::new();
    check_times(&v, "", &mut bad);
    assert!(bad.is_empty(), "not RFC 3339: {bad:?}");
}

#[test]
fn ndjson_is_events_ending_with_the_report() {
    let report = json_report(&[BASIC]);
    let text = analyze_ok(&[BASIC, "--format", "ndjson"]);
    assert!(text.ends_with('\n'));
    let lines: Vec<&str> = text.lines().collect();
    let events: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("line {l:?}: {e}")))
        .collect();
    let mut bad = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let ty = e["event_type"]
            .as_str()
            .unwrap_or_else(|| panic!("line {} has no event_type", i + 1));
        assert!(
            ["device", "finding", "stats", "report"].contains(&ty),
            "event_type {ty}"
        );
        match e["timestamp"].as_str() {
            Some(t) if is_rfc3339_utc(t) => {}
            other => bad.push(format!("line {}: timestamp {other:?}", i + 1)),
        }
        assert_eq!(
            ty == "report",
            i == lines.len() - 1,
            "only the last line is the report"
        );
    }
    assert!(bad.is_empty(), "{bad:?}");
    let count = |ty: &str| events.iter().filter(|e| e["event_type"] == ty).count();
    assert_eq!(count("device"), report["devices"].as_array().unwrap().len());
    assert_eq!(
        count("finding"),
        report["findings"].as_array().unwrap().len()
    );
    // The last line holds the same report --format json prints.
    let mut last = events.last().unwrap().clone();
    assert_eq!(
        last["timestamp"], "2026-03-01T10:00:10.000000Z",
        "the capture's end"
    );
    last.as_object_mut().unwrap().remove("event_type");
    last.as_object_mut().unwrap().remove("timestamp");
    assert_eq!(last, report);
}

/// An empty capture still ends with a report event whose timestamp is a
/// time, not an empty string (null where there is no capture time at all).
#[test]
fn ndjson_of_an_empty_capture() {
    let text = analyze_ok(&["fixtures/empty.pcap", "--format", "ndjson"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "no devices, no findings, one report: {text}"
    );
    let v: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(v["event_type"], "report");
    assert_eq!(v["capture"]["packets"], 0);
    let ts = &v["timestamp"];
    assert!(
        ts.is_null() || ts.as_str().is_some_and(is_rfc3339_utc),
        "the report event's timestamp is {ts}: not RFC 3339"
    );
}

#[test]
fn text_report_has_summary_devices_and_findings() {
    let report = json_report(&[BASIC]);
    let text = analyze_ok(&[BASIC]);
    assert_eq!(
        text,
        analyze_ok(&[BASIC, "--format", "text"]),
        "text is the default"
    );
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("egresswatch "), "{}", lines[0]);
    let summary = &text[..text.find("\nDEVICES\n").expect("a DEVICES section")];
    assert!(summary.contains(BASIC), "the file: {summary}");
    assert!(summary.contains("44"), "the packet count: {summary}");
    assert!(
        summary.contains("4 TCP") && summary.contains("8 UDP"),
        "the flows: {summary}"
    );
    assert!(
        summary.contains("2026-03-01T10:00:00.000000Z"),
        "the start: {summary}"
    );
    let devices_at = text.find("\nDEVICES\n").unwrap();
    let findings_at = text.find("\nFINDINGS\n").expect("a FINDINGS section");
    assert!(devices_at < findings_at);
    let devices = &text[devices_at..findings_at];
    for d in report["devices"].as_array().unwrap() {
        assert!(
            devices.contains(d["mac"].as_str().unwrap()),
            "{} not in DEVICES",
            d["mac"]
        );
    }
    let findings = &text[findings_at..];
    for f in report["findings"].as_array().unwrap() {
        assert!(
            findings.contains(f["message"].as_str().unwrap()),
            "{} not in FINDINGS",
            f["message"]
        );
    }
    let finding_lines = findings
        .lines()
        .filter(|l| {
            ["  INFO ", "  WARNING ", "  ERROR "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .count();
    assert_eq!(finding_lines, report["findings"].as_array().unwrap().len());
}

/// The cells of a markdown table row (escaped pipes are not separators).
fn cells(row: &str) -> usize {
    let b = row.as_bytes();
    (0..b.len())
        .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
        .count()
        - 1
}

#[test]
fn markdown_report_has_headings_and_tables() {
    let report = json_report(&[BASIC]);
    let md = analyze_ok(&[BASIC, "--format", "markdown"]);
    let lines: Vec<&str> = md.lines().collect();
    assert!(lines[0].starts_with("# "), "{}", lines[0]);
    assert!(lines.contains(&"## Devices"), "{md}");
    assert!(lines.contains(&"## Findings"), "{md}");
    // Every table is well formed: a header, a |---| rule, rows with as many cells.
    let mut i = 0;
    let mut tables = Vec::new();
    while i < lines.len() {
        if lines[i].starts_with('|') {
            let start = i;
            while i < lines.len() && lines[i].starts_with('|') {
                i += 1;
            }
            let t = &lines[start..i];
            assert!(
                t.len() >= 2 && t[1].starts_with("|---"),
                "table without a rule: {t:?}"
            );
            let n = cells(t[0]);
            for row in t {
                assert!(row.ends_with('|'), "{row}");
                assert_eq!(cells(row), n, "row {row:?} in table {:?}", t[0]);
            }
            tables.push(t.to_vec());
        } else {
            i += 1;
        }
    }
    let devices_at = lines.iter().position(|l| *l == "## Devices").unwrap();
    let findings_at = lines.iter().position(|l| *l == "## Findings").unwrap();
    let device_table = tables
        .iter()
        .find(|t| t[0].starts_with("| MAC"))
        .expect("a device table");
    assert_eq!(
        device_table.len() - 2,
        report["devices"].as_array().unwrap().len()
    );
    let pos = |t: &Vec<&str>| lines.iter().position(|l| *l == t[0]).unwrap();
    assert!(pos(device_table) > devices_at && pos(device_table) < findings_at);
    let finding_table = tables.last().unwrap();
    assert!(pos(finding_table) > findings_at);
    assert_eq!(
        finding_table.len() - 2,
        report["findings"].as_array().unwrap().len()
    );
    for d in report["devices"].as_array().unwrap() {
        assert!(device_table
            .iter()
            .any(|r| r.contains(d["mac"].as_str().unwrap())));
    }
}

#[test]
fn output_file_is_written_whole_with_no_temporary_left() {
    let dir = TempDir::new("cli-o");
    let target = dir.path().join("report.json");
    let t = target.to_str().unwrap();
    let printed = analyze_ok(&[BASIC, "--format", "json", "-o", t]);
    assert!(
        printed.is_empty(),
        "with -o nothing goes to stdout: {printed}"
    );
    assert_eq!(
        dir.names(),
        ["report.json"],
        "only the report, no temporary file"
    );
    let written: Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert_eq!(written, json_report(&[BASIC]));
    // --output replaces an existing file.
    std::fs::write(&target, b"old").unwrap();
    analyze_ok(&[BASIC, "--format", "markdown", "--output", t]);
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        analyze_ok(&[BASIC, "--format", "markdown"])
    );
    assert_eq!(dir.names(), ["report.json"]);
}

/// An input that cannot be used leaves no output file, not even an empty one.
#[test]
fn output_file_is_not_written_when_the_input_fails() {
    let dir = TempDir::new("cli-o-fail");
    let target = dir.path().join("report.md");
    let out = run_bin(&[
        "analyze",
        "fixtures/bad-magic.pcap",
        "-o",
        target.to_str().unwrap(),
    ]);
    assert_eq!(assert_no_panic(&out, "bad input with -o"), 2);
    assert_one_error_line(&out, "fixtures/bad-magic.pcap", "bad input with -o");
    assert!(dir.names().is_empty(), "left behind: {:?}", dir.names());
    // An output directory that does not exist: exit 2, one line naming it.
    let nowhere = dir.path().join("no-such-dir").join("report.md");
    let out = run_bin(&["analyze", BASIC, "-o", nowhere.to_str().unwrap()]);
    assert_eq!(assert_no_panic(&out, "-o into a missing directory"), 2);
    assert_one_error_line(
        &out,
        nowhere.to_str().unwrap(),
        "-o into a missing directory",
    );
}

#[test]
fn filter_keeps_only_matching_frames() {
    let tcp = json_report(&[BASIC, "--filter", "tcp"]);
    // TCP frames: 12 (HTTPS) + 6 (IPv6 LAN) + 4 (SYNs to 8883) + 2 (RST'd).
    assert_eq!(tcp["capture"]["packets"], 24);
    assert_eq!(tcp["capture"]["flows"]["tcp"], 4);
    assert_eq!(tcp["capture"]["flows"]["udp"], 0);
    let dns = json_report(&[BASIC, "--filter", "port 53"]);
    // Frames 7-8 and 21-22.
    assert_eq!(dns["capture"]["packets"], 4);
    assert_eq!(dns["capture"]["flows"]["udp"], 2);
    assert_eq!(dns["capture"]["flows"]["tcp"], 0);
    assert_eq!(dns["capture"]["start"], "2026-03-01T10:00:00.100000Z");
    assert_eq!(dns["capture"]["end"], "2026-03-01T10:00:01.409000Z");
    let pi = dns["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["mac"] == "b8:27:eb:12:34:56")
        .expect("the Pi");
    let dests = pi["destinations"].as_array().unwrap();
    assert_eq!(dests.len(), 1);
    assert_eq!(
        (dests[0]["proto"].as_str(), dests[0]["port"].as_u64()),
        (Some("udp"), Some(53))
    );
    assert_eq!(dests[0]["outcomes"]["ok"], 2);
    // A filter matching everything changes nothing but the notes.
    let all = json_report(&[BASIC, "--filter", "ip or ip6 or arp"]);
    let mut plain = json_report(&[BASIC]);
    assert_eq!(all["devices"], plain["devices"]);
    assert_eq!(all["findings"], plain["findings"]);
    plain["capture"]["problems"] = all["capture"]["problems"].clone();
    assert_eq!(all["capture"], plain["capture"]);
}

#[test]
fn bad_filter_is_exit_2_naming_the_option() {
    for expr in ["tcp and", "port 99999", "nonsense words here"] {
        let out = run_bin(&["analyze", BASIC, "--filter", expr]);
        assert_eq!(assert_no_panic(&out, expr), 2, "--filter {expr:?}");
        assert_one_error_line(&out, "--filter", expr);
    }
}

#[test]
fn fail_on_follows_the_severities_reported() {
    let report = json_report(&[BASIC]);
    let sev = |s: &str| match s {
        "info" => 0,
        "warning" => 1,
        "error" => 2,
        other => panic!("severity {other}"),
    };
    let worst = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| sev(f["severity"].as_str().unwrap()))
        .max();
    for (level, threshold) in [("never", None), ("warning", Some(1)), ("error", Some(2))] {
        let out = run_bin(&["analyze", BASIC, "--format", "json", "--fail-on", level]);
        let code = assert_no_panic(&out, level);
        let expected = match (threshold, worst) {
            (Some(t), Some(w)) if w >= t => 1,
            _ => 0,
        };
        assert_eq!(
            code, expected,
            "--fail-on {level} with worst severity {worst:?}"
        );
        // The report is printed whatever the status.
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v, report);
    }
    // A clean capture never fails.
    for level in ["warning", "error"] {
        let out = run_bin(&[
            "analyze",
            "fixtures/endian-nano.pcap",
            "--format",
            "json",
            "--fail-on",
            level,
        ]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["findings"], serde_json::json!([]));
        assert_eq!(assert_no_panic(&out, level), 0);
    }
    // An input error is 2, not 1.
    let out = run_bin(&["analyze", "fixtures/bad-magic.pcap", "--fail-on", "warning"]);
    assert_eq!(assert_no_panic(&out, "bad input --fail-on warning"), 2);
    // An unknown level is a usage error.
    let out = run_bin(&["analyze", BASIC, "--fail-on", "info"]);
    assert_eq!(assert_no_panic(&out, "--fail-on info"), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fail-on"));
}

#[test]
fn missing_file_is_exit_2_naming_it() {
    for args in [
        vec!["analyze", "fixtures/no-such-file.pcap"],
        vec!["analyze", BASIC, "fixtures/no-such-file.pcap"],
        vec!["analyze", "fixtures/no-such-file.pcap", "--format", "json"],
    ] {
        let out = run_bin(&args);
        assert_eq!(assert_no_panic(&out, &args.join(" ")), 2, "{args:?}");
        assert_one_error_line(&out, "fixtures/no-such-file.pcap", &args.join(" "));
    }
}

#[test]
fn directory_is_exit_2_naming_it() {
    let out = run_bin(&["analyze", "fixtures"]);
    assert_eq!(assert_no_panic(&out, "a directory"), 2);
    assert_one_error_line(&out, "fixtures", "a directory");
}

#[test]
fn no_files_is_a_usage_error() {
    let out = run_bin(&["analyze"]);
    assert_eq!(assert_no_panic(&out, "no files"), 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Usage"), "clap's usage: {stderr}");
    assert!(stderr.contains("FILE"), "{stderr}");
    assert!(out.stdout.is_empty());
}

/// Several files, one of them damaged inside: exit 0, the damage listed.
#[test]
fn a_damaged_file_among_good_ones_is_reported_not_fatal() {
    let v = json_report(&[BASIC, "fixtures/bad-cut-record.pcap"]);
    assert_eq!(v["capture"]["packets"], 44 + 2);
    let problems = v["capture"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0]
        .as_str()
        .unwrap()
        .contains("fixtures/bad-cut-record.pcap"));
}

/// When the report cannot be put in place (here the target is a
/// directory), the run fails with one line naming the target and leaves
/// no temporary file behind.
#[test]
fn output_failure_leaves_no_temporary_file() {
    let dir = TempDir::new("cli-o-rename");
    let target = dir.path().join("out");
    std::fs::create_dir(&target).unwrap();
    let out = run_bin(&["analyze", BASIC, "-o", target.to_str().unwrap()]);
    assert_eq!(assert_no_panic(&out, "-o onto a directory"), 2);
    assert_one_error_line(&out, target.to_str().unwrap(), "-o onto a directory");
    assert_eq!(dir.names(), ["out"], "left behind beside the target");
}

#[test]
fn output_to_a_device_writes_through_it() {
    // `-o /dev/null` must not rename a file over the device (tmux, and
    // everything else on the machine, needs /dev/null).
    use std::os::unix::fs::FileTypeExt;
    let dev = std::path::Path::new("/dev/null");
    assert!(
        std::fs::metadata(dev).unwrap().file_type().is_char_device(),
        "/dev/null is not a device before the test: something replaced it"
    );
    analyze_ok(&[BASIC, "-o", "/dev/null"]);
    assert!(
        std::fs::metadata(dev).unwrap().file_type().is_char_device(),
        "-o /dev/null replaced the device with a file"
    );
}
