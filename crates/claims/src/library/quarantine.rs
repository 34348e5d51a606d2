//! The library's quarantine: records an import could not use.
//!
//! `DIR/quarantine.jsonl`, one JSON object a line, appended by every import:
//! `{"file", "format", "line"?, "record"?, "reason", "raw", "at"}` (the same
//! shape as the posts quarantine, plus the format), written by the one
//! quarantine writer, `pharos_core::quarantine`.

use super::{ImportFormat, Rejected};
use pharos_core::quarantine::{Quarantine, cut_raw};
use serde::Serialize;

/// Appends rejected records to a JSONL file and counts them by reason.
pub type LibraryQuarantine = Quarantine;

/// One quarantined library record, as written.
#[derive(Serialize)]
struct Record<'a> {
    file: &'a str,
    format: ImportFormat,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<u64>,
    reason: &'a str,
    raw: &'a str,
}

/// Writes one rejected record of `file` (read as `format`).
pub(crate) fn put(
    q: &mut LibraryQuarantine,
    file: &str,
    format: ImportFormat,
    r: &Rejected,
) -> std::io::Result<()> {
    q.put(&Record {
        file,
        format,
        line: r.line,
        record: r.record,
        reason: &r.reason,
        raw: cut_raw(&r.raw),
    })
}
