//! Briefs: for each storyline likely to come back, what will be pushed and
//! when, the fact-checks that answer it, the DISARM techniques it has used
//! and technique-based prebunk drafts in its audience's languages. Built
//! from one assessment's signals and incidents ([`prebunk`]); rendered by
//! `crate::report::prebunk`.

use super::draft::{PrebunkDraft, Technique, draft};
use super::{Episode, Forecast, Outbreak, PrebunkOptions, Storyline, forecast, link};
use crate::incident::Incident;
use crate::signals::{ClaimInfo, Signals};
use pharos_analysis::narratives::NarrativeSummary;
use pharos_core::EventTime;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

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
    let mut history = History::default();
    for (p, a) in sig.posts.iter().zip(&sig.assignments) {
        history.count(p.time, a.narrative);
    }
    // Claim matches through each matched post's narrative.
    let matched: Vec<(u64, String)> = sig
        .matches
        .iter()
        .filter_map(|m| {
            let i = *sig.index.get(&format!("{}:{}", m.platform, m.post_id))?;
            let n = sig.assignments.get(i)?.narrative?;
            Some((n, m.claim_id.clone()))
        })
        .collect();
    // Incidents through the narratives they name.
    let of_incidents: Vec<(&Incident, BTreeSet<u64>)> = incidents
        .iter()
        .map(|inc| {
            let ns = inc
                .narratives
                .iter()
                .filter_map(|r| r.id.strip_prefix("narrative:")?.parse::<u64>().ok())
                .collect();
            (inc, ns)
        })
        .collect();
    let summaries: Vec<&NarrativeSummary> = sig.narratives.values().collect();
    brief_all(
        &summaries,
        history,
        &matched,
        &of_incidents,
        claims,
        opts,
        now,
    )
}

/// Each narrative's activity by day (first and last post, posts): what
/// storylines are linked and forecast from, kept apart from the posts so a
/// pass over a long history holds no post ([`PrebunkHistory`]).
#[derive(Default)]
struct History {
    days: HashMap<u64, BTreeMap<i64, (EventTime, EventTime, u64)>>,
}

impl History {
    fn count(&mut self, t: EventTime, narrative: Option<u64>) {
        if let Some(n) = narrative {
            let d = self
                .days
                .entry(n)
                .or_default()
                .entry(t.0.div_euclid(86_400_000))
                .or_insert((t, t, 0));
            d.0 = d.0.min(t);
            d.1 = d.1.max(t);
            d.2 += 1;
        }
    }
}

/// Prebunk briefs from a whole history read once in event-time order,
/// holding no post: the narrative engine (bounded: families and narratives
/// expire, archived ones are capped), each narrative's posts per day, and
/// the narrative of the posts that matter to briefs (claim-matched posts
/// and the incidents' posts, named up front). The server's live incidents
/// assess a bounded window of days; storylines need months, so they come
/// from this separate pass (`pharos serve`, `[incidents] prebunk_every_s`).
pub struct PrebunkHistory {
    engine: pharos_analysis::narratives::NarrativeEngine,
    history: History,
    /// `platform:id` of the posts whose narrative briefs need, and the
    /// narrative each was put in once read.
    watched: HashMap<String, Option<u64>>,
    last: Option<EventTime>,
}

impl PrebunkHistory {
    /// A pass that will note the narratives of `watched` posts
    /// (`platform:id`).
    pub fn new(watched: impl IntoIterator<Item = String>) -> PrebunkHistory {
        PrebunkHistory {
            engine: pharos_analysis::narratives::NarrativeEngine::new(
                crate::stream::StreamConfig::default().narratives,
            ),
            history: History::default(),
            watched: watched.into_iter().map(|k| (k, None)).collect(),
            last: None,
        }
    }

    /// The next posts, in event-time order.
    pub fn push(&mut self, posts: &[pharos_core::Post]) {
        let assigned = self.engine.observe_batch(posts);
        for (p, a) in posts.iter().zip(&assigned) {
            self.history.count(p.time, a.narrative);
            if !self.watched.is_empty()
                && let Some(w) = self.watched.get_mut(&format!("{}:{}", p.platform, p.id))
            {
                *w = a.narrative;
            }
            self.last = Some(self.last.map_or(p.time, |l| l.max(p.time)));
        }
        // Days of narratives the engine no longer knows (expired and not
        // archived, or pushed out of the archive) are dropped now and then,
        // so the counts stay as bounded as the engine.
        if self.history.days.len() > 4 * self.engine.config().archive_cap.max(1024) {
            let known: HashSet<u64> = self
                .engine
                .narratives(None, None)
                .iter()
                .map(|n| n.id)
                .collect();
            self.history.days.retain(|n, _| known.contains(n));
        }
    }

    /// The briefs, forecast at `now` (default: the last post read), with
    /// the claim matches (`MatchRow`s of the store) and incidents given.
    pub fn finish(
        self,
        matches: &[crate::signals::MatchRow],
        incidents: &[Incident],
        claims: &HashMap<String, ClaimInfo>,
        opts: &PrebunkOptions,
        now: Option<EventTime>,
    ) -> Prebunk {
        let narrative_of = |platform: &str, id: &str| {
            self.watched
                .get(&format!("{platform}:{id}"))
                .copied()
                .flatten()
        };
        let matched: Vec<(u64, String)> = matches
            .iter()
            .filter_map(|m| Some((narrative_of(&m.platform, &m.post_id)?, m.claim_id.clone())))
            .collect();
        let of_incidents: Vec<(&Incident, BTreeSet<u64>)> = incidents
            .iter()
            .map(|inc| {
                // The narratives holding a tenth of its posts or more (a
                // stray post does not tie an incident to a storyline).
                let mut count: BTreeMap<u64, usize> = BTreeMap::new();
                for k in &inc.posts {
                    if let Some(n) = self.watched.get(k).copied().flatten() {
                        *count.entry(n).or_insert(0) += 1;
                    }
                }
                let ns = count
                    .into_iter()
                    .filter(|&(_, c)| c * 10 >= inc.posts.len())
                    .map(|(n, _)| n)
                    .collect();
                (inc, ns)
            })
            .collect();
        let summaries = self.engine.narratives(None, None);
        let summaries: Vec<&NarrativeSummary> = summaries.iter().collect();
        let now = now.or(self.last).unwrap_or(EventTime(0));
        brief_all(
            &summaries,
            self.history,
            &matched,
            &of_incidents,
            claims,
            opts,
            now,
        )
    }
}

/// Storylines of `summaries` (with their activity by day), forecast at
/// `now`; a brief for each likely one with the claims matched in its
/// narratives (`(narrative, claim id)` per matched post) and the incidents
/// holding its narratives.
fn brief_all(
    summaries: &[&NarrativeSummary],
    mut history: History,
    matched_posts: &[(u64, String)],
    incidents: &[(&Incident, BTreeSet<u64>)],
    claims: &HashMap<String, ClaimInfo>,
    opts: &PrebunkOptions,
    now: EventTime,
) -> Prebunk {
    let episodes: Vec<Episode> = summaries
        .iter()
        .map(|n| {
            let mut e = Episode::from_summary(n);
            if let Some(d) = history.days.remove(&n.id) {
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

    // Claim matches per storyline.
    let mut matched: HashMap<usize, BTreeMap<String, u64>> = HashMap::new();
    for (n, claim) in matched_posts {
        if let Some(&s) = of_narrative.get(n) {
            *matched
                .entry(s)
                .or_default()
                .entry(claim.clone())
                .or_insert(0) += 1;
        }
    }
    // Incidents (and their techniques) per storyline, through their narratives.
    let mut incs: HashMap<usize, Vec<&Incident>> = HashMap::new();
    for (inc, narratives) in incidents {
        let mut seen = BTreeSet::new();
        for n in narratives {
            if let Some(&s) = of_narrative.get(n)
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
