//! One store test suite, run on every backend: each test is a generic
//! function over [`Backend`], and [`both!`] makes a `#[test]` of it for
//! SQLite (always) and for PostgreSQL (with the `real-data` feature:
//! a PostgreSQL server at `PHAROS_PG_URL`, default
//! `postgres://root@127.0.0.1:5432/postgres`; the tests fail, naming it,
//! when it cannot be reached). Each PostgreSQL test has a database of its
//! own, created for it and dropped after it, so tests running in parallel
//! and CI runs at the same time never meet.
#![allow(dead_code)]

use pharos_store::taxii::TaxiiStore;
use pharos_store::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// Every trait a store implements, plus what tests need of a backend.
pub trait Backend:
    Store
    + PostLog
    + PostSearcher
    + Actors
    + ClaimMatches
    + Incidents
    + Responses
    + DisarmCatalogue
    + StixObjects
    + Tokens
    + Audit
    + Markings
    + TextIndex
    + TaxiiStore
    + MediaHashes
    + Send
    + Sized
{
    const NAME: &'static str;
    /// A new, empty store.
    fn fresh() -> Fixture<Self>;
    fn open_at(location: &str) -> Result<Self, StoreError>;
    fn open_existing_at(location: &str) -> Result<Self, StoreError>;
    /// A store location where there is none.
    fn missing(fx: &Fixture<Self>) -> String;
    /// Batches in one transaction, with the audit rows of the requests
    /// that sent them.
    fn batches(
        &mut self,
        batches: &[&EncodedPosts],
        audit: &[AuditRecord],
    ) -> Result<Vec<(Inserted, Vec<i64>)>, StoreError>;
    fn begin_bulk(&mut self) -> Result<(), StoreError>;
    fn end_bulk(&mut self) -> Result<(), StoreError>;
    fn skipped(&self) -> u64;
    fn version(&self) -> i64;
}

/// A store and what keeps its place alive (a temporary directory, a
/// database dropped at the end); the store is dropped first.
pub struct Fixture<S> {
    pub store: S,
    pub location: String,
    pub guard: Guard,
}

pub enum Guard {
    Dir(tempfile::TempDir),
    Db(DropDb),
}

impl<S> std::ops::Deref for Fixture<S> {
    type Target = S;
    fn deref(&self) -> &S {
        &self.store
    }
}

impl<S> std::ops::DerefMut for Fixture<S> {
    fn deref_mut(&mut self) -> &mut S {
        &mut self.store
    }
}

impl Backend for SqliteStore {
    const NAME: &'static str = "sqlite";
    fn fresh() -> Fixture<Self> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/pharos.db");
        Fixture {
            store: SqliteStore::open(&path).unwrap(),
            location: path.display().to_string(),
            guard: Guard::Dir(dir),
        }
    }
    fn open_at(location: &str) -> Result<Self, StoreError> {
        SqliteStore::open(location)
    }
    fn open_existing_at(location: &str) -> Result<Self, StoreError> {
        SqliteStore::open_existing(location)
    }
    fn missing(fx: &Fixture<Self>) -> String {
        match &fx.guard {
            Guard::Dir(d) => d.path().join("nope.db").display().to_string(),
            Guard::Db(_) => unreachable!(),
        }
    }
    fn batches(
        &mut self,
        batches: &[&EncodedPosts],
        audit: &[AuditRecord],
    ) -> Result<Vec<(Inserted, Vec<i64>)>, StoreError> {
        self.insert_encoded_batches_rowids(batches, audit)
    }
    fn begin_bulk(&mut self) -> Result<(), StoreError> {
        SqliteStore::begin_bulk(self)
    }
    fn end_bulk(&mut self) -> Result<(), StoreError> {
        SqliteStore::end_bulk(self)
    }
    fn skipped(&self) -> u64 {
        self.skipped_records()
    }
    fn version(&self) -> i64 {
        self.schema_version().unwrap()
    }
}

impl Backend for PgStore {
    const NAME: &'static str = "postgres";
    fn fresh() -> Fixture<Self> {
        let (url, guard) = fresh_database();
        let store = PgStore::connect(&url).unwrap_or_else(|e| panic!("{}", pg_missing(&e)));
        Fixture {
            store,
            location: url,
            guard: Guard::Db(guard),
        }
    }
    fn open_at(location: &str) -> Result<Self, StoreError> {
        PgStore::connect(location)
    }
    fn open_existing_at(location: &str) -> Result<Self, StoreError> {
        PgStore::open_existing(location)
    }
    fn missing(_: &Fixture<Self>) -> String {
        url_with_db(&pg_url(), &format!("{}_missing", unique_name()))
    }
    fn batches(
        &mut self,
        batches: &[&EncodedPosts],
        audit: &[AuditRecord],
    ) -> Result<Vec<(Inserted, Vec<i64>)>, StoreError> {
        self.insert_encoded_batches_rowids(batches, audit)
    }
    fn begin_bulk(&mut self) -> Result<(), StoreError> {
        PgStore::begin_bulk(self)
    }
    fn end_bulk(&mut self) -> Result<(), StoreError> {
        PgStore::end_bulk(self)
    }
    fn skipped(&self) -> u64 {
        self.skipped_records()
    }
    fn version(&self) -> i64 {
        self.schema_version().unwrap()
    }
}

/// Runs `sql` on the store at `location` behind the store's back (tests of
/// tampering and of damaged records).
pub fn raw_sql<S: Backend>(location: &str, sql: &str) -> Result<u64, String> {
    if S::NAME == "sqlite" {
        let c = rusqlite::Connection::open(location).map_err(|e| e.to_string())?;
        c.execute(sql, [])
            .map(|n| n as u64)
            .map_err(|e| e.to_string())
    } else {
        let mut c =
            ::postgres::Client::connect(location, ::postgres::NoTls).map_err(|e| e.to_string())?;
        c.execute(sql, &[]).map_err(|e| e.to_string())
    }
}

/// A count from the store at `location`, behind the store's back.
pub fn raw_count<S: Backend>(location: &str, sql: &str) -> i64 {
    if S::NAME == "sqlite" {
        let c = rusqlite::Connection::open(location).unwrap();
        c.query_row(sql, [], |r| r.get(0)).unwrap()
    } else {
        let mut c = ::postgres::Client::connect(location, ::postgres::NoTls).unwrap();
        c.query_one(sql, &[]).unwrap().get(0)
    }
}

/// The PostgreSQL server the tests use.
pub fn pg_url() -> String {
    std::env::var("PHAROS_PG_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/postgres".to_string())
}

pub fn pg_missing(e: &dyn std::fmt::Display) -> String {
    format!(
        "the store's PostgreSQL tests (feature real-data) need a PostgreSQL server at PHAROS_PG_URL \
         (now {}; default postgres://root@127.0.0.1:5432/postgres): {e}",
        pg_url()
    )
}

/// `url` naming database `db` instead of its own.
pub fn url_with_db(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let host = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{host}/{db}")
}

pub fn unique_name() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "pharos_test_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Drops its database when dropped (closing any connection left).
pub struct DropDb {
    pub name: String,
}

impl Drop for DropDb {
    fn drop(&mut self) {
        if let Ok(mut c) = ::postgres::Client::connect(&pg_url(), ::postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// A URL of a database that does not exist yet (the store creates it),
/// dropped when the guard is.
pub fn fresh_database() -> (String, DropDb) {
    let name = unique_name();
    (url_with_db(&pg_url(), &name), DropDb { name })
}

/// A `#[test]` per backend for each generic test function named.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $( #[test] fn $name() { super::$name::<pharos_store::SqliteStore>() } )*
        }
        #[cfg(feature = "real-data")]
        mod on_postgres {
            $( #[test] fn $name() { super::$name::<pharos_store::PgStore>() } )*
        }
    };
}
