//! Near-duplicate search over PDQ hashes: multi-index hashing (Norouzi,
//! Punjani and Fleet, 2012).
//!
//! The 256 bits are cut into 16 chunks of 16 bits. Two hashes within
//! distance `r` agree, by pigeonhole, to within `⌊r / 16⌋` bits on at least
//! one chunk; so a query looks up, in each chunk's table, every 16-bit value
//! within that many bits of its own chunk (17 values a chunk at `r` = 31, 137
//! at `r` ≤ 47), and verifies the candidates with the full distance.
//!
//! The index is mutable: [`Index::insert`] and [`Index::remove`] keep it
//! current as a stream's window slides (the streaming `co-image`
//! coordination holds the live window's hashes in one), and
//! [`Index::new`] builds it at once from a list (`pharos media match`, the
//! directed method). Each chunk's table maps a 16-bit value to the ids of
//! the hashes with that chunk, allocated to size when built from a list;
//! memory follows the hashes held, about 16 × 4 bytes a hash in the id
//! lists plus the tables' buckets (at most 65,536 a chunk) and 33 bytes a
//! hash; slots of removed hashes are reused.

use crate::pdq::PdqHash;
use ahash::AHashMap;

const CHUNKS: usize = 16;

/// A mutable near-duplicate index; results name ids (positions in the list
/// it was built from, then the ids [`Index::insert`] hands out).
#[derive(Default)]
pub struct Index {
    /// By id; the slot of a removed hash is in `free`.
    hashes: Vec<PdqHash>,
    alive: Vec<bool>,
    free: Vec<u32>,
    live: usize,
    /// Per chunk: chunk value → ids of the live hashes with that value.
    tables: Vec<AHashMap<u16, Vec<u32>>>,
}

/// A hash within the radius of a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    pub distance: u32,
    /// Id of the hash: its position in the list the index was built from,
    /// or what [`Index::insert`] returned.
    pub id: u32,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("len", &self.live)
            .field("slots", &self.hashes.len())
            .finish()
    }
}

impl Index {
    /// Build the index; hash `i` of the list gets id `i`. At most
    /// `u32::MAX` hashes.
    pub fn new(hashes: Vec<PdqHash>) -> Index {
        assert!(
            hashes.len() < u32::MAX as usize,
            "too many hashes for one index"
        );
        let tables = (0..CHUNKS)
            .map(|c| {
                // Counted first, so each id list is allocated to size.
                let mut counts: AHashMap<u16, u32> = AHashMap::new();
                for h in &hashes {
                    *counts.entry(h.chunk16(c)).or_default() += 1;
                }
                let mut table: AHashMap<u16, Vec<u32>> = counts
                    .into_iter()
                    .map(|(v, n)| (v, Vec::with_capacity(n as usize)))
                    .collect();
                for (i, h) in hashes.iter().enumerate() {
                    if let Some(ids) = table.get_mut(&h.chunk16(c)) {
                        ids.push(i as u32);
                    }
                }
                table
            })
            .collect();
        Index {
            alive: vec![true; hashes.len()],
            live: hashes.len(),
            hashes,
            free: Vec::new(),
            tables,
        }
    }

    /// Hashes held.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The hash of `id`, if it is held.
    pub fn get(&self, id: u32) -> Option<PdqHash> {
        let i = id as usize;
        (self.alive.get(i) == Some(&true)).then(|| self.hashes[i])
    }

    /// Adds `hash`; returns its id (the slot of a removed hash, if any).
    pub fn insert(&mut self, hash: PdqHash) -> u32 {
        if self.tables.is_empty() {
            self.tables = (0..CHUNKS).map(|_| AHashMap::new()).collect();
        }
        let id = match self.free.pop() {
            Some(id) => {
                self.hashes[id as usize] = hash;
                self.alive[id as usize] = true;
                id
            }
            None => {
                assert!(
                    self.hashes.len() < u32::MAX as usize - 1,
                    "too many hashes for one index"
                );
                self.hashes.push(hash);
                self.alive.push(true);
                (self.hashes.len() - 1) as u32
            }
        };
        for (c, table) in self.tables.iter_mut().enumerate() {
            table.entry(hash.chunk16(c)).or_default().push(id);
        }
        self.live += 1;
        id
    }

    /// Removes the hash of `id`; returns it (`None` when `id` is not held).
    /// Costs one scan of its bucket in each chunk's table.
    pub fn remove(&mut self, id: u32) -> Option<PdqHash> {
        let hash = self.get(id)?;
        for (c, table) in self.tables.iter_mut().enumerate() {
            let v = hash.chunk16(c);
            if let Some(ids) = table.get_mut(&v) {
                if let Some(at) = ids.iter().position(|&x| x == id) {
                    ids.swap_remove(at);
                }
                if ids.is_empty() {
                    table.remove(&v);
                }
            }
            // Give memory back once the table is mostly empty.
            if table.capacity() > 64 && table.len() * 4 < table.capacity() {
                let keep = table.len() * 2;
                table.shrink_to(keep);
            }
        }
        self.alive[id as usize] = false;
        self.free.push(id);
        self.live -= 1;
        if self.live == 0 {
            // Nothing held: drop the slots too.
            self.hashes.clear();
            self.alive.clear();
            self.free.clear();
        }
        Some(hash)
    }

    /// Every hash within `radius` of `query` (each once), nearest first.
    pub fn query(&self, query: &PdqHash, radius: u32) -> Vec<Hit> {
        let mut hits = Vec::new();
        self.query_into(query, radius, &mut hits);
        hits
    }

    /// As [`Index::query`], appending to `hits` (cleared first).
    pub fn query_into(&self, query: &PdqHash, radius: u32, hits: &mut Vec<Hit>) {
        hits.clear();
        if self.live == 0 {
            return;
        }
        if radius >= 64 {
            // Past 3 flips a chunk the probes outnumber a scan.
            for (i, h) in self.hashes.iter().enumerate() {
                let d = h.distance(query);
                if d <= radius && self.alive[i] {
                    hits.push(Hit {
                        distance: d,
                        id: i as u32,
                    });
                }
            }
        } else {
            let flips = radius / CHUNKS as u32;
            let mut probes = Vec::with_capacity(256);
            for (c, table) in self.tables.iter().enumerate() {
                let base = query.chunk16(c);
                probes.clear();
                neighbours(base, flips, &mut probes);
                for v in &probes {
                    let Some(ids) = table.get(v) else { continue };
                    for &id in ids {
                        let d = self.hashes[id as usize].distance(query);
                        if d <= radius {
                            hits.push(Hit { distance: d, id });
                        }
                    }
                }
            }
        }
        hits.sort_unstable();
        hits.dedup();
    }

    /// Every pair `(i, j, distance)` of held hashes with `i < j` within
    /// `radius`.
    pub fn pairs(&self, radius: u32) -> Vec<(u32, u32, u32)> {
        use rayon::prelude::*;
        let mut out: Vec<(u32, u32, u32)> = (0..self.hashes.len())
            .into_par_iter()
            .filter(|&i| self.alive[i])
            .map_init(Vec::new, |hits, i| {
                self.query_into(&self.hashes[i], radius, hits);
                hits.iter()
                    .filter(|h| h.id as usize > i)
                    .map(|h| (i as u32, h.id, h.distance))
                    .collect::<Vec<_>>()
            })
            .flatten()
            .collect();
        out.sort_unstable();
        out
    }
}

/// Groups of near-identical hashes: the connected components of the graph
/// whose edges join hashes within `radius`. Returns, for each hash, the
/// position of its group's first hash (so equal values mean one group). A
/// chain of near copies (a ~ b ~ c) is one group even where its ends are
/// further apart than `radius`: copies of copies are still copies.
pub fn groups(hashes: &[PdqHash], radius: u32) -> Vec<u32> {
    let mut parent: Vec<u32> = (0..hashes.len() as u32).collect();
    fn root(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            parent[x as usize] = parent[parent[x as usize] as usize];
            x = parent[x as usize];
        }
        x
    }
    for (i, j, _) in Index::new(hashes.to_vec()).pairs(radius) {
        let (a, b) = (root(&mut parent, i), root(&mut parent, j));
        // The smaller position is the root: a group's first hash.
        let (lo, hi) = (a.min(b), a.max(b));
        parent[hi as usize] = lo;
    }
    (0..hashes.len() as u32)
        .map(|i| root(&mut parent, i))
        .collect()
}

/// All 16-bit values within `flips` bits of `base` (flips ≤ 3).
fn neighbours(base: u16, flips: u32, out: &mut Vec<u16>) {
    out.push(base);
    if flips >= 1 {
        for a in 0..16 {
            out.push(base ^ (1 << a));
            if flips >= 2 {
                for b in a + 1..16 {
                    out.push(base ^ (1 << a) ^ (1 << b));
                    if flips >= 3 {
                        for c in b + 1..16 {
                            out.push(base ^ (1 << a) ^ (1 << b) ^ (1 << c));
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift) for test hashes.
    fn hashes(n: usize, seed: u64) -> Vec<PdqHash> {
        let mut s = seed | 1;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        (0..n)
            .map(|_| PdqHash([next(), next(), next(), next()]))
            .collect()
    }

    fn flip(h: PdqHash, bits: &[usize]) -> PdqHash {
        let mut w = h.0;
        for &b in bits {
            w[b / 64] ^= 1 << (b % 64);
        }
        PdqHash(w)
    }

    #[test]
    fn finds_exactly_what_a_linear_scan_finds() {
        let mut all = hashes(3000, 7);
        // Plant near copies at known distances, some bits clustered in one chunk.
        let base = all[0];
        all.push(flip(base, &(0..31).collect::<Vec<_>>()));
        all.push(flip(base, &(0..32).collect::<Vec<_>>()));
        all.push(flip(base, &(0..31).map(|i| i * 8).collect::<Vec<_>>()));
        all.push(flip(base, &[3, 77, 200]));
        let index = Index::new(all.clone());
        for radius in [0, 10, 31, 47, 70] {
            for q in [base, all[5], flip(base, &[1, 2])] {
                let got = index.query(&q, radius);
                let mut want: Vec<Hit> = all
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| h.distance(&q) <= radius)
                    .map(|(i, h)| Hit {
                        distance: h.distance(&q),
                        id: i as u32,
                    })
                    .collect();
                want.sort_unstable();
                assert_eq!(got, want, "radius {radius}");
            }
        }
        let near = index.query(&base, 31);
        assert_eq!(near.len(), 4, "{near:?}");
    }

    #[test]
    fn inserts_and_removals_answer_as_a_linear_scan_of_what_is_held() {
        // A sliding window: insert a hash, query, expire the oldest.
        let stream = hashes(4000, 13);
        let mut planted = stream.clone();
        for k in (0..4000).step_by(7) {
            planted[k] = flip(stream[k / 2], &[k % 256, (k * 7) % 256, (k * 13) % 256]);
        }
        let mut index = Index::default();
        let mut held: std::collections::VecDeque<(u32, PdqHash)> = Default::default();
        let mut max_slots = 0;
        for (k, h) in planted.iter().enumerate() {
            let got = index.query(h, 31);
            let mut want: Vec<Hit> = held
                .iter()
                .filter(|(_, x)| x.distance(h) <= 31)
                .map(|&(id, x)| Hit {
                    distance: x.distance(h),
                    id,
                })
                .collect();
            want.sort_unstable();
            assert_eq!(got, want, "query {k}");
            let id = index.insert(*h);
            assert_eq!(index.get(id), Some(*h));
            held.push_back((id, *h));
            if held.len() > 300 {
                let (old, x) = held.pop_front().unwrap();
                assert_eq!(index.remove(old), Some(x));
                assert_eq!(index.remove(old), None, "removed once");
                assert_eq!(index.get(old), None);
            }
            assert_eq!(index.len(), held.len());
            max_slots = max_slots.max(index.hashes.len());
        }
        // Slots are reused: memory follows what is held, not what was seen.
        assert!(max_slots <= 301, "{max_slots} slots");
        while let Some((id, _)) = held.pop_front() {
            index.remove(id);
        }
        assert!(index.is_empty());
        assert!(index.query(&planted[0], 255).is_empty());
        assert!(index.tables.iter().all(|t| t.is_empty()));
    }

    #[test]
    fn removed_hashes_leave_pairs_and_scans() {
        let mut all = hashes(100, 5);
        all.push(flip(all[10], &[1, 2, 3]));
        let mut index = Index::new(all.clone());
        assert_eq!(index.pairs(31), vec![(10, 100, 3)]);
        index.remove(100);
        assert!(index.pairs(31).is_empty());
        assert_eq!(
            index.query(&all[100], 80).len(),
            1,
            "the linear path skips it too"
        );
        let id = index.insert(all[100]);
        assert_eq!(id, 100, "the free slot is reused");
        assert_eq!(index.pairs(31), vec![(10, 100, 3)]);
    }

    #[test]
    fn pairs_are_ordered_and_unique() {
        let mut all = hashes(200, 3);
        all.push(flip(all[10], &[1, 2, 3]));
        all.push(flip(all[10], &[100]));
        let index = Index::new(all);
        let pairs = index.pairs(31);
        assert_eq!(pairs, vec![(10, 200, 3), (10, 201, 1), (200, 201, 4)]);
    }

    #[test]
    fn groups_join_chains_of_near_copies_and_nothing_else() {
        let mut all = hashes(50, 11);
        let base = all[3];
        all.push(flip(base, &(0..20).collect::<Vec<_>>())); // 50: 20 from 3
        all.push(flip(base, &(0..40).collect::<Vec<_>>())); // 51: 20 from 50, 40 from 3
        all.push(flip(all[7], &[5])); // 52: 1 from 7
        let g = groups(&all, 31);
        assert_eq!((g[3], g[50], g[51]), (3, 3, 3));
        assert_eq!((g[7], g[52]), (7, 7));
        let joined = g
            .iter()
            .enumerate()
            .filter(|&(i, &r)| r as usize != i)
            .count();
        assert_eq!(joined, 3, "only the planted copies join a group");
    }

    #[test]
    fn neighbour_counts() {
        for (f, n) in [(0, 1), (1, 17), (2, 137), (3, 697)] {
            let mut v = Vec::new();
            neighbours(0xabcd, f, &mut v);
            let mut u = v.clone();
            u.sort_unstable();
            u.dedup();
            assert_eq!((v.len(), u.len()), (n, n));
        }
    }
}
