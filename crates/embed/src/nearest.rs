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

use crate::gemm::{self, Kernel, Linear, default_kernel};
use rayon::prelude::*;

/// Queries scored together: one block of the kernels' rows.
const BLOCK: usize = 32;

/// Rows of vectors searched by dot product. See the module documentation.
pub struct NearestIndex {
    layer: Linear,
    dim: usize,
    kernel: Kernel,
}

impl std::fmt::Debug for NearestIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NearestIndex")
            .field("rows", &self.layer.n())
            .field("dim", &self.dim)
            .field("kernel", &self.kernel.name())
            .finish()
    }
}

impl NearestIndex {
    /// An index of `rows` vectors of length `dim`; `row(i, out)` writes
    /// vector `i` into `out` (so a caller holding vectors in another
    /// precision needs no f32 copy of them all).
    pub fn from_rows(rows: usize, dim: usize, row: impl Fn(usize, &mut [f32])) -> Self {
        NearestIndex {
            layer: Linear::from_rows(rows, dim, row),
            dim,
            kernel: default_kernel(),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.layer.n()
    }

    /// True when the index holds no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// For each query (length `dim`), the `k` rows with the highest dot
    /// product, best first (ties: lower row first). Blocks of queries run
    /// on the threads of the current rayon pool.
    pub fn nearest<Q: AsRef<[f32]> + Sync>(&self, queries: &[Q], k: usize) -> Vec<Vec<(u32, f32)>> {
        if self.is_empty() || k == 0 {
            return vec![Vec::new(); queries.len()];
        }
        queries
            .par_chunks(BLOCK)
            .flat_map_iter(|block| self.nearest_block(block, k))
            .collect()
    }

    fn nearest_block<Q: AsRef<[f32]>>(&self, block: &[Q], k: usize) -> Vec<Vec<(u32, f32)>> {
        let rows = block.len();
        let mut flat = vec![0f32; rows * self.dim];
        for (dst, q) in flat.chunks_exact_mut(self.dim).zip(block) {
            let q = q.as_ref();
            let m = q.len().min(self.dim);
            dst[..m].copy_from_slice(&q[..m]);
        }
        let mut pairs = Vec::new();
        gemm::to_pairs(&flat, rows, self.dim, &mut pairs);
        let mut scores = Vec::new();
        self.layer.forward(self.kernel, &pairs, rows, &mut scores);
        let n = self.layer.n();
        scores.chunks_exact(n).map(|s| top_k(s, k)).collect()
    }
}

/// The `k` best of `scores` (index, score), best first; ties by index.
fn top_k(scores: &[f32], k: usize) -> Vec<(u32, f32)> {
    let k = k.min(scores.len());
    // A threshold from a partial selection keeps the sort small.
    let mut idx: Vec<u32> = (0..scores.len() as u32).collect();
    let better = |a: &u32, b: &u32| {
        scores[*b as usize]
            .total_cmp(&scores[*a as usize])
            .then(a.cmp(b))
    };
    if k < idx.len() {
        idx.select_nth_unstable_by(k - 1, better);
        idx.truncate(k);
    }
    idx.sort_unstable_by(better);
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

    #[test]
    fn top_k_orders_and_breaks_ties_by_row() {
        let s = [0.1, 0.9, 0.5, 0.9, -1.0];
        assert_eq!(top_k(&s, 3), vec![(1, 0.9), (3, 0.9), (2, 0.5)]);
        assert_eq!(top_k(&s, 9).len(), 5);
    }
}
