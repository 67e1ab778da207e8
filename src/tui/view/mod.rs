//! The render: a pure function of [`State`] onto a ratatui frame.
//!
//! The screen is four bands: the view tabs (top), the body (the device list,
//! one device, or the findings), the capture's status line, and a line of
//! keys (or the prompt being typed, or the last action's outcome). Layout is
//! computed by the same functions for drawing, for scrolling
//! ([`offsets`]) and for mouse hits ([`hit`]), so a click lands on what is
//! drawn. Every status has a symbol and a word; colour only repeats them,
//! and under NO_COLOR there is none.

mod device;
mod devices;
mod findings;
mod help;
mod status;
pub mod text;

use super::app::{Mode, Notice, Offsets, State, View};
use super::rows;
use crate::finding::Severity;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// Below this the screen says it is too small instead of drawing.
pub const MIN_SIZE: (u16, u16) = (60, 16);

/// Something the mouse can point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hit {
    Tab(View),
    Device(String),
    Finding(String),
}

/// Styles, with colour only when allowed.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn verdict(self, v: rows::Verdict) -> Style {
        match v {
            rows::Verdict::Fail => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            rows::Verdict::Warn => self.fg(Color::Yellow),
            rows::Verdict::Pass => self.fg(Color::Green),
            rows::Verdict::Unseen | rows::Verdict::NoProfile => self.dim(),
        }
    }

    pub fn status(self, status: &str) -> Style {
        match status {
            "fail" => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            "warn" => self.fg(Color::Yellow),
            "pass" => self.fg(Color::Green),
            _ => self.dim(),
        }
    }

    pub fn severity(self, s: Severity) -> Style {
        match s {
            Severity::Error => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Severity::Warning => self.fg(Color::Yellow),
            Severity::Info => self.fg(Color::Cyan),
        }
    }

    pub fn dim(self) -> Style {
        self.fg(Color::DarkGray)
    }

    pub fn title(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
}

/// The screen's bands.
#[derive(Debug, Clone, Copy)]
struct Bands {
    tabs: Rect,
    body: Rect,
    status: Rect,
    keys: Rect,
}

fn bands(area: Rect) -> Bands {
    let row = |y: u16, h: u16| Rect::new(area.x, area.y + y, area.width, h);
    let h = area.height;
    Bands {
        tabs: row(0, 1),
        body: row(1, h.saturating_sub(3)),
        status: row(h.saturating_sub(2), 1),
        keys: row(h.saturating_sub(1), 1),
    }
}

fn too_small(area: Rect) -> bool {
    area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1
}

/// Draws the whole screen.
pub fn render(s: &State, f: &mut Frame<'_>) {
    let area = f.area();
    let theme = Theme { color: s.color };
    if too_small(area) {
        let msg = format!(
            "egresswatch needs at least {}×{} (this terminal is {}×{}); q quits",
            MIN_SIZE.0, MIN_SIZE.1, area.width, area.height
        );
        let lines: Vec<Line<'_>> = text::wrap(&msg, area.width as usize)
            .into_iter()
            .map(Line::from)
            .collect();
        f.render_widget(Paragraph::new(lines), area);
        return;
    }
    let b = bands(area);
    f.render_widget(Paragraph::new(tab_line(s, theme, b.tabs.width)), b.tabs);
    match s.report() {
        None => {
            let msg = Line::from(" waiting for the first frames…");
            f.render_widget(Paragraph::new(msg), b.body);
        }
        Some(_) => match s.view {
            View::Devices => devices::render(s, theme, f, b.body),
            View::Device => device::render(s, theme, f, b.body),
            View::Findings => findings::render(s, theme, f, b.body),
        },
    }
    f.render_widget(
        Paragraph::new(status::line(s, theme, b.status.width)),
        b.status,
    );
    let (keys, cursor) = key_line(s, theme, b.keys.width);
    f.render_widget(Paragraph::new(keys), b.keys);
    if let Some(x) = cursor {
        f.set_cursor_position(Position::new(b.keys.x + x.min(b.keys.width - 1), b.keys.y));
    }
    if s.mode == Mode::Help {
        help::render(theme, f, b.body);
    }
}

/// The tabs with the columns each takes, for drawing and for clicks.
fn tabs(s: &State) -> Vec<(View, String)> {
    let device = s
        .selected_device()
        .map(|d| d.hostname.clone().unwrap_or_else(|| d.id()));
    let findings = s.report().map_or(0, |r| r.findings.len());
    let mut out = vec![(View::Devices, "1 Devices".to_string())];
    if let Some(name) = device {
        out.push((View::Device, format!("2 Device {}", text::cut(&name, 20))));
    }
    out.push((View::Findings, format!("3 Findings ({findings})")));
    out
}

const TITLE: &str = " egresswatch ";

fn tab_line(s: &State, theme: Theme, width: u16) -> Line<'static> {
    let mut spans = vec![Span::styled(TITLE, theme.title())];
    for (v, label) in tabs(s) {
        // The current tab is in brackets: visible without colour or bold.
        if v == s.view {
            spans.push(Span::styled(format!("[{label}]"), theme.selected()));
        } else {
            spans.push(Span::raw(format!(" {label} ")));
        }
        spans.push(Span::raw(" "));
    }
    let used: usize = spans.iter().map(|x| x.width()).sum();
    let right = "? help  q quit ";
    let gap = (width as usize).saturating_sub(used + right.len());
    if gap > 0 {
        spans.push(Span::raw(" ".repeat(gap)));
        spans.push(Span::styled(right, theme.dim()));
    }
    Line::from(spans)
}

/// The bottom line: the prompt being typed, the last action's outcome, or
/// the keys; and where the text cursor goes.
fn key_line(s: &State, theme: Theme, width: u16) -> (Line<'static>, Option<u16>) {
    let w = width as usize;
    match &s.mode {
        Mode::Filter => {
            let head = format!(" filter: {}", s.filter);
            let cursor = text::width(&head) as u16;
            let tail = "   Enter keep · Esc clear · words match name, MAC, profile, status";
            let line = Line::from(vec![
                Span::styled(head, theme.title()),
                Span::styled(
                    text::cut(tail, w.saturating_sub(cursor as usize)),
                    theme.dim(),
                ),
            ]);
            (line, Some(cursor))
        }
        Mode::Export(path) => {
            let head = format!(" export to: {path}");
            let cursor = text::width(&head) as u16;
            let tail = "   Enter write · Esc cancel · .json is JSON, else Markdown";
            let line = Line::from(vec![
                Span::styled(head, theme.title()),
                Span::styled(
                    text::cut(tail, w.saturating_sub(cursor as usize)),
                    theme.dim(),
                ),
            ]);
            (line, Some(cursor))
        }
        _ => {
            let line = match &s.notice {
                Some(Notice::Done(m)) => Line::from(Span::styled(
                    text::cut(&format!(" ✓ {m}"), w),
                    theme.status("pass"),
                )),
                Some(Notice::Failed(m)) => Line::from(Span::styled(
                    text::cut(&format!(" ✗ {m}"), w),
                    theme.status("fail"),
                )),
                None => Line::from(Span::styled(text::cut(&keys_hint(s, w), w), theme.dim())),
            };
            (line, None)
        }
    }
}

/// The keys that fit in `w` columns, the least needed left out first;
/// help and quit always stay.
fn keys_hint(s: &State, w: usize) -> String {
    let replay = !matches!(
        s.snapshot.as_ref().map(|x| x.status.feed),
        Some(super::feed::Feed::Live)
    );
    // (priority: lower stays longer, text), in the order shown.
    let mut keys: Vec<(u8, &str)> = vec![
        (6, "↑↓ move"),
        (
            1,
            match s.view {
                View::Device => "Esc back",
                _ => "⏎ open",
            },
        ),
        (2, "Tab view"),
        (3, "/ filter"),
        (4, if s.errors_only { "f all" } else { "f errors" }),
        (5, "e export"),
    ];
    if replay {
        keys.extend([
            (5, "space pause"),
            (7, "s step"),
            (7, "> end"),
            (8, "+- speed"),
        ]);
    }
    keys.extend([(0, "? help"), (0, "q quit")]);
    let width = |k: &[(u8, &str)]| -> usize {
        1 + k.iter().map(|(_, t)| text::width(t)).sum::<usize>() + 2 * k.len().saturating_sub(1)
    };
    while width(&keys) > w {
        let Some(worst) = keys.iter().map(|k| k.0).max().filter(|p| *p > 0) else {
            break;
        };
        let at = keys.iter().rposition(|k| k.0 == worst).unwrap_or(0);
        keys.remove(at);
    }
    let texts: Vec<&str> = keys.iter().map(|k| k.1).collect();
    format!(" {}", texts.join("  "))
}

/// Rows of the current view's scrolling area (for paging).
pub fn page_rows(s: &State) -> usize {
    let area = Rect::new(0, 0, s.size.0, s.size.1);
    let body = bands(area).body;
    match s.view {
        View::Devices => {
            devices::layout(body, rows::device_rows(s).len())
                .list
                .height as usize
        }
        View::Device => body.height as usize,
        View::Findings => findings::list_area(body).height as usize / 3,
    }
}

/// The offsets that keep each selection in view at the state's size.
pub fn offsets(s: &State) -> Offsets {
    let area = Rect::new(0, 0, s.size.0, s.size.1);
    let body = bands(area).body;
    Offsets {
        devices: devices::offset(s, body),
        findings: findings::offset(s, body),
        detail: device::offset(s, body),
    }
}

/// What is drawn at a cell, for a mouse click.
pub fn hit(s: &State, column: u16, row: u16) -> Option<Hit> {
    let area = Rect::new(0, 0, s.size.0, s.size.1);
    if too_small(area) || s.mode != Mode::Normal {
        return None;
    }
    let b = bands(area);
    let at = Position::new(column, row);
    if b.tabs.contains(at) {
        let mut x = text::width(TITLE) as u16;
        for (v, label) in tabs(s) {
            let w = text::width(&label) as u16 + 2;
            if column >= x && column < x + w {
                return Some(Hit::Tab(v));
            }
            x += w + 1;
        }
        return None;
    }
    if !b.body.contains(at) {
        return None;
    }
    match s.view {
        View::Devices => devices::hit(s, b.body, at).map(Hit::Device),
        View::Findings => findings::hit(s, b.body, at).map(Hit::Finding),
        View::Device => None,
    }
}

/// `HH:MM:SS` of a capture time (UTC).
pub fn clock(t: crate::capture::Nanos) -> String {
    crate::report::format_time(t)[11..19].to_string()
}

/// A section heading across the body.
fn rule(title: &str, theme: Theme, width: usize) -> Line<'static> {
    let head = format!("── {title} ");
    let fill = width.saturating_sub(text::width(&head));
    Line::from(Span::styled(
        text::cut(&format!("{head}{}", "─".repeat(fill)), width),
        theme.dim(),
    ))
}
