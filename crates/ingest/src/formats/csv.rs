//! CSV (and TSV) exports, read through a column mapping.
//!
//! Every CSV tool names its columns differently, so a CSV file is read
//! through a mapping from Pharos *fields* to the file's *columns*. The
//! fields are fixed (they are part of the command line: `--map field=column`):
//!
//! `id, platform, actor_id, actor_handle, actor_name, actor_created,
//! followers, following, time, text, lang, urls, hashtags, mentions,
//! reply_to, reshare_of, quote_of, media, likes, reshares, replies, views`
//!
//! The mapping is built in layers, later layers winning:
//!
//! 1. without a preset, every field reads the column of the same name when
//!    the header has one (so a CSV written with Pharos' own field names needs
//!    no options); when the header matches one of the presets below exactly,
//!    that preset is used instead;
//! 2. a [`Preset`] (`--preset coortweet|qut|crowdtangle|4cat`);
//! 3. `field=column` pairs ([`CsvOptions::map`], `--map`); `field=` (empty
//!    column) removes a field from the mapping.
//!
//! Header names are matched exactly first, then ignoring ASCII case and
//! surrounding space. A column named by `--map` that the header lacks is an
//! error for the whole file ([`IngestError::Options`]), reported before any
//! record is read; so is a preset whose required columns are missing.
//!
//! Values:
//! - `time` takes whatever [`EventTime::parse`] accepts (epoch seconds or
//!   milliseconds, ISO 8601, `YYYY-MM-DD HH:MM:SS`, zone abbreviations); a
//!   time without a zone is UTC. A row with a bad or empty time is rejected
//!   (the reason names the column and the value) and reading goes on.
//! - `lang` may hold codes (`en`, `rus`, `en-GB`) or English names
//!   (`English`, `Russian`): see [`pharos_core::lang::normalize_lang`].
//! - List fields (`urls, hashtags, mentions, media`) are split on white
//!   space and commas. When `urls`, `hashtags` or `mentions` is not mapped,
//!   it is extracted from `text` ([`pharos_core::text`]).
//! - Counts (`followers, following, likes, reshares, replies, views`)
//!   accept `1,234`, `1 234` and `12.0`; anything else is left unknown.
//! - `platform`: the row's platform column when mapped and not empty, else
//!   [`Options::platform`] (`--platform`), else the preset's default
//!   (coortweet, qut: `twitter`; crowdtangle: `facebook`, or `instagram`
//!   for CrowdTangle Instagram exports; 4cat: `unknown`), else `unknown`.
//! - `id`: when the file has no id column (or the row's id is empty) the id
//!   is derived from the row: the first 16 bytes, in hex, of the SHA-256 of
//!   the row's fields, each followed by the byte 0x1F. Re-reading the same
//!   file gives the same ids, so the store deduplicates re-ingested files.
//!
//! Rows with the wrong number of fields (including a truncated last row),
//! invalid UTF-8 in any field, or a bad time become [`Rejection`]s with the
//! 1-based line number where the row starts (lines are counted by LF, as
//! `sed -n 12p` and editors count them; a lone CR ends a row for the csv
//! parser but not a line) and the raw row. A read error
//! (a truncated `.gz`) is one rejection and ends the file.
//!
//! The delimiter is `,`, or TAB for files named `*.tsv` / `*.tsv.gz`, unless
//! [`CsvOptions::delimiter`] says otherwise.

use crate::limits::MAX_RECORD_BYTES;
use crate::{IngestError, Item, Options, Rejection, Sink};
use pharos_core::lang::normalize_lang;
use pharos_core::{EventTime, Media, MediaKind, Post, Provenance};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{BufRead, Read};
use std::rc::Rc;
use std::str::FromStr;

/// A field of the canonical post that a CSV column can fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Id,
    Platform,
    ActorId,
    ActorHandle,
    ActorName,
    ActorCreated,
    Followers,
    Following,
    Time,
    Text,
    Lang,
    Urls,
    Hashtags,
    Mentions,
    ReplyTo,
    ReshareOf,
    QuoteOf,
    Media,
    Likes,
    Reshares,
    Replies,
    Views,
}

impl Field {
    /// Every field, in the order of [`Field::NAMES`].
    pub const ALL: [Field; 22] = [
        Field::Id,
        Field::Platform,
        Field::ActorId,
        Field::ActorHandle,
        Field::ActorName,
        Field::ActorCreated,
        Field::Followers,
        Field::Following,
        Field::Time,
        Field::Text,
        Field::Lang,
        Field::Urls,
        Field::Hashtags,
        Field::Mentions,
        Field::ReplyTo,
        Field::ReshareOf,
        Field::QuoteOf,
        Field::Media,
        Field::Likes,
        Field::Reshares,
        Field::Replies,
        Field::Views,
    ];

    /// The names `--map` takes.
    pub const NAMES: [&'static str; 22] = [
        "id",
        "platform",
        "actor_id",
        "actor_handle",
        "actor_name",
        "actor_created",
        "followers",
        "following",
        "time",
        "text",
        "lang",
        "urls",
        "hashtags",
        "mentions",
        "reply_to",
        "reshare_of",
        "quote_of",
        "media",
        "likes",
        "reshares",
        "replies",
        "views",
    ];

    pub fn name(self) -> &'static str {
        Field::NAMES[self as usize]
    }

    pub fn parse(name: &str) -> Option<Field> {
        let n = name.trim();
        Field::NAMES
            .iter()
            .position(|f| f.eq_ignore_ascii_case(n))
            .map(|i| Field::ALL[i])
    }
}

/// Named column layouts of well-known CSV exports.
///
/// Each preset lists, per field, the columns it reads; when several are
/// listed, the first non-empty value wins for single-valued fields and all
/// of them are read for list fields (`urls`, `media`, ...). Columns marked
/// *required* must be in the header (or be replaced with `--map`).
///
/// - **`coortweet`** ([CooRTweet](https://github.com/nicolarighetti/CooRTweet)
///   input): `object_id, account_id, content_id, timestamp_share`, all
///   required. `id` = `content_id`, `actor_id` = `account_id`, `time` =
///   `timestamp_share` (epoch seconds). `object_id` is *the thing shared* —
///   a retweeted tweet's id, a URL or a hashtag, depending on how the data
///   was prepared — and is read as `reshare_of`, so that "accounts sharing
///   the same object" is "accounts resharing the same post" downstream;
///   remap it with `--map urls=object_id,reshare_of=` when the objects are
///   URLs. Platform `twitter`.
/// - **`qut`** (QUT Digital Media Research Centre's
///   [coordination-network-toolkit](https://github.com/QUT-Digital-Observatory/coordination-network-toolkit)
///   CSV): `message_id` (id, required), `user_id` (actor id, required),
///   `username` (handle), `repost_id` (reshare_of), `reply_id` (reply_to),
///   `message` (text), `timestamp` (required; epoch seconds), `urls`
///   (space-separated). Platform `twitter`.
/// - **`crowdtangle`** (CrowdTangle historical-data / list exports, Facebook
///   and Instagram): `Post Created` (time, required; e.g.
///   `2021-03-01 12:34:56 EST`), `URL` (the post's URL: its last path
///   segment is the id), `Facebook Id` then `User Name` (actor id),
///   `User Name` (handle), `Page Name` / `Group Name` / `Account` (actor
///   name), `Page Created` (actor_created), `Followers at Posting` then
///   `Likes at Posting` (followers), `Message` then `Description` (text),
///   `Link` and `Final Link` (urls), `Photo` (media, Instagram), `Likes`,
///   `Shares` (reshares), `Comments` (replies), `Post Views` then `Views`
///   (views), `Platform` (platform, when present). Other columns of the
///   export (`Page Category`, `Page Admin Top Country`, `Type`, `Total
///   Interactions`, `Love`, `Wow`, `Haha`, `Sad`, `Angry`, `Care`, `Image
///   Text`, `Link Text`, `Sponsor Id`, ...) are not read. Platform
///   `facebook`, or `instagram` when the header has `Account` and no
///   `Facebook Id` (the Instagram export).
/// - **`4cat`** ([4CAT](https://github.com/digitalmethodsinitiative/4cat)
///   dataset CSV, whose items always have `id, thread_id, author, body,
///   timestamp` and usually `unix_timestamp`): `id` (required),
///   `unix_timestamp` then `timestamp` (time, one required; 4CAT writes
///   `timestamp` as `YYYY-MM-DD HH:MM:SS`), `author_id` then `author`
///   (actor id, one required), `author` / `author_username` (handle),
///   `author_fullname` / `author_name` (name), `body` (text),
///   `language_guess` / `lang`, `urls`, `hashtags`, `mentions` (comma
///   separated), `images` (media), `reply_to`, `like_count` / `likes` /
///   `num_likes`, `retweet_count` / `shares` / `num_shares`, `reply_count`
///   / `num_comments` / `comments`, `impression_count` / `views`, and
///   `datasource` / `platform` for the platform (`twitterv2` becomes
///   `twitter`); without one the platform is `unknown` unless `--platform`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Preset {
    Coortweet,
    Qut,
    Crowdtangle,
    FourCat,
}

/// One field's columns in a preset.
struct PresetColumn {
    field: Field,
    columns: &'static [&'static str],
    required: bool,
}

const fn col(field: Field, columns: &'static [&'static str], required: bool) -> PresetColumn {
    PresetColumn {
        field,
        columns,
        required,
    }
}

const COORTWEET: &[PresetColumn] = &[
    col(Field::Id, &["content_id"], true),
    col(Field::ActorId, &["account_id"], true),
    col(Field::ReshareOf, &["object_id"], true),
    col(Field::Time, &["timestamp_share"], true),
];

const QUT: &[PresetColumn] = &[
    col(Field::Id, &["message_id"], true),
    col(Field::ActorId, &["user_id"], true),
    col(Field::ActorHandle, &["username"], false),
    col(Field::ReshareOf, &["repost_id"], false),
    col(Field::ReplyTo, &["reply_id"], false),
    col(Field::Text, &["message"], false),
    col(Field::Time, &["timestamp"], true),
    col(Field::Urls, &["urls"], false),
];

const CROWDTANGLE: &[PresetColumn] = &[
    col(Field::Platform, &["Platform"], false),
    col(Field::Id, &["URL"], false),
    col(Field::ActorId, &["Facebook Id", "User Name"], false),
    col(Field::ActorHandle, &["User Name"], false),
    col(
        Field::ActorName,
        &["Page Name", "Group Name", "Account"],
        false,
    ),
    col(Field::ActorCreated, &["Page Created"], false),
    col(
        Field::Followers,
        &["Followers at Posting", "Likes at Posting"],
        false,
    ),
    col(Field::Time, &["Post Created"], true),
    col(Field::Text, &["Message", "Description"], false),
    col(Field::Urls, &["Link", "Final Link"], false),
    col(Field::Media, &["Photo"], false),
    col(Field::Likes, &["Likes"], false),
    col(Field::Reshares, &["Shares"], false),
    col(Field::Replies, &["Comments"], false),
    col(Field::Views, &["Post Views", "Views"], false),
];

const FOURCAT: &[PresetColumn] = &[
    col(Field::Id, &["id"], true),
    col(Field::Platform, &["datasource", "platform"], false),
    col(Field::Time, &["unix_timestamp", "timestamp"], true),
    col(Field::ActorId, &["author_id", "author"], true),
    col(Field::ActorHandle, &["author", "author_username"], false),
    col(Field::ActorName, &["author_fullname", "author_name"], false),
    col(Field::Text, &["body"], false),
    col(Field::Lang, &["language_guess", "lang"], false),
    col(Field::Urls, &["urls"], false),
    col(Field::Hashtags, &["hashtags"], false),
    col(Field::Mentions, &["mentions"], false),
    col(Field::Media, &["images"], false),
    col(Field::ReplyTo, &["reply_to"], false),
    col(Field::Likes, &["like_count", "likes", "num_likes"], false),
    col(
        Field::Reshares,
        &["retweet_count", "shares", "num_shares"],
        false,
    ),
    col(
        Field::Replies,
        &["reply_count", "num_comments", "comments"],
        false,
    ),
    col(Field::Views, &["impression_count", "views"], false),
];

impl Preset {
    /// The names the command line takes.
    pub const NAMES: &'static [&'static str] = &["coortweet", "qut", "crowdtangle", "4cat"];

    /// Reads a preset name (`coortweet`, `qut`, `crowdtangle`, `4cat`; case
    /// does not matter).
    pub fn parse(name: &str) -> Result<Preset, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "coortweet" => Ok(Preset::Coortweet),
            "qut" | "coordination-network-toolkit" => Ok(Preset::Qut),
            "crowdtangle" => Ok(Preset::Crowdtangle),
            "4cat" | "fourcat" => Ok(Preset::FourCat),
            other => Err(format!(
                "unknown CSV preset {other:?}; one of {}",
                Preset::NAMES.join(", ")
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Preset::Coortweet => "coortweet",
            Preset::Qut => "qut",
            Preset::Crowdtangle => "crowdtangle",
            Preset::FourCat => "4cat",
        }
    }

    fn columns(self) -> &'static [PresetColumn] {
        match self {
            Preset::Coortweet => COORTWEET,
            Preset::Qut => QUT,
            Preset::Crowdtangle => CROWDTANGLE,
            Preset::FourCat => FOURCAT,
        }
    }

    /// The preset whose required columns a header has, when exactly the
    /// shape of a known export (used when neither a preset nor a map is given).
    pub fn detect(header: &[String]) -> Option<Preset> {
        let has = |c: &str| header.iter().any(|h| h.trim().eq_ignore_ascii_case(c));
        if ["object_id", "account_id", "content_id", "timestamp_share"]
            .iter()
            .all(|c| has(c))
        {
            return Some(Preset::Coortweet);
        }
        if [
            "message_id",
            "user_id",
            "repost_id",
            "reply_id",
            "timestamp",
        ]
        .iter()
        .all(|c| has(c))
        {
            return Some(Preset::Qut);
        }
        if has("Post Created") && has("User Name") {
            return Some(Preset::Crowdtangle);
        }
        if ["id", "thread_id", "author", "body", "timestamp"]
            .iter()
            .all(|c| has(c))
        {
            return Some(Preset::FourCat);
        }
        None
    }
}

impl FromStr for Preset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Preset::parse(s)
    }
}

/// How to read a CSV file: a preset and/or `field=column` pairs (pairs win).
#[derive(Clone, Debug, Default)]
pub struct CsvOptions {
    pub preset: Option<Preset>,
    /// `(field, column)` pairs; an empty column removes the field.
    pub map: Vec<(String, String)>,
    /// Field delimiter; default `,`, or TAB for `.tsv` files.
    pub delimiter: Option<u8>,
}

impl CsvOptions {
    /// Parses `field=column,field=column` (as `--map` takes it) into pairs,
    /// checking the field names. Column names are kept as written (trimmed).
    pub fn parse_map(spec: &str) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        for pair in spec.split(',') {
            if pair.trim().is_empty() {
                continue;
            }
            let Some((field, column)) = pair.split_once('=') else {
                return Err(format!(
                    "bad --map pair {:?}: write field=column (fields: {})",
                    pair.trim(),
                    Field::NAMES.join(", ")
                ));
            };
            let Some(f) = Field::parse(field) else {
                return Err(format!(
                    "unknown field {:?} in --map; fields are: {}",
                    field.trim(),
                    Field::NAMES.join(", ")
                ));
            };
            out.push((f.name().to_string(), column.trim().to_string()));
        }
        Ok(out)
    }
}

/// Resolved column plan for one file: for each field, the column indexes to read.
struct Plan {
    cols: [Vec<usize>; 22],
    default_platform: &'static str,
}

impl Plan {
    fn get(&self, f: Field) -> &[usize] {
        &self.cols[f as usize]
    }
    fn has(&self, f: Field) -> bool {
        !self.cols[f as usize].is_empty()
    }
}

/// Index of `name` in the header: exact match first, then ignoring case.
fn find_column(header: &[String], name: &str) -> Option<usize> {
    header.iter().position(|h| h == name).or_else(|| {
        let n = name.trim();
        header.iter().position(|h| h.trim().eq_ignore_ascii_case(n))
    })
}

fn build_plan(header: &[String], source: &str, opts: &Options) -> Result<Plan, IngestError> {
    let mut cols: [Vec<usize>; 22] = Default::default();
    let csv = &opts.csv;
    let preset = csv.preset.or_else(|| {
        if csv.map.is_empty() {
            Preset::detect(header)
        } else {
            None
        }
    });
    let mut default_platform = "unknown";
    match preset {
        None => {
            for f in Field::ALL {
                if let Some(i) = find_column(header, f.name()) {
                    cols[f as usize] = vec![i];
                }
            }
        }
        Some(p) => {
            default_platform = match p {
                Preset::Coortweet | Preset::Qut => "twitter",
                Preset::Crowdtangle => {
                    if find_column(header, "Account").is_some()
                        && find_column(header, "Facebook Id").is_none()
                    {
                        "instagram"
                    } else {
                        "facebook"
                    }
                }
                Preset::FourCat => "unknown",
            };
            let overridden = |f: Field| csv.map.iter().any(|(mf, _)| Field::parse(mf) == Some(f));
            for pc in p.columns() {
                let found: Vec<usize> = pc
                    .columns
                    .iter()
                    .filter_map(|c| find_column(header, c))
                    .collect();
                if found.is_empty() && pc.required && !overridden(pc.field) {
                    return Err(IngestError::Options(format!(
                        "{source}: CSV preset {} needs column {} (for {}), which the header lacks; header: {}; \
                         name the column with --map {}=COLUMN",
                        p.name(),
                        pc.columns
                            .iter()
                            .map(|c| format!("{c:?}"))
                            .collect::<Vec<_>>()
                            .join(" or "),
                        pc.field.name(),
                        header.join(","),
                        pc.field.name(),
                    )));
                }
                cols[pc.field as usize] = found;
            }
        }
    }
    for (field, column) in &csv.map {
        let Some(f) = Field::parse(field) else {
            return Err(IngestError::Options(format!(
                "unknown field {field:?} in --map; fields are: {}",
                Field::NAMES.join(", ")
            )));
        };
        if column.trim().is_empty() {
            cols[f as usize].clear();
            continue;
        }
        match find_column(header, column) {
            Some(i) => cols[f as usize] = vec![i],
            None => {
                return Err(IngestError::Options(format!(
                    "{source}: column {column:?} (mapped to {}) is not in the header: {}",
                    f.name(),
                    header.join(",")
                )));
            }
        }
    }
    let plan = Plan {
        cols,
        default_platform,
    };
    if !plan.has(Field::Time) {
        return Err(IngestError::Options(format!(
            "{source}: no time column; name it with --map time=COLUMN (header: {})",
            header.join(",")
        )));
    }
    if !plan.has(Field::ActorId) && !plan.has(Field::ActorHandle) {
        return Err(IngestError::Options(format!(
            "{source}: no account column; name it with --map actor_id=COLUMN or actor_handle=COLUMN (header: {})",
            header.join(",")
        )));
    }
    Ok(plan)
}

/// Whether the source name says TSV (`x.tsv`, `x.tsv.gz`).
fn is_tsv(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    let lower = lower.strip_suffix(".gz").unwrap_or(&lower);
    lower.ends_with(".tsv")
}

/// Line numbers from byte offsets.
///
/// The csv crate's line count does not advance over blank lines (and a
/// record's byte position is where the previous one ended, blank lines
/// included), so the reader below notes where each line break is as bytes
/// go through; a record's line is one plus the line breaks before its
/// first byte, blank lines skipped. Only the breaks of data read ahead but
/// not yet parsed are kept.
#[derive(Default)]
struct LineIndex {
    /// Line breaks not yet passed: (offset where the break starts — its
    /// `\r` for `\r\n` —, offset of its `\n`).
    pending: VecDeque<(u64, u64)>,
    /// Line breaks before the last record start asked about.
    passed: u64,
    /// Bytes read so far.
    read: u64,
    /// Whether the last byte read was `\r`.
    last_cr: bool,
    /// Offset where the record being read starts.
    record_start: u64,
    /// Set when a record grew past [`MAX_RECORD_BYTES`]: its line.
    too_long: Option<u64>,
}

impl LineIndex {
    /// 1-based line of a record whose position is `offset` (offsets must not go backwards).
    fn line_at(&mut self, mut offset: u64) -> u64 {
        while let Some(&(start, nl)) = self.pending.front() {
            if nl < offset {
                self.pending.pop_front();
                self.passed += 1;
            } else if start <= offset {
                // The record would start on a line break (a blank line, or the
                // `\n` of a `\r\n` whose `\r` ended the previous record): the
                // parser skips it.
                self.pending.pop_front();
                self.passed += 1;
                offset = nl + 1;
            } else {
                break;
            }
        }
        self.passed + 1
    }
    /// The line after everything read so far (for read errors).
    fn last_line(&self) -> u64 {
        self.passed + self.pending.len() as u64 + 1
    }
}

struct Counting<'a> {
    inner: &'a mut dyn BufRead,
    index: Rc<RefCell<LineIndex>>,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        {
            let mut idx = self.index.borrow_mut();
            if idx.read.saturating_sub(idx.record_start) > MAX_RECORD_BYTES {
                let start = idx.record_start;
                let line = idx.line_at(start);
                idx.too_long = Some(line);
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "record too long",
                ));
            }
        }
        let n = self.inner.read(buf)?;
        let mut idx = self.index.borrow_mut();
        let base = idx.read;
        for i in memchr::memchr_iter(b'\n', &buf[..n]) {
            let nl = base + i as u64;
            let cr = if i > 0 {
                buf[i - 1] == b'\r'
            } else {
                idx.last_cr
            };
            idx.pending.push_back((if cr { nl - 1 } else { nl }, nl));
        }
        if n > 0 {
            idx.last_cr = buf[n - 1] == b'\r';
        }
        idx.read += n as u64;
        Ok(n)
    }
}

/// Reads a CSV file through its mapping (see the module documentation).
pub fn read(
    reader: &mut dyn BufRead,
    source: &str,
    opts: &Options,
    sink: &mut Sink<'_>,
) -> Result<(), IngestError> {
    let delimiter = opts
        .csv
        .delimiter
        .unwrap_or(if is_tsv(source) { b'\t' } else { b',' });
    let lines = Rc::new(RefCell::new(LineIndex::default()));
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(Counting {
            inner: reader,
            index: Rc::clone(&lines),
        });
    let mut record = csv::ByteRecord::new();

    // Header.
    let header: Vec<String> = loop {
        match rdr.read_byte_record(&mut record) {
            Ok(false) => return Ok(()), // empty file: no records
            Ok(true) => {
                if record.len() == 1 && record[0].iter().all(|b| b.is_ascii_whitespace()) {
                    continue; // blank lines before the header
                }
                break record
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        let f = if i == 0 {
                            f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f)
                        } else {
                            f
                        };
                        String::from_utf8_lossy(f).trim().to_string()
                    })
                    .collect();
            }
            Err(e) => {
                return Err(IngestError::Options(format!(
                    "{source}: cannot read the CSV header: {e}"
                )));
            }
        }
    };
    lines.borrow_mut().record_start = rdr.position().byte();
    let plan = build_plan(&header, source, opts)?;
    let width = header.len();
    let platform_opt = opts
        .platform
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());

    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let start = record.position().map(|p| p.byte()).unwrap_or(0);
                let line = {
                    let mut idx = lines.borrow_mut();
                    idx.record_start = rdr.position().byte();
                    idx.line_at(start)
                };
                // A blank line is not a record.
                if record.len() == 1 && record[0].is_empty() {
                    continue;
                }
                let item = row_to_item(
                    &record,
                    line,
                    width,
                    &header,
                    &plan,
                    source,
                    platform_opt,
                    delimiter,
                );
                if sink(item).is_break() {
                    return Ok(());
                }
            }
            Err(e) => {
                let (line, io) = match e.kind() {
                    csv::ErrorKind::Io(_) => (Some(lines.borrow().last_line()), true),
                    _ => (
                        e.position().map(|p| lines.borrow_mut().line_at(p.byte())),
                        false,
                    ),
                };
                let too_long = lines.borrow().too_long;
                let (line, reason) = if let Some(at) = too_long {
                    (
                        Some(at),
                        format!(
                            "CSV record longer than the limit of {MAX_RECORD_BYTES} bytes (docs/limits.md; an unclosed quote?): the rest of the file is not read"
                        ),
                    )
                } else {
                    (line, String::new())
                };
                let reason = if !reason.is_empty() {
                    reason
                } else if io {
                    format!("read error (truncated or corrupt file?): {e}")
                } else {
                    format!("bad CSV row: {e}")
                };
                if sink(Item::Rejected(Rejection::new(
                    source, line, None, reason, "",
                )))
                .is_break()
                    || io
                {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// The row as it would be written back (for rejections).
fn raw_row(record: &csv::ByteRecord, delimiter: u8) -> String {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_byte_record(record);
    let mut bytes = w.into_inner().unwrap_or_default();
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Stable id of a row without one: SHA-256 of the fields (each followed by
/// 0x1F), first 16 bytes in hex.
pub fn derived_id(record: &csv::ByteRecord) -> String {
    let mut h = Sha256::new();
    for f in record.iter() {
        h.update(f);
        h.update([0x1f]);
    }
    hex::encode(&h.finalize()[..16])
}

#[allow(clippy::too_many_arguments)]
fn row_to_item(
    record: &csv::ByteRecord,
    line: u64,
    width: usize,
    header: &[String],
    plan: &Plan,
    source: &str,
    platform_opt: Option<&str>,
    delimiter: u8,
) -> Item {
    let reject = |reason: String| {
        Item::Rejected(Rejection::new(
            source,
            Some(line),
            None,
            reason,
            raw_row(record, delimiter),
        ))
    };
    if record.len() != width {
        return reject(format!(
            "wrong number of fields: expected {width} (as in the header), found {}",
            record.len()
        ));
    }
    // All fields must be UTF-8; the check is one pass over the row.
    if std::str::from_utf8(record.as_slice()).is_err() {
        let (i, err) = record
            .iter()
            .enumerate()
            .find_map(|(i, f)| std::str::from_utf8(f).err().map(|e| (i, e)))
            .expect("some field is not UTF-8");
        return reject(format!(
            "invalid UTF-8 in column {:?} at byte {}",
            header[i],
            err.valid_up_to()
        ));
    }
    let field = |i: usize| -> &str { std::str::from_utf8(&record[i]).unwrap_or("").trim() };
    // First non-empty value of a field, with its column index.
    let first = |f: Field| -> Option<(usize, &str)> {
        plan.get(f)
            .iter()
            .map(|&i| (i, field(i)))
            .find(|(_, v)| !v.is_empty())
    };
    let value = |f: Field| first(f).map(|(_, v)| v);

    let time = match first(Field::Time) {
        None => {
            let cols: Vec<&str> = plan
                .get(Field::Time)
                .iter()
                .map(|&i| header[i].as_str())
                .collect();
            return reject(format!("empty timestamp in column {:?}", cols.join("/")));
        }
        Some((i, v)) => match EventTime::parse(v) {
            Ok(t) => t,
            Err(e) => {
                return reject(format!(
                    "bad timestamp in column {:?}: {:?} ({})",
                    header[i], v, e.reason
                ));
            }
        },
    };

    let platform = match value(Field::Platform) {
        Some(p) => platform_name(p),
        None => platform_opt.unwrap_or(plan.default_platform).to_string(),
    };
    let id = match first(Field::Id) {
        Some((i, v)) if header[i].eq_ignore_ascii_case("URL") && v.contains("://") => {
            url_tail(v).to_string()
        }
        Some((_, v)) => v.to_string(),
        None => derived_id(record),
    };

    let mut post = Post {
        platform,
        id,
        time,
        provenance: Provenance {
            source: source.to_string(),
            line: Some(line),
            record: None,
        },
        ..Default::default()
    };
    let a = &mut post.actor;
    a.id = value(Field::ActorId).unwrap_or("").to_string();
    a.handle = value(Field::ActorHandle).map(str::to_string);
    a.name = value(Field::ActorName).map(str::to_string);
    a.created = value(Field::ActorCreated).and_then(|v| EventTime::parse(v).ok());
    a.followers = value(Field::Followers).and_then(count);
    a.following = value(Field::Following).and_then(count);

    post.text = value(Field::Text).unwrap_or("").to_string();
    post.lang = value(Field::Lang).and_then(normalize_lang);
    post.reply_to = value(Field::ReplyTo).map(str::to_string);
    post.reshare_of = value(Field::ReshareOf).map(str::to_string);
    post.quote_of = value(Field::QuoteOf).map(str::to_string);
    post.engagement.likes = value(Field::Likes).and_then(count);
    post.engagement.reshares = value(Field::Reshares).and_then(count);
    post.engagement.replies = value(Field::Replies).and_then(count);
    post.engagement.views = value(Field::Views).and_then(count);

    let list = |f: Field| -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for &i in plan.get(f) {
            for item in field(i).split(|c: char| c.is_whitespace() || c == ',') {
                if !item.is_empty() && !out.contains(&item) {
                    out.push(item);
                }
            }
        }
        out
    };
    if plan.has(Field::Urls) {
        for u in list(Field::Urls) {
            post.add_link(u);
        }
    } else {
        for u in pharos_core::text::urls(&post.text) {
            post.add_link(&u);
        }
    }
    post.hashtags = if plan.has(Field::Hashtags) {
        list(Field::Hashtags)
            .into_iter()
            .map(str::to_string)
            .collect()
    } else {
        pharos_core::text::hashtags(&post.text)
    };
    post.mentions = if plan.has(Field::Mentions) {
        list(Field::Mentions)
            .into_iter()
            .map(str::to_string)
            .collect()
    } else {
        pharos_core::text::mentions(&post.text)
    };
    post.media = list(Field::Media)
        .into_iter()
        .map(|u| Media {
            url: u.to_string(),
            kind: media_kind(u),
            hash: None,
            key: None,
        })
        .collect();
    Item::Post(Box::new(post))
}

/// Platform names as sources write them, in Pharos' form.
fn platform_name(p: &str) -> String {
    let lower = p.trim().to_ascii_lowercase();
    if lower.starts_with("twitter") || lower == "x" {
        "twitter".into()
    } else {
        lower
    }
}

/// Last non-empty path segment of a URL (a Facebook post URL's post id).
fn url_tail(url: &str) -> &str {
    let no_query = url.split(['?', '#']).next().unwrap_or(url);
    no_query
        .rsplit('/')
        .find(|s| !s.is_empty())
        .filter(|s| !s.contains(':'))
        .unwrap_or(url)
}

/// A count: `1234`, `1,234`, `1 234`, `12.0`; `None` otherwise.
fn count(v: &str) -> Option<u64> {
    if let Ok(n) = v.parse::<u64>() {
        return Some(n);
    }
    let digits: String = v
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '\u{a0}' | '_'))
        .collect();
    if let Ok(n) = digits.parse::<u64>() {
        return Some(n);
    }
    match digits.parse::<f64>() {
        Ok(f) if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 => Some(f as u64),
        _ => None,
    }
}

/// Media kind from a file extension in the URL, or a hash (`phash:...`).
fn media_kind(url: &str) -> MediaKind {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    match path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()) {
        Some(e) if matches!(e.as_str(), "jpg" | "jpeg" | "png" | "webp" | "heic") => {
            MediaKind::Photo
        }
        Some(e) if e == "gif" => MediaKind::Animation,
        Some(e) if matches!(e.as_str(), "mp4" | "mov" | "webm" | "m3u8") => MediaKind::Video,
        Some(e) if matches!(e.as_str(), "mp3" | "ogg" | "m4a" | "wav") => MediaKind::Audio,
        Some(e) if e == "pdf" => MediaKind::Document,
        _ => MediaKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_parsing() {
        let m = CsvOptions::parse_map("id=post_id, actor_id = account_id,time=timestamp").unwrap();
        assert_eq!(
            m,
            vec![
                ("id".to_string(), "post_id".to_string()),
                ("actor_id".to_string(), "account_id".to_string()),
                ("time".to_string(), "timestamp".to_string())
            ]
        );
        let e = CsvOptions::parse_map("id=a,author=b").unwrap_err();
        assert!(e.contains("unknown field \"author\""), "{e}");
        assert!(e.contains("actor_handle"), "lists the fields: {e}");
        assert!(CsvOptions::parse_map("id").is_err());
    }

    #[test]
    fn presets_and_helpers() {
        assert_eq!(Preset::parse("4CAT").unwrap(), Preset::FourCat);
        assert!(Preset::parse("nope").unwrap_err().contains("coortweet"));
        assert_eq!(
            url_tail("https://www.facebook.com/bbcnews/posts/10158977061962217"),
            "10158977061962217"
        );
        assert_eq!(
            url_tail("https://www.facebook.com/groups/1/permalink/22/?x=1"),
            "22"
        );
        assert_eq!(count("1,234"), Some(1234));
        assert_eq!(count("12.0"), Some(12));
        assert_eq!(count("n/a"), None);
        assert_eq!(media_kind("https://x/y.JPG?s=1"), MediaKind::Photo);
        assert!(is_tsv("a/b.TSV.gz"));
        assert!(!is_tsv("a/b.csv"));
    }
}
