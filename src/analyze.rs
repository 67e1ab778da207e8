//! Offline analysis: capture files in, a report out.

use crate::capture::filter::Filter;
use crate::capture::merge::Merge;
use crate::capture::CaptureError;
use crate::engine::{Engine, EngineConfig};
use crate::profile::{ProfileSet, Site};
use crate::report::{self, Checks, Report};
use std::path::PathBuf;

/// What to analyse.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub files: Vec<PathBuf>,
    pub filter: Option<String>,
    pub engine: EngineConfig,
    /// The profiles to check devices against; `None` means the built-in ones.
    pub profiles: Option<ProfileSet>,
    /// Values the profiles leave to the site (`--site`).
    pub site: Site,
}

/// How far a run has got, for a progress line.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub bytes_read: u64,
    pub bytes_total: u64,
    pub packets: u64,
}

/// Reads every file, merged in time order, and builds the report. Files that
/// cannot be used at all are the error; damage inside a file ends that file
/// and is listed in `capture.problems`.
pub fn run(opts: &Options, progress: &mut dyn FnMut(Progress)) -> Result<Report, CaptureError> {
    let mut filter = opts.filter.as_deref().map(Filter::new).transpose()?;
    let mut merge = Merge::open(&opts.files)?;
    let bytes_total: u64 = opts
        .files
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let mut engine = Engine::new(opts.engine);
    let mut filtered_out = 0u64;
    let mut n = 0u64;
    loop {
        n += 1;
        if n.is_multiple_of(65_536) {
            let p = Progress {
                bytes_read: merge.position(),
                bytes_total,
                packets: engine.stats.packets,
            };
            progress(p);
        }
        let Some(frame) = merge.next_frame() else {
            break;
        };
        if let Some(f) = filter.as_mut() {
            if !f.matches(&frame) {
                filtered_out += 1;
                continue;
            }
        }
        engine.process(&frame);
    }
    engine.stats.filtered_out = filtered_out;
    engine.finish();
    let mut problems = Vec::new();
    for r in merge.readers() {
        for p in r.problems() {
            problems.push(format!("{}: {p}", r.name()));
        }
    }
    if let Some(f) = &filter {
        problems.extend(f.problems.iter().cloned());
    }
    let files: Vec<String> = opts.files.iter().map(|p| p.display().to_string()).collect();
    let builtin;
    let profiles = match &opts.profiles {
        Some(p) => p,
        None => {
            builtin = crate::profile::builtin().map_err(|e| CaptureError {
                source: "built-in profiles".into(),
                problem: e.to_string(),
            })?;
            &builtin
        }
    };
    let checks = Checks {
        profiles,
        site: &opts.site,
    };
    let (report, engine) = report::build_owned(engine, &files, problems, checks);
    // Freeing a large inventory takes a while (5% of a run on the 1M-packet
    // site mix): let another thread do it while the report is written.
    let spare = std::thread::Builder::new().spawn(move || drop(engine));
    drop(spare);
    Ok(report)
}
