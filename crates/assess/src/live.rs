//! Live incidents over an unbounded stream (the server's `[incidents]`
//! pass): each pass assesses a bounded window of event time, so its cost
//! and memory follow the window, not the store.
//!
//! - **Window.** A pass ending at `end` reads the posts of `[end − window,
//!   end)`, reaching back to the first post of the incidents still open,
//!   never past `end − max_span` ([`LiveOptions::since`]).
//! - **Open and frozen.** An incident is open while it has a post in the
//!   last `window` and its first post is within `max_span` of `end`
//!   ([`LiveOptions::is_open`]). Otherwise it is frozen: kept as stored,
//!   never recomputed or deleted.
//! - **Stable ids.** A found incident sharing at least half of the smaller
//!   one's posts with an open incident takes its id; an open incident that
//!   nothing continues is deleted; a found incident that a frozen one holds
//!   (half of its posts or more are the frozen one's) is dropped
//!   ([`reconcile`]).
//! - **Networks.** Network ids carry on from pass to pass and are never
//!   reused ([`NetworkIds`]): the incidents, the network report (dashboard,
//!   API) and STIX name a network by one id.
//! - **Storylines.** Prebunk forecasts need months of history, not a window:
//!   they come from a separate pass over the whole store that holds no post
//!   ([`prebunk_store`], [`crate::prebunk::brief::PrebunkHistory`]).

use crate::assess::{AssessError, AssessOptions, Assessment};
use crate::incident::Incident;
use crate::signals::FoundNetwork;
use pharos_core::EventTime;
use pharos_store::{ClaimMatches, MediaHashes, PostFilter, Responses, Store, StoreError};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::ControlFlow;

const HOUR_MS: i64 = 3_600_000;

/// The window of the live passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveOptions {
    /// Each pass reads the posts of this many ms before its end.
    pub window_ms: i64,
    /// … reaching back to the first post of the open incidents, never
    /// further than this many ms before its end.
    pub max_span_ms: i64,
}

impl Default for LiveOptions {
    /// 48 h windows, incidents open for at most 168 h (a week).
    fn default() -> Self {
        LiveOptions::hours(48, 168)
    }
}

impl LiveOptions {
    pub fn hours(window_h: u64, max_span_h: u64) -> LiveOptions {
        let ms = |h: u64| (h.min(i64::MAX as u64 / HOUR_MS as u64) as i64) * HOUR_MS;
        LiveOptions {
            window_ms: ms(window_h).max(1),
            max_span_ms: ms(max_span_h).max(ms(window_h)).max(1),
        }
    }

    /// Whether `i` is still open at `end` (the end of a pass, exclusive): a
    /// post in the last window, its first post within the span.
    pub fn is_open(&self, i: &Incident, end: EventTime) -> bool {
        i.last_seen.millis() >= end.millis().saturating_sub(self.window_ms)
            && i.first_seen.millis() >= end.millis().saturating_sub(self.max_span_ms)
    }

    /// Where a pass ending at `end` starts: the window before it, or the
    /// first post of an open incident when earlier, never past the span.
    pub fn since<'a>(
        &self,
        end: EventTime,
        open: impl IntoIterator<Item = &'a Incident>,
    ) -> EventTime {
        let window = end.millis().saturating_sub(self.window_ms);
        let floor = end.millis().saturating_sub(self.max_span_ms);
        let first = open
            .into_iter()
            .map(|i| i.first_seen.millis())
            .min()
            .unwrap_or(window);
        EventTime(first.min(window).max(floor))
    }

    /// The end of the next pass after one that ended at `done`, given the
    /// newest post: half a window further, so a backlog stored faster than
    /// passes run is read window by window; never past the newest post. The
    /// first pass (`done` is `None`) ends a whole window after `oldest`, so
    /// it reads a full window like every later one: one that read half a
    /// window found fragments of what the next pass found whole, and its
    /// incidents were deleted by that pass (3 of 4 on the 20k-post week of
    /// `a_backlog_announces_only_the_incidents_that_stand`).
    pub fn next_end(
        &self,
        done: Option<EventTime>,
        oldest: EventTime,
        newest: EventTime,
    ) -> EventTime {
        let last = newest.millis().saturating_add(1);
        let end = match done {
            Some(d) => d.millis().saturating_add((self.window_ms / 2).max(1)),
            None => oldest.millis().saturating_add(self.window_ms),
        };
        EventTime(end.min(last))
    }
}

/// Incidents found by a pass, reconciled with those stored.
#[derive(Debug, Default, PartialEq)]
pub struct Reconciled {
    /// To save (insert or replace by id): what the pass found, with the ids
    /// of the open incidents they continue.
    pub save: Vec<Incident>,
    /// Open incidents that nothing continues: to delete.
    pub delete: Vec<String>,
    /// Found incidents a frozen one holds: dropped.
    pub dropped: usize,
}

/// Posts two incidents share.
fn shared(a: &HashSet<&str>, b: &[String]) -> usize {
    b.iter().filter(|p| a.contains(p.as_str())).count()
}

/// Reconciles `found` (a pass's incidents) with the stored incidents: those
/// `open` at the pass's end and those `frozen`. See the module docs.
pub fn reconcile(found: Vec<Incident>, open: &[Incident], frozen: &[Incident]) -> Reconciled {
    let frozen_ids: HashSet<&str> = frozen.iter().map(|i| i.id.as_str()).collect();
    let frozen_posts: Vec<HashSet<&str>> = frozen
        .iter()
        .map(|i| i.posts.iter().map(String::as_str).collect())
        .collect();
    // Posts → frozen incidents holding them, to test only those sharing one.
    let mut frozen_of: HashMap<&str, Vec<usize>> = HashMap::new();
    for (k, set) in frozen_posts.iter().enumerate() {
        for p in set {
            frozen_of.entry(p).or_default().push(k);
        }
    }
    let mut dropped = 0;
    let found: Vec<Incident> = found
        .into_iter()
        .filter(|f| {
            let candidates: BTreeSet<usize> = f
                .posts
                .iter()
                .filter_map(|p| frozen_of.get(p.as_str()))
                .flatten()
                .copied()
                .collect();
            let held = frozen_ids.contains(f.id.as_str())
                || candidates
                    .iter()
                    .any(|&k| 2 * shared(&frozen_posts[k], &f.posts) >= f.posts.len().max(1));
            dropped += usize::from(held);
            !held
        })
        .collect();
    // Pairs (found, open) sharing at least half of the smaller one's posts,
    // most shared first: each open id goes to one found incident.
    let open_posts: Vec<HashSet<&str>> = open
        .iter()
        .map(|i| i.posts.iter().map(String::as_str).collect())
        .collect();
    let mut open_of: HashMap<&str, Vec<usize>> = HashMap::new();
    for (k, set) in open_posts.iter().enumerate() {
        for p in set {
            open_of.entry(p).or_default().push(k);
        }
    }
    let mut pairs: Vec<(usize, usize, usize)> = Vec::new();
    for (fi, f) in found.iter().enumerate() {
        let candidates: BTreeSet<usize> = f
            .posts
            .iter()
            .filter_map(|p| open_of.get(p.as_str()))
            .flatten()
            .copied()
            .collect();
        for oi in candidates {
            let n = shared(&open_posts[oi], &f.posts);
            let smaller = f.posts.len().min(open[oi].posts.len()).max(1);
            if 2 * n >= smaller {
                pairs.push((n, fi, oi));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut id_of: Vec<Option<usize>> = vec![None; found.len()];
    let mut taken = vec![false; open.len()];
    for (_, fi, oi) in pairs {
        if id_of[fi].is_none() && !taken[oi] {
            id_of[fi] = Some(oi);
            taken[oi] = true;
        }
    }
    let kept_ids: HashSet<&str> = open
        .iter()
        .zip(&taken)
        .filter(|(_, t)| **t)
        .map(|(i, _)| i.id.as_str())
        .collect();
    let mut save = Vec::with_capacity(found.len());
    let mut used: HashSet<String> = HashSet::new();
    for (mut f, of) in found.into_iter().zip(id_of) {
        match of {
            Some(oi) => f.id = open[oi].id.clone(),
            // Its own id, unless an open incident that another found one
            // continues has it (then it is that one's).
            None if kept_ids.contains(f.id.as_str()) => continue,
            None => {}
        }
        if used.insert(f.id.clone()) {
            save.push(f);
        }
    }
    let delete = open
        .iter()
        .filter(|i| !used.contains(&i.id))
        .map(|i| i.id.clone())
        .collect();
    Reconciled {
        save,
        delete,
        dropped,
    }
}

/// Network ids that carry on from pass to pass and are never reused: a
/// network sharing at least half of the smaller one's accounts with a
/// network of the previous pass takes its id; any other gets the next id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NetworkIds {
    next: usize,
    /// The previous pass's networks: id and accounts.
    last: Vec<(usize, BTreeSet<String>)>,
}

impl NetworkIds {
    /// Ids from what is stored: after every `network:<id>` the incidents
    /// name (never reused), carrying on those of the `open` ones.
    pub fn resume(stored: &[Incident], open: &[Incident]) -> NetworkIds {
        let id = |r: &crate::incident::NetworkRef| {
            r.id.strip_prefix("network:")
                .and_then(|n| n.parse::<usize>().ok())
        };
        let next = stored
            .iter()
            .flat_map(|i| &i.networks)
            .filter_map(id)
            .map(|n| n.saturating_add(1))
            .max()
            .unwrap_or(0);
        let mut last: Vec<(usize, BTreeSet<String>)> = Vec::new();
        for r in open.iter().flat_map(|i| &i.networks) {
            if let Some(n) = id(r)
                && !last.iter().any(|(k, _)| *k == n)
            {
                last.push((n, r.accounts.iter().cloned().collect()));
            }
        }
        NetworkIds { next, last }
    }

    /// The next id never given.
    pub fn next(&self) -> usize {
        self.next
    }

    /// Numbers this pass's networks (largest overlap first).
    pub fn assign(&mut self, networks: &mut [FoundNetwork]) {
        let mut pairs: Vec<(usize, usize, usize)> = Vec::new();
        for (ni, n) in networks.iter().enumerate() {
            for (li, (_, accounts)) in self.last.iter().enumerate() {
                let common = n.accounts.iter().filter(|a| accounts.contains(*a)).count();
                let smaller = n.accounts.len().min(accounts.len()).max(1);
                if common > 0 && 2 * common >= smaller {
                    pairs.push((common, ni, li));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut id_of: Vec<Option<usize>> = vec![None; networks.len()];
        let mut taken = vec![false; self.last.len()];
        for (_, ni, li) in pairs {
            if id_of[ni].is_none() && !taken[li] {
                id_of[ni] = Some(self.last[li].0);
                taken[li] = true;
            }
        }
        for (n, id) in networks.iter_mut().zip(id_of) {
            n.id = id.unwrap_or_else(|| {
                self.next += 1;
                self.next - 1
            });
        }
        self.last = networks
            .iter()
            .map(|n| (n.id, n.accounts.iter().cloned().collect()))
            .collect();
    }
}

/// What one live pass did.
pub struct Pass {
    /// The assessment of the window (its incidents are those found, before
    /// reconciling; its network report numbered by the carried ids).
    pub assessment: Assessment,
    /// What to save and delete.
    pub reconciled: Reconciled,
    /// The window read: `[since, end)`.
    pub since: EventTime,
    pub end: EventTime,
}

/// One live pass ending at `end`: reads the window (see
/// [`LiveOptions::since`]), assesses it as `pharos assess` does with the
/// networks numbered by `ids`, and reconciles its incidents with the
/// `stored` ones (those whose last post is before the window are not
/// needed: the caller may leave them out). The caller saves and deletes
/// ([`crate::update_incidents`]).
pub fn pass<S>(
    store: &S,
    opts: &AssessOptions,
    live: &LiveOptions,
    stored: &[Incident],
    ids: &mut NetworkIds,
    end: EventTime,
) -> Result<Pass, AssessError>
where
    S: Store + ClaimMatches + Responses + MediaHashes + ?Sized,
{
    let (open, mut frozen): (Vec<Incident>, Vec<Incident>) =
        stored.iter().cloned().partition(|i| live.is_open(i, end));
    let since = live.since(end, &open);
    // A frozen incident whose last post is before the window shares no
    // post with what the pass finds.
    frozen.retain(|i| i.last_seen.millis() >= since.millis());
    let mut opts = opts.clone();
    opts.since = Some(since);
    opts.until = Some(end);
    let pipeline = crate::stream::AlertPipeline::new(opts.rules.clone(), None, true)?;
    let mut assessment =
        crate::assess::assess_store_numbered(store, &opts, pipeline, &mut |n| ids.assign(n))?;
    let found = std::mem::take(&mut assessment.incidents);
    let reconciled = reconcile(found.clone(), &open, &frozen);
    assessment.incidents = found;
    Ok(Pass {
        assessment,
        reconciled,
        since,
        end,
    })
}

/// Posts read at once by [`prebunk_store`].
const PREBUNK_CHUNK: usize = 16_384;

/// Storylines likely to come back, from the whole store read once in
/// event-time order with no post held ([`crate::prebunk::brief::PrebunkHistory`]):
/// the claim matches of the store and the `incidents` given link briefs to
/// fact-checks and techniques.
pub fn prebunk_store<S>(
    store: &S,
    incidents: &[Incident],
    claims: &[crate::signals::ClaimInfo],
    opts: &AssessOptions,
) -> Result<crate::prebunk::brief::Prebunk, StoreError>
where
    S: Store + ClaimMatches + ?Sized,
{
    let matches = crate::signals::stored_matches(store, opts.fusion.min_match_confidence)?;
    let watched = matches
        .iter()
        .map(|m| format!("{}:{}", m.platform, m.post_id))
        .chain(incidents.iter().flat_map(|i| i.posts.iter().cloned()));
    let mut history = crate::prebunk::brief::PrebunkHistory::new(watched);
    let mut chunk = Vec::with_capacity(PREBUNK_CHUNK);
    let filter = PostFilter {
        since: opts.since,
        until: opts.until,
        platform: None,
    };
    store.scan(&filter, &mut |p| {
        chunk.push(p);
        if chunk.len() == PREBUNK_CHUNK {
            history.push(&chunk);
            chunk.clear();
        }
        ControlFlow::Continue(())
    })?;
    history.push(&chunk);
    let claims: HashMap<String, crate::signals::ClaimInfo> =
        claims.iter().map(|c| (c.id.clone(), c.clone())).collect();
    Ok(history.finish(&matches, incidents, &claims, &opts.prebunk, opts.until))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::tests::sample;

    fn inc(id: &str, posts: &[u32], first_h: i64, last_h: i64) -> Incident {
        let mut i = sample();
        i.id = id.into();
        i.posts = posts.iter().map(|p| format!("x:{p}")).collect();
        i.first_seen = EventTime(first_h * HOUR_MS);
        i.last_seen = EventTime(last_h * HOUR_MS);
        i
    }

    fn ids(v: &[Incident]) -> Vec<&str> {
        v.iter().map(|i| i.id.as_str()).collect()
    }

    #[test]
    fn a_found_incident_continuing_an_open_one_takes_its_id() {
        let open = [inc("inc-open", &[1, 2, 3, 4], 0, 10)];
        // Grown: 4 of its 10 posts are the open one's (all of the smaller's).
        let grown = inc("inc-new", &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0, 20);
        let other = inc("inc-other", &[50, 51, 52], 5, 6);
        let r = reconcile(vec![grown, other], &open, &[]);
        assert_eq!(ids(&r.save), ["inc-open", "inc-other"]);
        assert_eq!(r.save[0].posts.len(), 10, "saved as found");
        assert!(r.delete.is_empty());
    }

    #[test]
    fn less_than_half_shared_is_another_incident_and_the_open_one_goes() {
        let open = [inc("inc-open", &[1, 2, 3, 4], 0, 10)];
        let found = inc("inc-new", &[4, 5, 6, 7, 8], 0, 20);
        let r = reconcile(vec![found], &open, &[]);
        assert_eq!(ids(&r.save), ["inc-new"]);
        assert_eq!(r.delete, ["inc-open"], "nothing continues it");
    }

    #[test]
    fn one_open_id_goes_to_the_found_incident_sharing_most() {
        let open = [inc("inc-open", &[1, 2, 3, 4, 5, 6], 0, 10)];
        let a = inc("inc-a", &[1, 2], 0, 10);
        let b = inc("inc-b", &[3, 4, 5, 6], 0, 10);
        let r = reconcile(vec![a, b], &open, &[]);
        assert_eq!(ids(&r.save), ["inc-a", "inc-open"]);
        assert!(r.delete.is_empty());
    }

    #[test]
    fn a_found_incident_a_frozen_one_holds_is_dropped_and_the_frozen_one_stays() {
        let frozen = [inc("inc-frozen", &[1, 2, 3, 4], 0, 10)];
        let again = inc("inc-again", &[3, 4, 5], 0, 10);
        let new = inc("inc-new", &[4, 5, 6, 7], 0, 10);
        let r = reconcile(vec![again, new], &[], &frozen);
        assert_eq!(ids(&r.save), ["inc-new"]);
        assert_eq!(r.dropped, 1);
        assert!(r.delete.is_empty(), "a frozen incident is never deleted");
        // The same id as a frozen one (same accounts and first post): held.
        let r = reconcile(vec![inc("inc-frozen", &[9], 0, 1)], &[], &frozen);
        assert!(r.save.is_empty());
    }

    #[test]
    fn an_incident_is_open_while_recent_and_young_enough() {
        let live = LiveOptions::hours(48, 168);
        let end = EventTime(200 * HOUR_MS);
        assert!(live.is_open(&inc("a", &[1], 100, 160), end));
        assert!(!live.is_open(&inc("b", &[1], 100, 140), end), "quiet 60 h");
        assert!(
            !live.is_open(&inc("c", &[1], 20, 199), end),
            "began 180 h ago"
        );
        // The window reaches back to the first post of an open incident …
        let open = [inc("a", &[1], 100, 160)];
        assert_eq!(live.since(end, &open), EventTime(100 * HOUR_MS));
        assert_eq!(live.since(end, &[]), EventTime(152 * HOUR_MS));
        // … never past the span.
        let old = [inc("a", &[1], 10, 160)];
        assert_eq!(live.since(end, &old), EventTime(32 * HOUR_MS));
    }

    #[test]
    fn passes_step_half_a_window_until_the_newest_post() {
        let live = LiveOptions::hours(48, 168);
        let oldest = EventTime(0);
        let newest = EventTime(60 * HOUR_MS);
        let mut ends = Vec::new();
        let mut done = None;
        loop {
            let end = live.next_end(done, oldest, newest);
            ends.push(end.millis() / HOUR_MS);
            done = Some(end);
            if end.millis() > newest.millis() {
                break;
            }
        }
        // A whole window first, then half a window at a time.
        assert_eq!(ends, [48, 60]);
        assert_eq!(live.next_end(done, oldest, newest), EventTime(newest.0 + 1));
    }

    fn net(accounts: &[&str]) -> FoundNetwork {
        FoundNetwork {
            id: 0,
            accounts: accounts.iter().map(|a| a.to_string()).collect(),
            edges: Vec::new(),
            kinds: Default::default(),
            posts: Vec::new(),
            median_delta_s: 0.0,
            template: None,
        }
    }

    #[test]
    fn network_ids_carry_on_and_are_never_reused() {
        let mut ids = NetworkIds::default();
        let mut first = vec![net(&["a", "b", "c"]), net(&["x", "y", "z"])];
        ids.assign(&mut first);
        assert_eq!(first.iter().map(|n| n.id).collect::<Vec<_>>(), [0, 1]);
        // Next pass: x,y,z grew (carries 1), a,b,c is gone, a new one.
        let mut second = vec![net(&["w", "x", "y", "z"]), net(&["p", "q", "r"])];
        ids.assign(&mut second);
        assert_eq!(second.iter().map(|n| n.id).collect::<Vec<_>>(), [1, 2]);
        // a,b,c again after a pass without it: a new id, 0 is not reused.
        let mut third = vec![net(&["a", "b", "c"])];
        ids.assign(&mut third);
        assert_eq!(third[0].id, 3);
        // Resumed from the store: after every id named, carrying the open ones.
        let mut stored = inc("inc-a", &[1], 0, 1);
        stored.networks = vec![crate::incident::NetworkRef {
            id: "network:7".into(),
            kind: "co-link".into(),
            accounts: vec!["m".into(), "n".into(), "o".into()],
            edges: vec![],
            density: 1.0,
            median_time_delta_s: 1.0,
            coordinated_posts: 3,
            template: None,
        }];
        let mut ids =
            NetworkIds::resume(std::slice::from_ref(&stored), std::slice::from_ref(&stored));
        assert_eq!(ids.next(), 8);
        let mut nets = vec![net(&["k", "l", "j"]), net(&["m", "n", "o", "p"])];
        ids.assign(&mut nets);
        assert_eq!(nets.iter().map(|n| n.id).collect::<Vec<_>>(), [8, 7]);
    }
}
