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
//! Buckets are intrusive linked lists threaded through the exemplars
//! (`next[band]`), so inserting an exemplar allocates nothing beyond the
//! exemplar itself.

use super::features::MAX_SHINGLES;
use super::features::Prepared;
use crate::similarity::jaccard;
use ahash::AHashMap;

const NIL: u32 = u32::MAX;
/// `next[band]` of an exemplar that is no longer in that band's bucket
/// (newer exemplars pushed it out).
const UNLINKED: u32 = u32::MAX - 1;

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
    /// Exemplars per LSH bucket, the most recent (default 4).
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
    /// Band key → (first exemplar, length) of the bucket's list.
    buckets: AHashMap<u64, (u32, u32)>,
    hot: Vec<Hot>,
    /// Per exemplar and band: `(band key, next exemplar in the bucket)`,
    /// at `slot × bands + band`.
    links: Vec<(u64, u32)>,
    sets: Vec<Box<[u64]>>,
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
            buckets: AHashMap::new(),
            hot: Vec::new(),
            links: Vec::new(),
            sets: Vec::new(),
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
        self.buckets.values().map(|b| b.1).max().unwrap_or(0)
    }

    /// The best verified match of `set`: `(family slot, jaccard)`.
    fn best_match(&mut self, set: &[u64], keys: &[u64]) -> Option<(u32, f64)> {
        let bands = self.params.bands;
        let threshold = self.params.threshold;
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.hot.iter_mut().for_each(|h| h.seen = 0);
            self.stamp = 1;
        }
        let mut best: Option<(u32, f64)> = None;
        for (band, &key) in keys.iter().enumerate() {
            let Some(&(mut e, _)) = self.buckets.get(&key) else {
                continue;
            };
            while e != NIL {
                self.steps += 1;
                let hot = &mut self.hot[e as usize];
                // A bucket only holds keys of its band.
                let next = self.links[e as usize * bands + band].1;
                if hot.seen != self.stamp {
                    hot.seen = self.stamp;
                    let (small, large) = if (hot.set_len as usize) < set.len() {
                        (hot.set_len as usize, set.len())
                    } else {
                        (set.len(), hot.set_len as usize)
                    };
                    if small as f64 >= threshold * large as f64 - 1e-12 {
                        let family = hot.family;
                        self.verifications += 1;
                        // Only a Jaccard at or above the threshold (and
                        // not below the best so far) can change the answer.
                        let floor = best.map_or(threshold, |b| b.1.max(threshold));
                        let Some(j) = similarity_at_least(set, &self.sets[e as usize], floor)
                        else {
                            e = next;
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
                e = next;
            }
        }
        best
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
                self.links
                    .extend(std::iter::repeat_n((0u64, UNLINKED), bands));
                (self.hot.len() - 1) as u32
            }
        };
        let cap = self.params.bucket_cap;
        let base = slot as usize * bands;
        for (band, &k) in prep.band_keys.iter().enumerate() {
            let b = self.buckets.entry(k).or_insert((NIL, 0));
            let (head, len) = *b;
            if len >= cap && cap <= 1 {
                self.links[head as usize * bands + band].1 = UNLINKED;
                *b = (slot, 1);
                self.links[base + band] = (k, NIL);
                continue;
            }
            if len >= cap {
                // Full: the oldest exemplar (the tail) leaves this bucket.
                let mut e = head;
                for _ in 1..cap - 1 {
                    e = self.links[e as usize * bands + band].1;
                }
                let tail = self.links[e as usize * bands + band].1;
                self.links[e as usize * bands + band].1 = NIL;
                if tail != NIL {
                    self.links[tail as usize * bands + band].1 = UNLINKED;
                }
                *b = (slot, cap);
            } else {
                *b = (slot, len + 1);
            }
            self.links[base + band] = (k, head);
        }
        self.hot[slot as usize] = Hot {
            family,
            seen: 0,
            set_len: prep.shingles.len() as u32,
            live: true,
        };
        self.sets[slot as usize] = prep.shingles.clone().into_boxed_slice();
        self.families[family as usize].exemplars.push(slot);
    }

    fn remove_exemplar(&mut self, slot: u32) {
        let bands = self.params.bands;
        debug_assert!(self.hot[slot as usize].live);
        self.hot[slot as usize].live = false;
        self.sets[slot as usize] = Box::new([]);
        for band in 0..bands {
            let (key, next) = self.links[slot as usize * bands + band];
            if next == UNLINKED {
                continue;
            }
            self.links[slot as usize * bands + band].1 = UNLINKED;
            let (head, len) = *self.buckets.get(&key).expect("bucket of a linked exemplar");
            if len <= 1 {
                self.buckets.remove(&key);
                continue;
            }
            if head == slot {
                self.buckets.insert(key, (next, len - 1));
                continue;
            }
            // Walk to the predecessor and unlink (buckets hold ≤ bucket_cap).
            let mut e = head;
            loop {
                let link = &mut self.links[e as usize * bands + band];
                if link.1 == slot {
                    link.1 = next;
                    break;
                }
                e = link.1;
            }
            self.buckets.insert(key, (head, len - 1));
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
    let need = floor * (a.len() + b.len()) as f64 / (1.0 + floor) - 1e-6;
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
