//! Helpers shared by the integration tests.

use egresswatch::analyze::{self, Options};
use egresswatch::engine::EngineConfig;
use egresswatch::report::Report;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The shared real captures, beside the checkout. Their absence is a
/// failure: CI has them, and a test that skips proves nothing.
pub fn shared_captures() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures");
    assert!(
        dir.join("MANIFEST.tsv").is_file(),
        "{} is missing: the real captures live in ../shared beside the checkout",
        dir.display()
    );
    dir
}

/// The project's own fixtures.
pub fn fixture(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name);
    assert!(p.is_file(), "fixture {} is missing", p.display());
    p
}

/// One row of MANIFEST.tsv.
pub struct ManifestRow {
    pub file: String,
    pub packets: u64,
    pub description: String,
}

pub fn manifest() -> Vec<ManifestRow> {
    let text = std::fs::read_to_string(shared_captures().join("MANIFEST.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (f, p, d) = (col("file"), col("packets"), col("description"));
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            ManifestRow {
                file: cells[f].to_string(),
                packets: cells[p].parse().unwrap(),
                description: cells[d].to_string(),
            }
        })
        .collect()
}

/// Analyses files with the library, as `analyze` does.
pub fn analyze_with(files: &[PathBuf], engine: EngineConfig) -> Report {
    let opts = Options {
        files: files.to_vec(),
        filter: None,
        engine,
    };
    analyze::run(&opts, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"))
}

pub fn analyze(files: &[PathBuf]) -> Report {
    analyze_with(files, EngineConfig::default())
}

/// Runs tshark, which .ci/run installs; its absence is a failure.
pub fn tshark(args: &[&str]) -> String {
    let out = Command::new("tshark")
        .args(args)
        .output()
        .expect("tshark is needed by these tests (apt-get install tshark; .ci/run does)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The built binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_egresswatch"))
}
