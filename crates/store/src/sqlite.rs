//! The embedded store: one SQLite file (bundled SQLite, WAL mode).
//!
//! Layout (see [`crate::schema`]): `posts` keeps each post's canonical JSON in
//! `record` plus the columns look-ups need (time, actor, language, reshare /
//! reply / quote targets); `post_links` and `post_hashtags` index links,
//! domains and hashtags (each row with its post's `time_ms`); `runs`
//! records every ingest. The schema version is SQLite's `user_version`;
//! opening a store applies the migrations it lacks, each in its own
//! transaction, and then those of every repository
//! ([`crate::schema::COMPONENTS`]); `repos` implements the repositories.

mod repos;
mod server;
pub(crate) use server::append_audit_rows;

use crate::schema::POSTS;
use crate::stats::{Count, Stats};
use crate::{AuditRecord, EncodedPosts, Inserted, PostFilter, RunRecord, Store, StoreError};
use pharos_core::{EventTime, Post};
use rusqlite::{Connection, OptionalExtension, params};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Secondary indexes for look-ups by time, actor, link, domain and hashtag.
///
/// A bulk load ([`SqliteStore::begin_bulk`]) drops them and builds them again
/// at the end (sorting once is several times faster than updating B-trees
/// row by row); opening a store re-creates any that are missing, so a bulk
/// load that was interrupted leaves a store that is complete again at the
/// next open. The `(platform, id)` uniqueness that makes ingest idempotent is
/// never dropped.
const INDEXES: &[(&str, &str)] = &[
    ("posts_time", "posts (time_ms)"),
    ("posts_actor", "posts (actor_key, time_ms)"),
    // Newest posts of a language or a platform without walking every post
    // (a rare or absent value walked the whole time index).
    ("posts_lang", "posts (lang, time_ms)"),
    ("posts_platform", "posts (platform, time_ms)"),
    ("post_links_url", "post_links (url)"),
    // A domain's or hashtag's posts newest first, in the order of post
    // search (time, then post), without reading the posts.
    (
        "post_links_domain_time",
        "post_links (domain, time_ms, post)",
    ),
    ("post_links_post", "post_links (post)"),
    (
        "post_hashtags_tag_time",
        "post_hashtags (tag, time_ms, post)",
    ),
    ("post_hashtags_post", "post_hashtags (post)"),
];

/// Settings for a bulk load. Memory stays flat in the size of the load:
/// - `mmap_size = 0`: pages a memory-mapped store reads count in the
///   process's resident memory (the 1M-post load peaked at 865 MB with
///   them); read through the page cache instead, whose size
///   `cache_size` caps (32 MiB, set at open).
/// - The index rebuild sorts in `cache_size`-sized runs spilled to temporary
///   files (`temp_store` is left at its default, files: in memory it grew
///   with the load) and merged by two threads (`threads`, set at open).
const BULK_PRAGMAS: &str = "PRAGMA mmap_size = 0;";

/// What [`BULK_PRAGMAS`] changed, back to how readers want it.
const READ_PRAGMAS: &str = "PRAGMA mmap_size = 1073741824;";

/// The SQLite store.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    /// Stored records skipped by reads because they could not be decoded.
    skipped: AtomicU64,
}

impl SqliteStore {
    /// Opens (creating when absent) the store at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Io {
                path: path.display().to_string(),
                reason: format!("cannot create directory {}: {e}", dir.display()),
            })?;
        }
        let conn = Connection::open(&path).map_err(|e| sql_err(&path, e))?;
        let mut store = SqliteStore {
            conn,
            path,
            skipped: AtomicU64::new(0),
        };
        store.configure()?;
        store.migrate()?;
        for c in crate::schema::COMPONENTS {
            store.component(c.name, c.migrations)?;
        }
        store.ensure_indexes()?;
        Ok(store)
    }

    /// Opens an existing store; an error when there is none at `path`.
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let p = path.as_ref();
        if !p.exists() {
            return Err(StoreError::Io {
                path: p.display().to_string(),
                reason: "no store here; create one with `pharos ingest` or `pharos demo`, or pass --store PATH".into(),
            });
        }
        Self::open(p)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where this store's quarantine file lives: `<store>.quarantine.jsonl` beside it.
    pub fn quarantine_path(&self) -> PathBuf {
        quarantine_path_for(&self.path)
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        sql_err(&self.path, e)
    }

    /// WAL with `synchronous = FULL`: a transaction is on disk when its
    /// commit returns, so a batch answered 200 (`POST /api/ingest`, whose
    /// writer answers after the commit) survives a power loss (issue 14,
    /// finding 10; NORMAL could lose the last commits). The cost is one
    /// fsync of the WAL a commit: docs/BENCHMARKS.md.
    fn configure(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute_batch(
                "PRAGMA page_size = 16384;
                 PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 PRAGMA cache_size = -32768;
                 PRAGMA threads = 2;
                 PRAGMA mmap_size = 1073741824;
                 PRAGMA wal_autocheckpoint = 4096;
                 PRAGMA busy_timeout = 10000;",
            )
            .map_err(|e| self.err(e))
    }

    /// Current schema version.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let current = self.schema_version()?;
        let supported = POSTS.len() as i64;
        if current > supported {
            return Err(StoreError::TooNew {
                path: self.path.display().to_string(),
                found: current,
                supported,
            });
        }
        for (i, sql) in POSTS.iter().enumerate().skip(current as usize) {
            let tx = self
                .conn
                .transaction()
                .map_err(|e| sql_err(&self.path, e))?;
            tx.execute_batch(sql).map_err(|e| sql_err(&self.path, e))?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(|e| sql_err(&self.path, e))?;
            tx.commit().map_err(|e| sql_err(&self.path, e))?;
        }
        Ok(())
    }

    /// Brings the tables of a component (a part of Pharos that keeps its own
    /// tables in the store: claim matches, incidents, responses, tokens, audit
    /// ...) up to date. `migrations[i]` takes the component from version `i`
    /// to `i + 1`; each runs in its own transaction, and a component whose
    /// stored version is newer than `migrations.len()` is refused (this pharos
    /// is too old for the store). Idempotent: call it on every open.
    pub(crate) fn component(&mut self, name: &str, migrations: &[&str]) -> Result<(), StoreError> {
        let current: i64 = self
            .conn
            .query_row(
                "SELECT version FROM components WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?
            .unwrap_or(0);
        let supported = migrations.len() as i64;
        if current > supported {
            return Err(StoreError::TooNew {
                path: format!("{} (component {name})", self.path.display()),
                found: current,
                supported,
            });
        }
        for (i, sql) in migrations.iter().enumerate().skip(current as usize) {
            let tx = self
                .conn
                .transaction()
                .map_err(|e| sql_err(&self.path, e))?;
            tx.execute_batch(sql).map_err(|e| sql_err(&self.path, e))?;
            tx.execute(
                "INSERT INTO components(name, version) VALUES (?1, ?2)
                 ON CONFLICT(name) DO UPDATE SET version = excluded.version",
                params![name, (i + 1) as i64],
            )
            .map_err(|e| sql_err(&self.path, e))?;
            tx.commit().map_err(|e| sql_err(&self.path, e))?;
        }
        Ok(())
    }

    /// The SQLite connection, for the repositories' implementations in this crate.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Mutable access to the connection (transactions).
    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Settings for the one thread that writes while readers read (the
    /// server's writer): it touches index pages all over the store, so a
    /// larger page cache than readers' keeps them between batches (256 MiB
    /// at most), and it checkpoints less often (a page written by many
    /// batches is copied into the store once per checkpoint).
    pub fn tune_for_writer(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("PRAGMA cache_size = -262144; PRAGMA wal_autocheckpoint = 16384;")
            .map_err(|e| self.err(e))
    }

    /// Creates the secondary indexes that are missing.
    pub fn ensure_indexes(&mut self) -> Result<(), StoreError> {
        for (name, on) in INDEXES {
            self.conn
                .execute_batch(&format!("CREATE INDEX IF NOT EXISTS {name} ON {on}"))
                .map_err(|e| sql_err(&self.path, e))?;
        }
        Ok(())
    }

    /// Prepares for loading many posts: drops the secondary indexes (they are
    /// rebuilt by [`SqliteStore::end_bulk`], or at the next open if the load
    /// is interrupted). Worth it when the load is large compared with what
    /// the store holds.
    pub fn begin_bulk(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute_batch(BULK_PRAGMAS)
            .map_err(|e| self.err(e))?;
        for (name, _) in INDEXES {
            self.conn
                .execute_batch(&format!("DROP INDEX IF EXISTS {name}"))
                .map_err(|e| sql_err(&self.path, e))?;
        }
        Ok(())
    }

    /// Ends a bulk load: rebuilds the secondary indexes.
    pub fn end_bulk(&mut self) -> Result<(), StoreError> {
        self.ensure_indexes()?;
        self.conn
            .execute_batch(READ_PRAGMAS)
            .map_err(|e| self.err(e))
    }

    /// Total records quarantined over all recorded runs.
    pub fn quarantined_total(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT COALESCE(SUM(quarantined), 0) FROM runs", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|v| v as u64)
            .map_err(|e| self.err(e))
    }

    /// A stored post, or `None` (named in a warning and counted in
    /// [`SqliteStore::skipped_records`]) when its record cannot be read:
    /// one bad record never makes a read fail.
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
            self.path.display()
        );
    }

    /// Stored records that reads of this handle skipped because they could
    /// not be decoded (each was named in a warning).
    pub fn skipped_records(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    fn top(&self, sql: &str, n: usize) -> Result<Vec<Count>, StoreError> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([n as i64], |r| {
                Ok(Count {
                    key: r.get(0)?,
                    count: r.get::<_, i64>(1)? as u64,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }
}

/// The integer key of an account, `(platform, actor id)`, that the actor
/// index sorts on: FNV-1a 64 of `platform`, a 0 byte and `actor_id`, as i64.
///
/// Sorting and comparing an integer is several times cheaper than the two
/// text columns (whose first, the platform, is nearly always equal), which
/// made the actor index the slowest part of a bulk load. Look-ups by actor
/// compute the key and then check `platform` and `actor_id`, so a collision
/// (about one in 2^64 per pair of accounts) costs a filtered row, never a
/// wrong answer; [`Stats::actors`](crate::Stats) counts keys. The function
/// is part of the store format and never changes.
pub fn actor_key(platform: &str, actor_id: &str) -> i64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let mut h = OFFSET;
    for b in platform
        .bytes()
        .chain(std::iter::once(0))
        .chain(actor_id.bytes())
    {
        h ^= b as u64;
        h = h.wrapping_mul(PRIME);
    }
    h as i64
}

/// `<dir>/<stem>.quarantine.jsonl` for a store at `<dir>/<stem>.<ext>`.
pub fn quarantine_path_for(store: &Path) -> PathBuf {
    let stem = store
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pharos".into());
    store.with_file_name(format!("{stem}.quarantine.jsonl"))
}

fn sql_err(path: &Path, e: rusqlite::Error) -> StoreError {
    StoreError::backend(path.display().to_string(), e)
}

impl SqliteStore {
    /// Inserts several batches in one transaction and returns what each
    /// stored: a writer serving many requests commits (and writes the
    /// index pages they share) once for all of them. All or nothing.
    pub fn insert_encoded_batches(
        &mut self,
        batches: &[&EncodedPosts],
    ) -> Result<Vec<Inserted>, StoreError> {
        self.insert_batches(batches, None, &[])
    }

    /// [`SqliteStore::insert_encoded_batches`], also giving the sequence
    /// number (rowid) each post got, in the batches' order: 0 for a post
    /// already stored. The server's writer hands these to its live analysis.
    ///
    /// `audit` rows (the requests that sent these batches) are appended to
    /// the audit chain in the same transaction: a batch is stored with its
    /// audit row, or neither is (issue 14, finding 10).
    pub fn insert_encoded_batches_rowids(
        &mut self,
        batches: &[&EncodedPosts],
        audit: &[AuditRecord],
    ) -> Result<Vec<(Inserted, Vec<i64>)>, StoreError> {
        let mut rowids: Vec<Vec<i64>> = batches
            .iter()
            .map(|b| Vec::with_capacity(b.len()))
            .collect();
        let done = self.insert_batches(batches, Some(&mut rowids), audit)?;
        Ok(done.into_iter().zip(rowids).collect())
    }

    fn insert_batches(
        &mut self,
        batches: &[&EncodedPosts],
        mut rowids: Option<&mut Vec<Vec<i64>>>,
        audit: &[AuditRecord],
    ) -> Result<Vec<Inserted>, StoreError> {
        let path = self.path.clone();
        let e = |err| sql_err(&path, err);
        // IMMEDIATE: the write lock from the start, so that the audit rows'
        // chain (read, then appended) has no other writer in between.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(e)?;
        let mut all = Vec::with_capacity(batches.len());
        for (b, posts) in batches.iter().enumerate() {
            let mut done = Inserted::default();
            let mut ins_post = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO posts
                     (platform, id, time_ms, actor_id, lang, reshare_of, reply_to, quote_of, record, actor_key)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(e)?;
            let mut ins_link = tx
                .prepare_cached(
                    "INSERT INTO post_links (post, url, domain, time_ms) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(e)?;
            let mut ins_tag = tx
                .prepare_cached(
                    "INSERT INTO post_hashtags (post, tag, time_ms) VALUES (?1, ?2, ?3)",
                )
                .map_err(e)?;
            // Bind each parameter and step: the statement keeps its bindings'
            // buffers between rows, so nothing is allocated per post here.
            for p in posts.iter() {
                ins_post.raw_bind_parameter(1, p.platform).map_err(e)?;
                ins_post.raw_bind_parameter(2, p.id).map_err(e)?;
                ins_post.raw_bind_parameter(3, p.time_ms).map_err(e)?;
                ins_post.raw_bind_parameter(4, p.actor_id).map_err(e)?;
                ins_post.raw_bind_parameter(5, p.lang).map_err(e)?;
                ins_post.raw_bind_parameter(6, p.reshare_of).map_err(e)?;
                ins_post.raw_bind_parameter(7, p.reply_to).map_err(e)?;
                ins_post.raw_bind_parameter(8, p.quote_of).map_err(e)?;
                ins_post.raw_bind_parameter(9, p.record).map_err(e)?;
                ins_post
                    .raw_bind_parameter(10, actor_key(p.platform, p.actor_id))
                    .map_err(e)?;
                if ins_post.raw_execute().map_err(e)? == 0 {
                    done.duplicates += 1;
                    if let Some(r) = rowids.as_deref_mut() {
                        r[b].push(0);
                    }
                    continue;
                }
                done.stored += 1;
                let rowid = tx.last_insert_rowid();
                if let Some(r) = rowids.as_deref_mut() {
                    r[b].push(rowid);
                }
                for (url, domain) in p.links() {
                    ins_link.raw_bind_parameter(1, rowid).map_err(e)?;
                    ins_link.raw_bind_parameter(2, url).map_err(e)?;
                    ins_link.raw_bind_parameter(3, domain).map_err(e)?;
                    ins_link.raw_bind_parameter(4, p.time_ms).map_err(e)?;
                    ins_link.raw_execute().map_err(e)?;
                }
                for tag in p.hashtags() {
                    ins_tag.raw_bind_parameter(1, rowid).map_err(e)?;
                    ins_tag.raw_bind_parameter(2, tag).map_err(e)?;
                    ins_tag.raw_bind_parameter(3, p.time_ms).map_err(e)?;
                    ins_tag.raw_execute().map_err(e)?;
                }
            }
            all.push(done);
        }
        server::append_audit_rows(&tx, audit).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(all)
    }
}

impl Store for SqliteStore {
    fn insert_encoded(&mut self, posts: &EncodedPosts) -> Result<Inserted, StoreError> {
        Ok(self.insert_encoded_batches(&[posts])?.remove(0))
    }

    fn count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM posts", [], |r| r.get::<_, i64>(0))
            .map(|v| v as u64)
            .map_err(|e| self.err(e))
    }

    fn scan(
        &self,
        filter: &PostFilter,
        visit: &mut dyn FnMut(Post) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let since = filter.since.map(|t| t.millis()).unwrap_or(i64::MIN);
        let until = filter.until.map(|t| t.millis()).unwrap_or(i64::MAX);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT rowid, record FROM posts
                 WHERE time_ms >= ?1 AND time_ms < ?2 AND (?3 IS NULL OR platform = ?3)
                 ORDER BY time_ms, rowid",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query(params![since, until, filter.platform])
            .map_err(|e| self.err(e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let rowid: i64 = row.get(0).map_err(|e| self.err(e))?;
            let rec = row.get_ref(1).map_err(|e| self.err(e))?;
            let rec = rec.as_str().map_err(|e| self.err(e.into()))?;
            let Some(post) = self.decode(rowid, rec) else {
                continue;
            };
            if visit(post).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn stats(&self, top: usize) -> Result<Stats, StoreError> {
        let mut s = Stats {
            posts: self.count()?,
            ..Default::default()
        };
        s.actors = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM (SELECT 1 FROM posts GROUP BY actor_key)",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(|e| self.err(e))? as u64;
        let (first, last): (Option<i64>, Option<i64>) = self
            .conn
            .query_row("SELECT MIN(time_ms), MAX(time_ms) FROM posts", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(|e| self.err(e))?;
        s.first = first.map(|t| EventTime(t).to_rfc3339());
        s.last = last.map(|t| EventTime(t).to_rfc3339());
        s.by_platform = self.top(
            "SELECT platform, COUNT(*) c FROM posts GROUP BY platform ORDER BY c DESC, platform LIMIT ?1",
            usize::MAX >> 1,
        )?;
        s.by_language = self.top(
            "SELECT COALESCE(lang, 'und'), COUNT(*) c FROM posts GROUP BY 1 ORDER BY c DESC, 1 LIMIT ?1",
            usize::MAX >> 1,
        )?;
        // Days: group on the integer day number (uses the time index), then name them.
        let mut stmt = self
            .conn
            .prepare("SELECT time_ms / 86400000 - (time_ms < 0 AND time_ms % 86400000 != 0), COUNT(*) FROM posts GROUP BY 1 ORDER BY 1")
            .map_err(|e| self.err(e))?;
        let days = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
            .map_err(|e| self.err(e))?;
        for d in days {
            let (day, c) = d.map_err(|e| self.err(e))?;
            s.by_day.push(Count {
                key: EventTime(day * 86_400_000).day(),
                count: c as u64,
            });
        }
        s.top_domains = self.top(
            "SELECT domain, COUNT(*) c FROM post_links WHERE domain != '' GROUP BY domain ORDER BY c DESC, domain LIMIT ?1",
            top,
        )?;
        s.top_hashtags = self.top(
            "SELECT tag, COUNT(*) c FROM post_hashtags GROUP BY tag ORDER BY c DESC, tag LIMIT ?1",
            top,
        )?;
        s.top_actors = self.top(
            "SELECT t.platform || ':' || t.actor_id
                    || COALESCE(' (@' || CASE WHEN json_valid(p2.record)
                       THEN json_extract(p2.record, '$.actor.handle') END || ')', ''),
                    t.c
             FROM (SELECT p1.platform, p1.actor_id, t0.c, t0.last
                   FROM (SELECT actor_key, COUNT(*) c, MAX(rowid) last FROM posts
                         GROUP BY actor_key ORDER BY c DESC LIMIT ?1) t0
                   JOIN posts p1 ON p1.rowid = t0.last) t
             JOIN posts p2 ON p2.rowid = t.last
             ORDER BY t.c DESC, t.platform, t.actor_id",
            top,
        )?;
        s.quarantined = self.quarantined_total()?;
        Ok(s)
    }

    fn get(&self, platform: &str, id: &str) -> Result<Option<Post>, StoreError> {
        let row: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT rowid, record FROM posts WHERE platform = ?1 AND id = ?2",
                params![platform, id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(row.and_then(|(rowid, rec)| self.decode(rowid, &rec)))
    }

    fn platforms_with_id(&self, id: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT platform FROM posts WHERE id = ?1 ORDER BY platform")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([id], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn record_run(&mut self, run: &RunRecord) -> Result<(), StoreError> {
        let sources = serde_json::to_string(&run.sources).unwrap_or_else(|_| "[]".into());
        self.conn
            .execute(
                "INSERT INTO runs (command, sources, stored, duplicates, quarantined, started_ms, finished_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    run.command,
                    sources,
                    run.stored as i64,
                    run.duplicates as i64,
                    run.quarantined as i64,
                    run.started_ms,
                    run.finished_ms
                ],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod component_tests {
    use super::*;

    #[test]
    fn component_tables_are_created_once_and_newer_versions_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut s = SqliteStore::open(&path).unwrap();
        let v1: &[&str] = &["CREATE TABLE widgets (id TEXT PRIMARY KEY);"];
        s.component("widgets", v1).unwrap();
        s.conn
            .execute("INSERT INTO widgets(id) VALUES ('a')", [])
            .unwrap();
        // Re-running is a no-op: the row survives.
        s.component("widgets", v1).unwrap();
        let v2: &[&str] = &[v1[0], "ALTER TABLE widgets ADD COLUMN n INTEGER;"];
        s.component("widgets", v2).unwrap();
        let n: i64 = s
            .conn
            .query_row("SELECT count(*) FROM widgets", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        drop(s);
        // An older pharos (knowing only v1) refuses the store's v2 component.
        let mut s = SqliteStore::open(&path).unwrap();
        let err = s.component("widgets", v1).unwrap_err().to_string();
        assert!(err.contains("component widgets"), "{err}");
    }
}
