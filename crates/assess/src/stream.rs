//! The early-warning stream: posts in event-time order → narrative engine
//! (narrative and near-duplicate family ids) and actor tracker (suspicion
//! flag) → burst detector → alert rules → deliveries.
//!
//! [`AlertPipeline`] is what `pharos assess` (batch, over the store) and
//! `pharos watch --alerts-out` (live, over polled feeds) run; incidents are
//! fused from what it emits.

use pharos_alerts::{DeliveryError, JsonlFile, Notification, RuleEngine, Rules, Sink, Status};
use pharos_analysis::actors::{ActorTracker, StreamModel};
use pharos_analysis::bursts::{
    ActorFlags, AlertEvent, BurstConfig, BurstDetector, EntityKind, Observation, post_observations,
};
use pharos_analysis::narratives::{Assignment, NarrativeConfig, NarrativeEngine};
use pharos_core::Post;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

/// An account is flagged suspicious when the stream model of its actor
/// signals (`pharos_analysis::actors::StreamModel`, default weights) scores
/// it at or above this (logit ≥ 0), from its posts seen so far.
pub const SUSPICIOUS_SCORE: f64 = 0.5;

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
    pub fn new(
        rules: Rules,
        out: Option<&Path>,
        keep: bool,
    ) -> Result<AlertPipeline, DeliveryError> {
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
    pub fn push(&mut self, post: &Post) -> Result<(), DeliveryError> {
        let assignment = self.narratives.observe(post);
        self.push_assigned(post, assignment)
    }

    /// Posts in event-time order, many at once: the narrative engine reads
    /// them in parallel (normalisation, language id, shingles, MinHash) and
    /// assigns them in order, with the same result as [`Self::push`] one by one.
    pub fn push_batch(&mut self, posts: &[Post]) -> Result<(), DeliveryError> {
        let assignments = self.narratives.observe_batch(posts);
        for (post, assignment) in posts.iter().zip(assignments) {
            self.push_assigned(post, assignment)?;
        }
        Ok(())
    }

    fn push_assigned(&mut self, post: &Post, assignment: Assignment) -> Result<(), DeliveryError> {
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
    pub fn finish(&mut self) -> Result<(), DeliveryError> {
        self.detector.finish(&mut self.events);
        self.deliver()?;
        if let Some(s) = self.sink.as_mut() {
            s.flush()?;
        }
        Ok(())
    }

    /// Flushes the sink (between polls).
    pub fn flush(&mut self) -> Result<(), DeliveryError> {
        if let Some(s) = self.sink.as_mut() {
            s.flush()?;
        }
        Ok(())
    }

    fn deliver(&mut self) -> Result<(), DeliveryError> {
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
