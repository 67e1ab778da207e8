//! Floods from the project's own generator (`egresswatch-fixtures flood`):
//! every table stops at its cap and says how much it turned away. Peak
//! memory under the full-size floods is measured outside the tests (see
//! the README's limits section); here the caps themselves are asserted.

use crate::common::{analyze_with, TempDir};
use egresswatch::device::{MAX_CLIENTS, MAX_MACS};
use egresswatch::engine::EngineConfig;
use egresswatch::flow::FlowConfig;

fn flood(dir: &TempDir, kind: &str, packets: u64) -> std::path::PathBuf {
    let path = dir.path().join(format!("{kind}.pcap"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    egresswatch::testgen::flood::write(kind, packets, &mut f).unwrap();
    drop(f);
    path
}

#[test]
fn random_source_macs_stop_at_the_device_cap() {
    let dir = TempDir::new("flood-macs");
    let n = MAX_MACS as u64 + 5_000;
    let r = analyze_with(&[flood(&dir, "macs", n)], EngineConfig::default());
    assert_eq!(r.devices.len(), MAX_MACS);
    assert_eq!(r.capture.dropped.macs, n - MAX_MACS as u64);
}

#[test]
fn a_syn_flood_evicts_flows_and_caps_clients() {
    let dir = TempDir::new("flood-syn");
    let n = MAX_CLIENTS as u64 + 3_000;
    let cfg = EngineConfig {
        flow: FlowConfig {
            max_flows: 4_096,
            ..FlowConfig::default()
        },
    };
    let r = analyze_with(&[flood(&dir, "syn", n)], cfg);
    assert_eq!(r.capture.flows.created, n);
    assert_eq!(r.capture.flows.evicted, n - 4_096);
    // Each flooding source is a client of the LAN server: past the cap,
    // their summaries are counted, not kept (a source may repeat).
    assert!(
        r.capture.dropped.destinations >= 2_900,
        "{:?}",
        r.capture.dropped
    );
    assert!(
        r.capture.dropped.destinations <= 3_000,
        "{:?}",
        r.capture.dropped
    );
}

#[test]
fn thousands_of_records_fill_the_dns_cache_and_count_the_rest() {
    let dir = TempDir::new("flood-dns");
    let r = analyze_with(&[flood(&dir, "dns", 10)], EngineConfig::default());
    // 10 responses of 1,000 A records for one client: the parser reads the
    // first 256 of each section, the cache keeps 2,048 addresses per
    // client and counts the rest.
    let read = 10 * egresswatch::proto::dns::MAX_RECORDS_PER_SECTION as u64;
    assert_eq!(r.capture.dropped.dns_cache, read - 2_048);
}

#[test]
fn never_answered_queries_cap_names_and_questions() {
    let dir = TempDir::new("flood-names");
    let r = analyze_with(&[flood(&dir, "names", 3_000)], EngineConfig::default());
    let d = &r.devices[0];
    assert_eq!(d.names.len(), egresswatch::device::facts::MAX_NAMES);
    assert_eq!(
        r.capture.dropped.names,
        3_000 - egresswatch::device::facts::MAX_NAMES as u64
    );
    assert_eq!(
        r.capture.dropped.dns_questions,
        3_000 - egresswatch::device::facts::MAX_DNS_QUESTIONS as u64
    );
}

/// `--max-flows` sets the flow table's size from the command line (the
/// table is most of a flood's memory); a size of 0 is refused.
#[test]
fn max_flows_is_settable_on_the_command_line() {
    let dir = TempDir::new("flood-max-flows");
    let syn = flood(&dir, "syn", 5_000);
    let out = crate::common::bin()
        .args(["analyze", "--max-flows", "1000", "--format", "json"])
        .arg(&syn)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["capture"]["flows"]["created"], 5_000);
    assert_eq!(r["capture"]["flows"]["evicted"], 4_000);
    let out = crate::common::bin()
        .args(["analyze", "--max-flows", "0"])
        .arg(&syn)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-flows"));
}
