//! `pharos assess`: early-warning alerts over the store, in batch.
//!
//! The pipeline itself ([`AlertPipeline`]: narratives, actor signals,
//! bursts, alert rules) lives in `pharos_assess::stream`, shared with
//! `pharos watch --alerts-out`.

use super::{Global, StoreArg};
use anyhow::{Context, Result, bail};
use pharos_alerts::{JsonlFile, Rules, Status, Stdout, Webhook, WebhookConfig, redeliver};
use pharos_assess::stream::{AlertPipeline, LibraryClaims, StreamConfig};
use pharos_core::Post;
use pharos_store::{AnyStore, Location, PostFilter, Store};
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
/// narrative and near-duplicate family can burst too), the actor tracker
/// (an account younger than 150 days when it posts is flagged suspicious)
/// and streaming coordination (two accounts sharing the same reshared post
/// or link within 10 seconds, three times, at CooRTweet's participation 2,
/// are flagged coordinated; --no-coordination turns it off); then every
/// entity it uses — hashtags, normalised URLs, domains, the post it
/// reshares or quotes, its narrative and its family —
/// is fed to the burst detector.
///
/// Alerts that pass the rules (--rules FILE.toml; default: the built-in
/// rule, min_severity 0.5) are delivered as one JSON object a line to
/// --alerts-out (appended), --stdout and/or --webhook (POST, retries with
/// backoff; what still fails is kept in the re-delivery file and sent again
/// at the next start); an alert is delivered when raised and again when it
/// closes (the last line for an id wins). docs/early-warning.md has the
/// schema, the severity terms and the rules.
///
/// With --out DIR the whole assessment runs instead: claim matches (when a
/// fact-check library is given with --library or sits beside the store),
/// signals fused into incidents (one per campaign, with severity,
/// confidence, ABCDE facets and DISARM techniques, each pointing to its
/// evidence), and DIR receives incidents.json, alerts.jsonl, briefing.html,
/// briefing.md, report.html, recovery.html and stix.json (TLP:AMBER); the
/// incidents are also kept in the store for `pharos export stix` and
/// `pharos serve`. A short summary with the paths is printed. Delivery
/// flags (--alerts-out, --stdout, --webhook) deliver the alerts of the same
/// pass (what DIR/alerts.jsonl holds). docs/assessment.md and
/// docs/reports.md explain the output.
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
    #[command(flatten)]
    pub alerts: AlertArgs,
    /// Run the whole assessment and write incidents, alerts, the briefing,
    /// the analyst and recovery reports and a STIX bundle into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Where alerts go and how the pipeline runs; shared with `pharos watch`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AlertArgs {
    /// Alert rules (TOML); default: the built-in rule.
    #[arg(long, value_name = "FILE.toml")]
    pub rules: Option<PathBuf>,
    /// Append the alerts to this file, one JSON object a line.
    #[arg(long, value_name = "FILE.jsonl")]
    pub alerts_out: Option<PathBuf>,
    /// Print the alerts on standard output, one JSON object a line (the
    /// summary then goes to standard error).
    #[arg(long)]
    pub stdout: bool,
    /// POST each alert as JSON to this URL, with retries and exponential
    /// backoff; alerts that still fail are logged and kept in the
    /// re-delivery file, which is sent again first at the next start.
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// The webhook's re-delivery file (default: `<store>.webhook-redeliver.jsonl`
    /// beside the store).
    #[arg(long, value_name = "FILE.jsonl", requires = "webhook")]
    pub webhook_redelivery: Option<PathBuf>,
    /// Webhook retries after the first attempt (backoff 0.5 s, doubling, at most 30 s).
    #[arg(long, default_value_t = 4, value_name = "N", requires = "webhook")]
    pub webhook_retries: u32,
    /// Do not run streaming coordination: no account is flagged coordinated.
    #[arg(long)]
    pub no_coordination: bool,
    /// Fact-check library (made by `pharos claims import`): posts matching
    /// one of its claims raise `claim` alerts at their first confident
    /// matches (docs/early-warning.md, "Claim alerts").
    #[arg(long, value_name = "DIR")]
    pub library: Option<PathBuf>,
}

impl AlertArgs {
    /// Is any delivery asked for?
    pub fn delivers(&self) -> bool {
        self.alerts_out.is_some() || self.stdout || self.webhook.is_some()
    }

    /// The pipeline with the sinks asked for. `store` places the default
    /// re-delivery file; `keep`: keep every alert for a summary.
    pub fn pipeline(&self, store: &Location, keep: bool, quiet: bool) -> Result<AlertPipeline> {
        let rules = load_rules(self.rules.as_deref())?;
        let mut cfg = StreamConfig::default();
        if self.no_coordination {
            cfg.coordination = None;
        }
        let mut pipe = AlertPipeline::with_config(cfg, rules, keep);
        if let Some(dir) = &self.library {
            let claims = LibraryClaims::open(dir)
                .map_err(|e| anyhow::anyhow!("--library {}: {e}", dir.display()))?;
            pipe.set_claim_signal(Box::new(claims));
        }
        if let Some(p) = &self.alerts_out {
            pipe.add_sink(Box::new(
                JsonlFile::append(p).with_context(|| "opening --alerts-out")?,
            ));
        }
        if self.stdout {
            pipe.add_sink(Box::new(Stdout));
        }
        if let Some(url) = &self.webhook {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("--webhook takes an http:// or https:// URL, not {url:?}");
            }
            let file = self
                .webhook_redelivery
                .clone()
                .unwrap_or_else(|| store.beside("webhook-redeliver.jsonl"));
            let mut wc = WebhookConfig::new(url, &file);
            wc.retries = self.webhook_retries;
            let hook = Webhook::new(wc)?;
            if file.exists() {
                let r = redeliver(&hook)?;
                if !quiet || r.kept > 0 {
                    eprintln!(
                        "pharos: webhook: re-delivered {} kept alert(s) from {}; {} still failing",
                        r.delivered,
                        file.display(),
                        r.kept
                    );
                }
            }
            pipe.add_sink(Box::new(hook));
        }
        Ok(pipe)
    }
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

/// Posts read from the store per batch handed to the pipeline.
const BATCH: usize = 16_384;
/// Batches in flight between the store reader and the pipeline.
const QUEUE: usize = 2;

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    let store = AnyStore::open_existing(&args.store.store)?;
    let since = super::export::parse_time("since", &args.since)?;
    let until = super::export::parse_time("until", &args.until)?;
    if let Some(dir) = &args.out {
        // Delivery flags add their sinks to the assessment's own pipeline:
        // one pass, and what is delivered is what alerts.jsonl holds.
        let pipeline = if args.alerts.delivers() {
            Some(
                args.alerts
                    .pipeline(&args.store.store, true, global.quiet)?,
            )
        } else {
            None
        };
        let done = super::assessment::run(super::assessment::Plan {
            store: &args.store.store,
            since,
            until,
            rules: load_rules(args.alerts.rules.as_deref())?,
            library: args.alerts.library.clone(),
            out: dir,
            pipeline,
            model: None,
            prebunk: None,
        })?;
        let text = if args.json {
            let written: Vec<String> = done
                .written
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            let j = serde_json::json!({
                "summary": done.assessment.summary,
                "incidents": done.assessment.incidents.len(),
                "alerts": done.assessment.alerts.len(),
                "claim_matched_posts": done.matched_posts,
                "written": written,
            });
            format!("{j}\n")
        } else {
            super::assessment::summary(&done)
        };
        // With --stdout the alerts own standard output.
        if args.alerts.stdout {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut pipe = args
        .alerts
        .pipeline(&args.store.store, true, global.quiet)?;
    let pb = crate::progress::counter(global.quiet, "posts read");
    let filter = PostFilter {
        since,
        until,
        platform: None,
    };
    // The store is read (SQLite steps, JSON decoding) on its own thread,
    // BATCH posts at a time over a bounded channel, while the pipeline
    // works on the previous batch: memory stays at QUEUE + 2 batches.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Post>>(QUEUE);
    let (give_back, recycled) = std::sync::mpsc::sync_channel::<Vec<Post>>(QUEUE + 2);
    let scanned: Result<()> = std::thread::scope(|scope| {
        let reader = scope.spawn(move || -> Result<()> {
            let mut batch: Vec<Post> = Vec::with_capacity(BATCH);
            store.scan(&filter, &mut |post| {
                batch.push(post);
                if batch.len() < BATCH {
                    return ControlFlow::Continue(());
                }
                let fresh = recycled
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(BATCH));
                match tx.send(std::mem::replace(&mut batch, fresh)) {
                    Ok(()) => ControlFlow::Continue(()),
                    // The pipeline stopped (an error): stop reading.
                    Err(_) => ControlFlow::Break(()),
                }
            })?;
            if !batch.is_empty() {
                let _ = tx.send(batch);
            }
            Ok(())
        });
        for mut batch in rx {
            pb.inc(batch.len() as u64);
            pipe.push_batch(&batch)?;
            batch.clear();
            let _ = give_back.try_send(batch);
        }
        reader.join().expect("the store reader does not panic")
    });
    pb.finish_and_clear();
    scanned?;
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
    // With --stdout the alerts own standard output; the summary goes to stderr.
    let to_stderr = args.alerts.stdout;
    macro_rules! say {
        ($($t:tt)*) => {
            if to_stderr { eprintln!($($t)*) } else { println!($($t)*) }
        };
    }
    if args.json {
        say!("{}", serde_json::to_string(&summary)?);
        return Ok(ExitCode::SUCCESS);
    }
    let kinds = summary
        .by_kind
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    say!(
        "{} alerts from {} posts ({})",
        summary.alerts,
        summary.posts,
        if kinds.is_empty() { "none" } else { &kinds }
    );
    if let Some(p) = &args.alerts.alerts_out {
        say!(
            "{} notifications appended to {}",
            summary.notifications,
            p.display()
        );
    }
    for (i, t) in summary.top.iter().enumerate() {
        say!(
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
