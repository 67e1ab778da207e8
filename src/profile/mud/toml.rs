//! Writing the TOML text of a profile: the few shapes the profile format
//! uses (strings, integers, booleans, flat lists; tables and arrays of
//! tables), written the way `rules/*.toml` are, so a person can edit it.

use serde_json::Value;
use std::fmt::Write;

/// A TOML value of the profile format.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum TVal {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<TVal>),
}

/// Keys and values in the order they are written.
pub(super) type Table = Vec<(String, TVal)>;

impl TVal {
    pub fn strs<S: AsRef<str>>(v: &[S]) -> TVal {
        TVal::List(
            v.iter()
                .map(|s| TVal::Str(s.as_ref().to_string()))
                .collect(),
        )
    }

    pub fn ports(v: &[u16]) -> TVal {
        TVal::List(v.iter().map(|p| TVal::Int(i64::from(*p))).collect())
    }

    /// The value of a JSON scalar or flat list; `None` for objects, nulls,
    /// fractions and nested lists, which the profile format never uses.
    pub fn from_json(v: &Value) -> Option<TVal> {
        match v {
            Value::String(s) => Some(TVal::Str(s.clone())),
            Value::Bool(b) => Some(TVal::Bool(*b)),
            Value::Number(n) => n.as_i64().map(TVal::Int),
            Value::Array(a) => a
                .iter()
                .map(|x| match x {
                    Value::Array(_) => None,
                    x => TVal::from_json(x),
                })
                .collect::<Option<Vec<_>>>()
                .map(TVal::List),
            _ => None,
        }
    }
}

/// A TOML basic string: quotes, backslashes and control characters escaped.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if bare {
        k.to_string()
    } else {
        quote(k)
    }
}

fn value(v: &TVal, out: &mut String) {
    match v {
        TVal::Str(s) => out.push_str(&quote(s)),
        TVal::Int(n) => {
            let _ = write!(out, "{n}");
        }
        TVal::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        TVal::List(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                value(x, out);
            }
            out.push(']');
        }
    }
}

/// `key = value` lines of a table.
pub(super) fn pairs(t: &Table, out: &mut String) {
    for (k, v) in t {
        out.push_str(&key(k));
        out.push_str(" = ");
        value(v, out);
        out.push('\n');
    }
}

/// `# ` before every line of `text`.
pub(super) fn comment(text: &str, out: &mut String) {
    for line in text.lines() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
}

/// One `[[header]]` table per entry.
pub(super) fn array_of_tables(header: &str, tables: &[Table], out: &mut String) {
    for t in tables {
        let _ = writeln!(out, "\n[[{header}]]");
        pairs(t, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_so_toml_reads_them_back() {
        let nasty = "a \"quoted\" \\ back\nslash\t\u{1}é";
        let t: Table = vec![
            ("s".into(), TVal::Str(nasty.into())),
            ("weird key".into(), TVal::Int(-3)),
            ("l".into(), TVal::List(vec![TVal::Bool(true), TVal::Int(2)])),
        ];
        let mut out = String::new();
        pairs(&t, &mut out);
        let doc = toml_edit::Document::parse(out.as_str()).unwrap();
        let t = doc.as_table();
        assert_eq!(t.get("s").and_then(|i| i.as_str()), Some(nasty));
        assert_eq!(t.get("weird key").and_then(|i| i.as_integer()), Some(-3));
        assert_eq!(
            t.get("l").and_then(|i| i.as_array()).map(|a| a.len()),
            Some(2)
        );
    }

    #[test]
    fn json_values_the_format_uses() {
        let v: Value = serde_json::json!(["a", 1, true]);
        assert_eq!(
            TVal::from_json(&v),
            Some(TVal::List(vec![
                TVal::Str("a".into()),
                TVal::Int(1),
                TVal::Bool(true)
            ]))
        );
        assert_eq!(TVal::from_json(&serde_json::json!({"a": 1})), None);
        assert_eq!(TVal::from_json(&serde_json::json!([[1]])), None);
        assert_eq!(TVal::from_json(&serde_json::json!(1.5)), None);
    }
}
