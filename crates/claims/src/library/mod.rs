//! The fact-check library: importers and the on-disk library.
//!
//! A library is a directory:
//!
//! | file | what |
//! |---|---|
//! | `claims.jsonl` | one [`Claim`] a line, in the order they were first imported |
//! | `provenance.jsonl` | one [`Provenance`] a line: which file, format and line/record gave each claim |
//! | `quarantine.jsonl` | records that could not be imported, with file, line/record, reason and raw text |
//! | `index/` | the search index kept by [`crate::retrieval`] (rebuilt when [`Library::generation`] changes) |
//!
//! Both JSONL files are rewritten whole on every change, through a temporary
//! file renamed over the old one, so an interrupted import leaves the previous
//! library intact.
//!
//! Importing deduplicates: a record merges into an existing claim when it has
//! the same claim id, or the same normalised claim text and a review URL in
//! common. Merging takes the union of the reviews (a review is identified by
//! its URL, else by publisher, title and text), of keywords, appearances,
//! outlets and languages, and fills fields the claim lacked. Re-importing a
//! file changes nothing.

mod checkthat;
mod claimreview;
mod euvsdisinfo;
mod factcheck_api;
mod html;
mod json;
mod normalize;
mod quarantine;

pub use normalize::{claim_id, normalize_text};
pub use quarantine::LibraryQuarantine;

use crate::model::{Claim, Review};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// File names inside a library directory.
pub const CLAIMS_FILE: &str = "claims.jsonl";
pub const PROVENANCE_FILE: &str = "provenance.jsonl";
pub const QUARANTINE_FILE: &str = "quarantine.jsonl";
/// Where the retrieval index lives (owned by [`crate::retrieval`]).
pub const INDEX_DIR: &str = "index";

/// Errors opening, reading or writing a library.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error(
        "no fact-check library at {path}: create one with `pharos claims import --format FORMAT FILE... --library {path}`"
    )]
    NotFound { path: String },
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error("{path} line {line}: {reason} (the library file is damaged; re-import its sources)")]
    Corrupt {
        path: String,
        line: u64,
        reason: String,
    },
}

fn io_err(path: &Path, e: impl fmt::Display) -> LibraryError {
    LibraryError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// The library beside a store: `<store dir>/<store file stem>.library`
/// (`cases/x.db` → `cases/x.library`).
pub fn default_library_dir(store_path: &Path) -> PathBuf {
    let stem = store_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pharos".into());
    store_path.with_file_name(format!("{stem}.library"))
}

/// The import formats (`pharos claims import --format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportFormat {
    /// schema.org `ClaimReview`: JSON-LD in HTML pages, JSON files, `@graph`, `DataFeed`.
    #[serde(rename = "claimreview")]
    ClaimReview,
    /// Google Fact Check Tools API `claims:search` responses.
    FactcheckApi,
    /// EUvsDisinfo case tables (CSV).
    Euvsdisinfo,
    /// CheckThat! verified claims (`vclaim_id<TAB>vclaim<TAB>title`).
    Checkthat,
}

impl ImportFormat {
    pub const ALL: [ImportFormat; 4] = [
        ImportFormat::ClaimReview,
        ImportFormat::FactcheckApi,
        ImportFormat::Euvsdisinfo,
        ImportFormat::Checkthat,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportFormat::ClaimReview => "claimreview",
            ImportFormat::FactcheckApi => "factcheck-api",
            ImportFormat::Euvsdisinfo => "euvsdisinfo",
            ImportFormat::Checkthat => "checkthat",
        }
    }
}

impl fmt::Display for ImportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ImportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ImportFormat::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown format {s:?}: use claimreview, factcheck-api, euvsdisinfo or checkthat"
                )
            })
    }
}

/// Where a claim came from: one line of `provenance.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Provenance {
    /// The claim this record went into.
    pub claim: String,
    pub format: ImportFormat,
    /// The source file (absolute when it could be resolved).
    pub file: String,
    /// 1-based line, for line formats (TSV, CSV: the record's first line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// 1-based record number, for records inside one document (JSON, HTML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<u64>,
}

/// One record read by an importer.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    pub claim: Claim,
    pub line: Option<u64>,
    pub record: Option<u64>,
}

/// One record an importer could not use.
#[derive(Debug, Clone)]
pub(crate) struct Rejected {
    pub line: Option<u64>,
    pub record: Option<u64>,
    pub reason: String,
    pub raw: String,
}

/// What an importer gives for one file.
pub(crate) type Records = Vec<Result<Parsed, Rejected>>;

/// What importing one file did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileReport {
    pub file: String,
    /// Records read (imported, merged, unchanged and quarantined).
    pub records: u64,
    /// New claims.
    pub added: u64,
    /// Records that added something (a review, a field) to a claim already in the library.
    pub merged: u64,
    /// Records the library already held in full (re-imports, duplicates).
    pub unchanged: u64,
    pub quarantined: u64,
    /// The file could not be read at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The first few record errors, `FILE line N: reason` / `FILE record N: reason`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// How many record errors each file report keeps in full (all are in the quarantine).
pub const ERRORS_KEPT: usize = 10;

/// What one `pharos claims import` run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportSummary {
    pub library: String,
    pub format: Option<ImportFormat>,
    pub files: Vec<FileReport>,
    pub records: u64,
    pub added: u64,
    pub merged: u64,
    pub unchanged: u64,
    pub quarantined: u64,
    /// Quarantined records by reason class (the reason up to its first `:`).
    pub quarantine_reasons: BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarantine_file: Option<String>,
    /// Files that could not be read at all.
    pub failed_files: u64,
    /// Claims in the library after the run.
    pub claims: u64,
    /// Reviews in the library after the run.
    pub reviews: u64,
    /// The library's generation after the run (changes whenever its claims change).
    pub generation: String,
    /// Whether the claims changed.
    pub changed: bool,
}

/// Options for an import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Language for claims whose source gives none (else detected from the text when reliable).
    pub default_lang: Option<String>,
    /// Detect the language of claims whose source gives none (and no default is set).
    pub detect_lang: bool,
}

/// The fact-check library, loaded in memory.
#[derive(Debug)]
pub struct Library {
    dir: PathBuf,
    claims: Vec<Claim>,
    by_id: HashMap<String, usize>,
    /// (normalised text, review URL) → claim position.
    by_text_url: HashMap<(String, String), usize>,
    provenance: Vec<Provenance>,
    provenance_seen: HashSet<Provenance>,
    generation: u64,
    claims_dirty: bool,
    provenance_dirty: bool,
}

impl Library {
    /// Opens the library in `dir`; an error naming the path when there is none.
    pub fn open(dir: &Path) -> Result<Library, LibraryError> {
        let claims_path = dir.join(CLAIMS_FILE);
        if !claims_path.is_file() {
            return Err(LibraryError::NotFound {
                path: dir.display().to_string(),
            });
        }
        let bytes = fs::read(&claims_path).map_err(|e| io_err(&claims_path, e))?;
        let mut lib = Library::empty(dir);
        lib.generation = content_generation(&bytes);
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            let line_no = i as u64 + 1;
            if line.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            let claim: Claim = serde_json::from_slice(line).map_err(|e| LibraryError::Corrupt {
                path: claims_path.display().to_string(),
                line: line_no,
                reason: e.to_string(),
            })?;
            if lib.by_id.contains_key(&claim.id) {
                return Err(LibraryError::Corrupt {
                    path: claims_path.display().to_string(),
                    line: line_no,
                    reason: format!("claim id {:?} appears twice", claim.id),
                });
            }
            lib.push_claim(claim);
        }
        let prov_path = dir.join(PROVENANCE_FILE);
        if prov_path.is_file() {
            let f = fs::File::open(&prov_path).map_err(|e| io_err(&prov_path, e))?;
            for (i, line) in BufReader::new(f).lines().enumerate() {
                let line = line.map_err(|e| io_err(&prov_path, e))?;
                if line.trim().is_empty() {
                    continue;
                }
                let p: Provenance =
                    serde_json::from_str(&line).map_err(|e| LibraryError::Corrupt {
                        path: prov_path.display().to_string(),
                        line: i as u64 + 1,
                        reason: e.to_string(),
                    })?;
                if lib.provenance_seen.insert(p.clone()) {
                    lib.provenance.push(p);
                }
            }
        }
        Ok(lib)
    }

    /// Opens the library in `dir`, or an empty one there (written by [`Library::save`]).
    pub fn open_or_create(dir: &Path) -> Result<Library, LibraryError> {
        if dir.join(CLAIMS_FILE).is_file() {
            return Library::open(dir);
        }
        if dir.exists() && !dir.is_dir() {
            return Err(io_err(dir, "exists and is not a directory"));
        }
        let mut lib = Library::empty(dir);
        lib.claims_dirty = true;
        Ok(lib)
    }

    fn empty(dir: &Path) -> Library {
        Library {
            dir: dir.to_path_buf(),
            claims: Vec::new(),
            by_id: HashMap::new(),
            by_text_url: HashMap::new(),
            provenance: Vec::new(),
            provenance_seen: HashSet::new(),
            generation: content_generation(b""),
            claims_dirty: false,
            provenance_dirty: false,
        }
    }

    /// The library's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every claim, in the order they were first imported.
    pub fn claims(&self) -> &[Claim] {
        &self.claims
    }

    /// The claim with this id.
    pub fn get(&self, id: &str) -> Option<&Claim> {
        self.by_id.get(id).map(|&i| &self.claims[i])
    }

    /// Number of claims.
    pub fn len(&self) -> usize {
        self.claims.len()
    }

    pub fn is_empty(&self) -> bool {
        self.claims.is_empty()
    }

    /// Identifies the library's content: a hash of `claims.jsonl` as last
    /// read or written. It changes whenever a claim changes (a new claim, a
    /// new review, a filled field) and only then: provenance does not count.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Where each record of each claim came from.
    pub fn provenance(&self) -> &[Provenance] {
        &self.provenance
    }

    /// The provenance of one claim.
    pub fn provenance_of<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Provenance> + 'a {
        self.provenance.iter().filter(move |p| p.claim == id)
    }

    /// The quarantine file of this library.
    pub fn quarantine_path(&self) -> PathBuf {
        self.dir.join(QUARANTINE_FILE)
    }

    /// Whether there are changes not yet saved.
    pub fn is_dirty(&self) -> bool {
        self.claims_dirty || self.provenance_dirty
    }

    fn push_claim(&mut self, claim: Claim) -> usize {
        let pos = self.claims.len();
        self.by_id.insert(claim.id.clone(), pos);
        self.index_text_urls(&claim, pos);
        self.claims.push(claim);
        pos
    }

    fn index_text_urls(&mut self, claim: &Claim, pos: usize) {
        let norm = normalize_text(&claim.text);
        for r in &claim.reviews {
            if let Some(u) = &r.url {
                self.by_text_url
                    .entry((norm.clone(), u.clone()))
                    .or_insert(pos);
            }
        }
    }

    /// Adds one claim (merging it into an equal one). Returns the outcome and the id it went to.
    pub fn add(&mut self, claim: Claim) -> (AddOutcome, String) {
        let existing = self.by_id.get(&claim.id).copied().or_else(|| {
            let norm = normalize_text(&claim.text);
            claim.reviews.iter().find_map(|r| {
                r.url
                    .as_ref()
                    .and_then(|u| self.by_text_url.get(&(norm.clone(), u.clone())).copied())
            })
        });
        match existing {
            None => {
                let id = claim.id.clone();
                self.push_claim(claim);
                self.claims_dirty = true;
                (AddOutcome::Added, id)
            }
            Some(pos) => {
                let id = self.claims[pos].id.clone();
                let changed = merge_claim(&mut self.claims[pos], claim);
                if changed {
                    let c = self.claims[pos].clone();
                    self.index_text_urls(&c, pos);
                    self.claims_dirty = true;
                    (AddOutcome::Merged, id)
                } else {
                    (AddOutcome::Unchanged, id)
                }
            }
        }
    }

    fn add_provenance(&mut self, p: Provenance) {
        if self.provenance_seen.insert(p.clone()) {
            self.provenance.push(p);
            self.provenance_dirty = true;
        }
    }

    /// Imports one file. A file that cannot be read is reported in the
    /// result (`error`), bad records go to `quarantine`; nothing here stops
    /// the caller from going on with the next file. Call [`Library::save`]
    /// to write the result.
    pub fn import_file(
        &mut self,
        format: ImportFormat,
        path: &Path,
        opts: &ImportOptions,
        quarantine: &mut LibraryQuarantine,
    ) -> FileReport {
        let shown = path.display().to_string();
        let file = fs::canonicalize(path)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| shown.clone());
        let mut report = FileReport {
            file: shown.clone(),
            ..FileReport::default()
        };
        let records = match read_records(format, path) {
            Ok(r) => r,
            Err(e) => {
                report.error = Some(e);
                return report;
            }
        };
        for rec in records {
            report.records += 1;
            match rec {
                Ok(mut parsed) => {
                    fill_lang(&mut parsed.claim, opts);
                    let (outcome, id) = self.add(parsed.claim);
                    match outcome {
                        AddOutcome::Added => report.added += 1,
                        AddOutcome::Merged => report.merged += 1,
                        AddOutcome::Unchanged => report.unchanged += 1,
                    }
                    self.add_provenance(Provenance {
                        claim: id,
                        format,
                        file: file.clone(),
                        line: parsed.line,
                        record: parsed.record,
                    });
                }
                Err(rej) => {
                    report.quarantined += 1;
                    let at = match (rej.line, rej.record) {
                        (Some(l), Some(r)) => format!("record {r} (line {l})"),
                        (Some(l), None) => format!("line {l}"),
                        (None, Some(r)) => format!("record {r}"),
                        (None, None) => "whole file".to_string(),
                    };
                    if report.errors.len() < ERRORS_KEPT {
                        report.errors.push(format!("{shown} {at}: {}", rej.reason));
                    }
                    if let Err(e) = quarantine::put(quarantine, &shown, format, &rej) {
                        report.error = Some(format!(
                            "cannot write the quarantine {}: {e}",
                            quarantine.path().display()
                        ));
                    }
                }
            }
        }
        report
    }

    /// Writes what changed: `claims.jsonl` and `provenance.jsonl`, each
    /// through a temporary file renamed over the old one.
    pub fn save(&mut self) -> Result<(), LibraryError> {
        if !self.is_dirty() {
            return Ok(());
        }
        fs::create_dir_all(&self.dir).map_err(|e| io_err(&self.dir, e))?;
        if self.claims_dirty {
            let mut buf = Vec::with_capacity(self.claims.len() * 256);
            for c in &self.claims {
                serde_json::to_writer(&mut buf, c).map_err(|e| io_err(&self.dir, e))?;
                buf.push(b'\n');
            }
            write_atomic(&self.dir.join(CLAIMS_FILE), &buf)?;
            self.generation = content_generation(&buf);
            self.claims_dirty = false;
        }
        if self.provenance_dirty {
            let mut buf = Vec::with_capacity(self.provenance.len() * 128);
            for p in &self.provenance {
                serde_json::to_writer(&mut buf, p).map_err(|e| io_err(&self.dir, e))?;
                buf.push(b'\n');
            }
            write_atomic(&self.dir.join(PROVENANCE_FILE), &buf)?;
            self.provenance_dirty = false;
        }
        Ok(())
    }
}

/// What [`Library::add`] did with a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    Added,
    Merged,
    Unchanged,
}

/// Imports `files` into the library in `dir` (created when absent) and saves it.
pub fn import(
    dir: &Path,
    format: ImportFormat,
    files: &[PathBuf],
    opts: &ImportOptions,
) -> Result<ImportSummary, LibraryError> {
    let mut lib = Library::open_or_create(dir)?;
    let before = lib.generation();
    let existed = dir.join(CLAIMS_FILE).is_file();
    let mut quarantine = LibraryQuarantine::new(lib.quarantine_path());
    let mut summary = ImportSummary {
        library: dir.display().to_string(),
        format: Some(format),
        ..ImportSummary::default()
    };
    for f in files {
        let r = lib.import_file(format, f, opts, &mut quarantine);
        summary.records += r.records;
        summary.added += r.added;
        summary.merged += r.merged;
        summary.unchanged += r.unchanged;
        summary.quarantined += r.quarantined;
        if r.error.is_some() {
            summary.failed_files += 1;
        }
        summary.files.push(r);
    }
    quarantine
        .flush()
        .map_err(|e| io_err(quarantine.path(), e))?;
    lib.save()?;
    summary.quarantine_reasons = quarantine.by_reason().clone();
    if quarantine.count() > 0 {
        summary.quarantine_file = Some(quarantine.path().display().to_string());
    }
    summary.claims = lib.len() as u64;
    summary.reviews = lib.claims().iter().map(|c| c.reviews.len() as u64).sum();
    summary.generation = format!("{:016x}", lib.generation());
    summary.changed = lib.generation() != before || !existed;
    Ok(summary)
}

fn read_records(format: ImportFormat, path: &Path) -> Result<Records, String> {
    let bytes = fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    match format {
        ImportFormat::ClaimReview => claimreview::parse(&bytes),
        ImportFormat::FactcheckApi => factcheck_api::parse(&bytes),
        ImportFormat::Euvsdisinfo => euvsdisinfo::parse(&bytes),
        ImportFormat::Checkthat => checkthat::parse(&bytes),
    }
    .map_err(|e| format!("{}: {e}", path.display()))
}

/// Fills the language of a claim, and of its reviews that have a text,
/// when the source gave none: `--lang`, else detection (when reliable).
fn fill_lang(claim: &mut Claim, opts: &ImportOptions) {
    let guess = |text: &str| match &opts.default_lang {
        Some(l) => Some(l.clone()),
        None if opts.detect_lang => normalize::detect_lang(text),
        None => None,
    };
    if claim.lang.is_none() {
        claim.lang = guess(&claim.text);
    }
    for r in &mut claim.reviews {
        if r.lang.is_none()
            && let Some(t) = &r.text
        {
            r.lang = guess(t);
        }
    }
}

/// Merges `new` into `old`; true when `old` changed.
fn merge_claim(old: &mut Claim, new: Claim) -> bool {
    let before = old.clone();
    fill(&mut old.title, new.title);
    fill(&mut old.lang, new.lang);
    fill(&mut old.claimant, new.claimant);
    fill(&mut old.claim_date, new.claim_date);
    union(&mut old.keywords, new.keywords);
    union(&mut old.appearances, new.appearances);
    union(&mut old.outlets, new.outlets);
    union(&mut old.languages, new.languages);
    for r in new.reviews {
        match old.reviews.iter_mut().find(|o| same_review(o, &r)) {
            Some(o) => merge_review(o, r),
            None => old.reviews.push(r),
        }
    }
    *old != before
}

fn same_review(a: &Review, b: &Review) -> bool {
    match (&a.url, &b.url) {
        (Some(x), Some(y)) => x == y,
        (None, None) => a.publisher == b.publisher && a.title == b.title && a.text == b.text,
        _ => false,
    }
}

fn merge_review(o: &mut Review, n: Review) {
    fill(&mut o.publisher, n.publisher);
    fill(&mut o.publisher_site, n.publisher_site);
    fill(&mut o.title, n.title);
    fill(&mut o.date, n.date);
    fill(&mut o.rating, n.rating);
    if o.rating_value.is_none() {
        o.rating_value = n.rating_value;
    }
    if o.best_rating.is_none() {
        o.best_rating = n.best_rating;
    }
    if o.worst_rating.is_none() {
        o.worst_rating = n.worst_rating;
    }
    fill(&mut o.lang, n.lang);
    fill(&mut o.text, n.text);
}

fn fill(slot: &mut Option<String>, v: Option<String>) {
    if slot.is_none() {
        *slot = v;
    }
}

fn union(list: &mut Vec<String>, more: Vec<String>) {
    for m in more {
        if !list.contains(&m) {
            list.push(m);
        }
    }
}

fn content_generation(bytes: &[u8]) -> u64 {
    let d = Sha256::digest(bytes);
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), LibraryError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(path, e));
    }
    Ok(())
}
