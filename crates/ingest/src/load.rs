//! The file ingest pipeline: source files → importers → normaliser → store,
//! with rejected records to the quarantine (`pharos ingest`, `pharos demo`).
//!
//! Parsing runs on one thread and writing on another, connected by a bounded
//! channel of batches, so a 2-core machine parses and writes at once. The
//! parsing thread also encodes each post for the store (its JSON record and
//! columns, [`EncodedPosts`]): the writer only binds and steps, and it is the
//! writer that bounds throughput. Memory stays flat whatever the input size:
//! at most `QUEUE + 2` batches of `BATCH` posts exist (queued, being filled,
//! being written), and the writer hands emptied batches back to be refilled.
//! Each batch is one transaction: an interrupted
//! run leaves every committed batch and nothing half-written; re-running it
//! stores only what is missing.

use crate::feed::{FeedClient, FeedState, poll};
use crate::{Item, Options, Quarantine, Rejection};
use pharos_core::now_ms;
use pharos_store::{AnyStore, EncodedPosts, Inserted, RunRecord, Store, StoreError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::time::Instant;

/// Why a load failed (a bad record or an unreadable file does not: they
/// are quarantined or listed in the [`Summary`]).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing quarantine {path}: {source}")]
    Quarantine {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Feed(#[from] crate::feed::FeedError),
}

/// What a load tells its caller as it goes (`pharos ingest` draws a
/// progress bar and prints the notes).
pub trait Observer {
    /// `n` more posts were written (stored or found duplicate).
    fn written(&self, _n: u64) {}
    /// Writing is done; the indexes dropped for a bulk load are being rebuilt.
    fn building_indexes(&self) {}
    /// A line for the user: a file that could not be read, or where
    /// `strict` stopped the run.
    fn note(&self, _line: &str) {}
}

/// An observer that reports nothing.
pub struct Quiet;
impl Observer for Quiet {}

/// Posts per transaction (about 11 MiB encoded). Larger batches measured no
/// faster (32k: same CPU time, +100 MB peak memory).
pub const BATCH: usize = 16_384;
/// Batches in flight between the parser and the writer.
const QUEUE: usize = 2;

enum Msg {
    Posts(EncodedPosts),
    Rejected(Rejection),
    /// A whole file could not be read (cannot open, unknown format).
    FileFailed(String, String),
}

/// The outcome of an ingest run; `--json` prints it.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub stored: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    /// Quarantined records by reason.
    pub quarantine_reasons: BTreeMap<String, u64>,
    /// Where the quarantined records were written (when there were any).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarantine_file: Option<String>,
    /// Files that could not be read at all, with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_files: Vec<FileFailure>,
    pub files: usize,
    /// True when `--strict` stopped the run at the first bad record.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stopped: bool,
    pub elapsed_s: f64,
    pub posts_per_s: f64,
}

#[derive(Debug, Serialize)]
pub struct FileFailure {
    pub file: String,
    pub error: String,
}

/// Reads `files` into `store`. With `strict`, stops at the first bad record.
pub fn ingest_files(
    store: &mut AnyStore,
    files: &[PathBuf],
    opts: &Options,
    strict: bool,
    progress: &dyn Observer,
) -> Result<Summary, LoadError> {
    let started = Instant::now();
    let started_ms = now_ms();
    let stop = AtomicBool::new(false);
    let mut quarantine = Quarantine::new(store.quarantine_path());
    let mut summary = Summary {
        files: files.len(),
        ..Default::default()
    };
    let (tx, rx) = sync_channel::<Msg>(QUEUE);
    let (give_back, recycled) = sync_channel::<EncodedPosts>(QUEUE + 2);
    let bulk = is_bulk(store, files)?;
    if bulk {
        store.begin_bulk()?;
    }

    let qpath = quarantine.path().display().to_string();
    let write_result: Result<(), LoadError> = std::thread::scope(|scope| {
        let stop = &stop;
        scope.spawn(move || {
            // Encoding (JSON record, columns) happens here, beside parsing,
            // so the writer only binds and steps. Batches come back from the
            // writer emptied and are refilled: no allocation per batch.
            let mut fresh = || {
                recycled
                    .try_recv()
                    .unwrap_or_else(|_| EncodedPosts::with_capacity(BATCH))
            };
            for path in files {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let mut batch = fresh();
                let mut sink = |item: Item| -> ControlFlow<()> {
                    if stop.load(Ordering::Relaxed) {
                        return ControlFlow::Break(());
                    }
                    match item {
                        Item::Post(p) => {
                            if let Err(err) = batch.push(&p) {
                                let r = Rejection::new(
                                    &p.provenance.source,
                                    p.provenance.line,
                                    p.provenance.record,
                                    err.to_string(),
                                    "",
                                );
                                return send_rejection(&tx, &mut batch, &mut fresh, r);
                            }
                            if batch.len() >= BATCH {
                                let full = std::mem::replace(&mut batch, fresh());
                                if tx.send(Msg::Posts(full)).is_err() {
                                    return ControlFlow::Break(());
                                }
                            }
                        }
                        Item::Rejected(r) => {
                            return send_rejection(&tx, &mut batch, &mut fresh, r);
                        }
                    }
                    ControlFlow::Continue(())
                };
                let res = crate::read_path(path, opts, &mut sink);
                if !batch.is_empty() {
                    let _ = tx.send(Msg::Posts(batch));
                }
                if let Err(e) = res {
                    let _ = tx.send(Msg::FileFailed(path.display().to_string(), e.to_string()));
                }
            }
            drop(tx);
        });

        for msg in rx {
            match msg {
                Msg::Posts(posts) => {
                    if stop.load(Ordering::Relaxed) {
                        continue;
                    }
                    let n = posts.len() as u64;
                    let done: Inserted = store.insert_encoded(&posts)?;
                    summary.stored += done.stored;
                    summary.duplicates += done.duplicates;
                    progress.written(n);
                    let mut posts = posts;
                    posts.clear();
                    let _ = give_back.try_send(posts);
                }
                Msg::Rejected(r) => {
                    if stop.load(Ordering::Relaxed) {
                        continue;
                    }
                    tracing::warn!("{}: {}", r.location(), r.reason);
                    quarantine.put(&r).map_err(|source| LoadError::Quarantine {
                        path: qpath.clone(),
                        source,
                    })?;
                    if strict {
                        stop.store(true, Ordering::Relaxed);
                        summary.stopped = true;
                        progress.note(&format!(
                            "pharos: stopped at the first bad record (--strict): {}: {}",
                            r.location(),
                            r.reason
                        ));
                    }
                }
                Msg::FileFailed(file, error) => {
                    progress.note(&format!("pharos: {error}"));
                    summary.failed_files.push(FileFailure { file, error });
                    if strict {
                        stop.store(true, Ordering::Relaxed);
                        summary.stopped = true;
                    }
                }
            }
        }
        Ok(())
    });
    // Make sure the reader stops if writing failed.
    stop.store(true, Ordering::Relaxed);
    if bulk {
        progress.building_indexes();
        store.end_bulk()?;
    }
    quarantine.flush().map_err(|source| LoadError::Quarantine {
        path: qpath.clone(),
        source,
    })?;
    summary.quarantined = quarantine.count();
    summary.quarantine_reasons = quarantine.by_reason().clone();
    if summary.quarantined > 0 {
        summary.quarantine_file = Some(quarantine.path().display().to_string());
    }
    let elapsed = started.elapsed().as_secs_f64();
    summary.elapsed_s = (elapsed * 1000.0).round() / 1000.0;
    summary.posts_per_s = if elapsed > 0.0 {
        ((summary.stored + summary.duplicates) as f64 / elapsed).round()
    } else {
        0.0
    };
    let record = RunRecord {
        command: "ingest".into(),
        sources: files.iter().map(|f| f.display().to_string()).collect(),
        stored: summary.stored,
        duplicates: summary.duplicates,
        quarantined: summary.quarantined,
        started_ms,
        finished_ms: now_ms(),
    };
    // Record the run even when writing failed half-way, then report the failure.
    let recorded = store.record_run(&record);
    write_result?;
    recorded?;
    Ok(summary)
}

/// Sends the posts gathered so far, then a rejection (keeping their order).
fn send_rejection(
    tx: &SyncSender<Msg>,
    batch: &mut EncodedPosts,
    fresh: &mut dyn FnMut() -> EncodedPosts,
    r: Rejection,
) -> ControlFlow<()> {
    if !batch.is_empty() {
        let part = std::mem::replace(batch, fresh());
        if tx.send(Msg::Posts(part)).is_err() {
            return ControlFlow::Break(());
        }
    }
    if tx.send(Msg::Rejected(r)).is_err() {
        return ControlFlow::Break(());
    }
    ControlFlow::Continue(())
}

/// Average size of a post in source files, for estimating a load's size.
const BYTES_PER_POST: u64 = 600;

/// A load is bulk when it likely brings at least 100k posts and more than
/// the store already holds: then dropping and rebuilding indexes wins.
fn is_bulk(store: &AnyStore, files: &[PathBuf]) -> Result<bool, StoreError> {
    let bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let estimate = bytes / BYTES_PER_POST;
    if estimate < 100_000 {
        return Ok(false);
    }
    Ok(estimate > store.count()?)
}

/// Reads RSS/Atom feeds given as URLs once (no conditional GET state:
/// [`crate::watch`] polls) with `client`, adding to `summary`. With
/// `strict`, stops at the first bad record.
pub fn ingest_urls(
    store: &mut AnyStore,
    client: &FeedClient,
    urls: &[String],
    opts: &Options,
    strict: bool,
    summary: &mut Summary,
    progress: &dyn Observer,
) -> Result<(), LoadError> {
    if urls.is_empty() {
        return Ok(());
    }
    let mut quarantine = Quarantine::new(store.quarantine_path());
    let qerr = |q: &Quarantine, source| LoadError::Quarantine {
        path: q.path().display().to_string(),
        source,
    };
    for url in urls {
        if summary.stopped {
            break;
        }
        let mut posts = Vec::new();
        let mut rejected = Vec::new();
        let mut state = FeedState::new();
        let res = poll(client, url, &mut state, opts, &mut |item| {
            match item {
                Item::Post(p) => posts.push(*p),
                Item::Rejected(r) => rejected.push(r),
            }
            ControlFlow::Continue(())
        });
        summary.files += 1;
        if let Err(e) = res {
            progress.note(&format!("pharos: {e}"));
            summary.failed_files.push(FileFailure {
                file: url.clone(),
                error: e.to_string(),
            });
            if strict {
                summary.stopped = true;
            }
            continue;
        }
        if strict && !rejected.is_empty() {
            let r = &rejected[0];
            progress.note(&format!(
                "pharos: stopped at the first bad record (--strict): {}: {}",
                r.location(),
                r.reason
            ));
            quarantine.put(r).map_err(|e| qerr(&quarantine, e))?;
            summary.stopped = true;
            break;
        }
        let done = store.insert(&posts)?;
        summary.stored += done.stored;
        summary.duplicates += done.duplicates;
        for r in &rejected {
            quarantine.put(r).map_err(|e| qerr(&quarantine, e))?;
        }
    }
    quarantine.flush().map_err(|e| qerr(&quarantine, e))?;
    // The quarantine counts what it wrote; add that to the files' summary.
    summary.quarantined += quarantine.count();
    for (reason, n) in quarantine.by_reason() {
        *summary
            .quarantine_reasons
            .entry(reason.clone())
            .or_default() += n;
    }
    if quarantine.count() > 0 {
        summary.quarantine_file = Some(quarantine.path().display().to_string());
    }
    Ok(())
}
