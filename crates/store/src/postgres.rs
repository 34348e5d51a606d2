//! The team store: one PostgreSQL database (15 or newer), shared by any
//! number of Pharos processes (servers, workers, the CLI).
//!
//! Same tables, columns and semantics as [`crate::sqlite`] (`postgres/schema.rs`
//! maps them), behind the same traits. What differs:
//! - **Connecting** ([`PgStore::connect`]) takes a `postgres://` (or
//!   `postgresql://`) URL, creates the database when it does not exist yet,
//!   and creates or migrates its tables under an advisory lock (two
//!   processes starting at once migrate once).
//! - **Writes of posts** copy each batch into a temporary table (binary
//!   `COPY`) and move it into `posts` with one `INSERT ... SELECT` that
//!   leaves out posts already stored (`ON CONFLICT DO NOTHING` as the last
//!   guard); in a bulk load into an empty store, batches are copied
//!   straight into `posts` ([`PgStore::begin_bulk`]). Links and hashtags of
//!   the stored posts are copied straight into their tables. Every insert
//!   transaction first takes one advisory lock (`WRITE_LOCK`), so posts'
//!   sequence numbers (`rowid`) become visible in the order they were given
//!   and readers that follow them ([`PostLog`](crate::PostLog), the
//!   full-text indexer) never skip a post that another writer committed
//!   late.
//! - **Identity**: a post's key is the SHA-256 of its platform and id
//!   (`post_key`), unique; no index holds a whole id, link or hashtag
//!   (PostgreSQL refuses B-tree entries over 2,704 bytes; ids may be 4 KiB).
//! - **NUL characters** cannot be stored in PostgreSQL text. A post's record
//!   is JSON, where NUL is written `\u0000`, so records keep it exactly. In
//!   the looked-up columns (platform, id, actor, language, link, hashtag) a
//!   NUL is stored as U+FFFD, and look-ups map their arguments the same way
//!   ([`column`]); the only effect is that two ids differing only there
//!   (`a\0` and `a\u{FFFD}`) are one post to a PostgreSQL store.
//! - **Reads** run outside any long transaction: a scan reads pages of
//!   posts by `(time_ms, rowid)` and visits them with the connection free,
//!   so a visitor may write to the same store; it visits the posts stored
//!   when it began.
//! - **Full text**: `postgres/fts.rs` makes the same tokens as SQLite's FTS5 index.
//! - **Quarantine**: Pharos's quarantine writer (a JSONL file) writes
//!   `DB.quarantine.jsonl` in the current directory
//!   ([`PgStore::quarantine_path`]); the `quarantine` table keeps lines in
//!   the database itself ([`PgStore::quarantine`]) for writers that hand
//!   them over, so that nothing a team's processes reject stays on one
//!   machine.
//! - **Text ordering** is byte order (`COLLATE "C"` on every text column),
//!   as SQLite's, so lists come back in the same order on both.
//!
//! One connection per `PgStore`, behind a mutex: the store is `Send` and
//! `Sync`, and calls from several threads take turns. Open one store per
//! thread for parallel work. A connection the server closed is replaced at
//! the next call. Connections are plain TCP (no TLS): run PostgreSQL on
//! the same host or a private network. A PostgreSQL store has no file:
//! there is no `path()`; [`PgStore::url`] opens another connection and
//! [`Store::location`] names it in messages (password hidden).

mod fts;
mod media;
mod repos;
pub(crate) mod schema;
mod server;
mod taxii;

use crate::sqlite::actor_key;
use crate::stats::{Count, Stats};
use crate::{AuditRecord, EncodedPosts, Inserted, PostFilter, RunRecord, Store, StoreError};
use ::postgres::binary_copy::BinaryCopyInWriter;
use ::postgres::error::SqlState;
use ::postgres::types::{ToSql, Type};
use ::postgres::{Client, Config, NoTls, Row};
use pharos_core::{EventTime, Post};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Advisory lock held by every transaction that inserts posts (and by the
/// full-text indexer's), so `rowid`s become visible in increasing order.
pub(crate) const WRITE_LOCK: i64 = 0x7068_6172_6f73_0001;
/// Session advisory lock held while creating and migrating tables.
const MIGRATE_LOCK: i64 = 0x7068_6172_6f73_0002;
/// Advisory lock of the audit log's appenders (the chain is read and
/// extended with no other appender in between).
pub(crate) const AUDIT_LOCK: i64 = 0x7068_6172_6f73_0003;

/// Posts a scan reads per query.
const SCAN_PAGE: i64 = 4096;

/// The connection and what this session has set up.
pub(crate) struct Conn {
    pub client: Client,
    /// The session's staging table exists.
    staged: bool,
    /// In a bulk load into a store that held no post when it began:
    /// batches are copied straight into `posts` ([`copy_direct`]).
    bulk_fresh: bool,
}

/// A store in a PostgreSQL database.
pub struct PgStore {
    conn: Mutex<Conn>,
    /// The URL without its password, for messages.
    location: String,
    /// The URL as given, to open another connection.
    url: String,
    config: Config,
    /// Stored records skipped by reads because they could not be decoded.
    skipped: AtomicU64,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("location", &self.location)
            .finish()
    }
}

pub(crate) fn pg_err(location: &str, e: ::postgres::Error) -> StoreError {
    StoreError::backend(location.to_string(), PgError(describe(&e)))
}

/// Whether `location` is a PostgreSQL URL (`postgres://`, `postgresql://`).
pub fn is_postgres_url(location: &str) -> bool {
    url_scheme(location).is_some()
}

/// The scheme of a PostgreSQL URL as written (`postgres` or `postgresql`,
/// in any case: URL schemes are case-insensitive), or `None`.
fn url_scheme(location: &str) -> Option<&str> {
    let (scheme, _) = location.split_once("://")?;
    (scheme.eq_ignore_ascii_case("postgres") || scheme.eq_ignore_ascii_case("postgresql"))
        .then_some(scheme)
}

/// A PostgreSQL URL with its scheme in lower case (what the client
/// library reads); anything else as it is.
pub fn normalise_url(location: &str) -> String {
    match url_scheme(location) {
        Some(scheme) => format!(
            "{}{}",
            scheme.to_ascii_lowercase(),
            &location[scheme.len()..]
        ),
        None => location.to_string(),
    }
}

/// `url` with its password (if any) replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match auth.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// A post's identity in a PostgreSQL store: SHA-256 of its platform, a NUL
/// byte and its id, as stored ([`column`]: no NUL in either). Indexed in
/// place of the text, whose length has no bound PostgreSQL's indexes
/// accept.
pub(crate) fn post_key(platform: &str, id: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(platform.as_bytes());
    h.update([0u8]);
    h.update(id.as_bytes());
    h.finalize().into()
}

/// A column value as PostgreSQL text can hold it: NUL becomes U+FFFD.
pub(crate) fn column(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(s)
    }
}

fn column_opt(s: Option<&str>) -> Option<Cow<'_, str>> {
    s.map(column)
}

impl PgStore {
    /// Connects to the database of `url` (`postgres://USER@HOST:PORT/DB`,
    /// also `postgresql://`), creating the database when it does not exist
    /// (through the `postgres` database of the same server), and brings its
    /// schema up to date.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, true)
    }

    /// Same as [`PgStore::connect`]: the name [`crate::SqliteStore::open`]
    /// has.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::connect(url)
    }

    /// Connects to an existing database; an error when the server has no
    /// database of that name (nothing is created).
    pub fn open_existing(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, false)
    }

    fn connect_with(url: &str, create: bool) -> Result<Self, StoreError> {
        let url = &normalise_url(url);
        let location = redact_url(url);
        if !is_postgres_url(url) {
            return Err(StoreError::Invalid(format!(
                "{location}: not a PostgreSQL URL (postgres://USER@HOST:PORT/DATABASE)"
            )));
        }
        let config: Config = url.parse().map_err(|e| StoreError::Io {
            path: location.clone(),
            reason: format!("not a PostgreSQL URL (postgres://USER@HOST:PORT/DATABASE): {e}"),
        })?;
        let Some(db) = config.get_dbname().map(str::to_string) else {
            return Err(StoreError::Invalid(format!(
                "{location}: the URL names no database (postgres://USER@HOST:PORT/DATABASE)"
            )));
        };
        let client = match config.connect(NoTls) {
            Ok(c) => c,
            Err(e) if e.code() == Some(&SqlState::INVALID_CATALOG_NAME) => {
                if !create {
                    return Err(StoreError::Io {
                        path: location,
                        reason: format!(
                            "no database {db:?} on this server; create a store with `pharos ingest --store URL`"
                        ),
                    });
                }
                create_database(&config, &db, &location)?;
                config.connect(NoTls).map_err(|e| pg_err(&location, e))?
            }
            Err(e) => {
                return Err(StoreError::Io {
                    path: location,
                    reason: format!("cannot connect to PostgreSQL: {}", describe(&e)),
                });
            }
        };
        let store = PgStore {
            conn: Mutex::new(Conn {
                client,
                staged: false,
                bulk_fresh: false,
            }),
            location,
            url: url.to_string(),
            config,
            skipped: AtomicU64::new(0),
        };
        store.migrate()?;
        Ok(store)
    }

    /// The connection (calls from several threads take turns).
    ///
    /// A connection the server closed (PostgreSQL restarted, an idle
    /// timeout, a network cut) is replaced by a new one here, so a
    /// long-running process (a server, a worker) recovers once the database
    /// is back: the call that found it closed failed with the server's
    /// error, the next one reconnects. A reconnection that fails leaves the
    /// closed connection, and the next call tries again.
    pub(crate) fn conn(&self) -> MutexGuard<'_, Conn> {
        // A panic while holding it left no transaction open (a dropped
        // transaction rolls back), so the connection is still usable.
        let mut c = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        if c.client.is_closed() {
            match self.config.connect(NoTls) {
                Ok(client) => {
                    tracing::warn!("store {}: connection lost; reconnected", self.location);
                    c.client = client;
                    // The staging table was the old session's.
                    c.staged = false;
                }
                Err(e) => tracing::warn!(
                    "store {}: connection lost; reconnecting failed: {}",
                    self.location,
                    describe(&e)
                ),
            }
        }
        c
    }

    pub(crate) fn err(&self, e: ::postgres::Error) -> StoreError {
        pg_err(&self.location, e)
    }

    /// The database's name.
    pub fn database(&self) -> &str {
        self.config.get_dbname().unwrap_or_default()
    }

    /// The URL as given (with its password, if any): for opening another
    /// connection to the same store. Messages use [`Store::location`],
    /// which hides the password.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Where Pharos's quarantine writer (`pharos_core::quarantine`) puts
    /// records rejected on their way into this store: a PostgreSQL store
    /// has no file to sit beside, so `DB.quarantine.jsonl` in the current
    /// directory, `DB` being the database's name. (The `quarantine` table,
    /// [`PgStore::quarantine`], keeps lines in the database for writers
    /// that hand them over.)
    pub fn quarantine_path(&self) -> std::path::PathBuf {
        std::path::PathBuf::from(format!("{}.quarantine.jsonl", self.database()))
    }

    /// Creates the tables this version of Pharos uses and applies the
    /// migrations the database lacks, each in its own transaction, under a
    /// session advisory lock; a component newer than this Pharos knows is
    /// refused ([`StoreError::TooNew`]).
    fn migrate(&self) -> Result<(), StoreError> {
        let mut c = self.conn();
        let client = &mut c.client;
        let e = |err| pg_err(&self.location, err);
        client
            .execute("SELECT pg_advisory_lock($1)", &[&MIGRATE_LOCK])
            .map_err(e)?;
        let done = (|| {
            client
                .batch_execute(
                    "SET client_min_messages = warning;
                     CREATE TABLE IF NOT EXISTS components (
                        name TEXT COLLATE \"C\" PRIMARY KEY,
                        version BIGINT NOT NULL
                     );",
                )
                .map_err(e)?;
            self.component(client, schema::POSTS_NAME, schema::POSTS)?;
            for comp in schema::COMPONENTS {
                self.component(client, comp.name, comp.migrations)?;
            }
            for (name, on) in schema::INDEXES {
                client
                    .batch_execute(&format!("CREATE INDEX IF NOT EXISTS {name} ON {on}"))
                    .map_err(e)?;
            }
            Ok(())
        })();
        let unlock = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATE_LOCK]);
        done?;
        unlock.map_err(e)?;
        Ok(())
    }

    fn component(
        &self,
        client: &mut Client,
        name: &str,
        migrations: &[&str],
    ) -> Result<(), StoreError> {
        let e = |err| pg_err(&self.location, err);
        let current: i64 = client
            .query_opt("SELECT version FROM components WHERE name = $1", &[&name])
            .map_err(e)?
            .map(|r| r.get(0))
            .unwrap_or(0);
        let supported = migrations.len() as i64;
        if current > supported {
            return Err(StoreError::TooNew {
                path: format!("{} (component {name})", self.location),
                found: current,
                supported,
            });
        }
        for (i, sql) in migrations.iter().enumerate().skip(current as usize) {
            let mut tx = client.transaction().map_err(e)?;
            tx.batch_execute(&schema::with_c_collation(sql))
                .map_err(e)?;
            tx.execute(
                "INSERT INTO components (name, version) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET version = excluded.version",
                &[&name, &((i + 1) as i64)],
            )
            .map_err(e)?;
            tx.commit().map_err(e)?;
        }
        Ok(())
    }

    /// Current version of the posts' schema (PostgreSQL's own numbering:
    /// see `postgres/schema.rs`).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .one_opt_i64(
                "SELECT version FROM components WHERE name = $1",
                &[&schema::POSTS_NAME],
            )?
            .unwrap_or(0))
    }

    /// The version of one component's tables (0 when absent).
    pub fn component_version(&self, name: &str) -> Result<i64, StoreError> {
        Ok(self
            .one_opt_i64("SELECT version FROM components WHERE name = $1", &[&name])?
            .unwrap_or(0))
    }

    /// Creates the secondary indexes that are missing.
    pub fn ensure_indexes(&mut self) -> Result<(), StoreError> {
        let mut c = self.conn();
        for (name, on) in schema::INDEXES {
            c.client
                .batch_execute(&format!("CREATE INDEX IF NOT EXISTS {name} ON {on}"))
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Prepares for loading many posts. Into a store that holds no post
    /// yet, the secondary indexes are dropped (as SQLite's bulk load does:
    /// building them once at the end sorts instead of updating B-trees row
    /// by row) and [`PgStore::end_bulk`] builds them again, or the next
    /// connection if the load is interrupted. A store that holds posts
    /// keeps them: other processes read the same database while one loads.
    /// The identity of posts (`key`), which makes loads idempotent, is
    /// never dropped. In such a load batches are copied straight into
    /// `posts` (no staging table), falling back to the staging table for a
    /// batch that holds a post already stored.
    pub fn begin_bulk(&mut self) -> Result<(), StoreError> {
        let empty = self
            .one_opt_i64("SELECT 1::BIGINT FROM posts LIMIT 1", &[])?
            .is_none();
        let mut c = self.conn();
        if empty {
            for (name, _) in schema::INDEXES {
                c.client
                    .batch_execute(&format!("DROP INDEX IF EXISTS {name}"))
                    .map_err(|e| self.err(e))?;
            }
        }
        c.bulk_fresh = empty;
        Ok(())
    }

    /// Ends a bulk load: builds the secondary indexes that are missing and
    /// updates the planner's statistics of the posts' tables (so that
    /// reads walk the indexes at once, not after autovacuum's next look).
    pub fn end_bulk(&mut self) -> Result<(), StoreError> {
        self.conn().bulk_fresh = false;
        // Index builds sort in memory up to this much.
        self.conn()
            .client
            .batch_execute("SET maintenance_work_mem = '256MB'")
            .map_err(|e| self.err(e))?;
        self.ensure_indexes()?;
        self.conn()
            .client
            .batch_execute(
                "RESET maintenance_work_mem;
                 ANALYZE posts (rowid, time_ms, actor_key, platform, lang, id, key),
                    post_links (post, url, domain, time_ms), post_hashtags (post, tag, time_ms)",
            )
            .map_err(|e| self.err(e))
    }

    /// Settings for a writer thread: none on PostgreSQL (the server's own
    /// settings apply).
    pub fn tune_for_writer(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Total records quarantined over all recorded runs.
    pub fn quarantined_total(&self) -> Result<u64, StoreError> {
        Ok(self
            .one_opt_i64(
                "SELECT COALESCE(SUM(quarantined), 0)::BIGINT FROM runs",
                &[],
            )?
            .unwrap_or(0) as u64)
    }

    /// Keeps rejected records (each the JSON line a file quarantine holds:
    /// see `pharos_core::quarantine`) in the database's `quarantine` table,
    /// in one transaction. A PostgreSQL store is shared by processes on
    /// several machines, so its quarantine is in the database too.
    pub fn quarantine(&self, lines: &[String], at_ms: i64) -> Result<(), StoreError> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut c = self.conn();
        let e = |err| pg_err(&self.location, err);
        let mut tx = c.client.transaction().map_err(e)?;
        let stmt = tx
            .prepare("INSERT INTO quarantine (at_ms, line) VALUES ($1, $2)")
            .map_err(e)?;
        for l in lines {
            tx.execute(&stmt, &[&at_ms, &column(l)]).map_err(e)?;
        }
        tx.commit().map_err(e)
    }

    /// The quarantined lines, oldest first, after sequence number `after`
    /// (at most `limit`): `(seq, at_ms, line)`.
    pub fn quarantined(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, i64, String)>, StoreError> {
        let rows = self.query(
            "SELECT seq, at_ms, line FROM quarantine WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&after, &(limit as i64)],
        )?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    /// Stored records that reads of this handle skipped because they could
    /// not be decoded (each was named in a warning).
    pub fn skipped_records(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// A stored post, or `None` (named in a warning and counted) when its
    /// record cannot be read.
    pub(crate) fn decode(&self, rowid: i64, rec: &str) -> Option<Post> {
        match serde_json::from_str(rec) {
            Ok(p) => Some(p),
            Err(e) => {
                self.skip(&format!("post at rowid {rowid}"), &e.to_string());
                None
            }
        }
    }

    /// Names and counts a stored record that a read skips.
    pub(crate) fn skip(&self, what: &str, reason: &str) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            "store {}: skipped unreadable {what}: {reason}",
            self.location
        );
    }

    pub(crate) fn query(
        &self,
        sql: &str,
        args: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let mut c = self.conn();
        c.client.query(sql, args).map_err(|e| self.err(e))
    }

    pub(crate) fn execute(
        &self,
        sql: &str,
        args: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let mut c = self.conn();
        c.client.execute(sql, args).map_err(|e| self.err(e))
    }

    /// Rows of a query that reads posts in an index's order (a scan's
    /// page): the planner is told to walk the index even when its
    /// statistics are missing or stale (a store just filled by other
    /// processes), instead of collecting and sorting every post per page.
    pub(crate) fn query_in_order(
        &self,
        sql: &str,
        args: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let mut c = self.conn();
        let e = |err| pg_err(&self.location, err);
        let mut tx = c.client.transaction().map_err(e)?;
        tx.batch_execute("SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off")
            .map_err(e)?;
        let rows = tx.query(sql, args).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(rows)
    }

    pub(crate) fn one_opt_i64(
        &self,
        sql: &str,
        args: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<i64>, StoreError> {
        let mut c = self.conn();
        let row = c.client.query_opt(sql, args).map_err(|e| self.err(e))?;
        Ok(row.and_then(|r| r.get::<_, Option<i64>>(0)))
    }

    /// `(rowid, post)` of rows whose first two columns are `(rowid, record)`,
    /// unreadable records skipped.
    pub(crate) fn decode_rows(&self, rows: &[Row]) -> Vec<(i64, Post)> {
        rows.iter()
            .filter_map(|r| {
                let rowid: i64 = r.get(0);
                self.decode(rowid, r.get(1)).map(|p| (rowid, p))
            })
            .collect()
    }

    /// Inserts several batches in one transaction and returns what each
    /// stored. All or nothing.
    pub fn insert_encoded_batches(
        &mut self,
        batches: &[&EncodedPosts],
    ) -> Result<Vec<Inserted>, StoreError> {
        Ok(self
            .insert_batches(batches, &[])?
            .into_iter()
            .map(|(i, _)| i)
            .collect())
    }

    /// [`PgStore::insert_encoded_batches`], also giving the sequence number
    /// (rowid) each post got, in the batches' order: 0 for a post already
    /// stored (or stored earlier in the same batch). `audit` rows (the
    /// requests that sent these batches) are appended to the audit chain
    /// in the same transaction: a batch is stored with its audit row, or
    /// neither is (issue 14, finding 10).
    pub fn insert_encoded_batches_rowids(
        &mut self,
        batches: &[&EncodedPosts],
        audit: &[AuditRecord],
    ) -> Result<Vec<(Inserted, Vec<i64>)>, StoreError> {
        self.insert_batches(batches, audit)
    }

    fn insert_batches(
        &self,
        batches: &[&EncodedPosts],
        audit: &[AuditRecord],
    ) -> Result<Vec<(Inserted, Vec<i64>)>, StoreError> {
        let mut c = self.conn();
        let e = |err| pg_err(&self.location, err);
        if !c.staged {
            c.client
                .batch_execute(
                    "CREATE TEMP TABLE IF NOT EXISTS pharos_stage (
                        ord INT NOT NULL,
                        key BYTEA NOT NULL,
                        platform TEXT COLLATE \"C\" NOT NULL,
                        id TEXT COLLATE \"C\" NOT NULL,
                        time_ms BIGINT NOT NULL,
                        actor_id TEXT COLLATE \"C\" NOT NULL,
                        actor_key BIGINT NOT NULL,
                        lang TEXT COLLATE \"C\",
                        reshare_of TEXT COLLATE \"C\",
                        reply_to TEXT COLLATE \"C\",
                        quote_of TEXT COLLATE \"C\",
                        record TEXT NOT NULL
                     ) ON COMMIT DELETE ROWS",
                )
                .map_err(e)?;
            c.staged = true;
        }
        let direct = c.bulk_fresh;
        let mut tx = c.client.transaction().map_err(e)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
            .map_err(e)?;
        // A batch's staged rows are sorted by their place in the batch:
        // in memory, not in temporary files (16k posts: about 20 MB).
        tx.batch_execute("SET LOCAL work_mem = '256MB'")
            .map_err(e)?;
        let mut out = Vec::with_capacity(batches.len());
        let mut staged_before = false;
        for posts in batches {
            if posts.is_empty() {
                out.push((Inserted::default(), Vec::new()));
                continue;
            }
            // Each post's key, and whether it is the first of its key in
            // the batch (a later copy is a duplicate).
            let mut seen = HashSet::with_capacity(posts.len());
            let keys: Vec<([u8; 32], bool)> = posts
                .iter()
                .map(|p| {
                    let key = post_key(&column(p.platform), &column(p.id));
                    (key, seen.insert(key))
                })
                .collect();
            drop(seen);
            let direct_rowids = match direct {
                true => copy_direct(&mut tx, posts, &keys).map_err(e)?,
                false => None,
            };
            let rowids = match direct_rowids {
                Some(r) => r,
                None => {
                    let r = stage_and_insert(&mut tx, posts, &keys, !staged_before).map_err(e)?;
                    staged_before = true;
                    r
                }
            };
            let mut done = Inserted::default();
            let (mut links, mut tags) = (0usize, 0usize);
            for (p, &r) in posts.iter().zip(&rowids) {
                if r == 0 {
                    done.duplicates += 1;
                } else {
                    done.stored += 1;
                    links += p.links().len();
                    tags += p.hashtags().len();
                }
            }
            if links > 0 {
                let sink = tx
                    .copy_in("COPY post_links (post, url, domain, time_ms) FROM STDIN BINARY")
                    .map_err(e)?;
                let mut w = BinaryCopyInWriter::new(
                    sink,
                    &[Type::INT8, Type::TEXT, Type::TEXT, Type::INT8],
                );
                for (p, &r) in posts.iter().zip(&rowids) {
                    if r == 0 {
                        continue;
                    }
                    for (url, domain) in p.links() {
                        w.write(&[&r, &column(url), &column(domain), &p.time_ms])
                            .map_err(e)?;
                    }
                }
                w.finish().map_err(e)?;
            }
            if tags > 0 {
                let sink = tx
                    .copy_in("COPY post_hashtags (post, tag, time_ms) FROM STDIN BINARY")
                    .map_err(e)?;
                let mut w = BinaryCopyInWriter::new(sink, &[Type::INT8, Type::TEXT, Type::INT8]);
                for (p, &r) in posts.iter().zip(&rowids) {
                    if r == 0 {
                        continue;
                    }
                    for tag in p.hashtags() {
                        w.write(&[&r, &column(tag), &p.time_ms]).map_err(e)?;
                    }
                }
                w.finish().map_err(e)?;
            }
            out.push((done, rowids));
        }
        // The audit lock last (held to the commit, briefly): the audit
        // thread appends between batches.
        server::append_audit_rows(&mut tx, audit).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(out)
    }

    fn top(&self, sql: &str, n: usize) -> Result<Vec<Count>, StoreError> {
        let rows = self.query(sql, &[&(n.min(i64::MAX as usize) as i64)])?;
        Ok(rows
            .iter()
            .map(|r| Count {
                key: r.get(0),
                count: r.get::<_, i64>(1) as u64,
            })
            .collect())
    }
}

/// The column types of a post's row as [`stage_and_insert`] and
/// [`copy_direct`] copy it, after their first column.
const POST_TYPES: [Type; 11] = [
    Type::BYTEA,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::TEXT,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
];

/// Writes post `p` (key `key`) after a first column `first` (its place in
/// the batch, or its rowid).
fn write_post(
    w: &mut BinaryCopyInWriter<'_>,
    first: &(dyn ToSql + Sync),
    key: &[u8; 32],
    p: &crate::EncodedPost<'_>,
) -> Result<(), ::postgres::Error> {
    w.write(&[
        first,
        &&key[..],
        &column(p.platform),
        &column(p.id),
        &p.time_ms,
        &column(p.actor_id),
        &actor_key(p.platform, p.actor_id),
        &column_opt(p.lang),
        &column_opt(p.reshare_of),
        &column_opt(p.reply_to),
        &column_opt(p.quote_of),
        &p.record,
    ])
}

/// Stores a batch through the staging table: copied there, then moved into
/// `posts` by one `INSERT ... SELECT` that leaves out posts already stored.
/// Returns each post's rowid (0: not stored, a duplicate).
///
/// The first of two posts with one identity is the one staged and stored;
/// rows go in in the batch's order (sorted in memory), so rowids follow
/// it. Posts already stored are left out before the insert (no conflict
/// then, under the write lock), so they take no sequence number: rowids
/// have no gaps, as on SQLite.
fn stage_and_insert(
    tx: &mut ::postgres::Transaction<'_>,
    posts: &EncodedPosts,
    keys: &[([u8; 32], bool)],
    first: bool,
) -> Result<Vec<i64>, ::postgres::Error> {
    if !first {
        // Rows of the transaction's earlier batch (the table empties
        // itself at commit: ON COMMIT DELETE ROWS).
        tx.batch_execute("DELETE FROM pharos_stage")?;
    }
    let sink = tx.copy_in(
        "COPY pharos_stage (ord, key, platform, id, time_ms, actor_id, actor_key, lang,
            reshare_of, reply_to, quote_of, record) FROM STDIN BINARY",
    )?;
    let mut types = vec![Type::INT4];
    types.extend(POST_TYPES);
    let mut w = BinaryCopyInWriter::new(sink, &types);
    for (i, (p, (key, first))) in posts.iter().zip(keys).enumerate() {
        if *first {
            write_post(&mut w, &(i as i32), key, &p)?;
        }
    }
    w.finish()?;
    let stored = tx.query(
        "INSERT INTO posts (key, platform, id, time_ms, actor_id, actor_key, lang,
            reshare_of, reply_to, quote_of, record)
         SELECT key, platform, id, time_ms, actor_id, actor_key, lang, reshare_of,
            reply_to, quote_of, record
         FROM pharos_stage s
         WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.key = s.key)
         ORDER BY ord
         ON CONFLICT DO NOTHING RETURNING rowid, key",
        &[],
    )?;
    let mut by_key: HashMap<[u8; 32], i64> = stored
        .iter()
        .filter_map(|r| {
            let k: &[u8] = r.get(1);
            Some((k.try_into().ok()?, r.get(0)))
        })
        .collect();
    Ok(keys
        .iter()
        .map(|(k, first)| {
            if *first {
                by_key.remove(k).unwrap_or(0)
            } else {
                0
            }
        })
        .collect())
}

/// The fast path of a bulk load into a store that was empty when it
/// began ([`PgStore::begin_bulk`]): the batch is copied straight into
/// `posts`, each post given the next rowid, under a savepoint. When a post
/// is stored already (a post in two files of one load, another writer),
/// the copy fails on the unique key, is rolled back to the savepoint, and
/// `None` says to go through the staging table instead.
fn copy_direct(
    tx: &mut ::postgres::Transaction<'_>,
    posts: &EncodedPosts,
    keys: &[([u8; 32], bool)],
) -> Result<Option<Vec<i64>>, ::postgres::Error> {
    let base: i64 = tx
        .query_one("SELECT COALESCE(MAX(rowid), 0)::BIGINT FROM posts", &[])?
        .get(0);
    tx.batch_execute("SAVEPOINT pharos_direct")?;
    let copied = (|| {
        let sink = tx.copy_in(
            "COPY posts (rowid, key, platform, id, time_ms, actor_id, actor_key, lang,
                reshare_of, reply_to, quote_of, record) FROM STDIN BINARY",
        )?;
        let mut types = vec![Type::INT8];
        types.extend(POST_TYPES);
        let mut w = BinaryCopyInWriter::new(sink, &types);
        let mut next = base;
        let mut rowids = Vec::with_capacity(keys.len());
        for (p, (key, first)) in posts.iter().zip(keys) {
            if *first {
                next += 1;
                write_post(&mut w, &next, key, &p)?;
                rowids.push(next);
            } else {
                rowids.push(0);
            }
        }
        w.finish()?;
        Ok::<_, ::postgres::Error>((rowids, next))
    })();
    match copied {
        Ok((rowids, last)) => {
            tx.batch_execute("RELEASE SAVEPOINT pharos_direct")?;
            // Rowids given here: the sequence goes on after them.
            tx.execute(
                "SELECT setval(pg_get_serial_sequence('posts', 'rowid'), $1)",
                &[&last.max(1)],
            )?;
            Ok(Some(rowids))
        }
        Err(err) if err.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT pharos_direct")?;
            Ok(None)
        }
        Err(err) => Err(err),
    }
}

fn create_database(config: &Config, db: &str, location: &str) -> Result<(), StoreError> {
    let mut admin = config.clone();
    admin.dbname("postgres");
    let mut client = admin.connect(NoTls).map_err(|e| StoreError::Io {
        path: location.to_string(),
        reason: format!(
            "database {db:?} does not exist, and creating it needs the server's `postgres` database: {}",
            describe(&e)
        ),
    })?;
    let sql = format!("CREATE DATABASE \"{}\"", db.replace('"', "\"\""));
    let mut tries = 0;
    loop {
        let Err(e) = client.batch_execute(&sql) else {
            return Ok(());
        };
        // Created meanwhile by another process (which of the two errors
        // depends on when the other committed).
        if e.code() == Some(&SqlState::DUPLICATE_DATABASE)
            || e.code() == Some(&SqlState::UNIQUE_VIOLATION)
            || config.connect(NoTls).is_ok()
        {
            return Ok(());
        }
        // The template database is being copied by another CREATE DATABASE.
        tries += 1;
        if e.code() == Some(&SqlState::OBJECT_IN_USE) && tries < 50 {
            std::thread::sleep(std::time::Duration::from_millis(100));
            continue;
        }
        return Err(StoreError::Io {
            path: location.to_string(),
            reason: format!("cannot create database {db:?}: {}", describe(&e)),
        });
    }
}

/// A PostgreSQL error with what the server said (its message, code,
/// detail and hint): the client's own `Display` says only "db error".
pub(crate) fn describe(e: &::postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => {
            let mut m = format!(
                "{}: {} (SQLSTATE {})",
                d.severity(),
                d.message(),
                d.code().code()
            );
            if let Some(detail) = d.detail() {
                m.push_str(&format!("; {detail}"));
            }
            if let Some(hint) = d.hint() {
                m.push_str(&format!("; hint: {hint}"));
            }
            m
        }
        None => match std::error::Error::source(e) {
            Some(src) => format!("{e}: {src}"),
            None => e.to_string(),
        },
    }
}

/// A PostgreSQL error as [`StoreError::Backend`] carries it.
#[derive(Debug)]
pub(crate) struct PgError(pub String);

impl std::fmt::Display for PgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PgError {}

impl Store for PgStore {
    fn insert_encoded(&mut self, posts: &EncodedPosts) -> Result<Inserted, StoreError> {
        Ok(self.insert_batches(&[posts], &[])?.remove(0).0)
    }

    fn count(&self) -> Result<u64, StoreError> {
        Ok(self
            .one_opt_i64("SELECT COUNT(*) FROM posts", &[])?
            .unwrap_or(0) as u64)
    }

    fn scan(
        &self,
        filter: &PostFilter,
        visit: &mut dyn FnMut(Post) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let since = filter.since.map(|t| t.millis()).unwrap_or(i64::MIN);
        let until = filter.until.map(|t| t.millis()).unwrap_or(i64::MAX);
        let platform = filter.platform.as_deref().map(column);
        let upto = crate::PostLog::max_rowid(self)?;
        let sql = format!(
            "SELECT rowid, record, time_ms FROM posts
             WHERE rowid <= $1 AND time_ms >= $2 AND time_ms < $3 AND (time_ms, rowid) > ($4, $5) {}
             ORDER BY time_ms, rowid LIMIT {SCAN_PAGE}",
            if platform.is_some() {
                "AND platform = $6"
            } else {
                ""
            }
        );
        let mut after = (i64::MIN, i64::MIN);
        loop {
            let mut args: Vec<&(dyn ToSql + Sync)> =
                vec![&upto, &since, &until, &after.0, &after.1];
            if let Some(p) = &platform {
                args.push(p);
            }
            let rows = self.query_in_order(&sql, &args)?;
            let n = rows.len() as i64;
            for r in &rows {
                let rowid: i64 = r.get(0);
                after = (r.get(2), rowid);
                if let Some(p) = self.decode(rowid, r.get(1))
                    && visit(p).is_break()
                {
                    return Ok(());
                }
            }
            if n < SCAN_PAGE {
                return Ok(());
            }
        }
    }

    fn stats(&self, top: usize) -> Result<Stats, StoreError> {
        let mut s = Stats {
            posts: self.count()?,
            ..Default::default()
        };
        s.actors = self
            .one_opt_i64("SELECT COUNT(DISTINCT actor_key) FROM posts", &[])?
            .unwrap_or(0) as u64;
        let rows = self.query("SELECT MIN(time_ms), MAX(time_ms) FROM posts", &[])?;
        let (first, last): (Option<i64>, Option<i64>) = (rows[0].get(0), rows[0].get(1));
        s.first = first.map(|t| EventTime(t).to_rfc3339());
        s.last = last.map(|t| EventTime(t).to_rfc3339());
        s.by_platform = self.top(
            "SELECT platform, COUNT(*) c FROM posts GROUP BY platform ORDER BY c DESC, platform LIMIT $1",
            usize::MAX >> 1,
        )?;
        s.by_language = self.top(
            "SELECT COALESCE(lang, 'und'), COUNT(*) c FROM posts GROUP BY 1 ORDER BY c DESC, 1 LIMIT $1",
            usize::MAX >> 1,
        )?;
        let days = self.query(
            "SELECT time_ms / 86400000 - (CASE WHEN time_ms < 0 AND time_ms % 86400000 != 0 THEN 1 ELSE 0 END) d,
                    COUNT(*) FROM posts GROUP BY 1 ORDER BY 1",
            &[],
        )?;
        for d in days {
            let day: i64 = d.get(0);
            s.by_day.push(Count {
                key: EventTime(day * 86_400_000).day(),
                count: d.get::<_, i64>(1) as u64,
            });
        }
        s.top_domains = self.top(
            "SELECT domain, COUNT(*) c FROM post_links WHERE domain != '' GROUP BY domain ORDER BY c DESC, domain LIMIT $1",
            top,
        )?;
        s.top_hashtags = self.top(
            "SELECT tag, COUNT(*) c FROM post_hashtags GROUP BY tag ORDER BY c DESC, tag LIMIT $1",
            top,
        )?;
        let actors = self.query(
            "SELECT p.platform, p.actor_id, t.c, p.record
             FROM (SELECT actor_key, COUNT(*) c, MAX(rowid) last FROM posts
                   GROUP BY actor_key ORDER BY c DESC LIMIT $1) t
             JOIN posts p ON p.rowid = t.last
             ORDER BY t.c DESC, p.platform, p.actor_id",
            &[&(top.min(i64::MAX as usize) as i64)],
        )?;
        #[derive(serde::Deserialize, Default)]
        struct Handle {
            #[serde(default)]
            handle: Option<String>,
        }
        #[derive(serde::Deserialize)]
        struct Rec {
            #[serde(default)]
            actor: Option<Handle>,
        }
        for r in actors {
            let (platform, actor, c, rec): (String, String, i64, &str) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            let handle = serde_json::from_str::<Rec>(rec)
                .ok()
                .and_then(|r| r.actor)
                .and_then(|a| a.handle);
            let key = match handle {
                Some(h) => format!("{platform}:{actor} (@{h})"),
                None => format!("{platform}:{actor}"),
            };
            s.top_actors.push(Count {
                key,
                count: c as u64,
            });
        }
        s.quarantined = self.quarantined_total()?;
        Ok(s)
    }

    fn record_run(&mut self, run: &RunRecord) -> Result<(), StoreError> {
        let sources = serde_json::to_string(&run.sources).unwrap_or_else(|_| "[]".into());
        self.execute(
            "INSERT INTO runs (command, sources, stored, duplicates, quarantined, started_ms, finished_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &column(&run.command),
                &column(&sources),
                &(run.stored as i64),
                &(run.duplicates as i64),
                &(run.quarantined as i64),
                &run.started_ms,
                &run.finished_ms,
            ],
        )
        .map(|_| ())
    }

    fn get(&self, platform: &str, id: &str) -> Result<Option<Post>, StoreError> {
        let (platform, id) = (column(platform), column(id));
        let key = post_key(&platform, &id);
        let rows = self.query(
            "SELECT rowid, record FROM posts WHERE key = $1 AND platform = $2 AND id = $3",
            &[&&key[..], &platform, &id],
        )?;
        Ok(self.decode_rows(&rows).pop().map(|(_, p)| p))
    }

    fn platforms_with_id(&self, id: &str) -> Result<Vec<String>, StoreError> {
        let rows = self.query(
            "SELECT platform FROM posts WHERE id = $1 ORDER BY platform",
            &[&column(id)],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn location(&self) -> String {
        self.location.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The server moves stores across threads and shares them.
    #[test]
    fn a_store_is_send_and_sync() {
        fn both<T: Send + Sync>() {}
        both::<PgStore>();
    }

    #[test]
    fn urls_and_keys() {
        assert!(is_postgres_url("postgres://u@h:5432/d"));
        assert!(is_postgres_url("postgresql://u@h/d"));
        assert!(!is_postgres_url("cases/x.db"));
        assert_eq!(
            redact_url("postgresql://u:p@h/d?sslmode=disable"),
            "postgresql://u:***@h/d?sslmode=disable"
        );
        assert_eq!(column("a\0b"), "a\u{FFFD}b");
        assert!(matches!(column("ab"), Cow::Borrowed("ab")));
        // Platform and id are separated: ("ab", "c") and ("a", "bc") differ.
        assert_ne!(post_key("ab", "c"), post_key("a", "bc"));
        assert_eq!(post_key("x", "1"), post_key("x", "1"));
    }

    #[test]
    fn connecting_to_something_else_is_refused_before_any_network() {
        let e = PgStore::connect("mysql://u@h/d").unwrap_err().to_string();
        assert!(e.contains("not a PostgreSQL URL"), "{e}");
        let e = PgStore::connect("postgres://u@h:5432")
            .unwrap_err()
            .to_string();
        assert!(e.contains("names no database"), "{e}");
    }
}
