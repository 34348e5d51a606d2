//! The repositories of [`crate::repo`] on PostgreSQL.

use super::{PgStore, column};
use crate::StoreError;
use crate::repo::*;
use ::postgres::Row;
use ::postgres::types::ToSql;

fn match_row(r: &Row) -> StoredMatch {
    StoredMatch {
        platform: r.get(0),
        post_id: r.get(1),
        claim_id: r.get(2),
        score: r.get(3),
        confidence: r.get(4),
    }
}

impl PgStore {
    fn matches_where(
        &self,
        where_sql: &str,
        args: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<StoredMatch>, StoreError> {
        let q = format!(
            "SELECT platform, post_id, claim_id, score, confidence FROM claim_matches {where_sql}
             ORDER BY confidence DESC, platform, post_id, claim_id"
        );
        Ok(self.query(&q, args)?.iter().map(match_row).collect())
    }
}

impl ClaimMatches for PgStore {
    fn replace_matches(&self, posts: &[PostMatches]) -> Result<u64, StoreError> {
        let mut c = self.conn();
        let e = |err| self.err(err);
        let mut tx = c.client.transaction().map_err(e)?;
        let del = tx
            .prepare("DELETE FROM claim_matches WHERE platform = $1 AND post_id = $2")
            .map_err(e)?;
        let ins = tx
            .prepare(
                "INSERT INTO claim_matches (platform, post_id, claim_id, score, confidence)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (pharos_key(platform), pharos_key(post_id), pharos_key(claim_id))
                 DO UPDATE SET score = excluded.score,
                    confidence = excluded.confidence, seq = DEFAULT",
            )
            .map_err(e)?;
        let mut n = 0;
        for p in posts {
            let (pl, id) = (column(&p.platform), column(&p.post_id));
            tx.execute(&del, &[&pl, &id]).map_err(e)?;
            for (claim, score, confidence) in &p.matches {
                tx.execute(&ins, &[&pl, &id, &column(claim), score, confidence])
                    .map_err(e)?;
                n += 1;
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
            "WHERE platform = $1 AND post_id = $2",
            &[&column(platform), &column(post_id)],
        )
    }

    fn matches_of_claim(&self, claim_id: &str) -> Result<Vec<StoredMatch>, StoreError> {
        self.matches_where("WHERE claim_id = $1", &[&column(claim_id)])
    }

    fn matches_at_least(&self, min_confidence: f64) -> Result<Vec<StoredMatch>, StoreError> {
        self.matches_where("WHERE confidence >= $1", &[&min_confidence])
    }

    fn matches_stamp(&self) -> Result<(i64, i64), StoreError> {
        let rows = self.query(
            "SELECT COALESCE(MAX(seq), 0)::BIGINT, COUNT(*) FROM claim_matches",
            &[],
        )?;
        Ok((rows[0].get(0), rows[0].get(1)))
    }
}

impl Incidents for PgStore {
    fn update_incidents(
        &mut self,
        save: &[IncidentRecord],
        delete: &[String],
    ) -> Result<(), StoreError> {
        self.write_incidents(save, delete)
    }

    fn incidents(&self) -> Result<Vec<IncidentRecord>, StoreError> {
        let rows = self.query(
            "SELECT id, title, first_seen_ms, last_seen_ms, severity, confidence, model_version, json
             FROM incidents ORDER BY first_seen_ms, id",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| IncidentRecord {
                id: r.get(0),
                title: r.get(1),
                first_seen_ms: r.get(2),
                last_seen_ms: r.get(3),
                severity: r.get(4),
                confidence: r.get(5),
                model_version: r.get(6),
                json: r.get(7),
            })
            .collect())
    }
}

impl PgStore {
    fn write_incidents(
        &self,
        incidents: &[IncidentRecord],
        delete: &[String],
    ) -> Result<(), StoreError> {
        let mut c = self.conn();
        let e = |err| self.err(err);
        let mut tx = c.client.transaction().map_err(e)?;
        let saved: std::collections::HashSet<&str> =
            incidents.iter().map(|i| i.id.as_str()).collect();
        let gone: Vec<String> = delete
            .iter()
            .filter(|id| !saved.contains(id.as_str()))
            .map(|id| column(id).into_owned())
            .collect();
        if !gone.is_empty() {
            tx.execute("DELETE FROM incidents WHERE id = ANY($1)", &[&gone])
                .map_err(e)?;
        }
        let stmt = tx
            .prepare(
                "INSERT INTO incidents (id, title, first_seen_ms, last_seen_ms, severity,
                    confidence, model_version, json)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (id) DO UPDATE SET title = excluded.title,
                    first_seen_ms = excluded.first_seen_ms, last_seen_ms = excluded.last_seen_ms,
                    severity = excluded.severity, confidence = excluded.confidence,
                    model_version = excluded.model_version, json = excluded.json",
            )
            .map_err(e)?;
        for i in incidents {
            tx.execute(
                &stmt,
                &[
                    &column(&i.id),
                    &column(&i.title),
                    &i.first_seen_ms,
                    &i.last_seen_ms,
                    &i.severity,
                    &i.confidence,
                    &i.model_version,
                    &column(&i.json),
                ],
            )
            .map_err(e)?;
        }
        tx.commit().map_err(e)
    }
}

impl Responses for PgStore {
    fn log_response(&mut self, r: &ResponseRecord) -> Result<i64, StoreError> {
        let rows = self.query(
            "INSERT INTO responses (narrative, anchor_platform, anchor_post, label, who, at_ms, channel, url, partner, note, logged_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            &[
                &(r.narrative as i64),
                &r.anchor_platform.as_deref().map(column),
                &r.anchor_post.as_deref().map(column),
                &r.label.as_deref().map(column),
                &column(&r.who),
                &r.at_ms,
                &column(&r.channel),
                &r.url.as_deref().map(column),
                &r.partner.as_deref().map(column),
                &r.note.as_deref().map(column),
                &r.logged_at_ms,
            ],
        )?;
        Ok(rows[0].get(0))
    }

    fn responses(&self, narrative: Option<u64>) -> Result<Vec<ResponseRecord>, StoreError> {
        let rows = self.query(
            "SELECT id, narrative, anchor_platform, anchor_post, label, who, at_ms, channel, url, partner, note, logged_at_ms
             FROM responses WHERE $1::BIGINT IS NULL OR narrative = $1 ORDER BY at_ms, id",
            &[&narrative.map(|n| n as i64)],
        )?;
        Ok(rows
            .iter()
            .map(|r| ResponseRecord {
                id: r.get(0),
                narrative: r.get::<_, i64>(1) as u64,
                anchor_platform: r.get(2),
                anchor_post: r.get(3),
                label: r.get(4),
                who: r.get(5),
                at_ms: r.get(6),
                channel: r.get(7),
                url: r.get(8),
                partner: r.get(9),
                note: r.get(10),
                logged_at_ms: r.get(11),
            })
            .collect())
    }
}

impl DisarmCatalogue for PgStore {
    fn save_disarm(
        &mut self,
        tactics: &[DisarmTactic],
        techniques: &[DisarmTechnique],
        source: &str,
        at_ms: i64,
    ) -> Result<DisarmSaved, StoreError> {
        let mut c = self.conn();
        let e = |err| self.err(err);
        let mut counts = DisarmSaved::default();
        let mut tx = c.client.transaction().map_err(e)?;
        let put_tactic = tx
            .prepare(
                "INSERT INTO disarm_tactics (ta_id, name, shortname, description) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (ta_id) DO UPDATE SET name = excluded.name,
                   shortname = excluded.shortname, description = excluded.description",
            )
            .map_err(e)?;
        for t in tactics {
            tx.execute(
                &put_tactic,
                &[
                    &column(&t.ta_id),
                    &column(&t.name),
                    &column(&t.shortname),
                    &t.description.as_deref().map(column),
                ],
            )
            .map_err(e)?;
            counts.tactics += 1;
        }
        let get = tx
            .prepare("SELECT name, tactic_ids, description FROM disarm_techniques WHERE t_id = $1 FOR UPDATE")
            .map_err(e)?;
        let put = tx
            .prepare(
                "INSERT INTO disarm_techniques (t_id, name, tactic_ids, description, imported_ms)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (t_id) DO UPDATE SET name = excluded.name, tactic_ids = excluded.tactic_ids,
                   description = excluded.description, imported_ms = excluded.imported_ms",
            )
            .map_err(e)?;
        for t in techniques {
            let ids = serde_json::to_string(&t.tactic_ids).unwrap_or_else(|_| "[]".into());
            let (name, ids, description) = (
                column(&t.name),
                column(&ids),
                t.description.as_deref().map(column),
            );
            let old = tx.query_opt(&get, &[&column(&t.t_id)]).map_err(e)?;
            match old {
                None => counts.added += 1,
                Some(r)
                    if r.get::<_, &str>(0) == name
                        && r.get::<_, &str>(1) == ids
                        && r.get::<_, Option<&str>>(2) == description.as_deref() =>
                {
                    counts.unchanged += 1
                }
                Some(_) => counts.updated += 1,
            }
            tx.execute(&put, &[&column(&t.t_id), &name, &ids, &description, &at_ms])
                .map_err(e)?;
        }
        tx.execute(
            "INSERT INTO disarm_imports (source, techniques, tactics, at_ms) VALUES ($1, $2, $3, $4)",
            &[
                &column(source),
                &(techniques.len() as i64),
                &(tactics.len() as i64),
                &at_ms,
            ],
        )
        .map_err(e)?;
        counts.stored = tx
            .query_one("SELECT COUNT(*) FROM disarm_techniques", &[])
            .map_err(e)?
            .get::<_, i64>(0) as u64;
        tx.commit().map_err(e)?;
        Ok(counts)
    }

    fn disarm(&self) -> Result<(Vec<DisarmTactic>, Vec<DisarmTechnique>), StoreError> {
        let tactics = self
            .query(
                "SELECT ta_id, name, shortname, description FROM disarm_tactics ORDER BY ta_id",
                &[],
            )?
            .iter()
            .map(|r| DisarmTactic {
                ta_id: r.get(0),
                name: r.get(1),
                shortname: r.get(2),
                description: r.get(3),
            })
            .collect();
        let rows = self.query(
            "SELECT t_id, name, tactic_ids, description FROM disarm_techniques ORDER BY t_id",
            &[],
        )?;
        let mut techniques = Vec::new();
        for r in rows {
            let (t_id, name, ids, description): (String, String, &str, Option<String>) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            match serde_json::from_str::<Vec<String>>(ids) {
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

impl StixObjects for PgStore {
    fn import_stix(
        &mut self,
        import: &StixImport<'_>,
        objects: &[StixObjectRecord],
        newer: &dyn Fn(Option<&str>, Option<&str>) -> bool,
    ) -> Result<Vec<StixOutcome>, StoreError> {
        let mut c = self.conn();
        let e = |err| self.err(err);
        let mut tx = c.client.transaction().map_err(e)?;
        let get = tx
            .prepare("SELECT modified FROM stix_objects WHERE id = $1 FOR UPDATE")
            .map_err(e)?;
        let put = tx
            .prepare(
                "INSERT INTO stix_objects (id, type, key, name, modified, tlp, markings,
                    created_by_ref, source, imported_ms, json)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (id) DO UPDATE SET type = excluded.type, key = excluded.key,
                    name = excluded.name, modified = excluded.modified, tlp = excluded.tlp,
                    markings = excluded.markings, created_by_ref = excluded.created_by_ref,
                    source = excluded.source, imported_ms = excluded.imported_ms,
                    json = excluded.json",
            )
            .map_err(e)?;
        let mut out = Vec::with_capacity(objects.len());
        let (mut added, mut updated, mut unchanged) = (0i64, 0i64, 0i64);
        for o in objects {
            let id = column(&o.id);
            let old = tx.query_opt(&get, &[&id]).map_err(e)?;
            let outcome = match &old {
                Some(r) if !newer(o.modified.as_deref(), r.get::<_, Option<&str>>(0)) => {
                    StixOutcome::Unchanged
                }
                Some(_) => StixOutcome::Updated,
                None => StixOutcome::Added,
            };
            if outcome != StixOutcome::Unchanged {
                let markings = serde_json::to_string(&o.markings).unwrap_or_else(|_| "[]".into());
                tx.execute(
                    &put,
                    &[
                        &id,
                        &column(&o.stix_type),
                        &o.key.as_deref().map(column),
                        &o.name.as_deref().map(column),
                        &o.modified.as_deref().map(column),
                        &o.tlp.as_deref().map(column),
                        &column(&markings),
                        &o.created_by_ref.as_deref().map(column),
                        &column(import.source),
                        &import.at_ms,
                        &column(&o.json),
                    ],
                )
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &column(import.source),
                &import.bundle_id.map(column),
                &(import.objects as i64),
                &added,
                &updated,
                &unchanged,
                &(import.rejected as i64),
                &import.at_ms,
            ],
        )
        .map_err(e)?;
        if let Some(i) = import.inbox {
            super::taxii::insert_objects(&mut tx, i.collection, i.objects).map_err(e)?;
            super::taxii::insert_status(&mut tx, i.status_id, i.status_json).map_err(e)?;
        }
        if let Some(rows) = import.audit {
            super::server::append_audit_rows(&mut tx, &rows(&out)).map_err(e)?;
        }
        tx.commit().map_err(e)?;
        Ok(out)
    }

    fn stix_markings(&self) -> Result<Vec<(String, Option<String>)>, StoreError> {
        Ok(self
            .query(
                "SELECT id, tlp FROM stix_objects WHERE type = 'marking-definition'",
                &[],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn stix_objects(&self, stix_type: Option<&str>) -> Result<Vec<StoredStixObject>, StoreError> {
        let rows = self.query(
            "SELECT id, type, key, name, tlp, markings, source, json FROM stix_objects
             WHERE $1::TEXT IS NULL OR type = $1 ORDER BY type, id",
            &[&stix_type.map(column)],
        )?;
        Ok(rows
            .iter()
            .map(|r| StoredStixObject {
                id: r.get(0),
                stix_type: r.get(1),
                key: r.get(2),
                name: r.get(3),
                tlp: r.get(4),
                markings: serde_json::from_str(r.get(5)).unwrap_or_default(),
                source: r.get(6),
                json: r.get(7),
            })
            .collect())
    }
}
