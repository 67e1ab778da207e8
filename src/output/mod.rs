//! Outputs: each renders the one [`Report`] (and its findings) to a writer.
//!
//! - `json`: the report object of CONTRACT.md, pretty-printed.
//! - `ndjson`: one event per line (`device`, `finding`), ending with the
//!   `report` event that holds the whole report.
//! - `text` and `markdown`: what a technician reads: a summary, the devices,
//!   then the findings with their fixes.

mod json;
mod markdown;
mod ndjson;
pub mod profiles;
mod text;

use crate::report::Report;
use std::io::{self, Write};

pub(crate) use crate::plain::{write_ip, write_u64};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Ndjson,
    Markdown,
}

/// Writes the report in `format`.
pub fn write(report: &Report, format: Format, w: &mut dyn Write) -> io::Result<()> {
    write_on(report, format, w, 1)
}

/// [`write`], the text and JSON rendered on up to `threads` threads (a run
/// with several analysis workers): the same bytes, whatever the threads.
pub fn write_on(
    report: &Report,
    format: Format,
    w: &mut dyn Write,
    threads: usize,
) -> io::Result<()> {
    match format {
        Format::Json => json::write(report, w, threads),
        Format::Ndjson => ndjson::write(report, w),
        Format::Text => text::write(report, w, threads),
        Format::Markdown => markdown::write(report, w),
    }
}

/// Writes the report to a file. A regular file (or a new one) is written
/// beside the target and renamed into place, so a failed run never leaves
/// half a report; anything else (`/dev/null`, `/dev/stdout`, a FIFO) is
/// written directly, as renaming over it would replace it.
pub fn write_file(report: &Report, format: Format, path: &std::path::Path) -> Result<(), String> {
    write_file_on(report, format, path, 1)
}

/// [`write_file`] with [`write_on`]'s threads.
pub fn write_file_on(
    report: &Report,
    format: Format,
    path: &std::path::Path,
    threads: usize,
) -> Result<(), String> {
    write_path(path, |w| write_on(report, format, w, threads))
}

/// Writes whatever `body` writes to `path`, whole: a regular file through a
/// temporary file beside it, renamed into place, so a failure never leaves
/// half a file; anything else (a device such as `/dev/null`, a pipe) is
/// written through, never replaced. Errors name the path.
pub fn write_path(
    path: &std::path::Path,
    body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), String> {
    let fail = |e: io::Error| format!("{}: cannot write: {e}", path.display());
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(fail)?;
        let mut w = io::BufWriter::new(f);
        return body(&mut w).and_then(|_| w.flush()).map_err(fail);
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".egresswatch-tmp-{}", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    let result = (|| {
        let mut w = io::BufWriter::new(std::fs::File::create(&tmp)?);
        body(&mut w)?;
        w.flush()?;
        drop(w);
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })
}

/// A short byte count: 1.2 MB, 340 kB, 12 B.
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i + 1 < UNITS.len() {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// Where a device sits on WiFi, in words: `on Office channel 6`,
/// `access point (hidden) channel ?`.
pub(crate) fn wifi_words(wifi: &crate::device::facts::WifiFacts) -> String {
    format!(
        "{} {} channel {}",
        if wifi.access_point {
            "access point"
        } else {
            "on"
        },
        wifi.ssid.as_deref().unwrap_or("(hidden)"),
        wifi.channel.map_or("?".into(), |c| c.to_string())
    )
}

/// How attempts to a destination went, in words.
pub(crate) fn outcome_words(o: &crate::device::Outcomes) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and only ASCII is written.
    let _ = write_outcomes(o, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// [`outcome_words`] written to `w`.
pub(crate) fn write_outcomes(o: &crate::device::Outcomes, w: &mut impl Write) -> io::Result<()> {
    let mut first = true;
    for (n, words) in [
        (o.ok, "ok"),
        (o.no_answer, "no answer"),
        (o.reset, "reset"),
        (o.icmp_unreachable, "ICMP unreachable"),
        (o.icmp_admin_prohibited, "ICMP prohibited"),
        (o.pending, "pending at capture end"),
        (o.unknown, "mid-stream"),
    ] {
        if n > 0 {
            if !first {
                w.write_all(b", ")?;
            }
            first = false;
            write_u64(w, u64::from(n))?;
            w.write_all(b" ")?;
            w.write_all(words.as_bytes())?;
        }
    }
    Ok(())
}

/// A device's names with where each came from: `api.example.net (dns+sni)`.
pub(crate) fn names_with_sources(d: &crate::report::DeviceReport) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and names are text.
    let _ = write_names_with_sources(d, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// [`names_with_sources`] written to `w`: a device on the site mix has
/// hundreds of names.
pub(crate) fn write_names_with_sources(
    d: &crate::report::DeviceReport,
    w: &mut impl Write,
) -> io::Result<()> {
    for (i, (n, sources)) in d.name_sources.iter().enumerate() {
        if i > 0 {
            w.write_all(b", ")?;
        }
        w.write_all(n.as_bytes())?;
        w.write_all(b" (")?;
        for (j, s) in sources.iter().enumerate() {
            if j > 0 {
                w.write_all(b"+")?;
            }
            w.write_all(s.as_bytes())?;
        }
        w.write_all(b")")?;
    }
    Ok(())
}

/// One way a device's DNS went around the site's resolver, in words.
pub(crate) fn bypass_words(b: &crate::device::bypass::DnsBypass) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and the words are text.
    let _ = write_bypass(b, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// [`bypass_words`] written to `w`.
pub(crate) fn write_bypass(
    b: &crate::device::bypass::DnsBypass,
    w: &mut impl Write,
) -> io::Result<()> {
    w.write_all(b"DNS bypasses the site resolver: ")?;
    w.write_all(b.how.as_bytes())?;
    w.write_all(b" to ")?;
    write_ip(w, &b.server)?;
    w.write_all(b":")?;
    write_u64(w, u64::from(b.port))?;
    if let Some(n) = &b.name {
        w.write_all(b" (")?;
        w.write_all(n.as_bytes())?;
        w.write_all(b")")?;
    }
    Ok(())
}
