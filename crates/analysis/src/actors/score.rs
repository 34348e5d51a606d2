//! A transparent inauthenticity score: an additive logistic model.
//!
//! Each [`Term`] takes one raw signal (posts a day, account age, ...),
//! transforms it onto a model scale (usually a logarithm), standardises it
//! against a typical account (`z = (x - centre) / scale`, clipped to ±5) and
//! multiplies by its weight. The score is
//!
//! ```text
//! logit = intercept + Σ weight_i · z_i        score = 1 / (1 + e^-logit)
//! ```
//!
//! so every [`Contribution`] (`weight · z`) is in log-odds and
//! `intercept + Σ contribution == logit` exactly: a term with +0.7 raised
//! the odds that the account is automated or inauthentic by `e^0.7 ≈ 2×`.
//! A signal that is unknown contributes 0 and says so.

/// One signal in a [`Model`].
#[derive(Clone, Debug)]
pub struct Term {
    /// Short machine name, e.g. `statuses_per_day`.
    pub name: &'static str,
    /// The first clause of the explanation, in plain words, from the raw
    /// value and the typical raw value, e.g. "It posts 240 times a day
    /// against 5 for a typical account".
    pub explain: fn(raw: f64, typical: f64) -> String,
    /// Raw value to model scale (e.g. `log10(1 + x)`).
    pub transform: fn(f64) -> f64,
    /// Model scale back to raw (to show the typical value).
    pub inverse: fn(f64) -> f64,
    /// Typical value on the model scale.
    pub centre: f64,
    /// Spread on the model scale (one standard deviation); must be > 0.
    pub scale: f64,
    /// Log-odds added per standard deviation above the typical value.
    pub weight: f64,
}

/// Standardised values are clipped to this many standard deviations, so
/// one extreme value cannot drown every other term.
pub const Z_CLIP: f64 = 5.0;

impl Term {
    /// The standardised (clipped) value of a raw value.
    pub fn z(&self, raw: f64) -> f64 {
        let z = ((self.transform)(raw) - self.centre) / self.scale;
        if z.is_finite() {
            z.clamp(-Z_CLIP, Z_CLIP)
        } else {
            0.0
        }
    }

    /// The typical raw value.
    pub fn typical(&self) -> f64 {
        (self.inverse)(self.centre)
    }
}

/// One term's share of a score.
#[derive(Clone, Debug, PartialEq)]
pub struct Contribution {
    pub term: &'static str,
    /// The raw signal (`NaN` when unknown).
    pub value: f64,
    pub weight: f64,
    /// `weight · z` in log-odds; 0 when the value is unknown.
    pub contribution: f64,
    /// One plain sentence.
    pub explanation: String,
}

/// A score with its reasons.
#[derive(Clone, Debug, PartialEq)]
pub struct InauthenticityScore {
    /// In `[0, 1]`: the model's probability-like rank of inauthenticity.
    pub score: f64,
    /// `intercept + Σ contribution`.
    pub logit: f64,
    pub intercept: f64,
    /// In term order.
    pub contributions: Vec<Contribution>,
}

impl InauthenticityScore {
    /// Contributions, largest absolute first: what to read first.
    pub fn ranked(&self) -> Vec<&Contribution> {
        let mut v: Vec<&Contribution> = self.contributions.iter().collect();
        v.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
        v
    }

    /// The top `n` reasons as one paragraph.
    pub fn summary(&self, n: usize) -> String {
        let mut s = format!("Inauthenticity score {:.2}.", self.score);
        for c in self.ranked().into_iter().take(n) {
            if c.contribution != 0.0 {
                s.push(' ');
                s.push_str(&c.explanation);
            }
        }
        s
    }
}

/// An additive logistic model over named terms.
#[derive(Clone, Debug)]
pub struct Model {
    pub name: &'static str,
    pub intercept: f64,
    pub terms: Vec<Term>,
}

/// The logistic function.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

impl Model {
    /// The logit alone (no explanations, no allocation): for ranking many accounts.
    /// The same sum, in the same order, as [`Model::score`]'s `logit`
    /// (unknown and non-finite values count 0), so that
    /// `sigmoid(logit(raw)) == score(raw).score` exactly.
    pub fn logit(&self, raw: &[Option<f64>]) -> f64 {
        debug_assert_eq!(raw.len(), self.terms.len());
        let mut logit = self.intercept;
        for (t, v) in self.terms.iter().zip(raw) {
            if let Some(v) = v
                && v.is_finite()
            {
                logit += t.weight * t.z(*v);
            }
        }
        logit
    }

    /// Scores raw values given in term order (`None`: unknown).
    pub fn score(&self, raw: &[Option<f64>]) -> InauthenticityScore {
        assert_eq!(
            raw.len(),
            self.terms.len(),
            "model {} has {} terms",
            self.name,
            self.terms.len()
        );
        let mut contributions = Vec::with_capacity(self.terms.len());
        let mut logit = self.intercept;
        for (t, v) in self.terms.iter().zip(raw) {
            let c = match v {
                Some(v) if v.is_finite() => {
                    let contribution = t.weight * t.z(*v);
                    logit += contribution;
                    let effect = if contribution > 0.005 {
                        format!("which raises the score by {contribution:.2}")
                    } else if contribution < -0.005 {
                        format!("which lowers the score by {:.2}", -contribution)
                    } else {
                        "which leaves the score as it is".to_string()
                    };
                    Contribution {
                        term: t.name,
                        value: *v,
                        weight: t.weight,
                        contribution,
                        explanation: format!("{}, {effect}.", (t.explain)(*v, t.typical())),
                    }
                }
                _ => Contribution {
                    term: t.name,
                    value: f64::NAN,
                    weight: t.weight,
                    contribution: 0.0,
                    explanation: format!(
                        "The {} is unknown, so it does not count.",
                        humanise(t.name)
                    ),
                },
            };
            contributions.push(c);
        }
        InauthenticityScore {
            score: sigmoid(logit),
            logit,
            intercept: self.intercept,
            contributions,
        }
    }

    /// The same terms with fitted centres, scales, weights and intercept.
    pub fn refitted(&self, fit: &crate::actors::fit::FittedLogistic) -> Model {
        assert_eq!(fit.weights.len(), self.terms.len());
        let mut m = self.clone();
        m.intercept = fit.intercept;
        for (i, t) in m.terms.iter_mut().enumerate() {
            t.centre = fit.standardiser.mean[i];
            t.scale = fit.standardiser.sd[i];
            t.weight = fit.weights[i];
        }
        m
    }

    /// Raw values on the model scale (`None` stays `None`).
    pub fn transformed(&self, raw: &[Option<f64>]) -> Vec<Option<f64>> {
        self.terms
            .iter()
            .zip(raw)
            .map(|(t, v)| v.map(|v| (t.transform)(v)).filter(|x| x.is_finite()))
            .collect()
    }
}

fn humanise(name: &str) -> String {
    name.replace('_', " ")
}

/// Shared helpers for the plain-words clauses.
pub(crate) mod words {
    /// A count or rate with sensible precision.
    pub fn num(x: f64) -> String {
        let a = x.abs();
        if a >= 100.0 || (x.fract() == 0.0 && a < 1e15) {
            format!("{x:.0}")
        } else if a >= 10.0 {
            format!("{x:.1}")
        } else if a >= 0.1 || a == 0.0 {
            format!("{x:.2}")
        } else {
            // Two significant digits for small values (0.00026, not 0.000).
            let decimals = (-a.log10()).ceil() as usize + 1;
            format!("{x:.decimals$}")
        }
    }

    /// A share as a percentage.
    pub fn pct(x: f64) -> String {
        format!("{:.0}%", 100.0 * x)
    }

    pub fn ident(x: f64) -> f64 {
        x
    }
    pub fn log10_1p(x: f64) -> f64 {
        (1.0 + x.max(0.0)).log10()
    }
    pub fn exp10_m1(x: f64) -> f64 {
        10f64.powf(x) - 1.0
    }
    pub fn log10(x: f64) -> f64 {
        x.max(1e-6).log10()
    }
    pub fn exp10(x: f64) -> f64 {
        10f64.powf(x)
    }
}
