//! The incident: one campaign as an analyst sees it.
//!
//! An [`Incident`] fuses the signals Pharos computes (coordination networks,
//! narratives and near-duplicate families, bursts, claim matches, actor
//! signals) about one campaign — typically a narrative pushed by one or more
//! networks of accounts across platforms — into one record that says what is
//! happening, who is behind it, how big and how fast, and on what evidence.
//!
//! Every statement in an incident (the summary, each ABCDE facet, each DISARM
//! technique, each severity and confidence term) points to entries of
//! [`Incident::evidence`] by their [`EvidenceId`]. Evidence ids are
//! deterministic, readable strings:
//!
//! | kind | id |
//! |---|---|
//! | post | `post:<platform>:<post id>` |
//! | account | `account:<platform>:<actor id>` |
//! | link | `link:<normalised url>` |
//! | network | `network:<id>` |
//! | narrative | `narrative:<id>` |
//! | family | `family:<id>` |
//! | claim match | `match:<claim id>` |
//! | alert | `alert:<alert id>` |
//! | media file | `media:<sha256 of the file>` |
//!
//! The model is what `incidents.json` holds, what the reports are drawn
//! from, what the store keeps (component `incidents`, see [`save_incidents`])
//! and what the STIX exporter maps to a bundle: account handles and
//! platforms, URLs, domains and narrative labels are kept in plain fields so
//! every exporter can reach them without parsing statements.

use pharos_core::EventTime;
pub use pharos_media::{AiDeclaration, C2pa};
use pharos_store::{IncidentRecord, Incidents};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The id of an evidence entry (`post:twitter:123`, `account:telegram:42`,
/// `network:3`, ...), which statements point to.
pub type EvidenceId = String;

/// The version of the incident JSON model (bumped on incompatible changes).
pub const MODEL_VERSION: u32 = 1;

/// One campaign as an analyst would see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Deterministic id: `inc-` and 16 hex digits of a SHA-256 over the
    /// incident's sorted account keys and its first post (see
    /// [`Incident::derive_id`]). The same input gives the same id.
    pub id: String,
    /// A short title: the main narrative's title or the main entity pushed.
    pub title: String,
    /// One sentence a decision-maker can read: what, who, how big, how fast.
    pub summary: String,
    /// Event time of the incident's first post.
    pub first_seen: EventTime,
    /// Event time of the incident's last post.
    pub last_seen: EventTime,
    /// Posts per time bucket per platform.
    pub timeline: Timeline,
    /// How much the incident matters (reach, velocity, spread), 0–1, with
    /// its terms.
    pub severity: Score,
    /// How sure Pharos is that this is a coordinated campaign (strength and
    /// independence of the evidence), 0–1, with its terms.
    pub confidence: Score,
    /// Actor, Behaviour, Content, Degree, Effect.
    pub abcde: Abcde,
    /// DISARM techniques the evidence shows, each with the signal and the
    /// evidence behind it.
    pub techniques: Vec<TechniqueTag>,
    /// Narratives (and their near-duplicate families) the incident pushes.
    pub narratives: Vec<NarrativeRef>,
    /// Coordination networks behind it.
    pub networks: Vec<NetworkRef>,
    /// Early-warning alerts raised on its entities.
    pub alerts: Vec<AlertRef>,
    /// Matches of its posts against known (fact-checked) claims.
    pub claim_matches: Vec<ClaimMatchRef>,
    /// Accounts taking part, most active first.
    pub actors: Vec<ActorRef>,
    /// Links pushed, most posted first.
    pub links: Vec<Counted>,
    /// Domains of those links, most posted first.
    pub domains: Vec<Counted>,
    /// Hashtags used, most posted first.
    pub hashtags: Vec<Counted>,
    /// Posts per platform.
    pub platforms: BTreeMap<String, u64>,
    /// Posts per language (ISO 639-1; `und` unknown).
    pub languages: BTreeMap<String, u64>,
    /// Every post of the incident as `platform:id`, in event-time order
    /// (complete; the evidence list holds the detail of a sample).
    pub posts: Vec<String>,
    /// The evidence statements point to.
    pub evidence: Vec<Evidence>,
    /// The local files its posts reference, as `pharos media scan` hashed
    /// them (one entry per distinct file), AI-declared ones first, then by
    /// posts; empty when nothing was scanned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<MediaRef>,
}

impl Incident {
    /// The deterministic id of an incident made of these accounts
    /// (`platform:actor_id`) whose first post is `first_post`
    /// (`platform:id`): order of `accounts` does not matter.
    pub fn derive_id(accounts: &[String], first_post: &str) -> String {
        let mut sorted: Vec<&str> = accounts.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let mut h = Sha256::new();
        h.update(b"pharos-incident\0");
        h.update(first_post.as_bytes());
        for a in sorted {
            h.update(b"\0");
            h.update(a.as_bytes());
        }
        let d = h.finalize();
        format!("inc-{}", hex::encode(&d[..8]))
    }

    /// The evidence entry with this id.
    pub fn evidence(&self, id: &str) -> Option<&Evidence> {
        self.evidence.iter().find(|e| e.id == id)
    }

    /// Accounts flagged as coordinated (members of a network).
    pub fn coordinated_actors(&self) -> impl Iterator<Item = &ActorRef> {
        self.actors.iter().filter(|a| a.coordinated)
    }

    /// Total posts.
    pub fn post_count(&self) -> usize {
        self.posts.len()
    }
}

/// Posts per time bucket per platform.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Bucket width in seconds (chosen so the incident spans ≤ ~48 buckets).
    pub bucket_s: i64,
    /// Start of the first bucket (aligned to `bucket_s` from the epoch).
    pub start: EventTime,
    /// One series per platform, buckets from `start`, zeros included.
    pub series: Vec<TimelineSeries>,
}

impl Timeline {
    /// Number of buckets.
    pub fn len(&self) -> usize {
        self.series.iter().map(|s| s.posts.len()).max().unwrap_or(0)
    }
    /// No buckets.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Posts per bucket over all platforms.
    pub fn totals(&self) -> Vec<u64> {
        let mut t = vec![0; self.len()];
        for s in &self.series {
            for (i, n) in s.posts.iter().enumerate() {
                t[i] += n;
            }
        }
        t
    }
}

/// One platform's posts per bucket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineSeries {
    pub platform: String,
    /// Posts in each bucket, from [`Timeline::start`].
    pub posts: Vec<u64>,
}

/// A score in [0, 1] and the terms it is made of.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The score: Σ `contribution` of the terms, clamped to [0, 1].
    pub value: f64,
    /// Its terms; `contribution = weight × value`.
    pub terms: Vec<ScoreTerm>,
}

/// One term of a [`Score`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreTerm {
    /// Short name (`reach`, `velocity`, `coordination`, ...).
    pub name: String,
    /// The term in [0, 1].
    pub value: f64,
    /// Its weight in the score.
    pub weight: f64,
    /// `weight × value`.
    pub contribution: f64,
    /// One sentence with the raw figures behind the term.
    pub explanation: String,
    /// Evidence behind the term.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<EvidenceId>,
}

/// A short statement and the evidence behind it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    pub statement: String,
    pub evidence: Vec<EvidenceId>,
}

/// The ABCDE framework (Actor, Behaviour, Content, Degree, Effect) for
/// describing influence operations (Carnegie Endowment / EU DisinfoLab).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Abcde {
    /// Who is behind it: the accounts, their networks and how inauthentic
    /// they look.
    pub actor: Statement,
    /// What they do: coordination, copy-paste, reshare rings, bursts.
    pub behaviour: Statement,
    /// What is pushed: narratives, claims, links, hashtags.
    pub content: Statement,
    /// How far it went: posts, accounts, platforms, languages, duration.
    pub degree: Statement,
    /// What it did or could do: audiences reached, engagement, matches with
    /// debunked claims, alert lead time. Pharos sees posts, not minds:
    /// this facet states observable reach, not persuasion.
    pub effect: Statement,
}

/// A DISARM technique the incident's evidence shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TechniqueTag {
    /// DISARM T-number (`T0049.001`).
    pub t_id: String,
    /// Technique name as in the DISARM framework.
    pub name: String,
    /// DISARM tactic id (`TA17`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tactic_id: Option<String>,
    /// The Pharos signal that shows it (`coordinated-network`,
    /// `copy-paste-flood`, ...).
    pub signal: String,
    /// Why the signal shows it, for this incident, in one sentence.
    pub shown_by: String,
    /// Evidence behind the tag (never empty).
    pub evidence: Vec<EvidenceId>,
}

/// A narrative the incident pushes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NarrativeRef {
    /// Evidence id (`narrative:<id>`).
    pub id: EvidenceId,
    /// The narrative's title: a headline from its representative post
    /// (empty in incidents written before titles existed).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// The narrative engine's label (its most telling terms joined by ` · `),
    /// the secondary label under the title.
    pub label: String,
    /// The label's terms.
    pub terms: Vec<String>,
    /// A representative post (`platform:id`) and its text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub representative: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub representative_text: String,
    /// Incident posts in this narrative.
    pub posts: u64,
    /// Near-duplicate families of this narrative in the incident
    /// (`family:<id>`, posts), largest first.
    pub families: Vec<Counted>,
}

impl NarrativeRef {
    /// What to call the narrative: its title, else its label.
    pub fn name(&self) -> &str {
        if self.title.trim().is_empty() {
            &self.label
        } else {
            &self.title
        }
    }
}

/// A coordination network behind the incident.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkRef {
    /// Evidence id (`network:<id>`).
    pub id: EvidenceId,
    /// What the accounts shared (`co-retweet`, `co-link`, `co-tweet`,
    /// `co-hashtag`, `co-similar-text`, or several joined by `+`;
    /// `shared-template`: the same signature line under their posts).
    pub kind: String,
    /// Member accounts (`platform:actor_id`).
    pub accounts: Vec<String>,
    /// Edges between members (undirected, weight = matched posts).
    pub edges: Vec<NetworkEdge>,
    /// Edges / possible edges.
    pub density: f64,
    /// Median seconds between matched posts.
    pub median_time_delta_s: f64,
    /// Posts of members that are in an evidence pair (a shared-template
    /// network: posts signed with its line).
    pub coordinated_posts: u64,
    /// A shared-template network (kind `shared-template`, DISARM T0092
    /// Build Network): the line its accounts sign their posts with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

/// An edge of a [`NetworkRef`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkEdge {
    pub from: String,
    pub to: String,
    pub weight: f64,
}

/// An early-warning alert on one of the incident's entities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertRef {
    /// Evidence id (`alert:<alert id>`).
    pub id: EvidenceId,
    /// The alert's own id (as in `alerts.jsonl`).
    pub alert_id: String,
    pub entity_kind: String,
    pub entity: String,
    pub opened_at: EventTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<EventTime>,
    /// Seconds from the burst's first post to the alert.
    pub lead_time_s: f64,
    pub severity: f64,
    pub volume: u64,
    pub explanation: String,
}

/// A match of incident posts against a known claim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimMatchRef {
    /// Evidence id (`match:<claim id>`).
    pub id: EvidenceId,
    pub claim_id: String,
    /// The claim's text, when the claim library holds it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub claim_text: String,
    /// Fact-checkers' verdicts (`false`, `misleading`, ...).
    pub verdicts: Vec<String>,
    /// Highest match confidence over the posts, 0–1.
    pub confidence: f64,
    /// Matched posts (`platform:id`).
    pub posts: Vec<String>,
    /// Fact-check URLs, when known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fact_checks: Vec<String>,
}

/// An account taking part in the incident.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActorRef {
    /// Evidence id (`account:<platform>:<actor id>`).
    pub id: EvidenceId,
    pub platform: String,
    pub actor_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// Incident posts by this account.
    pub posts: u64,
    /// The actor-signal inauthenticity score (0–1; a rank, not a
    /// probability), when enough posts were seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inauthenticity: Option<f64>,
    /// The score's top reasons.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reasons: String,
    /// Member of a coordination network of the incident.
    pub coordinated: bool,
    /// Network ids (`network:<id>`) it belongs to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<EvidenceId>,
}

impl ActorRef {
    /// `platform:actor_id`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.platform, self.actor_id)
    }
    /// `@handle` when known, else the actor id.
    pub fn display(&self) -> String {
        match &self.handle {
            Some(h) if !h.is_empty() => format!("@{}", h.trim_start_matches('@')),
            _ => self.actor_id.clone(),
        }
    }
}

/// A media file posts reference (hashed by `pharos media scan`), with what
/// it says about how it was made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRef {
    /// Evidence id (`media:<sha256>`).
    pub id: EvidenceId,
    /// The reference as the first post gives it (a path under the scan's
    /// root: an export's `photos/…`).
    pub file: String,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    /// PDQ perceptual hash, 64 hex digits, and its quality (0–100).
    pub pdq: String,
    pub quality: u8,
    pub width: u32,
    pub height: u32,
    /// The posts' media kind (`photo`, `video`, ...).
    pub kind: String,
    /// Posts carrying it (`platform:id`, event-time order, at most 50).
    pub posts: Vec<String>,
    /// Posts and distinct accounts carrying it.
    pub post_count: u64,
    pub accounts: u64,
    /// How it declares itself made by generative AI, if it does:
    /// `signed_c2pa` (a valid C2PA manifest: strong), `broken_c2pa` (a
    /// manifest that does not verify: an unverified claim), `xmp` (the
    /// unsigned XMP field: weaker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai: Option<AiDeclaration>,
    /// The DISARM technique an AI declaration shows (`T0086.002` for
    /// pictures, `T0087.001` for videos).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technique: Option<String>,
    /// The C2PA manifest's findings (`pharos media inspect`'s object), when
    /// the file carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c2pa: Option<C2pa>,
    /// Why the manifest does not verify (C2PA failure codes, e.g.
    /// `assertion.dataHash.mismatch`: the pixels changed after signing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub c2pa_failures: Vec<String>,
    /// The unsigned XMP `DigitalSourceType`, when the file has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xmp_source_type: Option<String>,
}

impl MediaRef {
    /// What the file says about how it was made, in one sentence for
    /// people. A manifest that does not verify is said to be one, never
    /// "authentic"; no metadata is "no statement", never "not generated".
    pub fn provenance(&self) -> String {
        let code = |uri: &str| uri.rsplit('/').next().unwrap_or(uri).to_string();
        let mut parts: Vec<String> = Vec::new();
        match &self.c2pa {
            Some(c) => {
                let by = format!(
                    "signed by {}{}",
                    c.signer.as_deref().unwrap_or("an unnamed signer"),
                    c.claim_generator
                        .as_deref()
                        .map(|g| format!(", claim generator {g}"))
                        .unwrap_or_default()
                );
                let declares = c
                    .digital_source_type
                    .as_deref()
                    .map(|t| format!("declares {}", code(t)))
                    .unwrap_or_else(|| "declares no source type".into());
                if c.valid {
                    parts.push(format!(
                        "valid C2PA manifest ({by}) {declares}{}",
                        if c.ai_generated {
                            ": generative AI, strong evidence"
                        } else {
                            " (integrity verified; the signer is not checked against a trust list)"
                        }
                    ));
                } else {
                    let why = if self.c2pa_failures.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", self.c2pa_failures.join(", "))
                    };
                    parts.push(format!(
                        "C2PA manifest present, signature does not verify{why}: it {declares}{}, an unverified claim ({by})",
                        if c.ai_generated { " (generative AI)" } else { "" }
                    ));
                }
            }
            None => parts.push("no C2PA manifest".into()),
        }
        if let Some(x) = &self.xmp_source_type {
            let ai = pharos_media::xmp::is_ai_source_type(x);
            parts.push(format!(
                "XMP DigitalSourceType {}{}",
                code(x),
                if ai {
                    " (generative AI; unsigned, anyone can write it: a weaker signal)"
                } else {
                    " (unsigned)"
                }
            ));
        } else if self.c2pa.is_none() {
            parts.push("no XMP source type: the file says nothing about how it was made".into());
        }
        parts.join("; ")
    }

    /// `a.jpg (sha256 1a2b3c4d…)`.
    pub fn display(&self) -> String {
        format!(
            "{} (sha256 {}…)",
            self.file,
            self.sha256.get(..12).unwrap_or(&self.sha256)
        )
    }
}

/// A key and how many incident posts carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted {
    pub key: String,
    pub posts: u64,
}

/// What an evidence entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    Post,
    Account,
    Link,
    Network,
    Narrative,
    Family,
    Match,
    Alert,
    Media,
}

impl EvidenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Post => "post",
            EvidenceKind::Account => "account",
            EvidenceKind::Link => "link",
            EvidenceKind::Network => "network",
            EvidenceKind::Narrative => "narrative",
            EvidenceKind::Family => "family",
            EvidenceKind::Match => "match",
            EvidenceKind::Alert => "alert",
            EvidenceKind::Media => "media",
        }
    }
}

/// One piece of evidence. Common fields first; the rest are filled for the
/// kinds that have them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// `post:twitter:123`, `account:telegram:42`, `link:https://...`, ...
    pub id: EvidenceId,
    pub kind: Option<EvidenceKind>,
    /// A one-line description for people.
    pub label: String,
    /// Platform (posts, accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Event time (posts: published; alerts: opened; others: first seen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<EventTime>,
    /// Posts: the author (`account:<platform>:<actor id>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<EvidenceId>,
    /// Posts: the text (≤ 500 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Posts: language; accounts: handle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Links: the URL; posts: first link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Links: the domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Posts: what it reshares (`platform:id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reshare_of: Option<String>,
    /// A number that measures it (network weight, match score, alert
    /// severity, link posts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Evidence it is made of (a network's accounts, a match's posts ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<EvidenceId>,
}

impl Evidence {
    pub fn post_id(platform: &str, id: &str) -> EvidenceId {
        format!("post:{platform}:{id}")
    }
    pub fn account_id(platform: &str, actor: &str) -> EvidenceId {
        format!("account:{platform}:{actor}")
    }
    pub fn link_id(url: &str) -> EvidenceId {
        format!("link:{url}")
    }
    pub fn media_id(sha256: &str) -> EvidenceId {
        format!("media:{sha256}")
    }
}

// ---------------------------------------------------------------- store

/// Errors of incident storage.
#[derive(Debug, thiserror::Error)]
pub enum IncidentStoreError {
    #[error(transparent)]
    Store(#[from] pharos_store::StoreError),
    #[error("incident {id} cannot be encoded for the store: {reason}")]
    Encode { id: String, reason: String },
}

/// Saves incidents (insert or replace by id) in one transaction.
pub fn save_incidents<S: Incidents + ?Sized>(
    store: &mut S,
    incidents: &[Incident],
) -> Result<(), IncidentStoreError> {
    Ok(store.save_incidents(&records(incidents)?)?)
}

/// In one transaction: saves `save` (insert or replace by id) and deletes
/// the stored incidents `delete` names (the server's live incidents: what a
/// pass found, and the open incidents it no longer finds).
pub fn update_incidents<S: Incidents + ?Sized>(
    store: &mut S,
    save: &[Incident],
    delete: &[String],
) -> Result<(), IncidentStoreError> {
    Ok(store.update_incidents(&records(save)?, delete)?)
}

fn records(incidents: &[Incident]) -> Result<Vec<IncidentRecord>, IncidentStoreError> {
    incidents
        .iter()
        .map(|inc| {
            let json = serde_json::to_string(inc).map_err(|e| IncidentStoreError::Encode {
                id: inc.id.clone(),
                reason: e.to_string(),
            })?;
            Ok(IncidentRecord {
                id: inc.id.clone(),
                title: inc.title.clone(),
                first_seen_ms: inc.first_seen.millis(),
                last_seen_ms: inc.last_seen.millis(),
                severity: inc.severity.value,
                confidence: inc.confidence.value,
                model_version: MODEL_VERSION as i64,
                json,
            })
        })
        .collect()
}

/// Loads every stored incident, by first-seen time then id. An incident
/// that cannot be read (written by another version, say) is skipped and
/// named in a warning: the others are still served.
pub fn load_incidents<S: Incidents + ?Sized>(
    store: &S,
) -> Result<Vec<Incident>, IncidentStoreError> {
    let mut out = Vec::new();
    for r in store.incidents()? {
        match serde_json::from_str::<Incident>(&r.json) {
            Ok(inc) => out.push(inc),
            Err(e) => tracing::warn!("skipped unreadable stored incident {}: {e}", r.id),
        }
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use pharos_store::SqliteStore;

    pub(crate) fn sample() -> Incident {
        let accounts = vec!["twitter:1".to_string(), "twitter:2".to_string()];
        let post = Evidence {
            id: Evidence::post_id("twitter", "10"),
            kind: Some(EvidenceKind::Post),
            label: "post 10".into(),
            platform: Some("twitter".into()),
            time: Some(EventTime::from_secs(1_700_000_000)),
            account: Some(Evidence::account_id("twitter", "1")),
            text: Some("The EU will ration power".into()),
            ..Default::default()
        };
        Incident {
            id: Incident::derive_id(&accounts, "twitter:10"),
            title: "power rationing".into(),
            summary: "A narrative.".into(),
            first_seen: EventTime::from_secs(1_700_000_000),
            last_seen: EventTime::from_secs(1_700_003_600),
            timeline: Timeline {
                bucket_s: 3600,
                start: EventTime::from_secs(1_699_999_200),
                series: vec![TimelineSeries {
                    platform: "twitter".into(),
                    posts: vec![1, 1],
                }],
            },
            severity: Score {
                value: 0.5,
                terms: vec![],
            },
            confidence: Score::default(),
            abcde: Abcde::default(),
            techniques: vec![],
            narratives: vec![],
            networks: vec![],
            alerts: vec![],
            claim_matches: vec![],
            actors: vec![],
            links: vec![],
            domains: vec![],
            hashtags: vec![Counted {
                key: "powerrationing".into(),
                posts: 2,
            }],
            platforms: BTreeMap::from([("twitter".to_string(), 2)]),
            languages: BTreeMap::from([("en".to_string(), 2)]),
            posts: vec!["twitter:10".into(), "twitter:11".into()],
            evidence: vec![post],
            media: vec![],
        }
    }

    #[test]
    fn ids_are_deterministic_and_order_free() {
        let a = Incident::derive_id(&["x:1".into(), "x:2".into()], "x:9");
        let b = Incident::derive_id(&["x:2".into(), "x:1".into(), "x:1".into()], "x:9");
        let c = Incident::derive_id(&["x:2".into(), "x:1".into()], "x:8");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.starts_with("inc-") && a.len() == 20);
    }

    #[test]
    fn json_round_trip_and_timeline_totals() {
        let inc = sample();
        let json = serde_json::to_string(&inc).unwrap();
        let back: Incident = serde_json::from_str(&json).unwrap();
        assert_eq!(back, inc);
        assert_eq!(inc.timeline.totals(), vec![1, 1]);
        assert!(json.contains("\"first_seen\":\"2023-11-14T22:13:20.000Z\""));
        assert!(inc.evidence("post:twitter:10").is_some());
    }

    #[test]
    fn store_round_trip_replaces_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path().join("s.db")).unwrap();
        assert!(load_incidents(&store).unwrap().is_empty());
        let mut inc = sample();
        save_incidents(&mut store, std::slice::from_ref(&inc)).unwrap();
        inc.title = "changed".into();
        save_incidents(&mut store, std::slice::from_ref(&inc)).unwrap();
        let back = load_incidents(&store).unwrap();
        assert_eq!(back, vec![inc]);
    }
}
