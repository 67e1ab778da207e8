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

    proptest::proptest! {
        /// The quick test of the literal ends never refuses what the walk
        /// accepts.
        #[test]
        fn quick_rejects_agree_with_the_walk(pat in "[aB*?.]{1,10}", text in "[abAB.]{0,14}") {
            if let Some(p) = Pattern::new(&pat) {
                let t = text.trim_end_matches('.').as_bytes();
                proptest::prop_assert_eq!(p.matches(&text), walk(p.as_str().as_bytes(), t));
            }
        }

        #[test]
        fn matching_never_panics(pat in "[a-c*?.]{1,12}", text in "[a-c.]{0,16}") {
            if let Some(p) = Pattern::new(&pat) {
                let _ = p.matches(&text);
            }
        }
    }
}
