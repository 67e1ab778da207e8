//! Name patterns and address ranges used by profiles.
//!
//! A [`Pattern`] is a case-insensitive glob: `*` matches any run of
//! characters (dots included, so `*.clock-software.com` matches
//! `api.clock-software.com` and `a.b.clock-software.com`, never the bare
//! `clock-software.com`), `?` matches one character, everything else
//! matches itself. Matching is the classic two-pointer walk with one
//! backtrack point: O(len(pattern) × len(text)) at worst, both capped at
//! [`MAX_PATTERN`] and the 253-octet DNS name limit.
//!
//! A [`Net`] is an IPv4 or IPv6 prefix such as `172.17.0.0/16`.

use std::net::IpAddr;

/// Longest pattern accepted.
pub const MAX_PATTERN: usize = 255;

/// A case-insensitive glob over names, hostnames and client ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: Box<str>,
    /// The literal ends, found once: a report matches every name of every
    /// device against every profile's name signals, and most names are
    /// told apart from most patterns by a few bytes at one end.
    ends: Ends,
}

/// What a text must start and end with to match, whatever the wildcards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ends {
    /// No wildcard: the text equals the pattern.
    Literal,
    /// Bytes before the first wildcard, and (after the last `*`, when no
    /// `?` follows it) the offset of the literal tail.
    Glob { head: usize, tail: Option<usize> },
}

impl Ends {
    fn of(p: &[u8]) -> Ends {
        let Some(head) = p.iter().position(|&c| c == b'*' || c == b'?') else {
            return Ends::Literal;
        };
        let tail = p
            .iter()
            .rposition(|&c| c == b'*')
            .map(|last| last + 1)
            .filter(|&t| !p[t..].contains(&b'?'));
        Ends::Glob { head, tail }
    }
}

impl Pattern {
    /// A pattern from profile text; `None` when empty or too long.
    pub fn new(text: &str) -> Option<Pattern> {
        let t = text.trim().trim_end_matches('.');
        if t.is_empty() || t.len() > MAX_PATTERN {
            return None;
        }
        let text: Box<str> = t.to_ascii_lowercase().into();
        let ends = Ends::of(text.as_bytes());
        Some(Pattern { text, ends })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when the pattern has no wildcard.
    pub fn is_literal(&self) -> bool {
        self.ends == Ends::Literal
    }

    /// True when `text` matches, ignoring ASCII case and a trailing dot.
    pub fn matches(&self, text: &str) -> bool {
        let t = text.trim_end_matches('.').as_bytes();
        let p = self.text.as_bytes();
        // The pattern is lowercase: ignoring case both sides is comparing
        // the text's lowercase with it.
        match self.ends {
            Ends::Literal => t.eq_ignore_ascii_case(p),
            Ends::Glob { head, tail } => {
                t.len() >= head
                    && t[..head].eq_ignore_ascii_case(&p[..head])
                    && tail.is_none_or(|at| {
                        let tail = &p[at..];
                        t.len() >= tail.len()
                            && t[t.len() - tail.len()..].eq_ignore_ascii_case(tail)
                    })
                    && walk(p, t)
            }
        }
    }
}

/// The glob walk itself: `p` (lowercase) against `t`, ignoring ASCII case.
fn walk(p: &[u8], t: &[u8]) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        let tc = t[ti].to_ascii_lowercase();
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&pc) if pc == b'?' || pc == tc => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi.min(p.len())..].iter().all(|&c| c == b'*')
}

/// Many patterns tried against one text at once, for a text that most
/// patterns do not match: a report tries every name of every device
/// against every profile's name signals (62,000 names and 15 patterns on
/// the site mix), and a name is told apart from most patterns by its last
/// bytes. Each pattern that ends in literal text is filed under that
/// text's last (up to) 8 bytes; a text is tried in full only against the
/// patterns filed under its own last bytes, and against those with no
/// literal end (`cemm*`, `zap??`).
#[derive(Debug, Clone, Default)]
pub struct PatternIndex {
    patterns: Vec<Pattern>,
    /// (key length, key, pattern id), sorted.
    keyed: Vec<(usize, u64, usize)>,
    /// The key lengths in `keyed`, each once, ascending, with a filter
    /// of their keys: one bit each (see [`filter_bit`]), so most texts are
    /// refused without a search.
    key_lens: Vec<(usize, u64)>,
    /// Patterns with no literal end.
    loose: Vec<usize>,
}

/// Bytes of a literal end a pattern is filed under.
const KEY_BYTES: usize = 8;

/// The last `n` (at most [`KEY_BYTES`]) bytes of `t`, lowercase, as one
/// integer (big-endian: the last byte lowest).
fn tail_key(t: &[u8], n: usize) -> u64 {
    let at = t.len() - n;
    let key = match t[at..].try_into() {
        Ok(last) => u64::from_be_bytes(last),
        // Shorter than the whole key (a short literal end).
        Err(_) => t[at..].iter().fold(0, |k, &c| k << 8 | u64::from(c)),
    };
    ascii_lower(key)
}

/// Each byte of `x` as `u8::to_ascii_lowercase` makes it, all at once.
fn ascii_lower(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low7 = x & !HIGH;
    // High bit set in a byte when its low 7 bits are >= 'A', and when
    // they are > 'Z' (no carry crosses bytes: each sum stays below 0x100).
    let from_a = low7 + ONES * u64::from(0x80 - b'A');
    let past_z = low7 + ONES * u64::from(0x80 - b'Z' - 1);
    // Upper case: at least 'A', at most 'Z', and ASCII.
    let upper = from_a & !past_z & !x & HIGH;
    x | upper >> 2
}

/// The bit a key sets in its length's filter.
fn filter_bit(key: u64) -> u64 {
    1 << (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58)
}

impl PatternIndex {
    /// Adds `p` (once: a pattern equal to one added before gets that one's
    /// id) and gives its id, the order of first addition from 0.
    pub fn add(&mut self, p: &Pattern) -> usize {
        if let Some(id) = self.patterns.iter().position(|q| q == p) {
            return id;
        }
        let id = self.patterns.len();
        let text = p.text.as_bytes();
        let tail = match p.ends {
            Ends::Literal => Some(text),
            Ends::Glob { tail, .. } => tail.map(|at| &text[at..]),
        };
        match tail.filter(|t| !t.is_empty()) {
            Some(t) => {
                let n = t.len().min(KEY_BYTES);
                let key = tail_key(t, n);
                let at = self.keyed.partition_point(|e| *e < (n, key, id));
                self.keyed.insert(at, (n, key, id));
                let at = self.key_lens.partition_point(|e| e.0 < n);
                match self.key_lens.get_mut(at) {
                    Some(e) if e.0 == n => e.1 |= filter_bit(key),
                    _ => self.key_lens.insert(at, (n, filter_bit(key))),
                }
            }
            None => self.loose.push(id),
        }
        self.patterns.push(p.clone());
        id
    }

    /// How many distinct patterns were added.
    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Calls `hit` with the id of every pattern that matches `text` (as
    /// [`Pattern::matches`] decides), each once, in no set order.
    pub fn matching(&self, text: &str, mut hit: impl FnMut(usize)) {
        let t = text.trim_end_matches('.').as_bytes();
        for &(n, filter) in &self.key_lens {
            if t.len() < n {
                break;
            }
            let key = tail_key(t, n);
            if filter & filter_bit(key) == 0 {
                continue;
            }
            let from = self.keyed.partition_point(|e| (e.0, e.1) < (n, key));
            for &(_, _, id) in self.keyed[from..]
                .iter()
                .take_while(|e| (e.0, e.1) == (n, key))
            {
                if self.patterns[id].matches(text) {
                    hit(id);
                }
            }
        }
        for &id in &self.loose {
            if self.patterns[id].matches(text) {
                hit(id);
            }
        }
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// An IP prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    pub addr: IpAddr,
    pub len: u8,
}

impl Net {
    /// Parses `a.b.c.d/n` or `v6/n`; a bare address is a host prefix. The
    /// address is reduced to its network.
    pub fn parse(text: &str) -> Option<Net> {
        let (a, l) = match text.trim().split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text.trim(), None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            Some(l) => l.parse::<u8>().ok().filter(|n| *n <= max)?,
            None => max,
        };
        Some(Net {
            addr: mask(addr, len),
            len,
        })
    }

    /// The network holding `addr` with a prefix of `len` bits.
    pub fn of(addr: IpAddr, len: u8) -> Net {
        Net {
            addr: mask(addr, len),
            len,
        }
    }

    pub fn contains(&self, ip: &IpAddr) -> bool {
        ip.is_ipv4() == self.addr.is_ipv4() && mask(*ip, self.len) == self.addr
    }

    /// True when the two prefixes share an address.
    pub fn overlaps(&self, other: &Net) -> bool {
        self.contains(&other.addr) || other.contains(&self.addr)
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

fn mask(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let m = u32::MAX
                .checked_shl(32 - u32::from(len.min(32)))
                .unwrap_or(0);
            IpAddr::V4((u32::from(a) & m).into())
        }
        IpAddr::V6(a) => {
            let m = u128::MAX
                .checked_shl(128 - u32::from(len.min(128)))
                .unwrap_or(0);
            IpAddr::V6((u128::from(a) & m).into())
        }
    }
}

/// A MAC prefix of 24, 28 or 36 bits (an IEEE MA-L, MA-M or MA-S block).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MacPrefix {
    pub value: u64,
    pub bits: u8,
}

impl MacPrefix {
    /// Parses hex digits with optional `:`/`-` separators: 6, 7 or 9 digits.
    pub fn parse(text: &str) -> Option<MacPrefix> {
        let digits: String = text
            .chars()
            .filter(|c| !matches!(c, ':' | '-' | '.'))
            .collect();
        if !matches!(digits.len(), 6 | 7 | 9) || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        Some(MacPrefix {
            value: u64::from_str_radix(&digits, 16).ok()?,
            bits: (digits.len() * 4) as u8,
        })
    }

    pub fn matches(&self, mac: [u8; 6]) -> bool {
        let m = mac.iter().fold(0u64, |a, b| a << 8 | u64::from(*b));
        m >> (48 - u32::from(self.bits)) == self.value
    }
}

impl std::fmt::Display for MacPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hex = format!("{:0w$x}", self.value, w = usize::from(self.bits / 4));
        let mut out = String::new();
        for (i, c) in hex.chars().enumerate() {
            if i > 0 && i % 2 == 0 {
                out.push(':');
            }
            out.push(c);
        }
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        Pattern::new(s).unwrap()
    }

    #[test]
    fn globs() {
        assert!(p("*.clock-software.com").matches("api.clock-software.com"));
        assert!(p("*.clock-software.com").matches("A.B.Clock-Software.com."));
        assert!(!p("*.clock-software.com").matches("clock-software.com"));
        assert!(!p("*.clock-software.com").matches("evilclock-software.com"));
        assert!(p("clockrpi-*").matches("clockrpi-a407a36985b48965"));
        assert!(!p("clockrpi-*").matches("clockrpi"));
        assert!(p("zap??").matches("ZAP12"));
        assert!(!p("zap??").matches("zap123"));
        assert!(p("*a*b*").matches("xxaxxbxx"));
        assert!(!p("*a*b").matches("xxaxxbxxc"));
        assert!(p("exact.name").is_literal());
        assert!(Pattern::new("").is_none());
    }

    #[test]
    fn nets() {
        let n = Net::parse("172.17.0.0/16").unwrap();
        assert!(n.contains(&"172.17.5.20".parse().unwrap()));
        assert!(!n.contains(&"172.18.0.1".parse().unwrap()));
        assert!(n.overlaps(&Net::parse("172.16.0.0/12").unwrap()));
        assert!(n.overlaps(&Net::parse("172.17.5.0/24").unwrap()));
        assert!(!n.overlaps(&Net::parse("192.168.50.0/24").unwrap()));
        assert_eq!(Net::parse("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(Net::parse("fd00::1/8").unwrap().to_string(), "fd00::/8");
        assert!(Net::parse("10.0.0.0/33").is_none());
        assert!(Net::parse("banana").is_none());
        assert_eq!(
            Net::of("0.0.0.0".parse().unwrap(), 0).to_string(),
            "0.0.0.0/0"
        );
    }

    #[test]
    fn mac_prefixes() {
        let m = MacPrefix::parse("3c:dc:03:1").unwrap();
        assert_eq!(m.bits, 28);
        assert!(m.matches([0x3c, 0xdc, 0x03, 0x1a, 0xbc, 0x01]));
        assert!(!m.matches([0x3c, 0xdc, 0x03, 0x2a, 0xbc, 0x01]));
        assert_eq!(m.to_string(), "3c:dc:03:1");
        assert!(MacPrefix::parse("b8-27-eb")
            .unwrap()
            .matches([0xb8, 0x27, 0xeb, 0, 0, 1]));
        assert!(MacPrefix::parse("b8:27").is_none());
        assert!(MacPrefix::parse("zz:zz:zz").is_none());
    }

    #[test]
    fn an_index_finds_what_each_pattern_matches() {
        let mut ix = PatternIndex::default();
        let pats = [
            "*.clock-software.com",
            "api.zaptec.com",
            "cemm*",
            "zap??",
            "*",
            "a",
            "*.knx.org",
            "api.zaptec.com",
        ];
        let ids: Vec<usize> = pats.iter().map(|s| ix.add(&p(s))).collect();
        assert_eq!(ids, [0, 1, 2, 3, 4, 5, 6, 1]);
        assert_eq!(ix.len(), 7);
        let got = |text: &str| {
            let mut v = Vec::new();
            ix.matching(text, |id| v.push(id));
            v.sort();
            v
        };
        assert_eq!(got("Ruby-Gems.Clock-Software.COM."), [0, 4]);
        assert_eq!(got("API.zaptec.com"), [1, 4]);
        assert_eq!(got("cemm-01"), [2, 4]);
        assert_eq!(got("zap12"), [3, 4]);
        assert_eq!(got("A"), [4, 5]);
        assert_eq!(got("update.knx.org"), [4, 6]);
        assert_eq!(got("knx.org"), [4]);
    }

    #[test]
    fn lowercase_eight_bytes_at_once() {
        for x in [
            *b"AZaz@[`{",
            *b"\x80\xc1\xdaZ.Com",
            [0x41, 0x5a, 0xc1, 0xda, 0xff, 0x00, 0x7f, 0x5b],
        ] {
            let mut want = x;
            want.make_ascii_lowercase();
            assert_eq!(ascii_lower(u64::from_be_bytes(x)).to_be_bytes(), want);
        }
    }

    proptest::proptest! {
        /// Eight bytes lowercase at once as one at a time.
        #[test]
        fn lowercase_agrees_bytewise(x in proptest::prelude::any::<u64>()) {
            let mut want = x.to_be_bytes();
            want.make_ascii_lowercase();
            proptest::prop_assert_eq!(ascii_lower(x).to_be_bytes(), want);
        }

        /// The quick test of the literal ends never refuses what the walk
        /// accepts.
        #[test]
        fn quick_rejects_agree_with_the_walk(pat in "[aB*?.]{1,10}", text in "[abAB.]{0,14}") {
            if let Some(p) = Pattern::new(&pat) {
                let t = text.trim_end_matches('.').as_bytes();
                proptest::prop_assert_eq!(p.matches(&text), walk(p.as_str().as_bytes(), t));
            }
        }

        /// An index finds exactly the patterns that match, one by one.
        #[test]
        fn an_index_agrees_with_each_pattern(pats in proptest::collection::vec("[aB*?.]{1,11}", 1..8), text in "[abAB.]{0,14}") {
            let mut ix = PatternIndex::default();
            let mut all: Vec<Pattern> = Vec::new();
            for s in &pats {
                if let Some(q) = Pattern::new(s) {
                    proptest::prop_assert_eq!(ix.add(&q), all.iter().position(|x| *x == q).unwrap_or(all.len()));
                    if !all.contains(&q) {
                        all.push(q);
                    }
                }
            }
            let mut got = Vec::new();
            ix.matching(&text, |id| got.push(id));
            got.sort();
            let want: Vec<usize> = (0..all.len()).filter(|&i| all[i].matches(&text)).collect();
            proptest::prop_assert_eq!(got, want);
        }

        #[test]
        fn matching_never_panics(pat in "[a-c*?.]{1,12}", text in "[a-c.]{0,16}") {
            if let Some(p) = Pattern::new(&pat) {
                let _ = p.matches(&text);
            }
        }
    }
}
