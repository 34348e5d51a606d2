//! Canonical Pharos JSONL: one [`Post`] a line, as `pharos export` writes it
//! (schema in `docs/formats.md`). Provenance in the record is kept (so a
//! round trip keeps the original source); records without one get this
//! file and line.

use crate::input::{Line, Lines, too_long_reason, utf8_line};
use crate::{Item, Rejection, Sink};
use pharos_core::Post;
use std::io::BufRead;

pub fn read(reader: &mut dyn BufRead, source: &str, sink: &mut Sink<'_>) {
    let mut lines = Lines::new(reader);
    while let Some(next) = lines.next() {
        let item = match next {
            Err(e) => Some(Item::Rejected(Rejection::new(
                source,
                Some(lines.line() + 1),
                None,
                format!("read error (truncated or corrupt file?): {e}"),
                "",
            ))),
            Ok((line, Line::Text(bytes))) => parse_line(source, line, bytes),
            Ok((line, Line::TooLong { len, head })) => Some(Item::Rejected(Rejection::new(
                source,
                Some(line),
                None,
                too_long_reason(len, crate::limits::MAX_LINE_BYTES),
                String::from_utf8_lossy(head),
            ))),
        };
        if let Some(item) = item
            && sink(item).is_break()
        {
            return;
        }
    }
}

fn parse_line(source: &str, line: u64, bytes: &[u8]) -> Option<Item> {
    let text = match utf8_line(bytes) {
        Ok(t) => t,
        Err(reason) => {
            return Some(Item::Rejected(Rejection::new(
                source,
                Some(line),
                None,
                reason,
                String::from_utf8_lossy(bytes),
            )));
        }
    };
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    match serde_json::from_str::<Post>(t) {
        Ok(mut post) => {
            if post.provenance.source.is_empty() {
                post.provenance.source = source.to_string();
                post.provenance.line = Some(line);
            }
            Some(Item::Post(Box::new(post)))
        }
        Err(e) => Some(Item::Rejected(Rejection::new(
            source,
            Some(line),
            None,
            format!("bad record: {e}"),
            t,
        ))),
    }
}
