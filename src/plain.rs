//! Numbers and addresses written as `Display` writes them, without the
//! formatting machinery: the text report and the findings write them by
//! the thousand. A proptest holds each writer to `Display`.

use std::io::{self, Write};

/// `n` in decimal, as `{n}` writes it, in the end of `buf`.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[at..]
}

/// Writes `n` in decimal, as `{n}` does, without the formatting machinery
/// (the text report writes numbers by the thousand).
pub fn write_u64(w: &mut impl Write, n: u64) -> io::Result<()> {
    w.write_all(decimal(n, &mut [0; 20]))
}

/// Appends `n` in decimal to `s` (see [`write_u64`]).
pub fn push_u64(s: &mut String, n: u64) {
    for &d in decimal(n, &mut [0; 20]) {
        s.push(char::from(d));
    }
}

/// Appends an address to `s` (see [`write_ip`]).
pub fn push_ip(s: &mut String, ip: &std::net::IpAddr) {
    match ip {
        std::net::IpAddr::V4(a) => {
            for (i, o) in a.octets().into_iter().enumerate() {
                if i > 0 {
                    s.push('.');
                }
                push_u64(s, u64::from(o));
            }
        }
        std::net::IpAddr::V6(_) => {
            use std::fmt::Write as _;
            let _ = write!(s, "{ip}");
        }
    }
}

/// Writes an address as `{ip}` does; IPv4 without the formatting
/// machinery, IPv6 (with its zero-run rules) through it.
pub fn write_ip(w: &mut impl Write, ip: &std::net::IpAddr) -> io::Result<()> {
    match ip {
        std::net::IpAddr::V4(a) => {
            for (i, o) in a.octets().into_iter().enumerate() {
                if i > 0 {
                    w.write_all(b".")?;
                }
                write_u64(w, u64::from(o))?;
            }
            Ok(())
        }
        std::net::IpAddr::V6(_) => write!(w, "{ip}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::IpAddr;

    fn written(f: impl Fn(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut v = Vec::new();
        f(&mut v).unwrap();
        String::from_utf8(v).unwrap()
    }

    proptest! {
        /// The text report's number and address writers write what
        /// `Display` writes.
        #[test]
        fn writers_match_display(n in any::<u64>(), v4 in any::<u32>(), v6 in any::<u128>()) {
            prop_assert_eq!(written(|w| write_u64(w, n)), n.to_string());
            let mut pushed = String::from("x");
            push_u64(&mut pushed, n);
            prop_assert_eq!(pushed, format!("x{n}"));
            for ip in [IpAddr::from(v4.to_be_bytes()), IpAddr::from(v6.to_be_bytes())] {
                prop_assert_eq!(written(|w| write_ip(w, &ip)), ip.to_string());
                let mut pushed = String::new();
                push_ip(&mut pushed, &ip);
                prop_assert_eq!(pushed, ip.to_string());
            }
        }
    }

    #[test]
    fn writers_at_the_edges() {
        for n in [0, 9, 10, 99, 100, u64::MAX] {
            assert_eq!(written(|w| write_u64(w, n)), n.to_string());
        }
        for ip in [
            "0.0.0.0",
            "255.255.255.255",
            "10.0.0.1",
            "::",
            "::ffff:1.2.3.4",
            "fe80::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(written(|w| write_ip(w, &ip)), ip.to_string());
        }
    }
}
