//! DNS and mDNS: the questions each device asked, how they were answered,
//! and the per-client cache that names later flows.
//!
//! A response's A and AAAA records are cached under the name the client
//! asked for (following the CNAME chain from the question), not the CDN
//! name at the end of the chain, with the record's TTL in capture time.

use super::{AppLayer, PendingDns, MAX_CACHE_CLIENTS, MAX_CACHE_PER_CLIENT, MAX_PENDING_DNS};
use crate::capture::Nanos;
use crate::decode::Mac;
use crate::device::facts::{insert_sorted, push_evidence, source, DnsQuestion, Facts};
use crate::device::names;
use crate::device::Fast;
use crate::device::Inventory;
use crate::flow::FrameRef;
use crate::proto::dns::{self, Name, RData};
use std::collections::hash_map::Entry;
use std::net::IpAddr;
use std::sync::Arc;

/// CNAME links followed from a question, at most.
const MAX_CHAIN: usize = 16;
/// Addresses kept per question.
const MAX_ADDRESSES: usize = 16;

/// Where a DNS message travelled.
pub(super) struct Path {
    pub src_mac: Option<Mac>,
    pub dst_mac: Option<Mac>,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub mdns: bool,
}

/// One DNS message (a UDP payload, or one message of a TCP stream).
pub(super) fn on_message(
    app: &mut AppLayer,
    bytes: &[u8],
    path: &Path,
    ts: Nanos,
    frame: FrameRef,
    inv: &mut Inventory,
) {
    let proto = if path.mdns { "mdns" } else { "dns" };
    let msg = match dns::parse(bytes) {
        Ok(m) => m,
        Err(_) => {
            app.count(proto, false);
            return;
        }
    };
    let h = msg.header;
    // The question belongs to the client: the sender of a query, the
    // receiver of a response; for mDNS, whoever sent it.
    let (client_mac, client, server, client_port) = if !h.qr || path.mdns {
        (path.src_mac, path.src, path.dst, path.sport)
    } else {
        (path.dst_mac, path.dst, path.src, path.dport)
    };
    let mut ok = true;
    let mut first_q: Option<(Name<'_>, u64)> = None;
    // Questions after the first overwrite the scratch name.
    let mut rewrite = false;
    let src_bit = if path.mdns { source::MDNS } else { source::DNS };
    let mut questions = msg.questions();
    // The client's facts, looked up at the first question read and kept
    // for the rest of the message.
    let mut facts = None;
    // A DNS message of one question (all but every one) has its name
    // noted where its question is looked up: one probe of the client's
    // names for both. Any other notes its first name here.
    let mut name_pending = !path.mdns && h.qdcount == 1;
    match questions.next() {
        Some(Ok(q)) => {
            let h = note_question(&mut app.scratch, &q, None, src_bit);
            facts = Some(inv.facts_for(client_mac, client));
            if !name_pending {
                if let Some(f) = facts.as_mut().and_then(|f| f.as_deref_mut()) {
                    f.note_name_hashed(h, &app.scratch, src_bit);
                }
            }
            first_q = Some((q.name, h));
            for q in &mut questions {
                let Ok(q) = q else {
                    ok = false;
                    break;
                };
                let f = facts.as_mut().and_then(|f| f.as_deref_mut());
                note_question(&mut app.scratch, &q, f, src_bit);
                rewrite = true;
            }
        }
        Some(Err(_)) => ok = false,
        None => {}
    }
    let Some((qname, hash)) = first_q.filter(|_| !path.mdns) else {
        app.count(proto, ok);
        return;
    };
    if rewrite {
        app.scratch.clear();
        qname.write_to(&mut app.scratch);
    }
    let key = (client, server, client_port, h.id);
    let sent = PendingDns {
        ts,
        client_mac,
        name_hash: hash,
    };
    let new = !h.qr && add_pending(app, key, sent);
    let qname_str = app.scratch.as_str();
    if !h.qr {
        // A first question was read, so the facts were looked up.
        if let Some(q) = facts
            .flatten()
            .and_then(|f| question(f, qname_str, hash, ts, name_pending.then_some(src_bit)))
        {
            if new {
                q.queries += 1;
            }
            insert_sorted(&mut q.servers, server, 4);
            push_evidence(&mut q.evidence, frame);
        }
        app.count(proto, ok);
        return;
    }
    // A response: cache the addresses under the name asked for.
    // The device is the one whose query this answers: its MAC as the query
    // showed it (a response may be sent to a group address).
    let pending = app.pending_dns.remove(&key);
    let late = pending.is_none() && take_timed_out(&mut app.timed_out_dns, &key);
    let matched = pending.is_some();
    let query_mac = pending.map_or(client_mac, |p| p.client_mac);
    let facts = if query_mac == client_mac {
        facts.flatten()
    } else {
        // Another device asked: the client's name is noted in its facts,
        // the question goes to the asker's.
        if let Some(f) = facts.flatten().filter(|_| name_pending) {
            f.note_name_hashed(hash, qname_str, src_bit);
        }
        name_pending = false;
        inv.facts_for(query_mac, client)
    };
    let mut addresses = [IpAddr::from([0u8; 4]); MAX_ADDRESSES];
    let mut n_addr = 0;
    let mut answers = Answers {
        records: msg.answers_after(questions),
        chain: smallvec::smallvec![qname],
        ok: true,
    };
    if let Some(first) = answers.next_address() {
        // The name every address of this response is cached under, made
        // once; the client's cache, looked up once.
        let mut shared: Option<Arc<str>> = None;
        let mut per_client = client_cache(&mut app.cache, client);
        let mut next = Some(first);
        while let Some((addr, ttl)) = next {
            if n_addr < MAX_ADDRESSES {
                addresses[n_addr] = addr;
                n_addr += 1;
            }
            match per_client.as_deref_mut() {
                Some(c) => c.insert(
                    addr,
                    (qname_str, &mut shared),
                    ts,
                    ttl,
                    &mut app.cache_dropped,
                ),
                None => app.cache_dropped += 1,
            }
            next = answers.next_address();
        }
    }
    ok &= answers.ok;
    if let Some(q) =
        facts.and_then(|f| question(f, qname_str, hash, ts, name_pending.then_some(src_bit)))
    {
        // Every response is tallied by rcode (as tshark counts them); a
        // transaction is answered once, in time or late. A response whose
        // query the capture never saw answers one only while no query for
        // the name was seen (the capture began after it, or the mirror is
        // one-way); a duplicate answers nothing more.
        q.rcodes.add(h.rcode);
        if late {
            q.late += 1;
        } else if matched || q.queries == 0 {
            q.answered += 1;
            q.queries = q.queries.max(q.answered);
        }
        for a in &addresses[..n_addr] {
            insert_sorted(&mut q.addresses, *a, MAX_ADDRESSES);
        }
        if h.rcode != 0 {
            push_evidence(&mut q.evidence, frame);
        }
    }
    app.count(proto, ok);
}

/// The question `name` (hash `hash`) in `f`, created if there is room;
/// with `name_src`, the name is noted too, with that source, in the same
/// lookup.
fn question<'f>(
    f: &'f mut Facts,
    name: &str,
    hash: u64,
    ts: Nanos,
    name_src: Option<u8>,
) -> Option<&'f mut DnsQuestion> {
    match name_src {
        Some(src) => f.name_and_question(hash, name, src, ts),
        None => f.dns_question(name, hash, ts),
    }
}

/// A response's answers, read for the addresses of the name asked for.
struct Answers<'a> {
    records: dns::Records<'a>,
    /// The name asked for and the CNAME targets followed from it (at most
    /// [`MAX_CHAIN`]; held in place up to four, which is all but always).
    chain: smallvec::SmallVec<[Name<'a>; 4]>,
    /// False once a malformed record ended the answers.
    ok: bool,
}

impl Answers<'_> {
    /// The next A or AAAA record of a name in the chain: its address and
    /// TTL (the CNAMEs on the way join the chain).
    fn next_address(&mut self) -> Option<(IpAddr, u32)> {
        loop {
            let Ok(r) = self.records.next()? else {
                self.ok = false;
                return None;
            };
            if !self.chain.iter().any(|n| n.same_as(&r.name)) {
                continue;
            }
            match r.data {
                RData::Cname(target) if self.chain.len() < MAX_CHAIN => self.chain.push(target),
                RData::A(a) => return Some((IpAddr::V4(a), r.ttl)),
                RData::Aaaa(a) => return Some((IpAddr::V6(a), r.ttl)),
                _ => {}
            }
        }
    }
}

/// Writes the question's name into `scratch` and notes it among the
/// client's names (when it has facts); returns the name's hash.
fn note_question(
    scratch: &mut String,
    q: &dns::Question<'_>,
    facts: Option<&mut Facts>,
    src_bit: u8,
) -> u64 {
    scratch.clear();
    q.name.write_to(scratch);
    let h = names::hash(scratch);
    if let Some(f) = facts {
        f.note_name_hashed(h, scratch, src_bit);
    }
    h
}

/// A query sent: waits for its response unless one under its key already
/// does (or the table is full, counted as dropped). True unless one did.
fn add_pending(app: &mut AppLayer, key: TxKey, p: PendingDns) -> bool {
    // One lookup: the table is full or not before it.
    let room = app.pending_dns.len() < MAX_PENDING_DNS;
    let was_empty = app.pending_dns.is_empty();
    match app.pending_dns.entry(key) {
        Entry::Occupied(_) => false,
        Entry::Vacant(v) if room => {
            v.insert(p);
            if was_empty || p.ts < app.pending_soonest {
                app.pending_soonest = p.ts;
            }
            true
        }
        Entry::Vacant(_) => {
            app.pending_dropped += 1;
            true
        }
    }
}

/// Takes one timed-out transaction under `key`, if any.
fn take_timed_out(timed_out: &mut TimedOut, key: &TxKey) -> bool {
    match timed_out.get_mut(key) {
        Some((_, n)) if *n > 1 => {
            *n -= 1;
            true
        }
        Some(_) => timed_out.remove(key).is_some(),
        None => false,
    }
}

/// Per client address: resolved address → (name asked for, expiry).
pub(super) type Cache = std::collections::HashMap<IpAddr, ClientCache, Fast>;

/// One client's resolved addresses.
#[derive(Debug, Default)]
pub(super) struct ClientCache {
    pub(super) names: std::collections::HashMap<IpAddr, (Arc<str>, Nanos), Fast>,
    /// When expired entries were last purged: a full cache is purged at
    /// most once per second of capture time, so a response with thousands
    /// of records into a full cache costs one pass, not one per record.
    purged: Nanos,
}

impl ClientCache {
    pub(super) fn get(&self, addr: &IpAddr) -> Option<&(Arc<str>, Nanos)> {
        self.names.get(addr)
    }
}

/// A DNS transaction: (client, server, client port, id).
pub(super) type TxKey = (IpAddr, IpAddr, u16, u16);

/// Timed-out transactions by (client, server, client port, id).
pub(super) type TimedOut = std::collections::HashMap<TxKey, (PendingDns, u32), Fast>;

/// The client's cache, made if there is room for one more client.
fn client_cache(cache: &mut Cache, client: IpAddr) -> Option<&mut ClientCache> {
    if cache.len() >= MAX_CACHE_CLIENTS {
        return cache.get_mut(&client);
    }
    Some(cache.entry(client).or_default())
}

impl ClientCache {
    /// Caches `addr` under `name` until `ts` + `ttl` seconds; `shared`
    /// holds the name as the cache keeps it once one address needed it.
    fn insert(
        &mut self,
        addr: IpAddr,
        (name, shared): (&str, &mut Option<Arc<str>>),
        ts: Nanos,
        ttl: u32,
        dropped: &mut u64,
    ) {
        let mut arc = || shared.get_or_insert_with(|| Arc::from(name)).clone();
        let expires = ts.saturating_add(ttl as Nanos * 1_000_000_000);
        if self.names.len() < MAX_CACHE_PER_CLIENT {
            // Room for a new address: one lookup.
            match self.names.entry(addr) {
                Entry::Occupied(mut o) => {
                    let e = o.get_mut();
                    if &*e.0 == name {
                        e.1 = e.1.max(expires);
                    } else {
                        *e = (arc(), expires);
                    }
                }
                Entry::Vacant(v) => {
                    v.insert((arc(), expires));
                }
            }
            return;
        }
        match self.names.get_mut(&addr) {
            Some(e) if &*e.0 == name => e.1 = e.1.max(expires),
            Some(e) => *e = (arc(), expires),
            None => {
                if ts >= self.purged.saturating_add(1_000_000_000) {
                    // Make room by forgetting what has expired; else count it.
                    self.names.retain(|_, (_, exp)| *exp >= ts);
                    self.purged = ts;
                }
                if self.names.len() < MAX_CACHE_PER_CLIENT {
                    self.names.insert(addr, (arc(), expires));
                } else {
                    *dropped += 1;
                }
            }
        }
    }
}

/// Forgets every cached answer that expired before `now`, and clients left
/// with none.
pub(super) fn purge_expired(cache: &mut Cache, now: Nanos) {
    cache.retain(|_, c| {
        c.names.retain(|_, (_, exp)| *exp >= now);
        !c.names.is_empty()
    });
}

/// Queries sent before `before` and not answered are unanswered; they are
/// remembered a while for a late answer.
pub(super) fn expire(app: &mut AppLayer, before: Nanos, inv: &mut Inventory) {
    let forget = before.saturating_sub(super::DNS_LATE_WINDOW);
    if !app.timed_out_dns.is_empty() && app.timed_out_soonest < forget {
        let mut soonest = Nanos::MAX;
        app.timed_out_dns.retain(|_, (p, _)| {
            let keep = p.ts >= forget;
            if keep {
                soonest = soonest.min(p.ts);
            }
            keep
        });
        app.timed_out_soonest = soonest;
    }
    if app.pending_dns.is_empty() || app.pending_soonest >= before {
        // Nothing waiting was sent before `before`: a walk would keep all.
        return;
    }
    let mut gone = Vec::new();
    let mut soonest = Nanos::MAX;
    app.pending_dns.retain(|key, p| {
        if p.ts < before {
            gone.push((*key, *p));
            false
        } else {
            soonest = soonest.min(p.ts);
            true
        }
    });
    app.pending_soonest = soonest;
    for (key, p) in gone {
        let was_empty = app.timed_out_dns.is_empty();
        let kept = if let Some((last, n)) = app.timed_out_dns.get_mut(&key) {
            (*last, *n) = (p, *n + 1);
            true
        } else if app.timed_out_dns.len() < MAX_PENDING_DNS {
            app.timed_out_dns.insert(key, (p, 1));
            true
        } else {
            false
        };
        if kept && (was_empty || p.ts < app.timed_out_soonest) {
            app.timed_out_soonest = p.ts;
        }
        if let Some(f) = inv.facts_for(p.client_mac, key.0) {
            if let Some(q) = f.names.question_by_hash_mut(p.name_hash) {
                q.unanswered += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    const S: Nanos = 1_000_000_000;

    /// What happens to the transactions: a query under key `k` at `t`
    /// seconds, an answer to `k`, or the sweep at `t` seconds.
    #[derive(Debug, Clone)]
    enum Op {
        Query(u8, u16),
        Answer(u8),
        Expire(u16),
    }

    fn key(k: u8) -> TxKey {
        (
            IpAddr::from([10, 0, 0, k % 4]),
            IpAddr::from([10, 0, 0, 53]),
            5353,
            u16::from(k),
        )
    }

    /// The tables as they were kept before the queues: every expiry a
    /// walk of both.
    #[derive(Default)]
    struct Walked {
        pending: HashMap<TxKey, Nanos>,
        timed_out: HashMap<TxKey, (Nanos, u32)>,
    }

    impl Walked {
        fn expire(&mut self, before: Nanos) {
            let forget = before.saturating_sub(super::super::DNS_LATE_WINDOW);
            self.timed_out.retain(|_, (ts, _)| *ts >= forget);
            let gone: Vec<(TxKey, Nanos)> = self
                .pending
                .iter()
                .filter(|(_, ts)| **ts < before)
                .map(|(k, ts)| (*k, *ts))
                .collect();
            for (k, ts) in gone {
                self.pending.remove(&k);
                let e = self.timed_out.entry(k).or_insert((ts, 0));
                *e = (ts, e.1 + 1);
            }
        }
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..12, 0u16..2000).prop_map(|(k, t)| Op::Query(k, t)),
            (0u8..12).prop_map(Op::Answer),
            (0u16..2000).prop_map(Op::Expire),
        ]
    }

    proptest! {
        #[test]
        fn expiry_keeps_what_a_walk_of_the_tables_kept(ops in proptest::collection::vec(op(), 0..200)) {
            let mut app = AppLayer::default();
            let mut inv = Inventory::default();
            let mut walked = Walked::default();
            for op in ops {
                match op {
                    Op::Query(k, t) => {
                        let ts = Nanos::from(t) * S;
                        let p = PendingDns { ts, client_mac: None, name_hash: 0 };
                        add_pending(&mut app, key(k), p);
                        walked.pending.entry(key(k)).or_insert(ts);
                    }
                    Op::Answer(k) => {
                        let k = key(k);
                        let late = app.pending_dns.remove(&k).is_none()
                            && take_timed_out(&mut app.timed_out_dns, &k);
                        let was_late = walked.pending.remove(&k).is_none()
                            && match walked.timed_out.get_mut(&k) {
                                Some((_, n)) if *n > 1 => { *n -= 1; true }
                                Some(_) => walked.timed_out.remove(&k).is_some(),
                                None => false,
                            };
                        prop_assert_eq!(late, was_late);
                    }
                    Op::Expire(t) => {
                        let before = Nanos::from(t) * S;
                        expire(&mut app, before, &mut inv);
                        walked.expire(before);
                    }
                }
                let pending: HashMap<TxKey, Nanos> =
                    app.pending_dns.iter().map(|(k, p)| (*k, p.ts)).collect();
                let timed_out: HashMap<TxKey, (Nanos, u32)> =
                    app.timed_out_dns.iter().map(|(k, (p, n))| (*k, (p.ts, *n))).collect();
                prop_assert_eq!(&pending, &walked.pending);
                prop_assert_eq!(&timed_out, &walked.timed_out);
            }
        }
    }
}
