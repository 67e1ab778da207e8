//! The device list: one row per device, worst first, and below it why the
//! selected device is in the state it is in.

use super::text::{cut, fit, fit_right, para};
use super::{rule, Theme};
use crate::output::human_bytes;
use crate::tui::app::State;
use crate::tui::rows::{self, device_rows, DeviceRow, Verdict};
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// Terminals at least this wide get the extra columns.
const WIDE: u16 = 120;

pub struct Layout {
    pub title: Rect,
    pub header: Rect,
    pub list: Rect,
    pub panel: Rect,
}

/// The list takes the rows it needs, leaving at least a third of the body
/// (five lines or more) to the selected device's panel.
pub fn layout(body: Rect, rows: usize) -> Layout {
    let min_panel = (body.height / 3).max(5);
    let most = body.height.saturating_sub(2 + min_panel);
    let list = (rows.max(3) as u16).min(most);
    let panel = body.height.saturating_sub(2 + list);
    let row = |y: u16, h: u16| Rect::new(body.x, body.y + y, body.width, h);
    Layout {
        title: row(0, 1),
        header: row(1, 1),
        list: row(2, list),
        panel: row(2 + list, panel),
    }
}

/// Column widths for a terminal width.
struct Columns {
    wide: bool,
    ip: usize,
    host: usize,
    vendor: usize,
}

fn columns(width: u16) -> Columns {
    let wide = width >= WIDE;
    let ip = if wide { 24 } else { 15 };
    // gutter, verdict, MAC, IP, profile, reqs (+ findings, packets, last seen)
    // and a space between each two columns.
    let fixed = 1 + 6 + 17 + ip + 12 + 5 + 7 + if wide { 5 + 17 + 8 + 3 } else { 0 };
    let flex = (width as usize).saturating_sub(fixed);
    let host = (flex * 55 / 100).min(28);
    let vendor = flex.saturating_sub(host).min(30);
    Columns {
        wide,
        ip,
        host,
        vendor,
    }
}

fn header(c: &Columns) -> String {
    let mut h = format!(
        " {} {} {} {} {} {} {}",
        fit("STATUS", 6),
        fit("MAC", 17),
        fit("IP", c.ip),
        fit("HOSTNAME", c.host),
        fit("VENDOR", c.vendor),
        fit("PROFILE", 12),
        fit_right("REQS", 5)
    );
    if c.wide {
        h.push_str(&format!(
            " {} {} {}",
            fit_right("FIND", 5),
            fit_right("BYTES OUT/IN", 17),
            fit("LAST", 8)
        ));
    }
    h
}

fn row_line(row: &DeviceRow<'_>, c: &Columns, selected: bool, theme: Theme) -> Line<'static> {
    let d = row.device;
    let v = row.verdict;
    let ips = match d.ips.len() {
        0 => "-".to_string(),
        1 => d.ips[0].to_string(),
        n => format!("{} +{}", d.ips[0], n - 1),
    };
    let reqs = if d.profile.is_some() {
        format!("{}/{}", row.passed, d.requirements.len())
    } else {
        "-".into()
    };
    let mut rest = format!(
        " {} {} {} {} {} {}",
        fit(d.mac.as_deref().unwrap_or("-"), 17),
        fit(&ips, c.ip),
        fit(d.hostname.as_deref().unwrap_or("-"), c.host),
        fit(d.vendor.as_deref().unwrap_or("-"), c.vendor),
        fit(d.profile.as_deref().unwrap_or("-"), 12),
        fit_right(&reqs, 5)
    );
    if c.wide {
        let bytes = format!(
            "{}/{}",
            human_bytes(d.bytes_sent),
            human_bytes(d.bytes_received)
        );
        rest.push_str(&format!(
            " {} {} {}",
            fit_right(&row.findings.to_string(), 5),
            fit_right(&bytes, 17),
            fit(&super::clock(d.last_seen), 8)
        ));
    }
    let verdict = fit(&format!("{} {}", v.symbol(), v.word()), 6);
    let gutter = if selected { "▶" } else { " " };
    let base = if selected {
        theme.selected()
    } else {
        Style::new()
    };
    Line::from(vec![
        Span::styled(gutter, base),
        Span::styled(verdict, base.patch(theme.verdict(v))),
        Span::styled(rest, base),
    ])
}

/// The first row shown, so that the selected row is.
pub fn offset(s: &State, body: Rect) -> usize {
    let rows = device_rows(s);
    let height = layout(body, rows.len()).list.height as usize;
    let at = rows
        .iter()
        .position(|r| Some(r.device.id()) == s.device)
        .unwrap_or(0);
    keep_in_view(s.offsets.devices, at, rows.len(), height)
}

/// An offset moved as little as possible to show row `at` of `len` in
/// `height` rows.
pub fn keep_in_view(offset: usize, at: usize, len: usize, height: usize) -> usize {
    if height == 0 {
        return 0;
    }
    let mut o = offset.min(len.saturating_sub(height));
    if at < o {
        o = at;
    } else if at >= o + height {
        o = at + 1 - height;
    }
    o
}

pub fn render(s: &State, theme: Theme, f: &mut Frame<'_>, body: Rect) {
    let rows = device_rows(s);
    let l = layout(body, rows.len());
    let total = s.report().map_or(0, |r| r.devices.len());
    let c = columns(body.width);
    let w = body.width as usize;

    let mut title = vec![Span::styled(
        format!(" DEVICES  {} of {total}", rows.len()),
        theme.title(),
    )];
    let counts = verdict_counts(&rows);
    if !counts.is_empty() {
        title.push(Span::raw(format!("  {counts}")));
    }
    if !s.filter.is_empty() {
        title.push(Span::raw(format!("  filter \"{}\"", s.filter)));
    }
    if s.errors_only {
        title.push(Span::raw("  errors only (f)"));
    }
    f.render_widget(Paragraph::new(Line::from(title)), l.title);
    f.render_widget(
        Paragraph::new(Line::from(Span::styled(cut(&header(&c), w), theme.title()))),
        l.header,
    );

    let offset = offset(s, body);
    let mut lines: Vec<Line<'_>> = rows
        .iter()
        .skip(offset)
        .take(l.list.height as usize)
        .map(|r| row_line(r, &c, Some(r.device.id()) == s.device, theme))
        .collect();
    if rows.is_empty() {
        let why = if total == 0 {
            " no devices yet"
        } else {
            " no device matches (Esc clears the filter)"
        };
        lines.push(Line::from(Span::styled(why, theme.dim())));
    }
    f.render_widget(Paragraph::new(lines), l.list);

    let selected = rows
        .iter()
        .find(|r| Some(r.device.id()) == s.device)
        .copied();
    if let Some(row) = selected {
        let mut lines = panel(s, &row, theme, w);
        let h = l.panel.height as usize;
        if lines.len() > h {
            lines.truncate(h.saturating_sub(1));
            lines.push(Line::from(Span::styled(
                " … more: Enter opens the device",
                theme.dim(),
            )));
        }
        f.render_widget(Paragraph::new(lines), l.panel);
    }
}

/// "3 ✗ 1 ! 2 ✓" over the shown rows.
fn verdict_counts(rows: &[DeviceRow<'_>]) -> String {
    let mut parts = Vec::new();
    for v in [Verdict::Fail, Verdict::Warn, Verdict::Unseen, Verdict::Pass] {
        let n = rows.iter().filter(|r| r.verdict == v).count();
        if n > 0 {
            parts.push(format!("{n} {} {}", v.symbol(), v.word().to_lowercase()));
        }
    }
    parts.join(" · ")
}

/// Why the selected device is in its state: the causal chain, what fails
/// with the fix, and the findings not tied to a requirement.
fn panel(s: &State, row: &DeviceRow<'_>, theme: Theme, w: usize) -> Vec<Line<'static>> {
    let d = row.device;
    let id = d.id();
    let mut title = d.hostname.clone().unwrap_or_else(|| id.clone());
    if d.hostname.is_some() {
        title.push_str(&format!(" · {id}"));
    }
    title.push_str(&format!(
        " · {}",
        d.profile.as_deref().unwrap_or("no profile")
    ));
    let mut out = vec![rule(&title, theme, w)];
    let v = row.verdict;
    if let Some(sum) = &d.summary {
        out.extend(para(
            Span::styled(format!(" {} ", v.symbol()), theme.verdict(v)),
            sum,
            Style::new(),
            w,
        ));
    }
    let findings = s.report().map(|r| &r.findings[..]).unwrap_or(&[]);
    for r in d
        .requirements
        .iter()
        .filter(|r| r.status == "fail" || r.status == "warn")
    {
        out.extend(para(
            Span::styled(
                format!(" {} ", rows::status_symbol(r.status)),
                theme.status(r.status),
            ),
            &format!("{}: {}", r.id, r.evidence),
            Style::new(),
            w,
        ));
        // The fix, as the finding words it.
        for f in findings
            .iter()
            .filter(|f| f.device == id && f.requirement.as_deref() == Some(&r.id))
        {
            out.extend(para(Span::raw("   → "), &f.message, Style::new(), w));
        }
    }
    for f in findings
        .iter()
        .filter(|f| f.device == id && f.requirement.is_none())
    {
        out.extend(para(
            Span::styled(
                format!(" {} ", rows::severity_symbol(f.severity)),
                theme.severity(f.severity),
            ),
            &f.message,
            Style::new(),
            w,
        ));
    }
    if out.len() == 1 {
        let words = match v {
            Verdict::Pass => "every requirement seen is met; Enter for the checklist",
            Verdict::Unseen => "nothing its profile needs has been seen yet",
            _ => "no profile matches this device and no problem was seen; Enter for what it did",
        };
        out.extend(para(
            Span::styled(format!(" {} ", v.symbol()), theme.verdict(v)),
            words,
            theme.dim(),
            w,
        ));
    }
    out
}

/// The device on a row of the list, for a click.
pub fn hit(s: &State, body: Rect, at: Position) -> Option<String> {
    let rows = device_rows(s);
    let l = layout(body, rows.len());
    if !l.list.contains(at) {
        return None;
    }
    let i = s.offsets.devices + (at.y - l.list.y) as usize;
    rows.get(i).map(|r| r.device.id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fill_80_and_wide_terminals() {
        for w in [80u16, 100, 160, 240] {
            let c = columns(w);
            assert!(super::super::text::width(&header(&c)) <= w as usize, "{w}");
            assert!(c.host >= 8, "{w}: hostname column {}", c.host);
        }
    }

    #[test]
    fn selection_scrolls_into_view() {
        assert_eq!(keep_in_view(0, 3, 10, 5), 0);
        assert_eq!(keep_in_view(0, 7, 10, 5), 3);
        assert_eq!(keep_in_view(5, 2, 10, 5), 2);
        assert_eq!(keep_in_view(9, 9, 10, 5), 5, "no empty rows below the end");
    }
}
