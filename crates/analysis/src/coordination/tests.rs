//! Hand-made cases for each rule of CooRTweet, and a randomised comparison
//! with a literal (quadratic) transcription of CooRTweet's steps.

use super::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

type Row = (&'static str, &'static str, &'static str, i64);

fn table(rows: &[Row]) -> ShareTable {
    let mut t = ShareTable::new();
    for &(o, a, c, s) in rows {
        t.push(o, a, c, s);
    }
    t
}

fn params(tw: i64, mp: u32) -> CoortweetParams {
    CoortweetParams {
        time_window: tw,
        min_participation: mp,
        ..Default::default()
    }
}

/// Pairs as (object, content, content_y, time_delta, account, account_y) names.
fn named_pairs(
    t: &ShareTable,
    p: &CoortweetParams,
) -> Vec<(String, String, String, i64, String, String)> {
    let mut run = Coordination::new(t, p).unwrap();
    let (pairs, _) = run.pairs();
    let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    let mut v: Vec<_> = pairs
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

fn network(t: &ShareTable, p: &CoortweetParams, ew: f64, sub: Subgraph) -> Network {
    let mut run = Coordination::new(t, p).unwrap();
    run.run(None).unwrap().network(ew, sub).unwrap()
}

fn name(t: &ShareTable, a: u32) -> &str {
    std::str::from_utf8(t.account_name(a)).unwrap()
}

#[test]
fn accounts_rank_in_byte_order_of_names() {
    let names: Vec<&[u8]> = vec![
        b"user_0000001b",
        b"user_0000001a",
        b"u",
        b"",
        b"u\0",
        b"Zed",
        b"user_0000001",
        b"zz",
    ];
    let order = super::coortweet::sort_by_name_for_tests(names.len(), |i| names[i as usize]);
    let sorted: Vec<&[u8]> = order.iter().map(|&i| names[i as usize]).collect();
    let mut want = names.clone();
    want.sort();
    assert_eq!(sorted, want);
}

#[test]
fn the_window_is_inclusive() {
    let t = table(&[
        ("o", "a", "c1", 100),
        ("o", "b", "c2", 110),
        ("o", "c", "c3", 121),
        ("x", "a", "c4", 0),
        ("x", "b", "c5", 0),
        ("x", "c", "c6", 0),
    ]);
    let p = named_pairs(&t, &params(10, 1));
    let o: Vec<_> = p.iter().filter(|p| p.0 == "o").collect();
    assert_eq!(o.len(), 1, "{o:?}");
    assert_eq!(o[0].3, 10);
    assert_eq!(
        named_pairs(&t, &params(11, 1))
            .iter()
            .filter(|p| p.0 == "o")
            .count(),
        2
    );
    // A zero window pairs simultaneous shares only.
    assert_eq!(named_pairs(&t, &params(0, 1)).len(), 3);
}

#[test]
fn pairs_of_one_account_are_dropped() {
    let t = table(&[
        ("o", "a", "c1", 0),
        ("o", "a", "c2", 1),
        ("o", "b", "c3", 2),
    ]);
    let p = named_pairs(&t, &params(10, 1));
    assert_eq!(p.len(), 2);
    assert!(p.iter().all(|p| p.4 != p.5));
}

#[test]
fn shares_whose_content_is_the_object_are_loops() {
    // "o" shared as itself (the original post listed as its own share) and
    // a share of "p" whose content id is "p".
    let t = table(&[
        ("o", "a", "o", 0),
        ("o", "b", "c2", 1),
        ("o", "c", "c3", 2),
        ("p", "a", "p", 0),
        ("p", "b", "c5", 0),
    ]);
    let p = named_pairs(&t, &params(10, 1));
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].1.as_str(), p[0].2.as_str()), ("c2", "c3"));
}

#[test]
fn min_participation_prefilters_accounts_and_then_filters_pairs() {
    // "z" has one row: dropped before pairing. "a" and "b" have two rows
    // each, but only "a" has two contents in pairs; a pair survives when
    // either content qualifies.
    let t = table(&[
        ("o1", "a", "a1", 0),
        ("o1", "b", "b1", 1),
        ("o1", "z", "z1", 2),
        ("o2", "a", "a2", 0),
        ("o3", "b", "b2", 50),
        ("o2", "c", "c1", 5),
        ("o9", "c", "c2", 500),
        ("o4", "b", "b3", 900),
        ("o4", "c", "c3", 901),
    ]);
    let p = named_pairs(&t, &params(10, 2));
    assert!(p.iter().all(|p| p.4 != "z" && p.5 != "z"));
    let objects: BTreeSet<&str> = p.iter().map(|p| p.0.as_str()).collect();
    // o1 (a qualifies) and o2 (a qualifies); o4 pairs b and c, each with only
    // one content in pairs... b has b1, b3 -> 2: qualifies too.
    assert_eq!(objects, BTreeSet::from(["o1", "o2", "o4"]));
    let p3 = named_pairs(&t, &params(10, 3));
    assert!(p3.is_empty(), "{p3:?}");
}

#[test]
fn content_id_is_the_older_share_and_ties_follow_account_order() {
    // b appears first in the input, so on equal times b's share is
    // content_id even though a's row comes first inside the object.
    let t = table(&[
        ("x", "b", "b0", 1000),
        ("o", "a", "a1", 7),
        ("o", "b", "b1", 7),
        ("q", "a", "a2", 20),
        ("q", "b", "b2", 12),
    ]);
    let p = named_pairs(&t, &params(10, 1));
    let o = p.iter().find(|p| p.0 == "o").unwrap();
    assert_eq!((o.1.as_str(), o.4.as_str(), o.3), ("b1", "b", 0));
    let q = p.iter().find(|p| p.0 == "q").unwrap();
    assert_eq!((q.1.as_str(), q.2.as_str(), q.3), ("b2", "a2", 8));
}

#[test]
fn type_7_quantile_matches_r() {
    let q = |v: &[f64], p: f64| quantile_type7(&mut v.to_vec(), p);
    assert_eq!(q(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
    assert_eq!(q(&[3.0, 1.0, 1.0, 1.0], 0.5), 1.0);
    assert!((q(&(1..=10).map(f64::from).collect::<Vec<_>>(), 0.9) - 9.1).abs() < 1e-12);
    assert_eq!(q(&[1.0, 2.0], 0.25), 1.25);
    assert_eq!(q(&[5.0], 0.3), 5.0);
    assert_eq!(q(&[1.0, 9.0], 0.0), 1.0);
    assert_eq!(q(&[1.0, 9.0], 1.0), 9.0);
    assert!(q(&[], 0.5).is_nan());
}

#[test]
fn threshold_is_strictly_greater_than_the_quantile() {
    let t = table(&[
        ("o1", "a", "a1", 0),
        ("o1", "b", "b1", 1),
        ("o2", "a", "a2", 100),
        ("o2", "b", "b2", 101),
        ("o3", "c", "c1", 200),
        ("o3", "d", "d1", 201),
    ]);
    let net = network(&t, &params(10, 1), 0.5, Subgraph::Full);
    // weights 2 and 1: median 1.5; only a-b is above.
    assert_eq!(net.threshold, 1.5);
    let above: Vec<_> = net.edges.iter().filter(|e| e.weight_threshold).collect();
    assert_eq!(above.len(), 1);
    assert_eq!(above[0].full.weight, 2);
    let net = network(&t, &params(10, 1), 1.0, Subgraph::Weighted);
    assert!(net.edges.is_empty());
    let net = network(&t, &params(10, 1), 0.0, Subgraph::Weighted);
    assert_eq!(net.edges.len(), 1);
}

#[test]
fn symmetry_score_and_content_counts() {
    // a shares o1 twice before b: two older contents, one newer.
    let t = table(&[
        ("o1", "a", "a1", 0),
        ("o1", "a", "a2", 2),
        ("o1", "b", "b1", 5),
    ]);
    let net = network(&t, &params(10, 1), 0.5, Subgraph::Full);
    assert_eq!(net.edges.len(), 1);
    let e = net.edges[0].full;
    assert_eq!((e.weight, e.n_content_id, e.n_content_id_y), (2, 2, 1));
    assert_eq!(e.avg_time_delta, 4.0);
    assert_eq!(e.edge_symmetry_score, 0.5);
}

#[test]
fn content_counts_stay_on_the_older_and_newer_side() {
    // CooRTweet's quirk: after from/to ordering, n_content_id still counts
    // the older shares. Here b is always older, and from = a.
    let t = table(&[
        ("o1", "a", "a1", 10),
        ("o1", "b", "b1", 0),
        ("o1", "b", "b2", 1),
    ]);
    let net = network(&t, &params(10, 1), 0.5, Subgraph::Full);
    let e = &net.edges[0];
    assert_eq!((name(&t, e.from), name(&t, e.to)), ("a", "b"));
    assert_eq!((e.full.n_content_id, e.full.n_content_id_y), (2, 1));
}

#[test]
fn from_follows_igraph_vertex_order() {
    // First edge b-c puts b (its pmin) first; the later edge a-b lists b
    // before a because igraph numbered b first.
    let t = table(&[
        ("o1", "b", "b1", 0),
        ("o1", "c", "c1", 1),
        ("o2", "a", "a1", 100),
        ("o2", "b", "b2", 101),
    ]);
    let net = network(&t, &params(10, 1), 0.5, Subgraph::Full);
    let names: Vec<_> = net
        .edges
        .iter()
        .map(|e| (name(&t, e.from), name(&t, e.to)))
        .collect();
    assert_eq!(names, vec![("b", "a"), ("b", "c")]);
}

#[test]
fn fast_window_flags_pairs_and_builds_subgraphs() {
    let t = table(&[
        ("o1", "a", "a1", 0),
        ("o1", "b", "b1", 2),
        ("o1", "c", "c1", 30),
        ("o2", "a", "a2", 100),
        ("o2", "b", "b2", 101),
        ("o2", "c", "c2", 140),
        ("o3", "c", "c3", 300),
        ("o3", "d", "d1", 340),
    ]);
    let p = CoortweetParams {
        fast_window: Some(5),
        ..params(60, 1)
    };
    let mut run = Coordination::new(&t, &p).unwrap();
    let (pairs, edges) = run.pairs();
    let fast: Vec<_> = pairs.iter().filter(|p| p.fast == Some(true)).collect();
    assert_eq!(fast.len(), 2);
    assert!(pairs.iter().all(|p| p.fast.is_some()));
    let net = edges.network(0.5, Subgraph::Full).unwrap();
    assert!(net.fast_net);
    let ab = net
        .edges
        .iter()
        .find(|e| (name(&t, e.from), name(&t, e.to)) == ("a", "b"))
        .unwrap();
    assert_eq!(ab.fast.unwrap().weight, 2);
    assert_eq!(net.edges.iter().filter(|e| e.fast.is_none()).count(), 3);
    assert_eq!(
        edges.network(0.5, Subgraph::Weighted),
        Err(NetworkError::WeightedWithFast)
    );
    // The fast network has one edge (a-b, weight 2): its median is 2, so
    // nothing is strictly above it at 0.5; at 0 also nothing (> 2 fails).
    let sub2 = edges.network(0.5, Subgraph::FastWeighted).unwrap();
    assert!(sub2.edges.is_empty());
    // Subgraph 3 with a fast network of two edges of different weights.
    let t = table(&[
        ("o1", "a", "a1", 0),
        ("o1", "b", "b1", 2),
        ("o2", "a", "a2", 100),
        ("o2", "b", "b2", 101),
        ("o5", "e", "e1", 500),
        ("o5", "f", "f1", 501),
        ("o1", "c", "c1", 30),
        ("o3", "c", "c3", 300),
        ("o3", "d", "d1", 340),
    ]);
    let mut run = Coordination::new(&t, &p).unwrap();
    let edges = run.run(None).unwrap();
    let sub3 = edges.network(0.5, Subgraph::FastContext).unwrap();
    let names: BTreeSet<_> = sub3
        .edges
        .iter()
        .map(|e| (name(&t, e.from), name(&t, e.to)))
        .collect();
    // a-b is fast and above threshold; c is a's and b's neighbour; d and
    // e-f are not attached.
    assert_eq!(names, BTreeSet::from([("a", "b"), ("a", "c"), ("b", "c")]));
    let colors: BTreeMap<_, _> = sub3
        .nodes
        .unwrap()
        .iter()
        .map(|n| (name(&t, n.account), n.color_v))
        .collect();
    assert_eq!(colors, BTreeMap::from([("a", 1), ("b", 1), ("c", 0)]));
    let e = Coordination::new(&t, &params(60, 1))
        .unwrap()
        .run(None)
        .unwrap()
        .network(0.5, Subgraph::FastContext);
    assert_eq!(e, Err(NetworkError::NeedsFastWindow(3)));
}

#[test]
fn max_pairs_per_object_sets_viral_objects_aside() {
    let mut rows = Vec::new();
    let names: Vec<String> = (0..200).map(|i| format!("u{i}")).collect();
    let mut t = ShareTable::new();
    for (i, n) in names.iter().enumerate() {
        t.push("viral", n, &format!("v{i}"), i as i64 / 10);
        rows.push(());
    }
    t.push("o", "u1", "x1", 1000);
    t.push("o", "u2", "x2", 1001);
    let p = CoortweetParams {
        max_pairs_per_object: Some(1000),
        ..params(60, 1)
    };
    let mut run = Coordination::new(&t, &p).unwrap();
    assert_eq!(run.stats().skipped_objects.len(), 1);
    assert_eq!(run.stats().skipped_objects[0].1, 200 * 199 / 2);
    let (pairs, _) = run.pairs();
    assert_eq!(pairs.len(), 1);
}

#[test]
fn empty_and_degenerate_inputs() {
    let t = ShareTable::new();
    let mut run = Coordination::new(&t, &params(10, 2)).unwrap();
    let (pairs, edges) = run.pairs();
    assert!(pairs.is_empty());
    let net = edges.network(0.5, Subgraph::Full).unwrap();
    assert!(net.edges.is_empty());
    assert!(Coordination::new(&t, &params(-1, 2)).is_err());
}

// ---------------------------------------------------------------------------
// A literal transcription of CooRTweet's steps (quadratic; for small inputs).

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct RPair {
    o: String,
    c: String,
    cy: String,
    td: i64,
    a: String,
    ay: String,
    fast: Option<bool>,
}

fn literal(
    rows: &[(String, String, String, i64)],
    tw: i64,
    mp: usize,
    fast: Option<i64>,
) -> Vec<RPair> {
    // Step 1: by account, in order of first appearance.
    let mut count: HashMap<&str, usize> = HashMap::new();
    for r in rows {
        *count.entry(&r.1).or_default() += 1;
    }
    let mut order: Vec<&str> = Vec::new();
    let mut by_acc: HashMap<&str, Vec<&(String, String, String, i64)>> = HashMap::new();
    for r in rows {
        if count[r.1.as_str()] >= mp {
            if !by_acc.contains_key(r.1.as_str()) {
                order.push(&r.1);
            }
            by_acc.entry(&r.1).or_default().push(r);
        }
    }
    let x: Vec<&(String, String, String, i64)> =
        order.iter().flat_map(|a| by_acc[a].clone()).collect();
    // Step 2: per object (first-appearance order), lower index first.
    let mut objs: Vec<&str> = Vec::new();
    let mut by_obj: HashMap<&str, Vec<&(String, String, String, i64)>> = HashMap::new();
    for r in &x {
        if !by_obj.contains_key(r.0.as_str()) {
            objs.push(&r.0);
        }
        by_obj.entry(&r.0).or_default().push(r);
    }
    let mut res = Vec::new();
    for o in &objs {
        let g = &by_obj[o];
        for j in 0..g.len() {
            for i in 0..j {
                let td = g[i].3 - g[j].3;
                if td.abs() <= tw {
                    res.push((
                        o.to_string(),
                        g[i].2.clone(),
                        g[j].2.clone(),
                        td,
                        g[i].1.clone(),
                        g[j].1.clone(),
                    ));
                }
            }
        }
    }
    // Step 3.
    res.retain(|p| p.0 != p.1 && p.0 != p.2 && p.1 != p.2 && p.4 != p.5);
    // Step 4.
    let filter = |res: &mut Vec<(String, String, String, i64, String, String)>| {
        let cids: BTreeSet<&String> = res.iter().flat_map(|p| [&p.1, &p.2]).collect();
        let mut per: HashMap<&str, usize> = HashMap::new();
        for r in &x {
            if cids.contains(&r.2) {
                *per.entry(&r.1).or_default() += 1;
            }
        }
        let ok: BTreeSet<String> = x
            .iter()
            .filter(|r| cids.contains(&r.2) && per[r.1.as_str()] >= mp)
            .map(|r| r.2.clone())
            .collect();
        res.retain(|p| ok.contains(&p.1) || ok.contains(&p.2));
    };
    if mp >= 1 {
        filter(&mut res);
    }
    // Step 5.
    for p in &mut res {
        if p.3 > 0 {
            std::mem::swap(&mut p.1, &mut p.2);
            std::mem::swap(&mut p.4, &mut p.5);
        }
        p.3 = p.3.abs();
    }
    // flag_speed_share.
    let flagged: Option<BTreeSet<(String, String)>> = fast.map(|s| {
        let mut upd: Vec<_> = res.iter().filter(|p| p.3 <= s).cloned().collect();
        filter(&mut upd);
        upd.into_iter().map(|p| (p.1, p.2)).collect()
    });
    res.into_iter()
        .map(|p| RPair {
            fast: flagged
                .as_ref()
                .map(|f| f.contains(&(p.1.clone(), p.2.clone()))),
            o: p.0,
            c: p.1,
            cy: p.2,
            td: p.3,
            a: p.4,
            ay: p.5,
        })
        .collect()
}

/// weight, avg_time_delta, n_content_id, n_content_id_y, edge_symmetry_score, weight_threshold
type EdgeRow = (u64, f64, u64, u64, f64, bool);

/// generate_coordinated_network on the literal pairs (rows in CooRTweet's order).
fn literal_network(
    pairs: &[RPair],
    ew: f64,
    fast_only: bool,
) -> BTreeMap<(String, String), EdgeRow> {
    let mut keys: Vec<(String, String)> = Vec::new();
    let mut agg: HashMap<(String, String), Vec<&RPair>> = HashMap::new();
    for p in pairs.iter().filter(|p| !fast_only || p.fast == Some(true)) {
        let k = if p.a < p.ay {
            (p.a.clone(), p.ay.clone())
        } else {
            (p.ay.clone(), p.a.clone())
        };
        if !agg.contains_key(&k) {
            keys.push(k.clone());
        }
        agg.entry(k).or_default().push(p);
    }
    let mut vid: HashMap<&str, usize> = HashMap::new();
    for k in keys.iter().map(|k| &k.0).chain(keys.iter().map(|k| &k.1)) {
        let n = vid.len();
        vid.entry(k).or_insert(n);
    }
    let mut w: Vec<f64> = keys.iter().map(|k| agg[k].len() as f64).collect();
    let q = quantile_type7(&mut w, ew);
    let mut out = BTreeMap::new();
    for k in &keys {
        let v = &agg[k];
        let nc = v.iter().map(|p| &p.c).collect::<BTreeSet<_>>().len() as u64;
        let ncy = v.iter().map(|p| &p.cy).collect::<BTreeSet<_>>().len() as u64;
        let from_to = if vid[k.0.as_str()] < vid[k.1.as_str()] {
            k.clone()
        } else {
            (k.1.clone(), k.0.clone())
        };
        let weight = v.len() as u64;
        out.insert(
            from_to,
            (
                weight,
                v.iter().map(|p| p.td).sum::<i64>() as f64 / weight as f64,
                nc,
                ncy,
                nc.min(ncy) as f64 / nc.max(ncy) as f64,
                weight as f64 > q,
            ),
        );
    }
    out
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn matches_a_literal_transcription_of_coortweet_on_random_inputs() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for case in 0..400 {
        let n = 2 + rng.below(60) as usize;
        let n_obj = 1 + rng.below(6);
        let n_acc = 2 + rng.below(8);
        let span = 1 + rng.below(40) as i64;
        let mut rows: Vec<(String, String, String, i64)> = Vec::new();
        for i in 0..n {
            let o = format!("o{}", rng.below(n_obj));
            let a = format!("a{}", rng.below(n_acc));
            // Mostly unique contents; some duplicated ids, some contents
            // equal to an object id.
            let c = match rng.below(20) {
                0 => format!("c{}", rng.below(4)),
                1 => format!("o{}", rng.below(n_obj)),
                _ => format!("c{}_{i}", case),
            };
            rows.push((o, a, c, rng.below(span as u64) as i64));
        }
        let tw = rng.below(span as u64 + 2) as i64;
        let mp = rng.below(4) as usize;
        let fast = if rng.below(2) == 0 {
            Some(rng.below(tw as u64 + 3) as i64)
        } else {
            None
        };
        let ew = [0.0, 0.25, 0.5, 0.9, 1.0][rng.below(5) as usize];

        let want = literal(&rows, tw, mp, fast);
        let mut t = ShareTable::new();
        for r in &rows {
            t.push(&r.0, &r.1, &r.2, r.3);
        }
        let p = CoortweetParams {
            time_window: tw,
            min_participation: mp as u32,
            fast_window: fast,
            max_pairs_per_object: None,
        };
        let mut run = Coordination::new(&t, &p).unwrap();
        let (pairs, edges) = run.pairs();
        let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        let mut got: Vec<RPair> = pairs
            .iter()
            .map(|p| RPair {
                o: s(t.object_name(p.object)),
                c: s(t.content_name(p.content)),
                cy: s(t.content_name(p.content_y)),
                td: p.time_delta,
                a: s(t.account_name(p.account)),
                ay: s(t.account_name(p.account_y)),
                fast: p.fast,
            })
            .collect();
        let mut want_sorted = want.clone();
        got.sort();
        want_sorted.sort();
        assert_eq!(
            got, want_sorted,
            "pairs, case {case}: {rows:?} tw={tw} mp={mp} fast={fast:?}"
        );

        let net = edges.network(ew, Subgraph::Full).unwrap();
        let want_net = literal_network(&want, ew, false);
        let got_net: BTreeMap<_, _> = net
            .edges
            .iter()
            .map(|e| {
                let f = e.full;
                (
                    (s(t.account_name(e.from)), s(t.account_name(e.to))),
                    (
                        f.weight,
                        f.avg_time_delta,
                        f.n_content_id,
                        f.n_content_id_y,
                        f.edge_symmetry_score,
                        e.weight_threshold,
                    ),
                )
            })
            .collect();
        assert_eq!(
            got_net, want_net,
            "edges, case {case}: {rows:?} tw={tw} mp={mp}"
        );
        if fast.is_some() {
            let want_fast = literal_network(&want, ew, true);
            let got_fast: BTreeMap<_, _> = net
                .edges
                .iter()
                .filter_map(|e| {
                    let f = e.fast?;
                    let mut k = (s(t.account_name(e.from)), s(t.account_name(e.to)));
                    // The fast graph alone may number its vertices otherwise.
                    if !want_fast.contains_key(&k) {
                        k = (k.1, k.0);
                    }
                    Some((
                        k,
                        (
                            f.weight,
                            f.avg_time_delta,
                            f.n_content_id,
                            f.n_content_id_y,
                            f.edge_symmetry_score,
                            e.weight_threshold_fast.unwrap(),
                        ),
                    ))
                })
                .collect();
            assert_eq!(
                got_fast, want_fast,
                "fast edges, case {case}: {rows:?} tw={tw} mp={mp} fast={fast:?}"
            );
        }
    }
}

#[test]
fn fast_network_csv_has_coortweet_columns_and_na() {
    let t = table(&[
        ("o1", "a", "a1", 0),
        ("o1", "b", "b1", 2),
        ("o1", "c", "c1", 30),
    ]);
    let p = CoortweetParams {
        fast_window: Some(5),
        ..params(60, 1)
    };
    let mut run = Coordination::new(&t, &p).unwrap();
    let mut pairs = PairWriter::new(Vec::new(), &t, Some(5)).unwrap();
    let edges = run.run(Some(&mut |p| pairs.write(p))).unwrap();
    let pairs = String::from_utf8(pairs.finish().unwrap()).unwrap();
    assert!(pairs.starts_with(
        "object_id,content_id,content_id_y,time_delta,account_id,account_id_y,time_window_5\n"
    ));
    assert!(pairs.contains("o1,a1,b1,2,a,b,1\n"), "{pairs}");
    assert!(pairs.contains("o1,a1,c1,30,a,c,0\n"), "{pairs}");
    let net = edges.network(0.5, Subgraph::Full).unwrap();
    let mut out = Vec::new();
    write_edges(&mut out, &t, &net).unwrap();
    let csv = String::from_utf8(out).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "from,to,weight_full,weight_fast,avg_time_delta_full,avg_time_delta_fast,\
         n_content_id_full,n_content_id_y_full,n_content_id_fast,n_content_id_y_fast,\
         edge_symmetry_score_full,edge_symmetry_score_fast,weight_threshold_full,\
         weight_threshold_fast"
    );
    let rows: Vec<&str> = lines.collect();
    assert!(rows.contains(&"a,b,1,1,2,2,1,1,1,1,1,1,0,0"), "{rows:?}");
    assert!(
        rows.contains(&"a,c,1,NA,30,NA,1,1,NA,NA,1,NA,0,NA"),
        "{rows:?}"
    );
}
