//! One device: its requirement checklist with status, evidence and fix; the
//! names it used and where each came from; its recent flows with how they
//! went. Wide terminals put names and flows beside the checklist.

use super::text::{cut, fit, para, width};
use super::{clock, rule, Theme};
use crate::output::outcome_words;
use crate::report::{DestinationReport, DeviceReport, Report};
use crate::tui::app::State;
use crate::tui::rows;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// Terminals at least this wide get two columns.
const TWO_COLUMNS: u16 = 140;
/// Flows listed, most recent first.
const MAX_FLOWS: usize = 40;

/// The columns' areas: the checklist, and names and flows (when beside it).
fn columns(body: Rect) -> (Rect, Option<Rect>) {
    if body.width < TWO_COLUMNS {
        return (body, None);
    }
    let left = body.width * 58 / 100;
    (
        Rect::new(body.x, body.y, left, body.height),
        Some(Rect::new(
            body.x + left + 1,
            body.y,
            body.width - left - 1,
            body.height,
        )),
    )
}

/// The lines of each column.
fn content(s: &State, theme: Theme, body: Rect) -> (Vec<Line<'static>>, Vec<Line<'static>>) {
    let (Some(d), Some(r)) = (s.selected_device(), s.report()) else {
        return (Vec::new(), Vec::new());
    };
    let (left, right) = columns(body);
    let mut main = checklist(r, d, theme, left.width as usize);
    let mut side = names(d, theme, right.unwrap_or(left).width as usize);
    side.push(Line::raw(""));
    side.extend(flows(d, theme, right.unwrap_or(left).width as usize));
    if right.is_none() {
        main.push(Line::raw(""));
        main.append(&mut side);
    }
    (main, side)
}

/// The first line shown: kept so that the last page is full.
pub fn offset(s: &State, body: Rect) -> usize {
    let (main, side) = content(s, Theme { color: false }, body);
    let len = main.len().max(if columns(body).1.is_some() {
        side.len()
    } else {
        0
    });
    s.offsets
        .detail
        .min(len.saturating_sub(body.height as usize))
}

pub fn render(s: &State, theme: Theme, f: &mut Frame<'_>, body: Rect) {
    let (main, side) = content(s, theme, body);
    let o = offset(s, body);
    let (left, right) = columns(body);
    let page = |lines: Vec<Line<'static>>| -> Vec<Line<'static>> {
        lines
            .into_iter()
            .skip(o)
            .take(body.height as usize)
            .collect()
    };
    f.render_widget(Paragraph::new(page(main)), left);
    if let Some(right) = right {
        f.render_widget(Paragraph::new(page(side)), right);
    }
}

fn checklist(r: &Report, d: &DeviceReport, theme: Theme, w: usize) -> Vec<Line<'static>> {
    let id = d.id();
    let v = rows::verdict(d, &r.findings);
    let mut out = Vec::new();
    // Name, MAC, addresses, vendor: what is known, once each.
    let mut who: Vec<String> = d.hostname.iter().chain(&d.mac).cloned().collect();
    who.extend(d.ips.iter().map(|i| i.to_string()));
    who.extend(d.vendor.iter().cloned());
    out.extend(para(
        Span::styled(format!(" {} {} ", v.symbol(), v.word()), theme.verdict(v)),
        &who.join("  "),
        theme.title(),
        w,
    ));
    let profile = match &d.profile {
        Some(p) => format!("{p}, identified by {}", d.identified_by.join(", ")),
        None => "none matches: only what needs no profile is checked".into(),
    };
    out.extend(para(Span::raw("   profile: "), &profile, Style::new(), w));
    if let Some(wifi) = &d.wifi {
        let text = crate::output::wifi_words(wifi);
        out.extend(para(Span::raw("   wifi: "), &text, Style::new(), w));
    }
    if let Some(sum) = &d.summary {
        out.extend(para(Span::raw("   why: "), sum, Style::new(), w));
    }
    let mine: Vec<_> = r.findings.iter().filter(|f| f.device == id).collect();
    if !d.requirements.is_empty() {
        out.push(Line::raw(""));
        out.push(rule(&format!("REQUIREMENTS  {}", tally(d)), theme, w));
        for q in &d.requirements {
            let sym = rows::status_symbol(q.status);
            let head = if w >= 100 {
                format!(" {sym} {} ", fit(status_word(q.status), 8))
            } else {
                format!(" {sym} ")
            };
            out.extend(para(
                Span::styled(head.clone(), theme.status(q.status)),
                &format!(
                    "{}{}: {}",
                    q.id,
                    if q.required { "" } else { " (optional)" },
                    q.description
                ),
                theme.title(),
                w,
            ));
            let pad = " ".repeat(width(&head));
            out.extend(para(Span::raw(pad.clone()), &q.evidence, Style::new(), w));
            for f in mine
                .iter()
                .filter(|f| f.requirement.as_deref() == Some(&q.id))
            {
                out.extend(para(
                    Span::styled(format!("{pad}fix: "), theme.severity(f.severity)),
                    &f.message,
                    Style::new(),
                    w,
                ));
            }
        }
    }
    let other: Vec<_> = mine
        .iter()
        .filter(|f| {
            f.requirement
                .as_deref()
                .is_none_or(|q| !d.requirements.iter().any(|x| x.id == q))
        })
        .collect();
    if !other.is_empty() {
        out.push(Line::raw(""));
        out.push(rule("OTHER FINDINGS", theme, w));
        for f in other {
            out.extend(para(
                Span::styled(
                    format!(
                        " {} {} ",
                        rows::severity_symbol(f.severity),
                        fit(f.severity.as_str(), 7)
                    ),
                    theme.severity(f.severity),
                ),
                &f.message,
                Style::new(),
                w,
            ));
        }
    }
    out
}

fn status_word(status: &str) -> &'static str {
    match status {
        "pass" => "pass",
        "fail" => "FAIL",
        "warn" => "warn",
        _ => "not seen",
    }
}

/// "2 ✗ fail · 4 ✓ pass · 1 ? not observed"
fn tally(d: &DeviceReport) -> String {
    let mut parts = Vec::new();
    for (st, word) in [
        ("fail", "fail"),
        ("warn", "warn"),
        ("pass", "pass"),
        ("not_observed", "not observed"),
    ] {
        let n = d.requirements.iter().filter(|q| q.status == st).count();
        if n > 0 {
            parts.push(format!("{n} {} {word}", rows::status_symbol(st)));
        }
    }
    parts.join(" · ")
}

fn names(d: &DeviceReport, theme: Theme, w: usize) -> Vec<Line<'static>> {
    let mut out = vec![rule("NAMES USED  and where each came from", theme, w)];
    if d.name_sources.is_empty() {
        out.push(Line::styled("  none seen", theme.dim()));
    }
    let nw = d
        .name_sources
        .keys()
        .map(|n| width(n))
        .max()
        .unwrap_or(0)
        .min(w.saturating_sub(14) / 2 + 8)
        .min(44);
    for (name, sources) in &d.name_sources {
        let line = format!("  {} {}", fit(name, nw), sources.join(", "));
        out.push(Line::raw(cut(&line, w)));
    }
    out
}

/// How a destination's attempts went, as a symbol.
fn flow_symbol(o: &crate::device::Outcomes) -> &'static str {
    let failed = o.no_answer + o.reset + o.icmp_unreachable + o.icmp_admin_prohibited;
    match (o.ok > 0, failed > 0) {
        (false, true) => "✗",
        (true, true) => "!",
        (true, false) => "✓",
        _ if o.pending > 0 => "…",
        _ => "~",
    }
}

fn flow_style(theme: Theme, sym: &str) -> Style {
    match sym {
        "✗" => theme.status("fail"),
        "!" => theme.status("warn"),
        "✓" => theme.status("pass"),
        _ => theme.dim(),
    }
}

fn flows(d: &DeviceReport, theme: Theme, w: usize) -> Vec<Line<'static>> {
    let mut dests: Vec<&DestinationReport> = d.destinations.iter().collect();
    dests.sort_by(|a, b| {
        b.last_seen
            .cmp(&a.last_seen)
            .then_with(|| a.port.cmp(&b.port))
    });
    let shown = dests.len().min(MAX_FLOWS);
    let title = if dests.len() > shown {
        format!("FLOWS  most recent first, {shown} of {}", dests.len())
    } else {
        "FLOWS  most recent first".into()
    };
    let mut out = vec![rule(&title, theme, w)];
    if dests.is_empty() {
        out.push(Line::styled("  none seen", theme.dim()));
    }
    for x in dests.into_iter().take(MAX_FLOWS) {
        let sym = flow_symbol(&x.outcomes);
        let target = match &x.name {
            Some(n) => format!("{n} {}:{}", x.ip, x.port),
            None => format!("{}:{}", x.ip, x.port),
        };
        let text = format!(
            "{} {} {target} · {} flow{}: {}",
            clock(x.last_seen),
            x.proto,
            x.flows,
            if x.flows == 1 { "" } else { "s" },
            outcome_words(&x.outcomes)
        );
        out.extend(para(
            Span::styled(format!("  {sym} "), flow_style(theme, sym)),
            &text,
            Style::new(),
            w,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Outcomes;

    #[test]
    fn flow_symbols_tell_how_attempts_went() {
        let o = |ok, no_answer, pending| Outcomes {
            ok,
            no_answer,
            pending,
            ..Default::default()
        };
        assert_eq!(flow_symbol(&o(0, 2, 0)), "✗");
        assert_eq!(flow_symbol(&o(1, 1, 0)), "!");
        assert_eq!(flow_symbol(&o(3, 0, 0)), "✓");
        assert_eq!(flow_symbol(&o(0, 0, 1)), "…");
        assert_eq!(flow_symbol(&o(0, 0, 0)), "~");
    }
}
