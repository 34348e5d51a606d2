//! Scenario parameters.

use pharos_core::EventTime;
use serde::{Deserialize, Serialize};

/// The kinds of planted campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignKind {
    /// A set of accounts resharing the same seed posts within seconds.
    ReshareRing,
    /// The same text posted by many accounts with small edits.
    CopyPaste,
    /// The same URLs posted by one group on Twitter and Facebook within minutes.
    LinkNetwork,
    /// A new hashtag pushed by many accounts in a burst.
    HashtagFlood,
    /// A false claim seeded by a channel and amplified; it is in the fact-check library.
    FalseNarrative,
    /// The same pictures (cropped, resized, re-encoded copies) posted by a
    /// group of accounts within minutes, one of them declared AI-generated.
    /// Not in the defaults: [`SimConfig::with_images`] plants it.
    ImageReuse,
}

impl CampaignKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignKind::ReshareRing => "reshare_ring",
            CampaignKind::CopyPaste => "copy_paste",
            CampaignKind::LinkNetwork => "link_network",
            CampaignKind::HashtagFlood => "hashtag_flood",
            CampaignKind::FalseNarrative => "false_narrative",
            CampaignKind::ImageReuse => "image_reuse",
        }
    }
}

/// One planted campaign.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignSpec {
    pub kind: CampaignKind,
    /// ISO 639-1 code: one of `en`, `ru`, `uk`, `de`, `fr`, `pl`.
    pub lang: String,
    /// When it starts, as a fraction of the scenario's span (0.0 = start, 1.0 = end).
    pub at: f64,
    /// Multiplier on the default size (accounts and posts), 1.0 by default.
    pub scale: f64,
}

impl CampaignSpec {
    pub fn new(kind: CampaignKind, lang: &str, at: f64) -> CampaignSpec {
        CampaignSpec {
            kind,
            lang: lang.to_string(),
            at,
            scale: 1.0,
        }
    }

    /// The default set: one campaign of each kind, in five languages,
    /// starting between 20 % and 70 % of the span.
    pub fn defaults() -> Vec<CampaignSpec> {
        vec![
            CampaignSpec::new(CampaignKind::ReshareRing, "ru", 0.22),
            CampaignSpec::new(CampaignKind::CopyPaste, "de", 0.35),
            CampaignSpec::new(CampaignKind::LinkNetwork, "fr", 0.46),
            CampaignSpec::new(CampaignKind::HashtagFlood, "pl", 0.58),
            CampaignSpec::new(CampaignKind::FalseNarrative, "en", 0.66),
        ]
    }
}

/// Everything that decides a scenario. Same config, same bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    /// Exact number of posts written.
    pub posts: u64,
    pub seed: u64,
    /// First instant of the scenario (default 2025-03-03T00:00:00Z, a Monday).
    pub start: EventTime,
    /// Length in days (default 7, so that the weekly cycle shows).
    pub days: Option<f64>,
    pub campaigns: Vec<CampaignSpec>,
    /// Number of organic accounts (default `posts / 4`, between 500 and 3,000,000).
    pub population: Option<u32>,
}

/// 2025-03-03T00:00:00Z.
pub const DEFAULT_START: EventTime = EventTime(1_740_960_000_000);
pub const DEFAULT_DAYS: f64 = 7.0;
pub const MAX_POPULATION: u32 = 3_000_000;

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            posts: 100_000,
            seed: 1,
            start: DEFAULT_START,
            days: None,
            campaigns: CampaignSpec::defaults(),
            population: None,
        }
    }
}

impl SimConfig {
    /// Default scenario with `posts` posts and `seed`.
    pub fn new(posts: u64, seed: u64) -> SimConfig {
        SimConfig {
            posts,
            seed,
            ..Default::default()
        }
    }

    /// Also plants the image-reuse campaign (in Ukrainian, at 78 % of the
    /// span), unless the campaigns already hold one. Its posts reference
    /// pictures by relative path; [`crate::write_images`] writes them.
    pub fn with_images(mut self) -> SimConfig {
        if !self
            .campaigns
            .iter()
            .any(|c| c.kind == CampaignKind::ImageReuse)
        {
            self.campaigns
                .push(CampaignSpec::new(CampaignKind::ImageReuse, "uk", 0.78));
        }
        self
    }

    pub fn span_days(&self) -> f64 {
        self.days.unwrap_or(DEFAULT_DAYS)
    }

    pub fn end(&self) -> EventTime {
        EventTime(self.start.0 + (self.span_days() * 86_400_000.0).round() as i64)
    }

    pub(crate) fn population(&self) -> u32 {
        self.population
            .unwrap_or((self.posts / 4).clamp(500, MAX_POPULATION as u64) as u32)
            .clamp(1, MAX_POPULATION)
    }
}
