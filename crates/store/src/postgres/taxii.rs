//! [`TaxiiStore`] on PostgreSQL.

use super::{PgStore, column};
use crate::StoreError;
use crate::taxii::{NewObject, ObjectRow, TaxiiStore, fingerprint};
use pharos_core::time::now_us;

/// Advisory lock of TAXII writers: `date_added` is read and extended with
/// no other writer in between, so it stays strictly increasing.
const TAXII_LOCK: i64 = 0x7068_6172_6f73_0005;

/// Adds object versions to a collection inside transaction `tx` (see
/// [`TaxiiStore::add_objects`]), under the TAXII lock; how many were new.
pub(crate) fn insert_objects(
    tx: &mut ::postgres::Transaction<'_>,
    collection: &str,
    objects: &[NewObject<'_>],
) -> Result<u64, ::postgres::Error> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&TAXII_LOCK])?;
    let last: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(date_added_us), 0)::BIGINT FROM taxii_objects",
            &[],
        )?
        .get(0);
    let mut at = now_us().max(last + 1);
    let stmt = tx.prepare(
        "INSERT INTO taxii_objects
         (collection, id, version, scope, type, spec_version, date_added_us, json)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (collection, id, version, scope) DO NOTHING",
    )?;
    let collection = column(collection);
    let mut added = 0;
    for o in objects {
        let n = tx.execute(
            &stmt,
            &[
                &collection,
                &column(o.id),
                &column(o.version),
                &column(o.scope),
                &column(o.stix_type),
                &column(o.spec_version),
                &at,
                &column(o.json),
            ],
        )?;
        if n > 0 {
            added += 1;
            at += 1;
        }
    }
    Ok(added)
}

/// Keeps a status resource inside transaction `tx`.
pub(crate) fn insert_status(
    tx: &mut ::postgres::Transaction<'_>,
    id: &str,
    json: &str,
) -> Result<(), ::postgres::Error> {
    tx.execute(
        "INSERT INTO taxii_status (id, at_ms, json) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET at_ms = excluded.at_ms, json = excluded.json",
        &[&column(id), &(now_us() / 1000), &column(json)],
    )
    .map(|_| ())
}

impl TaxiiStore for PgStore {
    fn add_objects_audited(
        &mut self,
        collection: &str,
        objects: &[NewObject<'_>],
        audit: &[crate::AuditRecord],
    ) -> Result<u64, StoreError> {
        let mut c = self.conn();
        let e = |err| self.err(err);
        let mut tx = c.client.transaction().map_err(e)?;
        let added = insert_objects(&mut tx, collection, objects).map_err(e)?;
        super::server::append_audit_rows(&mut tx, audit).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(added)
    }

    fn object_rows(
        &self,
        collection: &str,
        id: Option<&str>,
    ) -> Result<Vec<ObjectRow>, StoreError> {
        let rows = self.query(
            "SELECT seq, id, version, scope, type, spec_version, date_added_us FROM taxii_objects
             WHERE collection = $1 AND ($2::TEXT IS NULL OR id = $2) ORDER BY seq",
            &[&column(collection), &id.map(column)],
        )?;
        Ok(rows
            .iter()
            .map(|r| ObjectRow {
                seq: r.get(0),
                id: r.get(1),
                version: r.get(2),
                scope: r.get(3),
                stix_type: r.get(4),
                spec_version: r.get(5),
                date_added_us: r.get(6),
            })
            .collect())
    }

    fn object_json(&self, seqs: &[i64]) -> Result<Vec<String>, StoreError> {
        let rows = self.query(
            "SELECT seq, json FROM taxii_objects WHERE seq = ANY($1)",
            &[&seqs],
        )?;
        let by_seq: std::collections::HashMap<i64, String> =
            rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        seqs.iter()
            .map(|s| {
                by_seq.get(s).cloned().ok_or_else(|| {
                    StoreError::Invalid(format!("no TAXII object version with seq {s}"))
                })
            })
            .collect()
    }

    fn put_status(&self, id: &str, json: &str) -> Result<(), StoreError> {
        let mut c = self.conn();
        let e = |err| self.err(err);
        let mut tx = c.client.transaction().map_err(e)?;
        insert_status(&mut tx, id, json).map_err(e)?;
        tx.commit().map_err(e)
    }

    fn status(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .query(
                "SELECT json FROM taxii_status WHERE id = $1",
                &[&column(id)],
            )?
            .first()
            .map(|r| r.get(0)))
    }

    fn state(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .query(
                "SELECT value FROM taxii_state WHERE key = $1",
                &[&column(key)],
            )?
            .first()
            .map(|r| r.get(0)))
    }

    fn set_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO taxii_state (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&column(key), &column(value)],
        )
        .map(|_| ())
    }

    fn incidents_fingerprint(&self) -> Result<String, StoreError> {
        let rows = self.query(
            "SELECT COUNT(*), COALESCE(SUM(last_seen_ms), 0)::BIGINT,
                    COALESCE(SUM(char_length(json)), 0)::BIGINT, COALESCE(MAX(seq), 0)::BIGINT
             FROM incidents",
            &[],
        )?;
        let r = &rows[0];
        Ok(fingerprint(r.get(0), r.get(1), r.get(2), r.get(3)))
    }

    fn pull_position(&self, remote: &str, collection: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .query(
                "SELECT added_after FROM taxii_pulls WHERE remote = $1 AND collection = $2",
                &[&column(remote), &column(collection)],
            )?
            .first()
            .map(|r| r.get(0)))
    }

    fn set_pull_position(
        &self,
        remote: &str,
        collection: &str,
        added_after: &str,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO taxii_pulls (remote, collection, added_after, at_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT (remote, collection) DO UPDATE SET added_after = excluded.added_after, at_ms = excluded.at_ms",
            &[&column(remote), &column(collection), &column(added_after), &(now_us() / 1000)],
        )
        .map(|_| ())
    }
}
