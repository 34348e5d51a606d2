//! `pharos claims`: the fact-check library (import, list, show) and claim matching.

use super::{DEFAULT_STORE, Global};
use anyhow::{Context, Result, bail};
use pharos_claims::library::{
    self, ImportFormat, ImportOptions, ImportSummary, Library, normalize_text,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The long help of `pharos claims`.
const CLAIMS_HELP: &str = r#"The library is a directory (--library DIR; default beside the store:
cases/x.db -> cases/x.library) holding every imported claim with all its
reviews (claims.jsonl), where each came from (provenance.jsonl) and the
records that could not be read (quarantine.jsonl). docs/claims.md
describes the formats, deduplication and the files.

Examples:
  pharos claims import --format claimreview page.html feed.json --store cases/x.db
  pharos claims import --format checkthat --lang en verified_claims.tsv --library lib
  pharos claims import --format euvsdisinfo euvsdisinfo_2015-2017.csv --library lib --json
  pharos claims search "vaccines cause autism" --library lib
  pharos claims list vaccine autism --library lib
  pharos claims show vclaim-sno-10-meter-anaconda --library lib
"#;

/// The fact-check library: known claims and their fact-checks.
#[derive(clap::Args, Debug)]
#[command(after_help = CLAIMS_HELP)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Import fact-checks: schema.org ClaimReview (HTML pages with JSON-LD,
    /// JSON, DataFeed), Google Fact Check Tools API responses, EUvsDisinfo
    /// case tables, CheckThat! verified claims.
    ///
    /// Into the library (created when absent).
    ///
    /// Records that merge: the same claim id (CheckThat! vclaim_id; EUvsDisinfo
    /// and ClaimReview ids are hashes of the normalised claim text, plus the
    /// review URL for ClaimReview and Fact Check API records), or the same
    /// normalised claim text with a review URL in common. Their reviews are
    /// united. Re-importing a file changes nothing. Bad records go to
    /// DIR/quarantine.jsonl with file, line or record and reason; the rest is
    /// imported. The library files are replaced atomically.
    ///
    /// Exit status: 0 when the run imported or re-confirmed anything, 1 when
    /// nothing could be imported, 2 for usage and library errors.
    #[command(verbatim_doc_comment)]
    Import(ImportArgs),
    /// Search the library by meaning: the claims a text repeats, best first,
    /// with their match confidence (claim retrieval: BM25, then the fused
    /// confidence; see docs/claim-retrieval.md).
    Search(SearchArgs),
    /// List the library's claims (optionally those containing words).
    List(ListArgs),
    /// Show one claim: its text, every review, and where it came from.
    Show(ShowArgs),
    /// Match posts (a query file, or the store's posts) against the library.
    Match(super::claims_match::Args),
}

/// Where the library is: `--library DIR`, else beside `--store`.
#[derive(clap::Args, Debug, Clone)]
pub struct LibraryArg {
    /// The library directory (default: `<store dir>/<store stem>.library`
    /// beside an SQLite store; `DB.library` in the current directory for a
    /// PostgreSQL store).
    #[arg(long, value_name = "DIR", env = "PHAROS_LIBRARY")]
    pub library: Option<PathBuf>,
    /// The store whose library to use when --library is not given (an
    /// SQLite file or a PostgreSQL URL).
    #[arg(long, value_name = "PATH|URL", default_value = DEFAULT_STORE, env = "PHAROS_STORE")]
    pub store: super::Location,
}

impl LibraryArg {
    pub fn dir(&self) -> PathBuf {
        self.library
            .clone()
            .unwrap_or_else(|| self.store.beside("library"))
    }
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// claimreview | factcheck-api | euvsdisinfo | checkthat
    #[arg(long, value_parser = parse_format)]
    pub format: ImportFormat,
    /// The files to import.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub library: LibraryArg,
    /// Language (ISO 639-1) of claims whose source gives none, e.g. `en`
    /// for the English CheckThat! file (else detected from the text).
    #[arg(long, value_name = "CODE")]
    pub lang: Option<String>,
    /// Do not detect the language of claims whose source gives none.
    #[arg(long)]
    pub no_detect_language: bool,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

fn parse_format(s: &str) -> Result<ImportFormat, String> {
    s.parse()
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub library: LibraryArg,
    /// Only claims whose text, title or keywords contain every one of these
    /// words (case and punctuation ignored).
    #[arg(value_name = "WORD")]
    pub words: Vec<String>,
    /// Only claims in this language (ISO 639-1).
    #[arg(long)]
    pub lang: Option<String>,
    /// Only claims reviewed by this publisher (substring, any case).
    #[arg(long)]
    pub publisher: Option<String>,
    /// At most this many claims (0: all).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// One JSON object a line (the claims as stored).
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct SearchArgs {
    /// The text to look for (a post, a sentence, a few words).
    #[arg(required = true, value_name = "TEXT")]
    pub text: Vec<String>,
    #[command(flatten)]
    pub library: LibraryArg,
    /// The text's language (ISO 639-1), when known.
    #[arg(long)]
    pub lang: Option<String>,
    /// Claims shown at most.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// One JSON object a line: `claim_id`, `score`, `confidence`, `claim`.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// The claim id (as `pharos claims list` prints it).
    pub id: String,
    #[command(flatten)]
    pub library: LibraryArg,
    /// Print the claim and its provenance as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    match args.command {
        Command::Import(a) => import(a, global),
        Command::Search(a) => search(a),
        Command::List(a) => list(a),
        Command::Show(a) => show(a),
        Command::Match(a) => super::claims_match::run(a, global),
    }
}

fn import(args: ImportArgs, global: &Global) -> Result<ExitCode> {
    let dir = args.library.dir();
    let lang = match &args.lang {
        Some(l) => Some(
            pharos_core::lang::normalize_lang(l)
                .with_context(|| format!("--lang {l:?} is not a language code"))?,
        ),
        None => None,
    };
    let opts = ImportOptions {
        default_lang: lang,
        detect_lang: !args.no_detect_language,
    };
    let summary = library::import(&dir, args.format, &args.files, &opts)?;
    for f in &summary.files {
        if let Some(e) = &f.error {
            eprintln!("pharos: {e}");
        }
    }
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        print!("{}", render_import(&summary, global.quiet));
    }
    let imported = summary.added + summary.merged + summary.unchanged;
    Ok(if imported > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn render_import(s: &ImportSummary, quiet: bool) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "imported {} records from {} file{} into {}: {} new claims, {} merged into existing ones, {} already there, {} quarantined",
        s.records,
        s.files.len(),
        if s.files.len() == 1 { "" } else { "s" },
        s.library,
        s.added,
        s.merged,
        s.unchanged,
        s.quarantined
    );
    let _ = writeln!(
        o,
        "  the library holds {} claims with {} reviews{}",
        s.claims,
        s.reviews,
        if s.changed { "" } else { " (unchanged)" }
    );
    if s.failed_files > 0 {
        let _ = writeln!(o, "  {} files could not be read", s.failed_files);
    }
    for (reason, n) in &s.quarantine_reasons {
        let _ = writeln!(o, "  quarantined {n}: {reason}");
    }
    if !quiet {
        for f in &s.files {
            for e in &f.errors {
                let _ = writeln!(o, "    {e}");
            }
            if f.quarantined as usize > f.errors.len() {
                let _ = writeln!(
                    o,
                    "    ... and {} more in {}",
                    f.quarantined as usize - f.errors.len(),
                    f.file
                );
            }
        }
    }
    if let Some(q) = &s.quarantine_file {
        let _ = writeln!(o, "  quarantined records are in {q}");
    }
    o
}

fn open(dir: &Path) -> Result<Library> {
    Ok(Library::open(dir)?)
}

fn list(args: ListArgs) -> Result<ExitCode> {
    let lib = open(&args.library.dir())?;
    let words: Vec<String> = args
        .words
        .iter()
        .map(|w| normalize_text(w))
        .filter(|w| !w.is_empty())
        .collect();
    let publisher = args.publisher.as_deref().map(str::to_lowercase);
    let mut out = std::io::stdout().lock();
    let mut shown = 0usize;
    let mut matched = 0usize;
    for c in lib.claims() {
        if let Some(l) = &args.lang
            && c.lang.as_deref() != Some(l.as_str())
        {
            continue;
        }
        if let Some(p) = &publisher
            && !c.reviews.iter().any(|r| {
                r.publisher
                    .as_deref()
                    .is_some_and(|x| x.to_lowercase().contains(p))
            })
        {
            continue;
        }
        if !words.is_empty() {
            let hay = format!(
                " {} {} {} ",
                normalize_text(&c.text),
                normalize_text(c.title.as_deref().unwrap_or("")),
                normalize_text(&c.keywords.join(" "))
            );
            if !words.iter().all(|w| hay.contains(&format!(" {w} "))) {
                continue;
            }
        }
        matched += 1;
        if args.limit > 0 && shown >= args.limit {
            continue;
        }
        shown += 1;
        let written = if args.json {
            writeln!(out, "{}", serde_json::to_string(c)?)
        } else {
            let verdicts: Vec<&str> = c
                .reviews
                .iter()
                .filter_map(|r| r.rating.as_deref())
                .collect();
            writeln!(
                out,
                "{}  [{}] {}{}",
                c.id,
                c.lang.as_deref().unwrap_or("und"),
                one_line(&c.text, 120),
                if verdicts.is_empty() {
                    String::new()
                } else {
                    format!("  ({})", verdicts.join("; "))
                }
            )
        };
        match written {
            Ok(()) => {}
            // `pharos claims list | head`: the reader has had enough.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
            Err(e) => return Err(e.into()),
        }
    }
    if !args.json {
        eprintln!(
            "{matched} of {} claims matched{}",
            lib.len(),
            if shown < matched {
                format!(", {shown} shown (--limit)")
            } else {
                String::new()
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn search(args: SearchArgs) -> Result<ExitCode> {
    let lib = open(&args.library.dir())?;
    let text = args.text.join(" ");
    let matcher = pharos_claims::retrieval::Matcher::open(&lib)?;
    let found = matcher.match_text(&text, args.lang.as_deref(), args.top.max(1));
    let threshold = pharos_claims::retrieval::DEFAULT_THRESHOLD;
    let mut out = std::io::stdout().lock();
    for m in &found {
        let Some(c) = lib.get(&m.claim_id) else {
            continue;
        };
        let written = if args.json {
            let v = serde_json::json!({"claim_id": m.claim_id, "score": m.score, "confidence": m.confidence, "claim": c});
            writeln!(out, "{v}")
        } else {
            let verdicts: Vec<&str> = c
                .reviews
                .iter()
                .filter_map(|r| r.rating.as_deref())
                .collect();
            writeln!(
                out,
                "{:.2}{} {}  [{}] {}{}",
                m.confidence,
                if m.confidence >= threshold { "*" } else { " " },
                c.id,
                c.lang.as_deref().unwrap_or("und"),
                one_line(&c.text, 110),
                if verdicts.is_empty() {
                    String::new()
                } else {
                    format!("  ({})", verdicts.join("; "))
                }
            )
        };
        match written {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
            Err(e) => return Err(e.into()),
        }
    }
    if !args.json {
        eprintln!(
            "{} claims shown; * marks a match (confidence {threshold} or more)",
            found.len()
        );
    }
    Ok(if found.iter().any(|m| m.confidence >= threshold) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn show(args: ShowArgs) -> Result<ExitCode> {
    let lib = open(&args.library.dir())?;
    let Some(c) = lib.get(&args.id) else {
        bail!(
            "no claim {:?} in the library {} (`pharos claims list` shows the ids)",
            args.id,
            lib.dir().display()
        );
    };
    let prov: Vec<_> = lib.provenance_of(&c.id).collect();
    if args.json {
        let v = serde_json::json!({"claim": c, "provenance": prov});
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}", c.id);
    println!("  claim: {}", c.text);
    let field = |name: &str, v: &Option<String>| {
        if let Some(v) = v {
            println!("  {name}: {v}");
        }
    };
    field("title", &c.title);
    field("language", &c.lang);
    field("claimant", &c.claimant);
    field("claim date", &c.claim_date);
    let list = |name: &str, v: &[String]| {
        if !v.is_empty() {
            println!("  {name}: {}", v.join(", "));
        }
    };
    list("keywords", &c.keywords);
    list("outlets", &c.outlets);
    list("seen in languages", &c.languages);
    list("appearances", &c.appearances);
    for r in &c.reviews {
        println!(
            "  review: {} by {}{}{}",
            r.rating.as_deref().unwrap_or("(no verdict)"),
            r.publisher.as_deref().unwrap_or("(unknown publisher)"),
            r.date
                .as_deref()
                .map(|d| format!(", {d}"))
                .unwrap_or_default(),
            r.lang
                .as_deref()
                .map(|l| format!(" [{l}]"))
                .unwrap_or_default()
        );
        if let Some(u) = &r.url {
            println!("    {u}");
        }
        if let Some(t) = &r.text {
            println!("    {}", one_line(t, 300));
        }
    }
    for p in prov {
        let at = match (p.line, p.record) {
            (Some(l), Some(r)) => format!(" record {r} (line {l})"),
            (Some(l), None) => format!(" line {l}"),
            (None, Some(r)) => format!(" record {r}"),
            (None, None) => String::new(),
        };
        println!("  from: {} {}{at}", p.format, p.file);
    }
    Ok(ExitCode::SUCCESS)
}

fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        flat.chars().take(max).collect::<String>() + "…"
    }
}
