//! Behaviour of the generated scenario: determinism, order, counts, the
//! canonical format, and that each planted campaign has the shape it claims.

use pharos_core::Post;
use pharos_sim::{CampaignTruth, SimConfig, Truth, simulate, write_scenario};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

const N: u64 = 20_000;

fn run(cfg: &SimConfig) -> (Vec<u8>, Truth) {
    let mut out = Vec::new();
    let truth = simulate(cfg, &mut out, &mut |_| {}).expect("simulate");
    (out, truth)
}

struct Scenario {
    bytes: Vec<u8>,
    posts: Vec<Post>,
    truth: Truth,
}

fn scenario() -> &'static Scenario {
    static S: OnceLock<Scenario> = OnceLock::new();
    S.get_or_init(|| {
        let (bytes, truth) = run(&SimConfig::new(N, 42));
        let posts = std::str::from_utf8(&bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Post>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        Scenario {
            bytes,
            posts,
            truth,
        }
    })
}

fn by_id() -> BTreeMap<&'static str, &'static Post> {
    scenario()
        .posts
        .iter()
        .map(|p| (p.id.as_str(), p))
        .collect()
}

fn campaign(kind: &str) -> &'static CampaignTruth {
    scenario()
        .truth
        .campaigns
        .iter()
        .find(|c| c.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} campaign"))
}

fn tokens(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    a.intersection(b).count() as f64 / a.union(b).count() as f64
}

#[test]
fn same_seed_same_bytes_other_seed_differs() {
    let s = scenario();
    let (again, truth) = run(&SimConfig::new(N, 42));
    assert!(again == s.bytes, "same seed must give identical output");
    assert_eq!(
        serde_json::to_string(&truth).unwrap(),
        serde_json::to_string(&s.truth).unwrap()
    );
    let (other, _) = run(&SimConfig::new(N, 43));
    assert!(other != s.bytes);
}

#[test]
fn exact_count_time_order_and_canonical_fields() {
    let s = scenario();
    assert_eq!(s.posts.len() as u64, N);
    assert_eq!(s.truth.posts, N);
    let sm = &s.truth.summary;
    assert_eq!(sm.organic_posts + sm.campaign_posts + sm.cover_posts, N);
    let start = s.truth.start;
    let end = s.truth.end;
    let mut ids = BTreeSet::new();
    for w in s.posts.windows(2) {
        assert!(
            w[0].time <= w[1].time,
            "out of order: {} then {}",
            w[0].time,
            w[1].time
        );
    }
    for p in &s.posts {
        assert!(matches!(
            p.platform.as_str(),
            "twitter" | "telegram" | "facebook"
        ));
        assert!(!p.id.is_empty() && !p.actor.id.is_empty());
        assert!(p.time >= start && p.time < end);
        assert!(p.lang.is_some());
        assert!(
            ids.insert((p.platform.clone(), p.id.clone())),
            "duplicate id {}",
            p.id
        );
        for l in &p.links {
            assert!(
                !l.raw.is_empty() && !l.url.is_empty() && !l.domain.is_empty(),
                "{l:?}"
            );
            assert_eq!(*l, pharos_core::Link::new(&l.raw));
        }
        for h in &p.hashtags {
            assert_eq!(*h, h.to_lowercase());
        }
        assert_eq!(p.hashtags, pharos_core::text::hashtags(&p.text));
        let a = &p.actor;
        assert!(a.handle.is_some() && a.name.is_some() && a.created.is_some());
        assert!(a.followers.is_some() && a.posts.is_some() && a.verified.is_some());
        assert!(a.created.unwrap() < p.time);
    }
    // utm parameters are sometimes present and normalised away.
    assert!(
        s.posts
            .iter()
            .flat_map(|p| &p.links)
            .any(|l| l.raw.contains("utm_") && !l.url.contains("utm_"))
    );
}

#[test]
fn languages_and_platforms() {
    let s = scenario();
    let langs: BTreeSet<_> = s.posts.iter().filter_map(|p| p.lang.clone()).collect();
    assert!(langs.len() >= 6, "{langs:?}");
    for code in ["en", "ru", "uk", "de", "fr", "pl"] {
        let n = s
            .posts
            .iter()
            .filter(|p| p.lang.as_deref() == Some(code))
            .count();
        assert!(n > (N as usize) / 50, "{code}: {n}");
    }
    let tw = s.posts.iter().filter(|p| p.platform == "twitter").count();
    let tg = s.posts.iter().filter(|p| p.platform == "telegram").count();
    let fb = s.posts.iter().filter(|p| p.platform == "facebook").count();
    assert!(tw > tg && tg > fb && fb > 0, "{tw} {tg} {fb}");
}

#[test]
fn replies_and_reshares_point_at_earlier_posts_on_the_same_platform() {
    let s = scenario();
    let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let (mut replies, mut reshares) = (0, 0);
    for (i, p) in s.posts.iter().enumerate() {
        for target in [&p.reply_to, &p.reshare_of].into_iter().flatten() {
            assert!(
                seen.contains_key(&(p.platform.as_str(), target.as_str())),
                "post {} points at unknown or later {target}",
                p.id
            );
        }
        replies += p.reply_to.is_some() as usize;
        reshares += p.reshare_of.is_some() as usize;
        seen.insert((p.platform.as_str(), p.id.as_str()), i);
    }
    assert!(
        replies > N as usize / 20 && reshares > N as usize / 10,
        "{replies} {reshares}"
    );
}

#[test]
fn activity_is_heavy_tailed() {
    let s = scenario();
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &s.posts {
        *per.entry(p.actor.id.as_str()).or_default() += 1;
    }
    let mut counts: Vec<usize> = per.values().copied().collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let top = counts.len().div_ceil(100);
    let top_share = counts[..top].iter().sum::<usize>() as f64 / N as f64;
    assert!(top_share > 0.15, "top 1% of accounts write {top_share:.2}");
    assert!(counts.iter().filter(|&&c| c == 1).count() > counts.len() / 4);
}

#[test]
fn organic_hours_and_weekdays_are_not_flat() {
    let s = scenario();
    let planted: BTreeSet<&str> = s
        .truth
        .campaigns
        .iter()
        .flat_map(|c| c.posts.iter().chain(&c.cover_posts))
        .map(String::as_str)
        .collect();
    let mut hours = [0usize; 24];
    let mut days = [0usize; 7];
    for p in s.posts.iter().filter(|p| !planted.contains(p.id.as_str())) {
        let dt = p.time.to_datetime();
        use chrono::{Datelike, Timelike};
        hours[dt.hour() as usize] += 1;
        days[dt.weekday().num_days_from_monday() as usize] += 1;
    }
    let max = *hours.iter().max().unwrap() as f64;
    let min = *hours.iter().min().unwrap() as f64;
    assert!(max > 3.0 * min, "hours {hours:?}");
    let weekday = days[..5].iter().sum::<usize>() as f64 / 5.0;
    let weekend = days[5..].iter().sum::<usize>() as f64 / 2.0;
    assert!(weekend < 0.92 * weekday, "days {days:?}");
}

#[test]
fn campaigns_have_the_posts_and_accounts_they_claim() {
    let s = scenario();
    let ids = by_id();
    assert_eq!(s.truth.campaigns.len(), 5);
    let kinds: BTreeSet<&str> = s.truth.campaigns.iter().map(|c| c.kind.as_str()).collect();
    assert_eq!(kinds.len(), 5);
    let langs: BTreeSet<&str> = s
        .truth
        .campaigns
        .iter()
        .map(|c| c.language.as_str())
        .collect();
    assert!(langs.len() >= 4);
    let span = s.truth.end.0 - s.truth.start.0;
    for c in &s.truth.campaigns {
        assert!(
            c.accounts.len() >= 3 && c.posts.len() >= 10,
            "{}: {} accounts, {} posts",
            c.id,
            c.accounts.len(),
            c.posts.len()
        );
        assert!(
            c.start.0 - s.truth.start.0 > span / 10,
            "{} starts too early",
            c.id
        );
        assert!(c.start <= c.end);
        let accounts: BTreeSet<&str> = c.accounts.iter().map(String::as_str).collect();
        assert_eq!(
            accounts.len(),
            c.accounts.len(),
            "{}: accounts repeat",
            c.id
        );
        let mut posting = BTreeSet::new();
        for id in c.posts.iter().chain(&c.cover_posts) {
            let p = ids
                .get(id.as_str())
                .unwrap_or_else(|| panic!("{}: post {id} missing", c.id));
            assert!(
                accounts.contains(p.actor.id.as_str()),
                "{}: post {id} by outsider",
                c.id
            );
            assert_eq!(p.lang.as_deref(), Some(c.language.as_str()));
            posting.insert(p.actor.id.as_str());
        }
        for id in &c.posts {
            let p = ids[id.as_str()];
            assert!(p.time >= c.start && p.time <= c.end);
            assert!(c.platforms.contains(&p.platform));
        }
        assert_eq!(
            posting.len(),
            accounts.len(),
            "{}: every account posts",
            c.id
        );
    }
    // Bot-like but not uniformly so: most campaign accounts are young, some are old.
    let young = |c: &CampaignTruth| {
        c.posts
            .iter()
            .map(|id| ids[id.as_str()])
            .filter(|p| p.time.0 - p.actor.created.unwrap().0 < 150 * 86_400_000)
            .count() as f64
            / c.posts.len() as f64
    };
    let flood = campaign("hashtag_flood");
    assert!((0.4..0.95).contains(&young(flood)), "{}", young(flood));
}

#[test]
fn reshare_ring_reshares_within_seconds() {
    let ids = by_id();
    let c = campaign("reshare_ring");
    let mut by_seed: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for id in &c.posts {
        let p = ids[id.as_str()];
        if let Some(seed) = &p.reshare_of {
            let seed_post = ids[seed.as_str()];
            assert!(c.posts.contains(seed), "ring reshares its own seeds");
            let lag = p.time.0 - seed_post.time.0;
            assert!((1_000..=60_000).contains(&lag), "lag {lag} ms");
            by_seed.entry(seed.as_str()).or_default().push(p.time.0);
        }
    }
    assert!(by_seed.len() >= 3);
    for times in by_seed.values() {
        assert!(times.len() >= 3);
        let spread = times.iter().max().unwrap() - times.iter().min().unwrap();
        assert!(
            spread <= 60_000,
            "reshares of one seed spread over {spread} ms"
        );
    }
}

#[test]
fn copy_paste_texts_are_near_identical_but_not_all_equal() {
    let ids = by_id();
    let c = campaign("copy_paste");
    let texts: Vec<&str> = c
        .posts
        .iter()
        .map(|id| ids[id.as_str()].text.as_str())
        .collect();
    assert!(texts.len() >= 10);
    let toks: Vec<BTreeSet<String>> = texts.iter().map(|t| tokens(t)).collect();
    for i in 0..toks.len() {
        for j in i + 1..toks.len() {
            let s = jaccard(&toks[i], &toks[j]);
            assert!(s >= 0.6, "jaccard {s:.2}:\n{}\n{}", texts[i], texts[j]);
        }
    }
    let distinct: BTreeSet<&str> = texts.iter().copied().collect();
    assert!(
        distinct.len() > texts.len() / 2,
        "{} distinct of {}",
        distinct.len(),
        texts.len()
    );
}

#[test]
fn link_network_spans_two_platforms_within_minutes() {
    let ids = by_id();
    let c = campaign("link_network");
    assert_eq!(c.platforms, vec!["twitter", "facebook"]);
    assert!(!c.urls.is_empty());
    for url in &c.urls {
        let mut times: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        for id in &c.posts {
            let p = ids[id.as_str()];
            if p.links.iter().any(|l| &l.url == url) {
                times.entry(p.platform.as_str()).or_default().push(p.time.0);
            }
        }
        assert!(
            times.contains_key("twitter") && times.contains_key("facebook"),
            "{url}: {times:?}"
        );
        let all: Vec<i64> = times.values().flatten().copied().collect();
        let spread = all.iter().max().unwrap() - all.iter().min().unwrap();
        assert!(spread <= 20 * 60_000, "{url} spread {spread} ms");
    }
}

#[test]
fn hashtag_flood_is_a_new_hashtag_in_a_burst() {
    let s = scenario();
    let ids = by_id();
    let c = campaign("hashtag_flood");
    let tag = &c.hashtags[0];
    let first = s.posts.iter().find(|p| p.hashtags.contains(tag)).unwrap();
    assert!(first.time >= c.start, "hashtag is new");
    let with_tag: Vec<_> = c
        .posts
        .iter()
        .map(|id| ids[id.as_str()])
        .filter(|p| p.hashtags.contains(tag))
        .collect();
    assert_eq!(with_tag.len(), c.posts.len());
    assert!(c.end.0 - c.start.0 <= 4 * 3_600_000);
}

#[test]
fn false_claim_is_in_the_factcheck_library() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.jsonl");
    let truth = write_scenario(&SimConfig::new(5_000, 9), &out, &mut |_| {}).unwrap();
    let truth_file: Truth =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("x.truth.json")).unwrap())
            .unwrap();
    assert_eq!(truth_file, truth);
    let feed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("x.factchecks.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(feed["@type"], "DataFeed");
    let reviews: Vec<&serde_json::Value> = feed["dataFeedElement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["item"].as_array().unwrap())
        .collect();
    assert!(
        reviews
            .iter()
            .all(|r| r["@type"] == "ClaimReview" && r["reviewRating"]["ratingValue"] == 1)
    );
    let langs: BTreeSet<&str> = reviews
        .iter()
        .map(|r| r["inLanguage"].as_str().unwrap())
        .collect();
    assert!(langs.len() >= 6);
    let c = truth
        .campaigns
        .iter()
        .find(|c| c.kind == "false_narrative")
        .unwrap();
    let claim = c.claim.as_deref().unwrap();
    let url = c.factcheck_url.as_deref().unwrap();
    assert!(
        reviews
            .iter()
            .any(|r| r["claimReviewed"] == claim && r["url"] == url)
    );
    assert!(reviews.len() > 10);
    // The narrative's posts carry the claim (some as paraphrases).
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains(claim));
}

#[test]
fn tiny_and_odd_configs() {
    for n in [0u64, 1, 7, 300] {
        let (bytes, truth) = run(&SimConfig::new(n, 1));
        assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count() as u64, n);
        assert_eq!(truth.posts, n);
    }
    let mut cfg = SimConfig::new(3_000, 5);
    cfg.days = Some(0.5);
    let (bytes, truth) = run(&cfg);
    assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 3_000);
    assert!(!truth.campaigns.is_empty());
    cfg.days = Some(-1.0);
    assert!(simulate(&cfg, &mut Vec::new(), &mut |_| {}).is_err());
    let mut cfg = SimConfig::new(1_000, 5);
    cfg.campaigns[0].lang = "xx".into();
    assert!(simulate(&cfg, &mut Vec::new(), &mut |_| {}).is_err());
}

#[test]
fn channels_sign_their_posts_and_one_network_shares_a_footer() {
    let s = scenario();
    let net = &s.truth.template_networks[0];
    assert_eq!(net.accounts.len(), 6);
    assert_eq!(
        (net.platform.as_str(), net.language.as_str()),
        ("telegram", "ru")
    );
    let original = |p: &Post| p.reshare_of.is_none() && p.reply_to.is_none();
    let mut network_posts = 0;
    for p in s
        .posts
        .iter()
        .filter(|p| net.accounts.contains(&p.actor.id))
    {
        assert_eq!(p.platform, "telegram");
        if original(p) {
            assert!(p.text.ends_with(&net.footer), "{}", p.text);
            network_posts += 1;
        }
    }
    assert!(network_posts >= 20, "{network_posts}");
    // The truth lists exactly those signed posts.
    let listed: BTreeSet<&str> = net.posts.iter().map(String::as_str).collect();
    let signed_ids: BTreeSet<&str> = s
        .posts
        .iter()
        .filter(|p| net.accounts.contains(&p.actor.id) && original(p))
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(listed, signed_ids);
    // Other channels sign with their own name: the same line under each of
    // their originals, different from channel to channel.
    let mut by_actor: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for p in s
        .posts
        .iter()
        .filter(|p| p.platform == "telegram" && original(p) && !net.accounts.contains(&p.actor.id))
    {
        let last = p.text.rsplit('\n').next().unwrap();
        by_actor.entry(&p.actor.id).or_default().insert(last);
    }
    let signed: Vec<&BTreeSet<&str>> = by_actor
        .values()
        .filter(|lines| {
            lines.len() == 1
                && lines.iter().any(|l| {
                    l.contains("Подписаться на")
                        || l.contains("Subscribe to")
                        || l.contains("Підписатися на")
                })
        })
        .collect();
    assert!(signed.len() >= 20, "{} signed channels", signed.len());
    let distinct: BTreeSet<&str> = signed.iter().flat_map(|l| l.iter().copied()).collect();
    assert_eq!(
        distinct.len(),
        signed.len(),
        "each channel signs with its own line"
    );
    // Retweets carry the platform's template; some link tweets credit a source.
    assert!(s.posts.iter().any(|p| p.text.starts_with("RT @")));
    assert!(
        s.posts
            .iter()
            .any(|p| p.platform == "twitter" && p.text.contains(" via @"))
    );
}

/// The truth's `claim_posts`: every post that repeats a claim of the
/// library, with that claim's reviews: the false-narrative campaign's
/// posts, the recycled organic claims (their text holds the claim), and
/// every reshare of either; no other post carries a claim's text. A truth
/// file without the field (written before it) still reads.
#[test]
fn claim_posts_label_every_post_that_repeats_a_claim() {
    let s = scenario();
    let t = &s.truth;
    let urls: BTreeMap<&str, &str> = t
        .factchecks
        .iter()
        .map(|f| (f.url.as_str(), f.claim.as_str()))
        .collect();
    let labelled: BTreeMap<&str, &Vec<String>> = t
        .claim_posts
        .iter()
        .map(|p| (p.post.as_str(), &p.factchecks))
        .collect();
    assert_eq!(labelled.len(), t.claim_posts.len(), "a post labelled twice");
    assert!(
        t.claim_posts.iter().all(|p| !p.factchecks.is_empty()
            && p.factchecks.iter().all(|u| urls.contains_key(u.as_str())))
    );
    let c = campaign("false_narrative");
    let planted: BTreeSet<&str> = t
        .factchecks
        .iter()
        .filter(|f| f.campaign.as_deref() == Some(c.id.as_str()))
        .map(|f| f.url.as_str())
        .collect();
    assert_eq!(planted.len(), 2);
    for id in &c.posts {
        let f = labelled.get(id.as_str()).unwrap_or_else(|| panic!("{id}"));
        assert_eq!(
            f.iter().map(|u| u.as_str()).collect::<BTreeSet<_>>(),
            planted
        );
    }
    assert!(
        c.cover_posts
            .iter()
            .all(|id| !labelled.contains_key(id.as_str()))
    );
    let posts = by_id();
    // The older claims: each labelled original holds its claim's text.
    let organic: Vec<&Post> = t
        .claim_posts
        .iter()
        .map(|p| posts[p.post.as_str()])
        .filter(|p| p.reshare_of.is_none() && !c.posts.contains(&p.id))
        .collect();
    assert_eq!(organic.len() as u64, t.summary.recycled_claim_posts);
    for p in &organic {
        let claim = urls[labelled[p.id.as_str()][0].as_str()];
        assert!(p.text.contains(claim), "{}: {}", p.id, p.text);
    }
    // Reshares share their original's label; no other post holds a
    // claim's text.
    let mut reshares = 0;
    for p in &s.posts {
        match (&p.reshare_of, labelled.get(p.id.as_str())) {
            (Some(o), Some(f)) => {
                assert_eq!(labelled.get(o.as_str()), Some(f), "{}", p.id);
                reshares += 1;
            }
            (Some(o), None) => assert!(!labelled.contains_key(o.as_str()), "{}", p.id),
            (None, Some(_)) => {}
            (None, None) => assert!(
                t.factchecks
                    .iter()
                    .filter(|f| f.campaign.is_none())
                    .all(|f| !p.text.contains(&f.claim)),
                "{}: {}",
                p.id,
                p.text
            ),
        }
    }
    assert!(reshares > 0);
    let mut old: serde_json::Value = serde_json::to_value(t).unwrap();
    old.as_object_mut().unwrap().remove("claim_posts");
    let back: Truth = serde_json::from_value(old).unwrap();
    assert!(back.claim_posts.is_empty());
}
