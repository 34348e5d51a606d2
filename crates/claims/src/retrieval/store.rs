//! Matches of stored posts, kept in the store (component `claim_matches`).
//!
//! Table `claim_matches(platform, post_id, claim_id, score, confidence)`,
//! one row per (post, claim) at or above the threshold used when the posts
//! were matched. Other parts of Pharos (assessment, response packs) read it
//! with [`stored_matches`], [`matches_of_claim`] and [`all_matches`].

use super::Matcher;
use pharos_store::{ClaimMatches, PostFilter, PostMatches, Store, StoreError};
use std::ops::ControlFlow;

/// One stored match.
pub use pharos_store::StoredMatch;

/// What [`annotate`] did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Annotated {
    /// Posts read.
    pub posts: u64,
    /// Posts with at least one match.
    pub matched_posts: u64,
    /// Match rows written.
    pub matches: u64,
}

/// Matches every stored post (or those `filter` selects) against the
/// library and records, per post, the claims whose confidence is at least
/// `threshold` (up to `k` a post). A post's earlier matches are replaced.
/// `progress` is called with the number of posts done so far.
///
/// Each post is matched as the stream paths' claim signal reads it: without
/// the lines its source repeats (a channel's footer, learned as the posts
/// are read in event-time order) and the platforms' templates
/// ([`pharos_analysis::narratives::BoilerplateReader`], the narrative
/// engine's learner). The stored posts are not changed.
pub fn annotate<S: Store + ClaimMatches + ?Sized>(
    store: &mut S,
    matcher: &Matcher,
    filter: &PostFilter,
    threshold: f64,
    k: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<Annotated, StoreError> {
    let store: &S = store;
    const BATCH: usize = 64;
    let mut summary = Annotated::default();
    let mut batch: Vec<(String, String, String, Option<String>)> = Vec::with_capacity(BATCH);
    let mut failure: Option<StoreError> = None;
    let mut boilerplate = pharos_analysis::narratives::BoilerplateReader::default();
    let flush = |batch: &mut Vec<(String, String, String, Option<String>)>,
                 summary: &mut Annotated|
     -> Result<(), StoreError> {
        let posts: Vec<(&str, Option<&str>)> = batch
            .iter()
            .map(|(_, _, t, l)| (t.as_str(), l.as_deref()))
            .collect();
        let results = matcher.match_batch(&posts, k);
        let mut rows = Vec::with_capacity(batch.len());
        for ((platform, id, _, _), matches) in batch.drain(..).zip(results) {
            let matches: Vec<(String, f64, f64)> = matches
                .iter()
                .filter(|m| m.confidence >= threshold)
                .map(|m| (m.claim_id.clone(), m.score, m.confidence))
                .collect();
            summary.matched_posts += !matches.is_empty() as u64;
            rows.push(PostMatches {
                platform,
                post_id: id,
                matches,
            });
        }
        summary.matches += store.replace_matches(&rows)?;
        summary.posts += rows.len() as u64;
        Ok(())
    };
    store.scan(filter, &mut |post| {
        let text = boilerplate.observe(&post).into_owned();
        batch.push((post.platform, post.id, text, post.lang));
        if batch.len() >= BATCH {
            if let Err(e) = flush(&mut batch, &mut summary) {
                failure = Some(e);
                return ControlFlow::Break(());
            }
            progress(summary.posts);
        }
        ControlFlow::Continue(())
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if !batch.is_empty() {
        flush(&mut batch, &mut summary)?;
        progress(summary.posts);
    }
    Ok(summary)
}

/// The stored matches of one post, most confident first (empty when the
/// posts were never matched).
pub fn stored_matches<S: ClaimMatches + ?Sized>(
    store: &S,
    platform: &str,
    post_id: &str,
) -> Result<Vec<StoredMatch>, StoreError> {
    store.matches_of_post(platform, post_id)
}

/// The stored posts that match one claim, most confident first.
pub fn matches_of_claim<S: ClaimMatches + ?Sized>(
    store: &S,
    claim_id: &str,
) -> Result<Vec<StoredMatch>, StoreError> {
    store.matches_of_claim(claim_id)
}

/// Every stored match with at least `min_confidence`.
pub fn all_matches<S: ClaimMatches + ?Sized>(
    store: &S,
    min_confidence: f64,
) -> Result<Vec<StoredMatch>, StoreError> {
    store.matches_at_least(min_confidence)
}
