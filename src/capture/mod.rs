//! Capture sources: where frames come from.
//!
//! A [`Frame`] borrows its bytes from the reader's buffer (a file reader's
//! reused read buffer, or libpcap's ring): nothing is copied per packet. The
//! frame carries the capture timestamp, which is the only clock below the
//! CLI, so replaying a capture gives the same answers as watching it live.

pub mod file;
pub mod filter;
pub mod merge;

use std::fmt;

/// A link-layer header type, as numbered by tcpdump.org's LINKTYPE_ values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkType(pub u32);

impl LinkType {
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    /// DLT_RAW as written by some BSDs and old libpcap.
    pub const RAW_12: LinkType = LinkType(12);
    /// DLT_RAW on OpenBSD.
    pub const RAW_14: LinkType = LinkType(14);
    pub const IEEE802_11: LinkType = LinkType(105);
    pub const RAW: LinkType = LinkType(101);
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const RADIOTAP: LinkType = LinkType(127);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// True for the link types the decoder understands.
    pub fn is_supported(self) -> bool {
        matches!(
            self.0,
            0 | 1 | 12 | 14 | 101 | 105 | 108 | 113 | 127 | 228 | 229 | 276
        )
    }

    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "null",
            1 => "ethernet",
            12 | 14 | 101 => "raw",
            105 => "ieee802.11",
            108 => "loop",
            113 => "linux-sll",
            127 => "radiotap",
            228 => "ipv4",
            229 => "ipv6",
            276 => "linux-sll2",
            _ => "unknown",
        }
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

/// Nanoseconds since the Unix epoch, in capture time.
pub type Nanos = i64;

/// One captured frame, borrowing its bytes from the source's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// Index of the file (or interface) in the order given, from 0.
    pub file: u16,
    /// 1-based frame number within its file, as Wireshark shows it.
    pub number: u64,
    /// Capture timestamp.
    pub ts: Nanos,
    pub link: LinkType,
    /// Length of the frame on the wire; `data.len()` may be less (snap length).
    pub orig_len: u32,
    pub data: &'a [u8],
}

impl Frame<'_> {
    /// True when the capture kept fewer bytes than were on the wire.
    pub fn is_truncated(&self) -> bool {
        (self.data.len() as u64) < self.orig_len as u64
    }
}

/// Something that went wrong reading a capture, with where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureError {
    /// The file or interface, as the user named it.
    pub source: String,
    pub problem: String,
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.problem)
    }
}

impl std::error::Error for CaptureError {}
