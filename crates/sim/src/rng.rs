//! Randomness: one ChaCha8 stream for the event sequence and stateless
//! hashing for everything that must be the same whenever it is looked at
//! (an actor's profile is a function of the seed and the actor's index, so
//! no table of actors is kept).

use rand::Rng;

pub(crate) type SimRng = rand_chacha::ChaCha8Rng;

/// SplitMix64 finaliser: a good 64-bit mixer.
#[inline]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of the seed and two keys.
#[inline]
pub(crate) fn hash(seed: u64, a: u64, b: u64) -> u64 {
    mix(mix(seed ^ mix(a)).wrapping_add(b))
}

/// Uniform in [0, 1) from 53 bits of `h`.
#[inline]
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Approximately standard normal from `h` (sum of four uniforms; tails cut at ±3.5).
#[inline]
pub(crate) fn normal(h: u64) -> f64 {
    let s: f64 = (0..4)
        .map(|i| ((h >> (16 * i)) & 0xFFFF) as f64 / 65536.0)
        .sum();
    (s - 2.0) * 3f64.sqrt()
}

/// An element of `xs` chosen by hash.
#[inline]
pub(crate) fn pick_h<T>(h: u64, xs: &[T]) -> &T {
    &xs[(h % xs.len() as u64) as usize]
}

/// An element of `xs` chosen by the stream.
#[inline]
pub(crate) fn pick<T: Copy>(rng: &mut SimRng, xs: &[T]) -> T {
    xs[rng.random_range(0..xs.len())]
}

/// Exponential with the given mean.
#[inline]
pub(crate) fn exp(rng: &mut SimRng, mean: f64) -> f64 {
    -mean * (1.0 - rng.random::<f64>()).ln()
}

/// True with probability `p`.
#[inline]
pub(crate) fn chance(rng: &mut SimRng, p: f64) -> bool {
    rng.random::<f64>() < p
}
