//! The live sensor's events: one JSON object per line (CONTRACT.md,
//! "Events"), to standard output or appended to a file.
//!
//! Event types, each with `event_type` and `timestamp` (RFC 3339):
//!
//! - `device`: a device seen (`"status": "new"`) or matched to a profile
//!   later (`"identified"`); the device object of the report.
//! - `finding`: the finding object of the report, raised once
//!   (`"status": "new"`); when its count, severity or message changes it is
//!   sent again at the next stats interval (`"updated"`, at most one line
//!   per finding per interval, not one per packet); `"cleared"` when the
//!   final report no longer holds it (a device that got through after
//!   all). While the capture runs a finding is never withdrawn: a snapshot
//!   judges the newest attempts pending, so a failure that repeats would
//!   otherwise flap between raised and cleared.
//!   A finding is the same finding while its kind, device, requirement,
//!   remote address, port, cause (`how`) and name stay the same.
//! - `stats`: packets, bytes, libpcap's kernel and interface drops, flows,
//!   devices, per interface and in total (`timestamp` is the wall clock).
//! - `mirror`: the mirror self-check, once, after `--mirror-check` seconds
//!   of capture time (and in the report as `capture.mirror`).
//! - `interface`: an interface lost (`"state": "gone"`, with the problem)
//!   or back (`"up"`).
//! - `report`: the last line of a run with `--format ndjson`.
//!
//! The timestamps of `device`, `finding` and `mirror` events are capture
//! time: the end of the snapshot that raised them.

use crate::finding::Finding;
use crate::report::{format_time, Report};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::PathBuf;

/// Where events go: standard output, or a file opened for appending and
/// reopened on request (SIGHUP, after logrotate moved it).
pub struct Sink {
    path: Option<PathBuf>,
    w: BufWriter<Box<dyn Write + Send>>,
}

fn open_append(p: &std::path::Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
}

impl Sink {
    pub fn open(path: Option<PathBuf>) -> Result<Sink, String> {
        let w: Box<dyn Write + Send> = match &path {
            Some(p) => {
                Box::new(open_append(p).map_err(|e| format!("{}: cannot write: {e}", p.display()))?)
            }
            None => Box::new(io::stdout()),
        };
        Ok(Sink {
            path,
            w: BufWriter::new(w),
        })
    }

    /// Closes and reopens the file (a no-op on standard output).
    pub fn reopen(&mut self) -> io::Result<()> {
        self.w.flush()?;
        if let Some(p) = &self.path {
            let f: Box<dyn Write + Send> = Box::new(open_append(p)?);
            self.w = BufWriter::new(f);
        }
        Ok(())
    }

    pub fn line(&mut self, v: &Value) -> io::Result<()> {
        serde_json::to_writer(&mut self.w, v)?;
        self.w.write_all(b"\n")
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    pub fn writer(&mut self) -> &mut dyn Write {
        &mut self.w
    }

    pub fn name(&self) -> String {
        self.path
            .as_ref()
            .map_or("standard output".into(), |p| p.display().to_string())
    }
}

/// An event: `v` (an object) with its type and timestamp.
pub fn event(v: Value, event_type: &str, timestamp: Option<String>) -> Value {
    let mut m = match v {
        Value::Object(m) => m,
        other => {
            let mut m = Map::new();
            m.insert("value".into(), other);
            m
        }
    };
    m.insert("event_type".into(), Value::String(event_type.into()));
    m.insert(
        "timestamp".into(),
        timestamp.map_or(Value::Null, Value::String),
    );
    Value::Object(m)
}

/// What makes a finding the same finding over time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FindingId {
    kind: &'static str,
    device: String,
    requirement: Option<String>,
    remote_ip: Option<IpAddr>,
    port: Option<u16>,
    how: Option<&'static str>,
    name: Option<String>,
}

impl FindingId {
    pub fn of(f: &Finding) -> FindingId {
        FindingId {
            kind: f.kind.as_str(),
            device: f.device.clone(),
            requirement: f.requirement.clone(),
            remote_ip: f.remote_ip,
            port: f.port,
            how: f.how,
            name: f.name.clone(),
        }
    }
}

struct Known {
    /// As last sent.
    sent: Finding,
    /// As the latest snapshot has it, if it differs from `sent`.
    latest: Option<Finding>,
    present: bool,
}

/// Turns successive snapshots into events: what is new at once, what
/// changed at the next stats interval.
#[derive(Default)]
pub struct Tracker {
    findings: HashMap<FindingId, Known>,
    /// Device id → the profile it was last reported with.
    devices: HashMap<String, Option<String>>,
    mirror_sent: bool,
}

fn changed(a: &Finding, b: &Finding) -> bool {
    a.count != b.count || a.severity != b.severity || a.message != b.message
}

impl Tracker {
    /// Events for what a snapshot shows first: new devices, devices newly
    /// identified, new findings. Changes to known findings are kept for
    /// [`Tracker::updates`].
    pub fn snapshot(&mut self, r: &Report) -> Vec<Value> {
        let now = r.capture.end.map(format_time);
        let mut out = Vec::new();
        for d in &r.devices {
            let id = d.id();
            let status = match self.devices.get(&id) {
                None => "new",
                Some(p) if *p != d.profile && d.profile.is_some() => "identified",
                Some(_) => continue,
            };
            self.devices.insert(id, d.profile.clone());
            let mut v = serde_json::to_value(d).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut v {
                m.insert("status".into(), Value::String(status.into()));
            }
            out.push(event(v, "device", now.clone()));
        }
        for k in self.findings.values_mut() {
            k.present = false;
        }
        for f in &r.findings {
            let id = FindingId::of(f);
            match self.findings.get_mut(&id) {
                Some(k) => {
                    k.present = true;
                    k.latest = changed(&k.sent, f).then(|| f.clone());
                }
                None => {
                    out.push(finding_event(f, "new", now.clone()));
                    self.findings.insert(
                        id,
                        Known {
                            sent: f.clone(),
                            latest: None,
                            present: true,
                        },
                    );
                }
            }
        }
        out
    }

    /// Findings that changed since they were last sent, and, at the end of
    /// the run (`end`), those the final report no longer holds.
    pub fn updates(&mut self, r: &Report, end: bool) -> Vec<Value> {
        let now = r.capture.end.map(format_time);
        let mut out = Vec::new();
        let mut gone = Vec::new();
        let mut ids: Vec<&FindingId> = self.findings.keys().collect();
        ids.sort_by(|a, b| (&a.device, a.kind, a.port).cmp(&(&b.device, b.kind, b.port)));
        let ids: Vec<FindingId> = ids.into_iter().cloned().collect();
        for id in ids {
            let Some(k) = self.findings.get_mut(&id) else {
                continue;
            };
            if !k.present {
                if end {
                    out.push(finding_event(&k.sent, "cleared", now.clone()));
                    gone.push(id);
                }
            } else if let Some(f) = k.latest.take() {
                out.push(finding_event(&f, "updated", now.clone()));
                k.sent = f;
            }
        }
        for id in gone {
            self.findings.remove(&id);
        }
        out
    }

    /// The mirror self-check, once.
    pub fn mirror(&mut self, r: &Report) -> Option<Value> {
        if self.mirror_sent {
            return None;
        }
        self.mirror_sent = true;
        let v = serde_json::to_value(&r.capture.mirror).unwrap_or(Value::Null);
        Some(event(v, "mirror", r.capture.end.map(format_time)))
    }
}

fn finding_event(f: &Finding, status: &str, now: Option<String>) -> Value {
    let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("status".into(), Value::String(status.into()));
    }
    event(v, "finding", now)
}

/// An interface event.
pub fn interface(iface: &str, state: &str, problem: Option<&str>) -> Value {
    event(
        json!({"interface": iface, "state": state, "problem": problem}),
        "interface",
        Some(wall_time()),
    )
}

/// The wall clock, for events about the sensor itself.
pub fn wall_time() -> String {
    let ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    format_time(ns)
}
