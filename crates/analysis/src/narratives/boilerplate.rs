//! Boilerplate: what a source says under (or over) every post, learned
//! online per source, and the platforms' own templates.
//!
//! Real channels sign their posts ("Подписаться | Прислать новость",
//! "КиберТопор — Подписаться", a foreign-agent disclaimer, "Follow us
//! on …"). Left in, a signature makes every post of its channel look alike
//! and the largest "narratives" become footers. This module finds those
//! lines and removes them from the text that families, narratives (and so
//! narrative bursts) and the claim matcher see; the stored post, and the
//! evidence that quotes it, stay as they were.
//!
//! **What is learned.** A post's *edge lines* — its first [`HEAD`] and last
//! [`TAIL`] lines that have a word in them (lines longer than
//! [`MAX_LINE_BYTES`] are content, never boilerplate) — are keyed by their
//! letters and digits (case-folded; URLs and punctuation left out, so
//! `Подписаться: https://t.me/a` and `подписаться 👉 t.me/a` are one
//! line). Per source (platform and account) a space-saving sketch of
//! [`BoilerplateConfig::lines_per_source`] line keys counts in how many of
//! the source's posts each line appears. A line is **boilerplate** for the
//! source when it has appeared in at least
//! [`BoilerplateConfig::min_posts`] of its posts and in at least
//! [`BoilerplateConfig::min_share`] of the source's posts since the sketch
//! began tracking it. An occurrence counts only when the post's other edge
//! lines differ from the last post that counted for the line, so a channel
//! reposting one story several times does not turn the story into its own
//! boilerplate.
//!
//! **Links** are learned by the same rule, per source and on every
//! platform: a post's first [`LINKS`] distinct links (normalised, so a
//! changing UTM tail is one link), in a sketch of [`LINKS_PER_SOURCE`]
//! keys apart from the lines'. A link under most of a source's posts (its
//! site, a link-in-bio) then is no narrative term and no narrative link.
//!
//! **Templates** (stateless): a retweet's `RT @name:` prefix, `via @name`,
//! WordPress/RSS `The post … appeared first on …`, Telegram's
//! `Forwarded from …` / `Переслано от …` first line. Posts with nothing but
//! links (link-only tweets) and posts that are mostly boilerplate (more
//! words in removed lines than left, and fewer than
//! [`MIN_CONTENT_TERMS`] content words left) join no family and no
//! narrative.
//!
//! **Shared boilerplate is evidence.** When the same line is boilerplate
//! for several sources, they sign their posts alike: possibly one operator
//! behind several channels (DISARM T0092 *Build Network*). The engine
//! reports those lines ([`SharedBoilerplate`], from
//! [`super::NarrativeEngine::shared_boilerplate`]) as coordination
//! evidence, not as narratives.
//!
//! **Bounds.** At most [`BoilerplateConfig::max_sources`] sources (the
//! least recently active are forgotten first), each with at most
//! `lines_per_source` line counters and [`LINKS_PER_SOURCE`] link
//! counters; at most
//! [`BoilerplateConfig::max_shared_lines`] lines tracked as shared, each
//! with at most [`MAX_SHARED_SOURCES`] sources listed.
//!
//! **Order and parallel reading.** Learning is sequential (event order);
//! reading posts runs in parallel. Readers strip the lines a published
//! snapshot of the learner says are boilerplate; the engine then decides
//! exactly, in order, and re-reads the few posts whose lines changed status
//! meanwhile. So the result does not depend on how posts were batched.

use crate::similarity::hash_bytes;
use crate::similarity::text::{fast_lower, fmix64, is_alphanumeric_fast};
use ahash::{AHashMap, AHashSet};
use pharos_core::{EventTime, Post};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::sync::{Arc, RwLock};

/// Leading lines of a post considered (headers, `Forwarded from`, disclaimers).
pub const HEAD: usize = 2;
/// Trailing lines of a post considered (signatures, footers, calls to subscribe).
pub const TAIL: usize = 3;
/// Lines longer than this (bytes) are content, never boilerplate.
pub const MAX_LINE_BYTES: usize = 400;
/// A post whose removed lines hold more words than remain, and with fewer
/// content words than this left, is mostly boilerplate.
pub const MIN_CONTENT_TERMS: usize = 3;
/// Sources listed per shared line.
pub const MAX_SHARED_SOURCES: usize = 64;
/// Links of a post counted for its source (its first distinct ones).
pub const LINKS: usize = 3;
/// Link counters per source (a space-saving sketch apart from the lines',
/// so a news account linking a new article under every post does not
/// crowd its footer out of the line sketch).
pub const LINKS_PER_SOURCE: usize = 8;

const LINE_SEED: u64 = 0x006c_696e_656b_6579;
const LINK_SEED: u64 = 0x006c_696e_6b6b_6579;

/// How boilerplate is learned.
#[derive(Clone, Debug, PartialEq)]
pub struct BoilerplateConfig {
    /// Learn and remove per-source boilerplate (default true). Templates
    /// are removed either way.
    pub enabled: bool,
    /// Posts of one source a line must appear in before it is boilerplate
    /// (default 2: only the first post of a source keeps its signature, so
    /// no two of its stories meet through it).
    pub min_posts: u32,
    /// ... and the share of the source's posts (since the line was first
    /// tracked) it must appear in (default 0.25).
    pub min_share: f64,
    /// Line counters per source (default 24): lines in more than about
    /// `(HEAD + TAIL) / lines_per_source` of a source's posts are always
    /// tracked.
    pub lines_per_source: usize,
    /// Sources tracked at once (default 200,000).
    pub max_sources: usize,
    /// Lines tracked as possibly shared by several sources (default 50,000).
    pub max_shared_lines: usize,
}

impl Default for BoilerplateConfig {
    fn default() -> Self {
        BoilerplateConfig {
            enabled: true,
            min_posts: 2,
            min_share: 0.25,
            lines_per_source: 24,
            max_sources: 200_000,
            max_shared_lines: 50_000,
        }
    }
}

/// One edge line of a post: its key and where it is in the text; or one
/// of its links (`link`: no span in the text, the key of its normalised
/// URL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EdgeLine {
    pub key: u64,
    pub start: u32,
    pub end: u32,
    pub link: bool,
}

/// The key of a link as the learner counts it: its normalised URL
/// (`pharos_core::Link`: scheme and host case-folded, tracking parameters
/// such as `utm_*` dropped), so a site's link with a changing UTM tail is
/// one link.
pub(crate) fn link_key(link: &pharos_core::Link) -> u64 {
    hash_bytes(link.url.as_bytes(), LINK_SEED)
}

/// `post`'s edge lines ([`edge_lines`]) followed by its first [`LINKS`]
/// distinct links (not the links to a Telegram channel, which are never
/// terms): what the learner counts for its source. A link under most of a
/// source's posts (its own site, a link-in-bio, a donation page) is
/// boilerplate as a footer is, and stops being a narrative term for it.
pub(crate) fn edges_of(post: &Post, out: &mut Vec<EdgeLine>) {
    edge_lines(&post.text, out);
    let mut n = 0;
    for link in &post.links {
        if n == LINKS {
            break;
        }
        if link.url.is_empty() || super::features::is_channel_link(link) {
            continue;
        }
        let key = link_key(link);
        if out.iter().any(|l| l.link && l.key == key) {
            continue;
        }
        out.push(EdgeLine {
            key,
            start: 0,
            end: 0,
            link: true,
        });
        n += 1;
    }
}

/// The source of a post: its platform and account.
pub(crate) fn source_key(post: &Post) -> u64 {
    hash_bytes(
        post.actor.id.as_bytes(),
        hash_bytes(post.platform.as_bytes(), LINE_SEED),
    )
}

/// The key of `(source, line)` in the published snapshot.
#[inline]
pub(crate) fn pair_key(source: u64, line: u64) -> u64 {
    fmix64(source ^ line.rotate_left(29))
}

fn is_url_start(s: &str) -> bool {
    let b = s.as_bytes();
    let starts = |p: &[u8]| b.len() >= p.len() && b[..p.len()].eq_ignore_ascii_case(p);
    starts(b"http://") || starts(b"https://") || starts(b"www.") || starts(b"t.me/")
}

/// The key of one line (letters and digits, case-folded, URLs and
/// punctuation left out) and its number of words; `None` when it has no
/// letter or digit.
fn line_key(line: &str) -> Option<(u64, u32)> {
    let mut h = LINE_SEED;
    let mut any = false;
    let mut words = 0u32;
    for word in line.split_whitespace() {
        if is_url_start(word) {
            continue;
        }
        let mut in_word = false;
        for c in word.chars() {
            if is_alphanumeric_fast(c) {
                any = true;
                in_word = true;
                match fast_lower(c) {
                    Some(l) => h = fmix64(h ^ u64::from(u32::from(l))),
                    None => {
                        for l in c.to_lowercase() {
                            h = fmix64(h ^ u64::from(u32::from(l)));
                        }
                    }
                }
            }
        }
        if in_word {
            words += 1;
            h = h.rotate_left(7) ^ 0x20;
        }
    }
    any.then_some((h, words))
}

/// The first [`HEAD`] and last [`TAIL`] lines of `text` that have a word,
/// at most [`MAX_LINE_BYTES`] long, with their keys (in text order; a key
/// that repeats within the post is kept once).
pub(crate) fn edge_lines(text: &str, out: &mut Vec<EdgeLine>) {
    out.clear();
    if text.is_empty() {
        return;
    }
    let mut spans: Vec<(u32, u32)> = Vec::new();
    let mut start = 0usize;
    let mut tail: std::collections::VecDeque<(u32, u32)> = Default::default();
    let mut head = 0usize;
    for (i, _) in text
        .match_indices('\n')
        .chain(std::iter::once((text.len(), "")))
    {
        let line = &text[start..i];
        let s = start;
        start = i + 1;
        if !line.chars().any(is_alphanumeric_fast) {
            continue;
        }
        if head < HEAD {
            spans.push((s as u32, i as u32));
            head += 1;
            continue;
        }
        tail.push_back((s as u32, i as u32));
        if tail.len() > TAIL {
            tail.pop_front();
        }
    }
    spans.extend(tail);
    for (s, e) in spans {
        let line = &text[s as usize..e as usize];
        if line.len() > MAX_LINE_BYTES {
            continue;
        }
        if let Some((key, _)) = line_key(line)
            && !out.iter().any(|l| l.key == key)
        {
            out.push(EdgeLine {
                key,
                start: s,
                end: e,
                link: false,
            });
        }
    }
}

/// Words (tokens with a letter or digit, not URLs) in `text`.
pub(crate) fn count_words(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| !is_url_start(w) && w.chars().any(is_alphanumeric_fast))
        .count()
}

/// `text` without the edge lines in `mask` (bit `i` = `lines[i]`) and
/// without platform templates; also the number of words removed with the
/// lines.
pub(crate) fn clean<'a>(text: &'a str, lines: &[EdgeLine], mask: u8) -> (Cow<'a, str>, usize) {
    let mut removed_words = 0;
    let text: Cow<'a, str> = if mask == 0 {
        Cow::Borrowed(text)
    } else {
        let mut out = String::with_capacity(text.len());
        let mut at = 0usize;
        for (i, l) in lines.iter().enumerate() {
            // Links are not in the text's lines: the reader leaves them out
            // of the terms.
            if mask & (1 << i) == 0 || l.link {
                continue;
            }
            let (s, e) = (l.start as usize, l.end as usize);
            out.push_str(&text[at..s]);
            removed_words += count_words(&text[s..e]);
            at = e;
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    };
    let changed = match strip_templates(&text) {
        Cow::Owned(s) => Some(s),
        Cow::Borrowed(_) => None,
    };
    let text = match changed {
        Some(s) => Cow::Owned(s),
        None => text,
    };
    (text, removed_words)
}

/// Removes platform templates: `RT @name:` (a retweet's prefix), `via @name`,
/// `The post … appeared first on …` (WordPress RSS), a first line
/// `Forwarded from …` / `Переслано от …` (Telegram).
pub fn strip_templates(text: &str) -> Cow<'_, str> {
    let mut out: Cow<'_, str> = Cow::Borrowed(text);
    // Telegram forward header.
    let first_end = out.find('\n').unwrap_or(out.len());
    let first = out[..first_end].trim_start();
    if [
        "Forwarded from ",
        "Переслано от ",
        "Пересланное сообщение от ",
    ]
    .iter()
    .any(|p| first.starts_with(p))
    {
        out = Cow::Owned(out[first_end..].trim_start_matches('\n').to_string());
    }
    // Retweet prefix.
    if let Some(rest) = out.trim_start().strip_prefix("RT @") {
        let handle = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let after = &rest[handle..];
        if let Some(body) = after.strip_prefix(':') {
            out = Cow::Owned(body.trim_start().to_string());
        }
    }
    // RSS: "The post <title> appeared first on <site>."
    if out.contains("appeared first on") {
        let mut s = String::with_capacity(out.len());
        for (n, line) in out.split('\n').enumerate() {
            if n > 0 {
                s.push('\n');
            }
            match line.find("appeared first on") {
                Some(at) => {
                    let cut = line[..at].rfind("The post ").unwrap_or(0);
                    s.push_str(line[..cut].trim_end());
                }
                None => s.push_str(line),
            }
        }
        out = Cow::Owned(s);
    }
    // "via @name"
    if out.contains("via @") || out.contains("Via @") {
        let mut s = String::with_capacity(out.len());
        let mut rest: &str = &out;
        while let Some(at) = rest.find("via @").or_else(|| rest.find("Via @")) {
            let before_ok = at == 0 || rest[..at].ends_with(|c: char| !c.is_alphanumeric());
            let handle = &rest[at + 5..];
            let end = handle
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(handle.len());
            if before_ok && end > 0 {
                s.push_str(rest[..at].trim_end_matches([' ', '-', '—', '(']));
                rest = handle[end..].trim_start_matches(')');
            } else {
                s.push_str(&rest[..at + 5]);
                rest = handle;
            }
        }
        s.push_str(rest);
        out = Cow::Owned(s);
    }
    out
}

/// One line's counter in a source's sketch.
#[derive(Clone, Copy, Debug)]
struct LineStat {
    key: u64,
    count: u32,
    /// Possible over-count inherited when it replaced another line.
    error: u32,
    /// The source's post count when the line started being tracked.
    since: u32,
    /// Hash of the other edge lines of the last post that counted.
    ctx: u32,
}

#[derive(Clone, Debug)]
struct Source {
    posts: u32,
    last: i64,
    lines: Vec<LineStat>,
    links: Vec<LineStat>,
}

/// A source that uses a shared line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoilerplateSource {
    pub platform: String,
    pub actor: String,
    /// The account's display name, when the source gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its posts that carried the line once it was boilerplate.
    pub posts: u64,
    pub first_seen: EventTime,
    pub last_seen: EventTime,
}

/// A line that is boilerplate for several sources: they sign their posts
/// alike, which can mean one operator (DISARM T0092 Build Network).
/// Coordination evidence, not a narrative.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SharedBoilerplate {
    /// The line as first seen (at most 200 characters).
    pub text: String,
    /// Its words (letters or digits), a hint at how generic it is.
    pub words: u32,
    /// The sources that sign with it, most posts first (at most 64).
    pub sources: Vec<BoilerplateSource>,
    /// Posts of those sources that carried it.
    pub posts: u64,
    pub first_seen: EventTime,
    pub last_seen: EventTime,
    /// The line's key (letters and digits, case-folded): which posts carry
    /// it, see [`SharedBoilerplate::carried_by`]. Not serialised.
    #[serde(skip)]
    pub key: u64,
}

impl SharedBoilerplate {
    /// Whether `text` carries this line among its edge lines (its first
    /// [`HEAD`] or last [`TAIL`] lines with a word), as the learner saw it.
    pub fn carried_by(&self, text: &str) -> bool {
        let key = if self.key != 0 {
            self.key
        } else {
            match line_key(&self.text) {
                Some((k, _)) => k,
                None => return false,
            }
        };
        let mut lines = Vec::new();
        edge_lines(text, &mut lines);
        lines.iter().any(|l| l.key == key)
    }
}

/// Reads posts in event-time order and gives each one's text without its
/// source's learned boilerplate and the platforms' templates: the same
/// learner and the same cleaning as [`super::NarrativeEngine`] (for a
/// post, [`Self::observe`] gives what `NarrativeEngine::clean_text` gives
/// right after the engine assigned it), for readers that do not need
/// narratives (`pharos claims match --store`). Bounded as the engine's
/// learner ([`BoilerplateConfig`]).
pub struct BoilerplateReader {
    learner: Learner,
    lines: Vec<EdgeLine>,
}

impl BoilerplateReader {
    pub fn new(cfg: BoilerplateConfig) -> BoilerplateReader {
        BoilerplateReader {
            learner: Learner::new(cfg),
            lines: Vec::new(),
        }
    }

    /// Learns from `post` and returns its text without the lines that are
    /// boilerplate for its source (this post counted) and without
    /// templates.
    pub fn observe<'a>(&mut self, post: &'a Post) -> Cow<'a, str> {
        edges_of(post, &mut self.lines);
        let mask = self.learner.observe(source_key(post), &self.lines, post);
        clean(&post.text, &self.lines, mask).0
    }

    /// Sources tracked and `(source, line)` pairs that are boilerplate now.
    pub fn sizes(&self) -> (usize, usize) {
        (self.learner.sources(), self.learner.boilerplate_lines())
    }
}

impl Default for BoilerplateReader {
    fn default() -> Self {
        BoilerplateReader::new(BoilerplateConfig::default())
    }
}

#[derive(Clone, Debug)]
struct Shared {
    text: Box<str>,
    words: u32,
    sources: Vec<(u64, BoilerplateSource)>,
}

/// The per-source learner (sequential state of the engine).
pub(crate) struct Learner {
    cfg: BoilerplateConfig,
    sources: AHashMap<u64, Source>,
    /// `(source, line)` pairs currently boilerplate.
    current: AHashSet<u64>,
    published: Arc<RwLock<Arc<AHashSet<u64>>>>,
    dirty: bool,
    shared: AHashMap<u64, Shared>,
}

/// What readers see of the learner: the pairs that were boilerplate when
/// it last published.
#[derive(Clone, Debug, Default)]
pub(crate) struct Snapshot(Arc<RwLock<Arc<AHashSet<u64>>>>);

impl Snapshot {
    pub fn get(&self) -> Arc<AHashSet<u64>> {
        self.0.read().map(|g| g.clone()).unwrap_or_default()
    }
}

impl Learner {
    pub fn new(cfg: BoilerplateConfig) -> Learner {
        Learner {
            cfg,
            sources: AHashMap::new(),
            current: AHashSet::new(),
            published: Arc::default(),
            dirty: false,
            shared: AHashMap::new(),
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot(self.published.clone())
    }

    /// The pairs boilerplate now (for reading on the engine's own thread).
    pub fn current(&self) -> &AHashSet<u64> {
        &self.current
    }

    /// Makes the current pairs visible to readers.
    pub fn publish(&mut self) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        if let Ok(mut g) = self.published.write() {
            *g = Arc::new(self.current.clone());
        }
    }

    pub fn sources(&self) -> usize {
        self.sources.len()
    }

    pub fn boilerplate_lines(&self) -> usize {
        self.current.len()
    }

    /// Counts `post`'s edge lines for its source and returns which of them
    /// are boilerplate (bit `i` for `lines[i]`), this post included.
    pub fn observe(&mut self, source: u64, lines: &[EdgeLine], post: &Post) -> u8 {
        if !self.cfg.enabled || lines.is_empty() {
            return 0;
        }
        let t = post.time.0;
        let src = self.sources.entry(source).or_insert_with(|| Source {
            posts: 0,
            last: t,
            lines: Vec::new(),
            links: Vec::new(),
        });
        src.posts += 1;
        src.last = src.last.max(t);
        let all: u64 = lines.iter().fold(0, |a, l| a ^ l.key);
        let mut mask = 0u8;
        for (i, l) in lines.iter().enumerate() {
            let ctx = ((all ^ l.key) >> 32) as u32 ^ (all ^ l.key) as u32;
            let (sketch, cap) = if l.link {
                (&mut src.links, LINKS_PER_SOURCE)
            } else {
                (&mut src.lines, self.cfg.lines_per_source.max(1))
            };
            let stat = match sketch.iter_mut().position(|s| s.key == l.key) {
                Some(p) => {
                    let s = &mut sketch[p];
                    if s.ctx != ctx {
                        s.count += 1;
                        s.ctx = ctx;
                    }
                    *s
                }
                None => {
                    let fresh = LineStat {
                        key: l.key,
                        count: 1,
                        error: 0,
                        since: src.posts - 1,
                        ctx,
                    };
                    if sketch.len() < cap {
                        sketch.push(fresh);
                    } else if let Some(min) = sketch.iter_mut().min_by_key(|s| s.count) {
                        let floor = min.count;
                        let was = pair_key(source, min.key);
                        if self.current.remove(&was) {
                            self.dirty = true;
                        }
                        *min = LineStat {
                            count: floor + 1,
                            error: floor,
                            ..fresh
                        };
                    }
                    fresh
                }
            };
            let sure = stat.count.saturating_sub(stat.error);
            let span = src.posts.saturating_sub(stat.since).max(1);
            let is = sure >= self.cfg.min_posts
                && f64::from(sure) >= self.cfg.min_share * f64::from(span);
            let pk = pair_key(source, l.key);
            if is {
                mask |= 1 << i;
                if self.current.insert(pk) {
                    self.dirty = true;
                }
            } else if self.current.remove(&pk) {
                self.dirty = true;
            }
        }
        if mask != 0 {
            self.record_shared(source, lines, mask, post);
        }
        if self.sources.len() > self.cfg.max_sources {
            self.forget_sources();
        }
        mask
    }

    fn record_shared(&mut self, source: u64, lines: &[EdgeLine], mask: u8, post: &Post) {
        for (i, l) in lines.iter().enumerate() {
            // A link shared by sources is the co-link layer's evidence.
            if mask & (1 << i) == 0 || l.link {
                continue;
            }
            if !self.shared.contains_key(&l.key) {
                if self.shared.len() >= self.cfg.max_shared_lines {
                    // Forget a line used by a single source (the usual case).
                    let victim = self
                        .shared
                        .iter()
                        .filter(|(_, s)| s.sources.len() <= 1)
                        .min_by_key(|(_, s)| s.sources.first().map_or(0, |x| x.1.posts))
                        .map(|(k, _)| *k);
                    match victim {
                        Some(k) => {
                            self.shared.remove(&k);
                        }
                        None => continue,
                    }
                }
                let line = &post.text[l.start as usize..l.end as usize];
                let text: String = line.trim().chars().take(200).collect();
                let words = line_key(line).map_or(0, |x| x.1);
                self.shared.insert(
                    l.key,
                    Shared {
                        text: text.into(),
                        words,
                        sources: Vec::new(),
                    },
                );
            }
            let sh = self.shared.get_mut(&l.key).expect("inserted");
            match sh.sources.iter().position(|s| s.0 == source) {
                Some(i) => {
                    let s = &mut sh.sources[i].1;
                    s.posts += 1;
                    s.first_seen = s.first_seen.min(post.time);
                    s.last_seen = s.last_seen.max(post.time);
                }
                None if sh.sources.len() < MAX_SHARED_SOURCES => sh.sources.push((
                    source,
                    BoilerplateSource {
                        platform: post.platform.clone(),
                        actor: post.actor.id.clone(),
                        name: post
                            .actor
                            .name
                            .clone()
                            .or_else(|| post.actor.handle.clone()),
                        posts: 1,
                        first_seen: post.time,
                        last_seen: post.time,
                    },
                )),
                None => {}
            }
        }
    }

    /// Forgets the least recently active tenth of the sources.
    fn forget_sources(&mut self) {
        let mut lasts: Vec<i64> = self.sources.values().map(|s| s.last).collect();
        let excess = self.sources.len() - self.cfg.max_sources * 9 / 10;
        lasts.select_nth_unstable(excess);
        let cutoff = lasts[excess];
        let mut dropped: Vec<(u64, Vec<u64>)> = Vec::new();
        self.sources.retain(|&k, s| {
            if s.last < cutoff {
                dropped.push((k, s.lines.iter().chain(&s.links).map(|l| l.key).collect()));
                false
            } else {
                true
            }
        });
        for (source, keys) in dropped {
            for key in keys {
                if self.current.remove(&pair_key(source, key)) {
                    self.dirty = true;
                }
            }
        }
    }

    /// Lines that are boilerplate for at least `min_sources` sources, most
    /// sources first.
    pub fn shared(&self, min_sources: usize) -> Vec<SharedBoilerplate> {
        let mut out: Vec<SharedBoilerplate> = self
            .shared
            .iter()
            .filter(|(_, s)| s.sources.len() >= min_sources.max(2))
            .map(|(k, s)| {
                let mut sources: Vec<BoilerplateSource> =
                    s.sources.iter().map(|x| x.1.clone()).collect();
                sources.sort_by(|a, b| b.posts.cmp(&a.posts).then(a.actor.cmp(&b.actor)));
                SharedBoilerplate {
                    text: s.text.to_string(),
                    words: s.words,
                    posts: sources.iter().map(|x| x.posts).sum(),
                    first_seen: sources
                        .iter()
                        .map(|x| x.first_seen)
                        .min()
                        .unwrap_or_default(),
                    last_seen: sources
                        .iter()
                        .map(|x| x.last_seen)
                        .max()
                        .unwrap_or_default(),
                    sources,
                    key: *k,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.sources
                .len()
                .cmp(&a.sources.len())
                .then(b.posts.cmp(&a.posts))
                .then(a.text.cmp(&b.text))
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pharos_core::Actor;

    /// `line_key` as it was before its fast paths for ASCII and Cyrillic.
    fn line_key_reference(line: &str) -> Option<(u64, u32)> {
        let mut h = LINE_SEED;
        let mut any = false;
        let mut words = 0u32;
        for word in line.split_whitespace() {
            if is_url_start(word) {
                continue;
            }
            let mut in_word = false;
            for c in word.chars() {
                if c.is_alphanumeric() {
                    any = true;
                    in_word = true;
                    for l in c.to_lowercase() {
                        h = fmix64(h ^ u64::from(u32::from(l)));
                    }
                }
            }
            if in_word {
                words += 1;
                h = h.rotate_left(7) ^ 0x20;
            }
        }
        any.then_some((h, words))
    }

    #[test]
    fn line_key_fast_paths_change_no_key() {
        use crate::similarity::text::{MIXED_TEXTS, prefixes};
        let mut keys = std::collections::HashSet::new();
        for text in MIXED_TEXTS {
            for p in prefixes(text) {
                let k = line_key(p);
                assert_eq!(k, line_key_reference(p), "{p:?}");
                keys.insert(k);
                assert_eq!(
                    count_words(p),
                    p.split_whitespace()
                        .filter(|w| !is_url_start(w) && w.chars().any(char::is_alphanumeric))
                        .count(),
                    "{p:?}"
                );
            }
        }
        assert!(keys.len() > 250, "{}", keys.len());
    }

    fn post(actor: &str, t: i64, text: &str) -> Post {
        Post {
            platform: "telegram".into(),
            id: format!("{actor}/{t}"),
            actor: Actor {
                id: actor.into(),
                ..Default::default()
            },
            time: EventTime(t),
            text: text.into(),
            ..Default::default()
        }
    }

    #[test]
    fn edge_lines_are_the_first_and_last_lines_with_words() {
        let mut out = Vec::new();
        let text = "Head one\n\nsecond\nthird\nfourth\nfifth\n🔴\nПодписаться | Прислать новость\n";
        edge_lines(text, &mut out);
        let got: Vec<&str> = out
            .iter()
            .map(|l| &text[l.start as usize..l.end as usize])
            .collect();
        assert_eq!(
            got,
            [
                "Head one",
                "second",
                "fourth",
                "fifth",
                "Подписаться | Прислать новость"
            ]
        );
        // URLs and punctuation do not change a line's key.
        assert_eq!(
            line_key("Подписаться: https://t.me/a").map(|x| x.0),
            line_key("подписаться 👉 t.me/b").map(|x| x.0)
        );
        assert_ne!(
            line_key("Курс 100").map(|x| x.0),
            line_key("Курс 101").map(|x| x.0)
        );
        assert!(line_key("🔴 — !!").is_none());
    }

    #[test]
    fn a_footer_becomes_boilerplate_and_a_repeated_story_does_not() {
        let mut l = Learner::new(BoilerplateConfig::default());
        let mut lines = Vec::new();
        let mut masks = Vec::new();
        for i in 0..10 {
            let p = post(
                "a",
                i,
                &format!("Story number {i} happened\nПодписаться | Прислать новость"),
            );
            let src = source_key(&p);
            edge_lines(&p.text, &mut lines);
            masks.push(l.observe(src, &lines, &p));
        }
        // From the second post on, the footer (line 1) is boilerplate.
        assert_eq!(masks[0], 0);
        assert!(masks[1..].iter().all(|&m| m == 0b10), "{masks:?}");
        // The same story posted again and again is not its own boilerplate.
        let mut l = Learner::new(BoilerplateConfig::default());
        for i in 0..10 {
            let p = post("b", i, "The same story\nposted twice");
            edge_lines(&p.text, &mut lines);
            assert_eq!(l.observe(source_key(&p), &lines, &p), 0);
        }
        // Another source does not inherit the first one's boilerplate.
        let p = post("c", 20, "Story\nПодписаться | Прислать новость");
        edge_lines(&p.text, &mut lines);
        let mut l2 = Learner::new(BoilerplateConfig::default());
        assert_eq!(l2.observe(source_key(&p), &lines, &p), 0);
    }

    #[test]
    fn sources_are_bounded() {
        let cfg = BoilerplateConfig {
            max_sources: 100,
            ..Default::default()
        };
        let mut l = Learner::new(cfg);
        let mut lines = Vec::new();
        for i in 0..10_000 {
            let p = post(&format!("acct{i}"), i, "hello\nworld");
            edge_lines(&p.text, &mut lines);
            l.observe(source_key(&p), &lines, &p);
            assert!(l.sources() <= 101);
        }
    }

    #[test]
    fn templates_are_stripped() {
        assert_eq!(strip_templates("RT @bbc_news: Plane down"), "Plane down");
        assert_eq!(
            strip_templates("Forwarded from Channel X\nActual text"),
            "Actual text"
        );
        assert_eq!(
            strip_templates(
                "Prices rise again. The post Prices rise again appeared first on Daily Site."
            ),
            "Prices rise again."
        );
        assert_eq!(strip_templates("Big news via @reuters now"), "Big news now");
        assert_eq!(strip_templates("Big news (via @reuters)"), "Big news");
        assert_eq!(strip_templates("nothing to see"), "nothing to see");
        assert_eq!(strip_templates("RT @x no colon"), "RT @x no colon");
    }
}
