//! `egresswatch profiles list|show`: the profiles in words, or as JSON.

use super::Format;
use crate::profile::{Check, NtpSource, Profile, ProfileSet, SignalKind, Target};
use std::io::{self, Write};

/// One line per profile.
pub fn list(set: &ProfileSet, format: Format, w: &mut dyn Write) -> io::Result<()> {
    if matches!(format, Format::Json | Format::Ndjson) {
        serde_json::to_writer_pretty(&mut *w, &set.profiles)?;
        return writeln!(w);
    }
    writeln!(
        w,
        "{:<14}  {:<24}  {:<18}  {:>4}  SOURCE",
        "ID", "NAME", "VENDOR", "REQS"
    )?;
    for p in &set.profiles {
        writeln!(
            w,
            "{:<14}  {:<24}  {:<18}  {:>4}  {}",
            p.id,
            p.name,
            p.vendor,
            p.requirements.len(),
            p.source
        )?;
    }
    Ok(())
}

/// What a check asks for, in words.
pub fn check_words(c: &Check) -> String {
    let ports = |p: &[u16]| {
        p.iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match c {
        Check::Egress {
            proto,
            ports: p,
            target,
        } => {
            let to = match target {
                Target::Names(n) => n
                    .iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                Target::Site(k) => format!("the site's {k}"),
            };
            format!(
                "outbound {} {} to {to}",
                proto.as_str().to_uppercase(),
                ports(p)
            )
        }
        Check::Dns => "DNS resolution works".into(),
        Check::Ntp { server } => match server {
            NtpSource::Any => "NTP from any server".into(),
            NtpSource::Dhcp => "NTP from the server DHCP offers (option 42)".into(),
            NtpSource::Name(n) => format!("NTP from {n}"),
        },
        Check::Dhcp => "address from DHCP (no static address)".into(),
        Check::Wifi { channels, bands } if channels.is_empty() => {
            let _ = bands;
            "no WiFi: Ethernet only".into()
        }
        Check::Wifi { channels, bands } => format!(
            "WiFi channels {}{}",
            ports(channels),
            if bands.is_empty() {
                String::new()
            } else {
                format!(" ({} GHz)", bands.join(", "))
            }
        ),
        Check::Subnet { forbidden } => format!(
            "LAN must not overlap {}",
            forbidden
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Check::LocalOnly { proto, ports: p } => format!(
            "{} {} reached from the LAN only, never from the internet",
            proto.as_str().to_uppercase(),
            ports(p)
        ),
        Check::NoInbound => "no inbound connection from the internet needed".into(),
        Check::NoInterception { names } if names.is_empty() => {
            "no TLS interception of the profile's names".into()
        }
        Check::NoInterception { names } => format!(
            "no TLS interception of {}",
            names
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn signal_words(s: &SignalKind) -> String {
    let list = |v: &[crate::profile::Pattern]| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(" or ")
    };
    match s {
        SignalKind::Oui(p) => format!(
            "MAC in {}",
            p.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        SignalKind::Vendor(p) => format!("OUI vendor {}", list(p)),
        SignalKind::DhcpHostname(p) => format!("DHCP hostname {}", list(p)),
        SignalKind::DhcpVendorClass(p) => format!("DHCP vendor class {}", list(p)),
        SignalKind::Name(p) => format!("uses the name {}", list(p)),
        SignalKind::Dns(p) => format!("asks DNS for {}", list(p)),
        SignalKind::Sni(p) => format!("TLS SNI {}", list(p)),
        SignalKind::MqttClientId(p) => format!("MQTT client id {}", list(p)),
        SignalKind::MudUrl(p) => format!("announces the MUD URL {}", list(p)),
        SignalKind::Port(p) => format!(
            "reaches {}",
            p.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        SignalKind::Speaks(x) => format!("speaks {x}"),
    }
}

/// One profile in full.
pub fn show(p: &Profile, format: Format, w: &mut dyn Write) -> io::Result<()> {
    if matches!(format, Format::Json | Format::Ndjson) {
        serde_json::to_writer_pretty(&mut *w, p)?;
        return writeln!(w);
    }
    writeln!(w, "{} ({}: {}, {})", p.id, p.vendor, p.name, p.device)?;
    writeln!(w, "source: {}", p.source)?;
    for d in &p.documents {
        writeln!(
            w,
            "document {}: {} [{}{}]",
            d.id,
            d.title,
            d.source,
            d.language
                .as_deref()
                .map(|l| format!(", {l}"))
                .unwrap_or_default()
        )?;
    }
    writeln!(w)?;
    writeln!(
        w,
        "Recognised at a score of {} or more{}:",
        p.identify.min_score,
        if p.identify.general_purpose {
            " (software on a general-purpose computer)"
        } else {
            ""
        }
    )?;
    for s in &p.identify.signals {
        writeln!(w, "  {:+}  {}", s.weight, signal_words(&s.what))?;
    }
    if !p.site.is_empty() {
        writeln!(w)?;
        writeln!(w, "Site values (--site, or learned):")?;
        for s in &p.site {
            writeln!(
                w,
                "  {}: {}{}",
                s.key,
                s.description,
                if s.learn.is_empty() {
                    String::new()
                } else {
                    format!(" (learned from {})", s.learn.join(", "))
                }
            )?;
        }
    }
    writeln!(w)?;
    writeln!(w, "Requirements:")?;
    for r in &p.requirements {
        let mut tags = Vec::new();
        if !r.required {
            tags.push("optional".to_string());
        }
        if let Some(g) = &r.group {
            tags.push(format!("alternatives: {g}"));
        }
        writeln!(
            w,
            "  {}{}: {}",
            r.id,
            if tags.is_empty() {
                String::new()
            } else {
                format!(" ({})", tags.join("; "))
            },
            r.description
        )?;
        writeln!(w, "      checks: {}", check_words(&r.check))?;
        match &r.quote {
            Some(q) => writeln!(w, "      cites {}: \"{q}\"", r.cite)?,
            None => writeln!(w, "      cites {}", r.cite)?,
        }
    }
    Ok(())
}
