//! Opening a store by its location, whatever the backend: what `--store`
//! takes on every command.
//!
//! - A location that starts with `postgres://` or `postgresql://` is a
//!   PostgreSQL database (teams, several servers, the scale-out workers).
//! - Anything else is the path of an SQLite file (the embedded default).
//!
//! [`open`] gives an [`AnyStore`], which implements every store trait by
//! handing the call to its backend, plus the few backend-specific methods
//! callers need (bulk loads, the writer's batched commits, where rejected
//! records go). Code that needs only traits takes `&impl Trait` instead.
//!
//! Files that belong with a store ([`Location::beside`]: the quarantine,
//! the claims library, webhook redelivery queues) sit next to an SQLite
//! file; a PostgreSQL store has no file, so they go in the current
//! directory, named after the database (`DB.quarantine.jsonl`).

use crate::taxii::{NewObject, ObjectRow};
use crate::{
    ActorSummary, Actors, Audit, AuditCheck, AuditRecord, ClaimMatches, DisarmCatalogue,
    DisarmSaved, DisarmTactic, DisarmTechnique, EncodedPosts, IncidentRecord, Incidents, Inserted,
    MarkingRecord, Markings, MediaHashes, MediaRecord, PgStore, PostFilter, PostLog, PostMatches,
    PostSearch, PostSearcher, ResponseRecord, Responses, RunRecord, SearchPage, SqliteStore, Stats,
    StixImport, StixObjectRecord, StixObjects, StixOutcome, Store, StoreError, StoredMatch,
    StoredStixObject, TaxiiStore, TextIndex, TokenRecord, Tokens,
};
use pharos_core::Post;
use std::fmt;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// Where a store is: what `--store` names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    /// An SQLite file (relative paths are relative to the current directory).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://user@host:port/db`).
    Postgres(String),
}

impl Location {
    /// Reads a location: a `postgres://` or `postgresql://` URL is
    /// PostgreSQL, anything else an SQLite path.
    pub fn parse(s: &str) -> Location {
        if is_postgres_url(s) {
            Location::Postgres(crate::postgres::normalise_url(s))
        } else {
            Location::Sqlite(PathBuf::from(s))
        }
    }

    /// The SQLite file, when this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Location::Sqlite(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Location::Postgres(_))
    }

    /// The location as given (a path, or the URL with its password, if any,
    /// left in): what to pass to another `pharos --store`. For messages use
    /// `Display`, which hides a password.
    pub fn as_arg(&self) -> String {
        match self {
            Location::Sqlite(p) => p.display().to_string(),
            Location::Postgres(u) => u.clone(),
        }
    }

    /// A file that belongs with the store, `NAME.SUFFIX`: beside an SQLite
    /// store at `DIR/NAME.EXT` (`cases/x.db` → `cases/x.quarantine.jsonl`
    /// for suffix `quarantine.jsonl`); for PostgreSQL, in the current
    /// directory, `NAME` being the database's name.
    pub fn beside(&self, suffix: &str) -> PathBuf {
        match self {
            Location::Sqlite(p) => {
                let stem = p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "pharos".into());
                p.with_file_name(format!("{stem}.{suffix}"))
            }
            Location::Postgres(u) => PathBuf::from(format!("{}.{suffix}", database_name(u))),
        }
    }

    /// Opens (creating when absent: the SQLite file, or the PostgreSQL
    /// database) the store and brings its schema up to date.
    pub fn open(&self) -> Result<AnyStore, StoreError> {
        match self {
            Location::Sqlite(p) => Ok(AnyStore::Sqlite(SqliteStore::open(p)?)),
            Location::Postgres(u) => Ok(AnyStore::Postgres(Box::new(PgStore::open(u)?))),
        }
    }

    /// Opens an existing store: an error when there is none (no SQLite file
    /// at the path; no database of that name on the PostgreSQL server).
    pub fn open_existing(&self) -> Result<AnyStore, StoreError> {
        match self {
            Location::Sqlite(p) => Ok(AnyStore::Sqlite(SqliteStore::open_existing(p)?)),
            Location::Postgres(u) => Ok(AnyStore::Postgres(Box::new(PgStore::open_existing(u)?))),
        }
    }
}

impl std::str::FromStr for Location {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Location::parse(s))
    }
}

impl From<&Path> for Location {
    fn from(p: &Path) -> Location {
        match p.to_str() {
            Some(s) => Location::parse(s),
            None => Location::Sqlite(p.to_path_buf()),
        }
    }
}

impl From<PathBuf> for Location {
    fn from(p: PathBuf) -> Location {
        Location::from(p.as_path())
    }
}

impl From<&PathBuf> for Location {
    fn from(p: &PathBuf) -> Location {
        Location::from(p.as_path())
    }
}

impl From<String> for Location {
    fn from(s: String) -> Location {
        Location::parse(&s)
    }
}

impl From<&String> for Location {
    fn from(s: &String) -> Location {
        Location::parse(s)
    }
}

impl From<&Location> for Location {
    fn from(l: &Location) -> Location {
        l.clone()
    }
}

impl From<&str> for Location {
    fn from(s: &str) -> Location {
        Location::parse(s)
    }
}

/// The path, or the URL without its password.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{}", p.display()),
            Location::Postgres(u) => f.write_str(&redact(u)),
        }
    }
}

pub use crate::postgres::{is_postgres_url, redact_url as redact};

/// The database a PostgreSQL URL names (`postgres` when it names none, as
/// libpq does for user `postgres`; here: the path's first segment).
fn database_name(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let path = rest.find('/').map(|i| &rest[i + 1..]).unwrap_or("");
    let db = path.split(['?', '/']).next().unwrap_or("");
    let db: String = db
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if db.is_empty() { "postgres".into() } else { db }
}

/// Opens (creating when absent) the store at `location` (an SQLite path or
/// a `postgres://` URL) and brings its schema up to date.
pub fn open(location: &str) -> Result<AnyStore, StoreError> {
    Location::parse(location).open()
}

/// Opens an existing store; an error when the SQLite file at `location` is
/// absent (see [`Location::open_existing`]).
pub fn open_existing(location: &str) -> Result<AnyStore, StoreError> {
    Location::parse(location).open_existing()
}

/// A store of any backend, as [`open`] gives it.
pub enum AnyStore {
    Sqlite(SqliteStore),
    /// Boxed: a PostgreSQL handle (its connection settings) is several
    /// times larger than an SQLite one.
    Postgres(Box<PgStore>),
}

/// `each!(self, s => expr)`: `expr` on the backend store `s`.
macro_rules! each {
    ($self:expr, $s:ident => $body:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $body,
            AnyStore::Postgres($s) => $body,
        }
    };
}

/// Implements a trait for [`AnyStore`] by handing every method to the backend.
macro_rules! delegate {
    ($trait:ident { $( fn $name:ident $params:tt -> $ret:ty; )* }) => {
        impl $trait for AnyStore {
            $( delegate!(@method $trait $name $params $ret); )*
        }
    };
    (@method $trait:ident $name:ident (&mut self $(, $arg:ident: $ty:ty)* $(,)?) $ret:ty) => {
        fn $name(&mut self $(, $arg: $ty)*) -> $ret {
            delegate!(@call self, $trait, $name, ($($arg),*))
        }
    };
    (@method $trait:ident $name:ident (&self $(, $arg:ident: $ty:ty)* $(,)?) $ret:ty) => {
        fn $name(&self $(, $arg: $ty)*) -> $ret {
            delegate!(@call self, $trait, $name, ($($arg),*))
        }
    };
    (@call $self:ident, $trait:ident, $name:ident, ($($arg:ident),*)) => {
        match $self {
            AnyStore::Sqlite(s) => <SqliteStore as $trait>::$name(s $(, $arg)*),
            AnyStore::Postgres(s) => <PgStore as $trait>::$name(s $(, $arg)*),
        }
    };
}

delegate!(Store {
    fn insert(&mut self, posts: &[Post]) -> Result<Inserted, StoreError>;
    fn insert_encoded(&mut self, posts: &EncodedPosts) -> Result<Inserted, StoreError>;
    fn count(&self) -> Result<u64, StoreError>;
    fn scan(&self, filter: &PostFilter, visit: &mut dyn FnMut(Post) -> ControlFlow<()>) -> Result<(), StoreError>;
    fn stats(&self, top: usize) -> Result<Stats, StoreError>;
    fn record_run(&mut self, run: &RunRecord) -> Result<(), StoreError>;
    fn get(&self, platform: &str, id: &str) -> Result<Option<Post>, StoreError>;
    fn platforms_with_id(&self, id: &str) -> Result<Vec<String>, StoreError>;
    fn location(&self) -> String;
});

delegate!(ClaimMatches {
    fn replace_matches(&self, posts: &[PostMatches]) -> Result<u64, StoreError>;
    fn matches_of_post(&self, platform: &str, post_id: &str) -> Result<Vec<StoredMatch>, StoreError>;
    fn matches_of_claim(&self, claim_id: &str) -> Result<Vec<StoredMatch>, StoreError>;
    fn matches_at_least(&self, min_confidence: f64) -> Result<Vec<StoredMatch>, StoreError>;
    fn matches_stamp(&self) -> Result<(i64, i64), StoreError>;
});

delegate!(Incidents {
    fn update_incidents(&mut self, save: &[IncidentRecord], delete: &[String]) -> Result<(), StoreError>;
    fn incidents(&self) -> Result<Vec<IncidentRecord>, StoreError>;
});

delegate!(Responses {
    fn log_response(&mut self, r: &ResponseRecord) -> Result<i64, StoreError>;
    fn responses(&self, narrative: Option<u64>) -> Result<Vec<ResponseRecord>, StoreError>;
});

delegate!(DisarmCatalogue {
    fn save_disarm(&mut self, tactics: &[DisarmTactic], techniques: &[DisarmTechnique], source: &str, at_ms: i64) -> Result<DisarmSaved, StoreError>;
    fn disarm(&self) -> Result<(Vec<DisarmTactic>, Vec<DisarmTechnique>), StoreError>;
});

delegate!(StixObjects {
    fn import_stix(&mut self, import: &StixImport<'_>, objects: &[StixObjectRecord], newer: &dyn Fn(Option<&str>, Option<&str>) -> bool) -> Result<Vec<StixOutcome>, StoreError>;
    fn stix_markings(&self) -> Result<Vec<(String, Option<String>)>, StoreError>;
    fn stix_objects(&self, stix_type: Option<&str>) -> Result<Vec<StoredStixObject>, StoreError>;
});

delegate!(PostLog {
    fn max_rowid(&self) -> Result<i64, StoreError>;
    fn newest_time_ms(&self, at_most: i64) -> Result<Option<i64>, StoreError>;
    fn write_stamp(&self) -> Result<(i64, i64), StoreError>;
    fn posts_after_rowid(&self, after: i64, limit: usize) -> Result<Vec<(i64, Post)>, StoreError>;
    fn posts_in_time_order(&self, upto: i64, after: (i64, i64), limit: usize) -> Result<Vec<(i64, Post)>, StoreError>;
    fn posts_by_rowid(&self, rowids: &[i64]) -> Result<Vec<(i64, Post)>, StoreError>;
    fn scan_shares(&self, visit: &mut dyn FnMut(Post) -> ControlFlow<()>) -> Result<(), StoreError>;
});

delegate!(Actors {
    fn actor_summary(&self, platform: &str, actor_id: &str) -> Result<ActorSummary, StoreError>;
});

delegate!(Tokens {
    fn insert_token_audited(&self, t: &TokenRecord, audit: &[AuditRecord]) -> Result<(), StoreError>;
    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;
    fn revoke_token_audited(&self, id: &str, at_ms: i64, audit: &[AuditRecord]) -> Result<bool, StoreError>;
    fn active_token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError>;
});

delegate!(Audit {
    fn append_audit(&self, entries: &[AuditRecord]) -> Result<(), StoreError>;
    fn audit(&self, limit: usize, before: Option<i64>) -> Result<Vec<AuditRecord>, StoreError>;
    fn verify_audit(&self) -> Result<AuditCheck, StoreError>;
});

delegate!(Markings {
    fn marking(&self, kind: &str, id: &str) -> Result<Option<MarkingRecord>, StoreError>;
    fn markings_of_kind(&self, kind: &str) -> Result<Vec<(String, MarkingRecord)>, StoreError>;
    fn set_marking_audited(&self, kind: &str, id: &str, m: &MarkingRecord, audit: &[AuditRecord]) -> Result<(), StoreError>;
});

delegate!(TextIndex {
    fn index_text(&mut self, chunk: i64) -> Result<(i64, i64, i64), StoreError>;
    fn indexed_rowid(&self) -> Result<i64, StoreError>;
});

delegate!(TaxiiStore {
    fn add_objects_audited(&mut self, collection: &str, objects: &[NewObject<'_>], audit: &[AuditRecord]) -> Result<u64, StoreError>;
    fn object_rows(&self, collection: &str, id: Option<&str>) -> Result<Vec<ObjectRow>, StoreError>;
    fn object_json(&self, seqs: &[i64]) -> Result<Vec<String>, StoreError>;
    fn put_status(&self, id: &str, json: &str) -> Result<(), StoreError>;
    fn status(&self, id: &str) -> Result<Option<String>, StoreError>;
    fn state(&self, key: &str) -> Result<Option<String>, StoreError>;
    fn set_state(&self, key: &str, value: &str) -> Result<(), StoreError>;
    fn incidents_fingerprint(&self) -> Result<String, StoreError>;
    fn pull_position(&self, remote: &str, collection: &str) -> Result<Option<String>, StoreError>;
    fn set_pull_position(&self, remote: &str, collection: &str, added_after: &str) -> Result<(), StoreError>;
});

delegate!(MediaHashes {
    fn save_media(&self, records: &[MediaRecord]) -> Result<u64, StoreError>;
    fn media_of_post(&self, platform: &str, post_id: &str) -> Result<Vec<MediaRecord>, StoreError>;
    fn media_records(&self) -> Result<Vec<MediaRecord>, StoreError>;
    fn attach_media_hashes(&self, posts: &mut [Post], min_quality: u8) -> Result<u64, StoreError>;
});

delegate!(PostSearcher {
    fn search_posts(&self, q: &PostSearch) -> Result<SearchPage, StoreError>;
});

impl AnyStore {
    /// Opens (creating when absent) the store at `location` (an SQLite
    /// path, a `postgres://` URL, or a [`Location`]).
    pub fn open(location: impl Into<Location>) -> Result<AnyStore, StoreError> {
        location.into().open()
    }

    /// Opens an existing store ([`Location::open_existing`]).
    pub fn open_existing(location: impl Into<Location>) -> Result<AnyStore, StoreError> {
        location.into().open_existing()
    }

    /// Where the store is.
    pub fn location_of(&self) -> Location {
        match self {
            AnyStore::Sqlite(s) => Location::Sqlite(s.path().to_path_buf()),
            AnyStore::Postgres(s) => Location::Postgres(s.url().to_string()),
        }
    }

    /// The SQLite store, when this is one.
    pub fn as_sqlite(&self) -> Option<&SqliteStore> {
        match self {
            AnyStore::Sqlite(s) => Some(s),
            AnyStore::Postgres(_) => None,
        }
    }

    /// Mutable access to the SQLite store, when this is one.
    pub fn as_sqlite_mut(&mut self) -> Option<&mut SqliteStore> {
        match self {
            AnyStore::Sqlite(s) => Some(s),
            AnyStore::Postgres(_) => None,
        }
    }

    /// The PostgreSQL store, when this is one.
    pub fn as_postgres(&self) -> Option<&PgStore> {
        match self {
            AnyStore::Postgres(s) => Some(s),
            AnyStore::Sqlite(_) => None,
        }
    }

    /// Where records rejected on their way into this store are written:
    /// `<store>.quarantine.jsonl` beside an SQLite file; for PostgreSQL,
    /// `DB.quarantine.jsonl` in the current directory.
    pub fn quarantine_path(&self) -> PathBuf {
        each!(self, s => s.quarantine_path())
    }

    /// Prepares for loading many posts (see [`SqliteStore::begin_bulk`]).
    pub fn begin_bulk(&mut self) -> Result<(), StoreError> {
        each!(self, s => s.begin_bulk())
    }

    /// Ends a bulk load (see [`SqliteStore::end_bulk`]).
    pub fn end_bulk(&mut self) -> Result<(), StoreError> {
        each!(self, s => s.end_bulk())
    }

    /// Settings for the one thread that writes while others read.
    pub fn tune_for_writer(&mut self) -> Result<(), StoreError> {
        each!(self, s => s.tune_for_writer())
    }

    /// Several batches in one transaction (see
    /// [`SqliteStore::insert_encoded_batches`]).
    pub fn insert_encoded_batches(
        &mut self,
        batches: &[&EncodedPosts],
    ) -> Result<Vec<Inserted>, StoreError> {
        each!(self, s => s.insert_encoded_batches(batches))
    }

    /// Several batches in one transaction, with each post's sequence number
    /// (0 for a post already stored), and the audit rows of the requests
    /// that sent them appended to the audit chain in that transaction.
    pub fn insert_encoded_batches_rowids(
        &mut self,
        batches: &[&EncodedPosts],
        audit: &[AuditRecord],
    ) -> Result<Vec<(Inserted, Vec<i64>)>, StoreError> {
        each!(self, s => s.insert_encoded_batches_rowids(batches, audit))
    }

    /// Stored records that reads of this handle skipped as unreadable.
    pub fn skipped_records(&self) -> u64 {
        each!(self, s => s.skipped_records())
    }

    /// Total records quarantined over all recorded runs.
    pub fn quarantined_total(&self) -> Result<u64, StoreError> {
        each!(self, s => s.quarantined_total())
    }
}

impl From<SqliteStore> for AnyStore {
    fn from(s: SqliteStore) -> AnyStore {
        AnyStore::Sqlite(s)
    }
}

impl From<PgStore> for AnyStore {
    fn from(s: PgStore) -> AnyStore {
        AnyStore::Postgres(Box::new(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_read_by_their_scheme() {
        assert_eq!(
            Location::parse("cases/x.db"),
            Location::Sqlite("cases/x.db".into())
        );
        assert!(Location::parse("postgres://root@127.0.0.1:5432/db").is_postgres());
        assert!(Location::parse("postgresql://h/db").is_postgres());
        // A file whose name merely starts like a scheme is a file.
        assert!(!Location::parse("postgres.db").is_postgres());
        assert!(!Location::parse("./postgres://x").is_postgres());
        // Schemes are case-insensitive; the client reads lower case.
        assert_eq!(
            Location::parse("POSTGRES://root@h:5432/Db"),
            Location::Postgres("postgres://root@h:5432/Db".into())
        );
        assert_eq!(
            Location::parse("PostgreSQL://h/db"),
            Location::Postgres("postgresql://h/db".into())
        );
    }

    #[test]
    fn files_beside_a_store() {
        let l = Location::parse("cases/x.db");
        assert_eq!(
            l.beside("quarantine.jsonl"),
            PathBuf::from("cases/x.quarantine.jsonl")
        );
        assert_eq!(
            l.beside("quarantine.jsonl"),
            crate::sqlite::quarantine_path_for(Path::new("cases/x.db"))
        );
        let pg = Location::parse("postgres://root@127.0.0.1:5432/team_a?sslmode=disable");
        assert_eq!(pg.beside("library"), PathBuf::from("team_a.library"));
        let bare = Location::parse("postgresql://h");
        assert_eq!(
            bare.beside("quarantine.jsonl"),
            PathBuf::from("postgres.quarantine.jsonl")
        );
    }

    #[test]
    fn passwords_stay_out_of_messages() {
        let l = Location::parse("postgres://ann:s3cret@db.example:5432/pharos");
        assert_eq!(l.to_string(), "postgres://ann:***@db.example:5432/pharos");
        assert_eq!(l.as_arg(), "postgres://ann:s3cret@db.example:5432/pharos");
        assert_eq!(
            redact("postgres://root@127.0.0.1/db"),
            "postgres://root@127.0.0.1/db"
        );
    }

    #[test]
    fn sqlite_stores_open_through_any_store() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.db");
        let missing = open_existing(p.to_str().unwrap()).err().unwrap();
        assert!(missing.to_string().contains("s.db"), "{missing}");
        let mut s = open(p.to_str().unwrap()).unwrap();
        assert_eq!(s.count().unwrap(), 0);
        assert_eq!(s.location_of(), Location::Sqlite(p.clone()));
        assert_eq!(s.quarantine_path(), dir.path().join("s.quarantine.jsonl"));
        let post = Post {
            platform: "twitter".into(),
            id: "1".into(),
            text: "hello".into(),
            ..Default::default()
        };
        let twice = [post.clone(), post];
        assert_eq!(
            s.insert(&twice).unwrap(),
            Inserted {
                stored: 1,
                duplicates: 1
            }
        );
        assert_eq!(s.count().unwrap(), 1);
        drop(s);
        assert!(open_existing(p.to_str().unwrap()).is_ok());
    }
}
