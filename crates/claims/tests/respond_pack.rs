//! Response packs and response tracking on a store built for these tests.

use pharos_claims::library::normalize_text;
use pharos_claims::library::{self, ImportFormat, ImportOptions, Library};
use pharos_claims::respond::pack::{MatchSource, to_markdown};
use pharos_claims::respond::scan::narrative_of_post;
use pharos_claims::respond::timing::Stage;
use pharos_claims::respond::tracking::{self, NewResponse, Trend};
use pharos_claims::respond::{
    ClaimMatcher, LazyMatcher, PackOptions, RespondError, Target, build_pack,
};
use pharos_core::{Actor, EventTime, Post};
use pharos_store::{ClaimMatches, PostMatches, SqliteStore, Store};

const H: i64 = 3_600_000;
const T0: i64 = 1_741_000_000_000; // 2025-03-03

fn post(platform: &str, id: &str, actor: &str, t: i64, text: &str, lang: &str) -> Post {
    Post {
        platform: platform.into(),
        id: id.into(),
        actor: Actor {
            id: actor.into(),
            handle: Some(format!("h_{actor}")),
            followers: Some(100),
            ..Actor::default()
        },
        time: EventTime(t),
        text: text.into(),
        lang: Some(lang.into()),
        hashtags: pharos_core::text::hashtags(text),
        ..Post::default()
    }
}

const CLAIM_EN: &str =
    "The EU will ration household electricity to four hours a day from next month";

/// Organic chatter on other subjects, then the rationing narrative in
/// English and German, pushed by a ring of accounts resharing one post
/// within seconds.
fn scenario() -> Vec<Post> {
    let mut v = Vec::new();
    let topics = [
        "football results weekend league table",
        "new bakery opened downtown fresh bread",
        "rain expected tomorrow northern region",
        "concert tickets sold out yesterday",
    ];
    for i in 0..200 {
        let t = T0 + i * H / 4;
        v.push(post(
            "twitter",
            &format!("o{i}"),
            &format!("u{}", i % 40),
            t,
            &format!("{} {}", topics[(i % 4) as usize], i),
            "en",
        ));
    }
    let start = T0 + 60 * H;
    for i in 0..30 {
        let t = start + i * 10 * 60_000;
        v.push(post(
            "twitter",
            &format!("r{i}"),
            &format!("p{}", i % 12),
            t,
            &format!("{CLAIM_EN}, they say. Share before it is deleted #powerrationing {i}"),
            "en",
        ));
    }
    for i in 0..10 {
        let t = start + 2 * H + i * 10 * 60_000;
        v.push(post(
            "telegram",
            &format!("chan/{i}"),
            "chan",
            t,
            &format!("{CLAIM_EN}! #powerrationing"),
            "en",
        ));
    }
    // A ring of four accounts reshares the first posts within seconds, three times.
    for (k, target) in ["r0", "r1", "r2"].iter().enumerate() {
        for (j, a) in ["ring1", "ring2", "ring3", "ring4"].iter().enumerate() {
            let mut p = post(
                "twitter",
                &format!("rs{k}{j}"),
                a,
                start + (k as i64) * 10 * 60_000 + 5_000 + j as i64 * 3_000,
                &format!("RT {CLAIM_EN} #powerrationing"),
                "en",
            );
            p.reshare_of = Some(target.to_string());
            v.push(p);
        }
    }
    v.sort_by_key(|p| p.time.0);
    v
}

/// A stand-in for claim retrieval's matcher: the share of a claim's words
/// the text contains.
struct WordMatcher(Vec<(String, Vec<String>)>);

impl WordMatcher {
    fn new(lib: &Library) -> Self {
        WordMatcher(
            lib.claims()
                .iter()
                .map(|c| {
                    let words = normalize_text(&c.text)
                        .split(' ')
                        .filter(|w| w.len() > 3)
                        .map(str::to_string)
                        .collect();
                    (c.id.clone(), words)
                })
                .collect(),
        )
    }
}

impl ClaimMatcher for WordMatcher {
    fn match_texts(
        &self,
        posts: &[(&str, Option<&str>)],
        k: usize,
    ) -> Result<Vec<Vec<(String, f64)>>, String> {
        Ok(posts
            .iter()
            .map(|(text, _)| {
                let t = format!(" {} ", normalize_text(text));
                let mut v: Vec<(String, f64)> = self
                    .0
                    .iter()
                    .map(|(id, words)| {
                        let hits = words
                            .iter()
                            .filter(|w| t.contains(&format!(" {w} ")))
                            .count();
                        (id.clone(), hits as f64 / words.len().max(1) as f64)
                    })
                    .filter(|(_, c)| *c > 0.0)
                    .collect();
                v.sort_by(|a, b| b.1.total_cmp(&a.1));
                v.truncate(k);
                v
            })
            .collect())
    }
}

struct Case {
    _dir: tempfile::TempDir,
    store: SqliteStore,
    lib: Library,
}

fn case(with_stored_matches: bool) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path().join("s.db")).unwrap();
    store.insert(&scenario()).unwrap();
    let libdir = dir.path().join("lib");
    let feed = dir.path().join("feed.json");
    std::fs::write(
        &feed,
        serde_json::json!({"@type": "DataFeed", "dataFeedElement": [
            {"@type": "DataFeedItem", "item": [{"@type": "ClaimReview",
                "claimReviewed": CLAIM_EN, "url": "https://check.example/en/rationing",
                "author": {"@type": "Organization", "name": "Check EN"}, "datePublished": "2025-03-05",
                "inLanguage": "en", "reviewRating": {"@type": "Rating", "alternateName": "False"},
                "reviewBody": "The European Commission has no power to ration household electricity. No such plan exists in any member state. https://ec.example/x"}]},
            {"@type": "DataFeedItem", "item": [{"@type": "ClaimReview",
                "claimReviewed": "Die EU rationiert Haushaltsstrom auf vier Stunden am Tag", "url": "https://check.example/de/strom",
                "author": "Prüfer DE", "datePublished": "2025-03-05", "inLanguage": "de",
                "reviewRating": {"alternateName": "Falsch"},
                "reviewBody": "Die EU-Kommission plant keine Rationierung von Haushaltsstrom. Es gibt keinen solchen Plan."}]},
            {"@type": "DataFeedItem", "item": [{"@type": "ClaimReview",
                "claimReviewed": "Bananas cure insomnia overnight", "url": "https://check.example/en/bananas",
                "author": "Check EN", "inLanguage": "en", "reviewRating": {"alternateName": "False"}}]}
        ]})
        .to_string(),
    )
    .unwrap();
    let s = library::import(
        &libdir,
        ImportFormat::ClaimReview,
        &[feed],
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(s.claims, 3);
    let lib = Library::open(&libdir).unwrap();
    if with_stored_matches {
        let en = lib
            .claims()
            .iter()
            .find(|c| c.text == CLAIM_EN)
            .unwrap()
            .id
            .clone();
        // A weak match below the threshold (on r1) is ignored.
        let bananas = lib
            .claims()
            .iter()
            .find(|c| c.text.starts_with("Bananas"))
            .unwrap()
            .id
            .clone();
        let rows: Vec<PostMatches> = (0..30)
            .map(|i| {
                let mut matches = vec![(en.clone(), 5.0, 0.9)];
                if i == 1 {
                    matches.push((bananas.clone(), -3.0, 0.1));
                }
                PostMatches {
                    platform: "twitter".into(),
                    post_id: format!("r{i}"),
                    matches,
                }
            })
            .collect();
        store.replace_matches(&rows).unwrap();
    }
    Case {
        _dir: dir,
        store,
        lib,
    }
}

fn narrative(c: &Case, platform: &str, id: &str) -> u64 {
    narrative_of_post(&c.store, platform, id, &mut |_| {})
        .unwrap()
        .expect("stored")
        .expect("has a narrative")
}

#[test]
fn narrative_pack_from_stored_matches() {
    let c = case(true);
    let n = narrative(&c, "twitter", "r5");
    assert_eq!(narrative(&c, "telegram", "chan/3"), n, "one narrative");
    let p = build_pack(
        &c.store,
        &c.lib,
        &Target::Narrative(n),
        &PackOptions::default(),
        Some(&WordMatcher::new(&c.lib)),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(
        p.match_source,
        MatchSource::Stored,
        "stored matches come first"
    );
    assert_eq!(p.claims.len(), 1, "the weak banana match stays out");
    assert_eq!(p.claims[0].claim.text, CLAIM_EN);
    assert_eq!(p.claims[0].matched_posts, 30);
    assert_eq!(p.verdicts.len(), 1);
    let v = &p.verdicts[0];
    assert_eq!(
        (
            v.publisher.as_deref(),
            v.rating.as_deref(),
            v.date.as_deref(),
            v.lang.as_deref()
        ),
        (
            Some("Check EN"),
            Some("False"),
            Some("2025-03-05"),
            Some("en")
        )
    );
    assert_eq!(v.url.as_deref(), Some("https://check.example/en/rationing"));

    // English audience: English draft, facts from the review, link dropped.
    assert_eq!(p.target.audience_lang.as_deref(), Some("en"));
    let d = &p.drafts[0];
    assert_eq!((d.lang.as_str(), d.note.as_deref()), ("en", None));
    assert!(d.text.contains(&format!("the claim that \"{CLAIM_EN}\"")));
    assert!(
        d.text
            .contains("Check EN checked it and rated it \"False\".")
    );
    assert!(
        d.text
            .contains("- No such plan exists in any member state.")
    );
    assert!(!d.text.contains("ec.example"));
    assert_eq!(p.key_facts.len(), 2);

    // Spread: platforms, the ring as a coordination network, channels.
    let s = &p.spread;
    assert_eq!(s.posts, 52);
    assert_eq!(
        s.platforms
            .iter()
            .map(|c| (c.key.as_str(), c.posts))
            .collect::<Vec<_>>(),
        vec![("twitter", 42), ("telegram", 10)]
    );
    assert_eq!(s.top_accounts[0].id, "chan");
    assert_eq!(s.hashtags[0].key, "powerrationing");
    assert_eq!(s.reshared[0].posts, 4);
    assert_eq!(s.networks.len(), 1, "{:?}", s.networks);
    assert_eq!(
        s.networks[0].accounts,
        vec![
            "twitter:ring1",
            "twitter:ring2",
            "twitter:ring3",
            "twitter:ring4"
        ]
    );
    assert_eq!(s.networks[0].posts, 12);

    let md = to_markdown(&p);
    for part in [
        &format!("# Response pack: narrative {n}"),
        "## Verdicts",
        "| Check EN | False | 2025-03-05 | en | https://check.example/en/rationing |",
        "## Correction draft (English)",
        "## Key facts",
        "## Where it spreads",
        "net-1: 4 accounts on twitter",
        "## Timing",
    ] {
        assert!(md.contains(part), "missing {part:?} in\n{md}");
    }
}

#[test]
fn post_pack_in_the_posts_language_with_a_note_when_fact_checks_are_in_another() {
    let mut c = case(false);
    // A German post repeating the claim, and a Polish one.
    let de = post(
        "twitter",
        "de1",
        "dx",
        T0 + 70 * H,
        "Die EU rationiert Haushaltsstrom auf vier Stunden am Tag, sagen sie",
        "de",
    );
    let pl = post(
        "twitter",
        "pl1",
        "px",
        T0 + 70 * H + 1,
        "UE będzie racjonować prąd w domach: The EU will ration household electricity to four hours a day from next month",
        "pl",
    );
    c.store.insert(&[de, pl]).unwrap();
    let pack = |id: &str| {
        build_pack(
            &c.store,
            &c.lib,
            &Target::Post {
                platform: None,
                id: id.into(),
            },
            &PackOptions::default(),
            Some(&WordMatcher::new(&c.lib)),
            &mut |_| {},
        )
        .unwrap()
    };
    let p = pack("de1");
    assert_eq!(p.match_source, MatchSource::OnTheFly);
    assert_eq!(p.target.post.as_deref(), Some("twitter:de1"));
    assert!(p.claims[0].matches_post);
    assert_eq!(p.claims[0].claim.lang.as_deref(), Some("de"));
    let d = &p.drafts[0];
    assert_eq!((d.lang.as_str(), d.note.as_deref()), ("de", None));
    assert!(
        d.text
            .contains("Prüfer DE hat sie geprüft und bewertet sie als „Falsch“."),
        "{}",
        d.text
    );

    let p = pack("twitter:pl1");
    let d = &p.drafts[0];
    // Polish has a template: the draft is in Polish and says that the
    // fact-check lines it quotes are in English.
    assert_eq!(d.lang, "pl");
    assert_eq!(d.audience_lang, "pl");
    assert!(
        d.note
            .as_deref()
            .unwrap()
            .contains("No fact-check in Polish"),
        "{d:?}"
    );
    assert!(to_markdown(&p).contains("## Correction draft (Polish)"));
}

#[test]
fn claim_retrievals_matcher_finds_the_claim_of_a_post_now() {
    let mut c = case(false);
    let de = post(
        "twitter",
        "de1",
        "dx",
        T0 + 70 * H,
        "Die EU rationiert Haushaltsstrom auf vier Stunden am Tag, sagen sie",
        "de",
    );
    c.store.insert(&[de]).unwrap();
    let matcher = LazyMatcher::new(&c.lib);
    let p = build_pack(
        &c.store,
        &c.lib,
        &Target::Post {
            platform: Some("twitter".into()),
            id: "de1".into(),
        },
        &PackOptions::default(),
        Some(&matcher),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(p.match_source, MatchSource::OnTheFly);
    assert!(p.claims[0].matches_post);
    assert!(p.claims[0].claim.text.starts_with("Die EU rationiert"));
    assert_eq!(p.drafts[0].lang, "de");
}

#[test]
fn unknown_targets_are_named() {
    let c = case(false);
    let e = build_pack(
        &c.store,
        &c.lib,
        &Target::Narrative(999_999),
        &PackOptions::default(),
        Some(&WordMatcher::new(&c.lib)),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(e, RespondError::NotFound(_)));
    assert!(e.to_string().contains("no narrative 999999"), "{e}");
    let e = build_pack(
        &c.store,
        &c.lib,
        &Target::Post {
            platform: None,
            id: "nope".into(),
        },
        &PackOptions::default(),
        Some(&WordMatcher::new(&c.lib)),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("no post \"nope\""), "{e}");
}

#[test]
fn a_narrative_without_known_claims_has_no_draft_and_says_so() {
    let c = case(false);
    let n = narrative(&c, "twitter", "o0");
    let p = build_pack(
        &c.store,
        &c.lib,
        &Target::Narrative(n),
        &PackOptions::default(),
        Some(&WordMatcher::new(&c.lib)),
        &mut |_| {},
    )
    .unwrap();
    assert!(p.claims.is_empty(), "{:?}", p.claims);
    assert!(p.drafts.is_empty());
    assert_eq!(p.match_source, MatchSource::None);
    assert!(
        p.notes
            .iter()
            .any(|x| x.contains("no claim in the library"))
    );
}

#[test]
fn timing_follows_the_narrative_as_of_until() {
    let c = case(true);
    let n = narrative(&c, "twitter", "r5");
    let at = |until: i64| {
        build_pack(
            &c.store,
            &c.lib,
            &Target::Narrative(n),
            &PackOptions {
                until: Some(EventTime(until)),
                ..PackOptions::default()
            },
            Some(&WordMatcher::new(&c.lib)),
            &mut |_| {},
        )
        .unwrap()
        .timing
    };
    // Three hours in: many posts, none before.
    let t = at(T0 + 63 * H);
    assert!(
        matches!(t.stage, Stage::Emerging | Stage::Growing),
        "{:?}: {}",
        t.stage,
        t.recommendation
    );
    assert!(t.last_6h >= 5);
    // Days later, quiet.
    let t = at(T0 + 200 * H);
    assert!(
        matches!(t.stage, Stage::Dormant | Stage::NoBurst),
        "{:?}",
        t.stage
    );
    assert_eq!(t.last_6h, 0);
}

#[test]
fn tracking_before_after_and_resurgence() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path().join("t.db")).unwrap();
    let text = |i: i64| format!("{CLAIM_EN}, they say, number {i} #powerrationing");
    let mut posts = Vec::new();
    // Before the response: 24 posts in 12 h by 12 accounts.
    let t = T0 + 48 * H;
    for i in 0..24 {
        posts.push(post(
            "twitter",
            &format!("b{i}"),
            &format!("a{}", i % 12),
            t - 12 * H + i * H / 2,
            &text(i),
            "en",
        ));
    }
    // After: 2 posts in the next 24 h (quiet), then 20 posts by new accounts in 6 h.
    posts.push(post("twitter", "q1", "a1", t + 3 * H, &text(100), "en"));
    posts.push(post("twitter", "q2", "a2", t + 20 * H, &text(101), "en"));
    for i in 0..20 {
        posts.push(post(
            "telegram",
            &format!("z{i}"),
            &format!("n{i}"),
            t + 30 * H + i * 15 * 60_000,
            &text(200 + i),
            "en",
        ));
    }
    store.insert(&posts).unwrap();
    let n = narrative_of_post(&store, "twitter", "b0", &mut |_| {})
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        narrative_of_post(&store, "telegram", "z19", &mut |_| {})
            .unwrap()
            .unwrap(),
        Some(n)
    );

    // No responses yet: an empty report.
    let r = tracking::report(&store, None, 24.0, &mut |_| {}).unwrap();
    assert!(r.narratives.is_empty());

    let logged = tracking::log(
        &mut store,
        NewResponse {
            narrative: n,
            who: "StratCom".into(),
            at: EventTime(t),
            channel: "twitter".into(),
            url: Some("https://x.example/status/1".into()),
            partner: Some("Check EN".into()),
            note: None,
        },
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(logged.anchor.as_deref(), Some("twitter:b0"));
    let e = tracking::log(
        &mut store,
        NewResponse {
            narrative: 424_242,
            who: "x".into(),
            channel: "y".into(),
            ..NewResponse::default()
        },
        &mut |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("no narrative 424242"));

    let r = tracking::report(&store, Some(n), 24.0, &mut |_| {}).unwrap();
    assert_eq!(r.narratives.len(), 1);
    let nr = &r.narratives[0];
    assert_eq!(nr.narrative, n);
    assert_eq!(nr.posts, 46);
    let rr = &nr.responses[0];
    assert_eq!(rr.response.who, "StratCom");
    assert_eq!(rr.response.partner.as_deref(), Some("Check EN"));
    assert_eq!(
        (rr.before.posts, rr.before.accounts, rr.before.new_accounts),
        (24, 12, 12)
    );
    assert_eq!(
        (rr.after.posts, rr.after.accounts, rr.after.new_accounts),
        (2, 2, 0)
    );
    assert!((rr.before.posts_per_hour - 1.0).abs() < 1e-9);
    assert_eq!(rr.trend, Trend::Declined);
    // Quiet block [t, t+6h) holds 1 post (≤ half of 6 expected); the block
    // [t+30h, t+36h) holds 20 ≥ 6: resurgence.
    let s = rr.resurgence.as_ref().expect("resurgence");
    assert_eq!(s.at, EventTime(t + 30 * H));
    assert_eq!(s.quiet_from, EventTime(t));
    assert_eq!(s.posts, 20);
    assert!(nr.resurging);
    assert_eq!(r.resurging, vec![n]);

    // A 48-hour window sees the new accounts on telegram after the response.
    let r = tracking::report(&store, Some(n), 48.0, &mut |_| {}).unwrap();
    let after = &r.narratives[0].responses[0].after;
    assert_eq!(after.new_accounts, 20);
    assert_eq!(after.platforms[0].key, "telegram");
    // 22 posts in the 48 h after against 24 in the 48 h before.
    assert_eq!(r.narratives[0].responses[0].trend, Trend::Flat);
}

#[test]
fn no_resurgence_when_it_stays_down() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path().join("t.db")).unwrap();
    let t = T0 + 48 * H;
    let mut posts = Vec::new();
    for i in 0..24 {
        posts.push(post(
            "twitter",
            &format!("b{i}"),
            &format!("a{i}"),
            t - 12 * H + i * H / 2,
            &format!("{CLAIM_EN} again {i}"),
            "en",
        ));
    }
    for i in 0..3 {
        posts.push(post(
            "twitter",
            &format!("c{i}"),
            "late",
            t + 40 * H + i * H,
            &format!("{CLAIM_EN} again {}", 50 + i),
            "en",
        ));
    }
    store.insert(&posts).unwrap();
    let n = narrative_of_post(&store, "twitter", "b0", &mut |_| {})
        .unwrap()
        .unwrap()
        .unwrap();
    tracking::log(
        &mut store,
        NewResponse {
            narrative: n,
            who: "Team".into(),
            at: EventTime(t),
            channel: "web".into(),
            ..NewResponse::default()
        },
        &mut |_| {},
    )
    .unwrap();
    let r = tracking::report(&store, None, 24.0, &mut |_| {}).unwrap();
    let rr = &r.narratives[0].responses[0];
    assert_eq!(rr.after.posts, 0);
    assert_eq!(
        rr.resurgence, None,
        "3 posts in a block stay under the 5-post floor"
    );
    assert!(r.resurging.is_empty());
}
