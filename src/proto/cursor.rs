//! A bounds-checked, zero-copy reader over a byte slice.
//!
//! Every app-layer parser reads protocol bytes through [`Cursor`], never by
//! indexing: each read checks the length once and returns
//! [`ParseError::Truncated`] (with the offset and how many bytes were needed)
//! instead of panicking. Length-prefixed vectors, the shape of DNS, TLS and
//! DHCP, come back as sub-cursors that borrow the same buffer, so nothing is
//! copied.
//!
//! Offsets in errors are relative to the slice the outermost cursor was made
//! from, so a sub-cursor reports positions in the whole message.
//!
//! ```
//! use egresswatch::proto::cursor::Cursor;
//! let mut c = Cursor::new(&[0x00, 0x03, b'a', b'b', b'c', 0xff]);
//! let mut v = c.vec16().unwrap();
//! assert_eq!(v.bytes(3).unwrap(), b"abc");
//! assert_eq!(c.u8().unwrap(), 0xff);
//! assert!(c.u8().is_err());
//! ```

use super::ParseError;

/// A read position over a borrowed byte slice.
#[derive(Debug, Clone, Copy)]
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf[0]` within the outermost message, for error reports.
    base: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Cursor {
            buf,
            pos: 0,
            base: 0,
        }
    }

    /// The position within this cursor's slice.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The position within the outermost message (for error reports).
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// The whole slice this cursor reads, from its start.
    pub fn buf(&self) -> &'a [u8] {
        self.buf
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unread bytes, without moving.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Moves to an absolute position within this cursor's slice.
    pub fn seek(&mut self, pos: usize) -> Result<(), ParseError> {
        if pos > self.buf.len() {
            return Err(self.truncated(pos - self.pos));
        }
        self.pos = pos;
        Ok(())
    }

    fn truncated(&self, needed: usize) -> ParseError {
        ParseError::Truncated {
            offset: self.offset(),
            needed,
        }
    }

    /// Reads `n` bytes, borrowed from the buffer.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], ParseError> {
        if n > self.remaining() {
            return Err(self.truncated(n));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Reads exactly `N` bytes into an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], ParseError> {
        let s = self.bytes(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) -> Result<(), ParseError> {
        self.bytes(n).map(|_| ())
    }

    /// The next byte, without moving.
    pub fn peek_u8(&self) -> Result<u8, ParseError> {
        self.buf.get(self.pos).copied().ok_or(self.truncated(1))
    }

    pub fn u8(&mut self) -> Result<u8, ParseError> {
        let v = self.peek_u8()?;
        self.pos += 1;
        Ok(v)
    }

    /// Big-endian (network order) u16.
    pub fn u16(&mut self) -> Result<u16, ParseError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// Big-endian u24, as TLS handshake lengths.
    pub fn u24(&mut self) -> Result<u32, ParseError> {
        let [a, b, c] = self.array()?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    pub fn u32(&mut self) -> Result<u32, ParseError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, ParseError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    pub fn u16_le(&mut self) -> Result<u16, ParseError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub fn u32_le(&mut self) -> Result<u32, ParseError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn u64_le(&mut self) -> Result<u64, ParseError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// The next text line without its CRLF or LF, and whether it ended
    /// (false when the bytes ran out first, as in a cut capture); `None`
    /// when nothing is left.
    pub fn line(&mut self) -> Option<(&'a [u8], bool)> {
        if self.is_empty() {
            return None;
        }
        let rest = self.rest();
        let (len, ended) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (rest.len(), false),
        };
        let line = self.bytes(len).ok()?;
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        Some((line.strip_suffix(b"\r").unwrap_or(line), ended))
    }

    /// A sub-cursor over the next `n` bytes; this cursor moves past them.
    pub fn sub(&mut self, n: usize) -> Result<Cursor<'a>, ParseError> {
        let base = self.offset();
        let s = self.bytes(n)?;
        Ok(Cursor {
            buf: s,
            pos: 0,
            base,
        })
    }

    /// A vector with a one-byte length prefix.
    pub fn vec8(&mut self) -> Result<Cursor<'a>, ParseError> {
        let n = self.u8()? as usize;
        self.sub(n)
    }

    /// A vector with a two-byte length prefix.
    pub fn vec16(&mut self) -> Result<Cursor<'a>, ParseError> {
        let n = self.u16()? as usize;
        self.sub(n)
    }

    /// A vector with a three-byte length prefix.
    pub fn vec24(&mut self) -> Result<Cursor<'a>, ParseError> {
        let n = self.u24()? as usize;
        self.sub(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_checked_and_offsets_are_absolute() {
        let data = [1u8, 0, 2, 9, 9, 7];
        let mut c = Cursor::new(&data);
        assert_eq!(c.u8().unwrap(), 1);
        let mut v = c.vec16().unwrap();
        assert_eq!(v.offset(), 3);
        assert_eq!(v.u16().unwrap(), 0x0909);
        assert_eq!(
            v.u8(),
            Err(ParseError::Truncated {
                offset: 5,
                needed: 1
            })
        );
        assert_eq!(c.u8().unwrap(), 7);
        assert_eq!(
            c.u32(),
            Err(ParseError::Truncated {
                offset: 6,
                needed: 4
            })
        );
        assert!(c.is_empty());
    }

    #[test]
    fn lines_end_at_lf_or_crlf_or_the_end() {
        let mut c = Cursor::new(b"GET / HTTP/1.1\r\nHost: a\nUser-Ag");
        assert_eq!(c.line(), Some((&b"GET / HTTP/1.1"[..], true)));
        assert_eq!(c.line(), Some((&b"Host: a"[..], true)));
        assert_eq!(c.line(), Some((&b"User-Ag"[..], false)));
        assert_eq!(c.line(), None);
    }

    #[test]
    fn length_prefix_past_the_end_is_an_error() {
        let mut c = Cursor::new(&[0xff, 0xff, 1]);
        assert!(c.vec16().is_err());
        let mut c = Cursor::new(&[]);
        assert!(c.seek(1).is_err());
        assert!(c.seek(0).is_ok());
    }
}
