//! Text preparation: what of a post is worth matching, and the analysers
//! (tokenise, lowercase, drop stop words, stem) per language.
//!
//! Posts carry noise that no fact-check shares: links, `pic.twitter.com`
//! media ids, the `— Name (@handle) Date` signature of an embedded tweet,
//! `#CamelCaseHashtags`. [`clean_post`] keeps the words (the author's name
//! from a signature stays: claims often name who made them) and drops the
//! rest.

use pharos_analysis::similarity::translit::{fold, match_key};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer,
};

/// Languages with a stemmer (ISO 639-1) and the tantivy language for each.
/// Claims in other languages, or of unknown language, go to the generic
/// analyser `xx` (lowercase, no stemming); every claim also goes to the
/// transliterated key field, where scripts meet.
pub const STEMMED: &[(&str, Language)] = &[
    ("en", Language::English),
    ("ru", Language::Russian),
    ("de", Language::German),
    ("fr", Language::French),
    ("es", Language::Spanish),
    ("it", Language::Italian),
    ("pt", Language::Portuguese),
    ("nl", Language::Dutch),
    ("ar", Language::Arabic),
    ("da", Language::Danish),
    ("fi", Language::Finnish),
    ("el", Language::Greek),
    ("hu", Language::Hungarian),
    ("no", Language::Norwegian),
    ("ro", Language::Romanian),
    ("sv", Language::Swedish),
    ("tr", Language::Turkish),
];

/// The generic analyser's code.
pub const GENERIC: &str = "xx";

/// The analyser code for a language tag (`en`, `en-GB`, `nb`, `RU` ...).
pub fn analyser_code(lang: Option<&str>) -> &'static str {
    let Some(lang) = lang else { return GENERIC };
    let base = lang
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let base = match base.as_str() {
        "nb" | "nn" => "no",
        other => other,
    };
    STEMMED
        .iter()
        .find(|(code, _)| *code == base)
        .map(|(code, _)| *code)
        .unwrap_or(GENERIC)
}

/// The analyser for a code from [`analyser_code`].
pub fn analyser(code: &str) -> TextAnalyzer {
    let base = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser);
    match STEMMED.iter().find(|(c, _)| *c == code) {
        Some((_, lang)) => match StopWordFilter::new(*lang) {
            Some(stop) => base
                .filter(stop)
                .filter(Stemmer::new(*lang))
                .filter(AsciiFoldingFilter)
                .build(),
            None => base
                .filter(Stemmer::new(*lang))
                .filter(AsciiFoldingFilter)
                .build(),
        },
        None => base.filter(AsciiFoldingFilter).build(),
    }
}

/// The analyser of the key field (its text is already folded and keyed).
pub fn key_analyser() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .build()
}

/// Terms of `text` under `analyser`, in order (with repeats).
pub fn terms(analyser: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyser.token_stream(text);
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// The transliterated matching key of a text: each word folded,
/// Cyrillic transliterated and keyed ([`match_key`]), words shorter than
/// four letters dropped (they are mostly function words, and the key field
/// exists to let names and loanwords meet across scripts).
pub fn key_text(text: &str) -> String {
    let folded = fold(text);
    let mut out = String::with_capacity(folded.len());
    for word in folded.split(|c: char| !c.is_alphanumeric()) {
        if word.chars().count() < 4 || word.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&match_key(word));
    }
    out
}

/// The words of a post worth matching: links, media ids, `@` and `#`
/// marks and the date and handle of an embedded-tweet signature dropped;
/// hashtags and handles split at case changes (`#AustralianFires` →
/// `Australian Fires`); `&amp;` and kin decoded.
pub fn clean_post(text: &str) -> String {
    clean(&strip_signature(text, true))
}

/// [`clean_post`] without the author's name from an embedded-tweet
/// signature: the text a sentence encoder compares with claims.
pub fn clean_post_body(text: &str) -> String {
    clean(&strip_signature(text, false))
}

fn clean(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    for word in body.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        let w = lower.trim_start_matches(['"', '\'', '(', '[', '“', '‘']);
        if w.starts_with("http://")
            || w.starts_with("https://")
            || w.starts_with("www.")
            || w.starts_with("pic.twitter.com")
            || w.starts_with("t.co/")
        {
            continue;
        }
        let word = word
            .replace("&amp;", "&")
            .replace("&quot;", "\"")
            .replace("&#39;", "'");
        let stripped = word.trim_start_matches(['@', '#']);
        if stripped.len() != word.len() {
            push_split_case(stripped, &mut out);
        } else {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&word);
        }
    }
    out
}

/// `— Name (@handle) Month D, YYYY` at the end of an embedded tweet:
/// keeps the text and, with `keep_name`, the name.
fn strip_signature(text: &str, keep_name: bool) -> String {
    let t = text.trim_end().trim_end_matches('"').trim_end();
    if let Some(dash) = t.rfind(['—', '–'])
        && let tail = &t[dash..]
        && let Some(at) = tail.find("(@")
        && tail.len() < 160
    {
        let ends_with_year = tail.chars().rev().take(4).all(|c| c.is_ascii_digit());
        if ends_with_year {
            let dash_len = tail.chars().next().map(char::len_utf8).unwrap_or(1);
            let name = tail[dash_len..at].trim();
            let mut s = t[..dash].trim_end().to_string();
            if keep_name && !name.is_empty() {
                s.push(' ');
                s.push_str(name);
            }
            return s;
        }
    }
    t.to_string()
}

fn push_split_case(word: &str, out: &mut String) {
    if !out.is_empty() {
        out.push(' ');
    }
    let mut prev_lower = false;
    for c in word.chars() {
        if c == '_' {
            out.push(' ');
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower {
            out.push(' ');
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_post_drops_links_signature_and_marks() {
        let t = "How are butterflies surviving the #AustralianFires? pic.twitter.com/0eJtwJyS1J https://t.co/x — Center for Biological Diversity (@CenterForBioDiv) January 10, 2020";
        assert_eq!(
            clean_post(t),
            "How are butterflies surviving the Australian Fires? Center for Biological Diversity"
        );
        assert_eq!(
            clean_post_body(t),
            "How are butterflies surviving the Australian Fires?"
        );
        assert_eq!(
            clean_post("@realDonaldTrump says &amp; so"),
            "real Donald Trump says & so"
        );
    }

    #[test]
    fn no_signature_is_left_alone() {
        assert_eq!(clean_post("A — B and C"), "A — B and C");
    }

    #[test]
    fn analysers_stem_per_language() {
        let mut en = analyser(analyser_code(Some("en-GB")));
        assert_eq!(
            terms(&mut en, "The vaccines are killing"),
            ["vaccin", "kill"]
        );
        let mut ru = analyser(analyser_code(Some("ru")));
        assert_eq!(terms(&mut ru, "вакцины убивают"), ["вакцин", "убива"]);
        assert_eq!(analyser_code(Some("uk")), GENERIC);
        assert_eq!(analyser_code(None), GENERIC);
    }

    #[test]
    fn key_text_meets_across_scripts() {
        assert_eq!(
            key_text("Зеленский и Навальный"),
            key_text("Zelensky, Navalny")
        );
        assert_eq!(key_text("Зеленский и Навальный"), "zelenski navalni");
    }
}
