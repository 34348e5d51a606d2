//! Ground truth: what was planted, so that detectors can be scored.
//!
//! Written as `x.truth.json` next to `x.jsonl` (pretty-printed JSON):
//!
//! ```json
//! {
//!   "generator": "pharos-sim 0.1.0",
//!   "seed": 7, "posts": 20000,
//!   "start": "2025-03-03T00:00:00.000Z", "end": "2025-03-10T00:00:00.000Z", "days": 7.0,
//!   "population": 5000,
//!   "summary": {
//!     "organic_posts": 19381, "campaign_posts": 512, "cover_posts": 107,
//!     "actors": 4321, "organic_actors": 4100, "campaign_actors": 221,
//!     "reshares": 4500, "replies": 2100, "recycled_claim_posts": 30,
//!     "languages": {"de": 2600, "en": 6000, ...}, "platforms": {"facebook": 1200, ...}
//!   },
//!   "campaigns": [{
//!     "id": "c1-reshare-ring", "kind": "reshare_ring", "description": "...",
//!     "start": "...", "end": "...", "language": "ru", "platforms": ["twitter"],
//!     "accounts": ["<actor id>", ...], "posts": ["<post id>", ...],
//!     "cover_posts": ["<post id>", ...],
//!     "hashtags": ["..."], "urls": ["..."], "claim": "...", "factcheck_url": "...",
//!     "media": ["media/c6-image-reuse/img00-v000.jpg", ...], "ai_media": ["..."]
//!   }],
//!   "template_networks": [{"footer": "⚡️ Правда без цензуры — …", "platform": "telegram",
//!                          "language": "ru", "accounts": ["<actor id>", ...],
//!                          "posts": ["<post id>", ...]}],
//!   "factchecks": [{"claim": "...", "lang": "en", "url": "...", "rating": "False",
//!                   "organisation": "...", "published": "...", "claim_author": "...",
//!                   "claim_published": "...",
//!                   "appearances": ["..."], "campaign": "c5-false-narrative"}],
//!   "claim_posts": [{"post": "<post id>", "factchecks": ["<review url>", ...]}]
//! }
//! ```
//!
//! `posts` are the campaign's own posts (its coordinated activity); `cover_posts`
//! are ordinary-looking posts its accounts publish around it to look
//! human: they are by campaign accounts but carry no campaign content.
//! Every account posts at least once. `start` and `end` are the times of the
//! campaign's first and last post. `hashtags` are lowercase without `#`;
//! `urls` are normalised (`pharos_core::normalize_url`). See the crate's
//! README for every field.

use pharos_core::EventTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    pub generator: String,
    pub seed: u64,
    pub posts: u64,
    pub start: EventTime,
    pub end: EventTime,
    pub days: f64,
    /// Number of organic accounts that could post.
    pub population: u32,
    pub summary: Summary,
    pub campaigns: Vec<CampaignTruth>,
    /// Accounts that look independent but sign every post with the same
    /// footer (one operator; DISARM T0092 Build Network). Their posts are
    /// organic posts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub template_networks: Vec<TemplateNetworkTruth>,
    /// The fact-check library written beside the posts (`x.factchecks.json`).
    pub factchecks: Vec<FactCheckTruth>,
    /// Every post whose text repeats a claim of the library, with the
    /// reviews of that claim: the posts of the campaigns that plant a false
    /// claim, the organic posts that recycle an older debunked one, and
    /// every reshare of either (a reshare carries its original's text).
    /// Every other post repeats no claim of the library. Absent from truth
    /// files written before it was added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claim_posts: Vec<ClaimPostTruth>,
}

/// A post that repeats a fact-checked claim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimPostTruth {
    pub post: String,
    /// The `url` of each review ([`FactCheckTruth::url`]) of the claim it
    /// repeats (a planted claim is reviewed in two languages).
    pub factchecks: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub organic_posts: u64,
    pub campaign_posts: u64,
    pub cover_posts: u64,
    /// Accounts that posted at least once.
    pub actors: u64,
    pub organic_actors: u64,
    pub campaign_actors: u64,
    pub reshares: u64,
    pub replies: u64,
    /// Organic posts repeating an older debunked claim from the library.
    pub recycled_claim_posts: u64,
    pub languages: BTreeMap<String, u64>,
    pub platforms: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignTruth {
    pub id: String,
    /// `reshare_ring`, `copy_paste`, `link_network`, `hashtag_flood`, `false_narrative`.
    pub kind: String,
    pub description: String,
    pub start: EventTime,
    pub end: EventTime,
    pub language: String,
    pub platforms: Vec<String>,
    pub accounts: Vec<String>,
    pub posts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cover_posts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hashtags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factcheck_url: Option<String>,
    /// Image reuse: the pictures its posts carry, as the posts reference
    /// them (paths relative to the media folder, `media/<id>/imgNN-vMMM.jpg`;
    /// the same NN is one picture).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<String>,
    /// Of `media`, the files declared AI-generated (XMP `DigitalSourceType`
    /// `trainedAlgorithmicMedia`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ai_media: Vec<String>,
}

/// Channels sharing one footer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateNetworkTruth {
    /// The footer line they all sign with.
    pub footer: String,
    pub platform: String,
    pub language: String,
    /// Their actor ids.
    pub accounts: Vec<String>,
    /// Their posts signed with the footer (every original post of theirs).
    #[serde(default)]
    pub posts: Vec<String>,
}

/// One entry of the fact-check library.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FactCheckTruth {
    pub claim: String,
    pub lang: String,
    pub url: String,
    pub rating: String,
    pub organisation: String,
    pub published: EventTime,
    pub claim_author: String,
    /// When the claim first appeared.
    pub claim_published: EventTime,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub appearances: Vec<String>,
    /// The campaign that plants this claim; `None` for older claims that recur organically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
}
