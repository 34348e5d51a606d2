//! Language detection on the hand translations of the cross-lingual
//! claim-matching set (crates/claims/tests/fixtures/crosslingual: 199
//! tweets in each of seven languages; short texts, where trigram models
//! guess worst).

use pharos_core::lang::detect;
use std::collections::BTreeMap;

fn guesses(lang: &str) -> (usize, BTreeMap<String, usize>) {
    let path = format!(
        "{}/../claims/tests/fixtures/crosslingual/{lang}.tsv",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    let mut n = 0;
    for line in text.lines() {
        let Some((_, t)) = line.split_once('\t') else {
            continue;
        };
        n += 1;
        *by.entry(detect(t).unwrap_or("none").to_string())
            .or_default() += 1;
    }
    (n, by)
}

#[test]
fn russian_is_never_read_as_another_cyrillic_language_its_letters_rule_out() {
    let (n, by) = guesses("ru");
    println!("ru: {n} texts, guessed {by:?}");
    assert!(n >= 190);
    // Texts with ы, э or ё are not Bulgarian, Ukrainian, Macedonian or
    // Serbian, whatever their trigrams say.
    for other in ["bg", "uk", "mk", "sr"] {
        let wrong = by.get(other).copied().unwrap_or(0);
        assert!(wrong <= 2, "{wrong} Russian texts read as {other}: {by:?}");
    }
    assert!(by.get("ru").copied().unwrap_or(0) * 100 >= n * 97, "{by:?}");
}

#[test]
fn the_other_languages_of_the_set_are_read_as_themselves() {
    for lang in ["uk", "pl", "de", "fr", "es", "ar"] {
        let (n, by) = guesses(lang);
        println!("{lang}: {n} texts, guessed {by:?}");
        assert!(
            by.get(lang).copied().unwrap_or(0) * 100 >= n * 90,
            "{lang}: {by:?}"
        );
    }
}
