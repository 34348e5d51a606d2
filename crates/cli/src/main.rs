//! `pharos`: the command line of the Pharos information-environment assessment engine.
//!
//! Each subcommand lives in its own module under [`cmd`]; this file only
//! parses the command line, sets up logging and maps errors to exit codes.

mod cmd;
mod models;
mod progress;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: about a fifth of the pipeline's CPU
/// was malloc and free (docs/BENCHMARKS.md, "One pipeline, one store").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Pharos finds manipulation in what is being published: coordinated
/// accounts, recycled and false narratives, unnatural bursts.
///
/// Start with `pharos demo`, then `pharos help <command>`. The user guide is
/// in docs/ (docs/guide.md; file formats in docs/formats.md).
#[derive(Parser, Debug)]
#[command(name = "pharos", version, about, long_about, propagate_version = true)]
struct Cli {
    /// Less output: no progress bars, only results and errors.
    #[arg(long, short, global = true)]
    quiet: bool,

    /// More log output (repeat for more); RUST_LOG overrides it.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// Never download (the sentence-embedding models); also PHAROS_OFFLINE=1.
    #[arg(long, global = true)]
    offline: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    #[command(
        about = "Read source files into the store (formats: jsonl, twitter-v2, telegram, telegram-dump, csv, rss)"
    )]
    Ingest(cmd::ingest::Args),
    #[command(
        about = "Summarise the store: counts by platform, language and day; top domains, hashtags, actors"
    )]
    Stats(cmd::stats::Args),
    #[command(
        about = "Write stored posts out (canonical JSONL), or incidents as a STIX 2.1 bundle (`pharos export stix`) or MISP events (`pharos export misp`)"
    )]
    Export(cmd::export::Args),
    #[command(
        about = "Find coordinated accounts: CooRTweet-exact coordination (coortweet) or QUT-style directed networks (directed)"
    )]
    Coordination(cmd::coordination::Args),
    #[command(
        about = "List narratives (clusters of posts about the same thing), largest and fastest-growing first"
    )]
    Narratives(cmd::narratives::Args),
    #[command(
        about = "Assess the store: early-warning alerts, and with --out DIR incidents, briefing, analyst and recovery reports and a STIX bundle"
    )]
    Assess(cmd::assess::Args),
    #[command(
        about = "Find the narratives likely to come back (recurrence, regular gaps, calendar triggers) and write a prebunk brief for each"
    )]
    Prebunk(cmd::prebunk::Args),
    #[command(
        about = "Write a simulated information environment with planted campaigns and its ground truth"
    )]
    Simulate(cmd::simulate::Args),
    #[command(
        about = "Try Pharos on a simulated scenario: simulate, ingest, assess into ./pharos-demo/ (reports, incidents, STIX)"
    )]
    Demo(cmd::demo::Args),
    #[command(
        about = "Poll RSS/Atom feeds on a schedule (conditional GET) and store their new items"
    )]
    Watch(cmd::watch::Args),
    #[command(
        about = "The fact-check library: import fact-checks, match posts against known claims"
    )]
    Claims(cmd::claims::Args),
    #[command(
        about = "Fetch and list the sentence-embedding models (multilingual-e5-small by default)"
    )]
    Model(cmd::model::Args),
    #[command(
        about = "Response packs for a narrative or post (claim, verdicts, correction draft, timing); log responses"
    )]
    Respond(cmd::respond::Args),
    #[command(
        about = "The DISARM framework: import its STIX bundle (techniques keyed on T-numbers)"
    )]
    Disarm(cmd::disarm::Args),
    #[command(about = "Import partners' data (STIX 2.1 bundles) into the store")]
    Import(cmd::import::Args),
    #[command(
        about = "Share findings over TAXII 2.1: push to a partner's collection, pull one into the store, list what partners sent"
    )]
    Share(cmd::share::Args),
    #[command(about = "Serve the REST API and the dashboard")]
    Serve(cmd::serve::Args),
    #[command(
        about = "Scale-out: store the posts of a NATS JetStream bus (shared by any number of workers) and run the pipeline in one of them"
    )]
    Worker(cmd::worker::Args),
    #[command(about = "API tokens: create (stored hashed), list, revoke")]
    Token(cmd::token::Args),
    #[command(
        about = "The server's audit log: `pharos audit verify` checks its hash chain (exit 1 at the first broken row)"
    )]
    Audit(cmd::audit::Args),
    #[command(
        about = "Images: PDQ perceptual hashes and C2PA provenance (inspect), near-duplicates (match), hashes of the files posts reference, into the store (scan)"
    )]
    Media(cmd::media::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    let global = cmd::Global {
        quiet: cli.quiet,
        offline: cli.offline || models::offline_env(),
    };
    models::register_narratives_embedder(cli.quiet, matches!(cli.command, Command::Narratives(_)));
    let result = match cli.command {
        Command::Ingest(a) => cmd::ingest::run(a, &global),
        Command::Stats(a) => cmd::stats::run(a, &global),
        Command::Export(a) => cmd::export::run(a, &global),
        Command::Watch(a) => cmd::watch::run(a, &global),
        Command::Assess(a) => cmd::assess::run(a, &global),
        Command::Prebunk(a) => cmd::prebunk::run(a, &global),
        Command::Simulate(a) => cmd::simulate::run(a, &global),
        Command::Narratives(a) => cmd::narratives::run(a, &global),
        Command::Coordination(a) => cmd::coordination::run(a).map(|()| ExitCode::SUCCESS),
        Command::Demo(a) => cmd::demo::run(a, &global),
        Command::Claims(a) => cmd::claims::run(a, &global),
        Command::Model(a) => cmd::model::run(a, &global),
        Command::Respond(a) => cmd::respond::run(a, &global),
        Command::Disarm(a) => cmd::disarm::run(a, &global),
        Command::Import(a) => cmd::import::run(a, &global),
        Command::Share(a) => cmd::share::run(a, &global),
        Command::Serve(a) => cmd::serve::run(a, &global),
        Command::Worker(a) => cmd::worker::run(a, &global),
        Command::Token(a) => cmd::token::run(a, &global),
        Command::Audit(a) => cmd::audit::run(a, &global),
        Command::Media(a) => cmd::media::run(a, &global),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pharos: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "info",
        (_, 2) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}
