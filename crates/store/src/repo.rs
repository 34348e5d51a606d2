//! The repositories: what each part of Pharos keeps in the store, as typed
//! records behind traits that every backend implements ([`SqliteStore`]
//! today; PostgreSQL next). Callers take `&impl Trait` / `&dyn Trait`, never
//! a backend, and never see SQL.
//!
//! Records that hold a JSON document of another crate's type (an incident,
//! a STIX object) carry it as text: the store keeps it whole and does not
//! depend on the crate that defines it.
//!
//! [`SqliteStore`]: crate::SqliteStore

use crate::StoreError;
use pharos_core::Post;
use std::ops::ControlFlow;

// ------------------------------------------------------------ claim matches

/// One stored match of a post against a fact-checked claim.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredMatch {
    pub platform: String,
    pub post_id: String,
    pub claim_id: String,
    pub score: f64,
    pub confidence: f64,
}

/// A post's matches, replacing what was stored for it.
#[derive(Debug, Clone, Default)]
pub struct PostMatches {
    pub platform: String,
    pub post_id: String,
    /// `(claim_id, score, confidence)`.
    pub matches: Vec<(String, f64, f64)>,
}

/// Claim matches of stored posts (`pharos claims match --store`).
pub trait ClaimMatches {
    /// Replaces the matches of each post in `posts` (one transaction);
    /// returns the rows written. Takes `&self` so it can be called while a
    /// scan of the same store is running.
    fn replace_matches(&self, posts: &[PostMatches]) -> Result<u64, StoreError>;
    /// The matches of one post, most confident first.
    fn matches_of_post(
        &self,
        platform: &str,
        post_id: &str,
    ) -> Result<Vec<StoredMatch>, StoreError>;
    /// The posts that match one claim, most confident first.
    fn matches_of_claim(&self, claim_id: &str) -> Result<Vec<StoredMatch>, StoreError>;
    /// Every match with at least `min_confidence`, most confident first
    /// (then by platform, post id and claim id).
    fn matches_at_least(&self, min_confidence: f64) -> Result<Vec<StoredMatch>, StoreError>;
    /// Changes when matches are written: `(last row written, rows)`.
    fn matches_stamp(&self) -> Result<(i64, i64), StoreError>;
}

// ------------------------------------------------------------ incidents

/// A stored incident: the columns lists filter on and the incident as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentRecord {
    pub id: String,
    pub title: String,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub severity: f64,
    pub confidence: f64,
    pub model_version: i64,
    pub json: String,
}

/// Incidents (`pharos assess`, the server's live analysis).
pub trait Incidents {
    /// In one transaction: inserts or replaces `save` by id and deletes the
    /// incidents `delete` names (ids not stored are ignored; an id in both
    /// is saved). The server's live incidents save what a pass recomputed
    /// and delete what it no longer finds, leaving the frozen ones alone.
    fn update_incidents(
        &mut self,
        save: &[IncidentRecord],
        delete: &[String],
    ) -> Result<(), StoreError>;
    /// Inserts or replaces incidents by id, in one transaction (deletes
    /// nothing).
    fn save_incidents(&mut self, incidents: &[IncidentRecord]) -> Result<(), StoreError> {
        self.update_incidents(incidents, &[])
    }
    /// Every stored incident, by first-seen time then id.
    fn incidents(&self) -> Result<Vec<IncidentRecord>, StoreError>;
}

// ------------------------------------------------------------ responses

/// A response logged against a narrative (`pharos respond log`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResponseRecord {
    /// Given by the store ([`Responses::log_response`] ignores it).
    pub id: i64,
    pub narrative: u64,
    pub anchor_platform: Option<String>,
    pub anchor_post: Option<String>,
    pub label: Option<String>,
    pub who: String,
    pub at_ms: i64,
    pub channel: String,
    pub url: Option<String>,
    pub partner: Option<String>,
    pub note: Option<String>,
    pub logged_at_ms: i64,
}

/// Responses and their tracking.
pub trait Responses {
    /// Stores a response; returns its id.
    fn log_response(&mut self, r: &ResponseRecord) -> Result<i64, StoreError>;
    /// The responses of one narrative (all when `None`), oldest first.
    fn responses(&self, narrative: Option<u64>) -> Result<Vec<ResponseRecord>, StoreError>;
}

// ------------------------------------------------------------ DISARM

/// A DISARM tactic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisarmTactic {
    pub ta_id: String,
    pub name: String,
    pub shortname: String,
    pub description: Option<String>,
}

/// A DISARM technique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisarmTechnique {
    pub t_id: String,
    pub name: String,
    pub tactic_ids: Vec<String>,
    pub description: Option<String>,
}

/// What [`DisarmCatalogue::save_disarm`] did, by T-number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DisarmSaved {
    /// Techniques new to the store.
    pub added: u64,
    /// Techniques already stored whose name, tactics or description changed.
    pub updated: u64,
    /// Techniques already stored as they are.
    pub unchanged: u64,
    /// Tactics written (added or replaced).
    pub tactics: u64,
    /// Techniques in the store after the import (including ones from earlier
    /// imports that this one no longer has).
    pub stored: u64,
}

/// The DISARM catalogue imported by `pharos disarm import`.
pub trait DisarmCatalogue {
    /// Each tactic and technique replaces the stored one with the same TA-
    /// or T-number (others are kept), and the import is recorded; one
    /// transaction.
    fn save_disarm(
        &mut self,
        tactics: &[DisarmTactic],
        techniques: &[DisarmTechnique],
        source: &str,
        at_ms: i64,
    ) -> Result<DisarmSaved, StoreError>;
    /// The stored tactics and techniques (by id). A technique whose stored
    /// tactic list cannot be read is skipped and named in a warning.
    fn disarm(&self) -> Result<(Vec<DisarmTactic>, Vec<DisarmTechnique>), StoreError>;
}

// ------------------------------------------------------------ STIX import

/// A STIX object to keep, checked by the importer.
#[derive(Debug, Clone, PartialEq)]
pub struct StixObjectRecord {
    pub id: String,
    pub stix_type: String,
    pub key: Option<String>,
    pub name: Option<String>,
    pub modified: Option<String>,
    pub tlp: Option<String>,
    pub markings: Vec<String>,
    pub created_by_ref: Option<String>,
    /// The object as received.
    pub json: String,
}

/// A stored STIX object.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredStixObject {
    pub id: String,
    pub stix_type: String,
    pub key: Option<String>,
    pub name: Option<String>,
    pub tlp: Option<String>,
    pub markings: Vec<String>,
    pub source: String,
    pub json: String,
}

/// What the import of one object did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StixOutcome {
    Added,
    Updated,
    /// Stored already, and not older than the stored version.
    Unchanged,
}

/// One bundle's import.
#[derive(Clone, Default)]
pub struct StixImport<'a> {
    pub source: &'a str,
    pub bundle_id: Option<&'a str>,
    /// Objects in the bundle (kept, unchanged and rejected).
    pub objects: u64,
    pub rejected: u64,
    pub at_ms: i64,
    /// The audit rows of the request that sent the bundle, made from what
    /// happened to each object, appended to the audit chain in the
    /// import's transaction (both are stored, or neither).
    pub audit: Option<&'a StixAuditRows<'a>>,
    /// A TAXII POST's objects for its collection and its status resource,
    /// written in the import's transaction (the import, the inbox, the
    /// status and the audit rows are stored together, or none of them).
    pub inbox: Option<&'a TaxiiInbox<'a>>,
}

/// What a TAXII POST adds beside the STIX import ([`StixImport::inbox`]).
#[derive(Clone, Debug)]
pub struct TaxiiInbox<'a> {
    pub collection: &'a str,
    pub objects: &'a [crate::taxii::NewObject<'a>],
    /// The status resource: its id and JSON.
    pub status_id: &'a str,
    pub status_json: &'a str,
}

/// Makes the audit rows of a STIX import from what happened to each
/// object ([`StixImport::audit`]).
pub type StixAuditRows<'a> = dyn Fn(&[StixOutcome]) -> Vec<AuditRecord> + 'a;

impl std::fmt::Debug for StixImport<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StixImport")
            .field("source", &self.source)
            .field("bundle_id", &self.bundle_id)
            .field("objects", &self.objects)
            .field("rejected", &self.rejected)
            .field("at_ms", &self.at_ms)
            .field("audit", &self.audit.is_some())
            .field("inbox", &self.inbox)
            .finish()
    }
}

/// Partners' STIX objects (`pharos import stix`).
pub trait StixObjects {
    /// Stores `objects` (each replaces the stored object with its id when
    /// `newer(its modified, stored modified)`) and records the import; one
    /// transaction. Returns what happened to each object, in order.
    fn import_stix(
        &mut self,
        import: &StixImport<'_>,
        objects: &[StixObjectRecord],
        newer: &dyn Fn(Option<&str>, Option<&str>) -> bool,
    ) -> Result<Vec<StixOutcome>, StoreError>;
    /// Stored marking-definitions: id and TLP.
    fn stix_markings(&self) -> Result<Vec<(String, Option<String>)>, StoreError>;
    /// Stored objects of one type (all when `None`), by type then id.
    fn stix_objects(&self, stix_type: Option<&str>) -> Result<Vec<StoredStixObject>, StoreError>;
}

// ------------------------------------------------------------ posts by rowid

/// Posts by their storage sequence number (`rowid`: increasing in the
/// order posts were stored), for readers that follow the store as it
/// grows (the server's live analysis, narrative members). Unreadable
/// records are skipped and named.
pub trait PostLog {
    /// The highest sequence number stored (0 for an empty store).
    fn max_rowid(&self) -> Result<i64, StoreError>;
    /// The event time (ms) of the newest stored post dated at or before
    /// `at_most` (`None`: no such post); one walk of the time index.
    fn newest_time_ms(&self, at_most: i64) -> Result<Option<i64>, StoreError>;
    /// The highest post sequence number and ingest-run number: when neither
    /// moved, nothing was stored.
    fn write_stamp(&self) -> Result<(i64, i64), StoreError>;
    /// Up to `limit` posts stored after `after`, by sequence number.
    fn posts_after_rowid(&self, after: i64, limit: usize) -> Result<Vec<(i64, Post)>, StoreError>;
    /// Up to `limit` posts with sequence number at most `upto`, in event-time
    /// order (ties by sequence number), after the post `(time_ms, rowid)`.
    fn posts_in_time_order(
        &self,
        upto: i64,
        after: (i64, i64),
        limit: usize,
    ) -> Result<Vec<(i64, Post)>, StoreError>;
    /// The posts with these sequence numbers (absent ones are left out), in
    /// the order given.
    fn posts_by_rowid(&self, rowids: &[i64]) -> Result<Vec<(i64, Post)>, StoreError>;
    /// Visits the posts that reshare a post or carry a link, in event-time
    /// order (what share-based coordination reads).
    fn scan_shares(&self, visit: &mut dyn FnMut(Post) -> ControlFlow<()>)
    -> Result<(), StoreError>;
}

/// What a store holds of one account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActorSummary {
    pub posts: u64,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    /// `(language or "und", posts)`, most posts first.
    pub languages: Vec<(String, u64)>,
}

/// Look-ups by account.
pub trait Actors {
    /// The account's posts count, first and last time and languages.
    fn actor_summary(&self, platform: &str, actor_id: &str) -> Result<ActorSummary, StoreError>;
}

// ------------------------------------------------------------ media

/// A hashed media file that a stored post references (`pharos media scan`).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct MediaRecord {
    pub platform: String,
    pub post_id: String,
    /// The reference as the post gives it (`Media::url`: a path inside an
    /// export, relative to the scan's root).
    pub url: String,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    /// PDQ hash, 64 lowercase hex digits.
    pub pdq: String,
    /// PDQ quality, 0-100.
    pub quality: u8,
    pub width: u32,
    pub height: u32,
    /// The C2PA findings as JSON (`pharos media inspect`'s `c2pa` object),
    /// `None` when the file carries no manifest.
    pub c2pa: Option<String>,
    /// The unsigned XMP `DigitalSourceType`, when the file has one.
    pub xmp_source_type: Option<String>,
    pub scanned_ms: i64,
}

/// Hashes of the media files posts reference.
pub trait MediaHashes {
    /// Inserts or replaces records by `(platform, post_id, url)`, in one
    /// transaction; returns the rows written.
    fn save_media(&self, records: &[MediaRecord]) -> Result<u64, StoreError>;
    /// The records of one post, by reference.
    fn media_of_post(&self, platform: &str, post_id: &str) -> Result<Vec<MediaRecord>, StoreError>;
    /// Every record, by platform, post id and reference.
    fn media_records(&self) -> Result<Vec<MediaRecord>, StoreError>;
    /// Gives each media item of `posts` that has no hash the PDQ hash stored
    /// for it (as `pdq:` and the hex digits, see `Media::pdq`) when its
    /// quality is at least `min_quality` (PDQ hashes of flat pictures, below
    /// 50, collide); returns the items given one. Reads every stored record
    /// once.
    fn attach_media_hashes(&self, posts: &mut [Post], min_quality: u8) -> Result<u64, StoreError> {
        Ok(attach_hashes(&self.media_records()?, posts, min_quality))
    }
}

/// [`MediaHashes::attach_media_hashes`] from records already read: gives
/// each media item of `posts` without a hash the PDQ hash of its record
/// (same platform, post id and reference) when the record's quality is at
/// least `min_quality`; returns the items given one.
pub fn attach_hashes(records: &[MediaRecord], posts: &mut [Post], min_quality: u8) -> u64 {
    let by_ref: std::collections::HashMap<(&str, &str, &str), &str> = records
        .iter()
        .filter(|r| r.quality >= min_quality)
        .map(|r| {
            (
                (r.platform.as_str(), r.post_id.as_str(), r.url.as_str()),
                r.pdq.as_str(),
            )
        })
        .collect();
    if by_ref.is_empty() {
        return 0;
    }
    let mut n = 0;
    for p in posts {
        for m in &mut p.media {
            if m.hash.is_some() {
                continue;
            }
            if let Some(h) = by_ref.get(&(p.platform.as_str(), p.id.as_str(), m.url.as_str())) {
                m.hash = Some(format!("pdq:{h}"));
                n += 1;
            }
        }
    }
    n
}

// ------------------------------------------------------------ server

/// An API token as stored: only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: String,
    pub hash: String,
    pub role: String,
    pub org: Option<String>,
    pub name: String,
    pub created_ms: i64,
    pub revoked_ms: Option<i64>,
}

/// The server's API tokens.
pub trait Tokens {
    fn insert_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
        self.insert_token_audited(t, &[])
    }
    /// Inserts a token and appends `audit` to the audit chain in one
    /// transaction (both are stored, or neither).
    fn insert_token_audited(
        &self,
        t: &TokenRecord,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError>;
    /// Every token, newest first.
    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;
    /// Revokes a token (keeping an earlier revocation's time); false when
    /// no token has this id.
    fn revoke_token(&self, id: &str, at_ms: i64) -> Result<bool, StoreError> {
        self.revoke_token_audited(id, at_ms, &[])
    }
    /// Revokes a token and appends `audit` in one transaction; when no
    /// token has this id, nothing is written (false).
    fn revoke_token_audited(
        &self,
        id: &str,
        at_ms: i64,
        audit: &[AuditRecord],
    ) -> Result<bool, StoreError>;
    /// The unrevoked token with this hash.
    fn active_token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError>;
}

/// One row of the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditRecord {
    /// Given by the store.
    pub seq: i64,
    pub at_ms: i64,
    pub token: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub org: Option<String>,
    pub action: String,
    pub method: String,
    pub path: String,
    pub object: Option<String>,
    pub status: u16,
    pub detail: Option<String>,
    /// Given by the store: SHA-256 (hex) of the row's contents and the
    /// previous row's hash ([`audit_row_hash`]); `None` on rows written
    /// before the log was chained.
    pub hash: Option<String>,
}

/// The hash of audit row `r` (its `seq` and contents, not its own `hash`)
/// chained to `prev`, the hash of the row before it (`""` for the first
/// chained row): SHA-256 over the JSON array of `prev` and the columns.
pub fn audit_row_hash(prev: &str, r: &AuditRecord) -> String {
    use sha2::{Digest, Sha256};
    let canonical = serde_json::json!([
        prev, r.seq, r.at_ms, r.token, r.name, r.role, r.org, r.action, r.method, r.path, r.object,
        r.status, r.detail
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// What [`Audit::verify_audit`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditCheck {
    /// Rows read.
    pub rows: u64,
    /// Rows written before the log was chained (no hash), all before the
    /// first chained row.
    pub unchained: u64,
    /// The last row: its `seq` and hash (note it down: a log cut after it
    /// shows as a shorter log with an older head).
    pub head: Option<(i64, String)>,
    /// The first row that breaks the chain, and why.
    pub broken: Option<(i64, String)>,
}

impl AuditCheck {
    /// Checks the next row of the log, read in `seq` order; `false` when it
    /// breaks the chain (recorded in [`AuditCheck::broken`]: stop reading).
    /// Every backend's [`Audit::verify_audit`] feeds its rows through this.
    pub fn push(&mut self, row: AuditRecord) -> bool {
        self.rows += 1;
        let seq = row.seq;
        let broken = match (&row.hash, &self.head) {
            (None, None) => {
                self.unchained += 1;
                None
            }
            (None, Some(_)) => {
                Some("has no hash, after chained rows: it was not written by Pharos".to_string())
            }
            (Some(h), prev) => {
                let expected = audit_row_hash(
                    prev.as_ref().map_or("", |(_, h)| h.as_str()),
                    &AuditRecord {
                        hash: None,
                        ..row.clone()
                    },
                );
                if let Some((ps, _)) = prev
                    && seq != ps + 1
                {
                    Some(format!(
                        "follows row {ps}: rows {} to {} are missing (deleted)",
                        ps + 1,
                        seq - 1
                    ))
                } else if *h != expected {
                    Some(
                        "its hash does not match its contents and the row before: it was changed, or inserted"
                            .to_string(),
                    )
                } else {
                    None
                }
            }
        };
        if let Some(why) = broken {
            self.broken = Some((seq, why));
            return false;
        }
        if let Some(h) = row.hash {
            self.head = Some((seq, h));
        }
        true
    }
}

/// The append-only audit log (the store refuses updates and deletes), each
/// row chained to the one before by a hash.
pub trait Audit {
    /// Appends entries in one transaction, each chained to the row before.
    fn append_audit(&self, entries: &[AuditRecord]) -> Result<(), StoreError>;
    /// The newest entries first, at most `limit`, before sequence `before`.
    fn audit(&self, limit: usize, before: Option<i64>) -> Result<Vec<AuditRecord>, StoreError>;
    /// Reads the whole log in order and checks every row's hash against
    /// its contents and the row before (`pharos audit verify`).
    fn verify_audit(&self) -> Result<AuditCheck, StoreError>;
}

/// A TLP marking an admin set on an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarkingRecord {
    pub tlp: String,
    pub orgs: Vec<String>,
    pub people: Vec<String>,
}

impl MarkingRecord {
    /// A marking from its stored columns: the TLP and the organisations and
    /// people as JSON lists (an unreadable list reads as empty). Both
    /// backends store markings this way.
    pub fn from_columns(tlp: String, orgs: &str, people: &str) -> MarkingRecord {
        MarkingRecord {
            tlp,
            orgs: serde_json::from_str(orgs).unwrap_or_default(),
            people: serde_json::from_str(people).unwrap_or_default(),
        }
    }
}

/// Objects' TLP markings, by kind (`narrative`, `post`, ...) and id.
pub trait Markings {
    fn marking(&self, kind: &str, id: &str) -> Result<Option<MarkingRecord>, StoreError>;
    fn markings_of_kind(&self, kind: &str) -> Result<Vec<(String, MarkingRecord)>, StoreError>;
    /// Sets (or replaces) an object's marking.
    fn set_marking(&self, kind: &str, id: &str, m: &MarkingRecord) -> Result<(), StoreError> {
        self.set_marking_audited(kind, id, m, &[])
    }
    /// Sets a marking and appends `audit` to the audit chain in one
    /// transaction (both are stored, or neither).
    fn set_marking_audited(
        &self,
        kind: &str,
        id: &str,
        m: &MarkingRecord,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError>;
}

/// The posts' full-text index (filled in the background by the server's
/// writer, whatever stored the posts).
pub trait TextIndex {
    /// Indexes up to `chunk` posts stored after the last indexed one, in
    /// one transaction; returns `(posts indexed, highest indexed rowid,
    /// highest stored rowid)`.
    fn index_text(&mut self, chunk: i64) -> Result<(i64, i64, i64), StoreError>;
    /// The highest post sequence number indexed so far.
    fn indexed_rowid(&self) -> Result<i64, StoreError>;
}
