//! The committed fixtures are exactly what the generator makes.

use std::path::Path;
use std::process::Command;

fn fixtures_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

#[test]
fn fixtures_match_the_generator() {
    let mismatches = egresswatch::testgen::check(&fixtures_dir()).expect("read fixtures/");
    let list: Vec<String> = mismatches.iter().map(ToString::to_string).collect();
    assert!(
        list.is_empty(),
        "fixtures out of sync with src/testgen (run `cargo run --bin egresswatch-fixtures -- fixtures`):\n{}",
        list.join("\n")
    );
    // Every fixture the generator makes is one the tests know about.
    let mut known: Vec<&str> = crate::common::VALID_FIXTURES.iter().map(|f| f.0).collect();
    known.extend(crate::common::HOSTILE_FIXTURES.iter().map(|f| f.0));
    known.extend(crate::common::HOSTILE_PACKET_FIXTURES.iter().map(|f| f.0));
    known.extend(SITE_FIXTURES.iter().map(|f| f.0));
    known.sort_unstable();
    let mut made: Vec<&str> = egresswatch::testgen::all().iter().map(|f| f.name).collect();
    made.sort_unstable();
    assert_eq!(
        made, known,
        "fixtures the tests do not cover, or cover but the generator lacks"
    );
}

/// The site scenarios of `src/testgen/sites.rs` with the counts fixtures/README.md gives:
/// packets, and TShark's TCP and UDP conversations.
pub const SITE_FIXTURES: &[(&str, u64, u64, u64)] = &[
    ("site-zaptec-healthy.pcap", 175, 13, 18),
    ("site-zaptec-healthy-wifi.pcap", 95, 0, 0),
    ("site-zaptec-broken.pcap", 157, 14, 19),
    ("site-zaptec-broken-wifi.pcap", 81, 0, 0),
    ("site-zaptec-oneway.pcap", 27, 3, 6),
    ("site-cemm-healthy.pcap", 119, 5, 6),
    ("site-cemm-broken.pcap", 66, 4, 8),
    ("site-knx-healthy.pcap", 183, 15, 17),
    ("site-knx-broken.pcap", 107, 9, 10),
    ("site-clock-healthy.pcap", 105, 5, 9),
    ("site-clock-broken.pcap", 77, 7, 9),
    ("site-cassia-healthy.pcap", 97, 3, 7),
    ("site-cassia-broken.pcap", 78, 5, 7),
];

/// Every site capture is read whole (the README's packet count, nothing undecodable or
/// cut), and TShark counts the conversations the README gives.
#[test]
fn site_fixtures_are_read_whole() {
    for &(name, packets, tcp, udp) in SITE_FIXTURES {
        let path = crate::common::fixture(name);
        let r = crate::common::analyze(std::slice::from_ref(&path));
        assert_eq!(r.capture.packets, packets, "{name}");
        assert_eq!(
            (r.capture.undecodable, r.capture.truncated),
            (0, 0),
            "{name}"
        );
        let p = path.to_str().unwrap();
        let conv = |kind: &str| {
            let out = crate::common::tshark(&["-r", p, "-q", "-z", kind]);
            out.lines().filter(|l| l.contains("<->")).count() as u64
        };
        assert_eq!((conv("conv,tcp"), conv("conv,udp")), (tcp, udp), "{name}");
    }
}

#[test]
fn fixtures_check_command_exits_0() {
    let out = Command::new(env!("CARGO_BIN_EXE_egresswatch-fixtures"))
        .args(["--check", "fixtures"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run egresswatch-fixtures");
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout {} stderr {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The generator is deterministic and `--check` notices a changed file.
#[test]
fn fixtures_check_command_finds_a_difference() {
    let dir = crate::common::TempDir::new("fixtures-check");
    assert_eq!(
        egresswatch::testgen::check(dir.path()).unwrap().len(),
        egresswatch::testgen::all().len()
    );
    egresswatch::testgen::write_all(dir.path()).unwrap();
    assert!(egresswatch::testgen::check(dir.path()).unwrap().is_empty());
    std::fs::write(dir.path().join("basic.pcap"), b"changed").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_egresswatch-fixtures"))
        .arg("--check")
        .arg(dir.path())
        .output()
        .expect("run egresswatch-fixtures");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("basic.pcap"));
}
