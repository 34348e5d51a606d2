//! Entities in free text: hashtags, mentions and URLs.
//!
//! Sources without entity annotations (Telegram, CSV, RSS) get their
//! hashtags, mentions and links from the text itself. Hashtags and mentions
//! are returned lowercased without their sigil, so `#Brexit` and `#brexit`
//! are one hashtag.

use std::collections::HashSet;

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Hashtags in `text`, lowercased, without `#`, in order, without repeats.
pub fn hashtags(text: &str) -> Vec<String> {
    sigil_words(text, '#', is_word)
        .into_iter()
        // A hashtag needs a letter: "#1" is a number, not a tag.
        .filter(|t| t.chars().any(|c| c.is_alphabetic()))
        .collect()
}

/// Mentions (`@handle`) in `text`, lowercased, without `@`, in order, without repeats.
pub fn mentions(text: &str) -> Vec<String> {
    sigil_words(text, '@', |c| c.is_ascii_alphanumeric() || c == '_')
}

fn sigil_words(text: &str, sigil: char, body: impl Fn(char) -> bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if !text.contains(sigil) {
        return out;
    }
    let mut seen: HashSet<String> = HashSet::new();
    let mut prev: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == sigil && !prev.is_some_and(|p| is_word(p) || p == sigil || p == '/') {
            let start = i + c.len_utf8();
            let mut end = start;
            while let Some(&(j, d)) = chars.peek() {
                if body(d) {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            if end > start {
                let word = text[start..end].to_lowercase();
                if seen.insert(word.clone()) {
                    out.push(word);
                }
                prev = text[..end].chars().next_back();
                continue;
            }
        }
        prev = Some(c);
    }
    out
}

/// `http://` and `https://` URLs in `text`, in order, without repeats;
/// trailing punctuation that usually ends a sentence is not part of the URL.
pub fn urls(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut rest = text;
    while let Some(pos) = find_scheme(rest) {
        let tail = &rest[pos..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '«' | '»'))
            .unwrap_or(tail.len());
        let mut url = &tail[..end];
        // Trimming only removes from the end, and never an opening bracket:
        // whether the URL has one is decided once (a scan per trimmed
        // character would be quadratic in a URL ending in many brackets).
        let has_paren = url.contains('(');
        let has_bracket = url.contains('[');
        loop {
            let trimmed = url.trim_end_matches(['.', ',', ';', ':', '!', '?', '\'', '…']);
            // Drop a closing bracket that has no opening one inside the URL.
            let trimmed = if (trimmed.ends_with(')') && !has_paren)
                || (trimmed.ends_with(']') && !has_bracket)
            {
                &trimmed[..trimmed.len() - 1]
            } else {
                trimmed
            };
            if trimmed.len() == url.len() {
                break;
            }
            url = trimmed;
        }
        if url.len() > "https://".len() && seen.insert(url) {
            out.push(url.to_string());
        }
        rest = &tail[end..];
    }
    out
}

/// Where the next `http://` or `https://` starts, in one pass over `s`.
fn find_scheme(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(p) = memchr_http(&b[from..]) {
        let at = from + p;
        let after = &b[at + 4..];
        if after.starts_with(b"://") || after.starts_with(b"s://") {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

fn memchr_http(b: &[u8]) -> Option<usize> {
    b.windows(4).position(|w| w == b"http")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_entities() {
        let t = "RT @Alice_1: #Brexit now! #brexit #1 see https://ex.com/a?b=1. (https://x.org/y) e@mail.com #Україна";
        assert_eq!(hashtags(t), vec!["brexit", "україна"]);
        assert_eq!(mentions(t), vec!["alice_1"]);
        assert_eq!(urls(t), vec!["https://ex.com/a?b=1", "https://x.org/y"]);
    }

    #[test]
    fn repeated_and_many_entities_are_found_once() {
        let many: String = (0..5_000)
            .map(|i| format!("#t{i} http://a.org/{i} "))
            .collect();
        assert_eq!(hashtags(&many).len(), 5_000);
        assert_eq!(urls(&many).len(), 5_000);
        let same = "#x ".repeat(10_000);
        assert_eq!(hashtags(&same), vec!["x"]);
        // Many http:// and no https:// (the old search looked for https:// from every URL).
        let plain = "http://b.org/c ".repeat(3);
        assert_eq!(urls(&plain), vec!["http://b.org/c"]);
        assert_eq!(urls("httphttp://x.org/y"), vec!["http://x.org/y"]);
        let closing = format!("https://x.org/a{}", ")".repeat(1000));
        assert_eq!(urls(&closing), vec!["https://x.org/a"]);
        assert_eq!(urls("(https://x.org/a_(b))"), vec!["https://x.org/a_(b))"]);
    }

    #[test]
    fn no_entities_in_plain_text() {
        assert!(hashtags("plain text").is_empty());
        assert!(mentions("a@b").is_empty());
        assert!(urls("http:// nothing").is_empty());
    }
}
