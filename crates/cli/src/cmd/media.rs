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

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    match args.command {
        MediaCommand::Inspect(a) => inspect(a),
        MediaCommand::Match(a) => matches(a, global),
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
