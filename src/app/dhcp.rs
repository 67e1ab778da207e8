//! DHCPv4: each client's conversation, recorded under the client's MAC
//! (chaddr, which a relay does not change), leases noted so a leased
//! address counts as local, and transactions timed out in capture time:
//! a DISCOVER with no OFFER, a REQUEST with no ACK, a NAK.

use super::AppLayer;
use crate::capture::Nanos;
use crate::decode::Mac;
use crate::device::facts::{push_evidence, DhcpFacts, DhcpOpen as Open, Seen};
use crate::device::Inventory;
use crate::flow::FrameRef;
use crate::proto::dhcp::{self, MessageType};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

/// Open transactions kept per client.
const MAX_OPEN: usize = 16;
const MAX_LIST: usize = 8;

pub(super) fn on_message(
    app: &mut AppLayer,
    payload: &[u8],
    ts: Nanos,
    frame: FrameRef,
    inv: &mut Inventory,
) {
    let d = match dhcp::parse(payload) {
        Ok(d) => d,
        Err(_) => {
            app.count("dhcp", false);
            return;
        }
    };
    // DHCP options end with the end option (RFC 2131 §4.1); plain BOOTP
    // (no cookie) has none. What was read before the damage is kept.
    app.count("dhcp", !d.malformed && (d.ended || !d.cookie));
    let (Some(mac), Some(mt)) = (d.mac(), d.message_type()) else {
        return;
    };
    let mac = Mac(mac);
    if !mac.is_unicast() {
        return;
    }
    let yiaddr = (!d.yiaddr.is_unspecified()).then_some(d.yiaddr);
    if mt == MessageType::ACK {
        if let Some(ip) = yiaddr {
            inv.note_lease(IpAddr::V4(ip), mac);
        }
    }
    let Some(obs) = inv.mac_mut(mac, ts, frame) else {
        return;
    };
    let f = obs.facts_mut().dhcp_mut(ts);
    let at = Some(Seen::new(ts, frame));
    // Sets a value, noting when (a merge of shards keeps the later).
    macro_rules! set {
        ($field:ident, $v:expr) => {{
            f.$field = $v;
            f.seen.$field = at;
        }};
    }
    *f.messages.entry(mt.name().unwrap_or("OTHER")).or_default() += 1;
    let text = |b: Option<&[u8]>| {
        b.map(|b| {
            String::from_utf8_lossy(b)
                .chars()
                .take(128)
                .collect::<String>()
        })
    };
    let ips = |b: Option<&[u8]>| -> Vec<Ipv4Addr> {
        b.map(|b| dhcp::ips(b).take(MAX_LIST).collect())
            .unwrap_or_default()
    };
    match mt {
        MessageType::DISCOVER | MessageType::REQUEST | MessageType::INFORM => {
            if let Some(h) = text(d.hostname()) {
                set!(hostname, Some(h));
            }
            if let Some(v) = text(d.vendor_class()) {
                set!(vendor_class, Some(v));
            }
            if let Some(p) = d.param_request_list() {
                set!(parameter_request_list, p.iter().copied().take(64).collect());
            }
            if let Some(r) = d.requested_ip() {
                set!(requested_ip, Some(r));
            }
            if let Some(u) = d.mud_url_str() {
                set!(mud_url, Some(u.chars().take(512).collect()));
            }
            if let Some(q) = d.client_fqdn() {
                let name: Vec<String> = q
                    .labels()
                    .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
                    .collect();
                if !name.is_empty() {
                    set!(client_fqdn, Some(name.join(".")));
                }
            }
            if mt == MessageType::REQUEST {
                // A REQUEST in the DISCOVER's transaction answers an OFFER
                // the capture missed (another segment, the WiFi side).
                f.open
                    .retain(|o| !(o.xid == d.xid && o.kind == MessageType::DISCOVER.0));
            }
            if mt != MessageType::INFORM {
                open(f, d.xid, mt.0, ts, frame);
                app.dhcp_waiting.insert(mac);
            }
        }
        MessageType::OFFER | MessageType::ACK | MessageType::NAK => {
            let closes = match mt {
                MessageType::OFFER => MessageType::DISCOVER.0,
                _ => MessageType::REQUEST.0,
            };
            let pending = f
                .open
                .iter()
                .position(|o| o.xid == d.xid && o.kind == closes);
            if let Some(i) = pending {
                f.open.remove(i);
            }
            if mt == MessageType::NAK {
                f.naks += 1;
                push_evidence(&mut f.evidence, frame);
                return;
            }
            if mt == MessageType::OFFER {
                set!(offered_ip, yiaddr);
            } else if yiaddr.is_some() {
                set!(leased_ip, yiaddr);
            }
            if let Some(s) = d.server_id() {
                set!(server, Some(s));
            }
            if let Some(m) = d.subnet_mask() {
                set!(subnet_mask, Some(m));
            }
            let routers = ips(d.opts.routers);
            if !routers.is_empty() {
                set!(routers, routers);
            }
            let dns_servers = ips(d.opts.dns_servers);
            if !dns_servers.is_empty() {
                set!(dns_servers, dns_servers);
            }
            let ntp_servers = ips(d.opts.ntp_servers);
            if !ntp_servers.is_empty() {
                set!(ntp_servers, ntp_servers);
            }
            if let Some(t) = d.lease_time() {
                set!(lease_time, Some(t));
            }
        }
        _ => {}
    }
}

fn open(f: &mut DhcpFacts, xid: u32, kind: u8, ts: Nanos, frame: FrameRef) {
    // A retransmission of an open transaction is the same attempt.
    if f.open.iter().any(|o| o.xid == xid && o.kind == kind) {
        return;
    }
    if f.open.len() >= MAX_OPEN {
        f.open.remove(0);
    }
    f.open.push(Open {
        xid,
        kind,
        ts,
        frame,
    });
}

/// Transactions opened before `before` and never answered have failed.
/// Only the clients in `waiting` have any open; those left with none drop
/// out of it.
pub(super) fn expire(
    waiting: &mut HashSet<Mac, crate::device::Fast>,
    inv: &mut Inventory,
    before: Nanos,
) {
    waiting.retain(|mac| {
        let Some(f) = inv
            .macs
            .get_mut(mac)
            .and_then(|o| o.facts.as_mut())
            .and_then(|f| f.dhcp.as_mut())
        else {
            return false;
        };
        let mut kept = Vec::new();
        for o in f.open.drain(..) {
            if o.ts >= before {
                kept.push(o);
                continue;
            }
            if o.kind == MessageType::DISCOVER.0 {
                f.discovers_unanswered += 1;
            } else {
                f.requests_unanswered += 1;
            }
            push_evidence(&mut f.evidence, o.frame);
        }
        f.open = kept;
        !f.open.is_empty()
    });
}
