//! HTTP/1.x message heads (RFC 9112): the request line and the headers the
//! sensor uses (Host, User-Agent), and the status line of a response (a
//! proxy's reply to CONNECT).
//!
//! Contract:
//! - Input is the start of a TCP stream (or of one message in it); nothing
//!   is copied: every field borrows from the payload.
//! - Lax: a head cut off by the snap length still yields its request line
//!   and every header line that was complete; [`Request::complete`] says
//!   whether the blank line ending the head was seen. Lines may end in CRLF
//!   or a bare LF. Header lines that are not `name: value`, or not UTF-8,
//!   are skipped; obsolete folded continuation lines are ignored.
//! - Header names compare ASCII case-insensitively; values are trimmed of
//!   spaces and tabs.
//!
//! Bounds: only the first [`MAX_HEAD_LEN`] bytes are read, and at most
//! [`MAX_HEADER_LINES`] header lines; a method is at most [`MAX_METHOD_LEN`]
//! bytes.
//!
//! Example (prose): for a client's first payload `p` to port 80,
//! `if http::looks_like_request(p)` then `http::parse_request(p)?.host`
//! is the name the device asked for (`Some("bro.org")`), and
//! `http::host_without_port` drops a `:8080`.

use crate::proto::cursor::Cursor;
use crate::proto::ParseError;

/// Most bytes of a head read.
pub const MAX_HEAD_LEN: usize = 8 * 1024;
/// Most header lines read after the request line.
pub const MAX_HEADER_LINES: usize = 100;
/// Longest method token accepted.
pub const MAX_METHOD_LEN: usize = 16;

/// The methods [`looks_like_request`] recognises (RFC 9110 and PATCH).
pub const METHODS: [&str; 9] = [
    "GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
];

/// Cheap test for the start of a request: a known method and a space.
pub fn looks_like_request(payload: &[u8]) -> bool {
    METHODS.iter().any(|m| {
        payload
            .strip_prefix(m.as_bytes())
            .is_some_and(|rest| rest.first() == Some(&b' '))
    })
}

/// A request head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// Any token, e.g. `"GET"`.
    pub method: &'a str,
    /// The request-target as sent: `/path`, `http://host/path`, or for
    /// CONNECT the authority `name:port`.
    pub target: &'a str,
    /// E.g. `"HTTP/1.1"`; empty or partial when the request line was cut.
    pub version: &'a str,
    /// The host asked for, as sent (case kept, port kept): the authority of
    /// an absolute-form or CONNECT target, else the first Host header.
    pub host: Option<&'a str>,
    /// The first User-Agent header.
    pub user_agent: Option<&'a str>,
    /// The blank line ending the head was seen.
    pub complete: bool,
    /// The header lines read (after the request line).
    head: &'a [u8],
}

impl<'a> Request<'a> {
    /// The header lines that were read, in order.
    pub fn headers(&self) -> Headers<'a> {
        Headers::new(self.head)
    }

    /// The value of the first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

/// Reads a request head. Fails when the request line is not
/// `method SP target SP HTTP/...` (allowing the line to be cut short).
pub fn parse_request(payload: &[u8]) -> Result<Request<'_>, ParseError> {
    let window = payload.get(..MAX_HEAD_LEN).unwrap_or(payload);
    let mut c = Cursor::new(window);
    let (line, ended) = c.line().ok_or(ParseError::Truncated {
        offset: 0,
        needed: 1,
    })?;
    let invalid = |what| ParseError::Invalid { offset: 0, what };
    let line = std::str::from_utf8(line).map_err(|_| invalid("request line is not UTF-8"))?;
    let mut parts = line.splitn(3, ' ');
    let method = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or_default();
    let version = parts.next().unwrap_or_default();
    if method.is_empty() || method.len() > MAX_METHOD_LEN || !method.bytes().all(is_tchar) {
        return Err(invalid("method is not a token"));
    }
    if ended && (target.is_empty() || !version.starts_with("HTTP/")) {
        return Err(invalid("request line is not method, target, version"));
    }

    let mut headers = Headers::new(c.rest());
    let (mut host_header, mut user_agent) = (None, None);
    for (name, value) in headers.by_ref() {
        if name.eq_ignore_ascii_case("host") {
            host_header = host_header.or(Some(value));
        } else if name.eq_ignore_ascii_case("user-agent") {
            user_agent = user_agent.or(Some(value));
        }
    }
    let head = c.bytes(headers.consumed).unwrap_or_default();
    let host = authority(method, target)
        .filter(|a| !a.is_empty())
        .or(host_header)
        .filter(|h| !h.is_empty());
    Ok(Request {
        method,
        target,
        version,
        host,
        user_agent,
        complete: headers.complete,
        head,
    })
}

/// The authority of a CONNECT (authority-form) or absolute-form target.
fn authority<'a>(method: &str, target: &'a str) -> Option<&'a str> {
    if method == "CONNECT" {
        return Some(target);
    }
    let (_, rest) = target.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let auth = rest.get(..end)?;
    Some(auth.rsplit_once('@').map_or(auth, |(_, host)| host))
}

/// `host` without a trailing `:port`; an IPv6 literal loses its brackets
/// (`"[::1]:8080"` gives `"::1"`). Case is kept.
pub fn host_without_port(host: &str) -> &str {
    if let Some(v6) = host.strip_prefix('[') {
        return v6.split_once(']').map_or(v6, |(addr, _)| addr);
    }
    match host.split_once(':') {
        Some((name, port)) if !port.contains(':') => name,
        _ => host,
    }
}

/// A response's status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusLine<'a> {
    /// E.g. `"HTTP/1.1"`.
    pub version: &'a str,
    pub code: u16,
    /// Possibly empty (also when not UTF-8).
    pub reason: &'a str,
}

/// Reads the status line at the start of a response (`HTTP/1.1 200 OK`);
/// `None` when the payload does not start with one.
pub fn parse_response_status(payload: &[u8]) -> Option<StatusLine<'_>> {
    let window = payload.get(..MAX_HEAD_LEN).unwrap_or(payload);
    let (line, _) = Cursor::new(window).line()?;
    let mut parts = line.splitn(3, |&b| b == b' ');
    let version = std::str::from_utf8(parts.next()?).ok()?;
    let code = parts.next()?;
    if !version.starts_with("HTTP/") || code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let code = code.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    let reason = parts
        .next()
        .and_then(|r| std::str::from_utf8(r).ok())
        .unwrap_or_default();
    Some(StatusLine {
        version,
        code,
        reason,
    })
}

/// Iterator over `name: value` header lines; see [`Request::headers`].
/// Stops at the blank line, at a line cut short, or after
/// [`MAX_HEADER_LINES`] lines.
#[derive(Debug, Clone)]
pub struct Headers<'a> {
    c: Cursor<'a>,
    /// Bytes of the complete lines read so far.
    consumed: usize,
    lines: usize,
    /// The blank line was seen.
    complete: bool,
    done: bool,
}

impl<'a> Headers<'a> {
    fn new(block: &'a [u8]) -> Self {
        Headers {
            c: Cursor::new(block),
            consumed: 0,
            lines: 0,
            complete: false,
            done: false,
        }
    }
}

impl<'a> Iterator for Headers<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done && self.lines < MAX_HEADER_LINES {
            self.lines += 1;
            let Some((line, true)) = self.c.line() else {
                // End of input, or a line cut short: ignore it.
                self.done = true;
                break;
            };
            self.consumed = self.c.pos();
            if line.is_empty() {
                self.complete = true;
                self.done = true;
                break;
            }
            if let Some(header) = header(line) {
                return Some(header);
            }
        }
        None
    }
}

/// Splits `name: value`; `None` for folded, malformed or non-UTF-8 lines.
fn header(line: &[u8]) -> Option<(&str, &str)> {
    let line = std::str::from_utf8(line).ok()?;
    let (name, value) = line.split_once(':')?;
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return None;
    }
    Some((name, value.trim_matches([' ', '\t'])))
}

/// A token character (RFC 9110 §5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A head from its lines, CRLF-terminated, with the blank line if `end`.
    fn head(lines: &[&str], end: bool) -> Vec<u8> {
        let mut v = Vec::new();
        for l in lines {
            v.extend_from_slice(l.as_bytes());
            v.extend_from_slice(b"\r\n");
        }
        if end {
            v.extend_from_slice(b"\r\n");
        }
        v
    }

    #[test]
    fn get_with_host_and_user_agent() {
        let mut p = head(
            &[
                "GET /index.html?q=1 HTTP/1.1",
                "host:  Bro.org \t",
                "User-Agent: Wget/1.21",
                "Accept: */*",
                "Host: second.example",
            ],
            true,
        );
        p.extend_from_slice(b"body after the head");
        let r = parse_request(&p).unwrap();
        assert_eq!(
            (r.method, r.target, r.version),
            ("GET", "/index.html?q=1", "HTTP/1.1")
        );
        assert_eq!(r.host, Some("Bro.org"));
        assert_eq!(r.user_agent, Some("Wget/1.21"));
        assert!(r.complete);
        assert_eq!(r.header("ACCEPT"), Some("*/*"));
        assert_eq!(r.header("cookie"), None);
        assert_eq!(r.headers().count(), 4);
    }

    #[test]
    fn connect_and_absolute_targets_name_the_host() {
        let p = head(
            &["CONNECT api.example.com:443 HTTP/1.1", "Host: other"],
            true,
        );
        let r = parse_request(&p).unwrap();
        assert_eq!(r.target, "api.example.com:443");
        assert_eq!(r.host, Some("api.example.com:443"));
        assert_eq!(r.host.map(host_without_port), Some("api.example.com"));

        let p = head(
            &["GET http://user@fw.example:8080/x?y HTTP/1.0", "Host: x"],
            true,
        );
        let r = parse_request(&p).unwrap();
        assert_eq!(r.host, Some("fw.example:8080"));
        assert_eq!(r.version, "HTTP/1.0");

        // CONNECT cut before its target falls back to the Host header: none here.
        let r = parse_request(b"CONNECT ").unwrap();
        assert_eq!((r.method, r.target, r.host), ("CONNECT", "", None));
    }

    #[test]
    fn cut_heads_keep_what_was_complete() {
        let r = parse_request(b"GET /a HTTP/1.1\r\nHost: cam.local\r\nUser-Ag").unwrap();
        assert_eq!(r.host, Some("cam.local"));
        assert_eq!(r.user_agent, None);
        assert!(!r.complete);
        assert_eq!(r.headers().count(), 1);

        let r = parse_request(b"POST /api/v1/very/lo").unwrap();
        assert_eq!(
            (r.method, r.target, r.version),
            ("POST", "/api/v1/very/lo", "")
        );
        assert!(!r.complete && r.host.is_none());

        // A cut header line is not taken, even if it looks whole.
        let r = parse_request(b"GET / HTTP/1.1\r\nHost: exam").unwrap();
        assert_eq!(r.host, None);
    }

    #[test]
    fn lax_lines() {
        let p = b"GET / HTTP/1.1\nX-Folded: a\n  b\nnot a header\nHost:x.example\n\n";
        let r = parse_request(p).unwrap();
        assert_eq!(r.host, Some("x.example"));
        assert!(r.complete);
        assert_eq!(r.headers().count(), 2);
        assert_eq!(r.header("x-folded"), Some("a"));
    }

    #[test]
    fn header_lines_are_capped() {
        let mut lines = vec!["GET / HTTP/1.1".to_string()];
        lines.extend((0..150).map(|i| format!("X-{i}: {i}")));
        lines.push("Host: late.example".into());
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let p = head(&lines, true);
        let r = parse_request(&p).unwrap();
        assert_eq!(r.host, None);
        assert!(!r.complete);
        assert_eq!(r.headers().count(), MAX_HEADER_LINES);

        // Beyond MAX_HEAD_LEN nothing is read.
        let mut p = b"GET / HTTP/1.1\r\nX-Pad: ".to_vec();
        p.resize(MAX_HEAD_LEN + 10, b'a');
        p.extend_from_slice(b"\r\nHost: h\r\n\r\n");
        let r = parse_request(&p).unwrap();
        assert_eq!((r.host, r.complete), (None, false));
    }

    #[test]
    fn not_requests() {
        assert!(parse_request(b"GET /\r\n\r\n").is_err());
        assert!(parse_request(b"\x16\x03\x01\x02\x00 x y\r\n").is_err());
        assert!(parse_request(b"G(T / HTTP/1.1\r\n").is_err());
        assert!(matches!(
            parse_request(b""),
            Err(ParseError::Truncated { .. })
        ));
        assert!(looks_like_request(b"GET / HTTP/1.1"));
        assert!(looks_like_request(b"PATCH /x"));
        assert!(looks_like_request(b"OPTIONS * HTTP/1.1"));
        assert!(!looks_like_request(b"GETX / HTTP/1.1"));
        assert!(!looks_like_request(b"get / HTTP/1.1"));
        assert!(!looks_like_request(b"GET"));
        assert!(!looks_like_request(b"HTTP/1.1 200 OK"));
    }

    #[test]
    fn status_lines() {
        let s = parse_response_status(b"HTTP/1.1 200 Connection established\r\n\r\n").unwrap();
        assert_eq!(
            (s.version, s.code, s.reason),
            ("HTTP/1.1", 200, "Connection established")
        );
        let s = parse_response_status(b"HTTP/1.0 407 Proxy Authentication Required\r\n").unwrap();
        assert_eq!(s.code, 407);
        let s = parse_response_status(b"HTTP/1.1 204\r\n").unwrap();
        assert_eq!((s.code, s.reason), (204, ""));
        assert!(parse_response_status(b"HTTP/1.1 20").is_none());
        assert!(parse_response_status(b"HTTP/1.1 2x0 OK").is_none());
        assert!(parse_response_status(b"SSH-2.0-OpenSSH_9.6\r\n").is_none());
        assert!(parse_response_status(b"").is_none());
    }

    #[test]
    fn hosts_without_ports() {
        assert_eq!(host_without_port("example.com:8080"), "example.com");
        assert_eq!(host_without_port("example.com"), "example.com");
        assert_eq!(host_without_port("[2001:db8::1]:443"), "2001:db8::1");
        assert_eq!(host_without_port("[::1]"), "::1");
        assert_eq!(host_without_port("2001:db8::1"), "2001:db8::1");
        assert_eq!(host_without_port(""), "");
    }

    proptest! {
        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(r) = parse_request(&b) {
                let _ = r.headers().count();
                let _ = r.host.map(host_without_port);
            }
            let _ = parse_response_status(&b);
            let _ = looks_like_request(&b);
        }

        #[test]
        fn never_panics_textual(s in "(GET|CONNECT|HTTP/1.1) [ -~]{0,40}(\r?\n[ -~]{0,30}){0,8}") {
            if let Ok(r) = parse_request(s.as_bytes()) {
                let _ = r.header("host");
                let _ = r.host.map(host_without_port);
            }
            let _ = parse_response_status(s.as_bytes());
        }
    }
}
