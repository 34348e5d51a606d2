use super::eval::{roc_auc, stratified_folds};
use super::fit::fit_logistic;
use super::profile::parse_twitter_time;
use super::tracker::normalised_text_hash;
use super::*;
use pharos_core::{Actor, EventTime, Post};

fn post(actor: &str, secs: i64, text: &str) -> Post {
    Post {
        platform: "t".into(),
        id: format!("{actor}-{secs}"),
        actor: Actor {
            id: actor.into(),
            ..Default::default()
        },
        time: EventTime::from_secs(secs),
        text: text.into(),
        ..Default::default()
    }
}

#[test]
fn text_hash_ignores_case_punctuation_links_and_mentions() {
    let a = normalised_text_hash("Vote NOW!!! https://x.co/abc @bob");
    let b = normalised_text_hash("vote now https://y.co/zzz");
    let c = normalised_text_hash("vote later");
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(normalised_text_hash("@only https://links"), 0);
    assert_ne!(normalised_text_hash("ab c"), normalised_text_hash("a bc"));
}

#[test]
fn twitter_time_parses() {
    let t = parse_twitter_time("Wed May 15 16:00:19 +0000 2019").unwrap();
    assert_eq!(t.to_rfc3339(), "2019-05-15T16:00:19.000Z");
    let t = parse_twitter_time("Wed May 15 18:00:19 +0200 2019").unwrap();
    assert_eq!(t.to_rfc3339(), "2019-05-15T16:00:19.000Z");
    assert!(parse_twitter_time("garbage").is_none());
}

#[test]
fn late_posts_are_counted_not_used_as_gaps() {
    let mut t = ActorTracker::default();
    for s in [0, 100, 50, 200] {
        t.observe(&post("a", 1_000_000 + s, &format!("p{s}")));
    }
    let s = t.signals("a").unwrap();
    assert_eq!(s.posts, 4);
    assert_eq!(s.late_posts, 1);
}

#[test]
fn duplicate_share_uses_flag_when_given() {
    let mut t = ActorTracker::default();
    for i in 0..10 {
        t.observe_with(
            &post("a", i * 60, &format!("unique {i}")),
            PostFlags {
                near_duplicate: Some(i % 2 == 0),
                ..Default::default()
            },
        );
    }
    for i in 0..10 {
        t.observe(&post("b", i * 60, "Same text!"));
    }
    assert_eq!(t.signals("a").unwrap().duplicate_share, Some(0.5));
    assert_eq!(t.signals("b").unwrap().duplicate_share, Some(0.9));
}

#[test]
fn logistic_fit_recovers_direction() {
    // y = 1 when x0 large; x1 noise.
    let mut rng = eval::SplitMix64(7);
    let mut rows = Vec::new();
    let mut y = Vec::new();
    for _ in 0..400 {
        let x0 = (rng.next_u64() % 1000) as f64 / 100.0;
        let x1 = (rng.next_u64() % 1000) as f64 / 100.0;
        let p = score::sigmoid(2.0 * (x0 - 5.0));
        let u = (rng.next_u64() % 10_000) as f64 / 10_000.0;
        rows.push(vec![Some(x0), Some(x1)]);
        y.push(u < p);
    }
    let fit = fit_logistic(&rows, &y, 1.0);
    assert!(fit.weights[0] > 3.0, "{:?}", fit.weights);
    assert!(fit.weights[1].abs() < 0.5, "{:?}", fit.weights);
    let s: Vec<f64> = rows.iter().map(|r| fit.logit(r)).collect();
    assert!(roc_auc(&s, &y).unwrap() > 0.9);
}

#[test]
fn folds_are_stratified_and_deterministic() {
    let labels: Vec<bool> = (0..103).map(|i| i % 3 == 0).collect();
    let f = stratified_folds(&labels, 5, 1);
    assert_eq!(f, stratified_folds(&labels, 5, 1));
    for k in 0..5 {
        let pos = (0..103).filter(|&i| f[i] == k && labels[i]).count();
        let all = (0..103).filter(|&i| f[i] == k).count();
        assert!((6..=7).contains(&pos), "{pos}");
        assert!((20..=21).contains(&all), "{all}");
    }
}

/// `normalised_text_hash` as it was before its fast paths for ASCII and
/// Cyrillic: the rewrite must give the same hash on every text.
fn normalised_text_hash_reference(text: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    let mut any = false;
    for word in text.split_whitespace() {
        if word.starts_with('@') || word.starts_with("http://") || word.starts_with("https://") {
            continue;
        }
        let mut gap = true;
        for ch in word.chars().flat_map(char::to_lowercase) {
            if ch.is_alphanumeric() {
                if gap && any {
                    h = (h ^ b' ' as u64).wrapping_mul(PRIME);
                }
                gap = false;
                any = true;
                let mut buf = [0u8; 4];
                for &b in ch.encode_utf8(&mut buf).as_bytes() {
                    h = (h ^ b as u64).wrapping_mul(PRIME);
                }
            } else {
                gap = true;
            }
        }
    }
    if any { h } else { 0 }
}

#[test]
fn text_hash_fast_paths_change_no_hash() {
    use crate::similarity::text::{MIXED_TEXTS, prefixes};
    let mut distinct = std::collections::HashSet::new();
    for text in MIXED_TEXTS {
        for p in prefixes(text) {
            let h = normalised_text_hash(p);
            assert_eq!(h, normalised_text_hash_reference(p), "{p:?}");
            distinct.insert(h);
        }
    }
    // The prefixes hash apart (the comparison is not between constants).
    assert!(distinct.len() > 250, "{}", distinct.len());
}
