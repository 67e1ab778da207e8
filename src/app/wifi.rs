//! 802.11, from radiotap or raw 802.11 captures and from CAPWAP data
//! tunnels: access points from their beacons (SSID, channel: DS parameter
//! set, else HT operation, else the radiotap frequency), and stations from
//! authentication, association and data frames, joined to their BSS. A
//! station's MAC is the same device as on the wire, so a monitor capture
//! beside a wired one tells which channel each wired device is on.

use super::AppLayer;
use crate::capture::{Frame, LinkType, Nanos};
use crate::decode::Mac;
use crate::device::facts::{push_evidence, Seen, WifiFacts};
use crate::device::Inventory;
use crate::flow::FrameRef;
use crate::proto::wifi::{self, FrameKind};

/// BSSs remembered, at most.
const MAX_BSS: usize = 4096;

/// What a beacon said of its BSS.
#[derive(Debug, Clone, Default)]
pub(super) struct Bss {
    ssid: Option<String>,
    channel: Option<u16>,
    freq: Option<u16>,
}

/// A frame from an 802.11 link type.
pub(super) fn on_frame(
    app: &mut AppLayer,
    link: LinkType,
    bytes: &[u8],
    ts: Nanos,
    frame: FrameRef,
    inv: &mut Inventory,
) {
    if link == LinkType::RADIOTAP {
        match wifi::parse_radiotap(bytes) {
            Ok(rt) => {
                app.count("radiotap", true);
                if rt.bad_fcs() {
                    return;
                }
                on_dot11(
                    app,
                    rt.frame_without_fcs(),
                    false,
                    rt.channel_freq,
                    ts,
                    frame,
                    inv,
                );
            }
            Err(_) => app.count("radiotap", false),
        }
    } else {
        on_dot11(app, bytes, false, None, ts, frame, inv);
    }
}

/// One 802.11 frame; `tunnelled` frames (CAPWAP) may carry their frame
/// control bytes swapped, as Cisco controllers send them.
pub(super) fn on_dot11(
    app: &mut AppLayer,
    bytes: &[u8],
    tunnelled: bool,
    freq: Option<u16>,
    ts: Nanos,
    frame: FrameRef,
    inv: &mut Inventory,
) {
    let parsed = match wifi::parse_dot11(bytes) {
        Ok(d) if !tunnelled || d.fc.version() == 0 && !d.malformed => Ok(d),
        first => {
            if tunnelled {
                wifi::parse_dot11_swapped_fc(bytes).or(first)
            } else {
                first
            }
        }
    };
    let d = match parsed {
        Ok(d) => d,
        Err(_) => {
            app.count("802.11", false);
            return;
        }
    };
    app.count("802.11", !d.malformed);
    match d.kind {
        FrameKind::Beacon | FrameKind::ProbeResponse => {
            let Some(bssid) = d.bssid.map(Mac) else {
                return;
            };
            let channel = d
                .channel()
                .map(u16::from)
                .or_else(|| freq.and_then(wifi::freq_to_channel));
            let ssid = d
                .ssid
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned());
            if app.bss.len() < MAX_BSS || app.bss.contains_key(&bssid) {
                app.bss.insert(
                    bssid,
                    Bss {
                        ssid: ssid.clone(),
                        channel,
                        freq,
                    },
                );
            }
            let at = Seen::new(ts, frame);
            let Some(w) = wifi_of(inv, bssid, bssid, at) else {
                return;
            };
            w.access_point = true;
            w.set_ssid(ssid, at);
            w.set_channel(channel, freq, at);
            push_evidence(&mut w.evidence, frame);
        }
        FrameKind::Authentication
        | FrameKind::AssocRequest
        | FrameKind::AssocResponse
        | FrameKind::ReassocRequest
        | FrameKind::ReassocResponse
        | FrameKind::Data(_) => {
            let (Some(station), Some(bssid)) = (d.station.map(Mac), d.bssid.map(Mac)) else {
                return;
            };
            if !station.is_unicast() || station == bssid {
                return;
            }
            let bss = app.bss.get(&bssid).cloned().unwrap_or_default();
            let ssid = d
                .ssid
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .or(bss.ssid);
            let at = Seen::new(ts, frame);
            let Some(w) = wifi_of(inv, station, bssid, at) else {
                return;
            };
            w.set_ssid(ssid, at);
            w.set_channel(
                bss.channel.or(freq.and_then(wifi::freq_to_channel)),
                bss.freq.or(freq),
                at,
            );
            push_evidence(&mut w.evidence, frame);
            // DHCP from a wireless client inside a tunnel (a monitor
            // capture's data frames are decoded as packets instead).
            if let (true, Some((0x0800, ip))) = (tunnelled, d.llc_payload()) {
                let inner = Frame {
                    file: frame.file,
                    number: frame.number,
                    ts,
                    link: LinkType::RAW,
                    orig_len: ip.len() as u32,
                    data: ip,
                };
                super::udp::inner_dhcp(app, &inner, ts, frame, inv);
            }
        }
        _ => {}
    }
}

/// The WiFi facts of `mac`, seen at `at` in the BSS `bssid`.
fn wifi_of(inv: &mut Inventory, mac: Mac, bssid: Mac, at: Seen) -> Option<&mut WifiFacts> {
    let f = inv.mac_mut(mac, at.ts, at.frame)?.facts_mut();
    let w = f.wifi.get_or_insert_with(Default::default);
    w.note_frame(at, bssid.to_string());
    Some(w)
}
