//! Summary of what a store holds (`pharos stats`).

use serde::Serialize;

/// A name with a count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Count {
    pub key: String,
    pub count: u64,
}

/// What `pharos stats` prints; `--json` prints this object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Number of stored posts.
    pub posts: u64,
    /// Distinct actors (platform + actor id).
    pub actors: u64,
    /// First and last event time (RFC 3339), when there are posts.
    pub first: Option<String>,
    pub last: Option<String>,
    pub by_platform: Vec<Count>,
    /// `und` counts posts without a language.
    pub by_language: Vec<Count>,
    /// UTC days, `YYYY-MM-DD`, in order.
    pub by_day: Vec<Count>,
    pub top_domains: Vec<Count>,
    pub top_hashtags: Vec<Count>,
    /// `platform:actor_id (@handle)`.
    pub top_actors: Vec<Count>,
    /// Records rejected into quarantine over all runs.
    pub quarantined: u64,
}
