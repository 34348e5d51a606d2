//! `pharos watch`: poll RSS/Atom feeds and store their new items; optionally
//! stream coordination over them.

use super::{Global, StoreArg};
use anyhow::{Context, Result, bail};
use pharos_analysis::coordination::ObjectRule;
use pharos_analysis::coordination::stream::{
    OwnedPair, StreamPair, StreamParams, StreamingCoordinator,
};
use pharos_core::time::drop_after_horizon;
use pharos_core::{EventTime, FUTURE_TOLERANCE_MS, Post, live_horizon_ms};
use pharos_ingest::feed::{FeedClient, PollOutcome};
use pharos_ingest::watch::{FeedPoll, FeedWatch};
use pharos_ingest::{Options, Quarantine};
use pharos_store::{AnyStore, RunRecord, Store};
use serde::Serialize;
use std::io::Write;
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
///
/// With `--coordination-out FILE.jsonl`, the new items of each poll are
/// sorted by time and streamed through the coordination detector: two
/// accounts that share the same object (`--object`) within `--time-window`
/// seconds make a pair, appended to FILE as one JSON line (object, both post
/// ids, both accounts, both times, the delta) as soon as it is certain.
/// Items may arrive up to `--lateness` behind the newest one seen; an item
/// older than that is still stored but not paired: it is counted (`late` in
/// the poll report) and `pharos coordination --store` finds its pairs in
/// batch. Pairs still waiting for the lateness are written when the last
/// round ends (not on Ctrl-C).
///
/// With `--alerts-out FILE.jsonl`, `--stdout` or `--webhook URL`, the new
/// items of each poll (sorted by time) also go through the early-warning
/// pipeline of `pharos assess` (narratives, actor signals, streaming
/// coordination flags, burst detector kept across polls, alert rules from
/// `--rules`): each alert is delivered as one JSON line when it is raised
/// and again when it closes. Items older than the newest one already seen
/// are still assessed but not paired by the coordination flags. Bursts
/// still open are closed when the last round ends (not on Ctrl-C).
/// docs/early-warning.md has the alert schema.
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

    /// A feed's redirects may reach this internal host (loopback, private,
    /// link-local: refused by default; docs/limits.md); repeat for several.
    #[arg(long = "redirect-allow", value_name = "HOST")]
    pub redirect_allow: Vec<String>,

    /// Where feed state is kept (default: `<store>.feeds.json` beside the store).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// One JSON object a line per poll instead of text.
    #[arg(long)]
    pub json: bool,

    /// Stream coordination over the new items and append each co-share pair
    /// to this file as one JSON line.
    #[arg(long, value_name = "FILE.jsonl")]
    pub coordination_out: Option<PathBuf>,

    /// Coordination: seconds within which two shares of one object pair up.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub time_window: i64,

    /// Coordination: what two posts must share: auto (the reshared post,
    /// else the first link), reshare, link, domain or hashtag.
    #[arg(long, default_value = "auto", value_parser = parse_object)]
    pub object: ObjectRule,

    /// Coordination: how far behind the newest item seen an item may arrive
    /// and still be paired (`0`, `90s`, `10m`, `1h`).
    #[arg(long, default_value = "1h", value_parser = parse_lateness)]
    pub lateness: Duration,

    /// Coordination: most pairs one object may emit per window (a viral
    /// object's pairs grow with the square of its shares); what is left out
    /// is counted and reported.
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    pub max_pairs_per_object: u64,

    /// Coordination: the participation threshold of the `coordinated` flag
    /// written with each pair (CooRTweet's min_participation, as counted so far).
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub min_participation: u32,

    /// Early warning over the new items (as `pharos assess`): --alerts-out,
    /// --stdout or --webhook turn it on.
    #[command(flatten)]
    pub alerts: super::assess::AlertArgs,
}

fn parse_object(s: &str) -> Result<ObjectRule, String> {
    match ObjectRule::parse(s) {
        Some(
            r @ (ObjectRule::Auto
            | ObjectRule::Reshare
            | ObjectRule::Link
            | ObjectRule::Domain
            | ObjectRule::Hashtag),
        ) => Ok(r),
        _ => Err(format!(
            "unknown object {s:?}: use auto, reshare, link, domain or hashtag"
        )),
    }
}

/// Like `--every`, but `0` (no lateness) is allowed.
fn parse_lateness(s: &str) -> Result<Duration, String> {
    if s.trim().trim_end_matches(['s', 'm', 'h', 'd']) == "0" {
        return Ok(Duration::ZERO);
    }
    parse_every(s)
}

/// One coordination pair, as written to `--coordination-out`.
#[derive(Serialize)]
struct PairLine<'a> {
    object_id: &'a str,
    content_id: &'a str,
    content_id_y: &'a str,
    account_id: &'a str,
    account_id_y: &'a str,
    time: String,
    time_y: String,
    time_delta: i64,
    /// Both accounts have `--min-participation` posts and either has that
    /// many in pairs, counting everything streamed so far.
    coordinated: bool,
}

/// The streaming detector and its output file.
struct CoordinationOut {
    stream: StreamingCoordinator,
    rule: ObjectRule,
    min_participation: u32,
    out: std::io::BufWriter<std::fs::File>,
    path: PathBuf,
    pending: Vec<OwnedPair>,
}

impl CoordinationOut {
    fn open(args: &Args, path: &std::path::Path) -> Result<Self> {
        let stream = StreamingCoordinator::new(StreamParams {
            time_window: args.time_window,
            allowed_lateness: args.lateness.as_secs() as i64,
            max_pairs_per_object: Some(args.max_pairs_per_object),
        })
        .map_err(|e| anyhow::anyhow!("--time-window: {e}"))?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        Ok(CoordinationOut {
            stream,
            rule: args.object,
            min_participation: args.min_participation,
            out: std::io::BufWriter::new(file),
            path: path.to_path_buf(),
            pending: Vec::new(),
        })
    }

    /// Streams `posts` (sorted by time first); returns (pairs written, late shares).
    fn push(&mut self, posts: &mut [Post]) -> Result<(u64, u64)> {
        posts.sort_by_key(|p| p.time);
        let mut late = 0u64;
        let pending = &mut self.pending;
        let mut sink = |p: &StreamPair| pending.push(p.to_owned());
        for p in posts.iter() {
            late += self.stream.push_post(p, self.rule, &mut sink).1 as u64;
        }
        Ok((self.write_pending()?, late))
    }

    /// End of the run: writes the pairs still held for the lateness.
    fn finish(&mut self) -> Result<u64> {
        let pending = &mut self.pending;
        self.stream
            .flush(&mut |p: &StreamPair| pending.push(p.to_owned()));
        self.write_pending()
    }

    fn write_pending(&mut self) -> Result<u64> {
        let n = self.pending.len() as u64;
        for p in &self.pending {
            let line = PairLine {
                object_id: &p.object,
                content_id: &p.content,
                content_id_y: &p.content_y,
                account_id: &p.account,
                account_id_y: &p.account_y,
                time: EventTime::from_secs(p.time).to_rfc3339(),
                time_y: EventTime::from_secs(p.time_y).to_rfc3339(),
                time_delta: p.time_delta,
                coordinated: self.stream.is_coordinated(
                    &p.account,
                    &p.account_y,
                    self.min_participation,
                ),
            };
            serde_json::to_writer(&mut self.out, &line)?;
            self.out.write_all(b"\n")?;
        }
        self.pending.clear();
        self.out
            .flush()
            .with_context(|| format!("writing {}", self.path.display()))?;
        for c in self.stream.take_capped() {
            eprintln!(
                "pharos: coordination: object {} reached --max-pairs-per-object ({} pairs) in the window from {}; {} candidate pairs left out",
                c.object,
                c.emitted,
                EventTime::from_secs(c.window_start).to_rfc3339(),
                c.dropped
            );
        }
        Ok(n)
    }
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
    /// Coordination pairs written after this poll.
    #[serde(skip_serializing_if = "Option::is_none")]
    pairs: Option<u64>,
    /// Shares of this poll older than the lateness (stored, not paired).
    #[serde(skip_serializing_if = "Option::is_none")]
    late: Option<u64>,
    /// Items of this poll dated more than 24 h after the clock (stored, not
    /// analysed), when alerts or coordination run.
    #[serde(skip_serializing_if = "Option::is_none")]
    future: Option<u64>,
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    if pharos_ingest::watch::check_urls(&args.feeds).is_err() {
        bail!(
            "--feed takes http:// or https:// URLs; to read a feed file use `pharos ingest --format rss FILE`"
        );
    }
    let mut store = AnyStore::open(&args.store.store)?;
    let state_path = args
        .state
        .clone()
        .unwrap_or_else(|| args.store.store.beside("feeds.json"));
    let client = FeedClient::with_options(
        Duration::from_secs(args.timeout.max(1)),
        args.redirect_allow.clone(),
    )?;
    let mut opts = Options::new();
    opts.platform = args.platform.clone();
    let mut feeds = FeedWatch::open(args.feeds.clone(), client, opts, state_path)?;
    let mut quarantine = Quarantine::new(store.quarantine_path());
    let mut coordination = match &args.coordination_out {
        Some(path) => Some(CoordinationOut::open(&args, path)?),
        None => None,
    };
    if args.alerts.rules.is_some() && !args.alerts.delivers() {
        bail!("--rules needs a delivery: --alerts-out FILE, --stdout or --webhook URL");
    }
    let mut alerts = if args.alerts.delivers() {
        Some(
            args.alerts
                .pipeline(&args.store.store, false, global.quiet)
                .context("setting up the alerts")?,
        )
    } else {
        None
    };
    let rounds = if args.once { Some(1) } else { args.polls };
    let mut round = 0u64;
    let mut total_stored = 0u64;
    loop {
        let started = Instant::now();
        round += 1;
        feeds.round(&mut |fp: FeedPoll<'_>| -> Result<()> {
            let FeedPoll {
                url,
                result,
                mut posts,
                rejected,
            } = fp;
            let run_started = pharos_core::now_ms();
            let mut rep = PollReport {
                feed: url,
                status: "fetched",
                items: 0,
                new: 0,
                stored: 0,
                duplicates: 0,
                quarantined: rejected.len() as u64,
                error: None,
                pairs: None,
                late: None,
                future: None,
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
            // Stored, but not analysed live: a post dated far after the
            // clock would move the alerts' and the coordination's clocks
            // past every other post.
            if alerts.is_some() || coordination.is_some() {
                let future = drop_after_horizon(&mut posts, live_horizon_ms(), |p| p.time.millis());
                rep.future = Some(future as u64);
                if future > 0 && !args.json {
                    eprintln!(
                        "pharos: {url}: {future} items dated more than {} h after the clock were stored but not analysed",
                        FUTURE_TOLERANCE_MS / 3_600_000
                    );
                }
            }
            if let Some(a) = alerts.as_mut() {
                posts.sort_by_key(|p| p.time);
                a.push_batch(&posts)?;
                a.flush()?;
            }
            if let Some(c) = coordination.as_mut() {
                let (pairs, late) = c.push(&mut posts)?;
                rep.pairs = Some(pairs);
                rep.late = Some(late);
                if late > 0 && !args.json {
                    eprintln!(
                        "pharos: {url}: {late} shares older than --lateness were stored but not paired"
                    );
                }
            }
            total_stored += done.stored;
            if rep.stored > 0 || rep.quarantined > 0 {
                store.record_run(&RunRecord {
                    command: "watch".into(),
                    sources: vec![url.to_string()],
                    stored: done.stored,
                    duplicates: done.duplicates,
                    quarantined: rep.quarantined,
                    started_ms: run_started,
                    finished_ms: pharos_core::now_ms(),
                })?;
            }
            // The state is saved after this returns: a crash between the two
            // re-reads rather than loses items.
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
            Ok(())
        })?;
        if rounds.is_some_and(|n| round >= n) {
            break;
        }
        if let Some(rest) = args.every.checked_sub(started.elapsed()) {
            std::thread::sleep(rest);
        }
    }
    if let Some(c) = coordination.as_mut() {
        let last = c.finish()?;
        let st = c.stream.stats().clone();
        if args.json {
            println!(
                "{}",
                serde_json::json!({"coordination": {
                    "pairs": st.pairs,
                    "pairs_at_end": last,
                    "late": st.late,
                    "pairs_dropped": st.pairs_dropped,
                    "capped_windows": st.capped_windows,
                }})
            );
        } else if !global.quiet {
            eprintln!(
                "coordination: {} pairs written to {} ({} shares late, {} candidate pairs over the cap)",
                st.pairs,
                c.path.display(),
                st.late,
                st.pairs_dropped
            );
        }
    }
    if let Some(a) = alerts.as_mut() {
        a.finish()?;
        if args.json {
            println!(
                "{}",
                serde_json::json!({"alerts": {
                    "alerts": a.raised,
                    "notifications": a.written,
                }})
            );
        } else if !global.quiet {
            let mut to = Vec::new();
            if let Some(p) = &args.alerts.alerts_out {
                to.push(p.display().to_string());
            }
            if args.alerts.stdout {
                to.push("stdout".into());
            }
            if let Some(u) = &args.alerts.webhook {
                to.push(u.clone());
            }
            eprintln!(
                "alerts: {} alerts ({} notifications) delivered to {}",
                a.raised,
                a.written,
                to.join(", ")
            );
        }
    }
    if !global.quiet && !args.json {
        eprintln!("stored {total_stored} new posts in {round} rounds");
    }
    Ok(ExitCode::SUCCESS)
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
        assert_eq!(super::parse_lateness("0").unwrap(), Duration::ZERO);
        assert_eq!(
            super::parse_lateness("10m").unwrap(),
            Duration::from_secs(600)
        );
        assert!(super::parse_object("link").is_ok());
        assert!(super::parse_object("quote").is_err());
    }
}
