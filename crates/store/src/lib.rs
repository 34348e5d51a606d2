//! Where everything Pharos keeps lives. The store owns every table: no
//! other crate speaks SQL (a test fails when one does).
//!
//! Posts:
//! - [`Store`]: insert batches idempotently, scan in event-time order,
//!   count, summarise ([`Stats`]), look a post up, record ingest runs.
//! - [`EncodedPosts`]: a batch encoded ahead of the write (JSON record and
//!   columns in one buffer), so the writer only binds and steps.
//! - [`PostLog`]: reads by storage order, for readers that follow a
//!   growing store (the server's live analysis).
//! - [`PostSearcher`] ([`search`]): full text and filters, page by page.
//! - [`Actors`]: what the store holds of one account.
//!
//! Repositories ([`repo`]), one per kind of record:
//! - [`ClaimMatches`]: posts matched to fact-checked claims.
//! - [`Incidents`]: assessed incidents.
//! - [`Responses`]: responses logged against narratives.
//! - [`DisarmCatalogue`]: the DISARM framework, imported.
//! - [`StixObjects`]: partners' STIX objects and their import runs.
//! - [`MediaHashes`]: hashes and provenance of the media files posts
//!   reference (`pharos media scan`).
//! - [`Tokens`], [`Audit`], [`Markings`], [`TextIndex`]: the server's API
//!   tokens, append-only audit log, TLP markings and full-text index.
//!
//! Backends implement every trait; callers take the traits (`&impl
//! Incidents`, `&dyn ClaimMatches`), never a backend:
//! - [`sqlite`]: the embedded default, one SQLite file in WAL mode.
//! - [`postgres`]: a team's shared store, one PostgreSQL database
//!   ([`PgStore::connect`] with a `postgres://` URL).
//!
//! [`schema`] holds every table and migration, versioned in one place;
//! opening a store brings it up to date (stores written by earlier
//! versions open unchanged).
//!
//! Inserts are idempotent on `(platform, id)`: re-ingesting a file adds
//! nothing. Each batch is one transaction, so an interrupted ingest leaves
//! every earlier batch stored and no half-written batch. A stored record
//! that cannot be decoded never makes a read fail: it is skipped, named in
//! a warning and counted ([`SqliteStore::skipped_records`]).

pub mod any;
pub mod encoded;
pub mod postgres;
pub mod repo;
pub mod schema;
pub mod search;
pub mod sqlite;
pub mod stats;
pub mod taxii;

use pharos_core::{EventTime, Post};
use std::ops::ControlFlow;

pub use any::{AnyStore, Location, open, open_existing};
pub use encoded::{EncodedPost, EncodedPosts};
pub use postgres::PgStore;
pub use repo::*;
pub use search::{PostSearch, PostSearcher, SearchCursor, SearchPage, text_query};
pub use sqlite::SqliteStore;
pub use stats::Stats;
pub use taxii::TaxiiStore;

/// Errors from a store, the same whatever the backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend (SQLite; PostgreSQL behind the same traits) failed:
    /// its own error, whatever the backend.
    #[error("store {path}: {source}")]
    Backend {
        path: String,
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    #[error(
        "store {path}: schema version {found} is newer than this pharos understands ({supported}); upgrade pharos"
    )]
    TooNew {
        path: String,
        found: i64,
        supported: i64,
    },
    #[error("store {path}: stored record {rowid} is unreadable: {reason}")]
    Corrupt {
        path: String,
        rowid: i64,
        reason: String,
    },
    #[error("store {path}: {reason}")]
    Io { path: String, reason: String },
    /// A request the store cannot answer as asked (a cursor of another
    /// search, say): the caller's mistake, not the store's.
    #[error("{0}")]
    Invalid(String),
    #[error("cannot encode post {platform}/{id} for storage: {reason}")]
    Encode {
        platform: String,
        id: String,
        reason: String,
    },
}

impl StoreError {
    /// A backend's error on the store at `path`.
    pub fn backend(
        path: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> StoreError {
        StoreError::Backend {
            path: path.into(),
            source: Box::new(source),
        }
    }

    /// Whether the store refused what was asked for what it is (a
    /// constraint, a trigger, a value it cannot hold), so that asking again
    /// gives the same answer; false when the store could not answer now
    /// (busy, locked, full, unreachable), so that a later try may succeed.
    pub fn is_refusal(&self) -> bool {
        match self {
            StoreError::Backend { source, .. } => {
                if let Some(e) = source.downcast_ref::<rusqlite::Error>() {
                    return matches!(
                        e.sqlite_error_code(),
                        Some(
                            rusqlite::ErrorCode::ConstraintViolation
                                | rusqlite::ErrorCode::TooBig
                                | rusqlite::ErrorCode::TypeMismatch
                        )
                    );
                }
                if let Some(e) = source.downcast_ref::<::postgres::Error>() {
                    // Class 22 (data exception), 23 (integrity constraint
                    // violation), P0 (raised by PL/pgSQL: a trigger).
                    return e.code().is_some_and(|c| {
                        let c = c.code();
                        c.starts_with("22") || c.starts_with("23") || c.starts_with("P0")
                    });
                }
                false
            }
            StoreError::Encode { .. } | StoreError::Invalid(_) => true,
            StoreError::TooNew { .. } | StoreError::Corrupt { .. } | StoreError::Io { .. } => false,
        }
    }
}

/// What an insert did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Inserted {
    /// New posts written.
    pub stored: u64,
    /// Posts already in the store (same platform and id), left as they were.
    pub duplicates: u64,
}

impl std::ops::AddAssign for Inserted {
    fn add_assign(&mut self, o: Inserted) {
        self.stored += o.stored;
        self.duplicates += o.duplicates;
    }
}

/// Which posts a scan visits.
#[derive(Clone, Debug, Default)]
pub struct PostFilter {
    pub since: Option<EventTime>,
    pub until: Option<EventTime>,
    pub platform: Option<String>,
}

/// A record of one ingest run, kept in the store.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct RunRecord {
    pub command: String,
    pub sources: Vec<String>,
    pub stored: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    pub started_ms: i64,
    pub finished_ms: i64,
}

/// Storage for posts. Implementations: [`SqliteStore`], [`PgStore`].
pub trait Store {
    /// Inserts a batch in one transaction; existing `(platform, id)` are left
    /// untouched, and so are later duplicates within the batch (the first wins).
    fn insert(&mut self, posts: &[Post]) -> Result<Inserted, StoreError> {
        let mut batch = EncodedPosts::with_capacity(posts.len());
        batch.extend(posts)?;
        self.insert_encoded(&batch)
    }
    /// Same as [`Store::insert`] for posts already encoded (on another thread,
    /// say): the fast path of bulk ingest.
    fn insert_encoded(&mut self, posts: &EncodedPosts) -> Result<Inserted, StoreError>;
    /// Number of stored posts.
    fn count(&self) -> Result<u64, StoreError>;
    /// Visits stored posts in event-time order (ties by insertion order).
    fn scan(
        &self,
        filter: &PostFilter,
        visit: &mut dyn FnMut(Post) -> ControlFlow<()>,
    ) -> Result<(), StoreError>;
    /// Counts by platform, language and day; top domains, hashtags and actors.
    fn stats(&self, top: usize) -> Result<Stats, StoreError>;
    /// Records an ingest run.
    fn record_run(&mut self, run: &RunRecord) -> Result<(), StoreError>;
    /// Looks one post up by its identity (`None` when absent, or when its
    /// stored record cannot be read: that is named in a warning).
    fn get(&self, platform: &str, id: &str) -> Result<Option<Post>, StoreError>;
    /// The platforms on which a post with this id is stored, sorted.
    fn platforms_with_id(&self, id: &str) -> Result<Vec<String>, StoreError>;
    /// Where the store is (a file, a database), for messages.
    fn location(&self) -> String;
}
