//! The plain-text report for a terminal.

use super::{
    human_bytes, write_bypass, write_ip, write_names_with_sources, write_outcomes, write_u64,
};
use crate::report::{format_time, push_time, Report};
use std::io::{self, Write};

/// Writes the report, each device's section and each finding rendered on
/// up to `threads` threads.
pub fn write(r: &Report, w: &mut dyn Write, threads: usize) -> io::Result<()> {
    let c = &r.capture;
    writeln!(w, "egresswatch {} report", r.version)?;
    writeln!(w, "Files:     {}", c.files.join(", "))?;
    if let (Some(s), Some(e)) = (c.start, c.end) {
        writeln!(w, "Time:      {} to {}", format_time(s), format_time(e))?;
    }
    writeln!(
        w,
        "Packets:   {} ({}); {} undecodable, {} cut by snap length",
        c.packets,
        human_bytes(c.bytes),
        c.undecodable,
        c.truncated
    )?;
    writeln!(
        w,
        "Flows:     {} ({} TCP, {} UDP); {} evicted",
        c.flows.created, c.flows.tcp, c.flows.udp, c.flows.evicted
    )?;
    if let Some(live) = &c.live {
        writeln!(
            w,
            "Capture:   {} received by libpcap, {} dropped by the kernel, {} by the interface",
            live.received, live.dropped, live.if_dropped
        )?;
        writeln!(w, "Mirror:    {}", c.mirror.verdict)?;
    }
    for p in &c.problems {
        writeln!(w, "Problem:   {p}")?;
    }
    let errors = r
        .findings
        .iter()
        .filter(|f| f.severity.as_str() == "error")
        .count();
    let warnings = r
        .findings
        .iter()
        .filter(|f| f.severity.as_str() == "warning")
        .count();
    writeln!(
        w,
        "Result:    {} devices, {} findings ({errors} errors, {warnings} warnings)",
        r.devices.len(),
        r.findings.len()
    )?;
    writeln!(w)?;
    writeln!(w, "DEVICES")?;
    writeln!(
        w,
        "{:<17}  {:<15}  {:<20}  {:<12}  {:>8}  {:>8}",
        "MAC", "IP", "HOSTNAME / VENDOR", "PROFILE", "SENT", "RECV"
    )?;
    for d in &r.devices {
        let who = d.hostname.as_deref().or(d.vendor.as_deref()).unwrap_or("-");
        writeln!(
            w,
            "{:<17}  {:<15}  {:<20}  {:<12}  {:>8}  {:>8}",
            d.mac.as_deref().unwrap_or("-"),
            d.ips
                .first()
                .map(|i| i.to_string())
                .unwrap_or_else(|| "-".into()),
            truncate(who, 20),
            d.profile.as_deref().unwrap_or("-"),
            human_bytes(d.bytes_sent),
            human_bytes(d.bytes_received)
        )?;
        for ip in d.ips.iter().skip(1) {
            writeln!(w, "{:<17}  {ip}", "")?;
        }
    }
    crate::par::write_each(&r.devices, threads, w, |_, d, b| device(d, b))?;
    writeln!(w)?;
    writeln!(w, "FINDINGS")?;
    if r.findings.is_empty() {
        writeln!(w, "  none")?;
    }
    crate::par::write_each(&r.findings, threads, w, |_, f, b| finding(f, b))
}

/// A device's section: who it is, its profile's verdicts, its names and
/// destinations (nothing for a device with none of these).
fn device(d: &crate::report::DeviceReport, w: &mut Vec<u8>) -> io::Result<()> {
    if d.destinations.is_empty()
        && d.names.is_empty()
        && d.requirements.is_empty()
        && d.wifi.is_none()
    {
        return Ok(());
    }
    writeln!(w)?;
    writeln!(w, "DEVICE {}", d.id())?;
    let who: Vec<&str> = [d.hostname.as_deref(), d.vendor.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !who.is_empty() {
        writeln!(w, "  {}", who.join(", "))?;
    }
    if let Some(p) = &d.profile {
        writeln!(
            w,
            "  profile: {p} (identified by {})",
            d.identified_by.join(", ")
        )?;
    }
    if let Some(s) = &d.summary {
        writeln!(w, "  summary: {s}")?;
    }
    if let Some(diff) = &d.profile_diff {
        if !diff.seen_not_documented.is_empty() {
            writeln!(
                w,
                "  seen, not in the profile: {}",
                diff.seen_not_documented.join("; ")
            )?;
        }
        if !diff.documented_not_seen.is_empty() {
            writeln!(
                w,
                "  in the profile, never seen: {}",
                diff.documented_not_seen.join("; ")
            )?;
        }
    }
    if let Some(url) = d.dhcp.as_ref().and_then(|x| x.mud_url.as_deref()) {
        writeln!(w, "  MUD URL (DHCP option 161): {url}")?;
    }
    if let Some(wifi) = &d.wifi {
        writeln!(w, "  wifi: {}", super::wifi_words(wifi))?;
    }
    if !d.names.is_empty() {
        w.extend_from_slice(b"  names: ");
        write_names_with_sources(d, w)?;
        w.push(b'\n');
    }
    for b in &d.dns_bypass {
        w.extend_from_slice(b"  ");
        write_bypass(b, w)?;
        w.push(b'\n');
    }
    for q in &d.requirements {
        writeln!(
            w,
            "  [{:<12}] {}: {}: {}",
            q.status, q.id, q.description, q.evidence
        )?;
    }
    // A line per destination, thousands on a busy site: written in
    // pieces, without a String per name and outcome.
    for dest in &d.destinations {
        w.extend_from_slice(b"  ");
        w.extend_from_slice(dest.proto.as_bytes());
        w.push(b' ');
        write_ip(w, &dest.ip)?;
        w.push(b':');
        write_u64(w, u64::from(dest.port))?;
        if let Some(n) = dest.name.as_deref() {
            w.push(b' ');
            w.extend_from_slice(n.as_bytes());
        }
        w.extend_from_slice(b"  ");
        write_u64(w, u64::from(dest.flows))?;
        w.extend_from_slice(b" flows: ");
        write_outcomes(&dest.outcomes, w)?;
        w.push(b'\n');
    }
    Ok(())
}

/// A finding in two lines: what and where, then when and which frames.
/// Written in pieces: the site mix has thousands.
fn finding(f: &crate::finding::Finding, w: &mut Vec<u8>) -> io::Result<()> {
    use crate::finding::Severity;
    w.extend_from_slice(b"  ");
    let severity = match f.severity {
        Severity::Info => "INFO",
        Severity::Warning => "WARNING",
        Severity::Error => "ERROR",
    };
    padded(w, severity, 7);
    w.push(b' ');
    padded(w, f.kind.as_str(), 16);
    w.push(b' ');
    w.extend_from_slice(f.device.as_bytes());
    w.extend_from_slice(b"  ");
    w.extend_from_slice(f.message.as_bytes());
    w.extend_from_slice(b"\n          ");
    write_u64(w, f.count)?;
    w.extend_from_slice(b" time(s), ");
    push_time(w, f.first_seen);
    w.extend_from_slice(b" to ");
    push_time(w, f.last_seen);
    w.extend_from_slice(b"; frames ");
    for (i, e) in f.evidence.iter().enumerate() {
        if i > 0 {
            w.push(b' ');
        }
        write_u64(w, u64::from(e.file))?;
        w.push(b'#');
        write_u64(w, e.frame)?;
    }
    w.push(b'\n');
    Ok(())
}

/// `s` left-aligned in `width` characters, as `{:<width}` writes it.
fn padded(w: &mut Vec<u8>, s: &str, width: usize) {
    w.extend_from_slice(s.as_bytes());
    let n = s.chars().count();
    w.resize(w.len() + width.saturating_sub(n), b' ');
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_is_what_format_gives() {
        for (s, width) in [
            ("INFO", 7),
            ("WARNING", 7),
            ("dns_failure", 16),
            ("unexpected_egress", 16),
            ("é", 3),
            ("", 2),
        ] {
            let mut out = Vec::new();
            padded(&mut out, s, width);
            assert_eq!(String::from_utf8(out).unwrap(), format!("{s:<width$}"));
        }
    }
}
