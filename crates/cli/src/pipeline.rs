//! The ingest pipeline: source files → importers → normaliser → store, with
//! rejected records to quarantine.
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

use anyhow::{Context, Result};
use pharos_ingest::{Item, Options, Quarantine, Rejection};
use pharos_store::{EncodedPosts, Inserted, RunRecord, SqliteStore, Store};
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::time::Instant;

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
    store: &mut SqliteStore,
    files: &[PathBuf],
    opts: &Options,
    strict: bool,
    progress: &indicatif::ProgressBar,
) -> Result<Summary> {
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

    let write_result: Result<()> = std::thread::scope(|scope| {
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
                let res = pharos_ingest::read_path(path, opts, &mut sink);
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
                    progress.inc(n);
                    let mut posts = posts;
                    posts.clear();
                    let _ = give_back.try_send(posts);
                }
                Msg::Rejected(r) => {
                    if stop.load(Ordering::Relaxed) {
                        continue;
                    }
                    tracing::warn!("{}: {}", r.location(), r.reason);
                    quarantine.put(&r).with_context(|| {
                        format!("writing quarantine {}", quarantine.path().display())
                    })?;
                    if strict {
                        stop.store(true, Ordering::Relaxed);
                        summary.stopped = true;
                        eprintln!(
                            "pharos: stopped at the first bad record (--strict): {}: {}",
                            r.location(),
                            r.reason
                        );
                    }
                }
                Msg::FileFailed(file, error) => {
                    eprintln!("pharos: {error}");
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
        progress.set_message("posts; building indexes");
        store.end_bulk()?;
    }
    quarantine.flush().context("flushing quarantine")?;
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
fn is_bulk(store: &SqliteStore, files: &[PathBuf]) -> Result<bool> {
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

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
