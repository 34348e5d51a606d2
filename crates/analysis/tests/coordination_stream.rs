//! Streaming coordination gives the batch engines' answers.
//!
//! - CooRTweet: the stream's raw pairs are batch's pairs at
//!   `min_participation = 1` on the same shares in canonical order; with the
//!   participation rule applied at the end they are batch's pairs at 2 and 3.
//! - Directed: the stream's edges are `directed_network`'s.
//! - Lateness: input shuffled within the allowed lateness gives the same
//!   output, in the same order; input later than that is counted as late.
//! - Memory: live state is exactly the shares of the last window.
//!
//! The real-data case (`--features real-data`) streams CooRTweet's
//! `russian_coord_tweets` and compares with batch at 60 s / 2.

use pharos_analysis::coordination::directed::{
    DirectedParams, Kind, MessageTable, directed_network,
};
use pharos_analysis::coordination::stream::{
    DirectedStreamParams, MatchedPair, OwnedPair, Pushed, StreamPair, StreamParams,
    StreamingCoordinator, StreamingDirected,
};
use pharos_analysis::coordination::{Coordination, CoortweetParams, ObjectRule, ShareTable};
use pharos_core::{EventTime, Post};

/// xorshift64*: a seeded stream with no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Below `n`, small values more likely.
    fn skewed(&mut self, n: u64) -> u64 {
        let m = self.below(n) + 1;
        self.below(m)
    }
}

/// `(object, account, content, time)`.
type Row = (String, String, String, i64);
/// A pair as CooRTweet's pairs CSV has it.
type PairRow = (String, String, String, i64, String, String);

/// Random shares with many equal times, repeated accounts, posts that share
/// several objects (one content id, several rows) and loops (content =
/// object), sorted in canonical order.
fn random_shares(seed: u64, n: usize, span: i64) -> Vec<Row> {
    let mut r = Rng::new(seed);
    let n_obj = (n / 8).max(3) as u64;
    let n_acc = (n / 5).max(4) as u64;
    let mut rows = Vec::new();
    let mut c = 0u64;
    while rows.len() < n {
        let t = r.below(span as u64) as i64;
        // Skewed accounts: a few are very active.
        let a = r.skewed(n_acc);
        let o = r.skewed(n_obj);
        c += 1;
        let content = format!("c{c}");
        match r.below(20) {
            0 => rows.push((format!("o{o}"), format!("u{a}"), format!("o{o}"), t)),
            1 | 2 => {
                for k in 0..2 + r.below(2) {
                    rows.push((
                        format!("o{}", (o + k * 7) % n_obj),
                        format!("u{a}"),
                        content.clone(),
                        t,
                    ));
                }
            }
            _ => rows.push((format!("o{o}"), format!("u{a}"), content, t)),
        }
    }
    canonical(&mut rows);
    rows
}

fn canonical(rows: &mut [Row]) {
    rows.sort_by(|x, y| (x.3, &x.1, &x.2, &x.0).cmp(&(y.3, &y.1, &y.2, &y.0)));
}

fn table(rows: &[Row]) -> ShareTable {
    let mut t = ShareTable::new();
    for (o, a, c, s) in rows {
        t.push(o, a, c, *s);
    }
    t
}

fn batch_pairs(t: &ShareTable, tw: i64, mp: u32) -> Vec<PairRow> {
    let params = CoortweetParams {
        time_window: tw,
        min_participation: mp,
        ..Default::default()
    };
    let (pairs, _) = Coordination::new(t, &params).unwrap().pairs();
    let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    let mut v: Vec<PairRow> = pairs
        .iter()
        .map(|p| {
            (
                s(t.object_name(p.object)),
                s(t.content_name(p.content)),
                s(t.content_name(p.content_y)),
                p.time_delta,
                s(t.account_name(p.account)),
                s(t.account_name(p.account_y)),
            )
        })
        .collect();
    v.sort();
    v
}

fn row(p: &OwnedPair) -> PairRow {
    (
        p.object.clone(),
        p.content.clone(),
        p.content_y.clone(),
        p.time_delta,
        p.account.clone(),
        p.account_y.clone(),
    )
}

/// Streams `rows` in the given order; returns the coordinator, the pairs in
/// emission order and what each push returned.
fn stream(
    rows: &[Row],
    tw: i64,
    lateness: i64,
) -> (StreamingCoordinator, Vec<OwnedPair>, Vec<Pushed>) {
    let mut s = StreamingCoordinator::new(StreamParams {
        time_window: tw,
        allowed_lateness: lateness,
        max_pairs_per_object: None,
    })
    .unwrap();
    let mut out = Vec::new();
    let mut sink = |p: &StreamPair| out.push(p.to_owned());
    let pushed = rows
        .iter()
        .map(|(o, a, c, t)| s.push(o, a, c, *t, &mut sink))
        .collect();
    s.flush(&mut sink);
    (s, out, pushed)
}

fn sorted(pairs: &[OwnedPair]) -> Vec<PairRow> {
    let mut v: Vec<PairRow> = pairs.iter().map(row).collect();
    v.sort();
    v
}

/// The same rows, each displaced by less than `lateness` seconds.
fn shuffle_within(rows: &[Row], lateness: i64, seed: u64) -> Vec<Row> {
    let mut r = Rng::new(seed);
    let mut keyed: Vec<(i64, u64, Row)> = rows
        .iter()
        .map(|x| {
            (
                x.3 + r.below(lateness as u64 + 1) as i64,
                r.next(),
                x.clone(),
            )
        })
        .collect();
    keyed.sort_by_key(|k| (k.0, k.1));
    keyed.into_iter().map(|k| k.2).collect()
}

#[test]
fn raw_stream_pairs_are_batch_pairs_at_min_participation_1() {
    for (seed, n, span, tw) in [
        (1, 400, 300, 10),
        (2, 2_000, 2_000, 60),
        (3, 3_000, 500, 60),
        (4, 1_500, 100_000, 3_600),
        (5, 800, 50, 0),
    ] {
        let rows = random_shares(seed, n, span);
        let want = batch_pairs(&table(&rows), tw, 1);
        let (s, got, _) = stream(&rows, tw, 0);
        assert!(!want.is_empty(), "seed {seed}: the input must make pairs");
        assert_eq!(sorted(&got), want, "seed {seed}");
        assert_eq!(s.stats().pairs as usize, got.len());
        assert_eq!(s.stats().late, 0);
        // Pairs come out oldest share first, never backwards in time.
        assert!(
            got.iter()
                .all(|p| p.time <= p.time_y && p.time_delta == p.time_y - p.time)
        );
        // And batch at 0 (no filter at all) is the same.
        assert_eq!(batch_pairs(&table(&rows), tw, 0), want, "seed {seed}");
    }
}

#[test]
fn participation_rule_at_the_end_gives_batch_at_2_and_3() {
    for (seed, n, span, tw) in [
        (11, 1_000, 1_000, 30),
        (12, 3_000, 3_000, 60),
        (13, 2_000, 20_000, 120),
        (14, 600, 200, 10),
    ] {
        let rows = random_shares(seed, n, span);
        let t = table(&rows);
        let (s, got, _) = stream(&rows, tw, 5);
        for mp in [1, 2, 3, 5] {
            let want = batch_pairs(&t, tw, mp);
            let mask = s.participation_mask(&got, mp);
            let kept: Vec<OwnedPair> = got
                .iter()
                .zip(&mask)
                .filter(|(_, k)| **k)
                .map(|(p, _)| p.clone())
                .collect();
            assert_eq!(sorted(&kept), want, "seed {seed}, min participation {mp}");
            // The incremental rule, at the end, keeps at least batch's pairs.
            for p in &kept {
                assert!(s.is_coordinated(&p.account, &p.account_y, mp));
            }
        }
    }
}

#[test]
fn incremental_rule_only_grows() {
    let rows = random_shares(21, 2_000, 2_000);
    let mut s = StreamingCoordinator::new(StreamParams::default()).unwrap();
    let mut seen: Vec<(String, String, bool)> = Vec::new();
    let mut pairs = Vec::new();
    for (o, a, c, t) in &rows {
        s.push(o, a, c, *t, &mut |p: &StreamPair| pairs.push(p.to_owned()));
        for p in pairs.drain(..) {
            seen.push((p.account.clone(), p.account_y.clone(), false));
        }
        for e in seen.iter_mut() {
            let now = s.is_coordinated(&e.0, &e.1, 2);
            assert!(now || !e.2, "an edge stopped being coordinated");
            e.2 = now;
        }
    }
}

#[test]
fn posts_stream_like_share_tables_by_object_rule() {
    let mut r = Rng::new(31);
    let mut posts = Vec::new();
    for k in 0..1_500 {
        let mut p = Post {
            platform: "x".into(),
            id: format!("p{k}"),
            ..Default::default()
        };
        p.actor.id = format!("a{}", r.below(120));
        p.time = EventTime::from_millis(r.below(1_500_000) as i64);
        match r.below(4) {
            0 => p.reshare_of = Some(format!("r{}", r.below(40))),
            1 => {
                p.add_link(&format!("https://example.org/{}", r.below(40)));
                if r.below(3) == 0 {
                    p.add_link(&format!("https://news.example.com/{}", r.below(20)));
                }
                p.refresh_domains();
            }
            2 => p.hashtags = vec![format!("h{}", r.below(15)), format!("h{}", r.below(15))],
            _ => p.reply_to = Some(format!("r{}", r.below(40))),
        }
        posts.push(p);
    }
    posts.sort_by(|a, b| {
        (a.time.secs(), &a.actor.id, &a.id).cmp(&(b.time.secs(), &b.actor.id, &b.id))
    });
    for rule in [
        ObjectRule::Auto,
        ObjectRule::Reshare,
        ObjectRule::Link,
        ObjectRule::Domain,
        ObjectRule::Hashtag,
        ObjectRule::Reply,
    ] {
        let t = ShareTable::from_posts(&posts, rule);
        let want = batch_pairs(&t, 60, 1);
        let mut s = StreamingCoordinator::new(StreamParams {
            allowed_lateness: 30,
            ..Default::default()
        })
        .unwrap();
        let mut got = Vec::new();
        let mut sink = |p: &StreamPair| got.push(p.to_owned());
        let mut accepted = 0;
        for p in &posts {
            accepted += s.push_post(p, rule, &mut sink).0;
        }
        s.flush(&mut sink);
        assert_eq!(accepted, t.len(), "{rule:?}: shares");
        assert!(!want.is_empty(), "{rule:?}");
        assert_eq!(sorted(&got), want, "{rule:?}");
        for mp in [2, 3] {
            let mask = s.participation_mask(&got, mp);
            let kept: Vec<OwnedPair> = got
                .iter()
                .zip(mask)
                .filter(|x| x.1)
                .map(|x| x.0.clone())
                .collect();
            assert_eq!(sorted(&kept), batch_pairs(&t, 60, mp), "{rule:?} at {mp}");
        }
    }
}

#[test]
fn shuffled_within_lateness_gives_identical_output() {
    for (seed, lateness) in [(41, 5), (42, 30), (43, 300)] {
        let rows = random_shares(seed, 2_500, 2_500);
        let (_, want, _) = stream(&rows, 60, lateness);
        let shuffled = shuffle_within(&rows, lateness, seed);
        assert_ne!(shuffled, rows);
        let (s, got, pushed) = stream(&shuffled, 60, lateness);
        assert!(pushed.iter().all(|p| *p == Pushed::Accepted));
        assert_eq!(s.stats().late, 0);
        // Same pairs, same orientation, same order.
        assert_eq!(got, want, "lateness {lateness}");
        assert_eq!(sorted(&got), batch_pairs(&table(&rows), 60, 1));
    }
}

#[test]
fn input_later_than_the_lateness_is_counted_and_left_out() {
    let mut rows = random_shares(51, 2_000, 2_000);
    // Move every 50th share 100 s back in time, with a lateness of 30 s.
    let mut late_rows = Vec::new();
    for (k, r) in rows.iter_mut().enumerate() {
        if k % 50 == 25 && r.3 >= 200 {
            r.3 -= 100;
            late_rows.push(k);
        }
    }
    let (s, got, pushed) = stream(&rows, 60, 30);
    let late: Vec<usize> = (0..rows.len())
        .filter(|&k| pushed[k] == Pushed::Late)
        .collect();
    assert!(!late.is_empty());
    assert_eq!(s.stats().late as usize, late.len());
    assert!(late.iter().all(|k| late_rows.contains(k)));
    assert_eq!(s.stats().accepted as usize, rows.len() - late.len());
    // The pairs are batch's on the accepted shares.
    let mut kept: Vec<Row> = rows
        .iter()
        .enumerate()
        .filter(|(k, _)| pushed[*k] == Pushed::Accepted)
        .map(|(_, r)| r.clone())
        .collect();
    canonical(&mut kept);
    assert_eq!(sorted(&got), batch_pairs(&table(&kept), 60, 1));
}

#[test]
fn live_state_is_the_last_window() {
    let (tw, lateness) = (60, 30);
    let mut s = StreamingCoordinator::new(StreamParams {
        time_window: tw,
        allowed_lateness: lateness,
        max_pairs_per_object: None,
    })
    .unwrap();
    let mut r = Rng::new(61);
    let mut times: Vec<i64> = Vec::new();
    let mut pairs = 0u64;
    let mut most = 0usize;
    let n = 200_000;
    for k in 0..n {
        // About 2 shares a second over 28 hours, 20 000 objects, jittered
        // within the lateness.
        let t = (k / 2) as i64 + r.below(lateness as u64) as i64;
        let o = r.below(20_000);
        s.push(
            &format!("o{o}"),
            &format!("u{}", r.below(5_000)),
            &format!("c{k}"),
            t,
            &mut |_: &StreamPair| pairs += 1,
        );
        times.push(t);
        let size = s.state_size();
        most = most.max(size.buffered + size.live_shares);
        if k % 10_007 == 0 {
            let w = s.watermark().unwrap();
            let expect = times.iter().filter(|&&x| x >= w - tw).count();
            assert_eq!(size.buffered + size.live_shares, expect, "at {k}");
            assert!(size.live_objects <= size.live_shares);
            assert!(size.live_contents <= size.live_shares + size.buffered);
        }
    }
    assert_eq!(s.stats().late, 0);
    assert!(pairs > 0);
    // 2 shares a second over window + lateness (+ jitter): a few hundred.
    assert!(most <= 2 * (tw + 2 * lateness + 2) as usize, "{most}");
    s.flush(&mut |_: &StreamPair| {});
    let size = s.state_size();
    assert_eq!(size.buffered, 0);
    assert!(size.live_shares <= 2 * (tw + lateness + 2) as usize);
    assert_eq!(size.accounts, 5_000);
}

/// Random keyed messages in time order: `(id, user, time_ms, keys)`.
fn random_messages(seed: u64, n: usize, span_ms: i64) -> Vec<(String, String, i64, Vec<String>)> {
    let mut r = Rng::new(seed);
    let mut v: Vec<(String, String, i64, Vec<String>)> = (0..n)
        .map(|k| {
            let keys = (0..1 + r.below(3))
                .map(|_| format!("k{}", r.skewed(n as u64 / 6 + 1)))
                .collect();
            (
                format!("m{k}"),
                format!("u{}", r.skewed(n as u64 / 8 + 2)),
                // Whole seconds, often equal, plus the odd millisecond.
                (r.below(span_ms as u64 / 1000) * 1000 + r.below(3)) as i64,
                keys,
            )
        })
        .collect();
    v.sort_by_key(|m| m.2);
    v
}

#[test]
fn directed_stream_edges_are_directed_network_edges() {
    for (seed, kind) in [
        (71, Kind::CoRetweet),
        (72, Kind::CoLink),
        (73, Kind::CoHashtag),
    ] {
        let msgs = random_messages(seed, 3_000, 3_000_000);
        let mut table = MessageTable::new(kind);
        for (id, u, t, keys) in &msgs {
            table.push_keys(id, u, *t, keys);
        }
        for self_loops in [false, true] {
            for lateness_ms in [0, 20_000] {
                let mut s = StreamingDirected::new(
                    kind,
                    DirectedStreamParams {
                        time_window_ms: 60_000,
                        allowed_lateness_ms: lateness_ms,
                        self_loops,
                        max_pairs_per_key: None,
                        ..Default::default()
                    },
                )
                .unwrap();
                let order = if lateness_ms == 0 {
                    msgs.clone()
                } else {
                    let mut r = Rng::new(seed + 100);
                    let mut k: Vec<_> = msgs
                        .iter()
                        .map(|m| {
                            (
                                m.2 + r.below(lateness_ms as u64) as i64,
                                r.next(),
                                m.clone(),
                            )
                        })
                        .collect();
                    k.sort_by_key(|x| (x.0, x.1));
                    k.into_iter().map(|x| x.2).collect()
                };
                let mut matched = 0u64;
                let mut sink = |p: &MatchedPair| {
                    assert!(p.time_y_ms - p.time_ms <= 60_000 && p.time_ms <= p.time_y_ms);
                    matched += 1;
                };
                for (id, u, t, keys) in &order {
                    assert_eq!(s.push_keys(id, u, *t, keys, &mut sink), Pushed::Accepted);
                }
                s.flush(&mut sink);
                assert!(matched > 0);
                for min in [1.0, 2.0, 3.0] {
                    let mut p = DirectedParams::new(60, min);
                    p.self_loops = self_loops;
                    let want = directed_network(&table, &p);
                    assert!(!want.edges.is_empty());
                    assert_eq!(
                        s.network(min),
                        want,
                        "{kind} self-loops {self_loops} lateness {lateness_ms} min {min}"
                    );
                }
                assert!(s.state_size().live_shares < msgs.len());
            }
        }
    }
}

#[test]
fn directed_stream_reads_posts_like_the_message_table() {
    let mut r = Rng::new(81);
    let mut posts = Vec::new();
    for k in 0..2_000 {
        let mut p = Post {
            platform: "x".into(),
            id: format!("p{k}"),
            ..Default::default()
        };
        p.actor.id = format!("a{}", r.below(150));
        p.time = EventTime::from_millis(r.below(2_000_000) as i64);
        match r.below(4) {
            0 => p.reshare_of = Some(format!("r{}", r.below(50))),
            1 => p.add_link(&format!("https://example.org/{}?utm_source=x", r.below(50))),
            2 => p.reply_to = Some(format!("r{}", r.below(50))),
            _ => p.text = format!("Same words @user{} number {}", r.below(9), r.below(30)),
        }
        posts.push(p);
    }
    posts.sort_by_key(|p| p.time);
    for kind in [
        Kind::CoRetweet,
        Kind::CoLink,
        Kind::CoReply,
        Kind::CoTweet,
        Kind::CoDomain,
    ] {
        let table = MessageTable::from_posts(&posts, kind);
        let mut s = StreamingDirected::new(kind, DirectedStreamParams::default()).unwrap();
        for p in &posts {
            s.push_post(p, &mut |_: &MatchedPair| {});
        }
        s.flush(&mut |_: &MatchedPair| {});
        let want = directed_network(&table, &DirectedParams::new(60, 1.0));
        assert!(!want.edges.is_empty(), "{kind}");
        assert_eq!(s.network(1.0), want, "{kind}");
    }
    assert!(StreamingDirected::new(Kind::CoSimilarText, DirectedStreamParams::default()).is_err());
}

/// A random PDQ hash as 64 hex digits.
fn random_pdq(r: &mut Rng) -> [u64; 4] {
    [r.next(), r.next(), r.next(), r.next()]
}

fn pdq_hex(h: [u64; 4]) -> String {
    h.iter().rev().map(|w| format!("{w:016x}")).collect()
}

/// `h` with `bits` random bits flipped (some may repeat: at most `bits` away).
fn near(r: &mut Rng, mut h: [u64; 4], bits: u64) -> [u64; 4] {
    for _ in 0..bits {
        let b = r.below(256);
        h[(b / 64) as usize] ^= 1 << (b % 64);
    }
    h
}

/// Posts sharing copies of a few pictures: copies 0–40 bits from their
/// original (so some pairs of copies fall beyond the distance), up to three
/// pictures in one post, reshares (never keyed), accounts reusing a picture
/// of their own.
fn image_posts(seed: u64, n: usize, span_ms: u64) -> Vec<Post> {
    let mut r = Rng::new(seed);
    let originals: Vec<[u64; 4]> = (0..40).map(|_| random_pdq(&mut r)).collect();
    let mut posts = Vec::new();
    for k in 0..n {
        let mut p = Post {
            platform: "x".into(),
            id: format!("p{k}"),
            ..Default::default()
        };
        p.actor.id = format!("a{}", r.skewed(120));
        p.time = EventTime::from_millis(r.below(span_ms) as i64);
        if r.below(20) == 0 {
            p.reshare_of = Some(format!("r{}", r.below(9)));
        }
        for _ in 0..1 + r.below(3) {
            let o = originals[r.skewed(originals.len() as u64) as usize];
            let bits = r.below(41);
            let h = near(&mut r, o, bits);
            p.media.push(pharos_core::Media {
                url: format!("m{k}.jpg"),
                hash: Some(format!("pdq:{}", pdq_hex(h))),
                ..Default::default()
            });
        }
        posts.push(p);
    }
    posts.sort_by_key(|p| p.time);
    posts
}

#[test]
fn co_image_stream_edges_are_the_directed_methods_edges() {
    for (seed, window_s, lateness_ms) in [(91, 60, 0), (92, 300, 0), (93, 60, 30_000)] {
        let posts = image_posts(seed, 2_500, 3_000_000);
        let table = MessageTable::from_posts(&posts, Kind::CoImage);
        for distance in [31, 12] {
            let mut s = StreamingDirected::new(
                Kind::CoImage,
                DirectedStreamParams {
                    time_window_ms: window_s * 1000,
                    allowed_lateness_ms: lateness_ms,
                    image_distance: distance,
                    ..Default::default()
                },
            )
            .unwrap();
            // With lateness, posts arrive out of order within it.
            let mut order: Vec<&Post> = posts.iter().collect();
            if lateness_ms > 0 {
                let mut r = Rng::new(seed + 7);
                let mut keyed: Vec<(i64, u64, &Post)> = order
                    .iter()
                    .map(|p| {
                        (
                            p.time.millis() + r.below(lateness_ms as u64) as i64,
                            r.next(),
                            *p,
                        )
                    })
                    .collect();
                keyed.sort_by_key(|x| (x.0, x.1));
                order = keyed.into_iter().map(|x| x.2).collect();
            }
            let mut matched = std::collections::HashSet::new();
            let mut max_live = 0;
            for p in order {
                let pushed = s.push_post(p, &mut |m: &MatchedPair| {
                    assert!(m.time_ms <= m.time_y_ms);
                    assert!(m.time_y_ms - m.time_ms <= window_s * 1000);
                    assert_ne!(m.user, m.user_y);
                    assert!(
                        matched.insert((m.message.to_string(), m.message_y.to_string())),
                        "one pair per matched message"
                    );
                });
                assert_eq!(pushed, Pushed::Accepted);
                max_live = max_live.max(s.live_images());
            }
            s.flush(&mut |_: &MatchedPair| {});
            assert!(!matched.is_empty());
            for min in [1.0, 2.0] {
                let mut p = DirectedParams::new(window_s, min);
                p.image_distance = distance;
                let want = directed_network(&table, &p);
                assert!(!want.edges.is_empty());
                assert_eq!(
                    s.network(min),
                    want,
                    "seed {seed} window {window_s} s distance {distance} min {min}"
                );
            }
            // The live index holds the window's hashes, not the stream's.
            let all: std::collections::HashSet<&str> = posts
                .iter()
                .flat_map(|p| p.media.iter().filter_map(|m| m.pdq()))
                .collect();
            assert!(
                max_live * 4 < all.len(),
                "{max_live} live of {} hashes",
                all.len()
            );
            assert_eq!(s.live_images(), s.state_size().live_objects);
        }
    }
}

#[test]
fn synthetic_stream_matches_batch_with_a_cap_that_is_never_reached() {
    let mut rows: Vec<Row> = Vec::new();
    pharos_analysis::coordination::synthetic::co_retweet(20_000, 7, |o, a, c, t| {
        rows.push((format!("o{o}"), format!("u{a}"), format!("r{c}"), t))
    });
    canonical(&mut rows);
    let mut s = StreamingCoordinator::new(StreamParams {
        time_window: 60,
        allowed_lateness: 0,
        max_pairs_per_object: Some(1_000_000),
    })
    .unwrap();
    let mut got = Vec::new();
    for (o, a, c, t) in &rows {
        s.push(o, a, c, *t, &mut |p: &StreamPair| got.push(p.to_owned()));
    }
    s.flush(&mut |p: &StreamPair| got.push(p.to_owned()));
    assert_eq!(s.stats().pairs_dropped, 0);
    let t = table(&rows);
    assert_eq!(sorted(&got), batch_pairs(&t, 60, 1));
    let mask = s.participation_mask(&got, 2);
    let kept: Vec<OwnedPair> = got
        .iter()
        .zip(mask)
        .filter(|x| x.1)
        .map(|x| x.0.clone())
        .collect();
    assert_eq!(sorted(&kept), batch_pairs(&t, 60, 2));
}

#[cfg(feature = "real-data")]
mod real_data {
    use super::*;
    use pharos_analysis::coordination::read_coortweet_csv;
    use std::path::PathBuf;

    fn data_dir() -> PathBuf {
        match std::env::var_os("PHAROS_DATA") {
            Some(d) => PathBuf::from(d),
            None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
        }
    }

    /// Streams `russian_coord_tweets` sorted by time (canonical order),
    /// applies the participation rule at the end and compares with batch at
    /// 60 s / 2: exactly on the same (sorted) rows; and with batch on the
    /// file's own row order (which matches CooRTweet's oracle) up to the
    /// orientation of pairs with `time_delta = 0`.
    #[test]
    fn russian_coord_tweets_60s_mp2() {
        let path = data_dir().join("coortweet/russian_coord_tweets.csv.gz");
        assert!(
            path.exists(),
            "missing {} (set PHAROS_DATA to the shared data directory)",
            path.display()
        );
        let original = read_coortweet_csv(&path).unwrap();
        let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        let mut rows: Vec<Row> = original
            .shares()
            .iter()
            .enumerate()
            .map(|(r, x)| {
                (
                    s(original.object_name(x.object)),
                    s(original.account_name(x.account)),
                    s(original.content_name(r as u32)),
                    x.time_secs,
                )
            })
            .collect();
        canonical(&mut rows);
        let (st, got, pushed) = stream(&rows, 60, 0);
        assert!(pushed.iter().all(|p| *p == Pushed::Accepted));
        assert_eq!(st.stats().content_conflicts, 0);
        let mask = st.participation_mask(&got, 2);
        let kept: Vec<OwnedPair> = got
            .iter()
            .zip(mask)
            .filter(|x| x.1)
            .map(|x| x.0.clone())
            .collect();
        let want_sorted_input = batch_pairs(&table(&rows), 60, 2);
        assert_eq!(sorted(&kept), want_sorted_input);

        let unorient = |v: Vec<PairRow>| {
            let mut v: Vec<PairRow> = v
                .into_iter()
                .map(|p| {
                    if p.3 == 0 && (&p.1, &p.4) > (&p.2, &p.5) {
                        (p.0, p.2, p.1, p.3, p.5, p.4)
                    } else {
                        p
                    }
                })
                .collect();
            v.sort();
            v
        };
        let want_file_order = batch_pairs(&original, 60, 2);
        assert_eq!(want_file_order.len(), kept.len());
        assert_eq!(unorient(sorted(&kept)), unorient(want_file_order));
        eprintln!(
            "russian_coord_tweets: {} shares, {} raw pairs, {} at min participation 2",
            rows.len(),
            got.len(),
            kept.len()
        );
    }
}
