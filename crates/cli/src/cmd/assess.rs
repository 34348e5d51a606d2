//! `pharos assess`: early-warning alerts over the store, in batch.
//!
//! [`AlertPipeline`] is shared with `pharos watch --alerts-out`: posts in
//! event-time order → narrative engine (narrative and near-duplicate family
//! ids) and actor tracker (suspicion flag) → burst detector → alert rules →
//! JSONL file.

use super::{Global, StoreArg};
use anyhow::{Context, Result};
use pharos_alerts::{JsonlFile, Notification, RuleEngine, Rules, Sink, Status};
use pharos_analysis::actors::{ActorTracker, StreamModel};
use pharos_analysis::bursts::{
    ActorFlags, AlertEvent, BurstConfig, BurstDetector, EntityKind, Observation, post_observations,
};
use pharos_analysis::narratives::{NarrativeConfig, NarrativeEngine};
use pharos_core::Post;
use pharos_store::{PostFilter, SqliteStore, Store};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// An account is flagged suspicious when the stream model of its actor
/// signals (`pharos_analysis::actors::StreamModel`, default weights) scores
/// it at or above this (logit ≥ 0), from its posts seen so far.
pub const SUSPICIOUS_SCORE: f64 = 0.5;

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

/// Posts in, notifications out (kept in memory for the summary and written
/// to the sink when there is one).
pub struct AlertPipeline {
    narratives: NarrativeEngine,
    tracker: ActorTracker,
    model: StreamModel,
    detector: BurstDetector,
    rules: RuleEngine,
    sink: Option<JsonlFile>,
    events: Vec<AlertEvent>,
    /// Latest notification per alert id (only when kept, for the summary).
    pub alerts: HashMap<String, Notification>,
    keep: bool,
    /// Notifications written, and how many of them were raises.
    pub written: u64,
    pub raised: u64,
    pub posts: u64,
}

impl AlertPipeline {
    /// `keep`: remember the latest notification of every alert (for a
    /// summary; memory grows with the alerts, so a live watch passes false).
    pub fn new(rules: Rules, out: Option<&Path>, keep: bool) -> Result<AlertPipeline> {
        let sink = match out {
            Some(p) => Some(JsonlFile::append(p)?),
            None => None,
        };
        Ok(AlertPipeline {
            narratives: NarrativeEngine::new(NarrativeConfig::default()),
            tracker: ActorTracker::default(),
            model: StreamModel::default_model(),
            detector: BurstDetector::new(BurstConfig::default()),
            rules: RuleEngine::new(rules),
            sink,
            events: Vec::new(),
            alerts: HashMap::new(),
            keep,
            written: 0,
            raised: 0,
            posts: 0,
        })
    }

    /// One post (call in event-time order).
    pub fn push(&mut self, post: &Post) -> Result<()> {
        let assignment = self.narratives.observe(post);
        self.push_assigned(post, assignment)
    }

    /// Posts in event-time order, many at once: the narrative engine reads
    /// them in parallel (normalisation, language id, shingles, MinHash) and
    /// assigns them in order, with the same result as [`Self::push`] one by one.
    pub fn push_batch(&mut self, posts: &[Post]) -> Result<()> {
        let assignments = self.narratives.observe_batch(posts);
        for (post, assignment) in posts.iter().zip(assignments) {
            self.push_assigned(post, assignment)?;
        }
        Ok(())
    }

    fn push_assigned(
        &mut self,
        post: &Post,
        assignment: pharos_analysis::narratives::Assignment,
    ) -> Result<()> {
        self.posts += 1;
        self.tracker.observe(post);
        let flags = match self.tracker.signals(&post.actor.id) {
            Some(s) if self.model.score(&s).score >= SUSPICIOUS_SCORE => ActorFlags::SUSPICIOUS,
            _ => ActorFlags::NONE,
        };
        let mut obs: Vec<Observation<'_>> = Vec::new();
        post_observations(post, flags, &mut obs);
        let base = |kind, key: String| Observation {
            kind,
            key: Cow::Owned(key),
            time: post.time,
            actor: &post.actor.id,
            platform: &post.platform,
            lang: post.lang.as_deref(),
            flags,
            post: &post.id,
        };
        if let Some(n) = assignment.narrative {
            obs.push(base(EntityKind::Narrative, n.to_string()));
        }
        if let Some(f) = assignment.family {
            obs.push(base(EntityKind::Family, f.to_string()));
        }
        for o in &obs {
            self.detector.observe(o, &mut self.events);
        }
        self.deliver()
    }

    /// End of input: closes every open burst and flushes the sink.
    pub fn finish(&mut self) -> Result<()> {
        self.detector.finish(&mut self.events);
        self.deliver()?;
        if let Some(s) = self.sink.as_mut() {
            s.flush()?;
        }
        Ok(())
    }

    /// Flushes the sink (between polls).
    pub fn flush(&mut self) -> Result<()> {
        if let Some(s) = self.sink.as_mut() {
            s.flush()?;
        }
        Ok(())
    }

    fn deliver(&mut self) -> Result<()> {
        for ev in self.events.drain(..) {
            for n in self.rules.process(&ev) {
                if let Some(s) = self.sink.as_mut() {
                    s.deliver(&n)?;
                }
                self.written += 1;
                if n.status == Status::Raised {
                    self.raised += 1;
                }
                if self.keep {
                    self.alerts.insert(n.alert.id.clone(), n);
                }
            }
        }
        Ok(())
    }

    /// Latest state of each alert, highest severity first.
    pub fn ranked(&self) -> Vec<&Notification> {
        let mut v: Vec<&Notification> = self.alerts.values().collect();
        v.sort_by(|a, b| {
            b.alert
                .severity
                .total_cmp(&a.alert.severity)
                .then_with(|| a.alert.id.cmp(&b.alert.id))
        });
        v
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
        return Err(e);
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
