//! The fuzz targets' entry points (`egresswatch::fuzzing`) run over the
//! project's fixtures, every app-layer payload in them, and deterministic
//! mutations of both: a smoke run of what `fuzz/run.sh` does for minutes,
//! in the ordinary test run. Any crash a fuzzer finds is added under
//! `fuzz/regressions/TARGET/` and replayed here.

use crate::common::Rng;
use egresswatch::capture::file::FileReader;
use egresswatch::fuzzing::TARGETS;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every fixture capture's bytes.
fn fixtures() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(root().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    paths.sort();
    for p in paths {
        out.push(std::fs::read(p).unwrap());
    }
    out
}

/// The payload of every frame of every fixture (what the app-layer
/// parsers see), deduplicated.
fn payloads(files: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for f in files {
        let Ok(mut r) = FileReader::new(std::io::Cursor::new(f.as_slice()), "f".into(), 0) else {
            continue;
        };
        while let Some(frame) = r.next_frame() {
            if let Ok(p) = egresswatch::decode::decode(&frame) {
                if !p.payload.is_empty() && !out.iter().any(|x| x == p.payload) {
                    out.push(p.payload.to_vec());
                }
            }
        }
    }
    out
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(4) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len() as u64) as usize;
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len() as u64) as usize;
                v[i] = [0, 0xff, 0x7f, 0x80][rng.below(4) as usize];
            }
            2 => {
                let cut = rng.below(v.len() as u64 + 1) as usize;
                v.truncate(cut);
            }
            _ => {
                let i = rng.below(v.len() as u64 + 1) as usize;
                let n = 1 + rng.below(8) as usize;
                let junk = rng.bytes(n);
                v.splice(i..i, junk);
            }
        }
    }
    v
}

#[test]
fn every_target_survives_the_fixtures_and_their_mutations() {
    let files = fixtures();
    assert!(files.len() >= 30);
    let payloads = payloads(&files);
    assert!(payloads.len() > 200, "{}", payloads.len());
    let mut rng = Rng(0x00f0_22ed);
    for (name, target) in TARGETS {
        let inputs: &[Vec<u8>] = match *name {
            "capture" | "pipeline" => &files,
            _ => &payloads,
        };
        let rounds = match *name {
            "pipeline" => 2,
            "capture" => 20,
            _ => 3,
        };
        for input in inputs {
            target(input);
            for _ in 0..rounds {
                target(&mutate(&mut rng, input));
            }
        }
    }
}

#[test]
fn the_profile_loaders_survive_the_shipped_rules_mutated() {
    let mut rng = Rng(0x0070_0001);
    let profile = egresswatch::fuzzing::profile;
    for entry in std::fs::read_dir(root().join("rules")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let text = std::fs::read(&p).unwrap();
            profile(&text);
            for _ in 0..200 {
                profile(&mutate(&mut rng, &text));
            }
        }
    }
}

#[test]
fn crashes_found_by_fuzzing_stay_fixed() {
    // fuzz/regressions/TARGET/* : each input once made TARGET crash.
    let dir = root().join("fuzz").join("regressions");
    let Ok(targets) = std::fs::read_dir(&dir) else {
        return;
    };
    for t in targets {
        let t = t.unwrap().path();
        let name = t.file_name().unwrap().to_string_lossy().into_owned();
        let (_, f) = TARGETS
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{}: no fuzz target named {name}", t.display()));
        for input in std::fs::read_dir(&t).unwrap() {
            f(&std::fs::read(input.unwrap().path()).unwrap());
        }
    }
}
