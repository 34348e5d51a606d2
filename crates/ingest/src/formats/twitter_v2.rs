//! Twitter/X API v2 JSONL, one JSON object a line, in either shape:
//!
//! - **response pages** as the API (and `twarc2 search`/`timeline`) return
//!   them: `{"data": [tweet, ...], "includes": {"users", "tweets", "media"},
//!   "errors": [...], "meta": {...}}`; streaming pages carry one tweet
//!   object as `data`;
//! - **flattened tweets** as `twarc2 flatten` writes them: one tweet a line
//!   with its `author`, `attachments.media` and `referenced_tweets` objects
//!   inline.
//!
//! Only the tweets in `data` (or the flattened tweet itself) become posts;
//! `includes.tweets` are context (the tweets referred to) and are not posts
//! of their own. A page with only `errors` (the API reporting suspended or
//! deleted accounts) gives nothing and is not an error. A page of user
//! objects (a users lookup, no tweets) gives no posts and one rejection
//! saying so, so an analyst who passes the wrong file is told.
//!
//! What is taken from a tweet:
//! - `referenced_tweets`: `retweeted` → `reshare_of`, `quoted` → `quote_of`,
//!   `replied_to` → `reply_to`.
//! - actor: the author from `includes.users` (or the inline `author`):
//!   id, `username` → handle, name, `created_at`, followers, following,
//!   `tweet_count` → posts, verified. A tweet whose author is not in the
//!   includes keeps the bare `author_id`.
//! - text: the tweet's own `text` (or `note_tweet.text`, the full text of a
//!   long tweet), always. For a retweet that text is the truncated
//!   `RT @user: ...`; it is kept as it is, because that is what the account
//!   published and near-duplicate detection should see retweets as such.
//!   The retweeted tweet's links, hashtags, mentions and media (from
//!   `includes.tweets` or the inline reference) are added to the retweet,
//!   since a retweet spreads them even where the truncation cut them off.
//! - entities: `urls` (`expanded_url`, else `unwound_url`, else `url`;
//!   links to the tweet's own attached media, `pic.twitter.com/...`, are
//!   left out as those are in `media`), `hashtags`, `mentions`.
//! - media: `attachments.media_keys` resolved in `includes.media` (or the
//!   inline `attachments.media`), with `url`, else `preview_image_url`, and
//!   the `media_key` as the item's `key`; a key missing from
//!   `includes.media` is kept as an item with the key alone.
//! - engagement: `like_count` → likes, `retweet_count` → reshares (quotes
//!   are not added), `reply_count` → replies, `impression_count` → views.
//! - `lang` as given (the normaliser turns `und` into "unknown").
//!
//! Provenance is the file and line (a page's tweets share its line); the
//! rejection of one tweet of a page names the line and the tweet's
//! position in the page, and carries that tweet's JSON as the raw record.
//!
//! Parsing goes through small typed structs borrowing from the line, with
//! both shapes (page and flattened tweet) in one struct, so a line is
//! parsed once whichever it is.

use crate::input::utf8_line;
use crate::{Item, Rejection, Sink};
use pharos_core::{Actor, Engagement, EventTime, Media, MediaKind, Post, Provenance};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::BufRead;
use std::ops::ControlFlow;

/// Reads Twitter API v2 pages or flattened tweets, one JSON object a line.
pub fn read(reader: &mut dyn BufRead, source: &str, sink: &mut Sink<'_>) {
    // Lines are parsed in place in the reader's buffer when they fit in it
    // (no copy); a line that spans buffer refills is gathered in `long`, up
    // to MAX_LINE_BYTES: past that the line is skipped as it is read
    // (`skipped` counts its length) and quarantined.
    let max = crate::limits::MAX_LINE_BYTES;
    let mut long: Vec<u8> = Vec::new();
    let mut skipped: Option<u64> = None;
    let mut line: u64 = 0;
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = sink(read_error(source, line + 1, &e));
                return;
            }
        };
        if buf.is_empty() {
            if let Some(len) = skipped {
                line += 1;
                let _ = sink(too_long(source, line, len, &long));
            } else if !long.is_empty() {
                line += 1;
                let _ = read_line(source, line, trim_eol(&long), sink);
            }
            return;
        }
        match memchr::memchr(b'\n', buf) {
            Some(pos) if long.is_empty() && skipped.is_none() && pos <= max => {
                line += 1;
                let flow = read_line(source, line, trim_eol(&buf[..pos]), sink);
                reader.consume(pos + 1);
                if flow.is_break() {
                    return;
                }
            }
            Some(pos) => {
                let total = skipped.unwrap_or(long.len() as u64) + pos as u64;
                line += 1;
                let flow = if total > max as u64 {
                    let room = max.saturating_sub(long.len()).min(pos);
                    long.extend_from_slice(&buf[..room]);
                    sink(too_long(source, line, total, &long))
                } else {
                    long.extend_from_slice(&buf[..pos]);
                    read_line(source, line, trim_eol(&long), sink)
                };
                reader.consume(pos + 1);
                long.clear();
                skipped = None;
                if flow.is_break() {
                    return;
                }
            }
            None => {
                let n = buf.len();
                let total = skipped.unwrap_or(long.len() as u64) + n as u64;
                if total > max as u64 {
                    let room = max.saturating_sub(long.len()).min(n);
                    long.extend_from_slice(&buf[..room]);
                    skipped = Some(total);
                } else {
                    long.extend_from_slice(buf);
                }
                reader.consume(n);
            }
        }
    }
}

fn too_long(source: &str, line: u64, len: u64, head: &[u8]) -> Item {
    reject(
        source,
        line,
        crate::input::too_long_reason(len, crate::limits::MAX_LINE_BYTES),
        String::from_utf8_lossy(&head[..head.len().min(1024)]),
    )
}

fn trim_eol(bytes: &[u8]) -> &[u8] {
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
}

fn read_error(source: &str, line: u64, e: &std::io::Error) -> Item {
    reject(
        source,
        line,
        format!("read error (truncated or corrupt file?): {e}"),
        "",
    )
}

fn reject(source: &str, line: u64, reason: impl Into<String>, raw: impl Into<String>) -> Item {
    Item::Rejected(Rejection::new(source, Some(line), None, reason, raw))
}

fn read_line(source: &str, line: u64, bytes: &[u8], sink: &mut Sink<'_>) -> ControlFlow<()> {
    let text = match utf8_line(bytes) {
        Ok(t) => t,
        Err(reason) => return sink(reject(source, line, reason, String::from_utf8_lossy(bytes))),
    };
    let t = text.trim();
    if t.is_empty() {
        return ControlFlow::Continue(());
    }
    let obj: Tweet<'_> = match serde_json::from_str(t) {
        Ok(o) => o,
        Err(e) => {
            let reason = if e.is_eof() {
                format!("line is cut short (truncated file?): {e}")
            } else if e.is_data() {
                format!("not shaped like a Twitter API v2 page or tweet: {e}")
            } else {
                format!("not JSON: {e}")
            };
            return sink(reject(source, line, reason, t));
        }
    };
    match &obj.data {
        Some(data) => {
            let items: &[Tweet<'_>] = match data {
                Data::One(t) => std::slice::from_ref(&**t),
                Data::Many(v) => v,
            };
            let ctx = Context::new(obj.includes.as_ref());
            let users_page = !items.is_empty()
                && items
                    .iter()
                    .all(|t| t.username.is_some() && t.author_id.is_none() && t.text.is_none());
            if users_page {
                return sink(reject(
                    source,
                    line,
                    format!(
                        "a page of {} user objects (a users lookup), not tweets: nothing to import as posts",
                        items.len()
                    ),
                    cut(t),
                ));
            }
            for (i, tweet) in items.iter().enumerate() {
                let item = match build(tweet, &ctx, source, line) {
                    Ok(post) => Item::Post(Box::new(post)),
                    Err(reason) => {
                        let where_ = if matches!(data, Data::One(_)) {
                            String::new()
                        } else {
                            format!(" (tweet {} of {} in the page)", i + 1, items.len())
                        };
                        reject(
                            source,
                            line,
                            format!("{reason}{where_}"),
                            raw_tweet(t, i, matches!(data, Data::One(_))),
                        )
                    }
                };
                sink(item)?;
            }
            ControlFlow::Continue(())
        }
        None => {
            if obj.id.is_none() && obj.author_id.is_none() && obj.text.is_none() {
                if obj.errors.is_some() {
                    // An error-only page: the API had nothing for this request.
                    return ControlFlow::Continue(());
                }
                if obj.includes.is_some() {
                    // Includes without data (e.g. a page of expansions only).
                    return ControlFlow::Continue(());
                }
                return sink(reject(
                    source,
                    line,
                    "neither a Twitter API v2 page (no \"data\") nor a tweet (no \"id\"): is this the right format?",
                    t,
                ));
            }
            let ctx = Context::new(obj.includes.as_ref());
            let item = match build(&obj, &ctx, source, line) {
                Ok(post) => Item::Post(Box::new(post)),
                Err(reason) => reject(source, line, reason, t),
            };
            sink(item)
        }
    }
}

fn cut(s: &str) -> String {
    // Rejection::new cuts at 64 KiB; a users page does not need more than its start.
    let mut end = s.len().min(4096);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// The raw JSON of the `i`th tweet of a page (slow path, rejections only).
fn raw_tweet(line: &str, i: usize, single: bool) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
        return cut(line);
    };
    let tweet = if single {
        v.get("data")
    } else {
        v.get("data").and_then(|d| d.get(i))
    };
    tweet.map(|t| t.to_string()).unwrap_or_else(|| cut(line))
}

/// Lookups into a page's `includes`.
struct Context<'p, 'a> {
    users: HashMap<&'p str, &'p User<'a>>,
    tweets: HashMap<&'p str, &'p RefTweet<'a>>,
    media: HashMap<&'p str, &'p MediaObj<'a>>,
}

impl<'p, 'a> Context<'p, 'a> {
    fn new(includes: Option<&'p Includes<'a>>) -> Self {
        let mut ctx = Context {
            users: HashMap::new(),
            tweets: HashMap::new(),
            media: HashMap::new(),
        };
        if let Some(inc) = includes {
            ctx.users.reserve(inc.users.len());
            for u in &inc.users {
                ctx.users.insert(&u.id, u);
            }
            for t in &inc.tweets {
                if let Some(id) = &t.id {
                    ctx.tweets.insert(id, t);
                }
            }
            for m in &inc.media {
                if let Some(k) = &m.media_key {
                    ctx.media.insert(k, m);
                }
            }
        }
        ctx
    }
}

fn build(t: &Tweet<'_>, ctx: &Context<'_, '_>, source: &str, line: u64) -> Result<Post, String> {
    let id = match t.id.as_deref() {
        Some(id) if !id.trim().is_empty() => id,
        _ => return Err("tweet without \"id\"".into()),
    };
    let author_id = t
        .author_id
        .as_deref()
        .or(t.author.as_ref().map(|a| &*a.id))
        .filter(|a| !a.trim().is_empty())
        .ok_or_else(|| format!("tweet {id} without \"author_id\""))?;
    let created = t
        .created_at
        .as_deref()
        .ok_or_else(|| format!("tweet {id} without \"created_at\""))?;
    let time = EventTime::parse(created).map_err(|e| format!("tweet {id}: {e}"))?;

    let user = t
        .author
        .as_ref()
        .or_else(|| ctx.users.get(author_id).copied());
    let actor = match user {
        Some(u) => actor_of(author_id, u),
        None => Actor {
            id: author_id.to_string(),
            ..Default::default()
        },
    };

    let note = t.note_tweet.as_ref();
    let text = note
        .and_then(|n| n.text.as_deref())
        .or(t.text.as_deref())
        .unwrap_or("");

    let mut post = Post {
        platform: "twitter".to_string(),
        id: id.to_string(),
        actor,
        time,
        text: text.to_string(),
        lang: t.lang.as_deref().map(str::to_string),
        provenance: Provenance {
            source: source.to_string(),
            line: Some(line),
            record: None,
        },
        ..Default::default()
    };

    // Long tweets: note_tweet entities cover the full text.
    let entities = note
        .and_then(|n| n.entities.as_ref())
        .or(t.entities.as_ref());
    if let Some(e) = entities {
        add_entities(&mut post, e);
    }
    if let Some(att) = &t.attachments {
        add_media(&mut post, att, ctx);
    }

    if let Some(refs) = &t.referenced_tweets {
        for r in refs {
            let Some(rid) = r.id.as_deref() else { continue };
            match r.kind.as_deref() {
                Some("retweeted") => {
                    post.reshare_of = Some(rid.to_string());
                    // The inline object (flattened) or the one in includes.
                    let original = if r.has_content() {
                        Some(r)
                    } else {
                        ctx.tweets.get(rid).copied()
                    };
                    if let Some(o) = original {
                        let oe = o
                            .note_tweet
                            .as_ref()
                            .and_then(|n| n.entities.as_ref())
                            .or(o.entities.as_ref());
                        if let Some(e) = oe {
                            add_entities(&mut post, e);
                        }
                        if let Some(att) = &o.attachments {
                            add_media(&mut post, att, ctx);
                        }
                    }
                }
                Some("quoted") => post.quote_of = Some(rid.to_string()),
                Some("replied_to") => post.reply_to = Some(rid.to_string()),
                _ => {}
            }
        }
    }

    if let Some(m) = &t.public_metrics {
        post.engagement = Engagement {
            likes: m.like_count,
            reshares: m.retweet_count,
            replies: m.reply_count,
            views: m.impression_count,
        };
    }
    Ok(post)
}

fn actor_of(author_id: &str, u: &User<'_>) -> Actor {
    let m = u.public_metrics.as_ref();
    Actor {
        id: author_id.to_string(),
        handle: u.username.as_deref().map(str::to_string),
        name: u.name.as_deref().map(str::to_string),
        created: u
            .created_at
            .as_deref()
            .and_then(|c| EventTime::parse(c).ok()),
        followers: m.and_then(|m| m.followers_count),
        following: m.and_then(|m| m.following_count),
        posts: m.and_then(|m| m.tweet_count),
        verified: u.verified,
        avatar: u
            .profile_image_url
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string),
    }
}

fn add_entities(post: &mut Post, e: &Entities<'_>) {
    for u in &e.urls {
        if u.media_key.is_some()
            || u.display_url
                .as_deref()
                .is_some_and(|d| d.starts_with("pic.twitter.com/") || d.starts_with("pic.x.com/"))
        {
            continue;
        }
        let best = u
            .expanded_url
            .as_deref()
            .or(u.unwound_url.as_deref())
            .or(u.url.as_deref())
            .unwrap_or("");
        post.add_link(best);
    }
    for h in &e.hashtags {
        let tag = h.tag.as_deref().unwrap_or("");
        if !tag.is_empty() && !post.hashtags.iter().any(|x| x == tag) {
            post.hashtags.push(tag.to_string());
        }
    }
    for m in &e.mentions {
        let name = m.username.as_deref().unwrap_or("");
        if !name.is_empty() && !post.mentions.iter().any(|x| x == name) {
            post.mentions.push(name.to_string());
        }
    }
}

fn add_media(post: &mut Post, att: &Attachments<'_>, ctx: &Context<'_, '_>) {
    let mut push = |key: Option<&str>, kind: Option<&str>, url: Option<&str>| {
        let url = url.unwrap_or("").to_string();
        let key = key.filter(|k| !k.is_empty());
        let seen = |x: &Media| {
            (!url.is_empty() && x.url == url) || (key.is_some() && x.key.as_deref() == key)
        };
        if (url.is_empty() && key.is_none()) || post.media.iter().any(seen) {
            return;
        }
        post.media.push(Media {
            url,
            kind: kind.map(MediaKind::from_source).unwrap_or_default(),
            hash: None,
            key: key.map(str::to_string),
        });
    };
    fn fields<'m>(m: &'m MediaObj<'_>) -> (Option<&'m str>, Option<&'m str>, Option<&'m str>) {
        let url = m.url.as_deref().or(m.preview_image_url.as_deref());
        (m.media_key.as_deref(), m.kind.as_deref(), url)
    }
    if !att.media.is_empty() {
        for m in &att.media {
            let (key, kind, url) = fields(m);
            push(key, kind, url);
        }
    } else {
        for key in &att.media_keys {
            match ctx.media.get(&**key) {
                Some(m) => {
                    let (key, kind, url) = fields(m);
                    push(key, kind, url);
                }
                // Not in `includes.media` (a page cut short, a deleted
                // item): the key alone still names the item.
                None => push(Some(key), None, None),
            }
        }
    }
}

// ---- the wire format -------------------------------------------------------

/// A tweet object, which is also the shape of a whole line: a page has
/// `data`/`includes`/`errors`, a flattened tweet has the tweet fields (and
/// `author`, inline media and references). One struct for both means one
/// parse per line.
#[derive(Deserialize, Default)]
struct Tweet<'a> {
    // Page fields.
    #[serde(borrow, default)]
    data: Option<Data<'a>>,
    #[serde(borrow, default)]
    includes: Option<Includes<'a>>,
    #[serde(default)]
    errors: Option<IgnoredAny>,
    // Tweet fields.
    #[serde(borrow, default)]
    id: Option<Str<'a>>,
    #[serde(borrow, default)]
    author_id: Option<Str<'a>>,
    /// Inline author (flattened tweets).
    #[serde(borrow, default)]
    author: Option<User<'a>>,
    #[serde(borrow, default)]
    created_at: Option<Str<'a>>,
    #[serde(borrow, default)]
    text: Option<Str<'a>>,
    #[serde(borrow, default)]
    note_tweet: Option<NoteTweet<'a>>,
    #[serde(borrow, default)]
    lang: Option<Str<'a>>,
    #[serde(borrow, default)]
    entities: Option<Entities<'a>>,
    #[serde(borrow, default)]
    attachments: Option<Attachments<'a>>,
    #[serde(borrow, default)]
    referenced_tweets: Option<Vec<RefTweet<'a>>>,
    #[serde(default)]
    public_metrics: Option<TweetMetrics>,
    /// Present on user objects: tells a users page from a tweets page.
    #[serde(borrow, default)]
    username: Option<Str<'a>>,
}

/// `data`: an array of tweets (pages) or one tweet (streaming).
enum Data<'a> {
    One(Box<Tweet<'a>>),
    Many(Vec<Tweet<'a>>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Data<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Data<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a tweet object or an array of tweets")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data<'a>, A::Error> {
                let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(512));
                while let Some(t) = seq.next_element()? {
                    v.push(t);
                }
                Ok(Data::Many(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Data<'a>, A::Error> {
                let t = Tweet::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Data::One(Box::new(t)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Data<'a>, E> {
                Ok(Data::Many(Vec::new()))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A referenced tweet: `{"type", "id"}` in pages, with the whole tweet
/// inline in flattened files; also the shape of `includes.tweets`.
#[derive(Deserialize)]
struct RefTweet<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Str<'a>>,
    #[serde(borrow, default)]
    id: Option<Str<'a>>,
    #[serde(borrow, default)]
    text: Option<Str<'a>>,
    #[serde(borrow, default)]
    note_tweet: Option<NoteTweet<'a>>,
    #[serde(borrow, default)]
    entities: Option<Entities<'a>>,
    #[serde(borrow, default)]
    attachments: Option<Attachments<'a>>,
}

impl RefTweet<'_> {
    /// Whether the tweet itself is inline (flattened), not just its id.
    fn has_content(&self) -> bool {
        self.text.is_some() || self.entities.is_some() || self.attachments.is_some()
    }
}

#[derive(Deserialize, Default)]
struct Includes<'a> {
    #[serde(borrow, default)]
    users: Vec<User<'a>>,
    #[serde(borrow, default)]
    tweets: Vec<RefTweet<'a>>,
    #[serde(borrow, default)]
    media: Vec<MediaObj<'a>>,
}

#[derive(Deserialize)]
struct User<'a> {
    #[serde(borrow)]
    id: Str<'a>,
    #[serde(borrow, default)]
    username: Option<Str<'a>>,
    #[serde(borrow, default)]
    name: Option<Str<'a>>,
    #[serde(borrow, default)]
    created_at: Option<Str<'a>>,
    #[serde(default)]
    public_metrics: Option<UserMetrics>,
    #[serde(default)]
    verified: Option<bool>,
    #[serde(borrow, default)]
    profile_image_url: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct UserMetrics {
    #[serde(default)]
    followers_count: Option<u64>,
    #[serde(default)]
    following_count: Option<u64>,
    #[serde(default)]
    tweet_count: Option<u64>,
}

#[derive(Deserialize)]
struct TweetMetrics {
    #[serde(default)]
    like_count: Option<u64>,
    #[serde(default)]
    retweet_count: Option<u64>,
    #[serde(default)]
    reply_count: Option<u64>,
    #[serde(default)]
    impression_count: Option<u64>,
}

#[derive(Deserialize)]
struct NoteTweet<'a> {
    #[serde(borrow, default)]
    text: Option<Str<'a>>,
    #[serde(borrow, default)]
    entities: Option<Entities<'a>>,
}

#[derive(Deserialize, Default)]
struct Entities<'a> {
    #[serde(borrow, default)]
    urls: Vec<UrlEntity<'a>>,
    #[serde(borrow, default)]
    hashtags: Vec<TagEntity<'a>>,
    #[serde(borrow, default)]
    mentions: Vec<MentionEntity<'a>>,
}

#[derive(Deserialize)]
struct UrlEntity<'a> {
    #[serde(borrow, default)]
    url: Option<Str<'a>>,
    #[serde(borrow, default)]
    expanded_url: Option<Str<'a>>,
    #[serde(borrow, default)]
    unwound_url: Option<Str<'a>>,
    #[serde(borrow, default)]
    display_url: Option<Str<'a>>,
    #[serde(default)]
    media_key: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct TagEntity<'a> {
    #[serde(borrow, default)]
    tag: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct MentionEntity<'a> {
    #[serde(borrow, default)]
    username: Option<Str<'a>>,
}

#[derive(Deserialize, Default)]
struct Attachments<'a> {
    #[serde(borrow, default)]
    media_keys: Vec<Str<'a>>,
    /// Inline media objects (flattened tweets).
    #[serde(borrow, default)]
    media: Vec<MediaObj<'a>>,
}

#[derive(Deserialize)]
struct MediaObj<'a> {
    #[serde(borrow, default)]
    media_key: Option<Str<'a>>,
    #[serde(rename = "type", borrow, default)]
    kind: Option<Str<'a>>,
    #[serde(borrow, default)]
    url: Option<Str<'a>>,
    #[serde(borrow, default)]
    preview_image_url: Option<Str<'a>>,
}

/// A string borrowed from the line when it has no escapes, owned otherwise
/// (serde only borrows a `Cow` that is not inside an `Option` or `Vec`).
struct Str<'a>(Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v)))
            }
            // Ids written as numbers by some tools.
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}
