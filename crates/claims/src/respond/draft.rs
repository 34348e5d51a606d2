//! Correction drafts: a short text built from the fact-checks, in the
//! audience's language (the post's) whenever Pharos has a template for it.
//! When no fact-check in that language exists, the frame is still in the
//! audience's language and the fact-checks' own lines are quoted as written,
//! with a note saying which lines to translate; when there is no template
//! for the language, the draft is in English and its note says so.
//!
//! The draft is a template filled with the claim, each verdict (publisher
//! and rating, as the fact-checker wrote them), the key facts (the first
//! sentences of the fact-check texts, links removed; the fact-check's title
//! when it has no text) and the sources. It is a starting point for a
//! person to edit, never published by Pharos.

use crate::model::{Claim, Review};
use serde::{Deserialize, Serialize};

/// Sentences taken from each fact-check text.
pub const FACTS_PER_REVIEW: usize = 2;
/// Key facts at most.
pub const MAX_FACTS: usize = 5;

/// The fixed phrases of a draft in one language.
struct Template {
    lang: &'static str,
    name: &'static str,
    /// `{claim}`.
    intro: &'static str,
    /// When the claim's text is in another language than the draft.
    intro_other: &'static str,
    /// `{publisher}`, `{rating}`.
    verdict: &'static str,
    facts: &'static str,
    sources: &'static str,
    closing: &'static str,
}

const TEMPLATES: &[Template] = &[
    Template {
        lang: "en",
        name: "English",
        intro: "You may have seen the claim that \"{claim}\".",
        intro_other: "You may have seen a claim that fact-checkers have already reviewed.",
        verdict: "{publisher} checked it and rated it \"{rating}\".",
        facts: "What the fact-checks found:",
        sources: "Sources:",
        closing: "Please check before you share.",
    },
    Template {
        lang: "ru",
        name: "Russian",
        intro: "Возможно, вы видели утверждение: «{claim}».",
        intro_other: "Возможно, вы видели утверждение, которое уже проверили фактчекеры.",
        verdict: "{publisher} проверил его: «{rating}».",
        facts: "Что показала проверка:",
        sources: "Источники:",
        closing: "Пожалуйста, проверяйте информацию, прежде чем делиться ею.",
    },
    Template {
        lang: "uk",
        name: "Ukrainian",
        intro: "Можливо, ви бачили твердження: «{claim}».",
        intro_other: "Можливо, ви бачили твердження, яке вже перевірили фактчекери.",
        verdict: "{publisher} перевірив його: «{rating}».",
        facts: "Що показала перевірка:",
        sources: "Джерела:",
        closing: "Будь ласка, перевіряйте інформацію, перш ніж поширювати її.",
    },
    Template {
        lang: "de",
        name: "German",
        intro: "Vielleicht haben Sie die Behauptung gesehen: „{claim}“.",
        intro_other: "Vielleicht haben Sie eine Behauptung gesehen, die Faktenprüfer bereits geprüft haben.",
        verdict: "{publisher} hat sie geprüft und bewertet sie als „{rating}“.",
        facts: "Was die Faktenprüfung ergab:",
        sources: "Quellen:",
        closing: "Bitte prüfen Sie, bevor Sie teilen.",
    },
    Template {
        lang: "fr",
        name: "French",
        intro: "Vous avez peut-être vu l'affirmation : « {claim} ».",
        intro_other: "Vous avez peut-être vu une affirmation que des vérificateurs ont déjà examinée.",
        verdict: "{publisher} l'a vérifiée et l'a jugée « {rating} ».",
        facts: "Ce que les vérifications ont établi :",
        sources: "Sources :",
        closing: "Merci de vérifier avant de partager.",
    },
    Template {
        lang: "pl",
        name: "Polish",
        intro: "Być może widzieli Państwo twierdzenie: „{claim}”.",
        intro_other: "Być może widzieli Państwo twierdzenie, które zweryfikowali już fact-checkerzy.",
        verdict: "{publisher} sprawdził je i ocenił jako „{rating}”.",
        facts: "Co wykazała weryfikacja:",
        sources: "Źródła:",
        closing: "Prosimy sprawdzać informacje przed udostępnieniem.",
    },
    Template {
        lang: "es",
        name: "Spanish",
        intro: "Quizá haya visto la afirmación: «{claim}».",
        intro_other: "Quizá haya visto una afirmación que los verificadores ya han revisado.",
        verdict: "{publisher} la verificó y la calificó como «{rating}».",
        facts: "Lo que encontraron las verificaciones:",
        sources: "Fuentes:",
        closing: "Por favor, compruebe antes de compartir.",
    },
    Template {
        lang: "ar",
        name: "Arabic",
        intro: "ربما رأيتم الادعاء القائل: «{claim}».",
        intro_other: "ربما رأيتم ادعاءً سبق أن تحقق منه مدققو الحقائق.",
        verdict: "تحقق منه {publisher} وصنّفه: «{rating}».",
        facts: "ما توصل إليه التحقق:",
        sources: "المصادر:",
        closing: "يرجى التحقق قبل المشاركة.",
    },
    Template {
        lang: "it",
        name: "Italian",
        intro: "Potreste aver visto l'affermazione: «{claim}».",
        intro_other: "Potreste aver visto un'affermazione che i fact-checker hanno già verificato.",
        verdict: "{publisher} l'ha verificata e l'ha giudicata «{rating}».",
        facts: "Che cosa hanno trovato le verifiche:",
        sources: "Fonti:",
        closing: "Per favore, verificate prima di condividere.",
    },
];

fn template(lang: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.lang == lang)
}

/// Languages that have a draft template.
pub fn template_languages() -> Vec<&'static str> {
    TEMPLATES.iter().map(|t| t.lang).collect()
}

/// The English name of a language code, when Pharos knows it.
pub fn language_name(code: &str) -> String {
    if let Some(t) = template(code) {
        return t.name.to_string();
    }
    let name = match code {
        "pt" => "Portuguese",
        "nl" => "Dutch",
        "cs" => "Czech",
        "sk" => "Slovak",
        "hu" => "Hungarian",
        "ro" => "Romanian",
        "bg" => "Bulgarian",
        "be" => "Belarusian",
        "ka" => "Georgian",
        "ar" => "Arabic",
        "tr" => "Turkish",
        "lt" => "Lithuanian",
        "lv" => "Latvian",
        "et" => "Estonian",
        _ => return code.to_string(),
    };
    name.to_string()
}

/// One key fact and where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyFact {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// A correction draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// The language the draft is written in.
    pub lang: String,
    /// The language of the audience it was made for.
    pub audience_lang: String,
    pub text: String,
    /// Why the draft is not in the audience's language, when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The fact-checks it cites (URLs).
    pub sources: Vec<String>,
}

/// A review's language: its own, else its claim's.
pub fn review_lang<'a>(claim: &'a Claim, r: &'a Review) -> Option<&'a str> {
    r.lang.as_deref().or(claim.lang.as_deref())
}

/// The key facts of reviews: the first sentences of each text (links
/// removed), else its title.
pub fn key_facts(claim: &Claim, reviews: &[&Review]) -> Vec<KeyFact> {
    let mut out: Vec<KeyFact> = Vec::new();
    for r in reviews {
        let mut facts: Vec<String> = r
            .text
            .as_deref()
            .map(|t| sentences(t).into_iter().take(FACTS_PER_REVIEW).collect())
            .unwrap_or_default();
        if facts.is_empty()
            && let Some(t) = &r.title
        {
            facts.push(t.trim().to_string());
        }
        for f in facts {
            if out.len() >= MAX_FACTS {
                return out;
            }
            if out.iter().any(|o| o.text == f) {
                continue;
            }
            out.push(KeyFact {
                text: f,
                publisher: r.publisher.clone(),
                url: r.url.clone(),
                lang: review_lang(claim, r).map(str::to_string),
            });
        }
    }
    out
}

/// Sentences of a text with links removed; those with fewer than four words dropped.
fn sentences(text: &str) -> Vec<String> {
    // Links go; the punctuation after them stays (it may end a sentence).
    let cleaned: String = text
        .split_whitespace()
        .filter_map(|w| {
            if w.starts_with("http://") || w.starts_with("https://") || w.starts_with("www.") {
                let tail = w.trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
                let punct = &w[tail.len()..];
                (!punct.is_empty()).then(|| punct.to_string())
            } else {
                Some(w.to_string())
            }
        })
        .fold(String::new(), |mut acc, w| {
            let glue = !acc.is_empty() && !w.starts_with(['.', ',', ';', ':', '!', '?', ')']);
            if glue {
                acc.push(' ');
            }
            acc.push_str(&w);
            acc
        });
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = cleaned.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        cur.push(c);
        let end = matches!(c, '.' | '!' | '?' | '。')
            && chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        if end {
            push_sentence(&mut out, &cur);
            cur.clear();
        }
    }
    push_sentence(&mut out, &cur);
    out
}

fn push_sentence(out: &mut Vec<String>, s: &str) {
    let s = s.trim();
    if s.split_whitespace().count() >= 4 {
        out.push(s.to_string());
    }
}

/// A correction draft for an audience speaking `audience` (ISO 639-1;
/// `None` when unknown), from the claim's reviews.
pub fn draft(claim: &Claim, audience: Option<&str>) -> Draft {
    let audience_lang = audience.unwrap_or("en").to_string();
    let in_audience: Vec<&Review> = claim
        .reviews
        .iter()
        .filter(|r| review_lang(claim, r) == Some(audience_lang.as_str()))
        .collect();
    let english: Vec<&Review> = claim
        .reviews
        .iter()
        .filter(|r| review_lang(claim, r) == Some("en"))
        .collect();
    let all: Vec<&Review> = claim.reviews.iter().collect();
    let fallback = if english.is_empty() { all } else { english };
    let quoted_langs = |reviews: &[&Review]| {
        let mut names: Vec<String> = reviews
            .iter()
            .map(|r| {
                review_lang(claim, r).map_or_else(|| "an unknown language".into(), language_name)
            })
            .collect();
        names.dedup();
        names.join(", ")
    };
    let (lang, reviews, note) = match (template(&audience_lang), in_audience.is_empty()) {
        (Some(_), false) => (audience_lang.clone(), in_audience, None),
        (Some(_), true) => {
            let note = format!(
                "No fact-check in {} was found: the draft is in {}, but its verdicts and key facts quote fact-checks in {}; translate those lines before use.",
                language_name(&audience_lang),
                language_name(&audience_lang),
                quoted_langs(&fallback)
            );
            (audience_lang.clone(), fallback, Some(note))
        }
        (None, false) => (
            "en".to_string(),
            in_audience,
            Some(format!(
                "There is a fact-check in {} but no {} template: this draft is in English and quotes that fact-check; translate it before use.",
                language_name(&audience_lang),
                language_name(&audience_lang)
            )),
        ),
        (None, true) => {
            let note = format!(
                "There is no {} template and no fact-check in {}: this draft is in English; translate it before use.",
                language_name(&audience_lang),
                language_name(&audience_lang)
            );
            ("en".to_string(), fallback, Some(note))
        }
    };
    let t = template(&lang).expect("en and every chosen language have a template");
    let mut text = String::new();
    if claim.lang.as_deref() == Some(lang.as_str()) || (claim.lang.is_none() && lang == "en") {
        text.push_str(&t.intro.replace("{claim}", claim.text.trim()));
    } else {
        text.push_str(t.intro_other);
    }
    for r in &reviews {
        if let (Some(p), Some(rating)) = (&r.publisher, &r.rating) {
            text.push(' ');
            text.push_str(
                &t.verdict
                    .replace("{publisher}", p)
                    .replace("{rating}", rating),
            );
        }
    }
    let facts = key_facts(claim, &reviews);
    if !facts.is_empty() {
        text.push_str("\n\n");
        text.push_str(t.facts);
        for f in &facts {
            text.push_str("\n- ");
            text.push_str(&f.text);
        }
    }
    let sources: Vec<String> = reviews.iter().filter_map(|r| r.url.clone()).collect();
    if !sources.is_empty() {
        text.push_str("\n\n");
        text.push_str(t.sources);
        for s in &sources {
            text.push('\n');
            text.push_str(s);
        }
    }
    text.push_str("\n\n");
    text.push_str(t.closing);
    Draft {
        lang,
        audience_lang,
        text,
        note,
        sources,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim() -> Claim {
        Claim {
            id: "c".into(),
            text: "The EU will ration household electricity".into(),
            lang: Some("en".into()),
            reviews: vec![
                Review {
                    publisher: Some("Checkers".into()),
                    url: Some("https://check.example/en".into()),
                    rating: Some("False".into()),
                    lang: Some("en".into()),
                    text: Some(
                        "No such plan exists, see https://ec.example/x. The Commission denied it on Monday. Ok."
                            .into(),
                    ),
                    ..Review::default()
                },
                Review {
                    publisher: Some("Prüfer".into()),
                    url: Some("https://check.example/de".into()),
                    rating: Some("Falsch".into()),
                    lang: Some("de".into()),
                    title: Some("Nein, die EU rationiert keinen Haushaltsstrom".into()),
                    ..Review::default()
                },
            ],
            ..Claim::default()
        }
    }

    #[test]
    fn audience_language_when_a_fact_check_exists() {
        let d = draft(&claim(), Some("de"));
        assert_eq!(d.lang, "de");
        assert_eq!(d.note, None);
        assert!(
            d.text
                .starts_with("Vielleicht haben Sie eine Behauptung gesehen"),
            "{}",
            d.text
        );
        assert!(
            d.text
                .contains("Prüfer hat sie geprüft und bewertet sie als „Falsch“.")
        );
        assert!(
            d.text
                .contains("- Nein, die EU rationiert keinen Haushaltsstrom")
        );
        assert_eq!(d.sources, vec!["https://check.example/de"]);
        assert!(!d.text.contains("Checkers"));
    }

    #[test]
    fn the_audience_language_frames_english_fact_checks_with_a_note() {
        let d = draft(&claim(), Some("pl"));
        assert_eq!(d.lang, "pl");
        assert_eq!(d.audience_lang, "pl");
        let note = d.note.as_deref().unwrap();
        assert!(note.contains("No fact-check in Polish"), "{note}");
        assert!(note.contains("quote fact-checks in English"), "{note}");
        assert!(
            d.text.starts_with("Być może widzieli Państwo"),
            "{}",
            d.text
        );
        assert!(d.text.contains("Checkers"), "{}", d.text);
        assert!(d.text.contains("False"));
        assert!(!d.text.contains("Prüfer"));
        // Links are dropped from facts; short sentences too.
        assert!(d.text.contains("- No such plan exists, see."));
        assert!(!d.text.contains("ec.example"));
        assert!(d.text.contains("- The Commission denied it on Monday."));
        assert!(!d.text.contains("- Ok."));
        assert!(d.text.contains("https://check.example/en"));
    }

    #[test]
    fn a_language_without_template_quotes_its_fact_check_in_an_english_frame() {
        let mut c = claim();
        c.reviews[1].lang = Some("cs".into());
        let d = draft(&c, Some("cs"));
        assert_eq!(d.lang, "en");
        assert!(d.note.as_deref().unwrap().contains("no Czech template"));
        assert_eq!(d.sources, vec!["https://check.example/de"]);
    }

    #[test]
    fn no_template_and_no_fact_check_in_the_language_says_both() {
        let d = draft(&claim(), Some("cs"));
        assert_eq!(d.lang, "en");
        let note = d.note.as_deref().unwrap();
        assert!(
            note.contains("no Czech template and no fact-check in Czech"),
            "{note}"
        );
        assert!(d.text.starts_with("You may have seen the claim that"));
        assert!(
            d.text
                .contains("Checkers checked it and rated it \"False\".")
        );
    }

    #[test]
    fn every_language_of_the_cross_lingual_set_has_a_template() {
        for l in ["en", "ru", "uk", "pl", "de", "fr", "es", "ar"] {
            let d = draft(&claim(), Some(l));
            assert_eq!(d.lang, l, "{l}");
            if l != "en" && l != "de" {
                assert!(d.note.is_some(), "{l}");
            }
        }
    }
}
