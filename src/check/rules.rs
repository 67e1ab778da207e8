//! The checks themselves, one function per requirement kind, and the rules
//! that turn first-pass results into verdicts and severities.

use super::{Checked, Context};
use crate::device::facts::{DnsQuestion, NtpServer, TlsSession};
use crate::device::is_local_scope;
use crate::finding::{Evidence, Finding, Kind, Severity};
use crate::profile::site::SiteValue;
use crate::profile::{Check, NtpSource, Pattern, Profile, Proto, Target};
use crate::report::{DestinationReport, DeviceReport, InboundReport, RequirementReport};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// A requirement's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    Warn,
    NotObserved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::NotObserved => "not_observed",
        }
    }
}

/// Most findings of one kind kept per device (the rest are counted in the
/// last one's message).
const MAX_PER_KIND: usize = 32;
/// NTP and UDP requests younger than this at the capture's end may still be
/// answered.
const UDP_WINDOW: i64 = crate::device::UDP_ANSWER_WINDOW;

/// A finding whose severity follows its requirement's verdict, or is fixed.
struct Pending {
    finding: Finding,
    fixed: Option<Severity>,
}

/// A requirement's first-pass result.
struct Eval {
    /// Some(true): seen working; Some(false): seen broken; None: not seen.
    works: Option<bool>,
    evidence: String,
    findings: Vec<Pending>,
    /// How it broke, for the summary ("TCP 8883 to X silently dropped").
    broke: Option<String>,
    /// A verdict that the rules do not derive (a static address: warn).
    status: Option<Status>,
}

impl Eval {
    fn unseen(evidence: impl Into<String>) -> Eval {
        Eval {
            works: None,
            evidence: evidence.into(),
            findings: Vec::new(),
            broke: None,
            status: None,
        }
    }

    fn seen(works: bool, evidence: impl Into<String>) -> Eval {
        Eval {
            works: Some(works),
            ..Eval::unseen(evidence)
        }
    }
}

/// True when the capture holds only what the device sent: no frame to it
/// and no reply in any of its conversations (a one-way mirror).
pub fn one_way(dev: &DeviceReport) -> bool {
    dev.packets_sent > 0
        && dev.packets_received == 0
        && dev.destinations.iter().all(|d| d.packets_back == 0)
        && dev.dns.values().all(|q| q.rcodes.is_empty())
}

fn evidence_of(frames: &[crate::flow::FrameRef]) -> Vec<Evidence> {
    frames.iter().map(|f| Evidence::from(*f)).collect()
}

fn new_finding(kind: Kind, dev: &DeviceReport, message: String) -> Finding {
    Finding::new(kind, Severity::Info, dev.id(), message)
}

fn target_text(name: Option<&str>, ip: IpAddr) -> String {
    match name {
        Some(n) => format!("{n} ({ip})"),
        None => ip.to_string(),
    }
}

/// The worst failure among a destination's outcomes, and how many.
fn failure(d: &DestinationReport) -> Option<(&'static str, u32)> {
    let o = &d.outcomes;
    [
        ("icmp_admin_prohibited", o.icmp_admin_prohibited),
        ("icmp_unreachable", o.icmp_unreachable),
        ("reset", o.reset),
        ("no_answer", o.no_answer),
    ]
    .into_iter()
    .find(|(_, n)| *n > 0)
}

fn how_phrase(proto: &str, how: &str) -> &'static str {
    match (proto, how) {
        (_, "icmp_admin_prohibited") => {
            "is rejected by a filter (ICMP administratively prohibited)"
        }
        (_, "icmp_unreachable") => "is answered by ICMP destination unreachable",
        (_, "reset") => "is refused with a TCP reset",
        ("tcp", _) => "gets no answer (SYNs silently dropped)",
        _ => "never gets a reply",
    }
}

fn short_how(proto: &str, how: &str) -> &'static str {
    match (proto, how) {
        (_, "icmp_admin_prohibited") => "rejected by a filter",
        (_, "icmp_unreachable") => "unreachable",
        (_, "reset") => "refused (reset)",
        ("tcp", _) => "silently dropped",
        _ => "never answered",
    }
}

/// A blocked_port finding for one destination's failed attempts.
fn blocked(dev: &DeviceReport, d: &DestinationReport, how: &'static str, count: u32) -> Finding {
    blocked_advising(dev, d, how, count, ": allow outbound")
}

/// [`blocked`] for a destination no requirement names: the fix is
/// conditional ("if the device needs it, allow outbound ...").
fn blocked_unrequired(
    dev: &DeviceReport,
    d: &DestinationReport,
    how: &'static str,
    count: u32,
) -> Finding {
    blocked_advising(
        dev,
        d,
        how,
        count,
        "; if the device needs it, allow outbound",
    )
}

fn blocked_advising(
    dev: &DeviceReport,
    d: &DestinationReport,
    how: &'static str,
    count: u32,
    advice: &str,
) -> Finding {
    let proto = d.proto.to_uppercase();
    let name = d.name.as_deref();
    let target = target_text(name, d.ip);
    let allow_to = name.map(str::to_string).unwrap_or_else(|| d.ip.to_string());
    let mut message = format!(
        "{proto} {} to {target} {}{advice} {proto} {} to {allow_to} in the site firewall",
        d.port,
        how_phrase(d.proto, how),
        d.port
    );
    if how == "reset" {
        message.push_str(" (or check that the service is up)");
    }
    if d.outcomes.ok > 0 {
        message = format!(
            "{count} of {} attempts failed: {message}",
            count + d.outcomes.ok
        );
    }
    let mut f = new_finding(Kind::BlockedPort, dev, message);
    f.proto = Some(d.proto);
    f.port = Some(d.port);
    f.remote_ip = Some(d.ip);
    f.name = d.name.clone();
    f.how = Some(how);
    f.first_seen = d.first_seen;
    f.last_seen = d.last_seen;
    f.count = count as u64;
    f.evidence = d.evidence.clone();
    f
}

/// A TLS handshake the server aborted (alert) or reset after the ClientHello.
fn tls_failure(dev: &DeviceReport, t: &TlsSession, label: &str) -> Finding {
    let name = t.sni.as_deref().unwrap_or(label);
    let why = if t.server_reset {
        "reset by the server right after the ClientHello".to_string()
    } else {
        format!(
            "aborted by the server with alert {}",
            t.fatal_alert.as_deref().unwrap_or("?")
        )
    };
    let mut f = new_finding(
        Kind::TlsFailure,
        dev,
        format!(
            "The TLS handshake with {} on TCP {} was {why}: check for a firewall or proxy filtering TLS to {name}, and that the server accepts the device's TLS settings",
            target_text(t.sni.as_deref(), t.server.0),
            t.port
        ),
    );
    f.proto = Some("tcp");
    f.port = Some(t.port);
    f.remote_ip = Some(t.server.0);
    f.name = t.sni.clone();
    f.how = Some(if t.server_reset { "reset" } else { "alert" });
    f.first_seen = t.ts;
    f.last_seen = t.ts;
    f.evidence = evidence_of(&t.evidence);
    f
}

/// An MQTT CONNECT answered by a CONNACK with a non-zero code.
fn mqtt_rejected(dev: &DeviceReport, m: &crate::device::facts::MqttSession) -> Finding {
    let code = m.connack_code.unwrap_or(0);
    let mut f = new_finding(
        Kind::MqttRejected,
        dev,
        format!(
            "The MQTT broker at {} refused the device's CONNECT (client id {:?}) with return code {code}, {}: check the device's MQTT credentials and the broker's access rules",
            target_text(None, m.server.0),
            m.client_id,
            m.connack.unwrap_or("refused")
        ),
    );
    f.proto = Some("tcp");
    f.port = Some(m.port);
    f.remote_ip = Some(m.server.0);
    f.code = Some(code);
    f.how = Some("refused");
    f.first_seen = m.ts;
    f.last_seen = m.ts;
    f.evidence = evidence_of(&m.evidence);
    f
}

/// Where an egress requirement goes, resolved for this device.
struct Resolved {
    ips: BTreeSet<IpAddr>,
    names: Vec<Pattern>,
    /// How the target is named in messages.
    label: String,
    /// Where a site value came from, for the evidence.
    note: Option<String>,
}

fn resolve(
    ctx: &Context<'_>,
    p: &Profile,
    target: &Target,
    dev: &DeviceReport,
) -> Option<Resolved> {
    let mut r = Resolved {
        ips: BTreeSet::new(),
        names: Vec::new(),
        label: String::new(),
        note: None,
    };
    match target {
        Target::Names(n) => r.names = n.clone(),
        Target::Site(key) => {
            if let Some(values) = ctx.site.get(&p.id, key) {
                for v in values {
                    match v {
                        SiteValue::Ip(ip) => {
                            r.ips.insert(*ip);
                        }
                        SiteValue::Name(n) => r.names.push(n.clone()),
                    }
                }
                r.note = Some(format!("{key} from --site"));
            } else {
                let learn = p
                    .site
                    .iter()
                    .find(|s| &s.key == key)
                    .map(|s| s.learn.clone())
                    .unwrap_or_default();
                let (ips, how) = learned(dev, &learn);
                if ips.is_empty() {
                    return None;
                }
                r.note = Some(format!(
                    "{key} {} learned from the device's {how} traffic",
                    ips.iter()
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                r.ips = ips;
            }
        }
    }
    for (name, q) in &dev.dns {
        if r.names.iter().any(|p| p.matches(name)) {
            r.ips.extend(q.addresses.iter().copied());
        }
    }
    for t in &dev.tls {
        if t.sni
            .as_deref()
            .is_some_and(|s| r.names.iter().any(|p| p.matches(s)))
        {
            r.ips.insert(t.server.0);
        }
    }
    r.label = match (r.names.first(), r.ips.first()) {
        (Some(n), _) if r.names.len() == 1 => n.to_string(),
        (Some(_), _) => r
            .names
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        (None, Some(ip)) => ip.to_string(),
        (None, None) => String::new(),
    };
    Some(r)
}

/// Peers a site value can be learned from: the CAPWAP peer, the MQTT broker.
fn learned(dev: &DeviceReport, learn: &[String]) -> (BTreeSet<IpAddr>, &'static str) {
    let ok = |ip: &IpAddr| !crate::device::is_non_host(ip);
    for l in learn {
        let (ips, how): (BTreeSet<IpAddr>, _) = match l.as_str() {
            "capwap" => (
                dev.capwap.iter().map(|c| c.peer.0).filter(ok).collect(),
                "CAPWAP",
            ),
            "mqtt" => (
                dev.mqtt
                    .iter()
                    .map(|m| m.server.0)
                    .chain(
                        dev.destinations
                            .iter()
                            .filter(|d| d.proto == "tcp" && matches!(d.port, 8883 | 1883))
                            .map(|d| d.ip),
                    )
                    .filter(ok)
                    .collect(),
                "MQTT",
            ),
            _ => continue,
        };
        if !ips.is_empty() {
            return (ips, how);
        }
    }
    (BTreeSet::new(), "")
}

fn dest_matches(d: &DestinationReport, proto: Proto, ports: &[u16], r: &Resolved) -> bool {
    d.proto == proto.as_str()
        && ports.contains(&d.port)
        && (r.ips.contains(&d.ip)
            || d.name
                .as_deref()
                .is_some_and(|n| r.names.iter().any(|p| p.matches(n))))
}

fn tls_failed(t: &TlsSession) -> bool {
    t.server_reset || t.fatal_alert.is_some()
}

fn ports_text(ports: &[u16]) -> String {
    ports
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("/")
}

fn egress(
    ctx: &Context<'_>,
    p: &Profile,
    proto: Proto,
    ports: &[u16],
    target: &Target,
    dev: &DeviceReport,
    dns_owned: &mut Vec<(&str, Pending)>,
) -> Eval {
    let pr = proto.as_str().to_uppercase();
    let pt = ports_text(ports);
    let Some(r) = resolve(ctx, p, target, dev) else {
        let key = match target {
            Target::Site(k) => k.as_str(),
            Target::Names(_) => "",
        };
        return Eval::unseen(format!(
            "the {key}'s address is not known: give it with --site, or capture the device's traffic to it"
        ));
    };
    let note = r
        .note
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    let dests: Vec<&DestinationReport> = dev
        .destinations
        .iter()
        .filter(|d| dest_matches(d, proto, ports, &r))
        .collect();
    let on = |ip: IpAddr, port: u16| dests.iter().any(|d| d.ip == ip && d.port == port);
    let ok: u32 = dests.iter().map(|d| d.outcomes.ok).sum();
    let mut findings = Vec::new();
    let mut broke = None;
    let one_way = one_way(dev);
    // Failed attempts, per destination.
    let mut failed = 0u32;
    if !one_way {
        for d in &dests {
            if let Some((how, n)) = failure(d) {
                failed += n;
                if broke.is_none() {
                    broke = Some(format!(
                        "{} {} to {} {}",
                        d.proto.to_uppercase(),
                        d.port,
                        d.name.as_deref().unwrap_or(&r.label),
                        short_how(d.proto, how)
                    ));
                }
                findings.push(Pending {
                    finding: blocked(dev, d, how, n),
                    fixed: None,
                });
            }
        }
    }
    // TLS handshakes that failed after the TCP handshake worked.
    let sessions: Vec<&TlsSession> = dev
        .tls
        .iter()
        .filter(|t| t.transport != "quic" && on(t.server.0, t.port))
        .collect();
    let tls_bad: Vec<&&TlsSession> = sessions.iter().filter(|t| tls_failed(t)).collect();
    let tls_good = sessions
        .iter()
        .filter(|t| !tls_failed(t) && t.version.is_some())
        .count();
    for t in &tls_bad {
        let f = tls_failure(dev, t, &r.label);
        broke.get_or_insert_with(|| {
            format!(
                "TLS to {} failed ({})",
                f.name.as_deref().unwrap_or(&r.label),
                f.how.unwrap_or("")
            )
        });
        findings.push(Pending {
            finding: f,
            fixed: None,
        });
    }
    // MQTT brokers that refused the CONNECT.
    let mqtt: Vec<_> = dev.mqtt.iter().filter(|m| on(m.server.0, m.port)).collect();
    let mqtt_bad: Vec<_> = mqtt
        .iter()
        .filter(|m| m.connack_code.is_some_and(|c| c != 0))
        .collect();
    let mqtt_good = mqtt.iter().filter(|m| m.connack_code == Some(0)).count();
    for m in &mqtt_bad {
        let f = mqtt_rejected(dev, m);
        broke.get_or_insert_with(|| {
            format!(
                "MQTT login to {} refused (code {})",
                m.server.0,
                f.code.unwrap_or(0)
            )
        });
        findings.push(Pending {
            finding: f,
            fixed: None,
        });
    }
    // DNS failures of this requirement's names belong to it.
    let mut dns_failed = Vec::new();
    let mut i = 0;
    while i < dns_owned.len() {
        if r.names.iter().any(|p| p.matches(dns_owned[i].0)) {
            let (name, pending) = dns_owned.remove(i);
            dns_failed.push(name);
            findings.push(pending);
        } else {
            i += 1;
        }
    }
    let works_tls = tls_good != 0 || tls_bad.is_empty();
    let works_mqtt = mqtt_good != 0 || mqtt_bad.is_empty();
    let first = dests.iter().find(|d| d.outcomes.ok > 0).or(dests.first());
    let where_ = first
        .map(|d| {
            format!(
                "{pr} {} to {}",
                d.port,
                target_text(d.name.as_deref().or(Some(&r.label)), d.ip)
            )
        })
        .unwrap_or_else(|| format!("{pr} {pt} to {}", r.label));
    let mut e = if ok > 0 && works_tls && works_mqtt {
        let mut s = format!(
            "{where_}: {ok} connection{} completed",
            if ok == 1 { "" } else { "s" }
        );
        if failed > 0 {
            s.push_str(&format!(", {failed} other attempts failed"));
        }
        Eval::seen(true, s)
    } else if failed > 0 || !tls_bad.is_empty() || !mqtt_bad.is_empty() {
        Eval::seen(
            false,
            format!(
                "{}{}",
                broke.clone().unwrap_or_else(|| format!("{where_} failed")),
                if ok > 0 { " (TCP connected)" } else { "" }
            ),
        )
    } else if !dns_failed.is_empty() {
        broke = Some(format!("DNS for {} failed", dns_failed.join(", ")));
        Eval::seen(
            false,
            format!(
                "DNS for {} failed, so the device never connected",
                dns_failed.join(", ")
            ),
        )
    } else if one_way && !dests.is_empty() {
        Eval::unseen(format!(
            "{where_}: attempted, but only the device's own packets are in the capture (a one-way mirror?), so replies cannot be seen"
        ))
    } else if dests.iter().any(|d| d.outcomes.pending > 0) {
        Eval::unseen(format!(
            "{where_}: attempted as the capture ended, still within its timeout"
        ))
    } else if !dests.is_empty() {
        Eval::unseen(format!(
            "{where_}: only seen mid-stream in one direction, so the outcome is unknown"
        ))
    } else if let Some(d) = dev.destinations.iter().find(|d| {
        one_way && d.name.is_none() && d.proto == proto.as_str() && ports.contains(&d.port)
    }) {
        Eval::unseen(format!(
            "{pr} {} attempted to {}, whose name the capture cannot show (only the device's own packets are in it, no DNS answer)",
            d.port, d.ip
        ))
    } else {
        Eval::unseen(format!(
            "{pr} {pt} to {}: not attempted in the capture",
            r.label
        ))
    };
    e.evidence.push_str(&note);
    e.findings = findings;
    e.broke = broke;
    e
}

/// DNS failures of the device's questions, as findings by name.
fn dns_failures(dev: &DeviceReport, one_way: bool) -> Vec<(&str, Pending)> {
    let mut out = Vec::new();
    for (name, q) in &dev.dns {
        if name.ends_with(".local") {
            continue;
        }
        if let Some(f) = dns_failure(dev, name, q, one_way) {
            out.push((name.as_str(), f));
        }
    }
    out
}

fn dns_failure(dev: &DeviceReport, name: &str, q: &DnsQuestion, one_way: bool) -> Option<Pending> {
    let count = |rcode: u8| q.rcodes.count(rcode);
    let ok = count(0);
    let timeouts = if one_way {
        0
    } else {
        q.unanswered.saturating_sub(q.late)
    };
    let (how, n, what) = [
        ("servfail", count(2), "the resolver failed (SERVFAIL)"),
        ("refused", count(5), "the resolver refused it (REFUSED)"),
        ("nxdomain", count(3), "the name does not exist (NXDOMAIN)"),
        ("timeout", timeouts, "queries got no answer"),
    ]
    .into_iter()
    .find(|(_, n, _)| *n > 0)?;
    // Built in one string, the servers written in place: a site mix has
    // thousands of these.
    let mut message = String::with_capacity(name.len() + what.len() + 160 + 16 * q.servers.len());
    message.push_str("DNS for ");
    message.push_str(name);
    message.push_str(": ");
    message.push_str(what);
    message.push_str(" (");
    crate::plain::push_u64(&mut message, u64::from(n));
    if ok > 0 {
        message.push_str(" of ");
        crate::plain::push_u64(&mut message, u64::from(n) + u64::from(ok));
        message.push_str(" responses; others resolved)");
    } else {
        message.push_str(if n == 1 { " time)" } else { " times)" });
    }
    message.push_str("; ");
    let servers = |m: &mut String| {
        for (i, s) in q.servers.iter().enumerate() {
            if i > 0 {
                m.push_str(", ");
            }
            crate::plain::push_ip(m, s);
        }
    };
    match how {
        "timeout" => {
            message.push_str("check that DNS (UDP and TCP 53) to ");
            if q.servers.is_empty() {
                message.push_str("the resolver");
            } else {
                servers(&mut message);
            }
            message.push_str(" is allowed and the resolver is up");
        }
        "nxdomain" => message.push_str(
            "check the name the device is configured with, and any DNS filter that blocks it",
        ),
        _ => {
            message.push_str("check the site's resolver");
            if !q.servers.is_empty() {
                message.push_str(" from ");
                servers(&mut message);
            }
            message.push_str(" and its upstream or filtering for this name");
        }
    }
    let mut f = new_finding(Kind::DnsFailure, dev, message);
    f.proto = Some("udp");
    f.port = Some(53);
    f.remote_ip = q.servers.first().copied();
    f.name = Some(name.to_string());
    f.how = Some(how);
    f.first_seen = q.first_seen;
    f.last_seen = q.last_seen;
    f.count = n as u64;
    f.evidence = evidence_of(&q.evidence);
    Some(Pending {
        finding: f,
        fixed: if ok > 0 {
            Some(Severity::Warning)
        } else {
            None
        },
    })
}

fn dns_check(dev: &DeviceReport, leftovers: Vec<(&str, Pending)>) -> Eval {
    let asked = dev.dns.len();
    let resolved = dev
        .dns
        .values()
        .filter(|q| q.rcodes.contains_key("NOERROR"))
        .count();
    let mut e = if asked == 0 {
        Eval::unseen("no DNS question in the capture (names may have been cached)")
    } else if one_way(dev) {
        Eval::unseen(format!(
            "{asked} names asked, but no reply can be seen (only the device's own packets are in the capture)"
        ))
    } else if resolved > 0 {
        let example = dev
            .dns
            .iter()
            .find(|(_, q)| q.rcodes.contains_key("NOERROR"))
            .map(|(n, _)| n.as_str())
            .unwrap_or("");
        Eval::seen(
            true,
            format!("{resolved} of {asked} names resolved (e.g. {example})"),
        )
    } else {
        let mut e = Eval::seen(false, format!("none of the {asked} names asked resolved"));
        e.broke = Some("DNS fails".into());
        e
    };
    // Failures of names the profile does not list are worth knowing, no more.
    for (_, mut p) in leftovers {
        if e.works == Some(false) {
            p.fixed = None;
        } else {
            p.fixed = Some(Severity::Info);
        }
        e.findings.push(p);
    }
    e
}

/// The NTP servers a requirement accepts, and why.
fn ntp_check(
    ctx: &Context<'_>,
    server: &NtpSource,
    dev: &DeviceReport,
    dns_owned: &mut Vec<(&str, Pending)>,
) -> Eval {
    let mut accepted: Vec<(&IpAddr, &NtpServer)> = Vec::new();
    let mut label = "any NTP server".to_string();
    let mut caveat = String::new();
    match server {
        NtpSource::Any => accepted.extend(dev.ntp.iter()),
        NtpSource::Name(p) => {
            label = p.to_string();
            let ips: BTreeSet<IpAddr> = dev
                .dns
                .iter()
                .filter(|(n, _)| p.matches(n))
                .flat_map(|(_, q)| q.addresses.iter().copied())
                .chain(
                    dev.destinations
                        .iter()
                        .filter(|d| {
                            d.port == 123 && d.name.as_deref().is_some_and(|n| p.matches(n))
                        })
                        .map(|d| d.ip),
                )
                .collect();
            accepted.extend(dev.ntp.iter().filter(|(ip, _)| ips.contains(ip)));
        }
        NtpSource::Dhcp => {
            label = "the NTP server DHCP offers".into();
            match &dev.dhcp {
                Some(d) if !d.ntp_servers.is_empty() => {
                    let ips: Vec<IpAddr> = d.ntp_servers.iter().map(|i| IpAddr::V4(*i)).collect();
                    label = format!(
                        "the NTP server DHCP offers ({})",
                        ips.iter()
                            .map(|i| i.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    accepted.extend(dev.ntp.iter().filter(|(ip, _)| ips.contains(ip)));
                }
                Some(d) if d.leased_ip.is_some() => {
                    caveat = "DHCP offers no NTP server (option 42)".into();
                    accepted.extend(dev.ntp.iter());
                }
                _ => {
                    label = "NTP (no DHCP exchange seen, so any server)".into();
                    accepted.extend(dev.ntp.iter());
                }
            }
        }
    }
    let one_way = one_way(dev);
    let mut e = Eval::unseen("");
    let mut working = None;
    for (ip, s) in &accepted {
        let synced = s.replies > s.unsynchronized_replies && s.kiss_codes.is_empty();
        if synced {
            working.get_or_insert((*ip, *s));
            continue;
        }
        let (how, what, fix) = if !s.kiss_codes.is_empty() {
            (
                "kiss_of_death",
                format!("sent a kiss-of-death ({})", s.kiss_codes.join(", ")),
                "the server refuses this client (RATE: it polls too often, or the site's many devices share one public address); use a local NTP server or another pool",
            )
        } else if s.replies > 0 {
            (
                "unsynchronized",
                format!(
                    "is not synchronized itself (stratum {}, leap {})",
                    s.stratum.unwrap_or(0),
                    s.leap.unwrap_or(0)
                ),
                "fix that server's own time source, or point the device at a synchronized one",
            )
        } else if one_way || s.last_seen.saturating_add(UDP_WINDOW) > ctx.capture_end {
            continue;
        } else {
            (
                "no_reply",
                format!(
                    "never replied to {} request{}",
                    s.requests,
                    if s.requests == 1 { "" } else { "s" }
                ),
                "allow outbound UDP 123 (and its replies) in the site firewall",
            )
        };
        let name = dev
            .destinations
            .iter()
            .find(|d| d.ip == **ip && d.port == 123)
            .and_then(|d| d.name.clone());
        let target = target_text(name.as_deref(), **ip);
        let mut f = new_finding(
            Kind::NtpFailure,
            dev,
            format!("NTP server {target} {what}: {fix}"),
        );
        f.proto = Some("udp");
        f.port = Some(123);
        f.remote_ip = Some(**ip);
        f.name = name;
        f.how = Some(how);
        f.first_seen = s.first_seen;
        f.last_seen = s.last_seen;
        f.count = s.requests.max(1) as u64;
        f.evidence = evidence_of(&s.evidence);
        e.broke.get_or_insert_with(|| {
            format!(
                "NTP {}",
                match how {
                    "no_reply" => "never answered",
                    "kiss_of_death" => "refused (kiss-of-death)",
                    _ => "unsynchronized",
                }
            )
        });
        e.findings.push(Pending {
            finding: f,
            fixed: None,
        });
    }
    if let NtpSource::Name(p) = server {
        let mut i = 0;
        while i < dns_owned.len() {
            if p.matches(dns_owned[i].0) {
                let (name, pending) = dns_owned.remove(i);
                e.broke
                    .get_or_insert_with(|| format!("DNS for {name} failed"));
                e.findings.push(pending);
            } else {
                i += 1;
            }
        }
    }
    if let Some((ip, s)) = working {
        e.works = Some(true);
        e.evidence = format!(
            "{} replied from {ip} (stratum {})",
            if accepted.len() == 1 {
                label.clone()
            } else {
                "NTP".into()
            },
            s.stratum.unwrap_or(0)
        );
        if !caveat.is_empty() {
            e.evidence = format!("{caveat}; {}", e.evidence);
            e.status = Some(Status::Warn);
        }
    } else if !e.findings.is_empty() {
        e.works = Some(false);
        e.evidence = format!("{label}: {}", e.broke.clone().unwrap_or_default());
    } else if one_way && !accepted.is_empty() {
        e.evidence = format!("requests to {label} seen, but replies cannot be (only the device's own packets are in the capture)");
    } else if !accepted.is_empty() {
        e.evidence =
            format!("requests to {label} were still within their timeout when the capture ended");
    } else if one_way && !dev.ntp.is_empty() {
        e.evidence = format!(
            "NTP requests to {} seen; which name they are and whether they are answered cannot be seen (only the device's own packets are in the capture)",
            dev.ntp.keys().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
        );
    } else if !dev.ntp.is_empty() {
        e.evidence = format!(
            "the device used other NTP servers ({}), not {label}",
            dev.ntp
                .keys()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    } else {
        e.evidence = format!("no NTP to {label} in the capture");
    }
    if e.works.is_none() && !caveat.is_empty() {
        e.evidence = format!("{caveat}; {}", e.evidence);
    }
    e
}

/// The address the device REQUESTed and then used as its source: its ACK
/// reached the device even where the capture missed it.
fn used_requested(dev: &DeviceReport) -> Option<std::net::Ipv4Addr> {
    let ip = dev.dhcp.as_ref()?.requested_ip?;
    dev.ips.contains(&IpAddr::V4(ip)).then_some(ip)
}

fn dhcp_failure(dev: &DeviceReport, one_way: bool) -> Option<Finding> {
    let d = dev.dhcp.as_ref()?;
    if one_way {
        return None;
    }
    let (how, n, what) = if d.naks > 0 {
        ("nak", d.naks, "DHCP REQUESTs were refused with NAK: the address it asks for does not fit this network or the server's pool; check the DHCP server's scope for this VLAN")
    } else if d.discovers_unanswered > 0 {
        ("no_offer", d.discovers_unanswered, "DHCP DISCOVERs got no OFFER: check that a DHCP server (or relay) serves this VLAN and has free addresses")
    } else if d.requests_unanswered > 0 && used_requested(dev).is_none() {
        ("no_ack", d.requests_unanswered, "DHCP REQUESTs were never acknowledged: check the DHCP server and any relay on this VLAN")
    } else {
        return None;
    };
    let lease = d
        .leased_ip
        .map(|ip| format!(" (a lease of {ip} came later)"))
        .unwrap_or_default();
    let mut f = new_finding(Kind::DhcpFailure, dev, format!("{what}{lease}"));
    f.proto = Some("udp");
    f.port = Some(67);
    f.how = Some(how);
    f.count = n as u64;
    f.first_seen = d.first_seen;
    f.last_seen = d.last_seen;
    f.evidence = evidence_of(&d.evidence);
    f.remote_ip = d.server.map(IpAddr::V4);
    Some(f)
}

fn dhcp_check(ctx: &Context<'_>, p: &Profile, dev: &DeviceReport) -> Eval {
    let one_way = one_way(dev);
    let fail = dhcp_failure(dev, one_way);
    if let Some(d) = &dev.dhcp {
        if let Some(ip) = d.leased_ip {
            let from = d.server.map(|s| format!(" from {s}")).unwrap_or_default();
            let mut e = Eval::seen(true, format!("leased {ip}{from}"));
            if let Some(f) = fail {
                e.findings.push(Pending {
                    finding: f,
                    fixed: Some(Severity::Warning),
                });
            }
            return e;
        }
        if let Some(ip) = used_requested(dev) {
            return Eval::seen(
                true,
                format!("requested {ip} and then used it (the server's ACK is not in the capture)"),
            );
        }
        if let Some(f) = fail {
            let mut e = Eval::seen(false, f.message.clone());
            e.broke = Some(format!("DHCP failed ({})", f.how.unwrap_or("")));
            e.findings.push(Pending {
                finding: f,
                fixed: None,
            });
            return e;
        }
        if d.messages.contains_key("DISCOVER") || d.messages.contains_key("REQUEST") {
            return Eval::unseen(
                "DHCP requests seen, no answer yet when the capture ended (or replies not visible)",
            );
        }
    }
    let v4: Vec<IpAddr> = dev
        .ips
        .iter()
        .filter(|i| i.is_ipv4() && is_local_scope(i))
        .copied()
        .collect();
    let Some(ip) = v4.first() else {
        return Eval::unseen("no DHCP exchange and no IPv4 address seen");
    };
    if !ctx.dhcp_seen {
        return Eval::unseen(format!(
            "uses {ip}; no DHCP exchange in the capture (its lease may be older than the capture)"
        ));
    }
    let mut f = new_finding(
        Kind::StaticAddress,
        dev,
        format!(
            "The device uses {ip} but did no DHCP in the capture while other devices got leases: {} requires DHCP, so if this address is set statically, switch the device to DHCP (a DHCP reservation keeps the address)",
            p.name
        ),
    );
    f.remote_ip = None;
    f.first_seen = dev.first_seen;
    f.last_seen = dev.last_seen;
    f.evidence = dev.first_frame.into_iter().collect();
    let mut e = Eval::seen(false, format!("uses {ip} with no DHCP exchange while other devices got leases (static address, or a lease older than the capture)"));
    e.status = Some(Status::Warn);
    e.broke = Some(format!("static address {ip}?"));
    e.findings.push(Pending {
        finding: f,
        fixed: Some(Severity::Warning),
    });
    e
}

fn wifi_check(channels: &[u16], bands: &[String], dev: &DeviceReport) -> Eval {
    let Some(w) = dev.wifi.as_ref().filter(|w| !w.access_point) else {
        return Eval::unseen("no WiFi capture shows this device (give a monitor-mode capture of the site with the wired one)");
    };
    let ssid = w.ssid.clone().unwrap_or_else(|| "?".into());
    let Some(ch) = w.channel else {
        return Eval::unseen(format!("on WiFi network {ssid}, channel not seen"));
    };
    let band_ok = bands.is_empty()
        || w.band
            .is_some_and(|b| bands.iter().any(|x| b.trim_end_matches("GHz") == x));
    if channels.contains(&ch) && band_ok {
        return Eval::seen(true, format!("on {ssid} channel {ch}"));
    }
    let allowed = if channels.is_empty() {
        "none: it must be connected by Ethernet".to_string()
    } else {
        let (lo, hi) = (channels.iter().min(), channels.iter().max());
        match (lo, hi) {
            (Some(l), Some(h)) if usize::from(h - l) + 1 == channels.len() => format!("{l} to {h}"),
            _ => ports_text(channels),
        }
    };
    let fix = if channels.is_empty() {
        "connect it by Ethernet".to_string()
    } else {
        format!("set the access point to a fixed channel from {allowed} (no automatic channel selection)")
    };
    let mut f = new_finding(
        Kind::BadWifiChannel,
        dev,
        format!(
            "The device is on WiFi network {ssid} (BSSID {}) on channel {ch}, which it does not support (channels {allowed}): {fix}",
            w.bssid.as_deref().unwrap_or("?")
        ),
    );
    f.channel = Some(ch);
    f.ssid = w.ssid.clone();
    f.bssid = w.bssid.clone();
    f.first_seen = w.ts;
    f.last_seen = w.ts;
    f.evidence = evidence_of(&w.evidence);
    let mut e = Eval::seen(
        false,
        format!("on {ssid} channel {ch}; supported: {allowed}"),
    );
    e.broke = Some(format!("WiFi channel {ch}"));
    e.findings.push(Pending {
        finding: f,
        fixed: None,
    });
    e
}

fn prefix_len(mask: std::net::Ipv4Addr) -> u8 {
    u32::from(mask).leading_ones() as u8
}

fn subnet_check(forbidden: &[crate::profile::Net], dev: &DeviceReport) -> Eval {
    use crate::profile::Net;
    let mut nets: Vec<(Net, &'static str)> = Vec::new();
    if let Some(d) = &dev.dhcp {
        if let (Some(ip), Some(mask)) = (d.leased_ip.or(d.offered_ip), d.subnet_mask) {
            nets.push((Net::of(IpAddr::V4(ip), prefix_len(mask)), "from DHCP"));
        }
    }
    for ip in dev.ips.iter().filter(|i| i.is_ipv4()) {
        if !nets.iter().any(|(n, _)| n.contains(ip)) {
            nets.push((Net::of(*ip, 32), "address seen"));
        }
    }
    if nets.is_empty() {
        return Eval::unseen("no IPv4 address seen");
    }
    for (net, src) in &nets {
        if let Some(bad) = forbidden.iter().find(|f| f.overlaps(net)) {
            let mut f = new_finding(
                Kind::SubnetClash,
                dev,
                format!(
                    "The device's network {net} ({src}) overlaps {bad}, which the device uses internally: renumber the LAN (or give the device a VLAN) outside {bad}"
                ),
            );
            f.subnet = Some(net.to_string());
            f.forbidden = Some(bad.to_string());
            f.first_seen = dev.first_seen;
            f.last_seen = dev.last_seen;
            f.evidence = dev
                .dhcp
                .as_ref()
                .map(|d| evidence_of(&d.evidence))
                .filter(|e| !e.is_empty())
                .unwrap_or_else(|| dev.first_frame.into_iter().collect());
            let mut e = Eval::seen(false, format!("network {net} ({src}) overlaps {bad}"));
            e.broke = Some(format!("LAN {net} overlaps {bad}"));
            e.findings.push(Pending {
                finding: f,
                fixed: None,
            });
            return e;
        }
    }
    let (net, src) = nets[0];
    Eval::seen(
        true,
        format!(
            "network {net} ({src}) overlaps none of {}",
            forbidden
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

fn inbound_check(dev: &DeviceReport, ports: Option<(Proto, &[u16])>, local_only: bool) -> Eval {
    let wanted = |i: &InboundReport| match ports {
        Some((proto, ports)) => i.proto == proto.as_str() && ports.contains(&i.port),
        None => true,
    };
    let public: Vec<&InboundReport> = dev
        .inbound
        .iter()
        .filter(|i| i.public && wanted(i))
        .collect();
    let reached: Vec<&&InboundReport> = public.iter().filter(|i| i.outcomes.ok > 0).collect();
    let what = match ports {
        Some((proto, ports)) => format!("{} {}", proto.as_str().to_uppercase(), ports_text(ports)),
        None => "any port".into(),
    };
    if reached.is_empty() {
        if !public.is_empty() {
            return Eval::seen(
                true,
                format!(
                    "{} attempt(s) from the internet to {what} were not answered",
                    public.len()
                ),
            );
        }
        let lan = dev
            .inbound
            .iter()
            .filter(|i| !i.public && wanted(i) && i.outcomes.ok > 0)
            .count();
        return Eval::unseen(if lan > 0 {
            format!("{what} reached from the LAN ({lan} client(s)); no attempt from a public address in the capture")
        } else {
            format!("no connection to {what} from a public address in the capture")
        });
    }
    let mut e = Eval::seen(false, String::new());
    for i in reached.iter().take(MAX_PER_KIND) {
        let service = if local_only {
            "local-only service"
        } else {
            "a port the device does not need open"
        };
        let mut f = new_finding(
            Kind::InboundExposure,
            dev,
            format!(
                "The device's {} {} ({service}) was reached from the internet ({}): remove the port forward or firewall rule that exposes it, or restrict it to a VPN or an IP allow-list",
                i.proto.to_uppercase(),
                i.port,
                i.client
            ),
        );
        f.proto = Some(i.proto);
        f.port = Some(i.port);
        f.remote_ip = Some(i.client);
        f.how = Some("completed_handshake");
        f.first_seen = i.first_seen;
        f.last_seen = i.last_seen;
        f.count = i.outcomes.ok as u64;
        f.evidence = i.evidence.clone();
        e.findings.push(Pending {
            finding: f,
            fixed: None,
        });
    }
    let first = reached[0];
    e.evidence = format!(
        "{} {} reached from {}{}",
        first.proto.to_uppercase(),
        first.port,
        first.client,
        if reached.len() > 1 {
            format!(" and {} other public address(es)", reached.len() - 1)
        } else {
            String::new()
        }
    );
    e.broke = Some(format!(
        "{} {} exposed to the internet",
        first.proto.to_uppercase(),
        first.port
    ));
    e
}

/// What a TLS session's certificate says about interception.
enum SessionVerdict {
    /// Chains to a public root at capture time and is valid for the name.
    Real { issuer: String },
    /// Issued by an inspection product, or not chaining to a public root.
    NotReal { issuer: String, why: &'static str },
    /// No certificate visible (TLS 1.3, or not captured).
    Hidden,
    /// Seen but not decidable (expired real certificate, unparsable).
    Unknown,
}

fn session_verdict(t: &TlsSession) -> SessionVerdict {
    use crate::trust::{judge, Verdict, Why};
    if t.chain_der.is_empty() {
        return SessionVerdict::Hidden;
    }
    let at = t.ts.div_euclid(1_000_000_000);
    match judge(&t.chain_der, t.sni.as_deref(), at) {
        Verdict::Public { issuer, .. } => SessionVerdict::Real { issuer },
        Verdict::Inspection { product, issuer } => SessionVerdict::NotReal {
            issuer: format!("{issuer} ({product})"),
            why: "inspection_product",
        },
        // A root Mozilla has since removed, or an algorithm the store's
        // verifier lacks: the packets cannot tell a real old chain from a
        // forged one, so no verdict either way.
        Verdict::Untrusted {
            why: Why::RemovedRoot | Why::UnsupportedAlgorithm,
            ..
        } => SessionVerdict::Unknown,
        Verdict::Untrusted { issuer, why, .. } => SessionVerdict::NotReal {
            issuer,
            why: why.name(),
        },
        // A real certificate for another name, or out of its validity, is
        // a server fault, not interception.
        Verdict::WrongName { .. }
        | Verdict::Expired { .. }
        | Verdict::NotYetValid { .. }
        | Verdict::Unparsable => SessionVerdict::Unknown,
    }
}

fn interception_check(p: &Profile, names: &[Pattern], dev: &DeviceReport) -> Eval {
    let default: Vec<Pattern>;
    let names = if names.is_empty() {
        default = p.egress_names().cloned().collect();
        &default
    } else {
        names
    };
    let sessions: Vec<&TlsSession> = dev
        .tls
        .iter()
        .filter(|t| {
            t.sni
                .as_deref()
                .is_some_and(|s| names.iter().any(|p| p.matches(s)))
        })
        .collect();
    if sessions.is_empty() {
        return Eval::unseen("no TLS session to these names in the capture");
    }
    let mut e = Eval::unseen("");
    let mut verified = None;
    let mut undecided = 0;
    for t in &sessions {
        let Some(sni) = t.sni.as_deref() else {
            continue;
        };
        match session_verdict(t) {
            SessionVerdict::Real { issuer } => {
                verified.get_or_insert((sni, issuer));
            }
            SessionVerdict::Hidden => {}
            SessionVerdict::Unknown => undecided += 1,
            SessionVerdict::NotReal { issuer, why } => {
                let mut f = new_finding(
                    Kind::TlsInterception,
                    dev,
                    format!(
                        "The certificate shown for {sni} ({}) does not come from a public CA ({}), issued by {issuer}: TLS to {sni} is being intercepted; exempt it from TLS inspection in the firewall or proxy",
                        t.server.0,
                        why.replace('_', " ")
                    ),
                );
                f.proto = Some("tcp");
                f.port = Some(t.port);
                f.remote_ip = Some(t.server.0);
                f.name = Some(sni.to_string());
                f.issuer = Some(issuer.clone());
                f.how = Some(why);
                f.first_seen = t.ts;
                f.last_seen = t.ts;
                f.evidence = evidence_of(&t.evidence);
                e.broke
                    .get_or_insert_with(|| format!("TLS to {sni} intercepted ({issuer})"));
                e.findings.push(Pending {
                    finding: f,
                    fixed: None,
                });
            }
        }
    }
    if !e.findings.is_empty() {
        e.works = Some(false);
        e.evidence = e.broke.clone().unwrap_or_default();
    } else if let Some((sni, issuer)) = verified {
        e.works = Some(true);
        e.evidence = format!("the certificate for {sni} chains to a public root (issuer {issuer})");
    } else if undecided > 0 {
        e.evidence = format!(
            "{undecided} certificate(s) seen for these names, but none decides it: expired, issued for another name, or chaining to a root since removed from the public store"
        );
    } else {
        e.evidence = format!(
            "{} TLS session(s) to these names, none showing its certificate (TLS 1.3 encrypts it)",
            sessions.len()
        );
    }
    e
}

/// Destinations the profile does not list: info for appliances.
fn unexpected(
    p: &Profile,
    dev: &DeviceReport,
    listed: &[(Proto, &[u16], Resolved)],
) -> Vec<Pending> {
    let mut out = Vec::new();
    let mut extra = 0usize;
    // Without the DNS answers a one-way capture cannot name a destination,
    // so it cannot tell listed from unlisted.
    let one_way = one_way(dev);
    for d in &dev.destinations {
        if one_way && d.name.is_none() {
            continue;
        }
        if is_local_scope(&d.ip) || matches!(d.port, 53 | 67 | 68 | 123 | 5353 | 1900 | 853) {
            continue;
        }
        if !matches!(d.proto, "tcp" | "udp")
            || listed
                .iter()
                .any(|(pr, ports, r)| dest_matches(d, *pr, ports, r))
        {
            continue;
        }
        if out.len() >= MAX_PER_KIND {
            extra += 1;
            continue;
        }
        let mut f = new_finding(
            Kind::UnexpectedEgress,
            dev,
            format!(
                "{} {} to {} is not in the {} profile: expected traffic needs no change; on an allow-list firewall, review it before allowing",
                d.proto.to_uppercase(),
                d.port,
                target_text(d.name.as_deref(), d.ip),
                p.name
            ),
        );
        f.proto = Some(d.proto);
        f.port = Some(d.port);
        f.remote_ip = Some(d.ip);
        f.name = d.name.clone();
        f.first_seen = d.first_seen;
        f.last_seen = d.last_seen;
        f.count = d.flows as u64;
        f.evidence = d.evidence.clone();
        out.push(Pending {
            finding: f,
            fixed: Some(Severity::Info),
        });
    }
    if extra > 0 {
        if let Some(last) = out.last_mut() {
            last.finding
                .message
                .push_str(&format!(" ({extra} more unlisted destinations not shown)"));
        }
    }
    out
}

/// Checks a profiled device: every requirement, then verdicts and
/// severities, then the summary.
pub fn profiled(ctx: &Context<'_>, p: &Profile, dev: &DeviceReport) -> Checked {
    let ow = one_way(dev);
    let mut dns_owned = dns_failures(dev, ow);
    let mut evals: Vec<Eval> = Vec::new();
    let mut listed: Vec<(Proto, &[u16], Resolved)> = Vec::new();
    // Egress first, so DNS failures of their names go to them.
    let mut order: Vec<usize> = (0..p.requirements.len()).collect();
    order.sort_by_key(|&i| match p.requirements[i].check {
        Check::Egress { .. } => 0,
        Check::Ntp { .. } => 1,
        Check::Dns => 3,
        _ => 2,
    });
    let mut slots: Vec<Option<Eval>> = (0..p.requirements.len()).map(|_| None).collect();
    for i in order {
        let req = &p.requirements[i];
        let e = match &req.check {
            Check::Egress {
                proto,
                ports,
                target,
            } => {
                if let Some(r) = resolve(ctx, p, target, dev) {
                    listed.push((*proto, ports.as_slice(), r));
                }
                egress(ctx, p, *proto, ports, target, dev, &mut dns_owned)
            }
            Check::Dns => dns_check(dev, std::mem::take(&mut dns_owned)),
            Check::Ntp { server } => ntp_check(ctx, server, dev, &mut dns_owned),
            Check::Dhcp => dhcp_check(ctx, p, dev),
            Check::Wifi { channels, bands } => wifi_check(channels, bands, dev),
            Check::Subnet { forbidden } => subnet_check(forbidden, dev),
            Check::LocalOnly { proto, ports } => inbound_check(dev, Some((*proto, ports)), true),
            Check::NoInbound => inbound_check(dev, None, false),
            Check::NoInterception { names } => interception_check(p, names, dev),
        };
        slots[i] = Some(e);
    }
    for s in slots {
        evals.push(s.unwrap_or_else(|| Eval::unseen("")));
    }
    let mut out = Checked::default();
    let mut broken: Vec<(u8, String)> = Vec::new();
    // Verdicts, with the alternatives of each group known.
    let works: Vec<Option<bool>> = evals.iter().map(|e| e.works).collect();
    for (i, (req, e)) in p.requirements.iter().zip(evals).enumerate() {
        let carrier = req.group.as_ref().and_then(|g| {
            p.requirements
                .iter()
                .enumerate()
                .find(|(j, o)| *j != i && o.group.as_ref() == Some(g) && works[*j] == Some(true))
                .map(|(_, o)| o)
        });
        let derived = match e.works {
            Some(true) => Status::Pass,
            Some(false) if carrier.is_some() || !req.required => Status::Warn,
            Some(false) => Status::Fail,
            None => Status::NotObserved,
        };
        let status = e.status.unwrap_or(derived);
        let severity = if status == Status::Fail {
            Severity::Error
        } else {
            Severity::Warning
        };
        let mut evidence = e.evidence;
        if let (Some(c), Status::Warn) = (carrier, status) {
            evidence.push_str(&format!("; {} works instead", c.id));
        }
        for mut pf in e.findings {
            let f = &mut pf.finding;
            f.severity = pf.fixed.unwrap_or(severity);
            f.profile = Some(p.id.clone());
            f.requirement = Some(req.id.clone());
            if let (Some(c), Severity::Warning) = (carrier, f.severity) {
                f.message.push_str(&format!(
                    " ({} still carries the link meanwhile)",
                    c.description
                ));
            } else if !req.required && f.severity == Severity::Warning && e.works == Some(false) {
                f.message.push_str(" (optional service)");
            }
            out.findings.push(pf.finding);
        }
        if let (Some(b), Status::Fail | Status::Warn) = (&e.broke, status) {
            let rank = match (&req.check, status) {
                (Check::Dhcp, _) => 0,
                (Check::Dns, _) => 1,
                (Check::Egress { .. }, Status::Fail) => 2,
                (Check::Egress { .. }, _) => 3,
                _ => 4,
            };
            let text = match (&req.impact, carrier) {
                (_, Some(c)) if status == Status::Warn => format!("{b} ({} carries it)", c.id),
                // A possible static address breaks nothing yet.
                _ if e.status.is_some() => b.clone(),
                (Some(impact), _) if rank <= 2 => format!("{b} → {impact}"),
                (Some(impact), _) => format!("{b} ({impact})"),
                (None, _) => b.clone(),
            };
            broken.push((rank, text));
        }
        out.requirements.push(RequirementReport {
            id: req.id.clone(),
            description: req.description.clone(),
            status: status.as_str(),
            evidence,
            required: req.required,
            group: req.group.clone(),
            cite: req.cite.clone(),
        });
    }
    let mut diff = crate::report::ProfileDiff::default();
    for r in &p.requirements {
        if let Check::Egress {
            proto,
            ports,
            target,
        } = &r.check
        {
            let seen = resolve(ctx, p, target, dev).is_some_and(|res| {
                dev.destinations
                    .iter()
                    .any(|d| dest_matches(d, *proto, ports, &res))
            });
            if !seen {
                diff.documented_not_seen
                    .push(format!("{}: {}", r.id, r.description));
            }
        }
    }
    if !p.identify.general_purpose {
        for pf in unexpected(p, dev, &listed) {
            let f0 = &pf.finding;
            diff.seen_not_documented.push(format!(
                "{} {} to {}",
                f0.proto.unwrap_or("?"),
                f0.port.unwrap_or(0),
                f0.name
                    .clone()
                    .or(f0.remote_ip.map(|i| i.to_string()))
                    .unwrap_or_default()
            ));
            let mut f = pf.finding;
            f.severity = pf.fixed.unwrap_or(Severity::Info);
            f.profile = Some(p.id.clone());
            out.findings.push(f);
        }
    }
    // Failed destinations no requirement covers.
    for d in &dev.destinations {
        if listed
            .iter()
            .any(|(pr, ports, r)| dest_matches(d, *pr, ports, r))
            || d.proto == "ip"
            || d.proto == "icmp"
        {
            continue;
        }
        let covered = p.requirements.iter().any(|r| match r.check {
            Check::Ntp { .. } => d.port == 123,
            Check::Dns => d.port == 53,
            _ => false,
        });
        if d.outcomes.ok == 0 && !ow && !covered {
            if let Some((how, n)) = failure(d) {
                let mut f = blocked_unrequired(dev, d, how, n);
                f.profile = Some(p.id.clone());
                out.findings.push(f);
            }
        }
    }
    out.summary = Some(summary(&out.requirements, p, broken, ow));
    out.diff = Some(diff);
    out
}

/// "DHCP ok → DNS ok → TCP 8883 to X silently dropped → cloud unreachable;
/// NTP never answered (the charger has no clock: cloud login will fail)":
/// what works on the way out, the first thing that breaks with what it
/// costs, then the other failures.
fn summary(
    reqs: &[RequirementReport],
    p: &Profile,
    mut broken: Vec<(u8, String)>,
    one_way: bool,
) -> String {
    let status_of = |kind: &str| {
        p.requirements
            .iter()
            .zip(reqs)
            .find(|(r, _)| r.check.kind() == kind)
            .map(|(_, s)| s.status)
    };
    let mut steps: Vec<String> = Vec::new();
    if status_of("dhcp") == Some("pass") {
        steps.push("DHCP ok".into());
    }
    if status_of("dns") == Some("pass") {
        steps.push("DNS ok".into());
    }
    broken.sort_by_key(|(rank, _)| *rank);
    let mut rest = broken.into_iter().map(|(_, t)| t);
    match rest.next() {
        Some(first) => steps.push(first),
        None => {
            let (mut total, mut pass) = (0, 0);
            for (r, s) in p.requirements.iter().zip(reqs) {
                if r.check.kind() == "egress" && r.required {
                    total += 1;
                    pass += usize::from(s.status == "pass");
                }
            }
            if pass > 0 {
                steps.push(format!("{pass} of {total} required destinations reached"));
            } else if total > 0 && !one_way {
                steps.push("no required destination attempted".into());
            }
        }
    }
    let mut parts = vec![steps.join(" → ")];
    parts.extend(rest);
    let unseen = reqs.iter().filter(|r| r.status == "not_observed").count();
    if one_way {
        parts.push("only the device's own packets are in the capture (one-way mirror?): replies cannot be judged".into());
    } else if unseen > 0 {
        parts.push(format!("{unseen} requirement(s) not observed"));
    }
    parts.retain(|p| !p.is_empty());
    if parts.is_empty() {
        return "nothing to judge in the capture".into();
    }
    parts.join("; ")
}

/// Findings that need no profile: DHCP failures (warning), and failed
/// destinations, DNS, NTP, TLS and MQTT failures (info).
pub fn unprofiled(ctx: &Context<'_>, dev: &DeviceReport) -> Checked {
    let ow = one_way(dev);
    let mut out = Checked::default();
    if let Some(mut f) = dhcp_failure(dev, ow) {
        f.severity = if dev.dhcp.as_ref().is_some_and(|d| d.leased_ip.is_some()) {
            Severity::Info
        } else {
            Severity::Warning
        };
        out.findings.push(f);
    }
    if ow {
        return out;
    }
    for d in &dev.destinations {
        if d.outcomes.ok > 0 || d.proto == "icmp" || d.proto == "ip" {
            continue;
        }
        if let Some((how, n)) = failure(d) {
            out.findings.push(blocked_unrequired(dev, d, how, n));
        }
    }
    for (_, p) in dns_failures(dev, ow) {
        let mut f = p.finding;
        f.severity = Severity::Info;
        out.findings.push(f);
    }
    let ntp = ntp_check(ctx, &NtpSource::Any, dev, &mut Vec::new());
    for p in ntp.findings {
        let mut f = p.finding;
        f.severity = Severity::Info;
        out.findings.push(f);
    }
    for t in dev
        .tls
        .iter()
        .filter(|t| tls_failed(t) && t.transport != "quic")
    {
        out.findings.push(tls_failure(dev, t, "the server"));
    }
    for m in dev
        .mqtt
        .iter()
        .filter(|m| m.connack_code.is_some_and(|c| c != 0))
    {
        out.findings.push(mqtt_rejected(dev, m));
    }
    out
}
