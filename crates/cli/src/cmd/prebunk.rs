//! `pharos prebunk`: storylines likely to come back, and a brief for each.

use super::{Global, StoreArg};
use anyhow::{Context, Result, bail};
use pharos_assess::prebunk::{Calendar, PrebunkOptions};
use std::path::PathBuf;
use std::process::ExitCode;

/// Find the narratives likely to come back, and write a prebunk brief for
/// each (the Prevention job).
///
/// The whole assessment runs over the store (claim matches when a
/// fact-check library is given with --library or sits beside the store,
/// narratives, incidents with their DISARM techniques), without changing
/// the stored incidents. Narratives are linked across time into
/// storylines: the narrative engine forgets a story a week after its last
/// post, so each return is a new narrative, joined to its storyline by
/// their terms. Each storyline is forecast at the last post read (or
/// --until) for the next --horizon-days days, from its history:
///   recurrence   outbreaks so far over the time watched (a one-off is not
///                expected back; a story silent for three times its longest
///                gap may have died out);
///   periodicity  three or more outbreaks at regular gaps give the date;
///   triggers     a --calendar event (elections, summits, anniversaries)
///                after at least half of whose dates it broke out, twice or
///                more, gives the date of the next one.
///
/// DIR receives index.md and index.html (the storylines likely to return,
/// highest chance first), one brief per storyline (<storyline>.md, .html:
/// what is likely to be pushed and when, why, its outbreaks, the
/// fact-checks that answer it, the DISARM techniques it has used, and
/// technique-based prebunk drafts in its audience's languages — they name
/// the manipulation technique and show how it works, rather than repeat the
/// claim), and prebunk.json (every forecast). `pharos assess --out DIR`
/// writes the same briefs into DIR/prebunk/ and its briefing links them.
///
/// Calendar file: one event a line, `YYYY-MM-DD,label[,yearly]` (or tab
/// separated); lines with one label are one event; `#` starts a comment.
/// Chances are ranks with reasons, measured against simple baselines, not
/// calibrated probabilities. docs/prebunking.md explains the method, the
/// output and the evaluation.
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreArg,
    /// Write the briefs into DIR (created when missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Dated events that can trigger a storyline (see above).
    #[arg(long, value_name = "FILE")]
    pub calendar: Option<PathBuf>,
    /// Forecast outbreaks within this many days.
    #[arg(long, default_value_t = 30.0, value_name = "DAYS")]
    pub horizon_days: f64,
    /// Write a brief for storylines at or above this chance.
    #[arg(long, default_value_t = 0.5, value_name = "0-1")]
    pub min_chance: f64,
    /// Briefs at most (highest chance first).
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_briefs: usize,
    /// Read posts from this time (RFC 3339, date or epoch).
    #[arg(long)]
    pub since: Option<String>,
    /// Read posts until this time (exclusive); the forecast is made at it.
    #[arg(long)]
    pub until: Option<String>,
    /// Fact-check library (made by `pharos claims import`); default: the
    /// store's, when there is one.
    #[arg(long, value_name = "DIR")]
    pub library: Option<PathBuf>,
    /// Print the forecasts as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    if !(args.horizon_days.is_finite() && args.horizon_days > 0.0 && args.horizon_days <= 3650.0) {
        bail!(
            "--horizon-days takes a number of days from 0 to 3650, not {}",
            args.horizon_days
        );
    }
    if !(0.0..=1.0).contains(&args.min_chance) {
        bail!(
            "--min-chance takes a number from 0 to 1, not {}",
            args.min_chance
        );
    }
    let calendar = match &args.calendar {
        None => Calendar::default(),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("--calendar {}", p.display()))?;
            Calendar::parse(&text, &p.display().to_string()).map_err(anyhow::Error::msg)?
        }
    };
    let prebunk = PrebunkOptions {
        horizon_days: args.horizon_days,
        min_chance: args.min_chance,
        max_briefs: args.max_briefs,
        calendar,
        ..Default::default()
    };
    let done = super::assessment::run(super::assessment::Plan {
        store: &args.store.store,
        since: super::export::parse_time("since", &args.since)?,
        until: super::export::parse_time("until", &args.until)?,
        rules: super::assess::load_rules(None)?,
        library: args.library.clone(),
        out: &args.out,
        pipeline: None,
        model: None,
        prebunk: Some(prebunk),
    })?;
    let p = &done.assessment.prebunk;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&p.forecasts)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} posts read: {} storylines; {} likely to come back within {:.0} days (chance ≥ {:.2})",
        done.assessment.summary.posts,
        p.storylines,
        p.briefs.len(),
        p.horizon_days,
        args.min_chance
    );
    for (k, b) in p.briefs.iter().enumerate() {
        let f = &b.forecast;
        println!(
            "{:>2}. chance {:.2}  {}  ({} outbreaks{})",
            k + 1,
            f.chance,
            f.title,
            f.outbreaks,
            f.expected
                .map(|d| format!(", expected around {}", d.day()))
                .unwrap_or_default()
        );
        if let Some(r) = f.reasons.first() {
            println!("    {r}");
        }
    }
    if !global.quiet {
        for w in &done.written {
            println!("wrote {}", w.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
