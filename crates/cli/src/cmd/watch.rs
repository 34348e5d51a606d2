//! `pharos watch`: poll RSS/Atom feeds and store their new items.

use super::{Global, StoreArg};
use anyhow::{Context, Result, bail};
use pharos_ingest::feed::{FeedClient, FeedState, PollOutcome, poll};
use pharos_ingest::{Item, Options, Quarantine};
use pharos_store::{RunRecord, SqliteStore, Store};
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Poll feeds on a schedule and store only their new items.
///
/// Each poll sends the ETag / Last-Modified of the previous one
/// (conditional GET): an unchanged feed costs one `304 Not Modified`. What
/// each feed has already given is remembered in a state file beside the
/// store (`<store>.feeds.json`), so a restarted watch does not re-read old
/// items. A feed that is down is tried again at the next tick.
///
/// Runs until interrupted (Ctrl-C is safe: each poll is stored in one
/// transaction), or for `--polls N` rounds.
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Feed URL (RSS 2.0, RSS 1.0 or Atom); repeat for several feeds.
    #[arg(long = "feed", required = true, value_name = "URL")]
    pub feeds: Vec<String>,

    /// Time between polls: `30s`, `5m`, `1h`, or seconds.
    #[arg(long, default_value = "5m", value_parser = parse_every)]
    pub every: Duration,

    #[command(flatten)]
    pub store: StoreArg,

    /// Stop after this many rounds of polls (default: run until interrupted).
    #[arg(long, value_name = "N")]
    pub polls: Option<u64>,

    /// Poll once and stop (same as --polls 1).
    #[arg(long)]
    pub once: bool,

    /// Platform of the stored items (default `rss`).
    #[arg(long)]
    pub platform: Option<String>,

    /// Per-request time limit in seconds.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,

    /// Where feed state is kept (default: `<store>.feeds.json` beside the store).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// One JSON object a line per poll instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Reads `30s`, `5m`, `1h`, `1d` or a number of seconds.
pub fn parse_every(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("bad duration {s:?}: use e.g. 30s, 5m, 1h"))?;
    let secs = match unit {
        "s" | "sec" | "secs" => n,
        "m" | "min" | "mins" => n * 60.0,
        "h" | "hour" | "hours" => n * 3600.0,
        "d" | "day" | "days" => n * 86400.0,
        _ => return Err(format!("bad duration unit {unit:?}: use s, m, h or d")),
    };
    if !(secs > 0.0 && secs.is_finite()) {
        return Err(format!("bad duration {s:?}: must be positive"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[derive(Serialize)]
struct PollReport<'a> {
    feed: &'a str,
    status: &'static str,
    items: usize,
    new: usize,
    stored: u64,
    duplicates: u64,
    quarantined: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    if args
        .feeds
        .iter()
        .any(|f| !(f.starts_with("http://") || f.starts_with("https://")))
    {
        bail!(
            "--feed takes http:// or https:// URLs; to read a feed file use `pharos ingest --format rss FILE`"
        );
    }
    let mut store = SqliteStore::open(&args.store.store)?;
    let state_path = args.state.clone().unwrap_or_else(|| {
        let stem = args
            .store
            .store
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "pharos".into());
        args.store
            .store
            .with_file_name(format!("{stem}.feeds.json"))
    });
    let mut states: BTreeMap<String, FeedState> = match std::fs::read(&state_path) {
        Ok(b) => serde_json::from_slice(&b).with_context(|| {
            format!(
                "feed state {} is unreadable; move it away to start afresh",
                state_path.display()
            )
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", state_path.display())),
    };
    let client = FeedClient::with_timeout(Duration::from_secs(args.timeout.max(1)))?;
    let mut opts = Options::new();
    opts.platform = args.platform.clone();
    let mut quarantine = Quarantine::new(store.quarantine_path());
    let rounds = if args.once { Some(1) } else { args.polls };
    let mut round = 0u64;
    let mut total_stored = 0u64;
    loop {
        let started = Instant::now();
        round += 1;
        for url in &args.feeds {
            let state = states.entry(url.clone()).or_default();
            let mut posts = Vec::new();
            let mut rejected = Vec::new();
            let run_started = crate::pipeline::now_ms();
            let result = poll(&client, url, state, &opts, &mut |item| {
                match item {
                    Item::Post(p) => posts.push(*p),
                    Item::Rejected(r) => rejected.push(r),
                }
                ControlFlow::Continue(())
            });
            let mut rep = PollReport {
                feed: url,
                status: "fetched",
                items: 0,
                new: 0,
                stored: 0,
                duplicates: 0,
                quarantined: rejected.len() as u64,
                error: None,
            };
            match &result {
                Ok(PollOutcome::NotModified) => rep.status = "not-modified",
                Ok(PollOutcome::Fetched { items, new }) => {
                    rep.items = *items;
                    rep.new = *new;
                }
                Err(e) => {
                    rep.status = "error";
                    rep.error = Some(e.to_string());
                }
            }
            let done = store.insert(&posts)?;
            for r in &rejected {
                quarantine.put(r).context("writing quarantine")?;
            }
            quarantine.flush()?;
            rep.stored = done.stored;
            rep.duplicates = done.duplicates;
            total_stored += done.stored;
            if rep.stored > 0 || rep.quarantined > 0 {
                store.record_run(&RunRecord {
                    command: "watch".into(),
                    sources: vec![url.clone()],
                    stored: done.stored,
                    duplicates: done.duplicates,
                    quarantined: rep.quarantined,
                    started_ms: run_started,
                    finished_ms: crate::pipeline::now_ms(),
                })?;
            }
            // Save after storing, so a crash between the two re-reads rather than loses items.
            save_states(&state_path, &states)?;
            if args.json {
                println!("{}", serde_json::to_string(&rep)?);
            } else if !global.quiet || rep.error.is_some() {
                match &rep.error {
                    Some(e) => eprintln!("pharos: {e} (will retry)"),
                    None if rep.status == "not-modified" => println!("{url}: not modified"),
                    None => println!(
                        "{url}: {} items, {} new, {} stored, {} quarantined",
                        rep.items, rep.new, rep.stored, rep.quarantined
                    ),
                }
            }
        }
        if rounds.is_some_and(|n| round >= n) {
            break;
        }
        if let Some(rest) = args.every.checked_sub(started.elapsed()) {
            std::thread::sleep(rest);
        }
    }
    if !global.quiet && !args.json {
        eprintln!("stored {total_stored} new posts in {round} rounds");
    }
    Ok(ExitCode::SUCCESS)
}

fn save_states(path: &PathBuf, states: &BTreeMap<String, FeedState>) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(states)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_every;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_every("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_every("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_every("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_every("90").unwrap(), Duration::from_secs(90));
        assert!(parse_every("5x").is_err());
        assert!(parse_every("0s").is_err());
    }
}
