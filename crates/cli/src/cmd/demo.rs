//! `pharos demo`: simulate a scenario, ingest it, summarise it.

use super::Global;
use crate::pipeline::ingest_files;
use anyhow::Result;
use pharos_ingest::{Format, Options};
use pharos_sim::SimConfig;
use pharos_store::{SqliteStore, Store};
use std::path::PathBuf;
use std::process::ExitCode;

/// Try Pharos end to end on a simulated scenario.
///
/// Writes a scenario (DIR/scenario.jsonl with its truth and fact-check
/// files), ingests it into DIR/pharos.db and prints the store's summary.
/// Running it again starts from a fresh store.
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Working directory for the demo.
    #[arg(long, default_value = "pharos-demo")]
    pub dir: PathBuf,
    /// Number of posts to simulate.
    #[arg(long, default_value_t = 50_000)]
    pub posts: u64,
    /// Random seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    std::fs::create_dir_all(&args.dir)?;
    let scenario = args.dir.join("scenario.jsonl");
    let store_path = args.dir.join("pharos.db");
    for stale in [
        store_path.clone(),
        store_path.with_extension("db-wal"),
        store_path.with_extension("db-shm"),
        pharos_store::sqlite::quarantine_path_for(&store_path),
    ] {
        if stale.exists() {
            std::fs::remove_file(&stale)?;
        }
    }
    let cfg = SimConfig::new(args.posts, args.seed);
    let truth = super::simulate::write(&cfg, &scenario, global.quiet)?;
    if !global.quiet {
        super::simulate::describe(&truth, &scenario);
    }
    let mut store = SqliteStore::open(&store_path)?;
    let mut opts = Options::new();
    opts.format = Format::Jsonl;
    let pb = crate::progress::counter(global.quiet, "posts ingested");
    let summary = ingest_files(
        &mut store,
        std::slice::from_ref(&scenario),
        &opts,
        false,
        &pb,
    )?;
    pb.finish_and_clear();
    super::ingest::report(&summary, false, global.quiet)?;
    let stats = store.stats(10)?;
    println!();
    print!(
        "{}",
        super::stats::render(&stats, &store_path.display().to_string())
    );
    println!(
        "\nnext: pharos stats --store {0}; pharos export --store {0} | head",
        store_path.display()
    );
    Ok(ExitCode::SUCCESS)
}
