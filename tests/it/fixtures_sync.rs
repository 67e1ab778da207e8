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
    known.sort_unstable();
    let mut made: Vec<&str> = egresswatch::testgen::all().iter().map(|f| f.name).collect();
    made.sort_unstable();
    assert_eq!(
        made, known,
        "fixtures the tests do not cover, or cover but the generator lacks"
    );
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
