//! The live sensor: the sharded engines against `analyze`, the command's
//! errors, and (as root, with `ip netns` and `tcpreplay`) captures replayed
//! on a veth pair.

use crate::common::{analyze, fixture, shared_captures};
use egresswatch::capture::merge::Merge;
use egresswatch::engine::EngineConfig;
use egresswatch::live::shard::{self, Sharded};
use egresswatch::profile::{self, Site};
use egresswatch::report::{self, Checks, Report};
use serde_json::Value;
use std::path::PathBuf;

/// Every capture the sharded path is held to: the fixtures that open, the
/// site pairs, and the shared real captures.
fn cases() -> Vec<Vec<PathBuf>> {
    let mut out = Vec::new();
    let dir = fixture("basic.pcap").parent().unwrap().to_path_buf();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| (n.ends_with(".pcap") || n.ends_with(".pcapng")) && !n.starts_with("bad-"))
        .collect();
    names.sort();
    for n in names {
        out.push(vec![dir.join(n)]);
    }
    out.push(vec![
        fixture("site-zaptec-broken.pcap"),
        fixture("site-zaptec-broken-wifi.pcap"),
    ]);
    out.push(vec![fixture("merge-a.pcap"), fixture("merge-b.pcap")]);
    let shared = shared_captures();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&shared)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    names.sort();
    for p in names {
        out.push(vec![p]);
    }
    out
}

fn sharded(files: &[PathBuf], workers: usize) -> Report {
    let mut merge = Merge::open(files).unwrap();
    let mut s = Sharded::new(EngineConfig::default(), workers);
    while let Some(f) = merge.next_frame() {
        s.push(&f);
    }
    let engine = s.finish();
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let profiles = profile::builtin().unwrap();
    let site = Site::default();
    report::build(
        &engine,
        &names,
        Vec::new(),
        Checks {
            profiles: &profiles,
            site: &site,
        },
    )
}

/// The parts of a report the shards must reproduce exactly: every finding,
/// and every device but its received-frame counters (a frame to a MAC is
/// counted by the shard that saw it only once that shard knows the MAC:
/// see src/live/shard.rs).
fn comparable(r: &Report) -> (Value, Value) {
    let findings = serde_json::to_value(&r.findings).unwrap();
    let mut devices = serde_json::to_value(&r.devices).unwrap();
    for d in devices.as_array_mut().unwrap() {
        let m = d.as_object_mut().unwrap();
        m.remove("packets_received");
        m.remove("bytes_received");
    }
    (findings, devices)
}

/// Where two JSON values first differ, as a path and both values.
fn first_diff(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                first_diff(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &format!("{path}.{k}"),
                )
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_diff(p, q, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: {a} != {b}")),
    }
}

#[test]
fn sharded_engines_report_what_analyze_reports() {
    for files in cases() {
        let want = analyze(&files);
        let (wf, wd) = comparable(&want);
        for workers in [1, 2, 3] {
            let got = sharded(&files, workers);
            let (gf, gd) = comparable(&got);
            if let Some(d) = first_diff(&gf, &wf, "findings").or(first_diff(&gd, &wd, "devices"))
            {
                panic!("{files:?} with {workers} workers (left) and analyze differ at {d}");
            }
            assert_eq!(got.capture.packets, want.capture.packets);
            assert_eq!(got.capture.stats.non_ip, want.capture.stats.non_ip);
        }
    }
}

#[test]
fn the_fast_shard_key_agrees_with_the_decoder() {
    for files in cases() {
        let mut merge = Merge::open(&files).unwrap();
        while let Some(f) = merge.next_frame() {
            assert_eq!(
                shard::host_key(&f),
                shard::host_key_decoded(&f),
                "{files:?} frame {}",
                f.number
            );
        }
    }
}
