//! The findings: most severe first, newest first within a severity; each
//! with its device, its message (what is wrong and the fix) and the frames
//! that prove it.

use super::text::{fit, para};
use super::{clock, Theme};
use crate::finding::Finding;
use crate::report::Report;
use crate::tui::app::State;
use crate::tui::rows::{self, finding_key, finding_rows};
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// Evidence frames listed per finding.
const MAX_FRAMES: usize = 6;

pub fn list_area(body: Rect) -> Rect {
    Rect::new(
        body.x,
        body.y + 1,
        body.width,
        body.height.saturating_sub(1),
    )
}

/// The lines of one finding (the first is its heading).
fn item(r: &Report, f: &Finding, selected: bool, theme: Theme, w: usize) -> Vec<Line<'static>> {
    let device = r.devices.iter().find(|d| d.id() == f.device);
    let who = match device.and_then(|d| d.hostname.as_deref()) {
        Some(h) if w >= 120 => format!("{h} ({})", f.device),
        Some(h) => h.to_string(),
        None => f.device.clone(),
    };
    let mut about = f.kind.as_str().to_string();
    if let (Some(p), Some(q)) = (&f.profile, &f.requirement) {
        about.push_str(&format!(" · {p}/{q}"));
    }
    let base = if selected {
        theme.selected()
    } else {
        Style::new()
    };
    let head = Line::from(vec![
        Span::styled(if selected { "▶" } else { " " }, base),
        Span::styled(
            format!(
                "{} {}",
                rows::severity_symbol(f.severity),
                fit(&f.severity.as_str().to_uppercase(), 7)
            ),
            base.patch(theme.severity(f.severity)),
        ),
        Span::styled(
            super::text::cut(
                &format!(" {}  {who}  {about}", clock(f.last_seen)),
                w.saturating_sub(10),
            ),
            base.patch(theme.title()),
        ),
    ]);
    let mut out = vec![head];
    out.extend(para(Span::raw("    "), &f.message, Style::new(), w));
    let frames: Vec<String> = f
        .evidence
        .iter()
        .take(MAX_FRAMES)
        .map(|e| format!("{}#{}", e.file, e.frame))
        .collect();
    let when = if f.first_seen == f.last_seen {
        clock(f.first_seen)
    } else {
        format!("{}–{}", clock(f.first_seen), clock(f.last_seen))
    };
    let more = f.evidence.len().saturating_sub(MAX_FRAMES);
    let proof = format!(
        "{}× {when} · frames {}{}",
        f.count,
        frames.join(" "),
        if more > 0 {
            format!(" (+{more})")
        } else {
            String::new()
        }
    );
    out.extend(para(Span::raw("    "), &proof, theme.dim(), w));
    out
}

/// Lines each shown finding takes.
fn heights(s: &State, w: usize) -> Vec<usize> {
    let Some(r) = s.report() else {
        return Vec::new();
    };
    finding_rows(s)
        .iter()
        .map(|f| item(r, f, false, Theme { color: false }, w).len())
        .collect()
}

/// The first finding shown, so that the selected one is, whole.
pub fn offset(s: &State, body: Rect) -> usize {
    let rows = finding_rows(s);
    let at = rows
        .iter()
        .position(|f| Some(finding_key(f)) == s.finding)
        .unwrap_or(0);
    let h = heights(s, body.width as usize);
    let height = list_area(body).height as usize;
    let mut o = s.offsets.findings.min(at).min(h.len().saturating_sub(1));
    while o < at && h[o..=at].iter().sum::<usize>() > height {
        o += 1;
    }
    o
}

pub fn render(s: &State, theme: Theme, f: &mut Frame<'_>, body: Rect) {
    let Some(r) = s.report() else { return };
    let rows = finding_rows(s);
    let w = body.width as usize;
    let mut title = vec![Span::styled(
        format!(" FINDINGS  {} of {}", rows.len(), r.findings.len()),
        theme.title(),
    )];
    title.push(Span::styled(
        "  most severe first, newest first",
        theme.dim(),
    ));
    if !s.filter.is_empty() {
        title.push(Span::raw(format!("  filter \"{}\"", s.filter)));
    }
    if s.errors_only {
        title.push(Span::raw("  errors only (f)"));
    }
    f.render_widget(
        Paragraph::new(Line::from(title)),
        Rect { height: 1, ..body },
    );
    let area = list_area(body);
    let mut lines = Vec::new();
    for x in rows.iter().skip(offset(s, body)) {
        if lines.len() >= area.height as usize {
            break;
        }
        lines.extend(item(r, x, Some(finding_key(x)) == s.finding, theme, w));
    }
    if rows.is_empty() {
        let why = if r.findings.is_empty() {
            " no findings: nothing wrong has been seen"
        } else {
            " no finding matches (Esc, then / to change the filter)"
        };
        lines.push(Line::styled(why, theme.dim()));
    }
    lines.truncate(area.height as usize);
    f.render_widget(Paragraph::new(lines), area);
}

/// The finding drawn on a row, for a click.
pub fn hit(s: &State, body: Rect, at: Position) -> Option<String> {
    let area = list_area(body);
    if !area.contains(at) {
        return None;
    }
    let mut y = (at.y - area.y) as usize;
    let rows = finding_rows(s);
    let h = heights(s, body.width as usize);
    for i in s.offsets.findings..rows.len() {
        if y < h[i] {
            return Some(finding_key(rows[i]));
        }
        y -= h[i];
    }
    None
}
