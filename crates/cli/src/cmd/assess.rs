//! `pharos assess`: early-warning alerts over the store, in batch.
//!
//! The pipeline itself ([`AlertPipeline`]: narratives, actor signals,
//! bursts, alert rules) lives in `pharos_assess::stream`, shared with
//! `pharos watch --alerts-out`.

use super::{Global, StoreArg};
use anyhow::{Context, Result};
use pharos_alerts::{Rules, Status};
use pharos_assess::stream::AlertPipeline;
use pharos_core::Post;
use pharos_store::{PostFilter, SqliteStore, Store};
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Assess the store: early-warning alerts (bursts of narratives,
/// near-duplicate families, links, domains, hashtags and reshared posts).
///
/// Stored posts (--since/--until choose them; default all) are read in
/// event-time order. Each post goes through the narrative engine (so its
/// narrative and near-duplicate family can burst too) and the actor
/// tracker, then every entity it uses — hashtags, normalised URLs,
/// domains, the post it reshares or quotes, its narrative and its family —
/// is fed to the burst detector. An account is flagged suspicious when its
/// actor-signal score so far is at least 0.5; coordination networks are not
/// computed here, so no account is flagged coordinated.
///
/// Alerts that pass the rules (--rules FILE.toml; default: the built-in
/// rule, min_severity 0.45) are appended to --alerts-out as one JSON object
/// a line; an alert is written when raised and again when it closes (the
/// last line for an id wins). docs/early-warning.md has the schema, the
/// severity terms and the rules.
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreArg,
    /// Read posts from this time (RFC 3339, date or epoch).
    #[arg(long)]
    pub since: Option<String>,
    /// Read posts until this time (exclusive).
    #[arg(long)]
    pub until: Option<String>,
    /// Alert rules (TOML); default: the built-in rule.
    #[arg(long, value_name = "FILE.toml")]
    pub rules: Option<PathBuf>,
    /// Append the alerts to this file, one JSON object a line.
    #[arg(long, value_name = "FILE.jsonl")]
    pub alerts_out: Option<PathBuf>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Loads `--rules`, or the defaults.
pub fn load_rules(path: Option<&Path>) -> Result<Rules> {
    match path {
        Some(p) => Ok(Rules::load(p)?),
        None => Ok(Rules::default()),
    }
}

#[derive(Serialize)]
struct Summary<'a> {
    posts: u64,
    alerts: usize,
    notifications: u64,
    still_open: usize,
    by_kind: BTreeMap<&'static str, u64>,
    top: Vec<Top<'a>>,
}

#[derive(Serialize)]
struct Top<'a> {
    id: &'a str,
    entity_kind: &'static str,
    entity: &'a str,
    severity: f64,
    explanation: &'a str,
}

/// The first sentence of an alert's explanation.
fn first_sentence(s: &str) -> &str {
    // The first sentence ends at "post. " (the explanation's own wording).
    match s.find(". Severity") {
        Some(i) => &s[..=i],
        None => s,
    }
}

/// Posts handed to the narrative engine at once (it reads a chunk in
/// parallel while assigning the previous one).
const CHUNK: usize = 4096;

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    let store = SqliteStore::open_existing(&args.store.store)?;
    let since = super::export::parse_time("since", &args.since)?;
    let until = super::export::parse_time("until", &args.until)?;
    let rules = load_rules(args.rules.as_deref())?;
    let mut pipe = AlertPipeline::new(rules, args.alerts_out.as_deref(), true)
        .with_context(|| "opening --alerts-out")?;
    let pb = crate::progress::counter(global.quiet, "posts read");
    let filter = PostFilter {
        since,
        until,
        platform: None,
    };
    let mut err = None;
    let mut chunk: Vec<Post> = Vec::with_capacity(CHUNK);
    store.scan(&filter, &mut |post| {
        pb.inc(1);
        chunk.push(post);
        if chunk.len() < CHUNK {
            return ControlFlow::Continue(());
        }
        match pipe.push_batch(&chunk) {
            Ok(()) => {
                chunk.clear();
                ControlFlow::Continue(())
            }
            Err(e) => {
                err = Some(e);
                ControlFlow::Break(())
            }
        }
    })?;
    pb.finish_and_clear();
    if let Some(e) = err {
        return Err(e.into());
    }
    pipe.push_batch(&chunk)?;
    pipe.finish()?;
    let ranked = pipe.ranked();
    let mut by_kind = BTreeMap::new();
    for n in &ranked {
        *by_kind.entry(n.alert.entity_kind.as_str()).or_insert(0u64) += 1;
    }
    let summary = Summary {
        posts: pipe.posts,
        alerts: ranked.len(),
        notifications: pipe.written,
        still_open: ranked
            .iter()
            .filter(|n| n.status != Status::Closed && n.alert.closed_at.is_none())
            .count(),
        by_kind,
        top: ranked
            .iter()
            .take(10)
            .map(|n| Top {
                id: &n.alert.id,
                entity_kind: n.alert.entity_kind.as_str(),
                entity: &n.alert.entity,
                severity: n.alert.severity,
                explanation: first_sentence(&n.alert.explanation),
            })
            .collect(),
    };
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
        return Ok(ExitCode::SUCCESS);
    }
    let kinds = summary
        .by_kind
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "{} alerts from {} posts ({})",
        summary.alerts,
        summary.posts,
        if kinds.is_empty() { "none" } else { &kinds }
    );
    if let Some(p) = &args.alerts_out {
        println!(
            "{} notifications appended to {}",
            summary.notifications,
            p.display()
        );
    }
    for (i, t) in summary.top.iter().enumerate() {
        println!(
            "{:>2}. severity {:.2} {} {}: {}",
            i + 1,
            t.severity,
            t.entity_kind,
            t.entity,
            t.explanation
        );
    }
    Ok(ExitCode::SUCCESS)
}
