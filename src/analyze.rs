//! Offline analysis: capture files in, a report out.

use crate::capture::file::Chunk;
use crate::capture::filter::Filter;
use crate::capture::merge::Merge;
use crate::capture::{CaptureError, Frame, Nanos};
use crate::engine::{Engine, EngineConfig, Tally};
use crate::live::shard;
use crate::profile::{ProfileSet, Site};
use crate::report::{self, Checks, Report};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard};

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
    /// The process ends once the report is out (the command line): the
    /// analysis state is left for the operating system to reclaim at exit
    /// instead of being freed piece by piece. Freeing it took 3% of a
    /// one-worker run's CPU time on the 1M-packet site mix and 10% of a
    /// two-worker run's (two engines, two sets of caches), on the cores
    /// that write the report. A library caller leaves this false.
    pub exiting: bool,
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
    let (engine, problems, rest) = if workers == 1 {
        let mut engine = Engine::new(opts.engine);
        let read = read_all(merge, filter, bytes_total, progress, |f, _| {
            engine.process(f);
            true
        });
        engine.stats.filtered_out = read.filtered_out;
        engine.finish();
        (engine, read.problems, Vec::new())
    } else {
        read_shared(opts.engine, merge, filter, workers, bytes_total, progress)
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
    if opts.exiting {
        std::mem::forget((engine, rest));
    } else {
        // Freeing a large inventory takes a while, and so do the shards'
        // caches: let another thread do it while the report is written.
        let spare = std::thread::Builder::new().spawn(move || drop((engine, rest)));
        drop(spare);
    }
    Ok(report)
}

/// What reading every file gave, besides the frames.
struct Read {
    /// Frames the filter left out.
    filtered_out: u64,
    /// The problems the readers and the filter met.
    problems: Vec<String>,
}

/// Reads every frame of `merge`, in time order, through `filter`, and hands
/// each frame the filter keeps to `each`, with the reader's buffer it lies
/// in; `each` answers false to stop early. Reports progress every 65,536
/// frames. Not inlined, nor is [`Pool::run`], so a profile tells the
/// reader's own cost per frame (`read_all` less the batches it runs) from
/// the analysis.
#[inline(never)]
fn read_all(
    mut merge: Merge<std::fs::File>,
    mut filter: Option<Filter>,
    bytes_total: u64,
    progress: &mut dyn FnMut(Progress),
    mut each: impl FnMut(&Frame<'_>, &Chunk) -> bool,
) -> Read {
    let mut filtered_out = 0u64;
    let mut n = 0u64;
    loop {
        n += 1;
        if n.is_multiple_of(65_536) {
            let p = Progress {
                bytes_read: merge.position(),
                bytes_total,
                packets: n,
            };
            progress(p);
        }
        // Bound by reference: moving the frame out cost a copy per frame.
        let Some((ref frame, chunk)) = merge.next_frame_in() else {
            break;
        };
        if let Some(f) = filter.as_mut() {
            if !f.matches(frame) {
                filtered_out += 1;
                continue;
            }
        }
        if !each(frame, chunk) {
            break;
        }
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
    Read {
        filtered_out,
        problems,
    }
}

/// `workers` engines, one per shard ([`shard::shard_of`]), fed by one
/// reader. This thread reads and filters, routes each frame to its shard's
/// open batch (its place in the reader's buffer, which the batch holds:
/// no copy of its bytes), and queues full batches; `workers - 1`
/// helper threads analyse queued batches, each engine on one thread at a
/// time and its batches in order. When the reader is ahead (no free batch
/// left) it analyses a batch itself instead of waiting, so reading and
/// analysis share the cores as the work requires: the reader costs about a
/// sixth as much as the analysis (reading the file and routing: about
/// 300 instructions a frame against 1,600), so a fixed split would leave
/// a core idle.
/// The engines are merged when the files end; what is left of them comes
/// back too, to be freed once the report is built.
fn read_shared(
    cfg: EngineConfig,
    merge: Merge<std::fs::File>,
    filter: Option<Filter>,
    workers: usize,
    bytes_total: u64,
    progress: &mut dyn FnMut(Progress),
) -> (Engine, Vec<String>, Vec<Engine>) {
    let pool = Pool::new(cfg, workers);
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for i in 1..workers {
            let h = std::thread::Builder::new()
                .name(format!("shard-{i}"))
                .spawn_scoped(scope, || {
                    let _gone = pool.on_exit();
                    pool.help_until_done();
                });
            handles.push(h.expect("spawn a worker thread"));
        }
        // Should this thread unwind, the helpers must not wait for it.
        let _gone = pool.on_exit();
        let mut feed = Feed::new(&pool);
        let read = read_all(merge, filter, bytes_total, progress, |f, c| {
            feed.route(f, c)
        });
        feed.close();
        pool.help_until_done();
        for h in handles {
            // A helper that panicked is a bug: let it surface as one.
            h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        }
        let (tallies, rest) = pool.finish();
        let mut engine = Engine::from_tallies_on(cfg, tallies, workers);
        engine.stats.filtered_out = read.filtered_out;
        (engine, read.problems, rest)
    })
}

/// Free batches per engine: enough that a helper always finds work while
/// the reader analyses a batch, few enough that memory stays a few MB.
const BATCHES_PER_ENGINE: usize = 6;

/// Bytes of frames per batch (about 100 frames of the site mix). The
/// frames are not copied: a batch holds the reader's buffers they lie in,
/// so this sets how often the threads hand over and how long a buffer
/// stays held. When frames were copied into the batch, 64 KiB kept the
/// copy and the analysis within the caches (256 KiB batches cost 1% to
/// 15% more CPU time); without the copy 64 and 128 KiB measured the same
/// (20 alternating pairs of 2-worker runs on the site mix: median
/// difference 0.000 s).
const BATCH_BYTES: usize = 64 * 1024;

/// Engines and the batches queued for them, shared by the reader and the
/// helper threads.
struct Pool {
    state: Mutex<State>,
    /// Signalled whenever a batch is queued or freed, an engine is put
    /// back, or the run ends.
    changed: Condvar,
}

struct State {
    /// Each shard's engine; `None` while a thread is running it.
    engines: Vec<Option<shard::Worker>>,
    /// Each shard's full batches, oldest first.
    queues: Vec<VecDeque<shard::Batch>>,
    free: Vec<shard::Batch>,
    /// The reader has queued its last batch.
    closed: bool,
    /// A thread ended by panicking: everyone stops.
    failed: bool,
    /// Threads waiting on [`Pool::changed`]. Signalling a condition
    /// variable is a system call whether or not anyone waits, and the
    /// threads hand over about 10,000 batches on the site mix: they only
    /// signal when someone waits.
    waiting: usize,
}

impl State {
    /// A shard with queued batches whose engine is free.
    /// The one with the longest queue.
    fn runnable(&self) -> Option<usize> {
        (0..self.queues.len())
            .filter(|&i| !self.queues[i].is_empty() && self.engines[i].is_some())
            .max_by_key(|&i| self.queues[i].len())
    }

    fn idle(&self) -> bool {
        self.queues.iter().all(|q| q.is_empty()) && self.engines.iter().all(|e| e.is_some())
    }
}

/// Sets [`State::failed`] when dropped during a panic.
struct ExitGuard<'a>(&'a Pool);

impl Drop for ExitGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut st = self.0.lock();
            st.failed = true;
            drop(st);
            self.0.changed.notify_all();
        }
    }
}

impl Pool {
    fn new(cfg: EngineConfig, n: usize) -> Pool {
        Pool {
            state: Mutex::new(State {
                engines: (0..n).map(|_| Some(shard::Worker::new(cfg))).collect(),
                queues: (0..n).map(|_| VecDeque::new()).collect(),
                free: (0..n * BATCHES_PER_ENGINE)
                    .map(|_| shard::Batch::with_bytes(BATCH_BYTES))
                    .collect(),
                closed: false,
                failed: false,
                waiting: 0,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned lock still
        // holds consistent state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, mut st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        st.waiting += 1;
        let mut st = self.changed.wait(st).unwrap_or_else(|e| e.into_inner());
        st.waiting -= 1;
        st
    }

    /// Wakes every waiting thread, if any: called with the lock held, or
    /// just after a change made under it (a thread that is about to wait
    /// has counted itself under the lock first, so it is not missed).
    fn signal(&self, st: &State) {
        if st.waiting > 0 {
            self.changed.notify_all();
        }
    }

    fn on_exit(&self) -> ExitGuard<'_> {
        ExitGuard(self)
    }

    /// Runs shard `i`'s next batch on this thread, the lock released
    /// meanwhile; the engine and the emptied batch go back after.
    #[inline(never)]
    fn run<'a>(&'a self, mut st: MutexGuard<'a, State>, i: usize) -> MutexGuard<'a, State> {
        let (Some(mut w), Some(mut b)) = (st.engines[i].take(), st.queues[i].pop_front()) else {
            return st;
        };
        drop(st);
        w.batch(&b);
        b.clear();
        let mut st = self.lock();
        st.engines[i] = Some(w);
        st.free.push(b);
        self.signal(&st);
        st
    }

    /// A helper thread's loop: runs whatever batch is runnable until the
    /// reader has closed and nothing is left.
    fn help_until_done(&self) {
        let mut st = self.lock();
        loop {
            if st.failed || (st.closed && st.idle()) {
                return;
            }
            match st.runnable() {
                Some(i) => st = self.run(st, i),
                None => st = self.wait(st),
            }
        }
    }

    /// A free batch for the reader. When there is none the reader is
    /// ahead of the helpers: it analyses a queued batch itself, or waits
    /// for one to be freed. `None` when a helper has failed.
    fn take_free(&self) -> Option<shard::Batch> {
        let mut st = self.lock();
        loop {
            if st.failed {
                return None;
            }
            if let Some(b) = st.free.pop() {
                return Some(b);
            }
            match st.runnable() {
                Some(i) => st = self.run(st, i),
                None => st = self.wait(st),
            }
        }
    }

    /// Queues a full batch for shard `i`.
    fn queue(&self, i: usize, b: shard::Batch) {
        let mut st = self.lock();
        st.queues[i].push_back(b);
        self.signal(&st);
    }

    /// The engines' final states, in shard order, each engine finished on
    /// its own thread (ending its open flows took 7 ms an engine on the
    /// site mix, one after the other before), and what is left of each
    /// engine, not freed yet. Only once every thread has finished; a thread
    /// that failed has already been reported.
    fn finish(&self) -> (Vec<Tally>, Vec<Engine>) {
        let engines: Vec<shard::Worker> = self
            .lock()
            .engines
            .iter_mut()
            .map(|e| e.take().expect("every engine is back"))
            .collect();
        let n = engines.len();
        crate::par::map(engines, n, |w| w.engine.into_tally_and_rest())
            .into_iter()
            .unzip()
    }
}

/// The reader's side: routes each frame into its shard's open batch, with
/// the capture time reached so far, held where the reader read it
/// ([`shard::Batch::push_in`]).
struct Feed<'a> {
    pool: &'a Pool,
    open: Vec<shard::Batch>,
    now: Nanos,
}

impl<'a> Feed<'a> {
    fn new(pool: &'a Pool) -> Feed<'a> {
        let n = pool.lock().engines.len();
        let open = (0..n).filter_map(|_| pool.take_free()).collect();
        Feed {
            pool,
            open,
            now: Nanos::MIN,
        }
    }

    /// False when a helper has failed: the run stops.
    fn route(&mut self, f: &Frame<'_>, chunk: &Chunk) -> bool {
        self.now = self.now.max(f.ts);
        let i = shard::shard_of(f, self.open.len());
        if self.open[i].push_in(f, self.now, chunk) {
            return true;
        }
        if !self.send(i) {
            return false;
        }
        self.open[i].push_in(f, self.now, chunk)
    }

    fn send(&mut self, i: usize) -> bool {
        let Some(fresh) = self.pool.take_free() else {
            return false;
        };
        let mut full = std::mem::replace(&mut self.open[i], fresh);
        full.now = self.now;
        self.pool.queue(i, full);
        true
    }

    /// Queues every open batch, empty or not, so every engine is told the
    /// final capture time, and closes the run.
    fn close(self) {
        for (i, mut b) in self.open.into_iter().enumerate() {
            b.now = self.now;
            self.pool.queue(i, b);
        }
        self.pool.lock().closed = true;
        self.pool.changed.notify_all();
    }
}
