//! Link-layer headers etherparse does not slice: Linux cooked v2 and BSD
//! loopback (and cooked v1, read the same way for one code path).

use super::Mac;
use crate::capture::LinkType;
use crate::proto::cursor::Cursor;

pub(super) struct Cooked<'a> {
    pub src_mac: Option<Mac>,
    pub dst_mac: Option<Mac>,
    pub ether_type: u16,
    pub payload: &'a [u8],
}

const ARPHRD_ETHER: u16 = 1;

/// Linux cooked capture v1 (16-byte header) or v2 (20 bytes).
pub(super) fn linux_cooked(link: LinkType, data: &[u8]) -> Option<Cooked<'_>> {
    let mut c = Cursor::new(data);
    let (ether_type, hatype, addr_len, addr) = if link == LinkType::LINUX_SLL2 {
        let ether_type = c.u16().ok()?;
        c.skip(2 + 4).ok()?; // reserved, interface index
        let hatype = c.u16().ok()?;
        c.skip(1).ok()?; // packet type
        let addr_len = c.u8().ok()? as usize;
        let addr = c.array::<8>().ok()?;
        (ether_type, hatype, addr_len, addr)
    } else {
        c.skip(2).ok()?; // packet type
        let hatype = c.u16().ok()?;
        let addr_len = c.u16().ok()? as usize;
        let addr = c.array::<8>().ok()?;
        let ether_type = c.u16().ok()?;
        (ether_type, hatype, addr_len, addr)
    };
    let src_mac = (hatype == ARPHRD_ETHER && addr_len == 6)
        .then(|| Mac([addr[0], addr[1], addr[2], addr[3], addr[4], addr[5]]));
    Some(Cooked {
        src_mac,
        dst_mac: None,
        ether_type,
        payload: c.rest(),
    })
}

pub(super) enum Family {
    Ipv4,
    Ipv6,
    Other(u32),
}

/// BSD loopback: a 4-byte address family, in the writer's byte order for
/// LINKTYPE_NULL and network order for LINKTYPE_LOOP; both are accepted.
pub(super) fn loopback(data: &[u8]) -> Option<(Family, &[u8])> {
    let mut c = Cursor::new(data);
    let raw: [u8; 4] = c.array().ok()?;
    let family = |v: u32| match v {
        2 => Some(Family::Ipv4),
        // AF_INET6 on the BSDs, macOS and Linux.
        24 | 28 | 30 | 10 => Some(Family::Ipv6),
        _ => None,
    };
    let le = u32::from_le_bytes(raw);
    let fam = family(le)
        .or_else(|| family(u32::from_be_bytes(raw)))
        .unwrap_or(Family::Other(le));
    Some((fam, c.rest()))
}

/// The LLC/SNAP payload of an unprotected 802.11 data frame, with the
/// frame's source and destination addresses (SA and DA, from the DS bits).
pub(super) fn wifi_data(link: LinkType, data: &[u8]) -> Option<Cooked<'_>> {
    use crate::proto::wifi;
    let frame = if link == LinkType::RADIOTAP {
        let rt = wifi::parse_radiotap(data).ok()?;
        if rt.bad_fcs() {
            return None;
        }
        rt.frame_without_fcs()
    } else {
        data
    };
    let d = wifi::parse_dot11(frame).ok()?;
    let (ether_type, payload) = d.llc_payload()?;
    let (da, sa) = match (d.fc.to_ds(), d.fc.from_ds()) {
        (false, false) => (Some(d.addr1), d.addr2),
        (true, false) => (d.addr3, d.addr2),
        (false, true) => (Some(d.addr1), d.addr3),
        (true, true) => (d.addr3, d.addr4),
    };
    Some(Cooked {
        src_mac: sa.map(Mac),
        dst_mac: da.map(Mac),
        ether_type,
        payload,
    })
}
