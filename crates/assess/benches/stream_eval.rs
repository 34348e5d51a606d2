//! Early-warning evaluation of the real stream pipeline (`AlertPipeline`,
//! as `pharos assess` runs it) on simulated scenarios with ground truth.
//!
//! ```text
//! cargo bench -p pharos-assess --bench stream_eval -- [--seeds 1,2,3,4,5] [--posts 300000] [--days 7]
//!     [--claims off|known|published] [--no-coordination] [--suspicious-score S] [--min-repeats N]
//!     [--coord-window S] [--coord-families] [--young-days N] [--sweep 0.45,0.5,0.6] [-v]
//! cargo bench -p pharos-assess --bench stream_eval -- --claims library [--claim-min 0.5,0.6,0.7]
//!     [--seeds ...] [--posts ...] [--days ...]
//! ```
//!
//! `--sweep`: one run, scored as if the rule's minimum severity were each
//! of the values (each alert raised at its first update reaching it, no
//! cooldown); the main tables are then for 0.5 (the default) without cooldown.
//!
//! ```text
//! ```
//!
//! For each seed: simulate in memory, push every post through the
//! pipeline with the default alert rule (min severity 0.45), keep the
//! notifications with status `raised`, and score them against the planted
//! campaigns:
//!
//! - a campaign is **detected** by a raised alert, raised between its start
//!   and its end, whose entity belongs to it (one of its hashtags, URLs,
//!   the domains of its URLs, one of its posts being reshared, its
//!   fact-checked claim, or an entity whose evidence posts are mostly its
//!   posts); **delay** = event time of the raise − the campaign's first post;
//! - a **false alarm** is any other raised alert whose evidence posts are
//!   mostly organic (cover posts count as organic); alerts on organic
//!   repetitions of the library's old debunked claims are counted apart
//!   (`organic claim alerts`), since they are true matches.
//!
//! `--claims known`: a claim signal matching each post against the whole
//! fact-check library the simulator writes (normalised claim text
//! contained in the post: confidence 0.9; a link to an appearance the
//! review lists: 1.0). `--claims published`: the same, but a review is only
//! known from its publication time (the planted claim's review comes eight
//! hours into the campaign).
//!
//! `--claims library`: the real matcher instead. The simulator's fact-check
//! feed is imported as `pharos claims import --format claimreview` would
//! (into a temporary library), and every post is matched by
//! `pharos_assess::stream::LibraryClaims` (BM25 and the lexical fusion, as
//! `pharos assess --library` runs it in a default build: the 3 best claims
//! a post). The matches are computed once per seed; then, for each
//! `--claim-min` value, the pipeline runs with only the matches at or above
//! it (`LibraryClaims::min_confidence`; values under the claim watch's own
//! minimum, 0.5, change nothing). Reported per seed and minimum: when the
//! planted false narrative's claim alert was raised (minutes after the
//! campaign's first post; negative = before it, raised by organic posts on
//! the topic), the claim alerts on organic repeats of the library's old
//! debunked claims (true matches) and the claim alerts with mostly organic
//! evidence on a claim nobody repeated (false claim alerts).

use ahash::{AHashMap, AHashSet};
use pharos_alerts::{DeliveryError, Notification, Outcome, Rules, Sink, Status};
use pharos_analysis::bursts::{Alert, EntityKind};
use pharos_assess::stream::{AlertPipeline, ClaimHit, ClaimSignal, LibraryClaims, StreamConfig};
use pharos_core::{Link, Post};
use pharos_sim::{SimConfig, Truth};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Raised(Arc<Mutex<Vec<Notification>>>, bool);

impl Sink for Raised {
    fn deliver(&mut self, n: &Notification) -> Result<Outcome, DeliveryError> {
        if n.status == Status::Raised || (self.1 && n.status == Status::Updated) {
            self.0.lock().unwrap().push(n.clone());
        }
        Ok(Outcome::Delivered)
    }
}

/// Sweep mode: the alerts a rule of minimum severity `t` would raise (no
/// cooldown): each alert's first notification at or above `t`.
fn at_threshold(all: &[Notification], t: f64) -> Vec<Notification> {
    let mut seen = AHashSet::new();
    all.iter()
        .filter(|n| n.alert.severity >= t && seen.insert(n.alert.id.clone()))
        .cloned()
        .collect()
}

fn normalise(s: &str) -> String {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// See the module docs (`--claims`).
struct TextMatcher {
    /// (review url, normalised claim, rating, appearance URLs, published ms)
    claims: Vec<(String, String, String, Vec<String>, i64)>,
    respect_published: bool,
}

impl ClaimSignal for TextMatcher {
    fn claims(&mut self, post: &Post) -> Vec<ClaimHit> {
        let text = normalise(&post.text);
        let mut out = Vec::new();
        for (id, claim, verdict, appearances, published) in &self.claims {
            if self.respect_published && *published > post.time.millis() {
                continue;
            }
            let linked = post.links.iter().any(|l| appearances.contains(&l.url));
            let confidence = if linked {
                1.0
            } else if text.contains(claim.as_str()) {
                0.9
            } else {
                continue;
            };
            out.push(ClaimHit {
                claim_id: id.clone(),
                confidence,
                verdict: verdict.clone(),
            });
        }
        out
    }
}

struct Outcome1 {
    kind: String,
    id: String,
    delay_min: Option<f64>,
    entity: String,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seeds: Vec<u64> = get("--seeds")
        .unwrap_or("1,2,3,4,5".into())
        .split(',')
        .map(|s| s.trim().parse().expect("--seeds 1,2,3"))
        .collect();
    let posts_n: u64 = get("--posts").map_or(300_000, |v| v.parse().expect("--posts N"));
    let days: f64 = get("--days").map_or(7.0, |v| v.parse().expect("--days D"));
    let claims = get("--claims").unwrap_or("off".into());
    let coordination = !args.iter().any(|a| a == "--no-coordination");
    let verbose = args.iter().any(|a| a == "-v");
    let suspicious: Option<f64> =
        get("--suspicious-score").map(|v| v.parse().expect("--suspicious-score S"));
    let repeats: Option<u32> = get("--min-repeats").map(|v| v.parse().expect("--min-repeats N"));
    let window: Option<i64> = get("--coord-window").map(|v| v.parse().expect("--coord-window S"));
    let families = args.iter().any(|a| a == "--coord-families");
    let young: Option<i64> = get("--young-days").map(|v| v.parse().expect("--young-days N"));
    let sweep: Vec<f64> = get("--sweep")
        .map(|v| {
            v.split(',')
                .map(|x| x.parse().expect("--sweep 0.45,0.5"))
                .collect()
        })
        .unwrap_or_default();
    let mut sweep_rows: Vec<(f64, u64, usize, usize, usize, f64)> = Vec::new();
    if claims == "library" {
        let mins: Vec<f64> = get("--claim-min")
            .unwrap_or("0.5".into())
            .split(',')
            .map(|x| x.trim().parse().expect("--claim-min 0.5,0.6"))
            .collect();
        library_eval(&seeds, posts_n, days, &mins, verbose);
        return;
    }
    println!(
        "stream evaluation: {posts_n} posts over {days} days per seed, seeds {seeds:?}, claims {claims}, coordination {}",
        if coordination { "on" } else { "off" }
    );
    println!();
    println!("| seed | campaign | kind | alerted ≤ 15 min | delay (min) | first matching entity |");
    println!("|---|---|---|---|---|---|");
    let mut per_kind: BTreeMap<String, (usize, usize, Vec<f64>)> = BTreeMap::new();
    let mut rows = Vec::new();
    for &seed in &seeds {
        let t = std::time::Instant::now();
        let (truth, posts) = scenario(posts_n, days, seed);
        let mut scfg = StreamConfig::default();
        if !coordination {
            scfg.coordination = None;
        }
        if let Some(s) = suspicious {
            scfg.suspicious_score = (s <= 1.0).then_some(s);
        }
        if let Some(d) = young {
            scfg.young_account_days = (d > 0).then_some(d);
        }
        if let Some(c) = scfg.coordination.as_mut() {
            if let Some(r) = repeats {
                c.min_repeats = r;
            }
            if let Some(w) = window {
                c.time_window_s = w;
            }
            if families {
                c.families = true;
            }
        }
        let raised = Raised(Default::default(), !sweep.is_empty());
        let rules = if sweep.is_empty() {
            Rules::default()
        } else {
            let mut r = Rules::default();
            r.rule[0].min_severity = 0.0;
            r.rule[0].cooldown_s = 0;
            r.rule[0].notify_updates = true;
            r
        };
        let mut pipe = AlertPipeline::with_config(scfg, rules, false);
        pipe.add_sink(Box::new(raised.clone()));
        if claims != "off" {
            pipe.set_claim_signal(Box::new(TextMatcher {
                claims: truth
                    .factchecks
                    .iter()
                    .map(|f| {
                        (
                            f.url.clone(),
                            normalise(&f.claim),
                            f.rating.clone(),
                            f.appearances.iter().map(|a| Link::new(a).url).collect(),
                            f.published.millis(),
                        )
                    })
                    .collect(),
                respect_published: claims == "published",
            }));
        }
        for batch in posts.chunks(16_384) {
            pipe.push_batch(batch).expect("no failing sink");
        }
        pipe.finish().expect("no failing sink");
        let mut alerts = std::mem::take(&mut *raised.0.lock().unwrap());
        for &t in &sweep {
            let at = at_threshold(&alerts, t);
            let (outs, fa, oc) = score(&truth, &at, false, seed);
            let ok = outs
                .iter()
                .filter(|c| c.kind != "false_narrative" && c.delay_min.is_some_and(|d| d <= 15.0))
                .count();
            let bursting = outs.iter().filter(|c| c.kind != "false_narrative").count();
            let cp = outs
                .iter()
                .filter(|c| c.kind == "copy_paste")
                .filter_map(|c| c.delay_min)
                .fold(f64::NAN, f64::max);
            sweep_rows.push((t, seed, ok * 1000 + bursting, fa, oc, cp));
        }
        if !sweep.is_empty() {
            alerts = at_threshold(&alerts, 0.5);
        }
        let (outcomes, fa, organic_claims) = score(&truth, &alerts, verbose, seed);
        for c in &outcomes {
            let ok = c.delay_min.is_some_and(|d| d <= 15.0);
            let e = per_kind.entry(c.kind.clone()).or_default();
            e.0 += 1;
            e.1 += ok as usize;
            if let Some(d) = c.delay_min {
                e.2.push(d);
            }
            println!(
                "| {seed} | {} | {} | {} | {} | {} |",
                c.id,
                c.kind,
                if ok { "yes" } else { "no" },
                c.delay_min.map_or("–".into(), |d| format!("{d:.1}")),
                c.entity
            );
        }
        rows.push((
            seed,
            alerts.len(),
            fa,
            organic_claims,
            truth.days,
            t.elapsed().as_secs_f64(),
        ));
    }
    println!();
    println!(
        "| seed | raised alerts | false alarms | organic claim alerts | days | false alarms / day | seconds |"
    );
    println!("|---|---|---|---|---|---|---|");
    let (mut fa_all, mut days_all) = (0, 0.0);
    for (seed, raised, fa, oc, d, s) in &rows {
        fa_all += fa;
        days_all += d;
        println!(
            "| {seed} | {raised} | {fa} | {oc} | {d} | {:.2} | {s:.0} |",
            *fa as f64 / d
        );
    }
    println!();
    println!("| kind | campaigns | alerted ≤ 15 min | median delay (min) | max delay (min) |");
    println!("|---|---|---|---|---|");
    for (k, (n, ok, mut ds)) in per_kind {
        ds.sort_by(|a, b| a.total_cmp(b));
        let med = ds.get(ds.len() / 2).copied().unwrap_or(f64::NAN);
        let max = ds.last().copied().unwrap_or(f64::NAN);
        println!("| {k} | {n} | {ok} | {med:.1} | {max:.1} |");
    }
    println!();
    println!(
        "false alarms: {fa_all} over {days_all} simulated days = {:.2} per day",
        fa_all as f64 / days_all
    );
    if !sweep.is_empty() {
        println!();
        println!(
            "| min severity | seed | bursting campaigns ≤ 15 min | false alarms | organic claim alerts | copy-paste delay (min) |"
        );
        println!("|---|---|---|---|---|---|");
        for (t, seed, ok, fa, oc, cp) in sweep_rows {
            println!(
                "| {t} | {seed} | {} / {} | {fa} | {oc} | {cp:.1} |",
                ok / 1000,
                ok % 1000
            );
        }
    }
}

/// One simulated scenario in memory: its truth and its posts.
fn scenario(posts_n: u64, days: f64, seed: u64) -> (Truth, Vec<Post>) {
    let mut cfg = SimConfig::new(posts_n, seed);
    cfg.days = Some(days);
    let mut buf = Vec::new();
    let truth = pharos_sim::simulate(&cfg, &mut buf, &mut |_| {}).expect("simulate");
    let posts = buf
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("post"))
        .collect();
    (truth, posts)
}

/// Replays claim matches computed once (post id → hits at any confidence),
/// keeping those at or above `min`.
struct Replay {
    hits: Arc<AHashMap<String, Vec<ClaimHit>>>,
    min: f64,
}

impl ClaimSignal for Replay {
    fn claims(&mut self, post: &Post) -> Vec<ClaimHit> {
        self.hits.get(&post.id).map_or_else(Vec::new, |h| {
            h.iter()
                .filter(|c| c.confidence >= self.min)
                .cloned()
                .collect()
        })
    }
}

/// `--claims library`: see the module docs.
fn library_eval(seeds: &[u64], posts_n: u64, days: f64, mins: &[f64], verbose: bool) {
    use pharos_claims::library::{ImportFormat, ImportOptions, Library, import};
    println!(
        "| seed | min confidence | false narrative claim alert (min after start) | claim alerts raised | organic repeats of debunked claims | false claim alerts | all false alarms |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut notes = Vec::new();
    for &seed in seeds {
        let (truth, posts) = scenario(posts_n, days, seed);
        let tmp = tempfile::tempdir().expect("temporary directory");
        let feed = tmp.path().join("factchecks.json");
        std::fs::write(
            &feed,
            serde_json::to_vec(&pharos_sim::claim_review_feed(&truth.factchecks)).expect("feed"),
        )
        .expect("write the feed");
        let lib_dir = tmp.path().join("library");
        import(
            &lib_dir,
            ImportFormat::ClaimReview,
            std::slice::from_ref(&feed),
            &ImportOptions::default(),
        )
        .expect("import the simulator's fact-checks");
        // Alerts name a claim by its library id; the truth by its review URL.
        let url_of: AHashMap<String, String> = Library::open(&lib_dir)
            .expect("library")
            .claims()
            .iter()
            .filter_map(|c| Some((c.id.clone(), c.reviews.first()?.url.clone()?)))
            .collect();
        let mut matcher = LibraryClaims::open(&lib_dir).expect("matcher");
        matcher.min_confidence = 0.0;
        let started = std::time::Instant::now();
        let mut hits: AHashMap<String, Vec<ClaimHit>> = AHashMap::new();
        for chunk in posts.chunks(4096) {
            for (post, found) in chunk.iter().zip(matcher.claims_batch(chunk)) {
                let found: Vec<ClaimHit> = found
                    .into_iter()
                    .filter_map(|mut h| {
                        h.claim_id = url_of.get(&h.claim_id)?.clone();
                        Some(h)
                    })
                    .collect();
                if !found.is_empty() {
                    hits.insert(post.id.clone(), found);
                }
            }
        }
        notes.push(format!(
            "seed {seed}: {} posts matched in {:.1} s, {} with a candidate claim, {} claims in the library",
            posts.len(),
            started.elapsed().as_secs_f64(),
            hits.len(),
            url_of.len()
        ));
        let hits = Arc::new(hits);
        for &min in mins {
            let raised = Raised::default();
            let mut pipe =
                AlertPipeline::with_config(StreamConfig::default(), Rules::default(), false);
            pipe.add_sink(Box::new(raised.clone()));
            pipe.set_claim_signal(Box::new(Replay {
                hits: hits.clone(),
                min,
            }));
            for batch in posts.chunks(16_384) {
                pipe.push_batch(batch).expect("no failing sink");
            }
            pipe.finish().expect("no failing sink");
            let alerts = std::mem::take(&mut *raised.0.lock().unwrap());
            let (_, fa, _) = score(&truth, &alerts, false, seed);
            let claim_alerts: Vec<Notification> = alerts
                .iter()
                .filter(|n| n.alert.entity_kind == EntityKind::Claim)
                .cloned()
                .collect();
            let (_, false_claims, organic) = score(&truth, &claim_alerts, verbose, seed);
            // The planted claim's first alert, wherever its evidence came from.
            let mut planted = Vec::new();
            for ct in truth
                .campaigns
                .iter()
                .filter(|c| c.kind == "false_narrative")
            {
                let review = truth
                    .factchecks
                    .iter()
                    .find(|f| f.campaign.as_deref() == Some(ct.id.as_str()));
                let first = review.and_then(|f| {
                    claim_alerts
                        .iter()
                        .filter(|n| n.alert.entity == f.url)
                        .map(|n| n.raised_at.millis())
                        .min()
                });
                planted.push(first.map_or("none".to_string(), |t| {
                    format!("{:.1}", (t - ct.start.millis()) as f64 / 60_000.0)
                }));
            }
            println!(
                "| {seed} | {min} | {} | {} | {organic} | {false_claims} | {fa} |",
                planted.join(", "),
                claim_alerts.len(),
            );
        }
    }
    println!();
    for n in notes {
        println!("{n}");
    }
}

/// Per campaign outcome, false alarms, organic claim alerts.
fn score(
    truth: &Truth,
    alerts: &[Notification],
    verbose: bool,
    seed: u64,
) -> (Vec<Outcome1>, usize, usize) {
    let mut owner: AHashMap<&str, usize> = AHashMap::new();
    for (i, c) in truth.campaigns.iter().enumerate() {
        for p in &c.posts {
            owner.insert(p, i);
        }
    }
    let organic_reviews: AHashSet<&str> = truth
        .factchecks
        .iter()
        .filter(|f| f.campaign.is_none())
        .map(|f| f.url.as_str())
        .collect();
    let belongs = |c: usize, a: &Alert| -> bool {
        let ct = &truth.campaigns[c];
        let n = a.evidence_posts.len();
        let k = a
            .evidence_posts
            .iter()
            .filter(|p| owner.get(p.as_str()) == Some(&c))
            .count();
        (n > 0 && 2 * k > n)
            || match a.entity_kind {
                EntityKind::Hashtag => ct.hashtags.contains(&a.entity),
                EntityKind::Url => ct.urls.iter().any(|u| Link::new(u).url == a.entity),
                EntityKind::Domain => ct.urls.iter().any(|u| Link::new(u).domain == a.entity),
                EntityKind::ReshareTarget => a
                    .entity
                    .split_once(':')
                    .is_some_and(|(_, id)| owner.get(id) == Some(&c)),
                EntityKind::Claim => truth
                    .factchecks
                    .iter()
                    .any(|f| f.url == a.entity && f.campaign.as_deref() == Some(ct.id.as_str())),
                _ => false,
            }
    };
    let mut matched = vec![false; alerts.len()];
    let mut out = Vec::new();
    for (c, ct) in truth.campaigns.iter().enumerate() {
        let mut best: Option<(f64, String)> = None;
        for (i, n) in alerts.iter().enumerate() {
            let t = n.raised_at.millis();
            if t >= ct.start.millis() && t <= ct.end.millis() && belongs(c, &n.alert) {
                matched[i] = true;
                let d = (t - ct.start.millis()) as f64 / 60_000.0;
                if best.as_ref().is_none_or(|b| d < b.0) {
                    best = Some((
                        d,
                        format!("{}:{}", n.alert.entity_kind.as_str(), n.alert.entity),
                    ));
                }
            } else if belongs(c, &n.alert) {
                // On the campaign's entities, outside its window: not organic.
                matched[i] = true;
            }
        }
        out.push(Outcome1 {
            kind: ct.kind.clone(),
            id: ct.id.clone(),
            delay_min: best.as_ref().map(|b| b.0),
            entity: best.map(|b| b.1).unwrap_or_default(),
        });
    }
    let mut fa = 0;
    let mut organic_claims = 0;
    for (n, m) in alerts.iter().zip(&matched) {
        if *m {
            continue;
        }
        let a = &n.alert;
        let k = a
            .evidence_posts
            .iter()
            .filter(|p| owner.contains_key(p.as_str()))
            .count();
        if 2 * k > a.evidence_posts.len() {
            continue;
        }
        if a.entity_kind == EntityKind::Claim && organic_reviews.contains(a.entity.as_str()) {
            organic_claims += 1;
            continue;
        }
        fa += 1;
        if verbose {
            eprintln!(
                "seed {seed} false alarm {}:{} at {} severity {:.2} volume {} actors {} flagged {:.2} (coordinated {:.2}) growth {:.1}",
                a.entity_kind.as_str(),
                a.entity,
                n.raised_at.to_rfc3339(),
                a.severity,
                a.volume,
                a.distinct_actors,
                a.flagged_actor_share,
                a.coordinated_actor_share,
                a.growth_rate
            );
        }
    }
    (out, fa, organic_claims)
}
