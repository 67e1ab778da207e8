//! `egresswatch tui`: the troubleshooting screen, live on an interface or
//! replaying capture files in capture time.
//!
//! The parts follow the shape of an Elm-style program:
//!
//! - [`source`] opens the input (files, or a live interface behind a
//!   trait), before the screen is taken over, so bad input is one line on
//!   stderr and exit status 2;
//! - [`feed`] runs the capture on its own thread and publishes snapshots
//!   (the report as it stands, and the capture's status) at a fixed rate;
//!   `replay` paces capture files in capture time;
//! - [`app`] is the state and its `update`: actions and snapshots in,
//!   effects (quit, replay controls, export) out; no I/O, no clock;
//! - [`rows`] derives what is listed: verdicts, filtered and sorted rows,
//!   the mirror self-check;
//! - [`input`] maps keys to actions;
//! - [`view`] is the pure render of the state, tested against ratatui's
//!   `TestBackend`;
//! - [`term`] takes the terminal and gives it back on exit, on panic and
//!   on SIGTERM.
//!
//! This module is the run loop that connects them: it draws at most ten
//! times a second, and only when something changed. Terminal events are
//! read on a thread of their own and come over a channel, so the loop
//! always gets back to its signal flag and its hangup check: a terminal
//! that went away can leave a read spinning, never the loop.

pub mod app;
pub mod feed;
pub mod input;
mod replay;
pub mod rows;
pub mod source;
pub mod term;
pub mod view;

use crate::cli::TuiArgs;
use crate::output::{self, Format};
use crate::profile::{ProfileSet, Site};
use app::{update, Action, Effect, Msg, State};
use crossterm::event::{self, Event, MouseButton, MouseEventKind};
use feed::{Feeder, Pipeline};
use source::Source;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The shortest time between two draws.
const FRAME: Duration = Duration::from_millis(100);

/// Runs the screen until the user quits (or a signal asks it to).
pub fn run(args: TuiArgs, profiles: ProfileSet, site: Site) -> Result<ExitCode, String> {
    let (source, filter) = Source::open(
        &args.files,
        args.interface.as_deref(),
        args.filter.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    let stop = term::stop_signals()?;
    // https://no-color.org: set and not empty.
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let pipeline = Pipeline::new(source.names(), filter, profiles, site);
    let mut guard = term::enter()?;
    let size = guard.terminal.size().map_err(|e| format!("tui: {e}"))?;
    let mut state = State::new((size.width, size.height), color);
    let feeder = Feeder::spawn(source, pipeline, args.speed, false);
    let events = read_events();
    let result = event_loop(&mut guard.terminal, &mut state, &feeder, &events, &stop);
    feeder.stop(Duration::from_millis(500));
    drop(guard);
    result.map(|()| ExitCode::SUCCESS)
}

/// Terminal events, read on their own thread. The thread ends when the
/// receiver is dropped (at the next event) or when reading fails; a read
/// blocked at exit ends with the process.
fn read_events() -> Receiver<std::io::Result<Event>> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("terminal-input".into())
        .spawn(move || loop {
            let ev = event::read();
            let failed = ev.is_err();
            if tx.send(ev).is_err() || failed {
                return;
            }
        });
    if let Err(e) = spawned {
        // Without input the loop still ends on a signal; say why keys do nothing.
        let (tx, rx) = mpsc::channel();
        let _ = tx.send(Err(e));
        return rx;
    }
    rx
}

fn event_loop(
    terminal: &mut term::Term,
    state: &mut State,
    feeder: &Feeder,
    events: &Receiver<std::io::Result<Event>>,
    stop: &AtomicBool,
) -> Result<(), String> {
    let io = |e: std::io::Error| format!("tui: terminal: {e}");
    let mut dirty = true;
    let mut next_draw = Instant::now();
    loop {
        if stop.load(Ordering::SeqCst) || term::is_gone() {
            return Ok(());
        }
        if feeder.has_stopped() {
            return Err("tui: the capture thread stopped".into());
        }
        if let Some(snap) = feeder.snapshots.take() {
            update(state, Msg::Snapshot(Box::new(snap)));
            dirty = true;
        }
        let now = Instant::now();
        if dirty && now >= next_draw {
            terminal.draw(|f| view::render(state, f)).map_err(io)?;
            dirty = false;
            next_draw = now + FRAME;
        }
        let wait = if dirty {
            next_draw.saturating_duration_since(Instant::now())
        } else {
            FRAME
        };
        let first = match events.recv_timeout(wait) {
            Ok(ev) => ev,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        };
        // Take every event already waiting before drawing again.
        for ev in std::iter::once(first).chain(events.try_iter()) {
            if let Some(msg) = message(state, ev.map_err(io)?) {
                match update(state, msg) {
                    Some(Effect::Quit) => return Ok(()),
                    Some(Effect::Control(c)) => feeder.send(c),
                    Some(Effect::Export(path)) => {
                        let r = export(state, &path);
                        update(state, Msg::Exported(r));
                    }
                    None => {}
                }
                dirty = true;
            }
        }
    }
}

/// The message a terminal event carries, if any.
fn message(state: &State, ev: Event) -> Option<Msg> {
    let action = match ev {
        Event::Key(k) => input::action(&state.mode, k)?,
        Event::Mouse(m) => match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                Action::Click(view::hit(state, m.column, m.row)?)
            }
            MouseEventKind::ScrollUp => Action::Up,
            MouseEventKind::ScrollDown => Action::Down,
            _ => return None,
        },
        Event::Resize(w, h) => return Some(Msg::Resize(w, h)),
        _ => return None,
    };
    Some(Msg::Action(action))
}

/// Writes the report shown to `path`: JSON for `.json`, text for `.txt`,
/// Markdown otherwise.
fn export(state: &State, path: &Path) -> Result<PathBuf, String> {
    let report = state.report().ok_or("nothing to export yet")?;
    let format = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => Format::Json,
        Some("txt") => Format::Text,
        _ => Format::Markdown,
    };
    output::write_file(report, format, path).map(|()| path.to_path_buf())
}
