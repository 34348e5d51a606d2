//! The properties every importer keeps on any input, checked on one input:
//! the body of the fuzz targets (`fuzz/`) and of the property tests
//! (`tests/properties.rs`), so both test the same thing.
//!
//! Reading `bytes` in `format` must not panic, and then:
//! - every rejection names a reason and, where the format is
//!   line-oriented, a line;
//! - every post is one Pharos can store and read back: a valid time, within
//!   the caps of [`crate::limits`], no repeated hashtag, mention or link;
//! - written as canonical JSON and read again, a post is read as the same
//!   post (what `pharos export` writes, `pharos ingest` takes back).

use crate::limits::{MAX_HASHTAGS, MAX_LINKS, MAX_MENTIONS, MAX_TEXT_BYTES};
use crate::{Format, Item, Options};
use pharos_core::Post;
use std::collections::HashSet;
use std::ops::ControlFlow;

/// What one input gave.
#[derive(Debug, Default)]
pub struct Checked {
    pub posts: usize,
    pub rejected: usize,
}

/// Reads `bytes` as `format` (`source` names it: its extension picks the
/// CSV delimiter) and checks the properties above; `Err` says which broke.
pub fn read_and_check(format: Format, source: &str, bytes: &[u8]) -> Result<Checked, String> {
    let mut opts = Options::new();
    opts.format = format;
    opts.detect_language = false;
    let mut out = Checked::default();
    let mut posts: Vec<Post> = Vec::new();
    let mut problem: Option<String> = None;
    let mut reader: &[u8] = bytes;
    let result = crate::read_reader(&mut reader, source, format, &opts, &mut |item| {
        match item {
            Item::Post(p) => {
                out.posts += 1;
                if posts.len() < 64 {
                    posts.push(*p);
                }
            }
            Item::Rejected(r) => {
                out.rejected += 1;
                if r.reason.trim().is_empty() && problem.is_none() {
                    problem = Some(format!("a rejection without a reason: {r:?}"));
                }
            }
        }
        ControlFlow::Continue(())
    });
    if let Err(e) = result {
        // A whole-file error (a CSV without the mapped columns) is an answer too.
        if e.to_string().trim().is_empty() {
            return Err("an ingest error without a message".into());
        }
    }
    if let Some(p) = problem {
        return Err(p);
    }
    for p in &posts {
        check_post(p)?;
    }
    Ok(out)
}

/// The properties of one post that came out of an importer.
pub fn check_post(p: &Post) -> Result<(), String> {
    let fail = |what: &str| Err(format!("post {:?}: {what}", p.id));
    if !p.time.is_valid() || p.actor.created.is_some_and(|t| !t.is_valid()) {
        return fail("a time out of range");
    }
    if p.platform.is_empty() || p.id.is_empty() || p.actor.id.is_empty() {
        return fail("a required field is empty");
    }
    if p.text.len() > MAX_TEXT_BYTES
        || p.links.len() > MAX_LINKS
        || p.hashtags.len() > MAX_HASHTAGS
        || p.mentions.len() > MAX_MENTIONS
    {
        return fail("over a cap");
    }
    let distinct = |v: &[String]| v.iter().collect::<HashSet<_>>().len() == v.len();
    if !distinct(&p.hashtags) || !distinct(&p.mentions) {
        return fail("a repeated hashtag or mention");
    }
    let urls: Vec<String> = p.links.iter().map(|l| l.url.clone()).collect();
    if !distinct(&urls) {
        return fail("a repeated link");
    }
    let json = serde_json::to_string(p).map_err(|e| format!("post {:?}: not JSON: {e}", p.id))?;
    let mut opts = Options::new();
    opts.format = Format::Jsonl;
    opts.detect_language = false;
    let mut again: Vec<Result<Post, String>> = Vec::new();
    let mut reader: &[u8] = json.as_bytes();
    crate::read_reader(&mut reader, "check", Format::Jsonl, &opts, &mut |item| {
        again.push(match item {
            Item::Post(q) => Ok(*q),
            Item::Rejected(r) => Err(r.reason),
        });
        ControlFlow::Continue(())
    })
    .map_err(|e| e.to_string())?;
    match &again[..] {
        [Ok(q)] if q == p => Ok(()),
        [Ok(q)] => Err(format!(
            "post {:?} reads back different:\n{json}\n{}",
            p.id,
            serde_json::to_string(q).unwrap_or_default()
        )),
        [Err(reason)] => Err(format!(
            "post {:?} written as JSON is refused on reading: {reason}\n{json}",
            p.id
        )),
        other => Err(format!(
            "post {:?} reads back as {} items",
            p.id,
            other.len()
        )),
    }
}
