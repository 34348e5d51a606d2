//! Importers: everything that turns a source file or feed into canonical
//! [`Post`]s.
//!
//! The spine is the same for every format (sources → normalise → posts):
//!
//! - [`input`]: opens files (transparently gunzipping `.gz`) and names them.
//! - [`archive`]: `.tar`, `.tar.gz`/`.tgz` and `.zip` read as the files they hold.
//! - [`detect`]: guesses the format of a file from its name and first bytes.
//! - [`formats`]: one module per source format; each reads records and hands
//!   draft posts or [`Rejection`]s to a sink, never stopping on a bad record.
//! - [`normalize`]: checks required fields and fills derived ones (link
//!   normal forms, domains, lowercase hashtags, detected language).
//! - [`limits`]: the caps on lines, records, documents and posts that keep
//!   every reader linear in time and bounded in memory.
//! - [`quarantine`]: where rejected records go (JSONL: file, line, reason, raw record).
//! - [`check`]: the properties every importer keeps on any input (what the
//!   fuzz targets and property tests check).
//! - [`feed`]: polling RSS/Atom feeds over HTTP with conditional GET.
//!
//! Callers use [`read_path`] (or [`read_reader`]) with a sink closure; the
//! CLI connects that sink to the store.

pub mod archive;
pub mod check;
pub mod detect;
pub mod feed;
pub mod formats;
pub mod input;
pub mod limits;
pub mod load;
pub mod normalize;
pub mod quarantine;
pub mod watch;

use pharos_core::Post;
use serde::Serialize;
use std::io::BufRead;
use std::ops::ControlFlow;
use std::path::Path;

pub use detect::Format;
pub use formats::csv::{CsvOptions, Preset};
pub use quarantine::Quarantine;

/// A record that could not become a post, with where it was and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Rejection {
    /// File path or feed URL.
    pub file: String,
    /// 1-based line, where the format is line-oriented.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// 1-based record number, where records are not lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<u64>,
    /// What was wrong, in words a user can act on.
    pub reason: String,
    /// The raw record (lossily decoded when it was not UTF-8), cut at 64 KiB.
    pub raw: String,
}

impl Rejection {
    pub fn new(
        file: &str,
        line: Option<u64>,
        record: Option<u64>,
        reason: impl Into<String>,
        raw: impl Into<String>,
    ) -> Self {
        let mut raw: String = raw.into();
        let keep = pharos_core::quarantine::cut_raw(&raw).len();
        raw.truncate(keep);
        Rejection {
            file: file.to_string(),
            line,
            record,
            reason: reason.into(),
            raw,
        }
    }

    /// `file:line` or `file record N`, for messages.
    pub fn location(&self) -> String {
        match (self.line, self.record) {
            (Some(l), _) => format!("{}:{}", self.file, l),
            (None, Some(r)) => format!("{} record {}", self.file, r),
            _ => self.file.clone(),
        }
    }
}

/// What a format reader hands to its sink.
#[derive(Debug)]
pub enum Item {
    Post(Box<Post>),
    Rejected(Rejection),
}

/// The sink of a reader: return `ControlFlow::Break(())` to stop reading.
pub type Sink<'a> = dyn FnMut(Item) -> ControlFlow<()> + 'a;

/// Options shared by all importers.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Format to read; `Auto` guesses from the file name and content.
    pub format: Format,
    /// Platform for records whose source does not say (CSV without a
    /// platform column, RSS); each format has its own default.
    pub platform: Option<String>,
    /// CSV column mapping and preset.
    pub csv: CsvOptions,
    /// Detect the language of posts that have none (on by default in
    /// [`Options::new`]; off makes parsing faster for benchmarks).
    pub detect_language: bool,
}

impl Options {
    pub fn new() -> Self {
        Options {
            detect_language: true,
            ..Default::default()
        }
    }
}

/// Errors that stop a whole file (the file cannot be opened or its format
/// is unknown). Bad records never produce these: they become [`Rejection`]s.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: cannot tell the format ({why}); name it with --format")]
    UnknownFormat { path: String, why: String },
    #[error("{0}")]
    Options(String),
    #[error("{path}: {why}")]
    Archive { path: String, why: String },
}

/// Reads one file, normalising every post and handing posts and rejections to `sink`.
pub fn read_path(path: &Path, opts: &Options, sink: &mut Sink<'_>) -> Result<(), IngestError> {
    if let Some(kind) = archive::kind(path) {
        return archive::read(path, kind, opts, &archive::Limits::default(), sink);
    }
    let name = path.display().to_string();
    let mut reader = input::open(path).map_err(|source| IngestError::Open {
        path: name.clone(),
        source,
    })?;
    let format = match opts.format {
        Format::Auto => {
            detect::detect(path, &mut reader).map_err(|why| IngestError::UnknownFormat {
                path: name.clone(),
                why,
            })?
        }
        f => f,
    };
    read_reader(&mut reader, &name, format, opts, sink)
}

/// Reads from an open reader in a known format (not `Auto`).
pub fn read_reader(
    reader: &mut dyn BufRead,
    source: &str,
    format: Format,
    opts: &Options,
    sink: &mut Sink<'_>,
) -> Result<(), IngestError> {
    let detect_language = opts.detect_language;
    let mut wrapped = |item: Item| match item {
        Item::Post(mut post) => match normalize::normalize(&mut post, detect_language) {
            Ok(()) => sink(Item::Post(post)),
            Err(reason) => sink(Item::Rejected(Rejection::new(
                source,
                post.provenance.line,
                post.provenance.record,
                reason,
                serde_json::to_string(&post).unwrap_or_default(),
            ))),
        },
        rejected => sink(rejected),
    };
    match format {
        Format::Auto => {
            return Err(IngestError::Options(
                "read_reader needs a concrete format".into(),
            ));
        }
        Format::Jsonl => formats::canonical::read(reader, source, &mut wrapped),
        Format::TwitterV2 => formats::twitter_v2::read(reader, source, &mut wrapped),
        Format::Telegram => formats::telegram::read(reader, source, &mut wrapped),
        Format::TelegramDump => formats::telegram_dump::read(reader, source, &mut wrapped),
        Format::Csv => formats::csv::read(reader, source, opts, &mut wrapped)?,
        Format::Rss => formats::rss::read(reader, source, opts, &mut wrapped),
    }
    Ok(())
}
