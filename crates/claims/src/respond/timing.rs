//! When to answer: the narrative's burst stage and what it suggests.
//!
//! The stage comes from the bursts of the narrative (the burst detector of
//! `pharos assess`: the narrative itself, or a hashtag, link, domain,
//! near-duplicate family or reshared post carried mostly by its posts) at
//! the last event time analysed (`as_of`):
//!
//! | stage | rule | recommendation |
//! |---|---|---|
//! | `emerging` | a burst is open and opened at most 6 h before `as_of` | answer now, within hours |
//! | `sustained` | a burst is open and opened more than 6 h before | answer now, aimed at the accounts and channels carrying it |
//! | `growing` | no open burst, but at least 5 posts in the last 6 h and at least twice as many as in the 6 h before (plus one) | answer soon, before it bursts |
//! | `subsiding` | the last burst closed at most 48 h before | correct where it still circulates, keep a reply ready |
//! | `dormant` | the last burst closed more than 48 h before | no broad correction (it would amplify); be ready if it returns |
//! | `no-burst` | never burst | no broad correction; answer where it appears, monitor |

use super::spread::Spread;
use pharos_analysis::bursts::Alert;
use pharos_core::EventTime;
use serde::{Deserialize, Serialize};

const HOUR_MS: i64 = 3_600_000;
/// An open burst younger than this is `emerging`.
pub const EMERGING_H: i64 = 6;
/// A burst closed less than this ago leaves the narrative `subsiding`.
pub const SUBSIDING_H: i64 = 48;

/// The burst stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Emerging,
    Sustained,
    Growing,
    Subsiding,
    Dormant,
    NoBurst,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Emerging => "emerging",
            Stage::Sustained => "sustained",
            Stage::Growing => "growing",
            Stage::Subsiding => "subsiding",
            Stage::Dormant => "dormant",
            Stage::NoBurst => "no-burst",
        }
    }
}

/// One burst, as the pack shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BurstInfo {
    pub alert_id: String,
    /// What burst: the narrative itself, or a hashtag, link, domain, family
    /// or reshared post carried mostly by the narrative's posts.
    pub entity_kind: String,
    pub entity: String,
    pub burst_start: EventTime,
    pub opened_at: EventTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<EventTime>,
    pub volume: u64,
    pub rate_per_hour: f64,
    pub growth_rate: f64,
    pub level: u8,
    pub distinct_actors: u64,
    pub severity: f64,
}

impl From<&Alert> for BurstInfo {
    fn from(a: &Alert) -> Self {
        BurstInfo {
            alert_id: a.id.clone(),
            entity_kind: a.entity_kind.as_str().to_string(),
            entity: a.entity.clone(),
            burst_start: a.burst_start,
            opened_at: a.opened_at,
            closed_at: a.closed_at,
            volume: a.volume,
            rate_per_hour: a.rate_per_hour,
            growth_rate: a.growth_rate,
            level: a.level,
            distinct_actors: a.distinct_actors,
            severity: a.severity,
        }
    }
}

/// The timing part of a pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub stage: Stage,
    /// The "now" of the analysis: the latest event time in the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<EventTime>,
    /// Every burst of the narrative, oldest first.
    pub bursts: Vec<BurstInfo>,
    /// Posts in the 6 hours before `as_of`, and in the 6 hours before those.
    pub last_6h: u64,
    pub previous_6h: u64,
    pub recommendation: String,
}

fn hours(ms: i64) -> String {
    let h = ms as f64 / HOUR_MS as f64;
    if h < 1.0 {
        format!("{} minutes", (h * 60.0).round() as i64)
    } else if h < 48.0 {
        format!("{:.0} hours", h)
    } else {
        format!("{:.0} days", h / 24.0)
    }
}

/// The stage and recommendation for a narrative with these bursts and posts.
pub fn timing(
    bursts: &[Alert],
    spread: &Spread,
    times: &[EventTime],
    as_of: Option<EventTime>,
) -> Timing {
    let now = as_of.map_or(i64::MAX, |t| t.0);
    let last_6h = times
        .iter()
        .filter(|t| t.0 > now.saturating_sub(6 * HOUR_MS) && t.0 <= now)
        .count() as u64;
    let previous_6h = times
        .iter()
        .filter(|t| {
            t.0 > now.saturating_sub(12 * HOUR_MS) && t.0 <= now.saturating_sub(6 * HOUR_MS)
        })
        .count() as u64;
    let open = bursts.iter().rev().find(|a| a.closed_at.is_none());
    let last_closed = bursts
        .iter()
        .filter_map(|a| a.closed_at.map(|c| (c, a)))
        .max_by_key(|(c, _)| c.0);
    let where_ = where_it_spreads(spread);
    let (stage, recommendation) = match (open, last_closed) {
        (Some(a), _) if now - a.opened_at.0 <= EMERGING_H * HOUR_MS => (
            Stage::Emerging,
            format!(
                "Answer now: the narrative has been bursting for {} ({:.0}× its usual rate, {} posts by {} accounts so far). \
                 Early corrections reach people before the claim settles; publish within hours{where_}.",
                hours(now - a.burst_start.0),
                a.growth_rate,
                a.volume,
                a.distinct_actors
            ),
        ),
        (Some(a), _) => (
            Stage::Sustained,
            format!(
                "Answer now and aim the correction at the accounts and channels carrying it: the burst has lasted {} \
                 ({} posts, {:.0}× its usual rate){where_}.",
                hours(now - a.burst_start.0),
                a.volume,
                a.growth_rate
            ),
        ),
        (None, _) if growing(last_6h, previous_6h) => (
            Stage::Growing,
            format!(
                "Answer soon: no burst has been detected yet, but it is growing ({last_6h} posts in the last 6 hours against \
                 {previous_6h} in the 6 before){where_}. A correction before it bursts reaches people first."
            ),
        ),
        (None, Some((closed, _))) if now - closed.0 <= SUBSIDING_H * HOUR_MS => (
            Stage::Subsiding,
            format!(
                "The burst ended {} ago: a broad correction now reaches fewer people. Correct it where it still circulates{where_}, \
                 keep the reply ready, and watch for a resurgence (`pharos respond report`).",
                hours(now - closed.0)
            ),
        ),
        (None, Some((closed, _))) => (
            Stage::Dormant,
            format!(
                "Dormant: its last burst ended {} ago. A broad correction now would mostly amplify it; keep the reply ready \
                 and answer if it returns.",
                hours(now - closed.0)
            ),
        ),
        (None, None) => (
            Stage::NoBurst,
            format!(
                "No burst: it spreads at its usual rate ({} posts in the last 6 hours, {} in the 6 before). A broad public correction \
                 risks amplifying it; answer where it appears{where_} and monitor.",
                last_6h, previous_6h
            ),
        ),
    };
    Timing {
        stage,
        as_of,
        bursts: bursts.iter().map(BurstInfo::from).collect(),
        last_6h,
        previous_6h,
        recommendation,
    }
}

/// At least [`GROWING_MIN_POSTS`] posts in the last 6 hours and at least twice
/// the 6 hours before, plus one.
pub fn growing(last_6h: u64, previous_6h: u64) -> bool {
    last_6h >= GROWING_MIN_POSTS && last_6h >= 2 * (previous_6h + 1)
}

/// Posts in the last 6 hours a `growing` narrative needs.
pub const GROWING_MIN_POSTS: u64 = 5;

fn where_it_spreads(s: &Spread) -> String {
    let platforms: Vec<&str> = s.platforms.iter().take(3).map(|c| c.key.as_str()).collect();
    let langs: Vec<&str> = s
        .languages
        .iter()
        .filter(|c| c.key != "und")
        .take(3)
        .map(|c| c.key.as_str())
        .collect();
    match (platforms.is_empty(), langs.is_empty()) {
        (true, _) => String::new(),
        (false, true) => format!(" on {}", platforms.join(", ")),
        (false, false) => format!(" on {} in {}", platforms.join(", "), langs.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pharos_analysis::bursts::{EntityKind, SeverityTerms};

    fn alert(opened_h: i64, closed_h: Option<i64>) -> Alert {
        Alert {
            id: format!("narrative:x:{opened_h}"),
            entity_kind: EntityKind::Narrative,
            entity: "7".into(),
            opened_at: EventTime(opened_h * HOUR_MS),
            closed_at: closed_h.map(|c| EventTime(c * HOUR_MS)),
            lead_time_s: 60.0,
            severity: 0.5,
            explanation: String::new(),
            burst_start: EventTime(opened_h * HOUR_MS - 60_000),
            first_seen: EventTime(0),
            since_first_seen_s: 0.0,
            updated_at: EventTime(opened_h * HOUR_MS),
            volume: 40,
            rate_per_hour: 30.0,
            baseline_per_hour: 1.0,
            growth_rate: 30.0,
            level: 2,
            distinct_actors: 25,
            flagged_actor_share: 0.0,
            coordinated_actor_share: 0.0,
            suspicious_actor_share: 0.0,
            platforms: vec!["twitter".into()],
            languages: vec!["en".into()],
            severity_terms: SeverityTerms::default(),
            evidence_posts: Vec::new(),
            claim: None,
        }
    }

    fn stage(bursts: &[Alert], times_h: &[i64], now_h: i64) -> Timing {
        let times: Vec<EventTime> = times_h.iter().map(|h| EventTime(h * HOUR_MS)).collect();
        timing(
            bursts,
            &Spread::default(),
            &times,
            Some(EventTime(now_h * HOUR_MS)),
        )
    }

    #[test]
    fn stages_follow_the_bursts() {
        assert_eq!(stage(&[alert(100, None)], &[], 104).stage, Stage::Emerging);
        assert_eq!(stage(&[alert(100, None)], &[], 107).stage, Stage::Sustained);
        let closed = [alert(10, Some(12)), alert(100, Some(102))];
        assert_eq!(stage(&closed, &[], 140).stage, Stage::Subsiding);
        assert_eq!(stage(&closed, &[], 151).stage, Stage::Dormant);
        assert_eq!(stage(&[], &[], 151).stage, Stage::NoBurst);
        // An open burst wins over an older closed one.
        let both = [alert(10, Some(12)), alert(100, None)];
        assert_eq!(stage(&both, &[], 101).stage, Stage::Emerging);
    }

    #[test]
    fn growth_without_a_burst() {
        // 6 posts in the last 6 hours, 1 before: growing.
        let t = stage(&[], &[93, 95, 96, 97, 98, 99, 100], 100);
        assert_eq!((t.last_6h, t.previous_6h), (6, 1));
        assert_eq!(t.stage, Stage::Growing);
        assert!(t.recommendation.contains("6 posts in the last 6 hours"));
        // 4 posts is too few; 6 against 3 before is not twice.
        assert_eq!(stage(&[], &[97, 98, 99, 100], 100).stage, Stage::NoBurst);
        assert_eq!(
            stage(&[], &[89, 90, 91, 95, 96, 97, 98, 99, 100], 100).stage,
            Stage::NoBurst
        );
    }

    #[test]
    fn recommendation_names_the_burst() {
        let t = stage(&[alert(100, None)], &[], 102);
        assert!(
            t.recommendation.starts_with("Answer now"),
            "{}",
            t.recommendation
        );
        assert!(t.recommendation.contains("40 posts by 25 accounts"));
        assert_eq!(t.bursts.len(), 1);
        assert_eq!(t.bursts[0].entity_kind, "narrative");
    }
}
