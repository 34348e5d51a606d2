//! Planted recurrences, for prebunking: storylines that come back over
//! months, with the truth of which return after a cut-off.
//!
//! A scenario of [`RecurrenceConfig::days`] days holds storylines of five
//! kinds, each an invented story (its own made-up words, a marker word in
//! every post, a hashtag for half of them) told in outbreaks of a day or
//! two by a dozen accounts:
//! - **periodic**: every 7 to 28 days (±1 day), to the end;
//! - **triggered**: a day or two after each date of a calendar event whose
//!   dates fall at irregular gaps (a summit, a vote), the last one inside
//!   the horizon after the cut-off;
//! - **sporadic**: at random, about every three weeks;
//! - **faded**: two or three outbreaks in the first third, then never again;
//! - **one-off**: a single outbreak before the cut-off.
//!
//! Background chatter (the simulator's organic templates) runs throughout.
//! [`StorylineTruth::returns`] says whether a storyline has an outbreak in
//! `(cutoff, cutoff + horizon]`: what a forecast made at the cut-off should
//! find.

use crate::lexicon::LANGS;
use crate::rng::SimRng;
use pharos_core::{Actor, EventTime, Post, Provenance};
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 86_400_000;

/// The shape of a recurrence scenario.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecurrenceConfig {
    pub seed: u64,
    /// Start (ms since the epoch).
    pub start_ms: i64,
    /// Days of posts in all (history and horizon).
    pub days: u32,
    /// The forecast is made this many days after the start.
    pub cutoff_days: u32,
    /// Storylines of each kind: periodic, triggered, sporadic, faded, one-off.
    pub per_kind: [usize; 5],
    /// Background posts per day.
    pub chatter_per_day: u32,
}

impl Default for RecurrenceConfig {
    fn default() -> Self {
        RecurrenceConfig {
            seed: 1,
            start_ms: 1_735_689_600_000, // 2025-01-01
            days: 210,
            cutoff_days: 180,
            per_kind: [6, 4, 4, 4, 6],
            chatter_per_day: 40,
        }
    }
}

/// What was planted for one storyline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StorylineTruth {
    /// `periodic`, `triggered`, `sporadic`, `faded` or `one-off`.
    pub kind: String,
    /// A word in every post of the storyline (and nowhere else).
    pub marker: String,
    /// Its hashtag, when it has one.
    pub hashtag: Option<String>,
    /// Outbreak start days after the scenario start.
    pub outbreak_days: Vec<f64>,
    /// The calendar label of a triggered storyline.
    pub trigger: Option<String>,
    /// It has an outbreak after the cut-off, within the scenario.
    pub returns: bool,
}

/// A dated calendar entry of the scenario (the dates triggered storylines follow).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalendarEntry {
    pub date: EventTime,
    pub label: String,
}

/// Posts (in time order), the truth and the calendar.
#[derive(Clone, Debug)]
pub struct RecurrenceScenario {
    pub config: RecurrenceConfig,
    pub posts: Vec<Post>,
    pub storylines: Vec<StorylineTruth>,
    pub calendar: Vec<CalendarEntry>,
    pub cutoff: EventTime,
}

impl RecurrenceScenario {
    /// The posts before the cut-off: the history a forecast made then
    /// knows.
    pub fn history(&self) -> Vec<Post> {
        self.posts
            .iter()
            .filter(|p| p.time < self.cutoff)
            .cloned()
            .collect()
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ran", "tesh", "vo", "dar", "qui", "zen", "bra", "fel", "gor", "hul", "jin",
    "kre", "mos", "nav", "pol", "rus", "sil", "tor", "uva", "wex", "yal", "zor", "pet", "lin",
    "dro", "sam", "vel",
];

fn word(rng: &mut SimRng, syllables: usize) -> String {
    (0..syllables)
        .map(|_| SYLLABLES[rng.random_range(0..SYLLABLES.len())])
        .collect()
}

/// Generates a scenario (the same for the same config).
pub fn recurrence_scenario(cfg: &RecurrenceConfig) -> RecurrenceScenario {
    let mut rng = SimRng::seed_from_u64(cfg.seed ^ 0x005E_ED0F_2EC0);
    let days = cfg.days.max(cfg.cutoff_days + 1) as f64;
    let cutoff = cfg.cutoff_days as f64;
    let mut used = std::collections::HashSet::new();
    let mut fresh = |rng: &mut SimRng, n: usize| loop {
        let w = word(rng, n);
        if used.insert(w.clone()) {
            return w;
        }
    };
    let kinds = ["periodic", "triggered", "sporadic", "faded", "one-off"];
    let mut storylines = Vec::new();
    let mut calendar = Vec::new();
    let mut trigger_no = 0;
    for (k, kind) in kinds.iter().enumerate() {
        for _ in 0..cfg.per_kind[k] {
            let marker = fresh(&mut rng, 3);
            let hashtag = rng.random_bool(0.5).then(|| fresh(&mut rng, 2));
            let mut trigger = None;
            let starts: Vec<f64> = match *kind {
                "periodic" => {
                    let period = [7.0, 10.0, 14.0, 21.0, 28.0][rng.random_range(0..5)];
                    let mut t = rng.random_range(0.0..period);
                    let mut v = Vec::new();
                    while t < days - 1.0 {
                        v.push(t);
                        t += period + rng.random_range(-1.0..1.0);
                    }
                    v
                }
                "triggered" => {
                    trigger_no += 1;
                    let label = format!("summit {trigger_no}");
                    // Irregular gaps, the last date inside the horizon.
                    let mut dates = vec![rng.random_range(5.0..25.0)];
                    while dates.len() < 4 {
                        let last = *dates.last().unwrap_or(&0.0);
                        dates.push(last + rng.random_range(25.0..70.0));
                    }
                    dates.retain(|d| *d < cutoff - 3.0);
                    dates.push(cutoff + rng.random_range(3.0..(days - cutoff - 2.0).max(4.0)));
                    for d in &dates {
                        calendar.push(CalendarEntry {
                            date: EventTime(cfg.start_ms + (d.floor() as i64) * DAY_MS),
                            label: label.clone(),
                        });
                    }
                    trigger = Some(label);
                    dates
                        .iter()
                        .map(|d| d.floor() + rng.random_range(0.2..1.8))
                        .collect()
                }
                "sporadic" => {
                    let mut t = rng.random_range(0.0..20.0);
                    let mut v = Vec::new();
                    while t < days - 1.0 {
                        v.push(t);
                        t += 5.0 - 21.0 * (1.0 - rng.random::<f64>()).ln().max(-6.0) * 0.8;
                    }
                    v
                }
                "faded" => {
                    let n = rng.random_range(2..4);
                    let mut v: Vec<f64> =
                        (0..n).map(|_| rng.random_range(0.0..days / 3.0)).collect();
                    v.sort_by(|a, b| a.total_cmp(b));
                    v.dedup_by(|a, b| (*a - *b).abs() < 5.0);
                    v
                }
                _ => vec![rng.random_range(0.0..cutoff - 2.0)],
            };
            let returns = starts.iter().any(|&s| s > cutoff && s <= days);
            storylines.push(StorylineTruth {
                kind: kind.to_string(),
                marker,
                hashtag,
                outbreak_days: starts,
                trigger,
                returns,
            });
        }
    }
    calendar.sort_by(|a, b| a.date.cmp(&b.date).then(a.label.cmp(&b.label)));

    let mut posts = Vec::new();
    let mut seq = 0u64;
    let mut push =
        |posts: &mut Vec<Post>, t: i64, actor: String, text: String, tags: Vec<String>| {
            seq += 1;
            let mut p = Post {
                platform: "telegram".into(),
                id: format!("r{seq}"),
                actor: Actor {
                    id: actor.clone(),
                    handle: Some(actor),
                    ..Default::default()
                },
                time: EventTime(t),
                text,
                lang: Some("en".into()),
                hashtags: tags,
                provenance: Provenance {
                    source: format!("pharos-sim:recurrence:seed={}", cfg.seed),
                    line: Some(seq),
                    record: None,
                },
                ..Default::default()
            };
            p.refresh_domains();
            posts.push(p);
        };
    for (i, s) in storylines.iter().enumerate() {
        // The story's own words.
        let vocab: Vec<String> = (0..10)
            .map(|_| {
                let n = 2 + rng.random_range(0..2);
                fresh(&mut rng, n)
            })
            .collect();
        for &d in &s.outbreak_days {
            let n = rng.random_range(15..40);
            let span = rng.random_range(0.5..1.8) * DAY_MS as f64;
            for _ in 0..n {
                let t =
                    cfg.start_ms + (d * DAY_MS as f64) as i64 + rng.random_range(0.0..span) as i64;
                let mut words = vec![s.marker.clone()];
                for _ in 0..rng.random_range(7..11) {
                    words.push(vocab[rng.random_range(0..vocab.len())].clone());
                }
                let mut text = words.join(" ");
                text.push('.');
                let mut tags = Vec::new();
                if let Some(h) = &s.hashtag {
                    text.push_str(&format!(" #{h}"));
                    tags.push(h.clone());
                }
                let actor = format!("s{i}-a{}", rng.random_range(0..12));
                push(&mut posts, t, actor, text, tags);
            }
        }
    }
    let en = &LANGS[0];
    let chatter = (cfg.chatter_per_day as f64 * days) as usize;
    for _ in 0..chatter {
        let t = cfg.start_ms + rng.random_range(0..(days as i64 * DAY_MS));
        let topic = &en.topics[rng.random_range(0..en.topics.len())];
        let mut text = String::new();
        crate::text::organic_text(&mut text, en, topic, &mut rng);
        let actor = format!("c{}", rng.random_range(0..400));
        push(&mut posts, t, actor, text, Vec::new());
    }
    posts.sort_by(|a, b| a.time.cmp(&b.time).then(a.id.cmp(&b.id)));
    RecurrenceScenario {
        config: cfg.clone(),
        posts,
        storylines,
        calendar,
        cutoff: EventTime(cfg.start_ms + cfg.cutoff_days as i64 * DAY_MS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_truth_matches_the_posts() {
        let cfg = RecurrenceConfig::default();
        let s = recurrence_scenario(&cfg);
        assert_eq!(s.storylines.len(), 24);
        assert!(s.posts.windows(2).all(|w| w[0].time <= w[1].time));
        for st in &s.storylines {
            let times: Vec<EventTime> = s
                .posts
                .iter()
                .filter(|p| p.text.split(' ').next() == Some(st.marker.as_str()))
                .map(|p| p.time)
                .collect();
            assert!(!times.is_empty(), "{st:?}");
            let after = times.iter().any(|t| *t > s.cutoff);
            assert_eq!(after, st.returns, "{st:?}");
            match st.kind.as_str() {
                "periodic" | "triggered" => assert!(st.returns, "{st:?}"),
                "faded" | "one-off" => assert!(!st.returns, "{st:?}"),
                _ => {}
            }
        }
        // Every triggered storyline's label is in the calendar, the last
        // date after the cut-off.
        for st in s.storylines.iter().filter(|x| x.kind == "triggered") {
            let label = st.trigger.as_deref().unwrap();
            let dates: Vec<_> = s.calendar.iter().filter(|c| c.label == label).collect();
            assert!(dates.len() >= 2);
            assert!(dates.last().unwrap().date > s.cutoff);
        }
        // Same config, same scenario.
        let again = recurrence_scenario(&cfg);
        assert_eq!(again.posts, s.posts);
    }
}
