//! Pharos server: REST API, live ingest and alerts, dashboard, access control and audit.
//!
//! - [`api`]: the REST routes and the OpenAPI document (`/api/openapi.json`, utoipa).
//! - [`dashboard`]: the analysts' pages, server-rendered HTML with SVG charts (no scripts from elsewhere).
//! - [`auth`], [`tlp`], [`audit`]: tokens and roles, TLP 2.0 clearance, the append-only audit log.
//! - [`writer`]: the one store writer (ingest batches, full-text index), fed by a bounded queue.
//! - [`analyst`]: the live pipeline (`pharos_assess::stream`, as `pharos assess` runs it): narratives, actor signals, coordination flags, bursts → alerts (SSE, webhooks); coordination networks.
//! - [`incidents`]: live incidents, reassessed as posts arrive and kept in the store.
//! - [`fanout`]: with a bus (`pharos serve --bus`), live events to and from the other replicas.
//! - [`watch`]: feed polling inside the server.
//! - [`taxii`]: the TAXII 2.1 server under `/taxii2/` (findings, the analysts' inbox, partner collections).
//! - [`claims`]: the fact-check library, claim matches and response packs (pharos-claims).
//!
//! [`start`] opens the store and starts the threads; [`router`] is the
//! whole HTTP surface, which tests drive without a socket.

pub mod analyst;
pub mod api;
pub mod audit;
pub mod auth;
pub mod claims;
pub mod clearance;
pub mod config;
pub mod dashboard;
pub mod error;
pub mod extract;
pub mod fanout;
pub mod headers;
pub mod incidents;
pub mod state;
pub mod taxii;
pub mod tlp;
pub mod watch;
pub mod writer;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use pharos_store::Location;
use state::{AppState, Shared};
use std::sync::{Arc, RwLock};

pub use config::Config;

/// Opens (preparing) the store and starts the writer, audit, analysis and
/// feed threads. The store must exist.
///
/// The store is opened on a thread of its own: PostgreSQL's blocking client
/// cannot run on an async runtime's thread, and callers (`pharos serve`,
/// tests) call this from one. The caller's runtime, if any, runs the bus
/// fan-out's task.
pub fn start(store: impl Into<Location>, config: Config) -> anyhow::Result<Shared> {
    let store = store.into();
    let runtime = tokio::runtime::Handle::try_current().ok();
    std::thread::scope(|s| {
        s.spawn(|| start_blocking(&store, config, runtime))
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

fn start_blocking(
    store_path: &Location,
    config: Config,
    runtime: Option<tokio::runtime::Handle>,
) -> anyhow::Result<Shared> {
    // Opening creates (or brings up to date) every table, the server's too.
    drop(pharos_store::AnyStore::open_existing(store_path)?);
    let writer::Writer {
        jobs: writer,
        stored,
        ..
    } = writer::start(store_path, config.ingest.queue)?;
    let audit = audit::AuditLog::start(store_path)?;
    let snapshot = Arc::new(RwLock::new(analyst::Snapshot::default()));
    // What SSE clients read; what this replica raises goes through the
    // bus first when there is one (`fanout`).
    let (alerts_tx, _) = tokio::sync::broadcast::channel(1024);
    let raised_tx = match &config.bus.url {
        Some(url) => {
            let _runtime = runtime.as_ref().map(|h| h.enter());
            fanout::start(url, alerts_tx.clone())?
        }
        None => alerts_tx.clone(),
    };
    analyst::start(
        store_path.clone(),
        &config,
        snapshot.clone(),
        raised_tx.clone(),
        stored,
    )?;
    incidents::start_live(store_path.clone(), &config, snapshot.clone(), raised_tx)?;
    watch::start(store_path, &config.watch, writer.clone())?;
    taxii::start_pulls(store_path, &config.taxii.pull)?;
    let bus_ingest = match &config.bus.url {
        Some(url) if config.bus.ingest == config::BusIngest::Bus => Some(Arc::new(
            pharos_bus::publish::Gateway::new(pharos_bus::BusUrl::parse(url)?),
        )),
        _ => None,
    };
    if let (Some(g), Some(rt)) = (&bus_ingest, &runtime) {
        // Posts published with no worker reading wait in the bus: say so.
        let g = g.clone();
        rt.spawn(async move {
            match g.workers_reading().await {
                Some(true) => tracing::info!(
                    "bus {}: HTTP ingest publishes posts for the workers",
                    g.url()
                ),
                Some(false) | None => tracing::warn!(
                    "bus {}: HTTP ingest publishes posts to the bus, and no `pharos worker` is reading it now: \
                     posts wait there until one stores them ([bus] ingest = \"store\" stores them here)",
                    g.url()
                ),
            }
        });
    }
    let mut state = AppState::new(
        store_path.clone(),
        config,
        writer,
        snapshot,
        alerts_tx,
        audit,
    );
    state.bus_ingest = bus_ingest;
    Ok(Arc::new(state))
}

/// The whole HTTP surface: API and dashboard behind the access check; the
/// login page and static assets open.
pub fn router(state: Shared) -> Router {
    let limit = state.config.ingest.max_body_bytes;
    let protected = api::routes()
        .merge(taxii::routes())
        .merge(dashboard::routes())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            extract::access,
        ));
    Router::new()
        .merge(protected)
        .merge(dashboard::open_routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(headers::security_headers))
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> error::ApiError {
    error::ApiError::not_found(format!("no route {}: see /api/openapi.json", uri.path()))
}

/// Serves until Ctrl-C.
pub async fn serve(listener: tokio::net::TcpListener, state: Shared) -> anyhow::Result<()> {
    let app = router(state);
    // The peer's address, for the failed-login limit (auth::LoginLimiter).
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

/// `pharos serve`: opens the store, binds `listen`, prints the address,
/// and serves until Ctrl-C (on a multi-threaded runtime of its own).
pub fn run(store_path: &Location, listen: &str, config: Config) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let state = start(store_path, config)?;
        // The overview's store statistics take seconds on large stores: warm them.
        let warm = state.clone();
        tokio::spawn(async move { warm.stats(8).await.ok() });
        let tokens = state
            .read(|s| crate::auth::list(s).map_err(error::ApiError::internal))
            .await
            .map(|t| t.iter().filter(|t| t.revoked.is_none()).count())
            .unwrap_or(0);
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
        let addr = listener.local_addr()?;
        eprintln!("pharos serve: http://{addr}/ (API: http://{addr}/api/openapi.json); store {store_path}");
        if tokens == 0 {
            eprintln!(
                "pharos serve: no tokens yet: create one with `pharos token create --role admin --name you --store {store_path}`"
            );
        }
        serve(listener, state).await
    })
}
