//! SSH identification strings (RFC 4253 §4.2): the clear-text first line
//! each side sends, `SSH-protoversion-softwareversion SP comments CR LF`.
//!
//! Contract:
//! - Input is the start of one direction of a TCP stream; the fields borrow
//!   from it.
//! - A server may send other lines first (RFC 4253 §4.2); up to
//!   [`MAX_LINES_BEFORE`] are skipped, within the first [`MAX_SCAN`] bytes.
//! - Lax: lines may end in CRLF or a bare LF (old implementations), and a
//!   banner cut short still comes out with [`Banner::complete`] false;
//!   the 255-byte limit of the RFC binds senders and is not enforced.
//! - Lines must be UTF-8 (the RFC asks for printable US-ASCII).
//!
//! Example (prose): `ssh::parse_banner(b"SSH-2.0-OpenSSH_9.6 Ubuntu\r\n")`
//! gives `proto_version "2.0"`, `software "OpenSSH_9.6"`,
//! `comments Some("Ubuntu")`.

use crate::proto::cursor::Cursor;

/// Most lines skipped before the `SSH-` line.
pub const MAX_LINES_BEFORE: usize = 32;
/// Most bytes of the stream looked at.
pub const MAX_SCAN: usize = 8 * 1024;

/// An identification string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Banner<'a> {
    /// `"2.0"`, or `"1.99"` for a server that also speaks SSH-1.
    pub proto_version: &'a str,
    /// E.g. `"OpenSSH_9.6"`, `"dropbear_2022.83"`.
    pub software: &'a str,
    /// What follows the first space, if any.
    pub comments: Option<&'a str>,
    /// Where the `SSH-` line starts in the payload.
    pub offset: usize,
    /// The line's end was seen.
    pub complete: bool,
}

/// Cheap test: the payload starts with `SSH-` and a digit. A server's
/// banner behind other lines is found by [`parse_banner`] only.
pub fn looks_like_banner(payload: &[u8]) -> bool {
    payload
        .strip_prefix(b"SSH-")
        .and_then(|rest| rest.first())
        .is_some_and(u8::is_ascii_digit)
}

/// Finds and splits the identification string; `None` when the first
/// [`MAX_LINES_BEFORE`] + 1 lines hold none.
pub fn parse_banner(payload: &[u8]) -> Option<Banner<'_>> {
    let window = payload.get(..MAX_SCAN).unwrap_or(payload);
    let mut c = Cursor::new(window);
    for _ in 0..=MAX_LINES_BEFORE {
        let offset = c.pos();
        let (line, ended) = c.line()?;
        if let Some(rest) = line.strip_prefix(b"SSH-") {
            return split(std::str::from_utf8(rest).ok()?, offset, ended);
        }
        if !ended {
            return None;
        }
    }
    None
}

/// Splits `protoversion-softwareversion[ comments]`.
fn split(rest: &str, offset: usize, complete: bool) -> Option<Banner<'_>> {
    let (proto_version, rest) = rest.split_once('-')?;
    if proto_version.is_empty() {
        return None;
    }
    let (software, comments) = match rest.split_once(' ') {
        Some((software, comments)) => (software, Some(comments)),
        None => (rest, None),
    };
    Some(Banner {
        proto_version,
        software,
        comments,
        offset,
        complete,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn openssh_banner() {
        let b =
            parse_banner(b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n\x00\x00\x05\xdc").unwrap();
        assert_eq!(b.proto_version, "2.0");
        assert_eq!(b.software, "OpenSSH_9.6p1");
        assert_eq!(b.comments, Some("Ubuntu-3ubuntu13"));
        assert_eq!((b.offset, b.complete), (0, true));
    }

    #[test]
    fn old_and_bare_banners() {
        let b = parse_banner(b"SSH-1.99-Cisco-1.25\n").unwrap();
        assert_eq!(
            (b.proto_version, b.software, b.comments),
            ("1.99", "Cisco-1.25", None)
        );
        let b = parse_banner(b"SSH-2.0-dropbear_2022.8").unwrap();
        assert_eq!(b.software, "dropbear_2022.8");
        assert!(!b.complete);
        assert!(parse_banner(b"SSH-2.0\r\n").is_none());
        assert!(parse_banner(b"SSH--x\r\n").is_none());
        assert!(parse_banner(b"GET / HTTP/1.1\r\n").is_none());
        assert!(parse_banner(b"").is_none());
    }

    #[test]
    fn lines_before_the_banner() {
        let p = b"Welcome to the gateway\r\nAuthorized use only\r\nSSH-2.0-X 1\r\n";
        let b = parse_banner(p).unwrap();
        assert_eq!((b.software, b.comments, b.offset), ("X", Some("1"), 45));
        assert!(!looks_like_banner(p));

        let mut many = "hello\r\n".repeat(MAX_LINES_BEFORE);
        many.push_str("SSH-2.0-late\r\n");
        assert_eq!(
            parse_banner(many.as_bytes()).map(|b| b.software),
            Some("late")
        );
        let too_many = format!("hello\r\n{many}");
        assert!(parse_banner(too_many.as_bytes()).is_none());
        // A cut line that is not the banner ends the search.
        assert!(parse_banner(b"Welcome to").is_none());
    }

    #[test]
    fn cheap_test() {
        assert!(looks_like_banner(b"SSH-2.0-OpenSSH_8.0"));
        assert!(looks_like_banner(b"SSH-1.5-x"));
        assert!(!looks_like_banner(b"SSH-"));
        assert!(!looks_like_banner(b"SSH-x"));
        assert!(!looks_like_banner(b"ssh-2.0"));
    }

    proptest! {
        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_banner(&b);
            let _ = looks_like_banner(&b);
        }

        #[test]
        fn never_panics_textual(s in "([ -~]{0,10}\r?\n){0,3}SSH-[ -~]{0,30}\r?\n?") {
            let _ = parse_banner(s.as_bytes());
        }
    }
}
