//! Narrative engine: families, narratives, labels, bounds, and the
//! simulator's planted campaigns.

use pharos_analysis::narratives::{
    Assignment, FamilyParams, NarrativeConfig, NarrativeEngine, NarrativeSummary,
};
use pharos_analysis::similarity::translit::{fold, match_key};
use pharos_core::{Actor, EventTime, Link, Post};
use std::collections::HashMap;

const HOUR: i64 = 3_600_000;

fn post(id: usize, minutes: i64, text: &str) -> Post {
    Post {
        platform: "telegram".into(),
        id: id.to_string(),
        actor: Actor {
            id: format!("a{}", id % 97),
            ..Default::default()
        },
        time: EventTime(1_700_000_000_000 + minutes * 60_000),
        text: text.into(),
        ..Default::default()
    }
}

/// A deterministic word generator (splitmix64) for unrelated texts.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn words(&mut self, n: usize, vocab: u64) -> String {
        (0..n)
            .map(|_| format!("w{}", self.next() % vocab))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

const COPY: &str = "They will not tell you this on the news. Energy bills are going up again in April because the government chose foreign wars over its own people. Share this before it gets deleted.";

#[test]
fn transliterated_names_meet_on_a_fuzzy_key() {
    let k = |w: &str| match_key(&fold(w));
    assert_eq!(k("Зеленский"), k("Зеленський"));
    assert_eq!(k("Зеленский"), k("Zelensky"));
    assert_eq!(k("Зеленский"), k("Zelenskyy"));
    assert_ne!(k("Зеленский"), k("Zelenograd"));
}

#[test]
fn nfkc_folded_copy_joins_the_family() {
    let mut e = NarrativeEngine::default();
    let a = e.observe(&post(
        1,
        0,
        "Energy bills are going up again in April, share before deleted",
    ));
    // Full-width letters, a ligature and capitals: the same text after NFKC and folding.
    let b = e.observe(&post(
        2,
        1,
        "ＥＮＥＲＧＹ bills are going up again in April, share before deleted",
    ));
    let c = e.observe(&post(
        3,
        2,
        "Energy bills are going up again in April, share before deleted https://t.co/x @bob",
    ));
    assert!(a.new_family);
    assert_eq!(b.family, a.family);
    assert!(!b.new_family);
    assert_eq!(c.family, a.family, "URLs and mentions do not count");
}

#[test]
fn edited_copies_form_one_family_and_unrelated_texts_do_not() {
    let mut e = NarrativeEngine::default();
    let edits = [
        COPY.to_string(),
        COPY.replace("going up", "up going"),
        format!("{COPY} #EnergyBills #WakeUp"),
        COPY.to_uppercase(),
        format!("😡 {}", COPY.replace("foreign wars", "wars foreign")),
        COPY.replace('.', "!!"),
        COPY.replace("the government", "the GOVERNMENT"),
    ];
    let fams: Vec<Assignment> = edits
        .iter()
        .enumerate()
        .map(|(i, t)| e.observe(&post(i, i as i64, t)))
        .collect();
    for a in &fams {
        assert_eq!(a.family, fams[0].family, "{a:?}");
    }
    let mut rng = Rng(9);
    let mut seen = std::collections::HashSet::new();
    for i in 0..300 {
        let a = e.observe(&post(100 + i, 10 + i as i64, &rng.words(25, 5000)));
        assert!(a.new_family, "unrelated text {i} joined a family");
        assert!(seen.insert(a.family));
    }
    // Same topic, different words: not a family.
    let a = e.observe(&post(
        1000,
        500,
        "Electricity prices will rise again next quarter, says Northgrid Energy",
    ));
    assert!(a.new_family);
}

#[test]
fn narratives_separate_two_topics() {
    let mut e = NarrativeEngine::default();
    let energy = [
        "The EU will ration household electricity to four hours a day from next month",
        "Leaked memo: Brussels plans to limit home electricity to four hours a day",
        "From next month the EU is cutting household power to four hours per day",
        "Household electricity rationed to four hours a day from next month, says EU plan",
        "EU electricity rationing: four hours a day for households from next month",
    ];
    let football = [
        "Celtic beat Rangers 2-1 in the derby, what a goal in the last minute",
        "Derby day: Rangers lose to Celtic after a last minute goal",
        "What a derby! Celtic score late to beat Rangers",
        "Rangers fans furious after late Celtic goal decides the derby",
        "Celtic win the derby against Rangers with a goal in the last minute",
    ];
    // Background chatter so document frequencies mean something.
    let mut rng = Rng(3);
    for i in 0..200 {
        e.observe(&post(10_000 + i, i as i64, &rng.words(12, 3000)));
    }
    let mut ids = Vec::new();
    for (i, (a, b)) in energy.iter().zip(football.iter()).enumerate() {
        ids.push((
            e.observe(&post(2 * i, 300 + 2 * i as i64, a)).narrative,
            e.observe(&post(2 * i + 1, 301 + 2 * i as i64, b)).narrative,
        ));
    }
    let energy_n = ids[0].0.expect("energy narrative");
    let football_n = ids[0].1.expect("football narrative");
    assert_ne!(energy_n, football_n);
    for (a, b) in &ids {
        assert_eq!(*a, Some(energy_n));
        assert_eq!(*b, Some(football_n));
    }
}

#[test]
fn russian_and_ukrainian_posts_about_the_same_names_meet() {
    let mut e = NarrativeEngine::default();
    let mut rng = Rng(5);
    for i in 0..200 {
        e.observe(&post(10_000 + i, i as i64, &rng.words(12, 3000)));
    }
    let ru = e.observe(&post(
        1,
        300,
        "Зеленский и Шмыгаль провели встречу в Харькове с Сырским",
    ));
    let uk = e.observe(&post(
        2,
        301,
        "Зеленський та Шмигаль провели зустріч у Харкові з Сирським",
    ));
    let en = e.observe(&post(
        3,
        302,
        "Zelenskyy and Shmyhal met Syrskyi in Kharkiv",
    ));
    assert_eq!(ru.narrative, uk.narrative, "ru and uk meet on names");
    assert_eq!(
        ru.narrative, en.narrative,
        "and the English transliteration too"
    );
}

fn summary_of(e: &NarrativeEngine, id: u64) -> NarrativeSummary {
    e.narratives(None, None)
        .into_iter()
        .find(|s| s.id == id)
        .expect("summary")
}

#[test]
fn label_terms_are_distinctive() {
    let mut e = NarrativeEngine::default();
    // Every post of the stream says "today" and "people": they are
    // background, not what the narrative is about.
    let mut rng = Rng(11);
    for i in 0..300 {
        e.observe(&post(
            10_000 + i,
            i as i64,
            &format!("today people {}", rng.words(8, 2000)),
        ));
    }
    let claims = [
        "Today people say the EU will ration household electricity to four hours",
        "People today: Brussels to ration household electricity, four hours a day",
        "Today the EU decided: household electricity rationed to four hours, people angry",
        "Household electricity ration of four hours, the EU tells people today",
    ];
    let mut n = None;
    for (i, c) in claims.iter().enumerate() {
        n = e.observe(&post(i, 400 + i as i64, c)).narrative;
    }
    let s = summary_of(&e, n.unwrap());
    let terms: Vec<&str> = s.label.terms.iter().map(|t| t.term.as_str()).collect();
    assert!(
        !terms.contains(&"today") && !terms.contains(&"people"),
        "{terms:?}"
    );
    for want in ["household", "electricity", "four"] {
        assert!(terms.contains(&want), "{want} missing from {terms:?}");
    }
    assert!(s.label.representative.is_some());
    // The summary serialises (the `pharos narratives --json` shape; the
    // linking profile is kept in memory only).
    let json = serde_json::to_string(&s).unwrap();
    let back: NarrativeSummary = serde_json::from_str(&json).unwrap();
    assert!(s.profile.len() >= s.label.terms.len());
    assert_eq!(
        back,
        NarrativeSummary {
            profile: Vec::new(),
            ..s.clone()
        }
    );
}

#[test]
fn fifty_thousand_identical_texts_stay_in_bounded_buckets() {
    let cfg = NarrativeConfig {
        detect_language: false,
        ..NarrativeConfig::default()
    };
    let cap = cfg.families.bucket_cap;
    let max_ex = cfg.families.max_exemplars;
    let mut e = NarrativeEngine::new(cfg.clone());
    let mut family = None;
    for i in 0..50_000 {
        let a = e.observe(&post(i, i as i64 / 60, COPY));
        family = family.or(a.family);
        assert_eq!(a.family, family);
    }
    let st = e.stats();
    assert_eq!(st.exemplars, 1, "{st:?}");
    assert!(st.max_bucket <= cap);
    // 20,000 *edited* copies (a number appended): distinct texts, one family.
    let mut e = NarrativeEngine::new(cfg);
    for i in 0..20_000 {
        let text = format!("{COPY} {}", i % 997);
        let a = e.observe(&post(i, i as i64 / 60, &text));
        assert!(a.family.is_some());
    }
    let st = e.stats();
    assert!(st.max_bucket <= cap, "{st:?}");
    assert!(st.exemplars <= max_ex, "{st:?}");
    assert_eq!(st.live_families, 1, "{st:?}");
    let s = &e.narratives(None, None)[0];
    assert_eq!(s.total_posts, 20_000);
}

#[test]
fn expiry_bounds_memory_over_a_long_stream() {
    let cfg = NarrativeConfig {
        families: FamilyParams {
            horizon_ms: 6 * HOUR,
            ..FamilyParams::default()
        },
        horizon_ms: 12 * HOUR,
        small_horizon_ms: 6 * HOUR,
        archive_cap: 100,
        detect_language: false,
        ..NarrativeConfig::default()
    };
    let mut e = NarrativeEngine::new(cfg);
    let mut rng = Rng(17);
    let mut peak_families = 0;
    let mut peak_narratives = 0;
    // 20 days, 100 unrelated posts an hour.
    for i in 0..(20 * 24 * 100) {
        let minutes = i as i64 * 60 / 100;
        e.observe(&post(i, minutes, &rng.words(10, 200_000)));
        if i % 1000 == 0 {
            let st = e.stats();
            peak_families = peak_families.max(st.live_families);
            peak_narratives = peak_narratives.max(st.live_narratives);
        }
    }
    let st = e.stats();
    // Live state covers the horizons (plus one sweep interval), not 30 days.
    assert!(peak_families <= 8 * 100, "{peak_families} {st:?}");
    assert!(peak_narratives <= 8 * 100, "{peak_narratives} {st:?}");
    assert!(st.archived_narratives <= 100);
    assert!(st.exemplars <= 8 * 100, "{st:?}");
    assert!(st.vocabulary > 0);
    assert_eq!(st.posts, 20 * 24 * 100);
}

#[test]
fn summaries_carry_actors_links_hashtags_networks_and_timeline() {
    let mut e = NarrativeEngine::default();
    for i in 0..30 {
        let mut p = post(i, i as i64 * 20, &format!("{COPY} #EnergyBills"));
        p.platform = if i % 3 == 0 { "twitter" } else { "telegram" }.into();
        p.lang = Some("en".into());
        p.actor.id = format!("acc{}", i % 4);
        p.links = vec![Link::new("https://the-uk-sentinel.com/a?utm_source=x")];
        p.refresh_domains();
        p.hashtags = vec!["energybills".into()];
        e.observe_with_network(&p, (i % 2 == 0).then_some("net-1"));
    }
    let all = e.narratives(None, None);
    assert_eq!(all.len(), 1);
    let s = &all[0];
    assert_eq!(s.total_posts, 30);
    assert_eq!(s.platforms["twitter"], 10);
    assert_eq!(s.languages["en"], 30);
    assert_eq!(s.actors.len(), 4);
    assert_eq!(s.domains[0].key, "the-uk-sentinel.com");
    assert_eq!(s.hashtags[0].key, "energybills");
    assert_eq!(s.networks[0].key, "net-1");
    assert_eq!(s.networks[0].posts, 15);
    assert_eq!(s.families, 1);
    let binned: u64 = s
        .timeline
        .iter()
        .flat_map(|t| &t.bins)
        .map(|b| b.posts)
        .sum();
    assert_eq!(binned, 30);
    // A range: the first two hours (posts at minutes 0..120 → 6 posts).
    let since = EventTime(1_700_000_000_000 - 1_700_000_000_000 % HOUR);
    let part = e.narratives(Some(since), Some(EventTime(since.0 + 2 * HOUR)));
    assert!(part[0].posts < 30 && part[0].posts > 0, "{}", part[0].posts);
}

#[test]
fn growing_narratives_rank_first() {
    let mut e = NarrativeEngine::default();
    // Narrative A: 20 posts spread over 20 hours, flat.
    for i in 0..20 {
        e.observe(&post(i, i as i64 * 60, &format!("{COPY} {i}")));
    }
    // Narrative B: 15 posts, all in the last two hours.
    let other = "Celtic beat Rangers in the derby with a last minute goal from the penalty spot tonight at Parkhead";
    for i in 0..15 {
        e.observe(&post(
            100 + i,
            18 * 60 + i as i64 * 8,
            &format!("{other} {i}"),
        ));
    }
    let all = e.narratives(None, None);
    assert_eq!(all.len(), 2);
    assert!(
        all[0].label.text.contains("celtic") || all[0].label.text.contains("rangers"),
        "{}",
        all[0].label.text
    );
    assert!(all[0].growth > all[1].growth);
    assert_eq!(all[0].priority, 15.0 + 15.0);
}

#[test]
fn batch_and_one_by_one_agree() {
    let cfg = pharos_sim::SimConfig::new(3_000, 4);
    let mut buf = Vec::new();
    pharos_sim::simulate(&cfg, &mut buf, &mut |_| {}).unwrap();
    let posts: Vec<Post> = buf
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    let mut a = NarrativeEngine::default();
    let one: Vec<Assignment> = posts.iter().map(|p| a.observe(p)).collect();
    let mut b = NarrativeEngine::default();
    assert_eq!(b.observe_batch(&posts), one);
    assert_eq!(a.narratives(None, None), b.narratives(None, None));
}

/// The planted campaigns of a simulated scenario: the copy-paste campaign
/// is one family, the false narrative one narrative whose label names the
/// claim.
#[test]
fn simulated_campaigns_form_families_and_narratives() {
    let cfg = pharos_sim::SimConfig::new(20_000, 1);
    let mut buf = Vec::new();
    let truth = pharos_sim::simulate(&cfg, &mut buf, &mut |_| {}).unwrap();
    let posts: Vec<Post> = buf
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    let mut e = NarrativeEngine::default();
    let got = e.observe_batch(&posts);
    let by_id: HashMap<&str, Assignment> = posts
        .iter()
        .zip(&got)
        .map(|(p, a)| (p.id.as_str(), *a))
        .collect();
    let largest = |ids: &[String], f: &dyn Fn(&Assignment) -> Option<u64>| {
        let mut c: HashMap<u64, usize> = HashMap::new();
        for id in ids {
            if let Some(g) = f(&by_id[id.as_str()]) {
                *c.entry(g).or_default() += 1;
            }
        }
        let (g, n) = c
            .into_iter()
            .max_by_key(|x| (x.1, std::cmp::Reverse(x.0)))
            .unwrap();
        let size = got.iter().filter(|a| f(a) == Some(g)).count();
        (g, n as f64 / ids.len() as f64, n as f64 / size as f64)
    };
    let copy = truth
        .campaigns
        .iter()
        .find(|c| c.kind == "copy_paste")
        .unwrap();
    let (_, recall, purity) = largest(&copy.posts, &|a| a.family);
    assert!(
        recall >= 0.95 && purity >= 0.9,
        "copy-paste family {recall} {purity}"
    );
    let fals = truth
        .campaigns
        .iter()
        .find(|c| c.kind == "false_narrative")
        .unwrap();
    let (n, recall, purity) = largest(&fals.posts, &|a| a.narrative);
    assert!(
        recall >= 0.9 && purity >= 0.7,
        "false narrative {recall} {purity}"
    );
    let s = summary_of(&e, n);
    let claim = fals.claim.as_ref().unwrap().to_lowercase();
    let named = s
        .label
        .terms
        .iter()
        .filter(|t| claim.contains(&t.term))
        .count();
    assert!(named >= 3, "label {:?} vs claim {claim}", s.label.text);
}
