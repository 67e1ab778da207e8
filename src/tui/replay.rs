//! Replaying capture files in capture time: each frame is read when its
//! time comes at the chosen speed (or at once at speed 0, or when jumping
//! to the end), and the replay can be paused and stepped frame by frame.
//! The thread waits on its control channel, never on a bare sleep, so a key
//! takes effect at once.

use super::feed::{
    Control, Feed, Mailbox, Pipeline, Playback, Snapshot, Timer, BATCH, SNAPSHOT_EVERY,
};
use crate::capture::merge::Merge;
use crate::capture::{Frame, LinkType, Nanos};
use std::fs::File;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The fastest finite replay speed; one step faster is "as fast as possible".
const MAX_SPEED: f64 = 256.0;
const MIN_SPEED: f64 = 1.0 / 64.0;

/// A frame kept until its time comes, copied into a reused buffer: only
/// when a paced replay has to wait, never at full speed.
#[derive(Default)]
struct Held {
    full: bool,
    file: u16,
    number: u64,
    ts: Nanos,
    link: u32,
    orig_len: u32,
    data: Vec<u8>,
}

impl Held {
    fn store(&mut self, f: &Frame<'_>) {
        self.full = true;
        self.file = f.file;
        self.number = f.number;
        self.ts = f.ts;
        self.link = f.link.0;
        self.orig_len = f.orig_len;
        self.data.clear();
        self.data.extend_from_slice(f.data);
    }

    fn frame(&self) -> Frame<'_> {
        Frame {
            file: self.file,
            number: self.number,
            ts: self.ts,
            link: LinkType(self.link),
            orig_len: self.orig_len,
            data: &self.data,
        }
    }
}

/// Maps capture time to wall time at a speed, from an anchor taken when
/// playing starts (again).
#[derive(Default)]
struct Pacer {
    anchor: Option<(Instant, Nanos)>,
}

impl Pacer {
    fn due(&mut self, ts: Nanos, speed: f64, now: Instant) -> Instant {
        let (wall, cap) = *self.anchor.get_or_insert((now, ts));
        let ahead = (ts.saturating_sub(cap)).max(0) as f64 / speed;
        wall + Duration::from_nanos(ahead.min(u64::MAX as f64 / 2.0) as u64)
    }
}

pub(super) struct Replay {
    merge: Merge<File>,
    pipe: Pipeline,
    speed: f64,
    playback: Playback,
    pacer: Pacer,
    held: Held,
    timer: Timer,
    out: Arc<Mailbox<Snapshot>>,
}

impl Replay {
    pub(super) fn new(
        merge: Merge<File>,
        pipe: Pipeline,
        speed: f64,
        playback: Playback,
        out: Arc<Mailbox<Snapshot>>,
    ) -> Replay {
        Replay {
            merge,
            pipe,
            speed,
            playback,
            pacer: Pacer::default(),
            held: Held::default(),
            timer: Timer::new(),
            out,
        }
    }

    pub(super) fn run(mut self, rx: &Receiver<Control>) {
        self.publish();
        loop {
            loop {
                match rx.try_recv() {
                    Ok(c) => {
                        if !self.apply(c) {
                            return;
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
            match self.playback {
                Playback::Paused | Playback::Ended => match rx.recv_timeout(SNAPSHOT_EVERY) {
                    Ok(c) => {
                        if !self.apply(c) {
                            return;
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                },
                Playback::Playing | Playback::Jumping => {
                    if !self.advance(rx) {
                        return;
                    }
                }
            }
        }
    }

    /// Applies a control and publishes its effect; false on `Quit`.
    fn apply(&mut self, c: Control) -> bool {
        use Playback::*;
        match c {
            Control::Quit => return false,
            Control::TogglePause => {
                self.playback = match self.playback {
                    Playing | Jumping => Paused,
                    Paused => Playing,
                    Ended => Ended,
                };
                self.pacer.anchor = None;
            }
            Control::Step => {
                if self.playback != Ended {
                    self.playback = Paused;
                    self.pacer.anchor = None;
                    self.step();
                }
            }
            Control::JumpToEnd => {
                if self.playback != Ended {
                    self.playback = Jumping;
                }
            }
            Control::Faster => {
                self.speed = match self.speed {
                    s if s == 0.0 || s >= MAX_SPEED => 0.0,
                    s => s * 2.0,
                };
                self.pacer.anchor = None;
            }
            Control::Slower => {
                self.speed = match self.speed {
                    0.0 => MAX_SPEED,
                    s => (s / 2.0).max(MIN_SPEED),
                };
                self.pacer.anchor = None;
            }
        }
        self.publish();
        true
    }

    /// Reads one frame (the held one first).
    fn step(&mut self) {
        if self.held.full {
            self.held.full = false;
            self.pipe.process(&self.held.frame());
        } else if let Some(frame) = self.merge.next_frame() {
            self.pipe.process(&frame);
        } else {
            self.playback = Playback::Ended;
        }
    }

    /// Reads up to a batch of frames, waiting for each one's time when the
    /// replay is paced; false when told to quit.
    fn advance(&mut self, rx: &Receiver<Control>) -> bool {
        let paced = self.playback == Playback::Playing && self.speed > 0.0;
        for _ in 0..BATCH {
            if self.held.full {
                let now = Instant::now();
                let due = self.pacer.due(self.held.ts, self.speed, now);
                if due > now {
                    let wait = (due - now).min(self.timer.until_due(now));
                    match rx.recv_timeout(wait) {
                        Ok(c) => return self.apply(c),
                        Err(RecvTimeoutError::Timeout) => {
                            self.publish_if_due();
                            return true;
                        }
                        Err(RecvTimeoutError::Disconnected) => return false,
                    }
                }
                self.held.full = false;
                self.pipe.process(&self.held.frame());
                continue;
            }
            let Some(frame) = self.merge.next_frame() else {
                self.playback = Playback::Ended;
                self.publish();
                return true;
            };
            if paced {
                let now = Instant::now();
                if self.pacer.due(frame.ts, self.speed, now) > now {
                    self.held.store(&frame);
                    continue;
                }
            }
            self.pipe.process(&frame);
        }
        self.publish_if_due();
        true
    }

    fn publish_if_due(&mut self) {
        if self.timer.is_due(Instant::now()) {
            self.publish();
        }
    }

    fn publish(&mut self) {
        let start = Instant::now();
        let mut problems = Vec::new();
        for r in self.merge.readers() {
            for p in r.problems() {
                problems.push(format!("{}: {p}", r.name()));
            }
        }
        let feed = Feed::Replay {
            speed: self.speed,
            playback: self.playback,
        };
        let snap = self.pipe.snapshot(feed, None, None, problems);
        self.out.put(snap);
        let now = Instant::now();
        self.timer.done(now - start, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Nanos = 1_000_000_000;

    #[test]
    fn pacing_follows_capture_time_at_speed() {
        let mut p = Pacer::default();
        let t0 = Instant::now();
        assert_eq!(p.due(10 * S, 2.0, t0), t0, "the first frame anchors");
        assert_eq!(p.due(12 * S, 2.0, t0), t0 + Duration::from_secs(1));
        assert_eq!(p.due(9 * S, 2.0, t0), t0, "never before the anchor");
    }
}
