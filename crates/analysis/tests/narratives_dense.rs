//! Narratives by meaning: the sentence encoder wired through
//! `TextEmbedder` (`ModelEmbedder`, the constructor the command line
//! uses), on the tiny e5 model the encoder's tests ship
//! (`crates/embed/tests/fixtures/tiny-e5.bin`: random weights, so it
//! proves the wiring, not the model's judgement; the real model's figures
//! are in `crates/claims/tests/narratives_crosslingual.rs`).

use pharos_analysis::narratives::{ModelEmbedder, NarrativeConfig, NarrativeEngine, TextEmbedder};
use pharos_core::{Actor, EventTime, Post};
use std::sync::Arc;

fn post(id: usize, minutes: i64, text: &str, lang: &str) -> Post {
    Post {
        platform: "telegram".into(),
        id: id.to_string(),
        actor: Actor {
            id: format!("a{id}"),
            ..Default::default()
        },
        time: EventTime(1_700_000_000_000 + minutes * 60_000),
        text: text.into(),
        lang: Some(lang.into()),
        ..Default::default()
    }
}

fn tiny() -> ModelEmbedder {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../embed/tests/fixtures/tiny-e5.bin"
    );
    ModelEmbedder::open(path).expect("the tiny e5 model the embed tests ship")
}

fn cosine(e: &dyn TextEmbedder, a: &str, b: &str) -> f32 {
    let (x, y) = (e.embed(a, None).unwrap(), e.embed(b, None).unwrap());
    pharos_embed::cosine(&x, &y)
}

// Two tellings with no term in common (function words are no terms:
// "gamma" and "delta" are their only content words) and no word pair in
// common (so no near-duplicate family), and a third text.
const A: &str = "and the of to in for with on at by from gamma";
const B: &str = "delta from by at on with for in to of the and";
const C: &str = "Zürich 1999 Ωμέγα квартира 東京 lorem ipsum dolor";

/// Texts of other kinds before them: the engine centres embeddings on the
/// mean of those it has seen, so it needs a few first.
const BACKGROUND: [&str; 4] = [
    "Zürich 1999 Ωμέγα квартира 東京",
    "football results league cup final",
    "погода завтра дождь ветер",
    "recipe flour sugar butter oven",
];

#[test]
fn an_embedding_joins_posts_that_share_no_term() {
    let e = tiny();
    let (ab, ac) = (cosine(&e, A, B), cosine(&e, A, C));
    assert!(ab > ac, "the test texts: cos(A,B) {ab} cos(A,C) {ac}");
    let e: Arc<dyn TextEmbedder> = Arc::new(e);
    let mut posts: Vec<Post> = BACKGROUND
        .iter()
        .enumerate()
        .map(|(i, t)| post(10 + i, i as i64, t, "en"))
        .collect();
    posts.extend([
        post(1, 10, A, "en"),
        post(3, 12, C, "en"),
        post(2, 15, B, "en"),
    ]);
    let (a, c, b) = (4, 5, 6);

    let mut words = NarrativeEngine::new(NarrativeConfig {
        embedder: None,
        ..NarrativeConfig::default()
    });
    let w = words.observe_batch(&posts);
    assert_ne!(
        w[a].narrative, w[b].narrative,
        "no shared term: apart by words"
    );
    assert_eq!(words.stats().encoded_texts, 0);

    let cfg = NarrativeConfig {
        embedder: Some(e.clone()),
        ..NarrativeConfig::default()
    };
    let mut meaning = NarrativeEngine::new(cfg.clone());
    let m = meaning.observe_batch(&posts);
    assert!(m[a].narrative.is_some());
    assert_eq!(m[a].narrative, m[b].narrative, "joined by their embeddings");
    assert_ne!(m[a].narrative, m[c].narrative, "a distant text stays apart");
    let stats = meaning.stats();
    // Each post that needed a decision was encoded once, none for nothing.
    assert!(stats.embedded_posts >= 6, "{stats:?}");
    assert_eq!(stats.encoded_texts, stats.embedded_posts, "{stats:?}");
    assert_eq!(stats.encoded_unused, 0, "{stats:?}");

    // One by one (each post embedded when it is assigned) decides alike.
    let mut single = NarrativeEngine::new(cfg);
    let s: Vec<_> = posts.iter().map(|p| single.observe(p)).collect();
    assert_eq!(s, m);
}

#[test]
fn only_posts_that_start_a_family_are_embedded() {
    let e: Arc<dyn TextEmbedder> = Arc::new(tiny());
    let story = "Officials confirmed the bridge over the river will close for repairs next week";
    let mut posts = Vec::new();
    for i in 0..200 {
        // Copies of one text, and a few edited ones: one family.
        let text = if i % 10 == 0 {
            format!("{story} (update {i})")
        } else {
            story.to_string()
        };
        posts.push(post(i, i as i64, &text, "en"));
    }
    posts.push(post(
        1000,
        300,
        "A completely different story about football results",
        "en",
    ));
    let mut engine = NarrativeEngine::new(NarrativeConfig {
        embedder: Some(e),
        ..NarrativeConfig::default()
    });
    let got = engine.observe_batch(&posts);
    assert!(got[..200].iter().all(|a| a.narrative == got[0].narrative));
    let stats = engine.stats();
    // The family's first post and the other story's; the edited copies
    // join the family, so they need no embedding.
    assert_eq!(stats.embedded_posts, 2, "{stats:?}");
    assert!(stats.encoded_texts <= 3, "{stats:?}");
}

#[test]
fn a_narrative_in_two_languages_has_a_title_and_label_in_each() {
    // Lexical: Russian and Ukrainian posts meet on the names they share.
    let mut engine = NarrativeEngine::new(NarrativeConfig {
        embedder: None,
        ..NarrativeConfig::default()
    });
    let ru = [
        "Зеленский и Шмыгаль провели совещание в Харькове о восстановлении энергетики",
        "Шмыгаль и Зеленский обсудили в Харькове энергетику и восстановление станций",
        "В Харькове Зеленский и Шмыгаль говорили о восстановлении энергетики после ударов",
    ];
    let uk = [
        "Зеленський і Шмигаль провели нараду в Харкові щодо відновлення енергетики",
        "Шмигаль та Зеленський обговорили в Харкові енергетику і відновлення станцій",
    ];
    let mut posts = Vec::new();
    for (i, t) in ru.iter().enumerate() {
        posts.push(post(i, i as i64 * 10, t, "ru"));
    }
    for (i, t) in uk.iter().enumerate() {
        posts.push(post(10 + i, 5 + i as i64 * 10, t, "uk"));
    }
    posts.sort_by_key(|p| p.time);
    let got = engine.observe_batch(&posts);
    assert!(
        got.iter().all(|a| a.narrative == got[0].narrative),
        "{got:?}"
    );
    let list = engine.narratives(None, None);
    let n = &list[0];
    let langs: Vec<(&str, u64)> = n
        .by_language
        .iter()
        .map(|l| (l.lang.as_str(), l.posts))
        .collect();
    assert_eq!(langs, [("ru", 3), ("uk", 2)]);
    let (r, u) = (&n.by_language[0], &n.by_language[1]);
    assert!(ru.iter().any(|t| t.starts_with(&r.title)), "{}", r.title);
    assert!(uk.iter().any(|t| t.starts_with(&u.title)), "{}", u.title);
    assert!(
        u.label.contains("відновлення") || u.label.contains("енергетики"),
        "{}",
        u.label
    );
    assert!(!u.label.contains("восстановлении"), "{}", u.label);
    // The JSON carries them beside the existing fields.
    let json = serde_json::to_value(n).unwrap();
    assert_eq!(json["by_language"][1]["lang"], "uk");
    assert_eq!(json["languages"]["uk"], 2);
}
