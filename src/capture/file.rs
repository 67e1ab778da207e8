//! Streaming pcap and pcapng reader over a reused buffer.
//!
//! The format is known from the file's first four bytes, never its name:
//! classic pcap in either byte order with microsecond or nanosecond
//! timestamps, or pcapng (several sections, several interfaces with their
//! own link types and timestamp resolutions, enhanced, simple and obsolete
//! packet blocks; other blocks are skipped).
//!
//! Memory stays flat whatever the file's size: records are read into one
//! buffer that grows only to the largest record seen (at most
//! [`MAX_BLOCK`]) and is reused, and each [`Frame`] borrows its bytes from it.
//! The buffer is a [`Chunk`]: a caller that hands frames to other threads
//! keeps a clone of it instead of copying the frames
//! ([`FileReader::next_frame_in`]), and while any clone is held the reader
//! reads on into another buffer (one of a few it keeps for reuse), so the
//! bytes a clone holds never change.
//!
//! Errors come in two kinds. A file that cannot be used at all (missing,
//! unreadable, not a capture, header cut off, unsupported link type) is a
//! [`CaptureError`] from [`FileReader::open`]. Damage further in (a record
//! cut off at the end, a length that lies, a broken block) ends the file:
//! the frames before it are delivered, and the damage is described in
//! [`FileReader::problems`] so the report can say what was not read.

use super::{CaptureError, Frame, LinkType, Nanos};
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

/// A buffer of the file's bytes, shared by reference count: frames read
/// from it can be kept by clone, without copying (see the module docs).
pub type Chunk = Arc<[u8]>;

/// Buffers a reader keeps for reuse once no clone of them is held: as many
/// as a file's frames are usually spread over while in flight, so in steady
/// state nothing is allocated.
const SPARES: usize = 16;

/// The largest frame accepted from a classic pcap record (as Wireshark).
pub const MAX_FRAME: u32 = 262_144;
/// The largest pcapng block accepted.
pub const MAX_BLOCK: u32 = 16 * 1024 * 1024;
/// How many pcapng interfaces a section may declare.
const MAX_INTERFACES: usize = 4096;
/// How many distinct problems are kept per file.
const MAX_PROBLEMS: usize = 16;
const INITIAL_BUFFER: usize = 256 * 1024;

const PCAP_US: u32 = 0xa1b2_c3d4;
const PCAP_NS: u32 = 0xa1b2_3c4d;
const PCAPNG_SHB: u32 = 0x0a0d_0d0a;
const PCAPNG_BOM: u32 = 0x1a2b_3c4d;

#[derive(Debug, Clone, Copy)]
enum TsResolution {
    /// Units of 10^-n seconds.
    Pow10(u32),
    /// Units of 2^-n seconds.
    Pow2(u32),
}

impl TsResolution {
    fn to_nanos(self, units: u64) -> Nanos {
        let ns: i128 = match self {
            TsResolution::Pow10(n) if n <= 9 => units as i128 * 10i128.pow(9 - n),
            TsResolution::Pow10(n) => units as i128 / 10i128.pow(n.min(38) - 9),
            TsResolution::Pow2(n) => ((units as i128) * 1_000_000_000) >> n.min(64),
        };
        ns.clamp(i64::MIN as i128, i64::MAX as i128) as Nanos
    }
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    link: LinkType,
    snaplen: u32,
    res: TsResolution,
    offset_secs: i64,
}

#[derive(Debug)]
enum Format {
    Pcap {
        be: bool,
        nanos: bool,
        link: LinkType,
        snaplen: u32,
    },
    PcapNg {
        be: bool,
        interfaces: Vec<Interface>,
    },
}

/// What reading a classic pcap record needs, fixed by the file header:
/// the per-frame path reads it instead of matching on [`Format`].
#[derive(Debug, Clone, Copy)]
struct PcapFast {
    be: bool,
    /// Nanoseconds per unit of the timestamp's fraction (1 or 1000).
    frac_ns: i64,
    link: LinkType,
    /// The longest record taken without the careful path: the cap, or
    /// the snap length where the header gives a smaller one.
    limit: u32,
}

/// A record wholly buffered, as [`FileReader::whole_record`] found it.
#[derive(Debug, Clone, Copy)]
struct Whole {
    ts: Nanos,
    caplen: usize,
    orig_len: u32,
}

/// The next packet record, located in the buffer but not yet delivered.
#[derive(Debug, Clone, Copy)]
struct Pending {
    ts: Nanos,
    link: LinkType,
    /// Offset of the frame's bytes from `start`.
    data_at: usize,
    caplen: usize,
    orig_len: u32,
    /// Bytes the whole record occupies from `start`.
    total: usize,
}

/// A frame consumed from the buffer, not yet borrowed from it.
#[derive(Debug, Clone, Copy)]
struct Located {
    ts: Nanos,
    link: LinkType,
    orig_len: u32,
    /// Where its bytes start in the buffer.
    at: usize,
    caplen: usize,
}

/// Reads one capture file, frame by frame.
pub struct FileReader<R> {
    name: String,
    index: u16,
    src: R,
    buf: Chunk,
    /// Buffers read before, for reuse when nothing else holds them.
    spares: Vec<Chunk>,
    /// Buffers allocated after the first.
    allocated: u64,
    start: usize,
    end: usize,
    eof: bool,
    /// File offset of `buf[0]` (`buf[start]` is at [`FileReader::offset`]):
    /// consuming a record only moves `start`.
    base: u64,
    format: Format,
    /// Set for classic pcap files (see [`PcapFast`]).
    fast: Option<PcapFast>,
    frames: u64,
    pending: Option<Pending>,
    done: bool,
    problems: Vec<String>,
    over_snaplen: u64,
    last_ts: Nanos,
}

impl FileReader<File> {
    /// Opens `path` and reads its header. `index` numbers the file in the
    /// order the user gave it.
    pub fn open(path: &Path, index: u16) -> Result<Self, CaptureError> {
        let name = path.display().to_string();
        let err = |problem: String| CaptureError {
            source: name.clone(),
            problem,
        };
        if path.is_dir() {
            return Err(err("is a directory, not a capture file".into()));
        }
        let file = File::open(path).map_err(|e| err(io_problem(&e)))?;
        FileReader::new(file, name, index)
    }
}

fn io_problem(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => format!("cannot read: {e}"),
    }
}

impl<R: Read> FileReader<R> {
    /// Reads the header from `src`; `name` is used in messages.
    pub fn new(src: R, name: String, index: u16) -> Result<Self, CaptureError> {
        let mut r = FileReader {
            name,
            index,
            src,
            buf: zeroed(INITIAL_BUFFER),
            spares: Vec::new(),
            allocated: 0,
            start: 0,
            end: 0,
            eof: false,
            base: 0,
            format: Format::Pcap {
                be: false,
                nanos: false,
                link: LinkType::ETHERNET,
                snaplen: 0,
            },
            fast: None,
            frames: 0,
            pending: None,
            done: false,
            problems: Vec::new(),
            over_snaplen: 0,
            last_ts: 0,
        };
        r.read_header()?;
        Ok(r)
    }

    fn fatal(&self, problem: impl Into<String>) -> CaptureError {
        CaptureError {
            source: self.name.clone(),
            problem: problem.into(),
        }
    }

    /// The file's name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What went wrong after the header, in the order found.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// Frames delivered so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Bytes of the file consumed so far.
    pub fn position(&self) -> u64 {
        self.offset()
    }

    /// The link type of a classic pcap file, or of a pcapng file's first
    /// interface once known.
    pub fn link_type(&self) -> Option<LinkType> {
        match &self.format {
            Format::Pcap { link, .. } => Some(*link),
            Format::PcapNg { interfaces, .. } => interfaces.first().map(|i| i.link),
        }
    }

    fn problem(&mut self, p: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(p);
        }
    }

    /// Makes at least `need` bytes available from `start`; false at EOF.
    fn fill(&mut self, need: usize) -> io::Result<bool> {
        if self.end - self.start >= need {
            return Ok(true);
        }
        let shared = Arc::get_mut(&mut self.buf).is_none();
        if shared || self.start + need > self.buf.len() {
            self.move_to_front(need);
        }
        while self.end - self.start < need && !self.eof {
            // Only the reader holds the buffer here: [`Self::move_to_front`]
            // made sure of it (a clone made since would have to come from
            // a frame delivered since, and none has been).
            let Some(buf) = Arc::get_mut(&mut self.buf) else {
                break;
            };
            match self.src.read(&mut buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.start >= need)
    }

    /// Moves the unread bytes to the front of a buffer of at least `need`
    /// bytes that no one else holds: this one when that is so and it is
    /// big enough, else a spare (or a new one), the old one kept as a
    /// spare.
    #[inline(never)]
    fn move_to_front(&mut self, need: usize) {
        let size = self.buf.len().max(need.next_power_of_two());
        self.base += self.start as u64;
        let (start, end) = (self.start, self.end);
        self.start = 0;
        self.end = end - start;
        if self.buf.len() >= need {
            if let Some(buf) = Arc::get_mut(&mut self.buf) {
                buf.copy_within(start..end, 0);
                return;
            }
        }
        let reuse = self
            .spares
            .iter_mut()
            .position(|c| c.len() >= size && Arc::get_mut(c).is_some());
        let mut fresh = match reuse {
            Some(i) => self.spares.swap_remove(i),
            None => {
                self.allocated += 1;
                zeroed(size)
            }
        };
        if let Some(buf) = Arc::get_mut(&mut fresh) {
            buf[..end - start].copy_from_slice(&self.buf[start..end]);
        }
        let old = std::mem::replace(&mut self.buf, fresh);
        self.spares.retain(|c| c.len() >= size);
        // The old buffer is kept only if it can be reused and there is
        // room: one outgrown by a long record is dropped.
        if old.len() == size && self.spares.len() < SPARES {
            self.spares.push(old);
        }
    }

    fn avail(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
    }

    /// File offset of `buf[start]`.
    fn offset(&self) -> u64 {
        self.base + self.start as u64
    }

    fn read_header(&mut self) -> Result<(), CaptureError> {
        let have4 = self.fill(4).map_err(|e| self.fatal(io_problem(&e)))?;
        if !have4 {
            let n = self.end - self.start;
            return Err(self.fatal(if n == 0 {
                "empty file, not a capture".to_string()
            } else {
                format!("too short to be a capture ({n} bytes)")
            }));
        }
        let m = self.avail();
        let magic_le = u32::from_le_bytes([m[0], m[1], m[2], m[3]]);
        let magic_be = u32::from_be_bytes([m[0], m[1], m[2], m[3]]);
        if magic_le == PCAPNG_SHB {
            self.format = Format::PcapNg {
                be: false,
                interfaces: Vec::new(),
            };
            // The section header is read as the first block.
            return match self.next_block_header() {
                Ok(()) => Ok(()),
                Err(p) => Err(self.fatal(p)),
            };
        }
        let (be, nanos) = match (magic_le, magic_be) {
            (PCAP_US, _) => (false, false),
            (PCAP_NS, _) => (false, true),
            (_, PCAP_US) => (true, false),
            (_, PCAP_NS) => (true, true),
            _ => {
                return Err(self.fatal(format!(
                    "not a pcap or pcapng file (starts with {:02x} {:02x} {:02x} {:02x})",
                    m[0], m[1], m[2], m[3]
                )))
            }
        };
        let have = self.fill(24).map_err(|e| self.fatal(io_problem(&e)))?;
        if !have {
            return Err(self.fatal(format!(
                "pcap file header cut off ({} of 24 bytes)",
                self.end - self.start
            )));
        }
        let h = self.avail();
        let rd = |i: usize| read_u32(h, i, be);
        let snaplen = rd(16);
        let link = LinkType(rd(20) & 0x0fff_ffff);
        if !link.is_supported() {
            return Err(self.fatal(format!("link type {} is not supported", link.0)));
        }
        self.format = Format::Pcap {
            be,
            nanos,
            link,
            snaplen,
        };
        self.fast = Some(PcapFast {
            be,
            frac_ns: if nanos { 1 } else { 1000 },
            link,
            limit: if snaplen != 0 {
                snaplen.min(MAX_FRAME)
            } else {
                MAX_FRAME
            },
        });
        self.consume(24);
        Ok(())
    }

    /// The timestamp of the next frame, without consuming it; `None` at the
    /// end of the file (or where damage ends it).
    #[inline]
    pub fn peek_ts(&mut self) -> Option<Nanos> {
        if self.pending.is_none() && !self.done {
            self.pending = match self.whole_pcap_record() {
                Some(p) => Some(p),
                None => self.locate_next(),
            };
            if self.pending.is_none() {
                self.done = true;
            }
        }
        self.pending.map(|p| p.ts)
    }

    /// The common case, kept small enough to inline: a classic pcap record
    /// wholly buffered, no longer than the snap length and the cap.
    /// Everything else (refills, odd lengths, the problems they raise,
    /// pcapng) takes the careful path, [`FileReader::locate_next`].
    #[inline]
    fn whole_pcap_record(&self) -> Option<Pending> {
        let f = self.fast?;
        let w = self.whole(f)?;
        Some(Pending {
            ts: w.ts,
            link: f.link,
            data_at: 16,
            caplen: w.caplen,
            orig_len: w.orig_len,
            total: 16 + w.caplen,
        })
    }

    /// [`FileReader::whole_record`] in the file's byte order.
    #[inline(always)]
    fn whole(&self, f: PcapFast) -> Option<Whole> {
        if f.be {
            self.whole_record::<true>(f)
        } else {
            self.whole_record::<false>(f)
        }
    }

    /// The record at `start` if it is wholly buffered and no longer than
    /// `f.limit`; `None` sends the caller to the careful path, which
    /// checks the same record again and says what is wrong with it.
    #[inline(always)]
    fn whole_record<const BE: bool>(&self, f: PcapFast) -> Option<Whole> {
        let avail = &self.buf[self.start..self.end];
        let h = avail.first_chunk::<16>()?;
        let word = |i: usize| {
            let b = [h[i], h[i + 1], h[i + 2], h[i + 3]];
            if BE {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let caplen = word(8);
        if caplen > f.limit || avail.len() - 16 < caplen as usize {
            return None;
        }
        Some(Whole {
            ts: word(0) as i64 * 1_000_000_000 + word(4) as i64 * f.frac_ns,
            caplen: caplen as usize,
            orig_len: word(12).max(caplen),
        })
    }

    /// The next frame, borrowing the reader's buffer.
    ///
    /// Inlined into the read loop: as a call it cost a frame about 20
    /// instructions of prologue and of writing the frame out.
    #[inline(always)]
    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        let at = self.advance()?;
        Some(self.frame(at))
    }

    /// [`FileReader::next_frame`], with the buffer its bytes are in: a
    /// clone of it keeps them (see the module docs).
    #[inline(always)]
    pub fn next_frame_in(&mut self) -> Option<(Frame<'_>, &Chunk)> {
        let at = self.advance()?;
        Some((self.frame(at), &self.buf))
    }

    /// The frame [`FileReader::advance`] located.
    #[inline(always)]
    fn frame(&self, l: Located) -> Frame<'_> {
        Frame {
            file: self.index,
            number: self.frames,
            ts: l.ts,
            link: l.link,
            orig_len: l.orig_len,
            data: &self.buf[l.at..l.at + l.caplen],
        }
    }

    /// Locates the next frame and moves past it.
    #[inline(always)]
    fn advance(&mut self) -> Option<Located> {
        // A classic pcap record wholly buffered and not peeked at yet is
        // delivered straight from its header. (`last_ts` is left alone:
        // only pcapng's simple blocks read it.)
        if let (true, Some(f)) = (self.pending.is_none() && !self.done, self.fast) {
            if let Some(w) = self.whole(f) {
                self.frames += 1;
                let at = self.start + 16;
                self.consume(16 + w.caplen);
                return Some(Located {
                    ts: w.ts,
                    link: f.link,
                    orig_len: w.orig_len,
                    at,
                    caplen: w.caplen,
                });
            }
        }
        self.advance_pending()
    }

    /// [`FileReader::advance`] through [`FileReader::peek_ts`]: a frame
    /// already peeked at, or one the careful path locates.
    #[inline(never)]
    fn advance_pending(&mut self) -> Option<Located> {
        self.peek_ts()?;
        let p = self.pending.take()?;
        self.frames += 1;
        self.last_ts = p.ts;
        let at = self.start + p.data_at;
        self.consume(p.total);
        Some(Located {
            ts: p.ts,
            link: p.link,
            orig_len: p.orig_len,
            at,
            caplen: p.caplen,
        })
    }

    #[inline(never)]
    fn locate_next(&mut self) -> Option<Pending> {
        let r = match self.format {
            Format::Pcap { .. } => self.locate_pcap(),
            Format::PcapNg { .. } => self.locate_pcapng(),
        };
        match r {
            Ok(p) => p,
            Err(problem) => {
                self.problem(problem);
                None
            }
        }
    }

    fn io_fail(&self, e: io::Error) -> String {
        format!("read error at offset {}: {e}", self.offset())
    }

    fn cut_off(&self, what: &str, need: usize) -> String {
        format!(
            "file ends in the middle of {what} at offset {} ({} of {need} bytes present)",
            self.offset(),
            self.end - self.start
        )
    }

    /// A classic pcap file's byte order, timestamp unit, link type and
    /// snap length; `None` for pcapng.
    #[inline]
    fn pcap_format(&self) -> Option<(bool, bool, LinkType, u32)> {
        match self.format {
            Format::Pcap {
                be,
                nanos,
                link,
                snaplen,
            } => Some((be, nanos, link, snaplen)),
            Format::PcapNg { .. } => None,
        }
    }

    fn locate_pcap(&mut self) -> Result<Option<Pending>, String> {
        let Some((be, nanos, link, snaplen)) = self.pcap_format() else {
            return Ok(None);
        };
        if !self.fill(16).map_err(|e| self.io_fail(e))? {
            if self.end > self.start {
                return Err(self.cut_off("a record header", 16));
            }
            return Ok(None);
        }
        let h = self.avail();
        let secs = read_u32(h, 0, be) as i64;
        let frac = read_u32(h, 4, be) as i64;
        let caplen = read_u32(h, 8, be);
        let orig_len = read_u32(h, 12, be);
        if caplen > MAX_FRAME {
            return Err(format!(
                "record {} at offset {} claims {caplen} bytes (more than {MAX_FRAME}): the file is damaged from here",
                self.frames + 1,
                self.offset()
            ));
        }
        if snaplen > 0 && caplen > snaplen {
            self.over_snaplen += 1;
            if self.over_snaplen == 1 {
                self.problem(format!(
                    "record {} is longer ({caplen} bytes) than the file's snap length ({snaplen}); read anyway",
                    self.frames + 1
                ));
            }
        }
        let total = 16 + caplen as usize;
        if !self.fill(total).map_err(|e| self.io_fail(e))? {
            return Err(self.cut_off(&format!("frame {}", self.frames + 1), total));
        }
        let ts = secs * 1_000_000_000 + if nanos { frac } else { frac * 1000 };
        Ok(Some(Pending {
            ts,
            link,
            data_at: 16,
            caplen: caplen as usize,
            orig_len: orig_len.max(caplen),
            total,
        }))
    }

    /// Reads (without consuming) the block at `start`; on success at least
    /// its whole length is buffered. Handles a section header's byte order.
    fn next_block_header(&mut self) -> Result<(), String> {
        if !self.fill(12).map_err(|e| self.io_fail(e))? {
            if self.end > self.start {
                return Err(self.cut_off("a block header", 12));
            }
            return Err(String::new());
        }
        let h = self.avail();
        let mut be = match self.format {
            Format::PcapNg { be, .. } => be,
            Format::Pcap { .. } => false,
        };
        let btype = read_u32(h, 0, false);
        if btype == PCAPNG_SHB {
            let bom_le = read_u32(h, 8, false);
            be = match bom_le {
                PCAPNG_BOM => false,
                x if x.swap_bytes() == PCAPNG_BOM => true,
                _ => {
                    return Err(format!(
                        "section header at offset {} has no valid byte-order magic",
                        self.offset()
                    ))
                }
            };
            if let Format::PcapNg {
                be: ref mut b,
                ref mut interfaces,
            } = self.format
            {
                *b = be;
                interfaces.clear();
            }
        } else if self.offset() == 0 {
            return Err("not a pcapng file: the first block is not a section header".into());
        }
        let h = self.avail();
        let len = read_u32(h, 4, be);
        if len < 12 || !len.is_multiple_of(4) || len > MAX_BLOCK {
            return Err(format!(
                "block at offset {} has an impossible length {len}: the file is damaged from here",
                self.offset()
            ));
        }
        if !self.fill(len as usize).map_err(|e| self.io_fail(e))? {
            return Err(self.cut_off("a block", len as usize));
        }
        let h = self.avail();
        let trailer = read_u32(h, len as usize - 4, be);
        if trailer != len {
            return Err(format!(
                "block at offset {} says {len} bytes at its start and {trailer} at its end: the file is damaged from here",
                self.offset()
            ));
        }
        Ok(())
    }

    fn locate_pcapng(&mut self) -> Result<Option<Pending>, String> {
        // Bounded by the file: every pass consumes a block of at least 12 bytes.
        loop {
            match self.next_block_header() {
                Ok(()) => {}
                Err(e) if e.is_empty() => return Ok(None),
                Err(e) => return Err(e),
            }
            let be = match self.format {
                Format::PcapNg { be, .. } => be,
                Format::Pcap { .. } => return Ok(None),
            };
            let h = self.avail();
            let btype = read_u32(h, 0, be);
            let len = read_u32(h, 4, be) as usize;
            let body_len = len - 12;
            match btype {
                PCAPNG_SHB => {}
                1 => self.read_idb(be, body_len)?,
                6 | 2 | 3 => {
                    if let Some(p) = self.read_packet_block(btype, be, len)? {
                        return Ok(Some(p));
                    }
                }
                _ => {}
            }
            self.consume(len);
        }
    }

    fn read_idb(&mut self, be: bool, body_len: usize) -> Result<(), String> {
        let offset = self.offset();
        let h = &self.buf[self.start + 8..self.start + 8 + body_len];
        if h.len() < 8 {
            return Err(format!("interface block at offset {offset} is too short"));
        }
        let link = LinkType(read_u16(h, 0, be) as u32);
        let snaplen = read_u32(h, 4, be);
        let mut iface = Interface {
            link,
            snaplen,
            res: TsResolution::Pow10(6),
            offset_secs: 0,
        };
        let mut opts = &h[8..];
        // Options: code u16, length u16, value padded to 4. Bounded by the block.
        while opts.len() >= 4 {
            let code = read_u16(opts, 0, be);
            let olen = read_u16(opts, 2, be) as usize;
            let padded = (olen + 3) & !3;
            if code == 0 || 4 + olen > opts.len() {
                break;
            }
            let v = &opts[4..4 + olen];
            match (code, olen) {
                (9, 1) => {
                    let r = v[0];
                    iface.res = if r & 0x80 != 0 {
                        TsResolution::Pow2((r & 0x7f) as u32)
                    } else {
                        TsResolution::Pow10(r as u32)
                    };
                }
                (14, 8) => {
                    let raw = [v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]];
                    iface.offset_secs = if be {
                        i64::from_be_bytes(raw)
                    } else {
                        i64::from_le_bytes(raw)
                    };
                }
                _ => {}
            }
            opts = &opts[(4 + padded).min(opts.len())..];
        }
        if !link.is_supported() {
            self.problem(format!(
                "interface {} uses link type {}, which is not supported: its frames are counted but not decoded",
                self.interfaces_len(),
                link.0
            ));
        }
        if let Format::PcapNg { interfaces, .. } = &mut self.format {
            if interfaces.len() >= MAX_INTERFACES {
                return Err(format!(
                    "more than {MAX_INTERFACES} interfaces in one section at offset {offset}"
                ));
            }
            interfaces.push(iface);
        }
        Ok(())
    }

    fn interfaces_len(&self) -> usize {
        match &self.format {
            Format::PcapNg { interfaces, .. } => interfaces.len(),
            Format::Pcap { .. } => 1,
        }
    }

    fn iface(&self, id: usize) -> Option<Interface> {
        match &self.format {
            Format::PcapNg { interfaces, .. } => interfaces.get(id).copied(),
            Format::Pcap { .. } => None,
        }
    }

    /// Locates the frame inside an enhanced (6), obsolete (2) or simple (3)
    /// packet block buffered at `start`.
    fn read_packet_block(
        &mut self,
        btype: u32,
        be: bool,
        len: usize,
    ) -> Result<Option<Pending>, String> {
        let offset = self.offset();
        let h = &self.buf[self.start..self.start + len];
        let body = len - 12;
        let (iface_id, ts_units, caplen, orig_len, data_at) = match btype {
            6 | 2 => {
                if body < 20 {
                    return Err(format!("packet block at offset {offset} is too short"));
                }
                let (iface_id, ts_hi) = if btype == 6 {
                    (read_u32(h, 8, be) as usize, read_u32(h, 12, be))
                } else {
                    (read_u16(h, 8, be) as usize, read_u32(h, 12, be))
                };
                let ts_lo = read_u32(h, 16, be);
                let caplen = read_u32(h, 20, be);
                let orig = read_u32(h, 24, be);
                (
                    iface_id,
                    (ts_hi as u64) << 32 | ts_lo as u64,
                    caplen,
                    orig,
                    28,
                )
            }
            _ => {
                if body < 4 {
                    return Err(format!(
                        "simple packet block at offset {offset} is too short"
                    ));
                }
                let orig = read_u32(h, 8, be);
                let snap = self.iface(0).map(|i| i.snaplen).unwrap_or(0);
                let mut caplen = orig.min((body - 4) as u32);
                if snap > 0 {
                    caplen = caplen.min(snap);
                }
                (0, 0, caplen, orig, 12)
            }
        };
        if data_at + caplen as usize > len - 4 {
            return Err(format!(
                "packet block at offset {offset} claims {caplen} bytes of frame but holds only {}: the file is damaged from here",
                (len - 4).saturating_sub(data_at)
            ));
        }
        let Some(iface) = self.iface(iface_id) else {
            self.problem(format!(
                "packet block at offset {offset} names interface {iface_id}, which was never described; skipped"
            ));
            return Ok(None);
        };
        let ts = if btype == 3 {
            // A simple packet block has no timestamp: keep time order.
            self.last_ts()
        } else {
            iface
                .res
                .to_nanos(ts_units)
                .saturating_add(iface.offset_secs.saturating_mul(1_000_000_000))
        };
        Ok(Some(Pending {
            ts,
            link: iface.link,
            data_at,
            caplen: caplen as usize,
            orig_len: orig_len.max(caplen),
            total: len,
        }))
    }

    fn last_ts(&self) -> Nanos {
        self.last_ts
    }
}

/// A new buffer of `n` zero bytes.
fn zeroed(n: usize) -> Chunk {
    Arc::from(vec![0u8; n])
}

fn read_u32(b: &[u8], i: usize, be: bool) -> u32 {
    let a = [b[i], b[i + 1], b[i + 2], b[i + 3]];
    if be {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    }
}

fn read_u16(b: &[u8], i: usize, be: bool) -> u16 {
    let a = [b[i], b[i + 1]];
    if be {
        u16::from_be_bytes(a)
    } else {
        u16::from_le_bytes(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::io::Cursor;

    /// Frame `n`'s bytes: its length and contents follow from `n`.
    fn frame_bytes(n: u32) -> Vec<u8> {
        let len = 60 + (n.wrapping_mul(2_654_435_761) >> 21) as usize % 1500;
        (0..len).map(|i| (n as usize * 31 + i * 7) as u8).collect()
    }

    /// A classic pcap file of `frames` frames.
    fn pcap(frames: u32) -> Vec<u8> {
        let mut b = Vec::new();
        for w in [PCAP_US, 0x0002_0004, 0, 0, 65_535, 1] {
            b.extend_from_slice(&w.to_le_bytes());
        }
        for n in 0..frames {
            let d = frame_bytes(n);
            for w in [
                1_700_000_000 + n,
                n % 1_000_000,
                d.len() as u32,
                d.len() as u32,
            ] {
                b.extend_from_slice(&w.to_le_bytes());
            }
            b.extend_from_slice(&d);
        }
        b
    }

    /// Frames kept by a clone of their buffer keep their bytes while the
    /// reader reads on, and once let go the buffers are reused: reading a
    /// file many buffers long while a window of frames is held allocates
    /// only the few buffers the window spans.
    #[test]
    fn held_frames_keep_their_bytes_and_buffers_are_reused() {
        let file = pcap(6000);
        assert!(file.len() > 10 * INITIAL_BUFFER);
        for window in [0usize, 1, 40, 400] {
            let mut r = FileReader::new(Cursor::new(file.as_slice()), "t".into(), 0).unwrap();
            let mut held: VecDeque<(Chunk, usize, usize, u64)> = VecDeque::new();
            let mut checked = 0u32;
            let check = |(c, off, len, number): (Chunk, usize, usize, u64)| {
                assert_eq!(
                    c[off..off + len],
                    frame_bytes(number as u32 - 1),
                    "frame {number}"
                );
            };
            while let Some((f, chunk)) = r.next_frame_in() {
                assert_eq!(f.data, frame_bytes(f.number as u32 - 1));
                let off = f.data.as_ptr() as usize - chunk.as_ptr() as usize;
                held.push_back((Arc::clone(chunk), off, f.data.len(), f.number));
                while held.len() > window {
                    check(held.pop_front().unwrap());
                    checked += 1;
                }
            }
            checked += held.len() as u32;
            held.into_iter().for_each(check);
            assert_eq!((r.frames(), checked), (6000, 6000));
            assert!(r.problems().is_empty());
            // 400 frames of about 800 bytes span at most 3 buffers of 256 KiB.
            let most = if window == 0 { 0 } else { 3 };
            assert!(
                r.allocated <= most,
                "window {window}: {} buffers allocated",
                r.allocated
            );
            assert!(r.spares.len() <= SPARES);
        }
    }

    /// With every frame held to the end, every refill reads into another
    /// buffer, and still every frame is whole.
    #[test]
    fn frames_held_to_the_end_are_whole() {
        let file = pcap(3000);
        let mut r = FileReader::new(Cursor::new(file.as_slice()), "t".into(), 0).unwrap();
        let mut held = Vec::new();
        while let Some((f, chunk)) = r.next_frame_in() {
            let off = f.data.as_ptr() as usize - chunk.as_ptr() as usize;
            held.push((Arc::clone(chunk), off, f.data.len()));
        }
        assert_eq!(held.len(), 3000);
        for (n, (c, off, len)) in held.iter().enumerate() {
            assert_eq!(c[*off..off + len], frame_bytes(n as u32));
        }
        assert!(r.allocated as usize >= file.len() / INITIAL_BUFFER - 1);
    }
}
