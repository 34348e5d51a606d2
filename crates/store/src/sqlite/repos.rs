//! The repositories of [`crate::repo`] on SQLite.

use super::SqliteStore;
use crate::StoreError;
use crate::repo::*;
use rusqlite::{OptionalExtension, params};

fn match_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredMatch> {
    Ok(StoredMatch {
        platform: r.get(0)?,
        post_id: r.get(1)?,
        claim_id: r.get(2)?,
        score: r.get(3)?,
        confidence: r.get(4)?,
    })
}

impl SqliteStore {
    fn matches_where(
        &self,
        where_sql: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<StoredMatch>, StoreError> {
        let q = format!(
            "SELECT platform, post_id, claim_id, score, confidence FROM claim_matches {where_sql}
             ORDER BY confidence DESC, platform, post_id, claim_id"
        );
        let mut stmt = self.conn.prepare_cached(&q).map_err(|e| self.err(e))?;
        let rows = stmt.query_map(args, match_row).map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }
}

impl ClaimMatches for SqliteStore {
    fn replace_matches(&self, posts: &[PostMatches]) -> Result<u64, StoreError> {
        let e = |err| self.err(err);
        let tx = self.conn.unchecked_transaction().map_err(e)?;
        let mut n = 0;
        {
            let mut del = tx
                .prepare_cached("DELETE FROM claim_matches WHERE platform = ?1 AND post_id = ?2")
                .map_err(e)?;
            let mut ins = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO claim_matches (platform, post_id, claim_id, score, confidence)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(e)?;
            for p in posts {
                del.execute(params![p.platform, p.post_id]).map_err(e)?;
                for (claim, score, confidence) in &p.matches {
                    ins.execute(params![p.platform, p.post_id, claim, score, confidence])
                        .map_err(e)?;
                    n += 1;
                }
            }
        }
        tx.commit().map_err(e)?;
        Ok(n)
    }

    fn matches_of_post(
        &self,
        platform: &str,
        post_id: &str,
    ) -> Result<Vec<StoredMatch>, StoreError> {
        self.matches_where(
            "WHERE platform = ?1 AND post_id = ?2",
            &[&platform, &post_id],
        )
    }

    fn matches_of_claim(&self, claim_id: &str) -> Result<Vec<StoredMatch>, StoreError> {
        self.matches_where("WHERE claim_id = ?1", &[&claim_id])
    }

    fn matches_at_least(&self, min_confidence: f64) -> Result<Vec<StoredMatch>, StoreError> {
        self.matches_where("WHERE confidence >= ?1", &[&min_confidence])
    }

    fn matches_stamp(&self) -> Result<(i64, i64), StoreError> {
        self.conn
            .query_row(
                "SELECT coalesce(max(rowid), 0), count(*) FROM claim_matches",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))
    }
}

impl Incidents for SqliteStore {
    fn update_incidents(
        &mut self,
        save: &[IncidentRecord],
        delete: &[String],
    ) -> Result<(), StoreError> {
        self.write_incidents(save, delete)
    }

    fn incidents(&self) -> Result<Vec<IncidentRecord>, StoreError> {
        self.incident_rows()
    }
}

impl SqliteStore {
    fn write_incidents(
        &mut self,
        incidents: &[IncidentRecord],
        delete: &[String],
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let e = |err| super::sql_err(&path, err);
        let tx = self.conn.transaction().map_err(e)?;
        {
            let saved: std::collections::HashSet<&str> =
                incidents.iter().map(|i| i.id.as_str()).collect();
            let mut del = tx
                .prepare("DELETE FROM incidents WHERE id = ?1")
                .map_err(e)?;
            for id in delete.iter().filter(|id| !saved.contains(id.as_str())) {
                del.execute([id]).map_err(e)?;
            }
            let mut stmt = tx
                .prepare(
                    "INSERT INTO incidents (id, title, first_seen_ms, last_seen_ms, severity,
                        confidence, model_version, json)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT(id) DO UPDATE SET title = excluded.title,
                        first_seen_ms = excluded.first_seen_ms, last_seen_ms = excluded.last_seen_ms,
                        severity = excluded.severity, confidence = excluded.confidence,
                        model_version = excluded.model_version, json = excluded.json",
                )
                .map_err(e)?;
            for i in incidents {
                stmt.execute(params![
                    i.id,
                    i.title,
                    i.first_seen_ms,
                    i.last_seen_ms,
                    i.severity,
                    i.confidence,
                    i.model_version,
                    i.json
                ])
                .map_err(e)?;
            }
        }
        tx.commit().map_err(e)
    }

    fn incident_rows(&self) -> Result<Vec<IncidentRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, title, first_seen_ms, last_seen_ms, severity, confidence, model_version, json
                 FROM incidents ORDER BY first_seen_ms, id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(IncidentRecord {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    first_seen_ms: r.get(2)?,
                    last_seen_ms: r.get(3)?,
                    severity: r.get(4)?,
                    confidence: r.get(5)?,
                    model_version: r.get(6)?,
                    json: r.get(7)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }
}

impl Responses for SqliteStore {
    fn log_response(&mut self, r: &ResponseRecord) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO responses (narrative, anchor_platform, anchor_post, label, who, at_ms, channel, url, partner, note, logged_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    r.narrative as i64,
                    r.anchor_platform,
                    r.anchor_post,
                    r.label,
                    r.who,
                    r.at_ms,
                    r.channel,
                    r.url,
                    r.partner,
                    r.note,
                    r.logged_at_ms
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    fn responses(&self, narrative: Option<u64>) -> Result<Vec<ResponseRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, narrative, anchor_platform, anchor_post, label, who, at_ms, channel, url, partner, note, logged_at_ms
                 FROM responses WHERE ?1 IS NULL OR narrative = ?1 ORDER BY at_ms, id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([narrative.map(|n| n as i64)], |r| {
                Ok(ResponseRecord {
                    id: r.get(0)?,
                    narrative: r.get::<_, i64>(1)? as u64,
                    anchor_platform: r.get(2)?,
                    anchor_post: r.get(3)?,
                    label: r.get(4)?,
                    who: r.get(5)?,
                    at_ms: r.get(6)?,
                    channel: r.get(7)?,
                    url: r.get(8)?,
                    partner: r.get(9)?,
                    note: r.get(10)?,
                    logged_at_ms: r.get(11)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }
}

impl DisarmCatalogue for SqliteStore {
    fn save_disarm(
        &mut self,
        tactics: &[DisarmTactic],
        techniques: &[DisarmTechnique],
        source: &str,
        at_ms: i64,
    ) -> Result<DisarmSaved, StoreError> {
        let path = self.path.clone();
        let e = |err| super::sql_err(&path, err);
        let mut counts = DisarmSaved::default();
        let tx = self.conn.transaction().map_err(e)?;
        {
            let mut put_tactic = tx
                .prepare(
                    "INSERT INTO disarm_tactics(ta_id, name, shortname, description) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(ta_id) DO UPDATE SET name = excluded.name,
                       shortname = excluded.shortname, description = excluded.description",
                )
                .map_err(e)?;
            for t in tactics {
                put_tactic
                    .execute(params![t.ta_id, t.name, t.shortname, t.description])
                    .map_err(e)?;
                counts.tactics += 1;
            }
            let mut get = tx
                .prepare(
                    "SELECT name, tactic_ids, description FROM disarm_techniques WHERE t_id = ?1",
                )
                .map_err(e)?;
            let mut put = tx
                .prepare(
                    "INSERT INTO disarm_techniques(t_id, name, tactic_ids, description, imported_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(t_id) DO UPDATE SET name = excluded.name, tactic_ids = excluded.tactic_ids,
                       description = excluded.description, imported_ms = excluded.imported_ms",
                )
                .map_err(e)?;
            for t in techniques {
                let ids = serde_json::to_string(&t.tactic_ids).unwrap_or_else(|_| "[]".into());
                let old: Option<(String, String, Option<String>)> = get
                    .query_row([&t.t_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()
                    .map_err(e)?;
                match old {
                    None => counts.added += 1,
                    Some((n, ta, d)) if n == t.name && ta == ids && d == t.description => {
                        counts.unchanged += 1
                    }
                    Some(_) => counts.updated += 1,
                }
                put.execute(params![t.t_id, t.name, ids, t.description, at_ms])
                    .map_err(e)?;
            }
            tx.execute(
                "INSERT INTO disarm_imports(source, techniques, tactics, at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![source, techniques.len() as i64, tactics.len() as i64, at_ms],
            )
            .map_err(e)?;
            counts.stored = tx
                .query_row("SELECT COUNT(*) FROM disarm_techniques", [], |r| {
                    r.get::<_, i64>(0)
                })
                .map_err(e)? as u64;
        }
        tx.commit().map_err(e)?;
        Ok(counts)
    }

    fn disarm(&self) -> Result<(Vec<DisarmTactic>, Vec<DisarmTechnique>), StoreError> {
        let e = |err| self.err(err);
        let mut q = self
            .conn
            .prepare(
                "SELECT ta_id, name, shortname, description FROM disarm_tactics ORDER BY ta_id",
            )
            .map_err(e)?;
        let tactics = q
            .query_map([], |r| {
                Ok(DisarmTactic {
                    ta_id: r.get(0)?,
                    name: r.get(1)?,
                    shortname: r.get(2)?,
                    description: r.get(3)?,
                })
            })
            .map_err(e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(e)?;
        let mut q = self
            .conn
            .prepare(
                "SELECT t_id, name, tactic_ids, description FROM disarm_techniques ORDER BY t_id",
            )
            .map_err(e)?;
        let rows = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(e)?;
        let mut techniques = Vec::new();
        for row in rows {
            let (t_id, name, ids, description) = row.map_err(e)?;
            match serde_json::from_str::<Vec<String>>(&ids) {
                Ok(tactic_ids) => techniques.push(DisarmTechnique {
                    t_id,
                    name,
                    tactic_ids,
                    description,
                }),
                Err(err) => self.skip(
                    &format!("DISARM technique {t_id}"),
                    &format!("tactic list {ids:?}: {err}"),
                ),
            }
        }
        Ok((tactics, techniques))
    }
}

impl StixObjects for SqliteStore {
    fn import_stix(
        &mut self,
        import: &StixImport<'_>,
        objects: &[StixObjectRecord],
        newer: &dyn Fn(Option<&str>, Option<&str>) -> bool,
    ) -> Result<Vec<StixOutcome>, StoreError> {
        let path = self.path.clone();
        let e = |err| super::sql_err(&path, err);
        // Immediate: reads then writes in one transaction would get
        // SQLITE_BUSY at once (no waiting) when another writer is at work,
        // e.g. the server's TAXII publishing.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(e)?;
        let mut out = Vec::with_capacity(objects.len());
        {
            let mut get = tx
                .prepare("SELECT modified FROM stix_objects WHERE id = ?1")
                .map_err(e)?;
            let mut put = tx
                .prepare(
                    "INSERT INTO stix_objects (id, type, key, name, modified, tlp, markings,
                        created_by_ref, source, imported_ms, json)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                     ON CONFLICT(id) DO UPDATE SET type = excluded.type, key = excluded.key,
                        name = excluded.name, modified = excluded.modified, tlp = excluded.tlp,
                        markings = excluded.markings, created_by_ref = excluded.created_by_ref,
                        source = excluded.source, imported_ms = excluded.imported_ms,
                        json = excluded.json",
                )
                .map_err(e)?;
            let (mut added, mut updated, mut unchanged) = (0i64, 0i64, 0i64);
            for o in objects {
                // Two versions of one object in a bundle: the one stored
                // first is the "stored" version for the second.
                let old: Option<Option<String>> =
                    get.query_row([&o.id], |r| r.get(0)).optional().map_err(e)?;
                let outcome = match &old {
                    Some(m) if !newer(o.modified.as_deref(), m.as_deref()) => {
                        StixOutcome::Unchanged
                    }
                    Some(_) => StixOutcome::Updated,
                    None => StixOutcome::Added,
                };
                if outcome != StixOutcome::Unchanged {
                    put.execute(params![
                        o.id,
                        o.stix_type,
                        o.key,
                        o.name,
                        o.modified,
                        o.tlp,
                        serde_json::to_string(&o.markings).unwrap_or_else(|_| "[]".into()),
                        o.created_by_ref,
                        import.source,
                        import.at_ms,
                        o.json,
                    ])
                    .map_err(e)?;
                }
                match outcome {
                    StixOutcome::Added => added += 1,
                    StixOutcome::Updated => updated += 1,
                    StixOutcome::Unchanged => unchanged += 1,
                }
                out.push(outcome);
            }
            tx.execute(
                "INSERT INTO stix_imports (source, bundle_id, objects, added, updated, unchanged, rejected, at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    import.source,
                    import.bundle_id,
                    import.objects as i64,
                    added,
                    updated,
                    unchanged,
                    import.rejected as i64,
                    import.at_ms
                ],
            )
            .map_err(e)?;
        }
        if let Some(i) = import.inbox {
            crate::taxii::insert_objects(&tx, i.collection, i.objects).map_err(e)?;
            crate::taxii::insert_status(&tx, i.status_id, i.status_json).map_err(e)?;
        }
        if let Some(rows) = import.audit {
            super::server::append_audit_rows(&tx, &rows(&out)).map_err(e)?;
        }
        tx.commit().map_err(e)?;
        Ok(out)
    }

    fn stix_markings(&self) -> Result<Vec<(String, Option<String>)>, StoreError> {
        let e = |err| self.err(err);
        let mut q = self
            .conn
            .prepare("SELECT id, tlp FROM stix_objects WHERE type = 'marking-definition'")
            .map_err(e)?;
        let rows = q.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(e)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(e)
    }

    fn stix_objects(&self, stix_type: Option<&str>) -> Result<Vec<StoredStixObject>, StoreError> {
        let e = |err| self.err(err);
        let mut q = self
            .conn
            .prepare(
                "SELECT id, type, key, name, tlp, markings, source, json FROM stix_objects
                 WHERE ?1 IS NULL OR type = ?1 ORDER BY type, id",
            )
            .map_err(e)?;
        let rows = q
            .query_map([stix_type], |r| {
                Ok((
                    StoredStixObject {
                        id: r.get(0)?,
                        stix_type: r.get(1)?,
                        key: r.get(2)?,
                        name: r.get(3)?,
                        tlp: r.get(4)?,
                        markings: Vec::new(),
                        source: r.get(6)?,
                        json: r.get(7)?,
                    },
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(e)?;
        let mut out = Vec::new();
        for row in rows {
            let (mut o, markings) = row.map_err(e)?;
            o.markings = serde_json::from_str(&markings).unwrap_or_default();
            out.push(o);
        }
        Ok(out)
    }
}

fn media_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MediaRecord> {
    Ok(MediaRecord {
        platform: r.get(0)?,
        post_id: r.get(1)?,
        url: r.get(2)?,
        sha256: r.get(3)?,
        pdq: r.get(4)?,
        quality: r.get(5)?,
        width: r.get(6)?,
        height: r.get(7)?,
        c2pa: r.get(8)?,
        xmp_source_type: r.get(9)?,
        scanned_ms: r.get(10)?,
    })
}

const MEDIA_COLUMNS: &str = "platform, post_id, url, sha256, pdq, quality, width, height, c2pa, xmp_source_type, scanned_ms";

impl MediaHashes for SqliteStore {
    fn save_media(&self, records: &[MediaRecord]) -> Result<u64, StoreError> {
        let e = |err| self.err(err);
        let tx = self.conn.unchecked_transaction().map_err(e)?;
        {
            let mut ins = tx
                .prepare_cached(&format!(
                    "INSERT OR REPLACE INTO media_files ({MEDIA_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                ))
                .map_err(e)?;
            for r in records {
                ins.execute(params![
                    r.platform,
                    r.post_id,
                    r.url,
                    r.sha256,
                    r.pdq,
                    r.quality,
                    r.width,
                    r.height,
                    r.c2pa,
                    r.xmp_source_type,
                    r.scanned_ms
                ])
                .map_err(e)?;
            }
        }
        tx.commit().map_err(e)?;
        Ok(records.len() as u64)
    }

    fn media_of_post(&self, platform: &str, post_id: &str) -> Result<Vec<MediaRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {MEDIA_COLUMNS} FROM media_files WHERE platform = ?1 AND post_id = ?2 ORDER BY url"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![platform, post_id], media_row)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    fn media_records(&self) -> Result<Vec<MediaRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {MEDIA_COLUMNS} FROM media_files ORDER BY platform, post_id, url"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], media_row).map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }
}
