//! Opening inputs: plain files, gzip files (`.gz`), standard input (`-`).

use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
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
/// document); on a read error (truncated gzip, I/O failure) hands one
/// rejection for the file to `sink` and returns `None`.
pub fn read_all_or_reject(
    reader: &mut dyn BufRead,
    source: &str,
    record: Option<u64>,
    sink: &mut crate::Sink<'_>,
) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    match reader.read_to_end(&mut buf) {
        Ok(_) => Some(buf),
        Err(e) => {
            let _ = sink(crate::Item::Rejected(crate::Rejection::new(
                source,
                None,
                record,
                format!("read error (truncated or corrupt file?): {e}"),
                "",
            )));
            None
        }
    }
}

/// Iterates over the lines of a reader as raw bytes with their 1-based line
/// numbers, without the line terminator. A read error (truncated gzip, I/O
/// failure) is returned once and ends the iteration.
pub struct Lines<'a> {
    reader: &'a mut dyn BufRead,
    line: u64,
    buf: Vec<u8>,
    done: bool,
}

impl<'a> Lines<'a> {
    pub fn new(reader: &'a mut dyn BufRead) -> Self {
        Lines {
            reader,
            line: 0,
            buf: Vec::with_capacity(4096),
            done: false,
        }
    }

    /// The next line: `Some(Ok((line_no, bytes)))`, `Some(Err(..))` once on a read error, `None` at the end.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<io::Result<(u64, &[u8])>> {
        if self.done {
            return None;
        }
        self.buf.clear();
        match self.reader.read_until(b'\n', &mut self.buf) {
            Ok(0) => {
                self.done = true;
                None
            }
            Ok(_) => {
                self.line += 1;
                let mut end = self.buf.len();
                if end > 0 && self.buf[end - 1] == b'\n' {
                    end -= 1;
                }
                if end > 0 && self.buf[end - 1] == b'\r' {
                    end -= 1;
                }
                Some(Ok((self.line, &self.buf[..end])))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    /// The number of the last line read.
    pub fn line(&self) -> u64 {
        self.line
    }
}

/// Returns the line as `&str`, or a rejection reason when it is not UTF-8.
pub fn utf8_line(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))
}
