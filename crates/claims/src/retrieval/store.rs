//! Matches of stored posts, kept in the store (component `claim_matches`).
//!
//! Table `claim_matches(platform, post_id, claim_id, score, confidence)`,
//! one row per (post, claim) at or above the threshold used when the posts
//! were matched. Other parts of Pharos (assessment, response packs) read it
//! with [`stored_matches`], [`matches_of_claim`] and [`all_matches`].

use super::Matcher;
use pharos_store::rusqlite::{self, OptionalExtension, params};
use pharos_store::{PostFilter, SqliteStore, Store, StoreError};
use std::ops::ControlFlow;

/// The component's name in the store.
pub const COMPONENT: &str = "claim_matches";

/// The component's migrations (see [`SqliteStore::component`]).
pub const MIGRATIONS: &[&str] = &["CREATE TABLE claim_matches (
        platform TEXT NOT NULL,
        post_id TEXT NOT NULL,
        claim_id TEXT NOT NULL,
        score REAL NOT NULL,
        confidence REAL NOT NULL,
        PRIMARY KEY (platform, post_id, claim_id)
    );
    CREATE INDEX claim_matches_claim ON claim_matches (claim_id);"];

/// One stored match.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredMatch {
    pub platform: String,
    pub post_id: String,
    pub claim_id: String,
    pub score: f64,
    pub confidence: f64,
}

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

fn sql(store: &SqliteStore, e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: store.path().display().to_string(),
        source: e,
    }
}

/// Creates the table when missing (idempotent).
pub fn ensure(store: &mut SqliteStore) -> Result<(), StoreError> {
    store.component(COMPONENT, MIGRATIONS)
}

fn table_exists(store: &SqliteStore) -> Result<bool, StoreError> {
    store
        .conn()
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'claim_matches'",
            [],
            |_| Ok(()),
        )
        .optional()
        .map(|r| r.is_some())
        .map_err(|e| sql(store, e))
}

/// Matches every stored post (or those `filter` selects) against the
/// library and records, per post, the claims whose confidence is at least
/// `threshold` (up to `k` a post). A post's earlier matches are replaced.
/// `progress` is called with the number of posts done so far.
pub fn annotate(
    store: &mut SqliteStore,
    matcher: &Matcher,
    filter: &PostFilter,
    threshold: f64,
    k: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<Annotated, StoreError> {
    ensure(store)?;
    let store: &SqliteStore = store;
    const BATCH: usize = 64;
    let mut summary = Annotated::default();
    let mut batch: Vec<(String, String, String, Option<String>)> = Vec::with_capacity(BATCH);
    let mut failure: Option<StoreError> = None;
    let flush = |batch: &mut Vec<(String, String, String, Option<String>)>,
                 summary: &mut Annotated|
     -> Result<(), StoreError> {
        let posts: Vec<(&str, Option<&str>)> = batch
            .iter()
            .map(|(_, _, t, l)| (t.as_str(), l.as_deref()))
            .collect();
        let results = matcher.match_batch(&posts, k);
        let conn = store.conn();
        conn.execute_batch("BEGIN").map_err(|e| sql(store, e))?;
        let mut del = conn
            .prepare_cached("DELETE FROM claim_matches WHERE platform = ?1 AND post_id = ?2")
            .map_err(|e| sql(store, e))?;
        let mut ins = conn
            .prepare_cached(
                "INSERT OR REPLACE INTO claim_matches (platform, post_id, claim_id, score, confidence)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(|e| sql(store, e))?;
        for ((platform, id, _, _), matches) in batch.iter().zip(results) {
            del.execute(params![platform, id])
                .map_err(|e| sql(store, e))?;
            let mut any = false;
            for m in matches.iter().filter(|m| m.confidence >= threshold) {
                ins.execute(params![platform, id, m.claim_id, m.score, m.confidence])
                    .map_err(|e| sql(store, e))?;
                summary.matches += 1;
                any = true;
            }
            summary.matched_posts += any as u64;
        }
        conn.execute_batch("COMMIT").map_err(|e| sql(store, e))?;
        summary.posts += batch.len() as u64;
        batch.clear();
        Ok(())
    };
    store.scan(filter, &mut |post| {
        batch.push((post.platform, post.id, post.text, post.lang));
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
        let _ = store.conn().execute_batch("ROLLBACK");
        return Err(e);
    }
    if !batch.is_empty() {
        flush(&mut batch, &mut summary)?;
        progress(summary.posts);
    }
    Ok(summary)
}

fn collect(
    store: &SqliteStore,
    where_sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<StoredMatch>, StoreError> {
    if !table_exists(store)? {
        return Ok(Vec::new());
    }
    let q = format!(
        "SELECT platform, post_id, claim_id, score, confidence FROM claim_matches {where_sql}
         ORDER BY confidence DESC, platform, post_id, claim_id"
    );
    let mut stmt = store.conn().prepare(&q).map_err(|e| sql(store, e))?;
    let rows = stmt
        .query_map(args, |r| {
            Ok(StoredMatch {
                platform: r.get(0)?,
                post_id: r.get(1)?,
                claim_id: r.get(2)?,
                score: r.get(3)?,
                confidence: r.get(4)?,
            })
        })
        .map_err(|e| sql(store, e))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(|e| sql(store, e))
}

/// The stored matches of one post, most confident first (empty when the
/// posts were never matched).
pub fn stored_matches(
    store: &SqliteStore,
    platform: &str,
    post_id: &str,
) -> Result<Vec<StoredMatch>, StoreError> {
    collect(
        store,
        "WHERE platform = ?1 AND post_id = ?2",
        &[&platform, &post_id],
    )
}

/// The stored posts that match one claim, most confident first.
pub fn matches_of_claim(
    store: &SqliteStore,
    claim_id: &str,
) -> Result<Vec<StoredMatch>, StoreError> {
    collect(store, "WHERE claim_id = ?1", &[&claim_id])
}

/// Every stored match with at least `min_confidence`.
pub fn all_matches(
    store: &SqliteStore,
    min_confidence: f64,
) -> Result<Vec<StoredMatch>, StoreError> {
    collect(store, "WHERE confidence >= ?1", &[&min_confidence])
}
