//! Capture file writers for the fixture generator: classic pcap and pcapng.
//!
//! Contract: both writers build the whole file in memory and return its bytes; they do no I/O
//! and read no clock. Timestamps are `u64` nanoseconds since the Unix epoch and are converted
//! to the file's resolution by truncation (µs pcap drops the last three digits). Records are
//! written exactly as asked: [`PcapWriter::push`] cuts a frame to the snap length and keeps the
//! real length as `orig_len`; [`PcapWriter::push_raw`] writes any header values at all, which
//! is how the hostile fixtures are made.
//!
//! pcap layout (per the libpcap file format): a 24-byte global header (magic, version 2.4,
//! thiszone 0, sigfigs 0, snaplen, link type), then per record `ts_sec, ts_frac, caplen,
//! origlen` and `caplen` bytes. The magic is written in the chosen byte order, which is what
//! tells a reader the order: 0xa1b2c3d4 for microseconds, 0xa1b23c4d for nanoseconds.
//!
//! pcapng layout: one Section Header Block, then Interface Description Blocks (each with its
//! own link type, snap length and `if_tsresol`), Enhanced Packet Blocks naming an interface,
//! and Simple Packet Blocks (which belong to interface 0). Every block is padded to 4 bytes
//! and ends with its total length repeated.
//!
//! Example (prose): `let mut w = PcapWriter::new(Endian::Little, TsResolution::Micro, 65535,
//! linktype::ETHERNET); w.push(ts, &frame); let bytes = w.finish();`

/// Link-layer header type values used by the fixtures (tcpdump.org LINKTYPE_ registry).
pub mod linktype {
    /// BSD loopback: 4-byte address family in the writer's host byte order.
    pub const NULL: u32 = 0;
    /// Ethernet II / 802.3.
    pub const ETHERNET: u32 = 1;
    /// Raw IP as written by some systems (DLT_RAW on OpenBSD/others).
    pub const RAW_DLT12: u32 = 12;
    /// Raw IPv4/IPv6 (LINKTYPE_RAW).
    pub const RAW: u32 = 101;
    /// Linux cooked capture v1 (16-byte header).
    pub const LINUX_SLL: u32 = 113;
    /// 802.11 with a radiotap header.
    pub const IEEE802_11_RADIOTAP: u32 = 127;
    /// Linux cooked capture v2 (20-byte header).
    pub const LINUX_SLL2: u32 = 276;
}

/// Byte order of the file headers and record headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endian {
    /// Little-endian (what x86 and ARM machines write).
    Little,
    /// Big-endian.
    Big,
}

impl Endian {
    fn put_u16(self, out: &mut Vec<u8>, v: u16) {
        match self {
            Endian::Little => out.extend_from_slice(&v.to_le_bytes()),
            Endian::Big => out.extend_from_slice(&v.to_be_bytes()),
        }
    }

    fn put_u32(self, out: &mut Vec<u8>, v: u32) {
        match self {
            Endian::Little => out.extend_from_slice(&v.to_le_bytes()),
            Endian::Big => out.extend_from_slice(&v.to_be_bytes()),
        }
    }

    fn put_u64(self, out: &mut Vec<u8>, v: u64) {
        match self {
            Endian::Little => out.extend_from_slice(&v.to_le_bytes()),
            Endian::Big => out.extend_from_slice(&v.to_be_bytes()),
        }
    }
}

/// Timestamp resolution of a classic pcap file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsResolution {
    /// Magic 0xa1b2c3d4, fractional part in microseconds.
    Micro,
    /// Magic 0xa1b23c4d, fractional part in nanoseconds.
    Nano,
}

/// Magic number of a microsecond pcap file.
pub const PCAP_MAGIC_MICRO: u32 = 0xa1b2_c3d4;
/// Magic number of a nanosecond pcap file.
pub const PCAP_MAGIC_NANO: u32 = 0xa1b2_3c4d;

/// Builds a classic pcap file in memory.
#[derive(Debug, Clone)]
pub struct PcapWriter {
    buf: Vec<u8>,
    endian: Endian,
    res: TsResolution,
    snaplen: u32,
}

impl PcapWriter {
    /// Starts a file with the global header written.
    pub fn new(endian: Endian, res: TsResolution, snaplen: u32, linktype: u32) -> Self {
        let mut buf = Vec::with_capacity(4096);
        let magic = match res {
            TsResolution::Micro => PCAP_MAGIC_MICRO,
            TsResolution::Nano => PCAP_MAGIC_NANO,
        };
        endian.put_u32(&mut buf, magic);
        endian.put_u16(&mut buf, 2);
        endian.put_u16(&mut buf, 4);
        endian.put_u32(&mut buf, 0); // thiszone
        endian.put_u32(&mut buf, 0); // sigfigs
        endian.put_u32(&mut buf, snaplen);
        endian.put_u32(&mut buf, linktype);
        PcapWriter {
            buf,
            endian,
            res,
            snaplen,
        }
    }

    /// Little-endian microsecond file, the most common kind.
    pub fn ethernet_le() -> Self {
        PcapWriter::new(
            Endian::Little,
            TsResolution::Micro,
            65535,
            linktype::ETHERNET,
        )
    }

    /// Appends a record for `frame`, cut to the snap length; `orig_len` is the frame length.
    pub fn push(&mut self, ts_ns: u64, frame: &[u8]) {
        let cap = frame.len().min(self.snaplen as usize);
        self.push_raw(ts_ns, cap as u32, frame.len() as u32, &frame[..cap]);
    }

    /// Appends a record header with exactly these values followed by `data` (which need not
    /// be `caplen` bytes long: hostile fixtures lie on purpose).
    pub fn push_raw(&mut self, ts_ns: u64, caplen: u32, origlen: u32, data: &[u8]) {
        let secs = (ts_ns / 1_000_000_000) as u32;
        let frac_ns = (ts_ns % 1_000_000_000) as u32;
        let frac = match self.res {
            TsResolution::Micro => frac_ns / 1000,
            TsResolution::Nano => frac_ns,
        };
        self.endian.put_u32(&mut self.buf, secs);
        self.endian.put_u32(&mut self.buf, frac);
        self.endian.put_u32(&mut self.buf, caplen);
        self.endian.put_u32(&mut self.buf, origlen);
        self.buf.extend_from_slice(data);
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True only if nothing at all has been written (never, after `new`).
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The finished file.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// pcapng block type: Section Header Block.
pub const BT_SHB: u32 = 0x0A0D_0D0A;
/// pcapng block type: Interface Description Block.
pub const BT_IDB: u32 = 0x0000_0001;
/// pcapng block type: Simple Packet Block.
pub const BT_SPB: u32 = 0x0000_0003;
/// pcapng block type: Enhanced Packet Block.
pub const BT_EPB: u32 = 0x0000_0006;
/// pcapng byte-order magic.
pub const PCAPNG_BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

const OPT_END: u16 = 0;
const OPT_COMMENT: u16 = 1;
const SHB_USERAPPL: u16 = 4;
const IF_NAME: u16 = 2;
const IF_TSRESOL: u16 = 9;

#[derive(Debug, Clone, Copy)]
struct Interface {
    snaplen: u32,
    tsresol: u8,
}

/// Builds a pcapng file (one section) in memory.
#[derive(Debug, Clone)]
pub struct PcapngWriter {
    buf: Vec<u8>,
    endian: Endian,
    interfaces: Vec<Interface>,
}

impl PcapngWriter {
    /// Starts a file with a Section Header Block (version 1.0, unknown section length, a
    /// `shb_userappl` option naming the generator).
    pub fn new(endian: Endian) -> Self {
        let mut w = PcapngWriter {
            buf: Vec::with_capacity(4096),
            endian,
            interfaces: Vec::new(),
        };
        let mut body = Vec::new();
        endian.put_u32(&mut body, PCAPNG_BYTE_ORDER_MAGIC);
        endian.put_u16(&mut body, 1);
        endian.put_u16(&mut body, 0);
        endian.put_u64(&mut body, u64::MAX); // section length unknown (-1)
        w.option(&mut body, SHB_USERAPPL, b"egresswatch-fixtures");
        w.end_options(&mut body);
        w.block(BT_SHB, &body);
        w
    }

    fn option(&self, body: &mut Vec<u8>, code: u16, value: &[u8]) {
        self.endian.put_u16(body, code);
        self.endian.put_u16(body, value.len() as u16);
        body.extend_from_slice(value);
        pad4(body);
    }

    fn end_options(&self, body: &mut Vec<u8>) {
        self.endian.put_u16(body, OPT_END);
        self.endian.put_u16(body, 0);
    }

    /// Appends a block of any type around `body` (padded to 4 bytes, both lengths written).
    pub fn block(&mut self, block_type: u32, body: &[u8]) {
        let padded = (body.len() + 3) & !3;
        let total = (12 + padded) as u32;
        self.endian.put_u32(&mut self.buf, block_type);
        self.endian.put_u32(&mut self.buf, total);
        self.buf.extend_from_slice(body);
        self.buf.resize(self.buf.len() + (padded - body.len()), 0);
        self.endian.put_u32(&mut self.buf, total);
    }

    /// Appends raw bytes with no framing at all (for hostile fixtures).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Adds an Interface Description Block and returns its interface id. `tsresol` is the
    /// `if_tsresol` value: a power of ten, 6 = microseconds, 9 = nanoseconds (0..=9 only).
    pub fn add_interface(&mut self, linktype: u16, snaplen: u32, tsresol: u8, name: &str) -> u32 {
        let tsresol = tsresol.min(9);
        let mut body = Vec::new();
        self.endian.put_u16(&mut body, linktype);
        self.endian.put_u16(&mut body, 0);
        self.endian.put_u32(&mut body, snaplen);
        if !name.is_empty() {
            self.option(&mut body, IF_NAME, name.as_bytes());
        }
        self.option(&mut body, IF_TSRESOL, &[tsresol]);
        self.end_options(&mut body);
        self.block(BT_IDB, &body);
        self.interfaces.push(Interface { snaplen, tsresol });
        (self.interfaces.len() - 1) as u32
    }

    /// Appends an Enhanced Packet Block on interface `if_id` (which must have been added),
    /// cut to that interface's snap length, with an optional comment.
    pub fn epb(&mut self, if_id: u32, ts_ns: u64, frame: &[u8], comment: Option<&str>) {
        let iface = self.interfaces[if_id as usize];
        let units = ts_ns / 10u64.pow(9 - u32::from(iface.tsresol));
        let cap = frame.len().min(iface.snaplen as usize);
        let mut body = Vec::with_capacity(frame.len() + 32);
        self.endian.put_u32(&mut body, if_id);
        self.endian.put_u32(&mut body, (units >> 32) as u32);
        self.endian.put_u32(&mut body, units as u32);
        self.endian.put_u32(&mut body, cap as u32);
        self.endian.put_u32(&mut body, frame.len() as u32);
        body.extend_from_slice(&frame[..cap]);
        pad4(&mut body);
        if let Some(c) = comment {
            self.option(&mut body, OPT_COMMENT, c.as_bytes());
            self.end_options(&mut body);
        }
        self.block(BT_EPB, &body);
    }

    /// Appends a Simple Packet Block (implicitly interface 0, no timestamp), cut to
    /// interface 0's snap length.
    pub fn spb(&mut self, frame: &[u8]) {
        let snap = self.interfaces[0].snaplen as usize;
        let cap = frame.len().min(snap);
        let mut body = Vec::with_capacity(frame.len() + 8);
        self.endian.put_u32(&mut body, frame.len() as u32);
        body.extend_from_slice(&frame[..cap]);
        self.block(BT_SPB, &body);
    }

    /// The finished file.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

fn pad4(v: &mut Vec<u8>) {
    v.resize(v.len().next_multiple_of(4), 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32le(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    #[test]
    fn pcap_header_and_cut_record() {
        let mut w = PcapWriter::new(Endian::Little, TsResolution::Micro, 4, linktype::ETHERNET);
        w.push(1_772_359_200_123_456_789, &[1, 2, 3, 4, 5, 6]);
        let b = w.finish();
        assert_eq!(&b[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(u32le(&b, 16), 4);
        assert_eq!(u32le(&b, 20), 1);
        assert_eq!(u32le(&b, 24), 1_772_359_200);
        assert_eq!(u32le(&b, 28), 123_456);
        assert_eq!(u32le(&b, 32), 4);
        assert_eq!(u32le(&b, 36), 6);
        assert_eq!(&b[40..], &[1, 2, 3, 4]);
    }

    #[test]
    fn pcap_big_endian_nano() {
        let mut w = PcapWriter::new(Endian::Big, TsResolution::Nano, 65535, linktype::RAW);
        w.push(5_000_000_007, &[9]);
        let b = w.finish();
        assert_eq!(&b[..4], &[0xa1, 0xb2, 0x3c, 0x4d]);
        assert_eq!(&b[24..32], &[0, 0, 0, 5, 0, 0, 0, 7]);
    }

    #[test]
    fn pcapng_blocks_are_aligned_and_framed() {
        let mut w = PcapngWriter::new(Endian::Little);
        let a = w.add_interface(1, 65535, 6, "eth0");
        let b = w.add_interface(101, 65535, 9, "tun0");
        assert_eq!((a, b), (0, 1));
        w.epb(1, 1_000_000_001, &[0x45, 0, 0], Some("x"));
        w.spb(&[1, 2, 3, 4, 5]);
        let bytes = w.finish();
        let mut at = 0;
        let mut types = Vec::new();
        while at < bytes.len() {
            let t = u32le(&bytes, at);
            let len = u32le(&bytes, at + 4) as usize;
            assert_eq!(len % 4, 0);
            assert_eq!(u32le(&bytes, at + len - 4) as usize, len);
            if t == BT_EPB {
                // ns interface: 1_000_000_001 units
                assert_eq!(u32le(&bytes, at + 12), 0);
                assert_eq!(u32le(&bytes, at + 16), 1_000_000_001);
            }
            types.push(t);
            at += len;
        }
        assert_eq!(at, bytes.len());
        assert_eq!(types, vec![BT_SHB, BT_IDB, BT_IDB, BT_EPB, BT_SPB]);
    }
}
