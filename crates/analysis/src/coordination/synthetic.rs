//! Deterministic synthetic co-retweet shares, for benchmarks and scale tests.
//!
//! Shaped like a retweet collection: objects (tweets) with a heavy-tailed
//! popularity, each retweeted in a burst that decays over hours; accounts
//! with a heavy-tailed activity; and planted groups of 30 accounts that
//! retweet the same object within 20 seconds (1% of the events).

/// A small xorshift generator (no dependency, same stream everywhere).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }
}

/// Calls `emit(object, account, content, time_secs)` for `n` synthetic
/// retweets (`n / 20` objects, `n / 10` accounts, over about a week).
pub fn co_retweet(n: usize, seed: u64, mut emit: impl FnMut(u64, u64, u64, i64)) {
    let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let objects = (n / 20).max(10) as u64;
    let accounts = (n / 10).max(100) as u64;
    let week = 7.0 * 86_400.0;
    let mut k = 0usize;
    while k < n {
        if r.next().is_multiple_of(100) {
            let o = r.next() % objects;
            let t0 = (r.unit() * week) as i64;
            let bots = 1_000_000_000 + (r.next() % 50) * 30;
            for b in 0..30u64.min((n - k) as u64) {
                emit(o, bots + b, k as u64, t0 + (r.next() % 20) as i64);
                k += 1;
            }
            continue;
        }
        let u = r.unit();
        let o = ((objects as f64) * u * u) as u64;
        let a = ((accounts as f64) * r.unit() * r.unit()) as u64;
        // Object o is posted at a time fixed by o, retweets decay with a mean of 2 h.
        let t0 =
            ((o.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64) * week;
        let t = t0 - 7_200.0 * r.unit().ln();
        emit(o, a, k as u64, t as i64);
        k += 1;
    }
}

/// [`co_retweet`] as a [`ShareTable`](super::ShareTable) (ids `o…`, `u…`, `r…`).
pub fn co_retweet_table(n: usize, seed: u64) -> super::ShareTable {
    let mut t = super::ShareTable::with_capacity(n);
    co_retweet(n, seed, |o, a, c, ts| {
        t.push(&format!("o{o}"), &format!("u{a}"), &format!("r{c}"), ts)
    });
    t
}
