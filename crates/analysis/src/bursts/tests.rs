//! Unit tests of the burst detector (always run).

use super::*;
use crate::bursts::kleinberg::batch_states;

const MIN: i64 = 60_000;
const T0: i64 = 1_740_960_000_000; // 2025-03-03T00:00:00Z, a Monday

/// Small deterministic generator (SplitMix64) so tests need no rand crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Poisson sample (Knuth; fine for small means).
    fn poisson(&mut self, mean: f64) -> u32 {
        let l = (-mean).exp();
        let mut k = 0;
        let mut p = 1.0;
        loop {
            p *= self.unit();
            if p <= l {
                return k;
            }
            k += 1;
        }
    }
}

fn obs<'a>(
    key: &'a str,
    ms: i64,
    actor: &'a str,
    post: &'a str,
    flags: ActorFlags,
) -> Observation<'a> {
    Observation {
        kind: EntityKind::Hashtag,
        key: key.into(),
        time: EventTime(ms),
        actor,
        platform: "twitter",
        lang: Some("en"),
        flags,
        post,
    }
}

/// Feeds a per-minute count series for one entity; returns all events.
fn run_series(d: &mut BurstDetector, key: &str, counts: &[u32], rng: &mut Rng) -> Vec<AlertEvent> {
    let mut out = Vec::new();
    let actors: Vec<String> = (0..5000).map(|i| format!("a{i}")).collect();
    for (m, &n) in counts.iter().enumerate() {
        let mut times: Vec<i64> = (0..n)
            .map(|_| T0 + m as i64 * MIN + (rng.unit() * 59_999.0) as i64)
            .collect();
        times.sort_unstable();
        for t in times {
            let a = &actors[(rng.next() % actors.len() as u64) as usize];
            d.observe(&obs(key, t, a, "p", ActorFlags::NONE), &mut out);
        }
    }
    let end = T0 + counts.len() as i64 * MIN + 60 * MIN;
    d.advance(EventTime(end), &mut out);
    out
}

fn opened(ev: &[AlertEvent]) -> Vec<&Alert> {
    ev.iter()
        .filter_map(|e| match e {
            AlertEvent::Opened(a) => Some(a),
            _ => None,
        })
        .collect()
}

#[test]
fn kleinberg_batch_finds_planted_burst_and_its_start() {
    let mut rng = Rng(1);
    let mut counts: Vec<u32> = (0..200).map(|_| rng.poisson(2.0)).collect();
    for c in &mut counts[120..140] {
        *c += 20;
    }
    let states = batch_states(&KleinbergParams::default(), &counts, &vec![2.0; 200]);
    let first = states.iter().position(|&s| s > 0).expect("a burst");
    let last = states.iter().rposition(|&s| s > 0).unwrap();
    assert_eq!(first, 120, "{states:?}");
    assert_eq!(last, 139, "{states:?}");
}

#[test]
fn kleinberg_online_matches_start_bin() {
    let mut rng = Rng(2);
    let p = KleinbergParams::default();
    let mut a = Automaton::new();
    let mut start = None;
    for b in 0..200i64 {
        let n = rng.poisson(2.0) + if (120..140).contains(&b) { 20 } else { 0 };
        a.step(&p, 2.0, n, b);
        if start.is_none() && a.state() > 0 {
            start = a.run_start();
            assert_eq!(b, 120, "online state rose at the first burst bin");
        }
    }
    assert_eq!(start, Some(120));
}

#[test]
fn detector_finds_planted_burst_with_start_and_lead_time() {
    let mut rng = Rng(3);
    let mut counts: Vec<u32> = (0..24 * 60).map(|_| rng.poisson(0.5)).collect();
    for c in &mut counts[600..620] {
        *c += 10;
    }
    let mut d = BurstDetector::new(BurstConfig::default());
    let ev = run_series(&mut d, "flood", &counts, &mut rng);
    let op = opened(&ev);
    assert_eq!(op.len(), 1, "{op:#?}");
    let a = op[0];
    let start = (a.burst_start.millis() - T0) / MIN;
    assert!((598..=600).contains(&start), "burst start minute {start}");
    assert!(a.lead_time_s < 120.0, "lead {}", a.lead_time_s);
    let closed: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            AlertEvent::Closed(a) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(closed.len(), 1, "the alert closes");
    assert_eq!(closed[0].id, a.id);
    let end = (closed[0].closed_at.unwrap().millis() - T0) / MIN;
    assert!(
        (619..=626).contains(&end),
        "closed at minute {end}: {:?}",
        closed[0]
    );
    assert_eq!(d.stats().open_bursts, 0);
}

#[test]
fn flat_poisson_series_opens_no_alert() {
    for (seed, mean) in [(4, 0.2), (5, 1.0), (6, 3.0), (7, 10.0)] {
        let mut rng = Rng(seed);
        let counts: Vec<u32> = (0..3 * 24 * 60).map(|_| rng.poisson(mean)).collect();
        let mut d = BurstDetector::new(BurstConfig::default());
        let ev = run_series(&mut d, "steady", &counts, &mut rng);
        // A new entity arriving at a high rate is itself a burst (from
        // nothing to ten a minute): one alert at the onset is allowed,
        // none once the baseline has learnt the rate.
        let all = opened(&ev);
        assert!(all.len() <= 1, "mean {mean}: {all:#?}");
        assert!(
            all.iter().all(|a| a.opened_at.millis() < T0 + 60 * MIN),
            "mean {mean}: {all:#?}"
        );
    }
}

#[test]
fn seasonal_baseline_does_not_alert_at_the_daily_peak() {
    // A daily cycle from 0.5 to 12.5 posts a minute (25×), peaking at 14:00,
    // for 7 days. After the first two days (warm-up) nothing may alert.
    let mut rng = Rng(8);
    let counts: Vec<u32> = (0..7 * 24 * 60)
        .map(|m| {
            let h = (m % (24 * 60)) as f64 / 60.0;
            let x = ((h - 14.0) / 24.0 * std::f64::consts::TAU).cos();
            rng.poisson(0.5 + 12.0 * ((1.0 + x) / 2.0).powi(3))
        })
        .collect();
    let mut d = BurstDetector::new(BurstConfig::default());
    let ev = run_series(&mut d, "daily", &counts, &mut rng);
    let late: Vec<_> = opened(&ev)
        .into_iter()
        .filter(|a| a.opened_at.millis() >= T0 + 2 * 24 * 60 * MIN)
        .collect();
    assert!(late.is_empty(), "{late:#?}");
    // And a real burst on top of the cycle is still found.
    let mut counts2 = counts.clone();
    let at = 5 * 24 * 60 + 14 * 60;
    for c in &mut counts2[at..at + 10] {
        *c += 60;
    }
    let mut d = BurstDetector::new(BurstConfig::default());
    let ev = run_series(&mut d, "daily", &counts2, &mut rng);
    let found: Vec<_> = opened(&ev)
        .into_iter()
        .filter(|a| a.opened_at.millis() >= T0 + 2 * 24 * 60 * MIN)
        .collect();
    assert_eq!(found.len(), 1, "{found:#?}");
}

#[test]
fn severity_terms_are_explained_and_bounded() {
    let mut out = Vec::new();
    let mut d = BurstDetector::new(BurstConfig::default());
    let actors: Vec<String> = (0..40).map(|i| format!("u{i}")).collect();
    let posts: Vec<String> = (0..40).map(|i| format!("p{i}")).collect();
    for i in 0..40 {
        let f = if i % 2 == 0 {
            ActorFlags::SUSPICIOUS
        } else {
            ActorFlags::NONE
        };
        let mut o = obs("x", T0 + i as i64 * 1000, &actors[i], &posts[i], f);
        if i % 3 == 0 {
            o.platform = "telegram";
            o.lang = Some("de");
        }
        d.observe(&o, &mut out);
    }
    d.finish(&mut out);
    let last = out.last().unwrap().alert();
    assert!(last.closed_at.is_some());
    let t = last.severity_terms;
    for v in [t.trend, t.volume, t.suspicion, t.diversity, last.severity] {
        assert!((0.0..=1.0).contains(&v), "{t:?}");
    }
    assert!((last.flagged_actor_share - 0.5).abs() < 1e-9);
    assert_eq!(last.platforms, vec!["telegram", "twitter"]);
    assert_eq!(last.languages, vec!["de", "en"]);
    for word in [
        "Trend",
        "Volume",
        "Suspicion",
        "Diversity",
        "50 %",
        "2 platform",
    ] {
        assert!(
            last.explanation.contains(word),
            "{word}: {}",
            last.explanation
        );
    }
}

#[test]
fn expiry_and_cap_bound_memory() {
    let cfg = BurstConfig {
        max_entities: 1000,
        horizon_h: 2.0,
        ..Default::default()
    };
    let mut d = BurstDetector::new(cfg);
    let mut out = Vec::new();
    let keys: Vec<String> = (0..50_000).map(|i| format!("k{i}")).collect();
    for (i, k) in keys.iter().enumerate() {
        // one new entity every 2 s for ~28 hours
        d.observe(
            &obs(k, T0 + i as i64 * 2000, "a", "p", ActorFlags::NONE),
            &mut out,
        );
        assert!(d.stats().live_entities <= 1000);
    }
    let s = d.stats();
    assert!(s.evicted > 0);
    // Now a slow stream: few entities; the idle ones expire after the horizon.
    let t1 = T0 + 50_000 * 2000 + 10 * 3_600_000;
    for i in 0..100 {
        d.observe(
            &obs("slow", t1 + i * 60_000, "a", "p", ActorFlags::NONE),
            &mut out,
        );
    }
    let s = d.stats();
    assert!(s.expired > 0, "{s:?}");
    assert!(s.live_entities < 10, "{s:?}");
}

#[test]
fn alert_json_has_the_fixed_fields() {
    let mut out = Vec::new();
    let mut d = BurstDetector::new(BurstConfig::default());
    let actors: Vec<String> = (0..20).map(|i| format!("u{i}")).collect();
    for (i, a) in actors.iter().enumerate() {
        d.observe(
            &obs("x", T0 + i as i64 * 1000, a, "p", ActorFlags::NONE),
            &mut out,
        );
    }
    let open = out
        .iter()
        .find(|e| matches!(e, AlertEvent::Opened(_)))
        .unwrap();
    let v = serde_json::to_value(open.alert()).unwrap();
    for f in [
        "id",
        "entity_kind",
        "entity",
        "opened_at",
        "closed_at",
        "lead_time_s",
        "severity",
        "explanation",
    ] {
        assert!(v.get(f).is_some(), "missing {f}: {v}");
    }
    assert!(v["closed_at"].is_null());
    assert_eq!(v["entity_kind"], "hashtag");
    assert_eq!(v["opened_at"], "2025-03-03T00:00:07.000Z");
    d.finish(&mut out);
    let v = serde_json::to_value(out.last().unwrap().alert()).unwrap();
    assert!(v["closed_at"].as_str().unwrap().ends_with('Z'));
    let back: Alert = serde_json::from_value(v).unwrap();
    assert!(back.closed_at.is_some());
}

#[test]
fn post_observations_cover_hashtags_links_domains_reshares() {
    let mut p = pharos_core::Post {
        platform: "twitter".into(),
        id: "9".into(),
        hashtags: vec!["a".into()],
        reshare_of: Some("7".into()),
        ..Default::default()
    };
    p.add_link("https://Example.com/x?utm_source=y");
    p.refresh_domains();
    let mut v = Vec::new();
    post_observations(&p, ActorFlags::NONE, &mut v);
    let got: Vec<(EntityKind, String)> = v.iter().map(|o| (o.kind, o.key.to_string())).collect();
    assert_eq!(
        got,
        vec![
            (EntityKind::Hashtag, "a".to_string()),
            (EntityKind::Url, "https://example.com/x".to_string()),
            (EntityKind::Domain, "example.com".to_string()),
            (EntityKind::ReshareTarget, "twitter:7".to_string()),
        ]
    );
}
