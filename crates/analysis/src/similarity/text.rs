//! Text normalisation for matching, tokens, shingles and feature sets.
//!
//! Two normal forms:
//!
//! - [`normalize_cotweet`] is the coordination-network-toolkit's notion of
//!   "the same tweet" (lowercase, @mentions removed, white space collapsed),
//!   reproduced exactly so co-tweet networks give the toolkit's edges.
//! - [`normalize_for_matching`] also drops URLs (shorteners and tracking
//!   parameters make the same text look different) and keeps e-mail
//!   addresses; it is what token sets and shingles are cut from.
//!
//! Features are hashed to `u64` with [`hash_bytes`] (a fixed-seed hash, so
//! sets are the same on every machine and every run) and kept as sorted,
//! deduplicated vectors: Jaccard is then a linear merge.

/// White space as Python's `str.split()` sees it: Unicode `White_Space` plus
/// the information separators U+001C..U+001F.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// The toolkit's co-tweet normal form: lowercase (full Unicode case
/// mapping), every `@` removed together with what follows it up to the next
/// white space, then runs of white space collapsed to one space and the ends
/// trimmed. An empty result means "no text to match on".
///
/// ```
/// use pharos_analysis::similarity::normalize_cotweet;
/// assert_eq!(normalize_cotweet("RT  @Bob: Vote\tNOW "), "rt vote now");
/// assert_eq!(normalize_cotweet("@only_a_mention"), "");
/// ```
pub fn normalize_cotweet(text: &str) -> String {
    let lower = text.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    let mut in_mention = false;
    let mut pending_space = false;
    for c in lower.chars() {
        if in_mention {
            // The toolkit's mention runs to the next `\s` (Unicode White_Space).
            if !c.is_whitespace() {
                continue;
            }
            in_mention = false;
        }
        if c == '@' {
            in_mention = true;
            continue;
        }
        if is_py_space(c) {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

fn is_url_start(word: &str) -> bool {
    word.starts_with("http://") || word.starts_with("https://") || word.starts_with("www.")
}

/// Normal form for near-duplicate matching: lowercase, URLs
/// (`http://`, `https://`, `www.` words) and @mentions removed (an `@` not
/// preceded by a letter or digit, up to the next white space; e-mail
/// addresses stay), white space collapsed to single spaces.
///
/// ```
/// use pharos_analysis::similarity::normalize_for_matching;
/// assert_eq!(
///     normalize_for_matching("Read THIS https://t.co/x @bob (@ann) mail a@b.org"),
///     "read this ( mail a@b.org"
/// );
/// ```
pub fn normalize_for_matching(text: &str) -> String {
    let lower = text.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    for word in lower.split(is_py_space).filter(|w| !w.is_empty()) {
        if is_url_start(word) {
            continue;
        }
        let mut cut = word.len();
        let mut prev: Option<char> = None;
        for (i, c) in word.char_indices() {
            if c == '@' && !prev.is_some_and(char::is_alphanumeric) {
                cut = i;
                break;
            }
            prev = Some(c);
        }
        let kept = &word[..cut];
        if kept.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(kept);
    }
    out
}

/// Characters of scripts written without spaces between words (Han,
/// Hiragana, Katakana, Thai, Lao, Khmer, Myanmar): each is a token of its
/// own, so a Chinese sentence is not one giant "word".
fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF      // Thai, Lao
        | 0x1000..=0x109F    // Myanmar
        | 0x1780..=0x17FF    // Khmer
        | 0x3040..=0x30FF    // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x3FFFF) // CJK extensions B..
}

fn is_token_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Word tokens of `text` (call it on normalised text): maximal runs of
/// letters, digits (any script) and `_`; characters of unspaced scripts are
/// one token each. Punctuation, symbols and emoji are not tokens, so
/// `#Vote!` gives `Vote`.
pub fn tokens(text: &str) -> impl Iterator<Item = &str> + '_ {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find(is_token_char)?;
        let tail = &rest[start..];
        let first = tail.chars().next()?;
        let len = if is_unspaced_script(first) {
            first.len_utf8()
        } else {
            tail.find(|c: char| !is_token_char(c) || is_unspaced_script(c))
                .unwrap_or(tail.len())
        };
        let token = &tail[..len];
        rest = &tail[len..];
        Some(token)
    })
}

/// `c.to_lowercase()` when that is one character and known without
/// Unicode tables: ASCII and the Cyrillic letters U+0400–U+045F (the
/// Russian, Ukrainian, Belarusian, Serbian and Macedonian alphabets but
/// `Ґ`). `None`: ask `char::to_lowercase`. The per-character hot loops
/// (narrative tokens, boilerplate line keys, the actor tracker's text hash)
/// spend most of their time on these two ranges.
#[inline]
pub(crate) fn fast_lower(c: char) -> Option<char> {
    match c as u32 {
        0..=0x7f => Some(c.to_ascii_lowercase()),
        // А–Я → а–я; Ѐ–Џ → ѐ–џ; а–џ are lower case.
        0x410..=0x42f => char::from_u32(c as u32 + 0x20),
        0x400..=0x40f => char::from_u32(c as u32 + 0x50),
        0x430..=0x45f => Some(c),
        _ => None,
    }
}

/// `c.is_alphanumeric()`, without Unicode tables for ASCII and the
/// Cyrillic letters U+0400–U+0481 and U+048A–U+052F.
#[inline]
pub(crate) fn is_alphanumeric_fast(c: char) -> bool {
    match c as u32 {
        0..=0x7f => c.is_ascii_alphanumeric(),
        0x400..=0x481 | 0x48a..=0x52f => true,
        _ => c.is_alphanumeric(),
    }
}

/// Whether `c` is a starter (canonical combining class 0) whose NFKC
/// quick check is "yes", known without tables: ASCII and the Cyrillic
/// letters above. Such a character leaves the quick check's state as
/// ASCII does, so a text made only of them is in NFKC.
#[inline]
fn nfkc_plain(c: char) -> bool {
    matches!(c as u32, 0..=0x7f | 0x400..=0x481 | 0x48a..=0x52f)
}

/// `is_nfkc_quick(text.chars()) == IsNormalized::Yes`, with no table
/// look-up for texts made of ASCII and Cyrillic letters only.
pub(crate) fn is_nfkc_yes(text: &str) -> bool {
    use unicode_normalization::{IsNormalized, is_nfkc_quick};
    text.is_ascii()
        || text.chars().all(nfkc_plain)
        || is_nfkc_quick(text.chars()) == IsNormalized::Yes
}

const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// The murmur3 64-bit finaliser: a bijection that spreads every input bit
/// over the whole word.
#[inline]
pub(crate) fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// A fixed-seed 64-bit hash of `bytes` (8 bytes at a time, multiply-rotate,
/// murmur3 finaliser). Stable across runs and machines; not for untrusted
/// keys in hash tables (no DoS resistance), only for features.
pub fn hash_bytes(bytes: &[u8], seed: u64) -> u64 {
    const M: u64 = 0x87c3_7b91_1142_53d5;
    let mut h = seed ^ (bytes.len() as u64).wrapping_mul(M);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let k = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = (h ^ fmix64(k)).rotate_left(27).wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut buf = [0u8; 8];
        buf[..tail.len()].copy_from_slice(tail);
        h = (h ^ fmix64(u64::from_le_bytes(buf) ^ 0xff))
            .rotate_left(27)
            .wrapping_mul(M);
    }
    fmix64(h)
}

fn sorted_set(mut v: Vec<u64>) -> Vec<u64> {
    v.sort_unstable();
    v.dedup();
    v
}

/// The set of hashed word [`tokens`] of the normalised `text`, sorted.
/// Empty when the text has no tokens: such a text matches nothing.
pub fn token_set(text: &str) -> Vec<u64> {
    let norm = normalize_for_matching(text);
    sorted_set(
        tokens(&norm)
            .map(|t| hash_bytes(t.as_bytes(), SEED))
            .collect(),
    )
}

/// Hashed shingles of `k` consecutive word tokens of the normalised `text`,
/// sorted; a text of fewer than `k` (but at least one) tokens is one shingle.
pub fn word_shingles(text: &str, k: usize) -> Vec<u64> {
    let k = k.max(1);
    let norm = normalize_for_matching(text);
    let toks: Vec<u64> = tokens(&norm)
        .map(|t| hash_bytes(t.as_bytes(), SEED))
        .collect();
    if toks.is_empty() {
        return Vec::new();
    }
    let windows = toks.len().saturating_sub(k) + 1;
    let k = k.min(toks.len());
    sorted_set(
        (0..windows)
            .map(|i| {
                toks[i..i + k]
                    .iter()
                    .fold(SEED ^ k as u64, |h, &t| fmix64(h.rotate_left(21) ^ t))
            })
            .collect(),
    )
}

/// Hashed shingles of `k` consecutive characters of the normalised `text`
/// (spaces included), sorted; a shorter non-empty text is one shingle.
/// Robust to misspellings and to scripts without spaces.
pub fn char_shingles(text: &str, k: usize) -> Vec<u64> {
    let k = k.max(1);
    let norm = normalize_for_matching(text);
    if norm.is_empty() {
        return Vec::new();
    }
    let starts: Vec<usize> = norm
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(norm.len()))
        .collect();
    let n_chars = starts.len() - 1;
    if n_chars <= k {
        return vec![hash_bytes(norm.as_bytes(), SEED)];
    }
    sorted_set(
        (0..=n_chars - k)
            .map(|i| hash_bytes(&norm.as_bytes()[starts[i]..starts[i + k]], SEED))
            .collect(),
    )
}

/// Which features a text's set is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Features {
    /// Distinct word tokens ([`token_set`]): the coordination toolkit's
    /// co-similar-tweet measure.
    #[default]
    Tokens,
    /// Shingles of this many words ([`word_shingles`]): order-sensitive.
    WordShingles(usize),
    /// Shingles of this many characters ([`char_shingles`]).
    CharShingles(usize),
}

/// The feature set of `text`, sorted and deduplicated.
pub fn feature_set(text: &str, features: Features) -> Vec<u64> {
    match features {
        Features::Tokens => token_set(text),
        Features::WordShingles(k) => word_shingles(text, k),
        Features::CharShingles(k) => char_shingles(text, k),
    }
}

/// Texts mixing scripts and the characters Unicode tables treat apart
/// (Latin, Cyrillic with Ukrainian letters, Arabic, CJK, emoji, combining
/// marks, NFKC-sensitive ligatures and fullwidth forms, Turkish dotted and
/// dotless I, German sharp s, Greek final sigma, Roman numerals, digits of
/// other scripts): the tests of the per-character fast paths compare
/// each rewritten function with its original on every prefix of these.
#[cfg(test)]
pub(crate) const MIXED_TEXTS: &[&str] = &[
    "Read THIS https://t.co/x @bob (@ann) mail a@b.org #Vote2024 now!",
    "ЗЕЛЕНСКИЙ и Ёлка: #Тарифы!! 2024 日本語 naïve_x STRAẞE ＦＵＬＬ ﬁle",
    "Київ — м'ясо; Ґанок ЇЖАК є ΟΔΟΣ www.x.org/a  tab\tnew\nline",
    "İstanbul'da IŞIK ılık; Ⅻ ½ ² ℃ ﬀ ǅungla e\u{301}te\u{0300}\u{0323}",
    "مرحبا بالعالم ١٢٣ — السلام عليكم #خبر",
    "東京タワー、ｶﾀｶﾅ！ 한국어 텍스트 🇺🇦🔥👍🏽 x\u{200d}y\u{483}z",
    "Подписаться: https://t.me/a | Прислать новость\n\n🔴 КиберТопор — Подписаться",
    "\u{1c}sep\u{1f}ara\u{85}te\u{a0}nbsp\u{2028}ls Ǆ ǆ ΣΑΣ ς",
    "Ｈｅｌｌｏ　ｗｏｒｌｄ ＡＢＣ ＠ｂｏｂ ｈｔｔｐｓ://x",
];

/// Every prefix of `text` that ends at a character boundary.
#[cfg(test)]
pub(crate) fn prefixes(text: &str) -> impl Iterator<Item = &str> {
    text.char_indices()
        .map(|(i, _)| &text[..i])
        .chain(std::iter::once(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_unicode_paths_agree_with_the_tables_on_every_character() {
        use unicode_normalization::char::canonical_combining_class;
        use unicode_normalization::{IsNormalized, is_nfkc_quick};
        for c in (0..=0x10ffffu32).filter_map(char::from_u32) {
            if let Some(l) = fast_lower(c) {
                let mut want = c.to_lowercase();
                assert_eq!((want.next(), want.next()), (Some(l), None), "{c:?}");
            }
            assert_eq!(is_alphanumeric_fast(c), c.is_alphanumeric(), "{c:?}");
            if nfkc_plain(c) {
                assert_eq!(canonical_combining_class(c), 0, "{c:?}");
                assert_eq!(
                    is_nfkc_quick(std::iter::once(c)),
                    IsNormalized::Yes,
                    "{c:?}"
                );
            }
        }
        // Only what the fast path covers changes nothing on a text that
        // also has characters it does not cover.
        for text in [
            "Привет мир",
            "Привет ﬁ",
            "ＦＵＬＬ width",
            "e\u{301} combining",
            "Київ ґанок",
            "x\u{483}",
            "",
        ] {
            assert_eq!(
                is_nfkc_yes(text),
                is_nfkc_quick(text.chars()) == IsNormalized::Yes,
                "{text:?}"
            );
        }
    }

    #[test]
    fn cotweet_matches_the_toolkit_normaliser() {
        // Expected values computed with coordination-network-toolkit 1.5.2's
        // `message_preprocessor` (Python): the mention runs to the next
        // Unicode White_Space (U+0085 ends it, U+001C does not), while the
        // split also breaks on U+001C..U+001F.
        assert_eq!(
            normalize_cotweet("Hi @Bob\u{1c}x and @al\u{85}y  ΟΔΟΣ İ a@b.c  end"),
            "hi and y οδος i\u{307} a end"
        );
        assert_eq!(normalize_cotweet("a\u{1c}b"), "a b");
        assert_eq!(normalize_cotweet("  \n "), "");
        assert_eq!(normalize_cotweet("x @y"), "x");
    }

    #[test]
    fn matching_form_drops_urls_and_mentions_keeps_mail() {
        assert_eq!(
            normalize_for_matching("See www.x.org/a and HTTPS://t.co/Z, @Ann! x@y.z"),
            "see and x@y.z"
        );
        assert_eq!(normalize_for_matching("@a @b https://x"), "");
    }

    #[test]
    fn tokens_are_unicode_aware() {
        let t: Vec<&str> = tokens("#vote! привет-мир it's 2024 日本語 naïve_x").collect();
        assert_eq!(
            t,
            vec![
                "vote",
                "привет",
                "мир",
                "it",
                "s",
                "2024",
                "日",
                "本",
                "語",
                "naïve_x"
            ]
        );
        assert_eq!(tokens("!!! ...").count(), 0);
    }

    #[test]
    fn sets_and_shingles() {
        assert_eq!(token_set("A b a B"), token_set("b A"));
        assert_eq!(token_set("A b a B").len(), 2);
        assert!(token_set("@x https://y").is_empty());
        assert_ne!(word_shingles("a b c", 2), word_shingles("b a c", 2));
        assert_eq!(word_shingles("a b c", 2).len(), 2);
        assert_eq!(word_shingles("a", 3).len(), 1);
        assert_eq!(char_shingles("abcd", 3).len(), 2);
        assert_eq!(char_shingles("ab", 3).len(), 1);
        assert!(char_shingles("", 3).is_empty());
        assert_ne!(hash_bytes(b"abc", 1), hash_bytes(b"abd", 1));
        assert_ne!(hash_bytes(b"abcdefgh", 1), hash_bytes(b"abcdefgh\0", 1));
    }
}
