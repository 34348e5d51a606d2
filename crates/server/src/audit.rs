//! The append-only audit log: who read, exported or changed what.
//!
//! Every request that reaches an authenticated route, and every refusal,
//! becomes one row of `server_audit`. Triggers in the store refuse UPDATE
//! and DELETE on that table, so the log only grows. Rows are written by one
//! thread in small transactions (so a busy API costs one insert per
//! request, batched), in the order requests finished.

use crate::auth::now_ms;
use pharos_store::SqliteStore;
use pharos_store::rusqlite::params;
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

fn run(mut store: SqliteStore, rx: Receiver<Msg>) {
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
        if let Err(e) = write(&mut store, &batch) {
            tracing::error!("audit log: cannot write {} entries: {e}", batch.len());
        }
        for w in waiters {
            let _ = w.try_send(());
        }
    }
}

fn write(store: &mut SqliteStore, batch: &[AuditEntry]) -> pharos_store::rusqlite::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let tx = store.conn_mut().transaction()?;
    {
        let mut ins = tx.prepare_cached(
            "INSERT INTO server_audit (at_ms, token, name, role, org, action, method, path, object, status, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        for e in batch {
            ins.execute(params![
                e.at_ms, e.token, e.name, e.role, e.org, e.action, e.method, e.path, e.object,
                e.status, e.detail
            ])?;
        }
    }
    tx.commit()
}

/// Writes one entry directly (the CLI's token commands).
pub fn write_now(store: &mut SqliteStore, e: AuditEntry) -> pharos_store::rusqlite::Result<()> {
    let mut e = e;
    if e.at_ms == 0 {
        e.at_ms = now_ms();
    }
    write(store, &[e])
}

/// The newest entries first, at most `limit`, before sequence `before`.
pub fn list(
    store: &SqliteStore,
    limit: usize,
    before: Option<i64>,
) -> pharos_store::rusqlite::Result<Vec<AuditEntry>> {
    let mut stmt = store.conn().prepare_cached(
        "SELECT seq, at_ms, token, name, role, org, action, method, path, object, status, detail
         FROM server_audit WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![before.unwrap_or(i64::MAX), limit as i64], |r| {
        let at_ms: i64 = r.get(1)?;
        Ok(AuditEntry {
            seq: r.get(0)?,
            at: pharos_core::EventTime(at_ms).to_rfc3339(),
            at_ms,
            token: r.get(2)?,
            name: r.get(3)?,
            role: r.get(4)?,
            org: r.get(5)?,
            action: r.get(6)?,
            method: r.get(7)?,
            path: r.get(8)?,
            object: r.get(9)?,
            status: r.get::<_, i64>(10)? as u16,
            detail: r.get(11)?,
        })
    })?;
    rows.collect()
}
