//! `pharos media`: perceptual hashes (PDQ) and provenance (C2PA) of images.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use super::Global;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: MediaCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum MediaCommand {
    /// SHA-256, size, PDQ hash and quality, and C2PA provenance of image files.
    ///
    /// With --json, one object per line: file, sha256, width, height, pdq (64
    /// hex digits), quality (0-100), c2pa (null, or valid, ai_generated,
    /// digital_source_type, claim_generator, signer). See docs/media.md.
    Inspect(InspectArgs),
    /// Near-duplicate images under a folder (recursively: jpg, jpeg, png,
    /// webp, gif first frame): every pair within a PDQ distance.
    ///
    /// With --json, one {"a", "b", "distance"} object per line, a < b.
    Match(MatchArgs),
    /// Hash the local image files that stored posts reference (photo paths
    /// of a Telegram export, ...) and keep the hashes in the store.
    ///
    /// Each post's media references are resolved under --root (default: the
    /// current folder); a reference that would leave it (`..`, an absolute
    /// path, a symbolic link pointing out) is refused and named. Each file
    /// gets its SHA-256, PDQ hash and quality and C2PA findings, stored per
    /// (post, reference); co-image coordination and the assessment read them
    /// (AI-declared pictures tag incidents with DISARM T0086.002 / T0087.001).
    /// Accounts' profile pictures (`actor.avatar`) are hashed too, once per
    /// account (reuse across accounts: T0145.001).
    /// Remote references (http...) are counted, not downloaded, unless
    /// --fetch is given: then image URLs on a host named by --fetch-allow
    /// are downloaded (within --fetch-max-bytes and --fetch-timeout,
    /// redirects never to an internal address nor to an unlisted host),
    /// cached by URL (--cache) and hashed as local files. Exit code 1 when
    /// some references were refused, unreadable or failed to download.
    /// See docs/media.md.
    Scan(ScanArgs),
}

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// Image files (JPEG, PNG, WebP, GIF).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// One JSON object per file and line.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct MatchArgs {
    /// The folder to search (recursively).
    pub dir: PathBuf,
    /// Largest PDQ Hamming distance (0-256) that counts as a match; 31 is
    /// Meta's recommended threshold.
    #[arg(long, default_value_t = 31, value_parser = clap::value_parser!(u32).range(0..=256))]
    pub distance: u32,
    /// Also match rotated (90/180/270 degrees) and mirrored copies.
    #[arg(long)]
    pub dihedral: bool,
    /// One JSON object per pair and line.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    #[command(flatten)]
    pub store: super::StoreArg,
    /// The folder media paths are relative to (a Telegram export's folder,
    /// ...); nothing outside it is read.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub root: PathBuf,
    /// The summary as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Download remote image references from the hosts --fetch-allow names
    /// (without it nothing is downloaded).
    #[arg(long)]
    pub fetch: bool,
    /// A host media may be downloaded from (as written in URLs); repeat
    /// for several. Other hosts are never contacted.
    #[arg(long = "fetch-allow", value_name = "HOST", requires = "fetch")]
    pub fetch_allow: Vec<String>,
    /// Largest download, in bytes (a larger one is refused).
    #[arg(long, value_name = "BYTES", default_value_t = pharos_media::fetch::DEFAULT_MAX_BYTES)]
    pub fetch_max_bytes: u64,
    /// Time limit of one download, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = pharos_media::fetch::DEFAULT_TIMEOUT.as_secs())]
    pub fetch_timeout: u64,
    /// Where downloads are kept, one file per URL (default: beside the
    /// store, `<store>.media-cache`).
    #[arg(long, value_name = "DIR", requires = "fetch")]
    pub cache: Option<PathBuf>,
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    match args.command {
        MediaCommand::Inspect(a) => inspect(a),
        MediaCommand::Match(a) => matches(a, global),
        MediaCommand::Scan(a) => scan(a, global),
    }
}

fn inspect(args: InspectArgs) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let mut failed = 0;
    if !args.json {
        writeln!(
            out,
            "{:<40} {:>11} {:>3} {:<64} provenance",
            "file", "size", "q", "pdq"
        )?;
    }
    for f in &args.files {
        let i = match pharos_media::inspect(f) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("pharos: {e}");
                failed += 1;
                continue;
            }
        };
        if args.json {
            writeln!(out, "{}", serde_json::to_string(&i)?)?;
        } else {
            writeln!(
                out,
                "{:<40} {:>11} {:>3} {} {}",
                i.file,
                format!("{}x{}", i.width, i.height),
                i.quality,
                i.pdq,
                provenance_text(&i)
            )?;
        }
    }
    if failed > 0 {
        eprintln!(
            "pharos: {failed} of {} files could not be read",
            args.files.len()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// One line on what the file says about its origin.
pub fn provenance_text(i: &pharos_media::Inspection) -> String {
    let mut s = match &i.c2pa {
        None => "no C2PA".to_string(),
        Some(c) => {
            let mut s = if c.valid {
                "C2PA valid".to_string()
            } else {
                format!("C2PA BROKEN ({})", c.failures.join(", "))
            };
            if c.ai_generated {
                s.push_str(", declares AI-generated");
            }
            if let Some(t) = &c.digital_source_type {
                s.push_str(&format!(", source {}", t.rsplit('/').next().unwrap_or(t)));
            }
            if let Some(g) = &c.claim_generator {
                s.push_str(&format!(", by {g}"));
            }
            if let Some(g) = &c.signer {
                s.push_str(&format!(", signed {g}"));
            }
            s
        }
    };
    if let Some(t) = &i.xmp_digital_source_type {
        s.push_str(&format!(
            "; XMP source {}",
            t.rsplit('/').next().unwrap_or(t)
        ));
    }
    s
}

fn matches(args: MatchArgs, global: &Global) -> Result<ExitCode> {
    if !args.dir.is_dir() {
        anyhow::bail!("{}: not a folder", args.dir.display());
    }
    let mut errors = 0usize;
    let mut report = |e: String| {
        eprintln!("pharos: {e}");
        errors += 1;
    };
    let files = pharos_media::scan::image_files(&args.dir, &mut report);
    let mut images = Vec::with_capacity(files.len());
    for r in pharos_media::scan::hash_files(&files, args.dihedral) {
        match r {
            Ok(h) => images.push(h),
            Err(e) => report(e),
        }
    }
    let pairs = pharos_media::scan::pairs(&images, args.distance);
    let mut out = std::io::stdout().lock();
    if args.json {
        for p in &pairs {
            writeln!(out, "{}", serde_json::to_string(p)?)?;
        }
    } else {
        writeln!(out, "{:>8}  {:<40}  b", "distance", "a")?;
        for p in &pairs {
            writeln!(out, "{:>8}  {:<40}  {}", p.distance, p.a, p.b)?;
        }
    }
    if !global.quiet {
        eprintln!(
            "{} images hashed, {} pairs within distance {}{}",
            images.len(),
            pairs.len(),
            args.distance,
            if errors > 0 {
                format!(", {errors} files unreadable")
            } else {
                String::new()
            }
        );
    }
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What `pharos media scan` did.
#[derive(Debug, Default, serde::Serialize)]
pub struct ScanSummary {
    /// Posts with at least one media reference.
    pub posts_with_media: u64,
    /// Local image references resolved and hashed (rows written).
    pub hashed: u64,
    /// Distinct files behind them.
    pub files: u64,
    /// References to remote media not downloaded (no --fetch, or a host
    /// not on --fetch-allow).
    pub remote: u64,
    /// Remote image references downloaded (or found in the cache) and hashed.
    pub fetched: u64,
    /// Remote image references whose download failed (too large, timed
    /// out, an HTTP error, a refused redirect).
    pub fetch_failed: u64,
    /// References that are not images (video, audio, documents).
    pub not_images: u64,
    /// References refused (leaving the root) or missing.
    pub refused: u64,
    /// Files that exist but could not be read or decoded.
    pub unreadable: u64,
}

/// The C2PA findings as stored: `inspect`'s object plus the failure codes.
fn c2pa_json(c: &pharos_media::C2pa) -> Result<String> {
    let mut v = serde_json::to_value(c)?;
    if let Some(o) = v.as_object_mut() {
        o.insert("failures".into(), serde_json::json!(c.failures));
    }
    Ok(v.to_string())
}

/// How many refused or unreadable references `scan` names on stderr.
const SHOWN: usize = 50;

fn scan(args: ScanArgs, global: &Global) -> Result<ExitCode> {
    use pharos_store::Store;
    let store = pharos_store::AnyStore::open_existing(&args.store.store)?;
    let fetcher = if args.fetch {
        let cache = args
            .cache
            .clone()
            .unwrap_or_else(|| args.store.store.beside("media-cache"));
        Some(pharos_media::fetch::Fetcher::new(
            pharos_media::fetch::FetchOptions {
                allow: args.fetch_allow.clone(),
                max_bytes: args.fetch_max_bytes,
                timeout: std::time::Duration::from_secs(args.fetch_timeout.max(1)),
                cache,
            },
        )?)
    } else {
        None
    };
    let (sum, problems) = scan_store(&store, &args.root, fetcher.as_ref())?;
    for p in &problems {
        eprintln!("pharos: {p}");
    }
    let failed = sum.refused + sum.unreadable + sum.fetch_failed;
    if failed > problems.len() as u64 {
        eprintln!(
            "pharos: ... and {} more references refused or unreadable",
            failed - problems.len() as u64
        );
    }
    if args.json {
        println!("{}", serde_json::to_string(&sum)?);
    } else if !global.quiet || failed > 0 {
        println!(
            "{} posts with media: {} references hashed ({} files) into {}; {} remote downloaded, {} failed to download, {} remote (not downloaded), {} not images, {} refused or missing, {} unreadable",
            sum.posts_with_media,
            sum.hashed,
            sum.files,
            store.location(),
            sum.fetched,
            sum.fetch_failed,
            sum.remote,
            sum.not_images,
            sum.refused,
            sum.unreadable
        );
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `pharos media scan`'s work (also run by `pharos demo`): hashes the
/// files the store's posts (and their accounts' profile pictures)
/// reference under `root`, and the remote ones `fetcher` may download,
/// into the store; returns the summary and the first refused, unreadable
/// or failed references, named.
pub fn scan_store(
    store: &pharos_store::AnyStore,
    root: &std::path::Path,
    fetcher: Option<&pharos_media::fetch::Fetcher>,
) -> Result<(ScanSummary, Vec<String>)> {
    use pharos_core::MediaKind;
    use pharos_media::scan::{is_remote, resolve_under};
    use pharos_store::{MediaHashes, MediaRecord, PostFilter, Store};
    use std::collections::HashMap;

    let root_arg = root;
    let root = std::fs::canonicalize(root_arg)
        .map_err(|e| anyhow::anyhow!("--root {}: {e}", root_arg.display()))?;
    if !root.is_dir() {
        anyhow::bail!("--root {}: not a folder", root_arg.display());
    }
    let mut sum = ScanSummary::default();
    let mut problems: Vec<String> = Vec::new();
    // (platform, post id, reference, file index)
    let mut refs: Vec<(String, String, String, usize)> = Vec::new();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut file_index: HashMap<PathBuf, usize> = HashMap::new();
    // Profile pictures: one record per account and picture, on the first
    // post that shows it (the assessment reads them by platform and reference).
    let mut avatars_seen: std::collections::HashSet<(String, String, String)> =
        std::collections::HashSet::new();
    // (platform, post id, URL) of remote images to download.
    let mut remote: Vec<(String, String, String)> = Vec::new();
    store.scan(&PostFilter::default(), &mut |post| {
        if post.media.iter().any(|m| !m.url.is_empty()) {
            sum.posts_with_media += 1;
        }
        let mut references: Vec<(&str, bool)> = post
            .media
            .iter()
            .map(|m| {
                let image = matches!(m.kind, MediaKind::Photo | MediaKind::Sticker)
                    || pharos_media::is_image_path(std::path::Path::new(&m.url));
                (m.url.as_str(), image)
            })
            .collect();
        if let Some(a) = post.actor.avatar.as_deref().filter(|a| !a.is_empty())
            && !post.media.iter().any(|m| m.url == a)
            && avatars_seen.insert((post.platform.clone(), post.actor.id.clone(), a.to_string()))
        {
            references.push((a, true));
        }
        for (url, image) in references {
            if url.is_empty() {
                continue;
            }
            let far = is_remote(url);
            if far && fetcher.is_none() {
                sum.remote += 1;
                continue;
            }
            // A remote reference's image extension is before its query.
            let image = image
                || (far
                    && pharos_media::is_image_path(std::path::Path::new(
                        url.split(['?', '#']).next().unwrap_or(url),
                    )));
            if !image {
                sum.not_images += 1;
                continue;
            }
            if far {
                remote.push((post.platform.clone(), post.id.clone(), url.to_string()));
                continue;
            }
            match resolve_under(&root, url) {
                Ok(path) => {
                    let next = files.len();
                    let i = *file_index.entry(path.clone()).or_insert(next);
                    if i == next {
                        files.push(path);
                    }
                    refs.push((post.platform.clone(), post.id.clone(), url.to_string(), i));
                }
                Err(e) => {
                    sum.refused += 1;
                    if problems.len() < SHOWN {
                        problems.push(format!(
                            "{}/{}: media {:?}: {e}",
                            post.platform, post.id, url
                        ));
                    }
                }
            }
        }
        std::ops::ControlFlow::Continue(())
    })?;
    // Remote images: each URL downloaded once (or read from the cache),
    // then hashed as the local files are.
    if let Some(f) = fetcher {
        let mut done: HashMap<String, Result<PathBuf, pharos_media::fetch::FetchError>> =
            HashMap::new();
        for (platform, post_id, url) in remote {
            let got = done.entry(url.clone()).or_insert_with(|| f.fetch(&url));
            match got {
                Ok(path) => {
                    sum.fetched += 1;
                    let next = files.len();
                    let i = *file_index.entry(path.clone()).or_insert(next);
                    if i == next {
                        files.push(path.clone());
                    }
                    refs.push((platform, post_id, url, i));
                }
                Err(pharos_media::fetch::FetchError::NotAllowed(_)) => sum.remote += 1,
                Err(e) => {
                    sum.fetch_failed += 1;
                    if problems.len() < SHOWN {
                        problems.push(format!("{platform}/{post_id}: media {url:?}: {e}"));
                    }
                }
            }
        }
    }
    // Each distinct file once, in parallel, within `inspect`'s limits.
    let inspected = pharos_media::scan::inspect_files(&files);
    let now = pharos_core::time::now_ms();
    let mut records = Vec::with_capacity(refs.len());
    for (platform, post_id, url, i) in refs {
        match &inspected[i] {
            Ok(ins) => records.push(MediaRecord {
                platform,
                post_id,
                url,
                sha256: ins.sha256.clone(),
                pdq: ins.pdq.to_string(),
                quality: ins.quality,
                width: ins.width,
                height: ins.height,
                c2pa: ins.c2pa.as_ref().map(c2pa_json).transpose()?,
                xmp_source_type: ins.xmp_digital_source_type.clone(),
                scanned_ms: now,
            }),
            Err(e) => {
                sum.unreadable += 1;
                if problems.len() < SHOWN {
                    let e = e.to_string();
                    let e = e
                        .strip_prefix(&format!("{}: ", files[i].display()))
                        .unwrap_or(&e);
                    problems.push(format!("{platform}/{post_id}: media {url:?}: {e}"));
                }
            }
        }
    }
    sum.files = inspected.iter().filter(|r| r.is_ok()).count() as u64;
    for chunk in records.chunks(1000) {
        sum.hashed += store.save_media(chunk)?;
    }
    Ok((sum, problems))
}
