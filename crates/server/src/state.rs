//! What every handler shares: the store (a pool of read connections and the
//! one writer), the analysis snapshot, the live alert channel and the audit log.

use crate::analyst::{LiveEvent, Snapshot};
use crate::audit::{AuditEntry, AuditLog};
use crate::auth::Principal;
use crate::clearance::Clearance;
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::tlp::Marking;
use crate::writer::WriteJob;
use pharos_store::PostLog;
use pharos_store::{AnyStore, Location, Store};
use std::collections::HashMap;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;
use tokio::sync::broadcast;

pub type Shared = Arc<AppState>;

pub struct AppState {
    /// Where the store is (an SQLite file or a PostgreSQL database).
    pub store_path: Location,
    pub config: Config,
    pool: Mutex<Vec<AnyStore>>,
    /// The writer thread's queue (bounded: [`crate::config::IngestConfig::queue`]).
    pub writer: SyncSender<WriteJob>,
    pub snapshot: Arc<RwLock<Snapshot>>,
    /// Live events (alert notifications, incidents new or updated) for
    /// `/api/alerts/stream`.
    pub alerts_tx: broadcast::Sender<LiveEvent>,
    pub audit: AuditLog,
    /// With `[bus] ingest = "bus"`: where `POST /api/ingest` publishes.
    pub bus_ingest: Option<Arc<pharos_bus::publish::Gateway>>,
    /// Failed dashboard logins by peer (`POST /login`).
    pub logins: crate::auth::LoginLimiter,
    pub started: Instant,
    /// `pharos stats` of the store, by `top`: (posts stored, runs, when, stats).
    stats: Mutex<HashMap<usize, StatsEntry>>,
    /// The posts hidden from partners, by the markings that hide them
    /// ([`Clearance::load`]).
    pub hidden_posts: crate::clearance::HiddenPostsCache,
}

type StatsEntry = (i64, i64, Instant, Arc<pharos_store::Stats>);

/// Store statistics (full scans: about 2 s on 1M posts) are recomputed
/// when the store changed and the cached ones are older than this.
const STATS_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(30);

impl AppState {
    pub fn new(
        store_path: Location,
        config: Config,
        writer: SyncSender<WriteJob>,
        snapshot: Arc<RwLock<Snapshot>>,
        alerts_tx: broadcast::Sender<LiveEvent>,
        audit: AuditLog,
    ) -> AppState {
        AppState {
            store_path,
            config,
            pool: Mutex::new(Vec::new()),
            writer,
            snapshot,
            alerts_tx,
            audit,
            bus_ingest: None,
            logins: Default::default(),
            started: Instant::now(),
            stats: Mutex::new(HashMap::new()),
            hidden_posts: Default::default(),
        }
    }

    /// The store's statistics (`pharos stats`), cached: the same answer
    /// while no post or run was added, and for [`STATS_MAX_AGE`] after.
    pub async fn stats(self: &Arc<Self>, top: usize) -> ApiResult<Arc<pharos_store::Stats>> {
        let me = self.clone();
        self.read(move |s| {
            let (posts, runs) = s.write_stamp()?;
            if let Some((p, r, at, cached)) = me.stats.lock().map_err(ApiError::internal)?.get(&top)
                && ((*p, *r) == (posts, runs) || at.elapsed() < STATS_MAX_AGE)
            {
                return Ok(cached.clone());
            }
            let fresh = Arc::new(s.stats(top)?);
            me.stats
                .lock()
                .map_err(ApiError::internal)?
                .insert(top, (posts, runs, Instant::now(), fresh.clone()));
            Ok(fresh)
        })
        .await
    }

    fn take(&self) -> ApiResult<AnyStore> {
        let pooled = self.pool.lock().map_err(ApiError::internal)?.pop();
        match pooled {
            Some(s) => Ok(s),
            None => Ok(AnyStore::open(&self.store_path)?),
        }
    }

    fn give_back(&self, s: AnyStore) {
        if let Ok(mut p) = self.pool.lock()
            && p.len() < 16
        {
            p.push(s);
        }
    }

    /// Runs `f` on a read connection, off the async threads.
    pub async fn read<T, F>(self: &Arc<Self>, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&AnyStore) -> ApiResult<T> + Send + 'static,
    {
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let s = me.take()?;
            let r = f(&s);
            me.give_back(s);
            r
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// Records one audit entry (written by the audit thread, in order).
    pub fn audit(&self, e: AuditEntry) {
        self.audit.record(e);
    }

    /// The GREEN community.
    pub fn community(&self) -> &[String] {
        &self.config.tlp.community
    }

    /// What `who` may see ([`Clearance`]), read on this connection.
    pub fn clearance(&self, store: &AnyStore, who: &Principal) -> ApiResult<Clearance> {
        Clearance::load(self, store, who)
    }

    /// What `who` may see, read off the async threads.
    pub async fn clearance_of(self: &Arc<Self>, who: &Principal) -> ApiResult<Clearance> {
        let me = self.clone();
        let who = who.clone();
        self.read(move |s| Clearance::load(&me, s, &who)).await
    }

    /// Refuses a partner not cleared for the store's default marking
    /// (collections: posts, narratives, networks, actors, alerts).
    pub fn check_collection(&self, who: &Principal) -> ApiResult<Marking> {
        Clearance::without_markings(self, who).collection()
    }
}

/// A stored marking as the server reads it (an unknown TLP reads as RED).
pub(crate) fn marking(m: pharos_store::MarkingRecord) -> Marking {
    Marking {
        tlp: crate::tlp::Tlp::parse(&m.tlp).unwrap_or(crate::tlp::Tlp::Red),
        orgs: m.orgs,
        people: m.people,
    }
}
