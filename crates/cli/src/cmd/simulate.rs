//! `pharos simulate`: a scenario with planted campaigns and its ground truth.

use super::Global;
use anyhow::{Context, Result};
use pharos_sim::{SimConfig, Truth, factchecks_path, truth_path};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Write a realistic information environment with planted campaigns.
///
/// Writes FILE.jsonl (canonical posts in event-time order), FILE.truth.json
/// (the ground truth: each campaign's kind, start, accounts and posts) and
/// FILE.factchecks.json (a schema.org ClaimReview library that includes the
/// planted false claim). Organic chatter has heavy-tailed actor activity,
/// daily and weekly cycles, replies, reshares, links and hashtags in en, ru,
/// uk, de, fr and pl; the campaigns are a reshare ring, copy-paste text with
/// small edits, a link-sharing network across two platforms, hashtag
/// flooding, and a false-narrative burst. Same seed, same bytes; memory does
/// not grow with --posts.
///
/// With --media-dir DIR a sixth campaign is planted: a group of accounts
/// posting copies of the same generated pictures (cropped, resized,
/// re-encoded) within minutes, the first declared AI-generated in its XMP
/// metadata. Its pictures are written under DIR at the paths the posts
/// reference (media/...); hash them into a store with
/// `pharos media scan --store S --root DIR`.
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Number of posts to write.
    #[arg(long, default_value_t = 100_000)]
    pub posts: u64,
    /// Random seed; the same seed gives the same scenario.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file (canonical JSONL); the truth and fact-check files go beside it.
    #[arg(long, value_name = "FILE.jsonl")]
    pub out: PathBuf,
    /// Length of the scenario in days (default 7).
    #[arg(long)]
    pub days: Option<f64>,
    /// First instant (RFC 3339; default 2025-03-03T00:00:00Z).
    #[arg(long)]
    pub start: Option<String>,
    /// Print the truth (as in FILE.truth.json) instead of a description.
    #[arg(long)]
    pub json: bool,
    /// Also plant the image-reuse campaign and write its pictures here.
    #[arg(long, value_name = "DIR")]
    pub media_dir: Option<PathBuf>,
}

pub fn config(args: &Args) -> Result<SimConfig> {
    let mut cfg = SimConfig::new(args.posts, args.seed);
    if args.media_dir.is_some() {
        cfg = cfg.with_images();
    }
    cfg.days = args.days;
    if let Some(s) = &args.start {
        cfg.start = pharos_core::EventTime::parse(s).context("--start")?;
    }
    Ok(cfg)
}

/// Writes the scenario with a progress bar; returns its truth.
pub fn write(cfg: &SimConfig, out: &Path, quiet: bool) -> Result<Truth> {
    if let Some(dir) = out.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let pb = crate::progress::counter(quiet, "posts simulated");
    let mut last = 0;
    let truth = pharos_sim::write_scenario(cfg, out, &mut |n| {
        pb.inc(n - last);
        last = n;
    })
    .with_context(|| format!("simulating into {}", out.display()))?;
    pb.finish_and_clear();
    Ok(truth)
}

/// Writes the pictures the scenario's posts reference under `dir`.
pub fn write_images(cfg: &SimConfig, dir: &Path) -> Result<pharos_sim::ImagesWritten> {
    pharos_sim::write_images(cfg, dir)
        .with_context(|| format!("writing pictures into {}", dir.display()))
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    let cfg = config(&args)?;
    let truth = write(&cfg, &args.out, global.quiet || args.json)?;
    let images = match &args.media_dir {
        Some(dir) => Some(write_images(&cfg, dir)?),
        None => None,
    };
    if args.json {
        println!("{}", serde_json::to_string(&truth)?);
    } else if !global.quiet {
        describe(&truth, &args.out);
        if let (Some(w), Some(dir)) = (images, &args.media_dir) {
            println!(
                "  pictures: {} files ({} KB) under {}; hash them with pharos media scan --store S --root {0}",
                w.files,
                w.bytes / 1024,
                dir.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn describe(truth: &Truth, out: &Path) {
    println!("wrote {} posts to {}", truth.posts, out.display());
    println!("  truth: {}", truth_path(out).display());
    println!("  fact-checks: {}", factchecks_path(out).display());
    for c in &truth.campaigns {
        println!(
            "  campaign {} ({}, {}): {} accounts, {} posts from {}",
            c.id,
            c.kind,
            c.language,
            c.accounts.len(),
            c.posts.len(),
            c.start
        );
    }
}
