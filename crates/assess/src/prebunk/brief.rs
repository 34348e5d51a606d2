//! Briefs: for each storyline likely to come back, what will be pushed and
//! when, the fact-checks that answer it, the DISARM techniques it has used
//! and technique-based prebunk drafts in its audience's languages. Built
//! from one assessment's signals and incidents ([`prebunk`]); rendered by
//! `crate::report::prebunk`.

use super::draft::{PrebunkDraft, Technique, draft};
use super::{Episode, Forecast, Outbreak, PrebunkOptions, Storyline, forecast, link};
use crate::incident::Incident;
use crate::signals::{ClaimInfo, Signals};
use pharos_core::EventTime;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Forecasts kept in [`Prebunk::forecasts`] (the highest chances).
pub const MAX_FORECASTS: usize = 100;
/// Audience languages a brief drafts for (the storyline's most used).
pub const MAX_AUDIENCES: usize = 3;

/// A fact-check that answers a storyline: a claim its posts matched.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FactCheckRef {
    pub claim_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub claim_text: String,
    pub verdicts: Vec<String>,
    pub urls: Vec<String>,
    /// Matched posts of the storyline.
    pub posts: u64,
}

/// A DISARM technique an incident of the storyline showed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TechniqueUse {
    pub t_id: String,
    pub name: String,
    /// Incidents of the storyline that showed it.
    pub incidents: Vec<String>,
}

/// The brief of one storyline likely to come back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Brief {
    pub forecast: Forecast,
    pub terms: Vec<String>,
    pub hashtags: Vec<String>,
    pub languages: BTreeMap<String, u64>,
    pub platforms: BTreeMap<String, u64>,
    pub outbreaks: Vec<Outbreak>,
    /// Titles of its narratives, latest first (distinct).
    pub examples: Vec<String>,
    pub fact_checks: Vec<FactCheckRef>,
    pub techniques: Vec<TechniqueUse>,
    /// Incidents whose narratives belong to the storyline.
    pub incidents: Vec<String>,
    pub drafts: Vec<PrebunkDraft>,
}

/// The prebunking part of an assessment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Prebunk {
    /// The time forecasts are made at (the last post assessed, or `--until`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<EventTime>,
    pub horizon_days: f64,
    /// Storylines found.
    pub storylines: usize,
    /// The highest chances (at most [`MAX_FORECASTS`]).
    pub forecasts: Vec<Forecast>,
    /// Briefs of those at or above [`PrebunkOptions::min_chance`] (at most
    /// [`PrebunkOptions::max_briefs`]).
    pub briefs: Vec<Brief>,
    /// Every storyline (for evaluation; not written out).
    #[serde(skip)]
    pub lines: Vec<Storyline>,
}

impl Prebunk {
    pub fn is_empty(&self) -> bool {
        self.forecasts.is_empty()
    }
}

/// Storylines from an assessment's narratives, forecast at `now`, with a
/// brief for each likely one.
pub fn prebunk(
    sig: &Signals,
    incidents: &[Incident],
    claims: &HashMap<String, ClaimInfo>,
    opts: &PrebunkOptions,
    now: EventTime,
) -> Prebunk {
    // Each narrative's activity by day, from its posts: a narrative can
    // stay live across outbreaks a few days apart.
    let mut days: HashMap<u64, BTreeMap<i64, (EventTime, EventTime, u64)>> = HashMap::new();
    for (p, a) in sig.posts.iter().zip(&sig.assignments) {
        if let Some(n) = a.narrative {
            let d = days
                .entry(n)
                .or_default()
                .entry(p.time.0.div_euclid(86_400_000))
                .or_insert((p.time, p.time, 0));
            d.0 = d.0.min(p.time);
            d.1 = d.1.max(p.time);
            d.2 += 1;
        }
    }
    let episodes: Vec<Episode> = sig
        .narratives
        .values()
        .map(|n| {
            let mut e = Episode::from_summary(n);
            if let Some(d) = days.remove(&n.id) {
                e.activity = d.into_values().collect();
            }
            e
        })
        .collect();
    let lines = link(episodes, opts);
    let mut of_narrative: HashMap<u64, usize> = HashMap::new();
    for (i, l) in lines.iter().enumerate() {
        for n in l.narratives() {
            of_narrative.insert(n, i);
        }
    }
    let mut all = forecast(&lines, now, opts);
    let line_index: HashMap<&str, usize> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| (l.id.as_str(), i))
        .collect();

    // Claim matches per storyline, through each matched post's narrative.
    let mut matched: HashMap<usize, BTreeMap<String, u64>> = HashMap::new();
    for m in &sig.matches {
        let key = format!("{}:{}", m.platform, m.post_id);
        let Some(&i) = sig.index.get(&key) else {
            continue;
        };
        let Some(n) = sig.assignments.get(i).and_then(|a| a.narrative) else {
            continue;
        };
        if let Some(&s) = of_narrative.get(&n) {
            *matched
                .entry(s)
                .or_default()
                .entry(m.claim_id.clone())
                .or_insert(0) += 1;
        }
    }
    // Incidents (and their techniques) per storyline, through their narratives.
    let mut incs: HashMap<usize, Vec<&Incident>> = HashMap::new();
    for inc in incidents {
        let mut seen = BTreeSet::new();
        for r in &inc.narratives {
            if let Some(&s) =
                r.id.strip_prefix("narrative:")
                    .and_then(|n| n.parse::<u64>().ok())
                    .and_then(|n| of_narrative.get(&n))
                && seen.insert(s)
            {
                incs.entry(s).or_default().push(inc);
            }
        }
    }

    let mut briefs = Vec::new();
    for f in all
        .iter()
        .filter(|f| f.chance >= opts.min_chance)
        .take(opts.max_briefs)
    {
        let Some(&idx) = line_index.get(f.storyline.as_str()) else {
            continue;
        };
        let line = &lines[idx];
        let mut fact_checks: Vec<FactCheckRef> = matched
            .get(&idx)
            .into_iter()
            .flatten()
            .map(|(id, posts)| {
                let info = claims.get(id);
                FactCheckRef {
                    claim_id: id.clone(),
                    claim_text: info.map(|c| c.text.clone()).unwrap_or_default(),
                    verdicts: info.map(|c| c.verdicts.clone()).unwrap_or_default(),
                    urls: info.map(|c| c.fact_checks.clone()).unwrap_or_default(),
                    posts: *posts,
                }
            })
            .collect();
        fact_checks.sort_by(|a, b| b.posts.cmp(&a.posts).then(a.claim_id.cmp(&b.claim_id)));
        let mut tech: BTreeMap<String, TechniqueUse> = BTreeMap::new();
        let mut kinds = Vec::new();
        let mut inc_ids = Vec::new();
        for inc in incs.get(&idx).into_iter().flatten() {
            inc_ids.push(inc.id.clone());
            for t in &inc.techniques {
                let u = tech.entry(t.t_id.clone()).or_insert_with(|| TechniqueUse {
                    t_id: t.t_id.clone(),
                    name: t.name.clone(),
                    incidents: Vec::new(),
                });
                if !u.incidents.contains(&inc.id) {
                    u.incidents.push(inc.id.clone());
                }
                if let Some(k) = Technique::of(&t.signal, &t.t_id) {
                    kinds.push(k);
                }
            }
        }
        let urls: Vec<String> = fact_checks
            .iter()
            .flat_map(|c| c.urls.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut langs: Vec<(&String, &u64)> = line
            .languages
            .iter()
            .filter(|(l, _)| l.as_str() != "und")
            .collect();
        langs.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let mut audiences: Vec<&str> = langs
            .iter()
            .take(MAX_AUDIENCES)
            .map(|l| l.0.as_str())
            .collect();
        if audiences.is_empty() {
            audiences.push("en");
        }
        let topic = topic(line);
        let drafts = audiences
            .iter()
            .map(|a| draft(&topic, f.expected, &kinds, &urls, a))
            .collect();
        let mut examples: Vec<String> = Vec::new();
        let mut eps: Vec<&Episode> = line.episodes.iter().collect();
        eps.sort_by_key(|e| std::cmp::Reverse(e.last_seen));
        for e in eps {
            if !e.title.is_empty() && !examples.contains(&e.title) && examples.len() < 5 {
                examples.push(e.title.clone());
            }
        }
        briefs.push(Brief {
            forecast: f.clone(),
            terms: line.terms.clone(),
            hashtags: line.hashtags.clone(),
            languages: line.languages.clone(),
            platforms: line.platforms.clone(),
            outbreaks: line.outbreaks.clone(),
            examples,
            fact_checks,
            techniques: tech.into_values().collect(),
            incidents: inc_ids,
            drafts,
        });
    }
    all.truncate(MAX_FORECASTS);
    Prebunk {
        now: Some(now),
        horizon_days: opts.horizon_days,
        storylines: lines.len(),
        forecasts: all,
        briefs,
        lines,
    }
}

/// What a draft calls the story: its hashtags, else its first terms (never
/// its claim).
fn topic(line: &Storyline) -> String {
    if !line.hashtags.is_empty() {
        return line
            .hashtags
            .iter()
            .take(2)
            .map(|h| format!("#{h}"))
            .collect::<Vec<_>>()
            .join(", ");
    }
    line.terms
        .iter()
        .take(3)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ")
}
