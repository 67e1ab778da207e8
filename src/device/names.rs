//! A map from names to values that hashes each name once per message.
//!
//! A DNS message touches a device's names (the name it used and the
//! question it asked, one entry) and its pending transaction; with
//! `HashMap` each hashed the name again. [`NameMap`] is keyed by a hash the caller computes
//! once with [`hash`] (per-process random seed, so names chosen to collide
//! cannot be precomputed), and finds an entry by hash alone when that is
//! all a caller kept (a timed-out query remembers its name's hash).

use hashbrown::HashTable;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

fn state() -> &'static foldhash::fast::FixedState {
    static STATE: OnceLock<foldhash::fast::FixedState> = OnceLock::new();
    STATE.get_or_init(|| {
        let seed = foldhash::fast::RandomState::default().hash_one(0x6567_7265_7373_u64);
        foldhash::fast::FixedState::with_seed(seed)
    })
}

/// The hash [`NameMap`] keys a name by: its bytes, through the hasher
/// straight (`hash_one` of a `str` also fed the hasher a terminator byte
/// and folded it in, a fifth of the hash of a short name; the length is
/// mixed in by the hasher already, and only whole names are hashed).
pub fn hash(name: &str) -> u64 {
    let mut h = state().build_hasher();
    h.write(name.as_bytes());
    h.finish()
}

/// One name, its hash and its value.
#[derive(Debug, Clone)]
pub struct Entry<V> {
    hash: u64,
    name: Box<str>,
    value: V,
}

/// Names to values, each entry keeping its name's hash.
#[derive(Debug, Clone)]
pub struct NameMap<V> {
    table: HashTable<Entry<V>>,
}

impl<V> Default for NameMap<V> {
    fn default() -> Self {
        NameMap {
            table: HashTable::new(),
        }
    }
}

impl<V> NameMap<V> {
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&V> {
        let h = hash(name);
        self.table
            .find(h, |e| e.hash == h && *e.name == *name)
            .map(|e| &e.value)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The value under `name`, whose [`hash`] is `h`.
    pub fn get_mut_hashed(&mut self, h: u64, name: &str) -> Option<&mut V> {
        self.table
            .find_mut(h, |e| e.hash == h && *e.name == *name)
            .map(|e| &mut e.value)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut V> {
        self.get_mut_hashed(hash(name), name)
    }

    /// Some value whose name hashed to `h` and that `accept`s (the caller
    /// kept only the hash).
    pub fn find_by_hash_mut(&mut self, h: u64, accept: impl Fn(&V) -> bool) -> Option<&mut V> {
        self.table
            .find_mut(h, |e| e.hash == h && accept(&e.value))
            .map(|e| &mut e.value)
    }

    /// Keeps the entries for which `keep` (which may change the value)
    /// says so.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &mut V) -> bool) {
        self.table.retain(|e| keep(&e.name, &mut e.value));
    }

    /// The value under `name` (hash `h`), made by `make` when it is new and
    /// fewer than `cap` names are held; `None` when full.
    pub fn get_or_insert_with(
        &mut self,
        h: u64,
        name: &str,
        cap: usize,
        make: impl FnOnce() -> V,
    ) -> Option<&mut V> {
        let full = self.table.len() >= cap;
        match self
            .table
            .entry(h, |e| e.hash == h && *e.name == *name, |e| e.hash)
        {
            hashbrown::hash_table::Entry::Occupied(o) => Some(&mut o.into_mut().value),
            hashbrown::hash_table::Entry::Vacant(_) if full => None,
            hashbrown::hash_table::Entry::Vacant(v) => {
                let e = v.insert(Entry {
                    hash: h,
                    name: name.into(),
                    value: make(),
                });
                Some(&mut e.into_mut().value)
            }
        }
    }

    /// Adds `name` (replacing its value if present).
    pub fn insert(&mut self, name: Box<str>, value: V) {
        let h = hash(&name);
        match self
            .table
            .entry(h, |e| e.hash == h && e.name == name, |e| e.hash)
        {
            hashbrown::hash_table::Entry::Occupied(mut o) => o.get_mut().value = value,
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(Entry {
                    hash: h,
                    name,
                    value,
                });
            }
        }
    }

    /// Joins `other` into this map: a name in both has `other`'s value
    /// joined into this one's by `join`, the other names move in. No name
    /// is hashed again: each entry brings its hash (a shard merge joined a
    /// device's hundreds of names by hashing each twice, over half of the
    /// merge's time).
    pub fn absorb(&mut self, other: NameMap<V>, mut join: impl FnMut(&mut V, V)) {
        for e in other.table {
            match self
                .table
                .entry(e.hash, |x| x.hash == e.hash && x.name == e.name, |x| x.hash)
            {
                hashbrown::hash_table::Entry::Occupied(mut o) => {
                    join(&mut o.get_mut().value, e.value)
                }
                hashbrown::hash_table::Entry::Vacant(v) => {
                    v.insert(e);
                }
            }
        }
    }

    /// Names and values, in no order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.table.iter().map(|e| (&*e.name, &e.value))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&str, &mut V)> {
        self.table.iter_mut().map(|e| (&*e.name, &mut e.value))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.table.iter().map(|e| &*e.name)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.table.iter_mut().map(|e| &mut e.value)
    }
}

impl<V> IntoIterator for NameMap<V> {
    type Item = (Box<str>, V);
    type IntoIter =
        std::iter::Map<hashbrown::hash_table::IntoIter<Entry<V>>, fn(Entry<V>) -> (Box<str>, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.table.into_iter().map(|e| (e.name, e.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_by_name_and_by_hash_and_keeps_the_cap() {
        let mut m: NameMap<u32> = NameMap::default();
        let h = hash("a.example");
        *m.get_or_insert_with(h, "a.example", 2, || 1).unwrap() += 1;
        assert_eq!(m.get("a.example"), Some(&2));
        assert!(m.get_or_insert_with(hash("b"), "b", 2, || 7).is_some());
        assert!(
            m.get_or_insert_with(hash("c"), "c", 2, || 9).is_none(),
            "full"
        );
        assert_eq!(m.len(), 2);
        assert_eq!(m.find_by_hash_mut(h, |_| true).copied(), Some(2));
        assert_eq!(m.find_by_hash_mut(h, |v| *v > 2), None);
        assert!(m.get("c").is_none());
        m.insert("b".into(), 5);
        assert_eq!(m.get("b"), Some(&5));
        m.insert("d".into(), 6);
        m.retain(|n, v| {
            *v += 1;
            n != "d"
        });
        assert!(m.get("d").is_none());
        m.retain(|_, v| {
            *v -= 1;
            true
        });
        let mut all: Vec<_> = m.into_iter().collect();
        all.sort();
        assert_eq!(all, vec![("a.example".into(), 2), ("b".into(), 5)]);
    }

    #[test]
    fn hashes_agree_with_lookups() {
        let mut m: NameMap<()> = NameMap::default();
        for i in 0..1000 {
            let n = format!("host{i}.example.com");
            m.get_or_insert_with(hash(&n), &n, usize::MAX, || ());
        }
        for i in 0..1000 {
            assert!(m.contains_key(&format!("host{i}.example.com")));
        }
        assert!(!m.contains_key("host1000.example.com"));
    }

    #[test]
    fn absorbing_joins_shared_names_and_moves_the_rest() {
        let mut a: NameMap<u32> = NameMap::default();
        let mut b: NameMap<u32> = NameMap::default();
        for (n, v) in [("a.example", 1), ("b.example", 2)] {
            a.insert(n.into(), v);
        }
        for (n, v) in [("b.example", 10), ("c.example", 20)] {
            b.insert(n.into(), v);
        }
        a.absorb(b, |x, y| *x += y);
        let mut got: Vec<(&str, u32)> = a.iter().map(|(n, v)| (n, *v)).collect();
        got.sort();
        assert_eq!(
            got,
            [("a.example", 1), ("b.example", 12), ("c.example", 20)]
        );
        // Found again by name: the moved entries kept their own hashes.
        assert_eq!(a.get("c.example"), Some(&20));
        assert_eq!(
            a.get_mut_hashed(hash("b.example"), "b.example"),
            Some(&mut 12)
        );
    }
}
