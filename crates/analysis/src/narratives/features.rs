//! What the engine reads from a post, computed without touching the
//! engine's state (so it runs in parallel, see
//! [`super::NarrativeEngine::observe_batch`]).
//!
//! One pass over the matching form of the text (NFKC, case-folded, URLs and
//! mentions removed) gives, per word token, its fuzzy [`match_key`]
//! (Cyrillic transliterated to Latin, spelling variants folded):
//!
//! - **shingles** for near-duplicate families: hashes of every two
//!   consecutive keys (all words, function words and numbers included: they
//!   are part of a copy's identity), sorted and deduplicated; their MinHash
//!   signature cut into LSH band keys.
//! - **terms** for narratives: the keys of content words (not function
//!   words, not bare numbers, at least two letters) cut to their first
//!   [`STEM_CHARS`] characters — a crude stemmer that folds most Russian,
//!   Ukrainian, Polish and German inflections (`электричества`,
//!   `электричество` → `elektr`) — plus one term per normalised URL.
//!
//! [`match_key`]: crate::similarity::translit::match_key

use super::boilerplate::{
    EdgeLine, MIN_CONTENT_TERMS, clean, edges_of, link_key, pair_key, source_key,
};
use super::stopwords::is_stopword;
use crate::similarity::hash_bytes;
use crate::similarity::text::{fast_lower, is_nfkc_yes};
use crate::similarity::translit::{detect_language, match_key_into};
use ahash::AHashSet;
use pharos_core::Post;
use unicode_normalization::UnicodeNormalization;

/// Shingles kept per post: the [`MAX_SHINGLES`] smallest hashes (a
/// bottom-k sample, uniform over the text), so signature cost and
/// exemplar memory are bounded whatever the text's length. Texts under
/// about 256 words keep all their shingles.
pub const MAX_SHINGLES: usize = 256;

/// Characters of a word's key kept as its term.
pub const STEM_CHARS: usize = 6;

const SHINGLE_SEED: u64 = 0x51a9_e5ee_d0c0_ffee;
const TERM_SEED: u64 = 0x7e2a_5eed_1234_abcd;
/// How much a shared URL counts, relative to a shared word.
const URL_WEIGHT: f32 = 1.5;
/// How much a hashtag counts, relative to the same word without `#`.
const HASHTAG_WEIGHT: f32 = 2.0;

/// One term of a post: its hash, its raw weight (sublinear tf) and where
/// its surface form is in [`Prepared::surfaces`].
#[derive(Clone, Debug)]
pub(crate) struct Term {
    pub hash: u64,
    pub tf: f32,
    pub surface: (u32, u32),
}

/// A post, read.
#[derive(Clone, Debug, Default)]
pub(crate) struct Prepared {
    /// The post's language, or the detected one.
    pub lang: Option<String>,
    /// Sorted, deduplicated shingle hashes; empty when the text has no words.
    pub shingles: Vec<u64>,
    /// One LSH key per band (empty when `shingles` is).
    pub band_keys: Vec<u64>,
    /// Sorted by hash, distinct.
    pub terms: Vec<Term>,
    /// Surface forms the terms point into (matching-form words and URLs).
    pub surfaces: String,
    /// Terms that are words (not URLs).
    pub word_terms: u32,
    /// The post's source (platform and account), for boilerplate.
    pub source: u64,
    /// The post's edge lines (see [`super::boilerplate`]).
    pub edges: Vec<EdgeLine>,
    /// The edge lines removed as boilerplate before reading (bit `i` = `edges[i]`).
    pub mask: u8,
    /// The text read, when it is not the post's own (boilerplate or a
    /// template removed).
    pub cleaned: Option<Box<str>>,
    /// More words were removed as boilerplate than are left, and fewer
    /// than [`MIN_CONTENT_TERMS`] content words are left.
    pub mostly_boilerplate: bool,
}

impl Prepared {
    pub fn surface(&self, t: &Term) -> &str {
        &self.surfaces[t.surface.0 as usize..t.surface.1 as usize]
    }
}

/// The parts of the engine `prepare` needs: fixed at construction.
#[derive(Clone, Debug)]
pub(crate) struct Reader {
    pub hasher: PairMinHasher,
    pub bands: usize,
    pub rows: usize,
    pub detect_language: bool,
    /// Learn per-source boilerplate (edge lines are read only then).
    pub boilerplate: bool,
}

/// MinHash with half the multiplications: hash function pair `i` is
/// `aᵢ·x + bᵢ (mod 2⁶⁴)` with odd `aᵢ`; its high 32 bits are one hash and
/// its low 32 bits (a bijection of the low half of `x`, itself uniform since
/// shingles are hashed) the other. Independent enough for banding; the
/// estimate is verified exactly anyway.
#[derive(Clone, Debug)]
pub(crate) struct PairMinHasher {
    a: Vec<u64>,
    b: Vec<u64>,
}

impl PairMinHasher {
    /// `n` (even) hash values from `n / 2` multiply-add functions.
    pub fn new(n: usize, seed: u64) -> PairMinHasher {
        let mut state = seed;
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            crate::similarity::text::fmix64(state)
        };
        let pairs = n.div_ceil(2);
        let a = (0..pairs).map(|_| next() | 1).collect();
        let b = (0..pairs).map(|_| next()).collect();
        PairMinHasher { a, b }
    }

    pub fn len(&self) -> usize {
        2 * self.a.len()
    }

    /// Signature of `set` into `out` (`len()` values): position `2i` is the
    /// high half of pair `i`, `2i + 1` the low half.
    pub fn signature_into(&self, set: &[u64], out: &mut [u32]) {
        out.fill(u32::MAX);
        for &x in set {
            for ((o, &a), &b) in out.chunks_exact_mut(2).zip(&self.a).zip(&self.b) {
                let h = a.wrapping_mul(x).wrapping_add(b);
                o[0] = o[0].min((h >> 32) as u32);
                o[1] = o[1].min(h as u32);
            }
        }
    }
}

pub(crate) fn band_key(band: usize, rows: &[u32]) -> u64 {
    rows.iter().fold(
        hash_bytes(&(band as u64).to_le_bytes(), SHINGLE_SEED),
        |h, &v| crate::similarity::text::fmix64(h ^ u64::from(v)).rotate_left(17),
    )
}

impl Reader {
    /// Reads `post`, without the edge lines `boiler` (pairs of source and
    /// line key, [`pair_key`]) says are boilerplate.
    pub fn prepare(&self, post: &Post, boiler: &AHashSet<u64>) -> Prepared {
        let source = source_key(post);
        let mut edges = Vec::new();
        let mut mask = 0u8;
        if self.boilerplate {
            edges_of(post, &mut edges);
            if !boiler.is_empty() {
                for (i, l) in edges.iter().enumerate() {
                    if boiler.contains(&pair_key(source, l.key)) {
                        mask |= 1 << i;
                    }
                }
            }
        }
        self.prepare_masked(post, source, edges, mask)
    }

    /// Reads `post` without the edge lines in `mask`.
    pub fn prepare_masked(
        &self,
        post: &Post,
        source: u64,
        edges: Vec<EdgeLine>,
        mask: u8,
    ) -> Prepared {
        let (text, removed_words) = clean(&post.text, &edges, mask);
        let lang = match &post.lang {
            Some(l) if !l.is_empty() => Some(l.clone()),
            _ if self.detect_language => detect_language(prefix(&text, 200)).map(str::to_string),
            _ => None,
        };
        let (norm, toks) = matching_tokens(&strip_links(&text));
        let mut key = String::with_capacity(32);
        let mut token_keys: Vec<u64> = Vec::with_capacity(48);
        let mut raw_terms: Vec<(u64, u32, u32, bool)> = Vec::with_capacity(48);
        for &(start, end, hashtag) in &toks {
            let tok = &norm[start as usize..end as usize];
            key.clear();
            match_key_into(tok, &mut key);
            token_keys.push(hash_bytes(key.as_bytes(), SHINGLE_SEED));
            let Some(term) = term_of(tok, &key) else {
                continue;
            };
            raw_terms.push((term, start, toks_end(tok, start), hashtag));
        }
        let mut shingles = shingles(&token_keys);
        // Bottom-k: the smallest hashes are a uniform sample of the set.
        shingles.truncate(MAX_SHINGLES);
        let band_keys = if shingles.is_empty() {
            Vec::new()
        } else {
            let mut sig = vec![0u32; self.hasher.len()];
            self.hasher.signature_into(&shingles, &mut sig);
            (0..self.bands)
                .map(|b| band_key(b, &sig[b * self.rows..(b + 1) * self.rows]))
                .collect()
        };
        let mut surfaces = norm;
        let mut terms = collapse(raw_terms);
        let word_terms = terms.len() as u32;
        let mostly_boilerplate = removed_words > 0
            && removed_words >= toks.len()
            && (word_terms as usize) < MIN_CONTENT_TERMS;
        for link in &post.links {
            if link.url.is_empty() || is_channel_link(link) {
                continue;
            }
            // A link under most of its source's posts (learned as its
            // boilerplate) is no term.
            if is_learned_link(&edges, mask, link) {
                continue;
            }
            let start = surfaces.len() + 1;
            surfaces.push(' ');
            surfaces.push_str(&link.url);
            let h = hash_bytes(link.url.as_bytes(), TERM_SEED ^ 0x75726c);
            if let Err(i) = terms.binary_search_by_key(&h, |t| t.hash) {
                terms.insert(
                    i,
                    Term {
                        hash: h,
                        tf: URL_WEIGHT,
                        surface: (start as u32, surfaces.len() as u32),
                    },
                );
            }
        }
        let cleaned = match text {
            std::borrow::Cow::Owned(t) => Some(t.into_boxed_str()),
            std::borrow::Cow::Borrowed(_) => None,
        };
        Prepared {
            lang,
            shingles,
            band_keys,
            terms,
            surfaces,
            word_terms,
            source,
            edges,
            mask,
            cleaned,
            mostly_boilerplate,
        }
    }
}

/// Whether `link` is among `edges` as a link learned as its source's
/// boilerplate (its bit set in `mask`).
pub(crate) fn is_learned_link(edges: &[EdgeLine], mask: u8, link: &pharos_core::Link) -> bool {
    if mask == 0 {
        return false;
    }
    let k = link_key(link);
    edges
        .iter()
        .enumerate()
        .any(|(i, e)| e.link && e.key == k && mask & (1 << i) != 0)
}

/// A link to a Telegram channel, group, bot or invite rather than to one
/// of its posts (`t.me/name`, `t.me/+invite`, `t.me/name_bot`; not
/// `t.me/name/123`): the call to subscribe under a channel's posts. Not a
/// narrative term, nor one of a narrative's links: on real channels these
/// links tied every short post of a channel into one narrative after its
/// footer's words were removed.
pub(crate) fn is_channel_link(link: &pharos_core::Link) -> bool {
    if !["t.me", "telegram.me", "telegram.dog"]
        .iter()
        .any(|d| link.domain.eq_ignore_ascii_case(d))
    {
        return false;
    }
    let url = link.url.as_str();
    let after = url.find("://").map_or(url, |i| &url[i + 3..]);
    let path = after.split_once('/').map_or("", |x| x.1);
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut segs = path.split('/').filter(|s| !s.is_empty());
    let first = segs.next();
    let last = segs.next_back();
    let is_post = first.is_some()
        && last.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    !is_post
}

/// The term of a token (`tok` in matching form, `key` its match key):
/// `None` for function words, bare numbers and one-letter keys.
fn term_of(tok: &str, key: &str) -> Option<u64> {
    if is_stopword(tok) || tok.chars().all(|c| c.is_numeric()) {
        return None;
    }
    let mut letters = 0;
    let mut end = key.len();
    for (i, _) in key.char_indices() {
        if letters == STEM_CHARS {
            end = i;
            break;
        }
        letters += 1;
    }
    (letters >= 2).then(|| hash_bytes(&key.as_bytes()[..end], TERM_SEED))
}

/// The distinct word terms of `text` (as [`Reader::prepare`] makes them,
/// links left out), sorted.
pub(crate) fn text_terms(text: &str) -> Vec<u64> {
    let (norm, toks) = matching_tokens(&strip_links(text));
    let mut key = String::with_capacity(32);
    let mut out: Vec<u64> = toks
        .iter()
        .filter_map(|&(s, e, _)| {
            let tok = &norm[s as usize..e as usize];
            key.clear();
            match_key_into(tok, &mut key);
            term_of(tok, &key)
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn toks_end(tok: &str, start: u32) -> u32 {
    start + tok.len() as u32
}

/// Lowercase (full case mapping, `ß → ss`, final `ς → σ`) with fast paths
/// for ASCII and the Russian/Ukrainian alphabet.
#[inline]
fn push_lower(c: char, out: &mut String) {
    match c {
        'A'..='Z' => out.push(c.to_ascii_lowercase()),
        '\u{410}'..='\u{42F}' => out.push(char::from_u32(c as u32 + 0x20).expect("cyrillic")),
        '\u{400}'..='\u{40F}' => out.push(char::from_u32(c as u32 + 0x50).expect("cyrillic")),
        'ß' | 'ẞ' => out.push_str("ss"),
        'ς' => out.push('σ'),
        c if c.is_ascii() || ('\u{430}'..='\u{45F}').contains(&c) => out.push(c),
        c => out.extend(c.to_lowercase()),
    }
}

/// Letters, digits (any script) and `_`, with fast paths for ASCII and
/// Cyrillic.
#[inline]
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    matches!(c, '\u{400}'..='\u{481}' | '\u{48A}'..='\u{52F}') || c.is_alphanumeric()
}

/// Scripts written without spaces (Han, kana, Thai, Lao, Khmer, Myanmar):
/// each character is a token.
#[inline]
fn is_unspaced(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF | 0x1000..=0x109F | 0x1780..=0x17FF | 0x3040..=0x30FF
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF)
}

/// The matching form's word tokens in one pass: NFKC (only when the text
/// is not already in it), case folding, @mentions and `www.` words
/// dropped, tokens as runs of word characters (characters of unspaced
/// scripts one each). Returns the tokens joined by single spaces and each
/// token's `(start, end, after '#')` in that string. The same tokens as
/// `similarity::tokens(normalize_for_matching(fold(text)))`, without the
/// three intermediate strings.
pub(crate) fn matching_tokens(text: &str) -> (String, Vec<(u32, u32, bool)>) {
    let owned;
    let text = if is_nfkc_yes(text) {
        text
    } else {
        owned = text.nfkc().collect::<String>();
        &owned
    };
    let mut norm = String::with_capacity(text.len());
    let mut toks: Vec<(u32, u32, bool)> = Vec::with_capacity(text.len() / 5);
    let mut lower = String::with_capacity(8);
    for word in text.split(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)) {
        let starts = |p: &str| {
            word.len() >= p.len() && word.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
        };
        if word.is_empty() || starts("www.") || starts("http://") || starts("https://") {
            continue;
        }
        let mut start: Option<(usize, bool)> = None;
        let mut prev: Option<char> = None;
        for c in word.chars() {
            if c == '@' && !prev.is_some_and(char::is_alphanumeric) {
                break;
            }
            let tag = prev == Some('#');
            // One character in most scripts' lower case: no string.
            match lower_one(c) {
                Some(l) => token_char(l, tag, &mut norm, &mut toks, &mut start),
                None => {
                    lower.clear();
                    push_lower(c, &mut lower);
                    for l in lower.chars() {
                        token_char(l, tag, &mut norm, &mut toks, &mut start);
                    }
                }
            }
            prev = Some(c);
        }
        if let Some((s, tag)) = start.take() {
            toks.push((s as u32, norm.len() as u32, tag));
        }
    }
    (norm, toks)
}

/// What [`push_lower`] writes when it is one character and known without
/// Unicode tables; `None` otherwise.
#[inline]
fn lower_one(c: char) -> Option<char> {
    if c == 'ς' { Some('σ') } else { fast_lower(c) }
}

/// One lower-cased character `l` of a word into the matching form: a word
/// character extends the current token (or starts one, after `#` when
/// `tag`), a character of an unspaced script is a token of its own,
/// anything else ends the token.
#[inline]
fn token_char(
    l: char,
    tag: bool,
    norm: &mut String,
    toks: &mut Vec<(u32, u32, bool)>,
    start: &mut Option<(usize, bool)>,
) {
    if is_word_char(l) && !is_unspaced(l) {
        if start.is_none() {
            if !norm.is_empty() {
                norm.push(' ');
            }
            *start = Some((norm.len(), tag));
        }
        norm.push(l);
        return;
    }
    if let Some((s, tag)) = start.take() {
        toks.push((s as u32, norm.len() as u32, tag));
    }
    if is_word_char(l) {
        if !norm.is_empty() {
            norm.push(' ');
        }
        let s = norm.len();
        norm.push(l);
        toks.push((s as u32, norm.len() as u32, false));
    }
}

/// The first `max` bytes of `text`, cut at a character boundary (language
/// identification needs a sentence or two, and its cost grows with length).
fn prefix(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text` without links: Markdown links to Telegram (`[Subscribe](https://t.me/x)`,
/// the signature channels put under every post) go entirely; other
/// Markdown links keep their label; bare URLs (`http://`, `https://`,
/// `t.me/`, also inside a word or brackets) go. Without this a channel's
/// signature makes all its short posts look alike.
pub(crate) fn strip_links(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("http") && !text.contains("t.me/") {
        return std::borrow::Cow::Borrowed(text);
    }
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let url_end = |from: usize| {
        text[from..]
            .find(|c: char| c.is_whitespace() || c == ')' || c == ']' || c == '>')
            .map_or(text.len(), |e| from + e)
    };
    while i < b.len() {
        let rest = &text[i..];
        if b[i] == b'[' {
            // A Markdown link: `[label](target)` with the label on one line.
            if let Some(close) = rest.find("](")
                && !rest[..close].contains('\n')
                && let Some(end) = rest[close + 2..].find(')')
            {
                let target = &rest[close + 2..close + 2 + end];
                if !target.contains(char::is_whitespace) {
                    if !target.contains("t.me/") {
                        out.push(' ');
                        out.push_str(&rest[1..close]);
                        out.push(' ');
                    }
                    i += close + 2 + end + 1;
                    continue;
                }
            }
        }
        if rest.starts_with("http://") || rest.starts_with("https://") || rest.starts_with("t.me/")
        {
            i = url_end(i);
            out.push(' ');
            continue;
        }
        let c = rest.chars().next().expect("non-empty");
        out.push(c);
        i += c.len_utf8();
    }
    std::borrow::Cow::Owned(out)
}

/// Hashes of consecutive key pairs, sorted and deduplicated; a one-word
/// text is one shingle.
fn shingles(keys: &[u64]) -> Vec<u64> {
    let mut out: Vec<u64> = match keys.len() {
        0 => return Vec::new(),
        1 => vec![keys[0]],
        _ => keys
            .windows(2)
            .map(|w| crate::similarity::text::fmix64(w[0].rotate_left(23) ^ w[1]))
            .collect(),
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// Term occurrences → distinct terms sorted by hash with `1 + ln(count)`
/// weights, doubled for hashtags (a hashtag is a claim's name, chosen by
/// the people pushing it); the first occurrence's surface is kept.
fn collapse(mut raw: Vec<(u64, u32, u32, bool)>) -> Vec<Term> {
    raw.sort_by_key(|r| (r.0, r.1));
    let mut out: Vec<Term> = Vec::with_capacity(raw.len());
    for run in raw.chunk_by(|a, b| a.0 == b.0) {
        let first = run[0];
        let tag = if run.iter().any(|r| r.3) {
            HASHTAG_WEIGHT
        } else {
            1.0
        };
        out.push(Term {
            hash: first.0,
            tf: tag * (1.0 + (run.len() as f32).ln()),
            surface: (first.1, first.2),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader() -> Reader {
        Reader {
            hasher: PairMinHasher::new(128, 1),
            bands: 32,
            rows: 4,
            detect_language: true,
            boilerplate: true,
        }
    }

    #[test]
    fn one_pass_tokens_match_the_reference_pipeline() {
        use crate::similarity::translit::fold;
        use crate::similarity::{normalize_for_matching, tokens};
        for text in [
            "Read THIS https://t.co/x @bob (@ann) mail a@b.org",
            "ЗЕЛЕНСКИЙ и Ёлка: #Тарифы!! 2024 日本語 naïve_x STRAẞE ＦＵＬＬ ﬁle",
            "Київ — м'ясо; ΟΔΟΣ www.x.org/a  tab\tnew\nline",
        ] {
            let (norm, toks) = matching_tokens(text);
            let got: Vec<&str> = toks
                .iter()
                .map(|t| &norm[t.0 as usize..t.1 as usize])
                .collect();
            let reference = normalize_for_matching(&fold(text));
            let want: Vec<&str> = tokens(&reference).collect();
            assert_eq!(got, want, "{text}");
        }
        let (norm, toks) = matching_tokens("vote #PowerRationing now");
        assert_eq!(
            &norm[toks[1].0 as usize..toks[1].1 as usize],
            "powerrationing"
        );
        assert!(toks[1].2 && !toks[0].2 && !toks[2].2);
    }

    /// `matching_tokens` as it was before its fast paths for ASCII and
    /// Cyrillic (one string per lower-cased character, the full NFKC
    /// quick check).
    fn matching_tokens_reference(text: &str) -> (String, Vec<(u32, u32, bool)>) {
        let owned;
        let text = if unicode_normalization::is_nfkc_quick(text.chars())
            == unicode_normalization::IsNormalized::Yes
        {
            text
        } else {
            owned = text.nfkc().collect::<String>();
            &owned
        };
        let mut norm = String::with_capacity(text.len());
        let mut toks: Vec<(u32, u32, bool)> = Vec::with_capacity(text.len() / 5);
        let mut lower = String::with_capacity(8);
        for word in text.split(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)) {
            let starts = |p: &str| {
                word.len() >= p.len()
                    && word.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
            };
            if word.is_empty() || starts("www.") || starts("http://") || starts("https://") {
                continue;
            }
            let mut start: Option<(usize, bool)> = None;
            let mut prev: Option<char> = None;
            for c in word.chars() {
                if c == '@' && !prev.is_some_and(char::is_alphanumeric) {
                    break;
                }
                lower.clear();
                push_lower(c, &mut lower);
                for l in lower.chars() {
                    if is_word_char(l) && !is_unspaced(l) {
                        if start.is_none() {
                            if !norm.is_empty() {
                                norm.push(' ');
                            }
                            start = Some((norm.len(), prev == Some('#')));
                        }
                        norm.push(l);
                        continue;
                    }
                    if let Some((s, tag)) = start.take() {
                        toks.push((s as u32, norm.len() as u32, tag));
                    }
                    if is_word_char(l) {
                        if !norm.is_empty() {
                            norm.push(' ');
                        }
                        let s = norm.len();
                        norm.push(l);
                        toks.push((s as u32, norm.len() as u32, false));
                    }
                }
                prev = Some(c);
            }
            if let Some((s, tag)) = start.take() {
                toks.push((s as u32, norm.len() as u32, tag));
            }
        }
        (norm, toks)
    }

    #[test]
    fn matching_tokens_fast_paths_change_no_token() {
        use crate::similarity::text::{MIXED_TEXTS, prefixes};
        let mut forms = AHashSet::new();
        for text in MIXED_TEXTS {
            for p in prefixes(text) {
                let got = matching_tokens(p);
                assert_eq!(got, matching_tokens_reference(p), "{p:?}");
                forms.insert(got.0);
            }
        }
        assert!(forms.len() > 250, "{}", forms.len());
    }

    #[test]
    fn channel_links_are_not_terms() {
        let l = |u: &str| pharos_core::Link::new(u);
        assert!(is_channel_link(&l("https://t.me/moscowtoplive")));
        assert!(is_channel_link(&l("https://t.me/+6fyKjmOWmW5lYzMy")));
        assert!(is_channel_link(&l("https://t.me/moscowtop02_bot")));
        assert!(is_channel_link(&l("https://telegram.me/joinchat/AbCd")));
        assert!(!is_channel_link(&l("https://t.me/rian_ru/271")));
        assert!(!is_channel_link(&l("https://t.me/c/1234/56")));
        assert!(!is_channel_link(&l("https://bbc.com/news/123")));
        assert!(!is_channel_link(&l("https://example.org/t.me/x")));
    }

    #[test]
    fn links_and_signatures_are_stripped() {
        assert_eq!(
            strip_links(
                "Пожар потушен.\n\n🔴 [Подписаться](https://t.me/moscowtoplive) | [Прислать новость](https://t.me/x_bot)"
            ),
            "Пожар потушен.\n\n🔴  | "
        );
        assert_eq!(
            strip_links("see [the report](https://bbc.com/x) now"),
            "see  the report  now"
        );
        assert_eq!(strip_links("(https://t.co/abc) x"), "( ) x");
        assert_eq!(strip_links("no links"), "no links");
    }

    #[test]
    fn terms_meet_across_scripts() {
        let r = reader();
        let p = |t: &str| {
            r.prepare(
                &Post {
                    text: t.into(),
                    ..Default::default()
                },
                &AHashSet::new(),
            )
        };
        let a = p("Зеленский встретился с Шольцем");
        let b = p("Zelenskyy met Scholz in Berlin");
        let common = a
            .terms
            .iter()
            .filter(|t| b.terms.iter().any(|u| u.hash == t.hash))
            .count();
        assert_eq!(common, 1, "the name meets");
        assert_eq!(
            a.surface(
                &a.terms[a
                    .terms
                    .iter()
                    .position(|t| b.terms.iter().any(|u| u.hash == t.hash))
                    .unwrap()]
            ),
            "зеленский"
        );
        assert_eq!(a.lang.as_deref(), Some("ru"));
        // Function words and numbers are not terms.
        let c = p("the and 2024 и в");
        assert!(c.terms.is_empty());
        assert!(!c.shingles.is_empty());
        assert_eq!(c.band_keys.len(), 32);
    }
}
