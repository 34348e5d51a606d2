//! The append-only audit log: who read, exported or changed what.
//!
//! Every request that reaches an authenticated route, and every refusal,
//! becomes one row of `server_audit`. Triggers in the store refuse UPDATE
//! and DELETE on that table, so the log only grows, and each row carries a
//! hash chained to the row before (`pharos audit verify` checks the chain).
//! Rows of reads are written by one thread in small transactions (so a busy
//! API costs one insert per request, batched), in the order requests
//! finished. A state-changing request's row is committed before its answer
//! is sent, in the change's own transaction ([`InTransaction`]: an HTTP
//! ingest batch, a marking, a token created or revoked, a STIX import, the
//! objects the TAXII inbox takes: both are stored, or neither); a change
//! that wrote nothing (refused, failed) gets its row from the audit thread,
//! which the request waits for (issue 14, finding 10).
//!
//! What a request can make the log write is bounded (issue 14, finding 3):
//! a path is cut to [`MAX_PATH_BYTES`], details and names to
//! [`MAX_DETAIL_BYTES`]; and requests without a valid token (no token, a
//! wrong one, a failed login) write at most [`UNAUTHENTICATED_PER_MINUTE`]
//! rows a minute: past that they are counted, and one row says how many
//! there were when the minute ends.

use crate::auth::now_ms;
use pharos_store::{AnyStore, Audit, AuditRecord, Location, StoreError};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;
use utoipa::ToSchema;

/// One audit row.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    /// RFC 3339.
    pub at: String,
    #[serde(skip)]
    pub at_ms: i64,
    /// Token id (None: no or unknown token).
    pub token: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub org: Option<String>,
    /// `read`, `export`, `change`, `refused`.
    pub action: String,
    pub method: String,
    pub path: String,
    /// The object read or changed, when the route names one.
    pub object: Option<String>,
    pub status: u16,
    pub detail: Option<String>,
}

/// Longest path kept in a row; a longer one is cut and says how long it was.
pub const MAX_PATH_BYTES: usize = 512;
/// Longest query string (`detail`), token name or organisation kept in a row.
pub const MAX_DETAIL_BYTES: usize = 1024;
/// How long a request waits for the audit rows recorded before it to be
/// written ([`AuditLog::sync`]) before it answers 503.
pub const SYNC_WAIT: Duration = Duration::from_secs(30);
/// Rows a minute for requests without a valid token; the rest are counted
/// into one row.
pub const UNAUTHENTICATED_PER_MINUTE: u64 = 60;

/// `s` cut to at most `max` bytes (at a character boundary), saying how
/// long it was.
fn cut(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let n = s.len();
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s.push_str(&format!("…[{n} bytes]"));
}

fn bound(e: &mut AuditEntry) {
    cut(&mut e.path, MAX_PATH_BYTES);
    for f in [
        &mut e.detail,
        &mut e.name,
        &mut e.org,
        &mut e.object,
        &mut e.token,
    ]
    .into_iter()
    .flatten()
    {
        cut(f, MAX_DETAIL_BYTES);
    }
    cut(&mut e.method, 16);
}

/// The current minute of rows without a valid token.
#[derive(Default)]
struct Window {
    start_ms: i64,
    written: u64,
    /// Requests counted, not written, this minute (and the last one's time).
    counted: u64,
    last_ms: i64,
}

impl Window {
    /// The row that sums up the requests counted in a minute that ended.
    fn close(&mut self, now: i64) -> Option<AuditEntry> {
        if now - self.start_ms < 60_000 {
            return None;
        }
        let out = (self.counted > 0).then(|| AuditEntry {
            at_ms: self.last_ms,
            action: "refused".into(),
            method: "*".into(),
            path: "*".into(),
            status: 401,
            detail: Some(format!(
                "{} more requests without a valid token from {} to {}, counted, not written one by one (at most {UNAUTHENTICATED_PER_MINUTE} rows a minute)",
                self.counted,
                pharos_core::EventTime(self.start_ms).to_rfc3339(),
                pharos_core::EventTime(self.last_ms).to_rfc3339()
            )),
            ..Default::default()
        });
        *self = Window {
            start_ms: now,
            ..Default::default()
        };
        out
    }
}

enum Msg {
    Entry(Box<AuditEntry>),
    /// Answered once every entry sent before it is written.
    Sync(std::sync::mpsc::SyncSender<()>),
}

/// Sends entries to the audit thread.
#[derive(Clone)]
pub struct AuditLog {
    tx: Sender<Msg>,
    /// How long [`AuditLog::sync`] waits ([`SYNC_WAIT`]).
    sync_wait: Duration,
    /// Requests without a valid token: failed logins, and the others.
    unauthenticated: std::sync::Arc<std::sync::Mutex<[Window; 2]>>,
}

impl AuditLog {
    /// Starts the audit thread on its own connection to the store.
    pub fn start(store_path: &Location) -> anyhow::Result<AuditLog> {
        Self::start_on(AnyStore::open(store_path)?)
    }

    /// Starts the audit thread writing to `store`.
    fn start_on<S: Audit + Send + 'static>(store: S) -> anyhow::Result<AuditLog> {
        let (tx, rx) = channel();
        let w = || Window {
            start_ms: now_ms(),
            ..Default::default()
        };
        let unauthenticated = std::sync::Arc::new(std::sync::Mutex::new([w(), w()]));
        let log = AuditLog {
            tx,
            sync_wait: SYNC_WAIT,
            unauthenticated,
        };
        let windows = log.unauthenticated.clone();
        std::thread::Builder::new()
            .name("pharos-audit".into())
            .spawn(move || run(store, rx, windows))?;
        Ok(log)
    }

    /// Records one entry: cut to the bounds, and, without a valid token,
    /// within the minute's allowance (else counted).
    pub fn record(&self, mut e: AuditEntry) {
        if e.at_ms == 0 {
            e.at_ms = now_ms();
        }
        bound(&mut e);
        if e.token.is_none() && e.method != "CLI" {
            let Ok(mut windows) = self.unauthenticated.lock() else {
                return;
            };
            let w = &mut windows[usize::from(e.path == "/login")];
            if let Some(sum) = w.close(e.at_ms) {
                let _ = self.tx.send(Msg::Entry(Box::new(sum)));
            }
            if w.written >= UNAUTHENTICATED_PER_MINUTE {
                w.counted += 1;
                w.last_ms = e.at_ms;
                return;
            }
            w.written += 1;
        }
        let _ = self.tx.send(Msg::Entry(Box::new(e)));
    }

    /// Waits (at most [`SYNC_WAIT`]) until every entry recorded before this call is
    /// written; false when they are not written by then (the store refuses
    /// them: the audit thread keeps them and tries again) or the thread is gone.
    pub fn sync(&self) -> bool {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.tx.send(Msg::Sync(tx)).is_ok() && rx.recv_timeout(self.sync_wait).is_ok()
    }

    /// [`AuditLog::sync`] off the async runtime, for a request that must
    /// not answer before its rows are written. On false (logged, naming
    /// `what`) the caller answers [`unwritten`] instead of what it would
    /// have said: the access middleware for a change answered 2xx without
    /// its row, the audit list (which would miss rows).
    pub async fn synced(&self, what: &str) -> bool {
        let log = self.clone();
        let ok = tokio::task::spawn_blocking(move || log.sync())
            .await
            .unwrap_or(false);
        if !ok {
            tracing::error!(
                "audit log: {what}: the rows recorded before it are not written within {} s (the store cannot take them now, or the audit thread is gone); answering 503",
                SYNC_WAIT.as_secs()
            );
        }
        ok
    }
}

/// The 503 of a request whose audit rows could not be written in time
/// ([`AuditLog::synced`] said false).
pub fn unwritten(what: &str) -> crate::error::ApiError {
    let mut e = crate::error::ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "audit_unavailable",
        format!(
            "{what}: the audit log cannot be written now (the server logs why); try again later"
        ),
    );
    e.retry_after = Some(30);
    e
}

/// Rows the audit thread holds while the store refuses them (then it
/// logs, and keeps the newest, counting what it had to drop).
const MAX_PENDING: usize = 100_000;

fn run<S: Audit>(
    store: S,
    rx: Receiver<Msg>,
    windows: std::sync::Arc<std::sync::Mutex<[Window; 2]>>,
) {
    // Rows not yet written, and the callers waiting for them. A store that
    // cannot write now (busy, full, gone) loses none: they are written with
    // a later try. A row the store refuses for what it is (a trigger, a
    // constraint) is logged and dropped, and holds back no other row.
    let mut pending: Vec<AuditEntry> = Vec::new();
    let mut waiters: Vec<std::sync::mpsc::SyncSender<()>> = Vec::new();
    let mut failures = 0u32;
    loop {
        // While rows wait, look again soon (backing off to 6.4 s).
        let idle = if pending.is_empty() {
            Duration::from_secs(1)
        } else {
            Duration::from_millis(50u64 << failures.min(7))
        };
        let mut next = match rx.recv_timeout(idle) {
            Ok(m) => Some(m),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => None,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                // The server is going: one last try.
                if let Err(e) = write(&store, &pending) {
                    tracing::error!("audit log: {} rows not written at exit: {e}", pending.len());
                }
                break;
            }
        };
        if next.is_none() {
            // The summary of a minute that ended with requests counted.
            if let Ok(mut ws) = windows.lock() {
                pending.extend(ws.iter_mut().filter_map(|w| w.close(now_ms())));
            }
        }
        let mut taken = 0;
        while let Some(m) = next {
            match m {
                Msg::Entry(e) => {
                    pending.push(*e);
                    taken += 1;
                }
                Msg::Sync(w) => waiters.push(w),
            }
            if taken >= 512 {
                break;
            }
            next = rx.recv_timeout(Duration::from_millis(5)).ok();
        }
        if !pending.is_empty() {
            match write(&store, &pending) {
                Ok(()) => {
                    failures = 0;
                    pending.clear();
                }
                Err(e) => {
                    failures += 1;
                    tracing::error!(
                        "audit log: cannot write {} entries (try {failures}): {e}",
                        pending.len()
                    );
                    pending = one_by_one(&store, std::mem::take(&mut pending));
                }
            }
        }
        if pending.is_empty() {
            for w in waiters.drain(..) {
                let _ = w.try_send(());
            }
        }
    }
}

/// After a batch failed: writes the rows one at a time, so that one the
/// store refuses holds back no other, and returns those the store could
/// not write now, to try again. When the first three tried all fail for
/// want of the store, the rest are kept untried.
fn one_by_one<S: Audit>(store: &S, mut pending: Vec<AuditEntry>) -> Vec<AuditEntry> {
    if pending.len() > MAX_PENDING {
        let over = pending.len() - MAX_PENDING;
        pending.drain(..over);
        tracing::error!("audit log: {over} oldest unwritten rows dropped (the store cannot write)");
    }
    let mut kept = Vec::new();
    let mut unavailable = 0usize;
    let mut answered = false;
    for row in pending {
        if !answered && unavailable >= 3 {
            kept.push(row);
            continue;
        }
        match write(store, std::slice::from_ref(&row)) {
            Ok(()) => answered = true,
            Err(e) if e.is_refusal() => {
                answered = true;
                tracing::error!(
                    "audit log: the store refuses this row, dropped: {} {} {} {} {:?}: {e}",
                    row.at_ms,
                    row.method,
                    row.path,
                    row.status,
                    row.detail
                );
            }
            Err(_) => {
                unavailable += 1;
                kept.push(row);
            }
        }
    }
    kept
}

/// The store's row of an entry (its `seq` and hash are given when appended).
fn record_of(e: &AuditEntry) -> AuditRecord {
    AuditRecord {
        seq: 0,
        at_ms: e.at_ms,
        token: e.token.clone(),
        name: e.name.clone(),
        role: e.role.clone(),
        org: e.org.clone(),
        action: e.action.clone(),
        method: e.method.clone(),
        path: e.path.clone(),
        object: e.object.clone(),
        status: e.status,
        detail: e.detail.clone(),
        hash: None,
    }
}

fn write<S: Audit + ?Sized>(store: &S, batch: &[AuditEntry]) -> Result<(), StoreError> {
    let rows: Vec<AuditRecord> = batch.iter().map(record_of).collect();
    store.append_audit(&rows)
}

/// The audit row of an authenticated state-changing request, which a
/// handler that writes through the writer hands on with its batch
/// ([`crate::writer::WriteJob::audit`]), so that the row is committed in
/// the batch's transaction. The access middleware puts it in the request
/// and, after the answer, writes the row itself only if no transaction did
/// (the batch was refused or failed: the row then says so).
#[derive(Clone, Debug)]
pub struct InTransaction {
    entry: AuditEntry,
    written: Arc<AtomicBool>,
}

/// An audit row to commit with a write, and the flag set once it is.
#[derive(Debug)]
pub struct Commit {
    pub row: AuditRecord,
    written: Arc<AtomicBool>,
}

impl Commit {
    /// Called by the writer once the transaction holding the row committed.
    pub fn committed(&self) {
        self.written.store(true, Ordering::Release);
    }
}

impl InTransaction {
    /// The request's entry (its status not yet known).
    pub fn new(mut entry: AuditEntry) -> InTransaction {
        if entry.at_ms == 0 {
            entry.at_ms = now_ms();
        }
        bound(&mut entry);
        InTransaction {
            entry,
            written: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The row to store with the request's write: it says `status`, the
    /// answer the request gets when that write commits.
    pub fn commit(&self, status: u16) -> Commit {
        let mut e = self.entry.clone();
        e.status = status;
        Commit {
            row: record_of(&e),
            written: self.written.clone(),
        }
    }

    /// A transaction committed the row.
    pub fn written(&self) -> bool {
        self.written.load(Ordering::Acquire)
    }

    /// The entry, to write after the answer when no transaction did.
    pub fn into_entry(self, status: u16) -> AuditEntry {
        AuditEntry {
            status,
            ..self.entry
        }
    }
}

/// The row of `e` (cut to the bounds, stamped now when it has no time) to
/// commit in a change's own transaction: the CLI's token commands hand it
/// to [`crate::auth::create_audited`] and [`crate::auth::revoke_audited`],
/// as the server does, so a token change and its row are stored together
/// or not at all.
pub fn row(mut e: AuditEntry) -> AuditRecord {
    if e.at_ms == 0 {
        e.at_ms = now_ms();
    }
    bound(&mut e);
    record_of(&e)
}

/// The newest entries first, at most `limit`, before sequence `before`.
pub fn list<S: Audit + ?Sized>(
    store: &S,
    limit: usize,
    before: Option<i64>,
) -> Result<Vec<AuditEntry>, StoreError> {
    Ok(store
        .audit(limit, before)?
        .into_iter()
        .map(|r| AuditEntry {
            seq: r.seq,
            at: pharos_core::EventTime(r.at_ms).to_rfc3339(),
            at_ms: r.at_ms,
            token: r.token,
            name: r.name,
            role: r.role,
            org: r.org,
            action: r.action,
            method: r.method,
            path: r.path,
            object: r.object,
            status: r.status,
            detail: r.detail,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Past the minute's allowance, requests without a token are counted
    /// and summed up in one row when the minute ends.
    #[test]
    fn a_flood_without_a_token_is_summed_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(AnyStore::open(&path).unwrap());
        let log = AuditLog::start(&path.as_path().into()).unwrap();
        let t0 = now_ms();
        let refused = |at_ms: i64, path: &str| AuditEntry {
            at_ms,
            action: "refused".into(),
            method: "GET".into(),
            path: path.into(),
            status: 401,
            ..Default::default()
        };
        for i in 0..100 {
            log.record(refused(t0 + i, &format!("/x/{i}/{}", "y".repeat(5_000))));
        }
        // An authenticated request is never held back.
        log.record(AuditEntry {
            token: Some("abc".into()),
            ..refused(t0 + 200, "/api/status")
        });
        // The next minute: the summary row, then this one.
        log.record(refused(t0 + 61_000, "/x/late"));
        log.sync();
        let s = AnyStore::open(&path).unwrap();
        let rows = list(&s, 1000, None).unwrap();
        let plain = rows.iter().filter(|r| r.path.starts_with("/x/")).count();
        assert_eq!(plain, UNAUTHENTICATED_PER_MINUTE as usize + 1);
        let sum: Vec<_> = rows.iter().filter(|r| r.path == "*").collect();
        assert_eq!(sum.len(), 1);
        let d = sum[0].detail.as_deref().unwrap();
        assert!(
            d.starts_with("40 more requests without a valid token"),
            "{d}"
        );
        assert!(rows.iter().any(|r| r.path == "/api/status"));
        assert!(rows.iter().all(|r| r.path.len() <= MAX_PATH_BYTES + 20));
        assert_eq!(s.verify_audit().unwrap().broken, None);
    }

    /// A store that refuses its first `refuse` writes, and always a row
    /// whose path is `poison`.
    struct Refusing {
        refuse: std::sync::Mutex<u32>,
        poison: &'static str,
        rows: Arc<std::sync::Mutex<Vec<AuditRecord>>>,
    }

    impl Audit for Refusing {
        fn append_audit(&self, entries: &[AuditRecord]) -> Result<(), StoreError> {
            let mut n = self.refuse.lock().unwrap();
            if entries.iter().any(|e| e.path == self.poison) {
                return Err(StoreError::Invalid("a trigger refuses it".into()));
            }
            if *n > 0 {
                *n -= 1;
                return Err(StoreError::Io {
                    path: "test".into(),
                    reason: "database is locked".into(),
                });
            }
            self.rows.lock().unwrap().extend_from_slice(entries);
            Ok(())
        }
        fn audit(&self, _: usize, _: Option<i64>) -> Result<Vec<AuditRecord>, StoreError> {
            Ok(Vec::new())
        }
        fn verify_audit(&self) -> Result<pharos_store::AuditCheck, StoreError> {
            unreachable!("not called by the audit thread")
        }
    }

    /// Rows the store refuses are kept and written on a later try, each
    /// once; `sync` waits for them.
    #[test]
    fn rows_the_store_refuses_are_written_later_not_lost() {
        let rows = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = AuditLog::start_on(Refusing {
            refuse: std::sync::Mutex::new(3),
            poison: "",
            rows: rows.clone(),
        })
        .unwrap();
        for i in 0..10 {
            log.record(AuditEntry {
                token: Some("t".into()),
                action: "read".into(),
                method: "GET".into(),
                path: format!("/api/posts/{i}"),
                status: 200,
                ..Default::default()
            });
        }
        assert!(log.sync(), "sync waits until the rows are written");
        let mut paths: Vec<String> = rows
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.path.clone())
            .collect();
        // Each once (rows refused alone may come after later ones).
        paths.sort();
        let mut want: Vec<String> = (0..10).map(|i| format!("/api/posts/{i}")).collect();
        want.sort();
        assert_eq!(paths, want);
    }

    /// Issue 14: `GET /api/audit` lists the log once every row recorded
    /// before it is written; when they cannot be (the store cannot take
    /// them), it answers 503 instead of a list missing them.
    #[tokio::test]
    async fn the_audit_list_is_503_when_its_rows_cannot_be_written() {
        use crate::auth::{Principal, Role};
        use axum::extract::{Extension, State};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(AnyStore::open(&path).unwrap());
        let admin = Principal {
            token_id: "t".into(),
            name: "ada".into(),
            role: Role::Admin,
            org: None,
        };
        let state = |log: AuditLog| {
            let (writer, _) = std::sync::mpsc::sync_channel(1);
            let (alerts, _) = tokio::sync::broadcast::channel(4);
            Arc::new(crate::state::AppState::new(
                path.as_path().into(),
                crate::Config::default(),
                writer,
                Default::default(),
                alerts,
                log,
            ))
        };
        let entry = AuditEntry {
            token: Some("t".into()),
            action: "read".into(),
            method: "GET".into(),
            path: "/api/posts".into(),
            status: 200,
            ..Default::default()
        };
        // A store that cannot take any row now.
        let mut stuck = AuditLog::start_on(Refusing {
            refuse: std::sync::Mutex::new(u32::MAX),
            poison: "",
            rows: Default::default(),
        })
        .unwrap();
        stuck.sync_wait = Duration::from_millis(300);
        stuck.record(entry.clone());
        let e = crate::api::admin::audit(
            State(state(stuck)),
            Extension(admin.clone()),
            crate::extract::Q(Default::default()),
        )
        .await
        .expect_err("no list while rows wait");
        assert_eq!(e.status, axum::http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.retry_after, Some(30));
        // The same store taking rows: the list.
        let log = AuditLog::start(&path.as_path().into()).unwrap();
        log.record(entry);
        let list = crate::api::admin::audit(
            State(state(log)),
            Extension(admin),
            crate::extract::Q(Default::default()),
        )
        .await
        .expect("a list once the rows are written");
        assert_eq!(list.0.len(), 1);
    }

    /// A row the store refuses while it takes others is dropped, and holds
    /// back none of them (a batch used to be lost with it).
    #[test]
    fn a_row_the_store_refuses_alone_holds_back_no_other() {
        let rows = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = AuditLog::start_on(Refusing {
            refuse: std::sync::Mutex::new(0),
            poison: "/poison",
            rows: rows.clone(),
        })
        .unwrap();
        let entry = |path: &str| AuditEntry {
            token: Some("t".into()),
            action: "change".into(),
            method: "PUT".into(),
            path: path.into(),
            status: 200,
            ..Default::default()
        };
        log.record(entry("/a"));
        log.record(entry("/poison"));
        log.record(entry("/b"));
        assert!(log.sync(), "the refused row does not hold back the others");
        log.record(entry("/c"));
        assert!(log.sync());
        let paths: Vec<String> = rows
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.path.clone())
            .collect();
        assert_eq!(paths, ["/a", "/b", "/c"]);
    }
}
