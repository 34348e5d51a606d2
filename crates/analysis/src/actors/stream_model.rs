//! The default score over stream signals ([`ActorSignals`]).
//!
//! The weights are documented constants set by hand from what the
//! bot-detection literature reports (automated accounts post more, more
//! regularly, round the clock, reshare and repeat more, are younger, have
//! fewer followers than followees, and act in lock-step with others). No
//! labelled stream data was used to set them: treat the score as a ranking
//! for analysts, with its reasons, not a calibrated probability. The table
//! is in `docs/actors.md`.

use super::score::{InauthenticityScore, Model, Term, words};
use super::tracker::ActorSignals;

/// Terms in [`StreamModel::features`] order.
pub const STREAM_TERMS: usize = 13;

/// The stream score: a [`Model`] and the mapping from signals to its terms.
#[derive(Clone, Debug)]
pub struct StreamModel {
    pub model: Model,
}

fn bool01(b: bool) -> f64 {
    b as u8 as f64
}

impl StreamModel {
    /// The hand-set default weights (intercept −1: most accounts are people).
    pub fn default_model() -> StreamModel {
        use words::*;
        let terms = vec![
            Term {
                name: "rate_per_day",
                explain: |v, t| {
                    format!(
                        "It posted {} times a day while observed, against {} for a typical account",
                        num(v),
                        num(t)
                    )
                },
                transform: log10_1p,
                inverse: exp10_m1,
                centre: 11f64.log10(),
                scale: 0.6,
                weight: 0.6,
            },
            Term {
                name: "lifetime_rate_per_day",
                explain: |v, t| {
                    format!(
                        "Over its life it averaged {} posts a day, against {} for a typical account",
                        num(v),
                        num(t)
                    )
                },
                transform: log10_1p,
                inverse: exp10_m1,
                centre: 0.7,
                scale: 0.6,
                weight: 0.4,
            },
            Term {
                name: "regularity",
                explain: |v, t| {
                    format!(
                        "The gaps between its posts have a regularity of {} (1 is clockwork), against {} for a typical account",
                        num(v),
                        num(t)
                    )
                },
                transform: ident,
                inverse: ident,
                centre: 0.35,
                scale: 0.2,
                weight: 0.5,
            },
            Term {
                name: "burstiness",
                explain: |v, t| {
                    format!(
                        "Its burstiness is {} (−1 metronome, 0 random, 1 bursts), against {} for a typical account",
                        num(v),
                        num(t)
                    )
                },
                transform: ident,
                inverse: ident,
                centre: 0.3,
                scale: 0.3,
                weight: -0.3,
            },
            Term {
                name: "hour_entropy",
                explain: |v, t| {
                    format!(
                        "Its posts spread over the hours of the day with an entropy of {} (1 is round the clock), against {} for a typical account",
                        num(v),
                        num(t)
                    )
                },
                transform: ident,
                inverse: ident,
                centre: 0.85,
                scale: 0.08,
                weight: 0.3,
            },
            Term {
                name: "night_share",
                explain: |v, t| {
                    format!(
                        "It made {} of its posts at night, against {} for a typical account",
                        pct(v),
                        pct(t)
                    )
                },
                transform: ident,
                inverse: ident,
                centre: 0.12,
                scale: 0.1,
                weight: 0.4,
            },
            Term {
                name: "account_age_days",
                explain: |v, t| {
                    format!(
                        "The account was {} days old when first seen, against {} for a typical account",
                        num(v),
                        num(t)
                    )
                },
                transform: log10_1p,
                inverse: exp10_m1,
                centre: 1001f64.log10(),
                scale: 0.6,
                weight: -0.5,
            },
            Term {
                name: "follower_ratio",
                explain: |v, t| {
                    format!(
                        "It has {} followers per account it follows, against {} for a typical account",
                        num(v),
                        num(t)
                    )
                },
                transform: log10,
                inverse: exp10,
                centre: 0.0,
                scale: 0.7,
                weight: -0.4,
            },
            Term {
                name: "verified",
                explain: |v, t| {
                    format!(
                        "The account is {}verified, as are {} of accounts",
                        if v > 0.5 { "" } else { "not " },
                        pct(t)
                    )
                },
                transform: ident,
                inverse: ident,
                centre: 0.02,
                scale: 0.15,
                weight: -0.3,
            },
            Term {
                name: "reshare_share",
                explain: |v, t| {
                    format!(
                        "It reshared others in {} of its posts, against {} for a typical account",
                        pct(v),
                        pct(t)
                    )
                },
                transform: ident,
                inverse: ident,
                centre: 0.4,
                scale: 0.3,
                weight: 0.5,
            },
            Term {
                name: "duplicate_share",
                explain: |v, t| {
                    format!(
                        "It repeated an earlier post in {} of its own posts, against {} for a typical account",
                        pct(v),
                        pct(t)
                    )
                },
                transform: ident,
                inverse: ident,
                centre: 0.02,
                scale: 0.1,
                weight: 0.6,
            },
            Term {
                name: "coordinated_share",
                explain: |v, t| {
                    format!(
                        "It posted in lock-step with another account in {} of its posts, against {} for a typical account",
                        pct(v),
                        pct(t)
                    )
                },
                transform: ident,
                inverse: ident,
                centre: 0.0,
                scale: 0.2,
                weight: 0.8,
            },
            Term {
                name: "coordinated_partners",
                explain: |v, t| {
                    format!(
                        "It acted in lock-step with {} other accounts, against {} for a typical account",
                        num(v),
                        num(t)
                    )
                },
                transform: log10_1p,
                inverse: exp10_m1,
                centre: 0.0,
                scale: 0.5,
                weight: 0.3,
            },
        ];
        debug_assert_eq!(terms.len(), STREAM_TERMS);
        StreamModel {
            model: Model {
                name: "stream-default",
                intercept: -1.0,
                terms,
            },
        }
    }

    /// The raw values of the terms, in term order (no allocation).
    pub fn features(s: &ActorSignals) -> [Option<f64>; STREAM_TERMS] {
        [
            s.rate_per_day,
            s.lifetime_rate_per_day,
            s.regularity,
            s.burstiness,
            s.hour_entropy,
            s.night_share,
            s.account_age_days,
            s.follower_ratio,
            s.verified.map(bool01),
            Some(s.reshare_share),
            s.duplicate_share,
            s.synchrony.map(|y| y.coordinated_share),
            s.synchrony.map(|y| y.partners as f64),
        ]
    }

    pub fn score(&self, s: &ActorSignals) -> InauthenticityScore {
        self.model.score(&Self::features(s))
    }

    /// The logit alone, for ranking many accounts without building explanations.
    pub fn logit(&self, s: &ActorSignals) -> f64 {
        self.model.logit(&Self::features(s))
    }
}

impl Default for StreamModel {
    fn default() -> Self {
        StreamModel::default_model()
    }
}
