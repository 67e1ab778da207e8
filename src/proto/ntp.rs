//! NTP (RFC 5905) packet headers: mode, stratum, leap indicator, kiss codes.
//!
//! Contract and bounds:
//! - input is one UDP payload; nothing is allocated and every field is
//!   read through [`Cursor`];
//! - modes 0 to 5 carry the 48-byte time header ([`Header`]); a shorter
//!   payload is `Truncated`. Extension fields and the MAC after byte 48 are
//!   ignored (`trailer_len` says how many bytes there were);
//! - mode 6 (control, `ntpq`) and mode 7 (private, `ntpdc`) packets yield
//!   only their own fixed headers ([`ControlHeader`] 12 bytes,
//!   [`PrivateHeader`] 8 bytes); their data is not read;
//! - unknown values (version, stratum above 16, odd poll) are kept as
//!   integers, never a failure;
//! - timestamps are kept as raw 64-bit NTP values (32.32 fixed point,
//!   seconds since 1900, era 0); [`ntp_to_unix_nanos`] converts them. An
//!   all-zero timestamp means "unknown" and converts to `None`.
//!
//! Example, in prose: for a UDP payload to or from port 123,
//! `parse(p)?.time()` gives the [`Header`]; in a server reply
//! (`h.is_reply()`), `h.is_kiss_of_death()` with `h.kiss_code()` (such as
//! `"RATE"` or `"DENY"`) or `h.is_unsynchronized()` is an NTP failure.

use super::cursor::Cursor;
use super::ParseError;

/// Length of the time header (modes 0 to 5).
pub const HEADER_LEN: usize = 48;
/// Length of the mode 6 control header.
pub const CONTROL_HEADER_LEN: usize = 12;
/// Length of the mode 7 private header.
pub const PRIVATE_HEADER_LEN: usize = 8;
/// Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01).
pub const NTP_UNIX_OFFSET_SECS: i64 = 2_208_988_800;

/// Mode 3: a client request.
pub const MODE_CLIENT: u8 = 3;
/// Mode 4: a server reply.
pub const MODE_SERVER: u8 = 4;
/// Mode 5: a broadcast server.
pub const MODE_BROADCAST: u8 = 5;
/// Mode 6: an NTP control message.
pub const MODE_CONTROL: u8 = 6;
/// Mode 7: an implementation-private message.
pub const MODE_PRIVATE: u8 = 7;

/// One NTP message, by mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet {
    /// Modes 0 to 5: the time header.
    Time(Header),
    /// Mode 6.
    Control(ControlHeader),
    /// Mode 7.
    Private(PrivateHeader),
}

impl Packet {
    /// The time header, for modes 0 to 5.
    pub fn time(&self) -> Option<&Header> {
        match self {
            Packet::Time(h) => Some(h),
            _ => None,
        }
    }

    /// The version number (3 bits) of any mode.
    pub fn version(&self) -> u8 {
        match self {
            Packet::Time(h) => h.version,
            Packet::Control(h) => h.version,
            Packet::Private(h) => h.version,
        }
    }

    /// The mode (0 to 7).
    pub fn mode(&self) -> u8 {
        match self {
            Packet::Time(h) => h.mode,
            Packet::Control(_) => MODE_CONTROL,
            Packet::Private(_) => MODE_PRIVATE,
        }
    }
}

/// The 48-byte NTP time header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Leap indicator: 0 none, 1 +1 s, 2 -1 s, 3 unknown (unsynchronized).
    pub leap: u8,
    pub version: u8,
    /// 0 to 5 here; see [`mode_name`].
    pub mode: u8,
    /// 0 unspecified / kiss-o'-death, 1 primary, 2-15 secondary,
    /// 16 unsynchronized; higher values kept as they are.
    pub stratum: u8,
    /// Poll interval, log2 seconds.
    pub poll: i8,
    /// Clock precision, log2 seconds.
    pub precision: i8,
    /// Root delay, NTP short format (16.16 fixed point seconds).
    pub root_delay: u32,
    /// Root dispersion, NTP short format (16.16 fixed point seconds).
    pub root_dispersion: u32,
    /// Reference id: ASCII for stratum 0 (kiss code) and 1 (source name),
    /// an IPv4 address or IPv6 hash above.
    pub reference_id: [u8; 4],
    pub reference_ts: u64,
    pub origin_ts: u64,
    pub receive_ts: u64,
    pub transmit_ts: u64,
    /// Bytes after the header (extension fields, key id and MAC).
    pub trailer_len: usize,
}

impl Header {
    /// The mode's name.
    pub fn mode_name(&self) -> &'static str {
        mode_name(self.mode)
    }

    /// A reply from a server (mode 4) or a broadcast server (mode 5).
    pub fn is_reply(&self) -> bool {
        self.mode == MODE_SERVER || self.mode == MODE_BROADCAST
    }

    /// The reference id as text when it is printable ASCII (trailing NULs
    /// dropped), for stratum 0 and 1 only, where it is ASCII by definition.
    pub fn reference_text(&self) -> Option<&str> {
        if self.stratum > 1 {
            return None;
        }
        let end = self
            .reference_id
            .iter()
            .rposition(|&b| b != 0)
            .map_or(0, |i| i + 1);
        let text = self.reference_id.get(..end)?;
        if text.is_empty() || !text.iter().all(|b| (0x20..=0x7e).contains(b)) {
            return None;
        }
        std::str::from_utf8(text).ok()
    }

    /// The kiss code ("RATE", "DENY", "RSTR", "STEP", "INIT", ...): the
    /// ASCII reference id of a stratum 0 packet.
    pub fn kiss_code(&self) -> Option<&str> {
        if self.stratum != 0 {
            return None;
        }
        self.reference_text()
    }

    /// A kiss-o'-death: a server reply with stratum 0 and a kiss code.
    /// (Clients also send stratum 0 with "INIT"; those are not KoDs.)
    pub fn is_kiss_of_death(&self) -> bool {
        self.is_reply() && self.kiss_code().is_some()
    }

    /// The sender's clock is not synchronized: leap indicator 3, stratum
    /// 16, or stratum 0 in a server reply. Meaningful in replies: clients
    /// routinely send leap 3 and stratum 0 before they first sync.
    pub fn is_unsynchronized(&self) -> bool {
        self.leap == 3 || self.stratum == 16 || (self.stratum == 0 && self.is_reply())
    }

    /// Root delay in microseconds.
    pub fn root_delay_micros(&self) -> u64 {
        short_to_micros(self.root_delay)
    }

    /// Root dispersion in microseconds.
    pub fn root_dispersion_micros(&self) -> u64 {
        short_to_micros(self.root_dispersion)
    }

    /// The transmit timestamp as Unix nanoseconds.
    pub fn transmit_unix_nanos(&self) -> Option<i64> {
        ntp_to_unix_nanos(self.transmit_ts)
    }
}

/// The mode 6 (control) header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlHeader {
    pub leap: u8,
    pub version: u8,
    /// R bit: a response.
    pub response: bool,
    /// E bit: an error response.
    pub error: bool,
    /// M bit: more fragments follow.
    pub more: bool,
    /// 5-bit opcode (1 read status, 2 read variables, ...).
    pub opcode: u8,
    pub sequence: u16,
    pub status: u16,
    pub association_id: u16,
    pub offset: u16,
    /// Bytes of data that follow the header.
    pub count: u16,
}

/// The mode 7 (private) header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrivateHeader {
    pub version: u8,
    pub response: bool,
    pub more: bool,
    /// A bit: authenticated.
    pub authenticated: bool,
    pub sequence: u8,
    pub implementation: u8,
    /// The request code (42 is MON_GETLIST_1, the monlist of amplification
    /// attacks).
    pub request_code: u8,
    pub error: u8,
    pub item_count: u16,
    pub item_size: u16,
}

/// Parses one NTP message.
pub fn parse(payload: &[u8]) -> Result<Packet, ParseError> {
    let mut c = Cursor::new(payload);
    let first = c.peek_u8()?;
    match first & 0x07 {
        MODE_CONTROL => parse_control(&mut c).map(Packet::Control),
        MODE_PRIVATE => parse_private(&mut c).map(Packet::Private),
        _ => parse_time(&mut c).map(Packet::Time),
    }
}

/// Parses the time header; mode 6 and 7 payloads are `Invalid` here.
pub fn parse_header(payload: &[u8]) -> Result<Header, ParseError> {
    match parse(payload)? {
        Packet::Time(h) => Ok(h),
        _ => Err(ParseError::Invalid {
            offset: 0,
            what: "NTP control or private mode, no time header",
        }),
    }
}

/// The name of an NTP mode.
pub fn mode_name(mode: u8) -> &'static str {
    match mode {
        0 => "reserved",
        1 => "symmetric active",
        2 => "symmetric passive",
        3 => "client",
        4 => "server",
        5 => "broadcast",
        6 => "control",
        7 => "private",
        _ => "unknown",
    }
}

/// Converts an era-0 NTP timestamp (32.32 seconds since 1900) to Unix
/// nanoseconds (negative before 1970). Zero, "unknown", gives `None`.
pub fn ntp_to_unix_nanos(ts: u64) -> Option<i64> {
    if ts == 0 {
        return None;
    }
    let secs = (ts >> 32) as i64 - NTP_UNIX_OFFSET_SECS;
    let nanos = ((ts & 0xffff_ffff) * 1_000_000_000) >> 32;
    // |secs| < 2^32 and nanos < 1e9: no overflow in i64.
    Some(secs * 1_000_000_000 + nanos as i64)
}

/// 16.16 fixed point seconds to microseconds.
fn short_to_micros(v: u32) -> u64 {
    (u64::from(v) * 1_000_000) >> 16
}

fn parse_time(c: &mut Cursor<'_>) -> Result<Header, ParseError> {
    if c.remaining() < HEADER_LEN {
        return Err(ParseError::Truncated {
            offset: c.offset(),
            needed: HEADER_LEN,
        });
    }
    let first = c.u8()?;
    Ok(Header {
        leap: first >> 6,
        version: (first >> 3) & 0x07,
        mode: first & 0x07,
        stratum: c.u8()?,
        poll: c.u8()? as i8,
        precision: c.u8()? as i8,
        root_delay: c.u32()?,
        root_dispersion: c.u32()?,
        reference_id: c.array()?,
        reference_ts: c.u64()?,
        origin_ts: c.u64()?,
        receive_ts: c.u64()?,
        transmit_ts: c.u64()?,
        trailer_len: c.remaining(),
    })
}

fn parse_control(c: &mut Cursor<'_>) -> Result<ControlHeader, ParseError> {
    let first = c.u8()?;
    let second = c.u8()?;
    Ok(ControlHeader {
        leap: first >> 6,
        version: (first >> 3) & 0x07,
        response: second & 0x80 != 0,
        error: second & 0x40 != 0,
        more: second & 0x20 != 0,
        opcode: second & 0x1f,
        sequence: c.u16()?,
        status: c.u16()?,
        association_id: c.u16()?,
        offset: c.u16()?,
        count: c.u16()?,
    })
}

fn parse_private(c: &mut Cursor<'_>) -> Result<PrivateHeader, ParseError> {
    let first = c.u8()?;
    let second = c.u8()?;
    let implementation = c.u8()?;
    let request_code = c.u8()?;
    let err_items = c.u16()?;
    let size = c.u16()?;
    Ok(PrivateHeader {
        version: (first >> 3) & 0x07,
        response: first & 0x80 != 0,
        more: first & 0x40 != 0,
        authenticated: second & 0x80 != 0,
        sequence: second & 0x7f,
        implementation,
        request_code,
        error: (err_items >> 12) as u8,
        item_count: err_items & 0x0fff,
        item_size: size & 0x0fff,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A time header built field by field.
    #[derive(Clone, Copy)]
    struct Spec {
        leap: u8,
        version: u8,
        mode: u8,
        stratum: u8,
        poll: i8,
        precision: i8,
        root_delay: u32,
        root_dispersion: u32,
        refid: [u8; 4],
        ts: [u64; 4],
    }

    impl Default for Spec {
        fn default() -> Self {
            Spec {
                leap: 0,
                version: 4,
                mode: 4,
                stratum: 2,
                poll: 6,
                precision: -23,
                root_delay: 0x0000_8000,
                root_dispersion: 0x0001_0000,
                refid: [192, 0, 2, 1],
                ts: [0; 4],
            }
        }
    }

    fn build(s: &Spec) -> Vec<u8> {
        let mut out = vec![
            s.leap << 6 | s.version << 3 | s.mode,
            s.stratum,
            s.poll as u8,
            s.precision as u8,
        ];
        out.extend_from_slice(&s.root_delay.to_be_bytes());
        out.extend_from_slice(&s.root_dispersion.to_be_bytes());
        out.extend_from_slice(&s.refid);
        for t in s.ts {
            out.extend_from_slice(&t.to_be_bytes());
        }
        out
    }

    #[test]
    fn server_reply_fields() {
        let ts = (3_768_321_820u64 << 32) | 0x8000_0000; // 2019-05-30 + 0.5 s
        let spec = Spec {
            ts: [ts - (5 << 32), ts - 1, ts, ts + 1],
            ..Default::default()
        };
        let mut bytes = build(&spec);
        bytes.extend_from_slice(&[0; 20]); // key id + MAC
        let p = parse(&bytes).unwrap();
        assert_eq!(p.mode(), 4);
        assert_eq!(p.version(), 4);
        let h = p.time().unwrap();
        assert_eq!(h.mode_name(), "server");
        assert!(h.is_reply());
        assert_eq!(h.stratum, 2);
        assert_eq!(h.poll, 6);
        assert_eq!(h.precision, -23);
        assert_eq!(h.root_delay_micros(), 500_000);
        assert_eq!(h.root_dispersion_micros(), 1_000_000);
        assert_eq!(h.reference_id, [192, 0, 2, 1]);
        assert_eq!(h.reference_text(), None);
        assert_eq!(h.kiss_code(), None);
        assert!(!h.is_kiss_of_death() && !h.is_unsynchronized());
        assert_eq!(h.receive_ts, ts);
        assert_eq!(h.transmit_ts, ts + 1);
        assert_eq!(h.trailer_len, 20);
        assert_eq!(
            h.transmit_unix_nanos(),
            Some((3_768_321_820 - NTP_UNIX_OFFSET_SECS) * 1_000_000_000 + 500_000_000)
        );
    }

    #[test]
    fn kiss_of_death_and_unsynchronized() {
        for code in [*b"RATE", *b"DENY", *b"RSTR", *b"STEP"] {
            let h = parse_header(&build(&Spec {
                stratum: 0,
                refid: code,
                ..Default::default()
            }))
            .unwrap();
            assert_eq!(h.kiss_code().map(str::as_bytes), Some(&code[..]));
            assert!(h.is_kiss_of_death());
            assert!(h.is_unsynchronized());
        }
        // A client's INIT is a kiss code in form but not a KoD.
        let h = parse_header(&build(&Spec {
            leap: 3,
            mode: 3,
            stratum: 0,
            refid: *b"INIT",
            ..Default::default()
        }))
        .unwrap();
        assert_eq!(h.kiss_code(), Some("INIT"));
        assert!(!h.is_kiss_of_death());
        // Stratum 0 with a binary refid: no kiss code, still unsynchronized.
        let h = parse_header(&build(&Spec {
            stratum: 0,
            refid: [0, 0, 0, 0],
            ..Default::default()
        }))
        .unwrap();
        assert_eq!(h.kiss_code(), None);
        assert!(!h.is_kiss_of_death() && h.is_unsynchronized());
        // Leap 3 and stratum 16.
        let s = Spec {
            leap: 3,
            ..Default::default()
        };
        assert!(parse_header(&build(&s)).unwrap().is_unsynchronized());
        let s = Spec {
            stratum: 16,
            ..Default::default()
        };
        assert!(parse_header(&build(&s)).unwrap().is_unsynchronized());
        // Stratum 1 names its source.
        let s = Spec {
            stratum: 1,
            refid: *b"GPS\0",
            ..Default::default()
        };
        let h = parse_header(&build(&s)).unwrap();
        assert_eq!(h.reference_text(), Some("GPS"));
        assert_eq!(h.kiss_code(), None);
    }

    #[test]
    fn short_time_header_is_truncated() {
        let bytes = build(&Spec::default());
        assert_eq!(
            parse(&bytes[..47]),
            Err(ParseError::Truncated {
                offset: 0,
                needed: 48
            })
        );
        assert!(parse(&[]).is_err());
    }

    #[test]
    fn control_and_private_modes() {
        // ntpq "readvar": version 2, mode 6, opcode 2, seq 1, assoc 0.
        let q = [0x16, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0];
        let p = parse(&q).unwrap();
        assert_eq!(p.mode(), 6);
        assert_eq!(p.version(), 2);
        assert!(p.time().is_none());
        let Packet::Control(c) = p else {
            panic!("not control")
        };
        assert_eq!((c.opcode, c.sequence, c.response), (2, 1, false));
        // A response with more fragments and 468 bytes of data.
        let r = [0x16, 0xa2, 0, 1, 0x06, 0x18, 0, 0, 0, 0, 0x01, 0xd4];
        let Ok(Packet::Control(c)) = parse(&r) else {
            panic!("not control")
        };
        assert!(c.response && c.more && !c.error);
        assert_eq!((c.status, c.count), (0x0618, 468));
        assert!(parse(&q[..11]).is_err());
        assert!(parse_header(&q).is_err());

        // ntpdc monlist request: version 2, mode 7, impl 3, request 42.
        let m = [0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0];
        let p = parse(&m).unwrap();
        assert_eq!(p.mode(), 7);
        let Packet::Private(h) = p else {
            panic!("not private")
        };
        assert_eq!((h.version, h.implementation, h.request_code), (2, 3, 42));
        assert!(!h.response);
        let resp = [0xd7, 0x85, 0x03, 0x2a, 0x20, 0x06, 0x00, 0x48];
        let Ok(Packet::Private(h)) = parse(&resp) else {
            panic!("not private")
        };
        assert!(h.response && h.more && h.authenticated);
        assert_eq!(
            (h.sequence, h.error, h.item_count, h.item_size),
            (5, 2, 6, 72)
        );
    }

    #[test]
    fn timestamp_conversion() {
        assert_eq!(ntp_to_unix_nanos(0), None);
        assert_eq!(
            ntp_to_unix_nanos((NTP_UNIX_OFFSET_SECS as u64) << 32),
            Some(0)
        );
        assert_eq!(
            ntp_to_unix_nanos(1 << 32),
            Some((1 - NTP_UNIX_OFFSET_SECS) * 1_000_000_000)
        );
        assert_eq!(
            ntp_to_unix_nanos(u64::MAX),
            Some((0xffff_ffff - NTP_UNIX_OFFSET_SECS) * 1_000_000_000 + 999_999_999)
        );
        assert_eq!(mode_name(3), "client");
        assert_eq!(mode_name(6), "control");
    }

    proptest! {
        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(p) = parse(&b) {
                if let Some(h) = p.time() {
                    let _ = (h.kiss_code(), h.is_unsynchronized(), h.transmit_unix_nanos());
                    let _ = (h.root_delay_micros(), h.root_dispersion_micros());
                }
            }
            let _ = parse_header(&b);
        }
    }
}
