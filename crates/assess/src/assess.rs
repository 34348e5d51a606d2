//! The entry point: a store (or posts) in, an [`Assessment`] out.

use crate::build::build_incident;
use crate::fuse::{FusionOptions, fuse, seeds};
use crate::incident::Incident;
use crate::signals::{ClaimInfo, CoordinationOptions, MatchRow, Signals, stored_matches};
use crate::stream::AlertPipeline;
use pharos_alerts::{Notification, Rules};
use pharos_core::{EventTime, Post};
use pharos_store::{ClaimMatches, MediaHashes, PostFilter, Responses, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::ControlFlow;

/// What to assess and how.
#[derive(Clone, Debug, Default)]
pub struct AssessOptions {
    /// Posts at or after this event time (inclusive).
    pub since: Option<EventTime>,
    /// Posts before this event time (exclusive).
    pub until: Option<EventTime>,
    /// Alert rules (`--rules FILE`; default: the built-in rule).
    pub rules: Rules,
    pub coordination: CoordinationOptions,
    pub fusion: FusionOptions,
    /// Claims of the fact-check library, to name matched claims and their
    /// verdicts (matches themselves are read from the store).
    pub claims: Vec<ClaimInfo>,
    /// Responses made (corrections, debunks, takedown requests), besides
    /// those in the store's `responses` table.
    pub responses: Vec<Response>,
    /// Also report the coordination networks with their evidence
    /// ([`Assessment::networks`]; the server's dashboard and API show it).
    pub network_report: bool,
    /// Storylines likely to come back and their briefs
    /// ([`Assessment::prebunk`]; `pharos prebunk`).
    pub prebunk: crate::prebunk::PrebunkOptions,
    /// The media files posts reference, as `pharos media scan` hashed them
    /// (their provenance: C2PA, XMP), besides those in the store.
    pub media: Vec<pharos_store::MediaRecord>,
}

/// A response to an incident or claim: a correction published, a debunk
/// shared, a platform notified.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// When it went out (event time).
    pub time: EventTime,
    /// The incident it answers, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
    /// The claim it answers, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_id: Option<String>,
    /// A post (`platform:id`) of what it answers (the claims component logs
    /// responses against a narrative with such an anchor post).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
    /// The narrative id it answers (ids of one narrative-engine run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative: Option<u64>,
    /// What it was.
    #[serde(default)]
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// What a response changed: the incident's posts an hour in the six hours
/// before and after it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseEffect {
    pub incident: String,
    pub response: Response,
    /// Seconds from the incident's first post to the response.
    pub time_to_respond_s: f64,
    pub posts_per_hour_before: f64,
    pub posts_per_hour_after: f64,
}

/// What the assessment looked at.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AssessmentSummary {
    pub posts: u64,
    pub accounts: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_post: Option<EventTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_post: Option<EventTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<EventTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<EventTime>,
    pub platforms: BTreeMap<String, u64>,
    pub languages: BTreeMap<String, u64>,
    pub incidents: u64,
    pub alerts: u64,
    pub networks: u64,
    pub claim_matches: u64,
}

/// Incidents, alerts and what was looked at.
#[derive(Clone, Debug, Serialize)]
pub struct Assessment {
    pub summary: AssessmentSummary,
    /// Most severe first.
    pub incidents: Vec<Incident>,
    /// Alerts that met a rule (latest state of each), most severe first.
    pub alerts: Vec<Notification>,
    /// Responses and what they changed.
    pub responses: Vec<ResponseEffect>,
    /// Correction drafts per incident id (from the claims component's
    /// response packs, `pharos_claims::respond`, filled by the caller);
    /// the briefing puts them first under "what to do now".
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub drafts: BTreeMap<String, Vec<CorrectionDraft>>,
    /// Shared-template networks: accounts that sign their posts with the
    /// same line (a footer, a call to subscribe), possibly one operator
    /// behind them (DISARM T0092 Build Network). Coordination evidence
    /// from the narrative engine's learned boilerplate, never a narrative.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<pharos_analysis::narratives::SharedBoilerplate>,
    /// The coordination networks with the ids incidents name them by
    /// (`network:<id>`), their accounts, edges and evidence pairs; with
    /// [`AssessOptions::network_report`] only (not written to files).
    #[serde(skip)]
    pub networks: Option<pharos_analysis::coordination::report::CoordinationReport>,
    /// Every media file that declares itself made by generative AI (C2PA or
    /// XMP), with its posts (inside incidents or not) and its DISARM
    /// technique: AI media alone raises no incident (see [`crate::media`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ai_media: Vec<crate::incident::MediaRef>,
    /// Storylines likely to come back, forecast at the last post (or
    /// `until`), with briefs for the likely ones (`prebunk/` of the outputs).
    #[serde(
        default,
        skip_serializing_if = "crate::prebunk::brief::Prebunk::is_empty"
    )]
    pub prebunk: crate::prebunk::brief::Prebunk,
}

/// A correction drafted for an incident (a response pack's draft).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CorrectionDraft {
    /// Language of the text.
    pub lang: String,
    pub text: String,
    /// Fact-checks it cites (URLs).
    #[serde(default)]
    pub sources: Vec<String>,
}

/// Why an assessment failed.
#[derive(Debug, thiserror::Error)]
pub enum AssessError {
    #[error(transparent)]
    Store(#[from] pharos_store::StoreError),
    #[error("alert pipeline: {0}")]
    Alerts(#[from] pharos_alerts::DeliveryError),
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// PDQ hashes of pictures with less texture than this (flat colours, text
/// on a plain background) collide between different pictures (Meta's
/// advice): they are not matched.
pub const MIN_PDQ_QUALITY: u8 = 50;

/// Assesses the posts of a store in `[since, until)`: reads them, computes
/// every signal, fuses incidents and measures responses.
///
/// Holds the posts of the window in memory (about 1 KB a post with the
/// signals): assess a window of up to a few million posts at a time.
pub fn assess_store<S>(store: &S, opts: &AssessOptions) -> Result<Assessment, AssessError>
where
    S: Store + ClaimMatches + Responses + MediaHashes + ?Sized,
{
    let pipeline = AlertPipeline::new(opts.rules.clone(), None, true)?;
    assess_store_with(store, opts, pipeline)
}

/// [`assess_store`] through the caller's pipeline (with its delivery sinks
/// and claim signal; see [`Signals::compute_with`]): `pharos assess --out`
/// with delivery flags delivers what its `alerts.jsonl` holds, from one pass.
pub fn assess_store_with<S>(
    store: &S,
    opts: &AssessOptions,
    pipeline: AlertPipeline,
) -> Result<Assessment, AssessError>
where
    S: Store + ClaimMatches + Responses + MediaHashes + ?Sized,
{
    assess_store_numbered(store, opts, pipeline, &mut |_| {})
}

/// [`assess_store_with`], the coordination networks numbered by `number`
/// before fusion (the server's live passes carry network ids from pass to
/// pass: [`crate::live::NetworkIds`]); by default they are numbered 0, 1,
/// … largest first.
pub fn assess_store_numbered<S>(
    store: &S,
    opts: &AssessOptions,
    pipeline: AlertPipeline,
    number: &mut dyn FnMut(&mut [crate::signals::FoundNetwork]),
) -> Result<Assessment, AssessError>
where
    S: Store + ClaimMatches + Responses + MediaHashes + ?Sized,
{
    let filter = PostFilter {
        since: opts.since,
        until: opts.until,
        platform: None,
    };
    let mut posts = Vec::new();
    store.scan(&filter, &mut |p| {
        posts.push(p);
        ControlFlow::Continue(())
    })?;
    // The files `pharos media scan` hashed: their PDQ hashes (co-image
    // coordination) and their provenance (AI-generated media, evidence).
    let records = store.media_records()?;
    pharos_store::attach_hashes(&records, &mut posts, MIN_PDQ_QUALITY);
    let matches = stored_matches(store, opts.fusion.min_match_confidence)?;
    let mut responses = stored_responses(store)?;
    responses.extend(opts.responses.iter().cloned());
    let mut opts = opts.clone();
    opts.responses = responses;
    opts.media.extend(records);
    assess_posts_numbered(posts, matches, &opts, pipeline, number)
}

/// Assesses posts directly (any order), with their claim matches.
pub fn assess_posts(
    posts: Vec<Post>,
    matches: Vec<MatchRow>,
    opts: &AssessOptions,
) -> Result<Assessment, AssessError> {
    let pipeline = AlertPipeline::new(opts.rules.clone(), None, true)?;
    assess_posts_with(posts, matches, opts, pipeline)
}

/// [`assess_posts`] through the caller's pipeline (see [`assess_store_with`]).
pub fn assess_posts_with(
    posts: Vec<Post>,
    matches: Vec<MatchRow>,
    opts: &AssessOptions,
    pipeline: AlertPipeline,
) -> Result<Assessment, AssessError> {
    assess_posts_numbered(posts, matches, opts, pipeline, &mut |_| {})
}

fn assess_posts_numbered(
    posts: Vec<Post>,
    matches: Vec<MatchRow>,
    opts: &AssessOptions,
    pipeline: AlertPipeline,
    number: &mut dyn FnMut(&mut [crate::signals::FoundNetwork]),
) -> Result<Assessment, AssessError> {
    let posts: Vec<Post> = posts
        .into_iter()
        .filter(|p| opts.since.is_none_or(|s| p.time >= s) && opts.until.is_none_or(|u| p.time < u))
        .collect();
    let mut sig = Signals::compute_with(posts, pipeline, &opts.coordination, matches)?;
    number(&mut sig.networks);
    sig.set_media(crate::media::MediaFiles::new(opts.media.clone()));
    let claims: HashMap<String, ClaimInfo> = opts
        .claims
        .iter()
        .map(|c| (c.id.clone(), c.clone()))
        .collect();
    let groups = fuse(&sig, seeds(&sig, &opts.fusion), &opts.fusion);
    let mut incidents: Vec<Incident> = groups
        .iter()
        .map(|g| build_incident(&sig, g, &claims))
        .filter(|i| i.confidence.value >= opts.fusion.min_confidence)
        .collect();
    incidents.sort_by(|a, b| {
        b.severity
            .value
            .total_cmp(&a.severity.value)
            .then_with(|| a.first_seen.cmp(&b.first_seen))
            .then_with(|| a.id.cmp(&b.id))
    });
    let responses = response_effects(&sig, &incidents, &opts.responses);
    let mut summary = AssessmentSummary {
        posts: sig.posts.len() as u64,
        first_post: sig.posts.first().map(|p| p.time),
        last_post: sig.posts.last().map(|p| p.time),
        since: opts.since,
        until: opts.until,
        incidents: incidents.len() as u64,
        alerts: sig.alerts.len() as u64,
        networks: sig.networks.len() as u64,
        claim_matches: sig.matches.len() as u64,
        ..Default::default()
    };
    let mut accounts = HashSet::new();
    for p in &sig.posts {
        accounts.insert((p.platform.as_str(), p.actor.id.as_str()));
        *summary.platforms.entry(p.platform.clone()).or_insert(0) += 1;
        *summary
            .languages
            .entry(p.lang.clone().unwrap_or_else(|| "und".into()))
            .or_insert(0) += 1;
    }
    summary.accounts = accounts.len() as u64;
    let now = opts.until.or(summary.last_post).unwrap_or(EventTime(0));
    let prebunk = crate::prebunk::brief::prebunk(&sig, &incidents, &claims, &opts.prebunk, now);
    let networks = opts
        .network_report
        .then(|| crate::networks::network_report(&sig, &opts.coordination));
    let ai_media = crate::media::ai_media(&sig);
    Ok(Assessment {
        summary,
        incidents,
        alerts: sig.alerts,
        responses,
        drafts: BTreeMap::new(),
        templates: sig.templates,
        networks,
        ai_media,
        prebunk,
    })
}

/// For each response linked to an incident (by incident id, else by an
/// anchor post among its posts, else by a claim its posts match, else by a
/// narrative id it holds, else by falling within its span), the incident's
/// rate in the six hours before and after.
fn response_effects(
    sig: &Signals,
    incidents: &[Incident],
    responses: &[Response],
) -> Vec<ResponseEffect> {
    const WINDOW_MS: i64 = 6 * 3_600_000;
    let mut out = Vec::new();
    for inc in incidents {
        let times: Vec<i64> = inc
            .posts
            .iter()
            .filter_map(|k| sig.index.get(k))
            .map(|&i| sig.posts[i].time.millis())
            .collect();
        for r in responses {
            let linked = if let Some(id) = &r.incident {
                *id == inc.id
            } else if let Some(a) = &r.anchor {
                inc.posts.iter().any(|p| p == a)
            } else if let Some(c) = &r.claim_id {
                inc.claim_matches.iter().any(|m| &m.claim_id == c)
            } else if let Some(n) = r.narrative {
                let id = format!("narrative:{n}");
                inc.narratives.iter().any(|x| x.id == id)
            } else {
                r.time >= inc.first_seen && r.time <= inc.last_seen
            };
            if !linked {
                continue;
            }
            let t = r.time.millis();
            let before = times
                .iter()
                .filter(|&&x| x >= t - WINDOW_MS && x < t)
                .count();
            let after = times
                .iter()
                .filter(|&&x| x >= t && x < t + WINDOW_MS)
                .count();
            out.push(ResponseEffect {
                incident: inc.id.clone(),
                response: r.clone(),
                time_to_respond_s: (t - inc.first_seen.millis()) as f64 / 1000.0,
                posts_per_hour_before: before as f64 / 6.0,
                posts_per_hour_after: after as f64 / 6.0,
            });
        }
    }
    out
}

/// Responses logged in the store (`pharos respond log`: a narrative, its
/// anchor post, a label, a time and a URL), oldest first.
pub fn stored_responses<S: Responses + ?Sized>(store: &S) -> Result<Vec<Response>, StoreError> {
    Ok(store
        .responses(None)?
        .into_iter()
        .map(|r| Response {
            time: EventTime(r.at_ms),
            incident: None,
            claim_id: None,
            label: r.label.unwrap_or_default(),
            url: r.url,
            anchor: r
                .anchor_platform
                .zip(r.anchor_post)
                .map(|(p, i)| format!("{p}:{i}")),
            narrative: Some(r.narrative),
        })
        .collect())
}
