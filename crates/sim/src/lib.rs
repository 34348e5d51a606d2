//! Pharos scenario generator: a synthetic information environment with
//! planted influence campaigns and the ground truth to score detectors
//! against.
//!
//! - [`config`]: [`SimConfig`] and [`CampaignSpec`], what decides a scenario.
//! - `engine`: [`simulate`], the loop that merges organic chatter and
//!   campaign events by time and writes canonical JSONL.
//! - `clock`: when organic posts happen (daily and weekly cycles, news spikes).
//! - `actors`: accounts derived on demand from the seed (Zipf activity).
//! - `campaigns`: the five planted campaign kinds, planned up front.
//! - `lexicon`, `content`, `text`: word lists, templates and claims in
//!   en, ru, uk, de, fr and pl, and how posts are written from them.
//! - `boilerplate`: channel signatures, page sign-offs, `via @x`, and one
//!   network of channels sharing a footer.
//! - [`truth`]: the ground-truth file; [`factcheck`]: the `ClaimReview` library.
//!
//! Same config, same bytes: all randomness comes from ChaCha8 streams and
//! hashes of the seed, and nothing is iterated in hash order.
//!
//! ```no_run
//! let cfg = pharos_sim::SimConfig::new(1_000_000, 7);
//! let truth = pharos_sim::write_scenario(&cfg, "scenario.jsonl".as_ref(), &mut |_| {}).unwrap();
//! println!("{} campaigns", truth.campaigns.len());
//! ```

mod actors;
mod boilerplate;
mod campaigns;
mod clock;
pub mod config;
mod content;
mod engine;
pub mod factcheck;
mod lexicon;
pub mod recurrence;
mod rng;
mod text;
pub mod truth;

pub use actors::Platform;
pub use config::{CampaignKind, CampaignSpec, SimConfig};
pub use engine::simulate;
pub use factcheck::claim_review_feed;
pub use truth::{CampaignTruth, FactCheckTruth, Summary, TemplateNetworkTruth, Truth};

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Why a scenario could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid scenario: {0}")]
    Config(String),
    #[error("cannot write scenario: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot serialise: {0}")]
    Json(#[from] serde_json::Error),
}

/// `x.jsonl` → `x.truth.json`.
pub fn truth_path(out: &Path) -> PathBuf {
    out.with_extension("truth.json")
}

/// `x.jsonl` → `x.factchecks.json`.
pub fn factchecks_path(out: &Path) -> PathBuf {
    out.with_extension("factchecks.json")
}

/// Writes the posts to `out_path`, the ground truth to [`truth_path`] and
/// the fact-check library (a schema.org `ClaimReview` `DataFeed`) to
/// [`factchecks_path`].
pub fn write_scenario(
    cfg: &SimConfig,
    out_path: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<Truth, SimError> {
    let file = File::create(out_path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", out_path.display())))?;
    let mut file = file;
    let truth = simulate(cfg, &mut file, progress)?;
    file.sync_all().ok();
    write_json(&truth_path(out_path), &truth)?;
    write_json(
        &factchecks_path(out_path),
        &claim_review_feed(&truth.factchecks),
    )?;
    Ok(truth)
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), SimError> {
    let file = File::create(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let mut w = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut w, value)?;
    w.write_all(b"\n")?;
    w.flush()?;
    Ok(())
}
