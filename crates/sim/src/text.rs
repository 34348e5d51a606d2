//! Writing posts: template filling, organic texts, article links.

use crate::lexicon::{EMOJI, Lang, Topic};
use crate::rng::{SimRng, chance, pick};
use chrono::Datelike;
use pharos_core::EventTime;
use rand::Rng;
use std::fmt::Write;

/// Appends `template` to `out` with its `{slots}` filled for `lang`.
pub(crate) fn fill(out: &mut String, template: &str, lang: &Lang, rng: &mut SimRng) {
    let comma = lang.code != "en";
    let mut rest = template;
    let mut team: Option<usize> = None;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return;
        };
        let name = &after[..close];
        match name {
            "place" => push_word(out, pick(rng, lang.places)),
            "org" => push_word(out, pick(rng, lang.orgs)),
            "person" => push_word(out, pick(rng, lang.people)),
            "team" | "team2" => {
                let n = lang.teams.len();
                let mut i = rng.random_range(0..n);
                if let Some(t) = team {
                    if i == t {
                        i = (i + 1) % n;
                    }
                } else {
                    team = Some(i);
                }
                push_word(out, lang.teams[i]);
            }
            "score" => {
                let sep = if matches!(lang.code, "en" | "fr" | "pl") {
                    '-'
                } else {
                    ':'
                };
                let a = rng.random_range(0..5u32);
                let b = rng.random_range(0..4u32);
                let _ = write!(out, "{a}{sep}{b}");
            }
            "n" => {
                let _ = write!(out, "{}", rng.random_range(2..60u32));
            }
            "pct" => {
                let _ = write!(out, "{}", rng.random_range(3..46u32));
            }
            "temp" => {
                let _ = write!(out, "{}", rng.random_range(-12..36i32));
            }
            "price" => {
                let cents = rng.random_range(110..250u32);
                let sep = if comma { ',' } else { '.' };
                let _ = write!(out, "{}{sep}{:02}", cents / 100, cents % 100);
            }
            _ => {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
}

/// Appends `word`, capitalised when it starts a sentence ("the regulator says" → "The regulator says").
fn push_word(out: &mut String, word: &str) {
    let trimmed = out.trim_end();
    let starts_sentence = trimmed.is_empty() || trimmed.ends_with(['.', '!', '?', ':']);
    let mut chars = word.chars();
    match chars.next() {
        Some(c) if starts_sentence && c.is_lowercase() => {
            out.extend(c.to_uppercase());
            out.push_str(chars.as_str());
        }
        _ => out.push_str(word),
    }
}

/// An organic post's text about `topic` (no hashtags or links yet).
pub(crate) fn organic_text(out: &mut String, lang: &Lang, topic: &Topic, rng: &mut SimRng) {
    if chance(rng, 0.12) {
        out.push_str(pick(rng, lang.openers));
        out.push(' ');
    }
    let t = pick(rng, topic.templates);
    fill(out, t, lang, rng);
    if chance(rng, 0.2) {
        out.push(' ');
        out.push_str(pick(rng, lang.closers));
    }
    if chance(rng, 0.18) {
        out.push(' ');
        out.push_str(pick(rng, EMOJI));
    }
}

/// Appends ` #Tag` for each tag.
pub(crate) fn push_hashtags(out: &mut String, tags: &[&str]) {
    for t in tags {
        out.push_str(" #");
        out.push_str(t);
    }
}

/// A plausible article URL on `domain` in `section` with slug `slug`,
/// dated `time`; `tracking` adds the parameters sharing buttons add.
pub(crate) fn article_url(
    rng: &mut SimRng,
    domain: &str,
    section: &str,
    slug: &str,
    time: EventTime,
    tracking: Option<&str>,
) -> String {
    let mut u = String::with_capacity(96);
    let style = domain
        .bytes()
        .fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(b as u32))
        % 4;
    let id: u32 = rng.random_range(10_000_000..99_999_999);
    let d = time.to_datetime();
    let www = if domain.matches('.').count() == 1 {
        "www."
    } else {
        ""
    };
    let _ = match style {
        0 => write!(
            u,
            "https://{www}{domain}/{section}/{}/{:02}/{:02}/{slug}",
            d.year(),
            d.month(),
            d.day()
        ),
        1 => write!(u, "https://{domain}/{section}/{slug}-{id}"),
        2 => write!(u, "https://{www}{domain}/news/{section}-{id}"),
        _ => write!(
            u,
            "https://{domain}/{section}/{}{:02}{:02}/{slug}.html",
            d.year(),
            d.month(),
            d.day()
        ),
    };
    match tracking {
        Some("facebook") => {
            let _ = write!(u, "?fbclid=IwAR{:x}", rng.random::<u64>());
        }
        Some(src) => {
            let _ = write!(u, "?utm_source={src}&utm_medium=social");
            if chance(rng, 0.3) {
                u.push_str("&utm_campaign=share_button");
            }
        }
        None => {}
    }
    u
}

/// A YouTube link.
pub(crate) fn video_url(rng: &mut SimRng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut u = String::from("https://www.youtube.com/watch?v=");
    for _ in 0..11 {
        u.push(ALPHABET[rng.random_range(0..64)] as char);
    }
    u
}

/// Small edits that copy-pasters make: swap two neighbouring words, change
/// the final punctuation, add an emoji or hashtags, capitalise a word.
pub(crate) fn copy_paste_variant(base: &str, tags: &[&str], rng: &mut SimRng) -> String {
    let mut words: Vec<String> = base.split(' ').map(str::to_string).collect();
    let edits = rng.random_range(1..=3);
    let mut extra_tags: Vec<&str> = Vec::new();
    let mut emoji_front: Option<&str> = None;
    let mut emoji_back: Option<&str> = None;
    for _ in 0..edits {
        match rng.random_range(0..6) {
            0 => {
                // Swap two neighbouring words inside a sentence.
                let i = rng.random_range(1..words.len() - 2);
                if !words[i].ends_with(['.', ',', '!', '?', ':'])
                    && !words[i + 1].ends_with(['.', ',', '!', '?', ':'])
                {
                    words.swap(i, i + 1);
                }
            }
            1 => {
                let last = words.last_mut().expect("base text has words");
                let trimmed = last.trim_end_matches(['.', '!', '?']).to_string();
                *last = trimmed + pick(rng, &["!", "!!", "!!!", "...", "!?"]);
            }
            2 => {
                if rng.random::<bool>() {
                    emoji_front = Some(pick(rng, EMOJI));
                } else {
                    emoji_back = Some(pick(rng, EMOJI));
                }
            }
            3 => {
                let t = pick(rng, tags);
                if !extra_tags.contains(&t) {
                    extra_tags.push(t);
                }
            }
            4 => {
                let i = rng.random_range(0..words.len());
                words[i] = words[i].to_uppercase();
            }
            _ => {
                // Drop a comma or turn a full stop into an exclamation mark.
                let i = rng.random_range(0..words.len() - 1);
                if words[i].ends_with(',') {
                    words[i].pop();
                } else if words[i].ends_with('.') {
                    words[i].pop();
                    words[i].push('!');
                }
            }
        }
    }
    let mut out = String::with_capacity(base.len() + 40);
    if let Some(e) = emoji_front {
        out.push_str(e);
        out.push(' ');
    }
    out.push_str(&words.join(" "));
    if let Some(e) = emoji_back {
        out.push(' ');
        out.push_str(e);
    }
    push_hashtags(&mut out, &extra_tags);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::LANGS;
    use rand::SeedableRng;

    #[test]
    fn fills_every_slot_and_capitalises_sentence_starts() {
        let mut rng = SimRng::seed_from_u64(5);
        for lang in LANGS.iter() {
            for topic in lang.topics.iter() {
                for t in topic.templates {
                    let mut out = String::new();
                    fill(&mut out, t, lang, &mut rng);
                    assert!(!out.contains('{') && !out.contains('}'), "{out}");
                    assert!(!out.contains('#') && !out.contains('@'), "{out}");
                    let first = out.chars().next().unwrap();
                    assert!(!first.is_lowercase(), "{out}");
                }
            }
        }
    }

    #[test]
    fn copy_paste_variants_edit_a_little() {
        let mut rng = SimRng::seed_from_u64(5);
        let base = "one two three four five six seven eight nine ten, eleven twelve.";
        for _ in 0..50 {
            let v = copy_paste_variant(base, &["Tag"], &mut rng);
            let a: Vec<&str> = base.split(' ').collect();
            let same = v.split(' ').filter(|w| a.contains(w)).count();
            assert!(same + 4 >= a.len(), "{v}");
        }
    }
}
