//! The status line: how the capture is going, and whether the mirror port
//! shows both directions.

use super::text::cut;
use super::{clock, Theme};
use crate::report::format_time;
use crate::tui::app::State;
use crate::tui::feed::{Feed, Playback};
use crate::tui::rows::{self, Mirror, Verdict};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// Terminals at least this wide get the long forms.
const WIDE: u16 = 120;

fn speed(s: f64) -> String {
    if s == 0.0 {
        "max".into()
    } else if s >= 1.0 {
        format!("{s}×")
    } else {
        format!("1/{}×", (1.0 / s).round())
    }
}

/// The status line. Each part has a short form for narrow terminals; when
/// even those do not fit, the least needed parts are left out.
pub fn line(s: &State, theme: Theme, width: u16) -> Line<'static> {
    let Some(snap) = &s.snapshot else {
        return Line::styled(" starting…", theme.dim());
    };
    let wide = width >= WIDE;
    let st = &snap.status;
    let r = &snap.report;
    // (priority: lower is kept longer, spans)
    let mut parts: Vec<(u8, Vec<Span<'static>>)> = Vec::new();
    let feed = match st.feed {
        Feed::Replay { speed: x, playback } => match playback {
            Playback::Playing if wide => (format!("▶ replay {}", speed(x)), Style::new()),
            Playback::Playing => (format!("▶ {}", speed(x)), Style::new()),
            Playback::Paused => (format!("‖ paused {}", speed(x)), theme.status("warn")),
            Playback::Jumping => ("» to the end".into(), Style::new()),
            Playback::Ended if wide => ("■ end of capture".into(), Style::new()),
            Playback::Ended => ("■ end".into(), Style::new()),
        },
        Feed::Live => match &st.problem {
            None => (
                format!("● live {}", r.capture.files.join(",")),
                theme.status("pass"),
            ),
            Some(p) => (format!("✗ {}", cut(p, 40)), theme.status("fail")),
        },
    };
    parts.push((0, vec![Span::styled(feed.0, feed.1)]));
    if let Some(t) = st.capture_time {
        let when = if wide {
            format_time(t)[..19].replace('T', " ") + " UTC"
        } else {
            clock(t)
        };
        parts.push((3, vec![Span::raw(when)]));
    }
    parts.push((
        4,
        vec![Span::raw(if wide {
            format!("{} packets, {}/s", st.packets, st.rate)
        } else {
            format!("{} pkts {}/s", st.packets, st.rate)
        })],
    ));
    parts.push((
        5,
        vec![match st.drops {
            None => Span::raw("drops –"),
            Some(0) => Span::raw("drops 0"),
            Some(n) => Span::styled(format!("drops ! {n}"), theme.status("warn")),
        }],
    ));
    parts.push((
        6,
        vec![Span::raw(if wide {
            format!("flows {}, {} open", r.capture.flows.created, st.open_flows)
        } else {
            format!("flows {}", r.capture.flows.created)
        })],
    ));
    let failing = r
        .devices
        .iter()
        .filter(|d| rows::verdict(d, &r.findings) == Verdict::Fail)
        .count();
    let n = r.devices.len();
    let mut devices = vec![Span::raw(format!(
        "{n} device{}",
        if n == 1 { "" } else { "s" }
    ))];
    if failing > 0 {
        devices.push(Span::styled(
            format!(", {failing} ✗"),
            theme.verdict(Verdict::Fail),
        ));
    }
    parts.push((2, devices));
    let (m, style) = match rows::mirror(r) {
        Mirror::Waiting => ("mirror ? no traffic yet".to_string(), theme.dim()),
        Mirror::Both if wide => ("mirror ✓ both directions".to_string(), theme.status("pass")),
        Mirror::Both => ("mirror ✓".to_string(), theme.status("pass")),
        Mirror::OneWay => ("mirror ✗ one-way".to_string(), theme.status("fail")),
        Mirror::Partly(n) => (format!("mirror ! {n} one-way"), theme.status("warn")),
    };
    parts.push((1, vec![Span::styled(m, style)]));

    let sep = if wide { " │ " } else { "  " };
    let fits = |parts: &[(u8, Vec<Span<'static>>)]| {
        let text: usize = parts.iter().flat_map(|p| &p.1).map(|x| x.width()).sum();
        1 + text + super::text::width(sep) * parts.len().saturating_sub(1) <= width as usize
    };
    while !fits(&parts) && parts.len() > 1 {
        let worst = parts
            .iter()
            .enumerate()
            .max_by_key(|(_, p)| p.0)
            .map(|(i, _)| i)
            .unwrap_or(0);
        parts.remove(worst);
    }
    let mut spans = vec![Span::raw(" ")];
    for (i, (_, p)) in parts.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(sep, theme.dim()));
        }
        spans.extend(p);
    }
    Line::from(spans)
}
