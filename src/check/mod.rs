//! Profile checks: a verdict per requirement of a profiled device, the
//! findings that prove what is broken (with the fix), and a causal summary.
//!
//! Verdicts: `pass` (seen working: a handshake completed, a reply came),
//! `fail` (attempts failed and nothing carries the requirement), `warn` (a
//! failure that costs less: an alternative in the same group works, or the
//! requirement is optional, or a static address that may be a lease older
//! than the capture), `not_observed` (never attempted, still pending when
//! the capture ended, or not observable: a TLS 1.3 certificate, replies on
//! a one-way mirror).
//!
//! Severity of a failed attempt to a destination in the profile: `error`
//! when its requirement is broken, `warning` when something still carries
//! it. Devices without a profile get only findings that need no profile:
//! DHCP failures (warning) and failed destinations, DNS, NTP, TLS and MQTT
//! failures (info).

pub mod identify;
pub mod mirror;
pub mod rules;

use crate::finding::Finding;
use crate::profile::{ProfileSet, Site};
use crate::report::{DeviceReport, RequirementReport};

pub use identify::{identify, Identifier, Match};

/// What the checks need beyond the device itself.
pub struct Context<'a> {
    pub profiles: &'a ProfileSet,
    pub site: &'a Site,
    /// The capture's last timestamp (attempts younger than their timeout
    /// then are pending, not failed).
    pub capture_end: crate::capture::Nanos,
    /// Some device got a DHCP lease in the capture: the network has DHCP.
    pub dhcp_seen: bool,
    /// `profiles` made ready to identify the devices.
    pub identifier: Identifier<'a>,
}

/// The checks' results for one device.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    pub profile: Option<String>,
    pub identified_by: Vec<String>,
    pub requirements: Vec<RequirementReport>,
    pub findings: Vec<Finding>,
    pub summary: Option<String>,
    /// The device's traffic against its profile's destinations.
    pub diff: Option<crate::report::ProfileDiff>,
}

/// Identifies the device and runs its profile's checks (or the checks that
/// need no profile).
pub fn check_device(ctx: &Context<'_>, dev: &DeviceReport) -> Checked {
    let mut c = check(ctx, dev);
    c.findings = merge_repeats(std::mem::take(&mut c.findings));
    c
}

fn check(ctx: &Context<'_>, dev: &DeviceReport) -> Checked {
    match ctx.identifier.identify(dev) {
        Some(m) => {
            let Some(profile) = ctx.profiles.profiles.get(m.index) else {
                return rules::unprofiled(ctx, dev);
            };
            let mut c = rules::profiled(ctx, profile, dev);
            c.profile = Some(profile.id.clone());
            c.identified_by = m.identified_by;
            c
        }
        None => rules::unprofiled(ctx, dev),
    }
}

/// Evidence frames kept on a merged finding.
const MAX_EVIDENCE: usize = 8;

/// One finding per problem: the same failure seen in several sessions (two
/// TLS handshakes refused alike, two CONNECTs rejected) is one finding with
/// its count, time span and frames.
pub fn merge_repeats(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    for f in findings {
        let same = out.iter_mut().find(|o| {
            (
                o.kind,
                &o.requirement,
                o.remote_ip,
                o.port,
                o.how,
                &o.name,
                o.code,
            ) == (
                f.kind,
                &f.requirement,
                f.remote_ip,
                f.port,
                f.how,
                &f.name,
                f.code,
            ) && o.severity == f.severity
        });
        match same {
            Some(o) => {
                o.count += f.count;
                o.first_seen = o.first_seen.min(f.first_seen);
                o.last_seen = o.last_seen.max(f.last_seen);
                for e in f.evidence {
                    if o.evidence.len() < MAX_EVIDENCE && !o.evidence.contains(&e) {
                        o.evidence.push(e);
                    }
                }
                o.evidence.sort();
            }
            None => out.push(f),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Evidence, Kind, Severity};

    #[test]
    fn repeats_merge_into_one_finding() {
        let mk = |frame: u64, ts: i64| {
            let mut f = Finding::new(Kind::TlsFailure, Severity::Error, "aa".into(), "m".into());
            f.port = Some(443);
            f.how = Some("alert");
            f.first_seen = ts;
            f.last_seen = ts;
            f.evidence = vec![Evidence { file: 0, frame }];
            f
        };
        let mut other = mk(9, 5);
        other.port = Some(8443);
        let out = merge_repeats(vec![mk(42, 20), mk(61, 10), other]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].count, 2);
        assert_eq!((out[0].first_seen, out[0].last_seen), (10, 20));
        let frames: Vec<u64> = out[0].evidence.iter().map(|e| e.frame).collect();
        assert_eq!(frames, [42, 61]);
        assert_eq!(out[1].port, Some(8443));
    }
}
