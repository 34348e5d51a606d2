//! The library's unit: a claim that has been fact-checked, with every review of it.

use serde::{Deserialize, Serialize};

/// A claim in the library. `id` is stable across re-imports of the same source
/// (CheckThat! `vclaim_id`, EUvsDisinfo case id, or a hash of the normalised
/// claim text and the review URL for ClaimReview / Fact Check API records).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Claim {
    pub id: String,
    /// The claim as reviewed (`claimReviewed`, `vclaim`, EUvsDisinfo summary).
    pub text: String,
    /// A headline for it (fact-check title, EUvsDisinfo title).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// ISO 639-1 language of `text`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Who made the claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimant: Option<String>,
    /// When the claim was made / first appeared (RFC 3339 or date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_date: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Every fact-check of this claim.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reviews: Vec<Review>,
    /// URLs where the claim was seen (ClaimReview `itemReviewed.appearance` /
    /// `firstAppearance`, EUvsDisinfo `source`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub appearances: Vec<String>,
    /// Outlets that carried the claim (EUvsDisinfo `outlet`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outlets: Vec<String>,
    /// ISO 639-1 languages the claim appeared in (EUvsDisinfo `language`),
    /// which may differ from `lang`, the language of `text`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
}

/// One fact-check verdict on a claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Review {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// The publisher's site (Fact Check Tools `publisher.site`), e.g. `fullfact.org`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher_site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Textual verdict (`alternateName`, `textualRating`), e.g. "False".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_rating: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst_rating: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// The debunk text (EUvsDisinfo disproof, review body), used for corrections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}
