//! A MUD file as the TOML text of a profile.
//!
//! The stages: [`read`](super::read) turns the access lists into grants,
//! [`ext`](super::ext) reads the `egresswatch` extension when the file
//! declares it, [`assemble`](super::assemble) makes requirements and site
//! values of them; this module adds the profile's identity (from the
//! extension, else `mud-url`, `systeminfo`, `model-name`, `mfg-name`), the
//! MUD file as its first `[[document]]`, and identification: the MUD URL as
//! the decisive `mud_url` signal, and without the extension the names the
//! device reaches as weak ones.
//!
//! The text is checked with [`parse_profile`] before it is returned; an
//! extension that does not make a valid profile is dropped with a note and
//! the file read again without it.

use super::assemble::assemble;
use super::ext::{tstr, Ext};
use super::read::{self, get, get_str, Grant, Log};
use super::toml::{array_of_tables, comment, pairs, TVal, Table};
use super::{slug, url_host, url_stem, EXTENSION};
use crate::profile::{parse_profile, Pattern, ProfileError, ProfileErrors};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// A profile read from a MUD file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The profile, as TOML a person can edit; it passes `parse_profile`.
    pub toml: String,
    /// What the file says that the profile cannot hold, one sentence each.
    pub notes: Vec<String>,
}

/// The weight of the MUD URL signal, and `min_score`, without the extension.
const URL_WEIGHT: i64 = 3;
/// Names used as weak identification signals, at most.
const NAME_SIGNALS: usize = 8;

/// Reads the MUD file `text`; `file` names it in errors and the profile.
pub fn import(file: &str, text: &str) -> Result<Imported, ProfileErrors> {
    let error = |line: usize, message: String| {
        ProfileErrors(vec![ProfileError {
            file: file.to_string(),
            line,
            message,
        }])
    };
    let root: Value = serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        // serde_json ends its message with " at line L column C".
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        error(e.line(), format!("not JSON: {msg}"))
    })?;
    let root = root
        .as_object()
        .ok_or_else(|| error(0, "not a MUD file: the JSON is not an object".into()))?;
    let mud = root
        .get("ietf-mud:mud")
        .ok_or_else(|| error(0, "not a MUD file: no `ietf-mud:mud` object".into()))?
        .as_object()
        .ok_or_else(|| error(0, "not a MUD file: `ietf-mud:mud` is not an object".into()))?;

    let mut log = Log::default();
    let grants = read::grants(root, mud, &mut log);
    if !log.errors.is_empty() {
        return Err(ProfileErrors(
            log.errors
                .into_iter()
                .map(|message| ProfileError {
                    file: file.to_string(),
                    line: 0,
                    message,
                })
                .collect(),
        ));
    }
    let info = Info::read(mud, &mut log);
    let ext = Ext::read(mud, &mut log);
    let with_ext = match &ext {
        Some(ext) => {
            let mut trial = Log {
                errors: Vec::new(),
                notes: log.notes.clone(),
            };
            let draft = build(file, &info, &grants, Some(ext), &mut trial);
            match draft.and_then(|d| check(file, d, &trial.notes)) {
                Ok(done) => Some(done),
                Err(e) => {
                    let first = e.0.first().map(|e| e.message.clone()).unwrap_or_default();
                    log.note(format!(
                        "the {EXTENSION} extension does not make a valid profile ({first}): it is ignored"
                    ));
                    None
                }
            }
        }
        None => None,
    };
    if let Some(done) = with_ext {
        return Ok(done);
    }
    let draft = build(file, &info, &grants, None, &mut log)?;
    check(file, draft, &log.notes)
}

/// Renders and checks a draft.
fn check(file: &str, d: Draft, notes: &[String]) -> Result<Imported, ProfileErrors> {
    let toml = d.render(file, notes);
    parse_profile(file, &toml)?;
    Ok(Imported {
        toml,
        notes: notes.to_vec(),
    })
}

/// What the `ietf-mud:mud` container says about the device.
struct Info {
    url: Option<String>,
    systeminfo: Option<String>,
    mfg: Option<String>,
    model: Option<String>,
}

impl Info {
    fn read(mud: &Map<String, Value>, log: &mut Log) -> Info {
        let text = |k: &str| {
            get_str(mud, &[k])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        match get(mud, &["mud-version"]).and_then(|v| v.as_u64()) {
            Some(1) | None => {}
            Some(v) => log.note(format!("mud-version {v} is read as version 1")),
        }
        let url = text("mud-url");
        if url.is_none() {
            log.note("the file has no mud-url: the profile cannot recognise the device by the URL it announces".into());
        }
        Info {
            url,
            systeminfo: text("systeminfo"),
            mfg: text("mfg-name"),
            model: text("model-name"),
        }
    }
}

/// The profile before it is written.
struct Draft {
    id: String,
    name: String,
    vendor: String,
    device: String,
    documents: Vec<Table>,
    min_score: i64,
    general_purpose: bool,
    signals: Vec<Table>,
    site: Vec<Table>,
    requirements: Vec<Table>,
}

impl Draft {
    fn render(&self, file: &str, notes: &[String]) -> String {
        let mut out = String::new();
        comment(
            &format!(
                "Imported from the MUD file {file} (RFC 8520) by `egresswatch profiles import-mud`."
            ),
            &mut out,
        );
        if notes.is_empty() {
            comment("Everything the file says is carried over.", &mut out);
        } else {
            comment("Not carried over, or carried with a change:", &mut out);
            for n in notes {
                comment(&format!("  - {n}"), &mut out);
            }
        }
        let head: Table = [
            ("id", &self.id),
            ("name", &self.name),
            ("vendor", &self.vendor),
            ("device", &self.device),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), TVal::Str(v.clone())))
        .collect();
        pairs(&head, &mut out);
        array_of_tables("document", &self.documents, &mut out);
        out.push_str("\n[identify]\n");
        let mut idt: Table = vec![("min_score".into(), TVal::Int(self.min_score))];
        if self.general_purpose {
            idt.push(("general_purpose".into(), TVal::Bool(true)));
        }
        pairs(&idt, &mut out);
        array_of_tables("identify.signal", &self.signals, &mut out);
        array_of_tables("site", &self.site, &mut out);
        array_of_tables("requirement", &self.requirements, &mut out);
        out
    }
}

fn build(
    file: &str,
    info: &Info,
    grants: &[Grant],
    ext: Option<&Ext>,
    log: &mut Log,
) -> Result<Draft, ProfileErrors> {
    let fail = |message: String| {
        ProfileErrors(vec![ProfileError {
            file: file.to_string(),
            line: 0,
            message,
        }])
    };
    let (id, name, vendor, device) = identity(info, ext);
    let (documents, mud_doc) = documents(file, info, ext);
    let doc_ids: BTreeSet<String> = documents.iter().filter_map(|d| tstr(d, "id")).collect();
    let made = assemble(grants, ext, &mud_doc, &doc_ids, log);
    if made.requirements.is_empty() {
        return Err(fail(format!(
            "nothing in the MUD file could be carried into a profile{}",
            if log.notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", log.notes.join("; "))
            }
        )));
    }
    let (min_score, general_purpose, signals) =
        identify(info, ext, &made.names, log).ok_or_else(|| {
            fail(
                "the MUD file gives neither a mud-url nor a DNS name to recognise the device by"
                    .into(),
            )
        })?;
    Ok(Draft {
        id,
        name,
        vendor,
        device,
        documents,
        min_score,
        general_purpose,
        signals,
        site: made.site,
        requirements: made.requirements,
    })
}

/// Id, name, vendor and device: the extension's, else what the MUD file
/// says (the id from the URL's last segment, `systeminfo` or `model-name`).
fn identity(info: &Info, ext: Option<&Ext>) -> (String, String, String, String) {
    let from_ext = |k: &str| {
        ext.and_then(|e| tstr(&e.profile, k))
            .filter(|s| !s.is_empty())
    };
    let stem = |s: &str| Some(slug(s, 64)).filter(|s| !s.is_empty());
    let id = from_ext("id")
        .or_else(|| info.url.as_deref().and_then(|u| stem(url_stem(u))))
        .or_else(|| info.systeminfo.as_deref().and_then(stem))
        .or_else(|| info.model.as_deref().and_then(stem))
        .unwrap_or_else(|| "mud-device".into());
    let name = from_ext("name")
        .or_else(|| info.model.clone())
        .or_else(|| info.systeminfo.clone())
        .unwrap_or_else(|| id.clone());
    let vendor = from_ext("vendor")
        .or_else(|| info.mfg.clone())
        .or_else(|| info.url.as_deref().map(url_host).map(String::from))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    let device = from_ext("device")
        .or_else(|| info.systeminfo.clone().filter(|s| *s != name))
        .unwrap_or_default();
    (id, name, vendor, device)
}

/// The MUD file as the first `[[document]]`, then the extension's; and the
/// MUD file's document id (`mud-file` unless the extension took it).
fn documents(file: &str, info: &Info, ext: Option<&Ext>) -> (Vec<Table>, String) {
    let mut documents = ext.map(|e| e.documents.clone()).unwrap_or_default();
    let taken: BTreeSet<String> = documents.iter().filter_map(|d| tstr(d, "id")).collect();
    let mut id = "mud-file".to_string();
    let mut n = 2;
    while taken.contains(&id) {
        id = format!("mud-file-{n}");
        n += 1;
    }
    let title = info
        .systeminfo
        .as_ref()
        .map_or_else(|| "MUD file".into(), |s| format!("MUD file: {s}"));
    let source = info.url.clone().unwrap_or_else(|| file.to_string());
    documents.insert(
        0,
        vec![
            ("id".into(), TVal::Str(id.clone())),
            ("title".into(), TVal::Str(title)),
            ("source".into(), TVal::Str(source)),
        ],
    );
    (documents, id)
}

/// `min_score`, `general_purpose` and the signals: the MUD URL the device
/// announces decides; without the extension the names count a little
/// each. `None` when nothing could recognise the device.
fn identify(
    info: &Info,
    ext: Option<&Ext>,
    names: &[String],
    log: &mut Log,
) -> Option<(i64, bool, Vec<Table>)> {
    let url = info
        .url
        .as_deref()
        .and_then(Pattern::new)
        .map(|p| p.as_str().to_string());
    if info.url.is_some() && url.is_none() {
        log.note(
            "the mud-url is too long to be a signal: the profile cannot recognise the device by it"
                .into(),
        );
    }
    let url_signal = |weight: i64| {
        url.as_ref().map(|u| {
            vec![
                ("mud_url".into(), TVal::Str(u.clone())),
                ("weight".into(), TVal::Int(weight)),
            ]
        })
    };
    if let Some(e) = ext.filter(|e| !e.signals.is_empty()) {
        let min = e.min_score.unwrap_or(URL_WEIGHT);
        let mut signals: Vec<Table> = url_signal(min).into_iter().collect();
        signals.extend(e.signals.iter().cloned());
        return Some((min, e.general_purpose.unwrap_or(false), signals));
    }
    let mut signals: Vec<Table> = url_signal(URL_WEIGHT).into_iter().collect();
    for n in names.iter().take(NAME_SIGNALS) {
        signals.push(vec![
            ("name".into(), TVal::Str(n.clone())),
            ("weight".into(), TVal::Int(1)),
        ]);
    }
    let reachable =
        names.len().min(NAME_SIGNALS) as i64 + if url.is_some() { URL_WEIGHT } else { 0 };
    (reachable > 0).then(|| (URL_WEIGHT.min(reachable), false, signals))
}
