//! TAXII 2.1 collections and TAXII pulls (component `taxii`).
//!
//! - `taxii_objects`: the objects each collection of `pharos serve`'s TAXII
//!   server holds, one row per object version and *scope* (what decides who
//!   may read it: `incident:<id>` for the store's findings, `tlp:<level>`
//!   for objects posted by analysts). `date_added` is in microseconds and
//!   strictly increasing, so `added_after` and paging never skip an object
//!   added in the same instant as another.
//! - `taxii_status`: status resources of envelopes posted to the server.
//! - `taxii_state`: small named values (the fingerprint of the findings the
//!   server last published).
//! - `taxii_pulls`: where `pharos share pull` stopped, per remote and collection.
//!
//! The tables are created with the others when a store opens
//! ([`crate::schema::TAXII`]); [`TaxiiStore`] reads and writes them on
//! every backend.

use crate::{SqliteStore, StoreError};
use rusqlite::{OptionalExtension, params};

/// One object version of a collection, without its JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRow {
    pub seq: i64,
    pub id: String,
    pub version: String,
    pub scope: String,
    pub stix_type: String,
    pub spec_version: String,
    pub date_added_us: i64,
}

/// An object version to add.
#[derive(Clone, Debug)]
pub struct NewObject<'a> {
    pub id: &'a str,
    pub version: &'a str,
    pub scope: &'a str,
    pub stix_type: &'a str,
    pub spec_version: &'a str,
    pub json: &'a str,
}

use pharos_core::time::now_us;

/// The TAXII tables, on every backend ([`SqliteStore`], [`crate::PgStore`]).
pub trait TaxiiStore {
    /// Adds object versions to a collection in one transaction; a version
    /// already held under the same scope is left as it was. Returns how
    /// many were new. Each new version gets a `date_added` after every
    /// stored one (and after the clock).
    fn add_objects(
        &mut self,
        collection: &str,
        objects: &[NewObject<'_>],
    ) -> Result<u64, StoreError> {
        self.add_objects_audited(collection, objects, &[])
    }
    /// [`TaxiiStore::add_objects`], appending `audit` to the audit chain in
    /// the same transaction (both are stored, or neither).
    fn add_objects_audited(
        &mut self,
        collection: &str,
        objects: &[NewObject<'_>],
        audit: &[crate::AuditRecord],
    ) -> Result<u64, StoreError>;
    /// Every object version of a collection (no JSON), in the order added.
    /// `id`: only that object's versions.
    fn object_rows(&self, collection: &str, id: Option<&str>)
    -> Result<Vec<ObjectRow>, StoreError>;
    /// The JSON of object versions by `seq`, in the order asked.
    fn object_json(&self, seqs: &[i64]) -> Result<Vec<String>, StoreError>;
    /// Keeps a status resource (JSON) under its id.
    fn put_status(&self, id: &str, json: &str) -> Result<(), StoreError>;
    /// A status resource by id.
    fn status(&self, id: &str) -> Result<Option<String>, StoreError>;
    /// A named value of `taxii_state`.
    fn state(&self, key: &str) -> Result<Option<String>, StoreError>;
    fn set_state(&self, key: &str, value: &str) -> Result<(), StoreError>;
    /// What the stored incidents are now, in a few numbers: it changes when
    /// `pharos assess` adds, grows or replaces an incident (count, newest
    /// post, summed sizes of their records, newest row). Empty when there
    /// are none.
    fn incidents_fingerprint(&self) -> Result<String, StoreError>;
    /// Where the last pull of `collection` at `remote` stopped (`added_after`).
    fn pull_position(&self, remote: &str, collection: &str) -> Result<Option<String>, StoreError>;
    fn set_pull_position(
        &self,
        remote: &str,
        collection: &str,
        added_after: &str,
    ) -> Result<(), StoreError>;
}

/// Adds object versions to a collection inside transaction `tx` (see
/// [`TaxiiStore::add_objects`]); how many were new.
pub(crate) fn insert_objects(
    tx: &rusqlite::Transaction<'_>,
    collection: &str,
    objects: &[NewObject<'_>],
) -> rusqlite::Result<u64> {
    let last: i64 = tx.query_row(
        "SELECT COALESCE(MAX(date_added_us), 0) FROM taxii_objects",
        [],
        |r| r.get(0),
    )?;
    let mut at = now_us().max(last + 1);
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO taxii_objects
         (collection, id, version, scope, type, spec_version, date_added_us, json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut added = 0;
    for o in objects {
        let n = stmt.execute(params![
            collection,
            o.id,
            o.version,
            o.scope,
            o.stix_type,
            o.spec_version,
            at,
            o.json
        ])?;
        if n > 0 {
            added += 1;
            at += 1;
        }
    }
    Ok(added)
}

/// Keeps a status resource, on a connection or inside a transaction.
pub(crate) fn insert_status(
    conn: &rusqlite::Connection,
    id: &str,
    json: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO taxii_status (id, at_ms, json) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET at_ms = excluded.at_ms, json = excluded.json",
        params![id, now_us() / 1000, json],
    )
    .map(|_| ())
}

impl TaxiiStore for SqliteStore {
    fn add_objects_audited(
        &mut self,
        collection: &str,
        objects: &[NewObject<'_>],
        audit: &[crate::AuditRecord],
    ) -> Result<u64, StoreError> {
        let path = self.path().display().to_string();
        let err = |e| StoreError::backend(path.clone(), e);
        // Immediate: the read of the last time and the inserts are one write
        // (a deferred transaction that upgrades gets SQLITE_BUSY at once
        // instead of waiting when another writer is at work).
        let tx = self
            .conn_mut()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let added = insert_objects(&tx, collection, objects).map_err(err)?;
        crate::sqlite::append_audit_rows(&tx, audit).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(added)
    }

    fn object_rows(
        &self,
        collection: &str,
        id: Option<&str>,
    ) -> Result<Vec<ObjectRow>, StoreError> {
        let err = |e| StoreError::backend(self.path().display().to_string(), e);
        let conn = self.conn();
        let map = |r: &rusqlite::Row<'_>| {
            Ok(ObjectRow {
                seq: r.get(0)?,
                id: r.get(1)?,
                version: r.get(2)?,
                scope: r.get(3)?,
                stix_type: r.get(4)?,
                spec_version: r.get(5)?,
                date_added_us: r.get(6)?,
            })
        };
        let cols = "seq, id, version, scope, type, spec_version, date_added_us";
        let rows = match id {
            Some(id) => {
                let mut stmt = conn
                    .prepare_cached(&format!(
                        "SELECT {cols} FROM taxii_objects WHERE collection = ?1 AND id = ?2 ORDER BY seq"
                    ))
                    .map_err(err)?;
                stmt.query_map(params![collection, id], map)
                    .map_err(err)?
                    .collect::<Result<Vec<_>, _>>()
            }
            None => {
                let mut stmt = conn
                    .prepare_cached(&format!(
                        "SELECT {cols} FROM taxii_objects WHERE collection = ?1 ORDER BY seq"
                    ))
                    .map_err(err)?;
                stmt.query_map(params![collection], map)
                    .map_err(err)?
                    .collect::<Result<Vec<_>, _>>()
            }
        };
        rows.map_err(err)
    }

    fn object_json(&self, seqs: &[i64]) -> Result<Vec<String>, StoreError> {
        let err = |e| StoreError::backend(self.path().display().to_string(), e);
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT json FROM taxii_objects WHERE seq = ?1")
            .map_err(err)?;
        let mut out = Vec::with_capacity(seqs.len());
        for s in seqs {
            out.push(stmt.query_row([s], |r| r.get(0)).map_err(err)?);
        }
        Ok(out)
    }

    fn put_status(&self, id: &str, json: &str) -> Result<(), StoreError> {
        insert_status(self.conn(), id, json)
            .map_err(|e| StoreError::backend(self.path().display().to_string(), e))
    }

    fn status(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.conn()
            .query_row("SELECT json FROM taxii_status WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| StoreError::backend(self.path().display().to_string(), e))
    }

    fn state(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn()
            .query_row("SELECT value FROM taxii_state WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| StoreError::backend(self.path().display().to_string(), e))
    }

    fn set_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO taxii_state (key, value) VALUES (?1, ?2)",
                params![key, value],
            )
            .map_err(|e| StoreError::backend(self.path().display().to_string(), e))?;
        Ok(())
    }

    fn incidents_fingerprint(&self) -> Result<String, StoreError> {
        let err = |e| StoreError::backend(self.path().display().to_string(), e);
        self.conn()
            .query_row(
                "SELECT count(*), COALESCE(SUM(last_seen_ms), 0), COALESCE(SUM(length(json)), 0),
                        COALESCE(MAX(rowid), 0) FROM incidents",
                [],
                |r| Ok(fingerprint(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .map_err(err)
    }

    fn pull_position(&self, remote: &str, collection: &str) -> Result<Option<String>, StoreError> {
        self.conn()
            .query_row(
                "SELECT added_after FROM taxii_pulls WHERE remote = ?1 AND collection = ?2",
                params![remote, collection],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| StoreError::backend(self.path().display().to_string(), e))
    }

    fn set_pull_position(
        &self,
        remote: &str,
        collection: &str,
        added_after: &str,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO taxii_pulls (remote, collection, added_after, at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (remote, collection) DO UPDATE SET added_after = excluded.added_after, at_ms = excluded.at_ms",
                params![remote, collection, added_after, now_us() / 1000],
            )
            .map_err(|e| StoreError::backend(self.path().display().to_string(), e))?;
        Ok(())
    }
}

/// The incidents' fingerprint from `(count, summed last-seen times, summed
/// JSON lengths, newest row)`: empty when there are none (as before the
/// store created the incidents table when it opens).
pub(crate) fn fingerprint(count: i64, last_seen: i64, json_len: i64, newest: i64) -> String {
    if count == 0 {
        return String::new();
    }
    format!("{count}:{last_seen}:{json_len}:{newest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj<'a>(id: &'a str, version: &'a str, scope: &'a str) -> NewObject<'a> {
        NewObject {
            id,
            version,
            scope,
            stix_type: "url",
            spec_version: "2.1",
            json: "{}",
        }
    }

    #[test]
    fn objects_are_added_once_with_increasing_times() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(dir.path().join("s.db")).unwrap();
        let a = [
            obj("url--1", "v1", "tlp:clear"),
            obj("url--2", "v1", "tlp:clear"),
        ];
        assert_eq!(s.add_objects("c", &a).unwrap(), 2);
        assert_eq!(s.add_objects("c", &a).unwrap(), 0, "idempotent");
        assert_eq!(
            s.add_objects("c", &[obj("url--1", "v2", "tlp:clear")])
                .unwrap(),
            1
        );
        let rows = s.object_rows("c", None).unwrap();
        assert_eq!(rows.len(), 3);
        assert!(
            rows.windows(2)
                .all(|w| w[0].date_added_us < w[1].date_added_us)
        );
        assert_eq!(s.object_rows("c", Some("url--1")).unwrap().len(), 2);
        assert!(s.object_rows("other", None).unwrap().is_empty());
        s.set_pull_position("http://r/", "c", "2026-01-01T00:00:00.000000Z")
            .unwrap();
        s.set_pull_position("http://r/", "c", "2026-01-02T00:00:00.000000Z")
            .unwrap();
        assert_eq!(
            s.pull_position("http://r/", "c").unwrap().as_deref(),
            Some("2026-01-02T00:00:00.000000Z")
        );
        assert_eq!(s.incidents_fingerprint().unwrap(), "");
    }
}
