//! The one writer: stores ingested batches (one transaction each) and keeps
//! the full-text index up to date.
//!
//! Handlers parse, validate and encode a batch on the blocking pool, then
//! hand it to this thread through a bounded queue; when the queue is full
//! the handler answers 503 with `Retry-After` instead of holding what it
//! cannot store. When no batch waits (100 ms without one), the thread indexes the
//! text of posts stored since the last indexed row (`server_fts`, SQLite
//! FTS5), whatever wrote them (`pharos ingest`, HTTP ingest, feed polling).
//!
//! Each batch stored goes on to the live analysis ([`crate::analyst`])
//! through a bounded channel ([`Stored`]): the analysis is fed by the
//! writer, not by reading the store. When the analysis is that far behind
//! (the channel is full), the writer does not wait: it drops the hand-over,
//! and the analysis, seeing a gap in the sequence numbers, reads those
//! posts from the store.

use pharos_ingest::{Quarantine, Rejection};
use pharos_store::{
    AnyStore, AuditRecord, EncodedPosts, Inserted, Location, RunRecord, Store, TextIndex,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

/// Rows indexed per transaction.
const FTS_CHUNK: i64 = 20_000;

/// A batch to store.
pub struct WriteJob {
    pub posts: EncodedPosts,
    pub rejections: Vec<Rejection>,
    /// Names the run (`http ingest by <token id>`, `feed <url>`).
    pub command: String,
    pub started_ms: i64,
    /// The audit row of the request that sent the batch, committed in the
    /// batch's transaction (None: feed polling, no request).
    pub audit: Option<crate::audit::Commit>,
    pub reply: Option<tokio::sync::oneshot::Sender<Result<Inserted, String>>>,
}

/// Batches stored and not yet taken by the live analysis, at most (more:
/// the hand-over is dropped and the analysis reads them from the store).
const STORED_QUEUE: usize = 64;

/// A batch the writer stored, handed to the live analysis.
pub struct Stored {
    /// The batch (each post's canonical record).
    pub posts: EncodedPosts,
    /// The sequence number (rowid) each post of `posts` got; 0 for a post
    /// that was already stored (a duplicate, not new to the analysis).
    pub rowids: Vec<i64>,
}

/// Progress of the full-text index. (The live analysis does not yield to
/// a busy ingest: the writer hands it each batch, and when it falls
/// behind it reads the batches from the store.)
#[derive(Debug, Default)]
pub struct IndexProgress {
    /// Highest post rowid indexed.
    pub indexed: AtomicI64,
    /// Highest post rowid stored (as of the writer's last look).
    pub stored: AtomicI64,
}

/// The writer's handles: where to send batches, the index's progress, and
/// the batches stored (for the live analysis).
pub struct Writer {
    pub jobs: SyncSender<WriteJob>,
    pub progress: Arc<IndexProgress>,
    pub stored: Receiver<Stored>,
}

/// Starts the writer thread; `queue` batches may wait.
pub fn start(store_path: &Location, queue: usize) -> anyhow::Result<Writer> {
    let store = AnyStore::open(store_path)?;
    let (tx, rx) = sync_channel(queue);
    let (stored_tx, stored_rx) = sync_channel(STORED_QUEUE);
    let progress = Arc::new(IndexProgress::default());
    let p = progress.clone();
    std::thread::Builder::new()
        .name("pharos-writer".into())
        .spawn(move || run(store, rx, p, stored_tx))?;
    Ok(Writer {
        jobs: tx,
        progress,
        stored: stored_rx,
    })
}

/// Batches stored in one transaction, at most (when several wait).
const GROUP_JOBS: usize = 8;
/// Posts stored in one transaction, at most (a single larger batch is not split).
const GROUP_POSTS: usize = 40_000;

fn run(
    mut store: AnyStore,
    rx: Receiver<WriteJob>,
    progress: Arc<IndexProgress>,
    stored: SyncSender<Stored>,
) {
    if let Err(e) = store.tune_for_writer() {
        tracing::warn!("writer settings: {e}");
    }
    let mut quarantine = Quarantine::new(store.quarantine_path());
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(job) => {
                // Batches that wait behind this one share its transaction.
                let mut jobs = vec![job];
                let mut posts = jobs[0].posts.len();
                while jobs.len() < GROUP_JOBS && posts < GROUP_POSTS {
                    match rx.try_recv() {
                        Ok(j) => {
                            posts += j.posts.len();
                            jobs.push(j);
                        }
                        Err(_) => break,
                    }
                }
                store_jobs(&mut store, &mut quarantine, jobs, &stored);
                // The index catches up when no batch waits (below), so a
                // sustained ingest is not slowed by it.
            }
            Err(RecvTimeoutError::Timeout) => match index_some(&mut store, &progress, FTS_CHUNK) {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!("full-text index: {e}"),
            },
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = quarantine.flush();
}

/// Stores the jobs' batches, with their requests' audit rows, in one
/// transaction and answers each; if that fails, each batch alone (so one
/// batch's error is not another's). Each batch stored goes on to the live
/// analysis.
fn store_jobs(
    store: &mut AnyStore,
    quarantine: &mut Quarantine,
    jobs: Vec<WriteJob>,
    analysis: &SyncSender<Stored>,
) {
    let insert = |store: &mut AnyStore, jobs: &[WriteJob]| {
        let batches: Vec<&EncodedPosts> = jobs.iter().map(|j| &j.posts).collect();
        let audit: Vec<AuditRecord> = jobs
            .iter()
            .filter_map(|j| j.audit.as_ref().map(|a| a.row.clone()))
            .collect();
        store.insert_encoded_batches_rowids(&batches, &audit)
    };
    // Together; if that fails, each batch alone (one batch's error is not
    // another's).
    let grouped = match insert(store, &jobs) {
        Ok(done) => Some(done),
        Err(e) if jobs.len() == 1 => {
            answer(store, quarantine, analysis, jobs, Err(e));
            return;
        }
        Err(_) => None,
    };
    match grouped {
        Some(done) => answer(store, quarantine, analysis, jobs, Ok(done)),
        None => {
            for job in jobs {
                let one = std::slice::from_ref(&job);
                let done = insert(store, one);
                answer(store, quarantine, analysis, vec![job], done);
            }
        }
    }
}

/// Answers each job of a transaction that committed (`done`, in the jobs'
/// order) or failed.
fn answer(
    store: &mut AnyStore,
    quarantine: &mut Quarantine,
    analysis: &SyncSender<Stored>,
    jobs: Vec<WriteJob>,
    done: Result<Vec<(Inserted, Vec<i64>)>, pharos_store::StoreError>,
) {
    let (mut done, failed) = match done {
        Ok(d) => (d.into_iter(), None),
        Err(e) => (Vec::new().into_iter(), Some(e.to_string())),
    };
    for job in jobs {
        let result = match &failed {
            Some(e) => Err(e.clone()),
            None => {
                if let Some(a) = &job.audit {
                    a.committed();
                }
                let (i, rowids) = done.next().unwrap_or_default();
                finish_job(store, quarantine, &job, i)
                    .map(|i| (i, rowids))
                    .map_err(|e| e.to_string())
            }
        };
        let WriteJob { posts, reply, .. } = job;
        let result = result.map(|(i, rowids)| {
            if i.stored > 0 {
                hand_over(analysis, Stored { posts, rowids });
            }
            i
        });
        if let Some(reply) = reply {
            let _ = reply.send(result);
        }
    }
}

/// Hands a stored batch to the live analysis without waiting.
fn hand_over(analysis: &SyncSender<Stored>, batch: Stored) {
    match analysis.try_send(batch) {
        Ok(()) => {}
        // Far behind: it reads these posts from the store when it sees the gap.
        Err(TrySendError::Full(_)) => {}
        // No analysis (tests that start only the writer).
        Err(TrySendError::Disconnected(_)) => {}
    }
}

/// After a job's posts are stored: its rejections to the quarantine, its run recorded.
fn finish_job(
    store: &mut AnyStore,
    quarantine: &mut Quarantine,
    job: &WriteJob,
    done: Inserted,
) -> Result<Inserted, pharos_store::StoreError> {
    for r in &job.rejections {
        if let Err(e) = quarantine.put(r) {
            tracing::warn!("quarantine {}: {e}", quarantine.path().display());
        }
    }
    let _ = quarantine.flush();
    store.record_run(&RunRecord {
        command: job.command.clone(),
        sources: vec!["http".into()],
        stored: done.stored,
        duplicates: done.duplicates,
        quarantined: job.rejections.len() as u64,
        started_ms: job.started_ms,
        finished_ms: pharos_core::now_ms(),
    })?;
    Ok(done)
}

/// Indexes up to `chunk` posts stored after the last indexed one; returns how many.
pub fn index_some<S: TextIndex + ?Sized>(
    store: &mut S,
    progress: &IndexProgress,
    chunk: i64,
) -> Result<i64, pharos_store::StoreError> {
    let (n, indexed, stored) = store.index_text(chunk)?;
    progress.stored.store(stored, Ordering::Relaxed);
    progress.indexed.store(indexed, Ordering::Relaxed);
    Ok(n)
}
