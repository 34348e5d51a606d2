//! Near-duplicate families, online: MinHash LSH over shingle sets with
//! exact Jaccard verification, bounded buckets, and expiry.
//!
//! A family is kept as a few **exemplars** (shingle sets of members that
//! differ enough from the ones already kept). A new post is looked up band
//! by band; every exemplar found is verified with the exact Jaccard of the
//! two sets, and the post joins the family of its best match at or above
//! [`FamilyParams::threshold`], or starts a family. The search stops at the
//! first match at or above [`FamilyParams::redundant`]: such a post adds
//! nothing to what the family already holds, and is not kept.
//!
//! Why memory stays bounded when one text is shared 50,000 times:
//!
//! - identical and nearly identical copies (Jaccard ≥ `redundant`) are not
//!   stored at all: they only increment the family's counters;
//! - a family keeps at most [`FamilyParams::max_exemplars`] exemplars;
//! - an LSH bucket holds at most [`FamilyParams::bucket_cap`] exemplars, the
//!   most recent: a new exemplar pushes the oldest out of a full bucket (it
//!   stays reachable through its other bands), so the work of one look-up
//!   is at most `bands × bucket_cap` bucket entries whatever the stream, and
//!   recent texts — where near-duplicates come from — stay findable;
//! - a family expires [`FamilyParams::horizon_ms`] of event time after its
//!   last post; its exemplars leave the buckets and their slots are reused.
//!
//! Buckets are stored inline in one open-addressing table
//! ([`BandTable`]): a bucket is its band key and the slots of its (at most
//! [`MAX_BUCKET_CAP`]) exemplars, newest first, in 24 bytes, so a look-up
//! costs one cache miss per band (and the 32 band look-ups of a post are
//! independent loads the CPU overlaps) instead of a hash-map probe followed
//! by a walk through per-exemplar links.

use super::features::MAX_SHINGLES;
use super::features::Prepared;
use crate::similarity::jaccard;

const NIL: u32 = u32::MAX;

/// Most exemplars one LSH bucket holds: [`FamilyParams::bucket_cap`] is
/// clamped to it (buckets are stored inline, see the module docs).
pub const MAX_BUCKET_CAP: usize = 4;

/// One LSH bucket: its band key and the slots of its exemplars, newest
/// first, `NIL` after the last. A table entry whose first slot is `NIL`
/// is empty.
#[derive(Clone, Copy)]
struct Bucket {
    key: u64,
    slots: [u32; MAX_BUCKET_CAP],
}

const EMPTY: Bucket = Bucket {
    key: 0,
    slots: [NIL; MAX_BUCKET_CAP],
};

impl Bucket {
    fn len(&self) -> usize {
        self.slots.iter().take_while(|&&s| s != NIL).count()
    }
}

/// Band key → bucket, open addressing with linear probing (band keys are
/// already well-mixed hashes) and backward-shift deletion (no tombstones),
/// kept at most 80 % full.
struct BandTable {
    entries: Vec<Bucket>,
    len: usize,
    shift: u32,
}

impl BandTable {
    fn new() -> BandTable {
        BandTable {
            entries: vec![EMPTY; 16],
            len: 0,
            shift: 64 - 4,
        }
    }

    #[inline]
    fn mask(&self) -> usize {
        self.entries.len() - 1
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    /// Index of `key`'s bucket, or of the empty entry where it would go.
    #[inline]
    fn find(&self, key: u64) -> (usize, bool) {
        let mask = self.mask();
        let mut i = self.home(key);
        loop {
            let e = &self.entries[i];
            if e.slots[0] == NIL {
                return (i, false);
            }
            if e.key == key {
                return (i, true);
            }
            i = (i + 1) & mask;
        }
    }

    #[inline]
    fn get(&self, key: u64) -> Option<&Bucket> {
        match self.find(key) {
            (i, true) => Some(&self.entries[i]),
            _ => None,
        }
    }

    /// The bucket of `key`, created empty (but with its key set) when
    /// missing; it must be given a slot before the next call.
    fn get_or_insert(&mut self, key: u64) -> &mut Bucket {
        if (self.len + 1) * 5 > self.entries.len() * 4 {
            self.grow();
        }
        let (i, found) = self.find(key);
        if !found {
            self.len += 1;
            self.entries[i].key = key;
        }
        &mut self.entries[i]
    }

    fn grow(&mut self) {
        let n = self.entries.len() * 2;
        let old = std::mem::replace(&mut self.entries, vec![EMPTY; n]);
        self.shift -= 1;
        for b in old {
            if b.slots[0] != NIL {
                let (i, _) = self.find(b.key);
                self.entries[i] = b;
            }
        }
    }

    /// Removes the (now empty) entry at `i`, shifting back the entries of
    /// its probe run that belong before it.
    fn remove_at(&mut self, mut i: usize) {
        let mask = self.mask();
        self.len -= 1;
        loop {
            self.entries[i] = EMPTY;
            let mut j = i;
            loop {
                j = (j + 1) & mask;
                if self.entries[j].slots[0] == NIL {
                    return;
                }
                let home = self.home(self.entries[j].key);
                // Entry j may move to i when its home is not in (i, j].
                let stays = if i <= j {
                    i < home && home <= j
                } else {
                    i < home || home <= j
                };
                if !stays {
                    self.entries[i] = self.entries[j];
                    i = j;
                    break;
                }
            }
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn iter(&self) -> impl Iterator<Item = &Bucket> {
        self.entries.iter().filter(|b| b.slots[0] != NIL)
    }
}

/// How near-duplicate families are formed and forgotten.
#[derive(Clone, Debug, PartialEq)]
pub struct FamilyParams {
    /// Exact Jaccard of word-bigram shingle sets at or above which a post
    /// joins a family (default 0.6: a 30-word message with two neighbouring
    /// words swapped and two hashtags added scores about 0.8; two organic
    /// posts from the same template with a different city and number score
    /// about 0.3–0.5).
    pub threshold: f64,
    /// Jaccard at or above which a member is a copy and not kept as an
    /// exemplar (default 0.9).
    pub redundant: f64,
    /// Exemplars per LSH bucket, the most recent (default 4, at most
    /// [`MAX_BUCKET_CAP`]).
    pub bucket_cap: u32,
    /// Exemplars per family (default 32).
    pub max_exemplars: usize,
    /// A family is forgotten this long (event time, ms) after its last post
    /// (default 48 h).
    pub horizon_ms: i64,
    /// LSH bands × rows (default 32 × 4 = 128 hash functions: a pair at
    /// Jaccard 0.6 is a candidate with probability 0.988, at 0.8 with
    /// 1 − 10⁻¹⁴, at 0.3 with 0.23).
    pub bands: usize,
    pub rows: usize,
    /// At most this many live families; beyond it the least recently seen
    /// are forgotten early (default 4,000,000).
    pub max_live: usize,
}

impl Default for FamilyParams {
    fn default() -> Self {
        FamilyParams {
            threshold: 0.6,
            redundant: 0.9,
            bucket_cap: 4,
            max_exemplars: 32,
            horizon_ms: 48 * 3_600_000,
            bands: 32,
            rows: 4,
            max_live: 4_000_000,
        }
    }
}

/// What a look-up reads of an exemplar, kept together (one cache line
/// holds four) so that walking a bucket touches little memory.
#[derive(Clone, Copy, Default)]
struct Hot {
    family: u32,
    /// Look-up stamp: the exemplar was already verified for this post.
    seen: u32,
    set_len: u32,
    live: bool,
}

/// One family's state.
#[derive(Clone, Debug)]
pub(crate) struct Family {
    pub id: u64,
    pub posts: u64,
    pub first: i64,
    pub last: i64,
    /// `(narrative id, narrative slot)` when the family has one.
    pub narrative: Option<(u64, u32)>,
    exemplars: Vec<u32>,
    live: bool,
}

/// What a look-up decided.
pub(crate) struct Joined {
    pub slot: u32,
    pub new_family: bool,
    /// The post is a copy (Jaccard ≥ `redundant` with a kept member).
    pub redundant: bool,
}

/// Near-duplicate families with their LSH index.
pub(crate) struct FamilyIndex {
    pub params: FamilyParams,
    buckets: BandTable,
    hot: Vec<Hot>,
    /// Per exemplar and band: the band key, at `slot × bands + band`.
    keys: Vec<u64>,
    /// The buckets of the post being looked up (one per band).
    found: Vec<Bucket>,
    sets: Vec<Box<[u64]>>,
    /// Per exemplar, its [`Sketch`] (at the exemplar's slot).
    sketches: Vec<Sketch>,
    /// The sketch of the post being looked up.
    probe: Sketch,
    free_exemplars: Vec<u32>,
    stamp: u32,
    /// Bucket entries walked and exact Jaccards computed, over the stream.
    pub steps: u64,
    pub verifications: u64,
    pub families: Vec<Family>,
    free_families: Vec<u32>,
    live: usize,
    next_id: u64,
}

impl FamilyIndex {
    pub fn new(params: FamilyParams) -> FamilyIndex {
        FamilyIndex {
            params,
            buckets: BandTable::new(),
            hot: Vec::new(),
            keys: Vec::new(),
            found: Vec::new(),
            sets: Vec::new(),
            sketches: Vec::new(),
            probe: Sketch::default(),
            free_exemplars: Vec::new(),
            stamp: 0,
            steps: 0,
            verifications: 0,
            families: Vec::new(),
            free_families: Vec::new(),
            live: 0,
            next_id: 1,
        }
    }

    pub fn live_families(&self) -> usize {
        self.live
    }

    pub fn live_exemplars(&self) -> usize {
        self.hot.len() - self.free_exemplars.len()
    }

    pub fn buckets(&self) -> usize {
        self.buckets.len()
    }

    /// Largest bucket (for tests and diagnostics).
    pub fn max_bucket_len(&self) -> u32 {
        self.buckets
            .iter()
            .map(|b| b.len() as u32)
            .max()
            .unwrap_or(0)
    }

    /// The best verified match of `set`: `(family slot, jaccard)`.
    ///
    /// Bands in order, each bucket newest first; every exemplar is
    /// considered once (at its first appearance).
    fn best_match(&mut self, set: &[u64], keys: &[u64]) -> Option<(u32, f64)> {
        let threshold = self.params.threshold;
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.hot.iter_mut().for_each(|h| h.seen = 0);
            self.stamp = 1;
        }
        // Touch every band's home entry first: loads with no branch
        // between them, so the CPU has all their cache misses in flight at
        // once instead of one after another in the probing loop below.
        let mut touch = 0u64;
        for &key in keys {
            touch ^= self.buckets.entries[self.buckets.home(key)].key;
        }
        std::hint::black_box(touch);
        self.found.clear();
        for &key in keys {
            if let Some(b) = self.buckets.get(key) {
                self.found.push(*b);
            }
        }
        // Likewise the candidates' look-up state and sketches.
        for b in &self.found {
            for &e in b.slots.iter().take_while(|&&e| e != NIL) {
                touch ^= u64::from(self.hot[e as usize].seen);
                touch ^= u64::from(self.sketches[e as usize].0[0]);
            }
        }
        std::hint::black_box(touch);
        self.probe = Sketch::of(set);
        let mut best: Option<(u32, f64)> = None;
        for b in &self.found {
            for &e in &b.slots {
                if e == NIL {
                    break;
                }
                self.steps += 1;
                let hot = &mut self.hot[e as usize];
                if hot.seen == self.stamp {
                    continue;
                }
                hot.seen = self.stamp;
                let (small, large) = if (hot.set_len as usize) < set.len() {
                    (hot.set_len as usize, set.len())
                } else {
                    (set.len(), hot.set_len as usize)
                };
                if (small as f64) < threshold * large as f64 - 1e-12 {
                    continue;
                }
                let family = hot.family;
                // Only a Jaccard at or above the threshold (and not below
                // the best so far) can change the answer.
                let floor = best.map_or(threshold, |b| b.1.max(threshold));
                // The sketch bound first (one cache line, no merge): when
                // it cannot reach `floor`, neither can the exact Jaccard.
                if set.len() < MAX_SHINGLES
                    && (hot.set_len as usize) < MAX_SHINGLES
                    && (self.probe.common_bound(&self.sketches[e as usize]) as f64)
                        < need_common(floor, set.len(), hot.set_len as usize)
                {
                    continue;
                }
                self.verifications += 1;
                let Some(j) = similarity_at_least(set, &self.sets[e as usize], floor) else {
                    continue;
                };
                if j >= threshold && best.is_none_or(|b| j > b.1) {
                    best = Some((family, j));
                    if j >= self.params.redundant {
                        return best;
                    }
                }
            }
        }
        best
    }

    /// The family `prep` would join now (its slot), changing nothing but
    /// look-up scratch: `None` when it would start one or has no words.
    pub fn probe(&mut self, prep: &Prepared) -> Option<u32> {
        if prep.shingles.is_empty() {
            return None;
        }
        let (steps, verifications) = (self.steps, self.verifications);
        let found = self.best_match(&prep.shingles, &prep.band_keys);
        (self.steps, self.verifications) = (steps, verifications);
        found.map(|f| f.0)
    }

    /// Puts the post in a family (its best verified match or a new one).
    /// `None` when the post has no words.
    pub fn join(&mut self, prep: &Prepared, time: i64) -> Option<Joined> {
        if prep.shingles.is_empty() {
            return None;
        }
        let found = self.best_match(&prep.shingles, &prep.band_keys);
        let (slot, new_family, redundant) = match found {
            Some((slot, j)) => (slot, false, j >= self.params.redundant),
            None => (self.new_family(time), true, false),
        };
        let fam = &mut self.families[slot as usize];
        fam.posts += 1;
        fam.last = fam.last.max(time);
        fam.first = fam.first.min(time);
        if !redundant && fam.exemplars.len() < self.params.max_exemplars {
            self.add_exemplar(slot, prep);
        }
        Some(Joined {
            slot,
            new_family,
            redundant,
        })
    }

    fn new_family(&mut self, time: i64) -> u32 {
        let fam = Family {
            id: self.next_id,
            posts: 0,
            first: time,
            last: time,
            narrative: None,
            exemplars: Vec::new(),
            live: true,
        };
        self.next_id += 1;
        self.live += 1;
        match self.free_families.pop() {
            Some(s) => {
                self.families[s as usize] = fam;
                s
            }
            None => {
                self.families.push(fam);
                (self.families.len() - 1) as u32
            }
        }
    }

    fn add_exemplar(&mut self, family: u32, prep: &Prepared) {
        let bands = self.params.bands;
        let slot = match self.free_exemplars.pop() {
            Some(s) => s,
            None => {
                self.hot.push(Hot::default());
                self.sets.push(Box::new([]));
                self.sketches.push(Sketch::default());
                self.keys.extend(std::iter::repeat_n(0u64, bands));
                (self.hot.len() - 1) as u32
            }
        };
        let cap = (self.params.bucket_cap as usize).clamp(1, MAX_BUCKET_CAP);
        let base = slot as usize * bands;
        for (band, &k) in prep.band_keys.iter().enumerate() {
            let b = self.buckets.get_or_insert(k);
            // Newest first; a full bucket's oldest exemplar (the last)
            // leaves it (it stays reachable through its other bands).
            b.slots.copy_within(0..cap - 1, 1);
            if cap < MAX_BUCKET_CAP {
                b.slots[cap] = NIL;
            }
            b.slots[0] = slot;
            self.keys[base + band] = k;
        }
        self.hot[slot as usize] = Hot {
            family,
            seen: 0,
            set_len: prep.shingles.len() as u32,
            live: true,
        };
        self.sets[slot as usize] = prep.shingles.clone().into_boxed_slice();
        self.sketches[slot as usize] = Sketch::of(&prep.shingles);
        self.families[family as usize].exemplars.push(slot);
    }

    fn remove_exemplar(&mut self, slot: u32) {
        let bands = self.params.bands;
        debug_assert!(self.hot[slot as usize].live);
        self.hot[slot as usize].live = false;
        self.sets[slot as usize] = Box::new([]);
        for band in 0..bands {
            let key = self.keys[slot as usize * bands + band];
            let (i, found) = self.buckets.find(key);
            if !found {
                continue;
            }
            let b = &mut self.buckets.entries[i];
            // Not there when newer exemplars pushed it out.
            let Some(at) = b.slots.iter().position(|&s| s == slot) else {
                continue;
            };
            b.slots.copy_within(at + 1.., at);
            b.slots[MAX_BUCKET_CAP - 1] = NIL;
            if b.slots[0] == NIL {
                self.buckets.remove_at(i);
            }
        }
        self.free_exemplars.push(slot);
    }

    /// Forgets families whose last post is before `now − horizon`, and the
    /// least recently seen ones beyond `max_live`. Returns how many went.
    pub fn expire(&mut self, now: i64) -> usize {
        let mut cutoff = now - self.params.horizon_ms;
        if self.live > self.params.max_live {
            let mut lasts: Vec<i64> = self
                .families
                .iter()
                .filter(|f| f.live)
                .map(|f| f.last)
                .collect();
            let excess = self.live - self.params.max_live * 9 / 10;
            lasts.select_nth_unstable(excess);
            cutoff = cutoff.max(lasts[excess]);
        }
        let mut gone = 0;
        for slot in 0..self.families.len() {
            let f = &self.families[slot];
            if !f.live || f.last >= cutoff {
                continue;
            }
            let exemplars = std::mem::take(&mut self.families[slot].exemplars);
            for e in exemplars {
                self.remove_exemplar(e);
            }
            self.families[slot].live = false;
            self.free_families.push(slot as u32);
            self.live -= 1;
            gone += 1;
        }
        gone
    }
}

/// Shingles per sketch bucket: bucket `k` counts the shingles whose top
/// six bits are `k`.
#[derive(Clone, Copy)]
#[repr(align(64))]
struct Sketch([u8; 64]);

impl Default for Sketch {
    fn default() -> Self {
        Sketch([0; 64])
    }
}

impl Sketch {
    /// The sketch of a set of fewer than [`MAX_SHINGLES`] shingles (so no
    /// count overflows; larger sets are never compared by sketch).
    fn of(set: &[u64]) -> Sketch {
        let mut s = Sketch::default();
        for &x in set {
            let k = (x >> 58) as usize;
            s.0[k] = s.0[k].saturating_add(1);
        }
        s
    }

    /// An upper bound on the shingles two sets have in common: a common
    /// shingle falls in the same bucket of both, so each bucket holds at
    /// most the smaller of its two counts.
    fn common_bound(&self, other: &Sketch) -> u32 {
        self.0
            .iter()
            .zip(&other.0)
            .map(|(&a, &b)| u32::from(a.min(b)))
            .sum()
    }
}

/// The common shingles two sets of `a` and `b` shingles need for a
/// Jaccard of at least `floor` (lowered by the same margin as in
/// [`similarity_at_least`], so a pair that function keeps is never cut).
fn need_common(floor: f64, a: usize, b: usize) -> f64 {
    floor * (a + b) as f64 / (1.0 + floor) - 1e-6
}

/// [`similarity`] when it is at least `floor`; `None` when it is certainly
/// below (the merge stops as soon as the common shingles still possible
/// cannot reach `floor`). For complete sets the value, when returned, is
/// computed exactly as [`jaccard`] computes it.
pub(crate) fn similarity_at_least(a: &[u64], b: &[u64], floor: f64) -> Option<f64> {
    if a.len() >= MAX_SHINGLES || b.len() >= MAX_SHINGLES || a.is_empty() || b.is_empty() {
        let j = similarity(a, b);
        return (j >= floor).then_some(j);
    }
    // J = c / (|a| + |b| − c) ≥ floor  ⟺  c ≥ floor (|a| + |b|) / (1 + floor);
    // the bound is lowered by a margin so that rounding never cuts a pair
    // the exact formula keeps.
    let need = need_common(floor, a.len(), b.len());
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        if ((common + (a.len() - i).min(b.len() - j)) as f64) < need {
            return None;
        }
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let s = common as f64 / (a.len() + b.len() - common) as f64;
    (s >= floor).then_some(s)
}

/// Jaccard of two shingle sets: exact when both are complete (fewer than
/// [`MAX_SHINGLES`] shingles), otherwise the bottom-k estimate — among the
/// `MAX_SHINGLES` smallest hashes of the union, the share present in both
/// (standard error about `sqrt(J(1 − J) / 256)`, 0.03 at J = 0.6).
pub(crate) fn similarity(a: &[u64], b: &[u64]) -> f64 {
    if a.len() < MAX_SHINGLES && b.len() < MAX_SHINGLES {
        return jaccard(a, b);
    }
    let (mut i, mut j, mut union, mut common) = (0, 0, 0usize, 0usize);
    while union < MAX_SHINGLES && (i < a.len() || j < b.len()) {
        // A truncated sample says nothing past its last element.
        if (i == a.len() && a.len() >= MAX_SHINGLES) || (j == b.len() && b.len() >= MAX_SHINGLES) {
            break;
        }
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                common += 1;
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => i += 1,
            (Some(_), None) => i += 1,
            _ => j += 1,
        }
        union += 1;
    }
    if union == 0 {
        0.0
    } else {
        common as f64 / union as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bottom_k_similarity() {
        let a: Vec<u64> = (0..1000).collect();
        let b: Vec<u64> = (100..1100).collect();
        // Samples: the 256 smallest of each.
        let (sa, sb) = (&a[..MAX_SHINGLES], &b[..MAX_SHINGLES]);
        // Hashes here are not random, so only the mechanics are checked:
        // the union's 256 smallest are 0..256, of which 100..256 are in both.
        assert!((similarity(sa, sb) - 156.0 / 256.0).abs() < 1e-9);
        assert_eq!(similarity(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(similarity(sa, sa), 1.0);
    }

    #[test]
    fn sketch_bound_never_cuts_a_pair_the_exact_jaccard_keeps() {
        let mut state = 11u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state
        };
        for round in 0..3000 {
            // Few distinct values (many in common) or spread ones.
            let spread = if round % 2 == 0 { 0xff } else { u64::MAX };
            let mut a: Vec<u64> = (0..1 + next() % 60).map(|_| next() & spread).collect();
            let mut b: Vec<u64> = a
                .iter()
                .map(|&x| if next() % 3 == 0 { next() & spread } else { x })
                .collect();
            b.truncate(1 + (next() % 60) as usize);
            for v in [&mut a, &mut b] {
                v.sort_unstable();
                v.dedup();
            }
            let common = a.iter().filter(|x| b.binary_search(x).is_ok()).count() as u32;
            let bound = Sketch::of(&a).common_bound(&Sketch::of(&b));
            assert!(bound >= common, "{bound} < {common}");
            for floor in [0.3, 0.6, 0.9] {
                if similarity(&a, &b) >= floor {
                    assert!(f64::from(bound) >= need_common(floor, a.len(), b.len()));
                }
            }
        }
    }

    #[test]
    fn early_exit_jaccard_agrees_with_the_exact_one() {
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 58
        };
        for _ in 0..2000 {
            let mut a: Vec<u64> = (0..1 + next() % 40).map(|_| next()).collect();
            let mut b: Vec<u64> = (0..1 + next() % 40).map(|_| next()).collect();
            for v in [&mut a, &mut b] {
                v.sort_unstable();
                v.dedup();
            }
            let exact = similarity(&a, &b);
            for floor in [0.0, 0.3, 0.5, 0.6, 0.9, exact] {
                let got = similarity_at_least(&a, &b, floor);
                if exact >= floor {
                    assert_eq!(got, Some(exact), "{a:?} {b:?} {floor}");
                } else {
                    assert_eq!(got, None, "{a:?} {b:?} {floor}");
                }
            }
        }
    }
}
