//! The coordination networks of an assessment as a coordination report: what
//! the server's dashboard and `/api/networks` show.
//!
//! Incidents and STIX name networks `network:<id>` with the ids of
//! [`Signals::networks`] (directed co-retweet, co-link, co-tweet and
//! co-hashtag networks summed and split with Leiden, then the
//! shared-template networks, whose evidence pairs are posts signed with
//! the shared line). This report keeps
//! those ids, so network 3 on the dashboard is network 3 of the incidents
//! and of a STIX export: one numbering.
//!
//! Accounts are `platform:actor_id`, as in incidents. Each edge lists pairs
//! of its two accounts' posts that matched on one layer's key (the
//! reshared post, the link, the text, the hashtag) within that layer's
//! window: for each post, the nearest later post of the other account.

use crate::signals::{CoordinationOptions, FoundNetwork, Signals, account_key, layer_keys};
use pharos_analysis::coordination::report::{
    AccountReport, CoordinationReport, Count, EdgeReport, EvidencePair, EvidencePost,
    NetworkReport, Summary,
};
use pharos_core::{EventTime, Post};
use serde_json::{Map, json};
use std::collections::{BTreeMap, HashMap};

/// Pairs listed per edge (all are counted).
const PAIRS_PER_EDGE: usize = 100;
/// Pairs listed per network (all are counted).
const PAIRS_PER_NETWORK: usize = 1000;
/// Posts after a post looked at for its pairs (a key shared by hundreds of
/// members within the window would otherwise cost their square).
const SCAN_AHEAD: usize = 256;

/// The report of `sig`'s coordination networks (method `directed`), with
/// their ids.
pub fn network_report(sig: &Signals, opts: &CoordinationOptions) -> CoordinationReport {
    let account_of: Vec<String> = sig.posts.iter().map(account_key).collect();
    let mut posts_of: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, a) in account_of.iter().enumerate() {
        posts_of.entry(a.as_str()).or_default().push(i);
    }
    let mut communities = Vec::with_capacity(sig.networks.len());
    let mut accounts = Vec::new();
    let mut edges = Vec::new();
    let mut evidence_pairs = 0u64;
    for n in &sig.networks {
        let built = network(sig, opts, n, &account_of, &posts_of);
        evidence_pairs += built.edges.iter().map(|e| e.evidence_total).sum::<u64>();
        communities.push(built.report);
        accounts.extend(built.accounts);
        edges.extend(built.edges);
    }
    let parameters = json!({
        "method": "directed",
        "layers": opts.layers.iter().map(|l| json!({
            "kind": l.kind.name(), "window_s": l.window_s, "weight": l.weight,
        })).collect::<Vec<_>>(),
        "min_edge_weight": opts.min_edge_weight,
        "min_accounts": opts.min_accounts,
        "resolution": opts.resolution,
        "seed": opts.seed,
    });
    CoordinationReport {
        method: "directed".into(),
        directed: false,
        parameters,
        summary: Summary {
            accounts: accounts.len(),
            edges: edges.len(),
            evidence_pairs,
            communities: communities.len(),
            components: 0,
            modularity: None,
            resolution: opts.resolution,
            seed: opts.seed,
        },
        communities,
        components: Vec::new(),
        accounts,
        edges,
    }
}

struct Built {
    report: NetworkReport,
    accounts: Vec<AccountReport>,
    edges: Vec<EdgeReport>,
}

fn network(
    sig: &Signals,
    opts: &CoordinationOptions,
    n: &FoundNetwork,
    account_of: &[String],
    posts_of: &HashMap<&str, Vec<usize>>,
) -> Built {
    let id = n.id as u32;
    // Edge by its (sorted) pair of accounts.
    let edge_ix: HashMap<(&str, &str), usize> = n
        .edges
        .iter()
        .enumerate()
        .map(|(i, (a, b, _))| ((a.as_str(), b.as_str()), i))
        .collect();
    let mut listed: Vec<Vec<EvidencePair>> = vec![Vec::new(); n.edges.len()];
    let mut totals = vec![0u64; n.edges.len()];
    let found = match &n.template {
        Some(line) => template_pairs(account_of, &n.posts, line),
        None => matched_pairs(
            &sig.posts,
            account_of,
            posts_of,
            &n.accounts,
            opts,
            &sig.images,
        ),
    };
    for (i, j, key) in found {
        let (a, b) = (account_of[i].as_str(), account_of[j].as_str());
        let Some(&e) = edge_ix.get(&(a.min(b), a.max(b))) else {
            continue;
        };
        totals[e] += 1;
        if listed[e].len() < PAIRS_PER_EDGE {
            // `post` is the edge's `from` account's.
            let (x, y) = if a <= b { (i, j) } else { (j, i) };
            listed[e].push(pair(&sig.posts[x], &sig.posts[y], key));
        }
    }
    let mut degree: HashMap<&str, (usize, f64)> = HashMap::new();
    for (a, b, w) in &n.edges {
        for x in [a, b] {
            let d = degree.entry(x.as_str()).or_default();
            d.0 += 1;
            d.1 += w;
        }
    }
    let coordinated: std::collections::HashSet<usize> = n.posts.iter().copied().collect();
    let mut platforms: HashMap<String, u64> = HashMap::new();
    let mut languages: HashMap<String, u64> = HashMap::new();
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    for &i in &n.posts {
        let p = &sig.posts[i];
        *platforms.entry(p.platform.clone()).or_default() += 1;
        if let Some(l) = p.lang.as_deref().filter(|l| !l.is_empty()) {
            *languages.entry(l.to_string()).or_default() += 1;
        }
        first = first.min(p.time.millis());
        last = last.max(p.time.millis());
    }
    let mut member_posts = 0u64;
    let accounts: Vec<AccountReport> = n
        .accounts
        .iter()
        .map(|a| {
            let own = posts_of.get(a.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            member_posts += own.len() as u64;
            let (deg, strength) = degree.get(a.as_str()).copied().unwrap_or_default();
            AccountReport {
                account: a.clone(),
                community: id,
                component: id,
                degree: deg,
                strength,
                posts: own.len() as u64,
                coordinated_posts: own.iter().filter(|i| coordinated.contains(i)).count() as u64,
            }
        })
        .collect();
    let k = n.accounts.len() as f64;
    let possible = k * (k - 1.0) / 2.0;
    let mut evidence = Vec::new();
    for l in &listed {
        for p in l {
            if evidence.len() < PAIRS_PER_NETWORK {
                evidence.push(p.clone());
            }
        }
    }
    let total: u64 = totals.iter().sum();
    let time = |ms: i64| EventTime::from_millis(ms).to_rfc3339();
    let report = NetworkReport {
        kind: "community".into(),
        id,
        accounts: n.accounts.len(),
        edges: n.edges.len(),
        weight: n.edges.iter().map(|e| e.2).sum(),
        density: if possible > 0.0 {
            n.edges.len() as f64 / possible
        } else {
            0.0
        },
        median_time_delta: (!n.posts.is_empty()).then_some(n.median_delta_s),
        edge_symmetry: None,
        coordinated_posts: n.posts.len() as u64,
        member_posts,
        coordinated_share: (member_posts > 0).then(|| n.posts.len() as f64 / member_posts as f64),
        platforms: counts(platforms),
        languages: counts(languages),
        first_activity: (first != i64::MAX).then(|| time(first)),
        last_activity: (last != i64::MIN).then(|| time(last)),
        members: n.accounts.clone(),
        evidence_left_out: total - evidence.len() as u64,
        evidence,
        layers: {
            let mut k: Vec<(&str, f64)> = n.kinds.iter().map(|(k, w)| (*k, *w)).collect();
            k.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
            k.into_iter().map(|(k, _)| k.to_string()).collect()
        },
        template: n.template.clone(),
    };
    let edges = n
        .edges
        .iter()
        .zip(listed)
        .zip(totals)
        .map(|(((a, b, w), listed), total)| EdgeReport {
            from: a.clone(),
            to: b.clone(),
            weight: *w,
            columns: Map::new(),
            community: Some(id),
            component: id,
            evidence_total: total,
            evidence: listed,
        })
        .collect();
    Built {
        report,
        accounts,
        edges,
    }
}

/// Pairs `(post, a later post of another member, key)`: for each layer and
/// key, each member post and the nearest later post of each other member
/// that shares the key within the layer's window.
fn matched_pairs(
    posts: &[Post],
    account_of: &[String],
    posts_of: &HashMap<&str, Vec<usize>>,
    members: &[String],
    opts: &CoordinationOptions,
    images: &crate::signals::ImageClasses,
) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    for layer in &opts.layers {
        let mut by_key: BTreeMap<String, Vec<(i64, usize)>> = BTreeMap::new();
        for m in members {
            for &i in posts_of.get(m.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
                for k in layer_keys(&posts[i], layer.kind, images) {
                    by_key
                        .entry(k)
                        .or_default()
                        .push((posts[i].time.millis(), i));
                }
            }
        }
        let w = layer.window_s * 1000;
        for (key, mut list) in by_key {
            if list.len() < 2 {
                continue;
            }
            list.sort_unstable();
            for j in 0..list.len() {
                let (t, i) = list[j];
                // The nearest later post of each other member, within the
                // window (at most `SCAN_AHEAD` posts looked at).
                let mut taken: Vec<&str> = Vec::new();
                for &(t2, i2) in list[j + 1..].iter().take(SCAN_AHEAD) {
                    if t2 - t > w {
                        break;
                    }
                    let other = account_of[i2].as_str();
                    if other != account_of[i] && !taken.contains(&other) {
                        taken.push(other);
                        out.push((i, i2, key.clone()));
                    }
                }
            }
        }
    }
    out
}

/// Pairs of a shared-template network: each signed post and the next
/// signed post of each other member (at most `SCAN_AHEAD` looked at), the
/// shared line as their key; no window (a template is not timing).
fn template_pairs(
    account_of: &[String],
    signed: &[usize],
    line: &str,
) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    for (j, &i) in signed.iter().enumerate() {
        let mut taken: Vec<&str> = Vec::new();
        for &i2 in signed[j + 1..].iter().take(SCAN_AHEAD) {
            let other = account_of[i2].as_str();
            if other != account_of[i] && !taken.contains(&other) {
                taken.push(other);
                out.push((i, i2, line.to_string()));
            }
        }
    }
    out
}

fn pair(p: &Post, q: &Post, key: String) -> EvidencePair {
    let ev = |p: &Post| EvidencePost {
        account: account_key(p),
        ..EvidencePost::from_post(&p.id, p)
    };
    EvidencePair {
        object: Some(key),
        post: ev(p),
        post_y: ev(q),
        time_delta: (q.time.millis() - p.time.millis()).abs() as f64 / 1000.0,
    }
}

fn counts(m: HashMap<String, u64>) -> Vec<Count> {
    let mut v: Vec<Count> = m
        .into_iter()
        .map(|(value, count)| Count { value, count })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::Signals;
    use pharos_alerts::Rules;
    use pharos_core::{Actor, Link};

    fn post(id: &str, actor: &str, t_s: i64, url: &str) -> Post {
        Post {
            platform: "twitter".into(),
            id: id.into(),
            actor: Actor {
                id: actor.into(),
                ..Default::default()
            },
            time: EventTime(t_s * 1000),
            text: format!("look at this {id}"),
            links: vec![Link::new(url)],
            ..Default::default()
        }
    }

    #[test]
    fn keeps_the_assessment_ids_and_lists_evidence_per_edge() {
        // Three accounts share the same five links within seconds: one network.
        let mut posts = Vec::new();
        for k in 0..5 {
            let url = format!("https://example.com/{k}");
            for (a, acct) in ["a", "b", "c"].iter().enumerate() {
                posts.push(post(
                    &format!("{k}{acct}"),
                    acct,
                    1_000 + k * 3_600 + a as i64 * 5,
                    &url,
                ));
            }
        }
        let opts = CoordinationOptions::default();
        let sig = Signals::compute(posts, Rules::default(), &opts, Vec::new()).unwrap();
        assert_eq!(sig.networks.len(), 1, "one network");
        let r = network_report(&sig, &opts);
        assert_eq!(r.communities.len(), 1);
        let n = &r.communities[0];
        assert_eq!(n.id as usize, sig.networks[0].id);
        assert_eq!(n.members, sig.networks[0].accounts);
        assert_eq!(n.members, vec!["twitter:a", "twitter:b", "twitter:c"]);
        assert_eq!(n.edges, 3);
        assert_eq!(r.accounts.len(), 3);
        assert!(
            r.accounts
                .iter()
                .all(|a| a.community == n.id && a.degree == 2)
        );
        for e in &r.edges {
            assert_eq!(e.community, Some(n.id));
            assert!(e.evidence_total >= 5, "{e:?}");
            for p in &e.evidence {
                assert_eq!(p.post.account, e.from);
                assert_eq!(p.post_y.account, e.to);
                assert!(p.time_delta <= 900.0);
                assert!(
                    p.object
                        .as_deref()
                        .unwrap()
                        .starts_with("https://example.com/")
                );
            }
        }
        assert_eq!(n.coordinated_posts, 15);
        assert_eq!(
            n.first_activity.as_deref(),
            Some(EventTime(1_000_000).to_rfc3339().as_str())
        );
    }

    /// A PDQ hash (`pdq:` and hex) from a seed, with its first `flips` bits flipped.
    fn picture(seed: u64, flips: usize) -> String {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut w = [0u64; 4];
        for v in &mut w {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *v = x;
        }
        for b in 0..flips {
            w[b / 64] ^= 1 << (b % 64);
        }
        format!("pdq:{}", pharos_media::PdqHash(w))
    }

    #[test]
    fn accounts_posting_copies_of_the_same_pictures_are_a_co_image_network() {
        use pharos_core::Media;
        let mut posts = Vec::new();
        for k in 0..3u64 {
            // a posts the picture, b and c re-encoded copies (10 and 20 bits
            // off: not the same hash), d another picture at the same time.
            for (a, (acct, hash)) in [
                ("a", picture(k, 0)),
                ("b", picture(k, 10)),
                ("c", picture(k, 20)),
                ("d", picture(100 + k, 0)),
            ]
            .into_iter()
            .enumerate()
            {
                let mut p = post(
                    &format!("{k}{acct}"),
                    acct,
                    1_000 + k as i64 * 3_600 + a as i64 * 30,
                    "",
                );
                p.links.clear();
                p.text = format!("{acct} says {k}");
                p.media = vec![Media {
                    url: format!("photos/{k}{acct}.jpg"),
                    hash: Some(hash),
                    ..Default::default()
                }];
                posts.push(p);
            }
        }
        let opts = CoordinationOptions::default();
        let sig = Signals::compute(posts, Rules::default(), &opts, Vec::new()).unwrap();
        assert_eq!(sig.networks.len(), 1, "{:?}", sig.networks);
        let n = &sig.networks[0];
        assert_eq!(n.accounts, ["twitter:a", "twitter:b", "twitter:c"]);
        assert_eq!(n.kinds.keys().copied().collect::<Vec<_>>(), ["co-image"]);
        assert_eq!(n.posts.len(), 9, "every copy is a coordinated post");
        let r = network_report(&sig, &opts);
        // The dashboard says what made the network, and that it is no template.
        assert_eq!(r.communities[0].layers, ["co-image"]);
        assert_eq!(r.communities[0].template, None);
        let e = &r.edges[0];
        assert!(e.evidence_total >= 3, "{e:?}");
        // The evidence names the picture by its group's hash: one of the
        // copies of a picture of a.
        let objects: Vec<&str> = e
            .evidence
            .iter()
            .filter_map(|p| p.object.as_deref())
            .collect();
        assert!(!objects.is_empty());
        let copy_of_a = |o: &str| {
            let o: pharos_media::PdqHash = o.parse().unwrap();
            (0..3).any(|k| {
                let a: pharos_media::PdqHash = picture(k, 0)[4..].parse().unwrap();
                a.distance(&o) <= 20
            })
        };
        assert!(objects.iter().all(|o| copy_of_a(o)), "{objects:?}");
    }
}
