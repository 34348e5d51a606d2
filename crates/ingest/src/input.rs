//! Opening inputs: plain files, gzip files (`.gz`), standard input (`-`).

use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// Opens `path` for reading; `.gz` files are decompressed on the fly and `-` is standard input.
pub fn open(path: &Path) -> io::Result<Box<dyn BufRead>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufReader::with_capacity(1 << 20, io::stdin())));
    }
    let file = File::open(path)?;
    if is_gzip(path) {
        Ok(Box::new(BufReader::with_capacity(
            1 << 20,
            MultiGzDecoder::new(BufReader::with_capacity(1 << 16, file)),
        )))
    } else {
        Ok(Box::new(BufReader::with_capacity(1 << 20, file)))
    }
}

/// The file name without a trailing `.gz`, lowercased, for format detection.
pub fn logical_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    name.strip_suffix(".gz").map(str::to_string).unwrap_or(name)
}

fn is_gzip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// Reads the whole input into memory (for formats that are one JSON or XML
/// document), at most `max` bytes. On a read error (truncated gzip, I/O
/// failure) or a document larger than `max` hands one rejection for the
/// file to `sink` and returns `None`; memory stays within `max` bytes.
pub fn read_all_or_reject(
    reader: &mut dyn BufRead,
    source: &str,
    record: Option<u64>,
    max: u64,
    sink: &mut crate::Sink<'_>,
) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let reason = match Read::take(&mut *reader, max + 1).read_to_end(&mut buf) {
        Ok(_) if buf.len() as u64 <= max => return Some(buf),
        Ok(_) => format!(
            "document larger than {max} bytes (the limit of this format, docs/limits.md): nothing of it was read; split it"
        ),
        Err(e) => format!("read error (truncated or corrupt file?): {e}"),
    };
    drop(buf);
    let _ = sink(crate::Item::Rejected(crate::Rejection::new(
        source, None, record, reason, "",
    )));
    None
}

/// Iterates over the lines of a reader as raw bytes with their 1-based line
/// numbers, without the line terminator. A read error (truncated gzip, I/O
/// failure) is returned once and ends the iteration. A line longer than
/// `max` bytes is returned as [`Line::TooLong`] and reading goes on: only
/// its first `max` bytes are kept, the rest is skipped as it is read.
pub struct Lines<'a> {
    reader: &'a mut dyn BufRead,
    line: u64,
    buf: Vec<u8>,
    max: usize,
    done: bool,
}

/// One line read by [`Lines`].
#[derive(Debug)]
pub enum Line<'a> {
    /// The line, without its terminator.
    Text(&'a [u8]),
    /// A line longer than the limit: its length and its first bytes.
    TooLong { len: u64, head: &'a [u8] },
}

impl<'a> Lines<'a> {
    /// Lines of at most [`crate::limits::MAX_LINE_BYTES`].
    pub fn new(reader: &'a mut dyn BufRead) -> Self {
        Lines::with_max(reader, crate::limits::MAX_LINE_BYTES)
    }

    /// Lines of at most `max` bytes.
    pub fn with_max(reader: &'a mut dyn BufRead, max: usize) -> Self {
        Lines {
            reader,
            line: 0,
            buf: Vec::with_capacity(4096),
            max,
            done: false,
        }
    }

    /// The next line: `Some(Ok((line_no, line)))`, `Some(Err(..))` once on a read error, `None` at the end.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<io::Result<(u64, Line<'_>)>> {
        if self.done {
            return None;
        }
        self.buf.clear();
        let mut len: u64 = 0;
        let mut any = false;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            if chunk.is_empty() {
                if !any {
                    self.done = true;
                    return None;
                }
                break;
            }
            any = true;
            let (take, end) = match memchr::memchr(b'\n', chunk) {
                Some(p) => (p, true),
                None => (chunk.len(), false),
            };
            len += take as u64;
            let room = self.max.saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&chunk[..take.min(room)]);
            self.reader.consume(if end { take + 1 } else { take });
            if end {
                break;
            }
        }
        self.line += 1;
        if len > self.max as u64 {
            return Some(Ok((
                self.line,
                Line::TooLong {
                    len,
                    head: &self.buf[..self.buf.len().min(1024)],
                },
            )));
        }
        let mut end = self.buf.len();
        if end > 0 && self.buf[end - 1] == b'\r' {
            end -= 1;
        }
        Some(Ok((self.line, Line::Text(&self.buf[..end]))))
    }

    /// The number of the last line read.
    pub fn line(&self) -> u64 {
        self.line
    }
}

/// The reason given for a line longer than `max` bytes.
pub fn too_long_reason(len: u64, max: usize) -> String {
    format!("line of {len} bytes is longer than the limit of {max} bytes (docs/limits.md): skipped")
}

/// Returns the line as `&str`, or a rejection reason when it is not UTF-8.
pub fn utf8_line(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))
}
