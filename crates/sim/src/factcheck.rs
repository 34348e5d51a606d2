//! The fact-check library: schema.org `ClaimReview` items in a `DataFeed`
//! (the JSON-LD form fact-checkers publish and Google's Fact Check Tools read).

use crate::content::CONTENT;
use crate::truth::FactCheckTruth;
use pharos_core::EventTime;
use serde_json::{Value, json};

const DAY_MS: i64 = 86_400_000;

/// The older debunked claims (two per language), published before `start`.
pub(crate) fn organic_library(start: EventTime) -> Vec<FactCheckTruth> {
    let mut out = Vec::new();
    for c in CONTENT.iter() {
        for (i, d) in c.debunked.iter().enumerate() {
            let published = EventTime(start.0 - d.days_before as i64 * DAY_MS + 10 * 3_600_000);
            let dt = published.to_datetime();
            out.push(FactCheckTruth {
                claim: d.text.to_string(),
                lang: c.code.to_string(),
                url: format!(
                    "https://{}/{}/{}/fc-{}{:02}{}",
                    c.checker.1,
                    dt.format("%Y"),
                    dt.format("%m"),
                    c.code,
                    i + 1,
                    d.days_before
                ),
                rating: "False".into(),
                organisation: c.checker.0.to_string(),
                published,
                claim_author: d.author.to_string(),
                claim_published: EventTime(published.0 - (3 + d.days_before as i64 % 11) * DAY_MS),
                appearances: Vec::new(),
                campaign: None,
            });
        }
    }
    out
}

/// The review URLs of [`organic_library`], by language (`CONTENT` order)
/// and claim.
pub(crate) fn organic_urls(start: EventTime) -> Vec<Vec<String>> {
    let mut urls = organic_library(start).into_iter().map(|f| f.url);
    CONTENT
        .iter()
        .map(|c| c.debunked.iter().filter_map(|_| urls.next()).collect())
        .collect()
}

/// URL of the review of a planted claim in `lang`.
pub(crate) fn planted_url(lang: &str, campaign_id: &str, published: EventTime) -> String {
    let c = crate::content::content(lang);
    let dt = published.to_datetime();
    format!(
        "https://{}/{}/{}/eu-household-power-rationing-{}-{}",
        c.checker.1,
        dt.format("%Y"),
        dt.format("%m"),
        lang,
        campaign_id
    )
}

/// The library as a schema.org `DataFeed` of `ClaimReview`s.
pub fn claim_review_feed(library: &[FactCheckTruth]) -> Value {
    let items: Vec<Value> = library
        .iter()
        .map(|f| {
            let appearance: Vec<Value> = f
                .appearances
                .iter()
                .map(|u| json!({"@type": "CreativeWork", "url": u}))
                .collect();
            json!({
                "@type": "DataFeedItem",
                "dateCreated": f.published,
                "item": [{
                    "@context": "https://schema.org",
                    "@type": "ClaimReview",
                    "claimReviewed": f.claim,
                    "reviewRating": {
                        "@type": "Rating",
                        "alternateName": f.rating,
                        "ratingValue": 1,
                        "bestRating": 5,
                        "worstRating": 1
                    },
                    "author": {"@type": "Organization", "name": f.organisation},
                    "datePublished": f.published.day(),
                    "inLanguage": f.lang,
                    "url": f.url,
                    "itemReviewed": {
                        "@type": "Claim",
                        "author": {"@type": "Organization", "name": f.claim_author},
                        "datePublished": f.claim_published.day(),
                        "appearance": appearance
                    }
                }]
            })
        })
        .collect();
    json!({
        "@context": "https://schema.org",
        "@type": "DataFeed",
        "dataFeedElement": items
    })
}
