//! `pharos export`: stored posts out as canonical JSONL, or incidents out as
//! a STIX 2.1 bundle (`pharos export stix`).

use super::{Global, StoreArg};
use anyhow::{Context, Result, bail};
use pharos_core::EventTime;
use pharos_share::Pseudonymiser;
use pharos_share::pseudonym::KEY_FILE_ENV;
use pharos_share::stix::export::{ExportOptions, OpenCtiTypes, export_bundle, write_bundle_file};
use pharos_share::stix::tlp::Tlp;
use pharos_store::{AnyStore, PostFilter, Store};
use std::io::{BufWriter, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;

/// Write stored posts in event-time order (canonical JSONL; `pharos ingest`
/// reads the output back as the same records), or, with `pharos export
/// stix`, the store's incidents as a STIX 2.1 bundle for partners.
#[derive(clap::Args, Debug)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  \
pharos export --format jsonl --store cases/x.db > x.jsonl\n  \
pharos export stix --store cases/x.db --tlp amber --out x.stix.json\n  \
pharos export stix --store cases/x.db --incident ID --tlp green --pseudonymise --out share.json\n\n\
`pharos export stix --help` describes the STIX bundle (incidents, DISARM techniques, TLP 2.0 markings, pseudonymisation); \
docs/sharing.md has the details."
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub store: StoreArg,
    /// Output format (only `jsonl`, the canonical format, for now).
    #[arg(long, default_value = "jsonl")]
    pub format: String,
    /// Output file (default: standard output).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Only posts at or after this time (RFC 3339, date, or epoch).
    #[arg(long)]
    pub since: Option<String>,
    /// Only posts before this time.
    #[arg(long)]
    pub until: Option<String>,
    /// Only posts of this platform.
    #[arg(long)]
    pub platform: Option<String>,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    // Help: the doc comment of the arguments struct.
    Stix(StixArgs),
    Misp(MispArgs),
}

/// Write the store's incidents (from `pharos assess`) as MISP events.
///
/// One event per incident, tagged with the TLP (MISP's tlp taxonomy) and with
/// MISP's DISARM galaxy (`misp-galaxy:disarm-techniques="<technique name>"`) for
/// each technique; attributes for the URLs and domains pushed and the
/// assessment; objects for the accounts (user-account), the posts of the
/// evidence sample (microblog) and the techniques (attack-pattern, with the
/// T-number). The same incidents give the same event and attribute UUIDs.
///
/// The file is {"response": [{"Event": ...}, ...]}, MISP's JSON export shape:
/// MISP imports it (Events > Import from > MISP JSON) and PyMISP loads each
/// event. docs/sharing.md has the details.
///
/// --feed DIR also writes them as a MISP feed (manifest.json and one
/// <uuid>.json per event) that a MISP instance polls.
///
/// Example:
///   pharos export misp --store cases/x.db --tlp green --out events.json
///   pharos export misp --store cases/x.db --out events.json --feed /srv/misp-feed
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct MispArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Only this incident (repeat for several; default: every incident).
    #[arg(long, value_name = "ID")]
    pub incident: Vec<String>,
    /// TLP 2.0 tag of every event: clear, green, amber, amber+strict or red.
    #[arg(long, default_value = "amber", value_parser = parse_tlp)]
    pub tlp: Tlp,
    /// The creating organisation named in the events.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "Pharos",
        env = "PHAROS_PRODUCER"
    )]
    pub producer: String,
    /// The events file (`-` for standard output).
    #[arg(long, value_name = "FILE.json")]
    pub out: PathBuf,
    /// Also write the events as a MISP feed in this folder (manifest.json and
    /// one <uuid>.json per event), for a MISP feed of format "MISP Feed".
    #[arg(long, value_name = "DIR")]
    pub feed: Option<PathBuf>,
}

/// Write the store's incidents (from `pharos assess`) as one STIX 2.1
/// bundle that OpenCTI, MISP and other platforms import.
///
/// Per incident: an `incident` (Pharos's severity, confidence, ABCDE facets,
/// timeline and technique evidence under the Pharos extension, defined in
/// the bundle); a `campaign` that `uses` one `attack-pattern` per DISARM
/// technique (external ids under both `DISARM` and `mitre-attack`, kill
/// chain `disarm`), its narratives and its channels (OpenCTI objects); the
/// accounts, links and domains as `user-account`, `url` and `domain-name`
/// inside an `observed-data`; `sighting`s by the producer; a `note` with the
/// assessment and a `report` that holds it all. Every object carries the
/// TLP marking. The same incidents give the same bundle, ids included.
///
/// --pseudonymise replaces account identifiers (ids, handles, post ids,
/// @mentions in texts) with keyed pseudonyms: HMAC-SHA256 under a local key
/// (--pseudonym-key, or $PHAROS_PSEUDONYM_KEY_FILE, else
/// <store stem>.pseudonym.key beside the store, created on first use). The
/// key is never exported; exports made with the same key name an account
/// the same way, so partners can correlate without receiving identifiers.
///
/// docs/sharing.md describes every object, the extension and the limits.
///
/// Examples:
///   pharos export stix --store cases/x.db --tlp amber --out x.stix.json
///   pharos export stix --store cases/x.db --incident inc-3f2a9c0d1e2b4a5f --tlp green --pseudonymise --out share.json
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct StixArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Only this incident (repeat for several; default: every incident, or those within --since/--until).
    #[arg(long, value_name = "ID")]
    pub incident: Vec<String>,
    /// Only incidents seen at or after this time (RFC 3339, date, or epoch).
    #[arg(long)]
    pub since: Option<String>,
    /// Only incidents seen before this time.
    #[arg(long)]
    pub until: Option<String>,
    /// TLP 2.0 marking of every object: clear, green, amber, amber+strict or red.
    #[arg(long, default_value = "amber", value_parser = parse_tlp)]
    pub tlp: Tlp,
    /// Replace account identifiers with keyed pseudonyms.
    #[arg(long)]
    pub pseudonymise: bool,
    /// The pseudonymisation key file (at least 16 bytes).
    #[arg(long, value_name = "FILE", env = KEY_FILE_ENV)]
    pub pseudonym_key: Option<PathBuf>,
    /// The producer named in the bundle (its `identity`).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "Pharos",
        env = "PHAROS_PRODUCER"
    )]
    pub producer: String,
    /// Write OpenCTI narratives and channels as `narrative`/`channel` (as
    /// OpenCTI exports them) instead of `x-opencti-narrative`/`x-opencti-channel`
    /// (which OpenCTI also reads and the OASIS validator's custom-type check accepts).
    #[arg(long)]
    pub opencti_native_types: bool,
    /// The bundle file (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

fn parse_tlp(s: &str) -> Result<Tlp, String> {
    Tlp::parse(s)
}

pub fn parse_time(flag: &str, v: &Option<String>) -> Result<Option<EventTime>> {
    v.as_deref()
        .map(|s| EventTime::parse(s).with_context(|| format!("--{flag}")))
        .transpose()
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    match args.command {
        Some(Command::Stix(a)) => return stix(a, global),
        Some(Command::Misp(a)) => return misp(a, global),
        None => {}
    }
    if args.format != "jsonl" {
        bail!(
            "unknown export format {:?}; only jsonl is available (incidents as STIX: `pharos export stix`)",
            args.format
        );
    }
    let store = AnyStore::open_existing(&args.store.store)?;
    let filter = PostFilter {
        since: parse_time("since", &args.since)?,
        until: parse_time("until", &args.until)?,
        platform: args.platform.clone(),
    };
    let out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(1 << 20, out);
    let mut n = 0u64;
    let mut err: Option<std::io::Error> = None;
    store.scan(&filter, &mut |post| {
        let r = serde_json::to_writer(&mut out, &post)
            .map_err(std::io::Error::other)
            .and_then(|_| out.write_all(b"\n"));
        match r {
            Ok(()) => {
                n += 1;
                ControlFlow::Continue(())
            }
            Err(e) => {
                err = Some(e);
                ControlFlow::Break(())
            }
        }
    })?;
    if let Some(e) = err {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Ok(ExitCode::SUCCESS);
        }
        return Err(e).context("writing export");
    }
    out.flush().context("writing export")?;
    if !global.quiet
        && let Some(p) = &args.out
    {
        eprintln!("exported {n} posts to {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The store's incidents to export: those named (`--incident`), else those
/// within `--since`/`--until` (all without them); an error names what is missing.
fn chosen_incidents(
    store: &AnyStore,
    path: &pharos_store::Location,
    ids: &[String],
    since: &Option<String>,
    until: &Option<String>,
) -> Result<Vec<pharos_assess::incident::Incident>> {
    let all = pharos_assess::incident::load_incidents(store)?;
    if all.is_empty() {
        bail!(
            "no incidents in {}; assess it first (`pharos assess --store {} --out DIR`)",
            path,
            path
        );
    }
    let since = parse_time("since", since)?;
    let until = parse_time("until", until)?;
    let mut chosen = Vec::new();
    for id in ids {
        match all.iter().find(|i| &i.id == id) {
            Some(i) => chosen.push(i.clone()),
            None => bail!(
                "no incident {id} in {} ({} incidents; their ids are in incidents.json or `pharos assess` output)",
                path,
                all.len()
            ),
        }
    }
    if ids.is_empty() {
        chosen = all
            .into_iter()
            .filter(|i| since.is_none_or(|s| i.last_seen >= s))
            .filter(|i| until.is_none_or(|u| i.first_seen < u))
            .collect();
        if chosen.is_empty() {
            bail!("no incident within --since/--until in {}", path);
        }
    }
    Ok(chosen)
}

fn stix(a: StixArgs, global: &Global) -> Result<ExitCode> {
    let store = AnyStore::open_existing(&a.store.store)?;
    let chosen = chosen_incidents(&store, &a.store.store, &a.incident, &a.since, &a.until)?;
    let catalogue = pharos_assess::disarm::load_from_store(&store)?;
    let key = if a.pseudonymise {
        let (p, created, path) = match &a.pseudonym_key {
            Some(path) => (Pseudonymiser::from_key_file(path)?, false, path.clone()),
            None => {
                let path = a.store.store.beside("pseudonym.key");
                let (p, created) = Pseudonymiser::from_key_file_or_create(&path)?;
                (p, created, path)
            }
        };
        if created && !global.quiet {
            eprintln!(
                "created pseudonymisation key {} (keep it: exports made with it name accounts the same way; it is never exported)",
                path.display()
            );
        }
        Some(p)
    } else {
        None
    };
    let opts = ExportOptions {
        tlp: a.tlp,
        pseudonymiser: key.as_ref(),
        catalogue: catalogue.as_ref(),
        producer: a.producer.clone(),
        opencti_types: if a.opencti_native_types {
            OpenCtiTypes::Native
        } else {
            OpenCtiTypes::Prefixed
        },
        ..Default::default()
    };
    let summary = if a.out.as_os_str() == "-" {
        let (bundle, summary) = export_bundle(&chosen, &opts);
        let mut bytes = serde_json::to_vec_pretty(&bundle).context("encoding the bundle")?;
        bytes.push(b'\n');
        std::io::stdout()
            .lock()
            .write_all(&bytes)
            .context("writing the bundle")?;
        summary
    } else {
        write_bundle_file(&a.out, &chosen, &opts)
            .with_context(|| format!("cannot write {}", a.out.display()))?
    };
    if !global.quiet {
        let types: Vec<String> = summary
            .by_type
            .iter()
            .map(|(t, n)| format!("{n} {t}"))
            .collect();
        eprintln!(
            "exported {} incident(s) as {} STIX objects ({}) marked {}{}{} to {}",
            summary.incidents,
            summary.objects,
            types.join(", "),
            a.tlp.label(),
            if a.pseudonymise {
                ", accounts pseudonymised"
            } else {
                ""
            },
            if catalogue.is_none() {
                "; no DISARM framework in the store, so techniques carry no description (`pharos disarm import`)"
            } else {
                ""
            },
            a.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn misp(a: MispArgs, global: &Global) -> Result<ExitCode> {
    let store = AnyStore::open_existing(&a.store.store)?;
    let chosen = chosen_incidents(&store, &a.store.store, &a.incident, &None, &None)?;
    let catalogue = pharos_assess::disarm::load_from_store(&store)?;
    let opts = pharos_share::misp::MispOptions {
        tlp: a.tlp,
        producer: a.producer.clone(),
        catalogue: catalogue.as_ref(),
        ..Default::default()
    };
    let events = pharos_share::misp::events(&chosen, &opts);
    let mut bytes = serde_json::to_vec_pretty(&events).context("encoding the events")?;
    bytes.push(b'\n');
    if a.out.as_os_str() == "-" {
        std::io::stdout()
            .lock()
            .write_all(&bytes)
            .context("writing the events")?;
    } else {
        if let Some(dir) = a.out.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&a.out, bytes)
            .with_context(|| format!("cannot write {}", a.out.display()))?;
    }
    if let Some(dir) = &a.feed {
        let n = pharos_share::misp::write_feed(dir, &events)
            .with_context(|| format!("cannot write the MISP feed in {}", dir.display()))?;
        if !global.quiet {
            eprintln!("wrote a MISP feed of {n} event(s) in {}", dir.display());
        }
    }
    if !global.quiet {
        eprintln!(
            "exported {} incident(s) as MISP events tagged {} to {}",
            chosen.len(),
            pharos_share::misp::tlp_tag(a.tlp),
            a.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
