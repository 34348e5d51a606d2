//! Outputs of an assessment: `incidents.json`, `alerts.jsonl` and the
//! reports (briefing, analyst report, recovery report) as self-contained
//! HTML and Markdown.

pub mod facts;
pub mod html;
pub mod md;
pub mod prebunk;
pub mod svg;

use crate::assess::{AssessError, Assessment};
use std::io::Write;
use std::path::{Path, PathBuf};

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), AssessError> {
    let err = |source| AssessError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut f = std::fs::File::create(path).map_err(err)?;
    f.write_all(bytes).map_err(err)?;
    f.flush().map_err(err)
}

/// Writes `incidents.json` (the incidents, most severe first),
/// `alerts.jsonl` (one notification a line, the latest state of each alert
/// that met a rule, in the `pharos assess --alerts-out` format),
/// `briefing.html`, `briefing.md`, `report.html` and `recovery.html` into
/// `dir` (created when missing); returns the paths written. `stix.json` is
/// written by the sharing crate.
pub fn write_outputs(dir: &Path, a: &Assessment) -> Result<Vec<PathBuf>, AssessError> {
    std::fs::create_dir_all(dir).map_err(|source| AssessError::Write {
        path: dir.display().to_string(),
        source,
    })?;
    let mut out = Vec::new();
    let path = dir.join("incidents.json");
    let json = serde_json::to_vec_pretty(&a.incidents).map_err(|e| AssessError::Write {
        path: path.display().to_string(),
        source: std::io::Error::other(e),
    })?;
    write_file(&path, &json)?;
    out.push(path);
    let path = dir.join("alerts.jsonl");
    let mut lines = String::new();
    for n in &a.alerts {
        lines.push_str(&n.to_json());
        lines.push('\n');
    }
    write_file(&path, lines.as_bytes())?;
    out.push(path);
    for (name, text) in [
        ("briefing.html", html::briefing(a)),
        ("briefing.md", md::briefing(a)),
        ("report.html", html::analyst(a)),
        ("recovery.html", html::recovery(a)),
    ] {
        let path = dir.join(name);
        write_file(&path, text.as_bytes())?;
        out.push(path);
    }
    if !a.prebunk.briefs.is_empty() {
        out.extend(write_prebunk(&dir.join("prebunk"), &a.prebunk)?);
    }
    Ok(out)
}

/// Writes the prebunk briefs into `dir` (created when missing):
/// `index.md`, `index.html`, and `<storyline>.md` / `.html` for each brief;
/// returns the paths written.
pub fn write_prebunk(
    dir: &Path,
    p: &crate::prebunk::brief::Prebunk,
) -> Result<Vec<PathBuf>, AssessError> {
    std::fs::create_dir_all(dir).map_err(|source| AssessError::Write {
        path: dir.display().to_string(),
        source,
    })?;
    let mut out = Vec::new();
    for (name, text) in [
        ("index.md".to_string(), prebunk::index_md(p)),
        ("index.html".to_string(), prebunk::index_html(p)),
    ]
    .into_iter()
    .chain(p.briefs.iter().flat_map(|b| {
        [
            (
                format!("{}.md", prebunk::stem(b)),
                prebunk::brief_md(b, p.horizon_days),
            ),
            (
                format!("{}.html", prebunk::stem(b)),
                prebunk::brief_html(b, p.horizon_days),
            ),
        ]
    })) {
        let path = dir.join(name);
        write_file(&path, text.as_bytes())?;
        out.push(path);
    }
    Ok(out)
}

/// The short summary `pharos assess --out` and `pharos demo` print: what
/// was read, each incident in one line (most severe first), and the files
/// written.
pub fn summary_text(a: &Assessment, written: &[PathBuf]) -> String {
    use std::fmt::Write as _;
    let s = &a.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} posts by {} accounts: {} incidents, {} alerts, {} coordination networks, {} claim matches",
        s.posts, s.accounts, s.incidents, s.alerts, s.networks, s.claim_matches
    );
    for (k, inc) in a.incidents.iter().enumerate() {
        let _ = writeln!(
            out,
            "{:>2}. severity {:.2} confidence {:.2}  {}  ({} posts, {} accounts, {})",
            k + 1,
            inc.severity.value,
            inc.confidence.value,
            inc.title,
            inc.posts.len(),
            inc.actors.len(),
            inc.platforms.keys().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    if !a.templates.is_empty() {
        let _ = writeln!(
            out,
            "shared-template networks (coordination evidence, DISARM T0092 Build Network): {}",
            a.templates.len()
        );
        for t in a.templates.iter().take(5) {
            let names: Vec<&str> = t
                .sources
                .iter()
                .take(8)
                .map(|x| x.name.as_deref().unwrap_or(&x.actor))
                .collect();
            let _ = writeln!(
                out,
                "    \u{201c}{}\u{201d}: {} accounts ({}), {} posts",
                t.text,
                t.sources.len(),
                names.join(", "),
                t.posts
            );
        }
    }
    if !a.ai_media.is_empty() {
        let posts: u64 = a.ai_media.iter().map(|m| m.post_count).sum();
        let signed = a
            .ai_media
            .iter()
            .filter(|m| m.ai == Some(crate::incident::AiDeclaration::SignedC2pa))
            .count();
        let _ = writeln!(
            out,
            "AI-declared media (DISARM T0086.002 / T0087.001): {} files in {} posts, {} in a valid C2PA manifest, {} only in XMP or a manifest that does not verify",
            a.ai_media.len(),
            posts,
            signed,
            a.ai_media.len() - signed
        );
    }
    for p in written {
        let _ = writeln!(out, "wrote {}", p.display());
    }
    out
}
