//! `pharos stats`: what the store holds.

use super::{Global, StoreArg};
use anyhow::Result;
use pharos_store::stats::Count;
use pharos_store::{AnyStore, Store};
use std::process::ExitCode;

/// Counts by platform, language and day; top domains, hashtags and actors.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreArg,
    /// How many top domains, hashtags and actors to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Print one JSON object (its `posts` field is the number of stored posts).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, _global: &Global) -> Result<ExitCode> {
    let store = AnyStore::open_existing(&args.store.store)?;
    let s = store.stats(args.top)?;
    if args.json {
        println!("{}", serde_json::to_string(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", render(&s, &args.store.store.to_string()));
    Ok(ExitCode::SUCCESS)
}

/// The human-readable form of the stats.
pub fn render(s: &pharos_store::Stats, store: &str) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(o, "store {store}");
    let _ = writeln!(
        o,
        "{} posts by {} actors, {} to {}",
        s.posts,
        s.actors,
        s.first.as_deref().unwrap_or("-"),
        s.last.as_deref().unwrap_or("-")
    );
    if s.quarantined > 0 {
        let _ = writeln!(o, "{} records quarantined over all runs", s.quarantined);
    }
    section(&mut o, "platforms", &s.by_platform, s.posts);
    section(&mut o, "languages", &s.by_language, s.posts);
    if s.by_day.len() <= 31 {
        section(&mut o, "days", &s.by_day, s.posts);
    } else {
        let _ = writeln!(o, "\n{} days (use --json for each)", s.by_day.len());
    }
    section(&mut o, "top domains", &s.top_domains, 0);
    section(&mut o, "top hashtags", &s.top_hashtags, 0);
    section(&mut o, "top actors", &s.top_actors, 0);
    o
}

fn section(o: &mut String, title: &str, rows: &[Count], total: u64) {
    use std::fmt::Write;
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(o, "\n{title}");
    let width = rows
        .iter()
        .map(|r| r.key.chars().count())
        .max()
        .unwrap_or(0)
        .min(60);
    for r in rows {
        if total > 0 {
            let pct = 100.0 * r.count as f64 / total as f64;
            let _ = writeln!(o, "  {:<width$}  {:>10}  {:>5.1}%", r.key, r.count, pct);
        } else {
            let _ = writeln!(o, "  {:<width$}  {:>10}", r.key, r.count);
        }
    }
}
