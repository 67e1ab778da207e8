//! The flow table's index: slot numbers by key hash, open addressing with
//! linear probing over 8-byte entries.
//!
//! Each entry holds 32 bits of its flow's hash beside the slot number, so
//! a lookup reads one cache line of the index (eight entries) and touches
//! only the flow whose hash matches, where a hash table of bare slot
//! numbers read a control line and a bucket line apart. Growing rehashes
//! from the stored bits alone, without reading any flow.
//!
//! Removal shifts the entries behind the removed one back (no tombstones),
//! so a probe always ends at the first empty entry.

/// An empty entry.
const EMPTY: u64 = 0;

/// The part of a flow's hash the index keeps.
#[inline]
fn fragment(h: u64) -> u32 {
    (h >> 32) as u32
}

/// Slot numbers of live flows, found by their key's hash.
#[derive(Debug, Default)]
pub struct SlotIndex {
    /// `fragment << 32 | slot + 1`, or [`EMPTY`]. A power of two long (or
    /// empty).
    entries: Vec<u64>,
    len: usize,
    /// `32 - log2(entries.len())`: the home of a fragment is its top bits
    /// after a multiplicative mix.
    shift: u32,
}

impl SlotIndex {
    /// An index for `n` slots without growing.
    pub fn with_capacity(n: usize) -> Self {
        let mut ix = SlotIndex::default();
        if n > 0 {
            ix.resize(Self::capacity_for(n));
        }
        ix
    }

    /// Entries for `n` slots at most half full.
    fn capacity_for(n: usize) -> usize {
        (n.saturating_mul(2)).next_power_of_two().max(8)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn clear(&mut self) {
        self.entries.fill(EMPTY);
        self.len = 0;
    }

    #[inline]
    fn mask(&self) -> usize {
        self.entries.len().wrapping_sub(1)
    }

    #[inline]
    fn home(&self, frag: u32) -> usize {
        // Fibonacci hashing: the top bits of the product depend on every
        // bit of the fragment.
        (frag.wrapping_mul(0x9e37_79b9) >> self.shift) as usize
    }

    /// The slot whose entry has hash `h` and for which `is` holds (the
    /// caller compares the flow's key).
    #[inline]
    pub fn find(&self, h: u64, mut is: impl FnMut(u32) -> bool) -> Option<u32> {
        if self.entries.is_empty() {
            return None;
        }
        let frag = fragment(h);
        let mask = self.mask();
        let mut i = self.home(frag);
        loop {
            let e = *self.entries.get(i)?;
            if e == EMPTY {
                return None;
            }
            if (e >> 32) as u32 == frag {
                let slot = (e as u32).wrapping_sub(1);
                if is(slot) {
                    return Some(slot);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds `slot` under hash `h` (not already present).
    pub fn insert(&mut self, h: u64, slot: u32) {
        if (self.len + 1) * 2 > self.entries.len() {
            let cap = Self::capacity_for(self.len + 1);
            self.resize(cap);
        }
        self.place(u64::from(fragment(h)) << 32 | u64::from(slot.wrapping_add(1)));
        self.len += 1;
    }

    /// Puts an entry in the first empty place from its home.
    fn place(&mut self, entry: u64) {
        let mask = self.mask();
        let mut i = self.home((entry >> 32) as u32);
        while let Some(e) = self.entries.get_mut(i) {
            if *e == EMPTY {
                *e = entry;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    fn resize(&mut self, cap: usize) {
        let old = std::mem::replace(&mut self.entries, vec![EMPTY; cap]);
        self.shift = 32 - cap.trailing_zeros();
        for e in old.into_iter().filter(|&e| e != EMPTY) {
            self.place(e);
        }
    }

    /// Removes `slot`, whose hash is `h`. Returns whether it was there.
    pub fn remove(&mut self, h: u64, slot: u32) -> bool {
        if self.entries.is_empty() {
            return false;
        }
        let want = u64::from(fragment(h)) << 32 | u64::from(slot.wrapping_add(1));
        let mask = self.mask();
        let mut i = self.home(fragment(h));
        loop {
            match self.entries.get(i) {
                Some(&e) if e == want => break,
                Some(&EMPTY) | None => return false,
                Some(_) => i = (i + 1) & mask,
            }
        }
        // Backward shift: each later entry of the run moves into the hole
        // when its home is not between the hole and itself.
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let e = match self.entries.get(j) {
                Some(&e) if e != EMPTY => e,
                _ => break,
            };
            let home = self.home((e >> 32) as u32);
            // Distance from home to j, and from home to the hole, along
            // the probe direction.
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(hole) & mask) {
                self.entries[hole] = e;
                hole = j;
            }
        }
        self.entries[hole] = EMPTY;
        self.len -= 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// Hashes that share a fragment, or a home, or both.
    fn h(frag: u32, low: u32) -> u64 {
        u64::from(frag) << 32 | u64::from(low)
    }

    #[test]
    fn finds_what_it_holds_and_only_by_the_check() {
        let mut ix = SlotIndex::with_capacity(4);
        ix.insert(h(7, 1), 0);
        ix.insert(h(7, 2), 1); // same fragment: the check tells them apart
        ix.insert(h(9, 0), 2);
        assert_eq!(ix.len(), 3);
        assert_eq!(ix.find(h(7, 0), |s| s == 1), Some(1));
        assert_eq!(ix.find(h(7, 0), |s| s == 0), Some(0));
        assert_eq!(ix.find(h(9, 0), |_| true), Some(2));
        assert_eq!(ix.find(h(8, 0), |_| true), None);
        assert!(ix.remove(h(7, 0), 0));
        assert!(!ix.remove(h(7, 0), 0));
        assert_eq!(ix.find(h(7, 0), |s| s == 0), None);
        assert_eq!(ix.find(h(7, 0), |s| s == 1), Some(1));
        ix.clear();
        assert!(ix.is_empty());
        assert_eq!(ix.find(h(9, 0), |_| true), None);
    }

    #[test]
    fn an_empty_index_finds_nothing_and_grows_on_insert() {
        let mut ix = SlotIndex::default();
        assert_eq!(ix.find(1, |_| true), None);
        assert!(!ix.remove(1, 0));
        for s in 0..1000 {
            ix.insert(u64::from(s) << 40, s);
        }
        assert_eq!(ix.len(), 1000);
        assert!(ix.entries.len() >= 2000);
        for s in 0..1000 {
            assert_eq!(ix.find(u64::from(s) << 40, |x| x == s), Some(s));
        }
    }

    proptest! {
        /// Against a map, under inserts and removals with few distinct
        /// fragments (long runs, wrapped probes, shifted entries).
        #[test]
        fn agrees_with_a_map(ops in prop::collection::vec((any::<bool>(), 0u32..64, 0u32..6), 1..400)) {
            let mut ix = SlotIndex::with_capacity(1);
            let mut model: HashMap<u32, u64> = HashMap::new();
            for (add, slot, frag) in ops {
                // Fragments spread over the top bits so some share a home.
                let hash = h(frag.wrapping_mul(0x1000_0001), slot);
                if add && !model.contains_key(&slot) {
                    ix.insert(hash, slot);
                    model.insert(slot, hash);
                } else if let Some(&hash) = model.get(&slot) {
                    prop_assert!(ix.remove(hash, slot));
                    model.remove(&slot);
                }
                prop_assert_eq!(ix.len(), model.len());
                for (&s, &hash) in &model {
                    prop_assert_eq!(ix.find(hash, |x| x == s), Some(s));
                }
            }
        }
    }
}
