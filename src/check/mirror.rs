//! The mirror self-check: what the capture point can and cannot see.
//!
//! A mirror (SPAN) port may copy one direction only, one switch port
//! instead of the uplink, strip or keep VLAN tags, and leave out
//! broadcasts. The verdicts of the profile checks already read
//! `not_observed` instead of `fail` for a device whose replies are missing
//! ([`super::rules::one_way`]); this is the same judgement for the capture
//! as a whole, so a reader knows what a quiet requirement means before
//! reading any device. It is read from the report's devices, so an offline
//! capture gets it too; the live sensor adds the broadcast frames it
//! counted.

use crate::report::DeviceReport;
use serde::Serialize;

/// What the capture shows of the mirror.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Mirror {
    /// Local hosts that sent something.
    pub hosts: usize,
    /// TCP destinations (per device) seen with packets both ways, only from
    /// the device, only towards it.
    pub tcp_two_way: u64,
    pub tcp_outbound_only: u64,
    pub tcp_inbound_only: u64,
    /// Both directions of traffic are visible (`null`: no TCP to tell by).
    pub both_directions: Option<bool>,
    /// Devices of which only their own packets are visible.
    pub one_way_devices: Vec<String>,
    /// A DHCP client's broadcast (DISCOVER or REQUEST) was seen.
    pub dhcp_broadcast_seen: bool,
    /// Frames to the broadcast address (live capture only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broadcast_frames: Option<u64>,
    /// VLAN ids on the frames (empty: untagged).
    pub vlans: Vec<u16>,
    /// Only one host's traffic is visible.
    pub single_host: bool,
    pub can_see: Vec<String>,
    pub cannot_see: Vec<String>,
    /// One sentence.
    pub verdict: String,
}

/// Judges the mirror from the report's devices (and, live, the count of
/// broadcast frames).
pub fn assess(devices: &[DeviceReport], broadcast_frames: Option<u64>) -> Mirror {
    let mut m = Mirror {
        broadcast_frames,
        ..Default::default()
    };
    for d in devices {
        if d.packets_sent > 0 {
            m.hosts += 1;
        }
        for dest in d.destinations.iter().filter(|x| x.proto == "tcp") {
            match (dest.packets_out > 0, dest.packets_back > 0) {
                (true, true) => m.tcp_two_way += 1,
                (true, false) => m.tcp_outbound_only += 1,
                (false, true) => m.tcp_inbound_only += 1,
                (false, false) => {}
            }
        }
        if super::rules::one_way(d) && !d.destinations.is_empty() {
            m.one_way_devices.push(d.id());
        }
        if d.dhcp.as_ref().is_some_and(|x| {
            x.messages.contains_key("DISCOVER") || x.messages.contains_key("REQUEST")
        }) {
            m.dhcp_broadcast_seen = true;
        }
        for v in &d.vlans {
            if !m.vlans.contains(v) {
                m.vlans.push(*v);
            }
        }
    }
    m.vlans.sort_unstable();
    let tcp = m.tcp_two_way + m.tcp_outbound_only + m.tcp_inbound_only;
    m.both_directions = (tcp > 0).then_some(m.tcp_two_way > 0);
    m.single_host = m.hosts == 1;

    let (can, cannot) = (&mut m.can_see, &mut m.cannot_see);
    match m.both_directions {
        Some(true) => can.push("both directions of traffic".into()),
        Some(false) if m.tcp_outbound_only > 0 && m.tcp_inbound_only == 0 => cannot.push(
            "replies: only packets from the devices are copied (a one-way mirror?), so a \
             missing answer reads not_observed, not blocked"
                .into(),
        ),
        Some(false) => {
            cannot.push("both directions: no TCP conversation was seen both ways".into())
        }
        None => cannot.push("TCP yet: too little traffic to judge the directions".into()),
    }
    if m.both_directions == Some(true) && !m.one_way_devices.is_empty() {
        cannot.push(format!(
            "replies to {} (only their own packets are copied)",
            m.one_way_devices.join(", ")
        ));
    }
    if m.dhcp_broadcast_seen {
        can.push("broadcast DHCP".into());
    } else {
        cannot
            .push("DHCP yet (none seen: leases renew rarely, or broadcasts are not copied)".into());
    }
    match m.broadcast_frames {
        Some(0) => cannot.push("broadcast frames (none seen)".into()),
        Some(n) => can.push(format!("broadcast frames ({n})")),
        None => {}
    }
    if m.vlans.is_empty() {
        can.push("untagged frames (no VLAN tags)".into());
    } else {
        let ids: Vec<String> = m.vlans.iter().map(|v| v.to_string()).collect();
        can.push(format!("VLAN tags {}", ids.join(", ")));
    }
    match m.hosts {
        0 => cannot.push("any host yet".into()),
        1 => cannot.push(
            "other hosts: only one host's traffic is copied (a mirror of one port, not the uplink?)"
                .into(),
        ),
        n => can.push(format!("{n} hosts")),
    }
    m.verdict = match (m.both_directions, m.single_host) {
        _ if m.hosts == 0 => "nothing seen yet".into(),
        (Some(false), _) if m.tcp_outbound_only > 0 && m.tcp_inbound_only == 0 => {
            "one-way mirror: only traffic from the devices is visible; answers cannot be judged"
                .into()
        }
        (Some(false), _) => "one-way mirror: no conversation is visible both ways".into(),
        (_, true) => "single-port mirror: only one host's traffic is visible".into(),
        (Some(true), false) if !m.one_way_devices.is_empty() => format!(
            "two-way mirror, but {} device(s) show only their own packets",
            m.one_way_devices.len()
        ),
        (Some(true), false) => format!("two-way mirror: both directions, {} hosts", m.hosts),
        (None, false) => format!("{} hosts, no TCP yet to judge the directions", m.hosts),
    };
    m
}
