//! [`PostLog`], [`Actors`], [`PostSearcher`] and the server's tables
//! ([`Tokens`], [`Audit`], [`Markings`], [`TextIndex`]) on PostgreSQL.

use super::schema::{LONG_PREFIX, SHORT_PREFIX};
use super::{AUDIT_LOCK, PgStore, SCAN_PAGE, column, fts};
use crate::StoreError;
use crate::repo::*;
use crate::search::*;
use crate::sqlite::actor_key;
use ::postgres::Row;
use ::postgres::types::ToSql;
use pharos_core::Post;
use std::collections::HashMap;
use std::ops::ControlFlow;

/// Advisory lock of the full-text indexers (two servers on one database
/// index in turns).
const FTS_LOCK: i64 = 0x7068_6172_6f73_0004;

impl PostLog for PgStore {
    fn max_rowid(&self) -> Result<i64, StoreError> {
        Ok(self
            .one_opt_i64("SELECT MAX(rowid) FROM posts", &[])?
            .unwrap_or(0))
    }

    fn newest_time_ms(&self, at_most: i64) -> Result<Option<i64>, StoreError> {
        self.one_opt_i64(
            "SELECT MAX(time_ms) FROM posts WHERE time_ms <= $1",
            &[&at_most],
        )
    }

    fn write_stamp(&self) -> Result<(i64, i64), StoreError> {
        let rows = self.query(
            "SELECT (SELECT COALESCE(MAX(rowid), 0) FROM posts), (SELECT COALESCE(MAX(run), 0) FROM runs)",
            &[],
        )?;
        Ok((rows[0].get(0), rows[0].get(1)))
    }

    fn posts_after_rowid(&self, after: i64, limit: usize) -> Result<Vec<(i64, Post)>, StoreError> {
        let rows = self.query(
            "SELECT rowid, record FROM posts WHERE rowid > $1 ORDER BY rowid LIMIT $2",
            &[&after, &limit_arg(limit)],
        )?;
        Ok(self.decode_rows(&rows))
    }

    fn posts_in_time_order(
        &self,
        upto: i64,
        after: (i64, i64),
        limit: usize,
    ) -> Result<Vec<(i64, Post)>, StoreError> {
        let rows = self.query_in_order(
            "SELECT rowid, record FROM posts WHERE rowid <= $1 AND (time_ms, rowid) > ($2, $3)
             ORDER BY time_ms, rowid LIMIT $4",
            &[&upto, &after.0, &after.1, &limit_arg(limit)],
        )?;
        Ok(self.decode_rows(&rows))
    }

    fn posts_by_rowid(&self, rowids: &[i64]) -> Result<Vec<(i64, Post)>, StoreError> {
        let rows = self.query(
            "SELECT rowid, record FROM posts WHERE rowid = ANY($1)",
            &[&rowids],
        )?;
        let found: HashMap<i64, Post> = self.decode_rows(&rows).into_iter().collect();
        Ok(rowids
            .iter()
            .filter_map(|r| found.get(r).map(|p| (*r, p.clone())))
            .collect())
    }

    fn scan_shares(
        &self,
        visit: &mut dyn FnMut(Post) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let upto = self.max_rowid()?;
        let sql = format!(
            "SELECT rowid, record, time_ms FROM posts p
             WHERE rowid <= $1 AND (time_ms, rowid) > ($2, $3)
               AND (reshare_of IS NOT NULL OR EXISTS (SELECT 1 FROM post_links l WHERE l.post = p.rowid))
             ORDER BY time_ms, rowid LIMIT {SCAN_PAGE}"
        );
        let mut after = (i64::MIN, i64::MIN);
        loop {
            let rows = self.query_in_order(&sql, &[&upto, &after.0, &after.1])?;
            for r in &rows {
                let rowid: i64 = r.get(0);
                after = (r.get(2), rowid);
                if let Some(p) = self.decode(rowid, r.get(1))
                    && visit(p).is_break()
                {
                    return Ok(());
                }
            }
            if (rows.len() as i64) < SCAN_PAGE {
                return Ok(());
            }
        }
    }
}

fn limit_arg(limit: usize) -> i64 {
    limit.min(i64::MAX as usize) as i64
}

impl Actors for PgStore {
    fn actor_summary(&self, platform: &str, actor_id: &str) -> Result<ActorSummary, StoreError> {
        let key = actor_key(platform, actor_id);
        let actor = column(actor_id);
        let rows = self.query(
            "SELECT COUNT(*), MIN(time_ms), MAX(time_ms) FROM posts WHERE actor_key = $1 AND actor_id = $2",
            &[&key, &actor],
        )?;
        let (n, first_ms, last_ms): (i64, Option<i64>, Option<i64>) =
            (rows[0].get(0), rows[0].get(1), rows[0].get(2));
        let languages = self
            .query(
                "SELECT COALESCE(lang, 'und'), COUNT(*) FROM posts WHERE actor_key = $1 AND actor_id = $2
                 GROUP BY 1 ORDER BY 2 DESC",
                &[&key, &actor],
            )?
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as u64))
            .collect();
        Ok(ActorSummary {
            posts: n as u64,
            first_ms,
            last_ms,
            languages,
        })
    }
}

fn token_row(r: &Row) -> TokenRecord {
    TokenRecord {
        id: r.get(0),
        hash: r.get(1),
        role: r.get(2),
        org: r.get(3),
        name: r.get(4),
        created_ms: r.get(5),
        revoked_ms: r.get(6),
    }
}

impl PgStore {
    /// Runs statement `sql` and appends `audit` in one transaction (the
    /// audit lock held to the commit); when `keep` says no for the rows
    /// it changed, rolls back and writes nothing. Returns the rows changed.
    fn audited(
        &self,
        sql: &str,
        args: &[&(dyn ::postgres::types::ToSql + Sync)],
        audit: &[AuditRecord],
        keep: impl FnOnce(u64) -> bool,
    ) -> Result<u64, StoreError> {
        let mut c = self.conn();
        let e = |err| self.err(err);
        let mut tx = c.client.transaction().map_err(e)?;
        let n = tx.execute(sql, args).map_err(e)?;
        if !keep(n) {
            return Ok(n);
        }
        append_audit_rows(&mut tx, audit).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(n)
    }
}

impl Tokens for PgStore {
    fn insert_token_audited(
        &self,
        t: &TokenRecord,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        self.audited(
            "INSERT INTO server_tokens (id, hash, role, org, name, created_ms, revoked_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &column(&t.id),
                &column(&t.hash),
                &column(&t.role),
                &t.org.as_deref().map(column),
                &column(&t.name),
                &t.created_ms,
                &t.revoked_ms,
            ],
            audit,
            |_| true,
        )
        .map(|_| ())
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        Ok(self
            .query(
                "SELECT id, hash, role, org, name, created_ms, revoked_ms FROM server_tokens ORDER BY created_ms DESC, id",
                &[],
            )?
            .iter()
            .map(token_row)
            .collect())
    }

    fn revoke_token_audited(
        &self,
        id: &str,
        at_ms: i64,
        audit: &[AuditRecord],
    ) -> Result<bool, StoreError> {
        self.audited(
            "UPDATE server_tokens SET revoked_ms = COALESCE(revoked_ms, $2) WHERE id = $1",
            &[&column(id), &at_ms],
            audit,
            |n| n > 0,
        )
        .map(|n| n > 0)
    }

    fn active_token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self
            .query(
                "SELECT id, hash, role, org, name, created_ms, revoked_ms FROM server_tokens WHERE hash = $1 AND revoked_ms IS NULL",
                &[&column(hash)],
            )?
            .first()
            .map(token_row))
    }
}

fn audit_row(r: &Row) -> AuditRecord {
    AuditRecord {
        seq: r.get(0),
        at_ms: r.get(1),
        token: r.get(2),
        name: r.get(3),
        role: r.get(4),
        org: r.get(5),
        action: r.get(6),
        method: r.get(7),
        path: r.get(8),
        object: r.get(9),
        status: r.get::<_, i64>(10) as u16,
        detail: r.get(11),
        hash: r.get(12),
    }
}

const AUDIT_COLUMNS: &str =
    "seq, at_ms, token, name, role, org, action, method, path, object, status, detail, hash";

/// Appends `entries` to the audit chain inside the caller's transaction:
/// takes the audit lock (held to the commit), reads the row before and
/// writes the new rows. [`Audit::append_audit`] and an ingest batch written
/// with its request's audit row ([`PgStore::insert_encoded_batches_rowids`])
/// both append here.
pub(crate) fn append_audit_rows(
    tx: &mut ::postgres::Transaction<'_>,
    entries: &[AuditRecord],
) -> Result<(), ::postgres::Error> {
    if entries.is_empty() {
        return Ok(());
    }
    // The row before is read and the new rows written with no other
    // appender in between (servers, their writers, the CLI's token commands).
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&AUDIT_LOCK])?;
    let (mut seq, mut prev): (i64, String) = tx
        .query_opt(
            "SELECT seq, hash FROM server_audit ORDER BY seq DESC LIMIT 1",
            &[],
        )?
        .map(|r| (r.get(0), r.get::<_, Option<String>>(1).unwrap_or_default()))
        .unwrap_or((0, String::new()));
    let ins = tx.prepare(&format!(
        "INSERT INTO server_audit ({AUDIT_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ))?;
    for a in entries {
        seq += 1;
        // The hash covers the row as stored (NUL as U+FFFD), so that
        // verifying what is read back agrees.
        let opt = |s: &Option<String>| s.as_deref().map(|v| column(v).into_owned());
        let row = AuditRecord {
            seq,
            at_ms: a.at_ms,
            token: opt(&a.token),
            name: opt(&a.name),
            role: opt(&a.role),
            org: opt(&a.org),
            action: column(&a.action).into_owned(),
            method: column(&a.method).into_owned(),
            path: column(&a.path).into_owned(),
            object: opt(&a.object),
            status: a.status,
            detail: opt(&a.detail),
            hash: None,
        };
        let hash = crate::audit_row_hash(&prev, &row);
        tx.execute(
            &ins,
            &[
                &seq,
                &row.at_ms,
                &row.token,
                &row.name,
                &row.role,
                &row.org,
                &row.action,
                &row.method,
                &row.path,
                &row.object,
                &(row.status as i64),
                &row.detail,
                &hash,
            ],
        )?;
        prev = hash;
    }
    Ok(())
}

impl Audit for PgStore {
    fn append_audit(&self, entries: &[AuditRecord]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut c = self.conn();
        let e = |err| self.err(err);
        let mut tx = c.client.transaction().map_err(e)?;
        append_audit_rows(&mut tx, entries).map_err(e)?;
        tx.commit().map_err(e)
    }

    fn audit(&self, limit: usize, before: Option<i64>) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(self
            .query(
                &format!(
                    "SELECT {AUDIT_COLUMNS} FROM server_audit WHERE seq < $1 ORDER BY seq DESC LIMIT $2"
                ),
                &[&before.unwrap_or(i64::MAX), &limit_arg(limit)],
            )?
            .iter()
            .map(audit_row)
            .collect())
    }

    fn verify_audit(&self) -> Result<AuditCheck, StoreError> {
        let mut check = AuditCheck::default();
        let mut after = i64::MIN;
        'pages: loop {
            let rows = self.query(
                &format!(
                    "SELECT {AUDIT_COLUMNS} FROM server_audit WHERE seq > $1 ORDER BY seq LIMIT {SCAN_PAGE}"
                ),
                &[&after],
            )?;
            for r in &rows {
                let row = audit_row(r);
                after = row.seq;
                if !check.push(row) {
                    break 'pages;
                }
            }
            if (rows.len() as i64) < SCAN_PAGE {
                break;
            }
        }
        Ok(check)
    }
}

impl Markings for PgStore {
    fn marking(&self, kind: &str, id: &str) -> Result<Option<MarkingRecord>, StoreError> {
        Ok(self
            .query(
                "SELECT tlp, orgs, people FROM server_markings
                 WHERE pharos_key(kind) = pharos_key($1) AND pharos_key(id) = pharos_key($2)
                   AND kind = $1 AND id = $2",
                &[&column(kind), &column(id)],
            )?
            .first()
            .map(|r| MarkingRecord::from_columns(r.get(0), r.get(1), r.get(2))))
    }

    fn markings_of_kind(&self, kind: &str) -> Result<Vec<(String, MarkingRecord)>, StoreError> {
        Ok(self
            .query(
                "SELECT id, tlp, orgs, people FROM server_markings WHERE kind = $1",
                &[&column(kind)],
            )?
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    MarkingRecord::from_columns(r.get(1), r.get(2), r.get(3)),
                )
            })
            .collect())
    }

    fn set_marking_audited(
        &self,
        kind: &str,
        id: &str,
        m: &MarkingRecord,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        self.audited(
            "INSERT INTO server_markings (kind, id, tlp, orgs, people) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (pharos_key(kind), pharos_key(id))
             DO UPDATE SET tlp = excluded.tlp, orgs = excluded.orgs, people = excluded.people",
            &[
                &column(kind),
                &column(id),
                &column(&m.tlp),
                &column(&serde_json::to_string(&m.orgs).unwrap_or_default()),
                &column(&serde_json::to_string(&m.people).unwrap_or_default()),
            ],
            audit,
            |_| true,
        )
        .map(|_| ())
    }
}

impl TextIndex for PgStore {
    fn index_text(&mut self, chunk: i64) -> Result<(i64, i64, i64), StoreError> {
        #[derive(serde::Deserialize)]
        struct Text {
            #[serde(default)]
            text: Option<String>,
        }
        let mut c = self.conn();
        let e = |err| self.err(err);
        let mut tx = c.client.transaction().map_err(e)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&FTS_LOCK])
            .map_err(e)?;
        let last: i64 = tx
            .query_opt("SELECT value FROM server_meta WHERE key = 'fts_rowid'", &[])
            .map_err(e)?
            .map(|r| r.get(0))
            .unwrap_or(0);
        let max: i64 = tx
            .query_one("SELECT COALESCE(MAX(rowid), 0) FROM posts", &[])
            .map_err(e)?
            .get(0);
        if max <= last {
            return Ok((0, last, max));
        }
        let upto = max.min(last.saturating_add(chunk.max(1)));
        let rows = tx
            .query(
                "SELECT rowid, record FROM posts WHERE rowid > $1 AND rowid <= $2",
                &[&last, &upto],
            )
            .map_err(e)?;
        let mut ids = Vec::with_capacity(rows.len());
        let mut vectors = Vec::with_capacity(rows.len());
        for r in &rows {
            ids.push(r.get::<_, i64>(0));
            let text = serde_json::from_str::<Text>(r.get(1))
                .ok()
                .and_then(|t| t.text)
                .unwrap_or_default();
            vectors.push(fts::tsvector(&text));
        }
        drop(rows);
        let n = tx
            .execute(
                "INSERT INTO server_fts (rowid, tsv)
                 SELECT r, t::tsvector FROM unnest($1::BIGINT[], $2::TEXT[]) AS u(r, t)
                 ON CONFLICT (rowid) DO NOTHING",
                &[&ids, &vectors],
            )
            .map_err(e)?;
        tx.execute(
            "INSERT INTO server_meta (key, value) VALUES ('fts_rowid', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&upto],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        Ok((n as i64, upto, max))
    }

    fn indexed_rowid(&self) -> Result<i64, StoreError> {
        Ok(self
            .one_opt_i64("SELECT value FROM server_meta WHERE key = 'fts_rowid'", &[])?
            .unwrap_or(0))
    }
}

/// A search as SQL: rows `(rowid, time_ms)` in page order, at most one
/// more than a page.
struct Plan {
    sql: String,
    args: Vec<Box<dyn ToSql + Sync + Send>>,
    text: bool,
}

impl Plan {
    /// Adds an argument; its placeholder.
    fn arg(&mut self, v: impl ToSql + Sync + Send + 'static) -> String {
        self.args.push(Box::new(v));
        format!("${}", self.args.len())
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.args
            .iter()
            .map(|a| a.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// The query of a search: the same pages as SQLite's
/// (`sqlite::server`'s plan). Pages are newest first, `(time, rowid)`
/// descending; with words, newest stored first. Without words, a hashtag
/// (else a domain) drives the query through its `(tag, time_ms, post)`
/// (`(domain, time_ms, post)`) index, one row per post (`DISTINCT`: a post
/// with two links to one domain has two rows).
fn plan(f: &PostSearch) -> Result<Plan, StoreError> {
    let query = f.words.as_deref().and_then(fts::tsquery);
    let limit = f.limit.max(1) as i64;
    let driver = match (&query, &f.hashtag, &f.domain) {
        (Some(_), _, _) => None,
        (None, Some(h), _) => Some(("post_hashtags", "tag", h.clone())),
        (None, None, Some(d)) => Some(("post_links", "domain", d.clone())),
        (None, None, None) => None,
    };
    let mut p = Plan {
        sql: String::new(),
        args: Vec::new(),
        text: query.is_some(),
    };
    let (tcol, rcol) = if driver.is_some() {
        ("d.time_ms", "d.post")
    } else {
        ("p.time_ms", "p.rowid")
    };
    let mut sql = if let Some(q) = &query {
        let a = p.arg(q.clone());
        format!(
            "SELECT p.rowid, p.time_ms FROM server_fts f JOIN posts p ON p.rowid = f.rowid WHERE f.tsv @@ {a}::TEXT::tsquery"
        )
    } else if let Some((table, col, value)) = &driver {
        let a = p.arg(column(value).into_owned());
        format!(
            "SELECT DISTINCT d.post, d.time_ms FROM {table} d JOIN posts p ON p.rowid = d.post
             WHERE left(d.{col}, {LONG_PREFIX}) = left({a}, {LONG_PREFIX}) AND d.{col} = {a}"
        )
    } else {
        "SELECT p.rowid, p.time_ms FROM posts p WHERE TRUE".to_string()
    };
    if let Some(s) = f.since_ms {
        sql.push_str(&format!(" AND {tcol} >= {}", p.arg(s)));
    }
    if let Some(u) = f.until_ms {
        sql.push_str(&format!(" AND {tcol} < {}", p.arg(u)));
    }
    if let Some(pl) = f.platform.as_deref() {
        sql.push_str(&format!(
            " AND p.platform = {}",
            p.arg(column(pl).into_owned())
        ));
    }
    match f.lang.as_deref() {
        Some("und") => sql.push_str(" AND p.lang IS NULL"),
        Some(l) => {
            let a = p.arg(column(l).into_owned());
            sql.push_str(&format!(
                " AND left(p.lang, {SHORT_PREFIX}) = left({a}, {SHORT_PREFIX}) AND p.lang = {a}"
            ));
        }
        None => {}
    }
    if let Some((platform, id)) = &f.actor {
        let k = p.arg(actor_key(platform, id));
        let a = p.arg(column(id).into_owned());
        sql.push_str(&format!(" AND p.actor_key = {k} AND p.actor_id = {a}"));
    }
    if let Some(url) = &f.link {
        let a = p.arg(column(url).into_owned());
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM post_links l WHERE l.post = p.rowid AND l.url = {a})"
        ));
    }
    if let Some(d) = f
        .domain
        .clone()
        .filter(|_| !matches!(driver, Some((_, "domain", _))))
    {
        let a = p.arg(column(&d).into_owned());
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM post_links l WHERE l.post = p.rowid AND l.domain = {a})"
        ));
    }
    if let Some(h) = f.hashtag.clone().filter(|_| query.is_some()) {
        let a = p.arg(column(&h).into_owned());
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM post_hashtags h WHERE h.post = p.rowid AND h.tag = {a})"
        ));
    }
    match (f.cursor, query.is_some()) {
        (Some(SearchCursor::Stored(r)), true) => {
            sql.push_str(&format!(" AND f.rowid < {}", p.arg(r)));
        }
        (Some(SearchCursor::Time(t, r)), false) => {
            let (a, b) = (p.arg(t), p.arg(r));
            sql.push_str(&format!(" AND ({tcol}, {rcol}) < ({a}, {b})"));
        }
        (Some(_), _) => {
            return Err(StoreError::Invalid(
                "this cursor belongs to a search of another kind (with or without words)".into(),
            ));
        }
        (None, _) => {}
    }
    if query.is_some() {
        sql.push_str(" ORDER BY f.rowid DESC");
    } else {
        sql.push_str(&format!(" ORDER BY {tcol} DESC, {rcol} DESC"));
    }
    sql.push_str(&format!(" LIMIT {}", limit + 1));
    p.sql = sql;
    Ok(p)
}

impl PgStore {
    /// PostgreSQL's plan for a search (`EXPLAIN`), one line a step, for
    /// tests and for finding out which index a search walks.
    pub fn search_plan(&self, f: &PostSearch) -> Result<Vec<String>, StoreError> {
        let p = plan(f)?;
        Ok(self
            .query(&format!("EXPLAIN {}", p.sql), &p.refs())?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }
}

impl PostSearcher for PgStore {
    fn search_posts(&self, f: &PostSearch) -> Result<SearchPage, StoreError> {
        let limit = f.limit.max(1);
        let p = plan(f)?;
        let rows = self.query(&p.sql, &p.refs())?;
        let seen = rows.len();
        let page: Vec<(i64, i64)> = rows
            .iter()
            .take(limit)
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let rowids: Vec<i64> = page.iter().map(|&(r, _)| r).collect();
        let records = self.query(
            "SELECT rowid, record FROM posts WHERE rowid = ANY($1)",
            &[&rowids],
        )?;
        let mut by_rowid: HashMap<i64, &str> =
            records.iter().map(|r| (r.get(0), r.get(1))).collect();
        let cursor = |r: i64, t: i64| {
            if p.text {
                SearchCursor::Stored(r)
            } else {
                SearchCursor::Time(t, r)
            }
        };
        let mut posts = Vec::with_capacity(page.len());
        let mut cursors = Vec::with_capacity(page.len());
        for &(rowid, t) in &page {
            // An unreadable record is skipped (and named), the page goes on;
            // the cursor still moves past it.
            if let Some(rec) = by_rowid.remove(&rowid)
                && let Some(post) = self.decode(rowid, rec)
            {
                posts.push(post);
                cursors.push(cursor(rowid, t));
            }
        }
        let next = match (seen > limit, page.last()) {
            (true, Some(&(r, t))) => Some(cursor(r, t)),
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
