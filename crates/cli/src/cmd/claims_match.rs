//! `pharos claims match`: which known (fact-checked) claims do posts repeat?

use super::Global;
use anyhow::{Context, Result, bail};
use pharos_claims::library::Library;
use pharos_claims::retrieval::eval::{self, Run};
use pharos_claims::retrieval::{DEFAULT_CANDIDATES, DEFAULT_THRESHOLD, Matcher, store as matches};
use pharos_store::{AnyStore, PostFilter};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Match posts against the fact-check library.
///
/// Two forms:
///
///   pharos claims match --library DIR --format checkthat --queries Q.tsv --top K --run-out RUN.txt
///       reads `id<TAB>text` lines (a header line is optional) and writes a
///       TREC run file, `qid Q0 docid rank score pharos`, K lines a query,
///       best first. With --qrels FILE it also prints MAP@k as the
///       CheckThat! lab scores it.
///
///   pharos claims match --library DIR --store PATH
///       matches every stored post and records those at or above
///       --threshold in the store (table claim_matches), where the
///       assessment reads them as signals.
///
/// Candidates come from BM25 over the library (built or reused under
/// DIR/index/); a sentence-embedding model re-ranks them: the default model
/// (multilingual-e5-small; fetched once by `pharos model fetch`, or on first
/// use unless --offline / PHAROS_OFFLINE=1), or --model DIR (or
/// PHAROS_EMBED_MODEL) on air-gapped machines.
/// Every match carries a calibrated confidence (0-1); docs/claim-retrieval.md
/// gives the accuracy and the meaning of the threshold.
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The fact-check library (default: the library beside the store).
    #[arg(long, value_name = "DIR")]
    pub library: Option<PathBuf>,
    /// The store (an SQLite file or a PostgreSQL URL): whose posts to
    /// match, or beside which the default library is.
    #[arg(long, value_name = "PATH|URL", env = "PHAROS_STORE")]
    pub store: Option<super::Location>,
    /// Format of --queries.
    #[arg(long, value_enum, default_value_t = QueryFormat::Checkthat)]
    pub format: QueryFormat,
    /// Queries to match (`id<TAB>text` lines) instead of stored posts.
    #[arg(long, value_name = "FILE", requires = "run_out")]
    pub queries: Option<PathBuf>,
    /// Candidates written per query (run file) or matches kept per post (store).
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Where to write the TREC run file (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub run_out: Option<PathBuf>,
    /// TREC qrels (`qid 0 docid rel`): print MAP@1,3,5,10 of the run.
    #[arg(long, value_name = "FILE", requires = "queries")]
    pub qrels: Option<PathBuf>,
    /// A sentence-embedding model for semantic re-ranking instead of the
    /// default: a directory (config.json, tokenizer.json, model.safetensors,
    /// or a packed e5 .bin) or a packed file; or set PHAROS_EMBED_MODEL.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Confidence at or above which a stored post's match is recorded.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: f64,
    /// BM25 candidates re-ranked per post.
    #[arg(long, default_value_t = DEFAULT_CANDIDATES)]
    pub candidates: usize,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryFormat {
    /// `id<TAB>text` lines, as CheckThat! query files.
    Checkthat,
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    let store_path = args
        .store
        .clone()
        .unwrap_or_else(|| super::Location::parse(super::DEFAULT_STORE));
    let library_dir = args
        .library
        .clone()
        .unwrap_or_else(|| store_path.beside("library"));
    let library = Library::open(&library_dir).with_context(|| {
        format!(
            "cannot open the fact-check library {}",
            library_dir.display()
        )
    })?;
    if library.claims().is_empty() {
        bail!(
            "the fact-check library {} holds no claims: import some with `pharos claims import`",
            library_dir.display()
        );
    }
    let generation = library.generation().to_string();
    let mut matcher = Matcher::open(&library)?;
    matcher.candidates = args.candidates.max(args.top);
    let matcher = with_model(matcher, &args, &library, &generation, global)?;

    match &args.queries {
        Some(queries) => match_queries(&matcher, &args, queries, global),
        None => {
            if args.store.is_none() {
                bail!("give --queries FILE (with --run-out) or --store PATH|URL: what to match");
            }
            match_store(&matcher, &args, &store_path, global)
        }
    }
}

fn with_model(
    matcher: Matcher,
    args: &Args,
    library: &Library,
    generation: &str,
    global: &Global,
) -> Result<Matcher> {
    let Some(dir) = crate::models::resolve(args.model.as_deref(), global.offline, global.quiet)
    else {
        return Ok(matcher);
    };
    if !global.quiet {
        eprintln!(
            "embedding the library's claims with {} (once; cached under the library's index/)",
            dir.display()
        );
    }
    // A bad model directory is reported and matching goes on with BM25.
    let mut matcher = matcher;
    match matcher.set_model(&dir, library.claims(), generation) {
        Err(e) => eprintln!("warning: {e}; matching with BM25 only"),
        Ok(()) if !global.quiet => {
            if let Some(kernel) = matcher.encoder_kernel() {
                eprintln!(
                    "semantic re-ranking: the encoder's dense layers run on the {kernel} kernel"
                );
            }
        }
        Ok(()) => {}
    }
    Ok(matcher)
}

fn match_queries(matcher: &Matcher, args: &Args, path: &Path, global: &Global) -> Result<ExitCode> {
    let QueryFormat::Checkthat = args.format;
    let queries =
        eval::read_queries(path).with_context(|| format!("cannot read {}", path.display()))?;
    for e in &queries.errors {
        eprintln!("warning: {e}");
    }
    let pb = crate::progress::counter(global.quiet, "queries matched");
    let mut run: Run = Vec::with_capacity(queries.queries.len());
    for chunk in queries.queries.chunks(64) {
        let posts: Vec<(&str, Option<&str>)> =
            chunk.iter().map(|(_, t)| (t.as_str(), None)).collect();
        for ((qid, _), found) in chunk.iter().zip(matcher.match_batch(&posts, args.top)) {
            run.push((
                qid.clone(),
                found.into_iter().map(|m| (m.claim_id, m.score)).collect(),
            ));
        }
        pb.inc(chunk.len() as u64);
    }
    pb.finish_and_clear();
    let out = args.run_out.as_deref().unwrap_or(Path::new("-"));
    if out == Path::new("-") {
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        eval::write_run(&mut lock, &run)?;
        lock.flush()?;
    } else {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(out)
                .with_context(|| format!("cannot create {}", out.display()))?,
        );
        eval::write_run(&mut f, &run)?;
        f.flush()
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    if !global.quiet {
        eprintln!(
            "{} queries matched ({} skipped), {} semantic re-ranking",
            run.len(),
            queries.errors.len(),
            if matcher.has_model() {
                "with"
            } else {
                "without"
            }
        );
    }
    if let Some(qrels_path) = &args.qrels {
        let (qrels, errors) = eval::read_qrels(qrels_path)
            .with_context(|| format!("cannot read {}", qrels_path.display()))?;
        for e in &errors {
            eprintln!("warning: {e}");
        }
        for k in [1, 3, 5, 10] {
            if k <= args.top {
                println!("MAP@{k}\t{:.4}", eval::map_at_k(&run, &qrels, k));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn match_store(
    matcher: &Matcher,
    args: &Args,
    store_path: &super::Location,
    global: &Global,
) -> Result<ExitCode> {
    let mut store = AnyStore::open_existing(store_path)?;
    let pb = crate::progress::counter(global.quiet, "posts matched");
    let done = matches::annotate(
        &mut store,
        matcher,
        &PostFilter::default(),
        args.threshold,
        args.top,
        &mut |n| pb.set_position(n),
    )?;
    pb.finish_and_clear();
    println!(
        "{} posts matched against {} claims: {} posts repeat a known claim ({} matches at confidence >= {}), {} semantic re-ranking",
        done.posts,
        matcher.len(),
        done.matched_posts,
        done.matches,
        args.threshold,
        if matcher.has_model() {
            "with"
        } else {
            "without"
        }
    );
    Ok(ExitCode::SUCCESS)
}
