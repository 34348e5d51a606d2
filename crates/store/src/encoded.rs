//! Posts encoded for storage ahead of the write: the canonical JSON record
//! and the looked-up columns, laid out in one text buffer.
//!
//! Encoding a post (JSON serialisation, copying its strings) costs about as
//! much CPU as writing it to SQLite. The ingest pipeline therefore encodes on
//! the parsing thread and hands [`EncodedPosts`] to the writer, which only
//! binds slices of the buffer and steps statements. One buffer per batch
//! also means the writer neither allocates nor frees per post, and a batch
//! can be [cleared](EncodedPosts::clear) and reused without touching the
//! allocator at all.

use crate::StoreError;
use pharos_core::Post;

/// A byte range of [`EncodedPosts::text`]; `NONE` stands for a missing value.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    const NONE: Span = Span {
        start: u32::MAX,
        end: u32::MAX,
    };
}

/// One post's row.
#[derive(Clone, Copy, Debug)]
struct Row {
    platform: Span,
    id: Span,
    actor_id: Span,
    time_ms: i64,
    lang: Span,
    reshare_of: Span,
    reply_to: Span,
    quote_of: Span,
    record: Span,
    /// End (exclusive) of this post's entries in `links` / `hashtags`;
    /// they start where the previous row's end.
    links_end: u32,
    hashtags_end: u32,
}

/// A batch of posts ready to be written: what a store needs of each post
/// (identity, time, actor, language, reply / reshare / quote targets, links,
/// hashtags and the canonical JSON record), as slices of one buffer.
#[derive(Debug, Default)]
pub struct EncodedPosts {
    text: String,
    rows: Vec<Row>,
    links: Vec<(Span, Span)>,
    hashtags: Vec<Span>,
    scratch: Vec<u8>,
}

/// One encoded post, borrowed from an [`EncodedPosts`].
#[derive(Clone, Copy, Debug)]
pub struct EncodedPost<'a> {
    pub platform: &'a str,
    pub id: &'a str,
    pub actor_id: &'a str,
    pub time_ms: i64,
    pub lang: Option<&'a str>,
    pub reshare_of: Option<&'a str>,
    pub reply_to: Option<&'a str>,
    pub quote_of: Option<&'a str>,
    /// The canonical JSON of the whole post (what `pharos export` writes).
    pub record: &'a str,
    batch: &'a EncodedPosts,
    links: (u32, u32),
    hashtags: (u32, u32),
}

impl<'a> EncodedPost<'a> {
    /// `(url, domain)` of each link.
    pub fn links(&self) -> impl ExactSizeIterator<Item = (&'a str, &'a str)> + 'a {
        let b = self.batch;
        b.links[self.links.0 as usize..self.links.1 as usize]
            .iter()
            .map(move |&(u, d)| (b.get(u), b.get(d)))
    }

    /// Hashtags (lowercase, without `#`).
    pub fn hashtags(&self) -> impl ExactSizeIterator<Item = &'a str> + 'a {
        let b = self.batch;
        b.hashtags[self.hashtags.0 as usize..self.hashtags.1 as usize]
            .iter()
            .map(move |&t| b.get(t))
    }
}

impl EncodedPosts {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty batch with room for about `posts` posts.
    pub fn with_capacity(posts: usize) -> Self {
        EncodedPosts {
            text: String::with_capacity(posts * 1024),
            rows: Vec::with_capacity(posts),
            links: Vec::with_capacity(posts / 2),
            hashtags: Vec::with_capacity(posts / 2),
            scratch: Vec::with_capacity(4096),
        }
    }

    /// Number of posts.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Bytes of text held (records and columns): a batch's memory is about this.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Empties the batch, keeping its memory for the next one.
    pub fn clear(&mut self) {
        self.text.clear();
        self.rows.clear();
        self.links.clear();
        self.hashtags.clear();
    }

    /// Encodes and appends one post.
    pub fn push(&mut self, p: &Post) -> Result<(), StoreError> {
        // Spans are u32 offsets: a batch holds at most 4 GiB of text.
        if self.text.len() > (u32::MAX as usize) / 2 {
            return Err(encode_err(
                p,
                "batch too large (over 2 GiB of text); insert smaller batches",
            ));
        }
        self.scratch.clear();
        serde_json::to_writer(&mut self.scratch, p).map_err(|err| encode_err(p, err))?;
        // serde_json writes valid UTF-8; the check keeps this free of `unsafe`.
        let record = std::str::from_utf8(&self.scratch).map_err(|err| encode_err(p, err))?;
        let record = put(&mut self.text, record);
        let platform = put(&mut self.text, &p.platform);
        let id = put(&mut self.text, &p.id);
        let actor_id = put(&mut self.text, &p.actor.id);
        let lang = put_opt(&mut self.text, p.lang.as_deref());
        let reshare_of = put_opt(&mut self.text, p.reshare_of.as_deref());
        let reply_to = put_opt(&mut self.text, p.reply_to.as_deref());
        let quote_of = put_opt(&mut self.text, p.quote_of.as_deref());
        for l in &p.links {
            let u = put(&mut self.text, &l.url);
            let d = put(&mut self.text, &l.domain);
            self.links.push((u, d));
        }
        for t in &p.hashtags {
            let t = put(&mut self.text, t);
            self.hashtags.push(t);
        }
        self.rows.push(Row {
            platform,
            id,
            actor_id,
            time_ms: p.time.millis(),
            lang,
            reshare_of,
            reply_to,
            quote_of,
            record,
            links_end: self.links.len() as u32,
            hashtags_end: self.hashtags.len() as u32,
        });
        Ok(())
    }

    /// Encodes and appends posts.
    pub fn extend<'p>(
        &mut self,
        posts: impl IntoIterator<Item = &'p Post>,
    ) -> Result<(), StoreError> {
        for p in posts {
            self.push(p)?;
        }
        Ok(())
    }

    /// The posts, in the order they were pushed.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = EncodedPost<'_>> + '_ {
        self.rows.iter().enumerate().map(move |(i, r)| {
            let (l0, t0) = match i {
                0 => (0, 0),
                _ => (self.rows[i - 1].links_end, self.rows[i - 1].hashtags_end),
            };
            EncodedPost {
                platform: self.get(r.platform),
                id: self.get(r.id),
                actor_id: self.get(r.actor_id),
                time_ms: r.time_ms,
                lang: self.get_opt(r.lang),
                reshare_of: self.get_opt(r.reshare_of),
                reply_to: self.get_opt(r.reply_to),
                quote_of: self.get_opt(r.quote_of),
                record: self.get(r.record),
                batch: self,
                links: (l0, r.links_end),
                hashtags: (t0, r.hashtags_end),
            }
        })
    }

    fn get(&self, s: Span) -> &str {
        &self.text[s.start as usize..s.end as usize]
    }

    fn get_opt(&self, s: Span) -> Option<&str> {
        (s.start != u32::MAX).then(|| self.get(s))
    }
}

fn encode_err(p: &Post, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Encode {
        platform: p.platform.clone(),
        id: p.id.clone(),
        reason: reason.to_string(),
    }
}

fn put(text: &mut String, s: &str) -> Span {
    let start = text.len() as u32;
    text.push_str(s);
    Span {
        start,
        end: text.len() as u32,
    }
}

fn put_opt(text: &mut String, s: Option<&str>) -> Span {
    match s {
        Some(s) => put(text, s),
        None => Span::NONE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pharos_core::{EventTime, Post};

    fn post(id: &str, links: &[&str], tags: &[&str]) -> Post {
        let mut p = Post {
            platform: "twitter".into(),
            id: id.into(),
            time: EventTime(1_700_000_000_000),
            text: format!("post {id} «ünïcödé»"),
            ..Default::default()
        };
        p.actor.id = "a1".into();
        for l in links {
            p.add_link(l);
        }
        p.refresh_domains();
        p.hashtags = tags.iter().map(|t| t.to_string()).collect();
        p
    }

    #[test]
    fn round_trips_columns_links_hashtags_and_record() {
        let mut b = EncodedPosts::new();
        let mut p2 = post("2", &[], &["x"]);
        p2.reply_to = Some("1".into());
        p2.lang = Some("de".into());
        let posts = [
            post("1", &["https://a.example/x", "https://b.example/y"], &[]),
            p2,
            post("3", &["https://c.example/"], &["y", "z"]),
        ];
        b.extend(&posts).unwrap();
        assert_eq!(b.len(), 3);
        for (e, p) in b.iter().zip(&posts) {
            assert_eq!(e.platform, p.platform);
            assert_eq!(e.id, p.id);
            assert_eq!(e.actor_id, p.actor.id);
            assert_eq!(e.time_ms, p.time.millis());
            assert_eq!(e.lang, p.lang.as_deref());
            assert_eq!(e.reply_to, p.reply_to.as_deref());
            assert_eq!(e.reshare_of, None);
            assert_eq!(e.record, serde_json::to_string(p).unwrap());
            let links: Vec<_> = e.links().collect();
            let want: Vec<_> = p
                .links
                .iter()
                .map(|l| (l.url.as_str(), l.domain.as_str()))
                .collect();
            assert_eq!(links, want);
            assert_eq!(e.hashtags().collect::<Vec<_>>(), p.hashtags);
        }
        b.clear();
        assert!(b.is_empty());
        b.push(&posts[2]).unwrap();
        assert_eq!(b.iter().next().unwrap().links().len(), 1);
    }
}
