//! Text measured in terminal columns: fitting into a column, word wrapping.
//! Wrapping is done here rather than by the widget so that scrolling and
//! mouse hits know how many lines each item takes.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Columns `s` takes.
pub fn width(s: &str) -> usize {
    s.width()
}

/// `s` cut to at most `w` columns, with `…` where it was cut.
pub fn cut(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if used + cw > w - 1 {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    out
}

/// `s` in exactly `w` columns: cut, or padded with spaces.
pub fn fit(s: &str, w: usize) -> String {
    let mut out = cut(s, w);
    let pad = w.saturating_sub(width(&out));
    out.extend(std::iter::repeat_n(' ', pad));
    out
}

/// `s` right-aligned in `w` columns.
pub fn fit_right(s: &str, w: usize) -> String {
    let out = cut(s, w);
    let pad = w.saturating_sub(width(&out));
    format!("{}{out}", " ".repeat(pad))
}

/// Splits `s` into lines of at most `w` columns at spaces; a word longer
/// than a line is split where the line ends.
pub fn wrap(s: &str, w: usize) -> Vec<String> {
    let w = w.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for word in s.split(' ').filter(|x| !x.is_empty()) {
        let ww = width(word);
        let need = if used == 0 { ww } else { used + 1 + ww };
        if need <= w {
            if used > 0 {
                line.push(' ');
            }
            line.push_str(word);
            used = need;
            continue;
        }
        if used > 0 {
            lines.push(std::mem::take(&mut line));
            used = 0;
        }
        if ww <= w {
            line.push_str(word);
            used = ww;
            continue;
        }
        for c in word.chars() {
            let cw = c.width().unwrap_or(0);
            if used + cw > w {
                lines.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push(c);
            used += cw;
        }
    }
    if used > 0 || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// A paragraph as lines of `w` columns: `head` (styled) starts the first
/// line, and later lines are indented by its width.
pub fn para(head: Span<'static>, text: &str, style: Style, w: usize) -> Vec<Line<'static>> {
    let indent = head.width();
    let body = w.saturating_sub(indent).max(8);
    let pad = " ".repeat(indent);
    wrap(text, body)
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let first = if i == 0 {
                head.clone()
            } else {
                Span::raw(pad.clone())
            };
            Line::from(vec![first, Span::styled(l, style)])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_and_pads_by_columns() {
        assert_eq!(fit("abc", 5), "abc  ");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("✓ ok", 4), "✓ ok");
        assert_eq!(fit_right("12", 4), "  12");
        assert_eq!(cut("abc", 0), "");
    }

    #[test]
    fn wrap_breaks_at_spaces_and_splits_long_words() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
        assert_eq!(wrap("a  b", 10), ["a b"]);
    }
}
