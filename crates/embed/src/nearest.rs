//! Exact nearest-neighbour search over unit vectors: the dense candidate
//! stage of claim matching.
//!
//! A word-matching index cannot find an English fact-check for a Russian
//! post that shares no word with it; their vectors from a multilingual
//! encoder can. [`NearestIndex`] holds `n` vectors as the weights of one
//! dense layer (bfloat16 panels, [`crate::gemm`]) and scores a block of
//! queries against all of them in one matrix product on the encoder's
//! kernel (AMX, AVX512-BF16 or the portable loop), then keeps each query's
//! `k` best rows. Exact, not approximate: every row is scored. Cost: `n ×
//! dim` products per query (100,000 claims with titles: 77 M, about a
//! millisecond on AVX512-BF16); memory: `2 × dim` bytes per row.
//!
//! Scores are dot products of bfloat16-rounded vectors: within about 0.005
//! of the f32 cosine, enough to pick candidates (the features that rank
//! them are computed from the exact vectors).
//!
//! The rows are held in chunks of [`CHUNK`] (1.5 MB of bfloat16 at 384
//! dimensions, within a core's L2 cache): every block of queries is scored
//! against one chunk while it is in the cache, and each query keeps its
//! best rows as the scores come ([`TopK`]), so that the rows are read from
//! memory once per call rather than once per 32 queries, and no
//! `queries × rows` score matrix is ever written. The chunks are shared
//! among the threads of the rayon pool; the result is the same as scoring
//! every row and sorting (tested), whatever the number of threads.

use crate::gemm::{self, Kernel, Linear, default_kernel};
use rayon::prelude::*;

/// Queries scored together: one block of the kernels' rows.
const BLOCK: usize = 32;
/// Rows of the index scored together (a multiple of the kernels' 32 columns).
const CHUNK: usize = 2048;

/// Rows of vectors searched by dot product. See the module documentation.
pub struct NearestIndex {
    /// The rows, [`CHUNK`] at a time (the last one shorter).
    chunks: Vec<Linear>,
    rows: usize,
    dim: usize,
    kernel: Kernel,
}

impl std::fmt::Debug for NearestIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NearestIndex")
            .field("rows", &self.rows)
            .field("dim", &self.dim)
            .field("kernel", &self.kernel.name())
            .finish()
    }
}

impl NearestIndex {
    /// An index of `rows` vectors of length `dim`; `row(i, out)` writes
    /// vector `i` into `out` (so a caller holding vectors in another
    /// precision needs no f32 copy of them all).
    pub fn from_rows(rows: usize, dim: usize, row: impl Fn(usize, &mut [f32]) + Sync) -> Self {
        let chunks = (0..rows.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let first = c * CHUNK;
                let n = (rows - first).min(CHUNK);
                Linear::from_rows(n, dim, |i, out| row(first + i, out))
            })
            .collect();
        NearestIndex {
            chunks,
            rows,
            dim,
            kernel: default_kernel().for_bf16(),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True when the index holds no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// For each query (length `dim`), the `k` rows with the highest dot
    /// product, best first (ties: lower row first). The chunks of rows are
    /// shared among the threads of the current rayon pool.
    pub fn nearest<Q: AsRef<[f32]> + Sync>(&self, queries: &[Q], k: usize) -> Vec<Vec<(u32, f32)>> {
        if self.is_empty() || k == 0 || queries.is_empty() {
            return vec![Vec::new(); queries.len()];
        }
        // Every block of queries as bf16 pairs, once.
        let blocks: Vec<(usize, Vec<u32>)> = queries
            .chunks(BLOCK)
            .map(|block| {
                let rows = block.len();
                let mut flat = vec![0f32; rows * self.dim];
                for (dst, q) in flat.chunks_exact_mut(self.dim).zip(block) {
                    let q = q.as_ref();
                    let m = q.len().min(self.dim);
                    dst[..m].copy_from_slice(&q[..m]);
                }
                let mut pairs = Vec::new();
                gemm::to_pairs(&flat, rows, self.dim, &mut pairs);
                (rows, pairs)
            })
            .collect();
        // Consecutive chunks per task, each task keeping every query's best.
        let tasks = (4 * rayon::current_num_threads()).min(self.chunks.len());
        let per = self.chunks.len().div_ceil(tasks);
        let partial: Vec<Vec<TopK>> = self
            .chunks
            .par_chunks(per)
            .enumerate()
            .map(|(t, chunks)| {
                let mut best: Vec<TopK> = (0..queries.len()).map(|_| TopK::new(k)).collect();
                let mut scores = Vec::new();
                for (c, layer) in chunks.iter().enumerate() {
                    let first = ((t * per + c) * CHUNK) as u32;
                    let n = layer.n();
                    for (b, (rows, pairs)) in blocks.iter().enumerate() {
                        layer.forward(self.kernel, pairs, *rows, &mut scores);
                        for (q, s) in scores.chunks_exact(n).enumerate() {
                            best[b * BLOCK + q].offer(s, first);
                        }
                    }
                }
                best
            })
            .collect();
        (0..queries.len())
            .map(|q| {
                let mut all: Vec<(u32, f32)> = partial
                    .iter()
                    .flat_map(|p| p[q].hits.iter().map(|&(s, i)| (i, s)))
                    .collect();
                all.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                all.truncate(k);
                all
            })
            .collect()
    }
}

/// The `k` best (score, row) seen so far, rows offered in increasing
/// order: a row enters when it beats the `k`-th best, which is found again
/// (by partial selection) each time `2k` rows are held. Ties go to the
/// lower row, as a full sort by (score descending, row) would order them.
struct TopK {
    k: usize,
    hits: Vec<(f32, u32)>,
    /// The `k`-th best score once `k` rows are held (`-inf` before).
    floor: f32,
}

impl TopK {
    fn new(k: usize) -> Self {
        TopK {
            k,
            hits: Vec::with_capacity(2 * k),
            floor: f32::NEG_INFINITY,
        }
    }

    /// Offers `scores[i]` as row `first + i`, for every `i`.
    fn offer(&mut self, scores: &[f32], first: u32) {
        for (i, &s) in scores.iter().enumerate() {
            // Rows come in increasing order: one tied with the floor is
            // worse than the `k` rows already held.
            if self.hits.len() >= self.k && s.total_cmp(&self.floor).is_le() {
                continue;
            }
            self.push(s, first + i as u32);
        }
    }

    fn push(&mut self, s: f32, row: u32) {
        self.hits.push((s, row));
        if self.hits.len() == 2 * self.k || self.hits.len() == self.k {
            let better = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
            if self.hits.len() > self.k {
                self.hits.select_nth_unstable_by(self.k - 1, better);
                self.hits.truncate(self.k);
            }
            self.floor = self
                .hits
                .iter()
                .map(|h| h.0)
                .min_by(|a, b| a.total_cmp(b))
                .unwrap_or(f32::NEG_INFINITY);
        }
    }
}

/// The `k` best of `scores` (index, score), best first; ties by index.
#[cfg(test)]
fn top_k(scores: &[f32], k: usize) -> Vec<(u32, f32)> {
    let k = k.min(scores.len());
    let mut idx: Vec<u32> = (0..scores.len() as u32).collect();
    let better = |a: &u32, b: &u32| {
        scores[*b as usize]
            .total_cmp(&scores[*a as usize])
            .then(a.cmp(b))
    };
    idx.sort_unstable_by(better);
    idx.truncate(k);
    idx.into_iter().map(|i| (i, scores[i as usize])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &mut [f32]) {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        v.iter_mut().for_each(|x| *x /= n);
    }

    /// A small deterministic generator (xorshift).
    fn vectors(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut s = seed.max(1);
        (0..n)
            .map(|_| {
                let mut v: Vec<f32> = (0..dim)
                    .map(|_| {
                        s ^= s << 13;
                        s ^= s >> 7;
                        s ^= s << 17;
                        (s % 2001) as f32 / 1000.0 - 1.0
                    })
                    .collect();
                unit(&mut v);
                v
            })
            .collect()
    }

    #[test]
    fn finds_the_same_neighbours_as_a_full_scan() {
        let (n, dim) = (517, 48);
        let rows = vectors(n, dim, 7);
        let index = NearestIndex::from_rows(n, dim, |i, out| out.copy_from_slice(&rows[i]));
        assert_eq!(index.len(), n);
        // Queries: some rows themselves, some near a row, some random.
        let mut queries = vectors(40, dim, 99);
        queries[0] = rows[3].clone();
        queries[1] = rows[516].clone();
        let mut near = rows[200].clone();
        near[0] += 0.05;
        unit(&mut near);
        queries[2] = near;
        let got = index.nearest(&queries, 10);
        assert_eq!(got.len(), queries.len());
        assert_eq!(got[0][0].0, 3);
        assert_eq!(got[1][0].0, 516);
        assert_eq!(got[2][0].0, 200);
        for (q, hits) in queries.iter().zip(&got) {
            assert_eq!(hits.len(), 10);
            let mut exact: Vec<(usize, f32)> = rows
                .iter()
                .enumerate()
                .map(|(i, r)| (i, crate::cosine(q, r)))
                .collect();
            exact.sort_by(|a, b| b.1.total_cmp(&a.1));
            // Scores within bfloat16 rounding of the exact cosine, in order.
            for w in hits.windows(2) {
                assert!(w[0].1 >= w[1].1);
            }
            for &(i, s) in hits {
                assert!((s - crate::cosine(q, &rows[i as usize])).abs() < 0.01);
            }
            // Whatever the rounding, the true best is found when it stands
            // clear of the second.
            if exact[0].1 - exact[1].1 > 0.02 {
                assert_eq!(hits[0].0 as usize, exact[0].0);
            }
        }
    }

    #[test]
    fn k_larger_than_the_index_and_an_empty_index() {
        let rows = vectors(5, 16, 3);
        let index = NearestIndex::from_rows(5, 16, |i, out| out.copy_from_slice(&rows[i]));
        let got = index.nearest(&[rows[2].clone()], 50);
        assert_eq!(got[0].len(), 5);
        assert_eq!(got[0][0].0, 2);
        let empty = NearestIndex::from_rows(0, 16, |_, _| {});
        assert!(empty.is_empty());
        assert_eq!(empty.nearest(&[rows[0].clone()], 3), vec![Vec::new()]);
    }

    /// Many chunks, odd sizes, tied rows: the same rows and scores as
    /// scoring every row in one product and sorting, on each kernel.
    #[test]
    fn chunked_search_equals_a_full_sort() {
        let (n, dim) = (2 * CHUNK + 777, 37);
        let mut rows = vectors(n, dim, 11);
        // Ties: copies of a row far apart (different chunks).
        for i in [5, CHUNK + 3, 2 * CHUNK + 700] {
            rows[i] = rows[1000].clone();
        }
        let mut queries = vectors(BLOCK + 7, dim, 5);
        queries[0] = rows[1000].clone();
        let mut index = NearestIndex::from_rows(n, dim, |i, out| out.copy_from_slice(&rows[i]));
        assert_eq!((index.len(), index.chunks.len()), (n, 3));
        let whole = Linear::from_rows(n, dim, |i, out| out.copy_from_slice(&rows[i]));
        for name in ["portable", "avx512", "amx"] {
            let Some(kernel) = Kernel::parse(name).filter(|k| k.available()) else {
                continue;
            };
            index.kernel = kernel;
            for k in [1, 4, 40, 3000] {
                let got = index.nearest(&queries, k);
                for (q, hits) in queries.iter().zip(&got) {
                    let mut pairs = Vec::new();
                    gemm::to_pairs(q, 1, dim, &mut pairs);
                    let mut scores = Vec::new();
                    whole.forward(kernel, &pairs, 1, &mut scores);
                    assert_eq!(hits, &top_k(&scores, k), "{name} k={k}");
                }
            }
            let first = &index.nearest(&queries[..1], 4)[0];
            let tied: Vec<u32> = first.iter().map(|h| h.0).collect();
            assert_eq!(
                tied,
                vec![5, 1000, CHUNK as u32 + 3, 2 * CHUNK as u32 + 700]
            );
        }
    }

    #[test]
    fn top_k_orders_and_breaks_ties_by_row() {
        let s = [0.1, 0.9, 0.5, 0.9, -1.0];
        assert_eq!(top_k(&s, 3), vec![(1, 0.9), (3, 0.9), (2, 0.5)]);
        assert_eq!(top_k(&s, 9).len(), 5);
    }
}
