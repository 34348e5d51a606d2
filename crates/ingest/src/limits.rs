//! The caps every importer enforces, so that no input can take time or
//! memory beyond a linear bound (docs/limits.md lists them with what
//! happens past each one).
//!
//! - A **line** of a line-oriented format (canonical JSONL and the HTTP
//!   ingest body, Twitter v2) longer than [`MAX_LINE_BYTES`] is quarantined
//!   with its line number and length; reading goes on with the next line.
//!   The line is never held whole: at most [`MAX_LINE_BYTES`] of it are in
//!   memory, the rest is skipped as it is read.
//! - A **CSV record** longer than [`MAX_RECORD_BYTES`] ends the file with one
//!   rejection naming its line (a quoted field that never ends cannot be
//!   resynchronised); the records before it were read.
//! - A **document** format (Telegram Desktop export, Telegram channel dump)
//!   larger than [`MAX_DOCUMENT_BYTES`], or a feed document larger than
//!   [`MAX_FEED_BYTES`], is refused with one rejection naming the file,
//!   after reading at most that many bytes.
//! - A **post** whose text is longer than [`MAX_TEXT_BYTES`], or that has
//!   more than [`MAX_LINKS`] links, [`MAX_HASHTAGS`] hashtags,
//!   [`MAX_MENTIONS`] mentions or [`MAX_MEDIA`] media, or an id, actor id,
//!   handle or reference longer than [`MAX_ID_BYTES`], is quarantined by the
//!   normaliser with the cap it broke.
//!
//! Gzip input is decompressed as it is read, so these caps hold for `.gz`
//! files too: a small file that expands to gigabytes costs time to skip,
//! never memory.

/// Longest line of a line-oriented format: 16 MiB.
pub const MAX_LINE_BYTES: usize = 16 << 20;
/// Longest CSV record (all its fields, as written): 16 MiB.
pub const MAX_RECORD_BYTES: u64 = 16 << 20;
/// Largest Telegram export or channel dump read into memory: 512 MiB.
pub const MAX_DOCUMENT_BYTES: u64 = 512 << 20;
/// Largest RSS/Atom document (file or feed body): 32 MiB.
pub const MAX_FEED_BYTES: u64 = 32 << 20;
/// Longest post text: 1 MiB (UTF-8 bytes).
pub const MAX_TEXT_BYTES: usize = 1 << 20;
/// Most links per post.
pub const MAX_LINKS: usize = 1_000;
/// Most hashtags per post.
pub const MAX_HASHTAGS: usize = 1_000;
/// Most mentions per post.
pub const MAX_MENTIONS: usize = 1_000;
/// Most media per post.
pub const MAX_MEDIA: usize = 1_000;
/// Longest id, actor id, handle, name, platform or reference (reply, reshare, quote): 4 KiB.
pub const MAX_ID_BYTES: usize = 4 << 10;
