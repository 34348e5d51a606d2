//! `pharos serve`: the REST API, live ingest and alerts, and the dashboard.

use super::{Global, StoreArg};
use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;

/// Serve the REST API (OpenAPI at /api/openapi.json) and the dashboard.
///
/// Every route needs a token (`pharos token create --role admin|analyst|partner`);
/// the dashboard asks for one at /login. Posts arrive with
/// `POST /api/ingest` (canonical NDJSON) and from the feeds of the config's
/// [watch] section; alerts go out on /api/alerts/stream (server-sent events)
/// and to the config's webhooks. docs/server.md has the routes, roles, TLP
/// rules, the config file and the limits.
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreArg,
    /// Address to listen on (loopback by default; put a TLS proxy in front for anything else).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Server config (TOML): ingest limits, TLP defaults, alert rules and webhooks, feeds, coordination.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Replicas: share live alerts and incidents with every other replica
    /// (and the `pharos worker` pipeline's alerts) over this NATS bus, so
    /// each replica's SSE clients see them all; `POST /api/ingest` then
    /// publishes posts to the bus for `pharos worker` to store (202; 503
    /// only when the bus refuses; the config's `[bus] ingest = "store"`
    /// stores them here instead). docs/deploy.md.
    #[arg(long, value_name = "nats://HOST:PORT[/NAMESPACE]")]
    pub bus: Option<String>,
}

pub fn run(args: Args, _global: &Global) -> Result<ExitCode> {
    let mut config = match &args.config {
        Some(p) => pharos_server::Config::load(p)?,
        None => pharos_server::Config::default(),
    };
    if let Some(bus) = &args.bus {
        config.bus.url = Some(bus.clone());
    }
    let listen = if args.listen == "127.0.0.1:8080" {
        config.listen.clone().unwrap_or(args.listen)
    } else {
        args.listen
    };
    pharos_server::run(&args.store.store, &listen, config)?;
    Ok(ExitCode::SUCCESS)
}
