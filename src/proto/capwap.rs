//! CAPWAP (RFC 5415, with the IEEE 802.11 binding of RFC 5416): the
//! preamble, the CAPWAP header, the control header, and the DTLS records
//! that carry an encrypted control channel.
//!
//! Contract and bounds:
//! - input is one UDP payload (control on port [`CONTROL_PORT`], data on
//!   [`DATA_PORT`]); nothing is allocated, every byte is read through
//!   [`Cursor`], and outputs borrow from the payload;
//! - the preamble version must be 0 and its type 0 (CAPWAP header) or 1
//!   (DTLS); anything else is `Invalid`;
//! - the header length HLEN (in 4-byte words) is at least 2 and fits the
//!   payload, else `Invalid`/`Truncated`; the optional radio MAC address and
//!   wireless-specific information must fit inside HLEN (their one-byte
//!   lengths bound them to 255 bytes each) or the header is `Invalid`;
//! - the payload always starts at `HLEN * 4`, whatever the optional fields
//!   add up to: Cisco controllers pad the header beyond them;
//! - DTLS records are walked at most [`MAX_DTLS_RECORDS`] per datagram and
//!   control message elements at most [`MAX_ELEMENTS`] per message;
//! - lax: a control message cut by the capture yields the elements that
//!   were captured (`ControlHeader::truncated`).
//!
//! Cisco access points (and the sample in the project's captures) send
//! native 802.11 frames with the two frame-control bytes swapped
//! (Wireshark's `capwap.swap_fc`, on by default). [`Header::ieee80211_frame`]
//! returns the frame as sent; the 802.11 parser must try the swap when the
//! unswapped frame control makes no sense.
//!
//! Example, in prose: `parse(udp_payload)?` is either
//! `Capwap::Dtls(d)` (`d.first.content_type`, `d.first.handshake_type`, or
//! `d.records()` for all of them) or `Capwap::Header(h)`; on the control
//! port, `h.control()?` gives `message_type` (named by
//! [`message_type_name`]) and `elements()`; on the data port,
//! `h.ieee80211_frame()` gives the 802.11 frame to hand to the 802.11 parser.

use super::cursor::Cursor;
use super::ParseError;

/// UDP port of the CAPWAP control channel.
pub const CONTROL_PORT: u16 = 5246;
/// UDP port of the CAPWAP data channel.
pub const DATA_PORT: u16 = 5247;
/// Wireless binding id of IEEE 802.11.
pub const WBID_IEEE80211: u8 = 1;
/// At most this many DTLS records are walked in one datagram.
pub const MAX_DTLS_RECORDS: usize = 16;
/// At most this many message elements are walked in one control message.
pub const MAX_ELEMENTS: usize = 64;
/// DTLS content type of a handshake record.
pub const DTLS_HANDSHAKE: u8 = 22;

/// One CAPWAP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capwap<'a> {
    /// Preamble type 0: a clear CAPWAP header follows.
    Header(Header<'a>),
    /// Preamble type 1: DTLS records follow (encrypted control or data).
    Dtls(Dtls<'a>),
}

/// The CAPWAP header (RFC 5415 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// Header length in 4-byte words, preamble included.
    pub hlen: u8,
    /// Radio id.
    pub rid: u8,
    /// Wireless binding id: 1 is IEEE 802.11, 3 EPCGlobal.
    pub wbid: u8,
    /// T: the payload is in the binding's native format (802.11), not 802.3.
    pub native_frame: bool,
    /// F: this datagram is a fragment.
    pub fragment: bool,
    /// L: the last fragment.
    pub last_fragment: bool,
    /// K: a data channel keep-alive.
    pub keep_alive: bool,
    /// The three reserved flag bits.
    pub reserved_flags: u8,
    pub fragment_id: u16,
    /// Fragment offset, in 8-byte units.
    pub fragment_offset: u16,
    /// M: the radio MAC address (6 or 8 bytes by the RFC; kept as sent).
    pub radio_mac: Option<&'a [u8]>,
    /// W: wireless-specific information (802.11 frame info: RSSI, SNR,
    /// data rate).
    pub wireless_info: Option<&'a [u8]>,
    /// Offset of the payload in the UDP payload: `hlen * 4`.
    pub payload_offset: usize,
    /// The bytes after the header: a control message, an 802.11 or 802.3
    /// frame, a keep-alive's elements, or a fragment.
    pub payload: &'a [u8],
}

impl<'a> Header<'a> {
    /// The first (or only) fragment: the one whose payload starts a message.
    pub fn is_first_fragment(&self) -> bool {
        !self.fragment || self.fragment_offset == 0
    }

    /// The native 802.11 frame of a data packet (T set, binding 802.11,
    /// not a keep-alive, not a later fragment). Frame-control bytes may be
    /// swapped (see the module docs).
    pub fn ieee80211_frame(&self) -> Option<&'a [u8]> {
        (self.native_frame
            && self.wbid == WBID_IEEE80211
            && !self.keep_alive
            && self.is_first_fragment()
            && !self.payload.is_empty())
        .then_some(self.payload)
    }

    /// The 802.3 (Ethernet) frame of a data packet (T clear).
    pub fn ethernet_frame(&self) -> Option<&'a [u8]> {
        (!self.native_frame
            && !self.keep_alive
            && self.is_first_fragment()
            && !self.payload.is_empty())
        .then_some(self.payload)
    }

    /// Parses the payload as a control message (for the control port).
    pub fn control(&self) -> Result<ControlHeader<'a>, ParseError> {
        if !self.is_first_fragment() {
            return Err(ParseError::Invalid {
                offset: self.payload_offset,
                what: "CAPWAP fragment continuation has no control header",
            });
        }
        let mut c = Cursor::new(self.payload);
        let message_type = c.u32()?;
        let sequence = c.u8()?;
        let message_element_length = c.u16()?;
        let flags = c.u8()?;
        // The length counts the bytes after the sequence number: itself,
        // the flags, and the elements.
        let want = usize::from(message_element_length).saturating_sub(3);
        let truncated = c.remaining() < want;
        let elements = c.bytes(want.min(c.remaining()))?;
        Ok(ControlHeader {
            message_type,
            sequence,
            message_element_length,
            flags,
            elements,
            elements_offset: self.payload_offset + 8,
            truncated,
        })
    }
}

/// The control header (RFC 5415 §4.5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlHeader<'a> {
    /// IANA enterprise number (high 24 bits) and type (low 8 bits); 0 for
    /// RFC 5415 messages.
    pub message_type: u32,
    pub sequence: u8,
    /// Bytes following the sequence number, as declared.
    pub message_element_length: u16,
    pub flags: u8,
    /// The message elements that were captured.
    pub elements: &'a [u8],
    /// Offset of `elements` in the UDP payload.
    pub elements_offset: usize,
    /// The capture ended before the declared length.
    pub truncated: bool,
}

impl<'a> ControlHeader<'a> {
    /// The message type's name.
    pub fn message_type_name(&self) -> &'static str {
        message_type_name(self.message_type)
    }

    /// The message elements, in order; see [`Elements`].
    pub fn elements(&self) -> Elements<'a> {
        Elements {
            cursor: Cursor::new(self.elements),
            walked: 0,
        }
    }
}

/// One message element: type, value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    pub element_type: u16,
    pub value: &'a [u8],
}

/// Iterator over message elements: at most [`MAX_ELEMENTS`]; stops at the
/// first element that does not fit (after yielding its error once).
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    cursor: Cursor<'a>,
    walked: usize,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<Element<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.cursor.is_empty() || self.walked >= MAX_ELEMENTS {
            return None;
        }
        self.walked += 1;
        let next = (|| {
            let element_type = self.cursor.u16()?;
            let value = self.cursor.vec16()?.rest();
            Ok(Element {
                element_type,
                value,
            })
        })();
        if next.is_err() {
            self.walked = MAX_ELEMENTS;
        }
        Some(next)
    }
}

/// DTLS after the CAPWAP DTLS header (preamble and 3 reserved bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dtls<'a> {
    /// The first record.
    pub first: DtlsRecord<'a>,
    /// All records, from the first one (offset 4 of the UDP payload).
    pub records: &'a [u8],
}

impl<'a> Dtls<'a> {
    /// Every record of the datagram; see [`DtlsRecords`].
    pub fn records(&self) -> DtlsRecords<'a> {
        DtlsRecords {
            cursor: Cursor::new(self.records),
            walked: 0,
        }
    }
}

/// One DTLS record header, with the handshake type of a clear handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtlsRecord<'a> {
    /// 20 change cipher spec, 21 alert, 22 handshake, 23 application data.
    pub content_type: u8,
    /// 0xfeff DTLS 1.0, 0xfefd DTLS 1.2.
    pub version: u16,
    pub epoch: u16,
    /// 48-bit sequence number.
    pub sequence: u64,
    /// Declared fragment length.
    pub length: u16,
    /// The fragment as captured (shorter than `length` when cut).
    pub fragment: &'a [u8],
    /// Handshake message type (1 ClientHello, 2 ServerHello, 3
    /// HelloVerifyRequest, 11 Certificate, ...) of an epoch-0 handshake
    /// record, the only kind that is not encrypted.
    pub handshake_type: Option<u8>,
}

impl DtlsRecord<'_> {
    /// The handshake type's name, when there is one.
    pub fn handshake_type_name(&self) -> Option<&'static str> {
        self.handshake_type.map(dtls_handshake_type_name)
    }
}

/// Iterator over DTLS records: at most [`MAX_DTLS_RECORDS`]; a cut last
/// record is yielded with its captured part; a malformed record header
/// ends the walk (after yielding its error once).
#[derive(Debug, Clone)]
pub struct DtlsRecords<'a> {
    cursor: Cursor<'a>,
    walked: usize,
}

impl<'a> Iterator for DtlsRecords<'a> {
    type Item = Result<DtlsRecord<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.cursor.is_empty() || self.walked >= MAX_DTLS_RECORDS {
            return None;
        }
        self.walked += 1;
        let next = dtls_record(&mut self.cursor);
        if next.is_err() {
            self.walked = MAX_DTLS_RECORDS;
        }
        Some(next)
    }
}

/// Parses one CAPWAP datagram (a UDP payload).
pub fn parse(payload: &[u8]) -> Result<Capwap<'_>, ParseError> {
    let mut c = Cursor::new(payload);
    let preamble = c.u8()?;
    if preamble >> 4 != 0 {
        return Err(ParseError::Invalid {
            offset: 0,
            what: "CAPWAP preamble version is not 0",
        });
    }
    match preamble & 0x0f {
        0 => parse_header(&mut c, payload).map(Capwap::Header),
        1 => {
            c.skip(3)?; // reserved
            let records = c.rest();
            let first = dtls_record(&mut c)?;
            Ok(Capwap::Dtls(Dtls { first, records }))
        }
        _ => Err(ParseError::Invalid {
            offset: 0,
            what: "CAPWAP preamble type is not 0 or 1",
        }),
    }
}

/// The name of a CAPWAP control message type (RFC 5415 §4.5.1.1).
pub fn message_type_name(message_type: u32) -> &'static str {
    match message_type {
        1 => "Discovery Request",
        2 => "Discovery Response",
        3 => "Join Request",
        4 => "Join Response",
        5 => "Configuration Status Request",
        6 => "Configuration Status Response",
        7 => "Configuration Update Request",
        8 => "Configuration Update Response",
        9 => "WTP Event Request",
        10 => "WTP Event Response",
        11 => "Change State Event Request",
        12 => "Change State Event Response",
        13 => "Echo Request",
        14 => "Echo Response",
        15 => "Image Data Request",
        16 => "Image Data Response",
        17 => "Reset Request",
        18 => "Reset Response",
        19 => "Primary Discovery Request",
        20 => "Primary Discovery Response",
        21 => "Data Transfer Request",
        22 => "Data Transfer Response",
        23 => "Clear Configuration Request",
        24 => "Clear Configuration Response",
        25 => "Station Configuration Request",
        26 => "Station Configuration Response",
        // RFC 5416: IEEE 802.11 binding, enterprise 13277.
        0x0033_DD01 => "IEEE 802.11 WLAN Configuration Request",
        0x0033_DD02 => "IEEE 802.11 WLAN Configuration Response",
        _ => "unknown",
    }
}

/// The name of a DTLS handshake message type.
pub fn dtls_handshake_type_name(handshake_type: u8) -> &'static str {
    match handshake_type {
        0 => "HelloRequest",
        1 => "ClientHello",
        2 => "ServerHello",
        3 => "HelloVerifyRequest",
        4 => "NewSessionTicket",
        11 => "Certificate",
        12 => "ServerKeyExchange",
        13 => "CertificateRequest",
        14 => "ServerHelloDone",
        15 => "CertificateVerify",
        16 => "ClientKeyExchange",
        20 => "Finished",
        _ => "unknown",
    }
}

fn parse_header<'a>(c: &mut Cursor<'a>, payload: &'a [u8]) -> Result<Header<'a>, ParseError> {
    let bits = c.u24()?;
    let hlen = (bits >> 19) as u8 & 0x1f;
    let rid = (bits >> 14) as u8 & 0x1f;
    let wbid = (bits >> 9) as u8 & 0x1f;
    let flag = |bit: u32| bits & (1 << bit) != 0;
    let fragment_id = c.u16()?;
    let offset_bits = c.u16()?;
    let header_len = usize::from(hlen) * 4;
    if header_len < 8 {
        return Err(ParseError::Invalid {
            offset: 1,
            what: "CAPWAP header length below 2 words",
        });
    }
    if payload.len() < header_len {
        return Err(ParseError::Truncated {
            offset: 0,
            needed: header_len,
        });
    }
    let has_wireless_info = flag(5);
    let has_radio_mac = flag(4);
    // The optional fields live between byte 8 and HLEN * 4.
    let mut opts = c.sub(header_len - 8)?;
    let radio_mac = if has_radio_mac {
        Some(optional_field(&mut opts)?)
    } else {
        None
    };
    let wireless_info = if has_wireless_info {
        Some(optional_field(&mut opts)?)
    } else {
        None
    };
    Ok(Header {
        hlen,
        rid,
        wbid,
        native_frame: flag(8),
        fragment: flag(7),
        last_fragment: flag(6),
        keep_alive: flag(3),
        reserved_flags: (bits & 0x07) as u8,
        fragment_id,
        fragment_offset: offset_bits >> 3,
        radio_mac,
        wireless_info,
        payload_offset: header_len,
        payload: c.rest(),
    })
}

/// A length byte, that many bytes, then padding to a 4-byte boundary,
/// all inside the header.
fn optional_field<'a>(opts: &mut Cursor<'a>) -> Result<&'a [u8], ParseError> {
    let at = opts.offset();
    let field = opts.vec8().map_err(|_| ParseError::Invalid {
        offset: at,
        what: "CAPWAP optional field overruns the header length",
    })?;
    let value = field.rest();
    // Padding, where the header has it; Cisco headers sometimes do not.
    let pad = (4 - (1 + value.len()) % 4) % 4;
    let _ = opts.skip(pad.min(opts.remaining()));
    Ok(value)
}

fn dtls_record<'a>(c: &mut Cursor<'a>) -> Result<DtlsRecord<'a>, ParseError> {
    let at = c.offset();
    let content_type = c.u8()?;
    let version = c.u16()?;
    if !(20..=25).contains(&content_type) || version >> 8 != 0xfe {
        return Err(ParseError::Invalid {
            offset: at,
            what: "not a DTLS record header",
        });
    }
    let epoch = c.u16()?;
    let hi = c.u16()?;
    let lo = c.u32()?;
    let length = c.u16()?;
    let fragment = c.bytes(usize::from(length).min(c.remaining()))?;
    let handshake_type = if content_type == DTLS_HANDSHAKE && epoch == 0 {
        Cursor::new(fragment).u8().ok()
    } else {
        None
    };
    Ok(DtlsRecord {
        content_type,
        version,
        epoch,
        sequence: u64::from(hi) << 32 | u64::from(lo),
        length,
        fragment,
        handshake_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A clear CAPWAP datagram built field by field.
    #[derive(Clone, Copy)]
    struct Spec<'s> {
        rid: u8,
        wbid: u8,
        t: bool,
        f: bool,
        l: bool,
        k: bool,
        fragment_id: u16,
        fragment_offset: u16,
        radio_mac: Option<&'s [u8]>,
        wireless_info: Option<&'s [u8]>,
        /// Extra zero bytes in the header (as Cisco sends).
        extra_words: u8,
        payload: &'s [u8],
    }

    impl Default for Spec<'_> {
        fn default() -> Self {
            Spec {
                rid: 0,
                wbid: 1,
                t: false,
                f: false,
                l: false,
                k: false,
                fragment_id: 0,
                fragment_offset: 0,
                radio_mac: None,
                wireless_info: None,
                extra_words: 0,
                payload: &[],
            }
        }
    }

    fn optional(out: &mut Vec<u8>, v: &[u8]) {
        out.push(v.len() as u8);
        out.extend_from_slice(v);
        out.resize(out.len().next_multiple_of(4), 0);
    }

    fn build(s: &Spec) -> Vec<u8> {
        let mut opts = Vec::new();
        if let Some(m) = s.radio_mac {
            optional(&mut opts, m);
        }
        if let Some(w) = s.wireless_info {
            optional(&mut opts, w);
        }
        opts.extend(std::iter::repeat_n(0, 4 * usize::from(s.extra_words)));
        let hlen = (8 + opts.len()) as u32 / 4;
        let bits = hlen << 19
            | u32::from(s.rid) << 14
            | u32::from(s.wbid) << 9
            | u32::from(s.t) << 8
            | u32::from(s.f) << 7
            | u32::from(s.l) << 6
            | u32::from(s.wireless_info.is_some()) << 5
            | u32::from(s.radio_mac.is_some()) << 4
            | u32::from(s.k) << 3;
        let mut out = vec![0x00];
        out.extend_from_slice(&bits.to_be_bytes()[1..]);
        out.extend_from_slice(&s.fragment_id.to_be_bytes());
        out.extend_from_slice(&(s.fragment_offset << 3).to_be_bytes());
        out.extend(opts);
        out.extend_from_slice(s.payload);
        out
    }

    fn control(message_type: u32, seq: u8, elements: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (t, v) in elements {
            body.extend_from_slice(&t.to_be_bytes());
            body.extend_from_slice(&(v.len() as u16).to_be_bytes());
            body.extend_from_slice(v);
        }
        let mut out = message_type.to_be_bytes().to_vec();
        out.push(seq);
        out.extend_from_slice(&(body.len() as u16 + 3).to_be_bytes());
        out.push(0);
        out.extend(body);
        out
    }

    fn dtls(content_type: u8, epoch: u16, seq: u64, body: &[u8]) -> Vec<u8> {
        let mut out = vec![content_type, 0xfe, 0xff];
        out.extend_from_slice(&epoch.to_be_bytes());
        out.extend_from_slice(&seq.to_be_bytes()[2..]);
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    fn header(b: &[u8]) -> Header<'_> {
        match parse(b) {
            Ok(Capwap::Header(h)) => h,
            other => panic!("not a clear header: {other:?}"),
        }
    }

    #[test]
    fn data_packet_with_wireless_info_yields_80211_frame() {
        let frame = [0x40, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        let b = build(&Spec {
            rid: 1,
            t: true,
            wireless_info: Some(&[0xc4, 0x20, 0x00, 0x6c]),
            extra_words: 1,
            payload: &frame,
            ..Default::default()
        });
        let h = header(&b);
        assert_eq!((h.hlen, h.rid, h.wbid), (5, 1, 1));
        assert!(h.native_frame && !h.fragment && !h.keep_alive);
        assert_eq!(h.wireless_info, Some(&[0xc4, 0x20, 0x00, 0x6c][..]));
        assert_eq!(h.radio_mac, None);
        assert_eq!(h.payload_offset, 20);
        assert_eq!(h.ieee80211_frame(), Some(&frame[..]));
        assert_eq!(h.ethernet_frame(), None);
    }

    #[test]
    fn control_discovery_request_with_radio_mac() {
        let mac = [0x58, 0x0a, 0x20, 0x69, 0x0e, 0x20];
        let msg = control(1, 7, &[(20, &[1]), (38, b"AP-lobby")]);
        let b = build(&Spec {
            radio_mac: Some(&mac),
            payload: &msg,
            ..Default::default()
        });
        let h = header(&b);
        assert_eq!(h.hlen, 4);
        assert_eq!(h.radio_mac, Some(&mac[..]));
        assert!(!h.native_frame);
        let c = h.control().unwrap();
        assert_eq!(c.message_type, 1);
        assert_eq!(c.message_type_name(), "Discovery Request");
        assert_eq!(c.sequence, 7);
        assert_eq!(c.message_element_length, 3 + 5 + 12);
        assert!(!c.truncated);
        assert_eq!(c.elements_offset, 24);
        let els: Vec<_> = c.elements().collect::<Result<_, _>>().unwrap();
        assert_eq!(els.len(), 2);
        assert_eq!(els[1].element_type, 38);
        assert_eq!(els[1].value, b"AP-lobby");

        // Cut by the capture: the elements that made it.
        let cut = &b[..b.len() - 4];
        let c = header(cut).control().unwrap();
        assert!(c.truncated);
        let mut it = c.elements();
        assert!(matches!(
            it.next(),
            Some(Ok(Element {
                element_type: 20,
                ..
            }))
        ));
        assert!(matches!(it.next(), Some(Err(ParseError::Truncated { .. }))));
        assert!(it.next().is_none());
    }

    #[test]
    fn fragments_and_keep_alive() {
        let b = build(&Spec {
            t: true,
            f: true,
            l: true,
            fragment_id: 9,
            fragment_offset: 100,
            payload: &[1, 2, 3],
            ..Default::default()
        });
        let h = header(&b);
        assert!(h.fragment && h.last_fragment && !h.is_first_fragment());
        assert_eq!((h.fragment_id, h.fragment_offset), (9, 100));
        assert_eq!(h.ieee80211_frame(), None);
        assert!(h.control().is_err());

        let b = build(&Spec {
            k: true,
            payload: &[0, 35, 0, 2, 0xab, 0xcd],
            ..Default::default()
        });
        let h = header(&b);
        assert!(h.keep_alive);
        assert_eq!(h.ethernet_frame(), None);
        assert_eq!(h.payload, &[0, 35, 0, 2, 0xab, 0xcd]);
    }

    #[test]
    fn dtls_records_and_handshake_type() {
        let mut b = vec![0x01, 0, 0, 0];
        b.extend(dtls(22, 0, 1, &[1, 0, 0, 0]));
        b.extend(dtls(20, 0, 2, &[1]));
        b.extend(dtls(23, 1, 0x0000_0102_0304, &[9; 40]));
        let Ok(Capwap::Dtls(d)) = parse(&b) else {
            panic!("not DTLS")
        };
        assert_eq!(d.first.content_type, 22);
        assert_eq!(d.first.version, 0xfeff);
        assert_eq!(d.first.handshake_type, Some(1));
        assert_eq!(d.first.handshake_type_name(), Some("ClientHello"));
        let all: Vec<_> = d.records().collect::<Result<_, _>>().unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[2].epoch, 1);
        assert_eq!(all[2].sequence, 0x0102_0304);
        assert_eq!(all[2].handshake_type, None);
        assert_eq!(all[2].fragment.len(), 40);

        // An encrypted handshake (epoch 1, Finished) has no readable type.
        let mut b = vec![0x01, 0, 0, 0];
        b.extend(dtls(22, 1, 0, &[0x55; 8]));
        let Ok(Capwap::Dtls(d)) = parse(&b) else {
            panic!("not DTLS")
        };
        assert_eq!(d.first.handshake_type, None);

        // Cut record: captured part kept.
        let mut b = vec![0x01, 0, 0, 0];
        b.extend(dtls(23, 1, 5, &[7; 30]));
        b.truncate(20);
        let Ok(Capwap::Dtls(d)) = parse(&b) else {
            panic!("not DTLS")
        };
        assert_eq!((d.first.length, d.first.fragment.len()), (30, 3));

        // Not DTLS behind a DTLS preamble.
        assert!(parse(&[0x01, 0, 0, 0, 0x99, 0xfe, 0xff, 0, 0]).is_err());
        assert!(parse(&[0x01, 0, 0, 0, 0x17, 0x03, 0x03, 0, 0]).is_err());
    }

    #[test]
    fn malformed_headers_are_errors() {
        assert!(parse(&[]).is_err());
        assert!(parse(&[0x10, 0, 0, 0, 0, 0, 0, 0]).is_err()); // version 1
        assert!(parse(&[0x02, 0, 0, 0, 0, 0, 0, 0]).is_err()); // type 2
                                                               // HLEN 1.
        assert!(matches!(
            parse(&[0x00, 0x08, 0, 0, 0, 0, 0, 0]),
            Err(ParseError::Invalid { offset: 1, .. })
        ));
        // HLEN 4 but only 8 bytes.
        assert!(matches!(
            parse(&[0x00, 0x20, 0, 0, 0, 0, 0, 0]),
            Err(ParseError::Truncated { .. })
        ));
        // Radio MAC length past HLEN.
        let mut b = build(&Spec {
            radio_mac: Some(&[1, 2, 3, 4, 5, 6]),
            ..Default::default()
        });
        b[8] = 30;
        assert!(matches!(
            parse(&b),
            Err(ParseError::Invalid { offset: 8, .. })
        ));
        // Control header cut.
        let b = build(&Spec {
            payload: &[0, 0, 0, 13, 1],
            ..Default::default()
        });
        assert!(matches!(
            header(&b).control(),
            Err(ParseError::Truncated { .. })
        ));
    }

    #[test]
    fn names() {
        assert_eq!(message_type_name(13), "Echo Request");
        assert_eq!(message_type_name(14), "Echo Response");
        assert_eq!(message_type_name(4), "Join Response");
        assert_eq!(message_type_name(99), "unknown");
        assert_eq!(dtls_handshake_type_name(3), "HelloVerifyRequest");
    }

    proptest! {
        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            match parse(&b) {
                Ok(Capwap::Header(h)) => {
                    let _ = (h.ieee80211_frame(), h.ethernet_frame());
                    if let Ok(c) = h.control() {
                        assert!(c.elements().count() <= MAX_ELEMENTS);
                    }
                }
                Ok(Capwap::Dtls(d)) => {
                    assert!(d.records().count() <= MAX_DTLS_RECORDS);
                }
                Err(_) => {}
            }
        }

        #[test]
        fn never_panics_behind_a_clear_preamble(
            tail in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let mut b = vec![0x00, 0x10, 0x03, 0x20];
            b.extend(tail);
            if let Ok(Capwap::Header(h)) = parse(&b) {
                if let Ok(c) = h.control() {
                    let _ = c.elements().count();
                }
            }
        }
    }
}
