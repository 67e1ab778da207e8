//! Radiotap and IEEE 802.11 frames: a bounded, zero-copy walker of our own.
//!
//! Why not a crate: `radiotap` 1.3 panics on malformed headers, and `libwifi`
//! drops the last information element of a frame, which is often the one the
//! sensor needs (the DS parameter set that carries the channel).
//!
//! Two entry points, both pure functions over borrowed bytes:
//!
//! - [`parse_radiotap`] reads a radiotap header (link type 127): version 0,
//!   header length, the chain of present bitmaps (bit 31 extends it, at most
//!   [`MAX_PRESENT_WORDS`]; bit 29 resets to the radiotap namespace, bit 30
//!   opens a vendor namespace whose data is skipped by its `skip_length`),
//!   then the fields in order with their alignment (relative to the header
//!   start). It records TSFT, Flags, Rate, Channel (frequency and flags),
//!   dBm antenna signal and noise, antenna, XChannel and MCS (the first
//!   occurrence of each: later radiotap namespaces repeat per-antenna values),
//!   and returns the 802.11 frame after the header. A field it does not know
//!   (or the TLV area) ends the walk cleanly with `complete == false`; the
//!   frame slice is still right because the header length gives it. When the
//!   Flags byte has [`RT_FLAG_FCS`], the frame ends with a 4-byte FCS:
//!   [`Radiotap::frame_without_fcs`] strips it.
//! - [`parse_dot11`] reads an 802.11 frame: after radiotap, raw (link type
//!   105), or the native frame carried by CAPWAP data (RFC 5416), none of
//!   which should still hold an FCS (strip it first). Cisco controllers send
//!   CAPWAP-carried frames with the frame control bytes swapped: use
//!   [`parse_dot11_swapped_fc`] for those. It returns frame
//!   control, addresses 1 to 4 as the type and DS bits place them, the
//!   derived BSSID and station, the fixed fields of management frames
//!   (beacon, probe, association, reassociation, authentication,
//!   deauthentication, disassociation) and a summary of the information
//!   elements: SSID, DS parameter set channel, HT operation primary channel,
//!   VHT operation, RSN and WPA presence, mesh ID. For data frames,
//!   [`Dot11::llc_payload`] gives the EtherType and payload after LLC/SNAP.
//!   Action frames are classified but their bodies are not walked.
//!
//! Bounds and laxness: elements are walked by [`ElementIter`], at most
//! [`MAX_ELEMENTS`]; the last element is yielded whenever it fits. An element
//! or fixed field running past the end of the frame (snap length, an FCS left
//! in) stops the walk with what was read and sets `malformed`. A header
//! shorter than its type requires is an error. Protected management frames
//! (802.11w) keep their header but no body fields. Unknown types, subtypes,
//! status and reason codes are kept as integers.
//!
//! Example (prose): for a link-type-127 frame, `let rt = parse_radiotap(buf)?;`
//! then `let f = parse_dot11(rt.frame_without_fcs())?;`; a beacon gives
//! `f.kind == FrameKind::Beacon`, `f.ssid == Some(b"Lekonora")`,
//! `f.ds_channel == Some(7)`, while `rt.channel_freq == Some(2437)` and
//! `freq_to_channel(2437) == Some(6)`.

use super::cursor::Cursor;
use super::ParseError;

/// Bound on the present bitmaps of one radiotap header.
pub const MAX_PRESENT_WORDS: usize = 16;
/// Bound on the information elements walked in one frame.
pub const MAX_ELEMENTS: usize = 256;

/// Radiotap Flags: the frame ends with a 4-byte FCS.
pub const RT_FLAG_FCS: u8 = 0x10;
/// Radiotap Flags: the frame failed its FCS check.
pub const RT_FLAG_BAD_FCS: u8 = 0x40;

/// A MAC address as on the wire.
pub type Mac = [u8; 6];

/// What a radiotap header says about the frame it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Radiotap<'a> {
    /// The header length (where the 802.11 frame starts).
    pub len: usize,
    /// The first present bitmap.
    pub present: u32,
    pub tsft: Option<u64>,
    /// The Flags byte (see [`RT_FLAG_FCS`], [`RT_FLAG_BAD_FCS`]).
    pub flags: Option<u8>,
    /// Legacy rate in units of 500 kb/s.
    pub rate: Option<u8>,
    /// Channel frequency in MHz (from Channel, else from XChannel).
    pub channel_freq: Option<u16>,
    /// Channel flags (0x0080 2 GHz, 0x0100 5 GHz, ...; from Channel).
    pub channel_flags: Option<u16>,
    pub signal_dbm: Option<i8>,
    pub noise_dbm: Option<i8>,
    pub antenna: Option<u8>,
    /// MCS field: known, flags, index.
    pub mcs: Option<[u8; 3]>,
    /// Every present field was understood and fitted in the header.
    pub complete: bool,
    /// The 802.11 frame after the header (FCS included when flagged).
    pub frame: &'a [u8],
}

impl<'a> Radiotap<'a> {
    /// The Flags byte says the frame ends with an FCS.
    pub fn has_fcs(&self) -> bool {
        self.flags.is_some_and(|f| f & RT_FLAG_FCS != 0)
    }

    /// The Flags byte says the FCS check failed.
    pub fn bad_fcs(&self) -> bool {
        self.flags.is_some_and(|f| f & RT_FLAG_BAD_FCS != 0)
    }

    /// The 802.11 frame without its trailing FCS (when flagged and present).
    pub fn frame_without_fcs(&self) -> &'a [u8] {
        if self.has_fcs() {
            if let Some(n) = self.frame.len().checked_sub(4) {
                return Cursor::new(self.frame).bytes(n).unwrap_or(self.frame);
            }
        }
        self.frame
    }

    /// The channel number of `channel_freq`.
    pub fn channel(&self) -> Option<u16> {
        freq_to_channel(self.channel_freq?)
    }

    /// The band of `channel_freq`.
    pub fn band(&self) -> Option<Band> {
        band(self.channel_freq?)
    }
}

/// Radiotap fields of the radiotap namespace: (alignment, size) by bit.
fn field_spec(bit: u32) -> Option<(usize, usize)> {
    Some(match bit {
        0 => (8, 8),   // TSFT
        1 => (1, 1),   // Flags
        2 => (1, 1),   // Rate
        3 => (2, 4),   // Channel: frequency, flags
        4 => (1, 2),   // FHSS
        5 => (1, 1),   // dBm antenna signal
        6 => (1, 1),   // dBm antenna noise
        7 => (2, 2),   // lock quality
        8 => (2, 2),   // TX attenuation
        9 => (2, 2),   // dB TX attenuation
        10 => (1, 1),  // dBm TX power
        11 => (1, 1),  // antenna
        12 => (1, 1),  // dB antenna signal
        13 => (1, 1),  // dB antenna noise
        14 => (2, 2),  // RX flags
        15 => (2, 2),  // TX flags
        16 => (1, 1),  // RTS retries
        17 => (1, 1),  // data retries
        18 => (4, 8),  // XChannel: flags, frequency, channel, max power
        19 => (1, 3),  // MCS
        20 => (4, 8),  // A-MPDU status
        21 => (2, 12), // VHT
        22 => (8, 12), // timestamp
        23 => (2, 12), // HE
        24 => (2, 12), // HE-MU
        25 => (2, 6),  // HE-MU-other-user
        26 => (1, 1),  // 0-length PSDU
        27 => (2, 4),  // L-SIG
        _ => return None,
    })
}

const BIT_RADIOTAP_NS: u32 = 1 << 29;
const BIT_VENDOR_NS: u32 = 1 << 30;
const BIT_EXT: u32 = 1 << 31;

/// Parses a radiotap header and returns it with the 802.11 frame after it.
///
/// Errors: version not 0, a header length below 8 or beyond the buffer, or
/// present bitmaps running past the header. Fields are lax (see module doc).
pub fn parse_radiotap(buf: &[u8]) -> Result<Radiotap<'_>, ParseError> {
    let mut c = Cursor::new(buf);
    if c.u8()? != 0 {
        return Err(ParseError::Invalid {
            offset: 0,
            what: "radiotap version",
        });
    }
    c.skip(1)?;
    let len = c.u16_le()? as usize;
    if len < 8 {
        return Err(ParseError::Invalid {
            offset: 2,
            what: "radiotap length",
        });
    }
    let mut all = Cursor::new(buf);
    let hdr = all.sub(len)?;
    let mut rt = Radiotap {
        len,
        present: 0,
        tsft: None,
        flags: None,
        rate: None,
        channel_freq: None,
        channel_flags: None,
        signal_dbm: None,
        noise_dbm: None,
        antenna: None,
        mcs: None,
        complete: false,
        frame: all.rest(),
    };

    // Count the present words; the fields start after the last one.
    let mut words = hdr;
    words.skip(4)?;
    rt.present = words.u32_le()?;
    let mut n = 1;
    let mut last = rt.present;
    while last & BIT_EXT != 0 {
        if n >= MAX_PRESENT_WORDS {
            return Ok(rt); // fields unreadable, frame still known
        }
        last = words.u32_le()?;
        n += 1;
    }
    let mut data = hdr;
    data.seek(words.pos())?;

    let mut words = hdr;
    words.skip(4)?;
    rt.complete = walk_fields(&mut rt, &mut words, &mut data, n).is_some();
    Ok(rt)
}

/// Walks `n` present words over `data`; `None` when it stopped early.
fn walk_fields(
    rt: &mut Radiotap<'_>,
    words: &mut Cursor<'_>,
    data: &mut Cursor<'_>,
    n: usize,
) -> Option<()> {
    let mut vendor_ns = false;
    let mut base = 0u32; // field number of bit 0 in this radiotap-namespace word
    for _ in 0..n {
        let w = words.u32_le().ok()?;
        if !vendor_ns {
            for bit in 0..29u32 {
                if w & (1 << bit) != 0 {
                    read_field(rt, data, base + bit)?;
                }
            }
        }
        if w & BIT_VENDOR_NS != 0 {
            align(data, 2)?;
            let mut v = data.sub(6).ok()?;
            v.skip(4).ok()?; // OUI, sub-namespace
            let skip = v.u16_le().ok()? as usize;
            data.skip(skip).ok()?;
            vendor_ns = true;
            base = 0;
        } else if w & BIT_RADIOTAP_NS != 0 {
            vendor_ns = false;
            base = 0;
        } else {
            base = base.saturating_add(32);
        }
    }
    Some(())
}

fn align(data: &mut Cursor<'_>, to: usize) -> Option<()> {
    let pad = (to - data.pos() % to) % to;
    data.skip(pad).ok()
}

fn read_field(rt: &mut Radiotap<'_>, data: &mut Cursor<'_>, field: u32) -> Option<()> {
    let (al, size) = field_spec(field)?;
    align(data, al)?;
    let mut f = data.sub(size).ok()?;
    match field {
        0 => set(&mut rt.tsft, f.u64_le().ok()),
        1 => set(&mut rt.flags, f.u8().ok()),
        2 => set(&mut rt.rate, f.u8().ok()),
        3 => {
            set(&mut rt.channel_freq, f.u16_le().ok());
            set(&mut rt.channel_flags, f.u16_le().ok());
        }
        5 => set(&mut rt.signal_dbm, f.u8().ok().map(|v| v as i8)),
        6 => set(&mut rt.noise_dbm, f.u8().ok().map(|v| v as i8)),
        11 => set(&mut rt.antenna, f.u8().ok()),
        18 => {
            f.skip(4).ok()?;
            set(&mut rt.channel_freq, f.u16_le().ok());
        }
        19 => set(&mut rt.mcs, f.array::<3>().ok()),
        _ => {}
    }
    Some(())
}

/// Keeps the first value seen.
fn set<T>(slot: &mut Option<T>, v: Option<T>) {
    if slot.is_none() {
        *slot = v;
    }
}

/// A WiFi band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Band {
    /// 2.4 GHz, channels 1 to 14.
    Ghz2_4,
    /// 5 GHz (with the 4.9 GHz channels 182 to 196).
    Ghz5,
    /// 6 GHz, channels 1 to 233.
    Ghz6,
    /// 60 GHz (DMG), channels 1 to 4 (5 and 6 do not fit a u16 of MHz).
    Ghz60,
}

/// The band a frequency (MHz) belongs to, when it is a WiFi channel.
pub fn band(mhz: u16) -> Option<Band> {
    freq_band_channel(mhz).map(|(b, _)| b)
}

/// The channel number of a frequency in MHz: 2.4 GHz 1-14, 5 GHz (and
/// 4.9 GHz), 6 GHz 1-233, 60 GHz 1-4; `None` for anything else.
pub fn freq_to_channel(mhz: u16) -> Option<u16> {
    freq_band_channel(mhz).map(|(_, c)| c)
}

fn freq_band_channel(mhz: u16) -> Option<(Band, u16)> {
    let on_grid = |base: u16, step: u16| (mhz - base).is_multiple_of(step);
    match mhz {
        2484 => Some((Band::Ghz2_4, 14)),
        2412..=2472 if on_grid(2407, 5) => Some((Band::Ghz2_4, (mhz - 2407) / 5)),
        4910..=4980 if on_grid(4000, 5) => Some((Band::Ghz5, (mhz - 4000) / 5)),
        5150..=5895 if on_grid(5000, 5) => Some((Band::Ghz5, (mhz - 5000) / 5)),
        5935 => Some((Band::Ghz6, 2)),
        5955..=7115 if on_grid(5950, 5) => Some((Band::Ghz6, (mhz - 5950) / 5)),
        58320..=64800 if on_grid(56160, 2160) => Some((Band::Ghz60, (mhz - 56160) / 2160)),
        _ => None,
    }
}

/// The frame control field, as the little-endian u16 of its two bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameControl(pub u16);

impl FrameControl {
    pub fn version(self) -> u8 {
        (self.0 & 0x3) as u8
    }
    /// 0 management, 1 control, 2 data, 3 extension.
    pub fn ftype(self) -> u8 {
        ((self.0 >> 2) & 0x3) as u8
    }
    pub fn subtype(self) -> u8 {
        ((self.0 >> 4) & 0xf) as u8
    }
    fn flag(self, bit: u16) -> bool {
        self.0 & (bit << 8) != 0
    }
    pub fn to_ds(self) -> bool {
        self.flag(0x01)
    }
    pub fn from_ds(self) -> bool {
        self.flag(0x02)
    }
    pub fn more_fragments(self) -> bool {
        self.flag(0x04)
    }
    pub fn retry(self) -> bool {
        self.flag(0x08)
    }
    pub fn power_mgmt(self) -> bool {
        self.flag(0x10)
    }
    pub fn protected(self) -> bool {
        self.flag(0x40)
    }
    /// +HTC / Order.
    pub fn order(self) -> bool {
        self.flag(0x80)
    }
}

/// What kind of frame, from type and subtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameKind {
    AssocRequest,
    AssocResponse,
    ReassocRequest,
    ReassocResponse,
    ProbeRequest,
    ProbeResponse,
    Beacon,
    Disassociation,
    Authentication,
    Deauthentication,
    Action,
    /// Another management subtype (ATIM, timing advertisement, ...).
    OtherManagement(u8),
    /// A control frame, by subtype.
    Control(u8),
    /// A data frame, by subtype (bit 0x8: QoS, bit 0x4: no data).
    Data(u8),
    /// An extension frame (type 3), by subtype.
    Extension(u8),
}

impl FrameKind {
    fn of(fc: FrameControl) -> Self {
        let st = fc.subtype();
        match (fc.ftype(), st) {
            (0, 0) => Self::AssocRequest,
            (0, 1) => Self::AssocResponse,
            (0, 2) => Self::ReassocRequest,
            (0, 3) => Self::ReassocResponse,
            (0, 4) => Self::ProbeRequest,
            (0, 5) => Self::ProbeResponse,
            (0, 8) => Self::Beacon,
            (0, 10) => Self::Disassociation,
            (0, 11) => Self::Authentication,
            (0, 12) => Self::Deauthentication,
            (0, 13) | (0, 14) => Self::Action,
            (0, _) => Self::OtherManagement(st),
            (1, _) => Self::Control(st),
            (2, _) => Self::Data(st),
            _ => Self::Extension(st),
        }
    }
}

/// Fixed fields of a management frame body (integers little-endian).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixed {
    /// No fixed fields (probe request, action, control, data), or a body that
    /// was protected or cut short.
    None,
    /// Beacon and probe response.
    Beacon {
        timestamp: u64,
        interval: u16,
        capability: u16,
    },
    AssocRequest {
        capability: u16,
        listen_interval: u16,
    },
    ReassocRequest {
        capability: u16,
        listen_interval: u16,
        current_ap: Mac,
    },
    /// Association and reassociation response.
    AssocResponse {
        capability: u16,
        status: u16,
        aid: u16,
    },
    Authentication {
        algorithm: u16,
        seq: u16,
        status: u16,
    },
    /// Deauthentication and disassociation.
    Reason(u16),
}

/// VHT operation element (192).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VhtOperation {
    /// 0: 20/40 MHz, 1: 80, 160 or 80+80 MHz, 2: 160 (deprecated), 3: 80+80.
    pub width: u8,
    pub center_seg0: u8,
    pub center_seg1: u8,
}

/// A parsed 802.11 frame, borrowing the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dot11<'a> {
    pub fc: FrameControl,
    pub kind: FrameKind,
    pub duration: u16,
    /// Receiver address (always present).
    pub addr1: Mac,
    /// Transmitter address, when the frame has one.
    pub addr2: Option<Mac>,
    pub addr3: Option<Mac>,
    /// Only in data frames with both DS bits set (WDS, mesh).
    pub addr4: Option<Mac>,
    /// Sequence control (fragment number in the low 4 bits).
    pub seq_ctrl: Option<u16>,
    /// QoS control, in QoS data frames (bit 0x80: the body is an A-MSDU).
    pub qos_ctrl: Option<u16>,
    /// The BSS the frame belongs to, when its type and DS bits say (never a
    /// group address).
    pub bssid: Option<Mac>,
    /// The non-AP station the frame is from or to, when that can be told
    /// (never a group address).
    pub station: Option<Mac>,
    pub fixed: Fixed,
    pub ssid: Option<&'a [u8]>,
    /// DS parameter set (3): the current channel.
    pub ds_channel: Option<u8>,
    /// HT operation (61): the primary channel.
    pub ht_primary_channel: Option<u8>,
    /// HT operation: secondary channel offset (0 none, 1 above, 3 below).
    pub ht_secondary_offset: Option<u8>,
    pub vht: Option<VhtOperation>,
    /// An RSN element (48) is present (WPA2/WPA3).
    pub rsn: bool,
    /// A WPA vendor element (00:50:f2 type 1) is present.
    pub wpa: bool,
    /// Mesh ID (114).
    pub mesh_id: Option<&'a [u8]>,
    /// The information elements (empty unless a management frame).
    pub ies: &'a [u8],
    /// The frame body after the MAC header (management: including fixed fields).
    pub body: &'a [u8],
    /// A fixed field or element ran past the end, or too many elements.
    pub malformed: bool,
}

impl<'a> Dot11<'a> {
    /// For an unprotected data frame whose body starts with an LLC/SNAP
    /// header (RFC 1042 or 802.1H), the EtherType and what follows it: IPv4
    /// 0x0800 (DHCP over WiFi), EAPOL 0x888e. `None` for protected, null-data
    /// and A-MSDU frames and anything else.
    pub fn llc_payload(&self) -> Option<(u16, &'a [u8])> {
        if self.fc.ftype() != 2 || self.fc.protected() || self.fc.subtype() & 0x4 != 0 {
            return None;
        }
        if self.qos_ctrl.is_some_and(|q| q & 0x80 != 0) {
            return None;
        }
        let mut c = Cursor::new(self.body);
        let snap = c.array::<6>().ok()?;
        if !matches!(
            snap,
            [0xaa, 0xaa, 0x03, 0, 0, 0] | [0xaa, 0xaa, 0x03, 0, 0, 0xf8]
        ) {
            return None;
        }
        let ethertype = c.u16().ok()?;
        Some((ethertype, c.rest()))
    }

    /// The channel the frame's elements announce: DS parameter set, else the
    /// HT operation primary channel.
    pub fn channel(&self) -> Option<u8> {
        self.ds_channel.or(self.ht_primary_channel)
    }

    /// The transmitter (addr2), when the frame has one.
    pub fn transmitter(&self) -> Option<Mac> {
        self.addr2
    }

    /// The receiver (addr1).
    pub fn receiver(&self) -> Mac {
        self.addr1
    }
}

/// True for a group (multicast or broadcast) address.
pub fn is_group(mac: &Mac) -> bool {
    mac.first().is_some_and(|b| b & 1 != 0)
}

fn unicast(mac: Option<Mac>) -> Option<Mac> {
    mac.filter(|m| !is_group(m))
}

/// Parses an 802.11 frame (no FCS at the end).
///
/// Errors when the MAC header for its type is cut short or the protocol
/// version is not 0; the body is lax (see module doc).
pub fn parse_dot11(frame: &[u8]) -> Result<Dot11<'_>, ParseError> {
    parse_dot11_inner(frame, false)
}

/// Like [`parse_dot11`] for frames whose two frame control bytes come
/// swapped: CAPWAP data from Cisco controllers and some other APs (Wireshark
/// swaps CAPWAP-carried frames by default, its `capwap.swap_fc` preference).
pub fn parse_dot11_swapped_fc(frame: &[u8]) -> Result<Dot11<'_>, ParseError> {
    parse_dot11_inner(frame, true)
}

fn parse_dot11_inner(frame: &[u8], swapped_fc: bool) -> Result<Dot11<'_>, ParseError> {
    let mut c = Cursor::new(frame);
    let fc = FrameControl(if swapped_fc { c.u16()? } else { c.u16_le()? });
    if fc.version() != 0 {
        return Err(ParseError::Invalid {
            offset: 0,
            what: "802.11 protocol version",
        });
    }
    let kind = FrameKind::of(fc);
    let duration = c.u16_le()?;
    let addr1: Mac = c.array()?;
    let mut f = Dot11 {
        fc,
        kind,
        duration,
        addr1,
        addr2: None,
        addr3: None,
        addr4: None,
        seq_ctrl: None,
        qos_ctrl: None,
        bssid: None,
        station: None,
        fixed: Fixed::None,
        ssid: None,
        ds_channel: None,
        ht_primary_channel: None,
        ht_secondary_offset: None,
        vht: None,
        rsn: false,
        wpa: false,
        mesh_id: None,
        ies: &[],
        body: &[],
        malformed: false,
    };
    match fc.ftype() {
        0 => {
            let (a2, a3) = (c.array()?, c.array()?);
            f.addr2 = Some(a2);
            f.addr3 = Some(a3);
            f.seq_ctrl = Some(c.u16_le()?);
            if fc.order() {
                c.skip(4)?; // HT control
            }
            f.bssid = unicast(f.addr3);
            f.station = if a2 == a3 {
                unicast(Some(addr1))
            } else {
                unicast(f.addr2)
            };
            f.body = c.rest();
            if !fc.protected() {
                management_body(&mut f, c);
            }
        }
        1 => {
            let st = fc.subtype();
            if !matches!(st, 6 | 12 | 13) {
                f.addr2 = Some(c.array()?);
            }
            match st {
                10 => {
                    f.bssid = unicast(Some(addr1));
                    f.station = unicast(f.addr2);
                }
                14 | 15 => f.bssid = unicast(f.addr2),
                _ => {}
            }
            f.body = c.rest();
        }
        2 => {
            let (a2, a3): (Mac, Mac) = (c.array()?, c.array()?);
            f.addr2 = Some(a2);
            f.addr3 = Some(a3);
            f.seq_ctrl = Some(c.u16_le()?);
            if fc.to_ds() && fc.from_ds() {
                f.addr4 = Some(c.array()?);
            }
            let qos = fc.subtype() & 0x8 != 0;
            if qos {
                f.qos_ctrl = Some(c.u16_le()?);
                if fc.order() {
                    c.skip(4)?;
                }
            }
            let (bssid, station) = match (fc.to_ds(), fc.from_ds()) {
                (false, false) => (Some(a3), Some(a2)),
                (true, false) => (Some(addr1), Some(a2)),
                (false, true) => (Some(a2), Some(addr1)),
                (true, true) => (None, None),
            };
            f.bssid = unicast(bssid);
            f.station = unicast(station);
            f.body = c.rest();
        }
        _ => f.body = c.rest(),
    }
    Ok(f)
}

/// Reads the fixed fields and elements of an unprotected management body.
fn management_body<'a>(f: &mut Dot11<'a>, mut c: Cursor<'a>) {
    let fixed = match fixed_fields(f.kind, &mut c) {
        Ok(Some(fixed)) => fixed,
        Ok(None) => return, // action and others: no elements here
        Err(_) => {
            f.malformed = true;
            return;
        }
    };
    f.fixed = fixed;
    if matches!(fixed, Fixed::Reason(_)) {
        return; // what follows is vendor elements or a MIC element at most
    }
    f.ies = c.rest();
    let mut it = elements(f.ies);
    for e in it.by_ref() {
        record_element(f, e);
    }
    f.malformed = it.malformed();
}

/// The fixed fields before the elements; `None` for a body without elements.
fn fixed_fields(kind: FrameKind, c: &mut Cursor<'_>) -> Result<Option<Fixed>, ParseError> {
    Ok(Some(match kind {
        FrameKind::Beacon | FrameKind::ProbeResponse => Fixed::Beacon {
            timestamp: c.u64_le()?,
            interval: c.u16_le()?,
            capability: c.u16_le()?,
        },
        FrameKind::AssocRequest => Fixed::AssocRequest {
            capability: c.u16_le()?,
            listen_interval: c.u16_le()?,
        },
        FrameKind::ReassocRequest => Fixed::ReassocRequest {
            capability: c.u16_le()?,
            listen_interval: c.u16_le()?,
            current_ap: c.array()?,
        },
        FrameKind::AssocResponse | FrameKind::ReassocResponse => Fixed::AssocResponse {
            capability: c.u16_le()?,
            status: c.u16_le()?,
            aid: c.u16_le()?,
        },
        FrameKind::Authentication => Fixed::Authentication {
            algorithm: c.u16_le()?,
            seq: c.u16_le()?,
            status: c.u16_le()?,
        },
        FrameKind::Deauthentication | FrameKind::Disassociation => Fixed::Reason(c.u16_le()?),
        FrameKind::ProbeRequest => Fixed::None,
        _ => return Ok(None),
    }))
}

const WPA_OUI_TYPE: [u8; 4] = [0x00, 0x50, 0xf2, 0x01];

fn record_element<'a>(f: &mut Dot11<'a>, e: Element<'a>) {
    let mut d = Cursor::new(e.data);
    match e.id {
        0 => set(&mut f.ssid, Some(e.data)),
        3 => set(&mut f.ds_channel, d.u8().ok()),
        48 => f.rsn = true,
        61 => {
            set(&mut f.ht_primary_channel, d.u8().ok());
            set(&mut f.ht_secondary_offset, d.u8().ok().map(|b| b & 0x3));
        }
        114 => set(&mut f.mesh_id, Some(e.data)),
        192 => {
            let v = d.array::<3>().ok().map(|[w, s0, s1]| VhtOperation {
                width: w,
                center_seg0: s0,
                center_seg1: s1,
            });
            set(&mut f.vht, v);
        }
        221 => f.wpa |= d.array::<4>().ok() == Some(WPA_OUI_TYPE),
        _ => {}
    }
}

/// One information element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    pub id: u8,
    pub data: &'a [u8],
}

/// Walks information elements: id, length, data; at most [`MAX_ELEMENTS`].
pub fn elements(ies: &[u8]) -> ElementIter<'_> {
    ElementIter {
        c: Cursor::new(ies),
        n: 0,
        malformed: false,
    }
}

/// Iterator over information elements; see [`elements`].
#[derive(Debug, Clone)]
pub struct ElementIter<'a> {
    c: Cursor<'a>,
    n: usize,
    malformed: bool,
}

impl ElementIter<'_> {
    /// An element ran past the end, a lone byte was left, or the bound hit.
    pub fn malformed(&self) -> bool {
        self.malformed
    }
}

impl<'a> Iterator for ElementIter<'a> {
    type Item = Element<'a>;

    fn next(&mut self) -> Option<Element<'a>> {
        if self.c.is_empty() {
            return None;
        }
        if self.n >= MAX_ELEMENTS {
            self.malformed = true;
            return None;
        }
        let mut c = self.c;
        if let (Ok(id), Ok(v)) = (c.u8(), c.vec8()) {
            self.c = c;
            self.n += 1;
            return Some(Element { id, data: v.rest() });
        }
        self.malformed = true;
        self.c = Cursor::new(&[]);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const AP: Mac = [0x14, 0xcc, 0x20, 0xc1, 0xcb, 0x2c];
    const STA: Mac = [0x98, 0xff, 0xd0, 0x74, 0x83, 0x6d];
    const BCAST: Mac = [0xff; 6];

    /// A radiotap header: the present words then the field bytes as given
    /// (the caller lays out alignment padding).
    fn radiotap(present: &[u32], fields: &[u8]) -> Vec<u8> {
        let len = 4 + 4 * present.len() + fields.len();
        let mut b = vec![0, 0];
        b.extend_from_slice(&(len as u16).to_le_bytes());
        for w in present {
            b.extend_from_slice(&w.to_le_bytes());
        }
        b.extend_from_slice(fields);
        b
    }

    fn mgmt(subtype: u8, flags: u8, a1: Mac, a2: Mac, a3: Mac, body: &[u8]) -> Vec<u8> {
        let mut b = vec![subtype << 4, flags, 0x3a, 0x01];
        for a in [a1, a2, a3] {
            b.extend_from_slice(&a);
        }
        b.extend_from_slice(&[0x10, 0x00]);
        b.extend_from_slice(body);
        b
    }

    fn ie(id: u8, data: &[u8]) -> Vec<u8> {
        let mut v = vec![id, data.len() as u8];
        v.extend_from_slice(data);
        v
    }

    fn beacon_body(ies: &[Vec<u8>]) -> Vec<u8> {
        let mut b = 0x1122_3344_5566_7788u64.to_le_bytes().to_vec();
        b.extend_from_slice(&100u16.to_le_bytes());
        b.extend_from_slice(&0x0411u16.to_le_bytes());
        for e in ies {
            b.extend_from_slice(e);
        }
        b
    }

    #[test]
    fn radiotap_fields_alignment_and_fcs() {
        // TSFT, Flags, Rate, Channel, dBm signal, antenna, + ext word with
        // radiotap reset repeating the signal for antenna 0.
        let p0 = 1 | 1 << 1 | 1 << 2 | 1 << 3 | 1 << 5 | 1 << 11 | BIT_RADIOTAP_NS | BIT_EXT;
        let p1 = 1 << 5 | 1 << 11;
        let mut fields = vec![0u8; 4]; // pad so TSFT sits at offset 16
        fields.extend_from_slice(&7u64.to_le_bytes());
        fields.extend_from_slice(&[RT_FLAG_FCS, 0x02]);
        fields.extend_from_slice(&2437u16.to_le_bytes());
        fields.extend_from_slice(&0x00a0u16.to_le_bytes());
        fields.extend_from_slice(&[(-40i8) as u8, 1, (-41i8) as u8, 0]);
        let mut b = radiotap(&[p0, p1], &fields);
        b.extend_from_slice(&[0xaa, 0xbb, 1, 2, 3, 4]);
        let rt = parse_radiotap(&b).unwrap();
        assert!(rt.complete);
        assert_eq!(rt.tsft, Some(7));
        assert_eq!(rt.flags, Some(RT_FLAG_FCS));
        assert_eq!(rt.rate, Some(2));
        assert_eq!(rt.channel_freq, Some(2437));
        assert_eq!(rt.channel_flags, Some(0xa0));
        assert_eq!(rt.channel(), Some(6));
        assert_eq!(rt.band(), Some(Band::Ghz2_4));
        assert_eq!(rt.signal_dbm, Some(-40));
        assert_eq!(rt.antenna, Some(1));
        assert_eq!(rt.frame, &[0xaa, 0xbb, 1, 2, 3, 4]);
        assert_eq!(rt.frame_without_fcs(), &[0xaa, 0xbb]);
        assert!(rt.has_fcs() && !rt.bad_fcs());
    }

    #[test]
    fn radiotap_unknown_field_stops_cleanly() {
        // Flags, then the TLV bit: walk stops, frame still found.
        let mut b = radiotap(&[1 << 1 | 1 << 28], &[0x00, 9, 9, 9]);
        b.push(0x80);
        let rt = parse_radiotap(&b).unwrap();
        assert!(!rt.complete);
        assert_eq!(rt.flags, Some(0));
        assert_eq!(rt.frame, &[0x80]);
        // A field in an extended radiotap word (field 32+) is unknown too.
        let b = radiotap(&[1 << 1 | BIT_EXT, 1], &[0, 0, 0, 0]);
        assert!(!parse_radiotap(&b).unwrap().complete);
    }

    #[test]
    fn radiotap_vendor_namespace_is_skipped() {
        // word0: Flags + vendor ns next; word1 (vendor): bits ignored, then
        // back to radiotap; word2: dBm signal.
        let p0 = 1 << 1 | BIT_VENDOR_NS | BIT_EXT;
        let p1 = 0x7 | BIT_RADIOTAP_NS | BIT_EXT;
        let p2 = 1 << 5;
        let mut fields = vec![0x10, 0]; // flags + pad to 2
        fields.extend_from_slice(&[0x00, 0x11, 0x22, 0x01, 3, 0]); // OUI, subns, skip 3
        fields.extend_from_slice(&[0xde, 0xad, 0xbe]);
        fields.push((-55i8) as u8);
        let b = radiotap(&[p0, p1, p2], &fields);
        let rt = parse_radiotap(&b).unwrap();
        assert!(rt.complete);
        assert_eq!(rt.signal_dbm, Some(-55));
        assert!(rt.has_fcs());
        assert_eq!(rt.frame_without_fcs(), &[] as &[u8]);
    }

    #[test]
    fn radiotap_errors_and_bounds() {
        assert!(matches!(
            parse_radiotap(&[1, 0, 8, 0, 0, 0, 0, 0]),
            Err(ParseError::Invalid {
                what: "radiotap version",
                ..
            })
        ));
        assert!(parse_radiotap(&[0, 0, 4, 0]).is_err());
        assert!(parse_radiotap(&[0, 0, 20, 0, 0, 0, 0, 0]).is_err());
        // present words beyond the header length
        assert!(parse_radiotap(&radiotap(&[BIT_EXT], &[])).is_err());
        // too many present words: Ok, no fields, frame found
        let mut b = radiotap(&[BIT_EXT | 2; MAX_PRESENT_WORDS + 1], &[]);
        b.extend_from_slice(&[5, 6]);
        let rt = parse_radiotap(&b).unwrap();
        assert!(!rt.complete && rt.rate.is_none());
        assert_eq!(rt.frame, &[5, 6]);
        // a field past the header end: lax
        let fr = radiotap(&[1 << 3], &[0x85, 0x09]);
        let rt = parse_radiotap(&fr).unwrap();
        assert!(!rt.complete && rt.channel_freq.is_none());
    }

    #[test]
    fn channels_and_bands() {
        assert_eq!(freq_to_channel(2412), Some(1));
        assert_eq!(freq_to_channel(2472), Some(13));
        assert_eq!(freq_to_channel(2484), Some(14));
        assert_eq!(freq_to_channel(2413), None);
        assert_eq!(freq_to_channel(5180), Some(36));
        assert_eq!(freq_to_channel(5745), Some(149));
        assert_eq!(freq_to_channel(5885), Some(177));
        assert_eq!(freq_to_channel(4920), Some(184));
        assert_eq!(freq_to_channel(5955), Some(1));
        assert_eq!(freq_to_channel(5935), Some(2));
        assert_eq!(freq_to_channel(7115), Some(233));
        assert_eq!(freq_to_channel(60480), Some(2));
        assert_eq!(band(5745), Some(Band::Ghz5));
        assert_eq!(band(6115), Some(Band::Ghz6));
        assert_eq!(band(2437), Some(Band::Ghz2_4));
        assert_eq!(freq_to_channel(0), None);
        assert_eq!(freq_to_channel(u16::MAX), None);
    }

    #[test]
    fn beacon_with_elements_keeps_the_last() {
        let body = beacon_body(&[
            ie(0, b"Lekonora"),
            ie(1, &[0x82, 0x84]),
            ie(48, &[1, 0]),
            ie(61, &[7, 0x05, 0, 0, 0]),
            ie(192, &[1, 42, 0, 0, 0]),
            ie(221, &[0x00, 0x50, 0xf2, 0x01, 1, 0]),
            ie(3, &[7]), // last element: the channel
        ]);
        let b = mgmt(8, 0, BCAST, AP, AP, &body);
        let f = parse_dot11(&b).unwrap();
        assert_eq!(f.kind, FrameKind::Beacon);
        assert_eq!(f.ssid, Some(&b"Lekonora"[..]));
        assert_eq!(f.ds_channel, Some(7));
        assert_eq!(f.channel(), Some(7));
        assert_eq!(f.ht_primary_channel, Some(7));
        assert_eq!(f.ht_secondary_offset, Some(1));
        assert_eq!(
            f.vht,
            Some(VhtOperation {
                width: 1,
                center_seg0: 42,
                center_seg1: 0
            })
        );
        assert!(f.rsn && f.wpa && !f.malformed);
        assert_eq!(f.bssid, Some(AP));
        assert_eq!(f.station, None);
        assert_eq!(f.transmitter(), Some(AP));
        assert_eq!(f.receiver(), BCAST);
        assert_eq!(f.seq_ctrl, Some(0x0010));
        assert_eq!(
            f.fixed,
            Fixed::Beacon {
                timestamp: 0x1122_3344_5566_7788,
                interval: 100,
                capability: 0x0411
            }
        );
        assert_eq!(elements(f.ies).count(), 7);
    }

    #[test]
    fn truncated_element_is_lax() {
        let mut body = beacon_body(&[ie(0, b"net"), ie(3, &[11])]);
        body.extend_from_slice(&[0xdd, 0x20, 0x00]);
        let b = mgmt(5, 0, STA, AP, AP, &body);
        let f = parse_dot11(&b).unwrap();
        assert_eq!(f.kind, FrameKind::ProbeResponse);
        assert_eq!(f.ssid, Some(&b"net"[..]));
        assert_eq!(f.ds_channel, Some(11));
        assert!(f.malformed);
        assert_eq!(f.station, Some(STA));
        // a lone trailing byte is malformed too
        let mut body = beacon_body(&[ie(3, &[1])]);
        body.push(0);
        assert!(
            parse_dot11(&mgmt(8, 0, BCAST, AP, AP, &body))
                .unwrap()
                .malformed
        );
        // fixed part cut short
        let fr = mgmt(8, 0, BCAST, AP, AP, &[0; 5]);
        let f = parse_dot11(&fr).unwrap();
        assert!(f.malformed);
        assert_eq!(f.fixed, Fixed::None);
    }

    #[test]
    fn probe_request_missing_ssid_and_wildcard_bssid() {
        let b = mgmt(4, 0, BCAST, STA, BCAST, &ie(1, &[2, 4]));
        let f = parse_dot11(&b).unwrap();
        assert_eq!(f.kind, FrameKind::ProbeRequest);
        assert_eq!(f.ssid, None);
        assert_eq!(f.bssid, None);
        assert_eq!(f.station, Some(STA));
        let b = mgmt(4, 0, BCAST, STA, BCAST, &ie(0, &[]));
        assert_eq!(parse_dot11(&b).unwrap().ssid, Some(&[][..]));
    }

    #[test]
    fn auth_assoc_deauth_fixed_fields() {
        let b = mgmt(11, 0, AP, STA, AP, &[0, 0, 1, 0, 0, 0]);
        let f = parse_dot11(&b).unwrap();
        assert_eq!(f.kind, FrameKind::Authentication);
        assert_eq!(
            f.fixed,
            Fixed::Authentication {
                algorithm: 0,
                seq: 1,
                status: 0
            }
        );
        assert_eq!(f.station, Some(STA));
        assert_eq!(f.bssid, Some(AP));

        let mut body = vec![0x31, 0x04, 0x0a, 0x00];
        body.extend(ie(0, b"ogogo"));
        let fr = mgmt(0, 0, AP, STA, AP, &body);
        let f = parse_dot11(&fr).unwrap();
        assert_eq!(
            f.fixed,
            Fixed::AssocRequest {
                capability: 0x0431,
                listen_interval: 10
            }
        );
        assert_eq!(f.ssid, Some(&b"ogogo"[..]));

        let mut body = vec![0x31, 0x04, 0x0a, 0x00];
        body.extend_from_slice(&AP);
        let fr = mgmt(2, 0, AP, STA, AP, &body);
        let f = parse_dot11(&fr).unwrap();
        assert_eq!(f.kind, FrameKind::ReassocRequest);
        assert!(matches!(
            f.fixed,
            Fixed::ReassocRequest { current_ap: AP, .. }
        ));

        let fr = mgmt(1, 0, STA, AP, AP, &[0x11, 0, 0, 0, 0x01, 0xc0]);

        let f = parse_dot11(&fr).unwrap();
        assert_eq!(
            f.fixed,
            Fixed::AssocResponse {
                capability: 0x11,
                status: 0,
                aid: 0xc001
            }
        );
        assert_eq!(f.station, Some(STA));

        let fr = mgmt(12, 0, STA, AP, AP, &[7, 0]);

        let f = parse_dot11(&fr).unwrap();
        assert_eq!(f.kind, FrameKind::Deauthentication);
        assert_eq!(f.fixed, Fixed::Reason(7));
        let fr = mgmt(10, 0, STA, AP, AP, &[8, 0]);
        let f = parse_dot11(&fr).unwrap();
        assert_eq!(f.kind, FrameKind::Disassociation);
        assert_eq!(f.fixed, Fixed::Reason(8));
        // protected (802.11w) deauth: header only
        let fr = mgmt(12, 0x40, STA, AP, AP, &[7, 0, 1, 2]);
        let f = parse_dot11(&fr).unwrap();
        assert_eq!(f.fixed, Fixed::None);
        assert!(f.fc.protected());
    }

    #[test]
    fn ht_control_in_management_frames() {
        let mut body = vec![1, 2, 3, 4];
        body.extend(beacon_body(&[ie(3, &[36])]));
        let fr = mgmt(8, 0x80, BCAST, AP, AP, &body);
        let f = parse_dot11(&fr).unwrap();
        assert_eq!(f.ds_channel, Some(36));
    }

    fn data(subtype: u8, flags: u8, addrs: &[Mac], extra: &[u8]) -> Vec<u8> {
        let mut b = vec![0x08 | subtype << 4, flags, 0, 0];
        for a in &addrs[..3] {
            b.extend_from_slice(a);
        }
        b.extend_from_slice(&[0x20, 0x00]);
        if let Some(a4) = addrs.get(3) {
            b.extend_from_slice(a4);
        }
        b.extend_from_slice(extra);
        b
    }

    #[test]
    fn data_frames_bssid_and_station_by_ds_bits() {
        let other: Mac = [2, 0, 0, 0, 0, 9];
        // to DS: addr1 BSSID, addr2 station
        let fr = data(0, 0x01, &[AP, STA, other], &[0xaa]);
        let f = parse_dot11(&fr).unwrap();
        assert_eq!(f.kind, FrameKind::Data(0));
        assert_eq!((f.bssid, f.station), (Some(AP), Some(STA)));
        assert_eq!(f.body, &[0xaa]);
        // from DS: addr1 station, addr2 BSSID; QoS adds 2 bytes
        let fr = data(8, 0x02, &[STA, AP, other], &[7, 0, 0xbb]);
        let f = parse_dot11(&fr).unwrap();
        assert_eq!((f.bssid, f.station), (Some(AP), Some(STA)));
        assert_eq!(f.body, &[0xbb]);
        // from DS to a group address: no station
        let fr = data(0, 0x02, &[BCAST, AP, other], &[]);
        let f = parse_dot11(&fr).unwrap();
        assert_eq!((f.bssid, f.station), (Some(AP), None));
        // WDS: four addresses, no BSSID
        let fr = data(8, 0x03, &[AP, STA, other, other], &[0, 0]);
        let f = parse_dot11(&fr).unwrap();
        assert_eq!(f.addr4, Some(other));
        assert_eq!((f.bssid, f.station), (None, None));
        // IBSS: addr3 BSSID
        let fr = data(0, 0x00, &[STA, other, AP], &[]);
        let f = parse_dot11(&fr).unwrap();
        assert_eq!((f.bssid, f.station), (Some(AP), Some(other)));
        // LLC/SNAP payload
        let mut llc = vec![7, 0, 0xaa, 0xaa, 3, 0, 0, 0, 0x88, 0x8e, 1, 3];
        let fr = data(8, 0x01, &[AP, STA, other], &llc);
        let f = parse_dot11(&fr).unwrap();
        assert_eq!(f.qos_ctrl, Some(7));
        assert_eq!(f.llc_payload(), Some((0x888e, &[1u8, 3][..])));
        llc[0] = 0x87; // A-MSDU present
        let fr = data(8, 0x01, &[AP, STA, other], &llc);
        assert_eq!(parse_dot11(&fr).unwrap().llc_payload(), None);
        let fr = data(0, 0x41, &[AP, STA, other], &llc[2..]);
        assert_eq!(parse_dot11(&fr).unwrap().llc_payload(), None);
        let fr = data(0, 0x01, &[AP, STA, other], &llc[2..]);
        assert_eq!(
            parse_dot11(&fr).unwrap().llc_payload().map(|p| p.0),
            Some(0x888e)
        );
        // QoS header cut short: error
        assert!(parse_dot11(&data(8, 0x01, &[AP, STA, other], &[0])).is_err());
    }

    #[test]
    fn control_frames() {
        let mut ack = vec![0xd4, 0, 0, 0];
        ack.extend_from_slice(&STA);
        let f = parse_dot11(&ack).unwrap();
        assert_eq!(f.kind, FrameKind::Control(13));
        assert_eq!((f.addr1, f.addr2), (STA, None));
        let mut pspoll = vec![0xa4, 0, 0, 0];
        pspoll.extend_from_slice(&AP);
        pspoll.extend_from_slice(&STA);
        let f = parse_dot11(&pspoll).unwrap();
        assert_eq!((f.bssid, f.station), (Some(AP), Some(STA)));
        assert!(parse_dot11(&pspoll[..12]).is_err());
        assert!(matches!(
            parse_dot11(&[0x01, 0, 0, 0, 1, 2, 3, 4, 5, 6]),
            Err(ParseError::Invalid { .. })
        ));
        assert!(parse_dot11(&[0x80, 0, 0]).is_err());
    }

    #[test]
    fn swapped_frame_control() {
        let mut b = mgmt(4, 0, BCAST, STA, BCAST, &ie(0, b"x"));
        b.swap(0, 1);
        assert!(
            parse_dot11(&b).is_err() || parse_dot11(&b).unwrap().kind != FrameKind::ProbeRequest
        );
        let f = parse_dot11_swapped_fc(&b).unwrap();
        assert_eq!(f.kind, FrameKind::ProbeRequest);
        assert_eq!(f.ssid, Some(&b"x"[..]));
    }

    #[test]
    fn element_bound() {
        let ies = [0u8, 0].repeat(MAX_ELEMENTS + 5);
        let mut it = elements(&ies);
        assert_eq!(it.by_ref().count(), MAX_ELEMENTS);
        assert!(it.malformed());
        let exact = [0u8, 0].repeat(MAX_ELEMENTS);
        let mut it = elements(&exact);
        assert_eq!(it.by_ref().count(), MAX_ELEMENTS);
        assert!(!it.malformed());
    }

    proptest! {
        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(rt) = parse_radiotap(&b) {
                let _ = parse_dot11(rt.frame_without_fcs());
            }
            let _ = parse_dot11(&b);
            let _ = elements(&b).count();
        }

        #[test]
        fn never_panics_structured(words in proptest::collection::vec(any::<u32>(), 1..6),
                                   fields in proptest::collection::vec(any::<u8>(), 0..80),
                                   st in 0u8..16, ies in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut b = radiotap(&words, &fields);
            b.extend(mgmt(st, 0, BCAST, AP, AP, &ies));
            if let Ok(rt) = parse_radiotap(&b) {
                let _ = parse_dot11(rt.frame);
            }
            let _ = freq_to_channel(u16::from_le_bytes([ies.first().copied().unwrap_or(0), st]));
        }
    }
}
