//! Communities, scores, evidence and GraphML of coordination reports.

use pharos_analysis::coordination::directed::{
    DirectedParams, Kind, MessageTable, directed_network, edge_evidence,
};
use pharos_analysis::coordination::graphml::write_graphml;
use pharos_analysis::coordination::report::{
    CoordinationReport, DirectedSource, NetworkReport, PostIndex, QutRows, ReportOptions,
    coortweet_report, directed_report,
};
use pharos_analysis::coordination::{Coordination, CoortweetParams, ShareTable, Subgraph};
use pharos_core::{Actor, EventTime, Post};
use std::collections::HashMap;

/// Two groups: a, b, c share o1 and o2 within seconds; d, e share o3 and o4.
/// a and d also post once alone.
fn hand_table() -> ShareTable {
    let mut t = ShareTable::new();
    for (o, a, c, s) in [
        ("o1", "a", "c1", 0),
        ("o1", "b", "c2", 2),
        ("o1", "c", "c3", 5),
        ("o2", "a", "c4", 100),
        ("o2", "b", "c5", 101),
        ("o2", "c", "c6", 104),
        ("o3", "d", "c7", 200),
        ("o3", "e", "c8", 210),
        ("o4", "d", "c9", 300),
        ("o4", "e", "c10", 300),
        ("o5", "a", "c11", 1000),
        ("o6", "d", "c12", 2000),
    ] {
        t.push(o, a, c, s);
    }
    t
}

fn coortweet(t: &ShareTable, opts: &ReportOptions) -> CoordinationReport {
    let params = CoortweetParams {
        time_window: 10,
        min_participation: 2,
        ..Default::default()
    };
    let mut det = Coordination::new(t, &params).unwrap();
    let edges = det.run(None).unwrap();
    let net = edges.network(0.5, Subgraph::Full).unwrap();
    coortweet_report(
        t,
        &mut det,
        &net,
        None,
        opts,
        serde_json::json!({"time_window": 10}),
    )
    .unwrap()
}

fn close(a: Option<f64>, b: f64) {
    let a = a.expect("a value");
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

fn by_members<'a>(nets: &'a [NetworkReport], first: &str) -> &'a NetworkReport {
    nets.iter()
        .find(|n| n.members.first().map(String::as_str) == Some(first))
        .unwrap()
}

#[test]
fn network_scores_on_a_hand_made_input() {
    let r = coortweet(&hand_table(), &ReportOptions::default());
    assert_eq!(r.summary.accounts, 5);
    assert_eq!(r.summary.edges, 4);
    assert_eq!(r.summary.evidence_pairs, 8);
    assert_eq!(r.summary.communities, 2);
    assert_eq!(r.summary.components, 2);
    assert_eq!(r.communities.len(), 2);

    let abc = &r.communities[0];
    assert_eq!(abc.members, vec!["a", "b", "c"]);
    assert_eq!(abc.id, 0);
    assert_eq!((abc.accounts, abc.edges), (3, 3));
    close(Some(abc.density), 1.0);
    close(Some(abc.weight), 6.0);
    // Deltas 2, 5, 3 (o1) and 1, 4, 3 (o2): median (3 + 3) / 2.
    close(abc.median_time_delta, 3.0);
    close(abc.edge_symmetry, 1.0);
    // a: c1, c4 of c1, c4, c11; b and c: both of theirs.
    assert_eq!((abc.coordinated_posts, abc.member_posts), (6, 7));
    close(abc.coordinated_share, 6.0 / 7.0);
    assert_eq!(
        abc.first_activity.as_deref(),
        Some("1970-01-01T00:00:00.000Z")
    );
    assert_eq!(
        abc.last_activity.as_deref(),
        Some("1970-01-01T00:01:44.000Z")
    );
    assert!(abc.platforms.is_empty() && abc.languages.is_empty());
    assert_eq!(abc.evidence.len(), 6);
    assert_eq!(abc.evidence_left_out, 0);

    let de = &r.communities[1];
    assert_eq!(de.members, vec!["d", "e"]);
    close(Some(de.density), 1.0);
    close(de.median_time_delta, 5.0);
    close(de.coordinated_share, 4.0 / 5.0);
    assert_eq!(
        de.first_activity.as_deref(),
        Some("1970-01-01T00:03:20.000Z")
    );
    assert_eq!(
        de.last_activity.as_deref(),
        Some("1970-01-01T00:05:00.000Z")
    );

    // Components coincide with the communities here.
    assert_eq!(by_members(&r.components, "a").members, abc.members);
    let a = r.accounts.iter().find(|a| a.account == "a").unwrap();
    assert_eq!((a.degree, a.strength, a.posts), (2, 4.0, 3));
    assert_eq!(a.community, 0);
    // Modularity by hand: m = 8, strengths 12 and 4, internal weight 6 and 2:
    // Q = 12/16 − (12/16)² + 4/16 − (4/16)² = 3/8.
    close(r.summary.modularity, 0.375);
}

#[test]
fn evidence_is_exactly_the_pair_rows_of_the_edge() {
    let t = hand_table();
    let mut det = Coordination::new(
        &t,
        &CoortweetParams {
            time_window: 10,
            min_participation: 2,
            ..Default::default()
        },
    )
    .unwrap();
    let (pairs, _) = det.pairs();
    let r = coortweet(&t, &ReportOptions::default());
    let name = |id: &[u8]| String::from_utf8_lossy(id).into_owned();
    for e in &r.edges {
        let mut want: Vec<(String, String, String, f64, String, String)> = pairs
            .iter()
            .filter(|p| {
                let (x, y) = (
                    name(t.account_name(p.account)),
                    name(t.account_name(p.account_y)),
                );
                (x == e.from && y == e.to) || (x == e.to && y == e.from)
            })
            .map(|p| {
                (
                    name(t.object_name(p.object)),
                    name(t.content_name(p.content)),
                    name(t.content_name(p.content_y)),
                    p.time_delta as f64,
                    name(t.account_name(p.account)),
                    name(t.account_name(p.account_y)),
                )
            })
            .collect();
        let mut got: Vec<_> = e
            .evidence
            .iter()
            .map(|p| {
                (
                    p.object.clone().unwrap(),
                    p.post.id.clone(),
                    p.post_y.id.clone(),
                    p.time_delta,
                    p.post.account.clone(),
                    p.post_y.account.clone(),
                )
            })
            .collect();
        want.sort_by(|a, b| a.partial_cmp(b).unwrap());
        got.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(got, want, "{} - {}", e.from, e.to);
        assert_eq!(e.evidence_total as usize, want.len());
        // Times of both posts, and the delta between them.
        for p in &e.evidence {
            assert_eq!(
                (p.post_y.time_ms - p.post.time_ms) as f64 / 1000.0,
                p.time_delta
            );
        }
    }
    // CooRTweet's columns ride along.
    let ab = r
        .edges
        .iter()
        .find(|e| e.from == "a" && e.to == "b")
        .unwrap();
    assert_eq!(ab.columns["avg_time_delta"], serde_json::json!(1.5));
    assert_eq!(ab.columns["n_content_id"], serde_json::json!(2));
    assert_eq!(ab.community, Some(0));
}

#[test]
fn evidence_limits_count_what_is_left_out() {
    let opts = ReportOptions {
        max_evidence_per_edge: 1,
        max_evidence_per_network: 2,
        ..Default::default()
    };
    let r = coortweet(&hand_table(), &opts);
    for e in &r.edges {
        assert_eq!(e.evidence.len(), 1);
        assert_eq!(e.evidence_total, 2);
    }
    let abc = &r.communities[0];
    assert_eq!(abc.evidence.len(), 2);
    assert_eq!(abc.evidence_left_out, 4);
    // Scores still use every pair.
    close(abc.median_time_delta, 3.0);
}

fn post(id: &str, user: &str, secs: i64, rt: &str) -> Post {
    Post {
        platform: "twitter".into(),
        id: id.into(),
        actor: Actor {
            id: user.into(),
            ..Default::default()
        },
        time: EventTime::from_secs(secs),
        text: format!("RT {rt} & <friends>"),
        lang: Some(if user == "c" { "de" } else { "en" }.into()),
        reshare_of: Some(rt.into()).filter(|r: &String| !r.is_empty()),
        ..Default::default()
    }
}

fn directed_posts() -> Vec<Post> {
    vec![
        post("1", "a", 0, "x"),
        post("2", "b", 10, "x"),
        post("3", "a", 100, "y"),
        post("4", "b", 130, "y"),
        post("5", "c", 135, "y"),
        post("6", "a", 200, "z"),
        post("7", "c", 201, "z"),
        post("8", "b", 5000, ""),
    ]
}

#[test]
fn directed_evidence_matches_the_whole_table_search() {
    let posts = directed_posts();
    let table = MessageTable::from_posts(&posts, Kind::CoRetweet);
    let params = DirectedParams::new(60, 1.0);
    let net = directed_network(&table, &params);
    let mut index = PostIndex::new();
    for p in &posts {
        index.insert_post(p, true);
    }
    let opts = ReportOptions::default();
    let r = directed_report(
        &table,
        &params,
        &net,
        &DirectedSource::Posts(&posts),
        Some(&index),
        &opts,
        serde_json::Value::Null,
    );
    let slow = directed_report(
        &table,
        &params,
        &net,
        &DirectedSource::Table,
        Some(&index),
        &opts,
        serde_json::Value::Null,
    );
    assert_eq!(r, slow);
    assert!(r.directed);
    assert_eq!(r.edges.len(), net.edges.len());
    for e in &r.edges {
        let want = edge_evidence(&table, &params, &e.from, &e.to);
        let got: Vec<(String, String)> = e
            .evidence
            .iter()
            .map(|p| (p.post.id.clone(), p.post_y.id.clone()))
            .collect();
        let want: Vec<(String, String)> = want
            .iter()
            .map(|w| (w.message_1.clone(), w.message_2.clone()))
            .collect();
        assert_eq!(got, want);
        // The weight is the number of distinct messages of `from`.
        let mut firsts: Vec<&str> = e.evidence.iter().map(|p| p.post.id.as_str()).collect();
        firsts.dedup();
        assert_eq!(firsts.len() as f64, e.weight);
        assert!(e.evidence.iter().all(|p| p.post.text.is_some()));
    }
    // All of a, b, c: one community; a→b, b→a, a→c, c→a, b→c, c→b all present.
    assert_eq!(r.summary.communities, 1);
    let n = &r.communities[0];
    assert_eq!(n.accounts, 3);
    assert_eq!(n.edges, 6);
    close(Some(n.density), 1.0);
    close(n.edge_symmetry, 1.0);
    // Deltas: a–b 10, 30 (both ways), a–c 35, 1, b–c 5 (both ways).
    close(n.median_time_delta, 10.0);
    // b's linkless post 8 is a post of a member, never coordinated.
    assert_eq!((n.coordinated_posts, n.member_posts), (7, 8));
    let langs: HashMap<&str, u64> = n
        .languages
        .iter()
        .map(|c| (c.value.as_str(), c.count))
        .collect();
    assert_eq!(langs, HashMap::from([("en", 5), ("de", 2)]));
    assert_eq!(n.platforms[0].value, "twitter");
}

#[test]
fn directed_reciprocity_and_qut_rows() {
    // a retweets x three times within one burst, b once: a→b 3, b→a 1.
    let csv = "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n\
               1,a,A,x,,RT x,0,https://ex.com/1\n\
               2,a,A,x,,RT x,10,\n\
               3,a,A,x,,RT x,20,\n\
               4,b,B,x,,RT x,15,\n\
               5,b,B,,,hello,500,\n";
    let table =
        pharos_analysis::coordination::directed::read_qut(csv.as_bytes(), "t", Kind::CoRetweet)
            .unwrap();
    let params = DirectedParams::new(60, 1.0);
    let net = directed_network(&table, &params);
    let rows = QutRows::read(csv.as_bytes()).unwrap();
    let r = directed_report(
        &table,
        &params,
        &net,
        &DirectedSource::Qut(&rows),
        Some(rows.posts()),
        &ReportOptions::default(),
        serde_json::Value::Null,
    );
    let ab = r.edges.iter().find(|e| e.from == "a").unwrap();
    assert_eq!((ab.weight, ab.evidence_total), (3.0, 3));
    assert_eq!(
        ab.evidence[0].post.link.as_deref(),
        Some("https://ex.com/1")
    );
    let n = &r.communities[0];
    // Both directions exist: all weight is reciprocated.
    close(n.edge_symmetry, 1.0);
    assert_eq!((n.coordinated_posts, n.member_posts), (4, 5));
    // Drop b→a: only a→b (3) remains, unreciprocated.
    let mut one_way = net.clone();
    one_way
        .edges
        .retain(|e| net.users[e.user_1 as usize] == "a");
    let r = directed_report(
        &table,
        &params,
        &one_way,
        &DirectedSource::Table,
        None,
        &ReportOptions::default(),
        serde_json::Value::Null,
    );
    close(r.communities[0].edge_symmetry, 0.0);
    close(Some(r.communities[0].density), 0.5);
}

/// A minimal XML reader for the test: elements with attributes and text.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: HashMap<String, String>,
    text: String,
    children: Vec<Element>,
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn parse_xml(s: &str) -> Element {
    let mut stack = vec![Element::default()];
    let mut rest = s;
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        if !text.trim().is_empty() {
            stack.last_mut().unwrap().text.push_str(&unescape(text));
        }
        let gt = rest[lt..].find('>').expect("unclosed tag") + lt;
        let tag = &rest[lt + 1..gt];
        rest = &rest[gt + 1..];
        assert!(!tag.contains('<'), "'<' inside a tag: {tag}");
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let done = stack.pop().unwrap();
            assert_eq!(done.name, name.trim(), "mismatched close tag");
            stack.last_mut().unwrap().children.push(done);
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, mut attrs_src) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
        let mut el = Element {
            name: name.to_string(),
            ..Default::default()
        };
        loop {
            attrs_src = attrs_src.trim_start();
            let Some(eq) = attrs_src.find('=') else { break };
            let key = attrs_src[..eq].trim().to_string();
            let after = &attrs_src[eq + 1..];
            assert!(after.starts_with('"'), "unquoted attribute");
            let end = after[1..].find('"').unwrap() + 1;
            el.attrs.insert(key, unescape(&after[1..end]));
            attrs_src = &after[end + 1..];
        }
        if self_closing {
            stack.last_mut().unwrap().children.push(el);
        } else {
            stack.push(el);
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    stack.pop().unwrap().children.pop().unwrap()
}

#[test]
fn graphml_round_trips() {
    let mut t = hand_table();
    // An account id that needs escaping.
    t.push("o7", "x<&\"'>", "c13", 3000);
    t.push("o7", "a", "c14", 3001);
    t.push("o8", "x<&\"'>", "c15", 4000);
    t.push("o8", "a", "c16", 4001);
    let r = coortweet(&t, &ReportOptions::default());
    let mut buf = Vec::new();
    write_graphml(&r, &mut buf).unwrap();
    let xml = String::from_utf8(buf).unwrap();
    let root = parse_xml(&xml);
    assert_eq!(root.name, "graphml");
    let keys: HashMap<String, (String, String)> = root
        .children
        .iter()
        .filter(|c| c.name == "key")
        .map(|k| {
            (
                k.attrs["id"].clone(),
                (k.attrs["for"].clone(), k.attrs["attr.name"].clone()),
            )
        })
        .collect();
    let graph = root.children.iter().find(|c| c.name == "graph").unwrap();
    assert_eq!(graph.attrs["edgedefault"], "undirected");
    let nodes: Vec<&Element> = graph.children.iter().filter(|c| c.name == "node").collect();
    let edges: Vec<&Element> = graph.children.iter().filter(|c| c.name == "edge").collect();
    assert_eq!(nodes.len(), r.accounts.len());
    assert_eq!(edges.len(), r.edges.len());
    let data = |e: &Element| -> HashMap<String, String> {
        e.children
            .iter()
            .map(|d| (keys[&d.attrs["key"]].1.clone(), d.text.clone()))
            .collect()
    };
    let mut names = HashMap::new();
    for (n, a) in nodes.iter().zip(&r.accounts) {
        let d = data(n);
        assert_eq!(d["account"], a.account);
        assert_eq!(d["community"], a.community.to_string());
        assert_eq!(d["component"], a.component.to_string());
        assert_eq!(d["degree"], a.degree.to_string());
        assert_eq!(d["strength"].parse::<f64>().unwrap(), a.strength);
        names.insert(n.attrs["id"].clone(), d["account"].clone());
    }
    assert!(names.values().any(|n| n == "x<&\"'>"));
    for (e, want) in edges.iter().zip(&r.edges) {
        let d = data(e);
        assert_eq!(names[&e.attrs["source"]], want.from);
        assert_eq!(names[&e.attrs["target"]], want.to);
        assert_eq!(d["weight"].parse::<f64>().unwrap(), want.weight);
        for col in [
            "avg_time_delta",
            "n_content_id",
            "n_content_id_y",
            "edge_symmetry_score",
            "weight_threshold",
            "evidence_total",
        ] {
            assert!(d.contains_key(col), "{col}");
        }
        assert_eq!(
            d["avg_time_delta"].parse::<f64>().unwrap(),
            want.columns["avg_time_delta"].as_f64().unwrap()
        );
    }
    // Edge keys are declared for edges, node keys for nodes.
    assert!(
        keys.values()
            .any(|(f, n)| f == "edge" && n == "edge_symmetry_score")
    );
    assert!(keys.values().any(|(f, n)| f == "node" && n == "strength"));
}

#[test]
fn report_json_round_trips() {
    let r = coortweet(&hand_table(), &ReportOptions::default());
    let mut buf = Vec::new();
    r.write_json(&mut buf).unwrap();
    let back: CoordinationReport = serde_json::from_slice(&buf).unwrap();
    assert_eq!(back, r);
    let mut lines = Vec::new();
    r.write_evidence_jsonl(&mut lines).unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(lines)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["evidence"].as_array().unwrap().len(), 2);
}

#[test]
fn similar_text_evidence_on_two_accounts_equals_the_whole_table() {
    let base = "the election was stolen by the people who count the votes in the night";
    let texts = [
        ("1", "a", 0, base.to_string()),
        ("2", "b", 20, format!("{base} again")),
        ("3", "c", 30, format!("{base} again and again")),
        (
            "4",
            "d",
            40,
            "something else entirely about the weather today".to_string(),
        ),
        ("5", "a", 500, format!("breaking {base}")),
        ("6", "b", 510, format!("breaking {base} now")),
    ];
    let posts: Vec<Post> = texts
        .iter()
        .map(|(id, u, t, text)| {
            let mut p = post(id, u, *t, "");
            p.text = text.clone();
            p
        })
        .collect();
    let table = MessageTable::from_posts(&posts, Kind::CoSimilarText);
    let params = DirectedParams::new(60, 1.0);
    let net = directed_network(&table, &params);
    assert!(!net.edges.is_empty());
    let run = |source: &DirectedSource<'_>| {
        directed_report(
            &table,
            &params,
            &net,
            source,
            None,
            &ReportOptions::default(),
            serde_json::Value::Null,
        )
    };
    assert_eq!(
        run(&DirectedSource::Posts(&posts)),
        run(&DirectedSource::Table)
    );
}
