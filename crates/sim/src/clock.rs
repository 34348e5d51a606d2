//! When organic posts happen.
//!
//! Organic volume follows a daily cycle (the mix of each language's local
//! cycle, so Russian and Ukrainian evenings come before English ones in
//! UTC), a weekly cycle (quieter weekends) and a few short news spikes.
//! The clock hands out exactly `n` times in increasing order with O(1)
//! state per step: it walks the order statistics of `n` uniform draws over
//! the cumulative intensity (the minimum of `m` uniforms on `[x, 1]` is
//! `x + (1 - x)(1 - V^(1/m))`) and maps each through the inverse of the
//! piecewise-constant hourly intensity.

use crate::lexicon::LANGS;
use crate::rng::SimRng;
use rand::{Rng, SeedableRng};

const HOUR_MS: i64 = 3_600_000;

/// Relative activity by local hour (0 = midnight).
const LOCAL_DAY: [f64; 24] = [
    0.42, 0.26, 0.16, 0.11, 0.10, 0.14, 0.30, 0.58, 0.86, 1.00, 1.02, 1.00, //
    1.05, 1.02, 0.97, 0.96, 1.00, 1.08, 1.20, 1.34, 1.40, 1.30, 1.02, 0.70,
];
/// Relative activity Monday..Sunday.
const WEEK: [f64; 7] = [1.0, 1.02, 1.0, 0.98, 0.93, 0.76, 0.80];
/// Weights of the languages in the daily mix (same as the accounts').
const LANG_MIX: [f64; 6] = [0.30, 0.20, 0.16, 0.13, 0.11, 0.10];

pub(crate) struct OrganicClock {
    start: i64,
    end: i64,
    /// Cumulative intensity at the start of each hour bucket; one more entry than buckets.
    cum: Vec<f64>,
    n: u64,
    k: u64,
    x: f64,
    bucket: usize,
}

impl OrganicClock {
    pub(crate) fn new(start: i64, end: i64, n: u64, seed: u64) -> OrganicClock {
        let mut utc_day = [0.0; 24];
        for (h, slot) in utc_day.iter_mut().enumerate() {
            *slot = LANGS
                .iter()
                .zip(LANG_MIX)
                .map(|(l, w)| w * LOCAL_DAY[(h as i32 + l.utc_offset).rem_euclid(24) as usize])
                .sum();
        }
        let buckets = ((end - start) as f64 / HOUR_MS as f64).ceil().max(1.0) as usize;
        let mut weight: Vec<f64> = (0..buckets)
            .map(|b| {
                let t = start + b as i64 * HOUR_MS;
                let hour = t.div_euclid(HOUR_MS).rem_euclid(24) as usize;
                // 1970-01-01 was a Thursday: Monday = 0.
                let dow = (t.div_euclid(24 * HOUR_MS) + 3).rem_euclid(7) as usize;
                let len = ((end - t).min(HOUR_MS)) as f64 / HOUR_MS as f64;
                utc_day[hour] * WEEK[dow] * len
            })
            .collect();
        // News spikes: a couple of busy hours every other day.
        let mut rng = SimRng::seed_from_u64(seed ^ 0x5EED_C10C);
        let spikes = ((buckets as f64 / 48.0).round() as usize).max(1);
        for _ in 0..spikes {
            let b = rng.random_range(0..buckets);
            let f = rng.random_range(1.6..2.6);
            for w in weight.iter_mut().skip(b).take(2) {
                *w *= f;
            }
        }
        let mut cum = Vec::with_capacity(buckets + 1);
        let mut acc = 0.0;
        cum.push(0.0);
        for w in &weight {
            acc += w;
            cum.push(acc);
        }
        OrganicClock {
            start,
            end,
            cum,
            n,
            k: 0,
            x: 0.0,
            bucket: 0,
        }
    }

    /// Next organic post time (ms), or `None` after `n` of them.
    pub(crate) fn next(&mut self, rng: &mut SimRng) -> Option<i64> {
        if self.k >= self.n {
            return None;
        }
        let m = (self.n - self.k) as f64;
        let v: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
        self.x += (1.0 - self.x) * -(v.ln() / m).exp_m1();
        self.k += 1;
        let total = *self.cum.last().expect("at least one bucket");
        let target = (self.x * total).min(total);
        let last = self.cum.len() - 2;
        while self.bucket < last && self.cum[self.bucket + 1] < target {
            self.bucket += 1;
        }
        let b = self.bucket;
        let width = self.cum[b + 1] - self.cum[b];
        let frac = if width > 0.0 {
            ((target - self.cum[b]) / width).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let bucket_start = self.start + b as i64 * HOUR_MS;
        let bucket_len = (self.end - bucket_start).min(HOUR_MS);
        let t = bucket_start + (frac * bucket_len as f64) as i64;
        Some(t.min(self.end - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_count_in_order_within_span() {
        let (start, end) = (1_740_960_000_000, 1_740_960_000_000 + 3 * 86_400_000 + 1234);
        for n in [0u64, 1, 2, 1000, 50_000] {
            let mut clock = OrganicClock::new(start, end, n, 9);
            let mut rng = SimRng::seed_from_u64(1);
            let mut times = Vec::new();
            while let Some(t) = clock.next(&mut rng) {
                times.push(t);
            }
            assert_eq!(times.len() as u64, n);
            assert!(times.windows(2).all(|w| w[0] <= w[1]));
            assert!(times.iter().all(|&t| (start..end).contains(&t)));
        }
    }

    #[test]
    fn nights_are_quieter_than_evenings() {
        let start = 1_740_960_000_000; // Monday 00:00 UTC
        let mut clock = OrganicClock::new(start, start + 7 * 86_400_000, 100_000, 3);
        let mut rng = SimRng::seed_from_u64(2);
        let mut hours = [0u32; 24];
        while let Some(t) = clock.next(&mut rng) {
            hours[((t - start) / HOUR_MS % 24) as usize] += 1;
        }
        assert!(hours[2] * 3 < hours[18], "{hours:?}");
    }
}
