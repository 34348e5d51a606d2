//! Titles: a short headline for a narrative, taken from its representative
//! post as people would name the story.
//!
//! The representative post's text (its boilerplate and platform templates
//! already removed) is cut into sentences (lines, and `.`, `!`, `?`, `…`
//! followed by a space); each is cleaned of links, emoji, `**` markup,
//! leading and trailing runs of hashtags and mentions (inside a sentence
//! `#word` and `@name` keep the word); the sentence with at least two
//! content words whose terms weigh most in the narrative's centroid
//! (cosine of its term set with the centroid, the first sentence favoured
//! by a tenth, as news leads with its headline) is the title, cut at a
//! word to at most [`MAX_TITLE_CHARS`] characters. It stays in the post's
//! language.

use super::features::{strip_links, text_terms};

/// Longest title, in characters (an ellipsis marks a cut).
pub const MAX_TITLE_CHARS: usize = 120;

/// Pictographs, dingbats, arrows, geometric shapes, variation selectors
/// and joiners: decoration in a headline.
fn is_decoration(c: char) -> bool {
    matches!(c as u32,
        0x2190..=0x21FF | 0x2300..=0x23FF | 0x2460..=0x27BF | 0x2900..=0x297F
        | 0x2B00..=0x2BFF | 0x1F000..=0x1FAFF | 0xFE00..=0xFE0F | 0x200D | 0x20E3
        | 0xE0020..=0xE007F)
}

/// The sentences of `text`, in order.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in text.split('\n') {
        let mut start = 0;
        let mut it = line.char_indices().peekable();
        while let Some((i, c)) = it.next() {
            if matches!(c, '.' | '!' | '?' | '…') {
                let next = it.peek().map(|x| x.1);
                if next.is_none_or(char::is_whitespace) {
                    let end = i + c.len_utf8();
                    out.push(&line[start..end]);
                    start = end;
                }
            }
        }
        if start < line.len() {
            out.push(&line[start..]);
        }
    }
    out.retain(|s| s.chars().any(char::is_alphanumeric));
    out
}

/// A sentence as a headline: decoration, markup, edge hashtags and
/// mentions removed, `#`/`@` dropped inside, spaces collapsed, trailing
/// `.`, `:` and dashes trimmed.
fn tidy(sentence: &str) -> String {
    let plain: String = sentence
        .replace("**", "")
        .replace("__", "")
        .chars()
        .map(|c| if is_decoration(c) { ' ' } else { c })
        .collect();
    let words: Vec<&str> = plain.split_whitespace().collect();
    // Leading: mentions, `RT`, and hashtags used as a rubric (`#BREAKING:`);
    // a hashtag that starts the sentence keeps its word.
    let lead = |w: &&str| {
        let w = w.trim_start_matches(|c: char| !(c.is_alphanumeric() || c == '#' || c == '@'));
        w.starts_with('@') || w == "RT" || (w.starts_with('#') && w.ends_with(':'))
    };
    // Trailing: hashtags and mentions after the sentence (not `#Alps.`,
    // which ends it).
    let trail =
        |w: &&str| (w.starts_with('#') || w.starts_with('@')) && !w.ends_with(['.', '!', '?', '…']);
    let first = words.iter().position(|w| !lead(w)).unwrap_or(words.len());
    let last = words
        .iter()
        .rposition(|w| !trail(w))
        .map_or(first, |i| i + 1);
    let mut out = String::with_capacity(plain.len());
    let kept = &words[first..last.max(first)];
    let mut k = 0;
    while k < kept.len() {
        let w = kept[k];
        // An inline retweet or quote credit (`RT @name:`, `via @name`,
        // `@name:`) is attribution, not part of the headline.
        if (w == "RT" || w.eq_ignore_ascii_case("via"))
            && kept.get(k + 1).is_some_and(|n| n.starts_with('@'))
        {
            k += 2;
            continue;
        }
        if w.trim_start_matches(['“', '"', '«']).starts_with('@') && w.ends_with(':') {
            k += 1;
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w.trim_start_matches(['#', '@']));
        k += 1;
    }
    let trimmed = out
        .trim_start_matches(|c: char| !(c.is_alphanumeric() || "«\"'“„([".contains(c)))
        .trim_end_matches(['.', ':', ';', ',', '-', '—', '–', '|', ' ']);
    trimmed.to_string()
}

/// Cuts `s` to at most `max` characters at a word, with an ellipsis.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let byte = s.char_indices().nth(max - 1).map_or(s.len(), |x| x.0);
    let head = &s[..byte];
    let at = head.rfind(' ').filter(|&i| i > byte / 2).unwrap_or(byte);
    format!(
        "{}…",
        head[..at].trim_end_matches([',', ';', ':', '-', '—', ' '])
    )
}

/// The title of a narrative whose representative text is `text` and whose
/// centroid is `centroid` (term hash → weight, sorted by hash; `norm` its
/// length). Empty when the text has no words.
pub(crate) fn title(text: &str, centroid: &[(u64, f32)], norm: f32) -> String {
    let text = strip_links(text);
    let mut best: Option<(f32, String)> = None;
    let mut fallback: Option<String> = None;
    for (i, s) in sentences(&text).into_iter().enumerate() {
        let tidy = tidy(s);
        if tidy.is_empty() {
            continue;
        }
        let terms = text_terms(&tidy);
        if terms.len() < 2 {
            fallback.get_or_insert(tidy);
            continue;
        }
        let mut weight = 0.0f32;
        for t in &terms {
            if let Ok(j) = centroid.binary_search_by_key(t, |x| x.0) {
                weight += centroid[j].1;
            }
        }
        let mut score = if norm > 0.0 {
            weight / (norm * (terms.len() as f32).sqrt())
        } else {
            0.0
        };
        if i == 0 {
            score *= 1.1;
        }
        // Ties (no centroid yet): the earliest sentence.
        if best.as_ref().is_none_or(|b| score > b.0) {
            best = Some((score, tidy));
        }
    }
    best.map(|b| b.1)
        .or(fallback)
        .map(|t| cut(&t, MAX_TITLE_CHARS))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_at_stops_and_lines() {
        assert_eq!(
            sentences("Путин прилетел в Минск. Там его встретил Лукашенко!\nДетали: t.me/x\n🔴"),
            [
                "Путин прилетел в Минск.",
                " Там его встретил Лукашенко!",
                "Детали: t.me/x"
            ]
        );
        assert_eq!(sentences("v1.2 released"), ["v1.2 released"]);
    }

    #[test]
    fn tidy_drops_decoration_tags_and_mentions() {
        assert_eq!(
            tidy("⚡️**Военное положение в Южной Корее** #новости @rian_ru"),
            "Военное положение в Южной Корее"
        );
        assert_eq!(
            tidy("RT @bbc: #Germanwings plane crashed in the #Alps."),
            "Germanwings plane crashed in the Alps"
        );
        assert_eq!(tidy("Главное к этому часу:"), "Главное к этому часу");
        assert_eq!(
            tidy("Reports of gunshots unconfirmed RT @Henderburn: Only photo I will tweet"),
            "Reports of gunshots unconfirmed Only photo I will tweet"
        );
        assert_eq!(
            tidy("Pray for them “@f4izalhassan: Pray for #4U9525"),
            "Pray for them Pray for"
        );
        assert_eq!(
            tidy("#BREAKING: @senyera Plane down #4U9525 #Germanwings"),
            "Plane down"
        );
    }

    #[test]
    fn the_central_sentence_is_the_title() {
        let terms = text_terms("протесты тбилиси водомёты");
        let centroid: Vec<(u64, f32)> = terms.iter().map(|&t| (t, 1.0)).collect();
        let norm = (centroid.len() as f32).sqrt();
        let t = title(
            "🔴 Срочно\nВ Тбилиси полиция применила водомёты против протестующих. Погода хорошая и солнечная сегодня.\nhttps://t.me/x",
            &centroid,
            norm,
        );
        assert_eq!(
            t,
            "В Тбилиси полиция применила водомёты против протестующих"
        );
        let long = "word ".repeat(60);
        let t = title(&long, &[], 0.0);
        assert!(
            t.chars().count() <= MAX_TITLE_CHARS && t.ends_with('…'),
            "{t}"
        );
        assert_eq!(title("🔥🔥 https://x.org", &[], 0.0), "");
    }
}
