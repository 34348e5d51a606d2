//! `pharos export`: stored posts out as canonical JSONL.

use super::{Global, StoreArg};
use anyhow::{Context, Result, bail};
use pharos_core::EventTime;
use pharos_store::{PostFilter, SqliteStore, Store};
use std::io::{BufWriter, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;

/// Write stored posts in event-time order. `pharos ingest` reads the output
/// back as the same records.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreArg,
    /// Output format (only `jsonl`, the canonical format, for now).
    #[arg(long, default_value = "jsonl")]
    pub format: String,
    /// Output file (default: standard output).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Only posts at or after this time (RFC 3339, date, or epoch).
    #[arg(long)]
    pub since: Option<String>,
    /// Only posts before this time.
    #[arg(long)]
    pub until: Option<String>,
    /// Only posts of this platform.
    #[arg(long)]
    pub platform: Option<String>,
}

pub fn parse_time(flag: &str, v: &Option<String>) -> Result<Option<EventTime>> {
    v.as_deref()
        .map(|s| EventTime::parse(s).with_context(|| format!("--{flag}")))
        .transpose()
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    if args.format != "jsonl" {
        bail!(
            "unknown export format {:?}; only jsonl is available",
            args.format
        );
    }
    let store = SqliteStore::open_existing(&args.store.store)?;
    let filter = PostFilter {
        since: parse_time("since", &args.since)?,
        until: parse_time("until", &args.until)?,
        platform: args.platform.clone(),
    };
    let out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(1 << 20, out);
    let mut n = 0u64;
    let mut err: Option<std::io::Error> = None;
    store.scan(&filter, &mut |post| {
        let r = serde_json::to_writer(&mut out, &post)
            .map_err(std::io::Error::other)
            .and_then(|_| out.write_all(b"\n"));
        match r {
            Ok(()) => {
                n += 1;
                ControlFlow::Continue(())
            }
            Err(e) => {
                err = Some(e);
                ControlFlow::Break(())
            }
        }
    })?;
    if let Some(e) = err {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Ok(ExitCode::SUCCESS);
        }
        return Err(e).context("writing export");
    }
    out.flush().context("writing export")?;
    if !global.quiet
        && let Some(p) = &args.out
    {
        eprintln!("exported {n} posts to {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}
