//! Pharos assessment: incidents fused from signals, ABCDE facets, DISARM techniques, reports.

/// The one pipeline (`pharos_pipeline`: narratives, actor signals,
/// coordination, claim watch, bursts, alert rules), with the fact-check
/// library's claim watch (`pharos_claims::watch`), under the path its
/// callers have used.
pub mod stream {
    pub use pharos_claims::watch::{LIBRARY_MIN_CONFIDENCE, LibraryClaims};
    pub use pharos_pipeline::*;
}

/// The incident model (one campaign as an analyst sees it) and its storage.
pub mod incident;

/// The DISARM framework (techniques keyed on T-numbers) and the techniques Pharos can observe.
pub mod disarm;

/// The signals incidents are fused from (narratives, actor scores, alerts, coordination networks, claim matches).
pub mod signals;

/// Pictures as evidence: scanned files, their provenance, AI-generated media (DISARM T0086.002, T0087.001).
pub mod media;

/// The coordination networks of an assessment as a report, with the ids incidents use.
pub mod networks;

/// Fusion: signals linked through shared accounts and posts into one group per campaign.
pub mod fuse;

/// A fused group into an incident: scores, ABCDE facets, DISARM tags, evidence.
pub mod build;

/// The entry point: a store in, incidents, alerts and response effects out.
pub mod assess;

/// Live incidents over an unbounded stream: bounded windows, frozen
/// incidents, stable incident and network ids, storylines from a separate pass.
pub mod live;

/// Prebunking: storylines likely to come back, when, and a brief for each.
pub mod prebunk;

/// Precision and recall of incidents against a simulated scenario's ground truth.
pub mod eval;

/// Outputs: incidents.json, alerts.jsonl, briefing, analyst and recovery reports (HTML, Markdown).
pub mod report;

pub use assess::{
    AssessError, AssessOptions, Assessment, assess_posts, assess_posts_with, assess_store,
    assess_store_numbered, assess_store_with,
};
pub use incident::{Incident, load_incidents, save_incidents, update_incidents};
