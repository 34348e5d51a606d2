//! Directed coordination networks, as the QUT coordination-network-toolkit
//! defines them.
//!
//! Two accounts are linked when they post the *same thing* within seconds
//! of each other, again and again. Here the link is directed and counted per
//! message:
//!
//! > edge `user_1 → user_2` has weight = the number of **distinct messages of
//! > `user_1`** for which `user_2` posted a message with the same key at most
//! > `time_window` away (`|t₂ − t₁| ≤ window`, inclusive, either side).
//!
//! So `u → v` and `v → u` can differ (three retweets of `u` all inside one
//! burst matched by a single retweet of `v` give `u → v` = 3, `v → u` = 1),
//! and one message matched by several messages of `v`, or by `v` through
//! several of its links, still counts once. Edges below `min_edge_weight`
//! are dropped; self-loops (`u → u`: a message of `u` matched by *another*
//! message of `u`) only on request.
//!
//! The "same thing" is the [`Kind`]: a reshared post (`co-retweet`), a
//! normalised text (`co-tweet`), a link (`co-link`), a domain, a replied-to
//! post (`co-reply`), a hashtag, a media hash (`co-media`), a near-identical
//! image (`co-image`: PDQ hashes within a Hamming distance, candidates from
//! the multi-index of [`pharos_media::Index`], verified exactly), or a text
//! whose token set is within a Jaccard threshold (`co-similar-text`,
//! candidates from MinHash LSH in [`crate::similarity`], verified exactly).
//! [`multimodal_network`] adds kinds together with a weight each.
//!
//! # Parity with coordination-network-toolkit 1.5.2
//! Its `compute co_retweet|co_tweet|co_link|co_reply` networks and CSV
//! input (`preprocess --format csv`) are reproduced: the same edge set and
//! weights, checked against its own output in the tests
//! (`tests/fixtures/qut/`). Its semantics, read from its SQL:
//!
//! - the window is inclusive (`between t₁ − w and t₁ + w`), in seconds;
//! - weight is `count(distinct e_1.message_id)` grouped by
//!   `(e_1.user_id, e_2.user_id)`: distinct messages of the first user;
//! - a message joins itself, so its tables always hold self-loops `u → u`
//!   with the number of `u`'s keyed messages; its exports drop them unless
//!   `--include_self_loops`. Pharos never counts a message as matching
//!   itself: a self-loop here means `u` repeated itself within the window;
//! - co-tweet, co-reply and co-link skip reshares (`repost_id` set); a
//!   message id seen twice is kept once (the first row's user and time).
//!
//! Deliberate differences: empty keys never match (the toolkit splits an
//! empty `urls` cell into one empty URL, so every linkless post is
//! "co-linked" with every other one in the window; and an empty normalised
//! text co-tweets with every other empty one), URLs are compared in
//! normalised form ([`pharos_core::normalize_url`]; the toolkit compares raw
//! strings), and a message id repeated with other links adds those links to
//! the first row's message (the toolkit files them under the later row's
//! user and time).
//!
//! # How it runs
//! Ids are interned to `u32` ([`MessageTable`]). Messages are grouped by key
//! and sorted by time; then, in parallel over accounts, each message of an
//! account looks up the window around its time in each of its keys' groups
//! (binary search, then a scan), collecting `(other account, message)`
//! pairs; sorting and counting them gives the account's out-edges. Work is
//! proportional to the matches found, memory to the input plus one
//! account's matches per thread.

use super::shares::Interner;
use crate::similarity::{self, Features, LshParams};
use pharos_core::{Link, Post};
use rayon::prelude::*;
use std::fmt;
use std::io::{self, Read, Write};
use std::path::Path;
use std::str::FromStr;

/// What two messages must share to match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Reshares of the same post (`reshare_of`; the toolkit's `repost_id`).
    CoRetweet,
    /// The same text after [`similarity::normalize_cotweet`] (lowercase, no
    /// @mentions, collapsed white space); reshares excluded.
    CoTweet,
    /// A shared normalised link (any of the message's links); reshares excluded.
    CoLink,
    /// A shared link domain; reshares excluded.
    CoDomain,
    /// Replies to the same post (`reply_to`); reshares excluded.
    CoReply,
    /// A shared hashtag; reshares excluded.
    CoHashtag,
    /// A shared media hash (`media[].hash`, e.g. a perceptual hash); reshares excluded.
    CoMedia,
    /// Near-identical images: PDQ hashes (`media[].hash` as `pdq:` and 64
    /// hex digits, see `pharos media scan`) within
    /// [`DirectedParams::image_distance`] bits; reshares excluded.
    CoImage,
    /// Texts whose token sets have Jaccard ≥ the similarity threshold;
    /// reshares excluded.
    CoSimilarText,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::CoRetweet,
        Kind::CoTweet,
        Kind::CoLink,
        Kind::CoDomain,
        Kind::CoReply,
        Kind::CoHashtag,
        Kind::CoMedia,
        Kind::CoImage,
        Kind::CoSimilarText,
    ];

    /// The name used on the command line: `co-retweet`, `co-tweet`, ...
    pub fn name(self) -> &'static str {
        match self {
            Kind::CoRetweet => "co-retweet",
            Kind::CoTweet => "co-tweet",
            Kind::CoLink => "co-link",
            Kind::CoDomain => "co-domain",
            Kind::CoReply => "co-reply",
            Kind::CoHashtag => "co-hashtag",
            Kind::CoMedia => "co-media",
            Kind::CoImage => "co-image",
            Kind::CoSimilarText => "co-similar-text",
        }
    }

    /// Reads `co-retweet`, `co_retweet`, `retweet` (any case); the toolkit's
    /// `co_similar_tweet` is `co-similar-text`.
    pub fn parse(name: &str) -> Result<Kind, DirectedError> {
        let n = name.trim().to_ascii_lowercase().replace('_', "-");
        let n = n.strip_prefix("co-").unwrap_or(&n);
        Ok(match n {
            "retweet" | "repost" | "reshare" => Kind::CoRetweet,
            "tweet" | "post-text" | "text" => Kind::CoTweet,
            "link" | "url" => Kind::CoLink,
            "domain" => Kind::CoDomain,
            "reply" => Kind::CoReply,
            "hashtag" => Kind::CoHashtag,
            "media" | "phash" => Kind::CoMedia,
            "image" | "pdq" => Kind::CoImage,
            "similar-text" | "similar-tweet" | "similar" => Kind::CoSimilarText,
            _ => {
                return Err(DirectedError::UnknownKind {
                    name: name.to_string(),
                });
            }
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kind {
    type Err = DirectedError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::parse(s)
    }
}

/// Why a directed network could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DirectedError {
    #[error(
        "unknown kind {name:?}: use one of co-retweet, co-tweet, co-link, co-domain, co-reply, \
         co-hashtag, co-media, co-image, co-similar-text"
    )]
    UnknownKind { name: String },
    #[error(
        "{source_name}: a QUT table has no column for {kind} (try co-retweet, co-tweet, co-link, co-domain, co-reply, co-hashtag or co-similar-text)"
    )]
    UnsupportedKind { source_name: String, kind: Kind },
    #[error("cannot open {path}: {source}")]
    Open { path: String, source: io::Error },
    #[error("{source_name}: {source}")]
    Csv {
        source_name: String,
        source: csv::Error,
    },
    #[error(
        "{source_name}: no column {column:?} in the header; a QUT table has \
         message_id,user_id,username,repost_id,reply_id,message,timestamp,urls"
    )]
    MissingColumn {
        source_name: String,
        column: &'static str,
    },
    #[error("{source_name}:{line}: timestamp {value:?} is not a number of seconds since the epoch")]
    BadTime {
        source_name: String,
        line: u64,
        value: String,
    },
}

/// Parameters of a directed network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DirectedParams {
    /// Largest time difference (milliseconds, inclusive) between matching messages.
    pub time_window_ms: i64,
    /// Edges with a smaller weight are dropped.
    pub min_edge_weight: f64,
    /// Keep `u → u` edges (messages of `u` matched by another message of `u`).
    pub self_loops: bool,
    /// `co-similar-text`: least Jaccard similarity of two token sets.
    pub similarity_threshold: f64,
    /// `co-similar-text`: MinHash LSH parameters (their `features` are fixed
    /// when the [`MessageTable`] is built, see [`MessageTable::with_features`]).
    pub lsh: LshParams,
    /// `co-image`: largest PDQ Hamming distance (of 256 bits) between two
    /// images that count as the same picture; 31 is Meta's threshold.
    pub image_distance: u32,
}

/// Meta's recommended PDQ match threshold, the default
/// [`DirectedParams::image_distance`].
pub const IMAGE_DISTANCE: u32 = 31;

impl Default for DirectedParams {
    /// 60 s window, minimum weight 2, no self-loops, similarity 0.8.
    fn default() -> Self {
        DirectedParams::new(60, 2.0)
    }
}

impl DirectedParams {
    /// A window in whole seconds (the toolkit's `--time_window`) and a
    /// minimum edge weight (`--min_edge_weight`).
    pub fn new(time_window_secs: i64, min_edge_weight: f64) -> Self {
        DirectedParams {
            time_window_ms: time_window_secs.saturating_mul(1000),
            min_edge_weight,
            self_loops: false,
            similarity_threshold: 0.8,
            lsh: LshParams::default(),
            image_distance: IMAGE_DISTANCE,
        }
    }
}

/// The messages of one kind, compact: interned message, user and key ids,
/// times in milliseconds, and the keys (or token sets) of each message.
///
/// Messages without a key of the kind (a post that is not a reshare, for
/// co-retweet) are left out: they can never match.
pub struct MessageTable {
    kind: Kind,
    features: Features,
    ids: Interner,
    users: Interner,
    keys: Interner,
    /// Per message (index = interned message id).
    user: Vec<u32>,
    time_ms: Vec<i64>,
    /// `(message, key)` for keyed kinds, in push order, possibly repeated.
    entries: Vec<(u32, u32)>,
    /// `co-similar-text`: token sets, CSR per message (`set_ends[m]`).
    set_ends: Vec<usize>,
    set_tokens: Vec<u64>,
}

impl fmt::Debug for MessageTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageTable")
            .field("kind", &self.kind)
            .field("messages", &self.len())
            .field("users", &self.users.len())
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl MessageTable {
    /// An empty table for `kind` (token features for co-similar-text).
    pub fn new(kind: Kind) -> Self {
        MessageTable::with_features(kind, Features::Tokens)
    }

    /// An empty table; `features` are what co-similar-text compares
    /// (ignored by the other kinds).
    pub fn with_features(kind: Kind, features: Features) -> Self {
        MessageTable {
            kind,
            features,
            ids: Interner::new(),
            users: Interner::new(),
            keys: Interner::new(),
            user: Vec::new(),
            time_ms: Vec::new(),
            entries: Vec::new(),
            set_ends: Vec::new(),
            set_tokens: Vec::new(),
        }
    }

    /// The table of `kind` for `posts`.
    pub fn from_posts<'a>(posts: impl IntoIterator<Item = &'a Post>, kind: Kind) -> Self {
        let mut t = MessageTable::new(kind);
        for p in posts {
            t.push_post(p);
        }
        t
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Number of messages (with at least one key).
    pub fn len(&self) -> usize {
        self.user.len()
    }

    pub fn is_empty(&self) -> bool {
        self.user.is_empty()
    }

    /// Number of distinct user ids (of keyed rows).
    pub fn user_count(&self) -> usize {
        self.users.len()
    }

    /// The id of user `u` as given.
    pub fn user_name(&self, u: u32) -> &str {
        std::str::from_utf8(self.users.name(u)).unwrap_or("")
    }

    /// The id of message `m` as given.
    pub fn message_id(&self, m: u32) -> &str {
        std::str::from_utf8(self.ids.name(m)).unwrap_or("")
    }

    /// The user and time (ms) of message `m`.
    pub fn message(&self, m: u32) -> (u32, i64) {
        (self.user[m as usize], self.time_ms[m as usize])
    }

    /// Adds a message with its keys (already in the form they are compared
    /// in: normalised URL, lowercase hashtag, ...); empty keys are skipped,
    /// and a message without keys is not added. A message id seen before
    /// keeps its first user and time and gains the new keys. Returns whether
    /// any key was added.
    ///
    /// For `co-similar-text` use [`MessageTable::push_text`].
    pub fn push_keys<K: AsRef<[u8]>>(
        &mut self,
        message_id: &str,
        user_id: &str,
        time_ms: i64,
        keys: impl IntoIterator<Item = K>,
    ) -> bool {
        debug_assert!(self.kind != Kind::CoSimilarText, "use push_text");
        let mut msg = None;
        for k in keys {
            let k = k.as_ref();
            if k.is_empty() {
                continue;
            }
            let m = match msg {
                Some(m) => m,
                None => self.message_index(message_id, user_id, time_ms).0,
            };
            msg = Some(m);
            let key = self.keys.intern(k);
            self.entries.push((m, key));
        }
        msg.is_some()
    }

    /// Adds a message by its text: for `co-tweet` the key is the normalised
    /// text, for `co-similar-text` the feature set; other kinds take no text.
    /// Texts that normalise to nothing are skipped. A repeated message id
    /// keeps its first text. Returns whether the message was added.
    pub fn push_text(&mut self, message_id: &str, user_id: &str, time_ms: i64, text: &str) -> bool {
        match self.kind {
            Kind::CoTweet => {
                let key = similarity::normalize_cotweet(text);
                self.push_keys(message_id, user_id, time_ms, [key.as_bytes()])
            }
            Kind::CoSimilarText => {
                if self.ids.get(message_id.as_bytes()).is_some() {
                    return false;
                }
                let set = similarity::feature_set(text, self.features);
                if set.is_empty() {
                    return false;
                }
                self.message_index(message_id, user_id, time_ms);
                self.set_tokens.extend_from_slice(&set);
                self.set_ends.push(self.set_tokens.len());
                true
            }
            _ => false,
        }
    }

    /// Adds the keys of `post` for this table's kind (see [`Kind`]).
    /// Message ids are `platform:id`; post-id keys (reshared, replied-to
    /// post) are platform-scoped the same way. Returns whether it was added.
    pub fn push_post(&mut self, post: &Post) -> bool {
        let reshare = post.reshare_of.as_deref().is_some_and(|r| !r.is_empty());
        if reshare && self.kind != Kind::CoRetweet {
            return false;
        }
        let id = format!("{}:{}", post.platform, post.id);
        let (user, time) = (post.actor.id.as_str(), post.time.millis());
        let scoped = |other: &str| format!("{}:{}", post.platform, other);
        match self.kind {
            Kind::CoRetweet => match post.reshare_of.as_deref() {
                Some(r) if !r.is_empty() => self.push_keys(&id, user, time, [scoped(r)]),
                _ => false,
            },
            Kind::CoReply => match post.reply_to.as_deref() {
                Some(r) if !r.is_empty() => self.push_keys(&id, user, time, [scoped(r)]),
                _ => false,
            },
            Kind::CoTweet | Kind::CoSimilarText => self.push_text(&id, user, time, &post.text),
            Kind::CoLink => self.push_keys(&id, user, time, post.links.iter().map(|l| &l.url)),
            Kind::CoDomain => {
                let domains = post.links.iter().map(|l| &l.domain).chain(&post.domains);
                self.push_keys(&id, user, time, domains)
            }
            Kind::CoHashtag => self.push_keys(&id, user, time, &post.hashtags),
            Kind::CoMedia => {
                let hashes = post.media.iter().filter_map(|m| m.hash.as_deref());
                self.push_keys(&id, user, time, hashes)
            }
            Kind::CoImage => self.push_keys(&id, user, time, image_keys(post)),
        }
    }

    /// The index of `message_id`, adding the message if new.
    fn message_index(&mut self, message_id: &str, user_id: &str, time_ms: i64) -> (u32, bool) {
        let before = self.ids.len();
        let m = self.ids.intern(message_id.as_bytes());
        if self.ids.len() > before {
            let u = self.users.intern(user_id.as_bytes());
            self.user.push(u);
            self.time_ms.push(time_ms);
            (m, true)
        } else {
            (m, false)
        }
    }

    /// Interns a batch of parsed rows: message ids on one thread, users and
    /// keys on another (the three interners are independent), then appends
    /// the messages in row order.
    fn push_batch(&mut self, batch: &mut RowBatch) {
        let b = &batch.bytes;
        let (ids, users, keys) = (&mut self.ids, &mut self.users, &mut self.keys);
        let (msgs, (uids, kids)) = rayon::join(
            || {
                batch
                    .rows
                    .iter()
                    .map(|r| {
                        let before = ids.len();
                        let m = ids.intern(&b[r.id.clone()]);
                        (m, ids.len() > before)
                    })
                    .collect::<Vec<_>>()
            },
            || {
                let u: Vec<u32> = batch
                    .rows
                    .iter()
                    .map(|r| users.intern(&b[r.user.clone()]))
                    .collect();
                let k: Vec<u32> = batch
                    .keys
                    .iter()
                    .map(|k| keys.intern(&b[k.clone()]))
                    .collect();
                (u, k)
            },
        );
        for (r, (&(m, new), &u)) in batch.rows.iter().zip(msgs.iter().zip(&uids)) {
            if new {
                self.user.push(u);
                self.time_ms.push(r.time_ms);
            }
            for &k in &kids[r.keys.clone()] {
                self.entries.push((m, k));
            }
        }
        batch.clear();
    }
}

/// The PDQ hashes of a post's media (`pdq:` hashes, see
/// [`pharos_core::Media::pdq`]) as lowercase hex: the keys of `co-image`.
pub fn image_keys(post: &Post) -> Vec<String> {
    let mut keys: Vec<String> = post
        .media
        .iter()
        .filter_map(|m| m.pdq())
        .map(|h| h.to_ascii_lowercase())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// One parsed row of a QUT table: ranges into [`RowBatch::bytes`].
struct BatchRow {
    id: std::ops::Range<usize>,
    user: std::ops::Range<usize>,
    /// Range into [`RowBatch::keys`].
    keys: std::ops::Range<usize>,
    time_ms: i64,
}

/// Rows parsed and not yet interned.
#[derive(Default)]
struct RowBatch {
    bytes: Vec<u8>,
    rows: Vec<BatchRow>,
    keys: Vec<std::ops::Range<usize>>,
}

impl RowBatch {
    const ROWS: usize = 1 << 16;

    fn add(&mut self, bytes: &[u8]) -> std::ops::Range<usize> {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        start..self.bytes.len()
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.rows.clear();
        self.keys.clear();
    }
}

/// Calls `key` with each key of a QUT row for a keyed `kind` (not
/// `co-similar-text`, not `co-media`); empty keys are skipped.
fn qut_keys(
    kind: Kind,
    repost: &[u8],
    reply: &[u8],
    message: &[u8],
    urls: &[u8],
    mut key: impl FnMut(&[u8]),
) {
    let mut some = |k: &[u8]| {
        if !k.is_empty() {
            key(k)
        }
    };
    if kind == Kind::CoRetweet {
        return some(repost);
    }
    if !repost.is_empty() {
        return;
    }
    let urls = String::from_utf8_lossy(urls);
    let links = || urls.split(' ').filter(|u| !u.is_empty()).map(Link::new);
    match kind {
        Kind::CoReply => some(reply),
        Kind::CoTweet => {
            some(similarity::normalize_cotweet(&String::from_utf8_lossy(message)).as_bytes())
        }
        Kind::CoLink => links().for_each(|l| some(l.url.as_bytes())),
        Kind::CoDomain => links().for_each(|l| some(l.domain.as_bytes())),
        Kind::CoHashtag => pharos_core::text::hashtags(&String::from_utf8_lossy(message))
            .iter()
            .for_each(|t| some(t.as_bytes())),
        Kind::CoRetweet | Kind::CoMedia | Kind::CoImage | Kind::CoSimilarText => {}
    }
}

/// One directed edge: `user_1`'s messages matched by `user_2`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DirectedEdge {
    /// Index into [`DirectedNetwork::users`].
    pub user_1: u32,
    pub user_2: u32,
    /// Distinct messages of `user_1` matched by `user_2` (a weighted sum of
    /// those over kinds in a [`multimodal_network`]).
    pub weight: f64,
}

/// A directed network: the users that have an edge, sorted by id (bytes),
/// and the edges sorted by `(user_1, user_2)`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DirectedNetwork {
    pub users: Vec<String>,
    pub edges: Vec<DirectedEdge>,
}

impl DirectedNetwork {
    /// Edges with user ids: `(user_1, user_2, weight)`.
    pub fn named_edges(&self) -> impl Iterator<Item = (&str, &str, f64)> + '_ {
        self.edges.iter().map(|e| {
            (
                self.users[e.user_1 as usize].as_str(),
                self.users[e.user_2 as usize].as_str(),
                e.weight,
            )
        })
    }

    /// Writes `user_1,user_2,weight` CSV (whole weights without a decimal point).
    pub fn write_csv<W: Write>(&self, out: W) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(["user_1", "user_2", "weight"])?;
        for (a, b, weight) in self.named_edges() {
            w.write_record([a, b, &format_weight(weight)])?;
        }
        w.flush()
    }

    /// Builds a network from named edges (sorting users and edges; repeated
    /// pairs are added together).
    pub fn from_named<S: AsRef<str>>(edges: impl IntoIterator<Item = (S, S, f64)>) -> Self {
        let mut map: ahash::AHashMap<(String, String), f64> = ahash::AHashMap::new();
        for (a, b, w) in edges {
            *map.entry((a.as_ref().to_string(), b.as_ref().to_string()))
                .or_insert(0.0) += w;
        }
        let mut users: Vec<String> = map
            .keys()
            .flat_map(|(a, b)| [a.clone(), b.clone()])
            .collect();
        users.sort_unstable();
        users.dedup();
        let index = |s: &str| users.binary_search_by(|u| u.as_str().cmp(s)).unwrap() as u32;
        let mut edges: Vec<DirectedEdge> = map
            .iter()
            .map(|((a, b), &weight)| DirectedEdge {
                user_1: index(a),
                user_2: index(b),
                weight,
            })
            .collect();
        edges.sort_unstable_by_key(|e| (e.user_1, e.user_2));
        DirectedNetwork { users, edges }
    }
}

fn format_weight(w: f64) -> String {
    if w.fract() == 0.0 && w.abs() < 1e15 {
        format!("{}", w as i64)
    } else {
        format!("{w}")
    }
}

/// No known position: find the window by binary search.
const SEARCH: u32 = u32::MAX;

/// Groups of message occurrences sorted by time, and what each message
/// looks up: the internal form both kinds of matching share.
struct Index {
    /// CSR over groups: `starts[g]..starts[g + 1]` index the occurrences.
    starts: Vec<usize>,
    times: Vec<i64>,
    users: Vec<u32>,
    msgs: Vec<u32>,
    /// CSR over messages: `(group, position)` probes of message `m`; the
    /// position is the message's own occurrence in the group (the window is
    /// found by scanning from it, touching only the window), or [`SEARCH`]
    /// for a group the message is not in (similar texts).
    probe_starts: Vec<usize>,
    probes: Vec<(u32, u32)>,
}

impl Index {
    /// From `(group, message)` occurrences (repeats allowed); each message
    /// probes the groups it occurs in, plus `extra(m)` (groups it is not in).
    fn build(
        view: &ByUser,
        occ: &[(u32, u32)],
        n_groups: usize,
        extra: impl Fn(u32) -> Vec<u32> + Sync,
    ) -> Index {
        let time = &view.time;
        let mut occ: Vec<(u32, i64, u32)> = occ
            .par_iter()
            .map(|&(g, m)| (g, time[m as usize], m))
            .collect();
        occ.par_sort_unstable();
        occ.dedup();
        assert!(occ.len() < SEARCH as usize, "fewer than 2^32 occurrences");
        let mut starts = vec![0usize; n_groups + 1];
        for &(g, _, _) in &occ {
            starts[g as usize + 1] += 1;
        }
        for g in 0..n_groups {
            starts[g + 1] += starts[g];
        }
        // Probes per message: own occurrences (counting sort by message),
        // then the extra groups.
        let n = view.time.len();
        let extras: Vec<Vec<u32>> = (0..n as u32).into_par_iter().map(&extra).collect();
        let mut probe_starts = vec![0usize; n + 1];
        for &(_, _, m) in &occ {
            probe_starts[m as usize + 1] += 1;
        }
        for m in 0..n {
            probe_starts[m + 1] += probe_starts[m] + extras[m].len();
        }
        let mut fill: Vec<usize> = probe_starts[..n].to_vec();
        let mut probes = vec![(0u32, 0u32); probe_starts[n]];
        for (i, &(g, _, m)) in occ.iter().enumerate() {
            probes[fill[m as usize]] = (g, i as u32);
            fill[m as usize] += 1;
        }
        for (m, ex) in extras.iter().enumerate() {
            for &g in ex {
                probes[fill[m]] = (g, SEARCH);
                fill[m] += 1;
            }
        }
        Index {
            starts,
            times: occ.iter().map(|o| o.1).collect(),
            users: occ.iter().map(|o| view.user[o.2 as usize]).collect(),
            msgs: occ.iter().map(|o| o.2).collect(),
            probe_starts,
            probes,
        }
    }

    fn probes(&self, m: u32) -> &[(u32, u32)] {
        &self.probes[self.probe_starts[m as usize]..self.probe_starts[m as usize + 1]]
    }

    /// Calls `f(user, message)` for every occurrence in group `g` within
    /// `[t - w, t + w]`; `pos` is the probing message's own occurrence in
    /// `g`, or [`SEARCH`].
    #[inline]
    fn window(&self, (g, pos): (u32, u32), t: i64, w: i64, mut f: impl FnMut(u32, u32)) {
        let (s, e) = (self.starts[g as usize], self.starts[g as usize + 1]);
        let (lo_t, hi_t) = (t.saturating_sub(w), t.saturating_add(w));
        let times = &self.times[..e];
        let lo = if pos == SEARCH {
            s + times[s..].partition_point(|&x| x < lo_t)
        } else {
            let mut i = pos as usize;
            while i > s && times[i - 1] >= lo_t {
                i -= 1;
            }
            i
        };
        let hits = times[lo..e]
            .iter()
            .zip(&self.users[lo..e])
            .zip(&self.msgs[lo..e]);
        for ((&time, &user), &msg) in hits {
            if time > hi_t {
                break;
            }
            f(user, msg);
        }
    }
}

/// Messages renumbered so that each user's are contiguous (by user, then
/// input order): the per-user pass then reads times and probes
/// sequentially instead of jumping through the table. Index `j` here is
/// message `order[j]` of the table.
struct ByUser {
    order: Vec<u32>,
    /// `inv[m]`: the new index of table message `m`.
    inv: Vec<u32>,
    /// CSR over users: `starts[u]..starts[u + 1]`.
    starts: Vec<usize>,
    time: Vec<i64>,
    user: Vec<u32>,
}

impl ByUser {
    fn new(table: &MessageTable) -> ByUser {
        let n_users = table.users.len();
        let mut starts = vec![0usize; n_users + 1];
        for &u in &table.user {
            starts[u as usize + 1] += 1;
        }
        for u in 0..n_users {
            starts[u + 1] += starts[u];
        }
        let mut fill = starts.clone();
        let mut order = vec![0u32; table.len()];
        let mut inv = vec![0u32; table.len()];
        for (m, &u) in table.user.iter().enumerate() {
            order[fill[u as usize]] = m as u32;
            inv[m] = fill[u as usize] as u32;
            fill[u as usize] += 1;
        }
        let time = order.iter().map(|&m| table.time_ms[m as usize]).collect();
        let user = order.iter().map(|&m| table.user[m as usize]).collect();
        ByUser {
            order,
            inv,
            starts,
            time,
            user,
        }
    }

    fn index(&self, table: &MessageTable, params: &DirectedParams) -> Index {
        match table.kind {
            Kind::CoSimilarText => similar_text_index(table, params, self),
            Kind::CoImage => image_index(table, params, self),
            _ => keyed_index(table, self),
        }
    }
}

/// The keyed index: one group per key; a message probes its own keys.
fn keyed_index(table: &MessageTable, view: &ByUser) -> Index {
    keyed_or_near_index(table, view, |_| Vec::new())
}

/// The co-image index: one group per distinct PDQ hash (key); a message
/// probes its own hashes and every stored hash within
/// `params.image_distance` of one of them (found with the media crate's
/// multi-index, distances exact). Keys that are not 64 hex digits match
/// only themselves.
fn image_index(table: &MessageTable, params: &DirectedParams, view: &ByUser) -> Index {
    use pharos_media::{Index as PdqIndex, PdqHash};
    let n = table.keys.len();
    let hashes: Vec<Option<PdqHash>> = (0..n as u32)
        .map(|k| {
            std::str::from_utf8(table.keys.name(k))
                .ok()
                .and_then(|h| h.parse().ok())
        })
        .collect();
    // Index position -> key.
    let keyed: Vec<u32> = (0..n as u32)
        .filter(|&k| hashes[k as usize].is_some())
        .collect();
    let index = PdqIndex::new(keyed.iter().filter_map(|&k| hashes[k as usize]).collect());
    let near: Vec<Vec<u32>> = (0..n)
        .into_par_iter()
        .map(|k| match &hashes[k] {
            Some(h) => index
                .query(h, params.image_distance)
                .into_iter()
                .map(|hit| keyed[hit.id as usize])
                .filter(|&other| other as usize != k)
                .collect(),
            None => Vec::new(),
        })
        .collect();
    // The keys of each message (CSR), to add their neighbours' groups.
    let mut starts = vec![0usize; table.len() + 1];
    for &(m, _) in &table.entries {
        starts[m as usize + 1] += 1;
    }
    for m in 0..table.len() {
        starts[m + 1] += starts[m];
    }
    let mut fill = starts[..table.len()].to_vec();
    let mut own = vec![0u32; table.entries.len()];
    for &(m, k) in &table.entries {
        own[fill[m as usize]] = k;
        fill[m as usize] += 1;
    }
    keyed_or_near_index(table, view, |m| {
        let mine = &own[starts[m]..starts[m + 1]];
        let mut extra: Vec<u32> = mine
            .iter()
            .flat_map(|&k| near[k as usize].iter().copied())
            .filter(|g| !mine.contains(g))
            .collect();
        extra.sort_unstable();
        extra.dedup();
        extra
    })
}

/// The keyed index plus, for each message (table index), the groups
/// `extra(m)` it also probes.
fn keyed_or_near_index(
    table: &MessageTable,
    view: &ByUser,
    extra: impl Fn(usize) -> Vec<u32> + Sync,
) -> Index {
    let occ: Vec<(u32, u32)> = table
        .entries
        .par_iter()
        .map(|&(m, k)| (k, view.inv[m as usize]))
        .collect();
    Index::build(view, &occ, table.keys.len(), |j| {
        extra(view.order[j as usize] as usize)
    })
}

/// The similar-text index: one group per distinct token set; a message
/// probes its own set and every set similar to it (MinHash LSH candidates,
/// verified with exact Jaccard).
fn similar_text_index(table: &MessageTable, params: &DirectedParams, view: &ByUser) -> Index {
    let set_of = |m: usize| {
        let s = if m == 0 { 0 } else { table.set_ends[m - 1] };
        &table.set_tokens[s..table.set_ends[m]]
    };
    // Distinct sets: identical texts are one node.
    let mut distinct = Interner::new();
    let mut bytes = Vec::new();
    let node: Vec<u32> = (0..table.len())
        .map(|m| {
            bytes.clear();
            for t in set_of(m) {
                bytes.extend_from_slice(&t.to_le_bytes());
            }
            distinct.intern(&bytes)
        })
        .collect();
    let n = distinct.len();
    let mut first = vec![u32::MAX; n];
    for (m, &s) in node.iter().enumerate() {
        if first[s as usize] == u32::MAX {
            first[s as usize] = m as u32;
        }
    }
    let sets: Vec<&[u64]> = first.iter().map(|&m| set_of(m as usize)).collect();
    let pairs =
        similarity::near_duplicate_set_pairs(&sets, params.similarity_threshold, &params.lsh);
    let mut neighbours: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (a, b, _) in pairs {
        neighbours[a].push(b as u32);
        neighbours[b].push(a as u32);
    }
    let occ: Vec<(u32, u32)> = node
        .iter()
        .enumerate()
        .map(|(m, &s)| (s, view.inv[m]))
        .collect();
    Index::build(view, &occ, n, |j| {
        neighbours[node[view.order[j as usize] as usize] as usize].clone()
    })
}

/// The directed network of `table` (see the module documentation).
///
/// ```
/// use pharos_analysis::coordination::directed::{directed_network, DirectedParams, Kind, MessageTable};
/// let mut t = MessageTable::new(Kind::CoRetweet);
/// for (id, user, secs, rt) in [("1", "a", 0, "x"), ("2", "b", 10, "x"), ("3", "a", 100, "y"), ("4", "b", 160, "y")] {
///     t.push_keys(id, user, secs * 1000, [rt]);
/// }
/// let net = directed_network(&t, &DirectedParams::new(60, 2.0));
/// let edges: Vec<_> = net.named_edges().collect();
/// assert_eq!(edges, vec![("a", "b", 2.0), ("b", "a", 2.0)]);
/// ```
pub fn directed_network(table: &MessageTable, params: &DirectedParams) -> DirectedNetwork {
    let raw = raw_edges(table, params);
    name_edges(table, raw)
}

/// `(user_1, user_2, weight)` with table user ids, unsorted.
fn raw_edges(table: &MessageTable, params: &DirectedParams) -> Vec<(u32, u32, u32)> {
    if table.is_empty() {
        return Vec::new();
    }
    let view = ByUser::new(table);
    let index = view.index(table, params);
    let n_users = table.users.len();
    let w = params.time_window_ms;
    let self_loops = params.self_loops;
    let min = params.min_edge_weight;
    (0..n_users as u32)
        .into_par_iter()
        .with_min_len(64)
        .fold(
            || (Vec::<u64>::new(), Vec::<(u32, u32, u32)>::new()),
            |(mut acc, mut out), u| {
                acc.clear();
                for m in view.starts[u as usize]..view.starts[u as usize + 1] {
                    let (m, t) = (m as u32, view.time[m]);
                    for &probe in index.probes(m) {
                        index.window(probe, t, w, |v, m2| {
                            if m2 != m && (v != u || self_loops) {
                                acc.push((u64::from(v) << 32) | u64::from(m));
                            }
                        });
                    }
                }
                acc.sort_unstable();
                acc.dedup();
                for run in acc.chunk_by(|a, b| a >> 32 == b >> 32) {
                    if run.len() as f64 >= min {
                        out.push((u, (run[0] >> 32) as u32, run.len() as u32));
                    }
                }
                (acc, out)
            },
        )
        .map(|(_, out)| out)
        .reduce(Vec::new, |mut a, mut b| {
            if a.len() < b.len() {
                std::mem::swap(&mut a, &mut b);
            }
            a.extend_from_slice(&b);
            a
        })
}

/// Renumbers the users of `raw` edges by id order and sorts the edges.
fn name_edges(table: &MessageTable, raw: Vec<(u32, u32, u32)>) -> DirectedNetwork {
    let n_users = table.users.len();
    let mut present = vec![false; n_users];
    for &(a, b, _) in &raw {
        present[a as usize] = true;
        present[b as usize] = true;
    }
    let mut order: Vec<u32> = (0..n_users as u32)
        .filter(|&u| present[u as usize])
        .collect();
    order.par_sort_unstable_by(|&a, &b| table.users.name(a).cmp(table.users.name(b)));
    let mut rank = vec![u32::MAX; n_users];
    for (r, &u) in order.iter().enumerate() {
        rank[u as usize] = r as u32;
    }
    let mut edges: Vec<DirectedEdge> = raw
        .into_iter()
        .map(|(a, b, w)| DirectedEdge {
            user_1: rank[a as usize],
            user_2: rank[b as usize],
            weight: f64::from(w),
        })
        .collect();
    edges.par_sort_unstable_by_key(|e| (e.user_1, e.user_2));
    let users = order
        .iter()
        .map(|&u| table.user_name(u).to_string())
        .collect();
    DirectedNetwork { users, edges }
}

/// Adds the networks of several kinds with a weight each:
/// `weight(u → v) = Σₖ wₖ · weightₖ(u → v)`, keeping edges ≥
/// `params.min_edge_weight`. Each kind's network is computed without a
/// minimum (every matched pair counts) and with `params`' window and
/// self-loop choice. Users are matched across tables by id.
pub fn multimodal_network(
    layers: &[(&MessageTable, f64)],
    params: &DirectedParams,
) -> DirectedNetwork {
    let per_layer = DirectedParams {
        min_edge_weight: 1.0,
        ..*params
    };
    let mut all: Vec<(String, String, f64)> = Vec::new();
    for &(table, weight) in layers {
        let net = directed_network(table, &per_layer);
        all.extend(
            net.named_edges()
                .map(|(a, b, w)| (a.to_string(), b.to_string(), weight * w)),
        );
    }
    let mut net = DirectedNetwork::from_named(all);
    let keep: Vec<DirectedEdge> = net
        .edges
        .iter()
        .copied()
        .filter(|e| e.weight >= params.min_edge_weight)
        .collect();
    net.edges = keep;
    // Drop users left without edges, keeping the id order.
    let mut used = vec![false; net.users.len()];
    for e in &net.edges {
        used[e.user_1 as usize] = true;
        used[e.user_2 as usize] = true;
    }
    let mut remap = vec![u32::MAX; net.users.len()];
    let mut users = Vec::new();
    for (i, name) in net.users.iter().enumerate() {
        if used[i] {
            remap[i] = users.len() as u32;
            users.push(name.clone());
        }
    }
    for e in &mut net.edges {
        e.user_1 = remap[e.user_1 as usize];
        e.user_2 = remap[e.user_2 as usize];
    }
    net.users = users;
    net
}

/// One matched message pair behind an edge: a message of `user_1` and a
/// message of `user_2` within the window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdgeEvidence {
    pub message_1: String,
    pub time_ms_1: i64,
    pub message_2: String,
    pub time_ms_2: i64,
}

/// The message pairs behind edge `user_1 → user_2`: every message of
/// `user_1` with every message of `user_2` that matches it, sorted by the
/// first message's time. The number of distinct `message_1` is the edge's
/// weight.
pub fn edge_evidence(
    table: &MessageTable,
    params: &DirectedParams,
    user_1: &str,
    user_2: &str,
) -> Vec<EdgeEvidence> {
    let (Some(u), Some(v)) = (
        table.users.get(user_1.as_bytes()),
        table.users.get(user_2.as_bytes()),
    ) else {
        return Vec::new();
    };
    let view = ByUser::new(table);
    let index = view.index(table, params);
    let mut pairs = Vec::new();
    for j in view.starts[u as usize]..view.starts[u as usize + 1] {
        let (j, t) = (j as u32, view.time[j]);
        for &probe in index.probes(j) {
            index.window(probe, t, params.time_window_ms, |w, j2| {
                if w == v && j2 != j {
                    pairs.push((view.order[j as usize], view.order[j2 as usize]));
                }
            });
        }
    }
    pairs.sort_unstable_by_key(|&(a, b)| {
        (table.time_ms[a as usize], a, table.time_ms[b as usize], b)
    });
    pairs.dedup();
    pairs
        .into_iter()
        .map(|(a, b)| EdgeEvidence {
            message_1: table.message_id(a).to_string(),
            time_ms_1: table.time_ms[a as usize],
            message_2: table.message_id(b).to_string(),
            time_ms_2: table.time_ms[b as usize],
        })
        .collect()
}

const QUT_COLUMNS: [&str; 7] = [
    "message_id",
    "user_id",
    "repost_id",
    "reply_id",
    "message",
    "timestamp",
    "urls",
];

/// Reads a QUT coordination-network-toolkit CSV
/// (`message_id,user_id,username,repost_id,reply_id,message,timestamp,urls`,
/// columns found by header name; `timestamp` in epoch seconds, decimals
/// allowed; `urls` space-separated; gzip when the name ends in `.gz`) into
/// the table of `kind`. Nothing but the kind's keys is kept.
pub fn read_qut_csv(path: &Path, kind: Kind) -> Result<MessageTable, DirectedError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| DirectedError::Open {
        path: name.clone(),
        source,
    })?;
    let file = io::BufReader::with_capacity(1 << 16, file);
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
    {
        read_qut(flate2::read::MultiGzDecoder::new(file), &name, kind)
    } else {
        read_qut(file, &name, kind)
    }
}

/// [`read_qut_csv`] from any reader; `source_name` names it in errors.
pub fn read_qut<R: Read>(
    reader: R,
    source_name: &str,
    kind: Kind,
) -> Result<MessageTable, DirectedError> {
    if matches!(kind, Kind::CoMedia | Kind::CoImage) {
        return Err(DirectedError::UnsupportedKind {
            source_name: source_name.to_string(),
            kind,
        });
    }
    let csv_err = |source| DirectedError::Csv {
        source_name: source_name.to_string(),
        source,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(reader);
    let header = rdr.byte_headers().map_err(csv_err)?.clone();
    let mut idx = [0usize; 7];
    for (k, col) in QUT_COLUMNS.iter().enumerate() {
        idx[k] = header
            .iter()
            .position(|h| {
                let h = h.strip_prefix(b"\xef\xbb\xbf").unwrap_or(h);
                h.trim_ascii().eq_ignore_ascii_case(col.as_bytes())
            })
            .ok_or_else(|| DirectedError::MissingColumn {
                source_name: source_name.to_string(),
                column: col,
            })?;
    }
    let mut table = MessageTable::new(kind);
    let mut batch = RowBatch::default();
    let mut rec = csv::ByteRecord::new();
    while rdr.read_byte_record(&mut rec).map_err(csv_err)? {
        // Only the fields a kind needs are decoded (invalid UTF-8 is
        // replaced, never fatal).
        let f = |k: usize| rec.get(idx[k]).unwrap_or(b"");
        let (repost, reply, urls) = (f(2), f(3), f(6));
        // Skip rows that cannot have a key of this kind before parsing time.
        let relevant = match kind {
            Kind::CoRetweet => !repost.is_empty(),
            Kind::CoReply => repost.is_empty() && !reply.is_empty(),
            Kind::CoLink | Kind::CoDomain => repost.is_empty() && urls.iter().any(|&b| b != b' '),
            _ => repost.is_empty(),
        };
        if !relevant {
            continue;
        }
        let ts = String::from_utf8_lossy(f(5));
        let ts = ts.trim();
        let bad_time = || DirectedError::BadTime {
            source_name: source_name.to_string(),
            line: rec.position().map_or(0, |p| p.line()),
            value: ts.to_string(),
        };
        let secs: f64 = ts.parse().map_err(|_| bad_time())?;
        if !secs.is_finite() {
            return Err(bad_time());
        }
        let time_ms = (secs * 1000.0).round() as i64;
        if kind == Kind::CoSimilarText {
            let text = |k: usize| String::from_utf8_lossy(f(k));
            table.push_text(&text(0), &text(1), time_ms, &text(4));
            continue;
        }
        let start = batch.keys.len();
        qut_keys(kind, repost, reply, f(4), urls, |k| {
            let r = batch.add(k);
            batch.keys.push(r);
        });
        if batch.keys.len() == start {
            continue;
        }
        let id = batch.add(f(0));
        let user = batch.add(f(1));
        let keys = start..batch.keys.len();
        batch.rows.push(BatchRow {
            id,
            user,
            keys,
            time_ms,
        });
        if batch.rows.len() >= RowBatch::ROWS {
            table.push_batch(&mut batch);
        }
    }
    table.push_batch(&mut batch);
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pharos_core::{Actor, EventTime, Media};

    fn net(
        kind: Kind,
        rows: &[(&str, &str, i64, &[&str])],
        params: &DirectedParams,
    ) -> Vec<(String, String, f64)> {
        let mut t = MessageTable::new(kind);
        for &(id, user, secs, keys) in rows {
            t.push_keys(id, user, secs * 1000, keys.iter());
        }
        directed_network(&t, params)
            .named_edges()
            .map(|(a, b, w)| (a.to_string(), b.to_string(), w))
            .collect()
    }

    fn e(a: &str, b: &str, w: f64) -> (String, String, f64) {
        (a.to_string(), b.to_string(), w)
    }

    fn p(window: i64, min: f64) -> DirectedParams {
        DirectedParams::new(window, min)
    }

    /// `base` with the first `bits` bits flipped, as a `pdq:` hash.
    fn pdq_flipped(base: &str, bits: usize) -> String {
        let mut h: pharos_media::PdqHash = base.parse().unwrap();
        for b in 0..bits {
            h.0[b / 64] ^= 1 << (b % 64);
        }
        format!("pdq:{h}")
    }

    #[test]
    fn co_image_links_near_identical_pictures_and_not_others() {
        let base = "d2f7b4ad6dadda4a3dc96d492bcd729cc6941ce87949c16a1f00fc17d0160936";
        let with = |id: &str, user: &str, secs: i64, hashes: &[String]| {
            let mut p = post(id, user, secs);
            p.media = hashes
                .iter()
                .map(|h| Media {
                    url: format!("photos/{id}.jpg"),
                    hash: Some(h.clone()),
                    ..Default::default()
                })
                .collect();
            p
        };
        let posts = [
            with("1", "a", 0, &[format!("pdq:{base}")]),
            // A re-encoded copy: 12 bits off.
            with("2", "b", 20, &[pdq_flipped(base, 12)]),
            // 31 bits off: still the same picture at the threshold.
            with("3", "c", 40, &[pdq_flipped(base, 31)]),
            // Another picture (and a text hash that is not PDQ) in the window.
            with("4", "d", 30, &[pdq_flipped(base, 128), "phash:1".into()]),
            // 32 bits from the original, 20 from c's: d2 matches c only.
            with("5", "e", 50, &[pdq_flipped(base, 32)]),
            // The original again, but an hour later: outside the window.
            with("6", "f", 3600, &[format!("pdq:{base}")]),
        ];
        let t = MessageTable::from_posts(&posts, Kind::CoImage);
        assert_eq!(t.len(), 6, "one message per post with a PDQ hash");
        let net = directed_network(&t, &p(60, 1.0));
        let mut pairs: Vec<(&str, &str)> = net
            .named_edges()
            .filter(|(a, b, _)| a < b)
            .map(|(a, b, _)| (a, b))
            .collect();
        pairs.sort_unstable();
        // e is 32 bits from a (no), 20 from b, 1 from c.
        assert_eq!(
            pairs,
            [("a", "b"), ("a", "c"), ("b", "c"), ("b", "e"), ("c", "e")]
        );
        // Edges are symmetric here (one post each) and weigh one post.
        assert!(net.named_edges().all(|(_, _, w)| w == 1.0));
        // The evidence names the matched posts.
        let ev = edge_evidence(&t, &p(60, 1.0), "a", "c");
        assert_eq!(
            (ev[0].message_1.as_str(), ev[0].message_2.as_str()),
            ("twitter:1", "twitter:3")
        );
        // A tighter distance keeps only the closest copies.
        let mut tight = p(60, 1.0);
        tight.image_distance = 12;
        let net = directed_network(&t, &tight);
        let pairs: Vec<(&str, &str)> = net
            .named_edges()
            .filter(|(a, b, _)| a < b)
            .map(|(a, b, _)| (a, b))
            .collect();
        assert_eq!(pairs, [("a", "b"), ("c", "e")]);
    }

    #[test]
    fn window_is_inclusive_on_both_sides() {
        let rows: &[(&str, &str, i64, &[&str])] = &[
            ("1", "a", 100, &["x"]),
            ("2", "b", 160, &["x"]),
            ("3", "c", 40, &["x"]),
            ("4", "d", 161, &["x"]),
        ];
        let got = net(Kind::CoRetweet, rows, &p(60, 1.0));
        // a–b at +60 and a–c at −60 match; a–d at +61 does not; b–d 1 s apart.
        assert_eq!(
            got,
            vec![
                e("a", "b", 1.0),
                e("a", "c", 1.0),
                e("b", "a", 1.0),
                e("b", "d", 1.0),
                e("c", "a", 1.0),
                e("d", "b", 1.0),
            ]
        );
    }

    #[test]
    fn weight_counts_distinct_messages_of_the_first_user() {
        // Three retweets of a inside one burst, one retweet of b.
        let rows: &[(&str, &str, i64, &[&str])] = &[
            ("1", "a", 0, &["x"]),
            ("2", "a", 10, &["x"]),
            ("3", "a", 20, &["x"]),
            ("4", "b", 15, &["x"]),
            // b twice on y, a once: a's one message counts once.
            ("5", "a", 500, &["y"]),
            ("6", "b", 501, &["y"]),
            ("7", "b", 502, &["y"]),
        ];
        let got = net(Kind::CoRetweet, rows, &p(60, 1.0));
        assert_eq!(got, vec![e("a", "b", 4.0), e("b", "a", 3.0)]);
    }

    #[test]
    fn several_shared_keys_count_a_message_once() {
        // Message 1 shares two links with message 2: one matched message.
        let rows: &[(&str, &str, i64, &[&str])] = &[
            ("1", "a", 0, &["u1", "u2"]),
            ("2", "b", 5, &["u1", "u2", "u3"]),
            ("3", "a", 100, &["u3"]),
            ("4", "b", 101, &["u3"]),
        ];
        let got = net(Kind::CoLink, rows, &p(60, 1.0));
        assert_eq!(got, vec![e("a", "b", 2.0), e("b", "a", 2.0)]);
        // A repeated message id adds keys to its first row, never a message.
        let mut t = MessageTable::new(Kind::CoLink);
        t.push_keys("1", "a", 0, ["u1"]);
        t.push_keys("1", "z", 999_000, ["u2"]);
        t.push_keys("2", "b", 1_000, ["u2"]);
        assert_eq!(t.len(), 2);
        let n = directed_network(&t, &p(60, 1.0));
        assert_eq!(
            n.named_edges().collect::<Vec<_>>(),
            vec![("a", "b", 1.0), ("b", "a", 1.0)]
        );
    }

    #[test]
    fn empty_keys_never_match() {
        let rows: &[(&str, &str, i64, &[&str])] = &[
            ("1", "a", 0, &[""]),
            ("2", "b", 1, &[""]),
            ("3", "a", 2, &[]),
            ("4", "b", 3, &[]),
        ];
        assert!(net(Kind::CoLink, rows, &p(60, 1.0)).is_empty());
        // The QUT reader: empty urls cells, empty texts, empty reply ids.
        let csv = "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n\
                   1,a,A,,,@x,0,\n2,b,B,,,@y,1,\n3,a,A,,,,2, \n4,b,B,,,,3,\n";
        for kind in [
            Kind::CoLink,
            Kind::CoTweet,
            Kind::CoReply,
            Kind::CoSimilarText,
            Kind::CoHashtag,
        ] {
            let t = read_qut(csv.as_bytes(), "t", kind).unwrap();
            assert!(t.is_empty(), "{kind}");
            let mut params = p(60, 1.0);
            params.self_loops = true;
            assert!(directed_network(&t, &params).edges.is_empty(), "{kind}");
        }
    }

    #[test]
    fn self_loops_only_on_request_and_never_a_message_with_itself() {
        let rows: &[(&str, &str, i64, &[&str])] = &[
            ("1", "a", 0, &["x"]),
            ("2", "a", 30, &["x"]),
            ("3", "b", 1000, &["y"]), // alone: no loop from matching itself
            ("4", "c", 31, &["x"]),
        ];
        let got = net(Kind::CoRetweet, rows, &p(60, 1.0));
        assert_eq!(got, vec![e("a", "c", 2.0), e("c", "a", 1.0)]);
        let mut params = p(60, 1.0);
        params.self_loops = true;
        let got = net(Kind::CoRetweet, rows, &params);
        assert_eq!(
            got,
            vec![e("a", "a", 2.0), e("a", "c", 2.0), e("c", "a", 1.0)]
        );
    }

    #[test]
    fn min_edge_weight_keeps_weights_at_the_minimum() {
        let rows: &[(&str, &str, i64, &[&str])] = &[
            ("1", "a", 0, &["x"]),
            ("2", "b", 1, &["x"]),
            ("3", "a", 100, &["y"]),
            ("4", "b", 101, &["y"]),
            ("5", "a", 200, &["z"]),
            ("6", "c", 201, &["z"]),
        ];
        assert_eq!(
            net(Kind::CoRetweet, rows, &p(60, 2.0)),
            vec![e("a", "b", 2.0), e("b", "a", 2.0)]
        );
        assert!(net(Kind::CoRetweet, rows, &p(60, 3.0)).is_empty());
        assert_eq!(net(Kind::CoRetweet, rows, &p(60, 1.0)).len(), 4);
    }

    fn post(id: &str, user: &str, secs: i64) -> Post {
        Post {
            platform: "twitter".into(),
            id: id.into(),
            actor: Actor {
                id: user.into(),
                ..Default::default()
            },
            time: EventTime::from_secs(secs),
            ..Default::default()
        }
    }

    #[test]
    fn from_posts_reads_each_kind_and_skips_reshares_for_content() {
        let mut p1 = post("1", "a", 0);
        p1.text = "Vote NOW @bob https://x.org/a".into();
        p1.add_link("https://x.org/a?utm_source=tw");
        p1.hashtags = vec!["vote".into()];
        p1.reply_to = Some("99".into());
        p1.media = vec![Media {
            hash: Some(format!("pdq:{}", "0f".repeat(32))),
            ..Default::default()
        }];
        let mut p2 = p1.clone();
        p2.id = "2".into();
        p2.actor.id = "b".into();
        p2.text = "vote now   https://x.org/a @carol".into();
        p2.time = EventTime::from_secs(30);
        let mut rt = p1.clone();
        rt.id = "3".into();
        rt.actor.id = "c".into();
        rt.reshare_of = Some("1".into());
        let mut rt2 = rt.clone();
        rt2.id = "4".into();
        rt2.actor.id = "d".into();
        let posts = [p1, p2, rt, rt2];
        let params = p(60, 1.0);
        for kind in Kind::ALL {
            let t = MessageTable::from_posts(&posts, kind);
            let got: Vec<(String, String)> = directed_network(&t, &params)
                .named_edges()
                .map(|(a, b, _)| (a.into(), b.into()))
                .collect();
            let want: Vec<(String, String)> = if kind == Kind::CoRetweet {
                vec![("c".into(), "d".into()), ("d".into(), "c".into())]
            } else {
                vec![("a".into(), "b".into()), ("b".into(), "a".into())]
            };
            assert_eq!(got, want, "{kind}");
        }
    }

    #[test]
    fn similar_text_uses_jaccard_threshold_and_window() {
        let mut t = MessageTable::new(Kind::CoSimilarText);
        let base = "one two three four five six seven eight nine ten";
        t.push_text("1", "a", 0, base);
        // 9 of 11 tokens shared: Jaccard 9/11 = 0.818.
        t.push_text(
            "2",
            "b",
            10_000,
            "one two three four five six seven eight nine eleven",
        );
        // 8 / 12 = 0.667: not similar.
        t.push_text(
            "3",
            "c",
            10_000,
            "one two three four five six seven eight x y",
        );
        // Identical but outside the window.
        t.push_text("4", "d", 200_000, base);
        t.push_text("5", "e", 5_000, "@only https://mention.example");
        assert_eq!(t.len(), 4);
        let n = directed_network(&t, &p(60, 1.0));
        assert_eq!(
            n.named_edges().collect::<Vec<_>>(),
            vec![("a", "b", 1.0), ("b", "a", 1.0)]
        );
        let mut strict = p(60, 1.0);
        strict.similarity_threshold = 0.9;
        assert!(directed_network(&t, &strict).edges.is_empty());
        let ev = edge_evidence(&t, &p(60, 1.0), "a", "b");
        assert_eq!(ev.len(), 1);
        assert_eq!(
            (ev[0].message_1.as_str(), ev[0].message_2.as_str()),
            ("1", "2")
        );
    }

    #[test]
    fn multimodal_adds_weighted_kinds() {
        let mut links = MessageTable::new(Kind::CoLink);
        let mut tags = MessageTable::new(Kind::CoHashtag);
        links.push_keys("1", "a", 0, ["u"]);
        links.push_keys("2", "b", 1_000, ["u"]);
        tags.push_keys("1", "a", 0, ["h"]);
        tags.push_keys("3", "b", 2_000, ["h"]);
        tags.push_keys("4", "a", 100_000, ["h"]);
        tags.push_keys("5", "c", 100_000, ["h"]);
        let params = p(60, 1.5);
        let n = multimodal_network(&[(&links, 1.0), (&tags, 0.5)], &params);
        // a→b: 1 link + 0.5 × 1 tag; a→c: 0.5 only, below 1.5.
        assert_eq!(
            n.named_edges().collect::<Vec<_>>(),
            vec![("a", "b", 1.5), ("b", "a", 1.5)]
        );
        let mut buf = Vec::new();
        n.write_csv(&mut buf).unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "user_1,user_2,weight\na,b,1.5\nb,a,1.5\n"
        );
    }

    #[test]
    fn kind_names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.name()).unwrap(), k);
        }
        assert_eq!(
            Kind::parse("co_similar_tweet").unwrap(),
            Kind::CoSimilarText
        );
        assert!(Kind::parse("co-nothing").is_err());
        assert!(matches!(
            read_qut("message_id\n".as_bytes(), "t", Kind::CoMedia),
            Err(DirectedError::UnsupportedKind { .. })
        ));
    }

    fn read_edges(path: &Path) -> Vec<(String, String, f64)> {
        let mut r = csv::Reader::from_path(path).unwrap();
        assert_eq!(r.headers().unwrap(), vec!["user_1", "user_2", "weight"]);
        let mut v: Vec<(String, String, f64)> = r
            .records()
            .map(|rec| {
                let rec = rec.unwrap();
                (
                    rec[0].to_string(),
                    rec[1].to_string(),
                    rec[2].parse().unwrap(),
                )
            })
            .collect();
        v.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        v
    }

    /// Edge sets from coordination-network-toolkit 1.5.2 on a seeded
    /// synthetic QUT table (see `tests/fixtures/qut/README.md`).
    #[test]
    fn parity_with_the_toolkit_fixture() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qut");
        let input = dir.join("input.csv");
        for (kind, file) in [
            (Kind::CoRetweet, "co_retweet"),
            (Kind::CoTweet, "co_tweet"),
            (Kind::CoLink, "co_link"),
            (Kind::CoReply, "co_reply"),
        ] {
            for (window, min) in [(60, 2), (10, 1)] {
                let expected = read_edges(&dir.join(format!("{file}_w{window}_m{min}.csv")));
                assert!(expected.len() > 20, "{file}: fixture too small");
                let table = read_qut_csv(&input, kind).unwrap();
                let net = directed_network(&table, &DirectedParams::new(window, min as f64));
                let got: Vec<(String, String, f64)> = net
                    .named_edges()
                    .map(|(a, b, w)| (a.to_string(), b.to_string(), w))
                    .collect();
                assert_eq!(
                    got.len(),
                    expected.len(),
                    "{file} w{window} m{min}: edge count"
                );
                assert_eq!(got, expected, "{file} w{window} m{min}");
            }
        }
    }
}
