//! Kleinberg's burst automaton over fixed time bins.
//!
//! The automaton has `k` states; state `i` emits events at `rate₀ · sⁱ`
//! per bin, where `rate₀` is what the baseline expects for that bin. Moving
//! up one state costs `γ` (in nats); moving down is free. The cost of
//! seeing `n` events in a bin from state `i` is the Poisson negative log
//! likelihood `λᵢ − n ln λᵢ` (the `ln n!` term is the same for every state
//! and left out). The burst hierarchy is the least-cost state sequence.
//!
//! [`Automaton`] is the streaming (online) form: it keeps, for every
//! state, the least cost of any path ending there (the Viterbi forward
//! pass) and the start bin of that path's current elevated run, so it can
//! say after each bin which state the stream is most likely in *now* and
//! where the burst began, without keeping the series. [`batch_states`] is
//! the textbook offline form (Viterbi with backtracking), used by tests and
//! by callers who hold a whole series.

/// Most states an [`Automaton`] supports.
pub const MAX_STATES: usize = 4;

/// Parameters of the automaton.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KleinbergParams {
    /// Number of states, 2 to [`MAX_STATES`] (state 0 is "normal").
    pub states: usize,
    /// Rate ratio between neighbouring states (`s` in Kleinberg's paper).
    pub scale: f64,
    /// Cost, in nats, of moving up one state (`γ · ln n` in the paper; here a
    /// constant because a stream has no `n`).
    pub up_cost: f64,
}

impl Default for KleinbergParams {
    fn default() -> Self {
        KleinbergParams {
            states: 3,
            scale: 3.0,
            up_cost: 4.0,
        }
    }
}

/// Poisson cost of `n` events in a bin whose expected count is `lambda`.
#[inline]
fn emission(lambda: f64, n: f64) -> f64 {
    lambda - n * lambda.ln()
}

/// The streaming automaton: costs per state, relative to the cheapest.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Automaton {
    costs: [f32; MAX_STATES],
    /// For each state, the bin where the elevated run of the best path
    /// ending there started (`i64::MIN` for state 0 or no run).
    starts: [i64; MAX_STATES],
}

impl Default for Automaton {
    fn default() -> Self {
        Automaton::new()
    }
}

impl Automaton {
    /// An automaton in state 0.
    pub fn new() -> Automaton {
        Automaton {
            costs: [0.0, f32::INFINITY, f32::INFINITY, f32::INFINITY],
            starts: [i64::MIN; MAX_STATES],
        }
    }

    /// The costs after one more bin with `n` events and baseline `rate0`,
    /// without changing `self`.
    pub fn peek(&self, p: &KleinbergParams, rate0: f64, n: u32, bin: i64) -> Automaton {
        let k = p.states.clamp(2, MAX_STATES);
        let n = n as f64;
        let mut next = Automaton {
            costs: [f32::INFINITY; MAX_STATES],
            starts: [i64::MIN; MAX_STATES],
        };
        let mut lambda = rate0;
        for i in 0..k {
            let e = emission(lambda, n);
            let mut best = f64::INFINITY;
            let mut from = 0;
            for j in 0..k {
                let c = self.costs[j] as f64;
                if !c.is_finite() {
                    continue;
                }
                let t = if i > j {
                    (i - j) as f64 * p.up_cost
                } else {
                    0.0
                };
                if c + t < best {
                    best = c + t;
                    from = j;
                }
            }
            next.costs[i] = (best + e) as f32;
            next.starts[i] = if i == 0 {
                i64::MIN
            } else if from == 0 {
                bin
            } else {
                self.starts[from]
            };
            lambda *= p.scale;
        }
        // Keep costs relative so they never grow without bound.
        let m = next.costs[..k]
            .iter()
            .copied()
            .fold(f32::INFINITY, f32::min);
        for c in &mut next.costs[..k] {
            *c -= m;
        }
        next
    }

    /// Feeds one closed bin.
    pub fn step(&mut self, p: &KleinbergParams, rate0: f64, n: u32, bin: i64) {
        *self = self.peek(p, rate0, n, bin);
    }

    /// The most likely state now (ties go to the lower state).
    pub fn state(&self) -> usize {
        let mut best = 0;
        for i in 1..MAX_STATES {
            if self.costs[i] < self.costs[best] {
                best = i;
            }
        }
        best
    }

    /// Start bin of the current elevated run, when the state is above 0.
    pub fn run_start(&self) -> Option<i64> {
        let s = self.state();
        (s > 0 && self.starts[s] != i64::MIN).then_some(self.starts[s])
    }

    /// True when the automaton is back to its initial form (state 0 and
    /// every other state at least one up-move more expensive): empty bins
    /// cannot change it any more.
    pub fn is_settled(&self, p: &KleinbergParams) -> bool {
        let k = p.states.clamp(2, MAX_STATES);
        self.costs[0] == 0.0
            && (1..k).all(|i| self.costs[i] >= (i as f64 * p.up_cost) as f32 - 1e-3)
    }
}

/// Offline Viterbi over a whole series: the least-cost state of every bin.
/// `rates0[b]` is the baseline expected count of bin `b`.
pub fn batch_states(p: &KleinbergParams, counts: &[u32], rates0: &[f64]) -> Vec<usize> {
    assert_eq!(counts.len(), rates0.len());
    let k = p.states.clamp(2, MAX_STATES);
    let nb = counts.len();
    if nb == 0 {
        return Vec::new();
    }
    let mut cost = vec![f64::INFINITY; k];
    cost[0] = 0.0;
    let mut back = vec![0usize; nb * k];
    for b in 0..nb {
        let mut next = vec![f64::INFINITY; k];
        let mut lambda = rates0[b];
        for i in 0..k {
            let e = emission(lambda, counts[b] as f64);
            for (j, &c) in cost.iter().enumerate() {
                let t = if i > j {
                    (i - j) as f64 * p.up_cost
                } else {
                    0.0
                };
                if c + t + e < next[i] {
                    next[i] = c + t + e;
                    back[b * k + i] = j;
                }
            }
            lambda *= p.scale;
        }
        cost = next;
    }
    let mut s = (0..k).min_by(|&a, &b| cost[a].total_cmp(&cost[b])).unwrap();
    let mut out = vec![0; nb];
    for b in (0..nb).rev() {
        out[b] = s;
        s = back[b * k + s];
    }
    out
}
