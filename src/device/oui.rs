//! MAC address vendor lookup from an embedded copy of the IEEE registries.
//!
//! [`vendor`] maps a MAC address to the short name of the organisation its
//! block is assigned to: the longest match of the 36-bit (MA-S, IAB), 28-bit
//! (MA-M) and 24-bit (MA-L) assignments, as the IEEE sub-divides some MA-L
//! blocks. It returns `None` for:
//! - group (multicast, broadcast) addresses: bit 0x01 of the first octet;
//! - locally administered addresses: bit 0x02 of the first octet. These are
//!   set by software (phones' and laptops' private WiFi addresses, virtual
//!   machines, containers), not by a vendor, so their first octets say
//!   nothing about who made the device. The IEEE CID registry lives in this
//!   space and is left out for the same reason;
//! - blocks the table does not name (unassigned, "Private", or a block the
//!   IEEE sub-assigns where this sub-block has no entry).
//!
//! The table is `oui.tsv` beside this file, compiled in with `include_str!`
//! (about 1.5 MB): one `KEY<TAB>NAME` line per assignment, KEY the assignment
//! in 6, 7 or 9 upper-case hex digits, sorted bytewise, after one `#` line
//! naming the source ([`source`]). Lookup is a bounded binary search over
//! those lines (at most [`MAX_STEPS`] halvings per prefix length): no
//! allocation, no start-up parsing, no global state. Names are the IEEE
//! organisation names with whitespace collapsed and trailing legal forms
//! removed ("Apple, Inc." -> "Apple").
//!
//! Updating: `gen_oui.py` beside this file rebuilds `oui.tsv` from the IEEE
//! CSV exports; its docstring says where to find them without the IEEE site
//! (the `oui-data` crate's `data/` folder, or Debian's `ieee-data`).
//!
//! Why not the `oui-data` crate (checked at 0.2.4, 2026-10-17: fresh, covers
//! MA-L, MA-M, MA-S, IAB and CID): its `phf_map!` of 59,000 records adds
//! about 9 MB to a release binary and needs about 1 GB of memory and 20 s
//! to compile, against 1.5 MB and nothing here; we use its CSVs instead.
//!
//! Example (prose): `vendor([0xb8, 0x27, 0xeb, 1, 2, 3])` is
//! `Some("Raspberry Pi Foundation")`; `vendor([0xda, 0xa1, 0x19, 1, 2, 3])`
//! (locally administered) is `None`.

/// The embedded table (see the module doc for its format).
static TABLE: &str = include_str!("oui.tsv");

/// Bound on binary-search steps for one prefix length (the table needs
/// about 21 halvings of its bytes).
pub const MAX_STEPS: usize = 64;

/// Where the embedded table comes from (its first line, without `# source: `).
pub fn source() -> &'static str {
    let first = TABLE.lines().next().unwrap_or("");
    first.strip_prefix("# source: ").unwrap_or(first)
}

/// Bit 0x01 of the first octet: a group (multicast or broadcast) address.
pub fn is_group(mac: [u8; 6]) -> bool {
    mac[0] & 0x01 != 0
}

/// Bit 0x02 of the first octet: a locally administered address.
pub fn is_locally_administered(mac: [u8; 6]) -> bool {
    mac[0] & 0x02 != 0
}

/// The short name of the organisation the MAC's block is assigned to; `None`
/// for group and locally administered addresses and unnamed blocks.
pub fn vendor(mac: [u8; 6]) -> Option<&'static str> {
    if is_group(mac) || is_locally_administered(mac) {
        return None;
    }
    let key = hex9(mac);
    [9, 7, 6]
        .into_iter()
        .find_map(|n| key.get(..n).and_then(lookup))
}

/// The first 36 bits of the address as 9 upper-case hex digits.
fn hex9(mac: [u8; 6]) -> [u8; 9] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut k = [0u8; 9];
    for (i, slot) in k.iter_mut().enumerate() {
        let byte = mac.get(i / 2).copied().unwrap_or(0);
        let nibble = if i % 2 == 0 { byte >> 4 } else { byte & 0x0f };
        *slot = HEX.get(nibble as usize).copied().unwrap_or(b'0');
    }
    k
}

/// Binary search for the line whose key equals `key`.
fn lookup(key: &[u8]) -> Option<&'static str> {
    let t = TABLE.as_bytes();
    // Invariant: lo and hi are line starts (or the end), and a matching line
    // lies within [lo, hi).
    let (mut lo, mut hi) = (0usize, t.len());
    for _ in 0..MAX_STEPS {
        if lo >= hi {
            return None;
        }
        let mid = lo + (hi - lo) / 2;
        let start = t
            .get(lo..mid)?
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(lo, |p| lo + p + 1);
        let end = t
            .get(start..hi)?
            .iter()
            .position(|&b| b == b'\n')
            .map_or(hi, |p| start + p);
        let line = t.get(start..end)?;
        let klen = line.iter().position(|&b| b == b'\t').unwrap_or(line.len());
        match line.get(..klen)?.cmp(key) {
            std::cmp::Ordering::Less => lo = end + 1,
            std::cmp::Ordering::Greater => hi = start,
            std::cmp::Ordering::Equal => return TABLE.get(start + klen + 1..end),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(s: &str) -> [u8; 6] {
        let mut m = [0u8; 6];
        for (slot, part) in m.iter_mut().zip(s.split(':')) {
            *slot = u8::from_str_radix(part, 16).unwrap();
        }
        m
    }

    #[test]
    fn known_ouis() {
        assert_eq!(
            vendor(mac("b8:27:eb:12:34:56")),
            Some("Raspberry Pi Foundation")
        );
        assert_eq!(
            vendor(mac("dc:a6:32:00:00:01")),
            Some("Raspberry Pi Trading")
        );
        assert_eq!(
            vendor(mac("2c:cf:67:00:00:01")),
            Some("Raspberry Pi (Trading)")
        );
        assert_eq!(vendor(mac("50:a6:d8:00:00:00")), Some("Apple"));
        assert_eq!(vendor(mac("00:00:00:00:00:00")), Some("XEROX"));
    }

    #[test]
    fn macs_from_the_captures() {
        // TP-Link HS100 plug (iotsentinel), DHCP client.
        assert_eq!(
            vendor(mac("50:c7:bf:00:fc:a3")),
            Some("TP-LINK TECHNOLOGIES")
        );
        // aircrack test1: beacon BSSID (TP-Link), station.
        assert_eq!(
            vendor(mac("14:cc:20:c1:cb:2c")),
            Some("TP-LINK TECHNOLOGIES")
        );
        // aircrack wps2.0: Alfa adapter.
        assert_eq!(vendor(mac("00:c0:ca:78:b1:37")), Some("ALFA"));
        // meshid capture: ASUS router.
        assert_eq!(vendor(mac("18:31:bf:57:da:1c")), Some("ASUSTek COMPUTER"));
    }

    #[test]
    fn longer_assignments_win() {
        // 8C:1F:64 is an MA-L block the IEEE sub-assigns as MA-S.
        assert_eq!(
            vendor(mac("8c:1f:64:af:a0:00")),
            Some("DATA ELECTRONIC DEVICES")
        );
        // MA-M inside B8:4C:87.
        assert_eq!(vendor(mac("b8:4c:87:40:00:00")), Some("Blum Novotest"));
        // IAB inside 40:D8:55.
        assert_eq!(vendor(mac("40:d8:55:0d:70:00")), Some("Avant Technologies"));
        // The sub-assigning block itself names no vendor.
        assert_eq!(lookup(b"8C1F64"), None);
    }

    #[test]
    fn group_and_local_addresses_are_none() {
        assert_eq!(vendor(mac("01:00:5e:00:00:fb")), None);
        assert_eq!(vendor(mac("ff:ff:ff:ff:ff:ff")), None);
        // b8:27:eb with the local bit set.
        assert_eq!(vendor(mac("ba:27:eb:12:34:56")), None);
        // CID space (EA:27:01 belongs to a company ID) is local too.
        assert_eq!(vendor(mac("ea:27:01:00:00:00")), None);
        assert!(is_locally_administered(mac("02:42:ac:11:00:02")));
        assert!(is_group(mac("33:33:00:00:00:01")));
    }

    #[test]
    fn table_is_sorted_well_formed_and_all_found() {
        let mut lines = TABLE.lines();
        assert!(lines.next().unwrap().starts_with("# source: "));
        assert!(!source().is_empty());
        let mut prev: &str = "";
        let mut n = 0;
        for line in lines {
            let (k, name) = line.split_once('\t').unwrap();
            assert!(matches!(k.len(), 6 | 7 | 9), "{line}");
            assert!(k
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
            assert!(!name.is_empty() && !name.contains('\t'));
            assert!(prev.as_bytes() < k.as_bytes(), "not sorted at {k}");
            assert_eq!(lookup(k.as_bytes()), Some(name), "{k}");
            prev = k;
            n += 1;
        }
        assert!(n > 50_000, "{n} entries");
        assert_eq!(lookup(b"000000X"), None);
        assert_eq!(lookup(b""), None);
        assert_eq!(lookup(b"ZZZZZZ"), None);
    }
}
