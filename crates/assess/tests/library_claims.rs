//! `LibraryClaims`: the fact-check library's matcher as the stream's claim
//! signal — text matches at or above the minimum, and links to an
//! appearance a review lists.

use pharos_assess::stream::{ClaimSignal, LIBRARY_MIN_CONFIDENCE, LibraryClaims};
use pharos_claims::library::{ImportFormat, ImportOptions, import};
use pharos_core::{Link, Post};
use serde_json::json;

fn library(dir: &std::path::Path) -> std::path::PathBuf {
    let review = |claim: &str, url: &str, appearances: &[&str]| {
        json!({
            "@context": "https://schema.org",
            "@type": "ClaimReview",
            "url": url,
            "claimReviewed": claim,
            "datePublished": "2025-03-01",
            "inLanguage": "en",
            "author": {"@type": "Organization", "name": "Checkers"},
            "reviewRating": {"@type": "Rating", "alternateName": "False"},
            "itemReviewed": {
                "@type": "Claim",
                "appearance": appearances
                    .iter()
                    .map(|u| json!({"@type": "CreativeWork", "url": u}))
                    .collect::<Vec<_>>()
            }
        })
    };
    let feed = json!([
        review(
            "Drinking bleach cures the flu",
            "https://checkers.example/bleach",
            &[
                "https://rumours.example/bleach-cure?utm_source=x",
                "https://video.example/"
            ]
        ),
        review(
            "The moon landing was filmed in a studio",
            "https://checkers.example/moon",
            &["https://rumours.example/moon-studio"]
        ),
    ]);
    let file = dir.join("feed.json");
    std::fs::write(&file, serde_json::to_vec(&feed).unwrap()).unwrap();
    let lib = dir.join("library");
    import(
        &lib,
        ImportFormat::ClaimReview,
        &[file],
        &ImportOptions::default(),
    )
    .unwrap();
    lib
}

fn post(id: &str, text: &str, links: &[&str]) -> Post {
    Post {
        id: id.into(),
        text: text.into(),
        lang: Some("en".into()),
        links: links.iter().map(|u| Link::new(u)).collect(),
        ..Post::default()
    }
}

#[test]
fn an_appearance_link_matches_whatever_the_text_and_a_bare_host_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut signal = LibraryClaims::open(&library(dir.path())).unwrap();
    assert_eq!(signal.min_confidence, LIBRARY_MIN_CONFIDENCE);
    let hits = signal.claims_batch(&[
        // The article the fact-checkers rated, with another tracking tag.
        post(
            "a",
            "you need to read this",
            &["https://rumours.example/bleach-cure?utm_campaign=y"],
        ),
        // Only the video platform's front page: names no claim.
        post("b", "you need to watch this", &["https://video.example/"]),
        // Nothing to do with either claim.
        post("c", "lovely weather for a picnic today", &[]),
    ]);
    assert_eq!(hits.len(), 3);
    assert_eq!(hits[0].len(), 1, "{:?}", hits[0]);
    assert_eq!(hits[0][0].confidence, 1.0);
    assert_eq!(hits[0][0].verdict, "False");
    assert!(hits[1].is_empty(), "{:?}", hits[1]);
    assert!(hits[2].is_empty(), "{:?}", hits[2]);
}

#[test]
fn text_matches_below_the_minimum_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let mut signal = LibraryClaims::open(&library(dir.path())).unwrap();
    let repeat = post("r", "Drinking bleach cures the flu, they say", &[]);
    signal.min_confidence = 0.0;
    let all = signal.claims(&repeat);
    let best = all.iter().map(|h| h.confidence).fold(f64::NAN, f64::max);
    assert!(best > 0.0, "{all:?}");
    signal.min_confidence = best + 1e-9;
    assert!(signal.claims(&repeat).is_empty());
    signal.min_confidence = best;
    assert!(!signal.claims(&repeat).is_empty());
}
