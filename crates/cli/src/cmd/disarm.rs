//! `pharos disarm`: the DISARM framework in the store (import, list, show).

use super::{Global, StoreArg};
use anyhow::{Result, bail};
use pharos_assess::disarm::{self, Catalogue, OBSERVABLE, Signal};
use pharos_store::AnyStore;
use std::path::PathBuf;
use std::process::ExitCode;

/// The DISARM framework: techniques of influence operations, keyed on their
/// T-numbers (T0049.002), grouped in tactics (TA17).
///
/// Import the framework's STIX bundle once per store; incidents, reports
/// and STIX exports then name techniques with their DISARM names, tactics
/// and descriptions. The techniques Pharos can itself observe (and the
/// signal that shows each) are built in: `pharos disarm list --observable`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Techniques are keyed on their T-number (T0049.002), never on the STIX id.\n\
The techniques Pharos can observe (and the signal that shows each) are built in: pharos disarm list --observable\n\n\
Examples:\n  \
pharos disarm import ../shared/data/disarm/DISARM.json --store cases/x.db\n  \
pharos disarm list --tactic TA17 --store cases/x.db\n  \
pharos disarm list --observable\n  \
pharos disarm show T0049.002 --store cases/x.db\n\n\
More: docs/sharing.md"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    // Help: the doc comment of the arguments struct.
    Import(ImportArgs),
    /// List techniques (of one tactic, or those Pharos observes).
    List(ListArgs),
    /// Show one technique: name, tactic, description, and the Pharos signals that show it.
    Show(ShowArgs),
}

/// Load the DISARM framework from its STIX 2.1 bundle into the store.
///
/// The bundle is the one the DISARM Foundation publishes (e.g. DISARM.json,
/// v1.6: 391 techniques, 16 tactics). Techniques are keyed on their T-number, never
/// on the STIX id (which changes between releases): re-importing, or
/// importing a newer release, replaces each technique with the same
/// T-number and keeps the others. Prints what was added, updated and kept.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The DISARM STIX bundle.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub store: StoreArg,
    /// Print the counts as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Only techniques of this tactic (TA-number, e.g. TA17).
    #[arg(long, value_name = "TA")]
    pub tactic: Option<String>,
    /// Only the techniques Pharos can observe, with the signal that shows
    /// each (built in; needs no import).
    #[arg(long)]
    pub observable: bool,
}

#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// The technique's T-number (T0049, T0049.002).
    #[arg(value_name = "T_ID")]
    pub t_id: String,
    #[command(flatten)]
    pub store: StoreArg,
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    match args.command {
        Command::Import(a) => import(a, global),
        Command::List(a) => list(a),
        Command::Show(a) => show(a),
    }
}

fn import(a: ImportArgs, global: &Global) -> Result<ExitCode> {
    let cat = Catalogue::load(&a.file)?;
    let mut store = AnyStore::open(&a.store.store)?;
    let counts = disarm::save_to_store(&mut store, &cat, &a.file.display().to_string())?;
    if a.json {
        let v = serde_json::json!({
            "file": a.file.display().to_string(),
            "techniques": cat.techniques().len(),
            "tactics": cat.tactics().len(),
            "added": counts.added,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "stored": counts.stored,
            "skipped": cat.skipped(),
        });
        println!("{v}");
    } else {
        println!(
            "{}: {} techniques, {} tactics ({} added, {} updated, {} unchanged; {} techniques in {})",
            a.file.display(),
            cat.techniques().len(),
            cat.tactics().len(),
            counts.added,
            counts.updated,
            counts.unchanged,
            counts.stored,
            a.store.store
        );
    }
    if !global.quiet {
        for s in cat.skipped().iter().take(20) {
            eprintln!("  left out: {s}");
        }
        if cat.skipped().len() > 20 {
            eprintln!("  ... and {} more left out", cat.skipped().len() - 20);
        }
        let missing: Vec<&str> = OBSERVABLE
            .iter()
            .filter(|o| cat.get(o.t_id).is_none_or(|t| t.name != o.name))
            .map(|o| o.t_id)
            .collect();
        if !missing.is_empty() {
            eprintln!(
                "note: this release lacks or renames techniques Pharos tags incidents with: {}",
                missing.join(", ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn stored_catalogue(store: &StoreArg) -> Result<Option<Catalogue>> {
    if let Some(p) = store.store.sqlite_path()
        && !p.exists()
    {
        return Ok(None);
    }
    let s = AnyStore::open_existing(&store.store)?;
    Ok(disarm::load_from_store(&s)?)
}

fn signals_for(t_id: &str) -> Vec<&'static disarm::Observable> {
    OBSERVABLE.iter().filter(|o| o.t_id == t_id).collect()
}

fn list(a: ListArgs) -> Result<ExitCode> {
    let cat = stored_catalogue(&a.store)?;
    if a.observable {
        for &s in Signal::ALL {
            for o in disarm::observable(s) {
                if a.tactic.as_deref().is_some_and(|t| t != o.tactic_id) {
                    continue;
                }
                println!("{:<10} {:<5} {:<24} {}", o.t_id, o.tactic_id, s, o.name);
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let Some(cat) = cat else {
        bail!(
            "no DISARM framework in {}; load it with `pharos disarm import DISARM.json --store {}` (or use --observable for the built-in table)",
            a.store.store,
            a.store.store
        );
    };
    if let Some(ta) = &a.tactic
        && cat.tactic(ta).is_none()
    {
        let known: Vec<&str> = cat.tactics().map(|t| t.ta_id.as_str()).collect();
        bail!("unknown tactic {ta}; known: {}", known.join(", "));
    }
    for t in cat.techniques() {
        if a.tactic
            .as_ref()
            .is_some_and(|ta| !t.tactic_ids.contains(ta))
        {
            continue;
        }
        let seen = if signals_for(&t.t_id).is_empty() {
            " "
        } else {
            "*"
        };
        println!(
            "{:<10} {:<5}{seen} {}",
            t.t_id,
            t.tactic_ids.first().map_or("", String::as_str),
            t.name
        );
    }
    eprintln!("(* = Pharos can observe it: `pharos disarm show T_ID`)");
    Ok(ExitCode::SUCCESS)
}

fn show(a: ShowArgs) -> Result<ExitCode> {
    if !disarm::is_t_number(&a.t_id) {
        bail!(
            "{:?} is not a DISARM T-number (like T0049 or T0049.002)",
            a.t_id
        );
    }
    let cat = stored_catalogue(&a.store)?;
    let sigs = signals_for(&a.t_id);
    match cat.as_ref().and_then(|c| c.get(&a.t_id)) {
        Some(t) => {
            println!("{} {}", t.t_id, t.name);
            for (id, name) in t.tactic_ids.iter().zip(&t.tactic_names) {
                println!("tactic: {id} {name}");
            }
            if let Some(p) = t.parent_id() {
                let pname = cat
                    .as_ref()
                    .and_then(|c| c.get(p))
                    .map_or("", |p| p.name.as_str());
                println!("sub-technique of: {p} {pname}");
            }
            println!("{}", t.url());
            if let Some(d) = &t.description {
                println!("\n{}", d.replace("<br />", "\n").replace("<br>", "\n"));
            }
        }
        None => {
            let Some(o) = sigs.first() else {
                match cat {
                    Some(_) => bail!(
                        "{} is not in the DISARM framework stored in {}",
                        a.t_id,
                        a.store.store
                    ),
                    None => bail!(
                        "no DISARM framework in {}; load it with `pharos disarm import DISARM.json`",
                        a.store.store
                    ),
                }
            };
            println!("{} {}", o.t_id, o.name);
            if let Some((name, _)) = disarm::tactic_info(o.tactic_id) {
                println!("tactic: {} {name}", o.tactic_id);
            }
            println!("{}", disarm::technique_url(o.t_id));
            println!("(import the DISARM bundle for its description)");
        }
    }
    if !sigs.is_empty() {
        println!("\nPharos observes it through:");
        for o in sigs {
            println!("- {}: {}", o.signal, o.shown_by);
        }
    }
    Ok(ExitCode::SUCCESS)
}
