//! [`PostLog`], [`Actors`], [`PostSearcher`] and the server's tables
//! ([`Tokens`], [`Audit`], [`Markings`], [`TextIndex`]) on SQLite.

use super::{SqliteStore, actor_key};
use crate::StoreError;
use crate::repo::*;
use crate::search::*;
use pharos_core::Post;
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params};
use std::ops::ControlFlow;

impl SqliteStore {
    /// `(rowid, post)` of rows `(rowid, record)`, unreadable records skipped.
    fn decode_rows(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<(i64, Post)>, StoreError> {
        let e = |err| self.err(err);
        let mut stmt = self.conn.prepare_cached(sql).map_err(e)?;
        let mut rows = stmt.query(args).map_err(e)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(e)? {
            let rowid: i64 = row.get(0).map_err(e)?;
            let rec = row.get_ref(1).map_err(e)?;
            let rec = rec.as_str().map_err(|err| self.err(err.into()))?;
            if let Some(p) = self.decode(rowid, rec) {
                out.push((rowid, p));
            }
        }
        Ok(out)
    }

    fn one_i64(&self, sql: &str) -> Result<i64, StoreError> {
        self.conn
            .query_row(sql, [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }
}

impl PostLog for SqliteStore {
    fn max_rowid(&self) -> Result<i64, StoreError> {
        self.one_i64("SELECT COALESCE(MAX(rowid), 0) FROM posts")
    }

    fn newest_time_ms(&self, at_most: i64) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row(
                "SELECT MAX(time_ms) FROM posts WHERE time_ms <= ?1",
                [at_most],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    fn write_stamp(&self) -> Result<(i64, i64), StoreError> {
        self.conn
            .query_row(
                "SELECT (SELECT COALESCE(MAX(rowid), 0) FROM posts), (SELECT COALESCE(MAX(run), 0) FROM runs)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))
    }

    fn posts_after_rowid(&self, after: i64, limit: usize) -> Result<Vec<(i64, Post)>, StoreError> {
        self.decode_rows(
            "SELECT rowid, record FROM posts WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
            params![after, limit as i64],
        )
    }

    fn posts_in_time_order(
        &self,
        upto: i64,
        after: (i64, i64),
        limit: usize,
    ) -> Result<Vec<(i64, Post)>, StoreError> {
        self.decode_rows(
            "SELECT rowid, record FROM posts WHERE rowid <= ?1 AND (time_ms > ?2 OR (time_ms = ?2 AND rowid > ?3))
             ORDER BY time_ms, rowid LIMIT ?4",
            params![upto, after.0, after.1, limit as i64],
        )
    }

    fn posts_by_rowid(&self, rowids: &[i64]) -> Result<Vec<(i64, Post)>, StoreError> {
        let mut out = Vec::with_capacity(rowids.len());
        for &r in rowids {
            out.extend(self.decode_rows("SELECT rowid, record FROM posts WHERE rowid = ?1", [r])?);
        }
        Ok(out)
    }

    fn scan_shares(
        &self,
        visit: &mut dyn FnMut(Post) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let e = |err| self.err(err);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT rowid, record FROM posts WHERE reshare_of IS NOT NULL OR rowid IN (SELECT post FROM post_links)
                 ORDER BY time_ms, rowid",
            )
            .map_err(e)?;
        let mut rows = stmt.query([]).map_err(e)?;
        while let Some(row) = rows.next().map_err(e)? {
            let rowid: i64 = row.get(0).map_err(e)?;
            let rec = row.get_ref(1).map_err(e)?;
            let rec = rec.as_str().map_err(|err| self.err(err.into()))?;
            if let Some(p) = self.decode(rowid, rec)
                && visit(p).is_break()
            {
                break;
            }
        }
        Ok(())
    }
}

impl Actors for SqliteStore {
    fn actor_summary(&self, platform: &str, actor_id: &str) -> Result<ActorSummary, StoreError> {
        let e = |err| self.err(err);
        let key = actor_key(platform, actor_id);
        let (n, first_ms, last_ms): (i64, Option<i64>, Option<i64>) = self
            .conn
            .query_row(
                "SELECT COUNT(*), MIN(time_ms), MAX(time_ms) FROM posts WHERE actor_key = ?1 AND actor_id = ?2",
                params![key, actor_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(e)?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT COALESCE(lang, 'und'), COUNT(*) FROM posts WHERE actor_key = ?1 AND actor_id = ?2 GROUP BY 1 ORDER BY 2 DESC",
            )
            .map_err(e)?;
        let languages = stmt
            .query_map(params![key, actor_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .map_err(e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(e)?;
        Ok(ActorSummary {
            posts: n as u64,
            first_ms,
            last_ms,
            languages,
        })
    }
}

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRecord> {
    Ok(TokenRecord {
        id: r.get(0)?,
        hash: r.get(1)?,
        role: r.get(2)?,
        org: r.get(3)?,
        name: r.get(4)?,
        created_ms: r.get(5)?,
        revoked_ms: r.get(6)?,
    })
}

impl SqliteStore {
    /// Runs `change` and appends `audit` in one IMMEDIATE transaction
    /// (the audit chain's row before is read with no other writer in
    /// between); `change` answering `false` rolls back and writes nothing.
    fn audited<T>(
        &self,
        audit: &[AuditRecord],
        change: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<(T, bool)>,
    ) -> Result<T, StoreError> {
        let e = |err| self.err(err);
        let tx = rusqlite::Transaction::new_unchecked(
            &self.conn,
            rusqlite::TransactionBehavior::Immediate,
        )
        .map_err(e)?;
        let (out, keep) = change(&tx).map_err(e)?;
        if !keep {
            return Ok(out);
        }
        append_audit_rows(&tx, audit).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(out)
    }
}

impl Tokens for SqliteStore {
    fn insert_token_audited(
        &self,
        t: &TokenRecord,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        self.audited(audit, |c| {
            c.execute(
                "INSERT INTO server_tokens (id, hash, role, org, name, created_ms, revoked_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![t.id, t.hash, t.role, t.org, t.name, t.created_ms, t.revoked_ms],
            )
            .map(|_| ((), true))
        })
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let e = |err| self.err(err);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, hash, role, org, name, created_ms, revoked_ms FROM server_tokens ORDER BY created_ms DESC, id",
            )
            .map_err(e)?;
        stmt.query_map([], token_row)
            .map_err(e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(e)
    }

    fn revoke_token_audited(
        &self,
        id: &str,
        at_ms: i64,
        audit: &[AuditRecord],
    ) -> Result<bool, StoreError> {
        self.audited(audit, |c| {
            c.execute(
                "UPDATE server_tokens SET revoked_ms = COALESCE(revoked_ms, ?2) WHERE id = ?1",
                params![id, at_ms],
            )
            .map(|n| (n > 0, n > 0))
        })
    }

    fn active_token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let e = |err| self.err(err);
        self.conn
            .prepare_cached(
                "SELECT id, hash, role, org, name, created_ms, revoked_ms FROM server_tokens WHERE hash = ?1 AND revoked_ms IS NULL",
            )
            .map_err(e)?
            .query_row([hash], token_row)
            .optional()
            .map_err(e)
    }
}

fn audit_row(r: &rusqlite::Row) -> rusqlite::Result<AuditRecord> {
    Ok(AuditRecord {
        seq: r.get(0)?,
        at_ms: r.get(1)?,
        token: r.get(2)?,
        name: r.get(3)?,
        role: r.get(4)?,
        org: r.get(5)?,
        action: r.get(6)?,
        method: r.get(7)?,
        path: r.get(8)?,
        object: r.get(9)?,
        status: r.get::<_, i64>(10)? as u16,
        detail: r.get(11)?,
        hash: r.get(12)?,
    })
}

const AUDIT_COLUMNS: &str =
    "seq, at_ms, token, name, role, org, action, method, path, object, status, detail, hash";

/// Appends `entries` to the audit chain inside the caller's transaction on
/// `conn`, which must already hold the write lock (an IMMEDIATE transaction,
/// or one that has written): the row before is read and the new rows
/// written with no other writer in between. [`Audit::append_audit`] and an
/// ingest batch written with its request's audit row
/// ([`SqliteStore::insert_encoded_batches_rowids`]) both append here.
pub(crate) fn append_audit_rows(
    conn: &rusqlite::Connection,
    entries: &[AuditRecord],
) -> rusqlite::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let (mut seq, mut prev): (i64, String) = conn
        .prepare_cached("SELECT seq, hash FROM server_audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| {
            Ok((
                r.get(0)?,
                r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            ))
        })
        .optional()?
        .unwrap_or((0, String::new()));
    let mut ins = conn.prepare_cached(
        "INSERT INTO server_audit (seq, at_ms, token, name, role, org, action, method, path, object, status, detail, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    for a in entries {
        seq += 1;
        let row = AuditRecord {
            seq,
            hash: None,
            ..a.clone()
        };
        let hash = crate::audit_row_hash(&prev, &row);
        ins.execute(params![
            seq, a.at_ms, a.token, a.name, a.role, a.org, a.action, a.method, a.path, a.object,
            a.status, a.detail, hash
        ])?;
        prev = hash;
    }
    Ok(())
}

impl Audit for SqliteStore {
    fn append_audit(&self, entries: &[AuditRecord]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let e = |err| self.err(err);
        // IMMEDIATE: the row before is read and the new rows written with
        // no other writer in between (the server's audit thread, its
        // writer and the CLI's token commands all append).
        let tx = rusqlite::Transaction::new_unchecked(
            &self.conn,
            rusqlite::TransactionBehavior::Immediate,
        )
        .map_err(e)?;
        append_audit_rows(&tx, entries).map_err(e)?;
        tx.commit().map_err(e)
    }

    fn audit(&self, limit: usize, before: Option<i64>) -> Result<Vec<AuditRecord>, StoreError> {
        let e = |err| self.err(err);
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {AUDIT_COLUMNS} FROM server_audit WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2"
            ))
            .map_err(e)?;
        stmt.query_map(params![before.unwrap_or(i64::MAX), limit as i64], audit_row)
            .map_err(e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(e)
    }

    fn verify_audit(&self) -> Result<AuditCheck, StoreError> {
        let e = |err| self.err(err);
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {AUDIT_COLUMNS} FROM server_audit ORDER BY seq"
            ))
            .map_err(e)?;
        let mut rows = stmt.query([]).map_err(e)?;
        let mut check = AuditCheck::default();
        while let Some(r) = rows.next().map_err(e)? {
            if !check.push(audit_row(r).map_err(e)?) {
                break;
            }
        }
        Ok(check)
    }
}

impl Markings for SqliteStore {
    fn marking(&self, kind: &str, id: &str) -> Result<Option<MarkingRecord>, StoreError> {
        let e = |err| self.err(err);
        let row: Option<(String, String, String)> = self
            .conn
            .prepare_cached(
                "SELECT tlp, orgs, people FROM server_markings WHERE kind = ?1 AND id = ?2",
            )
            .map_err(e)?
            .query_row(params![kind, id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()
            .map_err(e)?;
        Ok(row.map(|(t, o, p)| MarkingRecord::from_columns(t, &o, &p)))
    }

    fn markings_of_kind(&self, kind: &str) -> Result<Vec<(String, MarkingRecord)>, StoreError> {
        let e = |err| self.err(err);
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, tlp, orgs, people FROM server_markings WHERE kind = ?1")
            .map_err(e)?;
        stmt.query_map([kind], |r| {
            Ok((
                r.get::<_, String>(0)?,
                MarkingRecord::from_columns(
                    r.get(1)?,
                    &r.get::<_, String>(2)?,
                    &r.get::<_, String>(3)?,
                ),
            ))
        })
        .map_err(e)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(e)
    }

    fn set_marking_audited(
        &self,
        kind: &str,
        id: &str,
        m: &MarkingRecord,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        self.audited(audit, |c| {
            c.execute(
                "INSERT INTO server_markings (kind, id, tlp, orgs, people) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(kind, id) DO UPDATE SET tlp = excluded.tlp, orgs = excluded.orgs, people = excluded.people",
                params![
                    kind,
                    id,
                    m.tlp,
                    serde_json::to_string(&m.orgs).unwrap_or_default(),
                    serde_json::to_string(&m.people).unwrap_or_default()
                ],
            )
            .map(|_| ((), true))
        })
    }
}

impl TextIndex for SqliteStore {
    fn index_text(&mut self, chunk: i64) -> Result<(i64, i64, i64), StoreError> {
        let path = self.path.clone();
        let e = |err| super::sql_err(&path, err);
        let tx = self.conn.transaction().map_err(e)?;
        let last: i64 = tx
            .query_row(
                "SELECT value FROM server_meta WHERE key = 'fts_rowid'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(e)?
            .unwrap_or(0);
        let max: i64 = tx
            .query_row("SELECT COALESCE(MAX(rowid), 0) FROM posts", [], |r| {
                r.get(0)
            })
            .map_err(e)?;
        if max <= last {
            return Ok((0, last, max));
        }
        let upto = max.min(last + chunk);
        let n = tx
            .execute(
                "INSERT INTO server_fts (rowid, text)
                 SELECT rowid, CASE WHEN json_valid(record) THEN COALESCE(json_extract(record, '$.text'), '') ELSE '' END
                 FROM posts WHERE rowid > ?1 AND rowid <= ?2",
                params![last, upto],
            )
            .map_err(e)?;
        tx.execute(
            "INSERT INTO server_meta (key, value) VALUES ('fts_rowid', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [upto],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        Ok((n as i64, upto, max))
    }

    fn indexed_rowid(&self) -> Result<i64, StoreError> {
        self.one_i64("SELECT COALESCE((SELECT value FROM server_meta WHERE key = 'fts_rowid'), 0)")
    }
}

/// Rows of a domain or hashtag from which, in a full-text search (newest
/// stored first), checking each matching post is cheaper than listing the
/// tag's or domain's posts.
const COMMON_ROWS: i64 = 2_000;

/// A search as SQL: rows `(rowid, time_ms)` in page order (a post may come
/// twice in a row, from two links to one domain).
pub(crate) struct Plan {
    pub sql: String,
    pub args: Vec<Value>,
}

impl SqliteStore {
    /// Whether `probe` (an index look-up, `?1` the value) has at least [`COMMON_ROWS`] rows.
    fn is_common(&self, probe: &str, value: &str) -> Result<bool, StoreError> {
        let e = |err| self.err(err);
        let n: i64 = self
            .conn
            .prepare_cached(&format!("SELECT COUNT(*) FROM ({probe} LIMIT ?2)"))
            .map_err(e)?
            .query_row(params![value, COMMON_ROWS], |r| r.get(0))
            .map_err(e)?;
        Ok(n >= COMMON_ROWS)
    }

    /// The query of a search.
    ///
    /// Pages are newest first, `(time, rowid)` descending; with words,
    /// newest stored first. Without words, a hashtag (else a domain) drives
    /// the query: its `(tag, time_ms, post)` index (`(domain, time_ms,
    /// post)`) lists its posts in page order, so a page reads about as many
    /// index entries as it shows posts (plus those the other filters drop),
    /// whatever the tag's size.
    pub(crate) fn plan(&self, f: &PostSearch) -> Result<Plan, StoreError> {
        let text = f.words.as_deref().and_then(text_query);
        let limit = f.limit.max(1);
        let driver = match (&text, &f.hashtag, &f.domain) {
            (Some(_), _, _) => None,
            (None, Some(h), _) => Some(("post_hashtags", "tag", h.clone())),
            (None, None, Some(d)) => Some(("post_links", "domain", d.clone())),
            (None, None, None) => None,
        };
        let (tcol, rcol) = if driver.is_some() {
            ("d.time_ms", "d.post")
        } else {
            ("p.time_ms", "p.rowid")
        };
        // Records are read after the page is chosen: a sort then moves two
        // integers a post.
        let mut sql = String::from("SELECT p.rowid, p.time_ms FROM ");
        let mut args: Vec<Value> = Vec::new();
        if let Some(t) = &text {
            sql.push_str("server_fts f JOIN posts p ON p.rowid = f.rowid WHERE server_fts MATCH ?");
            args.push(Value::Text(t.clone()));
        } else if let Some((table, column, value)) = &driver {
            // CROSS JOIN: the tag's rows first, then each post by rowid.
            sql.push_str(&format!(
                "{table} d CROSS JOIN posts p ON p.rowid = d.post WHERE d.{column} = ?"
            ));
            args.push(Value::Text(value.clone()));
        } else {
            sql.push_str("posts p WHERE 1");
        }
        if let Some(s) = f.since_ms {
            sql.push_str(&format!(" AND {tcol} >= ?"));
            args.push(Value::Integer(s));
        }
        if let Some(u) = f.until_ms {
            sql.push_str(&format!(" AND {tcol} < ?"));
            args.push(Value::Integer(u));
        }
        let lang = f.lang.as_deref();
        if let Some(p) = f.platform.as_deref() {
            // The (platform, time) index gives a platform's newest posts;
            // with a language, the (lang, time) index does, and with words,
            // a hashtag or a domain their own index (`+`: this index not used).
            sql.push_str(if lang.is_some() || text.is_some() || driver.is_some() {
                " AND +p.platform = ?"
            } else {
                " AND p.platform = ?"
            });
            args.push(Value::Text(p.to_string()));
        }
        match lang {
            Some("und") => sql.push_str(" AND p.lang IS NULL"),
            Some(l) => {
                sql.push_str(if text.is_some() || driver.is_some() {
                    " AND +p.lang = ?"
                } else {
                    " AND p.lang = ?"
                });
                args.push(Value::Text(l.to_string()));
            }
            None => {}
        }
        if let Some((platform, id)) = &f.actor {
            sql.push_str(if driver.is_some() {
                " AND +p.actor_key = ? AND p.actor_id = ?"
            } else {
                " AND p.actor_key = ? AND p.actor_id = ?"
            });
            args.push(Value::Integer(actor_key(platform, id)));
            args.push(Value::Text(id.clone()));
        }
        if let Some(url) = &f.link {
            sql.push_str(" AND p.rowid IN (SELECT post FROM post_links WHERE url = ?)");
            args.push(Value::Text(url.clone()));
        }
        let member_filter = |common: bool, list: &str, exists: &str| {
            if common {
                format!(" AND {exists}")
            } else {
                format!(" AND p.rowid IN ({list})")
            }
        };
        if let Some(d) = f
            .domain
            .clone()
            .filter(|_| !matches!(driver, Some((_, "domain", _))))
        {
            if text.is_some() {
                let common = self.is_common("SELECT 1 FROM post_links WHERE domain = ?1", &d)?;
                sql.push_str(&member_filter(
                    common,
                    "SELECT post FROM post_links WHERE domain = ?",
                    "EXISTS (SELECT 1 FROM post_links l WHERE l.post = p.rowid AND l.domain = ?)",
                ));
            } else {
                // The hashtag drives: check the domain of each of its posts.
                sql.push_str(
                    " AND EXISTS (SELECT 1 FROM post_links l WHERE l.post = p.rowid AND l.domain = ?)",
                );
            }
            args.push(Value::Text(d));
        }
        if let Some(h) = f.hashtag.clone().filter(|_| text.is_some()) {
            let common = self.is_common("SELECT 1 FROM post_hashtags WHERE tag = ?1", &h)?;
            sql.push_str(&member_filter(
                common,
                "SELECT post FROM post_hashtags WHERE tag = ?",
                "EXISTS (SELECT 1 FROM post_hashtags h WHERE h.post = p.rowid AND h.tag = ?)",
            ));
            args.push(Value::Text(h));
        }
        match (f.cursor, text.is_some()) {
            (Some(SearchCursor::Stored(r)), true) => {
                sql.push_str(" AND f.rowid < ?");
                args.push(Value::Integer(r));
            }
            (Some(SearchCursor::Time(t, r)), false) => {
                if driver.is_some() {
                    // A row value: the index range starts at the cursor.
                    sql.push_str(&format!(" AND ({tcol}, {rcol}) < (?, ?)"));
                    args.extend([Value::Integer(t), Value::Integer(r)]);
                } else {
                    sql.push_str(" AND (p.time_ms < ? OR (p.time_ms = ? AND p.rowid < ?))");
                    args.extend([Value::Integer(t), Value::Integer(t), Value::Integer(r)]);
                }
            }
            (Some(_), _) => {
                return Err(StoreError::Invalid(
                    "this cursor belongs to a search of another kind (with or without words)"
                        .into(),
                ));
            }
            (None, _) => {}
        }
        if text.is_some() {
            sql.push_str(" ORDER BY f.rowid DESC LIMIT ?");
            args.push(Value::Integer(limit as i64 + 1));
        } else if driver.is_some() {
            // No LIMIT: a post with two links to one domain has two rows
            // (next to each other in this order, skipped below); rows are
            // read only as far as the page needs.
            sql.push_str(&format!(" ORDER BY {tcol} DESC, {rcol} DESC"));
        } else {
            sql.push_str(" ORDER BY p.time_ms DESC, p.rowid DESC LIMIT ?");
            args.push(Value::Integer(limit as i64 + 1));
        }
        Ok(Plan { sql, args })
    }

    /// The steps SQLite's planner takes for a search (`EXPLAIN QUERY
    /// PLAN`), for tests that check which index a search walks.
    pub fn search_plan(&self, f: &PostSearch) -> Result<Vec<String>, StoreError> {
        let e = |err| self.err(err);
        let Plan { sql, args } = self.plan(f)?;
        let mut stmt = self
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .map_err(e)?;
        stmt.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
            .map_err(e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(e)
    }
}

impl PostSearcher for SqliteStore {
    fn search_posts(&self, f: &PostSearch) -> Result<SearchPage, StoreError> {
        let e = |err| self.err(err);
        let text = f.words.as_deref().and_then(text_query).is_some();
        let limit = f.limit.max(1);
        let Plan { sql, args } = self.plan(f)?;
        let mut stmt = self.conn.prepare_cached(&sql).map_err(e)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args)).map_err(e)?;
        let mut record = self
            .conn
            .prepare_cached("SELECT record FROM posts WHERE rowid = ?1")
            .map_err(e)?;
        let mut posts = Vec::new();
        let mut cursors = Vec::new();
        let cursor = |t: i64, r: i64| {
            if text {
                SearchCursor::Stored(r)
            } else {
                SearchCursor::Time(t, r)
            }
        };
        let mut last: Option<(i64, i64)> = None;
        let mut more = false;
        let mut seen = 0usize;
        while let Some(row) = rows.next().map_err(e)? {
            let rowid: i64 = row.get(0).map_err(e)?;
            let t: i64 = row.get(1).map_err(e)?;
            if last.is_some_and(|(_, r)| r == rowid) {
                continue;
            }
            seen += 1;
            if posts.len() == limit {
                more = true;
                break;
            }
            let rec: String = record.query_row([rowid], |r| r.get(0)).map_err(e)?;
            // An unreadable record is skipped (and named), the page goes on;
            // the cursor still moves past it.
            last = Some((t, rowid));
            if let Some(p) = self.decode(rowid, &rec) {
                posts.push(p);
                cursors.push(cursor(t, rowid));
            }
        }
        // A query with a LIMIT that returned all its rows has more, even when
        // a skipped record left this page short.
        more |= seen > limit;
        let next = match (more, last) {
            (true, Some((t, r))) => Some(cursor(t, r)),
            _ => None,
        };
        Ok(SearchPage {
            posts,
            cursors,
            next,
            indexed: self.indexed_rowid()?,
            stored: self.max_rowid()?,
        })
    }
}
