//! Pharos scenario generator: a synthetic information environment with
//! planted influence campaigns and the ground truth to score detectors
//! against.
//!
//! - [`config`]: [`SimConfig`] and [`CampaignSpec`], what decides a scenario.
//! - `engine`: [`simulate`], the loop that merges organic chatter and
//!   campaign events by time and writes canonical JSONL.
//! - `clock`: when organic posts happen (daily and weekly cycles, news spikes).
//! - `actors`: accounts derived on demand from the seed (Zipf activity).
//! - `campaigns`: the planted campaign kinds, planned up front (five by
//!   default; the image-reuse campaign with [`SimConfig::with_images`]).
//! - `images`: that campaign's pictures, generated and varied; written only
//!   by [`write_images`].
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
mod images;
mod lexicon;
pub mod recurrence;
mod rng;
mod text;
pub mod truth;

pub use actors::Platform;
pub use config::{CampaignKind, CampaignSpec, SimConfig};
pub use engine::simulate;
pub use factcheck::claim_review_feed;
pub use images::{AI_SOURCE_TYPE, image_path};
pub use truth::{
    CampaignTruth, ClaimPostTruth, FactCheckTruth, Summary, TemplateNetworkTruth, Truth,
};

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
    #[error("cannot encode a picture: {0}")]
    Image(#[from] image::ImageError),
}

/// What [`write_images`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImagesWritten {
    pub files: u64,
    pub bytes: u64,
}

/// Writes the pictures the posts of `cfg`'s scenario reference under `dir`
/// (at the posts' relative paths, so `pharos media scan --root DIR` finds
/// them). Scenarios without the image-reuse campaign reference none. The
/// campaign plan is computed again (it is a function of `cfg`), so this can
/// run before, after or without [`simulate`]; same config, same bytes.
pub fn write_images(cfg: &SimConfig, dir: &Path) -> Result<ImagesWritten, SimError> {
    let plan = campaigns::plan(cfg)?;
    let mut refs: Vec<(u16, images::ImageRef)> = plan
        .events
        .iter()
        .filter_map(|e| e.media.map(|m| (e.campaign, m)))
        .collect();
    refs.sort_by_key(|&(c, m)| (c, m.image, m.variant));
    let mut done = ImagesWritten::default();
    let mut base: Option<((u16, u16), image::RgbImage)> = None;
    for (c, m) in refs {
        let key = (c, m.image);
        if base.as_ref().map(|b| b.0) != Some(key) {
            base = Some((key, images::generate(cfg.seed, c, m.image)));
        }
        let img = &base.as_ref().expect("generated above").1;
        let bytes = images::variant(img, cfg.seed, m)?;
        let id = &plan.campaigns[c as usize].id;
        images::write_file(dir, &images::image_path(id, m.image, m.variant), &bytes)?;
        done.files += 1;
        done.bytes += bytes.len() as u64;
    }
    Ok(done)
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
