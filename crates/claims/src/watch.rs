//! The fact-check library as the pipeline's claim watch: which known
//! fact-checked claims a post repeats ([`LibraryClaims`], a
//! `pharos_pipeline::ClaimSignal`).

use crate::library::Library;
use crate::retrieval::Matcher;
use pharos_core::Post;
use pharos_pipeline::{ClaimHit, ClaimSignal};
use std::collections::HashMap;
use std::path::Path;

/// Default minimum confidence of [`LibraryClaims`]: chosen on simulated
/// scenarios (seeds 101–103, `cargo bench -p pharos-assess --bench
/// stream_eval -- --claims library --claim-min ...`): at 0.5 organic posts
/// on a false claim's topic opened its alert days before the campaign; at
/// 0.6 none did, and no alert was raised on a claim nobody repeated. See
/// docs/early-warning.md.
pub const LIBRARY_MIN_CONFIDENCE: f64 = 0.6;

/// An appearance URL listed by more claims than this names none of them
/// (a site's front page, a video platform's home).
const APPEARANCE_MAX_CLAIMS: usize = 3;

/// The fact-check library's matcher ([`Matcher`]: BM25 and, with a model, a sentence
/// model) as a [`ClaimSignal`]: the `k` best claims of each post at or
/// above `min_confidence`, with the claim's first review rating as verdict
/// (`"unrated"` when it has none).
///
/// A post that links a URL a review lists as an *appearance* of the claim
/// (ClaimReview `itemReviewed.appearance` / `firstAppearance`, EUvsDisinfo
/// sources) is a match of confidence 1 whatever its text says: it shares
/// the very article or video the fact-checkers rated. URLs without a path
/// and URLs listed by more than three claims are not used this way.
pub struct LibraryClaims {
    matcher: Matcher,
    verdicts: HashMap<String, String>,
    /// Normalised appearance URL → the claims that list it.
    appearances: HashMap<String, Vec<String>>,
    /// Claims kept per post (default 3).
    pub k: usize,
    /// Text matches below this confidence are dropped before the claim
    /// watch (default [`LIBRARY_MIN_CONFIDENCE`]).
    pub min_confidence: f64,
}

impl LibraryClaims {
    /// Opens the library in `dir` and its matcher.
    pub fn open(dir: &Path) -> Result<LibraryClaims, Box<dyn std::error::Error + Send + Sync>> {
        let library = Library::open(dir)?;
        let matcher = Matcher::open(&library)?;
        let verdicts = library
            .claims()
            .iter()
            .map(|c| {
                let rating = c
                    .reviews
                    .iter()
                    .find_map(|r| r.rating.clone())
                    .unwrap_or_else(|| "unrated".to_string());
                (c.id.clone(), rating)
            })
            .collect();
        let mut appearances: HashMap<String, Vec<String>> = HashMap::new();
        for c in library.claims() {
            for u in &c.appearances {
                let link = pharos_core::Link::new(u);
                if link.domain.is_empty() || !has_path(&link.url) {
                    continue;
                }
                let ids = appearances.entry(link.url).or_default();
                if !ids.contains(&c.id) {
                    ids.push(c.id.clone());
                }
            }
        }
        appearances.retain(|_, ids| ids.len() <= APPEARANCE_MAX_CLAIMS);
        Ok(LibraryClaims {
            matcher,
            verdicts,
            appearances,
            k: 3,
            min_confidence: LIBRARY_MIN_CONFIDENCE,
        })
    }

    fn hit(&self, claim_id: String, confidence: f64) -> ClaimHit {
        ClaimHit {
            verdict: self
                .verdicts
                .get(&claim_id)
                .cloned()
                .unwrap_or_else(|| "unrated".to_string()),
            claim_id,
            confidence,
        }
    }
}

/// Whether a normalised URL has more than a bare host (`https://x.org/`).
fn has_path(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split_once('/')
        .is_some_and(|(_, path)| !path.trim_matches('/').is_empty())
}

impl ClaimSignal for LibraryClaims {
    fn claims(&mut self, post: &Post) -> Vec<ClaimHit> {
        self.claims_batch(std::slice::from_ref(post))
            .pop()
            .unwrap_or_default()
    }

    fn claims_batch(&mut self, posts: &[Post]) -> Vec<Vec<ClaimHit>> {
        let queries: Vec<(&str, Option<&str>)> = posts
            .iter()
            .map(|p| (p.text.as_str(), p.lang.as_deref()))
            .collect();
        let found = self.matcher.match_batch(&queries, self.k);
        posts
            .iter()
            .zip(found)
            .map(|(post, matches)| {
                let mut hits: Vec<ClaimHit> = matches
                    .into_iter()
                    .filter(|m| m.confidence >= self.min_confidence)
                    .map(|m| self.hit(m.claim_id, m.confidence))
                    .collect();
                for link in &post.links {
                    for id in self.appearances.get(&link.url).into_iter().flatten() {
                        match hits.iter_mut().find(|h| &h.claim_id == id) {
                            Some(h) => h.confidence = 1.0,
                            None => hits.push(self.hit(id.clone(), 1.0)),
                        }
                    }
                }
                hits
            })
            .collect()
    }
}
