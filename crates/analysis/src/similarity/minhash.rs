//! MinHash signatures, LSH banding, exact verification, and the brute-force
//! reference.
//!
//! A MinHash signature of a set keeps, for each of `bands × rows` hash
//! functions, the smallest hash of the set's elements; two sets agree on one
//! signature position with probability equal to their Jaccard similarity.
//! Cutting the signature into `bands` bands of `rows` positions and pairing
//! sets that agree on a whole band makes a pair at similarity `s` a
//! candidate with probability `1 − (1 − sʳ)ᵇ` — an S-curve whose steep part
//! sits near `(1/b)^(1/r)`. Candidates are then verified with the exact
//! Jaccard of the sets, so results are exact pairs; what LSH can cost is
//! recall, which [`LshParams::candidate_probability`] predicts and the tests
//! measure.

use super::text::{Features, feature_set, fmix64};
use rayon::prelude::*;

/// How near-duplicates are searched.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LshParams {
    /// Number of bands.
    pub bands: usize,
    /// Signature positions per band.
    pub rows: usize,
    /// Seed of the hash family (fixed by default: results are reproducible).
    pub seed: u64,
    /// Features the sets are made of, for the text entry points.
    pub features: Features,
}

impl Default for LshParams {
    /// 20 bands × 5 rows (100 hash functions): a pair at Jaccard 0.8 is a
    /// candidate with probability 0.9997, at 0.9 with 1 − 10⁻¹², while a
    /// pair at 0.3 is one with probability 0.05, so verification stays cheap.
    fn default() -> Self {
        LshParams {
            bands: 20,
            rows: 5,
            seed: 0x5eed_0fa1_1c0d_e5ee,
            features: Features::Tokens,
        }
    }
}

impl LshParams {
    /// Probability that a pair with Jaccard similarity `s` shares at least
    /// one band (and so is verified): `1 − (1 − sʳ)ᵇ`.
    pub fn candidate_probability(&self, s: f64) -> f64 {
        1.0 - (1.0 - s.powi(self.rows as i32)).powi(self.bands as i32)
    }

    /// Number of hash functions (`bands × rows`).
    pub fn num_hashes(&self) -> usize {
        self.bands * self.rows
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    fmix64(*state)
}

/// A seeded family of hash functions `hᵢ(x) = ⌊(aᵢ·x + bᵢ) mod 2⁶⁴ / 2³²⌋`
/// (multiply-shift with odd `aᵢ`) over already well-mixed 64-bit feature
/// hashes, and the MinHash signatures they give.
#[derive(Clone, Debug)]
pub struct MinHasher {
    a: Vec<u64>,
    b: Vec<u64>,
}

impl MinHasher {
    /// `n` hash functions drawn from `seed`.
    pub fn new(n: usize, seed: u64) -> MinHasher {
        let mut state = seed;
        let a = (0..n).map(|_| splitmix64(&mut state) | 1).collect();
        let b = (0..n).map(|_| splitmix64(&mut state)).collect();
        MinHasher { a, b }
    }

    /// Number of hash functions (signature length).
    pub fn len(&self) -> usize {
        self.a.len()
    }

    pub fn is_empty(&self) -> bool {
        self.a.is_empty()
    }

    /// Writes the signature of `set` into `out` (`out.len() == self.len()`);
    /// an empty set gives all `u32::MAX`.
    pub fn signature_into(&self, set: &[u64], out: &mut [u32]) {
        assert_eq!(out.len(), self.a.len(), "signature buffer length");
        out.fill(u32::MAX);
        for &x in set {
            for ((o, &a), &b) in out.iter_mut().zip(&self.a).zip(&self.b) {
                let h = (a.wrapping_mul(x).wrapping_add(b) >> 32) as u32;
                if h < *o {
                    *o = h;
                }
            }
        }
    }

    /// The signature of `set`.
    pub fn signature(&self, set: &[u64]) -> Vec<u32> {
        let mut out = vec![0; self.len()];
        self.signature_into(set, &mut out);
        out
    }
}

/// Exact Jaccard similarity of two sorted, deduplicated sets; 0 when both
/// are empty (an empty text is similar to nothing).
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
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
    common as f64 / (a.len() + b.len() - common) as f64
}

/// Jaccard of the pair when it can reach `threshold`, `None` otherwise; the
/// size ratio bounds Jaccard from above and skips most merges.
fn verified(a: &[u64], b: &[u64], threshold: f64) -> Option<f64> {
    let (small, large) = if a.len() <= b.len() {
        (a.len(), b.len())
    } else {
        (b.len(), a.len())
    };
    if small == 0 || (small as f64) < threshold * large as f64 - 1e-12 {
        return None;
    }
    let j = jaccard(a, b);
    (j >= threshold).then_some(j)
}

/// Candidate pairs `(i, j)`, `i < j`, of sets that agree on at least one
/// LSH band, sorted and without repeats. Empty sets are never candidates.
pub fn candidate_pairs<S>(sets: &[S], params: &LshParams) -> Vec<(u32, u32)>
where
    S: AsRef<[u64]> + Sync,
{
    assert!(
        params.bands > 0 && params.rows > 0,
        "LSH needs bands and rows"
    );
    assert!(sets.len() <= u32::MAX as usize, "at most 2^32 sets");
    let hasher = MinHasher::new(params.num_hashes(), params.seed);
    let (bands, rows) = (params.bands, params.rows);
    // Band keys, set-major: keys[i * bands + band].
    let keys: Vec<u64> = sets
        .par_iter()
        .with_min_len(256)
        .map_init(
            || vec![0u32; hasher.len()],
            |sig, set| {
                let set = set.as_ref();
                hasher.signature_into(set, sig);
                (0..bands)
                    .map(move |band| {
                        if set.is_empty() {
                            return 0; // never read: empty sets are skipped below
                        }
                        sig[band * rows..(band + 1) * rows]
                            .iter()
                            .fold(fmix64(band as u64 + 1), |h, &v| {
                                fmix64(h ^ u64::from(v)).rotate_left(17)
                            })
                    })
                    .collect::<Vec<u64>>()
            },
        )
        .flatten_iter()
        .collect();
    let mut pairs: Vec<u64> = (0..bands)
        .into_par_iter()
        .flat_map_iter(|band| {
            let mut bucket: Vec<(u64, u32)> = sets
                .iter()
                .enumerate()
                .filter(|(_, s)| !s.as_ref().is_empty())
                .map(|(i, _)| (keys[i * bands + band], i as u32))
                .collect();
            bucket.sort_unstable();
            let mut out = Vec::new();
            for run in bucket.chunk_by(|x, y| x.0 == y.0) {
                for (k, &(_, i)) in run.iter().enumerate() {
                    for &(_, j) in &run[k + 1..] {
                        out.push((u64::from(i) << 32) | u64::from(j));
                    }
                }
            }
            out
        })
        .collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs
        .into_iter()
        .map(|p| ((p >> 32) as u32, p as u32))
        .collect()
}

/// Pairs `(i, j, jaccard)`, `i < j`, of sets with Jaccard ≥ `threshold`,
/// found through MinHash LSH and verified exactly; sorted by `(i, j)`.
pub fn near_duplicate_set_pairs<S>(
    sets: &[S],
    threshold: f64,
    params: &LshParams,
) -> Vec<(usize, usize, f64)>
where
    S: AsRef<[u64]> + Sync,
{
    candidate_pairs(sets, params)
        .into_par_iter()
        .filter_map(|(i, j)| {
            let (i, j) = (i as usize, j as usize);
            verified(sets[i].as_ref(), sets[j].as_ref(), threshold).map(|s| (i, j, s))
        })
        .collect()
}

/// The quadratic reference for [`near_duplicate_set_pairs`]: every pair is
/// compared. Use it on samples, to measure recall.
pub fn near_duplicate_set_pairs_brute_force<S>(
    sets: &[S],
    threshold: f64,
) -> Vec<(usize, usize, f64)>
where
    S: AsRef<[u64]> + Sync,
{
    (0..sets.len())
        .into_par_iter()
        .flat_map_iter(|i| {
            (i + 1..sets.len()).filter_map(move |j| {
                verified(sets[i].as_ref(), sets[j].as_ref(), threshold).map(|s| (i, j, s))
            })
        })
        .collect()
}

/// Pairs `(i, j, jaccard)`, `i < j`, of `texts` whose feature sets
/// (`params.features`, from the normalised text) have Jaccard ≥ `threshold`.
/// Texts without features (empty, only URLs or mentions) match nothing.
///
/// ```
/// use pharos_analysis::similarity::{near_duplicate_pairs, LshParams};
/// let texts = [
///     "The election was stolen, share before they delete this",
///     "the election was STOLEN share before they delete this!!",
///     "Lovely weather in Tallinn today",
/// ];
/// let pairs = near_duplicate_pairs(&texts, 0.8, &LshParams::default());
/// assert_eq!(pairs, vec![(0, 1, 1.0)]);
/// ```
pub fn near_duplicate_pairs<T>(
    texts: &[T],
    threshold: f64,
    params: &LshParams,
) -> Vec<(usize, usize, f64)>
where
    T: AsRef<str> + Sync,
{
    let sets: Vec<Vec<u64>> = texts
        .par_iter()
        .map(|t| feature_set(t.as_ref(), params.features))
        .collect();
    near_duplicate_set_pairs(&sets, threshold, params)
}

/// The quadratic reference for [`near_duplicate_pairs`].
pub fn near_duplicate_pairs_brute_force<T>(
    texts: &[T],
    threshold: f64,
    features: Features,
) -> Vec<(usize, usize, f64)>
where
    T: AsRef<str> + Sync,
{
    let sets: Vec<Vec<u64>> = texts
        .par_iter()
        .map(|t| feature_set(t.as_ref(), features))
        .collect();
    near_duplicate_set_pairs_brute_force(&sets, threshold)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (splitmix64), so the samples are the
    /// same on every run.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            splitmix64(&mut self.0)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Families of texts around the threshold: a base text of 12–40 words
    /// from a 3,000-word vocabulary, and variants with 0–4 words replaced,
    /// dropped or added, so many pairs sit just above and just below 0.8.
    fn sample(seed: u64, families: usize) -> Vec<String> {
        let mut rng = Rng(seed);
        let word = |i: u64| format!("w{i}");
        let mut texts = Vec::new();
        for _ in 0..families {
            let len = 12 + rng.below(29) as usize;
            let base: Vec<u64> = (0..len).map(|_| rng.below(3000)).collect();
            let variants = 1 + rng.below(6);
            for _ in 0..variants {
                let mut v = base.clone();
                for _ in 0..rng.below(5) {
                    match rng.below(3) {
                        0 => {
                            let i = rng.below(v.len() as u64) as usize;
                            v[i] = rng.below(3000);
                        }
                        1 if v.len() > 2 => {
                            let i = rng.below(v.len() as u64) as usize;
                            v.remove(i);
                        }
                        _ => v.push(rng.below(3000)),
                    }
                }
                texts.push(v.iter().map(|&w| word(w)).collect::<Vec<_>>().join(" "));
            }
        }
        texts
    }

    #[test]
    fn signature_agreement_estimates_jaccard() {
        let mut a: Vec<u64> = (0..200u64).map(fmix64).collect();
        let mut b: Vec<u64> = (50..250u64).map(fmix64).collect();
        a.sort_unstable();
        b.sort_unstable();
        let truth = jaccard(&a, &b); // 150 / 250 = 0.6
        assert!((truth - 0.6).abs() < 1e-12);
        let h = MinHasher::new(2000, 7);
        let (sa, sb) = (h.signature(&a), h.signature(&b));
        let agree = sa.iter().zip(&sb).filter(|(x, y)| x == y).count() as f64 / 2000.0;
        assert!((agree - truth).abs() < 0.04, "estimate {agree} vs {truth}");
    }

    #[test]
    fn jaccard_edges() {
        assert_eq!(jaccard(&[], &[]), 0.0);
        assert_eq!(jaccard(&[1, 2], &[]), 0.0);
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(verified(&[1, 2, 3, 4], &[1, 2, 3, 4, 5], 0.8), Some(0.8));
        assert_eq!(verified(&[1, 2, 3], &[1, 2, 3, 4, 5], 0.8), None);
    }

    #[test]
    fn lsh_recall_against_brute_force_at_0_8() {
        let params = LshParams::default();
        assert!(params.candidate_probability(0.8) > 0.999);
        let mut found = 0usize;
        let mut truth_total = 0usize;
        for seed in [1u64, 2, 3] {
            let texts = sample(seed, 700);
            let truth = near_duplicate_pairs_brute_force(&texts, 0.8, Features::Tokens);
            let got = near_duplicate_pairs(&texts, 0.8, &params);
            // Exact verification: LSH never reports a pair brute force lacks,
            // and reports the same similarity.
            let truth_set: std::collections::HashMap<(usize, usize), f64> =
                truth.iter().map(|&(i, j, s)| ((i, j), s)).collect();
            for &(i, j, s) in &got {
                assert_eq!(truth_set.get(&(i, j)), Some(&s), "false pair {i},{j}");
            }
            // The sample must actually exercise the threshold.
            let near = truth.iter().filter(|p| p.2 < 0.9).count();
            assert!(truth.len() > 1000 && near > 300, "{} / {near}", truth.len());
            found += got.len();
            truth_total += truth.len();
        }
        let recall = found as f64 / truth_total as f64;
        eprintln!("LSH recall at 0.8: {recall} ({found} / {truth_total})");
        assert!(recall >= 0.99, "recall {recall} ({found} / {truth_total})");
    }

    #[test]
    fn narrow_lsh_loses_pairs_so_the_recall_test_can_fail() {
        // One band of 20 rows: a pair at 0.8 is a candidate with p = 0.012.
        let params = LshParams {
            bands: 1,
            rows: 20,
            ..LshParams::default()
        };
        let texts = sample(1, 300);
        let truth = near_duplicate_pairs_brute_force(&texts, 0.8, Features::Tokens);
        let got = near_duplicate_pairs(&texts, 0.8, &params);
        assert!((got.len() as f64) < 0.9 * truth.len() as f64);
    }

    #[test]
    fn empty_texts_never_pair() {
        let texts = ["", "@a https://x", "", "hello world"];
        assert!(near_duplicate_pairs(&texts, 0.5, &LshParams::default()).is_empty());
        assert!(near_duplicate_pairs_brute_force(&texts, 0.0, Features::Tokens).is_empty());
    }

    #[test]
    fn shingle_features() {
        let texts = [
            "vote for the green party now",
            "now vote the for party green",
        ];
        let p = LshParams::default();
        assert_eq!(near_duplicate_pairs(&texts, 0.99, &p).len(), 1);
        let shingled = LshParams {
            features: Features::WordShingles(2),
            ..p
        };
        assert!(near_duplicate_pairs(&texts, 0.5, &shingled).is_empty());
        let chars = LshParams {
            features: Features::CharShingles(4),
            ..p
        };
        let typo = [
            "coordinated inauthentic behaviour",
            "coordinated inauthentic behavior",
        ];
        assert_eq!(near_duplicate_pairs(&typo, 0.8, &chars).len(), 1);
    }
}
