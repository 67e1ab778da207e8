//! UDP: DNS and mDNS, NTP, DHCP, QUIC Initials and CAPWAP, chosen by port
//! (QUIC by its long header on port 443).

use super::{client_facts, dhcp, dns, stream, AppLayer, AppProto};
use crate::capture::{Frame, LinkType, Nanos};
use crate::decode::Packet;
use crate::device::facts::{push_capped, push_evidence, source, Addr, CapwapPeer, Seen};
use crate::device::Inventory;
use crate::flow::{Dir, Flow, FrameRef};
use crate::proto::{capwap, ntp, quic, tls};

#[allow(clippy::too_many_arguments)]
pub(super) fn on_udp(
    app: &mut AppLayer,
    flow: &mut Flow,
    dir: Dir,
    sport: u16,
    dport: u16,
    pkt: &Packet<'_>,
    ts: Nanos,
    frame: FrameRef,
    inv: &mut Inventory,
) {
    let Some(ip) = pkt.ip else { return };
    let has = |p: u16| sport == p || dport == p;
    if has(53) || has(5353) {
        let path = dns::Path {
            src_mac: pkt.src_mac,
            dst_mac: pkt.dst_mac,
            src: ip.src,
            dst: ip.dst,
            sport,
            dport,
            mdns: has(5353),
        };
        dns::on_message(app, pkt.payload, &path, ts, frame, inv);
    } else if has(67) || has(68) {
        dhcp::on_message(app, pkt.payload, ts, frame, inv);
    } else if has(123) {
        on_ntp(app, flow, dir, pkt.payload, ts, frame, inv);
    } else if has(5246) || has(5247) {
        on_capwap(app, flow, pkt.payload, ts, frame, inv);
    } else if dport == 443 && dir == Dir::Out && quic::looks_like_initial(pkt.payload) {
        on_quic(app, flow, pkt.payload, ts, frame, inv);
    }
}

fn on_ntp(
    app: &mut AppLayer,
    flow: &Flow,
    dir: Dir,
    payload: &[u8],
    ts: Nanos,
    frame: FrameRef,
    inv: &mut Inventory,
) {
    let h = match ntp::parse_header(payload) {
        Ok(h) => h,
        Err(_) => {
            // Control (mode 6) and private (mode 7) packets are NTP too.
            app.count("ntp", ntp::parse(payload).is_ok());
            return;
        }
    };
    app.count("ntp", true);
    let server = flow.server_ip();
    let Some(s) = client_facts(inv, flow).and_then(|f| f.ntp_server(server, ts)) else {
        return;
    };
    let at = Seen::new(ts, frame);
    s.note_packet(at, h.version, ntp::mode_name(h.mode));
    if dir == Dir::Out && !h.is_reply() {
        s.note_request(at);
    } else if h.is_reply() {
        let kiss = h.kiss_code().filter(|_| h.is_kiss_of_death());
        s.note_reply(at, h.stratum, h.leap, kiss, h.is_unsynchronized());
        // Text only when the server's reference changes, not per reply.
        if s.reference_raw != Some(h.reference_id) {
            s.reference_raw = Some(h.reference_id);
            s.reference_id = h.reference_text().map(str::to_string).or_else(|| {
                let mut text = String::with_capacity(15);
                crate::plain::push_ip(&mut text, &std::net::IpAddr::from(h.reference_id));
                Some(text)
            });
        }
    }
}

fn on_quic(
    app: &mut AppLayer,
    flow: &mut Flow,
    payload: &[u8],
    ts: Nanos,
    frame: FrameRef,
    inv: &mut Inventory,
) {
    let mut fa = flow.app.take().unwrap_or_default();
    if !fa.client.done {
        match quic::parse_client_initial(payload) {
            Ok(Some(init)) => {
                app.count("quic", true);
                let cs = fa.quic.get_or_insert_with(Default::default);
                cs.push_frames(&init.crypto);
                if let Some(msg) = cs.first_handshake_message() {
                    fa.client.done = true;
                    match tls::parse_client_hello_handshake(msg) {
                        Ok(ch) => {
                            let mut s = stream::session_from_hello(&ch, "quic");
                            (s.server, s.port, s.ts) =
                                (Addr(flow.server_ip()), flow.server.port, ts);
                            push_evidence(&mut s.evidence, frame);
                            fa.proto = AppProto::Quic;
                            if let Some(f) = client_facts(inv, flow) {
                                if let Some(sni) = &s.sni {
                                    f.note_name(sni, source::SNI | source::QUIC);
                                    stream::name_flow(&mut fa, sni, source::SNI | source::QUIC);
                                }
                                push_capped(&mut f.tls, s, &mut f.sessions_dropped);
                            }
                        }
                        Err(_) => app.count("tls", false),
                    }
                    fa.quic = None;
                } else if cs.overflowed() {
                    fa.client.done = true;
                    fa.quic = None;
                }
            }
            Ok(None) => {}
            Err(_) => app.count("quic", false),
        }
    }
    flow.app = Some(fa);
}

/// CAPWAP control and data; 802.11 frames a data channel carries are read
/// like a monitor capture's (a wireless client's DHCP inside is seen).
fn on_capwap(
    app: &mut AppLayer,
    flow: &Flow,
    payload: &[u8],
    ts: Nanos,
    frame: FrameRef,
    inv: &mut Inventory,
) {
    let parsed = capwap::parse(payload);
    if let (Ok(msg), Some(f)) = (&parsed, client_facts(inv, flow)) {
        let (peer, port) = (Addr(flow.server_ip()), flow.server.port);
        let i = match f
            .capwap
            .iter()
            .position(|c| c.peer == peer && c.port == port)
        {
            Some(i) => Some(i),
            None => {
                let c = CapwapPeer {
                    peer,
                    port,
                    seen: Seen::new(ts, frame),
                    ..Default::default()
                };
                push_capped(&mut f.capwap, c, &mut f.sessions_dropped).then(|| f.capwap.len() - 1)
            }
        };
        if let Some(c) = i.and_then(|i| f.capwap.get_mut(i)) {
            match msg {
                capwap::Capwap::Dtls(_) => c.dtls += 1,
                capwap::Capwap::Header(h) if port == capwap::CONTROL_PORT => {
                    if let Ok(ctl) = h.control() {
                        *c.control.entry(ctl.message_type_name()).or_default() += 1;
                    }
                }
                capwap::Capwap::Header(_) => c.data += 1,
            }
        }
    }
    match parsed {
        Ok(capwap::Capwap::Header(h)) => {
            app.count("capwap", true);
            if let Some(dot11) = h.ieee80211_frame() {
                super::wifi::on_dot11(app, dot11, true, None, ts, frame, inv);
            } else if let Some(eth) = h.ethernet_frame() {
                let inner = Frame {
                    file: frame.file,
                    number: frame.number,
                    ts,
                    link: LinkType::ETHERNET,
                    orig_len: eth.len() as u32,
                    data: eth,
                };
                inner_dhcp(app, &inner, ts, frame, inv);
            }
        }
        Ok(capwap::Capwap::Dtls(_)) => app.count("capwap", true),
        Err(_) => app.count("capwap", false),
    }
}

/// DHCP inside a tunnel: decoded from the inner frame, recorded for the
/// client MAC it names.
pub(super) fn inner_dhcp(
    app: &mut AppLayer,
    inner: &Frame<'_>,
    ts: Nanos,
    frame: FrameRef,
    inv: &mut Inventory,
) {
    if let Ok(p) = crate::decode::decode(inner) {
        if let crate::decode::L4::Udp { sport, dport } = p.l4 {
            if [sport, dport].iter().any(|p| *p == 67 || *p == 68) {
                dhcp::on_message(app, p.payload, ts, frame, inv);
            }
        }
    }
}
