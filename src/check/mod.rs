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
pub mod rules;

use crate::finding::Finding;
use crate::profile::{ProfileSet, Site};
use crate::report::{DeviceReport, RequirementReport};

pub use identify::{identify, Match};

/// What the checks need beyond the device itself.
pub struct Context<'a> {
    pub profiles: &'a ProfileSet,
    pub site: &'a Site,
    /// The capture's last timestamp (attempts younger than their timeout
    /// then are pending, not failed).
    pub capture_end: crate::capture::Nanos,
    /// Some device got a DHCP lease in the capture: the network has DHCP.
    pub dhcp_seen: bool,
}

/// The checks' results for one device.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    pub profile: Option<String>,
    pub identified_by: Vec<String>,
    pub requirements: Vec<RequirementReport>,
    pub findings: Vec<Finding>,
    pub summary: Option<String>,
}

/// Identifies the device and runs its profile's checks (or the checks that
/// need no profile).
pub fn check_device(ctx: &Context<'_>, dev: &DeviceReport) -> Checked {
    match identify(ctx.profiles, dev) {
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
