//! schema.org `ClaimReview`: JSON-LD in HTML pages, or JSON files (one
//! object, arrays, `@graph`, `DataFeed` feeds whose `dataFeedElement` items
//! hold the reviews, JSON lines).
//!
//! Read: `claimReviewed` (required), `reviewRating` (`alternateName`,
//! `ratingValue`, `bestRating`, `worstRating`), `author`, `datePublished`,
//! `inLanguage`, `url`, `name`/`headline`, `reviewBody`/`description`,
//! `itemReviewed` (`author`, `datePublished`, `appearance`, `firstAppearance`).

use super::html::json_ld_blocks;
use super::json::{self, documents, file_documents, number, raw, text, url, urls};
use super::normalize::{claim_id, date, lang_code, normalize_text};
use super::{Parsed, Records, Rejected};
use crate::model::{Claim, Review};
use serde_json::Value;

pub(crate) fn parse(bytes: &[u8]) -> Result<Records, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = String::from_utf8_lossy(bytes);
    let mut out = Records::new();
    let mut record = 0u64;
    let is_html = text.trim_start().starts_with('<');
    if is_html {
        for block in json_ld_blocks(&text) {
            for doc in documents(block.text) {
                match doc {
                    Ok(d) => collect(&d.value, Some(block.line), &mut record, &mut out),
                    Err(mut r) => {
                        r.reason = format!(
                            "bad JSON-LD: {} (counted from the <script> tag)",
                            r.reason.trim_start_matches("bad JSON: ")
                        );
                        r.line = Some(block.line);
                        out.push(Err(r));
                    }
                }
            }
        }
    } else {
        for doc in file_documents(&text)? {
            match doc {
                Ok(d) => collect(&d.value, Some(d.line), &mut record, &mut out),
                Err(r) => out.push(Err(r)),
            }
        }
    }
    if out.is_empty() {
        return Err(if is_html {
            "no ClaimReview found: the page has no <script type=\"application/ld+json\"> with one"
                .into()
        } else {
            "no ClaimReview found: is this schema.org ClaimReview JSON-LD?".into()
        });
    }
    Ok(out)
}

/// Finds every ClaimReview in a document (depth first, in order).
fn collect(v: &Value, line: Option<u64>, record: &mut u64, out: &mut Records) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| collect(x, line, record, out)),
        Value::Object(o) => {
            if has_type(v, "ClaimReview") {
                *record += 1;
                out.push(
                    review_to_claim(v)
                        .map(|claim| Parsed {
                            claim,
                            line,
                            record: Some(*record),
                        })
                        .map_err(|reason| Rejected {
                            line,
                            record: Some(*record),
                            reason,
                            raw: raw(v),
                        }),
                );
                return;
            }
            for (k, x) in o {
                if k != "@context" {
                    collect(x, line, record, out);
                }
            }
        }
        _ => {}
    }
}

/// Whether `@type` is (or includes) `name`, with or without a schema prefix.
fn has_type(v: &Value, name: &str) -> bool {
    let is = |t: &Value| {
        t.as_str()
            .is_some_and(|s| s == name || s.rsplit(['/', ':', '#']).next() == Some(name))
    };
    match v.get("@type") {
        Some(Value::Array(a)) => a.iter().any(is),
        Some(t) => is(t),
        None => false,
    }
}

fn review_to_claim(v: &Value) -> Result<Claim, String> {
    let claim_text = v
        .get("claimReviewed")
        .and_then(text)
        .ok_or("missing claimReviewed: a ClaimReview needs the text of the claim it reviews")?;
    let rating = v.get("reviewRating");
    let review_url = v.get("url").and_then(url);
    let lang = v
        .get("inLanguage")
        .and_then(text)
        .and_then(|l| lang_code(&l));
    let review = Review {
        publisher: v
            .get("author")
            .and_then(text)
            .or_else(|| v.get("publisher").and_then(text)),
        publisher_site: v
            .get("author")
            .and_then(|a| a.get("url"))
            .and_then(url)
            .and_then(|u| host(&u)),
        url: review_url.clone(),
        title: v
            .get("name")
            .and_then(text)
            .or_else(|| v.get("headline").and_then(text)),
        date: v.get("datePublished").and_then(text).and_then(|d| date(&d)),
        rating: rating.and_then(|r| {
            r.get("alternateName")
                .and_then(text)
                .or_else(|| r.get("name").and_then(text))
        }),
        rating_value: rating.and_then(|r| r.get("ratingValue")).and_then(number),
        best_rating: rating.and_then(|r| r.get("bestRating")).and_then(number),
        worst_rating: rating.and_then(|r| r.get("worstRating")).and_then(number),
        lang: lang.clone(),
        text: v
            .get("reviewBody")
            .and_then(text)
            .or_else(|| v.get("description").and_then(text)),
    };
    let item = v.get("itemReviewed");
    let mut appearances = Vec::new();
    if let Some(it) = item {
        for key in ["firstAppearance", "appearance"] {
            for u in it.get(key).map(urls).unwrap_or_default() {
                if !appearances.contains(&u) {
                    appearances.push(u);
                }
            }
        }
    }
    Ok(Claim {
        id: claim_id(
            "fc",
            &[
                &normalize_text(&claim_text),
                review_url.as_deref().unwrap_or(""),
            ],
        ),
        text: claim_text,
        title: review.title.clone(),
        lang,
        claimant: item.and_then(|i| i.get("author")).and_then(text),
        claim_date: item
            .and_then(|i| i.get("datePublished"))
            .and_then(text)
            .and_then(|d| date(&d)),
        keywords: v.get("keywords").map(keywords).unwrap_or_default(),
        reviews: vec![review],
        appearances,
        ..Claim::default()
    })
}

fn keywords(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => s
            .split(',')
            .filter_map(super::normalize::nonempty)
            .collect(),
        Value::Array(a) => a.iter().filter_map(json::text).collect(),
        _ => Vec::new(),
    }
}

/// `https://www.example.org/x` → `example.org`.
pub(crate) fn host(u: &str) -> Option<String> {
    let (_, d) = pharos_core::normalize_url(u)?;
    (!d.is_empty()).then_some(d)
}
