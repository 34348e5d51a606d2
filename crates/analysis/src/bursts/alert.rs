//! Alerts: what a burst looks like to an analyst, and its severity.

use super::EntityKind;
use pharos_core::EventTime;
use serde::{Deserialize, Serialize};

/// One burst of one entity, open or closed.
///
/// Serialised as one JSON object a line (see `docs/early-warning.md`); the
/// first eight fields are the fixed interface.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable for the life of the burst: `<entity_kind>:<16 hex of the key hash>:<opened_at ms>`.
    pub id: String,
    pub entity_kind: EntityKind,
    /// The entity's key: the hashtag (lowercase, no `#`), the normalised
    /// URL, the domain, `platform:post id` of a reshared post, or the id an
    /// upstream engine gave a narrative, family or network.
    pub entity: String,
    /// Event time at which the detector opened the alert.
    pub opened_at: EventTime,
    /// Event time at which the burst ended; `null` while it is open.
    pub closed_at: Option<EventTime>,
    /// Seconds from the burst's first post to `opened_at`.
    pub lead_time_s: f64,
    /// Composite severity in [0, 1]; see [`SeverityTerms`].
    pub severity: f64,
    /// Plain sentences: what burst, and each severity term.
    pub explanation: String,

    /// First post of the burst (event time).
    pub burst_start: EventTime,
    /// First post of the entity the detector has seen (within its memory horizon).
    pub first_seen: EventTime,
    /// Seconds from `first_seen` to `opened_at`.
    pub since_first_seen_s: f64,
    /// Latest event time this record reflects.
    pub updated_at: EventTime,
    /// Posts in the burst so far.
    pub volume: u64,
    /// Posts an hour during the burst.
    pub rate_per_hour: f64,
    /// Posts an hour the seasonal baseline expected at the burst's start.
    pub baseline_per_hour: f64,
    /// `rate_per_hour / baseline_per_hour`.
    pub growth_rate: f64,
    /// Highest automaton state reached (1 = elevated; 2, 3 = stronger).
    pub level: u8,
    pub distinct_actors: u64,
    /// Share of the distinct actors the caller flagged as coordinated or suspicious.
    pub flagged_actor_share: f64,
    /// Share of distinct actors flagged coordinated.
    pub coordinated_actor_share: f64,
    /// Share of distinct actors flagged suspicious.
    pub suspicious_actor_share: f64,
    pub platforms: Vec<String>,
    pub languages: Vec<String>,
    pub severity_terms: SeverityTerms,
    /// Up to [`super::BurstConfig::evidence_posts`] post ids of the burst, earliest first.
    pub evidence_posts: Vec<String>,
    /// For `claim` alerts: the fact-check verdict and the terms of the
    /// severity (absent for bursts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<ClaimDetails>,
}

/// What a `claim` alert adds (see [`super::claims`]): severity =
/// `verdict_weight × confidence × (0.5 + 0.5 × actors_term)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimDetails {
    /// The fact-checkers' rating, as the library gives it.
    pub verdict: String,
    /// How false that rating says the claim is, 0–1.
    pub verdict_weight: f64,
    /// Mean confidence of the confident matches, 0–1.
    pub confidence: f64,
    /// Larger of the flagged-actor share and the spread over accounts, 0–1.
    pub actors_term: f64,
}

/// The four severity terms, each in [0, 1], in the spirit of BotSlayer's
/// score (trend, volume, bot-likeness of the accounts, diversity).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SeverityTerms {
    /// How far above its baseline the entity runs: `log10(growth) / 2`
    /// (10× → 0.5, 100× or more → 1).
    pub trend: f64,
    /// How big the burst is: `1 − exp(−volume / volume_scale)`.
    pub volume: f64,
    /// Share of distinct actors flagged coordinated or suspicious.
    pub suspicion: f64,
    /// How widely it is pushed: half the actor share (distinct actors ÷
    /// posts), a quarter for each platform and each language beyond the
    /// first (capped at 1).
    pub diversity: f64,
}

/// Weights of the severity terms; they sum to 1.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeverityWeights {
    pub trend: f64,
    pub volume: f64,
    pub suspicion: f64,
    pub diversity: f64,
    /// Posts at which the volume term reaches 1 − 1/e.
    pub volume_scale: f64,
}

impl Default for SeverityWeights {
    fn default() -> Self {
        SeverityWeights {
            trend: 0.2,
            volume: 0.15,
            suspicion: 0.5,
            diversity: 0.15,
            volume_scale: 30.0,
        }
    }
}

impl SeverityTerms {
    /// Computes the terms from a burst's figures.
    pub fn compute(
        w: &SeverityWeights,
        growth: f64,
        volume: u64,
        actors: u64,
        flagged_share: f64,
        platforms: usize,
        languages: usize,
    ) -> SeverityTerms {
        let trend = if growth > 1.0 {
            (growth.log10() / 2.0).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let vol = 1.0 - (-(volume as f64) / w.volume_scale.max(1e-9)).exp();
        let actor_share = if volume == 0 {
            0.0
        } else {
            (actors as f64 / volume as f64).min(1.0)
        };
        let spread = 0.25 * (platforms.saturating_sub(1) + languages.saturating_sub(1)) as f64;
        SeverityTerms {
            trend,
            volume: vol.clamp(0.0, 1.0),
            suspicion: flagged_share.clamp(0.0, 1.0),
            diversity: (0.5 * actor_share + spread).clamp(0.0, 1.0),
        }
    }

    /// Weighted sum, in [0, 1].
    pub fn severity(&self, w: &SeverityWeights) -> f64 {
        let total = w.trend + w.volume + w.suspicion + w.diversity;
        if total <= 0.0 {
            return 0.0;
        }
        ((w.trend * self.trend
            + w.volume * self.volume
            + w.suspicion * self.suspicion
            + w.diversity * self.diversity)
            / total)
            .clamp(0.0, 1.0)
    }
}

fn pct(x: f64) -> String {
    format!("{:.0} %", x * 100.0)
}

/// The alert's explanation: one sentence for the burst, one per term.
pub(crate) fn explain(a: &Alert, w: &SeverityWeights) -> String {
    let t = &a.severity_terms;
    let total = w.trend + w.volume + w.suspicion + w.diversity;
    let part = |wt: f64, v: f64| if total > 0.0 { wt * v / total } else { 0.0 };
    let mins = a.lead_time_s / 60.0;
    format!(
        "The {kind} {entity} is bursting: {vol} posts by {actors} accounts since {start}, \
         {rate:.1} an hour against {base:.2} expected; alerted {mins:.1} minutes after the burst's first post. \
         Severity {sev:.2} is the weighted sum of four terms. \
         Trend {tt:.2} (adds {tc:.2}): it runs {g:.1} times its seasonal baseline (10 times gives 0.5, 100 times gives 1). \
         Volume {vt:.2} (adds {vc:.2}): {vol} posts (30 posts give 0.63). \
         Suspicion {st:.2} (adds {sc:.2}): {fs} of the accounts were flagged coordinated or suspicious. \
         Diversity {dt:.2} (adds {dc:.2}): {ash} distinct accounts per post, on {np} platform(s) ({pl}) in {nl} language(s) ({ll}).",
        kind = a.entity_kind.describe(),
        entity = a.entity,
        vol = a.volume,
        actors = a.distinct_actors,
        start = a.burst_start.to_rfc3339(),
        rate = a.rate_per_hour,
        base = a.baseline_per_hour,
        sev = a.severity,
        tt = t.trend,
        tc = part(w.trend, t.trend),
        g = a.growth_rate,
        vt = t.volume,
        vc = part(w.volume, t.volume),
        st = t.suspicion,
        sc = part(w.suspicion, t.suspicion),
        fs = pct(a.flagged_actor_share),
        dt = t.diversity,
        dc = part(w.diversity, t.diversity),
        ash = pct(if a.volume > 0 {
            a.distinct_actors as f64 / a.volume as f64
        } else {
            0.0
        }),
        np = a.platforms.len(),
        pl = a.platforms.join(", "),
        nl = a.languages.len(),
        ll = if a.languages.is_empty() {
            "unknown".to_string()
        } else {
            a.languages.join(", ")
        },
    )
}
