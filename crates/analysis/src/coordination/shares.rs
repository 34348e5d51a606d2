//! The input of coordination detection: a compact table of shares.
//!
//! A *share* is one account putting one object (a retweeted post, a link, a
//! hashtag, ...) into the world at one time, through one piece of content of
//! its own (the retweet, the post carrying the link). This is CooRTweet's
//! `object_id, account_id, content_id, timestamp_share` table.
//!
//! Objects and accounts are interned to `u32` once, when the table is built,
//! so detection compares and hashes integers and never strings. Contents are
//! nearly always unique (each share is its own post), so they are not hashed
//! on the way in — at ten million rows, one random hash-table probe per row
//! is most of the reading time — but stored row by row; the rare content ids
//! that occur in several rows are found afterwards by sorting hashes
//! ([`ShareTable::canonical_contents`]). The one comparison CooRTweet makes
//! between the two id spaces (a share whose content *is* its object is a
//! loop) is made on the strings, when the row is added.

use hashbrown::HashTable;
use pharos_core::Post;

/// Interns byte strings to dense `u32` ids, in order of first appearance.
///
/// All strings live in one arena; the hash table holds only ids, so an id
/// costs its bytes plus about 13 bytes (offset and table slot).
pub struct Interner {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    table: HashTable<u32>,
    state: ahash::RandomState,
}

impl Default for Interner {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Interner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interner")
            .field("len", &self.len())
            .finish()
    }
}

impl Interner {
    pub fn new() -> Self {
        Interner {
            bytes: Vec::new(),
            ends: Vec::new(),
            table: HashTable::new(),
            // Fixed seeds: ids, and so every output order, are reproducible.
            state: ahash::RandomState::with_seeds(
                0x243f_6a88_85a3_08d3,
                0x1319_8a2e_0370_7344,
                0xa409_3822_299f_31d0,
                0x082e_fa98_ec4e_6c89,
            ),
        }
    }

    /// The number of distinct strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The string of `id`.
    pub fn name(&self, id: u32) -> &[u8] {
        let id = id as usize;
        let start = if id == 0 { 0 } else { self.ends[id - 1] };
        &self.bytes[start..self.ends[id]]
    }

    /// The id of `s`, adding it if new.
    pub fn intern(&mut self, s: &[u8]) -> u32 {
        let hash = self.state.hash_one(s);
        let (bytes, ends) = (&self.bytes, &self.ends);
        let eq = |&id: &u32| slice(bytes, ends, id) == s;
        if let Some(&id) = self.table.find(hash, eq) {
            return id;
        }
        let id = u32::try_from(self.ends.len()).expect("more than 2^32 distinct ids");
        self.bytes.extend_from_slice(s);
        self.ends.push(self.bytes.len());
        let (bytes, ends, state) = (&self.bytes, &self.ends, &self.state);
        self.table
            .insert_unique(hash, id, |&id| state.hash_one(slice(bytes, ends, id)));
        id
    }

    /// The id of `s`, if present.
    pub fn get(&self, s: &[u8]) -> Option<u32> {
        let hash = self.state.hash_one(s);
        self.table
            .find(hash, |&id| slice(&self.bytes, &self.ends, id) == s)
            .copied()
    }
}

fn slice<'a>(bytes: &'a [u8], ends: &[usize], id: u32) -> &'a [u8] {
    let id = id as usize;
    let start = if id == 0 { 0 } else { ends[id - 1] };
    &bytes[start..ends[id]]
}

/// One share, with interned ids (see [`ShareTable`] for their names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Share {
    /// What was shared. Object ids are numbered in order of first appearance.
    pub object: u32,
    /// Who shared it. Account ids are numbered in order of first appearance.
    pub account: u32,
    /// The sharing post itself, as the row its id was read from (so equal
    /// ids in two rows are two numbers here; see
    /// [`ShareTable::canonical_contents`]).
    pub content: u32,
    /// When, in whole seconds since the epoch.
    pub time_secs: i64,
    /// The content id is the object id (the original post listed as a
    /// share of itself): CooRTweet drops such shares as loops.
    pub content_is_object: bool,
}

/// Strings stored one after another, numbered in order.
#[derive(Debug, Default)]
pub(crate) struct Strings {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Strings {
    fn push(&mut self, s: &[u8]) -> u32 {
        let id = u32::try_from(self.ends.len()).expect("more than 2^32 rows");
        self.bytes.extend_from_slice(s);
        self.ends.push(self.bytes.len());
        id
    }
    pub(crate) fn get(&self, id: u32) -> &[u8] {
        slice(&self.bytes, &self.ends, id)
    }
}

/// Shares in input order, with the names of their ids.
#[derive(Debug, Default)]
pub struct ShareTable {
    pub(crate) objects: Interner,
    pub(crate) accounts: Interner,
    pub(crate) contents: Strings,
    pub(crate) shares: Vec<Share>,
}

/// Which field of a [`Post`] is the *object* two accounts coordinate on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ObjectRule {
    /// The reshared post when there is one (co-retweet), otherwise the first
    /// normalised link (co-link); posts with neither are left out.
    #[default]
    Auto,
    /// Only reshares: the object is `reshare_of` (co-retweet).
    Reshare,
    /// Every distinct normalised link of the post, one share each (co-link).
    Link,
    /// Every distinct link domain, one share each.
    Domain,
    /// Every hashtag, one share each (co-hashtag).
    Hashtag,
    /// The post replied to (co-reply).
    Reply,
    /// The post quoted (co-quote).
    Quote,
}

impl ObjectRule {
    pub const NAMES: &'static [&'static str] = &[
        "auto", "reshare", "link", "domain", "hashtag", "reply", "quote",
    ];

    pub fn parse(name: &str) -> Option<ObjectRule> {
        Some(match name.to_ascii_lowercase().as_str() {
            "auto" => ObjectRule::Auto,
            "reshare" | "retweet" | "co-retweet" => ObjectRule::Reshare,
            "link" | "url" | "co-link" => ObjectRule::Link,
            "domain" | "co-domain" => ObjectRule::Domain,
            "hashtag" | "co-hashtag" => ObjectRule::Hashtag,
            "reply" | "co-reply" => ObjectRule::Reply,
            "quote" | "co-quote" => ObjectRule::Quote,
            _ => return None,
        })
    }
}

impl ShareTable {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(rows: usize) -> Self {
        ShareTable {
            shares: Vec::with_capacity(rows),
            ..Self::default()
        }
    }

    /// Appends one share.
    pub fn push(&mut self, object: &str, account: &str, content: &str, time_secs: i64) {
        self.push_bytes(
            object.as_bytes(),
            account.as_bytes(),
            content.as_bytes(),
            time_secs,
        );
    }

    /// Appends one share given as raw bytes (ids need not be UTF-8).
    pub fn push_bytes(&mut self, object: &[u8], account: &[u8], content: &[u8], time_secs: i64) {
        let content_is_object = object == content;
        let object = self.objects.intern(object);
        let account = self.accounts.intern(account);
        let content = self.contents.push(content);
        self.shares.push(Share {
            object,
            account,
            content,
            time_secs,
            content_is_object,
        });
    }

    /// Appends the shares a post makes under `rule` and returns how many.
    ///
    /// The account is the post's actor id, the content is the post id, the
    /// time is the post's event time in whole seconds (floor). Ids are taken
    /// as they are, without the platform: load one platform at a time, or
    /// make ids unique across platforms first.
    pub fn push_post(&mut self, post: &Post, rule: ObjectRule) -> usize {
        let time = post.time.secs();
        let mut objects: Vec<&str> = Vec::new();
        match rule {
            ObjectRule::Auto => {
                if let Some(r) = non_empty(post.reshare_of.as_deref()) {
                    objects.push(r);
                } else if let Some(l) = post.links.iter().find(|l| !l.url.is_empty()) {
                    objects.push(&l.url);
                }
            }
            ObjectRule::Reshare => objects.extend(non_empty(post.reshare_of.as_deref())),
            ObjectRule::Reply => objects.extend(non_empty(post.reply_to.as_deref())),
            ObjectRule::Quote => objects.extend(non_empty(post.quote_of.as_deref())),
            ObjectRule::Link => objects.extend(post.links.iter().map(|l| l.url.as_str())),
            ObjectRule::Domain => objects.extend(post.domains.iter().map(String::as_str)),
            ObjectRule::Hashtag => objects.extend(post.hashtags.iter().map(String::as_str)),
        }
        let mut n = 0;
        for (k, o) in objects.iter().enumerate() {
            if o.is_empty() || objects[..k].contains(o) {
                continue;
            }
            self.push(o, &post.actor.id, &post.id, time);
            n += 1;
        }
        n
    }

    /// Builds a table from posts (see [`ShareTable::push_post`] for the rule).
    pub fn from_posts<'a>(posts: impl IntoIterator<Item = &'a Post>, rule: ObjectRule) -> Self {
        let mut t = ShareTable::new();
        for p in posts {
            t.push_post(p, rule);
        }
        t
    }

    /// The shares, in input order.
    pub fn shares(&self) -> &[Share] {
        &self.shares
    }

    pub fn len(&self) -> usize {
        self.shares.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shares.is_empty()
    }

    /// Name of an object id.
    pub fn object_name(&self, id: u32) -> &[u8] {
        self.objects.name(id)
    }

    /// Name of a content id (a row number).
    pub fn content_name(&self, id: u32) -> &[u8] {
        self.contents.get(id)
    }

    /// Name of an account id.
    pub fn account_name(&self, id: u32) -> &[u8] {
        self.accounts.name(id)
    }

    /// Number of distinct accounts.
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// Number of distinct objects.
    pub fn object_count(&self) -> usize {
        self.objects.len()
    }

    /// Per row, the first row with the same content id (itself when the id
    /// is unique): content ids as CooRTweet compares them. Hashes every
    /// content, sorts the hashes (in parallel) and checks equal hashes byte
    /// by byte.
    pub fn canonical_contents(&self) -> Vec<u32> {
        use rayon::prelude::*;
        let n = self.shares.len();
        let state = ahash::RandomState::with_seeds(1, 2, 3, 4);
        let mut hashes: Vec<(u64, u32)> = (0..n as u32)
            .into_par_iter()
            .map(|r| (state.hash_one(self.contents.get(r)), r))
            .collect();
        hashes.par_sort_unstable();
        let mut canon: Vec<u32> = (0..n as u32).collect();
        let mut i = 0;
        while i < n {
            let mut j = i + 1;
            while j < n && hashes[j].0 == hashes[i].0 {
                j += 1;
            }
            if j - i > 1 {
                // Rows ascend inside a run: the first of each string is the
                // smallest row. Distinct strings in a run are few.
                let mut firsts: Vec<u32> = Vec::new();
                for &(_, r) in &hashes[i..j] {
                    let s = self.contents.get(r);
                    match firsts.iter().find(|&&f| self.contents.get(f) == s) {
                        Some(&f) => canon[r as usize] = f,
                        None => firsts.push(r),
                    }
                }
            }
            i = j;
        }
        canon
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interner_gives_dense_ids_in_first_appearance_order() {
        let mut i = Interner::new();
        assert_eq!(i.intern(b"b"), 0);
        assert_eq!(i.intern(b"a"), 1);
        assert_eq!(i.intern(b"b"), 0);
        assert_eq!(i.intern(b""), 2);
        assert_eq!(i.name(1), b"a");
        assert_eq!(i.name(2), b"");
        assert_eq!(i.get(b"a"), Some(1));
        assert_eq!(i.get(b"c"), None);
        for k in 0..10_000u32 {
            i.intern(k.to_string().as_bytes());
        }
        assert_eq!(i.get(b"9999"), Some(3 + 9999));
        assert_eq!(i.name(3 + 1234), b"1234");
    }

    #[test]
    fn contents_are_rows_and_duplicates_are_found() {
        let mut t = ShareTable::new();
        t.push("p1", "alice", "p2", 10);
        t.push("p2", "bob", "p2", 11);
        t.push("p1", "carol", "p2", 12);
        t.push("p1", "dave", "p9", 12);
        let s = t.shares();
        assert!(!s[0].content_is_object);
        assert!(s[1].content_is_object);
        assert_eq!(t.account_name(s[1].account), b"bob");
        assert_eq!(t.content_name(s[2].content), b"p2");
        assert_eq!(t.canonical_contents(), vec![0, 0, 0, 3]);
    }

    #[test]
    fn posts_become_shares_by_rule() {
        let mut p = Post {
            platform: "twitter".into(),
            id: "10".into(),
            ..Default::default()
        };
        p.actor.id = "u1".into();
        p.time = pharos_core::EventTime(5_999);
        p.add_link("https://example.com/a?utm_source=x");
        p.add_link("https://example.org/b");
        let mut t = ShareTable::new();
        assert_eq!(t.push_post(&p, ObjectRule::Auto), 1);
        assert_eq!(
            t.object_name(t.shares()[0].object),
            b"https://example.com/a"
        );
        assert_eq!(t.shares()[0].time_secs, 5);
        assert_eq!(t.push_post(&p, ObjectRule::Reshare), 0);
        assert_eq!(t.push_post(&p, ObjectRule::Link), 2);
        p.reshare_of = Some("7".into());
        assert_eq!(t.push_post(&p, ObjectRule::Auto), 1);
        assert_eq!(t.object_name(t.shares()[3].object), b"7");
    }
}
