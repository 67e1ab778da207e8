//! The capture thread: frames in, snapshots out.
//!
//! One thread owns the engine and the source. It reads frames (replaying
//! files at N times capture time, or from a live interface), and at a fixed
//! wall-clock rate publishes a [`Snapshot`]: the report as it stands, built
//! with [`Engine::snapshot`] so the running capture is not disturbed, and
//! the capture's [`Status`]. The screen only ever reads snapshots, so a slow
//! terminal never holds up the capture, and the capture never waits for the
//! screen. Controls (pause, step, jump to the end, speed) go the other way
//! over a channel.
//!
//! A snapshot is built every [`SNAPSHOT_EVERY`], or less often when building
//! one takes longer than a quarter of that (a huge site), so the capture
//! keeps at least three quarters of its thread.

use super::source::{LiveSource, Source};
use crate::capture::filter::Filter;
use crate::capture::{Frame, Nanos};
use crate::engine::{Engine, EngineConfig};
use crate::profile::{ProfileSet, Site};
use crate::report::{Checks, Report};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the screen gets a new snapshot.
pub const SNAPSHOT_EVERY: Duration = Duration::from_millis(250);
/// Frames handled between looks at the controls and the snapshot timer.
pub(super) const BATCH: usize = 1024;

/// What the screen shows: the report, and how the capture is going.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub report: Report,
    pub status: Status,
}

/// The capture's state, for the status line.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub feed: Feed,
    /// The last frame's capture time.
    pub capture_time: Option<Nanos>,
    /// Frames analysed (after `--filter`).
    pub packets: u64,
    /// Frames in the last whole second of capture time.
    pub rate: u64,
    /// Frames the capture lost before reading them; `None` for files.
    pub drops: Option<u64>,
    /// Conversations open in the flow table.
    pub open_flows: usize,
    /// Why a live capture ended, when it did.
    pub problem: Option<String>,
}

/// Where frames come from, and (for a replay) how it is going.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Feed {
    /// Files replayed at `speed` times capture time (0: as fast as possible).
    Replay {
        speed: f64,
        playback: Playback,
    },
    Live,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Playback {
    Playing,
    Paused,
    /// Reading to the end as fast as possible.
    Jumping,
    /// Every frame has been read.
    Ended,
}

/// What the screen asks of the capture thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    TogglePause,
    /// Pause (if playing), then read one frame.
    Step,
    JumpToEnd,
    Faster,
    Slower,
    Quit,
}

/// The engine and what a snapshot needs besides it. Used by the capture
/// thread, and directly by tests, which feed it frames without a thread or
/// a clock.
pub struct Pipeline {
    engine: Engine,
    filter: Option<Filter>,
    names: Vec<String>,
    profiles: ProfileSet,
    site: Site,
    rate: Rate,
}

impl Pipeline {
    pub fn new(
        names: Vec<String>,
        filter: Option<Filter>,
        profiles: ProfileSet,
        site: Site,
    ) -> Pipeline {
        Pipeline {
            engine: Engine::new(EngineConfig::default()),
            filter,
            names,
            profiles,
            site,
            rate: Rate::default(),
        }
    }

    /// Takes one frame through the filter and the engine.
    pub fn process(&mut self, frame: &Frame<'_>) {
        if let Some(f) = self.filter.as_mut() {
            if !f.matches(frame) {
                self.engine.stats.filtered_out += 1;
                return;
            }
        }
        self.rate.count(frame.ts);
        self.engine.process(frame);
    }

    /// The report and status as they stand. `now` is the capture time the
    /// rate is read at (the wall clock for a live capture; the last frame's
    /// time for a replay when `None`).
    pub fn snapshot(
        &self,
        feed: Feed,
        now: Option<Nanos>,
        drops: Option<u64>,
        mut problems: Vec<String>,
    ) -> Snapshot {
        if let Some(f) = &self.filter {
            problems.extend(f.problems.iter().cloned());
        }
        let checks = Checks {
            profiles: &self.profiles,
            site: &self.site,
        };
        let report = self.engine.snapshot(&self.names, problems, checks);
        let s = &self.engine.stats;
        let status = Status {
            feed,
            capture_time: s.last_ts,
            packets: s.packets,
            rate: now.or(s.last_ts).map_or(0, |t| self.rate.per_second(t)),
            drops,
            open_flows: self.engine.flows.len(),
            problem: None,
        };
        Snapshot { report, status }
    }
}

/// Frames per second of capture time: the count of the last whole second.
/// Counting is two compares and an add: it runs on every frame.
#[derive(Debug, Default, Clone, Copy)]
struct Rate {
    second: i64,
    this: u64,
    last: u64,
}

impl Rate {
    fn count(&mut self, ts: Nanos) {
        let s = ts.div_euclid(1_000_000_000);
        if s > self.second {
            self.last = if s == self.second + 1 { self.this } else { 0 };
            self.second = s;
            self.this = 0;
        }
        self.this += 1;
    }

    fn per_second(&self, now: Nanos) -> u64 {
        match now.div_euclid(1_000_000_000) - self.second {
            0 => self.last,
            1 => self.this,
            d if d < 0 => self.last,
            _ => 0,
        }
    }
}

/// The newest value, replaced by each put: the capture thread never waits
/// for the screen to take a snapshot, and the screen skips stale ones.
pub struct Mailbox<T> {
    slot: Mutex<Option<T>>,
}

impl<T> Mailbox<T> {
    pub fn new() -> Self {
        Mailbox {
            slot: Mutex::new(None),
        }
    }

    pub fn put(&self, v: T) {
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(v);
    }

    pub fn take(&self) -> Option<T> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl<T> Default for Mailbox<T> {
    fn default() -> Self {
        Mailbox::new()
    }
}

/// The running capture thread, as the screen holds it.
pub struct Feeder {
    pub snapshots: Arc<Mailbox<Snapshot>>,
    controls: Sender<Control>,
    handle: Option<JoinHandle<()>>,
}

impl Feeder {
    /// Starts the capture thread. A replay starts paused when `paused`.
    pub fn spawn(source: Source, pipeline: Pipeline, speed: f64, paused: bool) -> Feeder {
        let snapshots = Arc::new(Mailbox::new());
        let (controls, rx) = mpsc::channel();
        let out = Arc::clone(&snapshots);
        let handle = std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || match source {
                Source::Files { merge, .. } => {
                    let playback = if paused {
                        Playback::Paused
                    } else {
                        Playback::Playing
                    };
                    super::replay::Replay::new(merge, pipeline, speed, playback, out).run(&rx)
                }
                Source::Live(live) => run_live(live, pipeline, &rx, &out),
            })
            .expect("the capture thread starts");
        Feeder {
            snapshots,
            controls,
            handle: Some(handle),
        }
    }

    /// Sends a control; a thread that has ended ignores it.
    pub fn send(&self, c: Control) {
        let _ = self.controls.send(c);
    }

    /// True when the thread has stopped on its own (it panicked).
    pub fn has_stopped(&self) -> bool {
        self.handle.as_ref().is_none_or(|h| h.is_finished())
    }

    /// Asks the thread to stop and waits for it, at most `patience` (a live
    /// read that never returns is left to the process's end).
    pub fn stop(mut self, patience: Duration) {
        self.send(Control::Quit);
        let start = Instant::now();
        while let Some(h) = self.handle.take() {
            if h.is_finished() {
                let _ = h.join();
            } else if start.elapsed() < patience {
                self.handle = Some(h);
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

/// When the next snapshot is due; slows down when snapshots are costly.
pub(super) struct Timer {
    last: Instant,
    every: Duration,
}

impl Timer {
    pub(super) fn new() -> Timer {
        Timer {
            last: Instant::now(),
            every: SNAPSHOT_EVERY,
        }
    }

    pub(super) fn is_due(&self, now: Instant) -> bool {
        now.duration_since(self.last) >= self.every
    }

    pub(super) fn until_due(&self, now: Instant) -> Duration {
        (self.last + self.every).saturating_duration_since(now)
    }

    /// Records a snapshot that took `cost` to build, finished at `now`.
    pub(super) fn done(&mut self, cost: Duration, now: Instant) {
        self.last = now;
        self.every = SNAPSHOT_EVERY.max(cost * 4);
    }
}

/// The wall clock as capture time, for a live capture's rate when idle.
fn wall_nanos() -> Nanos {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as Nanos)
}

fn run_live(
    mut live: Box<dyn LiveSource>,
    mut pipe: Pipeline,
    rx: &Receiver<Control>,
    out: &Mailbox<Snapshot>,
) {
    let mut timer = Timer::new();
    let mut ended: Option<String> = None;
    publish_live(&pipe, live.as_mut(), &ended, out, &mut timer);
    loop {
        // Pause, step and jump are for replays: a live capture only stops.
        let wait = if ended.is_some() {
            SNAPSHOT_EVERY
        } else {
            Duration::ZERO
        };
        match rx.recv_timeout(wait) {
            Ok(Control::Quit) | Err(RecvTimeoutError::Disconnected) => return,
            Ok(_) | Err(RecvTimeoutError::Timeout) => {}
        }
        if ended.is_some() {
            continue;
        }
        for _ in 0..BATCH {
            match live.next_frame() {
                Ok(Some(frame)) => pipe.process(&frame),
                Ok(None) => break,
                Err(e) => {
                    ended = Some(e.to_string());
                    break;
                }
            }
        }
        if ended.is_some() || timer.is_due(Instant::now()) {
            publish_live(&pipe, live.as_mut(), &ended, out, &mut timer);
        }
    }
}

fn publish_live(
    pipe: &Pipeline,
    live: &mut dyn LiveSource,
    ended: &Option<String>,
    out: &Mailbox<Snapshot>,
    timer: &mut Timer,
) {
    let start = Instant::now();
    let mut snap = pipe.snapshot(Feed::Live, Some(wall_nanos()), live.drops(), Vec::new());
    snap.status.problem = ended.clone();
    out.put(snap);
    let now = Instant::now();
    timer.done(now - start, now);
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Nanos = 1_000_000_000;

    #[test]
    fn rate_is_the_last_whole_second() {
        let mut r = Rate::default();
        for i in 0..5 {
            r.count(100 * S + i);
        }
        for i in 0..3 {
            r.count(101 * S + i);
        }
        assert_eq!(
            r.per_second(101 * S + 5),
            5,
            "during second 101: second 100's count"
        );
        assert_eq!(r.per_second(102 * S), 3, "just after 101: its count");
        assert_eq!(r.per_second(110 * S), 0, "nothing lately");
        r.count(105 * S);
        assert_eq!(r.per_second(105 * S), 0, "a gap before this second");
    }

    #[test]
    fn mailbox_keeps_the_newest() {
        let m = Mailbox::new();
        assert_eq!(m.take(), None);
        m.put(1);
        m.put(2);
        assert_eq!(m.take(), Some(2));
        assert_eq!(m.take(), None);
    }
}
