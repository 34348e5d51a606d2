//! `pharos share`: TAXII 2.1 with partners' platforms: push the store's
//! findings to a remote collection, pull a remote collection into the
//! store, list what partners sent.

use super::{Global, StoreArg};
use anyhow::{Context, Result, bail};
use pharos_share::stix::export::{ExportOptions, export_bundle};
use pharos_share::stix::tlp::Tlp;
use pharos_share::taxii::{Auth, Remote};
use pharos_store::AnyStore;
use std::io::Write;
use std::process::ExitCode;

/// Share findings over TAXII 2.1 (OpenCTI, MISP, another Pharos, any TAXII server).
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
pharos share push --taxii https://partner.example/taxii2/pharos/ --collection ID --token T --store cases/x.db --tlp green\n  \
pharos share pull --taxii https://partner.example/taxii2/ --collection ID --user me --password P --store cases/x.db\n  \
pharos share list --store cases/x.db --json\n\n\
--taxii takes the remote's API root URL, or its discovery URL (its default API root is used). \
The server side is `pharos serve` (routes under /taxii2/). More: docs/sharing.md")]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Send the store's findings, as `pharos export stix` builds them, to a remote TAXII 2.1 collection.
    ///
    /// The objects go in envelopes that fit the API root's max_content_length (at most 1,000
    /// objects each); each status resource is read (and polled while pending) and summed up.
    /// Exit status 1 when the remote refused any object.
    Push(PushArgs),
    /// Import a remote TAXII 2.1 collection's objects as `pharos import stix` imports a bundle.
    ///
    /// Pages through the collection (`next`); each object is checked on its own and rejects go
    /// to the store's quarantine. Where the pull stopped (the last page's
    /// X-TAXII-Date-Added-Last) is remembered per remote and collection, so the next pull asks
    /// only for objects added after it (`added_after`).
    Pull(PullArgs),
    /// List the objects partners sent (by `pharos import stix`, TAXII POST or pull).
    ///
    /// One line per object; with --json, `{"id", "type", "modified", "source"}` per line.
    List(ListArgs),
}

#[derive(clap::Args, Debug)]
pub struct RemoteArgs {
    /// The remote's API root URL (e.g. http://host/taxii2/pharos/), or its discovery URL.
    #[arg(long, value_name = "URL")]
    pub taxii: String,
    /// The collection id.
    #[arg(long, value_name = "ID")]
    pub collection: String,
    /// User name for HTTP Basic (with --password).
    #[arg(long, requires = "password", conflicts_with = "token")]
    pub user: Option<String>,
    /// Password for HTTP Basic (a Pharos server takes its token as the password).
    #[arg(
        long,
        requires = "user",
        env = "PHAROS_TAXII_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,
    /// A token, sent as `Authorization: Bearer TOKEN`.
    #[arg(long, env = "PHAROS_TAXII_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// An internal host (loopback, private, link-local) a redirect may lead
    /// to; repeat for several. Without it such redirects are refused
    /// (docs/limits.md, Redirects).
    #[arg(long = "redirect-allow", value_name = "HOST")]
    pub redirect_allow: Vec<String>,
}

impl RemoteArgs {
    fn auth(&self) -> Auth {
        Auth::from_options(
            self.token.as_deref(),
            self.user.as_deref(),
            self.password.as_deref(),
        )
    }
    fn connect(&self) -> Result<Remote> {
        Remote::connect_allowing(&self.taxii, self.auth(), self.redirect_allow.clone())
            .with_context(|| format!("cannot reach the TAXII server at {}", self.taxii))
    }
}

#[derive(clap::Args, Debug)]
pub struct PushArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub store: StoreArg,
    /// TLP 2.0 marking of every object: clear, green, amber, amber+strict or red.
    #[arg(long, default_value = "amber", value_parser = Tlp::parse)]
    pub tlp: Tlp,
    /// The producer named in the objects (its `identity`).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "Pharos",
        env = "PHAROS_PRODUCER"
    )]
    pub producer: String,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct PullArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub store: StoreArg,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// One JSON object per line: {"id", "type", "modified", "source"}.
    #[arg(long)]
    pub json: bool,
    /// Only objects of this STIX type.
    #[arg(long = "type", value_name = "TYPE")]
    pub stix_type: Option<String>,
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    match args.command {
        Command::Push(a) => push(a, global),
        Command::Pull(a) => pull(a, global),
        Command::List(a) => list(a),
    }
}

fn push(a: PushArgs, global: &Global) -> Result<ExitCode> {
    let store = AnyStore::open_existing(&a.store.store)?;
    let incidents = pharos_assess::incident::load_incidents(&store)?;
    if incidents.is_empty() {
        bail!(
            "no incidents in {}; assess it first (`pharos assess --store {} --out DIR`)",
            a.store.store,
            a.store.store
        );
    }
    let catalogue = pharos_assess::disarm::load_from_store(&store)?;
    let opts = ExportOptions {
        tlp: a.tlp,
        catalogue: catalogue.as_ref(),
        producer: a.producer.clone(),
        ..Default::default()
    };
    let (bundle, _) = export_bundle(&incidents, &opts);
    let objects = bundle["objects"].as_array().cloned().unwrap_or_default();
    let remote = a.remote.connect()?;
    let rep = pharos_share::taxii::push(&remote, &a.remote.collection, &objects)
        .with_context(|| format!("pushing to collection {}", a.remote.collection))?;
    if a.json {
        println!("{}", serde_json::to_string(&rep)?);
    } else if !global.quiet || rep.failure_count > 0 {
        eprintln!(
            "pushed {} objects ({} incidents, {}) in {} envelope(s) to {}collections/{}/: {} succeeded, {} failed, {} pending",
            rep.objects,
            incidents.len(),
            a.tlp.label(),
            rep.envelopes,
            rep.api_root,
            rep.collection,
            rep.success_count,
            rep.failure_count,
            rep.pending_count
        );
        for f in &rep.failures {
            eprintln!("  failed {f}");
        }
    }
    Ok(if rep.failure_count > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn pull(a: PullArgs, global: &Global) -> Result<ExitCode> {
    let mut store = AnyStore::open(&a.store.store)?;
    let remote = a.remote.connect()?;
    let rep = pharos_share::taxii::pull(&remote, &a.remote.collection, &mut store)
        .with_context(|| format!("pulling collection {}", a.remote.collection))?;
    if a.json {
        println!("{}", serde_json::to_string(&rep)?);
    } else if !global.quiet {
        eprintln!(
            "pulled {} objects from {}collections/{}/ ({} page(s){}): {} added, {} updated, {} unchanged, {} rejected (quarantined){}",
            rep.objects,
            rep.api_root,
            rep.collection,
            rep.pages,
            rep.added_after
                .as_deref()
                .map(|s| format!(", added after {s}"))
                .unwrap_or_default(),
            rep.added,
            rep.updated,
            rep.unchanged,
            rep.rejected,
            rep.next_added_after
                .as_deref()
                .map(|s| format!("; the next pull starts after {s}"))
                .unwrap_or_default()
        );
        for r in &rep.rejections {
            eprintln!("  rejected {r}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn list(a: ListArgs) -> Result<ExitCode> {
    let store = AnyStore::open_existing(&a.store.store)?;
    let objects = pharos_share::stix::stored_objects(&store, a.stix_type.as_deref())?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for o in objects {
        let modified = o
            .object
            .get("modified")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let r = if a.json {
            writeln!(
                out,
                "{}",
                serde_json::json!({"id": o.id, "type": o.stix_type, "modified": modified, "source": o.source})
            )
        } else {
            writeln!(
                out,
                "{}\t{}\t{}\t{}",
                o.id,
                o.stix_type,
                modified.as_deref().unwrap_or("-"),
                o.source
            )
        };
        if let Err(e) = r {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(ExitCode::SUCCESS);
            }
            return Err(e.into());
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
