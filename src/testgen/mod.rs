//! Fixture generator: the small, deterministic capture files under `fixtures/` that the
//! tests, benches and fuzz corpora use, and the code that makes them.
//!
//! Contract: [`scenarios::all`] is a pure function returning every fixture's name,
//! description and bytes; the same source always yields the same bytes. [`write_all`] writes
//! them into a directory and [`check`] compares a directory against them, so a test (or CI)
//! can insist that the committed fixtures are exactly what this code makes. [`run`] is the
//! whole `egresswatch-fixtures` command line. Only std is used; packets are built by hand in
//! [`build`] and framed into pcap/pcapng by [`writer`]. What each file contains and what a
//! reader must conclude from it is documented in `fixtures/README.md`.
//!
//! This module writes only data it made itself; it never parses untrusted input, so it may
//! index and unwrap its own buffers.
//!
//! Example (prose): `egresswatch-fixtures fixtures` regenerates the files;
//! `egresswatch-fixtures --check fixtures` exits 1 naming any file that differs.

pub mod build;
pub mod flood;
pub mod scenarios;
pub mod sites;
pub mod writer;

pub use scenarios::{all, Fixture};

use std::io;
use std::path::{Path, PathBuf};

/// Writes every fixture into `dir` (created if missing) and returns the paths written.
pub fn write_all(dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for f in all() {
        let path = dir.join(f.name);
        std::fs::write(&path, &f.bytes)?;
        written.push(path);
    }
    Ok(written)
}

/// How a fixture file on disk differs from what the generator makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// The file does not exist.
    Missing(&'static str),
    /// The file exists with other contents (sizes on disk and expected).
    Differs {
        /// Fixture name.
        name: &'static str,
        /// Size of the file on disk.
        on_disk: usize,
        /// Size the generator makes.
        expected: usize,
    },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::Missing(n) => write!(f, "{n}: missing"),
            Mismatch::Differs {
                name,
                on_disk,
                expected,
            } => write!(
                f,
                "{name}: differs ({on_disk} bytes on disk, generator makes {expected})"
            ),
        }
    }
}

/// Compares every fixture with the file of the same name in `dir`. An empty result means
/// the directory is in sync. Other files in `dir` are ignored.
pub fn check(dir: &Path) -> io::Result<Vec<Mismatch>> {
    let mut out = Vec::new();
    for f in all() {
        match std::fs::read(dir.join(f.name)) {
            Ok(b) if b == f.bytes => {}
            Ok(b) => out.push(Mismatch::Differs {
                name: f.name,
                on_disk: b.len(),
                expected: f.bytes.len(),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => out.push(Mismatch::Missing(f.name)),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

const USAGE: &str = "usage: egresswatch-fixtures [--check] [DIR]   (DIR defaults to `fixtures`)
       egresswatch-fixtures flood KIND PACKETS FILE   (KIND: syn, udp, dns, names, frag, macs)
       egresswatch-fixtures payloads DIR OUT          (fuzz seeds: each capture payload in DIR)";

/// `payloads DIR OUT`: every distinct L4 payload of the captures in DIR,
/// one file each in OUT (seed corpora for the parsers' fuzz targets).
fn run_payloads(args: &[String]) -> i32 {
    let [dir, out] = args else {
        eprintln!("egresswatch-fixtures: payloads needs DIR OUT\n{USAGE}");
        return 2;
    };
    let result = (|| -> std::io::Result<usize> {
        std::fs::create_dir_all(out)?;
        let mut seen = std::collections::HashSet::new();
        let mut paths: Vec<_> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
            .collect();
        paths.sort();
        for p in paths {
            let Ok(mut r) = crate::capture::file::FileReader::new(
                std::io::BufReader::new(std::fs::File::open(&p)?),
                p.display().to_string(),
                0,
            ) else {
                continue;
            };
            while let Some(f) = r.next_frame() {
                if let Ok(pkt) = crate::decode::decode(&f) {
                    if !pkt.payload.is_empty() && seen.insert(pkt.payload.to_vec()) {
                        let name = format!("{out}/p{:05}", seen.len());
                        std::fs::write(name, pkt.payload)?;
                    }
                }
            }
        }
        Ok(seen.len())
    })();
    match result {
        Ok(n) => {
            println!("{n} payloads written to {out}");
            0
        }
        Err(e) => {
            eprintln!("egresswatch-fixtures: {e}");
            2
        }
    }
}

/// `flood KIND PACKETS FILE`: a flood capture, streamed to FILE.
fn run_flood(args: &[String]) -> i32 {
    let [kind, n, file] = args else {
        eprintln!("egresswatch-fixtures: flood needs KIND PACKETS FILE\n{USAGE}");
        return 2;
    };
    let Ok(n) = n.parse::<u64>() else {
        eprintln!("egresswatch-fixtures: PACKETS must be a number, not {n}");
        return 2;
    };
    let result = std::fs::File::create(file).and_then(|f| {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        flood::write(kind, n, &mut w)
    });
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("egresswatch-fixtures: {file}: {e}");
            2
        }
    }
}

/// The `egresswatch-fixtures` command line (arguments without the program name). Returns the
/// exit status: 0 success, 1 `--check` found differences, 2 usage or I/O error.
pub fn run<I: IntoIterator<Item = String>>(args: I) -> i32 {
    let args: Vec<String> = args.into_iter().collect();
    match args.first().map(String::as_str) {
        Some("flood") => return run_flood(&args[1..]),
        Some("payloads") => return run_payloads(&args[1..]),
        _ => {}
    }
    let mut check_only = false;
    let mut dir: Option<String> = None;
    for a in args {
        match a.as_str() {
            "--check" => check_only = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return 0;
            }
            s if s.starts_with('-') => {
                eprintln!("egresswatch-fixtures: unknown option {s}\n{USAGE}");
                return 2;
            }
            s => {
                if dir.is_some() {
                    eprintln!("egresswatch-fixtures: more than one directory given\n{USAGE}");
                    return 2;
                }
                dir = Some(s.to_string());
            }
        }
    }
    let dir = PathBuf::from(dir.unwrap_or_else(|| "fixtures".to_string()));
    if check_only {
        match check(&dir) {
            Ok(m) if m.is_empty() => {
                println!("{}: all {} fixtures up to date", dir.display(), all().len());
                0
            }
            Ok(m) => {
                for x in &m {
                    println!("{x}");
                }
                eprintln!(
                    "{} fixture(s) out of date in {}; run egresswatch-fixtures {}",
                    m.len(),
                    dir.display(),
                    dir.display()
                );
                1
            }
            Err(e) => {
                eprintln!("egresswatch-fixtures: {}: {e}", dir.display());
                2
            }
        }
    } else {
        match write_all(&dir) {
            Ok(paths) => {
                println!("wrote {} fixtures to {}", paths.len(), dir.display());
                0
            }
            Err(e) => {
                eprintln!("egresswatch-fixtures: {}: {e}", dir.display());
                2
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_check_round_trip() {
        let dir = std::env::temp_dir().join(format!("egw-fixtures-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(check(&dir).unwrap().len(), all().len());
        write_all(&dir).unwrap();
        assert!(check(&dir).unwrap().is_empty());
        std::fs::write(dir.join("empty.pcap"), b"x").unwrap();
        let m = check(&dir).unwrap();
        assert_eq!(m.len(), 1);
        assert!(m[0].to_string().starts_with("empty.pcap: differs"));
        assert_eq!(
            run(vec!["--check".to_string(), dir.display().to_string()]),
            1
        );
        assert_eq!(run(vec!["--bogus".to_string()]), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
