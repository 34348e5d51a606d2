//! One pass over the store through the one pipeline (`pharos_pipeline`:
//! the narrative engine with the settings of `pharos narratives`, so
//! narrative ids are the ones it prints; actor signals, coordination flags
//! and the burst detector over narratives, near-duplicate families,
//! hashtags, links, domains and reshared posts, as `pharos assess` and
//! `pharos serve` run them); the posts and bursts of the wanted narratives
//! are kept.
//!
//! A burst belongs to a narrative when its entity is the narrative, or when
//! at least half of the burst's evidence posts (its first posts, as the
//! detector keeps them) are the narrative's: a hashtag or a link pushed by
//! the narrative's posts.

use pharos_alerts::Rules;
use pharos_analysis::bursts::{Alert, AlertEvent, EntityKind};
use pharos_analysis::narratives::{NarrativeConfig, NarrativeEngine, NarrativeSummary};
use pharos_core::{EventTime, Post};
use pharos_pipeline::{AlertPipeline, StreamConfig};
use pharos_store::{PostFilter, Store, StoreError};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::ControlFlow;

/// A post of a wanted narrative, with its near-duplicate family.
#[derive(Debug, Clone)]
pub struct NarrativePost {
    pub post: Post,
    pub family: Option<u64>,
}

/// What [`scan`] found.
#[derive(Debug, Default)]
pub struct NarrativeScan {
    /// Posts of each wanted narrative, in event-time order.
    pub posts: HashMap<u64, Vec<NarrativePost>>,
    /// Every burst of each wanted narrative (its last state), oldest first.
    pub bursts: HashMap<u64, Vec<Alert>>,
    /// The engine's summary of each wanted narrative that it still knows.
    pub summaries: HashMap<u64, NarrativeSummary>,
    /// The latest event time in the store (the "now" of the analysis).
    pub as_of: Option<EventTime>,
    /// Posts read.
    pub posts_read: u64,
}

/// The narrative id of one stored post: the engine is run over the store in
/// event-time order until it reaches the post (a post's narrative depends
/// only on the posts before it). `None` when the post is not in the store;
/// `Some(None)` when its text gives no narrative.
pub fn narrative_of_post(
    store: &impl Store,
    platform: &str,
    id: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<Option<Option<u64>>, StoreError> {
    let Some(post) = store.get(platform, id)? else {
        return Ok(None);
    };
    let mut engine = NarrativeEngine::new(NarrativeConfig::default());
    let filter = PostFilter {
        since: None,
        until: Some(EventTime(post.time.0 + 1)),
        platform: None,
    };
    let mut found = None;
    let mut n = 0u64;
    store.scan(&filter, &mut |p| {
        let a = engine.observe(&p);
        n += 1;
        if n.is_multiple_of(4096) {
            progress(n);
        }
        if p.platform == platform && p.id == id {
            found = Some(a.narrative);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })?;
    progress(n);
    Ok(Some(found.unwrap_or(None)))
}

/// Posts handed to the pipeline at once.
const BATCH: usize = 4096;

/// Runs the one pipeline (`pharos_pipeline::AlertPipeline`, with the
/// settings `pharos assess` and `pharos serve` run it with) over every
/// stored post and keeps what concerns the `wanted` narratives: their
/// posts, and the bursts its detector reports that they carry.
/// `until` (exclusive) stops the analysis at that time, as if it were now.
pub fn scan(
    store: &impl Store,
    wanted: &HashSet<u64>,
    until: Option<EventTime>,
    progress: &mut dyn FnMut(u64),
) -> Result<NarrativeScan, StoreError> {
    let mut pipe = AlertPipeline::with_config(StreamConfig::default(), Rules::default(), false);
    pipe.tap_events();
    let mut out = NarrativeScan::default();
    // (narrative, opened at, alert id) → last state.
    let mut alerts: BTreeMap<(u64, i64, String), Alert> = BTreeMap::new();
    // Ids of the wanted narratives' posts (for the evidence rule) and the
    // narrative of each.
    let mut post_narrative: HashMap<String, u64> = HashMap::new();
    let keep = |events: Vec<AlertEvent>,
                alerts: &mut BTreeMap<(u64, i64, String), Alert>,
                post_narrative: &HashMap<String, u64>| {
        for ev in events {
            let a = ev.alert();
            let owner = if a.entity_kind == EntityKind::Narrative {
                a.entity.parse::<u64>().ok().filter(|n| wanted.contains(n))
            } else {
                owned_by(a, post_narrative)
            };
            if let Some(n) = owner {
                alerts.insert((n, a.opened_at.0, a.id.clone()), a.clone());
            }
        }
    };
    let mut analyse = |batch: &mut Vec<Post>,
                       out: &mut NarrativeScan,
                       alerts: &mut BTreeMap<(u64, i64, String), Alert>| {
        // No sink: nothing can fail to deliver.
        let assigned = pipe
            .push_batch_assigned(batch)
            .expect("a pipeline without sinks delivers nothing");
        for (post, a) in batch.iter().zip(&assigned) {
            out.as_of = Some(out.as_of.map_or(post.time, |t: EventTime| t.max(post.time)));
            if let Some(n) = a.narrative
                && wanted.contains(&n)
            {
                post_narrative.insert(post.id.clone(), n);
            }
        }
        keep(pipe.take_events(), alerts, &post_narrative);
        for (post, a) in batch.drain(..).zip(assigned) {
            if let Some(n) = a.narrative
                && wanted.contains(&n)
            {
                out.posts.entry(n).or_default().push(NarrativePost {
                    post,
                    family: a.family,
                });
            }
        }
        progress(out.posts_read);
    };
    let filter = PostFilter {
        since: None,
        until,
        platform: None,
    };
    let mut batch: Vec<Post> = Vec::with_capacity(BATCH);
    store.scan(&filter, &mut |post| {
        out.posts_read += 1;
        batch.push(post);
        if batch.len() == BATCH {
            analyse(&mut batch, &mut out, &mut alerts);
        }
        ControlFlow::Continue(())
    })?;
    analyse(&mut batch, &mut out, &mut alerts);
    // With `until`, "now" is `until` (the data may end before it).
    if let Some(u) = until {
        out.as_of = Some(EventTime(u.0 - 1));
    }
    // Settle the detector at the last event time without closing open
    // bursts: a burst still open at the end of the data is still open.
    if let Some(t) = out.as_of {
        pipe.advance(t)
            .expect("a pipeline without sinks delivers nothing");
        keep(pipe.take_events(), &mut alerts, &post_narrative);
    }
    for ((n, _, _), a) in alerts {
        out.bursts.entry(n).or_default().push(a);
    }
    for s in pipe.narratives().narratives(None, None) {
        if wanted.contains(&s.id) {
            out.summaries.insert(s.id, s);
        }
    }
    Ok(out)
}

/// The wanted narrative that owns a burst of another entity: the one with at
/// least half of the burst's evidence posts.
fn owned_by(a: &Alert, post_narrative: &HashMap<String, u64>) -> Option<u64> {
    if a.evidence_posts.is_empty() || post_narrative.is_empty() {
        return None;
    }
    let mut counts: HashMap<u64, usize> = HashMap::new();
    for p in &a.evidence_posts {
        if let Some(&n) = post_narrative.get(p) {
            *counts.entry(n).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .filter(|&(_, c)| 2 * c >= a.evidence_posts.len())
        .max_by_key(|&(n, c)| (c, std::cmp::Reverse(n)))
        .map(|(n, _)| n)
}

/// The narratives that carry a burst of another entity (a hashtag, link,
/// domain, family or reshared post), each as [`scan`] would attribute the
/// burst when that narrative is the one wanted: at least half of the
/// burst's evidence posts are its posts. `narrative_of` gives the narrative
/// of an evidence post id (posts analysed so far). A burst of a narrative
/// entity belongs to that narrative alone. At most two narratives carry a
/// burst (half of its evidence each).
pub fn carriers(a: &Alert, narrative_of: &dyn Fn(&str) -> Option<u64>) -> Vec<u64> {
    if a.entity_kind == EntityKind::Narrative {
        return a.entity.parse::<u64>().ok().into_iter().collect();
    }
    if a.evidence_posts.is_empty() {
        return Vec::new();
    }
    let mut counts: Vec<(u64, usize)> = Vec::new();
    for p in &a.evidence_posts {
        if let Some(n) = narrative_of(p) {
            match counts.iter_mut().find(|(m, _)| *m == n) {
                Some(c) => c.1 += 1,
                None => counts.push((n, 1)),
            }
        }
    }
    let mut out: Vec<u64> = counts
        .into_iter()
        .filter(|&(_, c)| 2 * c >= a.evidence_posts.len())
        .map(|(n, _)| n)
        .collect();
    out.sort_unstable();
    out
}
