//! The screen's state and its update.
//!
//! [`update`] takes a [`Msg`] (an action the user took, a snapshot the
//! capture thread published, a new terminal size, the outcome of an export)
//! and returns at most one [`Effect`] for the run loop to carry out. It does
//! no I/O and reads no clock, so every screen can be reached in a test.
//! Selections are kept by identity (a device's MAC, a finding's key), not by
//! row, so the cursor stays on its device while a live capture reorders the
//! list.

use super::feed::{Control, Feed, Snapshot};
use super::rows::{device_rows, finding_key, finding_rows};
use super::view;
use crate::report::{DeviceReport, Report};
use std::path::PathBuf;

/// The screens, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Devices,
    Device,
    Findings,
}

/// What keys mean right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Typing the filter (it applies as it is typed).
    Filter,
    /// Typing the file to export the report to.
    Export(String),
    Help,
}

/// A one-line message after an action, until the next key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Done(String),
    Failed(String),
}

/// First row (or line) shown of each scrolling area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Offsets {
    pub devices: usize,
    pub findings: usize,
    pub detail: usize,
}

/// Everything the screen shows, and nothing it does not.
#[derive(Debug, Clone)]
pub struct State {
    pub snapshot: Option<Snapshot>,
    pub view: View,
    pub mode: Mode,
    /// Words that every shown device (or finding) must contain.
    pub filter: String,
    /// Only failing devices and error findings.
    pub errors_only: bool,
    /// The selected device's id (MAC, or IP for a device without one).
    pub device: Option<String>,
    /// The selected finding's key (see [`finding_key`]).
    pub finding: Option<String>,
    pub offsets: Offsets,
    /// The terminal's size, for paging and scrolling.
    pub size: (u16, u16),
    pub notice: Option<Notice>,
    /// False under NO_COLOR: status is then told by symbols and words only
    /// (it always is; colour is only added).
    pub color: bool,
}

impl State {
    pub fn new(size: (u16, u16), color: bool) -> State {
        State {
            snapshot: None,
            view: View::Devices,
            mode: Mode::Normal,
            filter: String::new(),
            errors_only: false,
            device: None,
            finding: None,
            offsets: Offsets::default(),
            size,
            notice: None,
            color,
        }
    }

    pub fn report(&self) -> Option<&Report> {
        self.snapshot.as_ref().map(|s| &s.report)
    }

    /// The selected device, looked up in the whole report (the device view
    /// keeps showing it when the filter hides it from the list).
    pub fn selected_device(&self) -> Option<&DeviceReport> {
        let id = self.device.as_deref()?;
        self.report()?.devices.iter().find(|d| d.id() == id)
    }

    fn is_live(&self) -> bool {
        matches!(
            self.snapshot.as_ref().map(|s| s.status.feed),
            Some(Feed::Live)
        )
    }
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    NextView,
    PrevView,
    Show(View),
    StartFilter,
    ErrorsOnly,
    StartExport,
    Help,
    Quit,
    Replay(Control),
    /// Text entry (filter, export file name).
    Type(char),
    Erase,
    /// Erase everything typed (Ctrl-U).
    EraseAll,
    Submit,
    Cancel,
    Click(view::Hit),
}

/// What can happen to the state.
#[derive(Debug, Clone)]
pub enum Msg {
    Action(Action),
    Snapshot(Box<Snapshot>),
    Resize(u16, u16),
    /// An export finished: the file written, or why not.
    Exported(Result<PathBuf, String>),
}

/// What the run loop must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
    Control(Control),
    /// Write the current report to this file.
    Export(PathBuf),
}

/// The file `e` offers: the report as of the capture time shown.
pub fn default_export_name(s: &State) -> String {
    let t = s
        .snapshot
        .as_ref()
        .and_then(|x| x.status.capture_time)
        .map(|t| {
            crate::report::format_time(t)[..19]
                .replace(['-', ':'], "")
                .to_string()
                + "Z"
        });
    match t {
        Some(t) => format!("egresswatch-report-{t}.md"),
        None => "egresswatch-report.md".into(),
    }
}

/// Applies one message.
pub fn update(s: &mut State, msg: Msg) -> Option<Effect> {
    let effect = match msg {
        Msg::Snapshot(snap) => {
            s.snapshot = Some(*snap);
            None
        }
        Msg::Resize(w, h) => {
            s.size = (w, h);
            None
        }
        Msg::Exported(r) => {
            s.notice = Some(match r {
                Ok(p) => Notice::Done(format!("report written to {}", p.display())),
                Err(e) => Notice::Failed(e),
            });
            None
        }
        Msg::Action(a) => {
            s.notice = None;
            act(s, a)
        }
    };
    settle(s);
    effect
}

fn act(s: &mut State, a: Action) -> Option<Effect> {
    match (&mut s.mode, a) {
        (_, Action::Quit) => return Some(Effect::Quit),
        (Mode::Help, Action::Help | Action::Back | Action::Cancel | Action::Submit) => {
            s.mode = Mode::Normal;
        }
        (Mode::Help, _) => {}
        (Mode::Filter, Action::Type(c)) => s.filter.push(c),
        (Mode::Filter, Action::Erase) => {
            s.filter.pop();
        }
        (Mode::Filter, Action::EraseAll) => s.filter.clear(),
        (Mode::Filter, Action::Submit) => s.mode = Mode::Normal,
        (Mode::Filter, Action::Cancel) => {
            s.filter.clear();
            s.mode = Mode::Normal;
        }
        (Mode::Export(path), Action::Type(c)) => path.push(c),
        (Mode::Export(path), Action::Erase) => {
            path.pop();
        }
        (Mode::Export(path), Action::EraseAll) => path.clear(),
        (Mode::Export(path), Action::Submit) => {
            let p = PathBuf::from(path.trim());
            s.mode = Mode::Normal;
            if p.as_os_str().is_empty() {
                s.notice = Some(Notice::Failed("no file name: nothing exported".into()));
                return None;
            }
            return Some(Effect::Export(p));
        }
        (Mode::Export(_), Action::Cancel) => s.mode = Mode::Normal,
        (Mode::Export(_), _) => {}
        (_, a) => return normal(s, a),
    }
    None
}

fn normal(s: &mut State, a: Action) -> Option<Effect> {
    let page = view::page_rows(s).max(1);
    match a {
        Action::Up => move_by(s, -1),
        Action::Down => move_by(s, 1),
        Action::PageUp => move_by(s, -(page as isize)),
        Action::PageDown => move_by(s, page as isize),
        Action::Top => move_by(s, isize::MIN / 2),
        Action::Bottom => move_by(s, isize::MAX / 2),
        Action::Open => open(s),
        Action::Back => match s.view {
            View::Device | View::Findings => s.view = View::Devices,
            View::Devices => {
                s.filter.clear();
                s.errors_only = false;
            }
        },
        Action::NextView => s.view = next_view(s, 1),
        Action::PrevView => s.view = next_view(s, -1),
        Action::Show(v) => show(s, v),
        Action::StartFilter => s.mode = Mode::Filter,
        Action::ErrorsOnly => s.errors_only = !s.errors_only,
        Action::StartExport => {
            if s.snapshot.is_some() {
                s.mode = Mode::Export(default_export_name(s));
            } else {
                s.notice = Some(Notice::Failed("nothing to export yet".into()));
            }
        }
        Action::Help => s.mode = Mode::Help,
        Action::Replay(c) => {
            if s.is_live() {
                s.notice = Some(Notice::Failed(
                    "pause, step and speed are for replays of capture files".into(),
                ));
            } else {
                return Some(Effect::Control(c));
            }
        }
        Action::Click(hit) => return click(s, hit),
        Action::Quit => return Some(Effect::Quit),
        Action::Type(_) | Action::Erase | Action::EraseAll | Action::Submit | Action::Cancel => {}
    }
    None
}

fn show(s: &mut State, v: View) {
    if v == View::Device && s.selected_device().is_none() {
        return;
    }
    if v == View::Device && s.view != View::Device {
        s.offsets.detail = 0;
    }
    s.view = v;
}

fn next_view(s: &State, step: isize) -> View {
    let order = if s.selected_device().is_some() {
        &[View::Devices, View::Device, View::Findings][..]
    } else {
        &[View::Devices, View::Findings][..]
    };
    let i = order.iter().position(|v| *v == s.view).unwrap_or(0) as isize;
    order[(i + step).rem_euclid(order.len() as isize) as usize]
}

fn open(s: &mut State) {
    match s.view {
        View::Devices => show(s, View::Device),
        View::Findings => {
            let dev = s
                .finding
                .as_deref()
                .and_then(|k| finding_rows(s).into_iter().find(|f| finding_key(f) == k))
                .map(|f| f.device.clone());
            if let Some(d) = dev {
                s.device = Some(d);
                s.offsets.detail = 0;
                show(s, View::Device);
            }
        }
        View::Device => {}
    }
}

fn click(s: &mut State, hit: view::Hit) -> Option<Effect> {
    match hit {
        view::Hit::Tab(v) => show(s, v),
        view::Hit::Device(id) => {
            s.view = View::Devices;
            if s.device.as_deref() == Some(id.as_str()) {
                show(s, View::Device);
            } else {
                s.device = Some(id);
            }
        }
        view::Hit::Finding(key) => {
            if s.finding.as_deref() == Some(key.as_str()) {
                open(s);
            } else {
                s.finding = Some(key);
            }
        }
    }
    None
}

fn move_by(s: &mut State, delta: isize) {
    fn step(len: usize, at: Option<usize>, delta: isize) -> Option<usize> {
        if len == 0 {
            return None;
        }
        let at = at.unwrap_or(0) as isize;
        Some(at.saturating_add(delta).clamp(0, len as isize - 1) as usize)
    }
    match s.view {
        View::Devices => {
            let rows = device_rows(s);
            let at = rows.iter().position(|r| Some(r.device.id()) == s.device);
            s.device = step(rows.len(), at, delta).map(|i| rows[i].device.id());
        }
        View::Findings => {
            let rows = finding_rows(s);
            let at = rows.iter().position(|f| Some(finding_key(f)) == s.finding);
            s.finding = step(rows.len(), at, delta).map(|i| finding_key(rows[i]));
        }
        View::Device => {
            s.offsets.detail = (s.offsets.detail as isize).saturating_add(delta).max(0) as usize;
        }
    }
}

/// Keeps the selections on shown rows and the offsets where the view puts
/// them, after anything changed.
fn settle(s: &mut State) {
    let rows = device_rows(s);
    let shown = rows.iter().any(|r| Some(r.device.id()) == s.device);
    let kept_open = s.view == View::Device && s.selected_device().is_some();
    if !shown && !kept_open {
        s.device = rows.first().map(|r| r.device.id());
    }
    let findings = finding_rows(s);
    if !findings.iter().any(|f| Some(finding_key(f)) == s.finding) {
        s.finding = findings.first().map(|f| finding_key(f));
    }
    if s.view == View::Device && s.selected_device().is_none() {
        s.view = View::Devices;
    }
    s.offsets = view::offsets(s);
}
