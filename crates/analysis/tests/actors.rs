//! Behaviour of actor signals and the inauthenticity score (always run).

use pharos_analysis::actors::eval::SplitMix64;
use pharos_analysis::actors::{
    ActorTracker, ProfileFeatures, ProfileModel, StreamModel, Synchrony, TrackerConfig, roc_auc,
};
use pharos_core::{Actor, EventTime, Post};

const T0: i64 = 1_600_000_000_000;

fn post(actor: &str, ms: i64, text: &str) -> Post {
    Post {
        platform: "twitter".into(),
        id: format!("{actor}-{ms}"),
        actor: Actor {
            id: actor.into(),
            ..Default::default()
        },
        time: EventTime(ms),
        text: text.into(),
        ..Default::default()
    }
}

/// Exponential gap with the given mean (ms).
fn exp_gap(rng: &mut SplitMix64, mean_ms: f64) -> i64 {
    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    (-(1.0 - u).ln() * mean_ms).max(1.0) as i64
}

fn feed(tracker: &mut ActorTracker, actor: &str, times: &[i64]) {
    for (i, &t) in times.iter().enumerate() {
        tracker.observe(&post(actor, t, &format!("{actor} says {i}")));
    }
}

fn metronome(n: usize, period_ms: i64, jitter_ms: i64, rng: &mut SplitMix64) -> Vec<i64> {
    (0..n as i64)
        .map(|i| T0 + i * period_ms + (rng.below(2 * jitter_ms as usize + 1) as i64 - jitter_ms))
        .collect()
}

fn poisson(n: usize, mean_ms: f64, rng: &mut SplitMix64) -> Vec<i64> {
    let mut t = T0;
    (0..n)
        .map(|_| {
            t += exp_gap(rng, mean_ms);
            t
        })
        .collect()
}

/// Bursts of 10 posts a few seconds apart, separated by hours.
fn bursty(n: usize, rng: &mut SplitMix64) -> Vec<i64> {
    let mut t = T0;
    (0..n)
        .map(|i| {
            t += if i % 10 == 0 {
                exp_gap(rng, 6.0 * 3_600_000.0)
            } else {
                exp_gap(rng, 5_000.0)
            };
            t
        })
        .collect()
}

#[test]
fn actors_metronome_is_more_regular_than_poisson() {
    let mut rng = SplitMix64(1);
    let mut tr = ActorTracker::default();
    feed(
        &mut tr,
        "metronome",
        &metronome(300, 600_000, 2_000, &mut rng),
    );
    feed(&mut tr, "poisson", &poisson(300, 600_000.0, &mut rng));
    let m = tr.signals("metronome").unwrap();
    let p = tr.signals("poisson").unwrap();
    assert!(
        m.regularity.unwrap() > p.regularity.unwrap() + 0.3,
        "metronome {:?} poisson {:?}",
        m.regularity,
        p.regularity
    );
    assert!(m.regularity.unwrap() > 0.8);
    assert!(m.gap_cv.unwrap() < 0.05);
    assert!((p.gap_cv.unwrap() - 1.0).abs() < 0.2, "{:?}", p.gap_cv);
    // Rate: one post every 10 minutes is 144 a day.
    assert!((m.rate_per_day.unwrap() - 144.0).abs() < 1.0);
}

#[test]
fn actors_burstiness_sign() {
    let mut rng = SplitMix64(2);
    let mut tr = ActorTracker::default();
    feed(&mut tr, "bursty", &bursty(400, &mut rng));
    feed(&mut tr, "regular", &metronome(400, 300_000, 0, &mut rng));
    feed(&mut tr, "poisson", &poisson(2000, 300_000.0, &mut rng));
    let b = tr.signals("bursty").unwrap().burstiness.unwrap();
    let r = tr.signals("regular").unwrap().burstiness.unwrap();
    let p = tr.signals("poisson").unwrap().burstiness.unwrap();
    assert!(b > 0.0 && 0.0 > r, "bursty {b} regular {r}");
    assert!((r + 1.0).abs() < 1e-9, "a metronome has B = -1, got {r}");
    assert!(p.abs() < 0.1, "poisson B near 0, got {p}");
}

#[test]
fn actors_hour_profile_and_night_share() {
    let mut tr = ActorTracker::default();
    // Round the clock: one post an hour for 10 days.
    feed(
        &mut tr,
        "clock",
        &(0..240).map(|i| T0 + i * 3_600_000).collect::<Vec<_>>(),
    );
    // Office hours: 9:00-17:00 UTC.
    let day0 = T0 - T0.rem_euclid(86_400_000);
    let office: Vec<i64> = (0..10)
        .flat_map(|d| (9..17).map(move |h| day0 + d * 86_400_000 + h * 3_600_000))
        .collect();
    feed(&mut tr, "office", &office);
    let c = tr.signals("clock").unwrap();
    let o = tr.signals("office").unwrap();
    assert!((c.hour_entropy.unwrap() - 1.0).abs() < 1e-9);
    assert!(o.hour_entropy.unwrap() < 0.7);
    assert!((c.night_share.unwrap() - 0.25).abs() < 1e-9);
    assert_eq!(o.night_share, Some(0.0));
}

#[test]
fn actors_profile_reshares_and_synchrony() {
    let mut tr = ActorTracker::default();
    for i in 0..20 {
        let mut p = post("rt", T0 + i * 60_000, "RT something");
        p.actor.created = Some(EventTime(T0 - 10 * 86_400_000));
        p.actor.followers = Some(3);
        p.actor.following = Some(2000);
        p.actor.posts = Some(5000);
        if i % 4 != 0 {
            p.reshare_of = Some(format!("orig{i}"));
        }
        tr.observe(&p);
    }
    tr.set_synchrony(
        "rt",
        Synchrony {
            partners: 12,
            coordinated_share: 0.6,
        },
    );
    let s = tr.signals("rt").unwrap();
    assert_eq!(s.reshare_share, 0.75);
    assert!((s.account_age_days.unwrap() - 10.0).abs() < 1e-9);
    assert!(s.follower_ratio.unwrap() < 0.01);
    assert_eq!(s.synchrony.unwrap().partners, 12);
    let score = StreamModel::default_model().score(&s);
    assert!(score.score > 0.9, "{}", score.summary(5));
}

#[test]
fn actors_contributions_sum_to_logit() {
    let mut rng = SplitMix64(3);
    let mut tr = ActorTracker::default();
    feed(&mut tr, "m", &metronome(100, 60_000, 500, &mut rng));
    feed(&mut tr, "p", &poisson(100, 3_600_000.0, &mut rng));
    let model = StreamModel::default_model();
    for s in tr.all_signals() {
        let sc = model.score(&s);
        let sum: f64 = sc.intercept + sc.contributions.iter().map(|c| c.contribution).sum::<f64>();
        assert!((sum - sc.logit).abs() < 1e-12);
        assert!((sc.score - 1.0 / (1.0 + (-sc.logit).exp())).abs() < 1e-12);
        assert!((0.0..=1.0).contains(&sc.score));
        assert!((model.logit(&s) - sc.logit).abs() < 1e-12);
        for c in &sc.contributions {
            // One plain sentence each.
            assert!(c.explanation.ends_with('.'), "{}", c.explanation);
            assert_eq!(c.explanation.matches(". ").count(), 0, "{}", c.explanation);
            assert!(
                c.explanation.chars().next().unwrap().is_uppercase(),
                "{}",
                c.explanation
            );
        }
    }
    let m = model.score(&tr.signals("m").unwrap());
    let p = model.score(&tr.signals("p").unwrap());
    assert!(
        m.score > p.score,
        "metronome {} vs poisson {}",
        m.summary(3),
        p.summary(3)
    );

    let prof = ProfileFeatures {
        account_age_days: Some(20.0),
        statuses_per_day: Some(300.0),
        default_profile_image: Some(true),
        ..Default::default()
    };
    let ps = ProfileModel::default_model().score(&prof);
    let sum: f64 = ps.intercept + ps.contributions.iter().map(|c| c.contribution).sum::<f64>();
    assert!((sum - ps.logit).abs() < 1e-12);
    let unknown = ps
        .contributions
        .iter()
        .find(|c| c.term == "verified")
        .unwrap();
    assert_eq!(unknown.contribution, 0.0);
    assert!(unknown.explanation.contains("unknown"));
    let top = ps.ranked()[0];
    assert!(
        top.contribution > 0.0 && top.explanation.contains("raises"),
        "{}",
        top.explanation
    );
}

#[test]
fn actors_expiry_bounds_memory() {
    let cfg = TrackerConfig {
        horizon_ms: 3_600_000,
        ..Default::default()
    };
    let mut tr = ActorTracker::new(cfg);
    // 200k distinct accounts over 100 hours, 2,000 new each hour: live
    // accounts stay near one horizon's worth plus a sweep interval.
    let mut max_live = 0;
    for i in 0..200_000i64 {
        tr.observe(&post(&format!("acct{i}"), T0 + i * 1_800, "hello"));
        max_live = max_live.max(tr.len());
    }
    assert!(max_live <= 2_000 + 4_096 + 1, "max live {max_live}");
    assert!(tr.expired() > 190_000);

    let cfg = TrackerConfig {
        max_accounts: 1_000,
        ..Default::default()
    };
    let mut tr = ActorTracker::new(cfg);
    for i in 0..50_000i64 {
        tr.observe(&post(&format!("a{i}"), T0 + i, "x"));
        assert!(tr.len() <= 1_000);
    }
    assert!(tr.evicted() > 0);
    // The most recent accounts survive.
    assert!(tr.signals("a49999").is_some());
    assert!(tr.signals("a0").is_none());
}

#[test]
fn actors_auc_perfect_inverted_tied() {
    let labels = [false, false, true, true];
    assert_eq!(roc_auc(&[0.1, 0.2, 0.8, 0.9], &labels), Some(1.0));
    assert_eq!(roc_auc(&[0.9, 0.8, 0.2, 0.1], &labels), Some(0.0));
    assert_eq!(roc_auc(&[0.5, 0.5, 0.5, 0.5], &labels), Some(0.5));
    // One tie across classes counts one half: pairs (n,p): 4, wins 3 + 0.5.
    assert_eq!(roc_auc(&[0.1, 0.5, 0.5, 0.9], &labels), Some(3.5 / 4.0));
    assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
    assert_eq!(roc_auc(&[f64::NAN, 0.2], &[true, false]), None);
    // Brute force on random scores with many ties.
    let mut rng = SplitMix64(9);
    let s: Vec<f64> = (0..300).map(|_| rng.below(20) as f64).collect();
    let y: Vec<bool> = (0..300).map(|_| rng.below(3) == 0).collect();
    let (mut wins, mut pairs) = (0.0, 0.0);
    for i in 0..300 {
        for j in 0..300 {
            if y[i] && !y[j] {
                pairs += 1.0;
                wins += if s[i] > s[j] {
                    1.0
                } else if s[i] == s[j] {
                    0.5
                } else {
                    0.0
                };
            }
        }
    }
    assert!((roc_auc(&s, &y).unwrap() - wins / pairs).abs() < 1e-12);
}
