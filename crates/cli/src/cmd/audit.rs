//! `pharos audit`: checks the server's audit log.

use super::{Global, StoreArg};
use anyhow::Result;
use pharos_store::{AnyStore, Audit};
use std::process::ExitCode;

/// The server's audit log (who read, exported or changed what).
///
/// `pharos audit verify` reads the whole log in order and checks that every
/// row's hash matches its contents and the hash of the row before (each
/// row is chained to the previous one when written). It exits 0 when the
/// chain is whole and prints its head (the last row's number and hash:
/// note it down, so that a log later cut short after it can be told); it
/// exits 1 naming the first row that breaks the chain (changed, deleted,
/// or added behind Pharos's back), and 2 when the store cannot be read.
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the audit log's hash chain; exit 1 at the first broken row.
    Verify {
        #[command(flatten)]
        store: StoreArg,
    },
}

pub fn run(args: Args, _global: &Global) -> Result<ExitCode> {
    match args.command {
        AuditCommand::Verify { store } => {
            let s = AnyStore::open_existing(&store.store)?;
            let c = s.verify_audit()?;
            if let Some((seq, why)) = &c.broken {
                eprintln!(
                    "pharos audit verify: the audit log of {} is broken at row {seq}: row {seq} {why}",
                    store.store
                );
                return Ok(ExitCode::from(1));
            }
            let head = match &c.head {
                Some((seq, h)) => format!("head: row {seq}, hash {h}"),
                None => "no chained rows yet".to_string(),
            };
            println!(
                "pharos audit verify: {} rows, chain whole; {head}{}",
                c.rows,
                if c.unchained > 0 {
                    format!(
                        " ({} rows written before the log was chained are not covered)",
                        c.unchained
                    )
                } else {
                    String::new()
                }
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
