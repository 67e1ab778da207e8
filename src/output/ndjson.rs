//! NDJSON events: one JSON object per line, each with `timestamp` and
//! `event_type`; the last line is the `report` event.

use crate::report::{format_time, Report};
use serde_json::Value;
use std::io::{self, Write};

fn line(w: &mut dyn Write, v: &Value) -> io::Result<()> {
    serde_json::to_writer(&mut *w, v)?;
    w.write_all(b"\n")
}

/// Adds `event_type` and `timestamp` (null when the capture held no frame).
fn with_event(mut v: Value, event_type: &str, timestamp: Option<String>) -> Value {
    if let Value::Object(m) = &mut v {
        m.insert("event_type".into(), Value::String(event_type.into()));
        m.insert(
            "timestamp".into(),
            timestamp.map_or(Value::Null, Value::String),
        );
    }
    v
}

pub fn write(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    for d in &report.devices {
        let v = serde_json::to_value(d)?;
        line(w, &with_event(v, "device", Some(format_time(d.first_seen))))?;
    }
    for f in &report.findings {
        let v = serde_json::to_value(f)?;
        line(
            w,
            &with_event(v, "finding", Some(format_time(f.first_seen))),
        )?;
    }
    let end = report.capture.end.map(format_time);
    let v = serde_json::to_value(report)?;
    line(w, &with_event(v, "report", end))?;
    Ok(())
}
