//! Guessing a file's format from its name and first bytes.

use crate::input::logical_name;
use std::io::BufRead;
use std::path::Path;

/// Source formats Pharos reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// Guess from the file name and content.
    #[default]
    Auto,
    /// Canonical Pharos JSONL (one [`pharos_core::Post`] a line).
    Jsonl,
    /// Twitter/X API v2: response pages or flattened tweets, one JSON object a line.
    TwitterV2,
    /// Telegram Desktop export (`result.json`): one chat or a full export.
    Telegram,
    /// JSON array of channel messages (`message_id, sender_id, text, date, channel`).
    TelegramDump,
    /// CSV with a preset or a column mapping.
    Csv,
    /// RSS 2.0, RSS 1.0 or Atom.
    Rss,
}

impl Format {
    /// The names the command line takes.
    pub const NAMES: &'static [&'static str] = &[
        "auto",
        "jsonl",
        "twitter-v2",
        "telegram",
        "telegram-dump",
        "csv",
        "rss",
    ];

    pub fn parse(name: &str) -> Option<Format> {
        Some(match name.to_ascii_lowercase().as_str() {
            "auto" => Format::Auto,
            "jsonl" | "canonical" | "ndjson" => Format::Jsonl,
            "twitter-v2" | "twitter" | "x" => Format::TwitterV2,
            "telegram" => Format::Telegram,
            "telegram-dump" => Format::TelegramDump,
            "csv" | "tsv" => Format::Csv,
            "rss" | "atom" | "feed" => Format::Rss,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Jsonl => "jsonl",
            Format::TwitterV2 => "twitter-v2",
            Format::Telegram => "telegram",
            Format::TelegramDump => "telegram-dump",
            Format::Csv => "csv",
            Format::Rss => "rss",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Format::parse(s)
            .ok_or_else(|| format!("unknown format {s:?}; one of {}", Format::NAMES.join(", ")))
    }
}

/// Guesses the format, peeking at the start of the reader without consuming it.
pub fn detect(path: &Path, reader: &mut dyn BufRead) -> Result<Format, String> {
    let name = logical_name(path);
    if name.ends_with(".csv") || name.ends_with(".tsv") {
        return Ok(Format::Csv);
    }
    if name.ends_with(".rss") || name.ends_with(".atom") || name.ends_with(".xml") {
        return Ok(Format::Rss);
    }
    let head = reader.fill_buf().map_err(|e| format!("read error: {e}"))?;
    let head = String::from_utf8_lossy(&head[..head.len().min(64 * 1024)]).into_owned();
    let trimmed = head.trim_start_matches('\u{feff}').trim_start();
    if trimmed.is_empty() {
        // An empty file: any line format reads it as zero records.
        return Ok(Format::Jsonl);
    }
    if trimmed.starts_with('<') {
        return Ok(Format::Rss);
    }
    if trimmed.starts_with('[') {
        if trimmed.contains("\"message_id\"") {
            return Ok(Format::TelegramDump);
        }
        return Err("a JSON array that is not a Telegram channel dump".into());
    }
    if trimmed.starts_with('{') {
        let first_line = trimmed.lines().next().unwrap_or("");
        // A Telegram Desktop export is one pretty-printed object.
        if first_line.trim() == "{" {
            if head.contains("\"messages\"") || head.contains("\"chats\"") {
                return Ok(Format::Telegram);
            }
            if name.ends_with("result.json") {
                return Ok(Format::Telegram);
            }
        }
        if first_line.contains("\"platform\"") && first_line.contains("\"actor\"") {
            return Ok(Format::Jsonl);
        }
        if first_line.contains("\"data\"")
            || first_line.contains("\"author_id\"")
            || first_line.contains("\"edit_history_tweet_ids\"")
        {
            return Ok(Format::TwitterV2);
        }
        if head.contains("\"messages\"") || head.contains("\"chats\"") {
            return Ok(Format::Telegram);
        }
        return Err(
            "JSON that is neither canonical JSONL, Twitter v2 nor a Telegram export".into(),
        );
    }
    if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
        return Ok(Format::Jsonl);
    }
    // Comma-separated header line?
    let first = trimmed.lines().next().unwrap_or("");
    if first.contains(',') || first.contains('\t') {
        return Ok(Format::Csv);
    }
    Err("unrecognised content".into())
}
