//! App-layer parsers: pure functions over borrowed byte slices.
//!
//! Contract for every parser in this folder:
//! - input is a `&[u8]` (a UDP payload, a reassembled TCP stream prefix, a
//!   frame); output borrows from it where it can;
//! - all reads go through [`cursor::Cursor`]; hostile lengths, counts and
//!   pointers are bounded, so no input panics or loops;
//! - no I/O, no clocks, no state between calls: state lives in `flow` and
//!   `device`, detection in `check`.

pub mod capwap;
pub mod cursor;
pub mod dhcp;
pub mod dns;
pub mod http;
pub mod mqtt;
pub mod ntp;
pub mod quic;
pub mod ssh;
pub mod tls;
pub mod wifi;

/// Why an app-layer message could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// The message ends before a field: `needed` bytes at `offset`.
    Truncated { offset: usize, needed: usize },
    /// A field holds a value the protocol does not allow.
    Invalid { offset: usize, what: &'static str },
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Truncated { offset, needed } => {
                write!(
                    f,
                    "truncated: {needed} more bytes needed at offset {offset}"
                )
            }
            ParseError::Invalid { offset, what } => write!(f, "invalid at offset {offset}: {what}"),
        }
    }
}

impl std::error::Error for ParseError {}
