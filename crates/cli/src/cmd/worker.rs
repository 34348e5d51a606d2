//! `pharos worker`: store what the bus carries and run the pipeline; and
//! `pharos ingest --bus` (publishing instead of storing).

use super::Global;
use crate::progress::Bar;
use anyhow::{Context, Result};
use pharos_bus::worker::WorkerConfig;
use pharos_bus::{Bus, BusUrl, Setup};
use pharos_ingest::Options;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Store the posts of a NATS JetStream bus and run the pipeline over them.
///
/// Any number of workers share a namespace's stream (`pharos ingest FILE
/// --bus URL` publishes to it): each message goes to one worker, which
/// stores its posts in one transaction (idempotent on platform and id) and
/// acknowledges it after the commit. A worker killed at any moment loses
/// nothing: what it had not acknowledged is redelivered to another after
/// --ack-wait, and the store keeps one copy of each post.
///
/// The pipeline (narratives, actor signals, coordination, bursts, alert
/// rules) runs in one worker at a time, the holder of the leader lease; it
/// reads the stream in its order, so the alerts are the same whatever the
/// number of workers, and publishes them on the bus (stream <NS>_alerts),
/// each once, where `pharos serve --bus` replicas pick them up. When the
/// leader dies another takes over within --lease seconds and replays the
/// stream without re-sending what was sent.
///
/// Lines that are no posts go to the quarantine file (--quarantine); a
/// message with no post at all, or too large, is quarantined and never
/// redelivered. docs/deploy.md has the set-up; docs/architecture.md why.
///
/// Examples:
///   pharos worker --bus nats://127.0.0.1:4222/team --store postgres://root@127.0.0.1:5432/team
///   pharos worker --bus nats://127.0.0.1:4222/team --status
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The bus and namespace (stream, subject and consumer names
    /// begin with the namespace; default `pharos`).
    #[arg(long, value_name = "nats://HOST:PORT[/NAMESPACE]")]
    pub bus: String,

    /// Where posts are stored: an SQLite file or a postgres:// URL.
    #[arg(
        long,
        value_name = "LOCATION",
        env = "PHAROS_STORE",
        required_unless_present = "status"
    )]
    pub store: Option<String>,

    /// This worker's name, in the leader lease and the logs (default: host-pid).
    #[arg(long)]
    pub name: Option<String>,

    /// Messages fetched and stored in one transaction (each holds up to 256 posts).
    #[arg(long, default_value_t = 32)]
    pub fetch: usize,

    /// Seconds before a message a worker took but did not acknowledge goes
    /// to another (used when the namespace's consumer is created).
    #[arg(long, default_value_t = 30)]
    pub ack_wait: u64,

    /// Seconds the leader lease lasts without renewal: how long a dead
    /// leader's pipeline waits for a successor (used when the namespace's
    /// bucket is created).
    #[arg(long, default_value_t = 10)]
    pub lease: u64,

    /// Alert rules (TOML) for the pipeline; the built-in rule by default.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,

    /// Where lines and messages that are no posts go (default
    /// `<NAME>.quarantine.jsonl` in the current directory).
    #[arg(long, value_name = "FILE")]
    pub quarantine: Option<PathBuf>,

    /// Only store: never run the pipeline (other workers do).
    #[arg(long)]
    pub no_pipeline: bool,

    /// Print where the namespace stands (JSON: messages, pending, leader ...) and exit.
    #[arg(long)]
    pub status: bool,
}

/// A runtime for the bus's I/O (its threads; the callers block on it from
/// their own).
fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pharos-bus")
        .enable_all()
        .build()?)
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    let url = BusUrl::parse(&args.bus)?;
    let rt = runtime()?;
    let bus = rt.block_on(Bus::connect(&url))?;
    if args.status {
        let s = rt.block_on(bus.status())?;
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    let location = args.store.clone().unwrap_or_default();
    let name = args.name.clone().unwrap_or_else(default_name);
    let mut cfg = WorkerConfig::new(
        name.clone(),
        args.quarantine
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("{name}.quarantine.jsonl"))),
    );
    cfg.fetch = args.fetch.max(1);
    cfg.pipeline = !args.no_pipeline;
    cfg.setup = Setup {
        ack_wait: Duration::from_secs(args.ack_wait.max(1)),
        lease_ttl: Duration::from_secs(args.lease.max(1)),
    };
    if let Some(r) = &args.rules {
        cfg.rules = pharos_alerts::Rules::load(r)?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        rt.spawn(async move {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            let termed = async {
                match term.as_mut() {
                    Some(t) => {
                        t.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = termed => {}
            }
            stop.store(true, Ordering::Relaxed);
        });
    }
    if !global.quiet {
        eprintln!(
            "pharos worker {name}: bus {url}, store {}; Ctrl-C stops",
            redact(&location)
        );
    }
    let mut store =
        pharos_store::open(&location).with_context(|| format!("store {}", redact(&location)))?;
    let stats = pharos_bus::worker::run(rt.handle(), &bus, &mut store, &cfg, &stop)?;
    if !global.quiet {
        eprintln!(
            "pharos worker {name}: {} messages, {} posts stored, {} duplicates, {} lines quarantined, {} messages terminated",
            stats.messages, stats.stored, stats.duplicates, stats.quarantined, stats.terminated
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn default_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let host = if host.is_empty() {
        "worker".into()
    } else {
        host
    };
    format!("{host}-{}", std::process::id())
}

/// A location for messages: a URL's password hidden.
fn redact(location: &str) -> String {
    if pharos_store::postgres::is_postgres_url(location) {
        pharos_store::postgres::redact_url(location)
    } else {
        location.to_string()
    }
}

/// `pharos ingest FILE... --bus URL`.
pub fn ingest_to_bus(
    url: &str,
    args: &super::ingest::Args,
    opts: &Options,
    global: &Global,
) -> Result<ExitCode> {
    let url = BusUrl::parse(url)?;
    let (feeds, files): (Vec<PathBuf>, Vec<PathBuf>) = args.files.iter().cloned().partition(|f| {
        let s = f.to_string_lossy();
        s.starts_with("http://") || s.starts_with("https://")
    });
    if !feeds.is_empty() {
        anyhow::bail!(
            "--bus publishes files; feeds ({}) are polled by `pharos watch` or the server",
            feeds[0].display()
        );
    }
    let rt = runtime()?;
    let bus = rt.block_on(Bus::connect(&url))?;
    let quarantine = args.store.store.beside("quarantine.jsonl");
    let pb = crate::progress::counter(global.quiet || args.json, "posts");
    let summary = pharos_bus::publish::publish_files(
        rt.handle(),
        &bus,
        &files,
        opts,
        args.strict,
        &quarantine,
        &Bar(&pb),
    )?;
    pb.finish_and_clear();
    super::ingest::report(&summary, args.json, global.quiet)?;
    Ok(super::ingest::exit_code(&summary))
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact("postgres://root:pw@127.0.0.1:5432/db"),
            "postgres://root:***@127.0.0.1:5432/db"
        );
        assert_eq!(redact("postgres://root@h/db"), "postgres://root@h/db");
        assert_eq!(redact("x.db"), "x.db");
    }
}
