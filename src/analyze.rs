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
    /// Analysis threads (0 and 1: the calling thread alone).
    pub workers: usize,
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
    let workers = opts.workers.max(1);
    // Open everything on this thread first, so a bad file or filter is
    // reported once, before any thread starts.
    let filter = opts.filter.as_deref().map(Filter::new).transpose()?;
    let merge = Merge::open(&opts.files)?;
    let bytes_total: u64 = opts
        .files
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let (engine, problems) = if workers == 1 {
        let mut engine = Engine::new(opts.engine);
        let problems = read_share(&mut engine, merge, filter, (0, 1), bytes_total, progress);
        engine.finish();
        (engine, problems)
    } else {
        std::thread::scope(|scope| -> Result<_, CaptureError> {
            let mut handles = Vec::new();
            for i in 1..workers {
                let merge = Merge::open(&opts.files)?;
                let filter = opts.filter.as_deref().map(Filter::new).transpose()?;
                let cfg = opts.engine;
                handles.push(scope.spawn(move || {
                    let mut w = crate::live::shard::Worker::new(cfg);
                    read_share(&mut w.engine, merge, filter, (i, workers), 0, &mut |_| {});
                    w.finish()
                }));
            }
            let mut w = crate::live::shard::Worker::new(opts.engine);
            let problems = read_share(
                &mut w.engine,
                merge,
                filter,
                (0, workers),
                bytes_total,
                progress,
            );
            let mut tallies = vec![w.finish()];
            for h in handles {
                // A worker that panicked is a bug: let it surface as one.
                tallies.push(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            }
            Ok((Engine::from_tallies(opts.engine, tallies), problems))
        })?
    };
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
    let (report, engine) = report::build_owned_on(engine, &files, problems, checks, workers);
    // Freeing a large inventory takes a while (5% of a run on the 1M-packet
    // site mix): let another thread do it while the report is written.
    let spare = std::thread::Builder::new().spawn(move || drop(engine));
    drop(spare);
    Ok(report)
}

/// Reads every frame of `merge` through `filter` and analyses those of
/// worker `me.0` of `me.1` ([`crate::live::shard::shard_of`]); every other
/// frame only tells the engine the time, so its timeouts fall where one
/// engine's would. Worker 0 also counts the frames the filter left out and
/// reports progress. Returns the problems the readers and filter met.
fn read_share(
    engine: &mut Engine,
    mut merge: Merge<std::fs::File>,
    mut filter: Option<Filter>,
    me: (usize, usize),
    bytes_total: u64,
    progress: &mut dyn FnMut(Progress),
) -> Vec<String> {
    let (mine, workers) = me;
    let mut filtered_out = 0u64;
    let mut n = 0u64;
    loop {
        n += 1;
        if mine == 0 && n.is_multiple_of(65_536) {
            let p = Progress {
                bytes_read: merge.position(),
                bytes_total,
                packets: n,
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
        if workers == 1 || crate::live::shard::shard_of(&frame, workers) == mine {
            engine.process(&frame);
        } else {
            engine.advance(frame.ts);
        }
    }
    if mine == 0 {
        engine.stats.filtered_out = filtered_out;
    }
    let mut problems = Vec::new();
    for r in merge.readers() {
        for p in r.problems() {
            problems.push(format!("{}: {p}", r.name()));
        }
    }
    if let Some(f) = &filter {
        problems.extend(f.problems.iter().cloned());
    }
    problems
}
