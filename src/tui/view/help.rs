//! The help box: every key, and what the symbols mean.

use super::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

const KEYS: &[(&str, &str)] = &[
    ("↑ ↓  j k", "move; in a device, scroll"),
    ("PgUp PgDn g G", "page; first, last"),
    ("Enter  →", "open the device (from a finding: its device)"),
    ("Esc  ←", "back; in the list, clear the filter"),
    ("Tab  1 2 3", "devices, device, findings"),
    ("/", "filter: name, MAC, IP, profile, status words"),
    ("f", "errors only, or everything again"),
    ("e", "export the report (Markdown; .json for JSON)"),
    ("Ctrl-U", "in the filter or file prompt: erase it"),
    ("space  s", "replay: pause or play; one frame"),
    (">  + -", "replay: to the end; faster, slower"),
    ("mouse", "click selects, again opens; wheel moves"),
    ("q", "quit"),
];

const SYMBOLS: &str = "✗ fails  ! warning  ✓ ok  ? not seen yet  · no profile";

pub fn render(theme: Theme, f: &mut Frame<'_>, body: Rect) {
    let w = 64.min(body.width);
    let h = (KEYS.len() as u16 + 4).min(body.height);
    let area = Rect::new(
        body.x + (body.width - w) / 2,
        body.y + (body.height - h) / 2,
        w,
        h,
    );
    let mut lines: Vec<Line<'_>> = KEYS
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<15}"), theme.title()),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::raw(format!(" {SYMBOLS}")));
    let block = Block::bordered().title(" keys · Esc or ? closes ");
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(lines).block(block), area);
}
