//! Partners' STIX 2.1 bundles → the store (component `stix_import`).
//!
//! Every object is checked on its own; a bad one is rejected with a reason
//! naming the file and the object (and written to the store's quarantine),
//! and the rest of the bundle is imported. Objects are kept whole (their
//! JSON as received) with the columns look-ups need: type, a key (the
//! T-number of an attack-pattern, the value of a url or domain-name, the
//! account of a user-account, the pattern of an indicator), name, and their
//! markings: the marking ids as received and the most restrictive TLP among
//! them (TLP 2.0 ids, and TLP 1.0 ids with WHITE read as CLEAR).
//!
//! STIX versioning decides what a re-import does: an object replaces the
//! stored one with the same id only when its `modified` is later.

use crate::stix::ids::parse_id;
use crate::stix::tlp::Tlp;
use pharos_assess::disarm::is_t_number;
use pharos_core::EventTime;
use pharos_core::now_ms;
use pharos_ingest::Rejection;
use pharos_ingest::quarantine::Quarantine;
use pharos_store::{
    AnyStore, AuditRecord, RunRecord, StixImport, StixObjectRecord, StixObjects, StixOutcome, Store,
};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// STIX 2.1 object types, and OpenCTI's narrative and channel.
const KNOWN_TYPES: &[&str] = &[
    // SDOs
    "attack-pattern",
    "campaign",
    "course-of-action",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "location",
    "malware",
    "malware-analysis",
    "note",
    "observed-data",
    "opinion",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
    // SROs
    "relationship",
    "sighting",
    // SCOs
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
    // meta
    "marking-definition",
    "language-content",
    "extension-definition",
    // OpenCTI new-sdo objects
    "narrative",
    "channel",
    "x-opencti-narrative",
    "x-opencti-channel",
];

const SCO_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

/// Why a whole file could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: {reason}")]
    File { file: String, reason: String },
    #[error("store: {0}")]
    Store(#[from] pharos_store::StoreError),
}

/// What importing one file did.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct FileReport {
    pub file: String,
    pub bundle_id: Option<String>,
    /// Objects in the bundle.
    pub objects: u64,
    /// New to the store.
    pub added: u64,
    /// Newer versions (later `modified`) of stored objects.
    pub updated: u64,
    /// Already stored at this version or a later one.
    pub unchanged: u64,
    /// Rejected (see `rejections`).
    pub rejected: u64,
    /// Kept objects by type.
    pub by_type: BTreeMap<String, u64>,
    /// Kept objects by TLP (`unmarked` when none).
    pub by_tlp: BTreeMap<String, u64>,
    /// `object id (or #n): reason`, one per rejected object.
    pub rejections: Vec<String>,
}

/// Imports bundles into the store, keeping a quarantine of rejected objects.
pub struct Importer<'a> {
    store: &'a mut AnyStore,
    quarantine: Quarantine,
    started_ms: i64,
    sources: Vec<String>,
    totals: FileReport,
    audit: Option<AuditHook<'a>>,
    inbox: Option<InboxHook<'a>>,
}

/// A TAXII POST's collection rows and status resource, made from the
/// bundle's rejections ([`Importer::inbox_with`]).
#[derive(Clone, Debug, Default)]
pub struct Inbox {
    pub collection: String,
    pub objects: Vec<InboxObject>,
    pub status_id: String,
    pub status_json: String,
}

/// One object version for a TAXII collection
/// ([`pharos_store::taxii::NewObject`], owned).
#[derive(Clone, Debug, Default)]
pub struct InboxObject {
    pub id: String,
    pub version: String,
    pub scope: String,
    pub stix_type: String,
    pub spec_version: String,
    pub json: String,
}

/// Makes a TAXII POST's rows from the bundle's rejections (`object id (or
/// object #n): reason`, in the order of the bundle).
type InboxHook<'a> = Box<dyn FnOnce(&[String]) -> Inbox + Send + 'a>;

/// Makes the audit rows of a bundle's import from its counts
/// ([`Importer::audit_with`]).
type AuditHook<'a> = Box<dyn Fn(&FileReport) -> Vec<AuditRecord> + Send + 'a>;

/// A checked object, ready to store.
struct Checked {
    id: String,
    ty: String,
    key: Option<String>,
    name: Option<String>,
    modified: Option<String>,
    tlp: Option<Tlp>,
    markings: Vec<String>,
    created_by_ref: Option<String>,
}

fn s<'v>(o: &'v Value, k: &str) -> Option<&'v str> {
    o.get(k).and_then(Value::as_str)
}

fn stix_time(o: &Value, k: &str) -> Result<Option<String>, String> {
    match o.get(k) {
        None => Ok(None),
        Some(Value::String(t)) => {
            let ok = t.contains('T') && t.ends_with('Z') && EventTime::parse(t).is_ok();
            if ok {
                Ok(Some(t.clone()))
            } else {
                Err(format!(
                    "bad timestamp {t:?} in `{k}` (STIX wants RFC 3339 in UTC, e.g. 2024-05-01T12:00:00.000Z)"
                ))
            }
        }
        Some(v) => Err(format!("`{k}` is not a timestamp string: {v}")),
    }
}

/// The T-number (or other ATT&CK-style id) of an attack-pattern.
fn technique_key(o: &Value) -> Option<String> {
    let refs = o.get("external_references")?.as_array()?;
    let ids: Vec<&str> = refs
        .iter()
        .filter(|r| {
            matches!(
                s(r, "source_name"),
                Some("DISARM" | "disarm" | "mitre-attack")
            )
        })
        .filter_map(|r| s(r, "external_id"))
        .collect();
    ids.iter()
        .find(|i| is_t_number(i))
        .or(ids.first())
        .map(|i| i.to_string())
        .or_else(|| s(o, "x_mitre_id").map(str::to_string))
}

/// Checks one object; `markings` are the marking-definitions the bundle
/// (and the store) define, with their TLP level when they are TLP markings.
fn check(o: &Value, markings: &HashMap<String, Option<Tlp>>) -> Result<Checked, String> {
    let Some(obj) = o.as_object() else {
        return Err("not a JSON object".into());
    };
    let ty = match obj.get("type") {
        Some(Value::String(t)) => t.clone(),
        _ => return Err("no `type`".into()),
    };
    let id = match obj.get("id") {
        Some(Value::String(i)) => i.clone(),
        _ => return Err(format!("{ty} object without an `id`")),
    };
    match parse_id(&id) {
        Some((t, _)) if t == ty => {}
        Some((t, _)) => return Err(format!("id {id} names type {t:?} but the object is {ty:?}")),
        None => return Err(format!("malformed id {id:?} (STIX wants <type>--<UUID>)")),
    }
    if !KNOWN_TYPES.contains(&ty.as_str()) {
        return Err(format!(
            "unknown object type {ty:?} (not a STIX 2.1 type Pharos imports)"
        ));
    }
    let sco = SCO_TYPES.contains(&ty.as_str());
    match s(o, "spec_version") {
        Some("2.1") => {}
        None if sco => {}
        None => return Err("no `spec_version` (Pharos imports STIX 2.1)".into()),
        Some(v) => return Err(format!("spec_version {v:?} (Pharos imports STIX 2.1)")),
    }
    let created = stix_time(o, "created")?;
    let modified = stix_time(o, "modified")?;
    if !sco && ty != "marking-definition" && (created.is_none() || modified.is_none()) {
        return Err("no `created` or `modified` timestamp".into());
    }

    // Markings.
    let mut marks = Vec::new();
    let mut tlp: Option<Tlp> = None;
    match o.get("object_marking_refs") {
        None => {}
        Some(Value::Array(a)) => {
            for m in a {
                let Some(m) = m.as_str() else {
                    return Err(format!(
                        "bad marking: object_marking_refs holds {m}, not an id"
                    ));
                };
                if !m.starts_with("marking-definition--") || parse_id(m).is_none() {
                    return Err(format!("bad marking: {m:?} is not a marking-definition id"));
                }
                let level = match Tlp::from_marking_id(m) {
                    Some(l) => Some(l),
                    None => match markings.get(m) {
                        Some(l) => *l,
                        None => {
                            return Err(format!(
                                "bad marking: {m} is neither a TLP marking nor defined in the bundle"
                            ));
                        }
                    },
                };
                if let Some(l) = level {
                    tlp = Some(tlp.map_or(l, |t| t.max(l)));
                }
                marks.push(m.to_string());
            }
        }
        Some(v) => {
            return Err(format!(
                "bad marking: object_marking_refs is {v}, not a list"
            ));
        }
    }

    // What each kept type must have, and its look-up key.
    let name = s(o, "name").map(str::to_string);
    let key = match ty.as_str() {
        "attack-pattern" => {
            if name.is_none() {
                return Err("attack-pattern without a `name`".into());
            }
            technique_key(o)
        }
        "indicator" => {
            let p = s(o, "pattern").ok_or("indicator without a `pattern`")?;
            if s(o, "pattern_type").is_none() {
                return Err("indicator without a `pattern_type`".into());
            }
            stix_time(o, "valid_from")?.ok_or("indicator without `valid_from`")?;
            Some(p.to_string())
        }
        "url" | "domain-name" => Some(
            s(o, "value")
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("{ty} without a `value`"))?
                .to_string(),
        ),
        "user-account" => {
            let uid = s(o, "user_id").or_else(|| s(o, "account_login"));
            let uid = uid.ok_or("user-account without `user_id` or `account_login`")?;
            Some(match s(o, "account_type") {
                Some(t) => format!("{t}:{uid}"),
                None => uid.to_string(),
            })
        }
        "incident"
        | "campaign"
        | "intrusion-set"
        | "identity"
        | "narrative"
        | "channel"
        | "x-opencti-narrative"
        | "x-opencti-channel" => {
            if name.is_none() {
                return Err(format!("{ty} without a `name`"));
            }
            name.clone()
        }
        "marking-definition" => {
            if let Some(level) = Tlp::from_marking_definition(o) {
                let level = level.map_err(|e| format!("bad marking: {e}"))?;
                if let Some(by_id) = Tlp::from_marking_id(&id)
                    && by_id != level
                {
                    return Err(format!(
                        "bad marking: {id} is {} but the object says {}",
                        by_id.label(),
                        level.label()
                    ));
                }
                tlp = Some(level);
            }
            name.clone()
        }
        "relationship" => {
            for k in ["source_ref", "target_ref", "relationship_type"] {
                if s(o, k).is_none() {
                    return Err(format!("relationship without `{k}`"));
                }
            }
            s(o, "relationship_type").map(str::to_string)
        }
        "sighting" => Some(
            s(o, "sighting_of_ref")
                .ok_or("sighting without `sighting_of_ref`")?
                .to_string(),
        ),
        _ => name.clone(),
    };
    Ok(Checked {
        id,
        ty,
        key,
        name,
        modified: modified.or(created),
        tlp,
        markings: marks,
        created_by_ref: s(o, "created_by_ref").map(str::to_string),
    })
}

fn raw_of(v: &Value) -> String {
    let mut r = v.to_string();
    if r.len() > 65536 {
        let mut cut = 65536;
        while !r.is_char_boundary(cut) {
            cut -= 1;
        }
        r.truncate(cut);
    }
    r
}

impl<'a> Importer<'a> {
    /// Prepares the store's `stix_import` tables.
    pub fn new(store: &'a mut AnyStore) -> Result<Self, ImportError> {
        let quarantine = Quarantine::new(store.quarantine_path());
        Ok(Importer {
            store,
            quarantine,
            started_ms: now_ms(),
            sources: Vec::new(),
            totals: FileReport::default(),
            audit: None,
            inbox: None,
        })
    }

    /// The next bundle's import appends the audit rows `rows` makes from
    /// its report (bundle id, objects added, updated, unchanged and
    /// quarantined) in the same transaction as its objects: both are
    /// stored, or neither (issue 14, finding 10). Once, for the next
    /// bundle.
    pub fn audit_with(
        &mut self,
        rows: impl Fn(&FileReport) -> Vec<AuditRecord> + Send + 'a,
    ) -> &mut Self {
        self.audit = Some(Box::new(rows));
        self
    }

    /// The next bundle's import also writes the TAXII collection rows and
    /// status resource `rows` makes from its rejections, in the same
    /// transaction as its objects and audit rows: the server's TAXII inbox
    /// (a crash leaves all of them, or none). Once, for the next bundle.
    pub fn inbox_with(&mut self, rows: impl FnOnce(&[String]) -> Inbox + Send + 'a) -> &mut Self {
        self.inbox = Some(Box::new(rows));
        self
    }

    /// Imports one bundle file. A file that cannot be read or is not a STIX
    /// bundle is an error (nothing from it is stored); bad objects inside a
    /// bundle are rejected one by one.
    pub fn import_file(&mut self, path: &Path) -> Result<FileReport, ImportError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| ImportError::File {
            file: file.clone(),
            reason: format!("cannot read: {e}"),
        })?;
        self.import_bytes(&bytes, &file)
    }

    /// Imports one bundle held in memory; `source` names it in reports.
    pub fn import_bytes(&mut self, bytes: &[u8], source: &str) -> Result<FileReport, ImportError> {
        let file_err = |reason: String| ImportError::File {
            file: source.to_string(),
            reason,
        };
        let v: Value =
            serde_json::from_slice(bytes).map_err(|e| file_err(format!("not JSON: {e}")))?;
        if s(&v, "type") != Some("bundle") {
            return Err(file_err(format!(
                "not a STIX bundle (its \"type\" is {})",
                v.get("type").map_or("missing".into(), |t| t.to_string())
            )));
        }
        let objects = v
            .get("objects")
            .and_then(Value::as_array)
            .ok_or_else(|| file_err("the bundle has no \"objects\" list".into()))?;
        self.sources.push(source.to_string());
        let mut rep = FileReport {
            file: source.to_string(),
            bundle_id: s(&v, "id").map(str::to_string),
            objects: objects.len() as u64,
            ..Default::default()
        };

        // Marking-definitions first: objects may name them in any order.
        let mut markings: HashMap<String, Option<Tlp>> = self.stored_markings()?;
        for o in objects {
            if s(o, "type") == Some("marking-definition")
                && let Some(id) = s(o, "id")
                && let Ok(c) = check(o, &HashMap::new())
            {
                markings.insert(id.to_string(), c.tlp);
            }
        }

        let at = now_ms();
        let mut rejected: Vec<(usize, String, &Value)> = Vec::new();
        let mut kept: Vec<StixObjectRecord> = Vec::new();
        for (i, o) in objects.iter().enumerate() {
            match check(o, &markings) {
                Ok(c) => kept.push(StixObjectRecord {
                    id: c.id,
                    stix_type: c.ty,
                    key: c.key,
                    name: c.name,
                    modified: c.modified,
                    tlp: c.tlp.map(|t| t.as_str().to_string()),
                    markings: c.markings,
                    created_by_ref: c.created_by_ref,
                    json: o.to_string(),
                }),
                Err(reason) => rejected.push((i, reason, o)),
            }
        }
        // The rejected objects go to the quarantine before the kept ones
        // are committed: an import that answers is one whose rejections
        // are all on disk, and a quarantine that cannot be written stores
        // nothing of the bundle (issue 14: no result claims a record
        // quarantined that is not).
        for (i, reason, o) in &rejected {
            let who = s(o, "id").map_or_else(|| format!("object #{}", i + 1), str::to_string);
            let reason = format!("stix: {who}: {reason}");
            let q = Rejection {
                file: source.to_string(),
                line: None,
                record: Some(*i as u64 + 1),
                reason: reason.clone(),
                raw: raw_of(o),
            };
            if let Err(e) = self.quarantine.put(&q) {
                return Err(self.quarantine_error(e));
            }
            rep.rejections
                .push(reason.trim_start_matches("stix: ").to_string());
            rep.rejected += 1;
        }
        if let Err(e) = self.quarantine.flush() {
            return Err(self.quarantine_error(e));
        }
        let inbox = self.inbox.take().map(|f| f(&rep.rejections));
        let inbox_objects: Vec<pharos_store::taxii::NewObject<'_>> = inbox
            .iter()
            .flat_map(|i| &i.objects)
            .map(|o| pharos_store::taxii::NewObject {
                id: &o.id,
                version: &o.version,
                scope: &o.scope,
                stix_type: &o.stix_type,
                spec_version: &o.spec_version,
                json: &o.json,
            })
            .collect();
        let inbox_rows = inbox.as_ref().map(|i| pharos_store::TaxiiInbox {
            collection: &i.collection,
            objects: &inbox_objects,
            status_id: &i.status_id,
            status_json: &i.status_json,
        });
        let hook = self.audit.take();
        let audit_rows = |out: &[StixOutcome]| -> Vec<AuditRecord> {
            let Some(rows) = &hook else {
                return Vec::new();
            };
            let mut r = FileReport {
                file: rep.file.clone(),
                bundle_id: rep.bundle_id.clone(),
                objects: rep.objects,
                rejected: rejected.len() as u64,
                ..Default::default()
            };
            for o in out {
                match o {
                    StixOutcome::Added => r.added += 1,
                    StixOutcome::Updated => r.updated += 1,
                    StixOutcome::Unchanged => r.unchanged += 1,
                }
            }
            rows(&r)
        };
        let outcomes = self.store.import_stix(
            &StixImport {
                source,
                bundle_id: rep.bundle_id.as_deref(),
                objects: rep.objects,
                rejected: rejected.len() as u64,
                at_ms: at,
                audit: hook
                    .is_some()
                    .then_some(&audit_rows as &pharos_store::StixAuditRows<'_>),
                inbox: inbox_rows.as_ref(),
            },
            &kept,
            &newer_than,
        )?;
        for (o, outcome) in kept.iter().zip(outcomes) {
            match outcome {
                StixOutcome::Added => rep.added += 1,
                StixOutcome::Updated => rep.updated += 1,
                StixOutcome::Unchanged => rep.unchanged += 1,
            }
            *rep.by_type.entry(o.stix_type.clone()).or_default() += 1;
            *rep.by_tlp
                .entry(o.tlp.clone().unwrap_or_else(|| "unmarked".into()))
                .or_default() += 1;
        }
        let t = &mut self.totals;
        t.objects += rep.objects;
        t.added += rep.added;
        t.updated += rep.updated;
        t.unchanged += rep.unchanged;
        t.rejected += rep.rejected;
        for (k, v) in &rep.by_type {
            *t.by_type.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &rep.by_tlp {
            *t.by_tlp.entry(k.clone()).or_default() += v;
        }
        Ok(rep)
    }

    fn quarantine_error(&self, e: std::io::Error) -> ImportError {
        ImportError::File {
            file: self.quarantine.path().display().to_string(),
            reason: format!("cannot write the quarantine ({e}); nothing of the bundle was stored"),
        }
    }

    fn stored_markings(&self) -> Result<HashMap<String, Option<Tlp>>, ImportError> {
        Ok(self
            .store
            .stix_markings()?
            .into_iter()
            .map(|(id, tlp)| (id, tlp.and_then(|t| Tlp::parse(&t).ok())))
            .collect())
    }

    /// Where rejected objects went.
    pub fn quarantine_path(&self) -> &Path {
        self.quarantine.path()
    }

    /// Totals over the files imported so far.
    pub fn totals(&self) -> &FileReport {
        &self.totals
    }

    /// Records the run in the store (so `pharos stats` counts the
    /// quarantined objects) and returns the totals.
    pub fn finish(mut self) -> Result<FileReport, ImportError> {
        let _ = self.quarantine.flush();
        let run = RunRecord {
            command: "import stix".into(),
            sources: self.sources.clone(),
            stored: self.totals.added + self.totals.updated,
            duplicates: self.totals.unchanged,
            quarantined: self.totals.rejected,
            started_ms: self.started_ms,
            finished_ms: now_ms(),
        };
        self.store.record_run(&run)?;
        Ok(self.totals.clone())
    }
}

/// Is STIX timestamp `a` later than `b`? (Missing counts as earliest.)
fn newer_than(a: Option<&str>, b: Option<&str>) -> bool {
    let ms = |t: Option<&str>| t.and_then(|t| EventTime::parse(t).ok()).map(|t| t.millis());
    match (ms(a), ms(b)) {
        (Some(a), Some(b)) => a > b,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// One stored object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoredObject {
    pub id: String,
    pub stix_type: String,
    pub key: Option<String>,
    pub name: Option<String>,
    pub tlp: Option<String>,
    pub markings: Vec<String>,
    pub source: String,
    pub object: Value,
}

/// Imported objects of one type (all types when `None`), by type then id.
/// An object whose stored JSON cannot be read is skipped and named in a
/// warning.
pub fn stored_objects<S: StixObjects + ?Sized>(
    store: &S,
    stix_type: Option<&str>,
) -> Result<Vec<StoredObject>, ImportError> {
    let mut out = Vec::new();
    for o in store.stix_objects(stix_type)? {
        let object = match serde_json::from_str(&o.json) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!("skipped unreadable stored STIX object {}: {e}", o.id);
                continue;
            }
        };
        out.push(StoredObject {
            id: o.id,
            stix_type: o.stix_type,
            key: o.key,
            name: o.name,
            tlp: o.tlp,
            markings: o.markings,
            source: o.source,
            object,
        });
    }
    Ok(out)
}
