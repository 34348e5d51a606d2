//! How well forecasts rank the storylines that do come back, against two
//! simple baselines: **most frequent** (the most posts so far first) and
//! **most recent** (the latest activity first).
//!
//! Each method ranks the same storylines, seen before `now`. The forecast
//! predicts those at or above the minimum chance; each baseline predicts the
//! same number from the top of its ranking, so precision and recall compare
//! at one size. Average precision scores each whole ranking.

use super::{Forecast, Storyline};
use pharos_core::EventTime;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// Precision and recall of one method.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scores {
    pub method: String,
    /// Storylines predicted to come back.
    pub predicted: usize,
    pub hits: usize,
    pub precision: f64,
    pub recall: f64,
    /// Average precision of the whole ranking.
    pub average_precision: f64,
}

/// The forecast and the baselines on one data set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    /// Storylines seen before `now`.
    pub storylines: usize,
    /// Those that came back (the truth).
    pub came_back: usize,
    pub forecast: Scores,
    pub most_frequent: Scores,
    pub most_recent: Scores,
}

fn scores(method: &str, ranking: &[&str], predicted: usize, truth: &HashSet<&str>) -> Scores {
    let hits = ranking
        .iter()
        .take(predicted)
        .filter(|id| truth.contains(*id))
        .count();
    let mut found = 0usize;
    let mut sum = 0.0;
    for (k, id) in ranking.iter().enumerate() {
        if truth.contains(id) {
            found += 1;
            sum += found as f64 / (k + 1) as f64;
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Scores {
        method: method.into(),
        predicted,
        hits,
        precision: ratio(hits, predicted),
        recall: ratio(hits, truth.len()),
        average_precision: if truth.is_empty() {
            0.0
        } else {
            sum / truth.len() as f64
        },
    }
}

/// Scores `forecasts` (made at `now` with `min_chance`) and the baselines
/// over `lines`, against `came_back` (ids of storylines with a new outbreak
/// in the horizon).
pub fn evaluate(
    lines: &[Storyline],
    forecasts: &[Forecast],
    now: EventTime,
    min_chance: f64,
    came_back: &HashSet<String>,
) -> Evaluation {
    let seen: Vec<&Storyline> = lines
        .iter()
        .filter(|l| l.outbreaks.first().is_some_and(|o| o.start < now))
        .collect();
    let truth: HashSet<&str> = seen
        .iter()
        .map(|l| l.id.as_str())
        .filter(|id| came_back.contains(*id))
        .collect();
    let ours: Vec<&str> = forecasts.iter().map(|f| f.storyline.as_str()).collect();
    let predicted = forecasts.iter().filter(|f| f.chance >= min_chance).count();
    let before = |l: &Storyline| -> (u64, EventTime) {
        let past: Vec<_> = l.outbreaks.iter().filter(|o| o.start < now).collect();
        (
            past.iter().map(|o| o.posts).sum(),
            past.iter()
                .map(|o| o.end.min(now))
                .max()
                .unwrap_or(EventTime(0)),
        )
    };
    let stats: HashMap<&str, (u64, EventTime)> =
        seen.iter().map(|l| (l.id.as_str(), before(l))).collect();
    let mut frequent: Vec<&str> = stats.keys().copied().collect();
    frequent.sort_by(|a, b| stats[b].0.cmp(&stats[a].0).then(a.cmp(b)));
    let mut recent: Vec<&str> = stats.keys().copied().collect();
    recent.sort_by(|a, b| stats[b].1.cmp(&stats[a].1).then(a.cmp(b)));
    Evaluation {
        storylines: seen.len(),
        came_back: truth.len(),
        forecast: scores("forecast", &ours, predicted, &truth),
        most_frequent: scores("most frequent", &frequent, predicted, &truth),
        most_recent: scores("most recent", &recent, predicted, &truth),
    }
}

/// Storylines from labelled, dated cases (EUvsDisinfo's keywords, say):
/// one storyline per label, an outbreak per run of cases less than
/// `quiet_days` apart.
pub fn labelled_storylines(cases: &[(EventTime, Vec<String>)], quiet_days: f64) -> Vec<Storyline> {
    let mut by: HashMap<&str, Vec<(EventTime, EventTime, u64)>> = HashMap::new();
    for (t, labels) in cases {
        for l in labels {
            by.entry(l.as_str()).or_default().push((*t, *t, 1));
        }
    }
    let mut out: Vec<Storyline> = by
        .into_iter()
        .map(|(l, spans)| Storyline::from_outbreaks(l, l, super::outbreaks(spans, quiet_days)))
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// The labels with a case in `[from, to)`.
pub fn labels_between(
    cases: &[(EventTime, Vec<String>)],
    from: EventTime,
    to: EventTime,
) -> HashSet<String> {
    cases
        .iter()
        .filter(|(t, _)| *t >= from && *t < to)
        .flat_map(|(_, l)| l.iter().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prebunk::{PrebunkOptions, forecast};

    #[test]
    fn scores_count_hits_at_the_forecast_size() {
        let d = |x: i64| EventTime(x * 86_400_000);
        let cases = vec![
            (d(0), vec!["a".to_string(), "b".to_string()]),
            (d(30), vec!["a".to_string()]),
            (d(60), vec!["a".to_string(), "c".to_string()]),
            (d(61), vec!["c".to_string()]),
            (d(62), vec!["c".to_string()]),
            (d(90), vec!["a".to_string(), "c".to_string()]),
        ];
        let lines = labelled_storylines(&cases[..5], 3.0);
        assert_eq!(lines.len(), 3);
        let truth = labels_between(&cases, d(80), d(120));
        let opts = PrebunkOptions::default();
        let f = forecast(&lines, d(80), &opts);
        let e = evaluate(&lines, &f, d(80), opts.min_chance, &truth);
        assert_eq!((e.storylines, e.came_back), (3, 2));
        // "a" recurs every 30 days: forecast first; "b" is a one-off.
        assert_eq!(f[0].storyline, "a");
        assert_eq!(f.last().unwrap().storyline, "b");
        assert!(e.forecast.average_precision > 0.99, "{e:?}");
        assert_eq!(e.most_frequent.predicted, e.forecast.predicted);
    }
}
