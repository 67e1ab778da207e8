//! The markdown report: for a ticket or a wiki page.

use super::{bypass_words, human_bytes, names_with_sources, outcome_words};
use crate::report::{format_time, Report};
use std::io::{self, Write};

/// Escapes the characters that would break a table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn write(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let c = &r.capture;
    writeln!(w, "# egresswatch report")?;
    writeln!(w)?;
    writeln!(w, "| | |")?;
    writeln!(w, "|---|---|")?;
    writeln!(w, "| Files | {} |", cell(&c.files.join(", ")))?;
    if let (Some(s), Some(e)) = (c.start, c.end) {
        writeln!(w, "| Time | {} to {} |", format_time(s), format_time(e))?;
    }
    writeln!(
        w,
        "| Packets | {} ({}); {} undecodable, {} cut by snap length |",
        c.packets,
        human_bytes(c.bytes),
        c.undecodable,
        c.truncated
    )?;
    writeln!(
        w,
        "| Flows | {} ({} TCP, {} UDP) |",
        c.flows.created, c.flows.tcp, c.flows.udp
    )?;
    writeln!(w, "| Devices | {} |", r.devices.len())?;
    writeln!(w, "| Findings | {} |", r.findings.len())?;
    if let Some(live) = &c.live {
        writeln!(
            w,
            "| Capture | {} received by libpcap, {} dropped by the kernel, {} by the interface |",
            live.received, live.dropped, live.if_dropped
        )?;
        writeln!(w, "| Mirror | {} |", cell(&c.mirror.verdict))?;
    }
    for p in &c.problems {
        writeln!(w, "| Problem | {} |", cell(p))?;
    }
    writeln!(w)?;
    writeln!(w, "## Devices")?;
    writeln!(w)?;
    writeln!(
        w,
        "| MAC | IP | Hostname | Vendor | Profile | Sent | Received |"
    )?;
    writeln!(w, "|---|---|---|---|---|---:|---:|")?;
    for d in &r.devices {
        let ips: Vec<String> = d.ips.iter().map(|i| i.to_string()).collect();
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} |",
            d.mac.as_deref().unwrap_or("–"),
            cell(&ips.join(", ")),
            cell(d.hostname.as_deref().unwrap_or("–")),
            cell(d.vendor.as_deref().unwrap_or("–")),
            d.profile.as_deref().unwrap_or("–"),
            human_bytes(d.bytes_sent),
            human_bytes(d.bytes_received)
        )?;
    }
    for d in &r.devices {
        if d.destinations.is_empty()
            && d.requirements.is_empty()
            && d.names.is_empty()
            && d.wifi.is_none()
        {
            continue;
        }
        writeln!(w)?;
        writeln!(w, "### {}", d.id())?;
        if let Some(p) = &d.profile {
            writeln!(w)?;
            writeln!(
                w,
                "Profile **{p}**, identified by {}.",
                cell(&d.identified_by.join(", "))
            )?;
        }
        if let Some(s) = &d.summary {
            writeln!(w)?;
            writeln!(w, "**Summary:** {}", cell(s))?;
        }
        if let Some(diff) = &d.profile_diff {
            for (what, list) in [
                ("Seen, not in the profile", &diff.seen_not_documented),
                ("In the profile, never seen", &diff.documented_not_seen),
            ] {
                if !list.is_empty() {
                    writeln!(w)?;
                    writeln!(w, "{what}: {}", cell(&list.join("; ")))?;
                }
            }
        }
        if let Some(url) = d.dhcp.as_ref().and_then(|x| x.mud_url.as_deref()) {
            writeln!(w)?;
            writeln!(w, "MUD URL (DHCP option 161): {}", cell(url))?;
        }
        if let Some(wifi) = &d.wifi {
            writeln!(w)?;
            writeln!(
                w,
                "WiFi: {} {} (BSSID {}), channel {}{}",
                if wifi.access_point {
                    "access point of"
                } else {
                    "on"
                },
                cell(wifi.ssid.as_deref().unwrap_or("(hidden)")),
                wifi.bssid.as_deref().unwrap_or("?"),
                wifi.channel
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "?".into()),
                wifi.band.map(|b| format!(", {b}")).unwrap_or_default()
            )?;
        }
        if !d.names.is_empty() {
            writeln!(w)?;
            writeln!(w, "Names used: {}", cell(&names_with_sources(d)))?;
        }
        for b in &d.dns_bypass {
            writeln!(w)?;
            writeln!(w, "{}", cell(&bypass_words(b)))?;
        }
        if !d.requirements.is_empty() {
            writeln!(w)?;
            writeln!(w, "| Requirement | Status | Evidence |")?;
            writeln!(w, "|---|---|---|")?;
            for q in &d.requirements {
                let mark = match q.status {
                    "pass" => "✅ pass",
                    "fail" => "❌ fail",
                    "warn" => "⚠️ warn",
                    _ => "➖ not observed",
                };
                let optional = if q.required { "" } else { " (optional)" };
                writeln!(
                    w,
                    "| {}{optional} | {mark} | {} |",
                    cell(&q.description),
                    cell(&q.evidence)
                )?;
            }
        }
        if !d.destinations.is_empty() {
            writeln!(w)?;
            writeln!(w, "| Destination | Name | Flows | Outcome |")?;
            writeln!(w, "|---|---|---:|---|")?;
            for dest in &d.destinations {
                writeln!(
                    w,
                    "| {} {}:{} | {} | {} | {} |",
                    dest.proto,
                    dest.ip,
                    dest.port,
                    cell(dest.name.as_deref().unwrap_or("–")),
                    dest.flows,
                    outcome_words(&dest.outcomes)
                )?;
            }
        }
    }
    writeln!(w)?;
    writeln!(w, "## Findings")?;
    writeln!(w)?;
    if r.findings.is_empty() {
        writeln!(w, "None.")?;
        return Ok(());
    }
    writeln!(
        w,
        "| Severity | Kind | Device | What and the fix | Count | Frames |"
    )?;
    writeln!(w, "|---|---|---|---|---:|---|")?;
    for f in &r.findings {
        let frames: Vec<String> = f
            .evidence
            .iter()
            .map(|e| format!("{}#{}", e.file, e.frame))
            .collect();
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} |",
            f.severity.as_str(),
            f.kind.as_str(),
            f.device,
            cell(&f.message),
            f.count,
            frames.join(" ")
        )?;
    }
    Ok(())
}
