//! A simulated scenario as a labelled stream for claim matching (shared by
//! `tests/stream_claims.rs` and `examples/sim_claims.rs`): the posts, each
//! with the claims it repeats by the generator's truth (`claim_posts`),
//! and the scenario's fact-checks imported as `pharos demo` imports them.

use pharos_claims::Claim;
use pharos_claims::library::{self, ImportFormat, Library};
use pharos_claims::retrieval::eval::LabelledPost;
use std::collections::HashMap;
use std::path::Path;

pub struct SimStream {
    /// The scenario's fact-check library, as imported.
    pub claims: Vec<Claim>,
    /// Every post, in the scenario's order.
    pub posts: Vec<LabelledPost>,
}

/// Simulates `posts` posts with `seed` as `pharos demo` does (with the
/// image-reuse campaign) and imports its fact-checks into a library under
/// `dir` (replaced).
pub fn simulate(posts: u64, seed: u64, dir: &Path) -> Result<SimStream, String> {
    let cfg = pharos_sim::SimConfig::new(posts, seed).with_images();
    let mut jsonl = Vec::new();
    let truth = pharos_sim::simulate(&cfg, &mut jsonl, &mut |_| {}).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let feed = dir.join("factchecks.json");
    let body = serde_json::to_vec(&pharos_sim::claim_review_feed(&truth.factchecks))
        .map_err(|e| e.to_string())?;
    std::fs::write(&feed, body).map_err(|e| e.to_string())?;
    let lib_dir = dir.join("library");
    if lib_dir.exists() {
        std::fs::remove_dir_all(&lib_dir).map_err(|e| e.to_string())?;
    }
    library::import(
        &lib_dir,
        ImportFormat::ClaimReview,
        std::slice::from_ref(&feed),
        &Default::default(),
    )
    .map_err(|e| e.to_string())?;
    let claims = Library::open(&lib_dir)
        .map_err(|e| e.to_string())?
        .claims()
        .to_vec();
    let by_review: HashMap<&str, &str> = claims
        .iter()
        .flat_map(|c| {
            c.reviews
                .iter()
                .filter_map(|r| r.url.as_deref())
                .map(|u| (u, c.id.as_str()))
        })
        .collect();
    let mut labels: HashMap<&str, Vec<String>> = HashMap::new();
    for p in &truth.claim_posts {
        let ids = labels.entry(p.post.as_str()).or_default();
        for url in &p.factchecks {
            let id = by_review
                .get(url.as_str())
                .ok_or_else(|| format!("review {url} is not in the imported library"))?;
            ids.push(id.to_string());
        }
    }
    let mut out = Vec::with_capacity(posts as usize);
    for line in jsonl.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let post: pharos_core::Post = serde_json::from_slice(line).map_err(|e| e.to_string())?;
        out.push(LabelledPost {
            claims: labels.get(post.id.as_str()).cloned().unwrap_or_default(),
            id: post.id,
            text: post.text,
            lang: post.lang,
        });
    }
    Ok(SimStream { claims, posts: out })
}
