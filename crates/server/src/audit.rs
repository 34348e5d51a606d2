//! The append-only audit log: who read, exported or changed what.
//!
//! Every request that reaches an authenticated route, and every refusal,
//! becomes one row of `server_audit`. Triggers in the store refuse UPDATE
//! and DELETE on that table, so the log only grows. Rows are written by one
//! thread in small transactions (so a busy API costs one insert per
//! request, batched), in the order requests finished.

use crate::auth::now_ms;
use pharos_store::{Audit, AuditRecord, SqliteStore, StoreError};
use serde::Serialize;
use std::path::Path;
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

enum Msg {
    Entry(Box<AuditEntry>),
    /// Answered once every entry sent before it is written.
    Sync(std::sync::mpsc::SyncSender<()>),
}

/// Sends entries to the audit thread.
#[derive(Clone)]
pub struct AuditLog {
    tx: Sender<Msg>,
}

impl AuditLog {
    /// Starts the audit thread on its own connection to the store.
    pub fn start(store_path: &Path) -> anyhow::Result<AuditLog> {
        let store = SqliteStore::open(store_path)?;
        let (tx, rx) = channel();
        std::thread::Builder::new()
            .name("pharos-audit".into())
            .spawn(move || run(store, rx))?;
        Ok(AuditLog { tx })
    }

    pub fn record(&self, mut e: AuditEntry) {
        if e.at_ms == 0 {
            e.at_ms = now_ms();
        }
        let _ = self.tx.send(Msg::Entry(Box::new(e)));
    }

    /// Waits (at most 10 s) until every entry recorded before this call is written.
    pub fn sync(&self) {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        if self.tx.send(Msg::Sync(tx)).is_ok() {
            let _ = rx.recv_timeout(Duration::from_secs(10));
        }
    }
}

fn run(store: SqliteStore, rx: Receiver<Msg>) {
    while let Ok(first) = rx.recv() {
        let mut batch = Vec::new();
        let mut waiters = Vec::new();
        let mut next = Some(first);
        while let Some(m) = next {
            match m {
                Msg::Entry(e) => batch.push(*e),
                Msg::Sync(w) => waiters.push(w),
            }
            if batch.len() >= 512 {
                break;
            }
            next = rx.recv_timeout(Duration::from_millis(5)).ok();
        }
        if let Err(e) = write(&store, &batch) {
            tracing::error!("audit log: cannot write {} entries: {e}", batch.len());
        }
        for w in waiters {
            let _ = w.try_send(());
        }
    }
}

fn write<S: Audit + ?Sized>(store: &S, batch: &[AuditEntry]) -> Result<(), StoreError> {
    let rows: Vec<AuditRecord> = batch
        .iter()
        .map(|e| AuditRecord {
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
        })
        .collect();
    store.append_audit(&rows)
}

/// Writes one entry directly (the CLI's token commands).
pub fn write_now<S: Audit + ?Sized>(store: &S, e: AuditEntry) -> Result<(), StoreError> {
    let mut e = e;
    if e.at_ms == 0 {
        e.at_ms = now_ms();
    }
    write(store, &[e])
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
