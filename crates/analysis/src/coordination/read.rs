//! A direct reader for CooRTweet's input table.
//!
//! `object_id,account_id,content_id,timestamp_share` in any column order
//! (other columns are ignored), comma separated, with a header; `.gz` files
//! are decompressed on the fly. Records are read as raw bytes and interned
//! straight into a [`ShareTable`]: no `String` per field, no `Post`.

use super::shares::ShareTable;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// Why a CooRTweet table could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("{source_name}: {source}")]
    Csv {
        source_name: String,
        source: csv::Error,
    },
    #[error(
        "{source_name}: no column {column:?} in the header; a CooRTweet table has \
         object_id,account_id,content_id,timestamp_share (use --format csv for other tables)"
    )]
    MissingColumn {
        source_name: String,
        column: &'static str,
    },
    #[error(
        "{source_name}:{line}: timestamp_share {value:?} is not a whole number of seconds since the epoch"
    )]
    BadTime {
        source_name: String,
        line: u64,
        value: String,
    },
    #[error("{source_name}:{line}: the record has fewer columns than the header")]
    ShortRecord { source_name: String, line: u64 },
}

const COLUMNS: [&str; 4] = ["object_id", "account_id", "content_id", "timestamp_share"];

/// Reads a CooRTweet table from a file (gzip when the name ends in `.gz`).
pub fn read_coortweet_csv(path: &Path) -> Result<ShareTable, ReadError> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|source| ReadError::Open {
        path: name.clone(),
        source,
    })?;
    let file = BufReader::with_capacity(1 << 16, file);
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
    {
        // Decompression runs on its own thread, parsing and interning on
        // this one: on two cores the read costs the slower of the two, not
        // their sum.
        let gz = flate2::read::MultiGzDecoder::new(file);
        read_coortweet(Prefetch::spawn(gz), &name)
    } else {
        read_coortweet(file, &name)
    }
}

/// A reader whose bytes are produced by another thread, a few blocks ahead.
struct Prefetch {
    rx: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    block: Vec<u8>,
    at: usize,
    done: bool,
}

impl Prefetch {
    const BLOCK: usize = 1 << 18;

    fn spawn<R: Read + Send + 'static>(mut inner: R) -> Prefetch {
        let (tx, rx) = std::sync::mpsc::sync_channel(4);
        std::thread::spawn(move || {
            loop {
                let mut buf = vec![0u8; Self::BLOCK];
                let mut len = 0;
                let res = loop {
                    match inner.read(&mut buf[len..]) {
                        Ok(0) => break Ok(()),
                        Ok(n) => {
                            len += n;
                            if len == buf.len() {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                buf.truncate(len);
                let last = len == 0 || res.is_err();
                if tx.send(res.map(|()| buf)).is_err() || last {
                    return;
                }
            }
        });
        Prefetch {
            rx,
            block: Vec::new(),
            at: 0,
            done: false,
        }
    }
}

impl Read for Prefetch {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.block.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(b)) => {
                    self.done = b.is_empty();
                    self.block = b;
                    self.at = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = out.len().min(self.block.len() - self.at);
        out[..n].copy_from_slice(&self.block[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Reads a CooRTweet table from any reader; `source_name` names it in errors.
pub fn read_coortweet<R: Read>(reader: R, source_name: &str) -> Result<ShareTable, ReadError> {
    let csv_err = |source| ReadError::Csv {
        source_name: source_name.to_string(),
        source,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(reader);
    let header = rdr.byte_headers().map_err(csv_err)?.clone();
    let mut idx = [0usize; 4];
    for (k, col) in COLUMNS.iter().enumerate() {
        idx[k] = header
            .iter()
            .position(|h| trim_bom(h).eq_ignore_ascii_case(col.as_bytes()))
            .ok_or_else(|| ReadError::MissingColumn {
                source_name: source_name.to_string(),
                column: col,
            })?;
    }
    let need = idx.iter().copied().max().unwrap_or(0);
    let mut table = ShareTable::new();
    let mut rec = csv::ByteRecord::new();
    while rdr.read_byte_record(&mut rec).map_err(csv_err)? {
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() <= need {
            if rec.len() == 1 && rec[0].is_empty() {
                continue;
            }
            return Err(ReadError::ShortRecord {
                source_name: source_name.to_string(),
                line,
            });
        }
        let ts = &rec[idx[3]];
        let time = parse_secs(ts).ok_or_else(|| ReadError::BadTime {
            source_name: source_name.to_string(),
            line,
            value: String::from_utf8_lossy(ts).into_owned(),
        })?;
        table.push_bytes(&rec[idx[0]], &rec[idx[1]], &rec[idx[2]], time);
    }
    Ok(table)
}

fn trim_bom(h: &[u8]) -> &[u8] {
    h.strip_prefix(b"\xef\xbb\xbf").unwrap_or(h)
}

/// Whole seconds: an integer, or a real with no fractional part (`1.6e9`,
/// `1623881091.0`), as R may write them.
pub(crate) fn parse_secs(b: &[u8]) -> Option<i64> {
    let b = b.trim_ascii();
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if !digits.is_empty() && digits.len() <= 18 && digits.iter().all(u8::is_ascii_digit) {
        let mut v: i64 = 0;
        for &d in digits {
            v = v * 10 + i64::from(d - b'0');
        }
        return Some(if neg { -v } else { v });
    }
    let s = std::str::from_utf8(b).ok()?;
    let f: f64 = s.parse().ok()?;
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 {
        Some(f as i64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn reads_any_column_order_and_skips_other_columns() {
        let data = "\u{feff}account_id,extra,timestamp_share,object_id,content_id\n\
                    a,x,100,o1,c1\n\
                    b,y,1.05e2,o1,c2\n";
        let t = read_coortweet(data.as_bytes(), "t.csv").unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t.shares()[1].time_secs, 105);
        assert_eq!(t.content_name(t.shares()[1].content), b"c2");
        assert_eq!(t.account_name(t.shares()[0].account), b"a");
    }

    #[test]
    fn explains_bad_input() {
        let e = read_coortweet("object_id,account_id,content_id\n".as_bytes(), "t.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("timestamp_share"), "{e}");
        let e = read_coortweet(
            "object_id,account_id,content_id,timestamp_share\no,a,c,12.5\n".as_bytes(),
            "t.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("t.csv:2"), "{e}");
    }

    #[test]
    fn prefetch_hands_over_every_byte() {
        let data: Vec<u8> = (0..(Prefetch::BLOCK * 3 + 17))
            .map(|i| (i % 251) as u8)
            .collect();
        let mut got = Vec::new();
        Prefetch::spawn(std::io::Cursor::new(data.clone()))
            .read_to_end(&mut got)
            .unwrap();
        assert_eq!(got, data);
    }

    #[test]
    fn parses_seconds() {
        assert_eq!(parse_secs(b"1623881091"), Some(1_623_881_091));
        assert_eq!(parse_secs(b" -5 "), Some(-5));
        assert_eq!(parse_secs(b"1623881091.0"), Some(1_623_881_091));
        assert_eq!(parse_secs(b"1.5"), None);
        assert_eq!(parse_secs(b""), None);
        assert_eq!(parse_secs(b"abc"), None);
    }
}
