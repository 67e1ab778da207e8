//! MQTT CONNECT and CONNACK: enough to name a client and see whether the
//! broker let it in.
//!
//! We parse these two packets ourselves rather than use `mqttbytes`: that
//! crate is no longer maintained, copies every packet into a `BytesMut`, and
//! rejects MQTT 3.1 (protocol name `MQIsdp`), which real devices still speak.
//! (`mqttrs`, the other candidate, panics on malformed CONNECTs.) This parser
//! borrows from the payload, allocates nothing and reads every byte through
//! [`Cursor`].
//!
//! Versions: 3.1 (`MQIsdp`, level 3), 3.1.1 (`MQTT`, level 4) and 5.0
//! (`MQTT`, level 5). MQTT is recognised on any port by the CONNECT that
//! opens the client's stream: fixed header `0x10`, a remaining-length
//! varint, then the protocol name ([`looks_like_connect`]).
//!
//! Contract and bounds:
//! - input is the start of one direction of a TCP stream (or a segment that
//!   starts at a packet boundary); only the first packet is read, so bytes
//!   past its remaining length (the next packet) are ignored;
//! - the remaining length is a varint of at most [`MAX_VARINT_BYTES`] bytes
//!   (value ≤ [`MAX_REMAINING_LENGTH`]); a fifth byte is `Invalid`;
//! - MQTT 5 properties are skipped by their length varint, never walked,
//!   except CONNACK properties, walked for at most [`MAX_PROPERTIES`] entries
//!   to find the assigned client identifier and reason string;
//! - every string is a 16-bit length prefix inside the packet, so no field
//!   can reach past the packet or the slice;
//! - the password is never returned, only whether one is present;
//! - lax: when the capture cut the packet (the slice ends before the
//!   remaining length) after the client id, [`parse_connect`] still returns
//!   the client id with `truncated: true` and what it read before the cut.
//!   A packet whose fields overrun its own remaining length is `Invalid`,
//!   and so is one whose remaining length is longer than the fields its
//!   flags announce (all of them read, and bytes left over or claimed but
//!   absent): a length that lies is never trusted for the client id.
//!
//! Example, in prose: on the first payload of a TCP flow, call
//! `looks_like_connect(p)`; if true, `parse_connect(p)` gives
//! `connect.client_id_str()`, `connect.username_str()` and `connect.level`.
//! On the server's first payload, `parse_connack(p)` gives `code`; a
//! non-zero code is a rejection, named by
//! `connack_code_name(connect.level, ack.code)`.

use super::cursor::Cursor;
use super::ParseError;

/// Largest value a remaining-length varint may hold (MQTT 3.1.1 §2.2.3).
pub const MAX_REMAINING_LENGTH: u32 = 268_435_455;
/// A remaining-length (or property-length) varint has at most 4 bytes.
pub const MAX_VARINT_BYTES: usize = 4;
/// At most this many CONNACK properties are walked.
pub const MAX_PROPERTIES: usize = 64;

/// Control packet type of CONNECT.
pub const TYPE_CONNECT: u8 = 1;
/// Control packet type of CONNACK.
pub const TYPE_CONNACK: u8 = 2;

/// Protocol level of MQTT 3.1 (`MQIsdp`).
pub const LEVEL_3_1: u8 = 3;
/// Protocol level of MQTT 3.1.1.
pub const LEVEL_3_1_1: u8 = 4;
/// Protocol level of MQTT 5.0.
pub const LEVEL_5: u8 = 5;

/// The CONNECT flags byte, kept raw; accessors name its bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectFlags(pub u8);

impl ConnectFlags {
    /// Clean session (3.x) / clean start (5).
    pub fn clean_session(self) -> bool {
        self.0 & 0x02 != 0
    }
    /// A will message follows the client id.
    pub fn will(self) -> bool {
        self.0 & 0x04 != 0
    }
    /// QoS of the will message (0..=3; 3 is not allowed but kept).
    pub fn will_qos(self) -> u8 {
        (self.0 >> 3) & 0x03
    }
    pub fn will_retain(self) -> bool {
        self.0 & 0x20 != 0
    }
    /// A password follows (its value is never returned).
    pub fn password(self) -> bool {
        self.0 & 0x40 != 0
    }
    /// A user name follows.
    pub fn username(self) -> bool {
        self.0 & 0x80 != 0
    }
    /// Bit 0 must be zero; a client setting it is misbehaving.
    pub fn reserved(self) -> bool {
        self.0 & 0x01 != 0
    }
}

/// What a CONNECT tells about a client. Borrows from the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connect<'a> {
    /// `MQTT` or `MQIsdp` (other names are rejected).
    pub protocol_name: &'a str,
    /// 3 = 3.1, 4 = 3.1.1, 5 = 5.0; other values kept as they are.
    pub level: u8,
    pub flags: ConnectFlags,
    /// Seconds.
    pub keep_alive: u16,
    /// The client identifier's bytes (UTF-8 per the spec, not guaranteed).
    pub client_id: &'a [u8],
    /// The user name's bytes, when the flag is set and it was captured.
    pub username: Option<&'a [u8]>,
    /// Whether the password flag is set (the password itself is not kept).
    pub password_present: bool,
    /// The remaining length declared by the fixed header.
    pub remaining_length: u32,
    /// The capture ended before the packet did: fields after the cut
    /// (will, user name) may be missing.
    pub truncated: bool,
}

impl<'a> Connect<'a> {
    /// The client id as text, when it is valid UTF-8.
    pub fn client_id_str(&self) -> Option<&'a str> {
        std::str::from_utf8(self.client_id).ok()
    }

    /// The user name as text, when present and valid UTF-8.
    pub fn username_str(&self) -> Option<&'a str> {
        self.username.and_then(|u| std::str::from_utf8(u).ok())
    }

    /// "3.1", "3.1.1", "5.0" or "unknown".
    pub fn version_name(&self) -> &'static str {
        match self.level {
            LEVEL_3_1 => "3.1",
            LEVEL_3_1_1 => "3.1.1",
            LEVEL_5 => "5.0",
            _ => "unknown",
        }
    }
}

/// What a CONNACK tells. Borrows from the payload (MQTT 5 properties).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnAck<'a> {
    /// Session present (bit 0 of the acknowledge flags; reserved in 3.1).
    pub session_present: bool,
    /// Return code (3.1, 3.1.1) or reason code (5); 0 means accepted.
    pub code: u8,
    /// The remaining length declared by the fixed header.
    pub remaining_length: u32,
    /// MQTT 5: the client id the server assigned (property 0x12), which
    /// names a client that sent an empty one.
    pub assigned_client_id: Option<&'a str>,
    /// MQTT 5: a human-readable reason (property 0x1F).
    pub reason_string: Option<&'a str>,
}

impl ConnAck<'_> {
    /// Whether the broker accepted the connection.
    pub fn accepted(&self) -> bool {
        self.code == 0
    }

    /// The code's name, given the level of the CONNECT it answers.
    pub fn code_name(&self, level: u8) -> &'static str {
        connack_code_name(level, self.code)
    }
}

/// Reads the fixed header: `(packet type, header length, remaining length)`.
///
/// `None` when the slice is too short for the header or the varint is
/// longer than four bytes. The packet body need not be present.
pub fn packet_type(payload: &[u8]) -> Option<(u8, usize, usize)> {
    let mut c = Cursor::new(payload);
    let first = c.u8().ok()?;
    let remaining = varint(&mut c).ok()?;
    Some((first >> 4, c.pos(), remaining as usize))
}

/// Most remaining-length bytes [`looks_like_connect`] steps over: twice what
/// MQTT allows, so that a CONNECT with an overlong varint is still one.
const LOOSE_VARINT_BYTES: usize = 2 * MAX_VARINT_BYTES;

/// Cheap test: does this payload start with an MQTT CONNECT, well-formed or
/// not?
///
/// Checks the first byte (`0x10`), a remaining length of at most
/// [`LOOSE_VARINT_BYTES`] bytes, and the protocol name `MQTT` or `MQIsdp`
/// behind its two length bytes, whatever they say. A CONNECT whose
/// remaining length or protocol-name length lies is still recognised, so
/// that [`parse_connect`] can reject it (a malformed MQTT message, not some
/// other protocol).
pub fn looks_like_connect(payload: &[u8]) -> bool {
    let mut c = Cursor::new(payload);
    if c.u8() != Ok(0x10) {
        return false;
    }
    let mut varint_end = false;
    for _ in 0..LOOSE_VARINT_BYTES {
        match c.u8() {
            Ok(b) if b & 0x80 == 0 => {
                varint_end = true;
                break;
            }
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    if !varint_end || c.skip(2).is_err() {
        return false;
    }
    c.rest().starts_with(b"MQTT") || c.rest().starts_with(b"MQIsdp")
}

/// Parses the CONNECT at the start of `payload`.
pub fn parse_connect(payload: &[u8]) -> Result<Connect<'_>, ParseError> {
    let mut outer = Cursor::new(payload);
    let first = outer.u8()?;
    if first != 0x10 {
        return Err(ParseError::Invalid {
            offset: 0,
            what: "not an MQTT CONNECT fixed header",
        });
    }
    let remaining_length = varint(&mut outer)?;
    let (mut c, cut) = body(&mut outer, remaining_length)?;

    // Before the client id is read, any short read is an error.
    let head = (|| {
        let name = protocol_name(&mut c)?;
        let level = c.u8()?;
        let flags = ConnectFlags(c.u8()?);
        let keep_alive = c.u16()?;
        if level == LEVEL_5 {
            skip_properties(&mut c)?;
        }
        let client_id = c.vec16()?.rest();
        Ok((name, level, flags, keep_alive, client_id))
    })();
    let (protocol_name, level, flags, keep_alive, client_id) =
        head.map_err(|e| overrun(e, cut, "CONNECT field overruns remaining length"))?;

    let mut connect = Connect {
        protocol_name,
        level,
        flags,
        keep_alive,
        client_id,
        username: None,
        password_present: flags.password(),
        remaining_length,
        truncated: cut,
    };

    // After the client id, a cut by the capture keeps what was read.
    let tail = (|| {
        if flags.will() {
            if level == LEVEL_5 {
                skip_properties(&mut c)?;
            }
            c.vec16()?; // will topic
            c.vec16()?; // will payload
        }
        if flags.username() {
            connect.username = Some(c.vec16()?.rest());
        }
        if flags.password() {
            c.vec16()?;
        }
        Ok(())
    })();
    match tail {
        // Every field the flags announce was read: the packet ends here. A
        // remaining length that claims more (whether its bytes were
        // captured or not) lies about this packet.
        Ok(()) if cut || !c.is_empty() => Err(ParseError::Invalid {
            offset: c.offset(),
            what: "CONNECT remaining length longer than its fields",
        }),
        Ok(()) => Ok(connect),
        Err(ParseError::Truncated { .. }) if cut => Ok(connect),
        Err(e) => Err(overrun(e, cut, "CONNECT field overruns remaining length")),
    }
}

/// Parses the CONNACK at the start of `payload`.
///
/// MQTT 5 properties after the reason code are walked laxly: a malformed or
/// cut property list leaves `assigned_client_id`/`reason_string` as `None`.
pub fn parse_connack(payload: &[u8]) -> Result<ConnAck<'_>, ParseError> {
    let mut outer = Cursor::new(payload);
    let first = outer.u8()?;
    if first != 0x20 {
        return Err(ParseError::Invalid {
            offset: 0,
            what: "not an MQTT CONNACK fixed header",
        });
    }
    let remaining_length = varint(&mut outer)?;
    if remaining_length < 2 {
        return Err(ParseError::Invalid {
            offset: 1,
            what: "CONNACK remaining length below 2",
        });
    }
    let (mut c, _cut) = body(&mut outer, remaining_length)?;
    let ack_flags = c.u8()?;
    let code = c.u8()?;
    let mut ack = ConnAck {
        session_present: ack_flags & 0x01 != 0,
        code,
        remaining_length,
        assigned_client_id: None,
        reason_string: None,
    };
    if !c.is_empty() {
        // Only MQTT 5 has anything here; errors just end the walk.
        let _ = connack_properties(&mut c, &mut ack);
    }
    Ok(ack)
}

/// The name of a CONNACK return code (3.1, 3.1.1) or reason code (5).
///
/// `level` is the protocol level of the CONNECT that the CONNACK answers;
/// a code of 0x80 or above is read as MQTT 5 whatever the level.
pub fn connack_code_name(level: u8, code: u8) -> &'static str {
    if level >= LEVEL_5 || code >= 0x80 {
        return match code {
            0x00 => "success",
            0x80 => "unspecified error",
            0x81 => "malformed packet",
            0x82 => "protocol error",
            0x83 => "implementation specific error",
            0x84 => "unsupported protocol version",
            0x85 => "client identifier not valid",
            0x86 => "bad user name or password",
            0x87 => "not authorized",
            0x88 => "server unavailable",
            0x89 => "server busy",
            0x8A => "banned",
            0x8C => "bad authentication method",
            0x90 => "topic name invalid",
            0x95 => "packet too large",
            0x97 => "quota exceeded",
            0x99 => "payload format invalid",
            0x9A => "retain not supported",
            0x9B => "QoS not supported",
            0x9C => "use another server",
            0x9D => "server moved",
            0x9F => "connection rate exceeded",
            _ => "unknown",
        };
    }
    match code {
        0 => "connection accepted",
        1 => "unacceptable protocol version",
        2 => "identifier rejected",
        3 => "server unavailable",
        4 => "bad user name or password",
        5 => "not authorized",
        _ => "unknown",
    }
}

/// A variable byte integer: 7 bits per byte, least significant first.
fn varint(c: &mut Cursor<'_>) -> Result<u32, ParseError> {
    let start = c.offset();
    let mut value: u32 = 0;
    for i in 0..MAX_VARINT_BYTES {
        let b = c.u8()?;
        value |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(ParseError::Invalid {
        offset: start,
        what: "variable byte integer longer than 4 bytes",
    })
}

/// The packet body: `remaining` bytes after the fixed header, or what the
/// capture kept of them (then `true`: the packet was cut).
fn body<'a>(outer: &mut Cursor<'a>, remaining: u32) -> Result<(Cursor<'a>, bool), ParseError> {
    let want = remaining as usize;
    let cut = outer.remaining() < want;
    let sub = outer.sub(want.min(outer.remaining()))?;
    Ok((sub, cut))
}

/// Maps a short read inside a complete packet to `Invalid`: the field ran
/// past the declared remaining length, not past the capture.
fn overrun(e: ParseError, cut: bool, what: &'static str) -> ParseError {
    match e {
        ParseError::Truncated { offset, .. } if !cut => ParseError::Invalid { offset, what },
        e => e,
    }
}

/// `00 04 MQTT` or `00 06 MQIsdp`.
fn protocol_name<'a>(c: &mut Cursor<'a>) -> Result<&'a str, ParseError> {
    let offset = c.offset();
    let name = c.vec16()?.rest();
    match name {
        b"MQTT" => Ok("MQTT"),
        b"MQIsdp" => Ok("MQIsdp"),
        _ => Err(ParseError::Invalid {
            offset,
            what: "protocol name is not MQTT or MQIsdp",
        }),
    }
}

/// Skips an MQTT 5 property list by its length varint.
fn skip_properties(c: &mut Cursor<'_>) -> Result<(), ParseError> {
    let n = varint(c)?;
    c.skip(n as usize)
}

/// Walks CONNACK properties for the assigned client id and reason string.
fn connack_properties<'a>(c: &mut Cursor<'a>, ack: &mut ConnAck<'a>) -> Result<(), ParseError> {
    let n = varint(c)?;
    let mut props = c.sub(n as usize)?;
    for _ in 0..MAX_PROPERTIES {
        if props.is_empty() {
            break;
        }
        let id = varint(&mut props)?;
        match id {
            // Byte.
            0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2A => props.skip(1)?,
            // Two-byte integer.
            0x13 | 0x21 | 0x22 | 0x23 => props.skip(2)?,
            // Four-byte integer.
            0x02 | 0x11 | 0x18 | 0x27 => props.skip(4)?,
            // Variable byte integer.
            0x0B => {
                varint(&mut props)?;
            }
            0x12 => ack.assigned_client_id = std::str::from_utf8(props.vec16()?.rest()).ok(),
            0x1F => ack.reason_string = std::str::from_utf8(props.vec16()?.rest()).ok(),
            // UTF-8 string or binary data.
            0x03 | 0x08 | 0x09 | 0x15 | 0x16 | 0x1A | 0x1C => {
                props.vec16()?;
            }
            // User property: a string pair.
            0x26 => {
                props.vec16()?;
                props.vec16()?;
            }
            _ => {
                return Err(ParseError::Invalid {
                    offset: props.offset(),
                    what: "unknown MQTT property",
                })
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn varint_bytes(mut n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let mut b = (n % 128) as u8;
            n /= 128;
            if n > 0 {
                b |= 0x80;
            }
            out.push(b);
            if n == 0 {
                return out;
            }
        }
    }

    fn str16(out: &mut Vec<u8>, s: &[u8]) {
        out.extend_from_slice(&(s.len() as u16).to_be_bytes());
        out.extend_from_slice(s);
    }

    /// A CONNECT built field by field.
    struct ConnectSpec<'s> {
        name: &'s [u8],
        level: u8,
        flags: u8,
        keep_alive: u16,
        props: &'s [u8],
        client_id: &'s [u8],
        will: Option<(&'s [u8], &'s [u8])>,
        username: Option<&'s [u8]>,
        password: Option<&'s [u8]>,
    }

    impl Default for ConnectSpec<'_> {
        fn default() -> Self {
            ConnectSpec {
                name: b"MQTT",
                level: 4,
                flags: 0x02,
                keep_alive: 60,
                props: &[],
                client_id: b"dev-1",
                will: None,
                username: None,
                password: None,
            }
        }
    }

    fn connect(s: &ConnectSpec) -> Vec<u8> {
        let mut body = Vec::new();
        str16(&mut body, s.name);
        body.push(s.level);
        body.push(s.flags);
        body.extend_from_slice(&s.keep_alive.to_be_bytes());
        if s.level == 5 {
            body.extend(varint_bytes(s.props.len()));
            body.extend_from_slice(s.props);
        }
        str16(&mut body, s.client_id);
        if let Some((topic, msg)) = s.will {
            if s.level == 5 {
                body.extend(varint_bytes(s.props.len()));
                body.extend_from_slice(s.props);
            }
            str16(&mut body, topic);
            str16(&mut body, msg);
        }
        if let Some(u) = s.username {
            str16(&mut body, u);
        }
        if let Some(p) = s.password {
            str16(&mut body, p);
        }
        let mut out = vec![0x10];
        out.extend(varint_bytes(body.len()));
        out.extend(body);
        out
    }

    fn connack(flags: u8, code: u8, props: Option<&[u8]>) -> Vec<u8> {
        let mut body = vec![flags, code];
        if let Some(p) = props {
            body.extend(varint_bytes(p.len()));
            body.extend_from_slice(p);
        }
        let mut out = vec![0x20];
        out.extend(varint_bytes(body.len()));
        out.extend(body);
        out
    }

    #[test]
    fn mqtt_3_1_1_connect_with_username_and_password() {
        let spec = ConnectSpec {
            flags: 0xc2,
            keep_alive: 600,
            client_id: b"P47775ID170W2120",
            username: Some(b"hub/P47775ID170W2120"),
            password: Some(b"secret"),
            ..Default::default()
        };
        let bytes = connect(&spec);
        assert!(looks_like_connect(&bytes));
        let c = parse_connect(&bytes).unwrap();
        assert_eq!(c.protocol_name, "MQTT");
        assert_eq!(c.level, 4);
        assert_eq!(c.version_name(), "3.1.1");
        assert_eq!(c.keep_alive, 600);
        assert!(c.flags.clean_session() && c.flags.username() && c.flags.password());
        assert!(!c.flags.will());
        assert_eq!(c.client_id_str(), Some("P47775ID170W2120"));
        assert_eq!(c.username_str(), Some("hub/P47775ID170W2120"));
        assert!(c.password_present);
        assert!(!c.truncated);
        assert_eq!(c.remaining_length as usize, bytes.len() - 2);
    }

    #[test]
    fn mqtt_3_1_mqisdp_with_will() {
        let spec = ConnectSpec {
            name: b"MQIsdp",
            level: 3,
            flags: 0x80 | 0x20 | 0x08 | 0x04 | 0x02,
            client_id: b"cbaabcbabacbbbbbaaaaab",
            will: Some((b"dead/topic", b"gone")),
            username: Some(b"02D5050223D3"),
            ..Default::default()
        };
        let bytes = connect(&spec);
        assert!(looks_like_connect(&bytes));
        let c = parse_connect(&bytes).unwrap();
        assert_eq!(c.protocol_name, "MQIsdp");
        assert_eq!(c.version_name(), "3.1");
        assert!(c.flags.will() && c.flags.will_retain());
        assert_eq!(c.flags.will_qos(), 1);
        assert_eq!(c.client_id, b"cbaabcbabacbbbbbaaaaab");
        assert_eq!(c.username_str(), Some("02D5050223D3"));
        assert!(!c.password_present);
    }

    #[test]
    fn mqtt_5_properties_are_skipped() {
        // Session expiry (0x11, u32) and receive maximum (0x21, u16).
        let props = [0x11, 0, 0, 0, 10, 0x21, 0, 20];
        let spec = ConnectSpec {
            level: 5,
            flags: 0xc6,
            props: &props,
            client_id: b"",
            will: Some((b"t", b"m")),
            username: Some(b"user"),
            password: Some(b"pass"),
            ..Default::default()
        };
        let bytes = connect(&spec);
        let c = parse_connect(&bytes).unwrap();
        assert_eq!(c.level, 5);
        assert_eq!(c.client_id, b"");
        assert_eq!(c.username_str(), Some("user"));
        assert!(c.password_present);
    }

    #[test]
    fn cut_after_client_id_keeps_client_id() {
        let spec = ConnectSpec {
            flags: 0xc2,
            client_id: b"thermostat",
            username: Some(b"alice"),
            password: Some(b"pw"),
            ..Default::default()
        };
        let bytes = connect(&spec);
        let client_end = 2 + 10 + 2 + 10;
        for cut in client_end..bytes.len() {
            let c = parse_connect(&bytes[..cut]).unwrap();
            assert_eq!(c.client_id_str(), Some("thermostat"));
            assert!(c.truncated);
            assert!(c.password_present);
        }
        // Cut inside the client id: an error, with where and how much.
        assert!(matches!(
            parse_connect(&bytes[..client_end - 1]),
            Err(ParseError::Truncated { .. })
        ));
    }

    #[test]
    fn field_overrunning_remaining_length_is_invalid() {
        let mut bytes = connect(&ConnectSpec::default());
        bytes[1] -= 2; // declared length now ends inside the client id
        assert!(matches!(
            parse_connect(&bytes),
            Err(ParseError::Invalid { .. })
        ));
    }

    #[test]
    fn bytes_after_the_packet_are_ignored() {
        let mut bytes = connect(&ConnectSpec::default());
        bytes.extend_from_slice(&[0xc0, 0x00]); // PINGREQ
        let c = parse_connect(&bytes).unwrap();
        assert_eq!(c.client_id, b"dev-1");
        assert!(!c.truncated);
    }

    /// Hostile remaining lengths (see fixtures/hostile-mqtt.pcap): a CONNECT
    /// is still recognised as one, and rejected, never read for a client id.
    #[test]
    fn lying_lengths_are_malformed_connects() {
        let good = connect(&ConnectSpec::default());
        let body = &good[2..];
        // Five remaining-length bytes.
        let mut b = vec![0x10, 0xff, 0xff, 0xff, 0xff, 0x7f];
        b.extend_from_slice(body);
        assert!(looks_like_connect(&b));
        assert!(matches!(
            parse_connect(&b),
            Err(ParseError::Invalid { offset: 1, .. })
        ));
        // The largest remaining length, with the fields of a whole CONNECT
        // (no will, user name or password) present: not a capture cut.
        let mut b = vec![0x10, 0xff, 0xff, 0xff, 0x7f];
        b.extend_from_slice(body);
        assert!(matches!(parse_connect(&b), Err(ParseError::Invalid { .. })));
        // A remaining length two bytes longer than the fields, the two
        // bytes present.
        let mut b = good.clone();
        b[1] += 2;
        b.extend_from_slice(&[0, 0]);
        assert!(matches!(parse_connect(&b), Err(ParseError::Invalid { .. })));
        // A protocol-name length running past the packet.
        let mut b = good.clone();
        b[3] = 0xff;
        assert!(looks_like_connect(&b));
        assert!(matches!(parse_connect(&b), Err(ParseError::Invalid { .. })));
        // A password announced and present is read; so the packet ends there.
        let spec = ConnectSpec {
            flags: 0x42,
            password: Some(b"pw"),
            ..Default::default()
        };
        assert_eq!(parse_connect(&connect(&spec)).unwrap().client_id, b"dev-1");
    }

    #[test]
    fn recognition_rejects_other_protocols() {
        assert!(!looks_like_connect(b""));
        assert!(!looks_like_connect(b"GET / HTTP/1.1\r\n"));
        assert!(!looks_like_connect(&[
            0x10, 0x0c, 0, 4, b'M', b'Q', b'T', b'X'
        ]));
        assert!(!looks_like_connect(&[0x10, 0xff, 0xff, 0xff, 0xff, 0x01]));
        assert!(!looks_like_connect(&[
            0x12, 0x0c, 0, 4, b'M', b'Q', b'T', b'T'
        ]));
        assert!(looks_like_connect(&[
            0x10, 0x0c, 0, 4, b'M', b'Q', b'T', b'T'
        ]));
        assert!(matches!(
            parse_connect(&[0x10, 0x0c, 0, 4, b'M', b'Q', b'T', b'X', 4, 2, 0, 0]),
            Err(ParseError::Invalid { offset: 2, .. })
        ));
    }

    #[test]
    fn varint_bounds() {
        assert_eq!(packet_type(&[0x30, 0x7f]), Some((3, 2, 127)));
        assert_eq!(packet_type(&[0x30, 0x80, 0x01]), Some((3, 3, 128)));
        assert_eq!(
            packet_type(&[0x10, 0xff, 0xff, 0xff, 0x7f]),
            Some((1, 5, MAX_REMAINING_LENGTH as usize))
        );
        assert_eq!(packet_type(&[0x10, 0xff, 0xff, 0xff, 0xff, 0x01]), None);
        assert_eq!(packet_type(&[0x10, 0x80]), None);
        assert_eq!(packet_type(&[]), None);
        assert!(matches!(
            parse_connect(&[0x10, 0x80, 0x80, 0x80, 0x80, 0x01]),
            Err(ParseError::Invalid { offset: 1, .. })
        ));
    }

    #[test]
    fn connack_v3_and_v5() {
        let bytes = connack(0x00, 0, None);
        let a = parse_connack(&bytes).unwrap();
        assert!(a.accepted() && !a.session_present);
        assert_eq!(a.code_name(4), "connection accepted");

        let bytes = connack(0x01, 5, None);
        let a = parse_connack(&bytes).unwrap();
        assert!(a.session_present);
        assert_eq!(a.code_name(3), "not authorized");

        // v5: reason 134 with a topic alias maximum, an assigned client id
        // and a reason string.
        let mut props = vec![0x22, 0x00, 0x0a, 0x12];
        str16(&mut props, b"auto-1B43E800");
        props.push(0x1f);
        str16(&mut props, b"bad credentials");
        let bytes = connack(0x00, 0x86, Some(&props));
        let a = parse_connack(&bytes).unwrap();
        assert_eq!(a.code, 134);
        assert!(!a.accepted());
        assert_eq!(a.code_name(5), "bad user name or password");
        assert_eq!(a.code_name(4), "bad user name or password");
        assert_eq!(a.assigned_client_id, Some("auto-1B43E800"));
        assert_eq!(a.reason_string, Some("bad credentials"));

        // An unknown property ends the walk, not the parse.
        let bytes = connack(0, 0x87, Some(&[0x7f, 1, 2]));
        let a = parse_connack(&bytes).unwrap();
        assert_eq!(a.code_name(5), "not authorized");
        assert_eq!(a.assigned_client_id, None);

        assert!(parse_connack(&[0x20, 0x01, 0x00]).is_err());
        assert!(parse_connack(&[0x20, 0x02, 0x00]).is_err());
        assert!(parse_connack(&connect(&ConnectSpec::default())).is_err());
    }

    #[test]
    fn code_names() {
        assert_eq!(connack_code_name(4, 1), "unacceptable protocol version");
        assert_eq!(connack_code_name(4, 2), "identifier rejected");
        assert_eq!(connack_code_name(4, 3), "server unavailable");
        assert_eq!(connack_code_name(4, 4), "bad user name or password");
        assert_eq!(connack_code_name(4, 9), "unknown");
        assert_eq!(connack_code_name(5, 0), "success");
        assert_eq!(connack_code_name(5, 0x80), "unspecified error");
        assert_eq!(connack_code_name(5, 0x88), "server unavailable");
        assert_eq!(connack_code_name(5, 0x8a), "banned");
        assert_eq!(connack_code_name(5, 4), "unknown");
    }

    proptest! {
        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = looks_like_connect(&b);
            let _ = parse_connect(&b);
            let _ = parse_connack(&b);
            let _ = packet_type(&b);
        }

        #[test]
        fn never_panics_behind_a_valid_prefix(
            level in 3u8..=5,
            tail in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let mut b = vec![0x10, 0x80, 0x02, 0, 4, b'M', b'Q', b'T', b'T', level];
            b.extend(tail);
            let _ = parse_connect(&b);
            let mut a = vec![0x20, 0x40, 0, 0];
            a.extend(b);
            let _ = parse_connack(&a);
        }
    }
}
