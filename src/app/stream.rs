//! TCP: the first bytes of each direction, recognised by what they hold
//! (on any port): a TLS ClientHello and the server's flight (version,
//! certificate, alerts), an HTTP request head and its status line, an MQTT
//! CONNECT and its CONNACK, SSH banners; and DNS over TCP on port 53.

use super::{client_facts, dns, normalise_name, AppLayer, AppProto, FlowApp, Half};
use crate::capture::Nanos;
use crate::decode::{Packet, Tcp};
use crate::device::facts::{
    push_capped, push_evidence, source, Addr, HttpRequest, MqttSession, Seen, SshBanner, TlsSession,
};
use crate::device::Inventory;
use crate::flow::reasm::{Insert, StreamBuf};
use crate::flow::{Dir, Flow, FrameRef};
use crate::proto::{http, mqtt, ssh, tls};

/// How much of a client's stream is kept to find its first message.
const CLIENT_LIMIT: usize = 16 * 1024;
/// How much of a server's stream is kept (a certificate chain fits).
const SERVER_LIMIT: usize = 64 * 1024;

/// What a parse of the stream so far says.
enum Step {
    /// Got what this direction can give.
    Done,
    /// The message continues in later segments.
    More,
}

/// Feeds one segment to a half-stream; `parse` sees the in-order bytes.
fn feed(
    half: &mut Half,
    seq: u32,
    payload: &[u8],
    limit: usize,
    mut parse: impl FnMut(&[u8]) -> Step,
) {
    if half.done {
        return;
    }
    half.segments += 1;
    if half.segments > super::MAX_SEGMENTS {
        half.done = true;
        half.buf = None;
        return;
    }
    match &mut half.buf {
        None => match parse(payload) {
            Step::Done => half.done = true,
            Step::More => {
                let mut b = StreamBuf::new(seq, limit);
                b.insert(seq, payload);
                half.buf = Some(Box::new(b));
            }
        },
        Some(b) => {
            if let Insert::Advanced { .. } = b.insert(seq, payload) {
                let done = matches!(parse(b.contiguous()), Step::Done) || b.is_full();
                if done {
                    half.done = true;
                    half.buf = None;
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn on_tcp(
    app: &mut AppLayer,
    flow: &mut Flow,
    dir: Dir,
    t: Tcp,
    pkt: &Packet<'_>,
    ts: Nanos,
    frame: FrameRef,
    inv: &mut Inventory,
) {
    if t.sport == 53 || t.dport == 53 {
        // DNS over TCP: each length-prefixed message in the segment.
        let path = dns::Path {
            src_mac: pkt.src_mac,
            dst_mac: pkt.dst_mac,
            src: pkt.ip.map(|i| i.src).unwrap_or(flow.client_ip()),
            dst: pkt.ip.map(|i| i.dst).unwrap_or(flow.server_ip()),
            sport: t.sport,
            dport: t.dport,
            mdns: false,
        };
        for msg in crate::proto::dns::tcp_messages(pkt.payload) {
            dns::on_message(app, msg, &path, ts, frame, inv);
        }
        return;
    }
    if flow.streams_done {
        return;
    }
    let mut fa = flow.app.take().unwrap_or_default();
    if !(fa.client.done && fa.server.done) {
        let server = (flow.server_ip(), flow.server.port);
        let mut learned = Learned::None;
        if dir == Dir::Out {
            feed(&mut fa.client, t.seq, pkt.payload, CLIENT_LIMIT, |bytes| {
                client_bytes(bytes, &mut app.tls_scratch, &mut learned)
            });
            record_client(app, &mut fa, learned, server, flow, ts, frame, inv);
        } else {
            let proto = fa.proto;
            feed(&mut fa.server, t.seq, pkt.payload, SERVER_LIMIT, |bytes| {
                server_bytes(proto, bytes, &mut app.tls_scratch, &mut learned)
            });
            record_server(app, &mut fa, learned, flow, ts, frame, inv);
        }
    }
    flow.streams_done = fa.client.done && fa.server.done;
    flow.app = Some(fa);
}

/// What a parse found, in owned form, to record after the borrow ends.
/// The sessions are boxed: every TCP segment with a payload makes one of
/// these and hands it on, mostly as `None`, and with a 500-byte session in
/// place each hand-off copied the whole enum (214,000 copies of about 400
/// bytes on the 1M-packet site mix).
enum Learned {
    None,
    /// The session, and whether the hello was well-formed throughout.
    ClientHello(Box<TlsSession>, bool),
    Request(Box<HttpRequest>),
    Connect(Box<MqttSession>),
    Banner(String),
    ServerFlight(Box<TlsSession>),
    Connack(u8),
    Status(u16),
    Malformed(&'static str),
}

fn client_bytes(bytes: &[u8], scratch: &mut Vec<u8>, out: &mut Learned) -> Step {
    if bytes.first() == Some(&0x16) {
        match tls::client_hello_len(bytes) {
            tls::Need::More(_) => return Step::More,
            tls::Need::Complete(_) => {
                match tls::parse_client_hello(bytes, scratch) {
                    // A hello with an extension that did not parse is
                    // kept (its fields are left empty) and counted as
                    // malformed.
                    Ok(ch) => {
                        *out = Learned::ClientHello(
                            Box::new(session_from_hello(&ch, "tcp")),
                            ch.bad_extension.is_none(),
                        )
                    }
                    Err(_) => *out = Learned::Malformed("tls"),
                }
                return Step::Done;
            }
            tls::Need::TooLarge => {
                *out = Learned::Malformed("tls");
                return Step::Done;
            }
            // A ClientHello record whose lengths cannot be: TLS, malformed.
            tls::Need::NotTls if tls::looks_like_client_hello(bytes) => {
                *out = Learned::Malformed("tls");
                return Step::Done;
            }
            tls::Need::NotTls => {}
        }
    }
    if http::looks_like_request(bytes) {
        return match http::parse_request(bytes) {
            Ok(r) if !r.complete && r.host.is_none() && bytes.len() < http::MAX_HEAD_LEN => {
                Step::More
            }
            Ok(r) => {
                *out = Learned::Request(Box::new(HttpRequest {
                    method: r.method.to_string(),
                    host: r.host.map(str::to_string),
                    target: r.target.chars().take(256).collect(),
                    user_agent: r.user_agent.map(|u| u.chars().take(256).collect()),
                    ..Default::default()
                }));
                Step::Done
            }
            Err(_) => {
                *out = Learned::Malformed("http");
                Step::Done
            }
        };
    }
    if mqtt::looks_like_connect(bytes) {
        return match mqtt::parse_connect(bytes) {
            Ok(c) => {
                *out = Learned::Connect(Box::new(MqttSession {
                    protocol: c.protocol_name.to_string(),
                    level: c.level,
                    client_id: String::from_utf8_lossy(c.client_id).into_owned(),
                    username: c.username.map(|u| String::from_utf8_lossy(u).into_owned()),
                    keep_alive: c.keep_alive,
                    ..Default::default()
                }));
                Step::Done
            }
            Err(crate::proto::ParseError::Truncated { .. }) => Step::More,
            Err(_) => {
                *out = Learned::Malformed("mqtt");
                Step::Done
            }
        };
    }
    if ssh::looks_like_banner(bytes) {
        if let Some(b) = ssh::parse_banner(bytes) {
            *out = Learned::Banner(b.software.to_string());
        }
        return Step::Done;
    }
    Step::Done
}

fn server_bytes(proto: AppProto, bytes: &[u8], scratch: &mut Vec<u8>, out: &mut Learned) -> Step {
    match proto {
        AppProto::Tls => {
            let flight = tls::parse_flight(bytes, scratch);
            let mut s = TlsSession::default();
            if let Some(sh) = &flight.server_hello {
                s.version = Some(version_name(sh.version()));
            }
            if let Some(info) = flight.certificates.first().and_then(|c| c.info.as_ref()) {
                s.subject = Some(info.subject.clone());
                s.issuer = Some(info.issuer.clone());
                s.san = info
                    .san_dns
                    .iter()
                    .take(32)
                    .map(|n| n.to_string())
                    .collect();
                s.not_before = Some(info.not_before);
                s.not_after = Some(info.not_after);
            }
            s.chain_len = flight.certificates.len() as u32;
            s.chain_der = crate::trust::bounded_chain(flight.certificates.iter().map(|c| c.der));
            s.alerts = flight.alerts.iter().map(|a| a.name().to_string()).collect();
            s.fatal_alert = flight
                .alerts
                .iter()
                .find(|a| a.is_fatal())
                .map(|a| a.name().to_string());
            // A warning alert (e.g. unrecognized_name before the
            // ServerHello) does not end the handshake: read on.
            let finished = flight.encrypted
                || flight.alerts.iter().any(|a| a.is_fatal())
                || flight.error.is_some()
                || (flight.server_hello.is_some()
                    && !flight.truncated
                    && !flight.certificates.is_empty());
            *out = Learned::ServerFlight(Box::new(s));
            if finished {
                Step::Done
            } else {
                Step::More
            }
        }
        AppProto::Mqtt => {
            match mqtt::parse_connack(bytes) {
                Ok(c) => *out = Learned::Connack(c.code),
                Err(crate::proto::ParseError::Truncated { .. }) => return Step::More,
                Err(_) => *out = Learned::Malformed("mqtt"),
            }
            Step::Done
        }
        AppProto::Http => {
            if let Some(st) = http::parse_response_status(bytes) {
                *out = Learned::Status(st.code);
            }
            Step::Done
        }
        _ => {
            // SSH servers speak first; anything else is not ours to read.
            if ssh::looks_like_banner(bytes) {
                if let Some(b) = ssh::parse_banner(bytes) {
                    *out = Learned::Banner(b.software.to_string());
                }
            }
            Step::Done
        }
    }
}

fn version_name(v: u16) -> std::borrow::Cow<'static, str> {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        other => format!("0x{other:04x}").into(),
    }
}

/// A session record from a ClientHello (TCP or QUIC).
pub(super) fn session_from_hello(ch: &tls::ClientHello<'_>, transport: &'static str) -> TlsSession {
    let mut sni = String::new();
    if let Some(n) = ch.sni {
        normalise_name(n, &mut sni);
    }
    let t = if transport == "quic" {
        tls::Transport::Quic
    } else {
        tls::Transport::Tcp
    };
    TlsSession {
        transport,
        sni: (!sni.is_empty()).then_some(sni),
        alpn: ch
            .alpn
            .iter()
            .take(8)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
        offered_versions: ch
            .supported_versions
            .iter()
            .filter(|v| !tls::is_grease(**v))
            .map(|v| version_name(*v))
            .collect(),
        ja4: Some(tls::ja4_cached(ch, t)),
        ..Default::default()
    }
}

/// Names a flow and notes the name on its device.
pub(super) fn name_flow(fa: &mut FlowApp, name: &str, src: u8) {
    if fa.name.as_deref() != Some(name) {
        fa.name = Some(name.into());
    }
    fa.name_source |= src;
}

#[allow(clippy::too_many_arguments)]
fn record_client(
    app: &mut AppLayer,
    fa: &mut FlowApp,
    learned: Learned,
    server: (std::net::IpAddr, u16),
    flow: &Flow,
    ts: Nanos,
    frame: FrameRef,
    inv: &mut Inventory,
) {
    let Some(f) = client_facts(inv, flow) else {
        if let Learned::Malformed(p) = learned {
            app.count(p, false);
        }
        return;
    };
    match learned {
        Learned::None => {}
        Learned::Malformed(p) => app.count(p, false),
        Learned::ClientHello(mut s, well_formed) => {
            app.count("tls", well_formed);
            fa.proto = AppProto::Tls;
            (s.server, s.port, s.ts) = (Addr(server.0), server.1, ts);
            push_evidence(&mut s.evidence, frame);
            if let Some(sni) = &s.sni {
                f.note_name(sni, source::SNI);
                name_flow(fa, sni, source::SNI);
            }
            if push_capped(&mut f.tls, *s, &mut f.sessions_dropped) {
                fa.session = Some(f.tls.len() - 1);
            }
        }
        Learned::Request(mut r) => {
            app.count("http", true);
            fa.proto = AppProto::Http;
            (r.server, r.port, r.seen) = (Addr(server.0), server.1, Seen::new(ts, frame));
            if let Some(h) = &r.host {
                let mut host = String::new();
                normalise_name(http::host_without_port(h), &mut host);
                // An address literal is not a name.
                if host.parse::<std::net::IpAddr>().is_err() {
                    f.note_name(&host, source::HTTP);
                    name_flow(fa, &host, source::HTTP);
                }
            }
            if push_capped(&mut f.http, *r, &mut f.sessions_dropped) {
                fa.session = Some(f.http.len() - 1);
            }
        }
        Learned::Connect(mut m) => {
            app.count("mqtt", true);
            fa.proto = AppProto::Mqtt;
            (m.server, m.port, m.ts) = (Addr(server.0), server.1, ts);
            push_evidence(&mut m.evidence, frame);
            if let Some(n) = fa.name.clone() {
                f.note_name(&n, source::MQTT);
                fa.name_source |= source::MQTT;
            }
            if push_capped(&mut f.mqtt, *m, &mut f.sessions_dropped) {
                fa.session = Some(f.mqtt.len() - 1);
            }
        }
        Learned::Banner(sw) => {
            app.count("ssh", true);
            fa.proto = AppProto::Ssh;
            match fa.session.and_then(|i| f.ssh.get_mut(i)) {
                Some(b) => b.client = Some(sw),
                None => {
                    let b = SshBanner {
                        peer: Addr(server.0),
                        port: server.1,
                        client: Some(sw),
                        server: None,
                        seen: Seen::new(ts, frame),
                    };
                    if push_capped(&mut f.ssh, b, &mut f.sessions_dropped) {
                        fa.session = Some(f.ssh.len() - 1);
                    }
                }
            }
        }
        Learned::ServerFlight(_) | Learned::Connack(_) | Learned::Status(_) => {}
    }
    if fa.proto == AppProto::Unknown && fa.client.done {
        fa.proto = AppProto::Other;
        fa.server.done = true;
    }
}

#[allow(clippy::too_many_arguments)]
fn record_server(
    app: &mut AppLayer,
    fa: &mut FlowApp,
    learned: Learned,
    flow: &Flow,
    ts: Nanos,
    frame: FrameRef,
    inv: &mut Inventory,
) {
    let idx = fa.session;
    let Some(f) = client_facts(inv, flow) else {
        return;
    };
    match learned {
        Learned::ServerFlight(s) => {
            let s = *s;
            if let Some(t) = idx.and_then(|i| f.tls.get_mut(i)) {
                if s.version.is_some() {
                    t.version = s.version;
                }
                if s.subject.is_some() {
                    (t.subject, t.issuer, t.san) = (s.subject, s.issuer, s.san);
                    (t.not_before, t.not_after, t.chain_len) =
                        (s.not_before, s.not_after, s.chain_len);
                }
                if !s.chain_der.is_empty() {
                    t.chain_der = s.chain_der;
                }
                // Each parse reads the flight from its start: its alerts
                // include those of earlier parses.
                if s.fatal_alert.is_some() {
                    t.fatal_alert = s.fatal_alert;
                }
                if !s.alerts.is_empty() {
                    t.alerts = s.alerts;
                    t.alerts.truncate(8);
                }
                push_evidence(&mut t.evidence, frame);
            }
        }
        Learned::Connack(code) => {
            app.count("mqtt", true);
            if let Some(m) = idx.and_then(|i| f.mqtt.get_mut(i)) {
                m.connack_code = Some(code);
                m.connack = Some(mqtt::connack_code_name(m.level, code));
                push_evidence(&mut m.evidence, frame);
            }
        }
        Learned::Status(code) => {
            if let Some(r) = idx.and_then(|i| f.http.get_mut(i)) {
                r.status = Some(code);
            }
        }
        Learned::Banner(sw) => {
            app.count("ssh", true);
            fa.proto = AppProto::Ssh;
            match idx.and_then(|i| f.ssh.get_mut(i)) {
                Some(b) => b.server = Some(sw),
                None => {
                    let b = SshBanner {
                        peer: Addr(flow.server_ip()),
                        port: flow.server.port,
                        client: None,
                        server: Some(sw),
                        seen: Seen::new(ts, frame),
                    };
                    if push_capped(&mut f.ssh, b, &mut f.sessions_dropped) {
                        fa.session = Some(f.ssh.len() - 1);
                    }
                }
            }
            // The client's banner follows: keep reading its side.
            fa.client.done = false;
        }
        Learned::Malformed(p) => app.count(p, false),
        _ => {}
    }
}
