//! The JSON report, pretty-printed exactly as `serde_json::to_writer_pretty`
//! prints it (two spaces a level), written faster:
//!
//! - [`Pretty`] writes a line break and its indentation in one write (serde's
//!   own formatter writes each level's two spaces separately: most of the
//!   site mix's 50 MB are indentation, a write call per level);
//! - with several threads, each device is serialized on its own, at its
//!   depth, in parallel, and the pieces are written in order.

use crate::report::Report;
use serde::Serialize;
use serde_json::ser::Formatter;
use std::io::{self, Write};

/// A line break then indentation, sliced to the depth wanted.
const LINES: &[u8] = b",\n                                                                                                                                ";
/// Deepest level written from [`LINES`] in one piece.
const MAX_DEPTH: usize = (LINES.len() - 2) / 2;

/// serde_json's `PrettyFormatter` with two-space indentation, starting at a
/// given depth.
pub struct Pretty {
    depth: usize,
    has_value: bool,
}

impl Pretty {
    /// A formatter for a value that sits `depth` levels deep.
    pub fn at(depth: usize) -> Pretty {
        Pretty {
            depth,
            has_value: false,
        }
    }

    /// `,` unless `first`, a line break, and the current indentation.
    fn line<W: ?Sized + Write>(&self, w: &mut W, first: bool) -> io::Result<()> {
        let from = if first { 1 } else { 0 };
        if self.depth <= MAX_DEPTH {
            return w.write_all(&LINES[from..2 + 2 * self.depth]);
        }
        w.write_all(&LINES[from..2])?;
        for _ in 0..self.depth {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    /// Opens an array or object: one level deeper, nothing in it yet.
    fn open<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    /// Closes it: on a line of its own unless it is empty.
    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.line(w, true)?;
        }
        w.write_all(bracket)
    }
}

impl Formatter for Pretty {
    #[inline]
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }

    #[inline]
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }

    #[inline]
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.line(w, first)
    }

    #[inline]
    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    #[inline]
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }

    #[inline]
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }

    #[inline]
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.line(w, first)
    }

    #[inline]
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    #[inline]
    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// `value` serialized at `depth` into `w`.
fn put<W: Write, T: Serialize + ?Sized>(w: &mut W, depth: usize, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, Pretty::at(depth));
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// A list at depth 1, as serde lays it out (`[]` when empty), its items
/// serialized on up to `threads` threads.
fn array_on<W: Write, T: Serialize + Sync>(
    b: &mut W,
    items: &[T],
    threads: usize,
) -> io::Result<()> {
    if items.is_empty() {
        return put(b, 1, items);
    }
    b.write_all(b"[")?;
    crate::par::write_each(items, threads, b, |i, x, buf| {
        buf.extend_from_slice(if i == 0 { b"\n    " } else { b",\n    " });
        put(buf, 2, x)
    })?;
    b.write_all(b"\n  ]")
}

/// Writes the report and a final line break, the devices and findings
/// serialized on up to `threads` threads.
pub fn write(r: &Report, w: &mut dyn Write, threads: usize) -> io::Result<()> {
    // A buffer of a known type: serde_json writes a few bytes at a time,
    // and through `dyn Write` each would be a call.
    let mut b = io::BufWriter::with_capacity(1 << 16, w);
    if threads <= 1 || r.devices.len() < 2 {
        put(&mut b, 0, r)?;
    } else {
        // The layout `Report`'s derived serialization gives, field by field
        // (a test holds the two to the same bytes).
        b.write_all(b"{\n  \"version\": ")?;
        put(&mut b, 1, &r.version)?;
        b.write_all(b",\n  \"capture\": ")?;
        put(&mut b, 1, &r.capture)?;
        b.write_all(b",\n  \"devices\": ")?;
        array_on(&mut b, &r.devices, threads)?;
        b.write_all(b",\n  \"findings\": ")?;
        array_on(&mut b, &r.findings, threads)?;
        b.write_all(b"\n}")?;
    }
    writeln!(b)?;
    b.flush()
}
