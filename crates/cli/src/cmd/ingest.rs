//! `pharos ingest`: read source files into the store.

use super::{Global, StoreArg};
use crate::progress::Bar;
use anyhow::Result;
use pharos_ingest::load::{Summary, ingest_files, ingest_urls};
use pharos_ingest::{CsvOptions, Format, Options, Preset};
use pharos_store::AnyStore;
use std::path::PathBuf;
use std::process::ExitCode;

/// Read posts from files into the store.
///
/// Bad records (malformed lines, missing required fields, bad timestamps,
/// invalid UTF-8, a truncated file) go to the store's quarantine
/// (`<store>.quarantine.jsonl` beside an SQLite store, `DB.quarantine.jsonl`
/// in the current directory for a PostgreSQL one: file, line, reason, raw
/// record) and the run goes on. Re-ingesting the same file adds nothing (posts are unique by
/// platform and id).
///
/// Exit status: 0 when anything was stored or everything was a duplicate;
/// 1 when nothing could be stored; 2 on a usage or store error, or when
/// --strict stopped the run.
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Files to read (`.gz` is decompressed; `-` is standard input); an
    /// `http(s)://` URL is fetched once as an RSS/Atom feed. Archives
    /// (`.tar`, `.tar.gz`, `.tgz`, `.zip`) are read as the files they hold.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub store: StoreArg,

    /// Source format: auto, jsonl, twitter-v2, telegram, telegram-dump, csv, rss.
    #[arg(long, default_value = "auto")]
    pub format: Format,

    /// CSV preset: coortweet, qut, crowdtangle, 4cat.
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,

    /// CSV column mapping `field=column,...` (fields: id, platform, actor_id,
    /// actor_handle, actor_name, actor_created, followers, following, time,
    /// text, lang, urls, hashtags, mentions, reply_to, reshare_of, quote_of,
    /// media, likes, reshares, replies, views).
    #[arg(long, value_name = "FIELD=COLUMN,...")]
    pub map: Option<String>,

    /// Platform for records whose source does not name one.
    #[arg(long, value_name = "NAME")]
    pub platform: Option<String>,

    /// Stop at the first bad record (exit status 2).
    #[arg(long)]
    pub strict: bool,

    /// Do not detect the language of posts that have none.
    #[arg(long)]
    pub no_detect_language: bool,

    /// Print the summary as one JSON object (`stored`, `duplicates`, `quarantined`, ...).
    #[arg(long)]
    pub json: bool,

    /// Publish the posts to this NATS JetStream bus instead of writing the
    /// store (`pharos worker` stores them); returns once the bus has
    /// acknowledged every post. `stored` then counts posts the bus took,
    /// `duplicates` those it dropped as published already (docs/deploy.md).
    #[arg(long, value_name = "nats://HOST:PORT[/NAMESPACE]")]
    pub bus: Option<String>,

    /// A feed URL's redirects may reach this internal host (loopback,
    /// private, link-local: refused by default; docs/limits.md); repeat
    /// for several.
    #[arg(long = "redirect-allow", value_name = "HOST")]
    pub redirect_allow: Vec<String>,
}

pub fn options(
    format: Format,
    preset: Option<&str>,
    map: Option<&str>,
    platform: Option<String>,
) -> Result<Options> {
    let mut csv = CsvOptions::default();
    if let Some(p) = preset {
        csv.preset = Some(Preset::parse(p).map_err(anyhow::Error::msg)?);
    }
    if let Some(m) = map {
        csv.map = CsvOptions::parse_map(m).map_err(anyhow::Error::msg)?;
    }
    let mut opts = Options::new();
    opts.format = format;
    opts.platform = platform;
    opts.csv = csv;
    Ok(opts)
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    let mut opts = options(
        args.format,
        args.preset.as_deref(),
        args.map.as_deref(),
        args.platform.clone(),
    )?;
    opts.detect_language = !args.no_detect_language;
    if let Some(bus) = &args.bus {
        return super::worker::ingest_to_bus(bus, &args, &opts, global);
    }
    let mut store = AnyStore::open(&args.store.store)?;
    let pb = crate::progress::counter(global.quiet || args.json, "posts");
    let (urls, files): (Vec<PathBuf>, Vec<PathBuf>) = args.files.iter().cloned().partition(|f| {
        let s = f.to_string_lossy();
        s.starts_with("http://") || s.starts_with("https://")
    });
    let mut summary = ingest_files(&mut store, &files, &opts, args.strict, &Bar(&pb))?;
    if !summary.stopped {
        let urls: Vec<String> = urls
            .iter()
            .map(|u| u.to_string_lossy().into_owned())
            .collect();
        let client = pharos_ingest::feed::FeedClient::with_options(
            pharos_ingest::feed::DEFAULT_TIMEOUT,
            args.redirect_allow.clone(),
        )?;
        ingest_urls(
            &mut store,
            &client,
            &urls,
            &opts,
            args.strict,
            &mut summary,
            &Bar(&pb),
        )?;
    }
    pb.finish_and_clear();
    report(&summary, args.json, global.quiet)?;
    Ok(exit_code(&summary))
}

/// 0 when anything was stored or everything was a duplicate; 1 when nothing
/// could be stored; 2 when --strict stopped the run.
pub fn exit_code(s: &Summary) -> ExitCode {
    if s.stopped {
        ExitCode::from(2)
    } else if s.stored > 0 || s.duplicates > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

pub fn report(s: &Summary, json: bool, quiet: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(s)?);
        return Ok(());
    }
    if quiet && s.quarantined == 0 && s.failed_files.is_empty() {
        return Ok(());
    }
    println!(
        "stored {} posts, {} duplicates, {} quarantined ({} files, {:.2} s, {} posts/s)",
        s.stored, s.duplicates, s.quarantined, s.files, s.elapsed_s, s.posts_per_s
    );
    for (reason, n) in &s.quarantine_reasons {
        println!("  quarantined {n}: {reason}");
    }
    if let Some(q) = &s.quarantine_file {
        println!("  quarantined records are in {q}");
    }
    for f in &s.failed_files {
        println!("  not read: {}: {}", f.file, f.error);
    }
    if s.stored == 0 && s.duplicates == 0 {
        println!("nothing could be stored");
    }
    Ok(())
}
