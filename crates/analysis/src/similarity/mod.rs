//! Near-duplicate text: normalisation, token sets, shingles, MinHash and LSH.
//!
//! Two posts are near-duplicates when the Jaccard similarity of their feature
//! sets (word tokens, word shingles or character shingles of the normalised
//! text) reaches a threshold. Comparing every pair is quadratic; this module
//! finds the same pairs in near-linear time:
//!
//! 1. [`text`]: normalise ([`normalize_for_matching`]: lowercase, no URLs, no
//!    @mentions, single spaces) and cut into Unicode-aware [`tokens`],
//!    [`word_shingles`] or [`char_shingles`], hashed to `u64` feature sets.
//! 2. [`minhash`]: a MinHash signature per set (a seeded multiply-shift hash
//!    family), cut into bands; sets that agree on a whole band are
//!    *candidates* (locality-sensitive hashing).
//! 3. Every candidate pair is verified with the exact Jaccard of its sets, so
//!    LSH can only lose pairs (recall), never add false ones (precision is 1).
//!
//! [`near_duplicate_pairs`] is the one-call entry point;
//! [`near_duplicate_pairs_brute_force`] is the quadratic reference it is
//! measured against. With the default [`LshParams`] (20 bands of 5 rows) a
//! pair at Jaccard 0.8 becomes a candidate with probability
//! 1 − (1 − 0.8⁵)²⁰ ≈ 0.9997; the tests measure recall ≥ 0.99 against brute
//! force on a sample built around the threshold.
//!
//! Users: the `co-similar-text` kind of the directed coordination networks
//! ([`crate::coordination::directed`]), and near-duplicate ("copypasta")
//! families.

pub mod minhash;
pub mod text;
pub mod translit;

pub use minhash::{
    LshParams, MinHasher, candidate_pairs, jaccard, near_duplicate_pairs,
    near_duplicate_pairs_brute_force, near_duplicate_set_pairs,
    near_duplicate_set_pairs_brute_force,
};
pub use text::{
    Features, char_shingles, feature_set, hash_bytes, normalize_cotweet, normalize_for_matching,
    token_set, tokens, word_shingles,
};
