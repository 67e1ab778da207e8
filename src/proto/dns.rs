//! DNS messages (RFC 1035), as carried by DNS over UDP 53, mDNS (UDP 5353,
//! RFC 6762, same wire format) and DNS over TCP (each message behind a
//! two-byte length, see [`tcp_messages`]).
//!
//! Contract:
//! - [`parse`] reads only the 12-byte [`Header`]; the sections are walked
//!   lazily by [`Message::questions`], [`Message::answers`] and
//!   [`Message::records`], which yield `Result` items and allocate nothing.
//!   A malformed or cut-off item is yielded as one `Err`, after which the
//!   iterator ends; everything before it has already come out, so a
//!   truncated response still gives its first answers.
//! - A [`Name`] is a view (message + offset), checked once when its record is
//!   read; it is turned into text only on demand ([`Name::write_to`],
//!   [`Name::to_string_lower`]): lowercase, dotted, no trailing dot, `""` for
//!   the root, other bytes escaped as `\DDD` and `.`/`\` as `\.`/`\\` (the
//!   presentation format dig prints).
//! - Unknown opcodes, rcodes, types and classes are kept as integers.
//!
//! Bounds (all attacker-controlled):
//! - at most [`MAX_RECORDS_PER_SECTION`] items per section, whatever the
//!   header counts say; a section counted longer ends its iterator with an
//!   error item there (the sections after it cannot be located);
//! - a name is at most [`MAX_NAME_LEN`] bytes on the wire (so at most 127
//!   labels) and follows at most [`MAX_POINTER_HOPS`] compression pointers;
//!   every pointer must land strictly before the start of the run of labels
//!   it is found in, so each hop moves backwards and no loop is possible;
//! - [`tcp_messages`] yields at most [`MAX_TCP_MESSAGES`] messages per call.
//!
//! Example (prose): for a UDP payload `p` from port 53,
//! `let m = dns::parse(p)?;` then, if `m.header.qr` and
//! `m.header.rcode == dns::rcode::NXDOMAIN`, the failed name is the first
//! item of `m.questions()`, and for a NOERROR answer each
//! `Record { data: RData::A(ip), name, .. }` of `m.answers()` maps `ip` to
//! `name.to_string_lower()`.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::proto::cursor::Cursor;
use crate::proto::ParseError;

/// Length of the fixed header.
pub const HEADER_LEN: usize = 12;
/// Most questions, or records of one section, iterated per message.
pub const MAX_RECORDS_PER_SECTION: u16 = 256;
/// Most bytes of a name on the wire, length bytes and root included (RFC 1035 §2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// Most compression pointers followed within one name.
pub const MAX_POINTER_HOPS: usize = 128;
/// Most messages one call of [`tcp_messages`] yields.
pub const MAX_TCP_MESSAGES: usize = 64;

/// Resource record types (the ones the sensor reads, and a few to name).
pub mod rtype {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const PTR: u16 = 12;
    pub const HINFO: u16 = 13;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const SRV: u16 = 33;
    pub const OPT: u16 = 41;
    pub const SVCB: u16 = 64;
    pub const HTTPS: u16 = 65;
    pub const ANY: u16 = 255;
}

/// Classes. In mDNS the top bit of a class is a flag, see [`Question::unicast_response`]
/// and [`Record::cache_flush`].
pub mod class {
    pub const IN: u16 = 1;
    pub const CH: u16 = 3;
    pub const HS: u16 = 4;
    pub const ANY: u16 = 255;
    /// mDNS: "unicast response wanted" in a question, "cache flush" in a record.
    pub const MDNS_FLAG: u16 = 0x8000;
}

/// Response codes (the 4 header bits; RFC 1035, 2136).
pub mod rcode {
    pub const NOERROR: u8 = 0;
    pub const FORMERR: u8 = 1;
    pub const SERVFAIL: u8 = 2;
    pub const NXDOMAIN: u8 = 3;
    pub const NOTIMP: u8 = 4;
    pub const REFUSED: u8 = 5;
    pub const YXDOMAIN: u8 = 6;
    pub const YXRRSET: u8 = 7;
    pub const NXRRSET: u8 = 8;
    pub const NOTAUTH: u8 = 9;
    pub const NOTZONE: u8 = 10;
}

/// The mnemonic of a response code, `"UNKNOWN"` for an unassigned one.
pub fn rcode_name(rcode: u8) -> &'static str {
    match rcode {
        rcode::NOERROR => "NOERROR",
        rcode::FORMERR => "FORMERR",
        rcode::SERVFAIL => "SERVFAIL",
        rcode::NXDOMAIN => "NXDOMAIN",
        rcode::NOTIMP => "NOTIMP",
        rcode::REFUSED => "REFUSED",
        rcode::YXDOMAIN => "YXDOMAIN",
        rcode::YXRRSET => "YXRRSET",
        rcode::NXRRSET => "NXRRSET",
        rcode::NOTAUTH => "NOTAUTH",
        rcode::NOTZONE => "NOTZONE",
        _ => "UNKNOWN",
    }
}

/// The fixed 12-byte header (RFC 1035 §4.1.1, AD/CD from RFC 4035).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub id: u16,
    /// True for a response.
    pub qr: bool,
    /// 0 query, 1 inverse query, 2 status, 4 notify, 5 update.
    pub opcode: u8,
    pub aa: bool,
    /// The message was truncated by its sender (retry over TCP).
    pub tc: bool,
    pub rd: bool,
    pub ra: bool,
    pub ad: bool,
    pub cd: bool,
    /// See [`rcode`] and [`rcode_name`]; EDNS extended bits are not merged in.
    pub rcode: u8,
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
}

/// A parsed header over the whole message; sections are read on demand.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub header: Header,
    buf: &'a [u8],
}

/// Reads the header of the DNS message `msg` (a whole UDP payload, or one
/// message from [`tcp_messages`]). Fails only when `msg` is shorter than
/// [`HEADER_LEN`].
pub fn parse(msg: &[u8]) -> Result<Message<'_>, ParseError> {
    let Some(&[i0, i1, f1, f2, q0, q1, a0, a1, n0, n1, r0, r1]) = msg.get(..HEADER_LEN) else {
        return Err(short_header(msg));
    };
    let be = u16::from_be_bytes;
    let counts = [be([q0, q1]), be([a0, a1]), be([n0, n1]), be([r0, r1])];
    let header = header_of(be([i0, i1]), f1, f2, counts);
    Ok(Message { header, buf: msg })
}

/// The header from its id, its two flag bytes and its four counts
/// (questions, answers, authority, additional).
fn header_of(id: u16, f1: u8, f2: u8, [qd, an, ns, ar]: [u16; 4]) -> Header {
    Header {
        id,
        qr: f1 & 0x80 != 0,
        opcode: (f1 >> 3) & 0x0f,
        aa: f1 & 0x04 != 0,
        tc: f1 & 0x02 != 0,
        rd: f1 & 0x01 != 0,
        ra: f2 & 0x80 != 0,
        ad: f2 & 0x20 != 0,
        cd: f2 & 0x10 != 0,
        rcode: f2 & 0x0f,
        qdcount: qd,
        ancount: an,
        nscount: ns,
        arcount: ar,
    }
}

/// The error for a message shorter than the header: the cursor reads it
/// field by field and says where it ran out.
#[cold]
fn short_header(msg: &[u8]) -> ParseError {
    let mut c = Cursor::new(msg);
    let mut read = || -> Result<(), ParseError> {
        for _ in 0..HEADER_LEN / 2 {
            c.u16()?;
        }
        Ok(())
    };
    match read() {
        Err(e) => e,
        // Not reached: the caller found fewer than HEADER_LEN bytes.
        Ok(()) => ParseError::Truncated {
            offset: msg.len(),
            needed: HEADER_LEN - msg.len().min(HEADER_LEN),
        },
    }
}

#[cfg(test)]
fn parse_by_cursor(msg: &[u8]) -> Result<Message<'_>, ParseError> {
    let mut c = Cursor::new(msg);
    let id = c.u16()?;
    let [f1, f2] = c.array()?;
    let counts = [c.u16()?, c.u16()?, c.u16()?, c.u16()?];
    let header = header_of(id, f1, f2, counts);
    Ok(Message { header, buf: msg })
}

impl<'a> Message<'a> {
    /// The whole message.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// The question section.
    pub fn questions(&self) -> Questions<'a> {
        Questions {
            msg: self.buf,
            pos: HEADER_LEN,
            left: self.header.qdcount,
            read: 0,
            failed: None,
            first_len: 0,
        }
    }

    /// The answer section only.
    pub fn answers(&self) -> Records<'a> {
        self.records_of([self.header.ancount, 0, 0])
    }

    /// The answer, authority and additional sections, in order; each record
    /// says which section it came from.
    pub fn records(&self) -> Records<'a> {
        let h = &self.header;
        self.records_of([h.ancount, h.nscount, h.arcount])
    }

    /// The answer section, after questions already read through `read`
    /// (what is left of them is read here): [`Message::answers`] without
    /// reading the question names a second time.
    pub fn answers_after(&self, read: Questions<'a>) -> Records<'a> {
        Self::records_after(read, [self.header.ancount, 0, 0])
    }

    fn records_of(&self, left: [u16; 3]) -> Records<'a> {
        Self::records_after(self.questions(), left)
    }

    fn records_after(mut questions: Questions<'a>, left: [u16; 3]) -> Records<'a> {
        if let Some(e) = questions.failed {
            return Records::failed(questions.msg, e);
        }
        // Bounded: the iterator yields at most MAX_RECORDS_PER_SECTION + 1 items.
        for item in &mut questions {
            if let Err(e) = item {
                return Records::failed(questions.msg, e);
            }
        }
        Records {
            msg: questions.msg,
            pos: questions.pos,
            section: 0,
            left,
            read: 0,
            pending: None,
            // Every question was read without error, so the first one's,
            // when there was one.
            question_len: questions.first_len,
            cname: (0, 0),
        }
    }
}

/// One entry of the question section.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    pub name: Name<'a>,
    pub qtype: u16,
    /// Raw, with the mDNS flag bit kept.
    pub qclass: u16,
}

impl Question<'_> {
    /// mDNS: the querier asks for a unicast reply (top bit of the class).
    pub fn unicast_response(&self) -> bool {
        self.qclass & class::MDNS_FLAG != 0
    }
}

/// Iterator over the question section; see [`Message::questions`].
#[derive(Debug, Clone)]
pub struct Questions<'a> {
    msg: &'a [u8],
    pos: usize,
    /// Questions left, as the header counts them.
    left: u16,
    /// Questions read so far.
    read: u16,
    /// The error that ended the section, for [`Message::answers_after`].
    failed: Option<ParseError>,
    /// The wire length of the first question's name once read (it is at
    /// [`HEADER_LEN`], where no pointer can be), 0 before.
    first_len: u8,
}

impl<'a> Iterator for Questions<'a> {
    type Item = Result<Question<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        if self.read == MAX_RECORDS_PER_SECTION {
            self.left = 0;
            self.failed = Some(too_many(self.pos));
            return self.failed.map(Err);
        }
        self.left -= 1;
        self.read += 1;
        match read_question(self.msg, self.pos) {
            Ok((q, end)) => {
                self.pos = end;
                if self.read == 1 {
                    self.first_len = q.name.flat_len;
                }
                Some(Ok(q))
            }
            Err(e) => {
                self.left = 0;
                self.failed = Some(e);
                Some(Err(e))
            }
        }
    }
}

/// The error for a section longer than [`MAX_RECORDS_PER_SECTION`]: the
/// items after the limit, and so the sections after it, are not read.
fn too_many(offset: usize) -> ParseError {
    ParseError::Invalid {
        offset,
        what: "more than 256 records in a section",
    }
}

fn read_question(msg: &[u8], pos: usize) -> Result<(Question<'_>, usize), ParseError> {
    let (name, end) = Name::read(msg, pos)?;
    if let Some(&[t0, t1, c0, c1]) = msg.get(end..end + 4) {
        let question = Question {
            name,
            qtype: u16::from_be_bytes([t0, t1]),
            qclass: u16::from_be_bytes([c0, c1]),
        };
        return Ok((question, end + 4));
    }
    // Cut short: the cursor says where.
    let mut c = Cursor::new(msg);
    c.seek(end)?;
    let qtype = c.u16()?;
    let qclass = c.u16()?;
    Ok((
        Question {
            name,
            qtype,
            qclass,
        },
        c.pos(),
    ))
}

/// The section a record was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Answer,
    Authority,
    Additional,
}

const SECTIONS: [Section; 3] = [Section::Answer, Section::Authority, Section::Additional];

/// A resource record.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub section: Section,
    pub name: Name<'a>,
    pub rtype: u16,
    /// Raw, with the mDNS flag bit kept (for OPT: the UDP payload size).
    pub class: u16,
    pub ttl: u32,
    /// The typed data.
    pub data: RData<'a>,
    /// The raw RDATA, whatever the type.
    pub rdata: &'a [u8],
}

impl Record<'_> {
    /// mDNS: the record replaces cached ones (top bit of the class).
    pub fn cache_flush(&self) -> bool {
        self.class & class::MDNS_FLAG != 0
    }
}

/// Record data, typed for the records the sensor follows.
#[derive(Debug, Clone, Copy)]
pub enum RData<'a> {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Cname(Name<'a>),
    Ptr(Name<'a>),
    Ns(Name<'a>),
    /// Any other type: the raw RDATA.
    Other(&'a [u8]),
}

/// Iterator over resource records; see [`Message::records`].
#[derive(Debug, Clone)]
pub struct Records<'a> {
    msg: &'a [u8],
    pos: usize,
    /// Index into [`SECTIONS`] of the section being read.
    section: usize,
    /// Records left per section, as the header counts them.
    left: [u16; 3],
    /// Records read so far in the current section.
    read: u16,
    /// An error met before the first record (in the question section).
    pending: Option<ParseError>,
    /// The wire length of the first question's name (at [`HEADER_LEN`]),
    /// when it was read and checked; 0 otherwise. A record name that is a
    /// pointer to it (`C0 0C`, as resolvers write answers) or a copy of
    /// its bytes is then known good without walking it again.
    question_len: u8,
    /// Where the last pointer-free CNAME target read is, and its wire
    /// length (0: none yet), kept while `question_len` is: a record name
    /// that copies it (the next link of a chain) is known good too.
    cname: (usize, u8),
}

impl<'a> Records<'a> {
    fn failed(msg: &'a [u8], e: ParseError) -> Self {
        Records {
            msg,
            pos: 0,
            section: SECTIONS.len(),
            left: [0; 3],
            read: 0,
            pending: Some(e),
            question_len: 0,
            cname: (0, 0),
        }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.pending.take() {
            return Some(Err(e));
        }
        // Skip empty sections; `section` only grows, so this ends.
        while self.left.get(self.section) == Some(&0) {
            self.section += 1;
            self.read = 0;
        }
        let section = *SECTIONS.get(self.section)?;
        if self.read == MAX_RECORDS_PER_SECTION {
            self.section = SECTIONS.len();
            return Some(Err(too_many(self.pos)));
        }
        self.read += 1;
        if let Some(n) = self.left.get_mut(self.section) {
            *n -= 1;
        }
        match read_record(self.msg, self.pos, section, self.question_len, self.cname) {
            Ok((r, end)) => {
                self.pos = end;
                if let RData::Cname(t) = r.data {
                    if t.flat_len > 0 && self.question_len > 0 {
                        self.cname = (t.start, t.flat_len);
                    }
                }
                Some(Ok(r))
            }
            Err(e) => {
                self.section = SECTIONS.len();
                Some(Err(e))
            }
        }
    }
}

fn read_record(
    msg: &[u8],
    pos: usize,
    section: Section,
    question_len: u8,
    (cname_at, cname_len): (usize, u8),
) -> Result<(Record<'_>, usize), ParseError> {
    let known = Name::as_question(msg, pos, question_len)
        .or_else(|| Name::as_copy(msg, pos, cname_at, cname_len));
    let (name, end) = match known {
        Some(read) => read,
        None => Name::read(msg, pos)?,
    };
    if let Some(r) = record_fast(msg, name, end, section) {
        return Ok(r);
    }
    // Cut short or malformed: the cursor says where and why.
    let mut c = Cursor::new(msg);
    c.seek(end)?;
    let rtype = c.u16()?;
    let class = c.u16()?;
    let ttl = c.u32()?;
    let rdata_start = c.pos() + 2;
    let mut rd = c.vec16()?;
    let rdata = rd.buf();
    let data = match rtype {
        rtype::A => RData::A(Ipv4Addr::from(exact::<4>(&mut rd)?)),
        rtype::AAAA => RData::Aaaa(Ipv6Addr::from(exact::<16>(&mut rd)?)),
        rtype::CNAME => RData::Cname(rdata_name(msg, rdata_start, rdata.len())?),
        rtype::PTR => RData::Ptr(rdata_name(msg, rdata_start, rdata.len())?),
        rtype::NS => RData::Ns(rdata_name(msg, rdata_start, rdata.len())?),
        _ => RData::Other(rdata),
    };
    let record = Record {
        section,
        name,
        rtype,
        class,
        ttl,
        data,
        rdata,
    };
    Ok((record, c.pos()))
}

/// The rest of a record whose name ends at `end`, when it is whole and
/// well formed, read straight off the slice (answers are read for every
/// DNS response); `None` sends it to the cursor, which names the error.
fn record_fast<'a>(
    msg: &'a [u8],
    name: Name<'a>,
    end: usize,
    section: Section,
) -> Option<(Record<'a>, usize)> {
    let &[t0, t1, c0, c1, l0, l1, l2, l3, r0, r1] = msg.get(end..end + 10)? else {
        return None;
    };
    let rtype = u16::from_be_bytes([t0, t1]);
    let rdata_start = end + 10;
    let rdata_end = rdata_start + usize::from(u16::from_be_bytes([r0, r1]));
    let rdata = msg.get(rdata_start..rdata_end)?;
    let data = match rtype {
        rtype::A => RData::A(Ipv4Addr::from(<[u8; 4]>::try_from(rdata).ok()?)),
        rtype::AAAA => RData::Aaaa(Ipv6Addr::from(<[u8; 16]>::try_from(rdata).ok()?)),
        rtype::CNAME => RData::Cname(rdata_name(msg, rdata_start, rdata.len()).ok()?),
        rtype::PTR => RData::Ptr(rdata_name(msg, rdata_start, rdata.len()).ok()?),
        rtype::NS => RData::Ns(rdata_name(msg, rdata_start, rdata.len()).ok()?),
        _ => RData::Other(rdata),
    };
    let record = Record {
        section,
        name,
        rtype,
        class: u16::from_be_bytes([c0, c1]),
        ttl: u32::from_be_bytes([l0, l1, l2, l3]),
        data,
        rdata,
    };
    Some((record, rdata_end))
}

/// Reads RDATA that must be exactly `N` bytes (an address).
fn exact<const N: usize>(rd: &mut Cursor<'_>) -> Result<[u8; N], ParseError> {
    let a = rd.array::<N>()?;
    if !rd.is_empty() {
        return Err(ParseError::Invalid {
            offset: rd.offset(),
            what: "address record has extra bytes",
        });
    }
    Ok(a)
}

/// Reads RDATA that is exactly one name (it may point back into the message).
fn rdata_name(msg: &[u8], start: usize, len: usize) -> Result<Name<'_>, ParseError> {
    let (name, end) = Name::read(msg, start)?;
    if end != start + len {
        return Err(ParseError::Invalid {
            offset: start,
            what: "name does not fill its record data",
        });
    }
    Ok(name)
}

/// A domain name inside a message: the message and the offset where the
/// name starts. Checked when read, so its labels can be walked again
/// without errors.
#[derive(Clone, Copy)]
pub struct Name<'a> {
    msg: &'a [u8],
    start: usize,
    /// The wire length of a name without pointers, as [`check_fast`]
    /// found it (at most [`MAX_NAME_LEN`]); 0 when the name has a pointer
    /// or was checked by the walk.
    flat_len: u8,
}

impl<'a> Name<'a> {
    /// Checks the name at `start` of `msg`; returns it and the offset just
    /// past its bytes in place (after the root label or the first pointer).
    fn read(msg: &'a [u8], start: usize) -> Result<(Self, usize), ParseError> {
        let (end, flat_len) = match check_fast(msg, start) {
            Some((end, true)) => (end, (end - start) as u8),
            Some((end, false)) => (end, 0),
            None => (Self::walk_to_end(msg, start)?, 0),
        };
        let name = Name {
            msg,
            start,
            flat_len,
        };
        Ok((name, end))
    }

    /// [`Name::read`] of a name at `start` that is the first question's
    /// name, as a pointer to it (`C0 0C`) or as a copy of its wire bytes,
    /// when that name was read and checked and is `question_len` bytes
    /// long (0: it was not). A pointer lands back (`start` is past the
    /// header) on a pointer-free name that passed the same check, so the
    /// name is good and ends after the pointer; a copy passes the check
    /// as the question did (it reads the same bytes). `None` for any
    /// other name, which [`Name::read`] checks.
    fn as_question(msg: &'a [u8], start: usize, question_len: u8) -> Option<(Self, usize)> {
        const TO_QUESTION: [u8; 2] = [0xc0, HEADER_LEN as u8];
        if question_len == 0 || start <= HEADER_LEN {
            return None;
        }
        if msg.get(start..start + 2)? == TO_QUESTION {
            let name = Name {
                msg,
                start,
                flat_len: 0,
            };
            return Some((name, start + 2));
        }
        Self::as_copy(msg, start, HEADER_LEN, question_len)
    }

    /// [`Name::read`] of a name at `start` whose `len` wire bytes are
    /// those of the pointer-free name at `at`, read and checked before
    /// (`len` 0: none): the same bytes pass the same check. `None` for
    /// any other name.
    fn as_copy(msg: &'a [u8], start: usize, at: usize, len: u8) -> Option<(Self, usize)> {
        let n = usize::from(len);
        if n == 0 || msg.get(start..start + n)? != msg.get(at..at + n)? {
            return None;
        }
        let name = Name {
            msg,
            start,
            flat_len: len,
        };
        Some((name, start + n))
    }

    /// Where the name at `start` ends, by the checked walk: whatever the
    /// fast check turned down is walked again here, which accepts the same
    /// names and says what is wrong with the others.
    fn walk_to_end(msg: &[u8], start: usize) -> Result<usize, ParseError> {
        let mut walk = Walk::new(msg, start);
        // Each step reads a label (at most 127 fit in MAX_NAME_LEN) or ends.
        for _ in 0..MAX_NAME_LEN {
            if walk.step()?.is_none() {
                return Ok(walk.end.unwrap_or(start));
            }
        }
        Err(walk.invalid("name has too many labels"))
    }

    /// The name's wire form when it holds no pointer (labels and the root
    /// byte, in place): the common case, read without the pointer-aware
    /// walk. The name was checked when read, so the labels end in bounds.
    fn flat(&self) -> Option<&'a [u8]> {
        if self.flat_len > 0 {
            return self
                .msg
                .get(self.start..self.start + usize::from(self.flat_len));
        }
        let mut at = self.start;
        loop {
            let len = usize::from(*self.msg.get(at)?);
            if len == 0 {
                return self.msg.get(self.start..=at);
            }
            if len & 0xc0 != 0 {
                return None;
            }
            at += 1 + len;
        }
    }

    /// Where the name's first label is, past any leading pointers (the
    /// name was checked when read, so the pointers lead back and end).
    fn resolved_start(&self) -> usize {
        let mut at = self.start;
        for _ in 0..=MAX_POINTER_HOPS {
            match (self.msg.get(at), self.msg.get(at + 1)) {
                (Some(&hi), Some(&lo)) if hi & 0xc0 == 0xc0 => {
                    at = usize::from(hi & 0x3f) << 8 | usize::from(lo);
                }
                _ => break,
            }
        }
        at
    }

    /// Offset of the name within its message.
    pub fn offset(&self) -> usize {
        self.start
    }

    /// The labels, raw bytes, most specific first; none for the root.
    pub fn labels(&self) -> Labels<'a> {
        Labels {
            walk: Walk::new(self.msg, self.start),
        }
    }

    /// True for the root name.
    pub fn is_root(&self) -> bool {
        self.labels().next().is_none()
    }

    /// Appends the lowercase dotted form (no trailing dot) to `out`.
    pub fn write_to(&self, out: &mut String) {
        match self.flat() {
            // A buffer as long as most names need: zeroing 256 bytes cost
            // a tenth of writing a short name.
            Some(wire) if wire.len() <= SHORT_NAME + 2 => {
                push_flat(wire, &mut [0u8; SHORT_NAME], out);
            }
            Some(wire) => push_flat(wire, &mut [0u8; 256], out),
            None => push_labels(self.labels(), out),
        }
    }

    /// The lowercase dotted form, no trailing dot, `""` for the root.
    pub fn to_string_lower(&self) -> String {
        let mut s = String::new();
        self.write_to(&mut s);
        s
    }

    /// Compares with a dotted name (trailing dot optional, `""` or `"."` for
    /// the root), ignoring ASCII case. Escapes in `dotted` are not decoded,
    /// so a label holding a `.` never matches.
    pub fn eq_ignore_case(&self, dotted: &str) -> bool {
        let dotted = dotted.strip_suffix('.').unwrap_or(dotted);
        if dotted.is_empty() {
            return self.is_root();
        }
        let mut parts = dotted.split('.');
        for label in self.labels() {
            match parts.next() {
                Some(p) if p.as_bytes().eq_ignore_ascii_case(label) => {}
                _ => return false,
            }
        }
        parts.next().is_none()
    }

    /// True when both names have the same labels, ignoring ASCII case (for
    /// following a CNAME chain without allocating).
    pub fn same_as(&self, other: &Name<'_>) -> bool {
        // Answers usually point at the question: the same bytes of the
        // same message are the same name, without comparing labels.
        if std::ptr::eq(self.msg, other.msg) && self.resolved_start() == other.resolved_start() {
            return true;
        }
        // Two names without pointers: compare the wire bytes. Length bytes
        // are below 64, where ASCII case folding changes nothing, so the
        // wire forms are equal ignoring case exactly when the names are.
        if let (Some(a), Some(b)) = (self.flat(), other.flat()) {
            // Most often the same bytes (an answer repeats the question's
            // name as it was asked): one compare of the whole.
            return a == b || a.eq_ignore_ascii_case(b);
        }
        let mut theirs = other.labels();
        for label in self.labels() {
            match theirs.next() {
                Some(t) if t.eq_ignore_ascii_case(label) => {}
                _ => return false,
            }
        }
        theirs.next().is_none()
    }
}

/// [`Name::read`]'s check without the [`Walk`]: the same rules (label
/// bytes in bounds, at most [`MAX_NAME_LEN`] bytes, each pointer landing
/// before the run of labels it is found in and after the header, at most
/// [`MAX_POINTER_HOPS`] of them), read straight off the slice. Returns
/// where the name's bytes in place end, and whether it had no pointer;
/// `None` for a name it turns down,
/// which the walk reads again to say why (every DNS message reads its
/// names this way, and the walk's cursor checks cost twice as much).
fn check_fast(msg: &[u8], start: usize) -> Option<(usize, bool)> {
    let mut at = start;
    let mut run_start = start;
    let mut wire = 0usize;
    let mut end = None;
    let mut hops = 0;
    loop {
        let len = *msg.get(at)?;
        match len & 0xc0 {
            0x00 if len == 0 => return Some(end.map_or((at + 1, true), |e| (e, false))),
            0x00 => {
                wire += 1 + usize::from(len);
                at += 1 + usize::from(len);
                if wire >= MAX_NAME_LEN || at > msg.len() {
                    return None;
                }
            }
            0xc0 => {
                let low = *msg.get(at + 1)?;
                let target = usize::from(len & 0x3f) << 8 | usize::from(low);
                end.get_or_insert(at + 2);
                hops += 1;
                if target >= run_start || target < HEADER_LEN || hops > MAX_POINTER_HOPS {
                    return None;
                }
                at = target;
                run_start = target;
            }
            _ => return None,
        }
    }
}

/// Text bytes (a name's wire length less 2) that [`Name::write_to`]
/// writes through a short buffer: a multiple of [`BLOCK`].
const SHORT_NAME: usize = 64;

/// Appends a pointer-free wire name in presentation form, made in `buf`
/// (at least the name's wire length less 2, rounded up to [`BLOCK`]).
fn push_flat<const N: usize>(wire: &[u8], buf: &mut [u8; N], out: &mut String) {
    match flat_dotted(wire, buf) {
        Some(text) => out.push_str(text),
        None => push_labels(wire_labels(wire), out),
    }
}

/// The labels of a pointer-free wire name (see [`Name::flat`]), read
/// without the pointer-aware walk.
fn wire_labels(wire: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let len = usize::from(*wire.get(at)?);
        let label = wire.get(at + 1..at + 1 + len).filter(|_| len > 0)?;
        at += 1 + len;
        Some(label)
    })
}

/// A pointer-free wire name (see [`Name::flat`]) whose labels are all
/// printable ASCII without `.` or `\` (nearly every name), in presentation
/// form in `buf` (`None` when it is too short to hold the text in whole
/// blocks): the labels copied in one piece, each length byte after
/// the first turned into a dot, lowercased in place. `None` for a name
/// that needs escapes (or the root), which [`push_labels`] writes.
fn flat_dotted<'b, const N: usize>(wire: &[u8], buf: &'b mut [u8; N]) -> Option<&'b str> {
    // The first length byte and the root byte are not written.
    let n = wire.len().checked_sub(2).filter(|&n| n > 0)?;
    buf.get_mut(..n)?.copy_from_slice(wire.get(1..1 + n)?);
    let blocks = n.div_ceil(BLOCK);
    // The length bytes after the first become dots.
    let mut at = usize::from(*wire.first()?);
    let mut labels = 1;
    while at < n {
        let len = *buf.get(at)?;
        *buf.get_mut(at)? = b'.';
        at += 1 + usize::from(len);
        labels += 1;
    }
    // One pass over the whole text, a block at a time (fixed-size blocks
    // the compiler turns into vector code, each lane counting on its own):
    // lowercases, notes the bytes that need an escape (outside printable
    // ASCII, or `\`), and counts the dots, which must be the ones just
    // put between the labels (a label holding a dot needs an escape).
    let mut bad = [0u8; BLOCK];
    let mut dots = [0u8; BLOCK];
    for (i, block) in buf
        .get_mut(..blocks * BLOCK)?
        .chunks_exact_mut(BLOCK)
        .enumerate()
    {
        // The lanes past the text (zeros) count nothing.
        let valid = (n - i * BLOCK).min(BLOCK) as u8;
        let lanes = block.iter_mut().zip(&LANES).zip(&mut bad).zip(&mut dots);
        for (((b, &lane), bad), dots) in lanes {
            let c = *b;
            let keep = u8::from(lane < valid);
            *bad |= keep & (u8::from(c.wrapping_sub(0x21) > 0x7e - 0x21) | u8::from(c == b'\\'));
            // At most 16 blocks: a lane counts at most 16.
            *dots += keep & u8::from(c == b'.');
            *b = c | (u8::from(c.wrapping_sub(b'A') < 26) << 5);
        }
    }
    let dots: u32 = dots.iter().map(|&d| u32::from(d)).sum();
    let bad = bad.iter().fold(0, |a, &b| a | b);
    if bad != 0 || dots != labels - 1 {
        return None;
    }
    std::str::from_utf8(buf.get(..n)?).ok()
}

/// Bytes [`flat_dotted`] checks and lowercases at a time.
const BLOCK: usize = 16;

/// Lane numbers of a block.
const LANES: [u8; BLOCK] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/// Labels in presentation form: lowercase, dot-separated, `.` and `\`
/// escaped, other bytes outside printable ASCII as `\DDD`. Pushed byte by
/// byte into a `String`: through `fmt::Write` a name cost three times as
/// much, and names are written for every DNS message.
fn push_labels<'x>(labels: impl Iterator<Item = &'x [u8]>, out: &mut String) {
    for (i, label) in labels.enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.reserve(label.len());
        for &b in label {
            match b {
                b'.' | b'\\' => {
                    out.push('\\');
                    out.push(char::from(b));
                }
                0x21..=0x7e => out.push(char::from(b.to_ascii_lowercase())),
                _ => {
                    out.push('\\');
                    for d in [b / 100, b / 10 % 10, b % 10] {
                        out.push(char::from(b'0' + d));
                    }
                }
            }
        }
    }
}

/// Lowercase presentation form, as [`Name::write_to`].
impl fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.write_to(&mut s);
        f.write_str(&s)
    }
}

impl fmt::Debug for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name(\"{self}\" @{})", self.start)
    }
}

/// Iterator over the labels of a [`Name`].
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    walk: Walk<'a>,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        // The name was checked when read; an error here cannot happen, and
        // would only end the labels early.
        self.walk.step().ok().flatten()
    }
}

/// The walk over a name's labels, following compression pointers, shared by
/// checking ([`Name::read`]) and reading ([`Name::labels`]).
#[derive(Debug, Clone)]
struct Walk<'a> {
    c: Cursor<'a>,
    /// Where the current run of labels starts; a pointer must land before it.
    run_start: usize,
    hops: usize,
    /// Wire length so far, length bytes included.
    len: usize,
    /// Offset just past the name's bytes in place, once known.
    end: Option<usize>,
    done: bool,
}

impl<'a> Walk<'a> {
    fn new(msg: &'a [u8], start: usize) -> Self {
        let mut c = Cursor::new(msg);
        // An out-of-range start surfaces as Truncated at the first read.
        let seek_ok = c.seek(start).is_ok();
        Walk {
            c,
            run_start: start,
            hops: 0,
            len: 0,
            end: None,
            done: !seek_ok,
        }
    }

    fn invalid(&self, what: &'static str) -> ParseError {
        ParseError::Invalid {
            offset: self.c.offset(),
            what,
        }
    }

    /// The next label, `None` at the root label.
    fn step(&mut self) -> Result<Option<&'a [u8]>, ParseError> {
        if self.done {
            if self.end.is_none() {
                return Err(ParseError::Truncated {
                    offset: self.run_start,
                    needed: 1,
                });
            }
            return Ok(None);
        }
        // At most one label, after at most MAX_POINTER_HOPS pointers.
        for _ in 0..=MAX_POINTER_HOPS {
            let len = self.c.u8()?;
            match len & 0xc0 {
                0x00 if len == 0 => {
                    self.len += 1;
                    self.end.get_or_insert(self.c.pos());
                    self.done = true;
                    return Ok(None);
                }
                0x00 => {
                    self.len += 1 + usize::from(len);
                    if self.len >= MAX_NAME_LEN {
                        return Err(self.invalid("name longer than 255 bytes"));
                    }
                    return self.c.bytes(usize::from(len)).map(Some);
                }
                0xc0 => {
                    let low = self.c.u8()?;
                    let target = usize::from(len & 0x3f) << 8 | usize::from(low);
                    self.end.get_or_insert(self.c.pos());
                    if target >= self.run_start || target < HEADER_LEN {
                        return Err(self.invalid("compression pointer does not point back"));
                    }
                    self.hops += 1;
                    if self.hops > MAX_POINTER_HOPS {
                        return Err(self.invalid("too many compression pointers"));
                    }
                    self.c.seek(target)?;
                    self.run_start = target;
                }
                _ => return Err(self.invalid("reserved label type")),
            }
        }
        Err(self.invalid("too many compression pointers"))
    }
}

/// Splits a DNS-over-TCP byte stream (from its start, or from the start of a
/// message) into messages, each behind a two-byte length (RFC 1035 §4.2.2).
/// Stops at the first incomplete message, or after [`MAX_TCP_MESSAGES`];
/// [`TcpMessages::consumed`] says where the next message starts.
pub fn tcp_messages(stream: &[u8]) -> TcpMessages<'_> {
    TcpMessages {
        c: Cursor::new(stream),
        count: 0,
    }
}

/// Iterator over length-prefixed messages; see [`tcp_messages`].
#[derive(Debug, Clone)]
pub struct TcpMessages<'a> {
    c: Cursor<'a>,
    count: usize,
}

impl TcpMessages<'_> {
    /// Bytes taken by the messages yielded so far, length prefixes included.
    pub fn consumed(&self) -> usize {
        self.c.pos()
    }
}

impl<'a> Iterator for TcpMessages<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.count >= MAX_TCP_MESSAGES {
            return None;
        }
        let mut c = self.c;
        let msg = c.vec16().ok()?.buf();
        self.c = c;
        self.count += 1;
        Some(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The label walk's answer, to hold the pointer-free fast paths to.
    fn by_labels(n: &Name<'_>) -> String {
        let mut s = String::new();
        for (i, label) in n.labels().enumerate() {
            if i > 0 {
                s.push('.');
            }
            for &b in label {
                match b {
                    b'.' | b'\\' => {
                        s.push('\\');
                        s.push(char::from(b));
                    }
                    0x21..=0x7e => s.push(char::from(b.to_ascii_lowercase())),
                    _ => s.push_str(&format!("\\{b:03}")),
                }
            }
        }
        s
    }

    fn same_by_labels(a: &Name<'_>, b: &Name<'_>) -> bool {
        let (x, y): (Vec<_>, Vec<_>) = (a.labels().collect(), b.labels().collect());
        x.len() == y.len() && x.iter().zip(&y).all(|(p, q)| p.eq_ignore_ascii_case(q))
    }

    proptest! {
        /// Names in place, behind pointers and partly compressed: writing
        /// and comparing them give what walking their labels gives.
        #[test]
        fn fast_name_paths_agree_with_the_label_walk(
            labels in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..6), 0..5),
            upper in any::<bool>(),
            split in 0usize..5,
        ) {
            let mut msg = vec![0u8; HEADER_LEN];
            let put = |msg: &mut Vec<u8>, ls: &[Vec<u8>], ptr: Option<usize>| -> usize {
                let at = msg.len();
                for l in ls {
                    msg.push(l.len() as u8);
                    msg.extend_from_slice(l);
                }
                match ptr {
                    Some(p) => msg.extend_from_slice(&(0xc000 | p as u16).to_be_bytes()),
                    None => msg.push(0),
                }
                at
            };
            let flat = put(&mut msg, &labels, None);
            let shout: Vec<Vec<u8>> = labels.iter().map(|l| if upper { l.to_ascii_uppercase() } else { l.clone() }).collect();
            let flat2 = put(&mut msg, &shout, None);
            let ptr = put(&mut msg, &[], Some(flat));
            let k = split.min(labels.len());
            let tail = put(&mut msg, &labels[k..], None);
            let mixed = put(&mut msg, &shout[..k], Some(tail));
            let names: Vec<Name<'_>> = [flat, flat2, ptr, mixed]
                .iter()
                .map(|&at| Name::read(&msg, at).unwrap().0)
                .collect();
            for a in &names {
                prop_assert_eq!(a.to_string_lower(), by_labels(a));
                prop_assert_eq!(a.to_string(), by_labels(a));
                for b in &names {
                    prop_assert_eq!(a.same_as(b), same_by_labels(a, b));
                }
            }
        }

        /// A record name taken for the first question's name (a pointer to
        /// it or a copy of it) is what the checked read makes of it, and a
        /// message's records read the same with the shortcut as without
        /// it: messages of one question (sometimes malformed, too long or
        /// cut off) whose records' names are pointers to it, copies of it
        /// (whole, changed or cut short), other pointers or other names.
        #[test]
        fn as_question_agrees_with_the_checked_read(
            labels in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..70), 0..6),
            records in proptest::collection::vec((0u8..10, any::<u8>(), 0u16..300), 0..8),
            qdcount in 0u16..3,
            cut in any::<prop::sample::Index>(),
            counts in prop_oneof![Just([0, 0, 0xc0, 0x0c]), Just([0xc0, 0x0c, 0, 0]), any::<[u8; 4]>()],
        ) {
            let mut msg = vec![0, 1, 0x81, 0x80];
            msg.extend_from_slice(&qdcount.to_be_bytes());
            msg.extend_from_slice(&(records.len() as u16).to_be_bytes());
            // Authority and additional counts: any bytes (a `C0 0C` among
            // them is in the header, not a name).
            msg.extend_from_slice(&counts);
            let mut qwire = Vec::new();
            for l in &labels {
                // Length bytes as given: labels may be empty (the root,
                // early) or 64 bytes and more (a reserved type).
                qwire.push(l.len() as u8);
                qwire.extend_from_slice(l);
            }
            qwire.push(0);
            msg.extend_from_slice(&qwire);
            msg.extend_from_slice(&[0, 1, 0, 1]);
            for &(kind, b, target) in &records {
                match kind {
                    0 => msg.extend_from_slice(&[0xc0, 0x0c]),
                    1 => msg.extend_from_slice(&(0xc000 | target).to_be_bytes()),
                    2 => msg.extend_from_slice(&[1, b, 0xc0, 0x0c]),
                    3 => msg.extend_from_slice(&qwire),
                    4 => {
                        // The question's name with one byte changed.
                        let mut w = qwire.clone();
                        let at = usize::from(target) % w.len();
                        w[at] ^= b | 1;
                        msg.extend_from_slice(&w);
                    }
                    5 => msg.extend_from_slice(&qwire[..usize::from(target) % qwire.len()]),
                    6 => {
                        // A CNAME to a pointer-free name (the
                        // question's with a label in front).
                        msg.extend_from_slice(&[0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 0, 60]);
                        let rdlen = qwire.len() + 2;
                        msg.extend_from_slice(&(rdlen as u16).to_be_bytes());
                        msg.extend_from_slice(&[1, b'x']);
                        msg.extend_from_slice(&qwire);
                        continue;
                    }
                    7 | 8 => {
                        // That target again (or another label), whole
                        // or with a byte changed.
                        msg.extend_from_slice(&[1, if kind == 7 { b'x' } else { b'X' }]);
                        let mut w = qwire.clone();
                        if target % 3 == 0 {
                            let at = usize::from(target) % w.len();
                            w[at] ^= b | 1;
                        }
                        msg.extend_from_slice(&w);
                    }
                    _ => msg.extend_from_slice(&[b, 0x0c]),
                }
                msg.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, b]);
            }
            let n = cut.index(msg.len() + 1);
            for msg in [&msg[..], &msg[..n]] {
                let question_len = Name::read(msg, HEADER_LEN).map_or(0, |(n, _)| n.flat_len);
                for start in 0..msg.len() + 2 {
                    if let Some((name, end)) = Name::as_question(msg, start, question_len) {
                        let (checked, checked_end) = Name::read(msg, start).unwrap();
                        prop_assert_eq!(end, checked_end);
                        prop_assert_eq!(name.start, checked.start);
                        prop_assert_eq!(name.flat_len, checked.flat_len);
                    }
                }
                let Ok(m) = parse(msg) else { continue };
                let fast: Vec<_> = m.records().collect();
                let mut careful = m.records();
                // Without the question known, neither shortcut is taken.
                careful.question_len = 0;
                let careful: Vec<_> = careful.collect();
                prop_assert_eq!(fast.len(), careful.len());
                for (a, b) in fast.iter().zip(&careful) {
                    match (a, b) {
                        (Ok(a), Ok(b)) => {
                            let (checked, _) = Name::read(msg, a.name.start).unwrap();
                            prop_assert_eq!(a.name.flat_len, checked.flat_len);
                            prop_assert_eq!(a.name.start, b.name.start);
                            prop_assert_eq!(a.name.flat_len, b.name.flat_len);
                            prop_assert_eq!(a.name.to_string(), b.name.to_string());
                            prop_assert_eq!(a.rdata, b.rdata);
                            prop_assert_eq!(a.ttl, b.ttl);
                        }
                        (Err(a), Err(b)) => prop_assert_eq!(a, b),
                        _ => prop_assert!(false, "one read failed, the other did not"),
                    }
                }
            }
        }
    }

    /// Names on both sides of the short buffer's length, and long ones up
    /// to the limit, are written as the label walk writes them.
    #[test]
    fn names_short_and_long_are_written_as_the_walk_writes_them() {
        for len in (1..=120).chain([200, 250]) {
            for escape in [false, true] {
                // Labels of up to 20 bytes, mixed case, `len` text bytes
                // in all (dots included); one byte needing an escape.
                let mut text: Vec<u8> = (0..len).map(|i| b"aBc-9Z"[i % 6]).collect();
                for at in (20..len - 1).step_by(21) {
                    text[at] = b'.';
                }
                if escape {
                    text[0] = b'\\';
                }
                let mut msg = vec![0u8; HEADER_LEN];
                for label in text.split(|&b| b == b'.') {
                    msg.push(label.len() as u8);
                    msg.extend_from_slice(label);
                }
                msg.push(0);
                let Ok((name, _)) = Name::read(&msg, HEADER_LEN) else {
                    // Past 255 wire bytes: refused, nothing to write.
                    assert!(len > 250, "{len}");
                    continue;
                };
                assert_eq!(name.to_string_lower(), by_labels(&name), "{len} {escape}");
                if !escape {
                    assert_eq!(name.to_string_lower().len(), len);
                }
            }
        }
    }

    /// Builds messages byte by byte.
    struct B(Vec<u8>);

    impl B {
        fn new(id: u16, flags: u16, counts: [u16; 4]) -> B {
            let mut b = B(Vec::new());
            b.u16(id).u16(flags);
            for n in counts {
                b.u16(n);
            }
            b
        }
        fn u16(&mut self, v: u16) -> &mut Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn u32(&mut self, v: u32) -> &mut Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        /// Labels of `dotted`, then a pointer to `ptr` or the root.
        fn name(&mut self, dotted: &str, ptr: Option<u16>) -> u16 {
            let at = self.0.len() as u16;
            for label in dotted.split('.').filter(|l| !l.is_empty()) {
                self.0.push(label.len() as u8);
                self.0.extend_from_slice(label.as_bytes());
            }
            match ptr {
                Some(p) => {
                    self.u16(0xc000 | p);
                }
                None => self.0.push(0),
            }
            at
        }
        fn question(&mut self, dotted: &str, ptr: Option<u16>, qtype: u16) -> u16 {
            let at = self.name(dotted, ptr);
            self.u16(qtype).u16(class::IN);
            at
        }
        fn record(&mut self, ptr: u16, rtype: u16, rdata: &[u8]) -> &mut Self {
            self.u16(0xc000 | ptr).u16(rtype).u16(class::IN).u32(300);
            self.u16(rdata.len() as u16);
            self.0.extend_from_slice(rdata);
            self
        }
    }

    #[test]
    fn response_with_compressed_cname_chain() {
        // Response, RD+RA, NOERROR: www.example.com CNAME edge.example.com, A, AAAA.
        let mut b = B::new(0xbeef, 0x8180, [1, 3, 0, 0]);
        let q = b.question("www.Example.COM", None, rtype::A);
        let example = q + 4;
        // CNAME rdata: "edge" + pointer to example.com, built in place.
        let cname_at = b.0.len() as u16 + 12;
        let mut rdata = vec![4];
        rdata.extend_from_slice(b"edge");
        rdata.extend_from_slice(&(0xc000 | example).to_be_bytes());
        b.record(q, rtype::CNAME, &rdata);
        b.record(cname_at, rtype::A, &[192, 0, 2, 7]);
        let v6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        b.record(cname_at, rtype::AAAA, &v6.octets());

        let m = parse(&b.0).unwrap();
        let h = m.header;
        assert_eq!(h.id, 0xbeef);
        assert!(h.qr && h.rd && h.ra && !h.aa && !h.tc);
        assert_eq!((h.opcode, h.rcode), (0, rcode::NOERROR));
        assert_eq!((h.qdcount, h.ancount, h.nscount, h.arcount), (1, 3, 0, 0));

        let qs: Vec<_> = m.questions().collect::<Result<_, _>>().unwrap();
        assert_eq!(qs.len(), 1);
        assert_eq!(qs[0].name.to_string_lower(), "www.example.com");
        assert!(qs[0].name.eq_ignore_case("WWW.example.com."));
        assert_eq!((qs[0].qtype, qs[0].qclass), (rtype::A, class::IN));

        let rs: Vec<_> = m.answers().collect::<Result<_, _>>().unwrap();
        assert_eq!(rs.len(), 3);
        assert!(rs[0].name.same_as(&qs[0].name));
        let RData::Cname(target) = rs[0].data else {
            panic!("not a cname: {:?}", rs[0].data)
        };
        assert_eq!(target.to_string(), "edge.example.com");
        assert!(rs[1].name.same_as(&target));
        assert!(matches!(rs[1].data, RData::A(ip) if ip == Ipv4Addr::new(192, 0, 2, 7)));
        assert!(matches!(rs[2].data, RData::Aaaa(ip) if ip == v6));
        assert_eq!(rs[2].ttl, 300);
        assert_eq!(rs[2].section, Section::Answer);
        assert_eq!(rs[2].rdata, v6.octets());
    }

    #[test]
    fn header_read_off_the_slice_is_the_cursor_s() {
        let full: Vec<u8> = (0u8..14).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
        for len in 0..=full.len() {
            let b = &full[..len];
            assert_eq!(
                parse(b).map(|m| m.header),
                parse_by_cursor(b).map(|m| m.header),
                "{len} bytes"
            );
        }
        assert!(parse(&full[..11]).is_err() && parse(&full[..12]).is_ok());
    }

    #[test]
    fn rcodes_and_flags() {
        let b = B::new(1, 0x8183, [0; 4]);
        let h = parse(&b.0).unwrap().header;
        assert_eq!(h.rcode, rcode::NXDOMAIN);
        assert_eq!(rcode_name(h.rcode), "NXDOMAIN");
        assert_eq!(rcode_name(rcode::SERVFAIL), "SERVFAIL");
        assert_eq!(rcode_name(rcode::REFUSED), "REFUSED");
        assert_eq!(rcode_name(15), "UNKNOWN");
        // Update opcode, AA, TC, AD, CD set.
        let h = parse(&B::new(2, 0x2e30, [0; 4]).0).unwrap().header;
        assert_eq!(h.opcode, 5);
        assert!(h.aa && h.tc && h.ad && h.cd && !h.qr && !h.rd && !h.ra);
        assert_eq!(
            parse(&[0; 11]).unwrap_err(),
            ParseError::Truncated {
                offset: 10,
                needed: 2
            }
        );
    }

    #[test]
    fn sections_are_told_apart() {
        let mut b = B::new(3, 0x8400, [1, 1, 1, 1]);
        let q = b.question("printer.local", None, rtype::PTR);
        b.record(q, rtype::PTR, &[0xc0, q as u8]);
        b.record(q, rtype::NS, &[0xc0, q as u8]);
        b.record(q, rtype::TXT, b"\x03a=b");
        let m = parse(&b.0).unwrap();
        let rs: Vec<_> = m.records().collect::<Result<_, _>>().unwrap();
        let sections: Vec<_> = rs.iter().map(|r| r.section).collect();
        assert_eq!(
            sections,
            [Section::Answer, Section::Authority, Section::Additional]
        );
        assert!(matches!(rs[0].data, RData::Ptr(n) if n.eq_ignore_case("printer.local")));
        assert!(matches!(rs[1].data, RData::Ns(_)));
        assert!(matches!(rs[2].data, RData::Other(b"\x03a=b")));
        assert_eq!(m.answers().count(), 1);
    }

    #[test]
    fn mdns_class_flags_are_kept_raw() {
        let mut b = B::new(0, 0x8400, [1, 1, 0, 0]);
        let q = b.name("_hap._tcp.local", None);
        b.u16(rtype::PTR).u16(0x8001);
        b.u16(0xc000 | q).u16(rtype::A).u16(0x8001).u32(120).u16(4);
        b.0.extend_from_slice(&[10, 0, 0, 9]);
        let m = parse(&b.0).unwrap();
        let question = m.questions().next().unwrap().unwrap();
        assert!(question.unicast_response());
        assert_eq!(question.qclass, 0x8001);
        let r = m.answers().next().unwrap().unwrap();
        assert!(r.cache_flush());
        assert_eq!(r.class & !class::MDNS_FLAG, class::IN);
    }

    #[test]
    fn pointer_loops_are_rejected() {
        // A pointer to itself.
        let mut b = B::new(0, 0, [1, 0, 0, 0]);
        b.u16(0xc000 | 12).u16(1).u16(1);
        let e = parse(&b.0).unwrap().questions().next().unwrap();
        assert!(matches!(e, Err(ParseError::Invalid { .. })), "{e:?}");

        // "a" then a pointer back to that "a": backwards, but into its own run.
        let mut b = B::new(0, 0, [1, 0, 0, 0]);
        b.name("a", Some(12));
        b.u16(1).u16(1);
        let mut qs = parse(&b.0).unwrap().questions();
        assert!(matches!(qs.next(), Some(Err(ParseError::Invalid { .. }))));
        assert!(qs.next().is_none());

        // Two names pointing at each other: the first points forward.
        let mut b = B::new(0, 0, [2, 0, 0, 0]);
        b.question("x", Some(19), 1);
        b.question("y", Some(12), 1);
        let e = parse(&b.0).unwrap().questions().next().unwrap();
        assert!(matches!(e, Err(ParseError::Invalid { .. })), "{e:?}");

        // A pointer into the header.
        let mut b = B::new(0, 0, [1, 0, 0, 0]);
        b.question("", Some(2), 1);
        assert!(parse(&b.0).unwrap().questions().next().unwrap().is_err());
    }

    #[test]
    fn long_and_odd_names() {
        let label = "a".repeat(63);
        let long = [label.as_str(); 4].join(".");
        // 4 * 64 + 1 = 257 bytes: too long.
        let mut b = B::new(0, 0, [1, 0, 0, 0]);
        b.question(&long, None, 1);
        let e = parse(&b.0).unwrap().questions().next().unwrap();
        assert!(matches!(e, Err(ParseError::Invalid { .. })));
        // 3 * 64 + 62 + 1 = 255 bytes: fits.
        let ok = [label.as_str(), &label, &label, &"b".repeat(61)].join(".");
        let mut b = B::new(0, 0, [1, 0, 0, 0]);
        b.question(&ok, None, 1);
        let q = parse(&b.0).unwrap().questions().next().unwrap().unwrap();
        assert_eq!(q.name.to_string_lower(), ok);

        // Root name; escapes as dig prints them.
        let mut b = B::new(0, 0, [2, 0, 0, 0]);
        b.question("", None, rtype::ANY);
        b.0.extend_from_slice(b"\x05A.b\\\x00\x03 x\xff\x00");
        b.u16(1).u16(1);
        let m = parse(&b.0).unwrap();
        let qs: Vec<_> = m.questions().collect::<Result<_, _>>().unwrap();
        assert!(qs[0].name.is_root());
        assert_eq!(qs[0].name.to_string_lower(), "");
        assert!(qs[0].name.eq_ignore_case("."));
        assert!(!qs[0].name.eq_ignore_case("com"));
        assert_eq!(qs[1].name.to_string_lower(), "a\\.b\\\\\\000.\\032x\\255");
        assert_eq!(qs[1].name.labels().count(), 2);
        assert!(!qs[1].name.eq_ignore_case("a.b\\\0. x\u{ff}"));

        // Reserved label type 0x40.
        let mut b = B::new(0, 0, [1, 0, 0, 0]);
        b.0.extend_from_slice(&[0x41, b'a', 0, 0, 1, 0, 1]);
        assert!(parse(&b.0).unwrap().questions().next().unwrap().is_err());
    }

    #[test]
    fn cut_response_keeps_what_came_before() {
        let mut b = B::new(9, 0x8180, [1, 2, 0, 0]);
        let q = b.question("time.example", None, 1);
        b.record(q, rtype::A, &[10, 0, 0, 1]);
        b.record(q, rtype::A, &[10, 0, 0, 2]);
        let cut = &b.0[..b.0.len() - 2];
        let mut rs = parse(cut).unwrap().answers();
        assert!(matches!(
            rs.next(),
            Some(Ok(Record {
                data: RData::A(_),
                ..
            }))
        ));
        assert!(matches!(rs.next(), Some(Err(ParseError::Truncated { .. }))));
        assert!(rs.next().is_none());

        // Counts larger than the message: an error item, then the end.
        let mut b = B::new(9, 0x8180, [2, 0, 0, 0]);
        b.question("a", None, 1);
        let m = parse(&b.0).unwrap();
        let items: Vec<_> = m.questions().collect();
        assert_eq!(items.len(), 2);
        assert!(items[0].is_ok() && items[1].is_err());
        // The answers cannot be located, which is reported once.
        let mut rs = m.answers();
        assert!(rs.next().unwrap().is_err());
        assert!(rs.next().is_none());
    }

    #[test]
    fn bad_rdata_ends_the_records() {
        let mut b = B::new(9, 0x8180, [1, 3, 0, 0]);
        let q = b.question("x", None, 1);
        b.record(q, rtype::A, &[10, 0, 0, 1, 5]);
        b.record(q, rtype::A, &[10, 0, 0, 2]);
        let mut rs = parse(&b.0).unwrap().answers();
        assert!(matches!(rs.next(), Some(Err(ParseError::Invalid { .. }))));
        assert!(rs.next().is_none());

        // A CNAME whose name runs past its RDATA.
        let mut b = B::new(9, 0x8180, [1, 1, 0, 0]);
        let q = b.question("x", None, 1);
        b.record(q, rtype::CNAME, &[1, b'y']);
        b.0.push(0);
        assert!(parse(&b.0).unwrap().answers().next().unwrap().is_err());
    }

    #[test]
    fn iteration_is_capped() {
        let mut b = B::new(0, 0, [u16::MAX, 0, 0, 0]);
        for _ in 0..300 {
            b.question("", None, 1);
        }
        let m = parse(&b.0).unwrap();
        let qs: Vec<_> = m.questions().collect();
        let max = usize::from(MAX_RECORDS_PER_SECTION);
        assert_eq!(qs.len(), max + 1);
        assert!(qs[..max].iter().all(|q| q.is_ok()));
        assert!(matches!(qs[max], Err(ParseError::Invalid { .. })));
        let mut rs = m.records();
        assert!(rs.next().unwrap().is_err());
        assert!(rs.next().is_none());

        // The same limit for records; the authority section is not reached.
        let mut b = B::new(0, 0x8180, [0, 300, 1, 0]);
        for _ in 0..301 {
            b.0.extend_from_slice(&[0, 0, 16, 0, 1, 0, 0, 0, 0, 0, 0]);
        }
        let rs: Vec<_> = parse(&b.0).unwrap().records().collect();
        assert_eq!(rs.len(), max + 1);
        assert!(rs[max].is_err());
    }

    #[test]
    fn tcp_stream_splits_into_messages() {
        let one = B::new(1, 0, [0; 4]).0;
        let two = B::new(2, 0, [0; 4]).0;
        let mut stream = Vec::new();
        for m in [&one, &two] {
            stream.extend_from_slice(&(m.len() as u16).to_be_bytes());
            stream.extend_from_slice(m);
        }
        stream.extend_from_slice(&[0, 40, 0, 3]);
        let mut it = tcp_messages(&stream);
        let ids: Vec<_> = it.by_ref().map(|m| parse(m).unwrap().header.id).collect();
        assert_eq!(ids, [1, 2]);
        assert_eq!(it.consumed(), 28);
        assert_eq!(tcp_messages(&[0]).count(), 0);
        let many = [0u8; 1000];
        assert_eq!(tcp_messages(&many).count(), MAX_TCP_MESSAGES);
    }

    fn exercise(b: &[u8]) {
        if let Ok(m) = parse(b) {
            for q in m.questions().flatten() {
                let _ = q.name.to_string_lower();
                let _ = q.name.eq_ignore_case("a.b");
            }
            for r in m.records().flatten() {
                let _ = r.name.to_string_lower();
                if let RData::Cname(n) | RData::Ptr(n) | RData::Ns(n) = r.data {
                    let _ = n.same_as(&r.name);
                }
            }
        }
        for m in tcp_messages(b) {
            let _ = parse(m);
        }
    }

    proptest! {
        /// The fast name check accepts only names the checked walk
        /// accepts, and ends them at the same place: whatever it turns
        /// down goes to the walk, so errors stay the walk's.
        #[test]
        fn fast_name_check_agrees_with_the_walk(
            body in proptest::collection::vec(
                prop_oneof![0u8..4, 0xc0u8..0xc1, 0u8..40, any::<u8>()],
                HEADER_LEN..300,
            ),
            start in HEADER_LEN..300usize,
        ) {
            let start = start.min(body.len() - 1);
            if let Some((end, flat)) = check_fast(&body, start) {
                let walked = Name::walk_to_end(&body, start);
                prop_assert_eq!(walked, Ok(end));
                let name = Name::read(&body, start).map(|(n, _)| n.to_string_lower());
                let by_walk = Name { msg: &body, start, flat_len: 0 }.to_string_lower();
                prop_assert_eq!(name, Ok(by_walk));
                let read = Name::read(&body, start).map(|(n, _)| n.flat());
                let want = flat.then(|| &body[start..end]);
                prop_assert_eq!(read, Ok(want));
            }
        }

        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            exercise(&b);
        }

        /// Small counts and many pointer/label bytes reach deeper paths.
        #[test]
        fn never_panics_structured(
            counts in proptest::array::uniform4(0u16..4),
            body in proptest::collection::vec(
                prop_oneof![Just(0xc0u8), Just(0u8), 1u8..20, any::<u8>()], 0..300),
        ) {
            let mut b = B::new(0, 0x8180, counts);
            b.0.extend_from_slice(&body);
            exercise(&b.0);
        }
    }
}
