//! Full-text search on PostgreSQL with the answers of SQLite's FTS5 index.
//!
//! SQLite indexes post text with the `unicode61 remove_diacritics 2`
//! tokenizer: a token is a run of letters, digits and combining marks;
//! tokens are lowercased and lose their diacritics. PostgreSQL's text
//! search configurations tokenize differently (`simple` keeps `café` and
//! `cafe` apart, and splits on other characters), so Pharos makes the
//! tokens itself, the same way for posts and for queries, and hands
//! PostgreSQL a ready `tsvector` (lexemes with positions, GIN-indexed) and
//! `tsquery`:
//! - every word of a search must be present (`&`);
//! - `word*` is a prefix (`:*`);
//! - a word that is several tokens (`e.g`, `don't`) is a phrase (`<->`),
//!   as FTS5 reads a quoted string.
//!
//! PostgreSQL's limits, and what Pharos does at each: positions stop at
//! 16383 (later ones count as 16383, so a phrase past there may match
//! loosely), a lexeme is at most 2047 bytes (longer tokens are not
//! indexed), a `tsvector` at most 1 MiB (a post's text is indexed up to
//! [`MAX_INDEXED_BYTES`] of distinct tokens; the rest of a larger post is
//! not searchable by words).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Bytes of distinct lexemes indexed per post at most (PostgreSQL refuses
/// a `tsvector` over 1 MiB).
pub(crate) const MAX_INDEXED_BYTES: usize = 512 * 1024;
/// Longest token indexed, in bytes (PostgreSQL's limit is 2047).
const MAX_TOKEN_BYTES: usize = 2046;
/// Positions kept per lexeme (PostgreSQL keeps at most 256).
const MAX_POSITIONS: usize = 255;

fn is_token_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// Lowercase without diacritics (marks of the combining-diacritics blocks,
/// after canonical decomposition).
fn fold(token: &str) -> String {
    if token.is_ascii() {
        return token.to_ascii_lowercase();
    }
    let stripped: String = token
        .nfd()
        .filter(|&c| !is_diacritic(c))
        .flat_map(char::to_lowercase)
        .collect();
    stripped.nfc().collect()
}

fn is_diacritic(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// The folded tokens of `text`, in order.
pub(crate) fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !is_token_char(c))
        .filter(|t| !t.is_empty())
        .map(fold)
        .filter(|t| !t.is_empty())
}

/// `text` as a `tsvector` literal: each distinct token once, with its
/// positions (1-based).
pub(crate) fn tsvector(text: &str) -> String {
    let mut order: Vec<String> = Vec::new();
    let mut positions: std::collections::HashMap<String, Vec<u32>> =
        std::collections::HashMap::new();
    let mut bytes = 0usize;
    for (i, t) in tokens(text).enumerate() {
        if t.len() > MAX_TOKEN_BYTES {
            continue;
        }
        let pos = (i + 1).min(16383) as u32;
        match positions.get_mut(&t) {
            Some(p) => {
                if p.len() < MAX_POSITIONS && p.last() != Some(&pos) {
                    p.push(pos);
                }
            }
            None => {
                bytes += t.len() + 16;
                if bytes > MAX_INDEXED_BYTES {
                    break;
                }
                positions.insert(t.clone(), vec![pos]);
                order.push(t);
            }
        }
    }
    let mut out = String::with_capacity(bytes + order.len() * 8);
    for t in &order {
        if !out.is_empty() {
            out.push(' ');
        }
        quote(&mut out, t);
        out.push(':');
        for (k, p) in positions[t].iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            out.push_str(&p.to_string());
        }
    }
    out
}

fn quote(out: &mut String, lexeme: &str) {
    out.push('\'');
    for c in lexeme.chars() {
        if c == '\'' || c == '\\' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
}

/// The `tsquery` of a search's words (see [`crate::text_query`] for how
/// words are read); `None` when there is no word to search for.
pub(crate) fn tsquery(words: &str) -> Option<String> {
    let mut terms: Vec<String> = Vec::new();
    for w in words.split_whitespace() {
        let (w, prefix) = match w.strip_suffix('*') {
            Some(w) => (w, true),
            None => (w, false),
        };
        let w = w.trim_matches(|c: char| !c.is_alphanumeric());
        let toks: Vec<String> = tokens(w).filter(|t| t.len() <= MAX_TOKEN_BYTES).collect();
        if toks.is_empty() {
            continue;
        }
        let n = toks.len();
        let mut term = String::new();
        for (k, t) in toks.iter().enumerate() {
            if k > 0 {
                term.push_str(" <-> ");
            }
            quote(&mut term, t);
            if prefix && k + 1 == n {
                term.push_str(":*");
            }
        }
        terms.push(if n > 1 { format!("({term})") } else { term });
    }
    (!terms.is_empty()).then(|| terms.join(" & "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_fold_case_and_diacritics_and_split_on_punctuation() {
        let t: Vec<String> = tokens("Café, naïve DON'T e.g. Ærø 2024 #Tag").collect();
        assert_eq!(
            t,
            ["cafe", "naive", "don", "t", "e", "g", "ærø", "2024", "tag"]
        );
        assert_eq!(tsvector("a b a"), "'a':1,3 'b':2");
        assert_eq!(
            tsquery("Café pre* don't e.g*").unwrap(),
            "'cafe' & 'pre':* & ('don' <-> 't') & ('e' <-> 'g':*)"
        );
        assert_eq!(tsquery("  ... * "), None);
    }

    #[test]
    fn huge_texts_stay_within_postgres_limits() {
        let long_word = "x".repeat(5000);
        assert_eq!(tsvector(&long_word), "");
        let many: String = (0..200_000).map(|i| format!("w{i} ")).collect();
        let v = tsvector(&many);
        assert!(v.len() < 1024 * 1024, "{}", v.len());
        let same = "a ".repeat(100_000);
        assert_eq!(tsvector(&same).matches(',').count(), MAX_POSITIONS - 1);
    }
}
