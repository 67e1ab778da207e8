//! TLS over TCP (and QUIC's CRYPTO stream): the ClientHello with its JA4
//! fingerprint, the server's cleartext flight (ServerHello, TLS ≤ 1.2
//! Certificate chain) and alerts, read from a reassembled stream prefix.
//!
//! Contract:
//! - input is the start of ONE direction of a TCP stream (e.g.
//!   [`crate::flow::reasm::StreamBuf::contiguous`], or a single segment's
//!   payload on the fast path), or for [`parse_client_hello_handshake`] a
//!   handshake message (QUIC CRYPTO data);
//! - records are framed here with [`Cursor`]: a stream cut inside a record
//!   still yields the handshake messages completed before the cut;
//! - a handshake message is borrowed from the stream when it lies inside one
//!   record. Only a message spread over several records is copied, into the
//!   caller's `scratch` vector (at most [`MAX_SCRATCH`] bytes in all), so
//!   everything returned borrows from `stream` or `scratch`;
//! - the walk stops at the first ChangeCipherSpec or application-data
//!   record: what follows is encrypted ([`Flight::encrypted`]). With TLS 1.3
//!   the certificate is therefore never seen;
//! - unknown versions, cipher suites, extensions, alert codes are kept as
//!   integers; GREASE values (RFC 8701) are kept in the lists and skipped by
//!   [`ja4`].
//!
//! Split between `tls-parser` and our own code: tls-parser 0.12 parses the
//! fixed fields of ClientHello and ServerHello, the Certificate chain and
//! alerts. Record framing, handshake defragmentation and the extension
//! lists use [`Cursor`] because tls-parser is a poor fit there:
//! - its record parser rejects a record cut short (`Incomplete`) although
//!   the messages before the cut are whole, and it has no reassembly of a
//!   handshake message split over records;
//! - its extension-list parser (`many0`) stops silently at the first
//!   extension it cannot parse and returns the ones before it, which would
//!   give a wrong JA4 and a missing SNI with no error; it also allocates a
//!   vector per list extension, and its GREASE test (`t & 0x0f0f == 0x0a0a`)
//!   is wider than RFC 8701's.
//!
//! Bounds: records walked [`MAX_RECORDS`], handshake messages
//! [`MAX_MESSAGES`], one stitched message [`MAX_STITCHED`] bytes, a
//! ClientHello [`MAX_HELLO_LEN`] bytes, entries per list [`MAX_LIST`], ALPN
//! names [`MAX_ALPN`], certificates [`MAX_CERTS`], DNS SANs per certificate
//! [`MAX_SANS`], alerts [`MAX_ALERTS`].
//!
//! Example, in prose: on the first client payload, `client_hello_len(p)`
//! says `Complete(_)`, so `parse_client_hello(p, &mut scratch)` gives
//! `sni == Some("example.com")` and `ja4(&hello, Transport::Tcp)` gives
//! `"t13d1516h2_8daaf6152771_e5627efa2ab1"`; if it says `More(n)`, the flow
//! collects the stream in a `StreamBuf` and asks again. On the server side,
//! `parse_flight(sb.contiguous(), &mut scratch)` yields the ServerHello, the
//! chain with each certificate's subject, issuer, SANs and validity, and any
//! alert.

use std::fmt::Write as _;

use tls_parser::nom;

use crate::proto::cursor::Cursor;
use crate::proto::ParseError;

/// Record header: type, version, length.
pub const RECORD_HEADER_LEN: usize = 5;
/// Largest record payload accepted (2^14 plus the 2048 bytes of expansion
/// RFC 5246 allows a ciphertext).
pub const MAX_RECORD_LEN: usize = (1 << 14) + 2048;
/// Largest ClientHello handshake message (header included) collected.
pub const MAX_HELLO_LEN: usize = 32 * 1024;
/// Most records walked in one stream prefix.
pub const MAX_RECORDS: usize = 64;
/// Most handshake messages framed in one stream prefix.
pub const MAX_MESSAGES: usize = 32;
/// Largest handshake message that is copied when it spans records.
pub const MAX_STITCHED: usize = 64 * 1024;
/// Most bytes copied into `scratch` in one call.
pub const MAX_SCRATCH: usize = 96 * 1024;
/// Most entries in one list: cipher suites, extensions, groups, signature
/// algorithms, versions.
pub const MAX_LIST: usize = 512;
/// Most ALPN protocol names kept.
pub const MAX_ALPN: usize = 32;
/// Most certificates kept from one Certificate message.
pub const MAX_CERTS: usize = 16;
/// Most DNS names kept from one certificate's subjectAltName.
pub const MAX_SANS: usize = 512;
/// Most alerts kept.
pub const MAX_ALERTS: usize = 8;

const CT_CHANGE_CIPHER_SPEC: u8 = 20;
const CT_ALERT: u8 = 21;
const CT_HANDSHAKE: u8 = 22;
const CT_APPLICATION_DATA: u8 = 23;
const CT_HEARTBEAT: u8 = 24;

/// Handshake message types used here.
pub const HS_CLIENT_HELLO: u8 = 1;
pub const HS_SERVER_HELLO: u8 = 2;
pub const HS_CERTIFICATE: u8 = 11;

const EXT_SERVER_NAME: u16 = 0;
const EXT_SUPPORTED_GROUPS: u16 = 10;
const EXT_SIGNATURE_ALGORITHMS: u16 = 13;
const EXT_ALPN: u16 = 16;
const EXT_SUPPORTED_VERSIONS: u16 = 43;

/// The `random` of a TLS 1.3 HelloRetryRequest (RFC 8446 §4.1.3).
const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// A GREASE value (RFC 8701): `0x?a?a` with both bytes equal.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

// ---------------------------------------------------------------------------
// How much of the stream a ClientHello needs
// ---------------------------------------------------------------------------

/// What [`client_hello_len`] knows about a client stream prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The stream does not begin with a TLS handshake record carrying a
    /// ClientHello (SSL 2 hellos included).
    NotTls,
    /// At least this many stream bytes, counted from the start, are needed
    /// before the answer can change (a lower bound when the hello spans
    /// records whose headers have not arrived).
    More(usize),
    /// The ClientHello is complete: it ends at this stream offset.
    Complete(usize),
    /// Longer than [`MAX_HELLO_LEN`], or spread over more than
    /// [`MAX_RECORDS`] records: not collected.
    TooLarge,
}

/// Whether `stream` starts like a ClientHello record (handshake record,
/// version 3.x with x ≤ 4, handshake type 1), whatever its record length
/// says. When [`client_hello_len`] answers [`Need::NotTls`] for such a
/// stream, it is TLS whose lengths lie (a record length of 0 or past
/// [`MAX_RECORD_LEN`], a hello continued by a record that is not
/// handshake): a malformed ClientHello, not another protocol.
pub fn looks_like_client_hello(stream: &[u8]) -> bool {
    matches!(stream, [CT_HANDSHAKE, 3, minor, _, _, HS_CLIENT_HELLO, ..] if *minor <= 4)
}

/// Whether `stream` (the first bytes of a client→server TCP stream) begins
/// with a TLS ClientHello, and how many bytes the whole hello needs. The
/// hello may span several records and TCP segments. Allocates nothing.
pub fn client_hello_len(stream: &[u8]) -> Need {
    let mut c = Cursor::new(stream);
    // The handshake header, which a pathological sender may split over
    // records, and the hello's length once it is known.
    let mut hdr = [0u8; 4];
    let mut nhdr = 0;
    let mut total: Option<usize> = None;
    let mut have = 0usize; // handshake bytes before the current record
    for _ in 0..MAX_RECORDS {
        let start = c.pos();
        let header_needed = || match total {
            // The smallest stream that could finish the hello: the rest
            // in a single record.
            Some(t) => Need::More(start + RECORD_HEADER_LEN + (t - have)),
            None => Need::More(start + RECORD_HEADER_LEN),
        };
        // Record header, checked byte by byte so that a short prefix says
        // NotTls as early as it can.
        match c.u8() {
            Ok(CT_HANDSHAKE) => {}
            Ok(_) => return Need::NotTls,
            Err(_) => return header_needed(),
        }
        match c.u8() {
            Ok(3) => {}
            Ok(_) => return Need::NotTls,
            Err(_) => return header_needed(),
        }
        match c.u8() {
            Ok(minor) if minor <= 4 => {}
            Ok(_) => return Need::NotTls,
            Err(_) => return header_needed(),
        }
        let len = match c.u16() {
            Ok(n) if n == 0 || usize::from(n) > MAX_RECORD_LEN => return Need::NotTls,
            Ok(n) => usize::from(n),
            Err(_) => return header_needed(),
        };
        let payload_start = c.pos();
        let avail = c.remaining().min(len);
        let Ok(payload) = c.bytes(avail) else {
            return Need::NotTls;
        };
        for (slot, &b) in hdr.iter_mut().skip(nhdr).zip(payload) {
            *slot = b;
            nhdr += 1;
        }
        if nhdr >= 1 && hdr[0] != HS_CLIENT_HELLO {
            return Need::NotTls;
        }
        if total.is_none() && nhdr == 4 {
            let t = u32::from_be_bytes([0, hdr[1], hdr[2], hdr[3]]) as usize + 4;
            if t > MAX_HELLO_LEN {
                return Need::TooLarge;
            }
            total = Some(t);
        }
        match total {
            // The hello ends in this record, at `payload_start + t - have`.
            Some(t) if have + len >= t => {
                let hello_end = payload_start + (t - have);
                return if stream.len() >= hello_end {
                    Need::Complete(hello_end)
                } else {
                    Need::More(hello_end)
                };
            }
            // More records are needed; this one first.
            Some(t) if avail < len => {
                return Need::More(payload_start + len + RECORD_HEADER_LEN + (t - have - len))
            }
            None if avail < len => return Need::More(payload_start + avail + (4 - nhdr)),
            _ => {}
        }
        have += len;
    }
    Need::TooLarge
}

// ---------------------------------------------------------------------------
// ClientHello
// ---------------------------------------------------------------------------

/// The fields of a ClientHello a sensor and JA4 need. Lists keep the wire
/// order and GREASE values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello<'a> {
    /// `legacy_version` (0x0303 for TLS 1.2 and 1.3).
    pub legacy_version: u16,
    pub random: &'a [u8],
    pub session_id: &'a [u8],
    pub cipher_suites: Vec<u16>,
    /// Extension types in the order sent.
    pub extensions: Vec<u16>,
    /// The first `host_name` of the server_name extension, if valid UTF-8.
    pub sni: Option<&'a str>,
    /// ALPN protocol names in the order offered (ext 16).
    pub alpn: Vec<&'a [u8]>,
    /// Versions offered in supported_versions (ext 43).
    pub supported_versions: Vec<u16>,
    /// signature_algorithms (ext 13), in order.
    pub signature_algorithms: Vec<u16>,
    /// supported_groups (ext 10), in order.
    pub supported_groups: Vec<u16>,
    /// The first extension whose content did not parse (its type is still
    /// listed in `extensions`; its fields are left empty).
    pub bad_extension: Option<u16>,
}

impl ClientHello<'_> {
    /// The highest version offered: the largest non-GREASE entry of
    /// supported_versions, else `legacy_version`.
    pub fn max_version(&self) -> u16 {
        self.supported_versions
            .iter()
            .copied()
            .filter(|&v| !is_grease(v))
            .max()
            .unwrap_or(self.legacy_version)
    }

    /// True when the server_name extension is present (even if unreadable).
    pub fn has_sni_extension(&self) -> bool {
        self.extensions.contains(&EXT_SERVER_NAME)
    }
}

/// Parses the ClientHello at the start of a client→server stream prefix.
///
/// The hello is borrowed from `stream` when it lies in one record; when it
/// spans records it is copied into `scratch` (cleared first) and borrowed
/// from there. Error offsets are stream offsets for record problems and
/// offsets within the handshake message otherwise.
pub fn parse_client_hello<'a>(
    stream: &'a [u8],
    scratch: &'a mut Vec<u8>,
) -> Result<ClientHello<'a>, ParseError> {
    let records = walk_records(stream);
    if records.hs.is_empty() {
        return Err(records.error.unwrap_or(match stream.first() {
            None | Some(&CT_HANDSHAKE) => ParseError::Truncated {
                offset: stream.len(),
                needed: RECORD_HEADER_LEN.saturating_sub(stream.len()).max(1),
            },
            Some(_) => ParseError::Invalid {
                offset: 0,
                what: "not a TLS handshake record",
            },
        }));
    }
    scratch.clear();
    let mut msgs = Messages::default();
    frame_messages(stream, &records.hs, scratch, 1, &mut msgs);
    let scratch: &'a Vec<u8> = scratch;
    match msgs.list.first() {
        Some(m) => match m.bytes(stream, scratch) {
            Some(msg) => parse_client_hello_handshake(msg),
            None => Err(ParseError::Invalid {
                offset: 0,
                what: "handshake message too large",
            }),
        },
        None => Err(ParseError::Truncated {
            offset: stream.len(),
            needed: msgs.missing.max(1),
        }),
    }
}

/// Parses a ClientHello handshake message: type 1, a u24 length, the body
/// (as QUIC's CRYPTO stream carries it). Offsets are within `hs`.
pub fn parse_client_hello_handshake(hs: &[u8]) -> Result<ClientHello<'_>, ParseError> {
    let mut c = Cursor::new(hs);
    if c.u8()? != HS_CLIENT_HELLO {
        return Err(ParseError::Invalid {
            offset: 0,
            what: "not a ClientHello",
        });
    }
    let len = c.u24()? as usize;
    if len + 4 > MAX_HELLO_LEN {
        return Err(ParseError::Invalid {
            offset: 1,
            what: "ClientHello too long",
        });
    }
    let body = c.bytes(len)?;
    let (rest, ch) = tls_parser::parse_tls_handshake_client_hello(body)
        .map_err(|e| nom_error(body, 4, e, "ClientHello"))?;
    if ch.ciphers.len() > MAX_LIST {
        return Err(ParseError::Invalid {
            offset: 6 + 32,
            what: "too many cipher suites",
        });
    }
    let mut hello = ClientHello {
        legacy_version: ch.version.0,
        random: ch.random,
        session_id: ch.session_id.unwrap_or(&[]),
        cipher_suites: ch.ciphers.iter().map(|c| c.0).collect(),
        extensions: Vec::new(),
        sni: None,
        alpn: Vec::new(),
        supported_versions: Vec::new(),
        signature_algorithms: Vec::new(),
        supported_groups: Vec::new(),
        bad_extension: None,
    };
    let body_end = 4 + body.len();
    let ext = match ch.ext {
        Some(ext) => ext,
        // tls-parser reads a cut extension block as "no extensions".
        None if !rest.is_empty() => {
            return Err(ParseError::Invalid {
                offset: body_end - rest.len(),
                what: "extensions length",
            })
        }
        None => return Ok(hello),
    };
    // Re-locate the extension block in `hs` so offsets stay message-relative.
    let ext_start = body_end - rest.len() - ext.len();
    c.seek(ext_start)?;
    let block = c.sub(ext.len())?;
    hello.extensions = walk_extensions(block, |ty, body| {
        let res = match ty {
            EXT_SERVER_NAME => server_name(body).map(|s| hello.sni = hello.sni.or(s)),
            EXT_ALPN if hello.alpn.is_empty() => alpn_list(body).map(|v| hello.alpn = v),
            EXT_SUPPORTED_VERSIONS if hello.supported_versions.is_empty() => {
                u16_list_vec8(body).map(|v| hello.supported_versions = v)
            }
            EXT_SIGNATURE_ALGORITHMS if hello.signature_algorithms.is_empty() => {
                u16_list_vec16(body).map(|v| hello.signature_algorithms = v)
            }
            EXT_SUPPORTED_GROUPS if hello.supported_groups.is_empty() => {
                u16_list_vec16(body).map(|v| hello.supported_groups = v)
            }
            _ => Ok(()),
        };
        if res.is_err() && hello.bad_extension.is_none() {
            hello.bad_extension = Some(ty);
        }
    })?;
    Ok(hello)
}

/// Walks an extension block, calling `visit(type, content)` for each, and
/// returns the types in order. Framing errors fail; content is the
/// visitor's business.
fn walk_extensions<'a>(
    mut c: Cursor<'a>,
    mut visit: impl FnMut(u16, Cursor<'a>),
) -> Result<Vec<u16>, ParseError> {
    // Room for a browser's hello (16 to 20 extensions) at once.
    let mut types = Vec::with_capacity(24);
    for _ in 0..MAX_LIST {
        if c.is_empty() {
            return Ok(types);
        }
        let ty = c.u16()?;
        let body = c.vec16()?;
        types.push(ty);
        visit(ty, body);
    }
    if c.is_empty() {
        Ok(types)
    } else {
        Err(ParseError::Invalid {
            offset: c.offset(),
            what: "too many extensions",
        })
    }
}

/// server_name (RFC 6066 §3): the first host_name entry.
///
/// The whole list is walked before the name is believed: an entry whose
/// length is shorter than its name leaves the rest of the name to be read
/// as further entries, so a list that does not end exactly where the
/// extension does, or an entry that runs past the list, is an error (and
/// no name comes out of it).
fn server_name<'a>(mut c: Cursor<'a>) -> Result<Option<&'a str>, ParseError> {
    let mut list = c.vec16()?;
    if !c.is_empty() {
        return Err(ParseError::Invalid {
            offset: c.offset(),
            what: "bytes after the server_name list",
        });
    }
    let mut first = None;
    for _ in 0..MAX_LIST {
        if list.is_empty() {
            return Ok(first.and_then(|n| std::str::from_utf8(n).ok()));
        }
        let name_type = list.u8()?;
        let name = list.vec16()?.rest();
        if name_type == 0 && first.is_none() {
            first = Some(name);
        }
    }
    Err(ParseError::Invalid {
        offset: list.offset(),
        what: "too many server_name entries",
    })
}

/// application_layer_protocol_negotiation (RFC 7301 §3.1).
fn alpn_list<'a>(mut c: Cursor<'a>) -> Result<Vec<&'a [u8]>, ParseError> {
    let mut list = c.vec16()?;
    let mut names = Vec::new();
    for _ in 0..MAX_ALPN {
        if list.is_empty() {
            break;
        }
        names.push(list.vec8()?.rest());
    }
    Ok(names)
}

fn u16_list_vec8(mut c: Cursor<'_>) -> Result<Vec<u16>, ParseError> {
    u16_list(c.vec8()?)
}

fn u16_list_vec16(mut c: Cursor<'_>) -> Result<Vec<u16>, ParseError> {
    u16_list(c.vec16()?)
}

fn u16_list(mut c: Cursor<'_>) -> Result<Vec<u16>, ParseError> {
    let n = c.remaining() / 2;
    if n * 2 != c.remaining() || n > MAX_LIST {
        return Err(ParseError::Invalid {
            offset: c.offset(),
            what: "u16 list length",
        });
    }
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(c.u16()?);
    }
    Ok(v)
}

/// Maps a tls-parser (nom) error on `input`, which starts `base` bytes into
/// the handshake message, to a [`ParseError`].
fn nom_error(
    input: &[u8],
    base: usize,
    e: nom::Err<nom::error::Error<&[u8]>>,
    what: &'static str,
) -> ParseError {
    match e {
        nom::Err::Incomplete(needed) => ParseError::Truncated {
            offset: base + input.len(),
            needed: match needed {
                nom::Needed::Size(n) => n.get(),
                nom::Needed::Unknown => 1,
            },
        },
        nom::Err::Error(e) | nom::Err::Failure(e) => ParseError::Invalid {
            offset: base + input.len().saturating_sub(e.input.len()),
            what,
        },
    }
}

// ---------------------------------------------------------------------------
// JA4
// ---------------------------------------------------------------------------

/// The transport a ClientHello came over: JA4's first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Quic,
}

/// The JA4 fingerprint of a ClientHello, as FoxIO's JA4 specification
/// defines it, e.g. `t13d1516h2_8daaf6152771_e5627efa2ab1`.
/// [`ja4`] through a per-thread cache: devices repeat the same hello, and
/// the fingerprint (two SHA-256 over sorted, hex-printed lists: about
/// 15,000 instructions) depends only on fields hashed here in a few
/// hundred. The cache is keyed by a 64-bit hash of every input, seeded per
/// process (so inputs cannot be chosen to collide), and holds at most
/// 4,096 fingerprints per thread.
pub fn ja4_cached(ch: &ClientHello<'_>, transport: Transport) -> String {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::hash::{BuildHasher, Hash, Hasher};
    const MAX: usize = 4096;
    thread_local! {
        static CACHE: RefCell<(foldhash::fast::RandomState, HashMap<u64, String>)> =
            RefCell::new(Default::default());
    }
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let (state, map) = &mut *c;
        let mut h = state.build_hasher();
        (transport == Transport::Quic).hash(&mut h);
        ch.legacy_version.hash(&mut h);
        ch.supported_versions.hash(&mut h);
        ch.cipher_suites.hash(&mut h);
        ch.extensions.hash(&mut h);
        ch.alpn.first().hash(&mut h);
        ch.signature_algorithms.hash(&mut h);
        let key = h.finish();
        if let Some(v) = map.get(&key) {
            return v.clone();
        }
        let v = ja4(ch, transport);
        if map.len() >= MAX {
            map.clear();
        }
        map.insert(key, v.clone());
        v
    })
}

pub fn ja4(ch: &ClientHello<'_>, transport: Transport) -> String {
    let mut out = String::with_capacity(36);
    out.push(match transport {
        Transport::Tcp => 't',
        Transport::Quic => 'q',
    });
    out.push_str(match ch.max_version() {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    });
    out.push(if ch.has_sni_extension() { 'd' } else { 'i' });

    let mut ciphers: Vec<u16> = ch
        .cipher_suites
        .iter()
        .copied()
        .filter(|&v| !is_grease(v))
        .collect();
    let ext_count = ch.extensions.iter().filter(|&&v| !is_grease(v)).count();
    let _ = write!(out, "{:02}{:02}", ciphers.len().min(99), ext_count.min(99));
    out.push_str(&alpn_chars(ch.alpn.first().copied()));

    out.push('_');
    ciphers.sort_unstable();
    out.push_str(&hash12(&hex_list(&ciphers)));

    out.push('_');
    let mut exts: Vec<u16> = ch
        .extensions
        .iter()
        .copied()
        .filter(|&v| !is_grease(v) && v != EXT_SERVER_NAME && v != EXT_ALPN)
        .collect();
    exts.sort_unstable();
    let mut c = hex_list(&exts);
    let sigs: Vec<u16> = ch
        .signature_algorithms
        .iter()
        .copied()
        .filter(|&v| !is_grease(v))
        .collect();
    if !exts.is_empty() && !sigs.is_empty() {
        c.push('_');
        c.push_str(&hex_list(&sigs));
    }
    out.push_str(&hash12(&c));
    out
}

/// JA4's two ALPN characters: first and last of the first name when both are
/// ASCII alphanumeric, else first and last hex digit of the name; "00" when
/// there is none.
fn alpn_chars(first: Option<&[u8]>) -> String {
    let (Some(&a), Some(&z)) = (first.and_then(|n| n.first()), first.and_then(|n| n.last())) else {
        return "00".to_string();
    };
    if a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric() {
        [a as char, z as char].iter().collect()
    } else {
        format!("{:x}{:x}", a >> 4, z & 0x0f)
    }
}

/// Comma-separated 4-digit lowercase hex.
fn hex_list(v: &[u16]) -> String {
    let mut s = String::with_capacity(v.len() * 5);
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{x:04x}");
    }
    s
}

/// The first 12 hex digits of SHA-256, or twelve zeros for an empty list.
fn hash12(s: &str) -> String {
    if s.is_empty() {
        return "000000000000".to_string();
    }
    let d = ring::digest::digest(&ring::digest::SHA256, s.as_bytes());
    let mut out = String::with_capacity(12);
    for b in d.as_ref().iter().take(6) {
        let _ = write!(out, "{b:02x}");
    }
    out
}

// ---------------------------------------------------------------------------
// Records and handshake messages
// ---------------------------------------------------------------------------

/// A TLS alert (RFC 8446 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alert {
    /// 1 warning, 2 fatal.
    pub level: u8,
    pub description: u8,
}

impl Alert {
    pub fn is_fatal(&self) -> bool {
        self.level == 2
    }

    /// The RFC name of the description, e.g. `"unknown_ca"`.
    pub fn name(&self) -> &'static str {
        alert_name(self.description)
    }
}

/// The RFC 8446 / RFC 5246 (and extensions') name of an alert description,
/// or `"unknown"`.
pub fn alert_name(description: u8) -> &'static str {
    match description {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        121 => "ech_required",
        _ => "unknown",
    }
}

/// What a record walk found.
#[derive(Debug, Default)]
struct Records {
    /// Handshake record payloads (the available part of a cut one), in order.
    hs: Vec<(usize, usize)>,
    alerts: Vec<Alert>,
    encrypted: bool,
    truncated: bool,
    error: Option<ParseError>,
}

/// Walks the records at the start of `stream` until the stream ends, a
/// ChangeCipherSpec or application-data record, a bad record, or
/// [`MAX_RECORDS`]. Record framing uses [`Cursor`] (not tls-parser) so a cut
/// last record still contributes the bytes it has.
fn walk_records(stream: &[u8]) -> Records {
    let mut r = Records::default();
    let mut c = Cursor::new(stream);
    for _ in 0..MAX_RECORDS {
        if c.is_empty() {
            return r;
        }
        let start = c.pos();
        let Ok([ty, major, _minor, l0, l1]) = c.array::<RECORD_HEADER_LEN>() else {
            r.truncated = true;
            return r;
        };
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        if major != 3 || len > MAX_RECORD_LEN {
            r.error = Some(ParseError::Invalid {
                offset: start,
                what: "not a TLS record",
            });
            return r;
        }
        let payload_start = c.pos();
        let avail = c.remaining().min(len);
        let Ok(payload) = c.bytes(avail) else {
            return r;
        };
        match ty {
            CT_CHANGE_CIPHER_SPEC | CT_APPLICATION_DATA => {
                r.encrypted = true;
                return r;
            }
            CT_HANDSHAKE => {
                if avail > 0 {
                    r.hs.push((payload_start, payload_start + avail));
                }
            }
            // A cleartext alert is exactly two bytes (RFC 8446 §5.1 forbids
            // coalescing; no stack does it in TLS 1.2 either). Any other
            // length is an encrypted alert: the stream began mid-connection.
            CT_ALERT if len != 2 => {
                r.encrypted = true;
                return r;
            }
            CT_ALERT => {
                if let Ok((_, tls_parser::TlsMessage::Alert(a))) =
                    tls_parser::parse_tls_message_alert(payload)
                {
                    if r.alerts.len() < MAX_ALERTS {
                        r.alerts.push(Alert {
                            level: a.severity.0,
                            description: a.code.0,
                        });
                    }
                }
            }
            CT_HEARTBEAT => {}
            _ => {
                r.error = Some(ParseError::Invalid {
                    offset: start,
                    what: "record content type",
                });
                return r;
            }
        }
        if avail < len {
            r.truncated = true;
            return r;
        }
    }
    if !c.is_empty() {
        r.error = Some(ParseError::Invalid {
            offset: c.pos(),
            what: "too many records",
        });
    }
    r
}

/// Where one whole handshake message (header included) lies.
#[derive(Debug, Clone, Copy)]
struct Message {
    ty: u8,
    /// `None`: too large to stitch; only its type is known.
    at: Option<Loc>,
}

#[derive(Debug, Clone, Copy)]
enum Loc {
    Stream(usize, usize),
    Scratch(usize, usize),
}

impl Message {
    fn bytes<'a>(&self, stream: &'a [u8], scratch: &'a [u8]) -> Option<&'a [u8]> {
        match self.at? {
            Loc::Stream(a, b) => stream.get(a..b),
            Loc::Scratch(a, b) => scratch.get(a..b),
        }
    }
}

#[derive(Debug, Default)]
struct Messages {
    list: Vec<Message>,
    /// The stream ended inside a message.
    truncated: bool,
    /// Bytes the cut message still lacks.
    missing: usize,
}

/// The handshake byte stream: the concatenation of handshake record
/// payloads, `ranges` of `stream`.
struct HsBytes<'s> {
    stream: &'s [u8],
    ranges: &'s [(usize, usize)],
}

impl HsBytes<'_> {
    fn len(&self) -> usize {
        self.ranges.iter().map(|&(a, b)| b - a).sum()
    }

    /// The stream index of handshake byte `pos`, and the end of its range.
    fn locate(&self, pos: usize) -> Option<(usize, usize)> {
        let mut base = 0;
        for &(a, b) in self.ranges {
            if pos < base + (b - a) {
                return Some((a + pos - base, b));
            }
            base += b - a;
        }
        None
    }

    fn byte(&self, pos: usize) -> Option<u8> {
        let (i, _) = self.locate(pos)?;
        self.stream.get(i).copied()
    }

    /// Appends handshake bytes `[from, to)` to `out`.
    fn copy(&self, from: usize, to: usize, out: &mut Vec<u8>) {
        let mut pos = from;
        while pos < to {
            let Some((i, end)) = self.locate(pos) else {
                return;
            };
            let n = (end - i).min(to - pos);
            let Some(part) = self.stream.get(i..i + n) else {
                return;
            };
            out.extend_from_slice(part);
            pos += n;
        }
    }
}

/// Frames up to `max` handshake messages from the handshake records
/// `ranges` of `stream`. A message inside one record is located in
/// `stream`; one spanning records is copied to `scratch`.
fn frame_messages(
    stream: &[u8],
    ranges: &[(usize, usize)],
    scratch: &mut Vec<u8>,
    max: usize,
    out: &mut Messages,
) {
    let hs = HsBytes { stream, ranges };
    let total = hs.len();
    let mut pos = 0;
    for _ in 0..max.min(MAX_MESSAGES) {
        if pos >= total {
            return;
        }
        let mut h = [0u8; 4];
        for (k, slot) in h.iter_mut().enumerate() {
            let Some(b) = hs.byte(pos + k) else {
                out.truncated = true;
                out.missing = pos + 4 - total;
                return;
            };
            *slot = b;
        }
        let [ty, a, b, c] = h;
        let len = u32::from_be_bytes([0, a, b, c]) as usize + 4;
        if pos + len > total {
            out.truncated = true;
            out.missing = pos + len - total;
            return;
        }
        let at = match hs.locate(pos) {
            Some((i, end)) if i + len <= end => Some(Loc::Stream(i, i + len)),
            _ if len <= MAX_STITCHED && scratch.len() + len <= MAX_SCRATCH => {
                let from = scratch.len();
                hs.copy(pos, pos + len, scratch);
                Some(Loc::Scratch(from, scratch.len()))
            }
            _ => None,
        };
        out.list.push(Message { ty, at });
        pos += len;
    }
}

// ---------------------------------------------------------------------------
// The server's (or client's) cleartext flight
// ---------------------------------------------------------------------------

/// A ServerHello (or TLS 1.3 HelloRetryRequest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello<'a> {
    pub legacy_version: u16,
    pub random: &'a [u8],
    pub session_id: &'a [u8],
    pub cipher_suite: u16,
    pub compression: u8,
    /// Extension types in the order sent.
    pub extensions: Vec<u16>,
    /// supported_versions (ext 43): the version chosen for TLS 1.3.
    pub selected_version: Option<u16>,
    /// The ALPN protocol chosen (ext 16).
    pub alpn: Option<&'a [u8]>,
    /// The first extension whose content did not parse.
    pub bad_extension: Option<u16>,
}

impl ServerHello<'_> {
    /// The negotiated version: `selected_version`, else `legacy_version`.
    pub fn version(&self) -> u16 {
        self.selected_version.unwrap_or(self.legacy_version)
    }

    /// True for a TLS 1.3 HelloRetryRequest (a ServerHello with RFC 8446's
    /// special random): the client must send a second ClientHello.
    pub fn is_hello_retry_request(&self) -> bool {
        self.random == HELLO_RETRY_RANDOM
    }
}

/// A certificate from a TLS ≤ 1.2 Certificate message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate<'a> {
    /// The DER bytes, kept for chain validation.
    pub der: &'a [u8],
    /// The fields read by x509-parser; `None` when it could not parse them.
    pub info: Option<CertInfo<'a>>,
}

/// The fields of an X.509 certificate the checks use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo<'a> {
    /// The subject's first commonName, when a string type.
    pub subject_cn: Option<&'a str>,
    /// The whole subject, e.g. `C=US, O=Example, CN=example.com`.
    pub subject: String,
    pub issuer_cn: Option<&'a str>,
    /// The issuer's first organizationName.
    pub issuer_org: Option<&'a str>,
    /// The whole issuer.
    pub issuer: String,
    /// dNSName entries of subjectAltName, in order (at most [`MAX_SANS`]).
    pub san_dns: Vec<&'a str>,
    /// Validity, in Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
}

/// What the cleartext part of one direction of a TLS stream shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flight<'a> {
    pub server_hello: Option<ServerHello<'a>>,
    /// The first Certificate message's chain, leaf first (TLS ≤ 1.2 only).
    pub certificates: Vec<Certificate<'a>>,
    /// Types of the handshake messages framed, in order (at most
    /// [`MAX_MESSAGES`]).
    pub handshake_types: Vec<u8>,
    /// Cleartext alerts, in order (at most [`MAX_ALERTS`]).
    pub alerts: Vec<Alert>,
    /// A ChangeCipherSpec or application-data record was reached: the walk
    /// stopped there, as what follows is encrypted.
    pub encrypted: bool,
    /// The stream ended inside a record or handshake message.
    pub truncated: bool,
    /// The first malformed record (the walk stopped there; stream offset)
    /// or message (skipped; offset within the message).
    pub error: Option<ParseError>,
}

/// Walks the cleartext records at the start of one direction of a TLS
/// stream: the server's flight (ServerHello, Certificate chain, alerts) or
/// the client's (its alerts). Lax: a cut prefix yields every message
/// completed before the cut. Messages spanning records are copied into
/// `scratch` (cleared first).
pub fn parse_flight<'a>(stream: &'a [u8], scratch: &'a mut Vec<u8>) -> Flight<'a> {
    let records = walk_records(stream);
    scratch.clear();
    let mut msgs = Messages::default();
    frame_messages(stream, &records.hs, scratch, MAX_MESSAGES, &mut msgs);
    let scratch: &'a Vec<u8> = scratch;

    let mut f = Flight {
        alerts: records.alerts,
        encrypted: records.encrypted,
        truncated: records.truncated || msgs.truncated,
        error: records.error,
        ..Flight::default()
    };
    for m in &msgs.list {
        f.handshake_types.push(m.ty);
        let Some(msg) = m.bytes(stream, scratch) else {
            continue;
        };
        let res = match m.ty {
            HS_SERVER_HELLO if f.server_hello.is_none() => {
                parse_server_hello(msg).map(|sh| f.server_hello = Some(sh))
            }
            // A TLS 1.3 Certificate has another layout (and is encrypted).
            HS_CERTIFICATE if f.certificates.is_empty() && !tls13(&f.server_hello) => {
                parse_certificates(msg).map(|c| f.certificates = c)
            }
            _ => Ok(()),
        };
        if let Err(e) = res {
            f.error = f.error.or(Some(e));
        }
    }
    f
}

fn tls13(sh: &Option<ServerHello<'_>>) -> bool {
    sh.as_ref().is_some_and(|s| s.version() == 0x0304)
}

/// Cleartext alerts at the start of one direction of a TLS stream (client
/// or server), without framing handshake messages. Allocates only when an
/// alert is found.
pub fn parse_alerts(stream: &[u8]) -> Vec<Alert> {
    walk_records(stream).alerts
}

/// A ServerHello handshake message (header included).
fn parse_server_hello(msg: &[u8]) -> Result<ServerHello<'_>, ParseError> {
    let mut c = Cursor::new(msg);
    c.skip(1)?;
    let len = c.u24()? as usize;
    let body = c.bytes(len)?;
    let (rest, sh) = tls_parser::parse_tls_handshake_server_hello(body)
        .map_err(|e| nom_error(body, 4, e, "ServerHello"))?;
    let mut hello = ServerHello {
        legacy_version: sh.version.0,
        random: sh.random,
        session_id: sh.session_id.unwrap_or(&[]),
        cipher_suite: sh.cipher.0,
        compression: sh.compression.0,
        extensions: Vec::new(),
        selected_version: None,
        alpn: None,
        bad_extension: None,
    };
    let body_end = 4 + body.len();
    let Some(ext) = sh.ext else {
        return if rest.is_empty() {
            Ok(hello)
        } else {
            Err(ParseError::Invalid {
                offset: body_end - rest.len(),
                what: "extensions length",
            })
        };
    };
    c.seek(body_end - rest.len() - ext.len())?;
    let block = c.sub(ext.len())?;
    hello.extensions = walk_extensions(block, |ty, mut body| {
        let res = match ty {
            EXT_SUPPORTED_VERSIONS => body.u16().map(|v| hello.selected_version = Some(v)),
            EXT_ALPN => alpn_list(body).map(|v| hello.alpn = v.first().copied()),
            _ => Ok(()),
        };
        if res.is_err() && hello.bad_extension.is_none() {
            hello.bad_extension = Some(ty);
        }
    })?;
    Ok(hello)
}

/// A TLS ≤ 1.2 Certificate handshake message (header included).
fn parse_certificates(msg: &[u8]) -> Result<Vec<Certificate<'_>>, ParseError> {
    let body = msg.get(4..).unwrap_or(&[]);
    let (_, parsed) = tls_parser::parse_tls_handshake_msg_certificate(body)
        .map_err(|e| nom_error(body, 4, e, "Certificate"))?;
    let tls_parser::TlsMessageHandshake::Certificate(chain) = parsed else {
        return Ok(Vec::new());
    };
    Ok(chain
        .cert_chain
        .iter()
        .take(MAX_CERTS)
        .map(|raw| Certificate {
            der: raw.data,
            info: cert_info(raw.data),
        })
        .collect())
}

/// Reads the checked fields of one DER certificate with x509-parser.
fn cert_info(der: &[u8]) -> Option<CertInfo<'_>> {
    use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let tbs = &cert.tbs_certificate;
    let san_dns = match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|g| match g {
                GeneralName::DNSName(n) => Some(*n),
                _ => None,
            })
            .take(MAX_SANS)
            .collect(),
        _ => Vec::new(),
    };
    let subject_cn = tbs.subject.iter_common_name().find_map(|a| a.as_str().ok());
    let issuer_cn = tbs.issuer.iter_common_name().find_map(|a| a.as_str().ok());
    let issuer_org = tbs.issuer.iter_organization().find_map(|a| a.as_str().ok());
    let info = CertInfo {
        subject_cn,
        subject: tbs.subject.to_string(),
        issuer_cn,
        issuer_org,
        issuer: tbs.issuer.to_string(),
        san_dns,
        not_before: tbs.validity.not_before.timestamp(),
        not_after: tbs.validity.not_after.timestamp(),
    };
    Some(info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // -- byte builders -----------------------------------------------------

    fn v8(b: &[u8]) -> Vec<u8> {
        [&[b.len() as u8][..], b].concat()
    }
    fn v16(b: &[u8]) -> Vec<u8> {
        [&(b.len() as u16).to_be_bytes()[..], b].concat()
    }
    fn v24(b: &[u8]) -> Vec<u8> {
        [&(b.len() as u32).to_be_bytes()[1..], b].concat()
    }
    fn u16s(l: &[u16]) -> Vec<u8> {
        l.iter().flat_map(|x| x.to_be_bytes()).collect()
    }
    fn ext(ty: u16, body: &[u8]) -> Vec<u8> {
        [&ty.to_be_bytes()[..], &v16(body)].concat()
    }
    fn sni_ext(name: &str) -> Vec<u8> {
        ext(0, &v16(&[&[0u8][..], &v16(name.as_bytes())].concat()))
    }
    fn alpn_ext(names: &[&[u8]]) -> Vec<u8> {
        let l: Vec<u8> = names.iter().flat_map(|n| v8(n)).collect();
        ext(16, &v16(&l))
    }
    fn handshake(ty: u8, body: &[u8]) -> Vec<u8> {
        [&[ty][..], &v24(body)].concat()
    }
    fn client_hello_msg(ciphers: &[u16], exts: &[Vec<u8>]) -> Vec<u8> {
        let body = [
            &0x0303u16.to_be_bytes()[..],
            &[7u8; 32],
            &v8(&[1u8; 32]),
            &v16(&u16s(ciphers)),
            &v8(&[0]),
            &v16(&exts.concat()),
        ]
        .concat();
        handshake(HS_CLIENT_HELLO, &body)
    }
    /// `payload` framed as records of content type `ct`, each at most `max`
    /// bytes long.
    fn records(ct: u8, payload: &[u8], max: usize) -> Vec<u8> {
        payload
            .chunks(max)
            .flat_map(|c| [&[ct, 3, 1][..], &(c.len() as u16).to_be_bytes(), c].concat())
            .collect()
    }

    /// FoxIO's JA4 example ClientHello (spec "Cipher hash" and "Extension
    /// hash" sections), with GREASE sprinkled in when asked.
    fn spec_hello(grease: bool, sigs: &[u16]) -> Vec<u8> {
        let mut ciphers = vec![
            0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
            0x009c, 0x009d, 0x002f, 0x0035,
        ];
        let mut exts = Vec::new();
        if grease {
            ciphers.insert(0, 0x3a3a);
            exts.push(ext(0x9a9a, b""));
        }
        for ty in [
            0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
            0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
        ] {
            exts.push(match ty {
                0x0000 => sni_ext("example.com"),
                0x0010 => alpn_ext(&[b"h2", b"http/1.1"]),
                0x000d => ext(ty, &v16(&u16s(sigs))),
                0x002b if grease => ext(ty, &v8(&u16s(&[0x5a5a, 0x0304, 0x0303]))),
                0x002b => ext(ty, &v8(&u16s(&[0x0304, 0x0303]))),
                0x000a => ext(ty, &v16(&u16s(&[0x001d, 0x0017]))),
                _ => ext(ty, b""),
            });
        }
        if grease {
            exts.push(ext(0xdada, &[0]));
        }
        client_hello_msg(&ciphers, &exts)
    }
    const SPEC_SIGS: [u16; 8] = [
        0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
    ];

    fn der(tag: u8, content: &[u8]) -> Vec<u8> {
        let n = content.len();
        let len = match n {
            0..=127 => vec![n as u8],
            128..=255 => vec![0x81, n as u8],
            _ => vec![0x82, (n >> 8) as u8, n as u8],
        };
        [&[tag][..], &len, content].concat()
    }
    const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
    const OID_O: &[u8] = &[0x55, 0x04, 0x0a];
    fn x509_name(parts: &[(&[u8], &str)]) -> Vec<u8> {
        let rdns: Vec<u8> = parts
            .iter()
            .flat_map(|(oid, val)| {
                der(
                    0x31,
                    &der(0x30, &[der(0x06, oid), der(0x0c, val.as_bytes())].concat()),
                )
            })
            .collect();
        der(0x30, &rdns)
    }
    /// A minimal X.509 v3 certificate (unsigned: the signature is junk).
    fn test_cert(subject_cn: &str, issuer_o: &str, issuer_cn: &str, sans: &[&str]) -> Vec<u8> {
        let alg = der(
            0x30,
            &[
                der(
                    0x06,
                    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b],
                ),
                der(0x05, &[]),
            ]
            .concat(),
        );
        let validity = der(
            0x30,
            &[der(0x17, b"200101000000Z"), der(0x18, b"20500101000000Z")].concat(),
        );
        let spki = der(
            0x30,
            &[
                der(
                    0x30,
                    &[
                        der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]),
                        der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]),
                    ]
                    .concat(),
                ),
                der(0x03, &[0, 4, 1, 2]),
            ]
            .concat(),
        );
        let names: Vec<u8> = sans.iter().flat_map(|s| der(0x82, s.as_bytes())).collect();
        let san = der(
            0x30,
            &[
                der(0x06, &[0x55, 0x1d, 0x11]),
                der(0x04, &der(0x30, &names)),
            ]
            .concat(),
        );
        let tbs = der(
            0x30,
            &[
                der(0xa0, &der(0x02, &[2])),
                der(0x02, &[1]),
                alg.clone(),
                x509_name(&[(OID_O, issuer_o), (OID_CN, issuer_cn)]),
                validity,
                x509_name(&[(OID_CN, subject_cn)]),
                spki,
                der(0xa3, &der(0x30, &san)),
            ]
            .concat(),
        );
        der(0x30, &[tbs, alg, der(0x03, &[0, 9, 9])].concat())
    }
    fn server_hello_msg(version: u16, random: [u8; 32], cipher: u16, exts: &[Vec<u8>]) -> Vec<u8> {
        let body = [
            &version.to_be_bytes()[..],
            &random,
            &v8(&[2u8; 32]),
            &cipher.to_be_bytes(),
            &[0],
            &v16(&exts.concat()),
        ]
        .concat();
        handshake(HS_SERVER_HELLO, &body)
    }
    fn certificate_msg(certs: &[Vec<u8>]) -> Vec<u8> {
        let list: Vec<u8> = certs.iter().flat_map(|c| v24(c)).collect();
        handshake(HS_CERTIFICATE, &v24(&list))
    }
    /// A TLS 1.2 server flight: ServerHello, Certificate, ServerHelloDone.
    fn server_flight_hs() -> Vec<u8> {
        [
            server_hello_msg(
                0x0303,
                [5; 32],
                0xc02f,
                &[ext(0xff01, &[0]), alpn_ext(&[b"h2"])],
            ),
            certificate_msg(&[
                test_cert(
                    "example.com",
                    "Test CA Org",
                    "Test CA",
                    &["example.com", "www.example.com"],
                ),
                test_cert("Test CA", "Root Org", "Root", &[]),
            ]),
            handshake(14, b""),
        ]
        .concat()
    }

    // -- client_hello_len --------------------------------------------------

    #[test]
    fn need_says_not_tls_early() {
        assert_eq!(client_hello_len(b"GET / HTTP/1.1\r\n"), Need::NotTls);
        assert_eq!(client_hello_len(&[0x15, 3, 3, 0, 2, 2, 40]), Need::NotTls);
        assert_eq!(client_hello_len(&[0x16, 2]), Need::NotTls);
        assert_eq!(client_hello_len(&[0x16, 3, 1, 0, 0]), Need::NotTls);
        // A handshake record that holds a ServerHello, not a ClientHello.
        assert_eq!(client_hello_len(&[0x16, 3, 3, 0, 40, 2]), Need::NotTls);
        assert_eq!(client_hello_len(b""), Need::More(5));
        assert_eq!(client_hello_len(&[0x16, 3]), Need::More(5));
    }

    #[test]
    fn need_counts_a_hello_in_one_record() {
        let msg = spec_hello(false, &SPEC_SIGS);
        let s = records(CT_HANDSHAKE, &msg, 16384);
        assert_eq!(client_hello_len(&s), Need::Complete(s.len()));
        assert_eq!(client_hello_len(&s[..9]), Need::More(s.len()));
        assert_eq!(client_hello_len(&s[..s.len() - 1]), Need::More(s.len()));
        // Trailing bytes (the next record) do not matter.
        let more = [&s[..], &[0x14, 3, 3, 0, 1, 1]].concat();
        assert_eq!(client_hello_len(&more), Need::Complete(s.len()));
    }

    #[test]
    fn need_follows_a_hello_over_several_records() {
        let msg = spec_hello(true, &SPEC_SIGS);
        // Even the handshake header is split: 2 bytes, then 60-byte records.
        let s = [
            records(CT_HANDSHAKE, &msg[..2], 2),
            records(CT_HANDSHAKE, &msg[2..], 60),
        ]
        .concat();
        assert_eq!(client_hello_len(&s), Need::Complete(s.len()));
        let mut last = 0;
        for cut in 0..s.len() {
            match client_hello_len(&s[..cut]) {
                Need::More(n) => {
                    assert!(n > cut, "cut {cut}: More({n})");
                    assert!(n <= s.len());
                    assert!(n >= last);
                    last = n;
                }
                other => panic!("cut {cut}: {other:?}"),
            }
        }
        // 3-byte records need more than MAX_RECORDS records.
        assert_eq!(
            client_hello_len(&records(CT_HANDSHAKE, &msg, 3)),
            Need::TooLarge
        );
        let s = records(CT_HANDSHAKE, &msg, 100);
        assert_eq!(client_hello_len(&s), Need::Complete(s.len()));
        // Cut in the second record: it, then a header and the rest.
        assert_eq!(
            client_hello_len(&s[..200]),
            Need::More(210 + 5 + (msg.len() - 200))
        );
    }

    #[test]
    fn need_refuses_a_huge_hello() {
        let s = [0x16, 3, 1, 0x40, 0, 1, 0x01, 0, 0];
        assert_eq!(client_hello_len(&s), Need::TooLarge);
    }

    // -- ClientHello -------------------------------------------------------

    #[test]
    fn client_hello_fields() {
        let msg = spec_hello(true, &SPEC_SIGS);
        let s = records(CT_HANDSHAKE, &msg, 16384);
        let mut scratch = Vec::new();
        let ch = parse_client_hello(&s, &mut scratch).unwrap();
        assert_eq!(ch.legacy_version, 0x0303);
        assert_eq!(ch.max_version(), 0x0304);
        assert_eq!(ch.sni, Some("example.com"));
        assert_eq!(ch.alpn, [&b"h2"[..], b"http/1.1"]);
        assert_eq!(ch.supported_versions, [0x5a5a, 0x0304, 0x0303]);
        assert_eq!(ch.signature_algorithms, SPEC_SIGS);
        assert_eq!(ch.supported_groups, [0x001d, 0x0017]);
        assert_eq!(ch.cipher_suites.len(), 16);
        assert_eq!(ch.cipher_suites[0], 0x3a3a);
        assert_eq!(ch.extensions.len(), 18);
        assert_eq!(&ch.extensions[..3], [0x9a9a, 0x001b, 0x0000]);
        assert_eq!(ch.session_id, [1u8; 32]);
        assert_eq!(ch.bad_extension, None);
        // Borrowed: the hello fits one record.
        assert!(scratch.is_empty());
    }

    #[test]
    fn client_hello_over_records_is_stitched() {
        let msg = spec_hello(false, &SPEC_SIGS);
        let one = records(CT_HANDSHAKE, &msg, 16384);
        let many = records(CT_HANDSHAKE, &msg, 50);
        let (mut s1, mut s2) = (Vec::new(), Vec::new());
        let a = parse_client_hello(&one, &mut s1).unwrap();
        let b = parse_client_hello(&many, &mut s2).unwrap();
        assert_eq!(a, b);
        assert_eq!(s2.len(), msg.len());
        // Cut short: an error saying how much is missing.
        let mut s3 = Vec::new();
        assert_eq!(
            parse_client_hello(&many[..many.len() - 10], &mut s3),
            Err(ParseError::Truncated {
                offset: many.len() - 10,
                needed: 10
            })
        );
    }

    #[test]
    fn client_hello_errors() {
        let mut scratch = Vec::new();
        assert!(matches!(
            parse_client_hello(b"SSH-2.0-OpenSSH_9.6\r\n", &mut scratch),
            Err(ParseError::Invalid { offset: 0, .. })
        ));
        let sh = records(
            CT_HANDSHAKE,
            &server_hello_msg(0x0303, [0; 32], 1, &[]),
            1000,
        );
        assert_eq!(
            parse_client_hello(&sh, &mut scratch),
            Err(ParseError::Invalid {
                offset: 0,
                what: "not a ClientHello"
            })
        );
        let msg = spec_hello(false, &SPEC_SIGS);
        assert!(matches!(
            parse_client_hello_handshake(&msg[..msg.len() - 1]),
            Err(ParseError::Truncated { .. })
        ));
        // An extension whose length runs past the block: a framing error.
        let bad = client_hello_msg(&[0x1301], &[vec![0, 0, 0, 9, 0]]);
        assert!(parse_client_hello_handshake(&bad).is_err());
    }

    #[test]
    fn a_malformed_extension_content_is_flagged_not_fatal() {
        let msg = client_hello_msg(
            &[0x1301],
            &[
                ext(13, &[0, 3, 4, 1, 5]),
                sni_ext("device.example"),
                ext(0x002b, &[]),
            ],
        );
        let ch = parse_client_hello_handshake(&msg).unwrap();
        assert_eq!(ch.bad_extension, Some(13));
        assert_eq!(ch.sni, Some("device.example"));
        assert_eq!(ch.extensions, [13, 0, 0x002b]);
        assert!(ch.signature_algorithms.is_empty());
    }

    /// Lying server_name lengths (see fixtures/hostile-tls.pcap): no name
    /// comes out, and the extension is flagged.
    #[test]
    fn lying_server_name_lengths_give_no_name() {
        let name = b"t5.example.net";
        let sni = |list: u16, entry: u16, extra: &[u8]| {
            let mut d = list.to_be_bytes().to_vec();
            d.push(0);
            d.extend_from_slice(&entry.to_be_bytes());
            d.extend_from_slice(name);
            d.extend_from_slice(extra);
            client_hello_msg(&[0x1301], &[ext(0, &d)])
        };
        let n = name.len() as u16;
        // The entry says 2 bytes: "t5" and then ".example.net" as a broken
        // second entry.
        for (list, entry, extra) in [
            (n + 3, 2, &b""[..]),
            (255, n, b""),
            (n + 3, 64, b""),
            (n + 3, n, b"\0"),
            (n + 4, n, b""),
        ] {
            let msg = sni(list, entry, extra);
            let ch = parse_client_hello_handshake(&msg).unwrap();
            assert_eq!(ch.sni, None, "list {list} entry {entry}");
            assert_eq!(ch.bad_extension, Some(0), "list {list} entry {entry}");
        }
        // True lengths, and a second entry of another type after the name.
        let msg = sni(n + 3, n, b"");
        let ch = parse_client_hello_handshake(&msg).unwrap();
        assert_eq!(ch.sni, Some("t5.example.net"));
        let msg = sni(n + 3 + 4, n, &[7, 0, 1, b'x']);
        let ch = parse_client_hello_handshake(&msg).unwrap();
        assert_eq!((ch.sni, ch.bad_extension), (Some("t5.example.net"), None));
    }

    #[test]
    fn a_lying_record_length_still_looks_like_a_client_hello() {
        let hello = records(CT_HANDSHAKE, &spec_hello(false, &SPEC_SIGS), 1 << 14);
        assert!(looks_like_client_hello(&hello));
        let mut lying = hello.clone();
        lying[3..5].copy_from_slice(&0xffffu16.to_be_bytes());
        assert_eq!(client_hello_len(&lying), Need::NotTls);
        assert!(looks_like_client_hello(&lying));
        assert!(!looks_like_client_hello(b"GET / HTTP/1.1\r\n"));
        assert!(!looks_like_client_hello(&[0x16, 3, 3, 0, 40, 2]));
        assert!(!looks_like_client_hello(&[0x16, 3, 5, 0, 40, 1]));
        assert!(!looks_like_client_hello(&[0x16, 3, 1, 0, 40]));
    }

    #[test]
    fn hello_without_extensions() {
        let body = [
            &0x0301u16.to_be_bytes()[..],
            &[0u8; 32],
            &[0],
            &v16(&u16s(&[0x002f, 0x0035])),
            &v8(&[0]),
        ]
        .concat();
        let msg = handshake(HS_CLIENT_HELLO, &body);
        let ch = parse_client_hello_handshake(&msg).unwrap();
        assert_eq!(ch.cipher_suites, [0x002f, 0x0035]);
        assert!(ch.extensions.is_empty());
        assert_eq!(ch.max_version(), 0x0301);
        assert_eq!(
            ja4(&ch, Transport::Tcp),
            "t10i020000_f54dd463d39b_000000000000"
        );
    }

    // -- JA4 -------------------------------------------------------------

    #[test]
    fn ja4_matches_the_spec_example() {
        let (m1, m2, m3) = (
            spec_hello(false, &SPEC_SIGS),
            spec_hello(true, &SPEC_SIGS),
            spec_hello(false, &[]),
        );
        let ch = parse_client_hello_handshake(&m1).unwrap();
        assert_eq!(
            ja4(&ch, Transport::Tcp),
            "t13d1516h2_8daaf6152771_e5627efa2ab1"
        );
        // GREASE anywhere changes nothing.
        let g = parse_client_hello_handshake(&m2).unwrap();
        assert_eq!(
            ja4(&g, Transport::Tcp),
            "t13d1516h2_8daaf6152771_e5627efa2ab1"
        );
        assert_eq!(
            ja4(&g, Transport::Quic),
            "q13d1516h2_8daaf6152771_e5627efa2ab1"
        );
        // No signature algorithms: no underscore (the spec's 6d807ffa2a79).
        let n = parse_client_hello_handshake(&m3).unwrap();
        assert_eq!(
            ja4(&n, Transport::Tcp),
            "t13d1516h2_8daaf6152771_6d807ffa2a79"
        );
    }

    #[test]
    fn the_cache_gives_what_ja4_gives() {
        let hellos = [
            spec_hello(false, &SPEC_SIGS),
            spec_hello(true, &SPEC_SIGS),
            spec_hello(false, &[]),
        ];
        for _ in 0..2 {
            for m in &hellos {
                let ch = parse_client_hello_handshake(m).unwrap();
                for t in [Transport::Tcp, Transport::Quic] {
                    assert_eq!(ja4_cached(&ch, t), ja4(&ch, t));
                }
            }
        }
    }

    #[test]
    fn ja4_alpn_characters() {
        assert_eq!(alpn_chars(None), "00");
        assert_eq!(alpn_chars(Some(b"")), "00");
        assert_eq!(alpn_chars(Some(b"h2")), "h2");
        assert_eq!(alpn_chars(Some(b"http/1.1")), "h1");
        assert_eq!(alpn_chars(Some(b"h")), "hh");
        // The spec's non-alphanumeric examples.
        assert_eq!(alpn_chars(Some(&[0xab])), "ab");
        assert_eq!(alpn_chars(Some(&[0xab, 0xcd])), "ad");
        assert_eq!(alpn_chars(Some(&[0x30, 0xab])), "3b");
        assert_eq!(alpn_chars(Some(&[0x30, 0x31, 0xab, 0xcd])), "3d");
        assert_eq!(alpn_chars(Some(&[0x30, 0xab, 0xcd, 0x31])), "01");
    }

    #[test]
    fn grease_values() {
        assert!(is_grease(0x0a0a) && is_grease(0xfafa) && is_grease(0x5a5a));
        assert!(!is_grease(0x1a2a) && !is_grease(0x0a0b) && !is_grease(0x1301));
    }

    // -- server flight ---------------------------------------------------

    #[test]
    fn server_flight_in_one_record() {
        let hs = server_flight_hs();
        let s = [
            records(CT_HANDSHAKE, &hs, 16384),
            records(CT_CHANGE_CIPHER_SPEC, &[1], 10),
        ]
        .concat();
        let mut scratch = Vec::new();
        let f = parse_flight(&s, &mut scratch);
        assert_eq!(f.error, None);
        assert!(f.encrypted && !f.truncated);
        assert_eq!(f.handshake_types, [2, 11, 14]);
        let sh = f.server_hello.as_ref().unwrap();
        assert_eq!(
            (sh.version(), sh.cipher_suite, sh.alpn),
            (0x0303, 0xc02f, Some(&b"h2"[..]))
        );
        assert_eq!(sh.extensions, [0xff01, 16]);
        assert!(!sh.is_hello_retry_request());
        assert_eq!(f.certificates.len(), 2);
        let leaf = f.certificates[0].info.as_ref().unwrap();
        assert_eq!(leaf.subject_cn, Some("example.com"));
        assert_eq!(leaf.subject, "CN=example.com");
        assert_eq!(leaf.issuer_cn, Some("Test CA"));
        assert_eq!(leaf.issuer_org, Some("Test CA Org"));
        assert_eq!(leaf.issuer, "O=Test CA Org, CN=Test CA");
        assert_eq!(leaf.san_dns, ["example.com", "www.example.com"]);
        assert_eq!(
            (leaf.not_before, leaf.not_after),
            (1_577_836_800, 2_524_608_000)
        );
        assert_eq!(f.certificates[0].der[0], 0x30);
        assert!(scratch.is_empty());
    }

    #[test]
    fn server_flight_fragmented_over_records() {
        let hs = server_flight_hs();
        let one = records(CT_HANDSHAKE, &hs, 16384);
        let mut s1 = Vec::new();
        let a = parse_flight(&one, &mut s1);
        for size in [1, 7, 100, 300] {
            let many = records(CT_HANDSHAKE, &hs, size);
            let mut s2 = Vec::new();
            let b = parse_flight(&many, &mut s2);
            if many.len() / (size + 5) >= MAX_RECORDS {
                assert!(matches!(
                    b.error,
                    Some(ParseError::Invalid {
                        what: "too many records",
                        ..
                    })
                ));
                continue;
            }
            assert_eq!(a, b, "records of {size}");
            assert!(!s2.is_empty());
        }
    }

    #[test]
    fn a_cut_flight_keeps_what_is_complete() {
        let hs = server_flight_hs();
        let s = records(CT_HANDSHAKE, &hs, 16384);
        let mut scratch = Vec::new();
        let f = parse_flight(&s[..200], &mut scratch);
        assert!(f.truncated && !f.encrypted);
        assert_eq!(f.handshake_types, [2]);
        assert!(f.server_hello.is_some());
        assert!(f.certificates.is_empty());
        assert_eq!(f.error, None);
    }

    #[test]
    fn tls13_server_hello_and_retry() {
        let sh = server_hello_msg(
            0x0303,
            [9; 32],
            0x1301,
            &[ext(0x002b, &[3, 4]), ext(0x0033, &[0, 0x1d, 0, 0])],
        );
        let s = [
            records(CT_HANDSHAKE, &sh, 16384),
            records(CT_CHANGE_CIPHER_SPEC, &[1], 9),
            records(CT_APPLICATION_DATA, &[0; 40], 99),
        ]
        .concat();
        let mut scratch = Vec::new();
        let f = parse_flight(&s, &mut scratch);
        let h = f.server_hello.as_ref().unwrap();
        assert_eq!(
            (h.legacy_version, h.selected_version, h.version()),
            (0x0303, Some(0x0304), 0x0304)
        );
        assert!(f.encrypted);
        let hrr = server_hello_msg(0x0303, HELLO_RETRY_RANDOM, 0x1301, &[ext(0x002b, &[3, 4])]);
        let mut scratch = Vec::new();
        let s = records(CT_HANDSHAKE, &hrr, 999);
        let f = parse_flight(&s, &mut scratch);
        assert!(f.server_hello.unwrap().is_hello_retry_request());
    }

    #[test]
    fn alerts_both_directions() {
        let hello = records(CT_HANDSHAKE, &spec_hello(false, &SPEC_SIGS), 16384);
        let client = [hello, records(CT_ALERT, &[2, 48], 2)].concat();
        let alerts = parse_alerts(&client);
        assert_eq!(
            alerts,
            [Alert {
                level: 2,
                description: 48
            }]
        );
        assert!(alerts[0].is_fatal());
        assert_eq!(alerts[0].name(), "unknown_ca");
        let server = records(CT_ALERT, &[2, 40], 2);
        let mut scratch = Vec::new();
        let f = parse_flight(&server, &mut scratch);
        assert_eq!(f.alerts[0].name(), "handshake_failure");
        assert!(f.server_hello.is_none());
        // An encrypted alert (mid-stream capture) is not read as alerts.
        let enc = records(CT_ALERT, &[0x55; 26], 26);
        assert!(parse_alerts(&enc).is_empty());
        assert_eq!(alert_name(112), "unrecognized_name");
        assert_eq!(alert_name(200), "unknown");
    }

    #[test]
    fn garbage_records_stop_the_walk() {
        let mut scratch = Vec::new();
        let f = parse_flight(b"HTTP/1.1 200 OK\r\n\r\n", &mut scratch);
        assert_eq!(
            f.error,
            Some(ParseError::Invalid {
                offset: 0,
                what: "not a TLS record"
            })
        );
        let f = parse_flight(&[0x42, 3, 3, 0, 1, 0], &mut scratch);
        assert_eq!(
            f.error,
            Some(ParseError::Invalid {
                offset: 0,
                what: "record content type"
            })
        );
    }

    proptest! {
        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = client_hello_len(&b);
            let _ = parse_client_hello(&b, &mut Vec::new());
            let _ = parse_client_hello_handshake(&b);
            let _ = parse_flight(&b, &mut Vec::new());
            let _ = parse_alerts(&b);
        }

        #[test]
        fn never_panics_on_tls_shaped_input(
            body in proptest::collection::vec(any::<u8>(), 0..600),
            ty in 0u8..4,
            split in 1usize..200,
        ) {
            let msg = handshake(ty, &body);
            let s = records(CT_HANDSHAKE, &msg, split);
            let _ = client_hello_len(&s);
            let _ = parse_client_hello(&s, &mut Vec::new());
            let _ = parse_client_hello_handshake(&msg);
            let _ = parse_flight(&s, &mut Vec::new());
        }

        #[test]
        fn any_record_split_gives_the_same_hello(split in 40usize..2000, cut in 0usize..2000) {
            let msg = spec_hello(true, &SPEC_SIGS);
            let s = records(CT_HANDSHAKE, &msg, split);
            let mut scratch = Vec::new();
            let ch = parse_client_hello(&s, &mut scratch).unwrap();
            prop_assert_eq!(ja4(&ch, Transport::Tcp), "t13d1516h2_8daaf6152771_e5627efa2ab1");
            prop_assert_eq!(client_hello_len(&s), Need::Complete(s.len()));
            let cut = cut % s.len();
            match client_hello_len(&s[..cut]) {
                Need::More(n) => prop_assert!(n > cut && n <= s.len()),
                other => prop_assert!(false, "{:?}", other),
            }
        }
    }
}
