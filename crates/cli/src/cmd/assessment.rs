//! The whole assessment written into a directory: what `pharos assess --out
//! DIR` and `pharos demo` run.
//!
//! Store → (claim matches from the fact-check library, when there is one) →
//! signals, incidents and alerts (`pharos_assess`) → incidents saved in the
//! store → `incidents.json`, `alerts.jsonl`, `briefing.html`, `briefing.md`,
//! `report.html`, `recovery.html` (`pharos_assess::report`) and `stix.json`
//! (`pharos_share::stix`, TLP:AMBER, DISARM names from the catalogue when
//! `pharos disarm import` has stored one).

use anyhow::{Context, Result};
use pharos_alerts::Rules;
use pharos_assess::assess::CorrectionDraft;
use pharos_assess::signals::ClaimInfo;
use pharos_assess::{AssessOptions, Assessment};
use pharos_claims::library::Library;
use pharos_claims::retrieval::{DEFAULT_THRESHOLD, Matcher};
use pharos_core::EventTime;
use pharos_store::{AnyStore, Location, PostFilter};
use std::path::{Path, PathBuf};

/// What to assess and where to write it.
pub struct Plan<'a> {
    pub store: &'a Location,
    pub since: Option<EventTime>,
    pub until: Option<EventTime>,
    pub rules: Rules,
    /// The fact-check library; `None`: the store's default library when it exists.
    pub library: Option<PathBuf>,
    pub out: &'a Path,
    /// The alert pipeline with the delivery sinks asked for (`pharos assess
    /// --out DIR --alerts-out/--stdout/--webhook`): the assessment runs
    /// through it, so what is delivered is what `alerts.jsonl` holds.
    /// `None`: the default pipeline with `rules`.
    pub pipeline: Option<pharos_assess::stream::AlertPipeline>,
    /// A sentence-embedding model for claim matching (dense candidates and
    /// re-ranking, across languages), with the stream's encoder gate on;
    /// `None`: BM25 and the lexical model.
    pub model: Option<PathBuf>,
    /// `pharos prebunk`: only the prebunk briefs (index, one per storyline,
    /// prebunk.json) are written into `out`, with these options, and the
    /// stored incidents are left as they are. `None`: the whole assessment
    /// with default prebunk options (briefs in `out/prebunk/`).
    pub prebunk: Option<pharos_assess::prebunk::PrebunkOptions>,
}

/// What was done.
pub struct Done {
    pub assessment: Assessment,
    pub written: Vec<PathBuf>,
    /// Posts newly annotated with claim matches (when a library was used).
    pub matched_posts: Option<u64>,
}

/// Claim matches kept per post.
const MATCHES_PER_POST: usize = 3;

pub fn run(plan: Plan<'_>) -> Result<Done> {
    let mut store = AnyStore::open_existing(plan.store)?;
    let library_dir = match &plan.library {
        Some(d) => Some(d.clone()),
        None => {
            let d = plan.store.beside("library");
            d.join("claims.jsonl").exists().then_some(d)
        }
    };
    let library = library_dir
        .as_deref()
        .map(|d| Library::open(d).with_context(|| format!("fact-check library {}", d.display())))
        .transpose()?;

    let only_prebunk = plan.prebunk.is_some();
    let mut opts = AssessOptions {
        since: plan.since,
        until: plan.until,
        rules: plan.rules,
        prebunk: plan.prebunk.unwrap_or_default(),
        ..Default::default()
    };
    let mut matched_posts = None;
    if let Some(lib) = &library {
        let mut matcher = Matcher::open(lib)
            .with_context(|| format!("claim index of {}", lib.dir().display()))?;
        if let Some(model) = &plan.model {
            // Most posts of a scenario repeat no claim: the gate keeps them
            // from the encoder (docs/claim-retrieval.md, "The encoder gate").
            match matcher.set_model(model, lib.claims(), &lib.generation().to_string()) {
                Ok(()) => matcher.gate = pharos_claims::retrieval::STREAM_GATE,
                Err(e) => eprintln!("warning: {e}; matching claims with BM25 only"),
            }
        }
        let filter = PostFilter {
            since: plan.since,
            until: plan.until,
            platform: None,
        };
        let annotated = pharos_claims::retrieval::store::annotate(
            &mut store,
            &matcher,
            &filter,
            DEFAULT_THRESHOLD,
            MATCHES_PER_POST,
            &mut |_| {},
        )?;
        matched_posts = Some(annotated.matched_posts);
        opts.claims = lib.claims().iter().map(ClaimInfo::of).collect();
    }

    let pipeline = match plan.pipeline {
        Some(p) => p,
        None => pharos_assess::stream::AlertPipeline::new(opts.rules.clone(), None, true)?,
    };
    let mut assessment = pharos_assess::assess_store_with(&store, &opts, pipeline)?;
    if only_prebunk {
        let mut written = pharos_assess::report::write_prebunk(plan.out, &assessment.prebunk)?;
        let path = plan.out.join("prebunk.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&assessment.prebunk)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
        return Ok(Done {
            assessment,
            written,
            matched_posts,
        });
    }
    if let Some(lib) = &library {
        add_drafts(&mut assessment, lib);
    }
    pharos_assess::save_incidents(&mut store, &assessment.incidents)?;
    let mut written = pharos_assess::report::write_outputs(plan.out, &assessment)?;
    let catalogue = pharos_assess::disarm::load_from_store(&store)?;
    let stix_opts = pharos_share::stix::ExportOptions {
        catalogue: catalogue.as_ref(),
        ..Default::default()
    };
    let stix = plan.out.join("stix.json");
    pharos_share::stix::write_bundle_file(&stix, &assessment.incidents, &stix_opts)
        .with_context(|| format!("cannot write {}", stix.display()))?;
    written.push(stix);
    Ok(Done {
        assessment,
        written,
        matched_posts,
    })
}

/// The summary `pharos assess --out` and `pharos demo` print.
pub fn summary(done: &Done) -> String {
    let mut s = pharos_assess::report::summary_text(&done.assessment, &done.written);
    if let Some(n) = done.matched_posts {
        s.push_str(&format!(
            "claim matches: {n} posts matched known fact-checked claims (table claim_matches)\n"
        ));
    }
    s
}

/// Correction drafts for each incident that pushes a known claim, in the
/// incident's main language where a fact-check in it exists (the response
/// pack's drafting; its note says when it fell back to English).
fn add_drafts(a: &mut Assessment, lib: &Library) {
    for inc in &a.incidents {
        let audience = inc
            .languages
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(l, _)| l.as_str());
        for m in &inc.claim_matches {
            let Some(claim) = lib.get(&m.claim_id) else {
                continue;
            };
            let d = pharos_claims::respond::draft::draft(claim, audience);
            let text = match &d.note {
                Some(note) => format!("{}\n\n({note})", d.text),
                None => d.text,
            };
            a.drafts
                .entry(inc.id.clone())
                .or_default()
                .push(CorrectionDraft {
                    lang: d.lang,
                    text,
                    sources: d.sources,
                });
        }
    }
}
