//! Near-duplicate search over PDQ hashes: multi-index hashing (Norouzi,
//! Punjani and Fleet, 2012).
//!
//! The 256 bits are cut into 16 chunks of 16 bits. Two hashes within
//! distance `r` agree, by pigeonhole, to within `⌊r / 16⌋` bits on at least
//! one chunk; so a query looks up, in each chunk's table, every 16-bit value
//! within that many bits of its own chunk (17 values a chunk at `r` = 31, 137
//! at `r` ≤ 47), and verifies the candidates with the full distance. Each
//! table is a bucket array (offsets into one id list, like a CSR matrix):
//! 16 × (256 KiB + 4 bytes a hash).

use crate::pdq::PdqHash;

const CHUNKS: usize = 16;
const BUCKETS: usize = 1 << 16;

/// An immutable index over a list of hashes; results name positions in it.
pub struct Index {
    hashes: Vec<PdqHash>,
    /// Per chunk: `offsets[v]..offsets[v + 1]` are the positions of the
    /// hashes whose chunk equals `v`, in `ids`.
    offsets: Vec<Vec<u32>>,
    ids: Vec<Vec<u32>>,
}

/// A hash within the radius of a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    pub distance: u32,
    /// Position of the hash in the list the index was built from.
    pub id: u32,
}

impl Index {
    /// Build the index. At most `u32::MAX` hashes.
    pub fn new(hashes: Vec<PdqHash>) -> Index {
        assert!(
            hashes.len() < u32::MAX as usize,
            "too many hashes for one index"
        );
        let mut offsets = Vec::with_capacity(CHUNKS);
        let mut ids = Vec::with_capacity(CHUNKS);
        for c in 0..CHUNKS {
            let mut counts = vec![0u32; BUCKETS + 1];
            for h in &hashes {
                counts[h.chunk16(c) as usize + 1] += 1;
            }
            for v in 0..BUCKETS {
                counts[v + 1] += counts[v];
            }
            let mut fill = counts.clone();
            let mut list = vec![0u32; hashes.len()];
            for (i, h) in hashes.iter().enumerate() {
                let v = h.chunk16(c) as usize;
                list[fill[v] as usize] = i as u32;
                fill[v] += 1;
            }
            offsets.push(counts);
            ids.push(list);
        }
        Index {
            hashes,
            offsets,
            ids,
        }
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    pub fn hashes(&self) -> &[PdqHash] {
        &self.hashes
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
        if self.hashes.is_empty() {
            return;
        }
        if radius >= 64 {
            // Past 3 flips a chunk the probes outnumber a scan.
            for (i, h) in self.hashes.iter().enumerate() {
                let d = h.distance(query);
                if d <= radius {
                    hits.push(Hit {
                        distance: d,
                        id: i as u32,
                    });
                }
            }
        } else {
            let flips = radius / CHUNKS as u32;
            let mut probes = Vec::with_capacity(256);
            for c in 0..CHUNKS {
                let base = query.chunk16(c);
                probes.clear();
                neighbours(base, flips, &mut probes);
                let (offsets, ids) = (&self.offsets[c], &self.ids[c]);
                for &v in &probes {
                    let (lo, hi) = (offsets[v as usize], offsets[v as usize + 1]);
                    for &id in &ids[lo as usize..hi as usize] {
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

    /// Every pair `(i, j, distance)` with `i < j` within `radius`.
    pub fn pairs(&self, radius: u32) -> Vec<(u32, u32, u32)> {
        use rayon::prelude::*;
        let mut out: Vec<(u32, u32, u32)> = (0..self.hashes.len())
            .into_par_iter()
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
