//! `pharos import stix`: partners' STIX 2.1 bundles into the store.

use super::{Global, StoreArg};
use anyhow::Result;
use pharos_share::stix::import::{FileReport, Importer};
use pharos_store::AnyStore;
use std::path::PathBuf;
use std::process::ExitCode;

/// Import partners' data into the store.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
pharos import stix partner-a.json partner-b.json --store cases/x.db\n  \
pharos import stix partner.json --store cases/x.db --json\n\n\
Objects keep their markings (TLP 2.0; TLP 1.0 read with WHITE as CLEAR). Bad objects are rejected one by one \
into the store's quarantine (<store>.quarantine.jsonl; DB.quarantine.jsonl for PostgreSQL); the rest is imported. More: pharos import stix --help, docs/sharing.md")]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    // Help: the doc comment of the arguments struct.
    Stix(StixArgs),
}

/// Import STIX 2.1 bundles (incidents, techniques, indicators, accounts, URLs ...) keeping their markings.
///
/// Each object is kept whole with its markings (TLP 2.0 ids; TLP 1.0 ids are read too, WHITE as
/// CLEAR; other marking-definitions must be in the bundle).
///
/// Each object is checked on its own: one with an unknown type, a malformed
/// id or timestamp, a missing required property or a marking that is
/// neither TLP nor defined in the bundle is rejected (named with its file
/// and id, and written to the store's quarantine, <store>.quarantine.jsonl),
/// and the rest of the bundle is imported. A file that is not JSON or not a
/// bundle is reported and skipped; the other files go on.
///
/// An object already in the store is replaced only by a version with a
/// later `modified` time (STIX versioning), so re-importing changes nothing.
/// Attack-patterns are looked up by their T-number (DISARM or ATT&CK),
/// url and domain-name by value, user-accounts by account, indicators by
/// pattern (see docs/sharing.md).
///
/// Exit status: 0 when every file was read (objects may have been
/// rejected), 1 when a file could not be imported at all, 2 for usage and
/// store errors.
///
/// Example:
///   pharos import stix partner-a.json partner-b.json --store cases/x.db
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct StixArgs {
    /// The bundles.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub store: StoreArg,
    /// Print the per-file reports as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    match args.command {
        Command::Stix(a) => stix(a, global),
    }
}

fn print_file(r: &FileReport, quiet: bool) {
    println!(
        "{}: {} objects: {} added, {} updated, {} unchanged, {} rejected",
        r.file, r.objects, r.added, r.updated, r.unchanged, r.rejected
    );
    if !quiet {
        for why in r.rejections.iter().take(20) {
            eprintln!("  rejected {why}");
        }
        if r.rejections.len() > 20 {
            eprintln!("  ... and {} more rejected", r.rejections.len() - 20);
        }
    }
}

fn stix(a: StixArgs, global: &Global) -> Result<ExitCode> {
    let mut store = AnyStore::open(&a.store.store)?;
    let mut importer = Importer::new(&mut store)?;
    let mut reports = Vec::new();
    let mut failed = Vec::new();
    for f in &a.files {
        match importer.import_file(f) {
            Ok(r) => {
                if !a.json {
                    print_file(&r, global.quiet);
                }
                reports.push(r);
            }
            Err(pharos_share::stix::ImportError::File { file, reason }) => {
                eprintln!("pharos: {file}: {reason}");
                failed.push(serde_json::json!({"file": file, "error": reason}));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let quarantine = importer.quarantine_path().to_path_buf();
    let totals = importer.finish()?;
    if a.json {
        let v = serde_json::json!({
            "files": reports,
            "failed_files": failed,
            "added": totals.added,
            "updated": totals.updated,
            "unchanged": totals.unchanged,
            "rejected": totals.rejected,
            "by_type": totals.by_type,
            "by_tlp": totals.by_tlp,
            "quarantine_file": (totals.rejected > 0).then(|| quarantine.display().to_string()),
        });
        println!("{v}");
    } else if a.files.len() > 1 || totals.rejected > 0 {
        println!(
            "total: {} added, {} updated, {} unchanged, {} rejected{}",
            totals.added,
            totals.updated,
            totals.unchanged,
            totals.rejected,
            if totals.rejected > 0 {
                format!(" (see {})", quarantine.display())
            } else {
                String::new()
            }
        );
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
