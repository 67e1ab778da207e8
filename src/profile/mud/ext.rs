//! Reading the `egresswatch` extension of a MUD file that
//! [`super::export`] wrote: the profile in its own format's keys (TOML
//! tables as JSON objects), each requirement with the ACE names it became.
//!
//! The extension is read only when `extensions` declares it (RFC 8520
//! §3.7). Values the profile format cannot hold are dropped with a note;
//! whether the rest makes a valid profile is for `parse_profile` to say.

use super::read::{get, Log};
use super::toml::{TVal, Table};
use super::{EXTENSION, EXTENSION_NODE, MAX_ACES};
use serde_json::{Map, Value};

/// The `egresswatch` extension, in the profile format's keys.
pub(super) struct Ext {
    pub profile: Table,
    pub documents: Vec<Table>,
    pub min_score: Option<i64>,
    pub general_purpose: Option<bool>,
    pub signals: Vec<Table>,
    /// Site keys, and the controller (`my-controller` or a URI) each is.
    pub site: Vec<(Table, Option<String>)>,
    pub requirements: Vec<ExtReq>,
}

pub(super) struct ExtReq {
    pub table: Table,
    /// The ACEs the requirement became; empty when MUD has no form for it.
    pub aces: Vec<String>,
}

impl ExtReq {
    pub fn str(&self, k: &str) -> Option<&str> {
        self.table.iter().find_map(|(key, v)| match v {
            TVal::Str(s) if key == k => Some(s.as_str()),
            _ => None,
        })
    }
}

impl Ext {
    pub fn read(mud: &Map<String, Value>, log: &mut Log) -> Option<Ext> {
        let node = mud.get(EXTENSION_NODE)?;
        let declared = get(mud, &["extensions"])
            .and_then(|v| v.as_array())
            .is_some_and(|l| l.iter().any(|x| x.as_str() == Some(EXTENSION)));
        if !declared {
            log.note(format!(
                "`{EXTENSION_NODE}` is there but `extensions` does not declare `{EXTENSION}`: it is ignored (RFC 8520 §3.7)"
            ));
            return None;
        }
        let Some(o) = node.as_object() else {
            log.note(format!(
                "`{EXTENSION_NODE}` is not an object: it is ignored"
            ));
            return None;
        };
        let tables = |key: &str, log: &mut Log| -> Vec<&Map<String, Value>> {
            match o.get(key) {
                None => Vec::new(),
                Some(Value::Array(l)) => {
                    if l.len() > MAX_ACES {
                        log.note(format!(
                            "the {EXTENSION} extension: more than {MAX_ACES} entries in `{key}`: the rest are not read"
                        ));
                    }
                    l.iter()
                    .take(MAX_ACES)
                    .filter_map(|x| {
                        let t = x.as_object();
                        if t.is_none() {
                            log.note(format!(
                                "the {EXTENSION} extension: an entry of `{key}` is not an object: dropped"
                            ));
                        }
                        t
                    })
                    .collect()
                }
                Some(_) => {
                    log.note(format!(
                        "the {EXTENSION} extension: `{key}` is not a list: dropped"
                    ));
                    Vec::new()
                }
            }
        };
        let identify = o.get("identify").and_then(|v| v.as_object());
        let mut signals = Vec::new();
        if let Some(Value::Array(l)) = identify.and_then(|i| i.get("signal")) {
            for s in l.iter().take(MAX_ACES).filter_map(|s| s.as_object()) {
                signals.push(table(s, &[], "a signal", log));
            }
        }
        let site = tables("site", log)
            .into_iter()
            .map(|s| {
                let mud = s.get("mud").and_then(|v| v.as_str()).map(String::from);
                (table(s, &["mud"], "a site value", log), mud)
            })
            .collect();
        let requirements = tables("requirement", log)
            .into_iter()
            .map(|r| {
                let aces = r
                    .get("aces")
                    .and_then(|v| v.as_array())
                    .map(|l| {
                        l.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                ExtReq {
                    table: table(r, &["aces"], "a requirement", log),
                    aces,
                }
            })
            .collect();
        Some(Ext {
            profile: o
                .get("profile")
                .and_then(|p| p.as_object())
                .map(|p| table(p, &[], "the profile", log))
                .unwrap_or_default(),
            documents: tables("document", log)
                .into_iter()
                .map(|d| table(d, &[], "a document", log))
                .collect(),
            min_score: identify
                .and_then(|i| i.get("min_score"))
                .and_then(|v| v.as_i64()),
            general_purpose: identify
                .and_then(|i| i.get("general_purpose"))
                .and_then(|v| v.as_bool()),
            signals,
            site,
            requirements,
        })
    }
}

/// A JSON object of the extension as a TOML table, in the order the
/// profile format writes its keys; `skip` are keys of the extension only.
fn table(o: &Map<String, Value>, skip: &[&str], what: &str, log: &mut Log) -> Table {
    const ORDER: &[&str] = &[
        "id",
        "key",
        "kind",
        "description",
        "title",
        "source",
        "cite",
        "quote",
        "required",
        "group",
        "impact",
    ];
    let mut t: Table = Vec::new();
    for (k, v) in o {
        if skip.contains(&k.as_str()) {
            continue;
        }
        match TVal::from_json(v) {
            Some(x) => t.push((k.clone(), x)),
            None => log.note(format!(
                "the {EXTENSION} extension: `{k}` of {what} is not a value a profile holds: dropped"
            )),
        }
    }
    let rank = |k: &str| ORDER.iter().position(|o| *o == k).unwrap_or(ORDER.len());
    t.sort_by_key(|(k, _)| rank(k));
    t
}

/// Sets `k` in `t`, in its place when it is there.
pub(super) fn set(t: &mut Table, k: &str, v: TVal) {
    match t.iter_mut().find(|(key, _)| key == k) {
        Some(slot) => slot.1 = v,
        None => t.push((k.to_string(), v)),
    }
}

/// The string under `k` in `t`.
pub(super) fn tstr(t: &Table, k: &str) -> Option<String> {
    t.iter().find_map(|(key, v)| match v {
        TVal::Str(s) if key == k => Some(s.clone()),
        _ => None,
    })
}
