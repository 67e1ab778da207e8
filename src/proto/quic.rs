//! QUIC Initial packets: recognise them in a UDP datagram and decrypt them to
//! reach the TLS handshake bytes their CRYPTO frames carry.
//!
//! Initial packets are encrypted, but with keys anyone can derive from the
//! Destination Connection ID the client chose (RFC 9001 §5.2; RFC 9369 §3.3
//! for QUIC v2). A passive sensor can therefore read the ClientHello (SNI,
//! ALPN) of every QUIC connection it sees. This module does the QUIC half:
//! long-header parsing, header protection removal (AES-128), AEAD
//! (AES-128-GCM) decryption and the frame walk. It does not parse TLS; hand
//! the assembled CRYPTO stream to `proto::tls`.
//!
//! Contract:
//! - [`looks_like_initial`] is a cheap pre-filter on the first bytes: long
//!   header, fixed bit, a known version (v1, v2, draft-29) and that
//!   version's Initial type. (The parsers themselves do not insist on the
//!   fixed bit, which RFC 9287 lets a peer grease.)
//! - [`parse_client_initial`] walks the coalesced long-header packets of one
//!   datagram (each delimited by its Length field), decrypts every Initial
//!   whose DCID matches the first one, and collects its CRYPTO frames. It
//!   returns `Ok(None)` when the datagram holds no Initial of a known version
//!   (short header, Handshake/0-RTT/Retry, version negotiation, unknown
//!   version, Google QUIC). A server's Initial, or a corrupted or cut packet,
//!   is an error (AEAD authentication fails, or a length runs past the end).
//!   Once one Initial is decrypted, a later packet that cannot be read ends
//!   the walk instead of discarding what was found (lax).
//! - [`parse_initial`] is the general form: server Initials, and client
//!   Initials sent after the server changed the DCID, are protected with keys
//!   from the client's *original* DCID, which the caller passes in.
//! - Frames: PADDING, PING, ACK, CRYPTO and CONNECTION_CLOSE are understood;
//!   any other type stops the walk (`unknown_frame`, `incomplete`).
//! - [`CryptoStream`] reassembles CRYPTO frames from any number of Initials
//!   of one connection and direction, in any order, into the contiguous bytes
//!   from offset 0 (Chrome splits its ClientHello into many small CRYPTO
//!   frames, shuffled, across two datagrams).
//! - The packet number is the truncated value on the wire, not expanded
//!   against a largest-acknowledged one (there is no state here); clients
//!   number Initials from 0, so it is the full number in practice.
//!
//! Bounds: connection IDs ≤ [`MAX_CID_LEN`]; at most
//! [`MAX_PACKETS_PER_DATAGRAM`] coalesced packets and
//! [`MAX_FRAMES_PER_PACKET`] frames per packet (a PADDING run counts once);
//! ACK range count ≤ [`MAX_ACK_RANGES`]; at most [`MAX_CRYPTO_FRAMES`] CRYPTO
//! frames and [`MAX_CRYPTO_BYTES`] CRYPTO bytes kept per datagram; a
//! [`CryptoStream`] holds at most [`MAX_CRYPTO_BYTES`] contiguous bytes, plus
//! [`MAX_PENDING_FRAMES`] out-of-order frames of at most [`MAX_CRYPTO_BYTES`]
//! in all. Varints are checked; packet
//! number length is 1-4 by construction.
//!
//! Allocation: one buffer per decrypted Initial (the plaintext) plus the
//! CRYPTO frame copies; nothing for datagrams that are not Initials.
//!
//! Example (prose): for a UDP datagram to port 443, if
//! `looks_like_initial(payload)` then `parse_client_initial(payload)`; on
//! `Ok(Some(init))` keep a `CryptoStream` for the flow, `push_frames(&init.crypto)`,
//! and once `first_handshake_message()` returns `Some(msg)` give `msg` to
//! `tls::parse_client_hello_handshake`.

use ring::aead;
use ring::hkdf;

use super::cursor::Cursor;
use super::ParseError;

/// QUIC version 1 (RFC 9000).
pub const VERSION_1: u32 = 0x0000_0001;
/// QUIC version 2 (RFC 9369).
pub const VERSION_2: u32 = 0x6b33_43cf;
/// draft-ietf-quic-transport-29, still seen from older stacks.
pub const VERSION_DRAFT_29: u32 = 0xff00_001d;

/// Longest connection ID QUIC v1/v2 allow (RFC 9000 §17.2).
pub const MAX_CID_LEN: usize = 20;
/// Coalesced long-header packets examined per datagram.
pub const MAX_PACKETS_PER_DATAGRAM: usize = 8;
/// Frames walked per packet; a run of PADDING bytes counts as one.
pub const MAX_FRAMES_PER_PACKET: usize = 1024;
/// ACK ranges accepted in one ACK frame.
pub const MAX_ACK_RANGES: u64 = 256;
/// CRYPTO frames kept per datagram.
pub const MAX_CRYPTO_FRAMES: usize = 64;
/// CRYPTO bytes kept per datagram, and per [`CryptoStream`].
pub const MAX_CRYPTO_BYTES: usize = 64 * 1024;
/// Out-of-order frames a [`CryptoStream`] holds while waiting for a gap.
pub const MAX_PENDING_FRAMES: usize = 64;
/// Bytes of a CONNECTION_CLOSE reason phrase kept.
pub const MAX_REASON_LEN: usize = 256;

const TAG_LEN: usize = 16;
const SAMPLE_LEN: usize = 16;
/// The sample starts this far after the packet number's first byte.
const SAMPLE_OFFSET: usize = 4;
const VARINT_MAX: u64 = (1 << 62) - 1;

/// One CRYPTO frame: stream offset and the (decrypted, so owned) bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptoFrame {
    pub offset: u64,
    pub data: Vec<u8>,
}

/// A CONNECTION_CLOSE frame found in an Initial (a handshake abort).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionClose {
    /// Transport error code (0x1c) or application error code (0x1d).
    pub error_code: u64,
    /// The frame type that triggered the error; `None` for 0x1d.
    pub frame_type: Option<u64>,
    /// The reason phrase, cut to [`MAX_REASON_LEN`] bytes.
    pub reason: Vec<u8>,
}

/// The decrypted Initial packet(s) of one datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initial<'a> {
    pub version: u32,
    /// Destination Connection ID of the first Initial.
    pub dcid: &'a [u8],
    /// Source Connection ID of the first Initial.
    pub scid: &'a [u8],
    /// Address-validation token (non-empty after a Retry or NEW_TOKEN).
    pub token: &'a [u8],
    /// Packet number of the first Initial (truncated wire value).
    pub packet_number: u64,
    /// Initial packets decrypted from this datagram (≥ 1).
    pub packets: usize,
    /// CRYPTO frames in wire order (not sorted, not merged).
    pub crypto: Vec<CryptoFrame>,
    pub ping: bool,
    pub ack: bool,
    pub close: Option<ConnectionClose>,
    /// The frame type that stopped the walk, if it was not understood.
    pub unknown_frame: Option<u64>,
    /// Something was left unread: an unknown or malformed frame, or a bound
    /// ([`MAX_FRAMES_PER_PACKET`], [`MAX_CRYPTO_FRAMES`], [`MAX_CRYPTO_BYTES`]).
    pub incomplete: bool,
}

/// Which endpoint sent the packet: selects the "client in" / "server in" keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    Client,
    Server,
}

/// Cheap check: could this datagram start with a QUIC Initial packet?
///
/// Long header and fixed bit set, version 1, 2 or draft-29, that version's
/// Initial packet type, and a DCID length within bounds. Google QUIC and
/// short-header packets answer `false`.
pub fn looks_like_initial(datagram: &[u8]) -> bool {
    let mut c = Cursor::new(datagram);
    let (Ok(first), Ok(version), Ok(dcid_len)) = (c.u8(), c.u32(), c.u8()) else {
        return false;
    };
    first & 0xc0 == 0xc0
        && usize::from(dcid_len) <= MAX_CID_LEN
        && params(version).is_some_and(|p| (first >> 4) & 0x03 == p.initial_type)
}

/// Decrypts the client Initial(s) in `datagram`, with keys derived from the
/// first Initial's own DCID (right for every Initial a client sends before
/// it hears from the server).
///
/// `Ok(None)`: no Initial of a known version in the datagram.
pub fn parse_client_initial(datagram: &[u8]) -> Result<Option<Initial<'_>>, ParseError> {
    parse_initial(datagram, Sender::Client, None)
}

/// Decrypts the Initial(s) in `datagram` sent by `sender`. Keys come from
/// `original_dcid`, the DCID of the client's first Initial, or when `None`
/// from the first Initial's own DCID (only right for a client's first
/// flight).
pub fn parse_initial<'a>(
    datagram: &'a [u8],
    sender: Sender,
    original_dcid: Option<&[u8]>,
) -> Result<Option<Initial<'a>>, ParseError> {
    let mut c = Cursor::new(datagram);
    let mut found: Option<Initial<'a>> = None;
    let mut crypto_bytes = 0usize;
    for _ in 0..MAX_PACKETS_PER_DATAGRAM {
        let step = next_packet(&mut c, sender, original_dcid, found.as_ref());
        match (step, found.as_mut()) {
            (Ok(Step::Stop), _) => break,
            (Ok(Step::Skipped), _) => {}
            (Ok(Step::Opened(pkt)), None) => {
                let mut init = Initial {
                    version: pkt.version,
                    dcid: pkt.dcid,
                    scid: pkt.scid,
                    token: pkt.token,
                    packet_number: pkt.packet_number,
                    packets: 1,
                    crypto: Vec::new(),
                    ping: false,
                    ack: false,
                    close: None,
                    unknown_frame: None,
                    incomplete: false,
                };
                walk_frames(pkt.plaintext(), &mut init, &mut crypto_bytes);
                found = Some(init);
            }
            (Ok(Step::Opened(pkt)), Some(init)) => {
                init.packets += 1;
                walk_frames(pkt.plaintext(), init, &mut crypto_bytes);
            }
            (Err(e), None) => return Err(e),
            (Err(_), Some(init)) => {
                init.incomplete = true;
                break;
            }
        }
    }
    Ok(found)
}

/// Reassembles the CRYPTO stream of one connection and direction from
/// frames that may arrive out of order, duplicated, overlapping, and spread
/// over several datagrams.
///
/// Keeps the contiguous bytes from offset 0 (at most [`MAX_CRYPTO_BYTES`])
/// and up to [`MAX_PENDING_FRAMES`] frames that start beyond them. Bytes past
/// the bound, or frames past the pending bound, are dropped and flagged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CryptoStream {
    data: Vec<u8>,
    pending: Vec<CryptoFrame>,
    /// Bytes held in `pending` (≤ [`MAX_CRYPTO_BYTES`]).
    pending_bytes: usize,
    overflow: bool,
}

impl CryptoStream {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the bytes `data` found at stream offset `offset`.
    pub fn push(&mut self, offset: u64, data: &[u8]) {
        let Some((offset, data)) = self.clip(offset, data) else {
            return;
        };
        if offset <= self.data.len() {
            self.append_from(offset, data);
            self.drain_pending();
        } else if self.pending.len() < MAX_PENDING_FRAMES
            && self.pending_bytes + data.len() <= MAX_CRYPTO_BYTES
        {
            self.pending_bytes += data.len();
            self.pending.push(CryptoFrame {
                offset: offset as u64,
                data: data.to_vec(),
            });
        } else {
            self.overflow = true;
        }
    }

    /// Adds every frame of a slice, e.g. [`Initial::crypto`].
    pub fn push_frames(&mut self, frames: &[CryptoFrame]) {
        for f in frames {
            self.push(f.offset, &f.data);
        }
    }

    /// The bytes known without a gap, from stream offset 0.
    pub fn contiguous(&self) -> &[u8] {
        &self.data
    }

    /// True when some bytes or frames were dropped at a bound.
    pub fn overflowed(&self) -> bool {
        self.overflow
    }

    /// Frames held because a gap precedes them.
    pub fn pending_frames(&self) -> usize {
        self.pending.len()
    }

    /// The first TLS handshake message (type, u24 length, body) once all of
    /// it is contiguous; `None` while bytes are missing.
    pub fn first_handshake_message(&self) -> Option<&[u8]> {
        let mut c = Cursor::new(&self.data);
        let _msg_type = c.u8().ok()?;
        let len = c.u24().ok()? as usize;
        self.data.get(..4 + len)
    }

    /// Cuts a frame to the stream bound; `None` if nothing is left.
    fn clip<'d>(&mut self, offset: u64, data: &'d [u8]) -> Option<(usize, &'d [u8])> {
        let offset = usize::try_from(offset)
            .ok()
            .filter(|o| *o < MAX_CRYPTO_BYTES);
        let Some(offset) = offset else {
            self.overflow |= !data.is_empty();
            return None;
        };
        let room = MAX_CRYPTO_BYTES - offset;
        if data.len() > room {
            self.overflow = true;
        }
        let data = data.get(..room).unwrap_or(data);
        (!data.is_empty()).then_some((offset, data))
    }

    /// Appends the part of a frame at `offset` (≤ len) that is new.
    fn append_from(&mut self, offset: usize, data: &[u8]) {
        let have = self.data.len().saturating_sub(offset);
        if let Some(new) = data.get(have..) {
            self.data.extend_from_slice(new);
        }
    }

    /// Moves pending frames that now touch the contiguous end into it.
    fn drain_pending(&mut self) {
        // Each pass removes at least one frame, so this ends.
        for _ in 0..=MAX_PENDING_FRAMES {
            let end = self.data.len();
            let Some(i) = self.pending.iter().position(|f| f.offset as usize <= end) else {
                break;
            };
            let f = self.pending.swap_remove(i);
            self.pending_bytes -= f.data.len();
            self.append_from(f.offset as usize, &f.data);
        }
    }
}

/// Assembles the contiguous bytes from offset 0 of `frames` (any order) into
/// `out` (cleared first). Returns false when a gap, or a bound, left bytes
/// unused.
pub fn assemble_crypto(frames: &[CryptoFrame], out: &mut Vec<u8>) -> bool {
    let mut s = CryptoStream::new();
    s.push_frames(frames);
    out.clear();
    out.extend_from_slice(s.contiguous());
    s.pending_frames() == 0 && !s.overflowed()
}

// ---------------------------------------------------------------------------
// Versions and keys

struct VersionParams {
    salt: [u8; 20],
    key_label: &'static [u8],
    iv_label: &'static [u8],
    hp_label: &'static [u8],
    /// The two long-header type bits that mean Initial.
    initial_type: u8,
}

static V1: VersionParams = VersionParams {
    salt: [
        0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c,
        0xad, 0xcc, 0xbb, 0x7f, 0x0a,
    ],
    key_label: b"quic key",
    iv_label: b"quic iv",
    hp_label: b"quic hp",
    initial_type: 0,
};

static V2: VersionParams = VersionParams {
    salt: [
        0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d,
        0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
    ],
    key_label: b"quicv2 key",
    iv_label: b"quicv2 iv",
    hp_label: b"quicv2 hp",
    initial_type: 1,
};

static DRAFT_29: VersionParams = VersionParams {
    salt: [
        0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11,
        0xe0, 0x43, 0x90, 0xa8, 0x99,
    ],
    key_label: b"quic key",
    iv_label: b"quic iv",
    hp_label: b"quic hp",
    initial_type: 0,
};

fn params(version: u32) -> Option<&'static VersionParams> {
    match version {
        VERSION_1 => Some(&V1),
        VERSION_2 => Some(&V2),
        VERSION_DRAFT_29 => Some(&DRAFT_29),
        _ => None,
    }
}

/// Raw Initial key material (kept apart from the ring keys for testing).
#[derive(Debug, PartialEq, Eq)]
struct Secrets {
    secret: [u8; 32],
    key: [u8; 16],
    iv: [u8; 12],
    hp: [u8; 16],
}

struct Keys {
    aead: aead::LessSafeKey,
    iv: [u8; 12],
    hp: aead::quic::HeaderProtectionKey,
}

/// An HKDF output length for ring's typed expand.
struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// TLS 1.3 HKDF-Expand-Label with an empty context (RFC 8446 §7.1).
fn expand_label(
    prk: &hkdf::Prk,
    label: &[u8],
    out: &mut [u8],
) -> Result<(), ring::error::Unspecified> {
    let len = u16::try_from(out.len()).map_err(|_| ring::error::Unspecified)?;
    let len = len.to_be_bytes();
    let label_len = [u8::try_from(6 + label.len()).map_err(|_| ring::error::Unspecified)?];
    let info: [&[u8]; 5] = [&len, &label_len, b"tls13 ", label, &[0]];
    prk.expand(&info, Len(out.len()))?.fill(out)
}

fn secrets(
    p: &VersionParams,
    cid: &[u8],
    sender: Sender,
) -> Result<Secrets, ring::error::Unspecified> {
    let initial = hkdf::Salt::new(hkdf::HKDF_SHA256, &p.salt).extract(cid);
    let label: &[u8] = match sender {
        Sender::Client => b"client in",
        Sender::Server => b"server in",
    };
    let mut s = Secrets {
        secret: [0; 32],
        key: [0; 16],
        iv: [0; 12],
        hp: [0; 16],
    };
    expand_label(&initial, label, &mut s.secret)?;
    let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, &s.secret);
    expand_label(&prk, p.key_label, &mut s.key)?;
    expand_label(&prk, p.iv_label, &mut s.iv)?;
    expand_label(&prk, p.hp_label, &mut s.hp)?;
    Ok(s)
}

fn keys(p: &VersionParams, cid: &[u8], sender: Sender) -> Result<Keys, ring::error::Unspecified> {
    let s = secrets(p, cid, sender)?;
    Ok(Keys {
        aead: aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &s.key)?),
        iv: s.iv,
        hp: aead::quic::HeaderProtectionKey::new(&aead::quic::AES_128, &s.hp)?,
    })
}

// ---------------------------------------------------------------------------
// Packets

enum Step<'a> {
    /// Nothing more to read in this datagram.
    Stop,
    /// A packet that is not a (matching) Initial; its Length skipped it.
    Skipped,
    Opened(Opened<'a>),
}

struct Opened<'a> {
    version: u32,
    dcid: &'a [u8],
    scid: &'a [u8],
    token: &'a [u8],
    packet_number: u64,
    /// Unprotected header followed by the plaintext.
    buf: Vec<u8>,
    header_len: usize,
}

impl Opened<'_> {
    fn plaintext(&self) -> &[u8] {
        self.buf.get(self.header_len..).unwrap_or_default()
    }
}

/// Reads one long-header packet at the cursor and decrypts it if it is an
/// Initial of a known version whose DCID matches `first` (when given).
fn next_packet<'a>(
    c: &mut Cursor<'a>,
    sender: Sender,
    original_dcid: Option<&[u8]>,
    first: Option<&Initial<'a>>,
) -> Result<Step<'a>, ParseError> {
    // End of datagram, or a short header (1-RTT) / zero padding: it runs to
    // the end of the datagram and is not readable here.
    if c.peek_u8().map_or(true, |b| b & 0x80 == 0) {
        return Ok(Step::Stop);
    }
    let start = c.pos();
    let first_byte = c.u8()?;
    let version = c.u32()?;
    let Some(p) = params(version) else {
        // Version negotiation (0), Google QUIC "Q0xx", or unknown.
        return Ok(Step::Stop);
    };
    let dcid = cid(c)?;
    let scid = cid(c)?;
    let ty = (first_byte >> 4) & 0x03;
    let is_initial = ty == p.initial_type;
    // Retry is the one long-header type without a Length field: 0b11 in v1,
    // 0b00 in v2 (types rotate by one).
    if ty == (p.initial_type + 3) & 0x03 {
        return Ok(Step::Stop);
    }
    let token = if is_initial {
        let n = varint_len(c)?;
        c.bytes(n)?
    } else {
        &[]
    };
    let length = varint_len(c)?;
    let pn_offset = c.pos() - start;
    c.seek(start)?;
    let packet = c.bytes(pn_offset + length)?;
    if !is_initial {
        return Ok(Step::Skipped);
    }
    if let Some(f) = first {
        // RFC 9000 §12.2: ignore coalesced packets with another DCID.
        if f.dcid != dcid || f.version != version {
            return Ok(Step::Skipped);
        }
    }
    let key_cid = original_dcid.unwrap_or(dcid);
    let keys = keys(p, key_cid, sender).map_err(|_| ParseError::Invalid {
        offset: start,
        what: "QUIC Initial key derivation failed",
    })?;
    let (packet_number, buf, header_len) = open(packet, pn_offset, &keys, start)?;
    Ok(Step::Opened(Opened {
        version,
        dcid,
        scid,
        token,
        packet_number,
        buf,
        header_len,
    }))
}

/// Removes header protection and decrypts one packet (`packet` runs from the
/// first header byte to the end of its Length). Returns the packet number,
/// the buffer (header, then plaintext) and the header length.
fn open(
    packet: &[u8],
    pn_offset: usize,
    keys: &Keys,
    start: usize,
) -> Result<(u64, Vec<u8>, usize), ParseError> {
    let invalid = |what| ParseError::Invalid {
        offset: start,
        what,
    };
    let sample_at = pn_offset + SAMPLE_OFFSET;
    let sample = packet
        .get(sample_at..sample_at + SAMPLE_LEN)
        .ok_or(invalid(
            "QUIC packet too short for header protection sample",
        ))?;
    let mask = keys
        .hp
        .new_mask(sample)
        .map_err(|_| invalid("QUIC header protection failed"))?;
    let [m0, pn_mask @ ..] = mask;

    let mut buf = packet.to_vec();
    let first = buf.first_mut().ok_or(invalid("QUIC packet is empty"))?;
    *first ^= m0 & 0x0f;
    let pn_len = usize::from(*first & 0x03) + 1;
    let mut pn = 0u64;
    for (b, m) in buf.iter_mut().skip(pn_offset).take(pn_len).zip(pn_mask) {
        *b ^= m;
        pn = (pn << 8) | u64::from(*b);
    }
    let header_len = pn_offset + pn_len;
    let (header, payload) = buf
        .split_at_mut_checked(header_len)
        .ok_or(invalid("QUIC packet shorter than its header"))?;
    if payload.len() < TAG_LEN {
        return Err(invalid("QUIC packet shorter than its AEAD tag"));
    }
    let mut nonce = keys.iv;
    for (n, p) in nonce.iter_mut().rev().zip(pn.to_be_bytes().iter().rev()) {
        *n ^= p;
    }
    let plain_len = keys
        .aead
        .open_in_place(
            aead::Nonce::assume_unique_for_key(nonce),
            aead::Aad::from(&*header),
            payload,
        )
        .map_err(|_| invalid("QUIC Initial AEAD authentication failed"))?
        .len();
    buf.truncate(header_len + plain_len);
    Ok((pn, buf, header_len))
}

fn cid<'a>(c: &mut Cursor<'a>) -> Result<&'a [u8], ParseError> {
    let offset = c.offset();
    let n = usize::from(c.u8()?);
    if n > MAX_CID_LEN {
        return Err(ParseError::Invalid {
            offset,
            what: "QUIC connection ID longer than 20 bytes",
        });
    }
    c.bytes(n)
}

/// A QUIC variable-length integer (RFC 9000 §16).
fn varint(c: &mut Cursor<'_>) -> Result<u64, ParseError> {
    let v = match c.peek_u8()? >> 6 {
        0 => u64::from(c.u8()?),
        1 => u64::from(c.u16()?) & 0x3fff,
        2 => u64::from(c.u32()?) & 0x3fff_ffff,
        _ => c.u64()? & VARINT_MAX,
    };
    Ok(v)
}

/// A varint used as a byte count: it must fit in what is left.
fn varint_len(c: &mut Cursor<'_>) -> Result<usize, ParseError> {
    let v = varint(c)?;
    match usize::try_from(v) {
        Ok(n) if n <= c.remaining() => Ok(n),
        _ => Err(ParseError::Truncated {
            offset: c.offset(),
            needed: usize::try_from(v).unwrap_or(usize::MAX),
        }),
    }
}

// ---------------------------------------------------------------------------
// Frames

/// Walks the frames of one decrypted packet into `init`. Lax: a malformed
/// or unknown frame ends the walk and sets `incomplete`.
fn walk_frames(plain: &[u8], init: &mut Initial<'_>, crypto_bytes: &mut usize) {
    let mut c = Cursor::new(plain);
    for _ in 0..MAX_FRAMES_PER_PACKET {
        if c.is_empty() {
            return;
        }
        match frame(&mut c, init, crypto_bytes) {
            Ok(true) => {}
            Ok(false) | Err(_) => {
                init.incomplete = true;
                return;
            }
        }
    }
    init.incomplete |= !c.is_empty();
}

/// Reads one frame; `Ok(false)` stops the walk (unknown type, or a bound).
fn frame(
    c: &mut Cursor<'_>,
    init: &mut Initial<'_>,
    crypto_bytes: &mut usize,
) -> Result<bool, ParseError> {
    let ty = varint(c)?;
    match ty {
        0x00 => {
            let run = c.rest().iter().take_while(|b| **b == 0).count();
            c.skip(run)?;
        }
        0x01 => init.ping = true,
        0x02 | 0x03 => {
            ack(c, ty == 0x03)?;
            init.ack = true;
        }
        0x06 => {
            let offset = varint(c)?;
            let data = {
                let n = varint_len(c)?;
                c.bytes(n)?
            };
            if offset + data.len() as u64 > VARINT_MAX {
                return Err(ParseError::Invalid {
                    offset: c.offset(),
                    what: "QUIC CRYPTO frame past the maximum stream offset",
                });
            }
            if init.crypto.len() >= MAX_CRYPTO_FRAMES
                || *crypto_bytes + data.len() > MAX_CRYPTO_BYTES
            {
                return Ok(false);
            }
            *crypto_bytes += data.len();
            init.crypto.push(CryptoFrame {
                offset,
                data: data.to_vec(),
            });
        }
        0x1c | 0x1d => {
            let error_code = varint(c)?;
            let frame_type = if ty == 0x1c { Some(varint(c)?) } else { None };
            let reason = {
                let n = varint_len(c)?;
                c.bytes(n)?
            };
            let kept = reason.get(..MAX_REASON_LEN).unwrap_or(reason);
            init.close = Some(ConnectionClose {
                error_code,
                frame_type,
                reason: kept.to_vec(),
            });
        }
        other => {
            init.unknown_frame = Some(other);
            return Ok(false);
        }
    }
    Ok(true)
}

/// Skips an ACK frame body (RFC 9000 §19.3), checking its range count.
fn ack(c: &mut Cursor<'_>, ecn: bool) -> Result<(), ParseError> {
    let _largest = varint(c)?;
    let _delay = varint(c)?;
    let offset = c.offset();
    let ranges = varint(c)?;
    if ranges > MAX_ACK_RANGES {
        return Err(ParseError::Invalid {
            offset,
            what: "QUIC ACK frame with too many ranges",
        });
    }
    let _first_range = varint(c)?;
    for _ in 0..ranges {
        let _gap = varint(c)?;
        let _len = varint(c)?;
    }
    if ecn {
        for _ in 0..3 {
            let _count = varint(c)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s
            .bytes()
            .filter(u8::is_ascii_hexdigit)
            .map(|b| (b as char).to_digit(16).unwrap() as u8)
            .collect();
        digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect()
    }

    fn put_varint(out: &mut Vec<u8>, v: u64) {
        match v {
            0..=0x3f => out.push(v as u8),
            0x40..=0x3fff => out.extend_from_slice(&(v as u16 | 0x4000).to_be_bytes()),
            0x4000..=0x3fff_ffff => out.extend_from_slice(&(v as u32 | 0x8000_0000).to_be_bytes()),
            _ => out.extend_from_slice(&(v | 0xc000_0000_0000_0000).to_be_bytes()),
        }
    }

    fn crypto_frame(offset: u64, data: &[u8]) -> Vec<u8> {
        let mut f = vec![0x06];
        put_varint(&mut f, offset);
        put_varint(&mut f, data.len() as u64);
        f.extend_from_slice(data);
        f
    }

    /// What a test packet looks like before protection.
    struct Spec<'s> {
        version: u32,
        /// Long-header type bits as on the wire.
        ty: u8,
        dcid: &'s [u8],
        scid: &'s [u8],
        token: &'s [u8],
        pn: u64,
        pn_len: usize,
        /// DCID the keys derive from.
        key_cid: &'s [u8],
        sender: Sender,
    }

    impl<'s> Spec<'s> {
        fn client(version: u32, dcid: &'s [u8]) -> Self {
            Spec {
                version,
                ty: params(version).unwrap().initial_type,
                dcid,
                scid: b"",
                token: b"",
                pn: 0,
                pn_len: 1,
                key_cid: dcid,
                sender: Sender::Client,
            }
        }
    }

    /// Builds a protected long-header packet the way a QUIC stack would
    /// (RFC 9001 §5.3-5.4), using the module's key derivation.
    fn protect(s: &Spec<'_>, payload: &[u8]) -> Vec<u8> {
        let mut h = vec![0xc0 | s.ty << 4 | (s.pn_len as u8 - 1)];
        h.extend_from_slice(&s.version.to_be_bytes());
        h.push(s.dcid.len() as u8);
        h.extend_from_slice(s.dcid);
        h.push(s.scid.len() as u8);
        h.extend_from_slice(s.scid);
        if s.ty == params(s.version).unwrap().initial_type {
            put_varint(&mut h, s.token.len() as u64);
            h.extend_from_slice(s.token);
        }
        let length = s.pn_len + payload.len() + TAG_LEN;
        h.extend_from_slice(&(length as u16 | 0x4000).to_be_bytes());
        let pn_offset = h.len();
        h.extend_from_slice(&s.pn.to_be_bytes()[8 - s.pn_len..]);

        let k = keys(params(s.version).unwrap(), s.key_cid, s.sender).unwrap();
        let mut nonce = k.iv;
        for (n, p) in nonce.iter_mut().rev().zip(s.pn.to_be_bytes().iter().rev()) {
            *n ^= p;
        }
        let mut body = payload.to_vec();
        k.aead
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(&h),
                &mut body,
            )
            .unwrap();
        let mut pkt = h;
        pkt.extend_from_slice(&body);
        let at = pn_offset + SAMPLE_OFFSET;
        let mask = k.hp.new_mask(&pkt[at..at + SAMPLE_LEN]).unwrap();
        pkt[0] ^= mask[0] & 0x0f;
        for i in 0..s.pn_len {
            pkt[pn_offset + i] ^= mask[1 + i];
        }
        pkt
    }

    const RFC_DCID: &str = "8394c8f03e515708";

    /// RFC 9001 A.2 / RFC 9369 A.2: the client's CRYPTO frame (ClientHello
    /// for example.com).
    const RFC_CLIENT_CRYPTO: &str = "
        060040f1010000ed0303ebf8fa56f129 39b9584a3896472ec40bb863cfd3e868
        04fe3a47f06a2b69484c000004130113 02010000c000000010000e00000b6578
        616d706c652e636f6dff01000100000a 00080006001d00170018001000070005
        04616c706e0005000501000000000033 00260024001d00209370b2c9caa47fba
        baf4559fedba753de171fa71f50f1ce1 5d43e994ec74d748002b000302030400
        0d0010000e0403050306030203080408 050806002d00020101001c0002400100
        3900320408ffffffffffffffff050480 00ffff07048000ffff08011001048000
        75300901100f088394c8f03e51570806 048000ffff";

    /// The RFC's client payload: the CRYPTO frame padded to 1162 bytes.
    fn rfc_client_payload() -> Vec<u8> {
        let mut p = hex(RFC_CLIENT_CRYPTO);
        p.resize(1162, 0);
        p
    }

    fn rfc_client_packet(version: u32) -> Vec<u8> {
        let dcid = hex(RFC_DCID);
        let spec = Spec {
            pn: 2,
            pn_len: 4,
            ..Spec::client(version, &dcid)
        };
        protect(&spec, &rfc_client_payload())
    }

    #[test]
    fn rfc9001_a1_initial_keys() {
        let dcid = hex(RFC_DCID);
        let c = secrets(&V1, &dcid, Sender::Client).unwrap();
        assert_eq!(
            c.secret.to_vec(),
            hex("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea")
        );
        assert_eq!(c.key.to_vec(), hex("1f369613dd76d5467730efcbe3b1a22d"));
        assert_eq!(c.iv.to_vec(), hex("fa044b2f42a3fd3b46fb255c"));
        assert_eq!(c.hp.to_vec(), hex("9f50449e04a0e810283a1e9933adedd2"));
        let s = secrets(&V1, &dcid, Sender::Server).unwrap();
        assert_eq!(
            s.secret.to_vec(),
            hex("3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b")
        );
        assert_eq!(s.key.to_vec(), hex("cf3a5331653c364c88f0f379b6067e37"));
        assert_eq!(s.iv.to_vec(), hex("0ac1493ca1905853b0bba03e"));
        assert_eq!(s.hp.to_vec(), hex("c206b8d9b9f0f37644430b490eeaa314"));
    }

    #[test]
    fn rfc9001_a2_client_initial() {
        let pkt = rfc_client_packet(VERSION_1);
        // The RFC's protected packet: header, first sample, and the tag.
        assert_eq!(pkt.len(), 1200);
        assert!(pkt.starts_with(&hex(
            "c000000001088394c8f03e5157080000 449e7b9aec34d1b1c98dd7689fb8ec11
             d242b123dc9bd8bab936b47d92ec356c 0bab7df5976d27cd449f63300099f399"
        )));
        assert!(pkt.ends_with(&hex(
            "7e78bfe706ca4cf5e9c5453e9f7cfd2b 8b4c8d169a44e55c88d4a9a7f9474241
             e221af44860018ab0856972e194cd934"
        )));
        assert!(looks_like_initial(&pkt));

        let init = parse_client_initial(&pkt).unwrap().unwrap();
        assert_eq!(init.version, VERSION_1);
        assert_eq!(init.dcid, &hex(RFC_DCID)[..]);
        assert!(init.scid.is_empty() && init.token.is_empty());
        assert_eq!(init.packet_number, 2);
        assert_eq!(init.packets, 1);
        assert!(!init.incomplete && !init.ping && !init.ack);
        assert_eq!(init.crypto.len(), 1);
        let f = &init.crypto[0];
        assert_eq!(f.offset, 0);
        assert_eq!(f.data.len(), 0xf1);
        assert_eq!(f.data[..], hex(RFC_CLIENT_CRYPTO)[4..]);
        assert_eq!(f.data[0], 0x01, "handshake type ClientHello");
        assert!(f.data.windows(11).any(|w| w == b"example.com"));

        let mut s = CryptoStream::new();
        s.push_frames(&init.crypto);
        assert_eq!(s.first_handshake_message().unwrap(), &f.data[..]);
    }

    #[test]
    fn rfc9001_a3_server_initial() {
        // The RFC's complete protected server Initial (ACK + ServerHello).
        let pkt = hex(
            "cf000000010008f067a5502a4262b500 4075c0d95a482cd0991cd25b0aac406a
             5816b6394100f37a1c69797554780bb3 8cc5a99f5ede4cf73c3ec2493a1839b3
             dbcba3f6ea46c5b7684df3548e7ddeb9 c3bf9c73cc3f3bded74b562bfb19fb84
             022f8ef4cdd93795d77d06edbb7aaf2f 58891850abbdca3d20398c276456cbc4
             2158407dd074ee",
        );
        let dcid = hex(RFC_DCID);
        let init = parse_initial(&pkt, Sender::Server, Some(&dcid))
            .unwrap()
            .unwrap();
        assert_eq!(init.packet_number, 1);
        assert!(init.dcid.is_empty());
        assert_eq!(init.scid, &hex("f067a5502a4262b5")[..]);
        assert!(init.ack && !init.incomplete);
        assert_eq!(init.crypto.len(), 1);
        assert_eq!(init.crypto[0].offset, 0);
        assert_eq!(init.crypto[0].data[..4], [0x02, 0x00, 0x00, 0x56]);
        // With client keys, or keys from the wrong DCID, authentication fails.
        assert!(matches!(
            parse_client_initial(&pkt),
            Err(ParseError::Invalid { offset: 0, .. })
        ));
        assert!(parse_initial(&pkt, Sender::Server, Some(b"wrong-cid")).is_err());
    }

    #[test]
    fn rfc9369_a2_client_initial_v2() {
        let pkt = rfc_client_packet(VERSION_2);
        assert!(pkt.starts_with(&hex(
            "d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485"
        )));
        assert!(pkt.ends_with(&hex(
            "6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19
             9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b
             a18b2faa745b6fe189cf772a9f84cbfc"
        )));
        assert!(looks_like_initial(&pkt));
        let init = parse_client_initial(&pkt).unwrap().unwrap();
        assert_eq!(init.version, VERSION_2);
        assert_eq!(init.packet_number, 2);
        assert_eq!(init.crypto[0].data[..], hex(RFC_CLIENT_CRYPTO)[4..]);
    }

    #[test]
    fn rfc9369_a3_server_initial_v2() {
        let pkt = hex(
            "dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698
             baeea26b91eb761d9b89237bbf87263017915358230035f7fd3945d88965cf17
             f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e42757507698075b2
             c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca8
             4bed8521e2e140",
        );
        let dcid = hex(RFC_DCID);
        let init = parse_initial(&pkt, Sender::Server, Some(&dcid))
            .unwrap()
            .unwrap();
        assert_eq!(init.version, VERSION_2);
        assert_eq!(init.packet_number, 1);
        assert!(init.ack);
        assert_eq!(init.crypto[0].data[0], 0x02);
    }

    #[test]
    fn draft29_round_trip() {
        let dcid = [7u8; 8];
        let mut payload = crypto_frame(0, b"\x01\x00\x00\x03abc");
        payload.resize(1100, 0);
        let pkt = protect(&Spec::client(VERSION_DRAFT_29, &dcid), &payload);
        assert!(looks_like_initial(&pkt));
        let init = parse_client_initial(&pkt).unwrap().unwrap();
        assert_eq!(init.version, VERSION_DRAFT_29);
        assert_eq!(init.crypto[0].data, b"\x01\x00\x00\x03abc");
        // The same bytes under v1 keys do not authenticate.
        let mut as_v1 = pkt.clone();
        as_v1[1..5].copy_from_slice(&VERSION_1.to_be_bytes());
        assert!(parse_client_initial(&as_v1).is_err());
    }

    /// A ClientHello-like message split Chrome-style: shuffled CRYPTO frames
    /// with PING and PADDING between them, over two datagrams.
    #[test]
    fn split_client_hello_over_two_datagrams() {
        let mut hello = vec![0x01, 0x00, 0x07, 0xd0];
        hello.extend((0..2000u32).map(|i| (i % 251) as u8));
        hello.extend_from_slice(b"sni.example.net");
        let total = hello.len() as u64;
        let hello_len = (hello.len() - 4) as u32;
        hello[1..4].copy_from_slice(&hello_len.to_be_bytes()[1..]);
        let dcid = hex("0011223344556677");
        let cut = |a: usize, b: usize| crypto_frame(a as u64, &hello[a..b]);

        let mut p1 = Vec::new();
        p1.extend(cut(600, 1100));
        p1.push(0x01); // PING
        p1.extend([0u8; 5]); // PADDING
        p1.extend(cut(0, 300));
        p1.extend(cut(250, 600)); // overlaps the previous frame
        let mut p2 = cut(1500, hello.len());
        p2.extend([0u8; 3]);
        p2.extend(cut(1100, 1500));
        let d1 = protect(&Spec::client(VERSION_1, &dcid), &p1);
        let d2 = protect(
            &Spec {
                pn: 1,
                ..Spec::client(VERSION_1, &dcid)
            },
            &p2,
        );

        let i1 = parse_client_initial(&d1).unwrap().unwrap();
        assert!(i1.ping && !i1.incomplete);
        assert_eq!(i1.crypto.len(), 3);
        let mut s = CryptoStream::new();
        s.push_frames(&i1.crypto);
        assert_eq!(s.contiguous(), &hello[..1100]);
        assert!(s.first_handshake_message().is_none());

        let i2 = parse_client_initial(&d2).unwrap().unwrap();
        assert_eq!(i2.packet_number, 1);
        // Frames in wire order: the later part first.
        assert_eq!(i2.crypto[0].offset, 1500);
        s.push_frames(&i2.crypto);
        assert_eq!(s.contiguous().len() as u64, total);
        assert_eq!(s.first_handshake_message().unwrap(), &hello[..]);
        assert_eq!(s.pending_frames(), 0);
        assert!(!s.overflowed());

        let mut all = i2.crypto.clone();
        all.extend(i1.crypto.clone());
        let mut out = vec![9; 3];
        assert!(assemble_crypto(&all, &mut out));
        assert_eq!(out, hello);
        assert!(!assemble_crypto(&i2.crypto, &mut out));
        assert!(out.is_empty());
    }

    #[test]
    fn coalesced_initial_handshake_and_short_header() {
        let dcid = hex("aabbccddeeff0011");
        let mut a = crypto_frame(0, b"first");
        a.resize(60, 0);
        let mut d = protect(&Spec::client(VERSION_1, &dcid), &a);
        // A Handshake packet (type 2) with its own keys: skipped by Length.
        let hs = protect(
            &Spec {
                ty: 2,
                ..Spec::client(VERSION_1, &dcid)
            },
            &[1; 40],
        );
        d.extend_from_slice(&hs);
        // A second Initial with the same DCID.
        let mut b = crypto_frame(5, b"second");
        b.push(0x01);
        b.resize(40, 0);
        d.extend(protect(
            &Spec {
                pn: 1,
                ..Spec::client(VERSION_1, &dcid)
            },
            &b,
        ));
        // An Initial with another DCID is ignored.
        let other = hex("0102030405060708");
        d.extend(protect(
            &Spec::client(VERSION_1, &other),
            &crypto_frame(11, b"x"),
        ));
        // A short-header packet to the end of the datagram.
        d.extend_from_slice(&[0x40, 1, 2, 3, 4, 5, 6, 7, 8]);

        let init = parse_client_initial(&d).unwrap().unwrap();
        assert_eq!(init.packets, 2);
        assert_eq!(init.packet_number, 0);
        assert!(init.ping && !init.incomplete);
        let data: Vec<_> = init
            .crypto
            .iter()
            .map(|f| (f.offset, &f.data[..]))
            .collect();
        assert_eq!(data, [(0, &b"first"[..]), (5, &b"second"[..])]);
    }

    #[test]
    fn broken_packet_after_a_good_one_keeps_the_good_one() {
        let dcid = [3u8; 8];
        let mut d = protect(&Spec::client(VERSION_1, &dcid), &crypto_frame(0, &[1; 30]));
        let mut bad = protect(
            &Spec {
                pn: 1,
                ..Spec::client(VERSION_1, &dcid)
            },
            &[0; 30],
        );
        let last = bad.len() - 1;
        bad[last] ^= 1; // breaks the tag
        d.extend(bad);
        let init = parse_client_initial(&d).unwrap().unwrap();
        assert_eq!(init.packets, 1);
        assert!(init.incomplete);
        assert_eq!(init.crypto.len(), 1);
    }

    #[test]
    fn non_initials_are_none() {
        let dcid = [5u8; 8];
        let hs = protect(
            &Spec {
                ty: 2,
                ..Spec::client(VERSION_1, &dcid)
            },
            &[0; 30],
        );
        assert!(!looks_like_initial(&hs));
        assert_eq!(parse_client_initial(&hs), Ok(None));
        // v1 Initial type bits under v2 mean Retry: stop.
        let mut retry = vec![0xc0];
        retry.extend_from_slice(&VERSION_2.to_be_bytes());
        retry.extend_from_slice(&[0, 0, 1, 2, 3]);
        assert!(!looks_like_initial(&retry));
        assert_eq!(parse_client_initial(&retry), Ok(None));
        // Version negotiation, unknown version, short header, empty.
        let vn = hex("c000000000 08 0102030405060708 00 00000001");
        assert_eq!(parse_client_initial(&vn), Ok(None));
        let unknown = hex("c0 51303530 08 0102030405060708 00 00 4100");
        assert!(!looks_like_initial(&unknown));
        assert_eq!(parse_client_initial(&unknown), Ok(None));
        assert_eq!(parse_client_initial(&[0x41, 1, 2, 3]), Ok(None));
        assert_eq!(parse_client_initial(&[]), Ok(None));
        assert!(!looks_like_initial(&[]));
        // Google QUIC Q043-style public header (flags 0x0d, 8-byte CID).
        let gquic = hex("0d 1122334455667788 51303433 01 00");
        assert!(!looks_like_initial(&gquic));
        assert_eq!(parse_client_initial(&gquic), Ok(None));
    }

    #[test]
    fn errors_for_cut_long_and_tampered_packets() {
        let pkt = rfc_client_packet(VERSION_1);
        assert!(matches!(
            parse_client_initial(&pkt[..600]),
            Err(ParseError::Truncated {
                offset: 18,
                needed: 1182
            })
        ));
        let mut bad = pkt.clone();
        bad[700] ^= 0x80;
        assert!(matches!(
            parse_client_initial(&bad),
            Err(ParseError::Invalid { offset: 0, .. })
        ));
        let mut long_cid = pkt.clone();
        long_cid[5] = 21;
        assert!(!looks_like_initial(&long_cid));
        assert_eq!(
            parse_client_initial(&long_cid),
            Err(ParseError::Invalid {
                offset: 5,
                what: "QUIC connection ID longer than 20 bytes"
            })
        );
        // Length too small to hold the header protection sample.
        let short = hex("c0 00000001 04 01020304 00 00 05 0001020304");
        assert!(matches!(
            parse_client_initial(&short),
            Err(ParseError::Invalid { .. })
        ));
    }

    #[test]
    fn frames_ack_close_and_unknown() {
        let dcid = [9u8; 10];
        let mut p = vec![0x02];
        for v in [10, 0, 2, 1, 1, 2, 3, 4] {
            put_varint(&mut p, v); // largest, delay, 2 ranges, first, gaps/lens
        }
        p.extend([0x03, 5, 0, 0, 0, 1, 2, 3]); // ACK_ECN
        p.push(0x1c);
        put_varint(&mut p, 0x0a); // PROTOCOL_VIOLATION
        put_varint(&mut p, 0x06);
        put_varint(&mut p, 3);
        p.extend_from_slice(b"bad");
        p.extend(crypto_frame(0, b"\x01\x00\x00\x00"));
        p.push(0x08); // STREAM: not allowed in Initial, stops the walk
        p.extend(crypto_frame(4, b"never"));
        p.resize(80, 0);
        let pkt = protect(
            &Spec {
                scid: b"srcid",
                token: b"tok",
                ..Spec::client(VERSION_1, &dcid)
            },
            &p,
        );
        let init = parse_client_initial(&pkt).unwrap().unwrap();
        assert!(init.ack);
        assert_eq!(init.scid, b"srcid");
        assert_eq!(init.token, b"tok");
        assert_eq!(
            init.close,
            Some(ConnectionClose {
                error_code: 0x0a,
                frame_type: Some(6),
                reason: b"bad".to_vec()
            })
        );
        assert_eq!(init.crypto.len(), 1);
        assert_eq!(init.unknown_frame, Some(0x08));
        assert!(init.incomplete);
    }

    #[test]
    fn ack_range_count_is_bounded() {
        let mut p = vec![0x02, 0, 0];
        put_varint(&mut p, MAX_ACK_RANGES + 1);
        p.resize(40, 0);
        let pkt = protect(&Spec::client(VERSION_1, &[1; 8]), &p);
        let mut init = parse_client_initial(&pkt).unwrap().unwrap();
        assert!(init.incomplete && !init.ack);
        init.incomplete = false;
        let mut n = 0;
        walk_frames(&[0x06, 0x00, 0x10, 1], &mut init, &mut n);
        assert!(init.incomplete, "CRYPTO length past the end");
    }

    #[test]
    fn crypto_frame_count_is_bounded() {
        let mut p = Vec::new();
        for i in 0..(MAX_CRYPTO_FRAMES as u64 + 5) {
            p.extend(crypto_frame(i, b"a"));
        }
        let pkt = protect(&Spec::client(VERSION_1, &[1; 8]), &p);
        let init = parse_client_initial(&pkt).unwrap().unwrap();
        assert_eq!(init.crypto.len(), MAX_CRYPTO_FRAMES);
        assert!(init.incomplete);
    }

    #[test]
    fn varints() {
        for (bytes, v) in [
            (&b"\x25"[..], 37u64),
            (b"\x7b\xbd", 15293),
            (b"\x9d\x7f\x3e\x7d", 494_878_333),
            (b"\xc2\x19\x7c\x5e\xff\x14\xe8\x8c", 151_288_809_941_952_652),
        ] {
            assert_eq!(varint(&mut Cursor::new(bytes)), Ok(v));
        }
        assert!(varint(&mut Cursor::new(b"\x7b")).is_err());
    }

    #[test]
    fn crypto_stream_bounds() {
        let mut s = CryptoStream::new();
        s.push(u64::MAX, b"x");
        s.push(MAX_CRYPTO_BYTES as u64, b"x");
        assert!(s.overflowed() && s.contiguous().is_empty());
        let mut s = CryptoStream::new();
        for i in 0..(MAX_PENDING_FRAMES as u64 + 3) {
            s.push(10 + i, b"y");
        }
        assert_eq!(s.pending_frames(), MAX_PENDING_FRAMES);
        assert!(s.overflowed());
        s.push(0, &[7; 10]);
        assert_eq!(s.contiguous().len(), 10 + MAX_PENDING_FRAMES);
        assert_eq!(s.pending_frames(), 0);
        let mut s = CryptoStream::new();
        s.push(0, &vec![1; MAX_CRYPTO_BYTES + 10]);
        assert_eq!(s.contiguous().len(), MAX_CRYPTO_BYTES);
        assert!(s.overflowed());
    }

    proptest! {
        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..1500)) {
            let _ = looks_like_initial(&b);
            let _ = parse_client_initial(&b);
            let _ = parse_initial(&b, Sender::Server, Some(&b[..b.len().min(8)]));
        }

        /// Random bytes behind a valid Initial header reach the crypto.
        #[test]
        fn never_panics_behind_a_header(
            v in prop::sample::select(vec![VERSION_1, VERSION_2, VERSION_DRAFT_29]),
            tail in proptest::collection::vec(any::<u8>(), 0..600),
        ) {
            let mut b = vec![0xc0 | params(v).unwrap().initial_type << 4];
            b.extend_from_slice(&v.to_be_bytes());
            b.extend_from_slice(&[8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0]);
            b.extend_from_slice(&tail);
            prop_assert!(looks_like_initial(&b));
            let _ = parse_client_initial(&b);
        }

        /// The frame walk on random plaintext.
        #[test]
        fn frames_never_panic(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            let pkt = rfc_client_packet(VERSION_1);
            let mut init = parse_client_initial(&pkt).unwrap().unwrap();
            let mut n = 0;
            walk_frames(&b, &mut init, &mut n);
            prop_assert!(init.crypto.len() <= MAX_CRYPTO_FRAMES);
        }

        /// Any order and overlap of frames covering a message assembles it.
        #[test]
        fn crypto_stream_reassembles(
            msg in proptest::collection::vec(any::<u8>(), 1..3000),
            cuts in proptest::collection::vec((0usize..3000, 1usize..400), 1..40),
            seed in any::<u64>(),
        ) {
            let mut frames: Vec<CryptoFrame> = cuts
                .iter()
                .map(|&(a, n)| {
                    let a = a % msg.len();
                    let b = (a + n).min(msg.len());
                    CryptoFrame { offset: a as u64, data: msg[a..b].to_vec() }
                })
                .collect();
            // Make sure the whole message is covered, then shuffle.
            frames.push(CryptoFrame { offset: 0, data: msg[..msg.len() / 2].to_vec() });
            frames.push(CryptoFrame { offset: (msg.len() / 2) as u64, data: msg[msg.len() / 2..].to_vec() });
            let mut x = seed;
            for i in (1..frames.len()).rev() {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                frames.swap(i, (x >> 33) as usize % (i + 1));
            }
            let mut s = CryptoStream::new();
            s.push_frames(&frames);
            prop_assert_eq!(s.contiguous(), &msg[..]);
            let mut out = Vec::new();
            prop_assert!(assemble_crypto(&frames, &mut out));
            prop_assert_eq!(out, msg);
        }
    }
}
