//! Quarantine: records an import could not use, kept so nothing is lost
//! silently. The one quarantine writer of Pharos: posts (`pharos ingest`,
//! HTTP ingest, feeds, STIX import) and the fact-check library write
//! through it.
//!
//! One JSON object a line, appended: the record's fields as the caller
//! serialises them (posts: `{"file", "line"?, "record"?, "reason", "raw"}`;
//! the library adds `"format"`), plus `"at"`, when it was quarantined
//! (RFC 3339, wall clock). Keys are written in sorted order.

use crate::{EventTime, now_ms};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Raw records are kept up to this many bytes (cut at a character boundary).
pub const RAW_MAX: usize = 65_536;

/// `raw` cut to at most [`RAW_MAX`] bytes, at a character boundary.
pub fn cut_raw(raw: &str) -> &str {
    if raw.len() <= RAW_MAX {
        return raw;
    }
    let mut cut = RAW_MAX;
    while !raw.is_char_boundary(cut) {
        cut -= 1;
    }
    &raw[..cut]
}

/// Appends quarantined records to a JSONL file and counts them by reason.
pub struct Quarantine {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    count: u64,
    by_reason: BTreeMap<String, u64>,
}

impl Quarantine {
    /// A quarantine that writes to `path` (created, with its directory, at
    /// the first record).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Quarantine {
            path: path.into(),
            out: None,
            count: 0,
            by_reason: BTreeMap::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one record: `record` must serialise to a JSON object; its
    /// `reason` field (a string) is what [`Quarantine::by_reason`] counts.
    pub fn put(&mut self, record: &impl Serialize) -> io::Result<()> {
        let serde_json::Value::Object(obj) =
            serde_json::to_value(record).map_err(io::Error::other)?
        else {
            return Err(io::Error::other("a quarantined record is a JSON object"));
        };
        // Sorted here, not by serde_json's map: another crate in the build
        // may turn on its `preserve_order` feature, which keeps insertion order.
        let mut v: BTreeMap<String, serde_json::Value> = obj.into_iter().collect();
        let class = reason_class(v.get("reason").and_then(|r| r.as_str()).unwrap_or(""));
        v.insert("at".into(), EventTime(now_ms()).to_rfc3339().into());
        if self.out.is_none() {
            if let Some(dir) = self.path.parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir)?;
            }
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?;
            self.out = Some(BufWriter::new(f));
        }
        let out = self.out.as_mut().expect("opened above");
        serde_json::to_writer(&mut *out, &v).map_err(io::Error::other)?;
        out.write_all(b"\n")?;
        self.count += 1;
        *self.by_reason.entry(class).or_default() += 1;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        match self.out.as_mut() {
            Some(o) => o.flush(),
            None => Ok(()),
        }
    }

    /// Records written by this value.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Counts by reason class (see [`reason_class`]).
    pub fn by_reason(&self) -> &BTreeMap<String, u64> {
        &self.by_reason
    }
}

impl Drop for Quarantine {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Groups reasons for summaries: the reason up to its first `:`, so "bad
/// JSON: expected value at line 1 column 5" becomes "bad JSON".
pub fn reason_class(reason: &str) -> String {
    let cut = reason.find(':').unwrap_or(reason.len());
    reason[..cut].trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Rec<'a> {
        file: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        line: Option<u64>,
        reason: &'a str,
        raw: &'a str,
    }

    #[test]
    fn appends_one_sorted_object_a_line_and_counts_reasons() {
        let dir = std::env::temp_dir().join(format!("pharos-q-{}", std::process::id()));
        let path = dir.join("sub").join("quarantine.jsonl");
        let _ = std::fs::remove_dir_all(&dir);
        let mut q = Quarantine::new(&path);
        assert!(!path.exists(), "created at the first record");
        for (line, reason) in [
            (Some(3), "bad JSON: eof"),
            (None, "bad JSON: x"),
            (Some(9), "missing id"),
        ] {
            q.put(&Rec {
                file: "a.jsonl",
                line,
                reason,
                raw: "{",
            })
            .unwrap();
        }
        q.flush().unwrap();
        drop(q);
        let mut again = Quarantine::new(&path);
        again
            .put(&Rec {
                file: "b",
                line: None,
                reason: "r",
                raw: "",
            })
            .unwrap();
        drop(again);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "appended, never truncated");
        assert!(lines[0].starts_with(r#"{"at":""#), "{}", lines[0]);
        assert!(
            lines[0].ends_with(r#""file":"a.jsonl","line":3,"raw":"{","reason":"bad JSON: eof"}"#)
        );
        assert!(!lines[1].contains("\"line\""));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn counts_by_class_and_cuts_raw_at_a_char_boundary() {
        let mut q = Quarantine::new(
            std::env::temp_dir().join(format!("pharos-q2-{}/q.jsonl", std::process::id())),
        );
        q.put(&Rec {
            file: "f",
            line: None,
            reason: "bad JSON: a",
            raw: "",
        })
        .unwrap();
        q.put(&Rec {
            file: "f",
            line: None,
            reason: "bad JSON: b",
            raw: "",
        })
        .unwrap();
        assert_eq!(q.count(), 2);
        assert_eq!(q.by_reason().get("bad JSON"), Some(&2));
        assert!(q.put(&"not an object").is_err());
        let _ = std::fs::remove_dir_all(q.path().parent().unwrap());
        let long = "é".repeat(RAW_MAX);
        let cut = cut_raw(&long);
        assert!(cut.len() <= RAW_MAX && cut.len() >= RAW_MAX - 1);
        assert_eq!(cut_raw("abc"), "abc");
    }
}
