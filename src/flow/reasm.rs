//! Bounded reassembly of the first bytes of ONE direction of a TCP stream.
//!
//! The app-layer parsers want a stream prefix, not packets: a ClientHello
//! split over two segments, a server's certificate flight over four, an HTTP
//! head, an MQTT CONNECT. [`StreamBuf`] collects the first `limit` bytes of
//! one direction, whatever order the segments arrive in, and hands back the
//! in-order prefix received so far ([`StreamBuf::contiguous`]).
//!
//! Contract and bounds:
//! - offsets are taken relative to `isn`, the sequence number of the first
//!   payload byte (the SYN's sequence number + 1, or the first segment seen
//!   when the handshake was missed), with 32-bit wraparound: a segment is
//!   placed by the signed distance `seq - isn`, so the stream may cross 2^32;
//! - bytes before the start are clipped, bytes at or past `limit` are clipped
//!   (`limit` itself is capped at [`MAX_LIMIT`]);
//! - retransmissions and overlaps: the FIRST copy of a byte wins, later
//!   copies of it are ignored;
//! - at most [`MAX_SEGMENTS`] separate pieces are kept beyond the in-order
//!   prefix; a segment that would need one more is dropped (reported as
//!   [`Insert::TooManyGaps`]) and must be retransmitted to be kept;
//! - memory: nothing is allocated until a segment must be kept; the buffer
//!   then grows to the highest offset held, never past `limit`.
//!   [`StreamBuf::release`] frees it once the caller has what it needs.
//!
//! Fast path (no copy at all): most prefixes the sensor wants fit in the
//! first segment. When [`StreamBuf::is_empty`] holds and a segment starts at
//! [`StreamBuf::isn`], the caller should first parse that packet's payload
//! directly; only if the parser says it needs more bytes does it call
//! [`StreamBuf::insert`] (which then allocates) and parse
//! [`StreamBuf::contiguous`] on later segments.
//!
//! Example, in prose: `let mut sb = StreamBuf::new(syn_seq.wrapping_add(1),
//! 4096);` then for each client segment `if sb.insert(seq, payload)` is
//! `Insert::Advanced { .. }`, run `client_hello_len(sb.contiguous())`; when it
//! reports the hello complete, parse it and call `sb.release()`.

/// Most separate pieces kept beyond the in-order prefix.
pub const MAX_SEGMENTS: usize = 16;

/// Largest `limit` a [`StreamBuf`] accepts (larger values are capped).
pub const MAX_LIMIT: usize = 1 << 20;

/// What [`StreamBuf::insert`] did with a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    /// The in-order prefix grew; it is now `contiguous` bytes long.
    Advanced { contiguous: usize },
    /// New bytes were kept beyond a hole; the prefix did not grow.
    Buffered,
    /// Nothing new: every byte was already held, or lies before the start.
    Duplicate,
    /// Nothing kept: the segment starts at or past the limit.
    BeyondLimit,
    /// Dropped: keeping it would exceed [`MAX_SEGMENTS`] separate pieces.
    TooManyGaps,
    /// Ignored: the buffer was released.
    Released,
}

/// The first `limit` bytes of one direction of a TCP stream.
#[derive(Debug, Clone)]
pub struct StreamBuf {
    isn: u32,
    limit: u32,
    /// Length of the in-order prefix: `buf[..contig]` is valid.
    contig: u32,
    /// Empty until a segment must be kept; never longer than `limit`.
    buf: Vec<u8>,
    /// Held pieces beyond the prefix: sorted, disjoint, not touching each
    /// other nor the prefix (every start is > `contig`).
    pieces: [(u32, u32); MAX_SEGMENTS],
    npieces: usize,
    released: bool,
}

impl StreamBuf {
    /// A buffer for the stream whose first payload byte has sequence number
    /// `isn`, keeping at most `limit` bytes (capped at [`MAX_LIMIT`]).
    /// Allocates nothing.
    pub fn new(isn: u32, limit: usize) -> Self {
        StreamBuf {
            isn,
            // MAX_LIMIT fits in u32.
            limit: limit.min(MAX_LIMIT) as u32,
            contig: 0,
            buf: Vec::new(),
            pieces: [(0, 0); MAX_SEGMENTS],
            npieces: 0,
            released: false,
        }
    }

    /// Sequence number of the first stream byte.
    pub fn isn(&self) -> u32 {
        self.isn
    }

    /// Most bytes this buffer keeps.
    pub fn limit(&self) -> usize {
        self.limit as usize
    }

    /// Sequence number of the first byte missing from the in-order prefix.
    pub fn next_seq(&self) -> u32 {
        self.isn.wrapping_add(self.contig)
    }

    /// True when nothing at all is held (the fast path still applies).
    pub fn is_empty(&self) -> bool {
        self.contig == 0 && self.npieces == 0
    }

    /// True when the in-order prefix has reached the limit.
    pub fn is_full(&self) -> bool {
        self.contig >= self.limit
    }

    /// True once [`StreamBuf::release`] was called.
    pub fn is_released(&self) -> bool {
        self.released
    }

    /// Pieces held beyond a hole (at most [`MAX_SEGMENTS`]).
    pub fn pending_pieces(&self) -> usize {
        self.npieces
    }

    /// The in-order prefix of the stream received so far.
    pub fn contiguous(&self) -> &[u8] {
        self.buf.get(..self.contig as usize).unwrap_or(&[])
    }

    /// Frees the buffer; later inserts return [`Insert::Released`].
    pub fn release(&mut self) {
        self.buf = Vec::new();
        self.contig = 0;
        self.npieces = 0;
        self.released = true;
    }

    /// Adds a segment whose first byte has sequence number `seq`.
    pub fn insert(&mut self, seq: u32, data: &[u8]) -> Insert {
        if self.released {
            return Insert::Released;
        }
        // Signed distance from the stream start, modulo 2^32 (RFC 9293
        // sequence arithmetic); i64 so that adding the length cannot overflow.
        let rel = i64::from(seq.wrapping_sub(self.isn) as i32);
        let len = i64::try_from(data.len()).unwrap_or(i64::MAX);
        let end = rel.saturating_add(len);
        if end <= 0 {
            return Insert::Duplicate;
        }
        let limit = i64::from(self.limit);
        if rel >= limit {
            return Insert::BeyondLimit;
        }
        let start = rel.max(0);
        let end = end.min(limit);
        // 0 <= start < end <= limit <= MAX_LIMIT: these fit in u32 and usize.
        let (s, e) = (start as u32, end as u32);
        let skip = (start - rel) as usize;
        let Some(data) = data.get(skip..skip + (e - s) as usize) else {
            return Insert::Duplicate;
        };
        if e <= self.contig {
            return Insert::Duplicate;
        }
        let lo = s.max(self.contig);
        let pieces = self.pieces;
        let held = pieces.get(..self.npieces).unwrap_or(&[]);

        // Pieces that overlap or touch [lo, e) merge with it; if none does
        // and it does not touch the prefix, it needs a slot of its own.
        let touches = |&(ps, pe): &(u32, u32)| ps <= e && pe >= lo;
        if lo > self.contig && self.npieces >= MAX_SEGMENTS && !held.iter().any(touches) {
            return Insert::TooManyGaps;
        }

        // Copy only the bytes not held yet: the first copy wins.
        let mut wrote = false;
        let mut p = lo;
        for &(ps, pe) in held {
            if pe <= p {
                continue;
            }
            if ps >= e {
                break;
            }
            if ps > p {
                wrote |= self.copy_part(data, s, p, ps);
            }
            p = pe;
        }
        if p < e {
            wrote |= self.copy_part(data, s, p, e);
        }
        if !wrote {
            return Insert::Duplicate;
        }

        // Union [lo, e) into the piece list. Pieces are sorted and do not
        // touch, so one pass finds every piece the new range absorbs.
        let mut merged = (lo, e);
        let mut out = [(0u32, 0u32); MAX_SEGMENTS];
        let mut n = 0;
        for &(ps, pe) in held {
            if ps <= merged.1 && pe >= merged.0 {
                merged = (merged.0.min(ps), merged.1.max(pe));
            } else if let Some(slot) = out.get_mut(n) {
                *slot = (ps, pe);
                n += 1;
            }
        }
        let advanced = merged.0 <= self.contig;
        if advanced {
            // Every other piece starts after the prefix, hence after `merged`.
            self.contig = merged.1;
        } else {
            // Checked above: there is room for one more piece.
            let at = out
                .get(..n)
                .unwrap_or(&[])
                .partition_point(|&(ps, _)| ps < merged.0);
            if let Some(tail) = out.get_mut(at..=n) {
                tail.rotate_right(1);
                if let Some(first) = tail.first_mut() {
                    *first = merged;
                }
                n += 1;
            }
        }
        self.pieces = out;
        self.npieces = n;

        if advanced {
            Insert::Advanced {
                contiguous: self.contig as usize,
            }
        } else {
            Insert::Buffered
        }
    }

    /// Copies stream bytes `[from, to)` out of `data`, which starts at
    /// stream offset `s`. Returns whether anything was written.
    fn copy_part(&mut self, data: &[u8], s: u32, from: u32, to: u32) -> bool {
        match data.get((from - s) as usize..(to - s) as usize) {
            Some(bytes) if !bytes.is_empty() => {
                self.write(from, bytes);
                true
            }
            _ => false,
        }
    }

    /// Writes `bytes` at stream offset `at`, growing the buffer (never past
    /// `limit`: callers clip to it).
    fn write(&mut self, at: u32, bytes: &[u8]) {
        let at = at as usize;
        let end = at + bytes.len();
        if self.buf.len() < end {
            if self.buf.capacity() < end {
                // Grow geometrically, but never reserve beyond the limit.
                let want = end.max((self.buf.capacity() * 2).min(self.limit as usize));
                self.buf.reserve_exact(want - self.buf.len());
            }
            self.buf.resize(end, 0);
        }
        if let Some(dst) = self.buf.get_mut(at..end) {
            dst.copy_from_slice(bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn stream(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + 3) as u8).collect()
    }

    #[test]
    fn in_order_segments_build_the_prefix() {
        let s = stream(300);
        let mut b = StreamBuf::new(1000, 1000);
        assert!(b.is_empty());
        assert_eq!(b.contiguous(), b"");
        assert_eq!(
            b.insert(1000, &s[..100]),
            Insert::Advanced { contiguous: 100 }
        );
        assert_eq!(
            b.insert(1100, &s[100..250]),
            Insert::Advanced { contiguous: 250 }
        );
        assert_eq!(
            b.insert(1250, &s[250..]),
            Insert::Advanced { contiguous: 300 }
        );
        assert_eq!(b.contiguous(), &s[..]);
        assert_eq!(b.next_seq(), 1300);
        assert!(!b.is_full());
    }

    #[test]
    fn out_of_order_waits_for_the_hole() {
        let s = stream(300);
        let mut b = StreamBuf::new(5, 1000);
        assert_eq!(b.insert(205, &s[200..]), Insert::Buffered);
        assert_eq!(b.insert(105, &s[100..200]), Insert::Buffered);
        assert_eq!(b.pending_pieces(), 1, "adjacent pieces merge");
        assert_eq!(b.contiguous(), b"");
        assert!(!b.is_empty());
        assert_eq!(b.insert(5, &s[..100]), Insert::Advanced { contiguous: 300 });
        assert_eq!(b.contiguous(), &s[..]);
        assert_eq!(b.pending_pieces(), 0);
    }

    #[test]
    fn retransmissions_are_duplicates() {
        let s = stream(200);
        let mut b = StreamBuf::new(0, 1000);
        b.insert(0, &s[..100]);
        assert_eq!(b.insert(0, &s[..100]), Insert::Duplicate);
        assert_eq!(b.insert(50, &s[50..100]), Insert::Duplicate);
        b.insert(150, &s[150..]);
        assert_eq!(b.insert(150, &s[150..]), Insert::Duplicate);
        assert_eq!(b.insert(160, &s[160..170]), Insert::Duplicate);
        assert_eq!(
            b.insert(100, &s[100..]),
            Insert::Advanced { contiguous: 200 }
        );
        assert_eq!(b.contiguous(), &s[..]);
        assert_eq!(b.insert(10, b""), Insert::Duplicate);
    }

    #[test]
    fn overlaps_keep_the_first_copy() {
        let mut b = StreamBuf::new(0, 100);
        b.insert(4, b"EFGH");
        // Overlaps the held piece on both sides and differs inside it.
        assert_eq!(b.insert(2, b"cdxxxxij"), Insert::Buffered);
        assert_eq!(b.insert(0, b"abZZ"), Insert::Advanced { contiguous: 10 });
        assert_eq!(b.contiguous(), b"abcdEFGHij");
        // Overlapping the prefix end: only the new tail is taken.
        assert_eq!(b.insert(8, b"QQkl"), Insert::Advanced { contiguous: 12 });
        assert_eq!(b.contiguous(), b"abcdEFGHijkl");
    }

    #[test]
    fn a_piece_bridging_two_holes() {
        let mut b = StreamBuf::new(0, 100);
        b.insert(2, b"c");
        b.insert(5, b"f");
        b.insert(8, b"i");
        assert_eq!(b.pending_pieces(), 3);
        assert_eq!(b.insert(1, b"BCDEFGHIJ"), Insert::Buffered);
        assert_eq!(b.pending_pieces(), 1);
        assert_eq!(b.insert(0, b"a"), Insert::Advanced { contiguous: 10 });
        assert_eq!(b.contiguous(), b"aBcDEfGHiJ");
    }

    #[test]
    fn sequence_numbers_wrap() {
        let s = stream(100);
        let isn = u32::MAX - 29; // 30 bytes before the wrap
        let mut b = StreamBuf::new(isn, 1000);
        assert_eq!(b.insert(20, &s[50..]), Insert::Buffered); // seq wrapped: offset 50
        assert_eq!(
            b.insert(isn, &s[..50]),
            Insert::Advanced { contiguous: 100 }
        );
        assert_eq!(b.contiguous(), &s[..]);
        assert_eq!(b.next_seq(), 70);
        // A segment starting before the isn is clipped to the stream start.
        let mut b = StreamBuf::new(3, 1000);
        assert_eq!(
            b.insert(u32::MAX - 1, b"xxxxxabc"),
            Insert::Advanced { contiguous: 3 }
        );
        assert_eq!(b.contiguous(), b"abc");
        assert_eq!(b.insert(u32::MAX - 1, b"xxxx"), Insert::Duplicate);
    }

    #[test]
    fn the_limit_clips() {
        let s = stream(100);
        let mut b = StreamBuf::new(0, 60);
        assert_eq!(b.insert(70, &s[70..]), Insert::BeyondLimit);
        assert_eq!(b.insert(50, &s[50..]), Insert::Buffered);
        assert_eq!(b.insert(0, &s[..50]), Insert::Advanced { contiguous: 60 });
        assert!(b.is_full());
        assert_eq!(b.contiguous(), &s[..60]);
        assert!(b.buf.capacity() <= 60);
        assert_eq!(b.insert(60, &s[60..]), Insert::BeyondLimit);
        assert_eq!(StreamBuf::new(0, usize::MAX).limit(), MAX_LIMIT);
    }

    #[test]
    fn too_many_gaps_drop_new_pieces_only() {
        let mut b = StreamBuf::new(0, 1000);
        for i in 0..MAX_SEGMENTS as u32 {
            assert_eq!(b.insert(10 + i * 10, b"x"), Insert::Buffered);
        }
        assert_eq!(b.insert(500, b"y"), Insert::TooManyGaps);
        // Growing an existing piece still works.
        assert_eq!(b.insert(11, b"z"), Insert::Buffered);
        assert_eq!(b.pending_pieces(), MAX_SEGMENTS);
        // Extending the prefix frees nothing but is always accepted.
        assert_eq!(
            b.insert(0, b"0123456789"),
            Insert::Advanced { contiguous: 12 }
        );
        assert_eq!(b.pending_pieces(), MAX_SEGMENTS - 1);
    }

    #[test]
    fn allocation_is_lazy_and_release_frees() {
        let mut b = StreamBuf::new(0, 4096);
        assert_eq!(b.buf.capacity(), 0);
        assert_eq!(b.insert(5000, b"far"), Insert::BeyondLimit);
        assert_eq!(b.buf.capacity(), 0);
        b.insert(0, b"hello");
        assert!(b.buf.capacity() >= 5);
        b.release();
        assert_eq!(b.buf.capacity(), 0);
        assert!(b.is_released());
        assert_eq!(b.insert(5, b"more"), Insert::Released);
        assert_eq!(b.contiguous(), b"");
    }

    proptest! {
        #[test]
        fn any_order_reassembles_the_prefix(
            len in 1usize..3000,
            cuts in proptest::collection::vec(any::<u16>(), 0..40),
            order in proptest::collection::vec(any::<u32>(), 0..40),
            dups in proptest::collection::vec((any::<u16>(), 1u16..400), 0..10),
            limit in 1usize..4000,
            isn in any::<u32>(),
        ) {
            let s = stream(len);
            let mut points: Vec<usize> = cuts.iter().map(|&c| c as usize % len).collect();
            points.push(0);
            points.push(len);
            points.sort_unstable();
            points.dedup();
            let mut segs: Vec<(usize, usize)> = points.windows(2).map(|w| (w[0], w[1])).collect();
            // Overlapping retransmissions of the same bytes.
            for &(at, n) in &dups {
                let a = at as usize % len;
                segs.push((a, (a + n as usize).min(len)));
            }
            // Shuffle deterministically from `order`.
            for (i, &r) in order.iter().enumerate() {
                let n = segs.len();
                segs.swap(i % n, r as usize % n);
            }
            let mut b = StreamBuf::new(isn, limit);
            for &(a, z) in &segs {
                b.insert(isn.wrapping_add(a as u32), &s[a..z]);
                let c = b.contiguous();
                prop_assert!(c.len() <= limit);
                prop_assert_eq!(c, &s[..c.len()]);
            }
            // Segments dropped for too many gaps come again (retransmitted).
            for &(a, z) in &segs {
                b.insert(isn.wrapping_add(a as u32), &s[a..z]);
            }
            prop_assert_eq!(b.contiguous(), &s[..len.min(limit)]);
            prop_assert_eq!(b.pending_pieces(), 0);
        }

        #[test]
        fn random_inserts_never_panic(
            segs in proptest::collection::vec((any::<u32>(), proptest::collection::vec(any::<u8>(), 0..64)), 0..64),
            isn in any::<u32>(),
            limit in 0usize..2000,
        ) {
            let mut b = StreamBuf::new(isn, limit);
            for (seq, data) in &segs {
                b.insert(*seq, data);
                b.insert(isn.wrapping_add(*seq % 2048), data);
                prop_assert!(b.contiguous().len() <= limit);
                prop_assert!(b.pending_pieces() <= MAX_SEGMENTS);
            }
        }
    }
}
