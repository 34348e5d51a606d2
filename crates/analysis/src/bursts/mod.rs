//! Early warning: bursts of anything that can surge.
//!
//! The caller feeds [`Observation`]s — "entity *E* of kind *K* was used at
//! time *t* by actor *A* on platform *P* in language *L*, and the actor is
//! (or is not) flagged coordinated or suspicious" — in event-time order.
//! [`post_observations`] derives the hashtag, URL, domain and
//! reshare-target observations of a [`Post`]; narratives, near-duplicate
//! families and coordination networks come from their engines through the
//! same call with their own ids as keys.
//!
//! For every entity the [`BurstDetector`] keeps:
//!
//! - a [`baseline`]: an exponentially weighted rate of the entity's own
//!   deseasonalised activity, times an hour-of-day × day-of-week factor
//!   learnt per language from the whole stream, with a floor for sparse
//!   and new entities;
//! - a [`kleinberg`] burst automaton over fixed bins (default 2 minutes)
//!   whose normal state emits at the baseline and whose higher states emit
//!   at 3×, 9×, … of it. The automaton is run online: after each bin (and,
//!   tentatively, after each observation inside the current bin) it knows
//!   the most likely state and when the current elevated run began.
//!
//! When an entity's state rises above normal and the run has reached a
//! minimum volume and number of distinct actors, an [`Alert`] opens
//! ([`AlertEvent::Opened`]); it is refreshed at every bin while the burst
//! lasts ([`AlertEvent::Updated`]) and closes after a few calm bins
//! ([`AlertEvent::Closed`]). Each alert carries its lead time, growth,
//! volume, actors, the share of flagged actors, platforms, languages and a
//! severity in [0, 1] explained term by term ([`SeverityTerms`]).
//! Filtering by rules and delivery are the `pharos-alerts` crate's job.
//!
//! # Cost and memory
//!
//! An observation costs one hash lookup and `O(k²)` arithmetic (`k`
//! automaton states, 3 by default), plus one step per bin the entity skipped
//! (at most [`MAX_GAP_STEPS`]). Every bin of event time the detector visits
//! the entities with an open burst (`O(open bursts)`), and every hour it
//! sweeps all live entities to expire the idle ones (`O(live entities)`,
//! amortised over an hour of input). Memory is about 200 bytes per live
//! entity plus its key, plus the actor set of each open burst. Entities
//! idle for longer than [`BurstConfig::horizon_h`] (default 48 h) are
//! dropped; when [`BurstConfig::max_entities`] are live, the least active
//! tenth (lowest current baseline rate, never one with an open burst) is
//! evicted. So cost grows linearly with the number of observations and
//! memory with the number of entities active within the horizon, capped.

pub mod alert;
pub mod baseline;
pub mod claims;
mod detector;
pub mod kleinberg;

pub use alert::{Alert, ClaimDetails, SeverityTerms, SeverityWeights};
pub use claims::{ClaimConfig, ClaimObservation, ClaimWatch, ClaimWatchStats, verdict_weight};
pub use detector::{AlertEvent, BurstConfig, BurstDetector, DetectorStats, MAX_GAP_STEPS};
pub use kleinberg::{Automaton, KleinbergParams, batch_states};

use pharos_core::{EventTime, Post};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// What kind of thing is surging.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// A narrative (id from the narratives engine).
    Narrative,
    /// A near-duplicate ("copypasta") family (id from the similarity engine).
    Family,
    /// A normalised URL.
    Url,
    /// A link domain.
    Domain,
    /// A hashtag, lowercase without `#`.
    Hashtag,
    /// A coordination network (id from the coordination engine).
    Network,
    /// A post being reshared or quoted, keyed `platform:post id`.
    ReshareTarget,
    /// A conversation thread (replies to one root), keyed by the root's id.
    Conversation,
    /// A known fact-checked claim, keyed by its library id: alerted at its
    /// first confident matches ([`claims`]), not by bursts.
    Claim,
}

impl EntityKind {
    pub const ALL: [EntityKind; 9] = [
        EntityKind::Narrative,
        EntityKind::Family,
        EntityKind::Url,
        EntityKind::Domain,
        EntityKind::Hashtag,
        EntityKind::Network,
        EntityKind::ReshareTarget,
        EntityKind::Conversation,
        EntityKind::Claim,
    ];

    /// The name used in JSON and rule files.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Narrative => "narrative",
            EntityKind::Family => "family",
            EntityKind::Url => "url",
            EntityKind::Domain => "domain",
            EntityKind::Hashtag => "hashtag",
            EntityKind::Network => "network",
            EntityKind::ReshareTarget => "reshare_target",
            EntityKind::Conversation => "conversation",
            EntityKind::Claim => "claim",
        }
    }

    /// Reads [`EntityKind::as_str`] back.
    pub fn parse(s: &str) -> Option<EntityKind> {
        EntityKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind in an analyst's words.
    pub fn describe(self) -> &'static str {
        match self {
            EntityKind::Narrative => "narrative",
            EntityKind::Family => "near-duplicate family",
            EntityKind::Url => "link",
            EntityKind::Domain => "domain",
            EntityKind::Hashtag => "hashtag",
            EntityKind::Network => "coordination network",
            EntityKind::ReshareTarget => "reshared post",
            EntityKind::Conversation => "conversation",
            EntityKind::Claim => "fact-checked claim",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What the caller knows about the actor behind an observation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ActorFlags(pub u8);

impl ActorFlags {
    pub const NONE: ActorFlags = ActorFlags(0);
    /// The actor belongs to a detected coordination network.
    pub const COORDINATED: ActorFlags = ActorFlags(1);
    /// The actor's own signals look inauthentic (actor-signal score, fresh
    /// high-volume account, ...).
    pub const SUSPICIOUS: ActorFlags = ActorFlags(2);

    pub fn coordinated(self) -> bool {
        self.0 & 1 != 0
    }
    pub fn suspicious(self) -> bool {
        self.0 & 2 != 0
    }
    pub fn any(self) -> bool {
        self.0 & 3 != 0
    }
}

impl std::ops::BitOr for ActorFlags {
    type Output = ActorFlags;
    fn bitor(self, o: ActorFlags) -> ActorFlags {
        ActorFlags(self.0 | o.0)
    }
}

/// One use of one entity.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation<'a> {
    pub kind: EntityKind,
    pub key: Cow<'a, str>,
    pub time: EventTime,
    /// Actor id (platform-scoped ids are fine: only equality matters).
    pub actor: &'a str,
    pub platform: &'a str,
    pub lang: Option<&'a str>,
    pub flags: ActorFlags,
    /// Id of the post, kept as evidence (the first few of each burst).
    pub post: &'a str,
}

/// The observations a post gives by itself: each hashtag, each normalised
/// URL, each domain, and the post it reshares or quotes
/// (`platform:id`). Appended to `out`.
pub fn post_observations<'a>(post: &'a Post, flags: ActorFlags, out: &mut Vec<Observation<'a>>) {
    let base = |kind, key: Cow<'a, str>| Observation {
        kind,
        key,
        time: post.time,
        actor: &post.actor.id,
        platform: &post.platform,
        lang: post.lang.as_deref(),
        flags,
        post: &post.id,
    };
    for h in &post.hashtags {
        if !h.is_empty() {
            out.push(base(EntityKind::Hashtag, Cow::Borrowed(h)));
        }
    }
    for l in &post.links {
        if !l.domain.is_empty() {
            out.push(base(EntityKind::Url, Cow::Borrowed(&l.url)));
        }
    }
    for d in &post.domains {
        if !d.is_empty() {
            out.push(base(EntityKind::Domain, Cow::Borrowed(d)));
        }
    }
    for target in [&post.reshare_of, &post.quote_of].into_iter().flatten() {
        out.push(base(
            EntityKind::ReshareTarget,
            Cow::Owned(format!("{}:{}", post.platform, target)),
        ));
    }
}

#[cfg(test)]
mod tests;
