//! Post search (`GET /api/posts`, the dashboard's search): full text and
//! filters by time, platform, language, actor, link, domain and hashtag,
//! newest first, page by page.

use crate::StoreError;
use pharos_core::Post;

/// Where the next page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchCursor {
    /// Full text: posts stored before this sequence number.
    Stored(i64),
    /// Filters only: posts before `(time_ms, rowid)`.
    Time(i64, i64),
}

/// A search, its values normalised as stored (lowercase platform,
/// language, domain without `www.`, hashtag without `#`, link normalised).
#[derive(Debug, Clone, Default)]
pub struct PostSearch {
    /// Full text: every word present (`word*` for a prefix); see
    /// [`text_query`]. Results are then newest stored first.
    pub words: Option<String>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub platform: Option<String>,
    /// `und`: posts without a language.
    pub lang: Option<String>,
    /// `(platform, actor id)`.
    pub actor: Option<(String, String)>,
    pub link: Option<String>,
    pub domain: Option<String>,
    pub hashtag: Option<String>,
    /// Posts a page (at least 1).
    pub limit: usize,
    pub cursor: Option<SearchCursor>,
}

/// A page of posts.
#[derive(Debug, Clone, Default)]
pub struct SearchPage {
    pub posts: Vec<Post>,
    /// Where a page starting after each post of `posts` starts (same
    /// order): a reader that keeps only some of them (the server's TLP
    /// clearance) cuts its page after any post and goes on from there.
    pub cursors: Vec<SearchCursor>,
    /// Where the next page starts; `None` on the last.
    pub next: Option<SearchCursor>,
    /// Sequence numbers of posts indexed for full text / stored (the index
    /// catches up in the background after large loads).
    pub indexed: i64,
    pub stored: i64,
}

/// Searching stored posts.
pub trait PostSearcher {
    fn search_posts(&self, q: &PostSearch) -> Result<SearchPage, StoreError>;
}

/// The full-text query of `words`: each word quoted (`"word" "pre"*`), so
/// no input is a syntax error; `None` when there is no word to search for.
pub fn text_query(words: &str) -> Option<String> {
    let terms: Vec<String> = words
        .split_whitespace()
        .filter_map(|w| {
            let (w, prefix) = match w.strip_suffix('*') {
                Some(w) => (w, true),
                None => (w, false),
            };
            let w = w.trim_matches(|c: char| !c.is_alphanumeric());
            if w.is_empty() {
                return None;
            }
            Some(format!(
                "\"{}\"{}",
                w.replace('"', "\"\""),
                if prefix { "*" } else { "" }
            ))
        })
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}
