//! What the screen lists, derived from the report: each device's verdict,
//! the devices and findings the filter lets through in the order shown, and
//! the mirror port's self-check. Pure functions of the state.

use super::app::State;
use crate::finding::{Finding, Severity};
use crate::report::{DeviceReport, Report};

/// How a device is doing, worst first (the list's order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// A required requirement fails, or an error finding.
    Fail,
    /// A warning: a requirement with a fallback, an optional one failing.
    Warn,
    /// Profiled, but nothing its requirements need has been seen yet.
    Unseen,
    /// Profiled, and nothing fails.
    Pass,
    /// No profile matched, and no problem was seen.
    NoProfile,
}

impl Verdict {
    /// The symbol that tells the verdict without colour.
    pub fn symbol(self) -> &'static str {
        match self {
            Verdict::Fail => "✗",
            Verdict::Warn => "!",
            Verdict::Unseen => "?",
            Verdict::Pass => "✓",
            Verdict::NoProfile => "·",
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Verdict::Fail => "FAIL",
            Verdict::Warn => "WARN",
            Verdict::Unseen => "WAIT",
            Verdict::Pass => "OK",
            Verdict::NoProfile => "-",
        }
    }

    /// Words a filter can find it by.
    fn terms(self) -> &'static str {
        match self {
            Verdict::Fail => "fail red error",
            Verdict::Warn => "warn amber warning",
            Verdict::Unseen => "wait unseen not_observed",
            Verdict::Pass => "ok pass green",
            Verdict::NoProfile => "none unprofiled",
        }
    }
}

/// The symbol of a requirement's status.
pub fn status_symbol(status: &str) -> &'static str {
    match status {
        "pass" => "✓",
        "fail" => "✗",
        "warn" => "!",
        _ => "?",
    }
}

pub fn severity_symbol(s: Severity) -> &'static str {
    match s {
        Severity::Error => "✗",
        Severity::Warning => "!",
        Severity::Info => "i",
    }
}

/// A device's verdict from its requirements and its findings.
pub fn verdict(d: &DeviceReport, findings: &[Finding]) -> Verdict {
    let id = d.id();
    let worst = findings
        .iter()
        .filter(|f| f.device == id)
        .map(|f| f.severity)
        .max();
    let failed_required = d
        .requirements
        .iter()
        .any(|r| r.status == "fail" && r.required);
    if failed_required || worst == Some(Severity::Error) {
        return Verdict::Fail;
    }
    let warned = d
        .requirements
        .iter()
        .any(|r| r.status == "warn" || r.status == "fail");
    if warned || worst == Some(Severity::Warning) {
        return Verdict::Warn;
    }
    match &d.profile {
        None => Verdict::NoProfile,
        Some(_) if d.requirements.iter().all(|r| r.status == "not_observed") => Verdict::Unseen,
        Some(_) => Verdict::Pass,
    }
}

/// A device as the list shows it.
#[derive(Debug, Clone, Copy)]
pub struct DeviceRow<'a> {
    pub device: &'a DeviceReport,
    pub verdict: Verdict,
    /// Findings about it, and how many of its requirements pass.
    pub findings: usize,
    pub passed: usize,
}

/// The devices the list shows: filtered, worst first, then by MAC.
pub fn device_rows(s: &State) -> Vec<DeviceRow<'_>> {
    let Some(r) = s.report() else {
        return Vec::new();
    };
    let words = filter_words(&s.filter);
    let mut rows: Vec<DeviceRow<'_>> = r
        .devices
        .iter()
        .map(|d| {
            let id = d.id();
            DeviceRow {
                device: d,
                verdict: verdict(d, &r.findings),
                findings: r.findings.iter().filter(|f| f.device == id).count(),
                passed: d.requirements.iter().filter(|q| q.status == "pass").count(),
            }
        })
        .filter(|row| !s.errors_only || row.verdict == Verdict::Fail)
        .filter(|row| words.is_empty() || matches_all(&device_text(row), &words))
        .collect();
    rows.sort_by(|a, b| {
        a.verdict
            .cmp(&b.verdict)
            .then_with(|| a.device.id().cmp(&b.device.id()))
    });
    rows
}

/// The findings the findings view shows: filtered, most severe first and
/// within a severity the newest first.
pub fn finding_rows(s: &State) -> Vec<&Finding> {
    let Some(r) = s.report() else {
        return Vec::new();
    };
    let words = filter_words(&s.filter);
    let mut rows: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| !s.errors_only || f.severity == Severity::Error)
        .filter(|f| words.is_empty() || matches_all(&finding_text(r, f), &words))
        .collect();
    rows.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| b.last_seen.cmp(&a.last_seen))
            .then_with(|| a.device.cmp(&b.device))
            .then_with(|| a.kind.cmp(&b.kind))
    });
    rows
}

/// What tells one finding from another across snapshots.
pub fn finding_key(f: &Finding) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}",
        f.kind.as_str(),
        f.device,
        f.requirement.as_deref().unwrap_or(""),
        f.proto.unwrap_or(""),
        f.port.map(|p| p.to_string()).unwrap_or_default(),
        f.remote_ip
            .map(|i| i.to_string())
            .or_else(|| f.name.clone())
            .unwrap_or_default()
    )
}

fn filter_words(filter: &str) -> Vec<String> {
    filter
        .split_whitespace()
        .map(|w| w.to_lowercase())
        .collect()
}

fn matches_all(text: &str, words: &[String]) -> bool {
    words.iter().all(|w| text.contains(w.as_str()))
}

/// Everything a device can be found by: name, MAC, addresses, vendor,
/// profile, the names it used, and its status.
fn device_text(row: &DeviceRow<'_>) -> String {
    let d = row.device;
    let mut t = vec![
        d.id(),
        d.hostname.clone().unwrap_or_default(),
        d.vendor.clone().unwrap_or_default(),
        d.profile.clone().unwrap_or_else(|| "no-profile".into()),
        row.verdict.terms().to_string(),
    ];
    t.extend(d.ips.iter().map(|i| i.to_string()));
    t.extend(d.names.iter().cloned());
    t.extend(
        d.requirements
            .iter()
            .filter(|r| r.status != "pass")
            .map(|r| format!("{} {}", r.id, r.status)),
    );
    t.join(" ").to_lowercase()
}

fn finding_text(r: &Report, f: &Finding) -> String {
    let host = r
        .devices
        .iter()
        .find(|d| d.id() == f.device)
        .and_then(|d| d.hostname.clone())
        .unwrap_or_default();
    [
        f.severity.as_str(),
        f.kind.as_str(),
        &f.device,
        &host,
        f.profile.as_deref().unwrap_or(""),
        f.requirement.as_deref().unwrap_or(""),
        f.name.as_deref().unwrap_or(""),
        &f.message,
    ]
    .join(" ")
    .to_lowercase()
}

/// The mirror port's self-check: does the capture hold both directions of
/// the devices' conversations? A one-way mirror hides every reply, so
/// nothing it shows can prove a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mirror {
    /// No device has reached anything yet.
    Waiting,
    Both,
    /// Every device that reached something shows only its own packets.
    OneWay,
    /// This many devices show only their own packets.
    Partly(usize),
}

pub fn mirror(r: &Report) -> Mirror {
    let talking: Vec<&DeviceReport> = r
        .devices
        .iter()
        .filter(|d| d.packets_sent > 0 && !d.destinations.is_empty())
        .collect();
    let one_way = talking
        .iter()
        .filter(|d| crate::check::rules::one_way(d))
        .count();
    match (talking.len(), one_way) {
        (0, _) => Mirror::Waiting,
        (_, 0) => Mirror::Both,
        (n, k) if n == k => Mirror::OneWay,
        (_, k) => Mirror::Partly(k),
    }
}
